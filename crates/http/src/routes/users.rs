//! `/users` administration.

use actix_web::{HttpResponse, web};
use gallery_domain::fields::{Fields as _, optional, parsed};
use gallery_domain::users::{AccountChanges, AccountRequest, Users};
use gallery_domain::{DomainError, Email, PageRequest, Password, RoleName, SearchText, UserFilter, UserId, Username};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::auth::email_change;
use super::{Route, route};
use crate::ApiError;
use crate::extract::Caller;
use crate::parse::{self, double_option, query};
use crate::views::{PageView, UserView};

pub(crate) fn routes() -> Vec<Route> {
    vec![
        route!(list, UsersManage),
        route!(create, UsersManage),
        route!(get, UsersManage),
        route!(update, UsersManage),
        route!(delete, UsersManage),
    ]
}

/// Filters and page of the user listing.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Only users with this role name.
    role: Option<String>,
    /// Matches username or e-mail, ignoring case.
    q: Option<String>,
    /// `true` or `false`.
    #[param(value_type = Option<bool>)]
    is_active: Option<String>,
    /// Page number, from 1.
    #[param(value_type = Option<u32>, minimum = 1)]
    page: Option<String>,
    /// Items per page, 1..=100 (default 20).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 100)]
    per_page: Option<String>,
}

impl ListQuery {
    fn parse(&self) -> Result<(UserFilter, PageRequest), DomainError> {
        let filter = UserFilter {
            role: query("role", self.role.as_deref(), RoleName::parse)?,
            q: SearchText::parse_query(self.q.as_deref()).map_err(parse::bad("q"))?,
            is_active: query("is_active", self.is_active.as_deref(), parse::boolean)?,
        };
        Ok((filter, parse::page(self.page.as_deref(), self.per_page.as_deref())?))
    }
}

#[utoipa::path(get, operation_id = "list_users", path = "/api/v1/users", tag = "users", params(ListQuery), security(("bearer" = [])),
    responses((status = 200, description = "One page of users, by name", body = PageView<UserView>),
        (status = 403, description = "Needs `users:manage` (`forbidden`)")))]
pub(crate) async fn list(
    users: web::Data<Users>,
    Caller(actor): Caller,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let (filter, page) = query.parse()?;
    let listed = users.list(&actor, filter, page).await?.map(UserView::from);
    Ok(HttpResponse::Ok().json(PageView::from(listed)))
}

#[utoipa::path(get, operation_id = "get_user", path = "/api/v1/users/{id}", tag = "users", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "User id")),
    responses((status = 200, description = "The user", body = UserView),
        (status = 403, description = "Needs `users:manage` (`forbidden`)"), (status = 404, description = "No such user (`not_found`)")))]
pub(crate) async fn get(
    users: web::Data<Users>,
    Caller(actor): Caller,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let user = users.get(&actor, UserId::from_uuid(*id)).await?;
    Ok(HttpResponse::Ok().json(UserView::from(user)))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateBody {
    #[schema(value_type = String, min_length = 3, max_length = 32, pattern = "^[A-Za-z0-9_.-]+$", example = "alice")]
    username: Option<String>,
    /// 8 to 72 bytes, not guessable (as at sign-up).
    #[schema(value_type = String, min_length = 8, max_length = 72, example = "correct horse battery")]
    password: Option<String>,
    email: Option<String>,
    role: Option<String>,
}

impl TryFrom<CreateBody> for AccountRequest {
    type Error = DomainError;

    fn try_from(body: CreateBody) -> Result<Self, DomainError> {
        let name = body.username.as_deref().unwrap_or_default();
        let (username, password, email, role) = (
            parsed("username", body.username.as_deref(), Username::parse),
            parsed("password", body.password.as_deref(), |p| Password::choose(p, name)),
            optional("email", body.email.as_deref(), Email::parse),
            parsed("role", body.role.as_deref(), role_name),
        )
            .all()?;
        Ok(Self { username, password, email, role })
    }
}

#[utoipa::path(post, operation_id = "create_user", path = "/api/v1/users", tag = "users", request_body = CreateBody, security(("bearer" = [])),
    responses((status = 201, description = "The new, active account", body = UserView),
        (status = 403, description = "Needs `users:manage` (`forbidden`)"),
        (status = 409, description = "The username is taken, ignoring case (`username_taken`)"),
        (status = 422, description = "A field breaks its rule or the role does not exist (`validation_failed`)")))]
pub(crate) async fn create(
    users: web::Data<Users>,
    Caller(actor): Caller,
    body: web::Json<CreateBody>,
) -> Result<HttpResponse, ApiError> {
    let request = AccountRequest::try_from(body.into_inner())?;
    let user = users.create(&actor, request).await?;
    Ok(HttpResponse::Created().json(UserView::from(user)))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct UpdateBody {
    #[serde(default, deserialize_with = "double_option")]
    email: Option<Option<String>>,
    role: Option<String>,
    is_active: Option<bool>,
}

impl TryFrom<UpdateBody> for AccountChanges {
    type Error = DomainError;

    fn try_from(body: UpdateBody) -> Result<Self, DomainError> {
        let (email, role) = (email_change(body.email), optional("role", body.role.as_deref(), role_name)).all()?;
        Ok(Self { email, role, is_active: body.is_active })
    }
}

#[utoipa::path(patch, operation_id = "update_user", path = "/api/v1/users/{id}", tag = "users", request_body = UpdateBody, security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "User id")),
    responses((status = 200, description = "The updated user; role and status changes apply to their next request", body = UserView),
        (status = 403, description = "Needs `users:manage` (`forbidden`)"),
        (status = 404, description = "No such user (`not_found`)"),
        (status = 409, description = "An admin disabling or demoting themself, or the last active admin (`conflict`)"),
        (status = 422, description = "A field breaks its rule or the role does not exist (`validation_failed`)")))]
pub(crate) async fn update(
    users: web::Data<Users>,
    Caller(actor): Caller,
    id: web::Path<Uuid>,
    body: web::Json<UpdateBody>,
) -> Result<HttpResponse, ApiError> {
    let changes = AccountChanges::try_from(body.into_inner())?;
    let user = users.update(&actor, UserId::from_uuid(*id), changes).await?;
    Ok(HttpResponse::Ok().json(UserView::from(user)))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeleteQuery {
    /// Also delete the user's images (their rows, then their files); without it a user
    /// who owns images is `in_use`.
    delete_images: Option<bool>,
}

#[utoipa::path(delete, operation_id = "delete_user", path = "/api/v1/users/{id}", tag = "users", params(("id" = Uuid, Path, description = "User id"), DeleteQuery),
    security(("bearer" = [])),
    responses((status = 204, description = "Deleted, with their sessions"),
        (status = 403, description = "Needs `users:manage` (`forbidden`)"),
        (status = 404, description = "No such user (`not_found`)"),
        (status = 409, description = "An admin deleting themself, or the last active admin (`conflict`); they own images and `delete_images` is not true (`in_use`)")))]
pub(crate) async fn delete(
    users: web::Data<Users>,
    Caller(actor): Caller,
    id: web::Path<Uuid>,
    query: web::Query<DeleteQuery>,
) -> Result<HttpResponse, ApiError> {
    users.delete(&actor, UserId::from_uuid(*id), query.delete_images.unwrap_or(false)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// A role to give: a name that could never be a role's is no such role.
fn role_name(raw: &str) -> Result<RoleName, String> {
    RoleName::parse(raw).map_err(|_| "no such role".to_owned())
}

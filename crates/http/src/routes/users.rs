//! `/users` administration.

use actix_web::{HttpResponse, web};
use gallery_domain::auth::Auth;
use gallery_domain::users::{AccountChanges, AccountRequest, Users};
use gallery_domain::{
    DomainError, Email, FieldErrors, Password, RoleName, UserFilter, UserId, Username,
};
use serde::Deserialize;
use uuid::Uuid;

use super::Endpoint;
use super::auth::required;
use crate::ApiError;
use crate::extract::Caller;
use crate::views::{PageQuery, PageView, UserView, double_option};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(Endpoint::new("/users").get(list).post(create).build())
        .service(
            Endpoint::new("/users/{id}")
                .get(get)
                .patch(update)
                .delete(delete)
                .build(),
        );
}

#[derive(Debug, Deserialize)]
pub struct ListQuery {
    role: Option<String>,
    q: Option<String>,
    is_active: Option<String>,
    #[serde(flatten)]
    page: PageQuery,
}

async fn list(
    users: web::Data<Users>,
    auth: web::Data<Auth>,
    Caller(actor): Caller,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let page = query.page.parse()?;
    let is_active = match query.is_active.as_deref() {
        None => None,
        Some("true") => Some(true),
        Some("false") => Some(false),
        Some(_) => {
            return Err(DomainError::BadRequest("is_active must be true or false".into()).into());
        }
    };
    let filter = UserFilter {
        role: query.role.clone(),
        q: query.q.clone().filter(|q| !q.is_empty()),
        is_active,
    };
    let now = auth.now();
    let listed = users
        .list(&actor, filter, page)
        .await?
        .map(|u| UserView::new(&u, now));
    Ok(HttpResponse::Ok().json(PageView::from(listed)))
}

async fn get(
    users: web::Data<Users>,
    auth: web::Data<Auth>,
    Caller(actor): Caller,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let user = users.get(&actor, UserId::from_uuid(*id)).await?;
    Ok(HttpResponse::Ok().json(UserView::new(&user, auth.now())))
}

#[derive(Debug, Deserialize)]
pub struct CreateBody {
    username: Option<String>,
    password: Option<String>,
    email: Option<String>,
    role: Option<String>,
}

impl TryFrom<CreateBody> for AccountRequest {
    type Error = DomainError;

    fn try_from(body: CreateBody) -> Result<Self, DomainError> {
        let mut errors = FieldErrors::new();
        let username = required(&mut errors, "username", body.username.as_deref())
            .and_then(|u| errors.check("username", Username::parse(u)));
        let password = required(&mut errors, "password", body.password.as_deref())
            .and_then(|p| errors.check("password", Password::parse(p)));
        let email = body
            .email
            .as_deref()
            .and_then(|e| errors.check("email", Email::parse(e)));
        let role = required(&mut errors, "role", body.role.as_deref()).and_then(|r| {
            errors.check(
                "role",
                RoleName::parse(r).map_err(|_| "no such role".to_owned()),
            )
        });
        errors.finish()?;
        match (username, password, role) {
            (Some(username), Some(password), Some(role)) => Ok(Self {
                username,
                password,
                email,
                role,
            }),
            _ => Err(DomainError::field("username", "is required")),
        }
    }
}

async fn create(
    users: web::Data<Users>,
    auth: web::Data<Auth>,
    Caller(actor): Caller,
    body: web::Json<CreateBody>,
) -> Result<HttpResponse, ApiError> {
    let request = AccountRequest::try_from(body.into_inner())?;
    let user = users.create(&actor, request).await?;
    Ok(HttpResponse::Created().json(UserView::new(&user, auth.now())))
}

#[derive(Debug, Deserialize)]
pub struct UpdateBody {
    #[serde(default, deserialize_with = "double_option")]
    email: Option<Option<String>>,
    role: Option<String>,
    is_active: Option<bool>,
}

impl TryFrom<UpdateBody> for AccountChanges {
    type Error = DomainError;

    fn try_from(body: UpdateBody) -> Result<Self, DomainError> {
        let mut errors = FieldErrors::new();
        let email = match body.email {
            Some(Some(e)) => errors.check("email", Email::parse(&e)).map(Some),
            Some(None) => Some(None),
            None => None,
        };
        let role = body.role.as_deref().and_then(|r| {
            errors.check(
                "role",
                RoleName::parse(r).map_err(|_| "no such role".to_owned()),
            )
        });
        errors.finish()?;
        Ok(Self {
            email,
            role,
            is_active: body.is_active,
        })
    }
}

async fn update(
    users: web::Data<Users>,
    auth: web::Data<Auth>,
    Caller(actor): Caller,
    id: web::Path<Uuid>,
    body: web::Json<UpdateBody>,
) -> Result<HttpResponse, ApiError> {
    let changes = AccountChanges::try_from(body.into_inner())?;
    let user = users
        .update(&actor, UserId::from_uuid(*id), changes)
        .await?;
    Ok(HttpResponse::Ok().json(UserView::new(&user, auth.now())))
}

#[derive(Debug, Deserialize)]
pub struct DeleteQuery {
    #[allow(dead_code)] // Images arrive with issue #4; until then a user owns none.
    delete_images: Option<bool>,
}

async fn delete(
    users: web::Data<Users>,
    Caller(actor): Caller,
    id: web::Path<Uuid>,
    _query: web::Query<DeleteQuery>,
) -> Result<HttpResponse, ApiError> {
    users.delete(&actor, UserId::from_uuid(*id)).await?;
    Ok(HttpResponse::NoContent().finish())
}

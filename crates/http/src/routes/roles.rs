//! `/permissions` and `/roles`.

use actix_web::{HttpResponse, web};
use gallery_domain::fields::{Fields as _, optional, parsed};
use gallery_domain::roles::Roles;
use gallery_domain::{DomainError, NewRole, Permission, PermissionSet, RoleDescription, RoleId, RoleName, RolePatch};
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;
use uuid::Uuid;

use super::{Route, route};
use crate::ApiError;
use crate::extract::Caller;
use crate::views::{PermissionView, RoleView};

pub(crate) fn routes() -> Vec<Route> {
    vec![
        route!(permissions),
        route!(list),
        route!(create, RolesManage),
        route!(get),
        route!(update, RolesManage),
        route!(delete, RolesManage),
    ]
}

#[utoipa::path(get, operation_id = "list_permissions", path = "/api/v1/permissions", tag = "roles", security(("bearer" = [])),
    responses((status = 200, description = "Every permission code", body = Vec<PermissionView>)))]
pub(crate) async fn permissions(roles: web::Data<Roles>, _caller: Caller) -> HttpResponse {
    let views: Vec<PermissionView> = roles.permissions().iter().copied().map(PermissionView::from).collect();
    HttpResponse::Ok().json(views)
}

#[utoipa::path(get, operation_id = "list_roles", path = "/api/v1/roles", tag = "roles", security(("bearer" = [])),
    responses((status = 200, description = "Every role", body = Vec<RoleView>)))]
pub(crate) async fn list(roles: web::Data<Roles>, _caller: Caller) -> Result<HttpResponse, ApiError> {
    let views: Vec<RoleView> = roles.list().await?.into_iter().map(RoleView::from).collect();
    Ok(HttpResponse::Ok().json(views))
}

#[utoipa::path(get, operation_id = "get_role", path = "/api/v1/roles/{id}", tag = "roles", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Role id")),
    responses((status = 200, description = "The role", body = RoleView), (status = 404, description = "No such role (`not_found`)")))]
pub(crate) async fn get(
    roles: web::Data<Roles>,
    _caller: Caller,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(RoleView::from(roles.get(RoleId::from_uuid(*id)).await?)))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct RoleBody {
    /// 2 to 64 lowercase letters, digits, `_` or `-`.
    #[schema(pattern = "^[a-z0-9_-]{2,64}$", example = "photo_editor")]
    name: Option<String>,
    #[schema(example = "Edits descriptions")]
    description: Option<String>,
    /// Permission codes, from `GET /permissions`.
    #[schema(schema_with = permission_codes)]
    permissions: Option<Vec<String>>,
    signup_allowed: Option<bool>,
}

/// The schema of a list of permission codes: an enum made from the domain's closed set.
fn permission_codes() -> utoipa::openapi::Array {
    let code = utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .enum_values(Some(Permission::ALL.iter().map(|p| p.code())));
    utoipa::openapi::ArrayBuilder::new().items(code).unique_items(true).examples([json!(["images:read"])]).build()
}

fn permission_set(codes: Vec<String>) -> Result<PermissionSet, String> {
    PermissionSet::parse(codes.iter().map(String::as_str))
}

impl TryFrom<RoleBody> for NewRole {
    type Error = DomainError;

    fn try_from(body: RoleBody) -> Result<Self, DomainError> {
        let (name, description, permissions) = (
            parsed("name", body.name.as_deref(), RoleName::parse),
            optional("description", body.description.as_deref(), RoleDescription::parse),
            optional("permissions", body.permissions, permission_set),
        )
            .all()?;
        Ok(Self {
            name,
            description: description.unwrap_or_default(),
            permissions: permissions.unwrap_or_default(),
            signup_allowed: body.signup_allowed.unwrap_or(false),
        })
    }
}

impl TryFrom<RoleBody> for RolePatch {
    type Error = DomainError;

    fn try_from(body: RoleBody) -> Result<Self, DomainError> {
        let (name, description, permissions) = (
            optional("name", body.name.as_deref(), RoleName::parse),
            optional("description", body.description.as_deref(), RoleDescription::parse),
            optional("permissions", body.permissions, permission_set),
        )
            .all()?;
        Ok(Self { name, description, permissions, signup_allowed: body.signup_allowed })
    }
}

#[utoipa::path(post, operation_id = "create_role", path = "/api/v1/roles", tag = "roles", request_body = RoleBody, security(("bearer" = [])),
    responses((status = 201, description = "The new role", body = RoleView),
        (status = 403, description = "Needs `roles:manage` (`forbidden`)"),
        (status = 409, description = "The name is taken (`conflict`)"),
        (status = 422, description = "A field breaks its rule or a permission is unknown (`validation_failed`)")))]
pub(crate) async fn create(
    roles: web::Data<Roles>,
    Caller(actor): Caller,
    body: web::Json<RoleBody>,
) -> Result<HttpResponse, ApiError> {
    let role = NewRole::try_from(body.into_inner())?;
    Ok(HttpResponse::Created().json(RoleView::from(roles.create(&actor, role).await?)))
}

#[utoipa::path(patch, operation_id = "update_role", path = "/api/v1/roles/{id}", tag = "roles", request_body = RoleBody, security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Role id")),
    responses((status = 200, description = "The updated role", body = RoleView),
        (status = 403, description = "Needs `roles:manage` (`forbidden`)"),
        (status = 404, description = "No such role (`not_found`)"),
        (status = 409, description = "A built-in role (`system_role`) or a taken name (`conflict`)"),
        (status = 422, description = "A field breaks its rule or a permission is unknown (`validation_failed`)")))]
pub(crate) async fn update(
    roles: web::Data<Roles>,
    Caller(actor): Caller,
    id: web::Path<Uuid>,
    body: web::Json<RoleBody>,
) -> Result<HttpResponse, ApiError> {
    let patch = RolePatch::try_from(body.into_inner())?;
    Ok(HttpResponse::Ok().json(RoleView::from(roles.update(&actor, RoleId::from_uuid(*id), patch).await?)))
}

#[utoipa::path(delete, operation_id = "delete_role", path = "/api/v1/roles/{id}", tag = "roles", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Role id")),
    responses((status = 204, description = "Deleted"),
        (status = 403, description = "Needs `roles:manage` (`forbidden`)"),
        (status = 404, description = "No such role (`not_found`)"),
        (status = 409, description = "A built-in role (`system_role`) or one users hold (`in_use`)")))]
pub(crate) async fn delete(
    roles: web::Data<Roles>,
    Caller(actor): Caller,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    roles.delete(&actor, RoleId::from_uuid(*id)).await?;
    Ok(HttpResponse::NoContent().finish())
}

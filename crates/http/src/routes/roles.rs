//! `/permissions` and `/roles`.

use actix_web::{HttpResponse, web};
use gallery_domain::roles::Roles;
use gallery_domain::{
    DomainError, FieldErrors, NewRole, PermissionSet, RoleId, RoleName, RolePatch, parse_text,
};
use serde::Deserialize;
use uuid::Uuid;

use super::Endpoint;
use super::auth::required;
use crate::ApiError;
use crate::extract::Caller;
use crate::views::{PermissionView, RoleView};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(Endpoint::new("/permissions").get(permissions).build())
        .service(Endpoint::new("/roles").get(list).post(create).build())
        .service(
            Endpoint::new("/roles/{id}")
                .get(get)
                .patch(update)
                .delete(delete)
                .build(),
        );
}

const DESCRIPTION_MAX: usize = 500;

async fn permissions(roles: web::Data<Roles>, _caller: Caller) -> HttpResponse {
    let views: Vec<PermissionView> = roles
        .permissions()
        .iter()
        .copied()
        .map(PermissionView::from)
        .collect();
    HttpResponse::Ok().json(views)
}

async fn list(roles: web::Data<Roles>, _caller: Caller) -> Result<HttpResponse, ApiError> {
    let views: Vec<RoleView> = roles
        .list()
        .await?
        .into_iter()
        .map(RoleView::from)
        .collect();
    Ok(HttpResponse::Ok().json(views))
}

async fn get(
    roles: web::Data<Roles>,
    _caller: Caller,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(RoleView::from(roles.get(RoleId::from_uuid(*id)).await?)))
}

#[derive(Debug, Deserialize)]
pub struct RoleBody {
    name: Option<String>,
    description: Option<String>,
    permissions: Option<Vec<String>>,
    signup_allowed: Option<bool>,
}

fn parse_permissions(
    errors: &mut FieldErrors,
    codes: Option<&Vec<String>>,
) -> Option<PermissionSet> {
    codes.and_then(|codes| {
        errors.check(
            "permissions",
            PermissionSet::parse(codes.iter().map(String::as_str)),
        )
    })
}

impl TryFrom<RoleBody> for NewRole {
    type Error = DomainError;

    fn try_from(body: RoleBody) -> Result<Self, DomainError> {
        let mut errors = FieldErrors::new();
        let name = required(&mut errors, "name", body.name.as_deref())
            .and_then(|n| errors.check("name", RoleName::parse(n)));
        let description = errors.check(
            "description",
            parse_text(
                body.description.as_deref().unwrap_or_default(),
                DESCRIPTION_MAX,
            ),
        );
        let permissions =
            parse_permissions(&mut errors, body.permissions.as_ref()).unwrap_or_default();
        errors.finish()?;
        match (name, description) {
            (Some(name), Some(description)) => Ok(Self {
                name,
                description,
                permissions,
                signup_allowed: body.signup_allowed.unwrap_or(false),
            }),
            _ => Err(DomainError::field("name", "is required")),
        }
    }
}

impl TryFrom<RoleBody> for RolePatch {
    type Error = DomainError;

    fn try_from(body: RoleBody) -> Result<Self, DomainError> {
        let mut errors = FieldErrors::new();
        let name = body
            .name
            .as_deref()
            .and_then(|n| errors.check("name", RoleName::parse(n)));
        let description = body
            .description
            .as_deref()
            .and_then(|d| errors.check("description", parse_text(d, DESCRIPTION_MAX)));
        let permissions = parse_permissions(&mut errors, body.permissions.as_ref());
        errors.finish()?;
        Ok(Self {
            name,
            description,
            permissions,
            signup_allowed: body.signup_allowed,
        })
    }
}

async fn create(
    roles: web::Data<Roles>,
    Caller(actor): Caller,
    body: web::Json<RoleBody>,
) -> Result<HttpResponse, ApiError> {
    let role = NewRole::try_from(body.into_inner())?;
    Ok(HttpResponse::Created().json(RoleView::from(roles.create(&actor, role).await?)))
}

async fn update(
    roles: web::Data<Roles>,
    Caller(actor): Caller,
    id: web::Path<Uuid>,
    body: web::Json<RoleBody>,
) -> Result<HttpResponse, ApiError> {
    let patch = RolePatch::try_from(body.into_inner())?;
    Ok(HttpResponse::Ok().json(RoleView::from(
        roles.update(&actor, RoleId::from_uuid(*id), patch).await?,
    )))
}

async fn delete(
    roles: web::Data<Roles>,
    Caller(actor): Caller,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    roles.delete(&actor, RoleId::from_uuid(*id)).await?;
    Ok(HttpResponse::NoContent().finish())
}

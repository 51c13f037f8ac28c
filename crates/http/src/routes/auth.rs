//! `/auth/*` and `/users/me`.

use actix_web::{HttpResponse, web};
use gallery_domain::auth::{Auth, OwnChanges, Registration, TokenPair};
use gallery_domain::{DomainError, Email, FieldErrors, Password, RoleName, Username};
use serde::{Deserialize, Serialize};

use super::Endpoint;
use crate::ApiError;
use crate::extract::Caller;
use crate::views::{UserView, double_option};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(Endpoint::new("/auth/register").post(register).build())
        .service(Endpoint::new("/auth/login").post(login).build())
        .service(Endpoint::new("/auth/refresh").post(refresh).build())
        .service(Endpoint::new("/auth/logout").post(logout).build())
        .service(Endpoint::new("/users/me").get(me).patch(update_me).build());
}

#[derive(Debug, Deserialize)]
pub struct RegisterBody {
    username: Option<String>,
    password: Option<String>,
    password_confirm: Option<String>,
    email: Option<String>,
    role: Option<String>,
}

/// A required field: present, or "is required".
pub(crate) fn required<'a>(
    errors: &mut FieldErrors,
    field: &str,
    value: Option<&'a str>,
) -> Option<&'a str> {
    errors.check(field, value.ok_or_else(|| "is required".to_owned()))
}

impl TryFrom<RegisterBody> for Registration {
    type Error = DomainError;

    fn try_from(body: RegisterBody) -> Result<Self, DomainError> {
        let mut errors = FieldErrors::new();
        let username = required(&mut errors, "username", body.username.as_deref())
            .and_then(|u| errors.check("username", Username::parse(u)));
        let password = required(&mut errors, "password", body.password.as_deref())
            .and_then(|p| errors.check("password", Password::parse(p)));
        match (body.password.as_deref(), body.password_confirm.as_deref()) {
            (_, None) => errors.push("password_confirm", "is required"),
            (Some(p), Some(c)) if p != c => {
                errors.push("password_confirm", "does not match password")
            }
            _ => {}
        }
        let email = body
            .email
            .as_deref()
            .and_then(|e| errors.check("email", Email::parse(e)));
        let role = body.role.as_deref().and_then(|r| {
            errors.check(
                "role",
                RoleName::parse(r).map_err(|_| "is not a role open to sign-up".to_owned()),
            )
        });
        errors.finish()?;
        match (username, password) {
            (Some(username), Some(password)) => Ok(Self {
                username,
                password,
                email,
                role,
            }),
            _ => Err(DomainError::field("username", "is required")),
        }
    }
}

async fn register(
    auth: web::Data<Auth>,
    body: web::Json<RegisterBody>,
) -> Result<HttpResponse, ApiError> {
    let registration = Registration::try_from(body.into_inner())?;
    let user = auth.register(registration).await?;
    Ok(HttpResponse::Created().json(UserView::new(&user, auth.now())))
}

#[derive(Debug, Deserialize)]
pub struct LoginBody {
    username: Option<String>,
    password: Option<String>,
}

#[derive(Debug, Serialize)]
struct TokenView {
    access_token: String,
    refresh_token: String,
    token_type: &'static str,
    expires_in: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    user: Option<UserView>,
}

impl TokenView {
    fn new(pair: TokenPair, user: Option<UserView>) -> Self {
        Self {
            access_token: pair.access.token,
            refresh_token: pair.refresh_token,
            token_type: "Bearer",
            expires_in: pair.access.expires_in,
            user,
        }
    }
}

async fn login(
    auth: web::Data<Auth>,
    body: web::Json<LoginBody>,
) -> Result<HttpResponse, ApiError> {
    let mut errors = FieldErrors::new();
    let username = required(&mut errors, "username", body.username.as_deref());
    let password = required(&mut errors, "password", body.password.as_deref());
    errors.finish()?;
    let (pair, user) = auth
        .login(username.unwrap_or_default(), password.unwrap_or_default())
        .await?;
    Ok(HttpResponse::Ok().json(TokenView::new(pair, Some(UserView::new(&user, auth.now())))))
}

#[derive(Debug, Deserialize)]
pub struct RefreshBody {
    refresh_token: Option<String>,
}

async fn refresh(
    auth: web::Data<Auth>,
    body: web::Json<RefreshBody>,
) -> Result<HttpResponse, ApiError> {
    let mut errors = FieldErrors::new();
    let token = required(&mut errors, "refresh_token", body.refresh_token.as_deref());
    errors.finish()?;
    let pair = auth.refresh(token.unwrap_or_default()).await?;
    Ok(HttpResponse::Ok().json(TokenView::new(pair, None)))
}

#[derive(Debug, Default, Deserialize)]
pub struct LogoutBody {
    refresh_token: Option<String>,
}

async fn logout(
    auth: web::Data<Auth>,
    Caller(actor): Caller,
    body: Option<web::Json<LogoutBody>>,
) -> Result<HttpResponse, ApiError> {
    let body = body.map(web::Json::into_inner).unwrap_or_default();
    auth.logout(&actor, body.refresh_token.as_deref()).await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn me(auth: web::Data<Auth>, Caller(actor): Caller) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(UserView::new(&actor.user, auth.now())))
}

#[derive(Debug, Deserialize)]
pub struct UpdateMeBody {
    #[serde(default, deserialize_with = "double_option")]
    email: Option<Option<String>>,
    current_password: Option<String>,
    new_password: Option<String>,
}

impl TryFrom<UpdateMeBody> for OwnChanges {
    type Error = DomainError;

    fn try_from(body: UpdateMeBody) -> Result<Self, DomainError> {
        let mut errors = FieldErrors::new();
        let email = match body.email {
            Some(Some(e)) => errors.check("email", Email::parse(&e)).map(Some),
            Some(None) => Some(None),
            None => None,
        };
        let new_password = body
            .new_password
            .as_deref()
            .and_then(|p| errors.check("new_password", Password::parse(p)));
        errors.finish()?;
        Ok(Self {
            email,
            current_password: body.current_password,
            new_password,
        })
    }
}

async fn update_me(
    auth: web::Data<Auth>,
    Caller(actor): Caller,
    body: web::Json<UpdateMeBody>,
) -> Result<HttpResponse, ApiError> {
    let changes = OwnChanges::try_from(body.into_inner())?;
    let user = auth.update_me(&actor, changes).await?;
    Ok(HttpResponse::Ok().json(UserView::new(&user, auth.now())))
}

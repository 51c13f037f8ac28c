//! `/auth/*` and `/users/me`.

use actix_web::{HttpRequest, HttpResponse, ResponseError as _, web};
use gallery_domain::auth::{Auth, OwnChanges, Registration, TokenPair};
use gallery_domain::fields::{Field, Fields as _, nullable, optional, parsed, required, unless};
use gallery_domain::{DomainError, Email, Password, RoleName, Token, Username};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::session;
use super::{Route, route};
use crate::ApiError;
use crate::extract::Caller;
use crate::limits::RateLimits;
use crate::parse::double_option;
use crate::views::UserView;

pub(crate) fn routes() -> Vec<Route> {
    vec![route!(register), route!(login), route!(refresh), route!(logout), route!(me), route!(update_me)]
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct RegisterBody {
    /// 3 to 32 letters, digits, `_`, `.` or `-`; unique ignoring case.
    #[schema(value_type = String, min_length = 3, max_length = 32, pattern = "^[A-Za-z0-9_.-]+$", example = "alice")]
    username: Option<String>,
    /// 8 to 72 bytes, not guessable: not a commonly used password (any case), not one
    /// character repeated, not only whitespace, not containing the username.
    #[schema(value_type = String, min_length = 8, max_length = 72, example = "correct horse battery")]
    password: Option<String>,
    /// The password again.
    #[schema(value_type = String, min_length = 8, max_length = 72, example = "correct horse battery")]
    password_confirm: Option<String>,
    #[schema(example = "alice@example.com")]
    email: Option<String>,
    /// A role open to sign-up; `auth.signup_default_role` when absent.
    #[schema(pattern = "^[a-z0-9_-]{2,64}$", example = "beta_player")]
    role: Option<String>,
}

impl TryFrom<RegisterBody> for Registration {
    type Error = DomainError;

    fn try_from(body: RegisterBody) -> Result<Self, DomainError> {
        let name = body.username.as_deref().unwrap_or_default();
        let confirmed = required("password_confirm", body.password_confirm.as_deref()).and_then(|confirm| {
            unless(
                body.password.as_deref().is_some_and(|p| p != confirm),
                "password_confirm",
                "does not match password",
            )
        });
        let (username, password, (), email, role) = (
            parsed("username", body.username.as_deref(), Username::parse),
            parsed("password", body.password.as_deref(), |p| Password::choose(p, name)),
            confirmed,
            optional("email", body.email.as_deref(), Email::parse),
            optional("role", body.role.as_deref(), |r| {
                RoleName::parse(r).map_err(|_| "is not a role open to sign-up".to_owned())
            }),
        )
            .all()?;
        Ok(Self { username, password, email, role })
    }
}

#[utoipa::path(post, operation_id = "register", path = "/api/v1/auth/register", tag = "auth", request_body = RegisterBody,
    responses((status = 201, description = "The new account", body = UserView),
        (status = 409, description = "The username is taken, ignoring case (`username_taken`)"),
        (status = 422, description = "A field breaks its rule (`validation_failed`, with `errors`)"),
        (status = 429, description = "Too many attempts from this address (`rate_limited`); see `Retry-After`")))]
pub(crate) async fn register(
    auth: web::Data<Auth>,
    limits: web::Data<RateLimits>,
    req: HttpRequest,
    body: web::Json<RegisterBody>,
) -> Result<HttpResponse, ApiError> {
    limits.auth(&req).await?;
    let registration = Registration::try_from(body.into_inner())?;
    let user = auth.register(registration).await?;
    Ok(HttpResponse::Created().json(UserView::from(user)))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct LoginBody {
    #[schema(value_type = String, example = "alice")]
    username: Option<String>,
    #[schema(value_type = String, example = "correct horse battery")]
    password: Option<String>,
    /// For browsers: `true` sets the refresh token as the `HttpOnly` cookie
    /// `gallery_refresh` (see `/auth/refresh`) and leaves it out of the body, where page
    /// scripts could read it.
    #[serde(default)]
    refresh_cookie: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TokenView {
    access_token: String,
    /// Absent when the refresh token was set as the `gallery_refresh` cookie instead.
    #[serde(skip_serializing_if = "Option::is_none")]
    refresh_token: Option<String>,
    token_type: &'static str,
    expires_in: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    user: Option<UserView>,
}

/// Where a new refresh token goes: the body (API clients) or the cookie (browsers).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Carrier {
    Body,
    Cookie,
}

/// Tokens as `carrier` hands them out.
fn tokens(req: &HttpRequest, pair: TokenPair, user: Option<UserView>, carrier: Carrier) -> HttpResponse {
    let mut res = HttpResponse::Ok();
    let refresh_token = match carrier {
        Carrier::Body => Some(pair.refresh_token.into()),
        Carrier::Cookie => {
            res.cookie(session::cookie(req, pair.refresh_token.into(), pair.refresh_expires_in));
            None
        }
    };
    res.json(TokenView {
        access_token: pair.access.token.into(),
        refresh_token,
        token_type: "Bearer",
        expires_in: pair.access.expires_in,
        user,
    })
}

#[utoipa::path(post, operation_id = "login", path = "/api/v1/auth/login", tag = "auth", request_body = LoginBody,
    responses((status = 200, description = "Tokens and the user. With `refresh_cookie: true`, the refresh token is the cookie `gallery_refresh` instead of a body field", body = TokenView,
            headers(("set-cookie" = String, description = "With `refresh_cookie: true`: `gallery_refresh=<token>; HttpOnly; SameSite=Strict; Path=/api/v1/auth; Max-Age=<refresh TTL>`, and `Secure` when `server.public_url` is https"))),
        (status = 401, description = "Unknown user or wrong password (`invalid_credentials`)"),
        (status = 403, description = "The account is disabled (`account_disabled`)"),
        (status = 422, description = "A field is missing (`validation_failed`)"),
        (status = 429, description = "Too many attempts from this address or for this username (`rate_limited`); see `Retry-After`")))]
pub(crate) async fn login(
    auth: web::Data<Auth>,
    limits: web::Data<RateLimits>,
    req: HttpRequest,
    body: web::Json<LoginBody>,
) -> Result<HttpResponse, ApiError> {
    limits.auth(&req).await?;
    let (username, password) =
        (required("username", body.username.as_deref()), required("password", body.password.as_deref())).all()?;
    let attempt = limits.login(&req, username).await?;
    let (pair, user) = match auth.login(username, password).await {
        Err(DomainError::InvalidCredentials) => {
            attempt.failed().await;
            return Err(DomainError::InvalidCredentials.into());
        }
        other => other?,
    };
    attempt.succeeded().await;
    let carrier = if body.refresh_cookie { Carrier::Cookie } else { Carrier::Body };
    Ok(tokens(&req, pair, Some(UserView::from(user)), carrier))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct RefreshBody {
    /// The refresh token of the last pair; it is spent by this call. Browsers leave it out
    /// and send the `gallery_refresh` cookie instead; the new one then comes back as that
    /// cookie too.
    refresh_token: Option<String>,
}

#[utoipa::path(post, operation_id = "refresh_tokens", path = "/api/v1/auth/refresh", tag = "auth", request_body = RefreshBody,
    params(("gallery_refresh" = Option<String>, Cookie, description = "The refresh token, for a body without `refresh_token` (set by a login with `refresh_cookie: true`; `HttpOnly`, `SameSite=Strict`, `Path=/api/v1/auth`)")),
    responses((status = 200, description = "A new token pair; the presented refresh token is spent. From the cookie, the new refresh token replaces it (`Set-Cookie`) and is not in the body", body = TokenView,
            headers(("set-cookie" = String, description = "From the cookie: the next `gallery_refresh`, with the same attributes as at login"))),
        (status = 401, description = "Unknown, spent, revoked or expired refresh token (`invalid_token`); a spent one revokes its family. A refused cookie is removed (`Set-Cookie` with `Max-Age=0`)"),
        (status = 403, description = "The account is disabled (`account_disabled`)"),
        (status = 422, description = "Neither `refresh_token` nor the cookie was sent (`validation_failed`)"),
        (status = 429, description = "Too many attempts from this address (`rate_limited`); see `Retry-After`")))]
pub(crate) async fn refresh(
    auth: web::Data<Auth>,
    limits: web::Data<RateLimits>,
    req: HttpRequest,
    body: web::Json<RefreshBody>,
) -> Result<HttpResponse, ApiError> {
    limits.auth(&req).await?;
    let in_body = body.into_inner().refresh_token;
    let carrier = if in_body.is_some() { Carrier::Body } else { Carrier::Cookie };
    let token = required("refresh_token", in_body.or_else(|| session::presented(&req))).all()?;
    match auth.refresh(&token.into()).await {
        Ok(pair) => Ok(tokens(&req, pair, None, carrier)),
        // A cookie that will never work again is removed; an outage keeps it.
        Err(DomainError::InvalidToken) if carrier == Carrier::Cookie => {
            Ok(session::forget(&req, ApiError::from(DomainError::InvalidToken).error_response()))
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct LogoutBody {
    refresh_token: Option<String>,
}

#[utoipa::path(post, operation_id = "logout", path = "/api/v1/auth/logout", tag = "auth", request_body(content = Option<LogoutBody>, description = "Optionally another refresh token of the caller to revoke"),
    security(("bearer" = [])),
    params(("gallery_refresh" = Option<String>, Cookie, description = "A browser's refresh cookie: its session ends too, and the cookie is removed")),
    responses((status = 204, description = "The session's access and refresh tokens stop working at once"),
        (status = 403, description = "The account is disabled (`account_disabled`)")))]
pub(crate) async fn logout(
    auth: web::Data<Auth>,
    Caller(actor): Caller,
    req: HttpRequest,
    body: Option<web::Json<LogoutBody>>,
) -> Result<HttpResponse, ApiError> {
    let body = body.map(web::Json::into_inner).unwrap_or_default();
    let cookie = session::presented(&req);
    auth.logout(&actor, body.refresh_token.or_else(|| cookie.clone()).map(Token::from).as_ref()).await?;
    let done = HttpResponse::NoContent().finish();
    Ok(if cookie.is_some() { session::forget(&req, done) } else { done })
}

#[utoipa::path(get, operation_id = "get_me", path = "/api/v1/users/me", tag = "auth", security(("bearer" = [])),
    responses((status = 200, description = "The caller", body = UserView),
        (status = 403, description = "The account is disabled (`account_disabled`)")))]
pub(crate) async fn me(auth: web::Data<Auth>, Caller(actor): Caller) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(UserView::from(auth.me(&actor))))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct UpdateMeBody {
    #[serde(default, deserialize_with = "double_option")]
    email: Option<Option<String>>,
    current_password: Option<String>,
    new_password: Option<String>,
}

impl UpdateMeBody {
    /// The caller's changes; a new password is held to the rules for `username`'s.
    fn parse(self, username: &str) -> Result<OwnChanges, DomainError> {
        let (email, new_password) = (
            email_change(self.email),
            optional("new_password", self.new_password.as_deref(), |p| Password::choose(p, username)),
        )
            .all()?;
        Ok(OwnChanges { email, current_password: self.current_password, new_password })
    }
}

#[utoipa::path(patch, operation_id = "update_me", path = "/api/v1/users/me", tag = "auth", request_body = UpdateMeBody, security(("bearer" = [])),
    responses((status = 200, description = "The updated caller; a new password ends every other session", body = UserView),
        (status = 403, description = "The account is disabled (`account_disabled`)"),
        (status = 422, description = "A field breaks its rule, or `current_password` is missing or wrong (`validation_failed`)")))]
pub(crate) async fn update_me(
    auth: web::Data<Auth>,
    Caller(actor): Caller,
    body: web::Json<UpdateMeBody>,
) -> Result<HttpResponse, ApiError> {
    let changes = body.into_inner().parse(actor.user.username.as_str())?;
    let user = auth.update_me(&actor, changes).await?;
    Ok(HttpResponse::Ok().json(UserView::from(user)))
}

/// A change of `email`: absent keeps it, `null` clears it, a string must parse.
pub(crate) fn email_change(raw: Option<Option<String>>) -> Field<Option<Option<Email>>> {
    nullable("email", raw, |e| Email::parse(&e))
}

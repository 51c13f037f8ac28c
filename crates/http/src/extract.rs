use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header::AUTHORIZATION;
use actix_web::{FromRequest, HttpRequest, web};
use gallery_domain::auth::Auth;
use gallery_domain::{Actor, DomainError};

use crate::ApiError;

/// The authenticated caller, from `Authorization: Bearer <token>`. Checked against the
/// store on every request, so revocations and role changes apply at once.
#[derive(Debug)]
pub struct Caller(pub Actor);

/// The raw bearer token: `Unauthenticated` without one, `InvalidToken` when malformed.
fn bearer(req: &HttpRequest) -> Result<String, ApiError> {
    let Some(value) = req.headers().get(AUTHORIZATION) else {
        return Err(DomainError::Unauthenticated.into());
    };
    let value = value.to_str().map_err(|_| DomainError::InvalidToken)?;
    match value.split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() => {
            Ok(token.trim().to_owned())
        }
        _ => Err(DomainError::InvalidToken.into()),
    }
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let auth = req.app_data::<web::Data<Auth>>().cloned();
        let token = bearer(req);
        Box::pin(async move {
            let auth = auth.ok_or_else(|| DomainError::Internal("Auth is not registered".into()))?;
            Ok(Self(auth.authenticate(&token?).await?))
        })
    }
}

/// The caller if a bearer token is sent, for routes open to everyone (a bad token is
/// still refused).
#[derive(Debug)]
pub struct MaybeCaller(pub Option<Actor>);

impl FromRequest for MaybeCaller {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        if req.headers().contains_key(AUTHORIZATION) {
            let caller = Caller::from_request(req, payload);
            Box::pin(async move { Ok(Self(Some(caller.await?.0))) })
        } else {
            Box::pin(async { Ok(Self(None)) })
        }
    }
}

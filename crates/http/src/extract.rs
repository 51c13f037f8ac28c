use std::future::Future;
use std::pin::Pin;

use actix_web::body::BoxBody;
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header::AUTHORIZATION;
use actix_web::middleware::Next;
use actix_web::{FromRequest, HttpMessage as _, HttpRequest, web};
use gallery_domain::auth::Auth;
use gallery_domain::{Actor, DomainError, Permission, Policy, Token};

use crate::ApiError;

/// The authenticated caller, from `Authorization: Bearer <token>`. Checked against the
/// store on every request, so revocations and role changes apply at once.
#[derive(Debug)]
pub struct Caller(pub Actor);

/// The raw bearer token: `Unauthenticated` without one, `InvalidToken` when malformed.
fn bearer(req: &HttpRequest) -> Result<Token, ApiError> {
    let Some(value) = req.headers().get(AUTHORIZATION) else {
        return Err(DomainError::Unauthenticated.into());
    };
    let value = value.to_str().map_err(|_| DomainError::InvalidToken)?;
    match value.split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() => {
            Ok(Token::from(token.trim()))
        }
        _ => Err(DomainError::InvalidToken.into()),
    }
}

/// Authenticates the request's bearer token against the store.
fn authenticate(req: &HttpRequest) -> impl Future<Output = Result<Actor, ApiError>> + 'static {
    let auth = req.app_data::<web::Data<Auth>>().cloned();
    let token = bearer(req);
    async move {
        let auth = auth.ok_or_else(|| DomainError::Internal("Auth is not registered".into()))?;
        Ok(auth.authenticate(&token?).await?)
    }
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        // Already authenticated by the route's permission gate.
        if let Some(actor) = req.extensions().get::<Actor>() {
            let actor = actor.clone();
            return Box::pin(async move { Ok(Self(actor)) });
        }
        let actor = authenticate(req);
        Box::pin(async move { Ok(Self(actor.await?)) })
    }
}

/// A route's permission gate: authenticates the caller and checks `permission` before
/// the handler's extractors start, so a caller who lacks it gets 401 or 403 whatever it
/// sent (a body, a query) and never an answer that describes the body's rules. The use-
/// case checks again; the actor is handed to the handler's [`Caller`].
///
/// # Errors
/// Those of the handler; a refusal (`Unauthenticated`, `InvalidToken`, `TokenExpired`,
/// `AccountDisabled`, `Forbidden`) is answered, not returned as an error.
pub(crate) async fn gate(
    permission: Permission,
    req: ServiceRequest,
    next: Next<BoxBody>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let checked = authenticate(req.request())
        .await
        .and_then(|actor| Policy::require(&actor, permission).map(|()| actor).map_err(ApiError::from));
    match checked {
        Ok(actor) => {
            req.extensions_mut().insert(actor);
            next.call(req).await
        }
        // An answer, not an error: the outer layers still add their headers to it.
        Err(refused) => Ok(req.error_response(refused)),
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

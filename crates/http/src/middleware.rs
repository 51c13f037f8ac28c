use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{CONTENT_TYPE, HeaderName, HeaderValue};
use actix_web::middleware::{ErrorHandlerResponse, Next};
use actix_web::{Error, HttpMessage as _};
use tracing_actix_web::RequestId;

use crate::problem_for_status;

/// Echoes the request id of the request's tracing span as `x-request-id`, so a client can
/// quote it and an operator find the logs.
///
/// # Errors
/// Whatever the inner service returns.
pub async fn echo_request_id(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let id = req.extensions().get::<RequestId>().copied();
    let mut res = next.call(req).await?;
    if let Some(value) = id.and_then(|id| HeaderValue::from_str(&id.to_string()).ok()) {
        res.headers_mut().insert(HeaderName::from_static("x-request-id"), value);
    }
    Ok(res)
}

/// Catches any error response not already `application/problem+json` (actix's own 404s,
/// 405s and payload errors) and gives it a problem body.
///
/// # Errors
/// Never; the signature is `ErrorHandlers`'.
pub fn problem_safety_net<B: MessageBody + 'static>(
    res: ServiceResponse<B>,
) -> actix_web::Result<ErrorHandlerResponse<B>> {
    let is_problem =
        res.headers().get(CONTENT_TYPE).is_some_and(|v| v.as_bytes().starts_with(b"application/problem+json"));
    if is_problem || res.status().as_u16() < 400 {
        return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
    }
    let status = res.status();
    let (req, old) = res.into_parts();
    let mut fresh = problem_for_status(status);
    for (name, value) in old.headers() {
        if name != CONTENT_TYPE && name != actix_web::http::header::CONTENT_LENGTH {
            fresh.headers_mut().insert(name.clone(), value.clone());
        }
    }
    let res: ServiceResponse<BoxBody> = ServiceResponse::new(req, fresh);
    Ok(ErrorHandlerResponse::Response(res.map_into_right_body()))
}

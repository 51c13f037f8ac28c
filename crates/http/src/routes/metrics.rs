//! `GET /metrics`: Prometheus text exposition.

use std::sync::Arc;

use actix_web::http::header::AUTHORIZATION;
use actix_web::{HttpRequest, HttpResponse, web};
use gallery_domain::DomainError;
use subtle::ConstantTimeEq as _;

use super::{Route, route};
use crate::ApiError;

/// Renders the current metrics in the Prometheus text format (the server owns the
/// recorder; this crate only records through the `metrics` facade).
pub type MetricsSource = Arc<dyn Fn() -> String + Send + Sync>;

pub(crate) fn routes() -> Vec<Route> {
    vec![route!(metrics)]
}

/// The bearer token `GET /metrics` needs when `metrics.token` is set.
#[derive(Clone)]
pub struct MetricsToken(Arc<str>);

impl MetricsToken {
    #[must_use]
    pub fn new(token: &str) -> Self {
        Self(token.into())
    }

    /// Whether `Authorization` carries this token (compared in constant time).
    fn admits(&self, req: &HttpRequest) -> Result<(), ApiError> {
        let header = req.headers().get(AUTHORIZATION).ok_or(DomainError::Unauthenticated)?;
        let sent = header.to_str().ok().and_then(|v| v.strip_prefix("Bearer ")).unwrap_or_default();
        if bool::from(sent.as_bytes().ct_eq(self.0.as_bytes())) {
            Ok(())
        } else {
            Err(DomainError::InvalidToken.into())
        }
    }
}

impl std::fmt::Debug for MetricsToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MetricsToken(***)")
    }
}

#[utoipa::path(get, operation_id = "metrics", path = "/metrics", tag = "operations",
    responses((status = 200, description = "Request counts and latency histograms by method, route and status (bounded label sets: other methods count as `OTHER`, unknown paths as `unmatched`), DB pool, uploads, thumbnails, rate-limit rejections", content_type = "text/plain"),
        (status = 401, description = "`metrics.token` is set and the request does not carry it as a bearer token (`unauthenticated`, `invalid_token`)")))]
pub(crate) async fn metrics(
    source: web::Data<MetricsSource>,
    token: web::Data<Option<MetricsToken>>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    if let Some(token) = token.get_ref() {
        token.admits(&req)?;
    }
    Ok(HttpResponse::Ok().content_type("text/plain; version=0.0.4; charset=utf-8").body(source()))
}

//! `GET /metrics`: Prometheus text exposition.

use std::sync::Arc;

use actix_web::{HttpResponse, web};

use super::Endpoint;

/// Renders the current metrics in the Prometheus text format (the server owns the
/// recorder; this crate only records through the `metrics` facade).
pub type MetricsSource = Arc<dyn Fn() -> String + Send + Sync>;

pub(crate) fn endpoints() -> Vec<Endpoint> {
    vec![Endpoint::new("/metrics").get(metrics)]
}

#[utoipa::path(get, operation_id = "metrics", path = "/metrics", tag = "operations",
    responses((status = 200, description = "Request counts and latency histograms by route and status, DB pool, uploads, thumbnails, rate-limit rejections", content_type = "text/plain")))]
pub(crate) async fn metrics(source: web::Data<MetricsSource>) -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain; version=0.0.4; charset=utf-8").body(source())
}

//! `/health/live` and `/health/ready`.

use std::sync::Arc;

use actix_web::{HttpResponse, web};
use async_trait::async_trait;
use serde_json::json;

use super::{Route, route};

/// One backing service `/health/ready` checks.
#[async_trait]
pub trait ReadinessProbe: Send + Sync {
    /// # Errors
    /// Why the service is not ready, for the operator.
    async fn check(&self) -> Result<(), String>;
}

pub(crate) fn routes() -> Vec<Route> {
    vec![route!(live), route!(ready)]
}

#[utoipa::path(get, operation_id = "health_live", path = "/health/live", tag = "operations",
    responses((status = 200, description = "The process is up", content_type = "application/json")))]
pub(crate) async fn live() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "ok"}))
}

type Probes = Vec<(&'static str, Arc<dyn ReadinessProbe>)>;

#[utoipa::path(get, operation_id = "health_ready", path = "/health/ready", tag = "operations",
    responses((status = 200, description = "Every backing service answers", content_type = "application/json"),
        (status = 503, description = "A backing service is unreachable; `checks` names it")))]
pub(crate) async fn ready(probes: web::Data<Probes>) -> HttpResponse {
    let mut checks = serde_json::Map::new();
    let mut failing = Vec::new();
    for (name, probe) in probes.iter() {
        let status = match probe.check().await {
            Ok(()) => "ok",
            Err(reason) => {
                tracing::warn!(part = name, %reason, "readiness check failed");
                failing.push(*name);
                "unavailable"
            }
        };
        checks.insert((*name).to_owned(), json!(status));
    }
    if failing.is_empty() {
        HttpResponse::Ok().json(json!({"status": "ok", "checks": checks}))
    } else {
        HttpResponse::ServiceUnavailable().content_type("application/problem+json").json(json!({
            "type": "about:blank", "title": "Service unavailable", "status": 503, "code": "unavailable",
            "detail": format!("not ready: {}", failing.join(", ")), "checks": checks,
        }))
    }
}

//! Gallery's HTTP adapter: actix-web routes that parse a request, call one use-case and
//! map its result; every error leaves as RFC 9457 `application/problem+json`.
//!
//! The crate sees the domain's use-cases and ports only, never a database or a file
//! system: `server` builds the [`AppState`] and hands it to [`configure`].

mod client;
mod error;
mod extract;
mod headers;
mod limits;
mod middleware;
mod parse;
mod routes;
mod send;
mod urls;
mod views;

use std::sync::Arc;

use actix_web::web;
use gallery_domain::Seal;
use gallery_domain::auth::Auth;
use gallery_domain::galleries::Galleries;
use gallery_domain::images::Images;
use gallery_domain::links::Links;
use gallery_domain::plans::Plans;
use gallery_domain::roles::Roles;
use gallery_domain::subscriptions::Subscriptions;
use gallery_domain::users::Users;

pub use client::{RootSpans, TrustedProxies};
pub use error::{ApiError, EdgeHeaders, ErrorCode, FieldProblem, Problem, problem_for_status};
pub use limits::{RateLimitSettings, RateLimits};
pub use middleware::{BodyPace, RequestTimeout, edge, problem_safety_net};
pub use routes::health::ReadinessProbe;
pub use routes::metrics::{MetricsSource, MetricsToken};
pub use routes::openapi::document as openapi;
pub use urls::PublicUrl;

/// Where the API is served from; everything else (`/health`, `/metrics`, `/docs`, `/l`) is
/// at the root.
pub const API_PREFIX: &str = "/api/v1";

/// Where the Swagger UI is served (from the binary: vendored assets, no CDN).
pub const DOCS_PATH: &str = "/docs";

/// Largest JSON body accepted (413 past it).
pub const JSON_LIMIT: usize = 1024 * 1024;

/// The use-cases and probes the routes call.
#[derive(Clone)]
pub struct AppState {
    pub auth: Auth,
    pub users: Users,
    pub roles: Roles,
    pub images: Images,
    pub galleries: Galleries,
    pub plans: Plans,
    pub subscriptions: Subscriptions,
    pub links: Links,
    /// Named parts `/health/ready` checks, e.g. `("database", probe)`.
    pub readiness: Vec<(&'static str, Arc<dyn ReadinessProbe>)>,
    pub rate_limits: RateLimits,
    pub request_timeout: RequestTimeout,
    pub body_pace: BodyPace,
    /// What `GET /metrics` answers.
    pub metrics: MetricsSource,
    /// The bearer token `GET /metrics` needs (`metrics.token`), if any.
    pub metrics_token: Option<MetricsToken>,
    /// The base of absolute URLs in answers.
    pub public_url: PublicUrl,
    /// Seals the list cursors handed out, and opens those sent back.
    pub cursors: Seal,
    /// Whose `X-Forwarded-For` names the client (`server.trusted_proxies`).
    pub trusted_proxies: TrustedProxies,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState").finish_non_exhaustive()
    }
}

/// Registers every route, the extractor error handlers and the 404 fallback.
pub fn configure(state: AppState) -> impl FnOnce(&mut web::ServiceConfig) {
    move |cfg| {
        cfg.app_data(web::Data::new(state.auth.clone()))
            .app_data(web::Data::new(state.users.clone()))
            .app_data(web::Data::new(state.roles.clone()))
            .app_data(web::Data::new(state.images.clone()))
            .app_data(web::Data::new(state.galleries.clone()))
            .app_data(web::Data::new(state.cursors.clone()))
            .app_data(web::Data::new(state.trusted_proxies.clone()))
            .app_data(web::Data::new(state.plans.clone()))
            .app_data(web::Data::new(state.subscriptions.clone()))
            .app_data(web::Data::new(state.links.clone()))
            .app_data(web::Data::new(state.readiness.clone()))
            .app_data(web::Data::new(state.rate_limits.clone()))
            .app_data(web::Data::new(state.request_timeout))
            .app_data(web::Data::new(state.body_pace))
            .app_data(web::Data::new(state.metrics.clone()))
            .app_data(web::Data::new(state.metrics_token.clone()))
            .app_data(web::Data::new(state.public_url.clone()))
            .app_data(error::json_config())
            .app_data(error::query_config())
            .app_data(error::path_config())
            .configure(routes::register)
            .service(routes::openapi::swagger_ui())
            .configure(routes::app::configure)
            .default_service(web::to(|| async { Err::<actix_web::HttpResponse, _>(ApiError::NotFound) }));
    }
}

pub mod app;
pub mod auth;
pub mod galleries;
pub mod health;
pub mod images;
pub mod links;
pub mod metrics;
pub mod openapi;
pub mod plans;
pub mod roles;
mod session;
pub mod subscriptions;
pub mod users;

use actix_web::HttpResponse;
use actix_web::dev::HttpServiceFactory;
use actix_web::middleware::from_fn;
use actix_web::{FromRequest, Handler, Resource, Responder, web};
use gallery_domain::Permission;

use crate::ApiError;

pub(crate) use crate::API_PREFIX;

/// A resource that answers 405 with an `Allow` header for the methods it lacks, and
/// remembers its path and methods for the route table the OpenAPI test checks.
pub(crate) struct Endpoint {
    path: &'static str,
    resource: Resource,
    allow: Vec<&'static str>,
}

macro_rules! method {
    ($name:ident, $route:ident, $verb:literal) => {
        pub(crate) fn $name<F, Args>(mut self, handler: F) -> Self
        where
            F: Handler<Args>,
            Args: FromRequest + 'static,
            F::Output: Responder + 'static,
        {
            self.resource = self.resource.route(web::$route().to(handler));
            self.allow.push($verb);
            self
        }
    };
}

/// The same for a route with a fixed permission: its gate ([`crate::extract::gate`])
/// answers 401 or 403 before the handler reads the request.
macro_rules! gated {
    ($name:ident, $route:ident, $verb:literal) => {
        pub(crate) fn $name<F, Args>(mut self, permission: Permission, handler: F) -> Self
        where
            F: Handler<Args>,
            Args: FromRequest + 'static,
            F::Output: Responder + 'static,
        {
            let gate = from_fn(move |req, next| crate::extract::gate(permission, req, next));
            self.resource = self.resource.route(web::$route().to(handler).wrap(gate));
            self.allow.push($verb);
            self
        }
    };
}

impl Endpoint {
    pub(crate) fn new(path: &'static str) -> Self {
        Self { path, resource: web::resource(path), allow: Vec::new() }
    }

    method!(get, get, "GET");
    method!(post, post, "POST");
    method!(patch, patch, "PATCH");
    method!(delete, delete, "DELETE");
    gated!(get_needs, get, "GET");
    gated!(post_needs, post, "POST");
    gated!(put_needs, put, "PUT");
    gated!(patch_needs, patch, "PATCH");
    gated!(delete_needs, delete, "DELETE");

    pub(crate) fn build(self) -> impl HttpServiceFactory {
        let allow = self.allow.join(", ");
        self.resource.default_service(web::to(move || {
            let allow = allow.clone();
            async move { Err::<HttpResponse, _>(ApiError::MethodNotAllowed(allow)) }
        }))
    }
}

/// Endpoints served at the root.
pub(crate) fn root_endpoints() -> Vec<Endpoint> {
    [health::endpoints(), metrics::endpoints(), openapi::root_endpoints(), links::root_endpoints()]
        .into_iter()
        .flatten()
        .collect()
}

/// Endpoints served under [`API_PREFIX`].
pub(crate) fn api_endpoints() -> Vec<Endpoint> {
    [
        auth::endpoints(),
        roles::endpoints(),
        users::endpoints(),
        images::endpoints(),
        galleries::endpoints(),
        plans::endpoints(),
        subscriptions::endpoints(),
        links::endpoints(),
        openapi::endpoints(),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// Every route the server answers: full path (OpenAPI style) and its methods, lowercase.
#[must_use]
pub fn route_table() -> Vec<(String, Vec<String>)> {
    let entry = |prefix: &str, e: &Endpoint| {
        (format!("{prefix}{}", e.path), e.allow.iter().map(|m| m.to_lowercase()).collect())
    };
    let root = root_endpoints().iter().map(|e| entry("", e)).collect::<Vec<_>>();
    root.into_iter().chain(api_endpoints().iter().map(|e| entry(API_PREFIX, e))).collect()
}

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

use actix_web::http::Method;
use actix_web::middleware::from_fn;
use actix_web::{FromRequest, Handler, HttpResponse, Responder, web};
use gallery_domain::Permission;
use utoipa::openapi::path::{HttpMethod, Operation};
use utoipa::openapi::{RefOr, Schema};

use crate::ApiError;

pub(crate) use crate::API_PREFIX;

/// Declares one route from its handler: `route!(list)` for a route open to every caller
/// (the handler checks what it must), `route!(list, ImagesRead)` for one gated by that
/// [`Permission`]. The handler's `#[utoipa::path]` gives the method, the path and the
/// OpenAPI entry: a route is declared in that attribute and in this one line, nowhere else.
macro_rules! route {
    ($handler:ident) => {
        pastey::paste! { $crate::routes::Route::new::<[<__path_ $handler>], _, _>($handler, None) }
    };
    ($handler:ident, $permission:ident) => {
        pastey::paste! {
            $crate::routes::Route::new::<[<__path_ $handler>], _, _>(
                $handler,
                Some(gallery_domain::Permission::$permission),
            )
        }
    };
}
pub(crate) use route;

/// A schema an operation refers to, for the document's components.
pub(crate) type NamedSchema = (String, RefOr<Schema>);

/// One route: its full path (OpenAPI style: `/api/v1/images/{id}`), the actix route per
/// method it is served at, and what the OpenAPI document says of it.
pub(crate) struct Route {
    path: String,
    methods: Vec<(HttpMethod, actix_web::Route)>,
    operation: Operation,
    schemas: Vec<NamedSchema>,
}

impl Route {
    /// `handler`, at the path and method(s) of its `#[utoipa::path]` (`P`), behind the gate
    /// of `permission` ([`crate::extract::gate`]: 401 or 403 before the handler reads the
    /// request) when there is one.
    pub(crate) fn new<P, F, Args>(handler: F, permission: Option<Permission>) -> Self
    where
        P: utoipa::Path + utoipa::__dev::SchemaReferences + for<'t> utoipa::__dev::Tags<'t>,
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        let methods = P::methods()
            .into_iter()
            .map(|method| {
                let route = web::method(actix_method(&method)).to(handler.clone());
                let route = match permission {
                    Some(permission) => {
                        route.wrap(from_fn(move |req, next| crate::extract::gate(permission, req, next)))
                    }
                    None => route,
                };
                (method, route)
            })
            .collect();
        // What `#[derive(OpenApi)]` would do with the handler's `paths(..)` entry.
        let mut operation = P::operation();
        operation.tags.get_or_insert_with(Vec::new).extend(P::tags().into_iter().map(str::to_owned));
        let mut schemas = Vec::new();
        P::schemas(&mut schemas);
        Self { path: P::path(), methods, operation, schemas }
    }
}

fn actix_method(method: &HttpMethod) -> Method {
    match method {
        HttpMethod::Get => Method::GET,
        HttpMethod::Post => Method::POST,
        HttpMethod::Put => Method::PUT,
        HttpMethod::Delete => Method::DELETE,
        HttpMethod::Options => Method::OPTIONS,
        HttpMethod::Head => Method::HEAD,
        HttpMethod::Patch => Method::PATCH,
        HttpMethod::Trace => Method::TRACE,
    }
}

/// Every route the server answers, in the order actix tries them (`/images/import` before
/// `/images/{id}`, `/users/me` before `/users/{id}`).
pub(crate) fn all() -> Vec<Route> {
    [
        health::routes(),
        metrics::routes(),
        openapi::routes(),
        auth::routes(),
        roles::routes(),
        users::routes(),
        images::routes(),
        galleries::routes(),
        plans::routes(),
        subscriptions::routes(),
        links::routes(),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// Registers every route: one resource per path, which answers 405 with an `Allow` header
/// for the methods it lacks; paths under [`API_PREFIX`] in one scope, the rest at the root.
pub(crate) fn register(cfg: &mut web::ServiceConfig) {
    let mut paths: Vec<(String, Vec<(HttpMethod, actix_web::Route)>)> = Vec::new();
    for route in all() {
        match paths.iter_mut().find(|(path, _)| *path == route.path) {
            Some((_, methods)) => methods.extend(route.methods),
            None => paths.push((route.path, route.methods)),
        }
    }
    let mut api = web::scope(API_PREFIX);
    for (path, methods) in paths {
        let allow = methods.iter().map(|(m, _)| actix_method(m).as_str().to_owned()).collect::<Vec<_>>().join(", ");
        let resource = |path: &str| {
            let resource = methods.into_iter().fold(web::resource(path), |resource, (_, route)| resource.route(route));
            resource.default_service(web::to(move || {
                let allow = allow.clone();
                async move { Err::<HttpResponse, _>(ApiError::MethodNotAllowed(allow)) }
            }))
        };
        match path.strip_prefix(API_PREFIX) {
            Some(under) => api = api.service(resource(under)),
            None => drop(cfg.service(resource(&path))),
        }
    }
    cfg.service(api);
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    #[test]
    fn no_path_and_method_is_declared_twice() {
        // actix would serve the first of two and never say so.
        let mut seen = BTreeSet::new();
        for route in all() {
            for (method, _) in &route.methods {
                let key = format!("{} {}", actix_method(method), route.path);
                assert!(seen.insert(key.clone()), "{key} is declared twice");
            }
        }
        assert!(seen.contains("GET /api/v1/users/me") && seen.contains("GET /l/{token}"), "{seen:?}");
    }
}

pub mod auth;
pub mod health;
pub mod roles;
pub mod users;

use actix_web::HttpResponse;
use actix_web::dev::HttpServiceFactory;
use actix_web::{FromRequest, Handler, Resource, Responder, web};

use crate::ApiError;

/// A resource that answers 405 with an `Allow` header for the methods it lacks.
pub(crate) struct Endpoint {
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

impl Endpoint {
    pub(crate) fn new(path: &str) -> Self {
        Self {
            resource: web::resource(path),
            allow: Vec::new(),
        }
    }

    method!(get, get, "GET");
    method!(post, post, "POST");
    method!(patch, patch, "PATCH");
    method!(delete, delete, "DELETE");

    pub(crate) fn build(self) -> impl HttpServiceFactory {
        let allow = self.allow.join(", ");
        self.resource.default_service(web::to(move || {
            let allow = allow.clone();
            async move { Err::<HttpResponse, _>(ApiError::MethodNotAllowed(allow)) }
        }))
    }
}

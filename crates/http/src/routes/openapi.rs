//! The OpenAPI 3.1 document, generated from the handlers' annotations.

use std::sync::LazyLock;

use actix_web::HttpResponse;
use actix_web::http::header::ContentType;
use actix_web::http::header::LOCATION;
use utoipa::openapi::path::Operation;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{Content, OpenApi as Document, Ref, RefOr, ResponseBuilder};
use utoipa::{Modify, OpenApi};
use utoipa_swagger_ui::{Config, SwaggerUi};

use super::images::{ImagePageView, ImageView};
use super::{API_PREFIX, Route, route};
use crate::DOCS_PATH;
use crate::error::{ErrorCode, FieldProblem, Problem};
use crate::views::{PageView, PermissionView, RoleView, UserView};

#[derive(Debug, OpenApi)]
#[openapi(
    info(
        title = "Gallery API",
        description = "A multi-user image gallery. Errors are RFC 9457 `application/problem+json` with a \
                       machine-readable `code`. Authenticate with `POST /api/v1/auth/login` and send the \
                       access token as `Authorization: Bearer <token>`."
    ),
    components(schemas(Problem, ErrorCode, FieldProblem, UserView, RoleView, PermissionView, PageView<UserView>, ImagePageView, ImageView)),
    tags(
        (name = "auth", description = "Sign-up, login, tokens and the caller's account"),
        (name = "roles", description = "Roles and permissions"),
        (name = "users", description = "User administration (`users:manage`)"),
        (name = "images", description = "Images, their originals and their approval"),
        (name = "galleries", description = "Galleries of images"),
        (name = "plans", description = "Subscription plans: public to read"),
        (name = "subscriptions", description = "Who is on which plan"),
        (name = "links", description = "Expiring share links"),
        (name = "operations", description = "Health, metrics and the API description"),
    )
)]
struct ApiDoc;

/// The OpenAPI document: [`ApiDoc`]'s info, tags and shared schemas, with every route's
/// operation ([`super::all`]) and the answers they share ([`CommonResponses`]).
#[must_use]
pub fn document() -> Document {
    let mut doc = ApiDoc::openapi();
    let mut schemas = Vec::new();
    for route in super::all() {
        let methods = route.methods.into_iter().map(|(method, _)| method).collect();
        doc.paths.add_path_operation(&route.path, methods, route.operation);
        schemas.extend(route.schemas);
    }
    doc.components.get_or_insert_with(Default::default).schemas.extend(schemas);
    CommonResponses.modify(&mut doc);
    doc
}

pub(crate) fn routes() -> Vec<Route> {
    vec![route!(docs), route!(spec)]
}

/// The Swagger UI under `/docs/`, its assets compiled into the binary
/// (`utoipa-swagger-ui`'s `vendored` feature), reading the spec from
/// `/api/v1/openapi.json`. "Authorize" takes the access token `POST /auth/login` returns.
pub(crate) fn swagger_ui() -> SwaggerUi {
    let config = Config::new([format!("{API_PREFIX}/openapi.json")])
        .try_it_out_enabled(true)
        .persist_authorization(true)
        .display_request_duration(true)
        // No badge fetched from validator.swagger.io: the page talks to this origin only.
        .validator_url("none");
    SwaggerUi::new(format!("{DOCS_PATH}/{{_:.*}}")).config(config)
}

/// `/docs` sends browsers to `/docs/`, where the UI's relative asset paths resolve.
#[utoipa::path(get, operation_id = "docs", path = "/docs", tag = "operations",
    responses((status = 308, description = "Redirects to `/docs/`, the Swagger UI (HTML, served from the binary)")))]
pub(crate) async fn docs() -> HttpResponse {
    HttpResponse::PermanentRedirect().insert_header((LOCATION, format!("{DOCS_PATH}/"))).finish()
}

/// The OpenAPI document of this API.
#[utoipa::path(get, operation_id = "get_openapi", path = "/api/v1/openapi.json", tag = "operations",
    responses((status = 200, description = "The OpenAPI 3.1 document", content_type = "application/json")))]
pub(crate) async fn spec() -> HttpResponse {
    static SPEC: LazyLock<String> =
        LazyLock::new(|| serde_json::to_string(&document()).unwrap_or_else(|_| "{}".to_owned()));
    HttpResponse::Ok().content_type(ContentType::json()).body(SPEC.as_str())
}

/// Adds the bearer scheme and the error answers every operation of a kind shares, so
/// that each handler documents only what is its own; and gives every error answer its
/// body, `application/problem+json` ([`Problem`]), so that a handler names only its status
/// and meaning.
struct CommonResponses;

fn problem_content() -> Content {
    Content::new(Some(Ref::from_schema_name("Problem")))
}

fn problem(description: &str) -> utoipa::openapi::Response {
    ResponseBuilder::new().description(description).content("application/problem+json", problem_content()).build()
}

fn add(op: &mut Operation, status: &str, description: &str) {
    op.responses.responses.entry(status.to_owned()).or_insert_with(|| problem(description).into());
}

impl Modify for CommonResponses {
    fn modify(&self, doc: &mut Document) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).bearer_format("JWT").build()),
        );
        for (path, item) in &mut doc.paths.paths {
            let touches_store = !["/health/live", "/metrics", "/docs", "/api/v1/openapi.json", "/api/v1/limits"]
                .contains(&path.as_str());
            for op in
                [&mut item.get, &mut item.post, &mut item.put, &mut item.patch, &mut item.delete].into_iter().flatten()
            {
                for (status, response) in &mut op.responses.responses {
                    if let RefOr::T(response) = response
                        && (status.starts_with('4') || status.starts_with('5'))
                        && response.content.is_empty()
                    {
                        response.content.insert("application/problem+json".to_owned(), problem_content());
                    }
                }
                if op.security.as_ref().is_some_and(|s| !s.is_empty()) {
                    add(
                        op,
                        "401",
                        "No token (`unauthenticated`), or an invalid, revoked (`invalid_token`) or expired (`token_expired`) one",
                    );
                }
                if op.request_body.is_some() {
                    add(op, "400", "Unparsable or wrong-typed JSON (`malformed_json`)");
                    add(op, "413", "Body over 1 MiB (`payload_too_large`)");
                    add(op, "415", "Not `application/json` (`unsupported_media_type`)");
                }
                if op.parameters.as_ref().is_some_and(|p| !p.is_empty()) {
                    add(op, "400", "A query parameter of the wrong type or out of range (`bad_request`)");
                }
                if touches_store {
                    add(
                        op,
                        "503",
                        "The database or storage is unreachable, or the request took too long (`unavailable`); retry shortly",
                    );
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_error_answer_is_problem_json() {
        let json = serde_json::to_value(document()).unwrap();
        let mut errors = 0;
        for (path, item) in json["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                for (status, response) in op["responses"].as_object().unwrap() {
                    if status.starts_with('4') || status.starts_with('5') {
                        errors += 1;
                        let body = &response["content"]["application/problem+json"]["schema"]["$ref"];
                        assert_eq!(body, "#/components/schemas/Problem", "{method} {path} {status}");
                    }
                }
            }
        }
        assert!(errors > 100, "{errors}");
    }

    #[test]
    fn the_spec_is_openapi_3_1_with_the_bearer_scheme() {
        let json = serde_json::to_value(document()).unwrap();
        assert!(json["openapi"].as_str().unwrap().starts_with("3.1"));
        assert_eq!(json["components"]["securitySchemes"]["bearer"]["scheme"], "bearer");
        let codes = json["components"]["schemas"]["ErrorCode"]["enum"].as_array().unwrap();
        assert!(codes.iter().any(|c| c == "validation_failed"));
    }
}

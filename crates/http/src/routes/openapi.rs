//! The OpenAPI 3.1 document, generated from the handlers' annotations.

use actix_web::HttpResponse;
use actix_web::http::header::LOCATION;
use utoipa::openapi::path::Operation;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{Content, OpenApi as Document, Ref, RefOr, ResponseBuilder};
use utoipa::{Modify, OpenApi};
use utoipa_swagger_ui::{Config, SwaggerUi};

use super::images::{ImagePageView, ImageView};
use super::{API_PREFIX, Endpoint};
use super::{auth, galleries, health, images, links, metrics, plans, roles, subscriptions, users};
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
    paths(
        health::live, health::ready, metrics::metrics, spec, docs,
        auth::register, auth::login, auth::refresh, auth::logout, auth::me, auth::update_me,
        roles::permissions, roles::list, roles::get, roles::create, roles::update, roles::delete,
        users::list, users::get, users::create, users::update, users::delete,
        images::upload, images::import, images::list, images::purge, images::get, images::update, images::replace, images::delete,
        images::original, images::thumbnail, images::decide, images::approvals,
        galleries::list, galleries::get, galleries::create, galleries::update, galleries::delete,
        plans::list, plans::get, plans::create, plans::update, plans::delete,
        links::create, links::list, links::revoke, links::open,
        subscriptions::mine, subscriptions::subscribe, subscriptions::cancel, subscriptions::list, subscriptions::assign,
    ),
    components(schemas(Problem, ErrorCode, FieldProblem, UserView, RoleView, PermissionView, PageView<UserView>, ImagePageView, ImageView)),
    modifiers(&CommonResponses),
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
pub struct ApiDoc;

pub(crate) fn endpoints() -> Vec<Endpoint> {
    vec![Endpoint::new("/openapi.json").get(spec)]
}

pub(crate) fn root_endpoints() -> Vec<Endpoint> {
    vec![Endpoint::new(DOCS_PATH).get(docs)]
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
    HttpResponse::Ok().json(ApiDoc::openapi())
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
            let touches_store = !["/health/live", "/metrics", "/docs", "/api/v1/openapi.json"].contains(&path.as_str());
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
    use std::collections::BTreeSet;

    use super::*;

    #[test]
    fn the_spec_documents_exactly_the_routes_that_exist() {
        let doc = ApiDoc::openapi();
        let mut documented = BTreeSet::new();
        for (path, item) in &doc.paths.paths {
            for (method, op) in [
                ("get", &item.get),
                ("post", &item.post),
                ("put", &item.put),
                ("patch", &item.patch),
                ("delete", &item.delete),
            ] {
                if op.is_some() {
                    documented.insert(format!("{method} {path}"));
                }
            }
        }
        let served: BTreeSet<String> = crate::route_table()
            .into_iter()
            .flat_map(|(path, methods)| methods.into_iter().map(move |m| format!("{m} {path}")))
            .collect();
        assert_eq!(
            served.difference(&documented).collect::<Vec<_>>(),
            Vec::<&String>::new(),
            "served but undocumented"
        );
        assert_eq!(
            documented.difference(&served).collect::<Vec<_>>(),
            Vec::<&String>::new(),
            "documented but not served"
        );
    }

    #[test]
    fn every_error_answer_is_problem_json() {
        let json = serde_json::to_value(ApiDoc::openapi()).unwrap();
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
        let json = serde_json::to_value(ApiDoc::openapi()).unwrap();
        assert!(json["openapi"].as_str().unwrap().starts_with("3.1"));
        assert_eq!(json["components"]["securitySchemes"]["bearer"]["scheme"], "bearer");
        let codes = json["components"]["schemas"]["ErrorCode"]["enum"].as_array().unwrap();
        assert!(codes.iter().any(|c| c == "validation_failed"));
    }
}

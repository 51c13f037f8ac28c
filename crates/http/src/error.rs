//! The one table from errors to status, code and title, and the handlers that send
//! actix's own extractor errors through it.

use actix_web::http::StatusCode;
use actix_web::http::header::{ALLOW, CONTENT_RANGE, RETRY_AFTER, WWW_AUTHENTICATE};
use actix_web::{HttpRequest, HttpResponse, ResponseError, error as actix_error, web};
use gallery_domain::{DomainError, FieldError};
use serde::Serialize;
use utoipa::ToSchema;

/// Every way a request can fail, as the client sees it.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error(transparent)]
    Domain(#[from] DomainError),
    #[error("malformed JSON: {0}")]
    MalformedJson(String),
    #[error("bad request: {0}")]
    BadRequest(String),
    #[error("not found")]
    NotFound,
    #[error("method not allowed")]
    MethodNotAllowed(String),
    #[error("payload too large")]
    PayloadTooLarge,
    #[error("unsupported media type: {0}")]
    UnsupportedMediaType(String),
    /// Too many attempts; try again after this long.
    #[error("rate limited")]
    RateLimited(std::time::Duration),
    /// The request took longer than the server allows (raised by the edge, with its headers).
    #[error("request timed out")]
    Timeout(EdgeHeaders),
    /// The request body delivered nothing for the idle limit (raised by the edge, with its
    /// headers).
    #[error("request body stalled")]
    BodyStalled(EdgeHeaders),
}

/// What the edge middleware adds to every answer, for the answers it raises itself as
/// errors (they leave it before it could add anything).
#[derive(Debug, Clone, Default)]
pub struct EdgeHeaders {
    pub(crate) request_id: Option<String>,
    pub(crate) hsts: bool,
}

/// The machine-readable `code` of every problem this API answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    BadRequest,
    MalformedJson,
    Unauthenticated,
    InvalidToken,
    TokenExpired,
    InvalidCredentials,
    Forbidden,
    PlanForbids,
    QuotaExceeded,
    AccountDisabled,
    NotFound,
    MethodNotAllowed,
    Conflict,
    UsernameTaken,
    InUse,
    SystemRole,
    NotApproved,
    LinkExpired,
    PayloadTooLarge,
    UnsupportedMediaType,
    ValidationFailed,
    InvalidImage,
    ImageTooLarge,
    RateLimited,
    RequestTimeout,
    InternalError,
    Unavailable,
}

/// One refused field of a request.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FieldProblem {
    /// The request field, e.g. `password_confirm`.
    pub field: String,
    pub message: String,
}

impl From<&FieldError> for FieldProblem {
    fn from(e: &FieldError) -> Self {
        Self { field: e.field.clone(), message: e.message.clone() }
    }
}

/// An RFC 9457 problem document (`application/problem+json`).
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"type": "about:blank", "title": "Validation failed", "status": 422,
    "code": "validation_failed", "detail": "password_confirm: does not match password",
    "errors": [{"field": "password_confirm", "message": "does not match password"}]}))]
pub struct Problem {
    /// Always `about:blank`: `code` says what happened.
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub title: &'static str,
    pub status: u16,
    pub code: ErrorCode,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// Present for field problems (422).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<FieldProblem>>,
}

impl Problem {
    fn new(status: StatusCode, code: ErrorCode, title: &'static str, detail: Option<String>) -> Self {
        Self { kind: "about:blank", title, status: status.as_u16(), code, detail, errors: None }
    }
}

impl ApiError {
    fn problem(&self) -> Problem {
        use DomainError as D;
        let p =
            |status, code, title, detail: Option<&str>| Problem::new(status, code, title, detail.map(str::to_owned));
        match self {
            Self::Domain(e) => match e {
                D::Validation(errors) => Problem {
                    errors: Some(errors.iter().map(FieldProblem::from).collect()),
                    ..p(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        ErrorCode::ValidationFailed,
                        "Validation failed",
                        Some(&summary(errors)),
                    )
                },
                D::BadRequest(d) => p(StatusCode::BAD_REQUEST, ErrorCode::BadRequest, "Bad request", Some(d)),
                D::Unauthenticated => p(
                    StatusCode::UNAUTHORIZED,
                    ErrorCode::Unauthenticated,
                    "Authentication required",
                    Some("send a bearer access token"),
                ),
                D::InvalidToken => p(StatusCode::UNAUTHORIZED, ErrorCode::InvalidToken, "Invalid token", None),
                D::TokenExpired => p(
                    StatusCode::UNAUTHORIZED,
                    ErrorCode::TokenExpired,
                    "Token expired",
                    Some("refresh the access token"),
                ),
                D::InvalidCredentials => p(
                    StatusCode::UNAUTHORIZED,
                    ErrorCode::InvalidCredentials,
                    "Invalid credentials",
                    Some("wrong username or password"),
                ),
                D::Forbidden => {
                    p(StatusCode::FORBIDDEN, ErrorCode::Forbidden, "Forbidden", Some("your role does not allow this"))
                }
                D::Overreach(d) => p(StatusCode::FORBIDDEN, ErrorCode::Forbidden, "Forbidden", Some(d)),
                D::AccountDisabled => p(StatusCode::FORBIDDEN, ErrorCode::AccountDisabled, "Account disabled", None),
                D::PlanForbids(d) => p(StatusCode::FORBIDDEN, ErrorCode::PlanForbids, "Not in your plan", Some(d)),
                D::QuotaExceeded => p(
                    StatusCode::FORBIDDEN,
                    ErrorCode::QuotaExceeded,
                    "Storage quota exceeded",
                    Some("your plan's storage quota is used up"),
                ),
                D::PayloadTooLarge(limit) => p(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    ErrorCode::PayloadTooLarge,
                    "Payload too large",
                    Some(&format!("the limit is {limit} bytes")),
                ),
                D::UnsupportedMediaType => p(
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    ErrorCode::UnsupportedMediaType,
                    "Unsupported media type",
                    Some("send a JPEG, PNG, GIF, WebP, HEIC or AVIF image"),
                ),
                D::InvalidImage(_) => p(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    ErrorCode::InvalidImage,
                    "Invalid image",
                    Some("the file does not decode as an image"),
                ),
                D::ImageTooLarge(d) => {
                    p(StatusCode::UNPROCESSABLE_ENTITY, ErrorCode::ImageTooLarge, "Image too large", Some(d))
                }
                D::NotFound => p(StatusCode::NOT_FOUND, ErrorCode::NotFound, "Not found", None),
                D::Conflict(d) => p(StatusCode::CONFLICT, ErrorCode::Conflict, "Conflict", Some(d)),
                D::UsernameTaken => p(
                    StatusCode::CONFLICT,
                    ErrorCode::UsernameTaken,
                    "Username taken",
                    Some("that username is already in use"),
                ),
                D::InUse(d) => {
                    p(StatusCode::CONFLICT, ErrorCode::InUse, "In use", Some(&format!("{d} is still in use")))
                }
                D::RateLimited(wait) => too_many(*wait),
                D::LinkExpired => p(
                    StatusCode::GONE,
                    ErrorCode::LinkExpired,
                    "Link expired",
                    Some("the link has expired or was revoked"),
                ),
                D::NotApproved => p(
                    StatusCode::CONFLICT,
                    ErrorCode::NotApproved,
                    "Not approved",
                    Some("only approved images can be shared"),
                ),
                D::SystemRole => p(
                    StatusCode::CONFLICT,
                    ErrorCode::SystemRole,
                    "Built-in role",
                    Some("built-in roles cannot be changed or deleted"),
                ),
                D::RangeNotSatisfiable(_) => p(
                    StatusCode::RANGE_NOT_SATISFIABLE,
                    ErrorCode::BadRequest,
                    "Range not satisfiable",
                    Some("the range is outside the file"),
                ),
                D::Unavailable(_) => p(
                    StatusCode::SERVICE_UNAVAILABLE,
                    ErrorCode::Unavailable,
                    "Service unavailable",
                    Some("a backing service is unreachable; retry shortly"),
                ),
                D::Internal(_) => {
                    p(StatusCode::INTERNAL_SERVER_ERROR, ErrorCode::InternalError, "Internal server error", None)
                }
            },
            Self::MalformedJson(d) => p(StatusCode::BAD_REQUEST, ErrorCode::MalformedJson, "Malformed JSON", Some(d)),
            Self::BadRequest(d) => p(StatusCode::BAD_REQUEST, ErrorCode::BadRequest, "Bad request", Some(d)),
            Self::NotFound => p(StatusCode::NOT_FOUND, ErrorCode::NotFound, "Not found", None),
            Self::MethodNotAllowed(_) => {
                p(StatusCode::METHOD_NOT_ALLOWED, ErrorCode::MethodNotAllowed, "Method not allowed", None)
            }
            Self::PayloadTooLarge => {
                p(StatusCode::PAYLOAD_TOO_LARGE, ErrorCode::PayloadTooLarge, "Payload too large", None)
            }
            Self::UnsupportedMediaType(d) => p(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                ErrorCode::UnsupportedMediaType,
                "Unsupported media type",
                Some(d),
            ),
            Self::RateLimited(wait) => too_many(*wait),
            Self::BodyStalled(_) => p(
                StatusCode::REQUEST_TIMEOUT,
                ErrorCode::RequestTimeout,
                "Request timeout",
                Some("the request body stopped arriving"),
            ),
            Self::Timeout(_) => p(
                StatusCode::SERVICE_UNAVAILABLE,
                ErrorCode::Unavailable,
                "Service unavailable",
                Some("the request took too long; retry shortly"),
            ),
        }
    }
}

/// Whole seconds to wait, rounded up, at least one.
/// A 429, whether a rate limit (here) or a rule of the domain (upload slots) refused.
fn too_many(wait: std::time::Duration) -> Problem {
    let detail = format!("too many attempts; retry in {} s", retry_after(wait));
    Problem::new(StatusCode::TOO_MANY_REQUESTS, ErrorCode::RateLimited, "Too many requests", Some(detail))
}

fn retry_after(wait: std::time::Duration) -> u64 {
    (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1)
}

fn summary(errors: &[FieldError]) -> String {
    errors.iter().map(|e| format!("{}: {}", e.field, e.message)).collect::<Vec<_>>().join("; ")
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.problem().status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        let problem = self.problem();
        if problem.status >= 500 {
            tracing::error!(error = ?self, "request failed");
        }
        let mut res = HttpResponse::build(self.status_code());
        if problem.status == 401 {
            let challenge = match problem.code {
                ErrorCode::InvalidToken | ErrorCode::TokenExpired => format!(
                    "Bearer realm=\"gallery\", error=\"invalid_token\", error_description=\"{}\"",
                    problem.title
                ),
                _ => "Bearer realm=\"gallery\"".to_owned(),
            };
            res.insert_header((WWW_AUTHENTICATE, challenge));
        }
        if let Self::MethodNotAllowed(allow) = self {
            res.insert_header((ALLOW, allow.as_str()));
        }
        if let Self::RateLimited(wait) | Self::Domain(DomainError::RateLimited(wait)) = self {
            res.insert_header((RETRY_AFTER, retry_after(*wait)));
        }
        if let Self::BodyStalled(_) = self {
            // The body was not read to its end: the connection cannot carry another request.
            res.force_close();
        }
        if let Self::Timeout(edge) | Self::BodyStalled(edge) = self {
            if let Some(value) =
                edge.request_id.as_deref().and_then(|id| actix_web::http::header::HeaderValue::from_str(id).ok())
            {
                res.insert_header(("x-request-id", value));
            }
            for header in crate::headers::edge_headers(false, edge.hsts) {
                res.insert_header(header);
            }
        }
        if let Self::Domain(DomainError::RangeNotSatisfiable(size)) = self {
            res.insert_header((CONTENT_RANGE, format!("bytes */{size}")));
        }
        res.content_type("application/problem+json").json(problem)
    }
}

/// A problem body for a bare status, for responses made outside our handlers.
#[must_use]
pub fn problem_for_status(status: StatusCode) -> HttpResponse {
    let (code, title) = match status.as_u16() {
        401 => (ErrorCode::Unauthenticated, "Authentication required"),
        403 => (ErrorCode::Forbidden, "Forbidden"),
        408 => (ErrorCode::RequestTimeout, "Request timeout"),
        404 => (ErrorCode::NotFound, "Not found"),
        405 => (ErrorCode::MethodNotAllowed, "Method not allowed"),
        413 => (ErrorCode::PayloadTooLarge, "Payload too large"),
        415 => (ErrorCode::UnsupportedMediaType, "Unsupported media type"),
        429 => (ErrorCode::RateLimited, "Too many requests"),
        503 => (ErrorCode::Unavailable, "Service unavailable"),
        s if s >= 500 => (ErrorCode::InternalError, "Internal server error"),
        _ => (ErrorCode::BadRequest, "Bad request"),
    };
    HttpResponse::build(status).content_type("application/problem+json").json(Problem::new(status, code, title, None))
}

pub(crate) fn json_config() -> web::JsonConfig {
    web::JsonConfig::default().limit(crate::JSON_LIMIT).error_handler(|err, _req: &HttpRequest| {
        let api = match &err {
            actix_error::JsonPayloadError::ContentType => {
                ApiError::UnsupportedMediaType("send application/json".into())
            }
            actix_error::JsonPayloadError::Overflow { .. }
            | actix_error::JsonPayloadError::OverflowKnownLength { .. } => ApiError::PayloadTooLarge,
            actix_error::JsonPayloadError::Deserialize(e) => ApiError::MalformedJson(serde_message(e)),
            other => ApiError::MalformedJson(other.to_string()),
        };
        api.into()
    })
}

/// serde's message without the input echoed back beyond what it names.
fn serde_message(e: &serde_json::Error) -> String {
    let text = e.to_string();
    text.chars().take(200).collect()
}

pub(crate) fn query_config() -> web::QueryConfig {
    web::QueryConfig::default()
        .error_handler(|err, _req| ApiError::BadRequest(format!("invalid query string: {err}")).into())
}

pub(crate) fn path_config() -> web::PathConfig {
    // An id that is not a UUID names nothing that exists.
    web::PathConfig::default().error_handler(|_err, _req| ApiError::NotFound.into())
}

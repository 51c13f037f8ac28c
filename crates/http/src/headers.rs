//! The security headers every response carries: the edge middleware adds them, and so do
//! error answers built outside it.

use actix_web::http::header::{
    CONTENT_SECURITY_POLICY, HeaderName, HeaderValue, REFERRER_POLICY, X_CONTENT_TYPE_OPTIONS,
};

/// The Content-Security-Policy of everything but the Swagger UI: an API answer or an image
/// loads nothing, runs nothing and may not be framed.
const API_CSP: &str = "default-src 'none'; frame-ancestors 'none'; sandbox";
/// The Swagger UI's: its own scripts, styles (it sets inline styles) and images, and calls
/// to this origin only; nothing from a CDN.
const DOCS_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
    img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/// The security headers every response carries (see [`edge`]).
pub(crate) fn security_headers(docs: bool) -> [(HeaderName, HeaderValue); 3] {
    [
        (X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
        (REFERRER_POLICY, HeaderValue::from_static("no-referrer")),
        (CONTENT_SECURITY_POLICY, HeaderValue::from_static(if docs { DOCS_CSP } else { API_CSP })),
    ]
}

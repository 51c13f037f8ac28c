//! The security headers every response carries: the edge middleware adds them, and so do
//! error answers built outside it.

use actix_web::http::header::{
    CONTENT_SECURITY_POLICY, HeaderName, HeaderValue, REFERRER_POLICY, STRICT_TRANSPORT_SECURITY,
    X_CONTENT_TYPE_OPTIONS,
};

/// The Content-Security-Policy of everything but the Swagger UI: an API answer or an image
/// loads nothing, runs nothing and may not be framed.
const API_CSP: &str = "default-src 'none'; frame-ancestors 'none'; sandbox";
/// The Swagger UI's: its own scripts, styles (it sets inline styles) and images, and calls
/// to this origin only; nothing from a CDN.
const DOCS_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
    img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/// `Strict-Transport-Security` when the public address is https: a year, this host only.
const HSTS: &str = "max-age=31536000";

/// The security headers every response carries (see [`edge`]): `hsts` when the configured
/// public address is https.
pub(crate) fn edge_headers(docs: bool, hsts: bool) -> impl Iterator<Item = (HeaderName, HeaderValue)> {
    [
        (X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
        (REFERRER_POLICY, HeaderValue::from_static("no-referrer")),
        (CONTENT_SECURITY_POLICY, HeaderValue::from_static(if docs { DOCS_CSP } else { API_CSP })),
    ]
    .into_iter()
    .chain(hsts.then(|| (STRICT_TRANSPORT_SECURITY, HeaderValue::from_static(HSTS))))
}

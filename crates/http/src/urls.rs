//! Absolute URLs in answers (image `links`, a share link's `url`), built in one place.

use actix_web::http::header::HOST;
use actix_web::{HttpRequest, web};

use crate::API_PREFIX;

/// Where absolute URLs point: `server.public_url` when it is set (production requires
/// it); otherwise the request's own `Host` header, on the scheme the server listens with.
/// Forwarded headers (`Forwarded`, `X-Forwarded-Host`, `X-Forwarded-Proto`) are never
/// used: any client can send them.
#[derive(Debug, Clone, Default)]
pub struct PublicUrl(Option<String>);

impl PublicUrl {
    /// `configured` is an `http` or `https` base URL (checked at startup), with or
    /// without a trailing slash.
    #[must_use]
    pub fn new(configured: Option<&str>) -> Self {
        Self(configured.map(|u| u.trim_end_matches('/').to_owned()).filter(|u| !u.is_empty()))
    }

    fn base(&self, req: &HttpRequest) -> String {
        if let Some(url) = &self.0 {
            return url.clone();
        }
        let config = req.app_config();
        let scheme = if config.secure() { "https" } else { "http" };
        let host = req
            .headers()
            .get(HOST)
            .and_then(|h| h.to_str().ok())
            .filter(|h| !h.is_empty() && h.bytes().all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b)))
            .map_or_else(|| config.host().to_owned(), str::to_owned);
        format!("{scheme}://{host}")
    }

    /// Whether the configured public address is https (answers then carry HSTS).
    pub(crate) fn is_configured_https(&self) -> bool {
        self.0.as_deref().is_some_and(|u| u.starts_with("https://"))
    }

    /// Whether the address answers point to is https (cookies are then `Secure`).
    pub(crate) fn is_https(req: &HttpRequest) -> bool {
        Self::of(req).base(req).starts_with("https://")
    }

    /// `path` (from `/`) under the API prefix, as an absolute URL.
    pub(crate) fn api(req: &HttpRequest, path: &str) -> String {
        format!("{}{API_PREFIX}{path}", Self::of(req).base(req))
    }

    /// `path` (from `/`) at the root, as an absolute URL.
    pub(crate) fn root(req: &HttpRequest, path: &str) -> String {
        format!("{}{path}", Self::of(req).base(req))
    }

    fn of(req: &HttpRequest) -> Self {
        req.app_data::<web::Data<Self>>().map(|u| u.get_ref().clone()).unwrap_or_default()
    }
}

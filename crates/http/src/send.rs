//! Sending stored bytes: the one place for their headers and streaming.

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, HttpResponseBuilder};
use futures_util::TryStreamExt as _;
use gallery_domain::ports::BlobBody;

/// Streams `body` as `mime`, with its length and `nosniff`, on top of `res`'s status and
/// headers.
pub(crate) fn stream(mut res: HttpResponseBuilder, mime: &str, body: BlobBody) -> HttpResponse {
    res.content_type(mime)
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")))
        .no_chunking(body.len)
        .streaming(body.stream.map_err(|e| actix_web::error::ErrorServiceUnavailable(e.to_string())))
}

/// A 304 when the request's `If-None-Match` names `etag` (or `*`).
pub(crate) fn not_modified(req: &HttpRequest, etag: &str, cache_control: &'static str) -> Option<HttpResponse> {
    let header = req.headers().get(header::IF_NONE_MATCH)?.to_str().ok()?;
    etag_matches(header, etag).then(|| {
        HttpResponse::NotModified()
            .insert_header((header::ETAG, etag.to_owned()))
            .insert_header((header::CACHE_CONTROL, cache_control))
            .finish()
    })
}

pub(crate) fn etag_matches(header: &str, etag: &str) -> bool {
    header.split(',').map(str::trim).any(|t| t == "*" || t == etag || t.strip_prefix("W/") == Some(etag))
}

#[cfg(test)]
mod tests {
    use super::etag_matches;

    #[test]
    fn etags_match_exactly_or_by_star() {
        assert!(etag_matches("\"abc\"", "\"abc\""));
        assert!(etag_matches("\"x\", \"abc\"", "\"abc\""));
        assert!(etag_matches("*", "\"abc\""));
        assert!(!etag_matches("\"abd\"", "\"abc\""));
    }
}

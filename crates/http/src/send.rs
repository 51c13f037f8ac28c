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
    holds(req, etag).then(|| unchanged(etag.to_owned(), cache_control))
}

/// Whether the request's `If-None-Match` names `etag` (or `*`): the client holds it.
pub(crate) fn holds(req: &HttpRequest, etag: &str) -> bool {
    req.headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|h| h.to_str().ok())
        .is_some_and(|header| etag_matches(header, etag))
}

/// 304 Not Modified, with the validator and caching the full answer would carry.
pub(crate) fn unchanged(etag: String, cache_control: &'static str) -> HttpResponse {
    HttpResponse::NotModified()
        .insert_header((header::ETAG, etag))
        .insert_header((header::CACHE_CONTROL, cache_control))
        .finish()
}

pub(crate) fn etag_matches(header: &str, etag: &str) -> bool {
    header.split(',').map(str::trim).any(|t| t == "*" || t == etag || t.strip_prefix("W/") == Some(etag))
}

/// What a request's `Range` header asks of a blob of `size` bytes.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum RangeAsk {
    Whole,
    Part(u64, u64),
    Unsatisfiable,
}

impl RangeAsk {
    pub(crate) fn of(req: &HttpRequest, size: u64) -> Self {
        req.headers().get(header::RANGE).and_then(|v| v.to_str().ok()).map_or(Self::Whole, |v| parse_range(v, size))
    }
}

/// A single `bytes=` range; anything else (several ranges, other units, nonsense) is
/// ignored and the whole file served, as RFC 9110 allows.
fn parse_range(value: &str, size: u64) -> RangeAsk {
    let Some(spec) = value.trim().strip_prefix("bytes=") else { return RangeAsk::Whole };
    if spec.contains(',') {
        return RangeAsk::Whole;
    }
    let Some((start, end)) = spec.trim().split_once('-') else { return RangeAsk::Whole };
    let (start, end) = (start.trim(), end.trim());
    let parsed = match (start.parse::<u64>(), end.parse::<u64>()) {
        (Ok(s), Ok(e)) if s <= e => Some((s, e.min(size.saturating_sub(1)))),
        (Ok(_), Ok(_)) => return RangeAsk::Whole,
        (Ok(s), Err(_)) if end.is_empty() => Some((s, size.saturating_sub(1))),
        (Err(_), Ok(n)) if start.is_empty() && n > 0 => Some((size.saturating_sub(n), size.saturating_sub(1))),
        (Err(_), Ok(_)) if start.is_empty() => return RangeAsk::Unsatisfiable,
        _ => return RangeAsk::Whole,
    };
    match parsed {
        Some((s, e)) if s < size && s <= e => RangeAsk::Part(s, e),
        _ => RangeAsk::Unsatisfiable,
    }
}

#[cfg(test)]
mod tests {
    use super::{RangeAsk, etag_matches, parse_range};

    #[test]
    fn etags_match_exactly_or_by_star() {
        assert!(etag_matches("\"abc\"", "\"abc\""));
        assert!(etag_matches("\"x\", \"abc\"", "\"abc\""));
        assert!(etag_matches("*", "\"abc\""));
        assert!(!etag_matches("\"abd\"", "\"abc\""));
    }

    #[test]
    fn ranges_follow_rfc_9110() {
        assert_eq!(parse_range("bytes=0-9", 100), RangeAsk::Part(0, 9));
        assert_eq!(parse_range("bytes=90-", 100), RangeAsk::Part(90, 99));
        assert_eq!(parse_range("bytes=-10", 100), RangeAsk::Part(90, 99));
        assert_eq!(parse_range("bytes=50-500", 100), RangeAsk::Part(50, 99));
        assert_eq!(parse_range("bytes=100-", 100), RangeAsk::Unsatisfiable);
        assert_eq!(parse_range("bytes=-0", 100), RangeAsk::Unsatisfiable);
        assert_eq!(parse_range("bytes=0-1,5-6", 100), RangeAsk::Whole);
        assert_eq!(parse_range("items=0-1", 100), RangeAsk::Whole);
        assert_eq!(parse_range("bytes=abc", 100), RangeAsk::Whole);
    }
}

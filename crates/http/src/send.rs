//! Sending stored bytes: the one place for their headers and streaming.

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, HttpResponseBuilder};
use futures_util::TryStreamExt as _;
use gallery_domain::ByteRange;
use gallery_domain::ports::BlobBody;

/// Streams `body` as `mime`, with its length and `nosniff`, on top of `res`'s status and
/// headers.
pub(crate) fn stream(mut res: HttpResponseBuilder, mime: &str, body: BlobBody) -> HttpResponse {
    res.content_type(mime)
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")))
        .no_chunking(body.len)
        .streaming(body.stream.map_err(|e| actix_web::error::ErrorServiceUnavailable(e.to_string())))
}

/// 200 for a whole file; 206 with its `Content-Range` for the bytes `range` names of a
/// file of `size` bytes.
pub(crate) fn whole_or_part(range: Option<(u64, u64)>, size: u64) -> HttpResponseBuilder {
    let Some((start, end)) = range else { return HttpResponse::Ok() };
    let mut res = HttpResponse::PartialContent();
    res.insert_header((header::CONTENT_RANGE, format!("bytes {start}-{end}/{size}")));
    res
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

/// The byte range the request's `Range` header asks for; `None` for the whole file.
pub(crate) fn range(req: &HttpRequest) -> Option<ByteRange> {
    req.headers().get(header::RANGE).and_then(|v| v.to_str().ok()).and_then(parse_range)
}

/// A `Range` header's value (RFC 9110 `bytes=`). `None` when the whole file is to be sent:
/// several ranges, another unit, a reversed range or nonsense are ignored, as RFC 9110
/// allows.
fn parse_range(value: &str) -> Option<ByteRange> {
    let spec = value.trim().strip_prefix("bytes=")?;
    if spec.contains(',') {
        return None;
    }
    let (start, end) = spec.trim().split_once('-')?;
    let (start, end) = (start.trim(), end.trim());
    match (start.parse::<u64>(), end.parse::<u64>()) {
        (Ok(start), Ok(end)) if start <= end => Some(ByteRange::From { start, end: Some(end) }),
        (Ok(start), Err(_)) if end.is_empty() => Some(ByteRange::From { start, end: None }),
        (Err(_), Ok(n)) if start.is_empty() => Some(ByteRange::Last(n)),
        _ => None,
    }
}

pub(crate) fn etag_matches(header: &str, etag: &str) -> bool {
    header.split(',').map(str::trim).any(|t| t == "*" || t == etag || t.strip_prefix("W/") == Some(etag))
}

#[cfg(test)]
mod tests {
    use super::{etag_matches, parse_range};

    fn asked(value: &str, size: u64) -> Option<Option<(u64, u64)>> {
        parse_range(value).map(|r| r.within(size))
    }

    #[test]
    fn ranges_follow_rfc_9110() {
        assert_eq!(asked("bytes=0-9", 100), Some(Some((0, 9))));
        assert_eq!(asked("bytes=90-", 100), Some(Some((90, 99))));
        assert_eq!(asked("bytes=-10", 100), Some(Some((90, 99))));
        assert_eq!(asked("bytes=-500", 100), Some(Some((0, 99))));
        assert_eq!(asked("bytes=50-500", 100), Some(Some((50, 99))));
        // Unsatisfiable: nothing of it is in the file.
        assert_eq!(asked("bytes=100-", 100), Some(None));
        assert_eq!(asked("bytes=-0", 100), Some(None));
        assert_eq!(asked("bytes=0-", 0), Some(None));
        // Ignored: the whole file is sent.
        assert_eq!(asked("bytes=0-1,5-6", 100), None);
        assert_eq!(asked("items=0-1", 100), None);
        assert_eq!(asked("bytes=abc", 100), None);
        assert_eq!(asked("bytes=9-0", 100), None);
    }

    #[test]
    fn etags_match_exactly_or_by_star() {
        assert!(etag_matches("\"abc\"", "\"abc\""));
        assert!(etag_matches("\"x\", \"abc\"", "\"abc\""));
        assert!(etag_matches("*", "\"abc\""));
        assert!(!etag_matches("\"abd\"", "\"abc\""));
    }
}

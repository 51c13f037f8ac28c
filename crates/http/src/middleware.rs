use std::cell::Cell;
use std::rc::Rc;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::error::PayloadError;
use actix_web::http::Method;
use actix_web::http::header::{
    AUTHORIZATION, CACHE_CONTROL, CONTENT_LENGTH, CONTENT_SECURITY_POLICY, CONTENT_TYPE, HeaderName, HeaderValue,
    TRANSFER_ENCODING,
};
use actix_web::middleware::{ErrorHandlerResponse, Next};
use actix_web::{Error, HttpMessage as _};
use futures_util::StreamExt as _;
use tracing_actix_web::RequestId;

use crate::error::EdgeHeaders;
use crate::problem_for_status;
use crate::urls::PublicUrl;

/// Catches any error response not already `application/problem+json` (actix's own 404s,
/// 405s and payload errors) and gives it a problem body.
///
/// # Errors
/// Never; the signature is `ErrorHandlers`'.
pub fn problem_safety_net<B: MessageBody + 'static>(
    res: ServiceResponse<B>,
) -> actix_web::Result<ErrorHandlerResponse<B>> {
    let is_problem =
        res.headers().get(CONTENT_TYPE).is_some_and(|v| v.as_bytes().starts_with(b"application/problem+json"));
    if is_problem || res.status().as_u16() < 400 {
        return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
    }
    let status = res.status();
    let (req, old) = res.into_parts();
    let mut fresh = problem_for_status(status);
    for (name, value) in old.headers() {
        if name != CONTENT_TYPE && name != actix_web::http::header::CONTENT_LENGTH {
            fresh.headers_mut().insert(name.clone(), value.clone());
        }
    }
    let res: ServiceResponse<BoxBody> = ServiceResponse::new(req, fresh);
    Ok(ErrorHandlerResponse::Response(res.map_into_right_body()))
}

/// What every response gets, in one layer (each layer costs a boxed future per request):
/// - `x-request-id`: the request id of the request's tracing span, so a client can quote it
///   and an operator find the logs;
/// - security headers: `X-Content-Type-Options: nosniff` (served images keep the type we
///   sniffed, never the browser's guess), `Referrer-Policy: no-referrer` (share-link tokens
///   must not leak through `Referer`), and a restrictive `Content-Security-Policy` — the
///   Swagger UI's one lets it work;
/// - metrics: a count and the time to the response head, labelled by method, route
///   template (`/api/v1/images/{id}`, never the raw path: bounded label values) and status;
/// - the request timeout ([`RequestTimeout`]);
/// - `HEAD` on every `GET` route (RFC 9110 §9.3.2): the request is routed as a `GET`, and
///   actix's HTTP/1 codec, which saw `HEAD` when it parsed the request, sends the head of the
///   answer (`Content-Length` included) without its body.
///
/// # Errors
/// Whatever the inner service returns.
pub async fn edge(
    mut req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let start = std::time::Instant::now();
    let id = req.extensions().get::<RequestId>().copied();
    let docs = req.path().strip_prefix(crate::DOCS_PATH).is_some_and(|rest| rest.is_empty() || rest.starts_with('/'));
    let method = method_label(req.method());
    // Answers that may carry tokens or a user's own data are never cached.
    let private = req.headers().contains_key(AUTHORIZATION)
        || req.path().strip_prefix(crate::API_PREFIX).is_some_and(|p| p.starts_with(AUTH_PATHS));
    if req.method() == Method::HEAD {
        req.head_mut().method = Method::GET;
    }
    let route = req.match_pattern().unwrap_or_else(|| "unmatched".to_owned());
    let hsts = req.app_data::<actix_web::web::Data<PublicUrl>>().is_some_and(|url| url.is_configured_https());
    // Made only for the answers raised here: no request id is formatted on the way through.
    let edge = || EdgeHeaders { request_id: id.map(|id| id.to_string()), hsts };
    let limit = req.app_data::<actix_web::web::Data<RequestTimeout>>().map(|t| t.0);
    let stalled = watch_body(&mut req);
    let res = match limit {
        // A timeout has no request left to answer with: it leaves as an error, which
        // actix renders through `ApiError`'s own response (headers included).
        Some(limit) => tokio::time::timeout(limit, next.call(req)).await.unwrap_or_else(|_| {
            tracing::warn!(limit_s = limit.as_secs(), "request timed out");
            Err(crate::ApiError::Timeout(edge()).into())
        }),
        None => next.call(req).await,
    };
    // A stalled body fails whatever was reading it; the answer says why (and, like a
    // timeout, leaves as an error rendered with the edge's headers).
    let res = match stalled {
        Some(flag) if flag.get() => {
            tracing::warn!("request body stalled");
            Err(crate::ApiError::BodyStalled(edge()).into())
        }
        _ => res,
    };
    let status = match &res {
        Ok(res) => res.status(),
        Err(e) => e.as_response_error().status_code(),
    };
    let labels = [("method", method.to_owned()), ("route", route), ("status", status.as_str().to_owned())];
    metrics::counter!("gallery_http_requests_total", &labels).increment(1);
    metrics::histogram!("gallery_http_request_duration_seconds", &labels).record(start.elapsed().as_secs_f64());
    let mut res = res?;
    let headers = res.headers_mut();
    if let Some(value) = id.and_then(|id| HeaderValue::from_str(&id.to_string()).ok()) {
        headers.insert(HeaderName::from_static("x-request-id"), value);
    }
    for (name, value) in crate::headers::edge_headers(docs, hsts) {
        // The web app's page sets its own policy (`routes::app`).
        if name == CONTENT_SECURITY_POLICY && headers.contains_key(&name) {
            continue;
        }
        headers.insert(name, value);
    }
    let json = headers.get(CONTENT_TYPE).is_some_and(|t| {
        let t = t.as_bytes();
        t.starts_with(b"application/json") || t.starts_with(b"application/problem+json")
    });
    if private && json {
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    Ok(res)
}

/// Where tokens are handed out, under the API prefix (their answers carry them, their
/// requests may not).
const AUTH_PATHS: &str = "/auth/";

/// The metrics label of a request method: the standard ones by name, anything else as
/// `OTHER`, so that made-up methods cannot grow the label set.
fn method_label(method: &Method) -> &'static str {
    const STANDARD: [&str; 9] = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "CONNECT", "TRACE"];
    STANDARD.into_iter().find(|m| *m == method.as_str()).unwrap_or("OTHER")
}

/// The pace a request body must keep, or be answered 408 `request_timeout`: at least
/// `min_bytes_per_second` on average over every `window` (`server.body_min_bytes_per_second`
/// over `server.body_idle_timeout_seconds`; a window with nothing in it fails whatever the
/// minimum). A body that crawls a byte at a time cannot hold an upload slot for long.
#[derive(Debug, Clone, Copy)]
pub struct BodyPace {
    pub window: std::time::Duration,
    pub min_bytes_per_second: u64,
}

impl BodyPace {
    /// Whether `bytes` over `elapsed` (a whole window or more) keep the pace.
    fn kept(&self, bytes: u64, elapsed: std::time::Duration) -> bool {
        bytes > 0 && u128::from(bytes) * 1000 >= u128::from(self.min_bytes_per_second) * elapsed.as_millis()
    }
}

/// Wraps a request's body, when it has one, so that a read fails once a window passes in
/// which the body fell behind its pace; the returned flag tells whether that happened.
fn watch_body(req: &mut ServiceRequest) -> Option<Rc<Cell<bool>>> {
    let pace = *req.app_data::<actix_web::web::Data<BodyPace>>()?.get_ref();
    let has_body = req.headers().contains_key(TRANSFER_ENCODING)
        || req.headers().get(CONTENT_LENGTH).is_some_and(|l| l.as_bytes() != b"0");
    if !has_body {
        return None;
    }
    let flag = Rc::new(Cell::new(false));
    let stalled = flag.clone();
    // The window under way: when it began, and the bytes in it so far.
    let window = (tokio::time::Instant::now(), 0u64);
    let body = futures_util::stream::unfold(Some((req.take_payload(), window)), move |state| {
        let stalled = stalled.clone();
        async move {
            let (mut payload, (mut began, mut bytes)) = state?;
            loop {
                let ends = began + pace.window;
                match tokio::time::timeout_at(ends, payload.next()).await {
                    Ok(Some(Ok(chunk))) => {
                        bytes += chunk.len() as u64;
                        let now = tokio::time::Instant::now();
                        if now >= ends {
                            if !pace.kept(bytes, now - began) {
                                break;
                            }
                            (began, bytes) = (now, 0);
                        }
                        return Some((Ok(chunk), Some((payload, (began, bytes)))));
                    }
                    Ok(Some(Err(e))) => return Some((Err(e), None)),
                    Ok(None) => return None,
                    // A window over with nothing more: judged on what it brought.
                    Err(_) if pace.kept(bytes, pace.window) => (began, bytes) = (ends, 0),
                    Err(_) => break,
                }
            }
            stalled.set(true);
            let cause = std::io::Error::new(std::io::ErrorKind::TimedOut, "the request body fell behind its pace");
            Some((Err(PayloadError::Io(cause)), None))
        }
    });
    // Fused: actix may poll a finished body again.
    req.set_payload(Payload::Stream { payload: Box::pin(body.fuse()) });
    Some(flag)
}

/// How long a handler may take to produce its response head; past it, 503 `unavailable`
/// (the handler is dropped; uploads finish their file-and-row step on their own).
#[derive(Debug, Clone, Copy)]
pub struct RequestTimeout(pub std::time::Duration);

//! Who is asking: the TCP peer, or, when the peer is a proxy the operator trusts
//! (`server.trusted_proxies`), the rightmost `X-Forwarded-For` entry that is not one of
//! them — the entries to its right were added by trusted proxies, those to its left by
//! whoever sent the request, who may have made them up. Rate limits and logs use it.

use std::net::IpAddr;

use actix_web::HttpRequest;
use actix_web::web::Data;
use ipnet::IpNet;

/// The proxies whose `X-Forwarded-For` is believed: addresses or CIDR ranges.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// Parses `entries` (`10.0.0.0/8`, `192.168.1.5`, `::1`).
    ///
    /// # Errors
    /// The first entry that is neither an address nor a CIDR range.
    pub fn parse<S: AsRef<str>>(entries: &[S]) -> Result<Self, String> {
        entries
            .iter()
            .map(|entry| {
                let entry = entry.as_ref().trim();
                entry
                    .parse::<IpNet>()
                    .or_else(|_| entry.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| format!("`{entry}` is neither an address nor a CIDR range"))
            })
            .collect::<Result<_, _>>()
            .map(Self)
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|net| net.contains(&ip))
    }

    /// The client behind `peer`, given the `X-Forwarded-For` values in the order they came.
    fn client<'a>(&self, peer: IpAddr, forwarded_for: impl DoubleEndedIterator<Item = &'a str>) -> IpAddr {
        if !self.trusts(peer) {
            return peer;
        }
        let mut client = peer;
        for entry in forwarded_for.flat_map(|value| value.split(',')).rev() {
            // What does not parse was not written by a proxy we trust: the hop before it is
            // the furthest we know.
            let Ok(hop) = entry.trim().parse::<IpAddr>() else { return client };
            client = hop;
            if !self.trusts(hop) {
                break;
            }
        }
        client
    }
}

/// The client's address (see the module's description); `None` when the connection has no
/// peer address (a test request).
pub(crate) fn address(req: &HttpRequest) -> Option<IpAddr> {
    let peer = req.peer_addr()?.ip();
    Some(match req.app_data::<Data<TrustedProxies>>() {
        Some(trusted) if !trusted.0.is_empty() => {
            let values = req.headers().get_all("x-forwarded-for").filter_map(|v| v.to_str().ok());
            trusted.client(peer, values.collect::<Vec<_>>().into_iter())
        }
        _ => peer,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn the_peer_is_the_client_unless_it_is_a_trusted_proxy() {
        let trusted = TrustedProxies::parse(&["10.0.0.0/8", "192.168.1.5"]).unwrap();
        // An untrusted peer's header is its own word: ignored.
        assert_eq!(trusted.client(ip("203.0.113.9"), ["1.2.3.4"].into_iter()), ip("203.0.113.9"));
        // Through one trusted proxy: what it appended.
        assert_eq!(trusted.client(ip("10.0.0.2"), ["198.51.100.7"].into_iter()), ip("198.51.100.7"));
        // A client that forges entries: the rightmost untrusted one is the proxy's, theirs are left of it.
        let chain = ["6.6.6.6, 7.7.7.7", "198.51.100.7, 10.1.1.1"];
        assert_eq!(trusted.client(ip("192.168.1.5"), chain.into_iter()), ip("198.51.100.7"));
        // Every hop trusted: the furthest one.
        assert_eq!(trusted.client(ip("10.0.0.2"), ["10.9.9.9, 10.1.1.1"].into_iter()), ip("10.9.9.9"));
        // Garbage where an address should be: the last hop we can read.
        assert_eq!(trusted.client(ip("10.0.0.2"), ["not-an-ip"].into_iter()), ip("10.0.0.2"));
        assert_eq!(trusted.client(ip("10.0.0.2"), ["x, 10.3.3.3"].into_iter()), ip("10.3.3.3"));
        // No header: the proxy itself.
        assert_eq!(trusted.client(ip("10.0.0.2"), std::iter::empty()), ip("10.0.0.2"));
        // IPv6 too.
        let v6 = TrustedProxies::parse(&["::1", "fd00::/8"]).unwrap();
        assert_eq!(v6.client(ip("::1"), ["2001:db8::1"].into_iter()), ip("2001:db8::1"));
    }

    #[test]
    fn entries_that_are_not_addresses_or_ranges_are_refused() {
        assert!(TrustedProxies::parse(&["10.0.0.0/33"]).is_err());
        assert!(TrustedProxies::parse(&["nginx"]).is_err());
        assert!(TrustedProxies::parse::<&str>(&[]).unwrap().0.is_empty());
    }
}

/// The trace a request continues: its W3C `traceparent` (and `tracestate`), when valid.
fn remote_parent(headers: &actix_web::http::header::HeaderMap) -> Option<opentelemetry::Context> {
    use opentelemetry::propagation::{Extractor, TextMapPropagator as _};
    use opentelemetry::trace::TraceContextExt as _;

    struct Headers<'a>(&'a actix_web::http::header::HeaderMap);

    impl Extractor for Headers<'_> {
        fn get(&self, key: &str) -> Option<&str> {
            self.0.get(key)?.to_str().ok()
        }

        fn keys(&self) -> Vec<&str> {
            self.0.keys().map(actix_web::http::header::HeaderName::as_str).collect()
        }
    }

    if !headers.contains_key("traceparent") {
        return None;
    }
    let cx = opentelemetry_sdk::propagation::TraceContextPropagator::new().extract(&Headers(headers));
    cx.span().span_context().is_valid().then_some(cx)
}

/// Each request's root span: tracing-actix-web's own fields (its end records the status and
/// any error), but `http.client_ip` as [`address`] resolves it — its default believes any
/// `Forwarded` or `X-Forwarded-For` header, so a client could write the logs' address — and
/// the trace continued from a W3C `traceparent`. `otel.name` is the method and the route.
#[derive(Debug)]
pub struct RootSpans;

impl tracing_actix_web::RootSpanBuilder for RootSpans {
    fn on_request_start(request: &actix_web::dev::ServiceRequest) -> tracing::Span {
        use actix_web::HttpMessage as _;
        let client = address(request.request()).map(|ip| ip.to_string()).unwrap_or_default();
        let id =
            request.extensions().get::<tracing_actix_web::RequestId>().map(ToString::to_string).unwrap_or_default();
        let route = request.match_pattern().unwrap_or_else(|| "default".to_owned());
        let empty = tracing::field::Empty;
        let span = tracing::info_span!(
            "HTTP request",
            http.method = %request.method(),
            http.route = %route,
            http.target = %request.uri().path(),
            http.client_ip = %client,
            http.status_code = empty,
            otel.name = %format!("{} {route}", request.method()),
            otel.kind = "server",
            otel.status_code = empty,
            request_id = %id,
            exception.message = empty,
            exception.details = empty,
        );
        if let Some(parent) = remote_parent(request.headers()) {
            use tracing_opentelemetry::OpenTelemetrySpanExt as _;
            // Refused only when no trace layer is installed: then nothing is traced anyway.
            let _ = span.set_parent(parent);
        }
        span
    }

    fn on_request_end<B: actix_web::body::MessageBody>(
        span: tracing::Span,
        outcome: &Result<actix_web::dev::ServiceResponse<B>, actix_web::Error>,
    ) {
        tracing_actix_web::DefaultRootSpanBuilder::on_request_end(span, outcome);
    }
}

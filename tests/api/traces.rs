//! Traces over OTLP/HTTP, received by a collector of the test's own that decodes the
//! protobuf as the OpenTelemetry Collector does (`opentelemetry-proto`'s messages).
//!
//! Each test installs the process's one trace pipeline; nextest runs each test in a
//! process of its own.

use std::sync::{Arc, Mutex};

use gallery_server::settings::{LogSettings, TelemetrySettings};
use gallery_server::telemetry::{self, Traces};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::trace::v1::span::SpanKind;
use prost::Message as _;
use tokio::io::{AsyncBufReadExt as _, AsyncReadExt as _, AsyncWriteExt as _, BufReader};
use tokio::net::TcpListener;
use tokio::sync::Notify;

use crate::helpers::{TestApp, bounded, png, spawn_app};

/// A span as the collector received it.
#[derive(Debug, Clone)]
struct Received {
    service: String,
    name: String,
    kind: i32,
    trace_id: String,
    span_id: String,
    parent_span_id: String,
    attributes: Vec<(String, String)>,
}

impl Received {
    fn attribute(&self, key: &str) -> Option<&str> {
        self.attributes.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }
}

/// An OTLP/HTTP collector on a free port: `POST /v1/traces` with a protobuf body.
#[derive(Clone, Default)]
struct Collector {
    spans: Arc<Mutex<Vec<Received>>>,
    arrived: Arc<Notify>,
}

impl Collector {
    async fn start() -> (Self, String) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let collector = Self::default();
        let serving = collector.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(serving.clone().serve(stream));
            }
        });
        (collector, url)
    }

    /// Answers every request on one connection (the exporter keeps it alive).
    async fn serve(self, stream: tokio::net::TcpStream) {
        let mut stream = BufReader::new(stream);
        loop {
            let mut head = String::new();
            let mut length = 0;
            loop {
                let mut line = String::new();
                if stream.read_line(&mut line).await.unwrap_or(0) == 0 {
                    return;
                }
                if let Some((name, value)) = line.split_once(':')
                    && name.eq_ignore_ascii_case("content-length")
                {
                    length = value.trim().parse().unwrap();
                }
                if line == "\r\n" {
                    break;
                }
                head.push_str(&line);
            }
            let mut body = vec![0; length];
            stream.read_exact(&mut body).await.unwrap();
            assert!(head.starts_with("POST /v1/traces HTTP/1.1\r\n"), "{head}");
            assert!(head.to_ascii_lowercase().contains("content-type: application/x-protobuf"), "{head}");
            self.keep(&ExportTraceServiceRequest::decode(body.as_slice()).expect("an OTLP protobuf body"));
            let answer = b"HTTP/1.1 200 OK\r\ncontent-type: application/x-protobuf\r\ncontent-length: 0\r\n\r\n";
            stream.get_mut().write_all(answer).await.unwrap();
        }
    }

    fn keep(&self, request: &ExportTraceServiceRequest) {
        let text = |value: &Option<opentelemetry_proto::tonic::common::v1::AnyValue>| match value
            .as_ref()
            .and_then(|v| v.value.as_ref())
        {
            Some(Value::StringValue(s)) => s.clone(),
            Some(Value::IntValue(i)) => i.to_string(),
            Some(Value::BoolValue(b)) => b.to_string(),
            other => format!("{other:?}"),
        };
        let mut spans = self.spans.lock().unwrap();
        for resource in &request.resource_spans {
            let service = resource
                .resource
                .iter()
                .flat_map(|r| &r.attributes)
                .find(|a| a.key == "service.name")
                .map(|a| text(&a.value))
                .unwrap_or_default();
            for span in resource.scope_spans.iter().flat_map(|s| &s.spans) {
                spans.push(Received {
                    service: service.clone(),
                    name: span.name.clone(),
                    kind: span.kind,
                    trace_id: hex(&span.trace_id),
                    span_id: hex(&span.span_id),
                    parent_span_id: hex(&span.parent_span_id),
                    attributes: span.attributes.iter().map(|a| (a.key.clone(), text(&a.value))).collect(),
                });
            }
        }
        self.arrived.notify_waiters();
    }

    /// Waits until the spans of `trace` include every name in `names`; answers that trace.
    async fn trace(&self, trace: &str, names: &[&str]) -> Vec<Received> {
        bounded("the spans reach the collector", async {
            loop {
                let arrived = self.arrived.notified();
                let spans: Vec<Received> =
                    self.spans.lock().unwrap().iter().filter(|s| s.trace_id == trace).cloned().collect();
                if names.iter().all(|n| spans.iter().any(|s| s.name == *n)) {
                    return spans;
                }
                arrived.await;
            }
        })
        .await
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn traced(endpoint: &str, max_queued_spans: usize) -> Traces {
    let log = LogSettings { format: "pretty".into(), filter: "warn".into() };
    let telemetry = TelemetrySettings {
        otlp_endpoint: Some(endpoint.to_owned()),
        service_name: "gallery-under-test".into(),
        max_queued_spans,
        sample_ratio: 1.0,
    };
    telemetry::init(&log, &telemetry).unwrap().expect("an endpoint is set")
}

/// Whether `span` descends from `ancestor` within `spans`.
fn descends(span: &Received, ancestor: &Received, spans: &[Received]) -> bool {
    let mut parent = span.parent_span_id.clone();
    while let Some(up) = spans.iter().find(|s| s.span_id == parent) {
        if up.span_id == ancestor.span_id {
            return true;
        }
        parent = up.parent_span_id.clone();
    }
    false
}

async fn upload_traced(app: &TestApp, token: &str, traceparent: &str) -> String {
    let part = reqwest::multipart::Part::bytes(png(64, 48)).file_name("t.png").mime_str("image/png").unwrap();
    let form = reqwest::multipart::Form::new().part("file", part);
    let res = app
        .client
        .post(app.url("/images"))
        .bearer_auth(token)
        .header("traceparent", traceparent)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let body: serde_json::Value = res.json().await.unwrap();
    body["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_request_continues_the_callers_trace_with_its_queries_storage_and_renders_beneath() {
    let (collector, endpoint) = Collector::start().await;
    let _traces = traced(&endpoint, 4096);
    let app = spawn_app().await;
    let token = app.user_token("tracy", "beta_player").await;

    let upload_trace = "4bf92f3577b34da6a3ce929d0e0e4736";
    let caller = "00f067aa0ba902b7";
    let id = upload_traced(&app, &token, &format!("00-{upload_trace}-{caller}-01")).await;
    let spans = collector.trace(upload_trace, &["POST /api/v1/images", "image.inspect"]).await;
    let server = spans.iter().find(|s| s.name == "POST /api/v1/images").unwrap();
    assert_eq!(server.parent_span_id, caller, "the caller's span is the parent");
    assert_eq!(server.kind, SpanKind::Server as i32);
    assert_eq!(server.service, "gallery-under-test");
    assert_eq!(server.attribute("http.route"), Some("/api/v1/images"));
    assert_eq!(server.attribute("http.status_code"), Some("201"));
    for prefix in ["ImageRepo.", "BlobStore.", "image.inspect"] {
        let child = spans.iter().find(|s| s.name.starts_with(prefix)).unwrap_or_else(|| panic!("no {prefix} span"));
        assert!(descends(child, server, &spans), "{} is not under the request", child.name);
    }

    // A thumbnail rendered on its first request: the render is in that request's trace.
    let thumbnail_trace = "0af7651916cd43dd8448eb211c80319c";
    let (status, _, _) = app
        .get_with(
            &format!("/images/{id}/thumbnails/200"),
            &token,
            &[("traceparent", &format!("00-{thumbnail_trace}-b7ad6b7169203331-01"))],
        )
        .await;
    assert_eq!(status, 200);
    let spans =
        collector.trace(thumbnail_trace, &["GET /api/v1/images/{id}/thumbnails/{height}", "thumbnail.render"]).await;
    let server = spans.iter().find(|s| s.name.starts_with("GET ")).unwrap();
    let render = spans.iter().find(|s| s.name == "thumbnail.render").unwrap();
    assert!(descends(render, server, &spans));
    assert_eq!(render.attribute("thumbnail.height"), Some("200"));

    // Without a traceparent, a trace of its own.
    let reply = app.get("/users/me", Some(&token)).await;
    assert_eq!(reply.status, 200);
    let own = bounded("a trace of its own", async {
        loop {
            let arrived = collector.arrived.notified();
            if let Some(span) =
                collector.spans.lock().unwrap().iter().find(|s| s.name == "GET /api/v1/users/me").cloned()
            {
                return span;
            }
            arrived.await;
        }
    })
    .await;
    assert_eq!(own.parent_span_id, "", "a root span");
    assert!(![upload_trace, thumbnail_trace].contains(&own.trace_id.as_str()));
}

/// What a collector that reads and never answers has seen.
#[derive(Default)]
struct Silence {
    /// A batch is being sent: the exporter now waits for its answer.
    receiving: std::sync::atomic::AtomicBool,
    /// The exporter closed its connection: its timeout ran out.
    given_up: std::sync::atomic::AtomicBool,
    changed: Notify,
}

#[tokio::test]
async fn a_collector_that_never_answers_costs_requests_nothing_and_its_spans_are_dropped_and_counted() {
    use std::sync::atomic::Ordering::SeqCst;
    let silent = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", silent.local_addr().unwrap());
    let silence = Arc::new(Silence::default());
    let watching = silence.clone();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = silent.accept().await {
            let silence = watching.clone();
            tokio::spawn(async move {
                let mut sink = vec![0; 64 * 1024];
                while stream.read(&mut sink).await.is_ok_and(|n| n > 0) {
                    silence.receiving.store(true, SeqCst);
                    silence.changed.notify_waiters();
                }
                silence.given_up.store(true, SeqCst);
                silence.changed.notify_waiters();
            });
        }
    });
    let _traces = traced(&endpoint, 8);
    let app = spawn_app().await;
    let token = app.user_token("quiet", "beta_player").await;
    bounded("the exporter sends its first batch", async {
        loop {
            let changed = silence.changed.notified();
            if silence.receiving.load(SeqCst) {
                return;
            }
            changed.await;
        }
    })
    .await;

    // The exporter waits on the collector now; the queue holds 8 spans.
    for _ in 0..40 {
        assert_eq!(app.get("/users/me", Some(&token)).await.status, 200);
    }
    assert!(!silence.given_up.load(SeqCst), "forty requests answered while the exporter still waited on one batch");
    let metrics = app.client.get(app.url("/metrics")).send().await.unwrap().text().await.unwrap();
    let dropped: f64 = metrics
        .lines()
        .find_map(|l| l.strip_prefix("gallery_trace_spans_dropped_total "))
        .expect("the drops are counted")
        .parse()
        .unwrap();
    assert!(dropped >= 40.0 - 8.0, "{dropped} dropped: forty requests' spans, a queue of 8");
}

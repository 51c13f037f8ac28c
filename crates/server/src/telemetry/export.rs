//! The trace pipeline: finished spans wait in a bounded queue and a thread of their own
//! sends them in batches with the OTLP/HTTP exporter (protobuf).
//!
//! A request never waits on the collector: ending a span only offers it to the queue, and
//! when the queue is full (a collector slow or away) the span is dropped and counted
//! (`gallery_trace_spans_dropped_total`). The SDK's batch processor does not count what it
//! drops, hence this one.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use async_trait::async_trait;
use bytes::Bytes;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::{WithExportConfig as _, WithHttpConfig as _};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::trace::{
    Sampler, SdkTracer, SdkTracerProvider, Span, SpanData, SpanExporter as _, SpanProcessor,
};

use crate::settings::TelemetrySettings;

/// Spans sent in one request to the collector, at most.
const BATCH: usize = 512;
/// How long a batch waits to fill before it goes anyway.
const BATCH_WAIT: Duration = Duration::from_millis(200);
/// One export's whole time, connection included.
const EXPORT_TIMEOUT: Duration = Duration::from_secs(5);

/// The running pipeline. [`Traces::shutdown`] sends what is queued and stops it.
#[derive(Debug)]
pub struct Traces {
    provider: SdkTracerProvider,
}

impl Traces {
    /// Starts the exporter's thread for `endpoint` (the collector's base URL).
    ///
    /// # Errors
    /// When the endpoint is not a URL or the thread cannot start.
    pub fn start(endpoint: &str, settings: &TelemetrySettings) -> anyhow::Result<Self> {
        let url = format!("{}/v1/traces", endpoint.trim_end_matches('/'));
        url::Url::parse(&url).with_context(|| format!("telemetry.otlp_endpoint: {endpoint:?} is not a URL"))?;
        let client = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(2))
            .timeout(EXPORT_TIMEOUT)
            .build()
            .context("the trace exporter's HTTP client")?;
        let mut exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .with_http_client(Client(client))
            .with_protocol(opentelemetry_otlp::Protocol::HttpBinary)
            .with_endpoint(url)
            .with_timeout(EXPORT_TIMEOUT)
            .build()
            .context("the trace exporter")?;
        let resource = Resource::builder().with_service_name(settings.service_name.clone()).build();
        exporter.set_resource(&resource);
        let (queue, waiting) = std::sync::mpsc::sync_channel(settings.max_queued_spans.max(1));
        let stopping = Arc::new(AtomicBool::new(false));
        let (done, finished) = std::sync::mpsc::channel();
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        let sender = Sender { waiting, stopping: stopping.clone(), done };
        std::thread::Builder::new().name("trace-exporter".into()).spawn(move || sender.run(&runtime, &exporter))?;
        crate::metrics::install();
        metrics::counter!("gallery_trace_spans_dropped_total").increment(0);
        metrics::counter!("gallery_trace_spans_exported_total").increment(0);
        let processor = Queue { queue, stopping, finished: Mutex::new(Some(finished)) };
        anyhow::ensure!(
            (0.0..=1.0).contains(&settings.sample_ratio),
            "telemetry.sample_ratio must be between 0 and 1, not {}",
            settings.sample_ratio
        );
        let sampler = Sampler::ParentBased(Box::new(Sampler::TraceIdRatioBased(settings.sample_ratio)));
        let provider = SdkTracerProvider::builder()
            .with_span_processor(processor)
            .with_sampler(sampler)
            .with_resource(resource)
            .build();
        Ok(Self { provider })
    }

    /// The tracer spans are made with.
    #[must_use]
    pub fn tracer(&self) -> SdkTracer {
        self.provider.tracer("gallery")
    }

    /// Sends what is queued (waiting at most the export timeout) and stops.
    pub fn shutdown(self) {
        if let Err(e) = self.provider.shutdown_with_timeout(EXPORT_TIMEOUT) {
            tracing::warn!(error = %e, "the trace exporter did not finish sending");
        }
    }
}

/// The processor: offers each finished, sampled span to the queue and never waits.
#[derive(Debug)]
struct Queue {
    queue: SyncSender<SpanData>,
    stopping: Arc<AtomicBool>,
    finished: Mutex<Option<Receiver<()>>>,
}

impl SpanProcessor for Queue {
    fn on_start(&self, _span: &mut Span, _cx: &opentelemetry::Context) {}

    fn on_end(&self, span: SpanData) {
        if !span.span_context.is_sampled() {
            return;
        }
        match self.queue.try_send(span) {
            Ok(()) => {}
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => {
                metrics::counter!("gallery_trace_spans_dropped_total").increment(1);
            }
        }
    }

    fn force_flush(&self) -> OTelSdkResult {
        Ok(())
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.stopping.store(true, Ordering::SeqCst);
        let finished = self.finished.lock().map_err(|_| OTelSdkError::AlreadyShutdown)?.take();
        let Some(finished) = finished else { return Err(OTelSdkError::AlreadyShutdown) };
        match finished.recv_timeout(timeout) {
            Ok(()) | Err(RecvTimeoutError::Disconnected) => Ok(()),
            Err(RecvTimeoutError::Timeout) => Err(OTelSdkError::Timeout(timeout)),
        }
    }
}

/// The exporter's side of the queue, on its own thread.
struct Sender {
    waiting: Receiver<SpanData>,
    stopping: Arc<AtomicBool>,
    done: std::sync::mpsc::Sender<()>,
}

impl Sender {
    fn run(self, runtime: &tokio::runtime::Runtime, exporter: &opentelemetry_otlp::SpanExporter) {
        let mut failing = false;
        loop {
            let batch = self.next_batch();
            if batch.is_empty() {
                // Only when stopping: everything queued has been sent.
                let _ = self.done.send(());
                return;
            }
            let n = batch.len() as u64;
            match runtime.block_on(exporter.export(batch)) {
                Ok(()) => {
                    metrics::counter!("gallery_trace_spans_exported_total").increment(n);
                    if failing {
                        tracing::info!("the trace collector takes spans again");
                    }
                    failing = false;
                }
                Err(e) => {
                    metrics::counter!("gallery_trace_spans_dropped_total").increment(n);
                    if !failing {
                        tracing::warn!(error = %e, "the trace collector did not take a batch; its spans are dropped");
                    }
                    failing = true;
                }
            }
        }
    }

    /// Up to [`BATCH`] spans: waits for the first (checking for a stop now and then), then
    /// at most [`BATCH_WAIT`] for the rest. Empty only once stopping with nothing queued.
    fn next_batch(&self) -> Vec<SpanData> {
        let mut batch = Vec::new();
        let first = loop {
            match self.waiting.recv_timeout(BATCH_WAIT) {
                Ok(span) => break span,
                Err(RecvTimeoutError::Timeout) if !self.stopping.load(Ordering::SeqCst) => {}
                Err(_) => return batch,
            }
        };
        batch.push(first);
        let until = Instant::now() + BATCH_WAIT;
        while batch.len() < BATCH {
            match self.waiting.recv_timeout(until.saturating_duration_since(Instant::now())) {
                Ok(span) => batch.push(span),
                Err(_) => break,
            }
        }
        batch
    }
}

/// OTLP's HTTP client port on the workspace's one `reqwest` (0.12): the exporter's own
/// would bring a second version of it.
#[derive(Debug)]
struct Client(reqwest::Client);

#[async_trait]
impl opentelemetry_http::HttpClient for Client {
    async fn send_bytes(
        &self,
        request: http::Request<Bytes>,
    ) -> Result<http::Response<Bytes>, opentelemetry_http::HttpError> {
        let (parts, body) = request.into_parts();
        let response =
            self.0.request(parts.method, parts.uri.to_string()).headers(parts.headers).body(body).send().await?;
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.bytes().await?;
        let mut answer = http::Response::builder().status(status).body(body)?;
        *answer.headers_mut() = headers;
        Ok(answer)
    }
}

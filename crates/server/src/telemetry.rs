//! Logs and traces: one subscriber for the process. Logs are pretty in development and
//! JSON in production; with `telemetry.otlp_endpoint` set, spans also go to an
//! OpenTelemetry collector over OTLP/HTTP (`export`).
//!
//! Two filters, one per layer: the log filter (`log.filter`, `RUST_LOG`) decides what is
//! printed, and traces take every span of Gallery's own crates down to `DEBUG` — the
//! request's, and the database, storage, render and job spans under it. Without an
//! endpoint no layer wants those `DEBUG` spans, so their call sites stay disabled and cost
//! one cached check each.

use tracing::Level;
use tracing_subscriber::Layer as _;
use tracing_subscriber::filter::{EnvFilter, filter_fn};
use tracing_subscriber::fmt::format::FmtSpan;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;

use crate::settings::{LogSettings, TelemetrySettings};

mod export;

pub use export::Traces;

/// Installs the global subscriber; a second call (as in tests) leaves the first in place.
/// Answers the trace pipeline when an endpoint is set, to be shut down (flushed) on exit.
///
/// # Errors
/// When the endpoint is not a URL, or the exporter's thread cannot start.
pub fn init(log: &LogSettings, telemetry: &TelemetrySettings) -> anyhow::Result<Option<Traces>> {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(&log.filter));
    // Closing a request span prints one access-log line with its request id, status and latency.
    let printed = tracing_subscriber::fmt::layer().with_writer(std::io::stderr).with_span_events(FmtSpan::CLOSE);
    let printed = if log.format == "json" {
        printed.json().with_current_span(true).with_span_list(false).boxed()
    } else {
        printed.boxed()
    };
    let traces = telemetry.endpoint().map(|endpoint| Traces::start(endpoint, telemetry)).transpose()?;
    let traced = traces.as_ref().map(|traces| {
        // No per-span extras: source locations, thread and target attributes, busy/idle
        // times, an OpenTelemetry context made current on every enter (nothing else here
        // reads it). Each cost time on every span of every request.
        tracing_opentelemetry::layer()
            .with_tracer(traces.tracer())
            .with_location(false)
            .with_threads(false)
            .with_target(false)
            .with_tracked_inactivity(false)
            .with_context_activation(false)
            .with_filter(filter_fn(|meta| {
                meta.is_span() && *meta.level() <= Level::DEBUG && meta.target().starts_with("gallery")
            }))
    });
    let _ = tracing_subscriber::registry().with(printed.with_filter(filter)).with(traced).try_init();
    Ok(traces)
}

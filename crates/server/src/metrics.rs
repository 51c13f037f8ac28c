//! The Prometheus recorder behind `GET /metrics`: request counters and latency histograms
//! (recorded by the HTTP middleware), uploads, thumbnails, rate-limit rejections, and the
//! database pools' and in-memory copies' gauges, read at scrape time.

use std::sync::{Arc, Mutex, OnceLock};

use gallery_http::MetricsSource;
use gallery_postgres::{Caches, Db};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

/// Latency buckets, seconds: 1 ms to 30 s.
const LATENCY_BUCKETS: &[f64] = &[0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0];

/// The process-wide recorder, installed on first use (the `metrics` facade has one global
/// recorder; tests run several servers in one process and share it).
fn handle() -> Option<&'static PrometheusHandle> {
    static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let builder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_duration_seconds".into()), LATENCY_BUCKETS)
                .map_err(|e| tracing::error!(error = %e, "metrics buckets refused"))
                .ok()?;
            builder.install_recorder().map_err(|e| tracing::error!(error = %e, "no metrics recorder")).ok()
        })
        .as_ref()
}

/// Installs the recorder now, for what is counted before the first request (the trace
/// pipeline starts before the server).
pub(crate) fn install() {
    let _ = handle();
}

/// Drains the recorder's histogram samples into their buckets every `every`, scraped or not:
/// without it, every latency sample waits in memory until someone renders `/metrics` (about
/// 16 MB per million requests, on a server nobody scrapes).
pub async fn upkeep_every(every: std::time::Duration) {
    let Some(handle) = handle() else { return };
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        handle.run_upkeep();
    }
}

/// The pools of every worker, summed into gauges at scrape time.
#[derive(Clone, Default)]
pub struct Pools(Arc<Mutex<Vec<Db>>>);

impl std::fmt::Debug for Pools {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pools").finish_non_exhaustive()
    }
}

impl Pools {
    pub fn add(&self, db: Db) {
        self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(db);
    }

    fn record(&self) {
        let (mut in_use, mut idle, mut waiting) = (0, 0, 0);
        for db in self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner).iter() {
            let (u, i, w) = db.pool_status();
            (in_use, idle, waiting) = (in_use + u, idle + i, waiting + w);
        }
        #[allow(clippy::cast_precision_loss)] // connection counts are small
        {
            metrics::gauge!("gallery_db_pool_connections", "state" => "in_use").set(in_use as f64);
            metrics::gauge!("gallery_db_pool_connections", "state" => "idle").set(idle as f64);
            metrics::gauge!("gallery_db_pool_waiting").set(waiting as f64);
        }
    }
}

/// Whether the copies are in use, how often their listener lost its connection or its
/// lease, and how many rows each kind holds.
fn record_caches(caches: &Caches) {
    metrics::gauge!("gallery_cache_live").set(if caches.is_live() { 1.0 } else { 0.0 });
    metrics::counter!("gallery_cache_listener_drops_total").absolute(caches.drops());
    metrics::counter!("gallery_cache_lease_lapses_total").absolute(caches.lapses());
    let held = caches.held();
    #[allow(clippy::cast_precision_loss)] // entry counts are bounded by the caches' capacity
    for (kind, n) in [("sessions", held.sessions), ("users", held.users), ("images", held.images)] {
        metrics::gauge!("gallery_cache_entries", "kind" => kind).set(n as f64);
    }
}

/// What `GET /metrics` renders.
#[must_use]
pub fn source(pools: Pools, caches: Caches) -> MetricsSource {
    let handle = handle();
    Arc::new(move || {
        pools.record();
        record_caches(&caches);
        handle.map_or_else(String::new, |h| {
            h.run_upkeep();
            h.render()
        })
    })
}

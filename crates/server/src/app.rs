//! Wiring: adapters into ports, ports into use-cases, use-cases into routes.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;
use tracing::Instrument as _;

use actix_web::dev::Server;
use actix_web::middleware::{ErrorHandlers, from_fn};
use actix_web::{App, HttpServer};
use anyhow::Context as _;
use async_trait::async_trait;
use gallery_auth::{BcryptHasher, JwtConfig, JwtTokens};
use gallery_domain::auth::Auth;
use gallery_domain::galleries::Galleries;
use gallery_domain::images::{ImageLimits, ImagePorts, Images};
use gallery_domain::links::Links;
use gallery_domain::plans::Plans;
use gallery_domain::ports::Clock;
use gallery_domain::roles::Roles;
use gallery_domain::subscriptions::Subscriptions;
use gallery_domain::users::Users;
use gallery_domain::{RoleName, Seal};
use gallery_fetch::{FetchSettings, HttpFetcher};
use gallery_http::{
    AppState, BodyPace, MetricsToken, PublicUrl, RateLimitSettings, RateLimits, ReadinessProbe, RequestTimeout,
    RootSpans, TrustedProxies, edge, problem_safety_net,
};
use gallery_imaging::{CachedThumbnails, DecodeBudget, Inspector, LocationStripper, Renderer};
use gallery_postgres::{
    Caches, Db, PgGalleryRepo, PgImageRepo, PgLinkRepo, PgPlanRepo, PgRateCounter, PgRemovalRepo, PgRoleRepo,
    PgSessionRepo, PgSubscriptionRepo, PgUploadSlots, PgUserRepo, PoolSettings,
};
use gallery_storage::Storage;
use secrecy::ExposeSecret as _;
use tracing_actix_web::TracingLogger;

use crate::Settings;
use crate::metrics::Pools;
use crate::runtime::{ProcessTurns, SystemClock, TokioTasks};

struct DatabaseProbe(Db);

#[async_trait]
impl ReadinessProbe for DatabaseProbe {
    async fn check(&self) -> Result<(), String> {
        self.0.ping().await.map_err(|e| e.to_string())
    }
}

struct StorageProbe(Storage);

#[async_trait]
impl ReadinessProbe for StorageProbe {
    async fn check(&self) -> Result<(), String> {
        self.0.check().await
    }
}

/// What every worker shares: settings checked once, the hasher (its dummy hash costs a
/// bcrypt run to make) and the token service.
#[derive(Clone)]
pub struct Shared {
    url: String,
    storage: Storage,
    inspector: Arc<Inspector>,
    fetcher: Arc<HttpFetcher>,
    /// One per process: its render flights are shared by every worker.
    thumbnails: Arc<CachedThumbnails>,
    limits: ImageLimits,
    pool: PoolSettings,
    hasher: Arc<BcryptHasher>,
    tokens: Arc<JwtTokens>,
    clock: Arc<dyn Clock>,
    signup_role: RoleName,
    rate_limits: RateLimitSettings,
    /// One per process: every worker's uploads share its turns.
    upload_turns: ProcessTurns,
    /// How many uploads may run at once in this process (`upload_turns`' count).
    uploads_at_once: usize,
    pools: Pools,
    /// One per process: every worker's pool reads and fills the same copies.
    caches: Caches,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared").field("pool", &self.pool).finish_non_exhaustive()
    }
}

impl Shared {
    /// # Errors
    /// A bad bcrypt cost or role name in the settings.
    pub fn build(settings: &Settings) -> anyhow::Result<Self> {
        let hasher =
            BcryptHasher::new(settings.auth.bcrypt_cost).map_err(anyhow::Error::msg).context("auth.bcrypt_cost")?;
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let tokens = JwtTokens::new(
            JwtConfig {
                secret: settings.auth.jwt_secret.expose_secret().as_bytes().to_vec(),
                issuer: settings.auth.issuer.clone(),
                audience: settings.auth.audience.clone(),
                access_ttl: chrono::Duration::seconds(settings.auth.access_ttl_seconds),
                refresh_ttl: chrono::Duration::seconds(settings.auth.refresh_ttl_seconds),
            },
            clock.clone(),
        );
        let signup_role = RoleName::parse(&settings.auth.signup_default_role)
            .map_err(|e| anyhow::anyhow!("auth.signup_default_role: {e}"))?;
        let pool = PoolSettings {
            max_size: settings.database.max_connections,
            wait_timeout: Duration::from_secs(settings.database.acquire_timeout_seconds),
            connect_timeout: Duration::from_secs(settings.database.connect_timeout_seconds),
        };
        let url = settings.database.url.expose_secret().to_owned();
        // No upload outlives its request; a minute more covers the recording after it.
        let upload_lifetime = Duration::from_secs(settings.server.request_timeout_seconds + 60);
        let storage =
            Storage::open(settings.storage.backend, &settings.storage.root, &settings.storage.s3, upload_lifetime)
                .map_err(|e| anyhow::anyhow!("storage ({:?}): {e}", settings.storage.backend))?;
        let decoders = match settings.images.max_concurrent_decodes {
            0 => std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get),
            n => n,
        };
        let limits = ImageLimits {
            max_pixels: settings.images.max_pixels,
            max_upload_bytes: settings.images.max_upload_bytes,
            orphan_grace: chrono::Duration::seconds(i64::try_from(settings.storage.sweep_interval_seconds)?),
            uploads_per_user: settings.server.max_uploads_per_user,
            // A dead server's slots are free again within the request timeout.
            upload_lease: chrono::Duration::seconds(i64::try_from(settings.server.request_timeout_seconds)?),
        };
        let uploads_at_once = match settings.server.max_concurrent_uploads {
            0 => 2 * decoders,
            n => n,
        };
        let budget = DecodeBudget::new(settings.images.decode_memory_bytes);
        let renderer = Renderer::new(decoders).with_budget(budget.clone());
        let thumbnails = Arc::new(CachedThumbnails::new(storage.blobs(), Arc::new(renderer)));
        Ok(Self {
            url,
            pool,
            hasher: Arc::new(hasher),
            tokens: Arc::new(tokens),
            clock,
            signup_role,
            storage,
            inspector: Arc::new(Inspector::new(decoders).with_budget(budget)),
            thumbnails,
            fetcher: Arc::new(HttpFetcher::new(FetchSettings {
                allow_private_networks: settings.import.allow_private_networks,
                deadline: Duration::from_secs(settings.import.timeout_seconds),
                ..FetchSettings::default()
            })),
            limits,
            rate_limits: settings.rate_limit,
            upload_turns: ProcessTurns::new(uploads_at_once),
            uploads_at_once,
            pools: Pools::default(),
            caches: Caches::default(),
        })
    }

    /// The same, with the pool split `workers` ways (at least one connection each).
    #[must_use]
    pub fn per_worker(mut self, workers: usize) -> Self {
        self.pool.max_size = self.pool.max_size.div_ceil(workers.max(1)).max(1);
        self
    }
}

/// The use-cases, built over the PostgreSQL adapters.
#[derive(Debug, Clone)]
pub struct Services {
    pub db: Db,
    pub rate_limits: RateLimits,
    pub auth: Auth,
    pub users: Users,
    pub roles: Roles,
    pub images: Images,
    pub galleries: Galleries,
    pub plans: Plans,
    pub subscriptions: Subscriptions,
    pub links: Links,
}

impl Services {
    /// Builds the use-cases on a pool of their own. Each HTTP worker gets its own: a
    /// connection's I/O task then runs on the thread of the requests that use it, with no
    /// cross-thread wake-up per query.
    ///
    /// # Errors
    /// A bad pool size.
    pub fn build(shared: &Shared) -> anyhow::Result<Self> {
        let db = Db::new(&shared.url, &shared.pool, shared.clock.clone())
            .map_err(anyhow::Error::msg)?
            .with_caches(shared.caches.clone());
        let users = Arc::new(PgUserRepo::new(db.clone()));
        let roles = Arc::new(PgRoleRepo::new(db.clone()));
        let sessions = Arc::new(PgSessionRepo::new(db.clone()));
        let hasher = shared.hasher.clone();
        let auth = Auth::new(
            users.clone(),
            roles.clone(),
            sessions,
            hasher.clone(),
            shared.tokens.clone(),
            shared.clock.clone(),
            shared.signup_role.clone(),
        );
        let image_repo = Arc::new(PgImageRepo::new(db.clone()));
        // An upload pins its file's key on a connection while it records the image, which
        // needs a connection of its own: pins come from a pool of their own, one for each
        // upload that may run at once (and the sweep's claim), so that they can never take
        // every connection the records wait for.
        let pin_pool = PoolSettings { max_size: shared.uploads_at_once + 1, ..shared.pool.clone() };
        let pins = Db::new(&shared.url, &pin_pool, shared.clock.clone()).map_err(anyhow::Error::msg)?;
        let removals = Arc::new(PgRemovalRepo::new(db.clone()).with_pins(pins));
        let plan_repo = Arc::new(PgPlanRepo::new(db.clone()));
        let galleries =
            Galleries::new(Arc::new(PgGalleryRepo::new(db.clone())), image_repo.clone(), shared.clock.clone());
        let ports = ImagePorts {
            images: image_repo,
            blobs: shared.storage.blobs(),
            inspector: shared.inspector.clone(),
            thumbnails: shared.thumbnails.clone(),
            fetcher: shared.fetcher.clone(),
            clock: shared.clock.clone(),
            removals: removals.clone(),
            location: Arc::new(LocationStripper),
            tasks: Arc::new(TokioTasks),
            slots: Arc::new(PgUploadSlots::new(db.clone())),
            turns: Arc::new(shared.upload_turns.clone()),
        };
        let images = Images::new(ports, shared.limits);
        let links = Links::new(
            Arc::new(PgLinkRepo::new(db.clone())),
            images.clone(),
            shared.tokens.clone(),
            shared.clock.clone(),
        );
        Ok(Self {
            users: Users::new(
                users.clone(),
                roles.clone(),
                hasher,
                shared.storage.blobs(),
                removals,
                shared.clock.clone(),
            ),
            roles: Roles::new(roles),
            images,
            galleries,
            links,
            plans: Plans::new(plan_repo.clone()),
            subscriptions: Subscriptions::new(
                Arc::new(PgSubscriptionRepo::new(db.clone())),
                plan_repo,
                users.clone(),
                shared.clock.clone(),
            ),
            auth,
            rate_limits: RateLimits::new(shared.rate_limits, Arc::new(PgRateCounter::new(db.clone()))),
            db,
        })
    }
}

/// The HTTP server, bound and ready to run; the sweep of files recorded for removal; the
/// reading again of originals recorded before sizes were as shown; and the listener that
/// keeps the in-memory copies true.
pub struct Application {
    port: u16,
    server: Server,
    sweeper: tokio::task::JoinHandle<()>,
    reinspector: tokio::task::JoinHandle<()>,
    upkeep: tokio::task::JoinHandle<()>,
    follower: gallery_postgres::ListenerThread,
    caches: Caches,
    storage: Storage,
}

impl std::fmt::Debug for Application {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Application").field("port", &self.port).finish_non_exhaustive()
    }
}

impl Application {
    /// Binds `server.host:server.port` (port 0 picks a free one) and builds the app.
    /// Connects to nothing yet: the database may come up later.
    ///
    /// # Errors
    /// A bad setting or a port that cannot be bound.
    pub fn build(settings: &Settings) -> anyhow::Result<Self> {
        let workers = match settings.server.workers {
            0 => std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get),
            n => n,
        };
        let shared = Shared::build(settings)?.per_worker(workers);
        // Built once here so that a bad setting fails startup, not a worker.
        let fallback = Services::build(&shared)?;
        let listener = TcpListener::bind((settings.server.host.as_str(), settings.server.port))
            .with_context(|| format!("binding {}:{}", settings.server.host, settings.server.port))?;
        let port = listener.local_addr()?.port();
        let metrics = crate::metrics::source(shared.pools.clone(), shared.caches.clone());
        let sweep_interval = Duration::from_secs(settings.storage.sweep_interval_seconds);
        let sweeper = tokio::spawn(sweep_every(fallback.images.clone(), sweep_interval));
        let reinspector = tokio::spawn(reinspect_until_done(fallback.images.clone(), sweep_interval));
        let upkeep = tokio::spawn(crate::metrics::upkeep_every(METRICS_UPKEEP));
        let caches = shared.caches.clone();
        let storage = shared.storage.clone();
        let follower = caches.listen(shared.url.clone()).context("starting the cache listener's thread")?;
        let request_timeout_limit = Duration::from_secs(settings.server.request_timeout_seconds);
        let public_url = PublicUrl::new(settings.public_url());
        // Every server with the same secret opens the others' cursors.
        let cursors = Seal::new(settings.auth.jwt_secret.expose_secret().as_bytes(), "image list cursor");
        let trusted_proxies = TrustedProxies::parse(&settings.server.trusted_proxies)
            .map_err(|e| anyhow::anyhow!("server.trusted_proxies: {e}"))?;
        let body_pace = BodyPace {
            window: Duration::from_secs(settings.server.body_idle_timeout_seconds),
            min_bytes_per_second: settings.server.body_min_bytes_per_second,
        };
        let metrics_token =
            settings.metrics.token.as_ref().map(|t| t.expose_secret()).filter(|t| !t.is_empty()).map(MetricsToken::new);
        let server = HttpServer::new(move || {
            let services = Services::build(&shared).unwrap_or_else(|e| {
                tracing::error!(error = %e, "building a worker's services failed; sharing the first pool");
                fallback.clone()
            });
            shared.pools.add(services.db.clone());
            let state = AppState {
                auth: services.auth,
                users: services.users,
                roles: services.roles,
                images: services.images,
                galleries: services.galleries,
                plans: services.plans,
                subscriptions: services.subscriptions,
                links: services.links,
                readiness: vec![
                    ("database", Arc::new(DatabaseProbe(services.db)) as Arc<dyn ReadinessProbe>),
                    ("storage", Arc::new(StorageProbe(shared.storage.clone()))),
                ],
                rate_limits: services.rate_limits,
                metrics: metrics.clone(),
                metrics_token: metrics_token.clone(),
                public_url: public_url.clone(),
                cursors: cursors.clone(),
                trusted_proxies: trusted_proxies.clone(),
                request_timeout: RequestTimeout(request_timeout_limit),
                body_pace,
            };
            // Innermost first: the edge (request id, security headers, metrics, timeout)
            // sees the safety net's problem bodies.
            App::new()
                .configure(gallery_http::configure(state))
                .wrap(ErrorHandlers::new().default_handler(problem_safety_net))
                .wrap(from_fn(edge))
                .wrap(TracingLogger::<RootSpans>::new())
        })
        .client_request_timeout(Duration::from_secs(settings.server.header_timeout_seconds))
        .workers(workers)
        .listen(listener)?
        .shutdown_timeout(settings.server.shutdown_timeout_seconds);
        Ok(Self { port, server: server.run(), sweeper, reinspector, upkeep, follower, caches, storage })
    }

    #[must_use]
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The server's in-memory copies, to wait for their listener.
    #[must_use]
    pub fn caches(&self) -> Caches {
        self.caches.clone()
    }

    /// Serves until SIGTERM or Ctrl-C, then drains in-flight requests.
    ///
    /// # Errors
    /// When the server fails.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let served = self.server.await;
        self.sweeper.abort();
        self.reinspector.abort();
        self.upkeep.abort();
        drop(self.follower);
        // Uploads cut off by the shutdown abort their multipart uploads before we exit.
        self.storage.settled().await;
        served
    }
}

/// How often the metrics recorder folds its samples, scraped or not.
const METRICS_UPKEEP: Duration = Duration::from_secs(5);

/// Reads again the originals of images recorded before sizes were read as shown, from the
/// start, until none is left; while another server does it (or the database is away), tries
/// again every `every`.
async fn reinspect_until_done(images: Images, every: Duration) {
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        match images.reinspect().instrument(tracing::debug_span!("job.reinspect")).await {
            Ok(Some(_)) => return,
            Ok(None) => {}
            Err(e) => tracing::warn!(error = %e, "reading originals again failed; it goes on at the next interval"),
        }
    }
}

/// Removes the files recorded for removal, at start and then every `every`.
async fn sweep_every(images: Images, every: Duration) {
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        if let Err(e) = images.sweep().instrument(tracing::debug_span!("job.sweep")).await {
            tracing::warn!(error = %e, "the removal sweep failed; it runs again at the next interval");
        }
    }
}

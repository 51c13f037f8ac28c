use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use deadpool::Runtime;
use diesel_async::AsyncPgConnection;
use diesel_async::pooled_connection::deadpool::{Object, Pool, PoolError};
use diesel_async::pooled_connection::{AsyncDieselConnectionManager, ManagerConfig, RecyclingMethod};
use gallery_domain::RepoError;
use gallery_domain::ports::Clock;

use crate::cache::{Caches, Change};
use crate::catalog::Catalog;
use crate::errors::repo_error;

/// Pool sizing and the timeouts that turn a dead database into a quick 503, not a hang.
#[derive(Debug, Clone)]
pub struct PoolSettings {
    pub max_size: usize,
    /// How long a request waits for a free connection.
    pub wait_timeout: Duration,
    /// How long opening a new connection may take.
    pub connect_timeout: Duration,
}

impl Default for PoolSettings {
    fn default() -> Self {
        Self { max_size: 16, wait_timeout: Duration::from_secs(5), connect_timeout: Duration::from_secs(3) }
    }
}

/// The connection pool every repository shares.
#[derive(Clone)]
pub struct Db {
    pool: Pool<AsyncPgConnection>,
    pub(crate) catalog: Arc<Catalog>,
    /// Rows kept in memory, shared by every pool of the server (see [`Db::with_caches`]).
    pub(crate) caches: Caches,
    /// The service's one clock: every timestamp a repository writes comes from it.
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let status = self.pool.status();
        f.debug_struct("Db").field("size", &status.size).field("available", &status.available).finish()
    }
}

pub(crate) type Conn = Object<AsyncPgConnection>;

impl Db {
    /// Builds the pool. Connections open lazily, so this succeeds while the database is
    /// down; requests then answer `Unavailable` until it is back.
    ///
    /// # Errors
    /// When the pool cannot be built (a bad size).
    pub fn new(url: &str, settings: &PoolSettings, clock: Arc<dyn Clock>) -> Result<Self, String> {
        // `Fast` recycling: a pooled connection is checked for a broken transaction or a
        // closed socket, not pinged with `SELECT 1` on every checkout (a round trip per
        // request). A connection the server closed is noticed and replaced.
        let mut config = ManagerConfig::default();
        config.recycling_method = RecyclingMethod::Fast;
        let manager = AsyncDieselConnectionManager::<AsyncPgConnection>::new_with_config(url, config);
        let pool = Pool::builder(manager)
            .max_size(settings.max_size)
            .wait_timeout(Some(settings.wait_timeout))
            .create_timeout(Some(settings.connect_timeout))
            .recycle_timeout(Some(settings.connect_timeout))
            .runtime(Runtime::Tokio1)
            .build()
            .map_err(|e| format!("building the database pool: {e}"))?;
        Ok(Self { pool, catalog: Arc::default(), caches: Caches::default(), clock })
    }

    /// Shares `caches` with other pools of the same server. Until their listener runs
    /// ([`Caches::listen`]), they are bypassed: every read goes to the database.
    #[must_use]
    pub fn with_caches(mut self, caches: Caches) -> Self {
        self.caches = caches;
        self
    }

    pub(crate) fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    pub(crate) async fn conn(&self) -> Result<Conn, RepoError> {
        self.pool.get().await.map_err(|e| match e {
            PoolError::Timeout(_) => RepoError::Unavailable("timed out waiting for a database connection".into()),
            other => RepoError::Unavailable(other.to_string()),
        })
    }

    /// Forgets what a write of this server just committed made wrong, at once: the
    /// announcement of it reaches this server's listener too, but a little later.
    pub(crate) fn changed(&self, change: Change) {
        self.caches.apply(change);
    }

    /// Announces `payload` on the caches' channel, to every server's listener.
    #[cfg(feature = "testing")]
    pub(crate) async fn announce(&self, payload: &str) -> Result<(), RepoError> {
        use diesel::sql_types::Text;
        use diesel_async::RunQueryDsl as _;
        let mut conn = self.conn().await?;
        diesel::sql_query("SELECT pg_notify($1, $2)")
            .bind::<Text, _>(crate::cache::CHANNEL)
            .bind::<Text, _>(payload)
            .execute(&mut conn)
            .await
            .map(|_| ())
            .map_err(repo_error)
    }

    /// Runs `SELECT 1`, for the readiness probe.
    ///
    /// # Errors
    /// `Unavailable` when the database does not answer.
    pub async fn ping(&self) -> Result<(), RepoError> {
        use diesel_async::RunQueryDsl as _;
        let mut conn = self.conn().await?;
        diesel::sql_query("SELECT 1").execute(&mut conn).await.map(|_| ()).map_err(repo_error)
    }

    /// (in use, idle, waiting) connections, for metrics.
    #[must_use]
    pub fn pool_status(&self) -> (usize, usize, usize) {
        let s = self.pool.status();
        (s.size.saturating_sub(s.available), s.available, s.waiting)
    }
}

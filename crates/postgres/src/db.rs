use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use deadpool::Runtime;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use diesel_async::AsyncPgConnection;
use diesel_async::pooled_connection::deadpool::{Object, Pool, PoolError};
use diesel_async::pooled_connection::{AsyncDieselConnectionManager, ManagerConfig, RecyclingMethod};
use gallery_domain::ports::Clock;
use gallery_domain::{Conflict, Referenced, RepoError};

use crate::catalog::Catalog;

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
        Ok(Self { pool, catalog: Arc::default(), clock })
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

/// The one translation of Diesel errors into the port's terms.
pub(crate) fn repo_error(err: DieselError) -> RepoError {
    match err {
        DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, info) => {
            RepoError::Conflict(match info.constraint_name() {
                Some("users_username_lower_key") => Conflict::Username,
                Some("roles_name_key") => Conflict::RoleName,
                Some("plans_code_key") => Conflict::PlanCode,
                _ => Conflict::Unique,
            })
        }
        DieselError::DatabaseError(DatabaseErrorKind::ForeignKeyViolation, info) => {
            RepoError::InUse(match info.constraint_name() {
                Some("users_role_id_fkey") => Referenced::Role,
                Some("images_uploaded_by_fkey") => Referenced::Images,
                Some("subscriptions_plan_id_fkey") => Referenced::Plan,
                _ => Referenced::Other,
            })
        }
        DieselError::DatabaseError(DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand, _)
        | DieselError::BrokenTransactionManager => RepoError::Unavailable("the database connection was lost".into()),
        DieselError::DatabaseError(DatabaseErrorKind::Unknown, info) if is_connection_failure(info.message()) => {
            RepoError::Unavailable(info.message().to_owned())
        }
        other => RepoError::Other(other.to_string()),
    }
}

fn is_connection_failure(message: &str) -> bool {
    ["connection closed", "connection reset", "terminating connection", "error communicating"]
        .iter()
        .any(|m| message.contains(m))
}

/// Errors inside a transaction: Diesel's, or a rule the transaction found broken.
#[derive(Debug)]
pub(crate) enum TxError {
    Diesel(DieselError),
    Rule(RepoError),
}

impl From<DieselError> for TxError {
    fn from(err: DieselError) -> Self {
        Self::Diesel(err)
    }
}

impl From<TxError> for RepoError {
    fn from(err: TxError) -> Self {
        match err {
            TxError::Diesel(e) => repo_error(e),
            TxError::Rule(e) => e,
        }
    }
}

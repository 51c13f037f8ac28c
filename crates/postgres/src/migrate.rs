use diesel::Connection as _;
use diesel::RunQueryDsl as _;
use diesel_async::AsyncPgConnection;
use diesel_async::async_connection_wrapper::AsyncConnectionWrapper;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness as _, embed_migrations};

const MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations");

/// The advisory lock `gallery migrate` holds while it migrates: two servers started at once
/// take turns, and the second finds nothing left to apply.
const MIGRATION_LOCK: i64 = 0x6761_6c6c_6572_7901; // "gallery" 1

/// Applies every pending migration; returns the versions applied. Holds an advisory lock
/// meanwhile, so that concurrent runs (several servers starting together) apply each
/// migration once.
///
/// Runs on the blocking pool: the migration harness is synchronous, and diesel-async's own
/// async harness uses `block_in_place`, which panics on a current-thread runtime.
///
/// # Errors
/// When the database cannot be reached or a migration fails.
pub async fn migrate(url: &str) -> Result<Vec<String>, Box<dyn std::error::Error + Send + Sync>> {
    let url = url.to_owned();
    tokio::task::spawn_blocking(move || {
        let mut conn = AsyncConnectionWrapper::<AsyncPgConnection>::establish(&url)?;
        diesel::sql_query(format!("SELECT pg_advisory_lock({MIGRATION_LOCK})")).execute(&mut conn)?;
        let applied = conn.run_pending_migrations(MIGRATIONS).map(|a| a.iter().map(ToString::to_string).collect());
        // Closing the connection would release it too; say so at once.
        diesel::sql_query(format!("SELECT pg_advisory_unlock({MIGRATION_LOCK})")).execute(&mut conn)?;
        applied
    })
    .await?
}

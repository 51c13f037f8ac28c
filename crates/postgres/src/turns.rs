//! Work one server at a time does (the sweep, reading originals again): a session-level
//! advisory lock per kind of work.

use async_trait::async_trait;
use diesel_async::RunQueryDsl;
use gallery_domain::RepoError;
use gallery_domain::ports::Turn;

use crate::db::Db;
use crate::errors::repo_error;

diesel::define_sql_function!(fn pg_try_advisory_lock(key: diesel::sql_types::BigInt) -> diesel::sql_types::Bool);
diesel::define_sql_function!(fn pg_advisory_unlock(key: diesel::sql_types::BigInt) -> diesel::sql_types::Bool);

/// The turn at the work `key` names, or `None` while another server has it.
pub(crate) async fn try_turn(db: &Db, key: i64) -> Result<Option<Box<dyn Turn>>, RepoError> {
    let mut conn = db.conn().await?;
    let taken: bool = diesel::select(pg_try_advisory_lock(key)).get_result(&mut conn).await.map_err(repo_error)?;
    Ok(taken.then(|| {
        let conn = diesel_async::pooled_connection::deadpool::Object::take(conn);
        Box::new(PgTurn { conn, key }) as Box<dyn Turn>
    }))
}

/// A session-level advisory lock, on a connection taken out of the pool for as long as it
/// is held: should the server die holding it, its connection closes and the lock goes.
struct PgTurn {
    conn: diesel_async::AsyncPgConnection,
    key: i64,
}

#[async_trait]
impl Turn for PgTurn {
    async fn end(mut self: Box<Self>) {
        if let Err(e) = diesel::select(pg_advisory_unlock(self.key)).execute(&mut self.conn).await {
            // Harmless: the connection closes now, and the lock with it.
            tracing::warn!(error = %e, "could not release an advisory lock; closing its connection");
        }
    }
}

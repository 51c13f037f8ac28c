//! Work one server at a time does (the sweep, reading originals again): a session-level
//! advisory lock per kind of work. And the pin an upload holds on its file's key while it
//! records the image, which the sweep must get before removing that file: a session-level
//! advisory lock per key, in the two-number space (which never meets the one-number one).

use async_trait::async_trait;
use diesel_async::RunQueryDsl;
use gallery_domain::RepoError;
use gallery_domain::ports::Turn;

use diesel::QueryableByName;
use diesel::sql_types::{Bool, Integer, Text};
use diesel_async::pooled_connection::deadpool::Object;

use crate::db::{Conn, Db};
use crate::errors::repo_error;

diesel::define_sql_function!(fn pg_try_advisory_lock(key: diesel::sql_types::BigInt) -> diesel::sql_types::Bool);
diesel::define_sql_function!(fn pg_advisory_unlock(key: diesel::sql_types::BigInt) -> diesel::sql_types::Bool);

/// The first number of every key pin: "gall".
const PIN_CLASS: i32 = 0x6761_6c6c;

/// The first number of every key pin, for statements that take one themselves.
pub(crate) const PIN_CLASS_ID: i32 = PIN_CLASS;

/// The pin on `key` that `conn`'s session has just taken.
pub(crate) fn held(conn: Conn, key: &str) -> Box<dyn Turn> {
    Box::new(PgPin { conn: Some(conn), key: key.to_owned() })
}

/// The pin on `key`, when nobody holds it; `None` otherwise.
///
/// # Errors
/// Store failures only.
pub(crate) async fn try_pin(mut conn: Conn, key: &str) -> Result<Option<PgPin>, RepoError> {
    #[derive(QueryableByName)]
    struct Taken {
        #[diesel(sql_type = Bool)]
        taken: bool,
    }
    let Taken { taken } = diesel::sql_query("SELECT pg_try_advisory_lock($1, hashtext($2)) AS taken")
        .bind::<Integer, _>(PIN_CLASS)
        .bind::<Text, _>(key)
        .get_result(&mut conn)
        .await
        .map_err(repo_error)?;
    Ok(taken.then(|| PgPin { conn: Some(conn), key: key.to_owned() }))
}

/// A key's pin, on a pooled connection: ended, it unlocks and the connection goes back to
/// the pool; dropped unended (a task that died), the connection is closed, and the lock
/// goes with it.
pub(crate) struct PgPin {
    conn: Option<Conn>,
    key: String,
}

#[async_trait]
impl Turn for PgPin {
    #[tracing::instrument(name = "Turn.end", level = "debug", skip_all)]
    async fn end(mut self: Box<Self>) {
        let Some(mut conn) = self.conn.take() else { return };
        let unlocked = diesel::sql_query("SELECT pg_advisory_unlock($1, hashtext($2))")
            .bind::<Integer, _>(PIN_CLASS)
            .bind::<Text, _>(&self.key)
            .execute(&mut conn)
            .await;
        if let Err(e) = unlocked {
            tracing::warn!(error = %e, "could not let go of a file's pin; closing its connection");
            drop(Object::take(conn));
        }
    }
}

impl Drop for PgPin {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            // Never back to the pool with the lock held.
            drop(Object::take(conn));
        }
    }
}

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
    #[tracing::instrument(name = "Turn.end", level = "debug", skip_all)]
    async fn end(mut self: Box<Self>) {
        if let Err(e) = diesel::select(pg_advisory_unlock(self.key)).execute(&mut self.conn).await {
            // Harmless: the connection closes now, and the lock with it.
            tracing::warn!(error = %e, "could not release an advisory lock; closing its connection");
        }
    }
}

//! [`RemovalRepo`] on PostgreSQL: the `blob_removals` table. Deleting image rows records
//! their files there by trigger, in the deleting transaction; inserting an image row takes
//! its file's record back (see the migration `hardening`).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Integer, Text, Timestamptz};
use diesel_async::RunQueryDsl;
use gallery_domain::ports::{RemovalRepo, Turn};
use gallery_domain::{BlobKey, RepoError};

use crate::db::Db;
use crate::errors::repo_error;
use crate::schema::{blob_removals, images};
use crate::turns::{PIN_CLASS_ID, held, try_pin, try_turn};

/// [`RemovalRepo`] on PostgreSQL.
#[derive(Debug, Clone)]
pub struct PgRemovalRepo {
    db: Db,
    pins: Db,
}

impl PgRemovalRepo {
    /// Records and pins on `db`.
    #[must_use]
    pub fn new(db: Db) -> Self {
        Self { pins: db.clone(), db }
    }

    /// Pins (and the sweep's claims) on a pool of their own: a pin holds its connection
    /// while the upload records its image on another, and must never hold the last one.
    #[must_use]
    pub fn with_pins(self, pins: Db) -> Self {
        Self { pins, ..self }
    }
}

/// The advisory lock a sweeping server holds: one sweeps at a time.
const SWEEP_LOCK: i64 = 0x6761_6c6c_6572_7902; // "gallery" 2

#[async_trait]
impl RemovalRepo for PgRemovalRepo {
    #[tracing::instrument(name = "RemovalRepo.schedule", level = "debug", skip_all)]
    async fn schedule(&self, key: &BlobKey, due_at: DateTime<Utc>) -> Result<Box<dyn Turn>, RepoError> {
        // The record and the pin in one round trip, on the pin's own connection.
        let mut conn = self.pins.conn().await?;
        diesel::sql_query(
            "WITH scheduled AS (INSERT INTO blob_removals (key, due_at) VALUES ($1, $2) \
             ON CONFLICT (key) DO UPDATE SET due_at = LEAST(blob_removals.due_at, EXCLUDED.due_at)) \
             SELECT pg_advisory_lock($3, hashtext($1))",
        )
        .bind::<Text, _>(key.as_str())
        .bind::<Timestamptz, _>(due_at)
        .bind::<Integer, _>(PIN_CLASS_ID)
        .execute(&mut conn)
        .await
        .map_err(repo_error)?;
        Ok(held(conn, key.as_str()))
    }

    #[tracing::instrument(name = "RemovalRepo.claim", level = "debug", skip_all)]
    async fn claim(&self, key: &BlobKey, now: DateTime<Utc>) -> Result<Option<Box<dyn Turn>>, RepoError> {
        let Some(pinned) = try_pin(self.pins.conn().await?, key.as_str()).await? else {
            return Ok(None); // an upload still records its image
        };
        // Pinned now, nothing can record the key any more: is it still the sweep's?
        let mut conn = self.db.conn().await?;
        let claimed = images::table.filter(images::storage_key.eq(key.as_str()));
        let still_due: bool = diesel::select(diesel::dsl::exists(
            blob_removals::table
                .filter(blob_removals::key.eq(key.as_str()))
                .filter(blob_removals::due_at.le(now))
                .filter(diesel::dsl::not(diesel::dsl::exists(claimed))),
        ))
        .get_result(&mut conn)
        .await
        .map_err(repo_error)?;
        drop(conn);
        let pinned: Box<dyn Turn> = Box::new(pinned);
        if still_due {
            Ok(Some(pinned))
        } else {
            pinned.end().await;
            Ok(None)
        }
    }

    #[tracing::instrument(name = "RemovalRepo.due", level = "debug", skip_all)]
    async fn due(&self, now: DateTime<Utc>, limit: u32) -> Result<Vec<BlobKey>, RepoError> {
        let mut conn = self.db.conn().await?;
        let claimed = images::table.filter(images::storage_key.eq(blob_removals::key));
        let keys: Vec<String> = blob_removals::table
            .filter(blob_removals::due_at.le(now))
            .filter(diesel::dsl::not(diesel::dsl::exists(claimed)))
            .order(blob_removals::due_at)
            .limit(i64::from(limit))
            .select(blob_removals::key)
            .load(&mut conn)
            .await
            .map_err(repo_error)?;
        keys.iter()
            .map(|k| BlobKey::parse(k).map_err(|_| RepoError::Other(format!("a removal record holds a bad key `{k}`"))))
            .collect()
    }

    #[tracing::instrument(name = "RemovalRepo.done", level = "debug", skip_all)]
    async fn done(&self, key: &BlobKey) -> Result<(), RepoError> {
        let mut conn = self.db.conn().await?;
        diesel::delete(blob_removals::table.find(key.as_str())).execute(&mut conn).await.map_err(repo_error)?;
        Ok(())
    }

    #[tracing::instrument(name = "RemovalRepo.sweep_turn", level = "debug", skip_all)]
    async fn sweep_turn(&self) -> Result<Option<Box<dyn Turn>>, RepoError> {
        try_turn(&self.db, SWEEP_LOCK).await
    }
}

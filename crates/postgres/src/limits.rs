//! [`RateCounter`] and [`UploadSlotRepo`] on PostgreSQL: the unlogged tables `rate_limits`
//! and `upload_slots` (migration `shared_limits`), so that every server counts the same.

use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::pg::data_types::PgInterval;
use diesel::prelude::*;
use diesel::sql_types::{Integer, Text, Timestamptz, Uuid as SqlUuid};
use diesel_async::{AsyncConnection as _, RunQueryDsl};
use gallery_domain::ports::{Allowance, RateCounter, SlotId, SlotTake, UploadSlotRepo};
use gallery_domain::{RepoError, UserId};

use crate::db::Db;
use crate::errors::{TxError, repo_error};
use crate::schema::rate_limits;

diesel::define_sql_function!(fn greatest(a: Timestamptz, b: Timestamptz) -> Timestamptz);

/// Rows of keys idle long enough to be the same as none are deleted every this many takes.
const CLEANUP_EVERY: u64 = 4096;

const MINUTE: chrono::TimeDelta = chrono::TimeDelta::minutes(1);

/// Keys this counter saw refused, and until when, at most this many.
const DENIALS_HELD: usize = 10_000;

/// [`RateCounter`] on PostgreSQL: one row per key holding its GCRA arrival time.
///
/// A key found exhausted is refused from memory until its wait is over: other servers'
/// attempts can only move its arrival time later, so the wait can only be longer, never
/// shorter, and a client hammering a limit costs the database nothing more. (Every
/// in-memory cache: `docs/architecture.md`, "Caches, on one page".)
#[derive(Clone)]
pub struct PgRateCounter {
    db: Db,
    takes: std::sync::Arc<AtomicU64>,
    denied: std::sync::Arc<quick_cache::sync::Cache<String, DateTime<Utc>>>,
}

impl std::fmt::Debug for PgRateCounter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgRateCounter").field("denied", &self.denied.len()).finish_non_exhaustive()
    }
}

impl PgRateCounter {
    #[must_use]
    pub fn new(db: Db) -> Self {
        Self {
            db,
            takes: std::sync::Arc::default(),
            denied: std::sync::Arc::new(quick_cache::sync::Cache::new(DENIALS_HELD)),
        }
    }

    /// The refusal held for `key` at `now`, if any.
    fn held_denial(&self, key: &str, now: DateTime<Utc>) -> Option<Allowance> {
        let until = self.denied.get(key)?;
        match (until - now).to_std() {
            Ok(left) if !left.is_zero() => Some(Allowance::Exhausted(left.max(Duration::from_secs(1)))),
            _ => {
                self.denied.remove(key);
                None
            }
        }
    }

    /// Notes a refusal, to be repeated from memory until its wait is over.
    fn hold(&self, key: &str, now: DateTime<Utc>, allowance: Allowance) -> Allowance {
        if let Allowance::Exhausted(wait) = allowance {
            if let Ok(wait) = chrono::TimeDelta::from_std(wait) {
                self.denied.insert(key.to_owned(), now + wait);
            }
        }
        allowance
    }
}

/// The spacing of `per_minute` attempts, in microseconds.
fn spacing(per_minute: NonZeroU32) -> i64 {
    60_000_000 / i64::from(per_minute.get())
}

/// Whether one more attempt fits when the key's arrival time is `tat` (none: never tried).
fn allowance(tat: Option<DateTime<Utc>>, now: DateTime<Utc>, per_minute: NonZeroU32) -> Allowance {
    let next = tat.map_or(now, |t| t.max(now)) + chrono::TimeDelta::microseconds(spacing(per_minute));
    let over = next - (now + MINUTE);
    if over <= chrono::TimeDelta::zero() {
        Allowance::Granted
    } else {
        Allowance::Exhausted(over.to_std().unwrap_or_default().max(Duration::from_secs(1)))
    }
}

impl PgRateCounter {
    async fn tat(&self, key: &str) -> Result<Option<DateTime<Utc>>, RepoError> {
        let mut conn = self.db.conn().await?;
        rate_limits::table.find(key).select(rate_limits::tat).first(&mut conn).await.optional().map_err(repo_error)
    }
}

#[async_trait]
impl RateCounter for PgRateCounter {
    #[tracing::instrument(name = "RateCounter.take", level = "debug", skip_all)]
    async fn take(&self, key: &str, per_minute: NonZeroU32) -> Result<Allowance, RepoError> {
        let now = self.db.now();
        if let Some(refused) = self.held_denial(key, now) {
            return Ok(refused);
        }
        let mut conn = self.db.conn().await?;
        if self.takes.fetch_add(1, Ordering::Relaxed) % CLEANUP_EVERY == CLEANUP_EVERY - 1 {
            diesel::delete(rate_limits::table.filter(rate_limits::tat.lt(now)))
                .execute(&mut conn)
                .await
                .map_err(repo_error)?;
        }
        // One statement (built by Diesel, so prepared once per connection): the arrival
        // time moves on only when the attempt fits.
        let step = spacing(per_minute);
        let next = greatest(rate_limits::tat, now) + PgInterval::from_microseconds(step);
        let upsert = diesel::insert_into(rate_limits::table)
            .values((rate_limits::key.eq(key), rate_limits::tat.eq(now + chrono::TimeDelta::microseconds(step))))
            .on_conflict(rate_limits::key)
            .do_update()
            .set(rate_limits::tat.eq(next));
        let taken: Vec<DateTime<Utc>> = diesel::query_dsl::methods::FilterDsl::filter(upsert, next.le(now + MINUTE))
            .returning(rate_limits::tat)
            .get_results(&mut conn)
            .await
            .map_err(repo_error)?;
        drop(conn);
        if !taken.is_empty() {
            return Ok(Allowance::Granted);
        }
        let refused = match allowance(self.tat(key).await?, now, per_minute) {
            Allowance::Granted => Allowance::Exhausted(Duration::from_secs(1)), // it moved meanwhile
            refused => refused,
        };
        Ok(self.hold(key, now, refused))
    }

    #[tracing::instrument(name = "RateCounter.peek", level = "debug", skip_all)]
    async fn peek(&self, key: &str, per_minute: NonZeroU32) -> Result<Allowance, RepoError> {
        let now = self.db.now();
        if let Some(refused) = self.held_denial(key, now) {
            return Ok(refused);
        }
        Ok(self.hold(key, now, allowance(self.tat(key).await?, now, per_minute)))
    }

    #[tracing::instrument(name = "RateCounter.forget", level = "debug", skip_all)]
    async fn forget(&self, key: &str) -> Result<(), RepoError> {
        self.denied.remove(key);
        let mut conn = self.db.conn().await?;
        diesel::delete(rate_limits::table.find(key)).execute(&mut conn).await.map(drop).map_err(repo_error)
    }
}

/// [`UploadSlotRepo`] on PostgreSQL: one row per upload in progress. It counts them for
/// `/metrics` too: `gallery_uploads_in_progress`, and refusals in
/// `gallery_rate_limited_total{scope="uploads"}`.
#[derive(Debug, Clone)]
pub struct PgUploadSlots {
    db: Db,
}

impl PgUploadSlots {
    #[must_use]
    pub fn new(db: Db) -> Self {
        Self { db }
    }
}

#[async_trait]
impl UploadSlotRepo for PgUploadSlots {
    #[tracing::instrument(name = "UploadSlotRepo.take", level = "debug", skip_all)]
    async fn take(&self, user: UserId, per_user: u32, until: DateTime<Utc>) -> Result<SlotTake, RepoError> {
        #[derive(QueryableByName)]
        struct Soonest {
            #[diesel(sql_type = diesel::sql_types::Nullable<Timestamptz>)]
            soonest: Option<DateTime<Utc>>,
        }
        let now = self.db.now();
        let slot = uuid::Uuid::new_v4();
        let mut conn = self.db.conn().await?;
        let taken = conn
            .transaction(async |c| {
                // One taker per user at a time, on whichever server: the count and the
                // insert cannot interleave with another's.
                diesel::sql_query("SELECT pg_advisory_xact_lock(hashtextextended($1, 1))")
                    .bind::<Text, _>(user.to_string())
                    .execute(c)
                    .await?;
                diesel::sql_query("DELETE FROM upload_slots WHERE user_id = $1 AND expires_at <= $2")
                    .bind::<SqlUuid, _>(user.as_uuid())
                    .bind::<Timestamptz, _>(now)
                    .execute(c)
                    .await?;
                let inserted = diesel::sql_query(
                    "INSERT INTO upload_slots (id, user_id, expires_at) SELECT $1, $2, $3 \
                     WHERE (SELECT count(*) FROM upload_slots WHERE user_id = $2) < $4",
                )
                .bind::<SqlUuid, _>(slot)
                .bind::<SqlUuid, _>(user.as_uuid())
                .bind::<Timestamptz, _>(until)
                .bind::<Integer, _>(i32::try_from(per_user).unwrap_or(i32::MAX))
                .execute(c)
                .await?;
                if inserted == 1 {
                    return Ok::<_, TxError>(SlotTake::Taken(SlotId(slot)));
                }
                let Soonest { soonest } =
                    diesel::sql_query("SELECT min(expires_at) AS soonest FROM upload_slots WHERE user_id = $1")
                        .bind::<SqlUuid, _>(user.as_uuid())
                        .get_result(c)
                        .await?;
                Ok(SlotTake::AllHeld { free_by: soonest.unwrap_or(now) })
            })
            .await
            .map_err(RepoError::from)?;
        match taken {
            SlotTake::Taken(_) => metrics::gauge!("gallery_uploads_in_progress").increment(1.0),
            SlotTake::AllHeld { .. } => {
                metrics::counter!("gallery_rate_limited_total", "scope" => "uploads").increment(1);
            }
        }
        Ok(taken)
    }

    #[tracing::instrument(name = "UploadSlotRepo.give_back", level = "debug", skip_all)]
    async fn give_back(&self, slot: SlotId) -> Result<(), RepoError> {
        // The upload has ended, whether or not its row goes now (else it expires).
        metrics::gauge!("gallery_uploads_in_progress").decrement(1.0);
        let mut conn = self.db.conn().await?;
        diesel::sql_query("DELETE FROM upload_slots WHERE id = $1")
            .bind::<SqlUuid, _>(slot.0)
            .execute(&mut conn)
            .await
            .map(drop)
            .map_err(repo_error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn per_minute(n: u32) -> NonZeroU32 {
        NonZeroU32::new(n).unwrap()
    }

    #[test]
    fn a_fresh_key_and_a_spent_one_are_allowed_and_a_full_one_waits() {
        let now = Utc::now();
        assert_eq!(allowance(None, now, per_minute(3)), Allowance::Granted);
        assert_eq!(allowance(Some(now - MINUTE), now, per_minute(3)), Allowance::Granted, "long idle");
        // Three taken at once: arrival time 60 s ahead; the next fits 20 s from now.
        match allowance(Some(now + MINUTE), now, per_minute(3)) {
            Allowance::Exhausted(wait) => assert_eq!(wait, Duration::from_secs(20)),
            Allowance::Granted => panic!("a burst of three is all three allow"),
        }
        assert_eq!(allowance(Some(now + chrono::TimeDelta::seconds(40)), now, per_minute(3)), Allowance::Granted);
    }
}

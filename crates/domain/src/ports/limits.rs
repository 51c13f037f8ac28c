//! Limits counted where every server sees them: how often a client may try something, and
//! how many uploads one user has in progress. Behind one address, a client's requests
//! reach any server; a count kept in one process's memory would let it try N times more.

use std::num::NonZeroU32;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::{RepoError, UserId};

/// The answer of a rate limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Allowance {
    Granted,
    /// Refused; the next attempt is allowed after this long.
    Exhausted(Duration),
}

/// Rate limits by key, as GCRA: `per_minute` attempts spread over the minute, with bursts
/// of up to `per_minute` at once.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait RateCounter: Send + Sync {
    /// Counts one attempt against `key`, unless its allowance is used up.
    ///
    /// # Errors
    /// Store failures only.
    async fn take(&self, key: &str, per_minute: NonZeroU32) -> Result<Allowance, RepoError>;

    /// Whether an attempt would be allowed now, without counting one.
    ///
    /// # Errors
    /// Store failures only.
    async fn peek(&self, key: &str, per_minute: NonZeroU32) -> Result<Allowance, RepoError>;

    /// Starts `key` afresh.
    ///
    /// # Errors
    /// Store failures only.
    async fn forget(&self, key: &str) -> Result<(), RepoError>;
}

/// A turn to run an upload or import on this process, given back when it drops.
pub type UploadTurn = Box<dyn Send + Sync>;

/// This process's share of uploads and imports running at once (`server.max_concurrent_uploads`):
/// unlike the slots, counted per process, because it guards this server's CPU and memory.
#[async_trait]
pub trait UploadTurns: Send + Sync {
    /// Waits for a turn; it is held until the returned [`UploadTurn`] drops.
    async fn wait(&self) -> UploadTurn;
}

/// One upload or import in progress, counted against its user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlotId(pub Uuid);

/// What asking for a slot got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlotTake {
    Taken(SlotId),
    /// Every one of the user's slots is held; the first is free by this time at the latest
    /// (its lease ends, should its upload not end first).
    AllHeld {
        free_by: DateTime<Utc>,
    },
}

/// Uploads in progress per user, across servers.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait UploadSlotRepo: Send + Sync {
    /// Takes one of `user`'s `per_user` slots, held until given back or until `until` (a
    /// server that died holding it); when all are held, says by when one is free at the
    /// latest (the soonest lease's end).
    ///
    /// # Errors
    /// Store failures only.
    async fn take(&self, user: UserId, per_user: u32, until: DateTime<Utc>) -> Result<SlotTake, RepoError>;

    /// # Errors
    /// Store failures only.
    async fn give_back(&self, slot: SlotId) -> Result<(), RepoError>;
}

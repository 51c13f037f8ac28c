//! Upload admission: how many uploads and imports one user may have in progress at once,
//! counted on every server ([`UploadSlotRepo`]), so that one user's slow uploads never hold
//! every slot a server has; then a turn among this process's ([`UploadTurns`]).
//!
//! The slot comes first: it is a database round trip, and made while holding a turn it
//! would keep that turn from work (4 % of upload throughput, `scripts/bench-house.sh`); and
//! a user past their slots never queues for a turn.

use std::sync::Arc;
use std::time::Duration;

use crate::ports::{Clock, SlotId, Tasks, UploadSlotRepo, UploadTurn, UploadTurns};
use crate::{DomainError, UserId};

/// How long a user told to wait for a slot is asked to wait.
const SLOT_RETRY: Duration = Duration::from_secs(5);

/// The rule: at most `per_user` uploads in progress for one user, each slot held until its
/// upload ends or, should the server holding it die, until its lease runs out.
#[derive(Clone)]
pub(super) struct Admission {
    slots: Arc<dyn UploadSlotRepo>,
    turns: Arc<dyn UploadTurns>,
    clock: Arc<dyn Clock>,
    tasks: Arc<dyn Tasks>,
    per_user: u32,
    lease: chrono::TimeDelta,
}

impl Admission {
    pub(super) fn new(
        slots: Arc<dyn UploadSlotRepo>,
        turns: Arc<dyn UploadTurns>,
        clock: Arc<dyn Clock>,
        tasks: Arc<dyn Tasks>,
        per_user: u32,
        lease: chrono::TimeDelta,
    ) -> Self {
        Self { slots, turns, clock, tasks, per_user: per_user.max(1), lease }
    }

    /// One of `user`'s slots, then a turn, both held until the returned [`Slot`] drops.
    ///
    /// # Errors
    /// `RateLimited` when every one of the user's slots is held; `Unavailable` when the
    /// count cannot be read.
    pub(super) async fn admit(&self, user: UserId) -> Result<Slot, DomainError> {
        let until = self.clock.now() + self.lease;
        let Some(id) = self.slots.take(user, self.per_user, until).await? else {
            return Err(DomainError::RateLimited(SLOT_RETRY));
        };
        // Held from here: an upload dropped while it waits for its turn gives the slot back.
        let mut slot = Slot { id, slots: self.slots.clone(), tasks: self.tasks.clone(), _turn: None };
        slot._turn = Some(self.turns.wait().await);
        Ok(slot)
    }
}

/// One upload's slot; dropping it gives it back, in a task of its own (the request that
/// held it may be gone).
pub(super) struct Slot {
    id: SlotId,
    slots: Arc<dyn UploadSlotRepo>,
    tasks: Arc<dyn Tasks>,
    _turn: Option<UploadTurn>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let (slots, id) = (self.slots.clone(), self.id);
        self.tasks.spawn(Box::pin(async move {
            if let Err(e) = slots.give_back(id).await {
                // Not lost: the slot expires with its lease.
                tracing::warn!(error = %e, "could not give an upload slot back; it is free once its lease ends");
            }
        }));
    }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone as _, Utc};

    use super::*;
    use crate::ports::{MockClock, MockUploadSlotRepo};
    use crate::testing::{FreeTurns, Held};

    fn free_turns() -> Arc<FreeTurns> {
        Arc::new(FreeTurns)
    }

    /// Turns that must never be asked for: a user past their slots does not queue.
    struct NoTurn;

    #[async_trait::async_trait]
    impl UploadTurns for NoTurn {
        async fn wait(&self) -> UploadTurn {
            panic!("a turn was waited for")
        }
    }

    fn no_turn() -> Arc<NoTurn> {
        Arc::new(NoTurn)
    }

    fn clock() -> Arc<MockClock> {
        let mut clock = MockClock::new();
        clock.expect_now().returning(|| Utc.with_ymd_and_hms(2026, 6, 1, 0, 0, 0).unwrap());
        Arc::new(clock)
    }

    #[tokio::test]
    async fn a_slot_is_leased_from_the_clock_and_given_back_when_it_drops() {
        let user = UserId::generate();
        let slot = SlotId(uuid::Uuid::new_v4());
        let mut slots = MockUploadSlotRepo::new();
        slots
            .expect_take()
            .withf(move |u, per_user, until| {
                *u == user && *per_user == 2 && *until == Utc.with_ymd_and_hms(2026, 6, 1, 0, 3, 0).unwrap()
            })
            .times(1)
            .returning(move |_, _, _| Ok(Some(slot)));
        slots.expect_give_back().withf(move |s| *s == slot).times(1).returning(|_| Ok(()));
        let held = Arc::new(Held::default());
        let admission =
            Admission::new(Arc::new(slots), free_turns(), clock(), held.clone(), 2, chrono::TimeDelta::minutes(3));
        let taken = admission.admit(user).await.unwrap();
        drop(taken);
        held.run().await; // the give-back, expected once above
    }

    #[tokio::test]
    async fn one_upload_past_the_limit_is_told_when_to_retry() {
        let mut slots = MockUploadSlotRepo::new();
        slots.expect_take().returning(|_, _, _| Ok(None));
        slots.expect_give_back().never();
        let admission = Admission::new(
            Arc::new(slots),
            no_turn(),
            clock(),
            Arc::new(Held::default()),
            1,
            chrono::TimeDelta::minutes(3),
        );
        let refused = admission.admit(UserId::generate()).await.err();
        assert!(matches!(refused, Some(DomainError::RateLimited(wait)) if wait == SLOT_RETRY), "{refused:?}");
    }

    #[tokio::test]
    async fn at_least_one_upload_is_allowed() {
        let mut slots = MockUploadSlotRepo::new();
        slots.expect_take().withf(|_, per_user, _| *per_user == 1).returning(|_, _, _| Ok(None));
        let admission = Admission::new(
            Arc::new(slots),
            no_turn(),
            clock(),
            Arc::new(Held::default()),
            0,
            chrono::TimeDelta::minutes(3),
        );
        assert!(admission.admit(UserId::generate()).await.is_err());
    }
}

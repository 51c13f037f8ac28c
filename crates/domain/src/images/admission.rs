//! Upload admission: how many uploads and imports one user may have in progress at once,
//! counted on every server ([`UploadSlotRepo`]), so that one user's slow uploads never hold
//! every slot a server has; then a turn among this process's ([`UploadTurns`]).
//!
//! The slot comes first: it is a database round trip, and made while holding a turn it
//! would keep that turn from work (4 % of upload throughput, `scripts/bench-house.sh`); and
//! a user past their slots never queues for a turn.

use std::sync::Arc;
use std::time::Duration;

use crate::ports::{Clock, SlotId, SlotTake, Tasks, UploadSlotRepo, UploadTurn, UploadTurns};
use crate::{DomainError, UserId};

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
        let now = self.clock.now();
        let id = match self.slots.take(user, self.per_user, now + self.lease).await? {
            SlotTake::Taken(id) => id,
            // Never shorter than the wait: a slot is free by then at the latest (sooner
            // when its upload ends first), in whole seconds, at least one.
            SlotTake::AllHeld { free_by } => {
                let wait = (free_by - now).to_std().unwrap_or_default();
                return Err(DomainError::RateLimited(Duration::from_secs(wait.as_secs_f64().ceil().max(1.0) as u64)));
            }
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
            .returning(move |_, _, _| Ok(SlotTake::Taken(slot)));
        slots.expect_give_back().withf(move |s| *s == slot).times(1).returning(|_| Ok(()));
        let held = Arc::new(Held::default());
        let admission =
            Admission::new(Arc::new(slots), free_turns(), clock(), held.clone(), 2, chrono::TimeDelta::minutes(3));
        let taken = admission.admit(user).await.unwrap();
        drop(taken);
        held.run().await; // the give-back, expected once above
    }

    /// An admission over `slots` that never reaches a turn (every slot is held).
    fn refusing(slots: MockUploadSlotRepo, per_user: u32) -> Admission {
        Admission::new(
            Arc::new(slots),
            no_turn(),
            clock(),
            Arc::new(Held::default()),
            per_user,
            chrono::TimeDelta::minutes(3),
        )
    }

    #[tokio::test]
    async fn one_upload_past_the_limit_is_told_when_a_slot_is_free_at_the_latest() {
        let mut slots = MockUploadSlotRepo::new();
        // The soonest lease ends 2 min 30.2 s from now (a server that died holding it).
        let free_by = Utc.with_ymd_and_hms(2026, 6, 1, 0, 2, 30).unwrap() + chrono::TimeDelta::milliseconds(200);
        slots.expect_take().returning(move |_, _, _| Ok(SlotTake::AllHeld { free_by }));
        slots.expect_give_back().never();
        let admission = refusing(slots, 1);
        let refused = admission.admit(UserId::generate()).await.err();
        let wait = Duration::from_secs(151);
        assert!(matches!(refused, Some(DomainError::RateLimited(w)) if w == wait), "rounded up: {refused:?}");
    }

    #[tokio::test]
    async fn at_least_one_upload_is_allowed() {
        let mut slots = MockUploadSlotRepo::new();
        slots
            .expect_take()
            .withf(|_, per_user, _| *per_user == 1)
            .returning(|_, _, _| Ok(SlotTake::AllHeld { free_by: Utc.with_ymd_and_hms(2026, 6, 1, 0, 0, 0).unwrap() }));
        let admission = refusing(slots, 0);
        assert!(admission.admit(UserId::generate()).await.is_err());
    }
}

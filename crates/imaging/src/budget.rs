//! The memory every decode in flight may hold (`images.decode_memory_bytes`), shared by the
//! checks of uploads and the renders of thumbnails. A decode whose header says it needs more
//! than is free waits, first come first served, until earlier ones give theirs back; one that
//! needs more than the whole budget waits until it is alone, then runs (`max_pixels` bounds
//! it). The wait is on a blocking-pool thread that already holds one of the decoders' turns
//! (`images.max_concurrent_decodes`), so at most that many threads ever wait.

use std::sync::{Arc, Condvar, Mutex, PoisonError};

/// A shared budget of decoded bytes.
#[derive(Debug, Clone)]
pub struct DecodeBudget {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    total: u64,
    state: Mutex<State>,
    turn: Condvar,
}

#[derive(Debug)]
struct State {
    free: u64,
    /// The ticket handed to the next decode that asks.
    next: u64,
    /// The ticket whose turn it is to take bytes.
    serving: u64,
}

/// Bytes held by one decode; given back when it drops.
#[derive(Debug)]
pub(crate) struct Lease {
    shared: Arc<Shared>,
    bytes: u64,
}

impl DecodeBudget {
    /// A budget of `total` bytes (at least one).
    #[must_use]
    pub fn new(total: u64) -> Self {
        let total = total.max(1);
        Self {
            shared: Arc::new(Shared {
                total,
                state: Mutex::new(State { free: total, next: 0, serving: 0 }),
                turn: Condvar::new(),
            }),
        }
    }

    /// A budget nothing waits on (tools and tests).
    #[must_use]
    pub fn unbounded() -> Self {
        Self::new(u64::MAX)
    }

    /// Blocks until `bytes` are free (all of the budget when `bytes` is more), in the order
    /// decodes asked.
    pub(crate) fn lease(&self, bytes: u64) -> Lease {
        let shared = &self.shared;
        let bytes = bytes.min(shared.total);
        let mut state = shared.state.lock().unwrap_or_else(PoisonError::into_inner);
        let ticket = state.next;
        state.next += 1;
        while state.serving != ticket || state.free < bytes {
            state = shared.turn.wait(state).unwrap_or_else(PoisonError::into_inner);
        }
        state.free -= bytes;
        state.serving += 1;
        drop(state);
        // The next in line may fit in what is left.
        shared.turn.notify_all();
        Lease { shared: Arc::clone(shared), bytes }
    }

    /// Bytes free now.
    #[must_use]
    pub fn free(&self) -> u64 {
        self.shared.state.lock().unwrap_or_else(PoisonError::into_inner).free
    }

    /// Decodes waiting for their bytes now.
    #[must_use]
    pub fn waiting(&self) -> u64 {
        let state = self.shared.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.next - state.serving
    }
}

/// Bytes of `width`×`height` pixels of `per_pixel` bytes each.
pub(crate) fn pixels(width: u32, height: u32, per_pixel: u64) -> u64 {
    u64::from(width) * u64::from(height) * per_pixel
}

impl Drop for Lease {
    fn drop(&mut self) {
        self.shared.state.lock().unwrap_or_else(PoisonError::into_inner).free += self.bytes;
        self.shared.turn.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc;

    use super::*;

    /// Spins until `budget` has `n` decodes waiting (a state, not a time, is waited for).
    fn until_waiting(budget: &DecodeBudget, n: u64) {
        while budget.waiting() != n {
            std::thread::yield_now();
        }
    }

    #[test]
    fn a_decode_that_would_pass_the_budget_waits_for_bytes_given_back() {
        let budget = DecodeBudget::new(100);
        let first = budget.lease(70);
        assert_eq!(budget.free(), 30);
        let (done, finished) = mpsc::channel();
        let waiter = {
            let budget = budget.clone();
            std::thread::spawn(move || {
                let lease = budget.lease(50);
                done.send(budget.free()).unwrap();
                drop(lease);
            })
        };
        until_waiting(&budget, 1);
        assert!(finished.try_recv().is_err(), "50 more do not fit in 30");
        drop(first);
        assert_eq!(finished.recv().unwrap(), 50, "it ran once 70 came back");
        waiter.join().unwrap();
        assert_eq!(budget.free(), 100, "every byte comes back");
    }

    #[test]
    fn decodes_take_their_bytes_in_the_order_they_asked() {
        let budget = DecodeBudget::new(100);
        let held = budget.lease(90);
        let (order, ran) = mpsc::channel();
        let ask = |bytes: u64, name: &'static str| {
            let (budget, order) = (budget.clone(), order.clone());
            std::thread::spawn(move || {
                let _lease = budget.lease(bytes);
                order.send(name).unwrap();
            })
        };
        // A big one asks first; a small one that would fit in what is free must not pass it.
        let big = ask(60, "big");
        until_waiting(&budget, 1);
        let small = ask(5, "small");
        while budget.waiting() != 2 {
            if let Ok(name) = ran.try_recv() {
                panic!("{name} took bytes before its turn");
            }
            std::thread::yield_now();
        }
        assert!(ran.try_recv().is_err());
        drop(held);
        big.join().unwrap();
        small.join().unwrap();
        let mut ran: Vec<_> = ran.try_iter().collect();
        ran.sort_unstable();
        assert_eq!(ran, ["big", "small"]);
    }

    #[test]
    fn a_decode_bigger_than_the_budget_runs_alone() {
        let budget = DecodeBudget::new(100);
        let lease = budget.lease(1 << 40);
        assert_eq!((lease.bytes, budget.free()), (100, 0));
        drop(lease);
        assert_eq!(budget.free(), 100);
    }
}

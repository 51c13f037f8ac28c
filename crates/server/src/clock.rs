use chrono::{DateTime, Utc};
use gallery_domain::ports::Clock;

/// The wall clock: the one place the service reads the time. Everything else (use-cases,
/// repositories, token signing) asks the [`Clock`] port it was given.
#[derive(Debug, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

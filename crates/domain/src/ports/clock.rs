//! The time.

use chrono::{DateTime, Utc};

/// The time. A port so that tests can set it.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
}

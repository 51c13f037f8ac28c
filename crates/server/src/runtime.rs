//! What the use-cases ask of the running process: the time, and tasks of their own.

use chrono::{DateTime, Utc};
use gallery_domain::ports::{Clock, Task, Tasks};

/// The wall clock: the one place the service reads the time. Everything else (use-cases,
/// repositories, token signing) asks the [`Clock`] port it was given.
#[derive(Debug, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// Tasks on the runtime of the worker that starts them; nothing awaits them but the
/// answer they send, so they outlive the request that started them.
#[derive(Debug, Clone, Copy)]
pub struct TokioTasks;

impl Tasks for TokioTasks {
    fn spawn(&self, task: Task) {
        tokio::spawn(task);
    }
}

//! What the use-cases ask of the running process: the time, and tasks of their own.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use gallery_domain::ports::{Clock, Task, Tasks, UploadTurn, UploadTurns};

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

/// This process's turns to run an upload or import (`server.max_concurrent_uploads`),
/// shared by every worker; the rest wait (within the request timeout).
#[derive(Debug, Clone)]
pub struct ProcessTurns(Arc<tokio::sync::Semaphore>);

impl ProcessTurns {
    #[must_use]
    pub fn new(max: usize) -> Self {
        Self(Arc::new(tokio::sync::Semaphore::new(max.max(1))))
    }
}

#[async_trait]
impl UploadTurns for ProcessTurns {
    async fn wait(&self) -> UploadTurn {
        match self.0.clone().acquire_owned().await {
            Ok(permit) => Box::new(permit),
            // Never closed: a turn for nobody to wait on.
            Err(_) => Box::new(()),
        }
    }
}

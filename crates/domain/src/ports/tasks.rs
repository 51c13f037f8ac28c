//! Work that runs in a task of its own.

use std::future::Future;
use std::pin::Pin;

/// Work for [`Tasks::spawn`]; it hands on its own outcome.
pub type Task = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

/// Runs work to its end in a task of its own, whether or not whoever started it is still
/// waiting. Once an upload's bytes are in, a request that ends (timeout, client gone) must
/// neither leave a file without its row nor stop the clean-up of a failed one.
pub trait Tasks: Send + Sync {
    fn spawn(&self, task: Task);
}

//! The ports: what the domain needs from the outside world. Adapters implement them;
//! tests mock them (`mocks` feature).

mod accounts;
mod blobs;
mod clock;
mod fetch;
mod images;
mod imaging;
mod limits;
mod links;
mod plans;
mod tasks;

pub use accounts::*;
pub use blobs::*;
pub use clock::*;
pub use fetch::*;
pub use images::*;
pub use imaging::*;
pub use limits::*;
pub use links::*;
pub use plans::*;
pub use tasks::*;

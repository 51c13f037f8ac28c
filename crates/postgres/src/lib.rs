//! PostgreSQL adapters for Gallery's repository ports, on Diesel + diesel-async + deadpool.
//!
//! [`Db`] owns the pool; `errors` maps every database failure to a [`gallery_domain::RepoError`]
//! once: unique violations become `Conflict`, foreign-key violations `InUse`, and pool or
//! connection failures `Unavailable` (503 upstream). [`migrate`] applies the embedded
//! migrations.

mod cache;
mod catalog;
mod db;
mod errors;
mod galleries;
mod images;
mod limits;
mod links;
mod migrate;
mod plans;
mod removals;
mod roles;
mod rows;
mod schema;
mod sessions;
mod subscriptions;
mod turns;
mod users;

pub use cache::{Caches, ListenerThread};
pub use db::{Db, PoolSettings};
pub use galleries::PgGalleryRepo;
pub use images::PgImageRepo;
pub use limits::{PgRateCounter, PgUploadSlots};
pub use links::PgLinkRepo;
pub use migrate::migrate;
pub use plans::PgPlanRepo;
pub use removals::PgRemovalRepo;
pub use roles::PgRoleRepo;
pub use sessions::PgSessionRepo;
pub use subscriptions::PgSubscriptionRepo;
pub use users::PgUserRepo;

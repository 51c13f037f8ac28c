//! Plans and subscriptions.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::{NewPlan, Subscription};
use crate::{PageRequest, RepoError, UserId};
use crate::{Plan, PlanId};

/// Subscription plans.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait PlanRepo: Send + Sync {
    /// Every plan, by price then code.
    ///
    /// # Errors
    /// Store failures only.
    async fn list(&self) -> Result<Vec<Plan>, RepoError>;

    /// # Errors
    /// Store failures only.
    async fn by_id(&self, id: PlanId) -> Result<Option<Plan>, RepoError>;

    /// Creates a plan; a new default takes the place of the old one, atomically.
    ///
    /// # Errors
    /// `Conflict(PlanCode)` when the code is taken.
    async fn create(&self, plan: &NewPlan) -> Result<Plan, RepoError>;

    /// Stores every field of `plan` but its id and code (`None` when it is gone); a new
    /// default takes the place of the old one, atomically.
    ///
    /// # Errors
    /// Store failures only.
    async fn update(&self, plan: &Plan) -> Result<Option<Plan>, RepoError>;

    /// # Errors
    /// `InUse(Plan)` while subscriptions name it.
    async fn delete(&self, id: PlanId) -> Result<bool, RepoError>;
}

/// Users' subscriptions and their history.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait SubscriptionRepo: Send + Sync {
    /// # Errors
    /// Store failures only.
    async fn of(&self, user: UserId) -> Result<Option<Subscription>, RepoError>;

    /// Puts `user` on `plan`, active until `period_end`, and records the change (who, from,
    /// to, when) in the same transaction.
    ///
    /// # Errors
    /// Store failures only.
    async fn set(
        &self,
        user: UserId,
        plan: PlanId,
        period_end: Option<DateTime<Utc>>,
        by: UserId,
    ) -> Result<Subscription, RepoError>;

    /// Marks the subscription canceled, ending at `ends_at`.
    ///
    /// # Errors
    /// Store failures only.
    async fn cancel(&self, user: UserId, ends_at: DateTime<Utc>) -> Result<Option<Subscription>, RepoError>;

    /// One page of subscriptions, newest first, and their total.
    ///
    /// # Errors
    /// Store failures only.
    async fn list(&self, page: PageRequest) -> Result<(Vec<Subscription>, u64), RepoError>;
}

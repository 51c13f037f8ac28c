//! Subscriptions: which plan a user is on, and its history of changes.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};

use crate::ports::{Clock, PlanRepo, SubscriptionRepo, UserRepo};
use crate::{Actor, DomainError, Page, PageRequest, Permission, Plan, Policy, SubscriptionStatus, UserId, UserRef};
use crate::{CurrentSubscription, Subscription};

/// The length of one paid period; free plans run until changed.
fn period(plan: &Plan) -> Option<Duration> {
    if plan.price_cents == 0 {
        return None;
    }
    Some(plan.billing_period.length())
}

/// The subscription use-cases.
#[derive(Clone)]
pub struct Subscriptions {
    subscriptions: Arc<dyn SubscriptionRepo>,
    plans: Arc<dyn PlanRepo>,
    users: Arc<dyn UserRepo>,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for Subscriptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Subscriptions").finish_non_exhaustive()
    }
}

impl Subscriptions {
    #[must_use]
    pub fn new(
        subscriptions: Arc<dyn SubscriptionRepo>,
        plans: Arc<dyn PlanRepo>,
        users: Arc<dyn UserRepo>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self { subscriptions, plans, users, clock }
    }

    fn current(&self, subscription: Subscription) -> CurrentSubscription {
        CurrentSubscription { standing: subscription.standing(self.clock.now()), subscription }
    }

    /// The caller's subscription; with none, the default plan, active since they joined.
    ///
    /// # Errors
    /// Store failures only.
    pub async fn mine(&self, actor: &Actor) -> Result<CurrentSubscription, DomainError> {
        let mine = self.subscriptions.of(actor.id()).await?.unwrap_or_else(|| Subscription {
            user: UserRef { id: actor.id(), username: actor.user.username.clone() },
            plan: actor.user.default_plan.code.clone(),
            status: SubscriptionStatus::Active,
            started_at: actor.user.created_at,
            current_period_end: None,
            cancel_at_period_end: false,
        });
        Ok(self.current(mine))
    }

    /// Subscribes the caller to a public plan, or changes their plan; takes effect on the
    /// next request.
    ///
    /// # Errors
    /// `Validation` on `plan` when it is unknown or not public.
    #[tracing::instrument(skip_all, fields(user_id = %actor.id(), plan = code))]
    pub async fn subscribe(&self, actor: &Actor, code: &str) -> Result<CurrentSubscription, DomainError> {
        let plan = self
            .plan(code)
            .await?
            .filter(|p| p.is_public)
            .ok_or_else(|| DomainError::field("plan", "no such public plan"))?;
        let end = period(&plan).map(|p| self.clock.now() + p);
        Ok(self.current(self.subscriptions.set(actor.id(), plan.id, end, actor.id()).await?))
    }

    /// Cancels at the end of the period (at once for a plan without one).
    ///
    /// # Errors
    /// `NotFound` when the caller has no subscription.
    pub async fn cancel(&self, actor: &Actor) -> Result<CurrentSubscription, DomainError> {
        let current = self.subscriptions.of(actor.id()).await?.ok_or(DomainError::NotFound)?;
        let ends = current.current_period_end.unwrap_or_else(|| self.clock.now());
        let canceled = self.subscriptions.cancel(actor.id(), ends).await?.ok_or(DomainError::NotFound)?;
        Ok(self.current(canceled))
    }

    /// # Errors
    /// `Forbidden` without `subscriptions:manage`.
    pub async fn list(&self, actor: &Actor, page: PageRequest) -> Result<Page<CurrentSubscription>, DomainError> {
        Policy::require(actor, Permission::SubscriptionsManage)?;
        let (items, total) = self.subscriptions.list(page).await?;
        Ok(Page::new(items, page, total).map(|s| self.current(s)))
    }

    /// Puts a user on any plan, public or not, until `period_end` (or the plan's period).
    ///
    /// # Errors
    /// `Forbidden`; `NotFound` for the user; `Validation` on `plan`.
    pub async fn assign(
        &self,
        actor: &Actor,
        user: UserId,
        code: &str,
        period_end: Option<DateTime<Utc>>,
    ) -> Result<CurrentSubscription, DomainError> {
        Policy::require(actor, Permission::SubscriptionsManage)?;
        self.users.by_id(user).await?.ok_or(DomainError::NotFound)?;
        let plan = self.plan(code).await?.ok_or_else(|| DomainError::field("plan", "no such plan"))?;
        let end = period_end.or_else(|| period(&plan).map(|p| self.clock.now() + p));
        Ok(self.current(self.subscriptions.set(user, plan.id, end, actor.id()).await?))
    }

    async fn plan(&self, code: &str) -> Result<Option<Plan>, DomainError> {
        Ok(self.plans.list().await?.into_iter().find(|p| p.code.as_str() == code))
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::ports::{MockClock, MockPlanRepo, MockSubscriptionRepo, MockUserRepo};
    use crate::testing::{actor_with_role, builtin_role, plan};
    use crate::{PlanCode, Standing};

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 6, 1, 0, 0, 0).unwrap()
    }

    fn subs(repo: MockSubscriptionRepo) -> Subscriptions {
        let mut plans = MockPlanRepo::new();
        let mut hidden = plan("enterprise");
        hidden.is_public = false;
        plans.expect_list().returning(move || Ok(vec![plan("basic"), plan("growth"), hidden.clone()]));
        let mut clock = MockClock::new();
        clock.expect_now().returning(now);
        let mut users = MockUserRepo::new();
        users.expect_by_id().returning(|_| Ok(None));
        Subscriptions::new(Arc::new(repo), Arc::new(plans), Arc::new(users), Arc::new(clock))
    }

    fn stored(end: Option<DateTime<Utc>>, status: SubscriptionStatus) -> Subscription {
        Subscription {
            user: UserRef { id: UserId::generate(), username: crate::Username::parse("someone").unwrap() },
            plan: PlanCode::from_trusted("growth".into()),
            status,
            started_at: now(),
            current_period_end: end,
            cancel_at_period_end: status == SubscriptionStatus::Canceled,
        }
    }

    #[test]
    fn the_shown_status_expires_with_the_period() {
        let end = now() + Duration::days(1);
        let s = stored(Some(end), SubscriptionStatus::Canceled);
        assert_eq!(s.standing(now()), Standing::Canceled);
        assert_eq!(s.standing(end), Standing::Expired);
        assert_eq!(stored(None, SubscriptionStatus::Active).standing(now()), Standing::Active);
    }

    #[tokio::test]
    async fn with_no_subscription_the_default_plan_shows() {
        let mut repo = MockSubscriptionRepo::new();
        repo.expect_of().returning(|_| Ok(None));
        let me = subs(repo).mine(&actor_with_role(builtin_role("subscriber"))).await.unwrap();
        assert_eq!((me.subscription.plan.as_str(), me.standing), ("basic", Standing::Active));
    }

    #[tokio::test]
    async fn a_paid_plan_runs_for_a_period_and_private_plans_are_not_for_sale() {
        let mut repo = MockSubscriptionRepo::new();
        repo.expect_set()
            .withf(|_, _, end, _| *end == Some(now() + Duration::days(30)))
            .returning(|_, _, end, _| Ok(stored(end, SubscriptionStatus::Active)));
        let s = subs(repo);
        let actor = actor_with_role(builtin_role("subscriber"));
        let growth = s.subscribe(&actor, "growth").await.unwrap();
        assert_eq!(growth.subscription.current_period_end, Some(now() + Duration::days(30)));
        let err = s.subscribe(&actor, "enterprise").await.unwrap_err();
        assert!(matches!(err, DomainError::Validation(ref e) if e[0].field == "plan"));
        assert!(matches!(s.subscribe(&actor, "platinum").await, Err(DomainError::Validation(_))));
    }

    #[tokio::test]
    async fn canceling_an_open_ended_subscription_ends_it_now() {
        let mut repo = MockSubscriptionRepo::new();
        repo.expect_of().returning(|_| Ok(Some(stored(None, SubscriptionStatus::Active))));
        repo.expect_cancel()
            .withf(|_, ends| *ends == now())
            .returning(|_, ends| Ok(Some(stored(Some(ends), SubscriptionStatus::Canceled))));
        let canceled = subs(repo).cancel(&actor_with_role(builtin_role("subscriber"))).await.unwrap();
        assert_eq!(canceled.standing, Standing::Expired);
    }

    #[tokio::test]
    async fn assigning_plans_needs_subscriptions_manage() {
        let s = subs(MockSubscriptionRepo::new());
        let err = s
            .assign(&actor_with_role(builtin_role("beta_player")), UserId::generate(), "growth", None)
            .await
            .unwrap_err();
        assert!(matches!(err, DomainError::Forbidden));
        let err =
            s.assign(&actor_with_role(builtin_role("admin")), UserId::generate(), "growth", None).await.unwrap_err();
        assert!(matches!(err, DomainError::NotFound));
    }
}

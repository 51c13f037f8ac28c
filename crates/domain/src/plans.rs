//! Subscription plans: what a user gets from images. Public to read; `plans:manage` to
//! change.

use std::sync::Arc;

use crate::fields::Field;
use crate::ports::PlanRepo;
use crate::{Actor, DomainError, FieldError, Permission, Plan, PlanFeatures, PlanId, Policy};
use crate::{NewPlan, PlanPatch};

/// Heights a plan may offer thumbnails at.
pub const HEIGHTS: std::ops::RangeInclusive<u32> = 16..=4096;
/// At most this many heights per plan.
pub const MAX_HEIGHTS: usize = 10;
/// Share-link lifetimes are bounded by a week.
pub const MAX_LINK_TTL: u32 = 604_800;

/// Checks every rule a plan's features obey, naming each broken one by its field.
///
/// # Errors
/// Every rule broken, each named by its field.
pub fn check_features(f: &PlanFeatures) -> Field<()> {
    let mut errors = Vec::new();
    let heights = &f.thumbnail_heights;
    if heights.len() > MAX_HEIGHTS {
        errors.push(FieldError::new("features.thumbnail_heights", format!("at most {MAX_HEIGHTS} heights")));
    }
    if heights.iter().any(|h| !HEIGHTS.contains(h)) {
        errors.push(FieldError::new(
            "features.thumbnail_heights",
            format!("heights must be {} to {}", HEIGHTS.start(), HEIGHTS.end()),
        ));
    }
    let mut sorted = heights.clone();
    sorted.sort_unstable();
    sorted.dedup();
    if sorted.len() != heights.len() {
        errors.push(FieldError::new("features.thumbnail_heights", "heights must be unique"));
    }
    if !(1 <= f.link_ttl_min && f.link_ttl_min <= f.link_ttl_max && f.link_ttl_max <= MAX_LINK_TTL) {
        errors.push(FieldError::new(
            "features.link_ttl_min",
            format!("need 1 <= link_ttl_min <= link_ttl_max <= {MAX_LINK_TTL}"),
        ));
    }
    if f.max_upload_bytes == 0 {
        errors.push(FieldError::new("features.max_upload_bytes", "must be positive"));
    }
    if f.storage_quota_bytes == 0 {
        errors.push(FieldError::new("features.storage_quota_bytes", "must be positive"));
    }
    if errors.is_empty() { Ok(()) } else { Err(errors) }
}

/// [`check_features`] as the use-cases' guard: whatever the caller checked before, no
/// plan is stored that breaks a rule.
fn valid_features(features: &PlanFeatures) -> Result<(), DomainError> {
    check_features(features).map_err(DomainError::Validation)
}

/// A plan's price in cents.
///
/// # Errors
/// A negative price.
pub fn price_cents(raw: i64) -> Result<i64, String> {
    if raw < 0 { Err("must not be negative".into()) } else { Ok(raw) }
}

/// The plan use-cases.
#[derive(Clone)]
pub struct Plans {
    plans: Arc<dyn PlanRepo>,
}

impl std::fmt::Debug for Plans {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Plans").finish_non_exhaustive()
    }
}

fn manages(actor: Option<&Actor>) -> bool {
    actor.is_some_and(|a| a.has(Permission::PlansManage))
}

impl Plans {
    #[must_use]
    pub fn new(plans: Arc<dyn PlanRepo>) -> Self {
        Self { plans }
    }

    /// Public plans for anyone; every plan for `plans:manage`.
    ///
    /// # Errors
    /// Store failures only.
    pub async fn list(&self, actor: Option<&Actor>) -> Result<Vec<Plan>, DomainError> {
        let all = manages(actor);
        Ok(self.plans.list().await?.into_iter().filter(|p| all || p.is_public).collect())
    }

    /// # Errors
    /// `NotFound`, also for a private plan asked by someone without `plans:manage`.
    pub async fn get(&self, actor: Option<&Actor>, id: PlanId) -> Result<Plan, DomainError> {
        let plan = self.plans.by_id(id).await?.ok_or(DomainError::NotFound)?;
        if plan.is_public || manages(actor) { Ok(plan) } else { Err(DomainError::NotFound) }
    }

    /// # Errors
    /// `Forbidden`; `Conflict` on a taken code.
    pub async fn create(&self, actor: &Actor, plan: NewPlan) -> Result<Plan, DomainError> {
        Policy::require(actor, Permission::PlansManage)?;
        valid_features(&plan.features)?;
        Ok(self.plans.create(&plan).await?)
    }

    /// Features merge into the plan's own, and the result must obey every rule. Making a
    /// plan the default takes that from the previous default; the default plan cannot stop
    /// being the default except by another taking its place.
    ///
    /// # Errors
    /// `Forbidden`; `NotFound`; `Validation` on `is_default: false` for the default plan.
    pub async fn update(&self, actor: &Actor, id: PlanId, patch: PlanPatch) -> Result<Plan, DomainError> {
        Policy::require(actor, Permission::PlansManage)?;
        let current = self.plans.by_id(id).await?.ok_or(DomainError::NotFound)?;
        if current.is_default && patch.is_default == Some(false) {
            return Err(DomainError::field("is_default", "make another plan the default instead"));
        }
        let changed = patch.apply(current);
        valid_features(&changed.features)?;
        self.plans.update(&changed).await?.ok_or(DomainError::NotFound)
    }

    /// # Errors
    /// `Forbidden`; `NotFound`; `InUse` for the default plan or one with subscriptions.
    pub async fn delete(&self, actor: &Actor, id: PlanId) -> Result<(), DomainError> {
        Policy::require(actor, Permission::PlansManage)?;
        let plan = self.plans.by_id(id).await?.ok_or(DomainError::NotFound)?;
        if plan.is_default {
            return Err(DomainError::InUse("the default plan".into()));
        }
        if self.plans.delete(id).await? { Ok(()) } else { Err(DomainError::NotFound) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::MockPlanRepo;
    use crate::testing::{actor_with_role, builtin_role, plan};
    use crate::{BillingPeriod, Currency, Description, FeaturesPatch, Name, PlanCode};

    #[test]
    fn the_seeded_plans_obey_every_rule() {
        for code in ["basic", "growth", "enterprise"] {
            assert!(check_features(&plan(code).features).is_ok(), "{code}");
        }
    }

    #[test]
    fn broken_features_are_each_named() {
        let mut f = plan("basic").features;
        f.thumbnail_heights = vec![8, 200, 200];
        f.link_ttl_min = 500;
        f.link_ttl_max = 100;
        let fields: Vec<_> = check_features(&f).unwrap_err().into_iter().map(|e| e.field).collect();
        assert_eq!(fields, ["features.thumbnail_heights", "features.thumbnail_heights", "features.link_ttl_min"]);
        f = plan("basic").features;
        f.thumbnail_heights = (1..=11).map(|i| i * 100).collect();
        f.link_ttl_max = MAX_LINK_TTL + 1;
        assert_eq!(check_features(&f).unwrap_err().len(), 2);
    }

    #[tokio::test]
    async fn private_plans_are_hidden_from_the_public() {
        let mut repo = MockPlanRepo::new();
        let mut hidden = plan("growth");
        hidden.is_public = false;
        let shown = plan("basic");
        let all = vec![shown.clone(), hidden.clone()];
        repo.expect_list().returning(move || Ok(all.clone()));
        let id = hidden.id;
        repo.expect_by_id().returning(move |_| Ok(Some(hidden.clone())));
        let plans = Plans::new(Arc::new(repo));
        assert_eq!(plans.list(None).await.unwrap(), vec![shown]);
        let admin = actor_with_role(builtin_role("admin"));
        assert_eq!(plans.list(Some(&admin)).await.unwrap().len(), 2);
        assert!(matches!(plans.get(None, id).await, Err(DomainError::NotFound)));
        assert!(plans.get(Some(&admin), id).await.is_ok());
    }

    #[tokio::test]
    async fn the_default_plan_cannot_be_deleted_or_undefaulted() {
        let mut repo = MockPlanRepo::new();
        repo.expect_by_id().returning(|_| Ok(Some(plan("basic"))));
        repo.expect_delete().never();
        repo.expect_update().never();
        let plans = Plans::new(Arc::new(repo));
        let admin = actor_with_role(builtin_role("admin"));
        assert!(matches!(plans.delete(&admin, PlanId::generate()).await, Err(DomainError::InUse(_))));
        let patch = PlanPatch { is_default: Some(false), ..PlanPatch::default() };
        assert!(matches!(plans.update(&admin, PlanId::generate(), patch).await, Err(DomainError::Validation(_))));
    }

    #[tokio::test]
    async fn no_plan_breaking_a_rule_is_stored() {
        let mut repo = MockPlanRepo::new();
        repo.expect_by_id().returning(|_| Ok(Some(plan("growth"))));
        repo.expect_create().never();
        repo.expect_update().never();
        let plans = Plans::new(Arc::new(repo));
        let admin = actor_with_role(builtin_role("admin"));
        let mut features = plan("growth").features;
        features.thumbnail_heights = vec![4096, 4097];
        let new = NewPlan {
            code: PlanCode::parse("xx").unwrap(),
            name: Name::parse("X").unwrap(),
            description: Description::default(),
            price_cents: 0,
            currency: Currency::default(),
            billing_period: BillingPeriod::Month,
            is_public: true,
            is_default: false,
            features: features.clone(),
        };
        assert!(matches!(plans.create(&admin, new).await, Err(DomainError::Validation(_))));
        let heights = FeaturesPatch { thumbnail_heights: Some(features.thumbnail_heights), ..FeaturesPatch::default() };
        let patch = PlanPatch { features: Some(heights), ..PlanPatch::default() };
        let err = plans.update(&admin, PlanId::generate(), patch).await.unwrap_err();
        assert!(matches!(err, DomainError::Validation(ref e) if e[0].field == "features.thumbnail_heights"));
        // A patch that is fine alone can still break a rule with the features it lands on.
        let ttl = FeaturesPatch { link_ttl_min: Some(40_000), ..FeaturesPatch::default() };
        let patch = PlanPatch { features: Some(ttl), ..PlanPatch::default() };
        let err = plans.update(&admin, PlanId::generate(), patch).await.unwrap_err();
        assert!(matches!(err, DomainError::Validation(ref e) if e[0].field == "features.link_ttl_min"));
    }

    #[tokio::test]
    async fn a_features_patch_changes_only_what_it_names() {
        let growth = plan("growth");
        let id = growth.id;
        let mut repo = MockPlanRepo::new();
        repo.expect_by_id().returning(move |_| Ok(Some(growth.clone())));
        repo.expect_update().returning(|changed| Ok(Some(changed.clone())));
        let plans = Plans::new(Arc::new(repo));
        let admin = actor_with_role(builtin_role("admin"));
        let features = FeaturesPatch { thumbnail_heights: Some(vec![100, 300]), ..FeaturesPatch::default() };
        let patch = PlanPatch { price_cents: Some(1200), features: Some(features), ..PlanPatch::default() };
        let changed = plans.update(&admin, id, patch).await.unwrap();
        let mut expected = plan("growth");
        expected.features.thumbnail_heights = vec![100, 300];
        assert_eq!((changed.id, changed.price_cents, changed.name.as_str()), (id, 1200, "growth"));
        assert_eq!(changed.features, expected.features);
    }

    #[test]
    fn a_new_plans_unsaid_features_are_the_free_plans() {
        assert_eq!(PlanFeatures::default(), plan("basic").features);
        let links = FeaturesPatch { expiring_links: Some(true), ..FeaturesPatch::default() };
        let features = links.apply(PlanFeatures::default());
        assert!(features.expiring_links && !features.original_access);
        assert_eq!(features.thumbnail_heights, [200]);
    }

    #[tokio::test]
    async fn managing_plans_needs_plans_manage() {
        let plans = Plans::new(Arc::new(MockPlanRepo::new()));
        let player = actor_with_role(builtin_role("beta_player"));
        assert!(matches!(plans.delete(&player, PlanId::generate()).await, Err(DomainError::Forbidden)));
    }
}

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{Description, Name, PlanId};

/// A plan's stable code, e.g. `basic`: 2 to 32 of lowercase letters, digits, `_` and `-`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PlanCode(String);

impl PlanCode {
    /// # Errors
    /// The rule `raw` breaks.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let ok = (2..=32).contains(&raw.len())
            && raw.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
        if ok {
            Ok(Self(raw.to_owned()))
        } else {
            Err("must be 2 to 32 of lowercase letters, digits, `_` and `-`".into())
        }
    }

    /// A code read back from the store, which only ever holds parsed ones.
    #[must_use]
    pub fn from_trusted(raw: String) -> Self {
        Self(raw)
    }

    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A plan's ISO 4217 currency code: three capital letters.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Currency(String);

impl Currency {
    /// # Errors
    /// The rule `raw` breaks.
    pub fn parse(raw: &str) -> Result<Self, String> {
        if raw.len() == 3 && raw.bytes().all(|b| b.is_ascii_uppercase()) {
            Ok(Self(raw.to_owned()))
        } else {
            Err("must be three capital letters".into())
        }
    }

    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Default for Currency {
    fn default() -> Self {
        Self("USD".to_owned())
    }
}

/// How often a plan bills.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum BillingPeriod {
    #[default]
    Month,
    Year,
}

impl BillingPeriod {
    /// # Errors
    /// The rule `raw` breaks.
    pub fn parse(raw: &str) -> Result<Self, String> {
        match raw {
            "month" => Ok(Self::Month),
            "year" => Ok(Self::Year),
            _ => Err("must be month or year".into()),
        }
    }

    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Month => "month",
            Self::Year => "year",
        }
    }

    /// How long one period runs.
    #[must_use]
    pub fn length(self) -> chrono::Duration {
        match self {
            Self::Month => chrono::Duration::days(30),
            Self::Year => chrono::Duration::days(365),
        }
    }
}

/// What a plan grants. Stored as JSONB; typed everywhere in the code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanFeatures {
    pub thumbnail_heights: Vec<u32>,
    pub original_access: bool,
    pub expiring_links: bool,
    pub link_ttl_min: u32,
    pub link_ttl_max: u32,
    pub max_upload_bytes: u64,
    pub storage_quota_bytes: u64,
}

/// A change to a plan's features: `None` keeps the value it changes. A `PATCH` merges into
/// the plan's features (as a JSON merge patch would); a new plan's unsaid features are
/// [`PlanFeatures::default`]'s.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FeaturesPatch {
    pub thumbnail_heights: Option<Vec<u32>>,
    pub original_access: Option<bool>,
    pub expiring_links: Option<bool>,
    pub link_ttl_min: Option<u32>,
    pub link_ttl_max: Option<u32>,
    pub max_upload_bytes: Option<u64>,
    pub storage_quota_bytes: Option<u64>,
}

impl FeaturesPatch {
    /// `base` with this patch's values in place of its own.
    #[must_use]
    pub fn apply(self, base: PlanFeatures) -> PlanFeatures {
        PlanFeatures {
            thumbnail_heights: self.thumbnail_heights.unwrap_or(base.thumbnail_heights),
            original_access: self.original_access.unwrap_or(base.original_access),
            expiring_links: self.expiring_links.unwrap_or(base.expiring_links),
            link_ttl_min: self.link_ttl_min.unwrap_or(base.link_ttl_min),
            link_ttl_max: self.link_ttl_max.unwrap_or(base.link_ttl_max),
            max_upload_bytes: self.max_upload_bytes.unwrap_or(base.max_upload_bytes),
            storage_quota_bytes: self.storage_quota_bytes.unwrap_or(base.storage_quota_bytes),
        }
    }
}

impl Default for PlanFeatures {
    /// What a new plan grants where its creator says nothing: the built-in free plan's
    /// features (200 px thumbnails, no original, no links, 5 MiB uploads, 1 GiB stored).
    fn default() -> Self {
        Self {
            thumbnail_heights: vec![200],
            original_access: false,
            expiring_links: false,
            link_ttl_min: 300,
            link_ttl_max: 30_000,
            max_upload_bytes: 5 << 20,
            storage_quota_bytes: 1 << 30,
        }
    }
}

/// A subscription plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub id: PlanId,
    pub code: PlanCode,
    pub name: String,
    pub description: String,
    pub price_cents: i64,
    pub currency: Currency,
    pub billing_period: BillingPeriod,
    pub is_public: bool,
    pub is_default: bool,
    pub features: PlanFeatures,
}

/// The stored state of a subscription.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubscriptionStatus {
    Active,
    Canceled,
}

/// A user's subscription as far as the effective plan cares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscriptionTerm {
    pub plan: Plan,
    pub status: SubscriptionStatus,
    /// When the paid period ends; `None` runs until changed.
    pub current_period_end: Option<DateTime<Utc>>,
}

impl SubscriptionTerm {
    /// Whether the subscription still grants its plan at `now`. A canceled subscription
    /// runs to the end of its period.
    #[must_use]
    pub fn is_in_force(&self, now: DateTime<Utc>) -> bool {
        self.current_period_end.is_none_or(|end| now < end)
    }
}

/// The one rule for which plan applies: the subscribed plan while the subscription is in
/// force, the default plan otherwise.
pub fn effective<'a, P: ?Sized>(
    subscription: Option<(&'a P, &SubscriptionTerm)>,
    default: &'a P,
    now: DateTime<Utc>,
) -> &'a P {
    match subscription {
        Some((plan, term)) if term.is_in_force(now) => plan,
        _ => default,
    }
}

/// A plan to create, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPlan {
    pub code: PlanCode,
    pub name: Name,
    pub description: Description,
    pub price_cents: i64,
    pub currency: Currency,
    pub billing_period: BillingPeriod,
    pub is_public: bool,
    pub is_default: bool,
    pub features: PlanFeatures,
}

/// Changes to a plan; `None` keeps the current value, and features merge field by field.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PlanPatch {
    pub name: Option<Name>,
    pub description: Option<Description>,
    pub price_cents: Option<i64>,
    pub currency: Option<Currency>,
    pub billing_period: Option<BillingPeriod>,
    pub is_public: Option<bool>,
    pub is_default: Option<bool>,
    pub features: Option<FeaturesPatch>,
}

impl PlanPatch {
    /// `plan` with this patch's changes.
    #[must_use]
    pub fn apply(self, plan: Plan) -> Plan {
        Plan {
            name: self.name.map_or(plan.name, Name::into_string),
            description: self.description.map_or(plan.description, Description::into_string),
            price_cents: self.price_cents.unwrap_or(plan.price_cents),
            currency: self.currency.unwrap_or(plan.currency),
            billing_period: self.billing_period.unwrap_or(plan.billing_period),
            is_public: self.is_public.unwrap_or(plan.is_public),
            is_default: self.is_default.unwrap_or(plan.is_default),
            features: match self.features {
                Some(patch) => patch.apply(plan.features),
                None => plan.features,
            },
            ..plan
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn term(status: SubscriptionStatus, end: Option<DateTime<Utc>>) -> SubscriptionTerm {
        SubscriptionTerm { plan: crate::testing::plan("growth"), status, current_period_end: end }
    }

    #[test]
    fn no_subscription_means_the_default_plan() {
        let now = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        assert_eq!(*effective::<str>(None, "basic", now), *"basic");
    }

    #[test]
    fn a_subscription_applies_until_its_period_ends_even_when_canceled() {
        let end = Utc.with_ymd_and_hms(2026, 2, 1, 0, 0, 0).unwrap();
        let before = end - chrono::Duration::seconds(1);
        for status in [SubscriptionStatus::Active, SubscriptionStatus::Canceled] {
            let t = term(status, Some(end));
            assert_eq!(*effective(Some(("growth", &t)), "basic", before), *"growth");
            assert_eq!(*effective(Some(("growth", &t)), "basic", end), *"basic");
        }
    }

    #[test]
    fn an_open_ended_subscription_never_lapses() {
        let t = term(SubscriptionStatus::Active, None);
        let far = Utc.with_ymd_and_hms(2100, 1, 1, 0, 0, 0).unwrap();
        assert_eq!(*effective(Some(("growth", &t)), "basic", far), *"growth");
    }
}

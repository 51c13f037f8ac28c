//! A user's subscription to a plan, as stored and as it stands.

use chrono::{DateTime, Utc};

use crate::{PlanCode, SubscriptionStatus, UserRef};

/// A user's subscription as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    pub user: UserRef,
    pub plan: PlanCode,
    pub status: SubscriptionStatus,
    pub started_at: DateTime<Utc>,
    pub current_period_end: Option<DateTime<Utc>>,
    pub cancel_at_period_end: bool,
}

impl Subscription {
    /// `Expired` once the period is over, whatever was stored; else as stored.
    #[must_use]
    pub fn standing(&self, now: DateTime<Utc>) -> Standing {
        match (self.current_period_end, self.status) {
            (Some(end), _) if now >= end => Standing::Expired,
            (_, SubscriptionStatus::Canceled) => Standing::Canceled,
            (_, SubscriptionStatus::Active) => Standing::Active,
        }
    }
}

/// How a subscription stands at a moment: what its holder is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    Active,
    /// Runs to the end of its period.
    Canceled,
    /// Over: the default plan applies.
    Expired,
}

impl Standing {
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Canceled => "canceled",
            Self::Expired => "expired",
        }
    }
}

/// A subscription and how it stands now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CurrentSubscription {
    pub subscription: Subscription,
    pub standing: Standing,
}

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use gallery_domain::{Plan, PlanCode, PlanFeatures, PlanId, RepoError};
use uuid::Uuid;

use crate::schema::plans;

/// A row of `plans`; `features` is JSONB, typed as [`PlanFeatures`] on the way out.
#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = plans, check_for_backend(diesel::pg::Pg))]
pub(crate) struct PlanRow {
    id: Uuid,
    code: String,
    name: String,
    description: String,
    price_cents: i64,
    currency: String,
    billing_period: String,
    is_public: bool,
    is_default: bool,
    features: serde_json::Value,
    #[allow(dead_code)] // Shown by the plans API (issue #5).
    created_at: DateTime<Utc>,
}

impl TryFrom<PlanRow> for Plan {
    type Error = RepoError;

    fn try_from(row: PlanRow) -> Result<Self, RepoError> {
        let features: PlanFeatures = serde_json::from_value(row.features)
            .map_err(|e| RepoError::Other(format!("plan {} has malformed features: {e}", row.code)))?;
        Ok(Self {
            id: PlanId::from_uuid(row.id),
            code: PlanCode::from_trusted(row.code),
            name: row.name,
            description: row.description,
            price_cents: row.price_cents,
            currency: row.currency,
            billing_period: row.billing_period,
            is_public: row.is_public,
            is_default: row.is_default,
            features,
        })
    }
}

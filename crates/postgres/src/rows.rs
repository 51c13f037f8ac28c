//! Rows of the catalog (roles with their permissions, plans) and their domain types: read
//! by the repositories and by the cache alike.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use gallery_domain::{
    BillingPeriod, Currency, PermissionSet, Plan, PlanCode, PlanFeatures, PlanId, RepoError, Role, RoleId, RoleName,
};
use uuid::Uuid;

use crate::schema::{plans, role_details};

/// A row of the `role_details` view: a role with its permissions.
#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = role_details, check_for_backend(diesel::pg::Pg))]
pub(crate) struct RoleRow {
    pub(crate) role_id: Uuid,
    pub(crate) role_name: String,
    pub(crate) role_description: String,
    pub(crate) role_is_system: bool,
    pub(crate) role_signup_allowed: bool,
    pub(crate) role_created_at: DateTime<Utc>,
    pub(crate) role_permissions: Vec<String>,
}

impl TryFrom<RoleRow> for Role {
    type Error = RepoError;

    fn try_from(row: RoleRow) -> Result<Self, RepoError> {
        Ok(Self {
            id: RoleId::from_uuid(row.role_id),
            name: RoleName::from_trusted(row.role_name),
            description: row.role_description,
            permissions: PermissionSet::parse(row.role_permissions.iter().map(String::as_str))
                .map_err(RepoError::Other)?,
            is_system: row.role_is_system,
            signup_allowed: row.role_signup_allowed,
            created_at: row.role_created_at,
        })
    }
}

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
    #[allow(dead_code)] // Selected for completeness; the API does not show it.
    created_at: DateTime<Utc>,
}

impl TryFrom<PlanRow> for Plan {
    type Error = RepoError;

    fn try_from(row: PlanRow) -> Result<Self, RepoError> {
        let malformed =
            |what: &str, e: String| RepoError::Other(format!("plan {} has a malformed {what}: {e}", row.code));
        let features: PlanFeatures =
            serde_json::from_value(row.features).map_err(|e| malformed("features", e.to_string()))?;
        let currency = Currency::parse(&row.currency).map_err(|e| malformed("currency", e))?;
        let billing_period = BillingPeriod::parse(&row.billing_period).map_err(|e| malformed("billing period", e))?;
        Ok(Self {
            id: PlanId::from_uuid(row.id),
            code: PlanCode::from_trusted(row.code),
            name: row.name,
            description: row.description,
            price_cents: row.price_cents,
            currency,
            billing_period,
            is_public: row.is_public,
            is_default: row.is_default,
            features,
        })
    }
}

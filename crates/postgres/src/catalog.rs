//! Roles (with their permissions) and plans, cached in process.
//!
//! They are read on every authenticated request and change rarely. Every write to
//! `roles`, `role_permissions` or `plans` bumps `catalog_version` (statement triggers, in
//! the writer's transaction), and every user read returns that version from the same
//! statement. A reader holding a newer version than the cache reloads before it answers,
//! so no request ever sees a role or plan older than what it read the user with.
//!
//! Every in-memory cache, and what keeps each true: `docs/architecture.md`, "Caches, on one
//! page".

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use gallery_domain::{Plan, RepoError, Role};
use uuid::Uuid;

use crate::errors::TxError;
use crate::rows::{PlanRow, RoleRow};
use crate::schema::{catalog_version, plans, role_details};

/// One consistent copy of the catalog.
#[derive(Debug, Default)]
pub(crate) struct Snapshot {
    pub(crate) version: i64,
    pub(crate) roles: HashMap<Uuid, Role>,
    pub(crate) plans: HashMap<Uuid, Plan>,
    pub(crate) default_plan: Option<Plan>,
}

impl Snapshot {
    pub(crate) fn role(&self, id: Uuid) -> Result<&Role, RepoError> {
        self.roles
            .get(&id)
            .ok_or_else(|| RepoError::Other(format!("role {id} missing from catalog version {}", self.version)))
    }

    pub(crate) fn plan(&self, id: Uuid) -> Result<&Plan, RepoError> {
        self.plans
            .get(&id)
            .ok_or_else(|| RepoError::Other(format!("plan {id} missing from catalog version {}", self.version)))
    }

    pub(crate) fn default_plan(&self) -> Result<&Plan, RepoError> {
        self.default_plan.as_ref().ok_or_else(|| RepoError::Other("no default plan is defined".into()))
    }
}

/// The shared cache.
#[derive(Debug, Default)]
pub(crate) struct Catalog {
    current: RwLock<Arc<Snapshot>>,
}

impl Catalog {
    /// A snapshot at least as new as `version`, reloading through `conn` if needed.
    pub(crate) async fn at_least(
        &self,
        conn: &mut AsyncPgConnection,
        version: i64,
    ) -> Result<Arc<Snapshot>, RepoError> {
        if let Some(snapshot) = self.cached(version) {
            return Ok(snapshot);
        }
        let fresh = Arc::new(load(conn).await?);
        let mut current = self.current.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        if fresh.version > current.version {
            *current = fresh;
        }
        Ok(current.clone())
    }

    fn cached(&self, version: i64) -> Option<Arc<Snapshot>> {
        let current = self.current.read().unwrap_or_else(std::sync::PoisonError::into_inner);
        (current.version >= version).then(|| current.clone())
    }
}

/// Reads version, roles and plans in one repeatable-read snapshot, so they agree.
async fn load(conn: &mut AsyncPgConnection) -> Result<Snapshot, RepoError> {
    let (version, roles, plan_rows) = conn
        .build_transaction()
        .repeatable_read()
        .read_only()
        .run(async |c| {
            let version: i64 = catalog_version::table.select(catalog_version::version).first(c).await?;
            let roles: Vec<RoleRow> = role_details::table.select(RoleRow::as_select()).load(c).await?;
            let plans: Vec<PlanRow> = plans::table.select(PlanRow::as_select()).load(c).await?;
            Ok::<_, TxError>((version, roles, plans))
        })
        .await
        .map_err(RepoError::from)?;
    let mut snapshot = Snapshot { version, ..Snapshot::default() };
    for row in roles {
        let role = Role::try_from(row)?;
        snapshot.roles.insert(role.id.as_uuid(), role);
    }
    for row in plan_rows {
        let plan = Plan::try_from(row)?;
        if plan.is_default {
            snapshot.default_plan = Some(plan.clone());
        }
        snapshot.plans.insert(plan.id.as_uuid(), plan);
    }
    tracing::debug!(version, "catalog reloaded");
    Ok(snapshot)
}

use async_trait::async_trait;
use diesel::prelude::*;
use diesel_async::{AsyncConnection as _, AsyncPgConnection, RunQueryDsl};
use gallery_domain::ports::PlanRepo;
use gallery_domain::{NewPlan, Plan, PlanFeatures, PlanId, RepoError};

use crate::cache::Change;
use crate::db::Db;
use crate::errors::{TxError, repo_error};
use crate::rows::PlanRow;
use crate::schema::plans;

fn features_json(f: &PlanFeatures) -> Result<serde_json::Value, RepoError> {
    serde_json::to_value(f).map_err(|e| RepoError::Other(format!("plan features: {e}")))
}

/// The columns a plan's creator or editor sets (all but id, code and timestamps), written
/// alike by `create` and `update`.
#[derive(Insertable, AsChangeset)]
#[diesel(table_name = plans)]
struct Columns<'a> {
    name: &'a str,
    description: &'a str,
    price_cents: i64,
    currency: &'a str,
    billing_period: &'a str,
    is_public: bool,
    is_default: bool,
    features: serde_json::Value,
}

/// [`Columns`] of a `NewPlan` or a `Plan` (the two name these fields alike), with the
/// features already as JSON.
macro_rules! columns {
    ($plan:expr, $features:expr) => {
        Columns {
            name: $plan.name.as_ref(),
            description: $plan.description.as_ref(),
            price_cents: $plan.price_cents,
            currency: $plan.currency.as_str(),
            billing_period: $plan.billing_period.as_str(),
            is_public: $plan.is_public,
            is_default: $plan.is_default,
            features: $features,
        }
    };
}

/// There is one default plan: making one the default takes it from the others.
async fn clear_default(c: &mut AsyncPgConnection) -> Result<(), TxError> {
    diesel::update(plans::table.filter(plans::is_default)).set(plans::is_default.eq(false)).execute(c).await?;
    Ok(())
}

/// [`PlanRepo`] on PostgreSQL. Writes bump the catalog version (triggers), so every
/// server's plan cache sees them on its next read.
#[derive(Debug, Clone)]
pub struct PgPlanRepo {
    db: Db,
}

impl PgPlanRepo {
    #[must_use]
    pub fn new(db: Db) -> Self {
        Self { db }
    }
}

#[async_trait]
impl PlanRepo for PgPlanRepo {
    #[tracing::instrument(name = "PlanRepo.list", level = "debug", skip_all)]
    async fn list(&self) -> Result<Vec<Plan>, RepoError> {
        let mut conn = self.db.conn().await?;
        let rows: Vec<PlanRow> = plans::table
            .select(PlanRow::as_select())
            .order((plans::price_cents, plans::code))
            .load(&mut conn)
            .await
            .map_err(repo_error)?;
        rows.into_iter().map(Plan::try_from).collect()
    }

    #[tracing::instrument(name = "PlanRepo.by_id", level = "debug", skip_all)]
    async fn by_id(&self, id: PlanId) -> Result<Option<Plan>, RepoError> {
        let mut conn = self.db.conn().await?;
        let row: Option<PlanRow> = plans::table
            .find(id.as_uuid())
            .select(PlanRow::as_select())
            .first(&mut conn)
            .await
            .optional()
            .map_err(repo_error)?;
        row.map(Plan::try_from).transpose()
    }

    #[tracing::instrument(name = "PlanRepo.create", level = "debug", skip_all)]
    async fn create(&self, plan: &NewPlan) -> Result<Plan, RepoError> {
        let features = features_json(&plan.features)?;
        let mut conn = self.db.conn().await?;
        let row: PlanRow = conn
            .transaction(async |c| {
                if plan.is_default {
                    clear_default(c).await?;
                }
                Ok::<_, TxError>(
                    diesel::insert_into(plans::table)
                        .values((plans::code.eq(plan.code.as_str()), columns!(plan, features)))
                        .returning(PlanRow::as_returning())
                        .get_result(c)
                        .await?,
                )
            })
            .await
            .map_err(RepoError::from)?;
        self.db.changed(Change::Catalog);
        Plan::try_from(row)
    }

    #[tracing::instrument(name = "PlanRepo.update", level = "debug", skip_all)]
    async fn update(&self, plan: &Plan) -> Result<Option<Plan>, RepoError> {
        let features = features_json(&plan.features)?;
        let mut conn = self.db.conn().await?;
        let row: Option<PlanRow> = conn
            .transaction(async |c| {
                if plan.is_default {
                    clear_default(c).await?;
                }
                Ok::<_, TxError>(
                    diesel::update(plans::table.find(plan.id.as_uuid()))
                        .set((columns!(plan, features), plans::updated_at.eq(self.db.now())))
                        .returning(PlanRow::as_returning())
                        .get_result(c)
                        .await
                        .optional()?,
                )
            })
            .await
            .map_err(RepoError::from)?;
        self.db.changed(Change::Catalog);
        row.map(Plan::try_from).transpose()
    }

    #[tracing::instrument(name = "PlanRepo.delete", level = "debug", skip_all)]
    async fn delete(&self, id: PlanId) -> Result<bool, RepoError> {
        let mut conn = self.db.conn().await?;
        let n = diesel::delete(plans::table.find(id.as_uuid())).execute(&mut conn).await.map_err(repo_error)?;
        self.db.changed(Change::Catalog);
        Ok(n > 0)
    }
}

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection as _, AsyncPgConnection, RunQueryDsl};
use gallery_domain::ports::SubscriptionRepo;
use gallery_domain::{
    PageRequest, PlanCode, PlanId, RepoError, Subscription, SubscriptionStatus, UserId, UserRef, Username,
};
use uuid::Uuid;

use crate::cache::Change;
use crate::db::Db;
use crate::errors::{TxError, repo_error};
use crate::schema::{plans, subscription_changes, subscriptions, users};

type Row = (Uuid, String, String, String, DateTime<Utc>, Option<DateTime<Utc>>, bool);

fn columns() -> (
    subscriptions::user_id,
    users::username,
    plans::code,
    subscriptions::status,
    subscriptions::started_at,
    subscriptions::current_period_end,
    subscriptions::cancel_at_period_end,
) {
    (
        subscriptions::user_id,
        users::username,
        plans::code,
        subscriptions::status,
        subscriptions::started_at,
        subscriptions::current_period_end,
        subscriptions::cancel_at_period_end,
    )
}

fn to_subscription(
    (user, username, plan, status, started_at, current_period_end, cancel_at_period_end): Row,
) -> Subscription {
    Subscription {
        user: UserRef { id: UserId::from_uuid(user), username: Username::from_trusted(username) },
        plan: PlanCode::from_trusted(plan),
        status: if status == "canceled" { SubscriptionStatus::Canceled } else { SubscriptionStatus::Active },
        started_at,
        current_period_end,
        cancel_at_period_end,
    }
}

async fn find(c: &mut AsyncPgConnection, user: Uuid) -> Result<Option<Subscription>, diesel::result::Error> {
    let row: Option<Row> = subscriptions::table
        .inner_join(users::table)
        .inner_join(plans::table)
        .filter(subscriptions::user_id.eq(user))
        .select(columns())
        .first(c)
        .await
        .optional()?;
    Ok(row.map(to_subscription))
}

/// [`SubscriptionRepo`] on PostgreSQL; every change of plan is kept in
/// `subscription_changes`.
#[derive(Debug, Clone)]
pub struct PgSubscriptionRepo {
    db: Db,
}

impl PgSubscriptionRepo {
    #[must_use]
    pub fn new(db: Db) -> Self {
        Self { db }
    }
}

#[async_trait]
impl SubscriptionRepo for PgSubscriptionRepo {
    #[tracing::instrument(name = "SubscriptionRepo.of", level = "debug", skip_all)]
    async fn of(&self, user: UserId) -> Result<Option<Subscription>, RepoError> {
        let mut conn = self.db.conn().await?;
        find(&mut conn, user.as_uuid()).await.map_err(repo_error)
    }

    #[tracing::instrument(name = "SubscriptionRepo.set", level = "debug", skip_all)]
    async fn set(
        &self,
        user: UserId,
        plan: PlanId,
        period_end: Option<DateTime<Utc>>,
        by: UserId,
    ) -> Result<Subscription, RepoError> {
        let mut conn = self.db.conn().await?;
        let saved = conn
            .transaction(async |c| {
                let previous: Option<Uuid> = subscriptions::table
                    .find(user.as_uuid())
                    .select(subscriptions::plan_id)
                    .for_update()
                    .first(c)
                    .await
                    .optional()?;
                let now = self.db.now();
                diesel::insert_into(subscriptions::table)
                    .values((
                        subscriptions::user_id.eq(user.as_uuid()),
                        subscriptions::plan_id.eq(plan.as_uuid()),
                        subscriptions::status.eq("active"),
                        subscriptions::started_at.eq(now),
                        subscriptions::current_period_end.eq(period_end),
                        subscriptions::cancel_at_period_end.eq(false),
                        subscriptions::updated_at.eq(now),
                    ))
                    .on_conflict(subscriptions::user_id)
                    .do_update()
                    .set((
                        subscriptions::plan_id.eq(plan.as_uuid()),
                        subscriptions::status.eq("active"),
                        subscriptions::started_at.eq(now),
                        subscriptions::current_period_end.eq(period_end),
                        subscriptions::cancel_at_period_end.eq(false),
                        subscriptions::updated_at.eq(now),
                    ))
                    .execute(c)
                    .await?;
                diesel::insert_into(subscription_changes::table)
                    .values((
                        subscription_changes::user_id.eq(user.as_uuid()),
                        subscription_changes::changed_by.eq(by.as_uuid()),
                        subscription_changes::from_plan.eq(previous),
                        subscription_changes::to_plan.eq(plan.as_uuid()),
                    ))
                    .execute(c)
                    .await?;
                Ok::<_, TxError>(find(c, user.as_uuid()).await?)
            })
            .await
            .map_err(RepoError::from)?;
        self.db.changed(Change::User(user));
        saved.ok_or_else(|| RepoError::Other("saved subscription vanished".into()))
    }

    #[tracing::instrument(name = "SubscriptionRepo.cancel", level = "debug", skip_all)]
    async fn cancel(&self, user: UserId, ends_at: DateTime<Utc>) -> Result<Option<Subscription>, RepoError> {
        let mut conn = self.db.conn().await?;
        let n = diesel::update(subscriptions::table.find(user.as_uuid()))
            .set((
                subscriptions::status.eq("canceled"),
                subscriptions::cancel_at_period_end.eq(true),
                subscriptions::current_period_end.eq(ends_at),
                subscriptions::updated_at.eq(self.db.now()),
            ))
            .execute(&mut conn)
            .await
            .map_err(repo_error)?;
        self.db.changed(Change::User(user));
        if n == 0 {
            return Ok(None);
        }
        find(&mut conn, user.as_uuid()).await.map_err(repo_error)
    }

    #[tracing::instrument(name = "SubscriptionRepo.list", level = "debug", skip_all)]
    async fn list(&self, page: PageRequest) -> Result<(Vec<Subscription>, u64), RepoError> {
        let mut conn = self.db.conn().await?;
        let total: i64 = subscriptions::table.count().get_result(&mut conn).await.map_err(repo_error)?;
        let rows: Vec<Row> = subscriptions::table
            .inner_join(users::table)
            .inner_join(plans::table)
            .select(columns())
            .order((subscriptions::updated_at.desc(), subscriptions::user_id))
            .limit(page.limit())
            .offset(page.offset())
            .load(&mut conn)
            .await
            .map_err(repo_error)?;
        Ok((rows.into_iter().map(to_subscription).collect(), u64::try_from(total).unwrap_or(0)))
    }
}

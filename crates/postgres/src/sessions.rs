use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::Bytea;
use diesel_async::{AsyncConnection as _, RunQueryDsl};
use gallery_domain::TokenHash;
use gallery_domain::ports::{RefreshRecord, SessionRepo};
use gallery_domain::{RepoError, SessionId, User, UserId};
use uuid::Uuid;

use crate::cache::Change;
use crate::db::Db;
use crate::errors::{TxError, repo_error};
use crate::rows::{RecordRow, UserRow, to_user};
use crate::schema::{refresh_families, refresh_tokens, user_core};

/// [`SessionRepo`] on PostgreSQL: one `refresh_families` row per login, and every refresh
/// token it ever issued in `refresh_tokens`, by hash.
#[derive(Debug, Clone)]
pub struct PgSessionRepo {
    db: Db,
}

impl PgSessionRepo {
    #[must_use]
    pub fn new(db: Db) -> Self {
        Self { db }
    }
}

#[async_trait]
impl SessionRepo for PgSessionRepo {
    #[tracing::instrument(name = "SessionRepo.start", level = "debug", skip_all)]
    async fn start(
        &self,
        user: UserId,
        refresh: &TokenHash,
        expires_at: DateTime<Utc>,
    ) -> Result<SessionId, RepoError> {
        let id = Uuid::new_v4();
        let mut conn = self.db.conn().await?;
        conn.transaction(async |c| {
            diesel::insert_into(refresh_families::table)
                .values((
                    refresh_families::id.eq(id),
                    refresh_families::user_id.eq(user.as_uuid()),
                    refresh_families::current_token_hash.eq(&refresh.0[..]),
                    refresh_families::expires_at.eq(expires_at),
                ))
                .execute(c)
                .await?;
            diesel::insert_into(refresh_tokens::table)
                .values((refresh_tokens::token_hash.eq(&refresh.0[..]), refresh_tokens::family_id.eq(id)))
                .execute(c)
                .await?;
            Ok::<_, TxError>(())
        })
        .await
        .map_err(RepoError::from)?;
        Ok(SessionId::from_uuid(id))
    }

    #[tracing::instrument(name = "SessionRepo.by_refresh", level = "debug", skip_all)]
    async fn by_refresh(&self, refresh: &TokenHash) -> Result<Option<RefreshRecord>, RepoError> {
        let mut conn = self.db.conn().await?;
        let row: Option<RecordRow> = diesel::sql_query(
            "SELECT f.id, f.user_id, f.current_token_hash = t.token_hash AS is_current, \
             f.revoked_at IS NOT NULL AS is_revoked, f.expires_at \
             FROM refresh_tokens t JOIN refresh_families f ON f.id = t.family_id WHERE t.token_hash = $1",
        )
        .bind::<Bytea, _>(&refresh.0[..])
        .get_result(&mut conn)
        .await
        .optional()
        .map_err(repo_error)?;
        Ok(row.map(|r| RefreshRecord {
            session: SessionId::from_uuid(r.id),
            user: UserId::from_uuid(r.user_id),
            is_current: r.is_current,
            is_revoked: r.is_revoked,
            expires_at: r.expires_at,
        }))
    }

    #[tracing::instrument(name = "SessionRepo.rotate", level = "debug", skip_all)]
    async fn rotate(
        &self,
        session: SessionId,
        old: &TokenHash,
        new: &TokenHash,
        expires_at: DateTime<Utc>,
    ) -> Result<bool, RepoError> {
        let mut conn = self.db.conn().await?;
        conn.transaction(async |c| {
            // Compare-and-swap on the current hash: of two concurrent refreshes with the
            // same token, exactly one updates a row.
            let swapped = diesel::update(
                refresh_families::table
                    .find(session.as_uuid())
                    .filter(refresh_families::current_token_hash.eq(&old.0[..]))
                    .filter(refresh_families::revoked_at.is_null()),
            )
            .set((refresh_families::current_token_hash.eq(&new.0[..]), refresh_families::expires_at.eq(expires_at)))
            .execute(c)
            .await?;
            if swapped == 1 {
                diesel::insert_into(refresh_tokens::table)
                    .values((
                        refresh_tokens::token_hash.eq(&new.0[..]),
                        refresh_tokens::family_id.eq(session.as_uuid()),
                    ))
                    .execute(c)
                    .await?;
            }
            Ok::<_, TxError>(swapped == 1)
        })
        .await
        .map_err(RepoError::from)
    }

    #[tracing::instrument(name = "SessionRepo.revoke", level = "debug", skip_all)]
    async fn revoke(&self, session: SessionId) -> Result<(), RepoError> {
        let mut conn = self.db.conn().await?;
        diesel::update(refresh_families::table.find(session.as_uuid()).filter(refresh_families::revoked_at.is_null()))
            .set(refresh_families::revoked_at.eq(self.db.now()))
            .execute(&mut conn)
            .await
            .map_err(repo_error)?;
        self.db.changed(Change::Session(session));
        Ok(())
    }

    #[tracing::instrument(name = "SessionRepo.revoke_all", level = "debug", skip_all)]
    async fn revoke_all(&self, user: UserId, except: Option<SessionId>) -> Result<(), RepoError> {
        let mut conn = self.db.conn().await?;
        let keep = except.map_or(Uuid::nil(), |s| s.as_uuid());
        let revoked: Vec<Uuid> = diesel::update(
            refresh_families::table
                .filter(refresh_families::user_id.eq(user.as_uuid()))
                .filter(refresh_families::id.ne(keep))
                .filter(refresh_families::revoked_at.is_null()),
        )
        .set(refresh_families::revoked_at.eq(self.db.now()))
        .returning(refresh_families::id)
        .get_results(&mut conn)
        .await
        .map_err(repo_error)?;
        for id in revoked {
            self.db.changed(Change::Session(SessionId::from_uuid(id)));
        }
        Ok(())
    }

    /// From memory when both the session and the user are there (see [`crate::Caches`]; no
    /// span then: nothing was asked of the database).
    async fn holder(&self, session: SessionId, user: UserId) -> Result<Option<User>, RepoError> {
        if let Some(held) = self.db.caches.holder(session, user) {
            return Ok(Some(held));
        }
        self.read_holder(session, user).await
    }
}

impl PgSessionRepo {
    #[tracing::instrument(name = "SessionRepo.holder", level = "debug", skip_all)]
    async fn read_holder(&self, session: SessionId, user: UserId) -> Result<Option<User>, RepoError> {
        let caches = &self.db.caches;
        let ticket = caches.ticket();
        let mut conn = self.db.conn().await?;
        let live_session = refresh_families::table
            .filter(refresh_families::id.eq(session.as_uuid()))
            .filter(refresh_families::user_id.eq(user.as_uuid()))
            .filter(refresh_families::revoked_at.is_null());
        let row: Option<UserRow> = user_core::table
            .find(user.as_uuid())
            .filter(diesel::dsl::exists(live_session))
            .select(UserRow::as_select())
            .first(&mut conn)
            .await
            .optional()
            .map_err(repo_error)?;
        let held = to_user(&self.db, &mut conn, row).await?;
        if let Some(held) = &held {
            caches.keep_holder(ticket, session, held);
        }
        Ok(held)
    }
}

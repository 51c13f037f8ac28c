use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use gallery_domain::ports::LinkRepo;
use gallery_domain::{ImageId, LinkId, LinkTarget, NewLink, RepoError, ShareLink, TokenHash, UserId};

use crate::db::Db;
use crate::errors::repo_error;
use crate::rows::{ImageRow, LinkRow, UserRow, to_image, to_user};
use crate::schema::{images, share_links, user_core, users};

/// [`LinkRepo`] on PostgreSQL.
#[derive(Debug, Clone)]
pub struct PgLinkRepo {
    db: Db,
}

impl PgLinkRepo {
    #[must_use]
    pub fn new(db: Db) -> Self {
        Self { db }
    }
}

#[async_trait]
impl LinkRepo for PgLinkRepo {
    #[tracing::instrument(name = "LinkRepo.create", level = "debug", skip_all)]
    async fn create(&self, link: &NewLink) -> Result<ShareLink, RepoError> {
        let mut conn = self.db.conn().await?;
        let row: LinkRow = diesel::insert_into(share_links::table)
            .values((
                share_links::image_id.eq(link.image.as_uuid()),
                share_links::created_by.eq(link.created_by.as_uuid()),
                share_links::token_hash.eq(&link.token_hash.0[..]),
                share_links::variant.eq(link.variant.as_string()),
                share_links::expires_at.eq(link.expires_at),
            ))
            .returning(LinkRow::as_returning())
            .get_result(&mut conn)
            .await
            .map_err(repo_error)?;
        ShareLink::try_from(row)
    }

    #[tracing::instrument(name = "LinkRepo.by_token", level = "debug", skip_all)]
    async fn by_token(&self, hash: &TokenHash) -> Result<Option<LinkTarget>, RepoError> {
        let mut conn = self.db.conn().await?;
        let row: Option<(LinkRow, ImageRow, String, UserRow)> = share_links::table
            .inner_join(images::table.on(images::id.eq(share_links::image_id)))
            .inner_join(users::table.on(users::id.eq(images::uploaded_by)))
            .inner_join(user_core::table.on(user_core::id.eq(share_links::created_by)))
            .filter(share_links::token_hash.eq(&hash.0[..]))
            .select((LinkRow::as_select(), ImageRow::as_select(), users::username, UserRow::as_select()))
            .first(&mut conn)
            .await
            .optional()
            .map_err(repo_error)?;
        let Some((link, image, uploader, creator)) = row else { return Ok(None) };
        let creator = to_user(&self.db, &mut conn, Some(creator))
            .await?
            .ok_or_else(|| RepoError::Other("a share link's creator could not be read".into()))?;
        Ok(Some(LinkTarget { link: ShareLink::try_from(link)?, image: to_image((image, uploader))?, creator }))
    }

    #[tracing::instrument(name = "LinkRepo.by_id", level = "debug", skip_all)]
    async fn by_id(&self, id: LinkId) -> Result<Option<ShareLink>, RepoError> {
        let mut conn = self.db.conn().await?;
        let row: Option<LinkRow> = share_links::table
            .find(id.as_uuid())
            .select(LinkRow::as_select())
            .first(&mut conn)
            .await
            .optional()
            .map_err(repo_error)?;
        row.map(ShareLink::try_from).transpose()
    }

    #[tracing::instrument(name = "LinkRepo.live", level = "debug", skip_all)]
    async fn live(&self, image: ImageId, creator: UserId, now: DateTime<Utc>) -> Result<Vec<ShareLink>, RepoError> {
        let mut conn = self.db.conn().await?;
        let rows: Vec<LinkRow> = share_links::table
            .filter(share_links::image_id.eq(image.as_uuid()))
            .filter(share_links::created_by.eq(creator.as_uuid()))
            .filter(share_links::revoked_at.is_null())
            .filter(share_links::expires_at.gt(now))
            .order((share_links::created_at.desc(), share_links::id))
            .select(LinkRow::as_select())
            .load(&mut conn)
            .await
            .map_err(repo_error)?;
        rows.into_iter().map(ShareLink::try_from).collect()
    }

    #[tracing::instrument(name = "LinkRepo.revoke", level = "debug", skip_all)]
    async fn revoke(&self, id: LinkId) -> Result<(), RepoError> {
        let mut conn = self.db.conn().await?;
        diesel::update(share_links::table.find(id.as_uuid()).filter(share_links::revoked_at.is_null()))
            .set(share_links::revoked_at.eq(self.db.now()))
            .execute(&mut conn)
            .await
            .map_err(repo_error)?;
        Ok(())
    }
}

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use gallery_domain::ports::GalleryRepo;
use gallery_domain::{Description, Gallery, GalleryId, GalleryPatch, Name, NewGallery, PageRequest, RepoError, UserId};

use crate::cache::Change;
use crate::db::Db;
use crate::errors::repo_error;
use crate::rows::GalleryRow;
use crate::schema::galleries;

/// [`GalleryRepo`] on PostgreSQL.
#[derive(Debug, Clone)]
pub struct PgGalleryRepo {
    db: Db,
}

impl PgGalleryRepo {
    #[must_use]
    pub fn new(db: Db) -> Self {
        Self { db }
    }
}

#[async_trait]
impl GalleryRepo for PgGalleryRepo {
    #[tracing::instrument(name = "GalleryRepo.create", level = "debug", skip_all)]
    async fn create(&self, gallery: &NewGallery, by: UserId) -> Result<Gallery, RepoError> {
        let mut conn = self.db.conn().await?;
        let row: GalleryRow = diesel::insert_into(galleries::table)
            .values((
                galleries::name.eq(gallery.name.as_str()),
                galleries::description.eq(gallery.description.as_str()),
                galleries::created_by.eq(by.as_uuid()),
            ))
            .returning(GalleryRow::as_returning())
            .get_result(&mut conn)
            .await
            .map_err(repo_error)?;
        Ok(row.into())
    }

    #[tracing::instrument(name = "GalleryRepo.by_id", level = "debug", skip_all)]
    async fn by_id(&self, id: GalleryId) -> Result<Option<Gallery>, RepoError> {
        let mut conn = self.db.conn().await?;
        let row: Option<GalleryRow> = galleries::table
            .find(id.as_uuid())
            .select(GalleryRow::as_select())
            .first(&mut conn)
            .await
            .optional()
            .map_err(repo_error)?;
        Ok(row.map(Gallery::from))
    }

    #[tracing::instrument(name = "GalleryRepo.list", level = "debug", skip_all)]
    async fn list(&self, page: PageRequest) -> Result<(Vec<Gallery>, u64), RepoError> {
        let mut conn = self.db.conn().await?;
        let total: i64 = galleries::table.count().get_result(&mut conn).await.map_err(repo_error)?;
        let rows: Vec<GalleryRow> = galleries::table
            .select(GalleryRow::as_select())
            .order((galleries::created_at.desc(), galleries::id.desc()))
            .limit(page.limit())
            .offset(page.offset())
            .load(&mut conn)
            .await
            .map_err(repo_error)?;
        Ok((rows.into_iter().map(Gallery::from).collect(), u64::try_from(total).unwrap_or(0)))
    }

    #[tracing::instrument(name = "GalleryRepo.update", level = "debug", skip_all)]
    async fn update(&self, id: GalleryId, patch: &GalleryPatch) -> Result<Option<Gallery>, RepoError> {
        #[derive(AsChangeset)]
        #[diesel(table_name = galleries)]
        struct Changes<'a> {
            name: Option<&'a str>,
            description: Option<&'a str>,
            updated_at: DateTime<Utc>,
        }
        let changes = Changes {
            name: patch.name.as_ref().map(Name::as_str),
            description: patch.description.as_ref().map(Description::as_str),
            updated_at: self.db.now(),
        };
        let mut conn = self.db.conn().await?;
        let row: Option<GalleryRow> = diesel::update(galleries::table.find(id.as_uuid()))
            .set(&changes)
            .returning(GalleryRow::as_returning())
            .get_result(&mut conn)
            .await
            .optional()
            .map_err(repo_error)?;
        Ok(row.map(Gallery::from))
    }

    #[tracing::instrument(name = "GalleryRepo.delete", level = "debug", skip_all)]
    async fn delete(&self, id: GalleryId) -> Result<bool, RepoError> {
        let mut conn = self.db.conn().await?;
        let n = diesel::delete(galleries::table.find(id.as_uuid())).execute(&mut conn).await.map_err(repo_error)?;
        // Its images left it (`ON DELETE SET NULL`), and their rows with them.
        self.db.changed(Change::Images);
        Ok(n > 0)
    }
}

//! Reading images: lists, one image, its original (whole or a range) and its thumbnails.

use super::{Images, page_of};
use crate::ports::{BlobBody, ThumbnailBytes};
use crate::{
    Actor, ByteRange, DomainError, Image, ImageCursor, ImageFilter, ImageFormat, ImageId, ImagePage, PageRequest,
    Permission, Policy, Seen,
};

/// A thumbnail ready to send.
#[derive(Debug)]
pub struct Thumbnail {
    pub image: Image,
    pub height: u32,
    pub format: ImageFormat,
    pub body: BlobBody,
    /// Made for this request, not served from the cache.
    pub rendered: bool,
}

/// An original ready to send: the whole file, or the bytes `range` names (first and last,
/// inclusive).
#[derive(Debug)]
pub struct Original {
    pub image: Image,
    pub range: Option<(u64, u64)>,
    pub body: BlobBody,
}

/// A fetch the client may already hold: `Unchanged` when it says it holds the current
/// version, decided from the image row alone (no bytes are read or made).
#[derive(Debug)]
pub enum Conditional<T> {
    Unchanged(Box<Image>),
    Fresh(T),
}

impl Images {
    /// One page of the images the caller may see that `filter` selects: the page `page`
    /// names, or the one after `cursor`.
    ///
    /// # Errors
    /// `Forbidden` without `images:read`; `BadRequest` for a cursor made for another sort
    /// or filter.
    pub async fn list(
        &self,
        actor: &Actor,
        filter: ImageFilter,
        page: PageRequest,
        cursor: Option<ImageCursor>,
    ) -> Result<Seen<ImagePage>, DomainError> {
        Policy::require(actor, Permission::ImagesRead)?;
        let listed = page_of(self.images.as_ref(), actor, &filter, page, cursor.as_ref()).await?;
        Ok(Seen::by(actor, self.clock.now(), listed))
    }

    /// # Errors
    /// `Forbidden` without `images:read`; `NotFound` when missing or not visible.
    pub async fn get(&self, actor: &Actor, id: ImageId) -> Result<Seen<Image>, DomainError> {
        Policy::require(actor, Permission::ImagesRead)?;
        Ok(Seen::by(actor, self.clock.now(), self.visible(actor, id).await?))
    }

    /// The original of an image, whole or the asked range of it, when the caller may
    /// download it. When `holds` says the client has this image row's bytes, nothing is
    /// opened.
    ///
    /// # Errors
    /// `NotFound`; `PlanForbids` when neither the plan nor `images:moderate` allows it;
    /// `RangeNotSatisfiable` when no byte of `range` is in the file; `Unavailable` when
    /// storage fails.
    #[tracing::instrument(skip_all, fields(image_id = %id))]
    pub async fn original(
        &self,
        actor: &Actor,
        id: ImageId,
        range: Option<ByteRange>,
        holds: impl FnOnce(&Image) -> bool,
    ) -> Result<Conditional<Original>, DomainError> {
        Policy::require(actor, Permission::ImagesRead)?;
        let image = self.visible(actor, id).await?;
        Policy::may_get_original(actor, self.clock.now())?;
        if holds(&image) {
            return Ok(Conditional::Unchanged(Box::new(image)));
        }
        let size = image.size_bytes;
        let range = range.map(|r| r.within(size).ok_or(DomainError::RangeNotSatisfiable(size))).transpose()?;
        self.original_of(image, range).await.map(Conditional::Fresh)
    }

    /// The original of an image already allowed to the caller (or shared by a link).
    pub(crate) async fn original_of(&self, image: Image, range: Option<(u64, u64)>) -> Result<Original, DomainError> {
        let body = self.blobs.open(&image.storage_key, range).await?;
        Ok(Original { image, range, body })
    }

    /// A thumbnail `height` pixels high, made on the first request and cached in the
    /// store under a deterministic key (made again if it goes missing). Concurrent first
    /// requests render it once. A thumbnail is made from its original's bytes: when `holds`
    /// says the client has the one of this image row, nothing is opened or made.
    ///
    /// # Errors
    /// `NotFound`; `PlanForbids` for a height outside the caller's plan.
    #[tracing::instrument(skip_all, fields(image_id = %id, height))]
    pub async fn thumbnail(
        &self,
        actor: &Actor,
        id: ImageId,
        height: u32,
        holds: impl FnOnce(&Image) -> bool,
    ) -> Result<Conditional<Thumbnail>, DomainError> {
        Policy::require(actor, Permission::ImagesRead)?;
        let image = self.visible(actor, id).await?;
        Policy::may_get_thumbnail(actor, self.clock.now(), height)?;
        if holds(&image) {
            return Ok(Conditional::Unchanged(Box::new(image)));
        }
        self.thumbnail_of(image, height).await.map(Conditional::Fresh)
    }

    /// The thumbnail of an image already allowed to the caller (or shared by a link).
    pub(crate) async fn thumbnail_of(&self, image: Image, height: u32) -> Result<Thumbnail, DomainError> {
        let ThumbnailBytes { format, body, rendered } =
            self.thumbnails.get(&image.storage_key, image.format, height).await?;
        Ok(Thumbnail { image, height, format, body, rendered })
    }
}

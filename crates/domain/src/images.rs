//! Uploading, reading, editing, deleting and approving images: the [`Images`] use-cases,
//! one file per concern ([`upload`] with its [`admission`], [`read`], [`moderation`],
//! [`removal`], [`reinspection`]); this file holds what they share.

mod admission;
mod moderation;
mod read;
mod reinspection;
mod removal;
mod upload;

use std::sync::Arc;

use crate::ports::{
    BlobStore, Clock, ImageInspector, ImageRepo, Listed, LocationFilter, RemovalRepo, Tasks, Thumbnails,
    UploadSlotRepo, UploadTurns, UrlFetcher,
};
use crate::{
    Actor, DomainError, GalleryId, Image, ImageCursor, ImageFilter, ImageId, ImagePage, ImagePatch, Page, PageRequest,
    Permission, Policy, Seen,
};
use admission::Admission;
pub use moderation::Review;
pub use read::{Conditional, Original, Thumbnail};
pub(crate) use removal::FileRemover;
pub use upload::{ImageImport, UploadField, UploadMeta, UploadPart};

/// One page of the images `actor` may see that `filter` selects, by number or after a
/// cursor, with the cursor of the page after it.
pub(crate) async fn page_of(
    images: &dyn ImageRepo,
    actor: &Actor,
    filter: &ImageFilter,
    page: PageRequest,
    cursor: Option<&ImageCursor>,
) -> Result<ImagePage, DomainError> {
    let after = cursor.map(|c| c.resume(filter)).transpose()?;
    let Listed { items, more, total, exact } =
        images.list(filter, Policy::image_visibility(actor), page, after).await?;
    let next = items.last().filter(|_| more).map(|last| ImageCursor::after(last, filter));
    Ok(ImagePage { page: Page::new(items, page, total), total_exact: exact, next })
}

/// Server-wide limits, on top of each plan's.
#[derive(Debug, Clone, Copy)]
pub struct ImageLimits {
    /// Largest image, in pixels, accepted whatever the plan (`images.max_pixels`).
    pub max_pixels: u64,
    /// Largest upload accepted whatever the plan.
    pub max_upload_bytes: u64,
    /// How long an upload's file may sit in place before its image row must exist; past
    /// it, a file left by an upload cut off between the two is swept
    /// (`storage.sweep_interval_seconds`).
    pub orphan_grace: chrono::Duration,
    /// Uploads and imports one user may have in progress at once, on every server
    /// (`server.max_uploads_per_user`; at least one).
    pub uploads_per_user: u32,
    /// The longest an upload's slot is held: how long it outlives a server that died
    /// holding it (`server.request_timeout_seconds`: no upload request lasts longer).
    pub upload_lease: chrono::Duration,
}

/// What a client may do at once, for one that paces itself (the web app): the uploads one
/// user may have in progress, and the page sizes lists take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientLimits {
    pub max_uploads_per_user: u32,
    pub default_per_page: u32,
    pub max_per_page: u32,
}

/// The adapters the image use-cases drive.
#[derive(Clone)]
pub struct ImagePorts {
    pub images: Arc<dyn ImageRepo>,
    pub blobs: Arc<dyn BlobStore>,
    pub inspector: Arc<dyn ImageInspector>,
    pub thumbnails: Arc<dyn Thumbnails>,
    pub fetcher: Arc<dyn UrlFetcher>,
    pub clock: Arc<dyn Clock>,
    pub removals: Arc<dyn RemovalRepo>,
    pub location: Arc<dyn LocationFilter>,
    pub tasks: Arc<dyn Tasks>,
    /// Uploads in progress per user, on every server.
    pub slots: Arc<dyn UploadSlotRepo>,
    /// This process's turns to run an upload or import.
    pub turns: Arc<dyn UploadTurns>,
}

impl std::fmt::Debug for ImagePorts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImagePorts").finish_non_exhaustive()
    }
}

/// The image use-cases.
#[derive(Clone)]
pub struct Images {
    images: Arc<dyn ImageRepo>,
    blobs: Arc<dyn BlobStore>,
    inspector: Arc<dyn ImageInspector>,
    clock: Arc<dyn Clock>,
    fetcher: Arc<dyn UrlFetcher>,
    thumbnails: Arc<dyn Thumbnails>,
    limits: ImageLimits,
    remover: FileRemover,
    location: Arc<dyn LocationFilter>,
    tasks: Arc<dyn Tasks>,
    admission: Admission,
}

impl std::fmt::Debug for Images {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Images").field("limits", &self.limits).finish_non_exhaustive()
    }
}

impl Images {
    /// What a client may do at once; needs no caller (it is the same for everyone).
    #[must_use]
    pub fn client_limits(&self) -> ClientLimits {
        ClientLimits {
            max_uploads_per_user: self.limits.uploads_per_user.max(1),
            default_per_page: PageRequest::DEFAULT_PER_PAGE,
            max_per_page: PageRequest::MAX_PER_PAGE,
        }
    }

    #[must_use]
    pub fn new(ports: ImagePorts, limits: ImageLimits) -> Self {
        let ImagePorts {
            images,
            blobs,
            inspector,
            thumbnails,
            fetcher,
            clock,
            removals,
            location,
            tasks,
            slots,
            turns,
        } = ports;
        let remover = FileRemover::new(blobs.clone(), removals);
        let admission =
            Admission::new(slots, turns, clock.clone(), tasks.clone(), limits.uploads_per_user, limits.upload_lease);
        Self { images, blobs, inspector, clock, fetcher, thumbnails, limits, remover, location, tasks, admission }
    }

    /// # Errors
    /// `Forbidden` without `images:update`; `NotFound`; `Validation` on `gallery_id`.
    #[tracing::instrument(skip_all, fields(image_id = %id))]
    pub async fn update(&self, actor: &Actor, id: ImageId, patch: ImagePatch) -> Result<Seen<Image>, DomainError> {
        Policy::require(actor, Permission::ImagesUpdate)?;
        let current = self.visible(actor, id).await?;
        if let Some(Some(gallery)) = patch.gallery_id {
            self.ensure_gallery(gallery).await?;
        }
        let updated = if patch.is_empty() {
            current
        } else {
            self.images.update(id, &patch).await?.ok_or(DomainError::NotFound)?
        };
        Ok(Seen::by(actor, self.clock.now(), updated))
    }

    async fn visible(&self, actor: &Actor, id: ImageId) -> Result<Image, DomainError> {
        self.images.by_id(id, Policy::image_visibility(actor)).await?.ok_or(DomainError::NotFound)
    }

    async fn ensure_gallery(&self, id: GalleryId) -> Result<(), DomainError> {
        if self.images.gallery_exists(id).await? {
            Ok(())
        } else {
            Err(DomainError::field("gallery_id", "no such gallery"))
        }
    }
}

#[cfg(test)]
mod tests;

//! Uploading, reading, editing, deleting and approving images.

use std::sync::Arc;

use bytes::Bytes;
use futures_channel::oneshot;
use futures_util::{Stream, TryStreamExt as _};
use sha2::{Digest as _, Sha256};
use tracing::Instrument as _;

use crate::fields::{Fields as _, optional, required};
use crate::ports::{
    BlobBody, BlobStore, Clock, FetchError, ImageInspector, ImageRepo, InspectError, Listed, LocationFilter,
    LocationScrub, RemovalRepo, StagedBlob, Tasks, ThumbnailBytes, Thumbnails, UrlFetcher,
};
use crate::{
    Actor, Approval, BlobKey, ByteRange, Decision, Description, DomainError, GalleryId, Image, ImageCursor,
    ImageFilter, ImageFormat, ImageId, ImagePage, ImagePatch, ImageStatus, NewImage, Page, PageRequest, Permission,
    Policy, Reason, Seen, Title, WebUrl,
};

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
}

/// An uploaded file, streamed to the store's staging area, hashed, counted and sniffed,
/// not yet visible. Dropping it removes the file.
struct Staged {
    /// The image's id, chosen before its first byte is stored: its file is staged under
    /// its final key.
    id: ImageId,
    blob: Box<dyn StagedBlob>,
    size: u64,
    sha256: [u8; 32],
    format: ImageFormat,
}

impl std::fmt::Debug for Staged {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Staged").field("size", &self.size).field("format", &self.format).finish_non_exhaustive()
    }
}

/// The text parts of an upload, parsed.
#[derive(Debug, Clone, Default)]
pub struct UploadMeta {
    pub title: Title,
    pub description: Description,
    pub gallery_id: Option<GalleryId>,
}

/// One part of an upload form, in the order it arrives.
#[derive(Debug)]
pub enum UploadPart<S> {
    /// The file, as it streams in.
    File(S),
    /// A text field, whole.
    Text(UploadField, String),
}

/// The text fields an upload form may carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UploadField {
    Title,
    Description,
    GalleryId,
}

/// An upload form's text fields as they arrive, the last of each kept.
#[derive(Debug, Default)]
struct UploadTexts {
    title: Option<String>,
    description: Option<String>,
    gallery_id: Option<String>,
}

impl UploadTexts {
    fn set(&mut self, field: UploadField, value: String) {
        let slot = match field {
            UploadField::Title => &mut self.title,
            UploadField::Description => &mut self.description,
            UploadField::GalleryId => &mut self.gallery_id,
        };
        *slot = Some(value);
    }

    /// The upload's file (which the form must hold) and metadata, or every refused
    /// field; an empty `gallery_id` is none.
    fn with_file<F>(self, file: Option<F>) -> Result<(F, UploadMeta), DomainError> {
        let gallery = self.gallery_id.filter(|g| !g.is_empty());
        let (title, description, gallery_id, file) = (
            optional("title", self.title.as_deref(), Title::parse),
            optional("description", self.description.as_deref(), Description::parse),
            optional("gallery_id", gallery.as_deref(), GalleryId::parse),
            required("file", file),
        )
            .all()?;
        let meta =
            UploadMeta { title: title.unwrap_or_default(), description: description.unwrap_or_default(), gallery_id };
        Ok((file, meta))
    }
}

/// An image to fetch from a URL, and what to record with it.
#[derive(Debug, Clone)]
pub struct ImageImport {
    pub url: WebUrl,
    pub meta: UploadMeta,
}

/// A moderator's verdict on an image: a rejection needs a reason.
#[derive(Debug, Clone)]
pub struct Review {
    pub decision: Decision,
    pub reason: Option<Reason>,
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
}

impl std::fmt::Debug for ImagePorts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImagePorts").finish_non_exhaustive()
    }
}

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
}

impl std::fmt::Debug for Images {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Images").field("limits", &self.limits).finish_non_exhaustive()
    }
}

impl Images {
    #[must_use]
    pub fn new(ports: ImagePorts, limits: ImageLimits) -> Self {
        let ImagePorts { images, blobs, inspector, thumbnails, fetcher, clock, removals, location, tasks } = ports;
        let remover = FileRemover::new(blobs.clone(), removals);
        Self { images, blobs, inspector, clock, fetcher, thumbnails, limits, remover, location, tasks }
    }

    /// Takes an upload form as it streams: the file goes through [`Images::ingest`] as it
    /// arrives, the text fields may come before or after it, and once every byte is in the
    /// image is recorded in a task of its own ([`Tasks`]). The form's own errors are
    /// answered as they are.
    ///
    /// # Errors
    /// `Forbidden` without `images:upload`; `Validation` for a refused field, a missing
    /// file or a second one; then as [`Images::ingest`] and the recording.
    pub async fn upload<E, F, S>(&self, actor: &Actor, form: F) -> Result<Seen<Image>, E>
    where
        E: From<DomainError>,
        F: Stream<Item = Result<UploadPart<S>, E>>,
        S: Stream<Item = Result<Bytes, DomainError>> + Unpin,
    {
        Policy::require(actor, Permission::ImagesUpload)?;
        let mut form = std::pin::pin!(form);
        let (mut staged, mut texts) = (None, UploadTexts::default());
        while let Some(part) = form.try_next().await? {
            match part {
                UploadPart::File(_) if staged.is_some() => {
                    return Err(DomainError::field("file", "send one file per upload").into());
                }
                UploadPart::File(body) => staged = Some(self.ingest(actor, body).await?),
                UploadPart::Text(field, value) => texts.set(field, value),
            }
        }
        let (staged, meta) = texts.with_file(staged)?;
        Ok(self.finish(actor, staged, meta).await?)
    }

    /// Streams an upload into the store's staging area: counted as it comes, cut off as
    /// soon as it passes the caller's limit, refused as soon as its first bytes show it is
    /// not an image we take, and stored without its location (EXIF GPS, XMP) — hashed and
    /// sized as stored. Never holds the file in memory.
    ///
    /// # Errors
    /// `Forbidden` without `images:upload`; `PayloadTooLarge`; `UnsupportedMediaType`;
    /// the stream's own errors; `Unavailable` when the store cannot take the file.
    #[tracing::instrument(skip_all, fields(user_id = %actor.id()))]
    async fn ingest<S>(&self, actor: &Actor, mut body: S) -> Result<Staged, DomainError>
    where
        S: Stream<Item = Result<Bytes, DomainError>> + Unpin,
    {
        let limit = self.upload_limit(actor)?;
        let id = ImageId::generate();
        let mut sink = Sink {
            blob: self.blobs.stage(&BlobKey::original(id)).await?,
            sha: Sha256::new(),
            size: 0,
            out: Vec::new(),
        };
        let mut received = 0u64;
        let mut head = Vec::with_capacity(ImageFormat::SNIFF_LEN);
        let mut scrub: Option<(ImageFormat, Box<dyn LocationScrub>)> = None;
        while let Some(chunk) = body.try_next().await? {
            received += chunk.len() as u64;
            if received > limit {
                return Err(DomainError::PayloadTooLarge(limit)); // the staged file is dropped: it goes
            }
            match &mut scrub {
                Some((_, scrub)) => sink.write(scrub.as_mut(), &chunk).await?,
                None => {
                    head.extend_from_slice(&chunk);
                    if head.len() >= ImageFormat::SNIFF_LEN {
                        let format = ImageFormat::sniff(&head).ok_or(DomainError::UnsupportedMediaType)?;
                        let (_, begun) = scrub.insert((format, self.location.begin(format)));
                        sink.write(begun.as_mut(), &std::mem::take(&mut head)).await?;
                    }
                }
            }
        }
        let (format, mut scrub) = match scrub {
            Some(started) => started,
            None => {
                // The whole file is shorter than a signature, or exactly one.
                let format = ImageFormat::sniff(&head).ok_or(DomainError::UnsupportedMediaType)?;
                let mut scrub = self.location.begin(format);
                sink.write(scrub.as_mut(), &head).await?;
                (format, scrub)
            }
        };
        sink.finish(scrub.as_mut()).await?;
        Ok(Staged { id, blob: sink.blob, size: sink.size, sha256: sink.sha.finalize().into(), format })
    }

    /// The most bytes `actor` may upload: their plan's limit under the server's.
    fn upload_limit(&self, actor: &Actor) -> Result<u64, DomainError> {
        Policy::require(actor, Permission::ImagesUpload)?;
        let plan = &actor.user.plan(self.clock.now()).features;
        Ok(plan.max_upload_bytes.min(self.limits.max_upload_bytes))
    }

    /// Imports an image from a URL: fetched (HEAD then GET, every hop's address checked,
    /// all within the fetcher's deadline), then through the same pipeline as an upload.
    /// Until the bytes are all in, nothing runs on its own: dropping the future (the
    /// request ended) stops the fetch and removes what was staged; after, the image is
    /// recorded as an upload's is.
    ///
    /// # Errors
    /// `Validation` on `url` when it is refused or the fetch fails or passes its deadline;
    /// `UnsupportedMediaType` when the answer is not an image; then as an upload.
    #[tracing::instrument(skip_all, fields(user_id = %actor.id()))]
    pub async fn import(&self, actor: &Actor, import: ImageImport) -> Result<Seen<Image>, DomainError> {
        let ImageImport { url, meta } = import;
        let limit = self.upload_limit(actor)?;
        let fetch_error = |e: FetchError| match e {
            FetchError::TooLarge(_) => DomainError::PayloadTooLarge(limit),
            FetchError::NotAnImage(_) => DomainError::UnsupportedMediaType,
            FetchError::Refused(why) | FetchError::Failed(why) => DomainError::field("url", why),
        };
        let fetched = self.fetcher.fetch(&url, limit).await.map_err(fetch_error)?;
        let staged = self.ingest(actor, fetched.stream.map_err(fetch_error)).await?;
        self.finish(actor, staged, meta).await
    }

    /// Records an upload whose bytes are all in, in a task of its own: it runs to its end
    /// even when the request that started it is gone.
    async fn finish(&self, actor: &Actor, staged: Staged, meta: UploadMeta) -> Result<Seen<Image>, DomainError> {
        let (answer, answered) = oneshot::channel();
        let (images, actor) = (self.clone(), actor.clone());
        self.tasks.spawn(Box::pin(
            async move {
                // Nobody may be waiting any more; the image is recorded all the same.
                answer.send(images.record(&actor, staged, meta).await).ok();
            }
            .in_current_span(),
        ));
        answered.await.map_err(|_| DomainError::Internal("the upload task ended without an answer".into()))?
    }

    /// Checks a staged upload and records it: quota, then dimensions (from the header,
    /// before any decoding), then a full decode; only then is the file made durable and
    /// visible, and the row written. If the row cannot be written the file is removed.
    ///
    /// # Errors
    /// `QuotaExceeded`; `ImageTooLarge`; `InvalidImage`; `Validation` on `gallery_id`.
    #[tracing::instrument(skip_all, fields(user_id = %actor.id(), size = staged.size))]
    async fn record(&self, actor: &Actor, staged: Staged, meta: UploadMeta) -> Result<Seen<Image>, DomainError> {
        Policy::require(actor, Permission::ImagesUpload)?;
        let quota = actor.user.plan(self.clock.now()).features.storage_quota_bytes;
        if let Some(gallery) = meta.gallery_id {
            self.ensure_gallery(gallery).await?;
        }
        if self.images.stored_bytes(actor.id()).await?.saturating_add(staged.size) > quota {
            return Err(DomainError::QuotaExceeded);
        }
        let (width, height) =
            self.inspector.inspect(staged.blob.reader()?, staged.format, self.limits.max_pixels).await.map_err(
                |e| match e {
                    InspectError::TooLarge { .. } => DomainError::ImageTooLarge(e.to_string()),
                    InspectError::Invalid(why) => DomainError::InvalidImage(why),
                },
            )?;
        let id = staged.id;
        let key = BlobKey::original(id);
        // Recorded before the file is in place: if nothing records the image (a crash, a
        // lost connection), the sweep removes the file once the grace has passed.
        self.remover.removals.schedule(&key, self.clock.now() + self.limits.orphan_grace).await?;
        staged.blob.commit().await?;
        let status = if actor.has(Permission::ImagesModerate) { ImageStatus::Approved } else { ImageStatus::Pending };
        let new = NewImage {
            id,
            title: meta.title,
            description: meta.description,
            status,
            uploaded_by: actor.id(),
            gallery_id: meta.gallery_id,
            width,
            height,
            format: staged.format,
            size_bytes: staged.size,
            sha256: staged.sha256,
            storage_key: key.clone(),
        };
        match self.images.create(&new, quota).await {
            Ok(image) => Ok(Seen::by(actor, self.clock.now(), image)),
            Err(err) => {
                self.remove_blob(&key).await;
                Err(err.into())
            }
        }
    }

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

    /// Deletes the row, then the file. A file that cannot be removed now stays recorded
    /// (the store recorded it with the row's deletion) and the sweep removes it later; the
    /// row is never brought back.
    ///
    /// # Errors
    /// `Forbidden` without `images:delete`; `NotFound`.
    #[tracing::instrument(skip_all, fields(image_id = %id))]
    pub async fn delete(&self, actor: &Actor, id: ImageId) -> Result<(), DomainError> {
        Policy::require(actor, Permission::ImagesDelete)?;
        self.visible(actor, id).await?;
        let key = self.images.delete(id).await?.ok_or(DomainError::NotFound)?;
        self.remove_blob(&key).await;
        Ok(())
    }

    /// Deletes every image; answers how many.
    ///
    /// # Errors
    /// `Forbidden` without `images:purge`.
    #[tracing::instrument(skip_all)]
    pub async fn purge(&self, actor: &Actor) -> Result<u64, DomainError> {
        Policy::require(actor, Permission::ImagesPurge)?;
        let keys = self.images.purge().await?;
        for key in &keys {
            self.remove_blob(key).await;
        }
        tracing::info!(deleted = keys.len(), "purged every image");
        Ok(keys.len() as u64)
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

    /// Approves or rejects an image, keeping the decision in its history.
    ///
    /// # Errors
    /// `Forbidden` without `images:moderate`; `NotFound`; `Validation` on `reason` when a
    /// rejection gives none.
    #[tracing::instrument(skip_all, fields(image_id = %id, decision = review.decision.as_str()))]
    pub async fn decide(&self, actor: &Actor, id: ImageId, review: Review) -> Result<Seen<Image>, DomainError> {
        Policy::require(actor, Permission::ImagesModerate)?;
        let Review { decision, reason } = review;
        let reason = reason.filter(|r| !r.as_str().trim().is_empty());
        if decision == Decision::Rejected && reason.is_none() {
            return Err(DomainError::field("reason", "is required to reject an image"));
        }
        let decided = self.images.decide(id, decision, reason, actor.id()).await?.ok_or(DomainError::NotFound)?;
        Ok(Seen::by(actor, self.clock.now(), decided))
    }

    /// # Errors
    /// `Forbidden` without `images:moderate`; `NotFound`.
    pub async fn approvals(&self, actor: &Actor, id: ImageId) -> Result<Vec<Approval>, DomainError> {
        Policy::require(actor, Permission::ImagesModerate)?;
        self.visible(actor, id).await?;
        Ok(self.images.approvals(id).await?)
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

    /// Removes a file whose row is gone (or was never written), and its thumbnails.
    async fn remove_blob(&self, key: &BlobKey) {
        self.remover.remove(key).await;
    }

    /// Removes the files recorded for removal and now due, that no image refers to: those
    /// of deleted images that could not be removed at once, and those of uploads cut off
    /// between writing the file and recording the image. Answers how many went.
    ///
    /// # Errors
    /// Store failures reading the record.
    #[tracing::instrument(skip_all)]
    pub async fn sweep(&self) -> Result<usize, DomainError> {
        // One server sweeps at a time: two would remove the same files, twice the work.
        let Some(turn) = self.remover.removals.sweep_turn().await? else {
            tracing::debug!("another server is sweeping");
            return Ok(0);
        };
        let swept = self.sweep_due().await;
        turn.end().await;
        swept
    }

    async fn sweep_due(&self) -> Result<usize, DomainError> {
        let due = self.remover.removals.due(self.clock.now(), SWEEP_BATCH).await?;
        let mut removed = 0;
        for key in &due {
            removed += usize::from(self.remover.remove(key).await);
        }
        if !due.is_empty() {
            tracing::info!(due = due.len(), removed, "swept files recorded for removal");
        }
        Ok(removed)
    }
}

/// Where an upload's scrubbed bytes go: hashed, counted and written as stored.
struct Sink {
    blob: Box<dyn StagedBlob>,
    sha: Sha256,
    size: u64,
    out: Vec<u8>,
}

impl Sink {
    async fn write(&mut self, scrub: &mut dyn LocationScrub, input: &[u8]) -> Result<(), DomainError> {
        self.out.clear();
        scrub.feed(input, &mut self.out);
        self.put().await
    }

    async fn finish(&mut self, scrub: &mut dyn LocationScrub) -> Result<(), DomainError> {
        self.out.clear();
        scrub.finish(&mut self.out);
        self.put().await
    }

    async fn put(&mut self) -> Result<(), DomainError> {
        if !self.out.is_empty() {
            self.sha.update(&self.out);
            self.size += self.out.len() as u64;
            self.blob.write(&self.out).await?;
        }
        Ok(())
    }
}

/// Keys a sweep takes at once; the next sweep takes the rest.
const SWEEP_BATCH: u32 = 1000;

#[cfg(test)]
mod tests;

/// Removes an image's files — the original and its thumbnails — and forgets their removal
/// record once both are gone. A failure is logged and leaves the record for the sweep.
#[derive(Clone)]
pub(crate) struct FileRemover {
    blobs: Arc<dyn BlobStore>,
    removals: Arc<dyn RemovalRepo>,
}

impl FileRemover {
    pub(crate) fn new(blobs: Arc<dyn BlobStore>, removals: Arc<dyn RemovalRepo>) -> Self {
        Self { blobs, removals }
    }

    /// Whether the files are gone.
    pub(crate) async fn remove(&self, key: &BlobKey) -> bool {
        let original = self.blobs.delete(key).await;
        let thumbnails = self.blobs.delete_under(&key.thumbnails()).await;
        if let (Ok(()), Ok(())) = (&original, &thumbnails) {
            if let Err(e) = self.removals.done(key).await {
                // Harmless: the sweep finds the files gone and forgets the key then.
                tracing::warn!(key = key.as_str(), error = %e, "could not forget a removed file's record");
            }
            return true;
        }
        for e in [original.err(), thumbnails.err()].into_iter().flatten() {
            tracing::warn!(key = key.as_str(), error = %e, "could not remove files now; the sweep will retry");
        }
        false
    }
}

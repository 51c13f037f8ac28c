//! An upload or an import: streamed into the store's staging area (hashed, counted,
//! sniffed and stripped of its location as it comes), then checked and recorded.

use bytes::Bytes;
use futures_channel::oneshot;
use futures_util::{Stream, TryStreamExt as _};
use sha2::{Digest as _, Sha256};
use tracing::Instrument as _;

use super::Images;
use crate::fields::{Fields as _, optional, required};
use crate::ports::{FetchError, InspectError, Inspected, LocationScrub, StagedBlob};
use crate::{
    Actor, BlobKey, Description, DomainError, GalleryId, Image, ImageFormat, ImageId, ImageStatus, NewImage,
    Permission, Policy, Seen, Title, WebUrl,
};

/// An uploaded file, streamed to the store's staging area, hashed, counted and sniffed,
/// not yet visible. Dropping it removes the file.
pub(super) struct Staged {
    /// The image's id, chosen before its first byte is stored: its file is staged under
    /// its final key.
    pub(super) id: ImageId,
    pub(super) blob: Box<dyn StagedBlob>,
    pub(super) size: u64,
    pub(super) sha256: [u8; 32],
    pub(super) format: ImageFormat,
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

/// The text fields an upload form may carry, by their part names: the one list of the
/// form's names, which the HTTP adapter reads parts and documents the form by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UploadField {
    Title,
    Description,
    GalleryId,
}

impl UploadField {
    /// The name of the part that carries the file.
    pub const FILE: &'static str = "file";
    /// Every text field, in the form's order.
    pub const ALL: [Self; 3] = [Self::Title, Self::Description, Self::GalleryId];

    /// The part's name in the form.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Title => "title",
            Self::Description => "description",
            Self::GalleryId => "gallery_id",
        }
    }

    /// The text field a part of this name carries, if any.
    #[must_use]
    pub fn named(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|field| field.name() == name)
    }
}

/// An upload form's text fields as they arrive, the last of each kept.
#[derive(Debug, Default)]
pub(super) struct UploadTexts {
    pub(super) title: Option<String>,
    pub(super) description: Option<String>,
    pub(super) gallery_id: Option<String>,
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
    pub(super) fn with_file<F>(self, file: Option<F>) -> Result<(F, UploadMeta), DomainError> {
        let gallery = self.gallery_id.filter(|g| !g.is_empty());
        let (title, description, gallery_id, file) = (
            optional(UploadField::Title.name(), self.title.as_deref(), Title::parse),
            optional(UploadField::Description.name(), self.description.as_deref(), Description::parse),
            optional(UploadField::GalleryId.name(), gallery.as_deref(), GalleryId::parse),
            required(UploadField::FILE, file),
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

impl Images {
    /// Takes an upload form as it streams: the file goes through [`Images::ingest`] as it
    /// arrives, the text fields may come before or after it, and once every byte is in the
    /// image is recorded in a task of its own ([`Tasks`]). The form's own errors are
    /// answered as they are.
    ///
    /// The upload holds one of the user's slots ([`super::admission`]) until it ends.
    ///
    /// # Errors
    /// `Forbidden` without `images:upload`; `RateLimited` when the user already has every
    /// upload slot; `Validation` for a refused field, a missing file or a second one; then
    /// as [`Images::ingest`] and the recording.
    pub async fn upload<E, F, S>(&self, actor: &Actor, form: F) -> Result<Seen<Image>, E>
    where
        E: From<DomainError>,
        F: Stream<Item = Result<UploadPart<S>, E>>,
        S: Stream<Item = Result<Bytes, DomainError>> + Unpin,
    {
        Policy::require(actor, Permission::ImagesUpload)?;
        let _slot = self.admission.admit(actor.id()).await?;
        let mut form = std::pin::pin!(form);
        let (mut staged, mut texts) = (None, UploadTexts::default());
        while let Some(part) = form.try_next().await? {
            match part {
                UploadPart::File(_) if staged.is_some() => {
                    return Err(DomainError::field(UploadField::FILE, "send one file per upload").into());
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
    pub(super) async fn ingest<S>(&self, actor: &Actor, mut body: S) -> Result<Staged, DomainError>
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
    /// `UnsupportedMediaType` when the answer is not an image; then as an upload (the
    /// import holds an upload slot too).
    #[tracing::instrument(skip_all, fields(user_id = %actor.id()))]
    pub async fn import(&self, actor: &Actor, import: ImageImport) -> Result<Seen<Image>, DomainError> {
        let ImageImport { url, meta } = import;
        let limit = self.upload_limit(actor)?;
        let _slot = self.admission.admit(actor.id()).await?;
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
    pub(super) async fn record(
        &self,
        actor: &Actor,
        staged: Staged,
        meta: UploadMeta,
    ) -> Result<Seen<Image>, DomainError> {
        Policy::require(actor, Permission::ImagesUpload)?;
        let quota = actor.user.plan(self.clock.now()).features.storage_quota_bytes;
        if let Some(gallery) = meta.gallery_id {
            self.ensure_gallery(gallery).await?;
        }
        if self.images.stored_bytes(actor.id()).await?.saturating_add(staged.size) > quota {
            return Err(DomainError::QuotaExceeded);
        }
        let inspected =
            self.inspector.inspect(staged.blob.reader()?, staged.format, self.limits.max_pixels).await.map_err(
                |e| match e {
                    InspectError::TooLarge { .. } => DomainError::ImageTooLarge(e.to_string()),
                    InspectError::Invalid(why) => DomainError::InvalidImage(why),
                },
            )?;
        let key = BlobKey::original(staged.id);
        // Recorded before the file is in place: if nothing records the image (a crash, a
        // lost connection), the sweep removes the file once the grace has passed, and not
        // before the pin is let go, however long recording takes.
        let pin = self.remover.removals.schedule(&key, self.clock.now() + self.limits.orphan_grace).await?;
        let recorded = self.put_in_place(staged, key, meta, actor, quota, inspected).await;
        // Let go off the answer's path: the row is written (or the file gone) already.
        self.tasks.spawn(Box::pin(async move { pin.end().await }));
        recorded
    }

    /// Moves the file under its key and records the image (the file goes if that fails).
    async fn put_in_place(
        &self,
        staged: Staged,
        key: BlobKey,
        meta: UploadMeta,
        actor: &Actor,
        quota: u64,
        Inspected { width, height, shot }: Inspected,
    ) -> Result<Seen<Image>, DomainError> {
        let id = staged.id;
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
            shot,
        };
        match self.images.create(&new, quota).await {
            Ok(image) => Ok(Seen::by(actor, self.clock.now(), image)),
            Err(err) => {
                self.remove_blob(&key).await;
                Err(err.into())
            }
        }
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
        scrub.finish(&mut self.out).map_err(DomainError::InvalidImage)?;
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

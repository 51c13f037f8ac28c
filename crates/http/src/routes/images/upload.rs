//! Reading a multipart upload as it streams, and the per-user upload slots.

use std::sync::Arc;

use actix_multipart::{Field, Multipart, MultipartError};
use bytes::Bytes;
use futures_util::{Stream, StreamExt as _, TryStreamExt as _};
use gallery_domain::images::{UploadField, UploadPart};
use gallery_domain::ports::{Clock, SlotId, UploadSlotRepo};
use gallery_domain::{DomainError, Image, UserId};

use crate::ApiError;

/// Text parts of an upload are small; anything bigger is refused, not buffered.
const TEXT_PART_MAX: usize = 16 * 1024;

/// An upload's form as it arrives, for [`gallery_domain::images::Images::upload`]: the
/// `file` part as a stream, each text part read whole, unknown parts drained.
///
/// Its errors: 415 when the request is not multipart; 400 for a malformed body; 422 for
/// a text part that is too long or not UTF-8.
pub(crate) fn parts(
    form: Multipart,
) -> impl Stream<Item = Result<UploadPart<impl Stream<Item = Result<Bytes, DomainError>> + Unpin>, ApiError>> {
    form.map_err(|e| form_error(&e)).try_filter_map(|field| async move {
        let name = field.name().unwrap_or_default().to_owned();
        let text = match name.as_str() {
            "file" => return Ok(Some(UploadPart::File(field.map_err(|e| multipart_error(&e))))),
            "title" => UploadField::Title,
            "description" => UploadField::Description,
            "gallery_id" => UploadField::GalleryId,
            _ => {
                field.map(|_| ()).collect::<()>().await;
                return Ok(None);
            }
        };
        Ok(Some(UploadPart::Text(text, read_text(field, &name).await?)))
    })
}

/// The form itself is not multipart: the request's content type is wrong (415).
fn form_error(e: &MultipartError) -> ApiError {
    match e {
        MultipartError::ContentTypeMissing
        | MultipartError::ContentTypeParse
        | MultipartError::ContentTypeIncompatible => ApiError::UnsupportedMediaType("send multipart/form-data".into()),
        other => multipart_error(other).into(),
    }
}

fn multipart_error(e: &MultipartError) -> DomainError {
    DomainError::BadRequest(format!("malformed multipart body: {e}"))
}

async fn read_text(mut field: Field, name: &str) -> Result<String, ApiError> {
    let mut buf = Vec::new();
    while let Some(chunk) = field.try_next().await.map_err(|e| multipart_error(&e))? {
        if buf.len() + chunk.len() > TEXT_PART_MAX {
            return Err(DomainError::field(name, "is too long").into());
        }
        buf.extend_from_slice(&chunk);
    }
    String::from_utf8(buf).map_err(|_| DomainError::field(name, "must be UTF-8 text").into())
}

/// Counts a stored image for `/metrics`.
pub(crate) fn stored(image: &Image, how: &'static str) {
    metrics::counter!("gallery_uploads_total", "kind" => how).increment(1);
    metrics::counter!("gallery_upload_bytes_total", "kind" => how).increment(image.size_bytes);
}

/// Uploads and imports in progress: at most `per_user` for one user at once, counted on
/// every server through the [`UploadSlotRepo`] port (one more is refused with 429
/// `rate_limited`, so that one user's slow uploads never hold every slot), and at most
/// `max` in all in this process, the rest waiting their turn (within the request timeout).
#[derive(Clone)]
pub struct UploadSlots {
    /// This process's turns, shared by every worker.
    all: Arc<tokio::sync::Semaphore>,
    per_user: u32,
    /// How long a slot outlives a server that died holding it.
    lease: chrono::TimeDelta,
    repo: Arc<dyn UploadSlotRepo>,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for UploadSlots {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UploadSlots").field("per_user", &self.per_user).finish_non_exhaustive()
    }
}

/// How long a user told to wait for a slot is asked to wait.
const SLOT_RETRY: std::time::Duration = std::time::Duration::from_secs(5);

/// The process-wide part of [`UploadSlots`]: how many uploads it runs at once.
#[derive(Debug, Clone)]
pub struct UploadTurns(Arc<tokio::sync::Semaphore>);

impl UploadTurns {
    #[must_use]
    pub fn new(max: usize) -> Self {
        Self(Arc::new(tokio::sync::Semaphore::new(max.max(1))))
    }
}

impl UploadSlots {
    /// `per_user` slots per user, each held for at most `lease`, over `repo`; `turns` is
    /// shared by every worker of the process.
    #[must_use]
    pub fn new(
        turns: &UploadTurns,
        per_user: u32,
        lease: std::time::Duration,
        repo: Arc<dyn UploadSlotRepo>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            all: turns.0.clone(),
            per_user: per_user.max(1),
            lease: chrono::TimeDelta::from_std(lease).unwrap_or(chrono::TimeDelta::hours(1)),
            repo,
            clock,
        }
    }

    /// A slot for one of `user`'s uploads, held until the guard drops.
    pub(crate) async fn acquire(&self, user: UserId) -> Result<UploadSlot, ApiError> {
        let until = self.clock.now() + self.lease;
        let Some(id) = self.repo.take(user, self.per_user, until).await.map_err(DomainError::from)? else {
            metrics::counter!("gallery_rate_limited_total", "scope" => "uploads").increment(1);
            return Err(ApiError::RateLimited(SLOT_RETRY));
        };
        metrics::gauge!("gallery_uploads_in_progress").increment(1.0);
        // Held from here: a request dropped while waiting for its turn gives it back.
        let mut slot = UploadSlot { id, repo: self.repo.clone(), _turn: None };
        slot._turn = self.all.clone().acquire_owned().await.ok();
        Ok(slot)
    }
}

/// One upload's slot; dropping it gives it back.
pub(crate) struct UploadSlot {
    id: SlotId,
    repo: Arc<dyn UploadSlotRepo>,
    _turn: Option<tokio::sync::OwnedSemaphorePermit>,
}

impl Drop for UploadSlot {
    fn drop(&mut self) {
        metrics::gauge!("gallery_uploads_in_progress").decrement(1.0);
        let (repo, id) = (self.repo.clone(), self.id);
        let give_back = async move {
            if let Err(e) = repo.give_back(id).await {
                // Not lost: the slot expires with its lease.
                tracing::warn!(error = %e, "could not give an upload slot back; it is free once its lease ends");
            }
        };
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => drop(runtime.spawn(give_back)),
            Err(_) => tracing::warn!("an upload slot outlived the runtime; it is free once its lease ends"),
        }
    }
}

//! Deleting images (one, or all of them) and removing their files: at once when the store
//! answers, else by the sweep.

use std::sync::Arc;

use super::Images;
use crate::ports::{BlobStore, RemovalRepo};
use crate::{Actor, BlobKey, DomainError, ImageId, Permission, Policy};

impl Images {
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

    /// Removes a file whose row is gone (or was never written), and its thumbnails.
    pub(super) async fn remove_blob(&self, key: &BlobKey) {
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
        let now = self.clock.now();
        let due = self.remover.removals.due(now, SWEEP_BATCH).await?;
        let mut removed = 0;
        for key in &due {
            // An upload still recording its image pins its key: passed by until it is done.
            let Some(claim) = self.remover.removals.claim(key, now).await? else { continue };
            removed += usize::from(self.remover.remove(key).await);
            claim.end().await;
        }
        if !due.is_empty() {
            tracing::info!(due = due.len(), removed, "swept files recorded for removal");
        }
        Ok(removed)
    }
}

/// Keys a sweep takes at once; the next sweep takes the rest.
const SWEEP_BATCH: u32 = 1000;

/// Removes an image's files — the original and its thumbnails — and forgets their removal
/// record once both are gone. A failure is logged and leaves the record for the sweep.
#[derive(Clone)]
pub(crate) struct FileRemover {
    blobs: Arc<dyn BlobStore>,
    pub(super) removals: Arc<dyn RemovalRepo>,
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

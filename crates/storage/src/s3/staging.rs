//! An upload on its way to the bucket: its first part held in memory, then a multipart
//! upload one part at a time, spooled for reading back; aborted if dropped uncommitted.

use std::sync::Arc;

use async_trait::async_trait;
use bytes::BytesMut;
use gallery_domain::StorageError;
use gallery_domain::ports::{ReadSeek, StagedBlob};
use object_store::path::Path;
use object_store::{MultipartUpload, ObjectStore, PutPayload};

use super::{Aborts, PART_BYTES, failed, unavailable};
use crate::spool::Spool;

/// An upload on its way to the bucket.
pub(super) struct S3Staged {
    pub(super) store: Arc<dyn ObjectStore>,
    pub(super) path: Path,
    /// What has not been sent yet: less than a part.
    pub(super) pending: BytesMut,
    /// Started once the file outgrows one part.
    pub(super) upload: Option<Box<dyn MultipartUpload>>,
    /// Every byte written, for reading back, once there is more than a part.
    pub(super) spool: Option<Spool>,
    pub(super) aborts: Aborts,
}

impl S3Staged {
    async fn send_part(&mut self) -> Result<(), StorageError> {
        if self.spool.is_none() {
            // The file outgrows memory: from here on it is read back from disk.
            let mut spool = Spool::create().await?;
            spool.write(&self.pending).await?;
            self.spool = Some(spool);
        }
        let part = PutPayload::from(self.pending.split().freeze());
        let upload = match &mut self.upload {
            Some(upload) => upload,
            None => self
                .upload
                .insert(self.store.put_multipart(&self.path).await.map_err(failed("starting a multipart upload"))?),
        };
        upload.put_part(part).await.map_err(failed("sending a part of an upload"))
    }
}

#[async_trait]
impl StagedBlob for S3Staged {
    async fn write(&mut self, chunk: &[u8]) -> Result<(), StorageError> {
        let mut rest = chunk;
        while !rest.is_empty() {
            let room = PART_BYTES - self.pending.len();
            let (now, later) = rest.split_at(room.min(rest.len()));
            // Once spooling, every byte is spooled as it comes; before, `send_part` spools
            // all that came.
            if let Some(spool) = &mut self.spool {
                spool.write(now).await?;
            }
            if self.pending.capacity() == 0 {
                // One allocation per part: its pages count only once written to.
                self.pending.reserve(PART_BYTES);
            }
            self.pending.extend_from_slice(now);
            rest = later;
            if self.pending.len() == PART_BYTES {
                self.send_part().await?;
            }
        }
        Ok(())
    }

    fn reader(&self) -> Result<Box<dyn ReadSeek>, StorageError> {
        match &self.spool {
            Some(spool) => spool.read_back(),
            None => Ok(Box::new(std::io::Cursor::new(self.pending.to_vec()))),
        }
    }

    async fn commit(mut self: Box<Self>) -> Result<(), StorageError> {
        if self.upload.is_some() && !self.pending.is_empty() {
            self.send_part().await?;
        }
        let Some(mut upload) = self.upload.take() else {
            // Less than a part in all: one PUT.
            let whole = PutPayload::from(self.pending.split().freeze());
            return self.store.put(&self.path, whole).await.map(drop).map_err(failed("storing an upload"));
        };
        match upload.complete().await {
            Ok(_) => Ok(()),
            Err(e) => {
                self.upload = Some(upload); // aborted on drop
                Err(unavailable("completing an upload", &e))
            }
        }
    }
}

impl Drop for S3Staged {
    fn drop(&mut self) {
        let Some(mut upload) = self.upload.take() else { return };
        let path = self.path.clone();
        let key = path.to_string();
        let spawned = self.aborts.spawn(async move {
            if let Err(e) = upload.abort().await {
                tracing::error!(error = %e, key = %path, "could not abort an unfinished multipart upload");
            }
        });
        if !spawned {
            tracing::error!(key, "an unfinished multipart upload outlived the runtime");
        }
    }
}

//! Blob storage adapters for Gallery, behind the domain's `BlobStore` port:
//! [`FsBlobStore`] keeps blobs as files under a root folder, [`S3BlobStore`] as objects in
//! an S3-compatible bucket. [`Storage`] is the one the configuration names.

use std::path::Path;
use std::sync::Arc;

use gallery_domain::StorageError;
use gallery_domain::ports::BlobStore;

mod fs;
mod s3;
mod spool;

pub use fs::FsBlobStore;
pub use s3::{PART_BYTES, S3BlobStore, S3Settings};

/// Bytes handed to the blocking pool per write to a file (a stored file or a spool).
pub(crate) const WRITE_BUFFER: usize = 128 * 1024;

/// A file-system failure, as the domain hears it: the cause (with paths) is for the logs;
/// the domain hears only "unavailable".
pub(crate) fn io_unavailable(context: &str, e: &std::io::Error) -> StorageError {
    tracing::error!(error = %e, "storage: {context}");
    StorageError::Unavailable(format!("{context}: {}", e.kind()))
}

/// `storage.backend`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    /// Files under `storage.root`.
    #[default]
    Fs,
    /// Objects in the `storage.s3` bucket.
    S3,
}

/// The configured store.
#[derive(Debug, Clone)]
pub enum Storage {
    Fs(Arc<FsBlobStore>),
    S3(Arc<S3BlobStore>),
}

impl Storage {
    /// Opens the store `backend` names: the folder `root`, or the bucket `s3` describes.
    /// Uploads not written for `unfinished_after` are dead (see [`FsBlobStore::open`]).
    ///
    /// # Errors
    /// `Unavailable` when the root cannot be created, or no client can be built from `s3`.
    pub fn open(
        backend: Backend,
        root: &Path,
        s3: &S3Settings,
        unfinished_after: std::time::Duration,
    ) -> Result<Self, StorageError> {
        Ok(match backend {
            Backend::Fs => Self::Fs(Arc::new(FsBlobStore::open(root, unfinished_after)?)),
            Backend::S3 => Self::S3(Arc::new(S3BlobStore::open(s3)?)),
        })
    }

    /// The store, as the use-cases see it.
    #[must_use]
    pub fn blobs(&self) -> Arc<dyn BlobStore> {
        match self {
            Self::Fs(fs) => fs.clone(),
            Self::S3(s3) => s3.clone(),
        }
    }

    /// Whether the store can take files now (what `/health/ready` asks).
    ///
    /// # Errors
    /// Why it cannot, in words for the logs.
    pub async fn check(&self) -> Result<(), String> {
        match self {
            Self::Fs(fs) => fs.check_writable().await.map_err(|e| format!("the storage root takes no file: {e}")),
            Self::S3(s3) => s3.check_writable().await.map_err(|e| format!("the bucket takes no object: {e}")),
        }
    }

    /// Waits for the clean-up of uploads dropped so far (aborting their multipart uploads).
    pub async fn settled(&self) {
        if let Self::S3(s3) = self {
            s3.settled().await;
        }
    }
}

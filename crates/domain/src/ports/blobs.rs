//! Where image bytes live.

use async_trait::async_trait;

use crate::{BlobKey, StorageError};

/// A readable, seekable source of bytes (a staged file read back).
pub trait ReadSeek: std::io::Read + std::io::Seek + Send {}

impl<T: std::io::Read + std::io::Seek + Send> ReadSeek for T {}

/// Bytes read from the blob store.
pub struct BlobBody {
    /// The whole blob, or the range asked for.
    pub len: u64,
    pub stream: futures_util::stream::BoxStream<'static, Result<bytes::Bytes, StorageError>>,
}

impl std::fmt::Debug for BlobBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlobBody").field("len", &self.len).finish_non_exhaustive()
    }
}

/// A file being written under the key it was staged for: nothing is visible under that key
/// until [`StagedBlob::commit`]; dropping it uncommitted removes what was written (an
/// object store aborts its multipart upload).
#[async_trait]
pub trait StagedBlob: Send {
    /// # Errors
    /// `Unavailable` when the store cannot take the bytes (disk full, unwritable root).
    async fn write(&mut self, chunk: &[u8]) -> Result<(), StorageError>;

    /// Reads back what was written, for checks that need the whole file.
    ///
    /// # Errors
    /// `Unavailable` when it cannot be read.
    fn reader(&self) -> Result<Box<dyn ReadSeek>, StorageError>;

    /// Makes the bytes durable and visible under the key they were staged for.
    ///
    /// # Errors
    /// `Unavailable` when the store cannot.
    async fn commit(self: Box<Self>) -> Result<(), StorageError>;
}

/// Where image bytes live: the local file system, or an S3-compatible object store.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait BlobStore: Send + Sync {
    /// Starts writing a new blob that will be `key` once committed. The key is known from
    /// the start, so that an object store can stream the bytes to it as they arrive.
    ///
    /// # Errors
    /// `Unavailable` when the store cannot take a file.
    async fn stage(&self, key: &BlobKey) -> Result<Box<dyn StagedBlob>, StorageError>;

    /// Streams `key`'s bytes, or the inclusive byte `range` of them.
    ///
    /// # Errors
    /// `NotFound`; `Unavailable`.
    async fn open(&self, key: &BlobKey, range: Option<(u64, u64)>) -> Result<BlobBody, StorageError>;

    /// Removes `key`; a missing key is not an error.
    ///
    /// # Errors
    /// `Unavailable` when the file exists but cannot be removed.
    async fn delete(&self, key: &BlobKey) -> Result<(), StorageError>;

    /// Removes every blob whose key starts with `prefix/`; none is not an error.
    ///
    /// # Errors
    /// `Unavailable` when they exist but cannot be removed.
    async fn delete_under(&self, prefix: &BlobKey) -> Result<(), StorageError>;

    /// Stores small, derived bytes (a thumbnail) under `key`, atomically.
    ///
    /// # Errors
    /// `Unavailable` when the store cannot.
    async fn put(&self, key: &BlobKey, bytes: bytes::Bytes) -> Result<(), StorageError>;

    /// Reads `key` whole and seekably, for decoding.
    ///
    /// # Errors
    /// `NotFound`; `Unavailable`.
    async fn reader(&self, key: &BlobKey) -> Result<Box<dyn ReadSeek>, StorageError>;
}

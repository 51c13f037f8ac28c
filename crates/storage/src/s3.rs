//! [`S3BlobStore`]: blobs as objects in an S3-compatible bucket (AWS S3, MinIO, Ceph RGW,
//! R2, Garage...), through the `object_store` crate.
//!
//! An upload streams to the bucket as it arrives: its first [`PART_BYTES`] are held, and a
//! larger file goes up as a multipart upload one part at a time, so a server holds at most
//! one part of each upload in memory. A larger file is also spooled to an unnamed temporary
//! file, for the checks that read the whole file back (a smaller one is read back from
//! memory). Nothing is visible under the key
//! before the commit completes the upload; an upload dropped before that is aborted, so
//! no part stays in the bucket.

mod config;
mod staging;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use bytes::{Bytes, BytesMut};
use futures_util::{StreamExt as _, TryStreamExt as _};
use gallery_domain::ports::{BlobBody, BlobStore, ReadSeek, StagedBlob};
use gallery_domain::{BlobKey, StorageError};
use object_store::aws::AmazonS3;
use object_store::path::Path;
use object_store::prefix::PrefixStore;
use object_store::{BackoffConfig, GetOptions, GetRange, ObjectStore, PutPayload, RetryConfig};
use tokio_util::task::TaskTracker;

use crate::spool::Spool;
pub use config::S3Settings;
use config::builder;
use staging::S3Staged;

/// The size of every part of a multipart upload but the last (S3's least is 5 MiB), and
/// the most a smaller upload holds before it is sent whole.
pub const PART_BYTES: usize = 5 << 20;

/// Objects up to this size are read into memory to be decoded; larger ones are spooled to
/// an unnamed temporary file first.
const READ_IN_MEMORY: u64 = 8 << 20;

/// Blobs as objects in one bucket, under an optional key prefix.
#[derive(Clone)]
pub struct S3BlobStore {
    store: Arc<dyn ObjectStore>,
    /// Aborts of uploads dropped uncommitted, still running.
    aborts: Aborts,
}

/// Where the aborts of dropped uploads run: on the runtime the store was opened on (the
/// server's main one, which outlives the HTTP workers, so shutdown can wait for them).
#[derive(Debug, Clone)]
struct Aborts {
    tracker: TaskTracker,
    runtime: Option<tokio::runtime::Handle>,
}

impl Aborts {
    fn spawn(&self, abort: impl Future<Output = ()> + Send + 'static) -> bool {
        match self.runtime.clone().or_else(|| tokio::runtime::Handle::try_current().ok()) {
            Some(runtime) => {
                self.tracker.spawn_on(abort, &runtime);
                true
            }
            None => false,
        }
    }
}

impl std::fmt::Debug for S3BlobStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3BlobStore").field("store", &self.store.to_string()).finish_non_exhaustive()
    }
}

fn unavailable(context: &str, e: &object_store::Error) -> StorageError {
    tracing::error!(error = %e, "storage: {context}");
    StorageError::Unavailable(format!("{context}: {e}"))
}

fn failed(context: &'static str) -> impl Fn(object_store::Error) -> StorageError {
    move |e| match e {
        object_store::Error::NotFound { .. } => StorageError::NotFound,
        e => unavailable(context, &e),
    }
}

impl S3BlobStore {
    /// A client of the bucket `settings` name. Connects to nothing yet: a bucket that is
    /// down shows in `/health/ready` and in 503 answers, not at startup.
    ///
    /// # Errors
    /// `Unavailable` for settings no client can be built from (no bucket, a bad endpoint).
    pub fn open(settings: &S3Settings) -> Result<Self, StorageError> {
        let s3: AmazonS3 = builder(settings)?
            // A store that is down is answered 503 in seconds, not after minutes of retries.
            .with_retry(RetryConfig {
                backoff: BackoffConfig::default(),
                max_retries: 2,
                retry_timeout: Duration::from_secs(5),
            })
            .build()
            .map_err(|e| StorageError::Unavailable(format!("storage.s3: {e}")))?;
        let prefix = settings.prefix.trim_matches('/');
        let store: Arc<dyn ObjectStore> =
            if prefix.is_empty() { Arc::new(s3) } else { Arc::new(PrefixStore::new(s3, prefix)) };
        let aborts = Aborts { tracker: TaskTracker::new(), runtime: tokio::runtime::Handle::try_current().ok() };
        Ok(Self { store, aborts })
    }

    /// Whether the bucket takes objects now (what `/health/ready` asks): stores and removes
    /// a probe object. (A read alone cannot tell a missing bucket from a missing object.)
    ///
    /// # Errors
    /// Why the bucket cannot be reached or written.
    pub async fn check_writable(&self) -> Result<(), StorageError> {
        let probe = Path::from(format!(".probe-{}", uuid::Uuid::new_v4().simple()));
        self.store
            .put(&probe, PutPayload::from_static(b"ok"))
            .await
            .map_err(|e| unavailable("writing to the bucket", &e))?;
        self.store.delete(&probe).await.map_err(|e| unavailable("writing to the bucket", &e))
    }

    /// Waits until the aborts of uploads dropped so far have run (tests, and shutdown).
    pub async fn settled(&self) {
        let tracker = &self.aborts.tracker;
        tracker.close();
        tracker.wait().await;
        tracker.reopen();
    }
}

fn path(key: &BlobKey) -> Path {
    Path::from(key.as_str())
}

#[async_trait]
impl BlobStore for S3BlobStore {
    #[tracing::instrument(name = "BlobStore.stage", level = "debug", skip_all, fields(storage.backend = "s3"))]
    async fn stage(&self, key: &BlobKey) -> Result<Box<dyn StagedBlob>, StorageError> {
        Ok(Box::new(S3Staged {
            store: self.store.clone(),
            path: path(key),
            pending: BytesMut::new(),
            upload: None,
            spool: None,
            aborts: self.aborts.clone(),
        }))
    }

    #[tracing::instrument(name = "BlobStore.open", level = "debug", skip_all, fields(storage.backend = "s3"))]
    async fn open(&self, key: &BlobKey, range: Option<(u64, u64)>) -> Result<BlobBody, StorageError> {
        let options =
            GetOptions { range: range.map(|(start, end)| GetRange::Bounded(start..end + 1)), ..GetOptions::default() };
        let got = self.store.get_opts(&path(key), options).await.map_err(failed("reading an object"))?;
        let len = got.range.end - got.range.start;
        if range.is_some_and(|(start, end)| end - start + 1 != len) {
            return Err(StorageError::Unavailable("range outside the object".into()));
        }
        let stream = got.into_stream().map_err(|e| unavailable("reading an object", &e));
        Ok(BlobBody { len, stream: Box::pin(stream) })
    }

    #[tracing::instrument(name = "BlobStore.delete", level = "debug", skip_all, fields(storage.backend = "s3"))]
    async fn delete(&self, key: &BlobKey) -> Result<(), StorageError> {
        match self.store.delete(&path(key)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(unavailable("removing an object", &e)),
        }
    }

    /// Lists only the objects under `prefix/` (an image's few thumbnails), never the
    /// bucket, and removes them in one batch.
    #[tracing::instrument(name = "BlobStore.delete_under", level = "debug", skip_all, fields(storage.backend = "s3"))]
    async fn delete_under(&self, prefix: &BlobKey) -> Result<(), StorageError> {
        let found = self.store.list(Some(&path(prefix))).map_ok(|meta| meta.location).boxed();
        let removed: Vec<Path> = self.store.delete_stream(found).try_collect().await.or_else(|e| match e {
            object_store::Error::NotFound { .. } => Ok(Vec::new()),
            e => Err(unavailable("removing objects", &e)),
        })?;
        tracing::debug!(prefix = prefix.as_str(), removed = removed.len(), "removed objects under a prefix");
        Ok(())
    }

    #[tracing::instrument(name = "BlobStore.put", level = "debug", skip_all, fields(storage.backend = "s3"))]
    async fn put(&self, key: &BlobKey, bytes: Bytes) -> Result<(), StorageError> {
        self.store.put(&path(key), PutPayload::from(bytes)).await.map(drop).map_err(failed("storing an object"))
    }

    #[tracing::instrument(name = "BlobStore.reader", level = "debug", skip_all, fields(storage.backend = "s3"))]
    async fn reader(&self, key: &BlobKey) -> Result<Box<dyn ReadSeek>, StorageError> {
        let got = self.store.get(&path(key)).await.map_err(failed("reading an object"))?;
        if got.meta.size <= READ_IN_MEMORY {
            let bytes = got.bytes().await.map_err(failed("reading an object"))?;
            return Ok(Box::new(std::io::Cursor::new(bytes)));
        }
        let mut spool = Spool::create().await?;
        let mut stream = got.into_stream();
        while let Some(chunk) = stream.next().await {
            spool.write(&chunk.map_err(failed("reading an object"))?).await?;
        }
        spool.read_back()
    }
}

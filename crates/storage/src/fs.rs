//! [`FsBlobStore`]: blobs as files under a root folder. Writes go to a temporary file in the root, are fsynced, then renamed into place
//! (and the folder fsynced), so a key is either absent or complete, even across a crash.

use std::io::{ErrorKind, SeekFrom};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use futures_util::TryStreamExt as _;
use gallery_domain::ports::{BlobBody, BlobStore, ReadSeek, StagedBlob};
use gallery_domain::{BlobKey, StorageError};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use crate::{WRITE_BUFFER, io_unavailable};

/// Temporary files start with this; nothing else in the root does.
const TMP_PREFIX: &str = ".tmp-";

/// Bytes per read of a file being sent; files (or ranges) this small are read in one go.
const READ_CHUNK: usize = 64 * 1024;

/// A file opened for sending: read whole when small, else positioned at the range's start.
enum Opened {
    Read(bytes::Bytes),
    File(std::fs::File, u64),
}

fn open_file(path: &Path, range: Option<(u64, u64)>) -> Result<Opened, StorageError> {
    use std::io::{Read as _, Seek as _};
    let mut file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == ErrorKind::NotFound => return Err(StorageError::NotFound),
        Err(e) => return Err(io_unavailable("opening a file", &e)),
    };
    let size = file.metadata().map_err(|e| io_unavailable("reading a file's size", &e))?.len();
    let (start, len) = match range {
        Some((start, end)) if start <= end && end < size => (start, end - start + 1),
        Some(_) => return Err(StorageError::Unavailable("range outside the file".into())),
        None => (0, size),
    };
    if start > 0 {
        file.seek(SeekFrom::Start(start)).map_err(|e| io_unavailable("seeking in a file", &e))?;
    }
    match usize::try_from(len) {
        Ok(small) if small <= READ_CHUNK => {
            let mut bytes = vec![0; small];
            file.read_exact(&mut bytes).map_err(|e| io_unavailable("reading a file", &e))?;
            Ok(Opened::Read(bytes.into()))
        }
        _ => Ok(Opened::File(file, len)),
    }
}

/// Blobs as files under `root`, sharded into folders by their keys.
#[derive(Debug, Clone)]
pub struct FsBlobStore {
    root: PathBuf,
}

impl FsBlobStore {
    /// Opens (creating it if needed) the store at `root`, and removes the temporary files of
    /// uploads that provably died: not written for `unfinished_after` (no upload outlives
    /// its request and recording). Younger ones may be uploads in flight on another server
    /// sharing the folder, and stay. None was ever visible under any key.
    ///
    /// # Errors
    /// `Unavailable` when the root cannot be created or read.
    pub fn open(root: impl Into<PathBuf>, unfinished_after: Duration) -> Result<Self, StorageError> {
        let root = root.into();
        std::fs::create_dir_all(&root).map_err(|e| io_unavailable("creating the storage root", &e))?;
        let now = SystemTime::now();
        for entry in std::fs::read_dir(&root).map_err(|e| io_unavailable("reading the storage root", &e))? {
            let entry = entry.map_err(|e| io_unavailable("reading the storage root", &e))?;
            if !entry.file_name().to_string_lossy().starts_with(TMP_PREFIX) {
                continue;
            }
            // A time that cannot be read, or one in the future, proves nothing.
            let idle = entry.metadata().and_then(|m| m.modified()).ok().and_then(|at| now.duration_since(at).ok());
            if idle.is_some_and(|idle| idle >= unfinished_after) {
                tracing::warn!(file = ?entry.file_name(), "removing an unfinished upload left by a crash");
                let _ = std::fs::remove_file(entry.path());
            }
        }
        Ok(Self { root })
    }

    /// Whether files can be written under the root now: creates and removes a probe file
    /// (what `/health/ready` asks; a read-only or vanished root fails it).
    ///
    /// # Errors
    /// Why the root cannot take a file.
    pub async fn check_writable(&self) -> std::io::Result<()> {
        let probe = self.root.join(format!("{TMP_PREFIX}probe-{}", uuid::Uuid::new_v4().simple()));
        tokio::fs::write(&probe, b"ok").await?;
        tokio::fs::remove_file(&probe).await
    }

    /// The file of `key`. Keys are validated again here: whatever a caller passes, no path
    /// outside the root comes out.
    fn path(&self, key: &BlobKey) -> Result<PathBuf, StorageError> {
        let key = BlobKey::parse(key.as_str()).map_err(StorageError::Unavailable)?;
        Ok(self.root.join(key.as_str()))
    }
}

/// A file being written under a temporary name in the root, renamed to `target` on commit.
struct FsStaged {
    file: tokio::fs::File,
    temp: PathBuf,
    target: PathBuf,
    root: PathBuf,
    committed: bool,
}

#[async_trait]
impl StagedBlob for FsStaged {
    async fn write(&mut self, chunk: &[u8]) -> Result<(), StorageError> {
        self.file.write_all(chunk).await.map_err(|e| io_unavailable("writing an upload", &e))?;
        // tokio's File completes writes in the background: wait, so that reading back and
        // running out of disk are both seen here.
        self.file.flush().await.map_err(|e| io_unavailable("writing an upload", &e))
    }

    fn reader(&self) -> Result<Box<dyn ReadSeek>, StorageError> {
        let file = std::fs::File::open(&self.temp).map_err(|e| io_unavailable("reading an upload back", &e))?;
        Ok(Box::new(std::io::BufReader::new(file)))
    }

    #[tracing::instrument(name = "StagedBlob.commit", level = "debug", skip_all, fields(storage.backend = "fs"))]
    async fn commit(mut self: Box<Self>) -> Result<(), StorageError> {
        self.file.sync_all().await.map_err(|e| io_unavailable("syncing an upload", &e))?;
        let parent = self.target.parent().unwrap_or(&self.root).to_owned();
        tokio::fs::create_dir_all(&parent).await.map_err(|e| io_unavailable("creating a shard folder", &e))?;
        tokio::fs::rename(&self.temp, &self.target)
            .await
            .map_err(|e| io_unavailable("moving an upload into place", &e))?;
        self.committed = true;
        sync_dir(&parent).await
    }
}

impl Drop for FsStaged {
    fn drop(&mut self) {
        if !self.committed {
            if let Err(e) = std::fs::remove_file(&self.temp) {
                if e.kind() != ErrorKind::NotFound {
                    tracing::error!(error = %e, file = ?self.temp, "could not remove an unfinished upload");
                }
            }
        }
    }
}

/// Makes a rename durable: the folder entry is data too.
async fn sync_dir(dir: &Path) -> Result<(), StorageError> {
    let dir = dir.to_owned();
    tokio::task::spawn_blocking(move || std::fs::File::open(&dir).and_then(|d| d.sync_all()))
        .await
        .map_err(|e| StorageError::Unavailable(format!("syncing a folder: {e}")))?
        .map_err(|e| io_unavailable("syncing a folder", &e))
}

#[async_trait]
impl BlobStore for FsBlobStore {
    #[tracing::instrument(name = "BlobStore.stage", level = "debug", skip_all, fields(storage.backend = "fs"))]
    async fn stage(&self, key: &BlobKey) -> Result<Box<dyn StagedBlob>, StorageError> {
        let target = self.path(key)?;
        let temp = self.root.join(format!("{TMP_PREFIX}{}", uuid::Uuid::new_v4().simple()));
        let mut file = tokio::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&temp)
            .await
            .map_err(|e| io_unavailable("creating an upload file", &e))?;
        // tokio's default 2 MiB write buffer per open file is memory every concurrent
        // upload holds; chunks arrive in tens of KiB anyway.
        file.set_max_buf_size(WRITE_BUFFER);
        Ok(Box::new(FsStaged { file, temp, target, root: self.root.clone(), committed: false }))
    }

    #[tracing::instrument(name = "BlobStore.open", level = "debug", skip_all, fields(storage.backend = "fs"))]
    async fn open(&self, key: &BlobKey, range: Option<(u64, u64)>) -> Result<BlobBody, StorageError> {
        let path = self.path(key)?;
        // One trip to the blocking pool opens, sizes and (when small) reads the file.
        let opened = tokio::task::spawn_blocking(move || open_file(&path, range))
            .await
            .map_err(|e| StorageError::Unavailable(format!("opening a file: {e}")))??;
        Ok(match opened {
            Opened::Read(bytes) => {
                BlobBody { len: bytes.len() as u64, stream: Box::pin(futures_util::stream::once(async { Ok(bytes) })) }
            }
            Opened::File(file, len) => {
                let stream =
                    tokio_util::io::ReaderStream::with_capacity(tokio::fs::File::from_std(file).take(len), READ_CHUNK)
                        .map_err(|e| io_unavailable("reading a file", &e));
                BlobBody { len, stream: Box::pin(stream) }
            }
        })
    }

    #[tracing::instrument(name = "BlobStore.delete", level = "debug", skip_all, fields(storage.backend = "fs"))]
    async fn delete(&self, key: &BlobKey) -> Result<(), StorageError> {
        match tokio::fs::remove_file(self.path(key)?).await {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io_unavailable("removing a file", &e)),
        }
    }

    #[tracing::instrument(name = "BlobStore.delete_under", level = "debug", skip_all, fields(storage.backend = "fs"))]
    async fn delete_under(&self, prefix: &BlobKey) -> Result<(), StorageError> {
        match tokio::fs::remove_dir_all(self.path(prefix)?).await {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io_unavailable("removing a folder", &e)),
        }
    }

    #[tracing::instrument(name = "BlobStore.put", level = "debug", skip_all, fields(storage.backend = "fs"))]
    async fn put(&self, key: &BlobKey, bytes: bytes::Bytes) -> Result<(), StorageError> {
        let mut staged = self.stage(key).await?;
        staged.write(&bytes).await?;
        staged.commit().await
    }

    #[tracing::instrument(name = "BlobStore.reader", level = "debug", skip_all, fields(storage.backend = "fs"))]
    async fn reader(&self, key: &BlobKey) -> Result<Box<dyn ReadSeek>, StorageError> {
        match std::fs::File::open(self.path(key)?) {
            Ok(file) => Ok(Box::new(file)),
            Err(e) if e.kind() == ErrorKind::NotFound => Err(StorageError::NotFound),
            Err(e) => Err(io_unavailable("opening a file", &e)),
        }
    }
}

#[cfg(test)]
mod tests;

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

use std::io::{Seek as _, SeekFrom};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use bytes::{Bytes, BytesMut};
use futures_util::{StreamExt as _, TryStreamExt as _};
use gallery_domain::ports::{BlobBody, BlobStore, ReadSeek, StagedBlob};
use gallery_domain::{BlobKey, StorageError};
use object_store::aws::{AmazonS3, AmazonS3Builder, AmazonS3ConfigKey};
use object_store::path::Path;
use object_store::prefix::PrefixStore;
use object_store::{
    BackoffConfig, ClientOptions, GetOptions, GetRange, MultipartUpload, ObjectStore, PutPayload, RetryConfig,
};
use secrecy::{ExposeSecret as _, SecretString};
use tokio::io::AsyncWriteExt as _;
use tokio_util::task::TaskTracker;

/// The size of every part of a multipart upload but the last (S3's least is 5 MiB), and
/// the most a smaller upload holds before it is sent whole.
pub const PART_BYTES: usize = 5 << 20;

/// Objects up to this size are read into memory to be decoded; larger ones are spooled to
/// an unnamed temporary file first.
const READ_IN_MEMORY: u64 = 8 << 20;

/// The `storage.s3` config table. Empty values fall back to the standard `AWS_*`
/// variables ([`S3Settings::environment`]), and then to `object_store`'s defaults.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
pub struct S3Settings {
    pub bucket: String,
    /// Empty for AWS; e.g. `http://127.0.0.1:9000` for a self-hosted store.
    pub endpoint: String,
    /// `us-east-1` when unset here and in `AWS_REGION`.
    pub region: String,
    pub access_key_id: String,
    pub secret_access_key: Option<SecretString>,
    /// `https://endpoint/bucket/key` rather than `https://bucket.endpoint/key`: what most
    /// self-hosted stores want.
    pub force_path_style: bool,
    /// Prepended to every key, as `prefix/originals/...`.
    pub prefix: String,
    /// The process's `AWS_*` variables (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
    /// `AWS_REGION`, `AWS_ENDPOINT_URL`, `AWS_SESSION_TOKEN`...), read by the caller.
    #[serde(skip)]
    pub environment: Vec<(String, String)>,
}

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

/// `endpoint` with the bucket as the first label of its host, for virtual-hosted-style
/// requests to a store that is not AWS.
fn virtual_hosted(endpoint: &str, bucket: &str) -> Result<String, StorageError> {
    let mut url = url::Url::parse(endpoint)
        .map_err(|e| StorageError::Unavailable(format!("storage.s3.endpoint {endpoint:?}: {e}")))?;
    let host = url
        .host_str()
        .ok_or_else(|| StorageError::Unavailable(format!("storage.s3.endpoint {endpoint:?} has no host")))?;
    let host = format!("{bucket}.{host}");
    url.set_host(Some(&host)).map_err(|e| StorageError::Unavailable(format!("storage.s3.endpoint: {e}")))?;
    Ok(url.as_str().trim_end_matches('/').to_owned())
}

/// The client `settings` describe: each setting, else its `AWS_*` variable, else
/// `object_store`'s default.
fn builder(settings: &S3Settings) -> Result<AmazonS3Builder, StorageError> {
    if settings.bucket.is_empty() {
        return Err(StorageError::Unavailable("storage.s3.bucket is required with the s3 backend".into()));
    }
    // Client options first: setting them replaces what `with_allow_http` set.
    let mut builder = AmazonS3Builder::new().with_client_options(
        ClientOptions::new().with_connect_timeout(Duration::from_secs(2)).with_timeout(Duration::from_secs(60)),
    );
    let mut endpoint = None;
    for (key, value) in &settings.environment {
        match key.to_ascii_lowercase().parse() {
            Ok(AmazonS3ConfigKey::Endpoint) => endpoint = Some(value.clone()),
            Ok(config) => builder = builder.with_config(config, value),
            Err(_) => {}
        }
    }
    if !settings.endpoint.is_empty() {
        endpoint = Some(settings.endpoint.clone());
    }
    if let Some(endpoint) = endpoint.filter(|e| !e.is_empty()) {
        let endpoint = if settings.force_path_style { endpoint } else { virtual_hosted(&endpoint, &settings.bucket)? };
        builder = builder.with_allow_http(endpoint.starts_with("http://")).with_endpoint(endpoint);
    }
    if !settings.region.is_empty() {
        builder = builder.with_region(&settings.region);
    }
    if !settings.access_key_id.is_empty() {
        builder = builder.with_access_key_id(&settings.access_key_id);
    }
    if let Some(secret) = settings.secret_access_key.as_ref().filter(|s| !s.expose_secret().is_empty()) {
        builder = builder.with_secret_access_key(secret.expose_secret());
    }
    Ok(builder.with_bucket_name(&settings.bucket).with_virtual_hosted_style_request(!settings.force_path_style))
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

/// An upload on its way to the bucket.
struct S3Staged {
    store: Arc<dyn ObjectStore>,
    path: Path,
    /// What has not been sent yet: less than a part.
    pending: BytesMut,
    /// Started once the file outgrows one part. (The mutex only makes it `Sync`: every
    /// use has `&mut self`.)
    upload: Option<Mutex<Box<dyn MultipartUpload>>>,
    /// Every byte written, for reading back, once there is more than a part.
    spool: Option<Spool>,
    aborts: Aborts,
}

/// An unnamed temporary file (gone with its last handle, even after a crash): written
/// through tokio, read back through a clone. Holds an upload larger than a part, or an
/// object too large to decode from memory.
struct Spool {
    writer: tokio::fs::File,
    reread: std::fs::File,
}

impl Spool {
    async fn create() -> Result<Self, StorageError> {
        let file = tokio::task::spawn_blocking(tempfile::tempfile)
            .await
            .map_err(|e| StorageError::Unavailable(format!("creating a spool: {e}")))?
            .map_err(|e| crate::fs::unavailable("creating a spool", &e))?;
        let reread = file.try_clone().map_err(|e| crate::fs::unavailable("creating a spool", &e))?;
        let mut writer = tokio::fs::File::from_std(file);
        writer.set_max_buf_size(crate::fs::WRITE_BUFFER);
        Ok(Self { writer, reread })
    }

    async fn write(&mut self, bytes: &[u8]) -> Result<(), StorageError> {
        self.writer.write_all(bytes).await.map_err(|e| crate::fs::unavailable("writing a spool", &e))?;
        // Completed here, so that reading back sees it and a full disk is noticed now.
        self.writer.flush().await.map_err(|e| crate::fs::unavailable("writing a spool", &e))
    }

    /// Everything written, from its start. The clone shares the spool's offset: nothing
    /// may write to the spool once it is read.
    fn read_back(&self) -> Result<Box<dyn ReadSeek>, StorageError> {
        let mut file = self.reread.try_clone().map_err(|e| crate::fs::unavailable("reading a spool back", &e))?;
        file.seek(SeekFrom::Start(0)).map_err(|e| crate::fs::unavailable("reading a spool back", &e))?;
        Ok(Box::new(std::io::BufReader::new(file)))
    }
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
            None => self.upload.insert(Mutex::new(
                self.store.put_multipart(&self.path).await.map_err(failed("starting a multipart upload"))?,
            )),
        };
        upload
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner)
            .put_part(part)
            .await
            .map_err(failed("sending a part of an upload"))
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
        let Some(upload) = self.upload.take() else {
            // Less than a part in all: one PUT.
            let whole = PutPayload::from(self.pending.split().freeze());
            return self.store.put(&self.path, whole).await.map(drop).map_err(failed("storing an upload"));
        };
        let mut upload = upload.into_inner().unwrap_or_else(PoisonError::into_inner);
        match upload.complete().await {
            Ok(_) => Ok(()),
            Err(e) => {
                self.upload = Some(Mutex::new(upload)); // aborted on drop
                Err(unavailable("completing an upload", &e))
            }
        }
    }
}

impl Drop for S3Staged {
    fn drop(&mut self) {
        let Some(upload) = self.upload.take() else { return };
        let mut upload = upload.into_inner().unwrap_or_else(PoisonError::into_inner);
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

#[async_trait]
impl BlobStore for S3BlobStore {
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

    async fn delete(&self, key: &BlobKey) -> Result<(), StorageError> {
        match self.store.delete(&path(key)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(unavailable("removing an object", &e)),
        }
    }

    /// Lists only the objects under `prefix/` (an image's few thumbnails), never the
    /// bucket, and removes them in one batch.
    async fn delete_under(&self, prefix: &BlobKey) -> Result<(), StorageError> {
        let found = self.store.list(Some(&path(prefix))).map_ok(|meta| meta.location).boxed();
        let removed: Vec<Path> = self.store.delete_stream(found).try_collect().await.or_else(|e| match e {
            object_store::Error::NotFound { .. } => Ok(Vec::new()),
            e => Err(unavailable("removing objects", &e)),
        })?;
        tracing::debug!(prefix = prefix.as_str(), removed = removed.len(), "removed objects under a prefix");
        Ok(())
    }

    async fn put(&self, key: &BlobKey, bytes: Bytes) -> Result<(), StorageError> {
        self.store.put(&path(key), PutPayload::from(bytes)).await.map(drop).map_err(failed("storing an object"))
    }

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

#[cfg(test)]
mod tests {
    use super::*;

    fn env(vars: &[(&str, &str)]) -> Vec<(String, String)> {
        vars.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    fn value(builder: &AmazonS3Builder, key: AmazonS3ConfigKey) -> Option<String> {
        builder.get_config_value(&key)
    }

    #[test]
    fn unset_settings_fall_back_to_the_aws_variables_and_set_ones_win() {
        let aws = env(&[
            ("AWS_ACCESS_KEY_ID", "from-env"),
            ("AWS_SECRET_ACCESS_KEY", "env-secret"),
            ("AWS_REGION", "eu-west-3"),
            ("AWS_ENDPOINT_URL", "http://127.0.0.1:9000"),
        ]);
        let fallback = S3Settings {
            bucket: "b".into(),
            force_path_style: true,
            environment: aws.clone(),
            ..S3Settings::default()
        };
        let b = builder(&fallback).unwrap();
        assert_eq!(value(&b, AmazonS3ConfigKey::AccessKeyId).as_deref(), Some("from-env"));
        assert_eq!(value(&b, AmazonS3ConfigKey::SecretAccessKey).as_deref(), Some("env-secret"));
        assert_eq!(value(&b, AmazonS3ConfigKey::Region).as_deref(), Some("eu-west-3"));
        assert_eq!(value(&b, AmazonS3ConfigKey::Endpoint).as_deref(), Some("http://127.0.0.1:9000"));

        let set = S3Settings {
            bucket: "b".into(),
            endpoint: "https://s3.example.net".into(),
            region: "auto".into(),
            access_key_id: "from-config".into(),
            secret_access_key: Some("config-secret".into()),
            force_path_style: true,
            environment: aws,
            ..S3Settings::default()
        };
        let b = builder(&set).unwrap();
        assert_eq!(value(&b, AmazonS3ConfigKey::AccessKeyId).as_deref(), Some("from-config"));
        assert_eq!(value(&b, AmazonS3ConfigKey::SecretAccessKey).as_deref(), Some("config-secret"));
        assert_eq!(value(&b, AmazonS3ConfigKey::Region).as_deref(), Some("auto"));
        assert_eq!(value(&b, AmazonS3ConfigKey::Endpoint).as_deref(), Some("https://s3.example.net"));
    }

    #[test]
    fn virtual_hosted_requests_put_the_bucket_in_the_endpoints_host() {
        let settings = S3Settings {
            bucket: "photos".into(),
            endpoint: "https://objects.example.net:8443".into(),
            ..S3Settings::default()
        };
        let b = builder(&settings).unwrap();
        assert_eq!(value(&b, AmazonS3ConfigKey::Endpoint).as_deref(), Some("https://photos.objects.example.net:8443"));
        assert_eq!(value(&b, AmazonS3ConfigKey::VirtualHostedStyleRequest).as_deref(), Some("true"));
        let b = builder(&S3Settings { force_path_style: true, ..settings }).unwrap();
        assert_eq!(value(&b, AmazonS3ConfigKey::Endpoint).as_deref(), Some("https://objects.example.net:8443"));
    }

    #[test]
    fn no_bucket_is_refused() {
        assert!(matches!(builder(&S3Settings::default()), Err(StorageError::Unavailable(_))));
    }
}

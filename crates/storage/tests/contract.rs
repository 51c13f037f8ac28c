//! The `BlobStore` contract, one list of tests run against both backends: a temporary
//! folder, and a fresh bucket in the S3-compatible server `make test` starts (`s3s-fs`).

use std::io::Read as _;
use std::path::Path;
use std::sync::Arc;

use futures_util::TryStreamExt as _;
use gallery_domain::ports::BlobStore;
use gallery_domain::{BlobKey, ImageFormat, ImageId, StorageError};
use gallery_storage::{Backend, PART_BYTES, S3Settings, Storage};
use gallery_testdb::{TestBucket, TestStore};

/// Long past any upload of these tests.
const HOUR: std::time::Duration = std::time::Duration::from_secs(3600);

/// A client of the test server's `bucket`.
fn s3_settings(bucket: &TestBucket) -> S3Settings {
    S3Settings {
        bucket: bucket.name.clone(),
        endpoint: bucket.endpoint.clone(),
        access_key_id: gallery_testdb::ACCESS_KEY.into(),
        secret_access_key: Some(gallery_testdb::SECRET_KEY.into()),
        force_path_style: true,
        ..S3Settings::default()
    }
}

/// A store, and the place it keeps blobs in, to look at from outside the adapter.
struct Fixture {
    storage: Storage,
    place: TestStore,
}

impl Fixture {
    fn fs() -> Self {
        let place = TestStore::folder();
        let TestStore::Folder(dir) = &place else { unreachable!("a folder") };
        let storage = Storage::open(Backend::Fs, dir.path(), &S3Settings::default(), HOUR).unwrap();
        Self { storage, place }
    }

    async fn s3() -> Self {
        let place = TestStore::bucket().await;
        let TestStore::Bucket(bucket) = &place else { unreachable!("a bucket") };
        let storage = Storage::open(Backend::S3, Path::new("unused"), &s3_settings(bucket), HOUR).unwrap();
        Self { storage, place }
    }

    fn store(&self) -> Arc<dyn BlobStore> {
        self.storage.blobs()
    }

    /// Every key stored, once aborted uploads are gone; files being written and unfinished
    /// uploads count too.
    async fn held(&self) -> Vec<String> {
        self.storage.settled().await;
        self.place.keys()
    }

    fn break_it(&self) {
        self.place.break_it();
    }

    fn mend(&self) {
        self.place.mend();
    }
}

fn key() -> BlobKey {
    BlobKey::original(ImageId::generate())
}

/// Bytes that are not the same at any two offsets a small bug could confuse.
fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8 ^ (i / 251 % 7) as u8).collect()
}

async fn read_all(store: &dyn BlobStore, key: &BlobKey, range: Option<(u64, u64)>) -> Vec<u8> {
    let body = store.open(key, range).await.unwrap();
    let chunks: Vec<bytes::Bytes> = body.stream.try_collect().await.unwrap();
    let bytes = chunks.concat();
    assert_eq!(bytes.len() as u64, body.len, "the announced length is the length sent");
    bytes
}

/// Writes `bytes` in uneven chunks (as a network delivers them) and commits.
async fn store_bytes(store: &dyn BlobStore, key: &BlobKey, bytes: &[u8]) {
    let mut staged = store.stage(key).await.unwrap();
    for chunk in bytes.chunks(700_001) {
        staged.write(chunk).await.unwrap();
    }
    staged.commit().await.unwrap();
}

async fn a_committed_blob_is_readable_under_its_key_and_nothing_else_remains(f: Fixture) {
    let store = f.store();
    let key = key();
    let mut staged = store.stage(&key).await.unwrap();
    staged.write(b"hello ").await.unwrap();
    staged.write(b"world").await.unwrap();
    let mut back = String::new();
    staged.reader().unwrap().read_to_string(&mut back).unwrap();
    assert_eq!(back, "hello world");
    assert!(matches!(store.open(&key, None).await, Err(StorageError::NotFound)), "invisible before the commit");
    staged.commit().await.unwrap();
    assert_eq!(read_all(store.as_ref(), &key, None).await, b"hello world");
    assert_eq!(f.held().await, vec![key.as_str().to_owned()]);
}

async fn a_blob_larger_than_a_part_is_invisible_until_committed_then_whole(f: Fixture) {
    let store = f.store();
    let key = key();
    let bytes = pattern(2 * PART_BYTES + 12_345);
    let mut staged = store.stage(&key).await.unwrap();
    // Chunks that straddle the parts' boundaries, as a network delivers them.
    for chunk in bytes.chunks(700_001) {
        staged.write(chunk).await.unwrap();
    }
    assert!(matches!(store.open(&key, None).await, Err(StorageError::NotFound)), "invisible before the commit");
    let mut back = Vec::new();
    staged.reader().unwrap().read_to_end(&mut back).unwrap();
    assert!(back == bytes, "read back whole before the commit");
    staged.commit().await.unwrap();
    let body = store.open(&key, None).await.unwrap();
    assert_eq!(body.len, bytes.len() as u64);
    let chunks: Vec<bytes::Bytes> = body.stream.try_collect().await.unwrap();
    assert!(chunks.len() > 1, "streamed in chunks, not read whole");
    assert!(chunks.concat() == bytes);
    assert_eq!(f.held().await, vec![key.as_str().to_owned()]);
}

async fn an_uncommitted_small_blob_leaves_nothing(f: Fixture) {
    let store = f.store();
    let mut staged = store.stage(&key()).await.unwrap();
    staged.write(b"partial").await.unwrap();
    drop(staged);
    assert_eq!(f.held().await, Vec::<String>::new());
}

async fn an_uncommitted_blob_larger_than_a_part_leaves_nothing(f: Fixture) {
    let store = f.store();
    let mut staged = store.stage(&key()).await.unwrap();
    staged.write(&pattern(PART_BYTES + 1)).await.unwrap();
    staged.write(&pattern(PART_BYTES + 1)).await.unwrap();
    drop(staged);
    assert_eq!(f.held().await, Vec::<String>::new(), "the multipart upload is aborted");
}

async fn ranges_are_served_exactly(f: Fixture) {
    let store = f.store();
    let key = key();
    store_bytes(store.as_ref(), &key, b"0123456789").await;
    assert_eq!(read_all(store.as_ref(), &key, Some((2, 5))).await, b"2345");
    assert_eq!(read_all(store.as_ref(), &key, Some((9, 9))).await, b"9");
    assert_eq!(read_all(store.as_ref(), &key, Some((0, 9))).await, b"0123456789");
    assert!(store.open(&key, Some((5, 10))).await.is_err(), "a range past the end is refused");
}

async fn large_blobs_stream_whole_and_by_range(f: Fixture) {
    let store = f.store();
    let key = key();
    let bytes = pattern(PART_BYTES + 300_000);
    store_bytes(store.as_ref(), &key, &bytes).await;
    assert!(read_all(store.as_ref(), &key, None).await == bytes);
    let (start, end) = (PART_BYTES as u64 - 10, PART_BYTES as u64 + 99_999);
    assert!(read_all(store.as_ref(), &key, Some((start, end))).await == bytes[start as usize..=end as usize]);
    assert!(read_all(store.as_ref(), &key, Some((70_000, 70_009))).await == bytes[70_000..70_010]);
}

async fn a_missing_key_is_not_found(f: Fixture) {
    let store = f.store();
    assert!(matches!(store.open(&key(), None).await, Err(StorageError::NotFound)));
    assert!(matches!(store.reader(&key()).await, Err(StorageError::NotFound)));
}

async fn deleting_is_idempotent(f: Fixture) {
    let store = f.store();
    let key = key();
    store_bytes(store.as_ref(), &key, b"x").await;
    store.delete(&key).await.unwrap();
    store.delete(&key).await.unwrap();
    assert!(matches!(store.open(&key, None).await, Err(StorageError::NotFound)));
    assert_eq!(f.held().await, Vec::<String>::new());
}

async fn derived_blobs_are_put_read_back_and_removed_by_prefix(f: Fixture) {
    let store = f.store();
    let original = key();
    let other = key();
    store_bytes(store.as_ref(), &original, b"original").await;
    for h in [200, 400] {
        store.put(&original.thumbnail(h, ImageFormat::Jpeg), bytes::Bytes::from_static(b"thumb")).await.unwrap();
    }
    store.put(&other.thumbnail(200, ImageFormat::Png), bytes::Bytes::from_static(b"other")).await.unwrap();
    let mut back = Vec::new();
    store.reader(&original.thumbnail(200, ImageFormat::Jpeg)).await.unwrap().read_to_end(&mut back).unwrap();
    assert_eq!(back, b"thumb");
    store.delete_under(&original.thumbnails()).await.unwrap();
    store.delete_under(&original.thumbnails()).await.unwrap();
    assert_eq!(
        f.held().await,
        vec![original.as_str().to_owned(), other.thumbnail(200, ImageFormat::Png).as_str().to_owned()],
        "only that original's thumbnails are gone"
    );
}

async fn a_large_blob_is_read_back_whole_and_seekably(f: Fixture) {
    let store = f.store();
    let key = key();
    let bytes = pattern(9 << 20);
    store_bytes(store.as_ref(), &key, &bytes).await;
    let mut reader = store.reader(&key).await.unwrap();
    let mut back = Vec::new();
    reader.read_to_end(&mut back).unwrap();
    assert!(back == bytes);
    std::io::Seek::seek(&mut reader, std::io::SeekFrom::Start(1000)).unwrap();
    let mut some = [0; 10];
    reader.read_exact(&mut some).unwrap();
    assert_eq!(some, bytes[1000..1010]);
}

async fn a_store_that_cannot_take_files_fails_its_check_and_writes(f: Fixture) {
    f.storage.check().await.unwrap();
    f.break_it();
    assert!(f.storage.check().await.is_err());
    let store = f.store();
    let failed = match store.stage(&key()).await {
        Err(e) => Err(e),
        Ok(mut staged) => match staged.write(b"x").await {
            Err(e) => Err(e),
            Ok(()) => staged.commit().await,
        },
    };
    assert!(matches!(failed, Err(StorageError::Unavailable(_))), "{failed:?}");
    assert!(matches!(store.put(&key(), bytes::Bytes::from_static(b"x")).await, Err(StorageError::Unavailable(_))));
    f.mend();
    f.storage.check().await.unwrap();
    assert_eq!(f.held().await, Vec::<String>::new());
}

/// Runs every test named against both backends.
macro_rules! contract {
    ($($test:ident),* $(,)?) => {
        mod fs {
            $(#[tokio::test] async fn $test() { super::$test(super::Fixture::fs()).await })*
        }
        mod s3 {
            $(#[tokio::test] async fn $test() { super::$test(super::Fixture::s3().await).await })*
        }
    };
}

contract![
    a_committed_blob_is_readable_under_its_key_and_nothing_else_remains,
    a_blob_larger_than_a_part_is_invisible_until_committed_then_whole,
    an_uncommitted_small_blob_leaves_nothing,
    an_uncommitted_blob_larger_than_a_part_leaves_nothing,
    ranges_are_served_exactly,
    large_blobs_stream_whole_and_by_range,
    a_missing_key_is_not_found,
    deleting_is_idempotent,
    derived_blobs_are_put_read_back_and_removed_by_prefix,
    a_large_blob_is_read_back_whole_and_seekably,
    a_store_that_cannot_take_files_fails_its_check_and_writes,
];

/// `storage.s3.prefix`: every key the store writes sits under it in the bucket.
#[tokio::test]
async fn an_s3_key_prefix_holds_every_object() {
    let place = TestStore::bucket().await;
    let TestStore::Bucket(bucket) = &place else { unreachable!("a bucket") };
    let settings = S3Settings { prefix: "/tenants/gallery/".into(), ..s3_settings(bucket) };
    let storage = Storage::open(Backend::S3, Path::new("unused"), &settings, HOUR).unwrap();
    let store = storage.blobs();
    let original = key();
    store_bytes(store.as_ref(), &original, b"original").await;
    store.put(&original.thumbnail(200, ImageFormat::Jpeg), bytes::Bytes::from_static(b"thumb")).await.unwrap();
    let mut expected = vec![
        format!("tenants/gallery/{}", original.as_str()),
        format!("tenants/gallery/{}", original.thumbnail(200, ImageFormat::Jpeg).as_str()),
    ];
    expected.sort();
    assert_eq!(place.keys(), expected);
    assert_eq!(read_all(store.as_ref(), &original, None).await, b"original");
    store.delete_under(&original.thumbnails()).await.unwrap();
    store.delete(&original).await.unwrap();
    assert_eq!(place.keys(), Vec::<String>::new());
}

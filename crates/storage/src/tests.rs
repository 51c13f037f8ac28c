use futures_util::TryStreamExt as _;
use gallery_domain::ImageId;

use super::*;

/// Every file below `dir`, at any depth.
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() { out.extend(files(&path)) } else { out.push(path) }
    }
    out
}

async fn read_all(store: &FsBlobStore, key: &BlobKey, range: Option<(u64, u64)>) -> Vec<u8> {
    let body = store.open(key, range).await.unwrap();
    let chunks: Vec<bytes::Bytes> = body.stream.try_collect().await.unwrap();
    let bytes = chunks.concat();
    assert_eq!(bytes.len() as u64, body.len);
    bytes
}

#[tokio::test]
async fn a_committed_blob_is_readable_under_its_sharded_key_and_nothing_else_remains() {
    let dir = tempfile::tempdir().unwrap();
    let store = FsBlobStore::open(dir.path()).unwrap();
    let key = BlobKey::original(ImageId::generate());
    let mut staged = store.stage().await.unwrap();
    staged.write(b"hello ").await.unwrap();
    staged.write(b"world").await.unwrap();
    let mut back = String::new();
    std::io::Read::read_to_string(&mut staged.reader().unwrap(), &mut back).unwrap();
    assert_eq!(back, "hello world");
    staged.commit(&key).await.unwrap();
    assert_eq!(read_all(&store, &key, None).await, b"hello world");
    assert_eq!(files(dir.path()), vec![dir.path().join(key.as_str())]);
}

#[tokio::test]
async fn an_uncommitted_blob_leaves_no_file() {
    let dir = tempfile::tempdir().unwrap();
    let store = FsBlobStore::open(dir.path()).unwrap();
    let mut staged = store.stage().await.unwrap();
    staged.write(b"partial").await.unwrap();
    assert_eq!(files(dir.path()).len(), 1);
    drop(staged);
    assert!(files(dir.path()).is_empty());
}

#[tokio::test]
async fn a_crash_between_write_and_rename_leaves_nothing_visible() {
    let dir = tempfile::tempdir().unwrap();
    let store = FsBlobStore::open(dir.path()).unwrap();
    let key = BlobKey::original(ImageId::generate());
    let mut staged = store.stage().await.unwrap();
    staged.write(b"half an upload").await.unwrap();
    // A crash: no commit, and no destructor either.
    std::mem::forget(staged);
    assert!(matches!(store.open(&key, None).await, Err(StorageError::NotFound)));
    // The next start removes the leftover.
    FsBlobStore::open(dir.path()).unwrap();
    assert!(files(dir.path()).is_empty());
}

#[tokio::test]
async fn ranges_are_served_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let store = FsBlobStore::open(dir.path()).unwrap();
    let key = BlobKey::original(ImageId::generate());
    let mut staged = store.stage().await.unwrap();
    staged.write(b"0123456789").await.unwrap();
    staged.commit(&key).await.unwrap();
    assert_eq!(read_all(&store, &key, Some((2, 5))).await, b"2345");
    assert_eq!(read_all(&store, &key, Some((9, 9))).await, b"9");
    assert!(store.open(&key, Some((5, 10))).await.is_err());
}

#[tokio::test]
async fn files_larger_than_one_read_stream_whole_and_by_range() {
    let dir = tempfile::tempdir().unwrap();
    let store = FsBlobStore::open(dir.path()).unwrap();
    let key = BlobKey::original(ImageId::generate());
    let bytes: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    let mut staged = store.stage().await.unwrap();
    staged.write(&bytes).await.unwrap();
    staged.commit(&key).await.unwrap();
    let body = store.open(&key, None).await.unwrap();
    assert_eq!(body.len, 300_000);
    let chunks: Vec<bytes::Bytes> = body.stream.try_collect().await.unwrap();
    assert!(chunks.len() > 1, "streamed in chunks, not read whole");
    assert_eq!(chunks.concat(), bytes);
    assert_eq!(read_all(&store, &key, Some((100_000, 299_999))).await, &bytes[100_000..]);
    assert_eq!(read_all(&store, &key, Some((70_000, 70_009))).await, &bytes[70_000..70_010]);
}

#[tokio::test]
async fn deleting_is_idempotent() {
    let dir = tempfile::tempdir().unwrap();
    let store = FsBlobStore::open(dir.path()).unwrap();
    let key = BlobKey::original(ImageId::generate());
    let mut staged = store.stage().await.unwrap();
    staged.write(b"x").await.unwrap();
    staged.commit(&key).await.unwrap();
    store.delete(&key).await.unwrap();
    store.delete(&key).await.unwrap();
    assert!(matches!(store.open(&key, None).await, Err(StorageError::NotFound)));
}

#[tokio::test]
async fn a_root_that_is_not_a_folder_is_unavailable() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("not-a-folder");
    std::fs::write(&file, b"x").unwrap();
    assert!(matches!(FsBlobStore::open(&file), Err(StorageError::Unavailable(_))));
}

#[tokio::test]
async fn derived_blobs_are_put_read_back_and_removed_by_folder() {
    let dir = tempfile::tempdir().unwrap();
    let store = FsBlobStore::open(dir.path()).unwrap();
    let original = BlobKey::original(ImageId::generate());
    for h in [200, 400] {
        store
            .put(&original.thumbnail(h, gallery_domain::ImageFormat::Jpeg), bytes::Bytes::from_static(b"thumb"))
            .await
            .unwrap();
    }
    let mut back = Vec::new();
    std::io::Read::read_to_end(
        &mut store.reader(&original.thumbnail(200, gallery_domain::ImageFormat::Jpeg)).await.unwrap(),
        &mut back,
    )
    .unwrap();
    assert_eq!(back, b"thumb");
    assert_eq!(files(dir.path()).len(), 2);
    store.delete_under(&original.thumbnails()).await.unwrap();
    store.delete_under(&original.thumbnails()).await.unwrap();
    assert!(files(dir.path()).is_empty());
    assert!(matches!(store.reader(&original).await, Err(StorageError::NotFound)));
}

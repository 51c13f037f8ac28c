//! What only the file system store does; the contract both stores keep is in
//! `tests/contract.rs`.

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

const HOUR: std::time::Duration = std::time::Duration::from_secs(3600);
#[tokio::test]
async fn a_committed_blob_is_a_file_under_its_sharded_key() {
    let dir = tempfile::tempdir().unwrap();
    let store = FsBlobStore::open(dir.path(), HOUR).unwrap();
    let key = BlobKey::original(ImageId::generate());
    let mut staged = store.stage(&key).await.unwrap();
    staged.write(b"hello").await.unwrap();
    assert_eq!(files(dir.path()).len(), 1, "written under a temporary name");
    staged.commit().await.unwrap();
    assert_eq!(files(dir.path()), vec![dir.path().join(key.as_str())]);
}

#[tokio::test]
async fn a_crash_between_write_and_rename_leaves_nothing_visible() {
    let dir = tempfile::tempdir().unwrap();
    let store = FsBlobStore::open(dir.path(), HOUR).unwrap();
    let key = BlobKey::original(ImageId::generate());
    let mut staged = store.stage(&key).await.unwrap();
    staged.write(b"half an upload").await.unwrap();
    // A crash: no commit, and no destructor either.
    std::mem::forget(staged);
    assert!(matches!(store.open(&key, None).await, Err(StorageError::NotFound)));
    // Another server starting on the same folder leaves it: it may be an upload in flight.
    FsBlobStore::open(dir.path(), HOUR).unwrap();
    let left = files(dir.path());
    assert_eq!(left.len(), 1);
    // Not written for longer than any upload lasts: dead, and removed at the next start.
    let two_hours_ago = std::time::SystemTime::now() - 2 * HOUR;
    std::fs::File::options().write(true).open(&left[0]).unwrap().set_modified(two_hours_ago).unwrap();
    FsBlobStore::open(dir.path(), HOUR).unwrap();
    assert!(files(dir.path()).is_empty());
}

#[tokio::test]
async fn a_root_that_is_not_a_folder_is_unavailable() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("not-a-folder");
    std::fs::write(&file, b"x").unwrap();
    assert!(matches!(FsBlobStore::open(&file, HOUR), Err(StorageError::Unavailable(_))));
}

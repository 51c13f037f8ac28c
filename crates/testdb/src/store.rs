//! Where a test keeps images: a temporary folder, or a fresh bucket in the test S3 server.
//! Tests look at what is stored, and break the store, through it whichever it is.

use std::path::{Path, PathBuf};

use crate::TestBucket;

#[derive(Debug)]
pub enum TestStore {
    Folder(tempfile::TempDir),
    Bucket(TestBucket),
}

impl TestStore {
    /// A temporary folder.
    ///
    /// # Panics
    /// When none can be made.
    #[must_use]
    pub fn folder() -> Self {
        Self::Folder(tempfile::tempdir().expect("a temporary folder"))
    }

    /// A fresh bucket (see [`TestBucket::create`]).
    pub async fn bucket() -> Self {
        Self::Bucket(TestBucket::create().await)
    }

    /// What `GALLERY_TEST_STORAGE` names: `fs` (the default) or `s3` (the second run of the
    /// end-to-end suite in `make test`).
    ///
    /// # Panics
    /// For any other value.
    pub async fn from_env() -> Self {
        match std::env::var("GALLERY_TEST_STORAGE").as_deref() {
            Ok("s3") => Self::bucket().await,
            Ok("fs") | Err(_) => Self::folder(),
            Ok(other) => panic!("GALLERY_TEST_STORAGE={other}: fs or s3"),
        }
    }

    /// The folder an object or file of `key` is, on disk.
    fn file(&self, key: &str) -> PathBuf {
        match self {
            Self::Folder(dir) => dir.path().join(key),
            Self::Bucket(bucket) => bucket.path().join(key),
        }
    }

    /// Every key stored, sorted; files being written and unfinished multipart uploads are
    /// listed too.
    #[must_use]
    pub fn keys(&self) -> Vec<String> {
        match self {
            Self::Folder(dir) => {
                let mut out = Vec::new();
                walk(dir.path(), dir.path(), &mut out);
                out.sort();
                out
            }
            Self::Bucket(bucket) => {
                let mut out = bucket.keys();
                out.extend((0..bucket.unfinished_uploads()).map(|i| format!("<unfinished upload {i}>")));
                out
            }
        }
    }

    /// Stores `bytes` under `key` behind the server's back.
    ///
    /// # Panics
    /// When the file cannot be written.
    pub fn write(&self, key: &str, bytes: &[u8]) {
        let path = self.file(key);
        std::fs::create_dir_all(path.parent().expect("a key has a folder")).expect("make the key's folder");
        std::fs::write(&path, bytes).expect("write the key's file");
    }

    /// Removes `key` behind the server's back.
    ///
    /// # Panics
    /// When there is no such key.
    pub fn remove(&self, key: &str) {
        std::fs::remove_file(self.file(key)).expect("remove the key's file");
    }

    /// Makes every write and removal fail, as a full disk or an outage would: the folder is
    /// swapped for a plain file (as root, permission bits would not stop a write), the
    /// bucket cut off. [`Self::mend`] undoes it.
    ///
    /// # Panics
    /// When the folder cannot be swapped.
    pub fn break_it(&self) {
        match self {
            Self::Folder(dir) => {
                std::fs::rename(dir.path(), dir.path().with_extension("aside")).expect("move the folder aside");
                std::fs::write(dir.path(), b"not a directory").expect("block the folder");
            }
            Self::Bucket(bucket) => bucket.take_away(),
        }
    }

    /// # Panics
    /// When the folder cannot be put back.
    pub fn mend(&self) {
        match self {
            Self::Folder(dir) => {
                std::fs::remove_file(dir.path()).expect("unblock the folder");
                std::fs::rename(dir.path().with_extension("aside"), dir.path()).expect("move the folder back");
            }
            Self::Bucket(bucket) => bucket.restore(),
        }
    }
}

/// Every file below `dir`, as a path relative to `base`.
pub(crate) fn walk(dir: &Path, base: &Path, out: &mut Vec<String>) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            walk(&path, base, out);
        } else if let Ok(key) = path.strip_prefix(base) {
            out.push(key.to_string_lossy().into_owned());
        }
    }
}

//! Blob storage adapters for Gallery.
//!
//! Nothing lives here yet: the `BlobStore` port and its file-system adapter arrive with
//! the images issue (#4). The crate exists so the workspace has its final shape and the
//! dependency rule (`storage` depends on `domain` only) is fixed from the start.

//! Reading and making images: inspection, thumbnails, and taking location out.

use async_trait::async_trait;

use crate::ports::{BlobBody, ReadSeek};
use crate::{BlobKey, DomainError, ImageFormat, Shot, StorageError};

/// Makes thumbnails: `height` pixels high (never more than the original), aspect kept,
/// EXIF orientation applied; JPEG for opaque images, PNG where there is alpha.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait ThumbnailRenderer: Send + Sync {
    /// The encoded thumbnail.
    ///
    /// # Errors
    /// `Invalid` when the original does not decode.
    async fn render(
        &self,
        source: Box<dyn ReadSeek>,
        format: ImageFormat,
        height: u32,
    ) -> Result<bytes::Bytes, InspectError>;
}

/// A thumbnail's bytes, in the format they were made in.
pub struct ThumbnailBytes {
    pub format: ImageFormat,
    pub body: BlobBody,
    /// Made for this request, not served from the cache.
    pub rendered: bool,
}

impl std::fmt::Debug for ThumbnailBytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ThumbnailBytes").field("format", &self.format).field("rendered", &self.rendered).finish()
    }
}

/// Thumbnails made on demand and kept under keys that follow from the original's
/// ([`crate::BlobKey::thumbnail`]), so that any server finds what another made. Concurrent
/// first requests for one thumbnail make it once.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait Thumbnails: Send + Sync {
    /// The thumbnail of the original under `original` (of `format`), `height` pixels high:
    /// the kept one, or one made now and kept.
    ///
    /// # Errors
    /// `Storage` when the store fails, or the original is missing; `Render` when it does
    /// not decode.
    async fn get(&self, original: &BlobKey, format: ImageFormat, height: u32)
    -> Result<ThumbnailBytes, ThumbnailError>;
}

/// Why a thumbnail could not be served.
#[derive(Debug, thiserror::Error)]
pub enum ThumbnailError {
    /// Reading the original, or keeping or reading the thumbnail, failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// The original does not decode, or what was made is not an image.
    #[error("{0}")]
    Render(String),
}

impl From<ThumbnailError> for DomainError {
    fn from(err: ThumbnailError) -> Self {
        match err {
            ThumbnailError::Storage(e) => e.into(),
            // The image was checked when it was recorded: a render that fails now is ours.
            ThumbnailError::Render(why) => Self::Internal(why),
        }
    }
}

/// Why an image was refused on inspection.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InspectError {
    /// More pixels than allowed, told from the header before any decoding.
    #[error("{width}x{height} is more than {max_pixels} pixels")]
    TooLarge { width: u32, height: u32, max_pixels: u64 },
    /// It does not decode as its format.
    #[error("{0}")]
    Invalid(String),
}

/// Checks an image: dimensions from the header first, then a full decode with limits.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait ImageInspector: Send + Sync {
    /// The image's width and height, once it is known to decode, and when and with what it
    /// was taken.
    ///
    /// # Errors
    /// `TooLarge` past `max_pixels`; `Invalid` when it does not decode.
    async fn inspect(
        &self,
        source: Box<dyn ReadSeek>,
        format: ImageFormat,
        max_pixels: u64,
    ) -> Result<Inspected, InspectError>;
}

/// What inspecting an image found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inspected {
    pub width: u32,
    pub height: u32,
    pub shot: Shot,
}

impl Inspected {
    /// An image of this size, with nothing known of its shot.
    #[must_use]
    pub fn sized(width: u32, height: u32) -> Self {
        Self { width, height, shot: Shot::default() }
    }
}

/// Takes location out of an image's bytes as they stream, without touching its pixels:
/// EXIF GPS data and XMP packets go, the rest of EXIF (orientation included) stays.
pub trait LocationFilter: Send + Sync {
    /// A scrub for one file of `format`.
    fn begin(&self, format: ImageFormat) -> Box<dyn LocationScrub>;
}

/// One file's scrub, fed its bytes in order.
pub trait LocationScrub: Send {
    /// Takes the next bytes; appends to `out` what may be stored.
    fn feed(&mut self, input: &[u8], out: &mut Vec<u8>);

    /// The input has ended; appends to `out` whatever is left to store.
    ///
    /// # Errors
    /// Why the file cannot be shown to hold no location (a container whose metadata could
    /// not be reached while streaming): it must not be stored.
    fn finish(&mut self, out: &mut Vec<u8>) -> Result<(), String>;
}

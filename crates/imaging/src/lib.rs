//! Image inspection for Gallery: [`Inspector`] reads an image's dimensions from its header
//! and refuses one over the pixel limit before anything is decoded (a 30000×30000 PNG of a
//! few kilobytes must not allocate gigabytes), then decodes it fully, with allocation
//! limits, to prove it is an image. Decoding runs on the blocking pool, at most
//! `max_concurrent` at a time, so a burst of uploads cannot starve the API, and each decode
//! first takes its bytes of a [`DecodeBudget`] shared with the thumbnail renders, so a few
//! small files that decode to hundreds of megabytes cannot together exhaust memory.

use std::io::{BufReader, Seek as _, SeekFrom};
use std::sync::Arc;

use async_trait::async_trait;
use gallery_domain::ImageFormat;
use gallery_domain::ports::{ImageInspector, InspectError, Inspected, ReadSeek};
use image::{DynamicImage, ImageDecoder as _, ImageReader, Limits};
use tokio::sync::Semaphore;
use tracing::Instrument as _;

mod bmff;
mod budget;
mod cache;
mod gif;
mod heif;
mod jpeg;
mod location;
mod shot;
mod thumbnails;

pub use budget::DecodeBudget;
pub use cache::CachedThumbnails;
pub use location::{HOLD_MAX, LocationStripper};
pub use thumbnails::{Renderer, render_blocking, render_within};

/// The inspector, with a bound on concurrent decodes and on the memory they decode.
#[derive(Debug, Clone)]
pub struct Inspector {
    permits: Arc<Semaphore>,
    budget: DecodeBudget,
}

impl Inspector {
    /// At most `max_concurrent` checks at once, with no bound on their memory.
    #[must_use]
    pub fn new(max_concurrent: usize) -> Self {
        Self { permits: Arc::new(Semaphore::new(max_concurrent.max(1))), budget: DecodeBudget::unbounded() }
    }

    /// Checks share `budget` (with the thumbnail renders) for what they decode.
    #[must_use]
    pub fn with_budget(self, budget: DecodeBudget) -> Self {
        Self { budget, ..self }
    }
}

pub(crate) fn invalid(e: impl std::fmt::Display) -> InspectError {
    InspectError::Invalid(e.to_string())
}

/// Whether `orientation` shows the picture turned a quarter: width and height trade
/// places (EXIF orientations 5 to 8). The one reading of it, for thumbnails and sizes.
pub(crate) const fn turns_a_quarter(orientation: image::metadata::Orientation) -> bool {
    use image::metadata::Orientation::{Rotate90, Rotate90FlipH, Rotate270, Rotate270FlipH};
    matches!(orientation, Rotate90 | Rotate270 | Rotate90FlipH | Rotate270FlipH)
}

/// The `image` crate's decoder for `format`; HEIF files are libheif's (`heif`).
pub(crate) fn codec(format: ImageFormat) -> Result<image::ImageFormat, InspectError> {
    match format {
        ImageFormat::Jpeg => Ok(image::ImageFormat::Jpeg),
        ImageFormat::Png => Ok(image::ImageFormat::Png),
        ImageFormat::Gif => Ok(image::ImageFormat::Gif),
        ImageFormat::Webp => Ok(image::ImageFormat::WebP),
        ImageFormat::Heic | ImageFormat::Avif => Err(invalid("HEIF is read by libheif")),
    }
}

/// Refuses a picture with no pixels or more than `max_pixels`.
fn within(width: u32, height: u32, max_pixels: u64) -> Result<(), InspectError> {
    if width == 0 || height == 0 {
        return Err(InspectError::Invalid("the image has no pixels".into()));
    }
    if u64::from(width) * u64::from(height) > max_pixels {
        return Err(InspectError::TooLarge { width, height, max_pixels });
    }
    Ok(())
}

/// Header first, then a bounded decode; EXIF's record of the shot on the way, and the size
/// as the picture is shown.
fn inspect_blocking(
    source: Box<dyn ReadSeek>,
    format: ImageFormat,
    max_pixels: u64,
    budget: &DecodeBudget,
) -> Result<Inspected, InspectError> {
    let mut source = BufReader::new(source);
    if matches!(format, ImageFormat::Heic | ImageFormat::Avif) {
        let file = heif::Heif::read(source)?;
        let heif = file.open()?;
        let (width, height, exif) = heif.header();
        within(width, height, max_pixels)?;
        let _lease = budget.lease(heif.decode_cost());
        heif.decode()?;
        // The size is already as shown: the file's own transforms are applied, not EXIF's.
        let shot = exif.as_deref().map(|exif| shot::from_exif(exif).0).unwrap_or_default();
        return Ok(Inspected { width, height, shot });
    }
    if format == ImageFormat::Gif {
        source = gif::readable(source)?;
    }
    let (width, height, exif) = header(&mut source, format)?;
    within(width, height, max_pixels)?;
    source.seek(SeekFrom::Start(0)).map_err(|e| InspectError::Invalid(e.to_string()))?;
    let exif = if format == ImageFormat::Jpeg {
        // Decoded at 1/8 scale, a row of blocks at a time (and the rows collected).
        let _lease = budget.lease(budget::pixels(width, height, 3) / 64);
        jpeg::check(source)?;
        exif
    } else {
        let mut reader = ImageReader::with_format(source, codec(format)?);
        let mut limits = Limits::default();
        limits.max_image_width = Some(width);
        limits.max_image_height = Some(height);
        // RGBA at 16 bits per channel is the most a decoder may need per pixel.
        limits.max_alloc = Some(u64::from(width) * u64::from(height) * 8 + (1 << 20));
        reader.limits(limits);
        let mut decoder = reader.into_decoder().map_err(invalid)?;
        let exif = decoder.exif_metadata().ok().flatten();
        let _lease = budget.lease(decoder.total_bytes());
        DynamicImage::from_decoder(decoder).map_err(invalid)?;
        exif
    };
    let (shot, turned) = exif.as_deref().map(shot::from_exif).unwrap_or_default();
    // As the picture is shown: an EXIF orientation that turns it a quarter trades width
    // and height (thumbnails apply it; so does every browser).
    let (width, height) = if turned { (height, width) } else { (width, height) };
    Ok(Inspected { width, height, shot })
}

/// Width and height from the header alone, reading no more of the file than needed, and a
/// JPEG's EXIF (the others' is read with their pixels).
fn header(
    source: &mut BufReader<Box<dyn ReadSeek>>,
    format: ImageFormat,
) -> Result<(u32, u32, Option<Vec<u8>>), InspectError> {
    if format == ImageFormat::Jpeg {
        return jpeg::header(source);
    }
    let (width, height) = ImageReader::with_format(source, codec(format)?).into_dimensions().map_err(invalid)?;
    Ok((width, height, None))
}

#[async_trait]
impl ImageInspector for Inspector {
    #[tracing::instrument(name = "image.inspect", level = "debug", skip_all, fields(image.format = format.as_str()))]
    async fn inspect(
        &self,
        source: Box<dyn ReadSeek>,
        format: ImageFormat,
        max_pixels: u64,
    ) -> Result<Inspected, InspectError> {
        let _permit = self.permits.acquire().await.map_err(|e| InspectError::Invalid(e.to_string()))?;
        let span = tracing::Span::current();
        let budget = self.budget.clone();
        tokio::task::spawn_blocking(move || span.in_scope(|| inspect_blocking(source, format, max_pixels, &budget)))
            .in_current_span()
            .await
            .map_err(|e| InspectError::Invalid(format!("the decoder failed: {e}")))?
    }
}

#[cfg(test)]
mod tests;

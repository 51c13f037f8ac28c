//! Thumbnails: decode, apply the EXIF orientation, resize with a SIMD convolution
//! (`fast_image_resize`, Lanczos3), encode: JPEG (quality 85) for opaque images, PNG where
//! something is transparent. Never upscaled: a height above the image's own keeps its size.

use std::io::{BufReader, Cursor, Seek as _, SeekFrom};
use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use fast_image_resize::images::Image as ResizeImage;
use fast_image_resize::{FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer};
use gallery_domain::ImageFormat;
use gallery_domain::ports::{InspectError, ReadSeek, ThumbnailRenderer};
use image::codecs::png::PngEncoder;
use image::metadata::Orientation;
use image::{
    DynamicImage, GenericImageView as _, ImageDecoder as _, ImageEncoder as _, ImageReader, RgbImage, RgbaImage,
};
use tokio::sync::Semaphore;
use tracing::Instrument as _;

use crate::budget::{DecodeBudget, Lease, pixels};
use crate::{codec, heif, invalid, jpeg};

/// JPEG quality of thumbnails.
const QUALITY: u8 = 85;

/// The thumbnail renderer, with a bound on concurrent renders and on the memory they decode.
#[derive(Debug, Clone)]
pub struct Renderer {
    permits: Arc<Semaphore>,
    budget: DecodeBudget,
}

impl Renderer {
    /// At most `max_concurrent` renders at once, with no bound on their memory.
    #[must_use]
    pub fn new(max_concurrent: usize) -> Self {
        Self { permits: Arc::new(Semaphore::new(max_concurrent.max(1))), budget: DecodeBudget::unbounded() }
    }

    /// Renders share `budget` (with the upload checks) for what they decode.
    #[must_use]
    pub fn with_budget(self, budget: DecodeBudget) -> Self {
        Self { budget, ..self }
    }
}

/// The width that keeps the aspect at `height`, at least one pixel.
pub(crate) fn width_for(width: u32, height: u32, target: u32) -> u32 {
    let w = (u64::from(width) * u64::from(target) + u64::from(height) / 2) / u64::from(height);
    u32::try_from(w.max(1)).unwrap_or(u32::MAX)
}

/// Renders the thumbnail with no bound on memory; public for the benchmarks and tests.
///
/// # Errors
/// `Invalid` when the source does not decode.
pub fn render_blocking(source: Box<dyn ReadSeek>, format: ImageFormat, height: u32) -> Result<Bytes, InspectError> {
    render_within(source, format, height, &DecodeBudget::unbounded())
}

/// Renders the thumbnail, its decode waiting for its bytes of `budget`; public for the
/// benchmarks.
///
/// # Errors
/// `Invalid` when the source does not decode.
pub fn render_within(
    source: Box<dyn ReadSeek>,
    format: ImageFormat,
    height: u32,
    budget: &DecodeBudget,
) -> Result<Bytes, InspectError> {
    let (mut img, orientation, _lease) = decode(BufReader::new(source), format, height, budget)?;
    img.apply_orientation(orientation);
    let (w, h) = img.dimensions();
    let target_h = height.min(h).max(1);
    let target_w = width_for(w, h, target_h);
    let alpha = img.color().has_alpha();
    let src = if alpha { DynamicImage::ImageRgba8(img.into_rgba8()) } else { DynamicImage::ImageRgb8(img.into_rgb8()) };
    let resized = if (target_w, target_h) == (w, h) { src } else { resize(&src, target_w, target_h, alpha)? };
    // An alpha channel with nothing transparent in it (every GIF without transparency,
    // many screenshots) is an opaque image: its thumbnail is a JPEG.
    if alpha && !fully_opaque(resized.as_bytes()) {
        let mut out = Cursor::new(Vec::new());
        PngEncoder::new(&mut out)
            .write_image(resized.as_bytes(), target_w, target_h, image::ExtendedColorType::Rgba8)
            .map_err(invalid)?;
        return Ok(Bytes::from(out.into_inner()));
    }
    let rgb = if alpha { DynamicImage::ImageRgb8(resized.into_rgb8()) } else { resized };
    jpeg::encode(rgb.as_bytes(), target_w, target_h, QUALITY).map(Bytes::from)
}

/// The picture, decoded no bigger than a thumbnail of `height` needs where the format
/// allows (JPEG's scaled decoding), the orientation still to apply, and the bytes of `budget`
/// it holds until the thumbnail is made: the decoded pixels and one full-size copy (turned,
/// or converted to 8-bit RGB or RGBA), read from the header before any pixel is decoded.
fn decode(
    mut source: BufReader<Box<dyn ReadSeek>>,
    format: ImageFormat,
    height: u32,
    budget: &DecodeBudget,
) -> Result<(DynamicImage, Orientation, Lease), InspectError> {
    match format {
        // Decoded with the file's own rotation and mirror applied.
        ImageFormat::Heic | ImageFormat::Avif => {
            let file = heif::Heif::read(source)?;
            let heif = file.open()?;
            let lease = budget.lease(heif.decode_cost());
            return Ok((heif.decode()?, Orientation::NoTransforms, lease));
        }
        ImageFormat::Jpeg => {
            if let Some(scaled) = jpeg::decode_scaled(&mut source, height, budget)? {
                return Ok(scaled);
            }
            source.seek(SeekFrom::Start(0)).map_err(invalid)?;
        }
        ImageFormat::Gif => source = crate::gif::readable(source)?,
        ImageFormat::Png | ImageFormat::Webp => {}
    }
    let mut decoder = ImageReader::with_format(source, codec(format)?).into_decoder().map_err(invalid)?;
    let (w, h) = decoder.dimensions();
    let lease = budget.lease(decoder.total_bytes().saturating_add(pixels(w, h, 4)));
    let orientation = decoder.orientation().map_err(invalid)?;
    Ok((DynamicImage::from_decoder(decoder).map_err(invalid)?, orientation, lease))
}

/// Whether every pixel of RGBA bytes has alpha 255.
fn fully_opaque(rgba: &[u8]) -> bool {
    rgba.chunks_exact(4).all(|px| px[3] == u8::MAX)
}

fn resize(src: &DynamicImage, w: u32, h: u32, alpha: bool) -> Result<DynamicImage, InspectError> {
    let pixels = if alpha { PixelType::U8x4 } else { PixelType::U8x3 };
    let mut dst = ResizeImage::new(w, h, pixels);
    let options = ResizeOptions::new().resize_alg(ResizeAlg::Convolution(FilterType::Lanczos3));
    Resizer::new().resize(src, &mut dst, &options).map_err(invalid)?;
    let buffer = dst.into_vec();
    let img = if alpha {
        RgbaImage::from_raw(w, h, buffer).map(DynamicImage::ImageRgba8)
    } else {
        RgbImage::from_raw(w, h, buffer).map(DynamicImage::ImageRgb8)
    };
    img.ok_or_else(|| invalid("the resized buffer has the wrong size"))
}

#[async_trait]
impl ThumbnailRenderer for Renderer {
    #[tracing::instrument(name = "thumbnail.render", level = "debug", skip_all, fields(image.format = format.as_str(), thumbnail.height = height))]
    async fn render(&self, source: Box<dyn ReadSeek>, format: ImageFormat, height: u32) -> Result<Bytes, InspectError> {
        let _permit = self.permits.acquire().await.map_err(invalid)?;
        let span = tracing::Span::current();
        let budget = self.budget.clone();
        tokio::task::spawn_blocking(move || span.in_scope(|| render_within(source, format, height, &budget)))
            .in_current_span()
            .await
            .map_err(|e| invalid(format!("the renderer failed: {e}")))?
    }
}

#[cfg(test)]
mod tests;

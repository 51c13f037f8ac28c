//! Thumbnails: decode, apply the EXIF orientation, resize with a SIMD convolution
//! (`fast_image_resize`, Lanczos3), encode: JPEG (quality 85) for opaque images, PNG where
//! there is alpha. Never upscaled: a height above the image's own keeps its size.

use std::io::{BufReader, Cursor, Seek as _, SeekFrom};
use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use fast_image_resize::images::Image as ResizeImage;
use fast_image_resize::{FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer};
use gallery_domain::ImageFormat;
use gallery_domain::ports::{InspectError, ReadSeek, ThumbnailRenderer};
use image::codecs::jpeg::JpegEncoder;
use image::codecs::png::PngEncoder;
use image::metadata::Orientation;
use image::{
    DynamicImage, GenericImageView as _, ImageDecoder as _, ImageEncoder as _, ImageReader, RgbImage, RgbaImage,
};
use tokio::sync::Semaphore;
use tracing::Instrument as _;

use crate::codec;

/// JPEG quality of thumbnails.
const QUALITY: u8 = 85;

/// The thumbnail renderer, with a bound on concurrent renders.
#[derive(Debug, Clone)]
pub struct Renderer {
    permits: Arc<Semaphore>,
}

impl Renderer {
    #[must_use]
    pub fn new(max_concurrent: usize) -> Self {
        Self { permits: Arc::new(Semaphore::new(max_concurrent.max(1))) }
    }
}

fn invalid(e: impl std::fmt::Display) -> InspectError {
    InspectError::Invalid(e.to_string())
}

/// The width that keeps the aspect at `height`, at least one pixel.
fn width_for(width: u32, height: u32, target: u32) -> u32 {
    let w = (u64::from(width) * u64::from(target) + u64::from(height) / 2) / u64::from(height);
    u32::try_from(w.max(1)).unwrap_or(u32::MAX)
}

/// Renders the thumbnail; public for the benchmarks.
///
/// # Errors
/// `Invalid` when the source does not decode.
pub fn render_blocking(source: Box<dyn ReadSeek>, format: ImageFormat, height: u32) -> Result<Bytes, InspectError> {
    let mut source = BufReader::new(source);
    let scaled = if format == ImageFormat::Jpeg { decode_jpeg_scaled(&mut source, height)? } else { None };
    let (mut img, orientation) = match scaled {
        Some(decoded) => decoded,
        None => {
            source.seek(SeekFrom::Start(0)).map_err(invalid)?;
            let mut decoder = ImageReader::with_format(source, codec(format)).into_decoder().map_err(invalid)?;
            let orientation = decoder.orientation().map_err(invalid)?;
            (DynamicImage::from_decoder(decoder).map_err(invalid)?, orientation)
        }
    };
    img.apply_orientation(orientation);
    let (w, h) = img.dimensions();
    let target_h = height.min(h).max(1);
    let target_w = width_for(w, h, target_h);
    let alpha = img.color().has_alpha();
    let src = if alpha { DynamicImage::ImageRgba8(img.into_rgba8()) } else { DynamicImage::ImageRgb8(img.into_rgb8()) };
    let resized = if (target_w, target_h) == (w, h) { src } else { resize(&src, target_w, target_h, alpha)? };
    let mut out = Cursor::new(Vec::new());
    if alpha {
        PngEncoder::new(&mut out)
            .write_image(resized.as_bytes(), target_w, target_h, image::ExtendedColorType::Rgba8)
            .map_err(invalid)?;
    } else {
        JpegEncoder::new_with_quality(&mut out, QUALITY)
            .write_image(resized.as_bytes(), target_w, target_h, image::ExtendedColorType::Rgb8)
            .map_err(invalid)?;
    }
    Ok(Bytes::from(out.into_inner()))
}

/// Decodes a JPEG at the smallest DCT scale (1/8, 1/4, 1/2 or 1) that still covers the
/// thumbnail, so a 48-megapixel photo is never decoded whole for a 200-pixel thumbnail.
/// `None` for pixel formats left to the general decoder (CMYK, 16-bit).
fn decode_jpeg_scaled(
    source: &mut BufReader<Box<dyn ReadSeek>>,
    height: u32,
) -> Result<Option<(DynamicImage, Orientation)>, InspectError> {
    let mut decoder = jpeg_decoder::Decoder::new(&mut *source);
    decoder.read_info().map_err(invalid)?;
    let info = decoder.info().ok_or_else(|| invalid("no frame header"))?;
    let orientation = decoder.exif_data().and_then(Orientation::from_exif_chunk).unwrap_or(Orientation::NoTransforms);
    let turns = matches!(
        orientation,
        Orientation::Rotate90 | Orientation::Rotate270 | Orientation::Rotate90FlipH | Orientation::Rotate270FlipH
    );
    let (stored_w, stored_h) = (u32::from(info.width), u32::from(info.height));
    let (shown_w, shown_h) = if turns { (stored_h, stored_w) } else { (stored_w, stored_h) };
    let target_h = height.min(shown_h).max(1);
    let target_w = width_for(shown_w, shown_h, target_h);
    let (want_w, want_h) = if turns { (target_h, target_w) } else { (target_w, target_h) };
    let clamp = |v: u32| u16::try_from(v).unwrap_or(u16::MAX);
    decoder.scale(clamp(want_w), clamp(want_h)).map_err(invalid)?;
    let pixels = decoder.decode().map_err(invalid)?;
    let info = decoder.info().ok_or_else(|| invalid("no frame header"))?;
    let (w, h) = (u32::from(info.width), u32::from(info.height));
    let img = match info.pixel_format {
        jpeg_decoder::PixelFormat::RGB24 => RgbImage::from_raw(w, h, pixels).map(DynamicImage::ImageRgb8),
        jpeg_decoder::PixelFormat::L8 => image::GrayImage::from_raw(w, h, pixels).map(DynamicImage::ImageLuma8),
        _ => return Ok(None),
    };
    Ok(Some((img.ok_or_else(|| invalid("decoded buffer of the wrong size"))?, orientation)))
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
    async fn render(&self, source: Box<dyn ReadSeek>, format: ImageFormat, height: u32) -> Result<Bytes, InspectError> {
        let _permit = self.permits.acquire().await.map_err(invalid)?;
        let span = tracing::Span::current();
        tokio::task::spawn_blocking(move || span.in_scope(|| render_blocking(source, format, height)))
            .in_current_span()
            .await
            .map_err(|e| invalid(format!("the renderer failed: {e}")))?
    }
}

#[cfg(test)]
mod tests;

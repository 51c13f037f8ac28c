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

pub(crate) fn invalid(e: impl std::fmt::Display) -> InspectError {
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
    libjpeg(|| encode_jpeg(rgb.as_bytes(), target_w, target_h)).map(Bytes::from)
}

/// Whether every pixel of RGBA bytes has alpha 255.
fn fully_opaque(rgba: &[u8]) -> bool {
    rgba.chunks_exact(4).all(|px| px[3] == u8::MAX)
}

/// Runs libjpeg work. libjpeg reports a fatal error by unwinding (`resume_unwind`, no
/// panic hook): it is caught here and becomes `Invalid`. The release profile must keep
/// `panic = "unwind"`.
pub(crate) fn libjpeg<T>(work: impl FnOnce() -> Result<T, InspectError>) -> Result<T, InspectError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(work)).unwrap_or_else(|payload| {
        let message =
            payload.downcast_ref::<String>().map_or_else(|| "the JPEG codec failed".to_owned(), ToString::to_string);
        Err(invalid(message))
    })
}

/// Baseline JPEG at `QUALITY` with optimised Huffman tables: libjpeg-turbo's speed, not
/// mozjpeg's slower trellis search (a thumbnail is small either way).
fn encode_jpeg(rgb: &[u8], width: u32, height: u32) -> Result<Vec<u8>, InspectError> {
    let mut encoder = mozjpeg::Compress::new(mozjpeg::ColorSpace::JCS_RGB);
    encoder.set_fastest_defaults();
    encoder.set_size(width as usize, height as usize);
    encoder.set_quality(f32::from(QUALITY));
    encoder.set_optimize_coding(true);
    let mut started = encoder.start_compress(Vec::new()).map_err(invalid)?;
    started.write_scanlines(rgb).map_err(invalid)?;
    started.finish().map_err(invalid)
}

/// Decodes a JPEG with libjpeg-turbo's DCT scaling (through `mozjpeg`) at the smallest
/// scale, n/8, that still covers the thumbnail, so a 48-megapixel photo is never decoded
/// whole for a 200-pixel thumbnail. The file is streamed, never read whole. `None` for
/// colour spaces left to the general decoder (CMYK, YCCK).
fn decode_jpeg_scaled(
    source: &mut BufReader<Box<dyn ReadSeek>>,
    height: u32,
) -> Result<Option<(DynamicImage, Orientation)>, InspectError> {
    libjpeg(|| decode_jpeg_scaled_inner(source, height))
}

fn decode_jpeg_scaled_inner(
    source: &mut BufReader<Box<dyn ReadSeek>>,
    height: u32,
) -> Result<Option<(DynamicImage, Orientation)>, InspectError> {
    let mut decoder =
        mozjpeg::Decompress::with_markers(&[mozjpeg::Marker::APP(1)]).from_reader(&mut *source).map_err(invalid)?;
    let orientation = decoder
        .markers()
        .find_map(|m| m.data.strip_prefix(b"Exif\0\0").and_then(Orientation::from_exif_chunk))
        .unwrap_or(Orientation::NoTransforms);
    let turns = matches!(
        orientation,
        Orientation::Rotate90 | Orientation::Rotate270 | Orientation::Rotate90FlipH | Orientation::Rotate270FlipH
    );
    let (stored_w, stored_h) = (dimension(decoder.width())?, dimension(decoder.height())?);
    let (shown_w, shown_h) = if turns { (stored_h, stored_w) } else { (stored_w, stored_h) };
    let target_h = height.min(shown_h).max(1);
    let target_w = width_for(shown_w, shown_h, target_h);
    let (want_w, want_h) = if turns { (target_h, target_w) } else { (target_w, target_h) };
    decoder.scale(scale_numerator((stored_w, stored_h), (want_w, want_h)));
    // The decoded pixels are only a resize's input: the fast IDCT and plain chroma
    // upsampling cost nothing visible after a Lanczos downscale (Pillow's draft mode
    // makes the same choice).
    decoder.dct_method(mozjpeg::DctMethod::IntegerFast);
    decoder.do_fancy_upsampling(false);
    let (mut started, gray) = match decoder.image().map_err(invalid)? {
        mozjpeg::Format::RGB(started) => (started, false),
        mozjpeg::Format::Gray(started) => (started, true),
        mozjpeg::Format::CMYK(_) => return Ok(None),
    };
    let (w, h) = (dimension(started.width())?, dimension(started.height())?);
    let pixels: Vec<u8> = started.read_scanlines().map_err(invalid)?;
    started.finish().map_err(invalid)?;
    let img = if gray {
        image::GrayImage::from_raw(w, h, pixels).map(DynamicImage::ImageLuma8)
    } else {
        RgbImage::from_raw(w, h, pixels).map(DynamicImage::ImageRgb8)
    };
    Ok(Some((img.ok_or_else(|| invalid("decoded buffer of the wrong size"))?, orientation)))
}

fn dimension(v: usize) -> Result<u32, InspectError> {
    u32::try_from(v).map_err(|_| invalid("image dimension out of range"))
}

/// The smallest n in 1..=8 such that an n/8 DCT-scaled decode (libjpeg rounds up) is still
/// at least `want` in both directions.
fn scale_numerator((w, h): (u32, u32), (want_w, want_h): (u32, u32)) -> u8 {
    let covers = |n: u32, size: u32, want: u32| (u64::from(size) * u64::from(n)).div_ceil(8) >= u64::from(want);
    (1..=8u8).find(|&n| covers(n.into(), w, want_w) && covers(n.into(), h, want_h)).unwrap_or(8)
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

//! libjpeg-turbo (through `mozjpeg`), in one place: the check that an upload's JPEG
//! decodes whole ([`check`], under the [`strict`] error manager), the DCT-scaled decode a
//! thumbnail starts from ([`decode_scaled`]) and the thumbnail's encoder ([`encode`]). Every
//! call runs [`guarded`]: libjpeg reports a fatal error by unwinding.

mod strict;

use std::io::{BufRead, BufReader};

use gallery_domain::ports::{InspectError, ReadSeek};
use image::metadata::Orientation;
use image::{DynamicImage, RgbImage};

use crate::budget::{DecodeBudget, Lease};
use crate::invalid;
use crate::thumbnails::width_for;

/// Runs libjpeg work. libjpeg reports a fatal error by unwinding (`resume_unwind`, no
/// panic hook): it is caught here and becomes `Invalid`. The release profile must keep
/// `panic = "unwind"`.
pub(crate) fn guarded<T>(work: impl FnOnce() -> Result<T, InspectError>) -> Result<T, InspectError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(work)).unwrap_or_else(|payload| {
        let message =
            payload.downcast_ref::<String>().map_or_else(|| "the JPEG codec failed".to_owned(), ToString::to_string);
        Err(invalid(message))
    })
}

/// Proves a JPEG decodes, reading and checking every entropy-coded block, without making
/// its full-size pixels: libjpeg-turbo decodes it DCT-scaled to 1/8 (each block's DC term),
/// under an error manager that makes every warning about the scans fatal ([`strict`]), so
/// a truncated file (the reader fakes an end of image and warns) or a corrupt scan
/// (libjpeg warns and fills with grey) is refused, as a whole decode in zune-jpeg's strict
/// mode refuses it; stray bytes or odd segments in the header are not.
pub(crate) fn check(source: impl BufRead) -> Result<(), InspectError> {
    guarded(|| {
        let mut decoder = mozjpeg::Decompress::with_err(strict::errors()).from_reader(source).map_err(invalid)?;
        decoder.scale(1);
        decoder.dct_method(mozjpeg::DctMethod::IntegerFast);
        decoder.do_fancy_upsampling(false);
        let (mozjpeg::Format::RGB(mut started)
        | mozjpeg::Format::Gray(mut started)
        | mozjpeg::Format::CMYK(mut started)) = decoder.image().map_err(invalid)?;
        started.read_scanlines::<u8>().map_err(invalid)?;
        started.finish().map_err(invalid)
    })
}

/// Width and height from the header alone, as libjpeg reads it (what browsers read): stray
/// bytes between segments and odd `APPn` segments are no reason to refuse ([`strict`]);
/// and the EXIF block, if an `APP1` holds one (without its `Exif\0\0`).
pub(crate) fn header(source: &mut BufReader<Box<dyn ReadSeek>>) -> Result<(u32, u32, Option<Vec<u8>>), InspectError> {
    guarded(|| {
        let decoder = mozjpeg::Decompress::with_err(strict::errors())
            .with_markers(&[mozjpeg::Marker::APP(1)])
            .from_reader(&mut *source)
            .map_err(invalid)?;
        let exif = decoder.markers().find_map(|m| m.data.strip_prefix(b"Exif\0\0").map(<[u8]>::to_vec));
        Ok((dimension(decoder.width())?, dimension(decoder.height())?, exif))
    })
}

/// Baseline JPEG at `quality` with optimised Huffman tables: libjpeg-turbo's speed, not
/// mozjpeg's slower trellis search (a thumbnail is small either way).
pub(crate) fn encode(rgb: &[u8], width: u32, height: u32, quality: u8) -> Result<Vec<u8>, InspectError> {
    guarded(|| encode_unguarded(rgb, width, height, quality))
}

fn encode_unguarded(rgb: &[u8], width: u32, height: u32, quality: u8) -> Result<Vec<u8>, InspectError> {
    let mut encoder = mozjpeg::Compress::new(mozjpeg::ColorSpace::JCS_RGB);
    encoder.set_fastest_defaults();
    encoder.set_size(width as usize, height as usize);
    encoder.set_quality(f32::from(quality));
    encoder.set_optimize_coding(true);
    let mut started = encoder.start_compress(Vec::new()).map_err(invalid)?;
    started.write_scanlines(rgb).map_err(invalid)?;
    started.finish().map_err(invalid)
}

/// Decodes a JPEG with libjpeg-turbo's DCT scaling (through `mozjpeg`) at the smallest
/// scale, n/8, that still covers the thumbnail, so a 48-megapixel photo is never decoded
/// whole for a 200-pixel thumbnail. The file is streamed, never read whole. `None` for
/// colour spaces left to the general decoder (CMYK, YCCK).
pub(crate) fn decode_scaled(
    source: &mut BufReader<Box<dyn ReadSeek>>,
    height: u32,
    budget: &DecodeBudget,
) -> Result<Option<(DynamicImage, Orientation, Lease)>, InspectError> {
    guarded(|| decode_scaled_unguarded(source, height, budget))
}

fn decode_scaled_unguarded(
    source: &mut BufReader<Box<dyn ReadSeek>>,
    height: u32,
    budget: &DecodeBudget,
) -> Result<Option<(DynamicImage, Orientation, Lease)>, InspectError> {
    let mut decoder =
        mozjpeg::Decompress::with_markers(&[mozjpeg::Marker::APP(1)]).from_reader(&mut *source).map_err(invalid)?;
    let orientation = decoder
        .markers()
        .find_map(|m| m.data.strip_prefix(b"Exif\0\0").and_then(Orientation::from_exif_chunk))
        .unwrap_or(Orientation::NoTransforms);
    let turns = crate::turns_a_quarter(orientation);
    let (stored_w, stored_h) = (dimension(decoder.width())?, dimension(decoder.height())?);
    let (shown_w, shown_h) = if turns { (stored_h, stored_w) } else { (stored_w, stored_h) };
    let target_h = height.min(shown_h).max(1);
    let target_w = width_for(shown_w, shown_h, target_h);
    let (want_w, want_h) = if turns { (target_h, target_w) } else { (target_w, target_h) };
    let scale = scale_numerator((stored_w, stored_h), (want_w, want_h));
    decoder.scale(scale);
    // The scaled pixels, and one copy of them (turned, or made RGB).
    let scaled = |size: u32| (u64::from(size) * u64::from(scale)).div_ceil(8);
    let lease = budget.lease(scaled(stored_w) * scaled(stored_h) * 3 * 2);
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
    Ok(Some((img.ok_or_else(|| invalid("decoded buffer of the wrong size"))?, orientation, lease)))
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

#[cfg(test)]
mod tests {
    use super::scale_numerator;

    #[test]
    fn the_dct_scale_is_the_smallest_that_covers_the_thumbnail() {
        assert_eq!(scale_numerator((4000, 3000), (267, 200)), 1); // 500×375
        assert_eq!(scale_numerator((4000, 3000), (533, 400)), 2); // 1000×750
        assert_eq!(scale_numerator((1000, 700), (400, 280)), 4); // 500×350
        assert_eq!(scale_numerator((300, 200), (300, 200)), 8); // no reduction possible
        assert_eq!(scale_numerator((9, 9), (2, 2)), 1); // libjpeg rounds up: 9·1/8 → 2
        assert_eq!(scale_numerator((9, 9), (3, 3)), 2); // 9·2/8 → 3
    }
}

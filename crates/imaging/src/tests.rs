use std::io::Cursor;

use image::{DynamicImage, ImageEncoder as _, RgbImage, RgbaImage};

use super::*;

fn encode(img: &DynamicImage, format: image::ImageFormat) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, format).unwrap();
    out.into_inner()
}

async fn inspect(bytes: Vec<u8>, format: ImageFormat, max_pixels: u64) -> Result<(u32, u32), InspectError> {
    Inspector::new(2).inspect(Box::new(Cursor::new(bytes)), format, max_pixels).await.map(|i| (i.width, i.height))
}

fn gradient(w: u32, h: u32) -> DynamicImage {
    DynamicImage::ImageRgb8(RgbImage::from_fn(w, h, |x, y| image::Rgb([(x % 256) as u8, (y % 256) as u8, 128])))
}

#[tokio::test]
async fn every_accepted_format_reports_its_dimensions() {
    let rgb = gradient(64, 48);
    let rgba = DynamicImage::ImageRgba8(RgbaImage::from_pixel(64, 48, image::Rgba([1, 2, 3, 128])));
    for (bytes, format) in [
        (encode(&rgb, image::ImageFormat::Jpeg), ImageFormat::Jpeg),
        (encode(&rgb, image::ImageFormat::Png), ImageFormat::Png),
        (encode(&rgb, image::ImageFormat::Gif), ImageFormat::Gif),
        (encode(&rgba, image::ImageFormat::WebP), ImageFormat::Webp),
    ] {
        assert_eq!(ImageFormat::sniff(&bytes), Some(format));
        assert_eq!(inspect(bytes, format, 50_000_000).await, Ok((64, 48)), "{format:?}");
    }
}

/// A PNG whose header claims `w`×`h` and whose data is a few bytes: a decompression bomb
/// as far as any decoder that trusts the header is concerned.
fn bomb_png(w: u32, h: u32) -> Vec<u8> {
    let mut out = Vec::new();
    image::codecs::png::PngEncoder::new(&mut out)
        .write_image(&[0, 0, 0], 1, 1, image::ExtendedColorType::Rgb8)
        .unwrap();
    // Rewrite IHDR's width and height (bytes 16..24) and its CRC: the decoder believes it.
    out[16..20].copy_from_slice(&w.to_be_bytes());
    out[20..24].copy_from_slice(&h.to_be_bytes());
    let crc = crc32(&out[12..29]);
    out[29..33].copy_from_slice(&crc.to_be_bytes());
    out
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

#[tokio::test]
async fn a_huge_header_is_refused_before_decoding() {
    let err = inspect(bomb_png(30_000, 30_000), ImageFormat::Png, 50_000_000).await.unwrap_err();
    assert_eq!(err, InspectError::TooLarge { width: 30_000, height: 30_000, max_pixels: 50_000_000 });
}

#[tokio::test]
async fn a_lying_header_under_the_limit_fails_to_decode() {
    let err = inspect(bomb_png(4_000, 4_000), ImageFormat::Png, 50_000_000).await.unwrap_err();
    assert!(matches!(err, InspectError::Invalid(_)), "{err:?}");
}

#[tokio::test]
async fn a_truncated_jpeg_is_invalid() {
    let bytes = encode(&gradient(256, 256), image::ImageFormat::Jpeg);
    let cut = bytes[..bytes.len() / 2].to_vec();
    assert!(matches!(inspect(cut, ImageFormat::Jpeg, 50_000_000).await, Err(InspectError::Invalid(_))));
}

/// A 64×48 JPEG from `input` pixels (`components` bytes each), as libjpeg writes it: YCbCr
/// for RGB, Adobe CMYK for CMYK; baseline or progressive.
fn jpeg_in(input: mozjpeg::ColorSpace, components: usize, progressive: bool) -> Vec<u8> {
    let mut compress = mozjpeg::Compress::new(input);
    compress.set_size(64, 48);
    if progressive {
        compress.set_progressive_mode();
    } else {
        compress.set_fastest_defaults();
    }
    let mut started = compress.start_compress(Vec::new()).unwrap();
    let pixels: Vec<u8> = (0..64 * 48 * components).map(|i| (i * 7 % 251) as u8).collect();
    started.write_scanlines(&pixels).unwrap();
    started.finish().unwrap()
}

/// zune-jpeg, strict: the reference the libjpeg check is held to.
fn jpeg_options() -> zune_core::options::DecoderOptions {
    zune_core::options::DecoderOptions::default().set_strict_mode(true).set_max_width(1 << 16).set_max_height(1 << 16)
}

/// What decoding `bytes` whole, to RGB, in zune-jpeg's strict mode says.
fn decodes_whole(bytes: &[u8]) -> bool {
    zune_jpeg::JpegDecoder::new_with_options(Cursor::new(bytes), jpeg_options()).decode().is_ok()
}

/// The JPEGs an upload may carry: libjpeg's baseline and progressive output in each colour
/// model (YCbCr 4:2:0 from RGB, greyscale, Adobe CMYK), and the image crate's baseline.
fn jpegs() -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for (input, components) in
        [(mozjpeg::ColorSpace::JCS_RGB, 3), (mozjpeg::ColorSpace::JCS_GRAYSCALE, 1), (mozjpeg::ColorSpace::JCS_CMYK, 4)]
    {
        for progressive in [false, true] {
            out.push((format!("{input:?}, progressive {progressive}"), jpeg_in(input, components, progressive)));
        }
    }
    out.push(("image crate".into(), encode(&gradient(64, 48), image::ImageFormat::Jpeg)));
    out
}

#[tokio::test]
async fn the_jpeg_check_refuses_whatever_a_whole_decode_refuses_and_accepts_sound_files() {
    for (name, bytes) in jpegs() {
        assert_eq!(inspect(bytes.clone(), ImageFormat::Jpeg, 50_000_000).await, Ok((64, 48)), "{name}");
        for keep in [bytes.len() / 3, bytes.len() * 2 / 3, bytes.len() - 2] {
            let refused = inspect(bytes[..keep].to_vec(), ImageFormat::Jpeg, 50_000_000).await;
            assert!(matches!(refused, Err(InspectError::Invalid(_))), "{name} cut to {keep}: {refused:?}");
        }
        // Damage inside the scan (the last 40 % of the file, headers untouched): a stray
        // marker, a run of fill bytes, flipped bits.
        let mut refusals = 0;
        for at in (bytes.len() * 3 / 5..bytes.len() - 4).step_by(7) {
            for damage in [&[0xFF, 0xD3][..], &[0xFF, 0xFF, 0xFF, 0xFF], &[0x5A, 0xA5, 0x3C]] {
                let mut damaged = bytes.clone();
                damaged[at..at + damage.len()].copy_from_slice(damage);
                let checked = inspect(damaged.clone(), ImageFormat::Jpeg, 50_000_000).await.is_ok();
                assert!(!checked || decodes_whole(&damaged), "{name}: {damage:?} at {at} passed the check only");
                refusals += usize::from(!checked);
            }
        }
        assert!(refusals > 0, "{name}: some damage is refused");
    }
}

#[tokio::test]
async fn garbage_behind_a_valid_signature_is_invalid() {
    let mut bytes = b"\x89PNG\r\n\x1a\n".to_vec();
    bytes.extend_from_slice(&[7u8; 100]);
    assert!(matches!(inspect(bytes, ImageFormat::Png, 50_000_000).await, Err(InspectError::Invalid(_))));
}

#[tokio::test]
async fn the_pixel_limit_is_inclusive() {
    let bytes = encode(&gradient(10, 10), image::ImageFormat::Png);
    assert_eq!(inspect(bytes.clone(), ImageFormat::Png, 100).await, Ok((10, 10)));
    assert!(matches!(inspect(bytes, ImageFormat::Png, 99).await, Err(InspectError::TooLarge { .. })));
}

mod corpus;

//! Odd but valid files, as cameras, editors and old tools write them, that every current
//! browser shows, and broken ones that no decoder can make whole. Each is made here from a
//! sound file by the one change that makes it odd or broken.

use std::io::Cursor;

use super::{gradient, inspect, jpeg_in};
use crate::ImageFormat;
use crate::render_blocking;

/// A 64×48 baseline JPEG with a JFIF `APP0` (what mozjpeg writes).
fn jpeg() -> Vec<u8> {
    let bytes = jpeg_in(mozjpeg::ColorSpace::JCS_RGB, 3, false);
    assert_eq!(&bytes[2..4], [0xFF, 0xE0], "JFIF APP0 first");
    bytes
}

/// `bytes` with `insert` put in at `at`.
fn spliced(bytes: &[u8], at: usize, insert: &[u8]) -> Vec<u8> {
    [&bytes[..at], insert, &bytes[at..]].concat()
}

/// Where marker `0xFF m` first stands.
fn marker(bytes: &[u8], m: u8) -> usize {
    bytes.windows(2).position(|w| w == [0xFF, m]).unwrap()
}

/// A segment: its marker, its length, its payload.
fn segment(m: u8, payload: &[u8]) -> Vec<u8> {
    let len = u16::try_from(payload.len() + 2).unwrap().to_be_bytes();
    [&[0xFF, m], &len[..], payload].concat()
}

async fn taken(name: &str, bytes: Vec<u8>, format: ImageFormat) {
    assert_eq!(inspect(bytes.clone(), format, 50_000_000).await, Ok((64, 48)), "{name} is taken");
    let thumbnail = render_blocking(Box::new(Cursor::new(bytes)), format, 24);
    assert!(thumbnail.is_ok(), "{name}: its thumbnail renders: {thumbnail:?}");
}

async fn refused(name: &str, bytes: Vec<u8>, format: ImageFormat) {
    let checked = inspect(bytes, format, 50_000_000).await;
    assert!(matches!(checked, Err(gallery_domain::ports::InspectError::Invalid(_))), "{name} is refused: {checked:?}");
}

#[tokio::test]
async fn stray_bytes_between_header_segments_are_taken() {
    // libjpeg: JWRN_EXTRANEOUS_DATA ("Corrupt JPEG data: 3 extraneous bytes before marker
    // 0xdb"), raised while it reads the header.
    let bytes = jpeg();
    taken("stray bytes before DQT", spliced(&bytes, marker(&bytes, 0xDB), &[0x00, 0x12, 0x34]), ImageFormat::Jpeg)
        .await;
    taken("stray bytes before SOF", spliced(&bytes, marker(&bytes, 0xC0), &[0x0A]), ImageFormat::Jpeg).await;
}

#[tokio::test]
async fn an_unknown_jfif_revision_is_taken() {
    // libjpeg: JWRN_JFIF_MAJOR. APP0 is `JFIF\0`, then the major and minor revision.
    let mut bytes = jpeg();
    assert_eq!(&bytes[6..11], b"JFIF\0");
    bytes[11] = 3;
    taken("JFIF 3.x", bytes, ImageFormat::Jpeg).await;
}

#[tokio::test]
async fn malformed_exif_and_cut_or_unknown_adobe_segments_are_taken() {
    let bytes = jpeg();
    let exif = segment(0xE1, b"Exif\0\0MM\0*\xFF\xFF\xFF\xFFgarbage");
    taken("malformed EXIF", spliced(&bytes, 2, &exif), ImageFormat::Jpeg).await;
    // An APP14 cut after its name: libjpeg traces it and goes on.
    taken("cut APP14", spliced(&bytes, 2, &segment(0xEE, b"Adobe")), ImageFormat::Jpeg).await;
    // A whole APP14 with an unknown colour transform: JWRN_ADOBE_XFORM.
    let adobe = segment(0xEE, b"Adobe\0\x64\0\0\0\0\x07");
    taken("unknown Adobe transform", spliced(&bytes, 2, &adobe), ImageFormat::Jpeg).await;
}

#[tokio::test]
async fn a_scan_cut_short_is_still_refused() {
    // libjpeg: JWRN_JPEG_EOF, raised while the scan is read.
    let bytes = jpeg();
    refused("cut scan", bytes[..bytes.len() * 3 / 4].to_vec(), ImageFormat::Jpeg).await;
    let progressive = jpeg_in(mozjpeg::ColorSpace::JCS_RGB, 3, true);
    refused("cut progressive scans", progressive[..progressive.len() * 3 / 4].to_vec(), ImageFormat::Jpeg).await;
}

/// A GIF89a of 64×48 grey pixels (index 0) with no colour table at all: the screen
/// descriptor names no global table, the image descriptor no local one.
fn gif_without_colour_table() -> Vec<u8> {
    let mut gif = b"GIF89a".to_vec();
    gif.extend_from_slice(&[64, 0, 48, 0, 0x00, 0, 0]); // screen: no global table
    gif.extend_from_slice(&[0x2C, 0, 0, 0, 0, 64, 0, 48, 0, 0x00]); // image: no local table
    // LZW, minimum code size 8: a clear code, then 3072 literal zeros, then the end code.
    gif.push(8);
    let mut bits = Bits::default();
    let (clear, end) = (256u16, 257u16);
    let mut next = 258u16;
    let mut width = 9;
    bits.put(clear, width);
    for i in 0..64 * 48 {
        bits.put(0, width);
        if i > 0 {
            next += 1;
            if next == 1 << width && width < 12 {
                width += 1;
            }
            if next == 4095 {
                bits.put(clear, width);
                (next, width) = (258, 9);
                continue;
            }
        }
    }
    bits.put(end, width);
    for block in bits.bytes().chunks(255) {
        gif.push(u8::try_from(block.len()).unwrap());
        gif.extend_from_slice(block);
    }
    gif.extend_from_slice(&[0, 0x3B]);
    gif
}

#[derive(Default)]
struct Bits {
    out: Vec<u8>,
    acc: u32,
    n: u32,
}

impl Bits {
    fn put(&mut self, code: u16, width: u32) {
        self.acc |= u32::from(code) << self.n;
        self.n += width;
        while self.n >= 8 {
            self.out.push((self.acc & 0xFF) as u8);
            self.acc >>= 8;
            self.n -= 8;
        }
    }

    fn bytes(mut self) -> Vec<u8> {
        if self.n > 0 {
            self.out.push((self.acc & 0xFF) as u8);
        }
        self.out
    }
}

#[tokio::test]
async fn a_gif_without_a_colour_table_is_taken_with_the_default_one() {
    let gif = gif_without_colour_table();
    assert_eq!(ImageFormat::sniff(&gif), Some(ImageFormat::Gif));
    taken("GIF without a colour table", gif.clone(), ImageFormat::Gif).await;
    let thumbnail = render_blocking(Box::new(Cursor::new(gif)), ImageFormat::Gif, 48).unwrap();
    let shown = image::load_from_memory(&thumbnail).unwrap().to_rgb8();
    assert!(shown.pixels().all(|p| p.0.iter().all(|&c| c < 8)), "index 0 of the default table is black");
    // A sound GIF is read as it is.
    let sound = super::encode(&gradient(64, 48), image::ImageFormat::Gif);
    taken("GIF with its table", sound, ImageFormat::Gif).await;
}

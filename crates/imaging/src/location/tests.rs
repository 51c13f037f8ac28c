use super::exif::{EXIF_ID, GPS_IFD_TAG, XMP_TAG, scrub_exif};
use super::jpeg::XMP_IDS;
use super::png::crc32;
use super::webp::VP8X_XMP;
use super::*;

/// A little-endian TIFF: IFD0 holds Make (`Canon`, out of line), Orientation 6, an XMP
/// packet (out of line) and a pointer to a GPS IFD holding a latitude (out of line).
pub(super) fn exif_with_gps() -> Vec<u8> {
    let mut t = b"II*\0".to_vec();
    t.extend_from_slice(&8u32.to_le_bytes()); // IFD0 at 8
    let entry = |t: &mut Vec<u8>, tag: u16, kind: u16, n: u32, value: u32| {
        t.extend_from_slice(&tag.to_le_bytes());
        t.extend_from_slice(&kind.to_le_bytes());
        t.extend_from_slice(&n.to_le_bytes());
        t.extend_from_slice(&value.to_le_bytes());
    };
    // IFD0: 4 entries at 8..=61, next offset at 58..62. Values from 62.
    let (make_at, xmp_at, gps_at) = (62u32, 68u32, 100u32);
    t.extend_from_slice(&4u16.to_le_bytes());
    entry(&mut t, 0x010F, 2, 6, make_at); // Make
    entry(&mut t, 0x0112, 3, 1, 6); // Orientation, inline
    entry(&mut t, XMP_TAG, 1, 32, xmp_at);
    entry(&mut t, GPS_IFD_TAG, 4, 1, gps_at);
    t.extend_from_slice(&0u32.to_le_bytes());
    assert_eq!(t.len(), 62);
    t.extend_from_slice(b"Canon\0");
    t.extend_from_slice(b"<x:xmpmeta>secret place</x:xmpm>"); // 32 bytes at 68
    assert_eq!(t.len(), 100);
    // GPS IFD at 100: LatitudeRef "N" inline, Latitude 3 rationals at 130.
    t.extend_from_slice(&2u16.to_le_bytes());
    entry(&mut t, 0x0001, 2, 2, u32::from_le_bytes(*b"N\0\0\0"));
    entry(&mut t, 0x0002, 5, 3, 130);
    t.extend_from_slice(&0u32.to_le_bytes());
    assert_eq!(t.len(), 130);
    for v in [48u32, 1, 51, 1, 2437, 100] {
        t.extend_from_slice(&v.to_le_bytes());
    }
    t
}

/// Asserts the TIFF keeps Make and Orientation and holds no GPS or XMP.
pub(super) fn assert_located_nowhere(tiff: &[u8]) {
    assert_eq!(u16::from_le_bytes([tiff[8], tiff[9]]), 2, "two IFD0 entries left");
    assert_eq!(u16::from_le_bytes([tiff[10], tiff[11]]), 0x010F);
    assert_eq!(u16::from_le_bytes([tiff[22], tiff[23]]), 0x0112);
    assert_eq!(u16::from_le_bytes([tiff[30], tiff[31]]), 6, "orientation kept");
    assert_eq!(&tiff[62..68], b"Canon\0", "the rest of EXIF kept");
    // What follows Make, to the end of the 154-byte structure, is XMP and GPS: all zeros.
    assert!(tiff[68..154].iter().all(|&b| b == 0), "GPS and XMP zeroed: {:?}", &tiff[68..154]);
}

#[test]
fn exif_loses_its_gps_and_xmp_and_keeps_the_rest() {
    let mut tiff = exif_with_gps();
    let len = tiff.len();
    assert!(scrub_exif(&mut tiff));
    assert_eq!(tiff.len(), len, "sizes stay");
    assert_located_nowhere(&tiff);
}

#[test]
fn exif_that_does_not_parse_is_refused() {
    for bad in [&b"II*\0\xff\xff\xff\xff"[..], b"XX*\0", b"II*\0\x08\0\0\0\x05\0"] {
        assert!(!scrub_exif(&mut bad.to_vec()), "{bad:?}");
    }
    let mut gps_out_of_bounds = exif_with_gps();
    gps_out_of_bounds.truncate(110);
    assert!(!scrub_exif(&mut gps_out_of_bounds));
}

fn scrub(format: ImageFormat, file: &[u8], chunk: usize) -> Vec<u8> {
    let mut scrub = LocationStripper.begin(format);
    let mut out = Vec::new();
    for piece in file.chunks(chunk) {
        scrub.feed(piece, &mut out);
    }
    let _ = scrub.finish(&mut out);
    out
}

fn encoded(format: image::ImageFormat) -> Vec<u8> {
    let img = image::RgbImage::from_fn(16, 8, |x, y| image::Rgb([(x * 15) as u8, (y * 30) as u8, 90]));
    let mut out = std::io::Cursor::new(Vec::new());
    image::DynamicImage::ImageRgb8(img).write_to(&mut out, format).unwrap();
    out.into_inner()
}

fn jpeg_segment(marker: u8, body: &[u8]) -> Vec<u8> {
    let mut s = vec![0xFF, marker];
    s.extend_from_slice(&u16::try_from(body.len() + 2).unwrap().to_be_bytes());
    s.extend_from_slice(body);
    s
}

/// A JPEG with an EXIF segment holding GPS, and an XMP segment.
fn located_jpeg() -> (Vec<u8>, Vec<u8>) {
    let plain = encoded(image::ImageFormat::Jpeg);
    let exif = [EXIF_ID, &exif_with_gps()].concat();
    let xmp = [XMP_IDS[0], b"<x:xmpmeta><exif:GPSLatitude>48,51N</exif:GPSLatitude></x:xmpmeta>"].concat();
    let mut file = plain[..2].to_vec();
    file.extend(jpeg_segment(0xE1, &exif));
    file.extend(jpeg_segment(0xE1, &xmp));
    file.extend_from_slice(&plain[2..]);
    (file, plain)
}

#[test]
fn a_jpeg_keeps_its_pixels_and_exif_without_location_however_it_is_cut() {
    let (file, plain) = located_jpeg();
    for chunk in [1, 2, 3, 7, 64, 4096, file.len()] {
        let out = scrub(ImageFormat::Jpeg, &file, chunk);
        assert!(!contains(&out, b"xmpmeta") && !contains(&out, b"secret place"), "chunk {chunk}");
        let exif_at = find(&out, EXIF_ID).expect("EXIF kept") + EXIF_ID.len();
        assert_located_nowhere(&out[exif_at..]);
        assert!(out.ends_with(&plain[2..]), "the image data is untouched");
        let decoded = image::load_from_memory(&out).unwrap();
        assert_eq!((decoded.width(), decoded.height()), (16, 8));
    }
}

#[test]
fn a_jpeg_without_metadata_passes_byte_for_byte() {
    let plain = encoded(image::ImageFormat::Jpeg);
    assert_eq!(scrub(ImageFormat::Jpeg, &plain, 5), plain);
}

fn png_chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut c = u32::try_from(data.len()).unwrap().to_be_bytes().to_vec();
    c.extend_from_slice(kind);
    c.extend_from_slice(data);
    c.extend_from_slice(&crc32(&[kind, data]).to_be_bytes());
    c
}

#[test]
fn a_png_loses_gps_and_xmp_and_stays_valid() {
    let plain = encoded(image::ImageFormat::Png);
    // After the signature and IHDR (8 + 25 bytes).
    let (head, rest) = plain.split_at(33);
    let xmp = [&b"XML:com.adobe.xmp\0\0\0\0\0"[..], b"<x:xmpmeta>secret place</x:xmpmeta>"].concat();
    let comment = b"Comment\0made here".to_vec();
    let file = [
        head.to_vec(),
        png_chunk(b"eXIf", &exif_with_gps()),
        png_chunk(b"iTXt", &xmp),
        png_chunk(b"tEXt", &comment),
        rest.to_vec(),
    ]
    .concat();
    for chunk in [1, 9, 100, file.len()] {
        let out = scrub(ImageFormat::Png, &file, chunk);
        assert!(!contains(&out, b"xmpmeta"), "chunk {chunk}");
        assert!(contains(&out, b"made here"), "other text kept");
        let exif_at = find(&out, b"eXIf").unwrap() + 4;
        assert_located_nowhere(&out[exif_at..]);
        // Every chunk's CRC is right: the png decoder checks them.
        let decoded = image::load_from_memory(&out).unwrap();
        assert_eq!((decoded.width(), decoded.height()), (16, 8));
    }
}

#[test]
fn a_webp_loses_gps_and_xmp_in_place_and_stays_valid() {
    // An extended WebP by hand: VP8X (flags EXIF | XMP), the lossless image, EXIF, XMP.
    let plain = encoded(image::ImageFormat::WebP);
    let image_chunk = &plain[12..]; // VP8L
    let riff_chunk = |kind: &[u8; 4], data: &[u8]| {
        let mut c = kind.to_vec();
        c.extend_from_slice(&u32::try_from(data.len()).unwrap().to_le_bytes());
        c.extend_from_slice(data);
        if data.len() % 2 == 1 {
            c.push(0);
        }
        c
    };
    let mut vp8x = vec![0x08 | VP8X_XMP, 0, 0, 0];
    vp8x.extend_from_slice(&[15, 0, 0, 7, 0, 0]); // 16×8, minus one, 24-bit
    let xmp = b"<x:xmpmeta>secret place</x:xmpmeta>";
    let body = [
        b"WEBP".to_vec(),
        riff_chunk(b"VP8X", &vp8x),
        image_chunk.to_vec(),
        riff_chunk(b"EXIF", &exif_with_gps()),
        riff_chunk(b"XMP ", xmp),
    ]
    .concat();
    let mut file = b"RIFF".to_vec();
    file.extend_from_slice(&u32::try_from(body.len()).unwrap().to_le_bytes());
    file.extend_from_slice(&body);
    for chunk in [1, 13, file.len()] {
        let out = scrub(ImageFormat::Webp, &file, chunk);
        assert_eq!(out.len(), file.len(), "the RIFF size stays true");
        assert!(!contains(&out, b"xmpmeta") && contains(&out, b"JUNK"));
        assert_eq!(out[20] & VP8X_XMP, 0, "the XMP flag is cleared");
        let exif_at = find(&out, b"EXIF").unwrap() + 8;
        assert_located_nowhere(&out[exif_at..]);
        let decoded = image::load_from_memory(&out).unwrap();
        assert_eq!((decoded.width(), decoded.height()), (16, 8));
    }
}

#[test]
fn a_gif_passes_untouched() {
    let gif = encoded(image::ImageFormat::Gif);
    assert_eq!(scrub(ImageFormat::Gif, &gif, 3), gif);
}

#[test]
fn a_file_cut_inside_a_metadata_block_keeps_none_of_it() {
    let (file, _) = located_jpeg();
    let exif_start = find(&file, EXIF_ID).unwrap();
    let out = scrub(ImageFormat::Jpeg, &file[..exif_start + 40], 7);
    assert_eq!(out, &file[..2], "only the start-of-image marker");
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    find(haystack, needle).is_some()
}

#[test]
fn damaged_files_never_panic_and_never_grow() {
    let (jpeg, _) = located_jpeg();
    let png = encoded(image::ImageFormat::Png);
    let gif = encoded(image::ImageFormat::Gif);
    for (format, file) in
        [(ImageFormat::Jpeg, &jpeg), (ImageFormat::Png, &png), (ImageFormat::Webp, &png), (ImageFormat::Gif, &gif)]
    {
        damage_never_panics_or_grows(format, file, 300);
    }
}

/// `tries` copies of `file`, each with up to 8 random bytes changed and cut at a random
/// length, streamed through in random chunks: none panics, none comes out longer.
pub(super) fn damage_never_panics_or_grows(format: ImageFormat, file: &[u8], tries: usize) {
    let mut seed = 0x2545_F491_4F6C_DD1Du64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for _ in 0..tries {
        let mut damaged = file.to_vec();
        for _ in 0..1 + next() % 8 {
            let at = (next() % damaged.len() as u64) as usize;
            damaged[at] = next() as u8;
        }
        let cut = (next() % damaged.len() as u64) as usize;
        let out = scrub(format, &damaged[..cut], 1 + (next() % 50) as usize);
        assert!(out.len() <= cut, "{format:?}");
    }
}

/// A GIF's extension: introducer, label, then `data` as sub-blocks and their terminator.
fn gif_extension(label: u8, first: &[u8], data: &[u8]) -> Vec<u8> {
    let mut out = vec![0x21, label, u8::try_from(first.len()).unwrap()];
    out.extend_from_slice(first);
    for block in data.chunks(255) {
        out.push(u8::try_from(block.len()).unwrap());
        out.extend_from_slice(block);
    }
    out.push(0);
    out
}

#[test]
fn a_gifs_xmp_extension_goes_and_every_other_block_stays_byte_for_byte() {
    let gif = encoded(image::ImageFormat::Gif);
    // After the screen descriptor and its global table: where the first block starts.
    let table = if gif[10] & 0x80 == 0 { 0 } else { 3 << ((gif[10] & 7) + 1) };
    let at = 13 + table;
    let looping = gif_extension(0xFF, b"NETSCAPE2.0", &[1, 0, 0]);
    let comment = gif_extension(0xFE, b"a comment", b"");
    let xmp = gif_extension(
        0xFF,
        b"XMP DataXMP",
        &[b"<x:xmpmeta>GPSLatitude 48.85 Paris</x:xmpmeta>".as_slice(), &[0u8; 300]].concat(),
    );
    let file = [&gif[..at], &looping, &xmp, &comment, &gif[at..]].concat();
    let expected = [&gif[..at], &looping, &comment, &gif[at..]].concat();
    for chunk in [1, 2, 5, 64, file.len()] {
        assert_eq!(scrub(ImageFormat::Gif, &file, chunk), expected, "fed {chunk} bytes at a time");
    }
    assert!(image::load_from_memory(&expected).is_ok());
}

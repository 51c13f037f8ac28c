//! HEIF files built box by box: EXIF and XMP items in `mdat` or in `idat`, and the files that
//! must be refused.

use gallery_domain::ImageFormat;
use gallery_domain::ports::LocationFilter as _;

use super::super::LocationStripper;
use super::super::tests::{assert_located_nowhere, damage_never_panics_or_grows, exif_with_gps};

fn bx(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
    [&u32::try_from(body.len() + 8).unwrap().to_be_bytes()[..], kind, body].concat()
}

fn full(kind: &[u8; 4], version: u8, body: &[u8]) -> Vec<u8> {
    bx(kind, &[&[version, 0, 0, 0][..], body].concat())
}

fn infe(id: u16, kind: &[u8; 4], content_type: &[u8]) -> Vec<u8> {
    let mut body = [&id.to_be_bytes()[..], &[0, 0], kind].concat();
    if kind == b"mime" {
        body.extend_from_slice(b"\0"); // no name
        body.extend_from_slice(content_type);
        body.push(0);
    }
    full(b"infe", 2, &body)
}

/// An EXIF item as HEIF stores it: the offset of the TIFF header past `Exif\0\0`, then both.
fn exif_item() -> Vec<u8> {
    [&6u32.to_be_bytes()[..], b"Exif\0\0", &exif_with_gps()].concat()
}

const XMP: &[u8] = b"<x:xmpmeta><exif:GPSLatitude>48,51N</exif:GPSLatitude></x:xmpmeta>";
const PIXELS: &[u8] = b"coded pixels of the image, never touched";

#[derive(Clone, Copy, PartialEq)]
enum Layout {
    /// `meta` then `mdat`, the items in `mdat` (what phones and libheif write).
    InMdat,
    /// The items inside `meta`, in its `idat`.
    InIdat,
    /// `mdat` ahead of `meta`.
    MdatFirst,
}

/// A HEIC file with an image item, an EXIF item and an XMP item; where each item starts.
fn heif(layout: Layout) -> (Vec<u8>, usize, usize) {
    let ftyp = bx(b"ftyp", b"heic\0\0\0\0mif1heic");
    let items = [exif_item(), XMP.to_vec()].concat();
    let build = |base: u32| {
        // iloc version 1: 4-byte offsets, lengths and base offsets.
        let method: u16 = if layout == Layout::InIdat { 1 } else { 0 };
        let mut iloc = vec![0x44, 0x40];
        iloc.extend_from_slice(&3u16.to_be_bytes());
        let entry = |iloc: &mut Vec<u8>, id: u16, method: u16, offset: u32, len: usize| {
            iloc.extend_from_slice(&id.to_be_bytes());
            iloc.extend_from_slice(&method.to_be_bytes());
            iloc.extend_from_slice(&0u16.to_be_bytes()); // this file
            iloc.extend_from_slice(&0u32.to_be_bytes()); // base offset
            iloc.extend_from_slice(&1u16.to_be_bytes());
            iloc.extend_from_slice(&offset.to_be_bytes());
            iloc.extend_from_slice(&u32::try_from(len).unwrap().to_be_bytes());
        };
        let pixels_at = if layout == Layout::InIdat { base } else { base + u32::try_from(items.len()).unwrap() };
        let items_at = if layout == Layout::InIdat { 0 } else { base };
        entry(&mut iloc, 1, 0, pixels_at, PIXELS.len());
        entry(&mut iloc, 2, method, items_at, exif_item().len());
        entry(&mut iloc, 3, method, items_at + u32::try_from(exif_item().len()).unwrap(), XMP.len());
        let iinf = full(
            b"iinf",
            0,
            &[
                &3u16.to_be_bytes()[..],
                &infe(1, b"hvc1", b""),
                &infe(2, b"Exif", b""),
                &infe(3, b"mime", b"application/rdf+xml"),
            ]
            .concat(),
        );
        let mut children = [
            full(b"hdlr", 0, b"\0\0\0\0pict\0\0\0\0\0\0\0\0\0\0\0\0\0"),
            full(b"pitm", 0, &1u16.to_be_bytes()),
            iinf,
            full(b"iloc", 1, &iloc),
        ]
        .concat();
        if layout == Layout::InIdat {
            children.extend_from_slice(&bx(b"idat", &items));
        }
        full(b"meta", 0, &children)
    };
    let mdat_body = if layout == Layout::InIdat { PIXELS.to_vec() } else { [&items[..], PIXELS].concat() };
    let (file, items_at) = match layout {
        Layout::InMdat | Layout::InIdat => {
            let meta_len = build(0).len();
            let base = ftyp.len() + meta_len + 8;
            let meta = build(u32::try_from(base).unwrap());
            let items_at = if layout == Layout::InIdat { ftyp.len() + meta.len() - items.len() } else { base };
            ([ftyp, meta, bx(b"mdat", &mdat_body)].concat(), items_at)
        }
        Layout::MdatFirst => {
            let base = ftyp.len() + 8;
            let meta = build(u32::try_from(base).unwrap());
            ([ftyp, bx(b"mdat", &mdat_body), meta].concat(), base)
        }
    };
    assert_eq!(&file[items_at..items_at + 4], &6u32.to_be_bytes(), "the EXIF item starts there");
    (file, items_at, items_at + exif_item().len())
}

fn scrub(file: &[u8], chunk: usize) -> (Vec<u8>, Result<(), String>) {
    let mut scrub = LocationStripper.begin(ImageFormat::Heic);
    let mut out = Vec::new();
    for piece in file.chunks(chunk) {
        scrub.feed(piece, &mut out);
    }
    let verdict = scrub.finish(&mut out);
    (out, verdict)
}

#[test]
fn exif_and_xmp_items_are_scrubbed_in_place_wherever_they_are_stored() {
    for layout in [Layout::InMdat, Layout::InIdat] {
        let (file, exif_at, xmp_at) = heif(layout);
        for chunk in [1, 2, 7, 13, 64, file.len()] {
            let (out, verdict) = scrub(&file, chunk);
            assert_eq!(verdict, Ok(()));
            assert_eq!(out.len(), file.len(), "in place");
            assert_located_nowhere(&out[exif_at + 10..xmp_at]);
            assert_eq!(&out[exif_at..exif_at + 10], &file[exif_at..exif_at + 10], "the item's head stays");
            assert!(out[xmp_at..xmp_at + XMP.len()].iter().all(|&b| b == b' '), "XMP blanked");
            assert_eq!(&out[..exif_at], &file[..exif_at], "everything before stays");
            assert_eq!(&out[xmp_at + XMP.len()..], &file[xmp_at + XMP.len()..], "everything after stays");
        }
    }
}

#[test]
fn a_file_without_metadata_items_passes_byte_for_byte() {
    // The same file with its EXIF and XMP items retyped as image items.
    let (mut plain, _, _) = heif(Layout::InMdat);
    for at in 0..plain.len() - 4 {
        if &plain[at..at + 4] == b"Exif" || &plain[at..at + 4] == b"mime" {
            plain[at..at + 4].copy_from_slice(b"hvc1");
        }
    }
    assert_eq!(scrub(&plain, 5), (plain.clone(), Ok(())));
}

#[test]
fn items_that_went_by_before_the_tables_or_tables_that_do_not_parse_are_refused() {
    let (file, _, _) = heif(Layout::MdatFirst);
    let (_, verdict) = scrub(&file, 9);
    assert!(verdict.unwrap_err().contains("before its item table"));
    let (mut file, _, _) = heif(Layout::InMdat);
    let iloc = file.windows(4).position(|w| w == b"iloc").unwrap();
    file[iloc + 9] = 0xFF; // an item count past the table
    let (_, verdict) = scrub(&file, 9);
    assert!(verdict.unwrap_err().contains("do not parse"));
}

#[test]
fn damaged_heif_files_never_panic_and_never_grow() {
    let (file, _, _) = heif(Layout::InMdat);
    damage_never_panics_or_grows(ImageFormat::Heic, &file, 2000);
}

//! Metadata as a real tool writes it: exiftool (Debian's `libimage-exiftool-perl`; `make
//! test` installs it).
//! - Location: exiftool puts GPS, XMP and IPTC places into a file of each format; the file
//!   streams through [`LocationStripper`] in small odd chunks, and exiftool then finds no
//!   place in it, while the rest of EXIF and every pixel stay.
//! - The shot: the [`Inspector`] reads when and with what a photo was taken from the EXIF
//!   exiftool wrote.
//! - HEIC and AVIF are made by libheif's `heif-enc` and libavif's `avifenc` (Debian's
//!   `libheif-examples` and `libavif-bin`), the way phones and editors make them.

use std::path::Path;
use std::process::Command;

use gallery_domain::ImageFormat;
use gallery_domain::ports::ImageInspector as _;
use gallery_domain::ports::LocationFilter as _;
use gallery_imaging::{Inspector, LocationStripper};
use image::{DynamicImage, RgbImage};
use serde_json::{Map, Value};

fn exiftool(args: &[&str], file: &Path) -> String {
    let out = Command::new("exiftool")
        .args(args)
        .arg(file)
        .output()
        .expect("exiftool is missing: `make test` installs it (apt-get install libimage-exiftool-perl)");
    assert!(out.status.success(), "exiftool {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// Every tag exiftool reads from `bytes`, by group and name.
fn tags(bytes: &[u8], ext: &str) -> Map<String, Value> {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join(format!("read.{ext}"));
    std::fs::write(&file, bytes).unwrap();
    let json: Value = serde_json::from_str(&exiftool(&["-j", "-G1", "-a", "-n"], &file)).unwrap();
    json[0].as_object().unwrap().clone()
}

/// A 48×32 image in `format`, with `writes` applied by exiftool.
fn located(format: image::ImageFormat, ext: &str, writes: &[&str]) -> Vec<u8> {
    let img = DynamicImage::ImageRgb8(RgbImage::from_fn(48, 32, |x, y| image::Rgb([x as u8 * 5, y as u8 * 7, 90])));
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join(format!("photo.{ext}"));
    img.save_with_format(&file, format).unwrap();
    let mut args = vec!["-q", "-overwrite_original"];
    args.extend_from_slice(writes);
    exiftool(&args, &file);
    std::fs::read(&file).unwrap()
}

/// The same 48×32 picture as HEIC or AVIF, made by libheif's `heif-enc` (Debian's
/// `libheif-examples`), with `writes` applied by exiftool.
fn heif(ext: &str, writes: &[&str]) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let png = located(image::ImageFormat::Png, "png", &["-all="]);
    std::fs::write(dir.path().join("photo.png"), png).unwrap();
    let file = dir.path().join(format!("photo.{ext}"));
    let made = Command::new("heif-enc")
        .args(["-q", "60", "-o"])
        .arg(&file)
        .arg(dir.path().join("photo.png"))
        .output()
        .expect("heif-enc is missing: `make test` installs it (apt-get install libheif-examples)");
    assert!(made.status.success(), "heif-enc: {}", String::from_utf8_lossy(&made.stderr));
    if !writes.is_empty() {
        let mut args = vec!["-q", "-overwrite_original"];
        args.extend_from_slice(writes);
        exiftool(&args, &file);
    }
    std::fs::read(&file).unwrap()
}

/// `bytes` through the stripper, fed in chunks of 7 bytes.
fn stripped(bytes: &[u8], format: ImageFormat) -> Vec<u8> {
    let mut scrub = LocationStripper.begin(format);
    let mut out = Vec::new();
    for chunk in bytes.chunks(7) {
        scrub.feed(chunk, &mut out);
    }
    scrub.finish(&mut out).expect("the stripper takes it");
    out
}

/// The tags that say where: any GPS tag, and any place name.
fn places(tags: &Map<String, Value>) -> Vec<String> {
    let place = ["GPS", "City", "Sub-location", "Location", "Country", "State", "Province"];
    tags.keys().filter(|k| place.iter().any(|p| k.contains(p))).cloned().collect()
}

const GPS: [&str; 4] = ["-GPSLatitude=48.8566", "-GPSLatitudeRef=N", "-GPSLongitude=2.3522", "-GPSLongitudeRef=E"];
const XMP: [&str; 2] = ["-XMP-photoshop:City=Paris", "-XMP-iptcCore:Location=Montmartre"];
const IPTC: [&str; 3] =
    ["-IPTC:City=Paris", "-IPTC:Sub-location=Montmartre", "-IPTC:Country-PrimaryLocationName=France"];

fn check(name: &str, format: image::ImageFormat, ext: &str, ours: ImageFormat, writes: &[&str], keeps: &[&str]) {
    let before = located(format, ext, writes);
    let written = tags(&before, ext);
    assert!(!places(&written).is_empty(), "{name}: exiftool wrote a place: {written:?}");
    let after = stripped(&before, ours);
    let left = tags(&after, ext);
    assert_eq!(places(&left), Vec::<String>::new(), "{name}: no place is left");
    for tag in keeps {
        assert!(left.contains_key(*tag), "{name}: {tag} stays: {left:?}");
    }
    let (a, b) = (image::load_from_memory(&before).unwrap(), image::load_from_memory(&after).unwrap());
    assert_eq!(a.to_rgba8().as_raw(), b.to_rgba8().as_raw(), "{name}: every pixel stays");
}

#[test]
fn exiftools_places_are_gone_from_every_format_and_the_rest_stays() {
    let all: Vec<&str> = GPS.iter().chain(&XMP).chain(&IPTC).copied().chain(["-IFD0:Make=TestCam"]).collect();
    check("JPEG", image::ImageFormat::Jpeg, "jpg", ImageFormat::Jpeg, &all, &["IFD0:Make"]);
    check("PNG", image::ImageFormat::Png, "png", ImageFormat::Png, &all, &[]);
    let exif_xmp: Vec<&str> = GPS.iter().chain(&XMP).copied().chain(["-IFD0:Make=TestCam"]).collect();
    check("WebP", image::ImageFormat::WebP, "webp", ImageFormat::Webp, &exif_xmp, &["IFD0:Make"]);
    // exiftool writes only XMP into a GIF (an application extension).
    let xmp_gps = ["-XMP-exif:GPSLatitude=48.8566", "-XMP-exif:GPSLongitude=2.3522", XMP[0], XMP[1]];
    check("GIF", image::ImageFormat::Gif, "gif", ImageFormat::Gif, &xmp_gps, &[]);
    for (ext, ours) in [("heic", ImageFormat::Heic), ("avif", ImageFormat::Avif)] {
        // exiftool adds an Exif and an XMP item to the file libheif wrote.
        let before = heif(ext, &exif_xmp);
        let written = tags(&before, ext);
        assert!(!places(&written).is_empty(), "{ext}: exiftool wrote a place: {written:?}");
        let after = stripped(&before, ours);
        assert_eq!(after.len(), before.len(), "{ext}: patched in place");
        let left = tags(&after, ext);
        assert_eq!(places(&left), Vec::<String>::new(), "{ext}: no place is left");
        assert!(left.contains_key("IFD0:Make"), "{ext}: the rest of EXIF stays: {left:?}");
        let pixels = |bytes: &[u8]| {
            gallery_imaging::render_blocking(Box::new(std::io::Cursor::new(bytes.to_vec())), ours, 32).unwrap()
        };
        assert_eq!(pixels(&before), pixels(&after), "{ext}: every pixel stays");
    }
}

#[tokio::test]
async fn the_shot_is_read_from_the_exif_exiftool_writes() {
    let shot = [
        "-EXIF:DateTimeOriginal=2024:05:01 12:30:15",
        "-EXIF:OffsetTimeOriginal=+02:00",
        "-EXIF:Make=Canon",
        "-EXIF:Model=Canon EOS R5",
    ];
    let taken = chrono::DateTime::parse_from_rfc3339("2024-05-01T10:30:15Z").unwrap().to_utc();
    for (format, ext, ours) in [
        (image::ImageFormat::Jpeg, "jpg", ImageFormat::Jpeg),
        (image::ImageFormat::Png, "png", ImageFormat::Png),
        (image::ImageFormat::WebP, "webp", ImageFormat::Webp),
        (image::ImageFormat::Avif, "heic", ImageFormat::Heic),
        (image::ImageFormat::Avif, "avif", ImageFormat::Avif),
    ] {
        let bytes = if ext == "heic" || ext == "avif" { heif(ext, &shot) } else { located(format, ext, &shot) };
        let found = Inspector::new(1).inspect(Box::new(std::io::Cursor::new(bytes)), ours, 1 << 20).await.unwrap();
        assert_eq!((found.width, found.height), (48, 32), "{ext}");
        assert_eq!(found.shot.taken_at, Some(taken), "{ext}");
        let camera = found.shot.camera.unwrap_or_else(|| panic!("{ext}: a camera"));
        assert_eq!((camera.make.as_deref(), camera.model.as_deref()), (Some("Canon"), Some("Canon EOS R5")), "{ext}");
    }
    // Without an offset, the time is read as UTC; without EXIF, nothing is known.
    let bytes = located(image::ImageFormat::Jpeg, "jpg", &["-EXIF:DateTimeOriginal=2024:05:01 12:30:15"]);
    let found =
        Inspector::new(1).inspect(Box::new(std::io::Cursor::new(bytes)), ImageFormat::Jpeg, 1 << 20).await.unwrap();
    assert_eq!(found.shot.taken_at, Some(taken + chrono::TimeDelta::hours(2)));
    assert_eq!(found.shot.camera, None);
    let bare = located(image::ImageFormat::Png, "png", &["-all="]);
    let found =
        Inspector::new(1).inspect(Box::new(std::io::Cursor::new(bare)), ImageFormat::Png, 1 << 20).await.unwrap();
    assert_eq!(found.shot, gallery_domain::Shot::default());
}

#[tokio::test]
async fn width_and_height_are_as_the_picture_is_shown() {
    for (format, ext, ours) in [
        (image::ImageFormat::Jpeg, "jpg", ImageFormat::Jpeg),
        (image::ImageFormat::Png, "png", ImageFormat::Png),
        (image::ImageFormat::WebP, "webp", ImageFormat::Webp),
    ] {
        // 48×32 stored; Orientation 6 (a quarter clockwise) and 8 show it 32×48, 3 (a half
        // turn) keeps 48×32.
        for (orientation, shown) in [("6", (32, 48)), ("8", (32, 48)), ("3", (48, 32)), ("1", (48, 32))] {
            let bytes = located(format, ext, &[&format!("-Orientation#={orientation}")]);
            let found = Inspector::new(1).inspect(Box::new(std::io::Cursor::new(bytes)), ours, 1 << 20).await.unwrap();
            assert_eq!((found.width, found.height), shown, "{ext}, orientation {orientation}");
        }
    }
    // avifenc turns a JPEG's EXIF orientation into the AVIF's own rotation (`irot`) and
    // mirror (`imir`): sizes and thumbnails follow them.
    for (orientation, shown) in [("6", (32, 48)), ("5", (32, 48)), ("2", (48, 32)), ("3", (48, 32))] {
        let jpeg = located(image::ImageFormat::Jpeg, "jpg", &[&format!("-Orientation#={orientation}")]);
        // 10 bits per channel (as HDR photos are) for one of them.
        let bytes = avif_from_jpeg(&jpeg, if orientation == "5" { &["--depth", "10"] } else { &[] });
        let found = Inspector::new(1)
            .inspect(Box::new(std::io::Cursor::new(bytes.clone())), ImageFormat::Avif, 1 << 20)
            .await
            .unwrap();
        assert_eq!((found.width, found.height), shown, "avif, orientation {orientation}");
        let thumb =
            gallery_imaging::render_blocking(Box::new(std::io::Cursor::new(bytes)), ImageFormat::Avif, 48).unwrap();
        let thumb = image::load_from_memory(&thumb).unwrap();
        assert_eq!((thumb.width(), thumb.height()), shown, "avif thumbnail, orientation {orientation}");
    }
}

/// `jpeg` as AVIF, by libavif's `avifenc` (Debian's `libavif-bin`) with `args`.
fn avif_from_jpeg(jpeg: &[u8], args: &[&str]) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let (from, to) = (dir.path().join("photo.jpg"), dir.path().join("photo.avif"));
    std::fs::write(&from, jpeg).unwrap();
    let made = Command::new("avifenc")
        .args(args)
        .arg(&from)
        .arg(&to)
        .output()
        .expect("avifenc is missing: `make test` installs it (apt-get install libavif-bin)");
    assert!(made.status.success(), "avifenc: {}", String::from_utf8_lossy(&made.stderr));
    std::fs::read(&to).unwrap()
}

/// libheif 1.15 mirrors only 8-bit images; deeper ones are turned and mirrored by us. Every
/// orientation of a 10-bit AVIF shows as its 8-bit twin does (libheif's own transforms).
#[test]
fn deep_heif_images_are_turned_and_mirrored_as_libheif_turns_8_bit_ones() {
    for orientation in 1..=8 {
        let jpeg = located(image::ImageFormat::Jpeg, "jpg", &[&format!("-Orientation#={orientation}")]);
        let thumb = |args: &[&str]| {
            let avif = avif_from_jpeg(&jpeg, args);
            let thumb = gallery_imaging::render_blocking(Box::new(std::io::Cursor::new(avif)), ImageFormat::Avif, 48);
            image::load_from_memory(&thumb.unwrap()).unwrap().to_rgb8()
        };
        let (eight, ten) = (thumb(&[]), thumb(&["--depth", "10"]));
        assert_eq!(eight.dimensions(), ten.dimensions(), "orientation {orientation}");
        let diff: u64 = eight.as_raw().iter().zip(ten.as_raw()).map(|(a, b)| u64::from(a.abs_diff(*b))).sum();
        let mean = diff / eight.as_raw().len() as u64;
        assert!(mean < 6, "orientation {orientation}: mean difference {mean}");
    }
}

/// HEIF files as their tools make them, odd or broken: a transparent AVIF keeps its
/// transparency (a PNG thumbnail); an image cut inside its coded data, or past its boxes,
/// is refused.
#[tokio::test]
async fn heif_files_with_transparency_are_taken_and_cut_ones_refused() {
    let dir = tempfile::tempdir().unwrap();
    let png = dir.path().join("clear.png");
    image::RgbaImage::from_fn(40, 30, |x, _| image::Rgba([200, 40, 40, if x < 20 { 0 } else { 255 }]))
        .save(&png)
        .unwrap();
    let avif = dir.path().join("clear.avif");
    let made = Command::new("avifenc").arg(&png).arg(&avif).output().expect("avifenc (libavif-bin)");
    assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
    let bytes = std::fs::read(&avif).unwrap();
    let inspect = |bytes: Vec<u8>, format| async move {
        Inspector::new(1).inspect(Box::new(std::io::Cursor::new(bytes)), format, 1 << 20).await
    };
    let found = inspect(bytes.clone(), ImageFormat::Avif).await.unwrap();
    assert_eq!((found.width, found.height), (40, 30));
    let thumb =
        gallery_imaging::render_blocking(Box::new(std::io::Cursor::new(bytes.clone())), ImageFormat::Avif, 30).unwrap();
    assert_eq!(ImageFormat::sniff(&thumb), Some(ImageFormat::Png), "transparency stays");
    for cut in [bytes.len() - 20, bytes.len() / 2, 200] {
        let err = inspect(bytes[..cut].to_vec(), ImageFormat::Avif).await.unwrap_err();
        assert!(matches!(err, gallery_domain::ports::InspectError::Invalid(_)), "cut at {cut}: {err:?}");
    }
    let heic = heif("heic", &[]);
    let err = inspect(heic[..heic.len() - 100].to_vec(), ImageFormat::Heic).await.unwrap_err();
    assert!(matches!(err, gallery_domain::ports::InspectError::Invalid(_)), "{err:?}");
}

//! HEIC and AVIF as phones and tools make them (libheif's `heif-enc`, libavif's `avifenc`,
//! exiftool; `make test` installs them): taken, stored as uploaded less their location,
//! served with their own type, shown as their own rotation says, and refused when cut short.

use std::path::Path;
use std::process::Command;

use serde_json::json;

use crate::helpers::spawn_app;

fn run(tool: &str, package: &str, args: &[&str], files: &[&Path]) {
    let out = Command::new(tool)
        .args(args)
        .args(files)
        .output()
        .unwrap_or_else(|_| panic!("{tool} is missing: `make test` installs it (apt-get install {package})"));
    assert!(out.status.success(), "{tool}: {}", String::from_utf8_lossy(&out.stderr));
}

/// A 64×48 photo (a JPEG) with EXIF written by exiftool, made into `ext` by `tool`.
fn photo(ext: &str, exif: &[&str]) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let jpeg = dir.path().join("photo.jpg");
    let img = image::RgbImage::from_fn(64, 48, |x, y| image::Rgb([(x * 4) as u8, (y * 5) as u8, 120]));
    img.save(&jpeg).unwrap();
    run("exiftool", "libimage-exiftool-perl", &[&["-q", "-overwrite_original"][..], exif].concat(), &[&jpeg]);
    let out = dir.path().join(format!("photo.{ext}"));
    match ext {
        // heif-enc keeps EXIF as an item; avifenc also turns its orientation into `irot`.
        "heic" => run("heif-enc", "libheif-examples", &["-q", "60", "-o"], &[&out, &jpeg]),
        _ => run("avifenc", "libavif-bin", &[], &[&jpeg, &out]),
    }
    std::fs::read(out).unwrap()
}

/// Every tag exiftool reads in `bytes`.
fn tags(bytes: &[u8], ext: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join(format!("read.{ext}"));
    std::fs::write(&file, bytes).unwrap();
    let out = Command::new("exiftool").args(["-a", "-G1", "-s"]).arg(&file).output().unwrap();
    String::from_utf8(out.stdout).unwrap()
}

const SHOT: [&str; 6] = [
    "-GPSLatitude=48.8566",
    "-GPSLatitudeRef=N",
    "-DateTimeOriginal=2024:05:01 12:30:15",
    "-OffsetTimeOriginal=+02:00",
    "-Make=Apple",
    "-Model=iPhone 15",
];

#[tokio::test]
async fn heic_and_avif_are_taken_as_uploaded_less_their_location() {
    let app = spawn_app().await;
    let admin = app.admin_token("root").await;
    app.post("/subscriptions", Some(&admin), json!({"plan": "enterprise"})).await;
    for (ext, mime, shown) in [("heic", "image/heic", (64u32, 48u32)), ("avif", "image/avif", (48, 64))] {
        // The AVIF says Orientation 6: avifenc turns it into the file's own rotation.
        let exif: Vec<&str> = SHOT.iter().copied().chain((ext == "avif").then_some("-Orientation#=6")).collect();
        let file = photo(ext, &exif);
        assert!(tags(&file, ext).contains("GPSLatitude"), "{ext}: the tools wrote a place");
        let made = app.upload(&admin, file, "IMG_0001.bin", None).await;
        assert_eq!(made.status, 201, "{ext}: {:?}", made.body);
        let b = &made.body;
        assert_eq!(b["format"], ext);
        assert_eq!(
            (b["width"].as_u64(), b["height"].as_u64()),
            (Some(u64::from(shown.0)), Some(u64::from(shown.1))),
            "{ext}"
        );
        assert_eq!(b["taken_at"], "2024-05-01T10:30:15Z", "{ext}");
        assert_eq!(b["camera"], json!({"make": "Apple", "model": "iPhone 15"}), "{ext}");
        let id = b["id"].as_str().unwrap();

        let (status, headers, original) = app.get_with(&format!("/images/{id}/original"), &admin, &[]).await;
        assert_eq!((status.as_u16(), headers["content-type"].to_str().unwrap()), (200, mime), "{ext}");
        assert_eq!(b["size_bytes"], original.len(), "{ext}");
        let left = tags(&original, ext);
        assert!(!left.contains("GPS"), "{ext}: no place is left: {left}");
        assert!(left.contains("iPhone 15"), "{ext}: the rest of EXIF stays: {left}");

        let (status, headers, thumb) = app.get_with(&format!("/images/{id}/thumbnails/200"), &admin, &[]).await;
        assert_eq!((status.as_u16(), headers["content-type"].to_str().unwrap()), (200, "image/jpeg"), "{ext}");
        let thumb = image::load_from_memory(&thumb).unwrap();
        assert_eq!((thumb.width(), thumb.height()), shown, "{ext}: the thumbnail is shown as the image is");
    }
}

#[tokio::test]
async fn a_heif_file_cut_short_or_without_a_codec_brand_is_refused() {
    let app = spawn_app().await;
    let token = app.user_token("player", "beta_player").await;
    for ext in ["heic", "avif"] {
        let file = photo(ext, &["-Make=Apple"]);
        let cut = app.upload(&token, file[..file.len() * 3 / 4].to_vec(), "cut.bin", None).await;
        cut.assert_problem(422, "invalid_image");
    }
    // `mif1` alone names no codec.
    let mut generic = photo("heic", &[]);
    generic[8..12].copy_from_slice(b"mif1");
    let brands = generic.windows(4).skip(16).take(16).position(|w| w == b"heic").unwrap() + 16;
    generic[brands..brands + 4].copy_from_slice(b"miaf");
    app.upload(&token, generic, "generic.bin", None).await.assert_problem(415, "unsupported_media_type");
}

//! Location never leaves the server: an uploaded photo's EXIF GPS data and XMP are gone
//! from what is stored and served, its orientation and pixels are not.

use serde_json::json;

use crate::helpers::spawn_app;

/// Latitude values no real file would hold, to look for in what is served.
const LATITUDE: [u32; 6] = [0x0BAD_CAFE, 1, 0x0DEC_AF00, 1, 0x0FAC_ADE0, 1];
const XMP: &[u8] = b"http://ns.adobe.com/xap/1.0/\0<x:xmpmeta><exif:GPSLatitude>48,51N</exif:GPSLatitude></x:xmpmeta>";

/// A little-endian TIFF: Orientation 6 and a GPS IFD with a latitude.
fn exif() -> Vec<u8> {
    let mut t = b"Exif\0\0II*\0".to_vec();
    t.extend_from_slice(&8u32.to_le_bytes());
    let entry = |t: &mut Vec<u8>, tag: u16, kind: u16, n: u32, value: u32| {
        for b in [&tag.to_le_bytes()[..], &kind.to_le_bytes(), &n.to_le_bytes(), &value.to_le_bytes()] {
            t.extend_from_slice(b);
        }
    };
    t.extend_from_slice(&2u16.to_le_bytes());
    entry(&mut t, 0x0112, 3, 1, 6); // Orientation: rotate 90° clockwise
    entry(&mut t, 0x8825, 4, 1, 38); // GPS IFD
    t.extend_from_slice(&0u32.to_le_bytes());
    t.extend_from_slice(&1u16.to_le_bytes()); // GPS IFD at 38
    entry(&mut t, 0x0002, 5, 3, 56); // GPSLatitude, 3 rationals at 56
    t.extend_from_slice(&0u32.to_le_bytes());
    for v in LATITUDE {
        t.extend_from_slice(&v.to_le_bytes());
    }
    t
}

fn app1(body: &[u8]) -> Vec<u8> {
    let mut s = vec![0xFF, 0xE1];
    s.extend_from_slice(&u16::try_from(body.len() + 2).unwrap().to_be_bytes());
    s.extend_from_slice(body);
    s
}

fn located_photo() -> Vec<u8> {
    let img = image::RgbImage::from_fn(64, 32, |x, y| image::Rgb([(x * 4) as u8, (y * 8) as u8, 120]));
    let mut plain = std::io::Cursor::new(Vec::new());
    image::DynamicImage::ImageRgb8(img).write_to(&mut plain, image::ImageFormat::Jpeg).unwrap();
    let plain = plain.into_inner();
    [&plain[..2], &app1(&exif()), &app1(XMP), &plain[2..]].concat()
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[tokio::test]
async fn an_uploads_location_is_never_stored_or_served_and_its_orientation_stays() {
    let app = spawn_app().await;
    let admin = app.admin_token("root").await;
    app.post("/subscriptions", Some(&admin), json!({"plan": "enterprise"})).await;
    let photo = located_photo();
    let latitude: Vec<u8> = LATITUDE.iter().flat_map(|v| v.to_le_bytes()).collect();
    assert!(contains(&photo, &latitude) && contains(&photo, b"xmpmeta"));

    let made = app.upload(&admin, photo.clone(), "here.jpg", None).await;
    assert_eq!(made.status, 201, "{:?}", made.body);
    let id = made.body["id"].as_str().unwrap();
    let (status, _, original) = app.get_with(&format!("/images/{id}/original"), &admin, &[]).await;
    assert_eq!(status, 200);
    assert!(!contains(&original, &latitude), "the GPS latitude is gone");
    assert!(!contains(&original, b"xmpmeta"), "the XMP packet is gone");
    assert!(contains(&original, &[0x12, 0x01, 0x03, 0x00, 0x01, 0, 0, 0, 0x06, 0x00]), "orientation kept");
    assert!(original.len() < photo.len());
    // What the image says of itself describes the stored bytes.
    assert_eq!(made.body["size_bytes"], original.len());
    let sha: String = sha256_hex(&original);
    assert_eq!(made.body["sha256"], sha);
    let decoded = image::load_from_memory(&original).unwrap();
    assert_eq!((decoded.width(), decoded.height()), (64, 32));
    // Stored 64×32, shown a quarter turned: the image says what is shown.
    assert_eq!((made.body["width"].as_u64(), made.body["height"].as_u64()), (Some(32), Some(64)));

    // A share link serves the same scrubbed bytes.
    let link = app.post(&format!("/images/{id}/links"), Some(&admin), json!({"expires_in": 600})).await;
    let shared = reqwest::get(link.body["url"].as_str().unwrap()).await.unwrap().bytes().await.unwrap();
    assert_eq!(shared.to_vec(), original);
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    sha2::Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

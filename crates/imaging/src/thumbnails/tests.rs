use std::io::Cursor;

use image::{DynamicImage, GenericImageView as _, Rgb, RgbImage, Rgba, RgbaImage};

use super::*;

fn encode(img: &DynamicImage, format: image::ImageFormat) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, format).unwrap();
    out.into_inner()
}

fn rendered(bytes: Vec<u8>, format: ImageFormat, height: u32) -> (ImageFormat, DynamicImage) {
    let out = render_blocking(Box::new(Cursor::new(bytes)), format, height).unwrap();
    let kind = ImageFormat::sniff(&out).unwrap();
    (kind, image::load_from_memory(&out).unwrap())
}

fn rgb(w: u32, h: u32) -> DynamicImage {
    DynamicImage::ImageRgb8(RgbImage::from_fn(w, h, |x, y| Rgb([(x % 255) as u8, (y % 255) as u8, 0])))
}

#[test]
fn landscape_and_portrait_keep_their_aspect() {
    let (kind, t) = rendered(encode(&rgb(1600, 900), image::ImageFormat::Jpeg), ImageFormat::Jpeg, 200);
    assert_eq!((kind, t.dimensions()), (ImageFormat::Jpeg, (356, 200)));
    let (_, t) = rendered(encode(&rgb(600, 1200), image::ImageFormat::Png), ImageFormat::Png, 400);
    assert_eq!(t.dimensions(), (200, 400));
}

#[test]
fn tiny_images_are_never_upscaled() {
    let (_, t) = rendered(encode(&rgb(40, 30), image::ImageFormat::Png), ImageFormat::Png, 400);
    assert_eq!(t.dimensions(), (40, 30));
}

#[test]
fn opaque_sources_become_jpeg_and_alpha_stays_png() {
    let (kind, _) = rendered(encode(&rgb(300, 300), image::ImageFormat::Png), ImageFormat::Png, 200);
    assert_eq!(kind, ImageFormat::Jpeg);
    let alpha = DynamicImage::ImageRgba8(RgbaImage::from_pixel(300, 300, Rgba([10, 20, 30, 100])));
    let (kind, t) = rendered(encode(&alpha, image::ImageFormat::WebP), ImageFormat::Webp, 200);
    assert_eq!(kind, ImageFormat::Png);
    assert_eq!(t.to_rgba8().get_pixel(100, 100)[3], 100);
    // An alpha channel with nothing transparent in it is opaque.
    let opaque = DynamicImage::ImageRgba8(RgbaImage::from_fn(300, 200, |x, _| Rgba([(x % 255) as u8, 20, 30, 255])));
    let (kind, t) = rendered(encode(&opaque, image::ImageFormat::Png), ImageFormat::Png, 100);
    assert_eq!((kind, t.dimensions()), (ImageFormat::Jpeg, (150, 100)));
    let mut one_clear = opaque.to_rgba8();
    one_clear.put_pixel(150, 100, Rgba([0, 0, 0, 0]));
    let (kind, _) =
        rendered(encode(&DynamicImage::ImageRgba8(one_clear), image::ImageFormat::Png), ImageFormat::Png, 100);
    assert_eq!(kind, ImageFormat::Png);
}

#[test]
fn an_animated_gif_gives_its_first_frame() {
    use image::codecs::gif::GifEncoder;
    use image::{Delay, Frame};
    let mut bytes = Vec::new();
    {
        let mut enc = GifEncoder::new(&mut bytes);
        for color in [[255, 0, 0, 255], [0, 0, 255, 255]] {
            let frame =
                Frame::from_parts(RgbaImage::from_pixel(64, 32, Rgba(color)), 0, 0, Delay::from_numer_denom_ms(100, 1));
            enc.encode_frame(frame).unwrap();
        }
    }
    let (kind, t) = rendered(bytes, ImageFormat::Gif, 16);
    assert_eq!((kind, t.dimensions()), (ImageFormat::Jpeg, (32, 16)));
    let px = t.to_rgb8().get_pixel(16, 8).0;
    assert!(px[0] > 200 && px[2] < 60, "first frame is red: {px:?}");
}

/// A JPEG with an EXIF APP1 segment saying "rotate 90° clockwise to display" (6).
fn rotated_jpeg(w: u32, h: u32) -> Vec<u8> {
    let jpeg = encode(&rgb(w, h), image::ImageFormat::Jpeg);
    let mut tiff = b"II*\0\x08\0\0\0\x01\0".to_vec(); // little endian, IFD at 8, one entry
    tiff.extend_from_slice(&[0x12, 0x01, 3, 0, 1, 0, 0, 0, 6, 0, 0, 0]); // Orientation = 6
    tiff.extend_from_slice(&[0, 0, 0, 0]); // no next IFD
    let mut app1 = b"Exif\0\0".to_vec();
    app1.extend_from_slice(&tiff);
    let mut out = jpeg[..2].to_vec();
    out.extend_from_slice(&[0xFF, 0xE1]);
    out.extend_from_slice(&u16::try_from(app1.len() + 2).unwrap().to_be_bytes());
    out.extend_from_slice(&app1);
    out.extend_from_slice(&jpeg[2..]);
    out
}

#[test]
fn the_exif_orientation_is_applied() {
    // Stored 400×200 landscape, displayed as 200×400 portrait.
    let (_, t) = rendered(rotated_jpeg(400, 200), ImageFormat::Jpeg, 200);
    assert_eq!(t.dimensions(), (100, 200));
}

#[test]
fn large_jpegs_decode_at_reduced_size_with_the_same_result_shape() {
    // 4000×3000 → 200 px high: decoded at 1/8 (500×375), then resized to 267×200.
    let (kind, t) = rendered(encode(&rgb(4000, 3000), image::ImageFormat::Jpeg), ImageFormat::Jpeg, 200);
    assert_eq!((kind, t.dimensions()), (ImageFormat::Jpeg, (267, 200)));
    let gray = DynamicImage::ImageLuma8(image::GrayImage::from_pixel(800, 600, image::Luma([90])));
    let (_, t) = rendered(encode(&gray, image::ImageFormat::Jpeg), ImageFormat::Jpeg, 200);
    assert_eq!(t.dimensions(), (267, 200));
}

#[test]
fn a_corrupt_jpeg_is_invalid_not_a_crash() {
    // A valid header followed by garbage where the scan should be: libjpeg's fatal error
    // (it unwinds) comes back as `Invalid`.
    let jpeg = encode(&rgb(64, 64), image::ImageFormat::Jpeg);
    let sos = jpeg.windows(2).position(|w| w == [0xFF, 0xDA]).unwrap();
    let mut broken = jpeg[..sos].to_vec();
    broken.extend_from_slice(&[0xFF, 0xDA, 0x00, 0x03, 0x09]); // SOS naming 9 components
    let err = render_blocking(Box::new(Cursor::new(broken)), ImageFormat::Jpeg, 32).unwrap_err();
    assert!(matches!(err, InspectError::Invalid(_)), "{err:?}");
    let header_only = jpeg[..20].to_vec();
    let err = render_blocking(Box::new(Cursor::new(header_only)), ImageFormat::Jpeg, 32).unwrap_err();
    assert!(matches!(err, InspectError::Invalid(_)), "{err:?}");
}

#[test]
fn a_render_holds_its_bytes_of_the_budget_until_the_thumbnail_is_made_and_gives_them_back() {
    let budget = DecodeBudget::new(10 << 20);
    for (format, ours) in [(image::ImageFormat::Jpeg, ImageFormat::Jpeg), (image::ImageFormat::Png, ImageFormat::Png)] {
        let file = encode(&rgb(800, 600), format);
        let (_, _, lease) = decode(BufReader::new(Box::new(Cursor::new(file.clone()))), ours, 200, &budget).unwrap();
        let held = (10 << 20) - budget.free();
        // PNG: 800×600 RGB decoded and a full-size RGBA copy; JPEG: decoded at 3/8 (300×225
        // covers 267×200), twice.
        let expected = if ours == ImageFormat::Png { 800 * 600 * (3 + 4) } else { 300 * 225 * 3 * 2 };
        assert_eq!(held, expected, "{ours:?}");
        drop(lease);
        assert_eq!(budget.free(), 10 << 20, "{ours:?}: given back");
        // A render bigger than the whole budget runs alone rather than never.
        let tiny = DecodeBudget::new(1);
        assert!(render_within(Box::new(Cursor::new(file)), ours, 200, &tiny).is_ok());
        assert_eq!(tiny.free(), 1);
    }
}

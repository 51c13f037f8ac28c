//! Writes a test JPEG for benchmarks: `make_fixture OUT WIDTH HEIGHT [TOTAL_BYTES]`.
//!
//! The pixels are noise (so they do not compress away); when `TOTAL_BYTES` is larger than
//! the encoded image, APP15 segments pad the file to that size without adding pixels, so
//! that upload benchmarks can grow the file while the decoding work stays the same.

use std::io::Write as _;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let [_, out, width, height, rest @ ..] = args.as_slice() else {
        return Err("usage: make_fixture OUT WIDTH HEIGHT [TOTAL_BYTES]".into());
    };
    let (width, height): (u32, u32) = (width.parse()?, height.parse()?);
    let total: usize = rest.first().map(|t| t.parse()).transpose()?.unwrap_or(0);
    let mut state = 0x2545_F491_4F6C_DD1Du64;
    let img = image::RgbImage::from_fn(width, height, |_, _| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let [a, b, c, ..] = state.to_le_bytes();
        image::Rgb([a, b, c])
    });
    let mut jpeg = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 90).encode_image(&img)?;
    let mut file = std::fs::File::create(out)?;
    // SOI, then padding segments, then the rest of the image.
    file.write_all(&jpeg[..2])?;
    let mut missing = total.saturating_sub(jpeg.len());
    while missing > 4 {
        let len = (missing - 2).min(65_535);
        file.write_all(&[0xFF, 0xEF])?;
        file.write_all(&u16::try_from(len)?.to_be_bytes())?;
        file.write_all(&vec![0u8; len - 2])?;
        missing -= len + 2;
    }
    file.write_all(&jpeg[2..])?;
    Ok(())
}

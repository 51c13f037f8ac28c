//! Decompression bombs rendered at once, for their peak memory: `bomb_bench KIND N
//! CONCURRENCY BUDGET_BYTES` makes one 7000×7000 file of KIND (`webp`: lossless WebP, `gif`)
//! of a few bytes per hundred thousand pixels, then renders N 200-px thumbnails of it at
//! once through a `Renderer` of CONCURRENCY renders sharing BUDGET_BYTES of decoded pixels
//! (0: no bound), and prints the file's size and the milliseconds they took. Used by
//! `scripts/bench-bombs.sh`, which runs it in its own process to measure peak RSS.

#![allow(clippy::print_stdout)] // A benchmark tool: printing the figure is its job.

use std::io::Cursor;
use std::time::Instant;

use gallery_domain::ImageFormat;
use gallery_domain::ports::ThumbnailRenderer as _;
use gallery_imaging::{DecodeBudget, Renderer};
use image::{ImageEncoder as _, RgbaImage};

const SIDE: u32 = 7000;

fn bomb(kind: &str) -> Result<(Vec<u8>, ImageFormat), Box<dyn std::error::Error>> {
    let img = RgbaImage::from_pixel(SIDE, SIDE, image::Rgba([200, 30, 30, 255]));
    let mut out = Cursor::new(Vec::new());
    let format = match kind {
        "webp" => {
            image::codecs::webp::WebPEncoder::new_lossless(&mut out).write_image(
                img.as_raw(),
                SIDE,
                SIDE,
                image::ExtendedColorType::Rgba8,
            )?;
            ImageFormat::Webp
        }
        "gif" => {
            image::codecs::gif::GifEncoder::new(&mut out).encode(
                img.as_raw(),
                SIDE,
                SIDE,
                image::ExtendedColorType::Rgba8,
            )?;
            ImageFormat::Gif
        }
        _ => return Err("KIND is webp or gif".into()),
    };
    Ok((out.into_inner(), format))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let [_, kind, n, concurrency, budget] = args.as_slice() else {
        return Err("usage: bomb_bench webp|gif N CONCURRENCY BUDGET_BYTES".into());
    };
    let (n, concurrency, budget): (usize, usize, u64) = (n.parse()?, concurrency.parse()?, budget.parse()?);
    let (file, format) = bomb(kind)?;
    let budget = if budget == 0 { DecodeBudget::unbounded() } else { DecodeBudget::new(budget) };
    let renderer = Renderer::new(concurrency).with_budget(budget);
    let start = Instant::now();
    let renders = (0..n).map(|_| {
        let (renderer, file) = (renderer.clone(), file.clone());
        tokio::spawn(async move { renderer.render(Box::new(Cursor::new(file)), format, 200).await })
    });
    for render in futures_util::future::join_all(renders).await {
        render?.map_err(|e| e.to_string())?;
    }
    println!("{} {:.0}", file.len(), start.elapsed().as_secs_f64() * 1000.0);
    Ok(())
}

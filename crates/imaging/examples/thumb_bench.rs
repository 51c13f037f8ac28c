//! Renders one thumbnail `N` times and prints the median milliseconds per render:
//! `thumb_bench FILE FORMAT HEIGHT N` (FORMAT: jpeg, png, gif, webp, heic, avif). Used by `scripts/bench-thumbnails.sh`, which runs
//! it in its own process to measure peak memory.

#![allow(clippy::print_stdout)] // A benchmark tool: printing the figure is its job.

use std::time::Instant;

use gallery_domain::ImageFormat;
use gallery_imaging::render_blocking;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let [_, file, format, height, n] = args.as_slice() else {
        return Err("usage: thumb_bench FILE FORMAT HEIGHT N".into());
    };
    let format = ImageFormat::from_stored(format).ok_or("FORMAT: jpeg, png, gif, webp, heic or avif")?;
    let (height, n): (u32, usize) = (height.parse()?, n.parse()?);
    let mut times = Vec::with_capacity(n);
    for _ in 0..n {
        let source = Box::new(std::io::BufReader::new(std::fs::File::open(file)?));
        let start = Instant::now();
        let out = render_blocking(source, format, height).map_err(|e| e.to_string())?;
        times.push(start.elapsed().as_secs_f64() * 1000.0);
        std::hint::black_box(out);
    }
    times.sort_by(f64::total_cmp);
    println!("{:.1}", times[times.len() / 2]);
    Ok(())
}

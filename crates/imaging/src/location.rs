//! Takes location out of an upload as it streams, without touching its pixels: the GPS
//! sub-IFD of EXIF is zeroed in place (the rest of EXIF, orientation included, stays) and
//! every XMP packet goes.
//!
//! Each container has its module (`jpeg`, `png`, `webp`, `gif`, `heif`).
//!
//! Only metadata segments are held in memory, each at most [`HOLD_MAX`] bytes; a bigger
//! EXIF or XMP block is dropped whole. An EXIF block that does not parse is dropped whole
//! too: what cannot be read cannot be shown to hold no location.
//!
//! No crate fit: those that strip metadata (`img-parts`, `little_exif`, `metastrip`) need
//! the whole file in memory, and either drop all of EXIF or rewrite it from what they
//! understand.

mod exif;
mod gif;
mod heif;
mod jpeg;
mod machine;
mod png;
mod webp;

use gallery_domain::ImageFormat;
use gallery_domain::ports::{LocationFilter, LocationScrub};

use machine::Machine;

/// The largest metadata block held to be scrubbed; a bigger one is dropped.
pub const HOLD_MAX: usize = 1 << 20;

/// The [`LocationFilter`] for every format we take: each container's own reading
/// (`jpeg`, `png`, `webp`, `gif`, `heif`) driven by one streaming `Machine`, EXIF scrubbed by
/// `exif` wherever it sits.
#[derive(Debug, Clone, Copy, Default)]
pub struct LocationStripper;

impl LocationFilter for LocationStripper {
    fn begin(&self, format: ImageFormat) -> Box<dyn LocationScrub> {
        match format {
            ImageFormat::Jpeg => Box::new(Machine::new(jpeg::Jpeg::Start, 2)),
            ImageFormat::Png => Box::new(Machine::new(png::Png::Signature, 8)),
            ImageFormat::Webp => Box::new(Machine::new(webp::Webp::Header, 12)),
            ImageFormat::Gif => Box::new(Machine::new(gif::Gif::Header, gif::HEADER)),
            ImageFormat::Heic | ImageFormat::Avif => Box::new(Machine::new(heif::Heif::new(), heif::HEAD)),
        }
    }
}

#[cfg(test)]
mod tests;

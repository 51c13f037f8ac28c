//! Takes location out of an upload as it streams, without touching its pixels: the GPS
//! sub-IFD of EXIF is zeroed in place (the rest of EXIF, orientation included, stays) and
//! every XMP packet goes.
//!
//! - JPEG: `APP1` `Exif` segments are scrubbed; `APP1` XMP segments (standard and
//!   extended) are dropped. Everything from the first scan on passes untouched.
//! - PNG: `eXIf` chunks are scrubbed (their CRC computed again); `iTXt`/`tEXt`/`zTXt`
//!   chunks holding XMP or a raw EXIF/XMP profile are dropped.
//! - WebP: `EXIF` chunks are scrubbed in place; `XMP ` chunks become `JUNK` chunks of zeros
//!   of the same size (so the RIFF size written at the start stays true while streaming),
//!   and the extended header's XMP flag is cleared.
//! - GIF carries no EXIF; it passes untouched.
//!
//! Only metadata segments are held in memory, each at most [`HOLD_MAX`] bytes; a bigger
//! EXIF or XMP block is dropped whole. An EXIF block that does not parse is dropped whole
//! too: what cannot be read cannot be shown to hold no location.
//!
//! No crate fit: those that strip metadata (`img-parts`, `little_exif`, `metastrip`) need
//! the whole file in memory, and either drop all of EXIF or rewrite it from what they
//! understand.

use gallery_domain::ImageFormat;
use gallery_domain::ports::{LocationFilter, LocationScrub};

/// The largest metadata block held to be scrubbed; a bigger one is dropped.
pub const HOLD_MAX: usize = 1 << 20;

/// The [`LocationFilter`] for JPEG, PNG, WebP and GIF.
#[derive(Debug, Clone, Copy, Default)]
pub struct LocationStripper;

impl LocationFilter for LocationStripper {
    fn begin(&self, format: ImageFormat) -> Box<dyn LocationScrub> {
        match format {
            ImageFormat::Jpeg => Box::new(Machine::new(Jpeg::Start, 2)),
            ImageFormat::Png => Box::new(Machine::new(Png::Signature, 8)),
            ImageFormat::Webp => Box::new(Machine::new(Webp::Header, 12)),
            ImageFormat::Gif => Box::new(Machine::new(Passthrough, 0)),
        }
    }
}

/// What the stream does next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    /// Hold this many bytes, then let the format decide.
    Hold(usize),
    /// Copy this many bytes through.
    Pass(u64),
    /// Drop this many bytes.
    Skip(u64),
    /// Write this many zeros in place of the next bytes.
    Zero(u64),
    /// Copy everything that is left.
    Rest,
}

/// A container format, as a sequence of decisions on held bytes.
trait Format: Send {
    /// `held` holds exactly the bytes asked for; write what is kept to `out`.
    fn decide(&mut self, held: &mut Vec<u8>, out: &mut Vec<u8>) -> Step;
    /// The step after a `Pass`, `Skip` or `Zero` ends.
    fn resume(&mut self) -> Step;
}

struct Machine<F> {
    format: F,
    step: Step,
    held: Vec<u8>,
}

impl<F: Format> Machine<F> {
    fn new(format: F, first: usize) -> Self {
        Self { format, step: if first == 0 { Step::Rest } else { Step::Hold(first) }, held: Vec::new() }
    }
}

impl<F: Format> LocationScrub for Machine<F> {
    fn feed(&mut self, mut input: &[u8], out: &mut Vec<u8>) {
        while !input.is_empty() {
            let take = |n: u64, input: &[u8]| usize::try_from(n).map_or(input.len(), |n| n.min(input.len()));
            match self.step {
                Step::Hold(n) => {
                    let k = (n - self.held.len()).min(input.len());
                    self.held.extend_from_slice(&input[..k]);
                    input = &input[k..];
                    while let Step::Hold(n) = self.step {
                        if self.held.len() < n {
                            break;
                        }
                        let mut held = std::mem::take(&mut self.held);
                        self.step = self.format.decide(&mut held, out);
                        // A decision may hand bytes back to be held again.
                        self.held = held;
                    }
                }
                Step::Pass(n) | Step::Skip(n) | Step::Zero(n) => {
                    let k = take(n, input);
                    match self.step {
                        Step::Pass(_) => out.extend_from_slice(&input[..k]),
                        Step::Zero(_) => out.resize(out.len() + k, 0),
                        _ => {}
                    }
                    input = &input[k..];
                    let left = n - k as u64;
                    self.step = match self.step {
                        _ if left == 0 => self.format.resume(),
                        Step::Pass(_) => Step::Pass(left),
                        Step::Skip(_) => Step::Skip(left),
                        _ => Step::Zero(left),
                    };
                }
                Step::Rest => {
                    out.extend_from_slice(input);
                    input = &[];
                }
            }
        }
    }

    fn finish(&mut self, out: &mut Vec<u8>) {
        // A file cut short inside a held block: the block was never judged, so it is
        // dropped. (Such a file does not decode and is refused anyway.)
        let _ = out;
        self.held.clear();
    }
}

/// Writes the held bytes through unchanged.
fn keep(held: &mut Vec<u8>, out: &mut Vec<u8>) {
    out.extend_from_slice(held);
    held.clear();
}

/// The eight held bytes of a PNG or RIFF chunk's head.
fn chunk_head(held: &mut Vec<u8>) -> [u8; 8] {
    let mut head = [0u8; 8];
    head.copy_from_slice(held);
    held.clear();
    head
}

struct Passthrough;

impl Format for Passthrough {
    fn decide(&mut self, _: &mut Vec<u8>, _: &mut Vec<u8>) -> Step {
        Step::Rest
    }

    fn resume(&mut self) -> Step {
        Step::Rest
    }
}

// --- JPEG -------------------------------------------------------------------------------

enum Jpeg {
    Start,
    Marker,
    Length(u8),
    Segment(u8, [u8; 2]),
}

const EXIF_ID: &[u8] = b"Exif\0\0";
const XMP_IDS: [&[u8]; 2] = [b"http://ns.adobe.com/xap/1.0/\0", b"http://ns.adobe.com/xmp/extension/\0"];

impl Format for Jpeg {
    fn decide(&mut self, held: &mut Vec<u8>, out: &mut Vec<u8>) -> Step {
        match *self {
            Self::Start => {
                keep(held, out);
                *self = Self::Marker;
                Step::Hold(2)
            }
            Self::Marker => {
                let (first, marker) = (held[0], held[1]);
                held.clear();
                if first != 0xFF {
                    // Not a marker where one must be: keep the bytes as they are.
                    out.extend_from_slice(&[first, marker]);
                    return Step::Rest;
                }
                if marker == 0xFF {
                    // Fill byte: the marker starts one byte later.
                    out.push(0xFF);
                    held.push(0xFF);
                    return Step::Hold(2);
                }
                match marker {
                    // End of image: whatever follows is kept as it is.
                    0xD9 => {
                        out.extend_from_slice(&[0xFF, marker]);
                        Step::Rest
                    }
                    // Markers without a length.
                    0x01 | 0xD0..=0xD8 => {
                        out.extend_from_slice(&[0xFF, marker]);
                        Step::Hold(2)
                    }
                    _ => {
                        *self = Self::Length(marker);
                        Step::Hold(2)
                    }
                }
            }
            Self::Length(marker) => {
                let len = [held[0], held[1]];
                held.clear();
                let body = usize::from(u16::from_be_bytes(len)).saturating_sub(2);
                if marker == 0xE1 {
                    *self = Self::Segment(marker, len);
                    return if body == 0 { self.decide(held, out) } else { Step::Hold(body) };
                }
                out.extend_from_slice(&[0xFF, marker, len[0], len[1]]);
                *self = Self::Marker;
                if marker == 0xDA {
                    return Step::Rest; // the scan: entropy-coded data and the rest of the file
                }
                Step::Pass(body as u64)
            }
            Self::Segment(marker, len) => {
                let body = std::mem::take(held);
                *self = Self::Marker;
                if XMP_IDS.iter().any(|id| body.starts_with(id)) {
                    return Step::Hold(2); // dropped
                }
                let mut body = body;
                if body.starts_with(EXIF_ID) && !scrub_exif(&mut body[EXIF_ID.len()..]) {
                    return Step::Hold(2); // EXIF that does not parse: dropped
                }
                out.extend_from_slice(&[0xFF, marker, len[0], len[1]]);
                out.extend_from_slice(&body);
                Step::Hold(2)
            }
        }
    }

    fn resume(&mut self) -> Step {
        *self = Self::Marker;
        Step::Hold(2)
    }
}

// --- PNG --------------------------------------------------------------------------------

enum Png {
    Signature,
    ChunkHead,
    Chunk([u8; 8]),
}

/// Text chunk keywords that carry XMP or a raw EXIF/XMP profile (ImageMagick's).
const PNG_METADATA_KEYWORDS: [&[u8]; 4] =
    [b"XML:com.adobe.xmp", b"Raw profile type xmp", b"Raw profile type exif", b"Raw profile type APP1"];

impl Format for Png {
    fn decide(&mut self, held: &mut Vec<u8>, out: &mut Vec<u8>) -> Step {
        match *self {
            Self::Signature => {
                keep(held, out);
                *self = Self::ChunkHead;
                Step::Hold(8)
            }
            Self::ChunkHead => {
                let head = chunk_head(held);
                let len = u64::from(u32::from_be_bytes([head[0], head[1], head[2], head[3]]));
                let kind = &head[4..8];
                let with_crc = len + 4;
                let metadata = matches!(kind, b"eXIf" | b"iTXt" | b"tEXt" | b"zTXt");
                if metadata {
                    return match usize::try_from(with_crc) {
                        Ok(n) if n <= HOLD_MAX => {
                            *self = Self::Chunk(head);
                            Step::Hold(n)
                        }
                        _ => Step::Skip(with_crc), // too big to judge: dropped
                    };
                }
                out.extend_from_slice(&head);
                if kind == b"IEND" {
                    return Step::Rest;
                }
                Step::Pass(with_crc)
            }
            Self::Chunk(head) => {
                let mut chunk = std::mem::take(held);
                *self = Self::ChunkHead;
                let data_len = chunk.len() - 4;
                let kind = &head[4..8];
                if kind == b"eXIf" {
                    let data = &mut chunk[..data_len];
                    let tiff = if data.starts_with(EXIF_ID) { &mut data[EXIF_ID.len()..] } else { data };
                    if !scrub_exif(tiff) {
                        return Step::Hold(8);
                    }
                    let crc = crc32(&[kind, &chunk[..data_len]]);
                    chunk[data_len..].copy_from_slice(&crc.to_be_bytes());
                } else {
                    let keyword = chunk[..data_len].split(|&b| b == 0).next().unwrap_or_default();
                    if PNG_METADATA_KEYWORDS.contains(&keyword) {
                        return Step::Hold(8);
                    }
                }
                out.extend_from_slice(&head);
                out.extend_from_slice(&chunk);
                Step::Hold(8)
            }
        }
    }

    fn resume(&mut self) -> Step {
        *self = Self::ChunkHead;
        Step::Hold(8)
    }
}

/// CRC-32 (ISO-HDLC, as PNG uses) of the parts, in order.
fn crc32(parts: &[&[u8]]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for byte in parts.iter().flat_map(|p| p.iter()) {
        crc ^= u32::from(*byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

// --- WebP -------------------------------------------------------------------------------

enum Webp {
    Header,
    ChunkHead,
    Chunk([u8; 8]),
}

/// The extended header's flag that says XMP follows.
const VP8X_XMP: u8 = 0x04;

impl Format for Webp {
    fn decide(&mut self, held: &mut Vec<u8>, out: &mut Vec<u8>) -> Step {
        match *self {
            Self::Header => {
                keep(held, out);
                *self = Self::ChunkHead;
                Step::Hold(8)
            }
            Self::ChunkHead => {
                let head = chunk_head(held);
                let size = u64::from(u32::from_le_bytes([head[4], head[5], head[6], head[7]]));
                let padded = size + (size & 1);
                match &head[..4] {
                    b"XMP " => {
                        out.extend_from_slice(b"JUNK");
                        out.extend_from_slice(&head[4..]);
                        Step::Zero(padded)
                    }
                    b"VP8X" | b"EXIF" => match usize::try_from(padded) {
                        Ok(n) if n <= HOLD_MAX => {
                            *self = Self::Chunk(head);
                            if n == 0 { self.decide(held, out) } else { Step::Hold(n) }
                        }
                        _ => {
                            out.extend_from_slice(b"JUNK");
                            out.extend_from_slice(&head[4..]);
                            Step::Zero(padded)
                        }
                    },
                    _ => {
                        out.extend_from_slice(&head);
                        Step::Pass(padded)
                    }
                }
            }
            Self::Chunk(head) => {
                let mut data = std::mem::take(held);
                *self = Self::ChunkHead;
                let scrubbed = if &head[..4] == b"VP8X" {
                    if let Some(flags) = data.first_mut() {
                        *flags &= !VP8X_XMP;
                    }
                    true
                } else {
                    let tiff = if data.starts_with(EXIF_ID) { &mut data[EXIF_ID.len()..] } else { &mut data[..] };
                    scrub_exif(tiff)
                };
                if scrubbed {
                    out.extend_from_slice(&head);
                    out.extend_from_slice(&data);
                } else {
                    out.extend_from_slice(b"JUNK");
                    out.extend_from_slice(&head[4..]);
                    out.resize(out.len() + data.len(), 0);
                }
                Step::Hold(8)
            }
        }
    }

    fn resume(&mut self) -> Step {
        *self = Self::ChunkHead;
        Step::Hold(8)
    }
}

// --- EXIF (TIFF) ------------------------------------------------------------------------

/// The IFD0 tag that points at the GPS sub-IFD.
const GPS_IFD_TAG: u16 = 0x8825;
/// The IFD0 tag that holds an XMP packet (TIFF's `XMLPacket`).
const XMP_TAG: u16 = 0x02BC;

/// Bytes per value of each TIFF field type (unknown types count as 1).
fn type_size(kind: u16) -> u64 {
    match kind {
        3 | 8 => 2,
        4 | 9 | 11 | 13 => 4,
        5 | 10 | 12 => 8,
        _ => 1,
    }
}

/// A TIFF structure of either byte order, read with bounds checks.
struct Tiff<'a> {
    bytes: &'a mut [u8],
    big: bool,
}

impl Tiff<'_> {
    fn u16_at(&self, at: usize) -> Option<u16> {
        let b = [*self.bytes.get(at)?, *self.bytes.get(at.checked_add(1)?)?];
        Some(if self.big { u16::from_be_bytes(b) } else { u16::from_le_bytes(b) })
    }

    fn u32_at(&self, at: usize) -> Option<usize> {
        let b = self.bytes.get(at..at.checked_add(4)?)?;
        let b = [b[0], b[1], b[2], b[3]];
        usize::try_from(if self.big { u32::from_be_bytes(b) } else { u32::from_le_bytes(b) }).ok()
    }

    fn put_u16(&mut self, at: usize, v: u16) {
        let b = if self.big { v.to_be_bytes() } else { v.to_le_bytes() };
        self.bytes[at..at + 2].copy_from_slice(&b);
    }

    /// Zeroes the value of the IFD entry at `entry` when it lies outside the entry.
    fn zero_value(&mut self, entry: usize) -> Option<()> {
        let (kind, n) = (self.u16_at(entry + 2)?, self.u32_at(entry + 4)?);
        let size = usize::try_from(type_size(kind).checked_mul(n as u64)?).ok()?;
        if size > 4 {
            let start = self.u32_at(entry + 8)?;
            self.bytes.get_mut(start..start.checked_add(size)?)?.fill(0);
        }
        Some(())
    }

    /// Zeroes the IFD at `at` (count, entries, next offset) and its out-of-line values.
    fn zero_ifd(&mut self, at: usize) -> Option<()> {
        let count = usize::from(self.u16_at(at)?);
        let end = at.checked_add(2 + count * 12 + 4)?;
        if end > self.bytes.len() {
            return None;
        }
        for i in 0..count {
            self.zero_value(at + 2 + i * 12)?;
        }
        self.bytes[at..end].fill(0);
        Some(())
    }
}

/// Takes location out of a TIFF structure (EXIF without its `Exif\0\0` prefix): the GPS
/// sub-IFD and an XMP packet are zeroed with their values, and IFD0's entries for them
/// removed; sizes and every other offset stay as they were. `false` when the structure
/// does not parse.
fn scrub_exif(bytes: &mut [u8]) -> bool {
    let big = match bytes.get(..4) {
        Some(b"MM\0*") => true,
        Some(b"II*\0") => false,
        _ => return false,
    };
    scrub_ifd0(&mut Tiff { bytes, big }).is_some()
}

fn scrub_ifd0(tiff: &mut Tiff<'_>) -> Option<()> {
    let ifd0 = tiff.u32_at(4)?;
    let mut count = usize::from(tiff.u16_at(ifd0)?);
    let entries = ifd0.checked_add(2)?;
    let end = entries.checked_add(count * 12 + 4)?; // the entries and the next-IFD offset
    if end > tiff.bytes.len() {
        return None;
    }
    let mut slot = 0;
    while slot < count {
        let at = entries + slot * 12;
        match tiff.u16_at(at)? {
            GPS_IFD_TAG => {
                let gps = tiff.u32_at(at + 8)?;
                tiff.zero_ifd(gps)?;
            }
            XMP_TAG => tiff.zero_value(at)?,
            _ => {
                slot += 1;
                continue;
            }
        }
        // Later entries and the next-IFD offset move up one slot; the freed one is zeroed.
        let tail = entries + count * 12 + 4;
        tiff.bytes.copy_within(at + 12..tail, at);
        tiff.bytes[tail - 12..tail].fill(0);
        count -= 1;
        tiff.put_u16(ifd0, u16::try_from(count).ok()?);
    }
    Some(())
}

#[cfg(test)]
mod tests;

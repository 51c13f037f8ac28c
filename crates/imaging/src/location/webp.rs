//! WebP: `EXIF` chunks are scrubbed in place; `XMP ` chunks become `JUNK` chunks of zeros of
//! the same size (so the RIFF size written at the start stays true while streaming), and the
//! extended header's XMP flag is cleared.

use super::HOLD_MAX;
use super::exif::{EXIF_ID, scrub_exif};
use super::machine::{Format, Step, chunk_head, keep};

pub(super) enum Webp {
    Header,
    ChunkHead,
    Chunk([u8; 8]),
}

/// The extended header's flag that says XMP follows.
pub(super) const VP8X_XMP: u8 = 0x04;

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

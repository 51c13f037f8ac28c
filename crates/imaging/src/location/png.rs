//! PNG: `eXIf` chunks are scrubbed (their CRC computed again); `iTXt`/`tEXt`/`zTXt` chunks
//! holding XMP or a raw EXIF, XMP, IPTC or Photoshop profile are dropped.

use super::HOLD_MAX;
use super::exif::{EXIF_ID, scrub_exif};
use super::machine::{Format, Step, chunk_head, keep};

pub(super) enum Png {
    Signature,
    ChunkHead,
    Chunk([u8; 8]),
}

/// Text chunk keywords that carry XMP, or a raw EXIF, XMP, IPTC or Photoshop profile
/// (ImageMagick's and exiftool's).
const PNG_METADATA_KEYWORDS: [&[u8]; 6] = [
    b"XML:com.adobe.xmp",
    b"Raw profile type xmp",
    b"Raw profile type exif",
    b"Raw profile type APP1",
    b"Raw profile type iptc",
    b"Raw profile type 8bim",
];

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
pub(super) fn crc32(parts: &[&[u8]]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for byte in parts.iter().flat_map(|p| p.iter()) {
        crc ^= u32::from(*byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

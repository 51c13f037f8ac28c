//! JPEG: `APP1` `Exif` segments are scrubbed; `APP1` XMP segments (standard and extended)
//! and `APP13` segments (Photoshop resources, where IPTC-IIM records live: city, sublocation,
//! country) are dropped. Everything from the first scan on passes untouched.

use super::exif::{EXIF_ID, scrub_exif};
use super::machine::{Format, Step, keep};

pub(super) enum Jpeg {
    Start,
    Marker,
    Length(u8),
    Segment(u8, [u8; 2]),
}

/// Photoshop's image resources, IPTC-IIM among them.
const APP13: u8 = 0xED;

pub(super) const XMP_IDS: [&[u8]; 2] = [b"http://ns.adobe.com/xap/1.0/\0", b"http://ns.adobe.com/xmp/extension/\0"];

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
                if marker == APP13 {
                    // Dropped whole: its marker and length were never written.
                    *self = Self::Marker;
                    return Step::Skip(body as u64);
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

//! GIF: an XMP application extension (`XMP DataXMP`) is dropped whole, its sub-blocks and
//! magic trailer with it. Every other block — colour tables, images, other extensions —
//! passes untouched. GIF carries no EXIF or IPTC.

use super::machine::{Format, Step, keep};

/// The application identifier and authentication code of an XMP extension.
const XMP_APPLICATION: &[u8] = b"XMP DataXMP";
/// The GIF signature and the logical screen descriptor.
pub(super) const HEADER: usize = 13;

pub(super) enum Gif {
    /// The signature and screen descriptor are held.
    Header,
    /// Between blocks: the introducer is held.
    Block,
    /// An extension's introducer and label are held.
    Label,
    /// An application extension's introducer, label and first sub-block (its size byte and
    /// identifier) are held.
    Application,
    /// An image descriptor (after its introducer) is held.
    Image,
    /// The LZW minimum code size is held.
    CodeSize,
    /// A sub-block's size byte is held; `keep` says whether its data is copied or dropped.
    SubBlock { keep: bool },
}

/// A colour table's size, when the packed byte says one follows.
fn table(packed: u8) -> u64 {
    if packed & 0x80 == 0 { 0 } else { 3 << ((packed & 0x07) + 1) }
}

impl Format for Gif {
    fn decide(&mut self, held: &mut Vec<u8>, out: &mut Vec<u8>) -> Step {
        match *self {
            Self::Header => {
                let colours = table(held[10]);
                keep(held, out);
                *self = Self::Block;
                if colours == 0 { Step::Hold(1) } else { Step::Pass(colours) }
            }
            Self::Block => match held[0] {
                // Held on with its label: nothing of an extension goes out until it is
                // known not to be XMP.
                0x21 => {
                    *self = Self::Label;
                    Step::Hold(2)
                }
                0x2C => {
                    keep(held, out);
                    *self = Self::Image;
                    Step::Hold(9)
                }
                // The trailer, or what is no block: the rest goes as it is.
                _ => {
                    keep(held, out);
                    Step::Rest
                }
            },
            Self::Label => {
                if held[1] == 0xFF {
                    *self = Self::Application;
                    return Step::Hold(3 + XMP_APPLICATION.len());
                }
                keep(held, out);
                *self = Self::SubBlock { keep: true };
                Step::Hold(1)
            }
            Self::Application => {
                // Introducer, label, the first sub-block's size, then its identifier.
                if held[2] == 11 && held[3..] == *XMP_APPLICATION {
                    held.clear();
                    *self = Self::SubBlock { keep: false };
                    return Step::Hold(1);
                }
                // Another application's first sub-block: as a sub-block of its size.
                let size = u64::from(held[2]);
                keep(held, out);
                *self = Self::SubBlock { keep: true };
                match size.checked_sub(XMP_APPLICATION.len() as u64) {
                    Some(0) => Step::Hold(1),
                    Some(rest) => Step::Pass(rest),
                    // A first sub-block shorter than an identifier: what we held ran past it
                    // into what follows; pass the rest as it is rather than misread it.
                    None => Step::Rest,
                }
            }
            Self::Image => {
                let colours = table(held[8]);
                keep(held, out);
                *self = Self::CodeSize;
                if colours == 0 { Step::Hold(1) } else { Step::Pass(colours) }
            }
            Self::CodeSize => {
                keep(held, out);
                *self = Self::SubBlock { keep: true };
                Step::Hold(1)
            }
            Self::SubBlock { keep: kept } => {
                let size = u64::from(held[0]);
                if kept {
                    keep(held, out);
                } else {
                    held.clear();
                }
                if size == 0 {
                    *self = Self::Block;
                    return Step::Hold(1);
                }
                if kept { Step::Pass(size) } else { Step::Skip(size) }
            }
        }
    }

    fn resume(&mut self) -> Step {
        match *self {
            // After a colour table: the next block, or an image's code size.
            Self::Block | Self::CodeSize => Step::Hold(1),
            // After a sub-block's data: the next size byte.
            Self::SubBlock { .. } => Step::Hold(1),
            _ => Step::Rest,
        }
    }
}

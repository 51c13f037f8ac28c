//! HEIC and AVIF, read by libheif (Debian's 1.15, with libde265 for HEVC and dav1d for AV1;
//! why this library and this binding: docs/architecture.md).
//!
//! libheif reads the boxes first and decodes nothing until asked, so the size (the primary
//! image's, with its rotation `irot` and mirror `imir` applied, as every viewer shows it) is
//! judged against the pixel limit before any pixel is decoded. Decoding applies the same
//! transforms; an EXIF orientation inside a HEIF file is not applied on top of them (the
//! file's own transforms are the ones that count, as in browsers).

use std::io::{BufReader, Read as _, Seek as _, SeekFrom};
use std::sync::LazyLock;

use gallery_domain::ports::{InspectError, ReadSeek};
use image::{DynamicImage, RgbImage, RgbaImage};
use libheif_rs::{ColorSpace, DecodingOptions, HeifContext, ImageHandle, ItemId, LibHeif, RgbChroma};

use crate::{bmff, invalid};

/// The library, initialised once for the process (its codecs are built in).
static LIBHEIF: LazyLock<LibHeif> = LazyLock::new(LibHeif::new);

/// A whole file in memory: libheif reads boxes from anywhere in it. (The binding's streaming
/// reader hands libheif's zero-length reads to `slice::from_raw_parts_mut` with a null
/// pointer, which is undefined behaviour; HEIF files are a few megabytes, under the plan's
/// upload limit.)
pub(crate) struct Heif {
    file: Vec<u8>,
}

impl Heif {
    /// Reads `source` whole, from its start.
    pub(crate) fn read(mut source: BufReader<Box<dyn ReadSeek>>) -> Result<Self, InspectError> {
        LazyLock::force(&LIBHEIF);
        source.seek(SeekFrom::Start(0)).map_err(invalid)?;
        let mut file = Vec::new();
        source.read_to_end(&mut file).map_err(invalid)?;
        Ok(Self { file })
    }

    /// The boxes read, no pixel decoded.
    pub(crate) fn open(&self) -> Result<Opened<'_>, InspectError> {
        let context = HeifContext::read_from_bytes(&self.file).map_err(invalid)?;
        let primary = context.primary_image_handle().map_err(invalid)?;
        Ok(Opened { _context: context, primary, file: &self.file })
    }
}

/// A file's boxes, read, and its primary image.
pub(crate) struct Opened<'a> {
    _context: HeifContext<'a>,
    primary: ImageHandle,
    file: &'a [u8],
}

impl Opened<'_> {
    /// Width and height as shown (transforms applied), and the primary image's EXIF as a
    /// TIFF structure.
    pub(crate) fn header(&self) -> (u32, u32, Option<Vec<u8>>) {
        (self.primary.width(), self.primary.height(), exif(&self.primary))
    }

    /// Bytes a decode holds at its peak: libheif's planes (4:4:4 at 16 bits at most), its
    /// interleaved image, and ours (plus one more when we turn or mirror it).
    pub(crate) fn decode_cost(&self) -> u64 {
        let channels = if self.primary.has_alpha_channel() { 4 } else { 3 };
        let planes = if self.primary.luma_bits_per_pixel() > 8 { 6 } else { 3 };
        crate::budget::pixels(self.primary.width(), self.primary.height(), planes + channels * 3)
    }

    /// The primary image's pixels, transforms applied, 8 bits per channel.
    pub(crate) fn decode(&self) -> Result<DynamicImage, InspectError> {
        // The default options: libheif 1.15 applies no transform when given options of our
        // own, even with `ignore_transformations` off.
        match self.decode_with(None) {
            // libheif 1.15 cannot mirror more than 8 bits per channel: decoded untransformed,
            // the file's rotation and mirror applied here.
            Err(_) if self.primary.luma_bits_per_pixel() > 8 => {
                let mut options = DecodingOptions::new().ok_or_else(|| invalid("libheif has no decoding options"))?;
                options.set_ignore_transformations(true);
                let image = self.decode_with(Some(options))?;
                let (turns, mirror) =
                    bmff::transforms(self.file).ok_or_else(|| invalid("the HEIF boxes do not parse"))?;
                let image = match turns {
                    1 => image.rotate270(),
                    2 => image.rotate180(),
                    3 => image.rotate90(),
                    _ => image,
                };
                Ok(match mirror {
                    Some(0) => image.flipv(),
                    Some(_) => image.fliph(),
                    None => image,
                })
            }
            decoded => decoded,
        }
    }

    /// The primary image as 8-bit RGB or RGBA (10 and 12 bits come out as 8).
    fn decode_with(&self, options: Option<DecodingOptions>) -> Result<DynamicImage, InspectError> {
        let alpha = self.primary.has_alpha_channel();
        let chroma = if alpha { RgbChroma::Rgba } else { RgbChroma::Rgb };
        let decoded = LIBHEIF.decode(&self.primary, ColorSpace::Rgb(chroma), options).map_err(invalid)?;
        let plane = decoded.planes().interleaved.ok_or_else(|| invalid("libheif gave no interleaved plane"))?;
        let channels = if alpha { 4 } else { 3 };
        if usize::from(plane.storage_bits_per_pixel) != channels * 8 {
            return Err(invalid("libheif gave more than 8 bits per channel"));
        }
        let row = plane.width as usize * channels;
        let mut pixels = Vec::with_capacity(row * plane.height as usize);
        for y in 0..plane.height as usize {
            let start = y * plane.stride;
            pixels.extend_from_slice(plane.data.get(start..start + row).ok_or_else(|| invalid("a short plane"))?);
        }
        let image = if alpha {
            RgbaImage::from_raw(plane.width, plane.height, pixels).map(DynamicImage::ImageRgba8)
        } else {
            RgbImage::from_raw(plane.width, plane.height, pixels).map(DynamicImage::ImageRgb8)
        };
        image.ok_or_else(|| invalid("the decoded buffer has the wrong size"))
    }
}

/// The first `Exif` item of `image`, as the TIFF structure it holds: the item starts with the
/// offset of the TIFF header from the bytes that follow it.
fn exif(image: &ImageHandle) -> Option<Vec<u8>> {
    let mut ids: [ItemId; 1] = [0];
    if image.metadata_block_ids(&mut ids, b"Exif") == 0 {
        return None;
    }
    let item = image.metadata(ids[0]).ok()?;
    let offset = u32::from_be_bytes(item.get(..4)?.try_into().ok()?);
    let start = 4usize.checked_add(usize::try_from(offset).ok()?)?;
    item.get(start..).map(<[u8]>::to_vec)
}

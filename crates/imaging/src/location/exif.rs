//! EXIF (a TIFF structure): the GPS sub-IFD and an XMP packet are zeroed in place, with
//! their values, and IFD0's entries for them removed.

/// What starts an EXIF block in JPEG `APP1`, and often in PNG and WebP chunks.
pub(super) const EXIF_ID: &[u8] = b"Exif\0\0";

/// The IFD0 tag that points at the GPS sub-IFD.
pub(super) const GPS_IFD_TAG: u16 = 0x8825;
/// The IFD0 tag that holds an XMP packet (TIFF's `XMLPacket`).
pub(super) const XMP_TAG: u16 = 0x02BC;

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
pub(super) fn scrub_exif(bytes: &mut [u8]) -> bool {
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

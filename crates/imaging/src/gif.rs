//! GIFs without a colour table.
//!
//! A GIF whose frames name neither a global nor a local colour table leaves the colours to
//! the decoder ("free to use a system color table or a table of its own", GIF89a §18), and
//! browsers show it; the `gif` crate refuses it. Such a file is read as if it carried a
//! default global table — index *i* is the grey (*i*, *i*, *i*) — so that it is checked and
//! its thumbnails made like any other GIF. The stored file is never changed.

use std::io::{BufReader, Read as _, Seek as _, SeekFrom};

use gallery_domain::ports::{InspectError, ReadSeek};

use crate::invalid;

/// The logical screen descriptor ends here; a global colour table would follow it.
const SCREEN_END: usize = 13;
/// The packed byte of the logical screen descriptor: its top bit says a global table follows,
/// its low three bits how large it is (2^(n+1) entries).
const PACKED: usize = 10;
const HAS_GLOBAL_TABLE: u8 = 0x80;
const TABLE_OF_256: u8 = 0x07;

/// `source`, rewound, as a decoder should read it: unchanged when it has a global colour
/// table, else (rare: the file is read into memory) with the default table added.
///
/// # Errors
/// `Invalid` when it cannot be read.
pub(crate) fn readable(mut source: BufReader<Box<dyn ReadSeek>>) -> Result<BufReader<Box<dyn ReadSeek>>, InspectError> {
    let mut screen = [0u8; SCREEN_END];
    let has_table = match source.read_exact(&mut screen) {
        Ok(()) => screen[PACKED] & HAS_GLOBAL_TABLE != 0,
        Err(_) => true, // too short to be a GIF: the decoder says so
    };
    source.seek(SeekFrom::Start(0)).map_err(invalid)?;
    if has_table {
        return Ok(source);
    }
    let mut file = Vec::new();
    source.read_to_end(&mut file).map_err(invalid)?;
    Ok(BufReader::new(Box::new(std::io::Cursor::new(with_default_table(&file)))))
}

/// `file` (a GIF without a global colour table) with the default one added.
fn with_default_table(file: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(file.len() + 3 * 256);
    out.extend_from_slice(&file[..SCREEN_END]);
    out[PACKED] |= HAS_GLOBAL_TABLE | TABLE_OF_256;
    out.extend((0..=255u8).flat_map(|grey| [grey; 3]));
    out.extend_from_slice(&file[SCREEN_END..]);
    out
}

//! Byte ranges a client asks of a file, before its size is known. The `Range` header's
//! syntax (RFC 9110 `bytes=`) is read by the HTTP adapter; this is what it means.

/// One asked range: `start-end`, `start-` or the last `n` bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ByteRange {
    /// From `start` to `end` inclusive, or to the end of the file.
    From { start: u64, end: Option<u64> },
    /// The last this many bytes.
    Last(u64),
}

impl ByteRange {
    /// The first and last byte this range asks of a file of `size` bytes, the end cut to
    /// the file's; `None` when none of it is in the file (416).
    #[must_use]
    pub fn within(self, size: u64) -> Option<(u64, u64)> {
        let last = size.checked_sub(1)?;
        match self {
            Self::From { start, end } => (start <= last).then(|| (start, end.map_or(last, |e| e.min(last)))),
            Self::Last(0) => None,
            Self::Last(n) => Some((size.saturating_sub(n), last)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::ByteRange;

    #[test]
    fn a_range_is_cut_to_the_file_or_unsatisfiable() {
        let from = |start, end| ByteRange::From { start, end };
        assert_eq!(from(0, Some(9)).within(100), Some((0, 9)));
        assert_eq!(from(90, None).within(100), Some((90, 99)));
        assert_eq!(ByteRange::Last(10).within(100), Some((90, 99)));
        assert_eq!(ByteRange::Last(500).within(100), Some((0, 99)));
        assert_eq!(from(50, Some(500)).within(100), Some((50, 99)));
        // Unsatisfiable: nothing of it is in the file.
        assert_eq!(from(100, None).within(100), None);
        assert_eq!(ByteRange::Last(0).within(100), None);
        assert_eq!(from(0, None).within(0), None);
    }
}

//! Byte ranges a client asks of a file, before its size is known (RFC 9110 `bytes=`).

/// One asked range: `start-end`, `start-` or the last `n` bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ByteRange {
    /// From `start` to `end` inclusive, or to the end of the file.
    From { start: u64, end: Option<u64> },
    /// The last this many bytes.
    Last(u64),
}

impl ByteRange {
    /// A `Range` header's value. `None` when the whole file is to be sent: several ranges,
    /// another unit, a reversed range or nonsense are ignored, as RFC 9110 allows.
    #[must_use]
    pub fn parse(value: &str) -> Option<Self> {
        let spec = value.trim().strip_prefix("bytes=")?;
        if spec.contains(',') {
            return None;
        }
        let (start, end) = spec.trim().split_once('-')?;
        let (start, end) = (start.trim(), end.trim());
        match (start.parse::<u64>(), end.parse::<u64>()) {
            (Ok(start), Ok(end)) if start <= end => Some(Self::From { start, end: Some(end) }),
            (Ok(start), Err(_)) if end.is_empty() => Some(Self::From { start, end: None }),
            (Err(_), Ok(n)) if start.is_empty() => Some(Self::Last(n)),
            _ => None,
        }
    }

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

    fn asked(value: &str, size: u64) -> Option<Option<(u64, u64)>> {
        ByteRange::parse(value).map(|r| r.within(size))
    }

    #[test]
    fn ranges_follow_rfc_9110() {
        assert_eq!(asked("bytes=0-9", 100), Some(Some((0, 9))));
        assert_eq!(asked("bytes=90-", 100), Some(Some((90, 99))));
        assert_eq!(asked("bytes=-10", 100), Some(Some((90, 99))));
        assert_eq!(asked("bytes=-500", 100), Some(Some((0, 99))));
        assert_eq!(asked("bytes=50-500", 100), Some(Some((50, 99))));
        // Unsatisfiable: nothing of it is in the file.
        assert_eq!(asked("bytes=100-", 100), Some(None));
        assert_eq!(asked("bytes=-0", 100), Some(None));
        assert_eq!(asked("bytes=0-", 0), Some(None));
        // Ignored: the whole file is sent.
        assert_eq!(asked("bytes=0-1,5-6", 100), None);
        assert_eq!(asked("items=0-1", 100), None);
        assert_eq!(asked("bytes=abc", 100), None);
        assert_eq!(asked("bytes=9-0", 100), None);
    }
}

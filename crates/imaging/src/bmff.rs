//! ISO base media file format boxes (the container of HEIF), read with bounds checks: what
//! the location scrub and the HEIF decoder need of them.

/// Bounds-checked big-endian reads.
pub(crate) struct Bytes<'a> {
    pub(crate) bytes: &'a [u8],
    pub(crate) at: usize,
}

impl<'a> Bytes<'a> {
    pub(crate) fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let taken = self.bytes.get(self.at..self.at.checked_add(n)?)?;
        self.at += n;
        Some(taken)
    }

    /// An unsigned number of `n` bytes (0, 2, 4 or 8; 0 reads as 0).
    pub(crate) fn uint(&mut self, n: usize) -> Option<u64> {
        Some(self.take(n)?.iter().fold(0u64, |v, &b| (v << 8) | u64::from(b)))
    }

    pub(crate) fn u8(&mut self) -> Option<u8> {
        Some(self.take(1)?[0])
    }

    pub(crate) fn u16(&mut self) -> Option<u64> {
        self.uint(2)
    }

    pub(crate) fn u32(&mut self) -> Option<u64> {
        self.uint(4)
    }

    /// A NUL-terminated string (to the end when unterminated), without its NUL.
    pub(crate) fn text(&mut self) -> &'a [u8] {
        let rest = self.rest();
        let end = rest.iter().position(|&c| c == 0).unwrap_or(rest.len());
        self.at += (end + 1).min(rest.len());
        &rest[..end]
    }

    pub(crate) fn rest(&self) -> &'a [u8] {
        self.bytes.get(self.at..).unwrap_or_default()
    }
}

/// The child boxes of `body`: type and the range of each one's body. `None` when one runs
/// past its parent.
pub(crate) fn children(body: &[u8]) -> Option<Vec<([u8; 4], std::ops::Range<usize>)>> {
    let mut found = Vec::new();
    let mut at = 0usize;
    while at < body.len() {
        let mut b = Bytes { bytes: body, at };
        let size = b.u32()?;
        let kind: [u8; 4] = b.take(4)?.try_into().ok()?;
        let (head, size) = match size {
            0 => (8, (body.len() - at) as u64),
            1 => (16, b.uint(8)?),
            n => (8, n),
        };
        let end = at.checked_add(usize::try_from(size).ok()?)?;
        if size < head || end > body.len() {
            return None;
        }
        found.push((kind, at + head as usize..end));
        at = end;
    }
    Some(found)
}

/// The primary item's rotation (quarter turns anticlockwise, `irot`) and mirror (`imir`:
/// `Some(0)` about the horizontal axis, top and bottom trade places; `Some(1)` about the
/// vertical one, as libheif reads it), from the file's `meta` box. HEIF applies rotation
/// before mirroring.
pub(crate) fn transforms(file: &[u8]) -> Option<(u8, Option<u8>)> {
    let top = children(file)?;
    let (_, meta) = top.into_iter().find(|(kind, _)| kind == b"meta")?;
    let meta = file.get(meta.start + 4..meta.end)?;
    let boxes = children(meta)?;
    let find = |kind: &[u8; 4]| boxes.iter().find(|(k, _)| k == kind).map(|(_, r)| &meta[r.clone()]);
    let mut pitm = Bytes { bytes: find(b"pitm")?, at: 0 };
    let version = pitm.u8()?;
    pitm.take(3)?;
    let primary = if version == 0 { pitm.u16()? } else { pitm.u32()? };
    let iprp = find(b"iprp")?;
    let parts = children(iprp)?;
    let part = |kind: &[u8; 4]| parts.iter().find(|(k, _)| k == kind).map(|(_, r)| &iprp[r.clone()]);
    let ipco = part(b"ipco")?;
    let properties = children(ipco)?;
    let mut ipma = Bytes { bytes: part(b"ipma")?, at: 0 };
    let version = ipma.u8()?;
    let flags = ipma.take(3)?;
    let wide = flags[2] & 1 == 1;
    let (mut rotation, mut mirror) = (0, None);
    for _ in 0..ipma.u32()? {
        let item = if version < 1 { ipma.u16()? } else { ipma.u32()? };
        for _ in 0..ipma.u8()? {
            let index = if wide { ipma.u16()? & 0x7FFF } else { u64::from(ipma.u8()? & 0x7F) };
            if item != primary || index == 0 {
                continue;
            }
            let (kind, body) = properties.get(usize::try_from(index - 1).ok()?)?;
            match kind {
                b"irot" => rotation = ipco.get(body.start)? & 3,
                b"imir" => mirror = Some(ipco.get(body.start)? & 1),
                _ => {}
            }
        }
    }
    Some((rotation, mirror))
}

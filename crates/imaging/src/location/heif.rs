//! HEIF (HEIC and AVIF): the `meta` box is held and read; its item table (`iinf`) says which
//! items are EXIF (`Exif`) and XMP (`mime`, `application/rdf+xml`), its location table
//! (`iloc`) where their bytes are. As the rest of the file streams by, each EXIF item is held
//! and scrubbed in place, each XMP item overwritten with spaces (XML's own blank), so that
//! no offset in the file moves and nothing is re-muxed. Items inside `meta` (in its `idat`)
//! are patched in the held box.
//!
//! A file whose metadata cannot be scrubbed while streaming is refused rather than stored:
//! a `meta` box over [`HOLD_MAX`], item tables that do not parse, or an EXIF or XMP item
//! whose bytes went by before `meta` said where they were (a `mdat` ahead of `meta`, which
//! no phone or library we know writes).

use std::collections::VecDeque;

use super::HOLD_MAX;
use super::exif::scrub_exif;
use super::machine::{Format, Step, keep};
use crate::bmff::{Bytes, children};

pub(super) struct Heif {
    /// Bytes of the file consumed by the steps handed out so far.
    at: u64,
    state: State,
    /// The items to patch after `meta`, by their place in the file.
    patches: VecDeque<Patch>,
    refused: Option<&'static str>,
}

enum State {
    /// A top-level box's 8-byte head is held.
    BoxHead,
    /// A `meta` box's 64-bit size is held.
    LargeSize([u8; 8]),
    /// A `meta` box's body is held; the head written so far.
    Meta(Vec<u8>),
    /// Passing up to the next patch.
    ToPatch,
    /// An EXIF item is held.
    Holding,
    /// A patch was written in one step.
    Patched,
    /// Passing top-level boxes up to `meta`.
    Boxes,
    /// Nothing left to do.
    Done,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Exif,
    Xmp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Patch {
    kind: Kind,
    start: u64,
    len: u64,
}

/// The first step's hold: the first box's head.
pub(super) const HEAD: usize = 8;

impl Heif {
    /// The format, as the machine starts it with [`HEAD`] bytes held.
    pub(super) fn new() -> Self {
        Self { at: HEAD as u64, state: State::BoxHead, patches: VecDeque::new(), refused: None }
    }

    /// The step `step`, counted against the file's bytes.
    fn step(&mut self, step: Step) -> Step {
        match step {
            Step::Hold(n) => self.at += n as u64,
            Step::Pass(n) | Step::Skip(n) | Step::Zero(n) | Step::Blank(n) => self.at += n,
            Step::Rest => {}
        }
        step
    }

    fn refuse(&mut self, why: &'static str) -> Step {
        self.refused.get_or_insert(why);
        self.state = State::Done;
        Step::Rest
    }

    /// Passes to the next patch, or copies the rest when none is left.
    fn next_patch(&mut self) -> Step {
        let Some(&next) = self.patches.front() else {
            self.state = State::Done;
            return Step::Rest;
        };
        if next.start < self.at {
            return self.refuse("an EXIF or XMP item of this HEIF file comes before its item table");
        }
        self.state = State::ToPatch;
        match next.start - self.at {
            0 => self.resume(),
            gap => self.step(Step::Pass(gap)),
        }
    }

    /// The head of the box in `held`, and its full size (`None`: to the end of the file).
    fn meta(&mut self, head: Vec<u8>, size: Option<u64>) -> Step {
        let body = size.map(|size| size.checked_sub(head.len() as u64));
        match body {
            Some(Some(body)) if body <= HOLD_MAX as u64 => {
                self.state = State::Meta(head);
                let step = Step::Hold(usize::try_from(body).unwrap_or(HOLD_MAX));
                self.step(step)
            }
            _ => self.refuse("the HEIF meta box is too large to scrub"),
        }
    }
}

impl Format for Heif {
    fn decide(&mut self, held: &mut Vec<u8>, out: &mut Vec<u8>) -> Step {
        match std::mem::replace(&mut self.state, State::Done) {
            State::BoxHead => {
                let head = std::mem::take(held);
                let size = u32::from_be_bytes([head[0], head[1], head[2], head[3]]);
                let meta = &head[4..8] == b"meta";
                match (size, meta) {
                    (1, _) => {
                        if !meta {
                            // A 64-bit size: the box (an `mdat`, in practice) is passed whole.
                            out.extend_from_slice(&head);
                        }
                        self.state =
                            State::LargeSize([head[0], head[1], head[2], head[3], head[4], head[5], head[6], head[7]]);
                        self.step(Step::Hold(8))
                    }
                    (0, true) => self.meta(head, None),
                    (_, true) => self.meta(head, Some(u64::from(size))),
                    (0, false) => {
                        out.extend_from_slice(&head);
                        self.state = State::Done;
                        Step::Rest
                    }
                    (n, false) if n < 8 => self.refuse("a HEIF box has an impossible size"),
                    (n, false) => {
                        out.extend_from_slice(&head);
                        self.state = State::Boxes;
                        self.step(Step::Pass(u64::from(n) - 8))
                    }
                }
            }
            State::LargeSize(head) => {
                let size = u64::from_be_bytes([held[0], held[1], held[2], held[3], held[4], held[5], held[6], held[7]]);
                if &head[4..8] == b"meta" {
                    let mut head = head.to_vec();
                    head.append(held);
                    return self.meta(head, Some(size));
                }
                keep(held, out);
                match size.checked_sub(16) {
                    Some(body) => {
                        self.state = State::Boxes;
                        self.step(Step::Pass(body))
                    }
                    None => self.refuse("a HEIF box has an impossible size"),
                }
            }
            State::Meta(head) => {
                let Some(patches) = items(held) else {
                    return self.refuse("the HEIF item tables do not parse");
                };
                out.extend_from_slice(&head);
                keep(held, out);
                self.patches = patches.into();
                self.next_patch()
            }
            State::Holding => {
                let mut item = std::mem::take(held);
                if !scrub_exif_item(&mut item) {
                    item.fill(0);
                }
                out.extend_from_slice(&item);
                self.patches.pop_front();
                self.next_patch()
            }
            State::ToPatch | State::Patched | State::Boxes | State::Done => Step::Rest,
        }
    }

    fn resume(&mut self) -> Step {
        match std::mem::replace(&mut self.state, State::Done) {
            State::Boxes => {
                self.state = State::BoxHead;
                self.step(Step::Hold(8))
            }
            State::ToPatch => {
                let Some(&patch) = self.patches.front() else { return Step::Rest };
                match (patch.kind, usize::try_from(patch.len)) {
                    (Kind::Exif, Ok(n)) if n <= HOLD_MAX => {
                        self.state = State::Holding;
                        self.step(Step::Hold(n))
                    }
                    (Kind::Exif, _) => {
                        // Too big to hold: dropped whole, as in every other format.
                        self.patches.pop_front();
                        self.state = State::Patched;
                        self.step(Step::Zero(patch.len))
                    }
                    (Kind::Xmp, _) => {
                        self.patches.pop_front();
                        self.state = State::Patched;
                        self.step(Step::Blank(patch.len))
                    }
                }
            }
            State::Patched => self.next_patch(),
            State::BoxHead | State::LargeSize(_) | State::Meta(_) | State::Holding | State::Done => Step::Rest,
        }
    }

    fn verdict(&self) -> Result<(), String> {
        self.refused.map_or(Ok(()), |why| Err(why.to_owned()))
    }
}

/// An EXIF item: a 4-byte offset to the TIFF header from the bytes after it (usually past
/// `Exif\0\0`), then the TIFF structure.
fn scrub_exif_item(item: &mut [u8]) -> bool {
    let Some(offset) = item.get(..4).map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]])) else { return false };
    let start = usize::try_from(offset).ok().and_then(|o| o.checked_add(4));
    start.and_then(|start| item.get_mut(start..)).is_some_and(scrub_exif)
}

/// Patches EXIF and XMP items stored inside `meta` (its `idat`) in place, and returns those
/// stored in the file, in file order. `meta` is the box's body. `None` when the tables do not parse, or an item's bytes cannot be located.
fn items(meta: &mut [u8]) -> Option<Vec<Patch>> {
    // A full box: version and flags, then the children.
    let boxes = children(meta.get(4..)?)?;
    let body = |kind: &[u8; 4]| boxes.iter().find(|(k, _)| k == kind).map(|(_, r)| r.start + 4..r.end + 4);
    let kinds = match body(b"iinf") {
        Some(range) => item_kinds(&meta[range])?,
        None => Vec::new(),
    };
    if kinds.is_empty() {
        return Some(Vec::new());
    }
    let extents = item_extents(&meta[body(b"iloc")?], &kinds)?;
    let idat = body(b"idat");
    let mut patches = Vec::new();
    for (kind, in_idat, start, len) in extents {
        if in_idat {
            let idat = idat.clone()?;
            let start = idat.start.checked_add(usize::try_from(start).ok()?)?;
            let end = start.checked_add(usize::try_from(len).ok()?)?;
            let bytes = meta.get_mut(start..end.min(idat.end))?;
            match kind {
                Kind::Exif if scrub_exif_item(bytes) => {}
                Kind::Exif => bytes.fill(0),
                Kind::Xmp => bytes.fill(b' '),
            }
        } else {
            patches.push(Patch { kind, start, len });
        }
    }
    patches.sort_by_key(|p| p.start);
    Some(patches)
}

/// The ids of EXIF and XMP items in an `iinf` body.
fn item_kinds(iinf: &[u8]) -> Option<Vec<(u64, Kind)>> {
    let mut b = Bytes { bytes: iinf, at: 0 };
    let version = b.u8()?;
    b.take(3)?;
    let _count = if version == 0 { b.u16()? } else { b.u32()? };
    let mut kinds = Vec::new();
    for (kind, range) in children(b.rest())? {
        if &kind != b"infe" {
            continue;
        }
        let mut e = Bytes { bytes: &b.rest()[range], at: 0 };
        let version = e.u8()?;
        e.take(3)?;
        let id = if version >= 3 { e.u32()? } else { e.u16()? };
        e.u16()?; // protection index
        let found = if version >= 2 {
            match e.take(4)? {
                b"Exif" => Some(Kind::Exif),
                b"mime" => {
                    e.text(); // name
                    (e.text() == b"application/rdf+xml").then_some(Kind::Xmp)
                }
                _ => None,
            }
        } else {
            e.text(); // name
            (e.text() == b"application/rdf+xml").then_some(Kind::Xmp)
        };
        kinds.extend(found.map(|kind| (id, kind)));
    }
    Some(kinds)
}

/// The extents of the items in `kinds`, from an `iloc` body: kind, whether in `idat`,
/// offset (in the file or in `idat`) and length.
fn item_extents(iloc: &[u8], kinds: &[(u64, Kind)]) -> Option<Vec<(Kind, bool, u64, u64)>> {
    let mut b = Bytes { bytes: iloc, at: 0 };
    let version = b.u8()?;
    b.take(3)?;
    let sizes = b.u8()?;
    let (offset_size, length_size) = (usize::from(sizes >> 4), usize::from(sizes & 15));
    let sizes = b.u8()?;
    let base_size = usize::from(sizes >> 4);
    let index_size = if version >= 1 { usize::from(sizes & 15) } else { 0 };
    let count = if version < 2 { b.u16()? } else { b.u32()? };
    let mut extents = Vec::new();
    for _ in 0..count {
        let id = if version < 2 { b.u16()? } else { b.u32()? };
        let method = if version >= 1 { b.u16()? & 15 } else { 0 };
        let data_reference = b.u16()?;
        let base = b.uint(base_size)?;
        let extent_count = b.u16()?;
        let kind = kinds.iter().find(|(k, _)| *k == id).map(|(_, kind)| *kind);
        for _ in 0..extent_count {
            b.uint(index_size)?;
            let offset = b.uint(offset_size)?;
            let len = b.uint(length_size)?;
            let Some(kind) = kind else { continue };
            // Only bytes in this file (`data_reference` 0), in it or in `idat`, can be
            // located; a length of 0 ("to the end") is not one an item of ours has.
            if data_reference != 0 || method > 1 || len == 0 {
                return None;
            }
            extents.push((kind, method == 1, base.checked_add(offset)?, len));
        }
    }
    Some(extents)
}

#[cfg(test)]
mod tests;

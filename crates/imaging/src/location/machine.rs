//! The streaming machine every container shares: it holds exactly the bytes a container asks
//! to judge, then passes, skips or zeroes what the container decides, never holding more.

use gallery_domain::ports::LocationScrub;

/// What the stream does next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Step {
    /// Hold this many bytes, then let the format decide.
    Hold(usize),
    /// Copy this many bytes through.
    Pass(u64),
    /// Drop this many bytes.
    Skip(u64),
    /// Write this many zeros in place of the next bytes.
    Zero(u64),
    /// Write this many spaces in place of the next bytes (XML's blank).
    Blank(u64),
    /// Copy everything that is left.
    Rest,
}

/// A container format, as a sequence of decisions on held bytes.
pub(super) trait Format: Send {
    /// `held` holds exactly the bytes asked for; write what is kept to `out`.
    fn decide(&mut self, held: &mut Vec<u8>, out: &mut Vec<u8>) -> Step;
    /// The step after a `Pass`, `Skip`, `Zero` or `Blank` ends.
    fn resume(&mut self) -> Step;
    /// At the end: whether what was written holds no location, or why not.
    fn verdict(&self) -> Result<(), String> {
        Ok(())
    }
}

pub(super) struct Machine<F> {
    format: F,
    step: Step,
    held: Vec<u8>,
}

impl<F: Format> Machine<F> {
    pub(super) fn new(format: F, first: usize) -> Self {
        Self { format, step: if first == 0 { Step::Rest } else { Step::Hold(first) }, held: Vec::new() }
    }
}

impl<F: Format> LocationScrub for Machine<F> {
    fn feed(&mut self, mut input: &[u8], out: &mut Vec<u8>) {
        while !input.is_empty() {
            let take = |n: u64, input: &[u8]| usize::try_from(n).map_or(input.len(), |n| n.min(input.len()));
            match self.step {
                Step::Hold(n) => {
                    let k = (n - self.held.len()).min(input.len());
                    self.held.extend_from_slice(&input[..k]);
                    input = &input[k..];
                    while let Step::Hold(n) = self.step {
                        if self.held.len() < n {
                            break;
                        }
                        let mut held = std::mem::take(&mut self.held);
                        self.step = self.format.decide(&mut held, out);
                        // A decision may hand bytes back to be held again.
                        self.held = held;
                    }
                }
                Step::Pass(n) | Step::Skip(n) | Step::Zero(n) | Step::Blank(n) => {
                    let k = take(n, input);
                    match self.step {
                        Step::Pass(_) => out.extend_from_slice(&input[..k]),
                        Step::Zero(_) => out.resize(out.len() + k, 0),
                        Step::Blank(_) => out.resize(out.len() + k, b' '),
                        _ => {}
                    }
                    input = &input[k..];
                    let left = n - k as u64;
                    self.step = match self.step {
                        _ if left == 0 => self.format.resume(),
                        Step::Pass(_) => Step::Pass(left),
                        Step::Skip(_) => Step::Skip(left),
                        Step::Blank(_) => Step::Blank(left),
                        _ => Step::Zero(left),
                    };
                }
                Step::Rest => {
                    out.extend_from_slice(input);
                    input = &[];
                }
            }
        }
    }

    fn finish(&mut self, out: &mut Vec<u8>) -> Result<(), String> {
        // A file cut short inside a held block: the block was never judged, so it is
        // dropped. (Such a file does not decode and is refused anyway.)
        let _ = out;
        self.held.clear();
        self.format.verdict()
    }
}

/// Writes the held bytes through unchanged.
pub(super) fn keep(held: &mut Vec<u8>, out: &mut Vec<u8>) {
    out.extend_from_slice(held);
    held.clear();
}

/// The eight held bytes of a PNG or RIFF chunk's head.
pub(super) fn chunk_head(held: &mut Vec<u8>) -> [u8; 8] {
    let mut head = [0u8; 8];
    head.copy_from_slice(held);
    held.clear();
    head
}

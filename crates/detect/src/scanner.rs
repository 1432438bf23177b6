//! One multi-pattern automaton over every variant, fed a stream a chunk at a time.
//!
//! The automaton (aho-corasick, all patterns ASCII-case-insensitive, standard overlapping
//! semantics) is built once per profile. Each flow direction owns a [`StreamScan`]: the
//! automaton's current state, the last bytes of the stream (enough to check a hit's exact case
//! and the byte before it), and hits still waiting for the byte after them. A hit that straddles
//! two TCP segments is therefore found without gluing segments together (the state carries it),
//! and the result does not depend on where the stream was cut: a test splits a haystack at every
//! position and compares.
//!
//! Verification after the automaton reports a match:
//! - variants that are not case-insensitive must match byte for byte (the automaton ignores
//!   ASCII case for all of them, so hex and emails share one automaton with names and digits);
//! - [`Boundary`] rules look at the neighbouring bytes;
//! - coordinates are held until the other half of their location is seen within
//!   [`PAIR_WINDOW`] bytes (twice that for halves in UTF-16 or hex, which take two bytes per
//!   character); a lone latitude is not a hit.
//!
//! Bounds: the carry is [`Scanner::max_pattern_len`] bytes per stream, the pending and
//! coordinate lists have fixed caps; nothing grows with the input.

use std::sync::Arc;

use aho_corasick::automaton::{Automaton, StateID};
use aho_corasick::{dfa, nfa, Anchored, MatchKind, StartKind};

use crate::variants::{Axis, Boundary, Variants, PAIR_WINDOW};

/// Above this many pattern bytes the contiguous NFA is used instead of the DFA: the DFA's
/// transition table grows with states times byte classes, and a large profile would cost
/// hundreds of megabytes. Measured on a 20-value profile (1,349 variants, 56 KB of patterns,
/// the `speed` test): DFA 23 MiB and 0.38 GB/s, contiguous NFA 0.9 MiB and 0.14 GB/s, on one
/// core. The cap keeps such a profile, with its fingerprint digests, on the DFA (about 50 MiB
/// at the cap); address books of hundreds of contacts go to the NFA.
const DFA_MAX_PATTERN_BYTES: usize = 128 * 1024;
/// Hits waiting for the next byte (their boundary check) per stream; more are accepted unchecked.
const MAX_PENDING: usize = 64;
/// Unpaired coordinate hits remembered per stream.
const MAX_COORDS: usize = 32;

/// A confirmed occurrence of a variant in a stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Hit {
    /// The variant's id (for a location, the latitude's).
    pub variant: u32,
    /// Stream offset of the first byte.
    pub offset: u64,
    /// Length in bytes (for a location, from the first coordinate's start to the second's end).
    pub len: u32,
    /// For a location: the longitude's variant id and offset.
    pub partner: Option<(u32, u64)>,
}

enum Engine {
    Dfa(dfa::DFA),
    Nfa(nfa::contiguous::NFA),
}

#[derive(Debug, Clone, Copy)]
struct Meta {
    exact: bool,
    boundary: Boundary,
    coord: Option<(u32, Axis)>,
    len: u32,
    /// For coordinates: how far the other half may start, in bytes of this variant's encoding.
    window: u64,
}

/// The compiled variants of a profile.
pub struct Scanner {
    engine: Engine,
    meta: Vec<Meta>,
    patterns: Vec<Vec<u8>>,
    max_len: usize,
}

impl std::fmt::Debug for Scanner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scanner")
            .field("patterns", &self.patterns.len())
            .field("max_len", &self.max_len)
            .field("memory", &self.memory_usage())
            .finish_non_exhaustive()
    }
}

/// The automaton could not be built (in practice: too many patterns for its state ids).
#[derive(Debug, thiserror::Error)]
#[error("cannot build the variant automaton: {0}")]
pub struct BuildError(#[from] aho_corasick::BuildError);

impl Scanner {
    /// Compiles the variants. Pattern ids are variant ids.
    pub fn new(variants: &Variants) -> Result<Self, BuildError> {
        Self::build(variants, Self::dfa_for(variants))
    }

    /// Compiles the variants into the contiguous NFA whatever their size: about a quarter of
    /// the DFA's compile time, 2.7 times slower to scan with. A stream started on it moves to
    /// the DFA with [`StreamScan::upgrade`]; pattern ids are the same.
    pub fn new_nfa(variants: &Variants) -> Result<Self, BuildError> {
        Self::build(variants, false)
    }

    /// Whether [`Self::new`] compiles these variants into a DFA.
    pub fn dfa_for(variants: &Variants) -> bool {
        let total: usize = variants.list().iter().map(|v| v.bytes.len()).sum();
        total <= DFA_MAX_PATTERN_BYTES
    }

    fn build(variants: &Variants, dfa: bool) -> Result<Self, BuildError> {
        let list = variants.list();
        let patterns: Vec<Vec<u8>> = list.iter().map(|v| v.bytes.clone()).collect();
        let meta = list
            .iter()
            .map(|v| Meta {
                exact: !v.case_insensitive,
                boundary: v.boundary,
                coord: v.coord,
                len: u32::try_from(v.bytes.len()).unwrap_or(u32::MAX),
                // The window is one of characters: an encoding with two bytes per character
                // spreads the same text over twice the bytes.
                window: if v
                    .encoding
                    .iter()
                    .any(|e| matches!(*e, "utf16le" | "utf16be" | "hex"))
                {
                    2 * PAIR_WINDOW
                } else {
                    PAIR_WINDOW
                },
            })
            .collect();
        // Prefilters are off: with a streaming state loop they only add a special start state.
        let engine = if dfa {
            Engine::Dfa(
                dfa::Builder::new()
                    .match_kind(MatchKind::Standard)
                    .start_kind(StartKind::Unanchored)
                    .ascii_case_insensitive(true)
                    .prefilter(false)
                    .build(&patterns)?,
            )
        } else {
            Engine::Nfa(
                nfa::contiguous::Builder::new()
                    .match_kind(MatchKind::Standard)
                    .ascii_case_insensitive(true)
                    .prefilter(false)
                    .build(&patterns)?,
            )
        };
        let max_len = patterns.iter().map(Vec::len).max().unwrap_or(0);
        Ok(Self {
            engine,
            meta,
            patterns,
            max_len,
        })
    }

    /// How [`run`] may split a chunk: the start state lanes begin from and how far back of
    /// its own part each begins.
    fn lanes(&self) -> Lanes {
        Lanes {
            start: self.start(),
            warm: self.max_len,
        }
    }

    /// The longest pattern, in bytes: the carry each stream keeps.
    pub fn max_pattern_len(&self) -> usize {
        self.max_len
    }

    /// Heap bytes of the automaton.
    pub fn memory_usage(&self) -> usize {
        match &self.engine {
            Engine::Dfa(a) => a.memory_usage(),
            Engine::Nfa(a) => a.memory_usage(),
        }
    }

    /// Whether the DFA (rather than the contiguous NFA) was chosen.
    pub fn is_dfa(&self) -> bool {
        matches!(self.engine, Engine::Dfa(_))
    }

    /// Appends to `out` every hit in `pieces`, searched as one stream (the pieces are
    /// consecutive parts of one buffer): the whole search of a buffer that is not a flow's.
    pub fn scan(self: &Arc<Self>, pieces: &[&[u8]], out: &mut Vec<Hit>) {
        let mut stream = self.stream();
        let mut offset = 0u64;
        for p in pieces {
            stream.feed(p, offset, out);
            offset += p.len() as u64;
        }
        stream.finish(out);
    }

    fn start(&self) -> StateID {
        let start = match &self.engine {
            Engine::Dfa(a) => a.start_state(Anchored::No),
            Engine::Nfa(a) => a.start_state(Anchored::No),
        };
        // Unanchored searches always have a start state; the error is only for anchored ones.
        start.unwrap_or_default()
    }

    /// A fresh scan state for one stream (one direction of one flow).
    pub fn stream(self: &Arc<Self>) -> StreamScan {
        let start = self.start();
        StreamScan {
            scanner: Arc::clone(self),
            start,
            state: start,
            next: None,
            tail: Vec::new(),
            pending: Vec::new(),
            coords: Vec::new(),
            last_pair: None,
            scratch: Vec::new(),
            gaps: 0,
            unchecked: 0,
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Coord {
    variant: u32,
    offset: u64,
    end: u64,
    location: u32,
    axis: Axis,
    window: u64,
}

/// The scan state of one stream.
pub struct StreamScan {
    scanner: Arc<Scanner>,
    start: StateID,
    state: StateID,
    /// The stream offset the next chunk should start at (None before the first).
    next: Option<u64>,
    /// The last bytes before `next`, at most `max_len` of them.
    tail: Vec<u8>,
    /// Hits ending at the end of the last chunk whose boundary needs the next byte.
    pending: Vec<(u32, u64)>,
    coords: Vec<Coord>,
    /// The span of the last location reported.
    last_pair: Option<(u64, u64)>,
    scratch: Vec<(u32, usize)>,
    /// Discontinuities seen (the automaton restarted after each).
    pub gaps: u64,
    /// Hits accepted without their boundary check because a cap was reached.
    pub unchecked: u64,
}

impl std::fmt::Debug for StreamScan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamScan")
            .field("next", &self.next)
            .field("gaps", &self.gaps)
            .finish_non_exhaustive()
    }
}

/// The bytes of a stream near the current chunk: the carried tail, then the chunk.
struct Window<'a> {
    tail: &'a [u8],
    chunk: &'a [u8],
    /// Stream offset of `chunk[0]`.
    base: u64,
}

impl Window<'_> {
    fn byte(&self, at: u64) -> Option<u8> {
        if at >= self.base {
            let i = usize::try_from(at - self.base).ok()?;
            self.chunk.get(i).copied()
        } else {
            let back = usize::try_from(self.base - at).ok()?;
            let i = self.tail.len().checked_sub(back)?;
            self.tail.get(i).copied()
        }
    }

    /// Whether the bytes at `start` equal `pat` exactly.
    fn equals(&self, start: u64, pat: &[u8]) -> bool {
        pat.iter()
            .enumerate()
            .all(|(i, &b)| self.byte(start.saturating_add(i as u64)) == Some(b))
    }
}

fn before_ok(boundary: Boundary, prev: Option<u8>) -> bool {
    match (boundary, prev) {
        (Boundary::None, _) | (_, None) => true,
        (Boundary::Digits, Some(b)) => !b.is_ascii_digit(),
        (Boundary::NumberStart, Some(b)) => !(b.is_ascii_digit() || b == b'.' || b == b'-'),
    }
}

fn after_needed(boundary: Boundary) -> bool {
    boundary == Boundary::Digits
}

impl StreamScan {
    /// Scans the next chunk of the stream, which starts at stream offset `offset`. A chunk that
    /// does not continue the previous one (a gap) restarts the automaton; a chunk overlapping
    /// what was already scanned is scanned from the first new byte. Confirmed hits are pushed
    /// to `out` in the order they are confirmed.
    pub fn feed(&mut self, chunk: &[u8], offset: u64, out: &mut Vec<Hit>) {
        let mut chunk = chunk;
        let mut offset = offset;
        if let Some(next) = self.next {
            if offset > next {
                self.gap(out);
            } else if offset < next {
                let skip = usize::try_from(next - offset).unwrap_or(usize::MAX);
                chunk = chunk.get(skip..).unwrap_or(&[]);
                offset = next;
            }
        }
        if chunk.is_empty() {
            return;
        }
        // Hits from the last chunk waiting for this byte.
        let first = chunk.first().copied();
        for (v, at) in std::mem::take(&mut self.pending) {
            if first.is_none_or(|b| !b.is_ascii_digit()) {
                self.confirm(v, at, out);
            }
        }
        let scanner = Arc::clone(&self.scanner);
        // Reused between chunks: no allocation per chunk once warmed up.
        let mut matches = std::mem::take(&mut self.scratch);
        matches.clear();
        self.state = match &scanner.engine {
            Engine::Dfa(a) => run(a, self.state, chunk, scanner.lanes(), &mut matches),
            Engine::Nfa(a) => run(a, self.state, chunk, scanner.lanes(), &mut matches),
        };
        let end = offset.saturating_add(chunk.len() as u64);
        for &(pid, i) in &matches {
            self.verify(&scanner, pid, offset, i, chunk, end, out);
        }
        self.scratch = matches;
        self.push_tail(chunk, scanner.max_len);
        self.next = Some(end);
    }

    /// The scanner this stream runs on.
    pub fn scanner(&self) -> &Arc<Scanner> {
        &self.scanner
    }

    /// Goes on with `to`, a compilation of the same variants (the DFA once it is ready, for a
    /// stream started on the NFA). The automaton's state is the longest end of the stream that
    /// begins some pattern, never longer than a pattern, so running `to` over the carried
    /// tail (the last [`Scanner::max_pattern_len`] bytes) reaches the matching state; hits
    /// ending in the tail were reported already and are not again.
    pub fn upgrade(&mut self, to: &Arc<Scanner>) {
        if Arc::ptr_eq(&self.scanner, to) {
            return;
        }
        let start = to.start();
        let mut ignored = std::mem::take(&mut self.scratch);
        self.state = match (&to.engine, self.next) {
            (_, None) => start,
            (Engine::Dfa(a), Some(_)) => run_from(a, start, &self.tail, 0, 0, &mut ignored),
            (Engine::Nfa(a), Some(_)) => run_from(a, start, &self.tail, 0, 0, &mut ignored),
        };
        ignored.clear();
        self.scratch = ignored;
        self.start = start;
        self.scanner = Arc::clone(to);
    }

    /// The stream ended: hits waiting for a following byte are confirmed.
    pub fn finish(&mut self, out: &mut Vec<Hit>) {
        for (v, at) in std::mem::take(&mut self.pending) {
            self.confirm(v, at, out);
        }
    }

    /// A hole in the stream: nothing matches across it.
    pub fn gap(&mut self, out: &mut Vec<Hit>) {
        self.finish(out);
        self.gaps = self.gaps.saturating_add(1);
        self.state = self.start;
        self.tail.clear();
        self.coords.clear();
        self.next = None;
    }

    #[allow(clippy::too_many_arguments)]
    fn verify(
        &mut self,
        scanner: &Scanner,
        pid: u32,
        base: u64,
        i: usize,
        chunk: &[u8],
        end: u64,
        out: &mut Vec<Hit>,
    ) {
        let Some(meta) = scanner.meta.get(pid as usize) else {
            return;
        };
        // `i` is the index of the match's last byte in the chunk.
        let stop = base.saturating_add(i as u64).saturating_add(1);
        let Some(start) = stop.checked_sub(u64::from(meta.len)) else {
            return;
        };
        let w = Window {
            tail: &self.tail,
            chunk,
            base,
        };
        if meta.exact {
            let Some(pat) = scanner.patterns.get(pid as usize) else {
                return;
            };
            if !w.equals(start, pat) {
                return;
            }
        }
        if !before_ok(meta.boundary, start.checked_sub(1).and_then(|p| w.byte(p))) {
            return;
        }
        if after_needed(meta.boundary) {
            if stop == end {
                if self.pending.len() < MAX_PENDING {
                    self.pending.push((pid, start));
                } else {
                    self.unchecked = self.unchecked.saturating_add(1);
                    self.confirm(pid, start, out);
                }
                return;
            }
            if w.byte(stop).is_some_and(|b| b.is_ascii_digit()) {
                return;
            }
        }
        self.confirm(pid, start, out);
    }

    fn confirm(&mut self, variant: u32, offset: u64, out: &mut Vec<Hit>) {
        let Some(meta) = self.scanner.meta.get(variant as usize).copied() else {
            return;
        };
        let end = offset.saturating_add(u64::from(meta.len));
        let Some((location, axis)) = meta.coord else {
            out.push(Hit {
                variant,
                offset,
                len: meta.len,
                partner: None,
            });
            return;
        };
        // Forget coordinates too far behind to pair with anything from here on.
        self.coords
            .retain(|c| offset.saturating_sub(c.offset) <= 2 * PAIR_WINDOW);
        let partner = self
            .coords
            .iter()
            .find(|c| {
                c.location == location
                    && c.axis != axis
                    && c.offset.abs_diff(offset) <= c.window.min(meta.window)
            })
            .copied();
        // Several precisions of one number start at the same byte: keep the latest (longest).
        self.coords
            .retain(|c| !(c.location == location && c.axis == axis && c.offset == offset));
        if self.coords.len() >= MAX_COORDS {
            self.coords.remove(0);
        }
        self.coords.push(Coord {
            variant,
            offset,
            end,
            location,
            axis,
            window: meta.window,
        });
        let Some(p) = partner else { return };
        let (lat, lon) = if axis == Axis::Lat {
            ((variant, offset, end), (p.variant, p.offset, p.end))
        } else {
            ((p.variant, p.offset, p.end), (variant, offset, end))
        };
        let first = lat.1.min(lon.1);
        let last = lat.2.max(lon.2);
        // A pair overlapping the last one is the same sighting: the longer forms of a number
        // complete after its shorter ones, and UTF-16 text matches both the little-endian
        // variants and, one byte on, the big-endian ones.
        if self.last_pair.is_some_and(|(f, l)| first < l && f < last) {
            return;
        }
        self.last_pair = Some((first, last));
        out.push(Hit {
            variant: lat.0,
            offset: first,
            len: u32::try_from(last - first).unwrap_or(u32::MAX),
            partner: Some((lon.0, lon.1)),
        });
    }

    fn push_tail(&mut self, chunk: &[u8], keep: usize) {
        if chunk.len() >= keep {
            self.tail.clear();
            self.tail
                .extend_from_slice(chunk.get(chunk.len() - keep..).unwrap_or(&[]));
        } else {
            let total = self.tail.len() + chunk.len();
            if total > keep {
                self.tail.drain(..total - keep);
            }
            self.tail.extend_from_slice(chunk);
        }
    }
}

/// The automaton loop: every (pattern, index of its last byte) ending in `chunk`.
/// See [`Scanner::lanes`].
#[derive(Clone, Copy)]
struct Lanes {
    start: StateID,
    warm: usize,
}

/// Runs the automaton over `chunk` from state `sid`, pushing `(pattern, index of the last
/// byte)` for every match in order of position, and returns the state at the end.
///
/// Each step of an automaton waits for the previous one (the next state is a load from a
/// table indexed by the current one), so one pass runs at the latency of the table's memory,
/// not its bandwidth: 0.3-0.6 GB/s for a DFA of tens of MiB. A long enough chunk is therefore
/// cut into parts run side by side: two, four or eight independent chains of loads in flight
/// at once (`scanbench`, one pass against parts: JSON bodies 0.30 -> 0.93 GB/s, HTML 0.36 ->
/// 1.17, binary 0.58 -> 1.53, short query strings 0.33 -> 0.40). The state at any position is
/// fixed by the last `warm` bytes (the longest pattern): it is the longest end of the text
/// read that begins a pattern. So every part but the first starts from the start state `warm`
/// bytes before its own first byte and reports only matches from that byte on; the first part
/// goes on from `sid`, and the last part's final state is the chunk's. Chunks are cut in two
/// from four warm-ups' length, in four from sixteen, in eight from thirty-two, so a part's own
/// bytes are at least one and a half times its warm-up.
fn run<A: Automaton>(
    a: &A,
    sid: StateID,
    chunk: &[u8],
    lanes: Lanes,
    out: &mut Vec<(u32, usize)>,
) -> StateID {
    let per_part = 2 * lanes.warm.max(16);
    if chunk.len() >= 16 * per_part {
        run_parts::<8, A>(a, sid, chunk, lanes, out)
    } else if chunk.len() >= 8 * per_part {
        run_parts::<4, A>(a, sid, chunk, lanes, out)
    } else if chunk.len() >= 2 * per_part {
        run_parts::<2, A>(a, sid, chunk, lanes, out)
    } else {
        run_from(a, sid, chunk, 0, 0, out)
    }
}

/// [`run`] in `N` parts (`chunk` is at least `N` times 4 `warm` bytes long).
// One index walks the N parts together; zipped iterators (tried for four parts) measured
// slower on JSON (0.59 against 0.75 GB/s).
#[allow(clippy::needless_range_loop)]
fn run_parts<const N: usize, A: Automaton>(
    a: &A,
    sid: StateID,
    chunk: &[u8],
    lanes: Lanes,
    out: &mut Vec<(u32, usize)>,
) -> StateID {
    let (len, warm) = (chunk.len(), lanes.warm);
    // Parts of equal work: the first is `seg` bytes, every other `seg` with its warm-up.
    let seg = (len + (N - 1) * warm) / N;
    let from: [usize; N] = std::array::from_fn(|j| j * (seg - warm) + usize::from(j > 0) * warm);
    let begin: [usize; N] = std::array::from_fn(|j| from[j] - usize::from(j > 0) * warm);
    let end: [usize; N] = std::array::from_fn(|j| if j + 1 < N { from[j + 1] } else { len });
    let steps = (0..N).map(|j| end[j] - begin[j]).min().unwrap_or(0);
    let parts: [&[u8]; N] = std::array::from_fn(|j| &chunk[begin[j]..begin[j] + steps]);
    let before = out.len();
    let mut s = [lanes.start; N];
    s[0] = sid;
    for k in 0..steps {
        for j in 0..N {
            step(a, &mut s[j], parts[j][k], begin[j] + k, from[j], out);
        }
    }
    for j in 0..N {
        let at = begin[j] + steps;
        s[j] = run_from(a, s[j], &chunk[at..end[j]], at, from[j], out);
    }
    // Matches are rare; the parts' are put back in order of position (stable: the order of
    // patterns at one position stays the automaton's).
    out[before..].sort_by_key(|&(_, i)| i);
    s[N - 1]
}

/// One pass over `bytes`, which begin at index `base` of the chunk, reporting matches whose
/// last byte is at index `from` or later. Not inlined: in its own function the state stays in a
/// register (inlined into [`StreamScan::feed`] it was kept on the stack, a store and a load
/// more in every step's chain).
#[inline(never)]
fn run_from<A: Automaton>(
    a: &A,
    mut sid: StateID,
    bytes: &[u8],
    base: usize,
    from: usize,
    out: &mut Vec<(u32, usize)>,
) -> StateID {
    for (k, &b) in bytes.iter().enumerate() {
        step(a, &mut sid, b, base + k, from, out);
    }
    sid
}

#[inline(always)]
fn step<A: Automaton>(
    a: &A,
    sid: &mut StateID,
    b: u8,
    i: usize,
    from: usize,
    out: &mut Vec<(u32, usize)>,
) {
    *sid = a.next_state(Anchored::No, *sid, b);
    if a.is_special(*sid) {
        matched(a, *sid, i, from, out);
    }
}

/// Out of the loop: the few steps that reach a special state would otherwise crowd the loop's
/// registers.
#[cold]
#[inline(never)]
fn matched<A: Automaton>(a: &A, sid: StateID, i: usize, from: usize, out: &mut Vec<(u32, usize)>) {
    if a.is_match(sid) && i >= from {
        for k in 0..a.match_len(sid) {
            out.push((a.match_pattern(sid, k).as_u32(), i));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::Profile;
    use base64::Engine as _;
    use sha1::{Digest, Sha1};

    const PROFILE: &str = r#"
[identifiers]
imei = "356938035643809"
phone = "+886 912 345 678"
wifi_mac = "02:00:00:ab:cd:56"
[owner]
email = "mei@example.com"
[[locations]]
lat = 25.0339639
lon = 121.5644722
"#;

    #[test]
    fn a_chunk_run_in_parts_matches_one_pass() {
        let (v, s) = scanner();
        let Engine::Dfa(a) = &s.engine else {
            panic!("a small profile compiles to a DFA")
        };
        let lanes = s.lanes();
        assert!(lanes.warm >= 64, "{}", lanes.warm);
        // Values planted densely in filler, so that parts begin and end inside many of them.
        let mut x = 7u32;
        let mut text = Vec::new();
        for round in 0..400 {
            for _ in 0..(x % 90) {
                x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                text.push(b"0123456789abcdefXYZ=&%"[(x >> 16) as usize % 22]);
            }
            let list = v.list();
            text.extend_from_slice(&list[(round * 7) % list.len()].bytes);
        }
        assert!(text.len() > 40 * lanes.warm);
        // Coming into the chunk in the middle of a value: the first part goes on from there.
        let incoming = run_from(a, s.start(), b"3569380356", 0, 0, &mut Vec::new());
        assert_ne!(incoming, s.start());
        for sid in [s.start(), incoming] {
            for len in (0..text.len())
                .step_by(97)
                .chain([4 * lanes.warm, 32 * lanes.warm])
            {
                let chunk = &text[..len];
                let (mut whole, mut parts) = (Vec::new(), Vec::new());
                let end_whole = run_from(a, sid, chunk, 0, 0, &mut whole);
                let end_parts = run(a, sid, chunk, lanes, &mut parts);
                assert_eq!(parts, whole, "length {len}");
                assert_eq!(end_parts, end_whole, "length {len}");
            }
        }
    }

    fn scanner() -> (Variants, Arc<Scanner>) {
        let (p, _) = Profile::parse(PROFILE, "t").unwrap();
        let v = Variants::build(&p);
        let s = Arc::new(Scanner::new(&v).unwrap());
        (v, s)
    }

    fn scan_all(s: &Arc<Scanner>, parts: &[&[u8]]) -> Vec<Hit> {
        let mut out = Vec::new();
        s.scan(parts, &mut out);
        out.sort();
        out
    }

    fn described(v: &Variants, hits: &[Hit]) -> Vec<String> {
        hits.iter()
            .map(|h| {
                let x = v.get(h.variant).unwrap();
                format!(
                    "{}:{}:{}@{}",
                    x.label,
                    x.form,
                    x.encoding.join("-"),
                    h.offset
                )
            })
            .collect()
    }

    fn haystack() -> Vec<u8> {
        let sha = hex::encode_upper(Sha1::digest(b"356938035643809"));
        let b64 = base64::engine::general_purpose::STANDARD.encode(b"{\"n\":\"+886912345678\"}");
        format!(
            "GET /t?id={sha}&p=%2B886912345678 HTTP/1.1\r\nX-Mac: 02-00-00-AB-CD-56\r\n\r\n\
             {{\"b\":\"{b64}\",\"mail\":\"Mei@Example.COM\",\"lat\":25.03396,\"lng\":121.56447,\"t\":0912345678}}"
        )
        .into_bytes()
    }

    #[test]
    fn finds_each_planted_form() {
        let (v, s) = scanner();
        let hits = described(&v, &scan_all(&s, &[&haystack()]));
        for want in [
            "imei:15_digits:sha1-hex",
            "phone:e164:url",
            "wifi_mac:dashes:",
            "phone:e164:base64",
            "owner.email:folded:",
            "locations[0]:5dp:",
            "phone:national:",
        ] {
            assert!(
                hits.iter().any(|h| h.starts_with(want)),
                "{want} not in {hits:?}"
            );
        }
    }

    #[test]
    fn every_split_gives_the_same_hits() {
        let (_, s) = scanner();
        let hay = haystack();
        let whole = scan_all(&s, &[&hay]);
        assert!(!whole.is_empty());
        for cut in 0..=hay.len() {
            let (a, b) = hay.split_at(cut);
            assert_eq!(scan_all(&s, &[a, b]), whole, "cut at {cut}");
        }
        // Byte by byte too.
        let bytes: Vec<&[u8]> = hay.chunks(1).collect();
        assert_eq!(scan_all(&s, &bytes), whole);
    }

    #[test]
    fn a_stream_moved_from_the_nfa_to_the_dfa_anywhere_finds_the_same() {
        let (v, dfa) = scanner();
        assert!(dfa.is_dfa());
        let nfa = Arc::new(Scanner::new_nfa(&v).unwrap());
        assert!(!nfa.is_dfa());
        let hay = haystack();
        let whole = scan_all(&dfa, &[&hay]);
        assert_eq!(scan_all(&nfa, &[&hay]), whole);
        // Moved after every byte, the stream cut in 7-byte chunks: values cross the move.
        for moved in 0..=hay.len() {
            let mut stream = nfa.stream();
            let mut out = Vec::new();
            let mut offset = 0usize;
            for chunk in hay.chunks(7) {
                if offset >= moved && !Arc::ptr_eq(stream.scanner(), &dfa) {
                    stream.upgrade(&dfa);
                    assert!(Arc::ptr_eq(stream.scanner(), &dfa));
                }
                stream.feed(chunk, offset as u64, &mut out);
                offset += chunk.len();
            }
            stream.finish(&mut out);
            out.sort();
            assert_eq!(out, whole, "moved at {moved}");
        }
        // Before any byte, and after a gap: the start state.
        let mut stream = nfa.stream();
        stream.upgrade(&dfa);
        let mut out = Vec::new();
        stream.feed(&hay, 0, &mut out);
        stream.finish(&mut out);
        out.sort();
        assert_eq!(out, whole);
    }

    #[test]
    fn decoys_give_nothing() {
        let (v, s) = scanner();
        let sha = hex::encode(Sha1::digest(b"356938035643808"));
        let decoys: &[&[u8]] = &[
            b"imei=356938035643808&",     // check digit changed
            b"imei=356938135643809&",     // body digit changed
            b"imei=3569380356438091",     // inside a longer number
            sha.as_bytes(),               // digest of the changed IMEI
            b"p=%2B886912345679",         // another phone
            b"t=10912345678",             // national number inside a longer one
            b"MEI@EXAMPLE.ORG",           // another email
            b"{\"lat\":25.03396,\"x\":1}", // a latitude alone
            b"{\"lat\":25.03396,\"pad\":\"..................................................................\",\"lng\":121.56447}",
            b"lat=125.03396&lng=121.56447", // not the latitude: preceded by a digit
        ];
        for d in decoys {
            let hits = scan_all(&s, &[d]);
            assert!(
                hits.is_empty(),
                "{}: {:?}",
                String::from_utf8_lossy(d),
                described(&v, &hits)
            );
        }
    }

    #[test]
    fn location_only_as_a_pair() {
        let (v, s) = scanner();
        let hits = scan_all(&s, &[b"lat=25.033964&lon=121.564472;"]);
        assert_eq!(hits.len(), 1, "{:?}", described(&v, &hits));
        let h = hits[0];
        // Reported when the first longitude form completes ("121.564", 3 decimals); the longer
        // forms starting at the same byte are the same pair.
        assert_eq!((h.offset, h.len), (4, 21));
        let (lon, at) = h.partner.unwrap();
        assert_eq!(v.get(lon).unwrap().coord.unwrap().1, Axis::Lon);
        assert_eq!(at, 18);
        // E7 integers, longitude first.
        let hits = scan_all(&s, &[b"{\"lo\":1215644722,\"la\":250339639}"]);
        assert_eq!(hits.len(), 1, "{:?}", described(&v, &hits));
    }

    #[test]
    fn encoded_location_pairs() {
        let (v, s) = scanner();
        let utf16 = |t: &str| -> Vec<u8> { t.encode_utf16().flat_map(u16::to_le_bytes).collect() };
        // A pair in UTF-16 (as a Java string's bytes) and in hex, 20 characters apart.
        for hay in [
            utf16("{\"lat\":25.033964,\"lon\":121.564472}"),
            hex::encode("x=25.033964,121.564472").into_bytes(),
            utf16("250339639,1215644722"),
        ] {
            let hits = scan_all(&s, &[&hay]);
            assert_eq!(hits.len(), 1, "{:?}", described(&v, &hits));
            assert!(hits[0].partner.is_some());
        }
        // 50 characters apart: within the window in UTF-16 (100 bytes) as in text (50).
        let gap = "x".repeat(40);
        let text = format!("lat=25.033964 {gap} lon=121.564472");
        assert_eq!(scan_all(&s, &[text.as_bytes()]).len(), 1);
        assert_eq!(scan_all(&s, &[&utf16(&text)]).len(), 1);
        // A lone half in UTF-16 is no location; neither is a pair 80 characters apart.
        assert!(scan_all(&s, &[&utf16("lat=25.033964;")]).is_empty());
        let gap = "x".repeat(70);
        let text = format!("lat=25.033964 {gap} lon=121.564472");
        assert!(scan_all(&s, &[&utf16(&text)]).is_empty());
        assert!(scan_all(&s, &[text.as_bytes()]).is_empty());
    }

    #[test]
    fn gaps_and_overlaps() {
        let (_, s) = scanner();
        let mut st = s.stream();
        let mut out = Vec::new();
        // The IMEI cut by a hole is not found.
        st.feed(b"id=3569380356", 0, &mut out);
        st.feed(b"43809;", 20, &mut out);
        assert!(out.is_empty());
        assert_eq!(st.gaps, 1);
        // A retransmission overlapping scanned bytes is scanned from the first new byte.
        let mut st = s.stream();
        st.feed(b"id=3569380356", 0, &mut out);
        st.feed(b"0356438", 9, &mut out);
        st.feed(b"09;", 16, &mut out);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].offset, 3);
    }

    #[test]
    fn utf16_and_exact_case() {
        let (v, s) = scanner();
        let utf16: Vec<u8> = "x+886912345678y"
            .encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect();
        let hits = described(&v, &scan_all(&s, &[&utf16]));
        assert!(
            hits.iter().any(|h| h.starts_with("phone:e164:utf16le")),
            "{hits:?}"
        );
        // Base64 is case-sensitive: the swapped-case text is not a hit.
        let b64 = base64::engine::general_purpose::STANDARD.encode(b"+886912345678");
        let swapped: String = b64
            .chars()
            .map(|c| {
                if c.is_ascii_uppercase() {
                    c.to_ascii_lowercase()
                } else {
                    c.to_ascii_uppercase()
                }
            })
            .collect();
        let hits = described(&v, &scan_all(&s, &[swapped.as_bytes()]));
        assert!(!hits.iter().any(|h| h.contains("base64")), "{hits:?}");
    }

    /// Throughput on pseudo-random text for a 20-value profile; run with
    /// `cargo test -p phonehome-detect --release -- --ignored --nocapture speed`.
    #[test]
    #[ignore = "measurement"]
    fn speed() {
        let text = r#"
[identifiers]
imei = "356938035643809"
imei2 = "356938035643817"
imsi = "466920123456789"
iccid = "8988692012345678901"
phone = "+886 912 345 678"
serial = "R58M1234ABC"
android_id = "9774d56d682e549c"
advertising_id = "38400000-8cf0-11bd-b23e-10b96e40000d"
wifi_mac = "02:00:00:ab:cd:56"
bt_mac = "02:00:00:ab:cd:57"
[owner]
name = "Chen Mei-Ling"
email = "meiling@example.com"
[[contacts]]
name = "Lin Chih-Hao"
phone = "+886 987 654 321"
[[contacts]]
name = "Wang Xiao-Ming"
phone = "+886 933 111 222"
[[sms]]
body = "Your code is 482913"
from = "+886 911 222 333"
[[locations]]
lat = 25.0339639
lon = 121.5644722
[[secrets]]
label = "wifi"
value = "correct horse battery staple"
"#;
        let (p, _) = Profile::parse(text, "t").unwrap();
        let v = Variants::build(&p);
        let t = std::time::Instant::now();
        let s = Arc::new(Scanner::new(&v).unwrap());
        let build = t.elapsed();
        // xorshift text: letters, digits and punctuation, like HTTP and JSON.
        let mut x = 0x2545_f491_4f6c_dd1du64;
        let alphabet = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789:=&\"{},. /";
        let hay: Vec<u8> = (0..64 << 20)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                alphabet[(x % alphabet.len() as u64) as usize]
            })
            .collect();
        let mut st = s.stream();
        let mut out = Vec::new();
        let t = std::time::Instant::now();
        let mut off = 0u64;
        for c in hay.chunks(1460) {
            st.feed(c, off, &mut out);
            off += c.len() as u64;
        }
        let dt = t.elapsed();
        println!(
            "{} variants ({} too short), max len {}, {} automaton, {} KiB, built in {:?}; \
             scanned 64 MiB in {:?} = {:.2} GB/s, {} hits",
            v.list().len(),
            v.too_short,
            s.max_pattern_len(),
            if s.is_dfa() { "DFA" } else { "contiguous NFA" },
            s.memory_usage() / 1024,
            build,
            dt,
            (64u64 << 20) as f64 / dt.as_secs_f64() / 1e9,
            out.len()
        );
    }
}

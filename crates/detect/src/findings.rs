//! Hits become findings: one per (flow, variant), with a count.
//!
//! A value an app sends on every request would otherwise fill the report with identical lines;
//! the report says it once, how many times, and where it was first seen. The number of distinct
//! findings is capped ([`MAX_FINDINGS`]); hits beyond the cap are counted in
//! [`Findings::dropped`], never silently lost.
//!
//! Hits of the pattern detectors ([`crate::patterns`], used without a device profile) become
//! findings too, one per (flow, data type, detector, key, value); they share the cap. They have
//! no variant: their [`Finding::variant`] is [`PATTERN_VARIANT`].

use std::collections::HashMap;

use phonehome_capture::Timestamp;

use crate::patterns::PatternHit;
use crate::scanner::Hit;
use crate::variants::{Confidence, DataType, Variants};

/// Distinct findings kept in one run.
pub const MAX_FINDINGS: usize = 65_536;
/// Frame numbers remembered per finding.
pub const MAX_FRAMES: usize = 8;
/// The [`Finding::variant`] of a pattern finding, which stands for no profile variant.
pub const PATTERN_VARIANT: u32 = u32::MAX;
/// The [`Finding::detector`] of a profile finding.
pub const PROFILE_DETECTOR: &str = "profile";

/// Which way the data went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Direction {
    /// From the client (the device, usually) to the server: the leak.
    ClientToServer,
    /// From the server back to the client (a value echoed or handed out).
    ServerToClient,
}

impl Direction {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::ClientToServer => "client_to_server",
            Self::ServerToClient => "server_to_client",
        }
    }
}

/// Where a hit was seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Seen {
    /// The flow's number in the report.
    pub flow: u64,
    pub direction: Direction,
    pub ts: Timestamp,
    /// The frame carrying the hit's first byte.
    pub frame: u64,
}

/// One kind of personal data seen in one flow, in one form.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    /// Always `"personal_data"` for profile hits.
    pub kind: &'static str,
    pub data_type: DataType,
    /// The profile entry (never the value itself); for a pattern finding, the key it was under,
    /// or the detector's name when it had none.
    pub label: String,
    /// The variant's transforms in the order applied to the value (`["sha1", "hex"]`); empty
    /// for the value in clear.
    pub encoding: Vec<String>,
    /// The decoding layers the hit was found under, outermost first (`["http", "gzip",
    /// "json"]`); empty for bytes scanned as they came off the stream.
    pub layers: Vec<String>,
    /// The normal form of the value that matched (`e164`, `national`, ...); `"pattern"` for a
    /// pattern finding.
    pub form: &'static str,
    pub confidence: Confidence,
    pub count: u64,
    pub flow: u64,
    /// Direction, time and stream offset of the first hit.
    pub direction: Direction,
    pub ts: Timestamp,
    pub offset: u64,
    /// The first [`MAX_FRAMES`] frames with a hit, in the order seen.
    pub frames: Vec<u64>,
    /// The variant that matched (for a location, the latitude's); [`PATTERN_VARIANT`] for a
    /// pattern finding.
    pub variant: u32,
    /// What found it: [`PROFILE_DETECTOR`], or a pattern detector's name (`imei-luhn`,
    /// `phone`, `key:imsi`, ... see [`PatternHit::detector`]).
    pub detector: &'static str,
    /// For a pattern finding, the key the value was under (lowercased, capped).
    pub key: Option<String>,
    /// For a pattern finding, the value in its normal form, for the report to mask or show;
    /// profile findings never carry the value.
    pub value: Option<String>,
    /// The bytes around the first hit, printable, the hit itself replaced by `[data_type]`
    /// (set by the caller, which holds the bytes).
    pub excerpt: Option<String>,
    /// The same bytes with nothing replaced, for `--show-values`.
    pub excerpt_clear: Option<String>,
    /// For a hit inside a DNS query name: the zone queried (its registrable domain), whose
    /// servers receive the name whatever resolver carries it.
    pub zone: Option<String>,
}

/// What makes two pattern hits one finding.
type PatternKey = (
    u64,
    Direction,
    DataType,
    &'static str,
    Option<String>,
    String,
);

/// Collects hits into findings, deduplicated per (flow, direction, variant, layers): a value
/// the server sends back is a sighting of its own.
#[derive(Debug, Default)]
pub struct Findings {
    list: Vec<Finding>,
    index: HashMap<(u64, Direction, u32, Vec<String>), usize>,
    patterns: HashMap<PatternKey, usize>,
    /// Hits not recorded because [`MAX_FINDINGS`] was reached.
    pub dropped: u64,
}

impl Findings {
    pub fn new() -> Self {
        Self::default()
    }

    /// Records one hit found under `layers` (outermost first); returns the finding when the
    /// hit started a new one, for the caller to add what it knows (excerpt, zone).
    pub fn record(
        &mut self,
        variants: &Variants,
        hit: &Hit,
        seen: Seen,
        layers: &[&str],
    ) -> Option<&mut Finding> {
        let v = variants.get(hit.variant)?;
        let layers: Vec<String> = layers.iter().map(|s| (*s).to_owned()).collect();
        let key = (seen.flow, seen.direction, hit.variant, layers);
        if let Some(&i) = self.index.get(&key) {
            self.seen_again(i, seen.frame);
            return None;
        }
        if self.full() {
            return None;
        }
        self.index.insert(key.clone(), self.list.len());
        self.list.push(Finding {
            kind: "personal_data",
            data_type: v.data_type,
            label: v.label.clone(),
            encoding: v.encoding.iter().map(|s| (*s).to_owned()).collect(),
            layers: key.3,
            form: v.form,
            confidence: v.confidence,
            count: 1,
            flow: seen.flow,
            direction: seen.direction,
            ts: seen.ts,
            offset: hit.offset,
            frames: vec![seen.frame],
            variant: hit.variant,
            detector: PROFILE_DETECTOR,
            key: None,
            value: None,
            excerpt: None,
            excerpt_clear: None,
            zone: None,
        });
        self.list.last_mut()
    }

    /// Records one pattern hit found under `layers` (outermost first). Hits of one flow with
    /// the same data type, detector, key and value are one finding with a count; the layers,
    /// time and confidence are the first hit's. `hit.offset` is taken as the stream offset:
    /// callers that scanned a piece of the stream add the piece's own offset first.
    pub fn record_pattern(
        &mut self,
        hit: &PatternHit,
        seen: Seen,
        layers: &[&str],
    ) -> Option<&mut Finding> {
        let key: PatternKey = (
            seen.flow,
            seen.direction,
            hit.data_type,
            hit.detector,
            hit.key.clone(),
            hit.value.clone(),
        );
        if let Some(&i) = self.patterns.get(&key) {
            if let Some(f) = self.seen_again(i, seen.frame) {
                // The surest sighting speaks for the finding.
                f.confidence = f.confidence.max(hit.confidence);
            }
            return None;
        }
        if self.full() {
            return None;
        }
        self.patterns.insert(key, self.list.len());
        self.list.push(Finding {
            kind: "personal_data",
            data_type: hit.data_type,
            label: hit.key.clone().unwrap_or_else(|| hit.detector.to_owned()),
            encoding: Vec::new(),
            layers: layers.iter().map(|s| (*s).to_owned()).collect(),
            form: "pattern",
            confidence: hit.confidence,
            count: 1,
            flow: seen.flow,
            direction: seen.direction,
            ts: seen.ts,
            offset: u64::try_from(hit.offset).unwrap_or(u64::MAX),
            frames: vec![seen.frame],
            variant: PATTERN_VARIANT,
            detector: hit.detector,
            key: hit.key.clone(),
            value: Some(hit.value.clone()),
            excerpt: None,
            excerpt_clear: None,
            zone: None,
        });
        self.list.last_mut()
    }

    /// Counts one more sighting of finding `i`, in `frame`.
    fn seen_again(&mut self, i: usize, frame: u64) -> Option<&mut Finding> {
        let f = self.list.get_mut(i)?;
        f.count = f.count.saturating_add(1);
        if f.frames.len() < MAX_FRAMES && f.frames.last() != Some(&frame) {
            f.frames.push(frame);
        }
        Some(f)
    }

    /// Whether [`MAX_FINDINGS`] are kept already; the hit that found it so is counted dropped.
    fn full(&mut self) -> bool {
        let full = self.list.len() >= MAX_FINDINGS;
        if full {
            self.dropped = self.dropped.saturating_add(1);
        }
        full
    }

    pub fn len(&self) -> usize {
        self.list.len()
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// The findings, ordered by flow, then time of first hit, then variant.
    pub fn into_vec(self) -> Vec<Finding> {
        let mut list = self.list;
        list.sort_by(|a, b| {
            (a.flow, a.ts, a.offset, a.variant).cmp(&(b.flow, b.ts, b.offset, b.variant))
        });
        list
    }
}

/// Bytes of context kept on each side of a hit in an excerpt.
pub const EXCERPT_CONTEXT: usize = 32;

/// The bytes around `bytes[start..start + len]`, the hit itself replaced by `[label]`:
/// printable ASCII kept, anything else shown as `.`, so an excerpt is one safe line of text.
/// Out-of-range positions are clamped (a hit that began in an earlier chunk of a stream).
pub fn excerpt(bytes: &[u8], start: usize, len: usize, label: &str) -> String {
    excerpt_masking(bytes, start, len, &[(start, len, label)])
}

/// Like [`excerpt`], every span of `mask` (start, length, label) that falls in the window
/// also replaced by its label: other values found in the same bytes stay hidden too.
pub fn excerpt_masking(
    bytes: &[u8],
    start: usize,
    len: usize,
    mask: &[(usize, usize, &str)],
) -> String {
    let start = start.min(bytes.len());
    let end = start.saturating_add(len).min(bytes.len());
    let from = start.saturating_sub(EXCERPT_CONTEXT);
    let to = end.saturating_add(EXCERPT_CONTEXT).min(bytes.len());
    let mut spans: Vec<(usize, usize, &str)> = mask
        .iter()
        .map(|&(s, l, t)| (s.min(bytes.len()), s.saturating_add(l).min(bytes.len()), t))
        .filter(|&(s, e, _)| (s < to && e > from) || (s == e && s == start))
        .collect();
    spans.sort_unstable();
    let mut out = String::with_capacity(to - from + 16);
    let mut at = from;
    let mut next = spans.iter().peekable();
    while at < to {
        while next.peek().is_some_and(|&&(s, e, _)| e <= at && s != e) {
            next.next();
        }
        if let Some(&&(s, e, label)) = next.peek() {
            if s <= at {
                out.push('[');
                out.push_str(label);
                out.push(']');
                if e > s {
                    at = e.min(to).max(at + 1);
                }
                next.next();
                continue;
            }
        }
        let c = bytes[at];
        out.push(if c == b' ' || c.is_ascii_graphic() {
            char::from(c)
        } else {
            '.'
        });
        at += 1;
    }
    // A hit clamped to the very end (it began past the bytes kept) is still named.
    for &(_, _, label) in next.filter(|&&(s, e, _)| s == e && s >= at) {
        out.push('[');
        out.push_str(label);
        out.push(']');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::Profile;

    fn seen(flow: u64, frame: u64) -> Seen {
        Seen {
            flow,
            direction: Direction::ClientToServer,
            ts: Timestamp::from_nanos(i64::try_from(frame).unwrap() * 1_000),
            frame,
        }
    }

    #[test]
    fn dedup_per_flow_and_variant() {
        let (p, _) = Profile::parse("[identifiers]\nimei = \"356938035643809\"\n", "t").unwrap();
        let v = Variants::build(&p);
        let sha = v
            .list()
            .iter()
            .find(|x| x.encoding == ["sha1", "hex"])
            .unwrap()
            .id;
        let hit = |variant, offset| Hit {
            variant,
            offset,
            len: 40,
            partner: None,
        };
        let mut f = Findings::new();
        for frame in 1..=12 {
            f.record(&v, &hit(sha, frame * 100), seen(1, frame), &[]);
        }
        f.record(&v, &hit(0, 5), seen(1, 3), &[]);
        f.record(&v, &hit(sha, 7), seen(2, 20), &[]);
        f.record(&v, &hit(sha, 9), seen(2, 21), &["http", "gzip"]);
        f.record(&v, &hit(9999, 9), seen(2, 21), &[]); // unknown variant: ignored
        let list = f.into_vec();
        let summary: Vec<(u64, &str, &[String], u64, usize)> = list
            .iter()
            .map(|x| {
                (
                    x.flow,
                    x.data_type.as_str(),
                    x.encoding.as_slice(),
                    x.count,
                    x.frames.len(),
                )
            })
            .collect();
        let sha1_hex = ["sha1".to_owned(), "hex".to_owned()];
        assert_eq!(
            summary,
            [
                (1, "imei", &sha1_hex[..], 12, MAX_FRAMES),
                (1, "imei", &[][..], 1, 1),
                (2, "imei", &sha1_hex[..], 1, 1),
                (2, "imei", &sha1_hex[..], 1, 1),
            ]
        );
        assert_eq!(list[0].frames, [1, 2, 3, 4, 5, 6, 7, 8]);
        assert_eq!(
            (list[0].kind, list[0].label.as_str(), list[0].offset),
            ("personal_data", "imei", 100)
        );
        assert_eq!(list[3].layers, ["http", "gzip"]);
    }

    fn pattern(
        detector: &'static str,
        key: Option<&str>,
        value: &str,
        offset: usize,
    ) -> PatternHit {
        PatternHit {
            data_type: DataType::Imei,
            confidence: Confidence::Low,
            detector,
            key: key.map(str::to_owned),
            offset,
            len: value.len(),
            value: value.to_owned(),
        }
    }

    #[test]
    fn a_value_sent_back_by_the_server_is_a_finding_of_its_own() {
        let mut f = Findings::new();
        let hit = pattern("imei-luhn", Some("imei"), "356938035643809", 8);
        f.record_pattern(&hit, seen(1, 1), &["http"]);
        f.record_pattern(&hit, seen(1, 2), &["http"]);
        let back = Seen {
            direction: Direction::ServerToClient,
            ..seen(1, 3)
        };
        f.record_pattern(&hit, back, &["http"]);
        let list = f.into_vec();
        assert_eq!(list.len(), 2);
        let up = list
            .iter()
            .find(|x| x.direction == Direction::ClientToServer)
            .unwrap();
        assert_eq!(up.count, 2);
        let down = list
            .iter()
            .find(|x| x.direction == Direction::ServerToClient)
            .unwrap();
        assert_eq!((down.count, &down.frames[..]), (1, &[3][..]));
    }

    #[test]
    fn pattern_hits_dedup_per_flow_detector_key_and_value() {
        let mut f = Findings::new();
        let loose = pattern("imei-luhn", None, "356938035643809", 40);
        for frame in 1..=10 {
            f.record_pattern(&loose, seen(1, frame), &["http"]);
        }
        let mut keyed = pattern("imei-luhn", Some("imei"), "356938035643809", 8);
        keyed.confidence = Confidence::High;
        f.record_pattern(&keyed, seen(1, 2), &["http"]);
        f.record_pattern(
            &pattern("imei-luhn", None, "867400022047199", 9),
            seen(1, 3),
            &[],
        );
        f.record_pattern(&loose, seen(2, 4), &[]);
        let list = f.into_vec();
        type Row<'a> = (u64, &'a str, &'a str, Option<&'a str>, Option<&'a str>, u64);
        let summary: Vec<Row<'_>> = list
            .iter()
            .map(|x| {
                (
                    x.flow,
                    x.detector,
                    x.label.as_str(),
                    x.key.as_deref(),
                    x.value.as_deref(),
                    x.count,
                )
            })
            .collect();
        assert_eq!(
            summary,
            [
                (
                    1,
                    "imei-luhn",
                    "imei-luhn",
                    None,
                    Some("356938035643809"),
                    10
                ),
                (
                    1,
                    "imei-luhn",
                    "imei",
                    Some("imei"),
                    Some("356938035643809"),
                    1
                ),
                (
                    1,
                    "imei-luhn",
                    "imei-luhn",
                    None,
                    Some("867400022047199"),
                    1
                ),
                (
                    2,
                    "imei-luhn",
                    "imei-luhn",
                    None,
                    Some("356938035643809"),
                    1
                ),
            ]
        );
        assert_eq!(list[0].frames, [1, 2, 3, 4, 5, 6, 7, 8]);
        assert_eq!(
            (list[0].variant, list[0].form, list[0].offset, list[0].kind),
            (PATTERN_VARIANT, "pattern", 40, "personal_data")
        );
        assert_eq!(list[0].layers, ["http"]);
        assert_eq!(list[1].confidence, Confidence::High);
    }

    #[test]
    fn pattern_and_profile_findings_share_the_cap() {
        let (p, _) = Profile::parse("[identifiers]\nimei = \"356938035643809\"\n", "t").unwrap();
        let v = Variants::build(&p);
        let mut f = Findings::new();
        let hit = Hit {
            variant: 0,
            offset: 0,
            len: 15,
            partner: None,
        };
        for flow in 0..(MAX_FINDINGS as u64 - 1) {
            f.record(&v, &hit, seen(flow, 1), &[]);
        }
        let loose = pattern("imei-luhn", None, "356938035643809", 0);
        f.record_pattern(&loose, seen(1, 1), &[]);
        f.record_pattern(&loose, seen(2, 1), &[]);
        f.record_pattern(&loose, seen(1, 2), &[]); // counted on the kept finding
        assert_eq!((f.len(), f.dropped), (MAX_FINDINGS, 1));
        let list = f.into_vec();
        assert_eq!(
            list.iter().filter(|x| x.detector == "profile").count(),
            MAX_FINDINGS - 1
        );
        assert!(list
            .iter()
            .all(|x| x.detector != "profile" || x.value.is_none()));
    }

    #[test]
    fn cap_counts_what_it_drops() {
        let (p, _) = Profile::parse("[identifiers]\nimei = \"356938035643809\"\n", "t").unwrap();
        let v = Variants::build(&p);
        let mut f = Findings::new();
        let hit = Hit {
            variant: 0,
            offset: 0,
            len: 15,
            partner: None,
        };
        for flow in 0..(MAX_FINDINGS as u64 + 10) {
            f.record(&v, &hit, seen(flow, 1), &[]);
        }
        assert_eq!((f.len(), f.dropped), (MAX_FINDINGS, 10));
    }

    #[test]
    fn an_excerpt_hides_the_hit_and_keeps_printable_context() {
        let bytes = b"\x01GET /a?imei=356938035643809&x=1\r\n";
        let start = 13;
        assert_eq!(&bytes[start..start + 15], b"356938035643809");
        assert_eq!(
            excerpt(bytes, start, 15, "imei"),
            ".GET /a?imei=[imei]&x=1.."
        );
        let long = [b'a'; 100];
        let e = excerpt(&long, 50, 4, "phone");
        assert_eq!(e.len(), 2 * EXCERPT_CONTEXT + "[phone]".len());
        // Positions past the end are clamped, never a panic.
        assert_eq!(excerpt(b"abc", 10, 5, "x"), "abc[x]");
        // Other values in the window are hidden as well, overlapping spans once.
        let b = b"imei=111&mac=22:33&id=444";
        assert_eq!(
            excerpt_masking(b, 5, 3, &[(5, 3, "imei"), (13, 5, "mac"), (14, 2, "x")]),
            "imei=[imei]&mac=[mac]&id=444"
        );
    }
}

//! Hits become findings: one per (flow, variant), with a count.
//!
//! A value an app sends on every request would otherwise fill the report with identical lines;
//! the report says it once, how many times, and where it was first seen. The number of distinct
//! findings is capped ([`MAX_FINDINGS`]); hits beyond the cap are counted in
//! [`Findings::dropped`], never silently lost.

use std::collections::HashMap;

use phonehome_capture::Timestamp;

use crate::scanner::Hit;
use crate::variants::{Confidence, DataType, Variants};

/// Distinct findings kept in one run.
pub const MAX_FINDINGS: usize = 65_536;
/// Frame numbers remembered per finding.
pub const MAX_FRAMES: usize = 8;

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
    /// The profile entry (never the value itself).
    pub label: String,
    /// The variant's transforms in the order applied to the value (`["sha1", "hex"]`); empty
    /// for the value in clear.
    pub encoding: Vec<String>,
    /// The decoding layers the hit was found under, outermost first (`["http", "gzip",
    /// "json"]`); empty for bytes scanned as they came off the stream.
    pub layers: Vec<String>,
    /// The normal form of the value that matched (`e164`, `national`, ...).
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
    /// The variant that matched (for a location, the latitude's).
    pub variant: u32,
}

/// Collects hits into findings, deduplicated per (flow, variant, layers).
#[derive(Debug, Default)]
pub struct Findings {
    list: Vec<Finding>,
    index: HashMap<(u64, u32, Vec<String>), usize>,
    /// Hits not recorded because [`MAX_FINDINGS`] was reached.
    pub dropped: u64,
}

impl Findings {
    pub fn new() -> Self {
        Self::default()
    }

    /// Records one hit found under `layers` (outermost first).
    pub fn record(&mut self, variants: &Variants, hit: &Hit, seen: Seen, layers: &[&str]) {
        let Some(v) = variants.get(hit.variant) else {
            return;
        };
        let layers: Vec<String> = layers.iter().map(|s| (*s).to_owned()).collect();
        let key = (seen.flow, hit.variant, layers);
        if let Some(&i) = self.index.get(&key) {
            if let Some(f) = self.list.get_mut(i) {
                f.count = f.count.saturating_add(1);
                if f.frames.len() < MAX_FRAMES && f.frames.last() != Some(&seen.frame) {
                    f.frames.push(seen.frame);
                }
            }
            return;
        }
        if self.list.len() >= MAX_FINDINGS {
            self.dropped = self.dropped.saturating_add(1);
            return;
        }
        self.index.insert(key.clone(), self.list.len());
        self.list.push(Finding {
            kind: "personal_data",
            data_type: v.data_type,
            label: v.label.clone(),
            encoding: v.encoding.iter().map(|s| (*s).to_owned()).collect(),
            layers: key.2,
            form: v.form,
            confidence: v.confidence,
            count: 1,
            flow: seen.flow,
            direction: seen.direction,
            ts: seen.ts,
            offset: hit.offset,
            frames: vec![seen.frame],
            variant: hit.variant,
        });
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
}

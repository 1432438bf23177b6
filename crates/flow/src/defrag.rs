//! IPv4 and IPv6 fragment reassembly (RFC 791 §3.2, RFC 8200 §4.5).
//!
//! Fragments of one datagram share a key: source, destination, protocol (IPv4) or upper-layer
//! protocol (IPv6) and identification — 16 bits in IPv4, 32 in IPv6. The reassembler keeps,
//! per datagram, a buffer and the sorted list of byte ranges received; the datagram is whole
//! when the last fragment (More Fragments clear) fixed its length and the ranges cover it.
//!
//! The first copy of a byte wins and overlaps are counted, conflicting ones apart. RFC 5722
//! tells a host to drop IPv6 datagrams with overlapping fragments; phonehome is not the host
//! and reports what the capture shows, so it keeps the datagram and counts. Every datagram,
//! the bytes held in total, and the number of datagrams pending are bounded; exceeding a
//! bound drops a datagram and counts it, never silently.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::Duration;

use phonehome_capture::Timestamp;

use crate::key::FlowHasher;

/// Where a fragment belongs, as read from an IPv4 header or IPv6 Fragment header.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Fragment {
    /// Identification: 16 bits in IPv4 (RFC 791 §3.1), 32 in IPv6 (RFC 8200 §4.5).
    pub id: u32,
    /// Offset of this fragment's payload in the datagram, in bytes (the wire value × 8).
    pub offset: u32,
    /// More Fragments: clear on the last fragment.
    pub more: bool,
}

/// Reassembly settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DefragLimits {
    /// Largest reassembled payload, in bytes. Default 65 535: the most an IPv4 total
    /// length or an IPv6 payload length can carry without jumbograms (RFC 2675).
    pub max_datagram: u32,
    /// Datagrams being reassembled at once; when full the oldest is dropped. Default 1024.
    pub max_pending: usize,
    /// Bytes held by all pending datagrams; the oldest are dropped to make room.
    /// Default 8 MiB.
    pub max_bytes: u64,
    /// Distinct received ranges per datagram; a datagram cut finer is dropped. Default 128.
    pub max_ranges: usize,
    /// A datagram not complete this long after its first fragment is dropped. Default 30 s
    /// (RFC 791 suggests 15 s, RFC 8200 §4.5 60 s).
    pub timeout: Duration,
}

impl Default for DefragLimits {
    fn default() -> Self {
        Self {
            max_datagram: 65_535,
            max_pending: 1024,
            max_bytes: 8 << 20,
            max_ranges: 128,
            timeout: Duration::from_secs(30),
        }
    }
}

/// Counters of a [`Defragmenter`]. All saturate.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DefragStats {
    /// Fragments pushed.
    pub fragments: u64,
    /// Fragments with offset 0 and More Fragments clear, passed through (RFC 6946).
    pub atomic: u64,
    /// Datagrams reassembled.
    pub completed: u64,
    /// Datagrams dropped incomplete after the timeout.
    pub timed_out: u64,
    /// Datagrams dropped to stay within a limit.
    pub dropped_over_cap: u64,
    /// Fragments overlapping bytes already held, and those whose bytes differed.
    pub overlaps: u64,
    pub conflicts: u64,
    /// Fragments ignored: past `max_datagram`, past the end a last fragment fixed, or a
    /// second last fragment with another end.
    pub malformed: u64,
    /// Datagrams pending now, the bytes they hold, and the most bytes ever held.
    pub pending: u64,
    pub pending_bytes: u64,
    pub peak_bytes: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct Key {
    src: IpAddr,
    dst: IpAddr,
    protocol: u8,
    id: u32,
}

#[derive(Debug)]
struct Pending {
    first: i64,
    /// Arrival order, to break ties between datagrams first seen at the same instant.
    seq: u64,
    buf: Vec<u8>,
    /// Received ranges `[start, end)`, sorted, disjoint and not adjacent.
    ranges: Vec<(u32, u32)>,
    /// Payload length, once the last fragment is seen.
    total: Option<u32>,
}

/// Reassembles fragmented IP datagrams. See the [module documentation](self).
#[derive(Debug)]
pub struct Defragmenter {
    limits: DefragLimits,
    pending: HashMap<Key, Pending, FlowHasher>,
    bytes: u64,
    arrivals: u64,
    stats: DefragStats,
}

fn bump(counter: &mut u64) {
    *counter = counter.saturating_add(1);
}

impl Defragmenter {
    pub fn new(limits: DefragLimits) -> Self {
        Self {
            limits,
            pending: HashMap::with_hasher(FlowHasher::new()),
            bytes: 0,
            arrivals: 0,
            stats: DefragStats::default(),
        }
    }

    pub fn stats(&self) -> DefragStats {
        DefragStats {
            pending: self.pending.len() as u64,
            pending_bytes: self.bytes,
            ..self.stats
        }
    }

    /// Takes one fragment; returns the whole upper-layer payload when this fragment
    /// completes its datagram.
    pub fn push(
        &mut self,
        now: Timestamp,
        src: IpAddr,
        dst: IpAddr,
        protocol: u8,
        fragment: Fragment,
        payload: &[u8],
    ) -> Option<Vec<u8>> {
        bump(&mut self.stats.fragments);
        if fragment.offset == 0 && !fragment.more {
            // RFC 6946 §4: an atomic fragment is processed on its own, apart from any
            // pending fragments with the same identification.
            bump(&mut self.stats.atomic);
            return Some(payload.to_vec());
        }
        let start = fragment.offset;
        let end = u32::try_from(payload.len())
            .ok()
            .and_then(|len| start.checked_add(len))
            .filter(|&end| end <= self.limits.max_datagram);
        let Some(end) = end else {
            bump(&mut self.stats.malformed);
            return None;
        };
        let key = Key {
            src,
            dst,
            protocol,
            id: fragment.id,
        };
        let now = now.as_nanos();
        let timeout = i64::try_from(self.limits.timeout.as_nanos()).unwrap_or(i64::MAX);
        if let Some(p) = self.pending.get(&key) {
            if now.saturating_sub(p.first) > timeout {
                self.drop_datagram(&key);
                bump(&mut self.stats.timed_out);
            }
        }
        if !self.pending.contains_key(&key) {
            if self.pending.len() >= self.limits.max_pending.max(1) {
                self.drop_oldest(None);
            }
            self.arrivals = self.arrivals.saturating_add(1);
            self.pending.insert(
                key,
                Pending {
                    first: now,
                    seq: self.arrivals,
                    buf: Vec::new(),
                    ranges: Vec::new(),
                    total: None,
                },
            );
        }
        // Check the fragment against what the datagram already says about its length.
        let p = self.pending.get(&key)?;
        let held_end = p.ranges.last().map_or(0, |r| r.1);
        let consistent = match (p.total, fragment.more) {
            (Some(total), true) => end <= total,
            (Some(total), false) => end == total,
            (None, true) => true,
            (None, false) => held_end <= end,
        };
        if !consistent {
            bump(&mut self.stats.malformed);
            return None;
        }
        let growth = u64::from(end).saturating_sub(p.buf.len() as u64);
        if growth > 0 {
            while self.bytes.saturating_add(growth) > self.limits.max_bytes {
                if !self.drop_oldest(Some(&key)) {
                    // Only this datagram is left and it alone is too big.
                    self.drop_datagram(&key);
                    bump(&mut self.stats.dropped_over_cap);
                    return None;
                }
            }
            self.bytes += growth;
            self.stats.peak_bytes = self.stats.peak_bytes.max(self.bytes);
        }
        let p = self.pending.get_mut(&key)?;
        if !fragment.more {
            p.total = Some(end);
        }
        if p.buf.len() < end as usize {
            p.buf.resize(end as usize, 0);
        }
        let (overlap, conflict) = place(p, start, end, payload);
        if overlap {
            bump(&mut self.stats.overlaps);
        }
        if conflict {
            bump(&mut self.stats.conflicts);
        }
        if p.ranges.len() > self.limits.max_ranges {
            self.drop_datagram(&key);
            bump(&mut self.stats.dropped_over_cap);
            return None;
        }
        if p.total.is_some_and(|total| p.ranges == [(0, total)]) {
            let p = self.pending.remove(&key)?;
            self.bytes = self.bytes.saturating_sub(p.buf.len() as u64);
            bump(&mut self.stats.completed);
            return Some(p.buf);
        }
        None
    }

    /// Drops datagrams incomplete longer than the timeout. Cheap to call once per second.
    pub fn expire(&mut self, now: Timestamp) {
        let now = now.as_nanos();
        let timeout = i64::try_from(self.limits.timeout.as_nanos()).unwrap_or(i64::MAX);
        let mut freed = 0u64;
        let mut dropped = 0u64;
        self.pending.retain(|_, p| {
            let keep = now.saturating_sub(p.first) <= timeout;
            if !keep {
                freed += p.buf.len() as u64;
                dropped += 1;
            }
            keep
        });
        self.bytes = self.bytes.saturating_sub(freed);
        self.stats.timed_out = self.stats.timed_out.saturating_add(dropped);
    }

    fn drop_datagram(&mut self, key: &Key) {
        if let Some(p) = self.pending.remove(key) {
            self.bytes = self.bytes.saturating_sub(p.buf.len() as u64);
        }
    }

    /// Drops the datagram whose first fragment came first, other than `keep`; false if
    /// there is none.
    fn drop_oldest(&mut self, keep: Option<&Key>) -> bool {
        let oldest = self
            .pending
            .iter()
            .filter(|(k, _)| Some(*k) != keep)
            .min_by_key(|(_, p)| (p.first, p.seq))
            .map(|(k, _)| *k);
        match oldest {
            Some(k) => {
                self.drop_datagram(&k);
                bump(&mut self.stats.dropped_over_cap);
                true
            }
            None => false,
        }
    }
}

/// Copies the bytes of `[start, end)` not yet held into the buffer (the first copy wins)
/// and records the range. Returns whether the fragment overlapped held bytes, and whether
/// those differed. `p.buf` is at least `end` long.
fn place(p: &mut Pending, start: u32, end: u32, payload: &[u8]) -> (bool, bool) {
    let (mut overlap, mut conflict) = (false, false);
    let mut cursor = start;
    let copy = |buf: &mut Vec<u8>, from: u32, to: u32| {
        let src = payload.get((from - start) as usize..(to - start) as usize);
        let dst = buf.get_mut(from as usize..to as usize);
        if let (Some(src), Some(dst)) = (src, dst) {
            dst.copy_from_slice(src);
        }
    };
    for &(s, e) in &p.ranges {
        if e <= cursor {
            continue;
        }
        if s >= end {
            break;
        }
        if s > cursor {
            copy(&mut p.buf, cursor, s);
        }
        let (from, to) = (s.max(cursor), e.min(end));
        overlap = true;
        let held = p.buf.get(from as usize..to as usize);
        let again = payload.get((from - start) as usize..(to - start) as usize);
        conflict |= held != again;
        cursor = e.min(end);
    }
    if cursor < end {
        copy(&mut p.buf, cursor, end);
    }
    // Insert and merge, keeping the list sorted, disjoint and non-adjacent.
    let at = p.ranges.partition_point(|r| r.0 < start);
    p.ranges.insert(at, (start, end));
    let mut merged: usize = 0;
    for i in 1..p.ranges.len() {
        let (s, e) = p.ranges[i];
        let last = &mut p.ranges[merged];
        if s <= last.1 {
            last.1 = last.1.max(e);
        } else {
            merged += 1;
            p.ranges[merged] = (s, e);
        }
    }
    p.ranges.truncate(merged + 1);
    (overlap, conflict)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SRC: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, 2));
    const DST: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(8, 8, 8, 8));
    const UDP: u8 = 17;

    fn t(secs: i64) -> Timestamp {
        Timestamp::from_nanos(secs * 1_000_000_000)
    }

    fn frag(id: u32, offset: u32, more: bool) -> Fragment {
        Fragment { id, offset, more }
    }

    /// A payload whose byte at offset `i` is `i as u8`, as a sender would fragment it.
    fn pattern(len: usize) -> Vec<u8> {
        (0..len).map(|i| i as u8).collect()
    }

    /// Pushes (offset, len, more) pieces of `pattern(..)` and returns what each push gave.
    fn feed(d: &mut Defragmenter, id: u32, pieces: &[(u32, usize, bool)]) -> Vec<Option<Vec<u8>>> {
        let whole = pattern(4096);
        pieces
            .iter()
            .map(|&(off, len, more)| {
                let bytes = &whole[off as usize..off as usize + len];
                d.push(t(0), SRC, DST, UDP, frag(id, off, more), bytes)
            })
            .collect()
    }

    #[test]
    fn orders_of_arrival() {
        // (pieces, index of the push that completes, payload length)
        type Case<'a> = (&'a [(u32, usize, bool)], usize, usize);
        let cases: &[Case<'_>] = &[
            (
                &[(0, 1480, true), (1480, 1480, true), (2960, 100, false)],
                2,
                3060,
            ),
            (
                &[(2960, 100, false), (1480, 1480, true), (0, 1480, true)],
                2,
                3060,
            ),
            (&[(1480, 20, false), (0, 1480, true)], 1, 1500),
            (&[(0, 8, true), (16, 8, false), (8, 8, true)], 2, 24),
            // A hole stays open until filled, even with the end known.
            (
                &[(0, 8, true), (16, 8, false), (0, 8, true), (8, 8, true)],
                3,
                24,
            ),
        ];
        for (i, &(pieces, done_at, len)) in cases.iter().enumerate() {
            let mut d = Defragmenter::new(DefragLimits::default());
            let got = feed(&mut d, 1, pieces);
            for (j, g) in got.iter().enumerate() {
                if j == done_at {
                    assert_eq!(g.as_deref(), Some(&pattern(len)[..]), "case {i}");
                } else {
                    assert!(g.is_none(), "case {i} push {j}");
                }
            }
            let st = d.stats();
            assert_eq!(
                (st.completed, st.pending, st.pending_bytes),
                (1, 0, 0),
                "case {i}"
            );
        }
    }

    #[test]
    fn atomic_fragment_passes_through() {
        let mut d = Defragmenter::new(DefragLimits::default());
        feed(&mut d, 5, &[(8, 8, true)]);
        let got = d.push(t(0), SRC, DST, UDP, frag(5, 0, false), b"whole");
        assert_eq!(got.as_deref(), Some(&b"whole"[..]));
        assert_eq!((d.stats().atomic, d.stats().pending), (1, 1));
    }

    #[test]
    fn overlap_first_copy_wins() {
        let mut d = Defragmenter::new(DefragLimits::default());
        assert!(d
            .push(t(0), SRC, DST, UDP, frag(1, 0, true), b"abcdefgh")
            .is_none());
        // Same bytes again at an overlapping offset: an overlap, no conflict.
        assert!(d
            .push(t(0), SRC, DST, UDP, frag(1, 4, true), b"efghIJKL")
            .is_none());
        // Different bytes over held ones (the Teardrop/evasion case): the first copy stays.
        let got = d.push(t(0), SRC, DST, UDP, frag(1, 8, false), b"XXXXmnop");
        assert_eq!(got.as_deref(), Some(&b"abcdefghIJKLmnop"[..]));
        let st = d.stats();
        assert_eq!((st.overlaps, st.conflicts), (2, 1));
    }

    #[test]
    fn keys_separate_datagrams() {
        let mut d = Defragmenter::new(DefragLimits::default());
        let v6a: IpAddr = "2001:db8::1".parse().unwrap();
        let v6b: IpAddr = "2001:db8::2".parse().unwrap();
        // IPv6 identifications differing only above bit 16 are different datagrams.
        assert!(d
            .push(t(0), v6a, v6b, UDP, frag(0x1_0001, 0, true), b"aaaaaaaa")
            .is_none());
        assert!(d
            .push(t(0), v6a, v6b, UDP, frag(0x2_0001, 8, false), b"b")
            .is_none());
        // Another protocol, another datagram.
        assert!(d
            .push(t(0), v6a, v6b, 6, frag(0x1_0001, 8, false), b"c")
            .is_none());
        // Another direction, another datagram.
        assert!(d
            .push(t(0), v6b, v6a, UDP, frag(0x1_0001, 8, false), b"d")
            .is_none());
        let got = d.push(t(0), v6a, v6b, UDP, frag(0x1_0001, 8, false), b"e");
        assert_eq!(got.as_deref(), Some(&b"aaaaaaaae"[..]));
        assert_eq!(d.stats().pending, 3);
    }

    #[test]
    fn malformed_fragments_are_ignored() {
        let mut d = Defragmenter::new(DefragLimits::default());
        // Past the largest datagram.
        assert!(d
            .push(t(0), SRC, DST, UDP, frag(1, 65_528, true), &[0; 16])
            .is_none());
        assert!(d
            .push(t(0), SRC, DST, UDP, frag(1, u32::MAX - 2, true), &[0; 16])
            .is_none());
        // A last fragment fixes the end at 16; data past it, or another end, is ignored.
        assert!(d
            .push(t(0), SRC, DST, UDP, frag(2, 8, false), &[0; 8])
            .is_none());
        assert!(d
            .push(t(0), SRC, DST, UDP, frag(2, 16, true), &[0; 8])
            .is_none());
        assert!(d
            .push(t(0), SRC, DST, UDP, frag(2, 8, false), &[0; 16])
            .is_none());
        // A last fragment ending before bytes already held.
        assert!(d
            .push(t(0), SRC, DST, UDP, frag(3, 16, true), &[0; 8])
            .is_none());
        assert!(d
            .push(t(0), SRC, DST, UDP, frag(3, 8, false), &[0; 4])
            .is_none());
        assert_eq!(d.stats().malformed, 5);
        let got = d.push(t(0), SRC, DST, UDP, frag(2, 0, true), &[1; 8]);
        assert_eq!(got.map(|v| v.len()), Some(16));
    }

    #[test]
    fn timeout_drops_and_a_late_fragment_starts_over() {
        let mut d = Defragmenter::new(DefragLimits::default());
        assert!(d
            .push(t(0), SRC, DST, UDP, frag(1, 0, true), &[0; 8])
            .is_none());
        assert!(d
            .push(t(0), SRC, DST, UDP, frag(2, 0, true), &[0; 8])
            .is_none());
        d.expire(t(30));
        assert_eq!(d.stats().pending, 2);
        d.expire(t(31));
        assert_eq!(
            (
                d.stats().pending,
                d.stats().timed_out,
                d.stats().pending_bytes
            ),
            (0, 2, 0)
        );
        // Without an expire call, the stale half is dropped when its key comes back.
        assert!(d
            .push(t(40), SRC, DST, UDP, frag(3, 0, true), &[0; 8])
            .is_none());
        assert!(d
            .push(t(80), SRC, DST, UDP, frag(3, 8, false), &[0; 8])
            .is_none());
        assert_eq!(d.stats().timed_out, 3);
        assert_eq!(d.stats().pending, 1);
    }

    #[test]
    fn pending_count_cap_drops_the_oldest() {
        let limits = DefragLimits {
            max_pending: 2,
            ..DefragLimits::default()
        };
        let mut d = Defragmenter::new(limits);
        for id in 1..=3 {
            assert!(d
                .push(t(i64::from(id)), SRC, DST, UDP, frag(id, 8, false), &[0; 8])
                .is_none());
        }
        assert_eq!((d.stats().pending, d.stats().dropped_over_cap), (2, 1));
        // Datagram 1 is gone: its first half now starts a fresh datagram.
        assert!(d
            .push(t(4), SRC, DST, UDP, frag(1, 0, true), &[0; 8])
            .is_none());
        assert!(d
            .push(t(4), SRC, DST, UDP, frag(3, 0, true), &[0; 8])
            .is_some());
    }

    #[test]
    fn byte_cap_drops_old_then_refuses_too_big() {
        let limits = DefragLimits {
            max_bytes: 100,
            ..DefragLimits::default()
        };
        let mut d = Defragmenter::new(limits);
        assert!(d
            .push(t(0), SRC, DST, UDP, frag(1, 0, true), &[0; 60])
            .is_none());
        assert!(d
            .push(t(1), SRC, DST, UDP, frag(2, 0, true), &[0; 60])
            .is_none());
        assert_eq!((d.stats().pending, d.stats().dropped_over_cap), (1, 1));
        assert!(d
            .push(t(2), SRC, DST, UDP, frag(2, 200, true), &[0; 8])
            .is_none());
        let st = d.stats();
        assert_eq!(
            (st.pending, st.dropped_over_cap, st.pending_bytes),
            (0, 2, 0)
        );
        assert_eq!(st.peak_bytes, 60);
    }

    #[test]
    fn range_cap_drops_a_finely_cut_datagram() {
        let limits = DefragLimits {
            max_ranges: 4,
            ..DefragLimits::default()
        };
        let mut d = Defragmenter::new(limits);
        for k in 0..5u32 {
            assert!(d
                .push(t(0), SRC, DST, UDP, frag(1, k * 16, true), &[0; 8])
                .is_none());
        }
        assert_eq!((d.stats().pending, d.stats().dropped_over_cap), (0, 1));
    }
}

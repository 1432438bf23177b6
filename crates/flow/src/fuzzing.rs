//! Entry points for fuzz targets: each drives a component from arbitrary bytes and panics
//! when an invariant breaks. Not part of the stable API.

use std::net::{IpAddr, Ipv4Addr};

use phonehome_capture::Timestamp;

use crate::defrag::{DefragLimits, Defragmenter, Fragment};
use crate::tcp::{flags, Budget, Chunk, Stream, StreamLimits};

/// The byte a well-behaved sender puts at sequence number `seq`.
fn pattern(seq: u32) -> u8 {
    (seq.wrapping_mul(31) >> 3) as u8 ^ 0x5a
}

/// Drives a [`Stream`] with segments decoded from `data` and checks byte conservation:
/// chunks come in offset order and cover every offset exactly once, Data bytes are those
/// sent (while no conflicting copy was sent), the counters agree with the output, and all
/// budget is returned at the end.
///
/// Layout: `[cap, budget, isn0, isn1]` then records of 4 bytes `[op, off_hi, off_lo, len]`.
/// `op & 7`: 0–3 data, 4 data + FIN, 5 peer ACK, 6 RST, 7 SYN; `op & 0x08` sets ignore
/// mode; `op & 0x40` captures only half of a data segment; `op & 0x80` sends bytes that
/// differ from the pattern.
pub fn stream(data: &[u8]) {
    let Some((head, mut rest)) = data.split_first_chunk::<4>() else {
        return;
    };
    let limits = StreamLimits {
        max_buffered: u64::from(head[0]) * 32,
        ..StreamLimits::default()
    };
    let mut budget = Budget::new(u64::from(head[1]) * 64);
    // An ISN near the top of the sequence space makes wraparound common.
    let isn = u32::MAX - u32::from(u16::from_be_bytes([head[2], head[3]]));
    let mut s = Stream::new(&limits);
    let mut check = Checker::default();
    let mut payload = [0u8; 255];
    while let Some((rec, tail)) = rest.split_first_chunk::<4>() {
        rest = tail;
        let [op, hi, lo, len] = *rec;
        let seq = isn.wrapping_add(u32::from(u16::from_be_bytes([hi, lo])));
        let len = usize::from(len);
        let conflict = op & 0x80 != 0;
        for (i, b) in payload.iter_mut().take(len).enumerate() {
            let at = seq.wrapping_add(i as u32);
            *b = if conflict { !pattern(at) } else { pattern(at) };
        }
        let bytes = &payload[..len];
        if op & 0x08 != 0 {
            s.set_ignore();
            check.ignoring = true;
        }
        check.conflicted |= conflict && len > 0;
        let mut out = |c: Chunk<'_>| check.take(c);
        match op & 7 {
            0..=4 => {
                let tcp_flags = if op & 7 == 4 {
                    flags::ACK | flags::FIN
                } else {
                    flags::ACK
                };
                // The capture kept only half of the bytes sent.
                let kept = if op & 0x40 != 0 {
                    &bytes[..len / 2]
                } else {
                    bytes
                };
                s.segment_captured(&mut budget, seq, tcp_flags, kept, len as u32, &mut out);
            }
            5 => s.peer_ack(&mut budget, seq, &mut out),
            6 => s.segment(&mut budget, seq, flags::RST, &[], &mut out),
            _ => s.segment(
                &mut budget,
                seq.wrapping_sub(1),
                flags::SYN,
                bytes,
                &mut out,
            ),
        }
        check.base = s.start_seq();
        assert!(budget.used() <= budget.limit(), "budget exceeded");
        assert!(s.buffered() <= limits.max_buffered, "stream cap exceeded");
    }
    s.flush(&mut budget, &mut |c| check.take(c));
    assert_eq!(budget.used(), 0, "budget not returned");
    let st = s.stats();
    assert_eq!(st.delivered_bytes, check.data, "delivered counter");
    assert_eq!(st.gap_bytes, check.gaps, "gap counter");
    assert_eq!(
        st.delivered_bytes + st.gap_bytes + st.ignored_bytes,
        s.next_offset(),
        "conservation"
    );
    assert_eq!(
        check.cursor,
        st.delivered_bytes + st.gap_bytes,
        "contiguity"
    );
}

#[derive(Default)]
struct Checker {
    cursor: u64,
    data: u64,
    gaps: u64,
    ended: bool,
    conflicted: bool,
    ignoring: bool,
    base: Option<u32>,
}

impl Checker {
    fn take(&mut self, c: Chunk<'_>) {
        assert!(!self.ended, "output after FIN or RST");
        match c {
            Chunk::Data { offset, bytes } => {
                assert!(!self.ignoring, "data while ignoring");
                assert_eq!(offset, self.cursor, "data out of place");
                assert!(!bytes.is_empty(), "empty data chunk");
                if let (false, Some(base)) = (self.conflicted, self.base) {
                    for (i, &b) in bytes.iter().enumerate() {
                        let at = base.wrapping_add((offset + i as u64) as u32);
                        assert_eq!(b, pattern(at), "wrong byte at offset {}", offset + i as u64);
                    }
                }
                self.cursor += bytes.len() as u64;
                self.data += bytes.len() as u64;
            }
            Chunk::Gap { offset, len } => {
                assert_eq!(offset, self.cursor, "gap out of place");
                assert!(len > 0, "empty gap");
                self.cursor += len;
                self.gaps += len;
            }
            Chunk::Fin | Chunk::Rst => self.ended = true,
        }
    }
}

/// Drives a [`Defragmenter`] with fragments decoded from `data`: records of 5 bytes
/// `[id, off_hi, off_lo, len, flags]` (`flags & 1` = more fragments, `& 2` = conflicting
/// bytes, `& 4` = advance the clock 10 s). Checks that a reassembled datagram holds the
/// bytes sent while no conflicting copy was, and that the byte count returns to zero.
pub fn defrag(data: &[u8]) {
    let limits = DefragLimits {
        max_bytes: 4096,
        max_pending: 4,
        max_ranges: 8,
        max_datagram: 2048,
        ..DefragLimits::default()
    };
    let mut d = Defragmenter::new(limits);
    let (src, dst) = (
        IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V4(Ipv4Addr::BROADCAST),
    );
    let mut now = 0i64;
    let mut conflicted = [false; 256];
    let mut payload = [0u8; 255];
    let mut rest = data;
    while let Some((rec, tail)) = rest.split_first_chunk::<5>() {
        rest = tail;
        let [id, hi, lo, len, f] = *rec;
        let offset = u32::from(u16::from_be_bytes([hi, lo]));
        if f & 4 != 0 {
            now += 10_000_000_000;
        }
        let len = usize::from(len);
        for (i, b) in payload.iter_mut().take(len).enumerate() {
            let at = offset.wrapping_add(i as u32);
            *b = if f & 2 != 0 {
                !pattern(at)
            } else {
                pattern(at)
            };
        }
        // RFC 6946 §4: an atomic fragment is a datagram of its own and leaves pending
        // fragments with its identification alone, so it neither marks nor clears them.
        let atomic = offset == 0 && f & 1 == 0;
        if !atomic {
            conflicted[usize::from(id)] |= f & 2 != 0;
        }
        let fragment = Fragment {
            id: u32::from(id),
            offset,
            more: f & 1 != 0,
        };
        let got = d.push(
            Timestamp::from_nanos(now),
            src,
            dst,
            17,
            fragment,
            &payload[..len],
        );
        if let Some(whole) = got {
            assert!(
                whole.len() <= limits.max_datagram as usize,
                "datagram too long"
            );
            let differs = if atomic {
                f & 2 != 0
            } else {
                conflicted[usize::from(id)]
            };
            if !differs {
                for (i, &b) in whole.iter().enumerate() {
                    assert_eq!(b, pattern(i as u32), "wrong byte at {i}");
                }
            }
            if !atomic {
                conflicted[usize::from(id)] = false;
            }
        }
        let st = d.stats();
        assert!(st.pending_bytes <= limits.max_bytes, "byte cap exceeded");
        assert!(
            st.pending <= limits.max_pending as u64,
            "pending cap exceeded"
        );
    }
    d.expire(Timestamp::from_nanos(now.saturating_add(31_000_000_000)));
    let st = d.stats();
    assert_eq!(
        (st.pending, st.pending_bytes),
        (0, 0),
        "expire left datagrams"
    );
}

#[cfg(test)]
mod tests {
    /// A small xorshift generator: deterministic inputs without a dependency.
    fn inputs(seed: u64, count: usize, max_len: usize, mut shape: impl FnMut(&mut [u8])) {
        let mut x = seed;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for _ in 0..count {
            let len = (next() as usize) % max_len;
            let mut buf: Vec<u8> = (0..len).map(|_| next() as u8).collect();
            shape(&mut buf);
            super::stream(&buf);
            super::defrag(&buf);
        }
    }

    /// Found by the `flow_defrag` fuzz target (minimised): a conflicting first fragment of
    /// datagram 0, then an atomic fragment with the same identification, then the last
    /// fragment. The atomic fragment must not clear the pending datagram's conflict mark,
    /// or the completed datagram is checked against bytes it was never sent.
    #[test]
    fn defrag_atomic_fragment_keeps_pending_conflict() {
        super::defrag(&[
            0x00, 0x00, 0x00, 0x01, 0x03, // id 0, [0, 1), more, conflicting
            0x00, 0x00, 0x00, 0x28, 0x02, // id 0, atomic, 40 bytes, conflicting
            0x00, 0x00, 0x01, 0x02, 0x28, // id 0, [1, 3), last
        ]);
    }

    #[test]
    fn random_inputs_keep_the_invariants() {
        inputs(0x9e37_79b9_7f4a_7c15, 3000, 200, |_| {});
    }

    #[test]
    fn random_inputs_near_in_order() {
        // Offsets mostly small and close together, rarely conflicting or resetting: the
        // shapes a real connection takes, where buffering and draining happen most.
        inputs(0x2545_f491_4f6c_dd1d, 3000, 400, |buf| {
            let mut off = 0u16;
            for (i, rec) in buf.chunks_exact_mut(4).enumerate().skip(1) {
                rec[0] &= 0x7f;
                if rec[0] & 7 == 6 && i % 5 != 0 {
                    rec[0] &= !7;
                }
                if rec[0] & 0x08 != 0 && i % 7 != 0 {
                    rec[0] &= !0x08;
                }
                let jitter = u16::from(rec[1] % 64);
                let at = off.wrapping_add(jitter).wrapping_sub(24);
                [rec[1], rec[2]] = at.to_be_bytes();
                off = off.wrapping_add(u16::from(rec[3] / 2));
            }
        });
    }
}

//! One direction of a TCP connection: sequence numbers in, ordered chunks out.

use std::collections::BTreeMap;
use std::ops::Bound;

use super::{flags, Budget, StreamLimits, ENTRY_OVERHEAD};

/// A piece of reassembled output, in stream order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Chunk<'a> {
    /// Bytes at stream offset `offset`, seen in the capture.
    Data { offset: u64, bytes: &'a [u8] },
    /// `len` bytes at `offset` that were sent but are not in the capture.
    Gap { offset: u64, len: u64 },
    /// The sender closed its direction; every byte before it has been handed out.
    Fin,
    /// The connection was reset; buffered data and holes were handed out first.
    Rst,
}

/// What a stream saw. All counters saturate.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StreamStats {
    /// Bytes handed out as [`Chunk::Data`].
    pub delivered_bytes: u64,
    /// Gaps handed out, and the bytes they cover.
    pub gaps: u64,
    pub gap_bytes: u64,
    /// Gaps declared because the peer acknowledged bytes the capture never showed.
    pub acked_gaps: u64,
    /// Segments that overlapped buffered data, and the overlapping bytes.
    pub overlaps: u64,
    pub overlap_bytes: u64,
    /// Overlapping segments whose bytes differed from the first copy (which was kept);
    /// also a second FIN at a different place, or data past the FIN.
    pub conflicts: u64,
    /// Bytes at offsets already handed out (retransmissions; not compared, as delivered
    /// bytes are not kept).
    pub retransmitted_bytes: u64,
    /// The most bytes (bookkeeping included) this stream held out of order at once.
    pub buffered_max: u64,
    /// Times the per-stream cap, or the shared budget, forced a gap.
    pub cap_hits: u64,
    pub budget_hits: u64,
    /// Segments starting beyond the largest possible window, dropped.
    pub out_of_window: u64,
    /// Bytes the capture cut off the end of segments (snapshot length), declared gaps.
    pub truncated_bytes: u64,
    /// Offsets passed over, without output, after [`Stream::set_ignore`] (holes included):
    /// `delivered_bytes + gap_bytes + ignored_bytes` is always the next offset.
    pub ignored_bytes: u64,
    /// Peer acknowledgements beyond every byte seen sent, believed only that far.
    pub ack_unseen: u64,
    /// Resets too far from the stream's position to be believed (RFC 5961 §3.2).
    pub rst_ignored: u64,
    /// Segments that arrived after FIN, RST or flush.
    pub after_close: u64,
    /// SYNs whose sequence number disagrees with the stream's start.
    pub syn_mismatches: u64,
    /// The capture began after the SYN: offset 0 is the first byte seen, not the first sent.
    pub midstream: bool,
}

/// One direction of a TCP connection. See the [module documentation](super).
#[derive(Debug)]
pub struct Stream {
    limits: StreamLimits,
    /// Sequence number of stream offset 0.
    base: Option<u32>,
    /// Next offset to hand out; everything below it has been delivered or declared a gap.
    next: u64,
    /// Offset of the FIN, once a FIN was seen.
    fin_at: Option<u64>,
    /// End of the furthest bytes seen sent, captured or not.
    highest: u64,
    closed: bool,
    ignore: bool,
    /// Out-of-order pieces by start offset. Invariant: pieces do not overlap and each
    /// starts after `next`.
    buf: BTreeMap<u64, Vec<u8>>,
    /// Bytes charged to the budget for `buf`, bookkeeping included.
    charged: u64,
    stats: StreamStats,
}

fn len64(bytes: &[u8]) -> u64 {
    // A slice never holds more than isize::MAX bytes, which fits in u64.
    bytes.len() as u64
}

/// Index of stream offset `at` in a slice that starts at `start`; `at - start` is bounded
/// by the slice length, so it fits in usize.
fn idx(at: u64, start: u64) -> usize {
    usize::try_from(at.saturating_sub(start)).unwrap_or(usize::MAX)
}

impl Stream {
    /// An empty stream, waiting for its SYN or first segment.
    pub fn new(limits: &StreamLimits) -> Self {
        Self {
            limits: *limits,
            base: None,
            next: 0,
            fin_at: None,
            highest: 0,
            closed: false,
            ignore: false,
            buf: BTreeMap::new(),
            charged: 0,
            stats: StreamStats::default(),
        }
    }

    /// Counters so far.
    pub fn stats(&self) -> StreamStats {
        self.stats
    }

    /// The next offset to be handed out (the number of bytes delivered or skipped).
    pub fn next_offset(&self) -> u64 {
        self.next
    }

    /// The sequence number of stream offset 0, once known.
    pub fn start_seq(&self) -> Option<u32> {
        self.base
    }

    /// Whether FIN, RST or flush ended the stream.
    pub fn is_closed(&self) -> bool {
        self.closed
    }

    /// Bytes currently charged to the budget by this stream.
    pub fn buffered(&self) -> u64 {
        self.charged
    }

    /// The consumer needs no more bytes: from now on data is counted, not buffered or
    /// delivered. FIN and RST are still reported. Buffered data is released on the next
    /// call that takes the budget.
    pub fn set_ignore(&mut self) {
        self.ignore = true;
    }

    /// Takes one segment sent in this direction, captured whole.
    pub fn segment(
        &mut self,
        budget: &mut Budget,
        seq: u32,
        tcp_flags: u8,
        payload: &[u8],
        out: &mut impl FnMut(Chunk<'_>),
    ) {
        let wire_len = u32::try_from(payload.len()).unwrap_or(u32::MAX);
        self.segment_captured(budget, seq, tcp_flags, payload, wire_len, out);
    }

    /// Takes one segment of which the capture kept only `payload`, a prefix of the
    /// `wire_len` bytes it carried (the snapshot length cut it). The FIN, if any, follows
    /// the bytes on the wire, and the cut-off tail becomes a gap once reached.
    pub fn segment_captured(
        &mut self,
        budget: &mut Budget,
        seq: u32,
        tcp_flags: u8,
        payload: &[u8],
        wire_len: u32,
        out: &mut impl FnMut(Chunk<'_>),
    ) {
        let payload = payload.get(..wire_len as usize).unwrap_or(payload);
        if self.ignore && self.charged > 0 {
            self.discard(budget);
        }
        if self.closed {
            self.stats.after_close = self.stats.after_close.saturating_add(1);
            return;
        }
        let syn = tcp_flags & flags::SYN != 0;
        let mut data_seq = seq;
        if syn {
            // RFC 9293 §3.4: the SYN occupies one sequence number; data (as with TCP Fast
            // Open, RFC 7413) starts at ISN + 1, which is stream offset 0.
            let first = seq.wrapping_add(1);
            match self.base {
                None => self.base = Some(first),
                Some(base) if base == first => {}
                Some(_) => {
                    // Another ISN: a stray SYN-ACK or a stale attempt (app_kakaotalk_chat_sll
                    // __ndpi.pcap frame 46). The stream keeps the first; this one is ignored,
                    // data and all, so that it cannot move the stream's horizon.
                    self.stats.syn_mismatches = self.stats.syn_mismatches.saturating_add(1);
                    return;
                }
            }
            data_seq = first;
        }
        if tcp_flags & flags::RST != 0 {
            if !self.rst_in_window(seq) {
                self.stats.rst_ignored = self.stats.rst_ignored.saturating_add(1);
                return;
            }
            // RFC 9293 §3.10.7: a reset ends the connection at once. Its payload, if any, is
            // diagnostic text (RFC 1122 §4.2.2.12), not stream data.
            self.finish(budget, out);
            out(Chunk::Rst);
            return;
        }
        let fin = tcp_flags & flags::FIN != 0;
        if wire_len == 0 && !fin && !syn {
            // A bare ACK (or keep-alive) moves no data; its sequence number is not trusted
            // to start a stream.
            return;
        }
        let base = match self.base {
            Some(base) => base,
            None => {
                self.base = Some(data_seq);
                self.stats.midstream = true;
                data_seq
            }
        };
        let start = self.unwrap(base, data_seq);
        let captured_end = start.saturating_add(i64::try_from(payload.len()).unwrap_or(i64::MAX));
        let end = start.saturating_add(i64::from(wire_len));
        if end > 0 && end.unsigned_abs().saturating_sub(self.next) > self.limits.max_window {
            self.stats.out_of_window = self.stats.out_of_window.saturating_add(1);
            return;
        }
        if end > 0 {
            // The FIN takes a sequence number too (RFC 9293 §3.4), so its ACK is one more.
            let last = end.unsigned_abs().saturating_add(u64::from(fin));
            self.highest = self.highest.max(last);
        }
        let mut payload = payload;
        if fin {
            self.note_fin(end);
        }
        if let Some(fin_at) = self.fin_at {
            // Nothing is sent after the FIN (RFC 9293 §3.6); bytes past it are a conflict.
            let allowed = i64::try_from(fin_at)
                .unwrap_or(i64::MAX)
                .saturating_sub(start);
            let allowed = usize::try_from(allowed.max(0)).unwrap_or(usize::MAX);
            if payload.len() > allowed {
                self.stats.conflicts = self.stats.conflicts.saturating_add(1);
                payload = payload.get(..allowed).unwrap_or_default();
            }
        }
        self.data(budget, start, payload, out);
        if end > captured_end && !self.ignore {
            // The capture cut this segment short. Once the stream reaches the cut, the rest
            // is known to have been sent and is missing: a gap, without waiting.
            let (cut, end) = (captured_end.unsigned_abs(), end.unsigned_abs());
            if self.next >= cut && self.next < end {
                let before = self.stats.gap_bytes;
                self.fill_to(budget, end, out);
                self.stats.truncated_bytes = self
                    .stats
                    .truncated_bytes
                    .saturating_add(self.stats.gap_bytes - before);
            }
        }
        self.check_fin(budget, out);
    }

    /// Takes an acknowledgement number sent by the peer. Bytes it acknowledges that the
    /// capture never showed are declared a gap, so the stream does not wait for them —
    /// up to the furthest byte seen sent: an ACK beyond that is counted, not believed.
    pub fn peer_ack(&mut self, budget: &mut Budget, ack: u32, out: &mut impl FnMut(Chunk<'_>)) {
        if self.closed || self.ignore {
            return;
        }
        let Some(base) = self.base else { return };
        let acked = self.unwrap(base, ack);
        if acked <= 0 {
            return;
        }
        let mut target = acked.unsigned_abs();
        if target <= self.next {
            return;
        }
        if target > self.highest {
            // RFC 9293 §3.10.7.4: an ACK for something not yet sent is not acceptable. The
            // capture may have lost the segments, so believe it only up to the furthest
            // bytes seen; a later segment will show how far the sender really got.
            self.stats.ack_unseen = self.stats.ack_unseen.saturating_add(1);
            target = self.highest;
            if target <= self.next {
                return;
            }
        }
        if let Some(fin_at) = self.fin_at {
            // The FIN's own sequence number is acknowledged too; it is not a byte.
            target = target.min(fin_at);
        }
        let gaps = self.stats.gaps;
        self.fill_to(budget, target, out);
        self.stats.acked_gaps = self.stats.acked_gaps.saturating_add(self.stats.gaps - gaps);
        self.check_fin(budget, out);
    }

    /// Moves `next` to `target`, declaring gaps only where nothing is buffered.
    fn fill_to(&mut self, budget: &mut Budget, target: u64, out: &mut impl FnMut(Chunk<'_>)) {
        while self.next < target {
            let stop = match self.buf.first_key_value() {
                Some((&start, _)) if start < target => start,
                _ => target,
            };
            self.skip_to(budget, stop, out);
        }
    }

    /// End of the flow: hands out everything buffered, holes as gaps, up to the FIN if one
    /// was seen, and releases the stream's budget.
    pub fn flush(&mut self, budget: &mut Budget, out: &mut impl FnMut(Chunk<'_>)) {
        if self.closed {
            self.discard(budget);
            return;
        }
        if self.ignore {
            // The consumer wants no more bytes, so no gaps either; only the FIN.
            self.discard(budget);
            self.closed = true;
            if self.fin_at.is_some() {
                out(Chunk::Fin);
            }
            return;
        }
        self.finish(budget, out);
        if let Some(fin_at) = self.fin_at {
            if fin_at >= self.next {
                self.skip_to(budget, fin_at, out);
                out(Chunk::Fin);
            }
        }
        self.closed = true;
    }

    /// Drops buffered data without output and releases its budget.
    pub fn discard(&mut self, budget: &mut Budget) {
        self.buf.clear();
        budget.release(self.charged);
        self.charged = 0;
    }

    /// Hands out buffered pieces with the holes between them, then closes.
    fn finish(&mut self, budget: &mut Budget, out: &mut impl FnMut(Chunk<'_>)) {
        while let Some((&start, _)) = self.buf.first_key_value() {
            self.skip_to(budget, start, out);
        }
        self.discard(budget);
        self.closed = true;
    }

    /// The stream offset of `seq`, taken as the one nearest the next expected offset
    /// (RFC 9293 §3.4: comparisons are modulo 2^32, within half the sequence space).
    /// Negative for bytes before offset 0.
    fn unwrap(&self, base: u32, seq: u32) -> i64 {
        // Truncation is the point: the wire carries offsets modulo 2^32.
        let expected = base.wrapping_add(self.next as u32);
        let delta = i64::from(seq.wrapping_sub(expected) as i32);
        i64::try_from(self.next)
            .unwrap_or(i64::MAX)
            .saturating_add(delta)
    }

    /// Whether a RST at `seq` is close enough to the stream to be believed. Before the
    /// stream's start is known there is nothing to compare with, and it is believed.
    fn rst_in_window(&self, seq: u32) -> bool {
        let Some(base) = self.base else { return true };
        let at = self.unwrap(base, seq);
        let window = i64::try_from(self.limits.rst_window).unwrap_or(i64::MAX);
        let low = i64::try_from(self.next)
            .unwrap_or(i64::MAX)
            .saturating_sub(window);
        let high = i64::try_from(self.highest)
            .unwrap_or(i64::MAX)
            .saturating_add(window);
        (low..=high).contains(&at)
    }

    fn note_fin(&mut self, end: i64) {
        let Ok(end) = u64::try_from(end) else { return };
        if end < self.next {
            return; // a retransmitted FIN of an earlier stream position cannot be right
        }
        match self.fin_at {
            None => self.fin_at = Some(end),
            Some(at) if at == end => {}
            Some(_) => self.stats.conflicts = self.stats.conflicts.saturating_add(1),
        }
    }

    fn check_fin(&mut self, budget: &mut Budget, out: &mut impl FnMut(Chunk<'_>)) {
        if let Some(fin_at) = self.fin_at {
            if !self.closed && self.next >= fin_at {
                self.discard(budget);
                self.closed = true;
                out(Chunk::Fin);
            }
        }
    }

    fn data(
        &mut self,
        budget: &mut Budget,
        mut start: i64,
        mut payload: &[u8],
        out: &mut impl FnMut(Chunk<'_>),
    ) {
        if self.ignore {
            let end = start.saturating_add(i64::try_from(payload.len()).unwrap_or(i64::MAX));
            if let Ok(end) = u64::try_from(end) {
                if end > self.next {
                    let passed = end - self.next;
                    self.stats.ignored_bytes = self.stats.ignored_bytes.saturating_add(passed);
                    self.next = end;
                }
            }
            return;
        }
        loop {
            let next = i64::try_from(self.next).unwrap_or(i64::MAX);
            if start < next {
                let old = usize::try_from(next.saturating_sub(start))
                    .unwrap_or(usize::MAX)
                    .min(payload.len());
                self.stats.retransmitted_bytes =
                    self.stats.retransmitted_bytes.saturating_add(old as u64);
                payload = payload.get(old..).unwrap_or_default();
                start = next;
            }
            if payload.is_empty() {
                return;
            }
            let off = start.unsigned_abs();
            if off == self.next {
                self.deliver_in_order(budget, off, payload, out);
                return;
            }
            let (fresh, pieces) = self.uncovered(off, payload);
            if fresh == 0 {
                self.insert(off, payload); // counts the overlap, stores nothing
                return;
            }
            let cost = fresh.saturating_add(pieces.saturating_mul(ENTRY_OVERHEAD));
            if self.charged.saturating_add(cost) <= self.limits.max_buffered {
                if budget.try_reserve(cost) {
                    self.insert(off, payload);
                    self.charged += cost;
                    self.stats.buffered_max = self.stats.buffered_max.max(self.charged);
                    return;
                }
                self.stats.budget_hits = self.stats.budget_hits.saturating_add(1);
            } else {
                self.stats.cap_hits = self.stats.cap_hits.saturating_add(1);
            }
            // Make room by giving up on the first hole: it becomes a gap and whatever is
            // contiguous after it is handed out. Each round moves `next` forward, and once
            // it reaches this segment the segment is in order and passes without a copy.
            let target = self.buf.first_key_value().map_or(off, |(&s, _)| s.min(off));
            self.skip_to(budget, target, out);
        }
    }

    /// Bytes of `[off, off + len)` not yet buffered, and in how many pieces.
    fn uncovered(&self, off: u64, payload: &[u8]) -> (u64, u64) {
        let end = off.saturating_add(len64(payload));
        let (mut fresh, mut pieces, mut cursor) = (0u64, 0u64, off);
        while cursor < end {
            if let Some((&s, v)) = self.buf.range(..=cursor).next_back() {
                let e = s.saturating_add(len64(v));
                if e > cursor {
                    cursor = e.min(end);
                    continue;
                }
            }
            let piece_end = self
                .buf
                .range((Bound::Excluded(cursor), Bound::Unbounded))
                .next()
                .map_or(end, |(&s, _)| s.min(end));
            fresh += piece_end - cursor;
            pieces += 1;
            cursor = piece_end;
        }
        (fresh, pieces)
    }

    /// Buffers the parts of an out-of-order segment not yet held; the first copy of a
    /// byte wins and a differing later copy is counted as a conflict.
    fn insert(&mut self, off: u64, payload: &[u8]) {
        let end = off.saturating_add(len64(payload));
        let (mut overlap, mut conflict, mut cursor) = (0u64, false, off);
        while cursor < end {
            if let Some((&s, v)) = self.buf.range(..=cursor).next_back() {
                let e = s.saturating_add(len64(v));
                if e > cursor {
                    let stop = e.min(end);
                    let held = v.get(idx(cursor, s)..idx(stop, s)).unwrap_or_default();
                    let new = payload
                        .get(idx(cursor, off)..idx(stop, off))
                        .unwrap_or_default();
                    overlap += stop - cursor;
                    conflict |= held != new;
                    cursor = stop;
                    continue;
                }
            }
            let piece_end = self
                .buf
                .range((Bound::Excluded(cursor), Bound::Unbounded))
                .next()
                .map_or(end, |(&s, _)| s.min(end));
            let piece = payload
                .get(idx(cursor, off)..idx(piece_end, off))
                .unwrap_or_default();
            self.buf.insert(cursor, piece.to_vec());
            cursor = piece_end;
        }
        if overlap > 0 {
            self.stats.overlaps = self.stats.overlaps.saturating_add(1);
            self.stats.overlap_bytes = self.stats.overlap_bytes.saturating_add(overlap);
            if conflict {
                self.stats.conflicts = self.stats.conflicts.saturating_add(1);
            }
        }
    }

    /// Hands out a segment that starts at `next`, without copying it. Where buffered
    /// pieces overlap it, they came first and win.
    fn deliver_in_order(
        &mut self,
        budget: &mut Budget,
        off: u64,
        payload: &[u8],
        out: &mut impl FnMut(Chunk<'_>),
    ) {
        let end = off.saturating_add(len64(payload));
        while self.next < end {
            let held = self
                .buf
                .first_key_value()
                .map(|(&s, v)| (s, s.saturating_add(len64(v))));
            match held {
                Some((s, e)) if s < end => {
                    if s > self.next {
                        let fresh = payload
                            .get(idx(self.next, off)..idx(s, off))
                            .unwrap_or_default();
                        self.emit(self.next, fresh, out);
                        self.next = s;
                    }
                    let stop = e.min(end);
                    if let Some((_, v)) = self.buf.first_key_value() {
                        let first = v.get(..idx(stop, s)).unwrap_or_default();
                        let again = payload.get(idx(s, off)..idx(stop, off)).unwrap_or_default();
                        self.stats.overlaps = self.stats.overlaps.saturating_add(1);
                        self.stats.overlap_bytes =
                            self.stats.overlap_bytes.saturating_add(stop - s);
                        if first != again {
                            self.stats.conflicts = self.stats.conflicts.saturating_add(1);
                        }
                    }
                    self.release_front(budget, out);
                }
                _ => {
                    let rest = payload.get(idx(self.next, off)..).unwrap_or_default();
                    self.emit(self.next, rest, out);
                    self.next = end;
                }
            }
        }
        self.drain(budget, out);
    }

    /// Hands out buffered pieces that start at or before `next`.
    fn drain(&mut self, budget: &mut Budget, out: &mut impl FnMut(Chunk<'_>)) {
        while self
            .buf
            .first_key_value()
            .is_some_and(|(&s, _)| s <= self.next)
        {
            self.release_front(budget, out);
        }
    }

    /// Removes the first buffered piece, hands out its part at or after `next`, and
    /// returns its charge to the budget.
    fn release_front(&mut self, budget: &mut Budget, out: &mut impl FnMut(Chunk<'_>)) {
        let Some((s, v)) = self.buf.pop_first() else {
            return;
        };
        let cost = len64(&v).saturating_add(ENTRY_OVERHEAD).min(self.charged);
        self.charged -= cost;
        budget.release(cost);
        let e = s.saturating_add(len64(&v));
        if e > self.next {
            let rest = v.get(idx(self.next, s)..).unwrap_or_default();
            self.emit(self.next.max(s), rest, out);
            self.next = e;
        }
    }

    /// Declares `[next, target)` a gap and hands out what is contiguous after it.
    fn skip_to(&mut self, budget: &mut Budget, target: u64, out: &mut impl FnMut(Chunk<'_>)) {
        if target > self.next {
            let len = target - self.next;
            out(Chunk::Gap {
                offset: self.next,
                len,
            });
            self.stats.gaps = self.stats.gaps.saturating_add(1);
            self.stats.gap_bytes = self.stats.gap_bytes.saturating_add(len);
            self.next = target;
        }
        self.drain(budget, out);
    }

    fn emit(&mut self, offset: u64, bytes: &[u8], out: &mut impl FnMut(Chunk<'_>)) {
        if bytes.is_empty() {
            return;
        }
        self.stats.delivered_bytes = self.stats.delivered_bytes.saturating_add(len64(bytes));
        out(Chunk::Data { offset, bytes });
    }
}

#[cfg(test)]
mod tests {
    use super::super::flags::{ACK, FIN, PSH, RST, SYN};
    use super::*;

    #[derive(Debug, PartialEq, Eq)]
    enum Out {
        D(u64, Vec<u8>),
        G(u64, u64),
        Fin,
        Rst,
    }
    use Out::{D, G};

    enum Step<'a> {
        Seg(u32, u8, &'a [u8]),
        Ack(u32),
        Flush,
    }
    use Step::{Ack, Flush, Seg};

    fn collect(out: &mut Vec<Out>) -> impl FnMut(Chunk<'_>) + '_ {
        |c| {
            out.push(match c {
                Chunk::Data { offset, bytes } => D(offset, bytes.to_vec()),
                Chunk::Gap { offset, len } => G(offset, len),
                Chunk::Fin => Out::Fin,
                Chunk::Rst => Out::Rst,
            });
        }
    }

    fn run_with(
        limits: StreamLimits,
        budget: &mut Budget,
        steps: &[Step<'_>],
    ) -> (Vec<Out>, Stream) {
        let mut s = Stream::new(&limits);
        let mut out = Vec::new();
        for step in steps {
            let mut sink = collect(&mut out);
            match *step {
                Seg(seq, f, p) => s.segment(budget, seq, f, p, &mut sink),
                Ack(a) => s.peer_ack(budget, a, &mut sink),
                Flush => s.flush(budget, &mut sink),
            }
        }
        (out, s)
    }

    fn run(steps: &[Step<'_>]) -> (Vec<Out>, StreamStats) {
        let mut budget = Budget::default();
        let (out, s) = run_with(StreamLimits::default(), &mut budget, steps);
        if s.is_closed() {
            assert_eq!(budget.used(), 0, "a closed stream holds no budget");
        }
        assert_eq!(budget.used(), s.buffered());
        (out, s.stats())
    }

    fn d(offset: u64, bytes: &[u8]) -> Out {
        D(offset, bytes.to_vec())
    }

    #[test]
    fn in_order_after_syn() {
        let (out, st) = run(&[
            Seg(1000, SYN, b""),
            Seg(1001, ACK, b"abc"),
            Seg(1004, ACK | PSH, b"def"),
        ]);
        assert_eq!(out, [d(0, b"abc"), d(3, b"def")]);
        assert_eq!(st.delivered_bytes, 6);
        assert!(!st.midstream);
    }

    #[test]
    fn in_order_is_zero_copy() {
        let payload = b"hello".to_vec();
        let mut s = Stream::new(&StreamLimits::default());
        let mut budget = Budget::default();
        let mut same = false;
        s.segment(&mut budget, 7, SYN, b"", &mut |_| {});
        s.segment(&mut budget, 8, ACK, &payload, &mut |c| {
            if let Chunk::Data { bytes, .. } = c {
                same = std::ptr::eq(bytes.as_ptr(), payload.as_ptr());
            }
        });
        assert!(same);
    }

    #[test]
    fn out_of_order_is_buffered_then_released() {
        let (out, st) = run(&[Seg(0, SYN, b""), Seg(4, ACK, b"def"), Seg(1, ACK, b"abc")]);
        assert_eq!(out, [d(0, b"abc"), d(3, b"def")]);
        assert_eq!(st.buffered_max, 3 + ENTRY_OVERHEAD);
        assert_eq!(st.gaps, 0);
    }

    #[test]
    fn duplicate_in_order_is_a_retransmission() {
        let (out, st) = run(&[Seg(0, SYN, b""), Seg(1, ACK, b"abc"), Seg(1, ACK, b"abc")]);
        assert_eq!(out, [d(0, b"abc")]);
        assert_eq!(st.retransmitted_bytes, 3);
    }

    #[test]
    fn duplicate_out_of_order_is_an_overlap() {
        let (out, st) = run(&[
            Seg(0, SYN, b""),
            Seg(4, ACK, b"def"),
            Seg(4, ACK, b"def"),
            Seg(1, ACK, b"abc"),
        ]);
        assert_eq!(out, [d(0, b"abc"), d(3, b"def")]);
        assert_eq!((st.overlaps, st.overlap_bytes, st.conflicts), (1, 3, 0));
        assert_eq!(
            st.buffered_max,
            3 + ENTRY_OVERHEAD,
            "the copy was not stored"
        );
    }

    #[test]
    fn overlap_with_same_bytes_fills_around() {
        let (out, st) = run(&[
            Seg(0, SYN, b""),
            Seg(4, ACK, b"def"),
            Seg(3, ACK, b"cdefg"),
            Seg(1, ACK, b"ab"),
        ]);
        assert_eq!(out, [d(0, b"ab"), d(2, b"c"), d(3, b"def"), d(6, b"g")]);
        assert_eq!((st.overlaps, st.conflicts), (1, 0));
    }

    #[test]
    fn overlap_with_different_bytes_keeps_the_first_copy() {
        let (out, st) = run(&[
            Seg(0, SYN, b""),
            Seg(4, ACK, b"def"),
            Seg(4, ACK, b"XYZ"),
            Seg(1, ACK, b"abc"),
        ]);
        assert_eq!(out, [d(0, b"abc"), d(3, b"def")]);
        assert_eq!((st.overlaps, st.conflicts), (1, 1));
    }

    #[test]
    fn in_order_segment_overlapping_the_buffer_yields_to_it() {
        let (out, st) = run(&[
            Seg(0, SYN, b""),
            Seg(4, ACK, b"def"),
            Seg(1, ACK, b"abcXYZgh"),
        ]);
        assert_eq!(out, [d(0, b"abc"), d(3, b"def"), d(6, b"gh")]);
        assert_eq!((st.overlaps, st.overlap_bytes, st.conflicts), (1, 3, 1));
    }

    #[test]
    fn old_data_partly_new() {
        let (out, st) = run(&[Seg(0, SYN, b""), Seg(1, ACK, b"abcd"), Seg(3, ACK, b"cdef")]);
        assert_eq!(out, [d(0, b"abcd"), d(4, b"ef")]);
        assert_eq!(st.retransmitted_bytes, 2);
    }

    #[test]
    fn missing_prefix_picks_up_mid_stream() {
        let (out, st) = run(&[Seg(5000, ACK, b"hello"), Seg(5005, ACK, b"!")]);
        assert_eq!(out, [d(0, b"hello"), d(5, b"!")]);
        assert!(st.midstream);
        // Bytes before the pickup point are old data, not a negative offset.
        let (out, st) = run(&[Seg(5000, ACK, b"hello"), Seg(4998, ACK, b"xxhe")]);
        assert_eq!(out, [d(0, b"hello")]);
        assert_eq!(st.retransmitted_bytes, 4);
    }

    #[test]
    fn bare_ack_does_not_start_a_stream() {
        let (out, _) = run(&[Seg(500, ACK, b""), Seg(1000, ACK, b"a")]);
        assert_eq!(out, [d(0, b"a")]);
    }

    #[test]
    fn sequence_wraps_at_2_pow_32() {
        let isn = u32::MAX - 2; // offset 0 is sequence u32::MAX - 1
        let (out, _) = run(&[
            Seg(isn, SYN, b""),
            Seg(2, ACK, b"ef"), // offset 4, out of order across the wrap
            Seg(u32::MAX - 1, ACK, b"ab"),
            Seg(0, ACK, b"cd"),
        ]);
        assert_eq!(out, [d(0, b"ab"), d(2, b"cd"), d(4, b"ef")]);
    }

    #[test]
    fn offsets_grow_past_4_gib() {
        let step = 1u32 << 30;
        let mut steps = vec![Seg(u32::MAX, SYN, b"")]; // offset 0 is sequence 0
        for k in 1..=5u32 {
            // A capture that lost all but the last byte of every GiB, and the peer's ACK.
            steps.push(Seg(k.wrapping_mul(step).wrapping_sub(1), ACK, b"."));
            steps.push(Ack(k.wrapping_mul(step)));
        }
        let seq = 5u32.wrapping_mul(step); // 5 GiB mod 2^32 = 1 GiB
        steps.push(Seg(seq, ACK, b"z"));
        let (out, st) = run(&steps);
        assert_eq!(out.last(), Some(&d(5 << 30, b"z")));
        assert_eq!(out[8], G(4 << 30, (1 << 30) - 1));
        assert_eq!(st.gap_bytes, (5 << 30) - 5);
        assert_eq!(st.acked_gaps, 5);
    }

    #[test]
    fn syn_and_fin_each_take_a_sequence_number() {
        let (out, st) = run(&[
            Seg(0, SYN, b""),
            Seg(1, ACK, b"ab"),
            Seg(3, ACK | FIN, b"cd"),
            Seg(6, ACK, b"late"),
        ]);
        assert_eq!(out, [d(0, b"ab"), d(2, b"cd"), Out::Fin]);
        assert_eq!(st.after_close, 1);
    }

    #[test]
    fn fin_out_of_order_waits_for_the_data() {
        let (out, _) = run(&[Seg(0, SYN, b""), Seg(3, FIN | ACK, b""), Seg(1, ACK, b"ab")]);
        assert_eq!(out, [d(0, b"ab"), Out::Fin]);
    }

    #[test]
    fn data_past_the_fin_is_a_conflict() {
        let (out, st) = run(&[
            Seg(0, SYN, b""),
            Seg(3, FIN | ACK, b""),
            Seg(1, ACK, b"abcd"),
        ]);
        assert_eq!(out, [d(0, b"ab"), Out::Fin]);
        assert_eq!(st.conflicts, 1);
    }

    #[test]
    fn rst_hands_out_the_buffer_then_resets() {
        let (out, _) = run(&[
            Seg(0, SYN, b""),
            Seg(1, ACK, b"ab"),
            Seg(5, ACK, b"ef"),
            Seg(7, RST | ACK, b"diagnostic"),
            Seg(7, ACK, b"gh"),
        ]);
        assert_eq!(out, [d(0, b"ab"), G(2, 2), d(4, b"ef"), Out::Rst]);
    }

    #[test]
    fn cap_hit_declares_a_gap() {
        let limits = StreamLimits {
            max_buffered: 100,
            ..StreamLimits::default()
        };
        let mut budget = Budget::default();
        let twenty = [7u8; 20];
        let (out, s) = run_with(
            limits,
            &mut budget,
            &[
                Seg(0, SYN, b""),
                Seg(11, ACK, &twenty), // offset 10, cost 84: fits
                Seg(41, ACK, &twenty), // offset 40, would make 168: first hole given up
                Flush,
            ],
        );
        assert_eq!(out, [G(0, 10), d(10, &twenty), G(30, 10), d(40, &twenty)]);
        assert_eq!(s.stats().cap_hits, 1);
        assert_eq!(s.stats().gaps, 2);
        assert_eq!(budget.used(), 0);
    }

    #[test]
    fn segment_larger_than_the_cap_passes_without_a_copy() {
        let limits = StreamLimits {
            max_buffered: 16,
            ..StreamLimits::default()
        };
        let mut budget = Budget::default();
        let big = [1u8; 50];
        let (out, s) = run_with(limits, &mut budget, &[Seg(0, SYN, b""), Seg(11, ACK, &big)]);
        assert_eq!(out, [G(0, 10), d(10, &big)]);
        assert_eq!(s.stats().buffered_max, 0);
    }

    #[test]
    fn budget_hit_forces_a_gap_on_the_stream_that_asked() {
        let mut budget = Budget::new(100);
        let limits = StreamLimits::default();
        let mut first = Stream::new(&limits);
        let mut second = Stream::new(&limits);
        let mut out = Vec::new();
        first.segment(&mut budget, 0, SYN, b"", &mut collect(&mut out));
        first.segment(&mut budget, 11, ACK, &[1; 20], &mut collect(&mut out));
        assert_eq!(budget.used(), 84);
        second.segment(&mut budget, 0, SYN, b"", &mut collect(&mut out));
        second.segment(&mut budget, 11, ACK, &[2; 20], &mut collect(&mut out));
        assert_eq!(out, [G(0, 10), d(10, &[2; 20])]);
        assert_eq!(second.stats().budget_hits, 1);
        assert_eq!(budget.denied(), 1);
        first.flush(&mut budget, &mut |_| {});
        second.flush(&mut budget, &mut |_| {});
        assert_eq!(budget.used(), 0);
    }

    #[test]
    fn flush_with_holes_and_a_fin_beyond_them() {
        let (out, st) = run(&[
            Seg(0, SYN, b""),
            Seg(4, ACK, b"d"),
            Seg(8, ACK, b"hi"),
            Seg(12, FIN, b""),
            Flush,
        ]);
        assert_eq!(
            out,
            [G(0, 3), d(3, b"d"), G(4, 3), d(7, b"hi"), G(9, 2), Out::Fin]
        );
        assert_eq!((st.gaps, st.gap_bytes), (3, 8));
    }

    #[test]
    fn flush_without_fin_gives_no_fin() {
        let (out, _) = run(&[Seg(0, SYN, b""), Seg(1, ACK, b"a"), Flush]);
        assert_eq!(out, [d(0, b"a")]);
    }

    #[test]
    fn retransmitted_syn() {
        let (out, st) = run(&[Seg(9, SYN, b""), Seg(9, SYN, b""), Seg(10, ACK, b"x")]);
        assert_eq!(out, [d(0, b"x")]);
        assert_eq!(st.syn_mismatches, 0);
        // A SYN with another ISN is ignored with its data; the ACK it would make credible
        // is not believed either.
        let (out, st) = run(&[
            Seg(9, SYN, b""),
            Seg(99_999, SYN, b"zz"),
            Ack(100_100),
            Seg(10, ACK, b"x"),
        ]);
        assert_eq!(out, [d(0, b"x")]);
        assert_eq!((st.syn_mismatches, st.ack_unseen), (1, 1));
    }

    #[test]
    fn data_on_syn() {
        // TCP Fast Open (RFC 7413): the SYN carries the first bytes, and may be retransmitted.
        let (out, st) = run(&[
            Seg(100, SYN, b"hi"),
            Seg(100, SYN, b"hi"),
            Seg(103, ACK, b"!"),
        ]);
        assert_eq!(out, [d(0, b"hi"), d(2, b"!")]);
        assert_eq!(st.retransmitted_bytes, 2);
    }

    #[test]
    fn peer_ack_of_unseen_bytes_is_a_gap() {
        let (out, st) = run(&[
            Seg(0, SYN, b""),
            Seg(1, ACK, b"ab"),
            Seg(11, ACK, b"z"),
            Ack(12),
            Ack(5), // old acknowledgement: nothing
        ]);
        assert_eq!(out, [d(0, b"ab"), G(2, 8), d(10, b"z")]);
        assert_eq!(st.acked_gaps, 1);
    }

    #[test]
    fn peer_ack_skips_holes_around_buffered_data() {
        let (out, st) = run(&[
            Seg(0, SYN, b""),
            Seg(6, ACK, b"xyz"),
            Seg(11, ACK, b"k"),
            Ack(12),
        ]);
        assert_eq!(out, [G(0, 5), d(5, b"xyz"), G(8, 2), d(10, b"k")]);
        assert_eq!(st.acked_gaps, 2);
    }

    #[test]
    fn peer_ack_beyond_anything_sent_goes_no_further_than_seen() {
        let (out, st) = run(&[
            Seg(0, SYN, b""),
            Seg(1, ACK, b"ab"),
            Seg(9, ACK, b"ij"),
            Ack(100),
            Seg(11, ACK, b"k"),
        ]);
        assert_eq!(out, [d(0, b"ab"), G(2, 6), d(8, b"ij"), d(10, b"k")]);
        assert_eq!(st.ack_unseen, 1);
    }

    #[test]
    fn regression_stale_ack_and_rst_in_syn_sent() {
        // browsing_dns6_gzip_chunked_tls__suri.pcap frames 191-193 and 235-238 (suricata-
        // verify): the server answers a SYN with an ACK of another connection, the client
        // resets at that ACK number (RFC 9293 §3.10.7.3) and sends its SYN again. Neither
        // the ACK nor the RST belongs to this stream.
        let (out, st) = run(&[
            Seg(255_601_861, SYN, b""),
            Ack(1_116_180_385),
            Seg(1_116_180_385, RST, b""),
            Seg(255_601_861, SYN, b""),
            Seg(255_601_862, ACK | PSH, b"hello"),
        ]);
        assert_eq!(out, [d(0, b"hello")]);
        assert_eq!((st.ack_unseen, st.rst_ignored, st.gaps), (1, 1, 0));
    }

    #[test]
    fn peer_ack_of_the_fin_is_not_a_byte() {
        let (out, _) = run(&[
            Seg(0, SYN, b""),
            Seg(1, ACK, b"ab"),
            Seg(5, FIN, b""),
            Ack(6),
        ]);
        assert_eq!(out, [d(0, b"ab"), G(2, 2), Out::Fin]);
    }

    #[test]
    fn truncated_segments_leave_gaps_and_place_the_fin() {
        // A capture with a small snapshot length keeps 2 of each segment's bytes.
        let mut budget = Budget::default();
        let mut s = Stream::new(&StreamLimits::default());
        let mut out = Vec::new();
        s.segment(&mut budget, 0, SYN, b"", &mut collect(&mut out));
        s.segment_captured(&mut budget, 1, ACK, b"ab", 5, &mut collect(&mut out));
        // Out of order and cut: its tail waits until the stream gets there.
        s.segment_captured(&mut budget, 11, ACK | FIN, b"kl", 5, &mut collect(&mut out));
        s.segment_captured(&mut budget, 6, ACK, b"fg", 5, &mut collect(&mut out));
        assert_eq!(
            out,
            [d(0, b"ab"), G(2, 3), d(5, b"fg"), G(7, 3), d(10, b"kl")]
        );
        s.flush(&mut budget, &mut collect(&mut out));
        assert_eq!(out[5..], [G(12, 3), Out::Fin]);
        assert_eq!(s.stats().truncated_bytes, 6);
        // A captured length longer than the wire length is cut to the wire length.
        let mut s = Stream::new(&StreamLimits::default());
        let mut out = Vec::new();
        s.segment_captured(&mut budget, 0, ACK, b"abcdef", 3, &mut collect(&mut out));
        assert_eq!(out, [d(0, b"abc")]);
    }

    #[test]
    fn far_future_segment_is_dropped() {
        let (out, st) = run(&[Seg(0, SYN, b""), Seg(1 << 31, ACK, b"x"), Ack(1 << 31)]);
        assert!(out.is_empty());
        assert_eq!((st.out_of_window, st.ack_unseen), (1, 1));
    }

    #[test]
    fn ignore_counts_and_releases() {
        let mut budget = Budget::default();
        let mut s = Stream::new(&StreamLimits::default());
        let mut out = Vec::new();
        s.segment(&mut budget, 0, SYN, b"", &mut collect(&mut out));
        s.segment(&mut budget, 5, ACK, b"later", &mut collect(&mut out));
        assert!(budget.used() > 0);
        s.set_ignore();
        s.segment(&mut budget, 1, ACK, b"abcd", &mut collect(&mut out));
        assert_eq!(budget.used(), 0);
        s.segment(&mut budget, 10, ACK | FIN, b"xy", &mut collect(&mut out));
        assert_eq!(out, [Out::Fin]);
        assert_eq!(s.stats().ignored_bytes, 11);
        assert_eq!(s.stats().delivered_bytes, 0);
    }
}

//! Per-stream reassembly of QUIC STREAM frames (RFC 9000 2.2, 19.8): data handed out in
//! order, out-of-order data buffered up to a cap, and holes reported as gaps when the cap
//! is reached or the flow ends.

use std::collections::{BTreeMap, HashMap};

use super::onertt::Event;

/// Out-of-order bytes buffered per stream.
pub const MAX_STREAM_BUFFER: usize = 1 << 20;
/// Out-of-order bytes buffered per connection.
pub const MAX_BUFFERED: usize = 8 << 20;
/// Streams remembered per connection (open ones and finished ones, so that a late
/// retransmission does not open a stream anew).
pub const MAX_STREAMS: usize = 4096;

#[derive(Debug, Default)]
struct Buf {
    /// Next offset to hand out.
    next: u64,
    /// Out-of-order pieces by offset.
    pending: BTreeMap<u64, Vec<u8>>,
    buffered: usize,
    /// Final size, from a FIN.
    fin: Option<u64>,
    done: bool,
}

/// Counters of the reassembler.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StreamStats {
    /// Bytes skipped because the buffer caps were reached or the flow ended with holes.
    pub gap_bytes: u64,
    /// STREAM frames for a stream beyond [`MAX_STREAMS`], dropped.
    pub dropped_frames: u64,
}

#[derive(Debug, Default)]
pub(crate) struct Streams {
    map: HashMap<(u64, bool), Buf>,
    buffered: usize,
    pub(crate) stats: StreamStats,
}

impl Streams {
    pub(crate) fn insert(
        &mut self,
        from_client: bool,
        id: u64,
        offset: u64,
        data: &[u8],
        fin: bool,
        out: &mut Vec<Event>,
    ) {
        let key = (id, from_client);
        let first_event = out.len();
        if !self.map.contains_key(&key) {
            if self.map.len() >= MAX_STREAMS {
                // Forget finished streams first; without any, the new stream is dropped.
                self.map.retain(|_, b| !b.done);
                if self.map.len() >= MAX_STREAMS {
                    self.stats.dropped_frames += 1;
                    return;
                }
            }
            self.map.insert(key, Buf::default());
        }
        let Some(b) = self.map.get_mut(&key) else {
            return;
        };
        if b.done {
            return;
        }
        let end = offset.saturating_add(data.len() as u64);
        if fin {
            b.fin = Some(end);
        }
        if offset <= b.next {
            if end > b.next {
                let skip = usize::try_from(b.next - offset).unwrap_or(usize::MAX);
                let fresh = data.get(skip..).unwrap_or_default();
                b.next = end;
                emit(out, from_client, id, end - fresh.len() as u64, fresh, false);
            }
        } else {
            let room = MAX_STREAM_BUFFER.saturating_sub(b.buffered);
            let global = MAX_BUFFERED.saturating_sub(self.buffered);
            if data.len() <= room.min(global) {
                if !data.is_empty() {
                    let keep = b.pending.entry(offset).or_default();
                    if keep.len() < data.len() {
                        b.buffered = b.buffered - keep.len() + data.len();
                        self.buffered = self.buffered - keep.len() + data.len();
                        keep.clear();
                        keep.extend_from_slice(data);
                    }
                }
            } else {
                // Caps reached: give up the hole before this piece.
                self.stats.gap_bytes = self.stats.gap_bytes.saturating_add(offset - b.next);
                out.push(Event::StreamGap {
                    from_client,
                    id,
                    len: offset - b.next,
                });
                b.next = offset;
                // Anything buffered below `offset` is now behind us.
                drain(b, &mut self.buffered, from_client, id, out);
                if end > b.next {
                    let skip = usize::try_from(b.next - offset).unwrap_or(usize::MAX);
                    let fresh = data.get(skip..).unwrap_or_default();
                    emit(out, from_client, id, b.next, fresh, false);
                    b.next = end;
                }
            }
        }
        drain(b, &mut self.buffered, from_client, id, out);
        if b.fin.is_some_and(|f| b.next >= f) {
            b.done = true;
            self.buffered -= b.buffered;
            b.buffered = 0;
            b.pending.clear();
            // Mark the last piece handed out by this call, else send an empty end.
            match out.get_mut(first_event..).and_then(|o| o.last_mut()) {
                Some(Event::Stream { fin, .. }) => *fin = true,
                _ => emit(out, from_client, id, b.next, &[], true),
            }
        }
    }

    /// End of the flow: holes before buffered data are reported as gaps and the data after
    /// them handed out.
    pub(crate) fn finish(&mut self, out: &mut Vec<Event>) {
        let mut keys: Vec<(u64, bool)> = self.map.keys().copied().collect();
        keys.sort_unstable();
        for key in keys {
            let Some(b) = self.map.get_mut(&key) else {
                continue;
            };
            while let Some((&off, _)) = b.pending.iter().next() {
                if off > b.next {
                    self.stats.gap_bytes = self.stats.gap_bytes.saturating_add(off - b.next);
                    out.push(Event::StreamGap {
                        from_client: key.1,
                        id: key.0,
                        len: off - b.next,
                    });
                    b.next = off;
                }
                drain(b, &mut self.buffered, key.1, key.0, out);
            }
        }
        self.map.clear();
        self.buffered = 0;
    }
}

fn emit(out: &mut Vec<Event>, from_client: bool, id: u64, offset: u64, data: &[u8], fin: bool) {
    if data.is_empty() && !fin {
        return;
    }
    out.push(Event::Stream {
        from_client,
        id,
        offset,
        data: data.to_vec(),
        fin,
    });
}

/// Hands out buffered pieces that now touch `next`.
fn drain(b: &mut Buf, total: &mut usize, from_client: bool, id: u64, out: &mut Vec<Event>) {
    while let Some(entry) = b.pending.first_entry() {
        let off = *entry.key();
        if off > b.next {
            break;
        }
        let piece = entry.remove();
        b.buffered -= piece.len();
        *total -= piece.len();
        let end = off.saturating_add(piece.len() as u64);
        if end > b.next {
            let skip = usize::try_from(b.next - off).unwrap_or(usize::MAX);
            let fresh = piece.get(skip..).unwrap_or_default();
            emit(out, from_client, id, b.next, fresh, false);
            b.next = end;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flat(out: &[Event]) -> (Vec<u8>, Vec<u64>, bool) {
        let (mut data, mut gaps, mut fin) = (Vec::new(), Vec::new(), false);
        for e in out {
            match e {
                Event::Stream {
                    data: d,
                    fin: f,
                    offset,
                    ..
                } => {
                    assert_eq!(
                        *offset as usize,
                        data.len() + gaps.iter().sum::<u64>() as usize
                    );
                    data.extend_from_slice(d);
                    fin |= f;
                }
                Event::StreamGap { len, .. } => gaps.push(*len),
                _ => {}
            }
        }
        (data, gaps, fin)
    }

    #[test]
    fn order_overlap_duplicates_and_fin() {
        // (offset, data, fin) pieces of "abcdefghij" in awkward orders.
        let cases: &[&[(u64, &str, bool)]] = &[
            &[(0, "abcde", false), (5, "fghij", true)],
            &[(5, "fghij", true), (0, "abcde", false)],
            &[
                (3, "defg", false),
                (0, "abcd", false),
                (7, "hij", true),
                (0, "ab", false),
            ],
            &[
                (8, "ij", true),
                (2, "cdefgh", false),
                (0, "abc", false),
                (4, "efgh", false),
            ],
            &[(0, "abcdefghij", false), (10, "", true), (4, "efg", false)],
        ];
        for pieces in cases {
            let mut s = Streams::default();
            let mut out = Vec::new();
            for (off, d, fin) in *pieces {
                s.insert(true, 0, *off, d.as_bytes(), *fin, &mut out);
            }
            assert_eq!(
                flat(&out),
                (b"abcdefghij".to_vec(), vec![], true),
                "{pieces:?}"
            );
            assert_eq!(s.buffered, 0);
            // Retransmission after the end opens nothing.
            let n = out.len();
            s.insert(true, 0, 0, b"abc", false, &mut out);
            assert_eq!(out.len(), n);
        }
    }

    #[test]
    fn holes_become_gaps_at_finish_and_at_the_cap() {
        let mut s = Streams::default();
        let mut out = Vec::new();
        s.insert(false, 3, 0, b"ab", false, &mut out);
        s.insert(false, 3, 5, b"fg", false, &mut out);
        s.finish(&mut out);
        assert_eq!(flat(&out), (b"abfg".to_vec(), vec![3], false));
        let mut s = Streams::default();
        let mut out = Vec::new();
        let big = vec![7u8; MAX_STREAM_BUFFER + 1];
        s.insert(true, 4, 10, &big, false, &mut out);
        assert_eq!(flat(&out).1, vec![10]);
        assert_eq!(s.stats.gap_bytes, 10);
    }
}

//! Layer "websocket": the messages of WebSocket frames at the start of a payload.
//!
//! After an HTTP Upgrade the stream is a sequence of frames (RFC 6455 section 5.2): two header
//! bytes (FIN, RSV1-3, opcode; MASK, 7-bit length), an extended 16- or 64-bit length, a 4-byte
//! masking key on frames from the client, the payload. A chunk of such a stream is taken for
//! frames only if it parses as frames from its first byte to its end (the last one may be cut):
//! known opcodes, RSV2 and RSV3 clear, control frames final and short (section 5.5), lengths in
//! their shortest form, a fragmented message continued only by continuation frames (section
//! 5.4), and the same masking on every frame (one direction is masked, the other is not).
//!
//! Each text or binary message (fragments reassembled, unmasked per section 5.3, up to the view
//! cap) is a view; control frames are not. A message with RSV1 set is compressed with
//! permessage-deflate (RFC 7692 section 7.2.2): raw deflate, with the `00 00 ff ff` the sender
//! removed appended again; the inflater keeps its window from message to message, as the
//! extension does by default, and the inflated message is a "websocket" / "deflate" view.
//! Frames are only looked for at the start of a payload: the pipeline hands chunks in order,
//! and a chunk that starts mid-frame is not resynchronised (the next message header is
//! indistinguishable from payload bytes).
//!
//! Written here because WebSocket crates parse frames from a socket for a live connection and
//! reject what a passive observer must take as it comes.

use std::ops::Range;

use flate2::{Decompress, FlushDecompress};

use super::compress::{run_flate, End};
use super::{Expander, Hint, Visit};

/// Frames read from one payload; more are left unread (and counted as a cut).
const MAX_FRAMES: usize = 4096;
/// The tail of a sync flush that permessage-deflate senders strip (RFC 7692 section 7.2.1).
const SYNC_TAIL: [u8; 4] = [0x00, 0x00, 0xff, 0xff];

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Frame {
    pub(super) fin: bool,
    pub(super) rsv1: bool,
    pub(super) opcode: u8,
    pub(super) mask: Option<[u8; 4]>,
    pub(super) payload: Range<usize>,
    /// The whole payload is in the buffer.
    pub(super) complete: bool,
}

/// Whether the first two bytes can start a frame stream.
pub(super) fn plausible(buf: &[u8]) -> bool {
    match (buf.first(), buf.get(1)) {
        (Some(&b0), Some(&b1)) => {
            let op = b0 & 0x0f;
            b0 & 0x30 == 0
                && match op {
                    1 | 2 => true,
                    8..=10 => b0 & 0xc0 == 0x80 && b1 & 0x7f <= 125,
                    _ => false,
                }
        }
        _ => false,
    }
}

/// Reads the frames of `buf` into `out`. False if `buf` is not a frame stream from its start,
/// or holds no complete frame.
pub(super) fn frames(buf: &[u8], out: &mut Vec<Frame>) -> bool {
    out.clear();
    let mut pos = 0usize;
    let mut masked = None;
    let mut open = false;
    while pos < buf.len() && out.len() < MAX_FRAMES {
        let Some(&b0) = buf.get(pos) else { break };
        let Some(&b1) = buf.get(pos + 1) else { break };
        let fin = b0 & 0x80 != 0;
        let rsv1 = b0 & 0x40 != 0;
        let opcode = b0 & 0x0f;
        if b0 & 0x30 != 0 {
            return false;
        }
        let len7 = b1 & 0x7f;
        let ok = match opcode {
            0 => open && !rsv1,
            1 | 2 => !open,
            8..=10 => fin && !rsv1 && len7 <= 125,
            _ => false,
        };
        let m = b1 & 0x80 != 0;
        if !ok || masked.is_some_and(|x| x != m) {
            return false;
        }
        masked = Some(m);
        let mut at = pos + 2;
        let len: u64 = match len7 {
            126 => {
                let Some(b) = buf.get(at..at + 2) else { break };
                at += 2;
                let l = u64::from(u16::from_be_bytes([b[0], b[1]]));
                if l < 126 {
                    return false;
                }
                l
            }
            127 => {
                let Some(b) = buf.get(at..at + 8) else { break };
                at += 8;
                let mut a = [0u8; 8];
                a.copy_from_slice(b);
                let l = u64::from_be_bytes(a);
                if l >> 63 != 0 || l < 65_536 {
                    return false;
                }
                l
            }
            n => u64::from(n),
        };
        let mask = if m {
            let Some(k) = buf.get(at..at + 4) else { break };
            at += 4;
            Some([k[0], k[1], k[2], k[3]])
        } else {
            None
        };
        let want = usize::try_from(len).unwrap_or(usize::MAX);
        let end = at.saturating_add(want);
        let complete = end <= buf.len();
        let end = end.min(buf.len());
        out.push(Frame {
            fin,
            rsv1,
            opcode,
            mask,
            payload: at..end,
            complete,
        });
        match opcode {
            1 | 2 => open = !fin,
            0 if fin => open = false,
            _ => {}
        }
        pos = end;
    }
    out.iter().any(|f| f.complete)
}

impl Expander {
    pub(super) fn websocket(&mut self, input: &[u8], depth: usize, visit: Visit<'_>) {
        let mut list = std::mem::take(&mut self.frames);
        if frames(input, &mut list) {
            if list.len() >= MAX_FRAMES {
                self.stats.capped += 1;
            }
            self.messages(input, &list, depth, visit);
        }
        list.clear();
        self.frames = list;
    }

    fn messages(&mut self, input: &[u8], list: &[Frame], depth: usize, visit: Visit<'_>) {
        let mut msg = self.take(depth, 0);
        let mut out = self.take(depth, 1);
        match self.inflate.ws.as_mut() {
            Some(d) => d.reset(false),
            None => self.inflate.ws = Some(Decompress::new(false)),
        }
        let mut compressed = false;
        let mut open = false;
        let mut cut = false;
        for (i, f) in list.iter().enumerate() {
            if f.opcode >= 8 {
                continue;
            }
            if f.opcode != 0 {
                msg.clear();
                compressed = f.rsv1;
                cut = false;
            }
            open = true;
            let Some(room) = self.room() else {
                break;
            };
            let payload = input.get(f.payload.clone()).unwrap_or(&[]);
            let take = payload.len().min(room.saturating_sub(msg.len()));
            if take < payload.len() {
                cut = true;
            }
            let first = msg.len();
            msg.extend_from_slice(payload.get(..take).unwrap_or(&[]));
            if let (Some(k), Some(part)) = (f.mask, msg.get_mut(first..)) {
                for (j, b) in part.iter_mut().enumerate() {
                    *b ^= k[j % 4];
                }
            }
            let last = i + 1 == list.len();
            if f.fin || last {
                let whole = f.fin && f.complete && !cut;
                self.message(
                    &mut msg, &mut out, compressed, whole, cut, input, depth, visit,
                );
                open = false;
            }
        }
        if open {
            self.message(
                &mut msg, &mut out, compressed, false, cut, input, depth, visit,
            );
        }
        self.put(depth, 0, msg);
        self.put(depth, 1, out);
    }

    /// Hands out one reassembled message, inflated first when compressed.
    #[allow(clippy::too_many_arguments)]
    fn message(
        &mut self,
        msg: &mut Vec<u8>,
        out: &mut Vec<u8>,
        compressed: bool,
        whole: bool,
        cut: bool,
        input: &[u8],
        depth: usize,
        visit: Visit<'_>,
    ) {
        if cut {
            self.stats.capped += 1;
        }
        if !compressed {
            self.emit(&["websocket"], msg, input, Hint::Payload, depth, visit);
            msg.clear();
            return;
        }
        if whole {
            msg.extend_from_slice(&SYNC_TAIL);
        }
        let Some(room) = self.room() else {
            return;
        };
        out.clear();
        let o = match self.inflate.ws.as_mut() {
            Some(d) => run_flate(d, msg, out, room, FlushDecompress::Sync),
            None => return,
        };
        self.charge_work(o.consumed.saturating_add(out.len()));
        match o.end {
            End::Failed => {}
            end => {
                if end == End::Capped {
                    self.stats.bombs += 1;
                    self.stats.capped += 1;
                }
                self.emit(
                    &["websocket", "deflate"],
                    out,
                    input,
                    Hint::Payload,
                    depth,
                    visit,
                );
            }
        }
        msg.clear();
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write as _;

    use super::super::tests::expand;
    use super::*;

    fn frame(fin: bool, rsv1: bool, op: u8, mask: Option<[u8; 4]>, payload: &[u8]) -> Vec<u8> {
        let mut f = vec![(u8::from(fin) << 7) | (u8::from(rsv1) << 6) | op];
        let m = if mask.is_some() { 0x80 } else { 0 };
        match payload.len() {
            n if n < 126 => f.push(m | n as u8),
            n if n < 65_536 => {
                f.push(m | 126);
                f.extend_from_slice(&(n as u16).to_be_bytes());
            }
            n => {
                f.push(m | 127);
                f.extend_from_slice(&(n as u64).to_be_bytes());
            }
        }
        match mask {
            Some(k) => {
                f.extend_from_slice(&k);
                f.extend(payload.iter().enumerate().map(|(i, b)| b ^ k[i % 4]));
            }
            None => f.extend_from_slice(payload),
        }
        f
    }

    fn deflate_raw(data: &[u8]) -> Vec<u8> {
        // permessage-deflate: a sync flush, its 00 00 ff ff tail removed.
        let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(data).unwrap();
        e.flush().unwrap();
        let mut v = e.get_ref().clone();
        assert!(v.ends_with(&SYNC_TAIL));
        v.truncate(v.len() - 4);
        v
    }

    #[test]
    fn masked_fragmented_with_ping() {
        // The example of RFC 6455 section 5.7, "Hello" masked with 37 fa 21 3d.
        let hello = [
            0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58,
        ];
        let mut list = Vec::new();
        assert!(frames(&hello, &mut list));
        assert_eq!(list[0].payload, 6..11);
        let k = Some([1, 2, 3, 4]);
        let mut p = frame(false, false, 1, k, b"{\"imei\":\"3569380");
        p.extend(frame(true, false, 9, k, b"ping"));
        p.extend(frame(true, false, 0, k, b"35643809\"}"));
        p.extend(frame(true, false, 2, k, b"second message"));
        let v = expand(Hint::Payload, &p);
        assert_eq!(
            v,
            [
                (
                    "websocket".to_owned(),
                    b"{\"imei\":\"356938035643809\"}".to_vec()
                ),
                ("websocket".to_owned(), b"second message".to_vec()),
            ]
        );
    }

    #[test]
    fn rejects() {
        let mut list = Vec::new();
        // A continuation with nothing to continue; a control frame not final; RSV2 set.
        assert!(!frames(&frame(true, false, 0, None, b"abcdef"), &mut list));
        assert!(!frames(&frame(false, false, 9, None, b"abcdef"), &mut list));
        assert!(!frames(&[0xa1, 0x01, 0x00], &mut list));
        // A 126 length that fits in 7 bits is not the shortest form.
        assert!(!frames(&[0x82, 126, 0x00, 0x05, 1, 2, 3, 4, 5], &mut list));
        // Mixed masking.
        let mut p = frame(true, false, 1, None, b"abcdefgh");
        p.extend(frame(true, false, 1, Some([9; 4]), b"abcdefgh"));
        assert!(!frames(&p, &mut list));
        // Only a cut frame: not enough to believe it.
        let f = frame(true, false, 2, None, &[7; 300]);
        assert!(!frames(&f[..100], &mut list));
        // HTTP text is no frame stream.
        assert!(expand(Hint::Payload, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").is_empty());
    }

    #[test]
    fn permessage_deflate_keeps_its_window() {
        let a = b"{\"phone\":\"+886912345678\",\"name\":\"Chen Mei Ling\"}";
        let b = b"{\"phone\":\"+886912345678\",\"name\":\"Chen Mei Ling\",\"n\":2}";
        // One compressor for both messages: the second refers back into the first.
        let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(a).unwrap();
        e.flush().unwrap();
        let first = e.get_ref().len();
        e.write_all(b).unwrap();
        e.flush().unwrap();
        let all = e.get_ref().clone();
        let m1 = &all[..first - 4];
        let m2 = &all[first..all.len() - 4];
        let mut p = frame(true, true, 1, Some([5, 6, 7, 8]), m1);
        p.extend(frame(true, true, 1, Some([5, 6, 7, 8]), m2));
        let v = expand(Hint::Payload, &p);
        assert_eq!(
            v,
            [
                ("websocket/deflate".to_owned(), a.to_vec()),
                ("websocket/deflate".to_owned(), b.to_vec()),
            ]
        );
        // Unmasked (server to client): a plain message, then a compressed one.
        let c = deflate_raw(&[b'z'; 5000]);
        let mut p = frame(true, false, 1, None, b"hello there");
        p.extend(frame(true, true, 2, None, &c));
        let v = expand(Hint::Payload, &p);
        assert_eq!(v[0], ("websocket".to_owned(), b"hello there".to_vec()));
        assert_eq!(v[1], ("websocket/deflate".to_owned(), vec![b'z'; 5000]));
    }
}

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
//! As a layer, frames are only looked for at the start of a payload: a chunk that starts
//! mid-frame is not resynchronised (the next message header is indistinguishable from payload
//! bytes).
//!
//! When the connection's opening handshake was seen (an HTTP/1.1 Upgrade answered by 101,
//! RFC 6455 section 4), the frame boundaries are known from the first byte after it, and a
//! [`Deframer`] per direction follows them across TCP segments: frame headers and payloads may
//! be cut anywhere, and each message is handed out whole once its final frame ends.
//!
//! Written here because WebSocket crates parse frames from a socket for a live connection and
//! reject what a passive observer must take as it comes.

use std::ops::Range;

use flate2::{Decompress, FlushDecompress};

use super::compress::{run_flate, End};
use super::{Expander, Hint, Visit};

/// Frames read from one payload; more are left unread (and counted as a cut).
const MAX_FRAMES: usize = 4096;
/// Bytes of one message a [`Deframer`] keeps (and of its inflated form); the rest is dropped.
pub const MAX_MESSAGE: usize = 1 << 20;
/// The longest frame header: 2 bytes, a 64-bit length, a masking key.
const MAX_HEADER: usize = 14;
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

/// A frame header read from the start of a buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Header {
    fin: bool,
    rsv1: bool,
    opcode: u8,
    mask: Option<[u8; 4]>,
    /// Payload length.
    len: u64,
    /// Header length.
    size: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Parsed {
    Frame(Header),
    /// The buffer ends inside the header.
    Short,
    /// Not a frame that may come here.
    Invalid,
}

/// Reads the header at the start of `buf`. `open`: a fragmented message awaits its
/// continuation; `masked`: the masking of the frames before (all frames of one direction are
/// masked alike).
fn header(buf: &[u8], open: bool, masked: Option<bool>) -> Parsed {
    let (Some(&b0), Some(&b1)) = (buf.first(), buf.get(1)) else {
        return Parsed::Short;
    };
    let fin = b0 & 0x80 != 0;
    let rsv1 = b0 & 0x40 != 0;
    let opcode = b0 & 0x0f;
    // RSV2 and RSV3: no extension in use defines them.
    if b0 & 0x30 != 0 {
        return Parsed::Invalid;
    }
    let len7 = b1 & 0x7f;
    // Section 5.4: a continuation only inside a fragmented message, a new message only
    // outside one; section 5.5: control frames final, short, never compressed.
    let ok = match opcode {
        0 => open && !rsv1,
        1 | 2 => !open,
        8..=10 => fin && !rsv1 && len7 <= 125,
        _ => false,
    };
    let m = b1 & 0x80 != 0;
    if !ok || masked.is_some_and(|x| x != m) {
        return Parsed::Invalid;
    }
    let mut at = 2usize;
    // Section 5.2: lengths in their shortest form, the 64-bit one with its top bit clear.
    let len: u64 = match len7 {
        126 => {
            let Some(b) = buf.get(at..at + 2) else {
                return Parsed::Short;
            };
            at += 2;
            let l = u64::from(u16::from_be_bytes([b[0], b[1]]));
            if l < 126 {
                return Parsed::Invalid;
            }
            l
        }
        127 => {
            let Some(b) = buf.get(at..at + 8) else {
                return Parsed::Short;
            };
            at += 8;
            let mut a = [0u8; 8];
            a.copy_from_slice(b);
            let l = u64::from_be_bytes(a);
            if l >> 63 != 0 || l < 65_536 {
                return Parsed::Invalid;
            }
            l
        }
        n => u64::from(n),
    };
    let mask = if m {
        let Some(k) = buf.get(at..at + 4) else {
            return Parsed::Short;
        };
        at += 4;
        Some([k[0], k[1], k[2], k[3]])
    } else {
        None
    };
    Parsed::Frame(Header {
        fin,
        rsv1,
        opcode,
        mask,
        len,
        size: at,
    })
}

/// Reads the frames of `buf` into `out`. False if `buf` is not a frame stream from its start,
/// or holds no complete frame.
pub(super) fn frames(buf: &[u8], out: &mut Vec<Frame>) -> bool {
    out.clear();
    let mut pos = 0usize;
    let mut masked = None;
    let mut open = false;
    while pos < buf.len() && out.len() < MAX_FRAMES {
        let h = match header(buf.get(pos..).unwrap_or(&[]), open, masked) {
            Parsed::Frame(h) => h,
            Parsed::Short => break,
            Parsed::Invalid => return false,
        };
        let (fin, rsv1, opcode, mask) = (h.fin, h.rsv1, h.opcode, h.mask);
        masked = Some(mask.is_some());
        let at = pos + h.size;
        let want = usize::try_from(h.len).unwrap_or(usize::MAX);
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

/// One message handed out by a [`Deframer`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Message<'a> {
    /// The payload: unmasked, fragments joined, inflated when `inflated`.
    pub bytes: &'a [u8],
    /// Compressed with permessage-deflate (RSV1) and inflated here.
    pub inflated: bool,
    /// Part of the message is missing: cut at [`MAX_MESSAGE`], a hole in the stream, or the
    /// stream ended before its final frame.
    pub partial: bool,
}

/// Where a [`Deframer`] is in the frame stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum At {
    /// In a header; its first bytes are in `head`.
    Header,
    /// In a payload: bytes left, the masking key and the payload offset (for the key's
    /// position), whether it belongs to a message (not a control frame), and whether it ends
    /// the message.
    Payload {
        left: u64,
        mask: Option<[u8; 4]>,
        at: u64,
        data: bool,
        fin: bool,
    },
}

/// Reads one direction of a WebSocket connection, from the first byte after the opening
/// handshake, chunk by chunk, and hands out each text or binary message once its final frame
/// ends. Memory: the message being read, up to [`MAX_MESSAGE`] bytes, and, once a compressed
/// message is seen, an inflater with its 32 KiB window, kept from message to message as
/// permessage-deflate does without `no_context_takeover`.
///
/// A byte that cannot be a frame header where one is due (or a hole in a header) means the
/// stream is no frame stream, or it lost its place: the deframer stops ([`Deframer::failed`])
/// and the caller decides what to do with the rest.
#[derive(Debug)]
pub struct Deframer {
    at: At,
    head: [u8; MAX_HEADER],
    head_len: usize,
    /// Whether the frames so far were masked (None before the first).
    masked: Option<bool>,
    /// A fragmented message awaits its continuation frames.
    open: bool,
    compressed: bool,
    msg: Vec<u8>,
    partial: bool,
    inflater: Option<Box<Decompress>>,
    /// The inflater's window no longer matches the sender's (a hole, a cut message).
    inflater_lost: bool,
    out: Vec<u8>,
    failed: bool,
    /// Messages handed out.
    pub messages: u64,
    /// Messages cut at [`MAX_MESSAGE`] (raw or inflated).
    pub capped: u64,
}

impl Default for Deframer {
    fn default() -> Self {
        Self::new()
    }
}

impl Deframer {
    pub fn new() -> Self {
        Self {
            at: At::Header,
            head: [0; MAX_HEADER],
            head_len: 0,
            masked: None,
            open: false,
            compressed: false,
            msg: Vec::new(),
            partial: false,
            inflater: None,
            inflater_lost: false,
            out: Vec::new(),
            failed: false,
            messages: 0,
            capped: 0,
        }
    }

    /// The stream stopped being a frame stream; later input is ignored.
    pub fn failed(&self) -> bool {
        self.failed
    }

    /// Feeds the next bytes of the direction; `f` gets each message completed. Returns false
    /// once the deframer has failed (see [`Deframer::failed`]).
    pub fn push(&mut self, mut data: &[u8], f: &mut dyn FnMut(Message<'_>)) -> bool {
        while !data.is_empty() && !self.failed {
            match self.at {
                At::Header => {
                    // Enough bytes of the header to read it, never more than it can have.
                    let take = data.len().min(MAX_HEADER - self.head_len);
                    let old = self.head_len;
                    self.head[old..old + take].copy_from_slice(&data[..take]);
                    self.head_len += take;
                    match header(&self.head[..self.head_len], self.open, self.masked) {
                        Parsed::Short => {
                            data = &data[take..];
                        }
                        Parsed::Invalid => self.failed = true,
                        Parsed::Frame(h) => {
                            // Bytes of `data` past the header go back to the payload.
                            data = &data[h.size.saturating_sub(old)..];
                            self.head_len = 0;
                            self.frame(h, f);
                        }
                    }
                }
                At::Payload {
                    left,
                    mask,
                    at,
                    data: keep,
                    fin,
                } => {
                    let take = usize::try_from(left).unwrap_or(usize::MAX).min(data.len());
                    if keep {
                        self.append(&data[..take], mask, at);
                    }
                    data = &data[take..];
                    let left = left - take as u64;
                    self.at = At::Payload {
                        left,
                        mask,
                        at: at.saturating_add(take as u64),
                        data: keep,
                        fin,
                    };
                    if left == 0 {
                        self.frame_end(f);
                    }
                }
            }
        }
        !self.failed
    }

    /// `len` bytes of the direction were lost. Inside a payload the frame stream goes on
    /// after them (the message is handed out in the pieces around the hole); anywhere else
    /// the frame boundaries are lost, and the deframer fails.
    pub fn gap(&mut self, len: u64, f: &mut dyn FnMut(Message<'_>)) {
        if self.failed || len == 0 {
            return;
        }
        match self.at {
            At::Payload {
                left,
                mask,
                at,
                data,
                fin,
            } if len <= left => {
                if data {
                    // No value may be joined across the hole: what came before is handed out,
                    // and what comes after is a piece of its own.
                    self.deliver(true, f);
                    self.partial = true;
                    self.inflater_lost = true;
                }
                self.at = At::Payload {
                    left: left - len,
                    mask,
                    at: at.saturating_add(len),
                    data,
                    fin,
                };
                if left == len {
                    self.frame_end(f);
                }
            }
            _ => self.failed = true,
        }
    }

    /// The direction ended: a message still open is handed out as it is.
    pub fn finish(&mut self, f: &mut dyn FnMut(Message<'_>)) {
        if !self.msg.is_empty() {
            self.deliver(true, f);
        }
        self.open = false;
    }

    fn frame(&mut self, h: Header, f: &mut dyn FnMut(Message<'_>)) {
        self.masked = Some(h.mask.is_some());
        let data = h.opcode < 8;
        if matches!(h.opcode, 1 | 2) {
            self.msg.clear();
            self.partial = false;
            self.compressed = h.rsv1;
        }
        if data {
            self.open = !h.fin;
        }
        self.at = At::Payload {
            left: h.len,
            mask: h.mask,
            at: 0,
            data,
            fin: h.fin,
        };
        if h.len == 0 {
            self.frame_end(f);
        }
    }

    fn frame_end(&mut self, f: &mut dyn FnMut(Message<'_>)) {
        if let At::Payload {
            data: true,
            fin: true,
            ..
        } = self.at
        {
            self.deliver(false, f);
        }
        self.at = At::Header;
    }

    /// Appends payload bytes at payload offset `at` to the message, unmasked (section 5.3).
    fn append(&mut self, bytes: &[u8], mask: Option<[u8; 4]>, at: u64) {
        let room = MAX_MESSAGE.saturating_sub(self.msg.len());
        if bytes.len() > room && !self.partial {
            self.partial = true;
            self.capped += 1;
        }
        let first = self.msg.len();
        self.msg.extend_from_slice(&bytes[..bytes.len().min(room)]);
        if let (Some(k), Some(part)) = (mask, self.msg.get_mut(first..)) {
            for (j, b) in part.iter_mut().enumerate() {
                *b ^= k[((at + j as u64) % 4) as usize];
            }
        }
    }

    /// Hands out the message read so far (inflated first when compressed) and clears it.
    fn deliver(&mut self, partial: bool, f: &mut dyn FnMut(Message<'_>)) {
        let partial = partial || self.partial;
        if !self.compressed {
            if !self.msg.is_empty() {
                self.messages += 1;
                f(Message {
                    bytes: &self.msg,
                    inflated: false,
                    partial,
                });
            }
            self.msg.clear();
            return;
        }
        if self.inflater_lost {
            // The window is gone: start afresh, which is right for senders that do not take
            // over their context, and fails harmlessly for the others.
            self.inflater = None;
            self.inflater_lost = false;
        }
        if !partial {
            self.msg.extend_from_slice(&SYNC_TAIL);
        }
        let d = self
            .inflater
            .get_or_insert_with(|| Box::new(Decompress::new(false)));
        self.out.clear();
        let o = run_flate(
            d,
            &self.msg,
            &mut self.out,
            MAX_MESSAGE,
            FlushDecompress::Sync,
        );
        match o.end {
            End::Failed => self.inflater_lost = true,
            end => {
                if end == End::Capped {
                    self.capped += 1;
                    self.inflater_lost = true;
                }
                if partial {
                    self.inflater_lost = true;
                }
                if !self.out.is_empty() {
                    self.messages += 1;
                    f(Message {
                        bytes: &self.out,
                        inflated: true,
                        partial: partial || end == End::Capped,
                    });
                }
            }
        }
        self.msg.clear();
        self.out.clear();
    }
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

    /// Two messages from one compressor (context takeover), each a sync flush with its
    /// 00 00 ff ff tail removed: the second refers back into the first. Returns both texts and
    /// both compressed payloads.
    fn context_takeover() -> (&'static [u8], &'static [u8], Vec<u8>, Vec<u8>) {
        let a = b"{\"phone\":\"+886912345678\",\"name\":\"Chen Mei Ling\"}";
        let b = b"{\"phone\":\"+886912345678\",\"name\":\"Chen Mei Ling\",\"n\":2}";
        let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(a).unwrap();
        e.flush().unwrap();
        let first = e.get_ref().len();
        e.write_all(b).unwrap();
        e.flush().unwrap();
        let all = e.get_ref().clone();
        let m1 = all[..first - 4].to_vec();
        let m2 = all[first..all.len() - 4].to_vec();
        (a, b, m1, m2)
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

    /// Messages handed out: (bytes, inflated, partial) each.
    type Got = Vec<(Vec<u8>, bool, bool)>;

    /// Runs a deframer over `parts`, then finishes it.
    fn deframe(parts: &[&[u8]]) -> (Got, Deframer) {
        let mut d = Deframer::new();
        let mut got = Vec::new();
        let mut f = |m: Message<'_>| got.push((m.bytes.to_vec(), m.inflated, m.partial));
        for p in parts {
            d.push(p, &mut f);
        }
        d.finish(&mut f);
        (got, d)
    }

    /// A client's side of a chat session: a masked text message, a binary message in two
    /// fragments with a ping between them, an empty text message, a close.
    fn client_stream() -> (Vec<u8>, Got) {
        let k = Some([0x37, 0xfa, 0x21, 0x3d]);
        let mut p = frame(true, false, 1, k, b"{\"imei\":\"356938035643809\"}");
        p.extend(frame(false, false, 2, k, b"\x02\x00+8869123"));
        p.extend(frame(true, false, 9, k, b"ping"));
        p.extend(frame(true, false, 0, k, &[b'4'; 300]));
        p.extend(frame(true, false, 1, k, b""));
        p.extend(frame(true, false, 8, k, b"\x03\xe8"));
        let mut second = b"\x02\x00+8869123".to_vec();
        second.extend_from_slice(&[b'4'; 300]);
        let want = vec![
            (b"{\"imei\":\"356938035643809\"}".to_vec(), false, false),
            (second, false, false),
        ];
        (p, want)
    }

    #[test]
    fn deframer_any_split() {
        let (p, want) = client_stream();
        let (got, d) = deframe(&[&p]);
        assert_eq!(got, want);
        assert!(!d.failed());
        // Cut once at every byte (headers, the 16-bit length and masking keys included), and
        // byte by byte: the same messages.
        for k in 0..=p.len() {
            assert_eq!(deframe(&[&p[..k], &p[k..]]).0, want, "split {k}");
        }
        let bytes: Vec<&[u8]> = p.chunks(1).collect();
        assert_eq!(deframe(&bytes).0, want);
    }

    #[test]
    fn deframer_compressed_across_segments() {
        // Server to client (unmasked), permessage-deflate with context takeover: the second
        // message refers back into the first.
        let (a, b, m1, m2) = context_takeover();
        let mut p = frame(true, true, 1, None, &m1);
        p.extend(frame(true, true, 1, None, &m2));
        let want = vec![(a.to_vec(), true, false), (b.to_vec(), true, false)];
        for k in 0..=p.len() {
            assert_eq!(deframe(&[&p[..k], &p[k..]]).0, want, "split {k}");
        }
    }

    #[test]
    fn deframer_gaps_and_garbage() {
        let (p, _) = client_stream();
        // A hole inside the first payload: the bytes before it and after it, each a partial
        // message, never joined; the stream goes on.
        let mut d = Deframer::new();
        let mut got = Vec::new();
        let mut f = |m: Message<'_>| got.push((m.bytes.to_vec(), m.partial));
        d.push(&p[..10], &mut f);
        d.gap(4, &mut f);
        d.push(&p[14..], &mut f);
        d.finish(&mut f);
        assert!(!d.failed());
        let msg = b"{\"imei\":\"356938035643809\"}";
        assert_eq!(got[0], (msg[..4].to_vec(), true));
        assert_eq!(got[1], (msg[8..].to_vec(), true));
        assert_eq!(got.len(), 3);
        assert!(!got[2].1);
        // A hole in a header loses the frame boundaries.
        let mut d = Deframer::new();
        d.push(&p[..1], &mut |_| {});
        d.gap(3, &mut |_| {});
        assert!(d.failed());
        // Bytes that are no frames: HTTP, a reserved opcode, a continuation with nothing to
        // continue, masking that changes between frames.
        for bad in [
            b"GET / HTTP/1.1\r\n\r\n".to_vec(),
            frame(true, false, 3, None, b"x"),
            frame(true, false, 0, None, b"abc"),
            [
                frame(true, false, 1, None, b"a"),
                frame(true, false, 1, Some([1; 4]), b"b"),
            ]
            .concat(),
        ] {
            let (_, d) = deframe(&[&bad]);
            assert!(d.failed(), "{bad:?}");
        }
    }

    #[test]
    fn deframer_caps_a_long_message() {
        // 3 MiB in one binary frame (64-bit length): only MAX_MESSAGE bytes are kept.
        let big = vec![b'z'; 3 << 20];
        let p = frame(true, false, 2, None, &big);
        let mut d = Deframer::new();
        let mut sizes = Vec::new();
        for c in p.chunks(1460) {
            d.push(c, &mut |m| sizes.push((m.bytes.len(), m.partial)));
        }
        assert_eq!(sizes, [(MAX_MESSAGE, true)]);
        assert_eq!(d.capped, 1);
        assert!(d.msg.capacity() <= 2 * MAX_MESSAGE);
        // A message the stream ends inside is handed out as it is.
        let f = frame(true, false, 1, None, b"half of a message");
        let (got, _) = deframe(&[&f[..12]]);
        assert_eq!(got, [(b"half of a ".to_vec(), false, true)]);
    }

    #[test]
    fn permessage_deflate_keeps_its_window() {
        let (a, b, m1, m2) = context_takeover();
        let mut p = frame(true, true, 1, Some([5, 6, 7, 8]), &m1);
        p.extend(frame(true, true, 1, Some([5, 6, 7, 8]), &m2));
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

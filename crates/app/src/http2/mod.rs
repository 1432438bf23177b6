//! HTTP/2 (RFC 9113) with HPACK (RFC 7541): decrypted or cleartext (h2c) byte streams in,
//! the same [`http::Message`]s HTTP/1 produces out.
//!
//! A [`Connection`] is fed each direction's reassembled bytes with [`Connection::push`]:
//! the client connection preface (RFC 9113 3.4), then frames (4.1). HEADERS, CONTINUATION
//! and PUSH_PROMISE fragments are joined into header blocks and decoded with that
//! direction's HPACK dynamic table; DATA is streamed into the stream's message without
//! buffering the frame; padding and priority fields are stripped; SETTINGS_HEADER_TABLE_SIZE
//! sets the other direction's table cap; RST_STREAM ends a stream's messages as incomplete;
//! PING, PRIORITY, WINDOW_UPDATE, GOAWAY and unknown frame types are skipped (RFC 9113 5.5).
//! A request becomes `Kind::Request { method, uri: :path }` with a `host` field made from
//! `:authority`; a response `Kind::Response { status, reason: "" }`; `version` is 2. Bodies
//! are decoded with the HTTP/1 content-coding decoder.
//!
//! # Contract
//! No input panics: frame lengths are checked against what was received, every header
//! length is bounded. Memory is bounded by [`Limits`]: streams tracked (the oldest is ended
//! as incomplete when a new one needs room), header block and field list sizes, the HPACK
//! table, and body bytes kept per message. Lost bytes ([`Connection::gap`]) inside a DATA
//! frame leave a hole in that body and framing goes on; lost bytes anywhere else lose the
//! framing of that direction and, as HPACK state is then unknown, its header decoding: its
//! open messages end incomplete and further bytes are counted, not parsed. All of it is
//! counted in [`Stats`].
//!
//! ```
//! use phonehome_app::http::Direction;
//! use phonehome_app::http2::{Connection, Limits};
//! let mut c = Connection::new(Limits::default());
//! let mut out = Vec::new();
//! let mut req = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".to_vec();
//! // HEADERS, stream 1, END_STREAM | END_HEADERS: GET http://www.example.com/ (RFC 7541 C.3.1)
//! req.extend_from_slice(&[0, 0, 20, 1, 5, 0, 0, 0, 1]);
//! req.extend_from_slice(b"\x82\x86\x84\x41\x0fwww.example.com");
//! c.push(Direction::Request, &req, &mut out);
//! assert_eq!(out[0].host(), Some("www.example.com"));
//! ```

#[doc(hidden)]
pub mod fuzzing;
pub(crate) mod hpack;
pub(crate) mod huffman;
pub(crate) mod message;

use std::collections::HashMap;

use crate::http::{Direction, Message};
use message::Partial;

/// The client connection preface (RFC 9113 3.4).
pub const PREFACE: &[u8; 24] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// Whether `data` starts like the client connection preface (a prefix of it is enough).
pub fn looks_like_preface(data: &[u8]) -> bool {
    let n = data.len().min(PREFACE.len());
    n >= 4 && data[..n] == PREFACE[..n]
}

/// Memory bounds for one connection (also used by [`crate::http3`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Streams with a message in progress; a new one beyond this ends the oldest.
    pub max_streams: usize,
    /// Header block (all fragments) or field section kept for decoding.
    pub max_header_block: usize,
    /// Decoded field list per message, counted as RFC 7541 4.1 does (name + value + 32);
    /// fields beyond are decoded (to keep the table in step) but dropped.
    pub max_header_list: usize,
    /// Dynamic table size accepted (HPACK size updates, QPACK capacity).
    pub max_table: usize,
    /// Body bytes kept per message before decoding; more are counted only.
    pub max_body: usize,
    /// Decoded body bytes kept per message.
    pub max_decoded: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_streams: 256,
            max_header_block: 256 << 10,
            max_header_list: 256 << 10,
            max_table: 64 << 10,
            max_body: 16 << 20,
            max_decoded: 16 << 20,
        }
    }
}

/// What a connection saw and dropped.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    pub frames: u64,
    pub messages: u64,
    /// The client direction did not open with the connection preface.
    pub missing_preface: u64,
    /// Header blocks that did not decode (HPACK error); that direction's headers stop.
    pub hpack_errors: u64,
    /// Header blocks not decoded because HPACK state was lost earlier.
    pub undecoded_blocks: u64,
    /// Header blocks larger than `max_header_block`.
    pub oversized_blocks: u64,
    /// Fields dropped at `max_header_list`.
    pub dropped_fields: u64,
    /// Field lists that were neither a request nor a response.
    pub bad_heads: u64,
    /// Frames that broke their own layout (padding longer than the frame, short fields).
    pub malformed_frames: u64,
    /// DATA for a stream without a message in progress.
    pub orphan_data: u64,
    /// Streams ended early to make room (`max_streams`).
    pub evicted_streams: u64,
    pub resets: u64,
    pub gaps: u64,
    /// Gaps that lost a direction's framing.
    pub framing_lost: u64,
    /// Bytes not parsed after framing was lost.
    pub ignored_bytes: u64,
    /// Messages ended early by a gap, a reset, eviction or the end of input.
    pub incomplete: u64,
}

// Frame types (RFC 9113 6) and flags.
const DATA: u8 = 0x0;
const HEADERS: u8 = 0x1;
const RST_STREAM: u8 = 0x3;
const SETTINGS: u8 = 0x4;
const PUSH_PROMISE: u8 = 0x5;
const CONTINUATION: u8 = 0x9;
const END_STREAM: u8 = 0x1;
const ACK: u8 = 0x1;
const END_HEADERS: u8 = 0x4;
const PADDED: u8 = 0x8;
const PRIORITY: u8 = 0x20;
/// SETTINGS_HEADER_TABLE_SIZE (RFC 9113 6.5.2).
const SETTINGS_HEADER_TABLE_SIZE: u16 = 0x1;
/// Non-DATA frames are buffered whole up to this size; larger ones are skipped.
const MAX_CONTROL_FRAME: usize = 64 << 10;

#[derive(Debug, Clone, Copy)]
struct FrameHead {
    len: usize,
    ty: u8,
    flags: u8,
    stream: u32,
}

/// What a header block belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BlockKind {
    Headers { end_stream: bool },
    Push { promised: u32 },
}

#[derive(Debug)]
struct Block {
    stream: u32,
    kind: BlockKind,
    buf: Vec<u8>,
    offset: u64,
    overflow: bool,
}

/// One direction's framing and HPACK state.
#[derive(Debug)]
struct Side {
    /// Preface bytes still expected (client direction only).
    preface: usize,
    head: [u8; 9],
    head_len: usize,
    frame: Option<FrameHead>,
    /// Payload bytes of the current frame still to come.
    remaining: usize,
    /// DATA: pad length read yet (or not padded); data and padding bytes left.
    data_ready: bool,
    data_left: usize,
    /// Buffered payload of a non-DATA frame, unless `skip`.
    payload: Vec<u8>,
    skip: bool,
    block: Option<Block>,
    hpack: hpack::Decoder,
    hpack_lost: bool,
    dead: bool,
    /// Stream offset of the next byte.
    offset: u64,
    frame_offset: u64,
}

impl Side {
    fn new(client: bool, limits: &Limits) -> Self {
        Self {
            preface: if client { PREFACE.len() } else { 0 },
            head: [0; 9],
            head_len: 0,
            frame: None,
            remaining: 0,
            data_ready: false,
            data_left: 0,
            payload: Vec::new(),
            skip: false,
            block: None,
            hpack: hpack::Decoder::new(hpack::DEFAULT_TABLE_SIZE.min(limits.max_table)),
            hpack_lost: false,
            dead: false,
            offset: 0,
            frame_offset: 0,
        }
    }
}

/// One stream's messages in progress: [request, response].
#[derive(Debug, Default)]
struct Stream {
    msgs: [Option<Partial>; 2],
    /// That direction ended the stream (END_STREAM or reset).
    done: [bool; 2],
    /// Arrival order, for eviction.
    serial: u64,
    /// The protocol the request's extended CONNECT opened.
    tunnel: Option<String>,
}

/// One HTTP/2 connection, both directions.
#[derive(Debug)]
pub struct Connection {
    limits: Limits,
    sides: [Side; 2],
    streams: HashMap<u32, Stream>,
    serial: u64,
    stats: Stats,
}

fn idx(dir: Direction) -> usize {
    match dir {
        Direction::Request => 0,
        Direction::Response => 1,
    }
}

impl Connection {
    pub fn new(limits: Limits) -> Self {
        Self {
            limits,
            sides: [Side::new(true, &limits), Side::new(false, &limits)],
            streams: HashMap::new(),
            serial: 0,
            stats: Stats::default(),
        }
    }

    /// A connection whose client direction has no preface to expect (h2c after an HTTP/1.1
    /// Upgrade, RFC 9113 3.1 in RFC 7540, or a capture that starts mid-connection).
    pub fn without_preface(limits: Limits) -> Self {
        let mut c = Self::new(limits);
        c.sides[0].preface = 0;
        c
    }

    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// Bytes of one direction, in stream order.
    pub fn push(&mut self, dir: Direction, mut data: &[u8], out: &mut Vec<Message>) {
        let d = idx(dir);
        while !data.is_empty() {
            let side = &mut self.sides[d];
            if side.dead {
                self.stats.ignored_bytes =
                    self.stats.ignored_bytes.saturating_add(data.len() as u64);
                return;
            }
            let n = if side.preface > 0 {
                let at = PREFACE.len() - side.preface;
                let n = side.preface.min(data.len());
                if data[..n] == PREFACE[at..at + n] {
                    side.preface -= n;
                    n
                } else {
                    // Not a preface: the bytes are frames (mid-connection capture).
                    self.stats.missing_preface += 1;
                    side.preface = 0;
                    if at > 0 {
                        // A partial preface that diverged: framing is unknowable.
                        self.lose_framing(d, out);
                    }
                    0
                }
            } else if side.frame.is_none() {
                let n = (9 - side.head_len).min(data.len());
                side.head[side.head_len..side.head_len + n].copy_from_slice(&data[..n]);
                side.head_len += n;
                if side.head_len == 9 {
                    side.head_len = 0;
                    let h = side.head;
                    let head = FrameHead {
                        len: usize::from(h[0]) << 16 | usize::from(h[1]) << 8 | usize::from(h[2]),
                        ty: h[3],
                        flags: h[4],
                        stream: u32::from_be_bytes([h[5], h[6], h[7], h[8]]) & 0x7fff_ffff,
                    };
                    side.frame_offset = side.offset.saturating_add(n as u64).saturating_sub(9);
                    self.begin_frame(d, head);
                }
                n
            } else {
                self.payload(d, data)
            };
            let side = &mut self.sides[d];
            side.offset = side.offset.saturating_add(n as u64);
            data = &data[n..];
            if side.frame.is_some() && side.remaining == 0 && !side.dead {
                self.end_frame(d, out);
            }
        }
    }

    /// `len` bytes of one direction were lost (RFC 9293 reassembly gap).
    pub fn gap(&mut self, dir: Direction, len: u64, out: &mut Vec<Message>) {
        let d = idx(dir);
        self.stats.gaps += 1;
        let side = &mut self.sides[d];
        side.offset = side.offset.saturating_add(len);
        if side.dead {
            return;
        }
        let len_us = usize::try_from(len).unwrap_or(usize::MAX);
        if let Some(f) = side
            .frame
            .filter(|_| side.preface == 0 && len_us <= side.remaining)
        {
            // The gap ends inside the current frame: framing survives.
            side.remaining -= len_us;
            if f.ty == DATA && side.data_ready && len_us <= side.data_left {
                side.data_left -= len_us;
                if let Some(m) = self
                    .streams
                    .get_mut(&f.stream)
                    .and_then(|s| s.msgs[d].as_mut())
                {
                    m.hole();
                }
            } else {
                // Padding, a control frame or a header block fragment: the frame is lost.
                side.data_left = side.data_left.saturating_sub(len_us);
                side.skip = true;
                if matches!(f.ty, HEADERS | CONTINUATION | PUSH_PROMISE) {
                    side.hpack_lost = true;
                    side.block = None;
                }
                if f.ty == DATA {
                    if let Some(m) = self
                        .streams
                        .get_mut(&f.stream)
                        .and_then(|s| s.msgs[d].as_mut())
                    {
                        m.hole();
                    }
                }
            }
            if side.remaining == 0 {
                self.end_frame(d, out);
            }
            return;
        }
        self.lose_framing(d, out);
    }

    /// End of input: every message in progress is handed out, incomplete.
    pub fn finish(&mut self, out: &mut Vec<Message>) {
        let mut ids: Vec<(u64, u32)> = self.streams.iter().map(|(&id, s)| (s.serial, id)).collect();
        ids.sort_unstable();
        for (_, id) in ids {
            if let Some(s) = self.streams.remove(&id) {
                self.end_stream_msgs(s, out);
            }
        }
    }

    fn lose_framing(&mut self, d: usize, out: &mut Vec<Message>) {
        self.stats.framing_lost += 1;
        let side = &mut self.sides[d];
        side.dead = true;
        side.hpack_lost = true;
        side.block = None;
        side.frame = None;
        side.payload = Vec::new();
        // Open messages of this direction cannot end normally any more.
        let limits = self.limits;
        let mut ended = Vec::new();
        for s in self.streams.values_mut() {
            if let Some(m) = s.msgs[d].take() {
                ended.push((s.serial, m));
            }
            s.done[d] = true;
        }
        ended.sort_by_key(|(serial, _)| *serial);
        for (_, m) in ended {
            self.stats.incomplete += 1;
            self.stats.messages += 1;
            out.push(m.finish(true, &limits));
        }
        self.streams.retain(|_, s| !(s.done[0] && s.done[1]));
    }

    fn begin_frame(&mut self, d: usize, head: FrameHead) {
        self.stats.frames += 1;
        let side = &mut self.sides[d];
        side.frame = Some(head);
        side.remaining = head.len;
        side.payload.clear();
        side.skip = head.ty != DATA && head.len > MAX_CONTROL_FRAME;
        side.data_ready = head.ty == DATA && head.flags & PADDED == 0;
        side.data_left = if side.data_ready { head.len } else { 0 };
        if side.skip && matches!(head.ty, HEADERS | CONTINUATION | PUSH_PROMISE) {
            self.stats.oversized_blocks += 1;
            side.hpack_lost = true;
            side.block = None;
        }
    }

    /// Consumes payload bytes of the current frame; returns how many.
    fn payload(&mut self, d: usize, data: &[u8]) -> usize {
        let side = &mut self.sides[d];
        let Some(f) = side.frame else { return 0 };
        let n = side.remaining.min(data.len());
        let chunk = &data[..n];
        side.remaining -= n;
        if f.ty != DATA {
            if !side.skip {
                side.payload.extend_from_slice(chunk);
            }
            return n;
        }
        // DATA is streamed: RFC 9113 6.1 Pad Length, data, padding.
        let mut chunk = chunk;
        if !side.data_ready {
            let Some((&pad, rest)) = chunk.split_first() else {
                return n;
            };
            chunk = rest;
            side.data_ready = true;
            match (f.len - 1).checked_sub(usize::from(pad)) {
                Some(len) => side.data_left = len,
                None => {
                    self.stats.malformed_frames += 1;
                    side.data_left = 0;
                }
            }
        }
        let take = side.data_left.min(chunk.len());
        side.data_left -= take;
        if take > 0 {
            self.data(d, f.stream, &chunk[..take]);
        }
        n
    }

    fn data(&mut self, d: usize, stream: u32, bytes: &[u8]) {
        match self
            .streams
            .get_mut(&stream)
            .and_then(|s| s.msgs[d].as_mut())
        {
            Some(m) => m.body(bytes, &self.limits),
            None => self.stats.orphan_data = self.stats.orphan_data.saturating_add(1),
        }
    }

    fn end_frame(&mut self, d: usize, out: &mut Vec<Message>) {
        let side = &mut self.sides[d];
        let Some(f) = side.frame.take() else { return };
        let skipped = side.skip;
        let payload = std::mem::take(&mut side.payload);
        let result = if skipped {
            Ok(())
        } else {
            self.frame(d, f, &payload, out)
        };
        if result.is_err() {
            self.stats.malformed_frames += 1;
        }
        // Keep the allocation for the next frame.
        let side = &mut self.sides[d];
        side.payload = payload;
        side.payload.clear();
        if f.ty == DATA && f.flags & END_STREAM != 0 {
            self.end_message(d, f.stream, false, out);
        }
    }

    /// Handles a complete non-DATA frame (RFC 9113 6).
    fn frame(
        &mut self,
        d: usize,
        f: FrameHead,
        p: &[u8],
        out: &mut Vec<Message>,
    ) -> Result<(), ()> {
        match f.ty {
            HEADERS | PUSH_PROMISE => {
                let mut p = p;
                if f.flags & PADDED != 0 {
                    let (&pad, rest) = p.split_first().ok_or(())?;
                    p = rest
                        .get(..rest.len().checked_sub(usize::from(pad)).ok_or(())?)
                        .ok_or(())?;
                }
                let kind = if f.ty == HEADERS {
                    if f.flags & PRIORITY != 0 {
                        p = p.get(5..).ok_or(())?;
                    }
                    BlockKind::Headers {
                        end_stream: f.flags & END_STREAM != 0,
                    }
                } else {
                    let id = p.get(..4).ok_or(())?;
                    p = &p[4..];
                    BlockKind::Push {
                        promised: u32::from_be_bytes([id[0], id[1], id[2], id[3]]) & 0x7fff_ffff,
                    }
                };
                let side = &mut self.sides[d];
                side.block = Some(Block {
                    stream: f.stream,
                    kind,
                    buf: Vec::new(),
                    offset: side.frame_offset,
                    overflow: false,
                });
                self.fragment(d, f, p, out);
            }
            CONTINUATION => {
                if self.sides[d]
                    .block
                    .as_ref()
                    .is_some_and(|b| b.stream == f.stream)
                {
                    self.fragment(d, f, p, out);
                } else {
                    return Err(()); // RFC 9113 6.10: must follow its HEADERS
                }
            }
            SETTINGS if f.flags & ACK == 0 => {
                // RFC 9113 6.5.1: six-byte entries; table size governs the peer's encoder.
                for e in p.chunks_exact(6) {
                    if u16::from_be_bytes([e[0], e[1]]) == SETTINGS_HEADER_TABLE_SIZE {
                        let v = u32::from_be_bytes([e[2], e[3], e[4], e[5]]);
                        let cap = usize::try_from(v).unwrap_or(usize::MAX).clamp(
                            hpack::DEFAULT_TABLE_SIZE,
                            self.limits.max_table.max(hpack::DEFAULT_TABLE_SIZE),
                        );
                        self.sides[1 - d].hpack.set_cap(cap);
                    }
                }
                if !p.len().is_multiple_of(6) {
                    return Err(());
                }
            }
            RST_STREAM => {
                self.stats.resets += 1;
                let peer = 1 - d;
                let peer_open = self
                    .streams
                    .get(&f.stream)
                    .is_some_and(|s| s.msgs[peer].is_some() && !s.done[peer]);
                if peer_open {
                    // The peer's message may still be in flight: a server that answers before
                    // reading a request body resets the stream, yet the client's DATA already
                    // sent still left the device. Keep that side open until its END_STREAM
                    // (or the end of the connection); end the resetting side's message now.
                    let limits = self.limits;
                    if let Some(s) = self.streams.get_mut(&f.stream) {
                        s.done[d] = true;
                        if let Some(m) = s.msgs[d].take() {
                            self.stats.incomplete += 1;
                            self.stats.messages += 1;
                            out.push(m.finish(true, &limits));
                        }
                    }
                } else if let Some(s) = self.streams.remove(&f.stream) {
                    self.end_stream_msgs(s, out);
                }
            }
            _ => {} // PRIORITY, PING, GOAWAY, WINDOW_UPDATE, extensions
        }
        Ok(())
    }

    fn fragment(&mut self, d: usize, f: FrameHead, p: &[u8], out: &mut Vec<Message>) {
        let max = self.limits.max_header_block;
        let side = &mut self.sides[d];
        let Some(b) = side.block.as_mut() else { return };
        if b.buf.len().saturating_add(p.len()) > max {
            b.overflow = true;
            b.buf = Vec::new();
        } else if !b.overflow {
            b.buf.extend_from_slice(p);
        }
        if f.flags & END_HEADERS == 0 {
            return;
        }
        let Some(b) = side.block.take() else { return };
        if b.overflow {
            // The table may have changed inside the part not kept.
            self.stats.oversized_blocks += 1;
            side.hpack_lost = true;
        }
        if side.hpack_lost {
            self.stats.undecoded_blocks += 1;
            if let BlockKind::Headers { end_stream: true } = b.kind {
                self.end_message(d, b.stream, true, out);
            }
            return;
        }
        let limits = self.limits;
        let mut fields = Vec::new();
        let mut list = 0usize;
        let mut dropped = 0u64;
        let r = side.hpack.decode(&b.buf, limits.max_header_list, |n, v| {
            list = list.saturating_add(n.len() + v.len() + hpack::ENTRY_OVERHEAD);
            if list > limits.max_header_list {
                dropped += 1;
            } else {
                fields.push((String::from_utf8_lossy(n).into_owned(), v.to_vec()));
            }
        });
        self.stats.dropped_fields += dropped;
        if r.is_err() {
            self.stats.hpack_errors += 1;
            side.hpack_lost = true;
            return;
        }
        match b.kind {
            BlockKind::Headers { end_stream } => {
                self.headers(d, b.stream, fields, b.offset, out);
                if end_stream {
                    self.end_message(d, b.stream, false, out);
                }
            }
            BlockKind::Push { promised } => {
                // RFC 9113 8.4: the promised request, sent by the server, has no body.
                if let Some(s) = self.stream(promised, out) {
                    s.done[0] = true;
                }
                match Partial::new(fields, 2, b.offset) {
                    Ok(p) => {
                        self.stats.messages += 1;
                        out.push(p.finish(false, &limits));
                    }
                    Err(_) => self.stats.bad_heads += 1,
                }
            }
        }
    }

    /// A decoded field section on `stream` from direction `d`: a head or trailers.
    fn headers(
        &mut self,
        d: usize,
        stream: u32,
        fields: Vec<(String, Vec<u8>)>,
        offset: u64,
        out: &mut Vec<Message>,
    ) {
        let limits = self.limits;
        let Some(s) = self.stream(stream, out) else {
            return;
        };
        if let Some(m) = s.msgs[d].as_mut() {
            m.trailers(fields);
            return;
        }
        match Partial::new(fields, 2, offset) {
            Ok(p) if p.is_informational() => {
                self.stats.messages += 1;
                out.push(p.finish(false, &limits));
            }
            Ok(mut p) => {
                if d == 0 {
                    s.tunnel = p.tunnel().map(str::to_string);
                } else {
                    p.answer(s.tunnel.as_deref());
                }
                s.msgs[d] = Some(p);
            }
            Err(_) => self.stats.bad_heads += 1,
        }
    }

    /// The stream's state, created if new (ending the oldest stream when full).
    fn stream(&mut self, id: u32, out: &mut Vec<Message>) -> Option<&mut Stream> {
        if !self.streams.contains_key(&id) {
            if self.streams.len() >= self.limits.max_streams {
                let oldest = self
                    .streams
                    .iter()
                    .min_by_key(|(_, s)| s.serial)
                    .map(|(&k, _)| k)?;
                self.stats.evicted_streams += 1;
                if let Some(s) = self.streams.remove(&oldest) {
                    self.end_stream_msgs(s, out);
                }
            }
            self.serial += 1;
            self.streams.insert(
                id,
                Stream {
                    serial: self.serial,
                    ..Stream::default()
                },
            );
        }
        self.streams.get_mut(&id)
    }

    /// END_STREAM from direction `d`.
    fn end_message(&mut self, d: usize, stream: u32, incomplete: bool, out: &mut Vec<Message>) {
        let limits = self.limits;
        let Some(s) = self.streams.get_mut(&stream) else {
            return;
        };
        s.done[d] = true;
        if let Some(m) = s.msgs[d].take() {
            if incomplete {
                self.stats.incomplete += 1;
            }
            self.stats.messages += 1;
            out.push(m.finish(incomplete, &limits));
        }
        if s.done[0] && s.done[1] {
            self.streams.remove(&stream);
        }
    }

    /// Hands out a removed stream's messages, incomplete.
    fn end_stream_msgs(&mut self, s: Stream, out: &mut Vec<Message>) {
        for m in s.msgs.into_iter().flatten() {
            self.stats.incomplete += 1;
            self.stats.messages += 1;
            out.push(m.finish(true, &self.limits));
        }
    }
}

#[cfg(test)]
pub(crate) mod tests;

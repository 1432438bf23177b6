//! HTTP/3 (RFC 9114) with QPACK (RFC 9204): QUIC stream bytes in, the same
//! [`http::Message`]s HTTP/1 produces out.
//!
//! A [`Connection`] is fed each stream direction's in-order bytes, as
//! [`crate::quic::onertt::Decryptor`] hands them out ([`Connection::handle`] takes its
//! events directly). Client-initiated bidirectional streams carry a request and its
//! response as HEADERS and DATA frames (RFC 9114 4.1); unidirectional streams open with a
//! stream type (6.2): the control stream's SETTINGS give each side's QPACK table capacity,
//! the QPACK encoder streams feed the dynamic tables, decoder and push streams and reserved
//! types are skipped. A field section whose Required Insert Count is ahead of the encoder
//! stream is blocked until the inserts arrive (RFC 9204 2.1.2). Messages are built as for
//! HTTP/2 (`version` 3, `host` from `:authority`, bodies decoded).
//!
//! # Contract
//! No input panics; lengths are varints checked against what was received. Memory is bounded
//! by [`Limits`] (shared with HTTP/2): streams tracked, field section size (a blocked stream
//! buffers at most that much), the QPACK table and pending encoder bytes, body bytes kept.
//! A gap inside a DATA frame leaves a hole in the body; anywhere else it ends that stream's
//! message as incomplete. A gap or error on an encoder stream stops decoding that
//! direction's headers (its table is no longer known). All of it is counted in [`Stats`].

#[doc(hidden)]
pub mod fuzzing;
mod qpack;

use std::collections::HashMap;

use crate::http::Message;
use crate::http2::message::Partial;
pub use crate::http2::Limits;
use crate::quic::onertt;

/// What a connection saw and dropped.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    pub frames: u64,
    pub messages: u64,
    /// Field sections that did not decode; QPACK errors also stop that direction.
    pub qpack_errors: u64,
    /// Field sections not decoded because the direction's table was lost.
    pub undecoded_sections: u64,
    /// Sections that waited for encoder stream inserts.
    pub blocked: u64,
    /// Sections still blocked at the end, or whose stream outgrew the cap while blocked.
    pub blocked_unresolved: u64,
    /// HEADERS frames larger than `max_header_block`.
    pub oversized_sections: u64,
    pub dropped_fields: u64,
    pub bad_heads: u64,
    /// Frames or stream headers that did not parse.
    pub malformed: u64,
    pub orphan_data: u64,
    pub evicted_streams: u64,
    pub resets: u64,
    pub gaps: u64,
    /// Messages ended early by a gap, a reset, eviction or the end of input.
    pub incomplete: u64,
}

// Frame types (RFC 9114 7.2) and stream types (6.2, RFC 9204 4.2).
const DATA: u64 = 0x0;
const HEADERS: u64 = 0x1;
const SETTINGS: u64 = 0x4;
const STREAM_CONTROL: u64 = 0x0;
const STREAM_ENCODER: u64 = 0x2;
/// SETTINGS_QPACK_MAX_TABLE_CAPACITY (RFC 9204 5).
const SETTINGS_QPACK_MAX_TABLE_CAPACITY: u64 = 0x1;
/// Control frames are kept whole up to this size; larger ones are skipped.
const MAX_CONTROL_FRAME: u64 = 16 << 10;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    /// Unidirectional, type not read yet.
    Unknown,
    /// Request or response half of a bidirectional stream; control stream.
    Frames {
        control: bool,
    },
    Encoder,
    Ignored,
}

#[derive(Debug)]
struct Stream {
    role: Role,
    /// Unparsed bytes: a cut frame header, a HEADERS payload, a blocked section.
    buf: Vec<u8>,
    /// Current frame type and payload bytes left, once its header is read.
    frame: Option<(u64, u64)>,
    msg: Option<Partial>,
    fin: bool,
    /// Waiting for QPACK inserts.
    blocked: bool,
    dead: bool,
    /// Stream offset of `buf[0]`.
    offset: u64,
    serial: u64,
}

/// One HTTP/3 connection, all its streams.
#[derive(Debug)]
pub struct Connection {
    limits: Limits,
    /// QPACK state of the field sections each side sends: [client, server].
    qpack: [qpack::Decoder; 2],
    qpack_lost: [bool; 2],
    /// An encoder stream instruction failed: no insert after it is known, every one before
    /// it is (unlike a gap, where how many were lost is unknown).
    qpack_stopped: [bool; 2],
    streams: HashMap<(u64, bool), Stream>,
    /// Request streams whose extended CONNECT opened a protocol, until their response.
    tunnels: HashMap<u64, String>,
    serial: u64,
    stats: Stats,
}

impl Connection {
    pub fn new(limits: Limits) -> Self {
        let dec = || qpack::Decoder::new(limits.max_table, limits.max_header_block);
        Self {
            limits,
            qpack: [dec(), dec()],
            qpack_lost: [false; 2],
            qpack_stopped: [false; 2],
            streams: HashMap::new(),
            tunnels: HashMap::new(),
            serial: 0,
            stats: Stats::default(),
        }
    }

    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// Takes a decryptor event.
    pub fn handle(&mut self, ev: &onertt::Event, out: &mut Vec<Message>) {
        match ev {
            onertt::Event::Stream {
                from_client,
                id,
                data,
                fin,
                ..
            } => self.stream_data(*from_client, *id, data, *fin, out),
            onertt::Event::StreamGap {
                from_client,
                id,
                len,
            } => self.stream_gap(*from_client, *id, *len, out),
            onertt::Event::StreamReset { from_client, id } => {
                self.stream_reset(*from_client, *id, out)
            }
            onertt::Event::Certificates(_) => {}
        }
    }

    /// In-order bytes of stream `id` sent by the client (`from_client`) or the server;
    /// `fin` when they end the stream.
    pub fn stream_data(
        &mut self,
        from_client: bool,
        id: u64,
        data: &[u8],
        fin: bool,
        out: &mut Vec<Message>,
    ) {
        let Some(s) = self.stream(from_client, id, out) else {
            return;
        };
        s.fin |= fin;
        if s.dead {
            // Its bytes are dropped, but its end still ends the message, at the same point
            // however the bytes before it were cut.
            if fin {
                self.run(from_client, id, out);
            }
            return;
        }
        s.buf.extend_from_slice(data);
        self.run(from_client, id, out);
    }

    /// `len` bytes of a stream direction were lost.
    pub fn stream_gap(&mut self, from_client: bool, id: u64, len: u64, out: &mut Vec<Message>) {
        self.stats.gaps += 1;
        let d = usize::from(!from_client);
        let Some(s) = self.stream(from_client, id, out) else {
            return;
        };
        match (s.role, s.frame) {
            (Role::Frames { control: false }, Some((DATA, left)))
                if s.buf.is_empty() && len <= left =>
            {
                s.frame = Some((DATA, left - len));
                s.offset = s.offset.saturating_add(len);
                if let Some(m) = s.msg.as_mut() {
                    m.hole();
                }
                if left == len {
                    s.frame = None;
                }
            }
            (Role::Encoder, _) => {
                s.dead = true;
                self.qpack_lost[d] = true;
            }
            _ => {
                s.dead = true;
                s.buf = Vec::new();
                if let Some(m) = s.msg.take() {
                    self.stats.incomplete += 1;
                    self.stats.messages += 1;
                    out.push(m.finish(true, &self.limits));
                }
            }
        }
    }

    /// The sender abandoned the stream (RESET_STREAM).
    pub fn stream_reset(&mut self, from_client: bool, id: u64, out: &mut Vec<Message>) {
        self.stats.resets += 1;
        if let Some(mut s) = self.streams.remove(&(id, from_client)) {
            if let Some(m) = s.msg.take() {
                self.stats.incomplete += 1;
                self.stats.messages += 1;
                out.push(m.finish(true, &self.limits));
            }
        }
    }

    /// End of input: messages in progress are handed out, incomplete.
    pub fn finish(&mut self, out: &mut Vec<Message>) {
        let mut all: Vec<Stream> = self.streams.drain().map(|(_, s)| s).collect();
        all.sort_by_key(|s| s.serial);
        for s in all {
            if s.blocked {
                self.stats.blocked_unresolved += 1;
            }
            if let Some(m) = s.msg {
                self.stats.incomplete += 1;
                self.stats.messages += 1;
                out.push(m.finish(true, &self.limits));
            }
        }
    }

    fn stream(
        &mut self,
        from_client: bool,
        id: u64,
        out: &mut Vec<Message>,
    ) -> Option<&mut Stream> {
        let key = (id, from_client);
        if !self.streams.contains_key(&key) {
            // Uni streams and the control streams count too: a small allowance above.
            if self.streams.len() >= self.limits.max_streams.saturating_add(8) {
                let oldest = self
                    .streams
                    .iter()
                    .filter(|(_, s)| {
                        !matches!(s.role, Role::Encoder | Role::Frames { control: true })
                    })
                    .min_by_key(|(_, s)| s.serial)
                    .map(|(&k, _)| k)?;
                self.stats.evicted_streams += 1;
                if let Some(s) = self.streams.remove(&oldest) {
                    if let Some(m) = s.msg {
                        self.stats.incomplete += 1;
                        self.stats.messages += 1;
                        out.push(m.finish(true, &self.limits));
                    }
                }
            }
            // RFC 9000 2.1: bit 1 set is unidirectional.
            let role = if id & 0x2 == 0 {
                Role::Frames { control: false }
            } else {
                Role::Unknown
            };
            self.serial += 1;
            self.streams.insert(
                key,
                Stream {
                    role,
                    buf: Vec::new(),
                    frame: None,
                    msg: None,
                    fin: false,
                    blocked: false,
                    dead: false,
                    offset: 0,
                    serial: self.serial,
                },
            );
        }
        self.streams.get_mut(&key)
    }

    /// Parses what a stream direction has buffered.
    fn run(&mut self, from_client: bool, id: u64, out: &mut Vec<Message>) {
        let d = usize::from(!from_client);
        let key = (id, from_client);
        let limits = self.limits;
        let mut retry = false;
        loop {
            let Some(s) = self.streams.get_mut(&key) else {
                return;
            };
            if s.dead || s.blocked {
                break;
            }
            match s.role {
                Role::Unknown => {
                    let mut r = &s.buf[..];
                    let Some(ty) = varint(&mut r) else { break };
                    let used = s.buf.len() - r.len();
                    consume(s, used);
                    s.role = match ty {
                        STREAM_CONTROL => Role::Frames { control: true },
                        STREAM_ENCODER => Role::Encoder,
                        _ => Role::Ignored, // push, QPACK decoder, reserved
                    };
                }
                Role::Ignored => {
                    let n = s.buf.len();
                    consume(s, n);
                    break;
                }
                Role::Encoder => {
                    let buf = std::mem::take(&mut s.buf);
                    s.offset = s.offset.saturating_add(buf.len() as u64);
                    if !self.qpack_lost[d] && !self.qpack_stopped[d] {
                        let before = self.qpack[d].inserted();
                        if self.qpack[d].encoder_stream(&buf).is_err() {
                            self.stats.qpack_errors += 1;
                            self.qpack_stopped[d] = true;
                            // Sections still waiting will never get their inserts: they fail
                            // now, as they would had the inserts and the error come together.
                            retry = true;
                        }
                        retry |= self.qpack[d].inserted() != before;
                    }
                    break;
                }
                Role::Frames { control } => {
                    if !self.frame_step(from_client, id, control, out) {
                        break;
                    }
                }
            }
        }
        // The end of a request or response.
        if let Some(s) = self.streams.get_mut(&key) {
            if s.fin && !s.blocked && (s.buf.is_empty() || s.dead) {
                if let Some(m) = s.msg.take() {
                    let incomplete = s.frame.is_some() || s.dead;
                    if incomplete {
                        self.stats.incomplete += 1;
                    }
                    self.stats.messages += 1;
                    out.push(m.finish(incomplete, &limits));
                }
                self.streams.remove(&key);
            }
        }
        if retry {
            // New inserts may unblock sections of the same direction.
            let mut waiting: Vec<(u64, u64)> = self
                .streams
                .iter()
                .filter(|((_, c), s)| *c == from_client && s.blocked)
                .map(|(&(sid, _), s)| (s.serial, sid))
                .collect();
            waiting.sort_unstable();
            for (_, sid) in waiting {
                if let Some(s) = self.streams.get_mut(&(sid, from_client)) {
                    s.blocked = false;
                }
                self.run(from_client, sid, out);
            }
        }
    }

    /// One step of frame parsing; false when more bytes are needed.
    fn frame_step(
        &mut self,
        from_client: bool,
        id: u64,
        control: bool,
        out: &mut Vec<Message>,
    ) -> bool {
        let d = usize::from(!from_client);
        let limits = self.limits;
        let Some(s) = self.streams.get_mut(&(id, from_client)) else {
            return false;
        };
        let Some((ty, left)) = s.frame else {
            // RFC 9114 7.1: type and length varints.
            let mut r = &s.buf[..];
            let (Some(ty), Some(len)) = (varint(&mut r), varint(&mut r)) else {
                if s.buf.len() > 16 {
                    s.dead = true; // cannot happen: two varints are at most 16 bytes
                }
                return false;
            };
            let used = s.buf.len() - r.len();
            consume(s, used);
            s.frame = Some((ty, len));
            self.stats.frames += 1;
            if ty == HEADERS && len > limits.max_header_block as u64 {
                self.stats.oversized_sections += 1;
            }
            return true;
        };
        let whole = ty == HEADERS && left <= limits.max_header_block as u64
            || control && ty == SETTINGS && left <= MAX_CONTROL_FRAME;
        if !whole {
            // DATA is streamed; other frames (and oversized ones) are skipped.
            let n = usize::try_from(left).unwrap_or(usize::MAX).min(s.buf.len());
            if ty == DATA && !control {
                match s.msg.as_mut() {
                    Some(m) => m.body(&s.buf[..n], &limits),
                    None if n > 0 => self.stats.orphan_data += 1,
                    None => {}
                }
            } else if ty == HEADERS && !control {
                // A section we cannot keep: the message cannot be built.
                s.dead = true;
            }
            consume(s, n);
            let left = left - n as u64;
            s.frame = (left > 0).then_some((ty, left));
            return left == 0;
        }
        let len = usize::try_from(left).unwrap_or(usize::MAX);
        if s.buf.len() < len {
            return false;
        }
        if control {
            // RFC 9114 7.2.4: identifier/value pairs; the capacity a side can decode
            // bounds the other side's encoder.
            let mut r = &s.buf[..len];
            while let (Some(k), Some(v)) = (varint(&mut r), varint(&mut r)) {
                if k == SETTINGS_QPACK_MAX_TABLE_CAPACITY {
                    self.qpack[1 - d].set_max_capacity(v);
                }
            }
            consume(s, len);
            s.frame = None;
            return true;
        }
        // After a gap on the encoder stream the number of inserts is unknown, so no section
        // can be trusted. After an instruction error the table still holds every insert made
        // before it: a section that needs no more than those decodes as it would have a
        // moment earlier (had the encoder bytes come in smaller pieces); one that waits for
        // more never will.
        if self.qpack_lost[d] {
            self.stats.undecoded_sections += 1;
            s.dead = true;
            return false;
        }
        let lost = self.qpack_stopped[d];
        let mut fields = Vec::new();
        let mut list = 0usize;
        let mut dropped = 0u64;
        let r = self.qpack[d].section(&s.buf[..len], limits.max_header_list, |n, v| {
            list = list.saturating_add(n.len() + v.len() + 32);
            if list > limits.max_header_list {
                dropped += 1;
            } else {
                fields.push((String::from_utf8_lossy(n).into_owned(), v.to_vec()));
            }
        });
        self.stats.dropped_fields += dropped;
        match r {
            Err(_) => {
                self.stats.qpack_errors += 1;
                s.dead = true;
                false
            }
            Ok(Err(qpack::Blocked)) if lost => {
                self.stats.undecoded_sections += 1;
                s.dead = true;
                false
            }
            Ok(Err(qpack::Blocked)) => {
                self.stats.blocked += 1;
                s.blocked = true;
                if s.buf.len() > limits.max_header_block.saturating_mul(2) {
                    self.stats.blocked_unresolved += 1;
                    s.dead = true;
                }
                false
            }
            Ok(Ok(())) => {
                let offset = s.offset;
                consume(s, len);
                s.frame = None;
                if let Some(m) = s.msg.as_mut() {
                    m.trailers(fields);
                    return true;
                }
                match Partial::new(fields, 3, offset) {
                    Ok(p) if p.is_informational() => {
                        self.stats.messages += 1;
                        out.push(p.finish(false, &limits));
                    }
                    Ok(mut p) => {
                        if from_client {
                            if let Some(t) = p.tunnel() {
                                if self.tunnels.len() < limits.max_streams {
                                    self.tunnels.insert(id, t.to_string());
                                }
                            }
                        } else {
                            p.answer(self.tunnels.remove(&id).as_deref());
                        }
                        s.msg = Some(p);
                    }
                    Err(_) => self.stats.bad_heads += 1,
                }
                true
            }
        }
    }
}

/// Drops `n` parsed bytes from the front of the stream buffer.
fn consume(s: &mut Stream, n: usize) {
    let n = n.min(s.buf.len());
    s.buf.drain(..n);
    s.offset = s.offset.saturating_add(n as u64);
}

/// A QUIC variable-length integer (RFC 9000 16).
fn varint(r: &mut &[u8]) -> Option<u64> {
    let first = *r.first()?;
    let len = 1usize << (first >> 6);
    let bytes = r.get(..len)?;
    let mut v = u64::from(first & 0x3f);
    for &b in &bytes[1..] {
        v = v << 8 | u64::from(b);
    }
    *r = &r[len..];
    Some(v)
}

#[cfg(test)]
mod tests;

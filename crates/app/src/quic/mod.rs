//! QUIC Initial observer: decrypts the Initial packets of a UDP flow and
//! extracts the TLS ClientHello and ServerHello they carry.
//!
//! Initial packets are encrypted, but with keys any observer can derive from
//! the client's first Destination Connection ID and a per-version salt
//! (RFC 9001 section 5.2; RFC 9369 section 3.3 for QUIC v2). One [`Parser`]
//! per UDP flow walks each datagram's coalesced long-header packets (RFC 9000
//! section 12.2), removes header protection (RFC 9001 section 5.4), opens the
//! AES-128-GCM payload (section 5.3), reassembles CRYPTO frames in and out of
//! order, and parses the first handshake message of each direction with
//! [`crate::tls::parse_client_hello`] / [`crate::tls::parse_server_hello`].
//!
//! Keys follow the connection, not each packet: the client's first DCID fixes
//! them for both directions until a Retry, after which the client's next
//! Initial (addressed to the Retry's Source Connection ID) fixes them anew
//! (RFC 9001 section 5.2). When a client Initial does not open with those
//! keys, its own DCID is tried, which covers captures that begin mid-way or a
//! new connection on a reused 4-tuple.
//!
//! # Contract
//! No datagram makes the parser panic: every header length is checked before
//! use, every varint read is bounded. A payload is reported only when its AEAD
//! tag verifies; a failed tag is [`Event::DecryptFailed`] and counted, never
//! parsed. Memory per flow is bounded by [`MAX_CRYPTO`] per direction plus one
//! datagram of scratch space, reused across packets.
//!
//! ```
//! use phonehome_app::quic::{looks_like_quic_initial, Event, Parser};
//! let mut p = Parser::new();
//! let mut out = Vec::new();
//! p.datagram(b"\x40not a long header", true, &mut out);
//! assert!(out.is_empty());
//! assert!(!looks_like_quic_initial(b"\x40not a long header"));
//! ```

mod crypto;
#[doc(hidden)]
pub mod fuzzing;
mod keys;
pub mod onertt;
pub mod streams;
#[cfg(test)]
mod vectors;
mod version;

pub use crypto::MAX_CRYPTO;
pub use version::version_name;

use crate::tls::{self, codec::Reader};
use crypto::CryptoStream;
use keys::{InitialKeys, OpenError};
use version::Params;

/// Largest connection ID in QUIC v1 and v2 (RFC 9000 section 17.2).
const MAX_CID: usize = 20;
/// Datagrams without any long-header packet before a flow is judged not QUIC
/// (or joined too late to see Initials).
const MAX_IDLE_DATAGRAMS: u32 = 16;

/// What the parser saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// The client's ClientHello, from its Initial CRYPTO stream.
    ClientHello {
        /// QUIC version of the packet that completed it.
        version: u32,
        /// The parsed hello.
        hello: tls::ClientHello,
    },
    /// The server's ServerHello.
    ServerHello {
        /// QUIC version of the packet that completed it.
        version: u32,
        /// The parsed hello.
        hello: tls::ServerHello,
    },
    /// The server sent a Retry (RFC 9000 section 17.2.5).
    Retry,
    /// The server sent a Version Negotiation packet (RFC 9000 section 17.2.1).
    VersionNegotiation,
    /// An Initial packet whose AEAD tag did not verify.
    DecryptFailed,
}

/// Counters per flow.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Datagrams seen.
    pub datagrams: u64,
    /// Initial packets seen.
    pub initials: u64,
    /// Initial packets decrypted.
    pub decrypted: u64,
    /// Initial packets whose tag did not verify.
    pub decrypt_failed: u64,
    /// Server Initials seen before any client Initial: no keys to open them.
    pub no_keys: u64,
    /// Long-header packets of a version we cannot decrypt.
    pub unknown_version: u64,
    /// Headers or frames that did not parse, or hellos that did not.
    pub malformed: u64,
    /// CRYPTO data beyond [`MAX_CRYPTO`] or too fragmented.
    pub crypto_overflow: u64,
}

/// A connection ID held inline (no allocation per packet).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct Cid {
    len: u8,
    bytes: [u8; MAX_CID],
}

impl Cid {
    fn new(b: &[u8]) -> Option<Self> {
        let mut c = Self {
            len: u8::try_from(b.len()).ok()?,
            bytes: [0; MAX_CID],
        };
        c.bytes.get_mut(..b.len())?.copy_from_slice(b);
        Some(c)
    }

    fn as_slice(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len)]
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Initial,
    ZeroRtt,
    Handshake,
    Retry,
}

/// A parsed long header (RFC 9000 section 17.2), as offsets into the datagram.
#[derive(Debug, Clone, Copy)]
struct LongHeader<'a> {
    first: u8,
    version: u32,
    dcid: &'a [u8],
    scid: &'a [u8],
    kind: Kind,
    /// Where the packet number starts (Initial, 0-RTT, Handshake).
    pn_offset: usize,
    /// Where this packet ends and the next coalesced one starts.
    end: usize,
}

impl<'a> LongHeader<'a> {
    fn parse(buf: &'a [u8]) -> Option<Self> {
        let mut r = Reader::new(buf);
        let first = r.u8()?;
        let version = r.u32()?;
        let dcid = r.vec8()?.rest();
        let scid = r.vec8()?.rest();
        // RFC 9000 section 17.2.1: version 0 is Version Negotiation and owns
        // the rest of the datagram.
        let bits = (first >> 4) & 0x03;
        // RFC 9369 section 3.2 rotates the type bits for v2.
        let kind = match (version == version::V2, bits) {
            (false, 0) | (true, 1) => Kind::Initial,
            (false, 1) | (true, 2) => Kind::ZeroRtt,
            (false, 2) | (true, 3) => Kind::Handshake,
            _ => Kind::Retry,
        };
        if version == 0 || kind == Kind::Retry {
            return Some(Self {
                first,
                version,
                dcid,
                scid,
                kind,
                pn_offset: buf.len(),
                end: buf.len(),
            });
        }
        if kind == Kind::Initial {
            let token_len = usize::try_from(r.varint()?).ok()?;
            r.take(token_len)?;
        }
        let length = usize::try_from(r.varint()?).ok()?;
        let pn_offset = buf.len() - r.rest().len();
        let end = pn_offset.checked_add(length).filter(|&e| e <= buf.len())?;
        Some(Self {
            first,
            version,
            dcid,
            scid,
            kind,
            pn_offset,
            end,
        })
    }
}

/// Whether `payload` starts with a plausible QUIC Initial: long header with
/// the fixed bit, a version we know or one of the reserved/Google/mvfst
/// families, Initial type, connection IDs of at most 20 bytes, and a Length
/// that fits the datagram and leaves room for a packet number and sample.
pub fn looks_like_quic_initial(payload: &[u8]) -> bool {
    let Some(h) = LongHeader::parse(payload) else {
        return false;
    };
    let b = h.version.to_be_bytes();
    let plausible = version::params(h.version).is_some()
        || version::is_reserved(h.version)
        || (matches!(b[0], b'Q' | b'T') && b[1] == b'0')
        || h.version >> 8 == 0x00fa_ceb0;
    h.first & 0xc0 == 0xc0
        && plausible
        && h.kind == Kind::Initial
        && h.dcid.len() <= MAX_CID
        && h.scid.len() <= MAX_CID
        && h.end - h.pn_offset >= 20
}

/// Per-direction state: 0 is the client, 1 the server.
#[derive(Debug, Default)]
struct Side {
    stream: CryptoStream,
    largest_pn: Option<u64>,
    /// The hello was reported, or the stream cannot yield one any more.
    finished: bool,
}

/// One UDP flow's QUIC Initial decryptor.
#[derive(Debug, Default)]
pub struct Parser {
    /// DCID and version the current keys were derived from.
    key_dcid: Option<Cid>,
    key_version: u32,
    keys: Option<InitialKeys>,
    /// Source Connection ID of a Retry: the client's next Initial uses it as DCID.
    retry_scid: Option<Cid>,
    sides: [Side; 2],
    scratch: Vec<u8>,
    idle: u32,
    seen_long: bool,
    stats: Stats,
    /// ClientHello random (the key log's key) and the ServerHello's cipher suite, for
    /// [`onertt::Decryptor`].
    client_random: Option<[u8; 32]>,
    cipher: Option<u16>,
}

impl Parser {
    /// A parser for one UDP flow.
    pub fn new() -> Self {
        Self::default()
    }

    /// Counters so far.
    pub fn stats(&self) -> Stats {
        self.stats
    }

    /// The ClientHello random, once seen: the key under which an NSS key log files the
    /// connection's secrets.
    pub fn client_random(&self) -> Option<[u8; 32]> {
        self.client_random
    }

    /// The cipher suite the ServerHello chose, once seen.
    pub fn cipher(&self) -> Option<u16> {
        self.cipher
    }

    /// True once both hellos were reported (or their streams gave up), or the
    /// flow shows no long-header packets at all.
    pub fn done(&self) -> bool {
        (self.sides[0].finished && self.sides[1].finished)
            || (!self.seen_long && self.idle >= MAX_IDLE_DATAGRAMS)
    }

    /// One UDP payload, sent by the client when `from_client`.
    pub fn datagram(&mut self, payload: &[u8], from_client: bool, out: &mut Vec<Event>) {
        self.stats.datagrams = self.stats.datagrams.saturating_add(1);
        let mut rest = payload;
        let mut any_long = false;
        // RFC 9000 section 12.2: coalesced packets; a short header runs to the
        // datagram's end, so the walk stops there.
        while let Some(&b0) = rest.first() {
            if b0 & 0x80 == 0 {
                break;
            }
            let Some(h) = LongHeader::parse(rest) else {
                self.stats.malformed = self.stats.malformed.saturating_add(1);
                break;
            };
            any_long = true;
            if h.version == 0 {
                if !from_client {
                    out.push(Event::VersionNegotiation);
                }
                break;
            }
            let Some(params) = version::params(h.version) else {
                self.stats.unknown_version = self.stats.unknown_version.saturating_add(1);
                break;
            };
            match h.kind {
                Kind::Initial => self.initial(&rest[..h.end], &h, params, from_client, out),
                Kind::Retry => {
                    if !from_client {
                        self.retry_scid = Cid::new(h.scid);
                        out.push(Event::Retry);
                    }
                    break;
                }
                Kind::ZeroRtt | Kind::Handshake => {}
            }
            if h.end == 0 {
                break; // cannot happen (a header is at least 7 bytes); guards the loop
            }
            rest = &rest[h.end..];
        }
        if any_long {
            self.seen_long = true;
        } else {
            self.idle = self.idle.saturating_add(1);
        }
    }

    fn initial(
        &mut self,
        pkt: &[u8],
        h: &LongHeader<'_>,
        params: Params,
        from_client: bool,
        out: &mut Vec<Event>,
    ) {
        self.stats.initials = self.stats.initials.saturating_add(1);
        let dir = usize::from(!from_client);
        if self.sides[dir].finished {
            return; // nothing left to learn: skip the decryption work
        }
        let Some(dcid) = Cid::new(h.dcid).filter(|c| usize::from(c.len) <= MAX_CID) else {
            self.stats.malformed = self.stats.malformed.saturating_add(1);
            return;
        };
        if from_client && (self.key_dcid.is_none() || self.retry_scid == Some(dcid)) {
            // RFC 9001 section 5.2: the first Initial's DCID, or the one
            // following a Retry, fixes the Initial keys.
            self.retry_scid = None;
            self.set_keys(dcid, h.version, params);
        }
        let Some(key_dcid) = self.key_dcid else {
            self.stats.no_keys = self.stats.no_keys.saturating_add(1);
            return;
        };
        if self.key_version != h.version {
            // Compatible version negotiation (RFC 9368): same DCID, new salt.
            self.set_keys(key_dcid, h.version, params);
        }
        let mut result = self.open(pkt, h.pn_offset, dir, None);
        if result == Err(OpenError::Auth) && from_client && dcid != key_dcid {
            let fresh = InitialKeys::new(params, dcid.as_slice());
            result = self.open(pkt, h.pn_offset, dir, Some(&fresh));
            if result.is_ok() {
                self.key_dcid = Some(dcid);
                self.keys = Some(fresh);
            }
        }
        match result {
            Ok(range) => {
                self.stats.decrypted = self.stats.decrypted.saturating_add(1);
                self.frames(range, dir, h.version, out);
            }
            Err(OpenError::Auth) => {
                self.stats.decrypt_failed = self.stats.decrypt_failed.saturating_add(1);
                out.push(Event::DecryptFailed);
            }
            Err(OpenError::TooShort) => {
                self.stats.malformed = self.stats.malformed.saturating_add(1)
            }
        }
    }

    fn set_keys(&mut self, dcid: Cid, version: u32, params: Params) {
        self.keys = Some(InitialKeys::new(params, dcid.as_slice()));
        self.key_dcid = Some(dcid);
        self.key_version = version;
    }

    /// Copies the packet to the scratch buffer and opens it there with
    /// `keys` (or the flow's keys); returns the plaintext range in scratch.
    fn open(
        &mut self,
        pkt: &[u8],
        pn_offset: usize,
        dir: usize,
        keys: Option<&InitialKeys>,
    ) -> Result<std::ops::Range<usize>, OpenError> {
        let Some(keys) = keys.or(self.keys.as_ref()) else {
            return Err(OpenError::Auth);
        };
        let side_keys = if dir == 0 { &keys.client } else { &keys.server };
        self.scratch.clear();
        self.scratch.extend_from_slice(pkt);
        let side = &mut self.sides[dir];
        let (pn, range) = keys::open(side_keys, &mut self.scratch, pn_offset, side.largest_pn)?;
        side.largest_pn = Some(side.largest_pn.map_or(pn, |l| l.max(pn)));
        Ok(range)
    }

    fn frames(
        &mut self,
        range: std::ops::Range<usize>,
        dir: usize,
        version: u32,
        out: &mut Vec<Event>,
    ) {
        let side = &mut self.sides[dir];
        let mut overflow = false;
        let walked =
            crypto::walk_frames(self.scratch.get(range).unwrap_or_default(), |off, data| {
                overflow |= !side.stream.insert(off, data);
            });
        if walked.is_err() {
            self.stats.malformed = self.stats.malformed.saturating_add(1);
        }
        if overflow || side.stream.message_too_large() {
            self.stats.crypto_overflow = self.stats.crypto_overflow.saturating_add(1);
            side.finished = true;
            side.stream = CryptoStream::default();
            return;
        }
        let Some(msg) = side.stream.first_message() else {
            return;
        };
        let event = if dir == 0 {
            tls::parse_client_hello(msg).map(|hello| Event::ClientHello { version, hello })
        } else {
            tls::parse_server_hello(msg).map(|hello| Event::ServerHello { version, hello })
        };
        match event {
            Ok(e) => {
                match &e {
                    Event::ClientHello { hello, .. } => self.client_random = Some(hello.random),
                    Event::ServerHello { hello, .. } => self.cipher = Some(hello.cipher),
                    _ => {}
                }
                out.push(e);
            }
            Err(_) => self.stats.malformed = self.stats.malformed.saturating_add(1),
        }
        side.finished = true;
        side.stream = CryptoStream::default(); // release the buffer
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tls::Transport;

    fn unhex(s: &str) -> Vec<u8> {
        hex::decode(s).expect("fixture is hex")
    }

    fn hello_random(e: &Event) -> [u8; 32] {
        match e {
            Event::ClientHello { hello, .. } => hello.random,
            _ => panic!("{e:?}"),
        }
    }

    fn run(dgrams: &[(&[u8], bool)]) -> (Vec<Event>, Parser) {
        let mut p = Parser::new();
        let mut out = Vec::new();
        for (d, c) in dgrams {
            p.datagram(d, *c, &mut out);
        }
        (out, p)
    }

    #[test]
    fn rfc9001_a2_client_and_a3_server() {
        let c = unhex(vectors::RFC9001_A2_CLIENT);
        let s = unhex(vectors::RFC9001_A3_SERVER);
        assert!(looks_like_quic_initial(&c));
        assert!(looks_like_quic_initial(&s));
        let (out, p) = run(&[(&c, true), (&s, false)]);
        assert_eq!(out.len(), 2, "{out:?}");
        let Event::ClientHello { version: 1, hello } = &out[0] else {
            panic!("{out:?}")
        };
        assert_eq!(hello.sni.as_deref(), Some("example.com"));
        assert_eq!(hello.alpn, vec!["alpn".to_owned()]);
        assert_eq!(hello.ciphers, vec![0x1301, 0x1302]);
        // Two ciphers, eleven extensions, ALPN "alpn".
        assert_eq!(
            hello.ja4(Transport::Quic),
            "q13d0211an_62ed6f6ca7ad_4d634acda6c0"
        );
        let Event::ServerHello { version: 1, hello } = &out[1] else {
            panic!("{out:?}")
        };
        assert_eq!(hello.version, 0x0304);
        assert_eq!(hello.cipher, 0x1301);
        assert!(p.done());
        assert_eq!(p.stats().decrypted, 2);
        assert_eq!(p.client_random(), Some(hello_random(&out[0])));
        assert_eq!(p.cipher(), Some(0x1301));
    }

    #[test]
    fn rfc9369_a2_client_and_a3_server_v2() {
        let c = unhex(vectors::RFC9369_A2_CLIENT);
        let s = unhex(vectors::RFC9369_A3_SERVER);
        assert!(looks_like_quic_initial(&c));
        let (out, _) = run(&[(&c, true), (&s, false)]);
        assert!(
            matches!(&out[..], [Event::ClientHello { version: version::V2, hello }, Event::ServerHello { .. }]
                if hello.sni.as_deref() == Some("example.com")),
            "{out:?}"
        );
    }

    #[test]
    fn server_without_client_has_no_keys() {
        let s = unhex(vectors::RFC9001_A3_SERVER);
        let (out, p) = run(&[(&s, false)]);
        assert!(out.is_empty());
        assert_eq!(p.stats().no_keys, 1);
    }

    #[test]
    fn corrupted_tag_is_reported_not_parsed() {
        let mut c = unhex(vectors::RFC9001_A2_CLIENT);
        let last = c.len() - 1;
        c[last] ^= 1;
        let (out, p) = run(&[(&c, true)]);
        assert_eq!(out, vec![Event::DecryptFailed]);
        assert_eq!(p.stats().decrypt_failed, 1);
    }

    #[test]
    fn every_truncation_is_safe() {
        let c = unhex(vectors::RFC9001_A2_CLIENT);
        for n in 0..c.len() {
            let (out, _) = run(&[(&c[..n], true)]);
            assert!(
                out.iter().all(|e| *e == Event::DecryptFailed),
                "{n}: {out:?}"
            );
        }
    }

    #[test]
    fn retry_then_new_dcid() {
        // A Retry (v1, type 3) whose SCID becomes the client's next DCID; the
        // client Initial that follows is RFC 9001 A.2, whose DCID we use as
        // the Retry SCID, so keys must follow it.
        let mut retry = vec![0xf0, 0, 0, 0, 1, 0, 8];
        retry.extend_from_slice(&[0x83, 0x94, 0xc8, 0xf0, 0x3e, 0x51, 0x57, 0x08]);
        retry.extend_from_slice(&[0; 16]); // token + integrity tag (not checked)
        let mut first = unhex(vectors::RFC9001_A2_CLIENT);
        first[6] ^= 0xff; // a different original DCID: its packet will not open
        let c = unhex(vectors::RFC9001_A2_CLIENT);
        let (out, _) = run(&[(&first, true), (&retry, false), (&c, true)]);
        assert_eq!(out[0], Event::DecryptFailed);
        assert_eq!(out[1], Event::Retry);
        assert!(matches!(out[2], Event::ClientHello { .. }), "{out:?}");
    }

    #[test]
    fn coalesced_and_short_header_tail() {
        // Server Initial then a short-header packet in the same datagram.
        let c = unhex(vectors::RFC9001_A2_CLIENT);
        let mut s = unhex(vectors::RFC9001_A3_SERVER);
        s.extend_from_slice(&[0x40, 1, 2, 3, 4]);
        let (out, _) = run(&[(&c, true), (&s, false)]);
        assert_eq!(out.len(), 2);
    }

    #[test]
    fn version_negotiation_and_unknown_versions() {
        let vn = [0x80, 0, 0, 0, 0, 1, 1, 1, 2, 0, 0, 0, 1];
        let (out, _) = run(&[(&vn, false)]);
        assert_eq!(out, vec![Event::VersionNegotiation]);
        let mut c = unhex(vectors::RFC9001_A2_CLIENT);
        c[1..5].copy_from_slice(&[0x1a, 0x2a, 0x3a, 0x4a]);
        assert!(looks_like_quic_initial(&c));
        let (out, p) = run(&[(&c, true)]);
        assert!(out.is_empty());
        assert_eq!(p.stats().unknown_version, 1);
    }

    #[test]
    fn mutated_vectors_never_panic() {
        // Flip one byte at a time through the header and the first frames,
        // feeding the result both ways; the fuzz entry checks invariants.
        let c = unhex(vectors::RFC9001_A2_CLIENT);
        for i in 0..120 {
            let mut m = c.clone();
            m[i] ^= 0x5a;
            let (out, _) = run(&[(&m, true), (&m, false)]);
            assert!(
                out.iter().all(|e| !matches!(e, Event::ClientHello { .. })) || i == 0,
                "{i}: {out:?}"
            );
            let mut framed = vec![(m.len() >> 8) as u8, m.len() as u8];
            framed.extend_from_slice(&m);
            fuzzing::datagrams(&framed);
        }
    }

    #[test]
    fn non_quic_flows_finish() {
        let mut p = Parser::new();
        let mut out = Vec::new();
        for _ in 0..MAX_IDLE_DATAGRAMS {
            p.datagram(&[0x12; 40], true, &mut out);
        }
        assert!(p.done());
        assert!(!looks_like_quic_initial(&[0xc0, 0, 0, 0, 1, 25]));
    }
}

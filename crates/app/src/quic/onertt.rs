//! Handshake and 1-RTT packets opened with logged TLS secrets (RFC 9001 5, 6).
//!
//! Given a connection's traffic secrets (from an NSS key log: the
//! `CLIENT_HANDSHAKE_TRAFFIC_SECRET`, `SERVER_HANDSHAKE_TRAFFIC_SECRET`,
//! `CLIENT_TRAFFIC_SECRET_0` and `SERVER_TRAFFIC_SECRET_0` lines of the ClientHello random
//! that [`super::Parser::client_random`] reports), a [`Decryptor`] derives packet keys
//! ("quic key", "quic iv", "quic hp"; "quicv2 ..." for v2), removes header protection
//! (AES-ECB or ChaCha20 mask), recovers packet numbers (RFC 9000 A.3) and opens the AEAD
//! (AES-128-GCM, AES-256-GCM, ChaCha20-Poly1305). Short headers carry no DCID length: it is
//! learned from the connection IDs seen in long headers and NEW_CONNECTION_ID frames. Key
//! updates (RFC 9001 6) are followed with the "quic ku" secret chain. STREAM frames are
//! reassembled per stream and handed out in order ([`Event::Stream`]); the server's
//! Handshake CRYPTO stream yields the TLS 1.3 Certificate message's DER certificates.
//!
//! # Contract
//! No datagram makes it panic; a payload is used only when its tag verifies (failures are
//! counted, never parsed). Memory: one datagram of scratch space, the Handshake CRYPTO
//! buffer ([`super::MAX_CRYPTO`]) and the stream reassembly caps of [`super::streams`].

use aes::cipher::{BlockEncrypt, KeyInit};
use aes::{Aes128, Aes256};
use aes_gcm::aead::AeadInPlace;
use aes_gcm::{Aes128Gcm, Aes256Gcm, Nonce, Tag};
use chacha20::cipher::{KeyIvInit, StreamCipher, StreamCipherSeek};
use chacha20poly1305::ChaCha20Poly1305;
use hkdf::Hkdf;
use sha2::{Sha256, Sha384};

use super::crypto::CryptoStream;
use super::keys::decode_packet_number;
use super::streams::{StreamStats, Streams};
use super::{version, Cid, Kind, LongHeader, MAX_CID};
use crate::tls::codec::Reader;

const TAG_LEN: usize = 16;
const SAMPLE_LEN: usize = 16;
/// Connection IDs remembered per direction.
const MAX_CIDS: usize = 8;

/// The secrets of one connection, as logged. Missing ones are `None`: without the
/// handshake secrets the certificate stays hidden; without the traffic secrets, the data.
#[derive(Debug, Clone, Copy, Default)]
pub struct Secrets<'a> {
    pub client_handshake: Option<&'a [u8]>,
    pub server_handshake: Option<&'a [u8]>,
    pub client_traffic: Option<&'a [u8]>,
    pub server_traffic: Option<&'a [u8]>,
}

/// What the decryptor found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// In-order bytes of one stream direction, starting at `offset`; `fin` marks its end.
    Stream {
        from_client: bool,
        id: u64,
        offset: u64,
        data: Vec<u8>,
        fin: bool,
    },
    /// `len` bytes of a stream will never be handed out.
    StreamGap {
        from_client: bool,
        id: u64,
        len: u64,
    },
    /// The sender abandoned the stream (RESET_STREAM, RFC 9000 19.4).
    StreamReset { from_client: bool, id: u64 },
    /// DER certificates of the server's TLS 1.3 Certificate message (RFC 8446 4.4.2).
    Certificates(Vec<Vec<u8>>),
}

/// Counters per connection.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    pub handshake_packets: u64,
    pub short_packets: u64,
    pub decrypted: u64,
    /// Tags that did not verify: wrong keys, wrong DCID length guess, or corruption.
    pub decrypt_failed: u64,
    /// Packets of a level whose secret was not given.
    pub no_keys: u64,
    /// Short-header packets before any connection ID of their direction was seen.
    pub no_cid: u64,
    pub key_updates: u64,
    /// Headers or frames that did not parse.
    pub malformed: u64,
    pub streams: StreamStats,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Suite {
    Aes128Gcm,
    Aes256Gcm,
    ChaCha20Poly1305,
}

impl Suite {
    /// TLS 1.3 cipher suites (RFC 8446 B.4); CCM suites are not used by QUIC stacks.
    fn from_cipher(c: u16) -> Option<Self> {
        match c {
            0x1301 => Some(Self::Aes128Gcm),
            0x1302 => Some(Self::Aes256Gcm),
            0x1303 => Some(Self::ChaCha20Poly1305),
            _ => None,
        }
    }

    fn key_len(self) -> usize {
        match self {
            Self::Aes128Gcm => 16,
            Self::Aes256Gcm | Self::ChaCha20Poly1305 => 32,
        }
    }

    fn hash_len(self) -> usize {
        match self {
            Self::Aes256Gcm => 48,
            Self::Aes128Gcm | Self::ChaCha20Poly1305 => 32,
        }
    }
}

/// HKDF-Expand-Label with an empty context (RFC 8446 7.1) under the suite's hash.
fn expand_label(suite: Suite, secret: &[u8], label: &[u8], out: &mut [u8]) -> Option<()> {
    let mut info = [0u8; 64];
    let full = 6 + label.len();
    info.get_mut(..2)?
        .copy_from_slice(&u16::try_from(out.len()).ok()?.to_be_bytes());
    info[2] = u8::try_from(full).ok()?;
    info.get_mut(3..9)?.copy_from_slice(b"tls13 ");
    info.get_mut(9..9 + label.len())?.copy_from_slice(label);
    let info = info.get(..10 + label.len())?; // context length byte stays 0
    match suite {
        Suite::Aes256Gcm => Hkdf::<Sha384>::from_prk(secret)
            .ok()?
            .expand(info, out)
            .ok(),
        _ => Hkdf::<Sha256>::from_prk(secret)
            .ok()?
            .expand(info, out)
            .ok(),
    }
}

enum Aead {
    A128(Box<Aes128Gcm>),
    A256(Box<Aes256Gcm>),
    ChaCha(Box<ChaCha20Poly1305>),
}

enum Hp {
    A128(Box<Aes128>),
    A256(Box<Aes256>),
    ChaCha([u8; 32]),
}

impl Hp {
    /// RFC 9001 5.4.3 (AES) and 5.4.4 (ChaCha20) header protection mask.
    fn mask(&self, sample: &[u8]) -> Option<[u8; 5]> {
        let mut mask = [0u8; 5];
        match self {
            Self::A128(k) => {
                let mut b = aes::Block::clone_from_slice(sample.get(..16)?);
                k.encrypt_block(&mut b);
                mask.copy_from_slice(&b[..5]);
            }
            Self::A256(k) => {
                let mut b = aes::Block::clone_from_slice(sample.get(..16)?);
                k.encrypt_block(&mut b);
                mask.copy_from_slice(&b[..5]);
            }
            Self::ChaCha(key) => {
                let counter = u32::from_le_bytes(sample.get(..4)?.try_into().ok()?);
                let nonce: [u8; 12] = sample.get(4..16)?.try_into().ok()?;
                let mut c = chacha20::ChaCha20::new(key.into(), &nonce.into());
                c.seek(u64::from(counter) * 64);
                c.apply_keystream(&mut mask);
            }
        }
        Some(mask)
    }
}

struct PacketKeys {
    aead: Aead,
    iv: [u8; 12],
}

impl PacketKeys {
    fn new(suite: Suite, secret: &[u8], v2: bool) -> Option<Self> {
        let mut key = [0u8; 32];
        let key = key.get_mut(..suite.key_len())?;
        let mut iv = [0u8; 12];
        let (lk, liv): (&[u8], &[u8]) = if v2 {
            (b"quicv2 key", b"quicv2 iv")
        } else {
            (b"quic key", b"quic iv")
        };
        expand_label(suite, secret, lk, key)?;
        expand_label(suite, secret, liv, &mut iv)?;
        let aead = match suite {
            Suite::Aes128Gcm => Aead::A128(Box::new(Aes128Gcm::new_from_slice(key).ok()?)),
            Suite::Aes256Gcm => Aead::A256(Box::new(Aes256Gcm::new_from_slice(key).ok()?)),
            Suite::ChaCha20Poly1305 => {
                Aead::ChaCha(Box::new(ChaCha20Poly1305::new_from_slice(key).ok()?))
            }
        };
        Some(Self { aead, iv })
    }

    #[cfg(test)]
    fn seal(&self, pn: u64, aad: &[u8], buf: &mut [u8]) -> [u8; TAG_LEN] {
        let mut nonce = self.iv;
        for (n, p) in nonce[4..].iter_mut().zip(pn.to_be_bytes()) {
            *n ^= p;
        }
        let nonce = Nonce::from_slice(&nonce);
        let tag = match &self.aead {
            Aead::A128(a) => a.encrypt_in_place_detached(nonce, aad, buf),
            Aead::A256(a) => a.encrypt_in_place_detached(nonce, aad, buf),
            Aead::ChaCha(a) => a.encrypt_in_place_detached(nonce, aad, buf),
        };
        tag.expect("test payloads are small").into()
    }

    /// RFC 9001 5.3: nonce = iv XOR packet number; the tag is checked before anything is
    /// written, so a failed attempt leaves `ct` as it was (both crates verify first).
    fn open(&self, pn: u64, aad: &[u8], ct: &mut [u8], tag: &[u8]) -> bool {
        let mut nonce = self.iv;
        for (n, p) in nonce[4..].iter_mut().zip(pn.to_be_bytes()) {
            *n ^= p;
        }
        let nonce = Nonce::from_slice(&nonce);
        let tag = Tag::from_slice(tag);
        match &self.aead {
            Aead::A128(a) => a.decrypt_in_place_detached(nonce, aad, ct, tag).is_ok(),
            Aead::A256(a) => a.decrypt_in_place_detached(nonce, aad, ct, tag).is_ok(),
            Aead::ChaCha(a) => a.decrypt_in_place_detached(nonce, aad, ct, tag).is_ok(),
        }
    }
}

#[derive(Clone, Copy)]
struct Secret {
    bytes: [u8; 48],
    len: usize,
}

impl Secret {
    fn new(s: &[u8], suite: Suite) -> Option<Self> {
        if s.len() != suite.hash_len() {
            return None;
        }
        let mut bytes = [0u8; 48];
        bytes.get_mut(..s.len())?.copy_from_slice(s);
        Some(Self {
            bytes,
            len: s.len(),
        })
    }

    fn as_slice(&self) -> &[u8] {
        &self.bytes[..self.len]
    }

    /// RFC 9001 6.1: the next generation of the secret.
    fn next(&self, suite: Suite, v2: bool) -> Option<Self> {
        let mut out = [0u8; 48];
        let label: &[u8] = if v2 { b"quicv2 ku" } else { b"quic ku" };
        expand_label(suite, self.as_slice(), label, out.get_mut(..self.len)?)?;
        Some(Self {
            bytes: out,
            len: self.len,
        })
    }
}

/// One direction of one encryption level.
struct Level {
    suite: Suite,
    v2: bool,
    /// Header protection keys never change (RFC 9001 6).
    hp: Hp,
    secret: Secret,
    keys: PacketKeys,
    phase: bool,
    next: Option<PacketKeys>,
    prev: Option<PacketKeys>,
    /// First packet number of the current key phase.
    phase_start: u64,
    largest: Option<u64>,
}

impl Level {
    fn new(suite: Suite, secret: &[u8], v2: bool) -> Option<Self> {
        let secret = Secret::new(secret, suite)?;
        let mut hp = [0u8; 32];
        let hp = hp.get_mut(..suite.key_len())?;
        let lhp: &[u8] = if v2 { b"quicv2 hp" } else { b"quic hp" };
        expand_label(suite, secret.as_slice(), lhp, hp)?;
        let hp = match suite {
            Suite::Aes128Gcm => Hp::A128(Box::new(Aes128::new_from_slice(hp).ok()?)),
            Suite::Aes256Gcm => Hp::A256(Box::new(Aes256::new_from_slice(hp).ok()?)),
            Suite::ChaCha20Poly1305 => Hp::ChaCha(hp.try_into().ok()?),
        };
        Some(Self {
            suite,
            v2,
            hp,
            keys: PacketKeys::new(suite, secret.as_slice(), v2)?,
            secret,
            phase: false,
            next: None,
            prev: None,
            phase_start: 0,
            largest: None,
        })
    }
}

impl std::fmt::Debug for Level {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Level {{ {:?}, phase {} }}", self.suite, self.phase)
    }
}

/// Why a packet did not open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OpenError {
    TooShort,
    Auth,
}

/// One QUIC connection's Handshake and 1-RTT decryptor.
#[derive(Debug)]
pub struct Decryptor {
    version: u32,
    /// Levels per direction: [client, server].
    handshake: [Option<Level>; 2],
    app: [Option<Level>; 2],
    /// Connection IDs that packets sent by each side carry as DCID, newest last.
    dcids: [Vec<Cid>; 2],
    server_crypto: CryptoStream,
    /// Bytes of the server's Handshake CRYPTO stream already walked.
    crypto_walked: usize,
    crypto_done: bool,
    streams: Streams,
    scratch: Vec<u8>,
    stats: Stats,
}

impl Decryptor {
    /// A decryptor for a connection of QUIC `version` whose ServerHello chose `cipher`.
    /// Returns `None` for a cipher suite QUIC cannot use or a version without packet
    /// protection we know. Secrets of the wrong length for the suite are ignored.
    pub fn new(version: u32, cipher: u16, secrets: &Secrets<'_>) -> Option<Self> {
        let suite = Suite::from_cipher(cipher)?;
        let v2 = version::params(version)?.v2;
        let level = |s: Option<&[u8]>| s.and_then(|s| Level::new(suite, s, v2));
        Some(Self {
            version,
            handshake: [
                level(secrets.client_handshake),
                level(secrets.server_handshake),
            ],
            app: [level(secrets.client_traffic), level(secrets.server_traffic)],
            dcids: [Vec::new(), Vec::new()],
            server_crypto: CryptoStream::default(),
            crypto_walked: 0,
            crypto_done: false,
            streams: Streams::default(),
            scratch: Vec::new(),
            stats: Stats::default(),
        })
    }

    pub fn stats(&self) -> Stats {
        let mut s = self.stats;
        s.streams = self.streams.stats;
        s
    }

    /// Connection IDs the caller learned elsewhere: `dcid` is what packets sent by the
    /// client (`from_client`) or the server carry as Destination Connection ID.
    pub fn learn_cid(&mut self, from_client: bool, dcid: &[u8]) {
        learn(&mut self.dcids[usize::from(!from_client)], dcid);
    }

    /// One UDP payload; Initial and 0-RTT packets in it are skipped.
    pub fn datagram(&mut self, payload: &[u8], from_client: bool, out: &mut Vec<Event>) {
        let d = usize::from(!from_client);
        let mut rest = payload;
        let mut first_dcid: Option<&[u8]> = None;
        // RFC 9000 12.2: coalesced packets; a short header runs to the end.
        while let Some(&b0) = rest.first() {
            if b0 & 0x80 == 0 {
                // After long headers, only a packet to the same DCID with the fixed bit is
                // one (RFC 9000 12.2, 17.3.1); anything else is padding.
                let same = first_dcid.is_none_or(|f| rest.get(1..1 + f.len()) == Some(f));
                if same && (first_dcid.is_none() || b0 & 0x40 != 0) {
                    self.short(rest, d, out);
                }
                return;
            }
            let Some(h) = LongHeader::parse(rest) else {
                self.stats.malformed += 1;
                return;
            };
            if h.version == 0 || h.kind == Kind::Retry || h.end == 0 {
                return;
            }
            // RFC 9000 12.2: later packets with another version or DCID are not part of
            // the connection (often random padding that happens to look like a header).
            if h.version != self.version || first_dcid.is_some_and(|f| f != h.dcid) {
                return;
            }
            first_dcid = Some(h.dcid);
            if h.scid.len() <= MAX_CID {
                learn(&mut self.dcids[1 - d], h.scid);
            }
            if h.kind == Kind::Handshake {
                learn(&mut self.dcids[d], h.dcid);
                self.stats.handshake_packets += 1;
                self.packet(&rest[..h.end], h.pn_offset, d, true, out);
            }
            rest = &rest[h.end..];
        }
    }

    /// End of the flow: stream holes are reported and buffered data handed out.
    pub fn finish(&mut self, out: &mut Vec<Event>) {
        self.streams.finish(out);
    }

    fn short(&mut self, pkt: &[u8], d: usize, out: &mut Vec<Event>) {
        self.stats.short_packets += 1;
        // The DCID whose bytes open the packet, else the newest one's length.
        let cids = &self.dcids[d];
        let len = cids
            .iter()
            .rev()
            .find(|c| pkt.get(1..1 + c.as_slice().len()) == Some(c.as_slice()))
            .or(cids.last())
            .map(|c| c.as_slice().len());
        let Some(len) = len else {
            self.stats.no_cid += 1;
            return;
        };
        self.packet(pkt, 1 + len, d, false, out);
    }

    fn packet(&mut self, pkt: &[u8], pn_offset: usize, d: usize, long: bool, out: &mut Vec<Event>) {
        let level = if long {
            &mut self.handshake[d]
        } else {
            &mut self.app[d]
        };
        let Some(level) = level.as_mut() else {
            self.stats.no_keys += 1;
            return;
        };
        self.scratch.clear();
        self.scratch.extend_from_slice(pkt);
        match open(level, &mut self.scratch, pn_offset, long) {
            Ok((range, updated)) => {
                self.stats.decrypted += 1;
                if updated {
                    self.stats.key_updates += 1;
                }
                let payload = std::mem::take(&mut self.scratch);
                self.frames(payload.get(range).unwrap_or_default(), d, long, out);
                self.scratch = payload;
            }
            Err(OpenError::Auth) => self.stats.decrypt_failed += 1,
            Err(OpenError::TooShort) => self.stats.malformed += 1,
        }
    }

    fn frames(&mut self, payload: &[u8], d: usize, long: bool, out: &mut Vec<Event>) {
        let from_client = d == 0;
        let mut crypto = Vec::new();
        let r = walk(payload, |f| match f {
            Frame::Stream {
                id,
                offset,
                data,
                fin,
            } if !long => {
                self.streams.insert(from_client, id, offset, data, fin, out);
            }
            Frame::Reset { id } => out.push(Event::StreamReset { from_client, id }),
            Frame::Crypto { offset, data } if long && d == 1 => crypto.push((offset, data)),
            Frame::NewCid(cid) => learn(&mut self.dcids[1 - d], cid),
            _ => {}
        });
        if r.is_none() {
            self.stats.malformed += 1;
        }
        if !crypto.is_empty() && !self.crypto_done {
            for (off, data) in crypto {
                if !self.server_crypto.insert(off, data) {
                    self.crypto_done = true;
                }
            }
            self.certificates(out);
        }
    }

    /// Walks the server's Handshake messages (RFC 8446 4) up to its Certificate.
    fn certificates(&mut self, out: &mut Vec<Event>) {
        loop {
            let c = self.server_crypto.contiguous();
            let Some(rest) = c.get(self.crypto_walked..) else {
                return;
            };
            let mut r = Reader::new(rest);
            let (Some(ty), Some(len)) = (r.u8(), r.u24()) else {
                return;
            };
            let Some(body) = r.take(len) else { return };
            self.crypto_walked = self.crypto_walked.saturating_add(4 + len);
            match ty {
                11 => {
                    match certificate_list(body) {
                        Some(certs) => out.push(Event::Certificates(certs)),
                        None => self.stats.malformed += 1,
                    }
                    self.crypto_done = true;
                    self.server_crypto = CryptoStream::default();
                    return;
                }
                // Finished without a Certificate (PSK resumption): nothing to show.
                20 => {
                    self.crypto_done = true;
                    self.server_crypto = CryptoStream::default();
                    return;
                }
                _ => {}
            }
        }
    }
}

fn learn(list: &mut Vec<Cid>, cid: &[u8]) {
    let Some(c) = Cid::new(cid).filter(|c| usize::from(c.len) <= MAX_CID) else {
        return;
    };
    if let Some(i) = list.iter().position(|x| *x == c) {
        list.remove(i);
    } else if list.len() >= MAX_CIDS {
        list.remove(0);
    }
    list.push(c);
}

/// RFC 8446 4.4.2: certificate_request_context, then entries of DER data and extensions.
fn certificate_list(body: &[u8]) -> Option<Vec<Vec<u8>>> {
    let mut r = Reader::new(body);
    r.vec8()?;
    let len = r.u24()?;
    let mut list = Reader::new(r.take(len)?);
    let mut certs = Vec::new();
    while !list.is_empty() {
        let n = list.u24()?;
        let der = list.take(n)?;
        list.vec16()?;
        if certs.len() < 16 {
            certs.push(der.to_vec());
        }
    }
    Some(certs)
}

/// Removes header protection and opens the packet in `pkt` with `level`'s keys, following
/// a key update when the key phase bit flips. Returns the payload range and whether the
/// keys were updated.
fn open(
    level: &mut Level,
    pkt: &mut [u8],
    pn_offset: usize,
    long: bool,
) -> Result<(std::ops::Range<usize>, bool), OpenError> {
    let sample_at = pn_offset.checked_add(4).ok_or(OpenError::TooShort)?;
    let sample = pkt
        .get(sample_at..sample_at.saturating_add(SAMPLE_LEN))
        .ok_or(OpenError::TooShort)?;
    let mask = level.hp.mask(sample).ok_or(OpenError::TooShort)?;
    // RFC 9001 5.4.1: four low bits of a long header's first byte, five of a short one's.
    pkt[0] ^= mask[0] & if long { 0x0f } else { 0x1f };
    let pn_len = usize::from(pkt[0] & 0x03) + 1;
    let mut truncated = 0u64;
    for i in 0..pn_len {
        // In bounds: the sample check covered pn_offset + 20.
        pkt[pn_offset + i] ^= mask[1 + i];
        truncated = truncated << 8 | u64::from(pkt[pn_offset + i]);
    }
    let pn = decode_packet_number(level.largest, truncated, pn_len as u32 * 8);
    let payload_at = pn_offset + pn_len;
    let tag_at = pkt
        .len()
        .checked_sub(TAG_LEN)
        .filter(|&t| t >= payload_at)
        .ok_or(OpenError::TooShort)?;
    let phase = !long && pkt[0] & 0x04 != 0;
    let (header, rest) = pkt.split_at_mut(payload_at);
    let (ct, tag) = rest.split_at_mut(tag_at - payload_at);
    let mut updated = false;
    let ok = if long || phase == level.phase {
        level.keys.open(pn, header, ct, tag)
    } else if pn < level.phase_start && level.prev.is_some() {
        // A late packet of the previous phase.
        level
            .prev
            .as_ref()
            .is_some_and(|k| k.open(pn, header, ct, tag))
    } else {
        // RFC 9001 6.3: a flipped bit announces the next keys.
        if level.next.is_none() {
            let next_secret = level
                .secret
                .next(level.suite, level.v2)
                .ok_or(OpenError::Auth)?;
            level.next = PacketKeys::new(level.suite, next_secret.as_slice(), level.v2);
        }
        let ok = level
            .next
            .as_ref()
            .is_some_and(|k| k.open(pn, header, ct, tag));
        if ok {
            if let Some(s) = level.secret.next(level.suite, level.v2) {
                level.secret = s;
            }
            if let Some(next) = level.next.take() {
                level.prev = Some(std::mem::replace(&mut level.keys, next));
            }
            level.phase = phase;
            level.phase_start = pn;
            updated = true;
        }
        ok
    };
    if !ok {
        return Err(OpenError::Auth);
    }
    level.largest = Some(level.largest.map_or(pn, |l| l.max(pn)));
    Ok((payload_at..tag_at, updated))
}

/// Frames the decryptor acts on.
#[derive(Debug)]
enum Frame<'a> {
    Stream {
        id: u64,
        offset: u64,
        data: &'a [u8],
        fin: bool,
    },
    Reset {
        id: u64,
    },
    Crypto {
        offset: u64,
        data: &'a [u8],
    },
    NewCid(&'a [u8]),
}

/// Walks the frames of a payload (RFC 9000 19; RFC 9221 DATAGRAM; ACK_FREQUENCY and
/// IMMEDIATE_ACK of draft-ietf-quic-ack-frequency). `None` when a frame is cut short or of
/// an unknown type (its length cannot be known, so the rest is skipped).
fn walk<'a>(payload: &'a [u8], mut f: impl FnMut(Frame<'a>)) -> Option<()> {
    let mut r = Reader::new(payload);
    let skip = |r: &mut Reader<'a>, n: usize| -> Option<()> {
        for _ in 0..n {
            r.varint()?;
        }
        Some(())
    };
    while !r.is_empty() {
        let ty = r.varint()?;
        match ty {
            0x00 | 0x01 | 0x1e | 0x1f => {}
            0x02 | 0x03 => {
                skip(&mut r, 2)?;
                let ranges = r.varint()?;
                r.varint()?;
                // Each range takes at least two bytes: the payload bounds the loop.
                for _ in 0..ranges {
                    skip(&mut r, 2)?;
                }
                if ty == 0x03 {
                    skip(&mut r, 3)?;
                }
            }
            0x04 => {
                let id = r.varint()?;
                skip(&mut r, 2)?;
                f(Frame::Reset { id });
            }
            0x05 | 0x11 | 0x15 => skip(&mut r, 2)?,
            0x06 => {
                let offset = r.varint()?;
                let len = usize::try_from(r.varint()?).ok()?;
                f(Frame::Crypto {
                    offset,
                    data: r.take(len)?,
                });
            }
            0x07 => {
                let len = usize::try_from(r.varint()?).ok()?;
                r.take(len)?;
            }
            0x08..=0x0f => {
                let id = r.varint()?;
                let offset = if ty & 0x04 != 0 { r.varint()? } else { 0 };
                let data = if ty & 0x02 != 0 {
                    let len = usize::try_from(r.varint()?).ok()?;
                    r.take(len)?
                } else {
                    let rest = r.rest();
                    r.take(rest.len())?
                };
                offset.checked_add(data.len() as u64)?;
                f(Frame::Stream {
                    id,
                    offset,
                    data,
                    fin: ty & 0x01 != 0,
                });
            }
            0x10 | 0x12 | 0x13 | 0x14 | 0x16 | 0x17 | 0x19 => skip(&mut r, 1)?,
            0x18 => {
                skip(&mut r, 2)?;
                let cid = r.vec8()?.rest();
                r.take(16)?;
                f(Frame::NewCid(cid));
            }
            0x1a | 0x1b => {
                r.take(8)?;
            }
            0x1c | 0x1d => {
                skip(&mut r, if ty == 0x1c { 2 } else { 1 })?;
                let len = usize::try_from(r.varint()?).ok()?;
                r.take(len)?;
            }
            0x30 => {
                let rest = r.rest();
                r.take(rest.len())?;
            }
            0x31 => {
                let len = usize::try_from(r.varint()?).ok()?;
                r.take(len)?;
            }
            0xaf => skip(&mut r, 4)?,
            _ => return None,
        }
    }
    Some(())
}

#[cfg(test)]
mod tests;

//! TLS record decryption with a key log: one sans-IO [`Decryptor`] per TCP
//! connection, fed both reassembled byte streams, bytes in, [`Event`]s out.
//!
//! The decryptor frames records itself (RFC 8446 section 5.1, RFC 5246
//! section 6.2), reads the client random, server random, version and cipher
//! suite from the hellos, and from the first protected record on opens each
//! record with keys derived from the [`KeyLog`]:
//!
//! - TLS 1.0-1.2: the master secret of a `CLIENT_RANDOM` line is expanded with
//!   the suite's PRF into the key block (RFC 5246 section 6.3); AES-GCM
//!   (explicit nonce, RFC 5288), ChaCha20-Poly1305 (RFC 7905) and AES-CBC with
//!   HMAC-SHA1/256/384, MAC-then-encrypt or encrypt-then-MAC (RFC 7366),
//!   explicit per-record IVs from TLS 1.1 on, the chained IV of TLS 1.0.
//! - TLS 1.3: handshake, application and early traffic secrets come from the
//!   key log; keys are HKDF-Expand-Label'ed from them (RFC 8446 section 7.3);
//!   the content type is read from the inner plaintext; compatibility
//!   ChangeCipherSpec records are skipped; Finished switches to application
//!   keys, KeyUpdate to the next generation (section 7.2); the server's
//!   Certificate becomes visible and is reported as [`Certificate`]s.
//!
//! A tag or MAC that does not verify never yields plaintext: the record is
//! counted in [`Stats::auth_failures`]. After a gap in a stream the decryptor
//! looks for the next plausible record header and tries the following
//! [`RESYNC_WINDOW`] sequence numbers until a tag verifies; a header that is
//! not followed by a verifying record is skipped a byte at a time.
//!
//! Records that depend on the other direction (the client's encrypted records
//! need the ServerHello; the server's need the ClientHello) are held, up to
//! [`MAX_PENDING`] bytes, until it arrives: the caller may feed the two
//! directions in any interleaving that keeps each one in order.
//!
//! # Contract
//! Input is hostile and so is the key log. No bytes make the decryptor panic:
//! wire lengths are checked against what is buffered, slices are taken with
//! `get`, and arithmetic on wire values is checked or saturating. Memory is
//! bounded per direction: one record ([`MAX_RECORD`](super) bytes), one
//! handshake message ([`MAX_HANDSHAKE`]), [`MAX_PENDING`] held bytes and a
//! resynchronisation buffer of one record plus the last chunk fed. Work is
//! bounded too: a direction whose records keep failing authentication gives
//! up after [`MAX_FAILURES`] of them.
//!
//! ```
//! use phonehome_app::keylog::KeyLog;
//! use phonehome_app::tls::decrypt::{Decryptor, Direction, Event};
//! let (keys, _) = KeyLog::parse("", "none");
//! let mut d = Decryptor::new();
//! let mut out = Vec::new();
//! d.push(Direction::ClientToServer, b"GET / HTTP/1.1\r\n", &keys, &mut out);
//! assert!(!d.status().decrypted);
//! ```

mod keys;
mod record;
mod suite;

#[doc(hidden)]
pub mod fuzzing;

#[cfg(test)]
mod fixtures;

use std::io::Read as _;

use super::codec::Reader;
use super::{cert, hello, Certificate, MAX_HANDSHAKE, MAX_RECORD};
use crate::keylog::{KeyLog, Secret};
use record::{Opened, Opener};

/// Sequence numbers tried past the expected one when a record does not
/// verify (records lost in a gap, or a record we could not frame).
pub const RESYNC_WINDOW: u64 = 64;
/// Bytes of records held per direction while waiting for the other
/// direction's hello.
pub const MAX_PENDING: usize = 64 * 1024;
/// Consecutive records failing authentication after which a direction stops
/// trying (wrong keys, or not the stream we think).
pub const MAX_FAILURES: u32 = 8;

// Record content types (RFC 8446 section 5.1).
const CHANGE_CIPHER_SPEC: u8 = 20;
const ALERT: u8 = 21;
const HANDSHAKE: u8 = 22;
const APPLICATION_DATA: u8 = 23;

// Handshake message types (RFC 8446 section 4, RFC 8879).
const END_OF_EARLY_DATA: u8 = 5;
const CERTIFICATE: u8 = 11;
const FINISHED: u8 = 20;
const KEY_UPDATE: u8 = 24;
const COMPRESSED_CERTIFICATE: u8 = 25;

// Extensions read from the hellos.
const EXT_ENCRYPT_THEN_MAC: u16 = 22; // RFC 7366
const EXT_EARLY_DATA: u16 = 42; // RFC 8446 section 4.2.10

/// Which way a stream flows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// Sent by the client (the side that sent the ClientHello).
    ClientToServer,
    /// Sent by the server.
    ServerToClient,
}

impl Direction {
    fn index(self) -> usize {
        match self {
            Self::ClientToServer => 0,
            Self::ServerToClient => 1,
        }
    }
}

/// Plaintext application data from one record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decrypted {
    /// Who sent it.
    pub direction: Direction,
    /// The record's content.
    pub bytes: Vec<u8>,
    /// Sequence number of the record under its keys (restarts at 0 with
    /// every key change in TLS 1.3).
    pub record_seq: u64,
}

/// Why records of a connection (or a direction) were not decrypted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Reason {
    /// The stream is not TLS.
    NotTls,
    /// The ClientHello or ServerHello was not seen (capture started late,
    /// or lost in a gap).
    MissingHandshake,
    /// The key log has no (usable) secret for this client random.
    NoKey,
    /// A protocol version we do not decrypt (SSL 3.0, DTLS, drafts).
    UnsupportedVersion(u16),
    /// A cipher suite we do not decrypt (3DES, RC4, CCM, ARIA, Camellia...).
    UnsupportedSuite(u16),
    /// Records kept failing authentication: wrong keys or damaged data.
    AuthFailures,
    /// Record framing was lost and could not be found again.
    Desync,
}

impl std::fmt::Display for Reason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::NotTls => f.write_str("not TLS"),
            Self::MissingHandshake => f.write_str("handshake not seen"),
            Self::NoKey => f.write_str("no key for this client random"),
            Self::UnsupportedVersion(v) => {
                write!(f, "unsupported version {}", super::version_name(*v))
            }
            Self::UnsupportedSuite(s) => write!(f, "unsupported cipher suite 0x{s:04x}"),
            Self::AuthFailures => f.write_str("records failed authentication"),
            Self::Desync => f.write_str("record framing lost"),
        }
    }
}

/// What the decryptor saw, in stream order per direction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// Decrypted application data.
    Data(Decrypted),
    /// A handshake message inside encryption (TLS 1.3 flight, Finished,
    /// NewSessionTicket, KeyUpdate...).
    Handshake {
        /// Who sent it.
        direction: Direction,
        /// HandshakeType.
        msg_type: u8,
        /// Body length from its header.
        len: usize,
    },
    /// A certificate chain decrypted from a TLS 1.3 Certificate or
    /// CompressedCertificate message; entries x509-parser rejects are left out.
    Certificates {
        /// Who sent it (the server's chain, or a client certificate).
        direction: Direction,
        /// The chain in order.
        chain: Vec<Certificate>,
    },
    /// An alert inside encryption (RFC 8446 section 6).
    Alert {
        /// Who sent it.
        direction: Direction,
        /// 1 warning, 2 fatal.
        level: u8,
        /// AlertDescription.
        description: u8,
    },
    /// A TLS 1.3 KeyUpdate: this direction switched to its next secret.
    KeyUpdate {
        /// Who sent it.
        direction: Direction,
        /// The sender asked the peer to update too.
        update_requested: bool,
    },
    /// The reassembler lost bytes of this direction.
    Gap {
        /// Which direction.
        direction: Direction,
        /// Bytes lost.
        len: u64,
    },
    /// Framing was found again after a gap or desync.
    Resynced {
        /// Which direction.
        direction: Direction,
        /// Bytes skipped while looking for a record that verifies.
        skipped_bytes: u64,
        /// Sequence numbers skipped (records lost).
        skipped_records: u64,
    },
    /// This direction will not be decrypted (any further).
    Stopped {
        /// Which direction.
        direction: Direction,
        /// Why.
        reason: Reason,
    },
}

/// Whether the connection was decrypted, and if not (or not all of it), why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Status {
    /// At least one protected record was opened.
    pub decrypted: bool,
    /// The last reason a direction stopped, or why nothing was decrypted.
    pub reason: Option<Reason>,
}

/// Counters for one connection.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Record headers read (both directions).
    pub records: u64,
    /// Protected records opened.
    pub records_decrypted: u64,
    /// Application data bytes decrypted.
    pub bytes_decrypted: u64,
    /// Records whose tag, MAC or padding did not verify.
    pub auth_failures: u64,
    /// Protected records not attempted (direction stopped, no key...).
    pub undecryptable: u64,
    /// TLS 1.3 compatibility ChangeCipherSpec records skipped.
    pub ccs_skipped: u64,
    /// Gaps reported by the reassembler.
    pub gaps: u64,
    /// Times framing was found again.
    pub resyncs: u64,
    /// Bytes skipped while resynchronising.
    pub skipped_bytes: u64,
    /// Records dropped because the pending buffer was full.
    pub pending_dropped: u64,
    /// Handshake messages over [`MAX_HANDSHAKE`], skipped.
    pub oversized: u64,
}

/// What the hellos settled.
#[derive(Debug, Clone, Copy)]
struct Hello {
    server_random: [u8; 32],
    version: u16,
    suite: u16,
    etm: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Phase {
    /// Before encryption: hellos in clear.
    #[default]
    Clear,
    /// TLS 1.0-1.2 after ChangeCipherSpec.
    Tls12,
    /// TLS 1.3 client 0-RTT data.
    Early,
    /// TLS 1.3 handshake traffic keys.
    Handshake,
    /// TLS 1.3 application traffic keys.
    Application,
    /// Nothing more is decrypted.
    Stopped,
}

impl Phase {
    /// The TLS 1.3 phase a record may belong to when it fails in this one
    /// (a Finished or EndOfEarlyData lost in a gap).
    fn next13(self) -> Option<Self> {
        match self {
            Self::Early => Some(Self::Handshake),
            Self::Handshake => Some(Self::Application),
            _ => None,
        }
    }
}

/// One direction.
#[derive(Debug, Default)]
struct Side {
    hdr: [u8; 5],
    hdr_len: usize,
    body: Vec<u8>,
    need: usize,
    started: bool,
    phase: Phase,
    /// Keys of the current phase, derived on first use.
    opener: Option<Opener>,
    /// The TLS 1.3 traffic secret of the current phase when it did not come
    /// from the key log as such (after KeyUpdate).
    secret: Option<Secret>,
    seq: u64,
    /// Bumped at every key change: handshake bytes must not span one.
    epoch: u32,
    hs: Vec<u8>,
    hs_skip: usize,
    /// Framing lost: bytes go to `scan` until a record verifies.
    lost: bool,
    scan: Vec<u8>,
    scan_skipped: u64,
    failures: u32,
    /// Complete records (header and body) waiting for the other direction.
    pending: Vec<u8>,
    version: Option<[u8; 2]>,
}

impl Side {
    fn set_phase(&mut self, phase: Phase) {
        self.phase = phase;
        self.opener = None;
        self.secret = None;
        self.seq = 0;
        self.epoch = self.epoch.wrapping_add(1);
        self.hs.clear();
        self.hs_skip = 0;
    }
}

/// Per-connection TLS decryptor.
#[derive(Debug, Default)]
pub struct Decryptor {
    sides: [Side; 2],
    client_random: Option<[u8; 32]>,
    early_data_offered: bool,
    hello_retry: bool,
    hello: Option<Hello>,
    work: Vec<u8>,
    stats: Stats,
    reason: Option<Reason>,
}

/// Result of asking for a direction's keys.
enum Keys {
    Ready,
    /// The other direction's hello is needed first.
    Wait,
    Stop(Reason),
}

impl Decryptor {
    /// A decryptor for one connection.
    pub fn new() -> Self {
        Self::default()
    }

    /// Counters so far.
    pub fn stats(&self) -> Stats {
        self.stats
    }

    /// Whether anything was decrypted, and why not (all).
    pub fn status(&self) -> Status {
        let decrypted = self.stats.records_decrypted > 0;
        let reason = self.reason.or_else(|| {
            if decrypted {
                None
            } else if self.client_random.is_none() || self.hello.is_none() {
                Some(Reason::MissingHandshake)
            } else if self.stats.auth_failures > 0 {
                Some(Reason::AuthFailures)
            } else {
                None
            }
        });
        Status { decrypted, reason }
    }

    /// True once both directions have stopped (not TLS, no key, unsupported,
    /// failures): nothing more will be decrypted, so the caller may stop
    /// reassembling the flow.
    pub fn done(&self) -> bool {
        self.sides.iter().all(|s| s.phase == Phase::Stopped)
    }

    /// The negotiated version and cipher suite, once the ServerHello was read.
    pub fn negotiated(&self) -> Option<(u16, u16)> {
        self.hello.map(|h| (h.version, h.suite))
    }

    /// Feeds the next in-order bytes of one direction.
    pub fn push(&mut self, dir: Direction, mut data: &[u8], keys: &KeyLog, out: &mut Vec<Event>) {
        let i = dir.index();
        while !data.is_empty() {
            let side = &mut self.sides[i];
            if side.phase == Phase::Stopped && !side.lost {
                // Framing is still followed so that records are counted.
                if side.hdr_len < 5 && !side.started {
                    return;
                }
            }
            if side.lost {
                side.scan.extend_from_slice(data);
                self.rescan(dir, keys, out);
                return;
            }
            if side.hdr_len < 5 {
                let n = (5 - side.hdr_len).min(data.len());
                side.hdr[side.hdr_len..side.hdr_len + n].copy_from_slice(&data[..n]);
                side.hdr_len += n;
                data = &data[n..];
                if side.hdr_len < 5 {
                    continue;
                }
                let [ty, major, minor, l0, l1] = side.hdr;
                let len = usize::from(u16::from_be_bytes([l0, l1]));
                let first = !side.started;
                side.started = true;
                if first && !super::looks_like_tls(&side.hdr) {
                    side.hdr_len = 0;
                    self.stop(dir, Reason::NotTls, out);
                    return;
                }
                if !(CHANGE_CIPHER_SPEC..=24).contains(&ty)
                    || major != 3
                    || minor > 4
                    || len > MAX_RECORD
                {
                    // Framing lost: look for the next record that verifies.
                    let hdr = side.hdr;
                    side.hdr_len = 0;
                    self.lose(dir, out);
                    let side = &mut self.sides[i];
                    if side.lost {
                        side.scan.extend_from_slice(&hdr);
                        side.scan.extend_from_slice(data);
                        self.rescan(dir, keys, out);
                    }
                    return;
                }
                side.need = len;
                side.body.clear();
            }
            let side = &mut self.sides[i];
            let n = side.need.min(data.len());
            side.body.extend_from_slice(&data[..n]);
            side.need -= n;
            data = &data[n..];
            if side.need == 0 {
                side.hdr_len = 0;
                let hdr = side.hdr;
                let body = std::mem::take(&mut side.body);
                self.record(dir, &hdr, &body, keys, out);
                let side = &mut self.sides[i];
                side.body = body;
                side.body.clear();
            }
        }
    }

    /// The reassembler lost `len` bytes of `dir` at the current position.
    pub fn gap(&mut self, dir: Direction, len: u64, out: &mut Vec<Event>) {
        self.stats.gaps = self.stats.gaps.saturating_add(1);
        out.push(Event::Gap {
            direction: dir,
            len,
        });
        let side = &mut self.sides[dir.index()];
        side.hdr_len = 0;
        side.need = 0;
        side.body.clear();
        if side.lost {
            // Bytes before the gap cannot join bytes after it.
            side.scan_skipped = side.scan_skipped.saturating_add(side.scan.len() as u64);
            side.scan.clear();
            return;
        }
        self.lose(dir, out);
    }

    /// The connection ended: records still waiting for the other direction
    /// will never be decrypted.
    pub fn finish(&mut self, out: &mut Vec<Event>) {
        for dir in [Direction::ClientToServer, Direction::ServerToClient] {
            let side = &mut self.sides[dir.index()];
            if !side.pending.is_empty() {
                side.pending.clear();
                self.stats.undecryptable = self.stats.undecryptable.saturating_add(1);
                self.stop(dir, Reason::MissingHandshake, out);
            }
        }
    }

    fn stop(&mut self, dir: Direction, reason: Reason, out: &mut Vec<Event>) {
        let side = &mut self.sides[dir.index()];
        if side.phase == Phase::Stopped {
            return;
        }
        side.set_phase(Phase::Stopped);
        side.lost = false;
        side.scan = Vec::new();
        side.pending = Vec::new();
        self.reason = Some(reason);
        out.push(Event::Stopped {
            direction: dir,
            reason,
        });
    }

    /// Framing of `dir` is lost: switch to scanning, first moving a direction
    /// still in clear to the protected phase that comes next.
    fn lose(&mut self, dir: Direction, out: &mut Vec<Event>) {
        let i = dir.index();
        match self.sides[i].phase {
            Phase::Stopped => return,
            Phase::Clear => {
                let known = self.client_random.is_some() && self.hello.is_some();
                match self.hello {
                    Some(h) if known && h.version < 0x0304 => self.sides[i].set_phase(Phase::Tls12),
                    Some(_) if known && dir == Direction::ClientToServer => {
                        self.sides[i].set_phase(Phase::Handshake);
                    }
                    _ => {
                        self.stop(dir, Reason::MissingHandshake, out);
                        return;
                    }
                }
            }
            _ => {}
        }
        let side = &mut self.sides[i];
        side.lost = true;
        side.scan.clear();
        side.scan_skipped = 0;
        side.hs.clear();
        side.hs_skip = 0;
    }

    /// One complete record.
    fn record(
        &mut self,
        dir: Direction,
        hdr: &[u8; 5],
        body: &[u8],
        keys: &KeyLog,
        out: &mut Vec<Event>,
    ) {
        self.stats.records = self.stats.records.saturating_add(1);
        let i = dir.index();
        if !self.sides[i].pending.is_empty() {
            // Keep the order behind records already waiting.
            self.hold(dir, hdr, body);
            return;
        }
        match self.sides[i].phase {
            Phase::Stopped => {
                if hdr[0] != CHANGE_CIPHER_SPEC {
                    self.stats.undecryptable = self.stats.undecryptable.saturating_add(1);
                }
            }
            Phase::Clear => self.clear_record(dir, hdr, body, keys, out),
            _ => self.protected_record(dir, hdr, body, keys, out),
        }
    }

    fn hold(&mut self, dir: Direction, hdr: &[u8; 5], body: &[u8]) {
        let side = &mut self.sides[dir.index()];
        if side.pending.len().saturating_add(5 + body.len()) > MAX_PENDING {
            self.stats.pending_dropped = self.stats.pending_dropped.saturating_add(1);
            return;
        }
        side.pending.extend_from_slice(hdr);
        side.pending.extend_from_slice(body);
    }

    /// Replays the records `dir` held, now that the other direction spoke.
    fn flush(&mut self, dir: Direction, keys: &KeyLog, out: &mut Vec<Event>) {
        let pending = std::mem::take(&mut self.sides[dir.index()].pending);
        let mut r = Reader::new(&pending);
        while let Some(h) = r.take(5) {
            let Ok(hdr) = <[u8; 5]>::try_from(h) else {
                break;
            };
            let len = usize::from(u16::from_be_bytes([hdr[3], hdr[4]]));
            let Some(body) = r.take(len) else {
                break;
            };
            // Not counted twice: `record` counted it when it was held.
            self.stats.records = self.stats.records.saturating_sub(1);
            self.record(dir, &hdr, body, keys, out);
        }
    }

    fn clear_record(
        &mut self,
        dir: Direction,
        hdr: &[u8; 5],
        body: &[u8],
        keys: &KeyLog,
        out: &mut Vec<Event>,
    ) {
        let client = dir == Direction::ClientToServer;
        match hdr[0] {
            HANDSHAKE => self.handshake_bytes(dir, body, false, keys, out),
            CHANGE_CIPHER_SPEC => match self.hello {
                None if client => self.hold(dir, hdr, body),
                None => {}
                Some(h) if h.version >= 0x0304 => {
                    self.stats.ccs_skipped = self.stats.ccs_skipped.saturating_add(1);
                }
                Some(_) => self.sides[dir.index()].set_phase(Phase::Tls12),
            },
            APPLICATION_DATA => match self.hello {
                None if client => self.hold(dir, hdr, body),
                Some(h) if h.version >= 0x0304 && client => {
                    let secrets = self.client_random.and_then(|cr| keys.secrets(&cr).copied());
                    let early = self.early_data_offered
                        && !self.hello_retry
                        && secrets.is_some_and(|s| s.client_early_traffic.is_some());
                    let phase = if early {
                        Phase::Early
                    } else {
                        Phase::Handshake
                    };
                    self.sides[dir.index()].set_phase(phase);
                    self.protected_record(dir, hdr, body, keys, out);
                }
                _ => self.stats.undecryptable = self.stats.undecryptable.saturating_add(1),
            },
            // Plaintext alerts and heartbeats: the handshake parser reports alerts.
            _ => {}
        }
    }

    /// Makes sure the current phase of `dir` has its opener.
    fn ensure_keys(&mut self, dir: Direction, keys: &KeyLog) -> Keys {
        let i = dir.index();
        if self.sides[i].opener.is_some() {
            return Keys::Ready;
        }
        let (Some(hello), Some(cr)) = (self.hello, self.client_random) else {
            return Keys::Wait;
        };
        let phase = self.sides[i].phase;
        let made = if phase == Phase::Tls12 {
            tls12_opener(&hello, &cr, dir, keys)
        } else {
            let secret = self.sides[i].secret;
            tls13_opener(&hello, &cr, dir, phase, secret, keys)
        };
        match made {
            Ok((opener, secret)) => {
                let side = &mut self.sides[i];
                side.opener = Some(opener);
                side.secret = secret;
                Keys::Ready
            }
            Err(r) => Keys::Stop(r),
        }
    }

    fn protected_record(
        &mut self,
        dir: Direction,
        hdr: &[u8; 5],
        body: &[u8],
        keys: &KeyLog,
        out: &mut Vec<Event>,
    ) {
        let i = dir.index();
        let phase = self.sides[i].phase;
        if phase != Phase::Tls12 {
            match hdr[0] {
                // RFC 8446 Appendix D.4: middlebox compatibility, never protected.
                CHANGE_CIPHER_SPEC => {
                    self.stats.ccs_skipped = self.stats.ccs_skipped.saturating_add(1);
                    return;
                }
                APPLICATION_DATA => {}
                // A plaintext alert before the peer had keys, or noise.
                _ => return,
            }
        }
        match self.ensure_keys(dir, keys) {
            Keys::Ready => {}
            Keys::Wait => {
                self.hold(dir, hdr, body);
                return;
            }
            Keys::Stop(r) => {
                self.stats.undecryptable = self.stats.undecryptable.saturating_add(1);
                self.stop(dir, r, out);
                return;
            }
        }
        match self.open(dir, hdr, body, keys, false) {
            Some((seq, opened)) => self.deliver(dir, seq, opened, keys, out),
            None => {
                self.stats.auth_failures = self.stats.auth_failures.saturating_add(1);
                let side = &mut self.sides[i];
                side.seq = side.seq.saturating_add(1);
                side.failures = side.failures.saturating_add(1);
                if side.failures >= MAX_FAILURES {
                    self.stop(dir, Reason::AuthFailures, out);
                }
            }
        }
    }

    /// Opens a record at the expected sequence number, else (when `scan` or
    /// after a failure) at the next [`RESYNC_WINDOW`] ones, else under the next
    /// TLS 1.3 keys. On success the direction's sequence number and keys are
    /// updated and the record's sequence number returned.
    fn open(
        &mut self,
        dir: Direction,
        hdr: &[u8; 5],
        body: &[u8],
        keys: &KeyLog,
        scan: bool,
    ) -> Option<(u64, Opened)> {
        let i = dir.index();
        let side = &mut self.sides[i];
        let work = &mut self.work;
        let opener = side.opener.as_mut()?;
        let seq = side.seq;
        let mut try_at = |o: &mut Opener, s: u64| {
            // Auth and Malformed alike: no plaintext at this sequence number.
            o.open(s, hdr, body, work).ok()
        };
        if let Some(o) = try_at(opener, seq) {
            side.seq = seq.saturating_add(1);
            side.failures = 0;
            return Some((seq, o));
        }
        if !opener.retryable() {
            return None;
        }
        // TLS 1.2 GCM: the explicit nonce is usually the sequence number.
        let hint = opener
            .explicit_nonce(body)
            .filter(|&n| n > seq && n - seq <= RESYNC_WINDOW);
        let window = (1..=RESYNC_WINDOW).filter_map(|k| seq.checked_add(k));
        for s in hint.into_iter().chain(window.filter(|&s| Some(s) != hint)) {
            if let Some(o) = try_at(opener, s) {
                side.seq = s.saturating_add(1);
                side.failures = 0;
                if !scan {
                    self.stats.resyncs = self.stats.resyncs.saturating_add(1);
                }
                return Some((s, o));
            }
        }
        // TLS 1.3: the message that switched keys may have been lost.
        let next = side.phase.next13()?;
        let (hello, cr) = (self.hello?, self.client_random?);
        let (mut opener, secret) = tls13_opener(&hello, &cr, dir, next, None, keys).ok()?;
        for s in 0..=RESYNC_WINDOW {
            if let Some(o) = try_at(&mut opener, s) {
                let side = &mut self.sides[i];
                side.set_phase(next);
                side.opener = Some(opener);
                side.secret = secret;
                side.seq = s.saturating_add(1);
                side.failures = 0;
                if !scan {
                    self.stats.resyncs = self.stats.resyncs.saturating_add(1);
                }
                return Some((s, o));
            }
        }
        None
    }

    /// Looks for a record that verifies in the scan buffer of `dir`.
    fn rescan(&mut self, dir: Direction, keys: &KeyLog, out: &mut Vec<Event>) {
        let i = dir.index();
        let mut pos = 0usize;
        loop {
            let side = &self.sides[i];
            if side.opener.is_none() && side.phase != Phase::Stopped {
                // Keys are derived on demand; a scan needs them now.
                match self.ensure_keys(dir, keys) {
                    Keys::Ready => {}
                    Keys::Wait | Keys::Stop(_) => {
                        self.stop(dir, Reason::Desync, out);
                        return;
                    }
                }
            }
            let side = &self.sides[i];
            if side.phase == Phase::Stopped {
                return;
            }
            let scan = &side.scan;
            let version = side.version;
            let tls13 = side.phase != Phase::Tls12;
            let found = (pos..scan.len())
                .find(|&p| plausible(scan.get(p..).unwrap_or(&[]), version, tls13));
            let Some(p) = found else {
                // Keep a possible partial header at the end.
                let keep = scan.len().saturating_sub(pos).min(4);
                let drop = scan.len() - keep;
                let side = &mut self.sides[i];
                side.scan_skipped = side.scan_skipped.saturating_add(drop as u64);
                side.scan.drain(..drop);
                return;
            };
            let len = usize::from(u16::from_be_bytes([scan[p + 3], scan[p + 4]]));
            if scan.len() < p + 5 + len {
                let side = &mut self.sides[i];
                side.scan_skipped = side.scan_skipped.saturating_add(p as u64);
                side.scan.drain(..p);
                return;
            }
            let scan = std::mem::take(&mut self.sides[i].scan);
            let Ok(hdr) = <[u8; 5]>::try_from(&scan[p..p + 5]) else {
                return;
            };
            let body = &scan[p + 5..p + 5 + len];
            let before = self.sides[i].seq;
            let opened = self.open(dir, &hdr, body, keys, true);
            let Some((seq, o)) = opened else {
                self.sides[i].scan = scan;
                pos = p + 1;
                continue;
            };
            // Found: report, deliver, and feed the rest through the framer.
            let side = &mut self.sides[i];
            side.lost = false;
            let skipped = side.scan_skipped.saturating_add(p as u64);
            side.scan_skipped = 0;
            self.stats.resyncs = self.stats.resyncs.saturating_add(1);
            self.stats.skipped_bytes = self.stats.skipped_bytes.saturating_add(skipped);
            self.stats.records = self.stats.records.saturating_add(1);
            out.push(Event::Resynced {
                direction: dir,
                skipped_bytes: skipped,
                skipped_records: seq.saturating_sub(before),
            });
            self.deliver(dir, seq, o, keys, out);
            let rest = scan.get(p + 5 + len..).unwrap_or(&[]).to_vec();
            self.push(dir, &rest, keys, out);
            return;
        }
    }

    /// Acts on an opened record.
    fn deliver(
        &mut self,
        dir: Direction,
        seq: u64,
        opened: Opened,
        keys: &KeyLog,
        out: &mut Vec<Event>,
    ) {
        self.stats.records_decrypted = self.stats.records_decrypted.saturating_add(1);
        let work = std::mem::take(&mut self.work);
        let content = work.get(opened.range.clone()).unwrap_or(&[]);
        match opened.content_type {
            APPLICATION_DATA => {
                self.stats.bytes_decrypted = self
                    .stats
                    .bytes_decrypted
                    .saturating_add(content.len() as u64);
                out.push(Event::Data(Decrypted {
                    direction: dir,
                    bytes: content.to_vec(),
                    record_seq: seq,
                }));
            }
            HANDSHAKE => self.handshake_bytes(dir, content, true, keys, out),
            ALERT => {
                for a in content.chunks_exact(2) {
                    out.push(Event::Alert {
                        direction: dir,
                        level: a[0],
                        description: a[1],
                    });
                }
            }
            _ => {}
        }
        self.work = work;
    }

    /// Handshake bytes of `dir`, in clear or decrypted.
    fn handshake_bytes(
        &mut self,
        dir: Direction,
        mut chunk: &[u8],
        protected: bool,
        keys: &KeyLog,
        out: &mut Vec<Event>,
    ) {
        let i = dir.index();
        let side = &mut self.sides[i];
        if side.hs_skip > 0 {
            let n = side.hs_skip.min(chunk.len());
            side.hs_skip -= n;
            chunk = &chunk[n..];
        }
        if chunk.is_empty() {
            return;
        }
        let epoch = side.epoch;
        let mut buf = std::mem::take(&mut side.hs);
        buf.extend_from_slice(chunk);
        let mut pos = 0;
        while let Some(avail) = buf.get(pos..) {
            let [ty, a, b, c, ..] = *avail else { break };
            let len = usize::from(a) << 16 | usize::from(b) << 8 | usize::from(c);
            let total = len + 4; // len < 2^24
                                 // In clear only the hellos matter; the rest is skipped unbuffered.
            let wanted = if protected {
                matches!(
                    ty,
                    CERTIFICATE
                        | COMPRESSED_CERTIFICATE
                        | FINISHED
                        | KEY_UPDATE
                        | END_OF_EARLY_DATA
                )
            } else {
                matches!(ty, hello::CLIENT_HELLO | hello::SERVER_HELLO)
            };
            if !wanted || total > MAX_HANDSHAKE {
                if wanted {
                    self.stats.oversized = self.stats.oversized.saturating_add(1);
                }
                if protected {
                    out.push(Event::Handshake {
                        direction: dir,
                        msg_type: ty,
                        len,
                    });
                }
                let have = avail.len().min(total);
                pos += have;
                self.sides[i].hs_skip = total - have;
                continue;
            }
            if avail.len() < total {
                break;
            }
            let msg = &avail[..total];
            if protected {
                out.push(Event::Handshake {
                    direction: dir,
                    msg_type: ty,
                    len,
                });
            }
            self.message(dir, msg, protected, keys, out);
            pos += total;
            if self.sides[i].epoch != epoch {
                // Keys changed: anything after the message in this record is
                // a protocol error (RFC 8446 section 5.1); drop it.
                pos = buf.len();
            }
        }
        let side = &mut self.sides[i];
        if side.epoch == epoch && side.hs_skip == 0 {
            buf.drain(..pos.min(buf.len()));
            side.hs = buf;
        } else {
            // Skipping, or keys changed: nothing buffered carries over.
            buf.clear();
            if side.epoch == epoch {
                side.hs = buf;
            }
        }
    }

    /// One complete handshake message (header included).
    fn message(
        &mut self,
        dir: Direction,
        msg: &[u8],
        protected: bool,
        keys: &KeyLog,
        out: &mut Vec<Event>,
    ) {
        let i = dir.index();
        let body = msg.get(4..).unwrap_or(&[]);
        let client = dir == Direction::ClientToServer;
        if !protected {
            match msg[0] {
                hello::CLIENT_HELLO if client => {
                    if let Ok(ch) = hello::parse_client_hello(msg) {
                        // After a HelloRetryRequest the second hello repeats the random.
                        if self.client_random.is_none() {
                            self.client_random = Some(ch.random);
                            self.early_data_offered = ch.extensions.contains(&EXT_EARLY_DATA);
                            self.flush(Direction::ServerToClient, keys, out);
                        }
                    }
                }
                hello::SERVER_HELLO if !client => {
                    let Ok(sh) = hello::parse_server_hello(msg) else {
                        return;
                    };
                    if sh.hello_retry {
                        self.hello_retry = true;
                        return;
                    }
                    if self.hello.is_some() {
                        return;
                    }
                    self.hello = Some(Hello {
                        server_random: sh.random,
                        version: sh.version,
                        suite: sh.cipher,
                        etm: sh.extensions.contains(&EXT_ENCRYPT_THEN_MAC),
                    });
                    if sh.version >= 0x0304 {
                        // Everything the server sends next is protected.
                        self.sides[i].set_phase(Phase::Handshake);
                    }
                    self.flush(Direction::ClientToServer, keys, out);
                }
                _ => {}
            }
            return;
        }
        let tls13 = self.hello.is_some_and(|h| h.version >= 0x0304);
        if !tls13 {
            return; // TLS 1.2 Finished, or renegotiation we do not follow.
        }
        let phase = self.sides[i].phase;
        match msg[0] {
            CERTIFICATE => {
                if let Some(chain) = parse_chain13(body) {
                    out.push(Event::Certificates {
                        direction: dir,
                        chain,
                    });
                }
            }
            COMPRESSED_CERTIFICATE => {
                if let Some(chain) = decompress(body).and_then(|b| parse_chain13(&b)) {
                    out.push(Event::Certificates {
                        direction: dir,
                        chain,
                    });
                }
            }
            FINISHED if phase == Phase::Handshake => self.sides[i].set_phase(Phase::Application),
            END_OF_EARLY_DATA if phase == Phase::Early => self.sides[i].set_phase(Phase::Handshake),
            KEY_UPDATE if phase == Phase::Application => {
                let update_requested = body.first() == Some(&1);
                out.push(Event::KeyUpdate {
                    direction: dir,
                    update_requested,
                });
                self.key_update(dir, keys, out);
            }
            _ => {}
        }
    }

    /// RFC 8446 section 7.2: application_traffic_secret_N+1.
    fn key_update(&mut self, dir: Direction, keys: &KeyLog, out: &mut Vec<Event>) {
        let i = dir.index();
        if let Keys::Stop(r) = self.ensure_keys(dir, keys) {
            self.stop(dir, r, out);
            return;
        }
        let (Some(hello), Some(current)) = (self.hello, self.sides[i].secret) else {
            return;
        };
        let Some((_, hash)) = suite::tls13(hello.suite) else {
            return;
        };
        let mut next = [0u8; 48];
        let Some(n) = keys::next_secret(hash, current.as_bytes(), &mut next) else {
            self.stop(dir, Reason::NoKey, out);
            return;
        };
        let side = &mut self.sides[i];
        side.set_phase(Phase::Application);
        side.secret = Secret::new(&next[..n]);
    }
}

/// Whether `b` starts with a header a protected record of this direction
/// could have.
fn plausible(b: &[u8], version: Option<[u8; 2]>, tls13: bool) -> bool {
    let [ty, major, minor, l0, l1, ..] = *b else {
        return false;
    };
    let len = usize::from(u16::from_be_bytes([l0, l1]));
    let ty_ok = if tls13 {
        ty == APPLICATION_DATA
    } else {
        matches!(ty, ALERT..=APPLICATION_DATA)
    };
    let version_ok = match version {
        Some(v) => [major, minor] == v,
        None => major == 3 && (1..=3).contains(&minor),
    };
    ty_ok && version_ok && (17..=MAX_RECORD).contains(&len)
}

fn tls12_opener(
    hello: &Hello,
    cr: &[u8; 32],
    dir: Direction,
    keys: &KeyLog,
) -> Result<(Opener, Option<Secret>), Reason> {
    if !(0x0301..=0x0303).contains(&hello.version) {
        return Err(Reason::UnsupportedVersion(hello.version));
    }
    let suite = suite::tls12(hello.suite).ok_or(Reason::UnsupportedSuite(hello.suite))?;
    if hello.version < 0x0303 && matches!(suite.protection, suite::Protection::Aead(_)) {
        return Err(Reason::UnsupportedSuite(hello.suite));
    }
    let master = keys
        .secrets(cr)
        .and_then(|s| s.master_secret)
        .ok_or(Reason::NoKey)?;
    // RFC 7366 section 3: encrypt-then-MAC applies to CBC suites only.
    let etm = hello.etm && matches!(suite.protection, suite::Protection::Cbc { .. });
    let (c, s) = keys::tls12_openers(
        hello.version,
        suite,
        etm,
        master.as_bytes(),
        cr,
        &hello.server_random,
    )
    .ok_or(Reason::NoKey)?;
    Ok((
        if dir == Direction::ClientToServer {
            c
        } else {
            s
        },
        None,
    ))
}

/// Keys for a TLS 1.3 phase: from `secret` if given (after KeyUpdate), else
/// from the key log.
fn tls13_opener(
    hello: &Hello,
    cr: &[u8; 32],
    dir: Direction,
    phase: Phase,
    secret: Option<Secret>,
    keys: &KeyLog,
) -> Result<(Opener, Option<Secret>), Reason> {
    if hello.version != 0x0304 {
        return Err(Reason::UnsupportedVersion(hello.version));
    }
    let (aead, hash) = suite::tls13(hello.suite).ok_or(Reason::UnsupportedSuite(hello.suite))?;
    let secret = match secret {
        Some(s) => s,
        None => {
            let s = keys.secrets(cr).ok_or(Reason::NoKey)?;
            let client = dir == Direction::ClientToServer;
            match (phase, client) {
                (Phase::Early, true) => s.client_early_traffic,
                (Phase::Handshake, true) => s.client_handshake_traffic,
                (Phase::Handshake, false) => s.server_handshake_traffic,
                (Phase::Application, true) => s.client_traffic_0,
                (Phase::Application, false) => s.server_traffic_0,
                _ => None,
            }
            .ok_or(Reason::NoKey)?
        }
    };
    let opener = keys::tls13_opener(aead, hash, secret.as_bytes()).ok_or(Reason::NoKey)?;
    Ok((opener, Some(secret)))
}

/// A TLS 1.3 Certificate message body (RFC 8446 section 4.4.2):
/// certificate_request_context, then CertificateEntry list of (cert_data,
/// extensions). Raw public keys are not X.509 and are skipped by x509-parser.
fn parse_chain13(body: &[u8]) -> Option<Vec<Certificate>> {
    let mut r = Reader::new(body);
    r.vec8()?;
    let len = r.u24()?;
    let mut list = Reader::new(r.take(len)?);
    let mut chain = Vec::new();
    while !list.is_empty() {
        let n = list.u24()?;
        let der = list.take(n)?;
        list.vec16()?;
        if chain.len() < cert::MAX_CHAIN {
            if let Some(c) = cert::parse_der(der) {
                chain.push(c);
            }
        }
    }
    Some(chain)
}

/// A CompressedCertificate body (RFC 8879 section 4): algorithm,
/// uncompressed_length, compressed Certificate message body. Output is capped
/// at [`MAX_HANDSHAKE`] and must match the announced length.
fn decompress(body: &[u8]) -> Option<Vec<u8>> {
    let mut r = Reader::new(body);
    let algorithm = r.u16()?;
    let want = r.u24()?;
    let data = r.take(r.clone().u24()?.checked_add(3)?)?.get(3..)?;
    if want > MAX_HANDSHAKE {
        return None;
    }
    let limit = want as u64 + 1;
    let mut out = Vec::with_capacity(want);
    let ok = match algorithm {
        1 => flate2::read::ZlibDecoder::new(data)
            .take(limit)
            .read_to_end(&mut out)
            .is_ok(),
        2 => brotli::Decompressor::new(data, 4096)
            .take(limit)
            .read_to_end(&mut out)
            .is_ok(),
        3 => zstd::stream::read::Decoder::new(data)
            .ok()?
            .take(limit)
            .read_to_end(&mut out)
            .is_ok(),
        _ => false,
    };
    (ok && out.len() == want).then_some(out)
}

#[cfg(test)]
mod tests;

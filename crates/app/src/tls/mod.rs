//! TLS handshake observer: one sans-IO [`Parser`] per direction of a
//! reassembled TCP stream, bytes in, [`Event`]s out.
//!
//! The parser walks the record layer (RFC 8446 section 5.1, RFC 5246 section
//! 6.2), gathers Handshake records into a handshake stream — a message may
//! span records and a record may span TCP segments — and reports what can be
//! seen in clear: the ClientHello with its JA3 and JA4 fingerprints, the
//! ServerHello with JA3S, the server's certificate chain for TLS 1.2 and
//! earlier, plaintext alerts, and the start of encrypted traffic. Once nothing
//! more of interest can come, [`Parser::done`] turns true so the caller can stop
//! reassembling the flow.
//!
//! # Contract
//! Input is hostile. No byte sequence makes the parser panic: every length read
//! from the wire is checked against what is buffered, arithmetic on wire
//! lengths is checked or saturating. Memory is bounded: one handshake message is
//! buffered up to [`MAX_HANDSHAKE`] bytes; a longer one (a huge certificate
//! chain) is skipped and reported as [`Event::Malformed`] with
//! [`Error::TooLarge`], and counted in [`Stats`]. Splitting the stream at any
//! points yields the same events (see [`fuzzing`]).
//!
//! ```
//! use phonehome_app::tls::{Event, Parser};
//! let mut p = Parser::new();
//! let mut out = Vec::new();
//! p.push(b"GET / HTTP/1.1\r\n", &mut out);
//! assert_eq!(out, vec![Event::NotTls]);
//! assert!(p.done());
//! ```

mod cert;
pub(crate) mod codec;
pub mod decrypt;
#[doc(hidden)]
pub mod fuzzing;
mod hello;
mod names;

pub use cert::{parse_der as parse_certificate, Certificate};
pub use hello::{parse_client_hello, parse_server_hello, ClientHello, ServerHello, Transport};
pub use names::{alert_text, cipher_name};

/// Largest handshake message buffered (certificate chains can be large).
pub const MAX_HANDSHAKE: usize = 256 * 1024;
/// Largest record payload accepted: 2^14 plus the TLS 1.2 expansion allowance
/// (RFC 5246 section 6.2.3); anything longer means we are not in a TLS stream.
const MAX_RECORD: usize = 16_384 + 2_048;

// Record content types (RFC 8446 section 5.1; heartbeat is RFC 6520).
const CHANGE_CIPHER_SPEC: u8 = 20;
const ALERT: u8 = 21;
const HANDSHAKE: u8 = 22;
const APPLICATION_DATA: u8 = 23;
const HEARTBEAT: u8 = 24;

// Handshake message types (RFC 5246 section 7.4).
const CERTIFICATE: u8 = 11;
const SERVER_HELLO_DONE: u8 = 14;

/// Why a handshake message or stream could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The message ends before its own length says it should.
    #[error("truncated handshake message")]
    Truncated,
    /// A length or field inside the message is inconsistent.
    #[error("malformed {0}")]
    Malformed(&'static str),
    /// Not the handshake message type asked for.
    #[error("unexpected handshake message type {0}")]
    UnexpectedMessage(u8),
    /// A handshake message longer than [`MAX_HANDSHAKE`]; it was skipped.
    #[error("handshake message of {0} bytes exceeds the buffer cap")]
    TooLarge(usize),
    /// A record header that is not TLS after the stream started as TLS.
    #[error("lost record framing")]
    Desync,
}

/// What the parser saw, in stream order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A ClientHello (also a second one after a HelloRetryRequest).
    ClientHello(ClientHello),
    /// A ServerHello or HelloRetryRequest.
    ServerHello(ServerHello),
    /// The server's chain from a TLS 1.2-or-earlier Certificate message, in
    /// order; entries x509-parser rejects are left out and counted.
    Certificates(Vec<Certificate>),
    /// A plaintext alert (RFC 8446 section 6).
    Alert {
        /// 1 warning, 2 fatal.
        level: u8,
        /// AlertDescription code.
        description: u8,
    },
    /// The first application_data record (only the first is reported).
    ApplicationData,
    /// The stream does not start with a TLS record or SSLv2 ClientHello.
    NotTls,
    /// Something was wrong but the parser went on (or stopped, for
    /// [`Error::Desync`]).
    Malformed(Error),
}

/// Counters for what was skipped or could not be read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Record headers read.
    pub records: u64,
    /// Complete handshake messages seen in clear.
    pub handshake_messages: u64,
    /// Handshake messages over [`MAX_HANDSHAKE`], skipped.
    pub oversized: u64,
    /// Certificates in a chain that x509-parser rejected or past the chain cap.
    pub bad_certificates: u64,
    /// Gaps reported by the reassembler.
    pub gaps: u64,
    /// Times the record framing was lost (bad header, or a gap inside a
    /// handshake record): the parser stops there.
    pub desyncs: u64,
}

/// Per-direction TLS record and handshake parser.
#[derive(Debug, Default)]
pub struct Parser {
    hdr: [u8; 5],
    hdr_len: usize,
    rtype: u8,
    rec_len: usize,
    remaining: usize,
    alert: [u8; 2],
    alert_len: usize,
    /// Handshake bytes not yet parsed; `hs_pos` is where the unparsed part starts.
    hs: Vec<u8>,
    hs_pos: usize,
    /// Bytes of an oversized message still to discard.
    hs_skip: usize,
    started: bool,
    sslv2: bool,
    stopped: bool,
    ccs: bool,
    encrypted_handshake: bool,
    app_data: bool,
    server_hello: bool,
    server_version: u16,
    hello_retry: bool,
    certificates: bool,
    hello_done: bool,
    stats: Stats,
}

impl Parser {
    /// A parser for one direction of one TCP connection.
    pub fn new() -> Self {
        Self::default()
    }

    /// Counters so far.
    pub fn stats(&self) -> Stats {
        self.stats
    }

    /// Feeds the next in-order bytes of the stream.
    pub fn push(&mut self, mut data: &[u8], out: &mut Vec<Event>) {
        while !data.is_empty() && !self.stopped {
            if self.hdr_len < 5 {
                let n = (5 - self.hdr_len).min(data.len());
                self.hdr[self.hdr_len..self.hdr_len + n].copy_from_slice(&data[..n]);
                self.hdr_len += n;
                data = &data[n..];
                if self.hdr_len == 5 {
                    self.start_record(out);
                    if !self.stopped && self.remaining == 0 {
                        self.end_record(out);
                    }
                }
                continue;
            }
            let n = self.remaining.min(data.len());
            let (chunk, rest) = data.split_at(n);
            data = rest;
            self.remaining -= n;
            match self.rtype {
                _ if self.sslv2 => self.hs.extend_from_slice(chunk),
                HANDSHAKE => self.handshake_bytes(chunk, out),
                ALERT => {
                    for &b in chunk {
                        if self.alert_len < 2 {
                            self.alert[self.alert_len] = b;
                        }
                        self.alert_len = self.alert_len.saturating_add(1);
                    }
                }
                _ => {}
            }
            if self.remaining == 0 {
                self.end_record(out);
            }
        }
    }

    /// The reassembler lost `len` bytes at the current position. A gap inside
    /// a record we skip anyway is absorbed; anywhere else framing is lost and
    /// the parser stops.
    pub fn gap(&mut self, len: u64) {
        self.stats.gaps = self.stats.gaps.saturating_add(1);
        if self.stopped {
            return;
        }
        let len = usize::try_from(len).unwrap_or(usize::MAX);
        let skippable =
            self.hdr_len == 5 && !self.sslv2 && self.rtype != HANDSHAKE && self.rtype != ALERT;
        if skippable && len <= self.remaining {
            self.remaining -= len;
            if self.remaining == 0 {
                self.hdr_len = 0;
            }
        } else {
            self.stats.desyncs = self.stats.desyncs.saturating_add(1);
            self.stopped = true;
        }
    }

    /// True once nothing more of interest can come in this direction: the
    /// stream is not TLS or lost, encrypted records have started, or the
    /// server has sent its hello (TLS 1.3) or hello and certificates (earlier).
    pub fn done(&self) -> bool {
        self.stopped
            || self.app_data
            || (self.ccs && self.encrypted_handshake)
            || (self.server_hello
                && !self.hello_retry
                && (is_tls13(self.server_version) || self.certificates || self.hello_done))
    }

    fn start_record(&mut self, out: &mut Vec<Event>) {
        let [ty, major, _, l0, l1] = self.hdr;
        let len = usize::from(u16::from_be_bytes([l0, l1]));
        if !self.started {
            self.started = true;
            if !looks_like_tls(&self.hdr) {
                // RFC 5246 Appendix E.2: SSL 2.0 CLIENT-HELLO, two-byte header
                // with the high bit set, message type 1, version major 2 or 3.
                if ty & 0x80 != 0
                    && self.hdr[2] == hello::CLIENT_HELLO
                    && matches!(self.hdr[3], 2 | 3)
                {
                    let total = usize::from(u16::from_be_bytes([ty & 0x7f, major])) + 2;
                    if total > 5 {
                        self.sslv2 = true;
                        self.hs.extend_from_slice(&self.hdr);
                        self.remaining = total - 5;
                        return;
                    }
                }
                out.push(Event::NotTls);
                self.stopped = true;
                return;
            }
        } else if !(CHANGE_CIPHER_SPEC..=HEARTBEAT).contains(&ty) || major != 3 || len > MAX_RECORD
        {
            out.push(Event::Malformed(Error::Desync));
            self.stats.desyncs = self.stats.desyncs.saturating_add(1);
            self.stopped = true;
            return;
        }
        self.stats.records = self.stats.records.saturating_add(1);
        self.rtype = ty;
        self.rec_len = len;
        self.remaining = len;
        self.alert_len = 0;
        match ty {
            CHANGE_CIPHER_SPEC => {
                // Everything after is encrypted (TLS 1.2) or compatibility
                // noise (TLS 1.3, RFC 8446 Appendix D.4); a partial message
                // from before cannot be completed in clear.
                self.ccs = true;
                self.hs.clear();
                self.hs_pos = 0;
                self.hs_skip = 0;
            }
            APPLICATION_DATA if !self.app_data => {
                self.app_data = true;
                out.push(Event::ApplicationData);
            }
            _ => {}
        }
    }

    fn end_record(&mut self, out: &mut Vec<Event>) {
        self.hdr_len = 0;
        if self.sslv2 {
            self.sslv2 = false;
            let hs = std::mem::take(&mut self.hs);
            match hello::parse_sslv2_client_hello(&hs) {
                Ok(ch) => out.push(Event::ClientHello(ch)),
                Err(e) => out.push(Event::Malformed(e)),
            }
            // An SSLv2 hello is answered in SSLv2 or a TLS record we do not
            // follow in this direction: nothing more to read here.
            self.stopped = true;
            return;
        }
        match self.rtype {
            ALERT if self.rec_len == 2 && self.alert_len == 2 && !self.ccs => {
                out.push(Event::Alert {
                    level: self.alert[0],
                    description: self.alert[1],
                })
            }
            HANDSHAKE if self.ccs => {
                // After ChangeCipherSpec a handshake record is normally
                // encrypted (Finished). A second ClientHello after a
                // HelloRetryRequest in middlebox-compatibility mode is in clear:
                // accept exactly one complete hello filling the record.
                let rec = std::mem::take(&mut self.hs);
                let plausible = rec.len() >= 4
                    && matches!(rec[0], hello::CLIENT_HELLO | hello::SERVER_HELLO)
                    && (usize::from(rec[1]) << 16 | usize::from(rec[2]) << 8 | usize::from(rec[3]))
                        + 4
                        == rec.len();
                if plausible {
                    self.message(&rec, out);
                } else {
                    self.encrypted_handshake = true;
                }
                self.hs = rec;
                self.hs.clear();
            }
            _ => {}
        }
    }

    fn handshake_bytes(&mut self, mut chunk: &[u8], out: &mut Vec<Event>) {
        if self.hs_skip > 0 {
            let n = self.hs_skip.min(chunk.len());
            self.hs_skip -= n;
            chunk = &chunk[n..];
        }
        if chunk.is_empty() {
            return;
        }
        if self.ccs {
            // Held until the record ends (see end_record); a record is at
            // most MAX_RECORD bytes, so this stays bounded.
            if self.hs.len() < MAX_RECORD {
                self.hs.extend_from_slice(chunk);
            }
            return;
        }
        self.hs.extend_from_slice(chunk);
        let buf = std::mem::take(&mut self.hs);
        loop {
            let avail = &buf[self.hs_pos..];
            if avail.len() < 4 {
                break;
            }
            let len =
                usize::from(avail[1]) << 16 | usize::from(avail[2]) << 8 | usize::from(avail[3]);
            let total = len + 4; // len < 2^24: no overflow
            if total > MAX_HANDSHAKE {
                out.push(Event::Malformed(Error::TooLarge(total)));
                self.stats.oversized = self.stats.oversized.saturating_add(1);
                self.hs_skip = total - avail.len().min(total);
                self.hs_pos = buf.len().min(self.hs_pos + total);
                continue;
            }
            if avail.len() < total {
                break;
            }
            self.message(&avail[..total], out);
            self.hs_pos += total;
        }
        self.hs = buf;
        // Compact: drop the parsed prefix so the buffer holds at most one
        // partial message (< MAX_HANDSHAKE).
        if self.hs_pos > 0 {
            self.hs.drain(..self.hs_pos);
            self.hs_pos = 0;
        }
    }

    /// One complete handshake message (header included).
    fn message(&mut self, msg: &[u8], out: &mut Vec<Event>) {
        self.stats.handshake_messages = self.stats.handshake_messages.saturating_add(1);
        match msg[0] {
            hello::CLIENT_HELLO => match parse_client_hello(msg) {
                Ok(ch) => out.push(Event::ClientHello(ch)),
                Err(e) => out.push(Event::Malformed(e)),
            },
            hello::SERVER_HELLO => match parse_server_hello(msg) {
                Ok(sh) => {
                    self.server_hello = true;
                    self.server_version = sh.version;
                    self.hello_retry = sh.hello_retry;
                    out.push(Event::ServerHello(sh));
                }
                Err(e) => out.push(Event::Malformed(e)),
            },
            // RFC 5246 section 7.4.2; a TLS 1.3 Certificate is never in clear.
            CERTIFICATE if !is_tls13(self.server_version) => match cert::parse_chain(&msg[4..]) {
                Ok((certs, failed)) => {
                    self.certificates = true;
                    self.stats.bad_certificates =
                        self.stats.bad_certificates.saturating_add(failed as u64);
                    out.push(Event::Certificates(certs));
                }
                Err(e) => out.push(Event::Malformed(e)),
            },
            SERVER_HELLO_DONE => self.hello_done = true,
            _ => {}
        }
    }
}

/// TLS 1.3 or one of its drafts (0x7fxx).
fn is_tls13(v: u16) -> bool {
    v == 0x0304 || v >> 8 == 0x7f
}

/// Whether `data` starts with a plausible TLS record header: content type
/// change_cipher_spec..application_data, version 3.0 to 3.4, length 1..=2^14+2048.
pub fn looks_like_tls(data: &[u8]) -> bool {
    let [ty, major, minor, l0, l1, ..] = *data else {
        return false;
    };
    let len = usize::from(u16::from_be_bytes([l0, l1]));
    (CHANGE_CIPHER_SPEC..=APPLICATION_DATA).contains(&ty)
        && major == 3
        && minor <= 4
        && (1..=MAX_RECORD).contains(&len)
}

/// Human name of a protocol version: "TLSv1.3", "SSLv3", "DTLSv1.2", "0x1234".
pub fn version_name(v: u16) -> String {
    match v {
        0x0002 => "SSLv2".to_owned(),
        0x0300 => "SSLv3".to_owned(),
        0x0301 => "TLSv1.0".to_owned(),
        0x0302 => "TLSv1.1".to_owned(),
        0x0303 => "TLSv1.2".to_owned(),
        0x0304 => "TLSv1.3".to_owned(),
        0xfeff => "DTLSv1.0".to_owned(),
        0xfefd => "DTLSv1.2".to_owned(),
        0xfefc => "DTLSv1.3".to_owned(),
        0x7f00..=0x7fff => format!("TLSv1.3-draft-{}", v & 0xff),
        _ if hello::is_grease(v) => format!("GREASE-0x{v:04x}"),
        _ => format!("0x{v:04x}"),
    }
}

#[cfg(test)]
mod fixtures;

#[cfg(test)]
mod tests {
    use super::*;

    fn unhex(s: &str) -> Vec<u8> {
        hex::decode(s).expect("fixture is hex")
    }

    fn feed(chunks: &[&[u8]]) -> (Vec<Event>, Parser) {
        let mut p = Parser::new();
        let mut out = Vec::new();
        for c in chunks {
            p.push(c, &mut out);
        }
        (out, p)
    }

    #[test]
    fn suricata_ja4_client_hello() {
        let rec = unhex(fixtures::JA4_CLIENT);
        assert!(looks_like_tls(&rec));
        let (out, p) = feed(&[&rec]);
        let [Event::ClientHello(ch)] = &out[..] else {
            panic!("{out:?}")
        };
        assert_eq!(
            ch.ja4(Transport::Tcp),
            "t12i1810s1_27d4652c4487_06a4338d0495"
        );
        assert_eq!(ch.ja3, "308b0bd904abbef5e0034a1ff7a78920");
        assert_eq!(
            ch.ja3_full,
            "771,49195-49199-158-49162-49161-49171-49172-49159-49169-51-50-57-156-47-53-10-5-4,\
             65281-10-11-35-13172-16-30032-5-18-13,23-24-25,0"
        );
        assert_eq!(ch.sni, None);
        assert_eq!(ch.alpn, vec!["spdy/3.1".to_owned(), "http/1.1".to_owned()]);
        assert!(!p.done(), "the client may still send a certificate");
    }

    #[test]
    fn ndpi_feodo_client_hello() {
        let rec = unhex(fixtures::FEODO_CLIENT);
        let (out, _) = feed(&[&rec]);
        let [Event::ClientHello(ch)] = &out[..] else {
            panic!("{out:?}")
        };
        assert_eq!(ch.sni.as_deref(), Some("feodotracker.abuse.ch"));
        // nDPI prints t12d6707ht_...: it takes the first two ALPN characters
        // ("http/1.1"); FoxIO's spec takes the first and last, giving "h1".
        // The two hashes agree.
        assert_eq!(
            ch.ja4(Transport::Tcp),
            "t12d6707h1_2955a3196ffa_c83f907a73d3"
        );
        assert_eq!(ch.ja3, "2a26b1a62e40d25d4de3babc9d532f30");
    }

    #[test]
    fn suricata_ja4_server_flight() {
        let data = unhex(fixtures::JA4_SERVER);
        let (out, p) = feed(&[&data]);
        let [Event::ServerHello(sh), Event::Certificates(certs)] = &out[..] else {
            panic!("{out:?}")
        };
        assert_eq!(sh.ja3s, "ccc514751b175866924439bdbb5bba34");
        assert_eq!(version_name(sh.version), "TLSv1.2");
        assert!(!sh.hello_retry);
        let [c] = &certs[..] else { panic!("{certs:?}") };
        assert_eq!(c.subject, "C=FR, ST=IDF, L=Paris, O=Stamus, CN=SELKS");
        assert_eq!(c.issuer, c.subject);
        assert_eq!(c.organization.as_deref(), Some("Stamus"));
        assert_eq!(c.not_before, "2015-02-12T18:07:27Z");
        assert_eq!(c.not_after, "2025-02-09T18:07:27Z");
        // openssl x509 -fingerprint -sha256 on the DER.
        assert_eq!(
            c.sha256,
            "a1384fd08fc279c929dc62253e9eed1330684bfe4d274b62e5b27e22999a1646"
        );
        assert!(p.done());
    }

    #[test]
    fn every_split_point_gives_the_same_events() {
        let data = unhex(fixtures::JA4_SERVER);
        let (whole, _) = feed(&[&data]);
        for at in 0..data.len() {
            let (a, b) = data.split_at(at);
            assert_eq!(feed(&[a, b]).0, whole, "split at {at}");
        }
        let bytes: Vec<&[u8]> = data.chunks(1).collect();
        assert_eq!(feed(&bytes).0, whole);
    }

    #[test]
    fn handshake_split_across_records() {
        // The ClientHello of the fixture re-framed into three records.
        let rec = unhex(fixtures::JA4_CLIENT);
        let msg = &rec[5..];
        let mut data = Vec::new();
        for part in [&msg[..3], &msg[3..100], &msg[100..]] {
            data.extend_from_slice(&[22, 3, 1]);
            data.extend_from_slice(&(part.len() as u16).to_be_bytes());
            data.extend_from_slice(part);
        }
        let (out, _) = feed(&[&data]);
        assert!(
            matches!(&out[..], [Event::ClientHello(ch)] if ch.ja3 == "308b0bd904abbef5e0034a1ff7a78920")
        );
    }

    #[test]
    fn oversized_message_is_skipped_and_reported() {
        let len = MAX_HANDSHAKE + 10; // message body length
        let mut data = Vec::new();
        let mut msg = vec![CERTIFICATE, (len >> 16) as u8, (len >> 8) as u8, len as u8];
        msg.resize(len + 4, 0);
        msg.extend_from_slice(&[SERVER_HELLO_DONE, 0, 0, 0]);
        for part in msg.chunks(16_384) {
            data.extend_from_slice(&[22, 3, 3]);
            data.extend_from_slice(&(part.len() as u16).to_be_bytes());
            data.extend_from_slice(part);
        }
        let (out, p) = feed(&[&data]);
        assert_eq!(out, vec![Event::Malformed(Error::TooLarge(len + 4))]);
        assert_eq!(p.stats().oversized, 1);
        assert!(
            p.hello_done,
            "the message after the oversized one is still read"
        );
    }

    #[test]
    fn records_and_states() {
        let cases: &[(&[u8], &[Event], bool)] = &[
            (b"GET / HTTP/1.1\r\n", &[Event::NotTls], true),
            (
                &[21, 3, 3, 0, 2, 2, 40],
                &[Event::Alert {
                    level: 2,
                    description: 40,
                }],
                false,
            ),
            (
                &[23, 3, 3, 0, 1, 0, 23, 3, 3, 0, 1, 0],
                &[Event::ApplicationData],
                true,
            ),
            (&[20, 3, 3, 0, 1, 1, 22, 3, 3, 0, 3, 1, 2, 3], &[], true),
            (
                &[22, 3, 1, 0, 4, 1, 0, 0, 0],
                &[Event::Malformed(Error::Malformed("client hello"))],
                false,
            ),
            (
                &[21, 3, 3, 0, 2, 1, 0, 99, 3, 3, 0, 0],
                &[
                    Event::Alert {
                        level: 1,
                        description: 0,
                    },
                    Event::Malformed(Error::Desync),
                ],
                true,
            ),
            (&[22, 3, 1], &[], false),
        ];
        for (input, want, done) in cases {
            let (out, p) = feed(&[input]);
            assert_eq!(&out[..], *want, "{input:?}");
            assert_eq!(p.done(), *done, "{input:?}");
        }
    }

    #[test]
    fn gaps() {
        let mut p = Parser::new();
        let mut out = Vec::new();
        p.push(&[23, 3, 3, 0, 10, 0, 0], &mut out);
        p.gap(5);
        p.push(&[0, 0, 0, 21, 3, 3, 0, 2, 1, 0], &mut out);
        assert_eq!(
            out,
            vec![
                Event::ApplicationData,
                Event::Alert {
                    level: 1,
                    description: 0
                }
            ]
        );
        let mut p = Parser::new();
        p.push(&[22, 3, 3, 0, 10, 1], &mut out);
        p.gap(3);
        assert!(p.done());
        assert_eq!(p.stats().desyncs, 1);
    }

    #[test]
    fn sslv2_compatible_hello() {
        // Hand-built SSLv2 CLIENT-HELLO (RFC 5246 Appendix E.2) offering TLS 1.0.
        let mut m = vec![0x80, 0, 1, 3, 1, 0, 3, 0, 0, 0, 16, 0x00, 0x00, 0x35];
        m.extend(0..16u8);
        m[1] = (m.len() - 2) as u8;
        let (out, p) = feed(&[&m[..4], &m[4..]]);
        assert!(
            matches!(&out[..], [Event::ClientHello(ch)] if ch.ciphers == [0x35] && ch.legacy_version == 0x0301)
        );
        assert!(p.done());
    }

    #[test]
    fn versions_named() {
        let cases = [
            (0x0304, "TLSv1.3"),
            (0x0303, "TLSv1.2"),
            (0x0300, "SSLv3"),
            (0x7f1c, "TLSv1.3-draft-28"),
            (0x1234, "0x1234"),
        ];
        for (v, want) in cases {
            assert_eq!(version_name(v), want);
        }
    }

    #[test]
    fn looks_like_tls_table() {
        let cases: &[(&[u8], bool)] = &[
            (&[22, 3, 1, 0, 200], true),
            (&[23, 3, 3, 0x40, 0], true),
            (&[22, 3, 5, 0, 200], false),
            (&[24, 3, 3, 0, 2], false),
            (&[22, 3, 3, 0, 0], false),
            (&[22, 3, 3, 0x48, 1], false),
            (&[22, 3, 3, 0], false),
        ];
        for (d, want) in cases {
            assert_eq!(looks_like_tls(d), *want, "{d:?}");
        }
    }

    #[test]
    fn fuzz_entry_on_fixtures() {
        fuzzing::record_stream(&unhex(fixtures::JA4_SERVER));
        fuzzing::record_stream(&unhex(fixtures::JA4_CLIENT));
        fuzzing::record_stream(&[]);
        let server = unhex(fixtures::JA4_SERVER);
        for i in (0..server.len()).step_by(7) {
            let mut m = server.clone();
            m[i] ^= 0xa5;
            fuzzing::record_stream(&m);
        }
        fuzzing::record_stream(&[0x80, 5, 1, 3, 1, 0]);
    }
}

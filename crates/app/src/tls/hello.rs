//! ClientHello and ServerHello parsing and their fingerprints (JA3, JA3S, JA4).
//!
//! The hellos are decoded by hand rather than through `tls-parser`'s typed
//! extensions: fingerprinting needs every extension's raw code in wire order,
//! GREASE and unknown codes included, and one malformed extension body must not
//! cost the whole hello (a typed decoder rejects it). Only the outer structure
//! (RFC 8446 section 4.1.2 / 4.1.3) has to be well formed; an extension whose
//! body does not decode is still listed, its content ignored.

use md5::Md5;
use sha2::{Digest, Sha256};
use std::fmt::Write as _;

use super::codec::Reader;
use super::Error;

/// Handshake message types (RFC 8446 section 4).
pub(crate) const CLIENT_HELLO: u8 = 1;
pub(crate) const SERVER_HELLO: u8 = 2;

// Extension codes (IANA TLS ExtensionType Values).
const EXT_SNI: u16 = 0x0000;
const EXT_GROUPS: u16 = 0x000a;
const EXT_POINT_FORMATS: u16 = 0x000b;
const EXT_SIG_ALGS: u16 = 0x000d;
const EXT_ALPN: u16 = 0x0010;
const EXT_SUPPORTED_VERSIONS: u16 = 0x002b;
const EXT_ECH: u16 = 0xfe0d;

/// Caps on the lists kept from one hello: a hostile hello cannot make us hold
/// more than a few KiB per field (the message itself is already capped).
const MAX_LIST: usize = 512;
const MAX_ALPN: usize = 32;

/// `Random` of a HelloRetryRequest: SHA-256 of "HelloRetryRequest"
/// (RFC 8446 section 4.1.3).
const HRR_RANDOM: [u8; 32] = [
    0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
    0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
];

/// The transport a ClientHello travelled over: JA4's first character.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// TLS over TCP ("t").
    Tcp,
    /// TLS inside QUIC CRYPTO frames ("q").
    Quic,
}

/// What a client offered (RFC 8446 section 4.1.2).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ClientHello {
    /// `legacy_version` of the hello (0x0303 for TLS 1.2 and 1.3).
    pub legacy_version: u16,
    /// supported_versions extension, in wire order (GREASE kept).
    pub versions: Vec<u16>,
    /// First host_name of the server_name extension.
    pub sni: Option<String>,
    /// ALPN protocol names in wire order (lossy UTF-8).
    pub alpn: Vec<String>,
    /// Cipher suites in wire order (GREASE kept).
    pub ciphers: Vec<u16>,
    /// Extension codes in wire order (GREASE kept).
    pub extensions: Vec<u16>,
    /// supported_groups (elliptic curves) in wire order.
    pub groups: Vec<u16>,
    /// ec_point_formats in wire order.
    pub ec_point_formats: Vec<u8>,
    /// signature_algorithms in wire order.
    pub sig_algs: Vec<u16>,
    /// encrypted_client_hello (0xfe0d) present: the SNI seen is the outer one.
    pub ech: bool,
    /// JA3 fingerprint: MD5 of `ja3_full`, lowercase hex.
    pub ja3: String,
    /// JA3 input string.
    pub ja3_full: String,
    /// `Random` field.
    pub random: [u8; 32],
    /// legacy_session_id.
    pub session_id: Vec<u8>,
}

/// What a server chose (RFC 8446 section 4.1.3).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ServerHello {
    /// Negotiated version: supported_versions if present, else legacy_version.
    pub version: u16,
    /// Chosen cipher suite.
    pub cipher: u16,
    /// Extension codes in wire order.
    pub extensions: Vec<u16>,
    /// Chosen ALPN protocol.
    pub alpn: Option<String>,
    /// JA3S fingerprint: MD5 of `ja3s_full`, lowercase hex.
    pub ja3s: String,
    /// JA3S input string.
    pub ja3s_full: String,
    /// This is a HelloRetryRequest (RFC 8446 section 4.1.4).
    pub hello_retry: bool,
    /// `Random` field.
    pub random: [u8; 32],
}

/// GREASE values (RFC 8701 section 2): 0x?a?a with both bytes equal.
pub(crate) fn is_grease(v: u16) -> bool {
    v & 0x0f0f == 0x0a0a && v >> 8 == v & 0xff
}

/// Splits a handshake message into (type, body), checking the 24-bit length.
fn handshake_body(msg: &[u8], want: u8) -> Result<&[u8], Error> {
    let mut r = Reader::new(msg);
    let ty = r.u8().ok_or(Error::Truncated)?;
    if ty != want {
        return Err(Error::UnexpectedMessage(ty));
    }
    let len = r.u24().ok_or(Error::Truncated)?;
    r.take(len).ok_or(Error::Truncated)
}

fn u16_list(mut r: Reader<'_>, out: &mut Vec<u16>) {
    while let Some(v) = r.u16() {
        if out.len() >= MAX_LIST {
            break;
        }
        out.push(v);
    }
}

/// Parses a ClientHello handshake message (type 1, 3-byte length, body).
pub fn parse_client_hello(handshake_msg: &[u8]) -> Result<ClientHello, Error> {
    let body = handshake_body(handshake_msg, CLIENT_HELLO)?;
    let bad = Error::Malformed("client hello");
    let mut r = Reader::new(body);
    let mut ch = ClientHello {
        legacy_version: r.u16().ok_or(bad.clone())?,
        ..ClientHello::default()
    };
    ch.random.copy_from_slice(r.take(32).ok_or(bad.clone())?);
    ch.session_id = r.vec8().ok_or(bad.clone())?.rest().to_vec();
    u16_list(r.vec16().ok_or(bad.clone())?, &mut ch.ciphers);
    r.vec8().ok_or(bad.clone())?; // legacy_compression_methods
                                  // Extensions are optional in SSLv3/TLS 1.0 hellos (RFC 5246 section 7.4.1.2).
    if !r.is_empty() {
        let mut exts = r.vec16().ok_or(bad.clone())?;
        while !exts.is_empty() {
            let ty = exts.u16().ok_or(bad.clone())?;
            let data = exts.vec16().ok_or(bad.clone())?;
            if ch.extensions.len() < MAX_LIST {
                ch.extensions.push(ty);
            }
            client_extension(&mut ch, ty, data);
        }
    }
    ch.ja3_full = ja3_string(&ch);
    ch.ja3 = md5_hex(&ch.ja3_full);
    Ok(ch)
}

/// Decodes the extension bodies the report and fingerprints need; a body that
/// does not decode leaves the field as far as it got.
fn client_extension(ch: &mut ClientHello, ty: u16, mut data: Reader<'_>) {
    match ty {
        // RFC 6066 section 3.
        EXT_SNI => {
            let Some(mut list) = data.vec16() else { return };
            while let (Some(kind), Some(name)) = (list.u8(), list.vec16()) {
                if kind == 0 && ch.sni.is_none() {
                    ch.sni = Some(String::from_utf8_lossy(name.rest()).into_owned());
                }
            }
        }
        // RFC 7301 section 3.1.
        EXT_ALPN => {
            let Some(mut list) = data.vec16() else { return };
            while let Some(p) = list.vec8() {
                if ch.alpn.len() < MAX_ALPN {
                    ch.alpn.push(String::from_utf8_lossy(p.rest()).into_owned());
                }
            }
        }
        EXT_GROUPS => {
            if let Some(list) = data.vec16() {
                u16_list(list, &mut ch.groups);
            }
        }
        EXT_POINT_FORMATS => {
            if let Some(list) = data.vec8() {
                ch.ec_point_formats
                    .extend(list.rest().iter().take(MAX_LIST));
            }
        }
        EXT_SIG_ALGS => {
            if let Some(list) = data.vec16() {
                u16_list(list, &mut ch.sig_algs);
            }
        }
        // RFC 8446 section 4.2.1: a one-byte-prefixed list in the ClientHello.
        EXT_SUPPORTED_VERSIONS => {
            if let Some(list) = data.vec8() {
                u16_list(list, &mut ch.versions);
            }
        }
        EXT_ECH => ch.ech = true,
        _ => {}
    }
}

/// Parses a ServerHello handshake message (type 2, 3-byte length, body).
pub fn parse_server_hello(handshake_msg: &[u8]) -> Result<ServerHello, Error> {
    let body = handshake_body(handshake_msg, SERVER_HELLO)?;
    let bad = Error::Malformed("server hello");
    let mut r = Reader::new(body);
    let legacy_version = r.u16().ok_or(bad.clone())?;
    let mut sh = ServerHello {
        version: legacy_version,
        ..ServerHello::default()
    };
    sh.random.copy_from_slice(r.take(32).ok_or(bad.clone())?);
    sh.hello_retry = sh.random == HRR_RANDOM;
    r.vec8().ok_or(bad.clone())?; // legacy_session_id_echo
    sh.cipher = r.u16().ok_or(bad.clone())?;
    r.u8().ok_or(bad.clone())?; // legacy_compression_method
    if !r.is_empty() {
        let mut exts = r.vec16().ok_or(bad.clone())?;
        while !exts.is_empty() {
            let ty = exts.u16().ok_or(bad.clone())?;
            let mut data = exts.vec16().ok_or(bad.clone())?;
            if sh.extensions.len() < MAX_LIST {
                sh.extensions.push(ty);
            }
            match ty {
                // RFC 8446 section 4.2.1: the ServerHello carries one version.
                EXT_SUPPORTED_VERSIONS => {
                    if let Some(v) = data.u16() {
                        sh.version = v;
                    }
                }
                EXT_ALPN => {
                    if let Some(p) = data.vec16().and_then(|mut l| l.vec8()) {
                        sh.alpn = Some(String::from_utf8_lossy(p.rest()).into_owned());
                    }
                }
                _ => {}
            }
        }
    }
    // JA3S uses the legacy version field, as the reference implementation does.
    let mut full = format!("{legacy_version},{},", sh.cipher);
    join_dec(
        &mut full,
        sh.extensions.iter().copied().filter(|&e| !is_grease(e)),
    );
    sh.ja3s = md5_hex(&full);
    sh.ja3s_full = full;
    Ok(sh)
}

fn md5_hex(s: &str) -> String {
    hex::encode(Md5::digest(s.as_bytes()))
}

fn join_dec<T: std::fmt::Display>(out: &mut String, items: impl Iterator<Item = T>) {
    for (i, v) in items.enumerate() {
        if i > 0 {
            out.push('-');
        }
        let _ = write!(out, "{v}");
    }
}

/// "SSLVersion,Ciphers,Extensions,EllipticCurves,EllipticCurvePointFormats",
/// decimal values joined by '-', GREASE left out (the JA3 reference
/// implementation skips RFC 8701 values).
fn ja3_string(ch: &ClientHello) -> String {
    let mut s = String::with_capacity(256);
    let _ = write!(s, "{},", ch.legacy_version);
    join_dec(
        &mut s,
        ch.ciphers.iter().copied().filter(|&v| !is_grease(v)),
    );
    s.push(',');
    join_dec(
        &mut s,
        ch.extensions.iter().copied().filter(|&v| !is_grease(v)),
    );
    s.push(',');
    join_dec(&mut s, ch.groups.iter().copied().filter(|&v| !is_grease(v)));
    s.push(',');
    join_dec(&mut s, ch.ec_point_formats.iter());
    s
}

/// JA4's two-character version code.
fn ja4_version(v: u16) -> &'static str {
    match v {
        0x0304 => "13",
        0x0303 => "12",
        0x0302 => "11",
        0x0301 => "10",
        0x0300 => "s3",
        0x0002 => "s2",
        0xfeff => "d1",
        0xfefd => "d2",
        0xfefc => "d3",
        _ => "00",
    }
}

/// First 12 hex characters of SHA-256 of `s`, or twelve zeros for an empty list.
fn ja4_hash(s: &str) -> String {
    if s.is_empty() {
        return "000000000000".to_owned();
    }
    let mut h = hex::encode(Sha256::digest(s.as_bytes()));
    h.truncate(12);
    h
}

fn hex_list(out: &mut String, items: impl Iterator<Item = u16>) {
    for (i, v) in items.enumerate() {
        if i > 0 {
            out.push(',');
        }
        let _ = write!(out, "{v:04x}");
    }
}

impl ClientHello {
    /// The JA4 fingerprint (FoxIO JA4 technical details): `a_b_c` where `a`
    /// is transport, version, SNI flag, cipher and extension counts and the
    /// ALPN's outer characters; `b` hashes the sorted ciphers; `c` hashes the
    /// sorted extensions (less SNI and ALPN) and the signature algorithms.
    pub fn ja4(&self, transport: Transport) -> String {
        let mut ciphers: Vec<u16> = self
            .ciphers
            .iter()
            .copied()
            .filter(|&v| !is_grease(v))
            .collect();
        let mut exts: Vec<u16> = self
            .extensions
            .iter()
            .copied()
            .filter(|&v| !is_grease(v))
            .collect();
        // The highest supported_versions entry wins over legacy_version.
        let version = self
            .versions
            .iter()
            .copied()
            .filter(|&v| !is_grease(v))
            .max()
            .unwrap_or(self.legacy_version);
        let mut a = String::with_capacity(10);
        a.push(match transport {
            Transport::Tcp => 't',
            Transport::Quic => 'q',
        });
        a.push_str(ja4_version(version));
        a.push(if self.extensions.contains(&EXT_SNI) {
            'd'
        } else {
            'i'
        });
        let _ = write!(a, "{:02}{:02}", ciphers.len().min(99), exts.len().min(99));
        a.push_str(&ja4_alpn(self.alpn.first().map(String::as_bytes)));

        ciphers.sort_unstable();
        let mut b = String::with_capacity(ciphers.len() * 5);
        hex_list(&mut b, ciphers.into_iter());

        exts.retain(|&e| e != EXT_SNI && e != EXT_ALPN);
        exts.sort_unstable();
        let mut c = String::with_capacity(exts.len() * 5 + self.sig_algs.len() * 5 + 1);
        hex_list(&mut c, exts.into_iter());
        // "If there are no signature algorithms, the string ends without an underscore."
        if !self.sig_algs.is_empty() {
            c.push('_');
            hex_list(
                &mut c,
                self.sig_algs.iter().copied().filter(|&v| !is_grease(v)),
            );
        }
        format!("{a}_{}_{}", ja4_hash(&b), ja4_hash(&c))
    }
}

/// First and last characters of the first ALPN value; when either is not
/// alphanumeric, the first and last characters of its hex form instead; "00"
/// when there is none.
fn ja4_alpn(first: Option<&[u8]>) -> String {
    let Some(p) = first.filter(|p| !p.is_empty()) else {
        return "00".to_owned();
    };
    let (f, l) = (p[0], p[p.len() - 1]); // p is non-empty (filtered above)
    if f.is_ascii_alphanumeric() && l.is_ascii_alphanumeric() {
        [char::from(f), char::from(l)].iter().collect()
    } else {
        let h = hex::encode(p);
        let hb = h.as_bytes(); // two hex digits per byte, so at least two
        [char::from(hb[0]), char::from(hb[hb.len() - 1])]
            .iter()
            .collect()
    }
}

/// Reads an SSL 2.0-compatible CLIENT-HELLO (RFC 5246 Appendix E.2): a
/// two-byte header with the high bit set, message type 1, then version and
/// three lengths. Only cipher specs with a zero first byte are TLS suites.
pub(crate) fn parse_sslv2_client_hello(record: &[u8]) -> Result<ClientHello, Error> {
    let bad = Error::Malformed("sslv2 client hello");
    let mut r = Reader::new(record);
    r.take(2).ok_or(bad.clone())?;
    if r.u8() != Some(CLIENT_HELLO) {
        return Err(bad);
    }
    let mut ch = ClientHello {
        legacy_version: r.u16().ok_or(bad.clone())?,
        ..ClientHello::default()
    };
    let specs_len = r.u16().ok_or(bad.clone())?;
    let sid_len = r.u16().ok_or(bad.clone())?;
    let challenge_len = r.u16().ok_or(bad.clone())?;
    let mut specs = Reader::new(r.take(usize::from(specs_len)).ok_or(bad.clone())?);
    while let Some(spec) = specs.take(3) {
        if spec[0] == 0 && ch.ciphers.len() < MAX_LIST {
            ch.ciphers.push(u16::from_be_bytes([spec[1], spec[2]]));
        }
    }
    ch.session_id = r.take(usize::from(sid_len)).ok_or(bad.clone())?.to_vec();
    let challenge = r.take(usize::from(challenge_len)).ok_or(bad)?;
    // The challenge is right-aligned in the 32-byte Random (Appendix E.2).
    let n = challenge.len().min(32);
    ch.random[32 - n..].copy_from_slice(&challenge[challenge.len() - n..]);
    ch.ja3_full = ja3_string(&ch);
    ch.ja3 = md5_hex(&ch.ja3_full);
    Ok(ch)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grease_table() {
        for v in [0x0a0a, 0x1a1a, 0xfafa, 0x4a4a] {
            assert!(is_grease(v), "{v:04x}");
        }
        for v in [0x0a1a, 0x1301, 0x0000, 0xabab] {
            assert!(!is_grease(v), "{v:04x}");
        }
    }

    #[test]
    fn alpn_codes() {
        let cases: &[(Option<&[u8]>, &str)] = &[
            (None, "00"),
            (Some(b""), "00"),
            (Some(b"h2"), "h2"),
            (Some(b"http/1.1"), "h1"),
            (Some(b"h3"), "h3"),
            (Some(b"h"), "hh"),
            (Some(&[0xab, 0x01, 0xcd]), "ad"),
            (Some(b"x/"), "7f"),
        ];
        for (input, want) in cases {
            assert_eq!(ja4_alpn(*input), *want, "{input:?}");
        }
    }

    #[test]
    fn rejects_wrong_type_and_truncation() {
        assert_eq!(
            parse_client_hello(&[2, 0, 0, 0]),
            Err(Error::UnexpectedMessage(2))
        );
        assert_eq!(
            parse_client_hello(&[1, 0, 0, 9, 3, 3]),
            Err(Error::Truncated)
        );
        assert!(parse_client_hello(&[1, 0, 0, 2, 3, 3]).is_err());
        assert!(parse_server_hello(&[2, 0, 0, 0]).is_err());
        assert!(parse_client_hello(&[]).is_err());
    }

    #[test]
    fn sslv2_hello_is_read() {
        // Hand-built SSLv2 CLIENT-HELLO: version 3.1, two cipher specs (one
        // SSLv2-only, one TLS_RSA_WITH_AES_128_CBC_SHA), 16-byte challenge.
        let mut m = vec![
            0x80, 0, 1, 3, 1, 0, 6, 0, 0, 0, 16, 0x07, 0x00, 0xc0, 0x00, 0x00, 0x2f,
        ];
        m.extend(1..=16u8);
        m[1] = u8::try_from(m.len() - 2).unwrap(); // fixture is < 128 bytes
        let ch = parse_sslv2_client_hello(&m).unwrap();
        assert_eq!(ch.legacy_version, 0x0301);
        assert_eq!(ch.ciphers, vec![0x002f]);
        assert_eq!(ch.random[31], 16);
        assert_eq!(ch.ja3_full, "769,47,,,");
        assert!(parse_sslv2_client_hello(&m[..m.len() - 1]).is_err());
    }
}

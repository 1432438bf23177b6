//! TLS 1.3 handshake messages shaped like Chrome on Android (RFC 8446 section 4.1), built once per
//! server name as a template; each session copies the template and patches its random fields.

/// Content type handshake (RFC 8446 section 5.1).
pub const CT_HANDSHAKE: u8 = 22;
/// Content type change_cipher_spec, sent for middlebox compatibility (RFC 8446 appendix D.4).
pub const CT_CCS: u8 = 20;
/// Content type application_data: every encrypted TLS 1.3 record looks like this on the wire.
pub const CT_APPDATA: u8 = 23;
/// Largest TLS 1.3 ciphertext payload servers send in bulk: 2^14 plaintext + content type + 16-byte tag.
pub const MAX_RECORD: usize = 16_384 + 17;

/// Where the hello is carried, which changes its contents (RFC 9001 section 8).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Carrier {
    /// A TLS record over TCP: legacy session id, TLS 1.2 fallbacks, padding extension.
    Tcp,
    /// QUIC CRYPTO frames: TLS 1.3 only, no session id, quic_transport_parameters.
    Quic,
}

/// A ClientHello with the offsets of its per-connection fields.
#[derive(Clone, Debug)]
pub struct HelloTemplate {
    /// For [`Carrier::Tcp`] a whole record (header included); for QUIC the handshake message alone.
    pub bytes: Vec<u8>,
    random_at: usize,
    session_id_at: Option<usize>,
    key_at: usize,
}

/// GREASE values (RFC 8701 section 2); Chrome picks a few per connection.
const GREASE: [u16; 16] = [
    0x0a0a, 0x1a1a, 0x2a2a, 0x3a3a, 0x4a4a, 0x5a5a, 0x6a6a, 0x7a7a, 0x8a8a, 0x9a9a, 0xaaaa, 0xbaba,
    0xcaca, 0xdada, 0xeaea, 0xfafa,
];

fn u16be(out: &mut Vec<u8>, v: u16) {
    out.extend_from_slice(&v.to_be_bytes());
}

/// Starts a length-prefixed block of `width` bytes; [`close`] fills the length in.
fn open(out: &mut Vec<u8>, width: usize) -> (usize, usize) {
    let at = out.len();
    out.resize(at + width, 0);
    (at, width)
}

fn close(out: &mut [u8], (at, width): (usize, usize)) {
    let len = out.len() - at - width;
    let b = (len as u32).to_be_bytes();
    out[at..at + width].copy_from_slice(&b[4 - width..]);
}

fn ext(out: &mut Vec<u8>, ty: u16, body: impl FnOnce(&mut Vec<u8>)) {
    u16be(out, ty);
    let l = open(out, 2);
    body(out);
    close(out, l);
}

impl HelloTemplate {
    /// Builds the hello for `sni` offering `alpn`; `grease` picks the GREASE values (seeded by the caller).
    pub fn new(carrier: Carrier, sni: &str, alpn: &[&str], grease: u64) -> Self {
        let g = |i: u32| GREASE[((grease >> (i * 4)) & 0xf) as usize];
        let (g_cipher, g_ext1, g_group, g_version, g_ext2) =
            (g(0), g(1), g(2), g(3), g(4) ^ 0x1010);
        let mut out = Vec::with_capacity(600);
        let record = if carrier == Carrier::Tcp {
            // Record header: legacy_record_version 0x0301 for the first flight (RFC 8446 section 5.1).
            out.extend_from_slice(&[CT_HANDSHAKE, 3, 1]);
            Some(open(&mut out, 2))
        } else {
            None
        };
        let hs_start = out.len();
        out.push(1); // client_hello
        let hs = open(&mut out, 3);
        u16be(&mut out, 0x0303);
        let random_at = out.len();
        out.resize(out.len() + 32, 0);
        let session_id_at = if carrier == Carrier::Tcp {
            out.push(32);
            let at = out.len();
            out.resize(out.len() + 32, 0);
            Some(at)
        } else {
            out.push(0);
            None
        };
        let suites: &[u16] = match carrier {
            Carrier::Tcp => &[
                g_cipher, 0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8,
                0xc013, 0xc014, 0x009c, 0x009d, 0x002f, 0x0035,
            ],
            Carrier::Quic => &[0x1301, 0x1302, 0x1303],
        };
        u16be(&mut out, (suites.len() * 2) as u16);
        for s in suites {
            u16be(&mut out, *s);
        }
        out.extend_from_slice(&[1, 0]); // compression methods: null only
        let exts = open(&mut out, 2);
        if carrier == Carrier::Tcp {
            ext(&mut out, g_ext1, |_| {});
        }
        // server_name (RFC 6066 section 3): one host_name entry.
        ext(&mut out, 0, |o| {
            let list = open(o, 2);
            o.push(0);
            u16be(o, sni.len() as u16);
            o.extend_from_slice(sni.as_bytes());
            close(o, list);
        });
        ext(&mut out, 23, |_| {}); // extended_master_secret
        if carrier == Carrier::Tcp {
            ext(&mut out, 0xff01, |o| o.push(0)); // renegotiation_info
        }
        ext(&mut out, 10, |o| {
            // supported_groups
            let groups: &[u16] = match carrier {
                Carrier::Tcp => &[g_group, 0x001d, 0x0017, 0x0018],
                Carrier::Quic => &[0x001d, 0x0017, 0x0018],
            };
            u16be(o, (groups.len() * 2) as u16);
            for v in groups {
                u16be(o, *v);
            }
        });
        if carrier == Carrier::Tcp {
            ext(&mut out, 11, |o| o.extend_from_slice(&[1, 0])); // ec_point_formats
            ext(&mut out, 35, |_| {}); // session_ticket
        }
        // application_layer_protocol_negotiation (RFC 7301 section 3.1).
        ext(&mut out, 16, |o| {
            let list = open(o, 2);
            for p in alpn {
                o.push(p.len() as u8);
                o.extend_from_slice(p.as_bytes());
            }
            close(o, list);
        });
        ext(&mut out, 5, |o| o.extend_from_slice(&[1, 0, 0, 0, 0])); // status_request (OCSP)
        ext(&mut out, 13, |o| {
            // signature_algorithms, Chrome's list.
            let algs = [
                0x0403u16, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601,
            ];
            u16be(o, 16);
            for a in algs {
                u16be(o, a);
            }
        });
        ext(&mut out, 18, |_| {}); // signed_certificate_timestamp
        let mut key_at = 0;
        ext(&mut out, 51, |o| {
            // key_share (RFC 8446 section 4.2.8): a GREASE share of one byte, then x25519.
            let list = open(o, 2);
            if carrier == Carrier::Tcp {
                u16be(o, g_group);
                u16be(o, 1);
                o.push(0);
            }
            u16be(o, 0x001d);
            u16be(o, 32);
            key_at = o.len();
            o.resize(o.len() + 32, 0);
            close(o, list);
        });
        ext(&mut out, 45, |o| o.extend_from_slice(&[1, 1])); // psk_key_exchange_modes: psk_dhe_ke
        ext(&mut out, 43, |o| {
            // supported_versions (RFC 8446 section 4.2.1).
            let v: &[u16] = match carrier {
                Carrier::Tcp => &[g_version, 0x0304, 0x0303],
                Carrier::Quic => &[0x0304],
            };
            o.push((v.len() * 2) as u8);
            for x in v {
                u16be(o, *x);
            }
        });
        ext(&mut out, 27, |o| o.extend_from_slice(&[2, 0, 2])); // compress_certificate: brotli
        ext(&mut out, 17513, |o| {
            // application_settings (ALPS) for the first protocol.
            let list = open(o, 2);
            o.push(alpn[0].len() as u8);
            o.extend_from_slice(alpn[0].as_bytes());
            close(o, list);
        });
        if carrier == Carrier::Quic {
            // quic_transport_parameters (RFC 9000 section 18.2): ids and varint values as Chrome sends.
            ext(&mut out, 0x39, |o| {
                let params: &[(u8, &[u8])] = &[
                    (0x01, &[0x80, 0x00, 0x75, 0x30]), // max_idle_timeout 30000
                    (0x03, &[0x45, 0xac]),             // max_udp_payload_size 1452
                    (0x04, &[0x80, 0xf0, 0x00, 0x00]), // initial_max_data 15 MiB
                    (0x05, &[0x80, 0x60, 0x00, 0x00]), // initial_max_stream_data_bidi_local
                    (0x06, &[0x80, 0x60, 0x00, 0x00]), // initial_max_stream_data_bidi_remote
                    (0x07, &[0x80, 0x60, 0x00, 0x00]), // initial_max_stream_data_uni
                    (0x08, &[0x40, 0x64]),             // initial_max_streams_bidi 100
                    (0x09, &[0x40, 0x67]),             // initial_max_streams_uni 103
                    (0x0f, &[]),                       // initial_source_connection_id (empty)
                ];
                for (id, v) in params {
                    o.push(*id);
                    o.push(v.len() as u8);
                    o.extend_from_slice(v);
                }
            });
        }
        if carrier == Carrier::Tcp {
            ext(&mut out, g_ext2, |o| o.push(0));
            // padding (RFC 7685): BoringSSL pads hellos of 256..511 bytes to 512 (handshake message size).
            let hs_len = out.len() - hs_start;
            if (252..508).contains(&hs_len) {
                let pad = 508 - hs_len;
                ext(&mut out, 21, |o| o.resize(o.len() + pad, 0));
            }
        }
        close(&mut out, exts);
        close(&mut out, hs);
        if let Some(r) = record {
            close(&mut out, r);
        }
        Self {
            bytes: out,
            random_at,
            session_id_at,
            key_at,
        }
    }

    /// Appends this hello to `out` with fresh random, session id and key share from `rng`.
    pub fn instantiate(&self, out: &mut Vec<u8>, rng: &mut crate::rng::Rng) {
        let base = out.len();
        out.extend_from_slice(&self.bytes);
        rng.fill(&mut out[base + self.random_at..base + self.random_at + 32]);
        if let Some(at) = self.session_id_at {
            rng.fill(&mut out[base + at..base + at + 32]);
        }
        rng.fill(&mut out[base + self.key_at..base + self.key_at + 32]);
    }
}

/// A ServerHello choosing TLS_AES_128_GCM_SHA256 and x25519. With `session_id` (TCP) the legacy id is
/// echoed; `record` wraps it in a record header. Randoms come from `rng`.
pub fn server_hello(
    out: &mut Vec<u8>,
    record: bool,
    session_id: Option<&[u8]>,
    rng: &mut crate::rng::Rng,
) {
    let rec = if record {
        out.extend_from_slice(&[CT_HANDSHAKE, 3, 3]);
        Some(open(out, 2))
    } else {
        None
    };
    out.push(2);
    let hs = open(out, 3);
    u16be(out, 0x0303);
    let at = out.len();
    out.resize(at + 32, 0);
    rng.fill(&mut out[at..]);
    match session_id {
        Some(id) => {
            out.push(id.len() as u8);
            out.extend_from_slice(id);
        }
        None => out.push(0),
    }
    u16be(out, 0x1301);
    out.push(0);
    let exts = open(out, 2);
    ext(out, 51, |o| {
        u16be(o, 0x001d);
        u16be(o, 32);
        let at = o.len();
        o.resize(at + 32, 0);
        rng.fill(&mut o[at..]);
    });
    ext(out, 43, |o| u16be(o, 0x0304));
    close(out, exts);
    close(out, hs);
    if let Some(r) = rec {
        close(out, r);
    }
}

/// The legacy session id inside a TCP ClientHello record (to echo it in the ServerHello).
pub fn session_id_of(client_hello_record: &[u8]) -> Option<&[u8]> {
    // record header 5, handshake header 4, version 2, random 32, then the id length.
    let len = usize::from(*client_hello_record.get(43)?);
    client_hello_record.get(44..44 + len)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;
    use tls_parser::{
        parse_tls_extensions, parse_tls_message_handshake, parse_tls_plaintext, TlsExtension,
        TlsMessage, TlsMessageHandshake,
    };

    fn sni_and_alpn(exts: &[u8]) -> (String, Vec<String>, bool) {
        let (rest, exts) = parse_tls_extensions(exts).expect("extensions parse");
        assert!(rest.is_empty());
        let (mut sni, mut alpn, mut tls13) = (String::new(), Vec::new(), false);
        for e in exts {
            match e {
                TlsExtension::SNI(v) => sni = String::from_utf8(v[0].1.to_vec()).unwrap(),
                TlsExtension::ALPN(v) => {
                    alpn = v
                        .iter()
                        .map(|p| String::from_utf8(p.to_vec()).unwrap())
                        .collect()
                }
                TlsExtension::SupportedVersions(v) => tls13 = v.iter().any(|x| x.0 == 0x0304),
                _ => {}
            }
        }
        (sni, alpn, tls13)
    }

    #[test]
    fn tcp_hello_record_lengths_are_consistent() {
        let mut rng = Rng::new(1);
        for sni in [
            "a.io",
            "gd2.line.naver.jp",
            "sdkconfig.ad.xiaomi.com",
            &"x".repeat(200),
        ] {
            let t = HelloTemplate::new(Carrier::Tcp, sni, &["h2", "http/1.1"], rng.next_u64());
            let mut rec = Vec::new();
            t.instantiate(&mut rec, &mut rng);
            let rlen = usize::from(u16::from_be_bytes([rec[3], rec[4]]));
            assert_eq!(rlen + 5, rec.len(), "record length");
            let hlen = u32::from_be_bytes([0, rec[6], rec[7], rec[8]]) as usize;
            assert_eq!(hlen + 4, rlen, "handshake length");
            if sni.len() < 100 {
                assert_eq!(hlen + 4, 512, "padded to 512 like BoringSSL");
            }
            let (rest, plain) = parse_tls_plaintext(&rec).expect("record parses");
            assert!(rest.is_empty());
            let TlsMessage::Handshake(TlsMessageHandshake::ClientHello(ch)) = &plain.msg[0] else {
                panic!("not a ClientHello")
            };
            assert_eq!(ch.session_id.map(<[u8]>::len), Some(32));
            let (s, a, v13) = sni_and_alpn(ch.ext.unwrap());
            assert_eq!(s, sni);
            assert_eq!(a, ["h2", "http/1.1"]);
            assert!(v13);
            assert_eq!(session_id_of(&rec), ch.session_id);
        }
    }

    #[test]
    fn quic_hello_parses_with_h3() {
        let mut rng = Rng::new(2);
        let t = HelloTemplate::new(Carrier::Quic, "www.googleapis.com", &["h3"], 5);
        let mut m = Vec::new();
        t.instantiate(&mut m, &mut rng);
        let (rest, msg) = parse_tls_message_handshake(&m).expect("handshake parses");
        assert!(rest.is_empty());
        let TlsMessage::Handshake(TlsMessageHandshake::ClientHello(ch)) = msg else {
            panic!("not a ClientHello")
        };
        let (s, a, v13) = sni_and_alpn(ch.ext.unwrap());
        assert_eq!(
            (s.as_str(), a, v13),
            ("www.googleapis.com", vec!["h3".to_string()], true)
        );
    }

    #[test]
    fn instances_differ_in_random_only_where_patched() {
        let mut rng = Rng::new(3);
        let t = HelloTemplate::new(Carrier::Tcp, "dns.google", &["h2"], 9);
        let (mut a, mut b) = (Vec::new(), Vec::new());
        t.instantiate(&mut a, &mut rng);
        t.instantiate(&mut b, &mut rng);
        let differing = a.iter().zip(&b).filter(|(x, y)| x != y).count();
        assert!(differing > 64 && differing <= 96, "{differing}");
    }

    #[test]
    fn server_hello_record_parses() {
        let mut rng = Rng::new(4);
        let mut rec = Vec::new();
        server_hello(&mut rec, true, Some(&[7u8; 32]), &mut rng);
        let (rest, plain) = parse_tls_plaintext(&rec).expect("record parses");
        assert!(rest.is_empty());
        assert!(matches!(
            plain.msg[0],
            TlsMessage::Handshake(TlsMessageHandshake::ServerHello(_))
        ));
    }
}

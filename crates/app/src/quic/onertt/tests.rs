//! Decryptor tests: RFC 9001 A.5 and packets sealed here with the same key schedule.

use super::*;

fn unhex(s: &str) -> Vec<u8> {
    hex::decode(s).expect("fixture is hex")
}

/// RFC 9001 Appendix A.5: ChaCha20-Poly1305 short header packet.
const A5_SECRET: &str = "9ac312a7f877468ebe69422748ad00a15443f18203a07d6060f688f30f21632b";

#[test]
fn rfc9001_a5_chacha20_short_header() {
    let secret = unhex(A5_SECRET);
    let suite = Suite::ChaCha20Poly1305;
    let mut key = [0u8; 32];
    expand_label(suite, &secret, b"quic key", &mut key).unwrap();
    assert_eq!(
        hex::encode(key),
        "c6d98ff3441c3fe1b2182094f69caa2ed4b716b65488960a7a984979fb23e1c8"
    );
    let mut ku = [0u8; 32];
    expand_label(suite, &secret, b"quic ku", &mut ku).unwrap();
    assert_eq!(
        hex::encode(ku),
        "1223504755036d556342ee9361d253421a826c9ecdf3c7148684b36b714881f9"
    );
    let mut d = Decryptor::new(
        1,
        0x1303,
        &Secrets {
            client_traffic: Some(&secret),
            ..Secrets::default()
        },
    )
    .unwrap();
    d.learn_cid(true, &[]);
    // The packet number 654360564 is sent in three bytes; decoding it needs the
    // largest number seen before.
    d.app[0].as_mut().unwrap().largest = Some(654_360_563);
    let mut out = Vec::new();
    d.datagram(
        &unhex("4cfe4189655e5cd55c41f69080575d7999c25a5bfb"),
        true,
        &mut out,
    );
    assert_eq!(d.stats().decrypted, 1, "{:?}", d.stats());
    assert!(out.is_empty()); // a PING
    assert_eq!(d.app[0].as_ref().unwrap().largest, Some(654_360_564));
}

/// Seals `payload` into a packet (RFC 9001 5.3, 5.4) with `level`'s current keys, or the
/// given keys for a key-phase test.
fn seal(
    level: &Level,
    keys: &PacketKeys,
    mut header: Vec<u8>,
    pn_offset: usize,
    pn: u64,
    payload: &[u8],
) -> Vec<u8> {
    let long = header[0] & 0x80 != 0;
    let pn_len = usize::from(header[0] & 3) + 1;
    let mut body = payload.to_vec();
    // Header protection needs 4 bytes after the packet number start plus 16 of sample.
    while pn_len + body.len() < 4 + 16 - TAG_LEN + 4 {
        body.push(0); // PADDING
    }
    let tag = keys.seal(pn, &header, &mut body);
    header.extend_from_slice(&body);
    header.extend_from_slice(&tag);
    let mask = level
        .hp
        .mask(&header[pn_offset + 4..pn_offset + 20])
        .unwrap();
    header[0] ^= mask[0] & if long { 0x0f } else { 0x1f };
    for i in 0..pn_len {
        header[pn_offset + i] ^= mask[1 + i];
    }
    header
}

const SCID_C: [u8; 4] = [0xc1, 0xc2, 0xc3, 0xc4];
const SCID_S: [u8; 8] = [0x51, 0x52, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58];

/// A v1 Handshake packet from the server with a two-byte packet number.
fn handshake(level: &Level, pn: u64, payload: &[u8]) -> Vec<u8> {
    let mut h = vec![0xe1, 0, 0, 0, 1, 4];
    h.extend_from_slice(&SCID_C);
    h.push(8);
    h.extend_from_slice(&SCID_S);
    let mut padded = payload.len() + 2 + TAG_LEN;
    padded = padded.max(2 + 20);
    h.extend_from_slice(&(0x4000u16 | padded as u16).to_be_bytes());
    let pn_offset = h.len();
    h.extend_from_slice(&(pn as u16).to_be_bytes());
    let mut payload = payload.to_vec();
    payload.resize(padded - 2 - TAG_LEN, 0);
    seal(level, &level.keys, h, pn_offset, pn, &payload)
}

/// A short-header packet to `dcid` with a one-byte packet number and the given phase.
fn short(
    level: &Level,
    keys: &PacketKeys,
    dcid: &[u8],
    phase: bool,
    pn: u64,
    payload: &[u8],
) -> Vec<u8> {
    let mut h = vec![0x40 | u8::from(phase) << 2];
    h.extend_from_slice(dcid);
    let pn_offset = h.len();
    h.push(pn as u8);
    seal(level, keys, h, pn_offset, pn, payload)
}

fn stream_frame(id: u64, offset: u64, data: &[u8], fin: bool) -> Vec<u8> {
    // STREAM with OFF and LEN bits; one- or two-byte varints are enough here.
    let mut f = vec![0x0e | u8::from(fin), id as u8];
    f.extend_from_slice(&(0x4000u16 | offset as u16).to_be_bytes());
    f.extend_from_slice(&(0x4000u16 | data.len() as u16).to_be_bytes());
    f.extend_from_slice(data);
    f
}

fn secrets() -> [Vec<u8>; 4] {
    [
        [1u8; 32].to_vec(),
        [2; 32].to_vec(),
        [3; 32].to_vec(),
        [4; 32].to_vec(),
    ]
}

fn decryptor(cipher: u16, s: &[Vec<u8>; 4]) -> Decryptor {
    Decryptor::new(
        1,
        cipher,
        &Secrets {
            client_handshake: Some(&s[0]),
            server_handshake: Some(&s[1]),
            client_traffic: Some(&s[2]),
            server_traffic: Some(&s[3]),
        },
    )
    .unwrap()
}

#[test]
fn handshake_certificate_and_streams_every_suite() {
    for (cipher, len) in [(0x1301, 32), (0x1302, 48), (0x1303, 32)] {
        let s = secrets().map(|v| vec![v[0]; len]);
        let mut d = decryptor(cipher, &s);
        let sender = decryptor(cipher, &s);
        let (shs, sapp, capp) = (
            sender.handshake[1].as_ref().unwrap(),
            sender.app[1].as_ref().unwrap(),
            sender.app[0].as_ref().unwrap(),
        );
        // Server flight: EncryptedExtensions, Certificate with two fake DER blobs, split over
        // two CRYPTO frames in two coalesced Handshake packets, out of order.
        let mut tls = vec![8, 0, 0, 2, 0, 0];
        let mut list = Vec::new();
        for der in [&b"\x30\x03abc"[..], b"\x30\x01z"] {
            list.extend_from_slice(&[0, 0, der.len() as u8]);
            list.extend_from_slice(der);
            list.extend_from_slice(&[0, 0]);
        }
        let mut cert = vec![0, 0, 0, list.len() as u8];
        cert.extend_from_slice(&list);
        tls.extend_from_slice(&[11, 0, 0, cert.len() as u8]);
        tls.extend_from_slice(&cert);
        let crypto = |off: usize, data: &[u8]| {
            let mut f = vec![0x06, off as u8, data.len() as u8];
            f.extend_from_slice(data);
            f
        };
        let (a, b) = tls.split_at(7);
        let mut dgram = handshake(shs, 1, &crypto(7, b));
        dgram.extend(handshake(shs, 0, &crypto(0, a)));
        // ...then a 1-RTT packet to the client's CID: an ACK, a response stream.
        let mut frames = vec![0x02, 0x00, 0x00, 0x00, 0x00];
        frames.extend(stream_frame(0, 0, b"hello", true));
        dgram.extend(short(sapp, &sapp.keys, &SCID_C, false, 0, &frames));
        let mut out = Vec::new();
        d.datagram(&dgram, false, &mut out);
        assert_eq!(
            out[0],
            Event::Certificates(vec![b"\x30\x03abc".to_vec(), b"\x30\x01z".to_vec()]),
            "{cipher:x}"
        );
        assert_eq!(
            out[1],
            Event::Stream {
                from_client: false,
                id: 0,
                offset: 0,
                data: b"hello".to_vec(),
                fin: true
            }
        );
        // The client addresses the server's CID, learned from the Handshake SCID.
        let mut f = stream_frame(0, 4, b"rest", true);
        f.extend(stream_frame(0, 0, b"GET ", false));
        out.clear();
        d.datagram(
            &short(capp, &capp.keys, &SCID_S, false, 0, &f),
            true,
            &mut out,
        );
        let data: Vec<u8> = out
            .iter()
            .flat_map(|e| match e {
                Event::Stream { data, .. } => data.clone(),
                _ => Vec::new(),
            })
            .collect();
        assert_eq!(data, b"GET rest");
        assert_eq!(d.stats().decrypted, 4);
        assert_eq!(d.stats().decrypt_failed, 0);
    }
}

#[test]
fn key_update_and_late_packet_of_the_old_phase() {
    let s = secrets();
    let mut d = decryptor(0x1301, &s);
    let sender = decryptor(0x1301, &s);
    let capp = sender.app[0].as_ref().unwrap();
    let next_secret = capp.secret.next(Suite::Aes128Gcm, false).unwrap();
    let next = PacketKeys::new(Suite::Aes128Gcm, next_secret.as_slice(), false).unwrap();
    d.learn_cid(true, &SCID_S);
    let mut out = Vec::new();
    let pkts = [
        short(
            capp,
            &capp.keys,
            &SCID_S,
            false,
            0,
            &stream_frame(0, 0, b"a", false),
        ),
        short(
            capp,
            &next,
            &SCID_S,
            true,
            2,
            &stream_frame(0, 2, b"c", false),
        ),
        short(
            capp,
            &capp.keys,
            &SCID_S,
            false,
            1,
            &stream_frame(0, 1, b"b", true),
        ),
    ];
    for p in &pkts {
        d.datagram(p, true, &mut out);
    }
    let st = d.stats();
    assert_eq!((st.decrypted, st.key_updates, st.decrypt_failed), (3, 1, 0));
    assert_eq!(out.len(), 3, "{out:?}");
    // A packet sealed with the wrong phase's keys fails and is counted, not parsed.
    d.datagram(
        &short(
            capp,
            &capp.keys,
            &SCID_S,
            true,
            3,
            &stream_frame(4, 0, b"x", false),
        ),
        true,
        &mut out,
    );
    assert_eq!(d.stats().decrypt_failed, 1);
    assert_eq!(out.len(), 3);
}

#[test]
fn hostile_input_is_counted() {
    let s = secrets();
    let sender = decryptor(0x1301, &s);
    let shs = sender.handshake[1].as_ref().unwrap();
    let good = handshake(shs, 0, &[0x06, 0, 1, 8]);
    for n in 0..good.len() {
        let mut d = decryptor(0x1301, &s);
        let mut out = Vec::new();
        d.datagram(&good[..n], false, &mut out);
        assert!(out.is_empty());
        let mut m = good.clone();
        m[n] ^= 0x10;
        d.datagram(&m, false, &mut out);
        assert!(out.is_empty());
    }
    let mut d = decryptor(0x1301, &s);
    let mut out = Vec::new();
    d.datagram(&[0x40, 1, 2, 3], true, &mut out);
    assert_eq!(d.stats().no_cid, 1);
    assert!(Decryptor::new(1, 0x1304, &Secrets::default()).is_none());
    assert!(Decryptor::new(0x1234_5678, 0x1301, &Secrets::default()).is_none());
    // Unknown frame types stop the walk; cut frames too.
    assert!(walk(&[0x01, 0x21], |_| {}).is_none());
    assert!(walk(&[0x0a, 0x00, 0x05, b'a'], |_| {}).is_none());
    assert!(walk(
        &[0x00, 0x01, 0x1e, 0x18, 1, 0, 2, 9, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
        |_| {}
    )
    .is_some());
}

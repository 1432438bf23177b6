//! QUIC version 1 long-header packets: Initial packet protection (RFC 9001 section 5), the client and
//! server Initials a browser handshake starts with, and unprotectable-looking Handshake / 1-RTT packets.

use aes::cipher::{BlockEncrypt, KeyInit};
use aes::Aes128;
use aes_gcm::aead::AeadInPlace;
use aes_gcm::{Aes128Gcm, Nonce};
use hkdf::Hkdf;
use sha2::Sha256;

use crate::rng::Rng;

/// QUIC version 1 (RFC 9000 section 15).
pub const VERSION_1: u32 = 1;
/// initial_salt for version 1 (RFC 9001 section 5.2).
const INITIAL_SALT: [u8; 20] = [
    0x38, 0x76, 0x2c, 0xf7, 0xf5, 0x59, 0x34, 0xb3, 0x4d, 0x17, 0x9a, 0xe6, 0xa4, 0xc8, 0x0c, 0xad,
    0xcc, 0xbb, 0x7f, 0x0a,
];
/// AEAD tag length of AES-128-GCM.
pub const TAG_LEN: usize = 16;
/// Chrome pads client Initial datagrams to this size (RFC 9000 section 14.1 asks for at least 1200).
pub const CLIENT_INITIAL_DATAGRAM: usize = 1250;

/// Packet protection keys of one direction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Keys {
    /// AEAD key.
    pub key: [u8; 16],
    /// AEAD IV.
    pub iv: [u8; 12],
    /// Header protection key.
    pub hp: [u8; 16],
}

/// HKDF-Expand-Label with an empty context (RFC 8446 section 7.1).
fn expand_label(hk: &Hkdf<Sha256>, label: &str, out: &mut [u8]) {
    let mut info = Vec::with_capacity(4 + 6 + label.len());
    info.extend_from_slice(&(out.len() as u16).to_be_bytes());
    info.push((6 + label.len()) as u8);
    info.extend_from_slice(b"tls13 ");
    info.extend_from_slice(label.as_bytes());
    info.push(0);
    // Output lengths here are at most 32, far below HKDF-SHA256's 8160-byte limit.
    hk.expand(&info, out).expect("hkdf output length is small");
}

/// Initial keys for the client (`client == true`) or server side of the connection whose client chose
/// `dcid` as its first Destination Connection ID (RFC 9001 section 5.2).
pub fn initial_keys(dcid: &[u8], client: bool) -> Keys {
    let (_, initial) = Hkdf::<Sha256>::extract(Some(&INITIAL_SALT), dcid);
    let mut secret = [0u8; 32];
    expand_label(
        &initial,
        if client { "client in" } else { "server in" },
        &mut secret,
    );
    // The secret is 32 bytes, a valid PRK for SHA-256.
    let hk = Hkdf::<Sha256>::from_prk(&secret).expect("32-byte prk");
    let mut k = Keys {
        key: [0; 16],
        iv: [0; 12],
        hp: [0; 16],
    };
    expand_label(&hk, "quic key", &mut k.key);
    expand_label(&hk, "quic iv", &mut k.iv);
    expand_label(&hk, "quic hp", &mut k.hp);
    k
}

/// Protects the packet in `packet[start..]` whose packet number (of `pn_len` bytes) starts at
/// `packet[pn_at]`: AEAD over the payload with the header as associated data (RFC 9001 section 5.3),
/// the tag appended, then header protection with an AES-ECB mask of the sample (section 5.4.3).
pub fn protect(
    keys: &Keys,
    packet: &mut Vec<u8>,
    start: usize,
    pn_at: usize,
    pn_len: usize,
    pn: u64,
) {
    let mut nonce = keys.iv;
    for (i, b) in pn.to_be_bytes().iter().enumerate() {
        nonce[4 + i] ^= b;
    }
    let payload_at = pn_at + pn_len;
    let (header, payload) = packet.split_at_mut(payload_at);
    let cipher = Aes128Gcm::new(aes_gcm::Key::<Aes128Gcm>::from_slice(&keys.key));
    // AES-GCM fails only for payloads over 64 GiB.
    let tag = cipher
        .encrypt_in_place_detached(Nonce::from_slice(&nonce), &header[start..], payload)
        .expect("payload fits AES-GCM limits");
    packet.extend_from_slice(&tag);
    // The sample starts 4 bytes after the start of the packet number (RFC 9001 section 5.4.2).
    let mut block = aes::Block::default();
    block.copy_from_slice(&packet[pn_at + 4..pn_at + 20]);
    Aes128::new(aes::cipher::generic_array::GenericArray::from_slice(
        &keys.hp,
    ))
    .encrypt_block(&mut block);
    let long = packet[start] & 0x80 != 0;
    packet[start] ^= block[0] & if long { 0x0f } else { 0x1f };
    for i in 0..pn_len {
        packet[pn_at + i] ^= block[1 + i];
    }
}

/// Appends a variable-length integer (RFC 9000 section 16) in its 2-byte form (values below 16384)
/// or 4-byte form.
pub fn put_varint(out: &mut Vec<u8>, v: u64) {
    if v < 64 {
        out.push(v as u8);
    } else if v < 16_384 {
        out.extend_from_slice(&(0x4000 | v as u16).to_be_bytes());
    } else {
        out.extend_from_slice(&(0x8000_0000 | v as u32).to_be_bytes());
    }
}

/// Packet types of the long header (RFC 9000 section 17.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LongType {
    /// Initial, type 0.
    Initial,
    /// Handshake, type 2.
    Handshake,
}

/// Appends a long header up to and including the packet number and returns the packet number offset.
/// The Length field is written in 2 bytes and covers `pn_len + payload_len + TAG_LEN`.
fn long_header(
    out: &mut Vec<u8>,
    ty: LongType,
    dcid: &[u8],
    scid: &[u8],
    pn: u64,
    pn_len: usize,
    payload_len: usize,
) -> usize {
    let tbits = match ty {
        LongType::Initial => 0,
        LongType::Handshake => 2,
    };
    out.push(0xc0 | (tbits << 4) | (pn_len as u8 - 1));
    out.extend_from_slice(&VERSION_1.to_be_bytes());
    out.push(dcid.len() as u8);
    out.extend_from_slice(dcid);
    out.push(scid.len() as u8);
    out.extend_from_slice(scid);
    if ty == LongType::Initial {
        out.push(0); // Token Length 0
    }
    let len = (pn_len + payload_len + TAG_LEN) as u16;
    out.extend_from_slice(&(0x4000 | len).to_be_bytes());
    let pn_at = out.len();
    out.extend_from_slice(&pn.to_be_bytes()[8 - pn_len..]);
    pn_at
}

/// Appends a protected Initial packet carrying `frames` (padded with PADDING frames to `pad_to` bytes of
/// frames, if larger).
pub fn initial_packet(
    out: &mut Vec<u8>,
    keys: &Keys,
    dcid: &[u8],
    scid: &[u8],
    pn: u64,
    frames: &[u8],
    pad_to: usize,
) {
    let pn_len = 2;
    let payload_len = frames.len().max(pad_to);
    let start = out.len();
    let pn_at = long_header(out, LongType::Initial, dcid, scid, pn, pn_len, payload_len);
    out.extend_from_slice(frames);
    out.resize(pn_at + pn_len + payload_len, 0);
    protect(keys, out, start, pn_at, pn_len, pn);
}

/// The client's first datagram: an Initial with the ClientHello in a CRYPTO frame, padded so that the
/// datagram is [`CLIENT_INITIAL_DATAGRAM`] bytes (RFC 9000 section 14.1).
pub fn client_initial(out: &mut Vec<u8>, dcid: &[u8], scid: &[u8], client_hello: &[u8]) {
    let keys = initial_keys(dcid, true);
    let mut frames = Vec::with_capacity(client_hello.len() + 8);
    crypto_frame(&mut frames, client_hello);
    // Header: 1 + 4 + 1 + dcid + 1 + scid + 1 (token) + 2 (length) + 2 (pn).
    let header = 12 + dcid.len() + scid.len();
    let pad_to = CLIENT_INITIAL_DATAGRAM.saturating_sub(header + TAG_LEN);
    initial_packet(out, &keys, dcid, scid, 0, &frames, pad_to);
}

/// The server's Initial: an ACK of the client's packet 0 and the ServerHello in a CRYPTO frame.
pub fn server_initial(
    out: &mut Vec<u8>,
    orig_dcid: &[u8],
    client_scid: &[u8],
    server_cid: &[u8],
    server_hello: &[u8],
) {
    let keys = initial_keys(orig_dcid, false);
    // ACK frame (RFC 9000 section 19.3): largest 0, delay 0, no extra ranges, first range 0.
    let mut frames = vec![0x02, 0x00, 0x00, 0x00, 0x00];
    crypto_frame(&mut frames, server_hello);
    initial_packet(out, &keys, client_scid, server_cid, 0, &frames, 0);
}

/// A CRYPTO frame at offset 0 (RFC 9000 section 19.6).
pub fn crypto_frame(out: &mut Vec<u8>, data: &[u8]) {
    out.push(0x06);
    out.push(0);
    put_varint(out, data.len() as u64);
    out.extend_from_slice(data);
}

/// A Handshake packet whose protected payload is random bytes (`body_len` bytes after the header),
/// which is what it is to anyone without the handshake secrets.
pub fn opaque_handshake(
    out: &mut Vec<u8>,
    dcid: &[u8],
    scid: &[u8],
    body_len: usize,
    rng: &mut Rng,
) {
    let body_len = body_len.max(TAG_LEN + 8);
    let start = out.len();
    // pn_len 2 in the header's template; header protection hides the real value anyway.
    let pn_at = long_header(
        out,
        LongType::Handshake,
        dcid,
        scid,
        0,
        2,
        body_len - TAG_LEN - 2,
    );
    out.resize(pn_at + body_len, 0);
    rng.fill(&mut out[pn_at..]);
    // Protected low bits of the first byte look random on the wire.
    out[start] = 0xe0 | (rng.next_u64() as u8 & 0x0f);
}

/// The unprotected part of a 1-RTT short-header packet (RFC 9000 section 17.3.1): header form 0, fixed
/// bit 1, protected bits random, then the Destination Connection ID. The rest of the packet is random.
pub fn short_header(out: &mut [u8], dcid: &[u8], rng: &mut Rng) -> usize {
    out[0] = 0x40 | (rng.next_u64() as u8 & 0x3f);
    out[1..1 + dcid.len()].copy_from_slice(dcid);
    1 + dcid.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(s: &str) -> Vec<u8> {
        hex::decode(s.split_whitespace().collect::<String>()).unwrap()
    }

    /// RFC 9001 Appendix A.1: keys derived from DCID 0x8394c8f03e515708.
    #[test]
    fn initial_keys_match_rfc9001_a1() {
        let dcid = h("8394c8f03e515708");
        let c = initial_keys(&dcid, true);
        assert_eq!(c.key.to_vec(), h("1f369613dd76d5467730efcbe3b1a22d"));
        assert_eq!(c.iv.to_vec(), h("fa044b2f42a3fd3b46fb255c"));
        assert_eq!(c.hp.to_vec(), h("9f50449e04a0e810283a1e9933adedd2"));
        let s = initial_keys(&dcid, false);
        assert_eq!(s.key.to_vec(), h("cf3a5331653c364c88f0f379b6067e37"));
        assert_eq!(s.iv.to_vec(), h("0ac1493ca1905853b0bba03e"));
        assert_eq!(s.hp.to_vec(), h("c206b8d9b9f0f37644430b490eeaa314"));
    }

    /// RFC 9001 Appendix A.2: the client Initial (header, CRYPTO frame padded to 1162 bytes, pn 2 in
    /// 4 bytes) protects to exactly the published 1200-byte packet.
    #[test]
    fn client_initial_matches_rfc9001_a2() {
        let header = h("c300000001088394c8f03e5157080000449e00000002");
        let mut payload = h(RFC9001_A2_CRYPTO);
        payload.resize(1162, 0);
        let mut pkt = header;
        pkt.extend_from_slice(&payload);
        let keys = initial_keys(&h("8394c8f03e515708"), true);
        protect(&keys, &mut pkt, 0, 18, 4, 2);
        let want = h(RFC9001_A2_PROTECTED);
        assert_eq!(pkt.len(), 1200);
        assert_eq!(hex::encode(&pkt), hex::encode(&want));
    }

    /// Our own header builder produces the A.2 header bytes for the same fields.
    #[test]
    fn long_header_layout_matches_rfc9001_a2() {
        let mut out = Vec::new();
        let pn_at = long_header(
            &mut out,
            LongType::Initial,
            &h("8394c8f03e515708"),
            &[],
            2,
            4,
            1162,
        );
        assert_eq!(pn_at, 18);
        assert_eq!(out, h("c300000001088394c8f03e5157080000449e00000002"));
    }

    /// RFC 9001 Appendix A.3: the server Initial with the ServerHello.
    #[test]
    fn server_initial_matches_rfc9001_a3() {
        let mut pkt = h("c1000000010008f067a5502a4262b50040750001");
        pkt.extend_from_slice(&h(
            "02000000000600405a020000560303eefce7f7b37ba1d1632e96677825ddf739
             88cfc79825df566dc5430b9a045a1200130100002e00330024001d00209d3c94
             0d89690b84d08a60993c144eca684d1081287c834d5311bcf32bb9da1a002b00
             020304",
        ));
        let keys = initial_keys(&h("8394c8f03e515708"), false);
        protect(&keys, &mut pkt, 0, 18, 2, 1);
        let want = h(
            "cf000000010008f067a5502a4262b5004075c0d95a482cd0991cd25b0aac406a
             5816b6394100f37a1c69797554780bb38cc5a99f5ede4cf73c3ec2493a1839b3
             dbcba3f6ea46c5b7684df3548e7ddeb9c3bf9c73cc3f3bded74b562bfb19fb84
             022f8ef4cdd93795d77d06edbb7aaf2f58891850abbdca3d20398c276456cbc4
             2158407dd074ee",
        );
        assert_eq!(hex::encode(&pkt), hex::encode(&want));
    }

    #[test]
    fn client_initial_datagram_is_padded_and_length_consistent() {
        let mut out = Vec::new();
        client_initial(&mut out, &[9u8; 8], &[], &[1u8; 300]);
        assert_eq!(out.len(), CLIENT_INITIAL_DATAGRAM);
        // Length field at 1+4+1+8+1+1 = 16 covers the rest of the datagram.
        let len = usize::from(u16::from_be_bytes([out[16], out[17]]) & 0x3fff);
        assert_eq!(18 + len, out.len());
    }

    #[test]
    fn opaque_handshake_length_field_covers_body() {
        let mut rng = Rng::new(1);
        let mut out = Vec::new();
        opaque_handshake(&mut out, &[], &[5u8; 8], 900, &mut rng);
        // 1+4+1+0+1+8 = 15: Length at 15..17 (no token field in Handshake packets).
        let len = usize::from(u16::from_be_bytes([out[15], out[16]]) & 0x3fff);
        assert_eq!(17 + len, out.len());
        assert_eq!(out[0] & 0xf0, 0xe0);
    }

    const RFC9001_A2_CRYPTO: &str = "
        060040f1010000ed0303ebf8fa56f12939b9584a3896472ec40bb863cfd3e868
        04fe3a47f06a2b69484c00000413011302010000c000000010000e00000b6578
        616d706c652e636f6dff01000100000a00080006001d00170018001000070005
        04616c706e000500050100000000003300260024001d00209370b2c9caa47fba
        baf4559fedba753de171fa71f50f1ce15d43e994ec74d748002b000302030400
        0d0010000e0403050306030203080408050806002d00020101001c0002400100
        3900320408ffffffffffffffff05048000ffff07048000ffff08011001048000
        75300901100f088394c8f03e51570806048000ffff";

    const RFC9001_A2_PROTECTED: &str = "
        c000000001088394c8f03e5157080000449e7b9aec34d1b1c98dd7689fb8ec11
        d242b123dc9bd8bab936b47d92ec356c0bab7df5976d27cd449f63300099f399
        1c260ec4c60d17b31f8429157bb35a1282a643a8d2262cad67500cadb8e7378c
        8eb7539ec4d4905fed1bee1fc8aafba17c750e2c7ace01e6005f80fcb7df6212
        30c83711b39343fa028cea7f7fb5ff89eac2308249a02252155e2347b63d58c5
        457afd84d05dfffdb20392844ae812154682e9cf012f9021a6f0be17ddd0c208
        4dce25ff9b06cde535d0f920a2db1bf362c23e596d11a4f5a6cf3948838a3aec
        4e15daf8500a6ef69ec4e3feb6b1d98e610ac8b7ec3faf6ad760b7bad1db4ba3
        485e8a94dc250ae3fdb41ed15fb6a8e5eba0fc3dd60bc8e30c5c4287e53805db
        059ae0648db2f64264ed5e39be2e20d82df566da8dd5998ccabdae053060ae6c
        7b4378e846d29f37ed7b4ea9ec5d82e7961b7f25a9323851f681d582363aa5f8
        9937f5a67258bf63ad6f1a0b1d96dbd4faddfcefc5266ba6611722395c906556
        be52afe3f565636ad1b17d508b73d8743eeb524be22b3dcbc2c7468d54119c74
        68449a13d8e3b95811a198f3491de3e7fe942b330407abf82a4ed7c1b311663a
        c69890f4157015853d91e923037c227a33cdd5ec281ca3f79c44546b9d90ca00
        f064c99e3dd97911d39fe9c5d0b23a229a234cb36186c4819e8b9c5927726632
        291d6a418211cc2962e20fe47feb3edf330f2c603a9d48c0fcb5699dbfe58964
        25c5bac4aee82e57a85aaf4e2513e4f05796b07ba2ee47d80506f8d2c25e50fd
        14de71e6c418559302f939b0e1abd576f279c4b2e0feb85c1f28ff18f58891ff
        ef132eef2fa09346aee33c28eb130ff28f5b766953334113211996d20011a198
        e3fc433f9f2541010ae17c1bf202580f6047472fb36857fe843b19f5984009dd
        c324044e847a4f4a0ab34f719595de37252d6235365e9b84392b061085349d73
        203a4a13e96f5432ec0fd4a1ee65accdd5e3904df54c1da510b0ff20dcc0c77f
        cb2c0e0eb605cb0504db87632cf3d8b4dae6e705769d1de354270123cb11450e
        fc60ac47683d7b8d0f811365565fd98c4c8eb936bcab8d069fc33bd801b03ade
        a2e1fbc5aa463d08ca19896d2bf59a071b851e6c239052172f296bfb5e724047
        90a2181014f3b94a4e97d117b438130368cc39dbb2d198065ae3986547926cd2
        162f40a29f0c3c8745c0f50fba3852e566d44575c29d39a03f0cda721984b6f4
        40591f355e12d439ff150aab7613499dbd49adabc8676eef023b15b65bfc5ca0
        6948109f23f350db82123535eb8a7433bdabcb909271a6ecbcb58b936a88cd4e
        8f2e6ff5800175f113253d8fa9ca8885c2f552e657dc603f252e1a8e308f76f0
        be79e2fb8f5d5fbbe2e30ecadd220723c8c0aea8078cdfcb3868263ff8f09400
        54da48781893a7e49ad5aff4af300cd804a6b6279ab3ff3afb64491c85194aab
        760d58a606654f9f4400e8b38591356fbf6425aca26dc85244259ff2b19c41b9
        f96f3ca9ec1dde434da7d2d392b905ddf3d1f9af93d1af5950bd493f5aa731b4
        056df31bd267b6b90a079831aaf579be0a39013137aac6d404f518cfd4684064
        7e78bfe706ca4cf5e9c5453e9f7cfd2b8b4c8d169a44e55c88d4a9a7f9474241
        e221af44860018ab0856972e194cd934";
}

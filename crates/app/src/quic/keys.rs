//! Initial secrets, header protection and packet decryption
//! (RFC 9001 sections 5.1 to 5.4; RFC 9369 section 3.3 for v2).

use aes::cipher::{BlockEncrypt, KeyInit};
use aes::Aes128;
use aes_gcm::aead::AeadInPlace;
use aes_gcm::{Aes128Gcm, Nonce, Tag};
use hkdf::Hkdf;
use sha2::Sha256;

use super::version::Params;

/// AEAD tag length of AES-128-GCM (RFC 9001 section 5.3).
pub(crate) const TAG_LEN: usize = 16;
/// Header protection sample length (RFC 9001 section 5.4.2).
const SAMPLE_LEN: usize = 16;

/// One direction's packet protection keys.
pub(crate) struct DirKeys {
    aead: Aes128Gcm,
    iv: [u8; 12],
    hp: Aes128,
}

/// Client and server Initial keys for one Destination Connection ID.
pub(crate) struct InitialKeys {
    pub(crate) client: DirKeys,
    pub(crate) server: DirKeys,
}

impl std::fmt::Debug for InitialKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("InitialKeys { .. }")
    }
}

/// HKDF-Expand-Label with an empty context (RFC 8446 section 7.1).
fn expand_label(secret: &Hkdf<Sha256>, label: &[u8], out: &mut [u8]) {
    // struct { uint16 length; opaque label<7..255> = "tls13 " + label; opaque context<0..255>; }
    let mut info = [0u8; 32];
    let full = 6 + label.len(); // labels here are at most 12 bytes
    info[..2].copy_from_slice(&(out.len() as u16).to_be_bytes());
    info[2] = full as u8;
    info[3..9].copy_from_slice(b"tls13 ");
    info[9..9 + label.len()].copy_from_slice(label);
    info[9 + label.len()] = 0;
    // Invariant: outputs are at most 32 bytes, far below 255 * HashLen.
    secret
        .expand(&info[..10 + label.len()], out)
        .expect("HKDF output length is small");
}

impl DirKeys {
    fn from_secret(secret: &[u8; 32], v2: bool) -> Self {
        // Invariant: a 32-byte PRK is exactly SHA-256's length.
        let hk = Hkdf::<Sha256>::from_prk(secret).expect("PRK has hash length");
        let (lk, liv, lhp): (&[u8], &[u8], &[u8]) = if v2 {
            // RFC 9369 section 3.3.2.
            (b"quicv2 key", b"quicv2 iv", b"quicv2 hp")
        } else {
            (b"quic key", b"quic iv", b"quic hp")
        };
        let (mut key, mut iv, mut hp) = ([0u8; 16], [0u8; 12], [0u8; 16]);
        expand_label(&hk, lk, &mut key);
        expand_label(&hk, liv, &mut iv);
        expand_label(&hk, lhp, &mut hp);
        Self {
            aead: Aes128Gcm::new(&key.into()),
            iv,
            hp: Aes128::new(&hp.into()),
        }
    }
}

impl InitialKeys {
    /// RFC 9001 section 5.2: initial_secret = HKDF-Extract(initial_salt, DCID),
    /// then "client in" / "server in" secrets.
    pub(crate) fn new(params: Params, dcid: &[u8]) -> Self {
        let (_, initial) = Hkdf::<Sha256>::extract(Some(params.salt), dcid);
        let mut c = [0u8; 32];
        let mut s = [0u8; 32];
        expand_label(&initial, b"client in", &mut c);
        expand_label(&initial, b"server in", &mut s);
        Self {
            client: DirKeys::from_secret(&c, params.v2),
            server: DirKeys::from_secret(&s, params.v2),
        }
    }
}

/// Why a packet could not be opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OpenError {
    /// Too short for a packet number, sample and tag.
    TooShort,
    /// The AEAD tag did not verify: wrong keys or a corrupt packet.
    Auth,
}

/// Removes header protection and decrypts a long-header packet in place.
/// `pkt` spans exactly one packet, `pn_offset` is where the packet number
/// starts. Returns the packet number and the plaintext payload range.
pub(crate) fn open(
    keys: &DirKeys,
    pkt: &mut [u8],
    pn_offset: usize,
    largest: Option<u64>,
) -> Result<(u64, std::ops::Range<usize>), OpenError> {
    // RFC 9001 section 5.4.2: the sample starts 4 bytes after the packet
    // number field's start, whatever the packet number's real length.
    let sample_at = pn_offset.checked_add(4).ok_or(OpenError::TooShort)?;
    let sample = pkt
        .get(sample_at..sample_at + SAMPLE_LEN)
        .ok_or(OpenError::TooShort)?;
    let mut mask = aes::Block::clone_from_slice(sample);
    keys.hp.encrypt_block(&mut mask);
    // RFC 9001 section 5.4.1: four low bits of a long header's first byte.
    pkt[0] ^= mask[0] & 0x0f;
    let pn_len = usize::from(pkt[0] & 0x03) + 1;
    let mut truncated = 0u64;
    for i in 0..pn_len {
        // In bounds: the sample check covered pn_offset + 20.
        pkt[pn_offset + i] ^= mask[1 + i];
        truncated = truncated << 8 | u64::from(pkt[pn_offset + i]);
    }
    let pn = decode_packet_number(largest, truncated, pn_len as u32 * 8);
    let payload_at = pn_offset + pn_len;
    let tag_at = pkt
        .len()
        .checked_sub(TAG_LEN)
        .filter(|&t| t >= payload_at)
        .ok_or(OpenError::TooShort)?;
    // RFC 9001 section 5.3: nonce = iv XOR left-padded packet number.
    let mut nonce = keys.iv;
    for (n, p) in nonce[4..].iter_mut().zip(pn.to_be_bytes()) {
        *n ^= p;
    }
    let (header, rest) = pkt.split_at_mut(payload_at);
    let (ct, tag) = rest.split_at_mut(tag_at - payload_at);
    keys.aead
        .decrypt_in_place_detached(Nonce::from_slice(&nonce), header, ct, Tag::from_slice(tag))
        .map_err(|_| OpenError::Auth)?;
    Ok((pn, payload_at..tag_at))
}

/// RFC 9000 Appendix A.3: the full packet number closest to the next expected.
pub(crate) fn decode_packet_number(largest: Option<u64>, truncated: u64, bits: u32) -> u64 {
    let expected = largest.map_or(0, |l| l.saturating_add(1));
    let win = 1u64 << bits;
    let hwin = win / 2;
    let candidate = (expected & !(win - 1)) | truncated;
    if candidate.saturating_add(hwin) <= expected && candidate < (1u64 << 62) - win {
        candidate + win
    } else if candidate > expected.saturating_add(hwin) && candidate >= win {
        candidate - win
    } else {
        candidate
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packet_number_rfc9000_a3() {
        // RFC 9000 Appendix A.3 example: largest 0xa82f30ea, truncated 0x9b32 (16 bits).
        assert_eq!(
            decode_packet_number(Some(0xa82f_30ea), 0x9b32, 16),
            0xa82f_9b32
        );
        assert_eq!(decode_packet_number(None, 0, 8), 0);
        assert_eq!(decode_packet_number(Some(0xff), 0x00, 8), 0x100);
    }

    #[test]
    fn rfc9001_a1_client_keys() {
        // RFC 9001 Appendix A.1: keys for DCID 0x8394c8f03e515708.
        let dcid = [0x83, 0x94, 0xc8, 0xf0, 0x3e, 0x51, 0x57, 0x08];
        let k = InitialKeys::new(super::super::version::params(1).unwrap(), &dcid);
        assert_eq!(hex::encode(k.client.iv), "fa044b2f42a3fd3b46fb255c");
        assert_eq!(hex::encode(k.server.iv), "0ac1493ca1905853b0bba03e");
    }

    #[test]
    fn rfc9369_a1_client_keys() {
        // RFC 9369 Appendix A.1: v2 keys for the same DCID.
        let dcid = [0x83, 0x94, 0xc8, 0xf0, 0x3e, 0x51, 0x57, 0x08];
        let k = InitialKeys::new(
            super::super::version::params(super::super::version::V2).unwrap(),
            &dcid,
        );
        assert_eq!(hex::encode(k.client.iv), "91f73e2351d8fa91660e909f");
        assert_eq!(hex::encode(k.server.iv), "dd13c276499c0249d3310652");
    }

    #[test]
    fn short_packets_are_rejected() {
        let k = InitialKeys::new(super::super::version::params(1).unwrap(), &[1, 2, 3, 4]);
        let mut p = [0xc0u8; 30];
        assert_eq!(open(&k.client, &mut p, 18, None), Err(OpenError::TooShort));
        let mut p = [0xc0u8; 60];
        assert_eq!(open(&k.client, &mut p, 10, None), Err(OpenError::Auth));
    }
}

//! Key derivation: the TLS 1.2 key block from a logged master secret and the
//! TLS 1.3 traffic keys from logged traffic secrets.
//!
//! The PRF and HKDF-Expand-Label are compositions of HMAC and HKDF from
//! RustCrypto; the few lines that compose them follow the RFC text, since no
//! maintained crate exposes the TLS PRF on its own.

use hkdf::Hkdf;
use hmac::digest::KeyInit;
use hmac::Hmac;
use md5::Md5;
use sha1::Sha1;
use sha2::{Sha256, Sha384};

use super::record::Opener;
use super::suite::{Aead, Hash, Protection, Suite12};

/// Longest TLS 1.2 key block: two 48-byte MAC keys, two 32-byte cipher keys,
/// two 16-byte IVs.
const MAX_KEY_BLOCK: usize = 2 * 48 + 2 * 32 + 2 * 16;

/// P_hash (RFC 5246 section 5), XORed into `out` so that the TLS 1.0/1.1
/// PRF can combine P_MD5 and P_SHA-1 in place.
fn p_hash<M>(secret: &[u8], label: &[u8], seeds: &[&[u8]], out: &mut [u8])
where
    M: hmac::Mac + KeyInit + Clone,
{
    let Ok(mac) = <M as KeyInit>::new_from_slice(secret) else {
        return; // unreachable: HMAC accepts keys of any length
    };
    // A(1) = HMAC(secret, label + seed)
    let mut m = mac.clone();
    m.update(label);
    for s in seeds {
        m.update(s);
    }
    let mut a = m.finalize().into_bytes();
    let mut pos = 0;
    while pos < out.len() {
        let mut m = mac.clone();
        m.update(&a);
        m.update(label);
        for s in seeds {
            m.update(s);
        }
        let block = m.finalize().into_bytes();
        for (o, b) in out[pos..].iter_mut().zip(block.iter()) {
            *o ^= b;
        }
        pos += block.len();
        let mut m = mac.clone();
        m.update(&a);
        a = m.finalize().into_bytes();
    }
}

/// The PRF of `version` (RFC 5246 section 5 for TLS 1.2; RFC 4346 section 5
/// for TLS 1.0 and 1.1, where it is P_MD5 XOR P_SHA-1 over the two halves of
/// the secret).
pub(crate) fn prf(
    version: u16,
    hash: Hash,
    secret: &[u8],
    label: &[u8],
    seeds: &[&[u8]],
    out: &mut [u8],
) {
    out.fill(0);
    if version >= 0x0303 {
        match hash {
            Hash::Sha256 => p_hash::<Hmac<Sha256>>(secret, label, seeds, out),
            Hash::Sha384 => p_hash::<Hmac<Sha384>>(secret, label, seeds, out),
        }
    } else {
        let half = secret.len().div_ceil(2);
        p_hash::<Hmac<Md5>>(&secret[..half], label, seeds, out);
        p_hash::<Hmac<Sha1>>(&secret[secret.len() - half..], label, seeds, out);
    }
}

/// The record openers of both directions of a TLS 1.0-1.2 connection:
/// key_block = PRF(master_secret, "key expansion", server_random +
/// client_random), partitioned as in RFC 5246 section 6.3.
pub(crate) fn tls12_openers(
    version: u16,
    suite: Suite12,
    etm: bool,
    master: &[u8],
    client_random: &[u8; 32],
    server_random: &[u8; 32],
) -> Option<(Opener, Opener)> {
    let (mac_len, key_len, iv_len) = match suite.protection {
        Protection::Aead(Aead::ChaCha20Poly1305) => (0, 32, 12), // RFC 7905 section 2
        Protection::Aead(a) => (0, a.key_len(), 4),              // RFC 5288 section 3
        Protection::Cbc { key_len, mac } => (mac.len(), key_len, 16),
    };
    let total = 2 * (mac_len + key_len + iv_len);
    let mut block = [0u8; MAX_KEY_BLOCK];
    let block = block.get_mut(..total)?;
    prf(
        version,
        suite.prf,
        master,
        b"key expansion",
        &[server_random, client_random],
        block,
    );
    let (client_mac, rest) = block.split_at(mac_len);
    let (server_mac, rest) = rest.split_at(mac_len);
    let (client_key, rest) = rest.split_at(key_len);
    let (server_key, rest) = rest.split_at(key_len);
    let (client_iv, server_iv) = rest.split_at(iv_len);
    let client = Opener::tls12(
        version,
        suite.protection,
        etm,
        client_mac,
        client_key,
        client_iv,
    )?;
    let server = Opener::tls12(
        version,
        suite.protection,
        etm,
        server_mac,
        server_key,
        server_iv,
    )?;
    Some((client, server))
}

/// HKDF-Expand-Label(secret, label, context, out.len()) (RFC 8446 section
/// 7.1). `None` when the secret is shorter than the hash (not a PRK).
pub(crate) fn expand_label(
    hash: Hash,
    secret: &[u8],
    label: &[u8],
    context: &[u8],
    out: &mut [u8],
) -> Option<()> {
    let len = u16::try_from(out.len()).ok()?;
    let label_len = u8::try_from(label.len().checked_add(6)?).ok()?;
    let context_len = u8::try_from(context.len()).ok()?;
    let len = len.to_be_bytes();
    let info: [&[u8]; 6] = [
        &len,
        &[label_len],
        b"tls13 ",
        label,
        &[context_len],
        context,
    ];
    match hash {
        Hash::Sha256 => Hkdf::<Sha256>::from_prk(secret)
            .ok()?
            .expand_multi_info(&info, out)
            .ok(),
        Hash::Sha384 => Hkdf::<Sha384>::from_prk(secret)
            .ok()?
            .expand_multi_info(&info, out)
            .ok(),
    }
}

/// The record opener for a TLS 1.3 traffic secret (RFC 8446 section 7.3).
pub(crate) fn tls13_opener(aead: Aead, hash: Hash, secret: &[u8]) -> Option<Opener> {
    let mut key = [0u8; 32];
    let key = &mut key[..aead.key_len()];
    let mut iv = [0u8; 12];
    expand_label(hash, secret, b"key", b"", key)?;
    expand_label(hash, secret, b"iv", b"", &mut iv)?;
    Opener::tls13(aead, key, iv)
}

/// application_traffic_secret_N+1 (RFC 8446 section 7.2).
pub(crate) fn next_secret(hash: Hash, secret: &[u8], out: &mut [u8; 48]) -> Option<usize> {
    let n = hash.len();
    expand_label(hash, secret, b"traffic upd", b"", &mut out[..n])?;
    Some(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unhex(s: &str) -> Vec<u8> {
        hex::decode(s.replace(' ', "")).unwrap()
    }

    #[test]
    fn rfc8448_traffic_keys() {
        // RFC 8448 section 3: {server} derive write traffic keys for handshake data.
        let secret = unhex(super::super::fixtures::rfc8448::SERVER_HS_SECRET);
        let mut key = [0u8; 16];
        let mut iv = [0u8; 12];
        expand_label(Hash::Sha256, &secret, b"key", b"", &mut key).unwrap();
        expand_label(Hash::Sha256, &secret, b"iv", b"", &mut iv).unwrap();
        assert_eq!(
            key.to_vec(),
            unhex("3f ce 51 60 09 c2 17 27 d0 f2 e4 e8 6e e4 03 bc")
        );
        assert_eq!(iv.to_vec(), unhex("5d 31 3e b2 67 12 76 ee 13 00 0b 30"));
        assert!(expand_label(Hash::Sha384, &secret, b"key", b"", &mut key).is_none());
    }

    #[test]
    fn tls12_prf_sha256_known_answer() {
        // The widely used TLS 1.2 PRF (SHA-256) test vector published on the
        // IETF TLS list (secret 9bbe..., seed a0ba..., label "test label").
        let mut out = [0u8; 100];
        prf(
            0x0303,
            Hash::Sha256,
            &unhex("9bbe436ba940f017b17652849a71db35"),
            b"test label",
            &[&unhex("a0ba9f936cda311827a6f796ffd5198c")],
            &mut out,
        );
        assert_eq!(
            hex::encode(out),
            "e3f229ba727be17b8d122620557cd453c2aab21d07c3d495329b52d4e61edb5a6b301791e90d35c9c9a46b4e14baf9af0fa022f7077def17abfd3797c0564bab4fbc91666e9def9b97fce34f796789baa48082d122ee42c5a72e5a5110fff70187347b66"
        );
    }
}

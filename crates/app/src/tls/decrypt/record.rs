//! Opening one protected record: AEAD (TLS 1.2 and 1.3) and AES-CBC with
//! HMAC (TLS 1.0-1.2, MAC-then-encrypt or encrypt-then-MAC).
//!
//! Every cipher and MAC is RustCrypto's; this file builds nonces and
//! additional data and checks MACs and padding as the RFCs lay them out.
//! Authentication always comes first: a record whose tag or MAC does not
//! verify yields no plaintext.

use aes::cipher::generic_array::GenericArray;
use aes::cipher::{BlockDecryptMut, InnerIvInit, KeyInit};
use aes::{Aes128, Aes256};
use aes_gcm::aead::AeadInPlace;
use aes_gcm::{Aes128Gcm, Aes256Gcm};
use chacha20poly1305::ChaCha20Poly1305;
use hmac::Hmac;
use sha1::Sha1;
use sha2::{Sha256, Sha384};
use std::ops::Range;

use super::suite::{Aead, Mac, Protection};

const TAG: usize = 16;
const BLOCK: usize = 16;

/// Why a record did not open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OpenError {
    /// Too short or badly shaped for this cipher.
    Malformed,
    /// The tag, MAC or padding did not verify.
    Auth,
}

/// A keyed AEAD.
#[derive(Clone)]
enum AeadKey {
    Aes128(Box<Aes128Gcm>),
    Aes256(Box<Aes256Gcm>),
    ChaCha(Box<ChaCha20Poly1305>),
}

impl AeadKey {
    fn new(aead: Aead, key: &[u8]) -> Option<Self> {
        Some(match aead {
            Aead::Aes128Gcm => Self::Aes128(Box::new(Aes128Gcm::new_from_slice(key).ok()?)),
            Aead::Aes256Gcm => Self::Aes256(Box::new(Aes256Gcm::new_from_slice(key).ok()?)),
            Aead::ChaCha20Poly1305 => {
                Self::ChaCha(Box::new(ChaCha20Poly1305::new_from_slice(key).ok()?))
            }
        })
    }

    fn open(&self, nonce: &[u8; 12], aad: &[u8], buf: &mut [u8], tag: &[u8]) -> bool {
        let nonce = GenericArray::from_slice(nonce);
        let tag = GenericArray::from_slice(tag);
        match self {
            Self::Aes128(c) => c.decrypt_in_place_detached(nonce, aad, buf, tag).is_ok(),
            Self::Aes256(c) => c.decrypt_in_place_detached(nonce, aad, buf, tag).is_ok(),
            Self::ChaCha(c) => c.decrypt_in_place_detached(nonce, aad, buf, tag).is_ok(),
        }
    }
}

/// A keyed AES block cipher for CBC.
#[derive(Clone)]
enum BlockKey {
    Aes128(Box<Aes128>),
    Aes256(Box<Aes256>),
}

impl BlockKey {
    /// CBC-decrypts `buf` (a whole number of blocks) in place.
    fn cbc_decrypt(&self, iv: &[u8], buf: &mut [u8]) {
        let blocks = buf
            .chunks_exact_mut(BLOCK)
            .map(GenericArray::from_mut_slice);
        match self {
            Self::Aes128(k) => {
                if let Ok(mut d) = cbc::Decryptor::<Aes128>::inner_iv_slice_init((**k).clone(), iv)
                {
                    blocks.for_each(|b| d.decrypt_block_mut(b));
                }
            }
            Self::Aes256(k) => {
                if let Ok(mut d) = cbc::Decryptor::<Aes256>::inner_iv_slice_init((**k).clone(), iv)
                {
                    blocks.for_each(|b| d.decrypt_block_mut(b));
                }
            }
        }
    }
}

#[derive(Clone)]
enum Kind {
    /// TLS 1.2 AES-GCM (RFC 5288 section 3): 4-byte salt + 8-byte explicit
    /// nonce carried in the record.
    Gcm12 { key: AeadKey, salt: [u8; 4] },
    /// TLS 1.2 ChaCha20-Poly1305 (RFC 7905 section 2) and every TLS 1.3
    /// AEAD (RFC 8446 section 5.3): the IV XOR the sequence number.
    XorNonce {
        key: AeadKey,
        iv: [u8; 12],
        tls13: bool,
    },
    /// AES-CBC + HMAC (RFC 5246 section 6.2.3.2, RFC 7366 for encrypt-then-MAC).
    Cbc {
        key: BlockKey,
        mac: Mac,
        mac_key: [u8; 48],
        etm: bool,
        /// TLS 1.0 (RFC 2246 section 6.2.3.2): the IV is the last ciphertext
        /// block of the previous record, not carried in the record.
        chained_iv: Option<[u8; BLOCK]>,
    },
}

/// Opens the records of one direction under one set of keys.
#[derive(Clone)]
pub(crate) struct Opener {
    kind: Kind,
}

impl std::fmt::Debug for Opener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Opener(..)") // keys stay out of logs
    }
}

/// A record that opened: its content type and where the content lies in the
/// work buffer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Opened {
    pub(crate) content_type: u8,
    pub(crate) range: Range<usize>,
}

fn xor_nonce(iv: &[u8; 12], seq: u64) -> [u8; 12] {
    let mut n = *iv;
    for (b, s) in n[4..].iter_mut().zip(seq.to_be_bytes()) {
        *b ^= s;
    }
    n
}

/// The TLS 1.0-1.2 MAC / AEAD additional data (RFC 5246 section 6.2.3.3):
/// seq_num + type + version + length.
fn aad12(seq: u64, header: &[u8; 5], len: usize) -> Option<[u8; 13]> {
    let mut a = [0u8; 13];
    a[..8].copy_from_slice(&seq.to_be_bytes());
    a[8..11].copy_from_slice(&header[..3]);
    a[11..].copy_from_slice(&u16::try_from(len).ok()?.to_be_bytes());
    Some(a)
}

fn hmac_ok(mac: Mac, key: &[u8], parts: &[&[u8]], want: &[u8]) -> bool {
    fn run<M: hmac::Mac + hmac::digest::KeyInit>(key: &[u8], parts: &[&[u8]], want: &[u8]) -> bool {
        let Ok(mut m) = <M as hmac::digest::KeyInit>::new_from_slice(key) else {
            return false;
        };
        for p in parts {
            m.update(p);
        }
        m.verify_slice(want).is_ok()
    }
    match mac {
        Mac::Sha1 => run::<Hmac<Sha1>>(key, parts, want),
        Mac::Sha256 => run::<Hmac<Sha256>>(key, parts, want),
        Mac::Sha384 => run::<Hmac<Sha384>>(key, parts, want),
    }
}

/// Checks TLS CBC padding (RFC 5246 section 6.2.3.2): the last byte is the
/// padding length and every padding byte repeats it. Returns the length
/// without padding.
fn unpad(p: &[u8]) -> Option<usize> {
    let (&n, _) = p.split_last()?;
    let total = usize::from(n) + 1;
    let start = p.len().checked_sub(total)?;
    p[start..].iter().all(|&b| b == n).then_some(start)
}

impl Opener {
    pub(crate) fn tls12(
        version: u16,
        protection: Protection,
        etm: bool,
        mac_key: &[u8],
        key: &[u8],
        iv: &[u8],
    ) -> Option<Self> {
        let kind = match protection {
            Protection::Aead(Aead::ChaCha20Poly1305) => Kind::XorNonce {
                key: AeadKey::new(Aead::ChaCha20Poly1305, key)?,
                iv: iv.try_into().ok()?,
                tls13: false,
            },
            Protection::Aead(a) => Kind::Gcm12 {
                key: AeadKey::new(a, key)?,
                salt: iv.try_into().ok()?,
            },
            Protection::Cbc { key_len, mac } => {
                let block = match key_len {
                    16 => BlockKey::Aes128(Box::new(Aes128::new_from_slice(key).ok()?)),
                    _ => BlockKey::Aes256(Box::new(Aes256::new_from_slice(key).ok()?)),
                };
                let mut k = [0u8; 48];
                k.get_mut(..mac_key.len())?.copy_from_slice(mac_key);
                Kind::Cbc {
                    key: block,
                    mac,
                    mac_key: k,
                    etm,
                    chained_iv: (version < 0x0302).then(|| iv.try_into().ok()).flatten(),
                }
            }
        };
        Some(Self { kind })
    }

    pub(crate) fn tls13(aead: Aead, key: &[u8], iv: [u8; 12]) -> Option<Self> {
        Some(Self {
            kind: Kind::XorNonce {
                key: AeadKey::new(aead, key)?,
                iv,
                tls13: true,
            },
        })
    }

    /// Whether the record can be re-tried at other sequence numbers without
    /// changing state (TLS 1.0's chained IV cannot).
    pub(crate) fn retryable(&self) -> bool {
        !matches!(
            self.kind,
            Kind::Cbc {
                chained_iv: Some(_),
                ..
            }
        )
    }

    /// For TLS 1.2 GCM: the explicit nonce, which most implementations set to
    /// the sequence number — a hint when resynchronising.
    pub(crate) fn explicit_nonce(&self, body: &[u8]) -> Option<u64> {
        match self.kind {
            Kind::Gcm12 { .. } => Some(u64::from_be_bytes(body.get(..8)?.try_into().ok()?)),
            _ => None,
        }
    }

    /// Opens the record with header `header` and body `body` at sequence
    /// number `seq`; the plaintext is left in `work`.
    pub(crate) fn open(
        &mut self,
        seq: u64,
        header: &[u8; 5],
        body: &[u8],
        work: &mut Vec<u8>,
    ) -> Result<Opened, OpenError> {
        work.clear();
        match &mut self.kind {
            Kind::Gcm12 { key, salt } => {
                let len = body
                    .len()
                    .checked_sub(8 + TAG)
                    .ok_or(OpenError::Malformed)?;
                let (explicit, rest) = body.split_at(8);
                let (ct, tag) = rest.split_at(len);
                let mut nonce = [0u8; 12];
                nonce[..4].copy_from_slice(salt);
                nonce[4..].copy_from_slice(explicit);
                let aad = aad12(seq, header, len).ok_or(OpenError::Malformed)?;
                work.extend_from_slice(ct);
                if !key.open(&nonce, &aad, work, tag) {
                    return Err(OpenError::Auth);
                }
                Ok(Opened {
                    content_type: header[0],
                    range: 0..len,
                })
            }
            Kind::XorNonce { key, iv, tls13 } => {
                let len = body.len().checked_sub(TAG).ok_or(OpenError::Malformed)?;
                let (ct, tag) = body.split_at(len);
                let nonce = xor_nonce(iv, seq);
                work.extend_from_slice(ct);
                if *tls13 {
                    // RFC 8446 section 5.2: the additional data is the record header.
                    if !key.open(&nonce, header, work, tag) {
                        return Err(OpenError::Auth);
                    }
                    // TLSInnerPlaintext: content, then the real type, then zeros.
                    let end = work
                        .iter()
                        .rposition(|&b| b != 0)
                        .ok_or(OpenError::Malformed)?;
                    Ok(Opened {
                        content_type: work[end],
                        range: 0..end,
                    })
                } else {
                    let aad = aad12(seq, header, len).ok_or(OpenError::Malformed)?;
                    if !key.open(&nonce, &aad, work, tag) {
                        return Err(OpenError::Auth);
                    }
                    Ok(Opened {
                        content_type: header[0],
                        range: 0..len,
                    })
                }
            }
            Kind::Cbc {
                key,
                mac,
                mac_key,
                etm,
                chained_iv,
            } => {
                let mac_len = mac.len();
                let mac_key = &mac_key[..mac_len];
                let (iv, rest): ([u8; BLOCK], &[u8]) = match chained_iv {
                    Some(iv) => (*iv, body),
                    None => {
                        let iv = body.get(..BLOCK).ok_or(OpenError::Malformed)?;
                        (
                            iv.try_into().map_err(|_| OpenError::Malformed)?,
                            &body[BLOCK..],
                        )
                    }
                };
                if *etm {
                    // RFC 7366 section 3: MAC over the IV and ciphertext, checked first.
                    let ct_len = rest
                        .len()
                        .checked_sub(mac_len)
                        .ok_or(OpenError::Malformed)?;
                    let (ct, tag) = rest.split_at(ct_len);
                    if ct.is_empty() || ct.len() % BLOCK != 0 {
                        return Err(OpenError::Malformed);
                    }
                    let covered = body.len() - mac_len;
                    let aad = aad12(seq, header, covered).ok_or(OpenError::Malformed)?;
                    if !hmac_ok(*mac, mac_key, &[&aad, &body[..covered]], tag) {
                        return Err(OpenError::Auth);
                    }
                    work.extend_from_slice(ct);
                    key.cbc_decrypt(&iv, work);
                    let len = unpad(work).ok_or(OpenError::Auth)?;
                    if let Some(c) = chained_iv {
                        c.copy_from_slice(&ct[ct.len() - BLOCK..]);
                    }
                    return Ok(Opened {
                        content_type: header[0],
                        range: 0..len,
                    });
                }
                // MAC-then-encrypt: decrypt, strip padding, then check the MAC.
                if rest.is_empty() || rest.len() % BLOCK != 0 || rest.len() < mac_len + 1 {
                    return Err(OpenError::Malformed);
                }
                work.extend_from_slice(rest);
                key.cbc_decrypt(&iv, work);
                let unpadded = unpad(work).ok_or(OpenError::Auth)?;
                let len = unpadded.checked_sub(mac_len).ok_or(OpenError::Auth)?;
                let aad = aad12(seq, header, len).ok_or(OpenError::Malformed)?;
                if !hmac_ok(*mac, mac_key, &[&aad, &work[..len]], &work[len..unpadded]) {
                    return Err(OpenError::Auth);
                }
                if let Some(c) = chained_iv {
                    c.copy_from_slice(&rest[rest.len() - BLOCK..]);
                }
                Ok(Opened {
                    content_type: header[0],
                    range: 0..len,
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::rfc8448 as v;
    use super::*;

    fn unhex(s: &str) -> Vec<u8> {
        hex::decode(s.replace([' ', '\n'], "")).unwrap()
    }

    fn open13(key: &str, iv: &str, seq: u64, record: &str) -> Result<(u8, Vec<u8>), OpenError> {
        let iv: [u8; 12] = unhex(iv).try_into().unwrap();
        let mut o = Opener::tls13(Aead::Aes128Gcm, &unhex(key), iv).unwrap();
        let rec = unhex(record);
        let header: [u8; 5] = rec[..5].try_into().unwrap();
        let mut work = Vec::new();
        let r = o.open(seq, &header, &rec[5..], &mut work)?;
        Ok((r.content_type, work[r.range].to_vec()))
    }

    #[test]
    fn rfc8448_records_with_published_keys() {
        let payload: Vec<u8> = (0..50).collect();
        let cases = [
            (
                v::CLIENT_APP_KEY,
                v::CLIENT_APP_IV,
                0,
                v::CLIENT_APP_RECORD,
                23,
                Some(&payload[..]),
            ),
            (
                v::SERVER_APP_KEY,
                v::SERVER_APP_IV,
                1,
                v::SERVER_APP_RECORD,
                23,
                Some(&payload[..]),
            ),
            (
                v::CLIENT_HS_KEY,
                v::CLIENT_HS_IV,
                0,
                v::CLIENT_FINISHED_RECORD,
                22,
                None,
            ),
        ];
        for (key, iv, seq, record, ty, want) in cases {
            let (t, plain) = open13(key, iv, seq, record).unwrap();
            assert_eq!(t, ty);
            if let Some(w) = want {
                assert_eq!(plain, w);
            } else {
                assert_eq!(&plain[..4], &[20, 0, 0, 32]);
            }
            // The wrong sequence number never yields plaintext.
            assert_eq!(open13(key, iv, seq + 1, record), Err(OpenError::Auth));
        }
    }

    #[test]
    fn short_and_tampered_records() {
        let mut rec = unhex(v::CLIENT_APP_RECORD);
        let last = rec.len() - 1;
        rec[last] ^= 1;
        let iv: [u8; 12] = unhex(v::CLIENT_APP_IV).try_into().unwrap();
        let mut o = Opener::tls13(Aead::Aes128Gcm, &unhex(v::CLIENT_APP_KEY), iv).unwrap();
        let header: [u8; 5] = rec[..5].try_into().unwrap();
        let mut work = Vec::new();
        assert_eq!(
            o.open(0, &header, &rec[5..], &mut work),
            Err(OpenError::Auth)
        );
        assert_eq!(
            o.open(0, &header, &rec[5..10], &mut work),
            Err(OpenError::Malformed)
        );
        let cbc = Protection::Cbc {
            key_len: 16,
            mac: Mac::Sha1,
        };
        for etm in [false, true] {
            let mut o = Opener::tls12(0x0303, cbc, etm, &[1; 20], &[2; 16], &[0; 16]).unwrap();
            for len in [0usize, 15, 16, 17, 32, 48, 64] {
                let r = o.open(0, &[23, 3, 3, 0, 0], &vec![0xa5; len], &mut work);
                assert!(r.is_err(), "etm {etm} len {len}");
            }
        }
    }

    #[test]
    fn padding() {
        let cases: &[(&[u8], Option<usize>)] = &[
            (&[1, 2, 3, 0], Some(3)),
            (&[1, 2, 2, 2], Some(1)),
            (&[1, 1, 2, 2], None),
            (&[3, 3, 3], None),
            (&[], None),
        ];
        for (p, want) in cases {
            assert_eq!(unpad(p), *want, "{p:?}");
        }
    }
}

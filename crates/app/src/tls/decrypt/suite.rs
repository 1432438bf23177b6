//! Cipher suites the decryptor supports, by IANA code (TLS Cipher Suites
//! registry): what record protection and which PRF hash each one uses.

/// The hash of the TLS 1.2 PRF (RFC 5246 section 5) or the TLS 1.3 HKDF.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Hash {
    Sha256,
    Sha384,
}

impl Hash {
    pub(crate) fn len(self) -> usize {
        match self {
            Self::Sha256 => 32,
            Self::Sha384 => 48,
        }
    }
}

/// An AEAD algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Aead {
    Aes128Gcm,
    Aes256Gcm,
    ChaCha20Poly1305,
}

impl Aead {
    pub(crate) fn key_len(self) -> usize {
        match self {
            Self::Aes128Gcm => 16,
            Self::Aes256Gcm | Self::ChaCha20Poly1305 => 32,
        }
    }
}

/// The HMAC hash of a CBC suite.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mac {
    Sha1,
    Sha256,
    Sha384,
}

impl Mac {
    pub(crate) fn len(self) -> usize {
        match self {
            Self::Sha1 => 20,
            Self::Sha256 => 32,
            Self::Sha384 => 48,
        }
    }
}

/// Record protection of a suite.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Protection {
    Aead(Aead),
    /// AES-CBC with a 16- or 32-byte key and an HMAC.
    Cbc {
        key_len: usize,
        mac: Mac,
    },
}

/// A TLS 1.2-and-earlier suite.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Suite12 {
    pub(crate) protection: Protection,
    /// PRF hash for TLS 1.2 (TLS 1.0/1.1 always use MD5+SHA-1).
    pub(crate) prf: Hash,
}

/// The suites of TLS 1.2 and earlier, by key exchange family: RSA, DHE-DSS,
/// DHE-RSA, ECDH-ECDSA, ECDHE-ECDSA, ECDH-RSA, ECDHE-RSA, PSK, DHE-PSK,
/// ECDHE-PSK (RFC 5246, 5288, 5289, 4492, 5487, 5489, 7905, 8442).
pub(crate) fn tls12(code: u16) -> Option<Suite12> {
    use Hash::{Sha256, Sha384};
    let cbc = |key_len, mac| Protection::Cbc { key_len, mac };
    let (protection, prf) =
        match code {
            // AES_128_GCM_SHA256
            0x009c | 0x009e | 0x00a2 | 0x00a8 | 0x00aa | 0xc02b | 0xc02d | 0xc02f | 0xc031
            | 0xd001 => (Protection::Aead(Aead::Aes128Gcm), Sha256),
            // AES_256_GCM_SHA384
            0x009d | 0x009f | 0x00a3 | 0x00a9 | 0x00ab | 0xc02c | 0xc02e | 0xc030 | 0xc032
            | 0xd002 => (Protection::Aead(Aead::Aes256Gcm), Sha384),
            // CHACHA20_POLY1305_SHA256 (RFC 7905)
            0xcca8..=0xccad => (Protection::Aead(Aead::ChaCha20Poly1305), Sha256),
            // AES_128_CBC_SHA
            0x002f | 0x0030 | 0x0031 | 0x0032 | 0x0033 | 0x008c | 0x0090 | 0xc004 | 0xc009
            | 0xc00e | 0xc013 | 0xc035 => (cbc(16, Mac::Sha1), Sha256),
            // AES_256_CBC_SHA
            0x0035 | 0x0036 | 0x0037 | 0x0038 | 0x0039 | 0x008d | 0x0091 | 0xc005 | 0xc00a
            | 0xc00f | 0xc014 | 0xc036 => (cbc(32, Mac::Sha1), Sha256),
            // AES_128_CBC_SHA256
            0x003c | 0x003e | 0x003f | 0x0040 | 0x0067 | 0x00ae | 0x00b2 | 0xc023 | 0xc025
            | 0xc027 | 0xc029 | 0xc037 => (cbc(16, Mac::Sha256), Sha256),
            // AES_256_CBC_SHA256
            0x003d | 0x0068 | 0x0069 | 0x006a | 0x006b => (cbc(32, Mac::Sha256), Sha256),
            // AES_256_CBC_SHA384
            0x00af | 0x00b3 | 0xc024 | 0xc026 | 0xc028 | 0xc02a | 0xc038 => {
                (cbc(32, Mac::Sha384), Sha384)
            }
            _ => return None,
        };
    Some(Suite12 { protection, prf })
}

/// The TLS 1.3 suites (RFC 8446 appendix B.4) other than the CCM ones.
pub(crate) fn tls13(code: u16) -> Option<(Aead, Hash)> {
    match code {
        0x1301 => Some((Aead::Aes128Gcm, Hash::Sha256)),
        0x1302 => Some((Aead::Aes256Gcm, Hash::Sha384)),
        0x1303 => Some((Aead::ChaCha20Poly1305, Hash::Sha256)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table() {
        let cases = [
            (
                0xc02f,
                Some(Protection::Aead(Aead::Aes128Gcm)),
                Hash::Sha256,
            ),
            (
                0xc030,
                Some(Protection::Aead(Aead::Aes256Gcm)),
                Hash::Sha384,
            ),
            (
                0xcca9,
                Some(Protection::Aead(Aead::ChaCha20Poly1305)),
                Hash::Sha256,
            ),
            (
                0xc013,
                Some(Protection::Cbc {
                    key_len: 16,
                    mac: Mac::Sha1,
                }),
                Hash::Sha256,
            ),
            (
                0xc028,
                Some(Protection::Cbc {
                    key_len: 32,
                    mac: Mac::Sha384,
                }),
                Hash::Sha384,
            ),
            (0x000a, None, Hash::Sha256), // 3DES: not supported
        ];
        for (code, protection, prf) in cases {
            let got = tls12(code);
            assert_eq!(got.map(|s| s.protection), protection, "{code:04x}");
            if let Some(s) = got {
                assert_eq!(s.prf, prf, "{code:04x}");
            }
        }
        assert_eq!(tls13(0x1302), Some((Aead::Aes256Gcm, Hash::Sha384)));
        assert_eq!(tls13(0x1304), None);
    }
}

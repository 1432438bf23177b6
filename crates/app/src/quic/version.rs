//! QUIC versions: which Initial salt and labels each uses, and their names.

/// How a version protects its Initial packets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Params {
    /// initial_salt for HKDF-Extract (RFC 9001 section 5.2).
    pub(crate) salt: &'static [u8; 20],
    /// RFC 9369: "quicv2 " labels and the rotated long-header type bits.
    pub(crate) v2: bool,
}

pub(crate) const V1: u32 = 0x0000_0001;
pub(crate) const V2: u32 = 0x6b33_43cf;

/// RFC 9001 section 5.2 (also drafts 33 and 34).
const SALT_V1: [u8; 20] = hex20(*b"38762cf7f55934b34d179ae6a4c80cadccbb7f0a");
/// RFC 9369 section 3.3.1.
const SALT_V2: [u8; 20] = hex20(*b"0dede3def700a6db819381be6e269dcbf9bd2ed9");
/// draft-ietf-quic-tls-29 to -32 section 5.2.
const SALT_D29: [u8; 20] = hex20(*b"afbfec289993d24c9e9786f19c6111e04390a899");
/// draft-ietf-quic-tls-23 to -28 section 5.2.
const SALT_D23: [u8; 20] = hex20(*b"c3eef712c72ebb5a11a7d2432bb46365bef9f502");
/// draft-ietf-quic-tls-21 and -22 section 5.2.
const SALT_D21: [u8; 20] = hex20(*b"7fbcdb0e7c66bbe9193a96cd21519ebd7a02644a");
/// draft-ietf-quic-tls-17 to -20 section 5.2 (header protection appeared in 17).
const SALT_D17: [u8; 20] = hex20(*b"ef4fb0abb47470c41befcf8031334fae485e09a0");
/// Google QUIC T050 and T051 (TLS inside IETF-style Initials), as Wireshark
/// and ipfixprobe define them.
const SALT_T050: [u8; 20] = hex20(*b"7ff579e5acd072915580304c43a2367c60488310");
const SALT_T051: [u8; 20] = hex20(*b"7a4edef4e7ccee5fa4506c19124fc8ccda6e033d");

/// Decodes 40 hex digits at compile time.
const fn hex20(s: [u8; 40]) -> [u8; 20] {
    const fn nib(c: u8) -> u8 {
        match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            _ => panic!("bad hex digit in salt constant"),
        }
    }
    let mut out = [0u8; 20];
    let mut i = 0;
    while i < 20 {
        out[i] = nib(s[2 * i]) << 4 | nib(s[2 * i + 1]);
        i += 1;
    }
    out
}

/// The IETF draft number a version speaks, as Wireshark maps them: drafts are
/// 0xff0000NN; Facebook's mvfst versions follow draft 22 (0xfaceb001) or 27.
fn draft(v: u32) -> Option<u32> {
    match v {
        0xff00_0000..=0xff00_00ff => Some(v & 0xff),
        0xface_b001 => Some(22),
        0xface_b002 | 0xface_b00e => Some(27),
        _ => None,
    }
}

/// Initial protection parameters for `version`, or `None` if we cannot
/// derive its Initial keys.
pub(crate) fn params(version: u32) -> Option<Params> {
    let salt = match version {
        V1 => &SALT_V1,
        V2 => {
            return Some(Params {
                salt: &SALT_V2,
                v2: true,
            })
        }
        0x5430_3530 => &SALT_T050,
        0x5430_3531 => &SALT_T051,
        _ => match draft(version)? {
            17..=20 => &SALT_D17,
            21..=22 => &SALT_D21,
            23..=28 => &SALT_D23,
            29..=32 => &SALT_D29,
            33..=34 => &SALT_V1,
            _ => return None,
        },
    };
    Some(Params { salt, v2: false })
}

/// Reserved versions used to force version negotiation (RFC 9000 section 15).
pub(crate) fn is_reserved(v: u32) -> bool {
    v & 0x0f0f_0f0f == 0x0a0a_0a0a
}

/// Human name of a QUIC version.
pub fn version_name(v: u32) -> String {
    let b = v.to_be_bytes();
    match v {
        0 => "negotiation".to_owned(),
        V1 => "v1".to_owned(),
        V2 => "v2".to_owned(),
        0xff00_0000..=0xff00_00ff => format!("draft-{}", v & 0xff),
        0xface_b001 => "mvfst-draft-22".to_owned(),
        0xface_b002 => "mvfst-draft-27".to_owned(),
        0xface_b00e => "mvfst-experimental".to_owned(),
        0xface_b000..=0xface_b0ff => format!("mvfst-0x{v:08x}"),
        _ if matches!(b[0], b'Q' | b'T') && b[1..].iter().all(u8::is_ascii_digit) => {
            String::from_utf8_lossy(&b).into_owned()
        }
        _ if is_reserved(v) => format!("reserved-0x{v:08x}"),
        _ => format!("0x{v:08x}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        let cases = [
            (1, "v1"),
            (0x6b33_43cf, "v2"),
            (0xff00_001d, "draft-29"),
            (0xface_b002, "mvfst-draft-27"),
            (0x5430_3531, "T051"),
            (0x1a2a_3a4a, "reserved-0x1a2a3a4a"),
            (0x1234_5678, "0x12345678"),
        ];
        for (v, want) in cases {
            assert_eq!(version_name(v), want);
        }
    }

    #[test]
    fn salts_by_version() {
        assert_eq!(params(V1).map(|p| p.salt[0]), Some(0x38));
        assert_eq!(params(0xff00_0020).map(|p| p.salt[0]), Some(0xaf));
        assert_eq!(params(0xff00_001b).map(|p| p.salt[0]), Some(0xc3));
        assert_eq!(params(0xface_b002).map(|p| p.salt[0]), Some(0xc3));
        assert_eq!(params(0xface_b001).map(|p| p.salt[0]), Some(0x7f));
        assert_eq!(params(0x5430_3530).map(|p| p.salt[19]), Some(0x10));
        assert!(params(V2).is_some_and(|p| p.v2));
        assert_eq!(params(0xff00_0010), None);
        assert_eq!(params(0x0a0a_0a0a), None);
    }
}

//! Decryption Secrets Block (draft-ietf-opsawg-pcapng section 4.7): key material (TLS key
//! logs, WireGuard keys...) embedded in the capture, e.g. by `editcap --inject-secrets`.

use std::ops::Range;

use crate::pcap::u32_at;

pub(crate) const TYPE: u32 = 0x0000_000a;

/// The secrets type and the range of the secrets data within the body.
pub(crate) fn parse(body: &[u8], be: bool) -> Result<(u32, Range<usize>), String> {
    if body.len() < 8 {
        return Err(format!("body is {} bytes, needs 8", body.len()));
    }
    let secrets_type = u32_at(body, 0, be);
    let len = u32_at(body, 4, be) as usize;
    let room = body.len() - 8;
    if len > room {
        return Err(format!(
            "secrets length {len} exceeds the {room} bytes of the block"
        ));
    }
    Ok((secrets_type, 8..8 + len))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths() {
        let mut body = 0x544c_534bu32.to_be_bytes().to_vec();
        body.extend_from_slice(&3u32.to_be_bytes());
        body.extend_from_slice(b"key\0");
        assert_eq!(parse(&body, true).unwrap(), (0x544c_534b, 8..11));
        body[7] = 5;
        assert!(parse(&body, true).is_err());
        assert!(parse(&body[..7], true).is_err());
    }
}

//! Section Header Block (draft-ietf-opsawg-pcapng section 4.1): starts a section, fixes its
//! byte order and resets its interfaces.

use crate::pcap::u16_at;

pub(crate) const TYPE: u32 = 0x0a0d_0d0a;
/// Reads as this in the section's own byte order.
pub(crate) const BYTE_ORDER_MAGIC: u32 = 0x1a2b_3c4d;

/// Checks the fixed part: byte-order magic (already used by the caller), major and minor
/// version, section length. Options (hardware, OS, application) are not needed.
pub(crate) fn parse(body: &[u8], big_endian: bool) -> Result<(), String> {
    if body.len() < 16 {
        return Err(format!(
            "section header body is {} bytes, needs 16",
            body.len()
        ));
    }
    let major = u16_at(body, 4, big_endian);
    let minor = u16_at(body, 6, big_endian);
    // Section 4.1: readers must reject major versions they do not know; 1.0 and 1.2 both
    // exist in the wild and read the same.
    if major != 1 {
        return Err(format!("pcapng version {major}.{minor} is not supported"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions() {
        let body = |major: u16, minor: u16| {
            let mut b = BYTE_ORDER_MAGIC.to_le_bytes().to_vec();
            b.extend_from_slice(&major.to_le_bytes());
            b.extend_from_slice(&minor.to_le_bytes());
            b.extend_from_slice(&(-1i64).to_le_bytes());
            b
        };
        assert!(parse(&body(1, 0), false).is_ok());
        assert!(parse(&body(1, 2), false).is_ok());
        assert!(parse(&body(2, 0), false).is_err());
        assert!(parse(&body(1, 0)[..15], false).is_err());
    }
}

//! Simple Packet Block (draft-ietf-opsawg-pcapng section 4.4): original length and data,
//! no interface id (always the section's first) and no timestamp.

use std::ops::Range;

use crate::pcap::u32_at;

pub(crate) const TYPE: u32 = 3;

/// The data range within the body and the original length. Section 4.4: the captured
/// length is the smallest of the original length, the room in the block and the snap length.
pub(crate) fn parse(body: &[u8], be: bool, snaplen: u32) -> Result<(Range<usize>, u32), String> {
    if body.len() < 4 {
        return Err(format!("body is {} bytes, needs 4", body.len()));
    }
    let orig_len = u32_at(body, 0, be);
    let mut cap = (orig_len as usize).min(body.len() - 4);
    if snaplen != 0 {
        cap = cap.min(snaplen as usize);
    }
    Ok((4..4 + cap, orig_len))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn captured_length_is_the_smallest() {
        let mut body = 5u32.to_le_bytes().to_vec();
        body.extend_from_slice(b"abcdefgh");
        // (snaplen, expected data range)
        for (snaplen, want) in [(0, 4..9), (3, 4..7), (100, 4..9)] {
            assert_eq!(parse(&body, false, snaplen).unwrap(), (want, 5));
        }
        let mut big = 100u32.to_be_bytes().to_vec();
        big.extend_from_slice(b"abcd");
        assert_eq!(parse(&big, true, 0).unwrap(), (4..8, 100));
        assert!(parse(&[0, 0], false, 0).is_err());
    }
}

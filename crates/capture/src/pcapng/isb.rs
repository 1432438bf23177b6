//! Interface Statistics Block (draft-ietf-opsawg-pcapng section 4.6): counters written at
//! the end of a capture. Only the interface id is checked; the counters are not used.

use crate::pcap::u32_at;

pub(crate) const TYPE: u32 = 5;

/// The interface id the statistics are for.
pub(crate) fn parse(body: &[u8], be: bool) -> Result<u32, String> {
    if body.len() < 12 {
        return Err(format!("body is {} bytes, needs 12", body.len()));
    }
    Ok(u32_at(body, 0, be))
}

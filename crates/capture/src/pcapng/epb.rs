//! Enhanced Packet Block (draft-ietf-opsawg-pcapng section 4.3): the usual packet record.

use std::ops::Range;

use super::{first_comment, padded};
use crate::pcap::u32_at;

pub(crate) const TYPE: u32 = 6;

/// A packet; ranges are within the block body.
pub(crate) struct Epb {
    pub(crate) interface: u32,
    /// Timestamp in the interface's units.
    pub(crate) ts: u64,
    pub(crate) data: Range<usize>,
    pub(crate) orig_len: u32,
    pub(crate) comment: Option<Range<usize>>,
}

pub(crate) fn parse(body: &[u8], be: bool) -> Result<Epb, String> {
    const FIXED: usize = 20;
    if body.len() < FIXED {
        return Err(format!("body is {} bytes, needs {FIXED}", body.len()));
    }
    let interface = u32_at(body, 0, be);
    let ts = u64::from(u32_at(body, 4, be)) << 32 | u64::from(u32_at(body, 8, be));
    let cap_len = u32_at(body, 12, be) as usize;
    let orig_len = u32_at(body, 16, be);
    let room = body.len() - FIXED;
    if cap_len > room {
        return Err(format!(
            "captured length {cap_len} exceeds the {room} bytes of the block"
        ));
    }
    let data = FIXED..FIXED + cap_len;
    let opts_at = (FIXED + padded(cap_len)).min(body.len());
    let comment = first_comment(&body[opts_at..], be).map(|r| opts_at + r.start..opts_at + r.end);
    Ok(Epb {
        interface,
        ts,
        data,
        orig_len,
        comment,
    })
}

//! Packet Block (draft-ietf-opsawg-pcapng appendix A): obsolete, replaced by the Enhanced
//! Packet Block, but still written by old tools. Its interface id is 16 bits, followed by a
//! 16-bit drop count.

use std::ops::Range;

use super::{first_comment, padded};
use crate::pcap::{u16_at, u32_at};

pub(crate) const TYPE: u32 = 2;

/// A packet; ranges are within the block body.
pub(crate) struct Pb {
    pub(crate) interface: u16,
    pub(crate) ts: u64,
    pub(crate) data: Range<usize>,
    pub(crate) orig_len: u32,
    pub(crate) comment: Option<Range<usize>>,
}

pub(crate) fn parse(body: &[u8], be: bool) -> Result<Pb, String> {
    const FIXED: usize = 20;
    if body.len() < FIXED {
        return Err(format!("body is {} bytes, needs {FIXED}", body.len()));
    }
    let interface = u16_at(body, 0, be);
    let ts = u64::from(u32_at(body, 4, be)) << 32 | u64::from(u32_at(body, 8, be));
    let cap_len = u32_at(body, 12, be) as usize;
    let orig_len = u32_at(body, 16, be);
    let room = body.len() - FIXED;
    if cap_len > room {
        return Err(format!(
            "captured length {cap_len} exceeds the {room} bytes of the block"
        ));
    }
    let opts_at = (FIXED + padded(cap_len)).min(body.len());
    let comment = first_comment(&body[opts_at..], be).map(|r| opts_at + r.start..opts_at + r.end);
    Ok(Pb {
        interface,
        ts,
        data: FIXED..FIXED + cap_len,
        orig_len,
        comment,
    })
}

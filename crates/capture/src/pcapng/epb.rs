//! Enhanced Packet Block (draft-ietf-opsawg-pcapng section 4.3): the usual packet record.

use std::ops::Range;

use super::{first_comment, padded, Options};
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
    /// The process behind the packet, from Apple's or the standard options.
    pub(crate) process: Option<ProcessRef>,
}

/// How a packet names its process.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ProcessRef {
    /// Number of a Darwin Process Info Block in the section (Apple's option 0x8001, or
    /// 0x8003 for the "effective" process when 0x8001 is absent).
    Darwin(u32),
    /// A process id without a name (option 8, `epb_processid_threadid`).
    Pid(u32),
}

const OPT_PROCESS_THREAD: u16 = 8;
const OPT_DARWIN_DPIB_ID: u16 = 0x8001;
const OPT_DARWIN_EDPIB_ID: u16 = 0x8003;

fn process(options: &[u8], be: bool) -> Option<ProcessRef> {
    let mut effective = None;
    let mut pid = None;
    for (code, r) in Options::new(options, be) {
        let Some(v) = options.get(r.clone()).filter(|v| v.len() >= 4) else {
            continue;
        };
        let value = u32_at(v, 0, be);
        match code {
            OPT_DARWIN_DPIB_ID => return Some(ProcessRef::Darwin(value)),
            OPT_DARWIN_EDPIB_ID => effective = Some(value),
            OPT_PROCESS_THREAD => pid = Some(value),
            _ => {}
        }
    }
    effective
        .map(ProcessRef::Darwin)
        .or(pid.map(ProcessRef::Pid))
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
    let process = process(&body[opts_at..], be);
    Ok(Epb {
        interface,
        ts,
        data,
        orig_len,
        comment,
        process,
    })
}

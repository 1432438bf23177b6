//! Interface Description Block (draft-ietf-opsawg-pcapng section 4.2): link type, snap
//! length and the options that change how timestamps read.

use super::Options;
use crate::pcap::{u16_at, u32_at};
use crate::reader::Interface;
use crate::LinkType;

pub(crate) const TYPE: u32 = 1;

const IF_NAME: u16 = 2;
const IF_DESCRIPTION: u16 = 3;
const IF_TSRESOL: u16 = 9;
const IF_TSOFFSET: u16 = 14;

/// Longest interface name or description kept, in bytes.
const MAX_TEXT: usize = 1024;

/// The interface, and whether its options were damaged (those before the damage are kept).
pub(crate) fn parse(body: &[u8], be: bool) -> Result<(Interface, bool), String> {
    if body.len() < 8 {
        return Err(format!(
            "interface description body is {} bytes, needs 8",
            body.len()
        ));
    }
    let link = LinkType(u16_at(body, 0, be));
    let snaplen = u32_at(body, 4, be);
    // Section 4.2: without if_tsresol, timestamps are in microseconds.
    let mut interface = Interface::new(link, snaplen, 6);
    let mut options = Options::new(&body[8..], be);
    let text = |v: &[u8]| {
        let v = &v[..v.len().min(MAX_TEXT)];
        String::from_utf8_lossy(v)
            .trim_end_matches('\0')
            .to_string()
    };
    for (code, range) in options.by_ref() {
        let value = &body[8..][range];
        match (code, value) {
            (IF_NAME, v) => interface.name = Some(text(v)),
            (IF_DESCRIPTION, v) => interface.description = Some(text(v)),
            (IF_TSRESOL, &[r, ..]) => interface.ts_resolution = r,
            (IF_TSOFFSET, &[a, b, c, d, e, f, g, h, ..]) => {
                let bytes = [a, b, c, d, e, f, g, h];
                interface.ts_offset = if be {
                    i64::from_be_bytes(bytes)
                } else {
                    i64::from_le_bytes(bytes)
                };
            }
            _ => {}
        }
    }
    Ok((interface, options.damaged))
}

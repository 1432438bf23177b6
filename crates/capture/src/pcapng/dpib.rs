//! Darwin Process Info Block (block type 0x80000001): the processes Apple's tcpdump (`-k`),
//! PacketLogger and rvictl captures name per packet. Its body is a 32-bit process id followed
//! by options: 2 = process name (UTF-8), 4 = process UUID. Blocks are numbered from 0 in order
//! of appearance within their section; an Enhanced Packet Block's option 0x8001 (or 0x8003, the
//! "effective" process) gives the number of the process that sent or received the packet.
//! Layout as Wireshark's wiretap reads it (pcapng-darwin-custom, "legacy DPIB").

use super::Options;
use crate::pcap::u32_at;

pub(crate) const TYPE: u32 = 0x8000_0001;

/// Option code of the process name.
const OPT_NAME: u16 = 2;

/// One process: its id and, when given, its name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Dpib {
    pub(crate) pid: u32,
    pub(crate) name: Option<String>,
}

pub(crate) fn parse(body: &[u8], be: bool) -> Result<Dpib, String> {
    if body.len() < 4 {
        return Err(format!("body is {} bytes, needs 4", body.len()));
    }
    let pid = u32_at(body, 0, be);
    let name = Options::new(&body[4..], be)
        .find(|(code, _)| *code == OPT_NAME)
        .and_then(|(_, r)| body.get(4 + r.start..4 + r.end))
        .map(|b| {
            String::from_utf8_lossy(b)
                .trim_end_matches('\0')
                .to_string()
        })
        .filter(|n| !n.is_empty());
    Ok(Dpib { pid, name })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(be: bool, pid: u32, name: &[u8]) -> Vec<u8> {
        let w16 = |v: u16| if be { v.to_be_bytes() } else { v.to_le_bytes() };
        let mut b = if be {
            pid.to_be_bytes()
        } else {
            pid.to_le_bytes()
        }
        .to_vec();
        b.extend_from_slice(&w16(OPT_NAME));
        b.extend_from_slice(&w16(name.len() as u16));
        b.extend_from_slice(name);
        while b.len() % 4 != 0 {
            b.push(0);
        }
        b.extend_from_slice(&[0, 0, 0, 0]);
        b
    }

    #[test]
    fn reads_pid_and_name_in_both_byte_orders() {
        for be in [false, true] {
            let d = parse(&body(be, 412, b"WeChat"), be).unwrap();
            assert_eq!(
                d,
                Dpib {
                    pid: 412,
                    name: Some("WeChat".into())
                }
            );
        }
    }

    #[test]
    fn damaged_blocks_never_panic() {
        let full = body(false, 7, b"Safari");
        for cut in 0..full.len() {
            let _ = parse(&full[..cut], false);
        }
        assert!(parse(&[1, 2], false).is_err());
        assert_eq!(parse(&[1, 0, 0, 0], false).unwrap().name, None);
    }
}

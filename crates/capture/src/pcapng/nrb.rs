//! Name Resolution Block (draft-ietf-opsawg-pcapng section 4.5): address-to-name records the
//! capturing tool resolved. phonehome names destinations from the DNS traffic itself, so the
//! records are only walked to report damage.

use super::padded;
use crate::pcap::u16_at;

pub(crate) const TYPE: u32 = 4;

/// Counts the records up to `nrb_record_end`; an error when one runs past the block.
pub(crate) fn parse(body: &[u8], be: bool) -> Result<usize, String> {
    let mut pos = 0usize;
    let mut records = 0usize;
    while body.len().saturating_sub(pos) >= 4 {
        let kind = u16_at(body, pos, be);
        let len = usize::from(u16_at(body, pos + 2, be));
        if kind == 0 {
            return Ok(records);
        }
        let end = pos + 4 + len;
        if end > body.len() {
            return Err(format!("record {records} runs past the end of the block"));
        }
        records += 1;
        pos = pos + 4 + padded(len);
    }
    Err("no end-of-records marker".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records() {
        // nrb_record_ipv4 for 127.0.0.1 "localhost", then nrb_record_end.
        let mut body = vec![1, 0, 14, 0, 127, 0, 0, 1];
        body.extend_from_slice(b"localhost\0\0\0");
        body.extend_from_slice(&[0; 4]);
        assert_eq!(parse(&body, false), Ok(1));
        assert!(parse(&body[..10], false).is_err());
        assert!(parse(&[], false).is_err());
    }
}

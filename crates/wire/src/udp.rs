//! UDP headers (RFC 768).

use crate::{be16, need, Error};

mod field {
    pub(super) const SRC_PORT: usize = 0;
    pub(super) const DST_PORT: usize = 2;
    pub(super) const LENGTH: usize = 4;
    pub(super) const CHECKSUM: usize = 6;
}

pub const HEADER_LEN: usize = 8;

const LAYER: &str = "udp";

/// A view of a UDP datagram. A buffer shorter than the length field is a truncated capture:
/// the payload is what is there.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    pub fn new_checked(buffer: T) -> Result<Self, Error> {
        let packet = Self { buffer };
        packet.check_len()?;
        Ok(packet)
    }

    /// The header is there and its length covers it. A length of 0 is let through: it is how
    /// a UDP jumbogram says "see the IPv6 length" (RFC 2675 section 4), and how some offload
    /// engines leave it; the buffer's length stands in.
    pub fn check_len(&self) -> Result<(), Error> {
        need(LAYER, HEADER_LEN, self.buffer.as_ref().len())?;
        let len = usize::from(self.len());
        if len != 0 && len < HEADER_LEN {
            return Err(Error::BelowMinimum {
                layer: LAYER,
                field: "length",
                value: len,
                min: HEADER_LEN,
            });
        }
        Ok(())
    }

    pub fn into_inner(self) -> T {
        self.buffer
    }

    pub fn src_port(&self) -> u16 {
        be16(self.buffer.as_ref(), field::SRC_PORT)
    }

    pub fn dst_port(&self) -> u16 {
        be16(self.buffer.as_ref(), field::DST_PORT)
    }

    /// The length field: header plus payload.
    #[allow(clippy::len_without_is_empty)]
    pub fn len(&self) -> u16 {
        be16(self.buffer.as_ref(), field::LENGTH)
    }

    pub fn checksum(&self) -> u16 {
        be16(self.buffer.as_ref(), field::CHECKSUM)
    }

    /// The buffer holds fewer bytes than the length field says.
    pub fn truncated(&self) -> bool {
        usize::from(self.len()) > self.buffer.as_ref().len()
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> Packet<&'a T> {
    /// The payload, cut to the length field (or to the buffer, whichever is shorter).
    pub fn payload(&self) -> &'a [u8] {
        let buf = self.buffer.as_ref();
        let end = match usize::from(self.len()) {
            0 => buf.len(),
            len => len.min(buf.len()),
        };
        // check_len: HEADER_LEN <= buf.len() and HEADER_LEN <= len when len != 0.
        &buf[HEADER_LEN..end]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The UDP datagram of frame 1 of dns_udp_dig_a_query__suri.pcap (suricata-verify
    /// tests/cond-log-dns-dig/input.pcap): 41805 -> 53, length 57, a DNS query for
    /// www.suricata-ids.org with an EDNS OPT record.
    const DNS_QUERY: [u8; 57] = [
        0xa3, 0x4d, 0x00, 0x35, 0x00, 0x39, 0xb2, 0xb3, 0x8d, 0x32, 0x01, 0x20, 0x00, 0x01, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x01, 0x03, 0x77, 0x77, 0x77, 0x0c, 0x73, 0x75, 0x72, 0x69, 0x63,
        0x61, 0x74, 0x61, 0x2d, 0x69, 0x64, 0x73, 0x03, 0x6f, 0x72, 0x67, 0x00, 0x00, 0x01, 0x00,
        0x01, 0x00, 0x00, 0x29, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    ];

    #[test]
    fn dns_query_fields() {
        let p = Packet::new_checked(&DNS_QUERY[..]).unwrap();
        assert_eq!(
            (p.src_port(), p.dst_port(), p.len(), p.checksum()),
            (41805, 53, 57, 0xb2b3)
        );
        assert_eq!(p.payload().len(), 49);
        assert!(!p.truncated());
        assert_eq!(p.into_inner().len(), 57);
    }

    #[test]
    fn payload_cut_to_length_or_capture() {
        let mut padded = DNS_QUERY.to_vec();
        padded.extend_from_slice(&[0; 5]);
        assert_eq!(
            Packet::new_checked(&padded[..]).unwrap().payload().len(),
            49
        );
        let short = Packet::new_checked(&DNS_QUERY[..20]).unwrap();
        assert!(short.truncated());
        assert_eq!(short.payload().len(), 12);
        let mut zero = DNS_QUERY;
        zero[4..6].copy_from_slice(&[0, 0]);
        assert_eq!(Packet::new_checked(&zero[..]).unwrap().payload().len(), 49);
    }

    #[test]
    fn check_len_table() {
        let mut small = DNS_QUERY;
        small[4..6].copy_from_slice(&[0, 7]);
        let cases: &[(&[u8], Error)] = &[
            (
                &DNS_QUERY[..7],
                Error::Truncated {
                    layer: LAYER,
                    needed: 8,
                    got: 7,
                },
            ),
            (
                &small,
                Error::BelowMinimum {
                    layer: LAYER,
                    field: "length",
                    value: 7,
                    min: 8,
                },
            ),
        ];
        for (bytes, want) in cases {
            assert_eq!(Packet::new_checked(*bytes), Err(*want));
        }
    }
}

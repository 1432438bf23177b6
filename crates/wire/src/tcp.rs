//! TCP headers (RFC 9293 section 3.1).

use crate::{be16, be32, need, Error, TcpFlags};

mod field {
    pub(super) const SRC_PORT: usize = 0;
    pub(super) const DST_PORT: usize = 2;
    pub(super) const SEQ_NUM: usize = 4;
    pub(super) const ACK_NUM: usize = 8;
    pub(super) const DATA_OFF: usize = 12;
    pub(super) const FLAGS: usize = 13;
    pub(super) const WIN_SIZE: usize = 14;
    pub(super) const CHECKSUM: usize = 16;
    pub(super) const URGENT: usize = 18;
}

/// Length of a header without options.
pub const HEADER_LEN: usize = 20;

const LAYER: &str = "tcp";

/// A view of a TCP segment.
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

    /// The fixed header is there, the data offset is at least 5 words, and the options it
    /// announces are there too.
    pub fn check_len(&self) -> Result<(), Error> {
        let len = self.buffer.as_ref().len();
        need(LAYER, HEADER_LEN, len)?;
        let header_len = self.header_len();
        if header_len < HEADER_LEN {
            return Err(Error::BelowMinimum {
                layer: LAYER,
                field: "data offset",
                value: header_len,
                min: HEADER_LEN,
            });
        }
        need(LAYER, header_len, len)
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

    pub fn seq_number(&self) -> u32 {
        be32(self.buffer.as_ref(), field::SEQ_NUM)
    }

    pub fn ack_number(&self) -> u32 {
        be32(self.buffer.as_ref(), field::ACK_NUM)
    }

    /// Header length in bytes (data offset times 4).
    pub fn header_len(&self) -> usize {
        usize::from(self.buffer.as_ref()[field::DATA_OFF] >> 4) * 4
    }

    pub fn flags(&self) -> TcpFlags {
        TcpFlags(self.buffer.as_ref()[field::FLAGS])
    }

    pub fn window_len(&self) -> u16 {
        be16(self.buffer.as_ref(), field::WIN_SIZE)
    }

    pub fn checksum(&self) -> u16 {
        be16(self.buffer.as_ref(), field::CHECKSUM)
    }

    pub fn urgent_at(&self) -> u16 {
        be16(self.buffer.as_ref(), field::URGENT)
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> Packet<&'a T> {
    /// Options, unparsed (RFC 9293 section 3.2).
    pub fn options(&self) -> &'a [u8] {
        &self.buffer.as_ref()[HEADER_LEN..self.header_len()]
    }

    pub fn payload(&self) -> &'a [u8] {
        &self.buffer.as_ref()[self.header_len()..]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The TCP header of frame 1 of vlan_http__zeek.pcap (zeek
    /// testing/btest/Traces/http-vlan-0.pcap): SYN 59856 -> 80 with 24 bytes of options
    /// (MSS, NOP, window scale, NOP, NOP, timestamps, SACK permitted, EOL).
    const SYN: [u8; 44] = [
        0xe9, 0xd0, 0x00, 0x50, 0xfe, 0x21, 0x32, 0x3a, 0x00, 0x00, 0x00, 0x00, 0xb0, 0x02, 0xff,
        0xff, 0x3b, 0xc0, 0x00, 0x00, 0x02, 0x04, 0x05, 0xb4, 0x01, 0x03, 0x03, 0x04, 0x01, 0x01,
        0x08, 0x0a, 0x16, 0x4a, 0xdd, 0x20, 0x00, 0x00, 0x00, 0x00, 0x04, 0x02, 0x00, 0x00,
    ];

    #[test]
    fn syn_fields() {
        let p = Packet::new_checked(&SYN[..]).unwrap();
        assert_eq!((p.src_port(), p.dst_port()), (59856, 80));
        assert_eq!((p.seq_number(), p.ack_number()), (0xfe21_323a, 0));
        assert_eq!(
            (p.header_len(), p.window_len(), p.checksum(), p.urgent_at()),
            (44, 0xffff, 0x3bc0, 0)
        );
        assert_eq!(p.flags(), TcpFlags(TcpFlags::SYN));
        assert_eq!(&p.options()[..4], &[0x02, 0x04, 0x05, 0xb4]);
        assert!(p.payload().is_empty());
        assert_eq!(p.into_inner().len(), 44);
    }

    #[test]
    fn payload_after_options() {
        let mut s = SYN.to_vec();
        s.extend_from_slice(b"GET");
        assert_eq!(Packet::new_checked(&s[..]).unwrap().payload(), b"GET");
    }

    #[test]
    fn check_len_table() {
        let mut small_offset = SYN;
        small_offset[12] = 0x40;
        let cases: &[(&[u8], Error)] = &[
            (
                &SYN[..19],
                Error::Truncated {
                    layer: LAYER,
                    needed: 20,
                    got: 19,
                },
            ),
            (
                &small_offset,
                Error::BelowMinimum {
                    layer: LAYER,
                    field: "data offset",
                    value: 16,
                    min: 20,
                },
            ),
            (
                &SYN[..43],
                Error::Truncated {
                    layer: LAYER,
                    needed: 44,
                    got: 43,
                },
            ),
        ];
        for (bytes, want) in cases {
            assert_eq!(Packet::new_checked(*bytes), Err(*want));
        }
    }
}

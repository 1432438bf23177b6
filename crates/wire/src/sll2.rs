//! Linux "cooked" capture headers, version 2 (LINKTYPE_LINUX_SLL2, 276). Layout:
//! <https://www.tcpdump.org/linktypes/LINKTYPE_LINUX_SLL2.html>.

use crate::{be16, be32, need, Error, Frame};

mod field {
    use core::ops::Range;
    pub(super) const PROTOCOL: usize = 0;
    pub(super) const RESERVED: usize = 2;
    pub(super) const IF_INDEX: usize = 4;
    pub(super) const HATYPE: usize = 8;
    pub(super) const PACKET_TYPE: usize = 10;
    pub(super) const ADDR_LEN: usize = 11;
    pub(super) const ADDR: Range<usize> = 12..20;
    pub(super) const PAYLOAD: usize = 20;
}

pub const HEADER_LEN: usize = field::PAYLOAD;

/// A view of a Linux cooked v2 header and what follows.
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

    /// The 20-byte header is there; the address length is clamped by [`Self::addr`].
    pub fn check_len(&self) -> Result<(), Error> {
        need("sll2", HEADER_LEN, self.buffer.as_ref().len())
    }

    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// The payload's ethertype.
    pub fn protocol(&self) -> u16 {
        be16(self.buffer.as_ref(), field::PROTOCOL)
    }

    pub fn reserved(&self) -> u16 {
        be16(self.buffer.as_ref(), field::RESERVED)
    }

    /// The capturing interface's index.
    pub fn if_index(&self) -> u32 {
        be32(self.buffer.as_ref(), field::IF_INDEX)
    }

    pub fn hatype(&self) -> u16 {
        be16(self.buffer.as_ref(), field::HATYPE)
    }

    pub fn packet_type(&self) -> u8 {
        self.buffer.as_ref()[field::PACKET_TYPE]
    }

    pub fn addr_len(&self) -> u8 {
        self.buffer.as_ref()[field::ADDR_LEN]
    }

    /// The sender's link-layer address, at most 8 bytes.
    pub fn addr(&self) -> &[u8] {
        let n = usize::from(self.addr_len()).min(field::ADDR.len());
        &self.buffer.as_ref()[field::ADDR.start..field::ADDR.start + n]
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> Packet<&'a T> {
    pub fn payload(&self) -> &'a [u8] {
        &self.buffer.as_ref()[field::PAYLOAD..]
    }
}

pub(crate) fn decode(data: &[u8]) -> Result<Frame<'_>, Error> {
    let p = Packet::new_checked(data)?;
    let mut vlan = None;
    let network = crate::network(p.protocol(), p.payload(), &mut vlan)?;
    Ok(Frame {
        src_mac: crate::sll::mac6(p.addr()),
        dst_mac: None,
        vlan,
        network,
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::{decode as decode_link, transport, LinkType, Network, Transport};

    /// Frame 1 of sll2_icmp__zeek.pcap (zeek testing/btest/Traces/linux_dlt_sll2.pcap): loopback
    /// (hatype 772, interface 1), ICMP echo request 192.0.2.1 -> 192.0.2.1.
    pub(crate) const SLL2_ICMP: [u8; 104] = [
        0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x03, 0x04, 0x00, 0x06, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x45, 0x00, 0x00, 0x54, 0xaf, 0x8c, 0x40, 0x00, 0x40, 0x01,
        0x07, 0x1a, 0xc0, 0x00, 0x02, 0x01, 0xc0, 0x00, 0x02, 0x01, 0x08, 0x00, 0x66, 0xb4, 0x00,
        0x08, 0x00, 0x01, 0xe9, 0xbd, 0xf9, 0x62, 0x00, 0x00, 0x00, 0x00, 0xe2, 0x4e, 0x0d, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a,
        0x1b, 0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0x28, 0x29,
        0x2a, 0x2b, 0x2c, 0x2d, 0x2e, 0x2f, 0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37,
    ];

    #[test]
    fn loopback_echo_request() {
        let p = Packet::new_checked(&SLL2_ICMP[..]).unwrap();
        assert_eq!(
            (p.protocol(), p.reserved(), p.if_index(), p.hatype()),
            (0x0800, 0, 1, 772)
        );
        assert_eq!(
            (p.packet_type(), p.addr_len(), p.addr()),
            (0, 6, &[0u8; 6][..])
        );
        let f = decode_link(LinkType::LINUX_SLL2, &SLL2_ICMP).unwrap();
        assert_eq!(f.src_mac, Some([0; 6]));
        let Network::Ip(ip) = f.network else {
            panic!("not IP")
        };
        assert_eq!(
            transport(ip.protocol, ip.payload),
            Ok(Transport::Icmp(crate::Icmp {
                v6: false,
                kind: 8,
                code: 0
            }))
        );
    }

    #[test]
    fn check_len() {
        assert_eq!(
            Packet::new_checked(&SLL2_ICMP[..19]),
            Err(Error::Truncated {
                layer: "sll2",
                needed: 20,
                got: 19
            })
        );
        let mut long_addr = SLL2_ICMP;
        long_addr[11] = 200;
        assert_eq!(Packet::new_checked(&long_addr[..]).unwrap().addr().len(), 8);
    }
}

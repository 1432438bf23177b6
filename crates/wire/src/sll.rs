//! Linux "cooked" capture headers, version 1 (LINKTYPE_LINUX_SLL, 113), written by libpcap
//! for the `any` device. Layout: <https://www.tcpdump.org/linktypes/LINKTYPE_LINUX_SLL.html>.

use crate::{be16, need, Error, Frame};

mod field {
    use core::ops::Range;
    pub(super) const PACKET_TYPE: usize = 0;
    pub(super) const HATYPE: usize = 2;
    pub(super) const ADDR_LEN: usize = 4;
    pub(super) const ADDR: Range<usize> = 6..14;
    pub(super) const PROTOCOL: usize = 14;
    pub(super) const PAYLOAD: usize = 16;
}

pub const HEADER_LEN: usize = field::PAYLOAD;

/// A view of a Linux cooked v1 header and what follows.
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

    /// The 16-byte header is there. The address length is not trusted beyond the 8-byte
    /// field: [`Self::addr`] clamps it.
    pub fn check_len(&self) -> Result<(), Error> {
        need("sll", HEADER_LEN, self.buffer.as_ref().len())
    }

    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// 0 to us, 1 broadcast, 2 multicast, 3 to someone else, 4 sent by us.
    pub fn packet_type(&self) -> u16 {
        be16(self.buffer.as_ref(), field::PACKET_TYPE)
    }

    /// ARPHRD_ type of the interface (1 Ethernet, 772 loopback, 65534 none...).
    pub fn hatype(&self) -> u16 {
        be16(self.buffer.as_ref(), field::HATYPE)
    }

    pub fn addr_len(&self) -> u16 {
        be16(self.buffer.as_ref(), field::ADDR_LEN)
    }

    /// The sender's link-layer address, at most the 8 bytes the header has room for.
    pub fn addr(&self) -> &[u8] {
        let n = usize::from(self.addr_len()).min(field::ADDR.len());
        &self.buffer.as_ref()[field::ADDR.start..field::ADDR.start + n]
    }

    /// The ethertype of the payload (or, for some hatypes, a Linux `ETH_P_*` pseudo-protocol
    /// such as 0x0004 for 802.2 LLC).
    pub fn protocol(&self) -> u16 {
        be16(self.buffer.as_ref(), field::PROTOCOL)
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> Packet<&'a T> {
    pub fn payload(&self) -> &'a [u8] {
        &self.buffer.as_ref()[field::PAYLOAD..]
    }
}

/// A 6-byte address as a MAC.
pub(crate) fn mac6(addr: &[u8]) -> Option<[u8; 6]> {
    <[u8; 6]>::try_from(addr).ok()
}

pub(crate) fn decode(data: &[u8]) -> Result<Frame<'_>, Error> {
    let p = Packet::new_checked(data)?;
    let mut vlan = None;
    let network = crate::network(p.protocol(), p.payload(), &mut vlan)?;
    Ok(Frame {
        src_mac: mac6(p.addr()),
        dst_mac: None,
        vlan,
        network,
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::{decode as decode_link, LinkType, Network};

    /// Frame 1 of app_kakaotalk_chat_sll__ndpi.pcap (nDPI tests/cfgs/default/pcap/KakaoTalk_chat.pcap):
    /// outgoing (type 4), hatype 530, no address, IPv4 UDP 10.24.82.188 -> 10.188.1.1:53
    /// asking for auth.kakao.com.
    pub(crate) const SLL_DNS: [u8; 76] = [
        0x00, 0x04, 0x02, 0x12, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x08,
        0x00, 0x45, 0x00, 0x00, 0x3c, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0xd2, 0x20, 0x0a, 0x18,
        0x52, 0xbc, 0x0a, 0xbc, 0x01, 0x01, 0x96, 0x30, 0x00, 0x35, 0x00, 0x28, 0x80, 0xa6, 0x86,
        0xed, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x61, 0x75, 0x74,
        0x68, 0x05, 0x6b, 0x61, 0x6b, 0x61, 0x6f, 0x03, 0x63, 0x6f, 0x6d, 0x00, 0x00, 0x01, 0x00,
        0x01,
    ];

    #[test]
    fn kakaotalk_dns_query() {
        let p = Packet::new_checked(&SLL_DNS[..]).unwrap();
        assert_eq!(
            (p.packet_type(), p.hatype(), p.addr_len(), p.protocol()),
            (4, 530, 0, 0x0800)
        );
        assert!(p.addr().is_empty());
        let f = decode_link(LinkType::LINUX_SLL, &SLL_DNS).unwrap();
        assert_eq!((f.src_mac, f.dst_mac, f.vlan), (None, None, None));
        let Network::Ip(ip) = f.network else {
            panic!("not IP")
        };
        assert_eq!(ip.dst.to_string(), "10.188.1.1");
        assert_eq!(ip.payload.len(), 40);
    }

    #[test]
    fn ethernet_source_address_and_oversized_addr_len() {
        let mut f = SLL_DNS;
        f[2..4].copy_from_slice(&1u16.to_be_bytes());
        f[4..6].copy_from_slice(&6u16.to_be_bytes());
        f[6..12].copy_from_slice(&[2, 0, 0, 0, 0, 9]);
        assert_eq!(decode(&f).unwrap().src_mac, Some([2, 0, 0, 0, 0, 9]));
        f[4..6].copy_from_slice(&0xffffu16.to_be_bytes());
        let p = Packet::new_checked(&f[..]).unwrap();
        assert_eq!(p.addr().len(), 8);
        assert_eq!(decode(&f).unwrap().src_mac, None);
    }

    #[test]
    fn check_len() {
        assert_eq!(
            Packet::new_checked(&SLL_DNS[..15]),
            Err(Error::Truncated {
                layer: "sll",
                needed: 16,
                got: 15
            })
        );
    }
}

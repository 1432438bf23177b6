//! BSD loopback encapsulation: LINKTYPE_NULL (0), a 4-byte address family in the capturing
//! host's byte order, and LINKTYPE_LOOP (108), the same in network byte order. Layout:
//! <https://www.tcpdump.org/linktypes/LINKTYPE_NULL.html>.

use crate::{need, Error, Frame, Network};

/// Address family values that mean IPv4 or IPv6 on the systems that write these captures.
pub mod family {
    /// AF_INET everywhere.
    pub const INET: u32 = 2;
    /// AF_INET6 on NetBSD, OpenBSD and BSD/OS.
    pub const INET6_BSD: u32 = 24;
    /// AF_INET6 on FreeBSD and DragonFly BSD.
    pub const INET6_FREEBSD: u32 = 28;
    /// AF_INET6 on macOS and iOS.
    pub const INET6_DARWIN: u32 = 30;
    /// AF_INET6 on Linux (seen when Linux tools write NULL headers).
    pub const INET6_LINUX: u32 = 10;
    /// AF_INET6 on Windows (Npcap loopback adapter).
    pub const INET6_WINDOWS: u32 = 23;
}

mod field {
    use core::ops::Range;
    pub(super) const FAMILY: Range<usize> = 0..4;
    pub(super) const PAYLOAD: usize = 4;
}

pub const HEADER_LEN: usize = field::PAYLOAD;

/// A view of a NULL or LOOP frame.
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

    /// The 4-byte family is there.
    pub fn check_len(&self) -> Result<(), Error> {
        need("null", HEADER_LEN, self.buffer.as_ref().len())
    }

    pub fn into_inner(self) -> T {
        self.buffer
    }

    fn raw_family(&self) -> [u8; 4] {
        let mut b = [0; 4];
        b.copy_from_slice(&self.buffer.as_ref()[field::FAMILY]);
        b
    }

    /// The family in network byte order (LINKTYPE_LOOP).
    pub fn family_be(&self) -> u32 {
        u32::from_be_bytes(self.raw_family())
    }

    /// The family in the capturing host's byte order, which the file does not record: family
    /// values are small, so the order that puts the non-zero bytes low wins.
    pub fn family(&self) -> u32 {
        let b = self.raw_family();
        if b[0] == 0 && b[1] == 0 {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        }
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> Packet<&'a T> {
    pub fn payload(&self) -> &'a [u8] {
        &self.buffer.as_ref()[field::PAYLOAD..]
    }
}

/// Decodes a NULL (`network_order == false`) or LOOP frame.
pub(crate) fn decode(data: &[u8], network_order: bool) -> Result<Frame<'_>, Error> {
    let p = Packet::new_checked(data)?;
    let fam = if network_order {
        p.family_be()
    } else {
        p.family()
    };
    let ip = match fam {
        family::INET => crate::ipv4::decode(p.payload())?,
        family::INET6_BSD
        | family::INET6_FREEBSD
        | family::INET6_DARWIN
        | family::INET6_LINUX
        | family::INET6_WINDOWS => crate::ipv6::decode(p.payload())?,
        other => {
            return Err(Error::Unknown {
                layer: "null",
                field: "address family",
                value: other,
            })
        }
    };
    Ok(Frame {
        src_mac: None,
        dst_mac: None,
        vlan: None,
        network: Network::Ip(ip),
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::{decode as decode_link, transport, LinkType, Transport};

    /// Frame 1 of http_ipv6_loopback_null__suri.pcap (suricata-verify tests/http-ipv6/input.pcap):
    /// family 30 (macOS AF_INET6) little endian, TCP SYN [::1]:55717 -> [::1]:8000.
    pub(crate) const NULL_IPV6_SYN: [u8; 88] = [
        0x1e, 0x00, 0x00, 0x00, 0x60, 0x00, 0xc5, 0x7a, 0x00, 0x2c, 0x06, 0x40, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0xd9,
        0xa5, 0x1f, 0x40, 0x11, 0xb0, 0xc5, 0x40, 0x00, 0x00, 0x00, 0x00, 0xb0, 0x02, 0xff, 0xff,
        0x00, 0x34, 0x00, 0x00, 0x02, 0x04, 0x3f, 0xc4, 0x01, 0x03, 0x03, 0x05, 0x01, 0x01, 0x08,
        0x0a, 0x2d, 0xf1, 0x18, 0xd2, 0x00, 0x00, 0x00, 0x00, 0x04, 0x02, 0x00, 0x00,
    ];

    #[test]
    fn macos_ipv6_syn() {
        let f = decode_link(LinkType::NULL, &NULL_IPV6_SYN).unwrap();
        let Network::Ip(ip) = f.network else {
            panic!("not IP")
        };
        let Ok(Transport::Tcp(t)) = transport(ip.protocol, ip.payload) else {
            panic!()
        };
        assert_eq!((t.src_port, t.dst_port), (55717, 8000));
        assert!(t.flags.syn());
    }

    #[test]
    fn either_byte_order_for_null_network_order_for_loop() {
        let ipv4 = &crate::ipv4::tests::UDP_FRAG_FIRST[14..];
        for (link, fam) in [
            (LinkType::NULL, [2, 0, 0, 0]),
            (LinkType::NULL, [0, 0, 0, 2]),
            (LinkType::LOOP, [0, 0, 0, 2]),
        ] {
            let mut f = fam.to_vec();
            f.extend_from_slice(ipv4);
            assert!(decode_link(link, &f).is_ok(), "{link} {fam:?}");
        }
        for fam in [24u32, 28, 30, 10, 23] {
            let mut f = fam.to_be_bytes().to_vec();
            f.extend_from_slice(&NULL_IPV6_SYN[4..]);
            assert!(decode_link(LinkType::LOOP, &f).is_ok(), "{fam}");
        }
        let mut le_in_loop = vec![2, 0, 0, 0];
        le_in_loop.extend_from_slice(ipv4);
        assert_eq!(
            decode_link(LinkType::LOOP, &le_in_loop),
            Err(Error::Unknown {
                layer: "null",
                field: "address family",
                value: 0x0200_0000
            })
        );
    }

    #[test]
    fn check_len() {
        assert_eq!(
            Packet::new_checked(&[2u8, 0, 0][..]),
            Err(Error::Truncated {
                layer: "null",
                needed: 4,
                got: 3
            })
        );
        assert_eq!(
            decode(&[7, 0, 0, 0], false),
            Err(Error::Unknown {
                layer: "null",
                field: "address family",
                value: 7
            })
        );
    }
}

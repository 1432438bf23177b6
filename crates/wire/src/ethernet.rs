//! Ethernet II frames (IEEE 802.3 clause 3) and VLAN tags (IEEE 802.1Q, 802.1ad).

use crate::{be16, need, Error, Frame as Decoded};

/// Ethertypes this crate follows.
pub mod ethertype {
    pub const IPV4: u16 = 0x0800;
    pub const ARP: u16 = 0x0806;
    /// IEEE 802.1Q customer VLAN tag.
    pub const VLAN: u16 = 0x8100;
    pub const IPV6: u16 = 0x86dd;
    /// PPPoE discovery stage (RFC 2516 section 5).
    pub const PPPOE_DISCOVERY: u16 = 0x8863;
    /// PPPoE session stage (RFC 2516 section 6).
    pub const PPPOE_SESSION: u16 = 0x8864;
    /// IEEE 802.1ad service VLAN tag (QinQ).
    pub const QINQ: u16 = 0x88a8;
    /// Pre-standard QinQ outer tag still emitted by some switches.
    pub const QINQ_OLD: u16 = 0x9100;
}

mod field {
    use core::ops::Range;
    pub(super) const DESTINATION: Range<usize> = 0..6;
    pub(super) const SOURCE: Range<usize> = 6..12;
    pub(super) const ETHERTYPE: usize = 12;
    pub(super) const PAYLOAD: usize = 14;

    // VLAN tag, counted from the tag's first byte (the TCI; the tag protocol identifier is
    // the ethertype in front of it).
    pub(super) const TCI: usize = 0;
    pub(super) const INNER_ETHERTYPE: usize = 2;
    pub(super) const TAG_PAYLOAD: usize = 4;
}

/// Length of an untagged Ethernet II header.
pub const HEADER_LEN: usize = field::PAYLOAD;
/// Length of one VLAN tag after its tag protocol identifier.
pub const TAG_LEN: usize = field::TAG_PAYLOAD;

/// A view of an Ethernet II frame (without the frame check sequence, which captures omit).
///
/// Unlike smoltcp there is no public `new_unchecked`: every view of capture bytes goes through
/// `check_len`, so no getter can panic.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Frame<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Frame<T> {
    /// Wraps `buffer` after [`Self::check_len`].
    pub fn new_checked(buffer: T) -> Result<Self, Error> {
        let frame = Self { buffer };
        frame.check_len()?;
        Ok(frame)
    }

    /// The buffer holds at least the 14-byte header.
    pub fn check_len(&self) -> Result<(), Error> {
        need("ethernet", HEADER_LEN, self.buffer.as_ref().len())
    }

    pub fn into_inner(self) -> T {
        self.buffer
    }

    pub fn dst_addr(&self) -> [u8; 6] {
        mac(&self.buffer.as_ref()[field::DESTINATION])
    }

    pub fn src_addr(&self) -> [u8; 6] {
        mac(&self.buffer.as_ref()[field::SOURCE])
    }

    /// The ethertype, or the 802.3 length when below 0x0600.
    pub fn ethertype(&self) -> u16 {
        be16(self.buffer.as_ref(), field::ETHERTYPE)
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> Frame<&'a T> {
    /// Everything after the header, borrowed from the original buffer.
    pub fn payload(&self) -> &'a [u8] {
        &self.buffer.as_ref()[field::PAYLOAD..]
    }
}

/// A view of one VLAN tag: the 2-byte tag control information and the next ethertype.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VlanTag<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> VlanTag<T> {
    pub fn new_checked(buffer: T) -> Result<Self, Error> {
        let tag = Self { buffer };
        tag.check_len()?;
        Ok(tag)
    }

    /// The buffer holds the 4 bytes of TCI and inner ethertype.
    pub fn check_len(&self) -> Result<(), Error> {
        need("vlan", TAG_LEN, self.buffer.as_ref().len())
    }

    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// Tag control information: PCP (3 bits), DEI (1 bit), VID (12 bits).
    pub fn tci(&self) -> u16 {
        be16(self.buffer.as_ref(), field::TCI)
    }

    /// Priority code point (IEEE 802.1Q section 6.9.3).
    pub fn pcp(&self) -> u8 {
        (self.tci() >> 13) as u8
    }

    /// Drop eligible indicator.
    pub fn dei(&self) -> bool {
        self.tci() & 0x1000 != 0
    }

    /// VLAN identifier.
    pub fn vid(&self) -> u16 {
        self.tci() & 0x0fff
    }

    /// The ethertype of what the tag encloses.
    pub fn ethertype(&self) -> u16 {
        be16(self.buffer.as_ref(), field::INNER_ETHERTYPE)
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> VlanTag<&'a T> {
    pub fn payload(&self) -> &'a [u8] {
        &self.buffer.as_ref()[field::TAG_PAYLOAD..]
    }
}

#[inline]
fn mac(bytes: &[u8]) -> [u8; 6] {
    let mut out = [0; 6];
    out.copy_from_slice(bytes);
    out
}

/// Decodes an Ethernet frame (LINKTYPE_ETHERNET) through its VLAN tags to the network layer.
pub(crate) fn decode(data: &[u8]) -> Result<Decoded<'_>, Error> {
    let frame = Frame::new_checked(data)?;
    let mut vlan = None;
    let network = crate::network(frame.ethertype(), frame.payload(), &mut vlan)?;
    Ok(Decoded {
        src_mac: Some(frame.src_addr()),
        dst_mac: Some(frame.dst_addr()),
        vlan,
        network,
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::{decode as decode_link, transport, LinkType, Network, Transport};

    /// Frame 1 of vlan_http__zeek.pcap (zeek testing/btest/Traces/http-vlan-0.pcap): a TCP SYN
    /// 141.142.228.5:59856 -> 192.150.187.43:80 in VLAN 0 (802.1Q priority tag, PCP 5).
    pub(crate) const VLAN_TCP_SYN: [u8; 82] = [
        0x00, 0x10, 0xdb, 0x88, 0xd2, 0xef, 0xc8, 0xbc, 0xc8, 0x96, 0xd2, 0xa0, 0x81, 0x00, 0xb0,
        0x00, 0x08, 0x00, 0x45, 0x00, 0x00, 0x40, 0xdf, 0x8e, 0x40, 0x00, 0x40, 0x06, 0x6d, 0xd3,
        0x8d, 0x8e, 0xe4, 0x05, 0xc0, 0x96, 0xbb, 0x2b, 0xe9, 0xd0, 0x00, 0x50, 0xfe, 0x21, 0x32,
        0x3a, 0x00, 0x00, 0x00, 0x00, 0xb0, 0x02, 0xff, 0xff, 0x3b, 0xc0, 0x00, 0x00, 0x02, 0x04,
        0x05, 0xb4, 0x01, 0x03, 0x03, 0x04, 0x01, 0x01, 0x08, 0x0a, 0x16, 0x4a, 0xdd, 0x20, 0x00,
        0x00, 0x00, 0x00, 0x04, 0x02, 0x00, 0x00,
    ];

    #[test]
    fn vlan_frame_decodes_to_tcp() {
        let f = decode_link(LinkType::ETHERNET, &VLAN_TCP_SYN).unwrap();
        assert_eq!(f.dst_mac, Some([0x00, 0x10, 0xdb, 0x88, 0xd2, 0xef]));
        assert_eq!(f.src_mac, Some([0xc8, 0xbc, 0xc8, 0x96, 0xd2, 0xa0]));
        assert_eq!(f.vlan, Some(0));
        let Network::Ip(ip) = f.network else {
            panic!("not IP")
        };
        assert_eq!(ip.src.to_string(), "141.142.228.5");
        assert_eq!(ip.dst.to_string(), "192.150.187.43");
        assert_eq!(ip.payload.len(), 0x40 - 20);
        let Ok(Transport::Tcp(t)) = transport(ip.protocol, ip.payload) else {
            panic!()
        };
        assert_eq!((t.src_port, t.dst_port), (59856, 80));
        assert!(t.flags.syn() && !t.flags.ack());
        assert!(t.payload.is_empty());
    }

    #[test]
    fn tag_fields() {
        let tag = VlanTag::new_checked(&[0xb0u8, 0x05, 0x08, 0x00][..]).unwrap();
        assert_eq!(
            (tag.pcp(), tag.dei(), tag.vid(), tag.ethertype()),
            (5, true, 5, 0x0800)
        );
        assert!(tag.payload().is_empty());
        assert_eq!(
            VlanTag::new_checked(&[0u8; 3][..]),
            Err(Error::Truncated {
                layer: "vlan",
                needed: 4,
                got: 3
            })
        );
    }

    #[test]
    fn check_len_header() {
        assert_eq!(
            Frame::new_checked(&[0u8; 13][..]),
            Err(Error::Truncated {
                layer: "ethernet",
                needed: 14,
                got: 13
            })
        );
        let f = Frame::new_checked(&[0u8; 14][..]).unwrap();
        assert!(f.payload().is_empty());
    }

    /// QinQ stacks: the outermost VID is reported, depth is bounded.
    #[test]
    fn stacked_tags() {
        let ip = &VLAN_TCP_SYN[18..];
        for (outer, depth) in [
            (ethertype::QINQ, 2),
            (ethertype::QINQ_OLD, 3),
            (ethertype::VLAN, 8),
        ] {
            let mut f = VLAN_TCP_SYN[..12].to_vec();
            for i in 0..depth {
                let tpid = if i == 0 { outer } else { ethertype::VLAN };
                f.extend_from_slice(&tpid.to_be_bytes());
                f.extend_from_slice(&(100 + i as u16).to_be_bytes());
            }
            f.extend_from_slice(&ethertype::IPV4.to_be_bytes());
            f.extend_from_slice(ip);
            let d = decode_link(LinkType::ETHERNET, &f).unwrap();
            assert_eq!(d.vlan, Some(100));
            assert!(matches!(d.network, Network::Ip(_)));
        }
        let mut f = VLAN_TCP_SYN[..12].to_vec();
        for _ in 0..=crate::MAX_VLAN_TAGS {
            f.extend_from_slice(&[0x81, 0x00, 0x00, 0x07]);
        }
        f.extend_from_slice(&[0x08, 0x00]);
        f.extend_from_slice(ip);
        assert_eq!(
            decode_link(LinkType::ETHERNET, &f),
            Err(Error::Malformed {
                layer: "vlan",
                what: "too many VLAN tags"
            })
        );
    }

    #[test]
    fn non_ip_is_other() {
        // ARP request header start (RFC 826), and an 802.3 length field (LLC frame).
        for (ty, want) in [
            ([0x08, 0x06], 0x0806),
            ([0x00, 0x26], 0x0026),
            ([0x88, 0xcc], 0x88cc),
        ] {
            let mut f = [0u8; 60];
            f[12..14].copy_from_slice(&ty);
            let d = decode_link(LinkType::ETHERNET, &f).unwrap();
            assert_eq!(d.network, Network::Other { ethertype: want });
            assert_eq!(d.vlan, None);
        }
    }
}

//! Zero-copy views of link, network and transport headers.
//!
//! This stage turns one captured link-layer frame into the facts the rest of phonehome needs:
//! the addresses, the upper-layer protocol, whether the packet is a fragment, and the
//! upper-layer bytes, all borrowed from the capture buffer. [`decode`] walks the layer stack
//! for a [`LinkType`] (Ethernet with any number of 802.1Q/802.1ad tags up to
//! [`MAX_VLAN_TAGS`], PPPoE sessions, Linux cooked v1/v2, NFLOG, BSD NULL/LOOP, raw IP) down to
//! the IP layer; [`transport`] reads the TCP/UDP/ICMP header of an IP payload, whole or
//! reassembled.
//!
//! Each protocol has a module with a typed view in the shape smoltcp made familiar:
//! `Packet<T: AsRef<[u8]>>`, a private `mod field` of byte ranges, `new_checked` running
//! `check_len`, getters named after the header fields and a `payload()` that borrows from the
//! original buffer. They are written by hand because no published crate offers that
//! zero-copy contract over the whole set phonehome meets in phone captures: the general
//! packet crates cover Ethernet, IP, TCP and UDP, but not all of Linux cooked v2, NFLOG's
//! host-order TLVs, PPPoE sessions and BSD NULL/LOOP families, and smoltcp (whose shape
//! this follows) rejects the snaplen-truncated IP packets an analysis tool must still read.
//!
//! # Contract
//! Capture input is hostile. No function here panics on any input: a view is only built by
//! `new_checked`, whose `check_len` verifies every length a getter later relies on; every
//! length read from the wire is combined with checked or saturating arithmetic; loops over
//! tags, TLVs and extension headers are bounded by constants ([`MAX_VLAN_TAGS`],
//! [`nflog::MAX_TLVS`], [`ipv6::MAX_EXT_HEADERS`]). Nothing allocates.
//!
//! A capture cut short by its snaplen is not an error: [`Ip::truncated`] says so and the
//! payload holds what was captured. A header that cannot be read at all is
//! [`Error::Truncated`]; a header that contradicts itself is [`Error::Malformed`] or
//! [`Error::BelowMinimum`].
//!
//! ```
//! use phonehome_capture::LinkType;
//! use phonehome_wire::{decode, transport, Network, Transport};
//! // Raw IPv4 + UDP 1024 -> 53 with a 2-byte payload.
//! let packet = [
//!     0x45, 0, 0, 30, 0, 1, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
//!     0x04, 0x00, 0x00, 0x35, 0, 10, 0, 0, 0xab, 0xcd,
//! ];
//! let frame = decode(LinkType::RAW, &packet).unwrap();
//! let Network::Ip(ip) = frame.network else { panic!("not IP") };
//! assert_eq!(ip.protocol, 17);
//! let Transport::Udp(udp) = transport(ip.protocol, ip.payload).unwrap() else { panic!() };
//! assert_eq!((udp.dst_port, udp.payload), (53, &[0xab, 0xcd][..]));
//! ```

pub mod ethernet;
pub mod icmp;
pub mod ipv4;
pub mod ipv6;
pub mod nflog;
pub mod null;
pub mod pppoe;
pub mod sll;
pub mod sll2;
pub mod tcp;
pub mod udp;

use std::net::IpAddr;

pub use phonehome_capture::LinkType;

/// Most VLAN tags (802.1Q, 802.1ad, legacy QinQ 0x9100) read before giving up on a frame.
pub const MAX_VLAN_TAGS: usize = 8;

/// Why a frame could not be decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The buffer ends before a header does.
    #[error("{layer}: truncated: needed {needed} bytes, got {got}")]
    Truncated {
        layer: &'static str,
        needed: usize,
        got: usize,
    },
    /// A header contradicts itself or its container.
    #[error("{layer}: {what}")]
    Malformed {
        layer: &'static str,
        what: &'static str,
    },
    /// A length field is smaller than the protocol allows.
    #[error("{layer}: {field} {value} is below {min}")]
    BelowMinimum {
        layer: &'static str,
        field: &'static str,
        value: usize,
        min: usize,
    },
    /// A protocol or family number this stage does not follow (e.g. a NULL family that is
    /// neither IPv4 nor IPv6).
    #[error("{layer}: unknown {field} {value:#x}")]
    Unknown {
        layer: &'static str,
        field: &'static str,
        value: u32,
    },
    /// The capture's link type is not one [`decode`] understands.
    #[error("unsupported link type {0}")]
    UnsupportedLink(LinkType),
}

/// Fails with [`Error::Truncated`] unless `got >= needed`.
#[inline]
pub(crate) fn need(layer: &'static str, needed: usize, got: usize) -> Result<(), Error> {
    if got < needed {
        Err(Error::Truncated { layer, needed, got })
    } else {
        Ok(())
    }
}

/// Big-endian u16 at `at`. Callers have checked `at + 2 <= b.len()` in their `check_len`.
#[inline]
pub(crate) fn be16(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}

/// Big-endian u32 at `at`. Callers have checked `at + 4 <= b.len()` in their `check_len`.
#[inline]
pub(crate) fn be32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// One decoded link-layer frame, down to the network layer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Frame<'a> {
    /// Source hardware address, when the link layer carries one (Ethernet, Linux cooked,
    /// NFLOG with a hardware-address TLV).
    pub src_mac: Option<[u8; 6]>,
    /// Destination hardware address (Ethernet only).
    pub dst_mac: Option<[u8; 6]>,
    /// The outermost VLAN id, if the frame is tagged.
    pub vlan: Option<u16>,
    pub network: Network<'a>,
}

/// What the link layer carried.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Network<'a> {
    Ip(Ip<'a>),
    /// Anything else (ARP, LLDP, PPPoE discovery or PPP control, ...), by ethertype, for the
    /// caller to count. Values below 0x0600 are IEEE 802.3 length fields (LLC frames); a PPPoE
    /// session carrying a non-IP PPP protocol is reported as 0x8864.
    Other {
        ethertype: u16,
    },
}

/// An IPv4 or IPv6 packet, headers read, upper-layer bytes borrowed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ip<'a> {
    /// 4 or 6.
    pub version: u8,
    pub src: IpAddr,
    pub dst: IpAddr,
    /// Upper-layer protocol: IPv4's protocol field, or the next header after the IPv6
    /// extension headers (the fragment header's next header for IPv6 fragments).
    pub protocol: u8,
    /// IPv4 TTL or IPv6 hop limit.
    pub ttl: u8,
    /// Some when this packet is a fragment. Its payload is then a piece of the original
    /// payload: only the piece at offset 0 starts with a transport header, and only
    /// reassembly gives the whole of it to [`transport`].
    pub fragment: Option<Fragment>,
    /// Upper-layer bytes, cut to the IP total (or payload) length, so Ethernet padding is gone.
    pub payload: &'a [u8],
    /// The capture holds fewer bytes than the IP length field announced (snaplen).
    pub truncated: bool,
    /// How many bytes the IP length field announced beyond those captured (0 unless
    /// `truncated`): the upper layer's length on the wire is `payload.len() + missing`.
    pub missing: u32,
}

/// Where a fragment belongs in its original packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Fragment {
    /// IPv4 identification (16 bits) or IPv6 fragment identification (32 bits).
    pub id: u32,
    /// Offset of this fragment's payload in the original payload, in bytes.
    pub offset: u32,
    /// More fragments follow.
    pub more: bool,
}

/// A transport-layer header read from an IP payload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport<'a> {
    Tcp(TcpSegment<'a>),
    Udp(UdpDatagram<'a>),
    Icmp(Icmp),
    /// Any other protocol number, left unread.
    Other(u8),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TcpSegment<'a> {
    pub src_port: u16,
    pub dst_port: u16,
    pub seq: u32,
    pub ack: u32,
    pub flags: TcpFlags,
    pub window: u16,
    /// Bytes after the header and its options.
    pub payload: &'a [u8],
}

/// The eight TCP flag bits (CWR ECE URG ACK PSH RST SYN FIN, RFC 9293 section 3.1).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct TcpFlags(pub u8);

impl TcpFlags {
    pub const FIN: u8 = 0x01;
    pub const SYN: u8 = 0x02;
    pub const RST: u8 = 0x04;
    pub const PSH: u8 = 0x08;
    pub const ACK: u8 = 0x10;
    pub const URG: u8 = 0x20;
    pub const ECE: u8 = 0x40;
    pub const CWR: u8 = 0x80;

    pub const fn fin(self) -> bool {
        self.0 & Self::FIN != 0
    }
    pub const fn syn(self) -> bool {
        self.0 & Self::SYN != 0
    }
    pub const fn rst(self) -> bool {
        self.0 & Self::RST != 0
    }
    pub const fn psh(self) -> bool {
        self.0 & Self::PSH != 0
    }
    pub const fn ack(self) -> bool {
        self.0 & Self::ACK != 0
    }
    pub const fn urg(self) -> bool {
        self.0 & Self::URG != 0
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UdpDatagram<'a> {
    pub src_port: u16,
    pub dst_port: u16,
    /// Cut to the UDP length; a truncated capture gives what is there.
    pub payload: &'a [u8],
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Icmp {
    /// ICMPv6 (protocol 58) rather than ICMP (protocol 1).
    pub v6: bool,
    pub kind: u8,
    pub code: u8,
}

/// IANA protocol numbers this crate follows.
pub mod protocol {
    pub const ICMP: u8 = 1;
    pub const TCP: u8 = 6;
    pub const UDP: u8 = 17;
    pub const ICMPV6: u8 = 58;
}

/// Decodes one frame of the given link type down to the network layer.
pub fn decode(link: LinkType, frame: &[u8]) -> Result<Frame<'_>, Error> {
    match link {
        LinkType::ETHERNET => ethernet::decode(frame),
        LinkType::RAW | LinkType::RAW_BSD | LinkType::RAW_OPENBSD => Ok(bare(ip(frame)?)),
        LinkType::IPV4 => Ok(bare(ipv4::decode(frame)?)),
        LinkType::IPV6 => Ok(bare(ipv6::decode(frame)?)),
        LinkType::NULL => null::decode(frame, false),
        LinkType::LOOP => null::decode(frame, true),
        LinkType::LINUX_SLL => sll::decode(frame),
        LinkType::LINUX_SLL2 => sll2::decode(frame),
        LinkType::NFLOG => nflog::decode(frame),
        other => Err(Error::UnsupportedLink(other)),
    }
}

/// A frame without link-layer addresses.
#[inline]
fn bare(ip: Ip<'_>) -> Frame<'_> {
    Frame {
        src_mac: None,
        dst_mac: None,
        vlan: None,
        network: Network::Ip(ip),
    }
}

/// An IP packet whose version is only known from its first nibble (raw IP link types).
#[inline]
pub(crate) fn ip(data: &[u8]) -> Result<Ip<'_>, Error> {
    let first = *data.first().ok_or(Error::Truncated {
        layer: "ip",
        needed: 1,
        got: 0,
    })?;
    match first >> 4 {
        4 => ipv4::decode(data),
        6 => ipv6::decode(data),
        v => Err(Error::Unknown {
            layer: "ip",
            field: "version",
            value: u32::from(v),
        }),
    }
}

/// Follows an ethertype through VLAN tags and PPPoE to IP. `vlan` receives the outermost
/// VLAN id seen.
pub(crate) fn network<'a>(
    mut ethertype: u16,
    mut data: &'a [u8],
    vlan: &mut Option<u16>,
) -> Result<Network<'a>, Error> {
    let mut tags = 0usize;
    loop {
        match ethertype {
            ethernet::ethertype::IPV4 => return ipv4::decode(data).map(Network::Ip),
            ethernet::ethertype::IPV6 => return ipv6::decode(data).map(Network::Ip),
            ethernet::ethertype::VLAN
            | ethernet::ethertype::QINQ
            | ethernet::ethertype::QINQ_OLD => {
                tags += 1;
                if tags > MAX_VLAN_TAGS {
                    return Err(Error::Malformed {
                        layer: "vlan",
                        what: "too many VLAN tags",
                    });
                }
                let tag = ethernet::VlanTag::new_checked(data)?;
                if vlan.is_none() {
                    *vlan = Some(tag.vid());
                }
                ethertype = tag.ethertype();
                data = tag.payload();
            }
            ethernet::ethertype::PPPOE_SESSION => return pppoe::decode(data),
            other => return Ok(Network::Other { ethertype: other }),
        }
    }
}

/// Reads the transport header of an IP payload (whole, or reassembled from fragments).
pub fn transport(protocol: u8, payload: &[u8]) -> Result<Transport<'_>, Error> {
    match protocol {
        protocol::TCP => {
            let p = tcp::Packet::new_checked(payload)?;
            Ok(Transport::Tcp(TcpSegment {
                src_port: p.src_port(),
                dst_port: p.dst_port(),
                seq: p.seq_number(),
                ack: p.ack_number(),
                flags: p.flags(),
                window: p.window_len(),
                payload: p.payload(),
            }))
        }
        protocol::UDP => {
            let p = udp::Packet::new_checked(payload)?;
            Ok(Transport::Udp(UdpDatagram {
                src_port: p.src_port(),
                dst_port: p.dst_port(),
                payload: p.payload(),
            }))
        }
        protocol::ICMP | protocol::ICMPV6 => {
            let p = icmp::Packet::new_checked(payload)?;
            Ok(Transport::Icmp(Icmp {
                v6: protocol == protocol::ICMPV6,
                kind: p.msg_type(),
                code: p.msg_code(),
            }))
        }
        other => Ok(Transport::Other(other)),
    }
}

/// Entry points for fuzz targets. Not part of the API.
#[doc(hidden)]
pub mod fuzzing {
    use super::*;

    /// Decodes `data` as a frame of link type `link` and, when it is IP, its transport header,
    /// checking the invariants every caller relies on.
    pub fn decode_all(link: u16, data: &[u8]) {
        let Ok(frame) = decode(LinkType(link), data) else {
            return;
        };
        if let Network::Ip(ip) = frame.network {
            assert!(ip.version == 4 || ip.version == 6);
            // The payload is a sub-slice of the input.
            let base = data.as_ptr() as usize;
            let start = ip.payload.as_ptr() as usize;
            assert!(start >= base && start + ip.payload.len() <= base + data.len());
            if let Some(f) = ip.fragment {
                assert!(f.more || f.offset != 0 || ip.version == 6);
            }
            if let Ok(Transport::Tcp(t)) = transport(ip.protocol, ip.payload) {
                assert!(t.payload.len() + 20 <= ip.payload.len());
            }
            if let Ok(Transport::Udp(u)) = transport(ip.protocol, ip.payload) {
                assert!(u.payload.len() + 8 <= ip.payload.len());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_display_names_layer_and_values() {
        let e = Error::BelowMinimum {
            layer: "ipv4",
            field: "header length",
            value: 4,
            min: 20,
        };
        assert_eq!(e.to_string(), "ipv4: header length 4 is below 20");
        let e = Error::Truncated {
            layer: "tcp",
            needed: 20,
            got: 3,
        };
        assert_eq!(e.to_string(), "tcp: truncated: needed 20 bytes, got 3");
        let e = Error::UnsupportedLink(LinkType(147));
        assert_eq!(e.to_string(), "unsupported link type unknown (147)");
    }

    #[test]
    fn unsupported_link_type() {
        assert_eq!(
            decode(LinkType(147), &[0; 64]),
            Err(Error::UnsupportedLink(LinkType(147)))
        );
    }

    #[test]
    fn raw_ip_picks_version_by_nibble() {
        assert_eq!(
            decode(LinkType::RAW, &[0x50; 40]),
            Err(Error::Unknown {
                layer: "ip",
                field: "version",
                value: 5
            })
        );
        assert_eq!(
            decode(LinkType::RAW, &[]),
            Err(Error::Truncated {
                layer: "ip",
                needed: 1,
                got: 0
            })
        );
        // Link types 228/229 insist on their version.
        assert!(decode(LinkType::IPV6, &ipv4::tests::UDP_FRAG_FIRST[14..]).is_err());
        assert!(decode(LinkType::IPV4, &ipv4::tests::UDP_FRAG_FIRST[14..]).is_ok());
        assert!(decode(LinkType::RAW_BSD, &ipv4::tests::UDP_FRAG_FIRST[14..]).is_ok());
        assert!(decode(LinkType::RAW_OPENBSD, &ipv6::tests::FRAG_TCP).is_ok());
    }

    #[test]
    fn transport_dispatch() {
        assert_eq!(transport(47, &[]), Ok(Transport::Other(47)));
        assert_eq!(
            transport(58, &[128, 0, 0, 0]),
            Ok(Transport::Icmp(Icmp {
                v6: true,
                kind: 128,
                code: 0
            }))
        );
        assert_eq!(
            transport(1, &[8, 0, 0, 0]),
            Ok(Transport::Icmp(Icmp {
                v6: false,
                kind: 8,
                code: 0
            }))
        );
        assert!(transport(6, &[0; 19]).is_err());
        assert!(transport(17, &[0; 7]).is_err());
    }

    #[test]
    fn tcp_flags_helpers() {
        let f = TcpFlags(0x3f);
        assert!(f.fin() && f.syn() && f.rst() && f.psh() && f.ack() && f.urg());
        let f = TcpFlags(0);
        assert!(!(f.fin() || f.syn() || f.rst() || f.psh() || f.ack() || f.urg()));
    }

    /// Random byte mutations of every fixture (a fixed xorshift sequence, so failures
    /// reproduce) decode or fail cleanly under every link type.
    #[test]
    fn mutations_never_panic() {
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for &(_, frame) in FIXTURES {
            let mut buf = frame.to_vec();
            for _ in 0..3000 {
                buf.copy_from_slice(frame);
                for _ in 0..1 + next() % 4 {
                    let at = (next() % buf.len() as u64) as usize;
                    buf[at] = next() as u8;
                }
                let cut = (next() % (buf.len() as u64 + 1)) as usize;
                for link in LINKS {
                    fuzzing::decode_all(link.0, &buf[..cut]);
                }
            }
        }
    }

    const LINKS: [LinkType; 11] = [
        LinkType::NULL,
        LinkType::ETHERNET,
        LinkType::RAW,
        LinkType::LOOP,
        LinkType::LINUX_SLL,
        LinkType::IPV4,
        LinkType::IPV6,
        LinkType::NFLOG,
        LinkType::LINUX_SLL2,
        LinkType::RAW_BSD,
        LinkType::RAW_OPENBSD,
    ];

    const FIXTURES: &[(LinkType, &[u8])] = &[
        (LinkType::ETHERNET, &ethernet::tests::VLAN_TCP_SYN),
        (LinkType::ETHERNET, &ipv4::tests::UDP_FRAG_FIRST),
        (LinkType::ETHERNET, &pppoe::tests::PPPOE_IPV4),
        (LinkType::LINUX_SLL, &sll::tests::SLL_DNS),
        (LinkType::LINUX_SLL2, &sll2::tests::SLL2_ICMP),
        (LinkType::NFLOG, &nflog::tests::NFLOG_IPV4),
        (LinkType::NULL, &null::tests::NULL_IPV6_SYN),
        (LinkType::RAW, &ipv6::tests::FRAG_TCP),
    ];

    /// Every prefix of every fixture decodes or fails cleanly, for every link type.
    #[test]
    fn truncation_at_every_offset_never_panics() {
        for &(link, frame) in FIXTURES {
            assert!(decode(link, frame).is_ok(), "{link} fixture decodes");
            for cut in 0..frame.len() {
                for any in LINKS {
                    fuzzing::decode_all(any.0, &frame[..cut]);
                    fuzzing::decode_all(any.0, &frame[cut..]);
                }
            }
        }
    }
}

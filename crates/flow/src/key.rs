//! The flow key: one value for both directions of a conversation.

use std::fmt;
use std::net::{IpAddr, SocketAddr};

/// The hasher for tables keyed by addresses an attacker may choose.
///
/// [`FlowHasher::new`] draws fresh keys on every run (hash flooding cannot be planned in
/// advance); nothing phonehome reports depends on hash order, because flows carry a serial
/// number and are handed out sorted by it. [`fixed_hasher`] gives a reproducible state for
/// sharding or tests.
pub type FlowHasher = ahash::RandomState;

/// A hasher with fixed keys: the same key hashes the same way on every run on one machine.
pub fn fixed_hasher() -> FlowHasher {
    ahash::RandomState::with_seeds(
        0x243f_6a88_85a3_08d3,
        0x1319_8a2e_0370_7344,
        0xa409_3822_299f_31d0,
        0x082e_fa98_ec4e_6c89,
    )
}

/// IANA protocol numbers that carry 16-bit ports at the start of their header.
pub mod proto {
    pub const ICMP: u8 = 1;
    pub const TCP: u8 = 6;
    pub const UDP: u8 = 17;
    pub const ICMPV6: u8 = 58;
    pub const SCTP: u8 = 132;
    pub const UDPLITE: u8 = 136;
}

/// One end of a flow. `A` is the lesser endpoint of the key, whoever spoke first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Side {
    A,
    B,
}

impl Side {
    /// The other end.
    pub const fn other(self) -> Self {
        match self {
            Self::A => Self::B,
            Self::B => Self::A,
        }
    }

    /// 0 for `A`, 1 for `B`: an index into per-direction arrays.
    pub const fn index(self) -> usize {
        match self {
            Self::A => 0,
            Self::B => 1,
        }
    }
}

/// A bidirectional flow key: protocol and two endpoints, ordered so that `a <= b`.
///
/// Both directions of a conversation build the same key; [`FlowKey::new`] also says which
/// [`Side`] sent the packet. Protocols without ports use port 0 on both ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FlowKey {
    pub protocol: u8,
    pub a: SocketAddr,
    pub b: SocketAddr,
}

impl FlowKey {
    /// The key of a packet from `src` to `dst`, and the side `src` is on.
    ///
    /// A packet whose source equals its destination is on side `A`.
    pub fn new(protocol: u8, src: SocketAddr, dst: SocketAddr) -> (Self, Side) {
        if src <= dst {
            (
                Self {
                    protocol,
                    a: src,
                    b: dst,
                },
                Side::A,
            )
        } else {
            (
                Self {
                    protocol,
                    a: dst,
                    b: src,
                },
                Side::B,
            )
        }
    }

    /// Like [`FlowKey::new`] from separate addresses and ports.
    pub fn from_parts(
        protocol: u8,
        src: IpAddr,
        src_port: u16,
        dst: IpAddr,
        dst_port: u16,
    ) -> (Self, Side) {
        Self::new(
            protocol,
            SocketAddr::new(src, src_port),
            SocketAddr::new(dst, dst_port),
        )
    }

    /// Whether packets of this protocol carry ports (TCP, UDP, SCTP, UDP-Lite).
    pub const fn has_ports(protocol: u8) -> bool {
        matches!(
            protocol,
            proto::TCP | proto::UDP | proto::SCTP | proto::UDPLITE
        )
    }

    /// The endpoint on `side`.
    pub const fn endpoint(&self, side: Side) -> SocketAddr {
        match side {
            Side::A => self.a,
            Side::B => self.b,
        }
    }
}

impl fmt::Display for FlowKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self.protocol {
            proto::TCP => "tcp",
            proto::UDP => "udp",
            proto::ICMP => "icmp",
            proto::ICMPV6 => "icmpv6",
            proto::SCTP => "sctp",
            proto::UDPLITE => "udplite",
            _ => return write!(f, "proto {} {} <-> {}", self.protocol, self.a, self.b),
        };
        write!(f, "{name} {} <-> {}", self.a, self.b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sa(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    #[test]
    fn both_directions_share_a_key() {
        let cases = [
            ("10.0.0.2:51000", "93.184.216.34:443"),
            ("93.184.216.34:443", "10.0.0.2:51000"),
            ("[2001:db8::1]:53", "[2001:db8::2]:40000"),
            ("10.0.0.1:5", "[::1]:5"),
            ("10.0.0.1:80", "10.0.0.1:79"),
        ];
        for (src, dst) in cases {
            let (k1, s1) = FlowKey::new(6, sa(src), sa(dst));
            let (k2, s2) = FlowKey::new(6, sa(dst), sa(src));
            assert_eq!(k1, k2, "{src} {dst}");
            assert_ne!(s1, s2, "{src} {dst}");
            assert!(k1.a <= k1.b);
            assert_eq!(k1.endpoint(s1), sa(src));
        }
    }

    #[test]
    fn same_source_and_destination_is_side_a() {
        let (k, s) = FlowKey::new(17, sa("10.0.0.1:9"), sa("10.0.0.1:9"));
        assert_eq!(s, Side::A);
        assert_eq!(k.a, k.b);
    }

    #[test]
    fn protocol_separates_keys() {
        let (t, _) = FlowKey::new(proto::TCP, sa("1.1.1.1:53"), sa("10.0.0.1:4000"));
        let (u, _) = FlowKey::new(proto::UDP, sa("1.1.1.1:53"), sa("10.0.0.1:4000"));
        assert_ne!(t, u);
        assert_eq!(u.to_string(), "udp 1.1.1.1:53 <-> 10.0.0.1:4000");
    }

    #[test]
    fn fixed_hasher_is_reproducible() {
        let (k, _) = FlowKey::new(6, sa("10.0.0.2:51000"), sa("93.184.216.34:443"));
        assert_eq!(
            std::hash::BuildHasher::hash_one(&fixed_hasher(), k),
            std::hash::BuildHasher::hash_one(&fixed_hasher(), k)
        );
    }

    #[test]
    fn sides() {
        assert_eq!(Side::A.other(), Side::B);
        assert_eq!(Side::B.index(), 1);
        assert!(FlowKey::has_ports(proto::UDP));
        assert!(!FlowKey::has_ports(proto::ICMP));
    }
}

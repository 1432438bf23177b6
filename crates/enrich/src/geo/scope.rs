//! Address scopes: which addresses are special-purpose and which are ordinary global unicast.
//!
//! The tables follow the IANA IPv4 and IPv6 Special-Purpose Address Registries (RFC 6890 and
//! the RFCs that added entries since). Only a [`Scope::Global`] address has a country or an
//! autonomous system worth looking up; everything else says something about the network the
//! device sits in (a LAN, a carrier's NAT, a multicast group), not about where data goes.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// What kind of address an IP is, by the special-purpose registries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    /// Ordinary unicast that can be routed on the Internet.
    Global,
    /// Private-use space: RFC 1918 for IPv4, unique local (RFC 4193) and the deprecated
    /// site-local prefix for IPv6, and the local-use NAT64 prefix (RFC 8215).
    Private,
    /// The host itself: 127/8, ::1.
    Loopback,
    /// Link-local unicast: 169.254/16 (RFC 3927), fe80::/10 (RFC 4291 §2.5.6).
    LinkLocal,
    /// Shared address space for carrier-grade NAT: 100.64/10 (RFC 6598).
    Cgnat,
    /// Multicast: 224/4 (RFC 5771), ff00::/8 (RFC 4291 §2.7).
    Multicast,
    /// Documentation prefixes: TEST-NET-1/2/3 (RFC 5737), 2001:db8::/32 (RFC 3849),
    /// 3fff::/20 (RFC 9637).
    Documentation,
    /// 0.0.0.0 and :: (RFC 1122 §3.2.1.3, RFC 4291 §2.5.2).
    Unspecified,
    /// The limited broadcast address 255.255.255.255 (RFC 919, RFC 8190).
    Broadcast,
    /// Every other special-purpose or unallocated block: "this network" 0/8, IETF protocol
    /// assignments, benchmarking, the 6to4 relay anycast, 240/4, IPv6 outside 2000::/3, ...
    Reserved,
}

impl Scope {
    /// A short lower-case name, stable for reports.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Global => "global",
            Self::Private => "private",
            Self::Loopback => "loopback",
            Self::LinkLocal => "link-local",
            Self::Cgnat => "cgnat",
            Self::Multicast => "multicast",
            Self::Documentation => "documentation",
            Self::Unspecified => "unspecified",
            Self::Broadcast => "broadcast",
            Self::Reserved => "reserved",
        }
    }

    /// Whether the address is ordinary Internet unicast.
    #[must_use]
    pub const fn is_global(self) -> bool {
        matches!(self, Self::Global)
    }
}

impl std::fmt::Display for Scope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The scope of an address. IPv4-mapped IPv6 addresses (`::ffff:a.b.c.d`, RFC 4291 §2.5.5.2)
/// and NAT64 addresses (`64:ff9b::a.b.c.d`) are classified as the IPv4 address they carry
/// (see [`embedded_v4`]; RFC 6052 §3.1 forbids the well-known prefix for non-global IPv4).
#[must_use]
pub fn scope(ip: IpAddr) -> Scope {
    match (embedded_v4(ip), ip) {
        (Some(v4), _) => scope_v4(v4),
        (None, IpAddr::V6(v6)) => scope_v6(v6),
        (None, IpAddr::V4(v4)) => scope_v4(v4),
    }
}

/// One row of a prefix table: network, prefix length, scope. Tables are searched in order, so a
/// more specific prefix comes before the block that contains it.
type Row4 = (u32, u8, Scope);
type Row6 = (u128, u8, Scope);

/// IANA IPv4 Special-Purpose Address Registry (RFC 6890 §2.2.2, updated by RFC 7335, 8190).
const V4: &[Row4] = &[
    (0x0000_0000, 32, Scope::Unspecified), // RFC 1122 §3.2.1.3 "this host"
    (0x0000_0000, 8, Scope::Reserved),     // "this network"
    (0x0a00_0000, 8, Scope::Private),      // 10/8, RFC 1918
    (0x6440_0000, 10, Scope::Cgnat),       // 100.64/10, RFC 6598
    (0x7f00_0000, 8, Scope::Loopback),     // 127/8, RFC 1122
    (0xa9fe_0000, 16, Scope::LinkLocal),   // 169.254/16, RFC 3927
    (0xac10_0000, 12, Scope::Private),     // 172.16/12, RFC 1918
    (0xc000_0000, 24, Scope::Reserved),    // 192.0.0/24 IETF protocol assignments, RFC 6890
    (0xc000_0200, 24, Scope::Documentation), // 192.0.2/24 TEST-NET-1, RFC 5737
    (0xc058_6300, 24, Scope::Reserved),    // 192.88.99/24 6to4 relay anycast, RFC 7526
    (0xc0a8_0000, 16, Scope::Private),     // 192.168/16, RFC 1918
    (0xc612_0000, 15, Scope::Reserved),    // 198.18/15 benchmarking, RFC 2544
    (0xc633_6400, 24, Scope::Documentation), // 198.51.100/24 TEST-NET-2, RFC 5737
    (0xcb00_7100, 24, Scope::Documentation), // 203.0.113/24 TEST-NET-3, RFC 5737
    (0xe000_0000, 4, Scope::Multicast),    // 224/4, RFC 5771
    (0xffff_ffff, 32, Scope::Broadcast),   // RFC 919 §7, RFC 8190
    (0xf000_0000, 4, Scope::Reserved),     // 240/4 future use, RFC 1112 §4
];

/// IANA IPv6 Special-Purpose Address Registry (RFC 6890 §2.2.3 and later entries), then the
/// address architecture (RFC 4291 §2.4): only 2000::/3 is global unicast today.
const V6: &[Row6] = &[
    (0, 128, Scope::Unspecified), // ::/128, RFC 4291 §2.5.2
    (1, 128, Scope::Loopback),    // ::1/128, RFC 4291 §2.5.3
    (0x0064_ff9b_0001_u128 << 80, 48, Scope::Private), // 64:ff9b:1::/48, RFC 8215
    (0x0100_u128 << 112, 64, Scope::Reserved), // 100::/64 discard, RFC 6666
    (0x2001_0db8_u128 << 96, 32, Scope::Documentation), // 2001:db8::/32, RFC 3849
    (0x2001_0002_0000_u128 << 80, 48, Scope::Reserved), // 2001:2::/48 benchmarking, RFC 5180
    (0x2001_0010_u128 << 96, 28, Scope::Reserved), // 2001:10::/28 ORCHID, RFC 4843
    (0x2001_0020_u128 << 96, 28, Scope::Reserved), // 2001:20::/28 ORCHIDv2, RFC 7343
    (0x3fff_u128 << 112, 20, Scope::Documentation), // 3fff::/20, RFC 9637
    (0x5f00_u128 << 112, 16, Scope::Reserved), // 5f00::/16 SRv6 SIDs, RFC 9602
    (0x2000_u128 << 112, 3, Scope::Global), // 2000::/3, RFC 4291 §2.4
    (0xfc00_u128 << 112, 7, Scope::Private), // fc00::/7 ULA, RFC 4193
    (0xfe80_u128 << 112, 10, Scope::LinkLocal), // fe80::/10, RFC 4291 §2.5.6
    (0xfec0_u128 << 112, 10, Scope::Private), // fec0::/10 site-local, RFC 3879
    (0xff00_u128 << 112, 8, Scope::Multicast), // ff00::/8, RFC 4291 §2.7
];

fn scope_v4(ip: Ipv4Addr) -> Scope {
    let bits = u32::from(ip);
    V4.iter()
        .find(|&&(net, len, _)| prefix_match_u32(bits, net, len))
        .map_or(Scope::Global, |&(_, _, s)| s)
}

fn scope_v6(ip: Ipv6Addr) -> Scope {
    let bits = u128::from(ip);
    // Outside the listed blocks, IPv6 space is unallocated (RFC 4291 §2.4), hence Reserved.
    V6.iter()
        .find(|&&(net, len, _)| prefix_match_u128(bits, net, len))
        .map_or(Scope::Reserved, |&(_, _, s)| s)
}

fn prefix_match_u32(bits: u32, net: u32, len: u8) -> bool {
    let mask = u32::MAX
        .checked_shl(32 - u32::from(len.min(32)))
        .unwrap_or(0);
    bits & mask == net & mask
}

fn prefix_match_u128(bits: u128, net: u128, len: u8) -> bool {
    let mask = u128::MAX
        .checked_shl(128 - u32::from(len.min(128)))
        .unwrap_or(0);
    bits & mask == net & mask
}

/// The IPv4 address a lookup should use for `ip`: the address itself, the IPv4 carried by an
/// IPv4-mapped address (RFC 4291 §2.5.5.2), or the IPv4 server behind the NAT64 well-known
/// prefix 64:ff9b::/96 (RFC 6052 §2.1), which is how IPv6-only mobile networks (464XLAT,
/// RFC 6877) reach IPv4 servers.
#[must_use]
pub fn embedded_v4(ip: IpAddr) -> Option<Ipv4Addr> {
    match ip {
        IpAddr::V4(v4) => Some(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return Some(v4);
            }
            let bits = u128::from(v6);
            // Truncation keeps the low 32 bits, which is the embedded address (RFC 6052 §2.2).
            #[allow(clippy::cast_possible_truncation)]
            prefix_match_u128(bits, 0x0064_ff9b_u128 << 96, 96).then(|| Ipv4Addr::from(bits as u32))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scope_table() {
        let cases: &[(&str, Scope)] = &[
            ("8.8.8.8", Scope::Global),
            ("0.0.0.0", Scope::Unspecified),
            ("0.1.2.3", Scope::Reserved),
            ("10.1.2.3", Scope::Private),
            ("100.63.255.255", Scope::Global),
            ("100.64.0.1", Scope::Cgnat),
            ("100.127.255.255", Scope::Cgnat),
            ("100.128.0.0", Scope::Global),
            ("127.0.0.1", Scope::Loopback),
            ("169.254.1.1", Scope::LinkLocal),
            ("172.15.255.255", Scope::Global),
            ("172.16.0.1", Scope::Private),
            ("172.31.255.255", Scope::Private),
            ("172.32.0.0", Scope::Global),
            ("192.0.0.8", Scope::Reserved),
            ("192.0.2.1", Scope::Documentation),
            ("192.88.99.1", Scope::Reserved),
            ("192.168.1.1", Scope::Private),
            ("198.18.0.1", Scope::Reserved),
            ("198.19.255.255", Scope::Reserved),
            ("198.51.100.7", Scope::Documentation),
            ("203.0.113.9", Scope::Documentation),
            ("224.0.0.251", Scope::Multicast),
            ("239.255.255.250", Scope::Multicast),
            ("240.0.0.1", Scope::Reserved),
            ("255.255.255.254", Scope::Reserved),
            ("255.255.255.255", Scope::Broadcast),
            ("::", Scope::Unspecified),
            ("::1", Scope::Loopback),
            ("::2", Scope::Reserved),
            ("::ffff:192.168.0.1", Scope::Private),
            ("::ffff:8.8.8.8", Scope::Global),
            ("64:ff9b::808:808", Scope::Global),
            ("64:ff9b::10.0.0.1", Scope::Private),
            ("64:ff9b:1::1", Scope::Private),
            ("100::1", Scope::Reserved),
            ("2001:db8::1", Scope::Documentation),
            ("2001:2::1", Scope::Reserved),
            ("2001:4860:4860::8888", Scope::Global),
            ("2606:4700:4700::1111", Scope::Global),
            ("3fff::1", Scope::Documentation),
            ("5f00::1", Scope::Reserved),
            ("fc00::1", Scope::Private),
            ("fd12:3456::1", Scope::Private),
            ("fe80::1", Scope::LinkLocal),
            ("febf::1", Scope::LinkLocal),
            ("fec0::1", Scope::Private),
            ("ff02::fb", Scope::Multicast),
            ("4000::1", Scope::Reserved),
        ];
        for &(text, want) in cases {
            let ip: IpAddr = text.parse().unwrap();
            assert_eq!(scope(ip), want, "{text}");
        }
    }

    #[test]
    fn names_are_stable() {
        assert_eq!(Scope::Cgnat.as_str(), "cgnat");
        assert_eq!(Scope::LinkLocal.to_string(), "link-local");
        assert!(Scope::Global.is_global());
        assert!(!Scope::Private.is_global());
    }

    #[test]
    fn embedded_v4_addresses() {
        let cases: &[(&str, Option<&str>)] = &[
            ("1.2.3.4", Some("1.2.3.4")),
            ("::ffff:1.2.3.4", Some("1.2.3.4")),
            ("64:ff9b::1.2.3.4", Some("1.2.3.4")),
            ("64:ff9b:1::1.2.3.4", None),
            ("2001:db8::1", None),
        ];
        for &(text, want) in cases {
            let want = want.map(|w| w.parse::<Ipv4Addr>().unwrap());
            assert_eq!(embedded_v4(text.parse().unwrap()), want, "{text}");
        }
    }
}

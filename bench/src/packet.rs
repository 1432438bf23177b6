//! Ethernet / IPv4 / IPv6 / TCP / UDP frame building into a reused buffer, with correct checksums.
//!
//! Every builder clears the caller's buffer, sizes it once, writes the headers, lets a closure fill the
//! payload in place, then computes the checksums: no allocation once the buffer has grown to a full frame.

use std::net::IpAddr;

/// One end of a conversation as seen on the wire of the phone's Wi-Fi link.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Peer {
    /// Link-layer address of the frame's sender or receiver on this hop.
    pub mac: [u8; 6],
    /// Network address.
    pub ip: IpAddr,
    /// Transport port.
    pub port: u16,
}

/// TCP flag bits (RFC 9293 section 3.1).
pub mod flags {
    /// No more data from sender.
    pub const FIN: u8 = 0x01;
    /// Synchronize sequence numbers.
    pub const SYN: u8 = 0x02;
    /// Push function.
    pub const PSH: u8 = 0x08;
    /// Acknowledgment field is significant.
    pub const ACK: u8 = 0x10;
}

/// The TCP header fields that vary per segment.
#[derive(Clone, Copy, Debug)]
pub struct TcpHeader {
    /// Sequence number.
    pub seq: u32,
    /// Acknowledgment number.
    pub ack: u32,
    /// Flag bits from [`flags`].
    pub flags: u8,
    /// Receive window (already scaled down).
    pub window: u16,
    /// Timestamp option value (RFC 7323 section 3).
    pub tsval: u32,
    /// Timestamp echo reply.
    pub tsecr: u32,
}

/// Per-packet IP fields.
#[derive(Clone, Copy, Debug)]
pub struct IpFields {
    /// IPv4 identification (ignored for IPv6).
    pub id: u16,
    /// TTL or hop limit.
    pub ttl: u8,
    /// IPv6 flow label (ignored for IPv4).
    pub flow_label: u32,
}

const ETH_LEN: usize = 14;
const IPV4_LEN: usize = 20;
const IPV6_LEN: usize = 40;
const UDP_LEN: usize = 8;
/// TCP header with NOP, NOP, Timestamps: what Linux sends on an established connection.
pub const TCP_LEN_TS: usize = 32;
/// TCP SYN header with MSS, SACK-permitted, Timestamps, NOP, window scale (Linux/Android order).
pub const TCP_LEN_SYN: usize = 40;
const PROTO_TCP: u8 = 6;
const PROTO_UDP: u8 = 17;

/// Largest TCP payload per segment over IPv4 on a 1500-byte MTU with timestamps: 1500 - 20 - 32.
pub const MSS_V4: usize = 1448;
/// The same over IPv6: 1500 - 40 - 32.
pub const MSS_V6: usize = 1428;

/// One's-complement sum of 16-bit big-endian words (RFC 1071 section 4.1), unfolded.
#[inline]
pub fn sum16(data: &[u8], mut acc: u64) -> u64 {
    // Sum 32-bit words into a 64-bit accumulator: the carries fold back in `fold`, which is the
    // "deferred carries" technique of RFC 1071 section 2 (B).
    let mut words = data.chunks_exact(4);
    for w in &mut words {
        acc += u64::from(u32::from_be_bytes([w[0], w[1], w[2], w[3]]));
    }
    let rest = words.remainder();
    let mut i = 0;
    while i + 1 < rest.len() {
        acc += u64::from(u16::from_be_bytes([rest[i], rest[i + 1]]));
        i += 2;
    }
    if i < rest.len() {
        // An odd final byte is padded with a zero octet (RFC 1071 section 4.1).
        acc += u64::from(rest[i]) << 8;
    }
    acc
}

/// Folds a [`sum16`] accumulator to 16 bits and complements it: the Internet checksum.
#[inline]
pub fn fold(mut acc: u64) -> u16 {
    while acc > 0xffff {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    !(acc as u16)
}

/// The Internet checksum of `data`.
pub fn checksum(data: &[u8]) -> u16 {
    fold(sum16(data, 0))
}

/// A TCP segment in an Ethernet frame. `fill` writes the `payload_len` payload bytes in place.
pub fn tcp_frame(
    buf: &mut Vec<u8>,
    src: &Peer,
    dst: &Peer,
    ip: IpFields,
    h: &TcpHeader,
    payload_len: usize,
    fill: impl FnOnce(&mut [u8]),
) {
    let tcp_len = if h.flags & flags::SYN != 0 {
        TCP_LEN_SYN
    } else {
        TCP_LEN_TS
    };
    let l4 = ip_frame(buf, src, dst, ip, PROTO_TCP, tcp_len + payload_len);
    let t = &mut buf[l4..];
    t[0..2].copy_from_slice(&src.port.to_be_bytes());
    t[2..4].copy_from_slice(&dst.port.to_be_bytes());
    t[4..8].copy_from_slice(&h.seq.to_be_bytes());
    t[8..12].copy_from_slice(&h.ack.to_be_bytes());
    // Data offset in 32-bit words (RFC 9293 section 3.1).
    t[12] = ((tcp_len / 4) as u8) << 4;
    t[13] = h.flags;
    t[14..16].copy_from_slice(&h.window.to_be_bytes());
    t[16..20].fill(0); // checksum, urgent pointer
    let o = &mut t[20..tcp_len];
    if h.flags & flags::SYN != 0 {
        // MSS (RFC 9293 3.2), SACK-permitted (RFC 2018), Timestamps (RFC 7323), NOP, window scale 7.
        let mss = if matches!(src.ip, IpAddr::V4(_)) {
            1460u16
        } else {
            1440
        };
        o[0..4].copy_from_slice(&[2, 4, (mss >> 8) as u8, mss as u8]);
        o[4..6].copy_from_slice(&[4, 2]);
        o[6..8].copy_from_slice(&[8, 10]);
        o[8..12].copy_from_slice(&h.tsval.to_be_bytes());
        o[12..16].copy_from_slice(&h.tsecr.to_be_bytes());
        o[16..20].copy_from_slice(&[1, 3, 3, 7]);
    } else {
        o[0..4].copy_from_slice(&[1, 1, 8, 10]);
        o[4..8].copy_from_slice(&h.tsval.to_be_bytes());
        o[8..12].copy_from_slice(&h.tsecr.to_be_bytes());
    }
    fill(&mut t[tcp_len..]);
    let sum = fold(sum16(t, pseudo_sum(src.ip, dst.ip, PROTO_TCP, t.len())));
    t[16..18].copy_from_slice(&sum.to_be_bytes());
}

/// A UDP datagram in an Ethernet frame. `fill` writes the `payload_len` payload bytes in place.
pub fn udp_frame(
    buf: &mut Vec<u8>,
    src: &Peer,
    dst: &Peer,
    ip: IpFields,
    payload_len: usize,
    fill: impl FnOnce(&mut [u8]),
) {
    let l4 = ip_frame(buf, src, dst, ip, PROTO_UDP, UDP_LEN + payload_len);
    let u = &mut buf[l4..];
    let len = u.len() as u16;
    u[0..2].copy_from_slice(&src.port.to_be_bytes());
    u[2..4].copy_from_slice(&dst.port.to_be_bytes());
    u[4..6].copy_from_slice(&len.to_be_bytes());
    u[6..8].fill(0);
    fill(&mut u[UDP_LEN..]);
    let mut sum = fold(sum16(u, pseudo_sum(src.ip, dst.ip, PROTO_UDP, u.len())));
    if sum == 0 {
        // A computed zero is sent as all ones; zero means "no checksum" (RFC 768, RFC 8200 section 8.1).
        sum = 0xffff;
    }
    u[6..8].copy_from_slice(&sum.to_be_bytes());
}

/// Writes Ethernet and IP headers for an L4 payload of `l4_len` bytes; returns the L4 offset.
fn ip_frame(
    buf: &mut Vec<u8>,
    src: &Peer,
    dst: &Peer,
    ip: IpFields,
    proto: u8,
    l4_len: usize,
) -> usize {
    let ip_len = match src.ip {
        IpAddr::V4(_) => IPV4_LEN,
        IpAddr::V6(_) => IPV6_LEN,
    };
    buf.clear();
    buf.resize(ETH_LEN + ip_len + l4_len, 0);
    buf[0..6].copy_from_slice(&dst.mac);
    buf[6..12].copy_from_slice(&src.mac);
    match (src.ip, dst.ip) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            buf[12..14].copy_from_slice(&0x0800u16.to_be_bytes());
            let h = &mut buf[ETH_LEN..ETH_LEN + IPV4_LEN];
            // RFC 791 section 3.1: version 4, IHL 5, DSCP 0, total length, id, DF, TTL, protocol.
            h[0] = 0x45;
            h[2..4].copy_from_slice(&((IPV4_LEN + l4_len) as u16).to_be_bytes());
            h[4..6].copy_from_slice(&ip.id.to_be_bytes());
            h[6] = 0x40;
            h[8] = ip.ttl;
            h[9] = proto;
            h[12..16].copy_from_slice(&s.octets());
            h[16..20].copy_from_slice(&d.octets());
            let sum = checksum(h);
            h[10..12].copy_from_slice(&sum.to_be_bytes());
        }
        (IpAddr::V6(s), IpAddr::V6(d)) => {
            buf[12..14].copy_from_slice(&0x86ddu16.to_be_bytes());
            let h = &mut buf[ETH_LEN..ETH_LEN + IPV6_LEN];
            // RFC 8200 section 3: version 6, traffic class 0, flow label, payload length, next header.
            h[0..4].copy_from_slice(&((6u32 << 28) | (ip.flow_label & 0xf_ffff)).to_be_bytes());
            h[4..6].copy_from_slice(&(l4_len as u16).to_be_bytes());
            h[6] = proto;
            h[7] = ip.ttl;
            h[8..24].copy_from_slice(&s.octets());
            h[24..40].copy_from_slice(&d.octets());
        }
        // The session planner pairs addresses of one family; a mix is a generator bug.
        _ => unreachable!("mixed address families in one packet"),
    }
    ETH_LEN + ip_len
}

/// The pseudo-header part of the TCP/UDP checksum (RFC 9293 section 3.1, RFC 8200 section 8.1).
fn pseudo_sum(src: IpAddr, dst: IpAddr, proto: u8, l4_len: usize) -> u64 {
    let mut acc = u64::from(proto) + l4_len as u64;
    match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            acc = sum16(&s.octets(), acc);
            acc = sum16(&d.octets(), acc);
        }
        (IpAddr::V6(s), IpAddr::V6(d)) => {
            acc = sum16(&s.octets(), acc);
            acc = sum16(&d.octets(), acc);
        }
        _ => {}
    }
    acc
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{Ipv4Addr, Ipv6Addr};

    #[test]
    fn internet_checksum_vectors() {
        let cases: &[(&[u8], u16)] = &[
            // RFC 1071 section 3 example: sum ddf2, checksum its complement.
            (&[0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7], !0xddf2),
            // The textbook IPv4 header (192.168.0.1 -> 192.168.0.199, UDP, len 0x73): checksum b861.
            (
                &[
                    0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0x00, 0x00, 0xc0,
                    0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7,
                ],
                0xb861,
            ),
            // Odd length: the last byte is padded with zero.
            (&[0x01], !0x0100),
            (&[], 0xffff),
        ];
        for (data, want) in cases {
            assert_eq!(checksum(data), *want, "{data:02x?}");
        }
    }

    fn peers(v6: bool) -> (Peer, Peer) {
        let (a, b): (IpAddr, IpAddr) = if v6 {
            (
                "2001:db8::1".parse::<Ipv6Addr>().unwrap().into(),
                "2404:6800:4003:c00::5f".parse::<Ipv6Addr>().unwrap().into(),
            )
        } else {
            (
                Ipv4Addr::new(192, 168, 43, 20).into(),
                Ipv4Addr::new(142, 250, 4, 95).into(),
            )
        };
        (
            Peer {
                mac: [2; 6],
                ip: a,
                port: 40000,
            },
            Peer {
                mac: [4; 6],
                ip: b,
                port: 443,
            },
        )
    }

    /// Re-verifies a built frame the way a receiver does: a sum over the covered bytes is all ones.
    fn verify(frame: &[u8], v6: bool, proto: u8) {
        let ip_len = if v6 { 40 } else { 20 };
        let ip = &frame[14..14 + ip_len];
        let l4 = &frame[14 + ip_len..];
        let mut acc = u64::from(proto) + l4.len() as u64;
        if v6 {
            acc = sum16(&ip[8..40], acc);
        } else {
            assert_eq!(checksum(ip), 0, "ipv4 header checksum");
            assert_eq!(
                usize::from(u16::from_be_bytes([ip[2], ip[3]])),
                frame.len() - 14
            );
            acc = sum16(&ip[12..20], acc);
        }
        assert_eq!(fold(sum16(l4, acc)), 0, "l4 checksum");
    }

    #[test]
    fn built_frames_carry_valid_checksums() {
        let mut buf = Vec::new();
        for v6 in [false, true] {
            let (a, b) = peers(v6);
            let ip = IpFields {
                id: 7,
                ttl: 64,
                flow_label: 0x12345,
            };
            for (fl, len) in [
                (flags::SYN, 0),
                (flags::ACK | flags::PSH, 1448),
                (flags::ACK, 3),
            ] {
                let h = TcpHeader {
                    seq: 1,
                    ack: 2,
                    flags: fl,
                    window: 502,
                    tsval: 3,
                    tsecr: 4,
                };
                tcp_frame(&mut buf, &a, &b, ip, &h, len, |p| p.fill(0x5a));
                verify(&buf, v6, 6);
                let hdr = if fl & flags::SYN != 0 {
                    TCP_LEN_SYN
                } else {
                    TCP_LEN_TS
                };
                assert_eq!(buf.len(), 14 + if v6 { 40 } else { 20 } + hdr + len);
            }
            for len in [0usize, 1, 33, 1200] {
                udp_frame(&mut buf, &a, &b, ip, len, |p| p.fill(0xa5));
                verify(&buf, v6, 17);
            }
        }
    }

    #[test]
    fn full_segment_fits_the_mtu() {
        let mut buf = Vec::new();
        let (a, b) = peers(false);
        let h = TcpHeader {
            seq: 0,
            ack: 0,
            flags: flags::ACK,
            window: 1,
            tsval: 0,
            tsecr: 0,
        };
        let ip = IpFields {
            id: 0,
            ttl: 64,
            flow_label: 0,
        };
        tcp_frame(&mut buf, &a, &b, ip, &h, MSS_V4, |_| {});
        assert_eq!(buf.len(), 1514);
        let (a, b) = peers(true);
        tcp_frame(&mut buf, &a, &b, ip, &h, MSS_V6, |_| {});
        assert_eq!(buf.len(), 1514);
    }
}

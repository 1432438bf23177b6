//! IPv6 headers (RFC 8200 section 3) and the extension headers in front of the upper layer
//! (RFC 8200 section 4, RFC 4302 for AH).

use std::net::{IpAddr, Ipv6Addr};

use crate::{be16, be32, need, Error, Fragment, Ip};

/// Most extension headers walked before the upper layer. RFC 8200 section 4.1 recommends a
/// single occurrence of each of six kinds; a longer chain is an evasion attempt or garbage.
pub const MAX_EXT_HEADERS: usize = 8;

/// Next-header values that introduce extension headers (IANA "IPv6 Extension Header Types").
pub mod next_header {
    pub const HOP_BY_HOP: u8 = 0;
    pub const ROUTING: u8 = 43;
    pub const FRAGMENT: u8 = 44;
    /// Encapsulating Security Payload: opaque, ends the walk.
    pub const ESP: u8 = 50;
    pub const AUTH: u8 = 51;
    pub const NO_NEXT: u8 = 59;
    pub const DEST_OPTS: u8 = 60;
}

mod field {
    use core::ops::Range;
    pub(super) const VER_TC_FLOW: usize = 0;
    pub(super) const LENGTH: usize = 4;
    pub(super) const NXT_HDR: usize = 6;
    pub(super) const HOP_LIMIT: usize = 7;
    pub(super) const SRC_ADDR: Range<usize> = 8..24;
    pub(super) const DST_ADDR: Range<usize> = 24..40;

    // Extension headers (RFC 8200 section 4.2 layout, shared by AH in RFC 4302 section 2).
    pub(super) const EXT_NXT_HDR: usize = 0;
    pub(super) const EXT_LENGTH: usize = 1;
    pub(super) const EXT_MIN_LEN: usize = 8;

    // Fragment header (RFC 8200 section 4.5).
    pub(super) const FRAG_NXT_HDR: usize = 0;
    pub(super) const FRAG_OFF_M: usize = 2;
    pub(super) const FRAG_IDENT: usize = 4;
    pub(super) const FRAG_LEN: usize = 8;
}

/// Length of the fixed header.
pub const HEADER_LEN: usize = field::DST_ADDR.end;

const LAYER: &str = "ipv6";
const EXT_LAYER: &str = "ipv6 extension header";

/// A view of an IPv6 packet. As with IPv4, a buffer shorter than the payload length is a
/// snaplen-truncated capture, not an error.
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

    /// The fixed header is there and its version is 6. The payload length has no lower bound
    /// to check; its upper bound is the capture, handled as truncation.
    pub fn check_len(&self) -> Result<(), Error> {
        need(LAYER, HEADER_LEN, self.buffer.as_ref().len())?;
        if self.version() != 6 {
            return Err(Error::Malformed {
                layer: LAYER,
                what: "version is not 6",
            });
        }
        Ok(())
    }

    pub fn into_inner(self) -> T {
        self.buffer
    }

    pub fn version(&self) -> u8 {
        self.buffer.as_ref()[field::VER_TC_FLOW] >> 4
    }

    pub fn traffic_class(&self) -> u8 {
        (be16(self.buffer.as_ref(), field::VER_TC_FLOW) >> 4) as u8
    }

    pub fn flow_label(&self) -> u32 {
        be32(self.buffer.as_ref(), field::VER_TC_FLOW) & 0x000f_ffff
    }

    pub fn payload_len(&self) -> u16 {
        be16(self.buffer.as_ref(), field::LENGTH)
    }

    pub fn next_header(&self) -> u8 {
        self.buffer.as_ref()[field::NXT_HDR]
    }

    pub fn hop_limit(&self) -> u8 {
        self.buffer.as_ref()[field::HOP_LIMIT]
    }

    pub fn src_addr(&self) -> Ipv6Addr {
        addr(&self.buffer.as_ref()[field::SRC_ADDR])
    }

    pub fn dst_addr(&self) -> Ipv6Addr {
        addr(&self.buffer.as_ref()[field::DST_ADDR])
    }

    /// A payload length of 0 before a hop-by-hop header announces a jumbogram (RFC 2675
    /// section 3) whose length is in an option; the capture length then stands in for it.
    fn is_jumbo(&self) -> bool {
        self.payload_len() == 0 && self.next_header() == next_header::HOP_BY_HOP
    }

    fn end(&self) -> usize {
        let len = self.buffer.as_ref().len();
        if self.is_jumbo() {
            return len;
        }
        HEADER_LEN
            .saturating_add(usize::from(self.payload_len()))
            .min(len)
    }

    /// Bytes announced by the payload length but not captured.
    pub fn missing(&self) -> u32 {
        if self.is_jumbo() {
            return 0;
        }
        let announced = HEADER_LEN.saturating_add(usize::from(self.payload_len()));
        let missing = announced.saturating_sub(self.buffer.as_ref().len());
        u32::try_from(missing).unwrap_or(u32::MAX)
    }

    /// The capture holds fewer bytes than the payload length.
    pub fn truncated(&self) -> bool {
        !self.is_jumbo()
            && HEADER_LEN.saturating_add(usize::from(self.payload_len()))
                > self.buffer.as_ref().len()
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> Packet<&'a T> {
    /// Everything after the fixed header (extension headers included), cut to the payload
    /// length.
    pub fn payload(&self) -> &'a [u8] {
        // check_len: HEADER_LEN <= len, and end() >= HEADER_LEN.
        &self.buffer.as_ref()[HEADER_LEN..self.end()]
    }
}

fn addr(b: &[u8]) -> Ipv6Addr {
    let mut a = [0u8; 16];
    a.copy_from_slice(b);
    Ipv6Addr::from(a)
}

/// A view of a hop-by-hop, routing, destination options or authentication header: next
/// header, a length, and data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExtHeader<T: AsRef<[u8]>> {
    buffer: T,
    auth: bool,
}

impl<T: AsRef<[u8]>> ExtHeader<T> {
    /// `kind` is the next-header value that announced this header; AH counts its length
    /// differently from the others.
    pub fn new_checked(buffer: T, kind: u8) -> Result<Self, Error> {
        let header = Self {
            buffer,
            auth: kind == next_header::AUTH,
        };
        header.check_len()?;
        Ok(header)
    }

    /// The first 8 bytes are there, then the whole header its length field announces.
    pub fn check_len(&self) -> Result<(), Error> {
        let len = self.buffer.as_ref().len();
        need(EXT_LAYER, field::EXT_MIN_LEN, len)?;
        need(EXT_LAYER, self.header_len(), len)
    }

    pub fn next_header(&self) -> u8 {
        self.buffer.as_ref()[field::EXT_NXT_HDR]
    }

    /// Header length in bytes: (len + 1) * 8 (RFC 8200 section 4.3), or for AH (len + 2) * 4
    /// (RFC 4302 section 2.2). At most 2 KiB, so no overflow.
    pub fn header_len(&self) -> usize {
        let n = usize::from(self.buffer.as_ref()[field::EXT_LENGTH]);
        if self.auth {
            (n + 2) * 4
        } else {
            (n + 1) * 8
        }
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> ExtHeader<&'a T> {
    /// The header's own bytes after next-header and length (options, routing data, ICV...).
    pub fn data(&self) -> &'a [u8] {
        &self.buffer.as_ref()[2..self.header_len()]
    }

    pub fn payload(&self) -> &'a [u8] {
        &self.buffer.as_ref()[self.header_len()..]
    }
}

/// A view of the fragment header (RFC 8200 section 4.5).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FragmentHeader<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> FragmentHeader<T> {
    pub fn new_checked(buffer: T) -> Result<Self, Error> {
        let header = Self { buffer };
        header.check_len()?;
        Ok(header)
    }

    /// The 8 bytes of the header are there (its length is fixed).
    pub fn check_len(&self) -> Result<(), Error> {
        need(
            "ipv6 fragment header",
            field::FRAG_LEN,
            self.buffer.as_ref().len(),
        )
    }

    pub fn next_header(&self) -> u8 {
        self.buffer.as_ref()[field::FRAG_NXT_HDR]
    }

    /// Offset in bytes (the field counts 8-byte units).
    pub fn frag_offset(&self) -> u32 {
        u32::from(be16(self.buffer.as_ref(), field::FRAG_OFF_M) >> 3) * 8
    }

    pub fn more_frags(&self) -> bool {
        be16(self.buffer.as_ref(), field::FRAG_OFF_M) & 1 != 0
    }

    pub fn ident(&self) -> u32 {
        be32(self.buffer.as_ref(), field::FRAG_IDENT)
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> FragmentHeader<&'a T> {
    pub fn payload(&self) -> &'a [u8] {
        &self.buffer.as_ref()[field::FRAG_LEN..]
    }
}

/// Decodes an IPv6 packet into the pipeline's view, walking the extension headers.
///
/// The walk stops at the first fragment header of a real fragment: what follows is the
/// fragmentable part (RFC 8200 section 4.5), which only makes sense reassembled. An "atomic
/// fragment" (offset 0, M clear) is treated as unfragmented (RFC 6946 section 4).
#[inline]
pub(crate) fn decode(data: &[u8]) -> Result<Ip<'_>, Error> {
    let p = Packet::new_checked(data)?;
    let mut next = p.next_header();
    let mut rest = p.payload();
    let mut fragment = None;
    let mut walked = 0usize;
    loop {
        match next {
            next_header::HOP_BY_HOP
            | next_header::ROUTING
            | next_header::DEST_OPTS
            | next_header::AUTH => {
                let h = ExtHeader::new_checked(rest, next)?;
                next = h.next_header();
                rest = h.payload();
            }
            next_header::FRAGMENT => {
                let h = FragmentHeader::new_checked(rest)?;
                next = h.next_header();
                rest = h.payload();
                if h.frag_offset() != 0 || h.more_frags() {
                    fragment = Some(Fragment {
                        id: h.ident(),
                        offset: h.frag_offset(),
                        more: h.more_frags(),
                    });
                    break;
                }
            }
            _ => break,
        }
        walked += 1;
        if walked > MAX_EXT_HEADERS {
            return Err(Error::Malformed {
                layer: LAYER,
                what: "too many extension headers",
            });
        }
    }
    Ok(Ip {
        version: 6,
        src: IpAddr::V6(p.src_addr()),
        dst: IpAddr::V6(p.dst_addr()),
        protocol: next,
        ttl: p.hop_limit(),
        fragment,
        payload: rest,
        truncated: p.truncated(),
        missing: p.missing(),
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Frame 1 of ipfrag_v6_tcp__suri.pcap (suricata-verify
    /// tests/defrag/bug-6887-defrag-ipv6-tcp/frag-ip-tcp.pcap, raw IPv6): ::1 -> ::1, fragment
    /// header id 0xa1bc6572 offset 0 M=1, TCP 12345 -> 8080 ACK. Cut after 72 of its 512 bytes,
    /// as a 72-byte snaplen would.
    pub(crate) const FRAG_TCP: [u8; 72] = [
        0x60, 0x00, 0x00, 0x00, 0x01, 0xd8, 0x2c, 0x40, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x06, 0x00, 0x00, 0x01, 0xa1,
        0xbc, 0x65, 0x72, 0x30, 0x39, 0x1f, 0x90, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
        0x50, 0x10, 0x20, 0x00, 0xc8, 0xad, 0x00, 0x00, 0x41, 0x41, 0x41, 0x41,
    ];

    /// FRAG_TCP's fixed header with `next` and `payload`, payload length set to match.
    fn with_chain(next: u8, payload: &[u8]) -> Vec<u8> {
        let mut p = FRAG_TCP[..40].to_vec();
        p[4..6].copy_from_slice(&(payload.len() as u16).to_be_bytes());
        p[6] = next;
        p.extend_from_slice(payload);
        p
    }

    #[test]
    fn first_fragment() {
        let ip = decode(&FRAG_TCP).unwrap();
        assert_eq!(ip.src, IpAddr::V6(Ipv6Addr::LOCALHOST));
        assert_eq!((ip.version, ip.protocol, ip.ttl), (6, 6, 64));
        assert_eq!(
            ip.fragment,
            Some(Fragment {
                id: 0xa1bc_6572,
                offset: 0,
                more: true
            })
        );
        assert_eq!(ip.payload, &FRAG_TCP[48..]);
        assert!(ip.truncated);
        let p = Packet::new_checked(&FRAG_TCP[..]).unwrap();
        assert_eq!(
            (p.traffic_class(), p.flow_label(), p.payload_len()),
            (0, 0, 0x1d8)
        );
    }

    #[test]
    fn extension_chain_is_walked() {
        // Hop-by-hop (8 bytes, PadN), routing (16 bytes), AH (len 4 -> 24 bytes),
        // destination options (8 bytes), then UDP.
        let mut chain = vec![43, 0, 1, 4, 0, 0, 0, 0];
        chain.extend_from_slice(&[51, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        chain.extend_from_slice(&[60, 4]);
        chain.extend_from_slice(&[0; 22]);
        chain.extend_from_slice(&[17, 0, 1, 4, 0, 0, 0, 0]);
        chain.extend_from_slice(&[0, 53, 0, 53, 0, 8, 0, 0]);
        let p = with_chain(next_header::HOP_BY_HOP, &chain);
        let ip = decode(&p).unwrap();
        assert_eq!(ip.protocol, 17);
        assert_eq!(ip.payload, &[0, 53, 0, 53, 0, 8, 0, 0]);
        assert_eq!(ip.fragment, None);
        assert!(!ip.truncated);
    }

    #[test]
    fn atomic_fragment_is_not_a_fragment() {
        let p = with_chain(44, &[17, 0, 0, 0, 0, 0, 0, 9, 1, 2]);
        let ip = decode(&p).unwrap();
        assert_eq!(
            (ip.protocol, ip.fragment, ip.payload),
            (17, None, &[1u8, 2][..])
        );
    }

    #[test]
    fn later_fragment_offset() {
        // Offset 181 units (1448 bytes), M clear.
        let off_m = (181u16 << 3).to_be_bytes();
        let p = with_chain(44, &[6, 0, off_m[0], off_m[1], 0, 0, 0, 7, 0xee]);
        let ip = decode(&p).unwrap();
        assert_eq!(
            ip.fragment,
            Some(Fragment {
                id: 7,
                offset: 1448,
                more: false
            })
        );
        assert_eq!(ip.payload, &[0xee]);
    }

    #[test]
    fn esp_and_no_next_header_end_the_walk() {
        for nh in [next_header::ESP, next_header::NO_NEXT, 6, 58] {
            let p = with_chain(nh, &[9; 8]);
            let ip = decode(&p).unwrap();
            assert_eq!((ip.protocol, ip.payload.len()), (nh, 8));
        }
    }

    #[test]
    fn payload_length_cuts_padding_and_jumbo_uses_capture() {
        let mut p = with_chain(59, &[1, 2]);
        p.extend_from_slice(&[0; 4]); // link-layer padding
        assert_eq!(decode(&p).unwrap().payload, &[1, 2]);
        let mut j = with_chain(0, &[59, 0, 0xc2, 4, 0, 1, 0, 0]);
        j[4..6].copy_from_slice(&[0, 0]);
        let ip = decode(&j).unwrap();
        assert!(!ip.truncated);
        assert_eq!(ip.protocol, 59);
    }

    /// Every length check: fixed header, version, extension header minimum and announced
    /// length, fragment header, chain length.
    #[test]
    fn check_len_table() {
        let mut wrong_version = FRAG_TCP;
        wrong_version[0] = 0x40;
        let too_many: Vec<u8> = (0..=MAX_EXT_HEADERS)
            .flat_map(|_| [60u8, 0, 1, 4, 0, 0, 0, 0])
            .collect();
        let cases: Vec<(Vec<u8>, Error)> = vec![
            (
                FRAG_TCP[..39].to_vec(),
                Error::Truncated {
                    layer: LAYER,
                    needed: 40,
                    got: 39,
                },
            ),
            (
                wrong_version.to_vec(),
                Error::Malformed {
                    layer: LAYER,
                    what: "version is not 6",
                },
            ),
            (
                with_chain(0, &[59, 0, 0, 0, 0, 0, 0]),
                Error::Truncated {
                    layer: EXT_LAYER,
                    needed: 8,
                    got: 7,
                },
            ),
            (
                with_chain(43, &[59, 1, 0, 0, 0, 0, 0, 0, 0, 0]),
                Error::Truncated {
                    layer: EXT_LAYER,
                    needed: 16,
                    got: 10,
                },
            ),
            (
                with_chain(51, &[59, 2, 0, 0, 0, 0, 0, 0]),
                Error::Truncated {
                    layer: EXT_LAYER,
                    needed: 16,
                    got: 8,
                },
            ),
            (
                with_chain(44, &[6, 0, 0, 1, 0, 0, 0]),
                Error::Truncated {
                    layer: "ipv6 fragment header",
                    needed: 8,
                    got: 7,
                },
            ),
            (
                with_chain(60, &too_many),
                Error::Malformed {
                    layer: LAYER,
                    what: "too many extension headers",
                },
            ),
        ];
        for (bytes, want) in cases {
            assert_eq!(decode(&bytes), Err(want), "{bytes:02x?}");
        }
        let h = ExtHeader::new_checked(&[59u8, 0, 1, 2, 3, 4, 5, 6, 7][..], 0).unwrap();
        assert_eq!(
            (h.data(), h.payload()),
            (&[1u8, 2, 3, 4, 5, 6][..], &[7u8][..])
        );
    }
}

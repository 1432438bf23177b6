//! IPv4 headers (RFC 791 section 3.1).

use std::net::{IpAddr, Ipv4Addr};

use crate::{be16, need, Error, Fragment, Ip};

mod field {
    use core::ops::Range;
    pub(super) const VER_IHL: usize = 0;
    pub(super) const DSCP_ECN: usize = 1;
    pub(super) const LENGTH: usize = 2;
    pub(super) const IDENT: usize = 4;
    pub(super) const FLG_OFF: usize = 6;
    pub(super) const TTL: usize = 8;
    pub(super) const PROTOCOL: usize = 9;
    pub(super) const CHECKSUM: usize = 10;
    pub(super) const SRC_ADDR: Range<usize> = 12..16;
    pub(super) const DST_ADDR: Range<usize> = 16..20;
}

/// Length of a header without options.
pub const HEADER_LEN: usize = field::DST_ADDR.end;

const LAYER: &str = "ipv4";

/// A view of an IPv4 packet. The buffer may be shorter than the total length (a capture cut
/// by its snaplen): [`Packet::payload`] then returns what is there and
/// [`Packet::truncated`] is true.
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

    /// Checks each length field of the header (RFC 791 section 3.1) against the buffer and
    /// the other fields, after which no getter panics:
    /// the fixed header is there, the version is 4, IHL is at least 5 words, the whole header
    /// with options is there, and the total length covers the header.
    pub fn check_len(&self) -> Result<(), Error> {
        let len = self.buffer.as_ref().len();
        need(LAYER, HEADER_LEN, len)?;
        if self.version() != 4 {
            return Err(Error::Malformed {
                layer: LAYER,
                what: "version is not 4",
            });
        }
        let header_len = self.header_len();
        if header_len < HEADER_LEN {
            return Err(Error::BelowMinimum {
                layer: LAYER,
                field: "header length",
                value: header_len,
                min: HEADER_LEN,
            });
        }
        need(LAYER, header_len, len)?;
        let total = usize::from(self.total_len());
        // A total length of 0 is what Linux records for TCP segmentation offload super-frames
        // before the NIC splits them (Wireshark reports it the same way): the capture length is
        // the only length there is.
        if total != 0 && total < header_len {
            return Err(Error::BelowMinimum {
                layer: LAYER,
                field: "total length",
                value: total,
                min: header_len,
            });
        }
        Ok(())
    }

    pub fn into_inner(self) -> T {
        self.buffer
    }

    pub fn version(&self) -> u8 {
        self.buffer.as_ref()[field::VER_IHL] >> 4
    }

    /// Header length in bytes (IHL times 4).
    pub fn header_len(&self) -> usize {
        usize::from(self.buffer.as_ref()[field::VER_IHL] & 0x0f) * 4
    }

    pub fn dscp(&self) -> u8 {
        self.buffer.as_ref()[field::DSCP_ECN] >> 2
    }

    pub fn ecn(&self) -> u8 {
        self.buffer.as_ref()[field::DSCP_ECN] & 0x03
    }

    pub fn total_len(&self) -> u16 {
        be16(self.buffer.as_ref(), field::LENGTH)
    }

    pub fn ident(&self) -> u16 {
        be16(self.buffer.as_ref(), field::IDENT)
    }

    pub fn dont_frag(&self) -> bool {
        be16(self.buffer.as_ref(), field::FLG_OFF) & 0x4000 != 0
    }

    pub fn more_frags(&self) -> bool {
        be16(self.buffer.as_ref(), field::FLG_OFF) & 0x2000 != 0
    }

    /// Fragment offset in bytes (the field counts 8-byte units).
    pub fn frag_offset(&self) -> u32 {
        u32::from(be16(self.buffer.as_ref(), field::FLG_OFF) & 0x1fff) * 8
    }

    pub fn ttl(&self) -> u8 {
        self.buffer.as_ref()[field::TTL]
    }

    pub fn protocol(&self) -> u8 {
        self.buffer.as_ref()[field::PROTOCOL]
    }

    pub fn checksum(&self) -> u16 {
        be16(self.buffer.as_ref(), field::CHECKSUM)
    }

    pub fn src_addr(&self) -> Ipv4Addr {
        let a = &self.buffer.as_ref()[field::SRC_ADDR];
        Ipv4Addr::new(a[0], a[1], a[2], a[3])
    }

    pub fn dst_addr(&self) -> Ipv4Addr {
        let a = &self.buffer.as_ref()[field::DST_ADDR];
        Ipv4Addr::new(a[0], a[1], a[2], a[3])
    }

    /// End of the packet within the buffer: the total length, or the buffer's end when that is
    /// shorter (snaplen) or the total length is 0 (segmentation offload).
    fn end(&self) -> usize {
        let len = self.buffer.as_ref().len();
        match usize::from(self.total_len()) {
            0 => len,
            total => total.min(len),
        }
    }

    /// The capture holds fewer bytes than the total length.
    pub fn truncated(&self) -> bool {
        usize::from(self.total_len()) > self.buffer.as_ref().len()
    }

    /// Bytes of the packet announced by the total length but not captured.
    pub fn missing(&self) -> u32 {
        let missing = usize::from(self.total_len()).saturating_sub(self.buffer.as_ref().len());
        u32::try_from(missing).unwrap_or(u32::MAX)
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> Packet<&'a T> {
    /// The options between the fixed header and the payload.
    pub fn options(&self) -> &'a [u8] {
        &self.buffer.as_ref()[HEADER_LEN..self.header_len()]
    }

    /// The bytes after the header, cut to the total length (link-layer padding removed).
    pub fn payload(&self) -> &'a [u8] {
        // check_len: header_len <= len and header_len <= total (or total == 0), so
        // header_len <= end().
        &self.buffer.as_ref()[self.header_len()..self.end()]
    }
}

/// Decodes an IPv4 packet into the pipeline's view.
#[inline]
pub(crate) fn decode(data: &[u8]) -> Result<Ip<'_>, Error> {
    let p = Packet::new_checked(data)?;
    let fragment = (p.more_frags() || p.frag_offset() != 0).then(|| Fragment {
        id: u32::from(p.ident()),
        offset: p.frag_offset(),
        more: p.more_frags(),
    });
    Ok(Ip {
        version: 4,
        src: IpAddr::V4(p.src_addr()),
        dst: IpAddr::V4(p.dst_addr()),
        protocol: p.protocol(),
        ttl: p.ttl(),
        fragment,
        payload: p.payload(),
        truncated: p.truncated(),
        missing: p.missing(),
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Frame 1 of ipfrag_v4_udp__zeek.pcap (zeek testing/btest/Traces/ipv4/fragmented-1.pcap):
    /// Ethernet, first fragment (MF, offset 0, id 0xf2) of a UDP datagram 164.1.123.163:123 ->
    /// 164.1.123.61:137, total length 38, then 8 bytes of Ethernet padding.
    pub(crate) const UDP_FRAG_FIRST: [u8; 60] = [
        0x00, 0x60, 0x97, 0x12, 0x2f, 0x58, 0x00, 0x20, 0xaf, 0xba, 0x78, 0x65, 0x08, 0x00, 0x45,
        0x00, 0x00, 0x26, 0x00, 0xf2, 0x20, 0x00, 0x40, 0x11, 0x1a, 0xf2, 0xa4, 0x01, 0x7b, 0xa3,
        0xa4, 0x01, 0x7b, 0x3d, 0x00, 0x7b, 0x00, 0x89, 0x00, 0x12, 0xbf, 0xe2, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    ];

    /// The IP header of frame 2 of the same capture: last fragment, offset 6 units (48 bytes),
    /// total length 136.
    const LAST_FRAG_HEADER: [u8; 20] = [
        0x45, 0x00, 0x00, 0x88, 0x00, 0xf2, 0x00, 0x06, 0x40, 0x11, 0x3a, 0x8a, 0xa4, 0x01, 0x7b,
        0xa3, 0xa4, 0x01, 0x7b, 0x3d,
    ];

    #[test]
    fn first_fragment_without_padding() {
        let ip = decode(&UDP_FRAG_FIRST[14..]).unwrap();
        assert_eq!(ip.src, IpAddr::V4(Ipv4Addr::new(164, 1, 123, 163)));
        assert_eq!(ip.dst, IpAddr::V4(Ipv4Addr::new(164, 1, 123, 61)));
        assert_eq!((ip.version, ip.protocol, ip.ttl), (4, 17, 64));
        assert_eq!(
            ip.fragment,
            Some(Fragment {
                id: 0xf2,
                offset: 0,
                more: true
            })
        );
        assert_eq!(ip.payload.len(), 18, "padding removed");
        assert!(!ip.truncated);
        let p = Packet::new_checked(&UDP_FRAG_FIRST[14..]).unwrap();
        assert_eq!(
            (p.checksum(), p.dscp(), p.ecn(), p.dont_frag()),
            (0x1af2, 0, 0, false)
        );
        assert!(p.options().is_empty());
    }

    #[test]
    fn last_fragment_is_truncated_capture() {
        let ip = decode(&LAST_FRAG_HEADER).unwrap();
        assert_eq!(
            ip.fragment,
            Some(Fragment {
                id: 0xf2,
                offset: 48,
                more: false
            })
        );
        assert!(ip.truncated);
        assert_eq!(
            ip.missing as usize,
            usize::from(u16::from_be_bytes([
                LAST_FRAG_HEADER[2],
                LAST_FRAG_HEADER[3]
            ])) - LAST_FRAG_HEADER.len()
        );
        assert!(ip.payload.is_empty());
    }

    #[test]
    fn whole_packet_is_not_a_fragment() {
        let mut h = LAST_FRAG_HEADER;
        h[6..8].copy_from_slice(&0x4000u16.to_be_bytes()); // DF only
        h[2..4].copy_from_slice(&20u16.to_be_bytes());
        let ip = decode(&h).unwrap();
        assert_eq!(ip.fragment, None);
        assert!(!ip.truncated);
    }

    #[test]
    fn options_are_skipped() {
        // IHL 6 with a 4-byte option (RFC 791 "No Operation" x3 + "End of Option List").
        let mut p = LAST_FRAG_HEADER.to_vec();
        p[0] = 0x46;
        p[2..4].copy_from_slice(&26u16.to_be_bytes());
        p.extend_from_slice(&[1, 1, 1, 0, 0xaa, 0xbb]);
        let view = Packet::new_checked(&p[..]).unwrap();
        assert_eq!(view.options(), &[1, 1, 1, 0]);
        assert_eq!(view.payload(), &[0xaa, 0xbb]);
    }

    #[test]
    fn tso_zero_total_length_uses_capture() {
        let mut p = LAST_FRAG_HEADER.to_vec();
        p[2..4].copy_from_slice(&0u16.to_be_bytes());
        p.extend_from_slice(&[1, 2, 3]);
        let ip = decode(&p).unwrap();
        assert_eq!(ip.payload, &[1, 2, 3]);
        assert!(!ip.truncated);
    }

    /// Every length check of check_len, in order.
    #[test]
    fn check_len_table() {
        let with = |at: usize, v: &[u8]| {
            let mut p = LAST_FRAG_HEADER.to_vec();
            p[at..at + v.len()].copy_from_slice(v);
            p
        };
        let cases: &[(Vec<u8>, Error)] = &[
            (
                LAST_FRAG_HEADER[..19].to_vec(),
                Error::Truncated {
                    layer: LAYER,
                    needed: 20,
                    got: 19,
                },
            ),
            (
                with(0, &[0x65]),
                Error::Malformed {
                    layer: LAYER,
                    what: "version is not 4",
                },
            ),
            (
                with(0, &[0x41]),
                Error::BelowMinimum {
                    layer: LAYER,
                    field: "header length",
                    value: 4,
                    min: 20,
                },
            ),
            (
                with(0, &[0x46]),
                Error::Truncated {
                    layer: LAYER,
                    needed: 24,
                    got: 20,
                },
            ),
            (
                with(2, &[0, 19]),
                Error::BelowMinimum {
                    layer: LAYER,
                    field: "total length",
                    value: 19,
                    min: 20,
                },
            ),
        ];
        for (bytes, want) in cases {
            assert_eq!(decode(bytes), Err(*want), "{bytes:02x?}");
        }
        assert_eq!(cases[2].1.to_string(), "ipv4: header length 4 is below 20");
    }
}

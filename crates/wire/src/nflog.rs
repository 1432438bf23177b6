//! Linux netfilter NFLOG records (LINKTYPE_NFLOG, 239): a `struct nfgenmsg` header, then
//! type-length-value attributes, one of which (NFULA_PAYLOAD) holds the IP packet. Layout:
//! <https://www.tcpdump.org/linktypes/LINKTYPE_NFLOG.html>.
//!
//! The TLV length and type are in the byte order of the host that wrote them; libpcap even
//! swaps them to the reading host's order when it copies a file. In practice that is little
//! endian. A record whose first TLV length is impossible little-endian but sound big-endian
//! is read big-endian.

use crate::{be16, need, Error, Frame, Network};

/// Most TLVs read from one record. The kernel emits about twenty kinds at most.
pub const MAX_TLVS: usize = 64;

/// Attribute types (`enum nfulnl_attr_type` in linux/netfilter/nfnetlink_log.h).
pub mod attr {
    pub const PACKET_HDR: u16 = 1;
    pub const HWADDR: u16 = 8;
    pub const PAYLOAD: u16 = 9;
    pub const PREFIX: u16 = 10;
}

/// `nfgen_family` values for IP (Linux AF_INET and AF_INET6).
pub const AF_INET: u8 = 2;
pub const AF_INET6: u8 = 10;

mod field {
    pub(super) const FAMILY: usize = 0;
    pub(super) const VERSION: usize = 1;
    pub(super) const RESOURCE_ID: usize = 2;
    pub(super) const TLVS: usize = 4;

    // Within a TLV.
    pub(super) const TLV_LENGTH: usize = 0;
    pub(super) const TLV_TYPE: usize = 2;
    pub(super) const TLV_VALUE: usize = 4;
}

pub const HEADER_LEN: usize = field::TLVS;

/// The high bits of a TLV type are netlink flags (NLA_F_NESTED, NLA_F_NET_BYTEORDER).
const TYPE_MASK: u16 = 0x3fff;

const LAYER: &str = "nflog";

/// A view of an NFLOG record.
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

    /// The 4-byte header is there. TLV lengths are checked one by one as [`Tlvs`] walks them.
    pub fn check_len(&self) -> Result<(), Error> {
        need(LAYER, HEADER_LEN, self.buffer.as_ref().len())
    }

    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// Address family of the logged packet (AF_INET, AF_INET6, ...).
    pub fn family(&self) -> u8 {
        self.buffer.as_ref()[field::FAMILY]
    }

    pub fn version(&self) -> u8 {
        self.buffer.as_ref()[field::VERSION]
    }

    /// The NFLOG group, in network byte order unlike the TLVs.
    pub fn resource_id(&self) -> u16 {
        be16(self.buffer.as_ref(), field::RESOURCE_ID)
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> Packet<&'a T> {
    /// The TLVs, in order.
    pub fn tlvs(&self) -> Tlvs<'a> {
        let data = &self.buffer.as_ref()[field::TLVS..];
        Tlvs {
            data,
            little_endian: guess_little_endian(data),
            count: 0,
        }
    }
}

/// The byte order of the first TLV's length: little endian unless that reading is
/// impossible (below 4 or past the end) and big endian is not.
fn guess_little_endian(data: &[u8]) -> bool {
    let [a, b, ..] = *data else { return true };
    let plausible = |len: u16| (4..=data.len()).contains(&usize::from(len));
    plausible(u16::from_le_bytes([a, b])) || !plausible(u16::from_be_bytes([a, b]))
}

/// One attribute.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tlv<'a> {
    /// The attribute type, netlink flag bits removed.
    pub kind: u16,
    /// The value, without padding.
    pub value: &'a [u8],
}

/// Iterator over the TLVs of a record; yields an error (then stops) on a TLV whose length is
/// below 4 or past the end of the record, and on more than [`MAX_TLVS`].
#[derive(Clone, Debug)]
pub struct Tlvs<'a> {
    data: &'a [u8],
    little_endian: bool,
    count: usize,
}

impl<'a> Tlvs<'a> {
    fn u16_at(&self, at: usize) -> u16 {
        let b = [self.data[at], self.data[at + 1]];
        if self.little_endian {
            u16::from_le_bytes(b)
        } else {
            u16::from_be_bytes(b)
        }
    }

    fn fail(&mut self, e: Error) -> Option<Result<Tlv<'a>, Error>> {
        self.data = &[];
        Some(Err(e))
    }
}

impl<'a> Iterator for Tlvs<'a> {
    type Item = Result<Tlv<'a>, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.data.is_empty() {
            return None;
        }
        self.count += 1;
        if self.count > MAX_TLVS {
            return self.fail(Error::Malformed {
                layer: LAYER,
                what: "too many TLVs",
            });
        }
        if let Err(e) = need("nflog tlv", field::TLV_VALUE, self.data.len()) {
            return self.fail(e);
        }
        let len = usize::from(self.u16_at(field::TLV_LENGTH));
        if len < field::TLV_VALUE {
            return self.fail(Error::BelowMinimum {
                layer: "nflog tlv",
                field: "length",
                value: len,
                min: field::TLV_VALUE,
            });
        }
        if let Err(e) = need("nflog tlv", len, self.data.len()) {
            return self.fail(e);
        }
        let tlv = Tlv {
            kind: self.u16_at(field::TLV_TYPE) & TYPE_MASK,
            value: &self.data[field::TLV_VALUE..len],
        };
        // Each TLV is padded to a multiple of 4 bytes; the last one's padding may be absent.
        let padded = len.saturating_add(3) & !3;
        self.data = self.data.get(padded..).unwrap_or(&[]);
        Some(Ok(tlv))
    }
}

pub(crate) fn decode(data: &[u8]) -> Result<Frame<'_>, Error> {
    let p = Packet::new_checked(data)?;
    let mut payload = None;
    let mut src_mac = None;
    for tlv in p.tlvs() {
        let tlv = tlv?;
        match tlv.kind {
            attr::PAYLOAD => payload = Some(tlv.value),
            // struct nfulnl_msg_packet_hw: __be16 hw_addrlen, 2 bytes padding, 8 address bytes.
            attr::HWADDR => {
                if let [0, 6, _, _, a @ ..] = tlv.value {
                    src_mac = a.get(..6).and_then(crate::sll::mac6);
                }
            }
            _ => {}
        }
    }
    let payload = payload.ok_or(Error::Malformed {
        layer: LAYER,
        what: "no payload TLV",
    })?;
    let ip = match p.family() {
        AF_INET => crate::ipv4::decode(payload)?,
        AF_INET6 => crate::ipv6::decode(payload)?,
        other => {
            return Err(Error::Unknown {
                layer: LAYER,
                field: "family",
                value: u32::from(other),
            })
        }
    };
    Ok(Frame {
        src_mac,
        dst_mac: None,
        vlan: None,
        network: Network::Ip(ip),
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::{decode as decode_link, LinkType};

    /// Hand-built after the LINKTYPE_NFLOG layout (no NFLOG capture in the corpus): family
    /// AF_INET, version 0, group 5; little-endian TLVs NFULA_PACKET_HDR (ETH_P_IP, hook 3),
    /// NFULA_PREFIX "drop\0" (length 9, padded to 12), NFULA_HWADDR (6-byte address), and
    /// NFULA_PAYLOAD holding the crate doctest's 30-byte IPv4/UDP packet (length 34, its
    /// 2 padding bytes present).
    pub(crate) const NFLOG_IPV4: [u8; 76] = [
        0x02, 0x00, 0x00, 0x05, // nfgenmsg
        0x08, 0x00, 0x01, 0x00, 0x08, 0x00, 0x03, 0x00, // PACKET_HDR
        0x09, 0x00, 0x0a, 0x00, b'd', b'r', b'o', b'p', 0x00, 0x00, 0x00, 0x00, // PREFIX
        0x10, 0x00, 0x08, 0x00, 0x00, 0x06, 0x00, 0x00, 0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0x00,
        0x00, // HWADDR
        0x22, 0x00, 0x09, 0x00, // PAYLOAD
        0x45, 0x00, 0x00, 0x1e, 0x00, 0x01, 0x00, 0x00, 0x40, 0x11, 0x00, 0x00, 0x0a, 0x00, 0x00,
        0x01, 0x0a, 0x00, 0x00, 0x02, 0x04, 0x00, 0x00, 0x35, 0x00, 0x0a, 0x00, 0x00, 0xab, 0xcd,
        0x00, 0x00,
    ];

    #[test]
    fn record_with_payload() {
        let p = Packet::new_checked(&NFLOG_IPV4[..]).unwrap();
        assert_eq!((p.family(), p.version(), p.resource_id()), (AF_INET, 0, 5));
        let kinds: Vec<u16> = p.tlvs().map(|t| t.unwrap().kind).collect();
        assert_eq!(kinds, [1, 10, 8, 9]);
        assert_eq!(p.tlvs().nth(1).unwrap().unwrap().value, b"drop\0");
        let f = decode_link(LinkType::NFLOG, &NFLOG_IPV4).unwrap();
        assert_eq!(f.src_mac, Some([0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0xee]));
        let Network::Ip(ip) = f.network else {
            panic!("not IP")
        };
        assert_eq!((ip.protocol, ip.payload.len()), (17, 10));
    }

    #[test]
    fn big_endian_tlvs_and_missing_final_padding() {
        let mut be = NFLOG_IPV4.to_vec();
        for at in [4, 12, 24, 40] {
            be.swap(at, at + 1);
            be.swap(at + 2, at + 3);
        }
        be.truncate(be.len() - 2);
        let f = decode(&be).unwrap();
        assert!(matches!(f.network, Network::Ip(ip) if ip.payload.len() == 10));
    }

    #[test]
    fn flags_are_masked_and_ipv6_family() {
        let mut v6 = vec![AF_INET6, 0, 0, 0, 44, 0, 0x09, 0x80];
        v6.extend_from_slice(&crate::ipv6::tests::FRAG_TCP[..40]);
        v6[8 + 6] = 59; // no next header
        let f = decode(&v6).unwrap();
        assert!(matches!(f.network, Network::Ip(ip) if ip.version == 6));
    }

    #[test]
    fn check_len_table() {
        let mut many = vec![2, 0, 0, 0];
        for _ in 0..=MAX_TLVS {
            many.extend_from_slice(&[4, 0, 1, 0]);
        }
        let cases: Vec<(Vec<u8>, Error)> = vec![
            (
                vec![2, 0, 0],
                Error::Truncated {
                    layer: LAYER,
                    needed: 4,
                    got: 3,
                },
            ),
            (
                vec![2, 0, 0, 0, 4, 0, 9],
                Error::Truncated {
                    layer: "nflog tlv",
                    needed: 4,
                    got: 3,
                },
            ),
            (
                vec![2, 0, 0, 0, 3, 0, 9, 0],
                Error::BelowMinimum {
                    layer: "nflog tlv",
                    field: "length",
                    value: 3,
                    min: 4,
                },
            ),
            (
                vec![2, 0, 0, 0, 9, 0, 9, 0, 0x45],
                Error::Truncated {
                    layer: "nflog tlv",
                    needed: 9,
                    got: 5,
                },
            ),
            (
                many,
                Error::Malformed {
                    layer: LAYER,
                    what: "too many TLVs",
                },
            ),
            (
                vec![2, 0, 0, 0, 4, 0, 1, 0],
                Error::Malformed {
                    layer: LAYER,
                    what: "no payload TLV",
                },
            ),
            (
                vec![7, 0, 0, 0, 4, 0, 9, 0],
                Error::Unknown {
                    layer: LAYER,
                    field: "family",
                    value: 7,
                },
            ),
        ];
        for (bytes, want) in cases {
            assert_eq!(decode(&bytes), Err(want), "{bytes:02x?}");
        }
    }
}

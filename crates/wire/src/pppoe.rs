//! PPPoE session-stage frames (RFC 2516 section 6) and the PPP protocol field that follows
//! (RFC 1661 section 2).

use crate::{be16, need, Error, Network};

mod field {
    pub(super) const VER_TYPE: usize = 0;
    pub(super) const CODE: usize = 1;
    pub(super) const SESSION_ID: usize = 2;
    pub(super) const LENGTH: usize = 4;
    pub(super) const PAYLOAD: usize = 6;
}

/// Length of the PPPoE header.
pub const HEADER_LEN: usize = field::PAYLOAD;

/// PPP protocol numbers carried in a session (IANA "PPP DLL Protocol Numbers").
pub mod ppp_protocol {
    pub const IPV4: u16 = 0x0021;
    pub const IPV6: u16 = 0x0057;
    pub const LCP: u16 = 0xc021;
}

const LAYER: &str = "pppoe";

/// A view of a PPPoE session frame: header, then the PPP frame (protocol and information).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Session<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Session<T> {
    pub fn new_checked(buffer: T) -> Result<Self, Error> {
        let session = Self { buffer };
        session.check_len()?;
        Ok(session)
    }

    /// The 6-byte header is there and says version 1, type 1 (RFC 2516 section 4). The
    /// length field may exceed the capture (snaplen); the payload is then what is there.
    pub fn check_len(&self) -> Result<(), Error> {
        need(LAYER, HEADER_LEN, self.buffer.as_ref().len())?;
        if self.version() != 1 || self.kind() != 1 {
            return Err(Error::Malformed {
                layer: LAYER,
                what: "version or type is not 1",
            });
        }
        Ok(())
    }

    pub fn into_inner(self) -> T {
        self.buffer
    }

    pub fn version(&self) -> u8 {
        self.buffer.as_ref()[field::VER_TYPE] >> 4
    }

    /// The TYPE field (named `kind` because `type` is a keyword).
    pub fn kind(&self) -> u8 {
        self.buffer.as_ref()[field::VER_TYPE] & 0x0f
    }

    /// 0x00 for session data (RFC 2516 section 6).
    pub fn code(&self) -> u8 {
        self.buffer.as_ref()[field::CODE]
    }

    pub fn session_id(&self) -> u16 {
        be16(self.buffer.as_ref(), field::SESSION_ID)
    }

    /// Length of the PPP frame after the header.
    pub fn length(&self) -> u16 {
        be16(self.buffer.as_ref(), field::LENGTH)
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> Session<&'a T> {
    /// The PPP frame, cut to the length field (Ethernet padding removed) or the capture.
    pub fn payload(&self) -> &'a [u8] {
        let buf = self.buffer.as_ref();
        let end = HEADER_LEN
            .saturating_add(usize::from(self.length()))
            .min(buf.len());
        &buf[HEADER_LEN..end]
    }

    /// The PPP protocol and the information field. The protocol may be compressed to one
    /// byte (RFC 1661 section 6.5): a first byte with its low bit set is a whole protocol.
    pub fn ppp(&self) -> Result<(u16, &'a [u8]), Error> {
        let ppp = self.payload();
        match *ppp {
            [b, ref rest @ ..] if b & 1 == 1 => Ok((u16::from(b), rest)),
            [hi, lo, ref rest @ ..] => Ok((u16::from_be_bytes([hi, lo]), rest)),
            _ => Err(Error::Truncated {
                layer: "ppp",
                needed: 2,
                got: ppp.len(),
            }),
        }
    }
}

/// Decodes a PPPoE session frame (after ethertype 0x8864) to the network layer. PPP control
/// protocols (LCP, IPCP, ...) come back as [`Network::Other`] with the session ethertype.
pub(crate) fn decode(data: &[u8]) -> Result<Network<'_>, Error> {
    let session = Session::new_checked(data)?;
    if session.code() != 0 {
        return Err(Error::Malformed {
            layer: LAYER,
            what: "session frame with a non-zero code",
        });
    }
    match session.ppp()? {
        (ppp_protocol::IPV4, ip) => crate::ipv4::decode(ip).map(Network::Ip),
        (ppp_protocol::IPV6, ip) => crate::ipv6::decode(ip).map(Network::Ip),
        _ => Ok(Network::Other {
            ethertype: crate::ethernet::ethertype::PPPOE_SESSION,
        }),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::{decode as decode_link, LinkType};

    /// Hand-built after RFC 2516 section 6: Ethernet (ethertype 0x8864), PPPoE session 0x1234
    /// with length 32, PPP protocol 0x0021, then a 30-byte IPv4/UDP packet 10.0.0.1:1024 ->
    /// 10.0.0.2:53 (the crate-level doctest's packet), then 4 bytes of Ethernet padding.
    pub(crate) const PPPOE_IPV4: [u8; 56] = [
        0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0x88, 0x64, 0x11,
        0x00, 0x12, 0x34, 0x00, 0x20, 0x00, 0x21, 0x45, 0x00, 0x00, 0x1e, 0x00, 0x01, 0x00, 0x00,
        0x40, 0x11, 0x00, 0x00, 0x0a, 0x00, 0x00, 0x01, 0x0a, 0x00, 0x00, 0x02, 0x04, 0x00, 0x00,
        0x35, 0x00, 0x0a, 0x00, 0x00, 0xab, 0xcd, 0x00, 0x00, 0x00, 0x00,
    ];

    #[test]
    fn session_carries_ipv4() {
        let s = Session::new_checked(&PPPOE_IPV4[14..]).unwrap();
        assert_eq!(
            (s.version(), s.kind(), s.code(), s.session_id(), s.length()),
            (1, 1, 0, 0x1234, 32)
        );
        assert_eq!(s.payload().len(), 32, "padding removed");
        assert_eq!(s.ppp().unwrap().0, ppp_protocol::IPV4);
        let f = decode_link(LinkType::ETHERNET, &PPPOE_IPV4).unwrap();
        let Network::Ip(ip) = f.network else {
            panic!("not IP")
        };
        assert_eq!((ip.protocol, ip.payload.len()), (17, 10));
    }

    #[test]
    fn ipv6_compressed_protocol_and_control() {
        let mut v6 = vec![0x11, 0x00, 0x00, 0x01, 0x00, 0x2a, 0x00, 0x57];
        v6.extend_from_slice(&crate::ipv6::tests::FRAG_TCP[..40]);
        v6[12..14].copy_from_slice(&[0, 0]); // payload length 0
        v6[14] = 59; // no next header
        assert!(matches!(decode(&v6), Ok(Network::Ip(ip)) if ip.version == 6));
        // Protocol-field compression: 0x21 alone means IPv4.
        let mut pfc = PPPOE_IPV4[14..].to_vec();
        pfc.remove(6);
        pfc[4..6].copy_from_slice(&31u16.to_be_bytes());
        assert!(matches!(decode(&pfc), Ok(Network::Ip(ip)) if ip.version == 4));
        let lcp = [
            0x11, 0x00, 0x00, 0x01, 0x00, 0x06, 0xc0, 0x21, 0x09, 0x01, 0x00, 0x04,
        ];
        assert_eq!(decode(&lcp), Ok(Network::Other { ethertype: 0x8864 }));
    }

    #[test]
    fn check_len_table() {
        let cases: &[(&[u8], Error)] = &[
            (
                &[0x11, 0, 0, 1, 0],
                Error::Truncated {
                    layer: LAYER,
                    needed: 6,
                    got: 5,
                },
            ),
            (
                &[0x21, 0, 0, 1, 0, 2],
                Error::Malformed {
                    layer: LAYER,
                    what: "version or type is not 1",
                },
            ),
            (
                &[0x12, 0, 0, 1, 0, 2],
                Error::Malformed {
                    layer: LAYER,
                    what: "version or type is not 1",
                },
            ),
            (
                &[0x11, 0x09, 0, 1, 0, 2, 0, 0x21],
                Error::Malformed {
                    layer: LAYER,
                    what: "session frame with a non-zero code",
                },
            ),
            (
                &[0x11, 0, 0, 1, 0, 1, 0],
                Error::Truncated {
                    layer: "ppp",
                    needed: 2,
                    got: 1,
                },
            ),
            (
                &[0x11, 0, 0, 1, 0, 9],
                Error::Truncated {
                    layer: "ppp",
                    needed: 2,
                    got: 0,
                },
            ),
        ];
        for (bytes, want) in cases {
            assert_eq!(decode(bytes), Err(*want), "{bytes:02x?}");
        }
    }
}

//! ICMP (RFC 792) and ICMPv6 (RFC 4443 section 2.1) message headers: both open with type,
//! code and checksum, which is all this stage reads.

use crate::{be16, need, Error};

mod field {
    pub(super) const TYPE: usize = 0;
    pub(super) const CODE: usize = 1;
    pub(super) const CHECKSUM: usize = 2;
    pub(super) const REST: usize = 4;
}

pub const HEADER_LEN: usize = field::REST;

/// A view of an ICMP or ICMPv6 message.
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

    /// Type, code and checksum are there.
    pub fn check_len(&self) -> Result<(), Error> {
        need("icmp", HEADER_LEN, self.buffer.as_ref().len())
    }

    pub fn into_inner(self) -> T {
        self.buffer
    }

    pub fn msg_type(&self) -> u8 {
        self.buffer.as_ref()[field::TYPE]
    }

    pub fn msg_code(&self) -> u8 {
        self.buffer.as_ref()[field::CODE]
    }

    pub fn checksum(&self) -> u16 {
        be16(self.buffer.as_ref(), field::CHECKSUM)
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> Packet<&'a T> {
    /// Everything after the checksum (identifier and sequence of an echo, the quoted packet of
    /// an error...).
    pub fn payload(&self) -> &'a [u8] {
        &self.buffer.as_ref()[field::REST..]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The start of the ICMP message of frame 1 of sll2_icmp__zeek.pcap (zeek
    /// testing/btest/Traces/linux_dlt_sll2.pcap): echo request, id 8, sequence 1.
    const ECHO_REQUEST: [u8; 8] = [0x08, 0x00, 0x66, 0xb4, 0x00, 0x08, 0x00, 0x01];

    #[test]
    fn echo_request() {
        let p = Packet::new_checked(&ECHO_REQUEST[..]).unwrap();
        assert_eq!((p.msg_type(), p.msg_code(), p.checksum()), (8, 0, 0x66b4));
        assert_eq!(p.payload(), &[0, 8, 0, 1]);
        assert_eq!(p.into_inner().len(), 8);
    }

    #[test]
    fn check_len() {
        assert_eq!(
            Packet::new_checked(&ECHO_REQUEST[..3]),
            Err(Error::Truncated {
                layer: "icmp",
                needed: 4,
                got: 3
            })
        );
    }
}

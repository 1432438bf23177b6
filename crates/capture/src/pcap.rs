//! Classic libpcap format: a 24-byte file header, then 16-byte record headers.
//! See draft-ietf-opsawg-pcap.

use std::io::Read;

use crate::{Error, LinkType, Packet, Timestamp, Warning};

const MAX_RECORD: u32 = 256 * 1024;

pub(crate) struct PcapReader<R> {
    name: String,
    source: R,
    big_endian: bool,
    nanos: bool,
    link: LinkType,
    buf: Vec<u8>,
    frame: u64,
    pub(crate) offset: u64,
    pub(crate) warnings: Vec<Warning>,
}

impl<R: Read> PcapReader<R> {
    pub(crate) fn new(name: String, mut source: R) -> Result<Self, Error> {
        let mut header = [0u8; 24];
        read_full(&mut source, &mut header).map_err(|source| Error::Io {
            file: name.clone(),
            source,
        })?;
        let magic = u32::from_le_bytes([header[0], header[1], header[2], header[3]]);
        let (big_endian, nanos) = match magic {
            0xa1b2_c3d4 => (false, false),
            0xa1b2_3c4d => (false, true),
            0xd4c3_b2a1 => (true, false),
            0x4d3c_b2a1 => (true, true),
            _ => {
                return Err(Error::Format {
                    file: name,
                    offset: 0,
                    message: format!("not a capture file (magic {magic:#010x})"),
                })
            }
        };
        let rd = |b: &[u8]| read_u32(b, big_endian);
        let link = LinkType((rd(&header[20..24]) & 0xffff) as u16);
        Ok(Self {
            name,
            source,
            big_endian,
            nanos,
            link,
            buf: Vec::new(),
            frame: 0,
            offset: 24,
            warnings: Vec::new(),
        })
    }

    pub(crate) fn next_packet(&mut self) -> Result<Option<Packet<'_>>, Error> {
        let mut rec = [0u8; 16];
        let got = read_up_to(&mut self.source, &mut rec).map_err(|source| Error::Io {
            file: self.name.clone(),
            source,
        })?;
        if got == 0 {
            return Ok(None);
        }
        let frame = self.frame + 1;
        if got < rec.len() {
            self.warn(frame, "capture ends inside a record header");
            return Ok(None);
        }
        let be = self.big_endian;
        let secs = i64::from(read_u32(&rec[0..4], be));
        let frac = i64::from(read_u32(&rec[4..8], be));
        let incl = read_u32(&rec[8..12], be);
        let orig = read_u32(&rec[12..16], be);
        if incl > MAX_RECORD {
            return Err(Error::Format {
                file: self.name.clone(),
                offset: self.offset,
                message: format!("frame {frame}: captured length {incl} is absurd"),
            });
        }
        self.buf.resize(incl as usize, 0);
        let got = read_up_to(&mut self.source, &mut self.buf).map_err(|source| Error::Io {
            file: self.name.clone(),
            source,
        })?;
        if got < self.buf.len() {
            self.warn(frame, "capture ends inside a packet");
            return Ok(None);
        }
        self.offset += 16 + u64::from(incl);
        self.frame = frame;
        let nanos = secs * 1_000_000_000 + if self.nanos { frac } else { frac * 1000 };
        Ok(Some(Packet {
            frame,
            ts: Timestamp::from_nanos(nanos),
            interface: 0,
            link: self.link,
            data: &self.buf,
            orig_len: orig,
        }))
    }

    fn warn(&mut self, frame: u64, message: &str) {
        self.warnings.push(Warning {
            file: self.name.clone(),
            offset: self.offset,
            frame: Some(frame),
            message: message.to_string(),
        });
    }
}

fn read_u32(b: &[u8], big_endian: bool) -> u32 {
    let a = [b[0], b[1], b[2], b[3]];
    if big_endian {
        u32::from_be_bytes(a)
    } else {
        u32::from_le_bytes(a)
    }
}

fn read_full(source: &mut impl Read, buf: &mut [u8]) -> std::io::Result<()> {
    source.read_exact(buf)
}

fn read_up_to(source: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match source.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

//! Classic libpcap format (draft-ietf-opsawg-pcap): a 24-byte file header, then one record
//! header and the captured bytes per packet.
//!
//! Also reads the "modified" format of Alexey Kuznetsov's patched libpcap (magic 0xa1b2cd34),
//! whose record headers carry 8 more bytes (ifindex, protocol, packet type, padding).

use crate::reader::{Interface, Meta, Record};
use crate::source::Window;
use crate::{Error, LinkType, Timestamp};

/// Largest captured length accepted for one record. libpcap caps snap lengths at 256 KiB for
/// most link types and 16 MiB for a few (D-Bus, USB); anything past that is damage.
pub const MAX_RECORD: u32 = 16 << 20;

const FILE_HEADER: usize = 24;

/// The variant a magic number announces.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Kind {
    big_endian: bool,
    nanos: bool,
    /// Record header length: 16, or 24 in the modified format.
    record_header: usize,
}

impl Kind {
    /// draft-ietf-opsawg-pcap section 4: 0xA1B2C3D4 (microseconds) and 0xA1B23C4D
    /// (nanoseconds), written in the writer's byte order.
    pub(crate) fn from_magic(bytes: [u8; 4]) -> Option<Self> {
        let le = u32::from_le_bytes(bytes);
        let (nanos, record_header) = match le {
            0xa1b2_c3d4 | 0xd4c3_b2a1 => (false, 16),
            0xa1b2_3c4d | 0x4d3c_b2a1 => (true, 16),
            0xa1b2_cd34 | 0x34cd_b2a1 => (false, 24),
            _ => return None,
        };
        // Written little endian, the magic reads back as 0xa1b2.... from LE bytes.
        let big_endian = le >> 16 != 0xa1b2;
        Some(Self {
            big_endian,
            nanos,
            record_header,
        })
    }
}

/// Whether record headers hold the captured and original lengths in the pre-2.3 order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Lengths {
    Standard,
    Swapped,
    /// Version 2.3 files were written both ways: swap only when captured > original.
    MaybeSwapped,
}

pub(crate) struct Pcap {
    kind: Kind,
    lengths: Lengths,
}

impl Pcap {
    /// Reads the file header (the caller has checked the magic).
    pub(crate) fn open(kind: Kind, window: &mut Window, meta: &mut Meta) -> Result<Self, Error> {
        let got = window
            .fill(FILE_HEADER)
            .map_err(|e| meta.read_error(0, e))?;
        let h = window.avail();
        if !got {
            return Err(Error::Format {
                file: meta.name.clone(),
                offset: 0,
                message: format!("pcap file header cut short ({} of 24 bytes)", h.len()),
            });
        }
        let be = kind.big_endian;
        let major = u16_at(h, 4, be);
        let minor = u16_at(h, 6, be);
        // libpcap sf-pcap.c: the two length fields changed places at version 2.3; older
        // files (and DG/UX tcpdump's "543.0") hold the original length first.
        let lengths = match (major, minor) {
            (0 | 1, _) | (2, 0..=2) | (543, _) => Lengths::Swapped,
            (2, 3) => Lengths::MaybeSwapped,
            _ => Lengths::Standard,
        };
        let snaplen = u32_at(h, 16, be);
        // draft-ietf-opsawg-pcap section 4: LinkType is the low 16 bits; the upper bits
        // carry FCS information.
        let link = LinkType((u32_at(h, 20, be) & 0xffff) as u16);
        meta.interfaces.push(Interface::new(
            link,
            snaplen,
            if kind.nanos { 9 } else { 6 },
        ));
        window.consume(FILE_HEADER);
        Ok(Self { kind, lengths })
    }

    pub(crate) fn next(
        &mut self,
        window: &mut Window,
        meta: &mut Meta,
    ) -> Result<Option<Record>, Error> {
        let offset = window.offset();
        let hl = self.kind.record_header;
        let got = window.fill(hl).map_err(|e| meta.read_error(offset, e))?;
        let h = window.avail();
        if !got {
            if !h.is_empty() {
                let n = h.len();
                meta.warn(
                    offset,
                    format!("capture ends inside a record header ({n} of {hl} bytes)"),
                );
            }
            return Ok(None);
        }
        let be = self.kind.big_endian;
        let secs = i64::from(u32_at(h, 0, be));
        let frac = i64::from(u32_at(h, 4, be));
        let (mut incl, mut orig) = (u32_at(h, 8, be), u32_at(h, 12, be));
        if self.lengths == Lengths::Swapped
            || (self.lengths == Lengths::MaybeSwapped && incl > orig)
        {
            (incl, orig) = (orig, incl);
        }
        if incl > MAX_RECORD {
            return Err(meta.error(
                offset,
                format!("captured length {incl} is absurd (limit {MAX_RECORD})"),
            ));
        }
        // Bounded by MAX_RECORD above, so no overflow and a bounded buffer.
        let total = hl + incl as usize;
        let got = window.fill(total).map_err(|e| meta.read_error(offset, e))?;
        if !got {
            let have = window.avail().len() - hl;
            meta.warn(
                offset,
                format!("capture ends inside a packet ({have} of {incl} bytes)"),
            );
            return Ok(None);
        }
        let start = window.start();
        window.consume(total);
        // u32 seconds * 10^9 + a u32 fraction * 1000 stays far below i64::MAX.
        let sub = if self.kind.nanos { frac } else { frac * 1000 };
        Ok(Some(Record {
            ts: Timestamp::from_nanos(secs * 1_000_000_000 + sub),
            interface: 0,
            data: start + hl..start + total,
            orig_len: orig,
            comment: None,
            process: None,
        }))
    }
}

/// Reads a u32 at `at`. Callers have made `at + 4 <= b.len()` sure; a short slice reads as 0
/// rather than panicking.
#[inline]
pub(crate) fn u32_at(b: &[u8], at: usize, big_endian: bool) -> u32 {
    let Some(&[a0, a1, a2, a3]) = b.get(at..at.wrapping_add(4)) else {
        return 0;
    };
    if big_endian {
        u32::from_be_bytes([a0, a1, a2, a3])
    } else {
        u32::from_le_bytes([a0, a1, a2, a3])
    }
}

/// Reads a u16 at `at`, as [`u32_at`].
#[inline]
pub(crate) fn u16_at(b: &[u8], at: usize, big_endian: bool) -> u16 {
    let Some(&[a0, a1]) = b.get(at..at.wrapping_add(2)) else {
        return 0;
    };
    if big_endian {
        u16::from_be_bytes([a0, a1])
    } else {
        u16::from_le_bytes([a0, a1])
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use crate::{Error, LinkType, Reader, Timestamp};

    /// Builds a classic pcap file by hand (draft-ietf-opsawg-pcap sections 4 and 5).
    pub(crate) fn build(magic: u32, be: bool, link: u32, records: &[(u32, u32, &[u8])]) -> Vec<u8> {
        let w32 = |v: u32| if be { v.to_be_bytes() } else { v.to_le_bytes() };
        let w16 = |v: u16| if be { v.to_be_bytes() } else { v.to_le_bytes() };
        let modified = magic == 0xa1b2_cd34;
        let mut f = Vec::new();
        f.extend_from_slice(&w32(magic));
        f.extend_from_slice(&w16(2));
        f.extend_from_slice(&w16(4));
        f.extend_from_slice(&[0; 8]);
        f.extend_from_slice(&w32(65535));
        f.extend_from_slice(&w32(link));
        for &(secs, frac, data) in records {
            f.extend_from_slice(&w32(secs));
            f.extend_from_slice(&w32(frac));
            f.extend_from_slice(&w32(data.len() as u32));
            f.extend_from_slice(&w32(data.len() as u32 + 4));
            if modified {
                f.extend_from_slice(&[0; 8]);
            }
            f.extend_from_slice(data);
        }
        f
    }

    /// frame, timestamp, link type, data, original length
    type Seen = (u64, Timestamp, LinkType, Vec<u8>, u32);

    fn read(bytes: Vec<u8>) -> (Vec<Seen>, Reader) {
        let mut r = Reader::from_read("t.pcap", std::io::Cursor::new(bytes)).unwrap();
        let mut out = Vec::new();
        while let Some(p) = r.next_packet().unwrap() {
            out.push((p.frame, p.ts, p.link, p.data.to_vec(), p.orig_len));
        }
        (out, r)
    }

    #[test]
    fn variants() {
        // (magic, big endian, nanoseconds)
        let table = [
            (0xa1b2_c3d4, false, false),
            (0xa1b2_c3d4, true, false),
            (0xa1b2_3c4d, false, true),
            (0xa1b2_3c4d, true, true),
            (0xa1b2_cd34, false, false),
            (0xa1b2_cd34, true, false),
        ];
        for (magic, be, nanos) in table {
            // Upper link-type bits carry FCS length: they must be ignored.
            let f = build(magic, be, 0x1000_0001, &[(10, 5, b"abc"), (11, 0, b"")]);
            let (pkts, r) = read(f);
            assert_eq!(pkts.len(), 2, "{magic:x} {be}");
            let unit = if nanos { 1 } else { 1000 };
            assert_eq!(pkts[0].1, Timestamp::from_nanos(10_000_000_000 + 5 * unit));
            assert_eq!(pkts[0].2, LinkType::ETHERNET);
            assert_eq!(pkts[0].3, b"abc");
            assert_eq!(pkts[0].4, 7);
            assert_eq!(pkts[1].0, 2);
            assert_eq!(r.interfaces().len(), 1);
            assert_eq!(r.interfaces()[0].ts_resolution, if nanos { 9 } else { 6 });
        }
    }

    #[test]
    fn absurd_length_is_an_error_naming_offset_and_frame() {
        let mut f = build(0xa1b2_c3d4, false, 1, &[(1, 0, b"ab")]);
        let second = f.len();
        f.extend_from_slice(&[0; 8]);
        f.extend_from_slice(&0xffff_fff0u32.to_le_bytes());
        f.extend_from_slice(&[0; 4]);
        let mut r = Reader::from_read("t.pcap", std::io::Cursor::new(f)).unwrap();
        assert!(r.next_packet().unwrap().is_some());
        match r.next_packet() {
            Err(Error::Format {
                offset, message, ..
            }) => {
                assert_eq!(offset, second as u64);
                assert!(message.contains("frame 2"), "{message}");
            }
            other => panic!("{other:?}"),
        }
        assert!(r.next_packet().unwrap().is_none());
    }

    #[test]
    fn truncated_last_record_warns() {
        let f = build(0xa1b2_c3d4, true, 1, &[(1, 0, b"abcd"), (2, 0, b"efgh")]);
        let full = f.len();
        for cut in [full - 1, full - 4, full - 13] {
            let (pkts, mut r) = read(f[..cut].to_vec());
            assert_eq!(pkts.len(), 1);
            let w = r.take_warnings();
            assert_eq!(w.len(), 1, "{w:?}");
            assert_eq!(w[0].frame, Some(2));
            assert_eq!(w[0].offset, 24 + 16 + 4);
        }
    }

    #[test]
    fn pre_2_3_files_have_the_lengths_swapped() {
        // (major, minor, captured-length field, original-length field, data read)
        let table: &[(u16, u16, u32, u32, usize)] = &[
            (2, 4, 3, 500, 3),
            (2, 0, 500, 3, 3),
            (2, 3, 500, 3, 3),
            (2, 3, 3, 500, 3),
            (543, 0, 500, 3, 3),
        ];
        for &(major, minor, first, second, want) in table {
            let mut f = build(0xa1b2_c3d4, false, 1, &[]);
            f[4..6].copy_from_slice(&major.to_le_bytes());
            f[6..8].copy_from_slice(&minor.to_le_bytes());
            f.extend_from_slice(&[0; 8]);
            f.extend_from_slice(&first.to_le_bytes());
            f.extend_from_slice(&second.to_le_bytes());
            f.extend_from_slice(b"abc");
            let (pkts, mut r) = read(f);
            assert_eq!(pkts.len(), 1, "{major}.{minor}");
            assert_eq!((pkts[0].3.len(), pkts[0].4), (want, 500));
            assert!(r.take_warnings().is_empty());
        }
    }

    #[test]
    fn short_header_and_garbage_are_errors() {
        for bytes in [
            &b""[..],
            b"\xd4\xc3\xb2",
            b"\xd4\xc3\xb2\xa1\x02\x00",
            b"hello world, not a capture",
        ] {
            assert!(Reader::from_read("x", std::io::Cursor::new(bytes.to_vec())).is_err());
        }
    }
}

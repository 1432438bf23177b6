//! Classic pcap output: the global header, then one record per frame.
//!
//! Format per the pcap file format draft (draft-ietf-opsawg-pcap, sections 4 and 5): magic `a1b2c3d4`
//! written little-endian (microsecond timestamps), version 2.4, link type 1 (Ethernet).

use std::io::{self, Write};

/// Snapshot length advertised in the header; every frame written is shorter.
pub const SNAPLEN: u32 = 65_535;
/// LINKTYPE_ETHERNET.
pub const LINKTYPE_ETHERNET: u32 = 1;
/// Size of the global header.
pub const FILE_HEADER_LEN: u64 = 24;
/// Size of each record header.
pub const RECORD_HEADER_LEN: u64 = 16;

/// Writes frames to a classic pcap stream and counts what it wrote.
#[derive(Debug)]
pub struct PcapWriter<W: Write> {
    out: W,
    bytes: u64,
    frames: u64,
}

impl<W: Write> PcapWriter<W> {
    /// Writes the global header (draft-ietf-opsawg-pcap section 4).
    pub fn new(mut out: W) -> io::Result<Self> {
        let mut h = [0u8; 24];
        h[0..4].copy_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
        h[4..6].copy_from_slice(&2u16.to_le_bytes());
        h[6..8].copy_from_slice(&4u16.to_le_bytes());
        // thiszone and sigfigs stay 0.
        h[16..20].copy_from_slice(&SNAPLEN.to_le_bytes());
        h[20..24].copy_from_slice(&LINKTYPE_ETHERNET.to_le_bytes());
        out.write_all(&h)?;
        Ok(Self {
            out,
            bytes: FILE_HEADER_LEN,
            frames: 0,
        })
    }

    /// Writes one record (section 5) with a timestamp in microseconds since the Unix epoch.
    pub fn write(&mut self, ts_us: u64, frame: &[u8]) -> io::Result<()> {
        let len = u32::try_from(frame.len())
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "frame over 4 GiB"))?;
        let mut h = [0u8; 16];
        // Seconds wrap in 2106; the generator's clock starts in 2024.
        h[0..4].copy_from_slice(&((ts_us / 1_000_000) as u32).to_le_bytes());
        h[4..8].copy_from_slice(&((ts_us % 1_000_000) as u32).to_le_bytes());
        h[8..12].copy_from_slice(&len.to_le_bytes());
        h[12..16].copy_from_slice(&len.to_le_bytes());
        self.out.write_all(&h)?;
        self.out.write_all(frame)?;
        self.bytes += RECORD_HEADER_LEN + u64::from(len);
        self.frames += 1;
        Ok(())
    }

    /// Bytes written so far, headers included.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Frames written so far.
    pub fn frames(&self) -> u64 {
        self.frames
    }

    /// Flushes and returns the inner writer.
    pub fn finish(mut self) -> io::Result<W> {
        self.out.flush()?;
        Ok(self.out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_and_record_layout() {
        let mut w = PcapWriter::new(Vec::new()).unwrap();
        w.write(1_700_000_000_123_456, &[0xaa; 60]).unwrap();
        assert_eq!(w.frames(), 1);
        assert_eq!(w.bytes(), 24 + 16 + 60);
        let out = w.finish().unwrap();
        assert_eq!(&out[0..4], &[0xd4, 0xc3, 0xb2, 0xa1]);
        assert_eq!(u32::from_le_bytes(out[20..24].try_into().unwrap()), 1);
        assert_eq!(
            u32::from_le_bytes(out[24..28].try_into().unwrap()),
            1_700_000_000
        );
        assert_eq!(u32::from_le_bytes(out[28..32].try_into().unwrap()), 123_456);
        assert_eq!(u32::from_le_bytes(out[32..36].try_into().unwrap()), 60);
        assert_eq!(out.len(), 100);
    }
}

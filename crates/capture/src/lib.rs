//! Capture sources: turn capture files (or standard input) into timestamped link-layer frames.
//!
//! This is the only stage of phonehome that performs I/O. Everything downstream receives
//! [`Packet`]s that borrow from the reader's buffer and hold no file handle.
//!
//! # Formats
//! - classic pcap (draft-ietf-opsawg-pcap): both byte orders, micro- and nanosecond
//!   timestamps, and the "modified" variant with 24-byte record headers;
//! - pcapng (draft-ietf-opsawg-pcapng): Section Header, Interface Description, Enhanced,
//!   Simple and obsolete Packet, Name Resolution, Interface Statistics and Decryption Secrets
//!   blocks; several sections with their own byte order, several interfaces with their own
//!   link types and timestamp resolutions; unknown and custom blocks are skipped;
//! - either of them compressed with gzip or zstd, recognised by their first bytes.
//!
//! # How bytes flow
//! The source (file, standard input or any `Read`) is read in large chunks into one buffer.
//! On the way every stored byte is counted ([`Reader::bytes_read`]) and hashed
//! ([`Reader::sha256_hex`]); a decompressor sits above that when needed. Records are parsed in
//! place and each [`Packet`] borrows its bytes straight out of the buffer: there is no copy and
//! no allocation per packet. The reader only ever waits for the bytes of the record it is
//! reading, so `tcpdump -w - | phonehome audit -` reports packets as they arrive.
//!
//! Plain `read` into a 1 MiB buffer was measured against a memory map slid over the file in
//! 4–64 MiB windows, on a 1 GiB classic pcap (1.5 million packets) in the page cache, one
//! core, SHA-256 included: about 1.9 GB/s and 3 MB resident for `read`, 1.7 GB/s and 8–70 MB
//! for the map (2, 4 MiB and 256 KiB buffers were no faster). SHA-256 (SHA-NI) is most of
//! the cost. With the hashing on a thread of its own, mapping the file for the reading thread
//! alone was measured again: no faster, and more CPU (packets parsed out of page-cache memory
//! miss the cache the kernel's copy warms). `read` also needs no `unsafe` and works for pipes
//! and decompressors alike, so it is the only path.
//!
//! # Contract
//! Capture input is untrusted. A reader never panics on it: every length read from the input
//! is checked against what is left before it is used, and against caps
//! ([`MAX_RECORD`], [`MAX_BLOCK`], [`MAX_INTERFACES`], [`MAX_WARNINGS`],
//! [`MAX_SECRETS_BYTES`]) so that memory stays bounded. Damaged data becomes a [`Warning`]
//! (the run goes on) or an [`Error`] (reading of that file stops; records read before it
//! stay valid); both name the file, the byte offset (in the decompressed capture) and, where
//! known, the frame number.
//!
//! ```
//! use phonehome_capture::{Reader, LinkType};
//! // A classic pcap header (little endian, microseconds, Ethernet) and no packets.
//! let mut file = vec![0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0];
//! file.extend_from_slice(&[0; 8]);
//! file.extend_from_slice(&65535u32.to_le_bytes());
//! file.extend_from_slice(&1u32.to_le_bytes());
//! let mut reader = Reader::from_read("example.pcap", std::io::Cursor::new(file)).unwrap();
//! assert!(reader.next_packet().unwrap().is_none());
//! assert_eq!(reader.interfaces()[0].link, LinkType::ETHERNET);
//! assert_eq!(reader.bytes_read(), 24);
//! ```

mod pcap;
mod pcapng;
mod reader;
mod source;

pub use pcap::MAX_RECORD;
pub use pcapng::{MAX_BLOCK, MAX_INTERFACES};
pub use reader::{
    Error, Interface, Packet, Process, Reader, Secrets, Warning, MAX_SECRETS_BYTES, MAX_WARNINGS,
};
pub use source::PendingSha256;

/// An instant, in nanoseconds since the Unix epoch (UTC).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(i64);

impl Timestamp {
    /// Builds a timestamp from nanoseconds since the Unix epoch.
    pub const fn from_nanos(nanos: i64) -> Self {
        Self(nanos)
    }

    /// Nanoseconds since the Unix epoch.
    pub const fn as_nanos(self) -> i64 {
        self.0
    }

    /// Whole seconds since the Unix epoch (rounded towards negative infinity).
    pub const fn secs(self) -> i64 {
        self.0.div_euclid(1_000_000_000)
    }

    /// Nanoseconds within the second, `0..1_000_000_000`.
    pub const fn subsec_nanos(self) -> u32 {
        self.0.rem_euclid(1_000_000_000) as u32
    }

    /// `self - earlier` in nanoseconds, saturating.
    pub const fn nanos_since(self, earlier: Self) -> i64 {
        self.0.saturating_sub(earlier.0)
    }
}

/// A link-layer header type, as registered by tcpdump.org (LINKTYPE_*). Unknown values survive.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct LinkType(pub u16);

impl LinkType {
    pub const NULL: Self = Self(0);
    pub const ETHERNET: Self = Self(1);
    pub const PPP: Self = Self(9);
    pub const IEEE802_11: Self = Self(105);
    pub const IEEE802_11_RADIOTAP: Self = Self(127);
    pub const RAW: Self = Self(101);
    /// OpenBSD's LINKTYPE_LOOP: like NULL but the family is in network byte order.
    pub const LOOP: Self = Self(108);
    pub const LINUX_SLL: Self = Self(113);
    pub const IPV4: Self = Self(228);
    pub const IPV6: Self = Self(229);
    pub const NFLOG: Self = Self(239);
    pub const LINUX_SLL2: Self = Self(276);
    /// DLT_RAW as some BSDs number it in classic pcap files.
    pub const RAW_BSD: Self = Self(12);
    pub const RAW_OPENBSD: Self = Self(14);

    /// The registered name, for messages.
    pub fn name(self) -> &'static str {
        match self {
            Self::NULL => "NULL",
            Self::ETHERNET => "ETHERNET",
            Self::PPP => "PPP",
            Self::IEEE802_11 => "IEEE802_11",
            Self::IEEE802_11_RADIOTAP => "IEEE802_11_RADIOTAP",
            Self::RAW | Self::RAW_BSD | Self::RAW_OPENBSD => "RAW",
            Self::LOOP => "LOOP",
            Self::LINUX_SLL => "LINUX_SLL",
            Self::IPV4 => "IPV4",
            Self::IPV6 => "IPV6",
            Self::NFLOG => "NFLOG",
            Self::LINUX_SLL2 => "LINUX_SLL2",
            _ => "unknown",
        }
    }
}

impl std::fmt::Display for LinkType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.name(), self.0)
    }
}

/// Entry points for fuzz targets: not part of the API.
#[doc(hidden)]
pub mod fuzzing {
    use sha2::{Digest, Sha256};

    use crate::Reader;

    /// Reads a whole capture from `data` and checks the reader's invariants: frames are
    /// numbered 1, 2, 3...; packets stay within the caps and name a known interface; the
    /// byte count and digest describe a prefix of the input; nothing panics.
    pub fn read_all(data: &[u8]) {
        let Ok(mut reader) = Reader::from_read("fuzz", std::io::Cursor::new(data.to_vec())) else {
            return;
        };
        let mut expected = 1u64;
        while let Ok(Some(p)) = reader.next_packet() {
            assert_eq!(p.frame, expected);
            assert!(p.data.len() <= crate::MAX_BLOCK as usize);
            let interface = p.interface as usize;
            assert!(interface < reader.interfaces().len());
            assert!(reader.interfaces().len() <= crate::MAX_INTERFACES);
            expected += 1;
        }
        assert!(reader.next_packet().is_ok_and(|p| p.is_none()));
        let read = usize::try_from(reader.bytes_read()).unwrap_or(usize::MAX);
        assert!(read <= data.len());
        let digest = Sha256::digest(&data[..read]);
        let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(reader.sha256_hex(), hex);
        assert!(reader.take_warnings().len() <= crate::MAX_WARNINGS + 1);
        let _ = reader.take_secrets();
    }

    #[cfg(test)]
    pub(crate) mod tests {
        use sha2::{Digest, Sha256};

        pub(crate) fn sha256_hex(data: &[u8]) -> String {
            Sha256::digest(data)
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect()
        }
    }
}

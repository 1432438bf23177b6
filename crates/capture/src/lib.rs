//! Capture sources: turn capture files (or standard input) into timestamped link-layer frames.
//!
//! This is the only stage of phonehome that performs I/O. Everything downstream receives
//! [`Packet`]s that borrow from the reader's buffer and hold no file handle.
//!
//! # Contract
//! Capture input is untrusted. A reader never panics on it: damaged data becomes a
//! [`Warning`] (the run goes on) or an [`Error`] (reading of that file stops); both name the
//! file, the byte offset and, where known, the frame number.
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
//! ```

mod pcap;
mod reader;

pub use reader::{Error, Packet, Reader, Warning};

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

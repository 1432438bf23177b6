//! The public reader: opens a source and yields packets.

use std::io::Read;

use crate::{pcap, LinkType, Timestamp};

/// One captured frame, borrowing its bytes from the reader.
#[derive(Clone, Copy, Debug)]
pub struct Packet<'a> {
    /// 1-based frame number within its file, as Wireshark numbers it.
    pub frame: u64,
    pub ts: Timestamp,
    /// Index of the capture interface (always 0 for classic pcap).
    pub interface: u32,
    pub link: LinkType,
    /// Captured bytes (may be shorter than `orig_len` when the snap length cut it).
    pub data: &'a [u8],
    /// Length of the frame on the wire.
    pub orig_len: u32,
}

/// Something wrong in the input that did not stop the reading.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Warning {
    pub file: String,
    pub offset: u64,
    pub frame: Option<u64>,
    pub message: String,
}

impl std::fmt::Display for Warning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: byte {}", self.file, self.offset)?;
        if let Some(frame) = self.frame {
            write!(f, ", frame {frame}")?;
        }
        write!(f, ": {}", self.message)
    }
}

/// Why reading of a file stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error("{file}: {source}")]
    Io {
        file: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{file}: byte {offset}: {message}")]
    Format {
        file: String,
        offset: u64,
        message: String,
    },
}

/// Reads packets from one capture source.
pub struct Reader {
    inner: pcap::PcapReader<Box<dyn Read + Send>>,
}

impl Reader {
    /// Opens a path; `-` is standard input.
    pub fn open(path: &str) -> Result<Self, Error> {
        let io = |source| Error::Io {
            file: path.to_string(),
            source,
        };
        let source: Box<dyn Read + Send> = if path == "-" {
            Box::new(std::io::stdin())
        } else {
            Box::new(std::fs::File::open(path).map_err(io)?)
        };
        Self::from_read(path, source)
    }

    /// Reads from any byte source; `name` is used in messages.
    pub fn from_read(name: &str, source: impl Read + Send + 'static) -> Result<Self, Error> {
        let source: Box<dyn Read + Send> = Box::new(source);
        let inner = pcap::PcapReader::new(name.to_string(), source)?;
        Ok(Self { inner })
    }

    /// The next packet, `Ok(None)` at the end of the input.
    pub fn next_packet(&mut self) -> Result<Option<Packet<'_>>, Error> {
        self.inner.next_packet()
    }

    /// Warnings collected since the last call.
    pub fn take_warnings(&mut self) -> Vec<Warning> {
        std::mem::take(&mut self.inner.warnings)
    }

    /// Bytes consumed from the source so far.
    pub fn bytes_read(&self) -> u64 {
        self.inner.offset
    }
}

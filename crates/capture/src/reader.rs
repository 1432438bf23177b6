//! The public reader: opens a source, recognises the format and yields packets.

use std::io::Read;
use std::ops::Range;

use crate::source::{Decoded, Hashing, PendingSha256, Window};
use crate::{pcap, pcapng, LinkType, Timestamp};

/// At most this many warnings are kept between two [`Reader::take_warnings`] calls; the rest
/// are counted and reported as one summary warning.
pub const MAX_WARNINGS: usize = 1000;

/// Decryption secrets kept between two [`Reader::take_secrets`] calls, in bytes; blocks past
/// this are dropped with a warning.
pub const MAX_SECRETS_BYTES: usize = 64 << 20;

/// One captured frame, borrowing its bytes from the reader.
#[derive(Clone, Copy, Debug)]
pub struct Packet<'a> {
    /// 1-based frame number within its file, as Wireshark numbers it.
    pub frame: u64,
    pub ts: Timestamp,
    /// Index into [`Reader::interfaces`] (always 0 for classic pcap). Interfaces are numbered
    /// across all pcapng sections of the file, as Wireshark numbers them.
    pub interface: u32,
    pub link: LinkType,
    /// Captured bytes (may be shorter than `orig_len` when the snap length cut it).
    pub data: &'a [u8],
    /// Length of the frame on the wire.
    pub orig_len: u32,
    /// The first `opt_comment` of a pcapng Enhanced or obsolete Packet Block, if valid UTF-8.
    pub comment: Option<&'a str>,
    /// Decryption secrets were read since the last packet: call
    /// [`Reader::take_secrets`] before relying on keys for this packet.
    pub secrets_pending: bool,
    /// The process that sent or received the packet, when the capture says (Apple's
    /// per-packet process information, or pcapng's `epb_processid_threadid`).
    pub process: Option<Process<'a>>,
}

/// A process on the capturing host.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Process<'a> {
    pub pid: u32,
    pub name: Option<&'a str>,
}

/// A capture interface: the single one of a classic pcap file, or a pcapng Interface
/// Description Block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Interface {
    pub link: LinkType,
    /// Maximum captured length per packet; 0 means no limit.
    pub snaplen: u32,
    /// `if_name`, if present.
    pub name: Option<String>,
    /// `if_description`, if present.
    pub description: Option<String>,
    /// Timestamp resolution as pcapng's `if_tsresol` stores it: with the top bit clear a unit
    /// is 10^-n seconds, with it set 2^-n seconds (n = low 7 bits). 6 = microseconds.
    pub ts_resolution: u8,
    /// `if_tsoffset`: seconds added to every timestamp of this interface.
    pub ts_offset: i64,
    /// 0-based pcapng section this interface belongs to.
    pub section: u32,
}

impl Interface {
    pub(crate) fn new(link: LinkType, snaplen: u32, ts_resolution: u8) -> Self {
        Self {
            link,
            snaplen,
            name: None,
            description: None,
            ts_resolution,
            ts_offset: 0,
            section: 0,
        }
    }

    /// Converts a timestamp in this interface's units to an instant, saturating at the ends
    /// of the representable range (pcapng draft section 4.2, `if_tsresol` and `if_tsoffset`).
    pub fn timestamp(&self, units: u64) -> Timestamp {
        let nanos: i128 = match self.ts_resolution {
            6 => i128::from(units) * 1000,
            9 => i128::from(units),
            r if r & 0x80 == 0 => {
                let n = u32::from(r);
                if n <= 9 {
                    i128::from(units) * 10i128.pow(9 - n)
                } else {
                    // 10^39 and more overflow i128 and divide every u64 to 0 anyway.
                    10i128
                        .checked_pow(n - 9)
                        .map_or(0, |d| i128::from(units) / d)
                }
            }
            r => {
                // units * 10^9 < 2^94: fits; the shift is at most 127.
                let n = u32::from(r & 0x7f);
                ((u128::from(units) * 1_000_000_000) >> n) as i128
            }
        };
        let total = nanos.saturating_add(i128::from(self.ts_offset) * 1_000_000_000);
        Timestamp::from_nanos(total.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64)
    }
}

/// A pcapng Decryption Secrets Block (e.g. a TLS key log), in file order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Secrets {
    /// `0x544c534b` ("TLSK") is an NSS key log; see [`Secrets::TLS_KEY_LOG`].
    pub secrets_type: u32,
    pub data: Vec<u8>,
}

impl Secrets {
    /// NSS key log format (SSLKEYLOGFILE), pcapng draft section 4.7.
    pub const TLS_KEY_LOG: u32 = 0x544c_534b;
    /// WireGuard key log.
    pub const WIREGUARD_KEY_LOG: u32 = 0x5747_4b4c;
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
    /// The source could not be opened or read at all.
    #[error("{file}: {source}")]
    Io {
        file: String,
        #[source]
        source: std::io::Error,
    },
    /// Reading (or decompressing) failed part way through.
    #[error("{file}: byte {offset}: {source}")]
    Read {
        file: String,
        /// Offset in the capture (after decompression) where reading stopped.
        offset: u64,
        #[source]
        source: std::io::Error,
    },
    /// The bytes are not a capture, or framing is damaged beyond recovery. The message names
    /// the frame being read where known.
    #[error("{file}: byte {offset}: {message}")]
    Format {
        file: String,
        offset: u64,
        message: String,
    },
}

/// What a format parser found: positions are indices into the window buffer.
pub(crate) struct Record {
    pub(crate) ts: Timestamp,
    pub(crate) interface: u32,
    pub(crate) data: Range<usize>,
    pub(crate) orig_len: u32,
    pub(crate) comment: Option<Range<usize>>,
    pub(crate) process: Option<crate::pcapng::ProcessRef>,
}

/// Everything a format parser may update besides the window.
pub(crate) struct Meta {
    pub(crate) name: String,
    /// Frames yielded so far; the one being read is `frame + 1`.
    pub(crate) frame: u64,
    pub(crate) last_ts: Timestamp,
    pub(crate) interfaces: Vec<Interface>,
    /// Darwin process blocks of the current pcapng section, in order.
    pub(crate) processes: Vec<crate::pcapng::Dpib>,
    secrets: Vec<Secrets>,
    secrets_bytes: usize,
    warnings: Vec<Warning>,
    suppressed: u64,
}

impl Meta {
    pub(crate) fn warn(&mut self, offset: u64, message: impl Into<String>) {
        if self.warnings.len() >= MAX_WARNINGS {
            self.suppressed += 1;
            return;
        }
        self.warnings.push(Warning {
            file: self.name.clone(),
            offset,
            frame: Some(self.frame + 1),
            message: message.into(),
        });
    }

    /// A format error at `offset`, naming the frame being read.
    pub(crate) fn error(&self, offset: u64, message: impl std::fmt::Display) -> Error {
        Error::Format {
            file: self.name.clone(),
            offset,
            message: format!("frame {}: {message}", self.frame + 1),
        }
    }

    pub(crate) fn read_error(&self, offset: u64, source: std::io::Error) -> Error {
        Error::Read {
            file: self.name.clone(),
            offset,
            source,
        }
    }

    pub(crate) fn add_secrets(&mut self, offset: u64, secrets_type: u32, data: &[u8]) {
        if self.secrets_bytes.saturating_add(data.len()) > MAX_SECRETS_BYTES {
            self.warn(offset, "decryption secrets over the memory limit dropped");
            return;
        }
        self.secrets_bytes += data.len();
        self.secrets.push(Secrets {
            secrets_type,
            data: data.to_vec(),
        });
    }
}

enum Format {
    Pcap(pcap::Pcap),
    Pcapng(pcapng::Pcapng),
}

/// Reads packets from one capture source: classic pcap (both byte orders, micro- and
/// nanosecond, the "modified" variant) or pcapng, optionally gzip- or zstd-compressed.
pub struct Reader {
    window: Window,
    meta: Meta,
    format: Format,
    size_hint: Option<u64>,
    done: bool,
    /// The path of a regular file, which a hashing thread can read on its own.
    path: Option<std::path::PathBuf>,
    /// SHA-256 of the whole file computed by such a thread.
    file_hash: Option<crate::source::FileHash>,
}

impl Reader {
    /// Opens a path; `-` is standard input.
    pub fn open(path: &str) -> Result<Self, Error> {
        let io = |source| Error::Io {
            file: path.to_string(),
            source,
        };
        if path == "-" {
            return Self::from_read(path, std::io::stdin());
        }
        let file = std::fs::File::open(path).map_err(io)?;
        let size = file
            .metadata()
            .ok()
            .filter(|m| m.is_file())
            .map(|m| m.len());
        let mut reader = Self::from_read(path, file)?;
        reader.size_hint = size;
        if size.is_some() {
            reader.path = Some(std::path::PathBuf::from(path));
        }
        Ok(reader)
    }

    /// Reads from any byte source; `name` is used in messages.
    pub fn from_read(name: &str, source: impl Read + Send + 'static) -> Result<Self, Error> {
        let mut meta = Meta {
            name: name.to_string(),
            frame: 0,
            last_ts: Timestamp::default(),
            interfaces: Vec::new(),
            processes: Vec::new(),
            secrets: Vec::new(),
            secrets_bytes: 0,
            warnings: Vec::new(),
            suppressed: 0,
        };
        let raw = Hashing::new(Box::new(source));
        let decoded = Decoded::new(raw).map_err(|source| Error::Io {
            file: name.to_string(),
            source,
        })?;
        let mut window = Window::new(decoded);
        let got = window.fill(4).map_err(|e| meta.read_error(0, e))?;
        let head = window.avail();
        let magic = if got {
            [head[0], head[1], head[2], head[3]]
        } else {
            return Err(Error::Format {
                file: meta.name,
                offset: 0,
                message: format!("not a capture file: only {} bytes", head.len()),
            });
        };
        let format = if magic == pcapng::SHB_MAGIC {
            Format::Pcapng(pcapng::Pcapng::new())
        } else if let Some(kind) = pcap::Kind::from_magic(magic) {
            Format::Pcap(pcap::Pcap::open(kind, &mut window, &mut meta)?)
        } else {
            return Err(Error::Format {
                file: meta.name,
                offset: 0,
                message: format!(
                    "not a pcap, pcapng, gzip or zstd file (starts with {:02x} {:02x} {:02x} {:02x})",
                    magic[0], magic[1], magic[2], magic[3]
                ),
            });
        };
        Ok(Self {
            window,
            meta,
            format,
            size_hint: None,
            done: false,
            path: None,
            file_hash: None,
        })
    }

    /// The next packet, `Ok(None)` at the end of the input. After an `Err` (or the end) every
    /// further call returns `Ok(None)`.
    pub fn next_packet(&mut self) -> Result<Option<Packet<'_>>, Error> {
        if self.done {
            return Ok(None);
        }
        let found = match &mut self.format {
            Format::Pcap(p) => p.next(&mut self.window, &mut self.meta),
            Format::Pcapng(p) => p.next(&mut self.window, &mut self.meta),
        };
        let record = match found {
            Ok(Some(r)) => r,
            Ok(None) => {
                self.done = true;
                if self.window.cut_short {
                    let offset = self.window.offset();
                    self.meta.warn(offset, "compressed stream ends early");
                }
                return Ok(None);
            }
            Err(e) => {
                self.done = true;
                return Err(e);
            }
        };
        self.meta.frame += 1;
        self.meta.last_ts = record.ts;
        let buf = self.window.buffer();
        let link = self
            .meta
            .interfaces
            .get(record.interface as usize)
            .map_or(LinkType(u16::MAX), |i| i.link);
        Ok(Some(Packet {
            frame: self.meta.frame,
            ts: record.ts,
            interface: record.interface,
            link,
            data: buf.get(record.data).unwrap_or_default(),
            orig_len: record.orig_len,
            comment: record
                .comment
                .and_then(|r| buf.get(r))
                .and_then(|b| std::str::from_utf8(b).ok())
                .map(|s| s.trim_end_matches('\0')),
            secrets_pending: !self.meta.secrets.is_empty(),
            process: record.process.and_then(|p| match p {
                crate::pcapng::ProcessRef::Darwin(i) => {
                    let d = self.meta.processes.get(i as usize)?;
                    Some(Process {
                        pid: d.pid,
                        name: d.name.as_deref(),
                    })
                }
                crate::pcapng::ProcessRef::Pid(pid) => Some(Process { pid, name: None }),
            }),
        }))
    }

    /// Warnings collected since the last call.
    pub fn take_warnings(&mut self) -> Vec<Warning> {
        if self.meta.suppressed > 0 {
            let n = std::mem::take(&mut self.meta.suppressed);
            self.meta.warnings.push(Warning {
                file: self.meta.name.clone(),
                offset: self.window.offset(),
                frame: None,
                message: format!("{n} more warnings not shown"),
            });
        }
        std::mem::take(&mut self.meta.warnings)
    }

    /// Raw bytes consumed from the source so far (before decompression).
    pub fn bytes_read(&self) -> u64 {
        self.window.source().raw().count()
    }

    /// Size of the file on disk, when known (not for standard input or [`Self::from_read`]).
    pub fn size_hint(&self) -> Option<u64> {
        self.size_hint
    }

    /// Interfaces seen so far: the one of a classic pcap file, or every pcapng Interface
    /// Description Block in file order.
    pub fn interfaces(&self) -> &[Interface] {
        &self.meta.interfaces
    }

    /// pcapng Decryption Secrets Blocks read since the last call.
    pub fn take_secrets(&mut self) -> Vec<Secrets> {
        self.meta.secrets_bytes = 0;
        std::mem::take(&mut self.meta.secrets)
    }

    /// Computes the input's SHA-256 on a thread of its own, beside the reading thread. A
    /// regular file is read a second time by that thread (from the page cache), so the
    /// reading thread copies nothing for it; other inputs (standard input, pipes) are copied
    /// to it in 1 MiB chunks. Off by default: the reader then uses one thread.
    pub fn set_background_hashing(&mut self, on: bool) {
        if on && self.file_hash.is_none() {
            if let Some(path) = &self.path {
                if let Some(job) = crate::source::FileHash::spawn(path.clone()) {
                    self.file_hash = Some(job);
                    self.window.source_mut().raw_mut().set_hashing(false);
                    return;
                }
            }
        }
        self.window.source_mut().raw_mut().set_background(on);
    }

    /// Lowercase hex SHA-256 of the raw bytes read so far (the file as stored, before
    /// decompression). After the end of input it is the digest of the whole file. With
    /// background hashing of a regular file, it is always the digest of the whole file.
    pub fn sha256_hex(&self) -> String {
        if let Some(job) = &self.file_hash {
            return job.hex();
        }
        self.window.source().raw().sha256_hex()
    }

    /// Ends the reading and gives the input's SHA-256, which a hashing thread may still be
    /// computing: unlike [`Self::sha256_hex`], this does not wait for it.
    pub fn into_sha256(mut self) -> PendingSha256 {
        match self.file_hash.take() {
            Some(job) => PendingSha256::file(job),
            None => self.window.source_mut().raw_mut().take_sha256(),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::sync::mpsc;
    use std::time::Duration;

    use super::*;
    use crate::pcap::tests::build;
    use crate::pcapng::tests::Builder;

    fn small_pcap() -> Vec<u8> {
        build(
            0xa1b2_c3d4,
            false,
            1,
            &[(1, 2, b"one"), (3, 4, b"second packet"), (5, 6, b"3")],
        )
    }

    fn small_pcapng() -> Vec<u8> {
        let mut b = Builder::new(true);
        b.shb()
            .idb(1, 0, &[(9, &[9])])
            .epb(0, 10, b"one", &[(1, b"c")])
            .dsb(Secrets::TLS_KEY_LOG, b"k")
            .spb(2, b"two")
            .pb(0, 11, b"three");
        b.out
    }

    fn count(bytes: Vec<u8>) -> (u64, Reader) {
        let mut r = Reader::from_read("t", std::io::Cursor::new(bytes)).unwrap();
        let mut n = 0;
        while r.next_packet().unwrap().is_some() {
            n += 1;
        }
        (n, r)
    }

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn background_hashing_gives_the_same_digest_as_inline() {
        use sha2::{Digest, Sha256};
        let payload = vec![0xabu8; 60_000];
        let records: Vec<(u32, u32, &[u8])> = (0..60).map(|i| (i, 0, &payload[..])).collect();
        let file = build(0xa1b2_c3d4, false, 1, &records);
        assert!(file.len() > 3 << 20, "spans several hash chunks");
        let expected: String = Sha256::digest(&file)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let read_all = |background: bool| {
            let mut r = Reader::from_read("big.pcap", std::io::Cursor::new(file.clone())).unwrap();
            r.set_background_hashing(background);
            let mut n = 0;
            while r.next_packet().unwrap().is_some() {
                n += 1;
            }
            assert_eq!(n, 60);
            r
        };
        for background in [false, true] {
            let r = read_all(background);
            assert_eq!(r.sha256_hex(), expected, "background = {background}");
            // Asking twice gives the same answer, and so does the digest left to finish.
            assert_eq!(r.sha256_hex(), expected);
            assert_eq!(r.into_sha256().hex(), expected);
            // Taken without asking first: the hashing thread still holds the last chunks.
            let pending = read_all(background).into_sha256();
            assert_eq!(
                format!("{pending:?}"),
                if background {
                    "PendingSha256(hashing)"
                } else {
                    "PendingSha256(ready)"
                }
            );
            assert_eq!(pending.hex(), expected, "background = {background}");
        }
    }

    #[test]
    fn a_regular_file_is_hashed_by_its_own_reader() {
        use sha2::{Digest, Sha256};
        let payload = vec![0x5au8; 40_000];
        let records: Vec<(u32, u32, &[u8])> = (0..40).map(|i| (i, 0, &payload[..])).collect();
        let file = build(0xa1b2_c3d4, false, 1, &records);
        let expected: String = Sha256::digest(&file)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let path = std::env::temp_dir().join(format!("phonehome-hash-{}.pcap", std::process::id()));
        std::fs::write(&path, &file).unwrap();
        let mut r = Reader::open(path.to_str().unwrap()).unwrap();
        r.set_background_hashing(true);
        assert!(
            r.file_hash.is_some(),
            "a regular file gets its own hashing reader"
        );
        let mut n = 0;
        while r.next_packet().unwrap().is_some() {
            n += 1;
        }
        assert_eq!(n, 40);
        assert_eq!(r.sha256_hex(), expected);
        let mut again = Reader::open(path.to_str().unwrap()).unwrap();
        again.set_background_hashing(true);
        while again.next_packet().unwrap().is_some() {}
        assert_eq!(again.into_sha256().hex(), expected);
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn gzip_and_zstd_wrapping() {
        for plain in [small_pcap(), small_pcapng()] {
            // Two gzip members back to back must read as one stream (MultiGzDecoder).
            let half = plain.len() / 2;
            let mut two_members = gzip(&plain[..half]);
            two_members.extend(gzip(&plain[half..]));
            let zst = zstd::encode_all(&plain[..], 3).unwrap();
            for packed in [gzip(&plain), two_members, zst] {
                let (n, mut r) = count(packed.clone());
                assert_eq!(n, 3);
                assert!(r.take_warnings().is_empty());
                assert_eq!(r.bytes_read(), packed.len() as u64);
                assert_eq!(r.sha256_hex(), crate::fuzzing::tests::sha256_hex(&packed));
            }
        }
    }

    #[test]
    fn cut_compressed_stream_warns() {
        // Incompressible payloads, so that the streams span several deflate and zstd blocks.
        let mut x = 1u32;
        let noise: Vec<u8> = (0..200_000)
            .map(|_| {
                x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                (x >> 24) as u8
            })
            .collect();
        let records: Vec<(u32, u32, &[u8])> = noise.chunks(100).map(|c| (0, 0, c)).collect();
        let plain = build(0xa1b2_c3d4, false, 1, &records);
        for packed in [gzip(&plain), zstd::encode_all(&plain[..], 3).unwrap()] {
            let cut = packed[..packed.len() - 1000].to_vec();
            let mut r = Reader::from_read("t", std::io::Cursor::new(cut)).unwrap();
            let mut n = 0;
            while r.next_packet().unwrap().is_some() {
                n += 1;
            }
            assert!(n > 100, "{n}");
            let w = r.take_warnings();
            assert!(
                w.iter()
                    .any(|w| w.message == "compressed stream ends early"),
                "{w:?}"
            );
        }
    }

    #[test]
    fn truncation_at_every_offset_never_panics() {
        for file in [
            small_pcap(),
            small_pcapng(),
            build(0xa1b2_cd34, true, 1, &[(1, 2, b"ab")]),
        ] {
            let (total, _) = count(file.clone());
            for cut in 0..file.len() {
                let prefix = file[..cut].to_vec();
                crate::fuzzing::read_all(&prefix);
                let Ok(mut r) = Reader::from_read("t", std::io::Cursor::new(prefix)) else {
                    continue;
                };
                let mut n = 0;
                while let Ok(Some(_)) = r.next_packet() {
                    n += 1;
                }
                assert!(n < total || cut == file.len(), "cut {cut}");
            }
            // Every single-byte corruption too.
            for at in 0..file.len() {
                for x in [0x01, 0x80, 0xff] {
                    let mut f = file.clone();
                    f[at] ^= x;
                    crate::fuzzing::read_all(&f);
                }
            }
        }
    }

    /// Hands out chunks as a pipe would; waiting for a chunk that never comes fails the test
    /// instead of hanging it.
    struct Pipe(mpsc::Receiver<Vec<u8>>, Vec<u8>);
    impl Read for Pipe {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            if self.1.is_empty() {
                match self.0.recv_timeout(Duration::from_secs(5)) {
                    Ok(chunk) => self.1 = chunk,
                    Err(mpsc::RecvTimeoutError::Disconnected) => return Ok(0),
                    Err(mpsc::RecvTimeoutError::Timeout) => {
                        return Err(std::io::Error::other(
                            "reader waited for more than it needed",
                        ))
                    }
                }
            }
            let n = buf.len().min(self.1.len());
            buf[..n].copy_from_slice(&self.1[..n]);
            self.1.drain(..n);
            Ok(n)
        }
    }

    #[test]
    fn streaming_yields_each_packet_before_the_next_arrives() {
        for file in [small_pcap(), small_pcapng()] {
            let (tx, rx) = mpsc::channel();
            // Split at packet boundaries: parse once to find them.
            let mut ends = Vec::new();
            {
                let mut r = Reader::from_read("t", std::io::Cursor::new(file.clone())).unwrap();
                while let Some(p) = r.next_packet().unwrap() {
                    let _ = p;
                    ends.push(r.window.offset() as usize);
                }
            }
            tx.send(file[..ends[0]].to_vec()).unwrap();
            let mut r = Reader::from_read("-", Pipe(rx, Vec::new())).unwrap();
            for (i, w) in ends.windows(2).enumerate() {
                assert_eq!(r.next_packet().unwrap().unwrap().frame, i as u64 + 1);
                tx.send(file[w[0]..w[1]].to_vec()).unwrap();
            }
            assert!(r.next_packet().unwrap().is_some());
            tx.send(file[*ends.last().unwrap()..].to_vec()).unwrap();
            drop(tx);
            assert!(r.next_packet().unwrap().is_none());
            assert_eq!(r.bytes_read(), file.len() as u64);
        }
    }

    #[test]
    fn comment_and_secrets_from_a_big_endian_file() {
        let mut r = Reader::from_read("t", std::io::Cursor::new(small_pcapng())).unwrap();
        let p = r.next_packet().unwrap().unwrap();
        assert_eq!((p.comment, p.ts.as_nanos()), (Some("c"), 10));
        assert!(r.next_packet().unwrap().is_some());
        assert_eq!(r.take_secrets()[0].data, b"k");
        assert_eq!(r.size_hint(), None);
    }

    #[test]
    fn reader_can_move_to_another_thread() {
        fn send<T: Send>() {}
        send::<Reader>();
    }

    #[test]
    fn warnings_are_capped() {
        let mut b = Builder::new(false);
        b.shb();
        for _ in 0..MAX_WARNINGS + 5 {
            b.epb(9, 0, b"", &[]);
        }
        let (n, mut r) = count(b.out);
        assert_eq!(n, 0);
        let w = r.take_warnings();
        assert_eq!(w.len(), MAX_WARNINGS + 1);
        assert!(w[MAX_WARNINGS].message.starts_with("5 more"));
    }

    #[test]
    fn open_reports_missing_file_and_size() {
        assert!(matches!(
            Reader::open("/nonexistent/x.pcap"),
            Err(Error::Io { .. })
        ));
        let dir = std::env::temp_dir().join(format!("phonehome-capture-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("t.pcap.gz");
        let packed = gzip(&small_pcap());
        std::fs::write(&path, &packed).unwrap();
        let mut r = Reader::open(path.to_str().unwrap()).unwrap();
        assert_eq!(r.size_hint(), Some(packed.len() as u64));
        while r.next_packet().unwrap().is_some() {}
        assert_eq!(r.bytes_read(), packed.len() as u64);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

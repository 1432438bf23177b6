//! Byte sources: the raw stream (hashed and counted as stored), optional decompression, and
//! the refillable window that parsers borrow packets from.
//!
//! Layering, bottom up:
//! 1. [`Hashing`] wraps the file or standard input. Every byte that comes out of it is fed to
//!    SHA-256 and counted, so the digest and the progress figure describe the file as stored.
//! 2. [`Decoded`] is that stream as is, or behind a gzip or zstd decoder, chosen by the first
//!    bytes (RFC 1952 section 2.3.1 ID1/ID2; RFC 8878 section 3.1.1 frame magic).
//! 3. [`Window`] holds one large buffer. Parsers ask for `need` bytes at the front, read
//!    their record in place and consume it: packets are borrowed straight out of the buffer,
//!    never copied one by one.
//!
//! Reading with `read` into a large buffer was measured against a sliding memory map and kept
//! (see the crate docs): it needs no `unsafe`, works the same for files, pipes and
//! decompressors, and keeps memory bounded by the buffer size plus the largest record.

use std::cell::RefCell;
use std::io::{self, BufReader, Read};
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::thread::JoinHandle;

use flate2::read::MultiGzDecoder;
use sha2::{Digest, Sha256};

/// Size of the window buffer. 1 MiB measured as fast as 2 and 4 MiB and stays in L2/L3.
pub(crate) const BUFFER_SIZE: usize = 1 << 20;

/// When less than this is free at the tail of the buffer, move the unread rest to the front
/// before reading, so that reads stay large.
const MIN_READ: usize = 64 * 1024;

/// The stream as stored: counts and hashes every byte it hands out.
pub(crate) struct Hashing {
    inner: Box<dyn Read + Send>,
    hasher: Box<RefCell<Hasher>>,
    count: u64,
    /// Bytes read ahead by [`Self::peek`] (already hashed and counted), handed out first.
    ahead: [u8; 4],
    ahead_pos: usize,
    ahead_len: usize,
}

impl Hashing {
    pub(crate) fn new(inner: Box<dyn Read + Send>) -> Self {
        Self {
            inner,
            hasher: Box::new(RefCell::new(Hasher::new())),
            count: 0,
            ahead: [0; 4],
            ahead_pos: 0,
            ahead_len: 0,
        }
    }

    /// Reads up to 4 bytes ahead (fewer only at end of input) without consuming them.
    fn peek(&mut self) -> io::Result<&[u8]> {
        while self.ahead_len < self.ahead.len() {
            match self.inner.read(&mut self.ahead[self.ahead_len..]) {
                Ok(0) => break,
                Ok(n) => {
                    let got = &self.ahead[self.ahead_len..self.ahead_len + n];
                    self.hasher.get_mut().update(got);
                    self.count += n as u64;
                    self.ahead_len += n;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(&self.ahead[self.ahead_pos..self.ahead_len])
    }

    pub(crate) fn count(&self) -> u64 {
        self.count
    }

    /// Hash on a thread of its own (see [`Hasher`]) instead of in the reading thread.
    pub(crate) fn set_background(&mut self, on: bool) {
        self.hasher.get_mut().background = on;
    }

    /// Stop hashing here: another reader of the same file does it ([`FileHash`]).
    pub(crate) fn set_hashing(&mut self, on: bool) {
        self.hasher.get_mut().disabled = !on;
    }

    pub(crate) fn sha256_hex(&self) -> String {
        hex(&self.hasher.borrow_mut().digest())
    }

    /// The digest of the bytes read so far, left to the hashing thread to finish.
    pub(crate) fn take_sha256(&mut self) -> PendingSha256 {
        self.hasher.get_mut().take_digest()
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

impl Read for Hashing {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.ahead_pos < self.ahead_len {
            let n = (self.ahead_len - self.ahead_pos).min(buf.len());
            buf[..n].copy_from_slice(&self.ahead[self.ahead_pos..self.ahead_pos + n]);
            self.ahead_pos += n;
            return Ok(n);
        }
        let n = self.inner.read(buf)?;
        // `read` promises n <= buf.len(); `get` keeps a misbehaving source from panicking us.
        if let Some(got) = buf.get(..n) {
            self.hasher.get_mut().update(got);
            self.count += n as u64;
        }
        Ok(n)
    }
}

/// SHA-256 of the stored bytes, computed beside the reader.
///
/// Hashing costs as much as the rest of the pipeline put together (SHA-256 runs at about
/// 2 GB/s even with the CPU's SHA extensions), so once an input proves larger than one chunk
/// the bytes are copied in 1 MiB chunks to a thread of their own: reading and analysis go on
/// while the previous chunk is hashed. Chunks are recycled and at most [`HASH_CHUNKS_IN_FLIGHT`]
/// are queued, so memory stays bounded. Small inputs are hashed in place.
struct Hasher {
    /// Whether large inputs are hashed on a thread of their own.
    background: bool,
    /// Someone else hashes this input.
    disabled: bool,
    pending: Vec<u8>,
    inline: Sha256,
    worker: Option<HashWorker>,
}

struct HashWorker {
    chunks: SyncSender<HashMsg>,
    recycled: Receiver<Vec<u8>>,
    thread: JoinHandle<()>,
}

enum HashMsg {
    Chunk(Vec<u8>),
    /// Reply with the digest of everything sent so far.
    Digest(SyncSender<[u8; 32]>),
}

const HASH_CHUNK: usize = 1 << 20;
const HASH_CHUNKS_IN_FLIGHT: usize = 4;

impl Hasher {
    fn new() -> Self {
        Self {
            background: false,
            disabled: false,
            pending: Vec::new(),
            inline: Sha256::new(),
            worker: None,
        }
    }

    fn update(&mut self, mut data: &[u8]) {
        if self.disabled {
            return;
        }
        if !self.background && self.worker.is_none() {
            self.inline.update(&self.pending);
            self.pending.clear();
            self.inline.update(data);
            return;
        }
        while !data.is_empty() {
            let room = HASH_CHUNK - self.pending.len();
            let (now, later) = data.split_at(room.min(data.len()));
            if self.pending.capacity() == 0 {
                self.pending.reserve_exact(HASH_CHUNK);
            }
            self.pending.extend_from_slice(now);
            data = later;
            if self.pending.len() == HASH_CHUNK {
                self.send_pending();
            }
        }
    }

    fn send_pending(&mut self) {
        if self.worker.is_none() {
            self.worker = HashWorker::spawn(self.inline.clone());
        }
        let fresh = self
            .worker
            .as_ref()
            .and_then(|w| w.recycled.try_recv().ok())
            .unwrap_or_default();
        let full = std::mem::replace(&mut self.pending, fresh);
        self.pending.clear();
        match &self.worker {
            Some(w) => {
                if let Err(mpsc::SendError(HashMsg::Chunk(lost))) =
                    w.chunks.send(HashMsg::Chunk(full))
                {
                    // The thread is gone (it cannot panic on bytes; this is defensive):
                    // hash here so the digest stays right.
                    self.worker = None;
                    self.inline.update(&lost);
                }
            }
            None => self.inline.update(&full),
        }
    }

    /// The digest of everything given, without waiting for a hashing thread: that thread
    /// is handed the last bytes and the question, and its answer is read later.
    fn take_digest(&mut self) -> PendingSha256 {
        let Some(w) = self.worker.take() else {
            return PendingSha256(Pending::Ready(self.digest()));
        };
        let pending = std::mem::take(&mut self.pending);
        let (tx, rx) = mpsc::sync_channel(1);
        if w.chunks.send(HashMsg::Chunk(pending)).is_ok()
            && w.chunks.send(HashMsg::Digest(tx)).is_ok()
        {
            return PendingSha256(Pending::Worker {
                reply: rx,
                worker: w,
            });
        }
        unreachable_hash_thread()
    }

    fn digest(&mut self) -> [u8; 32] {
        if let Some(w) = &self.worker {
            let pending = std::mem::take(&mut self.pending);
            let (tx, rx) = mpsc::sync_channel(1);
            if w.chunks.send(HashMsg::Chunk(pending)).is_ok()
                && w.chunks.send(HashMsg::Digest(tx)).is_ok()
            {
                if let Ok(d) = rx.recv() {
                    return d;
                }
            }
            unreachable_hash_thread()
        }
        let mut h = self.inline.clone();
        h.update(&self.pending);
        h.finalize().into()
    }
}

/// The hashing thread only hashes slices; it has no way to fail. Should the OS kill it
/// anyway, a wrong digest must not be reported.
fn unreachable_hash_thread() -> ! {
    panic!("the SHA-256 thread of the capture reader stopped")
}

impl HashWorker {
    fn spawn(state: Sha256) -> Option<Self> {
        let (chunks, rx) = mpsc::sync_channel::<HashMsg>(HASH_CHUNKS_IN_FLIGHT);
        let (back, recycled) = mpsc::sync_channel::<Vec<u8>>(HASH_CHUNKS_IN_FLIGHT + 1);
        let thread = std::thread::Builder::new()
            .name("sha256".into())
            .spawn(move || {
                let mut h = state;
                for msg in rx {
                    match msg {
                        HashMsg::Chunk(mut chunk) => {
                            h.update(&chunk);
                            chunk.clear();
                            let _ = back.try_send(chunk);
                        }
                        HashMsg::Digest(reply) => {
                            let _ = reply.send(h.clone().finalize().into());
                        }
                    }
                }
            })
            .ok()?;
        Some(Self {
            chunks,
            recycled,
            thread,
        })
    }
}

impl Drop for Hasher {
    fn drop(&mut self) {
        if let Some(w) = self.worker.take() {
            drop(w.chunks);
            let _ = w.thread.join();
        }
    }
}

/// An input's SHA-256, possibly still being computed by its hashing thread.
///
/// Taken when the input's last packet has been read: the reading thread goes on (finishing
/// flows, building the report) while the hashing thread, which runs behind it on large
/// inputs, finishes; [`Self::hex`] waits for it only when the digest is written.
pub struct PendingSha256(Pending);

enum Pending {
    Ready([u8; 32]),
    File(FileHash),
    Worker {
        reply: Receiver<[u8; 32]>,
        worker: HashWorker,
    },
}

impl PendingSha256 {
    pub(crate) fn file(job: FileHash) -> Self {
        Self(Pending::File(job))
    }

    /// The digest in lowercase hex, waiting for the hashing thread if it is still at work.
    /// A file the hashing thread could not read gives a message starting "unavailable: ",
    /// never a wrong digest.
    pub fn hex(self) -> String {
        match self.0 {
            Pending::Ready(d) => hex(&d),
            Pending::File(job) => job.hex(),
            Pending::Worker { reply, worker } => {
                let digest = reply.recv();
                drop(worker.chunks);
                let _ = worker.thread.join();
                match digest {
                    Ok(d) => hex(&d),
                    Err(_) => unreachable_hash_thread(),
                }
            }
        }
    }
}

impl std::fmt::Debug for PendingSha256 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self.0 {
            Pending::Ready(_) => "PendingSha256(ready)",
            _ => "PendingSha256(hashing)",
        })
    }
}

/// SHA-256 of a regular file, read and hashed by a thread of its own.
///
/// The reading thread then neither hashes nor copies: the file is read twice, the second time
/// from the page cache, in parallel.
pub(crate) struct FileHash {
    result: std::sync::Mutex<Option<std::thread::JoinHandle<io::Result<[u8; 32]>>>>,
    digest: std::sync::OnceLock<Result<[u8; 32], String>>,
}

impl FileHash {
    pub(crate) fn spawn(path: std::path::PathBuf) -> Option<Self> {
        let thread = std::thread::Builder::new()
            .name("sha256".into())
            .spawn(move || -> io::Result<[u8; 32]> {
                let mut file = std::fs::File::open(&path)?;
                let mut h = Sha256::new();
                let mut buf = vec![0u8; HASH_CHUNK];
                loop {
                    match file.read(&mut buf) {
                        Ok(0) => break,
                        Ok(n) => h.update(&buf[..n]),
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        Err(e) => return Err(e),
                    }
                }
                Ok(h.finalize().into())
            })
            .ok()?;
        Some(Self {
            result: std::sync::Mutex::new(Some(thread)),
            digest: std::sync::OnceLock::new(),
        })
    }

    /// The digest in lowercase hex, waiting for the thread if needed; a failed read is
    /// reported in the string rather than as a wrong digest.
    pub(crate) fn hex(&self) -> String {
        let digest = self.digest.get_or_init(|| {
            let handle = self.result.lock().ok().and_then(|mut h| h.take());
            match handle.map(std::thread::JoinHandle::join) {
                Some(Ok(Ok(d))) => Ok(d),
                Some(Ok(Err(e))) => Err(format!("unavailable: {e}")),
                _ => Err("unavailable: the hashing thread stopped".into()),
            }
        });
        match digest {
            Ok(d) => hex(d),
            Err(e) => e.clone(),
        }
    }
}

fn hex(digest: &[u8]) -> String {
    let mut out = String::with_capacity(64);
    for b in digest {
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 15)]));
    }
    out
}

/// What the stored bytes are wrapped in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Compression {
    None,
    Gzip,
    Zstd,
}

/// The capture stream, decompressed if needed.
pub(crate) enum Decoded {
    Plain(Hashing),
    Gzip(Box<MultiGzDecoder<Hashing>>),
    Zstd(Box<zstd::stream::read::Decoder<'static, BufReader<Hashing>>>),
}

impl Decoded {
    /// Sniffs the first bytes and puts a decoder in front when they are a gzip member
    /// (RFC 1952 section 2.3.1: 0x1f 0x8b) or a zstd frame (RFC 8878 section 3.1.1:
    /// 0xFD2FB528 little endian).
    pub(crate) fn new(mut raw: Hashing) -> io::Result<Self> {
        let head = raw.peek()?;
        Ok(if head.starts_with(&[0x1f, 0x8b]) {
            Self::Gzip(Box::new(MultiGzDecoder::new(raw)))
        } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
            Self::Zstd(Box::new(zstd::stream::read::Decoder::new(raw)?))
        } else {
            Self::Plain(raw)
        })
    }

    pub(crate) fn compression(&self) -> Compression {
        match self {
            Self::Plain(_) => Compression::None,
            Self::Gzip(_) => Compression::Gzip,
            Self::Zstd(_) => Compression::Zstd,
        }
    }

    pub(crate) fn raw(&self) -> &Hashing {
        match self {
            Self::Plain(h) => h,
            Self::Gzip(d) => d.get_ref(),
            Self::Zstd(d) => d.get_ref().get_ref(),
        }
    }

    pub(crate) fn raw_mut(&mut self) -> &mut Hashing {
        match self {
            Self::Plain(h) => h,
            Self::Gzip(d) => d.get_mut(),
            Self::Zstd(d) => d.get_mut().get_mut(),
        }
    }
}

impl Read for Decoded {
    #[inline]
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Self::Plain(h) => h.read(buf),
            Self::Gzip(d) => d.read(buf),
            Self::Zstd(d) => d.read(buf),
        }
    }
}

/// A refillable window over the decoded stream.
///
/// Invariant: `start <= end <= buf.len()`; `buf[start..end]` holds unread bytes whose stream
/// offset begins at `offset`.
pub(crate) struct Window {
    src: Decoded,
    buf: Vec<u8>,
    start: usize,
    end: usize,
    offset: u64,
    eof: bool,
    /// The decompressor reported that its stream ended early (a cut-off `.gz` or `.zst`).
    pub(crate) cut_short: bool,
}

impl Window {
    pub(crate) fn new(src: Decoded) -> Self {
        Self {
            src,
            buf: vec![0; BUFFER_SIZE],
            start: 0,
            end: 0,
            offset: 0,
            eof: false,
            cut_short: false,
        }
    }

    /// Unread bytes at the front.
    #[inline]
    pub(crate) fn avail(&self) -> &[u8] {
        &self.buf[self.start..self.end]
    }

    /// Index in [`Self::buffer`] of the first unread byte.
    #[inline]
    pub(crate) fn start(&self) -> usize {
        self.start
    }

    /// The whole buffer, for turning ranges returned by parsers into slices.
    #[inline]
    pub(crate) fn buffer(&self) -> &[u8] {
        &self.buf
    }

    /// Offset in the decoded stream of the first unread byte.
    #[inline]
    pub(crate) fn offset(&self) -> u64 {
        self.offset
    }

    pub(crate) fn source_mut(&mut self) -> &mut Decoded {
        &mut self.src
    }

    pub(crate) fn source(&self) -> &Decoded {
        &self.src
    }

    /// Makes at least `need` bytes available at the front; `Ok(false)` when the input ends
    /// before that. Never waits for more than `need` bytes, so a live pipe yields packets as
    /// they arrive. Callers cap `need` (the buffer grows to it at most).
    #[inline]
    pub(crate) fn fill(&mut self, need: usize) -> io::Result<bool> {
        if self.end - self.start >= need {
            return Ok(true);
        }
        self.refill(need)
    }

    #[cold]
    fn refill(&mut self, need: usize) -> io::Result<bool> {
        if self.eof {
            return Ok(false);
        }
        let tail_free = self.buf.len() - self.end;
        if self.start > 0 && (self.start + need > self.buf.len() || tail_free < MIN_READ) {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        if need > self.buf.len() {
            self.buf.resize(need, 0);
        }
        while self.end - self.start < need {
            match self.src.read(&mut self.buf[self.end..]) {
                Ok(0) => {
                    self.eof = true;
                    return Ok(false);
                }
                // A source claiming more than it was given is clamped rather than trusted.
                Ok(n) => self.end = (self.end + n).min(self.buf.len()),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e)
                    if e.kind() == io::ErrorKind::UnexpectedEof
                        && self.src.compression() != Compression::None =>
                {
                    self.eof = true;
                    self.cut_short = true;
                    return Ok(false);
                }
                Err(e) => return Err(e),
            }
        }
        Ok(true)
    }

    /// Marks `n` bytes at the front as read. `n` must not exceed `avail().len()`.
    #[inline]
    pub(crate) fn consume(&mut self, n: usize) {
        let n = n.min(self.end - self.start);
        self.start += n;
        self.offset += n as u64;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Hands out at most `chunk` bytes per read, like a pipe.
    struct Trickle(std::io::Cursor<Vec<u8>>, usize);
    impl Read for Trickle {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = buf.len().min(self.1);
            self.0.read(&mut buf[..n])
        }
    }

    fn window(data: Vec<u8>, chunk: usize) -> Window {
        let raw = Hashing::new(Box::new(Trickle(std::io::Cursor::new(data), chunk)));
        Window::new(Decoded::new(raw).unwrap())
    }

    #[test]
    fn fill_and_consume_across_refills() {
        let data: Vec<u8> = (0..3 * BUFFER_SIZE).map(|i| (i % 251) as u8).collect();
        let mut w = window(data.clone(), 100_000);
        let mut pos = 0;
        let step = 70_001;
        while w.fill(step).unwrap() {
            assert_eq!(&w.avail()[..step], &data[pos..pos + step]);
            w.consume(step);
            pos += step;
        }
        assert_eq!(w.avail(), &data[pos..]);
        assert_eq!(w.source().raw().count(), data.len() as u64);
    }

    #[test]
    fn grows_for_a_record_larger_than_the_buffer() {
        let data = vec![7u8; BUFFER_SIZE + 10];
        let mut w = window(data, 4096);
        w.fill(1).unwrap();
        w.consume(1);
        assert!(w.fill(BUFFER_SIZE + 9).unwrap());
        assert!(!w.fill(BUFFER_SIZE + 10).unwrap());
    }

    #[test]
    fn sha256_of_stored_bytes() {
        // FIPS 180-2 appendix B.1 test vector.
        let mut w = window(b"abc".to_vec(), 1);
        while w.fill(w.avail().len() + 1).unwrap() {}
        assert_eq!(
            w.source().raw().sha256_hex(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}

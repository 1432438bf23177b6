//! TCP reassembly: one [`Stream`] per direction turns segments into an ordered byte stream.
//!
//! A stream numbers its bytes with `u64` offsets from 0: offset 0 is the byte after the SYN
//! (ISN + 1), or, when the capture starts mid-connection, the first byte seen. The 32-bit
//! sequence numbers of the wire are unwrapped against the next expected offset (RFC 9293
//! §3.4: sequence space arithmetic is modulo 2^32), so a stream may carry more than 4 GiB.
//!
//! Output is a series of [`Chunk`]s handed to a callback, in offset order, covering every
//! offset from 0 up to the end exactly once: `Data` for bytes seen, `Gap` for bytes that were
//! sent but are missing from the capture. Gaps are never papered over. A gap is emitted when
//! the out-of-order buffer hits its per-stream cap or the shared [`Budget`], when the peer
//! acknowledges bytes the capture never showed, or at [`Stream::flush`] with holes left.
//!
//! A capture is not the receiver, so the stream believes the wire with care: a peer ACK
//! declares gaps only up to the furthest byte the sender was seen to send (an ACK of a
//! stale connection would otherwise make a gap of hundreds of megabytes), a RST counts only
//! near the stream's position ([`StreamLimits::rst_window`]), and a SYN with another ISN is
//! ignored. Each of these is counted in [`StreamStats`].
//!
//! In-order segments — nearly all of them on a clean capture — are passed through without a
//! copy and without touching the heap. Out-of-order segments are copied into a buffer that is
//! charged to the stream's cap and to the global budget; the first copy of a byte wins and a
//! later copy that disagrees is counted as a conflict (the hallmark of an evasion attempt or
//! a broken middlebox).
//!
//! # Contract
//! No input makes a stream panic; memory held by all streams together never exceeds the
//! [`Budget`] (plus per-entry bookkeeping, which is charged too). A stream must be
//! [`flush`](Stream::flush)ed or [`discard`](Stream::discard)ed before it is dropped, or its
//! share of the budget stays charged.

mod stream;

pub use stream::{Chunk, Stream, StreamStats};

/// TCP header flag bits (RFC 9293 §3.1).
pub mod flags {
    pub const FIN: u8 = 0x01;
    pub const SYN: u8 = 0x02;
    pub const RST: u8 = 0x04;
    pub const PSH: u8 = 0x08;
    pub const ACK: u8 = 0x10;
    pub const URG: u8 = 0x20;
}

/// Per-stream settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StreamLimits {
    /// Bytes of out-of-order data one stream may hold (bookkeeping included) before the
    /// oldest hole is declared a gap. Default 1 MiB: a few round trips of a fast download.
    pub max_buffered: u64,
    /// Segments starting further than this past the next expected byte are dropped and
    /// counted. Default 1 GiB, the largest window TCP can advertise (RFC 7323 §2.3).
    pub max_window: u64,
    /// A RST is believed only if its sequence number lies within this many bytes of the
    /// stream's position (RFC 5961 §3.2 asks for the exact receive window, which a capture
    /// does not know). Others are counted and ignored. Default 1 MiB.
    pub rst_window: u64,
}

impl Default for StreamLimits {
    fn default() -> Self {
        Self {
            max_buffered: 1 << 20,
            max_window: 1 << 30,
            rst_window: 1 << 20,
        }
    }
}

/// Bookkeeping charged per buffered out-of-order piece on top of its bytes, so that a flood
/// of one-byte segments cannot hold more memory than the budget says.
pub const ENTRY_OVERHEAD: u64 = 64;

/// Memory shared by all streams for out-of-order data.
///
/// Passed to every [`Stream`] call that may buffer or release bytes; one per worker thread.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Budget {
    limit: u64,
    used: u64,
    peak: u64,
    denied: u64,
}

impl Budget {
    /// Default total: 256 MiB.
    pub const DEFAULT_LIMIT: u64 = 256 << 20;

    /// A budget of `limit` bytes.
    pub const fn new(limit: u64) -> Self {
        Self {
            limit,
            used: 0,
            peak: 0,
            denied: 0,
        }
    }

    /// Takes `n` bytes if they fit; counts a denial otherwise.
    pub fn try_reserve(&mut self, n: u64) -> bool {
        match self.used.checked_add(n) {
            Some(total) if total <= self.limit => {
                self.used = total;
                self.peak = self.peak.max(total);
                true
            }
            _ => {
                self.denied = self.denied.saturating_add(1);
                false
            }
        }
    }

    /// Gives back `n` bytes.
    pub fn release(&mut self, n: u64) {
        self.used = self.used.saturating_sub(n);
    }

    /// Bytes currently charged.
    pub const fn used(&self) -> u64 {
        self.used
    }

    /// The most ever charged at once.
    pub const fn peak(&self) -> u64 {
        self.peak
    }

    /// Reservations refused because the budget was full.
    pub const fn denied(&self) -> u64 {
        self.denied
    }

    /// The limit.
    pub const fn limit(&self) -> u64 {
        self.limit
    }
}

impl Default for Budget {
    fn default() -> Self {
        Self::new(Self::DEFAULT_LIMIT)
    }
}

//! Flows: the bidirectional flow table, IP defragmentation and TCP reassembly.
//!
//! This stage sits between the zero-copy packet views of `phonehome-wire` and the
//! application parsers. It takes plain values — addresses, protocol numbers, fragment
//! fields, sequence numbers, TCP flag bits — so it can be driven by any decoder and tested
//! with hand-written inputs. Like the rest of the pipeline below the capture stage it is
//! sans-IO: no clock, no files; the capture time `now` is passed in, and output is handed to
//! a callback.
//!
//! - [`defrag`] reassembles IPv4 and IPv6 fragments into whole upper-layer payloads.
//! - [`key`] builds the [`FlowKey`] shared by both directions of a conversation.
//! - [`table`] keeps one [`table::Flow`] per key with counters, the client/server guess and
//!   the caller's state, and ends flows on idleness, port reuse or a size cap.
//! - [`tcp`] turns each direction's segments into ordered [`tcp::Chunk`]s: data, gaps,
//!   FIN, RST.
//!
//! # Contract
//! Capture input is hostile. Nothing here panics on it: every sequence number, offset and
//! length goes through checked or saturating arithmetic and slices are taken with `get`.
//! Memory is bounded by [`Limits`]: flows in the table, fragments pending, out-of-order TCP
//! bytes per stream and in total. Reaching a bound is counted in the component's stats and
//! turned into something visible — an evicted flow, a dropped datagram, a TCP gap — never a
//! silent loss. Output order never depends on hashing: flows leave the table sorted by a
//! serial number given at creation.
//!
//! The hot path — a table lookup and an in-order TCP segment — does not allocate: in-order
//! data is handed out as a slice of the caller's packet.
//!
//! ```
//! use phonehome_capture::Timestamp;
//! use phonehome_flow::tcp::{flags, Budget, Chunk, Stream, StreamLimits};
//! use phonehome_flow::table::{Packet, Table, TableLimits};
//!
//! let (phone, server) = ("10.0.0.2:51000".parse().unwrap(), "93.184.216.34:80".parse().unwrap());
//! let mut table: Table<[Stream; 2]> = Table::new(TableLimits::default());
//! let mut budget = Budget::default();
//! let limits = StreamLimits::default();
//! let mut text = Vec::new();
//! let packets: [(_, _, u32, u8, &[u8]); 3] = [
//!     (phone, server, 7, flags::SYN, b""),
//!     (phone, server, 13, flags::ACK, b"world"), // out of order
//!     (phone, server, 8, flags::ACK, b"hello"),
//! ];
//! for (i, (src, dst, seq, tcp_flags, payload)) in packets.into_iter().enumerate() {
//!     let now = Timestamp::from_nanos(i as i64);
//!     let bytes = payload.len() as u64;
//!     let packet = Packet { protocol: 6, src, dst, bytes, tcp_flags, tcp_seq: seq };
//!     let (flow, side) = table.packet(now, &packet, || {
//!         [Stream::new(&limits), Stream::new(&limits)]
//!     });
//!     flow.state[side.index()].segment(&mut budget, seq, tcp_flags, payload, &mut |c| {
//!         if let Chunk::Data { bytes, .. } = c {
//!             text.extend_from_slice(bytes);
//!         }
//!     });
//! }
//! assert_eq!(text, b"helloworld");
//! table.drain(|mut flow| {
//!     for s in &mut flow.state {
//!         s.flush(&mut budget, &mut |_| {});
//!     }
//! });
//! assert_eq!(budget.used(), 0);
//! ```

pub mod defrag;
pub mod key;
pub mod table;
pub mod tcp;

#[doc(hidden)]
pub mod fuzzing;

pub use key::{FlowKey, Side};

/// Every bound of this stage, with the defaults documented on each part.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    pub defrag: defrag::DefragLimits,
    pub table: table::TableLimits,
    pub stream: tcp::StreamLimits,
    /// Out-of-order TCP bytes held by all streams together (one [`tcp::Budget`] per
    /// worker). Default [`tcp::Budget::DEFAULT_LIMIT`], 256 MiB.
    pub tcp_budget: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            defrag: defrag::DefragLimits::default(),
            table: table::TableLimits::default(),
            stream: tcp::StreamLimits::default(),
            tcp_budget: tcp::Budget::DEFAULT_LIMIT,
        }
    }
}

impl Limits {
    /// A fresh budget of [`Limits::tcp_budget`] bytes.
    pub fn budget(&self) -> tcp::Budget {
        tcp::Budget::new(self.tcp_budget)
    }
}

//! Synthetic phone traffic for phonehome's demo and benchmark.
//!
//! `synth` writes a classic pcap of what a phone on a Wi-Fi hotspot sends and receives: the phone
//! (192.168.43.107 and 2001:db8::43:…) asks the hotspot's resolver for a name, then talks to that
//! service's real public addresses over TLS 1.3, QUIC v1 or plain HTTP/1.1, among mDNS and SSDP noise.
//! The bytes that tools key on are real: DNS messages, ClientHellos with SNI and ALPN, QUIC Initials
//! protected with the keys RFC 9001 derives from the connection ID, HTTP heads, JSON and gzip bodies;
//! what would be encrypted is random bytes of realistic sizes.
//!
//! Output is a pure function of the profile, `seed` and target size: the generator uses its own PRNG
//! ([`rng`]) and no clock. It is a producer, not a parser, so the no-panic contract of the pipeline
//! crates is not at stake here; lengths it writes are checked by unit tests and by tshark.
//!
//! Speed: sessions are planned as lists of packet lengths and rendered one frame at a time into a
//! reused buffer, ClientHello templates are built once per server name, and bodies for the benchmark
//! mix are compressed once. A scheduler interleaves many sessions by time, as a real capture does.
//!
//! ```
//! let mut out = Vec::new();
//! let stats = phonehome_bench::generate(phonehome_bench::Profile::Demo, 1, 0, &mut out).unwrap();
//! assert_eq!(stats.bytes as usize, out.len());
//! assert_eq!(&out[..4], &[0xd4, 0xc3, 0xb2, 0xa1]);
//! ```

pub mod dns;
pub mod http;
pub mod packet;
pub mod pcap;
pub mod profile;
pub mod quic;
pub mod rng;
pub mod session;
pub mod tls;

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::io::{self, Write};

use crate::pcap::PcapWriter;
use crate::rng::Rng;
use crate::session::{Ctx, Lan, Session};

/// Which traffic to write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Profile {
    /// The small scripted story behind `examples/phone-session.pcap`.
    Demo,
    /// Thousands of sessions from the weighted catalogue, up to a target size.
    Bench,
}

/// What a run wrote.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Frames written.
    pub frames: u64,
    /// Bytes written, pcap headers included.
    pub bytes: u64,
    /// Sessions started.
    pub sessions: u64,
}

/// Capture start: 2024-05-14 08:20:00 UTC, in microseconds.
pub const START_US: u64 = 1_715_674_800_000_000;
/// Sessions in flight at once in the benchmark mix.
pub const BENCH_CONCURRENCY: usize = 48;

/// Writes the `profile`'s traffic for `seed` to `out` as pcap. For [`Profile::Bench`] sessions start
/// until about `target_bytes` have been planned; [`Profile::Demo`] ignores the target.
pub fn generate<W: Write>(
    profile: Profile,
    seed: u64,
    target_bytes: u64,
    out: W,
) -> io::Result<Stats> {
    let mut rng = Rng::new(seed);
    let mut ctx = Ctx::new(Lan::default(), &mut rng);
    let mut w = PcapWriter::new(out)?;
    let mut buf = Vec::with_capacity(2048);
    let mut heap: BinaryHeap<Reverse<(u64, usize)>> = BinaryHeap::new();
    let mut slots: Vec<Session> = Vec::new();
    let mut sessions = 0u64;

    let mix = profile::Mix::new();
    let mut planned = pcap::FILE_HEADER_LEN;
    let next_bench = |ctx: &mut Ctx, rng: &mut Rng, planned: &mut u64| -> Option<Session> {
        if *planned >= target_bytes {
            return None;
        }
        let s = mix.next(ctx, rng);
        *planned += s.planned_bytes();
        Some(s)
    };

    match profile {
        Profile::Demo => {
            for (at, s) in profile::demo(&mut ctx, &mut rng) {
                if let Some(d) = s.next_delay() {
                    heap.push(Reverse((START_US + at + d, slots.len())));
                    slots.push(s);
                    sessions += 1;
                }
            }
        }
        Profile::Bench => {
            for i in 0..BENCH_CONCURRENCY {
                let Some(s) = next_bench(&mut ctx, &mut rng, &mut planned) else {
                    break;
                };
                let start = START_US + i as u64 * 37_000;
                if let Some(d) = s.next_delay() {
                    heap.push(Reverse((start + d, slots.len())));
                    slots.push(s);
                    sessions += 1;
                }
            }
        }
    }

    while let Some(Reverse((t, i))) = heap.pop() {
        let s = &mut slots[i];
        s.render(&mut buf, t);
        w.write(t, &buf)?;
        if let Some(d) = s.next_delay() {
            heap.push(Reverse((t + d, i)));
            continue;
        }
        if profile == Profile::Bench {
            if let Some(n) = next_bench(&mut ctx, &mut rng, &mut planned) {
                let gap = rng.range(0, 150_000);
                if let Some(d) = n.next_delay() {
                    slots[i] = n;
                    sessions += 1;
                    heap.push(Reverse((t + gap + d, i)));
                }
            }
        }
    }
    let frames = w.frames();
    let bytes = w.bytes();
    w.finish()?;
    Ok(Stats {
        frames,
        bytes,
        sessions,
    })
}

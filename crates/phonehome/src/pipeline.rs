//! The pipeline driver: reads every input, routes packets to shards, merges what they found.
//!
//! `threads` counts every thread of the run:
//! - 1: the reading thread hashes the input and does all the work, packets borrowed straight
//!   out of the reader's buffer;
//! - 2: the input's SHA-256 (as costly as all the rest) moves to a thread of its own, the
//!   reading thread still does the analysis;
//! - N >= 3: besides the hashing thread, the reading thread copies packets into per-shard
//!   batches (buffers are recycled, so nothing is allocated per packet) for N - 2 workers
//!   that own the flow tables.
//!
//! Results are sorted after the merge, so they are identical for any thread count.

use std::time::Instant;

use crossbeam_channel::{bounded, Receiver, Sender};
use phonehome_capture::{LinkType, Reader, Timestamp};
use phonehome_flow::defrag::DefragLimits;
use phonehome_flow::table::TableLimits;
use phonehome_flow::tcp::{Budget, StreamLimits};
use phonehome_report as report;

use crate::assemble::{assemble, InputSummary};
use crate::shard::{route, Pkt, Shard, ShardConfig, ShardOutput};
use crate::Device;

/// Settings of one audit run.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Worker threads; 0 means all cores.
    pub threads: usize,
    /// Keep only the traffic of this device (an address or a MAC address).
    pub device: Option<Device>,
    /// Memory for out-of-order TCP data, all flows together (bytes; 0 = default).
    pub reassembly_budget: u64,
    /// Most flows kept open at once (0 = default).
    pub max_flows: usize,
}

/// How far an audit has come, for a progress display.
#[derive(Clone, Copy, Debug)]
pub struct Progress {
    /// Index of the input being read.
    pub input: usize,
    /// Raw bytes read from that input.
    pub bytes: u64,
    /// Size of that input, when known.
    pub total: Option<u64>,
}

/// An audit that could not produce a report.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuditError {
    /// No input could be read at all.
    #[error("nothing could be read: {0}")]
    NothingRead(String),
}

/// Audits the given captures (`-` is standard input) and returns the report.
pub fn audit(paths: &[String], options: &Options) -> Result<report::Report, AuditError> {
    audit_with_progress(paths, options, &mut |_| {})
}

/// Like [`audit`], calling `progress` now and then (about every 4 MiB read).
pub fn audit_with_progress(
    paths: &[String],
    options: &Options,
    progress: &mut dyn FnMut(Progress),
) -> Result<report::Report, AuditError> {
    let started = Instant::now();
    let start_time = report::rfc3339(now());
    let threads = match options.threads {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n,
    };
    let background_hash = threads >= 2;
    let shards = threads.saturating_sub(2).max(1);
    let configs: Vec<ShardConfig> = (0..shards)
        .map(|i| shard_config(i, shards, options))
        .collect();
    let (inputs, outputs) = if shards == 1 {
        let mut shard = Shard::new(configs[0].clone());
        let inputs = read_inputs(paths, background_hash, progress, &mut |pkt| {
            shard.packet(pkt)
        });
        (inputs, vec![shard.finish_all()])
    } else {
        run_parallel(paths, configs, progress)
    };
    if inputs.iter().all(|i| i.fatal.is_some() && i.packets == 0) {
        let why: Vec<String> = inputs.iter().filter_map(|i| i.fatal.clone()).collect();
        return Err(AuditError::NothingRead(why.join("; ")));
    }
    let mut report = assemble(inputs, outputs);
    report.run = report::Run {
        version: env!("CARGO_PKG_VERSION").to_string(),
        start_time,
        duration_ms: started.elapsed().as_millis() as u64,
    };
    Ok(report)
}

fn shard_config(index: usize, shards: usize, options: &Options) -> ShardConfig {
    let budget = match options.reassembly_budget {
        0 => Budget::DEFAULT_LIMIT,
        n => n,
    };
    let mut table = TableLimits::default();
    if options.max_flows > 0 {
        table.max_flows = options.max_flows;
    }
    // Caps are split between shards so the whole run stays within them.
    table.max_flows = (table.max_flows / shards).max(1);
    let mut defrag = DefragLimits::default();
    defrag.max_bytes = (defrag.max_bytes / shards as u64).max(1 << 16);
    ShardConfig {
        index: index as u16,
        table,
        defrag,
        stream: StreamLimits::default(),
        budget: budget / shards as u64,
        device: options.device.clone(),
    }
}

/// Reads each input in turn, handing every packet to `each`.
fn read_inputs(
    paths: &[String],
    background_hash: bool,
    progress: &mut dyn FnMut(Progress),
    each: &mut dyn FnMut(&Pkt<'_>),
) -> Vec<InputSummary> {
    const PROGRESS_EVERY: u64 = 4 << 20;
    let mut inputs = Vec::with_capacity(paths.len());
    for (index, path) in paths.iter().enumerate() {
        let mut summary = InputSummary::new(path);
        let mut reader = match Reader::open(path) {
            Ok(r) => r,
            Err(e) => {
                summary.fatal = Some(e.to_string());
                summary.warnings.push(e.to_string());
                inputs.push(summary);
                continue;
            }
        };
        reader.set_background_hashing(background_hash);
        let total = reader.size_hint();
        let mut next_progress = 0;
        loop {
            let packet = match reader.next_packet() {
                Ok(Some(p)) => p,
                Ok(None) => break,
                Err(e) => {
                    summary.warnings.push(e.to_string());
                    if summary.packets == 0 {
                        summary.fatal = Some(e.to_string());
                    }
                    break;
                }
            };
            summary.packets += 1;
            summary.bytes += u64::from(packet.orig_len);
            summary.first_ts.get_or_insert(packet.ts);
            summary.last_ts = Some(packet.ts);
            each(&Pkt {
                input: index,
                frame: packet.frame,
                ts: packet.ts,
                interface: packet.interface,
                link: packet.link,
                data: packet.data,
                orig_len: packet.orig_len,
                comment: packet.comment,
            });
            let read = reader.bytes_read();
            if read >= next_progress {
                next_progress = read + PROGRESS_EVERY;
                progress(Progress {
                    input: index,
                    bytes: read,
                    total,
                });
            }
        }
        summary
            .warnings
            .extend(reader.take_warnings().iter().map(ToString::to_string));
        summary.sha256 = reader.sha256_hex();
        summary.interfaces = reader
            .interfaces()
            .iter()
            .map(|i| i.name.clone().unwrap_or_default())
            .collect();
        progress(Progress {
            input: index,
            bytes: reader.bytes_read(),
            total,
        });
        inputs.push(summary);
    }
    inputs
}

/// Packets bound for one worker, copied into one buffer.
struct Batch {
    data: Vec<u8>,
    metas: Vec<Meta>,
}

struct Meta {
    input: usize,
    frame: u64,
    ts: Timestamp,
    interface: u32,
    link: LinkType,
    orig_len: u32,
    start: usize,
    end: usize,
    /// Packet comments are rare: owned only when present.
    comment: Option<Box<str>>,
}

const BATCH_BYTES: usize = 256 << 10;
const BATCHES_IN_FLIGHT: usize = 8;

impl Batch {
    fn new() -> Self {
        Self {
            data: Vec::with_capacity(BATCH_BYTES + 65_536),
            metas: Vec::with_capacity(4096),
        }
    }
}

fn run_parallel(
    paths: &[String],
    configs: Vec<ShardConfig>,
    progress: &mut dyn FnMut(Progress),
) -> (Vec<InputSummary>, Vec<ShardOutput>) {
    let shards = configs.len();
    std::thread::scope(|scope| {
        let mut senders: Vec<Sender<Batch>> = Vec::with_capacity(shards);
        let mut recyclers: Vec<Receiver<Batch>> = Vec::with_capacity(shards);
        let mut workers = Vec::with_capacity(shards);
        for config in configs {
            let (tx, rx) = bounded::<Batch>(BATCHES_IN_FLIGHT);
            let (back_tx, back_rx) = bounded::<Batch>(BATCHES_IN_FLIGHT + 2);
            senders.push(tx);
            recyclers.push(back_rx);
            workers.push(scope.spawn(move || {
                let mut shard = Shard::new(config);
                for mut batch in rx {
                    for m in &batch.metas {
                        shard.packet(&Pkt {
                            input: m.input,
                            frame: m.frame,
                            ts: m.ts,
                            interface: m.interface,
                            link: m.link,
                            data: &batch.data[m.start..m.end],
                            orig_len: m.orig_len,
                            comment: m.comment.as_deref(),
                        });
                    }
                    batch.data.clear();
                    batch.metas.clear();
                    // The reader may have stopped taking buffers back; then this one is dropped.
                    let _ = back_tx.try_send(batch);
                }
                shard.finish_all()
            }));
        }
        let mut pending: Vec<Batch> = (0..shards).map(|_| Batch::new()).collect();
        let send = |i: usize, pending: &mut Vec<Batch>| {
            let fresh = recyclers[i].try_recv().unwrap_or_else(|_| Batch::new());
            let full = std::mem::replace(&mut pending[i], fresh);
            // A send fails only when the worker has panicked; its join below re-raises that.
            let _ = senders[i].send(full);
        };
        let inputs = read_inputs(paths, true, progress, &mut |pkt| {
            let i = route(pkt.link, pkt.data, shards);
            let batch = &mut pending[i];
            let start = batch.data.len();
            batch.data.extend_from_slice(pkt.data);
            batch.metas.push(Meta {
                input: pkt.input,
                frame: pkt.frame,
                ts: pkt.ts,
                interface: pkt.interface,
                link: pkt.link,
                orig_len: pkt.orig_len,
                start,
                end: batch.data.len(),
                comment: pkt.comment.map(Box::from),
            });
            if batch.data.len() >= BATCH_BYTES {
                send(i, &mut pending);
            }
        });
        for i in 0..shards {
            if !pending[i].metas.is_empty() {
                send(i, &mut pending);
            }
        }
        drop(senders);
        let outputs = workers
            .into_iter()
            .map(|w| match w.join() {
                Ok(out) => out,
                // A worker panic is a bug; re-raise it rather than report partial results.
                Err(panic) => std::panic::resume_unwind(panic),
            })
            .collect();
        (inputs, outputs)
    })
}

fn now() -> Timestamp {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    Timestamp::from_nanos(i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
}

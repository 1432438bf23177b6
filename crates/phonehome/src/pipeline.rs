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

use std::cell::RefCell;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

use crossbeam_channel::{bounded, Receiver, Sender};
use phonehome_app::keylog::KeyLog;
use phonehome_capture::{LinkType, Reader, Timestamp};
use phonehome_enrich::geo::IpDb;
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
    /// Key log files (NSS SSLKEYLOGFILE format) for TLS and QUIC decryption.
    pub keylogs: Vec<String>,
    /// Keep HTTP bodies (decoded, up to 64 KiB each) in the report's HTTP records.
    pub http_bodies: bool,
    /// Leave the profile's values in the report (URIs, DNS names, excerpts...) instead of
    /// masking them as `[data_type]`.
    pub show_values: bool,
    /// Address data (country, AS) to use instead of the bundled data, e.g. from MaxMind
    /// databases (`IpDb::from_mmdb`).
    pub ip_db: Option<Arc<IpDb>>,
    /// The device profile's values to look for (`--profile`).
    pub detection: Option<Arc<Detection>>,
    /// Pattern detectors (IMEIs, phone numbers, emails, coordinates, MACs, identifiers under
    /// well-known keys) run over HTTP messages and DNS names, with or without a profile.
    pub patterns: Option<Arc<phonehome_detect::patterns::Detectors>>,
}

/// What personal-data detection looks for: a device profile's values, expanded into every
/// form and encoding, and the automaton that finds them.
///
/// The automaton (a DFA: about 70 ms for a profile of 20 values) is compiled on first use,
/// or on a thread of its own once an audit with two threads or more starts
/// ([`Self::compile_in_background`]). That thread first compiles the contiguous NFA (about
/// 20 ms), which the reading thread starts scanning with instead of waiting, then the DFA;
/// streams move to the DFA as soon as it is there ([`StreamScan::upgrade`]). Both find the
/// same hits.
///
/// [`StreamScan::upgrade`]: phonehome_detect::scanner::StreamScan::upgrade
#[derive(Debug)]
pub struct Detection {
    pub(crate) variants: Arc<phonehome_detect::variants::Variants>,
    /// The automaton to scan with.
    best: Arc<OnceLock<Compiled>>,
    /// The NFA the background compilation hands out first.
    quick: Arc<OnceLock<Compiled>>,
    /// Whether the background compilation runs (then `quick` will be set).
    background: AtomicBool,
}

type Scanner = phonehome_detect::scanner::Scanner;
type Compiled = Result<Arc<Scanner>, String>;

impl Detection {
    /// Builds the detection of a parsed profile (its variants; the automaton comes later).
    pub fn new(profile: &phonehome_detect::profile::Profile) -> Self {
        Self {
            variants: Arc::new(phonehome_detect::variants::Variants::build(profile)),
            best: Arc::new(OnceLock::new()),
            quick: Arc::new(OnceLock::new()),
            background: AtomicBool::new(false),
        }
    }

    /// How many byte strings are searched for.
    pub fn variant_count(&self) -> usize {
        self.variants.list().len()
    }

    /// Starts compiling the automata on a thread of its own, unless that was done already.
    pub(crate) fn compile_in_background(&self) {
        if self.best.get().is_some() || self.background.swap(true, Ordering::AcqRel) {
            return;
        }
        let variants = self.variants.clone();
        let (best, quick) = (self.best.clone(), self.quick.clone());
        let spawned = std::thread::Builder::new()
            .name("automaton".into())
            .spawn(move || {
                // Whatever happens here, a reading thread waiting for `quick` goes on.
                let _release = Release(quick.clone());
                if Scanner::dfa_for(&variants) {
                    let nfa = Scanner::new_nfa(&variants)
                        .map(Arc::new)
                        .map_err(|e| e.to_string());
                    let ok = nfa.is_ok();
                    let _ = quick.set(nfa);
                    if ok {
                        let _ = best.set(compile(&variants));
                    }
                } else {
                    let only = compile(&variants);
                    let _ = quick.set(only.clone());
                    let _ = best.set(only);
                }
            });
        if spawned.is_err() {
            self.background.store(false, Ordering::Release);
        }
    }

    /// The automaton to scan with now: the DFA once compiled; before that, with a background
    /// compilation, its NFA (waiting for it, about 20 ms); without one, the DFA compiled
    /// here. `Err` when the variants do not fit in an automaton (far beyond what a profile's
    /// caps let in); the audit then fails with that message ([`AuditError::Automaton`])
    /// rather than scan nothing.
    pub(crate) fn scanner(&self) -> Result<&Arc<Scanner>, &str> {
        if let Some(Ok(best)) = self.best.get() {
            return Ok(best);
        }
        let compiled = if self.background.load(Ordering::Acquire) {
            self.quick.wait()
        } else {
            self.best.get_or_init(|| compile(&self.variants))
        };
        compiled.as_ref().map_err(String::as_str)
    }
}

/// Sets its slot, if still empty, when dropped: a compilation thread that stopped early
/// still releases whoever waits for its first automaton.
struct Release(Arc<OnceLock<Compiled>>);

impl Drop for Release {
    fn drop(&mut self) {
        let _ = self
            .0
            .set(Err("the automaton's compilation stopped".to_string()));
    }
}

fn compile(variants: &phonehome_detect::variants::Variants) -> Compiled {
    Scanner::new(variants)
        .map(Arc::new)
        .map_err(|e| e.to_string())
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
    /// The profile's variants could not be compiled into an automaton.
    #[error("personal-data detection is unusable: {0}")]
    Automaton(String),
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
    audit_opened(paths, options, progress, &|path| Reader::open(path))
}

/// Opens an input by the name it is reported under.
pub(crate) type Opener<'a> = dyn Fn(&str) -> Result<Reader, phonehome_capture::Error> + 'a;

/// Inputs of at most this many bytes in all are hashed in well under a tenth of a second.
const SMALL_INPUTS: u64 = 128 << 20;

/// Whether every input is a regular file and together they hold less than `limit` bytes.
fn inputs_smaller_than(paths: &[String], limit: u64) -> bool {
    let mut total = 0u64;
    for p in paths {
        match std::fs::metadata(p) {
            Ok(m) if m.is_file() && p != "-" => total = total.saturating_add(m.len()),
            _ => return false,
        }
    }
    total < limit
}

/// [`audit_with_progress`] with the inputs opened by `open`.
pub(crate) fn audit_opened(
    paths: &[String],
    options: &Options,
    progress: &mut dyn FnMut(Progress),
    open: &Opener<'_>,
) -> Result<report::Report, AuditError> {
    let started = Instant::now();
    let start_time = report::rfc3339(now());
    let threads = match options.threads {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n,
    };
    let background_hash = threads >= 2;
    if threads >= 2 {
        if let Some(d) = &options.detection {
            d.compile_in_background();
        }
        // The bundled address, organisation and service data are only needed when the
        // shards are done: decoding them beside the reading takes them off the serial path.
        let ip = options.ip_db.is_none();
        // The phone numbering plans (about 80 ms of CPU) are needed only if a phone-number
        // candidate turns up, and then at once. Loading them ahead pays when a core is spare:
        // with a third thread, or when the hashing thread is done early (small regular
        // files). On two cores busy with a large capture it would take that time from them
        // for plans most captures never use.
        let patterns = options.patterns.is_some()
            && (threads >= 3 || inputs_smaller_than(paths, SMALL_INPUTS));
        let _ = std::thread::Builder::new()
            .name("data".into())
            .spawn(move || {
                if patterns {
                    phonehome_detect::patterns::Detectors::warm();
                }
                if ip {
                    let _ = IpDb::bundled();
                }
                let _ = phonehome_enrich::orgs::OrgDb::bundled();
                let _ = phonehome_enrich::services::Rules::bundled();
            });
    }
    let shards = threads.saturating_sub(2).max(1);
    let (keys, keylogs) = load_keylogs(&options.keylogs);
    let keys = Arc::new(keys);
    let configs: Vec<ShardConfig> = (0..shards)
        .map(|i| shard_config(i, shards, options, &keys))
        .collect();
    let mut found: Vec<KeylogSummary> = Vec::new();
    let (inputs, outputs) = if shards == 1 {
        let shard = RefCell::new(Shard::new(configs[0].clone()));
        let inputs = read_inputs(
            paths,
            open,
            background_hash,
            progress,
            &mut |pkt| shard.borrow_mut().packet(pkt),
            &mut |log, summary| {
                shard.borrow_mut().add_keys(&log);
                found.push(summary);
            },
        );
        (inputs, vec![shard.into_inner().finish_all()])
    } else {
        run_parallel(paths, open, configs, progress, &mut found)
    };
    if inputs.iter().all(|i| i.fatal.is_some() && i.packets == 0) {
        let why: Vec<String> = inputs.iter().filter_map(|i| i.fatal.clone()).collect();
        return Err(AuditError::NothingRead(why.join("; ")));
    }
    if let Some(Err(e)) = options.detection.as_deref().map(Detection::scanner) {
        return Err(AuditError::Automaton(e.to_string()));
    }
    let keys_given = !keys.is_empty() || !found.is_empty();
    let ipdb = options.ip_db.as_deref().unwrap_or_else(|| IpDb::bundled());
    // The last input's digest may still be computing: the report is built meanwhile.
    let mut inputs = inputs;
    let digests: Vec<_> = inputs.iter_mut().map(|i| i.pending_sha256.take()).collect();
    let mut report = assemble(
        inputs,
        outputs,
        keys_given,
        ipdb,
        options.detection.as_deref(),
        options.show_values,
    );
    report.keylogs = keylogs
        .into_iter()
        .chain(found)
        .map(KeylogSummary::into_report)
        .collect();
    report.run = report::Run {
        version: env!("CARGO_PKG_VERSION").to_string(),
        start_time,
        ip_data: format!("{} ({})", ipdb.data_date(), ipdb.sources()),
        data_versions: data_versions(),
        ..report::Run::default()
    };
    if !options.show_values {
        if let Some(d) = options.detection.as_deref() {
            crate::mask::mask_report(&mut report, d);
        }
        // What the pattern detectors found is masked in its own finding: the value goes,
        // the excerpt already shows `[data_type]` in its place.
        for f in &mut report.findings {
            if let (Some(_), Some(t)) = (&f.value, f.data_type) {
                f.value = Some(format!("[{t}]"));
            }
        }
    }
    for (input, digest) in report.inputs.iter_mut().zip(digests) {
        if let Some(d) = digest {
            input.sha256 = d.hex();
        }
    }
    report.run.duration_ms = started.elapsed().as_millis() as u64;
    Ok(report)
}

/// What one key log (a file, or a pcapng Decryption Secrets Block) gave.
struct KeylogSummary {
    source: String,
    sha256: Option<String>,
    connections: usize,
    warnings: Vec<String>,
}

impl KeylogSummary {
    fn into_report(self) -> report::Keylog {
        report::Keylog {
            source: self.source,
            sha256: self.sha256,
            connections: self.connections as u64,
            warnings: self.warnings,
        }
    }
}

/// Reads the key log files; unreadable files and malformed lines become warnings.
fn load_keylogs(paths: &[String]) -> (KeyLog, Vec<KeylogSummary>) {
    let mut all = KeyLog::new();
    let mut summaries = Vec::new();
    for path in paths {
        let mut summary = KeylogSummary {
            source: path.clone(),
            sha256: None,
            connections: 0,
            warnings: Vec::new(),
        };
        match std::fs::read(path) {
            Ok(bytes) => {
                summary.sha256 = Some(sha256_hex(&bytes));
                let text = String::from_utf8_lossy(&bytes);
                let (log, warnings) = KeyLog::parse(&text, path);
                summary.connections = log.len();
                summary.warnings = warnings.iter().map(ToString::to_string).collect();
                all.merge(log);
            }
            Err(e) => summary.warnings.push(format!("{path}: {e}")),
        }
        summaries.push(summary);
    }
    (all, summaries)
}

/// The bundled data files a report depends on, each named with the SHA-256 of its text.
pub(crate) fn data_versions() -> Vec<String> {
    vec![
        format!(
            "orgs.toml sha256:{} ({} organisations)",
            sha256_hex(phonehome_enrich::orgs::BUNDLED.as_bytes()),
            phonehome_enrich::orgs::OrgDb::bundled().orgs().len()
        ),
        format!(
            "services.toml sha256:{}",
            sha256_hex(phonehome_enrich::services::BUNDLED.as_bytes())
        ),
    ]
}

/// Lower-case hex SHA-256 of `bytes`, as reports write hashes.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn shard_config(index: usize, shards: usize, options: &Options, keys: &Arc<KeyLog>) -> ShardConfig {
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
        keys: Arc::clone(keys),
        http_bodies: options.http_bodies,
        detection: options.detection.clone(),
        patterns: options.patterns.clone(),
    }
}

/// Reads each input in turn, handing every packet to `each`.
fn read_inputs(
    paths: &[String],
    open: &Opener<'_>,
    background_hash: bool,
    progress: &mut dyn FnMut(Progress),
    each: &mut dyn FnMut(&Pkt<'_>),
    keys: &mut dyn FnMut(KeyLog, KeylogSummary),
) -> Vec<InputSummary> {
    const PROGRESS_EVERY: u64 = 4 << 20;
    let mut inputs = Vec::with_capacity(paths.len());
    for (index, path) in paths.iter().enumerate() {
        // One input's digest at a time may still be computing while the next is read: the
        // hashing threads never pile up, nor their buffers.
        if let Some(previous) = inputs.last_mut() {
            InputSummary::settle_sha256(previous);
        }
        let mut summary = InputSummary::new(path);
        let mut reader = match open(path) {
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
            let pkt = Pkt {
                input: index,
                frame: packet.frame,
                ts: packet.ts,
                interface: packet.interface,
                link: packet.link,
                data: packet.data,
                orig_len: packet.orig_len,
                comment: packet.comment,
                process: packet.process,
            };
            if packet.secrets_pending {
                // A Decryption Secrets Block came before this packet (`editcap
                // --inject-secrets` puts it first): its keys must be in place before the
                // packet is dissected. Rare, so the packet is copied to free the reader.
                let data = pkt.data.to_vec();
                let comment = pkt.comment.map(str::to_string);
                let process = pkt.process.map(|p| (p.pid, p.name.map(str::to_string)));
                let (frame, ts, interface, link, orig_len) =
                    (pkt.frame, pkt.ts, pkt.interface, pkt.link, pkt.orig_len);
                for (log, found) in secrets_blocks(path, reader.take_secrets()) {
                    keys(log, found);
                }
                each(&Pkt {
                    input: index,
                    frame,
                    ts,
                    interface,
                    link,
                    data: &data,
                    orig_len,
                    comment: comment.as_deref(),
                    process: process
                        .as_ref()
                        .map(|(pid, name)| phonehome_capture::Process {
                            pid: *pid,
                            name: name.as_deref(),
                        }),
                });
            } else {
                each(&pkt);
            }
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
        // Secrets after the last packet decrypt nothing, but are still reported.
        for (log, found) in secrets_blocks(path, reader.take_secrets()) {
            keys(log, found);
        }
        summary
            .warnings
            .extend(reader.take_warnings().iter().map(ToString::to_string));
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
        summary.pending_sha256 = Some(reader.into_sha256());
        inputs.push(summary);
    }
    inputs
}

/// Turns the Decryption Secrets Blocks of an input into key logs.
fn secrets_blocks(
    path: &str,
    blocks: Vec<phonehome_capture::Secrets>,
) -> Vec<(KeyLog, KeylogSummary)> {
    blocks
        .into_iter()
        .enumerate()
        .map(|(i, block)| {
            let source = format!("{path}: decryption secrets block {}", i + 1);
            let (log, warnings) =
                KeyLog::from_decryption_secrets(block.secrets_type, &block.data, &source);
            let summary = KeylogSummary {
                sha256: Some(sha256_hex(&block.data)),
                connections: log.len(),
                warnings: warnings.iter().map(ToString::to_string).collect(),
                source,
            };
            (log, summary)
        })
        .collect()
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
    /// Packet comments and process information are rare: owned only when present.
    comment: Option<Box<str>>,
    process: Option<(u32, Option<Box<str>>)>,
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

/// What the reading thread sends a worker.
enum Work {
    Batch(Batch),
    /// Keys from a Decryption Secrets Block, for the packets that follow.
    Keys(Arc<KeyLog>),
}

fn run_parallel(
    paths: &[String],
    open: &Opener<'_>,
    configs: Vec<ShardConfig>,
    progress: &mut dyn FnMut(Progress),
    found: &mut Vec<KeylogSummary>,
) -> (Vec<InputSummary>, Vec<ShardOutput>) {
    let shards = configs.len();
    std::thread::scope(|scope| {
        let mut senders: Vec<Sender<Work>> = Vec::with_capacity(shards);
        let mut recyclers: Vec<Receiver<Batch>> = Vec::with_capacity(shards);
        let mut workers = Vec::with_capacity(shards);
        for config in configs {
            let (tx, rx) = bounded::<Work>(BATCHES_IN_FLIGHT);
            let (back_tx, back_rx) = bounded::<Batch>(BATCHES_IN_FLIGHT + 2);
            senders.push(tx);
            recyclers.push(back_rx);
            workers.push(scope.spawn(move || {
                let mut shard = Shard::new(config);
                for work in rx {
                    let mut batch = match work {
                        Work::Batch(b) => b,
                        Work::Keys(log) => {
                            shard.add_keys(&log);
                            continue;
                        }
                    };
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
                            process: m.process.as_ref().map(|(pid, name)| {
                                phonehome_capture::Process {
                                    pid: *pid,
                                    name: name.as_deref(),
                                }
                            }),
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
        let pending: RefCell<Vec<Batch>> =
            RefCell::new((0..shards).map(|_| Batch::new()).collect());
        let send = |i: usize, pending: &mut Vec<Batch>| {
            let fresh = recyclers[i].try_recv().unwrap_or_else(|_| Batch::new());
            let full = std::mem::replace(&mut pending[i], fresh);
            // A send fails only when the worker has panicked; its join below re-raises that.
            let _ = senders[i].send(Work::Batch(full));
        };
        let flush = |pending: &mut Vec<Batch>| {
            for i in 0..shards {
                if !pending[i].metas.is_empty() {
                    send(i, pending);
                }
            }
        };
        let inputs = read_inputs(
            paths,
            open,
            true,
            progress,
            &mut |pkt| {
                let i = route(pkt.link, pkt.data, shards);
                let mut pending = pending.borrow_mut();
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
                    process: pkt.process.map(|p| (p.pid, p.name.map(Box::from))),
                });
                if batch.data.len() >= BATCH_BYTES {
                    send(i, &mut pending);
                }
            },
            &mut |log, summary| {
                // Packets read before the keys go first, so every shard sees them in order.
                flush(&mut pending.borrow_mut());
                let log = Arc::new(log);
                for tx in &senders {
                    let _ = tx.send(Work::Keys(Arc::clone(&log)));
                }
                found.push(summary);
            },
        );
        flush(&mut pending.borrow_mut());
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn automata_compiled_beside_find_what_one_compiled_in_place_finds() {
        let text = b"imei=356938035643809&h=MzU2OTM4MDM1NjQzODA5&tel=0912-345-678";
        let found = |d: &Detection| {
            d.find(text)
                .iter()
                .map(|h| (h.variant, h.offset, h.len))
                .collect::<Vec<_>>()
        };
        let here = crate::mask::tests::detection();
        let expected = found(&here);
        assert!(expected.len() >= 3, "{expected:?}");
        assert!(here.scanner().unwrap().is_dfa());

        let beside = crate::mask::tests::detection();
        beside.compile_in_background();
        // Asked again while compiling: still one compilation.
        beside.compile_in_background();
        // The NFA or the DFA, whichever is there: the same hits.
        assert_eq!(found(&beside), expected);
        let nfa = beside.quick.wait().as_ref().unwrap();
        assert!(!nfa.is_dfa());
        let dfa = beside.best.wait().as_ref().unwrap();
        assert!(dfa.is_dfa());
        assert!(Arc::ptr_eq(beside.scanner().unwrap(), dfa));
        assert_eq!(found(&beside), expected);
        beside.compile_in_background();
        assert!(Arc::ptr_eq(beside.scanner().unwrap(), dfa));
    }

    #[test]
    fn every_input_gets_its_own_digest_however_many_threads() {
        let first: &[u8] = include_bytes!("../../../tests/e2e/data/curl-proxy-tls.pcap");
        let second: &[u8] = include_bytes!("../../../tests/e2e/data/diff-after.pcap");
        let dir = std::env::temp_dir().join(format!("phonehome-digests-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (a, b) = (dir.join("a.pcap"), dir.join("b.pcap"));
        std::fs::write(&a, first).unwrap();
        std::fs::write(&b, second).unwrap();
        let paths: Vec<String> = [&a, &b, &a]
            .iter()
            .map(|p| p.display().to_string())
            .collect();
        let expected = [sha256_hex(first), sha256_hex(second), sha256_hex(first)];
        for threads in [1, 2, 3] {
            let options = Options {
                threads,
                ..Options::default()
            };
            let report = audit(&paths, &options).unwrap();
            let got: Vec<&str> = report.inputs.iter().map(|i| i.sha256.as_str()).collect();
            assert_eq!(got, expected, "threads = {threads}");
            assert_eq!(report.inputs[0].packets, 56);
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn small_inputs_are_regular_files_under_the_limit() {
        let dir = std::env::temp_dir().join(format!("phonehome-small-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let a = dir.join("a.pcap");
        let b = dir.join("b.pcap");
        std::fs::write(&a, vec![0u8; 1000]).unwrap();
        std::fs::write(&b, vec![0u8; 500]).unwrap();
        let both = [a.display().to_string(), b.display().to_string()];
        assert!(inputs_smaller_than(&both, 1501));
        assert!(!inputs_smaller_than(&both, 1500));
        let with_stdin = [both[0].clone(), "-".to_string()];
        assert!(!inputs_smaller_than(&with_stdin, u64::MAX));
        let missing = [dir.join("missing.pcap").display().to_string()];
        assert!(!inputs_smaller_than(&missing, u64::MAX));
        assert!(!inputs_smaller_than(&[dir.display().to_string()], u64::MAX));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

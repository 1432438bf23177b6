//! Evidence anyone can re-check: Wireshark display filters and per-finding pcapng files.
//!
//! A finding is only as good as the packets behind it. Each finding in the report names its
//! frames and carries a display filter that selects them in the capture it came from; with
//! `--evidence DIR`, [`write_evidence`] reads the captures a second time and writes, per
//! finding, a pcapng of the packets of the flows behind it. When those flows were decrypted,
//! the file starts with a Decryption Secrets Block holding the key log lines of exactly those
//! connections (by client random), so Wireshark opens it decrypted as is, and no other
//! connection's keys leave with it.
//!
//! The pcapng blocks are written here by hand: the format is four small block types
//! (SHB, IDB, DSB, EPB; pcapng draft sections 4.1-4.3, 4.7) and the readers available as crates
//! either do not write or do not write Decryption Secrets Blocks.
//!
//! Bounds: at most [`MAX_FILES`] files per run, [`MAX_PACKETS`] packets per file; what a
//! cap leaves out is counted in the summary. Standard input cannot be read twice: findings from
//! it are listed as skipped.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};

use phonehome_app::keylog::KeyLog;
use phonehome_capture::{LinkType, Reader, Timestamp};
use phonehome_report as report;

/// Evidence files written in one run, at most.
pub const MAX_FILES: usize = 512;
/// Packets written into one evidence file, at most.
pub const MAX_PACKETS: u64 = 200_000;
/// Frames listed in one display filter; beyond it the filter selects the flows instead.
const MAX_FILTER_FRAMES: usize = 64;
/// Flows OR-ed into one display filter, at most.
const MAX_FILTER_FLOWS: usize = 16;

/// A display filter selecting the given frames (`frame.number == 7`,
/// `frame.number in {7 9 12}`), or `None` for none.
pub fn frames_filter(frames: &[u64]) -> Option<String> {
    match frames {
        [] => None,
        [one] => Some(format!("frame.number == {one}")),
        many => {
            let list: Vec<String> = many
                .iter()
                .take(MAX_FILTER_FRAMES)
                .map(u64::to_string)
                .collect();
            Some(format!("frame.number in {{{}}}", list.join(" ")))
        }
    }
}

/// A display filter selecting one flow's packets by addresses and ports.
pub fn flow_filter(flow: &report::Flow) -> Option<String> {
    let client: SocketAddr = flow.client.parse().ok()?;
    let server: SocketAddr = flow.server.parse().ok()?;
    let ip = match (client.ip(), server.ip()) {
        (IpAddr::V4(c), IpAddr::V4(s)) => format!("ip.addr == {c} && ip.addr == {s}"),
        (c, s) => format!("ipv6.addr == {c} && ipv6.addr == {s}"),
    };
    Some(match flow.proto.as_str() {
        proto @ ("tcp" | "udp") => format!(
            "{ip} && {proto}.port == {} && {proto}.port == {}",
            client.port(),
            server.port()
        ),
        "icmp" => format!("{ip} && icmp"),
        "icmpv6" => format!("{ip} && icmpv6"),
        _ => ip,
    })
}

/// A display filter selecting several flows (at most [`MAX_FILTER_FLOWS`]).
pub fn flows_filter<'a>(flows: impl IntoIterator<Item = &'a report::Flow>) -> Option<String> {
    let parts: Vec<String> = flows
        .into_iter()
        .filter_map(flow_filter)
        .take(MAX_FILTER_FLOWS)
        .collect();
    match parts.len() {
        0 => None,
        1 => parts.into_iter().next(),
        _ => Some(
            parts
                .iter()
                .map(|p| format!("({p})"))
                .collect::<Vec<_>>()
                .join(" || "),
        ),
    }
}

/// Why evidence could not be written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EvidenceError {
    #[error("cannot create evidence directory {path}: {source}")]
    Dir {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot write evidence file {path}: {source}")]
    Write {
        path: String,
        source: std::io::Error,
    },
}

/// One evidence file written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvidenceFile {
    /// Index of the finding in the report.
    pub finding: usize,
    pub path: PathBuf,
    pub packets: u64,
    /// Connections whose key log lines the file carries.
    pub keyed_connections: usize,
}

/// What [`write_evidence`] did.
#[derive(Debug, Default)]
pub struct EvidenceSummary {
    pub files: Vec<EvidenceFile>,
    /// Findings without a file, and why (standard input, no flow, file cap).
    pub skipped: Vec<String>,
    /// Packets left out because a file reached [`MAX_PACKETS`].
    pub packets_capped: u64,
}

/// The flows one finding points at, as the second pass matches packets.
struct Target {
    proto: u8,
    client: SocketAddr,
    server: SocketAddr,
    first: Timestamp,
    last: Timestamp,
    /// Evidence files (indices into `outs`) that want this flow's packets.
    outs: Vec<usize>,
}

/// One evidence file being written.
struct Out {
    finding: usize,
    path: PathBuf,
    writer: Option<BufWriter<File>>,
    /// (input, interface) -> interface id in this file.
    interfaces: HashMap<(usize, u32), u32>,
    packets: u64,
    client_randoms: Vec<[u8; 32]>,
    keyed: usize,
}

/// Writes one pcapng per finding (personal data and policy findings alike) into `dir`,
/// reading `paths` (the inputs of `report`, in the same order) again. `keylog_paths` are the
/// key log files given to the audit; keys embedded in the captures are picked up too.
pub fn write_evidence(
    report: &report::Report,
    paths: &[String],
    keylog_paths: &[String],
    dir: &Path,
) -> Result<EvidenceSummary, EvidenceError> {
    std::fs::create_dir_all(dir).map_err(|source| EvidenceError::Dir {
        path: dir.display().to_string(),
        source,
    })?;
    let mut summary = EvidenceSummary::default();
    let flows: HashMap<u64, &report::Flow> = report.flows.iter().map(|f| (f.id, f)).collect();
    let mut outs: Vec<Out> = Vec::new();
    let mut targets: Vec<Target> = Vec::new();
    let mut target_of: HashMap<u64, usize> = HashMap::new();
    for (index, finding) in report.findings.iter().enumerate() {
        let mut ids: Vec<u64> = finding.flow.into_iter().collect();
        ids.extend(finding.trigger_flows.iter().copied());
        ids.sort_unstable();
        ids.dedup();
        let wanted: Vec<&report::Flow> =
            ids.iter().filter_map(|id| flows.get(id).copied()).collect();
        if wanted.is_empty() {
            summary.skipped.push(format!(
                "finding {}: no flow to take packets from",
                index + 1
            ));
            continue;
        }
        if wanted
            .iter()
            .all(|f| paths.get(f.input).is_none_or(|p| p == "-"))
        {
            summary.skipped.push(format!(
                "finding {}: its capture came from standard input, which cannot be read again",
                index + 1
            ));
            continue;
        }
        if outs.len() >= MAX_FILES {
            summary.skipped.push(format!(
                "finding {}: more than {MAX_FILES} evidence files",
                index + 1
            ));
            continue;
        }
        let name = finding
            .data_type
            .map(str::to_string)
            .or_else(|| finding.rule.clone())
            .unwrap_or_else(|| finding.kind.clone());
        let out_index = outs.len();
        let mut client_randoms = Vec::new();
        for flow in &wanted {
            let cr = flow
                .tls
                .as_ref()
                .and_then(|t| t.client_random.as_deref())
                .or(flow.quic.as_ref().and_then(|q| q.client_random.as_deref()));
            if let Some(cr) = cr.and_then(parse_random) {
                if flow.decrypted {
                    client_randoms.push(cr);
                }
            }
            let Some(target) = Target::of(flow) else {
                continue;
            };
            let t = *target_of.entry(flow.id).or_insert_with(|| {
                targets.push(target);
                targets.len() - 1
            });
            targets[t].outs.push(out_index);
        }
        outs.push(Out {
            finding: index,
            path: dir.join(format!(
                "finding-{:04}-{}.pcapng",
                index + 1,
                file_safe(&name)
            )),
            writer: None,
            interfaces: HashMap::new(),
            packets: 0,
            client_randoms,
            keyed: 0,
        });
    }
    if outs.is_empty() {
        return Ok(summary);
    }
    let mut by_pair: HashMap<(u8, SocketAddr, SocketAddr), Vec<usize>> = HashMap::new();
    for (i, t) in targets.iter().enumerate() {
        by_pair
            .entry((t.proto, t.client, t.server))
            .or_default()
            .push(i);
    }
    let mut keys = KeyLog::new();
    for path in keylog_paths {
        if let Ok(bytes) = std::fs::read(path) {
            keys.merge(KeyLog::parse(&String::from_utf8_lossy(&bytes), path).0);
        }
    }
    for (input, path) in paths.iter().enumerate() {
        if path == "-" {
            continue;
        }
        let Ok(mut reader) = Reader::open(path) else {
            summary
                .skipped
                .push(format!("{path}: cannot be opened again"));
            continue;
        };
        loop {
            let packet = match reader.next_packet() {
                Ok(Some(p)) => p,
                Ok(None) => break,
                Err(_) => break,
            };
            let (ts, interface, link, data, orig_len) = (
                packet.ts,
                packet.interface,
                packet.link,
                packet.data,
                packet.orig_len,
            );
            let Some(hits) = match_packet(&by_pair, &targets, link, data, ts) else {
                if packet.secrets_pending {
                    merge_secrets(&mut keys, &mut reader, path);
                }
                continue;
            };
            let pending = packet.secrets_pending;
            // The packet borrows the reader: copy what is written before taking its secrets.
            let data = data.to_vec();
            if pending {
                merge_secrets(&mut keys, &mut reader, path);
            }
            for out_index in hits {
                let out = &mut outs[out_index];
                if out.packets >= MAX_PACKETS {
                    summary.packets_capped += 1;
                    continue;
                }
                out.write_packet(&keys, input, interface, link, ts, &data, orig_len)?;
            }
        }
    }
    for out in outs {
        let Some(mut w) = out.writer else {
            summary.skipped.push(format!(
                "finding {}: none of its packets were found again",
                out.finding + 1
            ));
            continue;
        };
        w.flush().map_err(|source| EvidenceError::Write {
            path: out.path.display().to_string(),
            source,
        })?;
        summary.files.push(EvidenceFile {
            finding: out.finding,
            path: out.path,
            packets: out.packets,
            keyed_connections: out.keyed,
        });
    }
    Ok(summary)
}

fn merge_secrets(keys: &mut KeyLog, reader: &mut Reader, path: &str) {
    for block in reader.take_secrets() {
        keys.merge(KeyLog::from_decryption_secrets(block.secrets_type, &block.data, path).0);
    }
}

/// The evidence files a packet belongs to, if any.
fn match_packet(
    by_pair: &HashMap<(u8, SocketAddr, SocketAddr), Vec<usize>>,
    targets: &[Target],
    link: LinkType,
    data: &[u8],
    ts: Timestamp,
) -> Option<Vec<usize>> {
    let frame = phonehome_wire::decode(link, data).ok()?;
    let phonehome_wire::Network::Ip(ip) = frame.network else {
        return None;
    };
    let (sport, dport) = if ip.fragment.is_some_and(|f| f.offset > 0) {
        // A later fragment carries no ports: it belongs to the flow of its addresses if one
        // of them is unambiguous.
        (None, None)
    } else {
        match phonehome_wire::transport(ip.protocol, ip.payload).ok()? {
            phonehome_wire::Transport::Tcp(t) => (Some(t.src_port), Some(t.dst_port)),
            phonehome_wire::Transport::Udp(u) => (Some(u.src_port), Some(u.dst_port)),
            _ => (Some(0), Some(0)),
        }
    };
    let mut found: Vec<usize> = Vec::new();
    let mut take = |key: (u8, SocketAddr, SocketAddr)| {
        for &t in by_pair.get(&key).into_iter().flatten() {
            let target = &targets[t];
            if ts >= target.first && ts <= target.last {
                found.extend(target.outs.iter().copied());
            }
        }
    };
    match (sport, dport) {
        (Some(s), Some(d)) => {
            let a = SocketAddr::new(ip.src, s);
            let b = SocketAddr::new(ip.dst, d);
            take((ip.protocol, a, b));
            take((ip.protocol, b, a));
        }
        _ => {
            for t in targets {
                let ips = (t.client.ip(), t.server.ip());
                if t.proto == ip.protocol
                    && (ips == (ip.src, ip.dst) || ips == (ip.dst, ip.src))
                    && ts >= t.first
                    && ts <= t.last
                {
                    found.extend(t.outs.iter().copied());
                }
            }
        }
    }
    found.sort_unstable();
    found.dedup();
    (!found.is_empty()).then_some(found)
}

impl Target {
    fn of(flow: &report::Flow) -> Option<Self> {
        let proto = crate::assemble::proto_number(&flow.proto)?;
        Some(Self {
            proto,
            client: flow.client.parse().ok()?,
            server: flow.server.parse().ok()?,
            first: parse_ts(&flow.first_ts)?,
            last: Timestamp::from_nanos(parse_ts(&flow.last_ts)?.as_nanos().saturating_add(1000)),
            outs: Vec::new(),
        })
    }
}

/// Reads back the report's RFC 3339 timestamps (microseconds): a flow's packets lie between
/// its first and last, rounded outwards by a microsecond.
fn parse_ts(s: &str) -> Option<Timestamp> {
    let t = time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok()?;
    let nanos = i64::try_from(t.unix_timestamp_nanos()).ok()?;
    Some(Timestamp::from_nanos(nanos))
}

fn parse_random(hex_text: &str) -> Option<[u8; 32]> {
    let bytes = hex::decode(hex_text).ok()?;
    bytes.try_into().ok()
}

/// Keeps letters, digits, `-` and `_` of a name used in a file name.
fn file_safe(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .take(48)
        .collect()
}

impl Out {
    #[allow(clippy::too_many_arguments)]
    fn write_packet(
        &mut self,
        keys: &KeyLog,
        input: usize,
        interface: u32,
        link: LinkType,
        ts: Timestamp,
        data: &[u8],
        orig_len: u32,
    ) -> Result<(), EvidenceError> {
        let path = self.path.display().to_string();
        let err = |source| EvidenceError::Write {
            path: path.clone(),
            source,
        };
        if self.writer.is_none() {
            let file = File::create(&self.path).map_err(err)?;
            let mut w = BufWriter::new(file);
            w.write_all(&section_header()).map_err(err)?;
            let mut lines = String::new();
            for cr in &self.client_randoms {
                if let Some(secrets) = keys.secrets(cr) {
                    lines.push_str(&secrets.keylog_lines(cr));
                    self.keyed += 1;
                }
            }
            if !lines.is_empty() {
                w.write_all(&decryption_secrets(lines.as_bytes()))
                    .map_err(err)?;
            }
            self.writer = Some(w);
        }
        let next_id = u32::try_from(self.interfaces.len()).unwrap_or(u32::MAX);
        let mut new_interface = false;
        let id = *self
            .interfaces
            .entry((input, interface))
            .or_insert_with(|| {
                new_interface = true;
                next_id
            });
        let Some(w) = self.writer.as_mut() else {
            return Ok(());
        };
        if new_interface {
            w.write_all(&interface_description(link)).map_err(err)?;
        }
        w.write_all(&enhanced_packet(id, ts, data, orig_len))
            .map_err(err)?;
        self.packets += 1;
        Ok(())
    }
}

/// Wraps a block body: type, total length, body padded to 32 bits, total length again.
fn block(kind: u32, body: &[u8]) -> Vec<u8> {
    let padded = body.len().div_ceil(4) * 4;
    let total = u32::try_from(12 + padded).unwrap_or(u32::MAX);
    let mut b = Vec::with_capacity(12 + padded);
    b.extend_from_slice(&kind.to_le_bytes());
    b.extend_from_slice(&total.to_le_bytes());
    b.extend_from_slice(body);
    b.resize(8 + padded, 0);
    b.extend_from_slice(&total.to_le_bytes());
    b
}

/// Appends one option (code, length, value padded to 32 bits).
fn option(out: &mut Vec<u8>, code: u16, value: &[u8]) {
    out.extend_from_slice(&code.to_le_bytes());
    out.extend_from_slice(&u16::try_from(value.len()).unwrap_or(0).to_le_bytes());
    out.extend_from_slice(value);
    out.resize(out.len() + (4 - value.len() % 4) % 4, 0);
}

/// Section Header Block (pcapng section 4.1), little-endian, section length unknown.
fn section_header() -> Vec<u8> {
    let mut body = Vec::new();
    body.extend_from_slice(&0x1A2B_3C4Du32.to_le_bytes());
    body.extend_from_slice(&1u16.to_le_bytes());
    body.extend_from_slice(&0u16.to_le_bytes());
    body.extend_from_slice(&(-1i64).to_le_bytes());
    option(
        &mut body,
        4,
        concat!("phonehome ", env!("CARGO_PKG_VERSION")).as_bytes(),
    );
    option(&mut body, 0, &[]);
    block(0x0A0D_0D0A, &body)
}

/// Interface Description Block (section 4.2) with nanosecond timestamps (if_tsresol = 9).
fn interface_description(link: LinkType) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend_from_slice(&link.0.to_le_bytes());
    body.extend_from_slice(&0u16.to_le_bytes());
    body.extend_from_slice(&0u32.to_le_bytes());
    option(&mut body, 9, &[9]);
    option(&mut body, 0, &[]);
    block(1, &body)
}

/// Decryption Secrets Block (section 4.7) holding a TLS key log.
fn decryption_secrets(keylog: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend_from_slice(&phonehome_app::keylog::SECRETS_TYPE_TLS.to_le_bytes());
    body.extend_from_slice(&u32::try_from(keylog.len()).unwrap_or(0).to_le_bytes());
    body.extend_from_slice(keylog);
    block(0x0000_000A, &body)
}

/// Enhanced Packet Block (section 4.3).
fn enhanced_packet(interface: u32, ts: Timestamp, data: &[u8], orig_len: u32) -> Vec<u8> {
    let units = u64::try_from(ts.as_nanos()).unwrap_or(0);
    let mut body = Vec::with_capacity(20 + data.len());
    body.extend_from_slice(&interface.to_le_bytes());
    body.extend_from_slice(&((units >> 32) as u32).to_le_bytes());
    body.extend_from_slice(&(units as u32).to_le_bytes());
    body.extend_from_slice(&u32::try_from(data.len()).unwrap_or(u32::MAX).to_le_bytes());
    body.extend_from_slice(
        &orig_len
            .max(u32::try_from(data.len()).unwrap_or(u32::MAX))
            .to_le_bytes(),
    );
    body.extend_from_slice(data);
    block(6, &body)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flow(proto: &str, client: &str, server: &str) -> report::Flow {
        report::Flow {
            id: 1,
            proto: proto.into(),
            client: client.into(),
            server: server.into(),
            ..report::Flow::default()
        }
    }

    #[test]
    fn frame_filters_list_frames() {
        assert_eq!(frames_filter(&[]), None);
        assert_eq!(frames_filter(&[7]).unwrap(), "frame.number == 7");
        assert_eq!(frames_filter(&[7, 9]).unwrap(), "frame.number in {7 9}");
    }

    #[test]
    fn flow_filters_name_addresses_and_ports() {
        let f = flow("tcp", "192.0.2.1:5000", "198.51.100.7:443");
        assert_eq!(
            flow_filter(&f).unwrap(),
            "ip.addr == 192.0.2.1 && ip.addr == 198.51.100.7 && tcp.port == 5000 && tcp.port == 443"
        );
        let f6 = flow("udp", "[2001:db8::1]:5353", "[2001:db8::2]:443");
        assert_eq!(
            flow_filter(&f6).unwrap(),
            "ipv6.addr == 2001:db8::1 && ipv6.addr == 2001:db8::2 && udp.port == 5353 && udp.port == 443"
        );
        let two = [f, f6];
        assert!(flows_filter(two.iter()).unwrap().contains(") || ("));
    }

    #[test]
    fn blocks_are_padded_and_framed() {
        let b = block(6, &[1, 2, 3, 4, 5]);
        assert_eq!(b.len(), 20);
        assert_eq!(&b[4..8], &20u32.to_le_bytes());
        assert_eq!(&b[16..20], &20u32.to_le_bytes());
        let shb = section_header();
        assert_eq!(shb.len() % 4, 0);
        assert_eq!(&shb[8..12], &0x1A2B_3C4Du32.to_le_bytes());
    }

    #[test]
    fn timestamps_read_back_from_the_report() {
        let ts = parse_ts("2024-01-01T00:00:01.000002Z").unwrap();
        assert_eq!(ts.as_nanos(), 1_704_067_201_000_002_000);
        assert!(parse_ts("yesterday").is_none());
    }
}

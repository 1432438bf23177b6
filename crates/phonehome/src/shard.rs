//! One shard of the flow table: decodes packets, keeps flows, reassembles, dissects.
//!
//! Packets are routed to shards by their address pair, so every packet of a flow (and every
//! fragment of a datagram) meets the same shard, in capture order.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use phonehome_app::keylog::KeyLog;

use phonehome_capture::{LinkType, Timestamp};
use phonehome_flow::defrag::{self, DefragLimits, Defragmenter};
use phonehome_flow::table::{self, Flow, Table, TableLimits};
use phonehome_flow::tcp::{Budget, Chunk, Stream, StreamLimits, StreamStats};
use phonehome_flow::Side;
use phonehome_wire::{self as wire, Network, Transport};

use crate::dissect::{Ctx, TcpApp, UdpApp};
use crate::records::{FlowInfo, Sink};
use crate::Device;

/// Distinct decode-error messages remembered per input; the rest are only counted.
const MAX_WARNING_KINDS: usize = 32;

/// One packet handed to a shard.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Pkt<'a> {
    pub(crate) input: usize,
    pub(crate) frame: u64,
    pub(crate) ts: Timestamp,
    pub(crate) interface: u32,
    pub(crate) link: LinkType,
    pub(crate) data: &'a [u8],
    pub(crate) orig_len: u32,
    /// The capture's comment on this packet (pcapng `opt_comment`).
    pub(crate) comment: Option<&'a str>,
    /// The process that sent or received it, when the capture says.
    pub(crate) process: Option<phonehome_capture::Process<'a>>,
}

/// Per-flow state kept in the table.
#[derive(Debug)]
pub(crate) struct Conn {
    input: usize,
    first_frame: u64,
    tcp: Option<Box<TcpConn>>,
    udp: UdpApp,
    info: FlowInfo,
}

#[derive(Debug)]
struct TcpConn {
    streams: [Stream; 2],
    app: TcpApp,
    ignoring: bool,
}

/// A finished flow, ready for the report.
#[derive(Debug)]
pub(crate) struct FlowRecord {
    pub(crate) handle: u64,
    pub(crate) protocol: u8,
    pub(crate) client: SocketAddr,
    pub(crate) server: SocketAddr,
    pub(crate) first_ts: Timestamp,
    pub(crate) last_ts: Timestamp,
    pub(crate) input: usize,
    pub(crate) first_frame: u64,
    pub(crate) packets: [u64; 2],
    pub(crate) bytes: [u64; 2],
    pub(crate) info: FlowInfo,
    pub(crate) tcp: Option<StreamStats>,
}

/// Counters of the packet layers.
#[derive(Clone, Debug, Default)]
pub(crate) struct PacketCounters {
    pub(crate) packets: u64,
    pub(crate) non_ip: u64,
    pub(crate) decode_errors: u64,
    pub(crate) unsupported_link: u64,
    pub(crate) not_device: u64,
    pub(crate) fragments: u64,
}

/// First frame and count of each kind of trouble, per input.
#[derive(Debug, Default)]
pub(crate) struct Trouble {
    pub(crate) kinds: HashMap<(usize, String), (u64, u64)>,
    pub(crate) others: HashMap<usize, u64>,
}

impl Trouble {
    fn note(&mut self, input: usize, frame: u64, what: String) {
        let distinct = self.kinds.keys().filter(|(i, _)| *i == input).count();
        match self.kinds.get_mut(&(input, what.clone())) {
            Some(entry) => entry.1 += 1,
            None if distinct >= MAX_WARNING_KINDS => *self.others.entry(input).or_default() += 1,
            None => {
                self.kinds.insert((input, what), (frame, 1));
            }
        }
    }

    pub(crate) fn merge(&mut self, other: Self) {
        for (key, (frame, n)) in other.kinds {
            let e = self.kinds.entry(key).or_insert((frame, 0));
            e.0 = e.0.min(frame);
            e.1 += n;
        }
        for (input, n) in other.others {
            *self.others.entry(input).or_default() += n;
        }
    }
}

/// Settings shared by all shards.
#[derive(Clone, Debug)]
pub(crate) struct ShardConfig {
    pub(crate) index: u16,
    pub(crate) table: TableLimits,
    pub(crate) defrag: DefragLimits,
    pub(crate) stream: StreamLimits,
    pub(crate) budget: u64,
    pub(crate) device: Option<Device>,
    /// Session keys from the key logs.
    pub(crate) keys: Arc<KeyLog>,
    pub(crate) http_bodies: bool,
    pub(crate) detection: Option<Arc<crate::Detection>>,
    pub(crate) patterns: Option<Arc<phonehome_detect::patterns::Detectors>>,
}

/// Everything a shard learnt, once its input has ended.
#[derive(Debug, Default)]
pub(crate) struct ShardOutput {
    pub(crate) flows: Vec<FlowRecord>,
    pub(crate) sink: Sink,
    pub(crate) packets: PacketCounters,
    pub(crate) trouble: Trouble,
    pub(crate) reassembled: u64,
    pub(crate) fragments_dropped: u64,
    pub(crate) evicted_full: u64,
    pub(crate) budget_hits: u64,
}

pub(crate) struct Shard {
    index: u16,
    table: Table<Conn>,
    defrag: Defragmenter,
    budget: Budget,
    stream_limits: StreamLimits,
    device: Option<Device>,
    keys: Arc<KeyLog>,
    http_bodies: bool,
    out: ShardOutput,
}

impl Shard {
    pub(crate) fn new(config: ShardConfig) -> Self {
        let mut out = ShardOutput::default();
        out.sink.detection = config.detection.clone();
        out.sink.patterns = config.patterns.clone();
        Self {
            index: config.index,
            table: Table::new(config.table),
            defrag: Defragmenter::new(config.defrag),
            budget: Budget::new(config.budget),
            stream_limits: config.stream,
            device: config.device,
            keys: config.keys,
            http_bodies: config.http_bodies,
            out,
        }
    }

    /// Keys found in the capture itself (a Decryption Secrets Block).
    pub(crate) fn add_keys(&mut self, log: &KeyLog) {
        Arc::make_mut(&mut self.keys).merge(log.clone());
    }

    pub(crate) fn packet(&mut self, pkt: &Pkt<'_>) {
        self.out.packets.packets += 1;
        let frame = match wire::decode(pkt.link, pkt.data) {
            Ok(f) => f,
            Err(wire::Error::UnsupportedLink(link)) => {
                self.out.packets.unsupported_link += 1;
                let what = format!(
                    "interface {}: unsupported link type {link}: its frames are skipped",
                    pkt.interface
                );
                self.out.trouble.note(pkt.input, pkt.frame, what);
                return;
            }
            Err(e) => {
                self.out.packets.decode_errors += 1;
                self.out.trouble.note(pkt.input, pkt.frame, e.to_string());
                return;
            }
        };
        if let Some(device) = &self.device {
            if !device.matches(&frame) {
                self.out.packets.not_device += 1;
                return;
            }
        }
        let Network::Ip(ip) = frame.network else {
            self.out.packets.non_ip += 1;
            return;
        };
        let bytes = u64::from(pkt.orig_len);
        // Only an unfragmented packet's missing bytes belong to its own transport payload.
        let missing = if ip.fragment.is_none() { ip.missing } else { 0 };
        let reassembled;
        let payload = if let Some(frag) = ip.fragment {
            self.out.packets.fragments += 1;
            match self.defrag.push(
                pkt.ts,
                ip.src,
                ip.dst,
                ip.protocol,
                defrag::Fragment {
                    id: frag.id,
                    offset: frag.offset,
                    more: frag.more,
                },
                ip.payload,
            ) {
                Some(whole) => {
                    reassembled = whole;
                    &reassembled[..]
                }
                None => return,
            }
        } else {
            ip.payload
        };
        let transport = match wire::transport(ip.protocol, payload) {
            Ok(t) => t,
            Err(e) => {
                self.out.packets.decode_errors += 1;
                self.out.trouble.note(pkt.input, pkt.frame, e.to_string());
                return;
            }
        };
        let (sport, dport, flags, seq) = match &transport {
            Transport::Tcp(t) => (t.src_port, t.dst_port, t.flags.0, t.seq),
            Transport::Udp(u) => (u.src_port, u.dst_port, 0, 0),
            _ => (0, 0, 0, 0),
        };
        let src = SocketAddr::new(ip.src, sport);
        let dst = SocketAddr::new(ip.dst, dport);
        let (input, first_frame) = (pkt.input, pkt.frame);
        let (flow, side) = self.table.packet(
            pkt.ts,
            &table::Packet {
                protocol: ip.protocol,
                src,
                dst,
                bytes,
                tcp_flags: flags,
                tcp_seq: seq,
            },
            || Conn {
                input,
                first_frame,
                tcp: None,
                udp: UdpApp::default(),
                info: FlowInfo::default(),
            },
        );
        let key = *flow.key();
        let ctx = Ctx {
            ts: pkt.ts,
            input: pkt.input,
            frame: pkt.frame,
            flow: handle(self.index, flow.serial()),
            ports: [key.a.port(), key.b.port()],
            keys: &self.keys,
            http_bodies: self.http_bodies,
            client: flow.client_side(),
        };
        let sink = &mut self.out.sink;
        match transport {
            Transport::Tcp(seg) => {
                let conn = &mut flow.state;
                let tcp = conn.tcp.get_or_insert_with(|| {
                    Box::new(TcpConn {
                        streams: [
                            Stream::new(&self.stream_limits),
                            Stream::new(&self.stream_limits),
                        ],
                        app: TcpApp::default(),
                        ignoring: false,
                    })
                });
                let info = &mut conn.info;
                info.payload_bytes = info.payload_bytes.saturating_add(seg.payload.len() as u64);
                let TcpConn { streams, app, .. } = &mut **tcp;
                let [a, b] = streams;
                let (sender, peer) = match side {
                    Side::A => (a, b),
                    Side::B => (b, a),
                };
                let budget = &mut self.budget;
                let mut deliver = |chunk: Chunk<'_>| on_chunk(app, side, chunk, &ctx, info, sink);
                if missing > 0 {
                    // Cut by the snap length: the stream learns how long the segment really
                    // was, so the lost tail becomes a gap and the FIN lands where it belongs.
                    let wire_len = (seg.payload.len() as u32).saturating_add(missing);
                    sender.segment_captured(
                        budget,
                        seg.seq,
                        seg.flags.0,
                        seg.payload,
                        wire_len,
                        &mut deliver,
                    );
                } else {
                    sender.segment(budget, seg.seq, seg.flags.0, seg.payload, &mut deliver);
                }
                if seg.flags.ack() {
                    peer.peer_ack(budget, seg.ack, &mut |chunk| {
                        on_chunk(app, side.other(), chunk, &ctx, info, sink);
                    });
                }
                if !tcp.ignoring && tcp.app.finished(sink.detection.is_some()) {
                    tcp.ignoring = true;
                    for s in &mut tcp.streams {
                        s.set_ignore();
                    }
                }
            }
            Transport::Udp(udp) => {
                let conn = &mut flow.state;
                conn.udp
                    .datagram(side, udp.payload, &ctx, &mut conn.info, sink);
            }
            _ => {}
        }
        if let Some(client) = flow.state.info.app_client {
            flow.set_client_by_app(client);
        }
        if flow.state.info.app.is_none() {
            flow.state.info.app = packet_app(pkt);
        }
        self.expire(pkt.ts);
    }

    fn expire(&mut self, now: Timestamp) {
        let mut ended = Vec::new();
        self.table.expire(now, |flow| ended.push(flow));
        for flow in ended {
            self.finish(flow);
        }
    }

    /// End of all input: every flow left is finished.
    pub(crate) fn finish_all(mut self) -> ShardOutput {
        let mut ended = Vec::new();
        self.table.drain(|flow| ended.push(flow));
        for flow in ended {
            self.finish(flow);
        }
        let d = self.defrag.stats();
        self.out.reassembled = d.completed;
        self.out.fragments_dropped = d.timed_out + d.dropped_over_cap;
        self.out.evicted_full = self.table.stats().evicted;
        self.out.budget_hits = self.budget.denied();
        self.out
    }

    fn finish(&mut self, mut flow: Flow<Conn>) {
        let serial = flow.serial();
        let key = *flow.key();
        let client_side = flow.client_side();
        let ctx = Ctx {
            ts: flow.last_seen(),
            input: flow.state.input,
            frame: flow.state.first_frame,
            flow: handle(self.index, serial),
            ports: [key.a.port(), key.b.port()],
            keys: &self.keys,
            http_bodies: self.http_bodies,
            client: client_side,
        };
        let sink = &mut self.out.sink;
        let conn = &mut flow.state;
        let mut tcp_stats = None;
        if let Some(tcp) = conn.tcp.as_mut() {
            let info = &mut conn.info;
            let TcpConn { streams, app, .. } = &mut **tcp;
            let mut total = StreamStats::default();
            for side in [Side::A, Side::B] {
                let stream = &mut streams[side.index()];
                stream.flush(&mut self.budget, &mut |chunk| {
                    on_chunk(app, side, chunk, &ctx, info, sink);
                });
                app.end(side, &ctx, info, sink);
                add_stats(&mut total, &stream.stats());
                stream.discard(&mut self.budget);
            }
            app.close(&ctx, info, sink);
            sink.finish_streams(&ctx, info);
            tcp_stats = Some(total);
        }
        conn.udp.finish(&ctx, &mut conn.info, sink);
        let (client, server) = match client_side {
            Side::A => (key.a, key.b),
            Side::B => (key.b, key.a),
        };
        let up = client_side;
        let down = up.other();
        let mut info = std::mem::take(&mut flow.state.info);
        // First bytes are kept by side; the record holds them as [up, down].
        if up == Side::B {
            info.head.swap(0, 1);
        }
        self.out.flows.push(FlowRecord {
            handle: handle(self.index, serial),
            protocol: key.protocol,
            client,
            server,
            first_ts: flow.first_seen(),
            last_ts: flow.last_seen(),
            input: flow.state.input,
            first_frame: flow.state.first_frame,
            packets: [flow.packets(up), flow.packets(down)],
            bytes: [flow.bytes(up), flow.bytes(down)],
            info,
            tcp: tcp_stats,
        });
    }
}

/// The app that sent or received a packet, when the capture says so.
///
/// PCAPdroid's trailer (its "PCAPdroid trailer" option): the IP packet inside a dummy
/// Ethernet header, followed by 32 bytes: magic 0x01072021, the app's UID, its name in 20
/// bytes (NUL padded) and a frame check sequence, all in network byte order. A pcapng packet
/// comment naming the app (`app=NAME`, `package=NAME`, or just a package name) also counts.
fn packet_app(pkt: &Pkt<'_>) -> Option<AppTag> {
    const MAGIC: [u8; 4] = [0x01, 0x07, 0x20, 0x21];
    if pkt.link == LinkType::ETHERNET && pkt.data.len() >= 14 + 20 + 32 {
        let t = &pkt.data[pkt.data.len() - 32..];
        if t[..4] == MAGIC {
            let uid = i32::from_be_bytes([t[4], t[5], t[6], t[7]]);
            let name = &t[8..28];
            let name = &name[..name.iter().position(|&b| b == 0).unwrap_or(name.len())];
            let name = String::from_utf8_lossy(name).into_owned();
            return Some(AppTag {
                name: (!name.is_empty()).then_some(name),
                uid: Some(uid),
                source: "pcapdroid-trailer",
            });
        }
    }
    // Apple's per-packet process information (or pcapng's process id option).
    if let Some(p) = pkt.process {
        return Some(AppTag {
            name: Some(
                p.name
                    .map_or_else(|| format!("pid {}", p.pid), str::to_string),
            ),
            uid: None,
            source: "process-info",
        });
    }
    let comment = pkt.comment?.trim();
    let value = ["app=", "package=", "app: ", "package: "]
        .iter()
        .find_map(|key| {
            let at = comment.find(key)?;
            comment[at + key.len()..].split([' ', ',', ';']).next()
        })
        .or_else(|| {
            let looks_like_package = comment.contains('.')
                && comment.len() <= 128
                && comment
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'_');
            looks_like_package.then_some(comment)
        })?;
    (!value.is_empty()).then(|| AppTag {
        name: Some(value.to_string()),
        uid: None,
        source: "pcapng-comment",
    })
}

/// Which app a flow belongs to, and how the capture said so.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct AppTag {
    pub(crate) name: Option<String>,
    pub(crate) uid: Option<i32>,
    pub(crate) source: &'static str,
}

fn on_chunk(
    app: &mut TcpApp,
    side: Side,
    chunk: Chunk<'_>,
    ctx: &Ctx,
    info: &mut FlowInfo,
    sink: &mut Sink,
) {
    match chunk {
        Chunk::Data { bytes, .. } => app.data(side, bytes, ctx, info, sink),
        Chunk::Gap { len, .. } => app.gap(side, len, ctx, info, sink),
        Chunk::Fin | Chunk::Rst => app.end(side, ctx, info, sink),
    }
}

fn add_stats(total: &mut StreamStats, s: &StreamStats) {
    total.gaps += s.gaps;
    total.gap_bytes += s.gap_bytes;
    total.conflicts += s.conflicts;
    total.cap_hits += s.cap_hits;
    total.budget_hits += s.budget_hits;
    total.overlaps += s.overlaps;
    total.delivered_bytes += s.delivered_bytes;
}

/// A flow's identity across shards: shard index and serial within it.
const fn handle(shard: u16, serial: u64) -> u64 {
    ((shard as u64) << 48) | (serial & ((1 << 48) - 1))
}

/// Which shard an IP packet belongs to: a hash of its unordered address pair, so both
/// directions and every fragment meet in one shard.
pub(crate) fn route(link: LinkType, data: &[u8], shards: usize) -> usize {
    if shards <= 1 {
        return 0;
    }
    let Ok(frame) = wire::decode(link, data) else {
        return 0;
    };
    let Network::Ip(ip) = frame.network else {
        return 0;
    };
    let (lo, hi) = if ip.src <= ip.dst {
        (ip.src, ip.dst)
    } else {
        (ip.dst, ip.src)
    };
    let h = mix(addr_bits(lo)) ^ mix(addr_bits(hi).rotate_left(17));
    (h % shards as u64) as usize
}

fn addr_bits(a: IpAddr) -> u64 {
    match a {
        IpAddr::V4(v4) => u64::from(u32::from(v4)),
        IpAddr::V6(v6) => {
            let x = u128::from(v6);
            (x as u64) ^ ((x >> 64) as u64)
        }
    }
}

/// splitmix64's finaliser: spreads address bits over the whole word.
const fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pkt<'a>(link: LinkType, data: &'a [u8], comment: Option<&'a str>) -> Pkt<'a> {
        Pkt {
            input: 0,
            frame: 1,
            ts: Timestamp::default(),
            interface: 0,
            link,
            data,
            orig_len: data.len() as u32,
            comment,
            process: None,
        }
    }

    #[test]
    fn pcapdroid_trailer_names_the_app() {
        // Dummy Ethernet header, a 20-byte IPv4 header, then the 32-byte trailer.
        let mut frame = vec![0u8; 14 + 20];
        frame.extend_from_slice(&[0x01, 0x07, 0x20, 0x21]);
        frame.extend_from_slice(&10_123i32.to_be_bytes());
        let mut name = b"com.xiaomi.account".to_vec();
        name.resize(20, 0);
        frame.extend_from_slice(&name);
        frame.extend_from_slice(&[0; 4]);
        let tag = packet_app(&pkt(LinkType::ETHERNET, &frame, None)).unwrap();
        assert_eq!(tag.name.as_deref(), Some("com.xiaomi.account"));
        assert_eq!(tag.uid, Some(10_123));
        // The same bytes without the magic are not a trailer.
        frame[34] = 0;
        assert_eq!(packet_app(&pkt(LinkType::ETHERNET, &frame, None)), None);
    }

    #[test]
    fn process_information_names_the_app() {
        let mut p = pkt(
            LinkType::RAW,
            &[0x45],
            Some("app=ignored.when.process.known"),
        );
        p.process = Some(phonehome_capture::Process {
            pid: 412,
            name: Some("WeChat"),
        });
        assert_eq!(
            packet_app(&p).and_then(|t| t.name).as_deref(),
            Some("WeChat")
        );
        p.process = Some(phonehome_capture::Process {
            pid: 77,
            name: None,
        });
        assert_eq!(
            packet_app(&p).and_then(|t| t.name).as_deref(),
            Some("pid 77")
        );
    }

    #[test]
    fn packet_comments_that_name_an_app() {
        let cases = [
            ("app=com.tencent.mm uid=10200", Some("com.tencent.mm")),
            (
                "package: jp.naver.line.android",
                Some("jp.naver.line.android"),
            ),
            ("com.ss.android.ugc.trill", Some("com.ss.android.ugc.trill")),
            ("retransmission seen here", None),
        ];
        for (comment, app) in cases {
            let tag = packet_app(&pkt(LinkType::RAW, &[0x45], Some(comment)));
            assert_eq!(tag.and_then(|t| t.name).as_deref(), app, "{comment}");
        }
    }
}

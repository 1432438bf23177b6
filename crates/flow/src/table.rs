//! The bidirectional flow table: one [`Flow`] per conversation, idle expiry, a size cap.

use std::collections::hash_map::Entry;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Duration;

use phonehome_capture::Timestamp;

use crate::key::{proto, FlowHasher, FlowKey, Side};
use crate::tcp::flags;

/// Ports whose owner is taken to be the server when neither SYN nor application data says
/// otherwise: DNS, HTTP, HTTPS, DNS over TLS/QUIC, mDNS, LLMNR, SSDP, alternative HTTP(S).
pub const WELL_KNOWN_PORTS: [u16; 9] = [53, 80, 443, 853, 5353, 5355, 1900, 8080, 8443];

/// Table settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TableLimits {
    /// Flows held at once; when full, the flows nearest their idle deadline are evicted in
    /// a batch of 1/32 of this number. Default 256 Ki flows: far more than a phone keeps
    /// open, and about 170 MiB if each holds two TCP streams (664 bytes a flow), before
    /// application state.
    pub max_flows: usize,
    /// Idle timeout of a TCP connection not yet finished. Default 2 h 4 min, the least a
    /// NAT may use (RFC 5382 §5, REQ-5): phones keep push connections (XMPP, MQTT, FCM)
    /// silent for many minutes, and cutting one would lose its TLS context.
    pub tcp_established: Duration,
    /// Idle timeout of a TCP connection after FIN both ways or RST. Default 30 s.
    pub tcp_closed: Duration,
    /// Idle timeout of UDP flows. Default 120 s, the least a NAT may use for a UDP mapping
    /// (RFC 4787 §4.3, REQ-5).
    pub udp: Duration,
    /// Idle timeout of any other protocol. Default 60 s.
    pub other: Duration,
    /// Expiry scans at most this often in capture time. Default 1 s.
    pub scan_interval: Duration,
}

impl Default for TableLimits {
    fn default() -> Self {
        Self {
            max_flows: 1 << 18,
            tcp_established: Duration::from_secs(2 * 3600 + 4 * 60),
            tcp_closed: Duration::from_secs(30),
            udp: Duration::from_secs(120),
            other: Duration::from_secs(60),
            scan_interval: Duration::from_secs(1),
        }
    }
}

fn nanos(d: Duration) -> i64 {
    i64::try_from(d.as_nanos()).unwrap_or(i64::MAX)
}

/// Why a flow left the table.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum End {
    /// Still in the table.
    #[default]
    Active,
    /// Idle longer than its protocol's timeout.
    Idle,
    /// A new TCP connection (bare SYN) reused the key of a finished one.
    Reused,
    /// Evicted to make room ([`TableLimits::max_flows`]).
    Capacity,
    /// End of input ([`Table::drain`]).
    Drained,
}

/// One conversation, both directions, with the caller's state `T`.
#[derive(Clone, Debug)]
pub struct Flow<T> {
    key: FlowKey,
    serial: u64,
    first: Timestamp,
    last: Timestamp,
    packets: [u64; 2],
    bytes: [u64; 2],
    first_sender: Option<Side>,
    syn_side: Option<Side>,
    synack_side: Option<Side>,
    /// Sequence number of the last bare SYN each side sent.
    syn_seq: [Option<u32>; 2],
    app_client: Option<Side>,
    fin: [bool; 2],
    rst: bool,
    end: End,
    /// The caller's per-flow state.
    pub state: T,
}

impl<T> Flow<T> {
    fn new(key: FlowKey, serial: u64, now: Timestamp, state: T) -> Self {
        Self {
            key,
            serial,
            first: now,
            last: now,
            packets: [0; 2],
            bytes: [0; 2],
            first_sender: None,
            syn_side: None,
            synack_side: None,
            syn_seq: [None; 2],
            app_client: None,
            fin: [false; 2],
            rst: false,
            end: End::Active,
            state,
        }
    }

    /// Counts a packet sent by `side`. `bytes` is whatever size the caller counts (phonehome
    /// counts IP payload); `tcp_flags` and `tcp_seq` are 0 for other protocols.
    pub fn record(&mut self, side: Side, now: Timestamp, bytes: u64, tcp_flags: u8, tcp_seq: u32) {
        let i = side.index();
        if self.first_sender.is_none() {
            self.first_sender = Some(side);
        }
        self.packets[i] = self.packets[i].saturating_add(1);
        self.bytes[i] = self.bytes[i].saturating_add(bytes);
        // Captures are not always in time order (merged files, clock steps): keep the span.
        self.first = self.first.min(now);
        self.last = self.last.max(now);
        if self.key.protocol == proto::TCP {
            match tcp_flags & (flags::SYN | flags::ACK) {
                flags::SYN => {
                    self.syn_side.get_or_insert(side);
                    self.syn_seq[i] = Some(tcp_seq);
                }
                both if both == flags::SYN | flags::ACK => {
                    self.synack_side.get_or_insert(side);
                }
                _ => {}
            }
            self.fin[i] |= tcp_flags & flags::FIN != 0;
            self.rst |= tcp_flags & flags::RST != 0;
        }
    }

    /// Application-layer evidence of which side is the client (a TLS ClientHello, a DNS
    /// query, an HTTP request). Overrides every other clue.
    pub fn set_client_by_app(&mut self, side: Side) {
        self.app_client = Some(side);
    }

    /// The side that opened the conversation: application evidence, else the sender of a
    /// bare SYN, else the side a SYN-ACK was sent to, else the side not on a server port,
    /// else the first sender.
    pub fn client_side(&self) -> Side {
        let synack_to = self.synack_side.map(Side::other);
        if let Some(side) = self.app_client.or(self.syn_side).or(synack_to) {
            return side;
        }
        let (pa, pb) = (self.key.a.port(), self.key.b.port());
        let (wa, wb) = (
            WELL_KNOWN_PORTS.contains(&pa),
            WELL_KNOWN_PORTS.contains(&pb),
        );
        if wa != wb {
            return if wa { Side::B } else { Side::A };
        }
        // Ports below 1024 are system ports (RFC 6335 §6), used by servers.
        if (pa < 1024) != (pb < 1024) && pa != 0 && pb != 0 {
            return if pa < 1024 { Side::B } else { Side::A };
        }
        self.first_sender.unwrap_or(Side::A)
    }

    /// The server: the side that is not the client.
    pub fn server_side(&self) -> Side {
        self.client_side().other()
    }

    pub fn key(&self) -> &FlowKey {
        &self.key
    }

    /// Position in creation order, from 0: sort by it for output that does not depend on
    /// hashing.
    pub fn serial(&self) -> u64 {
        self.serial
    }

    pub fn first_seen(&self) -> Timestamp {
        self.first
    }

    pub fn last_seen(&self) -> Timestamp {
        self.last
    }

    /// Packets sent by `side`.
    pub fn packets(&self, side: Side) -> u64 {
        self.packets[side.index()]
    }

    /// Bytes sent by `side`, as counted by the caller.
    pub fn bytes(&self, side: Side) -> u64 {
        self.bytes[side.index()]
    }

    /// The sender of the first packet recorded.
    pub fn first_sender(&self) -> Option<Side> {
        self.first_sender
    }

    /// The sender of the first SYN without ACK.
    pub fn syn_side(&self) -> Option<Side> {
        self.syn_side
    }

    pub fn fin_seen(&self, side: Side) -> bool {
        self.fin[side.index()]
    }

    pub fn rst_seen(&self) -> bool {
        self.rst
    }

    /// A TCP connection that sent FIN both ways or was reset.
    pub fn is_finished(&self) -> bool {
        self.rst || (self.fin[0] && self.fin[1])
    }

    /// Why the flow left the table ([`End::Active`] while in it).
    pub fn end(&self) -> End {
        self.end
    }

    fn timeout(&self, limits: &TableLimits) -> Duration {
        match self.key.protocol {
            proto::TCP if self.is_finished() => limits.tcp_closed,
            proto::TCP => limits.tcp_established,
            proto::UDP => limits.udp,
            _ => limits.other,
        }
    }

    /// Capture time after which the flow is idle.
    fn deadline(&self, limits: &TableLimits) -> i64 {
        self.last
            .as_nanos()
            .saturating_add(nanos(self.timeout(limits)))
    }
}

/// What the table needs to know of one packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Packet {
    /// IP protocol number (IPv6: the upper-layer protocol).
    pub protocol: u8,
    /// Source and destination; port 0 for protocols without ports.
    pub src: SocketAddr,
    pub dst: SocketAddr,
    /// The size to count, as the caller defines it (phonehome counts IP payload bytes).
    pub bytes: u64,
    /// TCP flag bits ([`crate::tcp::flags`]), 0 for other protocols.
    pub tcp_flags: u8,
    /// TCP sequence number, 0 for other protocols: tells a retransmitted SYN from a new one.
    pub tcp_seq: u32,
}

/// Counters of a [`Table`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TableStats {
    /// Flows created.
    pub created: u64,
    /// Flows ended by idleness, port reuse, the size cap, and end of input.
    pub idle: u64,
    pub reused: u64,
    pub evicted: u64,
    pub drained: u64,
    /// Flows in the table now, and the most at once.
    pub active: u64,
    pub peak: u64,
}

/// The flow table. Flows leave it through [`Table::expire`] and [`Table::drain`], always
/// in serial order.
#[derive(Debug)]
pub struct Table<T> {
    limits: TableLimits,
    map: HashMap<FlowKey, Flow<T>, FlowHasher>,
    next_serial: u64,
    /// Flows ended outside `expire` (reuse, size cap), handed out by the next `expire`.
    ended: Vec<Flow<T>>,
    /// Scratch for capacity eviction, kept to avoid allocating each time.
    scratch: Vec<(i64, u64, FlowKey)>,
    next_scan: Option<i64>,
    /// Calls of [`Table::expire`] since the last scan: a scan visits every flow, so it waits
    /// until at least an eighth of the table's size in calls paid for it.
    calls_since_scan: usize,
    stats: TableStats,
}

impl<T> Table<T> {
    /// An empty table with a hasher keyed for this run.
    pub fn new(limits: TableLimits) -> Self {
        Self::with_hasher(limits, FlowHasher::new())
    }

    /// An empty table with the given hasher (see [`crate::key::fixed_hasher`]).
    pub fn with_hasher(limits: TableLimits, hasher: FlowHasher) -> Self {
        Self {
            limits,
            map: HashMap::with_hasher(hasher),
            next_serial: 0,
            ended: Vec::new(),
            scratch: Vec::new(),
            next_scan: None,
            calls_since_scan: 0,
            stats: TableStats::default(),
        }
    }

    pub fn limits(&self) -> &TableLimits {
        &self.limits
    }

    pub fn stats(&self) -> TableStats {
        TableStats {
            active: self.map.len() as u64,
            ..self.stats
        }
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    pub fn get(&self, key: &FlowKey) -> Option<&Flow<T>> {
        self.map.get(key)
    }

    pub fn get_mut(&mut self, key: &FlowKey) -> Option<&mut Flow<T>> {
        self.map.get_mut(key)
    }

    /// The flow of `key`, created with `init()` if there is none.
    ///
    /// A flow that has been idle past its timeout ends (as [`End::Idle`]) and a new one
    /// starts, so the result does not depend on how often [`Table::expire`] runs. With
    /// `is_new_connection` (a TCP SYN without ACK), a finished TCP flow ends as
    /// [`End::Reused`] and a new one starts: the port was reused. Ended flows are handed out
    /// by the next [`Table::expire`].
    pub fn lookup_or_insert(
        &mut self,
        key: FlowKey,
        now: Timestamp,
        is_new_connection: bool,
        init: impl FnOnce() -> T,
    ) -> &mut Flow<T> {
        if self.map.len() >= self.limits.max_flows.max(1) && !self.map.contains_key(&key) {
            self.evict_for_room();
        }
        let len_before = self.map.len() as u64;
        match self.map.entry(key) {
            Entry::Occupied(o) => {
                let flow = o.into_mut();
                let end = if is_new_connection && flow.is_finished() {
                    Some(End::Reused)
                } else if now.as_nanos() > flow.deadline(&self.limits) {
                    Some(End::Idle)
                } else {
                    None
                };
                if let Some(end) = end {
                    let serial = self.next_serial;
                    self.next_serial += 1;
                    self.stats.created += 1;
                    match end {
                        End::Reused => self.stats.reused += 1,
                        _ => self.stats.idle += 1,
                    }
                    let mut old = std::mem::replace(flow, Flow::new(key, serial, now, init()));
                    old.end = end;
                    self.ended.push(old);
                }
                flow
            }
            Entry::Vacant(v) => {
                let serial = self.next_serial;
                self.next_serial += 1;
                self.stats.created += 1;
                self.stats.peak = self.stats.peak.max(len_before + 1);
                v.insert(Flow::new(key, serial, now, init()))
            }
        }
    }

    /// Looks up (or creates) the flow of one packet and records it. Returns the flow and
    /// the side of the packet's source. A TCP SYN without ACK may start a new flow on the
    /// key of a finished one (see [`Table::lookup_or_insert`]).
    pub fn packet(
        &mut self,
        now: Timestamp,
        packet: &Packet,
        init: impl FnOnce() -> T,
    ) -> (&mut Flow<T>, Side) {
        let (key, side) = FlowKey::new(packet.protocol, packet.src, packet.dst);
        let bare_syn = packet.protocol == proto::TCP
            && packet.tcp_flags & (flags::SYN | flags::ACK) == flags::SYN;
        // A SYN repeating the last one's sequence number is a retransmission of the same
        // attempt (say after a RST answering a stale ACK, RFC 9293 §3.10.7.3), not a new
        // connection. The extra lookup is paid only for bare SYNs.
        let new_connection = bare_syn
            && self
                .map
                .get(&key)
                .is_none_or(|flow| flow.syn_seq[side.index()] != Some(packet.tcp_seq));
        let flow = self.lookup_or_insert(key, now, new_connection, init);
        flow.record(side, now, packet.bytes, packet.tcp_flags, packet.tcp_seq);
        (flow, side)
    }

    /// Hands out, in serial order, flows that ended since the last call: idle ones, and
    /// those ended by reuse or the size cap. Scans the table at most once per
    /// [`TableLimits::scan_interval`] of capture time, and only once at least a table's size
    /// divided by 8 of calls came since the last scan, so calling it per packet costs O(1)
    /// amortised however many flows are open. (Idle flows are also ended on lookup, so when
    /// a scan runs changes memory use, never the results.)
    pub fn expire(&mut self, now: Timestamp, mut f: impl FnMut(Flow<T>)) {
        let now = now.as_nanos();
        self.calls_since_scan = self.calls_since_scan.saturating_add(1);
        let paid = self.calls_since_scan.saturating_mul(8) >= self.map.len();
        if paid && self.next_scan.is_none_or(|at| now >= at) {
            self.calls_since_scan = 0;
            self.next_scan = Some(now.saturating_add(nanos(self.limits.scan_interval)));
            let limits = self.limits;
            let before = self.ended.len();
            // `extract_if` is not stable at our MSRV; collect the keys first.
            self.scratch.clear();
            self.scratch.extend(
                self.map
                    .iter()
                    .filter(|(_, flow)| now > flow.deadline(&limits))
                    .map(|(key, flow)| (0, flow.serial, *key)),
            );
            for &(_, _, key) in &self.scratch {
                if let Some(mut flow) = self.map.remove(&key) {
                    flow.end = End::Idle;
                    self.ended.push(flow);
                }
            }
            self.stats.idle += (self.ended.len() - before) as u64;
        }
        self.hand_out(&mut f);
    }

    /// End of input: hands out every flow left, in serial order.
    pub fn drain(&mut self, mut f: impl FnMut(Flow<T>)) {
        self.stats.drained += self.map.len() as u64;
        self.ended.extend(self.map.drain().map(|(_, mut flow)| {
            flow.end = End::Drained;
            flow
        }));
        self.hand_out(&mut f);
    }

    fn hand_out(&mut self, f: &mut impl FnMut(Flow<T>)) {
        if self.ended.is_empty() {
            return;
        }
        self.ended.sort_unstable_by_key(|flow| flow.serial);
        for flow in self.ended.drain(..) {
            f(flow);
        }
    }

    /// The table is full: ends the 1/32 of flows nearest their idle deadline (ties by
    /// serial), so the O(n) scan is paid once per many inserts.
    fn evict_for_room(&mut self) {
        let limits = self.limits;
        let batch = (limits.max_flows / 32).max(1).min(self.map.len());
        if batch == 0 {
            return;
        }
        self.scratch.clear();
        self.scratch.extend(
            self.map
                .iter()
                .map(|(key, flow)| (flow.deadline(&limits), flow.serial, *key)),
        );
        if batch < self.scratch.len() {
            self.scratch.select_nth_unstable(batch - 1);
            self.scratch.truncate(batch);
        }
        for &(_, _, key) in &self.scratch {
            if let Some(mut flow) = self.map.remove(&key) {
                flow.end = End::Capacity;
                self.ended.push(flow);
                self.stats.evicted += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::key::fixed_hasher;
    use crate::tcp::flags::{ACK, FIN, RST, SYN};
    fn sa(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    fn t(secs: f64) -> Timestamp {
        Timestamp::from_nanos((secs * 1e9) as i64)
    }

    fn pkt(protocol: u8, src: SocketAddr, dst: SocketAddr, bytes: u64, tcp_flags: u8) -> Packet {
        Packet {
            protocol,
            src,
            dst,
            bytes,
            tcp_flags,
            tcp_seq: 0,
        }
    }

    fn table() -> Table<u32> {
        Table::with_hasher(TableLimits::default(), fixed_hasher())
    }

    const PHONE: &str = "10.0.0.2:51000";
    const SERVER: &str = "93.184.216.34:443";

    #[test]
    fn both_directions_make_one_flow() {
        let mut tab = table();
        let (flow, side) = tab.packet(t(1.0), &pkt(6, sa(PHONE), sa(SERVER), 60, SYN), || 7);
        assert_eq!(side, Side::A);
        assert_eq!(flow.state, 7);
        let (flow, side) = tab.packet(t(1.1), &pkt(6, sa(SERVER), sa(PHONE), 60, SYN | ACK), || 0);
        assert_eq!(side, Side::B);
        assert_eq!(flow.state, 7, "init runs once");
        flow.state += 1;
        assert_eq!(tab.len(), 1);
        let mut out = Vec::new();
        tab.drain(|f| out.push(f));
        let f = &out[0];
        assert_eq!((f.packets(Side::A), f.packets(Side::B)), (1, 1));
        assert_eq!((f.bytes(Side::A), f.bytes(Side::B)), (60, 60));
        assert_eq!((f.first_seen(), f.last_seen()), (t(1.0), t(1.1)));
        assert_eq!(f.syn_side(), Some(Side::A));
        assert_eq!(f.client_side(), Side::A);
        assert_eq!(f.end(), End::Drained);
        assert_eq!(f.state, 8);
    }

    #[test]
    fn client_side_clues_in_order() {
        // (first sender, first sender's flags, app evidence, expected client), where the
        // first sender is `src` and the other end `dst`.
        let cases: [(&str, &str, u8, Option<bool>, &str); 10] = [
            // A bare SYN decides over the port rule.
            (
                "93.184.216.34:443",
                "10.0.0.2:51000",
                SYN,
                None,
                "93.184.216.34:443",
            ),
            // Application evidence decides over the SYN.
            (
                "10.0.0.2:51000",
                "93.184.216.34:443",
                SYN,
                Some(false),
                "93.184.216.34:443",
            ),
            // The SYN was not captured, the SYN-ACK was: its sender is the server, whatever
            // the ports say.
            (
                "10.0.0.9:40000",
                "10.0.0.2:443",
                SYN | ACK,
                None,
                "10.0.0.2:443",
            ),
            // Mid-stream: the server on 443 spoke first.
            (
                "93.184.216.34:443",
                "10.0.0.2:51000",
                ACK,
                None,
                "10.0.0.2:51000",
            ),
            // A listed port above 1024 (mDNS) is the server.
            ("10.0.0.9:5353", "10.0.0.2:40000", 0, None, "10.0.0.2:40000"),
            // A system port against an ephemeral one.
            ("10.0.0.9:22", "10.0.0.2:40000", ACK, None, "10.0.0.2:40000"),
            // A listed port against a system port: the listed one is the server.
            ("10.0.0.9:123", "10.0.0.2:53", 0, None, "10.0.0.9:123"),
            // Both listed (mDNS to mDNS): the first sender.
            (
                "10.0.0.9:5353",
                "224.0.0.251:5353",
                0,
                None,
                "10.0.0.9:5353",
            ),
            // Both ephemeral: the first sender.
            (
                "10.0.0.9:40001",
                "10.0.0.2:40000",
                0,
                None,
                "10.0.0.9:40001",
            ),
            // Portless.
            ("10.0.0.9:0", "10.0.0.2:0", 0, None, "10.0.0.9:0"),
        ];
        for (src, dst, flags, app_src_is_client, want) in cases {
            let mut tab = table();
            let proto = if flags == 0 { 17 } else { 6 };
            let (flow, side) = tab.packet(t(0.0), &pkt(proto, sa(src), sa(dst), 1, flags), || 0);
            if let Some(src_is_client) = app_src_is_client {
                flow.set_client_by_app(if src_is_client { side } else { side.other() });
            }
            let got = flow.key().endpoint(flow.client_side());
            assert_eq!(got, sa(want), "{src} -> {dst}");
            assert_eq!(flow.key().endpoint(flow.server_side()), {
                if got == sa(src) {
                    sa(dst)
                } else {
                    sa(src)
                }
            });
        }
    }

    #[test]
    fn idle_timeouts_per_protocol() {
        let limits = TableLimits {
            tcp_established: Duration::from_secs(300),
            udp: Duration::from_secs(60),
            ..TableLimits::default()
        };
        let mut tab = Table::with_hasher(limits, fixed_hasher());
        tab.packet(
            t(0.0),
            &pkt(17, sa("10.0.0.2:5000"), sa("8.8.8.8:53"), 40, 0),
            || 0,
        );
        tab.packet(t(0.0), &pkt(6, sa(PHONE), sa(SERVER), 40, ACK), || 1);
        tab.packet(
            t(0.0),
            &pkt(6, sa("10.0.0.2:51001"), sa(SERVER), 40, RST),
            || 2,
        );
        tab.packet(
            t(0.0),
            &pkt(1, sa("10.0.0.2:0"), sa("8.8.8.8:0"), 40, 0),
            || 3,
        );
        let mut out = Vec::new();
        for (now, want) in [
            (29.0, vec![]),
            (31.0, vec![2]),
            (61.0, vec![0, 3]),
            (301.0, vec![1]),
        ] {
            tab.expire(t(now), |f| out.push(f.state));
            assert_eq!(out, want, "at {now} s");
            out.clear();
        }
        assert!(tab.is_empty());
        assert_eq!(tab.stats().idle, 4);
    }

    #[test]
    fn expiry_scans_once_per_interval() {
        let limits = TableLimits {
            udp: Duration::from_secs(60),
            ..TableLimits::default()
        };
        let mut tab = Table::with_hasher(limits, fixed_hasher());
        tab.expire(t(0.0), |_| {});
        tab.packet(
            t(0.0),
            &pkt(17, sa("10.0.0.2:5000"), sa("8.8.8.8:53"), 40, 0),
            || 0,
        );
        let mut n = 0;
        tab.expire(t(0.5), |_| n += 1);
        tab.expire(t(60.5), |_| n += 1); // idle, and a scan is due
        assert_eq!(n, 1);
        tab.packet(
            t(61.0),
            &pkt(17, sa("10.0.0.2:5001"), sa("8.8.8.8:53"), 40, 0),
            || 0,
        );
        tab.expire(t(130.0), |_| n += 1);
        tab.expire(t(130.5), |_| n += 1); // not scanned again yet
        assert_eq!(n, 2);
    }

    #[test]
    fn bare_syn_on_a_finished_flow_starts_a_new_one() {
        let mut tab = table();
        tab.packet(t(0.0), &pkt(6, sa(PHONE), sa(SERVER), 0, SYN), || 1);
        // A retransmitted SYN on a live connection is the same flow.
        tab.packet(t(1.0), &pkt(6, sa(PHONE), sa(SERVER), 0, SYN), || 99);
        tab.packet(t(2.0), &pkt(6, sa(PHONE), sa(SERVER), 0, FIN | ACK), || 99);
        tab.packet(t(2.1), &pkt(6, sa(SERVER), sa(PHONE), 0, FIN | ACK), || 99);
        let new_syn = Packet {
            tcp_seq: 1000,
            ..pkt(6, sa(PHONE), sa(SERVER), 0, SYN)
        };
        let (flow, _) = tab.packet(t(5.0), &new_syn, || 2);
        assert_eq!((flow.state, flow.serial()), (2, 1));
        let mut out = Vec::new();
        tab.expire(t(5.0), |f| out.push((f.state, f.end(), f.packets(Side::A))));
        assert_eq!(out, [(1, End::Reused, 3)]);
        assert_eq!(tab.stats().reused, 1);
    }

    #[test]
    fn retransmitted_syn_after_a_rst_is_the_same_flow() {
        // browsing_dns6_gzip_chunked_tls__suri.pcap frames 191-193, 235 (suricata-verify):
        // SYN, a stale ACK, the client's RST, the same SYN three seconds later.
        let mut tab = table();
        let syn = |seq| Packet {
            tcp_seq: seq,
            ..pkt(6, sa(PHONE), sa(SERVER), 0, SYN)
        };
        tab.packet(t(11.5), &syn(255_601_861), || 1);
        tab.packet(t(11.6), &pkt(6, sa(SERVER), sa(PHONE), 0, ACK), || 99);
        tab.packet(t(11.6), &pkt(6, sa(PHONE), sa(SERVER), 0, RST), || 99);
        let (flow, _) = tab.packet(t(14.5), &syn(255_601_861), || 2);
        assert_eq!((flow.state, flow.packets(Side::A)), (1, 3));
        // A SYN with another sequence number is a new connection.
        let (flow, _) = tab.packet(t(15.0), &syn(7), || 3);
        assert_eq!(flow.state, 3);
        assert_eq!(tab.stats().reused, 1);
    }

    #[test]
    fn packet_after_the_idle_deadline_starts_a_new_flow() {
        let mut tab = table();
        tab.packet(
            t(0.0),
            &pkt(17, sa("10.0.0.2:5000"), sa("8.8.8.8:53"), 40, 0),
            || 1,
        );
        let (flow, _) = tab.packet(
            t(200.0),
            &pkt(17, sa("8.8.8.8:53"), sa("10.0.0.2:5000"), 40, 0),
            || 2,
        );
        assert_eq!(flow.state, 2);
        let mut out = Vec::new();
        tab.drain(|f| out.push((f.state, f.end())));
        assert_eq!(out, [(1, End::Idle), (2, End::Drained)]);
    }

    #[test]
    fn full_table_evicts_the_oldest_idle_in_a_batch() {
        let limits = TableLimits {
            max_flows: 64,
            ..TableLimits::default()
        };
        let mut tab: Table<u32> = Table::with_hasher(limits, fixed_hasher());
        for i in 0..64u16 {
            let src = SocketAddr::new("10.0.0.2".parse().unwrap(), 10_000 + i);
            tab.packet(
                t(f64::from(i) / 10.0),
                &pkt(17, src, sa("8.8.8.8:53"), 1, 0),
                || u32::from(i),
            );
        }
        // Flow 0 is refreshed: now flows 1 and 2 are the oldest.
        tab.packet(
            t(6.4),
            &pkt(17, sa("10.0.0.2:10000"), sa("8.8.8.8:53"), 1, 0),
            || 0,
        );
        tab.packet(
            t(6.5),
            &pkt(17, sa("10.0.0.2:20000"), sa("8.8.8.8:53"), 1, 0),
            || 64,
        );
        assert_eq!(tab.len(), 63);
        let mut out = Vec::new();
        tab.expire(t(6.5), |f| out.push((f.state, f.end())));
        assert_eq!(out, [(1, End::Capacity), (2, End::Capacity)]);
        let st = tab.stats();
        assert_eq!(
            (st.evicted, st.created, st.peak, st.active),
            (2, 65, 64, 63)
        );
    }

    #[test]
    fn drain_hands_out_in_serial_order() {
        let mut tab = table();
        for i in 0..100u16 {
            let src = SocketAddr::new("10.0.0.2".parse().unwrap(), 10_000 + i);
            tab.packet(t(0.0), &pkt(17, src, sa("8.8.8.8:53"), 1, 0), || {
                u32::from(i)
            });
        }
        let mut serials = Vec::new();
        tab.drain(|f| serials.push(f.serial()));
        assert_eq!(serials, (0..100).collect::<Vec<u64>>());
        assert_eq!(tab.stats().drained, 100);
    }
}

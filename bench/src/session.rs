//! Sessions: a plan of packets (who sends, when, which flags, how many bytes) made up front, rendered
//! into frames one at a time when the scheduler asks. Plans hold lengths and small byte arenas, not
//! frames, so a session of many megabytes costs a few kilobytes until it is written.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::Arc;

use crate::dns::{self, Answer};
use crate::packet::{self, flags, IpFields, Peer, TcpHeader};
use crate::quic;
use crate::rng::Rng;
use crate::tls::{self, Carrier, HelloTemplate};

/// The phone and its hotspot: addresses every session shares.
#[derive(Clone, Debug)]
pub struct Lan {
    /// The phone's Wi-Fi MAC (a Xiaomi OUI).
    pub phone_mac: [u8; 6],
    /// The phone's IPv4 address on the hotspot.
    pub phone_v4: Ipv4Addr,
    /// The phone's global IPv6 address.
    pub phone_v6: Ipv6Addr,
    /// The hotspot's MAC: every off-link frame goes through it.
    pub gw_mac: [u8; 6],
    /// The hotspot's address, also the DNS resolver Android is handed by DHCP.
    pub gw_v4: Ipv4Addr,
}

impl Default for Lan {
    fn default() -> Self {
        Self {
            phone_mac: [0x64, 0xcc, 0x2e, 0x5a, 0x91, 0x3d],
            phone_v4: Ipv4Addr::new(192, 168, 43, 107),
            phone_v6: Ipv6Addr::new(0x2001, 0xdb8, 0, 0x43, 0x6a1c, 0x2eff, 0xfe5a, 0x913d),
            gw_mac: [0x8c, 0xde, 0xf9, 0x10, 0x22, 0x01],
            gw_v4: Ipv4Addr::new(192, 168, 43, 1),
        }
    }
}

/// Shared state across sessions: the LAN, the next ephemeral port, cached hello templates.
#[derive(Debug)]
pub struct Ctx {
    /// Addresses of the phone and hotspot.
    pub lan: Lan,
    next_port: u16,
    hellos: HashMap<(String, Carrier), Arc<HelloTemplate>>,
    grease: Rng,
}

impl Ctx {
    /// A context whose choices derive from `rng`.
    pub fn new(lan: Lan, rng: &mut Rng) -> Self {
        Self {
            lan,
            next_port: rng.range(33_000, 58_000) as u16,
            hellos: HashMap::new(),
            grease: rng.fork(),
        }
    }

    /// The next ephemeral port in Linux's default range 32768..60999.
    pub fn port(&mut self) -> u16 {
        self.next_port = if self.next_port >= 60_998 {
            32_768
        } else {
            self.next_port + 1 + (self.next_port % 3)
        };
        self.next_port
    }

    /// The ClientHello template for `sni`, built on first use.
    pub fn hello(&mut self, carrier: Carrier, sni: &str) -> Arc<HelloTemplate> {
        if let Some(t) = self.hellos.get(&(sni.to_owned(), carrier)) {
            return Arc::clone(t);
        }
        let alpn: &[&str] = match carrier {
            Carrier::Tcp => &["h2", "http/1.1"],
            Carrier::Quic => &["h3"],
        };
        let t = Arc::new(HelloTemplate::new(
            carrier,
            sni,
            alpn,
            self.grease.next_u64(),
        ));
        self.hellos
            .insert((sni.to_owned(), carrier), Arc::clone(&t));
        t
    }
}

/// A piece of one direction's TCP byte stream.
#[derive(Clone, Debug)]
pub enum Chunk {
    /// Bytes in the session's arena.
    Lit(u32, u32),
    /// Bytes shared between sessions (cached bodies).
    Shared(Arc<[u8]>),
    /// A TLS record of this content type: 5-byte header, then `len` random (ciphertext) bytes.
    Record(u8, u32),
    /// `len` random bytes (compressed media in plain HTTP).
    Random(u32),
}

impl Chunk {
    fn len(&self) -> u64 {
        match self {
            Self::Lit(_, l) | Self::Random(l) => u64::from(*l),
            Self::Shared(b) => b.len() as u64,
            Self::Record(_, l) => 5 + u64::from(*l),
        }
    }
}

#[derive(Clone, Debug, Default)]
struct Stream {
    chunks: Vec<Chunk>,
    idx: usize,
    off: u64,
}

impl Stream {
    /// Writes the next `out.len()` stream bytes; the plan never asks past the end.
    fn fill(&mut self, mut out: &mut [u8], arena: &[u8], rng: &mut Rng) {
        while !out.is_empty() {
            let Some(c) = self.chunks.get(self.idx) else {
                out.fill(0);
                return;
            };
            let avail = c.len() - self.off;
            let n = (out.len() as u64).min(avail) as usize;
            let (dst, rest) = out.split_at_mut(n);
            let off = self.off as usize;
            match c {
                Chunk::Lit(at, _) => {
                    let at = *at as usize + off;
                    dst.copy_from_slice(&arena[at..at + n]);
                }
                Chunk::Shared(b) => dst.copy_from_slice(&b[off..off + n]),
                Chunk::Random(_) => rng.fill(dst),
                Chunk::Record(ct, len) => {
                    let mut hdr = [*ct, 3, 3, 0, 0];
                    hdr[3..5].copy_from_slice(&(*len as u16).to_be_bytes());
                    let mut i = 0;
                    while i < n && off + i < 5 {
                        dst[i] = hdr[off + i];
                        i += 1;
                    }
                    rng.fill(&mut dst[i..]);
                }
            }
            self.off += n as u64;
            if self.off == c.len() {
                self.idx += 1;
                self.off = 0;
            }
            out = rest;
        }
    }
}

#[derive(Clone, Copy, Debug)]
enum L4 {
    Tcp {
        flags: u8,
        len: u32,
    },
    /// A datagram whose bytes are in the arena.
    Udp {
        at: u32,
        len: u32,
    },
    /// A QUIC short-header packet: header with the DCID from the arena, then random bytes.
    Short {
        dcid_at: u32,
        dcid_len: u8,
        len: u32,
    },
}

#[derive(Clone, Copy, Debug)]
struct Step {
    dt: u32,
    leg: u8,
    from_client: bool,
    l4: L4,
}

/// Which pair of endpoints a packet uses.
pub const LEG_DNS: u8 = 0;
/// The session's main conversation.
pub const LEG_MAIN: u8 = 1;

/// A planned conversation, rendered packet by packet.
#[derive(Debug)]
pub struct Session {
    legs: [(Peer, Peer); 2],
    arena: Vec<u8>,
    streams: [Stream; 2],
    steps: Vec<Step>,
    cursor: usize,
    seq: [u32; 2],
    tsval: [u32; 2],
    ipid: [u16; 2],
    flow_label: u32,
    server_ttl: u8,
    rng: Rng,
}

impl Session {
    /// Delay before the next packet, or `None` when the session is over.
    pub fn next_delay(&self) -> Option<u64> {
        self.steps.get(self.cursor).map(|s| u64::from(s.dt))
    }

    /// Approximate bytes this session adds to a pcap (record headers, frame headers, payloads).
    pub fn planned_bytes(&self) -> u64 {
        self.steps
            .iter()
            .map(|s| {
                16 + 14
                    + 40
                    + match s.l4 {
                        L4::Tcp { len, .. } => 32 + u64::from(len),
                        L4::Udp { len, .. } | L4::Short { len, .. } => 8 + u64::from(len),
                    }
            })
            .sum()
    }

    /// Packets left to write.
    pub fn remaining(&self) -> usize {
        self.steps.len() - self.cursor
    }

    /// Renders the next packet into `buf` (cleared first). `now_ms` drives the TCP timestamps.
    pub fn render(&mut self, buf: &mut Vec<u8>, now_us: u64) {
        let Some(step) = self.steps.get(self.cursor).copied() else {
            buf.clear();
            return;
        };
        self.cursor += 1;
        let (c, s) = self.legs[usize::from(step.leg)];
        let (src, dst) = if step.from_client { (c, s) } else { (s, c) };
        let d = usize::from(!step.from_client);
        self.ipid[d] = self.ipid[d].wrapping_add(1);
        let ip = IpFields {
            id: self.ipid[d],
            ttl: match dst.ip {
                // mDNS goes out with TTL 255 (RFC 6762 section 11); SSDP with a small TTL (UPnP 1.1).
                IpAddr::V4(a) if a.is_multicast() => {
                    if a.octets()[..3] == [224, 0, 0] {
                        255
                    } else {
                        4
                    }
                }
                _ if step.from_client => 64,
                _ => self.server_ttl,
            },
            flow_label: self.flow_label ^ (d as u32),
        };
        match step.l4 {
            L4::Tcp { flags: fl, len } => {
                let ms = (now_us / 1000) as u32;
                let h = TcpHeader {
                    seq: self.seq[d],
                    ack: if fl & flags::ACK != 0 {
                        self.seq[1 - d]
                    } else {
                        0
                    },
                    flags: fl,
                    window: if step.from_client { 0x0800 } else { 0x01f5 },
                    tsval: self.tsval[d].wrapping_add(ms),
                    tsecr: if fl == flags::SYN {
                        0
                    } else {
                        self.tsval[1 - d].wrapping_add(ms.saturating_sub(20))
                    },
                };
                let (arena, stream, rng) = (&self.arena, &mut self.streams[d], &mut self.rng);
                packet::tcp_frame(buf, &src, &dst, ip, &h, len as usize, |p| {
                    stream.fill(p, arena, rng)
                });
                let mut adv = len;
                if fl & (flags::SYN | flags::FIN) != 0 {
                    adv += 1;
                }
                self.seq[d] = self.seq[d].wrapping_add(adv);
            }
            L4::Udp { at, len } => {
                let b = &self.arena[at as usize..(at + len) as usize];
                packet::udp_frame(buf, &src, &dst, ip, b.len(), |p| p.copy_from_slice(b));
            }
            L4::Short {
                dcid_at,
                dcid_len,
                len,
            } => {
                let dcid = &self.arena[dcid_at as usize..dcid_at as usize + usize::from(dcid_len)];
                let rng = &mut self.rng;
                packet::udp_frame(buf, &src, &dst, ip, len as usize, |p| {
                    let n = quic::short_header(p, dcid, rng);
                    rng.fill(&mut p[n..]);
                });
            }
        }
    }
}

/// Builds a [`Session`]: DNS, then a TCP or UDP conversation, with timing drawn from `rtt_us`.
#[derive(Debug)]
pub struct Plan {
    s: Session,
    /// Round-trip time to the server in microseconds.
    pub rtt_us: u32,
    /// Bottleneck bandwidth in bytes per millisecond, for segment spacing.
    pub bytes_per_ms: u32,
    mss: u32,
    unacked: u32,
}

impl Plan {
    /// A plan for a conversation between the phone (`client_port` on `client_ip`) and `server`.
    pub fn new(
        ctx: &mut Ctx,
        rng: &mut Rng,
        server: IpAddr,
        server_port: u16,
        rtt_us: u32,
    ) -> Self {
        let lan = &ctx.lan;
        let client_ip: IpAddr = match server {
            IpAddr::V4(_) => lan.phone_v4.into(),
            IpAddr::V6(_) => lan.phone_v6.into(),
        };
        let dns = (
            Peer {
                mac: lan.phone_mac,
                ip: lan.phone_v4.into(),
                port: 0,
            },
            Peer {
                mac: lan.gw_mac,
                ip: lan.gw_v4.into(),
                port: 53,
            },
        );
        let main = (
            Peer {
                mac: lan.phone_mac,
                ip: client_ip,
                port: 0,
            },
            Peer {
                mac: lan.gw_mac,
                ip: server,
                port: server_port,
            },
        );
        let mut p = Self::with_legs(rng, [dns, main], rtt_us);
        p.s.legs[0].0.port = ctx.port();
        p.s.legs[1].0.port = ctx.port();
        p.mss = match server {
            IpAddr::V4(_) => packet::MSS_V4 as u32,
            IpAddr::V6(_) => packet::MSS_V6 as u32,
        };
        p
    }

    /// A plan with explicit endpoints (local multicast noise).
    pub fn with_legs(rng: &mut Rng, legs: [(Peer, Peer); 2], rtt_us: u32) -> Self {
        let mut r = rng.fork();
        let s = Session {
            legs,
            arena: Vec::with_capacity(2048),
            streams: Default::default(),
            steps: Vec::with_capacity(64),
            cursor: 0,
            seq: [r.next_u64() as u32, r.next_u64() as u32],
            tsval: [r.next_u64() as u32 >> 4, r.next_u64() as u32 >> 4],
            ipid: [r.next_u64() as u16, r.next_u64() as u16],
            flow_label: r.next_u64() as u32 & 0xf_ffff,
            server_ttl: *r.pick(&[52u8, 54, 55, 56, 116, 118, 247]),
            rng: r,
        };
        Self {
            s,
            rtt_us,
            bytes_per_ms: 4_000,
            mss: packet::MSS_V4 as u32,
            unacked: 0,
        }
    }

    /// The planner's own random source (forked from the caller's).
    pub fn rng(&mut self) -> &mut Rng {
        &mut self.s.rng
    }

    /// Copies bytes into the arena and returns them as a stream chunk.
    pub fn lit(&mut self, bytes: &[u8]) -> Chunk {
        let at = self.s.arena.len() as u32;
        self.s.arena.extend_from_slice(bytes);
        Chunk::Lit(at, bytes.len() as u32)
    }

    /// Lets `f` append to the arena and returns what it appended as a chunk.
    pub fn lit_with(&mut self, f: impl FnOnce(&mut Vec<u8>, &mut Rng)) -> Chunk {
        let at = self.s.arena.len();
        f(&mut self.s.arena, &mut self.s.rng);
        Chunk::Lit(at as u32, (self.s.arena.len() - at) as u32)
    }

    fn push(&mut self, dt: u32, leg: u8, from_client: bool, l4: L4) {
        self.s.steps.push(Step {
            dt,
            leg,
            from_client,
            l4,
        });
    }

    fn jitter(&mut self, us: u32) -> u32 {
        let j = us / 8 + 1;
        us - j / 2 + self.s.rng.range32(0, j)
    }

    /// A datagram on `leg`, `dt` microseconds after the previous packet.
    pub fn datagram(
        &mut self,
        leg: u8,
        from_client: bool,
        dt: u32,
        f: impl FnOnce(&mut Vec<u8>, &mut Rng),
    ) {
        let Chunk::Lit(at, len) = self.lit_with(f) else {
            unreachable!("lit_with returns Lit")
        };
        self.push(dt, leg, from_client, L4::Udp { at, len });
    }

    /// A DNS query for `name` and the resolver's answer one resolver round trip later.
    pub fn dns(&mut self, think_us: u32, name: &str, qtype: u16, answers: &[Answer<'_>]) {
        let id = self.s.rng.next_u64() as u16;
        self.datagram(LEG_DNS, true, think_us, |o, _| {
            dns::query(o, id, name, qtype)
        });
        let rt = self.s.rng.range32(4_000, 45_000);
        let ttl = *self.s.rng.pick(&[60u32, 120, 300, 600, 3600]);
        self.datagram(LEG_DNS, false, rt, |o, _| {
            dns::response(o, id, name, qtype, answers, ttl)
        });
    }

    /// The three-way handshake (RFC 9293 section 3.5).
    pub fn tcp_open(&mut self, think_us: u32) {
        self.push(
            think_us,
            LEG_MAIN,
            true,
            L4::Tcp {
                flags: flags::SYN,
                len: 0,
            },
        );
        let rtt = self.jitter(self.rtt_us);
        self.push(
            rtt,
            LEG_MAIN,
            false,
            L4::Tcp {
                flags: flags::SYN | flags::ACK,
                len: 0,
            },
        );
        let d = self.s.rng.range32(60, 400);
        self.push(
            d,
            LEG_MAIN,
            true,
            L4::Tcp {
                flags: flags::ACK,
                len: 0,
            },
        );
    }

    /// One side sends `chunks` (segmented at the MSS); the receiver ACKs every second full segment.
    /// `wait_us` is the delay before the first byte (think time, or a round trip for a response).
    pub fn turn(&mut self, from_client: bool, wait_us: u32, chunks: Vec<Chunk>) {
        let d = usize::from(!from_client);
        let total: u64 = chunks.iter().map(Chunk::len).sum();
        self.s.streams[d].chunks.extend(chunks);
        let mut left = total;
        let mut first = true;
        self.unacked = 0;
        while left > 0 {
            let n = left.min(u64::from(self.mss)) as u32;
            left -= u64::from(n);
            let dt = if first {
                wait_us
            } else {
                // Serialisation delay at the bottleneck, in microseconds.
                let us = (u64::from(n) * 1000 / u64::from(self.bytes_per_ms.max(1))) as u32;
                self.jitter(us.max(12))
            };
            first = false;
            let fl = if left == 0 {
                flags::ACK | flags::PSH
            } else {
                flags::ACK
            };
            self.push(dt, LEG_MAIN, from_client, L4::Tcp { flags: fl, len: n });
            self.unacked += 1;
            if self.unacked == 2 && left > 0 {
                self.unacked = 0;
                let a = self.s.rng.range32(20, 200);
                self.push(
                    a,
                    LEG_MAIN,
                    !from_client,
                    L4::Tcp {
                        flags: flags::ACK,
                        len: 0,
                    },
                );
            }
        }
        if !from_client && self.unacked > 0 {
            // The phone's delayed ACK of the tail of a response (RFC 9293 section 3.8.6.3).
            let a = self.s.rng.range32(200, 40_000);
            self.push(
                a,
                LEG_MAIN,
                true,
                L4::Tcp {
                    flags: flags::ACK,
                    len: 0,
                },
            );
            self.unacked = 0;
        }
    }

    /// Orderly close started by the phone: FIN, FIN, ACK.
    pub fn tcp_close(&mut self, idle_us: u32) {
        self.push(
            idle_us,
            LEG_MAIN,
            true,
            L4::Tcp {
                flags: flags::FIN | flags::ACK,
                len: 0,
            },
        );
        let rtt = self.jitter(self.rtt_us);
        self.push(
            rtt,
            LEG_MAIN,
            false,
            L4::Tcp {
                flags: flags::FIN | flags::ACK,
                len: 0,
            },
        );
        let d = self.s.rng.range32(40, 300);
        self.push(
            d,
            LEG_MAIN,
            true,
            L4::Tcp {
                flags: flags::ACK,
                len: 0,
            },
        );
    }

    /// A QUIC short-header packet of `len` UDP payload bytes to the connection ID stored at `dcid`.
    pub fn short(&mut self, from_client: bool, dt: u32, dcid: (u32, u8), len: u32) {
        self.push(
            dt,
            LEG_MAIN,
            from_client,
            L4::Short {
                dcid_at: dcid.0,
                dcid_len: dcid.1,
                len,
            },
        );
    }

    /// Stores a connection ID in the arena for [`Plan::short`].
    pub fn cid(&mut self, cid: &[u8]) -> (u32, u8) {
        let Chunk::Lit(at, len) = self.lit(cid) else {
            unreachable!("lit returns Lit")
        };
        (at, len as u8)
    }

    /// The finished session.
    pub fn build(self) -> Session {
        self.s
    }
}

/// One request/response on an established connection: request and response sizes in bytes.
#[derive(Clone, Copy, Debug)]
pub struct Exchange {
    /// Bytes the phone sends.
    pub up: u32,
    /// Bytes the server sends back.
    pub down: u32,
    /// Think time before the request, microseconds.
    pub think_us: u32,
}

fn answers_for(cname: Option<&str>, ip: IpAddr) -> Vec<Answer<'_>> {
    let mut v = Vec::with_capacity(2);
    if let Some(c) = cname {
        v.push(Answer::Cname(c));
    }
    v.push(match ip {
        IpAddr::V4(a) => Answer::A(a),
        IpAddr::V6(a) => Answer::Aaaa(a),
    });
    v
}

/// DNS lookup of `host` resolving to `ip` (through `cname` if any), asking A or AAAA as the address.
pub fn lookup(p: &mut Plan, think_us: u32, host: &str, cname: Option<&str>, ip: IpAddr) {
    let qtype = if ip.is_ipv4() {
        dns::TYPE_A
    } else {
        dns::TYPE_AAAA
    };
    p.dns(think_us, host, qtype, &answers_for(cname, ip));
}

/// Splits `n` bytes of response payload into TLS records: a small HEADERS-sized one, then full records.
fn records(p: &mut Plan, n: u32, out: &mut Vec<Chunk>) {
    let head = p.rng().range32(40, 400).min(n.max(1));
    out.push(Chunk::Record(tls::CT_APPDATA, head + 17));
    let mut left = n.saturating_sub(head);
    while left > 0 {
        let r = left.min(tls::MAX_RECORD as u32 - 17);
        out.push(Chunk::Record(tls::CT_APPDATA, r + 17));
        left -= r;
    }
}

/// A TLS 1.3 connection over TCP to `sni` carrying `exchanges` (sizes are application bytes).
pub fn tls_session(p: &mut Plan, ctx: &mut Ctx, sni: &str, exchanges: &[Exchange]) {
    let t = p.rng().range32(300, 3_000);
    p.tcp_open(t);
    let hello = ctx.hello(Carrier::Tcp, sni);
    let ch = p.lit_with(|o, r| hello.instantiate(o, r));
    let t = p.rng().range32(100, 600);
    p.turn(true, t, vec![ch.clone()]);
    // Echo the legacy session id (RFC 8446 section 4.1.3).
    let Chunk::Lit(at, len) = ch else {
        unreachable!("lit_with returns Lit")
    };
    let sid = tls::session_id_of(&p.s.arena[at as usize..(at + len) as usize]).map(<[u8]>::to_vec);
    let sh = p.lit_with(|o, r| tls::server_hello(o, true, sid.as_deref(), r));
    let ccs = p.lit(&[tls::CT_CCS, 3, 3, 0, 1, 1]);
    // EncryptedExtensions + Certificate + CertificateVerify + Finished: one or two records.
    let cert = p.rng().range32(2_400, 5_200);
    let flight = vec![sh, ccs.clone(), Chunk::Record(tls::CT_APPDATA, cert)];
    let rtt = p.rtt_us + p.rng().range32(500, 4_000);
    p.turn(false, rtt, flight);
    let mut first = true;
    for ex in exchanges {
        let mut up = Vec::with_capacity(3);
        if first {
            up.push(ccs.clone());
            up.push(Chunk::Record(tls::CT_APPDATA, 53)); // Finished: 32 + 4 + 1 + 16
        }
        up.push(Chunk::Record(tls::CT_APPDATA, ex.up.max(24) + 17));
        let t = if first {
            p.rng().range32(200, 1_500)
        } else {
            ex.think_us
        };
        p.turn(true, t, up);
        let mut down = Vec::with_capacity(2 + ex.down as usize / 16_000);
        if first {
            // NewSessionTicket records arrive with the first response.
            down.push(Chunk::Record(tls::CT_APPDATA, p.rng().range32(230, 260)));
        }
        records(p, ex.down, &mut down);
        let wait = p.rtt_us + p.rng().range32(1_000, 60_000);
        p.turn(false, wait, down);
        first = false;
    }
    let t = p.rng().range32(50_000, 4_000_000);
    p.tcp_close(t);
}

/// A QUIC v1 connection to `sni` with a real Initial exchange, opaque Handshake packets, then 1-RTT
/// traffic of realistic sizes.
pub fn quic_session(p: &mut Plan, ctx: &mut Ctx, sni: &str, exchanges: &[Exchange]) {
    let hello = ctx.hello(Carrier::Quic, sni);
    let dcid: [u8; 8] = p.rng().bytes();
    let server_cid: [u8; 8] = p.rng().bytes();
    let mut ch = Vec::with_capacity(600);
    hello.instantiate(&mut ch, p.rng());
    // Chrome's SCID is empty: server-to-client short headers then carry no DCID at all.
    let t = p.rng().range32(300, 3_000);
    p.datagram(LEG_MAIN, true, t, |o, _| {
        quic::client_initial(o, &dcid, &[], &ch)
    });
    let mut sh = Vec::with_capacity(100);
    tls::server_hello(&mut sh, false, None, p.rng());
    let rtt = p.rtt_us + p.rng().range32(300, 3_000);
    let hs1 = p.rng().range32(900, 1_050) as usize;
    p.datagram(LEG_MAIN, false, rtt, |o, r| {
        quic::server_initial(o, &dcid, &[], &server_cid, &sh);
        quic::opaque_handshake(o, &[], &server_cid, hs1, r);
    });
    let hs2 = p.rng().range32(700, 1_230) as usize;
    let d = p.rng().range32(30, 400);
    p.datagram(LEG_MAIN, false, d, |o, r| {
        quic::opaque_handshake(o, &[], &server_cid, hs2, r)
    });
    let d = p.rng().range32(300, 2_000);
    p.datagram(LEG_MAIN, true, d, |o, r| {
        quic::opaque_handshake(o, &server_cid, &[], 74, r)
    });
    let to_server = p.cid(&server_cid);
    let to_client = p.cid(&[]);
    for (i, ex) in exchanges.iter().enumerate() {
        let think = if i == 0 {
            p.rng().range32(100, 900)
        } else {
            ex.think_us
        };
        let mut up = ex.up.max(30);
        let mut first = true;
        while up > 0 {
            let n = up.min(1_232);
            up -= n;
            p.short(true, if first { think } else { 40 }, to_server, n + 20);
            first = false;
        }
        let mut down = ex.down.max(40);
        let mut first = true;
        let mut since_ack = 0;
        while down > 0 {
            // Google's servers send 1250-byte UDP payloads; the last one is what is left.
            let n = down.min(1_220);
            down -= n;
            let dt = if first {
                p.rtt_us + p.rng().range32(500, 30_000)
            } else {
                let us = (1250 * 1000 / p.bytes_per_ms.max(1)).max(12);
                p.jitter(us)
            };
            first = false;
            p.short(false, dt, to_client, n + 30);
            since_ack += 1;
            if since_ack == 2 || down == 0 {
                since_ack = 0;
                let a = p.rng().range32(30, 400);
                let l = p.rng().range32(33, 48);
                p.short(true, a, to_server, l);
            }
        }
    }
}

/// A request/response pair for [`http_session`], fully rendered.
#[derive(Clone, Debug)]
pub struct HttpExchange {
    /// Request bytes (head and body).
    pub request: Vec<u8>,
    /// Response chunks (head, then the body as literal, shared or random bytes).
    pub response: Vec<HttpBody>,
    /// Think time before the request, microseconds.
    pub think_us: u32,
}

/// Response bytes of an [`HttpExchange`].
#[derive(Clone, Debug)]
pub enum HttpBody {
    /// Bytes specific to this exchange.
    Bytes(Vec<u8>),
    /// A cached body shared by many sessions.
    Shared(Arc<[u8]>),
    /// Random bytes of this length (media).
    Random(u32),
}

/// A plain HTTP/1.1 connection carrying `exchanges`.
pub fn http_session(p: &mut Plan, exchanges: Vec<HttpExchange>) {
    let t = p.rng().range32(300, 3_000);
    p.tcp_open(t);
    for (i, ex) in exchanges.into_iter().enumerate() {
        let req = p.lit(&ex.request);
        let think = if i == 0 {
            p.rng().range32(100, 900)
        } else {
            ex.think_us
        };
        p.turn(true, think, vec![req]);
        let mut down = Vec::with_capacity(ex.response.len());
        for b in ex.response {
            down.push(match b {
                HttpBody::Bytes(v) => p.lit(&v),
                HttpBody::Shared(s) => Chunk::Shared(s),
                HttpBody::Random(n) => Chunk::Random(n),
            });
        }
        let wait = p.rtt_us + p.rng().range32(2_000, 80_000);
        p.turn(false, wait, down);
    }
    let t = p.rng().range32(100_000, 10_000_000);
    p.tcp_close(t);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(v6: bool) -> (Ctx, Plan) {
        let mut rng = Rng::new(11);
        let mut ctx = Ctx::new(Lan::default(), &mut rng);
        let ip: IpAddr = if v6 {
            "2404:6800:4003:c00::5f".parse::<Ipv6Addr>().unwrap().into()
        } else {
            Ipv4Addr::new(142, 250, 4, 95).into()
        };
        let p = Plan::new(&mut ctx, &mut rng, ip, 443, 30_000);
        (ctx, p)
    }

    /// Renders every packet and returns the TCP payload bytes each direction sent, in order.
    fn render_streams(mut s: Session) -> [Vec<u8>; 2] {
        let mut buf = Vec::new();
        let mut out = [Vec::new(), Vec::new()];
        let mut now = 1_700_000_000_000_000u64;
        while let Some(dt) = s.next_delay() {
            now += dt;
            s.render(&mut buf, now);
            let v6 = buf[12..14] == [0x86, 0xdd];
            let ip_len = if v6 { 40 } else { 20 };
            let proto = if v6 { buf[20] } else { buf[23] };
            if proto != 6 {
                continue;
            }
            let t = &buf[14 + ip_len..];
            let off = usize::from(t[12] >> 4) * 4;
            let from_client = u16::from_be_bytes([t[2], t[3]]) == 443;
            let dir = usize::from(!from_client);
            out[dir].extend_from_slice(&t[off..]);
            assert!(t.len() - off <= packet::MSS_V4);
        }
        out
    }

    /// Walks TLS records through a byte stream; every header must land where the previous record ends.
    fn record_lengths(stream: &[u8]) -> Vec<(u8, usize)> {
        let mut v = Vec::new();
        let mut i = 0;
        while i < stream.len() {
            let len = usize::from(u16::from_be_bytes([stream[i + 3], stream[i + 4]]));
            assert!(
                [20, 22, 23].contains(&stream[i]),
                "content type at {i}: {}",
                stream[i]
            );
            assert_eq!(stream[i + 1], 3, "record version major at {i}");
            v.push((stream[i], len));
            i += 5 + len;
        }
        assert_eq!(i, stream.len(), "stream ends on a record boundary");
        v
    }

    #[test]
    fn tls_streams_are_whole_records_across_segments() {
        for v6 in [false, true] {
            let (mut ctx, mut p) = plan(v6);
            let ex = [
                Exchange {
                    up: 300,
                    down: 70_000,
                    think_us: 1000,
                },
                Exchange {
                    up: 2_000,
                    down: 100,
                    think_us: 1000,
                },
            ];
            tls_session(&mut p, &mut ctx, "gd2.line.naver.jp", &ex);
            let [up, down] = render_streams(p.build());
            let u = record_lengths(&up);
            let d = record_lengths(&down);
            assert_eq!(u[0].0, 22);
            assert_eq!(d[0].0, 22);
            assert!(d.iter().all(|(_, l)| *l <= tls::MAX_RECORD));
            let app_down: usize = d.iter().filter(|r| r.0 == 23).map(|r| r.1).sum();
            assert!(app_down > 70_000);
        }
    }

    #[test]
    fn tcp_sequence_numbers_follow_bytes_sent() {
        let (_, mut p) = plan(false);
        p.tcp_open(10);
        let a = p.lit(&[1u8; 3000]);
        p.turn(true, 10, vec![a]);
        p.tcp_close(10);
        let mut s = p.build();
        let mut buf = Vec::new();
        let mut seqs = Vec::new();
        while s.next_delay().is_some() {
            s.render(&mut buf, 0);
            let t = &buf[34..];
            seqs.push((
                u32::from_be_bytes(t[4..8].try_into().unwrap()),
                u32::from_be_bytes(t[8..12].try_into().unwrap()),
                t[13],
                buf.len() - 34 - usize::from(t[12] >> 4) * 4,
            ));
        }
        let isn_c = seqs[0].0;
        let isn_s = seqs[1].0;
        assert_eq!(seqs[1].1, isn_c.wrapping_add(1), "SYN-ACK acks the SYN");
        let fin = seqs.iter().find(|x| x.2 & flags::FIN != 0).unwrap();
        assert_eq!(fin.0, isn_c.wrapping_add(1 + 3000));
        let last = seqs.last().unwrap();
        assert_eq!(
            last.1,
            isn_s.wrapping_add(2),
            "final ACK covers SYN and FIN"
        );
    }
}

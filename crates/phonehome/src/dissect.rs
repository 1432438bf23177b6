//! Per-flow application dissection: decides what a flow speaks from its first bytes (never
//! from its port alone) and drives the matching sans-IO parsers.

use phonehome_app::{dns, http, quic, tls};
use phonehome_capture::Timestamp;
use phonehome_flow::Side;

use crate::records::{DnsRecord, FlowInfo, HttpRecord, Sink};

/// Where an event happened, for the records it produces.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Ctx {
    pub(crate) ts: Timestamp,
    pub(crate) input: usize,
    pub(crate) frame: u64,
    pub(crate) flow: u64,
    /// Ports of sides A and B.
    pub(crate) ports: [u16; 2],
}

impl Ctx {
    fn any_port(&self, ports: &[u16]) -> bool {
        self.ports.iter().any(|p| ports.contains(p))
    }
}

/// Ports where DNS is expected (DNS, mDNS, LLMNR).
const DNS_PORTS: &[u16] = &[53, 5353, 5355];

/// Bytes kept while the first bytes of a stream are too few to decide its protocol.
const PENDING_MAX: usize = 16;
/// UDP datagrams looked at before a flow is declared opaque.
const UDP_TRIES: u8 = 8;

/// What one TCP flow speaks, with its parsers.
#[derive(Debug, Default)]
pub(crate) enum TcpApp {
    #[default]
    Pending,
    /// The first bytes were too few to decide (kept, per side).
    Short(Box<[Vec<u8>; 2]>),
    Tls(Box<[tls::Parser; 2]>),
    Http(Box<HttpConn>),
    Dns(Box<[dns::TcpFramer; 2]>),
    Opaque,
}

#[derive(Debug)]
pub(crate) struct HttpConn {
    client: Side,
    request: http::Parser,
    response: http::Parser,
    scratch: Vec<http::Message>,
}

impl TcpApp {
    /// Whether the parsers want no more bytes of this flow (reassembly can stop).
    pub(crate) fn finished(&self) -> bool {
        match self {
            Self::Opaque => true,
            Self::Tls(p) => p[0].done() && p[1].done(),
            _ => false,
        }
    }

    pub(crate) fn data(
        &mut self,
        side: Side,
        bytes: &[u8],
        ctx: &Ctx,
        info: &mut FlowInfo,
        sink: &mut Sink,
    ) {
        if bytes.is_empty() {
            return;
        }
        info.has_payload = true;
        if let Self::Pending | Self::Short(_) = self {
            let mut pending = match std::mem::take(self) {
                Self::Short(p) => p,
                _ => Box::default(),
            };
            let buf = &mut pending[side.index()];
            if buf.is_empty() && bytes.len() >= PENDING_MAX {
                self.decide(side, bytes, ctx, info);
                self.feed(side, bytes, ctx, info, sink);
                return;
            }
            buf.extend_from_slice(&bytes[..bytes.len().min(PENDING_MAX * 4)]);
            if buf.len() < PENDING_MAX {
                *self = Self::Short(pending);
                return;
            }
            let first = std::mem::take(buf);
            self.decide(side, &first, ctx, info);
            self.feed(side, &first, ctx, info, sink);
            return;
        }
        self.feed(side, bytes, ctx, info, sink);
    }

    /// Chooses the protocol from the first bytes a side sent.
    fn decide(&mut self, side: Side, first: &[u8], ctx: &Ctx, info: &mut FlowInfo) {
        *self = if tls::looks_like_tls(first) {
            info.app_proto = Some("tls");
            Self::Tls(Box::new([tls::Parser::new(), tls::Parser::new()]))
        } else if http::looks_like_request(first) {
            info.app_proto = Some("http");
            Self::Http(Box::new(HttpConn::new(side)))
        } else if http::looks_like_response(first) {
            info.app_proto = Some("http");
            Self::Http(Box::new(HttpConn::new(side.other())))
        } else if ctx.any_port(DNS_PORTS) {
            info.app_proto = Some("dns");
            Self::Dns(Box::new([dns::TcpFramer::new(), dns::TcpFramer::new()]))
        } else {
            Self::Opaque
        };
    }

    fn feed(&mut self, side: Side, bytes: &[u8], ctx: &Ctx, info: &mut FlowInfo, sink: &mut Sink) {
        match self {
            Self::Tls(parsers) => {
                let mut events = std::mem::take(&mut sink.tls_events);
                parsers[side.index()].push(bytes, &mut events);
                for event in events.drain(..) {
                    info.tls_event(side, event, sink);
                }
                sink.tls_events = events;
            }
            Self::Http(conn) => conn.data(side, bytes, ctx, info, sink),
            Self::Dns(framers) => {
                framers[side.index()].push(bytes, |raw| match dns::parse(raw) {
                    Ok(msg) => dns_message(side, &msg, ctx, info, sink),
                    Err(_) => sink.counters.dns_malformed += 1,
                });
            }
            Self::Opaque => info.keep_head(side, bytes),
            Self::Pending | Self::Short(_) => {}
        }
    }

    pub(crate) fn gap(&mut self, side: Side, len: u64) {
        match self {
            Self::Tls(parsers) => parsers[side.index()].gap(len),
            Self::Http(conn) => conn.parser(side).gap(len),
            Self::Dns(framers) => framers[side.index()].gap(len),
            Self::Short(_) | Self::Pending => *self = Self::Opaque,
            Self::Opaque => {}
        }
    }

    /// The end of one direction (FIN, RST or the flow's end).
    pub(crate) fn end(&mut self, side: Side, ctx: &Ctx, info: &mut FlowInfo, sink: &mut Sink) {
        match self {
            Self::Http(conn) => conn.finish(side, ctx, info, sink),
            Self::Short(pending) => {
                let first = std::mem::take(&mut pending[side.index()]);
                if !first.is_empty() {
                    self.decide(side, &first, ctx, info);
                    self.feed(side, &first, ctx, info, sink);
                }
            }
            _ => {}
        }
    }
}

impl HttpConn {
    fn new(client: Side) -> Self {
        Self {
            client,
            request: http::Parser::new(http::Direction::Request, http::Limits::default()),
            response: http::Parser::new(http::Direction::Response, http::Limits::default()),
            scratch: Vec::new(),
        }
    }

    fn parser(&mut self, side: Side) -> &mut http::Parser {
        if side == self.client {
            &mut self.request
        } else {
            &mut self.response
        }
    }

    fn data(&mut self, side: Side, bytes: &[u8], ctx: &Ctx, info: &mut FlowInfo, sink: &mut Sink) {
        let mut msgs = std::mem::take(&mut self.scratch);
        self.parser(side).push(bytes, &mut msgs);
        self.emit(side, &mut msgs, ctx, info, sink);
        self.scratch = msgs;
    }

    fn finish(&mut self, side: Side, ctx: &Ctx, info: &mut FlowInfo, sink: &mut Sink) {
        let mut msgs = std::mem::take(&mut self.scratch);
        self.parser(side).finish(&mut msgs);
        self.emit(side, &mut msgs, ctx, info, sink);
        self.scratch = msgs;
    }

    fn emit(
        &mut self,
        side: Side,
        msgs: &mut Vec<http::Message>,
        ctx: &Ctx,
        info: &mut FlowInfo,
        sink: &mut Sink,
    ) {
        for msg in msgs.drain(..) {
            if side == self.client {
                info.app_client = Some(side);
                if let http::Kind::Request { method, .. } = &msg.kind {
                    self.response.expect_response(method);
                }
            }
            sink.http.push(HttpRecord::new(ctx, &msg, info));
        }
    }
}

/// What one UDP flow speaks.
#[derive(Debug, Default)]
pub(crate) enum UdpApp {
    #[default]
    Pending,
    Undecided(u8),
    Dns,
    Quic(Box<QuicConn>),
    Http,
    Opaque,
}

#[derive(Debug)]
pub(crate) struct QuicConn {
    client: Side,
    parser: quic::Parser,
}

impl UdpApp {
    pub(crate) fn datagram(
        &mut self,
        side: Side,
        payload: &[u8],
        ctx: &Ctx,
        info: &mut FlowInfo,
        sink: &mut Sink,
    ) {
        if payload.is_empty() {
            return;
        }
        info.has_payload = true;
        if let Self::Pending | Self::Undecided(_) = self {
            let tries = match self {
                Self::Undecided(n) => *n,
                _ => 0,
            };
            *self = if ctx.any_port(DNS_PORTS) {
                info.app_proto = Some("dns");
                Self::Dns
            } else if quic::looks_like_quic_initial(payload) {
                info.app_proto = Some("quic");
                Self::Quic(Box::new(QuicConn {
                    client: side,
                    parser: quic::Parser::new(),
                }))
            } else if http::looks_like_request(payload) || http::looks_like_response(payload) {
                info.app_proto = Some("http");
                Self::Http
            } else if tries + 1 >= UDP_TRIES {
                Self::Opaque
            } else {
                Self::Undecided(tries + 1)
            };
        }
        match self {
            Self::Dns => match dns::parse(payload) {
                Ok(msg) => dns_message(side, &msg, ctx, info, sink),
                Err(_) => sink.counters.dns_malformed += 1,
            },
            Self::Quic(conn) => {
                let mut events = std::mem::take(&mut sink.quic_events);
                conn.parser
                    .datagram(payload, side == conn.client, &mut events);
                info.app_client = Some(conn.client);
                for event in events.drain(..) {
                    info.quic_event(event, sink);
                }
                sink.quic_events = events;
            }
            Self::Http => {
                if let Some(msg) = http::parse_datagram(payload) {
                    if matches!(msg.kind, http::Kind::Request { .. }) {
                        info.app_client = Some(side);
                    }
                    sink.http.push(HttpRecord::new(ctx, &msg, info));
                }
            }
            Self::Undecided(_) | Self::Opaque => info.keep_head(side, payload),
            Self::Pending => {}
        }
    }
}

fn dns_message(side: Side, msg: &dns::Message, ctx: &Ctx, info: &mut FlowInfo, sink: &mut Sink) {
    if !msg.response {
        info.app_client = Some(side);
    }
    if msg.malformed.is_some() {
        sink.counters.dns_malformed += 1;
    }
    sink.counters.dns_messages += 1;
    sink.dns.push(DnsRecord::new(ctx, msg));
}

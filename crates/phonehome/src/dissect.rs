//! Per-flow application dissection: decides what a flow speaks from its first bytes (never
//! from its port alone) and drives the matching sans-IO parsers.

use phonehome_app::keylog::KeyLog;
use phonehome_app::quic::onertt;
use phonehome_app::tls::decrypt as tls_decrypt;
use phonehome_app::{dns, http, http2, http3, quic, tls};
use phonehome_capture::Timestamp;
use phonehome_flow::Side;

use crate::records::{DnsRecord, FlowInfo, HttpRecord, Sink};

/// Where an event happened, for the records it produces.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Ctx<'a> {
    pub(crate) ts: Timestamp,
    pub(crate) input: usize,
    pub(crate) frame: u64,
    pub(crate) flow: u64,
    /// Ports of sides A and B.
    pub(crate) ports: [u16; 2],
    /// Session keys, when the user gave key logs.
    pub(crate) keys: &'a KeyLog,
    /// Keep HTTP bodies in the records (`--http-bodies`).
    pub(crate) http_bodies: bool,
    /// The side taken for the client when the packet came (it can still change with
    /// application evidence): the direction of findings in unparsed streams.
    pub(crate) client: Side,
}

impl Ctx<'_> {
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

/// Decrypted bytes a server may send before the client's first request.
const EARLY_SERVER_BYTES: usize = 64 << 10;

/// What one TCP flow speaks, with its parsers.
#[derive(Debug, Default)]
pub(crate) enum TcpApp {
    #[default]
    Pending,
    /// The first bytes were too few to decide (kept, per side).
    Short(Box<[Vec<u8>; 2]>),
    Tls(Box<TlsConn>),
    Http(Box<HttpConn>),
    /// HTTP/2 with prior knowledge (h2c: the client preface in clear).
    H2(Box<H2Conn>),
    Dns(Box<[dns::TcpFramer; 2]>),
    Opaque,
}

/// An HTTP/2 connection over one stream pair (cleartext, or decrypted TLS).
#[derive(Debug)]
pub(crate) struct H2Conn {
    client: Side,
    conn: http2::Connection,
    scratch: Vec<http::Message>,
}

impl H2Conn {
    pub(crate) fn new(client: Side) -> Self {
        Self {
            client,
            conn: http2::Connection::new(http2::Limits::default()),
            scratch: Vec::new(),
        }
    }

    fn direction(&self, side: Side) -> http::Direction {
        if side == self.client {
            http::Direction::Request
        } else {
            http::Direction::Response
        }
    }

    pub(crate) fn data(
        &mut self,
        side: Side,
        bytes: &[u8],
        ctx: &Ctx<'_>,
        info: &mut FlowInfo,
        sink: &mut Sink,
        decrypted: bool,
    ) {
        let dir = self.direction(side);
        self.conn.push(dir, bytes, &mut self.scratch);
        self.emit(ctx, info, sink, decrypted);
    }

    pub(crate) fn gap(
        &mut self,
        side: Side,
        len: u64,
        ctx: &Ctx<'_>,
        info: &mut FlowInfo,
        sink: &mut Sink,
        decrypted: bool,
    ) {
        let dir = self.direction(side);
        self.conn.gap(dir, len, &mut self.scratch);
        self.emit(ctx, info, sink, decrypted);
    }

    pub(crate) fn finish(
        &mut self,
        ctx: &Ctx<'_>,
        info: &mut FlowInfo,
        sink: &mut Sink,
        decrypted: bool,
    ) {
        self.conn.finish(&mut self.scratch);
        self.emit(ctx, info, sink, decrypted);
    }

    fn emit(&mut self, ctx: &Ctx<'_>, info: &mut FlowInfo, sink: &mut Sink, decrypted: bool) {
        for msg in self.scratch.drain(..) {
            let mut record = HttpRecord::new(ctx, &msg, info);
            record.transport = "h2";
            record.decrypted = decrypted;
            sink.push_http(ctx, &msg, record);
        }
    }
}

#[derive(Debug)]
pub(crate) struct HttpConn {
    client: Side,
    /// Read through TLS decryption.
    decrypted: bool,
    request: http::Parser,
    response: http::Parser,
    scratch: Vec<http::Message>,
}

impl TcpApp {
    /// Whether the parsers want no more bytes of this flow (reassembly can stop). With a
    /// profile, unparsed streams are still searched, so they are read to the end.
    pub(crate) fn finished(&self, detecting: bool) -> bool {
        match self {
            Self::Opaque => !detecting,
            Self::Tls(t) => {
                t.parsers[0].done()
                    && t.parsers[1].done()
                    && t.decrypt.as_ref().is_none_or(|d| d.dec.done())
            }
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
            Self::Tls(Box::new(TlsConn::new(!ctx.keys.is_empty())))
        } else if http2::looks_like_preface(first) {
            info.app_proto = Some("http2");
            info.app_client = Some(side);
            Self::H2(Box::new(H2Conn::new(side)))
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
            Self::Tls(conn) => conn.data(side, bytes, ctx, info, sink),
            Self::Http(conn) => conn.data(side, bytes, ctx, info, sink),
            Self::H2(conn) => conn.data(side, bytes, ctx, info, sink, false),
            Self::Dns(framers) => {
                framers[side.index()].push(bytes, |raw| match dns::parse(raw) {
                    Ok(msg) => dns_message(side, &msg, ctx, info, sink),
                    Err(_) => sink.counters.dns_malformed += 1,
                });
            }
            Self::Opaque => {
                info.keep_head(side, bytes);
                // Cleartext no parser understood (a push protocol, a custom RPC) is still
                // searched for the profile's values, as a stream.
                sink.scan_stream(ctx, info, side, bytes, "tcp");
            }
            Self::Pending | Self::Short(_) => {}
        }
    }

    pub(crate) fn gap(
        &mut self,
        side: Side,
        len: u64,
        ctx: &Ctx<'_>,
        info: &mut FlowInfo,
        sink: &mut Sink,
    ) {
        match self {
            Self::H2(conn) => conn.gap(side, len, ctx, info, sink, false),
            Self::Tls(conn) => conn.gap(side, len, ctx, info, sink),
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
            // HTTP/2 streams span both directions: they end with the flow (`close`).
            Self::H2(_) => {}
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

/// A TLS connection: the handshake parsers of both sides and, with key logs, the record
/// decryptor feeding the protocol inside.
#[derive(Debug)]
pub(crate) struct TlsConn {
    parsers: [tls::Parser; 2],
    decrypt: Option<Box<TlsDecrypt>>,
}

#[derive(Debug)]
struct TlsDecrypt {
    dec: tls_decrypt::Decryptor,
    events: Vec<tls_decrypt::Event>,
    /// The side that sent the ClientHello.
    client: Option<Side>,
    /// The protocol inside, decided by the first plaintext (and the negotiated ALPN).
    inner: Inner,
}

#[derive(Debug)]
enum Inner {
    /// Nothing decided yet; what the server said before the client spoke is kept (a TLS 1.3
    /// server sends its HTTP/2 SETTINGS first, and its ALPN answer is encrypted).
    Pending(Vec<u8>),
    Http(Box<HttpConn>),
    H2(Box<H2Conn>),
    Opaque,
}

impl TlsConn {
    fn new(with_keys: bool) -> Self {
        Self {
            parsers: [tls::Parser::new(), tls::Parser::new()],
            decrypt: with_keys.then(|| {
                Box::new(TlsDecrypt {
                    dec: tls_decrypt::Decryptor::new(),
                    events: Vec::new(),
                    client: None,
                    inner: Inner::Pending(Vec::new()),
                })
            }),
        }
    }

    fn data(
        &mut self,
        side: Side,
        bytes: &[u8],
        ctx: &Ctx<'_>,
        info: &mut FlowInfo,
        sink: &mut Sink,
    ) {
        let mut events = std::mem::take(&mut sink.tls_events);
        self.parsers[side.index()].push(bytes, &mut events);
        for event in events.drain(..) {
            if let (tls::Event::ClientHello(_), Some(d)) = (&event, self.decrypt.as_mut()) {
                d.client.get_or_insert(side);
            }
            info.tls_event(side, event, sink);
        }
        sink.tls_events = events;
        if let Some(d) = self.decrypt.as_mut() {
            // Without the ClientHello there is no client random to find keys by.
            let Some(client) = d.client else { return };
            let dir = if side == client {
                tls_decrypt::Direction::ClientToServer
            } else {
                tls_decrypt::Direction::ServerToClient
            };
            d.dec.push(dir, bytes, ctx.keys, &mut d.events);
            d.drain(ctx, info, sink);
        }
    }

    fn gap(&mut self, side: Side, len: u64, ctx: &Ctx<'_>, info: &mut FlowInfo, sink: &mut Sink) {
        self.parsers[side.index()].gap(len);
        if let Some(d) = self.decrypt.as_mut() {
            let Some(client) = d.client else { return };
            let dir = if side == client {
                tls_decrypt::Direction::ClientToServer
            } else {
                tls_decrypt::Direction::ServerToClient
            };
            d.dec.gap(dir, len, &mut d.events);
            d.drain(ctx, info, sink);
        }
    }

    fn close(&mut self, ctx: &Ctx<'_>, info: &mut FlowInfo, sink: &mut Sink) {
        let Some(d) = self.decrypt.as_mut() else {
            return;
        };
        d.dec.finish(&mut d.events);
        d.drain(ctx, info, sink);
        if let Some(client) = d.client {
            match &mut d.inner {
                Inner::Http(conn) => {
                    conn.finish(client, ctx, info, sink);
                    conn.finish(client.other(), ctx, info, sink);
                }
                Inner::H2(conn) => conn.finish(ctx, info, sink, true),
                Inner::Pending(_) | Inner::Opaque => {}
            }
        }
        let status = d.dec.status();
        info.decryption = Some(match (status.decrypted, status.reason) {
            (true, _) => Decryption::Decrypted,
            (false, Some(tls_decrypt::Reason::NoKey)) => Decryption::NoKey,
            (
                false,
                Some(
                    r @ (tls_decrypt::Reason::UnsupportedSuite(_)
                    | tls_decrypt::Reason::UnsupportedVersion(_)),
                ),
            ) => Decryption::Unsupported(r.to_string()),
            (false, Some(r)) => Decryption::Failed(r.to_string()),
            (false, None) => Decryption::Failed("no application data seen".into()),
        });
    }
}

impl TlsDecrypt {
    fn drain(&mut self, ctx: &Ctx<'_>, info: &mut FlowInfo, sink: &mut Sink) {
        let Some(client) = self.client else {
            self.events.clear();
            return;
        };
        for event in std::mem::take(&mut self.events) {
            let side_of = |dir: tls_decrypt::Direction| match dir {
                tls_decrypt::Direction::ClientToServer => client,
                tls_decrypt::Direction::ServerToClient => client.other(),
            };
            match event {
                tls_decrypt::Event::Data(d) => {
                    let side = side_of(d.direction);
                    self.plaintext(side, client, &d.bytes, ctx, info, sink);
                }
                tls_decrypt::Event::Certificates { direction, chain } => {
                    info.tls_event(side_of(direction), tls::Event::Certificates(chain), sink);
                }
                tls_decrypt::Event::Alert {
                    direction,
                    level,
                    description,
                } => info.tls_event(
                    side_of(direction),
                    tls::Event::Alert { level, description },
                    sink,
                ),
                tls_decrypt::Event::Gap { direction, len } => {
                    let side = side_of(direction);
                    match &mut self.inner {
                        Inner::Http(conn) => conn.parser(side).gap(len),
                        Inner::H2(conn) => conn.gap(side, len, ctx, info, sink, true),
                        Inner::Pending(_) | Inner::Opaque => {}
                    }
                }
                _ => {}
            }
        }
    }

    /// Decrypted application data: HTTP/1.x or HTTP/2 inside, by ALPN and first bytes.
    fn plaintext(
        &mut self,
        side: Side,
        client: Side,
        bytes: &[u8],
        ctx: &Ctx<'_>,
        info: &mut FlowInfo,
        sink: &mut Sink,
    ) {
        if bytes.is_empty() {
            return;
        }
        if let Inner::Pending(early) = &mut self.inner {
            if side != client {
                // Bounded: a server that talks first at length is no HTTP server.
                if early.len() + bytes.len() <= EARLY_SERVER_BYTES {
                    early.extend_from_slice(bytes);
                } else {
                    self.inner = Inner::Opaque;
                }
                return;
            }
            let early = std::mem::take(early);
            let alpn_h2 = info
                .server_hello
                .as_ref()
                .and_then(|h| h.alpn.as_deref())
                .is_some_and(|a| a == "h2");
            self.inner = if http2::looks_like_preface(bytes) || alpn_h2 {
                Inner::H2(Box::new(H2Conn::new(client)))
            } else if http::looks_like_request(bytes) {
                let mut conn = HttpConn::new(client);
                conn.decrypted = true;
                Inner::Http(Box::new(conn))
            } else {
                Inner::Opaque
            };
            self.feed(side, bytes, ctx, info, sink);
            if !early.is_empty() {
                self.feed(client.other(), &early, ctx, info, sink);
            }
            return;
        }
        self.feed(side, bytes, ctx, info, sink);
    }

    fn feed(
        &mut self,
        side: Side,
        bytes: &[u8],
        ctx: &Ctx<'_>,
        info: &mut FlowInfo,
        sink: &mut Sink,
    ) {
        match &mut self.inner {
            Inner::Http(conn) => conn.data(side, bytes, ctx, info, sink),
            Inner::H2(conn) => conn.data(side, bytes, ctx, info, sink, true),
            Inner::Pending(_) | Inner::Opaque => {}
        }
    }
}

impl TcpApp {
    /// The end of the flow, after both directions ended.
    pub(crate) fn close(&mut self, ctx: &Ctx<'_>, info: &mut FlowInfo, sink: &mut Sink) {
        match self {
            Self::H2(conn) => conn.finish(ctx, info, sink, false),
            Self::Tls(conn) => conn.close(ctx, info, sink),
            _ => {}
        }
    }
}

impl HttpConn {
    fn new(client: Side) -> Self {
        Self {
            client,
            decrypted: false,
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
            let mut record = HttpRecord::new(ctx, &msg, info);
            record.decrypted = self.decrypted;
            sink.push_http(ctx, &msg, record);
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
    version: Option<u32>,
    /// Set once the key log gave this connection's secrets.
    decryptor: Option<Box<QuicDecrypt>>,
    /// The key log was looked up (found or not) for this connection.
    looked_up: bool,
}

#[derive(Debug)]
struct QuicDecrypt {
    packets: onertt::Decryptor,
    http: http3::Connection,
    events: Vec<onertt::Event>,
    messages: Vec<http::Message>,
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
        info.payload_bytes = info.payload_bytes.saturating_add(payload.len() as u64);
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
                    version: None,
                    decryptor: None,
                    looked_up: false,
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
                let from_client = side == conn.client;
                let mut events = std::mem::take(&mut sink.quic_events);
                conn.parser.datagram(payload, from_client, &mut events);
                info.app_client = Some(conn.client);
                for event in events.drain(..) {
                    if let quic::Event::ClientHello { version, .. } = &event {
                        conn.version.get_or_insert(*version);
                    }
                    info.quic_event(event, sink);
                }
                sink.quic_events = events;
                conn.decrypt(payload, from_client, ctx, info, sink);
            }
            Self::Http => {
                if let Some(msg) = http::parse_datagram(payload) {
                    if matches!(msg.kind, http::Kind::Request { .. }) {
                        info.app_client = Some(side);
                    }
                    let record = HttpRecord::new(ctx, &msg, info);
                    sink.push_http(ctx, &msg, record);
                }
            }
            Self::Undecided(_) | Self::Opaque => {
                info.keep_head(side, payload);
                sink.scan_datagram(ctx, side, payload);
            }
            Self::Pending => {}
        }
    }
}

impl UdpApp {
    /// The end of the flow.
    pub(crate) fn finish(&mut self, ctx: &Ctx<'_>, info: &mut FlowInfo, sink: &mut Sink) {
        if let Self::Quic(conn) = self {
            conn.finish(ctx, info, sink);
        }
    }
}

impl QuicConn {
    /// With the connection's secrets from the key log, decrypts its Handshake and 1-RTT
    /// packets and parses HTTP/3 from its streams (RFC 9001 5, RFC 9114).
    fn decrypt(
        &mut self,
        payload: &[u8],
        from_client: bool,
        ctx: &Ctx<'_>,
        info: &mut FlowInfo,
        sink: &mut Sink,
    ) {
        if self.decryptor.is_none() && !self.looked_up && !ctx.keys.is_empty() {
            let (Some(random), Some(cipher), Some(version)) = (
                self.parser.client_random(),
                self.parser.cipher(),
                self.version,
            ) else {
                return;
            };
            self.looked_up = true;
            let Some(secrets) = ctx.keys.secrets(&random) else {
                info.decryption = Some(Decryption::NoKey);
                return;
            };
            let bytes = |s: &Option<phonehome_app::keylog::Secret>| {
                s.as_ref().map(|s| s.as_bytes().to_vec())
            };
            let (ch, sh, ct, st) = (
                bytes(&secrets.client_handshake_traffic),
                bytes(&secrets.server_handshake_traffic),
                bytes(&secrets.client_traffic_0),
                bytes(&secrets.server_traffic_0),
            );
            let secrets = onertt::Secrets {
                client_handshake: ch.as_deref(),
                server_handshake: sh.as_deref(),
                client_traffic: ct.as_deref(),
                server_traffic: st.as_deref(),
            };
            match onertt::Decryptor::new(version, cipher, &secrets) {
                Some(packets) => {
                    self.decryptor = Some(Box::new(QuicDecrypt {
                        packets,
                        http: http3::Connection::new(http3::Limits::default()),
                        events: Vec::new(),
                        messages: Vec::new(),
                    }));
                    info.decryption = Some(Decryption::Decrypting);
                }
                None => {
                    info.decryption = Some(Decryption::Unsupported(format!(
                        "QUIC version {} with cipher suite {}",
                        quic::version_name(version),
                        tls::cipher_name(cipher)
                    )));
                }
            }
        }
        let Some(d) = self.decryptor.as_mut() else {
            return;
        };
        d.packets.datagram(payload, from_client, &mut d.events);
        d.drain(ctx, info, sink, false);
    }

    /// The end of the flow: streams still open are handed out.
    pub(crate) fn finish(&mut self, ctx: &Ctx<'_>, info: &mut FlowInfo, sink: &mut Sink) {
        if let Some(d) = self.decryptor.as_mut() {
            d.packets.finish(&mut d.events);
            d.drain(ctx, info, sink, true);
            let stats = d.packets.stats();
            if stats.decrypted > 0 {
                info.decryption = Some(Decryption::Decrypted);
            } else if stats.decrypt_failed > 0 {
                info.decryption = Some(Decryption::Failed(format!(
                    "{} QUIC packets failed authentication",
                    stats.decrypt_failed
                )));
            }
        }
    }
}

impl QuicDecrypt {
    fn drain(&mut self, ctx: &Ctx<'_>, info: &mut FlowInfo, sink: &mut Sink, end: bool) {
        for event in self.events.drain(..) {
            if let onertt::Event::Certificates(ders) = &event {
                // TLS 1.3 inside QUIC: the server's chain is only visible decrypted.
                let chain: Vec<tls::Certificate> = ders
                    .iter()
                    .filter_map(|d| tls::parse_certificate(d))
                    .collect();
                if !chain.is_empty() {
                    info.tls_event(Side::B, tls::Event::Certificates(chain), sink);
                }
            }
            self.http.handle(&event, &mut self.messages);
        }
        if end {
            self.http.finish(&mut self.messages);
        }
        for msg in self.messages.drain(..) {
            let mut record = HttpRecord::new(ctx, &msg, info);
            record.transport = "h3";
            record.decrypted = true;
            sink.push_http(ctx, &msg, record);
        }
    }
}

/// Whether a TLS or QUIC flow could be decrypted, and why not.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Decryption {
    /// Keys found, decryption under way.
    Decrypting,
    Decrypted,
    /// The key log has no secrets for this connection.
    NoKey,
    Unsupported(String),
    /// Keys found but authentication failed (wrong keys or damaged data).
    Failed(String),
}

impl Decryption {
    pub(crate) fn reason(&self) -> Option<String> {
        match self {
            Self::Decrypting | Self::Decrypted => None,
            Self::NoKey => Some("no key for this connection in the key logs".into()),
            Self::Unsupported(what) => Some(format!("unsupported: {what}")),
            Self::Failed(what) => Some(what.clone()),
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
    sink.scan_dns(ctx, msg);
    sink.dns.push(DnsRecord::new(ctx, msg));
}

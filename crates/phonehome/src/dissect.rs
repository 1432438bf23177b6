//! Per-flow application dissection: decides what a flow speaks from its first bytes (never
//! from its port alone) and drives the matching sans-IO parsers.

use phonehome_app::keylog::KeyLog;
use phonehome_app::quic::onertt;
use phonehome_app::tls::decrypt as tls_decrypt;
use phonehome_app::{dns, http, http2, http3, quic, tls};
use phonehome_capture::Timestamp;
use phonehome_detect::decode::websocket::Deframer;
use phonehome_detect::findings::Direction;
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
    /// Which way bytes from `side` go, with the client as known now.
    pub(crate) fn direction(&self, side: Side) -> phonehome_detect::findings::Direction {
        if side == self.client {
            phonehome_detect::findings::Direction::ClientToServer
        } else {
            phonehome_detect::findings::Direction::ServerToClient
        }
    }
}

impl Ctx<'_> {
    fn any_port(&self, ports: &[u16]) -> bool {
        self.ports.iter().any(|p| ports.contains(p))
    }
}

/// Ports where DNS is expected (DNS, mDNS, LLMNR).
const DNS_PORTS: &[u16] = &[53, 5353, 5355];
/// The NetBIOS name service: DNS's message format with names of its own (RFC 1002 section
/// 4.2), so its queries parse as DNS; they are not DNS.
const NBNS_PORT: u16 = 137;

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
            sink.push_http(ctx, info, &msg, record);
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
    /// What follows a protocol switch, once one was seen.
    tunnel: Option<Box<Tunnel>>,
    /// Inside another connection's CONNECT tunnel: its own tunnels are not opened as HTTP
    /// again, so that nesting stays bounded.
    nested: bool,
}

/// The bytes after an HTTP/1.1 protocol switch: a 101 Switching Protocols (RFC 9110 sections
/// 7.8 and 15.2.2), or a 2xx to CONNECT (section 9.3.6). They are no HTTP/1 any more; a
/// WebSocket connection (the 101 upgraded to "websocket", RFC 6455 section 4.2.2) is read
/// frame by frame and each message searched like a body; TLS through a proxy's CONNECT tunnel
/// is read like TLS on its own connection (names, fingerprints, and decryption with keys),
/// and HTTP/1 requests through it (`ws://` or `http://` tunnelled by a proxy) like HTTP on its
/// own connection, one level deep; anything else is searched as an unparsed stream.
#[derive(Debug, Default)]
struct Tunnel {
    /// The sides whose bytes from here on are the tunnel's.
    started: [bool; 2],
    /// One deframer per side for WebSocket; none for other protocols.
    ws: Option<Box<[Deframer; 2]>>,
    /// Opened by a 101 (a protocol switch), not by a CONNECT.
    switched: bool,
    /// Whether the tunnel's first bytes were looked at.
    decided: bool,
    /// TLS inside the tunnel.
    tls: Option<Box<TlsConn>>,
    /// HTTP/1 inside the tunnel.
    http: Option<Box<HttpConn>>,
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
                // Decided on these bytes where they are; the other side's few held bytes
                // came before them.
                self.decide(side, bytes, ctx, info);
                let theirs = std::mem::take(&mut pending[side.other().index()]);
                if !theirs.is_empty() {
                    self.feed(side.other(), &theirs, ctx, info, sink);
                }
                self.feed(side, bytes, ctx, info, sink);
                return;
            }
            // Fewer than PENDING_MAX bytes were held, so this holds one chunk more at most.
            buf.extend_from_slice(bytes);
            if buf.len() < PENDING_MAX {
                *self = Self::Short(pending);
                return;
            }
            self.release(side, &mut pending, ctx, info, sink);
            return;
        }
        self.feed(side, bytes, ctx, info, sink);
    }

    /// Decides on the bytes held while too few had come (`side`'s, or the other side's when
    /// `side` has none), then hands every held byte to what was chosen, the other side's
    /// first; with nothing held the flow stays undecided.
    fn release(
        &mut self,
        side: Side,
        pending: &mut [Vec<u8>; 2],
        ctx: &Ctx,
        info: &mut FlowInfo,
        sink: &mut Sink,
    ) {
        let mine = std::mem::take(&mut pending[side.index()]);
        let theirs = std::mem::take(&mut pending[side.other().index()]);
        if !mine.is_empty() {
            self.decide(side, &mine, ctx, info);
        } else if !theirs.is_empty() {
            self.decide(side.other(), &theirs, ctx, info);
        } else {
            *self = Self::Pending;
            return;
        }
        if !theirs.is_empty() {
            self.feed(side.other(), &theirs, ctx, info, sink);
        }
        if !mine.is_empty() {
            self.feed(side, &mine, ctx, info, sink);
        }
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
        } else if ctx.any_port(DNS_PORTS) || tcp_dns_query_by_content(first) {
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
            Self::Http(conn) => conn.gap(side, len, ctx, info, sink),
            Self::Dns(framers) => framers[side.index()].gap(len),
            Self::Short(_) => {
                // What came before the hole is the streams' true beginning: decided on and
                // read, then the hole goes to what was chosen.
                if let Self::Short(mut pending) = std::mem::take(self) {
                    self.release(side, &mut pending, ctx, info, sink);
                }
                if let Self::Pending = self {
                    *self = Self::Opaque;
                }
                self.gap(side, len, ctx, info, sink);
            }
            Self::Pending => *self = Self::Opaque,
            // The stream scanner sees the hole by the offsets jumping: no value is joined
            // across it.
            Self::Opaque => {
                let i = side.index();
                info.scanned[i] = info.scanned[i].saturating_add(len);
            }
        }
    }

    /// The end of one direction (FIN, RST or the flow's end).
    pub(crate) fn end(&mut self, side: Side, ctx: &Ctx, info: &mut FlowInfo, sink: &mut Sink) {
        match self {
            Self::Http(conn) => conn.finish(side, ctx, info, sink),
            // HTTP/2 streams span both directions: they end with the flow (`close`).
            Self::H2(_) => {}
            Self::Short(_) => {
                if let Self::Short(mut pending) = std::mem::take(self) {
                    self.release(side, &mut pending, ctx, info, sink);
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
                        Inner::Http(conn) => conn.gap(side, len, ctx, info, sink),
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
            Self::Http(conn) => conn.close(ctx, info, sink),
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
            tunnel: None,
            nested: false,
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
        if self.in_tunnel(side) {
            self.tunnel_data(side, bytes, ctx, info, sink);
            return;
        }
        let mut msgs = std::mem::take(&mut self.scratch);
        let before = self.parser(side).stats().opaque_bytes;
        self.parser(side).push(bytes, &mut msgs);
        // The parser reads no further than a switch: the bytes it set aside as opaque are the
        // end of this chunk, the tunnel's first.
        let opaque = self
            .parser(side)
            .stats()
            .opaque_bytes
            .saturating_sub(before);
        self.emit(side, &mut msgs, ctx, info, sink);
        self.scratch = msgs;
        if opaque > 0 {
            let n = usize::try_from(opaque)
                .unwrap_or(usize::MAX)
                .min(bytes.len());
            self.tunnel.get_or_insert_with(Box::default).started[side.index()] = true;
            self.tunnel_data(side, &bytes[bytes.len() - n..], ctx, info, sink);
        }
    }

    fn gap(&mut self, side: Side, len: u64, ctx: &Ctx, info: &mut FlowInfo, sink: &mut Sink) {
        if !self.in_tunnel(side) {
            self.parser(side).gap(len);
            return;
        }
        if let Some(conn) = self.tunnel.as_mut().and_then(|t| t.tls.as_mut()) {
            conn.gap(side, len, ctx, info, sink);
            return;
        }
        if let Some(conn) = self.tunnel.as_mut().and_then(|t| t.http.as_mut()) {
            conn.gap(side, len, ctx, info, sink);
            return;
        }
        // The stream scanner sees the hole by the offsets jumping.
        let i = side.index();
        info.scanned[i] = info.scanned[i].saturating_add(len);
        let direction = self.direction(side);
        let outer = self.outer();
        if let Some(ws) = self.tunnel.as_mut().and_then(|t| t.ws.as_mut()) {
            let d = &mut ws[i];
            let capped = d.capped;
            d.gap(len, &mut |m| {
                sink.scan_websocket(ctx, direction, outer, m.inflated, m.bytes);
            });
            sink.expander.add_capped(d.capped.saturating_sub(capped));
        }
    }

    fn finish(&mut self, side: Side, ctx: &Ctx, info: &mut FlowInfo, sink: &mut Sink) {
        if self.in_tunnel(side) {
            if let Some(conn) = self.tunnel.as_mut().and_then(|t| t.http.as_mut()) {
                conn.finish(side, ctx, info, sink);
                return;
            }
            let direction = self.direction(side);
            let outer = self.outer();
            if let Some(ws) = self.tunnel.as_mut().and_then(|t| t.ws.as_mut()) {
                ws[side.index()].finish(&mut |m| {
                    sink.scan_websocket(ctx, direction, outer, m.inflated, m.bytes);
                });
            }
            return;
        }
        let mut msgs = std::mem::take(&mut self.scratch);
        self.parser(side).finish(&mut msgs);
        self.emit(side, &mut msgs, ctx, info, sink);
        self.scratch = msgs;
    }

    /// The end of the flow: TLS in a tunnel finishes its decryption.
    fn close(&mut self, ctx: &Ctx<'_>, info: &mut FlowInfo, sink: &mut Sink) {
        if let Some(t) = self.tunnel.as_mut() {
            if let Some(conn) = t.tls.as_mut() {
                conn.close(ctx, info, sink);
            }
            if let Some(conn) = t.http.as_mut() {
                conn.close(ctx, info, sink);
            }
        }
    }

    fn in_tunnel(&self, side: Side) -> bool {
        self.tunnel
            .as_ref()
            .is_some_and(|t| t.started[side.index()])
    }

    fn direction(&self, side: Side) -> Direction {
        if side == self.client {
            Direction::ClientToServer
        } else {
            Direction::ServerToClient
        }
    }

    /// The layers a finding inside this connection starts with.
    fn outer(&self) -> &'static [&'static str] {
        // Tunnels are opened only in clear (see `tunnel_data`): a nested connection is too.
        if self.nested {
            &["http1", "tunnel", "http1"]
        } else if self.decrypted {
            &["tls", "http1"]
        } else {
            &["http1"]
        }
    }

    /// Bytes of a side after the switch: WebSocket messages, or an unparsed stream. Read only
    /// when something searches them.
    fn tunnel_data(
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
        let tunnel = self.tunnel.get_or_insert_with(Box::default);
        // Only a tunnel in clear is opened: TLS inside TLS inside TLS cannot nest deeper.
        if !tunnel.decided && tunnel.ws.is_none() && !self.decrypted {
            tunnel.decided = true;
            if tls::looks_like_tls(bytes) {
                info.app_proto = Some("tls");
                tunnel.tls = Some(Box::new(TlsConn::new(!ctx.keys.is_empty())));
            } else if !self.nested
                && !tunnel.switched
                && side == self.client
                && http::looks_like_request(bytes)
            {
                tunnel.http = Some(Box::new(Self {
                    nested: true,
                    ..Self::new(self.client)
                }));
            }
        }
        if let Some(conn) = tunnel.tls.as_mut() {
            conn.data(side, bytes, ctx, info, sink);
            return;
        }
        if let Some(conn) = tunnel.http.as_mut() {
            conn.data(side, bytes, ctx, info, sink);
            return;
        }
        if !sink.detecting() {
            return;
        }
        let direction = self.direction(side);
        let outer = self.outer();
        if let Some(ws) = self.tunnel.as_mut().and_then(|t| t.ws.as_mut()) {
            let d = &mut ws[side.index()];
            if !d.failed() {
                let capped = d.capped;
                let ok = d.push(bytes, &mut |m| {
                    sink.scan_websocket(ctx, direction, outer, m.inflated, m.bytes);
                });
                sink.expander.add_capped(d.capped.saturating_sub(capped));
                if ok {
                    return;
                }
            }
        }
        // Not (or no longer) frames: the bytes are still searched, as a stream.
        sink.scan_stream(ctx, info, side, bytes, "tunnel");
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
            } else if msg.status() == Some(101) {
                // The client's next bytes are the new protocol's too (it waited for this
                // answer, RFC 6455 section 4.1); the server's follow this head.
                let websocket = msg
                    .header_str("upgrade")
                    .is_some_and(|u| u.to_ascii_lowercase().contains("websocket"));
                self.tunnel = Some(Box::new(Tunnel {
                    started: [true, true],
                    ws: websocket.then(|| Box::new([Deframer::new(), Deframer::new()])),
                    switched: true,
                    ..Tunnel::default()
                }));
            }
            let mut record = HttpRecord::new(ctx, &msg, info);
            record.decrypted = self.decrypted;
            sink.push_http(ctx, info, &msg, record);
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
            } else if !ctx.any_port(&[NBNS_PORT]) && dns_query_by_content(payload) {
                info.app_proto = Some("dns");
                Self::Dns
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
                    sink.push_http(ctx, info, &msg, record);
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
            sink.push_http(ctx, info, &msg, record);
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

/// Whether a datagram on a port not known for DNS is a DNS query all the same (a resolver on
/// another port, a DNS tunnel): the header check, then a full parse as a standard query (QR,
/// opcode and RCODE zero) whose questions all parse and that has no answer or authority
/// record. Random bytes pass the header rules alone less than once in 2^41. Responses alone are
/// not taken: the client's query makes a flow DNS.
fn dns_query_by_content(payload: &[u8]) -> bool {
    if !dns::looks_like_dns(payload) {
        return false;
    }
    let Ok(msg) = dns::parse(payload) else {
        return false;
    };
    !msg.response
        && msg.opcode == 0
        && msg.malformed.is_none()
        && msg.rcode == 0
        && msg.answer_count == 0
        && msg.authority_count == 0
        && !msg.questions.is_empty()
        && msg.questions.len() == usize::from(msg.question_count)
}

/// Whether a TCP stream on a port not known for DNS opens with a DNS query all the same
/// (RFC 7766 section 8: a two-byte length, then the message): the whole first message must be in
/// the first bytes and pass [`dns_query_by_content`].
fn tcp_dns_query_by_content(first: &[u8]) -> bool {
    let Some((len, rest)) = first.split_first_chunk::<2>() else {
        return false;
    };
    let len = usize::from(u16::from_be_bytes(*len));
    rest.get(..len).is_some_and(dns_query_by_content)
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

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use phonehome_detect::profile::Profile;

    use super::*;

    const IMEI: &str = "356938035643809";

    fn sink() -> Sink {
        let text = format!("[identifiers]\nimei = \"{IMEI}\"\n");
        let (profile, _) = Profile::parse(&text, "lab.toml").unwrap();
        let mut sink = Sink::default();
        sink.detection = Some(Arc::new(crate::Detection::new(&profile)));
        sink
    }

    fn ctx(keys: &KeyLog) -> Ctx<'_> {
        ctx_ports(keys, [40_000, 8080])
    }

    fn ctx_ports(keys: &KeyLog, ports: [u16; 2]) -> Ctx<'_> {
        Ctx {
            ts: Timestamp::default(),
            input: 0,
            frame: 1,
            flow: 1,
            ports,
            keys,
            http_bodies: false,
            client: Side::A,
        }
    }

    /// (label, layers, direction) of every finding.
    /// An IMEI finding as [`found`] lists it.
    fn imei(layers: &str, direction: Direction) -> (String, String, Direction) {
        ("imei".to_owned(), layers.to_owned(), direction)
    }

    fn found(sink: Sink) -> Vec<(String, String, Direction)> {
        let mut v: Vec<_> = sink
            .findings
            .into_vec()
            .into_iter()
            .map(|f| (f.label, f.layers.join("/"), f.direction))
            .collect();
        v.sort_by(|a, b| (&a.1, &a.0).cmp(&(&b.1, &b.0)));
        v
    }

    /// A WebSocket frame (RFC 6455 section 5.2), masked with `mask` if given.
    fn ws_frame(op: u8, fin: bool, mask: Option<[u8; 4]>, payload: &[u8]) -> Vec<u8> {
        let mut f = vec![u8::from(fin) << 7 | op];
        let m = if mask.is_some() { 0x80 } else { 0 };
        if payload.len() < 126 {
            f.push(m | payload.len() as u8);
        } else {
            f.push(m | 126);
            f.extend_from_slice(&(payload.len() as u16).to_be_bytes());
        }
        match mask {
            Some(k) => {
                f.extend_from_slice(&k);
                f.extend(payload.iter().enumerate().map(|(i, b)| b ^ k[i % 4]));
            }
            None => f.extend_from_slice(payload),
        }
        f
    }

    const UPGRADE: &[u8] = b"GET /chat HTTP/1.1\r\nHost: ws.example\r\nUpgrade: websocket\r\n\
Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
Sec-WebSocket-Version: 13\r\n\r\n";

    #[test]
    fn websocket_messages_after_an_upgrade() {
        let keys = KeyLog::default();
        let ctx = ctx(&keys);
        let mut sink = sink();
        let mut info = FlowInfo::default();
        let mut app = TcpApp::default();
        app.data(Side::A, UPGRADE, &ctx, &mut info, &mut sink);
        // The 101 and the server's first (unmasked) message in one segment; it holds the
        // IMEI without its check digit (findings of one variant and place are one finding
        // whatever the direction).
        let mut answer = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\
Connection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n"
            .to_vec();
        answer.extend(ws_frame(
            1,
            true,
            None,
            format!("{{\"dev\":\"{}\"}}", &IMEI[..14]).as_bytes(),
        ));
        app.data(Side::B, &answer, &ctx, &mut info, &mut sink);
        // The client's message masked and fragmented, cut inside a header and inside the
        // value: found only once frames are joined and unmasked.
        let k = Some([0x12, 0x34, 0x56, 0x78]);
        let mut up = ws_frame(2, false, k, format!("\x02\x00{}", &IMEI[..7]).as_bytes());
        up.extend(ws_frame(
            0,
            true,
            k,
            format!("{}\x00", &IMEI[7..]).as_bytes(),
        ));
        up.extend(ws_frame(8, true, k, b"\x03\xe8"));
        for part in [&up[..3], &up[3..12], &up[12..]] {
            app.data(Side::A, part, &ctx, &mut info, &mut sink);
        }
        app.end(Side::A, &ctx, &mut info, &mut sink);
        app.end(Side::B, &ctx, &mut info, &mut sink);
        assert_eq!(
            found(sink),
            [
                imei("http1/websocket", Direction::ClientToServer),
                imei("http1/websocket", Direction::ServerToClient),
            ]
        );
    }

    /// An HPACK literal field without indexing, new name, no Huffman (RFC 7541 6.2.2).
    fn hpack(name: &str, value: &[u8]) -> Vec<u8> {
        let mut b = vec![0x00, name.len() as u8];
        b.extend_from_slice(name.as_bytes());
        b.push(value.len() as u8);
        b.extend_from_slice(value);
        b
    }

    #[test]
    fn websocket_over_an_http2_extended_connect() {
        let keys = KeyLog::default();
        let ctx = ctx(&keys);
        let mut sink = sink();
        let mut info = FlowInfo::default();
        let mut app = TcpApp::default();
        // h2c with prior knowledge; RFC 8441 4: CONNECT with :protocol websocket on stream 1.
        let mut up = http2::PREFACE.to_vec();
        up.extend(http2::fuzzing::frame(4, 0, 0, &[]));
        let mut block = hpack(":method", b"CONNECT");
        block.extend(hpack(":protocol", b"websocket"));
        block.extend(hpack(":scheme", b"http"));
        block.extend(hpack(":path", b"/chat"));
        block.extend(hpack(":authority", b"ws.example"));
        up.extend(http2::fuzzing::frame(1, 4, 1, &block));
        // The client's message masked and fragmented over two WebSocket frames, the second
        // cut over two DATA frames.
        let k = Some([0x12, 0x34, 0x56, 0x78]);
        let mut frames = ws_frame(2, false, k, format!("\x02\x00{}", &IMEI[..7]).as_bytes());
        frames.extend(ws_frame(
            0,
            true,
            k,
            format!("{}\x00", &IMEI[7..]).as_bytes(),
        ));
        let (a, b) = frames.split_at(frames.len() - 5);
        up.extend(http2::fuzzing::frame(0, 0, 1, a));
        up.extend(http2::fuzzing::frame(0, 1, 1, b));
        let mut down = http2::fuzzing::frame(4, 0, 0, &[0, 8, 0, 0, 0, 1]);
        down.extend(http2::fuzzing::frame(1, 4, 1, &hpack(":status", b"200")));
        let answer = format!("{{\"dev\":\"{}\"}}", &IMEI[..14]);
        down.extend(http2::fuzzing::frame(
            0,
            1,
            1,
            &ws_frame(1, true, None, answer.as_bytes()),
        ));
        app.data(Side::A, &up, &ctx, &mut info, &mut sink);
        app.data(Side::B, &down, &ctx, &mut info, &mut sink);
        app.end(Side::A, &ctx, &mut info, &mut sink);
        app.end(Side::B, &ctx, &mut info, &mut sink);
        assert_eq!(
            found(sink),
            [
                imei("h2/websocket", Direction::ClientToServer),
                imei("h2/websocket", Direction::ServerToClient),
            ]
        );
    }

    #[test]
    fn http_through_a_proxy_connect_tunnel_is_parsed_as_http() {
        let keys = KeyLog::default();
        let ctx = ctx(&keys);
        let mut sink = sink();
        let mut info = FlowInfo::default();
        let mut app = TcpApp::default();
        app.data(
            Side::A,
            b"CONNECT ws.example:80 HTTP/1.1\r\nHost: ws.example:80\r\n\r\n",
            &ctx,
            &mut info,
            &mut sink,
        );
        app.data(
            Side::B,
            b"HTTP/1.1 200 Connection established\r\n\r\n",
            &ctx,
            &mut info,
            &mut sink,
        );
        // Through the tunnel: a WebSocket handshake, then a masked message with the IMEI cut
        // over two segments.
        app.data(Side::A, UPGRADE, &ctx, &mut info, &mut sink);
        app.data(
            Side::B,
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
            &ctx,
            &mut info,
            &mut sink,
        );
        let up = ws_frame(
            1,
            true,
            Some([9, 8, 7, 6]),
            format!("imei {IMEI}").as_bytes(),
        );
        app.data(Side::A, &up[..9], &ctx, &mut info, &mut sink);
        app.data(Side::A, &up[9..], &ctx, &mut info, &mut sink);
        app.end(Side::A, &ctx, &mut info, &mut sink);
        app.end(Side::B, &ctx, &mut info, &mut sink);
        app.close(&ctx, &mut info, &mut sink);
        let requests: Vec<(String, String)> = sink
            .http
            .iter()
            .filter(|r| r.request)
            .map(|r| {
                (
                    r.method.clone().unwrap_or_default(),
                    r.host.clone().unwrap_or_default(),
                )
            })
            .collect();
        assert_eq!(
            requests,
            [
                ("CONNECT".to_owned(), "ws.example:80".to_owned()),
                ("GET".to_owned(), "ws.example".to_owned())
            ]
        );
        assert!(info.http_hosts.iter().any(|h| h == "ws.example"));
        assert_eq!(
            found(sink),
            [imei(
                "http1/tunnel/http1/websocket",
                Direction::ClientToServer
            )]
        );
    }

    #[test]
    fn other_tunnels_are_searched_as_streams() {
        let keys = KeyLog::default();
        let ctx = ctx(&keys);
        let mut sink = sink();
        let mut info = FlowInfo::default();
        let mut app = TcpApp::default();
        // An upgrade to a protocol that is not WebSocket: its bytes are still searched.
        app.data(
            Side::A,
            b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: telemetry/1\r\nConnection: Upgrade\r\n\r\n",
            &ctx,
            &mut info,
            &mut sink,
        );
        app.data(
            Side::B,
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: telemetry/1\r\n\r\n",
            &ctx,
            &mut info,
            &mut sink,
        );
        app.data(Side::A, b"HELLO dev=3569380", &ctx, &mut info, &mut sink);
        app.data(Side::A, b"35643809;\n", &ctx, &mut info, &mut sink);
        sink.finish_streams(&ctx, &mut info);
        assert_eq!(found(sink), [imei("tunnel", Direction::ClientToServer)]);
        // WebSocket bytes that stop being frames fall back to the same stream search.
        let mut sink = self::sink();
        let mut info = FlowInfo::default();
        let mut app = TcpApp::default();
        app.data(Side::A, UPGRADE, &ctx, &mut info, &mut sink);
        app.data(
            Side::B,
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n",
            &ctx,
            &mut info,
            &mut sink,
        );
        app.data(
            Side::A,
            format!("not a frame {IMEI}\n").as_bytes(),
            &ctx,
            &mut info,
            &mut sink,
        );
        sink.finish_streams(&ctx, &mut info);
        assert_eq!(found(sink).len(), 1);
    }

    #[test]
    fn no_value_across_a_hole_in_an_unparsed_stream() {
        let keys = KeyLog::default();
        let ctx = ctx(&keys);
        for hole in [false, true] {
            let mut sink = sink();
            let mut info = FlowInfo::default();
            let mut app = TcpApp::default();
            app.data(
                Side::A,
                b"\x00\x01PUSH dev=3569380",
                &ctx,
                &mut info,
                &mut sink,
            );
            if hole {
                app.gap(Side::A, 3, &ctx, &mut info, &mut sink);
            }
            app.data(Side::A, b"35643809;\n", &ctx, &mut info, &mut sink);
            sink.finish_streams(&ctx, &mut info);
            assert_eq!(found(sink).len(), usize::from(!hole), "hole {hole}");
        }
    }

    /// A query as dig sends it (RD set, one question, an EDNS OPT record), for `name`.
    fn query(name: &str) -> Vec<u8> {
        let mut q = vec![0x4a, 0x7e, 0x01, 0x20, 0, 1, 0, 0, 0, 0, 0, 1];
        for label in name.split('.') {
            q.push(label.len() as u8);
            q.extend_from_slice(label.as_bytes());
        }
        q.extend_from_slice(&[0, 0, 1, 0, 1]);
        q.extend_from_slice(&[0, 0, 0x29, 0x04, 0xd0, 0, 0, 0, 0, 0, 0]);
        q
    }

    /// DNS over HTTPS (as decrypted TLS would hand it over) and an HTTPDNS exchange on one
    /// connection, pipelined behind an ordinary request: each answer meets its own request.
    #[test]
    fn dns_carried_in_http_is_recorded_as_dns() {
        let keys = KeyLog::default();
        let ctx = ctx(&keys);
        let mut sink = Sink::default();
        let mut info = FlowInfo::default();
        let mut app = TcpApp::default();
        let q = query("api.example.com");
        let mut requests = b"GET /index.html HTTP/1.1\r\nHost: r.example\r\n\r\n".to_vec();
        requests.extend_from_slice(
            format!(
                "POST /dns-query HTTP/1.1\r\nHost: r.example\r\nContent-Type: application/dns-message\r\nContent-Length: {}\r\n\r\n",
                q.len()
            )
            .as_bytes(),
        );
        requests.extend_from_slice(&q);
        requests
            .extend_from_slice(b"GET /d?dn=push.example.com HTTP/1.1\r\nHost: r.example\r\n\r\n");
        let mut answer = q.clone();
        answer[2] |= 0x80;
        answer[7] = 1; // one answer, placed before the OPT record of the additional section
        let opt = answer.split_off(answer.len() - 11);
        answer
            .extend_from_slice(b"\xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04\xcb\x00\x71\x05");
        answer.extend_from_slice(&opt);
        // The ordinary page's body looks like an HTTPDNS answer; it answers no DNS request.
        let mut responses =
            b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 7\r\n\r\n9.9.9.9"
                .to_vec();
        responses.extend_from_slice(
            format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/dns-message\r\nContent-Length: {}\r\n\r\n",
                answer.len()
            )
            .as_bytes(),
        );
        responses.extend_from_slice(&answer);
        responses.extend_from_slice(b"HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\n203.0.113.9;");
        app.data(Side::A, &requests, &ctx, &mut info, &mut sink);
        app.data(Side::B, &responses, &ctx, &mut info, &mut sink);
        app.close(&ctx, &mut info, &mut sink);
        assert!(info.dns_in_http);
        let got: Vec<(bool, &str, Option<&str>, Vec<String>)> = sink
            .dns
            .iter()
            .map(|r| {
                (
                    r.msg.response,
                    r.msg.questions[0].name.as_str(),
                    r.carrier,
                    r.msg.answers.iter().map(|a| a.data.to_text()).collect(),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                (false, "api.example.com", Some("doh"), vec![]),
                (false, "push.example.com", Some("httpdns"), vec![]),
                (
                    true,
                    "api.example.com",
                    Some("doh"),
                    vec!["203.0.113.5".to_string()]
                ),
                (
                    true,
                    "push.example.com",
                    Some("httpdns"),
                    vec!["203.0.113.9".to_string()]
                ),
            ]
        );
        assert_eq!(sink.counters.dns_messages, 4);
    }

    #[test]
    fn dns_over_tcp_on_another_port_by_content() {
        let q = query("gm2tmojthaydgnjwgqztqmbz.t.example.com");
        let mut framed = u16::try_from(q.len()).unwrap().to_be_bytes().to_vec();
        framed.extend_from_slice(&q);
        assert!(tcp_dns_query_by_content(&framed));
        // Cut, or not a query: not taken.
        assert!(!tcp_dns_query_by_content(&framed[..framed.len() - 1]));
        assert!(!tcp_dns_query_by_content(&framed[..1]));
        let mut answer = framed.clone();
        answer[4] |= 0x80;
        assert!(!tcp_dns_query_by_content(&answer));
        // On port 8080, the length in a segment of its own (as some resolvers send it).
        let keys = KeyLog::default();
        let ctx = ctx(&keys);
        let mut sink = sink();
        let mut info = FlowInfo::default();
        let mut app = TcpApp::default();
        app.data(Side::A, &framed[..2], &ctx, &mut info, &mut sink);
        app.data(Side::A, &framed[2..], &ctx, &mut info, &mut sink);
        assert_eq!(info.app_proto, Some("dns"));
        assert_eq!(sink.dns.len(), 1);
        assert_eq!(
            found(sink),
            [imei("dns/query/dns-base32", Direction::ClientToServer)]
        );
    }

    #[test]
    fn bytes_held_before_deciding_are_all_read() {
        let keys = KeyLog::default();
        let ctx = ctx(&keys);
        // The server's short greeting (the IMEI, 15 bytes, held) before the client's first
        // large segment, whose value lies past its first 64 bytes.
        let mut sink = sink();
        let mut info = FlowInfo::default();
        let mut app = TcpApp::default();
        app.data(Side::B, IMEI.as_bytes(), &ctx, &mut info, &mut sink);
        let mut big = vec![b'.'; 300];
        big[200..214].copy_from_slice(&IMEI.as_bytes()[..14]);
        app.data(Side::A, b"\x01\x02", &ctx, &mut info, &mut sink);
        app.data(Side::A, &big, &ctx, &mut info, &mut sink);
        app.end(Side::A, &ctx, &mut info, &mut sink);
        app.end(Side::B, &ctx, &mut info, &mut sink);
        sink.finish_streams(&ctx, &mut info);
        let got = found(sink);
        assert!(
            got.iter().any(|f| f.2 == Direction::ServerToClient),
            "{got:?}"
        );
        assert!(
            got.iter().any(|f| f.2 == Direction::ClientToServer),
            "{got:?}"
        );
        // Bytes held when a hole comes are read before it.
        let mut sink = self::sink();
        let mut info = FlowInfo::default();
        let mut app = TcpApp::default();
        app.data(Side::A, IMEI.as_bytes(), &ctx, &mut info, &mut sink);
        app.gap(Side::A, 100, &ctx, &mut info, &mut sink);
        sink.finish_streams(&ctx, &mut info);
        assert_eq!(found(sink).len(), 1);
    }

    #[test]
    fn dns_on_another_port_by_content() {
        // The IMEI in base32 in a label, as DNS tunnels carry data.
        let q = query("gm2tmojthaydgnjwgqztqmbz.t.example.com");
        assert!(dns_query_by_content(&q));
        // A response, a query with an answer, a cut query, other datagrams: not taken.
        let mut r = q.clone();
        r[2] |= 0x80;
        assert!(!dns_query_by_content(&r));
        let mut a = q.clone();
        a[7] = 1;
        assert!(!dns_query_by_content(&a));
        assert!(!dns_query_by_content(&q[..20]));
        assert!(!dns_query_by_content(b"\x01PHp0042\x00356938035643809\x00"));
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        for n in 0..2000 {
            let noise: Vec<u8> = (0..12 + n % 80)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    x as u8
                })
                .collect();
            assert!(!dns_query_by_content(&noise), "{noise:?}");
        }
        // Through the UDP dissector on port 8080: a DNS flow, the name decoded.
        let keys = KeyLog::default();
        let ctx = ctx(&keys);
        let mut sink = sink();
        let mut info = FlowInfo::default();
        let mut app = UdpApp::default();
        app.datagram(Side::A, &q, &ctx, &mut info, &mut sink);
        assert_eq!(info.app_proto, Some("dns"));
        assert_eq!(sink.dns.len(), 1);
        assert_eq!(
            found(sink),
            [imei("dns/query/dns-base32", Direction::ClientToServer)]
        );
        // A NetBIOS name query (broadcast, for WORKGROUP<1d>) has the same format, on its
        // own port: not DNS.
        let nbns = query("FHEPFCELEHFCEPFFFACACACACACACABN");
        assert!(dns_query_by_content(&nbns));
        let ctx = ctx_ports(&keys, [137, 137]);
        let mut info = FlowInfo::default();
        let mut app = UdpApp::default();
        app.datagram(Side::A, &nbns, &ctx, &mut info, &mut self::sink());
        assert_eq!(info.app_proto, None);
    }
}

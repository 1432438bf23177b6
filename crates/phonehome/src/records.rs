//! What the dissectors hand to the report: owned records, tagged with the flow's handle, so
//! that shards can work apart and be merged in a deterministic order.

use std::collections::VecDeque;

use phonehome_app::dns::over_http;
use phonehome_app::{dns, http, quic, tls};
use phonehome_capture::Timestamp;
use phonehome_detect::decode::websocket::Deframer;
use phonehome_detect::decode::{Expander, Hint};
use phonehome_detect::findings::{excerpt_masking, Direction, Finding, Seen};
use phonehome_detect::patterns::{Context, Detectors, PatternHit};
use phonehome_detect::scanner::StreamScan;
use phonehome_detect::variants::DataType;
use phonehome_flow::Side;

use crate::dissect::Ctx;

/// Distinct HTTP hosts kept per flow.
const MAX_HOSTS: usize = 8;
/// TLS alerts kept per flow.
const MAX_ALERTS: usize = 8;

/// What the application layer showed about one flow.
#[derive(Debug, Default)]
pub(crate) struct FlowInfo {
    pub(crate) app_proto: Option<&'static str>,
    /// The side whose application messages show it is the client.
    pub(crate) app_client: Option<Side>,
    pub(crate) has_payload: bool,
    /// Payload bytes of both sides as captured (TCP retransmissions included).
    pub(crate) payload_bytes: u64,
    pub(crate) client_hello: Option<Box<tls::ClientHello>>,
    pub(crate) server_hello: Option<Box<tls::ServerHello>>,
    pub(crate) leaf: Option<Box<tls::Certificate>>,
    pub(crate) alerts: Vec<(u8, u8)>,
    pub(crate) quic: Option<Box<(u32, tls::ClientHello)>>,
    pub(crate) http_hosts: Vec<String>,
    /// The app the capture says sent the flow's packets.
    pub(crate) app: Option<crate::shard::AppTag>,
    /// Whether the flow's encryption could be removed with the key logs.
    pub(crate) decryption: Option<crate::dissect::Decryption>,
    /// Scanners carried along the unparsed byte streams of each side (with a profile).
    pub(crate) scans: Option<Box<[StreamScan; 2]>>,
    /// Stream offsets reached by those scanners.
    pub(crate) scanned: [u64; 2],
    /// First bytes each side sent, kept only for flows no parser understands: service
    /// recognition looks at them (e.g. a push protocol's greeting).
    pub(crate) head: [Vec<u8>; 2],
    /// HTTP requests and final responses seen, which pairs an answer with its request.
    pub(crate) http_seen: [u64; 2],
    /// DNS queries made in HTTP requests (by request number), awaiting their answers.
    pub(crate) dns_asked: VecDeque<(u64, over_http::Carried)>,
    /// DNS messages were read out of the flow's HTTP (decrypted DoH, HTTPDNS).
    pub(crate) dns_in_http: bool,
}

/// Queries in HTTP kept per flow while their answers are awaited.
const MAX_ASKED: usize = 16;

/// Bytes of an unrecognised flow kept per side.
pub(crate) const HEAD_BYTES: usize = 256;

impl FlowInfo {
    pub(crate) fn keep_head(&mut self, side: Side, bytes: &[u8]) {
        let head = &mut self.head[side.index()];
        let room = HEAD_BYTES.saturating_sub(head.len());
        if room > 0 {
            head.extend_from_slice(&bytes[..bytes.len().min(room)]);
        }
    }

    pub(crate) fn tls_event(&mut self, side: Side, event: tls::Event, sink: &mut Sink) {
        match event {
            tls::Event::ClientHello(hello) => {
                self.app_client = Some(side);
                if self.client_hello.is_none() {
                    sink.counters.tls_handshakes += 1;
                    self.client_hello = Some(Box::new(hello));
                }
            }
            tls::Event::ServerHello(hello) if self.server_hello.is_none() => {
                self.server_hello = Some(Box::new(hello));
            }
            tls::Event::Certificates(mut certs) if self.leaf.is_none() && !certs.is_empty() => {
                self.leaf = Some(Box::new(certs.swap_remove(0)));
            }
            tls::Event::Alert { level, description } if self.alerts.len() < MAX_ALERTS => {
                self.alerts.push((level, description));
            }
            _ => {}
        }
    }

    pub(crate) fn quic_event(&mut self, event: quic::Event, sink: &mut Sink) {
        match event {
            quic::Event::ClientHello { version, hello } if self.quic.is_none() => {
                sink.counters.quic_initials += 1;
                self.quic = Some(Box::new((version, hello)));
            }
            quic::Event::ServerHello { hello, .. } if self.server_hello.is_none() => {
                self.server_hello = Some(Box::new(hello));
            }
            quic::Event::DecryptFailed => sink.counters.quic_decrypt_failures += 1,
            _ => {}
        }
    }
}

/// Counters the dissectors keep.
#[derive(Clone, Debug, Default)]
pub(crate) struct Counters {
    pub(crate) dns_messages: u64,
    pub(crate) dns_malformed: u64,
    pub(crate) http_messages: u64,
    pub(crate) tls_handshakes: u64,
    pub(crate) quic_initials: u64,
    pub(crate) quic_decrypt_failures: u64,
}

impl Counters {
    pub(crate) fn add(&mut self, o: &Self) {
        self.dns_messages += o.dns_messages;
        self.dns_malformed += o.dns_malformed;
        self.http_messages += o.http_messages;
        self.tls_handshakes += o.tls_handshakes;
        self.quic_initials += o.quic_initials;
        self.quic_decrypt_failures += o.quic_decrypt_failures;
    }
}

/// Where dissectors put what they found; one per shard.
#[derive(Debug, Default)]
pub(crate) struct Sink {
    pub(crate) dns: Vec<DnsRecord>,
    pub(crate) http: Vec<HttpRecord>,
    pub(crate) counters: Counters,
    /// Personal-data detection, when a profile was given, and what it found.
    pub(crate) detection: Option<std::sync::Arc<crate::Detection>>,
    pub(crate) findings: phonehome_detect::findings::Findings,
    /// Pattern detectors (identifiers known by their shape or key), when turned on.
    pub(crate) patterns: Option<std::sync::Arc<Detectors>>,
    hits: Vec<phonehome_detect::scanner::Hit>,
    pattern_hits: Vec<PatternHit>,
    /// The registrable domain of the DNS name being searched, if any.
    zone: Option<String>,
    /// Undoes encodings (forms, JSON, base64, gzip, protobuf...) before a second search.
    pub(crate) expander: Expander,
    /// Reused event buffers: no allocation per packet.
    pub(crate) tls_events: Vec<tls::Event>,
    pub(crate) quic_events: Vec<quic::Event>,
}

impl Sink {
    /// Keeps an HTTP record, and searches the message (target, header values, decoded body)
    /// for the profile's values.
    pub(crate) fn push_http(
        &mut self,
        ctx: &Ctx<'_>,
        info: &mut FlowInfo,
        msg: &http::Message,
        record: HttpRecord,
    ) {
        self.dns_in_http(ctx, info, msg);
        if self.detecting() {
            let direction = if record.request {
                Direction::ClientToServer
            } else {
                Direction::ServerToClient
            };
            let outer: &[&str] = match (record.transport, record.decrypted) {
                ("h3", _) => &["quic", "h3"],
                ("h2", true) => &["tls", "h2"],
                ("h2", false) => &["h2"],
                (_, true) => &["tls", "http1"],
                _ => &["http1"],
            };
            if let http::Kind::Request { uri, .. } = &msg.kind {
                self.scan(ctx, direction, outer, "uri", Hint::Uri, uri.as_bytes());
            }
            let mut content_type = None;
            for (name, value) in &msg.headers {
                let name = name.to_ascii_lowercase();
                if name == "content-type" {
                    content_type = std::str::from_utf8(value).ok();
                }
                self.scan(
                    ctx,
                    direction,
                    outer,
                    &format!("header:{name}"),
                    Hint::Header { name: &name },
                    value,
                );
            }
            let framed = msg.tunnel.as_deref() == Some("websocket")
                && self.scan_websocket_body(ctx, direction, outer, &msg.body);
            if !framed {
                let mut body_layers: Vec<&str> = outer.to_vec();
                body_layers.extend(msg.encodings.iter().map(String::as_str));
                self.scan(
                    ctx,
                    direction,
                    &body_layers,
                    "body",
                    Hint::Body { content_type },
                    &msg.body,
                );
            }
        }
        self.http.push(record);
    }

    /// DNS carried in an HTTP message (DNS over HTTPS, a resolver's JSON API, an app's
    /// HTTPDNS): recorded as DNS, so that its answers name the addresses the device goes on to
    /// connect to. An answer is paired with its request by number (HTTP/1 answers in order;
    /// over HTTP/2 and HTTP/3 most forms name what they answer anyway).
    fn dns_in_http(&mut self, ctx: &Ctx<'_>, info: &mut FlowInfo, msg: &http::Message) {
        let content_type = msg.header_str("content-type");
        let carried = match &msg.kind {
            http::Kind::Request { method, uri } => {
                let n = info.http_seen[0];
                info.http_seen[0] += 1;
                let Some(c) = over_http::request(method, uri, content_type, &msg.body) else {
                    return;
                };
                let asked = &mut info.dns_asked;
                if asked.len() == MAX_ASKED {
                    asked.pop_front();
                }
                asked.push_back((n, c.clone()));
                c
            }
            // Interim answers (100 Continue, 103 Early Hints) precede the final one.
            http::Kind::Response { status, .. } if (100..200).contains(status) => return,
            http::Kind::Response { .. } => {
                let n = info.http_seen[1];
                info.http_seen[1] += 1;
                let q = &mut info.dns_asked;
                while q.front().is_some_and(|(i, _)| *i < n) {
                    q.pop_front();
                }
                let asked = q
                    .front()
                    .is_some_and(|(i, _)| *i == n)
                    .then(|| q.pop_front().map(|(_, c)| c))
                    .flatten();
                let Some(c) = over_http::response(content_type, &msg.body, asked.as_ref()) else {
                    return;
                };
                c
            }
        };
        info.dns_in_http = true;
        self.counters.dns_messages += 1;
        let mut record = DnsRecord::new(ctx, &carried.message);
        record.carrier = Some(carried.form.as_str());
        self.dns.push(record);
    }

    /// Searches an unparsed TCP stream, carrying the scanner's state from chunk to chunk.
    pub(crate) fn scan_stream(
        &mut self,
        ctx: &Ctx<'_>,
        info: &mut FlowInfo,
        side: Side,
        bytes: &[u8],
        layer: &str,
    ) {
        let Some(d) = self.detection.clone() else {
            return;
        };
        // A profile whose automaton failed to compile ends the audit with that error.
        let Ok(scanner) = d.scanner() else {
            return;
        };
        let scans = info
            .scans
            .get_or_insert_with(|| Box::new([scanner.stream(), scanner.stream()]));
        let i = side.index();
        // A stream started while only the NFA was compiled goes on with the DFA.
        scans[i].upgrade(scanner);
        let offset = info.scanned[i];
        info.scanned[i] = offset.saturating_add(bytes.len() as u64);
        self.hits.clear();
        scans[i].feed(bytes, offset, &mut self.hits);
        self.record_hits(ctx, &d, side, &[layer], Some((bytes, offset)));
        // Encoded data inside the stream (a base64 blob, a gzip member, WebSocket frames) is
        // decoded chunk by chunk: what a chunk boundary cuts is only found in clear.
        let direction = ctx.direction(side);
        let mut found = Found::default();
        self.expand_and_scan(
            ctx,
            Some(&d),
            direction,
            &[layer],
            Hint::Payload,
            bytes,
            &mut found,
        );
    }

    /// The end of a flow: matches still waiting for a following byte are settled.
    pub(crate) fn finish_streams(&mut self, ctx: &Ctx<'_>, info: &mut FlowInfo) {
        let (Some(d), Some(mut scans)) = (self.detection.clone(), info.scans.take()) else {
            return;
        };
        for side in [Side::A, Side::B] {
            self.hits.clear();
            scans[side.index()].finish(&mut self.hits);
            self.record_hits(ctx, &d, side, &["tcp"], None);
        }
    }

    /// Searches one datagram no parser understood.
    pub(crate) fn scan_datagram(&mut self, ctx: &Ctx<'_>, side: Side, payload: &[u8]) {
        let direction = ctx.direction(side);
        self.scan(ctx, direction, &["udp"], "payload", Hint::Payload, payload);
    }

    /// Records the stream scanner's hits; `chunk` is the piece of stream just fed and its
    /// offset, for the excerpt (none when a flow ends).
    fn record_hits(
        &mut self,
        ctx: &Ctx<'_>,
        d: &crate::Detection,
        side: Side,
        layers: &[&str],
        chunk: Option<(&[u8], u64)>,
    ) {
        if self.hits.is_empty() {
            return;
        }
        let direction = ctx.direction(side);
        let seen = Seen {
            flow: ctx.flow,
            direction,
            ts: ctx.ts,
            frame: ctx.frame,
        };
        for hit in std::mem::take(&mut self.hits) {
            let label = d.variants.get(hit.variant).map(|v| v.data_type.as_str());
            if let Some(f) = self.findings.record(&d.variants, &hit, seen, layers) {
                if let (Some((bytes, offset)), Some(label)) = (chunk, label) {
                    // A hit that began in an earlier chunk starts at this chunk's first byte.
                    let start = usize::try_from(hit.offset.saturating_sub(offset)).unwrap_or(0);
                    let end = usize::try_from(
                        hit.offset
                            .saturating_add(u64::from(hit.len))
                            .saturating_sub(offset),
                    )
                    .unwrap_or(0);
                    set_excerpts(f, bytes, start, end - start, &[(start, end - start, label)]);
                }
            }
        }
    }

    /// Searches a DNS message's question names (a leak inside a name is sent to the zone's
    /// servers, whatever resolver carries it).
    pub(crate) fn scan_dns(&mut self, ctx: &Ctx<'_>, msg: &dns::Message) {
        if !self.detecting() || msg.response {
            return;
        }
        for q in &msg.questions {
            self.zone = phonehome_enrich::orgs::registrable(&q.name).map(str::to_ascii_lowercase);
            self.scan(
                ctx,
                Direction::ClientToServer,
                &["dns"],
                "query",
                Hint::DnsName,
                q.name.as_bytes(),
            );
            self.zone = None;
        }
    }

    /// Searches one WebSocket message of an upgraded HTTP/1.1 connection, as a body is
    /// searched (a message is a JSON document, a form, a protobuf, as bodies are).
    pub(crate) fn scan_websocket(
        &mut self,
        ctx: &Ctx<'_>,
        direction: Direction,
        outer: &[&str],
        inflated: bool,
        bytes: &[u8],
    ) {
        let mut layers: Vec<&str> = outer.to_vec();
        let part = if inflated {
            layers.push("websocket");
            "deflate"
        } else {
            "websocket"
        };
        let hint = Hint::Body { content_type: None };
        self.scan(ctx, direction, &layers, part, hint, bytes);
    }

    /// The body of a stream whose extended CONNECT opened WebSocket (RFC 8441, RFC 9220):
    /// the messages its frames carry, unmasked, joined and inflated, are searched as over
    /// HTTP/1.1. False when the bytes stop being frames: the caller then searches the body
    /// as it is too, so that nothing after the break goes unread.
    fn scan_websocket_body(
        &mut self,
        ctx: &Ctx<'_>,
        direction: Direction,
        outer: &[&str],
        body: &[u8],
    ) -> bool {
        let mut frames = Deframer::new();
        let ok = frames.push(body, &mut |m| {
            self.scan_websocket(ctx, direction, outer, m.inflated, m.bytes);
        });
        if ok {
            frames.finish(&mut |m| {
                self.scan_websocket(ctx, direction, outer, m.inflated, m.bytes);
            });
        }
        self.expander.add_capped(frames.capped);
        ok
    }

    /// Whether anything searches messages: a profile or the pattern detectors.
    pub(crate) fn detecting(&self) -> bool {
        self.detection.is_some() || self.patterns.is_some()
    }

    /// Searches one buffer, then every view of it the expander decodes; a value found in the
    /// buffer itself is not reported again from a decoded view of it.
    #[allow(clippy::too_many_arguments)]
    fn scan(
        &mut self,
        ctx: &Ctx<'_>,
        direction: Direction,
        outer: &[&str],
        part: &str,
        hint: Hint<'_>,
        bytes: &[u8],
    ) {
        if bytes.is_empty() || !self.detecting() {
            return;
        }
        // Pattern detectors look for data leaving the device; what servers send back is
        // searched only for a profile's values.
        if self.detection.is_none() && direction == Direction::ServerToClient {
            return;
        }
        let d = self.detection.clone();
        let mut layers: Vec<&str> = outer.to_vec();
        layers.push(part);
        let mut found = Found::default();
        let context = pattern_context(hint, &[]);
        self.scan_view(
            ctx,
            d.as_deref(),
            direction,
            &layers,
            context,
            bytes,
            &mut found,
        );
        self.expand_and_scan(
            ctx,
            d.as_deref(),
            direction,
            &layers,
            hint,
            bytes,
            &mut found,
        );
    }

    /// Scans every decoded view of `bytes` (not `bytes` itself).
    #[allow(clippy::too_many_arguments)]
    fn expand_and_scan(
        &mut self,
        ctx: &Ctx<'_>,
        d: Option<&crate::Detection>,
        direction: Direction,
        layers: &[&str],
        hint: Hint<'_>,
        bytes: &[u8],
        found: &mut Found,
    ) {
        let mut expander = std::mem::take(&mut self.expander);
        let mut all: Vec<&str> = Vec::with_capacity(layers.len() + 4);
        expander.expand(hint, bytes, &mut |inner, view| {
            all.clear();
            all.extend_from_slice(layers);
            all.extend_from_slice(inner);
            let context = pattern_context(hint, inner);
            self.scan_view(ctx, d, direction, &all, context, view, found);
        });
        self.expander = expander;
    }

    /// Records the hits of one buffer under `layers`, skipping values in `found` and adding
    /// the new ones to it: the profile's values, then (with a `context`) the pattern detectors'.
    #[allow(clippy::too_many_arguments)]
    fn scan_view(
        &mut self,
        ctx: &Ctx<'_>,
        d: Option<&crate::Detection>,
        direction: Direction,
        layers: &[&str],
        context: Option<Context<'_>>,
        bytes: &[u8],
        found: &mut Found,
    ) {
        let seen = Seen {
            flow: ctx.flow,
            direction,
            ts: ctx.ts,
            frame: ctx.frame,
        };
        if let Some(d) = d {
            self.scan_profile(d, seen, layers, bytes, found);
        }
        // Pattern detectors read text the device sent: random-looking bytes (an upload of
        // media, a compressed blob not undone) and replies are left to the profile's scanner.
        let context = context.filter(|_| {
            direction == Direction::ClientToServer && !phonehome_detect::decode::looks_opaque(bytes)
        });
        if let (Some(p), Some(context)) = (self.patterns.clone(), context) {
            let mut hits = std::mem::take(&mut self.pattern_hits);
            hits.clear();
            p.find(context, bytes, &mut hits);
            let spans: Vec<(usize, usize, &str)> = hits
                .iter()
                .map(|h| (h.offset, h.len, h.data_type.as_str()))
                .collect();
            for hit in &hits {
                let key = (
                    hit.data_type,
                    hit.detector,
                    hit.key.clone(),
                    hit.value.clone(),
                );
                if found.patterns.contains(&key) {
                    continue;
                }
                found.patterns.push(key);
                let zone = self.zone.clone();
                if let Some(f) = self.findings.record_pattern(hit, seen, layers) {
                    set_excerpts(f, bytes, hit.offset, hit.len, &spans);
                    f.zone = zone;
                }
            }
            self.pattern_hits = hits;
        }
    }

    fn scan_profile(
        &mut self,
        d: &crate::Detection,
        seen: Seen,
        layers: &[&str],
        bytes: &[u8],
        found: &mut Found,
    ) {
        self.hits.clear();
        d.find_into(bytes, &mut self.hits);
        if self.hits.is_empty() {
            return;
        }
        let hits = std::mem::take(&mut self.hits);
        let value_of = |h: &phonehome_detect::scanner::Hit| {
            d.variants
                .get(h.variant)
                .map(|v| (v.data_type, v.label.as_str()))
        };
        // One value matched by several of its forms at one place (the URL form "%2B8869..."
        // holds the bare "8869..."): only the widest match is the finding.
        let end = |h: &phonehome_detect::scanner::Hit| h.offset.saturating_add(u64::from(h.len));
        let mut new_values: Vec<(DataType, String)> = Vec::new();
        for (i, hit) in hits.iter().enumerate() {
            let Some(value) = value_of(hit) else {
                continue;
            };
            if found.values.iter().any(|(t, l)| (*t, l.as_str()) == value) {
                continue;
            }
            let inside = hits.iter().enumerate().any(|(j, o)| {
                j != i
                    && value_of(o) == Some(value)
                    && o.offset <= hit.offset
                    && end(o) >= end(hit)
                    && (o.len > hit.len || j < i)
            });
            if !inside {
                let zone = self.zone.clone();
                if let Some(f) = self.findings.record(&d.variants, hit, seen, layers) {
                    let start = usize::try_from(hit.offset).unwrap_or(usize::MAX);
                    let len = hit.len as usize;
                    set_excerpts(f, bytes, start, len, &[(start, len, value.0.as_str())]);
                    f.zone = zone;
                }
                if !new_values.iter().any(|(t, l)| (*t, l.as_str()) == value) {
                    new_values.push((value.0, value.1.to_string()));
                }
            }
        }
        found.values.extend(new_values);
        self.hits = hits;
        self.hits.clear();
    }
}

/// A finding's two excerpts around `bytes[start..start + len]`: with the spans of `mask`
/// replaced by their labels (the hit's own among them), and clear for `--show-values`.
fn set_excerpts(
    f: &mut Finding,
    bytes: &[u8],
    start: usize,
    len: usize,
    mask: &[(usize, usize, &str)],
) {
    f.excerpt = Some(excerpt_masking(bytes, start, len, mask));
    f.excerpt_clear = Some(excerpt_masking(bytes, start, len, &[]));
}

/// Values already reported from one buffer or a view of it: a decoded view repeats what its
/// source holds, and is not a second sighting.
#[derive(Default)]
struct Found {
    values: Vec<(DataType, String)>,
    patterns: Vec<(DataType, &'static str, Option<String>, String)>,
}

/// How the pattern detectors read a buffer: by what it is (`hint`) or, for a decoded view, by
/// its innermost layer. Opaque payloads (`Payload` at the top) are left to the profile: shapes
/// alone in arbitrary bytes are too weak a sign.
fn pattern_context<'a>(hint: Hint<'a>, inner: &[&str]) -> Option<Context<'a>> {
    match (inner.last(), hint) {
        (Some(&("query" | "form")), _) => return Some(Context::Form),
        (Some(&"json"), _) => return Some(Context::Json),
        (Some(_), Hint::Payload) => return None,
        (Some(_), _) => return Some(Context::Payload),
        (None, _) => {}
    }
    match hint {
        Hint::Uri => Some(Context::Uri),
        Hint::Header { name } => Some(Context::Header { name }),
        Hint::Body { content_type } => Some(Context::Body { content_type }),
        Hint::DnsName => Some(Context::DnsName),
        Hint::Payload => None,
    }
}

/// Where a record was seen: input, frame, and order within the frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Position {
    pub(crate) input: usize,
    pub(crate) frame: u64,
}

/// One DNS message.
#[derive(Debug)]
pub(crate) struct DnsRecord {
    pub(crate) ts: Timestamp,
    pub(crate) pos: Position,
    pub(crate) flow: u64,
    pub(crate) msg: dns::Message,
    /// How the message travelled inside HTTP ([`over_http::Form::as_str`]); `None` for DNS
    /// on its own datagram or stream.
    pub(crate) carrier: Option<&'static str>,
}

impl DnsRecord {
    pub(crate) fn new(ctx: &Ctx<'_>, msg: &dns::Message) -> Self {
        Self {
            ts: ctx.ts,
            pos: Position {
                input: ctx.input,
                frame: ctx.frame,
            },
            flow: ctx.flow,
            msg: msg.clone(),
            carrier: None,
        }
    }
}

/// One HTTP message, summarised.
#[derive(Debug)]
pub(crate) struct HttpRecord {
    pub(crate) ts: Timestamp,
    pub(crate) pos: Position,
    pub(crate) flow: u64,
    pub(crate) request: bool,
    pub(crate) method: Option<String>,
    pub(crate) uri: Option<String>,
    pub(crate) status: Option<u16>,
    pub(crate) host: Option<String>,
    pub(crate) user_agent: Option<String>,
    pub(crate) content_type: Option<String>,
    pub(crate) body_len: u64,
    pub(crate) encodings: Vec<String>,
    /// "http1", "h2" or "h3".
    pub(crate) transport: &'static str,
    /// Seen through TLS or QUIC decryption.
    pub(crate) decrypted: bool,
    /// The decoded body, when asked for, up to [`BODY_KEEP`] bytes.
    pub(crate) body: Option<Vec<u8>>,
    /// Bits per byte of the body's first 4 KiB, when it looks like ciphertext.
    pub(crate) body_entropy: Option<f64>,
}

/// Body bytes kept per HTTP message with `--http-bodies`.
pub(crate) const BODY_KEEP: usize = 64 << 10;

impl HttpRecord {
    pub(crate) fn new(ctx: &Ctx<'_>, msg: &http::Message, info: &mut FlowInfo) -> Self {
        let text = |v: Option<&str>| v.map(str::to_string);
        let host = text(msg.host());
        let (request, method, uri, status) = match &msg.kind {
            http::Kind::Request { method, uri } => {
                (true, Some(method.clone()), Some(uri.clone()), None)
            }
            http::Kind::Response { status, .. } => (false, None, None, Some(*status)),
        };
        if let Some(h) = &host {
            if request && info.http_hosts.len() < MAX_HOSTS && !info.http_hosts.contains(h) {
                info.http_hosts.push(h.clone());
            }
        }
        Self {
            ts: ctx.ts,
            pos: Position {
                input: ctx.input,
                frame: ctx.frame,
            },
            flow: ctx.flow,
            request,
            method,
            uri,
            status,
            host,
            user_agent: text(msg.user_agent()),
            content_type: text(msg.content_type()),
            body_len: msg.body.len() as u64,
            encodings: msg.encodings.clone(),
            transport: "http1",
            decrypted: false,
            body: ctx
                .http_bodies
                .then(|| msg.body[..msg.body.len().min(BODY_KEEP)].to_vec()),
            body_entropy: phonehome_enrich::blind::looks_encrypted(
                &msg.body[..msg.body.len().min(4096)],
            ),
        }
    }
}

//! HTTP/1.x (RFC 9112) over a reassembled TCP stream, and HTTP over UDP (SSDP).
//!
//! A [`Parser`] reads one direction of a connection: bytes and gaps in, complete [`Message`]s
//! out, no I/O. Heads are parsed by `httparse`; body framing (RFC 9112 6: Content-Length,
//! chunked with extensions and trailers, read-until-close, no body for HEAD/1xx/204/304) and
//! pipelining are handled here. Bodies come out decoded: chunk framing removed and the
//! transfer and content codings (gzip, deflate, br, zstd, stacked ones too) undone, because
//! what a phone sends is usually compressed and the detectors need the plain bytes.
//!
//! # Contract
//! No input panics. Memory is bounded by [`Limits`]: a head larger than `max_head` bytes is
//! dropped and the stream searched for the next message start; body bytes beyond `max_body`
//! are counted in [`Message::body_len_wire`] but not kept (`body_truncated`), and decoded
//! output stops at `max_decoded`. Lost bytes ([`Parser::gap`]) end the message they fall in
//! (flagged `incomplete`) unless its length is known, and parsing resumes at the next line
//! that starts like a message. Everything dropped is counted in [`Stats`].
//!
//! ```
//! use phonehome_app::http::{Direction, Limits, Parser};
//! let mut p = Parser::new(Direction::Request, Limits::default());
//! let mut out = Vec::new();
//! p.push(b"GET /a HTTP/1.1\r\nHost: example.com\r\n\r\nGET /b HT", &mut out);
//! p.push(b"TP/1.1\r\nHost: example.com\r\n\r\n", &mut out);
//! assert_eq!(out.len(), 2);
//! assert_eq!(out[1].host(), Some("example.com"));
//! ```

pub(crate) mod decode;
mod parser;

#[doc(hidden)]
pub mod fuzzing;

pub use parser::Parser;

/// Which side of the connection a [`Parser`] reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Request,
    Response,
}

/// Memory bounds for one parser.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest head (start line and fields) kept before the message is dropped.
    pub max_head: usize,
    /// Most header fields parsed in one head.
    pub max_headers: usize,
    /// Wire body bytes kept per message; more are counted only.
    pub max_body: usize,
    /// Decoded body bytes kept per message.
    pub max_decoded: usize,
    /// Request methods remembered for the responses still to come.
    pub max_pending_requests: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_head: 64 << 10,
            max_headers: 256,
            max_body: 16 << 20,
            max_decoded: 16 << 20,
            max_pending_requests: 256,
        }
    }
}

/// Start line of a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    Request { method: String, uri: String },
    Response { status: u16, reason: String },
}

/// One HTTP message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub kind: Kind,
    /// Minor version: 0 for HTTP/1.0, 1 for HTTP/1.1; 2 and 3 for HTTP/2 and HTTP/3.
    pub version: u8,
    /// Fields as sent: name case kept, values as raw bytes.
    pub headers: Vec<(String, Vec<u8>)>,
    /// Trailer fields after a chunked body (RFC 9112 7.1.2).
    pub trailers: Vec<(String, Vec<u8>)>,
    /// The body with chunk framing removed and the codings in `encodings` undone.
    pub body: Vec<u8>,
    /// Body length on the wire after de-chunking, before decoding; counts bytes not kept.
    pub body_len_wire: u64,
    /// Codings undone, outermost first (e.g. `["gzip", "gzip"]` for `gzip, gzip`).
    pub encodings: Vec<String>,
    /// `body` is not the whole body: the wire or decoded size cap was reached.
    pub body_truncated: bool,
    /// Why decoding failed; `body` then holds the undecoded bytes (or a partial decode of a
    /// cut-short body, with the coding listed in `encodings`).
    pub decode_error: Option<String>,
    /// The body was chunked on the wire.
    pub chunked: bool,
    /// Bytes of this message were lost (gap) or the stream ended before its end.
    pub incomplete: bool,
    /// Stream offset of the first byte of the start line.
    pub offset: u64,
    /// The protocol an extended CONNECT opened on this stream (`:protocol`, RFC 8441 for
    /// HTTP/2, RFC 9220 for HTTP/3), lower-cased: set on the request and on its 2xx response.
    /// The body is then that protocol's bytes (WebSocket frames), not content.
    pub tunnel: Option<String>,
}

impl Message {
    /// First field named `name` (ASCII case-insensitive).
    pub fn header(&self, name: &str) -> Option<&[u8]> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_slice())
    }

    /// A field value as trimmed text; `None` if absent or not UTF-8 (see [`Message::header`]).
    pub fn header_str(&self, name: &str) -> Option<&str> {
        std::str::from_utf8(self.header(name)?).ok().map(str::trim)
    }

    /// Host field, else the authority of an absolute-form or authority-form target
    /// (RFC 9112 3.2.2-3.2.3).
    pub fn host(&self) -> Option<&str> {
        if let Some(h) = self.header_str("host") {
            return Some(h);
        }
        let Kind::Request { method, uri } = &self.kind else {
            return None;
        };
        if method.eq_ignore_ascii_case("CONNECT") {
            return Some(uri);
        }
        let rest = uri.split_once("://")?.1;
        let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        // Drop userinfo: it is not the host.
        let authority = &rest[..end];
        Some(authority.rsplit_once('@').map_or(authority, |(_, h)| h))
    }

    pub fn user_agent(&self) -> Option<&str> {
        self.header_str("user-agent")
    }

    pub fn content_type(&self) -> Option<&str> {
        self.header_str("content-type")
    }

    /// Response status, if this is a response.
    pub fn status(&self) -> Option<u16> {
        match self.kind {
            Kind::Response { status, .. } => Some(status),
            Kind::Request { .. } => None,
        }
    }
}

/// What a parser saw and dropped.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    pub messages: u64,
    /// Lines that did not start like a message where one was expected.
    pub bad_starts: u64,
    /// Heads that httparse rejected.
    pub bad_heads: u64,
    /// Heads larger than `max_head`.
    pub oversized_heads: u64,
    /// Bytes dropped while looking for a message start.
    pub skipped_bytes: u64,
    pub gaps: u64,
    /// Messages ended early by a gap, a framing error or the end of the stream.
    pub incomplete: u64,
    /// Bytes after a protocol switch (101, CONNECT), not parsed.
    pub opaque_bytes: u64,
    /// Request methods forgotten because too many responses were outstanding.
    pub dropped_requests: u64,
}

/// Methods recognised by the content checks (RFC 9110 9, WebDAV, UPnP/SSDP, GENA).
const METHODS: &[&[u8]] = &[
    b"GET",
    b"POST",
    b"HEAD",
    b"PUT",
    b"DELETE",
    b"OPTIONS",
    b"PATCH",
    b"CONNECT",
    b"TRACE",
    b"M-SEARCH",
    b"NOTIFY",
    b"SUBSCRIBE",
    b"UNSUBSCRIBE",
    b"PROPFIND",
    b"PROPPATCH",
    b"MKCOL",
    b"COPY",
    b"MOVE",
    b"LOCK",
    b"UNLOCK",
    b"REPORT",
    b"SEARCH",
];

/// The first line of `data`, without its line ending, or everything if no LF is there yet.
fn first_line(data: &[u8]) -> (&[u8], bool) {
    match data.iter().position(|&b| b == b'\n') {
        Some(i) => (data[..i].strip_suffix(b"\r").unwrap_or(&data[..i]), true),
        None => (data, false),
    }
}

/// Content check for a request start on any port: a known method, a target, and (when the
/// line is complete) an `HTTP/1.x` version (RFC 9112 3).
pub fn looks_like_request(data: &[u8]) -> bool {
    let Some(sp) = data.iter().take(12).position(|&b| b == b' ') else {
        return false;
    };
    if !METHODS.contains(&&data[..sp]) {
        return false;
    }
    let (line, complete) = first_line(&data[sp + 1..]);
    match line.first() {
        Some(b'/' | b'*') => {}
        Some(c) if c.is_ascii_alphanumeric() => {}
        _ => return false,
    }
    if line.iter().any(|&b| b < 0x20 || b == 0x7F) {
        return false;
    }
    !complete
        || matches!(
            line.rsplit(|&b| b == b' ').next(),
            Some(b"HTTP/1.0" | b"HTTP/1.1")
        )
}

/// Content check for a response start: `HTTP/1.x` and a three-digit status (RFC 9112 4).
pub fn looks_like_response(data: &[u8]) -> bool {
    match data.get(..12) {
        Some([b'H', b'T', b'T', b'P', b'/', b'1', b'.', b'0' | b'1', b' ', a, b, c]) => {
            [a, b, c].iter().all(|d| d.is_ascii_digit())
                && matches!(data.get(12), None | Some(b' ' | b'\r' | b'\n'))
        }
        _ => false,
    }
}

/// Parses one HTTP message carried in a single datagram (SSDP M-SEARCH/NOTIFY and their
/// responses, HTTPU). A body without Content-Length runs to the end of the datagram.
pub fn parse_datagram(payload: &[u8]) -> Option<Message> {
    let dir = if looks_like_response(payload) {
        Direction::Response
    } else if looks_like_request(payload) {
        Direction::Request
    } else {
        return None;
    };
    let mut p = Parser::new(dir, Limits::default());
    let mut out = Vec::new();
    p.push(payload, &mut out);
    p.finish(&mut out);
    out.into_iter().next()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// SSDP discovery as phones send it (UPnP Device Architecture 1.1, 1.3.2).
    const M_SEARCH: &[u8] = b"M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: \"ssdp:discover\"\r\nMX: 1\r\nST: urn:dial-multiscreen-org:service:dial:1\r\nUSER-AGENT: Google Chrome/120.0 Android\r\n\r\n";

    #[test]
    fn datagram_m_search() {
        let m = parse_datagram(M_SEARCH).unwrap();
        assert_eq!(
            m.kind,
            Kind::Request {
                method: "M-SEARCH".into(),
                uri: "*".into()
            }
        );
        assert_eq!(m.host(), Some("239.255.255.250:1900"));
        assert_eq!(m.user_agent(), Some("Google Chrome/120.0 Android"));
        assert_eq!(
            m.header("st"),
            Some(&b"urn:dial-multiscreen-org:service:dial:1"[..])
        );
        let resp = b"HTTP/1.1 200 OK\r\nCACHE-CONTROL: max-age=1800\r\nLOCATION: http://192.168.1.4:8008/ssdp/device-desc.xml\r\n\r\n";
        let r = parse_datagram(resp).unwrap();
        assert_eq!(
            (r.status(), r.body.len(), r.incomplete),
            (Some(200), 0, false)
        );
        assert!(parse_datagram(b"\x16\x03\x01\x00").is_none());
    }

    #[test]
    fn content_checks_table() {
        let cases: &[(&[u8], bool, bool)] = &[
            (b"GET / HTTP/1.1\r\n", true, false),
            (b"GET /partial-line-without-end", true, false),
            (b"POST http://x/y HTTP/1.0\r\n", true, false),
            (M_SEARCH, true, false),
            (b"GET / HTTP/2.0\r\n", false, false),
            (b"GETX / HTTP/1.1\r\n", false, false),
            (b"GET \x00 HTTP/1.1\r\n", false, false),
            (b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", false, false),
            (b"HTTP/1.1 200 OK\r\n", false, true),
            (b"HTTP/1.0 404\r\n", false, true),
            (b"HTTP/1.1 20x OK\r\n", false, false),
            (b"HTTP/2 200\r\n", false, false),
            (b"\x16\x03\x01\x02\x00", false, false),
        ];
        for (data, req, resp) in cases {
            assert_eq!(
                (looks_like_request(data), looks_like_response(data)),
                (*req, *resp),
                "{:?}",
                data.escape_ascii().to_string()
            );
        }
    }

    #[test]
    fn host_from_target() {
        let m = |method: &str, uri: &str| Message {
            kind: Kind::Request {
                method: method.into(),
                uri: uri.into(),
            },
            version: 1,
            headers: Vec::new(),
            trailers: Vec::new(),
            body: Vec::new(),
            body_len_wire: 0,
            encodings: Vec::new(),
            body_truncated: false,
            decode_error: None,
            chunked: false,
            incomplete: false,
            offset: 0,
            tunnel: None,
        };
        assert_eq!(
            m("GET", "http://user@a.example:8080/p?q").host(),
            Some("a.example:8080")
        );
        assert_eq!(m("CONNECT", "b.example:443").host(), Some("b.example:443"));
        assert_eq!(m("GET", "/p").host(), None);
    }
}

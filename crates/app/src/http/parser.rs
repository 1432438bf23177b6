//! The per-direction HTTP/1.x stream parser (RFC 9112).
//!
//! Every decision depends only on the bytes seen, never on where segments were cut: heads are
//! buffered line by line, and a rejected head is replayed from its second line, so a message
//! hidden behind a garbage line is still found.

use std::collections::VecDeque;

use super::decode;
use super::{Direction, Kind, Limits, Message, Stats};

/// Longest chunk-size or trailer line (chunk extensions included).
const MAX_CHUNK_LINE: usize = 4096;

/// Longest method token accepted at a message start.
const MAX_METHOD: usize = 20;

/// Header slots tried on the stack before falling back to `Limits::max_headers` on the heap.
const STACK_HEADERS: usize = 64;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// At or inside a head; `buf` holds it so far.
    Head,
    /// Dropping bytes up to and including the next LF, then expecting a start line.
    SkipLine,
    Body(Body),
    /// After a protocol switch (101, CONNECT 2xx): the rest is not HTTP/1.
    Opaque,
}

/// RFC 9112 6.3: how the body of the current message ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Body {
    Length(u64),
    /// Response read until the connection closes.
    Close,
    ChunkSize,
    ChunkData(u64),
    /// The CRLF after chunk data.
    ChunkEnd,
    Trailers,
}

/// What a request implies for the framing of its response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pending {
    Head,
    Connect,
    Other,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Start {
    Yes,
    No,
    Maybe,
}

/// Parses one direction of an HTTP/1.x connection. See the module docs.
#[derive(Debug)]
pub struct Parser {
    dir: Direction,
    limits: Limits,
    state: State,
    /// Head, chunk-size or trailer line bytes.
    buf: Vec<u8>,
    /// The start line was recognised (method or `HTTP/1.` seen).
    confirmed: bool,
    /// Complete lines in `buf` (head state).
    lines: usize,
    /// Stream offset of `buf[0]` in head state.
    head_offset: u64,
    /// Stream offset of the next new byte.
    pos: u64,
    msg: Option<Message>,
    /// Codings to undo for `msg`, in the order the sender applied them.
    codings: Vec<String>,
    /// Body bytes of `msg` lost in a gap.
    hole: bool,
    requests: VecDeque<Pending>,
    /// Messages completed by `gap`, handed out by the next `push`/`finish`.
    pending: Vec<Message>,
    stats: Stats,
}

impl Parser {
    pub fn new(dir: Direction, limits: Limits) -> Self {
        Self {
            dir,
            limits,
            state: State::Head,
            buf: Vec::new(),
            confirmed: false,
            lines: 0,
            head_offset: 0,
            pos: 0,
            msg: None,
            codings: Vec::new(),
            hole: false,
            requests: VecDeque::new(),
            pending: Vec::new(),
            stats: Stats::default(),
        }
    }

    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// Response side: the next request (in order) was `HEAD`, so its response has no body.
    pub fn expect_head_response(&mut self) {
        self.expect_response("HEAD");
    }

    /// Response side: a request with `method` was sent; call once per request, in order.
    /// Responses to HEAD have no body and a 2xx to CONNECT starts a tunnel (RFC 9112 6.3).
    pub fn expect_response(&mut self, method: &str) {
        if self.requests.len() >= self.limits.max_pending_requests {
            self.requests.pop_front();
            self.stats.dropped_requests += 1;
        }
        self.requests
            .push_back(if method.eq_ignore_ascii_case("HEAD") {
                Pending::Head
            } else if method.eq_ignore_ascii_case("CONNECT") {
                Pending::Connect
            } else {
                Pending::Other
            });
    }

    /// Feeds in-order stream bytes; complete messages are appended to `out`.
    pub fn push(&mut self, data: &[u8], out: &mut Vec<Message>) {
        out.append(&mut self.pending);
        // Bytes of a rejected head, fed again before `data` (they precede it in the stream).
        let mut replay: Vec<u8> = Vec::new();
        let mut rpos = 0usize;
        let mut replay_at = 0u64;
        let mut data = data;
        loop {
            if rpos < replay.len() {
                let at = replay_at + rpos as u64;
                let (n, again) = self.step(&replay[rpos..], at, out);
                rpos += n;
                if let Some((base, mut more)) = again {
                    more.extend_from_slice(&replay[rpos..]);
                    replay = more;
                    rpos = 0;
                    replay_at = base;
                }
            } else if !data.is_empty() {
                let (n, again) = self.step(data, self.pos, out);
                data = &data[n..];
                self.pos += n as u64;
                if let Some((base, more)) = again {
                    replay = more;
                    rpos = 0;
                    replay_at = base;
                }
            } else {
                break;
            }
        }
    }

    /// `len` bytes of the stream were lost.
    pub fn gap(&mut self, len: u64) {
        self.stats.gaps += 1;
        self.pos = self.pos.saturating_add(len);
        match self.state {
            State::Opaque => {}
            State::Body(Body::Length(n)) if len < n => {
                self.hole = true;
                self.state = State::Body(Body::Length(n - len));
            }
            State::Body(Body::Length(n)) if len == n => {
                self.hole = true;
                self.complete(None);
            }
            State::Body(Body::ChunkData(n)) if len < n => {
                self.hole = true;
                self.state = State::Body(Body::ChunkData(n - len));
            }
            State::Body(Body::Close) => self.hole = true,
            State::Body(_) => {
                self.hole = true;
                self.stats.incomplete += 1;
                self.complete(None);
            }
            State::Head | State::SkipLine => {
                self.stats.skipped_bytes += self.buf.len() as u64;
                self.reset_head();
            }
        }
    }

    /// End of stream: a body delimited by the close completes; anything else open is flagged.
    pub fn finish(&mut self, out: &mut Vec<Message>) {
        out.append(&mut self.pending);
        match self.state {
            State::Body(Body::Close) => self.complete(Some(out)),
            State::Body(_) => {
                self.stats.incomplete += 1;
                if let Some(m) = self.msg.as_mut() {
                    m.incomplete = true;
                }
                self.complete(Some(out));
            }
            State::Head => {
                self.stats.skipped_bytes += self.buf.len() as u64;
                self.reset_head();
            }
            State::SkipLine | State::Opaque => {}
        }
        out.append(&mut self.pending);
    }

    fn reset_head(&mut self) {
        self.buf.clear();
        self.confirmed = false;
        self.lines = 0;
        self.state = State::Head;
    }

    /// Consumes a prefix of `input` (which starts at stream offset `at`); may hand back bytes
    /// to replay, with their offset.
    fn step(
        &mut self,
        input: &[u8],
        at: u64,
        out: &mut Vec<Message>,
    ) -> (usize, Option<(u64, Vec<u8>)>) {
        match self.state {
            State::Opaque => {
                self.stats.opaque_bytes += input.len() as u64;
                (input.len(), None)
            }
            State::SkipLine => match input.iter().position(|&b| b == b'\n') {
                Some(i) => {
                    self.stats.skipped_bytes += i as u64 + 1;
                    self.reset_head();
                    (i + 1, None)
                }
                None => {
                    self.stats.skipped_bytes += input.len() as u64;
                    (input.len(), None)
                }
            },
            State::Head => self.head(input, at, out),
            State::Body(b) => (self.body(b, input, out), None),
        }
    }

    fn head(
        &mut self,
        input: &[u8],
        at: u64,
        out: &mut Vec<Message>,
    ) -> (usize, Option<(u64, Vec<u8>)>) {
        let mut i = 0;
        if self.buf.is_empty() {
            // RFC 9112 2.2: empty lines before a start line are ignored.
            while input.get(i).is_some_and(|b| matches!(b, b'\r' | b'\n')) {
                i += 1;
            }
            if i == input.len() {
                return (i, None);
            }
            self.head_offset = at + i as u64;
        }
        if !self.confirmed {
            match start(self.dir, &self.buf, &input[i..]) {
                Start::Yes => self.confirmed = true,
                Start::Maybe => {
                    self.buf.extend_from_slice(&input[i..]);
                    return (input.len(), None);
                }
                Start::No => {
                    // `buf` holds no LF (an LF decides `No` at once), so the bad line goes on
                    // in `input`.
                    self.stats.bad_starts += 1;
                    self.stats.skipped_bytes += self.buf.len() as u64;
                    self.buf.clear();
                    self.state = State::SkipLine;
                    return (i, None);
                }
            }
        }
        let rest = &input[i..];
        let (line_len, complete) = match rest.iter().position(|&b| b == b'\n') {
            Some(k) => (k + 1, true),
            None => (rest.len(), false),
        };
        let room = self.limits.max_head.saturating_sub(self.buf.len());
        if line_len > room || (!complete && line_len == room) {
            self.buf.extend_from_slice(&rest[..room.min(line_len)]);
            self.stats.oversized_heads += 1;
            return (i + room.min(line_len), self.head_failed());
        }
        self.buf.extend_from_slice(&rest[..line_len]);
        let used = i + line_len;
        if !complete {
            return (used, None);
        }
        self.lines += 1;
        if self.lines == 1 && !start_line_ok(self.dir, &self.buf) {
            self.stats.bad_starts += 1;
            return (used, self.head_failed());
        }
        if self.lines == 1 || !(self.buf.ends_with(b"\n\n") || self.buf.ends_with(b"\n\r\n")) {
            return (used, None);
        }
        match self.parse_head(out) {
            Ok(()) => (used, None),
            Err(()) => {
                self.stats.bad_heads += 1;
                (used, self.head_failed())
            }
        }
    }

    /// Drops the head's first line and hands the rest back for a new look.
    fn head_failed(&mut self) -> Option<(u64, Vec<u8>)> {
        let nl = self.buf.iter().position(|&b| b == b'\n');
        let replay = match nl {
            Some(k) => {
                self.stats.skipped_bytes += k as u64 + 1;
                let base = self.head_offset + k as u64 + 1;
                let rest = self.buf.split_off(k + 1);
                Some((base, rest))
            }
            None => {
                self.stats.skipped_bytes += self.buf.len() as u64;
                None
            }
        };
        self.reset_head();
        if replay.is_none() {
            // Still inside the first line: drop the rest of it.
            self.state = State::SkipLine;
        }
        replay.filter(|(_, r)| !r.is_empty())
    }

    /// Parses the complete head in `buf` and sets up body framing.
    fn parse_head(&mut self, out: &mut Vec<Message>) -> Result<(), ()> {
        let head = parse_fields(self.dir, &self.buf, self.limits.max_headers).ok_or(())?;
        let (mut msg, te, cl) = head;
        msg.offset = self.head_offset;
        self.buf.clear();
        self.confirmed = false;
        self.lines = 0;
        self.hole = false;
        self.codings.clear();

        // RFC 9112 6.1: transfer codings, the last of which must be chunked to frame a body.
        let mut chunked = false;
        let mut te_codings = Vec::new();
        if let Some(te) = &te {
            for c in te
                .split(',')
                .map(|c| c.trim().to_ascii_lowercase())
                .filter(|c| !c.is_empty())
            {
                te_codings.push(c);
            }
            chunked = te_codings.last().is_some_and(|c| c == "chunked");
            if chunked {
                te_codings.pop();
            }
            // A coding listed after chunked is broken framing; treat it as body coding.
            te_codings.retain(|c| c != "chunked");
        }
        // RFC 9110 8.4: content codings in the order applied; transfer codings came after.
        for v in msg
            .headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case("content-encoding"))
        {
            let v = String::from_utf8_lossy(&v.1);
            self.codings.extend(
                v.split(',')
                    .map(|c| c.trim().to_ascii_lowercase())
                    .filter(|c| !c.is_empty()),
            );
        }
        self.codings.extend(te_codings);
        msg.chunked = chunked;

        let framing = match (&msg.kind, self.dir) {
            (Kind::Request { method, .. }, _) => {
                let connect = method.eq_ignore_ascii_case("CONNECT");
                if te.is_some() && !chunked {
                    // RFC 9112 6.3 item 4: the request is unframeable; later bytes resync.
                    msg.decode_error = Some("transfer-encoding without final chunked".into());
                    Framing::None
                } else if chunked {
                    Framing::Body(Body::ChunkSize)
                } else if let Some(len) = cl {
                    match len {
                        Some(n) => Framing::Body(Body::Length(n)),
                        None => {
                            msg.decode_error = Some("invalid content-length".into());
                            Framing::None
                        }
                    }
                } else if connect {
                    Framing::Tunnel
                } else {
                    Framing::None
                }
            }
            (Kind::Response { status, .. }, _) => {
                let status = *status;
                // 1xx other than 101 are interim: the request still waits for its answer.
                let req = if (100..200).contains(&status) && status != 101 {
                    Pending::Other
                } else {
                    self.requests.pop_front().unwrap_or(Pending::Other)
                };
                if status == 101 || (req == Pending::Connect && (200..300).contains(&status)) {
                    Framing::Tunnel
                } else if req == Pending::Head
                    || (100..200).contains(&status)
                    || status == 204
                    || status == 304
                {
                    // RFC 9112 6.3 item 1.
                    Framing::None
                } else if chunked {
                    Framing::Body(Body::ChunkSize)
                } else if te.is_some() {
                    // RFC 9112 6.3 item 4: read until close.
                    Framing::Body(Body::Close)
                } else {
                    match cl {
                        Some(Some(n)) => Framing::Body(Body::Length(n)),
                        _ => Framing::Body(Body::Close),
                    }
                }
            }
        };
        self.msg = Some(msg);
        match framing {
            Framing::Body(Body::Length(0)) | Framing::None => {
                self.complete(Some(out));
            }
            Framing::Tunnel => {
                self.complete(Some(out));
                self.state = State::Opaque;
            }
            Framing::Body(b) => self.state = State::Body(b),
        }
        Ok(())
    }

    /// Consumes body bytes; returns how many.
    fn body(&mut self, b: Body, input: &[u8], out: &mut Vec<Message>) -> usize {
        match b {
            Body::Length(n) | Body::ChunkData(n) => {
                let k = usize::try_from(n).unwrap_or(usize::MAX).min(input.len());
                self.keep(&input[..k]);
                let left = n - k as u64;
                self.state = match (b, left) {
                    (Body::Length(_), 0) => {
                        self.complete(Some(out));
                        return k;
                    }
                    (Body::Length(_), _) => State::Body(Body::Length(left)),
                    (_, 0) => State::Body(Body::ChunkEnd),
                    _ => State::Body(Body::ChunkData(left)),
                };
                k
            }
            Body::Close => {
                self.keep(input);
                input.len()
            }
            Body::ChunkSize | Body::ChunkEnd | Body::Trailers => {
                let (used, line) = self.line(input);
                let Some(ok) = line else { return used };
                if !ok {
                    self.broken("chunk line too long", out);
                    return used;
                }
                let line = self.buf.strip_suffix(b"\n").unwrap_or(&self.buf);
                let line = line.strip_suffix(b"\r").unwrap_or(line);
                match b {
                    // RFC 9112 7.1: chunk-size [ chunk-ext ] CRLF
                    Body::ChunkSize => match chunk_size(line) {
                        Some(0) => self.state = State::Body(Body::Trailers),
                        Some(n) => self.state = State::Body(Body::ChunkData(n)),
                        None => {
                            self.buf.clear();
                            self.broken("bad chunk size", out);
                            return used;
                        }
                    },
                    // Tolerated: anything before the CRLF that ends chunk data is ignored.
                    Body::ChunkEnd => self.state = State::Body(Body::ChunkSize),
                    _ => {
                        if line.is_empty() {
                            self.buf.clear();
                            self.complete(Some(out));
                            return used;
                        }
                        // RFC 9112 7.1.2: trailer fields, same syntax as header fields.
                        if let Some(colon) = line.iter().position(|&b| b == b':') {
                            let name = String::from_utf8_lossy(&line[..colon]).trim().to_string();
                            let value = line[colon + 1..].trim_ascii().to_vec();
                            let kept: usize = self.msg.as_ref().map_or(0, |m| {
                                m.trailers.iter().map(|(n, v)| n.len() + v.len()).sum()
                            });
                            if let Some(m) =
                                self.msg.as_mut().filter(|_| kept < self.limits.max_head)
                            {
                                m.trailers.push((name, value));
                            }
                        }
                    }
                }
                self.buf.clear();
                used
            }
        }
    }

    /// Accumulates one line into `buf`; `Some(true)` when complete, `Some(false)` when too long.
    fn line(&mut self, input: &[u8]) -> (usize, Option<bool>) {
        let (len, complete) = match input.iter().position(|&b| b == b'\n') {
            Some(k) => (k + 1, true),
            None => (input.len(), false),
        };
        let room = MAX_CHUNK_LINE.saturating_sub(self.buf.len());
        if len > room || (!complete && len == room) {
            self.buf.clear();
            return (room.min(len), Some(false));
        }
        self.buf.extend_from_slice(&input[..len]);
        (len, complete.then_some(true))
    }

    /// Ends the current message at a framing error; following bytes are looked at afresh.
    fn broken(&mut self, why: &str, out: &mut Vec<Message>) {
        self.stats.incomplete += 1;
        if let Some(m) = self.msg.as_mut() {
            m.incomplete = true;
            m.decode_error = Some(why.to_string());
        }
        self.complete(Some(out));
    }

    /// Keeps body bytes up to the cap, counting all of them.
    fn keep(&mut self, bytes: &[u8]) {
        let Some(m) = self.msg.as_mut() else { return };
        m.body_len_wire = m.body_len_wire.saturating_add(bytes.len() as u64);
        let room = self.limits.max_body.saturating_sub(m.body.len());
        if bytes.len() > room {
            m.body_truncated = true;
        }
        m.body.extend_from_slice(&bytes[..room.min(bytes.len())]);
    }

    /// Finishes the current message: decodes it and hands it to `out` (or to `pending` when
    /// called from `gap`). The next bytes are a new head.
    fn complete(&mut self, out: Option<&mut Vec<Message>>) {
        self.reset_head();
        let Some(mut m) = self.msg.take() else { return };
        if self.hole {
            m.incomplete = true;
        }
        if !self.codings.is_empty() && m.decode_error.is_none() {
            if self.hole {
                m.decode_error = Some("bytes missing from the body; not decoded".into());
            } else {
                let raw = std::mem::take(&mut m.body);
                let d = decode::decode(
                    raw,
                    &self.codings,
                    self.limits.max_decoded,
                    !m.incomplete && !m.body_truncated,
                );
                m.body = d.body;
                m.encodings = d.applied;
                m.decode_error = d.error;
                m.body_truncated |= d.truncated;
            }
        }
        self.hole = false;
        self.stats.messages += 1;
        match out {
            Some(out) => out.push(m),
            None => self.pending.push(m),
        }
    }
}

enum Framing {
    None,
    Body(Body),
    Tunnel,
}

/// Decides from the first bytes whether a start line can begin here (RFC 9112 3, 4).
fn start(dir: Direction, buf: &[u8], input: &[u8]) -> Start {
    let bytes = buf.iter().chain(input.iter()).copied();
    match dir {
        Direction::Response => {
            let mut n = 0;
            for (b, want) in bytes.zip(b"HTTP/1.".iter()) {
                if b != *want {
                    return Start::No;
                }
                n += 1;
            }
            if n == 7 {
                Start::Yes
            } else {
                Start::Maybe
            }
        }
        Direction::Request => {
            for (i, b) in bytes.enumerate() {
                match b {
                    b' ' if i > 0 => return Start::Yes,
                    b'A'..=b'Z' if i < MAX_METHOD => {}
                    b'-' | b'_' if i > 0 && i < MAX_METHOD => {}
                    _ => return Start::No,
                }
            }
            Start::Maybe
        }
    }
}

/// The complete first line (ending in LF) has the version where it belongs.
fn start_line_ok(dir: Direction, line: &[u8]) -> bool {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    match dir {
        Direction::Request => line.ends_with(b" HTTP/1.1") || line.ends_with(b" HTTP/1.0"),
        Direction::Response => super::looks_like_response(line),
    }
}

/// Parses `hex [ws] [; ext]` (RFC 9112 7.1); `None` if absent or over 64 bits.
fn chunk_size(line: &[u8]) -> Option<u64> {
    let digits = line.iter().take_while(|b| b.is_ascii_hexdigit()).count();
    if digits == 0 || digits > 16 {
        return None;
    }
    let rest = &line[digits..];
    if !matches!(
        rest.iter().find(|b| !matches!(b, b' ' | b'\t')),
        None | Some(b';')
    ) {
        return None;
    }
    let s = std::str::from_utf8(&line[..digits]).ok()?;
    u64::from_str_radix(s, 16).ok()
}

/// Content-Length after RFC 9110 8.6: a list of identical values is one value.
/// `None` inside means present but unusable.
type ContentLength = Option<Option<u64>>;

/// Parses a complete head with httparse into an owned message (no body yet), the
/// Transfer-Encoding value and the Content-Length.
fn parse_fields(
    dir: Direction,
    buf: &[u8],
    max_headers: usize,
) -> Option<(Message, Option<String>, ContentLength)> {
    let mut stack = [httparse::EMPTY_HEADER; STACK_HEADERS];
    match parse_with(dir, buf, &mut stack) {
        Err(httparse::Error::TooManyHeaders) if max_headers > STACK_HEADERS => {
            let mut heap = vec![httparse::EMPTY_HEADER; max_headers];
            parse_with(dir, buf, &mut heap).ok()
        }
        r => r.ok(),
    }
}

fn parse_with<'b>(
    dir: Direction,
    buf: &'b [u8],
    headers: &mut [httparse::Header<'b>],
) -> Result<(Message, Option<String>, ContentLength), httparse::Error> {
    let mut cfg = httparse::ParserConfig::default();
    // Tolerant: a capture shows what was sent, not what should have been.
    cfg.allow_spaces_after_header_name_in_responses(true)
        .allow_obsolete_multiline_headers_in_responses(true)
        .allow_multiple_spaces_in_request_line_delimiters(true)
        .allow_multiple_spaces_in_response_status_delimiters(true)
        .ignore_invalid_headers_in_requests(true)
        .ignore_invalid_headers_in_responses(true);
    let (kind, version, fields) = match dir {
        Direction::Request => {
            let mut req = httparse::Request::new(headers);
            match cfg.parse_request(&mut req, buf)? {
                httparse::Status::Complete(_) => {}
                httparse::Status::Partial => return Err(httparse::Error::NewLine),
            }
            let kind = Kind::Request {
                method: req.method.unwrap_or_default().to_string(),
                uri: req.path.unwrap_or_default().to_string(),
            };
            (kind, req.version.unwrap_or(1), own(req.headers))
        }
        Direction::Response => {
            let mut resp = httparse::Response::new(headers);
            match cfg.parse_response(&mut resp, buf)? {
                httparse::Status::Complete(_) => {}
                httparse::Status::Partial => return Err(httparse::Error::NewLine),
            }
            let kind = Kind::Response {
                status: resp.code.unwrap_or_default(),
                reason: resp.reason.unwrap_or_default().to_string(),
            };
            (kind, resp.version.unwrap_or(1), own(resp.headers))
        }
    };
    let mut te: Option<String> = None;
    let mut cl: ContentLength = None;
    for (name, value) in &fields {
        if name.eq_ignore_ascii_case("transfer-encoding") {
            let v = String::from_utf8_lossy(value);
            te = Some(match te {
                Some(prev) => format!("{prev}, {v}"),
                None => v.into_owned(),
            });
        } else if name.eq_ignore_ascii_case("content-length") {
            for part in value.split(|&b| b == b',') {
                let n = std::str::from_utf8(part.trim_ascii())
                    .ok()
                    .filter(|s| s.bytes().all(|b| b.is_ascii_digit()));
                let n = n.and_then(|s| s.parse::<u64>().ok());
                cl = match (cl, n) {
                    (None, n) => Some(n),
                    (Some(Some(a)), Some(b)) if a == b => Some(Some(a)),
                    _ => Some(None),
                };
            }
        }
    }
    let msg = Message {
        kind,
        version,
        headers: fields,
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
    Ok((msg, te, cl))
}

fn own(headers: &[httparse::Header<'_>]) -> Vec<(String, Vec<u8>)> {
    headers
        .iter()
        .filter(|h| !h.name.is_empty())
        .map(|h| (h.name.to_string(), h.value.to_vec()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Server-to-client stream of http_layered_gzip_encodings__suri.pcap (suricata-verify):
    /// gzip applied three times with identity codings in between.
    const LAYERED_RESPONSE: &[u8] = b"HTTP/1.1 200 OK\r\n\
        Accept-Encoding: gzip, br\r\n\
        Content-Type: text/plain\r\n\
        Content-Length: 135\r\n\
        Content-Encoding: identity, identity, gzip, identity, gzip, gzip\r\n\
        Date: Wed, 30 May 2018 16:57:01 GMT\r\n\
        Connection: keep-alive\r\n\
        \r\n\
        \x1f\x8b\x08\x08=\xce\x0e[\x00\x03HelloGzipOnly.txt.gz.txt.gz.txt\x00\x93\xef\xe6\xe0\xb0=\xc7\x17\
        \xcd\xc0\xec\x91\x9a\x93\x93\xef^\x95Y\xe0\x9f\x97S\xa9WRQ\xa2\x97^\x05\xa2\x18\x18\xed\x18\x0e\xfe\
        \x97\xc7\xad\x8e\xe1\xf3\x89\x90\x13\xa7\xce\x9f\x08\xf6\xf0\xd49\xbb:\xe4\xc4YO\x1f\xcds'\xd6\x84\
        <abX\xb4\xe6\xb2\xb4\x04\x03\x10h^\xbff\x07\xa4\x01\x11)\x16\xban\x00\x00\x00";

    /// Stream 4 of http_gzip_and_chunked__zeek.pcap (Zeek tests): a gzip-coded chunked POST
    /// with `Expect: 100-continue`, and the server's side with the interim 100.
    const CHUNKED_GZIP_REQUEST: &[u8] = b"POST /abcd HTTP/1.1\r\n\
        Host: 192.88.99.42\r\n\
        User-Agent: Crafted/1.0 (HTTP)\r\n\
        Accept: text/plain,*/*;q=0.9\r\n\
        Accept-Encoding: gzip, deflate\r\n\
        Content-Type: text/plain\r\n\
        Content-Encoding: gzip\r\n\
        Transfer-Encoding: chunked\r\n\
        Connection: keep-alive\r\n\
        Expect: 100-continue\r\n\
        \r\n\
        10\r\n\
        \x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03strv\x01\x00\r\n\
        8\r\n\
        \xa5 \x17\xdb\x04\x00\x00\x00\r\n\
        0\r\n\
        \r\n";

    const CHUNKED_GZIP_RESPONSE: &[u8] = b"HTTP/1.1 100 Continue\r\n\
        \r\n\
        HTTP/1.1 200 OK\r\n\
        Date: Fri, 13 Feb 2009 23:31:30 GMT\r\n\
        Server: Crafted/1.0 (HTTP)\r\n\
        Content-Encoding: gzip\r\n\
        Transfer-Encoding: chunked\r\n\
        Keep-Alive: timeout=5, max=99\r\n\
        Connection: Keep-Alive\r\n\
        Content-Type: text/plain\r\n\
        \r\n\
        10\r\n\
        \x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03svqu\x03\x00\r\n\
        8\r\n\
        6R\xc7\xcd\x04\x00\x00\x00\r\n\
        0\r\n\
        \r\n";

    fn parse(dir: Direction, pieces: &[&[u8]]) -> (Vec<Message>, Stats) {
        let mut p = Parser::new(dir, Limits::default());
        let mut out = Vec::new();
        for piece in pieces {
            p.push(piece, &mut out);
        }
        p.finish(&mut out);
        (out, *p.stats())
    }

    fn summary(m: &Message) -> String {
        let start = match &m.kind {
            Kind::Request { method, uri } => format!("{method} {uri}"),
            Kind::Response { status, .. } => status.to_string(),
        };
        let flags = [
            (m.chunked, "chunked"),
            (m.incomplete, "incomplete"),
            (m.body_truncated, "truncated"),
        ]
        .iter()
        .filter(|(on, _)| *on)
        .map(|(_, s)| *s)
        .collect::<Vec<_>>()
        .join(",");
        format!(
            "{start}@{} {:?} [{}] {}",
            m.offset,
            String::from_utf8_lossy(&m.body),
            m.encodings.join(","),
            flags
        )
    }

    #[test]
    fn real_layered_gzip() {
        let (out, _) = parse(Direction::Response, &[LAYERED_RESPONSE]);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].body, b"Hi john dauny mladshiy!\n");
        assert_eq!(out[0].encodings, ["gzip", "gzip", "gzip"]);
        assert_eq!(out[0].body_len_wire, 135);
    }

    #[test]
    fn real_chunked_gzip_with_continue() {
        let (req, _) = parse(Direction::Request, &[CHUNKED_GZIP_REQUEST]);
        assert_eq!(
            req.iter().map(summary).collect::<Vec<_>>(),
            ["POST /abcd@0 \"ABCD\" [gzip] chunked"]
        );
        assert_eq!(req[0].user_agent(), Some("Crafted/1.0 (HTTP)"));
        let mut p = Parser::new(Direction::Response, Limits::default());
        p.expect_response("POST");
        let mut out = Vec::new();
        for piece in CHUNKED_GZIP_RESPONSE.chunks(7) {
            p.push(piece, &mut out);
        }
        p.finish(&mut out);
        assert_eq!(
            out.iter().map(summary).collect::<Vec<_>>(),
            ["100@0 \"\" [] ", "200@25 \"CDEF\" [gzip] chunked"]
        );
    }

    #[test]
    fn framing_table() {
        // (direction, stream, expected summaries) — hand-built after RFC 9112 6.3.
        let cases: &[(Direction, &[u8], &[&str])] = &[
            (
                Direction::Request,
                b"GET /a HTTP/1.1\r\n\r\nPOST /b HTTP/1.1\r\nContent-Length: 2\r\n\r\nhi\r\nGET /c HTTP/1.0\n\n",
                &["GET /a@0 \"\" [] ", "POST /b@19 \"hi\" [] ", "GET /c@62 \"\" [] "],
            ),
            (
                Direction::Request,
                b"PUT /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3;ext=\"v\"\r\nabc\r\n2\r\nde\r\n0\r\nX-Sum: 1\r\n\r\n",
                &["PUT /x@0 \"abcde\" [] chunked"],
            ),
            (Direction::Response, b"HTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 304 NM\r\n\r\n", &["204@0 \"\" [] ", "304@27 \"\" [] "]),
            (Direction::Response, b"HTTP/1.0 200 OK\r\n\r\nuntil close", &["200@0 \"until close\" [] "]),
            (
                Direction::Response,
                b"HTTP/1.1 200 OK\r\nContent-Length: 3, 3\r\n\r\nabcHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n",
                &["200@0 \"abc\" [] ", "200@44 \"\" [] incomplete"],
            ),
            (Direction::Request, b"\x00\x01garbage\r\nGET / HTTP/1.1\r\n\r\n", &["GET /@11 \"\" [] "]),
            // A head that httparse rejects; the request on its second line is still found.
            (Direction::Request, b"GET /a b HTTP/1.1\r\nGET /b HTTP/1.1\r\n\r\n", &["GET /b@19 \"\" [] "]),
            (Direction::Request, b"GET / HTTP/1.1\r\nContent-Length: x\r\n\r\n", &["GET /@0 \"\" [] "]),
            (Direction::Response, b"HTTP/1.1 101 Switching\r\n\r\n\x81\x02hi", &["101@0 \"\" [] "]),
            (
                Direction::Response,
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
                &["200@0 \"\" [] chunked,incomplete", "200@51 \"\" [] "],
            ),
        ];
        for (dir, stream, want) in cases {
            for cut in [stream.len(), 1, 5] {
                let pieces: Vec<&[u8]> = stream.chunks(cut).collect();
                let (out, _) = parse(*dir, &pieces);
                let got: Vec<String> = out.iter().map(summary).collect();
                assert_eq!(
                    got,
                    *want,
                    "{:?} cut {cut}",
                    String::from_utf8_lossy(stream)
                );
            }
        }
    }

    #[test]
    fn head_response_and_connect_tunnel() {
        let mut p = Parser::new(Direction::Response, Limits::default());
        p.expect_head_response();
        p.expect_response("GET");
        p.expect_response("CONNECT");
        let mut out = Vec::new();
        p.push(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", &mut out);
        p.push(
            b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
            &mut out,
        );
        p.push(
            b"HTTP/1.1 200 Connection established\r\n\r\n\x16\x03\x01",
            &mut out,
        );
        p.finish(&mut out);
        let got: Vec<String> = out.iter().map(summary).collect();
        assert_eq!(
            got,
            ["200@0 \"\" [] ", "200@38 \"hello\" [] ", "200@81 \"\" [] "]
        );
        assert_eq!(p.stats().opaque_bytes, 3);
    }

    #[test]
    fn gaps() {
        // Inside a known length: framing survives, the message is flagged.
        let mut p = Parser::new(Direction::Response, Limits::default());
        let mut out = Vec::new();
        p.push(
            b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc",
            &mut out,
        );
        p.gap(4);
        p.push(b"xyzHTTP/1.1 204 No\r\n\r\n", &mut out);
        let got: Vec<String> = out.iter().map(summary).collect();
        assert_eq!(got, ["200@0 \"abcxyz\" [] incomplete", "204@49 \"\" [] "]);

        // Across a chunk boundary: the message ends, parsing resumes at the next start line.
        let mut p = Parser::new(Direction::Response, Limits::default());
        let mut out = Vec::new();
        p.push(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab",
            &mut out,
        );
        p.gap(100);
        p.push(
            b"tail of something\r\nHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nz",
            &mut out,
        );
        let got: Vec<String> = out.iter().map(summary).collect();
        assert_eq!(
            got,
            ["200@0 \"ab\" [] chunked,incomplete", "200@171 \"z\" [] "]
        );
        assert_eq!(p.stats().gaps, 1);

        // A gap in a compressed body: not decoded, raw bytes kept, reason given.
        let mut p = Parser::new(Direction::Response, Limits::default());
        let mut out = Vec::new();
        p.push(
            b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 4\r\n\r\n\x1f",
            &mut out,
        );
        p.gap(2);
        p.push(b"\x00", &mut out);
        assert_eq!(out[0].body, b"\x1f\x00");
        assert!(out[0].decode_error.as_deref().unwrap().contains("missing"));
    }

    #[test]
    fn caps() {
        let limits = Limits {
            max_head: 64,
            max_body: 4,
            max_decoded: 8,
            ..Limits::default()
        };
        let mut p = Parser::new(Direction::Request, limits);
        let mut out = Vec::new();
        let mut big = b"GET / HTTP/1.1\r\n".to_vec();
        big.extend_from_slice(&[b'a'; 100]);
        big.extend_from_slice(b"\r\n\r\nPOST /p HTTP/1.1\r\nContent-Length: 10\r\n\r\n0123456789");
        p.push(&big, &mut out);
        assert_eq!(p.stats().oversized_heads, 1);
        assert_eq!(
            out.iter().map(summary).collect::<Vec<_>>(),
            ["POST /p@120 \"0123\" [] truncated"]
        );
        assert_eq!(out[0].body_len_wire, 10);
    }

    #[test]
    fn chunk_size_table() {
        let cases: &[(&[u8], Option<u64>)] = &[
            (b"0", Some(0)),
            (b"1A", Some(26)),
            (b"ff ; name=value", Some(255)),
            (b"ffffffffffffffff", Some(u64::MAX)),
            (b"10000000000000000", None),
            (b"", None),
            (b"-1", None),
            (b"12x", None),
        ];
        for (line, want) in cases {
            assert_eq!(
                chunk_size(line),
                *want,
                "{:?}",
                String::from_utf8_lossy(line)
            );
        }
    }
}

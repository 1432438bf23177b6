//! Decoding layers: the views of a buffer that the scanner must also search.
//!
//! Apps rarely send a value as it is: it sits in a percent-encoded form, inside a JSON string
//! with `\u` escapes, base64-encoded in a header, gzip-compressed in a protobuf field, split into
//! DNS labels as base32. [`crate::variants`] covers the encodings of a value itself (hex, base64
//! and URL escapes of the value); this module covers the *containers*: it takes a buffer (an HTTP
//! target, a header value, a body, a DNS name, a datagram, a chunk of an unknown TCP stream),
//! finds every layer it can undo, and hands each decoded view to a visitor along with the names
//! of the layers undone, outermost first. Each view is expanded again, depth-first, so a value
//! in gzip in base64 in a JSON string in a form is reached as `form / json / base64 / gzip`.
//!
//! Layers are found by content (a magic number, a lexical shape), helped by a [`Hint`] of where
//! the buffer came from. Every layer is tried independently on a buffer, in a fixed order, so
//! the output is deterministic: structural layers first (DNS labels, WebSocket frames, multipart
//! parts, form and query values, JSON strings, protobuf fields, quoted-printable), then runs
//! found anywhere (base64, compressed streams). A view whose bytes were already handed out in the
//! same call is not handed out again: the same base64 run seen inside a form value and in the
//! raw body is reported once, under the more specific path.
//!
//! Views are what a decoder *changed* or *cut out*: a form value with no escape, or a JSON
//! string with no backslash, is searched where it stands in the parent and is not repeated;
//! a view equal to its parent is dropped.
//!
//! # Bounds
//!
//! Input is hostile: a gigabyte-sized gzip bomb, base64 of base64 fifty deep, megabytes of hex.
//! [`Limits`] caps the depth, the size of one view, the bytes of all views of one call and
//! their number; decompressors stop at the cap (a *bomb* in [`Stats`]), and work spent on
//! failed decompression attempts is charged too. Every cut is counted in [`Stats::capped`].
//! Buffers are reused across calls (two per depth), so a call that decodes nothing allocates
//! nothing, and one that does allocates at most the caps. Nothing here panics on input.
//!
//! ```
//! use phonehome_detect::decode::{Expander, Hint, Limits};
//!
//! let mut x = Expander::new(Limits::default());
//! let mut views = Vec::new();
//! x.expand(Hint::Uri, b"/t?u=Ch%C3%A9n%20Mei&v=1", &mut |layers, bytes| {
//!     views.push((layers.join("/"), bytes.to_vec()));
//! });
//! assert_eq!(views, [("query".to_owned(), "Chén Mei".as_bytes().to_vec())]);
//! ```

mod base64;
mod compress;
mod dns;
mod form;
mod json;
mod multipart;
mod protobuf;
mod qp;
mod sniff;
pub mod websocket;

use std::hash::{DefaultHasher, Hasher};
use std::ops::Range;

pub(crate) use form::percent_decode;
pub(crate) use json::unescape as unescape_json;
use sniff::Sniff;

/// Views shorter than the shortest variant cannot hold a hit and are not handed out.
pub const MIN_VIEW: usize = crate::variants::MIN_LEN;

/// Where a buffer came from; decides which layers are tried on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hint<'a> {
    /// An HTTP request target (`/path?query`, or an absolute URI).
    Uri,
    /// An HTTP header value.
    Header { name: &'a str },
    /// A decoded HTTP message body.
    Body { content_type: Option<&'a str> },
    /// A DNS query name, dotted.
    DnsName,
    /// A datagram or a chunk of a stream no parser understood.
    Payload,
}

/// Whether `bytes` look like random data (compressed, encrypted, media) throughout: no text
/// layer to decode, no text for pattern detectors. Samples three 1 KiB windows; buffers under
/// 4 KiB are never called opaque.
pub fn looks_opaque(bytes: &[u8]) -> bool {
    sniff::opaque(bytes)
}

/// Caps on one [`Expander::expand`] call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Layers undone in a row (a view of a view of ...).
    pub max_depth: usize,
    /// Bytes of one decoded view.
    pub max_view: usize,
    /// Bytes of all views of one call.
    pub max_total: usize,
    /// Views handed out by one call.
    pub max_views: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_depth: 4,
            max_view: 1 << 20,
            max_total: 8 << 20,
            max_views: 256,
        }
    }
}

/// What the expander did, summed over all calls.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    /// Views handed out.
    pub views: u64,
    /// Layers cut by a cap: a view truncated, a decodable buffer past the depth cap, a call
    /// stopped at its view or byte budget, decompression attempts stopped by the work budget.
    pub capped: u64,
    /// Decompressed streams stopped at their output cap.
    pub bombs: u64,
    /// Bytes of all views handed out.
    pub bytes: u64,
}

/// The visitor: layer names outermost first, then the view's bytes.
type Visit<'v> = &'v mut dyn FnMut(&[&'static str], &[u8]);

/// Buffers per depth: one for the view being built, one for scratch (base64 with line breaks,
/// a WebSocket message before inflation).
const SLOTS: usize = 2;
/// Work allowed for decompression attempts, in input plus output bytes, as a multiple of
/// [`Limits::max_total`]: attempts that fail after decoding a lot must not repeat unbounded.
const WORK_FACTOR: usize = 4;

/// Finds and undoes encoding layers; reusable, keeps its scratch buffers between calls.
pub struct Expander {
    limits: Limits,
    stats: Stats,
    layers: Vec<&'static str>,
    bufs: Vec<Vec<u8>>,
    ranges: Vec<Vec<Range<usize>>>,
    frames: Vec<websocket::Frame>,
    seen: Vec<u64>,
    inflate: compress::Inflaters,
    // Per call.
    spent: usize,
    work: usize,
    views: usize,
    stop: bool,
    work_cut: bool,
}

impl std::fmt::Debug for Expander {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Expander")
            .field("limits", &self.limits)
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

impl Default for Expander {
    fn default() -> Self {
        Self::new(Limits::default())
    }
}

impl Expander {
    pub fn new(limits: Limits) -> Self {
        Self {
            limits,
            stats: Stats::default(),
            layers: Vec::new(),
            bufs: Vec::new(),
            ranges: Vec::new(),
            frames: Vec::new(),
            seen: Vec::new(),
            inflate: compress::Inflaters::default(),
            spent: 0,
            work: 0,
            views: 0,
            stop: false,
            work_cut: false,
        }
    }

    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Calls `visit(layers, bytes)` for every decoded view of `input` (not the input itself),
    /// outermost layer first, depth-first, in a deterministic order.
    pub fn expand(
        &mut self,
        hint: Hint<'_>,
        input: &[u8],
        visit: &mut dyn FnMut(&[&'static str], &[u8]),
    ) {
        self.spent = 0;
        self.work = 0;
        self.views = 0;
        self.stop = false;
        self.work_cut = false;
        self.seen.clear();
        self.layers.clear();
        self.walk(hint, input, 0, visit);
        self.layers.clear();
    }

    /// Cumulative counters.
    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// Counts `n` layers cut by a cap outside this expander (a WebSocket message cut by its
    /// [`websocket::Deframer`]), so that one counter says how much decoding was cut.
    pub fn add_capped(&mut self, n: u64) {
        self.stats.capped = self.stats.capped.saturating_add(n);
    }

    /// Tries every layer on `input`, a view at `depth` (0: the caller's buffer).
    fn walk(&mut self, hint: Hint<'_>, input: &[u8], depth: usize, visit: Visit<'_>) {
        if self.stop || input.len() < MIN_VIEW {
            return;
        }
        if depth < self.limits.max_depth && sniff::opaque(input) {
            // Random-looking bytes (media, ciphertext, compressed data) hold no text layer to
            // undo: only a compressed stream at (or just after a short header at) their start
            // can be decoded. Skipping the text decoders keeps large downloads cheap.
            self.compressed(input, true, depth, visit);
            return;
        }
        let sniff = Sniff::of(input);
        let plan = Plan::new(hint, depth, input, &sniff);
        if plan.is_empty() {
            return;
        }
        if depth >= self.limits.max_depth {
            // Something here would decode: one layer cut.
            self.stats.capped += 1;
            return;
        }
        if plan.dns {
            self.dns(input, depth, visit);
        }
        if plan.websocket {
            self.websocket(input, depth, visit);
        }
        if let Some(boundary) = plan.multipart {
            self.multipart(input, boundary, depth, visit);
        }
        if let Some(kind) = plan.pairs {
            self.pairs(input, kind, depth, visit);
        }
        if plan.json {
            self.json(input, sniff.binary(), depth, visit);
        }
        if plan.protobuf {
            self.protobuf(input, depth, visit);
        }
        if plan.qp {
            self.quoted_printable(input, depth, visit);
        }
        if let Some(may_be_cut) = plan.base64 {
            self.base64(input, may_be_cut, depth, visit);
        }
        if plan.compressed {
            self.compressed(input, false, depth, visit);
        }
    }

    /// Bytes the next view may have: the view cap, or what is left of the call's budget.
    /// `None` (counted as a cut) when too little is left for a useful view.
    fn room(&mut self) -> Option<usize> {
        if self.stop {
            return None;
        }
        let left = self.limits.max_total.saturating_sub(self.spent);
        if left < MIN_VIEW || self.views >= self.limits.max_views {
            self.stats.capped += 1;
            self.stop = true;
            return None;
        }
        Some(left.min(self.limits.max_view))
    }

    /// Hands out `view`, a child of `parent` made by the layers `names`, then expands it.
    #[allow(clippy::too_many_arguments)]
    fn emit(
        &mut self,
        names: &[&'static str],
        view: &[u8],
        parent: &[u8],
        hint: Hint<'_>,
        depth: usize,
        visit: Visit<'_>,
    ) {
        self.emit_view(names, view, parent, Some(hint), depth, visit);
    }

    /// Hands out `view` without expanding it: text this module wrote itself (the numbers of
    /// a protobuf message), which holds no further layer.
    fn emit_final(
        &mut self,
        names: &[&'static str],
        view: &[u8],
        parent: &[u8],
        depth: usize,
        visit: Visit<'_>,
    ) {
        self.emit_view(names, view, parent, None, depth, visit);
    }

    #[allow(clippy::too_many_arguments)]
    fn emit_view(
        &mut self,
        names: &[&'static str],
        view: &[u8],
        parent: &[u8],
        hint: Option<Hint<'_>>,
        depth: usize,
        visit: Visit<'_>,
    ) {
        if self.stop || view.len() < MIN_VIEW || view == parent {
            return;
        }
        let Some(room) = self.room() else {
            return;
        };
        let view = match view.get(..room) {
            Some(cut) if cut.len() < view.len() => {
                self.stats.capped += 1;
                cut
            }
            _ => view,
        };
        let mut h = DefaultHasher::new();
        h.write(view);
        let h = h.finish();
        if self.seen.contains(&h) {
            return;
        }
        self.seen.push(h);
        self.views += 1;
        self.spent = self.spent.saturating_add(view.len());
        self.stats.views += 1;
        self.stats.bytes = self.stats.bytes.saturating_add(view.len() as u64);
        let mark = self.layers.len();
        self.layers.extend_from_slice(names);
        visit(&self.layers, view);
        if let Some(hint) = hint {
            self.walk(hint, view, depth.saturating_add(1), visit);
        }
        self.layers.truncate(mark);
    }

    /// Takes scratch buffer `k` of `depth` out of the pool (empty, capacity kept).
    fn take(&mut self, depth: usize, k: usize) -> Vec<u8> {
        let i = depth.saturating_mul(SLOTS).saturating_add(k);
        match self.bufs.get_mut(i) {
            Some(b) => {
                let mut b = std::mem::take(b);
                b.clear();
                b
            }
            None => Vec::new(),
        }
    }

    fn put(&mut self, depth: usize, k: usize, mut buf: Vec<u8>) {
        let i = depth.saturating_mul(SLOTS).saturating_add(k);
        buf.clear();
        if self.bufs.len() <= i {
            self.bufs.resize_with(i + 1, Vec::new);
        }
        if let Some(slot) = self.bufs.get_mut(i) {
            *slot = buf;
        }
    }

    fn take_ranges(&mut self, depth: usize) -> Vec<Range<usize>> {
        match self.ranges.get_mut(depth) {
            Some(r) => {
                let mut r = std::mem::take(r);
                r.clear();
                r
            }
            None => Vec::new(),
        }
    }

    fn put_ranges(&mut self, depth: usize, mut r: Vec<Range<usize>>) {
        r.clear();
        if self.ranges.len() <= depth {
            self.ranges.resize_with(depth + 1, Vec::new);
        }
        if let Some(slot) = self.ranges.get_mut(depth) {
            *slot = r;
        }
    }

    /// Charges decompression work; false (counted once per call) when the budget is spent.
    fn charge_work(&mut self, bytes: usize) -> bool {
        self.work = self.work.saturating_add(bytes);
        self.work_left()
    }

    fn work_left(&mut self) -> bool {
        if self.work <= self.limits.max_total.saturating_mul(WORK_FACTOR) {
            return true;
        }
        if !self.work_cut {
            self.work_cut = true;
            self.stats.capped += 1;
        }
        false
    }
}

/// How the pairs of a query string or form are separated and named.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pairs {
    /// The part of a URL after `?`: layer "query".
    Query,
    /// A whole `a=1&b=2` buffer: layer "form".
    Form,
    /// A `Cookie` header, `a=1; b=2`: layer "form".
    Cookie,
}

/// Which layers to try on one buffer, from its hint and one sniffing pass.
#[derive(Debug, Default)]
struct Plan<'a> {
    dns: bool,
    websocket: bool,
    multipart: Option<&'a [u8]>,
    pairs: Option<Pairs>,
    json: bool,
    protobuf: bool,
    qp: bool,
    /// Some(whether the buffer may end mid-run: a chunk of a stream or a capped body).
    base64: Option<bool>,
    compressed: bool,
}

impl<'a> Plan<'a> {
    fn new(hint: Hint<'a>, depth: usize, input: &'a [u8], s: &Sniff) -> Self {
        let mut p = Self::default();
        let top = depth == 0;
        if hint == Hint::DnsName {
            p.dns = top;
            return p;
        }
        let content_type = match hint {
            Hint::Body { content_type } => content_type,
            _ => None,
        };
        let ct_is = |what: &str| {
            content_type.is_some_and(|ct| {
                ct.as_bytes()
                    .windows(what.len())
                    .any(|w| w.eq_ignore_ascii_case(what.as_bytes()))
            })
        };
        let encoded = s.percent || s.plus;
        let (uri, header, body) = match hint {
            Hint::Uri => (true, None, false),
            Hint::Header { name } => (false, Some(name), false),
            Hint::Body { .. } | Hint::Payload | Hint::DnsName => (false, None, true),
        };
        p.websocket = top && hint == Hint::Payload && websocket::plausible(input);
        if body {
            p.multipart = content_type
                .filter(|_| ct_is("multipart/"))
                .and_then(multipart::boundary_param)
                .map(str::as_bytes)
                .or_else(|| multipart::sniff_boundary(input));
        }
        // Forms and URLs are text; a control byte means this is something else.
        if encoded && !s.binary() {
            p.pairs = if uri {
                Some(Pairs::Query)
            } else if header.is_some_and(|n| n.eq_ignore_ascii_case("cookie")) {
                Some(Pairs::Cookie)
            } else if form::looks_like_url(input) {
                Some(Pairs::Query)
            } else if ct_is("x-www-form-urlencoded") || (body && s.form_shaped()) {
                Some(Pairs::Form)
            } else {
                None
            };
        }
        p.json = s.has(sniff::QUOTE) && s.has(sniff::BACKSLASH);
        // Text is no protobuf (field tags 1 to 3 are control bytes) unless the sender says so;
        // the whole-buffer check is one linear pass, done here so that a binary view past the
        // depth cap counts as a cut only when it really is a message.
        p.protobuf = body
            && (s.binary() || ct_is("proto") || ct_is("grpc"))
            && (protobuf::grpc(input).is_some() || protobuf::is_message(input));
        // A soft break alone is as likely base64 padding before a line break, except in a
        // vCard, where only the properties marked quoted-printable are decoded: an ASCII name
        // folded by the writer has a soft break and no escape at all.
        // Multipart parts say their own transfer encoding.
        p.qp = body
            && p.multipart.is_none()
            && !s.binary()
            && (s.qp_escapes >= 2 || (s.qp_soft && (s.qp_escapes >= 1 || qp::is_vcard(input))))
            && !s.form_shaped();
        p.base64 = s.base64.then_some(top && body);
        p.compressed = body && s.magic;
        p
    }

    fn is_empty(&self) -> bool {
        !(self.dns
            || self.websocket
            || self.multipart.is_some()
            || self.pairs.is_some()
            || self.json
            || self.protobuf
            || self.qp
            || self.base64.is_some()
            || self.compressed)
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write as _;

    use ::base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
    use ::base64::Engine as _;

    use super::*;

    type View = (String, Vec<u8>);

    fn expand_with(x: &mut Expander, hint: Hint<'_>, input: &[u8]) -> Vec<View> {
        let mut out = Vec::new();
        x.expand(hint, input, &mut |layers, bytes| {
            out.push((layers.join("/"), bytes.to_vec()));
        });
        out
    }

    pub(super) fn expand(hint: Hint<'_>, input: &[u8]) -> Vec<View> {
        expand_with(&mut Expander::default(), hint, input)
    }

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    fn has(views: &[View], layers: &str, needle: &[u8]) -> bool {
        views
            .iter()
            .any(|(l, b)| l == layers && b.windows(needle.len()).any(|w| w == needle))
    }

    /// A deterministic byte stream (xorshift), standing in for encrypted payloads.
    pub(super) fn noise(seed: u64, len: usize) -> Vec<u8> {
        let mut s = seed | 1;
        (0..len)
            .map(|_| {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                (s >> 24) as u8
            })
            .collect()
    }

    #[test]
    fn expander_moves_to_worker_threads() {
        fn send<T: Send>() {}
        send::<Expander>();
    }

    #[test]
    fn random_bytes_give_no_view() {
        for seed in 1..200u64 {
            let len = 16 + (seed as usize * 37) % 3000;
            let data = noise(seed, len);
            for hint in [
                Hint::Payload,
                Hint::Body { content_type: None },
                Hint::Uri,
                Hint::Header { name: "x" },
            ] {
                let v = expand(hint, &data);
                assert!(v.is_empty(), "seed {seed} {hint:?}: {:?}", v.first());
            }
        }
    }

    #[test]
    fn gzip_in_base64_in_json_in_form() {
        let secret = b"imei=356938035643809";
        let b64 = STANDARD.encode(gzip(secret));
        let json = format!(
            "{{\"blob\":\"{}\",\"n\":\"Ch\\u00e9n\"}}",
            b64.replace('/', "\\/")
        );
        let mut body = b"a=1&payload=".to_vec();
        for b in json.bytes() {
            if b.is_ascii_alphanumeric() {
                body.push(b);
            } else {
                body.extend_from_slice(format!("%{b:02X}").as_bytes());
            }
        }
        body.extend_from_slice(b"&z=2");
        let v = expand(
            Hint::Body {
                content_type: Some("application/x-www-form-urlencoded; charset=utf-8"),
            },
            &body,
        );
        assert!(has(&v, "form/json/base64/gzip", secret), "{v:#?}");
        assert!(has(&v, "form", json.as_bytes()));
        // The same gzip reached by two paths is reported once.
        assert_eq!(v.iter().filter(|(_, b)| b == secret).count(), 1);
    }

    #[test]
    fn depth_cap_counts_the_cut() {
        // base64 of base64 ... 50 deep: at most max_depth layers are undone.
        let mut data = b"imei=356938035643809".to_vec();
        for _ in 0..50 {
            data = URL_SAFE_NO_PAD.encode(&data).into_bytes();
            if data.len() > 4 << 20 {
                break;
            }
        }
        let mut x = Expander::new(Limits {
            max_depth: 4,
            ..Limits::default()
        });
        let v = expand_with(&mut x, Hint::Payload, &data);
        assert!(!v.is_empty());
        assert!(v.iter().all(|(l, _)| l.split('/').count() <= 4), "{v:?}");
        assert!(x.stats().capped >= 1);
        assert!(x.stats().bytes <= (8 << 20) as u64);
    }

    /// A gzip member of `pairs * 258 + 1` zero bytes, built by hand: one fixed-Huffman block
    /// (RFC 1951 section 3.2.6) holding a literal 0, then (length 258, distance 1) pairs at
    /// 13 bits each. Faster to build than to compress a gigabyte.
    fn zero_bomb(pairs: u64) -> Vec<u8> {
        let mut out = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];
        let (mut acc, mut n) = (0u64, 0u32);
        let mut put = |out: &mut Vec<u8>, v: u64, bits: u32| {
            acc |= v << n;
            n += bits;
            while n >= 8 {
                out.push(acc as u8);
                acc >>= 8;
                n -= 8;
            }
        };
        // Huffman codes are packed most significant bit first.
        let rev =
            |c: u64, bits: u32| (0..bits).fold(0, |r, i| r | ((c >> i) & 1) << (bits - 1 - i));
        put(&mut out, 1, 1); // BFINAL
        put(&mut out, 1, 2); // BTYPE 01: fixed codes
        put(&mut out, rev(0x30, 8), 8); // literal 0
        let pair = rev(0xc5, 8) | rev(0, 5) << 8; // length code 285 (258), distance code 0 (1)
        for _ in 0..pairs {
            put(&mut out, pair, 13);
        }
        put(&mut out, 0, 7 + 8); // end of block, then padding
                                 // The CRC-32 only for small members: a capped bomb's trailer is never reached.
        let mut crc = flate2::Crc::new();
        if pairs < 10_000 {
            crc.update(&vec![0; pairs as usize * 258 + 1]);
        }
        out.extend_from_slice(&crc.sum().to_le_bytes());
        out.extend_from_slice(&((pairs * 258 + 1) as u32).to_le_bytes());
        out
    }

    #[test]
    fn gzip_bomb_stops_at_the_cap() {
        let small = zero_bomb(100);
        let v = expand(Hint::Payload, &small);
        assert_eq!(v, [("gzip".to_owned(), vec![0; 25_801])]);
        // 1 GiB of zeros in 6.5 MB.
        let bomb = zero_bomb((1 << 30) / 258);
        let mut x = Expander::default();
        let mut sizes = Vec::new();
        x.expand(Hint::Payload, &bomb, &mut |l, b| {
            sizes.push((l.join("/"), b.len()))
        });
        assert_eq!(sizes, [("gzip".to_owned(), 1 << 20)]);
        assert_eq!(x.stats().bombs, 1);
        assert!(x.stats().capped >= 1);
    }

    #[test]
    fn total_and_view_budgets() {
        // 300 base64 runs separated by spaces, each a distinct 24-byte message.
        let mut body = Vec::new();
        for i in 0..300 {
            body.extend_from_slice(STANDARD.encode(format!("message number {i:09}")).as_bytes());
            body.push(b' ');
        }
        let mut x = Expander::default();
        let v = expand_with(&mut x, Hint::Payload, &body);
        assert_eq!(v.len(), 256);
        assert!(x.stats().capped >= 1);
        let mut x = Expander::new(Limits {
            max_total: 240,
            ..Limits::default()
        });
        let v = expand_with(&mut x, Hint::Payload, &body);
        assert_eq!(v.len(), 10);
        assert_eq!(x.stats().bytes, 240);
    }

    #[test]
    fn determinism_and_reuse() {
        let inputs: Vec<(Hint<'_>, Vec<u8>)> = vec![
            (
                Hint::Uri,
                b"/a?x=%7B%22k%22%3A%22v%5Cu00e9%22%7D&y=QUJDREVGR0hJSktMTU5PUFFSU1Q".to_vec(),
            ),
            (Hint::Payload, gzip(b"{\"name\":\"Ch\\u00e9n Mei Ling\"}")),
            (Hint::DnsName, b"mzxw6ytboi.nbswy3dp.example.com".to_vec()),
            (Hint::Body { content_type: None }, noise(7, 5000)),
        ];
        let fresh: Vec<Vec<View>> = inputs.iter().map(|(h, b)| expand(*h, b)).collect();
        assert!(fresh.iter().take(3).all(|v| !v.is_empty()));
        // One expander reused in another order gives the same views per input.
        let mut x = Expander::default();
        for _ in 0..2 {
            for (i, (h, b)) in inputs.iter().enumerate().rev() {
                assert_eq!(expand_with(&mut x, *h, b), fresh[i], "input {i}");
            }
        }
    }

    #[test]
    fn every_split_point() {
        // A masked WebSocket frame carrying a form whose value is base64 of gzip of JSON with
        // an escape, as a stream would be cut into two chunks at any byte.
        // Compressible, so that deflate codes it rather than storing it as it is.
        let json = format!(
            "{{\"owner\":\"Ch\\u00e9n Mei Ling\",\"imei\":\"356938035643809\",\"p\":\"{}\"}}",
            "ab".repeat(50)
        );
        let b64 = URL_SAFE_NO_PAD.encode(gzip(json.as_bytes()));
        let form = format!("a=%20Mei%20Ling%20&blob={b64}&c=d");
        let mut p = vec![0x81];
        if form.len() < 126 {
            p.push(0x80 | form.len() as u8);
        } else {
            p.push(0x80 | 126);
            p.extend_from_slice(&(form.len() as u16).to_be_bytes());
        }
        p.extend_from_slice(&[0x11, 0x22, 0x33, 0x44]);
        p.extend(
            form.bytes()
                .enumerate()
                .map(|(i, b)| b ^ [0x11, 0x22, 0x33, 0x44][i % 4]),
        );
        let whole = expand(Hint::Payload, &p);
        let paths: Vec<&str> = whole.iter().map(|(l, _)| l.as_str()).collect();
        assert_eq!(
            paths,
            [
                "websocket",
                "websocket/form",
                "websocket/base64",
                "websocket/base64/gzip",
                "websocket/base64/gzip/json"
            ]
        );
        assert_eq!(whole[4].1, "Chén Mei Ling".as_bytes());
        let mut x = Expander::default();
        for k in 0..=p.len() {
            for part in [&p[..k], &p[k..]] {
                let reused = expand_with(&mut x, Hint::Payload, part);
                assert_eq!(reused, expand(Hint::Payload, part), "split {k}");
                // A cut frame gives the start of its message, never bytes from elsewhere.
                // (A few header bytes may also read as a protobuf message with a number.)
                if k > 8 && part.len() == k {
                    if let Some((_, msg)) = reused.iter().find(|(l, _)| l == "websocket") {
                        assert!(whole[0].1.starts_with(msg), "split {k}");
                    }
                }
            }
        }
    }

    #[test]
    fn values_do_not_straddle() {
        // "3569380" ends one value and "35643809" starts the next: no view holds the IMEI.
        let v = expand(Hint::Uri, b"/?a=%203569380&b=35643809%20");
        assert_eq!(v.len(), 2);
        assert!(!v
            .iter()
            .any(|(_, b)| b.windows(15).any(|w| w == b"356938035643809")));
    }

    #[test]
    #[ignore = "throughput report, run with --ignored --nocapture"]
    fn throughput() {
        let mut x = Expander::default();
        let json: Vec<u8> = (0..20_000)
            .flat_map(|i| format!("{{\"k{i}\":\"v a l u e {i}\",\"t\":{i}}},").into_bytes())
            .collect();
        let bin = noise(3, 1 << 20);
        let escaped: Vec<u8> = (0..20_000)
            .flat_map(|i| format!("{{\"k{i}\":\"Ch\\u00e9n Mei {i}\",\"t\":{i}}},").into_bytes())
            .collect();
        let b64 = STANDARD.encode(gzip(&json)).into_bytes();
        for (name, data) in [
            ("json", &json),
            ("random", &bin),
            ("json-escaped", &escaped),
            ("base64-gzip-json", &b64),
        ] {
            let t = std::time::Instant::now();
            let mut n = 0usize;
            for _ in 0..20 {
                x.expand(Hint::Payload, data, &mut |_, b| n += b.len());
            }
            let s = t.elapsed().as_secs_f64();
            println!(
                "{name}: {:.0} MB/s, {n} view bytes",
                (data.len() * 20) as f64 / s / 1e6
            );
        }
    }

    #[test]
    fn a_gzip_stream_behind_a_short_binary_header_is_found_in_random_looking_bytes() {
        // Incompressible content, so the member itself looks random.
        let mut x: u32 = 12345;
        let mut content: Vec<u8> = (0..30_000)
            .map(|_| {
                x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                (x >> 16) as u8
            })
            .collect();
        content[15_000..15_015].copy_from_slice(b"356938035643809");
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&content).unwrap();
        let mut framed = vec![0x00, 0x01, 0x7f, 0x10, 0x00, 0x00, 0x75, 0x30];
        framed.extend(gz.finish().unwrap());
        assert!(sniff::opaque(&framed));
        let mut x = Expander::default();
        let mut found = false;
        x.expand(Hint::Payload, &framed, &mut |names, view| {
            found |= names == ["gzip"] && view.windows(15).any(|w| w == b"356938035643809");
        });
        assert!(found);
    }
}

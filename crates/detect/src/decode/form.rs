//! Layers "query" and "form": the pairs of a URL query string, an urlencoded body, a cookie.
//!
//! The buffer is split on `&` (`;` for a `Cookie` header) and each pair on its first `=`; keys
//! and values are percent-decoded with `+` as space (the WHATWG urlencoded parser, which every
//! form encoder targets). Each decoded key or value that differs from its raw bytes is one
//! view. One view per value, rather than all values joined, because a view's edges are then
//! the value's edges: no hit can run from the end of one value into the next, the digit
//! boundary checks see the value's real neighbours (none), and detectors that need the whole
//! buffer (a protobuf message, a JSON document, a WebSocket frame) see exactly the value. Raw
//! pairs without escapes are not repeated: they are searched where they stand.
//!
//! The decoding is written here rather than taken from `form_urlencoded`, whose parser returns
//! text and replaces bytes that are not UTF-8; a GBK-encoded name must come out as its bytes.

use memchr::memchr;

use super::sniff::escape_at;
use super::{Expander, Hint, Pairs, Visit, MIN_VIEW};

/// Whether `raw` holds a `+` or a valid `%XX` escape, i.e. decodes to something else.
pub(super) fn encoded(raw: &[u8]) -> bool {
    memchr(b'+', raw).is_some()
        || memchr::memchr_iter(b'%', raw).any(|i| escape_at(raw, i.saturating_add(1)).is_some())
}

/// Percent-decodes `raw` (`+` as space when `plus`) onto `out`, stopping at `cap` bytes;
/// returns how many raw bytes were left out (0: all decoded). A `%` not followed by two hex
/// digits is kept as it is, as browsers do.
pub(crate) fn percent_decode(raw: &[u8], plus: bool, out: &mut Vec<u8>, cap: usize) -> usize {
    let mut i = 0;
    while let Some(&b) = raw.get(i) {
        if out.len() >= cap {
            return raw.len() - i;
        }
        match b {
            b'+' if plus => out.push(b' '),
            b'%' => match escape_at(raw, i + 1) {
                Some(v) => {
                    out.push(v);
                    i += 2;
                }
                None => out.push(b'%'),
            },
            _ => out.push(b),
        }
        i += 1;
    }
    0
}

/// An absolute URL or an origin-form target with a query: `https://h/p?q`, `/p?q`.
pub(super) fn looks_like_url(buf: &[u8]) -> bool {
    let scheme = |s: &[u8]| {
        buf.get(..s.len())
            .is_some_and(|p| p.eq_ignore_ascii_case(s))
    };
    (scheme(b"http://") || scheme(b"https://") || buf.first() == Some(&b'/'))
        && memchr(b'?', buf).is_some()
}

/// The query of a URL: after the first `?`, before the fragment.
fn query_part(url: &[u8]) -> &[u8] {
    let Some(q) = memchr(b'?', url) else {
        return &[];
    };
    let rest = url.get(q + 1..).unwrap_or(&[]);
    match memchr(b'#', rest) {
        Some(h) => rest.get(..h).unwrap_or(rest),
        None => rest,
    }
}

impl Expander {
    pub(super) fn pairs(&mut self, input: &[u8], kind: Pairs, depth: usize, visit: Visit<'_>) {
        let (body, sep, name) = match kind {
            Pairs::Query => (query_part(input), b'&', "query"),
            Pairs::Form => (input, b'&', "form"),
            Pairs::Cookie => (input, b';', "form"),
        };
        let mut buf = self.take(depth, 0);
        'pairs: for pair in body.split(|&b| b == sep) {
            let pair = pair.trim_ascii();
            let (key, value) = match memchr(b'=', pair) {
                Some(i) => (
                    pair.get(..i).unwrap_or(&[]),
                    pair.get(i + 1..).unwrap_or(&[]),
                ),
                None => (pair, &[][..]),
            };
            for raw in [key, value] {
                // Decoding never lengthens: a short raw value gives a short view.
                if raw.len() < MIN_VIEW || !encoded(raw) {
                    continue;
                }
                let Some(room) = self.room() else {
                    break 'pairs;
                };
                buf.clear();
                if percent_decode(raw, true, &mut buf, room) > 0 {
                    self.stats.capped += 1;
                }
                self.emit(&[name], &buf, input, Hint::Payload, depth, visit);
            }
        }
        self.put(depth, 0, buf);
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::expand;
    use super::*;

    fn views(hint: Hint<'_>, input: &[u8]) -> Vec<(String, String)> {
        expand(hint, input)
            .into_iter()
            .map(|(l, b)| (l, String::from_utf8_lossy(&b).into_owned()))
            .collect()
    }

    #[test]
    fn percent_decoding() {
        let mut out = Vec::new();
        assert_eq!(percent_decode(b"a+b%2Bc%e9%zz%4", true, &mut out, 100), 0);
        assert_eq!(out, b"a b+c\xe9%zz%4");
        out.clear();
        assert!(percent_decode(b"abcdef", true, &mut out, 3) > 0);
        assert_eq!(out, b"abc");
        assert!(encoded(b"x+y") && encoded(b"%41") && !encoded(b"%4") && !encoded(b"abc"));
    }

    #[test]
    fn query_values_and_keys() {
        // An Android analytics beacon (shape of a Firebase/GA hit): only escaped parts come out.
        let v = views(
            Hint::Uri,
            b"/collect?v=2&uid=plainvalue1&dn=Ch%C3%A9n+Mei+Ling&%75ser_key=abcdef#frag%20ment",
        );
        assert_eq!(
            v,
            [
                ("query".to_owned(), "Chén Mei Ling".to_owned()),
                ("query".to_owned(), "user_key".to_owned()),
            ]
        );
        // Absolute URLs in a header value.
        let v = views(
            Hint::Header { name: "Referer" },
            b"https://m.example.com/s?q=%2B886+912+345+678",
        );
        assert_eq!(v, [("query".to_owned(), "+886 912 345 678".to_owned())]);
        // No '?', nothing to split.
        assert!(views(Hint::Uri, b"/path/with%20escape/and+plus").is_empty());
    }

    #[test]
    fn form_body_cookie_and_gbk() {
        let ct = Some("application/x-www-form-urlencoded");
        // A GBK-encoded name (Zhang San) stays bytes, not replacement characters.
        let v = expand(
            Hint::Body { content_type: ct },
            b"name=%D5%C5%C8%FD%20%D5%C5&phone=0912345678",
        );
        assert_eq!(
            v,
            [("form".to_owned(), b"\xd5\xc5\xc8\xfd \xd5\xc5".to_vec())]
        );
        // Form-shaped bodies are recognised without a content type.
        let v = views(Hint::Body { content_type: None }, b"a=1&note=hello+world");
        assert_eq!(v, [("form".to_owned(), "hello world".to_owned())]);
        // Prose with '+' and '=' is no form.
        assert!(views(
            Hint::Body { content_type: None },
            b"1 + 1 = 2, said the teacher"
        )
        .is_empty());
        let v = views(
            Hint::Header { name: "Cookie" },
            b"sid=abc; prof=Mei%20Ling%7C0912; x=1",
        );
        assert_eq!(v, [("form".to_owned(), "Mei Ling|0912".to_owned())]);
    }
}

//! Layer "json": string literals with escapes, unescaped.
//!
//! Bodies are cut (a TCP chunk, a capped body), wrapped (JSONP, a JS assignment) or simply
//! invalid, so no parser is asked to accept the document: string literals are found lexically.
//! A `"` opens a literal only where JSON allows one (at the start, or after `{ [ , :`, or `( =`
//! for script), so a chunk that starts inside a string re-synchronises on the next key. A
//! literal ends at its closing quote, at a raw control byte such as a line break (no JSON string
//! holds one: the quotes were mispaired), or at the end of the buffer (cut: what was seen is used).
//!
//! In a buffer holding control bytes (binary framing around JSON, or no JSON at all) quotes
//! and backslashes occur by chance, so there a literal must also be valid UTF-8.
//!
//! Only literals holding a backslash become views (one per literal, unescaped per RFC 8259
//! section 7: `\uXXXX` with surrogate pairs, `\n`, `\/`...); the rest are already searched as
//! they stand. A literal holding JSON (`"{\"a\":\"b\"}"`) is unescaped into a document whose own
//! literals are found when the view is expanded in turn.
//!
//! Written here because serde_json needs valid, complete JSON and rejects lone surrogates;
//! this scan accepts anything and never fails.

use memchr::memchr;

use super::{Expander, Hint, Visit};

/// Literals holding an escape, as the raw bytes between their quotes.
pub(super) struct Strings<'a> {
    buf: &'a [u8],
    pos: usize,
    utf8: bool,
}

impl<'a> Strings<'a> {
    /// `utf8`: only literals that are valid UTF-8 (for buffers holding binary data, where
    /// quotes and backslashes occur by chance).
    pub(super) fn new(buf: &'a [u8], utf8: bool) -> Self {
        Self { buf, pos: 0, utf8 }
    }

    fn keep(&self, s: &'a [u8]) -> Option<&'a [u8]> {
        (!self.utf8 || std::str::from_utf8(s).is_ok()).then_some(s)
    }
}

/// Whether a quote at `q` can open a literal: what comes before it, spaces aside.
fn opens(buf: &[u8], q: usize) -> bool {
    let before = buf.get(..q).unwrap_or(&[]).trim_ascii_end();
    match before.last() {
        None => true,
        Some(b) => matches!(b, b'{' | b'[' | b',' | b':' | b'(' | b'='),
    }
}

impl<'a> Iterator for Strings<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        loop {
            let rest = self.buf.get(self.pos..)?;
            let q = self.pos + memchr(b'"', rest)?;
            let start = q + 1;
            if !opens(self.buf, q) {
                self.pos = start;
                continue;
            }
            let mut i = start;
            let mut escaped = false;
            loop {
                let Some(&b) = self.buf.get(i) else {
                    // Cut inside the literal: what was seen is the string.
                    self.pos = self.buf.len();
                    let s = self.buf.get(start..)?;
                    return self.keep(s).filter(|_| escaped);
                };
                match b {
                    b'\\' => {
                        escaped = true;
                        i += 2;
                    }
                    b'"' => {
                        self.pos = i + 1;
                        if let Some(s) = self.buf.get(start..i).filter(|_| escaped) {
                            if let Some(s) = self.keep(s) {
                                return Some(s);
                            }
                        }
                        break;
                    }
                    // No JSON string holds a raw control byte (RFC 8259 section 7): the
                    // quote opened nothing after all.
                    0..=0x1f => {
                        self.pos = i + 1;
                        break;
                    }
                    _ => i += 1,
                }
            }
        }
    }
}

fn hex4(s: &[u8]) -> Option<u16> {
    let s = s.get(..4)?;
    let t = std::str::from_utf8(s).ok()?;
    if !t.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u16::from_str_radix(t, 16).ok()
}

/// Unescapes one literal's content (RFC 8259 section 7) onto `out`, stopping at `cap` bytes;
/// returns how many raw bytes were left out (0: all unescaped). Unknown escapes keep their
/// character, lone surrogates become U+FFFD.
pub(crate) fn unescape(raw: &[u8], out: &mut Vec<u8>, cap: usize) -> usize {
    let mut i = 0;
    while let Some(&b) = raw.get(i) {
        if out.len() >= cap {
            return raw.len() - i;
        }
        i += 1;
        if b != b'\\' {
            out.push(b);
            continue;
        }
        let Some(&e) = raw.get(i) else {
            out.push(b'\\');
            break;
        };
        i += 1;
        let simple = match e {
            b'n' => Some(b'\n'),
            b'r' => Some(b'\r'),
            b't' => Some(b'\t'),
            b'b' => Some(0x08),
            b'f' => Some(0x0c),
            b'u' => None,
            other => Some(other),
        };
        if let Some(c) = simple {
            out.push(c);
            continue;
        }
        let Some(u) = raw.get(i..).and_then(hex4) else {
            out.extend_from_slice(b"\\u");
            continue;
        };
        i += 4;
        let mut c = char::from_u32(u32::from(u));
        if (0xd800..0xdc00).contains(&u) {
            // A high surrogate: the low one must follow as another \u escape.
            let low = raw
                .get(i..)
                .filter(|r| r.starts_with(b"\\u"))
                .and_then(|r| r.get(2..))
                .and_then(hex4)
                .filter(|l| (0xdc00..0xe000).contains(l));
            if let Some(l) = low {
                i += 6;
                let cp = 0x10000 + ((u32::from(u) - 0xd800) << 10) + (u32::from(l) - 0xdc00);
                c = char::from_u32(cp);
            }
        }
        let c = c.unwrap_or(char::REPLACEMENT_CHARACTER);
        let mut tmp = [0u8; 4];
        out.extend_from_slice(c.encode_utf8(&mut tmp).as_bytes());
    }
    0
}

impl Expander {
    /// `binary`: the buffer holds control bytes, so literals must be valid UTF-8 too.
    pub(super) fn json(&mut self, input: &[u8], binary: bool, depth: usize, visit: Visit<'_>) {
        let mut buf = self.take(depth, 0);
        for raw in Strings::new(input, binary) {
            if raw.len() < super::MIN_VIEW {
                continue;
            }
            let Some(room) = self.room() else {
                break;
            };
            buf.clear();
            if unescape(raw, &mut buf, room) > 0 {
                self.stats.capped += 1;
            }
            self.emit(&["json"], &buf, input, Hint::Payload, depth, visit);
        }
        self.put(depth, 0, buf);
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::expand;
    use super::*;

    fn unesc(s: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        unescape(s, &mut out, 1000);
        out
    }

    #[test]
    fn escapes() {
        assert_eq!(
            unesc(br#"a\"b\\c\/d\n\t\u00e9\u4E2D"#),
            "a\"b\\c/d\n\té中".as_bytes()
        );
        // U+1F600 as a surrogate pair; a lone surrogate; a bad \u.
        assert_eq!(unesc(br"\ud83d\ude00"), "😀".as_bytes());
        assert_eq!(unesc(br"x\ud83dy"), "x\u{fffd}y".as_bytes());
        assert_eq!(unesc(br"\u12G4\"), b"\\u12G4\\");
        let mut out = Vec::new();
        assert!(unescape(b"abcdef", &mut out, 2) > 0);
    }

    #[test]
    fn literals_lexically() {
        let doc = br#"{"plain":"value","n":"Ch\u00e9n","u":"https:\/\/x\/y","k\"ey":1}"#;
        let got: Vec<&[u8]> = Strings::new(doc, false).collect();
        assert_eq!(got, [&br"Ch\u00e9n"[..], br"https:\/\/x\/y", br#"k\"ey"#]);
        // A chunk starting inside a string re-synchronises on the next key.
        let cut = br#"e\u00e9 tail","name":"Mei \u6797","x":"cut \u00e9 her"#;
        let got: Vec<&[u8]> = Strings::new(cut, false).collect();
        assert_eq!(got, [&br"Mei \u6797"[..], br"cut \u00e9 her"]);
        // Prose quotes are no literals.
        assert_eq!(Strings::new(br#"He said "a\nb" twice"#, false).count(), 0);
        // In binary data, only UTF-8 literals.
        let bin = b"\x00\x01:\"\xe9\\n\xff\xfe\", :\"caf\xc3\xa9\\n ok\"";
        let got: Vec<&[u8]> = Strings::new(bin, true).collect();
        assert_eq!(got, [&b"caf\xc3\xa9\\n ok"[..]]);
        assert_eq!(Strings::new(bin, false).count(), 2);
    }

    #[test]
    fn views_and_nesting() {
        // A JSON document carried as a string inside JSON (a common analytics envelope).
        let body = br#"{"event":"open","payload":"{\"device\":{\"name\":\"Ch\\u00e9n Mei\",\"os\":\"android\"}}"}"#;
        let v = expand(
            Hint::Body {
                content_type: Some("application/json"),
            },
            body,
        );
        assert_eq!(v[0].0, "json");
        assert_eq!(
            v[0].1,
            br#"{"device":{"name":"Ch\u00e9n Mei","os":"android"}}"#
        );
        assert_eq!(
            v[1],
            ("json/json".to_owned(), "Chén Mei".as_bytes().to_vec())
        );
        assert_eq!(v.len(), 2);
        // No backslash, no view.
        assert!(expand(Hint::Payload, br#"{"a":"plain text value"}"#).is_empty());
    }
}

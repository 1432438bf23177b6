//! Layer "multipart": the parts of a multipart/form-data or multipart/mixed body.
//!
//! Uploads (contact backups, crash reports, photos with metadata) are multipart bodies (RFC
//! 2046 section 5.1, RFC 7578). The boundary comes from the content type's `boundary`
//! parameter, or, when there is no content type (a body in an unparsed stream, a decoded
//! view), from a first line of the form `--boundary`. Each part's body is a view, with the
//! part's own content type as the hint for what is inside it; a part with
//! `Content-Transfer-Encoding: base64` or `quoted-printable` (RFC 2045 section 6) is decoded
//! first, under a second layer name. A body cut before its closing delimiter gives its parts
//! up to the cut.
//!
//! Written here because the multipart crates (multer, multipart) parse streams
//! asynchronously into owned fields; this needs borrowed slices of a buffer already in memory.

use memchr::memmem;

use super::base64::{decode as decode_base64, Run};
use super::{qp, Expander, Hint, Visit};

/// RFC 2046 section 5.1.1 allows 70 characters; some senders go a little beyond.
const MAX_BOUNDARY: usize = 100;

/// The `boundary` parameter of a content type.
pub(super) fn boundary_param(ct: &str) -> Option<&str> {
    ct.split(';').skip(1).find_map(|p| {
        let (k, v) = p.split_once('=')?;
        if !k.trim().eq_ignore_ascii_case("boundary") {
            return None;
        }
        let v = v.trim();
        let v = v
            .strip_prefix('"')
            .and_then(|s| s.strip_suffix('"'))
            .unwrap_or(v);
        (!v.is_empty() && v.len() <= MAX_BOUNDARY).then_some(v)
    })
}

/// The boundary of a body that starts with a delimiter line.
pub(super) fn sniff_boundary(buf: &[u8]) -> Option<&[u8]> {
    let rest = buf.strip_prefix(b"--")?;
    let head = rest.get(..rest.len().min(MAX_BOUNDARY + 2))?;
    let eol = memchr::memchr(b'\n', head)?;
    let line = head.get(..eol)?.trim_ascii_end();
    let ok = !line.is_empty()
        && line.len() <= MAX_BOUNDARY
        && line.iter().all(|&b| b.is_ascii_graphic() || b == b' ');
    ok.then_some(line)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Encoding {
    Identity,
    Base64,
    QuotedPrintable,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Part<'a> {
    pub(super) content_type: Option<&'a str>,
    pub(super) encoding: Encoding,
    pub(super) body: &'a [u8],
}

pub(super) struct Parts<'a> {
    buf: &'a [u8],
    finder: memmem::Finder<'static>,
    pos: usize,
    done: bool,
}

impl<'a> Parts<'a> {
    pub(super) fn new(buf: &'a [u8], boundary: &[u8]) -> Self {
        let mut needle = b"--".to_vec();
        needle.extend_from_slice(boundary);
        Self {
            buf,
            finder: memmem::Finder::new(&needle).into_owned(),
            pos: 0,
            done: false,
        }
    }

    /// The next delimiter at the start of a line, at or after `from`.
    fn delimiter(&self, mut from: usize) -> Option<usize> {
        loop {
            let p = from + self.finder.find(self.buf.get(from..)?)?;
            if p == 0 || self.buf.get(p - 1) == Some(&b'\n') {
                return Some(p);
            }
            from = p + 1;
        }
    }
}

fn parse_part(part: &[u8]) -> Part<'_> {
    let mut p = Part {
        content_type: None,
        encoding: Encoding::Identity,
        body: part,
    };
    let (headers, body) = if let Some(b) = part
        .strip_prefix(b"\r\n")
        .or_else(|| part.strip_prefix(b"\n"))
    {
        (&[][..], b)
    } else if let Some(i) = memmem::find(part, b"\r\n\r\n") {
        (
            part.get(..i).unwrap_or(&[]),
            part.get(i + 4..).unwrap_or(&[]),
        )
    } else if let Some(i) = memmem::find(part, b"\n\n") {
        (
            part.get(..i).unwrap_or(&[]),
            part.get(i + 2..).unwrap_or(&[]),
        )
    } else {
        // Cut inside its headers: no body yet.
        (part, &[][..])
    };
    p.body = body;
    for line in headers.split(|&b| b == b'\n') {
        let Some(colon) = memchr::memchr(b':', line) else {
            continue;
        };
        let name = line.get(..colon).unwrap_or(&[]).trim_ascii();
        let value = line.get(colon + 1..).unwrap_or(&[]).trim_ascii();
        if name.eq_ignore_ascii_case(b"content-type") {
            p.content_type = std::str::from_utf8(value).ok();
        } else if name.eq_ignore_ascii_case(b"content-transfer-encoding") {
            if value.eq_ignore_ascii_case(b"base64") {
                p.encoding = Encoding::Base64;
            } else if value.eq_ignore_ascii_case(b"quoted-printable") {
                p.encoding = Encoding::QuotedPrintable;
            }
        }
    }
    p
}

impl<'a> Iterator for Parts<'a> {
    type Item = Part<'a>;

    fn next(&mut self) -> Option<Part<'a>> {
        if self.done {
            return None;
        }
        let d = self.delimiter(self.pos);
        let Some(d) = d else {
            self.done = true;
            return None;
        };
        let after = d + self.finder.needle().len();
        let rest = self.buf.get(after..).unwrap_or(&[]);
        // The close delimiter, or a delimiter line cut by the end of the buffer.
        let eol = memchr::memchr(b'\n', rest);
        if rest.starts_with(b"--") || eol.is_none() {
            self.done = true;
            return None;
        }
        let start = after + eol.unwrap_or(0) + 1;
        let (part, next) = match self.delimiter(start) {
            Some(nd) => {
                // The line break before a delimiter belongs to the delimiter.
                let p = self.buf.get(start..nd).unwrap_or(&[]);
                let p = p.strip_suffix(b"\n").unwrap_or(p);
                (p.strip_suffix(b"\r").unwrap_or(p), nd)
            }
            None => {
                self.done = true;
                (self.buf.get(start..).unwrap_or(&[]), self.buf.len())
            }
        };
        self.pos = next;
        Some(parse_part(part))
    }
}

impl Expander {
    pub(super) fn multipart(
        &mut self,
        input: &[u8],
        boundary: &[u8],
        depth: usize,
        visit: Visit<'_>,
    ) {
        let mut buf = self.take(depth, 0);
        let mut tmp = self.take(depth, 1);
        for part in Parts::new(input, boundary) {
            let hint = Hint::Body {
                content_type: part.content_type,
            };
            let Some(room) = self.room() else {
                break;
            };
            buf.clear();
            match part.encoding {
                Encoding::Identity => {
                    self.emit(&["multipart"], part.body, input, hint, depth, visit);
                    continue;
                }
                Encoding::Base64 => {
                    tmp.clear();
                    // No more than the cap needs, whatever the size of the part.
                    tmp.extend(
                        part.body
                            .iter()
                            .copied()
                            .filter(|b| !b.is_ascii_whitespace())
                            .take((room / 3 * 4).saturating_add(3)),
                    );
                    let run = Run {
                        start: 0,
                        end: tmp.len(),
                        lines: false,
                        url: false,
                        at_end: true,
                    };
                    match decode_base64(&tmp, &run, &mut buf, &mut Vec::new(), room) {
                        Some(cut) => {
                            if cut {
                                self.stats.capped += 1;
                            }
                            self.emit(&["multipart", "base64"], &buf, input, hint, depth, visit);
                        }
                        None => self.emit(&["multipart"], part.body, input, hint, depth, visit),
                    }
                }
                Encoding::QuotedPrintable => {
                    if qp::decode(part.body, &mut buf, room) {
                        self.stats.capped += 1;
                    }
                    self.emit(
                        &["multipart", "quoted-printable"],
                        &buf,
                        input,
                        hint,
                        depth,
                        visit,
                    );
                }
            }
        }
        self.put(depth, 0, buf);
        self.put(depth, 1, tmp);
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::expand;
    use super::*;

    /// A browser form upload (shape of Chrome's multipart/form-data), with a base64 part and
    /// a quoted-printable part as mail clients write them.
    const BODY: &[u8] = b"------WebKitFormBoundary7MA4YWxkTrZu0gW\r\n\
Content-Disposition: form-data; name=\"meta\"\r\n\
Content-Type: application/json\r\n\
\r\n\
{\"name\":\"Ch\\u00e9n Mei Ling\"}\r\n\
------WebKitFormBoundary7MA4YWxkTrZu0gW\r\n\
Content-Disposition: form-data; name=\"contacts\"; filename=\"c.vcf\"\r\n\
Content-Transfer-Encoding: base64\r\n\
\r\n\
QkVHSU46VkNBUkQKVEVMOis4\r\nODY5MTIzNDU2NzgKRU5EOlZD\r\nQVJE\r\n\
------WebKitFormBoundary7MA4YWxkTrZu0gW\r\n\
Content-Transfer-Encoding: quoted-printable\r\n\
\r\n\
Caf=C3=A9 au lait, soft=\r\n break\r\n\
------WebKitFormBoundary7MA4YWxkTrZu0gW--\r\n";

    #[test]
    fn boundaries() {
        assert_eq!(
            boundary_param("multipart/form-data; boundary=\"a b\"; charset=x"),
            Some("a b")
        );
        assert_eq!(boundary_param("multipart/mixed;BOUNDARY=xyz"), Some("xyz"));
        assert_eq!(boundary_param("multipart/mixed"), None);
        assert_eq!(
            sniff_boundary(BODY),
            Some(&b"----WebKitFormBoundary7MA4YWxkTrZu0gW"[..])
        );
        assert_eq!(sniff_boundary(b"-- not\x01 a boundary\n"), None);
        assert_eq!(sniff_boundary(b"--no line end"), None);
    }

    #[test]
    fn parts() {
        let p: Vec<Part<'_>> = Parts::new(BODY, b"----WebKitFormBoundary7MA4YWxkTrZu0gW").collect();
        assert_eq!(p.len(), 3);
        assert_eq!(p[0].content_type, Some("application/json"));
        assert_eq!(p[0].body, br#"{"name":"Ch\u00e9n Mei Ling"}"#);
        assert_eq!(p[1].encoding, Encoding::Base64);
        assert_eq!(p[2].encoding, Encoding::QuotedPrintable);
        // Cut in the second part: two parts, the second up to the cut.
        let at = memmem::find(BODY, b"ODY5").unwrap();
        let p: Vec<Part<'_>> =
            Parts::new(&BODY[..at], b"----WebKitFormBoundary7MA4YWxkTrZu0gW").collect();
        assert_eq!(p.len(), 2);
        assert_eq!(p[1].body, b"QkVHSU46VkNBUkQKVEVMOis4\r\n");
        // Cut inside the headers of the second part: no body for it.
        let at = memmem::find(BODY, b"filename").unwrap();
        let p: Vec<Part<'_>> =
            Parts::new(&BODY[..at], b"----WebKitFormBoundary7MA4YWxkTrZu0gW").collect();
        assert_eq!(p[1].body, b"");
    }

    #[test]
    fn views() {
        let ct = "multipart/form-data; boundary=----WebKitFormBoundary7MA4YWxkTrZu0gW";
        let want = [
            (
                "multipart".to_owned(),
                br#"{"name":"Ch\u00e9n Mei Ling"}"#.to_vec(),
            ),
            (
                "multipart/json".to_owned(),
                "Chén Mei Ling".as_bytes().to_vec(),
            ),
            (
                "multipart/base64".to_owned(),
                b"BEGIN:VCARD\nTEL:+886912345678\nEND:VCARD".to_vec(),
            ),
            (
                "multipart/quoted-printable".to_owned(),
                "Café au lait, soft break".as_bytes().to_vec(),
            ),
        ];
        assert_eq!(
            expand(
                Hint::Body {
                    content_type: Some(ct)
                },
                BODY
            ),
            want
        );
        // Sniffed without a content type.
        assert_eq!(expand(Hint::Payload, BODY), want);
        // A multipart/mixed part nested in a part.
        let mut outer = b"--outer\r\nContent-Type: multipart/mixed; boundary=inner\r\n\r\n--inner\r\n\r\nCh%C3%A9n=1&x=%20Mei%20Ling\r\n--inner--\r\n--outer--\r\n".to_vec();
        let v = expand(Hint::Payload, &outer);
        assert_eq!(
            v.last().unwrap(),
            &("multipart/multipart/form".to_owned(), b" Mei Ling".to_vec())
        );
        outer.truncate(20);
        assert!(expand(Hint::Payload, &outer).is_empty());
    }
}

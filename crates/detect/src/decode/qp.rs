//! Layer "quoted-printable": `=XX` escapes and `=` soft line breaks (RFC 2045 section 6.7).
//!
//! Contact exports are the main carrier: vCard 2.1, still written by Android's contact backup,
//! encodes every non-ASCII name as `N;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:=E9=99=B3;...`.
//! In a vCard only the properties marked quoted-printable are decoded, one view per value (a
//! `TYPE=CELL` parameter elsewhere is no escape); any other text is decoded whole. Text is
//! taken for quoted-printable only with escapes of bytes an encoder must escape (>= 0x80, or
//! `=`), upper case as RFC 2045 requires, and never when it is shaped like an urlencoded form.
//!
//! The decoding itself is the `quoted_printable` crate's, in its robust mode (malformed escapes
//! kept as they are).

use memchr::memmem;

use super::{Expander, Hint, Visit, MIN_VIEW};

/// How far into a vCard line the property name and parameters are looked at.
const MAX_PARAMS: usize = 256;

/// Decodes `raw` onto `out`, at most `cap` bytes; true if cut.
pub(super) fn decode(raw: &[u8], out: &mut Vec<u8>, cap: usize) -> bool {
    // An output byte takes at most three input bytes, soft breaks aside: read no further.
    let limit = cap.saturating_mul(3).saturating_add(2);
    let (raw, mut cut) = match raw.get(..limit) {
        Some(r) if r.len() < raw.len() => (r, true),
        _ => (raw, false),
    };
    let decoded = quoted_printable::decode(raw, quoted_printable::ParseMode::Robust)
        .unwrap_or_else(|_| raw.to_vec());
    let room = cap.saturating_sub(out.len());
    if decoded.len() > room {
        cut = true;
    }
    out.extend_from_slice(decoded.get(..room.min(decoded.len())).unwrap_or(&[]));
    cut
}

pub(super) fn is_vcard(buf: &[u8]) -> bool {
    memmem::find(buf, b"BEGIN:VCARD").is_some() || memmem::find(buf, b"begin:vcard").is_some()
}

/// The values of the vCard properties marked QUOTED-PRINTABLE, soft line breaks included.
pub(super) struct VcardValues<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> VcardValues<'a> {
    pub(super) fn new(buf: &'a [u8]) -> Self {
        Self { buf, pos: 0 }
    }

    /// The end of the line starting at `from` (its line break excluded), and the next line.
    fn line(&self, from: usize) -> (usize, usize) {
        match self.buf.get(from..).and_then(|r| memchr::memchr(b'\n', r)) {
            Some(i) => {
                let nl = from + i;
                let end = if nl > from && self.buf.get(nl - 1) == Some(&b'\r') {
                    nl - 1
                } else {
                    nl
                };
                (end, nl + 1)
            }
            None => (self.buf.len(), self.buf.len()),
        }
    }
}

impl<'a> Iterator for VcardValues<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        while self.pos < self.buf.len() {
            let start = self.pos;
            let (end, next) = self.line(start);
            self.pos = next;
            let line = self.buf.get(start..end)?;
            let head = line.get(..line.len().min(MAX_PARAMS))?;
            let Some(colon) = memchr::memchr(b':', head) else {
                continue;
            };
            let marked = head
                .get(..colon)?
                .windows(16)
                .any(|w| w.eq_ignore_ascii_case(b"QUOTED-PRINTABLE"));
            if !marked {
                continue;
            }
            let value = start + colon + 1;
            let mut value_end = end;
            // A line ending in '=' continues on the next (a soft line break).
            while self.buf.get(..value_end).is_some_and(|b| b.ends_with(b"="))
                && self.pos < self.buf.len()
            {
                let (e, n) = self.line(self.pos);
                value_end = e;
                self.pos = n;
            }
            return self.buf.get(value..value_end);
        }
        None
    }
}

impl Expander {
    pub(super) fn quoted_printable(&mut self, input: &[u8], depth: usize, visit: Visit<'_>) {
        let mut buf = self.take(depth, 0);
        if is_vcard(input) {
            for value in VcardValues::new(input) {
                if value.len() < MIN_VIEW || memchr::memchr(b'=', value).is_none() {
                    continue;
                }
                let Some(room) = self.room() else {
                    break;
                };
                buf.clear();
                if decode(value, &mut buf, room) {
                    self.stats.capped += 1;
                }
                self.emit(
                    &["quoted-printable"],
                    &buf,
                    input,
                    Hint::Payload,
                    depth,
                    visit,
                );
            }
        } else if let Some(room) = self.room() {
            if decode(input, &mut buf, room) {
                self.stats.capped += 1;
            }
            self.emit(
                &["quoted-printable"],
                &buf,
                input,
                Hint::Payload,
                depth,
                visit,
            );
        }
        self.put(depth, 0, buf);
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::expand;
    use super::*;

    /// A vCard 2.1 entry as Android's contact export writes a Chinese name (Chén Měilíng:
    /// 陳美玲), with a soft line break, next to a TYPE=CELL parameter that is no escape.
    const VCARD: &[u8] = b"BEGIN:VCARD\r\nVERSION:2.1\r\n\
N;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:=E9=99=B3;=E7=BE=8E=\r\n=E7=8E=B2;;;\r\n\
FN;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:=E9=99=B3=E7=BE=8E=E7=8E=B2\r\n\
TEL;TYPE=CELL:+886 912 345 678\r\nEND:VCARD\r\n";

    #[test]
    fn vcard_values() {
        let v: Vec<&[u8]> = VcardValues::new(VCARD).collect();
        assert_eq!(
            v,
            [
                &b"=E9=99=B3;=E7=BE=8E=\r\n=E7=8E=B2;;;"[..],
                b"=E9=99=B3=E7=BE=8E=E7=8E=B2"
            ]
        );
        let got = expand(Hint::Payload, VCARD);
        assert_eq!(
            got,
            [
                (
                    "quoted-printable".to_owned(),
                    "陳;美玲;;;".as_bytes().to_vec()
                ),
                ("quoted-printable".to_owned(), "陳美玲".as_bytes().to_vec()),
            ]
        );
    }

    #[test]
    fn vcard_soft_break_without_escapes() {
        // An ASCII name folded by the vCard writer: a soft line break, no escape to sniff.
        let card = b"BEGIN:VCARD\r\nVERSION:2.1\r\nN:Entry;Lab 7\r\n\
FN;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:Wang Hs=\r\niao-Ming\r\n\
NOTE:a=b\r\nEND:VCARD\r\n";
        let body = Hint::Body {
            content_type: Some("text/x-vcard"),
        };
        assert_eq!(
            expand(body, card),
            [("quoted-printable".to_owned(), b"Wang Hsiao-Ming".to_vec())]
        );
        // Outside a vCard a lone soft break is no sign of quoted-printable (base64 lines end
        // in '=' too).
        for text in [
            &b"QUJDREVGR0g=\r\nSUpLTE1OT1A=\r\n"[..],
            b"plain text with a = sign and a break =\r\nhere",
        ] {
            let v = expand(body, text);
            assert!(v.iter().all(|(l, _)| l != "quoted-printable"), "{v:?}");
        }
    }

    #[test]
    fn mime_text() {
        let body = b"Subject: hi\r\n\r\nCaf=C3=A9 cr=C3=A8me, a long line that goes on and on =\r\nand on.\r\n";
        let got = expand(
            Hint::Body {
                content_type: Some("text/plain"),
            },
            body,
        );
        assert_eq!(got.len(), 1);
        assert!(String::from_utf8_lossy(&got[0].1)
            .contains("Café crème, a long line that goes on and on and on."));
        // One escape, or lower-case hex, or a form: not quoted-printable.
        assert!(expand(Hint::Payload, b"price =E9 only one escape here").is_empty());
        assert!(expand(Hint::Payload, b"x =e9 and =c3 lower case").is_empty());
        assert!(expand(Hint::Payload, b"a=E9E9&b=C3C3").is_empty());
        let mut out = Vec::new();
        assert!(decode(b"=41=42=43=44", &mut out, 2));
        assert_eq!(out, b"AB");
    }
}

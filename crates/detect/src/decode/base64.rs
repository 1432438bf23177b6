//! Layer "base64": runs of base64 or base64url text anywhere in a buffer, decoded.
//!
//! A run is a stretch of at least 16 alphabet characters (RFC 4648 sections 4 and 5), with up
//! to two `=` of padding when they complete a quantum. MIME and PEM break base64 into lines of
//! one length; a run that starts a line continues over a line break when the lines before it
//! all have that length (a multiple of 4, at least 16) and the next line is no longer and ends
//! the line too, so two words on two lines, or a header after a delimiter, are not glued.
//!
//! Skipped: runs without a letter beyond `f` (hex digests and identifiers, UUIDs, numbers and
//! phone numbers joined by `+` or `-`: the variants cover their hex); runs mixing `+/` with
//! `-_`; runs of one letter case without digits (words, constants, paths); runs of fewer than
//! ten distinct characters (padding, the repeated bytes of a compressed run of zeros); runs
//! starting with `--` (multipart delimiters). Real base64 of 16 characters or more fails each
//! of these tests about once in a million or less (a leading `--`: once in 4096 base64url runs).
//!
//! Decoding is strict about the last quantum (its unused bits must be zero, as every encoder
//! writes them): most runs of plain words fail there and give no view. In a chunk of a stream
//! or a body, a run touching the end of the buffer may have been cut, so when it fails its
//! last partial quantum is dropped instead.

use ::base64::alphabet;
use ::base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use ::base64::Engine as _;

use super::sniff::{B64, CLASS, MIN_BASE64_RUN};
use super::{Expander, Hint, Visit};

/// Fewer distinct characters than this is repetition, not an encoding of data.
const MIN_DISTINCT: u32 = 10;

const CONFIG: GeneralPurposeConfig =
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent);
const STANDARD: GeneralPurpose = GeneralPurpose::new(&alphabet::STANDARD, CONFIG);
const URL_SAFE: GeneralPurpose = GeneralPurpose::new(&alphabet::URL_SAFE, CONFIG);

/// One run found in a buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Run {
    pub(super) start: usize,
    pub(super) end: usize,
    /// Holds line breaks, to be removed before decoding.
    pub(super) lines: bool,
    /// base64url (`-_`) rather than base64 (`+/`).
    pub(super) url: bool,
    /// Ends at the end of the buffer: maybe cut.
    pub(super) at_end: bool,
}

pub(super) struct Runs<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Runs<'a> {
    pub(super) fn new(buf: &'a [u8]) -> Self {
        Self { buf, pos: 0 }
    }

    fn is_b64(&self, i: usize) -> bool {
        self.buf
            .get(i)
            .is_some_and(|&b| CLASS[usize::from(b)] & B64 != 0)
    }

    /// End of the alphabet characters from `i`.
    fn span(&self, mut i: usize) -> usize {
        while self.is_b64(i) {
            i += 1;
        }
        i
    }

    /// After a line break at `i`, the start of the next line.
    fn line_break(&self, i: usize) -> Option<usize> {
        match self.buf.get(i)? {
            b'\n' => Some(i + 1),
            b'\r' if self.buf.get(i + 1) == Some(&b'\n') => Some(i + 2),
            _ => None,
        }
    }
}

impl Iterator for Runs<'_> {
    type Item = Run;

    fn next(&mut self) -> Option<Run> {
        let n = self.buf.len();
        while self.pos < n {
            let start = self.pos;
            if !self.is_b64(start) {
                self.pos += 1;
                continue;
            }
            let mut end = self.span(start);
            let line = end - start;
            let mut chars = line;
            let mut lines = false;
            let line_start = start == 0 || self.buf.get(start - 1) == Some(&b'\n');
            if line_start && line >= MIN_BASE64_RUN && line.is_multiple_of(4) {
                while let Some(next) = self.line_break(end) {
                    let e = self.span(next);
                    let l = e - next;
                    let line_end = e == n || matches!(self.buf.get(e), Some(b'\r' | b'\n' | b'='));
                    if l == 0 || l > line || !line_end {
                        break;
                    }
                    end = e;
                    chars += l;
                    lines = true;
                    if l < line {
                        break;
                    }
                }
            }
            let mut pad = 0;
            while pad < 2 && self.buf.get(end + pad) == Some(&b'=') {
                pad += 1;
            }
            if pad > 0 && (chars + pad).is_multiple_of(4) {
                end += pad;
            }
            self.pos = end.max(start + 1);
            if chars < MIN_BASE64_RUN {
                continue;
            }
            let text = self.buf.get(start..end).unwrap_or(&[]);
            let (mut std, mut url, mut non_hex) = (false, false, false);
            let (mut upper, mut lower, mut digit) = (false, false, false);
            let mut distinct = 0u128;
            for &b in text {
                match b {
                    b'+' | b'/' => std = true,
                    b'-' | b'_' => url = true,
                    b'\r' | b'\n' | b'=' => {}
                    _ => {
                        non_hex |= !b.is_ascii_hexdigit();
                        upper |= b.is_ascii_uppercase();
                        lower |= b.is_ascii_lowercase();
                        digit |= b.is_ascii_digit();
                    }
                }
                distinct |= 1u128 << (b & 0x7f);
            }
            // See the module essay: each test fails for real base64 of 16 characters or more
            // about once in a million or less (a leading "--": once in 4096 base64url runs).
            let kinds = usize::from(upper) + usize::from(lower) + usize::from(digit);
            if !non_hex
                || (std && url)
                || text.starts_with(b"--")
                || kinds < 2
                || distinct.count_ones() < MIN_DISTINCT
            {
                continue;
            }
            return Some(Run {
                start,
                end,
                lines,
                url,
                at_end: end == n,
            });
        }
        None
    }
}

/// Decodes `text` (a run, line breaks and padding included) onto `out`, at most `cap` bytes.
/// `tmp` holds the text without line breaks when there are some. `None` if it is no valid
/// base64; `Some(true)` if the output was cut at `cap`.
pub(super) fn decode(
    text: &[u8],
    run: &Run,
    out: &mut Vec<u8>,
    tmp: &mut Vec<u8>,
    cap: usize,
) -> Option<bool> {
    let mut text = text;
    // Whole quanta that fit the cap: 4 characters give 3 bytes.
    let max_chars = cap / 3 * 4;
    if run.lines {
        // A few characters past the cap are enough to know it is exceeded.
        tmp.clear();
        tmp.extend(
            text.iter()
                .copied()
                .filter(|b| !matches!(b, b'\r' | b'\n'))
                .take(max_chars.saturating_add(3)),
        );
        text = tmp;
    }
    let unpadded = text.len() - text.iter().rev().take_while(|&&b| b == b'=').count();
    let mut cut = false;
    if unpadded > max_chars {
        text = text.get(..max_chars)?;
        cut = true;
    }
    let engine = if run.url { &URL_SAFE } else { &STANDARD };
    if let Some(done) = decode_into(engine, text, out) {
        return Some(cut || done);
    }
    // Unpadded at the end of the buffer: maybe cut mid-quantum; whole quanta only.
    if run.at_end && !cut && !unpadded.is_multiple_of(4) && unpadded == text.len() {
        return decode_into(engine, text.get(..unpadded - unpadded % 4)?, out);
    }
    None
}

/// Some(false) when `text` decodes onto `out`; None (and `out` as it was) otherwise.
fn decode_into(engine: &GeneralPurpose, text: &[u8], out: &mut Vec<u8>) -> Option<bool> {
    let at = out.len();
    out.resize(at + text.len().div_ceil(4) * 3, 0);
    match engine.decode_slice(text, out.get_mut(at..)?) {
        Ok(n) => {
            out.truncate(at + n);
            Some(false)
        }
        Err(_) => {
            out.truncate(at);
            None
        }
    }
}

impl Expander {
    /// `may_be_cut`: the buffer may end in the middle of a run (a chunk of a stream).
    pub(super) fn base64(
        &mut self,
        input: &[u8],
        may_be_cut: bool,
        depth: usize,
        visit: Visit<'_>,
    ) {
        let mut buf = self.take(depth, 0);
        let mut tmp = self.take(depth, 1);
        for mut run in Runs::new(input) {
            run.at_end &= may_be_cut;
            let Some(room) = self.room() else {
                break;
            };
            let text = input.get(run.start..run.end).unwrap_or(&[]);
            buf.clear();
            match decode(text, &run, &mut buf, &mut tmp, room) {
                Some(cut) => {
                    if cut {
                        self.stats.capped += 1;
                    }
                    self.emit(&["base64"], &buf, input, Hint::Payload, depth, visit);
                }
                None => continue,
            }
        }
        self.put(depth, 0, buf);
        self.put(depth, 1, tmp);
    }
}

#[cfg(test)]
mod tests {
    use ::base64::engine::general_purpose::{STANDARD as STD, URL_SAFE_NO_PAD};

    use super::super::tests::{expand, noise};
    use super::*;

    fn runs(s: &[u8]) -> Vec<&[u8]> {
        Runs::new(s).map(|r| &s[r.start..r.end]).collect()
    }

    #[test]
    fn finds_runs() {
        let a = STD.encode("imei=356938035643809");
        let b = URL_SAFE_NO_PAD.encode(b"\xfb\xff\xfe subjects?>>> and more");
        let text = format!("x={a}&y={b} 0123456789abcdef0123456789 12345678901234567890 aa");
        assert_eq!(runs(text.as_bytes()), [a.as_bytes(), b.as_bytes()]);
        // Mixed alphabets are neither.
        assert!(runs(b"abcd+efgh-ijklmnop").is_empty());
        // '=' that is not padding ends the run without being part of it.
        assert_eq!(
            runs(b"QUJDREVGR0hJSktMTU5P=x"),
            [&b"QUJDREVGR0hJSktMTU5P"[..]]
        );
    }

    #[test]
    fn mime_lines() {
        // RFC 2045 style: 76-character lines (here 20 for brevity), CRLF between them.
        let data: Vec<u8> = (0..47u8).collect();
        let enc = STD.encode(&data);
        let wrapped: Vec<&str> = enc
            .as_bytes()
            .chunks(20)
            .map(|c| std::str::from_utf8(c).unwrap())
            .collect();
        let text = format!("Content: x\r\n\r\n{}\r\nnext line", wrapped.join("\r\n"));
        let v = expand(Hint::Payload, text.as_bytes());
        assert_eq!(v, [("base64".to_owned(), data)]);
        // Two unrelated words on two lines stay apart.
        assert_eq!(runs(b"abcdefghijklmnoP\nqrstuvwxyzABCDEFGHIJ").len(), 2);
    }

    #[test]
    fn strict_and_cut() {
        let mut out = Vec::new();
        let mut tmp = Vec::new();
        let run = |s: &[u8], at_end| Run {
            start: 0,
            end: s.len(),
            lines: false,
            url: false,
            at_end,
        };
        // Non-zero trailing bits: not something an encoder wrote.
        assert_eq!(
            decode(
                b"QUJDREVGR0hJSktMTU5PUB",
                &run(b"QUJDREVGR0hJSktMTU5PUB", false),
                &mut out,
                &mut tmp,
                100
            ),
            None
        );
        // Cut at the end of the buffer: the partial quantum is dropped.
        let s = b"QUJDREVGR0hJSktMTU5PUB";
        assert_eq!(
            decode(s, &run(s, true), &mut out, &mut tmp, 100),
            Some(false)
        );
        assert_eq!(out, b"ABCDEFGHIJKLMNO");
        out.clear();
        assert_eq!(decode(s, &run(s, true), &mut out, &mut tmp, 7), Some(true));
        assert_eq!(out, b"ABCDEF");
    }

    #[test]
    fn long_mime_run_is_capped() {
        // 3 MiB of binary as MIME base64 (76-character lines): one view, cut at the view cap.
        let data = noise(5, 3 << 20);
        let enc = STD.encode(&data);
        let lines: Vec<&[u8]> = enc.as_bytes().chunks(76).collect();
        let text = lines.join(&b"\r\n"[..]);
        let mut x = Expander::default();
        let mut got = Vec::new();
        x.expand(Hint::Payload, &text, &mut |l, b| {
            got.push((l.join("/"), b.to_vec()))
        });
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].1.len(), (1 << 20) / 3 * 3);
        assert!(data.starts_with(&got[0].1));
        assert_eq!(x.stats().capped, 1);
    }

    #[test]
    fn views() {
        let token = STD.encode("{\"imei\":\"356938035643809\"}");
        let v = expand(Hint::Header { name: "X-Device" }, token.as_bytes());
        assert_eq!(
            v,
            [(
                "base64".to_owned(),
                b"{\"imei\":\"356938035643809\"}".to_vec()
            )]
        );
        // A SHA-1 in hex is no base64.
        assert!(expand(
            Hint::Payload,
            b"id=31f455635a12252f8cedb39cd7533fc58a064bff"
        )
        .is_empty());
        // Megabytes of hex digits: one linear pass, no view.
        let hex = vec![b'a'; 4 << 20];
        assert!(expand(Hint::Payload, &hex).is_empty());
    }
}

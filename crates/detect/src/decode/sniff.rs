//! One cheap pass over a buffer that says which decoders are worth trying.
//!
//! The expander runs on every HTTP body and UDP payload, and nearly all of them hold nothing to
//! decode. A 256-entry class table is read once per byte; the classes of all bytes are OR-ed
//! (does the buffer hold a quote? a control byte?) and AND-ed (is every byte a form character?),
//! and the few bytes that open an encoding (`%`, `=`, a compression magic) get a look at the
//! next two bytes. Nothing is allocated, and the verdicts are deliberately loose: a decoder that
//! is tried for nothing costs little, a decoder never tried misses a leak.

/// A base64 or base64url alphabet character.
pub(super) const B64: u8 = 1;
/// A character an urlencoded form can hold unescaped: printable ASCII but space and
/// `"<>\^`{|}`, which a form encoder always escapes and JSON or prose always has.
pub(super) const FORM: u8 = 2;
/// Text: printable ASCII, tab, CR, LF, or any byte >= 0x80 (UTF-8 and legacy charsets).
pub(super) const TEXT: u8 = 4;
/// Opens an encoding; looked at more closely.
const SPECIAL: u8 = 8;
pub(super) const QUOTE: u8 = 16;
pub(super) const BACKSLASH: u8 = 32;
pub(super) const EQUALS: u8 = 64;
/// Space, tab, CR or LF.
pub(super) const SPACE: u8 = 128;

/// Runs of base64 characters shorter than this are words, not encodings.
pub(super) const MIN_BASE64_RUN: usize = 16;

const fn classes() -> [u8; 256] {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        let mut c = 0;
        if b.is_ascii_alphanumeric() || b == b'+' || b == b'/' || b == b'-' || b == b'_' {
            c |= B64;
        }
        if b > 0x20
            && b < 0x7f
            && !matches!(
                b,
                b'"' | b'<' | b'>' | b'\\' | b'^' | b'`' | b'{' | b'|' | b'}'
            )
        {
            c |= FORM;
        }
        if (b >= 0x20 && b != 0x7f) || b == b'\t' || b == b'\r' || b == b'\n' {
            c |= TEXT;
        }
        if matches!(b, b'%' | b'+' | b'=' | 0x1f | b'x' | b'(') {
            c |= SPECIAL;
        }
        if b == b'"' {
            c |= QUOTE;
        }
        if b == b'\\' {
            c |= BACKSLASH;
        }
        if b == b'=' {
            c |= EQUALS;
        }
        if matches!(b, b' ' | b'\t' | b'\r' | b'\n') {
            c |= SPACE;
        }
        t[i] = c;
        i += 1;
    }
    t
}

pub(super) static CLASS: [u8; 256] = classes();

/// Buffers shorter than this are always sniffed in full.
pub(super) const OPAQUE_MIN: usize = 4096;
/// Bytes of each sample window of [`opaque`].
const OPAQUE_WINDOW: usize = 1024;

/// Whether `input` looks like random bytes (compressed, encrypted or media data) at its start,
/// middle and end: each 1 KiB sample has a byte entropy above 7.2 bits and at least 4%
/// control bytes. Text in any charset fails the second test (GBK or Big5 prose can come near
/// the entropy bound, but has no control bytes); JSON, forms, base64 and protobuf with
/// strings fail the first. Three samples cost a few microseconds, whatever the buffer's size.
pub(super) fn opaque(input: &[u8]) -> bool {
    if input.len() < OPAQUE_MIN {
        return false;
    }
    let mid = input.len() / 2 - OPAQUE_WINDOW / 2;
    [0, mid, input.len() - OPAQUE_WINDOW]
        .iter()
        .all(|&at| random_looking(&input[at..at + OPAQUE_WINDOW]))
}

fn random_looking(window: &[u8]) -> bool {
    let mut counts = [0u32; 256];
    for &b in window {
        counts[usize::from(b)] += 1;
    }
    let control: u32 = counts
        .iter()
        .enumerate()
        .filter(|&(b, _)| CLASS[b] & TEXT == 0)
        .map(|(_, &n)| n)
        .sum();
    if (control as usize) * 25 < window.len() {
        return false;
    }
    let n = window.len() as f64;
    let entropy: f64 = counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = f64::from(c) / n;
            -p * p.log2()
        })
        .sum();
    entropy > 7.2
}

/// What one pass over a buffer saw.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Sniff {
    any: u8,
    all: u8,
    /// A run of at least [`MIN_BASE64_RUN`] base64 characters.
    pub(super) base64: bool,
    /// A `%XX` escape.
    pub(super) percent: bool,
    pub(super) plus: bool,
    /// `=XX` escapes of a byte a quoted-printable encoder must escape (>= 0x80, or `=`).
    pub(super) qp_escapes: u32,
    /// A quoted-printable soft line break (`=` at the end of a line).
    pub(super) qp_soft: bool,
    /// A gzip, zlib or zstd magic number somewhere.
    pub(super) magic: bool,
}

fn hex_val(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// The byte a `%XX` or `=XX` escape at `at` (pointing at the two digits) stands for.
pub(super) fn escape_at(buf: &[u8], at: usize) -> Option<u8> {
    let hi = hex_val(*buf.get(at)?)?;
    let lo = hex_val(*buf.get(at.checked_add(1)?)?)?;
    Some(hi << 4 | lo)
}

/// Whether a zlib stream can start at `at`: CMF 0x78 (deflate, 32 KiB window), a FLG byte of
/// one of the four compression levels, no preset dictionary, and the FCHECK of RFC 1950
/// section 2.2 (CMF*256 + FLG a multiple of 31; all four values pass it).
pub(super) fn zlib_at(buf: &[u8], at: usize) -> bool {
    buf.get(at) == Some(&0x78)
        && matches!(
            buf.get(at.saturating_add(1)),
            Some(&(0x01 | 0x5e | 0x9c | 0xda))
        )
}

pub(super) const GZIP_MAGIC: &[u8] = &[0x1f, 0x8b, 0x08];
pub(super) const ZSTD_MAGIC: &[u8] = &[0x28, 0xb5, 0x2f, 0xfd];

impl Sniff {
    pub(super) fn of(buf: &[u8]) -> Self {
        let mut s = Self {
            all: 0xff,
            ..Self::default()
        };
        let mut run = 0usize;
        for (i, &b) in buf.iter().enumerate() {
            let c = CLASS[usize::from(b)];
            s.any |= c;
            s.all &= c;
            if c & B64 != 0 {
                run += 1;
                if run >= MIN_BASE64_RUN {
                    s.base64 = true;
                }
            } else {
                run = 0;
            }
            if c & SPECIAL == 0 {
                continue;
            }
            let next = i.saturating_add(1);
            match b {
                b'%' => s.percent |= escape_at(buf, next).is_some(),
                b'+' => s.plus = true,
                b'=' => match buf.get(next) {
                    Some(b'\n') => s.qp_soft = true,
                    Some(b'\r') if buf.get(next.saturating_add(1)) == Some(&b'\n') => {
                        s.qp_soft = true
                    }
                    // Quoted-printable escapes are upper case (RFC 2045 section 6.7).
                    Some(h) if !h.is_ascii_lowercase() => {
                        let lower = buf
                            .get(next.saturating_add(1))
                            .is_some_and(u8::is_ascii_lowercase);
                        if let Some(v) = escape_at(buf, next).filter(|_| !lower) {
                            if v >= 0x80 || v == b'=' {
                                s.qp_escapes = s.qp_escapes.saturating_add(1);
                            }
                        }
                    }
                    _ => {}
                },
                0x1f => s.magic |= buf.get(i..).is_some_and(|r| r.starts_with(GZIP_MAGIC)),
                b'x' => s.magic |= zlib_at(buf, i),
                b'(' => s.magic |= buf.get(i..).is_some_and(|r| r.starts_with(ZSTD_MAGIC)),
                _ => {}
            }
        }
        if buf.is_empty() {
            s.all = 0;
        }
        s
    }

    /// Some byte of the buffer is of class `c`.
    pub(super) fn has(&self, c: u8) -> bool {
        self.any & c != 0
    }

    /// Every byte of the buffer is of class `c`.
    pub(super) fn all(&self, c: u8) -> bool {
        self.all & c == c
    }

    /// Only form characters, and at least one `=`: `a=1&b=%20`.
    pub(super) fn form_shaped(&self) -> bool {
        self.all(FORM) && self.has(EQUALS)
    }

    /// Holds a control byte: not text in any charset.
    pub(super) fn binary(&self) -> bool {
        !self.all(TEXT)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags() {
        let s = Sniff::of(b"a=1&b=%C3%A9+x");
        assert!(s.percent && s.plus && s.form_shaped() && !s.binary() && !s.base64);
        let s = Sniff::of(b"{\"a\":\"\\u00e9\"}");
        assert!(s.has(QUOTE) && s.has(BACKSLASH) && !s.form_shaped() && !s.percent);
        let s = Sniff::of(b"token: QUJDREVGR0hJSktMTU5PUA");
        assert!(s.base64 && s.has(SPACE));
        let s = Sniff::of(b"N;ENCODING=QUOTED-PRINTABLE:=E9=99=B3=\r\n=E7");
        assert!(s.qp_soft && s.qp_escapes >= 3);
        // Lower-case hex after '=' is a form value, not quoted-printable.
        assert_eq!(Sniff::of(b"k=e9&v=ff").qp_escapes, 0);
        assert!(Sniff::of(b"..\x1f\x8b\x08..").magic);
        assert!(Sniff::of(b"..x\x9c..").magic);
        assert!(Sniff::of(b"(\xb5/\xfd").magic);
        assert!(!Sniff::of(b"box (x) 0x1f").magic);
        assert!(Sniff::of(b"\x08\x01").binary());
        assert!(!Sniff::of("héllo\r\n".as_bytes()).binary());
        let empty = Sniff::of(b"");
        assert!(!empty.form_shaped() && !empty.all(TEXT));
    }

    #[test]
    fn zlib_headers_pass_fcheck() {
        // RFC 1950 section 2.2: CMF*256 + FLG is a multiple of 31.
        for flg in [0x01u16, 0x5e, 0x9c, 0xda] {
            assert_eq!((0x78 * 256 + flg) % 31, 0, "{flg:#x}");
        }
    }

    #[test]
    fn random_bytes_are_opaque_and_text_in_any_charset_is_not() {
        // A xorshift stream stands in for compressed or encrypted data.
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let random: Vec<u8> = (0..20_000)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect();
        assert!(opaque(&random));
        assert!(
            !opaque(&random[..OPAQUE_MIN - 1]),
            "short buffers are sniffed"
        );
        // A text part in the middle of a binary upload keeps the whole buffer sniffed.
        let mut mixed = random;
        mixed[9_000..11_000].fill(b'a');
        assert!(!opaque(&mixed));
        // CJK text, UTF-8 and GBK, has no control bytes.
        let cjk: String = (0..6_000u32)
            .filter_map(|i| char::from_u32(0x4e00 + (i * 7919) % 20_000))
            .collect();
        assert!(!opaque(cjk.as_bytes()));
        let (gbk, _, _) = encoding_rs::GBK.encode(&cjk);
        assert!(!opaque(&gbk));
        let json = "{\"imei\":\"356938035643809\",\"n\":1}".repeat(200);
        assert!(!opaque(json.as_bytes()));
    }
}

//! Domain names: labels, compression pointers, presentation escaping (RFC 1035 3.1, 4.1.4).
//!
//! A name is walked once; the walk either appends its presentation form to a `String` or only
//! validates (for the cheap content check), so no temporary buffer is needed.

/// Longest name on the wire, length octets included (RFC 1035 2.3.4).
pub(crate) const MAX_NAME_WIRE: usize = 255;

/// Upper bound on compression pointers followed for one name. The strictly-backwards rule
/// below already rules out loops; this bound keeps the work per name small regardless.
const MAX_HOPS: usize = 64;

/// Why a name could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NameError {
    /// The name runs past the end of the message.
    Truncated,
    /// A compression pointer does not point strictly before the labels that led to it.
    BadPointer,
    /// More than [`MAX_HOPS`] pointers.
    TooManyPointers,
    /// Longer than 255 octets.
    TooLong,
    /// Label type 0b01 or 0b10 (RFC 6891 5 retired extended labels).
    LabelType(u8),
}

impl NameError {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Truncated => "name runs past the end of the message",
            Self::BadPointer => "compression pointer does not point backwards",
            Self::TooManyPointers => "too many compression pointers",
            Self::TooLong => "name longer than 255 octets",
            Self::LabelType(_) => "unsupported label type",
        }
    }
}

/// Reads the name starting at `start` in `msg`.
///
/// Returns the offset just past the name as it sits at `start` (a pointer ends the name's own
/// bytes, RFC 1035 4.1.4). When `out` is given the presentation form is appended: labels
/// joined by `.`, no trailing dot, the root as `.`, case kept as sent, bytes escaped as dig
/// escapes them.
pub(crate) fn read(
    msg: &[u8],
    start: usize,
    mut out: Option<&mut String>,
) -> Result<usize, NameError> {
    let mut pos = start;
    // Start of the run of labels being read: every pointer must target an offset before it,
    // so targets strictly decrease and no loop is possible.
    let mut run_start = start;
    let mut end: Option<usize> = None;
    let mut wire_len = 0usize;
    let mut hops = 0usize;
    let mut labels = 0usize;
    loop {
        let len = *msg.get(pos).ok_or(NameError::Truncated)?;
        match len & 0xC0 {
            0x00 => {
                let len = usize::from(len);
                wire_len = wire_len.saturating_add(len + 1);
                if wire_len > MAX_NAME_WIRE {
                    return Err(NameError::TooLong);
                }
                if len == 0 {
                    if labels == 0 {
                        if let Some(out) = out.as_deref_mut() {
                            out.push('.');
                        }
                    }
                    return Ok(end.unwrap_or(pos + 1));
                }
                let label_start = pos + 1;
                let label = label_start
                    .checked_add(len)
                    .and_then(|label_end| msg.get(label_start..label_end))
                    .ok_or(NameError::Truncated)?;
                if let Some(out) = out.as_deref_mut() {
                    if labels > 0 {
                        out.push('.');
                    }
                    escape_label(label, out);
                }
                labels += 1;
                pos = label_start + len;
            }
            0xC0 => {
                // RFC 1035 4.1.4: a two-octet pointer to an earlier occurrence of the suffix.
                let low = *msg.get(pos + 1).ok_or(NameError::Truncated)?;
                let target = usize::from(u16::from_be_bytes([len & 0x3F, low]));
                if target >= run_start {
                    return Err(NameError::BadPointer);
                }
                hops += 1;
                if hops > MAX_HOPS {
                    return Err(NameError::TooManyPointers);
                }
                if end.is_none() {
                    end = Some(pos + 2);
                }
                pos = target;
                run_start = target;
            }
            other => return Err(NameError::LabelType(other >> 6)),
        }
    }
}

/// Appends `label` in dig's presentation form (RFC 1035 5.1): `\.`-style escapes for the
/// characters special in master files, `\DDD` for bytes outside printable ASCII.
fn escape_label(label: &[u8], out: &mut String) {
    for &b in label {
        match b {
            b'.' | b'\\' | b'"' | b'(' | b')' | b';' | b'@' | b'$' => {
                out.push('\\');
                out.push(char::from(b));
            }
            0x21..=0x7E => out.push(char::from(b)),
            _ => push_ddd(b, out),
        }
    }
}

/// Appends `\DDD` (three decimal digits) for `b`.
pub(crate) fn push_ddd(b: u8, out: &mut String) {
    out.push('\\');
    out.push(char::from(b'0' + b / 100));
    out.push(char::from(b'0' + (b / 10) % 10));
    out.push(char::from(b'0' + b % 10));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(msg: &[u8], start: usize) -> Result<(String, usize), NameError> {
        let mut s = String::new();
        let end = read(msg, start, Some(&mut s))?;
        Ok((s, end))
    }

    #[test]
    fn plain_and_root() {
        assert_eq!(
            name(b"\x03www\x07example\x03com\x00", 0),
            Ok(("www.example.com".into(), 17))
        );
        assert_eq!(name(b"\x00", 0), Ok((".".into(), 1)));
    }

    #[test]
    fn case_is_kept() {
        assert_eq!(name(b"\x03WwW\x00", 0), Ok(("WwW".into(), 5)));
    }

    #[test]
    fn compression_pointer_backwards() {
        // "example.com" at 0, then "www" + pointer to 0 at 13.
        let msg = b"\x07example\x03com\x00\x03www\xC0\x00";
        assert_eq!(name(msg, 13), Ok(("www.example.com".into(), 19)));
    }

    #[test]
    fn hostile_names_table() {
        let long = {
            let mut v = Vec::new();
            for _ in 0..5 {
                v.push(63);
                v.extend_from_slice(&[b'a'; 63]);
            }
            v.push(0);
            v
        };
        let cases: &[(&[u8], usize, NameError)] = &[
            (b"\xC0\x00", 0, NameError::BadPointer), // points at itself
            (b"\x01a\xC0\x00", 0, NameError::BadPointer), // loops to its own start
            (b"\x00\x01a\xC0\x04\x00", 1, NameError::BadPointer), // forward pointer
            (b"\x05ab", 0, NameError::Truncated),
            (b"\x01a", 0, NameError::Truncated),
            (b"\xC0", 0, NameError::Truncated),
            (b"\x41abc", 0, NameError::LabelType(1)),
            (&long, 0, NameError::TooLong),
        ];
        for (msg, start, want) in cases {
            assert_eq!(name(msg, *start), Err(*want), "{msg:?}");
        }
    }

    #[test]
    fn chain_of_backward_pointers_is_bounded() {
        // Each name is a pointer to the previous pointer: legal but long chains stop at MAX_HOPS.
        let mut msg = vec![0u8];
        for i in 0..100u16 {
            let target = if i == 0 { 0 } else { 1 + (i - 1) * 2 };
            msg.extend_from_slice(&(0xC000 | target).to_be_bytes());
        }
        let last = msg.len() - 2;
        assert_eq!(name(&msg, last), Err(NameError::TooManyPointers));
        assert_eq!(name(&msg, 1 + 2 * 10), Ok((".".into(), 23)));
    }

    #[test]
    fn escaping_as_dig() {
        let msg = b"\x07a.b\\c d\x00";
        assert_eq!(name(msg, 0).unwrap().0, "a\\.b\\\\c\\032d");
        let msg = b"\x02\x00\xFF\x00";
        assert_eq!(name(msg, 0).unwrap().0, "\\000\\255");
    }
}

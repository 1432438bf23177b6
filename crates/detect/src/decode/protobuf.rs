//! Layer "protobuf": the fields of a protocol buffers message, read without its schema.
//!
//! Mobile SDKs (Firebase, ad networks, telemetry) send protobuf, often in gRPC frames. Without
//! the schema only the wire format is known (protobuf encoding guide, "Message Structure"):
//! a varint key (field number << 3 | wire type), then a varint (type 0), 8 bytes (1), a
//! varint length and that many bytes (2), or 4 bytes (5). A buffer is taken for a message only
//! if the whole of it parses that way, with field numbers in 1..2^29 and no group (types 3 and
//! 4, deprecated) or unknown type: random bytes fail within a few fields.
//!
//! Length-delimited fields are strings, bytes or nested messages, and nothing on the wire tells
//! which. A field is taken for a message when it parses as one and is not plain text (text
//! parsing as a message happens, text-looking messages need field numbers above 3 throughout);
//! nested messages are descended (up to [`MAX_NESTING`] levels, which cost no depth of the
//! expander) and the other length-delimited fields, the leaves, are the views. Each leaf is
//! then expanded in turn: a bytes field holding gzip, JSON or base64 is undone from there.
//!
//! Numbers are values too: an IMEI, a phone number or an E7 coordinate fits in an int64, and a
//! location is often two doubles. The numeric fields of a message (varints, fixed64, fixed32,
//! nested messages included) are written out as decimal text, `field=value` separated by
//! spaces, in one "protobuf-numbers" view per buffer, which the scanner searches like any text.
//! The wire does not say how to read a number, so each is read the way apps most often mean it:
//! a varint as int64 (negative above 2^63, as int32 and int64 encode negative numbers), fixed64
//! as a double when it is a normal double of everyday magnitude (an integer such as an IMEI is
//! a subnormal or a huge double) and as int64 otherwise, fixed32 likewise as a float or int32.
//! A varint of 2^20 or more is also written as zigzag (sint32, sint64: `(n >> 1) ^ -(n & 1)`),
//! the encoding schemas choose for numbers that may be negative, such as coordinates; smaller
//! ones are no identifier in either reading.
//!
//! gRPC (its HTTP/2 protocol document, "Length-Prefixed-Message"): a buffer that is exactly a
//! chain of frames (flag 0 or 1, 4-byte big-endian length, message) gives the leaves of each
//! uncompressed message; compressed ones are found by the compressed-stream layer.
//!
//! Written here because protobuf crates decode against a schema; a schema-less reader that
//! rejects on the first inconsistency is a few dozen lines.

use std::io::Write as _;
use std::ops::Range;

use super::{Expander, Hint, Visit, MIN_VIEW};

/// Nested messages descended below one buffer.
pub(super) const MAX_NESTING: usize = 16;
const MAX_FIELD: u64 = (1 << 29) - 1;

fn varint(buf: &[u8], pos: &mut usize) -> Option<u64> {
    let mut v = 0u64;
    for shift in (0..64).step_by(7) {
        let b = *buf.get(*pos)?;
        *pos += 1;
        // The tenth byte may carry only the top bit of a u64.
        if shift == 63 && b > 1 {
            return None;
        }
        v |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return Some(v);
        }
    }
    None
}

/// One field's value as the wire gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Value {
    Varint(u64),
    Fixed64(u64),
    Fixed32(u32),
    /// The range of a length-delimited field's content.
    Bytes(Range<usize>),
}

/// Parses `buf` as one whole message, calling `f` with each field's number and value. False
/// on any inconsistency (`f` may have been called for earlier fields).
fn fields(buf: &[u8], mut f: impl FnMut(u64, Value)) -> bool {
    let mut pos = 0usize;
    while pos < buf.len() {
        let Some(key) = varint(buf, &mut pos) else {
            return false;
        };
        let field = key >> 3;
        if field == 0 || field > MAX_FIELD {
            return false;
        }
        let value = match key & 7 {
            0 => match varint(buf, &mut pos) {
                Some(v) => Value::Varint(v),
                None => return false,
            },
            1 => {
                let Some(b) = buf.get(pos..pos.saturating_add(8)) else {
                    return false;
                };
                let mut a = [0u8; 8];
                a.copy_from_slice(b);
                pos += 8;
                Value::Fixed64(u64::from_le_bytes(a))
            }
            5 => {
                let Some(b) = buf.get(pos..pos.saturating_add(4)) else {
                    return false;
                };
                pos += 4;
                Value::Fixed32(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            }
            2 => {
                let Some(len) = varint(buf, &mut pos).and_then(|l| usize::try_from(l).ok()) else {
                    return false;
                };
                let Some(end) = pos.checked_add(len).filter(|&e| e <= buf.len()) else {
                    return false;
                };
                let start = pos;
                pos = end;
                Value::Bytes(start..end)
            }
            _ => return false,
        };
        f(field, value);
    }
    true
}

/// The whole buffer is one message with at least one field.
pub(super) fn is_message(buf: &[u8]) -> bool {
    !buf.is_empty() && fields(buf, |_, _| {})
}

/// Varints from this value on are also read as zigzag.
const ZIGZAG_FROM: u64 = 1 << 20;

/// Appends `field=value ` for one numeric field, read as described in the module docs.
fn write_number(out: &mut Vec<u8>, field: u64, value: &Value) {
    // Writing into a Vec cannot fail.
    let _ = match *value {
        Value::Varint(v) if v >= ZIGZAG_FROM => {
            let zigzag = ((v >> 1) as i64) ^ -((v & 1) as i64);
            write!(out, "{field}={} {field}={zigzag} ", v as i64)
        }
        Value::Varint(v) => write!(out, "{field}={} ", v as i64),
        Value::Fixed64(bits) => {
            let d = f64::from_bits(bits);
            if d.is_normal() && (1e-6..1e15).contains(&d.abs()) {
                write!(out, "{field}={d} ")
            } else {
                write!(out, "{field}={} ", bits as i64)
            }
        }
        Value::Fixed32(bits) => {
            let x = f32::from_bits(bits);
            if x.is_normal() && (1e-4..1e9).contains(&x.abs()) {
                write!(out, "{field}={x} ")
            } else {
                write!(out, "{field}={} ", bits as i32)
            }
        }
        Value::Bytes(_) => Ok(()),
    };
}

/// Printable UTF-8 (tab and line breaks allowed): a string field, not a message.
fn is_text(b: &[u8]) -> bool {
    std::str::from_utf8(b).is_ok()
        && b.iter()
            .all(|&c| (c >= 0x20 && c != 0x7f) || matches!(c, b'\t' | b'\r' | b'\n'))
}

/// What one walk over a message tree collects.
pub(super) struct Walk<'a> {
    /// The ranges of the leaves (offset by the caller's base), at most `max`.
    pub(super) leaves: &'a mut Vec<Range<usize>>,
    pub(super) max: usize,
    /// The numeric fields as text, up to `numbers_cap` bytes (`numbers_cut` if more).
    pub(super) numbers: &'a mut Vec<u8>,
    pub(super) numbers_cap: usize,
    pub(super) numbers_cut: bool,
}

impl Walk<'_> {
    /// Walks message `msg`, which starts at `base` in the caller's buffer.
    pub(super) fn message(&mut self, msg: &[u8], base: usize, nesting: usize) {
        fields(msg, |field, value| {
            let Value::Bytes(r) = value else {
                if self.numbers.len() < self.numbers_cap {
                    write_number(self.numbers, field, &value);
                } else {
                    self.numbers_cut = true;
                }
                return;
            };
            let Some(f) = msg.get(r.clone()) else {
                return;
            };
            let at = base + r.start..base + r.end;
            if nesting < MAX_NESTING && !is_text(f) && is_message(f) {
                self.message(f, at.start, nesting + 1);
            } else if f.len() >= MIN_VIEW && self.leaves.len() < self.max {
                self.leaves.push(at);
            }
        });
    }
}

/// Appends the ranges (offset by `base`) of the leaves of message `msg`, at most `max`.
#[cfg(test)]
fn leaves(msg: &[u8], base: usize, nesting: usize, out: &mut Vec<Range<usize>>, max: usize) {
    let mut numbers = Vec::new();
    Walk {
        leaves: out,
        max,
        numbers: &mut numbers,
        numbers_cap: 0,
        numbers_cut: false,
    }
    .message(msg, base, nesting);
}

/// The frames of a buffer that is exactly a chain of gRPC frames: (compressed, message).
fn grpc_frames(buf: &[u8], mut f: impl FnMut(bool, Range<usize>)) -> bool {
    let mut pos = 0usize;
    let mut n = 0;
    while pos < buf.len() {
        let Some(h) = buf.get(pos..pos.saturating_add(5)) else {
            return false;
        };
        if h[0] > 1 {
            return false;
        }
        let len = u32::from_be_bytes([h[1], h[2], h[3], h[4]]) as usize;
        let start = pos + 5;
        let Some(end) = start.checked_add(len).filter(|&e| e <= buf.len()) else {
            return false;
        };
        f(h[0] == 1, start..end);
        pos = end;
        n += 1;
    }
    n > 0
}

/// Some(frames) when `buf` is exactly a chain of gRPC frames.
pub(super) fn grpc(buf: &[u8]) -> Option<usize> {
    let mut n = 0;
    grpc_frames(buf, |_, _| n += 1).then_some(n)
}

impl Expander {
    pub(super) fn protobuf(&mut self, input: &[u8], depth: usize, visit: Visit<'_>) {
        let mut ranges = self.take_ranges(depth);
        let mut numbers = self.take(depth, 0);
        let max = self.limits.max_views.saturating_sub(self.views);
        let mut walk = Walk {
            leaves: &mut ranges,
            max,
            numbers: &mut numbers,
            numbers_cap: self.limits.max_view,
            numbers_cut: false,
        };
        if grpc(input).is_some() {
            grpc_frames(input, |compressed, r| {
                let Some(m) = input.get(r.clone()) else {
                    return;
                };
                if compressed || walk.leaves.len() >= max {
                    return;
                }
                if is_message(m) {
                    walk.message(m, r.start, 0);
                } else if m.len() >= MIN_VIEW {
                    walk.leaves.push(r);
                }
            });
        } else if is_message(input) {
            walk.message(input, 0, 0);
        }
        let numbers_cut = walk.numbers_cut;
        if ranges.len() >= max && max > 0 {
            self.stats.capped += 1;
        }
        for r in &ranges {
            if let Some(view) = input.get(r.clone()) {
                self.emit(&["protobuf"], view, input, Hint::Payload, depth, visit);
            }
        }
        if numbers_cut {
            self.stats.capped += 1;
        }
        // The trailing separator is no part of the last number.
        let text = numbers.strip_suffix(b" ").unwrap_or(&numbers);
        self.emit_final(&["protobuf-numbers"], text, input, depth, visit);
        self.put(depth, 0, numbers);
        self.put_ranges(depth, ranges);
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write as _;

    use super::super::tests::{expand, noise};
    use super::*;

    fn put_varint(out: &mut Vec<u8>, mut v: u64) {
        while v >= 0x80 {
            out.push((v as u8) | 0x80);
            v >>= 7;
        }
        out.push(v as u8);
    }

    fn bytes_field(out: &mut Vec<u8>, field: u64, data: &[u8]) {
        put_varint(out, field << 3 | 2);
        put_varint(out, data.len() as u64);
        out.extend_from_slice(data);
    }

    /// A device-registration message shaped like an analytics SDK's: app id, a nested device
    /// message (IMEI string, API level varint), a timestamp (fixed64), a flag (fixed32).
    fn registration() -> Vec<u8> {
        let mut device = Vec::new();
        bytes_field(&mut device, 1, b"356938035643809");
        put_varint(&mut device, 3 << 3);
        put_varint(&mut device, 34);
        bytes_field(&mut device, 2, "Chén Mei".as_bytes());
        let mut m = Vec::new();
        bytes_field(&mut m, 1, b"com.example.app");
        bytes_field(&mut m, 2, &device);
        put_varint(&mut m, 4 << 3 | 1);
        m.extend_from_slice(&1_700_000_000_000u64.to_le_bytes());
        put_varint(&mut m, 5 << 3 | 5);
        m.extend_from_slice(&[1, 0, 0, 0]);
        m
    }

    #[test]
    fn wire_format() {
        let m = registration();
        assert!(is_message(&m));
        let mut r = Vec::new();
        leaves(&m, 0, 0, &mut r, 100);
        let got: Vec<&[u8]> = r.iter().map(|r| &m[r.clone()]).collect();
        assert_eq!(
            got,
            [
                &b"com.example.app"[..],
                b"356938035643809",
                "Chén Mei".as_bytes()
            ]
        );
        // Rejections: cut, field 0, group, a length past the end, a trailing byte, empty.
        assert!(!is_message(&m[..m.len() - 1]));
        assert!(!is_message(&[0x00, 0x01]));
        assert!(!is_message(&[0x0b, 0x0c]));
        assert!(!is_message(&[0x0a, 0x05, b'a']));
        let mut t = m.clone();
        t.push(0x80);
        assert!(!is_message(&t));
        assert!(!is_message(&[]));
        let mut p = 0;
        assert_eq!(varint(&[0xff; 11], &mut p), None);
    }

    #[test]
    fn views_and_grpc() {
        let m = registration();
        let v = expand(
            Hint::Body {
                content_type: Some("application/x-protobuf"),
            },
            &m,
        );
        let want: Vec<(String, Vec<u8>)> = [
            &b"com.example.app"[..],
            b"356938035643809",
            "Chén Mei".as_bytes(),
        ]
        .iter()
        .map(|b| ("protobuf".to_owned(), b.to_vec()))
        .collect();
        assert_eq!(v[..3], want);
        // The numeric fields: a varint, a fixed64 timestamp (no everyday double), a fixed32.
        assert_eq!(
            v[3],
            (
                "protobuf-numbers".to_owned(),
                b"3=34 4=1700000000000 5=1".to_vec()
            )
        );
        assert_eq!(v.len(), 4);
        // Two gRPC frames: one plain, one gzip-compressed (grpc-encoding: gzip).
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(&m).unwrap();
        let z = e.finish().unwrap();
        let mut g = vec![0];
        g.extend_from_slice(&(m.len() as u32).to_be_bytes());
        g.extend_from_slice(&m);
        g.push(1);
        g.extend_from_slice(&(z.len() as u32).to_be_bytes());
        g.extend_from_slice(&z);
        assert_eq!(grpc(&g), Some(2));
        let v = expand(
            Hint::Body {
                content_type: Some("application/grpc"),
            },
            &g,
        );
        assert_eq!(&v[..3], &want[..]);
        assert_eq!(v[3].0, "protobuf-numbers");
        // The compressed frame is inflated; its fields are the same bytes, already reported.
        assert_eq!(v[4].0, "gzip");
        assert_eq!(v[4].1, m);
        assert_eq!(v.len(), 5);
    }

    #[test]
    fn zigzag_numbers_are_read_too() {
        // sint64 fields (zigzag, `(n << 1) ^ (n >> 63)`): a negative E7 longitude and an IMEI.
        let zigzag = |n: i64| ((n << 1) ^ (n >> 63)) as u64;
        let mut m = Vec::new();
        bytes_field(&mut m, 1, b"com.example.weather");
        put_varint(&mut m, 9 << 3);
        put_varint(&mut m, zigzag(-1_215_644_680));
        put_varint(&mut m, 3 << 3);
        put_varint(&mut m, zigzag(358_472_091_635_275));
        // Below 2^20 only the plain reading: no identifier is that short.
        put_varint(&mut m, 4 << 3);
        put_varint(&mut m, 1000);
        let v = expand(
            Hint::Body {
                content_type: Some("application/x-protobuf"),
            },
            &m,
        );
        let numbers = &v.iter().find(|(k, _)| k == "protobuf-numbers").unwrap().1;
        assert_eq!(
            String::from_utf8_lossy(numbers),
            "9=2431289359 9=-1215644680 3=716944183270550 3=358472091635275 4=1000"
        );
    }

    #[test]
    fn numbers_as_text() {
        // A location report as an SDK sends it: an IMEI and a phone number as int64, the
        // position as two doubles, then as E7 int32s (the longitude negative: ten bytes on
        // the wire), an accuracy as a float, a zero-length bytes field, and a nested message
        // with a sfixed64 that is no everyday double.
        let mut m = Vec::new();
        bytes_field(&mut m, 1, b"com.example.weather");
        put_varint(&mut m, 3 << 3);
        put_varint(&mut m, 358_472_091_635_275);
        put_varint(&mut m, 4 << 3);
        put_varint(&mut m, 886_912_345_678);
        for (field, d) in [(7u64, 25.033964f64), (8, 121.564468)] {
            put_varint(&mut m, field << 3 | 1);
            m.extend_from_slice(&d.to_le_bytes());
        }
        put_varint(&mut m, 9 << 3);
        put_varint(&mut m, 250_339_640);
        put_varint(&mut m, 10 << 3);
        put_varint(&mut m, -1_215_644_680i64 as u64);
        put_varint(&mut m, 11 << 3 | 5);
        m.extend_from_slice(&12.5f32.to_le_bytes());
        bytes_field(&mut m, 12, b"");
        let mut inner = Vec::new();
        put_varint(&mut inner, 1 << 3 | 1);
        inner.extend_from_slice(&(-42i64).to_le_bytes());
        bytes_field(&mut m, 13, &inner);
        let v = expand(
            Hint::Body {
                content_type: Some("application/x-protobuf"),
            },
            &m,
        );
        assert_eq!(
            v,
            [
                ("protobuf".to_owned(), b"com.example.weather".to_vec()),
                (
                    "protobuf-numbers".to_owned(),
                    b"3=358472091635275 3=-179236045817638 4=886912345678 4=443456172839 \
                      7=25.033964 8=121.564468 9=250339640 9=125169820 10=-1215644680 \
                      10=9223372036246953468 11=12.5 1=-42"
                        .to_vec()
                ),
            ]
        );
        // A message of text fields only has no numbers view; neither does a message whose
        // only number is too short to be any value.
        let mut t = Vec::new();
        bytes_field(&mut t, 1, b"\x00\x01binary leaf");
        assert!(expand(Hint::Payload, &t)
            .iter()
            .all(|(l, _)| l == "protobuf"));
        assert!(expand(Hint::Payload, &[0x08, 0x01, 0x10, 0x02]).is_empty());
    }

    #[test]
    fn bytes_field_with_nested_layers() {
        // A bytes field holding base64 of JSON with an escape.
        let inner = base64::Engine::encode(
            &base64::engine::general_purpose::STANDARD,
            br#"{"owner":"Ch\u00e9n Mei Ling"}"#,
        );
        let mut m = Vec::new();
        bytes_field(&mut m, 7, inner.as_bytes());
        put_varint(&mut m, 8);
        put_varint(&mut m, 1);
        let v = expand(Hint::Payload, &m);
        assert_eq!(v[0], ("protobuf".to_owned(), inner.into_bytes()));
        assert_eq!(
            v[2],
            (
                "protobuf/base64/json".to_owned(),
                "Chén Mei Ling".as_bytes().to_vec()
            )
        );
    }

    #[test]
    fn random_and_deep() {
        for seed in 1..500 {
            assert!(!is_message(&noise(seed, 64)), "seed {seed}");
        }
        // 1000 nested messages: the descent stops at MAX_NESTING (no stack overflow), where the
        // rest of the nest is one leaf.
        let mut m = Vec::new();
        bytes_field(&mut m, 1, b"\x00\x01deepest value");
        for _ in 0..1000 {
            let mut outer = Vec::new();
            bytes_field(&mut outer, 2, &m);
            m = outer;
        }
        let mut r = Vec::new();
        leaves(&m, 0, 0, &mut r, 100);
        assert_eq!(r.len(), 1);
    }
}

//! Layers "gzip", "zlib", "zstd" (and "deflate" for WebSocket): compressed streams inside a
//! payload, found by their magic numbers and inflated up to a cap.
//!
//! A compressed stream can sit anywhere: after a length prefix in a binary protocol, in a
//! decoded base64 blob, in a protobuf field. Candidates are the gzip member header (`1f 8b 08`,
//! RFC 1952 section 2.3, reserved flag bits zero), a zlib header (`78` and a level byte with a
//! valid FCHECK, RFC 1950 section 2.2) and the zstd frame magic (`28 b5 2f fd`, RFC 8878
//! section 3.1.1). A stream that ends cleanly is a view; so is one cut by the end of the buffer
//! (a chunk of a stream), except a zlib candidate in the middle of a buffer, whose two-byte
//! header is too common (`x^` in text) to trust without its end and its Adler-32. A gzip member
//! that ends must match its trailer's CRC-32 and length.
//!
//! Bounds: output stops at the view's room (a *bomb* when the stream had more), the zstd window
//! is limited to the call's byte budget, and the input read and output made by every attempt,
//! failed ones included, are charged to the call's work budget. The inflaters are made on first
//! use and reset between attempts, so candidates cost no allocation. The gzip header is parsed
//! here, not by flate2's `GzDecoder`, so that one reusable raw inflater serves every attempt and
//! the end of the stream (and so where the next candidate may start) is known.

use flate2::{Decompress, FlushDecompress, Status};
use zstd::stream::raw::{DParameter, Decoder as ZstdDecoder, Operation as _};

use super::sniff::{zlib_at, GZIP_MAGIC, ZSTD_MAGIC};
use super::{Expander, Hint, Visit};

/// Output room starts this small and doubles up to [`STEP`], so an attempt that fails early
/// (most candidates) zeroes little.
const FIRST_STEP: usize = 1024;
const STEP: usize = 64 * 1024;
/// Bytes after a deflate stream that belong to its gzip member (CRC-32 and ISIZE).
const GZIP_TRAILER: usize = 8;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Gzip,
    Zlib,
    Zstd,
}

impl Kind {
    pub(super) fn name(self) -> &'static str {
        match self {
            Self::Gzip => "gzip",
            Self::Zlib => "zlib",
            Self::Zstd => "zstd",
        }
    }
}

/// How an attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum End {
    /// The stream's end marker was reached.
    Ended,
    /// The input ran out first.
    Truncated,
    /// The output reached its cap first.
    Capped,
    /// Not a valid stream.
    Failed,
}

#[derive(Debug, Clone, Copy)]
pub(super) struct Outcome {
    pub(super) end: End,
    /// Input bytes read.
    pub(super) consumed: usize,
}

/// The decompressors, made on first use and kept.
#[derive(Default)]
pub(super) struct Inflaters {
    raw: Option<Decompress>,
    zlib: Option<Decompress>,
    /// permessage-deflate keeps its window from one message to the next.
    pub(super) ws: Option<Decompress>,
    zstd: Option<ZstdDecoder<'static>>,
    zstd_broken: bool,
}

/// The next candidate at or after `from`.
pub(super) fn next_candidate(buf: &[u8], from: usize) -> Option<(usize, Kind)> {
    let rest = buf.get(from..)?;
    memchr::memchr3_iter(0x1f, 0x78, 0x28, rest).find_map(|i| {
        let at = from + i;
        let tail = buf.get(at..)?;
        if tail.starts_with(GZIP_MAGIC) {
            Some((at, Kind::Gzip))
        } else if zlib_at(buf, at) {
            Some((at, Kind::Zlib))
        } else if tail.starts_with(ZSTD_MAGIC) {
            Some((at, Kind::Zstd))
        } else {
            None
        }
    })
}

/// The length of the gzip member header at the start of `b` (RFC 1952 section 2.3), or None
/// if it is not one or is cut.
pub(super) fn gzip_header(b: &[u8]) -> Option<usize> {
    if !b.starts_with(GZIP_MAGIC) {
        return None;
    }
    let flg = *b.get(3)?;
    // FLG bits 5 to 7 are reserved and must be zero.
    if flg & 0xe0 != 0 {
        return None;
    }
    let mut i = 10usize;
    if flg & 0x04 != 0 {
        let xlen = u16::from_le_bytes([*b.get(i)?, *b.get(i + 1)?]);
        i = i.checked_add(2 + usize::from(xlen))?;
    }
    for bit in [0x08, 0x10] {
        // FNAME, then FCOMMENT: zero-terminated.
        if flg & bit != 0 {
            i = i.checked_add(memchr::memchr(0, b.get(i..)?)? + 1)?;
        }
    }
    if flg & 0x02 != 0 {
        i = i.checked_add(2)?;
    }
    (i <= b.len()).then_some(i)
}

fn delta(after: u64, before: u64) -> usize {
    usize::try_from(after.saturating_sub(before)).unwrap_or(usize::MAX)
}

/// Runs a flate2 inflater over `input` onto `out` up to `cap` bytes.
pub(super) fn run_flate(
    d: &mut Decompress,
    input: &[u8],
    out: &mut Vec<u8>,
    cap: usize,
    flush: FlushDecompress,
) -> Outcome {
    let mut consumed = 0usize;
    let mut step = FIRST_STEP / 2;
    loop {
        let pos = out.len();
        if pos >= cap {
            return Outcome {
                end: End::Capped,
                consumed,
            };
        }
        step = (step * 2).min(STEP);
        out.resize(pos.saturating_add(step).min(cap), 0);
        let (in0, out0) = (d.total_in(), d.total_out());
        let r = d.decompress(
            input.get(consumed..).unwrap_or(&[]),
            out.get_mut(pos..).unwrap_or(&mut []),
            flush,
        );
        let (read, wrote) = (delta(d.total_in(), in0), delta(d.total_out(), out0));
        out.truncate(pos.saturating_add(wrote));
        consumed = consumed.saturating_add(read);
        let end = match r {
            Err(_) => End::Failed,
            Ok(Status::StreamEnd) => End::Ended,
            Ok(_) if read == 0 && wrote == 0 => End::Truncated,
            Ok(_) => continue,
        };
        return Outcome { end, consumed };
    }
}

fn run_zstd(d: &mut ZstdDecoder<'static>, input: &[u8], out: &mut Vec<u8>, cap: usize) -> Outcome {
    let mut consumed = 0usize;
    let mut step = FIRST_STEP / 2;
    loop {
        let pos = out.len();
        if pos >= cap {
            return Outcome {
                end: End::Capped,
                consumed,
            };
        }
        step = (step * 2).min(STEP);
        out.resize(pos.saturating_add(step).min(cap), 0);
        let r = d.run_on_buffers(
            input.get(consumed..).unwrap_or(&[]),
            out.get_mut(pos..).unwrap_or(&mut []),
        );
        let Ok(s) = r else {
            out.truncate(pos);
            return Outcome {
                end: End::Failed,
                consumed,
            };
        };
        out.truncate(pos.saturating_add(s.bytes_written));
        consumed = consumed.saturating_add(s.bytes_read);
        // A zero hint: the frame is decoded and flushed.
        let end = if s.remaining == 0 {
            End::Ended
        } else if s.bytes_read == 0 && s.bytes_written == 0 {
            End::Truncated
        } else {
            continue;
        };
        return Outcome { end, consumed };
    }
}

impl Inflaters {
    fn zstd(&mut self, window_log: u32) -> Option<&mut ZstdDecoder<'static>> {
        if self.zstd.is_none() && !self.zstd_broken {
            let made = ZstdDecoder::new().and_then(|mut d| {
                d.set_parameter(DParameter::WindowLogMax(window_log))?;
                Ok(d)
            });
            match made {
                Ok(d) => self.zstd = Some(d),
                Err(_) => self.zstd_broken = true,
            }
        }
        let d = self.zstd.as_mut()?;
        d.reinit().ok()?;
        Some(d)
    }
}

/// Where a compressed stream may start in a random-looking buffer.
const HEAD: usize = 64;

impl Expander {
    /// One attempt at `at`: output in `out`, how it ended.
    fn inflate_at(&mut self, input: &[u8], kind: Kind, out: &mut Vec<u8>, cap: usize) -> Outcome {
        let failed = Outcome {
            end: End::Failed,
            consumed: 1,
        };
        match kind {
            Kind::Gzip => {
                let Some(h) = gzip_header(input) else {
                    return failed;
                };
                let d = self
                    .inflate
                    .raw
                    .get_or_insert_with(|| Decompress::new(false));
                d.reset(false);
                let mut o = run_flate(
                    d,
                    input.get(h..).unwrap_or(&[]),
                    out,
                    cap,
                    FlushDecompress::None,
                );
                o.consumed = o.consumed.saturating_add(h);
                if o.end == End::Ended {
                    // Short random bit strings often inflate cleanly; the trailer's CRC-32 and
                    // length (RFC 1952 section 2.3.1) tell a real member. A trailer cut by the
                    // end of the buffer is given the benefit of the doubt.
                    let trailer = input.get(o.consumed..).unwrap_or(&[]);
                    if let Some(t) = trailer.get(..GZIP_TRAILER) {
                        let mut crc = flate2::Crc::new();
                        crc.update(out);
                        let want_crc = u32::from_le_bytes([t[0], t[1], t[2], t[3]]);
                        let want_len = u32::from_le_bytes([t[4], t[5], t[6], t[7]]);
                        // ISIZE is the length modulo 2^32.
                        if crc.sum() != want_crc || out.len() as u32 != want_len {
                            o.end = End::Failed;
                        }
                    }
                    o.consumed = o.consumed.saturating_add(GZIP_TRAILER).min(input.len());
                }
                o
            }
            Kind::Zlib => {
                let d = self
                    .inflate
                    .zlib
                    .get_or_insert_with(|| Decompress::new(true));
                d.reset(true);
                run_flate(d, input, out, cap, FlushDecompress::None)
            }
            Kind::Zstd => {
                // The window a frame may ask for: no more than the call's byte budget.
                let log = self.limits.max_total.max(1024).ilog2().clamp(10, 27);
                match self.inflate.zstd(log) {
                    Some(d) => run_zstd(d, input, out, cap),
                    None => failed,
                }
            }
        }
    }

    /// Decodes the compressed streams found in `input` by their magic bytes; with `head_only`,
    /// only those starting in its first [`HEAD`] bytes (a stream behind a short binary header:
    /// a frame prefix, a protobuf tag and length).
    pub(super) fn compressed(
        &mut self,
        input: &[u8],
        head_only: bool,
        depth: usize,
        visit: Visit<'_>,
    ) {
        let mut buf = self.take(depth, 0);
        let mut from = 0usize;
        while let Some((at, kind)) = next_candidate(input, from) {
            if !self.work_left() || (head_only && at >= HEAD) {
                break;
            }
            let Some(room) = self.room() else {
                break;
            };
            buf.clear();
            let data = input.get(at..).unwrap_or(&[]);
            let o = self.inflate_at(data, kind, &mut buf, room);
            self.charge_work(o.consumed.saturating_add(buf.len()));
            let keep = match o.end {
                End::Ended => true,
                End::Capped => {
                    self.stats.bombs += 1;
                    self.stats.capped += 1;
                    true
                }
                End::Truncated => kind != Kind::Zlib || at == 0,
                End::Failed => false,
            };
            if keep {
                self.emit(&[kind.name()], &buf, input, Hint::Payload, depth, visit);
                from = at.saturating_add(o.consumed.max(1));
            } else {
                from = at + 1;
            }
        }
        self.put(depth, 0, buf);
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write as _;

    use super::super::tests::{expand, noise};
    use super::*;

    const TEXT: &[u8] = b"{\"imei\":\"356938035643809\",\"model\":\"Pixel 7\"}";

    fn zlib(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    fn gzip_named(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::GzBuilder::new()
            .filename("device.json")
            .comment("c")
            .extra(vec![1, 2, 3])
            .write(Vec::new(), flate2::Compression::fast());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn streams_inside_payloads() {
        // A binary protocol: a 4-byte length, then the compressed blob, then more bytes.
        for (name, blob) in [
            ("gzip", gzip_named(TEXT)),
            ("zlib", zlib(TEXT)),
            ("zstd", zstd::encode_all(TEXT, 3).unwrap()),
        ] {
            let mut p = (blob.len() as u32).to_be_bytes().to_vec();
            p.extend_from_slice(&blob);
            p.extend_from_slice(b"\x00\x01trailing");
            let v = expand(Hint::Payload, &p);
            assert_eq!(v, [(name.to_owned(), TEXT.to_vec())], "{name}");
        }
    }

    #[test]
    fn headers() {
        let g = gzip_named(b"x");
        let h = gzip_header(&g).unwrap();
        assert_eq!(&g[h - 2..h], b"c\0");
        assert_eq!(gzip_header(&g[..12]), None);
        let mut bad = g;
        bad[3] |= 0x20;
        assert_eq!(gzip_header(&bad), None);
        assert_eq!(next_candidate(b"ab(\xb5/\xfdx", 0), Some((2, Kind::Zstd)));
        assert_eq!(next_candidate(b"box x^", 0), Some((4, Kind::Zlib)));
        assert_eq!(next_candidate(b"box x^", 5), None);
    }

    #[test]
    fn cut_streams() {
        // A gzip stream cut by the end of a chunk still gives what it decoded.
        let long: Vec<u8> = (0..20_000u32)
            .flat_map(|i| i.to_string().into_bytes())
            .collect();
        let g = gzip_named(&long);
        let v = expand(Hint::Payload, &g[..g.len() / 2]);
        assert_eq!(v.len(), 1);
        assert!(long.starts_with(&v[0].1) && v[0].1.len() > 1000);
        // A zlib header in text with garbage after it is not a stream.
        assert!(expand(
            Hint::Payload,
            b"x^ this is just text, nothing compressed at all"
        )
        .is_empty());
        // Corrupt zstd data after a real magic.
        let mut z = zstd::encode_all(TEXT, 3).unwrap();
        let n = z.len();
        for b in &mut z[6..n] {
            *b ^= 0x5a;
        }
        assert!(expand(Hint::Payload, &z).is_empty());
    }

    #[test]
    fn zstd_bomb_and_window() {
        let zeros = vec![0u8; 64 << 20];
        let bomb = zstd::encode_all(&zeros[..], 19).unwrap();
        drop(zeros);
        let mut x = Expander::default();
        let mut got = Vec::new();
        x.expand(Hint::Payload, &bomb, &mut |l, b| {
            got.push((l.join("/"), b.len()))
        });
        assert_eq!(got, [("zstd".to_owned(), 1 << 20)]);
        assert_eq!(x.stats().bombs, 1);
    }

    #[test]
    fn magic_storm() {
        // Megabytes of zlib headers and gzip magics with noise between: bounded work, no view.
        let mut p = Vec::new();
        for i in 0..100_000u64 {
            p.extend_from_slice(if i % 2 == 0 {
                b"x\x9c"
            } else {
                b"\x1f\x8b\x08\x00"
            });
            p.extend_from_slice(&noise(i + 1, 8));
        }
        let mut x = Expander::default();
        let mut n = 0;
        x.expand(Hint::Payload, &p, &mut |_, _| n += 1);
        assert_eq!(n, 0);
        assert!(x.work <= x.limits.max_total * super::super::WORK_FACTOR + (1 << 20));
    }
}

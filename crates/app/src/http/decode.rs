//! Undoing content and transfer codings (RFC 9110 8.4, RFC 9112 7) with a size cap.

use std::io::Read;

/// Largest zstd window accepted: RFC 9659 3 limits the Content-Encoding "zstd" window to 8 MiB,
/// which also bounds the decoder's memory.
const ZSTD_WINDOW_LOG_MAX: u32 = 23;

/// Result of undoing a chain of codings.
#[derive(Debug, Default)]
pub(crate) struct Decoded {
    pub(crate) body: Vec<u8>,
    /// Codings undone, outermost first.
    pub(crate) applied: Vec<String>,
    pub(crate) error: Option<String>,
    /// Output reached the cap and was cut.
    pub(crate) truncated: bool,
}

/// Undoes `codings` (listed in the order the sender applied them) from last to first.
///
/// On an error the raw body is returned with the error, except when the input is known to be
/// cut short (`input_complete == false`): then what decoded before the cut is more useful than
/// compressed bytes, and it is kept with the error noted.
pub(crate) fn decode(
    raw: Vec<u8>,
    codings: &[String],
    cap: usize,
    input_complete: bool,
) -> Decoded {
    let mut cur = raw;
    let mut original: Option<Vec<u8>> = None;
    let mut out = Decoded::default();
    let mut complete = input_complete;
    for coding in codings.iter().rev() {
        let c = coding.trim().to_ascii_lowercase();
        if c == "identity" || c.is_empty() {
            continue;
        }
        let (decoded, result) = match c.as_str() {
            "gzip" | "x-gzip" => run(flate2::read::MultiGzDecoder::new(&cur[..]), cap),
            "deflate" => {
                // RFC 9110 8.4.1.2 says zlib, but servers also send raw deflate.
                let (zlib, r) = run(flate2::read::ZlibDecoder::new(&cur[..]), cap);
                if r.is_err() && zlib.is_empty() {
                    run(flate2::read::DeflateDecoder::new(&cur[..]), cap)
                } else {
                    (zlib, r)
                }
            }
            "br" => run(brotli::Decompressor::new(&cur[..], 4096), cap),
            "zstd" => match zstd::stream::read::Decoder::new(&cur[..]) {
                Ok(mut d) => match d.window_log_max(ZSTD_WINDOW_LOG_MAX) {
                    Ok(()) => run(d, cap),
                    Err(e) => (Vec::new(), Err(e.to_string())),
                },
                Err(e) => (Vec::new(), Err(e.to_string())),
            },
            _ => (Vec::new(), Err(format!("unsupported coding {c:?}"))),
        };
        match result {
            Ok(cut) => {
                if original.is_none() {
                    original = Some(std::mem::replace(&mut cur, decoded));
                } else {
                    cur = decoded;
                }
                out.applied.push(c);
                if cut {
                    out.truncated = true;
                    // Further layers see a cut input.
                    complete = false;
                }
            }
            Err(e) if !complete && !decoded.is_empty() => {
                out.error = Some(format!("{c}: {e} (input cut short; partial output kept)"));
                cur = decoded;
                out.applied.push(c);
                break;
            }
            Err(e) => {
                out.error = Some(format!("{c}: {e}"));
                if let Some(raw) = original.take() {
                    cur = raw;
                }
                out.applied.clear();
                out.truncated = false;
                break;
            }
        }
    }
    out.body = cur;
    out
}

/// Reads `r` to the end, keeping at most `cap` bytes; `Ok(true)` when output was cut at the cap.
fn run(r: impl Read, cap: usize) -> (Vec<u8>, Result<bool, String>) {
    let mut out = Vec::new();
    let limit = u64::try_from(cap).unwrap_or(u64::MAX).saturating_add(1);
    match r.take(limit).read_to_end(&mut out) {
        Ok(_) if out.len() > cap => {
            out.truncate(cap);
            (out, Ok(true))
        }
        Ok(_) => (out, Ok(false)),
        Err(e) => (out, Err(e.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    fn codings(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_string()).collect()
    }

    #[test]
    fn each_coding_round_trips() {
        let text = b"phonehome decoding check ".repeat(50);
        let zlib = {
            let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
            e.write_all(&text).unwrap();
            e.finish().unwrap()
        };
        let raw_deflate = {
            let mut e =
                flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
            e.write_all(&text).unwrap();
            e.finish().unwrap()
        };
        let br = {
            let mut v = Vec::new();
            let mut w = brotli::CompressorWriter::new(&mut v, 4096, 5, 22);
            w.write_all(&text).unwrap();
            drop(w);
            v
        };
        let zst = zstd::encode_all(&text[..], 3).unwrap();
        let cases: Vec<(Vec<u8>, &str)> = vec![
            (gzip(&text), "gzip"),
            (gzip(&text), "X-GZIP"),
            (zlib, "deflate"),
            (raw_deflate, "deflate"),
            (br, "br"),
            (zst, "zstd"),
            (text.clone(), "identity"),
        ];
        for (wire, coding) in cases {
            let d = decode(wire, &codings(&[coding]), 1 << 20, true);
            assert_eq!(d.error, None, "{coding}");
            assert_eq!(d.body, text, "{coding}");
        }
    }

    #[test]
    fn layered_gzip_is_undone_in_reverse() {
        let wire = gzip(&gzip(b"inner"));
        let d = decode(wire, &codings(&["gzip", "gzip"]), 1024, true);
        assert_eq!((d.body.as_slice(), d.applied.len()), (&b"inner"[..], 2));
    }

    #[test]
    fn cap_cuts_output() {
        let wire = gzip(&[b'a'; 10_000]);
        let d = decode(wire, &codings(&["gzip"]), 100, true);
        assert_eq!((d.body.len(), d.truncated, d.error), (100, true, None));
    }

    #[test]
    fn error_keeps_raw_body() {
        let d = decode(b"not gzip".to_vec(), &codings(&["gzip"]), 100, true);
        assert_eq!(d.body, b"not gzip");
        assert!(d.applied.is_empty());
        assert!(d.error.is_some());
        // Second layer fails: the wire bytes come back, not the half-decoded ones.
        let wire = gzip(b"plain");
        let d = decode(wire.clone(), &codings(&["br", "gzip"]), 100, true);
        assert_eq!(d.body, wire);
        let d = decode(b"x".to_vec(), &codings(&["compress"]), 100, true);
        assert_eq!(
            d.error.as_deref(),
            Some("compress: unsupported coding \"compress\"")
        );
    }

    #[test]
    fn cut_input_keeps_partial_output() {
        let text: Vec<u8> = (0..20_000u32).flat_map(|i| i.to_le_bytes()).collect();
        let mut wire = gzip(&text);
        wire.truncate(wire.len() / 2);
        let d = decode(wire, &codings(&["gzip"]), 1 << 20, false);
        assert!(!d.body.is_empty() && text.starts_with(&d.body));
        assert!(d.error.unwrap().contains("partial"));
    }
}

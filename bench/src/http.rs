//! HTTP/1.1 messages (RFC 9112) as Android apps send them: requests with JSON bodies, responses with
//! Content-Length or chunked transfer coding (RFC 9112 section 7.1), optionally gzip-encoded.

use std::io::Write;

use flate2::write::GzEncoder;
use flate2::Compression;

/// Appends a request. `body` is `(content type, bytes)`.
pub fn request(
    out: &mut Vec<u8>,
    method: &str,
    host: &str,
    path: &str,
    user_agent: &str,
    extra: &[(&str, &str)],
    body: Option<(&str, &[u8])>,
) {
    // Writing into a Vec cannot fail.
    let _ = write!(
        out,
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: {user_agent}\r\n"
    );
    for (k, v) in extra {
        let _ = write!(out, "{k}: {v}\r\n");
    }
    out.extend_from_slice(b"Accept-Encoding: gzip\r\nConnection: keep-alive\r\n");
    match body {
        Some((ctype, b)) => {
            let _ = write!(
                out,
                "Content-Type: {ctype}\r\nContent-Length: {}\r\n\r\n",
                b.len()
            );
            out.extend_from_slice(b);
        }
        None => out.extend_from_slice(b"\r\n"),
    }
}

/// How the response body is framed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Framing {
    /// `Content-Length: n`.
    Length(usize),
    /// `Transfer-Encoding: chunked`; the body follows as [`chunked`] output.
    Chunked,
}

/// Appends a response head.
pub fn response_head(out: &mut Vec<u8>, ctype: &str, gzip: bool, framing: Framing, server: &str) {
    let _ = write!(
        out,
        "HTTP/1.1 200 OK\r\nServer: {server}\r\nDate: Tue, 14 May 2024 08:21:07 GMT\r\nContent-Type: {ctype}\r\n"
    );
    if gzip {
        out.extend_from_slice(b"Content-Encoding: gzip\r\n");
    }
    match framing {
        Framing::Length(n) => {
            let _ = write!(out, "Content-Length: {n}\r\n");
        }
        Framing::Chunked => out.extend_from_slice(b"Transfer-Encoding: chunked\r\n"),
    }
    out.extend_from_slice(b"Connection: keep-alive\r\n\r\n");
}

/// Appends `body` in the chunked transfer coding with chunks of at most `chunk` bytes, then the last
/// chunk and an empty trailer section (RFC 9112 section 7.1).
pub fn chunked(out: &mut Vec<u8>, body: &[u8], chunk: usize) {
    for c in body.chunks(chunk.max(1)) {
        let _ = write!(out, "{:x}\r\n", c.len());
        out.extend_from_slice(c);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"0\r\n\r\n");
}

/// gzip-compresses `data` (RFC 1952).
pub fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = GzEncoder::new(
        Vec::with_capacity(data.len() / 2 + 32),
        Compression::default(),
    );
    // Writing into a Vec cannot fail.
    let _ = e.write_all(data);
    e.finish().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn request_content_length_matches_body() {
        let mut out = Vec::new();
        let body = br#"{"a":1}"#;
        request(
            &mut out,
            "POST",
            "h.example",
            "/x",
            "ua",
            &[],
            Some(("application/json", body)),
        );
        let text = String::from_utf8(out).unwrap();
        let (head, b) = text.split_once("\r\n\r\n").unwrap();
        assert!(head.contains("Content-Length: 7"));
        assert_eq!(b.as_bytes(), body);
    }

    #[test]
    fn chunked_coding_round_trips() {
        let mut out = Vec::new();
        let body: Vec<u8> = (0..1000u32).map(|i| i as u8).collect();
        chunked(&mut out, &body, 300);
        // Decode by hand: size line, data, CRLF; until size 0.
        let mut rest = &out[..];
        let mut got = Vec::new();
        loop {
            let nl = rest.windows(2).position(|w| w == b"\r\n").unwrap();
            let n = usize::from_str_radix(std::str::from_utf8(&rest[..nl]).unwrap(), 16).unwrap();
            rest = &rest[nl + 2..];
            if n == 0 {
                assert_eq!(rest, b"\r\n");
                break;
            }
            got.extend_from_slice(&rest[..n]);
            assert_eq!(&rest[n..n + 2], b"\r\n");
            rest = &rest[n + 2..];
        }
        assert_eq!(got, body);
    }

    #[test]
    fn gzip_round_trips() {
        let data = br#"{"code":0,"data":{"list":[1,2,3]}}"#.repeat(10);
        let z = gzip(&data);
        let mut d = flate2::read::GzDecoder::new(&z[..]);
        let mut back = Vec::new();
        d.read_to_end(&mut back).unwrap();
        assert_eq!(back, data);
    }
}

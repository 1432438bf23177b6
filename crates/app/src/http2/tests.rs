//! HTTP/2 connection tests over hand-built frames.

use std::io::Write;

use super::fuzzing::frame;
use super::*;
use crate::http::Kind;

/// HPACK literal with incremental indexing, new name, no Huffman (RFC 7541 6.2.1).
fn lit(name: &str, value: &[u8]) -> Vec<u8> {
    let mut b = vec![0x40, name.len() as u8];
    b.extend_from_slice(name.as_bytes());
    b.push(value.len() as u8);
    b.extend_from_slice(value);
    b
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

/// A conversation: two requests (the second reusing the dynamic table), a POST with a
/// padded, gzip-coded body split over DATA frames, a header block split by CONTINUATION,
/// a 103 before a final response, trailers, and control frames in between.
fn conversation() -> (Vec<u8>, Vec<u8>) {
    let mut c = PREFACE.to_vec();
    // SETTINGS: HEADER_TABLE_SIZE 8192, ENABLE_PUSH 0.
    c.extend(frame(
        SETTINGS,
        0,
        0,
        &[0, 1, 0, 0, 0x20, 0, 0, 2, 0, 0, 0, 0],
    ));
    c.extend(frame(0x8, 0, 0, &[0, 0, 0x40, 0])); // WINDOW_UPDATE
                                                  // Stream 1: GET with :authority indexed into the dynamic table; PRIORITY flag set.
    let mut block = vec![0x82, 0x87]; // :method GET, :scheme https
    block.extend(lit(":path", b"/a?id=1"));
    block.extend(lit(":authority", b"api.example.com"));
    block.extend(lit("user-agent", b"phonehome-test"));
    let mut p = vec![0, 0, 0, 0, 15];
    p.extend(&block);
    c.extend(frame(HEADERS, END_STREAM | END_HEADERS | PRIORITY, 1, &p));
    // Stream 3: POST; block split in two (HEADERS padded + CONTINUATION).
    let mut block = vec![0x83, 0x87]; // :method POST, :scheme https
    block.extend(lit(":path", b"/upload"));
    block.push(0xc0); // dynamic index 64 = :authority api.example.com
    block.extend(lit("content-encoding", b"gzip"));
    let (a, b) = block.split_at(5);
    let mut p = vec![3];
    p.extend_from_slice(a);
    p.extend_from_slice(&[0; 3]);
    c.extend(frame(HEADERS, PADDED, 3, &p));
    c.extend(frame(CONTINUATION, END_HEADERS, 3, b));
    let body = gzip(b"{\"imei\":\"356938035643809\"}");
    let (x, y) = body.split_at(10);
    let mut p = vec![4];
    p.extend_from_slice(x);
    p.extend_from_slice(&[0; 4]);
    c.extend(frame(DATA, PADDED, 3, &p));
    c.extend(frame(0x6, 0, 0, &[1; 8])); // PING
    c.extend(frame(DATA, 0, 3, y));
    c.extend(frame(DATA, END_STREAM, 3, &[]));

    let mut s = frame(SETTINGS, 0, 0, &[0, 3, 0, 0, 0, 100]);
    s.extend(frame(SETTINGS, ACK, 0, &[]));
    s.extend(frame(HEADERS, END_HEADERS, 3, &lit(":status", b"103")));
    s.extend(frame(HEADERS, END_HEADERS, 1, &[0x88])); // :status 200
    s.extend(frame(DATA, 0, 1, b"hello "));
    s.extend(frame(HEADERS, END_HEADERS, 3, &[0x8d])); // :status 404
    s.extend(frame(DATA, 0, 1, b"world"));
    s.extend(frame(
        HEADERS,
        END_STREAM | END_HEADERS,
        1,
        &lit("x-trailer", b"t"),
    ));
    s.extend(frame(DATA, END_STREAM, 3, b"nope"));
    s.extend(frame(0x7, 0, 0, &[0, 0, 0, 3, 0, 0, 0, 0])); // GOAWAY
    (c, s)
}

fn summary(m: &Message) -> String {
    let start = match &m.kind {
        Kind::Request { method, uri } => format!("{method} {uri}"),
        Kind::Response { status, .. } => status.to_string(),
    };
    format!(
        "{start} host={:?} body={:?} enc={} trailers={} incomplete={} v{}",
        m.host().unwrap_or(""),
        String::from_utf8_lossy(&m.body),
        m.encodings.join(","),
        m.trailers.len(),
        m.incomplete,
        m.version,
    )
}

fn run(pieces: &[(Direction, &[u8])]) -> (Vec<String>, Stats) {
    let mut c = Connection::new(Limits::default());
    let mut out = Vec::new();
    for (d, p) in pieces {
        c.push(*d, p, &mut out);
    }
    c.finish(&mut out);
    (out.iter().map(summary).collect(), *c.stats())
}

const WANT: [&str; 5] = [
    "GET /a?id=1 host=\"api.example.com\" body=\"\" enc= trailers=0 incomplete=false v2",
    "POST /upload host=\"api.example.com\" body=\"{\\\"imei\\\":\\\"356938035643809\\\"}\" enc=gzip trailers=0 incomplete=false v2",
    "103 host=\"\" body=\"\" enc= trailers=0 incomplete=false v2",
    "200 host=\"\" body=\"hello world\" enc= trailers=1 incomplete=false v2",
    "404 host=\"\" body=\"nope\" enc= trailers=0 incomplete=false v2",
];

#[test]
fn hand_built_conversation() {
    let (c, s) = conversation();
    let (out, stats) = run(&[(Direction::Request, &c), (Direction::Response, &s)]);
    assert_eq!(out, WANT);
    assert_eq!(stats.messages, 5);
    assert_eq!(stats.incomplete, 0);
    let mut conn = Connection::new(Limits::default());
    let mut msgs = Vec::new();
    conn.push(Direction::Request, &c, &mut msgs);
    assert_eq!(msgs[0].user_agent(), Some("phonehome-test"));
    assert_eq!(msgs[0].offset, 24 + 21 + 13);
    assert!(msgs[0].headers.iter().all(|(n, _)| !n.starts_with(':')));
    assert!(conn.streams.is_empty() || conn.streams.len() == 2);
}

#[test]
fn split_anywhere_gives_the_same_messages() {
    let (c, s) = conversation();
    for cut in 0..c.len().max(s.len()) {
        let (c1, c2) = c.split_at(cut.min(c.len()));
        let (s1, s2) = s.split_at(cut.min(s.len()));
        let (out, _) = run(&[
            (Direction::Request, c1),
            (Direction::Request, c2),
            (Direction::Response, s1),
            (Direction::Response, s2),
        ]);
        assert_eq!(out, WANT, "cut at {cut}");
    }
    // Byte by byte, directions interleaved.
    let mut pieces = Vec::new();
    for b in c.chunks(1) {
        pieces.push((Direction::Request, b));
    }
    for b in s.chunks(1) {
        pieces.push((Direction::Response, b));
    }
    assert_eq!(run(&pieces).0, WANT);
    crate::http2::fuzzing::split_invariance(&[3, 1, 2, 3]);
}

#[test]
fn rfc7541_c3_blocks_on_three_streams() {
    let mut c = PREFACE.to_vec();
    for (i, hex_in) in [
        "828684410f7777772e6578616d706c652e636f6d",
        "828684be58086e6f2d6361636865",
        "828785bf400a637573746f6d2d6b65790c637573746f6d2d76616c7565",
    ]
    .iter()
    .enumerate()
    {
        let id = 1 + 2 * i as u32;
        c.extend(frame(
            HEADERS,
            END_STREAM | END_HEADERS,
            id,
            &hex::decode(hex_in).unwrap(),
        ));
    }
    let mut conn = Connection::new(Limits::default());
    let mut out = Vec::new();
    conn.push(Direction::Request, &c, &mut out);
    let got: Vec<_> = out
        .iter()
        .map(|m| (m.kind.clone(), m.host().map(str::to_owned)))
        .collect();
    let req = |uri: &str| Kind::Request {
        method: "GET".into(),
        uri: uri.into(),
    };
    let host = Some("www.example.com".to_owned());
    assert_eq!(
        got,
        vec![
            (req("/"), host.clone()),
            (req("/"), host.clone()),
            (req("/index.html"), host)
        ]
    );
    assert_eq!(out[1].header_str("cache-control"), Some("no-cache"));
    assert_eq!(out[2].header_str("custom-key"), Some("custom-value"));
}

#[test]
fn gap_inside_data_keeps_framing() {
    let (c, s) = conversation();
    // "hello " DATA on stream 1: find it and lose 3 of its bytes.
    let at = s.windows(6).position(|w| w == b"hello ").unwrap();
    let mut conn = Connection::new(Limits::default());
    let mut out = Vec::new();
    conn.push(Direction::Request, &c, &mut out);
    conn.push(Direction::Response, &s[..at + 1], &mut out);
    conn.gap(Direction::Response, 3, &mut out);
    conn.push(Direction::Response, &s[at + 4..], &mut out);
    conn.finish(&mut out);
    let got: Vec<String> = out.iter().map(summary).collect();
    assert_eq!(
        got[3],
        "200 host=\"\" body=\"ho world\" enc= trailers=1 incomplete=true v2"
    );
    assert_eq!(got[4], WANT[4]);
    assert_eq!(conn.stats().framing_lost, 0);
}

#[test]
fn gap_across_frames_loses_the_direction() {
    let (c, s) = conversation();
    let at = s.windows(6).position(|w| w == b"hello ").unwrap();
    let mut conn = Connection::new(Limits::default());
    let mut out = Vec::new();
    conn.push(Direction::Request, &c, &mut out);
    conn.push(Direction::Response, &s[..at + 1], &mut out);
    conn.gap(Direction::Response, 40, &mut out);
    conn.push(Direction::Response, &s[at + 41..], &mut out);
    conn.finish(&mut out);
    let st = conn.stats();
    assert_eq!(st.framing_lost, 1);
    assert!(st.ignored_bytes > 0);
    let responses: Vec<_> = out.iter().filter(|m| m.status().is_some()).collect();
    // 103 done; 200 in progress ends incomplete; 404 never started.
    assert_eq!(responses.len(), 2);
    assert!(responses[1].incomplete);
    assert_eq!(responses[1].body, b"h");
}

#[test]
fn reset_eviction_and_hostile_frames() {
    let mut c = PREFACE.to_vec();
    let get = |path: &str| {
        let mut b = vec![0x82, 0x87];
        b.extend(lit(":path", path.as_bytes()));
        b
    };
    c.extend(frame(HEADERS, END_HEADERS, 1, &get("/one")));
    c.extend(frame(DATA, 0, 1, b"partial"));
    c.extend(frame(RST_STREAM, 0, 1, &[0, 0, 0, 8]));
    // Padding longer than the frame, a CONTINUATION with no HEADERS, a bad SETTINGS.
    c.extend(frame(DATA, PADDED, 1, &[9, 1, 2]));
    c.extend(frame(CONTINUATION, END_HEADERS, 7, &[0x82]));
    c.extend(frame(SETTINGS, 0, 0, &[0, 1, 0]));
    let mut conn = Connection::new(Limits {
        max_streams: 2,
        ..Limits::default()
    });
    let mut out = Vec::new();
    conn.push(Direction::Request, &c, &mut out);
    assert_eq!(out.len(), 1);
    assert!(out[0].incomplete);
    assert_eq!(out[0].body, b"partial");
    assert_eq!(conn.stats().malformed_frames, 3);
    // Three streams open with max_streams 2: the oldest is ended.
    let mut c = Vec::new();
    for id in [3, 5, 7] {
        c.extend(frame(HEADERS, END_HEADERS, id, &get(&format!("/{id}"))));
    }
    out.clear();
    conn.push(Direction::Request, &c, &mut out);
    assert_eq!(out.len(), 1);
    assert_eq!(
        out[0].kind,
        Kind::Request {
            method: "GET".into(),
            uri: "/3".into()
        }
    );
    assert_eq!(conn.stats().evicted_streams, 1);
    // A bad HPACK block stops that direction's headers, not its framing.
    out.clear();
    conn.push(
        Direction::Request,
        &frame(HEADERS, END_HEADERS | END_STREAM, 9, &[0xff, 0xff]),
        &mut out,
    );
    conn.push(
        Direction::Request,
        &frame(HEADERS, END_HEADERS | END_STREAM, 11, &get("/x")),
        &mut out,
    );
    assert_eq!(conn.stats().hpack_errors, 1);
    assert_eq!(conn.stats().undecoded_blocks, 1);
}

#[test]
fn push_promise_and_missing_preface() {
    let mut s = Vec::new();
    let mut p = vec![0, 0, 0, 2];
    p.extend([0x82, 0x87]);
    p.extend(lit(":path", b"/style.css"));
    p.extend(lit(":authority", b"cdn.example.com"));
    s.extend(frame(PUSH_PROMISE, END_HEADERS, 1, &p));
    s.extend(frame(HEADERS, END_HEADERS, 2, &[0x88]));
    s.extend(frame(DATA, END_STREAM, 2, b"body{}"));
    // A capture that starts after the preface.
    let c = frame(HEADERS, END_HEADERS | END_STREAM, 1, &[0x82, 0x87, 0x84]);
    let (out, stats) = run(&[(Direction::Request, &c), (Direction::Response, &s)]);
    assert_eq!(stats.missing_preface, 1);
    assert_eq!(
        out,
        [
            "GET / host=\"\" body=\"\" enc= trailers=0 incomplete=false v2",
            "GET /style.css host=\"cdn.example.com\" body=\"\" enc= trailers=0 incomplete=false v2",
            "200 host=\"\" body=\"body{}\" enc= trailers=0 incomplete=false v2",
        ]
    );
    assert!(looks_like_preface(b"PRI * HT"));
    assert!(!looks_like_preface(b"GET / HTTP/1.1"));
}

#[test]
fn body_caps() {
    let mut c = PREFACE.to_vec();
    c.extend(frame(HEADERS, END_HEADERS, 1, &[0x83, 0x87, 0x84]));
    c.extend(frame(DATA, END_STREAM, 1, &[b'x'; 100]));
    let mut conn = Connection::new(Limits {
        max_body: 10,
        ..Limits::default()
    });
    let mut out = Vec::new();
    conn.push(Direction::Request, &c, &mut out);
    assert_eq!(
        (
            out[0].body.len(),
            out[0].body_len_wire,
            out[0].body_truncated
        ),
        (10, 100, true)
    );
}

#[test]
fn fuzz_entries_smoke() {
    let (c, s) = conversation();
    let mut data = vec![5];
    data.extend(&c[24..]);
    data.extend(&s);
    crate::http2::fuzzing::split_invariance(&data);
    crate::http2::fuzzing::with_gaps(&data);
    for i in 0..data.len() {
        let mut m = data.clone();
        m[i] ^= 0xa5;
        crate::http2::fuzzing::split_invariance(&m);
    }
}

/// nginx answers a POST before reading its body, then resets the stream with NO_ERROR; the
/// client's DATA was already on its way and still left the device (seen with curl 7.88 and
/// nginx 1.22 over TLS 1.3).
#[test]
fn request_body_sent_after_the_servers_reset_is_kept() {
    let mut c = PREFACE.to_vec();
    let mut post = vec![0x83, 0x87];
    post.extend(lit(":path", b"/upload"));
    c.extend(frame(HEADERS, END_HEADERS, 1, &post));
    let response = frame(HEADERS, END_HEADERS | END_STREAM, 1, &[0x88]);
    let reset = frame(RST_STREAM, 0, 1, &[0, 0, 0, 0]);
    let body = frame(DATA, END_STREAM, 1, b"{\"imei\":\"35\"}");
    let mut conn = Connection::new(Limits::default());
    let mut out = Vec::new();
    conn.push(Direction::Request, &c, &mut out);
    conn.push(Direction::Response, &[response, reset].concat(), &mut out);
    conn.push(Direction::Request, &body, &mut out);
    conn.finish(&mut out);
    assert_eq!(out.len(), 2, "{out:?}");
    assert_eq!(out[0].status(), Some(200));
    assert_eq!(
        out[1].kind,
        Kind::Request {
            method: "POST".into(),
            uri: "/upload".into()
        }
    );
    assert_eq!(out[1].body, b"{\"imei\":\"35\"}");
    assert!(!out[1].incomplete);
}

/// Requests on streams 1, 3 and 5: two extended CONNECTs opening WebSocket (RFC 8441 4),
/// one answered 200 and one 400, and a plain CONNECT (no `:protocol`) answered 200; each
/// stream carries DATA both ways and is ended by both sides.
fn extended_connects() -> (Vec<u8>, Vec<u8>) {
    let mut c = PREFACE.to_vec();
    c.extend(frame(SETTINGS, 0, 0, &[]));
    let mut s = frame(SETTINGS, 0, 0, &[0, 8, 0, 0, 0, 1]); // ENABLE_CONNECT_PROTOCOL 1
    for (stream, protocol, status) in [
        (1u32, Some(&b"WebSocket"[..]), &b"200"[..]),
        (3, Some(b"websocket"), b"400"),
        (5, None, b"200"),
    ] {
        let mut block = lit(":method", b"CONNECT");
        if let Some(p) = protocol {
            block.extend(lit(":protocol", p));
            block.extend(lit(":scheme", b"https"));
            block.extend(lit(":path", b"/chat"));
        }
        block.extend(lit(":authority", b"ws.example:443"));
        c.extend(frame(HEADERS, END_HEADERS, stream, &block));
        s.extend(frame(HEADERS, END_HEADERS, stream, &lit(":status", status)));
        c.extend(frame(DATA, 0, stream, b"\x81\x85\x01\x02\x03\x04iglhn"));
        s.extend(frame(DATA, 0, stream, b"\x81\x02ok"));
        c.extend(frame(DATA, END_STREAM, stream, b""));
        s.extend(frame(DATA, END_STREAM, stream, b""));
    }
    (c, s)
}

/// Per message: its method or status, the protocol it opened, its body.
pub(crate) fn tunnels(out: &[Message]) -> Vec<(String, Option<&str>, &[u8])> {
    out.iter()
        .map(|m| {
            let start = match &m.kind {
                Kind::Request { method, .. } => method.clone(),
                Kind::Response { status, .. } => status.to_string(),
            };
            (start, m.tunnel.as_deref(), &m.body[..])
        })
        .collect()
}

#[test]
fn an_extended_connect_marks_its_stream_and_its_2xx_answer_as_a_tunnel() {
    let (c, s) = extended_connects();
    let mut conn = Connection::new(Limits::default());
    let mut out = Vec::new();
    conn.push(Direction::Request, &c, &mut out);
    conn.push(Direction::Response, &s, &mut out);
    conn.finish(&mut out);
    let got = tunnels(&out);
    let frame_up: &[u8] = b"\x81\x85\x01\x02\x03\x04iglhn";
    let frame_down: &[u8] = b"\x81\x02ok";
    assert_eq!(
        got,
        [
            ("CONNECT".to_string(), Some("websocket"), frame_up),
            ("CONNECT".to_string(), Some("websocket"), frame_up),
            ("CONNECT".to_string(), None, frame_up),
            ("200".to_string(), Some("websocket"), frame_down),
            ("400".to_string(), None, frame_down),
            ("200".to_string(), None, frame_down),
        ]
    );
    // The pseudo-field is not left among the headers.
    assert!(out[0].headers.iter().all(|(n, _)| !n.starts_with(':')));
}

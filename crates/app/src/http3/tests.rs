//! HTTP/3 tests over hand-built streams.

use std::io::Write;

use super::*;
use crate::http::Kind;

/// HTTP/3 frame: type and length varints (one byte each here, two for longer payloads).
fn frame(ty: u8, payload: &[u8]) -> Vec<u8> {
    let mut f = vec![ty];
    if payload.len() < 64 {
        f.push(payload.len() as u8);
    } else {
        f.extend_from_slice(&(0x4000u16 | payload.len() as u16).to_be_bytes());
    }
    f.extend_from_slice(payload);
    f
}

/// QPACK literal field line with literal name, no Huffman (RFC 9204 4.5.6).
fn lit(name: &str, value: &[u8]) -> Vec<u8> {
    assert!(name.len() < 7 && value.len() < 127 || name.len() >= 7);
    let mut b = Vec::new();
    if name.len() < 7 {
        b.push(0x20 | name.len() as u8);
    } else {
        b.push(0x27);
        b.push(name.len() as u8 - 7);
    }
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

/// Client control stream (SETTINGS: QPACK capacity 4096), client encoder stream inserting
/// `:authority api.example.com`, a GET on stream 0 that references it (static :method GET,
/// :scheme https, literal :path), a POST on stream 4 with a gzip body in two DATA frames;
/// server control stream (capacity 4096), responses with a 103, trailers, and an unknown
/// frame type to skip.
fn streams() -> Vec<(bool, u64, Vec<u8>)> {
    let mut cctl = vec![0x00];
    cctl.extend(frame(0x04, &[0x01, 0x50, 0x00, 0x06, 0x44, 0x00])); // capacity 4096, max field section 1024
    let mut cenc = vec![0x02, 0x3f, 0xe1, 0x1f]; // Set Dynamic Table Capacity 4096
    cenc.extend([0xc0, 15]); // insert, static name 0 (:authority), value:
    cenc.extend_from_slice(b"api.example.com");
    let mut sctl = vec![0x00];
    sctl.extend(frame(0x04, &[0x01, 0x50, 0x00]));
    // GET: RIC 1 (encoded 2 with MaxEntries 128), base 1; dynamic relative 0; static 17, 23.
    let mut get = vec![0x02, 0x00, 0x80, 0xd1, 0xd7];
    get.extend(lit(":path", b"/a?id=1"));
    get.extend(lit("user-agent", b"phonehome-test"));
    let mut s0 = frame(0x01, &get);
    s0.extend(frame(0x21, b"reserved")); // RFC 9114 7.2.8 reserved type
    let mut post = vec![0x00, 0x00, 0xd4, 0xd7];
    post.extend(lit(":path", b"/upload"));
    post.push(0x50);
    post.push(15);
    post.extend_from_slice(b"api.example.com"); // literal with static name 0, :authority
    post.push(0xeb); // static 43: content-encoding gzip
    let body = gzip(b"{\"imei\":\"356938035643809\"}");
    let mut s4 = frame(0x01, &post);
    s4.extend(frame(0x00, &body[..10]));
    s4.extend(frame(0x00, &body[10..]));
    let mut r0 = frame(0x01, &[0x00, 0x00, 0xd8]); // :status 103
    r0.extend(frame(0x01, &[0x00, 0x00, 0xd9])); // :status 200
    r0.extend(frame(0x00, b"hello "));
    r0.extend(frame(0x00, b"world"));
    r0.extend(frame(0x01, &{
        let mut t = vec![0x00, 0x00];
        t.extend(lit("x-trailer", b"t"));
        t
    }));
    let r4 = frame(0x01, &[0x00, 0x00, 0xdb]); // :status 404
    vec![
        (true, 2, cctl),
        (false, 3, sctl),
        (true, 6, cenc),
        (true, 0, s0),
        (true, 4, s4),
        (false, 0, r0),
        (false, 4, r4),
    ]
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

const WANT: [&str; 5] = [
    "GET /a?id=1 host=\"api.example.com\" body=\"\" enc= trailers=0 incomplete=false v3",
    "POST /upload host=\"api.example.com\" body=\"{\\\"imei\\\":\\\"356938035643809\\\"}\" enc=gzip trailers=0 incomplete=false v3",
    "103 host=\"\" body=\"\" enc= trailers=0 incomplete=false v3",
    "200 host=\"\" body=\"hello world\" enc= trailers=1 incomplete=false v3",
    "404 host=\"\" body=\"\" enc= trailers=0 incomplete=false v3",
];

fn run(order: &[usize], step: usize) -> (Vec<String>, Stats) {
    let all = streams();
    let mut c = Connection::new(Limits::default());
    let mut out = Vec::new();
    for &i in order {
        let (client, id, bytes) = &all[i];
        let n = bytes.chunks(step).count();
        for (j, p) in bytes.chunks(step).enumerate() {
            // Control and encoder streams stay open.
            let fin = j + 1 == n && id & 2 == 0;
            c.stream_data(*client, *id, p, fin, &mut out);
        }
    }
    c.finish(&mut out);
    (out.iter().map(summary).collect(), *c.stats())
}

#[test]
fn hand_built_request_streams() {
    let (out, st) = run(&[0, 1, 2, 3, 4, 5, 6], usize::MAX);
    assert_eq!(out, WANT, "{st:?}");
    assert_eq!((st.blocked, st.qpack_errors, st.incomplete), (0, 0, 0));
}

#[test]
fn blocked_section_waits_for_the_encoder_stream() {
    // The GET arrives before the encoder stream that inserts its :authority.
    let (out, st) = run(&[0, 1, 3, 4, 2, 5, 6], usize::MAX);
    let mut want = WANT.to_vec();
    want.swap(0, 1);
    assert_eq!(out, want);
    assert_eq!(st.blocked, 1);
}

#[test]
fn split_anywhere_gives_the_same_messages() {
    for step in 1..40 {
        assert_eq!(run(&[0, 1, 2, 3, 4, 5, 6], step).0, WANT, "step {step}");
    }
}

#[test]
fn gaps_resets_and_lost_tables() {
    let all = streams();
    let mut c = Connection::new(Limits::default());
    let mut out = Vec::new();
    for (client, id, bytes) in &all[..5] {
        c.stream_data(*client, *id, bytes, id & 2 == 0, &mut out);
    }
    // Response on stream 0: a gap inside "hello " keeps framing.
    let r0 = &all[5].2;
    let at = r0.windows(6).position(|w| w == b"hello ").unwrap();
    c.stream_data(false, 0, &r0[..at + 1], false, &mut out);
    c.stream_gap(false, 0, 3, &mut out);
    c.stream_data(false, 0, &r0[at + 4..], true, &mut out);
    // Stream 4's response is reset.
    c.stream_data(false, 4, &all[6].2[..2], false, &mut out);
    c.stream_reset(false, 4, &mut out);
    let got: Vec<String> = out.iter().map(summary).collect();
    assert_eq!(
        got[3],
        "200 host=\"\" body=\"ho world\" enc= trailers=1 incomplete=true v3"
    );
    assert_eq!(got.len(), 4);
    // A gap on the client's encoder stream: later client sections are not decoded.
    c.stream_gap(true, 6, 10, &mut out);
    c.stream_data(
        true,
        8,
        &frame(0x01, &[0x02, 0x00, 0x80, 0xd1, 0xd7]),
        true,
        &mut out,
    );
    assert_eq!(c.stats().undecoded_sections, 1);
    // A gap running past the DATA frame ends that message.
    c.stream_data(
        false,
        12,
        &frame(0x01, &[0x00, 0x00, 0xd9]),
        false,
        &mut out,
    );
    c.stream_data(false, 12, &[0x00, 0x05, b'a'], false, &mut out);
    c.stream_gap(false, 12, 10, &mut out);
    let last = out.last().unwrap();
    assert!(last.incomplete && last.body == b"a");
    c.finish(&mut out);
}

#[test]
fn hostile_streams_never_panic() {
    let all = streams();
    for (i, (client, id, bytes)) in all.iter().enumerate() {
        for n in 0..bytes.len() {
            let mut m = bytes.clone();
            m[n] ^= 0x5a + i as u8;
            let mut c = Connection::new(Limits::default());
            let mut out = Vec::new();
            for (cl, sid, b) in &all[..i] {
                c.stream_data(*cl, *sid, b, sid & 2 == 0, &mut out);
            }
            c.stream_data(*client, *id, &m, true, &mut out);
            c.stream_data(*client, *id, &m[..n], true, &mut out);
            c.finish(&mut out);
        }
    }
    let mut data = vec![3];
    for (_, _, b) in &all[2..6] {
        data.extend_from_slice(b);
    }
    fuzzing::split_invariance(&data);
    fuzzing::split_invariance(&[1, 2, 3, 0x01, 0x41, 0xff, 0x80]);
}

/// Found by the `http3_streams` fuzz target: a HEADERS section blocked on the encoder stream
/// was decoded when the encoder bytes came one by one (its inserts arrived before the bad
/// instruction that followed them) but not when they came at once (the error was seen first).
#[test]
fn encoder_error_after_the_needed_inserts_regression() {
    let data = [
        0x2d, 0x3f, 0x50, 0xda, 0x00, 0x00, 0x00, 0x0b, 0x01, 0x03, 0x04, 0x01, 0xd2, 0x00, 0x00,
        0x00, 0x00, 0x04, 0x00, 0x04, 0x04, 0x00,
    ];
    crate::http3::fuzzing::split_invariance(&data);
}

#[test]
fn an_extended_connect_marks_its_stream_and_its_2xx_answer_as_a_tunnel() {
    // RFC 9220: CONNECT with :protocol websocket on stream 8 (answered 200) and on 12
    // (answered 404, static index 27); field lines all literal, no dynamic table.
    let head = |protocol: &[u8]| {
        let mut h = vec![0x00, 0x00];
        h.extend(lit(":method", b"CONNECT"));
        h.extend(lit(":protocol", protocol));
        h.extend(lit(":scheme", b"https"));
        h.extend(lit(":path", b"/chat"));
        h.extend(lit(":authority", b"ws.example"));
        h
    };
    let up: &[u8] = b"\x81\x85\x01\x02\x03\x04iglhn";
    let down: &[u8] = b"\x81\x02ok";
    let mut c = Connection::new(Limits::default());
    let mut out = Vec::new();
    for (id, status) in [(8u64, 0xd9u8), (12, 0xdb)] {
        let mut req = frame(0x01, &head(b"websocket"));
        req.extend(frame(0x00, up));
        c.stream_data(true, id, &req, true, &mut out);
        let mut resp = frame(0x01, &[0x00, 0x00, status]);
        resp.extend(frame(0x00, down));
        c.stream_data(false, id, &resp, true, &mut out);
    }
    c.finish(&mut out);
    let got = crate::http2::tests::tunnels(&out);
    assert_eq!(
        got,
        [
            ("CONNECT".to_string(), Some("websocket"), up),
            ("200".to_string(), Some("websocket"), down),
            ("CONNECT".to_string(), Some("websocket"), up),
            ("404".to_string(), None, down),
        ]
    );
    assert!(c.tunnels.is_empty(), "each answer takes its stream's entry");
}

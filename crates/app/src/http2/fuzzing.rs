//! Fuzz entries for HTTP/2: no panic, and the same messages however the bytes are cut.

use super::{Connection, Limits, PREFACE};
use crate::http::{Direction, Message};

/// One frame's bytes (RFC 9113 section 4.1: 24-bit length, type, flags, stream id, payload),
/// for harnesses and tests that build connections by hand.
pub fn frame(ty: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
    let len = payload.len();
    let mut f = vec![(len >> 16) as u8, (len >> 8) as u8, len as u8, ty, flags];
    f.extend_from_slice(&stream.to_be_bytes());
    f.extend_from_slice(payload);
    f
}

fn run(client: &[&[u8]], server: &[&[u8]]) -> (Vec<Message>, super::Stats) {
    let mut c = Connection::new(Limits {
        max_body: 1 << 12,
        max_decoded: 1 << 12,
        ..Limits::default()
    });
    let mut out = Vec::new();
    for i in 0..client.len().max(server.len()) {
        if let Some(p) = client.get(i) {
            c.push(Direction::Request, p, &mut out);
        }
        if let Some(p) = server.get(i) {
            c.push(Direction::Response, p, &mut out);
        }
    }
    c.finish(&mut out);
    (out, *c.stats())
}

/// The first byte picks cut points; the rest is split into a client stream (after the
/// preface) and a server stream. Feeding both whole or in pieces must give the same
/// messages, in the same order when the pieces alternate the same way.
pub fn split_invariance(data: &[u8]) {
    let Some((&seed, rest)) = data.split_first() else {
        return;
    };
    let half = rest.len() / 2;
    let mut client = PREFACE.to_vec();
    client.extend_from_slice(&rest[..half]);
    let server = &rest[half..];
    // Whole: client first, then server.
    let (whole, _) = run(&[&client], &[server]);
    // Cut: client in pieces first, then the server in pieces.
    let step = usize::from(seed % 7) + 1;
    let cp: Vec<&[u8]> = client.chunks(step).collect();
    let sp: Vec<&[u8]> = server.chunks(step + 1).collect();
    let mut c = Connection::new(Limits {
        max_body: 1 << 12,
        max_decoded: 1 << 12,
        ..Limits::default()
    });
    let mut out = Vec::new();
    for p in &cp {
        c.push(Direction::Request, p, &mut out);
    }
    for p in &sp {
        c.push(Direction::Response, p, &mut out);
    }
    c.finish(&mut out);
    assert_eq!(whole, out);
}

/// Gaps anywhere never panic.
pub fn with_gaps(data: &[u8]) {
    let mut c = Connection::new(Limits::default());
    let mut out = Vec::new();
    for (i, piece) in data.chunks(17).enumerate() {
        let dir = if i % 2 == 0 {
            Direction::Request
        } else {
            Direction::Response
        };
        if piece.first().is_some_and(|b| b % 5 == 0) {
            c.gap(dir, u64::from(piece[0]), &mut out);
        }
        c.push(dir, piece, &mut out);
    }
    c.finish(&mut out);
}

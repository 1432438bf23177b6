//! Entry points for fuzz targets, each with the invariants it checks.

use super::{parse_datagram, Direction, Limits, Message, Parser};

/// Small limits so that the caps are reached by fuzz-sized inputs.
fn small_limits() -> Limits {
    Limits {
        max_head: 512,
        max_headers: 8,
        max_body: 256,
        max_decoded: 1024,
        max_pending_requests: 4,
    }
}

fn run(
    dir: Direction,
    limits: Limits,
    pieces: &[&[u8]],
    gap_at: Option<(usize, u64)>,
) -> (Vec<Message>, super::Stats) {
    let mut p = Parser::new(dir, limits);
    let mut out = Vec::new();
    for (i, piece) in pieces.iter().enumerate() {
        if let Some((at, len)) = gap_at {
            if at == i {
                p.gap(len);
            }
        }
        p.push(piece, &mut out);
    }
    p.finish(&mut out);
    (out, *p.stats())
}

/// Parses `data[1..]` as one direction of a stream (chosen by `data[0]`), whole and cut into
/// pieces whose sizes derive from `data[0]`; messages, offsets and counters must not depend
/// on the cuts. Bodies must respect the caps.
pub fn http_stream(data: &[u8]) {
    let Some((&seed, stream)) = data.split_first() else {
        return;
    };
    let dir = if seed & 1 == 0 {
        Direction::Request
    } else {
        Direction::Response
    };
    let limits = if seed & 2 == 0 {
        Limits::default()
    } else {
        small_limits()
    };
    let (whole, stats) = run(dir, limits, &[stream], None);

    let mut pieces = Vec::new();
    let mut rest = stream;
    let mut step = usize::from(seed >> 2) % 13 + 1;
    while !rest.is_empty() {
        let k = step.min(rest.len());
        pieces.push(&rest[..k]);
        rest = &rest[k..];
        step = (step * 7 + 5) % 31 + 1;
    }
    let (cut, cut_stats) = run(dir, limits, &pieces, None);
    assert_eq!(whole, cut);
    assert_eq!(stats, cut_stats);
    for m in &whole {
        assert!(m.body.len() <= limits.max_body.max(limits.max_decoded));
        assert!(m.offset < stream.len() as u64);
    }
    // A gap anywhere must not panic and must still bound memory.
    let (gapped, _) = run(
        dir,
        limits,
        &pieces,
        Some((pieces.len() / 2, u64::from(seed))),
    );
    for m in &gapped {
        assert!(m.body.len() <= limits.max_body.max(limits.max_decoded));
    }
}

/// One datagram; must not panic.
pub fn http_datagram(data: &[u8]) {
    if let Some(m) = parse_datagram(data) {
        assert!(m.body.len() <= data.len().max(Limits::default().max_decoded));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::lcg;

    const SEEDS: &[&[u8]] = &[
        b"GET /a HTTP/1.1\r\nHost: x\r\n\r\nPOST /b HTTP/1.1\r\nContent-Length: 3\r\n\r\nabcGET /c HTTP/1.0\n\n",
        b"junk\r\nPUT /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3;e=1\r\nabc\r\n0\r\nT: v\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhiHTTP/1.1 204 No\r\n\r\nHTTP/1.1 200 OK\r\n\r\nrest",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Encoding: gzip\r\n\r\n5\r\n\x1f\x8b\x08\x00\x00\r\n0\r\n\r\n",
        b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 101 Switching\r\n\r\n\x81\x05hello",
    ];

    #[test]
    fn seeds_and_mutations_are_split_invariant() {
        let mut s = 7u64;
        for seed in SEEDS {
            for dir_bit in 0..4u8 {
                let mut d = vec![dir_bit];
                d.extend_from_slice(seed);
                http_stream(&d);
                http_datagram(seed);
            }
        }
        for _ in 0..5000 {
            let base = SEEDS[usize::from(lcg(&mut s)) % SEEDS.len()];
            let mut d = vec![lcg(&mut s)];
            d.extend_from_slice(base);
            for _ in 0..(lcg(&mut s) % 4) {
                let i = usize::from(lcg(&mut s)) % d.len();
                d[i] = match lcg(&mut s) % 4 {
                    0 => b'\n',
                    1 => b'\r',
                    2 => b' ',
                    _ => lcg(&mut s),
                };
            }
            http_stream(&d);
            http_datagram(&d[1..]);
        }
    }
}

//! Entry points for fuzz targets.

use super::{Event, Parser};

/// Splits `data` into datagrams (two-byte big-endian length prefixes; the top
/// bit of the length says "from server") and feeds them to one parser. It must
/// not panic, and whatever it reports must be consistent: at most one hello
/// per direction.
pub fn datagrams(data: &[u8]) {
    let mut p = Parser::new();
    let mut out = Vec::new();
    let mut rest = data;
    while let [a, b, tail @ ..] = rest {
        let from_client = a & 0x80 == 0;
        let len = (usize::from(a & 0x7f) << 8 | usize::from(*b)).min(tail.len());
        let (d, t) = tail.split_at(len);
        p.datagram(d, from_client, &mut out);
        rest = t;
    }
    p.datagram(rest, true, &mut out);
    let clients = out
        .iter()
        .filter(|e| matches!(e, Event::ClientHello { .. }))
        .count();
    let servers = out
        .iter()
        .filter(|e| matches!(e, Event::ServerHello { .. }))
        .count();
    assert!(clients <= 1 && servers <= 1, "a hello reported twice");
    let _ = p.done();
}

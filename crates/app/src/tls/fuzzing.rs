//! Entry points for fuzz targets: each checks an invariant and panics only
//! when the invariant breaks.

use super::{Event, Parser};

/// Feeds `data` whole and again in chunks whose sizes are drawn from `data`
/// itself, and asserts both runs give the same events and the same `done()`:
/// where a TCP stream is split must not matter.
pub fn record_stream(data: &[u8]) {
    let whole = run(data, &[data.len().max(1)]);
    let sizes: Vec<usize> = data
        .iter()
        .take(64)
        .map(|&b| usize::from(b % 23) + 1)
        .collect();
    let split = run(data, if sizes.is_empty() { &[1] } else { &sizes });
    assert_eq!(whole, split, "events depend on segmentation");
}

fn run(data: &[u8], sizes: &[usize]) -> (Vec<Event>, bool) {
    let mut p = Parser::new();
    let mut out = Vec::new();
    let mut rest = data;
    for &n in sizes.iter().cycle() {
        if rest.is_empty() {
            break;
        }
        let (chunk, tail) = rest.split_at(n.min(rest.len()));
        p.push(chunk, &mut out);
        rest = tail;
    }
    (out, p.done())
}

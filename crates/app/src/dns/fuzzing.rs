//! Entry points for fuzz targets, each with the invariants it checks.

use super::{looks_like_dns, parse, TcpFramer};

/// Parses `data` as one message and renders every record; checks that the output stays
/// within the bounds the format allows.
pub fn dns_parse(data: &[u8]) {
    let _ = looks_like_dns(data);
    let Ok(m) = parse(data) else {
        assert!(data.len() < super::HEADER_LEN);
        return;
    };
    let records = m.answers.len() + m.authority.len() + m.additional.len();
    // Every question takes 5 bytes and every record 11 bytes of input.
    assert!(m.questions.len() * 5 + records * 11 <= data.len());
    for q in &m.questions {
        // 255 wire octets escape to at most 4 characters each.
        assert!(q.name.len() <= 4 * 255, "{}", q.name.len());
        let _ = q.qtype.name();
    }
    for r in m.answers.iter().chain(&m.authority).chain(&m.additional) {
        assert!(r.name.len() <= 4 * 255);
        let _ = r.data.to_text();
    }
}

/// Frames `data[1..]` as a DNS-over-TCP stream twice, whole and cut at points drawn from
/// `data[0]`; the messages and counters must not depend on where the stream was cut.
pub fn dns_tcp(data: &[u8]) {
    let Some((&seed, stream)) = data.split_first() else {
        return;
    };
    let mut whole = Vec::new();
    let mut f = TcpFramer::new();
    f.push(stream, |m| whole.push(m.to_vec()));

    let mut pieces = Vec::new();
    let mut g = TcpFramer::new();
    let mut rest = stream;
    let mut step = usize::from(seed % 7) + 1;
    while !rest.is_empty() {
        let k = step.min(rest.len());
        g.push(&rest[..k], |m| pieces.push(m.to_vec()));
        rest = &rest[k..];
        step = (step * 5 + 3) % 23 + 1;
    }
    assert_eq!(whole, pieces);
    assert_eq!(f.stats(), g.stats());
    for m in &whole {
        let _ = parse(m);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::lcg;

    #[test]
    fn mutated_messages_do_not_panic() {
        let seed: &[u8] = b"\xbe\xef\x81\x80\x00\x01\x00\x02\x00\x00\x00\x01\x03www\x07Example\x03com\x00\x00\x01\x00\x01\xc0\x0c\x00\x05\x00\x01\x00\x00\x0e\x10\x00\x06\x03cdn\xc0\x10\xc0\x2d\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04\x0a\x00\x00\x01\x00\x00\x29\x04\xd0\x01\x00\x80\x00\x00\x0b\x00\x08\x00\x07\x00\x01\x18\x00\xc0\x00\x02";
        let mut s = 1u64;
        for _ in 0..20_000 {
            let mut m = seed.to_vec();
            for _ in 0..(lcg(&mut s) % 4 + 1) {
                let i = usize::from(lcg(&mut s)) % m.len();
                m[i] = lcg(&mut s);
            }
            m.truncate(usize::from(lcg(&mut s)) % (seed.len() + 1));
            dns_parse(&m);
            let mut framed = vec![lcg(&mut s)];
            framed.extend_from_slice(&(m.len() as u16).to_be_bytes());
            framed.extend_from_slice(&m);
            framed.extend_from_slice(&m);
            dns_tcp(&framed);
        }
    }
}

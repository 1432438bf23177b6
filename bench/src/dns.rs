//! DNS messages (RFC 1035 section 4) as a phone's stub resolver sends and a recursive resolver answers,
//! plus the mDNS query of RFC 6762. Names are compressed with pointers (RFC 1035 section 4.1.4).

use std::net::{Ipv4Addr, Ipv6Addr};

/// RR type A (RFC 1035 section 3.2.2).
pub const TYPE_A: u16 = 1;
/// RR type CNAME.
pub const TYPE_CNAME: u16 = 5;
/// RR type PTR.
pub const TYPE_PTR: u16 = 12;
/// RR type AAAA (RFC 3596).
pub const TYPE_AAAA: u16 = 28;
/// RR type HTTPS (RFC 9460 section 9).
pub const TYPE_HTTPS: u16 = 65;

/// One answer record; the owner of the first is the question name, of each later one the last CNAME target.
#[derive(Clone, Copy, Debug)]
pub enum Answer<'a> {
    /// An IPv4 address.
    A(Ipv4Addr),
    /// An IPv6 address.
    Aaaa(Ipv6Addr),
    /// An alias; later records are owned by the target.
    Cname(&'a str),
    /// A ServiceMode HTTPS record with target "." and an `alpn` parameter (RFC 9460 sections 2.4.3, 7.1).
    Https {
        /// ALPN protocol ids, e.g. `["h2", "h3"]`.
        alpn: &'a [&'a str],
    },
}

/// Appends `name` in wire form (labels, root terminator). Labels over 63 bytes are a caller bug.
pub fn put_name(out: &mut Vec<u8>, name: &str) {
    for label in name
        .trim_end_matches('.')
        .split('.')
        .filter(|l| !l.is_empty())
    {
        debug_assert!(label.len() < 64);
        out.push(label.len() as u8);
        out.extend_from_slice(label.as_bytes());
    }
    out.push(0);
}

fn put_header(out: &mut Vec<u8>, id: u16, flags: u16, qd: u16, an: u16) {
    out.extend_from_slice(&id.to_be_bytes());
    out.extend_from_slice(&flags.to_be_bytes());
    out.extend_from_slice(&qd.to_be_bytes());
    out.extend_from_slice(&an.to_be_bytes());
    out.extend_from_slice(&[0, 0, 0, 0]);
}

/// A recursive query: RD set, one question of class IN.
pub fn query(out: &mut Vec<u8>, id: u16, name: &str, qtype: u16) {
    put_header(out, id, 0x0100, 1, 0);
    put_name(out, name);
    out.extend_from_slice(&qtype.to_be_bytes());
    out.extend_from_slice(&1u16.to_be_bytes());
}

/// The resolver's answer to [`query`]: QR, RD, RA set, the question echoed, then `answers`.
pub fn response(
    out: &mut Vec<u8>,
    id: u16,
    name: &str,
    qtype: u16,
    answers: &[Answer<'_>],
    ttl: u32,
) {
    let start = out.len();
    put_header(out, id, 0x8180, 1, answers.len() as u16);
    put_name(out, name);
    out.extend_from_slice(&qtype.to_be_bytes());
    out.extend_from_slice(&1u16.to_be_bytes());
    // The question name sits right after the 12-byte header: pointer 0xc00c.
    let mut owner: u16 = 12;
    for a in answers {
        out.extend_from_slice(&(0xc000 | owner).to_be_bytes());
        let rtype = match a {
            Answer::A(_) => TYPE_A,
            Answer::Aaaa(_) => TYPE_AAAA,
            Answer::Cname(_) => TYPE_CNAME,
            Answer::Https { .. } => TYPE_HTTPS,
        };
        out.extend_from_slice(&rtype.to_be_bytes());
        out.extend_from_slice(&1u16.to_be_bytes());
        out.extend_from_slice(&ttl.to_be_bytes());
        let len_at = out.len();
        out.extend_from_slice(&[0, 0]);
        match a {
            Answer::A(ip) => out.extend_from_slice(&ip.octets()),
            Answer::Aaaa(ip) => out.extend_from_slice(&ip.octets()),
            Answer::Cname(target) => {
                owner = (out.len() - start) as u16;
                put_name(out, target);
            }
            Answer::Https { alpn } => {
                // SvcPriority 1 (ServiceMode), TargetName "." (the owner itself), then SvcParams.
                out.extend_from_slice(&1u16.to_be_bytes());
                out.push(0);
                out.extend_from_slice(&1u16.to_be_bytes()); // key 1: alpn
                let vlen: usize = alpn.iter().map(|p| p.len() + 1).sum();
                out.extend_from_slice(&(vlen as u16).to_be_bytes());
                for p in *alpn {
                    out.push(p.len() as u8);
                    out.extend_from_slice(p.as_bytes());
                }
            }
        }
        let rdlen = (out.len() - len_at - 2) as u16;
        out[len_at..len_at + 2].copy_from_slice(&rdlen.to_be_bytes());
    }
}

/// An mDNS question (RFC 6762 section 5.4: id 0, QU bit set in the class to ask for a unicast reply).
pub fn mdns_query(out: &mut Vec<u8>, name: &str, qtype: u16) {
    put_header(out, 0, 0, 1, 0);
    put_name(out, name);
    out.extend_from_slice(&qtype.to_be_bytes());
    out.extend_from_slice(&0x8001u16.to_be_bytes());
}

/// An mDNS announcement of one PTR record (RFC 6762 section 8.3: AA set, cache-flush not set for PTR).
pub fn mdns_ptr_answer(out: &mut Vec<u8>, service: &str, instance_label: &str, ttl: u32) {
    put_header(out, 0, 0x8400, 0, 1);
    put_name(out, service);
    out.extend_from_slice(&TYPE_PTR.to_be_bytes());
    out.extend_from_slice(&1u16.to_be_bytes());
    out.extend_from_slice(&ttl.to_be_bytes());
    // RDATA: the instance label followed by a pointer to the service name at offset 12.
    let rdlen = 1 + instance_label.len() + 2;
    out.extend_from_slice(&(rdlen as u16).to_be_bytes());
    out.push(instance_label.len() as u8);
    out.extend_from_slice(instance_label.as_bytes());
    out.extend_from_slice(&0xc00cu16.to_be_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_wire_form() {
        let mut q = Vec::new();
        query(&mut q, 0x1234, "dns.google", TYPE_A);
        let want: &[u8] = b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x03dns\x06google\x00\x00\x01\x00\x01";
        assert_eq!(q, want);
    }

    #[test]
    fn response_with_cname_points_at_the_alias() {
        let mut r = Vec::new();
        let answers = [
            Answer::Cname("a.b.example"),
            Answer::A(Ipv4Addr::new(1, 2, 3, 4)),
        ];
        response(&mut r, 1, "x.example", TYPE_A, &answers, 60);
        // header 12 + qname 11 + 4 = 27; first RR: ptr c00c, type 5, class 1, ttl, rdlen 13, name.
        assert_eq!(&r[27..29], &[0xc0, 0x0c]);
        assert_eq!(u16::from_be_bytes([r[37], r[38]]), 13);
        let alias_at = 39u16;
        assert_eq!(r[39], 1);
        // Second RR owned by the alias.
        assert_eq!(&r[52..54], &(0xc000 | alias_at).to_be_bytes());
        assert_eq!(&r[r.len() - 4..], &[1, 2, 3, 4]);
        assert_eq!(u16::from_be_bytes([r[6], r[7]]), 2);
    }

    #[test]
    fn https_record_rdata() {
        let mut r = Vec::new();
        response(
            &mut r,
            1,
            "a.b",
            TYPE_HTTPS,
            &[Answer::Https {
                alpn: &["h2", "h3"],
            }],
            60,
        );
        let rd = &r[r.len() - 13..];
        // rdlen 13: priority 1, root, key 1, len 6, "\x02h2\x02h3".
        assert_eq!(&r[r.len() - 15..r.len() - 13], &[0, 13]);
        assert_eq!(rd, b"\x00\x01\x00\x00\x01\x00\x06\x02h2\x02h3");
    }
}

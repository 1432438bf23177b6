//! DNS messages (RFC 1035 4), as seen in classic DNS, mDNS (RFC 6762) and LLMNR (RFC 4795).
//!
//! [`parse`] turns one message into an owned [`Message`]: header flags, questions, the three
//! record sections with decoded RDATA for the types an auditor needs (addresses, aliases, mail
//! exchangers, text, service bindings with their ALPN and address hints, SRV, SOA), and the
//! EDNS OPT record with an EDNS Client Subnet, which tells upstream servers where the phone is.
//! [`TcpFramer`] cuts DNS-over-TCP streams into messages; [`looks_like_dns`] recognises DNS on
//! ports where it is not expected.
//!
//! # Why by hand
//! The DNS crates on crates.io are built to answer or resolve: they reject a message as soon as
//! one record is wrong. Here a message is evidence from a hostile network: whatever parsed before
//! a broken record is kept and the break is described in [`Message::malformed`]. Compression
//! pointers must point strictly backwards (so no loop is possible) and are bounded in number;
//! names are capped at 255 octets. Nothing is allocated besides the owned result.
//!
//! # Contract
//! No input makes these functions panic: every length read from the wire is checked against the
//! message before use and arithmetic on it is checked. Memory is bounded by the message size:
//! a record takes at least 11 bytes of input, so the result is a small multiple of the input.
//! Names keep their case as sent and escape bytes as dig prints them (`\.`, `\DDD`).
//!
//! ```
//! use phonehome_app::dns;
//! // A query for example.com/A (hand-built; RFC 1035 4.1 layout).
//! let msg = b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x07example\x03com\x00\x00\x01\x00\x01";
//! let m = dns::parse(msg).unwrap();
//! assert_eq!(m.questions[0].name, "example.com");
//! assert_eq!(m.questions[0].qtype.name(), "A");
//! assert!(dns::looks_like_dns(msg));
//! ```

mod name;
pub mod over_http;
mod rdata;
mod tcp;

#[doc(hidden)]
pub mod fuzzing;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

pub use rdata::{RData, RrType};
pub use tcp::{FramerStats, TcpFramer};

/// Size of the fixed header (RFC 1035 4.1.1).
pub const HEADER_LEN: usize = 12;

/// Smallest possible resource record: root name, type, class, TTL, RDLENGTH.
const MIN_RECORD_LEN: usize = 11;

/// Why nothing at all could be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error("DNS message of {len} bytes is shorter than the 12-byte header")]
    ShortHeader { len: usize },
}

/// One parsed message. Sections hold what parsed before the first broken record.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Message {
    pub id: u16,
    /// QR: this is a response.
    pub response: bool,
    pub opcode: u8,
    pub authoritative: bool,
    /// TC: the sender cut the message to fit.
    pub truncated: bool,
    pub recursion_desired: bool,
    pub recursion_available: bool,
    pub authentic_data: bool,
    pub checking_disabled: bool,
    /// RCODE including the EDNS extended bits (RFC 6891 6.1.3); see [`rcode_name`].
    pub rcode: u16,
    /// Section counts as the header states them.
    pub question_count: u16,
    pub answer_count: u16,
    pub authority_count: u16,
    pub additional_count: u16,
    pub questions: Vec<Question>,
    /// The answer section.
    pub answers: Vec<Record>,
    pub authority: Vec<Record>,
    /// The additional section without the OPT pseudo-record, which is in [`Message::edns`].
    pub additional: Vec<Record>,
    pub edns: Option<Edns>,
    /// Where and why parsing stopped early; everything before it is kept.
    pub malformed: Option<String>,
}

/// A question entry (RFC 1035 4.1.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Question {
    pub name: String,
    pub qtype: RrType,
    /// As sent; in mDNS the top bit asks for a unicast response (RFC 6762 5.4).
    pub qclass: u16,
}

impl Question {
    /// mDNS "QU" bit.
    pub fn unicast_response(&self) -> bool {
        self.qclass & 0x8000 != 0
    }
}

/// A resource record (RFC 1035 4.1.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub name: String,
    pub rtype: RrType,
    /// As sent; in mDNS the top bit is the cache-flush bit (RFC 6762 10.2).
    pub class: u16,
    pub ttl: u32,
    pub data: RData,
}

impl Record {
    /// mDNS cache-flush bit.
    pub fn cache_flush(&self) -> bool {
        self.class & 0x8000 != 0
    }
}

/// The EDNS(0) OPT pseudo-record (RFC 6891 6.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edns {
    pub udp_size: u16,
    pub version: u8,
    /// DO bit (RFC 3225).
    pub dnssec_ok: bool,
    /// Option codes present, in order (e.g. 8 client subnet, 10 cookie, 12 padding).
    pub options: Vec<u16>,
    pub client_subnet: Option<ClientSubnet>,
}

/// EDNS Client Subnet (RFC 7871 6): the network a resolver reveals on the client's behalf.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientSubnet {
    pub source_prefix: u8,
    pub scope_prefix: u8,
    /// The address bits sent, padded with zeros to a full address.
    pub address: IpAddr,
}

/// Mnemonic for an RCODE, extended ones included (RFC 6895 2.3).
pub fn rcode_name(rcode: u16) -> &'static str {
    match rcode {
        0 => "NOERROR",
        1 => "FORMERR",
        2 => "SERVFAIL",
        3 => "NXDOMAIN",
        4 => "NOTIMP",
        5 => "REFUSED",
        6 => "YXDOMAIN",
        7 => "YXRRSET",
        8 => "NXRRSET",
        9 => "NOTAUTH",
        10 => "NOTZONE",
        11 => "DSOTYPENI",
        16 => "BADVERS",
        17 => "BADKEY",
        18 => "BADTIME",
        19 => "BADMODE",
        20 => "BADNAME",
        21 => "BADALG",
        22 => "BADTRUNC",
        23 => "BADCOOKIE",
        _ => "RESERVED",
    }
}

fn be16(msg: &[u8], pos: usize) -> Option<u16> {
    let b = msg.get(pos..pos.checked_add(2)?)?;
    Some(u16::from_be_bytes([b[0], b[1]]))
}

fn be32(msg: &[u8], pos: usize) -> Option<u32> {
    let b = msg.get(pos..pos.checked_add(4)?)?;
    Some(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
}

/// Parses one DNS message. Fails only when not even the header is there; any later damage
/// ends parsing with what was read so far and a note in [`Message::malformed`].
pub fn parse(msg: &[u8]) -> Result<Message, Error> {
    let short = Error::ShortHeader { len: msg.len() };
    // RFC 1035 4.1.1: ID, flags, QDCOUNT, ANCOUNT, NSCOUNT, ARCOUNT.
    let (Some(id), Some(flags)) = (be16(msg, 0), be16(msg, 2)) else {
        return Err(short);
    };
    let counts: [u16; 4] = [4, 6, 8, 10].map(|o| be16(msg, o).unwrap_or(0));
    if msg.len() < HEADER_LEN {
        return Err(short);
    }
    let mut m = Message {
        id,
        response: flags & 0x8000 != 0,
        opcode: ((flags >> 11) & 0x0F) as u8,
        authoritative: flags & 0x0400 != 0,
        truncated: flags & 0x0200 != 0,
        recursion_desired: flags & 0x0100 != 0,
        recursion_available: flags & 0x0080 != 0,
        authentic_data: flags & 0x0020 != 0,
        checking_disabled: flags & 0x0010 != 0,
        rcode: flags & 0x000F,
        question_count: counts[0],
        answer_count: counts[1],
        authority_count: counts[2],
        additional_count: counts[3],
        ..Message::default()
    };
    let mut pos = HEADER_LEN;
    // Capacity from the bytes actually present, not from the (untrusted) counts.
    let room =
        |pos: usize, n: u16, min: usize| usize::from(n).min(msg.len().saturating_sub(pos) / min);

    m.questions.reserve_exact(room(pos, counts[0], 5));
    for i in 0..counts[0] {
        match question(msg, pos) {
            Ok((q, next)) => {
                m.questions.push(q);
                pos = next;
            }
            Err(why) => {
                m.malformed = Some(format!("question {}: {why} (offset {pos})", i + 1));
                return Ok(m);
            }
        }
    }
    let sections = [
        ("answer", counts[1]),
        ("authority", counts[2]),
        ("additional", counts[3]),
    ];
    for (s, (label, count)) in sections.into_iter().enumerate() {
        let mut out = Vec::with_capacity(room(pos, count, MIN_RECORD_LEN));
        let mut failed = false;
        for i in 0..count {
            match record(msg, pos) {
                Ok((Raw::Record(r), next)) => {
                    out.push(r);
                    pos = next;
                }
                Ok((Raw::Opt(edns, ext_rcode), next)) => {
                    // RFC 6891 6.1.3: the upper 8 bits of the 12-bit RCODE.
                    m.rcode |= u16::from(ext_rcode) << 4;
                    if m.edns.is_none() {
                        m.edns = Some(edns);
                    }
                    pos = next;
                }
                Err(why) => {
                    m.malformed = Some(format!("{label} {}: {why} (offset {pos})", i + 1));
                    failed = true;
                    break;
                }
            }
        }
        match s {
            0 => m.answers = out,
            1 => m.authority = out,
            _ => m.additional = out,
        }
        if failed {
            break;
        }
    }
    Ok(m)
}

fn question(msg: &[u8], pos: usize) -> Result<(Question, usize), &'static str> {
    let mut name = String::new();
    let next = name::read(msg, pos, Some(&mut name)).map_err(name::NameError::as_str)?;
    let (Some(qtype), Some(qclass)) = (be16(msg, next), be16(msg, next + 2)) else {
        return Err("question runs past the end of the message");
    };
    Ok((
        Question {
            name,
            qtype: RrType(qtype),
            qclass,
        },
        next + 4,
    ))
}

enum Raw {
    Record(Record),
    Opt(Edns, u8),
}

fn record(msg: &[u8], pos: usize) -> Result<(Raw, usize), &'static str> {
    let mut name = String::new();
    let next = name::read(msg, pos, Some(&mut name)).map_err(name::NameError::as_str)?;
    // RFC 1035 4.1.3: TYPE, CLASS, TTL, RDLENGTH, RDATA.
    let fixed = (
        be16(msg, next),
        be16(msg, next + 2),
        be32(msg, next + 4),
        be16(msg, next + 8),
    );
    let (Some(rtype), Some(class), Some(ttl), Some(rdlen)) = fixed else {
        return Err("record runs past the end of the message");
    };
    let start = next + 10;
    let rdlen = usize::from(rdlen);
    let end = start
        .checked_add(rdlen)
        .filter(|&e| e <= msg.len())
        .ok_or("rdata runs past the end of the message")?;
    let rtype = RrType(rtype);
    if rtype == RrType::OPT {
        let (edns, ext) = opt(msg.get(start..end).unwrap_or_default(), class, ttl);
        return Ok((Raw::Opt(edns, ext), end));
    }
    let data = rdata::parse(msg, start, rdlen, rtype).map_err(rdata::RDataError::as_str)?;
    Ok((
        Raw::Record(Record {
            name,
            rtype,
            class,
            ttl,
            data,
        }),
        end,
    ))
}

/// RFC 6891 6.1.2-6.1.3: CLASS is the UDP payload size, TTL holds the extended RCODE,
/// version and DO bit; RDATA is a list of {code, length, data} options.
fn opt(rdata: &[u8], class: u16, ttl: u32) -> (Edns, u8) {
    let [ext, version, flags_hi, _] = ttl.to_be_bytes();
    let mut edns = Edns {
        udp_size: class,
        version,
        dnssec_ok: flags_hi & 0x80 != 0,
        options: Vec::new(),
        client_subnet: None,
    };
    let mut pos = 0;
    while let (Some(code), Some(len)) = (be16(rdata, pos), be16(rdata, pos + 2)) {
        let start = pos + 4;
        let Some(data) = rdata.get(start..start + usize::from(len)) else {
            break;
        };
        edns.options.push(code);
        if code == 8 {
            edns.client_subnet = client_subnet(data);
        }
        pos = start + usize::from(len);
    }
    (edns, ext)
}

/// RFC 7871 6: FAMILY, SOURCE PREFIX-LENGTH, SCOPE PREFIX-LENGTH, ADDRESS (only the bytes
/// the source prefix covers are sent).
fn client_subnet(data: &[u8]) -> Option<ClientSubnet> {
    let family = be16(data, 0)?;
    let (&source_prefix, &scope_prefix) = (data.get(2)?, data.get(3)?);
    let addr = data.get(4..)?;
    let address = match family {
        1 => {
            let mut b = [0u8; 4];
            b.get_mut(..addr.len())?.copy_from_slice(addr);
            IpAddr::V4(Ipv4Addr::from(b))
        }
        2 => {
            let mut b = [0u8; 16];
            b.get_mut(..addr.len())?.copy_from_slice(addr);
            IpAddr::V6(Ipv6Addr::from(b))
        }
        _ => return None,
    };
    Some(ClientSubnet {
        source_prefix,
        scope_prefix,
        address,
    })
}

/// Largest QDCOUNT accepted by [`looks_like_dns`]: mDNS queries batch many questions.
const MAX_PLAUSIBLE_QUESTIONS: u16 = 32;

/// Cheap content check for DNS on an unexpected port: header sanity (opcode, counts that fit
/// the length) and a first question or record that parses with a known class. Allocates nothing.
pub fn looks_like_dns(payload: &[u8]) -> bool {
    let (Some(flags), Some(qd), Some(an), Some(ns), Some(ar)) = (
        be16(payload, 2),
        be16(payload, 4),
        be16(payload, 6),
        be16(payload, 8),
        be16(payload, 10),
    ) else {
        return false;
    };
    let response = flags & 0x8000 != 0;
    let opcode = (flags >> 11) & 0x0F;
    // RFC 6895 2.2: QUERY, IQUERY, STATUS, NOTIFY, UPDATE, DSO.
    if !matches!(opcode, 0 | 1 | 2 | 4 | 5 | 6) {
        return false;
    }
    // Queries carry no error code.
    if !response && flags & 0x000F != 0 {
        return false;
    }
    let records = usize::from(an) + usize::from(ns) + usize::from(ar);
    let body = payload.len() - HEADER_LEN;
    if usize::from(qd) * 5 + records * MIN_RECORD_LEN > body {
        return false;
    }
    let class_ok = |c: u16| matches!(c & 0x7FFF, 1 | 3 | 4 | 254 | 255);
    if qd == 0 {
        // mDNS announcements: a response with answers and no question (RFC 6762 8.3).
        if !response || an == 0 {
            return false;
        }
        let Ok(next) = name::read(payload, HEADER_LEN, None) else {
            return false;
        };
        let (Some(rtype), Some(class), Some(rdlen)) = (
            be16(payload, next),
            be16(payload, next + 2),
            be16(payload, next + 8),
        ) else {
            return false;
        };
        return rtype != 0 && class_ok(class) && next + 10 + usize::from(rdlen) <= payload.len();
    }
    if qd > MAX_PLAUSIBLE_QUESTIONS {
        return false;
    }
    let Ok(next) = name::read(payload, HEADER_LEN, None) else {
        return false;
    };
    match (be16(payload, next), be16(payload, next + 2)) {
        (Some(qtype), Some(qclass)) => qtype != 0 && class_ok(qclass),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Response to a `dig www.suricata-ids.org A`: dns_udp_dig_a_query__suri.pcap
    /// (suricata-verify), frame 2, UDP payload.
    const DIG_RESPONSE: &[u8] = b"\x8d\x32\x81\xa0\x00\x01\x00\x03\x00\x00\x00\x00\x03\x77\x77\x77\x0c\x73\x75\x72\x69\x63\x61\x74\x61\x2d\x69\x64\x73\x03\x6f\x72\x67\x00\x00\x01\x00\x01\xc0\x0c\x00\x05\x00\x01\x00\x00\x0d\xd8\x00\x12\x0c\x73\x75\x72\x69\x63\x61\x74\x61\x2d\x69\x64\x73\x03\x6f\x72\x67\x00\xc0\x32\x00\x01\x00\x01\x00\x00\x00\xf4\x00\x04\xc0\x00\x4e\x18\xc0\x32\x00\x01\x00\x01\x00\x00\x00\xf4\x00\x04\xc0\x00\x4e\x19";

    /// HTTPS record for cloudflare.com: dns_https_rr__zeek.pcap (Zeek tests), response payload.
    const HTTPS_RESPONSE: &[u8] = b"\xf2\x9f\x81\x80\x00\x01\x00\x01\x00\x00\x00\x01\x0a\x63\x6c\x6f\x75\x64\x66\x6c\x61\x72\x65\x03\x63\x6f\x6d\x00\x00\x41\x00\x01\xc0\x0c\x00\x41\x00\x01\x00\x00\x00\x81\x00\x4f\x00\x01\x00\x00\x01\x00\x18\x02\x68\x33\x05\x68\x33\x2d\x32\x39\x05\x68\x33\x2d\x32\x38\x05\x68\x33\x2d\x32\x37\x02\x68\x32\x00\x04\x00\x08\x68\x10\x84\xe5\x68\x10\x85\xe5\x00\x06\x00\x20\x26\x06\x47\x00\x00\x00\x00\x00\x00\x00\x00\x00\x68\x10\x84\xe5\x26\x06\x47\x00\x00\x00\x00\x00\x00\x00\x00\x00\x68\x10\x85\xe5\x00\x00\x29\x10\x00\x00\x00\x00\x00\x00\x00";

    #[test]
    fn real_dig_response() {
        let m = parse(DIG_RESPONSE).unwrap();
        assert_eq!(
            (m.id, m.response, m.rcode, m.malformed.as_deref()),
            (0x8d32, true, 0, None)
        );
        assert_eq!(m.questions[0].name, "www.suricata-ids.org");
        let text: Vec<String> = m
            .answers
            .iter()
            .map(|r| format!("{} {} {} {}", r.name, r.ttl, r.rtype, r.data.to_text()))
            .collect();
        assert_eq!(
            text,
            [
                "www.suricata-ids.org 3544 CNAME suricata-ids.org.",
                "suricata-ids.org 244 A 192.0.78.24",
                "suricata-ids.org 244 A 192.0.78.25"
            ]
        );
        assert!(looks_like_dns(DIG_RESPONSE));
    }

    #[test]
    fn real_https_record() {
        let m = parse(HTTPS_RESPONSE).unwrap();
        assert_eq!(m.answers[0].rtype, RrType::HTTPS);
        assert_eq!(
            m.answers[0].data.to_text(),
            "1 . alpn=\"h3,h3-29,h3-28,h3-27,h2\" ipv4hint=104.16.132.229,104.16.133.229 \
             ipv6hint=2606:4700::6810:84e5,2606:4700::6810:85e5"
        );
        assert_eq!(m.edns.map(|e| e.udp_size), Some(4096));
    }

    fn header(id: u16, flags: u16, counts: [u16; 4]) -> Vec<u8> {
        let mut v = Vec::new();
        v.extend_from_slice(&id.to_be_bytes());
        v.extend_from_slice(&flags.to_be_bytes());
        for c in counts {
            v.extend_from_slice(&c.to_be_bytes());
        }
        v
    }

    #[test]
    fn short_header_is_an_error() {
        assert_eq!(parse(b"\x00\x01\x02"), Err(Error::ShortHeader { len: 3 }));
        assert!(!looks_like_dns(b"\x00\x01\x02"));
    }

    #[test]
    fn response_with_compression_and_edns() {
        let mut m = header(0xBEEF, 0x8180, [1, 2, 0, 1]);
        m.extend_from_slice(b"\x03www\x07Example\x03com\x00\x00\x01\x00\x01");
        // CNAME www -> cdn.example.com via pointers to offsets 12 and 16.
        m.extend_from_slice(b"\xC0\x0C\x00\x05\x00\x01\x00\x00\x0e\x10\x00\x06\x03cdn\xC0\x10");
        m.extend_from_slice(b"\xC0\x2D\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04\x0a\x00\x00\x01");
        // OPT: udp 1232, ext-rcode 1 (BADVERS with header 0), DO, ECS 192.0.2/24.
        m.extend_from_slice(b"\x00\x00\x29\x04\xd0\x01\x00\x80\x00\x00\x0b\x00\x08\x00\x07\x00\x01\x18\x00\xc0\x00\x02");
        let p = parse(&m).unwrap();
        assert_eq!(p.malformed, None);
        assert_eq!(p.questions[0].name, "www.Example.com");
        assert_eq!(p.answers[0].data, RData::Cname("cdn.Example.com".into()));
        assert_eq!(p.answers[1].name, "cdn.Example.com");
        assert_eq!(p.answers[1].data.to_text(), "10.0.0.1");
        assert!(p.additional.is_empty());
        assert_eq!(p.rcode, 16);
        assert_eq!(rcode_name(p.rcode), "BADVERS");
        let e = p.edns.unwrap();
        assert_eq!(
            (e.udp_size, e.dnssec_ok, e.options.as_slice()),
            (1232, true, &[8u16][..])
        );
        assert_eq!(
            e.client_subnet.unwrap().address,
            "192.0.2.0".parse::<IpAddr>().unwrap()
        );
        assert!(looks_like_dns(&m));
    }

    #[test]
    fn broken_record_keeps_earlier_ones() {
        let mut m = header(1, 0x8180, [1, 3, 0, 0]);
        m.extend_from_slice(b"\x01a\x00\x00\x01\x00\x01");
        m.extend_from_slice(b"\xC0\x0C\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04\x01\x02\x03\x04");
        // Second answer: a pointer forward, past itself.
        m.extend_from_slice(b"\xC0\x40\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04\x01\x02\x03\x04");
        let p = parse(&m).unwrap();
        assert_eq!(p.answers.len(), 1);
        assert_eq!(
            p.malformed.as_deref(),
            Some("answer 2: compression pointer does not point backwards (offset 35)")
        );
    }

    #[test]
    fn counts_larger_than_the_message() {
        let mut m = header(1, 0x8000, [1, 0xFFFF, 0xFFFF, 0xFFFF]);
        m.extend_from_slice(b"\x00\x00\x01\x00\x01");
        let p = parse(&m).unwrap();
        assert_eq!(p.questions.len(), 1);
        assert!(p.answers.capacity() == 0);
        assert!(p.malformed.unwrap().starts_with("answer 1:"));
    }

    #[test]
    fn mdns_bits() {
        // mDNS announcement shape (RFC 6762 8.3): no question, cache-flush answer.
        let mut m = header(0, 0x8400, [0, 1, 0, 0]);
        m.extend_from_slice(
            b"\x05phone\x05local\x00\x00\x01\x80\x01\x00\x00\x00\x78\x00\x04\xc0\xa8\x01\x05",
        );
        let p = parse(&m).unwrap();
        assert!(p.answers[0].cache_flush());
        assert_eq!(p.answers[0].data, RData::A(Ipv4Addr::new(192, 168, 1, 5)));
        assert!(looks_like_dns(&m));
        let mut q = header(0, 0, [1, 0, 0, 0]);
        q.extend_from_slice(b"\x05_http\x04_tcp\x05local\x00\x00\x0c\x80\x01");
        let p = parse(&q).unwrap();
        assert!(p.questions[0].unicast_response());
        assert_eq!(p.questions[0].qtype, RrType::PTR);
        assert!(looks_like_dns(&q));
    }

    #[test]
    fn looks_like_dns_table() {
        let q = b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x07example\x03com\x00\x00\x01\x00\x01";
        let cases: &[(&[u8], bool)] = &[
            (q, true),
            (b"GET / HTTP/1.1\r\nHost: example.com\r\n\r\n", false),
            (
                b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\x00\x00\x00\x00\x00",
                false,
            ),
            (&[0u8; 40], false),
            // Opcode 3 is unassigned.
            (
                b"\x12\x34\x19\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x00\x01\x00\x01",
                false,
            ),
            // Query with an RCODE.
            (
                b"\x12\x34\x01\x03\x00\x01\x00\x00\x00\x00\x00\x00\x00\x00\x01\x00\x01",
                false,
            ),
            // Class 7 is not a class.
            (
                b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x00\x01\x00\x07",
                false,
            ),
        ];
        for (bytes, want) in cases {
            assert_eq!(looks_like_dns(bytes), *want, "{bytes:?}");
        }
    }
}

//! Record types and record data (RFC 1035 3.3, RFC 3596, RFC 2782, RFC 9460).

use std::borrow::Cow;
use std::fmt::Write as _;
use std::net::{Ipv4Addr, Ipv6Addr};

use super::name::{self, push_ddd, NameError};

/// A resource record TYPE; unknown values are kept, not rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RrType(pub u16);

impl RrType {
    pub const A: Self = Self(1);
    pub const NS: Self = Self(2);
    pub const CNAME: Self = Self(5);
    pub const SOA: Self = Self(6);
    pub const NULL: Self = Self(10);
    pub const PTR: Self = Self(12);
    pub const HINFO: Self = Self(13);
    pub const MX: Self = Self(15);
    pub const TXT: Self = Self(16);
    pub const AAAA: Self = Self(28);
    pub const SRV: Self = Self(33);
    pub const NAPTR: Self = Self(35);
    pub const DNAME: Self = Self(39);
    pub const OPT: Self = Self(41);
    pub const DS: Self = Self(43);
    pub const RRSIG: Self = Self(46);
    pub const NSEC: Self = Self(47);
    pub const DNSKEY: Self = Self(48);
    pub const NSEC3: Self = Self(50);
    pub const TLSA: Self = Self(52);
    pub const SVCB: Self = Self(64);
    pub const HTTPS: Self = Self(65);
    pub const IXFR: Self = Self(251);
    pub const AXFR: Self = Self(252);
    pub const ANY: Self = Self(255);
    pub const CAA: Self = Self(257);

    /// The mnemonic, or `TYPEnnn` (RFC 3597 5) for types without one here.
    pub fn name(self) -> Cow<'static, str> {
        let s = match self {
            Self::A => "A",
            Self::NS => "NS",
            Self::CNAME => "CNAME",
            Self::SOA => "SOA",
            Self::NULL => "NULL",
            Self::PTR => "PTR",
            Self::HINFO => "HINFO",
            Self::MX => "MX",
            Self::TXT => "TXT",
            Self::AAAA => "AAAA",
            Self::SRV => "SRV",
            Self::NAPTR => "NAPTR",
            Self::DNAME => "DNAME",
            Self::OPT => "OPT",
            Self::DS => "DS",
            Self::RRSIG => "RRSIG",
            Self::NSEC => "NSEC",
            Self::DNSKEY => "DNSKEY",
            Self::NSEC3 => "NSEC3",
            Self::TLSA => "TLSA",
            Self::SVCB => "SVCB",
            Self::HTTPS => "HTTPS",
            Self::IXFR => "IXFR",
            Self::AXFR => "AXFR",
            Self::ANY => "ANY",
            Self::CAA => "CAA",
            Self(other) => return Cow::Owned(format!("TYPE{other}")),
        };
        Cow::Borrowed(s)
    }
}

impl std::fmt::Display for RrType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.name())
    }
}

/// Decoded record data. Names are in presentation form without the trailing dot.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RData {
    A(Ipv4Addr),
    Aaaa(Ipv6Addr),
    Cname(String),
    Ptr(String),
    Ns(String),
    Mx {
        preference: u16,
        exchange: String,
    },
    /// Character-strings, each escaped as dig shows it inside quotes (`\"`, `\\`, `\DDD`).
    Txt(Vec<String>),
    /// SVCB and HTTPS (RFC 9460); `target` is `.` for "the owner name" in service mode.
    Svcb {
        priority: u16,
        target: String,
        alpn: Vec<String>,
        port: Option<u16>,
        ipv4hint: Vec<Ipv4Addr>,
        ipv6hint: Vec<Ipv6Addr>,
        /// An ECH configuration is published (its content is not kept).
        ech: bool,
    },
    Srv {
        priority: u16,
        weight: u16,
        port: u16,
        target: String,
    },
    Soa {
        mname: String,
        rname: String,
        serial: u32,
        refresh: u32,
        retry: u32,
        expire: u32,
        minimum: u32,
    },
    /// A type not decoded here; only the RDATA length is kept.
    Other {
        len: usize,
    },
}

/// Why RDATA could not be decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RDataError {
    Name(NameError),
    /// Fixed fields or a length-prefixed item run past RDLENGTH.
    Short,
    /// A name inside RDATA runs past RDLENGTH.
    NameOverrun,
    /// A/AAAA with the wrong length.
    Length,
}

impl RDataError {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Name(e) => e.as_str(),
            Self::Short => "rdata shorter than its fields",
            Self::NameOverrun => "name runs past rdata",
            Self::Length => "address rdata of the wrong length",
        }
    }
}

impl From<NameError> for RDataError {
    fn from(e: NameError) -> Self {
        Self::Name(e)
    }
}

/// Reads fixed fields inside `msg[pos..end]` (the RDATA), never past `end`.
struct Cursor<'a> {
    msg: &'a [u8],
    pos: usize,
    end: usize,
}

impl Cursor<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8], RDataError> {
        let next = self
            .pos
            .checked_add(n)
            .filter(|&e| e <= self.end)
            .ok_or(RDataError::Short)?;
        let s = self.msg.get(self.pos..next).ok_or(RDataError::Short)?;
        self.pos = next;
        Ok(s)
    }
    fn u16(&mut self) -> Result<u16, RDataError> {
        let b = self.take(2)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }
    fn u32(&mut self) -> Result<u32, RDataError> {
        let b = self.take(4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }
    /// A (possibly compressed) name whose own bytes lie inside the RDATA; pointers may reach
    /// anywhere earlier in the message (RFC 1035 4.1.4, RFC 3597 4 for the well-known types).
    fn name(&mut self) -> Result<String, RDataError> {
        let mut s = String::new();
        let next = name::read(self.msg, self.pos, Some(&mut s))?;
        if next > self.end {
            return Err(RDataError::NameOverrun);
        }
        self.pos = next;
        Ok(s)
    }
    fn remaining(&self) -> usize {
        self.end.saturating_sub(self.pos)
    }
}

/// Decodes the RDATA at `msg[start..start + len]` for `rtype`; the caller checked the bounds.
pub(crate) fn parse(
    msg: &[u8],
    start: usize,
    len: usize,
    rtype: RrType,
) -> Result<RData, RDataError> {
    let end = start
        .checked_add(len)
        .filter(|&e| e <= msg.len())
        .ok_or(RDataError::Short)?;
    let mut c = Cursor {
        msg,
        pos: start,
        end,
    };
    let data = match rtype {
        // RFC 1035 3.4.1
        RrType::A => {
            let b: [u8; 4] = c.take(len)?.try_into().map_err(|_| RDataError::Length)?;
            RData::A(Ipv4Addr::from(b))
        }
        // RFC 3596 2.2
        RrType::AAAA => {
            let b: [u8; 16] = c.take(len)?.try_into().map_err(|_| RDataError::Length)?;
            RData::Aaaa(Ipv6Addr::from(b))
        }
        // RFC 1035 3.3.1, 3.3.12, 3.3.11
        RrType::CNAME => RData::Cname(c.name()?),
        RrType::PTR => RData::Ptr(c.name()?),
        RrType::NS => RData::Ns(c.name()?),
        // RFC 1035 3.3.9
        RrType::MX => RData::Mx {
            preference: c.u16()?,
            exchange: c.name()?,
        },
        // RFC 1035 3.3.14: one or more <character-string>s.
        RrType::TXT => {
            let mut strings = Vec::new();
            while c.remaining() > 0 {
                let n = usize::from(c.take(1)?[0]);
                strings.push(escape_text(c.take(n)?));
            }
            RData::Txt(strings)
        }
        // RFC 1035 3.3.13
        RrType::SOA => RData::Soa {
            mname: c.name()?,
            rname: c.name()?,
            serial: c.u32()?,
            refresh: c.u32()?,
            retry: c.u32()?,
            expire: c.u32()?,
            minimum: c.u32()?,
        },
        // RFC 2782 (RDATA: priority, weight, port, target)
        RrType::SRV => RData::Srv {
            priority: c.u16()?,
            weight: c.u16()?,
            port: c.u16()?,
            target: c.name()?,
        },
        RrType::SVCB | RrType::HTTPS => parse_svcb(&mut c)?,
        _ => RData::Other { len },
    };
    Ok(data)
}

/// RFC 9460 2.2: SvcPriority, TargetName (uncompressed, but tolerated), SvcParams.
fn parse_svcb(c: &mut Cursor<'_>) -> Result<RData, RDataError> {
    let priority = c.u16()?;
    let target = c.name()?;
    let (mut alpn, mut port, mut ipv4hint, mut ipv6hint, mut ech) =
        (Vec::new(), None, Vec::new(), Vec::new(), false);
    while c.remaining() > 0 {
        let key = c.u16()?;
        let n = usize::from(c.u16()?);
        let value = c.take(n)?;
        match key {
            // RFC 9460 7.1.1: alpn-id list, each a length-prefixed string.
            1 => {
                let mut rest = value;
                while let Some((&n, tail)) = rest.split_first() {
                    let n = usize::from(n);
                    let id = tail.get(..n).ok_or(RDataError::Short)?;
                    alpn.push(escape_text(id));
                    rest = tail.get(n..).unwrap_or_default();
                }
            }
            // RFC 9460 7.2
            3 => {
                let b: [u8; 2] = value.try_into().map_err(|_| RDataError::Length)?;
                port = Some(u16::from_be_bytes(b));
            }
            // RFC 9460 7.3
            4 => {
                for chunk in value.chunks(4) {
                    let b: [u8; 4] = chunk.try_into().map_err(|_| RDataError::Length)?;
                    ipv4hint.push(Ipv4Addr::from(b));
                }
            }
            6 => {
                for chunk in value.chunks(16) {
                    let b: [u8; 16] = chunk.try_into().map_err(|_| RDataError::Length)?;
                    ipv6hint.push(Ipv6Addr::from(b));
                }
            }
            // RFC 9460 14.3.2 / draft-ietf-tls-svcb-ech: "ech"
            5 => ech = true,
            _ => {}
        }
    }
    Ok(RData::Svcb {
        priority,
        target,
        alpn,
        port,
        ipv4hint,
        ipv6hint,
        ech,
    })
}

/// Escapes a character-string the way dig prints it between quotes.
fn escape_text(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len());
    for &b in bytes {
        match b {
            b'"' | b'\\' => {
                s.push('\\');
                s.push(char::from(b));
            }
            0x20..=0x7E => s.push(char::from(b)),
            _ => push_ddd(b, &mut s),
        }
    }
    s
}

/// A name in dig's output form: fully qualified, trailing dot.
fn fqdn(name: &str, out: &mut String) {
    out.push_str(name);
    // Fields never carry the trailing dot; only the root is spelled ".".
    if name != "." {
        out.push('.');
    }
}

impl RData {
    /// Presentation form as dig prints the RDATA column (RFC 1035 5.1, RFC 9460 2.1).
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        // Writing to a String cannot fail.
        let _ = match self {
            Self::A(a) => write!(s, "{a}"),
            Self::Aaaa(a) => write!(s, "{a}"),
            Self::Cname(n) | Self::Ptr(n) | Self::Ns(n) => {
                fqdn(n, &mut s);
                Ok(())
            }
            Self::Mx {
                preference,
                exchange,
            } => {
                let _ = write!(s, "{preference} ");
                fqdn(exchange, &mut s);
                Ok(())
            }
            Self::Txt(strings) => {
                for (i, t) in strings.iter().enumerate() {
                    if i > 0 {
                        s.push(' ');
                    }
                    s.push('"');
                    s.push_str(t);
                    s.push('"');
                }
                Ok(())
            }
            Self::Svcb {
                priority,
                target,
                alpn,
                port,
                ipv4hint,
                ipv6hint,
                ech,
            } => {
                let _ = write!(s, "{priority} ");
                fqdn(target, &mut s);
                if !alpn.is_empty() {
                    // RFC 9460 A.1: commas inside an alpn-id would be escaped; kept simple here.
                    let _ = write!(s, " alpn=\"{}\"", alpn.join(","));
                }
                if let Some(port) = port {
                    let _ = write!(s, " port={port}");
                }
                if !ipv4hint.is_empty() {
                    let v: Vec<String> = ipv4hint.iter().map(ToString::to_string).collect();
                    let _ = write!(s, " ipv4hint={}", v.join(","));
                }
                if *ech {
                    s.push_str(" ech");
                }
                if !ipv6hint.is_empty() {
                    let v: Vec<String> = ipv6hint.iter().map(ToString::to_string).collect();
                    let _ = write!(s, " ipv6hint={}", v.join(","));
                }
                Ok(())
            }
            Self::Srv {
                priority,
                weight,
                port,
                target,
            } => {
                let _ = write!(s, "{priority} {weight} {port} ");
                fqdn(target, &mut s);
                Ok(())
            }
            Self::Soa {
                mname,
                rname,
                serial,
                refresh,
                retry,
                expire,
                minimum,
            } => {
                fqdn(mname, &mut s);
                s.push(' ');
                fqdn(rname, &mut s);
                write!(s, " {serial} {refresh} {retry} {expire} {minimum}")
            }
            // RFC 3597 5: the generic form; the bytes themselves are not kept.
            Self::Other { len } => write!(s, "\\# {len}"),
        };
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_names() {
        let cases = [
            (1, "A"),
            (28, "AAAA"),
            (5, "CNAME"),
            (12, "PTR"),
            (15, "MX"),
            (16, "TXT"),
            (65, "HTTPS"),
            (64, "SVCB"),
            (2, "NS"),
            (6, "SOA"),
            (33, "SRV"),
            (41, "OPT"),
            (123, "TYPE123"),
        ];
        for (code, want) in cases {
            assert_eq!(RrType(code).name(), want);
        }
    }

    #[test]
    fn rdata_table() {
        // Each case: rdata bytes alone (no compression), type, dig's text.
        let cases: &[(&[u8], RrType, &str)] = &[
            (b"\x5d\xb8\xd8\x22", RrType::A, "93.184.216.34"),
            (
                b"\x26\x06\x28\x00\x02\x20\x00\x01\x02\x48\x18\x93\x25\xc8\x19\x46",
                RrType::AAAA,
                "2606:2800:220:1:248:1893:25c8:1946",
            ),
            (b"\x03www\x01x\x00", RrType::CNAME, "www.x."),
            (b"\x00\x0a\x04mail\x01x\x00", RrType::MX, "10 mail.x."),
            (b"\x05hello\x03a\"b", RrType::TXT, "\"hello\" \"a\\\"b\""),
            (b"\x00\x01\x00\x02\x01\xbb\x01t\x00", RrType::SRV, "1 2 443 t."),
            (
                b"\x02ns\x00\x01h\x00\x00\x00\x00\x01\x00\x00\x00\x02\x00\x00\x00\x03\x00\x00\x00\x04\x00\x00\x00\x05",
                RrType::SOA,
                "ns. h. 1 2 3 4 5",
            ),
            (b"\x01\x02\x03", RrType(99), "\\# 3"),
            // RFC 9460 D.2 figure 4 style: priority 1, target ".", alpn h3,h2, ipv4hint.
            (
                b"\x00\x01\x00\x00\x01\x00\x06\x02h3\x02h2\x00\x04\x00\x04\x01\x02\x03\x04\x00\x05\x00\x01\xff",
                RrType::HTTPS,
                "1 . alpn=\"h3,h2\" ipv4hint=1.2.3.4 ech",
            ),
        ];
        for (bytes, t, want) in cases {
            let got = parse(bytes, 0, bytes.len(), *t).unwrap_or_else(|e| panic!("{t}: {e:?}"));
            assert_eq!(got.to_text(), *want, "{t}");
        }
    }

    #[test]
    fn rdata_errors_table() {
        let cases: &[(&[u8], RrType, RDataError)] = &[
            (b"\x01\x02\x03", RrType::A, RDataError::Length),
            (b"\x01\x02\x03\x04\x05", RrType::A, RDataError::Length),
            (
                b"\x00\x0a",
                RrType::MX,
                RDataError::Name(NameError::Truncated),
            ),
            (b"\x05hi", RrType::TXT, RDataError::Short),
            (
                b"\x00\x01\x00\x00\x01\x00\x09\x02h3",
                RrType::SVCB,
                RDataError::Short,
            ),
        ];
        for (bytes, t, want) in cases {
            assert_eq!(parse(bytes, 0, bytes.len(), *t), Err(*want), "{t}");
        }
        // A name that is valid in the message but whose bytes pass RDLENGTH.
        assert_eq!(
            parse(b"\x03www\x00", 0, 3, RrType::CNAME),
            Err(RDataError::NameOverrun)
        );
    }
}

//! Which service a flow belongs to (WeChat, Xiaomi Push, Telegram, ...), and the evidence.
//!
//! # Rules
//! The rules are data, `data/orgs/services.toml`, compiled into the binary
//! ([`Rules::bundled`]). Each `[[service]]` names the service and the organisation running it,
//! lists host-name suffixes, and carries `[[service.rule]]`s: sets of conditions that must all
//! hold (first payload bytes, server port and transport, address prefixes, origin AS, TLS
//! fingerprints, user agent, certificate organisation), each with a `why` that becomes the
//! evidence text. A rule made of a port alone is refused: a port says what a program chose,
//! not who it is.
//!
//! # Order of evidence
//! 1. Names: the SNI, the HTTP Host, the DNS name of the server address and the certificate's
//!    names (CN first), in that order, against every service's `hosts`: the first name that
//!    matches decides, by its longest listed suffix (`dns.weixin.qq.com` is WeChat, `qq.com`
//!    is QQ).
//! 2. Content rules: rules with a payload, fingerprint, user-agent or certificate condition.
//! 3. Network rules: rules made of addresses, AS numbers and ports only (Telegram's MTProto on
//!    its own prefixes, WhatsApp calls on Meta's network).
//!
//! Within a step, the first rule in file order wins.
//!
//! # Contract
//! [`Rules::identify`] never panics: payload offsets are checked against the bytes at hand,
//! and it allocates only for the answer. Rules are validated when loaded (hex, prefixes,
//! ports, no empty rule); the bundled file is checked by the tests.
//!
//! ```
//! use phonehome_enrich::services::{identify, ServiceFacts};
//! let facts = ServiceFacts {
//!     proto: "tcp",
//!     server_port: 443,
//!     sni: Some("szshort.weixin.qq.com"),
//!     ..ServiceFacts::default()
//! };
//! let hit = identify(&facts).unwrap();
//! assert_eq!(hit.service, "WeChat");
//! assert_eq!(hit.org.as_deref(), Some("Tencent"));
//! ```

use std::net::IpAddr;
use std::sync::OnceLock;

use serde::Deserialize;

/// The bundled service rules.
pub const BUNDLED: &str = include_str!("../../../../data/orgs/services.toml");

/// What is known about one flow, borrowed from the flow's record.
#[derive(Clone, Copy, Debug, Default)]
pub struct ServiceFacts<'a> {
    /// "tcp", "udp", ...
    pub proto: &'a str,
    pub server_ip: Option<IpAddr>,
    pub server_port: u16,
    pub sni: Option<&'a str>,
    pub http_host: Option<&'a str>,
    /// The name the DNS answers gave the server address.
    pub dns_name: Option<&'a str>,
    pub cert_org: Option<&'a str>,
    pub cert_names: &'a [String],
    pub ja3: Option<&'a str>,
    pub ja4: Option<&'a str>,
    pub user_agent: Option<&'a str>,
    /// The origin AS of the server address.
    pub asn: Option<u32>,
    /// The first bytes the client sent, and the server, for flows no parser understood.
    pub first_bytes_up: &'a [u8],
    pub first_bytes_down: &'a [u8],
}

/// A recognised service.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceMatch {
    pub service: String,
    /// The organisation running it, as `data/orgs/orgs.toml` names it.
    pub org: Option<String>,
    /// What matched, in words.
    pub evidence: String,
}

/// Why a rules file was rejected.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RuleError {
    /// The TOML did not parse or does not have the expected shape.
    #[error("services file: {0}")]
    Parse(String),
    /// A rule is unusable.
    #[error("service {service:?}: {problem}")]
    Invalid {
        /// The service's name.
        service: String,
        /// What is wrong.
        problem: String,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    service: Vec<ServiceDef>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ServiceDef {
    name: String,
    #[serde(default)]
    org: Option<String>,
    #[serde(default)]
    hosts: Vec<String>,
    #[serde(default)]
    rule: Vec<RuleDef>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleDef {
    why: String,
    /// "tcp/443", "udp/8000": the server port, with its transport.
    #[serde(default)]
    ports: Vec<String>,
    #[serde(default)]
    proto: Option<String>,
    /// CIDR prefixes of the server address.
    #[serde(default)]
    ip_prefixes: Vec<String>,
    #[serde(default)]
    asns: Vec<u32>,
    /// Hex the client's first bytes start with.
    #[serde(default)]
    up_prefix: Option<String>,
    /// Hex the server's first bytes start with.
    #[serde(default)]
    down_prefix: Option<String>,
    /// Hex either side's first bytes start with.
    #[serde(default)]
    either_prefix: Option<String>,
    /// Hex found at a fixed offset of either side's first bytes: `{ offset, hex }`.
    #[serde(default)]
    either_at: Option<AtDef>,
    /// Hex the client's first bytes (as kept) end with.
    #[serde(default)]
    up_suffix: Option<String>,
    /// Text found in either side's first bytes.
    #[serde(default)]
    contains: Option<String>,
    /// Text a name of the flow (SNI, HTTP Host, DNS name) starts with.
    #[serde(default)]
    host_prefix: Option<String>,
    #[serde(default)]
    user_agent: Option<String>,
    #[serde(default)]
    cert_org: Option<String>,
    #[serde(default)]
    ja3: Vec<String>,
    #[serde(default)]
    ja4: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AtDef {
    offset: usize,
    hex: String,
}

/// An address prefix.
#[derive(Clone, Copy, Debug)]
struct Prefix {
    net: IpAddr,
    len: u8,
}

impl Prefix {
    fn parse(s: &str) -> Option<Self> {
        let (addr, len) = s.split_once('/')?;
        let net: IpAddr = addr.parse().ok()?;
        let len: u8 = len.parse().ok()?;
        let max = if net.is_ipv4() { 32 } else { 128 };
        (len <= max).then_some(Self { net, len })
    }

    fn contains(&self, ip: IpAddr) -> bool {
        let (a, b, bits) = match (self.net, ip) {
            (IpAddr::V4(n), IpAddr::V4(i)) => (
                u128::from(u32::from(n)) << 96,
                u128::from(u32::from(i)) << 96,
                self.len,
            ),
            (IpAddr::V6(n), IpAddr::V6(i)) => (u128::from(n), u128::from(i), self.len),
            _ => return false,
        };
        let mask = u128::MAX.checked_shl(128 - u32::from(bits)).unwrap_or(0);
        a & mask == b & mask
    }
}

#[derive(Debug)]
struct Rule {
    service: usize,
    why: String,
    proto: Option<String>,
    ports: Vec<(String, u16)>,
    prefixes: Vec<Prefix>,
    asns: Vec<u32>,
    up_prefix: Vec<u8>,
    down_prefix: Vec<u8>,
    either_prefix: Vec<u8>,
    either_at: Option<(usize, Vec<u8>)>,
    up_suffix: Vec<u8>,
    contains: Vec<u8>,
    host_prefix: Option<String>,
    user_agent: Option<String>,
    cert_org: Option<String>,
    ja3: Vec<String>,
    ja4: Vec<String>,
}

impl Rule {
    /// Whether the rule looks at content rather than only at where the server is.
    fn is_content(&self) -> bool {
        !self.up_prefix.is_empty()
            || !self.down_prefix.is_empty()
            || !self.either_prefix.is_empty()
            || self.either_at.is_some()
            || !self.up_suffix.is_empty()
            || !self.contains.is_empty()
            || self.host_prefix.is_some()
            || self.user_agent.is_some()
            || self.cert_org.is_some()
            || !self.ja3.is_empty()
            || !self.ja4.is_empty()
    }

    fn matches(&self, f: &ServiceFacts<'_>) -> bool {
        let sides = [f.first_bytes_up, f.first_bytes_down];
        self.proto.as_deref().is_none_or(|p| p == f.proto)
            && (self.ports.is_empty()
                || self
                    .ports
                    .iter()
                    .any(|(p, n)| p == f.proto && *n == f.server_port))
            && (self.prefixes.is_empty()
                || f.server_ip
                    .is_some_and(|ip| self.prefixes.iter().any(|p| p.contains(ip))))
            && (self.asns.is_empty() || f.asn.is_some_and(|a| self.asns.contains(&a)))
            // Empty conditions are skipped before any comparison: this runs for every rule of
            // every flow.
            && (self.up_prefix.is_empty() || f.first_bytes_up.starts_with(&self.up_prefix))
            && (self.down_prefix.is_empty() || f.first_bytes_down.starts_with(&self.down_prefix))
            && (self.either_prefix.is_empty()
                || sides.iter().any(|s| s.starts_with(&self.either_prefix)))
            && self.either_at.as_ref().is_none_or(|(at, hex)| {
                sides.iter().any(|s| {
                    at.checked_add(hex.len())
                        .and_then(|end| s.get(*at..end))
                        .is_some_and(|b| b == hex.as_slice())
                })
            })
            && (self.up_suffix.is_empty() || f.first_bytes_up.ends_with(&self.up_suffix))
            && (self.contains.is_empty() || sides.iter().any(|s| find(s, &self.contains)))
            && self.host_prefix.as_deref().is_none_or(|want| {
                [f.sni, f.http_host, f.dns_name].iter().flatten().any(|n| {
                    n.as_bytes()
                        .get(..want.len())
                        .is_some_and(|b| b.eq_ignore_ascii_case(want.as_bytes()))
                })
            })
            && self.user_agent.as_deref().is_none_or(|want| {
                f.user_agent
                    .is_some_and(|ua| contains_ignore_case(ua, want))
            })
            && self
                .cert_org
                .as_deref()
                .is_none_or(|want| f.cert_org.is_some_and(|o| contains_ignore_case(o, want)))
            && (self.ja3.is_empty() || f.ja3.is_some_and(|j| self.ja3.iter().any(|x| x == j)))
            && (self.ja4.is_empty() || f.ja4.is_some_and(|j| self.ja4.iter().any(|x| x == j)))
    }
}

fn find(hay: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || hay.windows(needle.len()).any(|w| w == needle)
}

fn contains_ignore_case(hay: &str, needle: &str) -> bool {
    find(
        hay.to_ascii_lowercase().as_bytes(),
        needle.to_ascii_lowercase().as_bytes(),
    )
}

/// One service's name and owner.
#[derive(Debug)]
struct Service {
    name: String,
    org: Option<String>,
}

/// The service rules, indexed.
#[derive(Debug, Default)]
pub struct Rules {
    services: Vec<Service>,
    /// Host suffix -> service, for the longest-suffix walk.
    hosts: std::collections::HashMap<String, usize>,
    content: Vec<Rule>,
    network: Vec<Rule>,
}

/// Identifies a flow's service with the bundled rules.
#[must_use]
pub fn identify(facts: &ServiceFacts<'_>) -> Option<ServiceMatch> {
    Rules::bundled().identify(facts)
}

impl Rules {
    /// The rules compiled into the binary, parsed at the first call.
    ///
    /// # Panics
    /// Only if the bundled file is invalid, which this crate's tests rule out.
    #[must_use]
    pub fn bundled() -> &'static Self {
        static RULES: OnceLock<Rules> = OnceLock::new();
        // The bundled file is validated by the tests; failing here is a build defect.
        RULES.get_or_init(|| Self::from_toml(BUNDLED).expect("the bundled services.toml is valid"))
    }

    /// Parses and validates a rules file.
    pub fn from_toml(text: &str) -> Result<Self, RuleError> {
        let file: File = toml::from_str(text).map_err(|e| RuleError::Parse(e.to_string()))?;
        let mut rules = Self::default();
        for (i, def) in file.service.into_iter().enumerate() {
            let invalid = |problem: String| RuleError::Invalid {
                service: def.name.clone(),
                problem,
            };
            for h in &def.hosts {
                if h.is_empty() || h.starts_with('.') || h.bytes().any(|b| b.is_ascii_uppercase()) {
                    return Err(invalid(format!("host {h:?} is not a lower-case name")));
                }
                if rules.hosts.insert(h.clone(), i).is_some() {
                    return Err(invalid(format!("host {h} is listed twice")));
                }
            }
            for r in &def.rule {
                let rule = build_rule(i, r).map_err(invalid)?;
                if rule.is_content() {
                    rules.content.push(rule);
                } else {
                    rules.network.push(rule);
                }
            }
            rules.services.push(Service {
                name: def.name,
                org: def.org,
            });
        }
        Ok(rules)
    }

    /// True when `name` is a service these rules can identify, compared case-insensitively
    /// as policies compare service names (a policy naming any other service never matches).
    #[must_use]
    pub fn knows(&self, name: &str) -> bool {
        self.services
            .iter()
            .any(|s| s.name.eq_ignore_ascii_case(name))
    }

    /// The service of a flow, from the strongest evidence available.
    #[must_use]
    pub fn identify(&self, f: &ServiceFacts<'_>) -> Option<ServiceMatch> {
        let names = [
            ("SNI", f.sni),
            ("HTTP Host", f.http_host),
            ("DNS name", f.dns_name),
        ];
        let cert = f
            .cert_names
            .iter()
            .map(|n| ("certificate name", Some(n.as_str())));
        // The first name that matches wins (the certificate's CN before its SANs); for each
        // name, the longest listed suffix.
        for (what, name) in names.into_iter().chain(cert) {
            let Some(name) = name else { continue };
            if let Some((i, suffix)) = self.host_service(name) {
                return Some(self.answer(i, format!("{what} {name} is under {suffix}")));
            }
        }
        for rule in self.content.iter().chain(&self.network) {
            if rule.matches(f) {
                return Some(self.answer(rule.service, rule.why.clone()));
            }
        }
        None
    }

    fn answer(&self, i: usize, evidence: String) -> ServiceMatch {
        let s = &self.services[i];
        ServiceMatch {
            service: s.name.clone(),
            org: s.org.clone(),
            evidence,
        }
    }

    /// The service listing the longest suffix of `name`, with that suffix.
    fn host_service<'n>(&self, name: &'n str) -> Option<(usize, &'n str)> {
        let name = name.strip_suffix('.').unwrap_or(name);
        if name.parse::<IpAddr>().is_ok() {
            return None;
        }
        let mut rest = name;
        loop {
            let hit = if rest.bytes().any(|b| b.is_ascii_uppercase()) {
                self.hosts.get(&rest.to_ascii_lowercase())
            } else {
                self.hosts.get(rest)
            };
            if let Some(&i) = hit {
                return Some((i, rest));
            }
            rest = rest.split_once('.')?.1;
        }
    }
}

fn hex(field: &str, s: &str) -> Result<Vec<u8>, String> {
    let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    if !s.len().is_multiple_of(2) {
        return Err(format!("{field}: odd number of hex digits"));
    }
    (0..s.len())
        .step_by(2)
        .map(|i| {
            s.get(i..i + 2)
                .and_then(|b| u8::from_str_radix(b, 16).ok())
                .ok_or_else(|| format!("{field}: {s:?} is not hex"))
        })
        .collect()
}

fn build_rule(service: usize, r: &RuleDef) -> Result<Rule, String> {
    let opt_hex = |field: &str, v: &Option<String>| -> Result<Vec<u8>, String> {
        v.as_deref().map_or(Ok(Vec::new()), |s| hex(field, s))
    };
    let ports = r
        .ports
        .iter()
        .map(|p| {
            p.split_once('/')
                .and_then(|(t, n)| Some((t.to_string(), n.parse().ok()?)))
                .filter(|(t, _)| t == "tcp" || t == "udp")
                .ok_or_else(|| format!("port {p:?} is not tcp/N or udp/N"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let prefixes = r
        .ip_prefixes
        .iter()
        .map(|p| Prefix::parse(p).ok_or_else(|| format!("prefix {p:?} is not CIDR")))
        .collect::<Result<Vec<_>, _>>()?;
    let rule = Rule {
        service,
        why: r.why.clone(),
        proto: r.proto.clone(),
        ports,
        prefixes,
        asns: r.asns.clone(),
        up_prefix: opt_hex("up_prefix", &r.up_prefix)?,
        down_prefix: opt_hex("down_prefix", &r.down_prefix)?,
        either_prefix: opt_hex("either_prefix", &r.either_prefix)?,
        either_at: match &r.either_at {
            Some(a) => Some((a.offset, hex("either_at", &a.hex)?)),
            None => None,
        },
        up_suffix: opt_hex("up_suffix", &r.up_suffix)?,
        contains: r.contains.clone().unwrap_or_default().into_bytes(),
        host_prefix: r.host_prefix.clone(),
        user_agent: r.user_agent.clone(),
        cert_org: r.cert_org.clone(),
        ja3: r.ja3.clone(),
        ja4: r.ja4.clone(),
    };
    if r.why.trim().is_empty() {
        return Err("a rule without its why".into());
    }
    if !rule.is_content() && rule.prefixes.is_empty() && rule.asns.is_empty() {
        return Err(format!(
            "rule {:?} names neither content nor addresses: a port alone identifies nothing",
            r.why
        ));
    }
    Ok(rule)
}

#[cfg(test)]
mod tests;

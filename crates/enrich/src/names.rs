//! Naming every destination: which name the device meant when it opened a flow.
//!
//! The order of trust follows what the device itself said on the wire: the TLS SNI, then the
//! SNI inside a QUIC Initial, then the HTTP Host header, then the DNS answer that handed out the
//! server's address (only an answer seen *before* the flow started can explain it), and last the
//! names the server's certificate claims.

use std::net::IpAddr;

use ahash::AHashMap;
use phonehome_capture::Timestamp;

/// Where a flow's server name came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum NameSource {
    Sni,
    QuicSni,
    HttpHost,
    Dns,
    Cert,
    None,
}

impl NameSource {
    /// The stable report spelling.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Sni => "sni",
            Self::QuicSni => "quic-sni",
            Self::HttpHost => "http-host",
            Self::Dns => "dns",
            Self::Cert => "cert",
            Self::None => "none",
        }
    }
}

/// Names the DNS answers handed out for each address, in capture time order.
///
/// Bounded: at most [`DnsCache::NAMES_PER_ADDR`] names per address (the oldest is forgotten)
/// and at most `max_addrs` addresses (new addresses beyond it are counted, not stored).
#[derive(Debug)]
pub struct DnsCache {
    map: AHashMap<IpAddr, Vec<(Timestamp, Box<str>)>>,
    max_addrs: usize,
    dropped: u64,
}

impl Default for DnsCache {
    fn default() -> Self {
        Self::new(1 << 20)
    }
}

impl DnsCache {
    /// Names kept per address; CDNs hand one address to many names.
    pub const NAMES_PER_ADDR: usize = 32;

    pub fn new(max_addrs: usize) -> Self {
        Self {
            map: AHashMap::new(),
            max_addrs,
            dropped: 0,
        }
    }

    /// Records that an answer at `ts` mapped `name` to `addr`.
    ///
    /// Answers may arrive out of time order (several shards); lookups sort it out.
    pub fn insert(&mut self, ts: Timestamp, addr: IpAddr, name: &str) {
        let name = name.trim_end_matches('.');
        if name.is_empty() {
            return;
        }
        let len = self.map.len();
        let entry = match self.map.get_mut(&addr) {
            Some(e) => e,
            None if len >= self.max_addrs => {
                self.dropped += 1;
                return;
            }
            None => self.map.entry(addr).or_default(),
        };
        if let Some(same) = entry.iter_mut().find(|(_, n)| n.eq_ignore_ascii_case(name)) {
            // Keep the earliest time a name was known for the address: a flow may use it from then on.
            same.0 = same.0.min(ts);
            return;
        }
        if entry.len() >= Self::NAMES_PER_ADDR {
            // Forget the name learnt last-but-earliest: keep the newest answers.
            if let Some(oldest) = (0..entry.len()).min_by_key(|&i| entry[i].0) {
                entry.swap_remove(oldest);
            }
            self.dropped += 1;
        }
        entry.push((ts, name.into()));
    }

    /// The name most recently handed out for `addr` at or before `at`.
    pub fn lookup(&self, addr: IpAddr, at: Timestamp) -> Option<&str> {
        self.map
            .get(&addr)?
            .iter()
            .filter(|(ts, _)| *ts <= at)
            .max_by(|a, b| a.0.cmp(&b.0).then_with(|| b.1.cmp(&a.1)))
            .map(|(_, n)| &**n)
    }

    /// Every name ever handed out for `addr`, whatever the time (for context in reports).
    pub fn all_names(&self, addr: IpAddr) -> impl Iterator<Item = &str> {
        self.map
            .get(&addr)
            .into_iter()
            .flat_map(|v| v.iter().map(|(_, n)| &**n))
    }

    /// Answers that could not be kept because of the bounds.
    pub const fn dropped(&self) -> u64 {
        self.dropped
    }
}

/// What a flow showed about the name of its server.
#[derive(Clone, Debug)]
pub struct Evidence<'a> {
    pub server: IpAddr,
    pub first_ts: Timestamp,
    pub sni: Option<&'a str>,
    pub quic_sni: Option<&'a str>,
    /// Host headers of the flow's HTTP requests, in order.
    pub http_hosts: &'a [String],
    /// Names from the server's certificate: subject common name and subject alternative names.
    pub cert_names: &'a [String],
}

impl Default for Evidence<'_> {
    fn default() -> Self {
        Self {
            server: IpAddr::from([0, 0, 0, 0]),
            first_ts: Timestamp::default(),
            sni: None,
            quic_sni: None,
            http_hosts: &[],
            cert_names: &[],
        }
    }
}

/// The name given to a flow, and any disagreement between its sources.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Naming {
    pub name: Option<String>,
    pub source: NameSource,
    /// A different name the flow also claimed (an HTTP Host that differs from the SNI): the
    /// signature of domain fronting. Reported, never hidden.
    pub conflicts: Vec<Conflict>,
}

/// Two sources of one flow naming different servers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Conflict {
    pub source: NameSource,
    pub name: String,
}

impl Evidence<'_> {
    /// Names the flow; see the module documentation for the order of trust.
    pub fn name(&self, dns: &DnsCache) -> Naming {
        let hosts = self.http_hosts.iter().filter_map(|h| host_only(h));
        let candidates = [
            (NameSource::Sni, self.sni.and_then(clean)),
            (NameSource::QuicSni, self.quic_sni.and_then(clean)),
            (NameSource::HttpHost, hosts.clone().next()),
            (
                NameSource::Dns,
                dns.lookup(self.server, self.first_ts).and_then(clean),
            ),
            (
                NameSource::Cert,
                self.cert_names.iter().find_map(|n| clean(n)),
            ),
        ];
        let Some((source, name)) = candidates
            .iter()
            .find_map(|(s, n)| n.map(|n| (*s, n.to_string())))
        else {
            return Naming {
                name: None,
                source: NameSource::None,
                conflicts: Vec::new(),
            };
        };
        let mut conflicts = Vec::new();
        // Domain fronting shows as a TLS/QUIC name that differs from the HTTP Host inside.
        if matches!(source, NameSource::Sni | NameSource::QuicSni) {
            for host in hosts {
                let known = conflicts.iter().any(|c: &Conflict| c.name == host);
                if !host.eq_ignore_ascii_case(&name) && !known {
                    conflicts.push(Conflict {
                        source: NameSource::HttpHost,
                        name: host.to_string(),
                    });
                }
            }
        }
        Naming {
            name: Some(name),
            source,
            conflicts,
        }
    }
}

/// A usable name: trimmed of the root dot, not empty.
fn clean(name: &str) -> Option<&str> {
    let name = name.trim().trim_end_matches('.');
    (!name.is_empty()).then_some(name)
}

/// The host part of an HTTP Host header value (`host[:port]`, `[v6]:port`).
pub fn host_only(value: &str) -> Option<&str> {
    let value = value.trim();
    let host = if let Some(rest) = value.strip_prefix('[') {
        rest.split(']').next()?
    } else {
        match value.rsplit_once(':') {
            Some((h, port)) if !h.contains(':') && port.bytes().all(|b| b.is_ascii_digit()) => h,
            _ => value,
        }
    };
    clean(host)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(n: i64) -> Timestamp {
        Timestamp::from_nanos(n)
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn order_of_trust_is_sni_quic_host_dns_cert() {
        let mut dns = DnsCache::default();
        dns.insert(ts(1), ip("10.0.0.1"), "dns.example");
        let hosts = vec!["host.example:8080".to_string()];
        let certs = vec!["cert.example".to_string()];
        let full = Evidence {
            server: ip("10.0.0.1"),
            first_ts: ts(5),
            sni: Some("sni.example"),
            quic_sni: Some("quic.example"),
            http_hosts: &hosts,
            cert_names: &certs,
        };
        let cases: Vec<(Evidence<'_>, &str, NameSource)> = vec![
            (full.clone(), "sni.example", NameSource::Sni),
            (
                Evidence {
                    sni: None,
                    ..full.clone()
                },
                "quic.example",
                NameSource::QuicSni,
            ),
            (
                Evidence {
                    sni: None,
                    quic_sni: None,
                    ..full.clone()
                },
                "host.example",
                NameSource::HttpHost,
            ),
            (
                Evidence {
                    sni: None,
                    quic_sni: None,
                    http_hosts: &[],
                    ..full.clone()
                },
                "dns.example",
                NameSource::Dns,
            ),
            (
                Evidence {
                    sni: None,
                    quic_sni: None,
                    http_hosts: &[],
                    first_ts: ts(0),
                    ..full.clone()
                },
                "cert.example",
                NameSource::Cert,
            ),
        ];
        for (evidence, name, source) in cases {
            let naming = evidence.name(&dns);
            assert_eq!(naming.name.as_deref(), Some(name));
            assert_eq!(naming.source, source);
        }
    }

    #[test]
    fn dns_answer_after_the_flow_started_does_not_name_it() {
        let mut dns = DnsCache::default();
        dns.insert(ts(100), ip("192.0.2.7"), "late.example");
        let e = Evidence {
            server: ip("192.0.2.7"),
            first_ts: ts(50),
            ..Evidence::default()
        };
        let naming = e.name(&dns);
        assert_eq!(naming.name, None);
        assert_eq!(naming.source, NameSource::None);
    }

    #[test]
    fn latest_answer_before_the_flow_wins() {
        let mut dns = DnsCache::default();
        let a = ip("2001:db8::1");
        dns.insert(ts(30), a, "second.example.");
        dns.insert(ts(10), a, "first.example");
        dns.insert(ts(90), a, "third.example");
        assert_eq!(dns.lookup(a, ts(5)), None);
        assert_eq!(dns.lookup(a, ts(10)), Some("first.example"));
        assert_eq!(dns.lookup(a, ts(50)), Some("second.example"));
        assert_eq!(dns.lookup(a, ts(1000)), Some("third.example"));
    }

    #[test]
    fn sni_differing_from_http_host_is_a_conflict() {
        let dns = DnsCache::default();
        let hosts = vec![
            "hidden.example".to_string(),
            "front.example:443".to_string(),
        ];
        let e = Evidence {
            sni: Some("front.example"),
            http_hosts: &hosts,
            ..Evidence::default()
        };
        let naming = e.name(&dns);
        assert_eq!(naming.name.as_deref(), Some("front.example"));
        assert_eq!(
            naming.conflicts,
            vec![Conflict {
                source: NameSource::HttpHost,
                name: "hidden.example".into()
            }]
        );
    }

    #[test]
    fn cache_is_bounded_per_address_and_in_addresses() {
        let mut dns = DnsCache::new(2);
        let a = ip("192.0.2.1");
        for i in 0..(DnsCache::NAMES_PER_ADDR + 5) {
            dns.insert(ts(i as i64), a, &format!("n{i}.example"));
        }
        assert_eq!(dns.all_names(a).count(), DnsCache::NAMES_PER_ADDR);
        assert_eq!(dns.lookup(a, ts(1000)), Some("n36.example"));
        dns.insert(ts(1), ip("192.0.2.2"), "b.example");
        dns.insert(ts(1), ip("192.0.2.3"), "c.example");
        assert_eq!(dns.lookup(ip("192.0.2.3"), ts(5)), None);
        assert_eq!(dns.dropped(), 6);
    }

    #[test]
    fn host_only_strips_ports_and_brackets() {
        for (value, host) in [
            ("example.com", Some("example.com")),
            ("example.com:8080", Some("example.com")),
            ("[2001:db8::1]:80", Some("2001:db8::1")),
            ("2001:db8::1", Some("2001:db8::1")),
            ("  ", None),
            ("example.com.", Some("example.com")),
        ] {
            assert_eq!(host_only(value), host, "{value}");
        }
    }
}

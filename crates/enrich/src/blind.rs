//! Blind spots: flows whose content or destination the capture cannot reveal.
//!
//! An auditor must know what phonehome could *not* see: DNS that travels encrypted (DoH, DoT,
//! DoQ) hides every later name; Encrypted Client Hello hides the real server name behind an
//! outer one; and some flows carry no name at all.

use std::net::IpAddr;

/// Why part of the traffic stays opaque.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// DNS over HTTPS, TLS or QUIC: the names the device resolved are hidden.
    EncryptedDns,
    /// TLS Encrypted Client Hello: only the outer (public) name is visible.
    Ech,
    /// No SNI, Host, DNS answer or certificate named the server.
    Unnamed,
    /// TLS or QUIC that the key logs could not open: the content stays unseen.
    NotDecrypted,
    /// Encryption that is not TLS or QUIC (WeChat's MMTLS, a private cipher, a body inside
    /// decrypted HTTP that is itself encrypted): no key log can open it.
    OtherEncryption,
    /// The TLS handshake ended in a fatal alert, the typical sign of certificate pinning
    /// refusing an intercepting proxy: the app's real traffic did not flow.
    HandshakeFailed,
}

impl Kind {
    /// The stable report spelling.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::EncryptedDns => "encrypted-dns",
            Self::Ech => "ech",
            Self::Unnamed => "unnamed",
            Self::NotDecrypted => "not-decrypted",
            Self::OtherEncryption => "other-encryption",
            Self::HandshakeFailed => "handshake-failed",
        }
    }
}

/// One blind spot of one flow.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlindSpot {
    pub kind: Kind,
    pub detail: String,
}

/// What a flow showed that matters for blind spots.
#[derive(Clone, Debug, Default)]
pub struct Facts<'a> {
    /// "tcp", "udp", ...
    pub proto: &'a str,
    pub server: Option<IpAddr>,
    pub server_port: u16,
    /// TLS or QUIC server name.
    pub sni: Option<&'a str>,
    pub alpn: &'a [String],
    pub ech: bool,
    pub named: bool,
    /// The flow carried bytes of its own (a bare handshake or a scan is not worth naming).
    pub has_payload: bool,
    /// The application protocol found in the flow ("dns", "tls", ...).
    pub app_proto: Option<&'a str>,
    /// For TLS and QUIC flows that stayed encrypted: why.
    pub not_decrypted: Option<&'a str>,
    /// Fatal TLS alerts seen, as text (e.g. "fatal bad_certificate (42)").
    pub fatal_alerts: &'a [String],
    /// Bits per byte of the first bytes of a flow no parser understood (at least
    /// [`MIN_ENTROPY_SAMPLE`] bytes), if any.
    pub opaque_entropy: Option<f64>,
    /// DNS messages were read inside the flow's HTTP (DNS over HTTPS decrypted with a key
    /// log): the names it resolved are visible after all.
    pub dns_read: bool,
    /// HTTP messages of the flow that carry WeChat's MMTLS (`/mmtls/` paths) or bodies that
    /// look encrypted.
    pub encrypted_bodies: &'a [String],
}

/// Bytes needed before entropy means anything.
pub const MIN_ENTROPY_SAMPLE: usize = 64;
/// Above this many bits per byte, data is taken for ciphertext (or compressed data).
pub const HIGH_ENTROPY: f64 = 7.0;

/// Shannon entropy of `data` in bits per byte (0 to 8).
pub fn entropy(data: &[u8]) -> f64 {
    if data.is_empty() {
        return 0.0;
    }
    let mut counts = [0u32; 256];
    for &b in data {
        counts[usize::from(b)] += 1;
    }
    let n = data.len() as f64;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = f64::from(c) / n;
            -p * p.log2()
        })
        .sum()
}

/// Entropy a sample of `len` uniformly random bytes is expected to show at most: small
/// samples cannot reach 8 bits per byte.
fn entropy_threshold(len: usize) -> f64 {
    // With n < 256 samples the entropy is at most log2(n); ask for 85% of it.
    HIGH_ENTROPY.min((len as f64).log2() * 0.85)
}

/// Whether the first bytes of an unrecognised flow look like ciphertext.
pub fn looks_encrypted(data: &[u8]) -> Option<f64> {
    if data.len() < MIN_ENTROPY_SAMPLE {
        return None;
    }
    let e = entropy(data);
    (e >= entropy_threshold(data.len())).then_some(e)
}

/// Public resolvers that answer DNS over HTTPS, TLS or QUIC, by name.
const RESOLVER_NAMES: &[&str] = &[
    "dns.google",
    "dns.google.com",
    "8888.google",
    "dns64.dns.google",
    "cloudflare-dns.com",
    "one.one.one.one",
    "1dot1dot1dot1.cloudflare-dns.com",
    "dns.quad9.net",
    "dns9.quad9.net",
    "dns10.quad9.net",
    "dns11.quad9.net",
    "doh.opendns.com",
    "dns.opendns.com",
    "doh.familyshield.opendns.com",
    "dns.umbrella.com",
    "dns.adguard.com",
    "dns.adguard-dns.com",
    "dns-unfiltered.adguard.com",
    "dns.nextdns.io",
    "doh.pub",
    "dot.pub",
    "sm2.doh.pub",
    "dns.alidns.com",
    "doh.360.cn",
    "dot.360.cn",
    "doh.dns.apple.com",
    "dns.twnic.tw",
    "dns.controld.com",
    "freedns.controld.com",
    "doh.cleanbrowsing.org",
    "doh.mullvad.net",
    "dns.mullvad.net",
    "dns.sb",
    "doh.dns.sb",
    "odvr.nic.cz",
    "doh.xfinity.com",
    "dns.switch.ch",
    "doh.libredns.gr",
];

/// Public resolvers' anycast addresses; traffic to them on 443 is DNS over HTTPS.
const RESOLVER_ADDRS: &[&str] = &[
    "8.8.8.8",
    "8.8.4.4",
    "2001:4860:4860::8888",
    "2001:4860:4860::8844",
    "1.1.1.1",
    "1.0.0.1",
    "2606:4700:4700::1111",
    "2606:4700:4700::1001",
    "9.9.9.9",
    "149.112.112.112",
    "2620:fe::fe",
    "2620:fe::9",
    "208.67.222.222",
    "208.67.220.220",
    "94.140.14.14",
    "94.140.15.15",
    "223.5.5.5",
    "223.6.6.6",
    "2400:3200::1",
    "119.29.29.29",
    "1.12.12.12",
    "120.53.53.53",
    "101.101.101.101",
    "101.102.103.104",
    "185.222.222.222",
    "45.90.28.0",
    "45.90.30.0",
];

fn is_resolver_name(name: &str) -> bool {
    // Bytes, not `str` slices: a name from the wire may hold any character, and a suffix cut
    // inside one would panic.
    let name = name.trim_end_matches('.').as_bytes();
    RESOLVER_NAMES.iter().any(|r| {
        let r = r.as_bytes();
        name.eq_ignore_ascii_case(r)
            || (name.len() > r.len()
                && name[name.len() - r.len()..].eq_ignore_ascii_case(r)
                && name[name.len() - r.len() - 1] == b'.')
    })
}

fn is_resolver_addr(addr: IpAddr) -> bool {
    RESOLVER_ADDRS
        .iter()
        .any(|a| a.parse::<IpAddr>().is_ok_and(|r| r == addr))
}

/// Multicast or limited-broadcast addresses.
fn is_group(addr: IpAddr) -> bool {
    match addr {
        IpAddr::V4(a) => a.is_multicast() || a.is_broadcast(),
        IpAddr::V6(a) => a.is_multicast(),
    }
}

/// The blind spots of one flow.
pub fn classify(facts: &Facts<'_>) -> Vec<BlindSpot> {
    let mut spots = Vec::new();
    let alpn_is = |p: &str| facts.alpn.iter().any(|a| a == p);
    let encrypted_dns = if facts.server_port == 853 {
        Some(if facts.proto == "udp" {
            "DNS over QUIC (port 853)".to_string()
        } else {
            "DNS over TLS (port 853)".to_string()
        })
    } else if alpn_is("doq") || alpn_is("dot") {
        Some("DNS over QUIC or TLS (ALPN)".to_string())
    } else if facts.dns_read {
        None
    } else if let Some(name) = facts.sni.filter(|n| is_resolver_name(n)) {
        Some(format!("DNS over HTTPS to {name}"))
    } else if facts.server_port == 443 && facts.server.is_some_and(is_resolver_addr) {
        let addr = facts.server.map(|a| a.to_string()).unwrap_or_default();
        Some(format!("DNS over HTTPS to public resolver {addr}"))
    } else {
        None
    };
    if let Some(detail) = encrypted_dns {
        spots.push(BlindSpot {
            kind: Kind::EncryptedDns,
            detail,
        });
    }
    if facts.ech {
        let outer = facts.sni.unwrap_or("(none)");
        spots.push(BlindSpot {
            kind: Kind::Ech,
            detail: format!("Encrypted Client Hello: only the outer name {outer} is visible"),
        });
    }
    // A resolver or a multicast group is no hidden destination: what was said to it is in
    // the capture (DNS queries, mDNS, SSDP).
    let local_service = facts.app_proto == Some("dns") || facts.server.is_some_and(is_group);
    if !facts.named && facts.has_payload && !local_service {
        spots.push(BlindSpot {
            kind: Kind::Unnamed,
            detail: "no SNI, HTTP Host, earlier DNS answer or certificate names this server"
                .to_string(),
        });
    }
    if let Some(why) = facts.not_decrypted {
        spots.push(BlindSpot {
            kind: Kind::NotDecrypted,
            detail: why.to_string(),
        });
    }
    if let Some(alert) = facts.fatal_alerts.first() {
        spots.push(BlindSpot {
            kind: Kind::HandshakeFailed,
            detail: format!("TLS alert {alert}: a client refusing the server's certificate (pinning) or a server refusing the client"),
        });
    }
    if let Some(what) = facts.encrypted_bodies.first() {
        spots.push(BlindSpot {
            kind: Kind::OtherEncryption,
            detail: what.clone(),
        });
    } else if let Some(e) = facts.opaque_entropy.filter(|_| !local_service) {
        spots.push(BlindSpot {
            kind: Kind::OtherEncryption,
            detail: format!(
                "unrecognised protocol whose bytes look encrypted ({e:.1} bits per byte)"
            ),
        });
    }
    spots
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(f: &Facts<'_>) -> Vec<Kind> {
        classify(f).into_iter().map(|s| s.kind).collect()
    }

    #[test]
    fn resolver_names_with_any_character() {
        assert!(is_resolver_name("DNS.Google."));
        assert!(is_resolver_name("x.dns.google"));
        assert!(!is_resolver_name("xdns.google"));
        // A character of several bytes where a suffix would be cut, and around it.
        for name in [
            "upload.phone\u{fffd}ome.test",
            "\u{fffd}dns.google",
            "é.dns.google",
            "日本",
        ] {
            let _ = is_resolver_name(name);
        }
        assert!(is_resolver_name("é.dns.google"));
    }

    #[test]
    fn encrypted_dns_by_port_alpn_name_and_address() {
        let doq = vec!["doq".to_string()];
        let cases = [
            Facts {
                proto: "tcp",
                server_port: 853,
                named: true,
                ..Facts::default()
            },
            Facts {
                proto: "udp",
                server_port: 8853,
                alpn: &doq,
                named: true,
                ..Facts::default()
            },
            Facts {
                proto: "tcp",
                server_port: 443,
                sni: Some("mozilla.cloudflare-dns.com"),
                named: true,
                ..Facts::default()
            },
            Facts {
                proto: "tcp",
                server_port: 443,
                server: Some("1.1.1.1".parse().unwrap()),
                named: true,
                ..Facts::default()
            },
        ];
        for f in &cases {
            assert_eq!(kinds(f), vec![Kind::EncryptedDns], "{f:?}");
        }
        // Decrypted, with its DNS read: DNS over HTTPS hides nothing any more. DNS over TLS
        // and over QUIC are not read inside, so they stay blind spots.
        for f in &cases {
            let read = Facts {
                dns_read: true,
                ..f.clone()
            };
            let expected = if f.server_port == 853 || !f.alpn.is_empty() {
                vec![Kind::EncryptedDns]
            } else {
                vec![]
            };
            assert_eq!(kinds(&read), expected, "{read:?}");
        }
    }

    #[test]
    fn ordinary_flows_are_not_blind() {
        let f = Facts {
            proto: "tcp",
            server_port: 443,
            server: Some("93.184.216.34".parse().unwrap()),
            sni: Some("notcloudflare-dns.com"),
            named: true,
            has_payload: true,
            ..Facts::default()
        };
        assert!(classify(&f).is_empty());
    }

    #[test]
    fn entropy_tells_ciphertext_from_text() {
        let text = b"GET /index.html HTTP/1.1 Host: example.com User-Agent: phone/1.0 Accept: */*";
        assert!(looks_encrypted(text).is_none());
        // A keystream-like sequence: every byte value once, scrambled.
        let random: Vec<u8> = (0u32..256)
            .map(|i| (i.wrapping_mul(167) % 256) as u8)
            .collect();
        assert!(looks_encrypted(&random).unwrap() > 7.9);
        assert!(
            looks_encrypted(&random[..32]).is_none(),
            "too short to judge"
        );
        assert!(looks_encrypted(&random[..64]).is_some());
    }

    #[test]
    fn undecrypted_pinned_and_other_encryption() {
        let alerts = vec!["fatal bad_certificate (42)".to_string()];
        let bodies = vec!["WeChat MMTLS (POST /mmtls/0b3a1c2d)".to_string()];
        let f = Facts {
            proto: "tcp",
            server_port: 443,
            named: true,
            has_payload: true,
            app_proto: Some("tls"),
            not_decrypted: Some("no key log given (--keylog)"),
            fatal_alerts: &alerts,
            ..Facts::default()
        };
        assert_eq!(kinds(&f), vec![Kind::NotDecrypted, Kind::HandshakeFailed]);
        let f = Facts {
            proto: "tcp",
            server_port: 80,
            named: true,
            has_payload: true,
            app_proto: Some("http"),
            encrypted_bodies: &bodies,
            ..Facts::default()
        };
        assert_eq!(kinds(&f), vec![Kind::OtherEncryption]);
        let f = Facts {
            proto: "tcp",
            server_port: 8080,
            named: true,
            has_payload: true,
            opaque_entropy: Some(7.6),
            ..Facts::default()
        };
        assert_eq!(kinds(&f), vec![Kind::OtherEncryption]);
    }

    #[test]
    fn ech_and_unnamed() {
        let f = Facts {
            proto: "tcp",
            server_port: 443,
            sni: Some("cloudflare-ech.com"),
            ech: true,
            named: true,
            has_payload: true,
            ..Facts::default()
        };
        assert_eq!(kinds(&f), vec![Kind::Ech]);
        let f = Facts {
            proto: "udp",
            server_port: 3478,
            has_payload: true,
            ..Facts::default()
        };
        assert_eq!(kinds(&f), vec![Kind::Unnamed]);
        for (server, app) in [
            ("192.168.43.1", Some("dns")),
            ("239.255.255.250", Some("http")),
            ("255.255.255.255", None),
        ] {
            let f = Facts {
                proto: "udp",
                server: Some(server.parse().unwrap()),
                has_payload: true,
                app_proto: app,
                ..Facts::default()
            };
            assert!(classify(&f).is_empty(), "{server}");
        }
    }
}

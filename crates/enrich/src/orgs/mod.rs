//! Who runs a destination and whose law reaches it: host names to organisations, their
//! headquarters country, parent company and categories.
//!
//! # Data
//! The organisations are one TOML file, `data/orgs/orgs.toml`, compiled into the binary
//! ([`OrgDb::bundled`]); adding an organisation is adding one `[[org]]` entry. Each entry names
//! the operating company and the country of its headquarters (ISO 3166-1 alpha-2: the
//! jurisdiction whose courts and agencies can compel it), and, where another company ultimately
//! owns it, that parent and the parent's country too: TikTok Pte. Ltd. is in Singapore, ByteDance
//! Ltd. is in China, and both facts matter to a reader asking where data can end up.
//!
//! Domains are *registrable* domains, reduced with the Public Suffix List (the `psl` crate,
//! which compiles the list in): `weixin.qq.com` reduces to `qq.com`. A few entries are
//! suffixes from the list's private section that a company runs for its customers
//! (`cloudfront.net`, `firebaseapp.com`): every name under them belongs to some customer, but
//! the servers are the company's. Longer names can be listed explicitly (`hosts`) for a
//! sub-service; the longest listed suffix of a host wins.
//!
//! # Attribution order
//! [`OrgDb::attribute`] tries, in this order: the host name against the file, the TLS
//! certificate's subject organisation (O=), the organisation running the service recognised
//! from the traffic itself ([`crate::services`]), the organisation of the autonomous system
//! that announces the server's address. The result says which one answered
//! ([`Source`]). A certificate or AS organisation the file does not know is reported as written,
//! without a country: the file is the only place countries of organisations come from.
//!
//! # Contract
//! Lookups never panic and do not allocate for lower-case names: a host is split at its dots
//! and each suffix is looked up in a hash map. The bundled file is parsed once, at first use;
//! the crate's tests validate it (no duplicate domain, valid country codes, registrable names).
//!
//! ```
//! use phonehome_enrich::orgs::OrgDb;
//! let db = OrgDb::bundled();
//! let hit = db.lookup("dns.weixin.qq.com").unwrap();
//! assert_eq!(hit.org.name, "Tencent");
//! assert_eq!(hit.org.country, "CN");
//! assert_eq!(hit.matched_domain, "weixin.qq.com");
//! ```

use std::collections::HashMap;
use std::sync::OnceLock;

use serde::Deserialize;

/// The bundled organisations file.
pub const BUNDLED: &str = include_str!("../../../../data/orgs/orgs.toml");

/// The categories an organisation may carry. Kept closed so that reports can be grouped by them.
pub const CATEGORIES: &[&str] = &[
    "vendor-telemetry",
    "os-services",
    "analytics",
    "advertising",
    "attribution",
    "crash-reporting",
    "messaging",
    "push",
    "social",
    "cloud",
    "cdn",
    "payments",
    "ecommerce",
    "search",
    "maps",
    "video",
    "music",
    "gaming",
    "news",
    "travel",
    "ride-hailing",
    "telecom",
    "security",
    "vpn",
    "email",
    "productivity",
    "developer",
    "hardware",
    "ai",
];

/// Why an organisations file was rejected.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OrgError {
    /// The TOML did not parse or does not have the expected shape.
    #[error("organisations file: {0}")]
    Parse(String),
    /// An entry is inconsistent (duplicate domain, bad country code, unknown category, ...).
    #[error("organisation {org:?}: {problem}")]
    Invalid {
        /// The entry's name.
        org: String,
        /// What is wrong with it.
        problem: String,
    },
}

/// One organisation.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Org {
    /// The operating company's usual name.
    pub name: String,
    /// ISO 3166-1 alpha-2 code of its headquarters.
    pub country: String,
    /// The company that ultimately owns it, when another one does.
    #[serde(default)]
    pub parent: Option<String>,
    /// The parent's headquarters country.
    #[serde(default)]
    pub parent_country: Option<String>,
    /// What it does, from [`CATEGORIES`].
    pub categories: Vec<String>,
    /// Registrable domains (or private public suffixes) it runs.
    #[serde(default)]
    pub domains: Vec<String>,
    /// Longer names, under someone's registrable domain, that belong to it.
    #[serde(default)]
    pub hosts: Vec<String>,
    /// Autonomous systems it owns.
    #[serde(default)]
    pub asns: Vec<u32>,
    /// Its autonomous systems that are content delivery or anycast networks: an address there
    /// may serve any customer, and its registered country says little about where data goes.
    #[serde(default)]
    pub cdn_asns: Vec<u32>,
    /// It is a CDN operator: names under its domains are customers' content on its edge.
    #[serde(default)]
    pub cdn: bool,
    /// Spellings of its name in certificate subjects (O=) and AS registrations, compared
    /// case-insensitively, beside `name` itself.
    #[serde(default)]
    pub aliases: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    org: Vec<Org>,
}

/// A host name's organisation and the listed name that matched.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OrgMatch<'a> {
    /// The organisation.
    pub org: &'a Org,
    /// The entry that matched: a registrable domain or a longer listed host.
    pub matched_domain: &'a str,
}

/// Which evidence named a destination's organisation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Source {
    /// The host name is in the organisations file.
    Domain,
    /// The server certificate's subject organisation.
    Cert,
    /// The organisation running the service recognised from the traffic itself (first bytes,
    /// fingerprints, address prefixes): Xiaomi's push protocol on an AWS address is Xiaomi's.
    Service,
    /// The organisation of the AS announcing the address.
    Asn,
    /// Nothing.
    #[default]
    None,
}

impl Source {
    /// The name used in reports.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Domain => "domain",
            Self::Cert => "cert",
            Self::Service => "service",
            Self::Asn => "asn",
            Self::None => "none",
        }
    }
}

/// What is known about a destination's owner.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Attribution<'a> {
    /// The organisation's name (from the file, or as the certificate or AS spells it).
    pub org: Option<&'a str>,
    /// Its headquarters country, when the file knows the organisation.
    pub org_country: Option<&'a str>,
    /// The parent company and its country.
    pub parent: Option<&'a str>,
    pub parent_country: Option<&'a str>,
    /// The file's entry, when there is one.
    pub entry: Option<&'a Org>,
    /// Which evidence answered.
    pub source: Source,
    /// The address is on a CDN or anycast network, or the name is a CDN's.
    pub cdn: bool,
}

/// The evidence [`OrgDb::attribute`] weighs.
#[derive(Clone, Copy, Debug, Default)]
pub struct Clues<'a> {
    /// The flow's server name.
    pub host: Option<&'a str>,
    /// The leaf certificate's subject O=.
    pub cert_org: Option<&'a str>,
    /// The organisation of the service recognised in the flow, as the file names it.
    pub service_org: Option<&'a str>,
    /// The AS announcing the server's address, and its organisation's name.
    pub asn: Option<u32>,
    pub as_org: Option<&'a str>,
}

/// The organisations, indexed by domain, AS number and name.
#[derive(Debug, Default)]
pub struct OrgDb {
    orgs: Vec<Org>,
    by_domain: HashMap<String, usize>,
    by_asn: HashMap<u32, usize>,
    cdn_asns: HashMap<u32, usize>,
    by_name: HashMap<String, usize>,
}

impl OrgDb {
    /// The organisations compiled into the binary, parsed at the first call.
    ///
    /// # Panics
    /// Only if the bundled file is invalid, which this crate's tests rule out.
    #[must_use]
    pub fn bundled() -> &'static Self {
        static DB: OnceLock<OrgDb> = OnceLock::new();
        // The bundled file is validated by the tests below; failing here is a build defect.
        DB.get_or_init(|| Self::from_toml(BUNDLED).expect("the bundled orgs.toml is valid"))
    }

    /// Parses and validates an organisations file.
    pub fn from_toml(text: &str) -> Result<Self, OrgError> {
        let file: File = toml::from_str(text).map_err(|e| OrgError::Parse(e.to_string()))?;
        let mut db = Self::default();
        for (i, org) in file.org.iter().enumerate() {
            let invalid = |problem: String| OrgError::Invalid {
                org: org.name.clone(),
                problem,
            };
            validate(org).map_err(invalid)?;
            for d in org.domains.iter().chain(&org.hosts) {
                if let Some(&other) = db.by_domain.get(d) {
                    return Err(invalid(format!(
                        "domain {d} is also listed for {}",
                        file.org[other].name
                    )));
                }
                db.by_domain.insert(d.clone(), i);
            }
            for &asn in org.asns.iter().chain(&org.cdn_asns) {
                if let Some(&other) = db.by_asn.get(&asn) {
                    if other != i {
                        return Err(invalid(format!(
                            "AS{asn} is also listed for {}",
                            file.org[other].name
                        )));
                    }
                }
                db.by_asn.insert(asn, i);
            }
            for &asn in &org.cdn_asns {
                db.cdn_asns.insert(asn, i);
            }
            for name in std::iter::once(&org.name).chain(&org.aliases) {
                let key = name_key(name);
                if let Some(&other) = db.by_name.get(&key) {
                    if other != i {
                        return Err(invalid(format!(
                            "name {name} is also used by {}",
                            file.org[other].name
                        )));
                    }
                }
                db.by_name.insert(key, i);
            }
        }
        for (i, org) in file.org.iter().enumerate() {
            // A parent named in the file must agree with the file about its country. (A
            // parent whose name reduces to the child's, "Coupang Inc" above "Coupang Corp",
            // is another legal entity of the same group, not an entry of the file.)
            if let Some(parent) = org.parent.as_deref() {
                if let Some(&p) = db.by_name.get(&name_key(parent)).filter(|&&p| p != i) {
                    let pc = &file.org[p].country;
                    if org.parent_country.as_deref() != Some(pc.as_str()) {
                        return Err(OrgError::Invalid {
                            org: org.name.clone(),
                            problem: format!("parent {parent} is in {pc}"),
                        });
                    }
                }
            }
        }
        db.orgs = file.org;
        Ok(db)
    }

    /// Every organisation, in file order.
    #[must_use]
    pub fn orgs(&self) -> &[Org] {
        &self.orgs
    }

    /// The organisation of a host name: the longest listed suffix of `host` (at a dot
    /// boundary). IP literals and unknown names give `None`. Case and a trailing dot are
    /// ignored.
    #[must_use]
    pub fn lookup(&self, host: &str) -> Option<OrgMatch<'_>> {
        let host = host.strip_suffix('.').unwrap_or(host);
        if host.is_empty() || host.parse::<std::net::IpAddr>().is_ok() {
            return None;
        }
        let lower;
        let host = if host.bytes().any(|b| b.is_ascii_uppercase()) {
            lower = host.to_ascii_lowercase();
            lower.as_str()
        } else {
            host
        };
        let mut rest = host;
        loop {
            if let Some((key, &i)) = self.by_domain.get_key_value(rest) {
                return Some(OrgMatch {
                    org: &self.orgs[i],
                    matched_domain: key,
                });
            }
            rest = rest.split_once('.')?.1;
        }
    }

    /// The organisation owning an autonomous system.
    #[must_use]
    pub fn by_asn(&self, asn: u32) -> Option<&Org> {
        self.by_asn.get(&asn).map(|&i| &self.orgs[i])
    }

    /// The organisation a certificate or AS registration names, by its name or an alias
    /// (case, punctuation and company suffixes such as "Inc." or "Co., Ltd." ignored).
    #[must_use]
    pub fn by_name(&self, name: &str) -> Option<&Org> {
        self.by_name.get(&name_key(name)).map(|&i| &self.orgs[i])
    }

    /// Whether an AS is a CDN or anycast network.
    #[must_use]
    pub fn is_cdn_asn(&self, asn: u32) -> bool {
        self.cdn_asns.contains_key(&asn)
    }

    /// Who runs a destination, from the best evidence available: the host name, then the
    /// certificate's organisation, then the AS's.
    #[must_use]
    pub fn attribute<'a>(&'a self, clues: &Clues<'a>) -> Attribution<'a> {
        let cdn_as = clues.asn.is_some_and(|a| self.is_cdn_asn(a));
        let known = |org: &'a Org, source: Source| Attribution {
            org: Some(org.name.as_str()),
            org_country: Some(org.country.as_str()),
            parent: org.parent.as_deref(),
            parent_country: org.parent_country.as_deref(),
            entry: Some(org),
            source,
            cdn: cdn_as || org.cdn,
        };
        if let Some(hit) = clues.host.and_then(|h| self.lookup(h)) {
            return known(hit.org, Source::Domain);
        }
        if let Some(cert_org) = clues.cert_org.filter(|o| !o.trim().is_empty()) {
            return match self.by_name(cert_org) {
                Some(org) => known(org, Source::Cert),
                None => Attribution {
                    org: Some(cert_org),
                    source: Source::Cert,
                    cdn: cdn_as,
                    ..Attribution::default()
                },
            };
        }
        if let Some(org) = clues.service_org.and_then(|o| self.by_name(o)) {
            return known(org, Source::Service);
        }
        if let Some(org) = clues.asn.and_then(|a| self.by_asn(a)) {
            return known(org, Source::Asn);
        }
        if let Some(as_org) = clues.as_org.filter(|o| !o.trim().is_empty()) {
            return match self.by_name(as_org) {
                Some(org) => known(org, Source::Asn),
                None => Attribution {
                    org: Some(as_org),
                    source: Source::Asn,
                    cdn: cdn_as,
                    ..Attribution::default()
                },
            };
        }
        Attribution {
            cdn: cdn_as,
            ..Attribution::default()
        }
    }
}

/// The registrable domain of a host name by the Public Suffix List (ICANN and private
/// sections), or `None` for IP literals, bare suffixes and names under no known suffix.
#[must_use]
pub fn registrable(host: &str) -> Option<&str> {
    let host = host.strip_suffix('.').unwrap_or(host);
    if host.parse::<std::net::IpAddr>().is_ok() {
        return None;
    }
    let suffix = psl::suffix(host.as_bytes())?;
    if !suffix.is_known() {
        return None;
    }
    psl::domain_str(host)
}

/// A name reduced for comparison: lower case, letters and digits only, common company-form
/// words dropped ("Google LLC" and "google, llc." meet).
fn name_key(name: &str) -> String {
    const FORMS: &[&str] = &[
        "inc",
        "llc",
        "ltd",
        "limited",
        "co",
        "corp",
        "corporation",
        "company",
        "gmbh",
        "ag",
        "sa",
        "bv",
        "pte",
        "plc",
        "kk",
        "oy",
        "ab",
        "as",
        "srl",
        "the",
    ];
    let lower = name.to_lowercase();
    let words: Vec<&str> = lower
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty() && !FORMS.contains(w))
        .collect();
    words.join(" ")
}

fn valid_country(c: &str) -> bool {
    is_country_code(c)
}

/// Whether `c` is an assigned ISO 3166-1 alpha-2 code (upper case), or Kosovo's "XK".
pub fn is_country_code(c: &str) -> bool {
    c.len() == 2 && c.bytes().all(|b| b.is_ascii_uppercase()) && ISO_3166.contains(&c)
}

fn validate(org: &Org) -> Result<(), String> {
    if org.name.trim().is_empty() {
        return Err("empty name".into());
    }
    if !valid_country(&org.country) {
        return Err(format!("{} is not an ISO 3166-1 alpha-2 code", org.country));
    }
    match (&org.parent, &org.parent_country) {
        (Some(_), Some(c)) if !valid_country(c) => {
            return Err(format!("{c} is not an ISO 3166-1 alpha-2 code"))
        }
        (Some(_), None) => return Err("parent without parent_country".into()),
        (None, Some(_)) => return Err("parent_country without parent".into()),
        _ => {}
    }
    if org.categories.is_empty() {
        return Err("no category".into());
    }
    for c in &org.categories {
        if !CATEGORIES.contains(&c.as_str()) {
            return Err(format!("unknown category {c}"));
        }
    }
    if org.domains.is_empty() && org.hosts.is_empty() && org.asns.is_empty() {
        return Err("neither domains, hosts nor AS numbers".into());
    }
    for d in &org.domains {
        if d.bytes().any(|b| b.is_ascii_uppercase()) {
            return Err(format!("domain {d} is not lower case"));
        }
        let is_registrable = registrable(d) == Some(d.as_str());
        // A private-section suffix run by the company itself (cloudfront.net).
        let is_private_suffix = psl::suffix(d.as_bytes())
            .is_some_and(|s| s.as_bytes() == d.as_bytes() && s.typ() == Some(psl::Type::Private));
        if !is_registrable && !is_private_suffix {
            return Err(format!(
                "domain {d} is not a registrable domain (it reduces to {:?})",
                registrable(d)
            ));
        }
    }
    for h in &org.hosts {
        if h.bytes().any(|b| b.is_ascii_uppercase()) {
            return Err(format!("host {h} is not lower case"));
        }
        match registrable(h) {
            Some(r) if r != h => {}
            _ => return Err(format!("host {h} is not longer than a registrable domain")),
        }
    }
    Ok(())
}

/// ISO 3166-1 alpha-2 codes officially assigned (ISO 3166 Maintenance Agency), plus "XK"
/// (Kosovo, user-assigned but used by the registries).
const ISO_3166: &[&str] = &[
    "AD", "AE", "AF", "AG", "AI", "AL", "AM", "AO", "AQ", "AR", "AS", "AT", "AU", "AW", "AX", "AZ",
    "BA", "BB", "BD", "BE", "BF", "BG", "BH", "BI", "BJ", "BL", "BM", "BN", "BO", "BQ", "BR", "BS",
    "BT", "BV", "BW", "BY", "BZ", "CA", "CC", "CD", "CF", "CG", "CH", "CI", "CK", "CL", "CM", "CN",
    "CO", "CR", "CU", "CV", "CW", "CX", "CY", "CZ", "DE", "DJ", "DK", "DM", "DO", "DZ", "EC", "EE",
    "EG", "EH", "ER", "ES", "ET", "FI", "FJ", "FK", "FM", "FO", "FR", "GA", "GB", "GD", "GE", "GF",
    "GG", "GH", "GI", "GL", "GM", "GN", "GP", "GQ", "GR", "GS", "GT", "GU", "GW", "GY", "HK", "HM",
    "HN", "HR", "HT", "HU", "ID", "IE", "IL", "IM", "IN", "IO", "IQ", "IR", "IS", "IT", "JE", "JM",
    "JO", "JP", "KE", "KG", "KH", "KI", "KM", "KN", "KP", "KR", "KW", "KY", "KZ", "LA", "LB", "LC",
    "LI", "LK", "LR", "LS", "LT", "LU", "LV", "LY", "MA", "MC", "MD", "ME", "MF", "MG", "MH", "MK",
    "ML", "MM", "MN", "MO", "MP", "MQ", "MR", "MS", "MT", "MU", "MV", "MW", "MX", "MY", "MZ", "NA",
    "NC", "NE", "NF", "NG", "NI", "NL", "NO", "NP", "NR", "NU", "NZ", "OM", "PA", "PE", "PF", "PG",
    "PH", "PK", "PL", "PM", "PN", "PR", "PS", "PT", "PW", "PY", "QA", "RE", "RO", "RS", "RU", "RW",
    "SA", "SB", "SC", "SD", "SE", "SG", "SH", "SI", "SJ", "SK", "SL", "SM", "SN", "SO", "SR", "SS",
    "ST", "SV", "SX", "SY", "SZ", "TC", "TD", "TF", "TG", "TH", "TJ", "TK", "TL", "TM", "TN", "TO",
    "TR", "TT", "TV", "TW", "TZ", "UA", "UG", "UM", "US", "UY", "UZ", "VA", "VC", "VE", "VG", "VI",
    "VN", "VU", "WF", "WS", "XK", "YE", "YT", "ZA", "ZM", "ZW",
];

#[cfg(test)]
mod tests;

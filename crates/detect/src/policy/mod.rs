//! The decision: does what the phone sent break the lab's policy?
//!
//! A test ends in a yes or a no: "does this phone send users' data to servers under a foreign
//! jurisdiction?". A policy is a TOML file of rules (format reference: `docs/policy.md`); each
//! rule says `when` a finding or a flow breaks it, `unless` which exceptions excuse it, and how
//! severe a break is. [`evaluate`] judges a list of [`Subject`]s (the run's findings and flows,
//! described with plain strings so this module does not depend on the report model) and returns
//! [`Violation`]s: one per rule and destination, grouping every subject that triggered it, so a
//! value sent on every request is one violation, not thousands.
//!
//! # What a rule judges
//! A `when` clause that speaks of personal data (`data`, `confidence` or `direction`) judges
//! findings; a clause without them judges flows, which is how a rule bans a service or app
//! outright, personal data or not. A rule may hold several clauses (`[[rule.when]]`): any one
//! of them is enough. Inside a clause every condition must hold, and a list means any of its
//! values.
//!
//! # Jurisdiction
//! Countries are ISO 3166-1 alpha-2 codes. `"home"` is the lab's jurisdiction (the policy's
//! `home`, replaced by the caller's when given), `"abroad"` is any known country that is not
//! home, `"unknown"` matches a subject whose country is not known. Unknown is never abroad: a
//! strict policy lists `["abroad", "unknown"]` to fail closed. A policy that speaks of home
//! without one is refused at evaluation ([`PolicyError::NoHome`]) rather than judged as if no
//! country were foreign.
//!
//! # Strictness
//! A policy decides pass or fail, so a typo must never weaken it silently: an unknown key, data
//! type, country code or enumerated value is an error naming the file, line and key (with the
//! nearest known spelling). Only the `[notes]` table is free-form.
//!
//! # Bounds
//! Policy text is the user's; subjects are the run's. Memory is bounded by the number of rules
//! times distinct destinations; each violation lists at most [`MAX_TRIGGERS`] findings and
//! flows, and counts the rest in [`Violation::omitted`]. Nothing here panics on either input.
//!
//! ```
//! use phonehome_detect::policy::{evaluate, Encryption, Policy, Subject, SubjectKind};
//!
//! let (policy, _warnings) = Policy::parse(
//!     "home = \"TW\"\n\
//!      [[rule]]\n\
//!      id = \"pii-abroad\"\n\
//!      severity = \"critical\"\n\
//!      when = { data = \"any\", owner_country = \"abroad\" }\n",
//!     "lab.toml",
//! )?;
//! let imei = Subject {
//!     kind: SubjectKind::Finding,
//!     index: 0,
//!     flow: Some(7),
//!     data_type: Some("imei"),
//!     org: Some("Xiaomi"),
//!     org_country: Some("CN"),
//!     server_name: Some("data.mistat.xiaomi.com"),
//!     encryption: Encryption::Decrypted,
//!     ..Subject::default()
//! };
//! let violations = evaluate(&policy, None, &[imei])?;
//! assert_eq!(violations.len(), 1);
//! assert_eq!(violations[0].flows, [7]);
//! assert!(violations[0].message.starts_with("IMEI sent to Xiaomi (CN) data.mistat.xiaomi.com"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fmt;

mod eval;
mod glob;
mod parse;

pub use eval::evaluate;

use glob::Glob;

/// Findings (and flows) listed per violation; the rest are counted in [`Violation::omitted`].
pub const MAX_TRIGGERS: usize = 10_000;
/// Rules one policy may hold.
pub const MAX_RULES: usize = 10_000;

/// The presets: ordinary policy files shipped in `data/policies/`, compiled in.
const PRESETS: &[(&str, &str)] = &[
    (
        "no-pii-abroad",
        include_str!("../../../../data/policies/no-pii-abroad.toml"),
    ),
    (
        "gov-network",
        include_str!("../../../../data/policies/gov-network.toml"),
    ),
    (
        "cleartext",
        include_str!("../../../../data/policies/cleartext.toml"),
    ),
    (
        "strict",
        include_str!("../../../../data/policies/strict.toml"),
    ),
];

/// How bad a violation is. Orders from [`Severity::Low`] to [`Severity::Critical`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Severity {
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub const ALL: [Self; 4] = [Self::Critical, Self::High, Self::Medium, Self::Low];

    /// The name used in policies and reports.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Low => "low",
            Self::Medium => "medium",
            Self::High => "high",
            Self::Critical => "critical",
        }
    }

    fn from_name(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether the bytes a subject travelled in were readable on the wire.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum Encryption {
    /// Not known (a protocol phonehome does not recognise).
    #[default]
    Unknown,
    /// Readable by anyone on the path (HTTP, plain DNS, ...).
    Cleartext,
    /// Encrypted and not decrypted: what was inside is not known.
    Encrypted,
    /// Encrypted on the wire, decrypted with a key log.
    Decrypted,
}

impl Encryption {
    const ALL: [Self; 4] = [
        Self::Unknown,
        Self::Cleartext,
        Self::Encrypted,
        Self::Decrypted,
    ];

    /// The name used in policies.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Unknown => "unknown",
            Self::Cleartext => "cleartext",
            Self::Encrypted => "encrypted",
            Self::Decrypted => "decrypted",
        }
    }
}

/// What a [`Subject`] stands for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum SubjectKind {
    /// A flow, judged by rules whose clauses do not speak of personal data.
    #[default]
    Flow,
    /// A personal-data finding, judged by rules whose clauses do.
    Finding,
}

/// One finding or flow to judge, described by the strings the report shows.
///
/// Missing facts are `None`; a condition on a missing fact does not hold (except the
/// `"unknown"` country and encryption values, which match exactly that).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Subject<'a> {
    pub kind: SubjectKind,
    /// The caller's index of the subject (a finding's index in the report), returned in
    /// [`Violation::findings`].
    pub index: usize,
    /// The flow's id (for a finding: the flow it was found in).
    pub flow: Option<u64>,
    /// `imei`, `imsi`, `iccid`, `phone`, `serial`, `android_id`, `advertising_id`, `mac`,
    /// `email`, `name`, `contact_name`, `contact_phone`, `sms`, `location`, `secret`, or
    /// another detector's type (matched by the `any` and `other` groups only).
    pub data_type: Option<&'a str>,
    /// `low`, `medium` or `high`.
    pub confidence: Option<&'a str>,
    /// `client_to_server` or `server_to_client`.
    pub direction: Option<&'a str>,
    pub service: Option<&'a str>,
    pub app: Option<&'a str>,
    pub org: Option<&'a str>,
    pub org_country: Option<&'a str>,
    pub parent_org: Option<&'a str>,
    pub parent_country: Option<&'a str>,
    pub server_country: Option<&'a str>,
    pub server_name: Option<&'a str>,
    /// The server's address, naming the destination when there is no server name.
    pub server: Option<&'a str>,
    pub encryption: Encryption,
    /// The flow's payload bytes, client to server and back.
    pub bytes_up: u64,
    pub bytes_down: u64,
}

/// One rule broken at one destination, with every subject that broke it there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// The rule's id.
    pub rule: String,
    pub severity: Severity,
    /// One line for people: what went where, and why that breaks the rule.
    pub message: String,
    /// [`Subject::index`] of the findings that triggered it, ascending.
    pub findings: Vec<usize>,
    /// Ids of the flows that triggered it (and of the flows those findings were in), ascending.
    pub flows: Vec<u64>,
    /// Findings and flows left out of the lists above by [`MAX_TRIGGERS`].
    pub omitted: u64,
    /// The server name (or address) the grouping is by, when known.
    pub destination: Option<String>,
    pub service: Option<String>,
    pub org: Option<String>,
    pub org_country: Option<String>,
    pub parent_org: Option<String>,
    pub parent_country: Option<String>,
    pub server_country: Option<String>,
    /// The data types of the triggering findings, in the order of `docs/policy.md`.
    pub data_types: Vec<String>,
}

/// A policy that could not be read or applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyError {
    /// The text is not valid TOML.
    #[error("{source_name}:{line}: not valid TOML: {message}")]
    Syntax {
        source_name: String,
        line: usize,
        message: String,
    },
    /// The TOML is valid but a key is unknown, missing, or holds a value the policy format
    /// does not allow.
    #[error("{source_name}:{line}: {key}: {message}")]
    Key {
        source_name: String,
        line: usize,
        key: String,
        message: String,
    },
    /// The policy compares countries with home and none was given.
    #[error(
        "policy {policy} compares countries with home (\"home\" or \"abroad\") but no home \
         jurisdiction is set: set home = \"CC\" in the policy or give one (--home CC)"
    )]
    NoHome { policy: String },
    /// The home the caller gave is not a country code.
    #[error("home {value:?}: {message}")]
    Home { value: String, message: String },
}

/// One rule of a policy.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    pub id: String,
    pub severity: Severity,
    pub description: Option<String>,
    /// The line of its `[[rule]]` header.
    pub line: usize,
    when: Vec<Clause>,
    unless: Vec<Clause>,
}

/// A policy-wide exception (`[[allow]]`).
#[derive(Debug, Clone, PartialEq)]
struct Allow {
    reason: Option<String>,
    /// Rule ids it excuses; empty for every rule.
    rules: Vec<String>,
    clause: Clause,
}

/// A country value in a condition.
#[derive(Debug, Clone, PartialEq, Eq)]
enum CountrySpec {
    /// An upper-case ISO 3166-1 alpha-2 code.
    Code(String),
    Home,
    Abroad,
    Unknown,
}

/// A set of data types: bit `i` is `DATA_TYPES[i]`, [`OTHER`] any other type.
type DataSet = u32;

/// Conditions that must all hold. `None` is no condition.
#[derive(Debug, Clone, Default, PartialEq)]
struct Clause {
    /// The line of the table holding it, for messages.
    line: usize,
    data: Option<DataSet>,
    confidence: Option<u8>,
    direction: Option<Vec<&'static str>>,
    service: Option<Vec<Glob>>,
    app: Option<Vec<Glob>>,
    org: Option<Vec<Glob>>,
    server_name: Option<Vec<Glob>>,
    org_country: Option<Vec<CountrySpec>>,
    parent_country: Option<Vec<CountrySpec>>,
    owner_country: Option<Vec<CountrySpec>>,
    server_country: Option<Vec<CountrySpec>>,
    country: Option<Vec<CountrySpec>>,
    encryption: Option<Vec<Encryption>>,
    bytes_up_min: Option<u64>,
    bytes_up_max: Option<u64>,
    bytes_down_min: Option<u64>,
    bytes_down_max: Option<u64>,
}

impl Clause {
    /// A clause speaking of personal data judges findings; any other judges flows.
    fn judges(&self) -> SubjectKind {
        if self.data.is_some() || self.confidence.is_some() || self.direction.is_some() {
            SubjectKind::Finding
        } else {
            SubjectKind::Flow
        }
    }

    fn countries(&self) -> impl Iterator<Item = &CountrySpec> {
        [
            &self.org_country,
            &self.parent_country,
            &self.owner_country,
            &self.server_country,
            &self.country,
        ]
        .into_iter()
        .flatten()
        .flatten()
    }

    fn uses_home(&self) -> bool {
        self.countries()
            .any(|c| matches!(c, CountrySpec::Home | CountrySpec::Abroad))
    }
}

/// The data types the profile knows, in report order; a [`DataSet`] bit each.
const DATA_TYPES: [&str; 15] = [
    "imei",
    "imsi",
    "iccid",
    "phone",
    "serial",
    "android_id",
    "advertising_id",
    "mac",
    "email",
    "name",
    "contact_name",
    "contact_phone",
    "sms",
    "location",
    "secret",
];

/// The bit for data types other detectors report.
const OTHER: DataSet = 1 << DATA_TYPES.len();

/// Named groups of data types.
const GROUPS: &[(&str, &[&str])] = &[
    (
        "identifiers",
        &[
            "imei",
            "imsi",
            "iccid",
            "phone",
            "serial",
            "android_id",
            "advertising_id",
            "mac",
        ],
    ),
    (
        "device_ids",
        &[
            "imei",
            "imsi",
            "iccid",
            "serial",
            "android_id",
            "advertising_id",
            "mac",
        ],
    ),
    ("owner", &["name", "email", "phone"]),
    ("contacts", &["contact_name", "contact_phone"]),
];

fn data_bit(name: &str) -> DataSet {
    DATA_TYPES
        .iter()
        .position(|&t| t == name)
        .map_or(OTHER, |i| 1 << i)
}

/// A parsed policy.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    name: String,
    source: String,
    description: Option<String>,
    home: Vec<String>,
    rules: Vec<Rule>,
    allow: Vec<Allow>,
    /// Service names written without wildcards, with their lines, for [`Policy::unknown_services`].
    service_names: Vec<(String, usize)>,
}

impl Policy {
    /// Parses a policy. `source_name` names it in messages, and is its name unless the file
    /// sets `name`. Returns the policy and warnings (conditions that can never hold).
    pub fn parse(text: &str, source_name: &str) -> Result<(Self, Vec<String>), PolicyError> {
        parse::parse(text, source_name)
    }

    /// A preset by name (see [`Policy::preset_names`]).
    pub fn preset(name: &str) -> Option<Self> {
        let text = Self::preset_text(name)?;
        // The presets are checked by this module's tests; a broken one reads as absent.
        parse::parse(text, &format!("{name}.toml"))
            .ok()
            .map(|(p, _)| p)
    }

    /// A preset's file, as shipped in `data/policies/` (to show, copy or hash it).
    pub fn preset_text(name: &str) -> Option<&'static str> {
        PRESETS.iter().find(|(n, _)| *n == name).map(|(_, t)| *t)
    }

    pub fn preset_names() -> impl Iterator<Item = &'static str> {
        PRESETS.iter().map(|(n, _)| *n)
    }

    /// The policy's name: its `name` key, or the source it was read from.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Where it was read from (a file name).
    pub fn source(&self) -> &str {
        &self.source
    }

    pub fn description(&self) -> Option<&str> {
        self.description.as_deref()
    }

    /// The policy's own home jurisdiction (`"TW"`, or `"DE,FR"` for several), if it sets one.
    pub fn home(&self) -> Option<String> {
        (!self.home.is_empty()).then(|| self.home.join(","))
    }

    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// True when some condition says `"home"` or `"abroad"`, so a home is required.
    pub fn uses_home(&self) -> bool {
        self.rules
            .iter()
            .flat_map(|r| r.when.iter().chain(&r.unless))
            .chain(self.allow.iter().map(|a| &a.clause))
            .any(Clause::uses_home)
    }

    /// The home the policy is judged against: the caller's (`"TW"`, `"de,fr"`) when given,
    /// else the policy's. Errors when the caller's is not a country code, or when the policy
    /// needs a home and has none.
    pub fn effective_home(&self, home: Option<&str>) -> Result<Option<String>, PolicyError> {
        Ok(self.home_list(home)?.map(|h| h.join(",")))
    }

    fn home_list(&self, home: Option<&str>) -> Result<Option<Vec<String>>, PolicyError> {
        let list = match home {
            Some(value) => Some(parse_home_arg(value)?),
            None if self.home.is_empty() => None,
            None => Some(self.home.clone()),
        };
        if list.is_none() && self.uses_home() {
            return Err(PolicyError::NoHome {
                policy: self.name.clone(),
            });
        }
        Ok(list)
    }

    /// Warnings for service names (written without wildcards) that `known` does not
    /// recognise: such a condition can never hold. Pass the names the service table knows.
    pub fn unknown_services(&self, known: impl Fn(&str) -> bool) -> Vec<String> {
        self.service_names
            .iter()
            .filter(|(name, _)| !known(name))
            .map(|(name, line)| {
                format!(
                    "{}:{line}: service {name:?} is not a service phonehome recognises; \
                     this condition never holds",
                    self.source
                )
            })
            .collect()
    }
}

/// Parses a caller's home: one code or several separated by commas.
fn parse_home_arg(value: &str) -> Result<Vec<String>, PolicyError> {
    let mut out = Vec::new();
    for part in value.split(',') {
        match country_code(part.trim()) {
            Ok(c) => {
                if !out.contains(&c) {
                    out.push(c);
                }
            }
            Err(message) => {
                return Err(PolicyError::Home {
                    value: value.to_owned(),
                    message,
                })
            }
        }
    }
    Ok(out)
}

/// Checks and upper-cases an ISO 3166-1 alpha-2 code.
fn country_code(s: &str) -> Result<String, String> {
    let up = s.to_ascii_uppercase();
    // "EU" and "AP" are registration countries of the address registries, not ISO codes.
    if phonehome_enrich::orgs::is_country_code(&up) || matches!(&*up, "EU" | "AP") {
        Ok(up)
    } else {
        Err(format!(
            "{s:?} is not an assigned ISO 3166-1 alpha-2 country code \
             (nor \"home\", \"abroad\" or \"unknown\")"
        ))
    }
}

#[cfg(test)]
mod tests;

//! Judging subjects against a policy, and grouping what breaks it.
//!
//! Every subject is tried against every rule: a `when` clause of the subject's kind must hold,
//! no `unless` clause and no applicable `[[allow]]` entry may hold. Subjects that break a rule
//! are grouped by (rule, destination, service): a destination is the server name, else the
//! server's address. The output order is fixed (severity, then the rule's place in the file,
//! then destination and service) so two runs over the same capture give the same verdict text.
//!
//! The message of a group is built from its first subject (in input order) and from the clause
//! that subject matched: the countries that clause looked at are spelled out, so a reader sees
//! "owner under CN, home TW" and not only the rule's name.

use std::collections::{BTreeSet, HashMap};

use super::glob::{fold_str, Glob};
use super::{
    data_bit, Clause, CountrySpec, DataSet, Policy, PolicyError, Rule, Subject, SubjectKind,
    Violation, DATA_TYPES, MAX_TRIGGERS, OTHER,
};

/// Data types not known to the profile named in one message, at most.
const MAX_OTHER_TYPES: usize = 8;

/// Judges `subjects` against `policy`. `home` (`"TW"`, or `"DE,FR"` for several) replaces the
/// policy's own home when given. Errors only when the home is not a country code, or when
/// the policy needs a home and neither gives one.
pub fn evaluate(
    policy: &Policy,
    home: Option<&str>,
    subjects: &[Subject<'_>],
) -> Result<Vec<Violation>, PolicyError> {
    let home = policy.home_list(home)?.unwrap_or_default();
    let mut groups: HashMap<(usize, &str, &str), Group<'_>> = HashMap::new();
    for s in subjects {
        let folded = Folded::new(s);
        let cx = Cx {
            s,
            f: &folded,
            home: &home,
        };
        let allows: Vec<&[String]> = policy
            .allow
            .iter()
            .filter(|a| cx.matches(&a.clause))
            .map(|a| a.rules.as_slice())
            .collect();
        for (ri, rule) in policy.rules.iter().enumerate() {
            let Some(ci) = rule
                .when
                .iter()
                .position(|c| c.judges() == s.kind && cx.matches(c))
            else {
                continue;
            };
            if rule.unless.iter().any(|c| cx.matches(c))
                || allows
                    .iter()
                    .any(|ids| ids.is_empty() || ids.contains(&rule.id))
            {
                continue;
            }
            let dest = s.server_name.or(s.server).unwrap_or("");
            groups
                .entry((ri, dest, s.service.unwrap_or("")))
                .or_insert_with(|| Group::new(*s, ci))
                .add(s);
        }
    }
    let mut list: Vec<((usize, &str, &str), Group<'_>)> = groups.into_iter().collect();
    list.sort_by(|a, b| {
        let sev = |k: &(usize, &str, &str)| policy.rules.get(k.0).map(|r| r.severity);
        sev(&b.0).cmp(&sev(&a.0)).then_with(|| a.0.cmp(&b.0))
    });
    Ok(list
        .into_iter()
        .filter_map(|((ri, dest, _), g)| {
            let rule = policy.rules.get(ri)?;
            Some(g.into_violation(rule, dest, &home))
        })
        .collect())
}

/// A subject's names, case-folded once for every pattern that looks at them.
struct Folded {
    service: Option<Vec<char>>,
    app: Option<Vec<char>>,
    org: Option<Vec<char>>,
    parent_org: Option<Vec<char>>,
    server_name: Option<Vec<char>>,
}

impl Folded {
    fn new(s: &Subject<'_>) -> Self {
        let f = |v: Option<&str>| v.map(fold_str);
        Self {
            service: f(s.service),
            app: f(s.app),
            org: f(s.org),
            parent_org: f(s.parent_org),
            server_name: f(s.server_name),
        }
    }
}

struct Cx<'a, 's> {
    s: &'a Subject<'s>,
    f: &'a Folded,
    home: &'a [String],
}

impl Cx<'_, '_> {
    fn matches(&self, c: &Clause) -> bool {
        let s = self.s;
        let names = |globs: &Option<Vec<Glob>>, values: &[&Option<Vec<char>>]| {
            globs.as_ref().is_none_or(|globs| {
                values
                    .iter()
                    .filter_map(|v| v.as_deref())
                    .any(|v| globs.iter().any(|g| g.matches(v)))
            })
        };
        let countries = |specs: &Option<Vec<CountrySpec>>, values: &[Option<&str>]| {
            specs
                .as_ref()
                .is_none_or(|specs| self.countries_match(specs, values))
        };
        let is_finding = s.kind == SubjectKind::Finding;
        c.data
            .is_none_or(|set| is_finding && set & s.data_type.map_or(OTHER, data_bit) != 0)
            && c.confidence.is_none_or(|min| {
                is_finding
                    && s.confidence
                        .and_then(|v| ["low", "medium", "high"].iter().position(|&n| n == v))
                        .is_some_and(|level| level >= usize::from(min))
            })
            && c.direction
                .as_ref()
                .is_none_or(|dirs| is_finding && s.direction.is_some_and(|d| dirs.contains(&d)))
            && names(&c.service, &[&self.f.service])
            && names(&c.app, &[&self.f.app])
            && names(&c.org, &[&self.f.org, &self.f.parent_org])
            && names(&c.server_name, &[&self.f.server_name])
            && countries(&c.org_country, &[s.org_country])
            && countries(&c.parent_country, &[s.parent_country])
            && countries(&c.owner_country, &[s.org_country, s.parent_country])
            && countries(&c.server_country, &[s.server_country])
            && countries(
                &c.country,
                &[s.server_country, s.org_country, s.parent_country],
            )
            && c.encryption
                .as_ref()
                .is_none_or(|list| list.contains(&s.encryption))
            && c.bytes_up_min.is_none_or(|n| s.bytes_up >= n)
            && c.bytes_up_max.is_none_or(|n| s.bytes_up <= n)
            && c.bytes_down_min.is_none_or(|n| s.bytes_down >= n)
            && c.bytes_down_max.is_none_or(|n| s.bytes_down <= n)
    }

    /// Any known value matches any spec; `unknown` matches when no value is known.
    fn countries_match(&self, specs: &[CountrySpec], values: &[Option<&str>]) -> bool {
        let mut known = values.iter().filter_map(|v| known_country(*v)).peekable();
        if known.peek().is_none() {
            return specs.contains(&CountrySpec::Unknown);
        }
        known.any(|v| specs.iter().any(|spec| self.country_is(spec, v)))
    }

    fn country_is(&self, spec: &CountrySpec, v: &str) -> bool {
        let at_home = || self.home.iter().any(|h| h.eq_ignore_ascii_case(v));
        match spec {
            CountrySpec::Code(c) => c.eq_ignore_ascii_case(v),
            CountrySpec::Home => at_home(),
            CountrySpec::Abroad => !at_home(),
            CountrySpec::Unknown => false,
        }
    }
}

fn known_country(v: Option<&str>) -> Option<&str> {
    v.map(str::trim).filter(|v| !v.is_empty())
}

/// The subjects that broke one rule at one destination.
struct Group<'s> {
    first: Subject<'s>,
    clause: usize,
    findings: Vec<usize>,
    flows: BTreeSet<u64>,
    omitted: u64,
    data: DataSet,
    other_types: BTreeSet<&'s str>,
    flow_subjects: u64,
    finding_subjects: u64,
    all_cleartext: bool,
    bytes_up: u64,
    bytes_down: u64,
}

impl<'s> Group<'s> {
    fn new(first: Subject<'s>, clause: usize) -> Self {
        Self {
            first,
            clause,
            findings: Vec::new(),
            flows: BTreeSet::new(),
            omitted: 0,
            data: 0,
            other_types: BTreeSet::new(),
            flow_subjects: 0,
            finding_subjects: 0,
            all_cleartext: true,
            bytes_up: 0,
            bytes_down: 0,
        }
    }

    fn add(&mut self, s: &Subject<'s>) {
        self.all_cleartext &= s.encryption == super::Encryption::Cleartext;
        match s.kind {
            SubjectKind::Finding => {
                self.finding_subjects = self.finding_subjects.saturating_add(1);
                let bit = s.data_type.map_or(OTHER, data_bit);
                self.data |= bit;
                if bit == OTHER && self.other_types.len() < MAX_OTHER_TYPES {
                    if let Some(t) = s.data_type {
                        self.other_types.insert(t);
                    }
                }
                if self.findings.len() < MAX_TRIGGERS {
                    self.findings.push(s.index);
                } else {
                    self.omitted = self.omitted.saturating_add(1);
                }
            }
            SubjectKind::Flow => {
                self.flow_subjects = self.flow_subjects.saturating_add(1);
                self.bytes_up = self.bytes_up.saturating_add(s.bytes_up);
                self.bytes_down = self.bytes_down.saturating_add(s.bytes_down);
            }
        }
        if let Some(id) = s.flow {
            if self.flows.len() < MAX_TRIGGERS || self.flows.contains(&id) {
                self.flows.insert(id);
            } else {
                self.omitted = self.omitted.saturating_add(1);
            }
        }
    }

    fn into_violation(mut self, rule: &Rule, dest: &str, home: &[String]) -> Violation {
        self.findings.sort_unstable();
        self.findings.dedup();
        let message = self.message(rule, dest, home);
        let s = &self.first;
        let owned = |v: Option<&str>| v.map(str::to_owned);
        let mut data_types: Vec<String> = DATA_TYPES
            .iter()
            .enumerate()
            .filter(|(i, _)| self.data & (1 << i) != 0)
            .map(|(_, t)| (*t).to_owned())
            .collect();
        data_types.extend(self.other_types.iter().map(|t| (*t).to_owned()));
        Violation {
            rule: rule.id.clone(),
            severity: rule.severity,
            message,
            findings: self.findings,
            flows: self.flows.into_iter().collect(),
            omitted: self.omitted,
            destination: (!dest.is_empty()).then(|| dest.to_owned()),
            service: owned(s.service),
            org: owned(s.org),
            org_country: owned(s.org_country),
            parent_org: owned(s.parent_org),
            parent_country: owned(s.parent_country),
            server_country: owned(s.server_country),
            data_types,
        }
    }

    fn message(&self, rule: &Rule, dest: &str, home: &[String]) -> String {
        let s = &self.first;
        let clear = if self.all_cleartext {
            " in cleartext"
        } else {
            ""
        };
        let mut m = if self.finding_subjects > 0 {
            let mut what: Vec<String> = DATA_TYPES
                .iter()
                .enumerate()
                .filter(|(i, _)| self.data & (1 << i) != 0)
                .map(|(_, t)| data_name(t).to_owned())
                .collect();
            what.extend(self.other_types.iter().map(|t| (*t).to_owned()));
            if self.data & OTHER != 0 && self.other_types.is_empty() {
                what.push("personal data".to_owned());
            }
            let by = s.app.map(|a| format!(" by {a}")).unwrap_or_default();
            format!("{} sent{by}{clear} to {}", what.join(", "), to(s, dest))
        } else {
            let n = self.flow_subjects;
            let service = s.service.map(|v| format!("{v} ")).unwrap_or_default();
            let from = s.app.map(|a| format!(" from {a}")).unwrap_or_default();
            format!(
                "{n} {service}flow{}{from}{clear} to {} ({} up, {} down)",
                if n == 1 { "" } else { "s" },
                to(s, dest),
                bytes(self.bytes_up),
                bytes(self.bytes_down)
            )
        };
        if self.finding_subjects > 0 {
            if let Some(service) = s.service {
                m.push_str(" via ");
                m.push_str(service);
            }
        }
        m.push_str(": ");
        m.push_str(rule.description.as_deref().unwrap_or(&rule.id));
        let facts = rule
            .when
            .get(self.clause)
            .map(|c| facts(c, s, home))
            .unwrap_or_default();
        if !facts.is_empty() {
            m.push_str(" (");
            m.push_str(&facts.join(", "));
            m.push(')');
        }
        capitalise(m)
    }
}

/// The countries the matched clause looked at, spelled out.
fn facts(c: &Clause, s: &Subject<'_>, home: &[String]) -> Vec<String> {
    let cx = Cx {
        s,
        f: &Folded {
            service: None,
            app: None,
            org: None,
            parent_org: None,
            server_name: None,
        },
        home,
    };
    let server = ("server in", "server country unknown", s.server_country);
    let owner = ("owner under", "owner's country unknown", s.org_country);
    let parent = ("parent under", "parent's country unknown", s.parent_country);
    let mut out: Vec<String> = Vec::new();
    let mut push = |specs: &Option<Vec<CountrySpec>>, places: &[(&str, &str, Option<&str>)]| {
        let Some(specs) = specs else { return };
        let mut any = false;
        for (label, _, value) in places {
            if let Some(v) = known_country(*value) {
                any = true;
                if specs.iter().any(|spec| cx.country_is(spec, v)) {
                    out.push(format!("{label} {}", v.to_ascii_uppercase()));
                }
            }
        }
        if !any {
            if let Some((_, unknown, _)) = places.first() {
                out.push((*unknown).to_owned());
            }
        }
    };
    push(&c.server_country, &[server]);
    push(&c.org_country, &[owner]);
    push(&c.parent_country, &[parent]);
    push(&c.owner_country, &[owner, parent]);
    push(&c.country, &[owner, parent, server]);
    let mut seen = BTreeSet::new();
    out.retain(|f| seen.insert(f.clone()));
    if c.uses_home() && !home.is_empty() {
        out.push(format!("home {}", home.join(",")));
    }
    out
}

/// "Xiaomi (CN) data.mistat.xiaomi.com", "TikTok (SG; parent ByteDance, CN) ...".
fn to(s: &Subject<'_>, dest: &str) -> String {
    let mut out = String::new();
    if let Some(org) = s.org {
        out.push_str(org);
        let parent = s
            .parent_org
            .filter(|p| !p.eq_ignore_ascii_case(org))
            .map(|p| match known_country(s.parent_country) {
                Some(c) => format!("parent {p}, {c}"),
                None => format!("parent {p}"),
            });
        match (known_country(s.org_country), parent) {
            (Some(c), Some(p)) => out.push_str(&format!(" ({c}; {p})")),
            (Some(c), None) => out.push_str(&format!(" ({c})")),
            (None, Some(p)) => out.push_str(&format!(" ({p})")),
            (None, None) => {}
        }
    }
    if !dest.is_empty() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(dest);
    }
    if out.is_empty() {
        out.push_str("an unnamed server");
    }
    out
}

fn data_name(t: &str) -> &str {
    crate::variants::data_type_name(t)
}

/// Capitalises the first letter, and replaces control characters: names come from the
/// capture (a server name is whatever the phone put in its TLS hello) and the message is
/// printed on terminals.
fn capitalise(s: String) -> String {
    let mut out = String::with_capacity(s.len());
    for (i, c) in s.chars().enumerate() {
        if c.is_control() {
            out.push('\u{fffd}');
        } else if i == 0 {
            out.extend(c.to_uppercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// Decimal units, one decimal: "512 B", "12.3 kB", "4.0 MB".
fn bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["kB", "MB", "GB", "TB", "PB"];
    if n < 1000 {
        return format!("{n} B");
    }
    // Precision loss past 2^53 bytes does not matter for one decimal.
    let mut v = n as f64 / 1000.0;
    let mut unit = 0;
    while v >= 999.95 && unit + 1 < UNITS.len() {
        v /= 1000.0;
        unit += 1;
    }
    format!("{v:.1} {}", UNITS.get(unit).copied().unwrap_or("PB"))
}

#[cfg(test)]
mod tests {
    use super::super::{Encryption, Severity};
    use super::*;

    fn policy(text: &str) -> Policy {
        let (p, warnings) = Policy::parse(text, "t.toml").unwrap();
        assert!(warnings.is_empty(), "{warnings:?}");
        p
    }

    /// A rule `r` (severity high) whose `when` is `cond` (TOML inline-table body).
    fn rule(cond: &str) -> Policy {
        policy(&format!(
            "home = \"TW\"\n[[rule]]\nid = \"r\"\nseverity = \"high\"\nwhen = {{ {cond} }}\n"
        ))
    }

    fn finding(index: usize, data_type: &'static str) -> Subject<'static> {
        Subject {
            kind: SubjectKind::Finding,
            index,
            flow: Some(1),
            data_type: Some(data_type),
            confidence: Some("high"),
            direction: Some("client_to_server"),
            service: Some("Xiaomi Analytics"),
            org: Some("Xiaomi"),
            org_country: Some("CN"),
            server_country: Some("SG"),
            server_name: Some("data.mistat.xiaomi.com"),
            server: Some("203.0.113.9"),
            encryption: Encryption::Decrypted,
            bytes_up: 5000,
            bytes_down: 300,
            ..Subject::default()
        }
    }

    fn flow(id: u64) -> Subject<'static> {
        Subject {
            kind: SubjectKind::Flow,
            index: usize::try_from(id).unwrap(),
            flow: Some(id),
            data_type: None,
            confidence: None,
            direction: None,
            ..finding(0, "imei")
        }
    }

    fn fires(p: &Policy, s: Subject<'_>) -> bool {
        !evaluate(p, None, &[s]).unwrap().is_empty()
    }

    /// Each condition, true and false: (condition, subject it holds for, subject it does not).
    #[test]
    fn each_condition_true_and_false() {
        let f = finding(0, "imei");
        let cases: Vec<(&str, Subject<'static>, Subject<'static>)> = vec![
            ("data = \"imei\"", f, finding(0, "email")),
            (
                "data = \"identifiers\"",
                finding(0, "phone"),
                finding(0, "email"),
            ),
            ("data = \"device_ids\"", f, finding(0, "phone")),
            ("data = \"owner\"", finding(0, "email"), f),
            (
                "data = \"contacts\"",
                finding(0, "contact_phone"),
                finding(0, "sms"),
            ),
            ("data = \"any\"", finding(0, "jwt"), flow(1)),
            ("data = \"other\"", finding(0, "jwt"), f),
            (
                "data = \"any\", confidence = \"medium\"",
                f,
                Subject {
                    confidence: Some("low"),
                    ..f
                },
            ),
            (
                "data = \"any\", confidence = \"low\"",
                Subject {
                    confidence: Some("low"),
                    ..f
                },
                Subject {
                    confidence: None,
                    ..f
                },
            ),
            (
                "data = \"any\", direction = \"up\"",
                f,
                Subject {
                    direction: Some("server_to_client"),
                    ..f
                },
            ),
            (
                "service = \"xiaomi analytics\"",
                flow(1),
                Subject {
                    service: Some("MIUI Update"),
                    ..flow(1)
                },
            ),
            (
                "service = \"Xiaomi*\"",
                flow(1),
                Subject {
                    service: None,
                    ..flow(1)
                },
            ),
            (
                "app = \"com.miui.*\"",
                Subject {
                    app: Some("com.miui.analytics"),
                    ..flow(1)
                },
                flow(1),
            ),
            (
                "org = \"xiaomi\"",
                flow(1),
                Subject {
                    org: Some("Tencent"),
                    ..flow(1)
                },
            ),
            (
                "org = \"ByteDance\"",
                Subject {
                    org: Some("TikTok"),
                    parent_org: Some("ByteDance"),
                    ..flow(1)
                },
                Subject {
                    org: Some("TikTok"),
                    ..flow(1)
                },
            ),
            (
                "server_name = \"*.xiaomi.com\"",
                flow(1),
                Subject {
                    server_name: Some("xiaomi.com"),
                    ..flow(1)
                },
            ),
            (
                "org_country = \"CN\"",
                flow(1),
                Subject {
                    org_country: Some("US"),
                    ..flow(1)
                },
            ),
            (
                "org_country = \"abroad\"",
                flow(1),
                Subject {
                    org_country: Some("TW"),
                    ..flow(1)
                },
            ),
            (
                "org_country = \"home\"",
                Subject {
                    org_country: Some("tw"),
                    ..flow(1)
                },
                flow(1),
            ),
            (
                "org_country = \"unknown\"",
                Subject {
                    org_country: None,
                    ..flow(1)
                },
                flow(1),
            ),
            (
                "parent_country = \"CN\"",
                Subject {
                    org_country: Some("SG"),
                    parent_country: Some("CN"),
                    ..flow(1)
                },
                flow(1),
            ),
            (
                "owner_country = \"abroad\"",
                Subject {
                    org_country: Some("TW"),
                    parent_country: Some("CN"),
                    ..flow(1)
                },
                Subject {
                    org_country: Some("TW"),
                    ..flow(1)
                },
            ),
            (
                "owner_country = \"unknown\"",
                Subject {
                    org_country: None,
                    ..flow(1)
                },
                flow(1),
            ),
            (
                "server_country = \"abroad\"",
                flow(1),
                Subject {
                    server_country: Some("TW"),
                    ..flow(1)
                },
            ),
            (
                "server_country = [\"US\", \"SG\"]",
                flow(1),
                Subject {
                    server_country: Some("JP"),
                    ..flow(1)
                },
            ),
            (
                "server_country = \"unknown\"",
                Subject {
                    server_country: Some(""),
                    ..flow(1)
                },
                flow(1),
            ),
            (
                "country = \"abroad\"",
                Subject {
                    org_country: Some("TW"),
                    server_country: Some("US"),
                    ..flow(1)
                },
                Subject {
                    org_country: Some("TW"),
                    server_country: Some("TW"),
                    ..flow(1)
                },
            ),
            (
                "encryption = \"cleartext\"",
                Subject {
                    encryption: Encryption::Cleartext,
                    ..flow(1)
                },
                flow(1),
            ),
            (
                "encryption = [\"encrypted\", \"unknown\"]",
                Subject {
                    encryption: Encryption::Unknown,
                    ..flow(1)
                },
                flow(1),
            ),
            (
                "bytes_up_min = \"5 kB\"",
                flow(1),
                Subject {
                    bytes_up: 4999,
                    ..flow(1)
                },
            ),
            (
                "bytes_up_max = 5000",
                flow(1),
                Subject {
                    bytes_up: 5001,
                    ..flow(1)
                },
            ),
            (
                "bytes_down_min = 300",
                flow(1),
                Subject {
                    bytes_down: 299,
                    ..flow(1)
                },
            ),
            (
                "bytes_down_max = 299",
                Subject {
                    bytes_down: 0,
                    ..flow(1)
                },
                flow(1),
            ),
        ];
        for (cond, yes, no) in cases {
            let p = rule(cond);
            assert!(fires(&p, yes), "{cond} should hold for {yes:?}");
            assert!(!fires(&p, no), "{cond} should not hold for {no:?}");
        }
    }

    #[test]
    fn finding_clauses_judge_findings_and_others_judge_flows() {
        let p = rule("service = \"Xiaomi Analytics\"");
        assert!(fires(&p, flow(1)));
        assert!(
            !fires(&p, finding(0, "imei")),
            "a service rule judges flows"
        );
        let p = rule("data = \"any\"");
        assert!(!fires(&p, flow(1)));
    }

    #[test]
    fn several_when_clauses_are_any_of() {
        let p = policy(
            "[[rule]]\nid = \"r\"\nseverity = \"low\"\n[[rule.when]]\nservice = \"LINE\"\n\
             [[rule.when]]\ndata = \"sms\"\n",
        );
        assert!(fires(
            &p,
            Subject {
                service: Some("line"),
                ..flow(1)
            }
        ));
        assert!(fires(&p, finding(0, "sms")));
        assert!(!fires(&p, finding(0, "imei")));
        assert!(!fires(&p, flow(1)));
    }

    #[test]
    fn unless_and_allow_excuse() {
        let p = policy(
            "home = \"TW\"\n\
             [[rule]]\nid = \"abroad\"\nseverity = \"high\"\n\
             when = { org_country = \"abroad\" }\n\
             [[rule.unless]]\nserver_name = \"update.miui.com\"\n\
             [[rule.unless]]\nserver_country = \"home\"\n\
             [[rule]]\nid = \"big\"\nseverity = \"low\"\nwhen = { bytes_up_min = 1 }\n\
             [[allow]]\nreason = \"vendor update server\"\nrules = [\"big\"]\n\
             server_name = \"*.d.miui.com\"\n\
             [[allow]]\nserver_name = \"lab.example\"\n",
        );
        let ids = |s: Subject<'_>| -> Vec<String> {
            evaluate(&p, None, &[s])
                .unwrap()
                .into_iter()
                .map(|v| v.rule)
                .collect()
        };
        assert_eq!(ids(flow(1)), ["abroad", "big"]);
        assert_eq!(
            ids(Subject {
                server_name: Some("update.miui.com"),
                ..flow(1)
            }),
            ["big"]
        );
        assert_eq!(
            ids(Subject {
                server_country: Some("TW"),
                ..flow(1)
            }),
            ["big"]
        );
        assert_eq!(
            ids(Subject {
                server_name: Some("bigota.d.miui.com"),
                ..flow(1)
            }),
            ["abroad"]
        );
        assert!(ids(Subject {
            server_name: Some("lab.example"),
            ..flow(1)
        })
        .is_empty());
    }

    #[test]
    fn home_override_and_missing_home() {
        let p = rule("server_country = \"abroad\"");
        let sg = Subject {
            server_country: Some("SG"),
            ..flow(1)
        };
        assert_eq!(evaluate(&p, None, &[sg]).unwrap().len(), 1);
        assert!(evaluate(&p, Some("sg"), &[sg]).unwrap().is_empty());
        assert!(evaluate(&p, Some("TW,SG"), &[sg]).unwrap().is_empty());
        assert_eq!(evaluate(&p, Some("US"), &[sg]).unwrap().len(), 1);
        assert!(matches!(
            evaluate(&p, Some("Taiwan"), &[sg]),
            Err(PolicyError::Home { .. })
        ));
        let no_home = policy(
            "[[rule]]\nid = \"r\"\nseverity = \"high\"\nwhen = { server_country = \"abroad\" }\n",
        );
        let e = evaluate(&no_home, None, &[sg]).unwrap_err();
        assert!(
            e.to_string()
                .contains("policy t.toml compares countries with home"),
            "{e}"
        );
        assert_eq!(
            no_home.effective_home(Some("tw")).unwrap().as_deref(),
            Some("TW")
        );
        // A policy that never says home or abroad needs none.
        let plain = rule("server_country = \"CN\"");
        let plain = Policy {
            home: Vec::new(),
            ..plain
        };
        assert_eq!(plain.effective_home(None).unwrap(), None);
        assert!(evaluate(&plain, None, &[sg]).unwrap().is_empty());
    }

    #[test]
    fn groups_per_rule_and_destination_in_fixed_order() {
        let p = policy(
            "home = \"TW\"\n\
             [[rule]]\nid = \"ids\"\nseverity = \"high\"\n\
             description = \"device identifier to an owner abroad\"\n\
             when = { data = \"device_ids\", owner_country = \"abroad\" }\n\
             [[rule]]\nid = \"content\"\nseverity = \"critical\"\n\
             when = { data = [\"sms\", \"location\"], country = \"abroad\" }\n",
        );
        let other = |s: Subject<'static>| Subject {
            server_name: Some("a.example"),
            org: None,
            org_country: None,
            service: None,
            flow: Some(9),
            ..s
        };
        let subjects = [
            Subject {
                flow: Some(2),
                ..finding(5, "android_id")
            },
            finding(3, "imei"),
            finding(4, "imei"),
            other(finding(6, "location")),
            finding(7, "sms"),
            finding(8, "email"),
        ];
        let v = evaluate(&p, None, &subjects).unwrap();
        type Row<'a> = (&'a str, Severity, Option<&'a str>, &'a [usize], &'a [u64]);
        let summary: Vec<Row<'_>> = v
            .iter()
            .map(|v| {
                (
                    v.rule.as_str(),
                    v.severity,
                    v.destination.as_deref(),
                    v.findings.as_slice(),
                    v.flows.as_slice(),
                )
            })
            .collect();
        assert_eq!(
            summary,
            [
                (
                    "content",
                    Severity::Critical,
                    Some("a.example"),
                    &[6][..],
                    &[9][..]
                ),
                (
                    "content",
                    Severity::Critical,
                    Some("data.mistat.xiaomi.com"),
                    &[7][..],
                    &[1][..]
                ),
                (
                    "ids",
                    Severity::High,
                    Some("data.mistat.xiaomi.com"),
                    &[3, 4, 5][..],
                    &[1, 2][..]
                ),
            ]
        );
        assert_eq!(
            v[2].message,
            "IMEI, Android ID sent to Xiaomi (CN) data.mistat.xiaomi.com via Xiaomi Analytics: \
             device identifier to an owner abroad (owner under CN, home TW)"
        );
        assert_eq!(v[2].data_types, ["imei", "android_id"]);
        assert_eq!(
            v[0].message,
            "Location sent to a.example: content (server in SG, home TW)"
        );
        assert_eq!(
            v[1].message,
            "SMS sent to Xiaomi (CN) data.mistat.xiaomi.com via Xiaomi Analytics: content \
             (owner under CN, server in SG, home TW)"
        );
        // Same input, same output.
        assert_eq!(evaluate(&p, None, &subjects).unwrap(), v);
    }

    #[test]
    fn flow_messages() {
        let p = policy(
            "[[rule]]\nid = \"banned\"\nseverity = \"high\"\n\
             description = \"banned service\"\nwhen = { service = \"TikTok\" }\n",
        );
        let tiktok = |id: u64, up: u64| Subject {
            service: Some("TikTok"),
            org: Some("TikTok"),
            org_country: Some("SG"),
            parent_org: Some("ByteDance"),
            parent_country: Some("CN"),
            server_name: Some("api16-normal-c-alisg.tiktokv.com"),
            encryption: Encryption::Cleartext,
            bytes_up: up,
            bytes_down: 1_500_000,
            ..flow(id)
        };
        let v = evaluate(&p, None, &[tiktok(3, 700), tiktok(4, 12_345)]).unwrap();
        assert_eq!(v.len(), 1);
        assert_eq!(
            v[0].message,
            "2 TikTok flows in cleartext to TikTok (SG; parent ByteDance, CN) \
             api16-normal-c-alisg.tiktokv.com (13.0 kB up, 3.0 MB down): banned service"
        );
        assert_eq!(
            (v[0].flows.as_slice(), v[0].findings.len()),
            (&[3, 4][..], 0)
        );
        let bare = Subject {
            service: Some("TikTok"),
            server_name: None,
            server: None,
            org: None,
            app: Some("com.zhiliaoapp.musically"),
            ..flow(5)
        };
        assert_eq!(
            evaluate(&p, None, &[bare]).unwrap()[0].message,
            "1 TikTok flow from com.zhiliaoapp.musically to an unnamed server \
             (5.0 kB up, 300 B down): banned service"
        );
    }

    #[test]
    fn triggers_are_capped_and_counted() {
        let p = rule("data = \"any\"");
        let many: Vec<Subject<'static>> = (0..MAX_TRIGGERS + 5)
            .map(|i| Subject {
                flow: Some(u64::try_from(i).unwrap()),
                ..finding(i, "imei")
            })
            .collect();
        let v = evaluate(&p, None, &many).unwrap();
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].findings.len(), MAX_TRIGGERS);
        assert_eq!(v[0].flows.len(), MAX_TRIGGERS);
        assert_eq!(v[0].omitted, 10);
    }

    #[test]
    fn control_characters_in_names_do_not_reach_messages() {
        let p = rule("data = \"any\"");
        let s = Subject {
            server_name: Some("evil\u{1b}[2J.example\n"),
            ..finding(0, "imei")
        };
        let v = evaluate(&p, None, &[s]).unwrap();
        assert!(
            v[0].message.contains("evil\u{fffd}[2J.example\u{fffd}"),
            "{}",
            v[0].message
        );
        assert!(!v[0].message.chars().any(char::is_control));
    }

    #[test]
    fn byte_units() {
        assert_eq!(bytes(0), "0 B");
        assert_eq!(bytes(999), "999 B");
        assert_eq!(bytes(1000), "1.0 kB");
        assert_eq!(bytes(999_999), "1.0 MB");
        assert_eq!(bytes(u64::MAX), "18446.7 PB");
    }
}

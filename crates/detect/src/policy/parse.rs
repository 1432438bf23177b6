//! Policy TOML to [`Policy`], refusing anything it does not understand.
//!
//! The `toml` crate's span-keeping document (`DeTable`) gives every key and value its byte
//! range, so an error names the line; serde derive would lose the spans of unknown keys and
//! could not say "did you mean". Keys are visited in file order so that, of several mistakes,
//! the first in the file is the one reported.

use std::borrow::Cow;
use std::ops::Range;

use toml::de::{DeTable, DeValue};
use toml::Spanned;

use super::glob::Glob;
use super::{
    country_code, Allow, Clause, CountrySpec, DataSet, Encryption, Policy, PolicyError, Rule,
    Severity, DATA_TYPES, GROUPS, MAX_RULES, OTHER,
};
use crate::toml_doc::Doc;

pub(super) const TOP_KEYS: &[&str] = &["name", "description", "home", "rule", "allow", "notes"];
pub(super) const RULE_KEYS: &[&str] = &["id", "severity", "description", "when", "unless"];
pub(super) const ALLOW_KEYS: &[&str] = &["reason", "rules"];
pub(super) const CLAUSE_KEYS: &[&str] = &[
    "data",
    "confidence",
    "direction",
    "service",
    "app",
    "org",
    "server_name",
    "org_country",
    "parent_country",
    "owner_country",
    "server_country",
    "country",
    "encryption",
    "bytes_up_min",
    "bytes_up_max",
    "bytes_down_min",
    "bytes_down_max",
];
const CONFIDENCES: [&str; 3] = ["low", "medium", "high"];
const DIRECTIONS: &[(&str, &str)] = &[
    ("client_to_server", "client_to_server"),
    ("up", "client_to_server"),
    ("server_to_client", "server_to_client"),
    ("down", "server_to_client"),
];

type Entry<'t, 'i> = (&'t Spanned<Cow<'i, str>>, &'t Spanned<DeValue<'i>>);

struct Cx<'a> {
    doc: Doc<'a>,
    service_names: Vec<(String, usize)>,
}

impl Cx<'_> {
    fn err(&self, span: Range<usize>, key: &str, message: impl Into<String>) -> PolicyError {
        PolicyError::Key {
            source_name: self.doc.source.to_owned(),
            line: self.doc.line(span.start),
            key: key.to_owned(),
            message: message.into(),
        }
    }

    /// The table's entries in file order, after refusing the first key not in `known`.
    fn entries<'t, 'i>(
        &self,
        table: &'t DeTable<'i>,
        path: &str,
        known: &[&[&str]],
    ) -> Result<Vec<Entry<'t, 'i>>, PolicyError> {
        let mut list: Vec<Entry<'t, 'i>> = table.iter().collect();
        list.sort_by_key(|(k, _)| k.span().start);
        for (k, _) in &list {
            let name: &str = k.get_ref();
            if !known.iter().any(|set| set.contains(&name)) {
                let all: Vec<&str> = known.iter().flat_map(|s| s.iter().copied()).collect();
                return Err(self.err(
                    k.span(),
                    &join(path, name),
                    format!("unknown key{}", suggest(name, &all)),
                ));
            }
        }
        Ok(list)
    }

    fn string(&self, value: &Spanned<DeValue<'_>>, key: &str) -> Result<String, PolicyError> {
        match value.get_ref() {
            DeValue::String(s) => Ok(s.trim().to_owned()),
            other => Err(self.err(
                value.span(),
                key,
                format!("expected a string, found {}", other.type_str()),
            )),
        }
    }

    /// A string or an array of strings, never empty.
    fn strings(
        &self,
        value: &Spanned<DeValue<'_>>,
        key: &str,
    ) -> Result<Vec<(String, Range<usize>)>, PolicyError> {
        let out = match value.get_ref() {
            DeValue::String(s) => vec![(s.trim().to_owned(), value.span())],
            DeValue::Array(a) => a
                .iter()
                .map(|v| Ok((self.string(v, key)?, v.span())))
                .collect::<Result<Vec<_>, PolicyError>>()?,
            other => {
                return Err(self.err(
                    value.span(),
                    key,
                    format!(
                        "expected a string or an array of strings, found {}",
                        other.type_str()
                    ),
                ))
            }
        };
        if out.is_empty() {
            return Err(self.err(value.span(), key, "an empty list matches nothing"));
        }
        if let Some((_, span)) = out.iter().find(|(s, _)| s.is_empty()) {
            return Err(self.err(span.clone(), key, "an empty string matches nothing"));
        }
        Ok(out)
    }

    /// A table, or an array of tables (`[[rule.when]]`).
    fn tables<'t, 'i>(
        &self,
        value: &'t Spanned<DeValue<'i>>,
        key: &str,
    ) -> Result<Vec<(&'t DeTable<'i>, Range<usize>)>, PolicyError> {
        match value.get_ref() {
            DeValue::Table(t) => Ok(vec![(t, value.span())]),
            DeValue::Array(a) if !a.is_empty() => a
                .iter()
                .enumerate()
                .map(|(i, v)| match v.get_ref() {
                    DeValue::Table(t) => Ok((t, v.span())),
                    other => Err(self.err(
                        v.span(),
                        &format!("{key}[{i}]"),
                        format!("expected a table, found {}", other.type_str()),
                    )),
                })
                .collect(),
            other => Err(self.err(
                value.span(),
                key,
                format!(
                    "expected a table or an array of tables, found {}",
                    if other.is_array() {
                        "an empty array"
                    } else {
                        other.type_str()
                    }
                ),
            )),
        }
    }

    fn countries(
        &self,
        value: &Spanned<DeValue<'_>>,
        key: &str,
    ) -> Result<Vec<CountrySpec>, PolicyError> {
        let mut out = Vec::new();
        for (s, span) in self.strings(value, key)? {
            let spec = match s.to_ascii_lowercase().as_str() {
                "home" => CountrySpec::Home,
                "abroad" => CountrySpec::Abroad,
                "unknown" => CountrySpec::Unknown,
                _ => CountrySpec::Code(country_code(&s).map_err(|m| self.err(span, key, m))?),
            };
            if !out.contains(&spec) {
                out.push(spec);
            }
        }
        Ok(out)
    }

    fn globs(
        &mut self,
        value: &Spanned<DeValue<'_>>,
        key: &str,
        is_service: bool,
    ) -> Result<Vec<Glob>, PolicyError> {
        let list = self.strings(value, key)?;
        let mut out = Vec::with_capacity(list.len());
        for (s, span) in list {
            let g = Glob::new(&s);
            if is_service && !g.is_wild() {
                let line = self.doc.line(span.start);
                self.service_names.push((s, line));
            }
            out.push(g);
        }
        Ok(out)
    }

    /// A byte count: an integer, or a string with a unit (`"10 MB"`, `"1.5 MiB"`).
    fn size(&self, value: &Spanned<DeValue<'_>>, key: &str) -> Result<u64, PolicyError> {
        let bad = || {
            self.err(
                value.span(),
                key,
                "expected a byte count: a whole number, or a string such as \"500 kB\" or \
                 \"1.5 MiB\" (units B, kB, MB, GB, KiB, MiB, GiB)",
            )
        };
        match value.get_ref() {
            DeValue::Integer(i) => {
                let digits = i.as_str().replace('_', "");
                let digits = digits.strip_prefix('+').unwrap_or(&digits);
                u64::from_str_radix(digits, i.radix()).map_err(|_| bad())
            }
            DeValue::String(s) => parse_size(s).ok_or_else(bad),
            _ => Err(bad()),
        }
    }

    fn clause(
        &mut self,
        table: &DeTable<'_>,
        span: Range<usize>,
        path: &str,
        extra: &[&str],
    ) -> Result<Clause, PolicyError> {
        let mut c = Clause {
            line: self.doc.line(span.start),
            ..Clause::default()
        };
        let mut any = false;
        for (k, v) in self.entries(table, path, &[CLAUSE_KEYS, extra])? {
            let name: &str = k.get_ref();
            if extra.contains(&name) {
                continue;
            }
            any = true;
            let key = join(path, name);
            match name {
                "data" => c.data = Some(self.data(v, &key)?),
                "confidence" => {
                    let s = self.string(v, &key)?;
                    let level = CONFIDENCES
                        .iter()
                        .position(|&n| n == s)
                        .ok_or_else(|| self.err(v.span(), &key, bad_value(&s, &CONFIDENCES)))?;
                    c.confidence = u8::try_from(level).ok();
                }
                "direction" => {
                    let mut dirs = Vec::new();
                    for (s, span) in self.strings(v, &key)? {
                        let names: Vec<&str> = DIRECTIONS.iter().map(|d| d.0).collect();
                        let dir = DIRECTIONS
                            .iter()
                            .find(|d| d.0 == s)
                            .map(|d| d.1)
                            .ok_or_else(|| self.err(span, &key, bad_value(&s, &names)))?;
                        if !dirs.contains(&dir) {
                            dirs.push(dir);
                        }
                    }
                    c.direction = Some(dirs);
                }
                "service" => c.service = Some(self.globs(v, &key, true)?),
                "app" => c.app = Some(self.globs(v, &key, false)?),
                "org" => c.org = Some(self.globs(v, &key, false)?),
                "server_name" => c.server_name = Some(self.globs(v, &key, false)?),
                "org_country" => c.org_country = Some(self.countries(v, &key)?),
                "parent_country" => c.parent_country = Some(self.countries(v, &key)?),
                "owner_country" => c.owner_country = Some(self.countries(v, &key)?),
                "server_country" => c.server_country = Some(self.countries(v, &key)?),
                "country" => c.country = Some(self.countries(v, &key)?),
                "encryption" => {
                    let mut list = Vec::new();
                    let names = Encryption::ALL.map(Encryption::as_str);
                    for (s, span) in self.strings(v, &key)? {
                        let e = Encryption::ALL
                            .into_iter()
                            .find(|e| e.as_str() == s)
                            .ok_or_else(|| self.err(span, &key, bad_value(&s, &names)))?;
                        if !list.contains(&e) {
                            list.push(e);
                        }
                    }
                    c.encryption = Some(list);
                }
                "bytes_up_min" => c.bytes_up_min = Some(self.size(v, &key)?),
                "bytes_up_max" => c.bytes_up_max = Some(self.size(v, &key)?),
                "bytes_down_min" => c.bytes_down_min = Some(self.size(v, &key)?),
                _ => c.bytes_down_max = Some(self.size(v, &key)?),
            }
        }
        if !any {
            return Err(self.err(
                span,
                path,
                "a condition table needs at least one condition (an empty one would match \
                 every flow)",
            ));
        }
        for (dir, min, max) in [
            ("up", c.bytes_up_min, c.bytes_up_max),
            ("down", c.bytes_down_min, c.bytes_down_max),
        ] {
            if let (Some(min), Some(max)) = (min, max) {
                if min > max {
                    return Err(self.err(
                        span,
                        path,
                        format!("bytes_{dir}_min ({min}) is above bytes_{dir}_max ({max}): nothing matches"),
                    ));
                }
            }
        }
        Ok(c)
    }

    fn data(&self, value: &Spanned<DeValue<'_>>, key: &str) -> Result<DataSet, PolicyError> {
        let mut set: DataSet = 0;
        for (s, span) in self.strings(value, key)? {
            let name = s.to_ascii_lowercase();
            let bits = match name.as_str() {
                "any" => (OTHER << 1).wrapping_sub(1),
                "other" => OTHER,
                n => match DATA_TYPES.iter().position(|&t| t == n) {
                    Some(i) => 1 << i,
                    None => match GROUPS.iter().find(|g| g.0 == n) {
                        Some((_, members)) => members
                            .iter()
                            .map(|m| super::data_bit(m))
                            .fold(0, |a, b| a | b),
                        None => {
                            let mut all: Vec<&str> = DATA_TYPES.to_vec();
                            all.extend(GROUPS.iter().map(|g| g.0));
                            all.extend(["any", "other"]);
                            return Err(self.err(
                                span,
                                key,
                                format!("unknown data type {s:?}{}", suggest(&name, &all)),
                            ));
                        }
                    },
                },
            };
            set |= bits;
        }
        Ok(set)
    }

    fn rule(
        &mut self,
        table: &DeTable<'_>,
        span: Range<usize>,
        path: &str,
        ids: &[Rule],
    ) -> Result<(Rule, Vec<Range<usize>>), PolicyError> {
        let (mut id, mut severity, mut description) = (None, None, None);
        let (mut when, mut unless) = (Vec::new(), Vec::new());
        let mut unless_spans = Vec::new();
        for (k, v) in self.entries(table, path, &[RULE_KEYS])? {
            let name: &str = k.get_ref();
            let key = join(path, name);
            match name {
                "id" => {
                    let s = self.string(v, &key)?;
                    if s.is_empty()
                        || !s
                            .bytes()
                            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
                    {
                        return Err(self.err(
                            v.span(),
                            &key,
                            "a rule id is letters, digits, '-', '_' and '.'",
                        ));
                    }
                    if let Some(other) = ids.iter().find(|r| r.id == s) {
                        return Err(self.err(
                            v.span(),
                            &key,
                            format!("rule id {s:?} is used twice (first at line {})", other.line),
                        ));
                    }
                    id = Some(s);
                }
                "severity" => {
                    let s = self.string(v, &key)?;
                    let names = Severity::ALL.map(Severity::as_str);
                    severity = Some(
                        Severity::from_name(&s)
                            .ok_or_else(|| self.err(v.span(), &key, bad_value(&s, &names)))?,
                    );
                }
                "description" => description = Some(self.string(v, &key)?),
                "when" => {
                    let list = self.tables(v, &key)?;
                    let many = list.len() > 1;
                    for (i, (t, s)) in list.into_iter().enumerate() {
                        let p = if many {
                            format!("{key}[{i}]")
                        } else {
                            key.clone()
                        };
                        when.push(self.clause(t, s, &p, &[])?);
                    }
                }
                _ => {
                    let list = self.tables(v, &key)?;
                    let many = list.len() > 1;
                    for (i, (t, s)) in list.into_iter().enumerate() {
                        let p = if many {
                            format!("{key}[{i}]")
                        } else {
                            key.clone()
                        };
                        unless_spans.push(s.clone());
                        unless.push(self.clause(t, s, &p, &[])?);
                    }
                }
            }
        }
        let line = self.doc.line(span.start);
        let missing = |what: &str| self.err(span.clone(), path, format!("a rule needs {what}"));
        let id = id.ok_or_else(|| missing("an id"))?;
        let severity = severity
            .ok_or_else(|| missing("a severity (\"critical\", \"high\", \"medium\" or \"low\")"))?;
        if when.is_empty() {
            return Err(missing("a when table (the conditions that break it)"));
        }
        Ok((
            Rule {
                id,
                severity,
                description: description.filter(|d| !d.is_empty()),
                line,
                when,
                unless,
            },
            unless_spans,
        ))
    }
}

pub(super) fn parse(text: &str, source: &str) -> Result<(Policy, Vec<String>), PolicyError> {
    let mut cx = Cx {
        doc: Doc::new(text, source),
        service_names: Vec::new(),
    };
    let root = cx
        .doc
        .parse()
        .map_err(|(line, message)| PolicyError::Syntax {
            source_name: source.to_owned(),
            line,
            message,
        })?;
    let mut policy = Policy {
        name: source.to_owned(),
        source: source.to_owned(),
        description: None,
        home: Vec::new(),
        rules: Vec::new(),
        allow: Vec::new(),
        service_names: Vec::new(),
    };
    let mut allow_values = Vec::new();
    let mut rules_seen = false;
    for (k, v) in cx.entries(root.get_ref(), "", &[TOP_KEYS])? {
        let name: &str = k.get_ref();
        match name {
            "name" => {
                let s = cx.string(v, name)?;
                if s.is_empty() {
                    return Err(cx.err(v.span(), name, "a name cannot be empty"));
                }
                policy.name = s;
            }
            "description" => policy.description = Some(cx.string(v, name)?),
            "home" => {
                let mut home = Vec::new();
                for (s, span) in cx.strings(v, name)? {
                    let c = country_code(&s).map_err(|m| cx.err(span, name, m))?;
                    if !home.contains(&c) {
                        home.push(c);
                    }
                }
                policy.home = home;
            }
            "notes" => {
                if !v.get_ref().is_table() {
                    return Err(cx.err(v.span(), name, "expected a table ([notes])"));
                }
            }
            "rule" => {
                rules_seen = true;
                let list = cx.tables(v, name)?;
                if list.len() > MAX_RULES {
                    return Err(cx.err(v.span(), name, format!("more than {MAX_RULES} rules")));
                }
                for (i, (t, span)) in list.into_iter().enumerate() {
                    let (rule, unless_spans) =
                        cx.rule(t, span, &format!("rule[{i}]"), &policy.rules)?;
                    if rule
                        .when
                        .iter()
                        .all(|c| c.judges() == super::SubjectKind::Flow)
                    {
                        for (u, s) in rule.unless.iter().zip(unless_spans) {
                            if u.judges() == super::SubjectKind::Finding {
                                cx.doc.warn(
                                    s.start,
                                    format_args!(
                                        "rule {}: this unless speaks of personal data \
                                         (data, confidence, direction) but the rule judges \
                                         flows, so it never excuses anything",
                                        rule.id
                                    ),
                                );
                            }
                        }
                    }
                    policy.rules.push(rule);
                }
            }
            _ => allow_values.push(v),
        }
    }
    // Allow entries name rules, so they are read once every rule is known.
    for v in allow_values {
        for (i, (t, span)) in cx.tables(v, "allow")?.into_iter().enumerate() {
            let path = format!("allow[{i}]");
            let clause = cx.clause(t, span, &path, ALLOW_KEYS)?;
            let (mut reason, mut rules) = (None, Vec::new());
            for (k, v) in t.iter() {
                let key = join(&path, k.get_ref());
                match k.get_ref().as_ref() {
                    "reason" => reason = Some(cx.string(v, &key)?),
                    "rules" => {
                        for (id, s) in cx.strings(v, &key)? {
                            if !policy.rules.iter().any(|r| r.id == id) {
                                let ids: Vec<&str> =
                                    policy.rules.iter().map(|r| r.id.as_str()).collect();
                                return Err(cx.err(
                                    s,
                                    &key,
                                    format!("no rule has the id {id:?}{}", suggest(&id, &ids)),
                                ));
                            }
                            rules.push(id);
                        }
                    }
                    _ => {}
                }
            }
            policy.allow.push(Allow {
                reason: reason.filter(|r| !r.is_empty()),
                rules,
                clause,
            });
        }
    }
    if !rules_seen {
        return Err(cx.err(0..0, "rule", "a policy needs at least one [[rule]]"));
    }
    policy.service_names = std::mem::take(&mut cx.service_names);
    Ok((policy, cx.doc.into_warnings()))
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

fn bad_value(s: &str, allowed: &[&str]) -> String {
    let list: Vec<String> = allowed.iter().map(|a| format!("{a:?}")).collect();
    format!(
        "{s:?} is not one of {}{}",
        list.join(", "),
        suggest(s, allowed)
    )
}

/// "; did you mean ...?" when a known name is close (typos, not different words).
fn suggest(name: &str, known: &[&str]) -> String {
    let best = known
        .iter()
        .map(|k| (strsim::damerau_levenshtein(name, k), *k))
        .filter(|&(d, k)| d > 0 && d <= 2.max(k.len() / 4))
        .min();
    best.map_or_else(String::new, |(_, k)| format!("; did you mean {k:?}?"))
}

/// `"10 MB"`, `"1.5MiB"`, `"512"`: decimal units are powers of 1000, binary ones of 1024.
fn parse_size(s: &str) -> Option<u64> {
    let s = s.trim();
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '_'))
        .unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let num: f64 = num.replace('_', "").parse().ok()?;
    let mult: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "kb" | "k" => 1e3,
        "mb" | "m" => 1e6,
        "gb" | "g" => 1e9,
        "kib" => 1024.0,
        "mib" => 1024.0 * 1024.0,
        "gib" => 1024.0 * 1024.0 * 1024.0,
        _ => return None,
    };
    let v = (num * mult).round();
    // u64::MAX as f64 rounds up to 2^64, which does not fit: keep strictly below.
    (0.0..18_446_744_073_709_551_615.0)
        .contains(&v)
        .then_some(v as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> String {
        match parse(text, "p.toml") {
            Ok(_) => panic!("parsed: {text}"),
            Err(e) => e.to_string(),
        }
    }

    const HEAD: &str = "[[rule]]\nid = \"r\"\nseverity = \"high\"\n";

    #[test]
    fn unknown_keys_name_line_and_suggest() {
        assert_eq!(
            err("homee = \"TW\"\n[[rule]]\nid = \"r\"\n"),
            "p.toml:1: homee: unknown key; did you mean \"home\"?"
        );
        assert_eq!(
            err(&format!("{HEAD}sevirity = \"x\"\n")),
            "p.toml:4: rule[0].sevirity: unknown key; did you mean \"severity\"?"
        );
        assert_eq!(
            err(&format!(
                "{HEAD}[rule.when]\nservice = \"LINE\"\nserver_contry = \"CN\"\n"
            )),
            "p.toml:6: rule[0].when.server_contry: unknown key; did you mean \"server_country\"?"
        );
        assert_eq!(
            err(&format!(
                "{HEAD}when = {{ service = \"LINE\" }}\nfrobnicate = 1\n"
            )),
            "p.toml:5: rule[0].frobnicate: unknown key"
        );
        // The first mistake in the file is the one reported, whatever the map order.
        assert!(err(&format!("zzz = 1\n{HEAD}aaa = 2\n")).starts_with("p.toml:1: zzz"));
    }

    #[test]
    fn notes_are_free_form() {
        let (p, w) = parse(
            &format!(
                "[notes]\nauthor = \"lab\"\nanything = {{ x = 1 }}\n{HEAD}when = {{ app = \"x\" }}\n"
            ),
            "p.toml",
        )
        .unwrap();
        assert_eq!((p.rules.len(), w.len()), (1, 0));
        assert!(err("notes = 3\n[[rule]]\n").contains("notes: expected a table"));
    }

    #[test]
    fn values_are_checked() {
        let cases: &[(&str, &str)] = &[
            (
                "data = \"imie\"",
                "p.toml:5: rule[0].when.data: unknown data type \"imie\"; did you mean \"imei\"?",
            ),
            (
                "data = [\"any\", \"contact\"]",
                "did you mean \"contacts\"?",
            ),
            ("data = []", "an empty list matches nothing"),
            (
                "data = 3",
                "expected a string or an array of strings, found integer",
            ),
            ("service = \"\"", "an empty string matches nothing"),
            (
                "server_country = \"XX\"",
                "p.toml:5: rule[0].when.server_country: \"XX\" is not an assigned ISO 3166-1",
            ),
            ("org_country = \"abraod\"", "\"abraod\" is not an assigned"),
            (
                "encryption = \"clear\"",
                "\"clear\" is not one of \"unknown\", \"cleartext\", \"encrypted\", \"decrypted\"",
            ),
            (
                "data = \"any\"\nconfidence = \"hi\"",
                "p.toml:6: rule[0].when.confidence: \"hi\" is not one of",
            ),
            (
                "data = \"any\"\ndirection = \"sideways\"",
                "\"sideways\" is not one of",
            ),
            ("bytes_up_min = -1", "expected a byte count"),
            ("bytes_up_min = \"10 parsecs\"", "expected a byte count"),
            (
                "bytes_up_min = \"2 MB\"\nbytes_up_max = \"1 MB\"",
                "bytes_up_min (2000000) is above bytes_up_max (1000000)",
            ),
        ];
        for (body, want) in cases {
            let e = err(&format!("{HEAD}[rule.when]\n{body}\n"));
            assert!(e.contains(want), "{body}: {e}");
        }
    }

    #[test]
    fn rule_shape_is_checked() {
        assert_eq!(
            err("[[rule]]\nseverity = \"high\"\nwhen = { app = \"x\" }\n"),
            "p.toml:1: rule[0]: a rule needs an id"
        );
        assert!(err("[[rule]]\nid = \"r\"\nwhen = { app = \"x\" }\n").contains("needs a severity"));
        assert!(err(HEAD).contains("p.toml:1: rule[0]: a rule needs a when table"));
        assert!(err(&format!("{HEAD}severity2 = 1")).contains("unknown key"));
        assert!(err(&format!("{HEAD}when = {{}}\n")).contains("needs at least one condition"));
        assert!(err(&format!("{HEAD}when = []\n")).contains("found an empty array"));
        assert!(err("[[rule]]\nid = \"a b\"\n").contains("rule[0].id: a rule id is letters"));
        assert_eq!(
            err(&format!(
                "{HEAD}when = {{ app = \"x\" }}\n{HEAD}when = {{ app = \"y\" }}\n"
            )),
            "p.toml:6: rule[1].id: rule id \"r\" is used twice (first at line 1)"
        );
        assert!(err(&format!("{HEAD}severity = \"urgent\"\n")).contains("not valid TOML"));
        assert!(
            err("[[rule]]\nid = \"r\"\nseverity = \"urgent\"\nwhen = { app = \"x\" }\n")
                .contains("p.toml:3: rule[0].severity: \"urgent\" is not one of")
        );
        assert_eq!(
            err("name = \"x\"\n"),
            "p.toml:1: rule: a policy needs at least one [[rule]]"
        );
    }

    #[test]
    fn syntax_error_has_line() {
        let e = err("home = \"TW\"\n[[rule]\nid = 1\n");
        assert!(e.starts_with("p.toml:2: not valid TOML"), "{e}");
    }

    #[test]
    fn allow_names_existing_rules() {
        let e = err(&format!(
            "{HEAD}when = {{ app = \"x\" }}\n[[allow]]\nrules = [\"q\"]\nserver_name = \"a\"\n"
        ));
        assert_eq!(
            e,
            "p.toml:6: allow[0].rules: no rule has the id \"q\"; did you mean \"r\"?"
        );
        let e = err(&format!(
            "{HEAD}when = {{ app = \"x\" }}\n[[allow]]\nreason = \"r\"\n"
        ));
        assert!(
            e.contains("allow[0]: a condition table needs at least one condition"),
            "{e}"
        );
        let e = err(&format!(
            "{HEAD}when = {{ app = \"x\" }}\n[[allow]]\nreasn = \"r\"\n"
        ));
        assert!(
            e.contains("allow[0].reasn: unknown key; did you mean \"reason\"?"),
            "{e}"
        );
    }

    #[test]
    fn warns_about_unless_that_cannot_hold() {
        let (_, w) = parse(
            &format!("{HEAD}when = {{ service = \"LINE\" }}\nunless = {{ data = \"email\" }}\n"),
            "p.toml",
        )
        .unwrap();
        assert_eq!(w.len(), 1);
        assert!(w[0].starts_with("p.toml:5: rule r: this unless"), "{w:?}");
    }

    #[test]
    fn sizes() {
        for (s, want) in [
            ("512", Some(512)),
            ("10 MB", Some(10_000_000)),
            ("1.5MiB", Some(1_572_864)),
            ("2 kB", Some(2000)),
            ("1_000 B", Some(1000)),
            ("1 GiB", Some(1 << 30)),
            ("", None),
            ("MB", None),
            ("1e30 GB", None),
            ("99999999999999999999 GB", None),
            ("-5", None),
            ("5 Mb/s", None),
        ] {
            assert_eq!(parse_size(s), want, "{s:?}");
        }
    }

    #[test]
    fn home_forms() {
        let (p, _) = parse(
            &format!("home = [\"de\", \"FR\", \"DE\"]\n{HEAD}when = {{ app = \"x\" }}\n"),
            "p.toml",
        )
        .unwrap();
        assert_eq!(p.home, ["DE", "FR"]);
        assert!(err(&format!("home = \"Taiwan\"\n{HEAD}")).contains("p.toml:1: home: \"Taiwan\""));
    }
}

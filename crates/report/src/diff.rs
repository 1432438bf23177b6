//! What changed between two reports: `phonehome diff BEFORE AFTER`.
//!
//! The question a lab asks is "what does the phone send once this setting is on?": run the
//! same scenario twice (cloud sync off, then on), audit both captures, and compare. This
//! module compares two JSON reports and lists, per kind of thing, what appears only in one:
//!
//! - personal-data findings, keyed by data type, profile label, encoding and destination
//!   (never by flow id or frame, which differ between any two captures);
//! - destinations (server names), organisations, organisation countries (the law that can
//!   compel the operator), server countries (where the address is registered) and services,
//!   each with its flows and bytes sent and received;
//! - those present in both whose bytes sent or received changed a lot: by more than
//!   [`Thresholds::factor`] times *and* more than [`Thresholds::min_bytes`] (2x and 10 KB by
//!   default), so the jitter of two runs of the same scenario stays quiet.
//!
//! Organisations, countries and services are summed over flows (each flow carries its own
//! attribution; a destination only that of its largest flow). Traffic without an
//! organisation, country or service is not grouped under an "unknown" key: it still shows
//! as its destination.
//!
//! # Input
//!
//! Reports are taken as [`serde_json::Value`], so a report written by an older version, or
//! trimmed by hand, compares as long as the fields it has mean what they mean today. A
//! missing field, or one of another type, reads as empty (no flows, zero bytes, no name):
//! never an error, never a panic. [`check`] tells a report apart from some other JSON
//! document for callers that want to refuse the latter; [`from_report`] turns a freshly
//! built [`Report`] into the same form.
//!
//! # Output
//!
//! [`diff`] returns a [`Diff`], sorted deterministically (only in AFTER, then only in
//! BEFORE, then changed; most bytes first; then by name). [`write_text`] prints it for a
//! terminal, personal data first; [`write_json`] writes it as one JSON document,
//! `phonehome/diff/v1`, whose field names are stable. [`Diff::is_empty`] says whether
//! anything differs; the totals (flows, bytes, findings of each side) are context and do not
//! count as a difference.
//!
//! # Exit status
//!
//! `phonehome diff` exits 0 when [`Diff::is_empty`] (nothing differs), 1 when something
//! does, and 2 when an input cannot be read, as `diff(1)` does.
//!
//! # Limits
//!
//! The diff holds at most one entry per distinct key of both inputs, so its size is bounded
//! by theirs. The text writer lists at most [`TEXT_ROWS`] rows per section and says how
//! many it left out; the JSON writer lists everything. Byte sums saturate.
//!
//! ```
//! use serde_json::json;
//! let before = json!({"destinations": [{"name": "a.example", "flows": 1, "bytes_up": 10}]});
//! let after = json!({"destinations": [{"name": "b.example", "flows": 1, "bytes_up": 20}]});
//! let d = phonehome_report::diff::diff(&before, &after);
//! assert_eq!(d.destinations.len(), 2);
//! assert!(!d.is_empty());
//! ```

use std::cmp::Reverse;
use std::collections::BTreeMap;
use std::io::{self, Write};

use serde::Serialize;
use serde_json::Value;

use crate::summary::truncate;
use crate::{human_bytes, Report};

/// The schema identifier written at the top of a JSON diff.
pub const SCHEMA: &str = "phonehome/diff/v1";

/// Rows printed per section by [`write_text`]; the rest is counted in one line.
pub const TEXT_ROWS: usize = 200;

/// Longest organisation or service name printed in a text column.
const NAME_WIDTH: usize = 28;

/// When bytes present on both sides count as changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Thresholds {
    /// The larger side must exceed this many times the smaller one.
    pub factor: u64,
    /// And the two sides must differ by more than this many bytes.
    pub min_bytes: u64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Self {
            factor: 2,
            min_bytes: 10_000,
        }
    }
}

impl Thresholds {
    /// True when `before` and `after` differ enough to report.
    fn moved(&self, before: u64, after: u64) -> bool {
        let (lo, hi) = if before <= after {
            (before, after)
        } else {
            (after, before)
        };
        hi - lo > self.min_bytes && hi > lo.saturating_mul(self.factor)
    }
}

/// On which side something appears.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ChangeKind {
    /// Only in AFTER.
    Added,
    /// Only in BEFORE.
    Removed,
    /// In both, with bytes changed beyond the [`Thresholds`].
    Changed,
}

impl ChangeKind {
    /// The mark at the start of a text line.
    pub const fn mark(self) -> char {
        match self {
            Self::Added => '+',
            Self::Removed => '-',
            Self::Changed => '~',
        }
    }
}

/// Flows and bytes of one thing on one side (all zero when it is absent there).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Traffic {
    pub flows: u64,
    pub bytes_up: u64,
    pub bytes_down: u64,
}

impl Traffic {
    fn add(&mut self, other: Self) {
        self.flows = self.flows.saturating_add(other.flows);
        self.bytes_up = self.bytes_up.saturating_add(other.bytes_up);
        self.bytes_down = self.bytes_down.saturating_add(other.bytes_down);
    }

    fn bytes(self) -> u64 {
        self.bytes_up.saturating_add(self.bytes_down)
    }
}

/// One destination, organisation, country or service that differs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Change {
    pub change: ChangeKind,
    /// The destination's name, the organisation's name, the ISO 3166-1 alpha-2 code or the
    /// service's name.
    pub key: String,
    pub before: Traffic,
    pub after: Traffic,
    /// Attribution, from AFTER when present there (else BEFORE); for a destination its own,
    /// for an organisation or service that of its first flow.
    pub org: Option<String>,
    pub org_country: Option<String>,
    pub server_country: Option<String>,
    pub service: Option<String>,
}

/// One kind of personal data sent to one destination, on one side only.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FindingChange {
    /// `Added` or `Removed`.
    pub change: ChangeKind,
    /// "imei", "phone", ... ("unknown" when the report does not say).
    pub data_type: String,
    /// The profile entry it came from.
    pub label: Option<String>,
    /// How the value was transformed before it was sent (empty: as is).
    pub encoding: Vec<String>,
    /// The server name, or the server address when the flow had no name ("?" if neither).
    pub destination: String,
    pub org: Option<String>,
    pub org_country: Option<String>,
    pub server_country: Option<String>,
    /// Findings folded into this entry, and the times they were seen in all.
    pub findings: u64,
    pub count: u64,
}

/// Context of one side: what it held in all.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Side {
    pub flows: u64,
    pub destinations: u64,
    pub bytes_up: u64,
    pub bytes_down: u64,
    /// Personal-data findings.
    pub findings: u64,
    /// The policy verdict ("pass", "fail", "no-policy") and its violations.
    pub verdict: Option<String>,
    pub violations: u64,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Totals {
    pub before: Side,
    pub after: Side,
}

/// Everything that differs between two reports.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Diff {
    pub schema: &'static str,
    pub thresholds: Thresholds,
    pub findings: Vec<FindingChange>,
    pub destinations: Vec<Change>,
    pub orgs: Vec<Change>,
    /// By the organisation's headquarters country (law).
    pub org_countries: Vec<Change>,
    /// By the country the server address is registered in.
    pub server_countries: Vec<Change>,
    pub services: Vec<Change>,
    pub totals: Totals,
}

impl Diff {
    /// True when nothing differs (the totals aside): `phonehome diff` then exits 0.
    pub fn is_empty(&self) -> bool {
        self.findings.is_empty()
            && self.destinations.is_empty()
            && self.orgs.is_empty()
            && self.org_countries.is_empty()
            && self.server_countries.is_empty()
            && self.services.is_empty()
    }
}

/// Why a JSON document is not a report.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum DiffError {
    #[error("not a phonehome report: the document is not a JSON object")]
    NotAnObject,
    #[error("not a phonehome report: schema is {0:?}")]
    OtherSchema(String),
}

/// Accepts a JSON object whose `schema` is a phonehome report's, or that has none (reports
/// trimmed by hand); refuses anything else, e.g. a diff or an NDJSON line fed back in.
pub fn check(report: &Value) -> Result<(), DiffError> {
    let Some(obj) = report.as_object() else {
        return Err(DiffError::NotAnObject);
    };
    match obj.get("schema") {
        None | Some(Value::Null) => Ok(()),
        Some(Value::String(s)) if s.starts_with("phonehome/report/") => Ok(()),
        Some(other) => Err(DiffError::OtherSchema(match other {
            Value::String(s) => s.clone(),
            v => v.to_string(),
        })),
    }
}

/// A report as the JSON value [`diff`] reads, exactly as [`crate::write_json`] would write it.
pub fn from_report(report: &Report) -> Value {
    // Serializing the report model cannot fail (no maps with non-string keys, no custom
    // serializers); should it ever, an empty value reads as an empty report.
    serde_json::to_value(report).unwrap_or(Value::Null)
}

/// Compares two reports with the default [`Thresholds`].
pub fn diff(before: &Value, after: &Value) -> Diff {
    diff_with(before, after, Thresholds::default())
}

/// Compares two reports.
pub fn diff_with(before: &Value, after: &Value, thresholds: Thresholds) -> Diff {
    let b = Summary::read(before);
    let a = Summary::read(after);
    Diff {
        schema: SCHEMA,
        thresholds,
        findings: compare_findings(&b.findings, &a.findings),
        destinations: compare(&b.destinations, &a.destinations, thresholds),
        orgs: compare(&b.orgs, &a.orgs, thresholds),
        org_countries: compare(&b.org_countries, &a.org_countries, thresholds),
        server_countries: compare(&b.server_countries, &a.server_countries, thresholds),
        services: compare(&b.services, &a.services, thresholds),
        totals: Totals {
            before: b.side,
            after: a.side,
        },
    }
}

// ---------------------------------------------------------------- reading a report

fn list<'a>(v: &'a Value, key: &str) -> &'a [Value] {
    v.get(key)
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

fn text<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str).filter(|s| !s.is_empty())
}

fn num(v: &Value, key: &str) -> u64 {
    v.get(key).and_then(Value::as_u64).unwrap_or(0)
}

/// The host of a flow's "address:port" (IPv6 in brackets), or the text as is.
fn host(server: &str) -> &str {
    match server.parse::<std::net::SocketAddr>() {
        Ok(_) => match server.rsplit_once(':') {
            Some((h, _)) => h.trim_start_matches('[').trim_end_matches(']'),
            None => server,
        },
        Err(_) => server,
    }
}

/// The attribution carried along with a group's traffic.
#[derive(Clone, Debug, Default)]
struct Attribution {
    org: Option<String>,
    org_country: Option<String>,
    server_country: Option<String>,
    service: Option<String>,
}

impl Attribution {
    fn of(v: &Value) -> Self {
        Self {
            org: text(v, "org").map(str::to_string),
            org_country: text(v, "org_country").map(str::to_string),
            server_country: text(v, "server_country").map(str::to_string),
            service: text(v, "service").map(str::to_string),
        }
    }

    /// Keeps what is known, fills the gaps from `other`.
    fn or(self, other: &Self) -> Self {
        Self {
            org: self.org.or_else(|| other.org.clone()),
            org_country: self.org_country.or_else(|| other.org_country.clone()),
            server_country: self.server_country.or_else(|| other.server_country.clone()),
            service: self.service.or_else(|| other.service.clone()),
        }
    }
}

#[derive(Clone, Debug, Default)]
struct Group {
    traffic: Traffic,
    attribution: Attribution,
}

type Groups = BTreeMap<String, Group>;

fn add_to(groups: &mut Groups, key: &str, traffic: Traffic, attribution: Attribution) {
    let g = groups.entry(key.to_string()).or_default();
    g.traffic.add(traffic);
    let known = std::mem::take(&mut g.attribution);
    g.attribution = known.or(&attribution);
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct FindingKey {
    data_type: String,
    label: Option<String>,
    encoding: Vec<String>,
    destination: String,
}

#[derive(Clone, Debug, Default)]
struct FindingGroup {
    findings: u64,
    count: u64,
    attribution: Attribution,
}

/// One report, grouped by every key the diff compares.
#[derive(Default)]
struct Summary {
    destinations: Groups,
    orgs: Groups,
    org_countries: Groups,
    server_countries: Groups,
    services: Groups,
    findings: BTreeMap<FindingKey, FindingGroup>,
    side: Side,
}

impl Summary {
    fn read(report: &Value) -> Self {
        let mut s = Self::default();
        let flows = list(report, "flows");
        let dests = list(report, "destinations");

        // Flows carry the finest attribution; a report without them (trimmed, or written
        // with only destinations) is grouped by its destinations instead.
        let units: Vec<(Traffic, Attribution)> = if flows.is_empty() {
            dests
                .iter()
                .map(|d| (traffic(d, num(d, "flows")), Attribution::of(d)))
                .collect()
        } else {
            flows
                .iter()
                .map(|f| (traffic(f, 1), Attribution::of(f)))
                .collect()
        };
        for (t, a) in &units {
            s.side.bytes_up = s.side.bytes_up.saturating_add(t.bytes_up);
            s.side.bytes_down = s.side.bytes_down.saturating_add(t.bytes_down);
            if let Some(org) = &a.org {
                add_to(&mut s.orgs, org, *t, a.clone());
            }
            if let Some(cc) = &a.org_country {
                add_to(&mut s.org_countries, cc, *t, Attribution::default());
            }
            if let Some(cc) = &a.server_country {
                add_to(&mut s.server_countries, cc, *t, Attribution::default());
            }
            if let Some(service) = &a.service {
                add_to(&mut s.services, service, *t, a.clone());
            }
        }

        if dests.is_empty() {
            for f in flows {
                let name = text(f, "server_name")
                    .or_else(|| text(f, "server").map(host))
                    .unwrap_or("?");
                add_to(&mut s.destinations, name, traffic(f, 1), Attribution::of(f));
            }
        } else {
            for d in dests {
                let first_ip = list(d, "ips").first().and_then(Value::as_str);
                let name = text(d, "name").or(first_ip).unwrap_or("?");
                add_to(
                    &mut s.destinations,
                    name,
                    traffic(d, num(d, "flows")),
                    Attribution::of(d),
                );
            }
        }

        let by_id: BTreeMap<u64, &Value> = flows
            .iter()
            .filter_map(|f| f.get("id").and_then(Value::as_u64).map(|id| (id, f)))
            .collect();
        for f in list(report, "findings") {
            if !is_personal_data(f) {
                continue;
            }
            s.side.findings = s.side.findings.saturating_add(1);
            let flow = f
                .get("flow")
                .and_then(Value::as_u64)
                .and_then(|id| by_id.get(&id).copied());
            let destination = text(f, "server_name")
                .or_else(|| flow.and_then(|fl| text(fl, "server_name")))
                .or_else(|| flow.and_then(|fl| text(fl, "server").map(host)))
                .unwrap_or("?");
            let key = FindingKey {
                data_type: text(f, "data_type").unwrap_or("unknown").to_string(),
                label: text(f, "label").map(str::to_string),
                encoding: list(f, "encoding")
                    .iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect(),
                destination: destination.to_string(),
            };
            let attribution = match flow {
                Some(fl) => Attribution::of(f).or(&Attribution::of(fl)),
                None => Attribution::of(f),
            };
            let g = s.findings.entry(key).or_default();
            g.findings = g.findings.saturating_add(1);
            // A finding is seen at least once, whatever an older report's count says.
            g.count = g.count.saturating_add(num(f, "count").max(1));
            let known = std::mem::take(&mut g.attribution);
            g.attribution = known.or(&attribution);
        }

        s.side.flows = if flows.is_empty() {
            num(report.get("stats").unwrap_or(&Value::Null), "flows")
        } else {
            u64::try_from(flows.len()).unwrap_or(u64::MAX)
        };
        s.side.destinations = u64::try_from(s.destinations.len()).unwrap_or(u64::MAX);
        let verdict = report.get("verdict").unwrap_or(&Value::Null);
        s.side.verdict = text(verdict, "status").map(str::to_string);
        s.side.violations = num(verdict, "violations");
        s
    }
}

fn traffic(v: &Value, flows: u64) -> Traffic {
    Traffic {
        flows,
        bytes_up: num(v, "bytes_up"),
        bytes_down: num(v, "bytes_down"),
    }
}

/// Personal data, not a policy finding; reports that predate `kind` count a finding with a
/// data type as personal data.
fn is_personal_data(f: &Value) -> bool {
    match f.get("kind").and_then(Value::as_str) {
        Some(kind) => kind == "personal_data",
        None => text(f, "data_type").is_some(),
    }
}

// ---------------------------------------------------------------- comparing

fn compare(before: &Groups, after: &Groups, th: Thresholds) -> Vec<Change> {
    let mut out = Vec::new();
    for (key, b) in before {
        let Some(a) = after.get(key) else {
            out.push(change(
                ChangeKind::Removed,
                key,
                b.traffic,
                Traffic::default(),
                &b.attribution,
            ));
            continue;
        };
        let moved = th.moved(b.traffic.bytes_up, a.traffic.bytes_up)
            || th.moved(b.traffic.bytes_down, a.traffic.bytes_down);
        if moved {
            let attribution = a.attribution.clone().or(&b.attribution);
            out.push(change(
                ChangeKind::Changed,
                key,
                b.traffic,
                a.traffic,
                &attribution,
            ));
        }
    }
    for (key, a) in after {
        if !before.contains_key(key) {
            out.push(change(
                ChangeKind::Added,
                key,
                Traffic::default(),
                a.traffic,
                &a.attribution,
            ));
        }
    }
    out.sort_by(|x, y| {
        let weight = |c: &Change| Reverse(c.before.bytes().max(c.after.bytes()));
        (x.change, weight(x), &x.key).cmp(&(y.change, weight(y), &y.key))
    });
    out
}

fn change(kind: ChangeKind, key: &str, before: Traffic, after: Traffic, a: &Attribution) -> Change {
    Change {
        change: kind,
        key: key.to_string(),
        before,
        after,
        org: a.org.clone(),
        org_country: a.org_country.clone(),
        server_country: a.server_country.clone(),
        service: a.service.clone(),
    }
}

fn compare_findings(
    before: &BTreeMap<FindingKey, FindingGroup>,
    after: &BTreeMap<FindingKey, FindingGroup>,
) -> Vec<FindingChange> {
    let only = |kind, this: &BTreeMap<FindingKey, FindingGroup>, other: &BTreeMap<_, _>| {
        this.iter()
            .filter(|(k, _)| !other.contains_key(*k))
            .map(move |(k, g)| FindingChange {
                change: kind,
                data_type: k.data_type.clone(),
                label: k.label.clone(),
                encoding: k.encoding.clone(),
                destination: k.destination.clone(),
                org: g.attribution.org.clone(),
                org_country: g.attribution.org_country.clone(),
                server_country: g.attribution.server_country.clone(),
                findings: g.findings,
                count: g.count,
            })
            .collect::<Vec<_>>()
    };
    // Both maps iterate in key order, so each half is already sorted by data type, label,
    // encoding and destination.
    let mut out = only(ChangeKind::Added, after, before);
    out.extend(only(ChangeKind::Removed, before, after));
    out
}

// ---------------------------------------------------------------- writers

/// Writes the diff as one pretty-printed JSON document (`phonehome/diff/v1`).
pub fn write_json(diff: &Diff, out: &mut impl Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, diff)?;
    out.write_all(b"\n")
}

/// Writes the diff for a terminal: personal data first, then destinations, organisations,
/// countries and services, then both sides' totals.
pub fn write_text(diff: &Diff, out: &mut impl Write) -> io::Result<()> {
    writeln!(
        out,
        "+ only in AFTER   - only in BEFORE   \
         ~ in both, bytes changed more than {}x and by more than {}",
        diff.thresholds.factor,
        human_bytes(diff.thresholds.min_bytes)
    )?;
    if diff.is_empty() {
        writeln!(out)?;
        writeln!(
            out,
            "no difference in personal data, destinations, organisations, countries or services"
        )?;
    }
    if !diff.findings.is_empty() {
        let rows = diff
            .findings
            .iter()
            .map(|f| {
                let encoding = if f.encoding.is_empty() {
                    "as is".to_string()
                } else {
                    f.encoding.join("+")
                };
                let times = if f.count == 1 { "time" } else { "times" };
                (
                    f.change,
                    vec![
                        f.data_type.clone(),
                        f.label.clone().unwrap_or_else(|| "-".into()),
                        encoding,
                        f.destination.clone(),
                        truncate(f.org.as_deref().unwrap_or("-"), NAME_WIDTH),
                        f.org_country.clone().unwrap_or_else(|| "-".into()),
                        f.server_country.clone().unwrap_or_else(|| "-".into()),
                        format!("{} {times}", f.count),
                    ],
                )
            })
            .collect();
        let table = Table {
            title: "PERSONAL DATA",
            header: &[
                "DATA",
                "LABEL",
                "ENCODING",
                "DESTINATION",
                "ORGANISATION",
                "LAW",
                "SERVER",
                "SEEN",
            ],
            right: &[false, false, false, false, false, false, false, true],
            rows,
        };
        table.write(out)?;
    }
    let sections: [(&str, &str, &[Change], bool); 5] = [
        ("DESTINATIONS", "NAME", &diff.destinations, true),
        ("ORGANISATIONS", "ORGANISATION", &diff.orgs, false),
        (
            "ORGANISATION COUNTRIES (law)",
            "COUNTRY",
            &diff.org_countries,
            false,
        ),
        (
            "SERVER COUNTRIES (address)",
            "COUNTRY",
            &diff.server_countries,
            false,
        ),
        ("SERVICES", "SERVICE", &diff.services, false),
    ];
    for (title, name, changes, attributed) in sections {
        if changes.is_empty() {
            continue;
        }
        let rows = changes
            .iter()
            .map(|c| {
                let mut row = vec![
                    c.key.clone(),
                    side_by_side(c, |t| t.flows.to_string()),
                    side_by_side(c, |t| human_bytes(t.bytes_up)),
                    side_by_side(c, |t| human_bytes(t.bytes_down)),
                ];
                if attributed {
                    row.push(truncate(c.org.as_deref().unwrap_or("-"), NAME_WIDTH));
                    row.push(c.org_country.clone().unwrap_or_else(|| "-".into()));
                    row.push(c.server_country.clone().unwrap_or_else(|| "-".into()));
                }
                (c.change, row)
            })
            .collect();
        let table = Table {
            title,
            header: if attributed {
                &[
                    name,
                    "FLOWS",
                    "SENT",
                    "RECEIVED",
                    "ORGANISATION",
                    "LAW",
                    "SERVER",
                ]
            } else {
                &[name, "FLOWS", "SENT", "RECEIVED"]
            },
            right: &[false, true, true, true, false, false, false],
            rows,
        };
        table.write(out)?;
    }
    write_totals(&diff.totals, out)
}

/// The one side's value for added and removed entries, "before -> after" for changed ones.
fn side_by_side(c: &Change, show: impl Fn(Traffic) -> String) -> String {
    match c.change {
        ChangeKind::Added => show(c.after),
        ChangeKind::Removed => show(c.before),
        ChangeKind::Changed => format!("{} -> {}", show(c.before), show(c.after)),
    }
}

fn write_totals(t: &Totals, out: &mut impl Write) -> io::Result<()> {
    let verdict = |s: &Side| match s.verdict.as_deref() {
        Some(v) if s.violations > 0 => format!("{v} ({} violations)", s.violations),
        Some(v) => v.to_string(),
        None => "-".to_string(),
    };
    let lines = [
        (
            "flows",
            t.before.flows.to_string(),
            t.after.flows.to_string(),
        ),
        (
            "destinations",
            t.before.destinations.to_string(),
            t.after.destinations.to_string(),
        ),
        (
            "sent",
            human_bytes(t.before.bytes_up),
            human_bytes(t.after.bytes_up),
        ),
        (
            "received",
            human_bytes(t.before.bytes_down),
            human_bytes(t.after.bytes_down),
        ),
        (
            "personal data",
            t.before.findings.to_string(),
            t.after.findings.to_string(),
        ),
        ("policy", verdict(&t.before), verdict(&t.after)),
    ];
    let w1 = lines
        .iter()
        .map(|l| l.1.chars().count())
        .max()
        .unwrap_or(0)
        .max(6);
    let w2 = lines
        .iter()
        .map(|l| l.2.chars().count())
        .max()
        .unwrap_or(0)
        .max(5);
    writeln!(out)?;
    writeln!(out, "{:<15}  {:>w1$}  {:>w2$}", "TOTALS", "BEFORE", "AFTER")?;
    for (what, b, a) in lines {
        writeln!(out, "  {what:<13}  {b:>w1$}  {a:>w2$}")?;
    }
    Ok(())
}

/// A section: a title, a header and rows marked +, - or ~, columns padded to their widest
/// cell. Written by hand: the layout is three lines of arithmetic, and a table crate would
/// bring borders and wrapping the rest of the terminal output does not use.
struct Table<'a> {
    title: &'a str,
    header: &'a [&'a str],
    /// Right-align this column (numbers); columns past its end are left-aligned.
    right: &'a [bool],
    rows: Vec<(ChangeKind, Vec<String>)>,
}

impl Table<'_> {
    fn write(&self, out: &mut impl Write) -> io::Result<()> {
        let (mut added, mut removed, mut changed) = (0usize, 0usize, 0usize);
        for (kind, _) in &self.rows {
            match kind {
                ChangeKind::Added => added += 1,
                ChangeKind::Removed => removed += 1,
                ChangeKind::Changed => changed += 1,
            }
        }
        let shown = &self.rows[..self.rows.len().min(TEXT_ROWS)];
        let mut widths: Vec<usize> = self.header.iter().map(|h| h.chars().count()).collect();
        for (_, cells) in shown {
            for (i, cell) in cells.iter().enumerate() {
                if let Some(w) = widths.get_mut(i) {
                    *w = (*w).max(cell.chars().count());
                }
            }
        }
        let mut counts = vec![
            format!("{added} only in AFTER"),
            format!("{removed} only in BEFORE"),
        ];
        if changed > 0 {
            counts.push(format!("{changed} changed"));
        }
        writeln!(out)?;
        writeln!(out, "{}: {}", self.title, counts.join(", "))?;
        let header: Vec<String> = self.header.iter().map(|h| h.to_string()).collect();
        self.line(out, "   ", &header, &widths)?;
        for (kind, cells) in shown {
            self.line(out, &format!("  {}", kind.mark()), cells, &widths)?;
        }
        if self.rows.len() > shown.len() {
            writeln!(out, "   ... and {} more", self.rows.len() - shown.len())?;
        }
        Ok(())
    }

    fn line(
        &self,
        out: &mut impl Write,
        lead: &str,
        cells: &[String],
        widths: &[usize],
    ) -> io::Result<()> {
        let mut line = String::from(lead);
        for (i, cell) in cells.iter().enumerate() {
            let width = widths.get(i).copied().unwrap_or(0);
            let pad = " ".repeat(width.saturating_sub(cell.chars().count()));
            line.push(' ');
            if self.right.get(i).copied().unwrap_or(false) {
                line.push_str(&pad);
                line.push_str(cell);
            } else {
                line.push_str(cell);
                line.push_str(&pad);
            }
            line.push(' ');
        }
        writeln!(out, "{}", line.trim_end())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn flow(
        id: u64,
        name: &str,
        org: &str,
        cc: &str,
        server_cc: &str,
        up: u64,
        down: u64,
    ) -> Value {
        json!({
            "id": id, "server": "198.51.100.7:443", "server_name": name,
            "org": org, "org_country": cc, "server_country": server_cc,
            "bytes_up": up, "bytes_down": down,
        })
    }

    fn dest(name: &str, org: &str, cc: &str, flows: u64, up: u64, down: u64) -> Value {
        json!({
            "name": name, "ips": ["198.51.100.7"], "flows": flows,
            "org": org, "org_country": cc, "server_country": cc,
            "bytes_up": up, "bytes_down": down,
        })
    }

    fn phone_finding(flow: u64, server: &str, encoding: &[&str]) -> Value {
        json!({
            "kind": "personal_data", "flow": flow, "data_type": "phone", "label": "phone",
            "encoding": encoding, "count": 1, "server_name": server,
            "org": "Xiaomi", "org_country": "CN", "server_country": "CN",
        })
    }

    /// Cloud sync off: the vendor API and Google's connectivity check.
    fn sync_off() -> Value {
        json!({
            "schema": "phonehome/report/v1",
            "flows": [
                flow(1, "api.example-vendor.com", "Example Vendor", "US", "US", 600, 1300),
                flow(2, "connectivitycheck.gstatic.com", "Google", "US", "US", 300, 900),
            ],
            "destinations": [
                dest("api.example-vendor.com", "Example Vendor", "US", 1, 600, 1300),
                dest("connectivitycheck.gstatic.com", "Google", "US", 1, 300, 900),
            ],
            "findings": [],
            "verdict": {"status": "no-policy", "violations": 0},
        })
    }

    /// Cloud sync on: the vendor API again, Xiaomi added with the phone number in clear.
    fn sync_on() -> Value {
        json!({
            "schema": "phonehome/report/v1",
            "flows": [
                flow(1, "api.example-vendor.com", "Example Vendor", "US", "US", 610, 1300),
                flow(2, "sync.xiaomi.com", "Xiaomi", "CN", "CN", 250, 1500),
                flow(3, "sync.xiaomi.com", "Xiaomi", "CN", "CN", 300, 110),
            ],
            "destinations": [
                dest("api.example-vendor.com", "Example Vendor", "US", 1, 610, 1300),
                dest("sync.xiaomi.com", "Xiaomi", "CN", 2, 550, 1610),
            ],
            "findings": [
                phone_finding(3, "sync.xiaomi.com", &[]),
                {"kind": "policy", "rule": "no-phone-abroad", "severity": "high"},
            ],
            "verdict": {"status": "fail", "violations": 1},
        })
    }

    fn keys(changes: &[Change]) -> Vec<(ChangeKind, &str)> {
        changes.iter().map(|c| (c.change, c.key.as_str())).collect()
    }

    #[test]
    fn cloud_sync_on_adds_xiaomi_and_drops_google() {
        let d = diff(&sync_off(), &sync_on());
        assert_eq!(
            keys(&d.destinations),
            [
                (ChangeKind::Added, "sync.xiaomi.com"),
                (ChangeKind::Removed, "connectivitycheck.gstatic.com")
            ]
        );
        let xiaomi = &d.destinations[0];
        assert_eq!(
            xiaomi.after,
            Traffic {
                flows: 2,
                bytes_up: 550,
                bytes_down: 1610
            }
        );
        assert_eq!(xiaomi.before, Traffic::default());
        assert_eq!(xiaomi.org.as_deref(), Some("Xiaomi"));
        assert_eq!(d.destinations[1].before.bytes_up, 300);
        assert_eq!(
            keys(&d.orgs),
            [
                (ChangeKind::Added, "Xiaomi"),
                (ChangeKind::Removed, "Google")
            ]
        );
        // The US stays (the vendor API): only its bytes moved, and too little to report.
        assert_eq!(keys(&d.org_countries), [(ChangeKind::Added, "CN")]);
        assert_eq!(keys(&d.server_countries), [(ChangeKind::Added, "CN")]);
        assert_eq!(d.org_countries[0].after.flows, 2);
        assert!(d.services.is_empty());
        assert_eq!(
            d.findings.len(),
            1,
            "the policy finding is not personal data"
        );
        let f = &d.findings[0];
        assert_eq!(
            (
                f.change,
                f.data_type.as_str(),
                f.destination.as_str(),
                f.count
            ),
            (ChangeKind::Added, "phone", "sync.xiaomi.com", 1)
        );
        assert_eq!(f.org_country.as_deref(), Some("CN"));
        assert_eq!(d.totals.before.flows, 2);
        assert_eq!(d.totals.after.flows, 3);
        assert_eq!(d.totals.after.bytes_up, 1160);
        assert_eq!(d.totals.after.findings, 1);
        assert_eq!(d.totals.after.violations, 1);
        assert!(!d.is_empty());

        // The other way round, everything swaps sides.
        let r = diff(&sync_on(), &sync_off());
        assert_eq!(
            keys(&r.destinations),
            [
                (ChangeKind::Added, "connectivitycheck.gstatic.com"),
                (ChangeKind::Removed, "sync.xiaomi.com")
            ]
        );
        assert_eq!(r.findings[0].change, ChangeKind::Removed);
    }

    #[test]
    fn a_report_against_itself_is_empty() {
        let d = diff(&sync_on(), &sync_on());
        assert!(d.is_empty(), "{d:?}");
        assert_eq!(d.totals.before, d.totals.after);
        let mut text = Vec::new();
        write_text(&d, &mut text).unwrap();
        let text = String::from_utf8(text).unwrap();
        assert!(text.contains("no difference"), "{text}");
        assert!(!text.contains("DESTINATIONS"), "{text}");
    }

    #[test]
    fn thresholds_need_both_factor_and_bytes() {
        let th = Thresholds::default();
        // (before, after, reported)
        let cases = [
            (0, 10_000, false),      // by exactly 10 KB: not more
            (0, 10_001, true),       // from nothing
            (10_001, 0, true),       // to nothing
            (20_000, 40_000, false), // exactly 2x
            (20_000, 40_001, true),
            (5_000, 14_000, false),        // 2.8x but only 9 KB
            (1_000_000, 1_900_000, false), // 900 KB more, but under 2x
            (3_000_000, 1_000, true),
            (u64::MAX, 0, true),
            (u64::MAX / 2 + 1, u64::MAX, false), // 2x saturates: not more
        ];
        for (b, a, want) in cases {
            assert_eq!(th.moved(b, a), want, "{b} -> {a}");
        }
    }

    #[test]
    fn large_changes_in_both_are_listed_small_ones_not() {
        let report = |up: u64, down: u64| {
            json!({"flows": [
                flow(1, "photos.example.net", "Example Cloud", "US", "US", up, down),
                flow(2, "time.example.org", "Example Time", "DE", "DE", 90, 90),
            ]})
        };
        let d = diff(&report(4_000, 8_000), &report(900_000, 9_000));
        assert_eq!(
            keys(&d.destinations),
            [(ChangeKind::Changed, "photos.example.net")]
        );
        let c = &d.destinations[0];
        assert_eq!((c.before.bytes_up, c.after.bytes_up), (4_000, 900_000));
        assert_eq!(keys(&d.orgs), [(ChangeKind::Changed, "Example Cloud")]);
        assert_eq!(keys(&d.org_countries), [(ChangeKind::Changed, "US")]);
        // Received bytes alone can change enough too.
        let d = diff(&report(100, 100), &report(100, 50_000));
        assert_eq!(
            keys(&d.destinations),
            [(ChangeKind::Changed, "photos.example.net")]
        );
        assert!(diff(&report(4_000, 8_000), &report(9_000, 16_000)).is_empty());
        let loose = Thresholds {
            factor: 1,
            min_bytes: 0,
        };
        assert!(!diff_with(&report(4_000, 8_000), &report(4_001, 8_000), loose).is_empty());
    }

    #[test]
    fn findings_are_keyed_by_what_and_where_not_by_flow() {
        let report = |findings: Vec<Value>| json!({"findings": findings});
        // Same data, encoding and destination in another flow and frame: no difference.
        let before = report(vec![phone_finding(3, "sync.xiaomi.com", &["sha1", "hex"])]);
        let after = report(vec![phone_finding(17, "sync.xiaomi.com", &["sha1", "hex"])]);
        assert!(diff(&before, &after).findings.is_empty());
        // Another encoding is another finding.
        let after = report(vec![phone_finding(17, "sync.xiaomi.com", &["md5", "hex"])]);
        let d = diff(&before, &after);
        let got: Vec<_> = d
            .findings
            .iter()
            .map(|f| (f.change, f.encoding.join("+")))
            .collect();
        assert_eq!(
            got,
            [
                (ChangeKind::Added, "md5+hex".to_string()),
                (ChangeKind::Removed, "sha1+hex".to_string())
            ]
        );
        // Several findings of one key fold into one entry.
        let after = report(vec![
            phone_finding(1, "a.example", &[]),
            phone_finding(2, "a.example", &[]),
        ]);
        let d = diff(&json!({}), &after);
        assert_eq!(d.findings.len(), 1);
        assert_eq!((d.findings[0].findings, d.findings[0].count), (2, 2));
    }

    #[test]
    fn finding_destination_falls_back_to_its_flow() {
        let after = json!({
            "flows": [
                {"id": 4, "server": "203.0.113.9:80", "org": "Example Ads", "bytes_up": 1},
                {"id": 5, "server": "[2001:db8::1]:443", "bytes_up": 1},
            ],
            "findings": [
                {"kind": "personal_data", "flow": 4, "data_type": "imei"},
                {"kind": "personal_data", "flow": 5, "data_type": "imei"},
                {"kind": "personal_data", "flow": 99, "data_type": "imei"},
                // Written before findings had a kind.
                {"data_type": "email", "server_name": "mail.example"},
            ],
        });
        let d = diff(&json!({}), &after);
        let got: Vec<_> = d
            .findings
            .iter()
            .map(|f| {
                (
                    f.data_type.as_str(),
                    f.destination.as_str(),
                    f.org.as_deref(),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                ("email", "mail.example", None),
                ("imei", "2001:db8::1", None),
                ("imei", "203.0.113.9", Some("Example Ads")),
                ("imei", "?", None),
            ]
        );
        // Unnamed flows become destinations by address.
        assert_eq!(
            keys(&d.destinations),
            [
                (ChangeKind::Added, "2001:db8::1"),
                (ChangeKind::Added, "203.0.113.9")
            ]
        );
    }

    #[test]
    fn missing_or_mistyped_fields_read_as_empty() {
        let odd = [
            json!(null),
            json!([]),
            json!("report"),
            json!({}),
            json!({"flows": "many", "destinations": {"a": 1}, "findings": 7, "verdict": []}),
            json!({"flows": [1, "x", null, {"bytes_up": "lots", "bytes_down": -5}]}),
            json!({
                "destinations": [{"name": 3, "ips": [4]}, {"flows": 1.5}],
                "stats": {"flows": 9},
            }),
            json!({"findings": [{"kind": "personal_data", "encoding": [1, null], "count": "x"}]}),
        ];
        for a in &odd {
            for b in &odd {
                let d = diff(a, b);
                let mut sink = Vec::new();
                write_text(&d, &mut sink).unwrap();
                write_json(&d, &mut sink).unwrap();
            }
        }
        assert!(diff(&json!(null), &json!({})).is_empty());
        let d = diff(&json!({}), &odd[6]);
        assert_eq!(keys(&d.destinations), [(ChangeKind::Added, "?")]);
        assert_eq!(d.totals.after.flows, 9);
        let d = diff(&json!({}), &odd[7]);
        assert_eq!(d.findings[0].data_type, "unknown");
        assert_eq!(d.findings[0].count, 1);
    }

    #[test]
    fn reports_without_flows_group_by_destination() {
        let before = json!({"destinations": [dest("a.example", "Example A", "FR", 3, 100, 200)]});
        let after = json!({"destinations": [dest("b.example", "Example B", "FR", 2, 50, 60)]});
        let d = diff(&before, &after);
        assert_eq!(
            keys(&d.orgs),
            [
                (ChangeKind::Added, "Example B"),
                (ChangeKind::Removed, "Example A")
            ]
        );
        assert!(
            d.org_countries.is_empty(),
            "FR on both sides, little traffic"
        );
        assert_eq!(d.orgs[1].before.flows, 3);
        assert_eq!(d.totals.before.bytes_up, 100);
    }

    #[test]
    fn order_is_added_removed_changed_then_bytes_then_name() {
        let only = |names: &[(&str, u64)]| {
            let dests: Vec<Value> = names
                .iter()
                .map(|(n, b)| dest(n, "", "", 1, *b, 0))
                .collect();
            json!({ "destinations": dests })
        };
        let before = only(&[("gone-small", 10), ("gone-big", 900), ("grows", 1)]);
        let after = only(&[
            ("b-new", 50),
            ("a-new", 50),
            ("huge-new", 10_000),
            ("grows", 99_000),
        ]);
        let d = diff(&before, &after);
        assert_eq!(
            keys(&d.destinations),
            [
                (ChangeKind::Added, "huge-new"),
                (ChangeKind::Added, "a-new"),
                (ChangeKind::Added, "b-new"),
                (ChangeKind::Removed, "gone-big"),
                (ChangeKind::Removed, "gone-small"),
                (ChangeKind::Changed, "grows"),
            ]
        );
        assert!(
            d.orgs.is_empty(),
            "empty organisation names are no organisation"
        );
    }

    #[test]
    fn text_puts_personal_data_first_and_aligns_columns() {
        let d = diff(&sync_off(), &sync_on());
        let mut out = Vec::new();
        write_text(&d, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        let pos = |s: &str| {
            text.find(s)
                .unwrap_or_else(|| panic!("no {s:?} in\n{text}"))
        };
        assert!(pos("PERSONAL DATA: 1 only in AFTER, 0 only in BEFORE") < pos("DESTINATIONS"));
        assert!(pos("DESTINATIONS") < pos("ORGANISATIONS"));
        assert!(pos("SERVER COUNTRIES") < pos("TOTALS"));
        let added = text
            .lines()
            .find(|l| l.starts_with("  + sync.xiaomi.com"))
            .unwrap();
        let removed = text
            .lines()
            .find(|l| l.starts_with("  - connectivitycheck.gstatic.com"))
            .unwrap();
        assert!(added.contains("550 B") && added.contains("1.6 KB") && added.contains("Xiaomi"));
        // Right-aligned SENT column: both rows end their byte counts at the same place.
        let end = |line: &str, s: &str| line.find(s).map(|i| i + s.len());
        assert_eq!(end(added, "550 B"), end(removed, "300 B"));
        assert!(text.contains("  + phone"), "{text}");
        assert!(text.contains("as is"), "{text}");
        assert!(text.contains("fail (1 violations)"), "{text}");

        let changed = json!({"flows": [flow(1, "photos.example.net", "", "", "", 40_000, 10)]});
        let d = diff(
            &json!({"flows": [flow(1, "photos.example.net", "", "", "", 4_000, 10)]}),
            &changed,
        );
        let mut out = Vec::new();
        write_text(&d, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("4.0 KB -> 40.0 KB"), "{text}");
        assert!(
            text.contains(": 0 only in AFTER, 0 only in BEFORE, 1 changed"),
            "{text}"
        );
    }

    #[test]
    fn text_caps_rows_per_section() {
        let many: Vec<Value> = (0..TEXT_ROWS + 5)
            .map(|i| dest(&format!("host{i:04}.example"), "", "", 1, 1, 1))
            .collect();
        let d = diff(&json!({}), &json!({ "destinations": many }));
        assert_eq!(d.destinations.len(), TEXT_ROWS + 5);
        let mut out = Vec::new();
        write_text(&d, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("... and 5 more"), "{text}");
        assert_eq!(
            text.lines().filter(|l| l.starts_with("  + host")).count(),
            TEXT_ROWS
        );
    }

    #[test]
    fn json_is_stable() {
        let d = diff(&sync_off(), &sync_on());
        let mut out = Vec::new();
        write_json(&d, &mut out).unwrap();
        let v: Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["schema"], SCHEMA);
        assert_eq!(v["thresholds"], json!({"factor": 2, "min_bytes": 10_000}));
        assert_eq!(v["destinations"][0]["change"], "added");
        assert_eq!(v["destinations"][0]["key"], "sync.xiaomi.com");
        assert_eq!(
            v["destinations"][0]["after"],
            json!({"flows": 2, "bytes_up": 550, "bytes_down": 1610})
        );
        assert_eq!(v["destinations"][1]["change"], "removed");
        assert_eq!(v["findings"][0]["encoding"], json!([]));
        assert_eq!(v["services"], json!([]));
        let fields: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        for key in [
            "schema",
            "thresholds",
            "findings",
            "destinations",
            "orgs",
            "org_countries",
            "server_countries",
            "services",
            "totals",
        ] {
            assert!(fields.contains(&key), "{key}");
        }
        // Same input, same bytes.
        let mut again = Vec::new();
        write_json(&diff(&sync_off(), &sync_on()), &mut again).unwrap();
        assert_eq!(out, again);
    }

    #[test]
    fn check_tells_reports_from_other_documents() {
        assert_eq!(check(&sync_on()), Ok(()));
        assert_eq!(check(&json!({"flows": []})), Ok(()));
        assert_eq!(check(&json!([])), Err(DiffError::NotAnObject));
        assert_eq!(
            check(&json!({"schema": SCHEMA})),
            Err(DiffError::OtherSchema(SCHEMA.into()))
        );
        assert_eq!(
            check(&json!({"schema": 1})),
            Err(DiffError::OtherSchema("1".into()))
        );
    }

    #[test]
    fn built_reports_compare_through_from_report() {
        let r = crate::tests_support::tiny_report();
        let v = from_report(&r);
        assert_eq!(check(&v), Ok(()));
        assert_eq!(v["flows"][0]["bytes_up"], 40);
        let d = diff(&v, &v);
        assert!(d.is_empty());
        assert_eq!(d.totals.before.flows, 1);
        // Its one unnamed DNS flow (the report lists no destinations) goes by address.
        let d = diff(&json!({}), &v);
        assert_eq!(keys(&d.destinations), [(ChangeKind::Added, "192.0.2.53")]);
    }

    /// Prints the diff of two JSON reports given by the environment, e.g. those of
    /// `phonehome audit tests/e2e/data/diff-before.pcap -F json` and of diff-after.pcap:
    /// `DIFF_BEFORE=b.json DIFF_AFTER=a.json cargo test -p phonehome-report -- --ignored
    /// --nocapture print_diff_of_reports`.
    #[test]
    #[ignore = "reads the reports named by DIFF_BEFORE and DIFF_AFTER"]
    fn print_diff_of_reports() {
        let read = |var: &str| -> Value {
            let path = std::env::var(var).unwrap_or_else(|_| panic!("{var} not set"));
            let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
            serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{path}: {e}"))
        };
        let (before, after) = (read("DIFF_BEFORE"), read("DIFF_AFTER"));
        check(&before).unwrap();
        check(&after).unwrap();
        let d = diff(&before, &after);
        let mut out = Vec::new();
        write_text(&d, &mut out).unwrap();
        println!("{}", String::from_utf8_lossy(&out));
        println!("is_empty: {}", d.is_empty());
    }
}

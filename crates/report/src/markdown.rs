//! The Markdown summary: a report short enough to publish as a notice or paste into an issue.
//!
//! It holds what a reader needs to trust and repeat the result, and nothing that needs a
//! browser: the verdict, the captures and their SHA-256, the findings, the destinations that
//! received the most bytes, the blind spots, and how to reproduce the run (versions of
//! phonehome and of its data, and the command).
//!
//! Capture text (server names, organisations from certificates, excerpts) is escaped for
//! CommonMark: every punctuation character that could open markup, a link or raw HTML is
//! backslash-escaped, a pipe cannot end a table cell, and a newline cannot end a row. The
//! command is in a code fence longer than any run of backticks it contains, its arguments
//! shell-quoted.
//!
//! Limits: the findings table stops at [`MAX_FINDINGS`] rows and the destinations at
//! [`TOP_DESTINATIONS`], each with a line saying what was left out; cells are cut to
//! [`CELL`] characters. The JSON report keeps everything.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{self, Write};

use crate::{findings_order, human_bytes, Destination, Report};

/// Rows of the findings table.
pub const MAX_FINDINGS: usize = 200;
/// Destinations listed, by bytes sent.
pub const TOP_DESTINATIONS: usize = 25;
/// Characters of one table cell.
const CELL: usize = 160;
/// Blind spots listed one by one (the rest is counted by kind).
const MAX_BLIND_SPOTS: usize = 20;

/// Writes the Markdown summary of `report`.
pub fn write_markdown(report: &Report, out: &mut impl Write) -> io::Result<()> {
    let mut s = String::new();
    // Writing to a String cannot fail; the one io::Error possible is the final write.
    let _ = render(report, &mut s);
    out.write_all(s.as_bytes())
}

fn render(r: &Report, s: &mut String) -> std::fmt::Result {
    let v = &r.verdict;
    let word = match v.status {
        "pass" => "PASS",
        "fail" => "FAIL",
        _ => "no policy",
    };
    writeln!(s, "# phonehome audit: {word}")?;
    writeln!(s)?;
    let policy = md(v.policy.as_deref().unwrap_or(""), CELL);
    let home = v
        .home
        .as_deref()
        .map(|h| md(h, 8))
        .unwrap_or_else(|| "not set".into());
    match v.status {
        "pass" | "fail" => {
            writeln!(
                s,
                "**Verdict: {word}.** {} violation{} of the policy \u{201c}{policy}\u{201d} (home jurisdiction {home}): {} critical, {} high, {} medium, {} low.",
                v.violations,
                if v.violations == 1 { "" } else { "s" },
                v.critical,
                v.high,
                v.medium,
                v.low
            )?;
            if let Some(sha) = &v.policy_sha256 {
                writeln!(s)?;
                writeln!(s, "Policy file SHA-256: {}", md(sha, 80))?;
            }
        }
        _ => writeln!(
            s,
            "**No policy was given:** the findings are reported without a judgement."
        )?,
    }
    let personal = r
        .findings
        .iter()
        .filter(|f| f.kind == "personal_data")
        .count();
    let sent = r
        .flows
        .iter()
        .fold(0u64, |a, f| a.saturating_add(f.bytes_up));
    writeln!(s)?;
    writeln!(
        s,
        "{} personal-data finding{}; {} sent to {} destination{} in {} flow{}.",
        personal,
        plural(personal),
        human_bytes(sent),
        r.destinations.len(),
        plural(r.destinations.len()),
        r.flows.len(),
        plural(r.flows.len())
    )?;

    writeln!(s)?;
    writeln!(s, "## Inputs")?;
    writeln!(s)?;
    writeln!(
        s,
        "| Capture | SHA-256 | Packets | Bytes | First packet (UTC) | Last packet (UTC) |"
    )?;
    writeln!(s, "|---|---|--:|--:|---|---|")?;
    for i in &r.inputs {
        writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} |",
            md(&i.path, CELL),
            md(&i.sha256, 80),
            i.packets,
            i.bytes,
            md(i.first_ts.as_deref().unwrap_or("-"), 40),
            md(i.last_ts.as_deref().unwrap_or("-"), 40)
        )?;
    }

    write_findings(r, s)?;
    write_destinations(r, s)?;
    write_blind_spots(r, s)?;
    write_reproduce(r, s)
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

fn or_dash(v: &[String], sep: &str) -> String {
    if v.is_empty() {
        "-".into()
    } else {
        v.join(sep)
    }
}

fn org(org: &Option<String>, country: &Option<String>) -> String {
    match (org, country) {
        (Some(o), Some(c)) => format!("{o} ({c})"),
        (Some(o), None) => o.clone(),
        (None, _) => "-".into(),
    }
}

fn write_findings(r: &Report, s: &mut String) -> std::fmt::Result {
    writeln!(s)?;
    writeln!(s, "## Findings")?;
    writeln!(s)?;
    if r.findings.is_empty() {
        return writeln!(s, "No findings.");
    }
    let order = findings_order(r);
    writeln!(
        s,
        "| # | Finding | Type | Label | Encoding | Destination | Organisation (country) | Server country | Count | Frames |"
    )?;
    writeln!(s, "|--:|---|---|---|---|---|---|---|--:|---|")?;
    for &i in order.iter().take(MAX_FINDINGS) {
        let f = &r.findings[i];
        let what = if f.kind == "policy" {
            let mut w = format!(
                "{} {}: {}",
                f.severity.unwrap_or("unrated"),
                f.rule.as_deref().unwrap_or(""),
                f.message
            );
            if !f.triggers.is_empty() {
                let t: Vec<String> = f
                    .triggers
                    .iter()
                    .take(10)
                    .map(|t| format!("#{t}"))
                    .collect();
                let more = if f.triggers.len() > 10 { ", ..." } else { "" };
                w.push_str(&format!(" (triggered by {}{more})", t.join(", ")));
            }
            w
        } else {
            f.message.clone()
        };
        let frames = if f.frames.is_empty() {
            "-".to_string()
        } else {
            let list: Vec<String> = f.frames.iter().map(u64::to_string).collect();
            match f.input {
                Some(n) => format!("input {n}: {}", list.join(", ")),
                None => list.join(", "),
            }
        };
        writeln!(
            s,
            "| {i} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            md(&what, 300),
            md(f.data_type.unwrap_or("-"), 40),
            md(f.label.as_deref().unwrap_or("-"), CELL),
            md(&or_dash(&f.encoding, " > "), CELL),
            md(f.server_name.as_deref().unwrap_or("-"), CELL),
            md(&org(&f.org, &f.org_country), CELL),
            md(f.server_country.as_deref().unwrap_or("-"), 8),
            f.count,
            md(&frames, CELL)
        )?;
    }
    if r.findings.len() > MAX_FINDINGS {
        writeln!(s)?;
        writeln!(
            s,
            "The first {MAX_FINDINGS} of {} findings are listed; the JSON report holds all.",
            r.findings.len()
        )?;
    }
    Ok(())
}

fn write_destinations(r: &Report, s: &mut String) -> std::fmt::Result {
    writeln!(s)?;
    writeln!(s, "## Top destinations by bytes sent")?;
    writeln!(s)?;
    if r.destinations.is_empty() {
        return writeln!(s, "No destinations.");
    }
    let mut dests: Vec<&Destination> = r.destinations.iter().collect();
    dests.sort_by(|a, b| {
        b.bytes_up
            .cmp(&a.bytes_up)
            .then(b.bytes_down.cmp(&a.bytes_down))
            .then(a.name.cmp(&b.name))
    });
    writeln!(
        s,
        "| Destination | Sent | Received | Flows | Organisation (country) | Server country |"
    )?;
    writeln!(s, "|---|--:|--:|--:|---|---|")?;
    for d in dests.iter().take(TOP_DESTINATIONS) {
        let mut place = d.server_country.clone().unwrap_or_else(|| "-".into());
        if d.cdn {
            place.push_str(" (CDN)");
        }
        let mut who = org(&d.org, &d.org_country);
        if let Some(p) = &d.parent_org {
            who.push_str(&format!(
                ", part of {}",
                org(&Some(p.clone()), &d.parent_country)
            ));
        }
        writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} |",
            md(&d.name, CELL),
            human_bytes(d.bytes_up),
            human_bytes(d.bytes_down),
            d.flows,
            md(&who, CELL),
            md(&place, 24)
        )?;
    }
    if dests.len() > TOP_DESTINATIONS {
        let rest = &dests[TOP_DESTINATIONS..];
        writeln!(s)?;
        writeln!(
            s,
            "And {} more destinations ({} sent).",
            rest.len(),
            human_bytes(rest.iter().fold(0u64, |a, d| a.saturating_add(d.bytes_up)))
        )?;
    }
    Ok(())
}

fn write_blind_spots(r: &Report, s: &mut String) -> std::fmt::Result {
    let st = &r.stats;
    writeln!(s)?;
    writeln!(s, "## Blind spots")?;
    writeln!(s)?;
    let mut lines = Vec::new();
    if st.encrypted_flows > 0 {
        let mut line = format!(
            "{} of {} TLS/QUIC flows decrypted",
            st.decrypted_flows, st.encrypted_flows
        );
        if st.not_inspected_bytes > 0 {
            line.push_str(&format!(
                "; {} of encrypted payload not searched",
                human_bytes(st.not_inspected_bytes)
            ));
        }
        lines.push(line);
    }
    let mut kinds: BTreeMap<&str, u64> = BTreeMap::new();
    for b in &r.blind_spots {
        *kinds.entry(b.kind).or_default() += 1;
    }
    for (k, n) in &kinds {
        lines.push(format!("{n} flow{}: {k}", plural(*n as usize)));
    }
    for (what, n) in [
        ("TCP gaps", st.tcp_gaps),
        ("undecodable frames", st.decode_errors),
        ("frames of unsupported link types", st.unsupported_link),
        ("reassembly cap hits", st.reassembly_cap_hits),
        (
            "flows closed early (flow table full)",
            st.flows_evicted_full,
        ),
        ("decoding layers cut short by a cap", st.decode_capped),
    ] {
        if n > 0 {
            lines.push(format!("{n} {what}"));
        }
    }
    if lines.is_empty() {
        return writeln!(s, "None: every flow was named and nothing was lost.");
    }
    for l in &lines {
        writeln!(s, "- {}", md(l, 400))?;
    }
    for b in r.blind_spots.iter().take(MAX_BLIND_SPOTS) {
        writeln!(
            s,
            "- flow {}: {} ({})",
            b.flow,
            md(b.kind, 40),
            md(&b.detail, CELL)
        )?;
    }
    if r.blind_spots.len() > MAX_BLIND_SPOTS {
        writeln!(
            s,
            "- and {} more blind spots in the JSON report",
            r.blind_spots.len() - MAX_BLIND_SPOTS
        )?;
    }
    Ok(())
}

fn write_reproduce(r: &Report, s: &mut String) -> std::fmt::Result {
    writeln!(s)?;
    writeln!(s, "## How to reproduce")?;
    writeln!(s)?;
    writeln!(s, "- phonehome {}", md(&r.run.version, 80))?;
    writeln!(s, "- report schema {}", md(r.schema, 80))?;
    writeln!(s, "- address data: {}", md(&r.run.ip_data, 400))?;
    for d in &r.run.data_versions {
        writeln!(s, "- bundled data: {}", md(d, 400))?;
    }
    if let (Some(p), sha) = (&r.run.profile, &r.run.profile_sha256) {
        writeln!(
            s,
            "- device profile: {} (SHA-256 {})",
            md(p, CELL),
            md(sha.as_deref().unwrap_or("?"), 80)
        )?;
    }
    for k in &r.keylogs {
        writeln!(
            s,
            "- key log: {} (SHA-256 {}, {} connections)",
            md(&k.source, CELL),
            md(k.sha256.as_deref().unwrap_or("?"), 80),
            k.connections
        )?;
    }
    writeln!(
        s,
        "- run started {} and took {} ms",
        md(&r.run.start_time, 40),
        r.run.duration_ms
    )?;
    let mut args: Vec<String> = vec!["phonehome".into(), "audit".into()];
    if let Some(p) = &r.run.profile {
        args.push("--profile".into());
        args.push(p.clone());
    }
    if let Some(p) = &r.verdict.policy {
        args.push("--policy".into());
        args.push(p.clone());
    }
    if let Some(h) = &r.verdict.home {
        args.push("--home".into());
        args.push(h.clone());
    }
    // Keys embedded in a capture come back with the capture; only files are flags.
    for k in r.keylogs.iter().filter(|k| k.sha256.is_some()) {
        args.push("--keylog".into());
        args.push(k.source.clone());
    }
    args.push("--format".into());
    args.push("json".into());
    args.extend(r.inputs.iter().map(|i| i.path.clone()));
    let command: Vec<String> = args.iter().map(|a| shell_quote(a)).collect();
    let command = command.join(" ");
    let fence = "`".repeat(longest_backtick_run(&command).max(2) + 1);
    writeln!(s)?;
    writeln!(s, "{fence}sh")?;
    writeln!(s, "{}", one_line(&command))?;
    writeln!(s, "{fence}")
}

/// `arg` as one POSIX shell word.
fn shell_quote(arg: &str) -> String {
    let plain = !arg.is_empty()
        && arg
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./:=,+@%".contains(&b));
    if plain {
        arg.to_string()
    } else {
        format!("'{}'", arg.replace('\'', r"'\''"))
    }
}

fn longest_backtick_run(s: &str) -> usize {
    s.split(|c| c != '`').map(str::len).max().unwrap_or(0)
}

/// Controls (newlines included) as U+FFFD, so a line stays a line.
fn one_line(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { '\u{FFFD}' } else { c })
        .collect()
}

/// `text` escaped for CommonMark inline content and table cells, cut to `max` characters.
///
/// Every ASCII punctuation character that can start markup gets a backslash (CommonMark 0.31,
/// section 2.4: any ASCII punctuation may be backslash-escaped), including `|` which would
/// otherwise end a GFM table cell; line breaks and other controls become spaces or U+FFFD.
fn md(text: &str, max: usize) -> String {
    let mut out = String::with_capacity(text.len().min(max.saturating_mul(2)));
    for (n, c) in text.chars().enumerate() {
        if n == max {
            out.push('\u{2026}');
            break;
        }
        match c {
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '#' | '&' | '~' | '!' | '{'
            | '}' | '$' => {
                out.push('\\');
                out.push(c);
            }
            '\n' | '\r' | '\t' => out.push(' '),
            c if c.is_control() => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{BlindSpot, Finding, Flow, Input, Keylog, Run, Stats, Verdict};

    fn report() -> Report {
        let hostile = "<script>alert(1)</script>|x";
        Report {
            schema: crate::SCHEMA,
            run: Run {
                version: "0.1.0".into(),
                start_time: "2024-01-01T00:00:00.000000Z".into(),
                duration_ms: 12,
                ip_data: "2024-05-01 (RIR delegations)".into(),
                profile: Some("examples/device-profile.toml".into()),
                profile_sha256: Some("ef".repeat(32)),
                data_versions: vec!["orgs.toml sha256:00".into()],
            },
            inputs: vec![Input {
                path: "phone session.pcap".into(),
                sha256: "ab".repeat(32),
                packets: 10,
                bytes: 1000,
                first_ts: Some("2024-01-01T00:00:00.000000Z".into()),
                last_ts: None,
                warnings: Vec::new(),
            }],
            flows: vec![Flow {
                bytes_up: 700,
                ..Flow::default()
            }],
            dns: Vec::new(),
            http: Vec::new(),
            destinations: (0..30)
                .map(|i| Destination {
                    name: if i == 0 {
                        hostile.into()
                    } else {
                        format!("d{i:02}.example")
                    },
                    bytes_up: 1000 - i,
                    flows: 1,
                    org: Some("Acme".into()),
                    org_country: Some("US".into()),
                    server_country: Some("US".into()),
                    cdn: i == 0,
                    ..Destination::default()
                })
                .collect(),
            findings: vec![
                Finding {
                    kind: "personal_data".into(),
                    message: format!("IMEI sent to {hostile}"),
                    data_type: Some("imei"),
                    label: Some("imei".into()),
                    encoding: vec!["sha1".into(), "hex".into()],
                    count: 3,
                    input: Some(0),
                    frames: vec![4, 9],
                    server_name: Some(hostile.into()),
                    ..Finding::default()
                },
                Finding {
                    kind: "policy".into(),
                    message: "no IMEI abroad".into(),
                    rule: Some("no-imei".into()),
                    severity: Some("high"),
                    triggers: vec![0],
                    ..Finding::default()
                },
            ],
            blind_spots: vec![BlindSpot {
                flow: 3,
                kind: "ech",
                detail: "outer name only".into(),
            }],
            stats: Stats::default(),
            keylogs: vec![Keylog {
                source: "keys.log".into(),
                sha256: Some("12".repeat(32)),
                connections: 4,
                warnings: Vec::new(),
            }],
            verdict: Verdict {
                status: "fail",
                policy: Some("no-pii-abroad".into()),
                home: Some("TW".into()),
                violations: 1,
                high: 1,
                ..Verdict::default()
            },
        }
    }

    fn render_str(r: &Report) -> String {
        let mut out = Vec::new();
        write_markdown(r, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn verdict_inputs_and_hashes() {
        let s = render_str(&report());
        assert!(s.starts_with("# phonehome audit: FAIL\n"));
        assert!(s.contains("1 violation of the policy \u{201c}no-pii-abroad\u{201d} (home jurisdiction TW): 0 critical, 1 high"));
        assert!(s.contains(&format!(
            "| phone session.pcap | {} | 10 | 1000 |",
            "ab".repeat(32)
        )));
    }

    #[test]
    fn findings_table_policy_first_and_escaped() {
        let s = render_str(&report());
        let p = s
            .find("| 1 | high no-imei: no IMEI abroad (triggered by \\#0) |")
            .unwrap();
        let f = s.find("| 0 | IMEI sent to ").unwrap();
        assert!(p < f);
        assert!(s.contains("\\<script\\>alert(1)\\</script\\>\\|x"));
        assert!(!s.contains("<script>"));
        // Every table row has the same number of unescaped pipes as its header.
        for line in s.lines().filter(|l| l.starts_with("| 0 |")) {
            let pipes = line.replace("\\|", "").matches('|').count();
            assert_eq!(pipes, 11, "{line}");
        }
    }

    #[test]
    fn top_destinations_are_capped() {
        let s = render_str(&report());
        assert!(s.contains("| 1.0 KB | 0 B | 1 | Acme (US) | US (CDN) |"));
        assert!(s.contains("| d24.example |"));
        assert!(!s.contains("| d25.example |"));
        assert!(s.contains("And 5 more destinations (4.9 KB sent)."));
    }

    #[test]
    fn reproduce_section_has_versions_and_command() {
        let s = render_str(&report());
        assert!(s.contains("- phonehome 0.1.0"));
        assert!(s.contains("- bundled data: orgs.toml sha256:00"));
        assert!(s.contains(
            "phonehome audit --profile examples/device-profile.toml --policy no-pii-abroad --home TW --keylog keys.log --format json 'phone session.pcap'"
        ));
        assert!(s.contains("- flow 3: ech (outer name only)"));
    }

    #[test]
    fn escaping_helpers() {
        assert_eq!(md("a|b\nc", 10), "a\\|b c");
        assert_eq!(md("[x](y)", 10), "\\[x\\](y)");
        assert_eq!(md("abcdef", 3), "abc\u{2026}");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
        assert_eq!(shell_quote("a.pcap"), "a.pcap");
        assert_eq!(shell_quote(""), "''");
        assert_eq!(longest_backtick_run("a```b`"), 3);
    }

    #[test]
    fn deterministic() {
        let r = report();
        assert_eq!(render_str(&r), render_str(&r));
    }
}

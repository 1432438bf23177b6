//! The terminal summary: who the device talked to, sorted by bytes sent.

use std::collections::BTreeMap;
use std::io::{self, Write};

use crate::Report;

/// Destinations shown before the rest is summed up in one line.
const TOP: usize = 40;

/// Writes a short human summary of `report`.
pub fn write_summary(report: &Report, out: &mut impl Write) -> io::Result<()> {
    let s = &report.stats;
    write_verdict(report, out)?;
    for input in &report.inputs {
        let span = match (&input.first_ts, &input.last_ts) {
            (Some(a), Some(b)) => format!(", {a} .. {b}"),
            _ => String::new(),
        };
        writeln!(
            out,
            "{}: {} packets, {}{}",
            input.path,
            input.packets,
            human_bytes(input.bytes),
            span
        )?;
        for w in &input.warnings {
            writeln!(out, "  warning: {w}")?;
        }
    }
    let mut protos: BTreeMap<&str, u64> = BTreeMap::new();
    for f in &report.flows {
        *protos.entry(f.proto.as_str()).or_default() += 1;
    }
    let protos: Vec<String> = protos.iter().map(|(p, n)| format!("{p} {n}")).collect();
    let count = |n: u64, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    writeln!(
        out,
        "{} ({}), {}, {}, {}, {}",
        count(report.flows.len() as u64, "flow", "flows"),
        protos.join(", "),
        count(s.dns_messages, "DNS message", "DNS messages"),
        count(s.http_messages, "HTTP message", "HTTP messages"),
        count(s.tls_handshakes, "TLS handshake", "TLS handshakes"),
        count(s.quic_initials, "QUIC Initial", "QUIC Initials"),
    )?;
    if s.encrypted_flows > 0 {
        write!(
            out,
            "{} of {} TLS/QUIC flows decrypted",
            s.decrypted_flows, s.encrypted_flows
        )?;
        if s.not_inspected_bytes > 0 {
            write!(
                out,
                "; {} of ciphertext not inspected (no keys)",
                human_bytes(s.not_inspected_bytes)
            )?;
        }
        writeln!(out)?;
    }
    if s.decode_capped > 0 {
        writeln!(
            out,
            "decoding cut short by a size or depth cap {} times ({} decompression bombs)",
            s.decode_capped, s.decompression_bombs
        )?;
    }
    for (kind, title) in [
        ("policy", "POLICY VIOLATIONS"),
        ("personal_data", "PERSONAL DATA SENT"),
    ] {
        let list: Vec<_> = report.findings.iter().filter(|f| f.kind == kind).collect();
        if list.is_empty() {
            continue;
        }
        writeln!(out)?;
        let plural = if list.len() == 1 { "" } else { "s" };
        writeln!(out, "{title} ({} finding{plural})", list.len())?;
        for f in list.iter().take(TOP) {
            match f.severity {
                Some(sev) => writeln!(out, "  [{sev}] {}", f.message)?,
                None => writeln!(out, "  {}", f.message)?,
            }
        }
        if list.len() > TOP {
            writeln!(out, "  ... and {} more", list.len() - TOP)?;
        }
    }
    writeln!(out)?;
    let mut dests: Vec<_> = report.destinations.iter().collect();
    dests.sort_by(|a, b| {
        b.bytes_up
            .cmp(&a.bytes_up)
            .then(b.bytes_down.cmp(&a.bytes_down))
            .then(a.name.cmp(&b.name))
    });
    let width = dests
        .iter()
        .take(TOP)
        .map(|d| d.name.chars().count())
        .max()
        .unwrap_or(0)
        .clamp(11, 48);
    writeln!(
        out,
        "{:<width$}  {:>5}  {:>9}  {:>9}  {:<16}  {:<20}  {:<5}  {:<6}  FIRST SEEN",
        "DESTINATION", "FLOWS", "SENT", "RECEIVED", "PROTOCOLS", "ORGANISATION", "LAW", "SERVER"
    )?;
    for d in dests.iter().take(TOP) {
        writeln!(
            out,
            "{:<width$}  {:>5}  {:>9}  {:>9}  {:<16}  {:<20}  {:<5}  {:<6}  {}",
            truncate(&d.name, width),
            d.flows,
            human_bytes(d.bytes_up),
            human_bytes(d.bytes_down),
            d.protocols.join(","),
            truncate(d.org.as_deref().unwrap_or("-"), 20),
            law(d),
            server_place(d),
            d.first_ts
        )?;
    }
    if dests.len() > TOP {
        let rest = &dests[TOP..];
        writeln!(
            out,
            "... and {} more destinations ({} sent, {} received)",
            rest.len(),
            human_bytes(rest.iter().map(|d| d.bytes_up).sum()),
            human_bytes(rest.iter().map(|d| d.bytes_down).sum())
        )?;
    }
    if !report.flows.is_empty() {
        writeln!(out)?;
        let by_org = group(&report.flows, |f| f.org_country.as_deref());
        let by_server = group(&report.flows, |f| f.server_country.as_deref());
        writeln!(out, "sent by organisation country (law):  {by_org}")?;
        writeln!(out, "sent by server country (address):    {by_server}")?;
    }
    if !report.blind_spots.is_empty() {
        let mut kinds: BTreeMap<&str, u64> = BTreeMap::new();
        for b in &report.blind_spots {
            *kinds.entry(b.kind).or_default() += 1;
        }
        let kinds: Vec<String> = kinds.iter().map(|(k, n)| format!("{n} {k}")).collect();
        writeln!(out)?;
        writeln!(
            out,
            "blind spots: {} ({})",
            report.blind_spots.len(),
            kinds.join(", ")
        )?;
    }
    let mut lost = Vec::new();
    if s.tcp_gaps > 0 {
        lost.push(format!(
            "{} TCP gaps ({} missing)",
            s.tcp_gaps,
            human_bytes(s.tcp_gap_bytes)
        ));
    }
    if s.decode_errors > 0 {
        lost.push(format!("{} undecodable frames", s.decode_errors));
    }
    if s.unsupported_link > 0 {
        lost.push(format!(
            "{} frames of unsupported link types",
            s.unsupported_link
        ));
    }
    if s.reassembly_cap_hits > 0 {
        lost.push(format!("{} reassembly cap hits", s.reassembly_cap_hits));
    }
    if s.not_device > 0 {
        lost.push(format!("{} frames not of the device", s.not_device));
    }
    if !lost.is_empty() {
        writeln!(out, "not seen in full: {}", lost.join(", "))?;
    }
    Ok(())
}

/// The organisation's country, and its parent's where that differs ("SG>CN").
fn law(d: &crate::Destination) -> String {
    match (d.org_country.as_deref(), d.parent_country.as_deref()) {
        (Some(c), Some(p)) if c != p => format!("{c}>{p}"),
        (Some(c), _) => c.to_string(),
        (None, _) => "-".to_string(),
    }
}

/// The server address's country, marked when it is a CDN's ("US*") or not global ("lan").
fn server_place(d: &crate::Destination) -> String {
    if d.scope != "global" && !d.scope.is_empty() {
        return "lan".to_string();
    }
    let c = d.server_country.as_deref().unwrap_or("-");
    if d.cdn {
        format!("{c}*")
    } else {
        c.to_string()
    }
}

/// "CN 3.4 KB (12 flows), US 1.0 KB (3 flows)": bytes sent and flows per country, most
/// bytes first; flows without a country count under "?".
fn group(flows: &[crate::Flow], key: impl Fn(&crate::Flow) -> Option<&str>) -> String {
    let mut sums: BTreeMap<&str, (u64, u64)> = BTreeMap::new();
    for f in flows {
        let e = sums.entry(key(f).unwrap_or("?")).or_default();
        e.0 += f.bytes_up;
        e.1 += 1;
    }
    let mut sums: Vec<_> = sums.into_iter().collect();
    sums.sort_by(|a, b| b.1 .0.cmp(&a.1 .0).then(a.0.cmp(b.0)));
    sums.iter()
        .map(|(c, (bytes, flows))| {
            let s = if *flows == 1 { "" } else { "s" };
            format!("{c} {} ({flows} flow{s})", human_bytes(*bytes))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// `s` cut to `width` characters, the cut marked with "~" (the plain-text writers' columns).
pub(crate) fn truncate(s: &str, width: usize) -> String {
    if s.chars().count() <= width {
        return s.to_string();
    }
    let mut t: String = s.chars().take(width.saturating_sub(1)).collect();
    t.push('~');
    t
}

/// The verdict, first, when a policy was applied: what a reader must see before anything else.
fn write_verdict(report: &Report, out: &mut impl Write) -> io::Result<()> {
    let v = &report.verdict;
    let Some(policy) = &v.policy else {
        return Ok(());
    };
    let home = v
        .home
        .as_deref()
        .map(|h| format!(", home {h}"))
        .unwrap_or_default();
    if v.violations == 0 {
        writeln!(out, "VERDICT: PASS, no violation of policy {policy}{home}")?;
    } else {
        let by: Vec<String> = [
            ("critical", v.critical),
            ("high", v.high),
            ("medium", v.medium),
            ("low", v.low),
        ]
        .iter()
        .filter(|(_, n)| *n > 0)
        .map(|(s, n)| format!("{n} {s}"))
        .collect();
        writeln!(
            out,
            "VERDICT: FAIL, {} violation{} of policy {policy}{home} ({})",
            v.violations,
            if v.violations == 1 { "" } else { "s" },
            by.join(", ")
        )?;
    }
    writeln!(out)
}

/// Bytes in B, KB, MB, GB (powers of 1000, as network tools count).
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["KB", "MB", "GB", "TB"];
    if n < 1000 {
        return format!("{n} B");
    }
    let mut v = n as f64;
    let mut unit = "B";
    for u in UNITS {
        if v < 1000.0 {
            break;
        }
        v /= 1000.0;
        unit = u;
    }
    format!("{v:.1} {unit}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_bytes_uses_decimal_units() {
        assert_eq!(human_bytes(0), "0 B");
        assert_eq!(human_bytes(999), "999 B");
        assert_eq!(human_bytes(1000), "1.0 KB");
        assert_eq!(human_bytes(1_234_567), "1.2 MB");
        assert_eq!(human_bytes(5_000_000_000), "5.0 GB");
    }

    #[test]
    fn countries_group_bytes_sent_and_flows() {
        let flow = |cc: Option<&str>, up: u64| crate::Flow {
            org_country: cc.map(str::to_string),
            bytes_up: up,
            ..crate::Flow::default()
        };
        let flows = vec![
            flow(Some("CN"), 3000),
            flow(None, 10),
            flow(Some("CN"), 400),
            flow(Some("US"), 1000),
        ];
        assert_eq!(
            group(&flows, |f| f.org_country.as_deref()),
            "CN 3.4 KB (2 flows), US 1.0 KB (1 flow), ? 10 B (1 flow)"
        );
    }

    #[test]
    fn law_shows_a_foreign_parent() {
        let d = crate::Destination {
            org_country: Some("SG".into()),
            parent_country: Some("CN".into()),
            ..crate::Destination::default()
        };
        assert_eq!(law(&d), "SG>CN");
        let d = crate::Destination {
            scope: "private",
            ..crate::Destination::default()
        };
        assert_eq!(
            (law(&d), server_place(&d)),
            ("-".to_string(), "lan".to_string())
        );
    }

    #[test]
    fn truncate_marks_cut_names() {
        assert_eq!(truncate("abc", 5), "abc");
        assert_eq!(truncate("abcdefgh", 5), "abcd~");
    }
}

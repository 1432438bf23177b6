//! The terminal summary: who the device talked to, sorted by bytes sent.

use std::collections::BTreeMap;
use std::io::{self, Write};

use crate::Report;

/// Destinations shown before the rest is summed up in one line.
const TOP: usize = 40;

/// Writes a short human summary of `report`.
pub fn write_summary(report: &Report, out: &mut impl Write) -> io::Result<()> {
    let s = &report.stats;
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
    writeln!(
        out,
        "{} flows ({}), {} DNS messages, {} HTTP messages, {} TLS handshakes, {} QUIC Initials",
        report.flows.len(),
        protos.join(", "),
        s.dns_messages,
        s.http_messages,
        s.tls_handshakes,
        s.quic_initials
    )?;
    if s.encrypted_flows > 0 {
        writeln!(
            out,
            "{} of {} TLS/QUIC flows decrypted",
            s.decrypted_flows, s.encrypted_flows
        )?;
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
        "{:<width$}  {:>5}  {:>9}  {:>9}  {:<16}  FIRST SEEN",
        "DESTINATION", "FLOWS", "SENT", "RECEIVED", "PROTOCOLS"
    )?;
    for d in dests.iter().take(TOP) {
        writeln!(
            out,
            "{:<width$}  {:>5}  {:>9}  {:>9}  {:<16}  {}",
            truncate(&d.name, width),
            d.flows,
            human_bytes(d.bytes_up),
            human_bytes(d.bytes_down),
            d.protocols.join(","),
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
    if !report.blind_spots.is_empty() {
        let mut kinds: BTreeMap<&str, u64> = BTreeMap::new();
        for b in &report.blind_spots {
            *kinds.entry(b.kind).or_default() += 1;
        }
        let kinds: Vec<String> = kinds.iter().map(|(k, n)| format!("{n} {k}")).collect();
        writeln!(out)?;
        writeln!(
            out,
            "blind spots: {} flows ({})",
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

fn truncate(s: &str, width: usize) -> String {
    if s.chars().count() <= width {
        return s.to_string();
    }
    let mut t: String = s.chars().take(width.saturating_sub(1)).collect();
    t.push('~');
    t
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
    fn truncate_marks_cut_names() {
        assert_eq!(truncate("abc", 5), "abc");
        assert_eq!(truncate("abcdefgh", 5), "abcd~");
    }
}

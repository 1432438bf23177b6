//! The flow diagram: device -> organisation -> server country, band widths by bytes sent.
//!
//! A Sankey diagram answers "who got most of what this phone sent, and where are their
//! servers" at a glance. It is computed here rather than by a script library, because the
//! page must open from disk with no network and print as it shows, and the layout it needs is
//! three fixed columns with bands stacked in order: a few dozen lines of arithmetic.
//!
//! Limits: the largest [`MAX_ORGS`] organisations and [`MAX_COUNTRIES`] countries get their own
//! node, the rest is summed into one "other" node per column (never dropped: the bands still
//! add up to everything sent). Flows without an organisation are "unattributed"; without a
//! country, "unknown". Widths are bytes sent (device to server), not received.

use std::collections::BTreeMap;
use std::io::{self, Write};

use super::escape::{esc, Esc};
use crate::{human_bytes, Flow};

/// Organisations drawn as their own node.
const MAX_ORGS: usize = 12;
/// Countries drawn as their own node.
const MAX_COUNTRIES: usize = 10;
const WIDTH: f64 = 960.0;
const NODE_W: f64 = 12.0;
const GAP: f64 = 12.0;
const ORG_X: f64 = 360.0;
const COUNTRY_X: f64 = 710.0;
/// Band colours per country node, in node order (a colour-blind-safe qualitative palette).
const PALETTE: [&str; 11] = [
    "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7",
    "#9c755f", "#86bcb6", "#bab0ac",
];

/// The columns' nodes and the bytes between them.
#[derive(Debug, PartialEq, Eq)]
struct Graph {
    /// (label, bytes), biggest first, "other" last.
    orgs: Vec<(String, u64)>,
    countries: Vec<(String, u64)>,
    /// (org index, country index) -> bytes.
    links: BTreeMap<(usize, usize), u64>,
    total: u64,
}

fn org_label(f: &Flow) -> String {
    match (&f.org, &f.org_country) {
        (Some(o), Some(c)) => format!("{o} ({c})"),
        (Some(o), None) => o.clone(),
        (None, _) => "unattributed".to_string(),
    }
}

/// Keeps the `max` biggest (label, bytes) and sums the rest into `other`; returns the kept
/// nodes, biggest first, and each input label's node index.
fn top(
    sums: BTreeMap<String, u64>,
    max: usize,
    other: &str,
) -> (Vec<(String, u64)>, BTreeMap<String, usize>) {
    let mut v: Vec<(String, u64)> = sums.into_iter().collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let mut index = BTreeMap::new();
    let mut nodes: Vec<(String, u64)> = Vec::new();
    let mut rest = 0u64;
    let mut rest_n = 0usize;
    let keep = if v.len() > max {
        max.saturating_sub(1)
    } else {
        max
    };
    for (i, (label, bytes)) in v.into_iter().enumerate() {
        if i < keep {
            index.insert(label.clone(), nodes.len());
            nodes.push((label, bytes));
        } else {
            index.insert(label, keep);
            rest = rest.saturating_add(bytes);
            rest_n += 1;
        }
    }
    if rest_n > 0 {
        nodes.push((format!("{rest_n} {other}"), rest));
    }
    (nodes, index)
}

fn graph(flows: &[Flow]) -> Graph {
    let mut pairs: BTreeMap<(String, String), u64> = BTreeMap::new();
    for f in flows.iter().filter(|f| f.bytes_up > 0) {
        let country = f.server_country.clone().unwrap_or_else(|| "unknown".into());
        let e = pairs.entry((org_label(f), country)).or_default();
        *e = e.saturating_add(f.bytes_up);
    }
    let mut org_sums: BTreeMap<String, u64> = BTreeMap::new();
    let mut country_sums: BTreeMap<String, u64> = BTreeMap::new();
    for ((o, c), b) in &pairs {
        let e = org_sums.entry(o.clone()).or_default();
        *e = e.saturating_add(*b);
        let e = country_sums.entry(c.clone()).or_default();
        *e = e.saturating_add(*b);
    }
    let total = org_sums.values().fold(0u64, |a, b| a.saturating_add(*b));
    let (orgs, org_ix) = top(org_sums, MAX_ORGS, "other organisations");
    let (countries, country_ix) = top(country_sums, MAX_COUNTRIES, "other countries");
    let mut links: BTreeMap<(usize, usize), u64> = BTreeMap::new();
    for ((o, c), b) in pairs {
        // Every label was indexed by `top` just above.
        let (Some(&oi), Some(&ci)) = (org_ix.get(&o), country_ix.get(&c)) else {
            continue;
        };
        let e = links.entry((oi, ci)).or_default();
        *e = e.saturating_add(b);
    }
    Graph {
        orgs,
        countries,
        links,
        total,
    }
}

/// A band from (x0, y0..y0+h0) to (x1, y1..y1+h1) with S-shaped edges.
fn band(x0: f64, y0: f64, x1: f64, y1: f64, h: f64) -> String {
    let xm = (x0 + x1) / 2.0;
    format!(
        "M{x0:.1} {y0:.1}C{xm:.1} {y0:.1} {xm:.1} {y1:.1} {x1:.1} {y1:.1}V{:.1}C{xm:.1} {:.1} {xm:.1} {:.1} {x0:.1} {:.1}Z",
        y1 + h,
        y1 + h,
        y0 + h,
        y0 + h
    )
}

/// Writes the diagram, or a sentence when nothing was sent.
pub(crate) fn write_sankey(out: &mut dyn Write, flows: &[Flow]) -> io::Result<()> {
    let g = graph(flows);
    if g.total == 0 {
        return writeln!(
            out,
            r#"<p class="empty">No bytes were sent to any server.</p>"#
        );
    }
    let rows = g.orgs.len().max(g.countries.len());
    let inner = (rows as f64 * 30.0).clamp(180.0, 520.0);
    let height = inner + 20.0;
    let gaps = |n: usize| GAP * (n.saturating_sub(1)) as f64;
    let scale = (inner - gaps(rows)) / g.total as f64;
    let top_of = |n: usize| 10.0 + (inner - (g.total as f64 * scale + gaps(n))) / 2.0;

    // Node tops per column.
    let place = |nodes: &[(String, u64)]| -> Vec<f64> {
        let mut y = top_of(nodes.len());
        nodes
            .iter()
            .map(|(_, b)| {
                let t = y;
                y += *b as f64 * scale + GAP;
                t
            })
            .collect()
    };
    let org_y = place(&g.orgs);
    let country_y = place(&g.countries);
    let device_y = top_of(1);

    writeln!(
        out,
        r#"<svg id="sankey" class="sankey" viewBox="0 0 {WIDTH:.0} {height:.0}" role="img" aria-label="Bytes sent from the device to each organisation and on to each server country">"#
    )?;
    // Device -> organisation bands.
    let mut dy = device_y;
    for ((label, bytes), y) in g.orgs.iter().zip(&org_y) {
        let h = *bytes as f64 * scale;
        writeln!(
            out,
            r#"<path class="band dev" d="{}"><title>device → {}: {}</title></path>"#,
            band(NODE_W, dy, ORG_X, *y, h),
            Esc::cut(label, 120),
            human_bytes(*bytes)
        )?;
        dy += h;
    }
    // Organisation -> country bands: stacked by country order at the organisation, by
    // organisation order at the country, so that bands do not cross more than they must.
    let mut out_off: Vec<f64> = org_y.clone();
    let mut ends: BTreeMap<(usize, usize), f64> = BTreeMap::new();
    for (ci, top) in country_y.iter().enumerate() {
        let mut y = *top;
        for oi in 0..g.orgs.len() {
            if let Some(b) = g.links.get(&(oi, ci)) {
                ends.insert((oi, ci), y);
                y += *b as f64 * scale;
            }
        }
    }
    for (&(oi, ci), &bytes) in &g.links {
        let h = bytes as f64 * scale;
        let y1 = ends.get(&(oi, ci)).copied().unwrap_or(country_y[ci]);
        writeln!(
            out,
            r#"<path class="band c{}" fill="{}" d="{}"><title>{} → {}: {}</title></path>"#,
            ci,
            PALETTE[ci % PALETTE.len()],
            band(ORG_X + NODE_W, out_off[oi], COUNTRY_X, y1, h),
            Esc::cut(&g.orgs[oi].0, 120),
            esc(&g.countries[ci].0),
            human_bytes(bytes)
        )?;
        out_off[oi] += h;
    }
    // Nodes and labels on top of the bands.
    let total_h = g.total as f64 * scale;
    writeln!(
        out,
        r#"<rect class="node" x="0" y="{device_y:.1}" width="{NODE_W}" height="{total_h:.1}"><title>device: {} sent</title></rect>"#,
        human_bytes(g.total)
    )?;
    writeln!(
        out,
        r#"<text class="label" x="{:.1}" y="{:.1}">device: {}</text>"#,
        NODE_W + 6.0,
        device_y + total_h / 2.0,
        human_bytes(g.total)
    )?;
    for ((label, bytes), y) in g.orgs.iter().zip(&org_y) {
        let h = (*bytes as f64 * scale).max(1.0);
        writeln!(
            out,
            r#"<rect class="node" x="{ORG_X}" y="{y:.1}" width="{NODE_W}" height="{h:.1}"><title>{}: {}</title></rect>"#,
            Esc::cut(label, 120),
            human_bytes(*bytes)
        )?;
        writeln!(
            out,
            r#"<text class="label" x="{:.1}" y="{:.1}">{} · {}</text>"#,
            ORG_X + NODE_W + 6.0,
            y + h / 2.0,
            Esc::cut(label, 40),
            human_bytes(*bytes)
        )?;
    }
    for (ci, ((label, bytes), y)) in g.countries.iter().zip(&country_y).enumerate() {
        let h = (*bytes as f64 * scale).max(1.0);
        let name = super::map::country_name(label)
            .map(|n| format!("{label} {n}"))
            .unwrap_or_else(|| label.clone());
        writeln!(
            out,
            r#"<rect class="node" fill="{}" x="{COUNTRY_X}" y="{y:.1}" width="{NODE_W}" height="{h:.1}"><title>{}: {}</title></rect>"#,
            PALETTE[ci % PALETTE.len()],
            esc(&name),
            human_bytes(*bytes)
        )?;
        writeln!(
            out,
            r#"<text class="label" x="{:.1}" y="{:.1}">{} · {}</text>"#,
            COUNTRY_X + NODE_W + 6.0,
            y + h / 2.0,
            Esc::cut(&name, 28),
            human_bytes(*bytes)
        )?;
    }
    writeln!(out, "</svg>")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flow(org: Option<&str>, cc: Option<&str>, up: u64) -> Flow {
        Flow {
            org: org.map(str::to_string),
            org_country: org.map(|_| "US".to_string()),
            server_country: cc.map(str::to_string),
            bytes_up: up,
            ..Flow::default()
        }
    }

    #[test]
    fn graph_sums_by_org_and_country() {
        let g = graph(&[
            flow(Some("Google"), Some("US"), 100),
            flow(Some("Google"), Some("IE"), 50),
            flow(None, None, 7),
            flow(Some("Google"), Some("US"), 10),
            flow(Some("Idle"), Some("US"), 0),
        ]);
        assert_eq!(g.total, 167);
        assert_eq!(
            g.orgs,
            vec![
                ("Google (US)".to_string(), 160),
                ("unattributed".to_string(), 7)
            ]
        );
        assert_eq!(
            g.countries,
            vec![
                ("US".to_string(), 110),
                ("IE".to_string(), 50),
                ("unknown".to_string(), 7)
            ]
        );
        assert_eq!(g.links.get(&(0, 0)), Some(&110));
        assert_eq!(g.links.get(&(1, 2)), Some(&7));
    }

    #[test]
    fn small_organisations_are_summed_not_dropped() {
        let names: Vec<String> = (0..20).map(|i| format!("org{i:02}")).collect();
        let flows: Vec<Flow> = names
            .iter()
            .enumerate()
            .map(|(i, n)| flow(Some(n), Some("US"), 100 + i as u64))
            .collect();
        let g = graph(&flows);
        assert_eq!(g.orgs.len(), MAX_ORGS);
        assert_eq!(g.orgs[MAX_ORGS - 1].0, "9 other organisations");
        let sum: u64 = g.orgs.iter().map(|o| o.1).sum();
        assert_eq!(sum, g.total);
        assert_eq!(g.orgs[0].0, "org19 (US)");
    }

    #[test]
    fn nothing_sent_says_so() {
        let mut out = Vec::new();
        write_sankey(&mut out, &[flow(Some("A"), Some("US"), 0)]).unwrap();
        assert!(String::from_utf8(out)
            .unwrap()
            .contains("No bytes were sent"));
    }

    #[test]
    fn hostile_org_is_escaped() {
        let mut out = Vec::new();
        write_sankey(&mut out, &[flow(Some("<b>x</b>"), Some("US"), 10)]).unwrap();
        let s = String::from_utf8(out).unwrap();
        assert!(s.contains("&lt;b&gt;x&lt;/b&gt;"));
        assert!(!s.contains("<b>"));
    }
}

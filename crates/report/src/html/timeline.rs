//! The timeline: when each kind of personal data left the device.
//!
//! One row per data type (IMEI, phone number, location, ...), a mark at the time of each
//! personal-data finding, red when a policy rule was triggered by it. A reader sees whether the
//! IMEI left once at boot or every thirty seconds, and whether location left before the user
//! could have agreed to anything. Marks link to the finding's row in the table.
//!
//! Limits: marks that fall on the same pixel of a row are drawn once (the tooltip says how
//! many), so the SVG stays small for any number of findings. Findings without a time are
//! counted under the chart. The axis spans the captures' first to last packet (or the findings'
//! times when the inputs have none), in UTC.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{self, Write};

use super::escape::{esc, Esc};
use super::parse_ts;
use crate::Report;

const LABEL_W: f64 = 150.0;
const PLOT_W: f64 = 770.0;
const ROW_H: f64 = 28.0;
const TOP: f64 = 8.0;
const AXIS_H: f64 = 34.0;
const TICKS: i32 = 6;

/// One drawn mark: the findings that fell on one pixel of one row.
struct Mark {
    first: usize,
    n: u64,
    violating: bool,
}

/// Writes the timeline of personal-data findings. `violating` holds the indices of findings
/// that triggered a policy rule.
pub(crate) fn write_timeline(
    out: &mut dyn Write,
    report: &Report,
    violating: &BTreeSet<usize>,
) -> io::Result<()> {
    let mut rows: BTreeMap<&str, Vec<(usize, i128)>> = BTreeMap::new();
    let mut untimed = 0u64;
    for (i, f) in report.findings.iter().enumerate() {
        if f.kind != "personal_data" {
            continue;
        }
        let kind = f.data_type.unwrap_or("other");
        match f.ts.as_deref().and_then(parse_ts) {
            Some(t) => rows.entry(kind).or_default().push((i, t)),
            None => untimed += 1,
        }
    }
    if rows.is_empty() {
        let note = if untimed > 0 {
            format!("{untimed} personal-data findings, none with a time.")
        } else {
            "No personal data was found in what the device sent.".to_string()
        };
        return writeln!(out, r#"<p class="empty">{}</p>"#, esc(&note));
    }
    let times = rows.values().flatten().map(|(_, t)| *t);
    let inputs = report
        .inputs
        .iter()
        .flat_map(|i| [i.first_ts.as_deref(), i.last_ts.as_deref()])
        .flatten()
        .filter_map(parse_ts);
    let all: Vec<i128> = times.chain(inputs).collect();
    let (Some(&t0), Some(&t1)) = (all.iter().min(), all.iter().max()) else {
        return Ok(());
    };
    // A single instant still needs a width to draw on.
    let (t0, t1) = if t1 > t0 {
        (t0, t1)
    } else {
        (t0 - 1_000_000_000, t1 + 1_000_000_000)
    };
    let span = (t1 - t0) as f64;
    let x_of = |t: i128| LABEL_W + (t - t0) as f64 / span * PLOT_W;

    let mut order: Vec<(&str, &Vec<(usize, i128)>)> = rows.iter().map(|(k, v)| (*k, v)).collect();
    order.sort_by_key(|(k, v)| (v.iter().map(|(_, t)| *t).min(), *k));

    let height = TOP + ROW_H * order.len() as f64 + AXIS_H;
    writeln!(
        out,
        r#"<svg id="timeline" class="timeline" viewBox="0 0 {:.0} {height:.0}" role="img" aria-label="When each kind of personal data was sent">"#,
        LABEL_W + PLOT_W + 30.0
    )?;
    for (r, (kind, hits)) in order.iter().enumerate() {
        let y = TOP + ROW_H * r as f64 + ROW_H / 2.0;
        writeln!(
            out,
            r#"<line class="row" x1="{LABEL_W}" x2="{:.0}" y1="{y:.1}" y2="{y:.1}"/><text class="label" x="{:.0}" y="{y:.1}">{} ({})</text>"#,
            LABEL_W + PLOT_W,
            LABEL_W - 10.0,
            esc(kind),
            hits.len()
        )?;
        let mut marks: BTreeMap<i64, Mark> = BTreeMap::new();
        for &(i, t) in hits.iter() {
            let px = x_of(t).round() as i64;
            let m = marks.entry(px).or_insert(Mark {
                first: i,
                n: 0,
                violating: false,
            });
            m.n = m.n.saturating_add(1);
            m.violating |= violating.contains(&i);
        }
        for (px, m) in marks {
            let f = &report.findings[m.first];
            let more = if m.n > 1 {
                format!(" (and {} more here)", m.n - 1)
            } else {
                String::new()
            };
            writeln!(
                out,
                r##"<a href="#finding-{}"><circle class="mark{}" cx="{px}" cy="{y:.1}" r="5"><title>{} {}{}</title></circle></a>"##,
                m.first,
                if m.violating { " violation" } else { "" },
                esc(f.ts.as_deref().unwrap_or("")),
                Esc::cut(&f.message, 300),
                esc(&more)
            )?;
        }
    }
    let axis_y = TOP + ROW_H * order.len() as f64 + 4.0;
    writeln!(
        out,
        r#"<line class="axis" x1="{LABEL_W}" x2="{:.0}" y1="{axis_y:.1}" y2="{axis_y:.1}"/>"#,
        LABEL_W + PLOT_W
    )?;
    let long = t1 - t0 > 36 * 3_600_000_000_000;
    for k in 0..TICKS {
        let t = t0 + (t1 - t0) * i128::from(k) / i128::from(TICKS - 1);
        let x = x_of(t);
        let anchor = match k {
            0 => "start",
            k if k == TICKS - 1 => "end",
            _ => "middle",
        };
        writeln!(
            out,
            r#"<line class="tick" x1="{x:.1}" x2="{x:.1}" y1="{axis_y:.1}" y2="{:.1}"/><text class="tick-label" text-anchor="{anchor}" x="{x:.1}" y="{:.1}">{}</text>"#,
            axis_y + 5.0,
            axis_y + 18.0,
            tick_label(t, long)
        )?;
    }
    writeln!(out, "</svg>")?;
    write!(
        out,
        r#"<p class="note">Times in UTC. Red marks triggered a policy rule; a mark links to its finding."#
    )?;
    if untimed > 0 {
        write!(out, " {untimed} findings without a time are not drawn.")?;
    }
    writeln!(out, "</p>")
}

/// "12:04:05" for spans up to a day and a half, "05-01 12:04" beyond.
fn tick_label(nanos: i128, long: bool) -> String {
    let Ok(dt) = time::OffsetDateTime::from_unix_timestamp_nanos(nanos) else {
        return String::new();
    };
    if long {
        format!(
            "{:02}-{:02} {:02}:{:02}",
            u8::from(dt.month()),
            dt.day(),
            dt.hour(),
            dt.minute()
        )
    } else {
        format!("{:02}:{:02}:{:02}", dt.hour(), dt.minute(), dt.second())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Finding;

    fn finding(kind: &'static str, ts: &str) -> Finding {
        Finding {
            kind: "personal_data".into(),
            data_type: Some(kind),
            message: format!("{kind} sent"),
            ts: Some(ts.into()),
            ..Finding::default()
        }
    }

    fn render(findings: Vec<Finding>, violating: &[usize]) -> String {
        let mut r = super::super::tests::base();
        r.findings = findings;
        let mut out = Vec::new();
        let v: BTreeSet<usize> = violating.iter().copied().collect();
        write_timeline(&mut out, &r, &v).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn one_row_per_type_in_order_of_first_time() {
        let s = render(
            vec![
                finding("phone", "2024-01-01T00:00:30.000000Z"),
                finding("imei", "2024-01-01T00:00:10.000000Z"),
                finding("imei", "2024-01-01T00:00:50.000000Z"),
            ],
            &[2],
        );
        let imei = s.find(">imei (2)<").unwrap();
        let phone = s.find(">phone (1)<").unwrap();
        assert!(imei < phone);
        assert_eq!(s.matches("<circle").count(), 3);
        assert_eq!(s.matches("mark violation").count(), 1);
        assert!(s.contains("href=\"#finding-2\""));
        assert!(s.contains(">00:00:10<"));
    }

    #[test]
    fn same_pixel_marks_merge() {
        let s = render(
            vec![
                finding("imei", "2024-01-01T00:00:10.000000Z"),
                finding("imei", "2024-01-01T00:00:10.000001Z"),
                finding("imei", "2024-01-01T10:00:00.000000Z"),
            ],
            &[],
        );
        assert_eq!(s.matches("<circle").count(), 2);
        assert!(s.contains("(and 1 more here)"));
    }

    #[test]
    fn no_findings_says_so() {
        let s = render(Vec::new(), &[]);
        assert!(s.contains("No personal data"));
        let s = render(
            vec![Finding {
                ts: None,
                ..finding("imei", "")
            }],
            &[],
        );
        assert!(s.contains("none with a time"));
    }
}

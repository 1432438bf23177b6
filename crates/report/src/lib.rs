//! Report types and writers.
//!
//! The types here are serialize-only: they are the stable JSON contract (`phonehome/report/v1`)
//! and carry no behaviour. The pipeline builds a [`Report`]; writers print it.

pub mod diff;
pub mod html;
pub mod markdown;
mod model;
mod ndjson;
pub mod parquet;
mod summary;

pub use model::*;
pub use ndjson::write_ndjson;
pub use serde_json;
pub use summary::{human_bytes, write_summary};

/// The JSON Schema (draft 2020-12) of the report, generated from the types above; the
/// repository keeps a copy in `docs/report.schema.json` that a test holds equal to it.
pub fn json_schema() -> serde_json::Value {
    serde_json::to_value(schemars::schema_for!(Report)).unwrap_or_default()
}

/// Writes the report as one pretty-printed JSON document.
pub fn write_json(report: &Report, out: &mut impl std::io::Write) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, report)?;
    out.write_all(b"\n")
}

/// Formats a capture timestamp as RFC 3339 UTC with microseconds, e.g. `2024-05-01T12:00:00.123456Z`.
pub fn rfc3339(ts: phonehome_capture::Timestamp) -> String {
    let micros = ts.as_nanos().div_euclid(1000);
    let Ok(dt) = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(micros) * 1000) else {
        return "invalid-time".to_string();
    };
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z",
        dt.year(),
        u8::from(dt.month()),
        dt.day(),
        dt.hour(),
        dt.minute(),
        dt.second(),
        dt.microsecond()
    )
}

/// The order the HTML and Markdown findings tables list findings in, as indices into
/// `report.findings`: policy findings first, worst first; then personal data in report order.
pub(crate) fn findings_order(report: &Report) -> Vec<usize> {
    let mut order: Vec<usize> = (0..report.findings.len()).collect();
    order.sort_by_key(|&i| {
        let f = &report.findings[i];
        (f.kind != "policy", severity_rank(f), i)
    });
    order
}

/// A finding's severity as a sort key: 0 for critical up to 3 for low, 4 for none.
pub(crate) fn severity_rank(f: &Finding) -> u8 {
    match f.severity {
        Some("critical") => 0,
        Some("high") => 1,
        Some("medium") => 2,
        Some("low") => 3,
        _ => 4,
    }
}

#[cfg(test)]
pub(crate) mod tests_support {
    use crate::*;

    /// One UDP flow with one DNS query.
    pub(crate) fn tiny_report() -> Report {
        Report {
            schema: SCHEMA,
            run: Run {
                version: "0".into(),
                start_time: "2024-01-01T00:00:00.000000Z".into(),
                duration_ms: 0,
                ip_data: String::new(),
                ..Run::default()
            },
            inputs: Vec::new(),
            flows: vec![Flow {
                id: 1,
                proto: "udp".into(),
                client: "192.0.2.1:5000".into(),
                server: "192.0.2.53:53".into(),
                first_ts: "2024-01-01T00:00:01.000000Z".into(),
                last_ts: "2024-01-01T00:00:01.000000Z".into(),
                input: 0,
                first_frame: 1,
                packets_up: 1,
                packets_down: 0,
                bytes_up: 40,
                bytes_down: 0,
                app_proto: Some("dns".into()),
                server_name: None,
                name_source: "none".into(),
                name_conflicts: Vec::new(),
                tls: None,
                quic: None,
                tcp: None,
                decrypted: false,
                not_decrypted: None,
                ..Flow::default()
            }],
            dns: vec![Dns {
                ts: "2024-01-01T00:00:01.000000Z".into(),
                flow: 1,
                input: 0,
                frame: 1,
                response: false,
                id: 7,
                query: Some("example.com".into()),
                questions: vec!["example.com".into()],
                qtype: Some("A".into()),
                rcode: None,
                answers: Vec::new(),
                transport: None,
            }],
            http: Vec::new(),
            destinations: Vec::new(),
            findings: Vec::new(),
            blind_spots: Vec::new(),
            stats: Stats::default(),
            keylogs: Vec::new(),
            verdict: Verdict::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use phonehome_capture::Timestamp;

    #[test]
    fn the_committed_schema_is_the_generated_one() {
        let committed: serde_json::Value =
            serde_json::from_str(include_str!("../../../docs/report.schema.json"))
                .expect("docs/report.schema.json is JSON");
        assert!(
            committed == json_schema(),
            "docs/report.schema.json is stale: regenerate it with `phonehome schema > docs/report.schema.json`"
        );
    }

    #[test]
    fn rfc3339_has_microseconds_and_utc() {
        let ts = Timestamp::from_nanos(1_700_000_000_123_456_789);
        assert_eq!(rfc3339(ts), "2023-11-14T22:13:20.123456Z");
        assert_eq!(
            rfc3339(Timestamp::from_nanos(0)),
            "1970-01-01T00:00:00.000000Z"
        );
    }
}

//! NDJSON: one event per line, in the habits of Suricata's eve.json.
//!
//! Every line is an object with `event_type` (`flow`, `dns`, `tls`, `quic`, `http`,
//! `blind_spot`, `finding`, `verdict`), `timestamp`, `flow_id`, and the flow's `proto`, `src_ip`,
//! `src_port`, `dest_ip`, `dest_port` (source = the client), then one object named after the
//! event type holding the same record the JSON report has. Lines come in timestamp order; a
//! finding is stamped with its first sighting. When a policy was applied, one `verdict` event
//! ends the stream, stamped with the capture's last packet and naming the inputs' SHA-256, so
//! a SIEM can alert on it alone.

use std::io::{self, Write};

use serde_json::{Map, Value};

use crate::{Flow, Report};

/// Writes the report as newline-delimited events.
pub fn write_ndjson(report: &Report, out: &mut impl Write) -> io::Result<()> {
    let by_id: std::collections::HashMap<u64, &Flow> =
        report.flows.iter().map(|f| (f.id, f)).collect();
    let mut events: Vec<(String, u8, Value)> = Vec::new();
    let mut push = |ts: &str, order: u8, kind: &str, flow: Option<u64>, body: Value| {
        let mut obj = Map::new();
        obj.insert("timestamp".into(), Value::from(ts));
        obj.insert("event_type".into(), Value::from(kind));
        if let Some(f) = flow.and_then(|id| by_id.get(&id)) {
            obj.insert("flow_id".into(), Value::from(f.id));
            obj.insert("proto".into(), Value::from(f.proto.as_str()));
            let (src_ip, src_port) = split_endpoint(&f.client);
            let (dest_ip, dest_port) = split_endpoint(&f.server);
            obj.insert("src_ip".into(), Value::from(src_ip));
            obj.insert("src_port".into(), Value::from(src_port));
            obj.insert("dest_ip".into(), Value::from(dest_ip));
            obj.insert("dest_port".into(), Value::from(dest_port));
        }
        obj.insert(kind.to_string(), body);
        events.push((ts.to_string(), order, Value::Object(obj)));
    };
    for f in &report.flows {
        let body = serde_json::to_value(f).map_err(io::Error::other)?;
        push(&f.first_ts, 0, "flow", Some(f.id), body);
        if let Some(tls) = &f.tls {
            let body = serde_json::to_value(tls).map_err(io::Error::other)?;
            push(&f.first_ts, 1, "tls", Some(f.id), body);
        }
        if let Some(quic) = &f.quic {
            let body = serde_json::to_value(quic).map_err(io::Error::other)?;
            push(&f.first_ts, 1, "quic", Some(f.id), body);
        }
    }
    for d in &report.dns {
        let body = serde_json::to_value(d).map_err(io::Error::other)?;
        push(&d.ts, 2, "dns", Some(d.flow), body);
    }
    for h in &report.http {
        let body = serde_json::to_value(h).map_err(io::Error::other)?;
        push(&h.ts, 2, "http", Some(h.flow), body);
    }
    for b in &report.blind_spots {
        let ts = by_id
            .get(&b.flow)
            .map(|f| f.first_ts.as_str())
            .unwrap_or("");
        let body = serde_json::to_value(b).map_err(io::Error::other)?;
        push(ts, 3, "blind_spot", Some(b.flow), body);
    }
    let last_ts = report
        .inputs
        .iter()
        .filter_map(|i| i.last_ts.as_deref())
        .max()
        .unwrap_or("")
        .to_string();
    for f in &report.findings {
        // A policy finding has no flow of its own: it stands at the end of the capture.
        let ts =
            f.ts.as_deref()
                .or_else(|| {
                    f.flow
                        .and_then(|id| by_id.get(&id))
                        .map(|f| f.first_ts.as_str())
                })
                .unwrap_or(&last_ts)
                .to_string();
        let body = serde_json::to_value(f).map_err(io::Error::other)?;
        push(&ts, 4, "finding", f.flow, body);
    }
    if report.verdict.policy.is_some() {
        let mut body = serde_json::to_value(&report.verdict).map_err(io::Error::other)?;
        if let Value::Object(obj) = &mut body {
            let inputs: Vec<Value> = report
                .inputs
                .iter()
                .map(|i| serde_json::json!({"path": i.path, "sha256": i.sha256}))
                .collect();
            obj.insert("inputs".into(), Value::from(inputs));
        }
        // The capture's end; inputs without timestamps fall back to the latest event.
        let end = report
            .flows
            .iter()
            .map(|f| f.last_ts.as_str())
            .chain([last_ts.as_str()])
            .max()
            .unwrap_or_default()
            .to_string();
        push(&end, 5, "verdict", None, body);
    }
    // A stable sort keeps each kind's own order for equal timestamps.
    events.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(&b.1)));
    for (_, _, event) in events {
        serde_json::to_writer(&mut *out, &event)?;
        out.write_all(b"\n")?;
    }
    Ok(())
}

/// Splits "ip:port" or "[v6]:port" into its parts.
fn split_endpoint(endpoint: &str) -> (String, u16) {
    let (ip, port) = match endpoint.rsplit_once(':') {
        Some((ip, port)) => (ip, port.parse().unwrap_or(0)),
        None => (endpoint, 0),
    };
    (
        ip.trim_start_matches('[').trim_end_matches(']').to_string(),
        port,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_split_for_both_families() {
        assert_eq!(split_endpoint("10.0.0.1:443"), ("10.0.0.1".into(), 443));
        assert_eq!(
            split_endpoint("[2001:db8::1]:53"),
            ("2001:db8::1".into(), 53)
        );
        assert_eq!(split_endpoint("[fe80::1]:0"), ("fe80::1".into(), 0));
    }

    #[test]
    fn a_dns_event_line_carries_the_flow_tuple() {
        let report: Report = crate::tests_support::tiny_report();
        let mut out = Vec::new();
        write_ndjson(&report, &mut out).unwrap();
        let lines: Vec<Value> = String::from_utf8(out)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0]["event_type"], "flow");
        assert_eq!(lines[1]["event_type"], "dns");
        assert_eq!(lines[1]["src_ip"], "192.0.2.1");
        assert_eq!(lines[1]["dest_port"], 53);
        assert_eq!(lines[1]["dns"]["query"], "example.com");
    }

    #[test]
    fn a_judged_report_ends_with_its_verdict() {
        let mut report: Report = crate::tests_support::tiny_report();
        let lines = |r: &Report| -> Vec<Value> {
            let mut out = Vec::new();
            write_ndjson(r, &mut out).unwrap();
            String::from_utf8(out)
                .unwrap()
                .lines()
                .map(|l| serde_json::from_str(l).unwrap())
                .collect()
        };
        assert!(lines(&report).iter().all(|l| l["event_type"] != "verdict"));
        report.inputs.push(crate::Input {
            path: "a.pcap".into(),
            sha256: "ab".repeat(32),
            ..crate::Input::default()
        });
        report.verdict.policy = Some("cleartext".into());
        report.verdict.status = "fail";
        report.verdict.violations = 2;
        let all = lines(&report);
        let last = all.last().unwrap();
        assert_eq!(last["event_type"], "verdict");
        assert_eq!(last["verdict"]["status"], "fail");
        assert_eq!(last["verdict"]["violations"], 2);
        assert_eq!(
            last["verdict"]["inputs"][0]["sha256"],
            report.inputs[0].sha256.as_str()
        );
    }
}

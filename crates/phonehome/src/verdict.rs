//! Judging a report against a policy: violations become findings of kind "policy".
//!
//! The policy engine (`phonehome_detect::policy`) knows nothing of the report model: it judges
//! [`Subject`]s, plain descriptions of findings and flows. This module describes the report's
//! personal-data findings and flows that way, runs the engine, and writes its violations back
//! into the report as findings (with the triggering findings' indices and flows, and a display
//! filter selecting those flows) and into the [`report::Verdict`].

use std::collections::HashMap;

use phonehome_detect::policy::{evaluate, Encryption, Policy, PolicyError, Subject, SubjectKind};
use phonehome_report as report;

/// Judges `report` against `policy` (named by its own name, its file's SHA-256 `sha256` when it
/// came from a file) with `home` overriding the policy's home jurisdiction. Policy findings are
/// appended after the personal-data findings; the verdict is set.
pub fn judge(
    report: &mut report::Report,
    policy: &Policy,
    sha256: Option<String>,
    home: Option<&str>,
) -> Result<(), PolicyError> {
    let flows: HashMap<u64, &report::Flow> = report.flows.iter().map(|f| (f.id, f)).collect();
    let mut subjects: Vec<Subject<'_>> = Vec::new();
    for (index, finding) in report.findings.iter().enumerate() {
        if finding.kind == "policy" {
            continue;
        }
        let flow = finding.flow.and_then(|id| flows.get(&id).copied());
        let mut s = flow.map_or_else(Subject::default, flow_subject);
        s.kind = SubjectKind::Finding;
        s.index = index;
        s.data_type = finding.data_type;
        s.confidence = finding.confidence;
        s.direction = finding.direction;
        if s.server_name.is_none() {
            s.server_name = finding.server_name.as_deref();
        }
        subjects.push(s);
    }
    for flow in &report.flows {
        let mut s = flow_subject(flow);
        s.index = usize::MAX;
        subjects.push(s);
    }
    let violations = evaluate(policy, home, &subjects)?;
    let home = policy.effective_home(home)?;
    drop(subjects);
    let first_policy = report.findings.len();
    let mut verdict = report::Verdict {
        status: if violations.is_empty() {
            "pass"
        } else {
            "fail"
        },
        policy: Some(policy.name().to_string()),
        policy_sha256: sha256,
        home,
        violations: violations.len() as u64,
        ..report::Verdict::default()
    };
    let mut added = Vec::with_capacity(violations.len());
    for v in violations {
        match v.severity.as_str() {
            "critical" => verdict.critical += 1,
            "high" => verdict.high += 1,
            "medium" => verdict.medium += 1,
            _ => verdict.low += 1,
        }
        let trigger_flows: Vec<&report::Flow> = v
            .flows
            .iter()
            .filter_map(|id| flows.get(id).copied())
            .collect();
        let ts = v
            .findings
            .iter()
            .filter_map(|&i| report.findings.get(i).and_then(|f| f.ts.clone()))
            .min()
            .or_else(|| trigger_flows.iter().map(|f| f.first_ts.clone()).min());
        added.push(report::Finding {
            kind: "policy".into(),
            flow: v.flows.first().copied(),
            message: v.message,
            data_type: None,
            ts,
            input: trigger_flows.first().map(|f| f.input),
            server_name: v.destination,
            org: v.org,
            org_country: v.org_country,
            server_country: v.server_country,
            service: v.service,
            display_filter: crate::evidence::flows_filter(trigger_flows.iter().copied()),
            rule: Some(v.rule),
            severity: Some(v.severity.as_str()),
            triggers: v.findings,
            trigger_flows: v.flows,
            count: 1,
            ..report::Finding::default()
        });
    }
    drop(flows);
    debug_assert!(added
        .iter()
        .all(|f| f.triggers.iter().all(|&i| i < first_policy)));
    report.findings.extend(added);
    report.verdict = verdict;
    Ok(())
}

/// A flow as the policy engine sees it.
fn flow_subject(flow: &report::Flow) -> Subject<'_> {
    let encryption = match (flow.tls.is_some() || flow.quic.is_some(), flow.decrypted) {
        (true, true) => Encryption::Decrypted,
        (true, false) => Encryption::Encrypted,
        (false, _) => match flow.app_proto.as_deref() {
            Some("http" | "dns" | "mdns" | "llmnr" | "ssdp") => Encryption::Cleartext,
            Some(p) if p.starts_with("http") => Encryption::Cleartext,
            _ if flow.not_decrypted.is_some() => Encryption::Encrypted,
            _ => Encryption::Unknown,
        },
    };
    let server = flow.server.as_str();
    Subject {
        kind: SubjectKind::Flow,
        index: 0,
        flow: Some(flow.id),
        data_type: None,
        confidence: None,
        direction: None,
        service: flow.service.as_deref(),
        app: flow.app.as_deref(),
        org: flow.org.as_deref(),
        org_country: flow.org_country.as_deref(),
        parent_org: flow.parent_org.as_deref(),
        parent_country: flow.parent_country.as_deref(),
        server_country: flow.server_country.as_deref(),
        server_name: flow.server_name.as_deref(),
        server: Some(server),
        encryption,
        bytes_up: flow.bytes_up,
        bytes_down: flow.bytes_down,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report_with_imei_to_cn() -> report::Report {
        let flow = report::Flow {
            id: 3,
            proto: "tcp".into(),
            client: "192.0.2.1:40000".into(),
            server: "198.51.100.9:80".into(),
            first_ts: "2024-01-01T00:00:01.000000Z".into(),
            last_ts: "2024-01-01T00:00:02.000000Z".into(),
            app_proto: Some("http".into()),
            server_name: Some("data.mistat.xiaomi.com".into()),
            org: Some("Xiaomi".into()),
            org_country: Some("CN".into()),
            server_country: Some("CN".into()),
            bytes_up: 500,
            ..report::Flow::default()
        };
        let finding = report::Finding {
            kind: "personal_data".into(),
            flow: Some(3),
            data_type: Some("imei"),
            confidence: Some("high"),
            direction: Some("client_to_server"),
            ts: Some("2024-01-01T00:00:01.500000Z".into()),
            server_name: Some("data.mistat.xiaomi.com".into()),
            count: 1,
            ..report::Finding::default()
        };
        report::Report {
            schema: report::SCHEMA,
            run: report::Run::default(),
            inputs: Vec::new(),
            flows: vec![flow],
            dns: Vec::new(),
            http: Vec::new(),
            destinations: Vec::new(),
            findings: vec![finding],
            blind_spots: Vec::new(),
            stats: report::Stats::default(),
            keylogs: Vec::new(),
            verdict: report::Verdict::default(),
        }
    }

    #[test]
    fn pii_abroad_fails_at_home_elsewhere_and_passes_at_home() {
        let policy = Policy::preset("no-pii-abroad").expect("preset exists");
        let mut r = report_with_imei_to_cn();
        judge(&mut r, &policy, None, Some("TW")).unwrap();
        assert_eq!(r.verdict.status, "fail");
        assert_eq!(r.findings.len(), 2);
        let v = &r.findings[1];
        assert_eq!(v.kind, "policy");
        assert_eq!(v.triggers, [0]);
        assert_eq!(v.trigger_flows, [3]);
        assert!(v
            .display_filter
            .as_deref()
            .unwrap()
            .contains("tcp.port == 80"));

        let mut r = report_with_imei_to_cn();
        judge(&mut r, &policy, None, Some("CN")).unwrap();
        assert_eq!(r.verdict.status, "pass");
        assert_eq!(r.findings.len(), 1);
    }
}

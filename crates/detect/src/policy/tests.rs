//! The presets against small fixtures, and the shipped files against the data and the docs.
//!
//! The fixtures are findings and flows as the pipeline describes them for a phone tested in
//! Taiwan: a Xiaomi phone reporting its IMEI to Xiaomi's analytics (CN), a TikTok flow (SG,
//! parent ByteDance CN), a contact uploaded to a home server, an SMS code (low confidence).

use toml::de::DeTable;

use super::parse::{ALLOW_KEYS, CLAUSE_KEYS, RULE_KEYS, TOP_KEYS};
use super::*;
use crate::fuzzing::{contact_home_cleartext, imei_to_xiaomi, sms_code_to_xiaomi};
use crate::variants::DataType;

const SERVICES: &str = include_str!("../../../../data/orgs/services.toml");
const DOCS: &str = include_str!("../../../../docs/policy.md");

fn preset(name: &str) -> Policy {
    let text = Policy::preset_text(name).unwrap();
    let (p, warnings) = Policy::parse(text, name).unwrap();
    assert!(warnings.is_empty(), "{name}: {warnings:?}");
    assert_eq!(p.name(), name);
    p
}

/// Rule ids that fire, in output order, with how many findings and flows each holds.
fn fired(p: &Policy, subjects: &[Subject<'_>]) -> Vec<(String, usize, usize)> {
    evaluate(p, Some("TW"), subjects)
        .unwrap()
        .into_iter()
        .map(|v| (v.rule, v.findings.len(), v.flows.len()))
        .collect()
}

fn ids(p: &Policy, subjects: &[Subject<'_>]) -> Vec<String> {
    fired(p, subjects).into_iter().map(|v| v.0).collect()
}

fn flow(
    id: u64,
    service: &'static str,
    org: &'static str,
    country: &'static str,
) -> Subject<'static> {
    Subject {
        kind: SubjectKind::Flow,
        index: 0,
        flow: Some(id),
        service: Some(service),
        org: Some(org),
        org_country: Some(country),
        server_country: Some(country),
        server_name: Some("server.example"),
        encryption: Encryption::Encrypted,
        bytes_up: 1200,
        bytes_down: 5400,
        ..Subject::default()
    }
}

#[test]
fn presets_parse_clean_and_are_listed() {
    let names: Vec<&str> = Policy::preset_names().collect();
    assert_eq!(
        names,
        ["no-pii-abroad", "gov-network", "cleartext", "strict"]
    );
    for name in names {
        let p = preset(name);
        assert!(!p.rules().is_empty());
        assert_eq!(
            Policy::preset(name).as_ref(),
            Some(&Policy {
                source: format!("{name}.toml"),
                ..p
            })
        );
    }
    assert!(Policy::preset("nope").is_none());
}

#[test]
fn presets_name_only_services_phonehome_recognises() {
    let root = DeTable::parse(SERVICES).unwrap();
    let known: Vec<String> = root
        .get_ref()
        .get("service")
        .and_then(|v| v.get_ref().as_array())
        .unwrap()
        .iter()
        .filter_map(|s| {
            s.get_ref()
                .get("name")?
                .get_ref()
                .as_str()
                .map(str::to_owned)
        })
        .collect();
    assert!(known.len() > 50);
    for name in Policy::preset_names() {
        let p = preset(name);
        let unknown = p.unknown_services(|s| known.iter().any(|k| k == s));
        assert!(unknown.is_empty(), "{unknown:?}");
    }
    let p = preset("gov-network");
    let warnings = p.unknown_services(|s| s != "LINE");
    assert_eq!(warnings.len(), 1);
    assert!(warnings[0].starts_with("gov-network:"));
    assert!(warnings[0].contains("service \"LINE\" is not a service phonehome recognises"));
}

#[test]
fn no_pii_abroad() {
    let p = preset("no-pii-abroad");
    assert!(p.uses_home());
    assert!(matches!(
        evaluate(&p, None, &[imei_to_xiaomi(0)]),
        Err(PolicyError::NoHome { .. })
    ));
    // IMEI to China: high. Twice in one flow, once in another: one violation.
    let twice = [
        imei_to_xiaomi(0),
        imei_to_xiaomi(1),
        Subject {
            flow: Some(12),
            ..imei_to_xiaomi(2)
        },
    ];
    assert_eq!(
        fired(&p, &twice),
        [("personal-data-abroad".to_owned(), 3, 2)]
    );
    let v = evaluate(&p, Some("TW"), &twice).unwrap();
    assert_eq!(v[0].severity, Severity::High);
    assert_eq!(
        v[0].message,
        "IMEI sent to Xiaomi (CN) data.mistat.xiaomi.com via Xiaomi Analytics: device \
         identifiers or the owner's data sent to a server or owner outside home \
         (owner under CN, server in CN, home TW)"
    );
    // A contact kept at home: nothing. The same contact sent to China: critical.
    assert!(ids(&p, &[contact_home_cleartext(0)]).is_empty());
    let contact_cn = Subject {
        data_type: Some("contact_name"),
        ..imei_to_xiaomi(1)
    };
    assert_eq!(ids(&p, &[contact_cn]), ["content-abroad"]);
    // Home server, owner abroad (a TikTok edge in Taiwan): the owner counts.
    let tiktok = Subject {
        org: Some("TikTok"),
        org_country: Some("SG"),
        parent_org: Some("ByteDance"),
        parent_country: Some("CN"),
        server_country: Some("TW"),
        ..imei_to_xiaomi(0)
    };
    assert_eq!(ids(&p, &[tiktok]), ["personal-data-abroad"]);
    // Low-confidence SMS code: left to the report.
    assert!(ids(&p, &[sms_code_to_xiaomi(0)]).is_empty());
    // Nobody knows where: flagged as unknown, not as abroad.
    let nowhere = Subject {
        org: None,
        org_country: None,
        server_country: None,
        ..imei_to_xiaomi(0)
    };
    assert_eq!(ids(&p, &[nowhere]), ["unknown-jurisdiction"]);
    // A pattern detector's type.
    let jwt = Subject {
        data_type: Some("jwt"),
        ..imei_to_xiaomi(0)
    };
    assert_eq!(ids(&p, &[jwt]), ["detected-data-abroad"]);
    // Flows alone break nothing here.
    assert!(ids(&p, &[flow(1, "WeChat", "Tencent", "CN")]).is_empty());
    // With China as home, the IMEI stays home.
    assert!(evaluate(&p, Some("CN"), &[imei_to_xiaomi(0)])
        .unwrap()
        .is_empty());
}

#[test]
fn gov_network() {
    let p = preset("gov-network");
    let subjects = [
        flow(1, "WeChat", "Tencent", "CN"),
        flow(2, "LINE", "LY Corporation", "JP"),
        flow(3, "MIUI Update", "Xiaomi", "CN"),
        flow(4, "Xiaomi Analytics", "Xiaomi", "CN"),
        Subject {
            service: None,
            app: Some("com.ss.android.ugc.aweme"),
            ..flow(5, "", "ByteDance", "CN")
        },
        flow(6, "Google", "Google", "US"),
        imei_to_xiaomi(0),
        contact_home_cleartext(1),
        sms_code_to_xiaomi(2),
    ];
    let got = fired(&p, &subjects);
    let want: Vec<(String, usize, usize)> = [
        ("personal-data-abroad", 1, 1),
        ("banned-messaging", 0, 1),
        ("banned-messaging", 0, 1),
        ("banned-social", 0, 1),
        ("banned-telemetry", 0, 1),
        ("cleartext-personal-data", 1, 1),
    ]
    .iter()
    .map(|(r, a, b)| ((*r).to_owned(), *a, *b))
    .collect();
    assert_eq!(got, want);
    let v = evaluate(&p, Some("TW"), &subjects).unwrap();
    assert_eq!(v[0].severity, Severity::Critical);
    assert_eq!(
        (v[1].service.as_deref(), v[1].flows.as_slice()),
        (Some("LINE"), &[2][..])
    );
    assert_eq!(
        v[2].message,
        "1 WeChat flow to Tencent (CN) server.example (1.2 kB up, 5.4 kB down): messaging \
         service banned on the network"
    );
    assert_eq!(v[3].flows, [5]);
}

#[test]
fn cleartext() {
    let p = preset("cleartext");
    assert!(!p.uses_home());
    assert_eq!(p.effective_home(None).unwrap(), None);
    assert!(evaluate(&p, None, &[imei_to_xiaomi(0)]).unwrap().is_empty());
    let clear_imei = Subject {
        encryption: Encryption::Cleartext,
        ..imei_to_xiaomi(0)
    };
    let clear_sms = Subject {
        data_type: Some("sms"),
        ..contact_home_cleartext(1)
    };
    let v = evaluate(
        &p,
        None,
        &[clear_imei, contact_home_cleartext(2), clear_sms],
    )
    .unwrap();
    let got: Vec<(&str, Severity, &[usize])> = v
        .iter()
        .map(|v| (v.rule.as_str(), v.severity, v.findings.as_slice()))
        .collect();
    assert_eq!(
        got,
        [
            ("cleartext-content", Severity::Critical, &[1, 2][..]),
            ("cleartext-personal-data", Severity::High, &[0][..]),
        ]
    );
    assert!(v[0].message.starts_with(
        "Contact phone number, SMS sent in cleartext to Chunghwa Telecom (TW) backup.example.tw: "
    ), "{}", v[0].message);
}

#[test]
fn strict() {
    let p = preset("strict");
    assert_eq!(ids(&p, &[contact_home_cleartext(0)]), ["content-sent"]);
    assert_eq!(ids(&p, &[sms_code_to_xiaomi(0)]), ["content-sent"]);
    assert_eq!(ids(&p, &[imei_to_xiaomi(0)]), ["personal-data-sent"]);
    assert!(ids(&p, &[flow(1, "WeChat", "Tencent", "CN")]).is_empty());
}

#[test]
fn every_detect_data_type_is_known() {
    for t in [
        DataType::Imei,
        DataType::Imsi,
        DataType::Iccid,
        DataType::Phone,
        DataType::Serial,
        DataType::AndroidId,
        DataType::AdvertisingId,
        DataType::Mac,
        DataType::Email,
        DataType::Name,
        DataType::ContactName,
        DataType::ContactPhone,
        DataType::Sms,
        DataType::Location,
        DataType::Secret,
    ] {
        assert_ne!(data_bit(t.as_str()), OTHER, "{}", t.as_str());
    }
}

#[test]
fn docs_cover_the_format() {
    // Every key the parser accepts, so a key added there is a key the docs must describe.
    let keys = [TOP_KEYS, RULE_KEYS, ALLOW_KEYS, CLAUSE_KEYS];
    for key in keys.into_iter().flatten() {
        let described = [
            format!("`{key}`"),
            format!("`[{key}]`"),
            format!("`[[{key}]]`"),
        ]
        .iter()
        .any(|k| DOCS.contains(k.as_str()));
        assert!(described, "docs/policy.md does not describe `{key}`");
    }
    for name in Policy::preset_names() {
        assert!(
            DOCS.contains(&format!("`{name}`")),
            "docs/policy.md does not describe {name}"
        );
    }
    for (group, _) in GROUPS {
        assert!(
            DOCS.contains(&format!("`{group}`")),
            "docs/policy.md does not describe {group}"
        );
    }
    // The examples in the docs are policies that parse.
    let mut examples = 0;
    for block in DOCS.split("```toml\n").skip(1) {
        let text = block.split("```").next().unwrap();
        if text.contains("[[rule]]") {
            let (_, w) = Policy::parse(text, "docs").unwrap_or_else(|e| panic!("{e}\n{text}"));
            assert!(w.is_empty(), "{w:?}");
            examples += 1;
        }
    }
    assert!(examples >= 3);
}

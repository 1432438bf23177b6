//! Verdicts and what is built around a report, end to end: policies and exit codes, `diff`,
//! evidence pcapng files, Parquet, HTML and Markdown, directory audits, masking of the
//! profile's values, determinism across thread counts and the pattern detectors.
//!
//! The captures are the example session (`examples/phone-session.pcap`, which sends the IMEI
//! and Android ID of `examples/device-profile.toml` to Xiaomi in China over plain HTTP) and the
//! pair `tests/e2e/data/diff-{before,after}.pcap` (`scripts/make_diff_captures.py`: AFTER adds
//! sync.xiaomi.com and POSTs the phone number +44 7700 900123 to it).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

use crate::util::{assert_valid, json, json_with_status, phonehome};

const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");

/// The profile `make_diff_captures.py --profile-out` writes for the diff captures.
const DIFF_PROFILE: &str = "[identifiers]\nphone = \"+44 7700 900123\"\n";

fn root(relative: &str) -> String {
    format!("{ROOT}/{relative}")
}

fn example() -> String {
    root("examples/phone-session.pcap")
}

fn example_profile() -> String {
    root("examples/device-profile.toml")
}

fn before() -> String {
    root("tests/e2e/data/diff-before.pcap")
}

fn after() -> String {
    root("tests/e2e/data/diff-after.pcap")
}

/// A value of the example profile (`imei`, `android_id`), read from the file so the tests
/// follow it if the example changes.
fn profile_value(key: &str) -> String {
    let text = std::fs::read_to_string(example_profile()).unwrap();
    text.lines()
        .filter_map(|l| l.split_once('='))
        .find(|(k, _)| k.trim() == key)
        .map(|(_, v)| v.trim().trim_matches('"').to_string())
        .unwrap_or_else(|| panic!("no {key} in the example profile"))
}

fn stdout(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).expect("phonehome prints UTF-8")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_string()
}

/// The example audited with its profile against `no-pii-abroad`, home Taiwan, plus `extra`.
fn example_judged(extra: &[&str]) -> Output {
    let (capture, profile) = (example(), example_profile());
    let mut args = vec![
        "audit",
        capture.as_str(),
        "--profile",
        profile.as_str(),
        "--policy",
        "no-pii-abroad",
        "--home",
        "TW",
    ];
    args.extend_from_slice(extra);
    phonehome(&args)
}

fn findings_of_kind<'a>(report: &'a Value, kind: &str) -> Vec<&'a Value> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["kind"] == kind)
        .collect()
}

fn is_sha256_hex(value: &Value) -> bool {
    value.as_str().is_some_and(|s| {
        s.len() == 64
            && s.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

// ---------------------------------------------------------------------------------------
// Verdicts and exit codes

#[test]
fn a_capture_without_personal_data_passes_its_policy_and_exits_0() {
    let capture = before();
    let report = json_with_status(
        &phonehome(&["audit", "-F", "json", "--policy", "cleartext", &capture]),
        0,
    );
    let verdict = &report["verdict"];
    assert_eq!(verdict["status"], "pass", "{verdict:#}");
    assert_eq!(verdict["policy"], "cleartext");
    assert_eq!(verdict["violations"], 0);
    for severity in ["critical", "high", "medium", "low"] {
        assert_eq!(verdict[severity], 0, "{verdict:#}");
    }
    // The cleartext preset needs no home, and none was given.
    assert_eq!(verdict["home"], Value::Null);
    assert!(is_sha256_hex(&verdict["policy_sha256"]), "{verdict:#}");
    assert!(findings_of_kind(&report, "policy").is_empty());
}

#[test]
fn without_a_policy_the_verdict_is_no_policy_and_personal_data_alone_exits_0() {
    let (capture, profile) = (example(), example_profile());
    let report = json_with_status(
        &phonehome(&["audit", "-F", "json", "--profile", &profile, &capture]),
        0,
    );
    assert!(!findings_of_kind(&report, "personal_data").is_empty());
    let verdict = &report["verdict"];
    assert_eq!(verdict["status"], "no-policy");
    assert_eq!(verdict["policy"], Value::Null);
    assert_eq!(verdict["policy_sha256"], Value::Null);
    assert_eq!(verdict["violations"], 0);
}

#[test]
fn imei_sent_to_xiaomi_in_china_breaks_no_pii_abroad_and_exits_1() {
    // `--home` is case-insensitive; the verdict names it in capitals.
    let (capture, profile) = (example(), example_profile());
    let out = phonehome(&[
        "audit",
        "-F",
        "json",
        "--profile",
        &profile,
        "--policy",
        "no-pii-abroad",
        "--home",
        "tw",
        &capture,
    ]);
    let report = json_with_status(&out, 1);
    let verdict = &report["verdict"];
    assert_eq!(verdict["status"], "fail");
    assert_eq!(verdict["policy"], "no-pii-abroad");
    assert_eq!(verdict["home"], "TW");
    assert!(is_sha256_hex(&verdict["policy_sha256"]), "{verdict:#}");

    let findings = report["findings"].as_array().unwrap();
    let policy = findings_of_kind(&report, "policy");
    assert_eq!(verdict["violations"], policy.len() as u64);
    let by_severity: u64 = ["critical", "high", "medium", "low"]
        .iter()
        .map(|s| verdict[*s].as_u64().unwrap())
        .sum();
    assert_eq!(by_severity, policy.len() as u64, "{verdict:#}");

    // The IMEI's violation: the high rule on identifiers, triggered by the IMEI finding.
    let imei = policy
        .iter()
        .find(|v| v["server_name"] == "tracking.miui.com")
        .unwrap_or_else(|| panic!("no violation for tracking.miui.com: {policy:#?}"));
    assert_eq!(imei["rule"], "personal-data-abroad");
    assert_eq!(imei["severity"], "high");
    assert_eq!(imei["org"], "Xiaomi");
    assert_eq!(imei["org_country"], "CN");
    let message = imei["message"].as_str().unwrap();
    assert!(message.contains("IMEI"), "{message}");
    assert!(message.contains("home TW"), "{message}");
    let triggers: Vec<&Value> = imei["triggers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| &findings[i.as_u64().unwrap() as usize])
        .collect();
    assert!(
        triggers
            .iter()
            .any(|f| f["data_type"] == "imei" && f["kind"] == "personal_data"),
        "{triggers:#?}"
    );
    for t in &triggers {
        assert_eq!(t["server_name"], "tracking.miui.com");
        assert!(imei["trigger_flows"]
            .as_array()
            .unwrap()
            .contains(&t["flow"]));
    }
    // Every violation of this preset is about personal data, so it has triggers, and every
    // trigger is a personal-data finding listed before the policy findings.
    for v in &policy {
        assert!(v["rule"].is_string() && v["severity"].is_string(), "{v:#}");
        let triggers = v["triggers"].as_array().unwrap();
        assert!(!triggers.is_empty(), "{v:#}");
        for i in triggers {
            assert_eq!(
                findings[i.as_u64().unwrap() as usize]["kind"],
                "personal_data"
            );
        }
    }
}

#[test]
fn a_broken_policy_exits_1_in_every_format() {
    for format in ["summary", "ndjson", "html", "markdown"] {
        let out = example_judged(&["-F", format]);
        assert_eq!(out.status.code(), Some(1), "{format}: {}", stderr(&out));
        assert!(!out.stdout.is_empty(), "{format}: no report written");
    }
}

#[test]
fn usage_errors_exit_2_with_a_message_and_no_report() {
    let dir = tempfile::tempdir().unwrap();
    let garbage = write(dir.path(), "garbage.pcap", "this is not a capture at all");
    let bad_policy = write(
        dir.path(),
        "bad-policy.toml",
        "[[rule]]\nid = \"x\"\nseverity = \"urgent\"\nwhen = { service = \"WeChat\" }\n",
    );
    let missing = dir.path().join("missing.pcap");
    let missing = missing.to_str().unwrap();
    let capture = before();
    let cases: [(&[&str], &str); 7] = [
        (&["--policy", "no-such-policy", &capture], "no-such-policy"),
        (
            &["--policy", "no-pii-abroad", "--home", "Taiwan", &capture],
            "Taiwan",
        ),
        (
            &["--policy", "no-pii-abroad", "--home", "XX", &capture],
            "XX",
        ),
        // The preset speaks of "abroad" and has no home of its own.
        (&["--policy", "no-pii-abroad", &capture], "home"),
        (&["--policy", &bad_policy, &capture], "bad-policy.toml:3"),
        (&[missing], "missing.pcap"),
        (&[&garbage], "garbage.pcap"),
    ];
    for (args, named) in cases {
        let mut all = vec!["audit", "-F", "json"];
        all.extend_from_slice(args);
        let out = phonehome(&all);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(out.stdout.is_empty(), "{args:?}: a report was written");
        let err = stderr(&out);
        assert!(err.contains(named), "{args:?}: {err}");
    }
}

#[test]
fn the_policy_hash_is_that_of_the_policy_file_bytes() {
    // A preset by name and the same text from a file hash alike; one more byte changes it.
    let dir = tempfile::tempdir().unwrap();
    let shown = phonehome(&["policy", "show", "cleartext"]);
    assert!(shown.status.success());
    let text = stdout(&shown);
    let same = write(dir.path(), "same.toml", &text);
    let edited = write(dir.path(), "edited.toml", &format!("{text}# reviewed\n"));
    let capture = before();
    let hash = |policy: &str| {
        let report = json(&phonehome(&[
            "audit", "-F", "json", "--policy", policy, &capture,
        ]));
        report["verdict"]["policy_sha256"].clone()
    };
    let preset = hash("cleartext");
    assert!(is_sha256_hex(&preset), "{preset}");
    assert_eq!(hash(&same), preset);
    assert_ne!(hash(&edited), preset);
}

// ---------------------------------------------------------------------------------------
// Policy files

/// Bans two messaging services outright, and personal identifiers sent to Xiaomi; LINE's
/// server is excused when `allow_line`.
fn lab_policy(allow_line: bool) -> String {
    let mut text = String::from(
        r#"name = "lab-test"
description = "Messaging banned; no identifiers to Xiaomi"

[[rule]]
id = "banned-messaging"
severity = "high"
description = "messaging service banned on the network"
when = { service = ["WeChat", "LINE"] }

[[rule]]
id = "ids-to-xiaomi"
severity = "critical"
[rule.when]
data = "identifiers"
org = "Xiaomi"
"#,
    );
    if allow_line {
        text.push_str(
            r#"
[[allow]]
reason = "LINE is accepted for the pilot"
rules = ["banned-messaging"]
server_name = "*.line.naver.jp"
"#,
        );
    }
    text
}

/// The (rule, destination) pairs of a report's violations.
fn violations(report: &Value) -> Vec<(String, String)> {
    findings_of_kind(report, "policy")
        .iter()
        .map(|v| {
            (
                v["rule"].as_str().unwrap().to_string(),
                v["server_name"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

#[test]
fn a_policy_file_bans_services_and_its_allow_list_excuses_a_server() {
    let dir = tempfile::tempdir().unwrap();
    let (capture, profile) = (example(), example_profile());
    let judge = |policy: &str| {
        json_with_status(
            &phonehome(&[
                "audit",
                "-F",
                "json",
                "--profile",
                &profile,
                "--policy",
                policy,
                &capture,
            ]),
            1,
        )
    };

    let strict = judge(&write(dir.path(), "strict.toml", &lab_policy(false)));
    let strict_violations = violations(&strict);
    assert!(
        strict_violations.contains(&("banned-messaging".into(), "gd2.line.naver.jp".into())),
        "{strict_violations:?}"
    );

    let path = write(dir.path(), "lab.toml", &lab_policy(true));
    let report = judge(&path);
    let verdict = &report["verdict"];
    // A policy from a file is named by its `name` in the verdict (by its path when it has
    // none); this one needs no home.
    assert_eq!(verdict["policy"], "lab-test");
    let unnamed = write(
        dir.path(),
        "unnamed.toml",
        &lab_policy(true).replace("name = \"lab-test\"\n", ""),
    );
    assert_eq!(judge(&unnamed)["verdict"]["policy"], unnamed.as_str());
    assert_eq!(verdict["home"], Value::Null);
    // Critical first, then high; within a rule, destinations alphabetically.
    assert_eq!(
        violations(&report),
        [
            ("ids-to-xiaomi", "resolver.msg.xiaomi.net"),
            ("ids-to-xiaomi", "tracking.miui.com"),
            ("banned-messaging", "szextshort.weixin.qq.com"),
            ("banned-messaging", "szshort.weixin.qq.com"),
        ]
        .map(|(r, d)| (r.to_string(), d.to_string()))
    );
    assert_eq!(verdict["violations"], 4);
    assert_eq!(verdict["critical"], 2);
    assert_eq!(verdict["high"], 2);
    for v in findings_of_kind(&report, "policy") {
        if v["rule"] == "banned-messaging" {
            // A flow rule: triggered by the WeChat flow itself, not by personal data.
            assert_eq!(v["service"], "WeChat");
            assert_eq!(v["severity"], "high");
            assert_eq!(v["triggers"], serde_json::json!([]));
            assert_eq!(v["trigger_flows"].as_array().unwrap().len(), 1);
            let message = v["message"].as_str().unwrap();
            assert!(
                message.contains("messaging service banned on the network"),
                "{message}"
            );
        } else {
            assert_eq!(v["severity"], "critical");
            assert!(!v["triggers"].as_array().unwrap().is_empty(), "{v:#}");
        }
    }
}

#[test]
fn home_given_on_the_command_line_replaces_the_policy_home() {
    let dir = tempfile::tempdir().unwrap();
    let policy = write(
        dir.path(),
        "home-cn.toml",
        "home = \"CN\"\n\n[[rule]]\nid = \"pii-abroad\"\nseverity = \"critical\"\n\
         [rule.when]\ndata = \"any\"\ncountry = \"abroad\"\n",
    );
    let (capture, profile) = (example(), example_profile());
    let run = |extra: &[&str]| {
        let mut args = vec![
            "audit",
            "-F",
            "json",
            "--profile",
            &profile,
            "--policy",
            &policy,
            &capture,
        ];
        args.extend_from_slice(extra);
        phonehome(&args)
    };
    // At home in China, the IMEI sent to Xiaomi in China is not abroad.
    let at_home = json_with_status(&run(&[]), 0);
    assert_eq!(at_home["verdict"]["status"], "pass");
    assert_eq!(at_home["verdict"]["home"], "CN");
    let from_taiwan = json_with_status(&run(&["--home", "TW"]), 1);
    assert_eq!(from_taiwan["verdict"]["home"], "TW");
    assert!(violations(&from_taiwan).contains(&("pii-abroad".into(), "tracking.miui.com".into())));
}

#[test]
fn several_home_countries_are_accepted_separated_by_commas() {
    // docs/policy.md: `--home DE,FR`. Xiaomi in China is abroad for either.
    let (capture, profile) = (example(), example_profile());
    let out = phonehome(&[
        "audit",
        "-F",
        "json",
        "--profile",
        &profile,
        "--policy",
        "no-pii-abroad",
        "--home",
        "DE,FR",
        &capture,
    ]);
    let report = json_with_status(&out, 1);
    assert_eq!(report["verdict"]["home"], "DE,FR");
}

#[test]
fn policy_check_accepts_a_good_file_and_names_line_and_key_of_a_bad_one() {
    let dir = tempfile::tempdir().unwrap();
    let good = write(dir.path(), "good.toml", &lab_policy(true));
    let out = phonehome(&["policy", "check", &good]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).contains("ok"), "{}", stdout(&out));

    let bad = write(
        dir.path(),
        "bad.toml",
        "[[rule]]\nid = \"pii\"\nseverity = \"high\"\n[rule.when]\ndata = \"any\"\n\
         server_contry = \"CN\"\n",
    );
    let out = phonehome(&["policy", "check", &bad]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("bad.toml:6"), "{err}");
    assert!(err.contains("server_contry"), "{err}");
    assert!(err.contains("did you mean \"server_country\""), "{err}");

    let out = phonehome(&[
        "policy",
        "check",
        &dir.path().join("absent.toml").display().to_string(),
    ]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn policy_check_warns_about_a_service_name_it_does_not_recognise() {
    // docs/policy.md: "A name written without wildcards that phonehome does not recognise is
    // reported as a warning, since that condition can never hold."
    let dir = tempfile::tempdir().unwrap();
    let policy = write(
        dir.path(),
        "typo.toml",
        "[[rule]]\nid = \"chat\"\nseverity = \"high\"\nwhen = { service = [\"WeChat\", \"WeChatt\"] }\n",
    );
    let out = phonehome(&["policy", "check", &policy]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("WeChatt"), "no warning: {err:?}");
    assert!(!err.contains("\"WeChat\""), "{err}");
}

#[test]
fn policy_list_and_show_give_the_presets() {
    let out = phonehome(&["policy", "list"]);
    assert!(out.status.success());
    // One preset a line: its name, then a tab and its description.
    let names: Vec<String> = stdout(&out)
        .lines()
        .map(|l| l.split('\t').next().unwrap().to_string())
        .collect();
    for preset in ["no-pii-abroad", "gov-network", "cleartext", "strict"] {
        assert!(names.iter().any(|n| n == preset), "{names:?}");
        let shown = phonehome(&["policy", "show", preset]);
        assert!(shown.status.success());
        // Each is an ordinary policy file: the shipped one, which checks clean.
        let shipped =
            std::fs::read_to_string(root(&format!("data/policies/{preset}.toml"))).unwrap();
        assert_eq!(stdout(&shown), shipped);
    }
    assert_eq!(
        phonehome(&["policy", "show", "no-such"]).status.code(),
        Some(2)
    );
}

// ---------------------------------------------------------------------------------------
// diff

fn diff_profile(dir: &Path) -> String {
    write(dir, "diff-profile.toml", DIFF_PROFILE)
}

fn added<'a>(diff: &'a Value, section: &str) -> Vec<&'a Value> {
    diff[section]
        .as_array()
        .unwrap_or_else(|| panic!("no {section} in {diff:#}"))
        .iter()
        .filter(|e| e["change"] == "added")
        .collect()
}

#[test]
fn diff_text_shows_the_destination_and_phone_number_only_the_after_capture_sends() {
    let dir = tempfile::tempdir().unwrap();
    let profile = diff_profile(dir.path());
    let out = phonehome(&["diff", "--profile", &profile, &before(), &after()]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let text = stdout(&out);
    let line = |start: &str, what: &str| {
        text.lines()
            .find(|l| l.trim_start().starts_with(start) && l.contains(what))
            .unwrap_or_else(|| panic!("no {start} {what} line in:\n{text}"))
            .to_string()
    };
    let dest = line("+ sync.xiaomi.com", "");
    assert!(dest.contains("Xiaomi") && dest.contains("CN"), "{dest}");
    let phone = line("+ phone", "sync.xiaomi.com");
    assert!(phone.contains("Xiaomi"), "{phone}");
    line("- connectivitycheck.gstatic.com", "Google");
    // The phone number itself is not printed.
    assert!(!text.contains("7700"), "{text}");
}

#[test]
fn diff_json_lists_the_added_destination_organisation_countries_and_personal_data() {
    let dir = tempfile::tempdir().unwrap();
    let profile = diff_profile(dir.path());
    let out = phonehome(&[
        "diff",
        "-F",
        "json",
        "--profile",
        &profile,
        &before(),
        &after(),
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let diff: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(diff["schema"], "phonehome/diff/v1");

    let dest = added(&diff, "destinations");
    assert_eq!(dest.len(), 1, "{dest:#?}");
    assert_eq!(dest[0]["key"], "sync.xiaomi.com");
    assert_eq!(dest[0]["org"], "Xiaomi");
    assert_eq!(dest[0]["org_country"], "CN");
    assert_eq!(dest[0]["server_country"], "CN");
    assert_eq!(dest[0]["before"]["flows"], 0);
    // The TLS connection and the HTTP POST.
    assert_eq!(dest[0]["after"]["flows"], 2);
    let keys = |section: &str| -> Vec<Value> {
        added(&diff, section)
            .iter()
            .map(|e| e["key"].clone())
            .collect()
    };
    assert_eq!(keys("orgs"), [Value::from("Xiaomi")]);
    assert_eq!(keys("org_countries"), [Value::from("CN")]);
    assert_eq!(keys("server_countries"), [Value::from("CN")]);

    let removed: Vec<&Value> = diff["destinations"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["change"] == "removed")
        .collect();
    assert_eq!(removed.len(), 1, "{removed:#?}");
    assert_eq!(removed[0]["key"], "connectivitycheck.gstatic.com");
    assert_eq!(removed[0]["org"], "Google");

    let data = added(&diff, "findings");
    assert_eq!(data.len(), 1, "{data:#?}");
    assert_eq!(data[0]["data_type"], "phone");
    assert_eq!(data[0]["destination"], "sync.xiaomi.com");
    assert_eq!(data[0]["org_country"], "CN");
    assert_eq!(diff["totals"]["before"]["findings"], 0);
    assert_eq!(diff["totals"]["after"]["findings"], 1);
    assert!(!String::from_utf8_lossy(&out.stdout).contains("7700"));
}

#[test]
fn a_capture_diffed_against_itself_shows_nothing_and_exits_0() {
    let capture = after();
    let out = phonehome(&["diff", "-F", "json", &capture, &capture]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let diff: Value = serde_json::from_slice(&out.stdout).unwrap();
    for section in [
        "findings",
        "destinations",
        "orgs",
        "org_countries",
        "server_countries",
        "services",
    ] {
        assert_eq!(diff[section], serde_json::json!([]), "{section}");
    }
    assert_eq!(diff["totals"]["before"], diff["totals"]["after"]);
    let text = phonehome(&["diff", &capture, &capture]);
    assert_eq!(text.status.code(), Some(0));
}

#[test]
fn diff_of_two_json_reports_equals_diff_of_their_captures() {
    let dir = tempfile::tempdir().unwrap();
    let profile = diff_profile(dir.path());
    let report_of = |capture: &str, name: &str| {
        let path = dir.path().join(name).display().to_string();
        let out = phonehome(&[
            "audit",
            "-F",
            "json",
            "--profile",
            &profile,
            "-o",
            &path,
            capture,
        ]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        assert_valid(&serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap());
        path
    };
    let (b, a) = (
        report_of(&before(), "before.json"),
        report_of(&after(), "after.json"),
    );
    let of_reports = phonehome(&["diff", "-F", "json", &b, &a]);
    assert_eq!(of_reports.status.code(), Some(1), "{}", stderr(&of_reports));
    let of_captures = phonehome(&[
        "diff",
        "-F",
        "json",
        "--profile",
        &profile,
        &before(),
        &after(),
    ]);
    let parse = |o: &Output| serde_json::from_slice::<Value>(&o.stdout).unwrap();
    assert_eq!(parse(&of_reports), parse(&of_captures));
    // A report against the same report: nothing differs.
    assert_eq!(phonehome(&["diff", &a, &a]).status.code(), Some(0));
}

#[test]
fn diff_with_an_unreadable_side_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.pcap").display().to_string();
    let out = phonehome(&["diff", &before(), &missing]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("missing.pcap"), "{}", stderr(&out));
    let not_a_report = write(dir.path(), "other.json", "{\"schema\": \"something/else\"}");
    let out = phonehome(&["diff", &not_a_report, &before()]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
}

// ---------------------------------------------------------------------------------------
// Evidence, Parquet, HTML, Markdown

fn tshark_available() -> bool {
    Command::new("tshark")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

#[test]
fn evidence_files_hold_the_packets_of_each_finding_and_read_back_with_the_same_finding() {
    let dir = tempfile::tempdir().unwrap();
    let evidence = dir.path().join("evidence");
    let out = example_judged(&["-F", "json", "--evidence", evidence.to_str().unwrap()]);
    let report = json_with_status(&out, 1);
    let findings = report["findings"].as_array().unwrap();

    // One file per finding, personal data and policy alike, numbered from 1 in report order.
    let mut names: Vec<String> = std::fs::read_dir(&evidence)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names.len(), findings.len(), "{names:?}");
    for (i, f) in findings.iter().enumerate() {
        let what = f["data_type"].as_str().or(f["rule"].as_str()).unwrap();
        let expected = format!("finding-{:04}-{what}.pcapng", i + 1);
        assert!(names.contains(&expected), "{expected} not in {names:?}");
        let bytes = std::fs::read(evidence.join(&expected)).unwrap();
        // A pcapng Section Header Block (pcapng draft section 4.1).
        assert_eq!(bytes[..4], [0x0a, 0x0d, 0x0d, 0x0a], "{expected}");
    }

    // The IMEI's file, read by phonehome with the same profile: the one flow behind the
    // finding, whole, and the IMEI found again in the frame of the POST.
    let index = findings
        .iter()
        .position(|f| f["data_type"] == "imei")
        .unwrap();
    let original = &findings[index];
    let flow = report["flows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == original["flow"])
        .unwrap();
    let file = evidence.join(format!("finding-{:04}-imei.pcapng", index + 1));
    let file = file.to_str().unwrap();
    let profile = example_profile();
    let again = json(&phonehome(&[
        "audit",
        "-F",
        "json",
        "--profile",
        &profile,
        file,
    ]));
    let flows = again["flows"].as_array().unwrap();
    assert_eq!(flows.len(), 1, "{flows:#?}");
    for key in [
        "client",
        "server",
        "server_name",
        "packets_up",
        "packets_down",
        "bytes_up",
        "bytes_down",
    ] {
        assert_eq!(flows[0][key], flow[key], "{key}");
    }
    let packets = flow["packets_up"].as_u64().unwrap() + flow["packets_down"].as_u64().unwrap();
    assert_eq!(again["inputs"][0]["packets"], packets);
    let found = findings_of_kind(&again, "personal_data");
    let imei = found
        .iter()
        .find(|f| f["data_type"] == "imei")
        .unwrap_or_else(|| panic!("IMEI not found in the evidence: {found:#?}"));
    assert_eq!(imei["server_name"], "tracking.miui.com");
    assert_eq!(imei["layers"], original["layers"]);
    let post = again["http"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["method"] == "POST")
        .unwrap();
    assert_eq!(imei["frames"], serde_json::json!([post["frame"]]));

    if tshark_available() {
        let fields = Command::new("tshark")
            .args([
                "-r",
                file,
                "-T",
                "fields",
                "-e",
                "frame.number",
                "-e",
                "http.request.method",
                "-e",
                "http.host",
            ])
            .output()
            .unwrap();
        assert!(fields.status.success(), "tshark: {}", stderr(&fields));
        let text = stdout(&fields);
        assert_eq!(text.lines().count() as u64, packets, "{text}");
        let frame = post["frame"].to_string();
        assert!(
            text.lines().any(|l| l.split('\t').collect::<Vec<_>>()
                == [frame.as_str(), "POST", "tracking.miui.com"]),
            "{text}"
        );
    } else {
        eprintln!("tshark not on PATH: evidence not checked with it");
    }
}

#[test]
fn parquet_tables_are_written_as_parquet_files() {
    let dir = tempfile::tempdir().unwrap();
    let parquet = dir.path().join("parquet");
    let out = example_judged(&["-F", "json", "--parquet", parquet.to_str().unwrap()]);
    json_with_status(&out, 1);
    for table in ["inputs", "flows", "destinations", "dns", "http", "findings"] {
        let path = parquet.join(format!("{table}.parquet"));
        let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        // A Parquet file starts and ends with "PAR1"; the footer length sits before the last.
        assert!(bytes.len() > 12, "{table}: {} bytes", bytes.len());
        assert_eq!(&bytes[..4], b"PAR1", "{table}");
        assert_eq!(&bytes[bytes.len() - 4..], b"PAR1", "{table}");
        let footer =
            u32::from_le_bytes(bytes[bytes.len() - 8..bytes.len() - 4].try_into().unwrap());
        assert!(
            (footer as usize) < bytes.len() - 12,
            "{table}: footer {footer}"
        );
    }
}

/// Every `src=`, `href=`, `action=`, `url(` and `@import` target of a page.
fn html_references(html: &str) -> Vec<String> {
    let mut refs = Vec::new();
    let lower = html.to_ascii_lowercase();
    for marker in ["src=", "href=", "action=", "url(", "@import"] {
        let mut from = 0;
        while let Some(at) = lower[from..].find(marker) {
            let start = from + at + marker.len();
            let rest = lower[start..].trim_start_matches([' ', '"', '\'']);
            let end = rest
                .find(|c: char| c == '"' || c == '\'' || c == ')' || c == '>' || c.is_whitespace())
                .unwrap_or(rest.len());
            refs.push(rest[..end].to_string());
            from = start;
        }
    }
    refs
}

#[test]
fn html_report_is_self_contained_and_shows_the_verdict_and_findings() {
    let out = example_judged(&["-F", "html"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let html = stdout(&out);
    let refs = html_references(&html);
    assert!(!refs.is_empty());
    for r in &refs {
        assert!(
            !(r.starts_with("http:") || r.starts_with("https:") || r.starts_with("//")),
            "the page fetches {r}"
        );
    }
    assert!(!html.contains("<script src"), "external script");
    assert!(
        html.contains("default-src 'none'"),
        "no Content-Security-Policy"
    );
    assert!(html.contains("FAIL"), "no verdict");
    assert!(html.contains("no-pii-abroad"));
    // A findings row of each kind, naming the destination.
    let row = |class: &str| {
        let at = html
            .find(&format!("<tr class=\"finding {class}\""))
            .unwrap_or_else(|| panic!("no {class} finding row"));
        let end = html[at..].find("</tr>").unwrap();
        html[at..at + end].to_string()
    };
    // The first personal-data row is the IMEI's, sent to tracking.miui.com.
    let first = row("personal-data");
    assert!(first.contains("tracking.miui.com"), "{first}");
    assert!(first.contains("[imei]"), "{first}");
    assert!(
        row("policy").contains("personal-data-abroad"),
        "{}",
        row("policy")
    );
    assert!(!html.contains(&profile_value("imei")));
}

#[test]
fn markdown_report_shows_the_verdict_and_a_findings_table() {
    let out = example_judged(&["-F", "markdown"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let md = stdout(&out);
    let verdict_line = md
        .lines()
        .find(|l| l.contains("Verdict") || (l.starts_with('#') && l.contains("FAIL")))
        .unwrap_or_else(|| panic!("no verdict in:\n{md}"));
    assert!(verdict_line.contains("FAIL"), "{verdict_line}");
    assert!(md.contains("no-pii-abroad"));
    let table = md
        .split("## Findings")
        .nth(1)
        .unwrap_or_else(|| panic!("no findings section in:\n{md}"));
    let rows: Vec<&str> = table
        .lines()
        .skip_while(|l| !l.starts_with('|'))
        .take_while(|l| l.starts_with('|'))
        .collect();
    // Header, separator, and one row per finding (3 personal data, 2 violations).
    assert_eq!(rows.len(), 2 + 5, "{rows:#?}");
    assert!(rows[1].contains("---"));
    assert!(rows
        .iter()
        .any(|r| r.contains("personal-data-abroad") && r.contains("tracking.miui.com")));
    assert!(!md.contains(&profile_value("imei")));
}

// ---------------------------------------------------------------------------------------
// Directories

/// A folder of captures: `before.pcap`, `sub/after.pcap` and a file that is not a capture.
fn capture_dir(dir: &Path) -> PathBuf {
    let caps = dir.join("caps");
    std::fs::create_dir_all(caps.join("sub")).unwrap();
    std::fs::copy(before(), caps.join("before.pcap")).unwrap();
    std::fs::copy(after(), caps.join("sub/after.pcap")).unwrap();
    std::fs::write(caps.join("notes.txt"), "not a capture").unwrap();
    caps
}

/// The reports below `dir` (the combined `summary.txt` aside), every one schema-valid.
fn reports_in(dir: &Path) -> Vec<Value> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.file_name().is_some_and(|n| n != "summary.txt") {
                out.push(p);
            }
        }
    }
    let mut paths = Vec::new();
    walk(dir, &mut paths);
    paths.sort();
    paths
        .iter()
        .map(|p| {
            assert_eq!(
                p.extension().and_then(|e| e.to_str()),
                Some("json"),
                "{}",
                p.display()
            );
            let report: Value = serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap();
            assert_valid(&report);
            report
        })
        .collect()
}

#[test]
fn a_directory_is_audited_capture_by_capture_with_a_combined_summary() {
    let dir = tempfile::tempdir().unwrap();
    let caps = capture_dir(dir.path());
    let out_dir = dir.path().join("reports");
    let out = phonehome(&[
        "audit",
        caps.to_str().unwrap(),
        "--jobs",
        "2",
        "-F",
        "json",
        "-o",
        out_dir.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let reports = reports_in(&out_dir);
    assert_eq!(reports.len(), 2);
    let mut inputs: Vec<String> = reports
        .iter()
        .map(|r| {
            let inputs = r["inputs"].as_array().unwrap();
            assert_eq!(inputs.len(), 1, "one capture per report");
            inputs[0]["path"].as_str().unwrap().to_string()
        })
        .collect();
    inputs.sort();
    assert!(inputs[0].ends_with("before.pcap"), "{inputs:?}");
    assert!(inputs[1].ends_with("after.pcap"), "{inputs:?}");
    let summary = stdout(&out);
    assert!(
        summary.contains("before.pcap") && summary.contains("after.pcap"),
        "{summary}"
    );
    assert!(
        summary.contains("2 captures audited, 0 unreadable"),
        "{summary}"
    );
    // The reports mirror the captures' tree, and the summary is kept beside them.
    assert!(out_dir.join("before.pcap.json").is_file());
    assert!(out_dir.join("sub/after.pcap.json").is_file());
    assert_eq!(
        std::fs::read_to_string(out_dir.join("summary.txt")).unwrap(),
        summary
    );
}

#[test]
fn an_unreadable_capture_in_a_directory_exits_2_and_the_others_are_still_reported() {
    let dir = tempfile::tempdir().unwrap();
    let caps = capture_dir(dir.path());
    std::fs::write(
        caps.join("junk.pcap"),
        "not a capture, though named like one",
    )
    .unwrap();
    let out_dir = dir.path().join("reports");
    let out = phonehome(&[
        "audit",
        caps.to_str().unwrap(),
        "--jobs",
        "2",
        "-F",
        "json",
        "-o",
        out_dir.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("junk.pcap"), "{}", stderr(&out));
    assert_eq!(reports_in(&out_dir).len(), 2);
    assert!(stdout(&out).contains("1 unreadable"), "{}", stdout(&out));
}

#[test]
fn a_directory_with_a_capture_breaking_the_policy_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    let caps = capture_dir(dir.path());
    let profile = diff_profile(dir.path());
    let out_dir = dir.path().join("reports");
    let out = phonehome(&[
        "audit",
        caps.to_str().unwrap(),
        "--profile",
        &profile,
        "--policy",
        "no-pii-abroad",
        "--home",
        "GB",
        "-F",
        "json",
        "-o",
        out_dir.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let mut statuses: Vec<String> = reports_in(&out_dir)
        .iter()
        .map(|r| {
            let path = r["inputs"][0]["path"].as_str().unwrap();
            let file = path.rsplit('/').next().unwrap();
            format!("{file} {}", r["verdict"]["status"].as_str().unwrap())
        })
        .collect();
    statuses.sort();
    assert_eq!(statuses, ["after.pcap fail", "before.pcap pass"]);
}

// ---------------------------------------------------------------------------------------
// Masking, determinism, pattern detectors

#[test]
fn profile_values_appear_in_no_report_format_unless_show_values() {
    let (imei, android_id) = (profile_value("imei"), profile_value("android_id"));
    for format in ["json", "ndjson", "html", "markdown", "summary"] {
        let out = example_judged(&["-F", format, "--http-bodies"]);
        assert_eq!(out.status.code(), Some(1), "{format}: {}", stderr(&out));
        let text = stdout(&out);
        assert!(!text.contains(&imei), "{format} shows the IMEI");
        assert!(!text.contains(&android_id), "{format} shows the Android ID");
    }
    let report = json_with_status(&example_judged(&["-F", "json", "--http-bodies"]), 1);
    let http = report["http"].as_array().unwrap();
    let post = http.iter().find(|h| h["uri"] == "/track/v4").unwrap();
    assert!(
        post["body"].as_str().unwrap().contains("[imei]"),
        "{post:#}"
    );
    assert!(
        http.iter().any(|h| h["uri"]
            .as_str()
            .is_some_and(|u| u.contains("uuid=[android_id]"))),
        "{http:#?}"
    );
}

#[test]
fn show_values_leaves_the_profile_values_in_the_report() {
    let (imei, android_id) = (profile_value("imei"), profile_value("android_id"));
    let report = json_with_status(
        &example_judged(&["-F", "json", "--http-bodies", "--show-values"]),
        1,
    );
    let http = report["http"].as_array().unwrap();
    let post = http.iter().find(|h| h["uri"] == "/track/v4").unwrap();
    assert!(post["body"].as_str().unwrap().contains(&imei), "{post:#}");
    assert!(
        http.iter().any(|h| h["uri"]
            .as_str()
            .is_some_and(|u| u.contains(&format!("uuid={android_id}")))),
        "{http:#?}"
    );
}

/// A pretty-printed report without its `run` object (the only part that changes between
/// runs), cut out of the text so everything else is compared byte for byte.
fn without_run(text: &str) -> String {
    let mut out = String::new();
    let mut in_run = false;
    for line in text.lines() {
        if line == "  \"run\": {" {
            in_run = true;
        } else if in_run {
            in_run = line != "  },";
        } else {
            out.push_str(line);
            out.push('\n');
        }
    }
    assert!(!in_run, "the run object does not end");
    out
}

#[test]
fn json_outside_run_is_byte_identical_with_one_and_three_threads() {
    let (capture, profile, other) = (example(), example_profile(), after());
    let run = |threads: &str| {
        let out = phonehome(&[
            "audit",
            "-F",
            "json",
            "--threads",
            threads,
            "--profile",
            &profile,
            "--policy",
            "no-pii-abroad",
            "--home",
            "TW",
            &capture,
            &other,
        ]);
        assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
        stdout(&out)
    };
    let (one, three) = (run("1"), run("3"));
    assert!(one.contains("\"run\": {"), "{one}");
    let (one, three) = (without_run(&one), without_run(&three));
    assert!(!one.contains("\"start_time\""), "run not cut out");
    assert!(one.len() > 10_000, "report too small: {} bytes", one.len());
    assert!(one == three, "reports differ between 1 and 3 threads");
}

#[test]
fn pattern_detectors_find_a_luhn_valid_imei_without_a_profile_and_mask_it() {
    let capture = example();
    let imei = profile_value("imei");
    let out = phonehome(&["audit", "-F", "json", &capture]);
    let report = json(&out);
    let findings = findings_of_kind(&report, "personal_data");
    let found = findings
        .iter()
        .find(|f| f["detector"] == "imei-luhn")
        .unwrap_or_else(|| panic!("no imei-luhn finding: {findings:#?}"));
    assert_eq!(found["data_type"], "imei");
    assert_eq!(found["value"], "[imei]");
    assert_eq!(found["server_name"], "tracking.miui.com");
    assert!(found["excerpt"].as_str().unwrap().contains("[imei]"));
    for f in &findings {
        let value = f["value"].as_str().unwrap();
        assert_eq!(
            value,
            format!("[{}]", f["data_type"].as_str().unwrap()),
            "{f:#}"
        );
    }
    assert!(!stdout(&out).contains(&imei));

    let off = json(&phonehome(&[
        "audit",
        "-F",
        "json",
        "--patterns",
        "off",
        &capture,
    ]));
    assert_eq!(off["findings"], serde_json::json!([]));

    let shown = json(&phonehome(&[
        "audit",
        "-F",
        "json",
        "--show-values",
        &capture,
    ]));
    let found = findings_of_kind(&shown, "personal_data")
        .into_iter()
        .find(|f| f["detector"] == "imei-luhn")
        .unwrap();
    assert_eq!(found["value"], imei.as_str());
}

/// Without a profile, the pattern detectors look at what the device sends: an IMEI the
/// server echoes back in its reply is not a leak of the device's.
#[test]
fn pattern_detectors_report_what_the_device_sends_not_what_the_server_returns() {
    use crate::util::frame::{self, ACK, PSH, SYN};
    let dir = tempfile::tempdir().unwrap();
    let up = "{\"imei\":\"356938035643809\"}";
    let req = format!(
        "POST /v1/reg HTTP/1.1\r\nHost: reg.example.net\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{up}",
        up.len()
    );
    let down = "{\"imei\":\"490154203237518\",\"ok\":true}";
    let resp = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{down}",
        down.len()
    );
    let (c, s) = ("10.0.0.2", "198.51.100.9");
    let seq_down = 1 + req.len() as u32;
    let capture = crate::util::PcapBuilder::new(1)
        .packet(
            1_700_000_000,
            0,
            &frame::tcp(c, 40200, s, 80, 1, 0, SYN, &[]),
        )
        .packet(
            1_700_000_000,
            1,
            &frame::tcp(c, 40200, s, 80, 2, 1, ACK | PSH, req.as_bytes()),
        )
        .packet(
            1_700_000_000,
            2,
            &frame::tcp(s, 80, c, 40200, 1, seq_down + 1, ACK | PSH, resp.as_bytes()),
        )
        .write(dir.path(), "echo.pcap");
    let out = phonehome(&["audit", "-F", "json", capture.to_str().unwrap()]);
    let report = json(&out);
    let imeis: Vec<&Value> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["data_type"] == "imei")
        .collect();
    assert_eq!(imeis.len(), 1, "{imeis:#?}");
    assert_eq!(imeis[0]["direction"], "client_to_server");
    assert_eq!(imeis[0]["detector"], "imei-luhn");
    // The reply was read (its HTTP record is there), only not searched for patterns.
    assert_eq!(report["http"].as_array().unwrap().len(), 2);
}

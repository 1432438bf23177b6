//! Personal-data detection end to end: a device profile's values found in what the device
//! sent, whatever their encoding, and decoys not reported.

use crate::util::frame::{self, ACK, PSH, SYN};
use crate::util::{json, phonehome, PcapBuilder};

const PROFILE: &str = r#"
[identifiers]
imei = "356938035643809"
phone = "+886 912 345 678"
"#;

/// The digest an app would send, computed independently of phonehome.
fn sha1_hex(data: &[u8]) -> String {
    use sha1::Digest;
    sha1::Sha1::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[test]
fn profile_values_are_found_through_hashes_and_encodings_and_decoys_are_not() {
    let dir = tempfile::tempdir().unwrap();
    let profile = dir.path().join("device.toml");
    std::fs::write(&profile, PROFILE).unwrap();
    let digest = sha1_hex(b"356938035643809");
    let body = format!(
        "{{\"did\":\"{digest}\",\"tel\":\"%2B886912345678\",\"decoy\":\"356938035643808\",\"other\":\"+886922000111\"}}"
    );
    let req = format!(
        "POST /collect HTTP/1.1\r\nHost: stat.example.cn\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let (c, s) = ("10.0.0.2", "198.51.100.7");
    let path = PcapBuilder::new(1)
        .packet(
            1_700_000_000,
            0,
            &frame::tcp(c, 40000, s, 80, 1, 0, SYN, &[]),
        )
        .packet(
            1_700_000_000,
            1,
            &frame::tcp(c, 40000, s, 80, 2, 1, ACK | PSH, req.as_bytes()),
        )
        .write(dir.path(), "leak.pcap");
    let report = json(&phonehome(&[
        "audit",
        "--format",
        "json",
        "--profile",
        profile.to_str().unwrap(),
        path.to_str().unwrap(),
    ]));
    let findings = report["findings"].as_array().unwrap();
    let kinds: Vec<(String, String)> = findings
        .iter()
        .map(|f| {
            (
                f["data_type"].as_str().unwrap().to_string(),
                f["encoding"].to_string(),
            )
        })
        .collect();
    assert!(
        kinds.iter().any(|(t, e)| t == "imei" && e.contains("sha1")),
        "{findings:#?}"
    );
    assert!(kinds.iter().any(|(t, _)| t == "phone"), "{findings:#?}");
    for f in findings {
        assert_eq!(f["kind"], "personal_data");
        assert_eq!(f["server_name"], "stat.example.cn");
        assert_eq!(f["direction"], "client_to_server");
        assert!(f["layers"].to_string().contains("body"));
        // The values themselves never appear in the report.
        assert!(!f.to_string().contains("356938035643809"));
    }
    // The decoy IMEI (last digit changed) and the other phone number are not findings.
    assert_eq!(findings.len(), 2, "{findings:#?}");
    let summary = phonehome(&[
        "audit",
        "--profile",
        profile.to_str().unwrap(),
        path.to_str().unwrap(),
    ]);
    let text = String::from_utf8(summary.stdout).unwrap();
    assert!(text.contains("PERSONAL DATA SENT"), "{text}");
}

#[test]
fn profile_init_writes_a_template_that_checks_clean_when_filled() {
    let out = phonehome(&["profile", "init"]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("[identifiers]"));
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "[identifiers]\nimei = \"356938035643808\"\n").unwrap();
    let out = phonehome(&["profile", "check", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("Luhn"));
}

#[test]
fn values_in_unparsed_tcp_streams_are_found_across_segments() {
    let dir = tempfile::tempdir().unwrap();
    let profile = dir.path().join("device.toml");
    std::fs::write(&profile, PROFILE).unwrap();
    // A push protocol no parser knows, the IMEI split over two segments.
    let first = b"\x00\x17\x01REG dev=3569380356";
    let second = b"43809 os=14\n";
    let (c, s) = ("10.0.0.2", "203.0.113.50");
    let path = PcapBuilder::new(1)
        .packet(
            1_700_000_000,
            0,
            &frame::tcp(c, 41000, s, 5222, 1, 0, SYN, &[]),
        )
        .packet(
            1_700_000_000,
            1,
            &frame::tcp(c, 41000, s, 5222, 2, 1, ACK | PSH, first),
        )
        .packet(
            1_700_000_000,
            2,
            &frame::tcp(
                c,
                41000,
                s,
                5222,
                2 + first.len() as u32,
                1,
                ACK | PSH,
                second,
            ),
        )
        .write(dir.path(), "push.pcap");
    let report = json(&phonehome(&[
        "audit",
        "--format",
        "json",
        "--profile",
        profile.to_str().unwrap(),
        path.to_str().unwrap(),
    ]));
    let findings = report["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 1, "{findings:#?}");
    assert_eq!(findings[0]["data_type"], "imei");
    assert_eq!(findings[0]["layers"], serde_json::json!(["tcp"]));
    assert_eq!(findings[0]["direction"], "client_to_server");
}

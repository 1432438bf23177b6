//! Decryption end to end, on a capture made with real peers: curl (HTTP/1.1 and HTTP/2 over
//! TLS 1.2 and 1.3, eight cipher suites) posting to nginx on loopback, recorded by tcpdump with
//! curl's SSLKEYLOGFILE (`scripts/live_tls_check.py --keep tests/e2e/data`). The `-dsb.pcapng`
//! copy carries the same keys in a Decryption Secrets Block (`editcap --inject-secrets`).

use serde_json::Value;

use crate::util::{decrypted, json, phonehome, sent, DATA};

fn check_every_body_is_found(report: &Value) {
    let requests: Vec<&Value> = report["http"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|h| h["kind"] == "request")
        .collect();
    let sent = sent("curl-nginx-tls");
    assert_eq!(sent.len(), 16);
    for case in &sent {
        let r = requests
            .iter()
            .find(|h| h["uri"] == case["path"])
            .unwrap_or_else(|| panic!("no request for {}", case["case"]));
        assert_eq!(r["method"], "POST", "{}", case["case"]);
        assert_eq!(r["decrypted"], true);
        assert_eq!(r["body"], case["body"], "{}", case["case"]);
        let h2 = case["case"].as_str().unwrap().ends_with("h2");
        assert_eq!(r["transport"], if h2 { "h2" } else { "http1" });
    }
    assert_eq!(report["stats"]["decrypted_flows"], 16);
    assert_eq!(report["stats"]["encrypted_flows"], 16);
}

#[test]
fn key_log_file_decrypts_every_suite_and_http_version() {
    let report = decrypted("curl-nginx-tls");
    check_every_body_is_found(&report);
    assert_eq!(report["keylogs"][0]["connections"], 16);
}

#[test]
fn secrets_embedded_in_the_pcapng_decrypt_without_a_key_log() {
    let report = json(&phonehome(&[
        "audit",
        "--format",
        "json",
        "--http-bodies",
        "--threads",
        "4",
        &format!("{DATA}/curl-nginx-tls-dsb.pcapng"),
    ]));
    check_every_body_is_found(&report);
    assert!(report["keylogs"][0]["source"]
        .as_str()
        .unwrap()
        .contains("decryption secrets block"));
}

#[test]
fn without_keys_flows_say_why_they_stay_opaque() {
    let report = json(&phonehome(&[
        "audit",
        "--format",
        "json",
        &format!("{DATA}/curl-nginx-tls.pcap"),
    ]));
    assert_eq!(report["stats"]["decrypted_flows"], 0);
    for flow in report["flows"].as_array().unwrap() {
        assert_eq!(flow["decrypted"], false);
        assert_eq!(flow["not_decrypted"], "no key log given (--keylog)");
    }
    assert!(report["http"].as_array().unwrap().is_empty());
}

#[test]
fn a_wrong_key_never_yields_plaintext() {
    let dir = tempfile::tempdir().unwrap();
    let keys = std::fs::read_to_string(format!("{DATA}/curl-nginx-tls.keys")).unwrap();
    // Same client randoms, every secret's first byte flipped.
    let wrong: String = keys
        .lines()
        .map(|line| {
            let mut parts: Vec<String> = line.split(' ').map(str::to_string).collect();
            if parts.len() == 3 {
                let first = u8::from_str_radix(&parts[2][..2], 16).unwrap() ^ 0xff;
                parts[2] = format!("{first:02x}{}", &parts[2][2..]);
            }
            parts.join(" ") + "\n"
        })
        .collect();
    let path = dir.path().join("wrong.keys");
    std::fs::write(&path, wrong).unwrap();
    let report = json(&phonehome(&[
        "audit",
        "--format",
        "json",
        "--keylog",
        path.to_str().unwrap(),
        &format!("{DATA}/curl-nginx-tls.pcap"),
    ]));
    assert_eq!(report["stats"]["decrypted_flows"], 0);
    assert!(report["http"].as_array().unwrap().is_empty());
    for flow in report["flows"].as_array().unwrap() {
        assert!(flow["not_decrypted"].as_str().is_some(), "{flow}");
    }
}

/// curl through an HTTP proxy (`scripts/live_tls_check.py`'s CONNECT tunnel), captured on the
/// phone-to-proxy side only: the flows go to the proxy, the names and the requests come from
/// the TLS inside the tunnel.
#[test]
fn tls_inside_a_proxy_connect_tunnel_is_named_and_decrypted() {
    let pcap = format!("{DATA}/curl-proxy-tls.pcap");
    let sent = sent("curl-proxy-tls");
    assert_eq!(sent.len(), 3);

    // Without keys: named by the SNI in the tunnel, fingerprinted, counted as not inspected.
    let report = json(&phonehome(&["audit", "--format", "json", &pcap]));
    let flows = report["flows"].as_array().unwrap();
    assert_eq!(flows.len(), 3);
    for f in flows {
        assert!(f["server"].as_str().unwrap().ends_with(":18080"), "{f}");
        assert_eq!(f["server_name"], "upload.phonehome.test");
        assert_eq!(f["name_source"], "sni");
        assert_eq!(f["app_proto"], "tls");
        assert_eq!(f["tls"]["sni"], "upload.phonehome.test");
        assert!(f["tls"]["ja4"].as_str().unwrap().starts_with('t'), "{f}");
        assert_eq!(f["decrypted"], false);
    }
    let connects = report["http"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|h| h["method"] == "CONNECT")
        .count();
    assert_eq!(connects, 3);
    assert_eq!(report["stats"]["encrypted_flows"], 3);

    // With the key log: every request and body inside the tunnels.
    let report = decrypted("curl-proxy-tls");
    assert_eq!(report["stats"]["decrypted_flows"], 3);
    let http = report["http"].as_array().unwrap();
    for case in &sent {
        let r = http
            .iter()
            .find(|h| h["kind"] == "request" && h["uri"] == case["path"])
            .unwrap_or_else(|| panic!("no request for {}", case["case"]));
        assert_eq!(r["method"], "POST");
        assert_eq!(r["decrypted"], true);
        assert_eq!(r["body"], case["body"], "{}", case["case"]);
    }
}

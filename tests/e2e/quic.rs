//! QUIC and HTTP/3 decryption end to end, on a capture made with real peers: an aioquic
//! HTTP/3 client posting to an aioquic server on loopback over QUIC v1 (default suite and
//! ChaCha20-Poly1305) and QUIC v2 (AES-256-GCM), recorded by tcpdump with the client's key log
//! (`scripts/live_quic_check.py --keep tests/e2e/data`).

use serde_json::Value;

use crate::util::{decrypted, json, phonehome, sent, DATA};

#[test]
fn http3_requests_and_bodies_over_quic_v1_and_v2() {
    let sent = sent("aioquic-h3");
    assert_eq!(sent.len(), 9);
    let report = decrypted("aioquic-h3");
    let requests: Vec<&Value> = report["http"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|h| h["kind"] == "request")
        .collect();
    for case in &sent {
        let r = requests
            .iter()
            .find(|h| h["uri"] == case["path"])
            .unwrap_or_else(|| panic!("no request for {case}"));
        assert_eq!(r["method"], case["method"]);
        assert_eq!(r["host"], "h3.phonehome.test");
        assert_eq!(r["transport"], "h3");
        assert_eq!(r["decrypted"], true);
        if case["body"].is_string() {
            assert_eq!(r["body"], case["body"]);
        }
    }
    let versions: Vec<&str> = report["flows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["app_proto"] == "quic")
        .map(|f| f["quic"]["version"].as_str().unwrap())
        .collect();
    assert_eq!(versions, ["v1", "v1", "v2"]);
    assert_eq!(report["stats"]["decrypted_flows"], 3);
}

#[test]
fn without_keys_quic_flows_are_named_but_opaque() {
    let report = json(&phonehome(&[
        "audit",
        "--format",
        "json",
        &format!("{DATA}/aioquic-h3.pcap"),
    ]));
    assert!(report["http"].as_array().unwrap().is_empty());
    for f in report["flows"].as_array().unwrap() {
        assert_eq!(f["server_name"], "h3.phonehome.test");
        assert_eq!(f["name_source"], "quic-sni");
        assert_eq!(f["decrypted"], false);
    }
}

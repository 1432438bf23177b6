//! `phonehome audit` on small captures the tests build.

use std::io::Write;
use std::process::{Command, Stdio};

use serde_json::Value;

use crate::util::frame::{self, ACK, FIN, PSH, SYN};
use crate::util::{json, phonehome, PcapBuilder};

const PHONE: &str = "192.168.43.10";
const RESOLVER: &str = "192.168.43.1";
const API: &str = "203.0.113.7";
const LOG: &str = "198.51.100.20";

/// A phone session: a DNS lookup, a TLS connection whose ClientHello arrives in two
/// segments out of order, an HTTP request, an opaque TCP flow to the looked-up address and
/// an unnamed UDP flow.
fn phone_session() -> PcapBuilder {
    let hello = frame::client_hello("api.example.cn", &["h2", "http/1.1"]);
    let (first, second) = hello.split_at(40);
    let get = b"GET /config?v=1 HTTP/1.1\r\nHost: log.example.com\r\nUser-Agent: Test/1.0\r\n\r\n";
    let resp = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok";
    let t = 1_700_000_000;
    PcapBuilder::new(1)
        .packet(
            t,
            0,
            &frame::udp(
                PHONE,
                40000,
                RESOLVER,
                53,
                &frame::dns(7, "api.example.cn", &[]),
            ),
        )
        .packet(
            t,
            10,
            &frame::udp(
                RESOLVER,
                53,
                PHONE,
                40000,
                &frame::dns(7, "api.example.cn", &[[203, 0, 113, 7]]),
            ),
        )
        .packet(
            t,
            100,
            &frame::tcp(PHONE, 50000, API, 443, 1000, 0, SYN, &[]),
        )
        .packet(
            t,
            200,
            &frame::tcp(API, 443, PHONE, 50000, 5000, 1001, SYN | ACK, &[]),
        )
        .packet(
            t,
            300,
            &frame::tcp(PHONE, 50000, API, 443, 1001, 5001, ACK, &[]),
        )
        .packet(
            t,
            400,
            &frame::tcp(
                PHONE,
                50000,
                API,
                443,
                1001 + first.len() as u32,
                5001,
                ACK | PSH,
                second,
            ),
        )
        .packet(
            t,
            500,
            &frame::tcp(PHONE, 50000, API, 443, 1001, 5001, ACK | PSH, first),
        )
        .packet(t, 600, &frame::tcp(PHONE, 50001, LOG, 80, 1, 0, SYN, &[]))
        .packet(
            t,
            700,
            &frame::tcp(LOG, 80, PHONE, 50001, 9, 2, SYN | ACK, &[]),
        )
        .packet(
            t,
            800,
            &frame::tcp(PHONE, 50001, LOG, 80, 2, 10, ACK | PSH, get),
        )
        .packet(
            t,
            900,
            &frame::tcp(
                LOG,
                80,
                PHONE,
                50001,
                10,
                2 + get.len() as u32,
                ACK | PSH,
                resp,
            ),
        )
        .packet(
            t,
            950,
            &frame::tcp(
                PHONE,
                50001,
                LOG,
                80,
                2 + get.len() as u32,
                10 + resp.len() as u32,
                ACK | FIN,
                &[],
            ),
        )
        .packet(
            t + 1,
            0,
            &frame::tcp(PHONE, 50002, API, 8443, 70, 0, SYN, &[]),
        )
        .packet(
            t + 1,
            100,
            &frame::tcp(API, 8443, PHONE, 50002, 90, 71, SYN | ACK, &[]),
        )
        .packet(
            t + 1,
            200,
            &frame::tcp(
                PHONE,
                50002,
                API,
                8443,
                71,
                91,
                ACK | PSH,
                &[
                    0, 1, 2, 3, 0xfe, 0xfd, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9,
                ],
            ),
        )
        .packet(
            t + 2,
            0,
            &frame::udp(PHONE, 40001, "198.51.100.99", 3478, &[0x55; 48]),
        )
}

fn audit_json(path: &str, extra: &[&str]) -> Value {
    let mut args = vec!["audit", "--format", "json", path];
    args.extend_from_slice(extra);
    json(&phonehome(&args))
}

fn flow_to<'a>(report: &'a Value, server: &str) -> &'a Value {
    report["flows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["server"] == server)
        .unwrap_or_else(|| panic!("no flow to {server}: {report:#}"))
}

#[test]
fn counts_packets_and_times_of_a_classic_pcap() {
    let dir = tempfile::tempdir().unwrap();
    let path = PcapBuilder::new(1)
        .packet(1_700_000_000, 5, &[0u8; 60])
        .packet(1_700_000_001, 6, &[0u8; 70])
        .write(dir.path(), "two.pcap");
    let report = audit_json(path.to_str().unwrap(), &[]);
    assert_eq!(report["schema"], "phonehome/report/v1");
    let input = &report["inputs"][0];
    assert_eq!(input["packets"], 2);
    assert_eq!(input["bytes"], 130);
    assert_eq!(input["first_ts"], "2023-11-14T22:13:20.000005Z");
    assert_eq!(input["last_ts"], "2023-11-14T22:13:21.000006Z");
    let sha = input["sha256"].as_str().unwrap();
    assert_eq!(sha.len(), 64);
    assert!(sha
        .bytes()
        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)));
}

#[test]
fn every_destination_is_named_with_its_evidence() {
    let dir = tempfile::tempdir().unwrap();
    let path = phone_session().write(dir.path(), "session.pcap");
    let report = audit_json(path.to_str().unwrap(), &[]);

    let tls = flow_to(&report, "203.0.113.7:443");
    assert_eq!(tls["client"], "192.168.43.10:50000");
    assert_eq!(tls["proto"], "tcp");
    assert_eq!(tls["app_proto"], "tls");
    assert_eq!(tls["server_name"], "api.example.cn");
    assert_eq!(tls["name_source"], "sni");
    assert_eq!(tls["tls"]["sni"], "api.example.cn");
    assert_eq!(tls["tls"]["alpn"], serde_json::json!(["h2", "http/1.1"]));
    assert_eq!(tls["tls"]["ja4"].as_str().unwrap().len(), 36);
    // Documentation addresses (RFC 5737) and names: nothing to attribute, and it says so.
    assert_eq!(tls["scope"], "documentation");
    assert_eq!(tls["attribution_source"], "none");
    assert_eq!(tls["org"], Value::Null);
    assert_eq!(tls["org_country"], Value::Null);
    assert_eq!(tls["server_country"], Value::Null);
    assert_eq!(tls["asn"], Value::Null);
    assert_eq!(tls["cdn"], false);
    assert_eq!(tls["service"], Value::Null);

    let http = flow_to(&report, "198.51.100.20:80");
    assert_eq!(http["server_name"], "log.example.com");
    assert_eq!(http["name_source"], "http-host");
    assert_eq!(http["packets_up"], 3);
    assert_eq!(http["packets_down"], 2);

    let opaque = flow_to(&report, "203.0.113.7:8443");
    assert_eq!(opaque["server_name"], "api.example.cn");
    assert_eq!(opaque["name_source"], "dns");

    let unnamed = flow_to(&report, "198.51.100.99:3478");
    assert_eq!(unnamed["server_name"], Value::Null);
    assert_eq!(unnamed["name_source"], "none");
    assert!(report["blind_spots"]
        .as_array()
        .unwrap()
        .iter()
        .any(|b| b["kind"] == "unnamed" && b["flow"] == unnamed["id"]));

    let dns = &report["dns"];
    assert_eq!(dns[0]["query"], "api.example.cn");
    assert_eq!(dns[0]["response"], false);
    assert_eq!(dns[1]["answers"][0]["data"], "203.0.113.7");
    assert_eq!(dns[1]["rcode"], "NOERROR");

    let http_records = report["http"].as_array().unwrap();
    assert_eq!(http_records[0]["method"], "GET");
    assert_eq!(http_records[0]["uri"], "/config?v=1");
    assert_eq!(http_records[0]["user_agent"], "Test/1.0");
    assert_eq!(http_records[1]["status"], 200);

    let dest = report["destinations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["name"] == "api.example.cn")
        .unwrap();
    assert_eq!(dest["flows"], 2);
    assert_eq!(dest["ips"], serde_json::json!(["203.0.113.7"]));
    assert_eq!(dest["scope"], "documentation");
    assert_eq!(dest["attribution_source"], "none");
    assert_eq!(dest["apps"], serde_json::json!([]));
}

/// An app asks Tencent's HTTPDNS (plain HTTP to 119.29.29.29) for a name, then connects to
/// the address it got, with no DNS packet and no SNI: the HTTPDNS answer names the server.
#[test]
fn an_httpdns_answer_names_the_servers_it_resolved() {
    let ask = b"GET /d?dn=push.example.cn&ttl=1 HTTP/1.1\r\nHost: 119.29.29.29\r\n\r\n";
    let answer =
        b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 16\r\n\r\n203.0.113.77,300";
    let t = 1_700_000_000;
    let (resolver, push) = ("119.29.29.29", "203.0.113.77");
    let dir = tempfile::tempdir().unwrap();
    let path = PcapBuilder::new(1)
        .packet(
            t,
            0,
            &frame::tcp(PHONE, 50010, resolver, 80, 1, 0, SYN, &[]),
        )
        .packet(
            t,
            10,
            &frame::tcp(resolver, 80, PHONE, 50010, 7, 2, SYN | ACK, &[]),
        )
        .packet(
            t,
            20,
            &frame::tcp(PHONE, 50010, resolver, 80, 2, 8, ACK | PSH, ask),
        )
        .packet(
            t,
            30,
            &frame::tcp(
                resolver,
                80,
                PHONE,
                50010,
                8,
                2 + ask.len() as u32,
                ACK | PSH,
                answer,
            ),
        )
        .packet(t, 40, &frame::tcp(PHONE, 50011, push, 5223, 1, 0, SYN, &[]))
        .packet(
            t,
            50,
            &frame::tcp(push, 5223, PHONE, 50011, 9, 2, SYN | ACK, &[]),
        )
        .packet(
            t,
            60,
            &frame::tcp(PHONE, 50011, push, 5223, 2, 10, ACK | PSH, &[0x17; 64]),
        )
        .write(dir.path(), "httpdns.pcap");
    let report = audit_json(path.to_str().unwrap(), &[]);
    let flow = flow_to(&report, "203.0.113.77:5223");
    assert_eq!(flow["server_name"], "push.example.cn");
    assert_eq!(flow["name_source"], "dns");
    let dns: Vec<&Value> = report["dns"].as_array().unwrap().iter().collect();
    assert_eq!(dns.len(), 2, "{dns:?}");
    assert!(dns.iter().all(|d| d["transport"] == "httpdns"));
    assert_eq!(dns[0]["response"], false);
    assert_eq!(dns[0]["query"], "push.example.cn");
    assert_eq!(dns[1]["answers"][0]["data"], push);
    assert_eq!(dns[1]["answers"][0]["ttl"], 300);
    assert_eq!(dns[1]["flow"], flow_to(&report, "119.29.29.29:80")["id"]);
    assert!(!report["blind_spots"]
        .as_array()
        .unwrap()
        .iter()
        .any(|b| b["flow"] == flow["id"]));
}

#[test]
fn results_are_identical_for_any_thread_count() {
    let dir = tempfile::tempdir().unwrap();
    let path = phone_session().write(dir.path(), "session.pcap");
    let path = path.to_str().unwrap();
    let mut one = audit_json(path, &["--threads", "1"]);
    let mut four = audit_json(path, &["--threads", "4"]);
    one["run"] = Value::Null;
    four["run"] = Value::Null;
    assert_eq!(one, four);
}

#[test]
fn ndjson_is_one_event_per_line_with_event_type() {
    let dir = tempfile::tempdir().unwrap();
    let path = phone_session().write(dir.path(), "session.pcap");
    let out = phonehome(&["audit", "--format", "ndjson", path.to_str().unwrap()]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let events: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    for kind in ["flow", "dns", "tls", "http"] {
        assert!(
            events.iter().any(|e| e["event_type"] == kind),
            "no {kind} event"
        );
    }
    let dns = events.iter().find(|e| e["event_type"] == "dns").unwrap();
    assert_eq!(dns["src_ip"], PHONE);
    assert_eq!(dns["dest_port"], 53);
}

#[test]
fn reads_standard_input() {
    let session = phone_session();
    let mut child = Command::new(env!("CARGO_BIN_EXE_phonehome"))
        .args(["audit", "--format", "json", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(session.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let report = json(&out);
    assert_eq!(report["inputs"][0]["path"], "-");
    assert_eq!(report["flows"].as_array().unwrap().len(), 5);
}

#[test]
fn device_filter_keeps_only_the_device() {
    let dir = tempfile::tempdir().unwrap();
    let path = phone_session()
        .packet(
            1_700_000_005,
            0,
            &frame::udp("192.168.43.77", 1234, "192.0.2.1", 9999, b"other"),
        )
        .write(dir.path(), "two-devices.pcap");
    let report = audit_json(path.to_str().unwrap(), &["--device", PHONE]);
    assert_eq!(report["stats"]["not_device"], 1);
    assert!(report["flows"]
        .as_array()
        .unwrap()
        .iter()
        .all(|f| f["client"].as_str().unwrap().starts_with(PHONE)));
}

#[test]
fn a_cut_off_capture_keeps_what_came_before_and_warns() {
    let dir = tempfile::tempdir().unwrap();
    let mut bytes = phone_session().as_bytes().to_vec();
    bytes.truncate(bytes.len() - 30);
    let path = dir.path().join("cut.pcap");
    std::fs::write(&path, &bytes).unwrap();
    let report = audit_json(path.to_str().unwrap(), &[]);
    assert_eq!(report["inputs"][0]["packets"], 15);
    let warnings = report["inputs"][0]["warnings"].as_array().unwrap();
    assert!(
        warnings
            .iter()
            .any(|w| w.as_str().unwrap().contains("cut.pcap")),
        "{warnings:?}"
    );
    assert_eq!(
        flow_to(&report, "203.0.113.7:443")["server_name"],
        "api.example.cn"
    );
}

#[test]
fn a_file_that_is_not_a_capture_exits_2_and_names_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("garbage.pcap");
    std::fs::write(&path, b"this is not a capture file at all").unwrap();
    let out = phonehome(&["audit", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("garbage.pcap"), "{err}");
}

#[test]
fn summary_lists_destinations_by_bytes_sent() {
    let dir = tempfile::tempdir().unwrap();
    let path = phone_session().write(dir.path(), "session.pcap");
    let out = phonehome(&["audit", path.to_str().unwrap()]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("DESTINATION"), "{text}");
    let api = text.find("api.example.cn").expect("api listed");
    let log = text.find("log.example.com").expect("log listed");
    assert!(api < log, "api.example.cn sent more bytes: {text}");
    assert!(text.contains("ORGANISATION"), "{text}");
    assert!(
        text.contains("sent by organisation country (law):"),
        "{text}"
    );
    assert!(text.contains("sent by server country (address):"), "{text}");
}

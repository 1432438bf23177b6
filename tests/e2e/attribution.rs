//! Attribution end to end: bundled address data, and the user's MaxMind databases.

use mmdb_writer::{ipnet::IpNet, IpVersion, Value, Writer};
use serde_json::Value as Json;

use crate::util::{frame, json, phonehome, PcapBuilder};

fn capture(dir: &std::path::Path) -> std::path::PathBuf {
    // A DNS query to Google's resolver at 8.8.8.8 and a TLS hello to 81.2.69.160.
    let hello = frame::client_hello("sync.example.org", &["h2"]);
    PcapBuilder::new(1)
        .packet(
            1_700_000_000,
            0,
            &frame::udp(
                "10.0.0.2",
                40000,
                "8.8.8.8",
                53,
                &frame::dns(1, "sync.example.org", &[]),
            ),
        )
        .packet(
            1_700_000_000,
            9,
            &frame::tcp(
                "10.0.0.2",
                50000,
                "81.2.69.160",
                443,
                1,
                1,
                frame::ACK | frame::PSH,
                &hello,
            ),
        )
        .write(dir, "attr.pcap")
}

fn flow_to<'a>(report: &'a Json, server: &str) -> &'a Json {
    report["flows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["server"] == server)
        .unwrap()
}

#[test]
fn bundled_data_gives_country_and_as_of_a_public_resolver() {
    let dir = tempfile::tempdir().unwrap();
    let path = capture(dir.path());
    let report = json(&phonehome(&[
        "audit",
        "--format",
        "json",
        path.to_str().unwrap(),
    ]));
    let dns = flow_to(&report, "8.8.8.8:53");
    assert_eq!(dns["server_country"], "US");
    assert_eq!(dns["asn"], 15169);
    assert_eq!(dns["scope"], "global");
    assert!(report["run"]["ip_data"]
        .as_str()
        .unwrap()
        .contains("ip-location-db"));
}

#[test]
fn maxmind_databases_replace_the_bundled_data() {
    let dir = tempfile::tempdir().unwrap();
    let path = capture(dir.path());
    let map = |kv: Vec<(&str, Value)>| {
        Value::Map(kv.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
    };
    let mut country = Writer::builder("GeoLite2-Country")
        .ip_version(IpVersion::V6)
        .build();
    country
        .insert_value(
            "81.2.69.0/24".parse::<IpNet>().unwrap(),
            map(vec![(
                "country",
                map(vec![("iso_code", Value::String("SE".into()))]),
            )]),
        )
        .unwrap();
    let mut asn = Writer::builder("GeoLite2-ASN")
        .ip_version(IpVersion::V6)
        .build();
    asn.insert_value(
        "81.2.69.0/24".parse::<IpNet>().unwrap(),
        map(vec![
            ("autonomous_system_number", Value::U32(64_500)),
            (
                "autonomous_system_organization",
                Value::String("Example Net".into()),
            ),
        ]),
    )
    .unwrap();
    let (c, a) = (dir.path().join("c.mmdb"), dir.path().join("a.mmdb"));
    std::fs::write(&c, country.to_bytes().unwrap()).unwrap();
    std::fs::write(&a, asn.to_bytes().unwrap()).unwrap();
    let report = json(&phonehome(&[
        "audit",
        "--format",
        "json",
        "--geoip",
        c.to_str().unwrap(),
        "--asn",
        a.to_str().unwrap(),
        path.to_str().unwrap(),
    ]));
    let tls = flow_to(&report, "81.2.69.160:443");
    assert_eq!(tls["server_country"], "SE");
    assert_eq!(tls["asn"], 64_500);
    assert_eq!(tls["as_org"], "Example Net");
    assert!(report["run"]["ip_data"]
        .as_str()
        .unwrap()
        .contains("GeoLite2-Country"));
}

#[test]
fn an_unreadable_maxmind_file_is_a_usage_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = capture(dir.path());
    let bad = dir.path().join("broken.mmdb");
    std::fs::write(&bad, b"not a database").unwrap();
    let out = phonehome(&[
        "audit",
        "--geoip",
        bad.to_str().unwrap(),
        path.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("broken.mmdb"));
}

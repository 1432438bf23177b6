//! Tests of the bundled data and of `from_mmdb`.
//!
//! The expected values are what the bundled data (see `data/ip/README.md`) says for well-known
//! public resolvers; the country is the registered country of the block, so an anycast
//! resolver answers with one country wherever it is served from.

use std::net::IpAddr;
use std::time::{Duration, UNIX_EPOCH};

use mmdb_writer::{ipnet::IpNet, IpVersion, Value, Writer};

use super::*;

/// The date and versions that `data/ip/README.md` states.
const README_DATE: &str = "2026-06-17";
const README_VERSION: &str = "2.3.2026061719";

#[test]
fn bundled_header_parses_and_matches_the_readme() {
    let h = IpDb::bundled_header().unwrap();
    assert_eq!(h.version, table::VERSION);
    assert!(h.compressed);
    assert_eq!(h.date, README_DATE);
    assert!(h.sources.contains(&format!(
        "@ip-location-db/geo-whois-asn-country-mmdb@{README_VERSION}"
    )));
    assert!(h
        .sources
        .contains(&format!("@ip-location-db/asn@{README_VERSION}")));
    let readme = include_str!("../../../../data/ip/README.md");
    assert!(readme.contains(README_DATE) && readme.contains(README_VERSION));
    let db = IpDb::bundled();
    assert_eq!(db.data_date(), README_DATE);
    assert_eq!(db.sources(), h.sources);
}

#[test]
fn well_known_addresses() {
    // (address, country, AS number, start of the AS organisation's name)
    let cases: &[(&str, &str, u32, &str)] = &[
        ("8.8.8.8", "US", 15169, "Google"),
        ("8.8.4.4", "US", 15169, "Google"),
        ("1.1.1.1", "AU", 13335, "Cloudflare"),
        ("9.9.9.9", "US", 19281, "Quad9"),
        // RouteViews sees 114.114.114.0/24 originated by Zenlayer, the block is registered in CN.
        ("114.114.114.114", "CN", 21859, "Zenlayer"),
        // AliDNS's IPv4 anycast is originated by Alibaba's US AS; its IPv6 by AS37963.
        ("223.5.5.5", "CN", 45102, "Alibaba"),
        ("168.95.1.1", "TW", 3462, "Chunghwa Telecom"),
        ("2001:4860:4860::8888", "US", 15169, "Google"),
        ("2606:4700:4700::1111", "US", 13335, "Cloudflare"),
        ("2400:3200::1", "CN", 37963, "Hangzhou Alibaba"),
        ("2001:b000:168::1", "TW", 3462, "Chunghwa Telecom"),
        // Mapped and NAT64 addresses are answered for the IPv4 server they carry.
        ("::ffff:8.8.8.8", "US", 15169, "Google"),
        ("64:ff9b::808:808", "US", 15169, "Google"),
    ];
    let db = IpDb::bundled();
    for &(ip, cc, asn, org) in cases {
        let hit = db.lookup(ip.parse().unwrap());
        assert_eq!(hit.scope, Scope::Global, "{ip}");
        assert_eq!(hit.country_str(), Some(cc), "{ip}");
        assert_eq!(hit.asn, Some(asn), "{ip}");
        let got = hit.as_org.unwrap_or("");
        assert!(got.starts_with(org), "{ip}: {got}");
    }
}

#[test]
fn non_global_addresses_have_no_country_or_as() {
    let db = IpDb::bundled();
    for ip in [
        "10.0.0.1",
        "192.168.1.1",
        "100.64.1.1",
        "127.0.0.1",
        "169.254.0.1",
        "224.0.0.251",
        "255.255.255.255",
        "0.0.0.0",
        "192.0.2.1",
        "::1",
        "fe80::1",
        "fd00::1",
        "ff02::1",
        "2001:db8::1",
        "::ffff:10.0.0.1",
        "64:ff9b::a00:1",
    ] {
        let hit = db.lookup(ip.parse().unwrap());
        assert!(!hit.scope.is_global(), "{ip}");
        assert_eq!(
            (hit.country, hit.asn, hit.as_org),
            (None, None, None),
            "{ip}"
        );
    }
}

#[test]
fn lookups_do_not_panic_anywhere() {
    let db = IpDb::bundled();
    for i in 0..=255u32 {
        let v4 = IpAddr::from((i << 24 | 0x00ff_ff01).to_be_bytes());
        let v6 = IpAddr::from((u128::from(i) << 120 | 1).to_be_bytes());
        let _ = (db.lookup(v4), db.lookup(v6));
    }
    let _ = db.lookup(IpAddr::from(u128::MAX.to_be_bytes()));
}

/// A GeoIP2-shaped country database and an ASN database, written with `mmdb-writer`.
fn write_test_mmdbs(dir: &Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let epoch = UNIX_EPOCH + Duration::from_secs(1_700_000_000); // 2023-11-14
    let map = |kv: Vec<(&str, Value)>| {
        Value::Map(kv.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
    };
    let iso = |cc: &str| map(vec![("iso_code", Value::String(cc.to_owned()))]);
    let mut country = Writer::builder("GeoLite2-Country")
        .ip_version(IpVersion::V6)
        .build_epoch(epoch)
        .build();
    let nets = [
        (
            "81.2.69.0/24",
            map(vec![
                ("country", iso("GB")),
                ("registered_country", iso("GB")),
            ]),
        ),
        // Only a registered country: the fallback.
        (
            "2.125.160.0/19",
            map(vec![("registered_country", iso("fr"))]),
        ),
        ("2a02:d300::/29", map(vec![("country", iso("UA"))])),
    ];
    for (net, v) in nets {
        country
            .insert_value(net.parse::<IpNet>().unwrap(), v)
            .unwrap();
    }
    let mut asn = Writer::builder("GeoLite2-ASN")
        .ip_version(IpVersion::V6)
        .build_epoch(epoch)
        .build();
    asn.insert_value(
        "81.2.69.0/24".parse::<IpNet>().unwrap(),
        map(vec![
            ("autonomous_system_number", Value::U32(20712)),
            (
                "autonomous_system_organization",
                Value::String("Andrews & Arnold Ltd".into()),
            ),
        ]),
    )
    .unwrap();
    let (c, a) = (dir.join("country.mmdb"), dir.join("asn.mmdb"));
    std::fs::write(&c, country.to_bytes().unwrap()).unwrap();
    std::fs::write(&a, asn.to_bytes().unwrap()).unwrap();
    (c, a)
}

#[test]
fn from_mmdb_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let (c, a) = write_test_mmdbs(dir.path());
    let db = IpDb::from_mmdb(Some(&c), Some(&a)).unwrap();
    assert_eq!(db.data_date(), "2023-11-14");
    assert!(db.sources().contains("GeoLite2-Country") && db.sources().contains("GeoLite2-ASN"));
    let hit = db.lookup("81.2.69.160".parse().unwrap());
    assert_eq!(
        (hit.country_str(), hit.asn, hit.as_org),
        (Some("GB"), Some(20712), Some("Andrews & Arnold Ltd"))
    );
    let hit = db.lookup("2.125.160.216".parse().unwrap());
    assert_eq!((hit.country_str(), hit.asn), (Some("FR"), None));
    let hit = db.lookup("2a02:d300::1".parse().unwrap());
    assert_eq!(hit.country_str(), Some("UA"));
    let hit = db.lookup("8.8.8.8".parse().unwrap());
    assert_eq!((hit.country, hit.asn), (None, None));
    assert_eq!(
        db.lookup("192.168.0.1".parse().unwrap()).scope,
        Scope::Private
    );

    // Only a country file: AS answers come from the bundled data, and the date is the oldest.
    let db = IpDb::from_mmdb(Some(&c), None).unwrap();
    assert_eq!(db.lookup("8.8.8.8".parse().unwrap()).asn, Some(15169));
    assert_eq!(db.lookup("8.8.8.8".parse().unwrap()).country, None);
    assert_eq!(db.data_date(), "2023-11-14");
    assert!(db.sources().contains("asn: bundled"));
}

#[test]
fn from_mmdb_errors_name_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("broken.mmdb");
    std::fs::write(&bad, b"not a database").unwrap();
    let err = IpDb::from_mmdb(Some(&bad), None).unwrap_err();
    assert!(err.to_string().contains("broken.mmdb"), "{err}");
    assert!(IpDb::from_mmdb(None, Some(&dir.path().join("missing.mmdb"))).is_err());
}

#[test]
fn damaged_bundled_file_is_an_error() {
    assert!(IpDb::from_bytes(&BUNDLED[..BUNDLED.len() / 2]).is_err());
    assert!(IpDb::from_bytes(b"PHIPDB\r\n").is_err());
}

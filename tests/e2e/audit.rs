//! `phonehome audit` on small captures.

use crate::util::{json, phonehome, PcapBuilder};

#[test]
fn counts_packets_and_times_of_a_classic_pcap() {
    let dir = tempfile::tempdir().unwrap();
    let path = PcapBuilder::new(1)
        .packet(1_700_000_000, 5, &[0u8; 60])
        .packet(1_700_000_001, 6, &[0u8; 70])
        .write(dir.path(), "two.pcap");
    let report = json(&phonehome(&[
        "audit",
        "--format",
        "json",
        path.to_str().unwrap(),
    ]));
    assert_eq!(report["schema"], "phonehome/report/v1");
    let input = &report["inputs"][0];
    assert_eq!(input["packets"], 2);
    assert_eq!(input["bytes"], 130);
    assert_eq!(input["first_ts"], "2023-11-14T22:13:20.000005Z");
    assert_eq!(input["last_ts"], "2023-11-14T22:13:21.000006Z");
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

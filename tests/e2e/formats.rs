//! Capture formats, link types and network-layer corner cases, end to end.

use std::io::Write;

use serde_json::Value;

use crate::util::{frame, json, phonehome, PcapBuilder, PcapngBuilder};
use crate::vectors::{hex, RFC9001_A2_CLIENT_INITIAL};

fn audit(paths: &[&str]) -> Value {
    let mut args = vec!["audit", "--format", "json"];
    args.extend_from_slice(paths);
    json(&phonehome(&args))
}

#[test]
fn quic_initial_names_its_server_by_quic_sni() {
    let dir = tempfile::tempdir().unwrap();
    let initial = hex(RFC9001_A2_CLIENT_INITIAL);
    let path = PcapBuilder::new(1)
        .packet(
            1_700_000_000,
            0,
            &frame::udp("10.0.0.2", 51000, "93.184.216.34", 443, &initial),
        )
        .write(dir.path(), "quic.pcap");
    let report = audit(&[path.to_str().unwrap()]);
    let flow = &report["flows"][0];
    assert_eq!(flow["app_proto"], "quic");
    assert_eq!(flow["quic"]["sni"], "example.com");
    assert_eq!(flow["quic"]["version"], "v1");
    assert_eq!(flow["server_name"], "example.com");
    assert_eq!(flow["name_source"], "quic-sni");
    assert_eq!(flow["client"], "10.0.0.2:51000");
    assert_eq!(report["stats"]["quic_initials"], 1);
}

#[test]
fn gzip_compressed_pcapng_with_two_interfaces_and_an_unsupported_one() {
    let dir = tempfile::tempdir().unwrap();
    let query = frame::dns(1, "cloud.example.tw", &[]);
    let dns = frame::udp("10.0.0.2", 5353, "10.0.0.1", 53, &query);
    let raw_ip = &dns[14..];
    let pcapng = PcapngBuilder::new()
        .interface(1, "eth0")
        .interface(101, "tun0")
        .interface(105, "wlan0mon")
        .packet(0, 1_700_000_000_000_000, &dns)
        .packet(1, 1_700_000_000_500_000, raw_ip)
        .packet(2, 1_700_000_001_000_000, &[0x08, 0x02, 0, 0])
        .write(dir.path(), "multi.pcapng");
    let gz_path = dir.path().join("multi.pcapng.gz");
    let mut gz = flate2::write::GzEncoder::new(
        std::fs::File::create(&gz_path).unwrap(),
        flate2::Compression::default(),
    );
    gz.write_all(&std::fs::read(&pcapng).unwrap()).unwrap();
    gz.finish().unwrap();

    let report = audit(&[gz_path.to_str().unwrap()]);
    assert_eq!(report["inputs"][0]["packets"], 3);
    assert_eq!(report["dns"].as_array().unwrap().len(), 2);
    assert_eq!(report["dns"][1]["query"], "cloud.example.tw");
    assert_eq!(report["stats"]["unsupported_link"], 1);
    let warnings = report["inputs"][0]["warnings"].to_string();
    assert!(warnings.contains("interface 2"), "{warnings}");
    assert!(warnings.contains("wlan0mon"), "{warnings}");
}

#[test]
fn ip_fragments_are_reassembled_before_dissection() {
    let dir = tempfile::tempdir().unwrap();
    let answer = frame::dns(
        9,
        "frag.example.com",
        &[[192, 0, 2, 10], [192, 0, 2, 11], [192, 0, 2, 12]],
    );
    let datagram = frame::udp_datagram(53, 40000, &answer);
    let (first, second) = datagram.split_at(40);
    let path = PcapBuilder::new(1)
        .packet(
            1_700_000_000,
            0,
            &frame::ipv4_fragment("10.0.0.1", "10.0.0.2", 17, 77, 40, false, second),
        )
        .packet(
            1_700_000_000,
            5,
            &frame::ipv4_fragment("10.0.0.1", "10.0.0.2", 17, 77, 0, true, first),
        )
        .write(dir.path(), "frag.pcap");
    let report = audit(&[path.to_str().unwrap()]);
    assert_eq!(report["stats"]["fragments"], 2);
    assert_eq!(report["stats"]["reassembled_datagrams"], 1);
    let dns = &report["dns"][0];
    assert_eq!(dns["query"], "frag.example.com");
    assert_eq!(dns["answers"].as_array().unwrap().len(), 3);
    // The response came from port 53: the resolver is the server.
    assert_eq!(report["flows"][0]["server"], "10.0.0.1:53");
}

#[test]
fn several_files_are_read_as_one_capture() {
    let dir = tempfile::tempdir().unwrap();
    let a = PcapBuilder::new(1)
        .packet(
            1_700_000_000,
            0,
            &frame::udp(
                "10.0.0.2",
                40000,
                "10.0.0.1",
                53,
                &frame::dns(3, "split.example", &[]),
            ),
        )
        .write(dir.path(), "a.pcap");
    let b = PcapBuilder::new(1)
        .packet(
            1_700_000_001,
            0,
            &frame::udp(
                "10.0.0.1",
                53,
                "10.0.0.2",
                40000,
                &frame::dns(3, "split.example", &[[192, 0, 2, 1]]),
            ),
        )
        .write(dir.path(), "b.pcap");
    let report = audit(&[a.to_str().unwrap(), b.to_str().unwrap()]);
    assert_eq!(report["inputs"].as_array().unwrap().len(), 2);
    assert_eq!(report["flows"].as_array().unwrap().len(), 1);
    assert_eq!(report["flows"][0]["packets_up"], 1);
    assert_eq!(report["flows"][0]["packets_down"], 1);
    assert_eq!(report["dns"][1]["input"], 1);
    assert_eq!(report["dns"][1]["frame"], 1);
}

#[test]
fn a_missing_file_among_readable_ones_is_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let a = PcapBuilder::new(1)
        .packet(
            1_700_000_000,
            0,
            &frame::udp(
                "10.0.0.2",
                40000,
                "10.0.0.1",
                53,
                &frame::dns(3, "x.example", &[]),
            ),
        )
        .write(dir.path(), "a.pcap");
    let missing = dir.path().join("missing.pcap");
    let report = audit(&[a.to_str().unwrap(), missing.to_str().unwrap()]);
    assert_eq!(report["inputs"][1]["packets"], 0);
    assert!(report["inputs"][1]["warnings"]
        .to_string()
        .contains("missing.pcap"));
}

#[test]
fn a_segment_cut_by_the_snap_length_leaves_a_gap_of_the_missing_bytes() {
    use crate::util::frame::{ACK, FIN, PSH, SYN};
    let dir = tempfile::tempdir().unwrap();
    let head = b"POST /upload HTTP/1.1\r\nHost: up.example.com\r\nContent-Length: 100\r\n\r\n";
    let mut cut = frame::tcp("10.0.0.2", 40000, "10.0.0.9", 80, 2, 1, ACK | PSH, head);
    // The IP total length announces 100 body bytes the capture did not keep.
    let total = u16::from_be_bytes([cut[16], cut[17]]) + 100;
    cut[16..18].copy_from_slice(&total.to_be_bytes());
    let fin_seq = 2 + head.len() as u32 + 100;
    let path = PcapBuilder::new(1)
        .packet(
            1_700_000_000,
            0,
            &frame::tcp("10.0.0.2", 40000, "10.0.0.9", 80, 1, 0, SYN, &[]),
        )
        .packet(1_700_000_000, 1, &cut)
        .packet(
            1_700_000_000,
            2,
            &frame::tcp(
                "10.0.0.2",
                40000,
                "10.0.0.9",
                80,
                fin_seq,
                1,
                ACK | FIN,
                &[],
            ),
        )
        .write(dir.path(), "snaplen.pcap");
    let report = audit(&[path.to_str().unwrap()]);
    let flow = &report["flows"][0];
    assert_eq!(flow["server_name"], "up.example.com");
    assert_eq!(flow["tcp"]["gaps"], 1);
    assert_eq!(flow["tcp"]["gap_bytes"], 100);
}

/// An HTTP/2 frame (RFC 9113 4.1).
fn h2_frame(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
    let mut f = (payload.len() as u32).to_be_bytes()[1..].to_vec();
    f.push(kind);
    f.push(flags);
    f.extend_from_slice(&stream.to_be_bytes());
    f.extend_from_slice(payload);
    f
}

#[test]
fn cleartext_http2_requests_become_http_records() {
    use crate::util::frame::{ACK, PSH, SYN};
    let dir = tempfile::tempdir().unwrap();
    let mut client = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".to_vec();
    client.extend(h2_frame(0x4, 0, 0, &[]));
    // HPACK (RFC 7541): :method GET (2), :scheme http (6), :path / (4), then :authority
    // as a literal with incremental indexing of static name 1.
    let mut block = vec![0x82, 0x86, 0x84, 0x41, 16];
    block.extend_from_slice(b"push.example.org");
    client.extend(h2_frame(0x1, 0x5, 1, &block));
    let mut server = h2_frame(0x4, 0, 0, &[]);
    server.extend(h2_frame(0x1, 0x5, 1, &[0x88]));
    let (c, s) = ("10.0.0.2", "10.0.0.80");
    let path = PcapBuilder::new(1)
        .packet(
            1_700_000_000,
            0,
            &frame::tcp(c, 41000, s, 8080, 1, 0, SYN, &[]),
        )
        .packet(
            1_700_000_000,
            1,
            &frame::tcp(s, 8080, c, 41000, 1, 2, SYN | ACK, &[]),
        )
        .packet(
            1_700_000_000,
            2,
            &frame::tcp(c, 41000, s, 8080, 2, 2, ACK | PSH, &client),
        )
        .packet(
            1_700_000_000,
            3,
            &frame::tcp(
                s,
                8080,
                c,
                41000,
                2,
                2 + client.len() as u32,
                ACK | PSH,
                &server,
            ),
        )
        .write(dir.path(), "h2c.pcap");
    let report = audit(&[path.to_str().unwrap()]);
    let http = report["http"].as_array().unwrap();
    assert_eq!(http.len(), 2, "{http:?}");
    assert_eq!(http[0]["method"], "GET");
    assert_eq!(http[0]["host"], "push.example.org");
    assert_eq!(http[0]["uri"], "/");
    assert_eq!(http[0]["transport"], "h2");
    assert_eq!(http[1]["status"], 200);
    assert_eq!(report["flows"][0]["server_name"], "push.example.org");
    assert_eq!(report["flows"][0]["name_source"], "http-host");
}

#[test]
fn apple_process_information_names_the_app_of_each_flow() {
    let dir = tempfile::tempdir().unwrap();
    let hello = frame::client_hello("szshort.weixin.qq.com", &["http/1.1"]);
    let other = frame::client_hello("gsp-ssl.ls.apple.com", &["h2"]);
    use crate::util::frame::{ACK, PSH};
    let path = PcapngBuilder::new()
        .interface(1, "en0")
        .process(412, "WeChat")
        .process(97, "locationd")
        .packet_of_process(
            0,
            1_700_000_000_000_000,
            &frame::tcp(
                "10.0.0.2",
                50000,
                "203.205.219.10",
                443,
                1,
                1,
                ACK | PSH,
                &hello,
            ),
            0,
        )
        .packet_of_process(
            0,
            1_700_000_000_100_000,
            &frame::tcp(
                "10.0.0.2",
                50001,
                "17.253.13.10",
                443,
                1,
                1,
                ACK | PSH,
                &other,
            ),
            1,
        )
        .write(dir.path(), "apple.pcapng");
    let report = audit(&[path.to_str().unwrap()]);
    let app_of = |server: &str| {
        report["flows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["server"] == server)
            .map(|f| f["app"].clone())
            .unwrap()
    };
    assert_eq!(app_of("203.205.219.10:443"), "WeChat");
    assert_eq!(app_of("17.253.13.10:443"), "locationd");
}

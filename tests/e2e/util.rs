//! Helpers that build small captures byte by byte and run the binary.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A classic pcap file being built in memory (little endian, microseconds).
pub struct PcapBuilder {
    bytes: Vec<u8>,
}

impl PcapBuilder {
    pub fn new(linktype: u32) -> Self {
        let mut bytes = Vec::new();
        bytes.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
        bytes.extend_from_slice(&2u16.to_le_bytes());
        bytes.extend_from_slice(&4u16.to_le_bytes());
        bytes.extend_from_slice(&[0; 8]);
        bytes.extend_from_slice(&65535u32.to_le_bytes());
        bytes.extend_from_slice(&linktype.to_le_bytes());
        Self { bytes }
    }

    pub fn packet(mut self, secs: u32, usecs: u32, data: &[u8]) -> Self {
        self.bytes.extend_from_slice(&secs.to_le_bytes());
        self.bytes.extend_from_slice(&usecs.to_le_bytes());
        let len = data.len() as u32;
        self.bytes.extend_from_slice(&len.to_le_bytes());
        self.bytes.extend_from_slice(&len.to_le_bytes());
        self.bytes.extend_from_slice(data);
        self
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    pub fn write(&self, dir: &Path, name: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, &self.bytes).expect("test directory is writable");
        path
    }
}

/// The project's own captures of real peers (`scripts/live_*_check.py --keep tests/e2e/data`).
pub const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/e2e/data");

/// What a live check sent: `NAME.sent.json` in [`DATA`].
pub fn sent(name: &str) -> Vec<serde_json::Value> {
    let text = std::fs::read_to_string(format!("{DATA}/{name}.sent.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// The JSON report, bodies included, of `NAME.pcap` in [`DATA`] decrypted with `NAME.keys`.
pub fn decrypted(name: &str) -> serde_json::Value {
    json(&phonehome(&[
        "audit",
        "--format",
        "json",
        "--http-bodies",
        "--keylog",
        &format!("{DATA}/{name}.keys"),
        &format!("{DATA}/{name}.pcap"),
    ]))
}

pub fn phonehome(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_phonehome"))
        .args(args)
        .output()
        .expect("the phonehome binary runs")
}

pub fn json(output: &Output) -> serde_json::Value {
    assert!(
        output.status.success(),
        "phonehome failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("phonehome prints valid JSON");
    assert_valid(&report);
    report
}

/// The JSON report of a run that must end with exit status `code` (1 when a policy was
/// broken: the report is still written), checked against the schema.
pub fn json_with_status(output: &Output, code: i32) -> serde_json::Value {
    assert_eq!(
        output.status.code(),
        Some(code),
        "phonehome exit status; stderr: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("phonehome prints valid JSON");
    assert_valid(&report);
    report
}

/// Checks a JSON report against the schema committed in `docs/report.schema.json`.
pub fn assert_valid(report: &serde_json::Value) {
    static SCHEMA: std::sync::OnceLock<jsonschema::Validator> = std::sync::OnceLock::new();
    let validator = SCHEMA.get_or_init(|| {
        let schema: serde_json::Value =
            serde_json::from_str(include_str!("../../docs/report.schema.json"))
                .expect("the schema is JSON");
        jsonschema::validator_for(&schema).expect("the schema compiles")
    });
    let errors: Vec<String> = validator
        .iter_errors(report)
        .take(5)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "report does not match its schema: {errors:#?}"
    );
}

/// Frame builders: Ethernet + IPv4/IPv6 + TCP/UDP, checksums left zero (phonehome does not
/// verify them, as captures taken on the sending host carry offloaded, unset checksums).
pub mod frame {
    use std::net::IpAddr;

    pub const SYN: u8 = 0x02;
    pub const ACK: u8 = 0x10;
    pub const PSH: u8 = 0x08;
    pub const FIN: u8 = 0x01;

    fn ethernet(ethertype: u16, payload: &[u8]) -> Vec<u8> {
        let mut f = vec![0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01];
        f.extend_from_slice(&ethertype.to_be_bytes());
        f.extend_from_slice(payload);
        f
    }

    /// An IPv4 fragment of `payload` (the whole upper-layer datagram) from `offset`, 8-byte units.
    pub fn ipv4_fragment(
        src: &str,
        dst: &str,
        protocol: u8,
        id: u16,
        offset: usize,
        more: bool,
        piece: &[u8],
    ) -> Vec<u8> {
        let (s, d): (std::net::Ipv4Addr, std::net::Ipv4Addr) =
            (src.parse().unwrap(), dst.parse().unwrap());
        let mut h = vec![0x45, 0];
        h.extend_from_slice(&(20 + piece.len() as u16).to_be_bytes());
        h.extend_from_slice(&id.to_be_bytes());
        let field = ((offset / 8) as u16) | if more { 0x2000 } else { 0 };
        h.extend_from_slice(&field.to_be_bytes());
        h.extend_from_slice(&[64, protocol, 0, 0]);
        h.extend_from_slice(&s.octets());
        h.extend_from_slice(&d.octets());
        h.extend_from_slice(piece);
        ethernet(0x0800, &h)
    }

    /// A UDP header and payload, as the upper-layer part of an IP datagram.
    pub fn udp_datagram(sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
        let mut u = Vec::new();
        u.extend_from_slice(&sport.to_be_bytes());
        u.extend_from_slice(&dport.to_be_bytes());
        u.extend_from_slice(&(8 + payload.len() as u16).to_be_bytes());
        u.extend_from_slice(&[0, 0]);
        u.extend_from_slice(payload);
        u
    }

    fn ip(src: IpAddr, dst: IpAddr, protocol: u8, payload: &[u8]) -> Vec<u8> {
        match (src, dst) {
            (IpAddr::V4(s), IpAddr::V4(d)) => {
                let mut h = vec![0x45, 0];
                h.extend_from_slice(&(20 + payload.len() as u16).to_be_bytes());
                h.extend_from_slice(&[0, 1, 0x40, 0, 64, protocol, 0, 0]);
                h.extend_from_slice(&s.octets());
                h.extend_from_slice(&d.octets());
                h.extend_from_slice(payload);
                ethernet(0x0800, &h)
            }
            (IpAddr::V6(s), IpAddr::V6(d)) => {
                let mut h = vec![0x60, 0, 0, 0];
                h.extend_from_slice(&(payload.len() as u16).to_be_bytes());
                h.extend_from_slice(&[protocol, 64]);
                h.extend_from_slice(&s.octets());
                h.extend_from_slice(&d.octets());
                h.extend_from_slice(payload);
                ethernet(0x86dd, &h)
            }
            _ => panic!("mixed address families"),
        }
    }

    pub fn udp(src: &str, sport: u16, dst: &str, dport: u16, payload: &[u8]) -> Vec<u8> {
        let u = udp_datagram(sport, dport, payload);
        ip(src.parse().unwrap(), dst.parse().unwrap(), 17, &u)
    }

    #[allow(clippy::too_many_arguments)]
    pub fn tcp(
        src: &str,
        sport: u16,
        dst: &str,
        dport: u16,
        seq: u32,
        ack: u32,
        flags: u8,
        payload: &[u8],
    ) -> Vec<u8> {
        let mut t = Vec::new();
        t.extend_from_slice(&sport.to_be_bytes());
        t.extend_from_slice(&dport.to_be_bytes());
        t.extend_from_slice(&seq.to_be_bytes());
        t.extend_from_slice(&ack.to_be_bytes());
        t.extend_from_slice(&[0x50, flags, 0xff, 0xff, 0, 0, 0, 0]);
        t.extend_from_slice(payload);
        ip(src.parse().unwrap(), dst.parse().unwrap(), 6, &t)
    }

    fn name(out: &mut Vec<u8>, name: &str) {
        for label in name.split('.') {
            out.push(label.len() as u8);
            out.extend_from_slice(label.as_bytes());
        }
        out.push(0);
    }

    /// A DNS query for `qname` (type A), or its response with one A record per address.
    pub fn dns(id: u16, qname: &str, answers: &[[u8; 4]]) -> Vec<u8> {
        let response = !answers.is_empty();
        let mut m = id.to_be_bytes().to_vec();
        m.extend_from_slice(if response {
            &[0x81, 0x80]
        } else {
            &[0x01, 0x00]
        });
        m.extend_from_slice(&[0, 1]);
        m.extend_from_slice(&(answers.len() as u16).to_be_bytes());
        m.extend_from_slice(&[0, 0, 0, 0]);
        name(&mut m, qname);
        m.extend_from_slice(&[0, 1, 0, 1]);
        for a in answers {
            m.extend_from_slice(&[0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0x0e, 0x10, 0, 4]);
            m.extend_from_slice(a);
        }
        m
    }

    fn ext(out: &mut Vec<u8>, kind: u16, body: &[u8]) {
        out.extend_from_slice(&kind.to_be_bytes());
        out.extend_from_slice(&(body.len() as u16).to_be_bytes());
        out.extend_from_slice(body);
    }

    /// A TLS 1.3-style ClientHello record offering `alpn`, naming `sni` (RFC 8446 4.1.2).
    pub fn client_hello(sni: &str, alpn: &[&str]) -> Vec<u8> {
        let mut body = vec![0x03, 0x03];
        body.extend_from_slice(&[0x11; 32]);
        body.push(32);
        body.extend_from_slice(&[0x22; 32]);
        body.extend_from_slice(&[0, 6, 0x13, 0x01, 0x13, 0x02, 0xc0, 0x2f]);
        body.extend_from_slice(&[1, 0]);
        let mut exts = Vec::new();
        let mut sni_body = Vec::new();
        sni_body.extend_from_slice(&(sni.len() as u16 + 3).to_be_bytes());
        sni_body.push(0);
        sni_body.extend_from_slice(&(sni.len() as u16).to_be_bytes());
        sni_body.extend_from_slice(sni.as_bytes());
        ext(&mut exts, 0, &sni_body);
        ext(&mut exts, 10, &[0, 4, 0, 0x1d, 0, 0x17]);
        let mut protos = Vec::new();
        for p in alpn {
            protos.push(p.len() as u8);
            protos.extend_from_slice(p.as_bytes());
        }
        let mut alpn_body = (protos.len() as u16).to_be_bytes().to_vec();
        alpn_body.extend_from_slice(&protos);
        ext(&mut exts, 16, &alpn_body);
        ext(&mut exts, 13, &[0, 4, 0x04, 0x03, 0x08, 0x04]);
        ext(&mut exts, 43, &[4, 0x03, 0x04, 0x03, 0x03]);
        body.extend_from_slice(&(exts.len() as u16).to_be_bytes());
        body.extend_from_slice(&exts);
        let mut hs = vec![1];
        hs.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
        hs.extend_from_slice(&body);
        let mut rec = vec![0x16, 0x03, 0x01];
        rec.extend_from_slice(&(hs.len() as u16).to_be_bytes());
        rec.extend_from_slice(&hs);
        rec
    }
}

/// A pcapng file being built in memory (little endian): one section, interfaces added in order.
pub struct PcapngBuilder {
    bytes: Vec<u8>,
}

impl PcapngBuilder {
    pub fn new() -> Self {
        let mut body = Vec::new();
        body.extend_from_slice(&0x1a2b_3c4du32.to_le_bytes());
        body.extend_from_slice(&1u16.to_le_bytes());
        body.extend_from_slice(&0u16.to_le_bytes());
        body.extend_from_slice(&(-1i64).to_le_bytes());
        let mut b = Self { bytes: Vec::new() };
        b.block(0x0a0d_0d0a, &body);
        b
    }

    fn block(&mut self, kind: u32, body: &[u8]) {
        let mut padded = body.to_vec();
        while !padded.len().is_multiple_of(4) {
            padded.push(0);
        }
        let len = 12 + padded.len() as u32;
        self.bytes.extend_from_slice(&kind.to_le_bytes());
        self.bytes.extend_from_slice(&len.to_le_bytes());
        self.bytes.extend_from_slice(&padded);
        self.bytes.extend_from_slice(&len.to_le_bytes());
    }

    /// An Interface Description Block with its link type and `if_name`.
    pub fn interface(mut self, linktype: u16, name: &str) -> Self {
        let mut body = Vec::new();
        body.extend_from_slice(&linktype.to_le_bytes());
        body.extend_from_slice(&0u16.to_le_bytes());
        body.extend_from_slice(&65535u32.to_le_bytes());
        body.extend_from_slice(&2u16.to_le_bytes());
        body.extend_from_slice(&(name.len() as u16).to_le_bytes());
        body.extend_from_slice(name.as_bytes());
        while body.len() % 4 != 0 {
            body.push(0);
        }
        body.extend_from_slice(&[0, 0, 0, 0]);
        self.block(1, &body);
        self
    }

    /// A Darwin Process Info Block (Apple, type 0x80000001): pid and `name` option (code 2).
    pub fn process(mut self, pid: u32, name: &str) -> Self {
        let mut body = pid.to_le_bytes().to_vec();
        body.extend_from_slice(&2u16.to_le_bytes());
        body.extend_from_slice(&(name.len() as u16).to_le_bytes());
        body.extend_from_slice(name.as_bytes());
        while !body.len().is_multiple_of(4) {
            body.push(0);
        }
        body.extend_from_slice(&[0, 0, 0, 0]);
        self.block(0x8000_0001, &body);
        self
    }

    /// An Enhanced Packet Block naming its process by Apple's option 0x8001 (the number of
    /// a process block in this section).
    pub fn packet_of_process(
        mut self,
        interface: u32,
        micros: u64,
        data: &[u8],
        process: u32,
    ) -> Self {
        let mut body = Vec::new();
        body.extend_from_slice(&interface.to_le_bytes());
        body.extend_from_slice(&((micros >> 32) as u32).to_le_bytes());
        body.extend_from_slice(&(micros as u32).to_le_bytes());
        body.extend_from_slice(&(data.len() as u32).to_le_bytes());
        body.extend_from_slice(&(data.len() as u32).to_le_bytes());
        body.extend_from_slice(data);
        while body.len() % 4 != 0 {
            body.push(0);
        }
        body.extend_from_slice(&0x8001u16.to_le_bytes());
        body.extend_from_slice(&4u16.to_le_bytes());
        body.extend_from_slice(&process.to_le_bytes());
        body.extend_from_slice(&[0, 0, 0, 0]);
        self.block(6, &body);
        self
    }

    /// An Enhanced Packet Block at `micros` since the epoch (default resolution).
    pub fn packet(mut self, interface: u32, micros: u64, data: &[u8]) -> Self {
        let mut body = Vec::new();
        body.extend_from_slice(&interface.to_le_bytes());
        body.extend_from_slice(&((micros >> 32) as u32).to_le_bytes());
        body.extend_from_slice(&(micros as u32).to_le_bytes());
        body.extend_from_slice(&(data.len() as u32).to_le_bytes());
        body.extend_from_slice(&(data.len() as u32).to_le_bytes());
        body.extend_from_slice(data);
        self.block(6, &body);
        self
    }

    pub fn write(&self, dir: &Path, name: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, &self.bytes).expect("test directory is writable");
        path
    }
}

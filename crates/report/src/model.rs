//! The JSON report contract, `phonehome/report/v1`. Field names are stable: add, never rename.

use serde::Serialize;

/// The schema identifier written at the top of every report.
pub const SCHEMA: &str = "phonehome/report/v1";

/// A whole report.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub schema: &'static str,
    pub run: Run,
    pub inputs: Vec<Input>,
    pub flows: Vec<Flow>,
    pub dns: Vec<Dns>,
    pub http: Vec<Http>,
    pub destinations: Vec<Destination>,
    pub findings: Vec<Finding>,
}

/// The only part of a report that may differ between two runs on the same input.
#[derive(Clone, Debug, Serialize)]
pub struct Run {
    pub version: String,
    pub start_time: String,
    pub duration_ms: u64,
}

/// One capture read.
#[derive(Clone, Debug, Serialize)]
pub struct Input {
    pub path: String,
    pub sha256: String,
    pub packets: u64,
    pub bytes: u64,
    pub first_ts: Option<String>,
    pub last_ts: Option<String>,
    pub warnings: Vec<String>,
}

/// One bidirectional conversation.
#[derive(Clone, Debug, Serialize)]
pub struct Flow {
    pub id: u64,
    pub proto: String,
    pub client: String,
    pub server: String,
    pub first_ts: String,
    pub last_ts: String,
    pub packets_up: u64,
    pub packets_down: u64,
    pub bytes_up: u64,
    pub bytes_down: u64,
    pub app_proto: Option<String>,
    pub server_name: Option<String>,
    pub name_source: String,
    pub tls: Option<Tls>,
    pub quic: Option<Quic>,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct Tls {
    pub sni: Option<String>,
    pub alpn: Vec<String>,
    pub version: Option<String>,
    pub ja3: Option<String>,
    pub ja3s: Option<String>,
    pub ja4: Option<String>,
    pub cert_subject: Option<String>,
    pub cert_sans: Vec<String>,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct Quic {
    pub sni: Option<String>,
    pub alpn: Vec<String>,
    pub version: Option<String>,
    pub ja4: Option<String>,
}

/// One DNS message.
#[derive(Clone, Debug, Serialize)]
pub struct Dns {
    pub ts: String,
    pub flow: u64,
    pub response: bool,
    pub id: u16,
    pub query: Option<String>,
    pub questions: Vec<String>,
    pub qtype: Option<String>,
    pub rcode: Option<String>,
    pub answers: Vec<DnsAnswer>,
}

#[derive(Clone, Debug, Serialize)]
pub struct DnsAnswer {
    pub name: String,
    pub rrtype: String,
    pub ttl: u32,
    pub data: String,
}

/// One HTTP request or response.
#[derive(Clone, Debug, Serialize)]
pub struct Http {
    pub ts: String,
    pub flow: u64,
    pub method: Option<String>,
    pub host: Option<String>,
    pub uri: Option<String>,
    pub status: Option<u16>,
    pub user_agent: Option<String>,
    pub content_type: Option<String>,
}

/// One server, by name (or by address when it has none).
#[derive(Clone, Debug, Serialize)]
pub struct Destination {
    pub name: String,
    pub ips: Vec<String>,
    pub flows: u64,
    pub bytes_up: u64,
    pub bytes_down: u64,
    pub protocols: Vec<String>,
    pub first_ts: String,
}

/// A finding; produced by later stages.
#[derive(Clone, Debug, Serialize)]
pub struct Finding {
    pub kind: String,
    pub flow: Option<u64>,
    pub message: String,
}

//! The JSON report contract, `phonehome/report/v1`. Field names are stable: add, never rename.

use schemars::JsonSchema;
use serde::Serialize;

/// The schema identifier written at the top of every report.
pub const SCHEMA: &str = "phonehome/report/v1";

/// A whole report.
#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct Report {
    pub schema: &'static str,
    pub run: Run,
    pub inputs: Vec<Input>,
    pub flows: Vec<Flow>,
    pub dns: Vec<Dns>,
    pub http: Vec<Http>,
    pub destinations: Vec<Destination>,
    pub findings: Vec<Finding>,
    /// Where the capture cannot show what was sent or to whom.
    pub blind_spots: Vec<BlindSpot>,
    /// Counters of what was read, skipped, lost or capped.
    pub stats: Stats,
    /// The key logs used for decryption (their hashes, never the secrets).
    pub keylogs: Vec<Keylog>,
    /// The decision against the policy given (or "no-policy").
    pub verdict: Verdict,
}

/// The outcome of judging the findings against a policy.
#[derive(Clone, Debug, Default, Serialize, JsonSchema)]
pub struct Verdict {
    /// "pass" (no violation), "fail" (at least one violation) or "no-policy".
    pub status: &'static str,
    /// The policy's name (a preset's name, or the file given).
    pub policy: Option<String>,
    /// SHA-256 of the policy file's bytes.
    pub policy_sha256: Option<String>,
    /// The home jurisdiction (ISO 3166-1 alpha-2) the policy was judged against.
    pub home: Option<String>,
    /// Number of policy findings, and of them per severity ("critical", "high", "medium", "low").
    pub violations: u64,
    pub critical: u64,
    pub high: u64,
    pub medium: u64,
    pub low: u64,
}

/// One key log: a file given with `--keylog`, or a Decryption Secrets Block of a capture.
#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct Keylog {
    pub source: String,
    /// SHA-256 of the key log's bytes, so a report names the keys it used without holding them.
    pub sha256: Option<String>,
    /// Connections (client randoms) it holds secrets for.
    pub connections: u64,
    /// Malformed lines, with line numbers.
    pub warnings: Vec<String>,
}

/// The only part of a report that may differ between two runs on the same input.
#[derive(Clone, Debug, Default, Serialize, JsonSchema)]
pub struct Run {
    pub version: String,
    pub start_time: String,
    pub duration_ms: u64,
    /// Date and sources of the address data used (bundled, or the user's MaxMind files).
    pub ip_data: String,
    /// The device profile used (path and SHA-256 of its bytes; the values never appear).
    pub profile: Option<String>,
    pub profile_sha256: Option<String>,
    /// Versions of the data files shipped with phonehome (organisations, services, policies).
    pub data_versions: Vec<String>,
}

/// One capture read.
#[derive(Clone, Debug, Default, Serialize, JsonSchema)]
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
#[derive(Clone, Debug, Default, Serialize, JsonSchema)]
pub struct Flow {
    pub id: u64,
    pub proto: String,
    pub client: String,
    pub server: String,
    pub first_ts: String,
    pub last_ts: String,
    /// Index into `inputs` and frame number there of the flow's first packet.
    pub input: usize,
    pub first_frame: u64,
    pub packets_up: u64,
    pub packets_down: u64,
    pub bytes_up: u64,
    pub bytes_down: u64,
    pub app_proto: Option<String>,
    pub server_name: Option<String>,
    pub name_source: String,
    /// Other names the flow claimed that disagree with `server_name` (e.g. an HTTP Host
    /// differing from the SNI: domain fronting).
    pub name_conflicts: Vec<String>,
    pub tls: Option<Tls>,
    pub quic: Option<Quic>,
    /// TCP reassembly accounting; absent for other protocols.
    pub tcp: Option<TcpStats>,
    /// TLS or QUIC whose content phonehome could read with the key logs.
    pub decrypted: bool,
    /// Why a TLS or QUIC flow stayed opaque (no key, unsupported suite, failed tags, ...).
    pub not_decrypted: Option<String>,
    /// Who runs the server: the organisation, its headquarters country (ISO 3166-1 alpha-2,
    /// the jurisdiction whose law can compel it) and, when another company owns it, that
    /// parent and its country. `attribution_source` says where the answer came from.
    pub org: Option<String>,
    pub org_country: Option<String>,
    pub parent_org: Option<String>,
    pub parent_country: Option<String>,
    /// "domain" (the server name is in the organisations file), "cert" (the certificate's
    /// O=), "service" (the organisation running the service recognised in the traffic, e.g.
    /// Xiaomi's push protocol on a cloud address), "asn" (the organisation of the AS
    /// announcing the address) or "none".
    pub attribution_source: &'static str,
    /// Where the server address is registered (not a measured location), its origin AS and
    /// that AS's organisation.
    pub server_country: Option<String>,
    pub asn: Option<u32>,
    pub as_org: Option<String>,
    /// The address is on a CDN or anycast network (or the name is a CDN's): the server's
    /// country says little about where the data goes next.
    pub cdn: bool,
    /// The special-purpose scope of the server address: "global", "private", "loopback",
    /// "link-local", "cgnat", "multicast", ...
    pub scope: &'static str,
    /// The service recognised (e.g. "WeChat", "Xiaomi Push") and the evidence for it.
    pub service: Option<String>,
    pub service_evidence: Option<String>,
    /// The app on the device that sent the flow, when the capture says so.
    pub app: Option<String>,
}

/// What TCP reassembly could and could not rebuild, both directions added.
#[derive(Clone, Debug, Default, Serialize, JsonSchema)]
pub struct TcpStats {
    /// Holes in the byte streams: data the capture never showed.
    pub gaps: u64,
    pub gap_bytes: u64,
    /// Retransmitted bytes that differed from the first copy.
    pub overlap_conflicts: u64,
    /// Out-of-order data dropped because a cap was reached.
    pub capped: u64,
}

#[derive(Clone, Debug, Default, Serialize, JsonSchema)]
pub struct Tls {
    pub sni: Option<String>,
    /// The ClientHello offered Encrypted Client Hello: `sni` is only the outer name.
    pub ech: bool,
    pub alpn: Vec<String>,
    pub version: Option<String>,
    pub ja3: Option<String>,
    pub ja3s: Option<String>,
    pub ja4: Option<String>,
    pub cipher: Option<String>,
    pub cert_subject: Option<String>,
    pub cert_issuer: Option<String>,
    pub cert_org: Option<String>,
    pub cert_sans: Vec<String>,
    pub cert_not_before: Option<String>,
    pub cert_not_after: Option<String>,
    pub cert_sha256: Option<String>,
    /// TLS alerts seen (e.g. "fatal 42 bad_certificate"): typical of certificate pinning.
    pub alerts: Vec<String>,
    /// The ClientHello's random (hex): the key a key log's lines are filed under, and
    /// Wireshark's `tls.handshake.random`.
    pub client_random: Option<String>,
}

#[derive(Clone, Debug, Default, Serialize, JsonSchema)]
pub struct Quic {
    pub sni: Option<String>,
    pub alpn: Vec<String>,
    pub version: Option<String>,
    pub ja4: Option<String>,
    /// The server certificate, visible only when the Handshake packets were decrypted.
    pub cert_subject: Option<String>,
    pub cert_sans: Vec<String>,
    /// The TLS ClientHello's random (hex), as in [`Tls::client_random`].
    pub client_random: Option<String>,
}

/// One DNS message.
#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct Dns {
    pub ts: String,
    pub flow: u64,
    pub input: usize,
    pub frame: u64,
    pub response: bool,
    pub id: u16,
    pub query: Option<String>,
    pub questions: Vec<String>,
    pub qtype: Option<String>,
    pub rcode: Option<String>,
    pub answers: Vec<DnsAnswer>,
    /// DNS carried inside HTTP: "doh" (RFC 8484 wire format), "doh-json" (a resolver's JSON
    /// API) or "httpdns" (an app vendor's HTTPDNS service); `flow` is then that HTTP flow.
    /// Null for DNS on its own datagram or stream.
    pub transport: Option<&'static str>,
}

#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct DnsAnswer {
    pub name: String,
    pub rrtype: String,
    pub ttl: u32,
    pub data: String,
}

/// One HTTP request or response.
#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct Http {
    pub ts: String,
    pub flow: u64,
    pub input: usize,
    pub frame: u64,
    /// "request" or "response".
    pub kind: &'static str,
    pub method: Option<String>,
    pub host: Option<String>,
    pub uri: Option<String>,
    pub status: Option<u16>,
    pub user_agent: Option<String>,
    pub content_type: Option<String>,
    /// Body length after transfer and content decoding.
    pub body_len: u64,
    /// Content-Encoding layers undone, outermost first.
    pub encodings: Vec<String>,
    /// "http1", "h2" or "h3".
    pub transport: &'static str,
    /// Read through TLS or QUIC decryption.
    pub decrypted: bool,
    /// The decoded body (only with `--http-bodies`, up to 64 KiB): UTF-8 text as is,
    /// anything else in base64 (then `body_encoding` is "base64").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body_encoding: Option<&'static str>,
}

/// One server, by name (or by address when it has none).
#[derive(Clone, Debug, Default, Serialize, JsonSchema)]
pub struct Destination {
    pub name: String,
    pub ips: Vec<String>,
    pub flows: u64,
    pub bytes_up: u64,
    pub bytes_down: u64,
    pub protocols: Vec<String>,
    pub first_ts: String,
    /// Attribution, taken from the destination's flow with the most bytes (both directions;
    /// the earliest on a tie): a name served from several networks lists that flow's
    /// address's country and AS. Fields as in [`Flow`].
    pub org: Option<String>,
    pub org_country: Option<String>,
    pub parent_org: Option<String>,
    pub parent_country: Option<String>,
    pub attribution_source: &'static str,
    pub server_country: Option<String>,
    pub asn: Option<u32>,
    pub as_org: Option<String>,
    /// Any of its flows went to a CDN or anycast network.
    pub cdn: bool,
    pub scope: &'static str,
    pub service: Option<String>,
    /// The apps that sent its flows, when the capture says so.
    pub apps: Vec<String>,
}

/// One blind spot of one flow.
#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct BlindSpot {
    pub flow: u64,
    /// "encrypted-dns", "ech", "unnamed".
    pub kind: &'static str,
    pub detail: String,
}

/// Whole-run counters.
#[derive(Clone, Debug, Default, Serialize, JsonSchema)]
pub struct Stats {
    pub packets: u64,
    pub bytes: u64,
    /// Frames without IP (ARP, LLDP, ...).
    pub non_ip: u64,
    /// Frames that could not be decoded (each kind also warned once per input).
    pub decode_errors: u64,
    /// Frames of link types phonehome cannot read.
    pub unsupported_link: u64,
    /// Frames left out by `--device`.
    pub not_device: u64,
    pub fragments: u64,
    pub reassembled_datagrams: u64,
    pub fragments_dropped: u64,
    pub flows: u64,
    /// Flows evicted early because the flow table was full.
    pub flows_evicted_full: u64,
    pub tcp_gaps: u64,
    pub tcp_gap_bytes: u64,
    /// Times a reassembly memory cap was reached.
    pub reassembly_cap_hits: u64,
    pub dns_messages: u64,
    pub dns_malformed: u64,
    pub http_messages: u64,
    pub tls_handshakes: u64,
    pub quic_initials: u64,
    /// TLS and QUIC flows, and how many of them were decrypted.
    pub encrypted_flows: u64,
    pub decrypted_flows: u64,
    pub quic_decrypt_failures: u64,
    /// Payload bytes of encrypted flows phonehome could not decrypt: never searched for
    /// personal data.
    pub not_inspected_bytes: u64,
    /// Decoding layers (gzip in a payload, base64 blobs, ...) cut short by a size or depth cap.
    pub decode_capped: u64,
    /// Compressed streams inside payloads stopped at their output cap (counted in
    /// `decode_capped` too).
    pub decompression_bombs: u64,
}
#[derive(Clone, Debug, Default, Serialize, JsonSchema)]
pub struct Finding {
    /// "personal_data" or "policy".
    pub kind: String,
    pub flow: Option<u64>,
    /// One line for people: what left, how disguised, to whom.
    pub message: String,
    /// imei, imsi, iccid, phone, serial, android_id, advertising_id, mac, email, name,
    /// contact_name, contact_phone, sms, location, secret.
    pub data_type: Option<&'static str>,
    /// The profile entry it came from (the value itself never appears).
    pub label: Option<String>,
    /// How the value was transformed before it was sent (e.g. ["sha1", "hex"]).
    pub encoding: Vec<String>,
    /// Where it was found, outermost first (e.g. ["tls", "h2", "gzip", "body"]).
    pub layers: Vec<String>,
    pub confidence: Option<&'static str>,
    /// Times the same value was seen in the same flow and place.
    pub count: u64,
    /// "client_to_server" or "server_to_client".
    pub direction: Option<&'static str>,
    pub ts: Option<String>,
    /// Input index and frame numbers (up to 8) where it was seen.
    pub input: Option<usize>,
    pub frames: Vec<u64>,
    pub server_name: Option<String>,
    pub org: Option<String>,
    pub org_country: Option<String>,
    pub server_country: Option<String>,
    /// The service recognised at that destination (e.g. "WeChat").
    pub service: Option<String>,
    /// A Wireshark display filter selecting the finding's frames (with `input`'s file open).
    pub display_filter: Option<String>,
    /// The bytes around the hit, profile values masked unless `--show-values` (text only).
    pub excerpt: Option<String>,
    /// The value found, only with `--show-values` (or for pattern findings, masked).
    pub value: Option<String>,
    /// How the value was found: "profile" (a seeded value) or a pattern detector's name.
    pub detector: Option<String>,
    /// Policy findings: the rule's id, its severity ("critical", "high", "medium", "low"),
    /// and the indices (into `findings`) and flow ids that triggered it.
    pub rule: Option<String>,
    pub severity: Option<&'static str>,
    pub triggers: Vec<usize>,
    pub trigger_flows: Vec<u64>,
}

//! Merging shards into one report: deterministic order, flow ids, names, destinations.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::IpAddr;

use phonehome_app::{dns, quic, tls};
use phonehome_capture::Timestamp;
use phonehome_enrich::blind::{self, Facts};
use phonehome_enrich::geo::IpDb;
use phonehome_enrich::names::{DnsCache, Evidence, NameSource};
use phonehome_enrich::orgs::{Clues, OrgDb};
use phonehome_enrich::services::{self, ServiceFacts};
use phonehome_report::{self as report, rfc3339};

use crate::records::{Counters, DnsRecord, HttpRecord};
use crate::shard::{FlowRecord, PacketCounters, ShardOutput, Trouble};

/// Warnings listed per input before the rest is summed up.
const MAX_WARNINGS: usize = 64;

/// What the reading thread learnt about one input.
#[derive(Debug)]
pub(crate) struct InputSummary {
    pub(crate) path: String,
    pub(crate) sha256: String,
    /// The digest while its hashing thread may still be at work; moved into `sha256` by
    /// [`InputSummary::settle_sha256`].
    pub(crate) pending_sha256: Option<phonehome_capture::PendingSha256>,
    pub(crate) packets: u64,
    pub(crate) bytes: u64,
    pub(crate) first_ts: Option<Timestamp>,
    pub(crate) last_ts: Option<Timestamp>,
    pub(crate) warnings: Vec<String>,
    /// Names of the capture interfaces, by index (empty where the capture names none).
    pub(crate) interfaces: Vec<String>,
    /// Set when the input could not be read at all.
    pub(crate) fatal: Option<String>,
}

impl InputSummary {
    pub(crate) fn new(path: &str) -> Self {
        Self {
            path: path.to_string(),
            sha256: String::new(),
            pending_sha256: None,
            packets: 0,
            bytes: 0,
            first_ts: None,
            last_ts: None,
            warnings: Vec::new(),
            interfaces: Vec::new(),
            fatal: None,
        }
    }

    /// Waits for the input's digest, if it is still being computed.
    pub(crate) fn settle_sha256(&mut self) {
        if let Some(p) = self.pending_sha256.take() {
            self.sha256 = p.hex();
        }
    }
}

pub(crate) fn assemble(
    inputs: Vec<InputSummary>,
    outputs: Vec<ShardOutput>,
    keys_given: bool,
    ipdb: &IpDb,
    detection: Option<&crate::Detection>,
    show_values: bool,
) -> report::Report {
    let mut flows: Vec<FlowRecord> = Vec::new();
    let mut dns_records: Vec<DnsRecord> = Vec::new();
    let mut http_records: Vec<HttpRecord> = Vec::new();
    let mut counters = Counters::default();
    let mut packets = PacketCounters::default();
    let mut trouble = Trouble::default();
    let mut stats = report::Stats::default();
    let mut found: Vec<phonehome_detect::findings::Finding> = Vec::new();
    for mut out in outputs {
        found.extend(std::mem::take(&mut out.sink.findings).into_vec());
        flows.extend(out.flows);
        dns_records.extend(out.sink.dns);
        http_records.extend(out.sink.http);
        counters.add(&out.sink.counters);
        let p = &out.packets;
        packets.packets += p.packets;
        packets.non_ip += p.non_ip;
        packets.decode_errors += p.decode_errors;
        packets.unsupported_link += p.unsupported_link;
        packets.not_device += p.not_device;
        packets.fragments += p.fragments;
        trouble.merge(out.trouble);
        stats.reassembled_datagrams += out.reassembled;
        stats.fragments_dropped += out.fragments_dropped;
        stats.flows_evicted_full += out.evicted_full;
        stats.reassembly_cap_hits += out.budget_hits;
        let decoded = out.sink.expander.stats();
        stats.decode_capped += decoded.capped;
        stats.decompression_bombs += decoded.bombs;
    }

    flows.sort_by(|a, b| {
        (a.first_ts, a.input, a.first_frame, a.handle).cmp(&(
            b.first_ts,
            b.input,
            b.first_frame,
            b.handle,
        ))
    });
    let ids: HashMap<u64, u64> = flows
        .iter()
        .enumerate()
        .map(|(i, f)| (f.handle, i as u64 + 1))
        .collect();
    let id_of = |handle: u64| ids.get(&handle).copied().unwrap_or(0);
    // Shards are concatenated in order and each keeps capture order, so a stable sort by
    // position is the same for any number of shards.
    dns_records.sort_by_key(|r| r.pos);
    http_records.sort_by_key(|r| r.pos);

    let mut cache = DnsCache::default();
    for r in dns_records.iter().filter(|r| r.msg.response) {
        learn(&mut cache, r);
    }

    // The first User-Agent each flow sent, for service recognition.
    let mut user_agents: HashMap<u64, &str> = HashMap::new();
    for r in &http_records {
        if let Some(ua) = r.user_agent.as_deref() {
            user_agents.entry(r.flow).or_insert(ua);
        }
    }
    // HTTP messages whose content is encrypted by other means than TLS, per flow.
    let mut encrypted_bodies: HashMap<u64, Vec<String>> = HashMap::new();
    for r in &http_records {
        if let Some(what) = encrypted_body(r) {
            let list = encrypted_bodies.entry(r.flow).or_default();
            if list.len() < 4 {
                list.push(what);
            }
        }
    }
    let mut report_flows = Vec::with_capacity(flows.len());
    let mut blind_spots = Vec::new();
    for f in &flows {
        let id = id_of(f.handle);
        let bodies = encrypted_bodies.get(&f.handle).map_or(&[][..], |v| &v[..]);
        let mut flow = flow_report(
            id,
            f,
            &cache,
            &mut blind_spots,
            keys_given,
            bodies,
            &mut stats,
        );
        attribute(&mut flow, f, user_agents.get(&f.handle).copied(), ipdb);
        if let Some(t) = &flow.tcp {
            stats.tcp_gaps += t.gaps;
            stats.tcp_gap_bytes += t.gap_bytes;
        }
        report_flows.push(flow);
    }
    let destinations = destinations(&report_flows);
    // With --show-values, a profile finding shows the bytes that matched (the value in the
    // form it was sent, e.g. its SHA-1 in hex) and excerpts are left clear.
    let shown = |f: &phonehome_detect::findings::Finding| -> (Option<String>, Option<String>) {
        if !show_values {
            return (f.value.clone(), f.excerpt.clone());
        }
        let value = f.value.clone().or_else(|| {
            detection
                .and_then(|d| d.variants.get(f.variant))
                .map(|v| String::from_utf8_lossy(&v.bytes).into_owned())
        });
        (value, f.excerpt_clear.clone().or_else(|| f.excerpt.clone()))
    };
    let findings = findings_report(found, &id_of, &report_flows, &shown);

    let dns = dns_records
        .iter()
        .map(|r| dns_report(id_of(r.flow), r))
        .collect::<Vec<_>>();
    let http = http_records
        .iter()
        .map(|r| http_report(id_of(r.flow), r))
        .collect::<Vec<_>>();

    stats.packets = packets.packets;
    stats.bytes = inputs.iter().map(|i| i.bytes).sum();
    stats.non_ip = packets.non_ip;
    stats.decode_errors = packets.decode_errors;
    stats.unsupported_link = packets.unsupported_link;
    stats.not_device = packets.not_device;
    stats.fragments = packets.fragments;
    stats.flows = report_flows.len() as u64;
    stats.dns_messages = counters.dns_messages;
    stats.dns_malformed = counters.dns_malformed;
    stats.http_messages = http.len() as u64;
    stats.tls_handshakes = counters.tls_handshakes;
    stats.quic_initials = counters.quic_initials;
    stats.quic_decrypt_failures = counters.quic_decrypt_failures;

    let inputs = input_reports(inputs, &trouble);
    report::Report {
        schema: report::SCHEMA,
        run: report::Run {
            version: String::new(),
            start_time: String::new(),
            duration_ms: 0,
            ip_data: String::new(),
            ..report::Run::default()
        },
        inputs,
        flows: report_flows,
        dns,
        http,
        destinations,
        findings,
        blind_spots,
        stats,
        keylogs: Vec::new(),
        verdict: report::Verdict {
            status: "no-policy",
            ..report::Verdict::default()
        },
    }
}

/// Teaches the cache the addresses a DNS response handed out, under the name that was asked.
fn learn(cache: &mut DnsCache, r: &DnsRecord) {
    let asked = r.msg.questions.first().map(|q| q.name.as_str());
    for answer in &r.msg.answers {
        let name = asked.unwrap_or(answer.name.as_str());
        match &answer.data {
            dns::RData::A(a) => cache.insert(r.ts, IpAddr::V4(*a), name),
            dns::RData::Aaaa(a) => cache.insert(r.ts, IpAddr::V6(*a), name),
            dns::RData::Svcb {
                ipv4hint, ipv6hint, ..
            } => {
                for a in ipv4hint {
                    cache.insert(r.ts, IpAddr::V4(*a), name);
                }
                for a in ipv6hint {
                    cache.insert(r.ts, IpAddr::V6(*a), name);
                }
            }
            _ => {}
        }
    }
}

/// The report's names of IP protocols; others are `ip-proto-N`.
const PROTOCOLS: [(u8, &str); 10] = [
    (1, "icmp"),
    (2, "igmp"),
    (6, "tcp"),
    (17, "udp"),
    (47, "gre"),
    (50, "esp"),
    (51, "ah"),
    (58, "icmpv6"),
    (132, "sctp"),
    (136, "udplite"),
];

fn proto_name(p: u8) -> String {
    PROTOCOLS
        .iter()
        .find(|&&(n, _)| n == p)
        .map_or_else(|| format!("ip-proto-{p}"), |&(_, name)| name.to_string())
}

/// The IP protocol number of a report's `proto` name (the inverse of `proto_name`).
pub(crate) fn proto_number(name: &str) -> Option<u8> {
    PROTOCOLS
        .iter()
        .find(|&&(_, n)| n == name)
        .map(|&(p, _)| p)
        .or_else(|| name.strip_prefix("ip-proto-")?.parse().ok())
}

#[allow(clippy::too_many_arguments)]
fn flow_report(
    id: u64,
    f: &FlowRecord,
    cache: &DnsCache,
    blind_spots: &mut Vec<report::BlindSpot>,
    keys_given: bool,
    encrypted_bodies: &[String],
    stats: &mut report::Stats,
) -> report::Flow {
    let info = &f.info;
    let hello = info.client_hello.as_deref();
    let quic_hello = info.quic.as_deref();
    let leaf = info.leaf.as_deref();
    let mut cert_names: Vec<String> = Vec::new();
    if let Some(cert) = leaf {
        cert_names.extend(common_name(&cert.subject));
        cert_names.extend(cert.sans.iter().filter(|s| !s.contains('*')).cloned());
    }
    let evidence = Evidence {
        server: f.server.ip(),
        first_ts: f.first_ts,
        sni: hello.and_then(|h| h.sni.as_deref()),
        quic_sni: quic_hello.and_then(|(_, h)| h.sni.as_deref()),
        http_hosts: &info.http_hosts,
        cert_names: &cert_names,
    };
    let naming = evidence.name(cache);
    let proto = proto_name(f.protocol);
    let encrypted = matches!(info.app_proto, Some("tls" | "quic"));
    let (decrypted, not_decrypted) = decryption_state(info, encrypted, keys_given);
    if encrypted {
        stats.encrypted_flows += 1;
        stats.decrypted_flows += u64::from(decrypted);
        if !decrypted {
            stats.not_inspected_bytes += info.payload_bytes;
        }
    }
    let server_hello = info.server_hello.as_deref();
    let tls = (hello.is_some()
        || ((server_hello.is_some() || leaf.is_some()) && info.quic.is_none()))
    .then(|| report::Tls {
        sni: hello.and_then(|h| h.sni.clone()),
        ech: hello.is_some_and(|h| h.ech),
        alpn: hello.map(|h| h.alpn.clone()).unwrap_or_default(),
        version: server_hello.map(|s| tls::version_name(s.version)),
        ja3: hello.map(|h| h.ja3.clone()),
        ja3s: server_hello.map(|s| s.ja3s.clone()),
        ja4: hello.map(|h| h.ja4(tls::Transport::Tcp)),
        cipher: server_hello.map(|s| tls::cipher_name(s.cipher)),
        cert_subject: leaf.map(|c| c.subject.clone()),
        cert_issuer: leaf.map(|c| c.issuer.clone()),
        cert_org: leaf.and_then(|c| c.organization.clone()),
        cert_sans: leaf.map(|c| c.sans.clone()).unwrap_or_default(),
        cert_not_before: leaf.map(|c| c.not_before.clone()),
        cert_not_after: leaf.map(|c| c.not_after.clone()),
        cert_sha256: leaf.map(|c| c.sha256.clone()),
        alerts: info
            .alerts
            .iter()
            .map(|&(level, desc)| tls::alert_text(level, desc))
            .collect(),
        client_random: hello.map(|h| hex::encode(h.random)),
    });
    let quic = quic_hello.map(|(version, h)| report::Quic {
        sni: h.sni.clone(),
        alpn: h.alpn.clone(),
        version: Some(quic::version_name(*version)),
        ja4: Some(h.ja4(tls::Transport::Quic)),
        cert_subject: leaf.map(|c| c.subject.clone()),
        cert_sans: leaf.map(|c| c.sans.clone()).unwrap_or_default(),
        client_random: Some(hex::encode(h.random)),
    });
    let alpn: &[String] = hello
        .map(|h| &h.alpn[..])
        .or(quic_hello.map(|(_, h)| &h.alpn[..]))
        .unwrap_or(&[]);
    let fatal_alerts: Vec<String> = info
        .alerts
        .iter()
        .filter(|&&(level, _)| level == 2)
        .map(|&(level, desc)| tls::alert_text(level, desc))
        .collect();
    let facts = Facts {
        proto: &proto,
        server: Some(f.server.ip()),
        server_port: f.server.port(),
        sni: evidence.sni.or(evidence.quic_sni),
        alpn,
        ech: hello.is_some_and(|h| h.ech),
        named: naming.name.is_some(),
        has_payload: info.has_payload,
        app_proto: info.app_proto,
        not_decrypted: not_decrypted.as_deref(),
        fatal_alerts: &fatal_alerts,
        opaque_entropy: blind::looks_encrypted(&info.head[0])
            .or_else(|| blind::looks_encrypted(&info.head[1])),
        encrypted_bodies,
        dns_read: info.dns_in_http,
    };
    for spot in blind::classify(&facts) {
        blind_spots.push(report::BlindSpot {
            flow: id,
            kind: spot.kind.as_str(),
            detail: spot.detail,
        });
    }
    report::Flow {
        id,
        proto,
        client: f.client.to_string(),
        server: f.server.to_string(),
        first_ts: rfc3339(f.first_ts),
        last_ts: rfc3339(f.last_ts),
        input: f.input,
        first_frame: f.first_frame,
        packets_up: f.packets[0],
        packets_down: f.packets[1],
        bytes_up: f.bytes[0],
        bytes_down: f.bytes[1],
        app_proto: info.app_proto.map(str::to_string),
        server_name: naming.name,
        name_source: naming.source.as_str().to_string(),
        name_conflicts: naming.conflicts.into_iter().map(|c| c.name).collect(),
        tls,
        quic,
        tcp: f.tcp.map(|s| report::TcpStats {
            gaps: s.gaps,
            gap_bytes: s.gap_bytes,
            overlap_conflicts: s.conflicts,
            capped: s.cap_hits + s.budget_hits,
        }),
        decrypted,
        not_decrypted,
        ..report::Flow::default()
    }
}

/// Whether an encrypted flow was read, and if not, why.
fn decryption_state(
    info: &crate::records::FlowInfo,
    encrypted: bool,
    keys_given: bool,
) -> (bool, Option<String>) {
    use crate::dissect::Decryption;
    if !encrypted {
        return (false, None);
    }
    match &info.decryption {
        Some(Decryption::Decrypted) => (true, None),
        Some(other) => (false, other.reason()),
        None if !keys_given => (false, Some("no key log given (--keylog)".into())),
        None if info.client_hello.is_none() && info.quic.is_none() => {
            (false, Some("handshake not in the capture".into()))
        }
        None => (
            false,
            Some("no key for this connection in the key logs".into()),
        ),
    }
}

/// The CN of an RFC 4514-style subject string.
fn common_name(subject: &str) -> Option<String> {
    subject
        .split(',')
        .filter_map(|part| part.trim().strip_prefix("CN="))
        .find(|cn| !cn.contains('*') && !cn.is_empty())
        .map(str::to_string)
}

fn destinations(flows: &[report::Flow]) -> Vec<report::Destination> {
    struct Acc<'a> {
        ips: BTreeSet<IpAddr>,
        flows: u64,
        up: u64,
        down: u64,
        protocols: BTreeSet<&'a str>,
        first: &'a str,
        /// The flow with the most bytes: attribution is taken from it.
        main: &'a report::Flow,
        cdn: bool,
        apps: BTreeSet<&'a str>,
    }
    let mut by_name: BTreeMap<String, Acc<'_>> = BTreeMap::new();
    for f in flows {
        let (ip, _) = split_endpoint(&f.server);
        let name = f.server_name.clone().unwrap_or_else(|| ip.to_string());
        let acc = by_name.entry(name).or_insert_with(|| Acc {
            ips: BTreeSet::new(),
            flows: 0,
            up: 0,
            down: 0,
            protocols: BTreeSet::new(),
            first: &f.first_ts,
            main: f,
            cdn: false,
            apps: BTreeSet::new(),
        });
        // Flows come in capture order, so on a tie the earliest stays.
        if f.bytes_up + f.bytes_down > acc.main.bytes_up + acc.main.bytes_down {
            acc.main = f;
        }
        acc.cdn |= f.cdn;
        acc.apps.extend(f.app.as_deref());
        acc.ips.insert(ip);
        acc.flows += 1;
        acc.up += f.bytes_up;
        acc.down += f.bytes_down;
        acc.protocols
            .insert(f.app_proto.as_deref().unwrap_or(f.proto.as_str()));
        if f.first_ts.as_str() < acc.first {
            acc.first = &f.first_ts;
        }
    }
    by_name
        .into_iter()
        .map(|(name, a)| report::Destination {
            name,
            ips: a.ips.iter().map(ToString::to_string).collect(),
            flows: a.flows,
            bytes_up: a.up,
            bytes_down: a.down,
            protocols: a.protocols.iter().map(|p| p.to_string()).collect(),
            first_ts: a.first.to_string(),
            org: a.main.org.clone(),
            org_country: a.main.org_country.clone(),
            parent_org: a.main.parent_org.clone(),
            parent_country: a.main.parent_country.clone(),
            attribution_source: a.main.attribution_source,
            server_country: a.main.server_country.clone(),
            asn: a.main.asn,
            as_org: a.main.as_org.clone(),
            cdn: a.cdn,
            scope: a.main.scope,
            service: a.main.service.clone(),
            apps: a.apps.iter().map(|s| s.to_string()).collect(),
        })
        .collect()
}

/// Fills in who runs a flow's server and where (organisation, countries, AS, CDN, scope) and
/// which service it is, from the flow's names, certificate, address and first bytes.
fn attribute(flow: &mut report::Flow, f: &FlowRecord, user_agent: Option<&str>, ipdb: &IpDb) {
    let info = &f.info;
    let ip = f.server.ip();
    let geo = ipdb.lookup(ip);
    let leaf = info.leaf.as_deref();
    let cert_org = leaf.and_then(|c| c.organization.as_deref());
    let hello = info.client_hello.as_deref();
    let sni = hello
        .and_then(|h| h.sni.as_deref())
        .or_else(|| info.quic.as_deref().and_then(|(_, h)| h.sni.as_deref()));
    let dns_name = (flow.name_source == NameSource::Dns.as_str())
        .then_some(flow.server_name.as_deref())
        .flatten();
    let cert_names: Vec<String> = leaf
        .map(|c| {
            common_name(&c.subject)
                .into_iter()
                .chain(c.sans.iter().cloned())
                .collect()
        })
        .unwrap_or_default();
    let service = services::identify(&ServiceFacts {
        proto: &flow.proto,
        server_ip: Some(ip),
        server_port: f.server.port(),
        sni,
        http_host: info.http_hosts.first().map(String::as_str),
        dns_name,
        cert_org,
        cert_names: &cert_names,
        ja3: flow.tls.as_ref().and_then(|t| t.ja3.as_deref()),
        ja4: flow.tls.as_ref().and_then(|t| t.ja4.as_deref()),
        user_agent,
        asn: geo.asn,
        first_bytes_up: &info.head[0],
        first_bytes_down: &info.head[1],
    });
    let attribution = OrgDb::bundled().attribute(&Clues {
        host: flow.server_name.as_deref(),
        cert_org,
        service_org: service.as_ref().and_then(|m| m.org.as_deref()),
        asn: geo.asn,
        as_org: geo.as_org,
    });
    flow.org = attribution.org.map(str::to_string);
    flow.org_country = attribution.org_country.map(str::to_string);
    flow.parent_org = attribution.parent.map(str::to_string);
    flow.parent_country = attribution.parent_country.map(str::to_string);
    flow.attribution_source = attribution.source.as_str();
    flow.server_country = geo.country_str().map(str::to_string);
    flow.asn = geo.asn;
    flow.as_org = geo.as_org.map(str::to_string);
    flow.cdn = attribution.cdn;
    flow.scope = geo.scope.as_str();
    if let Some(m) = service {
        flow.service = Some(m.service);
        flow.service_evidence = Some(m.evidence);
    }
    flow.app = info.app.as_ref().and_then(|a| a.name.clone());
}

fn split_endpoint(endpoint: &str) -> (IpAddr, u16) {
    let parsed: Option<std::net::SocketAddr> = endpoint.parse().ok();
    parsed.map_or((IpAddr::from([0, 0, 0, 0]), 0), |s| (s.ip(), s.port()))
}

fn dns_report(flow: u64, r: &DnsRecord) -> report::Dns {
    let m = &r.msg;
    report::Dns {
        ts: rfc3339(r.ts),
        flow,
        input: r.pos.input,
        frame: r.pos.frame,
        response: m.response,
        id: m.id,
        query: m.questions.first().map(|q| q.name.clone()),
        questions: m.questions.iter().map(|q| q.name.clone()).collect(),
        qtype: m.questions.first().map(|q| q.qtype.name().to_string()),
        rcode: m.response.then(|| dns::rcode_name(m.rcode).to_string()),
        answers: m
            .answers
            .iter()
            .map(|a| report::DnsAnswer {
                name: a.name.clone(),
                rrtype: a.rtype.name().to_string(),
                ttl: a.ttl,
                data: a.data.to_text(),
            })
            .collect(),
        transport: r.carrier,
    }
}

fn http_report(flow: u64, r: &HttpRecord) -> report::Http {
    let body = match &r.body {
        None => (None, None),
        Some(b) => match std::str::from_utf8(b) {
            Ok(text) => (Some(text.to_string()), None),
            Err(_) => (Some(base64(b)), Some("base64")),
        },
    };
    report::Http {
        ts: rfc3339(r.ts),
        flow,
        input: r.pos.input,
        frame: r.pos.frame,
        kind: if r.request { "request" } else { "response" },
        method: r.method.clone(),
        host: r.host.clone(),
        uri: r.uri.clone(),
        status: r.status,
        user_agent: r.user_agent.clone(),
        content_type: r.content_type.clone(),
        body_len: r.body_len,
        encodings: r.encodings.clone(),
        transport: r.transport,
        decrypted: r.decrypted,
        body: body.0,
        body_encoding: body.1,
    }
}

fn input_reports(inputs: Vec<InputSummary>, trouble: &Trouble) -> Vec<report::Input> {
    inputs
        .into_iter()
        .enumerate()
        .map(|(index, i)| {
            let mut troubles: Vec<(&u64, &u64, &String)> = trouble
                .kinds
                .iter()
                .filter(|((input, _), _)| *input == index)
                .map(|((_, what), (frame, n))| (frame, n, what))
                .collect();
            troubles.sort();
            let mut warnings = i.warnings;
            for (frame, n, what) in troubles {
                let more = match n {
                    1 => String::new(),
                    n => format!(" ({} more frames like it)", n - 1),
                };
                let what = name_interface(what, &i.interfaces);
                warnings.push(format!("{}: frame {frame}: {what}{more}", i.path));
            }
            if let Some(n) = trouble.others.get(&index) {
                warnings.push(format!(
                    "{}: {n} more undecodable frames of other kinds",
                    i.path
                ));
            }
            if warnings.len() > MAX_WARNINGS {
                let cut = warnings.len() - MAX_WARNINGS;
                warnings.truncate(MAX_WARNINGS);
                warnings.push(format!("{}: {cut} more warnings", i.path));
            }
            report::Input {
                path: i.path,
                sha256: i.sha256,
                packets: i.packets,
                bytes: i.bytes,
                first_ts: i.first_ts.map(rfc3339),
                last_ts: i.last_ts.map(rfc3339),
                warnings,
            }
        })
        .collect()
}

/// Adds the capture's own name of an interface to a message about "interface N: ...".
fn name_interface(what: &str, names: &[String]) -> String {
    let named = what
        .strip_prefix("interface ")
        .and_then(|rest| rest.split_once(':'))
        .and_then(|(index, rest)| {
            let name = names.get(index.parse::<usize>().ok()?)?;
            (!name.is_empty()).then(|| format!("interface {index} ({name}):{rest}"))
        });
    named.unwrap_or_else(|| what.to_string())
}

/// Standard base64 with padding (RFC 4648 section 4).
fn base64(data: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(data)
}

/// Whether an HTTP message carries content encrypted by other means than TLS: WeChat's
/// MMTLS (its requests go to `/mmtls/...`), or a body whose bytes look like ciphertext and
/// whose type does not explain it (media and archives are compressed, not hidden).
fn encrypted_body(r: &HttpRecord) -> Option<String> {
    if let Some(uri) = r.uri.as_deref().filter(|u| u.starts_with("/mmtls/")) {
        return Some(format!(
            "WeChat MMTLS ({} {uri})",
            r.method.as_deref().unwrap_or("?")
        ));
    }
    let entropy = r.body_entropy?;
    let kind = r.content_type.as_deref().unwrap_or("").to_ascii_lowercase();
    let explained = [
        "image/",
        "video/",
        "audio/",
        "font/",
        "application/zip",
        "application/gzip",
        "application/x-gzip",
        "application/zstd",
        "application/x-7z",
        "application/pdf",
        "application/vnd.android",
    ]
    .iter()
    .any(|t| kind.starts_with(t));
    (!explained).then(|| {
        let what = match (&r.method, &r.uri, r.status) {
            (Some(m), Some(u), _) => format!("{m} {u}"),
            (_, _, Some(st)) => format!("response {st}"),
            _ => "message".to_string(),
        };
        format!(
            "HTTP body of {what} looks encrypted ({entropy:.1} bits per byte, {} bytes)",
            r.body_len
        )
    })
}

/// Personal-data findings for the report: flow handles become flow ids, each finding names
/// its destination and whose law reaches it, and the order is fixed (flow, time, place).
/// What a finding shows of its value: (value, excerpt).
type Shown<'a> =
    dyn Fn(&phonehome_detect::findings::Finding) -> (Option<String>, Option<String>) + 'a;

fn findings_report(
    found: Vec<phonehome_detect::findings::Finding>,
    id_of: &dyn Fn(u64) -> u64,
    flows: &[report::Flow],
    shown: &Shown<'_>,
) -> Vec<report::Finding> {
    let by_id: HashMap<u64, &report::Flow> = flows.iter().map(|f| (f.id, f)).collect();
    let mut list: Vec<(u64, phonehome_detect::findings::Finding)> =
        found.into_iter().map(|f| (id_of(f.flow), f)).collect();
    list.sort_by(|a, b| {
        (a.0, a.1.ts, &a.1.layers, a.1.offset, a.1.variant).cmp(&(
            b.0,
            b.1.ts,
            &b.1.layers,
            b.1.offset,
            b.1.variant,
        ))
    });
    list.into_iter()
        .map(|(id, f)| {
            let flow = by_id.get(&id).copied();
            // A value inside a DNS query name goes to the queried zone's servers, whatever
            // resolver carried it: the zone's owner is the recipient.
            let (server_name, org, org_country, server_country) = match &f.zone {
                Some(zone) => {
                    let owner = OrgDb::bundled().lookup(zone);
                    (
                        Some(zone.clone()),
                        owner.as_ref().map(|m| m.org.name.clone()),
                        owner.as_ref().map(|m| m.org.country.clone()),
                        None,
                    )
                }
                None => (
                    flow.and_then(|fl| fl.server_name.clone()),
                    flow.and_then(|fl| fl.org.clone()),
                    flow.and_then(|fl| fl.org_country.clone()),
                    flow.and_then(|fl| fl.server_country.clone()),
                ),
            };
            let encoding = if f.encoding.is_empty() {
                String::new()
            } else {
                format!(" ({})", f.encoding.join("-"))
            };
            let to = match (&org, &org_country, &server_name) {
                (Some(o), Some(c), Some(n)) => format!("{o} ({c}) {n}"),
                (Some(o), None, Some(n)) => format!("{o} {n}"),
                (_, _, Some(n)) => n.clone(),
                _ => flow.map(|fl| fl.server.clone()).unwrap_or_default(),
            };
            let (value, excerpt) = shown(&f);
            let times = if f.count == 1 {
                "once".to_string()
            } else {
                format!("{} times", f.count)
            };
            report::Finding {
                kind: f.kind.to_string(),
                flow: Some(id),
                message: {
                    let what = phonehome_detect::variants::data_type_name(f.data_type.as_str());
                    let what = if f.label == f.data_type.as_str() {
                        what.to_string()
                    } else {
                        format!("{what} {}", f.label)
                    };
                    let layers = f.layers.join("/");
                    // Capital first letter: the line opens a sentence in every report.
                    let mut chars = what.chars();
                    let what: String = chars
                        .next()
                        .map(|c| c.to_uppercase().chain(chars).collect())
                        .unwrap_or_default();
                    format!("{what}{encoding} sent to {to} in {layers}, {times}")
                },
                data_type: Some(f.data_type.as_str()),
                label: Some(f.label.clone()),
                encoding: f.encoding.clone(),
                layers: f.layers.clone(),
                confidence: Some(f.confidence.as_str()),
                count: f.count,
                direction: Some(f.direction.as_str()),
                ts: Some(rfc3339(f.ts)),
                input: flow.map(|fl| fl.input),
                frames: f.frames.clone(),
                server_name,
                org,
                org_country,
                server_country,
                service: flow.and_then(|fl| fl.service.clone()),
                display_filter: crate::evidence::frames_filter(&f.frames),
                detector: Some(f.detector.into()),
                excerpt,
                value,
                ..report::Finding::default()
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protocol_names_read_back_to_their_numbers() {
        for p in 0..=u8::MAX {
            assert_eq!(proto_number(&proto_name(p)), Some(p), "{}", proto_name(p));
        }
        assert_eq!(proto_number("ip-99"), None);
    }
}

//! The columns of each table, in file order. docs/parquet.md documents every one of them (a
//! test holds the two together): rename nothing, add columns at the end.
//!
//! Names follow the JSON report's fields, with three changes made for joins across tables:
//! a flow's `id` and the other records' `flow` are both `flow_id`; nested TLS, QUIC and TCP
//! fields are flattened with a `tls_`, `quic_`, `tcp_` prefix; the DNS message `id` is `dns_id`.

use std::net::{IpAddr, SocketAddr};

use super::column::{index32, index64, int64, Column, Ints};
use crate::{Destination, Dns, Finding, Flow, Http, Input, Quic, Tls};

/// The columns every table starts with: which report and which capture a row belongs to.
fn common<T: 'static>() -> Vec<Column<T>> {
    vec![
        Column::int32("report", |c| index32(c.report_index)),
        Column::opt_text("capture_sha256", |c| c.capture.map(|i| i.sha256.as_str())),
        Column::opt_text("capture_path", |c| c.capture.map(|i| i.path.as_str())),
    ]
}

fn with_common<T: 'static>(columns: Vec<Column<T>>) -> Vec<Column<T>> {
    let mut all = common();
    all.extend(columns);
    all
}

pub(super) fn inputs() -> Vec<Column<Input>> {
    type C = Column<Input>;
    with_common(vec![
        C::int32("input", |c| index32(c.index)),
        C::int64("packets", |c| int64(c.item.packets)),
        C::int64("bytes", |c| int64(c.item.bytes)),
        C::time("first_ts", |c| c.item.first_ts.as_deref()),
        C::time("last_ts", |c| c.item.last_ts.as_deref()),
        C::texts("warnings", |c| &c.item.warnings),
        C::text("phonehome_version", |c| &c.report.run.version),
        C::time("run_start_time", |c| Some(&c.report.run.start_time)),
        C::opt_text("profile_sha256", |c| c.report.run.profile_sha256.as_deref()),
        C::text("verdict", |c| c.report.verdict.status),
        C::opt_text("policy", |c| c.report.verdict.policy.as_deref()),
        C::int64("violations", |c| int64(c.report.verdict.violations)),
    ])
}

fn tls(flow: &Flow) -> Option<&Tls> {
    flow.tls.as_ref()
}

fn quic(flow: &Flow) -> Option<&Quic> {
    flow.quic.as_ref()
}

pub(super) fn flows() -> Vec<Column<Flow>> {
    type C = Column<Flow>;
    with_common(vec![
        C::int32("input", |c| index32(c.item.input)),
        C::int64("flow_id", |c| int64(c.item.id)),
        C::text("proto", |c| &c.item.proto),
        C::text("client", |c| &c.item.client),
        C::opt_text("client_ip", |c| endpoint(&c.item.client).0),
        C::opt_int32("client_port", |c| endpoint(&c.item.client).1),
        C::text("server", |c| &c.item.server),
        C::opt_text("server_ip", |c| endpoint(&c.item.server).0),
        C::opt_int32("server_port", |c| endpoint(&c.item.server).1),
        C::time("first_ts", |c| Some(&c.item.first_ts)),
        C::time("last_ts", |c| Some(&c.item.last_ts)),
        C::int64("first_frame", |c| int64(c.item.first_frame)),
        C::int64("packets_up", |c| int64(c.item.packets_up)),
        C::int64("packets_down", |c| int64(c.item.packets_down)),
        C::int64("bytes_up", |c| int64(c.item.bytes_up)),
        C::int64("bytes_down", |c| int64(c.item.bytes_down)),
        C::opt_text("app_proto", |c| c.item.app_proto.as_deref()),
        C::opt_text("server_name", |c| c.item.server_name.as_deref()),
        C::text("name_source", |c| &c.item.name_source),
        C::texts("name_conflicts", |c| &c.item.name_conflicts),
        C::opt_text("tls_sni", |c| tls(c.item)?.sni.as_deref()),
        C::opt_boolean("tls_ech", |c| Some(tls(c.item)?.ech)),
        C::opt_texts("tls_alpn", |c| Some(&tls(c.item)?.alpn)),
        C::opt_text("tls_version", |c| tls(c.item)?.version.as_deref()),
        C::opt_text("tls_ja3", |c| tls(c.item)?.ja3.as_deref()),
        C::opt_text("tls_ja3s", |c| tls(c.item)?.ja3s.as_deref()),
        C::opt_text("tls_ja4", |c| tls(c.item)?.ja4.as_deref()),
        C::opt_text("tls_cipher", |c| tls(c.item)?.cipher.as_deref()),
        C::opt_text("tls_cert_subject", |c| tls(c.item)?.cert_subject.as_deref()),
        C::opt_text("tls_cert_issuer", |c| tls(c.item)?.cert_issuer.as_deref()),
        C::opt_text("tls_cert_org", |c| tls(c.item)?.cert_org.as_deref()),
        C::opt_texts("tls_cert_sans", |c| Some(&tls(c.item)?.cert_sans)),
        C::time("tls_cert_not_before", |c| {
            tls(c.item)?.cert_not_before.as_deref()
        }),
        C::time("tls_cert_not_after", |c| {
            tls(c.item)?.cert_not_after.as_deref()
        }),
        C::opt_text("tls_cert_sha256", |c| tls(c.item)?.cert_sha256.as_deref()),
        C::opt_texts("tls_alerts", |c| Some(&tls(c.item)?.alerts)),
        C::opt_text("quic_sni", |c| quic(c.item)?.sni.as_deref()),
        C::opt_texts("quic_alpn", |c| Some(&quic(c.item)?.alpn)),
        C::opt_text("quic_version", |c| quic(c.item)?.version.as_deref()),
        C::opt_text("quic_ja4", |c| quic(c.item)?.ja4.as_deref()),
        C::opt_text("quic_cert_subject", |c| {
            quic(c.item)?.cert_subject.as_deref()
        }),
        C::opt_texts("quic_cert_sans", |c| Some(&quic(c.item)?.cert_sans)),
        C::opt_int64("tcp_gaps", |c| Some(int64(c.item.tcp.as_ref()?.gaps))),
        C::opt_int64("tcp_gap_bytes", |c| {
            Some(int64(c.item.tcp.as_ref()?.gap_bytes))
        }),
        C::opt_int64("tcp_overlap_conflicts", |c| {
            Some(int64(c.item.tcp.as_ref()?.overlap_conflicts))
        }),
        C::opt_int64("tcp_capped", |c| Some(int64(c.item.tcp.as_ref()?.capped))),
        C::boolean("decrypted", |c| c.item.decrypted),
        C::opt_text("not_decrypted", |c| c.item.not_decrypted.as_deref()),
        C::opt_text("org", |c| c.item.org.as_deref()),
        C::opt_text("org_country", |c| c.item.org_country.as_deref()),
        C::opt_text("parent_org", |c| c.item.parent_org.as_deref()),
        C::opt_text("parent_country", |c| c.item.parent_country.as_deref()),
        C::text("attribution_source", |c| c.item.attribution_source),
        C::opt_text("server_country", |c| c.item.server_country.as_deref()),
        C::opt_int64("asn", |c| c.item.asn.map(i64::from)),
        C::opt_text("as_org", |c| c.item.as_org.as_deref()),
        C::boolean("cdn", |c| c.item.cdn),
        C::text("scope", |c| c.item.scope),
        C::opt_text("service", |c| c.item.service.as_deref()),
        C::opt_text("service_evidence", |c| c.item.service_evidence.as_deref()),
        C::opt_text("app", |c| c.item.app.as_deref()),
    ])
}

pub(super) fn destinations() -> Vec<Column<Destination>> {
    type C = Column<Destination>;
    with_common(vec![
        C::text("name", |c| &c.item.name),
        C::texts("ips", |c| &c.item.ips),
        C::int64("flows", |c| int64(c.item.flows)),
        C::int64("bytes_up", |c| int64(c.item.bytes_up)),
        C::int64("bytes_down", |c| int64(c.item.bytes_down)),
        C::texts("protocols", |c| &c.item.protocols),
        C::time("first_ts", |c| Some(&c.item.first_ts)),
        C::opt_text("org", |c| c.item.org.as_deref()),
        C::opt_text("org_country", |c| c.item.org_country.as_deref()),
        C::opt_text("parent_org", |c| c.item.parent_org.as_deref()),
        C::opt_text("parent_country", |c| c.item.parent_country.as_deref()),
        C::text("attribution_source", |c| c.item.attribution_source),
        C::opt_text("server_country", |c| c.item.server_country.as_deref()),
        C::opt_int64("asn", |c| c.item.asn.map(i64::from)),
        C::opt_text("as_org", |c| c.item.as_org.as_deref()),
        C::boolean("cdn", |c| c.item.cdn),
        C::text("scope", |c| c.item.scope),
        C::opt_text("service", |c| c.item.service.as_deref()),
        C::texts("apps", |c| &c.item.apps),
    ])
}

pub(super) fn dns() -> Vec<Column<Dns>> {
    type C = Column<Dns>;
    with_common(vec![
        C::int32("input", |c| index32(c.item.input)),
        C::int64("flow_id", |c| int64(c.item.flow)),
        C::int64("frame", |c| int64(c.item.frame)),
        C::time("ts", |c| Some(&c.item.ts)),
        C::boolean("response", |c| c.item.response),
        C::int32("dns_id", |c| i32::from(c.item.id)),
        C::opt_text("query", |c| c.item.query.as_deref()),
        C::texts("questions", |c| &c.item.questions),
        C::opt_text("qtype", |c| c.item.qtype.as_deref()),
        C::opt_text("rcode", |c| c.item.rcode.as_deref()),
        C::answers("answers", |c| &c.item.answers),
        C::opt_text("transport", |c| c.item.transport),
    ])
}

pub(super) fn http() -> Vec<Column<Http>> {
    type C = Column<Http>;
    with_common(vec![
        C::int32("input", |c| index32(c.item.input)),
        C::int64("flow_id", |c| int64(c.item.flow)),
        C::int64("frame", |c| int64(c.item.frame)),
        C::time("ts", |c| Some(&c.item.ts)),
        C::text("kind", |c| c.item.kind),
        C::opt_text("method", |c| c.item.method.as_deref()),
        C::opt_text("host", |c| c.item.host.as_deref()),
        C::opt_text("uri", |c| c.item.uri.as_deref()),
        C::opt_int32("status", |c| c.item.status.map(i32::from)),
        C::opt_text("user_agent", |c| c.item.user_agent.as_deref()),
        C::opt_text("content_type", |c| c.item.content_type.as_deref()),
        C::int64("body_len", |c| int64(c.item.body_len)),
        C::texts("encodings", |c| &c.item.encodings),
        C::text("transport", |c| c.item.transport),
        C::boolean("decrypted", |c| c.item.decrypted),
        C::opt_text("body", |c| c.item.body.as_deref()),
        C::opt_text("body_encoding", |c| c.item.body_encoding),
    ])
}

pub(super) fn findings() -> Vec<Column<Finding>> {
    type C = Column<Finding>;
    with_common(vec![
        C::int64("finding_index", |c| index64(c.index)),
        C::opt_int32("input", |c| c.item.input.map(index32)),
        C::text("kind", |c| &c.item.kind),
        C::opt_int64("flow_id", |c| c.item.flow.map(int64)),
        C::text("message", |c| &c.item.message),
        C::opt_text("data_type", |c| c.item.data_type),
        C::opt_text("label", |c| c.item.label.as_deref()),
        C::texts("encoding", |c| &c.item.encoding),
        C::texts("layers", |c| &c.item.layers),
        C::opt_text("confidence", |c| c.item.confidence),
        C::int64("count", |c| int64(c.item.count)),
        C::opt_text("direction", |c| c.item.direction),
        C::time("ts", |c| c.item.ts.as_deref()),
        C::ints("frames", |c| Ints::U64(&c.item.frames)),
        C::opt_text("server_name", |c| c.item.server_name.as_deref()),
        C::opt_text("org", |c| c.item.org.as_deref()),
        C::opt_text("org_country", |c| c.item.org_country.as_deref()),
        C::opt_text("server_country", |c| c.item.server_country.as_deref()),
        C::opt_text("service", |c| c.item.service.as_deref()),
        C::opt_text("display_filter", |c| c.item.display_filter.as_deref()),
        C::opt_text("excerpt", |c| c.item.excerpt.as_deref()),
        C::opt_text("value", |c| c.item.value.as_deref()),
        C::opt_text("detector", |c| c.item.detector.as_deref()),
        C::opt_text("rule", |c| c.item.rule.as_deref()),
        C::opt_text("severity", |c| c.item.severity),
        C::ints("triggers", |c| Ints::Usize(&c.item.triggers)),
        C::ints("trigger_flows", |c| Ints::U64(&c.item.trigger_flows)),
    ])
}

/// Splits an endpoint as the report writes it (std's socket address form: `192.0.2.1:443`,
/// `[2001:db8::1]:443`) into address and port; a bare address has no port, anything else
/// neither.
fn endpoint(text: &str) -> (Option<&str>, Option<i32>) {
    if let Ok(addr) = text.parse::<SocketAddr>() {
        let ip = text.rsplit_once(':').map_or(text, |(ip, _)| ip);
        let ip = ip
            .strip_prefix('[')
            .and_then(|ip| ip.strip_suffix(']'))
            .unwrap_or(ip);
        return (Some(ip), Some(i32::from(addr.port())));
    }
    if text.parse::<IpAddr>().is_ok() {
        return (Some(text), None);
    }
    (None, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_splits_v4_v6_and_bare_addresses() {
        assert_eq!(endpoint("192.0.2.1:5000"), (Some("192.0.2.1"), Some(5000)));
        assert_eq!(
            endpoint("[2001:db8::1]:443"),
            (Some("2001:db8::1"), Some(443))
        );
        assert_eq!(endpoint("2001:db8::1"), (Some("2001:db8::1"), None));
        assert_eq!(endpoint("192.0.2.9"), (Some("192.0.2.9"), None));
        assert_eq!(endpoint("not an address"), (None, None));
    }

    #[test]
    fn column_names_are_unique_per_table() {
        fn names<T>(columns: &[Column<T>]) -> Vec<&'static str> {
            columns.iter().map(|c| c.name).collect()
        }
        for table in [
            names(&inputs()),
            names(&flows()),
            names(&destinations()),
            names(&dns()),
            names(&http()),
            names(&findings()),
        ] {
            let mut sorted = table.clone();
            sorted.sort_unstable();
            sorted.dedup();
            assert_eq!(sorted.len(), table.len(), "duplicate column in {table:?}");
        }
    }
}

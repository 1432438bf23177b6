//! Parquet tables for fleet analysis: the report's records as columns that DuckDB, Spark,
//! pandas or Arrow read directly, and that union across hundreds of devices.
//!
//! [`write_parquet`] writes six files into a directory: `inputs.parquet`, `flows.parquet`,
//! `destinations.parquet`, `dns.parquet`, `http.parquet` and `findings.parquet`. Every row starts
//! with the same three columns, `report` (the report's position in the slice given),
//! `capture_sha256` and `capture_path`, so that the files of many runs can be read as one table
//! (`read_parquet('runs/*/flows.parquet')`) and still say which capture each row came from.
//! docs/parquet.md documents every column; a test keeps it and the code in step.
//!
//! # Row groups
//!
//! Each capture of each report gets its own row group in every file: with one capture per
//! report (one device per report, the fleet case) row group `k` of every file is report `k`'s.
//! A capture whose rows exceed [`ROWS_PER_GROUP`] continues in further row groups; a capture
//! without rows in a table gets no row group there. Rows that belong to no single capture
//! (a report merging several captures: its destinations and its policy findings) get one more
//! row group of their own, with null `capture_sha256` and `capture_path`. In a report with one
//! capture every row is that capture's.
//!
//! # Limits
//!
//! The writer adds at most one row group's encoded pages to the report already in memory (the
//! encoder holds a column chunk's pages until its dictionary is final), plus one index per row
//! and a staging batch per column. Counters past `i64::MAX` are written as `i64::MAX`, and a
//! timestamp that is not RFC 3339 as null. Files are written under a temporary name and renamed
//! into place, so a reader never sees half a file.
//!
//! The low-level column writer of the `parquet` crate is used rather than its Arrow layer: the
//! tables are fixed, and the Arrow crates would add about two and a half times as much build
//! time as `parquet` alone does, for no gain in the files.

mod column;
mod tables;

use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use ::parquet::basic::{Compression, ZstdLevel};
use ::parquet::file::metadata::KeyValue;
use ::parquet::file::properties::WriterProperties;
use ::parquet::file::writer::SerializedFileWriter;
use ::parquet::schema::parser::parse_message_type;

use crate::{Input, Report};
use column::{message_type, write_leaf, Column, LeafError, Rows};

/// Version of the Parquet layout, stored in every file's key-value metadata under
/// `phonehome.schema`. Columns are only ever added, at the end of a table.
pub const SCHEMA: &str = "phonehome/parquet/v1";

/// The files written, without the `.parquet` extension.
pub const TABLES: [&str; 6] = ["inputs", "flows", "destinations", "dns", "http", "findings"];

/// Rows at most in one row group; a capture with more continues in the next. DuckDB's own row
/// group size: large enough for column statistics to prune, small enough to bound the memory
/// the encoder holds.
pub const ROWS_PER_GROUP: usize = 122_880;

/// Why the Parquet files could not be written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ParquetError {
    /// The directory or a file could not be created, written or renamed.
    #[error("could not write {}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// The Parquet encoder failed (it also reports the file's I/O errors).
    #[error("could not encode {}", path.display())]
    Encode {
        path: PathBuf,
        #[source]
        source: ::parquet::errors::ParquetError,
    },
    /// A column declared required had no value: a fault in the table definitions, not in the
    /// report.
    #[error("could not encode {}: required column `{column}` is empty in report {report}", path.display())]
    MissingValue {
        path: PathBuf,
        column: &'static str,
        report: usize,
    },
    /// A column's values do not match its declared Parquet type: a fault in the table
    /// definitions.
    #[error("could not encode {}: column `{column}` does not match the file schema", path.display())]
    Schema { path: PathBuf, column: &'static str },
}

/// Writes the reports' records as Parquet tables into `dir` (created if missing), replacing
/// files of the same names. See the module documentation for the layout and docs/parquet.md
/// for the columns.
pub fn write_parquet(reports: &[&Report], dir: &Path) -> Result<(), ParquetError> {
    write_with(reports, dir, ROWS_PER_GROUP)
}

fn write_with(reports: &[&Report], dir: &Path, per_group: usize) -> Result<(), ParquetError> {
    fs::create_dir_all(dir).map_err(|source| ParquetError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let out = Out {
        dir,
        reports,
        per_group,
    };
    out.table("inputs", &tables::inputs(), |r| &r.inputs, |i, _| Some(i))?;
    out.table(
        "flows",
        &tables::flows(),
        |r| &r.flows,
        |_, f| Some(f.input),
    )?;
    out.table(
        "destinations",
        &tables::destinations(),
        |r| &r.destinations,
        |_, _| None,
    )?;
    out.table("dns", &tables::dns(), |r| &r.dns, |_, d| Some(d.input))?;
    out.table("http", &tables::http(), |r| &r.http, |_, h| Some(h.input))?;
    out.table(
        "findings",
        &tables::findings(),
        |r| &r.findings,
        |_, f| f.input,
    )
}

struct Out<'a> {
    dir: &'a Path,
    reports: &'a [&'a Report],
    per_group: usize,
}

impl Out<'_> {
    /// Writes one table to a temporary file, then renames it into place.
    ///
    /// `input_of` gives a row's capture, as an index into the report's `inputs`, from its
    /// position and record.
    fn table<T>(
        &self,
        table: &str,
        columns: &[Column<T>],
        items_of: impl for<'r> Fn(&'r Report) -> &'r [T],
        input_of: impl Fn(usize, &T) -> Option<usize>,
    ) -> Result<(), ParquetError> {
        let path = self.dir.join(format!("{table}.parquet"));
        let partial = self.dir.join(format!(".{table}.parquet.partial"));
        let written = self.write(table, &path, &partial, columns, &items_of, &input_of);
        if let Err(e) = written {
            // Best effort: the error that matters is the one being returned.
            let _ = fs::remove_file(&partial);
            return Err(e);
        }
        fs::rename(&partial, &path).map_err(|source| ParquetError::Io { path, source })
    }

    fn write<T>(
        &self,
        table: &str,
        path: &Path,
        partial: &Path,
        columns: &[Column<T>],
        items_of: &impl for<'r> Fn(&'r Report) -> &'r [T],
        input_of: &impl Fn(usize, &T) -> Option<usize>,
    ) -> Result<(), ParquetError> {
        let encode = |source| ParquetError::Encode {
            path: path.to_path_buf(),
            source,
        };
        let schema = parse_message_type(&message_type(table, columns)).map_err(encode)?;
        let props = WriterProperties::builder()
            .set_compression(Compression::ZSTD(ZstdLevel::default()))
            .set_key_value_metadata(Some(vec![
                KeyValue::new("phonehome.schema".to_string(), SCHEMA.to_string()),
                KeyValue::new("phonehome.table".to_string(), table.to_string()),
            ]))
            .build();
        let file = File::create(partial).map_err(|source| ParquetError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let mut writer =
            SerializedFileWriter::new(file, Arc::new(schema), Arc::new(props)).map_err(encode)?;
        for (report_index, &report) in self.reports.iter().enumerate() {
            let items = items_of(report);
            for (capture, indices) in by_capture(report, items, input_of) {
                for chunk in indices.chunks(self.per_group.max(1)) {
                    let rows = Rows {
                        report_index,
                        report,
                        capture,
                        items,
                        rows: chunk,
                    };
                    let mut group = writer.next_row_group().map_err(encode)?;
                    for column in columns {
                        for part in 0..column.leaves() {
                            let schema_error = || ParquetError::Schema {
                                path: path.to_path_buf(),
                                column: column.name,
                            };
                            let mut leaf = group
                                .next_column()
                                .map_err(encode)?
                                .ok_or_else(schema_error)?;
                            write_leaf(leaf.untyped(), column, part, &rows).map_err(
                                |e| match e {
                                    LeafError::Parquet(source) => encode(source),
                                    LeafError::Missing => ParquetError::MissingValue {
                                        path: path.to_path_buf(),
                                        column: column.name,
                                        report: report_index,
                                    },
                                    LeafError::Type => schema_error(),
                                },
                            )?;
                            leaf.close().map_err(encode)?;
                        }
                    }
                    group.close().map_err(encode)?;
                }
            }
        }
        writer.close().map_err(encode)?;
        Ok(())
    }
}

/// Splits a report's records by capture, in capture order, keeping record order within each;
/// records of no single capture come last. Captures without records are left out.
fn by_capture<'a, T>(
    report: &'a Report,
    items: &[T],
    input_of: impl Fn(usize, &T) -> Option<usize>,
) -> Vec<(Option<&'a Input>, Vec<usize>)> {
    let captures = report.inputs.len();
    // One bucket per capture, and a last one for records of none.
    let mut buckets: Vec<Vec<usize>> = vec![Vec::new(); captures.saturating_add(1)];
    for (i, item) in items.iter().enumerate() {
        let slot = match input_of(i, item) {
            Some(k) if k < captures => k,
            // With one capture, whatever is not another capture's is this one's.
            None if captures == 1 => 0,
            _ => captures,
        };
        if let Some(bucket) = buckets.get_mut(slot) {
            bucket.push(i);
        }
    }
    buckets
        .into_iter()
        .enumerate()
        .filter(|(_, rows)| !rows.is_empty())
        .map(|(k, rows)| (report.inputs.get(k), rows))
        .collect()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use ::parquet::file::reader::{FileReader, SerializedFileReader};
    use ::parquet::record::{Field, Row};

    use super::*;
    use crate::{
        Destination, Dns, DnsAnswer, Finding, Flow, Http, Run, Stats, TcpStats, Tls, Verdict,
    };

    const SHA_A0: &str = "aa00";
    const SHA_A1: &str = "aa11";
    const SHA_B0: &str = "bb00";

    fn input(path: &str, sha256: &str) -> Input {
        Input {
            path: path.into(),
            sha256: sha256.into(),
            packets: 10,
            bytes: 1000,
            first_ts: Some("2024-05-01T12:00:00.000001Z".into()),
            last_ts: Some("2024-05-01T12:00:09.000000Z".into()),
            warnings: vec!["frame 3: truncated".into()],
        }
    }

    fn flow(id: u64, input: usize, bytes_up: u64) -> Flow {
        Flow {
            id,
            proto: "tcp".into(),
            client: "192.0.2.1:40000".into(),
            server: "[2001:db8::443]:443".into(),
            first_ts: "2024-05-01T12:00:01.500000Z".into(),
            last_ts: "2024-05-01T12:00:02.000000Z".into(),
            input,
            first_frame: id * 10,
            packets_up: 3,
            packets_down: 2,
            bytes_up,
            bytes_down: 7,
            name_source: "sni".into(),
            attribution_source: "domain",
            scope: "global",
            ..Flow::default()
        }
    }

    fn finding(input: Option<usize>, data_type: &'static str) -> Finding {
        Finding {
            kind: "personal_data".into(),
            flow: Some(1),
            message: "imei left".into(),
            data_type: Some(data_type),
            encoding: vec!["sha1".into(), "hex".into()],
            layers: vec!["tls".into(), "http1".into()],
            count: 2,
            input,
            frames: vec![11, 12],
            ts: Some("2024-05-01T12:00:01.600000Z".into()),
            ..Finding::default()
        }
    }

    /// Report A: two captures (a merged run); report B: one capture (one device).
    fn fleet() -> Vec<Report> {
        let mut tls_flow = flow(1, 0, 100);
        tls_flow.tls = Some(Tls {
            sni: Some("api.example.com".into()),
            alpn: vec!["h2".into(), "http/1.1".into()],
            cert_not_before: Some("2024-01-01T00:00:00Z".into()),
            ..Tls::default()
        });
        tls_flow.tcp = Some(TcpStats {
            gaps: 1,
            ..TcpStats::default()
        });
        tls_flow.asn = Some(64496);
        let dns = Dns {
            ts: "2024-05-01T12:00:00.500000Z".into(),
            flow: 3,
            input: 1,
            frame: 1,
            response: true,
            id: 0xbeef,
            query: Some("api.example.com".into()),
            questions: vec!["api.example.com".into()],
            qtype: Some("AAAA".into()),
            rcode: Some("NOERROR".into()),
            answers: vec![
                DnsAnswer {
                    name: "api.example.com".into(),
                    rrtype: "CNAME".into(),
                    ttl: 60,
                    data: "edge.example.net".into(),
                },
                DnsAnswer {
                    name: "edge.example.net".into(),
                    rrtype: "AAAA".into(),
                    ttl: 30,
                    data: "2001:db8::443".into(),
                },
            ],
            transport: Some("doh"),
        };
        let http = Http {
            ts: "2024-05-01T12:00:01.700000Z".into(),
            flow: 1,
            input: 0,
            frame: 12,
            kind: "request",
            method: Some("POST".into()),
            host: Some("api.example.com".into()),
            uri: Some("/v1/track".into()),
            status: None,
            user_agent: None,
            content_type: Some("application/json".into()),
            body_len: 321,
            encodings: vec!["gzip".into()],
            transport: "h2",
            decrypted: true,
            body: None,
            body_encoding: None,
        };
        let destination = |name: &str| Destination {
            name: name.into(),
            ips: vec!["2001:db8::443".into()],
            flows: 1,
            bytes_up: 100,
            protocols: vec!["tls".into()],
            first_ts: "2024-05-01T12:00:01.500000Z".into(),
            attribution_source: "domain",
            scope: "global",
            ..Destination::default()
        };
        let policy = Finding {
            kind: "policy".into(),
            flow: None,
            message: "imei sent abroad".into(),
            rule: Some("no-imei".into()),
            severity: Some("high"),
            triggers: vec![0],
            trigger_flows: vec![1],
            ..Finding::default()
        };
        let report = |inputs, flows, dns, http, destinations, findings| Report {
            schema: crate::SCHEMA,
            run: Run {
                version: "0.1.0".into(),
                start_time: "2024-06-01T00:00:00.000000Z".into(),
                ..Run::default()
            },
            inputs,
            flows,
            dns,
            http,
            destinations,
            findings,
            blind_spots: Vec::new(),
            stats: Stats::default(),
            keylogs: Vec::new(),
            verdict: Verdict {
                status: "fail",
                violations: 1,
                ..Verdict::default()
            },
        };
        vec![
            report(
                vec![input("a/0.pcap", SHA_A0), input("a/1.pcapng", SHA_A1)],
                vec![tls_flow, flow(2, 0, 50), flow(3, 1, 25)],
                vec![dns],
                vec![http],
                vec![
                    destination("api.example.com"),
                    destination("cdn.example.net"),
                ],
                vec![finding(Some(0), "imei"), policy.clone()],
            ),
            report(
                vec![input("b/0.pcap", SHA_B0)],
                vec![flow(1, 0, 1000)],
                Vec::new(),
                Vec::new(),
                vec![destination("api.example.com")],
                vec![finding(Some(0), "imei"), finding(Some(0), "phone"), policy],
            ),
        ]
    }

    /// A table read back: its key-value metadata, rows per row group, and the rows.
    struct Table {
        metadata: BTreeMap<String, String>,
        groups: Vec<Vec<Row>>,
    }

    impl Table {
        fn rows(&self) -> impl Iterator<Item = &Row> {
            self.groups.iter().flatten()
        }

        fn column(&self, name: &str) -> Vec<Field> {
            self.rows().map(|r| get(r, name)).collect()
        }
    }

    fn read(dir: &Path, table: &str) -> Table {
        let file = File::open(dir.join(format!("{table}.parquet"))).unwrap();
        let reader = SerializedFileReader::new(file).unwrap();
        let metadata = reader
            .metadata()
            .file_metadata()
            .key_value_metadata()
            .into_iter()
            .flatten()
            .map(|kv| (kv.key.clone(), kv.value.clone().unwrap_or_default()))
            .collect();
        let groups = (0..reader.num_row_groups())
            .map(|g| {
                let group = reader.get_row_group(g).unwrap();
                group
                    .get_row_iter(None)
                    .unwrap()
                    .map(Result::unwrap)
                    .collect()
            })
            .collect();
        Table { metadata, groups }
    }

    fn get(row: &Row, name: &str) -> Field {
        row.get_column_iter()
            .find(|(n, _)| *n == name)
            .map(|(_, f)| f.clone())
            .unwrap_or_else(|| panic!("no column {name}"))
    }

    fn text(s: &str) -> Field {
        Field::Str(s.into())
    }

    fn list(field: &Field) -> Vec<Field> {
        match field {
            Field::ListInternal(l) => l.elements().to_vec(),
            other => panic!("not a list: {other:?}"),
        }
    }

    /// The `capture_sha256` of each row group, checking that it is the same on every row.
    fn group_captures(table: &Table) -> Vec<Field> {
        table
            .groups
            .iter()
            .map(|rows| {
                let first = get(&rows[0], "capture_sha256");
                assert!(rows.iter().all(|r| get(r, "capture_sha256") == first));
                first
            })
            .collect()
    }

    fn write_fleet(per_group: usize) -> (tempfile::TempDir, Vec<Report>) {
        let dir = tempfile::tempdir().unwrap();
        let reports = fleet();
        let refs: Vec<&Report> = reports.iter().collect();
        write_with(&refs, dir.path(), per_group).unwrap();
        (dir, reports)
    }

    #[test]
    fn one_row_group_per_capture_and_every_row_names_its_capture() {
        let (dir, _) = write_fleet(ROWS_PER_GROUP);
        let sha = |s: &str| text(s);
        let flows = read(dir.path(), "flows");
        assert_eq!(
            group_captures(&flows),
            [sha(SHA_A0), sha(SHA_A1), sha(SHA_B0)]
        );
        let sizes: Vec<usize> = flows.groups.iter().map(Vec::len).collect();
        assert_eq!(sizes, [2, 1, 1]);
        assert_eq!(
            flows.column("report"),
            [Field::Int(0), Field::Int(0), Field::Int(0), Field::Int(1)]
        );
        assert_eq!(get(&flows.groups[2][0], "capture_path"), text("b/0.pcap"));

        let inputs = read(dir.path(), "inputs");
        assert_eq!(
            group_captures(&inputs),
            [sha(SHA_A0), sha(SHA_A1), sha(SHA_B0)]
        );
        assert_eq!(
            inputs.column("input"),
            [Field::Int(0), Field::Int(1), Field::Int(0)]
        );
        assert_eq!(inputs.column("verdict")[2], text("fail"));

        // A merged report's destinations belong to no single capture; a one-capture report's do.
        let destinations = read(dir.path(), "destinations");
        assert_eq!(group_captures(&destinations), [Field::Null, sha(SHA_B0)]);
        assert_eq!(destinations.rows().count(), 3);

        // Report A: its capture-0 finding, then its policy finding apart; report B: all three
        // findings are its one capture's.
        let findings = read(dir.path(), "findings");
        assert_eq!(
            group_captures(&findings),
            [sha(SHA_A0), Field::Null, sha(SHA_B0)]
        );
        assert_eq!(
            findings.column("finding_index"),
            [0, 1, 0, 1, 2].map(Field::Long)
        );
        assert_eq!(findings.column("input")[1], Field::Null);

        assert_eq!(group_captures(&read(dir.path(), "dns")), [sha(SHA_A1)]);
        assert_eq!(group_captures(&read(dir.path(), "http")), [sha(SHA_A0)]);

        for table in TABLES {
            let t = read(dir.path(), table);
            assert_eq!(t.metadata["phonehome.schema"], SCHEMA);
            assert_eq!(t.metadata["phonehome.table"], table);
            assert!(!dir
                .path()
                .join(format!(".{table}.parquet.partial"))
                .exists());
        }
    }

    #[test]
    fn values_round_trip() {
        let (dir, _) = write_fleet(ROWS_PER_GROUP);
        let flows = read(dir.path(), "flows");
        let tls = &flows.groups[0][0];
        assert_eq!(get(tls, "flow_id"), Field::Long(1));
        assert_eq!(get(tls, "bytes_up"), Field::Long(100));
        assert_eq!(get(tls, "client_ip"), text("192.0.2.1"));
        assert_eq!(get(tls, "client_port"), Field::Int(40000));
        assert_eq!(get(tls, "server_ip"), text("2001:db8::443"));
        assert_eq!(get(tls, "server_port"), Field::Int(443));
        // 2024-05-01T12:00:01.5Z
        assert_eq!(
            get(tls, "first_ts"),
            Field::TimestampMicros(1_714_564_801_500_000)
        );
        assert_eq!(get(tls, "tls_sni"), text("api.example.com"));
        assert_eq!(get(tls, "tls_ech"), Field::Bool(false));
        assert_eq!(list(&get(tls, "tls_alpn")), [text("h2"), text("http/1.1")]);
        assert_eq!(
            get(tls, "tls_cert_not_before"),
            Field::TimestampMicros(1_704_067_200_000_000)
        );
        assert!(list(&get(tls, "tls_cert_sans")).is_empty());
        assert_eq!(get(tls, "tcp_gaps"), Field::Long(1));
        assert_eq!(get(tls, "asn"), Field::Long(64496));
        assert!(list(&get(tls, "name_conflicts")).is_empty());
        // No TLS at all: null, not an empty list.
        let plain = &flows.groups[0][1];
        assert_eq!(get(plain, "tls_alpn"), Field::Null);
        assert_eq!(get(plain, "tls_ech"), Field::Null);
        assert_eq!(get(plain, "tcp_gaps"), Field::Null);
        let bytes_up: i64 = flows
            .column("bytes_up")
            .iter()
            .map(|f| match f {
                Field::Long(v) => *v,
                other => panic!("{other:?}"),
            })
            .sum();
        assert_eq!(bytes_up, 100 + 50 + 25 + 1000);

        let dns = read(dir.path(), "dns");
        let message = &dns.groups[0][0];
        assert_eq!(get(message, "dns_id"), Field::Int(0xbeef));
        assert_eq!(get(message, "flow_id"), Field::Long(3));
        let answers = list(&get(message, "answers"));
        assert_eq!(answers.len(), 2);
        let Field::Group(second) = &answers[1] else {
            panic!("answer is not a struct: {:?}", answers[1]);
        };
        assert_eq!(get(second, "rrtype"), text("AAAA"));
        assert_eq!(get(second, "ttl"), Field::Long(30));
        assert_eq!(get(second, "data"), text("2001:db8::443"));

        let http = read(dir.path(), "http");
        let request = &http.groups[0][0];
        assert_eq!(get(request, "status"), Field::Null);
        assert_eq!(get(request, "body_len"), Field::Long(321));
        assert_eq!(list(&get(request, "encodings")), [text("gzip")]);
        assert_eq!(get(request, "transport"), text("h2"));

        let findings = read(dir.path(), "findings");
        let imei = &findings.groups[0][0];
        assert_eq!(
            list(&get(imei, "frames")),
            [Field::Long(11), Field::Long(12)]
        );
        assert_eq!(list(&get(imei, "layers")), [text("tls"), text("http1")]);
        assert_eq!(get(imei, "data_type"), text("imei"));
        let policy = &findings.groups[1][0];
        assert_eq!(get(policy, "flow_id"), Field::Null);
        assert_eq!(get(policy, "severity"), text("high"));
        assert_eq!(list(&get(policy, "triggers")), [Field::Long(0)]);
        assert!(list(&get(policy, "frames")).is_empty());

        let inputs = read(dir.path(), "inputs");
        let first = &inputs.groups[0][0];
        assert_eq!(get(first, "packets"), Field::Long(10));
        assert_eq!(get(first, "capture_path"), text("a/0.pcap"));
        assert_eq!(list(&get(first, "warnings")), [text("frame 3: truncated")]);
        assert_eq!(
            get(first, "run_start_time"),
            Field::TimestampMicros(1_717_200_000_000_000)
        );
    }

    #[test]
    fn a_capture_past_the_cap_continues_in_more_row_groups() {
        let (dir, _) = write_fleet(1);
        let flows = read(dir.path(), "flows");
        assert_eq!(flows.groups.len(), 4);
        assert_eq!(
            group_captures(&flows),
            [text(SHA_A0), text(SHA_A0), text(SHA_A1), text(SHA_B0)]
        );
    }

    #[test]
    fn no_reports_still_writes_every_table_with_its_schema() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("new/sub");
        write_parquet(&[], &out).unwrap();
        for table in TABLES {
            let file = File::open(out.join(format!("{table}.parquet"))).unwrap();
            let reader = SerializedFileReader::new(file).unwrap();
            assert_eq!(reader.num_row_groups(), 0);
            let schema = reader.metadata().file_metadata().schema_descr();
            assert_eq!(schema.column(0).name(), "report");
        }
    }

    #[test]
    fn a_bad_timestamp_is_null_and_a_huge_counter_saturates() {
        let mut reports = fleet();
        reports[1].flows[0].first_ts = "invalid-time".into();
        reports[1].flows[0].bytes_up = u64::MAX;
        let dir = tempfile::tempdir().unwrap();
        write_parquet(&[&reports[1]], dir.path()).unwrap();
        let flows = read(dir.path(), "flows");
        assert_eq!(get(&flows.groups[0][0], "first_ts"), Field::Null);
        assert_eq!(get(&flows.groups[0][0], "bytes_up"), Field::Long(i64::MAX));
        assert_eq!(get(&flows.groups[0][0], "report"), Field::Int(0));
    }

    #[test]
    fn rows_of_an_input_the_report_does_not_list_have_no_capture() {
        let report = crate::tests_support::tiny_report();
        let dir = tempfile::tempdir().unwrap();
        write_parquet(&[&report], dir.path()).unwrap();
        let flows = read(dir.path(), "flows");
        assert_eq!(group_captures(&flows), [Field::Null]);
        assert_eq!(read(dir.path(), "dns").rows().count(), 1);
    }

    #[test]
    fn an_unwritable_directory_is_an_io_error() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("plain-file");
        fs::write(&file, b"x").unwrap();
        let err = write_parquet(&[], &file).unwrap_err();
        assert!(matches!(err, ParquetError::Io { .. }), "{err:?}");
    }

    #[test]
    fn timestamps_parse_to_utc_micros() {
        assert_eq!(
            column::micros("2024-01-01T00:00:01.000000Z"),
            Some(1_704_067_201_000_000)
        );
        assert_eq!(
            column::micros("2024-01-01T01:00:01+01:00"),
            Some(1_704_067_201_000_000)
        );
        assert_eq!(column::micros("1969-12-31T23:59:59.999999Z"), Some(-1));
        assert_eq!(column::micros("invalid-time"), None);
        assert_eq!(column::micros(""), None);
    }

    /// docs/parquet.md lists, under a `## <table>.parquet` heading, one `| `name` | TYPE |
    /// yes/no | meaning |` line per column, in file order.
    #[test]
    fn docs_list_every_column_with_its_type_and_nullability() {
        let doc = include_str!("../../../../docs/parquet.md");
        let mut documented: BTreeMap<String, Vec<(String, String, String)>> = BTreeMap::new();
        let mut table = None;
        for line in doc.lines() {
            if let Some(heading) = line.strip_prefix("## ") {
                table = heading
                    .trim()
                    .trim_matches('`')
                    .strip_suffix(".parquet")
                    .map(str::to_string);
                continue;
            }
            let (Some(table), Some(row)) = (&table, line.strip_prefix("| `")) else {
                continue;
            };
            let cells: Vec<&str> = row.split('|').map(str::trim).collect();
            documented.entry(table.clone()).or_default().push((
                cells[0].trim_end_matches('`').to_string(),
                cells[1].trim_matches('`').to_string(),
                cells[2].to_string(),
            ));
        }
        fn described<T>(columns: &[Column<T>]) -> Vec<(String, String, String)> {
            columns
                .iter()
                .map(|c| {
                    let null = if c.nullable { "yes" } else { "no" };
                    (c.name.into(), c.doc_type().into(), null.into())
                })
                .collect()
        }
        let code = [
            ("inputs", described(&tables::inputs())),
            ("flows", described(&tables::flows())),
            ("destinations", described(&tables::destinations())),
            ("dns", described(&tables::dns())),
            ("http", described(&tables::http())),
            ("findings", described(&tables::findings())),
        ];
        assert_eq!(documented.len(), code.len(), "{:?}", documented.keys());
        for (table, columns) in code {
            assert_eq!(
                documented.get(table),
                Some(&columns),
                "docs of {table}.parquet"
            );
        }
    }

    /// Writes the fleet fixture and its JSON reports to `target/parquet-fixture/` for
    /// `scripts/parquet_check.py --dir target/parquet-fixture --json
    /// target/parquet-fixture/report-*.json`.
    #[test]
    #[ignore = "writes into the target directory; run by hand before the Python check"]
    fn write_fixture_for_the_python_check() {
        let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(
            || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"),
            PathBuf::from,
        );
        let dir = target.join("parquet-fixture");
        let reports = fleet();
        let refs: Vec<&Report> = reports.iter().collect();
        write_parquet(&refs, &dir).unwrap();
        for (i, report) in reports.iter().enumerate() {
            let file = File::create(dir.join(format!("report-{i}.json"))).unwrap();
            serde_json::to_writer_pretty(file, report).unwrap();
        }
        eprintln!("wrote {}", dir.display());
    }
}

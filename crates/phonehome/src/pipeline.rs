//! The pipeline driver: reads every input, runs each stage, builds the report.

use std::time::Instant;

use phonehome_capture::{Reader, Timestamp};
use phonehome_report as report;

/// Settings of one audit run.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Worker threads; 0 means all cores.
    pub threads: usize,
}

/// An audit that could not produce a report.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error("nothing could be read: {0}")]
    NothingRead(String),
}

/// Audits the given captures (`-` is standard input) and returns the report.
pub fn audit(paths: &[String], _options: &Options) -> Result<report::Report, AuditError> {
    let started = Instant::now();
    let start_time = report::rfc3339(now());
    let mut inputs = Vec::new();
    let mut errors = Vec::new();
    for path in paths {
        let mut reader = match Reader::open(path) {
            Ok(r) => r,
            Err(e) => {
                errors.push(e.to_string());
                continue;
            }
        };
        let mut packets = 0u64;
        let mut bytes = 0u64;
        let mut first = None;
        let mut last = None;
        let mut warnings = Vec::new();
        loop {
            match reader.next_packet() {
                Ok(Some(p)) => {
                    packets += 1;
                    bytes += p.data.len() as u64;
                    first.get_or_insert(p.ts);
                    last = Some(p.ts);
                }
                Ok(None) => break,
                Err(e) => {
                    warnings.push(e.to_string());
                    break;
                }
            }
        }
        warnings.extend(reader.take_warnings().iter().map(ToString::to_string));
        inputs.push(report::Input {
            path: path.clone(),
            sha256: String::new(),
            packets,
            bytes,
            first_ts: first.map(report::rfc3339),
            last_ts: last.map(report::rfc3339),
            warnings,
        });
    }
    if inputs.is_empty() {
        return Err(AuditError::NothingRead(errors.join("; ")));
    }
    Ok(report::Report {
        schema: report::SCHEMA,
        run: report::Run {
            version: env!("CARGO_PKG_VERSION").to_string(),
            start_time,
            duration_ms: started.elapsed().as_millis() as u64,
        },
        inputs,
        flows: Vec::new(),
        dns: Vec::new(),
        http: Vec::new(),
        destinations: Vec::new(),
        findings: Vec::new(),
    })
}

fn now() -> Timestamp {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    Timestamp::from_nanos(d.as_nanos() as i64)
}

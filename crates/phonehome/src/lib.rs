//! phonehome: what does this device send, to whom, and where does it land?
//!
//! This crate is the library facade and the pipeline driver. It re-exports each stage
//! (capture -> wire -> flow -> app -> enrich -> report) and wires them together in [`audit`].
//!
//! # Contract
//! Captures are untrusted input. Nothing in the pipeline panics on them; every damaged frame
//! or stream becomes a counter in [`report::Stats`] or a warning on its input naming the frame.
//! Memory is bounded by the caps in [`Options`] and the stages' own limits, whatever the size
//! of the capture; the report lists what was cut.

#![forbid(unsafe_code)]

pub use phonehome_app as app;
pub use phonehome_capture as capture;
pub use phonehome_detect as detect;
pub use phonehome_enrich as enrich;
pub use phonehome_flow as flow;
pub use phonehome_report as report;
pub use phonehome_wire as wire;

mod assemble;
mod dissect;
pub mod evidence;
mod mask;
mod pipeline;
mod records;
mod shard;
pub mod verdict;

pub use pipeline::{
    audit, audit_with_progress, sha256_hex, AuditError, Detection, Options, Progress,
};

/// Entry points for the fuzz targets (`fuzz/`), not part of the API.
#[doc(hidden)]
pub mod fuzzing {
    use crate::{report, AuditError, Options};

    /// The report of one capture held in memory, audited with `options` (threads included).
    pub fn audit_report(data: &[u8], options: &Options) -> Result<report::Report, AuditError> {
        let open = |name: &str| {
            crate::capture::Reader::from_read(name, std::io::Cursor::new(data.to_vec()))
        };
        let paths = ["fuzz.pcap".to_string()];
        crate::pipeline::audit_opened(&paths, options, &mut |_| {}, &open)
    }

    /// The whole audit on one capture held in memory (every stage from the reader to the
    /// report writers), with `options` (threads included). Must never panic.
    pub fn audit_bytes(data: &[u8], options: &Options) {
        let Ok(report) = audit_report(data, options) else {
            return;
        };
        let mut sink = std::io::sink();
        let _ = report::write_json(&report, &mut sink);
        let _ = report::write_ndjson(&report, &mut sink);
        let _ = report::write_summary(&report, &mut sink);
        let _ = report::markdown::write_markdown(&report, &mut sink);
        let _ = report::html::write_html(&report, &mut sink);
    }
}

/// The device under test, when a capture holds several (`--device`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Device {
    Ip(std::net::IpAddr),
    Mac([u8; 6]),
}

impl Device {
    /// Whether a decoded frame was sent or received by the device.
    pub fn matches(&self, frame: &wire::Frame<'_>) -> bool {
        match self {
            Self::Ip(addr) => match &frame.network {
                wire::Network::Ip(ip) => ip.src == *addr || ip.dst == *addr,
                wire::Network::Other { .. } => false,
            },
            Self::Mac(mac) => frame.src_mac == Some(*mac) || frame.dst_mac == Some(*mac),
        }
    }
}

impl std::str::FromStr for Device {
    type Err = String;

    /// An IPv4 or IPv6 address, or a MAC address written with `:` or `-`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if let Ok(ip) = s.parse() {
            return Ok(Self::Ip(ip));
        }
        let parts: Vec<&str> = s.split([':', '-']).collect();
        if parts.len() == 6 {
            let mut mac = [0u8; 6];
            for (byte, part) in mac.iter_mut().zip(&parts) {
                *byte = u8::from_str_radix(part, 16)
                    .map_err(|_| format!("{s:?} is neither an IP nor a MAC address"))?;
            }
            return Ok(Self::Mac(mac));
        }
        Err(format!("{s:?} is neither an IP nor a MAC address"))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    /// The project's capture of TLS through a proxy tunnel: a small real capture.
    const CAPTURE: &[u8] = include_bytes!("../../../tests/e2e/data/curl-proxy-tls.pcap");

    fn options(threads: usize) -> Options {
        Options {
            patterns: Some(Arc::new(detect::patterns::Detectors::new())),
            threads,
            ..Options::default()
        }
    }

    #[test]
    fn the_whole_audit_survives_cut_and_damaged_captures() {
        for threads in [1, 3] {
            let options = options(threads);
            fuzzing::audit_bytes(CAPTURE, &options);
            for cut in (0..CAPTURE.len()).step_by(251) {
                fuzzing::audit_bytes(&CAPTURE[..cut], &options);
            }
            // Bytes flipped one at a time all over the file: headers, lengths, payloads.
            for at in (24..CAPTURE.len()).step_by(97) {
                let mut bad = CAPTURE.to_vec();
                bad[at] ^= 0xa5;
                fuzzing::audit_bytes(&bad, &options);
            }
        }
    }

    #[test]
    fn an_in_memory_audit_reports_like_a_file_audit() {
        let report = fuzzing::audit_report(CAPTURE, &options(1)).unwrap();
        assert_eq!(report.flows.len(), 3);
        assert!(report
            .flows
            .iter()
            .all(|f| f.server_name.as_deref() == Some("upload.phonehome.test")));
        assert_eq!(report.inputs[0].packets, 56);
    }
}

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

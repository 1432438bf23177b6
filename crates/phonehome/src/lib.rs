//! phonehome: what does this device send, to whom, and where does it land?
//!
//! This crate is the library facade and the pipeline driver. It re-exports each stage
//! (capture -> wire -> flow -> app -> enrich -> report) and wires them together in [`audit`].

#![forbid(unsafe_code)]

pub use phonehome_app as app;
pub use phonehome_capture as capture;
pub use phonehome_enrich as enrich;
pub use phonehome_flow as flow;
pub use phonehome_report as report;
pub use phonehome_wire as wire;

mod pipeline;

pub use pipeline::{audit, AuditError, Options};

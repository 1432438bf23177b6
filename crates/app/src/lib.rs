//! Application-layer parsers (DNS, TLS, HTTP, QUIC): sans-IO, bytes in, events out.

pub mod dns;
pub mod http;
pub mod quic;
pub mod tls;

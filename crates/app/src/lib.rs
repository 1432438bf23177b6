//! Application-layer parsers (DNS, TLS, HTTP, QUIC): sans-IO, bytes in, events out.

pub mod dns;
pub mod http;
pub mod http2;
pub mod http3;
pub mod keylog;
pub mod quic;
pub mod tls;

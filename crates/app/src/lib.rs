//! Application-layer parsers (DNS, TLS, HTTP, QUIC): sans-IO, bytes in, events out.

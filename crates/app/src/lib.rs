//! Application-layer parsers (DNS, TLS, HTTP, QUIC): sans-IO, bytes in, events out.

pub mod dns;
pub mod http;
pub mod http2;
pub mod http3;
pub mod keylog;
pub mod quic;
pub mod tls;

/// What the unit tests of several modules share.
#[cfg(test)]
pub(crate) mod testing {
    /// A small deterministic byte generator, so mutation tests run in `cargo test` without a
    /// fuzzer.
    pub(crate) fn lcg(state: &mut u64) -> u8 {
        *state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (*state >> 33) as u8
    }
}

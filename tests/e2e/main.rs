//! End-to-end tests: run the `phonehome` binary on captures the tests write themselves.

// Helpers are shared between test modules of this one binary.
#![allow(unreachable_pub)]

mod util;
mod vectors;

mod attribution;
mod audit;
mod contacts;
mod decrypt;
mod detect;
mod formats;
mod quic;
mod reports;

#![no_main]

//! The whole audit on a capture held in memory: reader, link/IP decoding, flows, TCP
//! reassembly, every application parser and tunnel, the profile scanner with its decoding
//! layers, the pattern detectors, the assembly and every report writer. One thread, then
//! three (the sharded path), on alternate inputs.

use std::sync::{Arc, OnceLock};

static OPTIONS: OnceLock<[phonehome::Options; 2]> = OnceLock::new();

fn options() -> &'static [phonehome::Options; 2] {
    OPTIONS.get_or_init(|| {
        let text = include_str!("../../scripts/pii/profile.toml");
        let (profile, _) = phonehome_detect::profile::Profile::parse(text, "fuzz-profile.toml")
            .expect("the example profile parses");
        let detection = Arc::new(phonehome::Detection::new(&profile));
        let patterns = Arc::new(phonehome_detect::patterns::Detectors::new());
        let with = |threads| phonehome::Options {
            detection: Some(Arc::clone(&detection)),
            patterns: Some(Arc::clone(&patterns)),
            threads,
            ..phonehome::Options::default()
        };
        [with(1), with(3)]
    })
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let which = data.len() % 2;
    phonehome::fuzzing::audit_bytes(data, &options()[which]);
});

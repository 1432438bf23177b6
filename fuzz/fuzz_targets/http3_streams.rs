#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| phonehome_app::http3::fuzzing::split_invariance(data));

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| phonehome_app::http2::fuzzing::with_gaps(data));

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| phonehome_app::tls::decrypt::fuzzing::record_stream(data));

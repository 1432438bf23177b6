#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| phonehome_app::http::fuzzing::http_datagram(data));

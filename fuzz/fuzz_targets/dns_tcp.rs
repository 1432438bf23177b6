#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| phonehome_app::dns::fuzzing::dns_tcp(data));

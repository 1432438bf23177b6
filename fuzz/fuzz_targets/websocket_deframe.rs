#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| phonehome_detect::fuzzing::websocket_deframe(data));

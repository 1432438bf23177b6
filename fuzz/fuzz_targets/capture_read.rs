#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| phonehome_capture::fuzzing::read_all(data));

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| phonehome_detect::fuzzing::profile_parse(data));

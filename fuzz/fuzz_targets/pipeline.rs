#![no_main]

//! The front of the pipeline on a whole capture file: the reader, then every packet through
//! the link/IP/transport decoder with its invariants. (`phonehome::audit` takes file paths,
//! so it is not driven from memory here.)

use phonehome_capture::Reader;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Ok(mut reader) = Reader::from_read("fuzz", std::io::Cursor::new(data.to_vec())) else {
        return;
    };
    while let Ok(Some(p)) = reader.next_packet() {
        phonehome_wire::fuzzing::decode_all(p.link.0, p.data);
    }
});

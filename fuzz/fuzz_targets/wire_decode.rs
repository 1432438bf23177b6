#![no_main]

//! `data[0]` picks one of the link types phonehome decodes (so no run is wasted on an
//! unsupported one); the rest is the frame.

use phonehome_capture::LinkType;

const LINKS: [LinkType; 11] = [
    LinkType::NULL,
    LinkType::ETHERNET,
    LinkType::RAW,
    LinkType::LOOP,
    LinkType::LINUX_SLL,
    LinkType::IPV4,
    LinkType::IPV6,
    LinkType::NFLOG,
    LinkType::LINUX_SLL2,
    LinkType::RAW_BSD,
    LinkType::RAW_OPENBSD,
];

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Some((&pick, frame)) = data.split_first() {
        let link = LINKS[usize::from(pick) % LINKS.len()];
        phonehome_wire::fuzzing::decode_all(link.0, frame);
    }
});

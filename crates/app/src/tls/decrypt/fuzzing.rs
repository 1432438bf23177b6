//! Entry points for fuzz targets: each checks an invariant and panics only
//! when the invariant breaks.
//!
//! The decryptor is set up on the RFC 8448 "Simple 1-RTT Handshake" (its
//! hellos and logged secrets), so fuzzed records reach the AEAD, the
//! handshake reader and the resynchronisation paths, not only the framer.

use super::{Decryptor, Direction, Event};
use crate::keylog::KeyLog;

/// RFC 8448 section 3 values shared with the unit tests.
pub(crate) mod rfc8448 {
    pub(crate) const CLIENT_RANDOM: &str =
        "cb34ecb1e78163ba1c38c6dacb196a6dffa21a8d9912ec18a2ef6283024dece7";
    pub(crate) const CLIENT_HS_SECRET: &str =
        "b3eddb126e067f35a780b3abf45e2d8f3b1a950738f52e9600746a0e27a55a21";
    pub(crate) const SERVER_HS_SECRET: &str =
        "b67b7d690cc16c4e75e54213cb2d37b4e9c912bcded9105d42befd59d391ad38";
    pub(crate) const CLIENT_APP_SECRET: &str =
        "9e40646ce79a7f9dc05af8889bce6552875afa0b06df0087f792ebb7c17504a5";
    pub(crate) const SERVER_APP_SECRET: &str =
        "a11af9f05531f856ad47116b45a950328204b4f44bfb6b3a4b4f1f3fcb631643";
    /// {client} send handshake record: the ClientHello (196-octet message).
    pub(crate) const CLIENT_HELLO: &str = concat!(
        "16030100c4010000c00303cb34ecb1e78163ba1c38c6dacb196a6dffa21a8d9912ec18a2ef6283024dece700000613",
        "0113031302010000910000000b0009000006736572766572ff01000100000a00140012001d00170018001901000101",
        "01020103010400230000003300260024001d002099381de560e4bd43d23d8e435a7dbafeb3c06e51c13cae4d541369",
        "1e529aaf2c002b0003020304000d0020001e0403050306030203080408050806040105010601020104020502060202",
        "02002d00020101001c00024001",
    );
    /// {server} send handshake record: the ServerHello (95 octets).
    pub(crate) const SERVER_HELLO: &str = concat!(
        "160303005a020000560303a6af06a4121860dc5e6e60249cd34c95930c8ac5cb1434dac155772ed3e26928001301",
        "00002e00330024001d0020c9828876112095fe66762bdbf7c672e156d6cc253b833df1dd69b1b04e751f0f002b00020304",
    );
}

fn session() -> (Decryptor, KeyLog, Vec<Event>) {
    let text = format!(
        "CLIENT_HANDSHAKE_TRAFFIC_SECRET {cr} {}\nSERVER_HANDSHAKE_TRAFFIC_SECRET {cr} {}\n\
         CLIENT_TRAFFIC_SECRET_0 {cr} {}\nSERVER_TRAFFIC_SECRET_0 {cr} {}\n",
        rfc8448::CLIENT_HS_SECRET,
        rfc8448::SERVER_HS_SECRET,
        rfc8448::CLIENT_APP_SECRET,
        rfc8448::SERVER_APP_SECRET,
        cr = rfc8448::CLIENT_RANDOM,
    );
    let (keys, _) = KeyLog::parse(&text, "RFC 8448");
    let mut d = Decryptor::new();
    let mut out = Vec::new();
    let ch = hex::decode(rfc8448::CLIENT_HELLO).unwrap_or_default();
    let sh = hex::decode(rfc8448::SERVER_HELLO).unwrap_or_default();
    d.push(Direction::ClientToServer, &ch, &keys, &mut out);
    d.push(Direction::ServerToClient, &sh, &keys, &mut out);
    (d, keys, out)
}

fn run(data: &[u8], sizes: &[usize]) -> Vec<Event> {
    let (mut d, keys, mut out) = session();
    let mut rest = data;
    let mut dir = Direction::ServerToClient;
    for &n in sizes.iter().cycle() {
        if rest.is_empty() {
            break;
        }
        let (chunk, tail) = rest.split_at(n.min(rest.len()));
        d.push(dir, chunk, &keys, &mut out);
        rest = tail;
    }
    // The same bytes as client records too.
    dir = Direction::ClientToServer;
    d.push(dir, data, &keys, &mut out);
    d.finish(&mut out);
    out
}

/// Feeds `data` as the protected records of both directions of the RFC 8448
/// session, whole and in chunks whose sizes come from `data`: where the TCP
/// stream is split must not change the events.
pub fn record_stream(data: &[u8]) {
    let whole = run(data, &[data.len().max(1)]);
    let sizes: Vec<usize> = data
        .iter()
        .take(64)
        .map(|&b| usize::from(b % 29) + 1)
        .collect();
    let split = run(data, if sizes.is_empty() { &[1] } else { &sizes });
    assert_eq!(whole, split, "events depend on segmentation");
}

/// Feeds `data` with gaps of sizes drawn from `data` between chunks: must
/// not panic, and a direction's scan buffer stays bounded.
pub fn with_gaps(data: &[u8]) {
    let (mut d, keys, mut out) = session();
    let mut rest = data;
    let mut i = 0usize;
    while !rest.is_empty() {
        let n = usize::from(rest[0]).max(1).min(rest.len());
        let (chunk, tail) = rest.split_at(n);
        let dir = if i.is_multiple_of(3) {
            Direction::ClientToServer
        } else {
            Direction::ServerToClient
        };
        d.push(dir, chunk, &keys, &mut out);
        if chunk.len() > 1 && chunk[1] & 1 == 1 {
            d.gap(dir, u64::from(chunk[1]), &mut out);
        }
        rest = tail;
        i += 1;
        for side in &d.sides {
            assert!(
                side.scan.len() <= super::MAX_RECORD + 5 + 256,
                "scan buffer grew"
            );
            assert!(
                side.pending.len() <= super::MAX_PENDING,
                "pending buffer grew"
            );
        }
    }
    d.finish(&mut out);
}

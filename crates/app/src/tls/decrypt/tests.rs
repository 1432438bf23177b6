//! Decryptor tests: RFC 8448 and OpenSSL sessions (see `fixtures`).

use super::fixtures::{captures as cap, openssl as ossl, rfc8448 as r};
use super::*;

fn unhex(s: &str) -> Vec<u8> {
    hex::decode(s).expect("fixture is hex")
}

/// How the two streams are interleaved when fed.
#[derive(Debug, Clone, Copy)]
enum Order {
    ClientFirst,
    ServerFirst,
    /// Alternating chunks of this many bytes.
    Chunks(usize),
}

struct Run {
    events: Vec<Event>,
    d: Decryptor,
}

impl Run {
    fn plain(&self, dir: Direction) -> Vec<u8> {
        let mut v = Vec::new();
        for e in &self.events {
            if let Event::Data(x) = e {
                if x.direction == dir {
                    v.extend_from_slice(&x.bytes);
                }
            }
        }
        v
    }
}

fn run(c2s: &[u8], s2c: &[u8], keys: &str, order: Order) -> Run {
    let (keys, w) = KeyLog::parse(keys, "fixture");
    assert!(w.is_empty(), "{w:?}");
    let mut d = Decryptor::new();
    let mut events = Vec::new();
    let c = Direction::ClientToServer;
    let s = Direction::ServerToClient;
    match order {
        Order::ClientFirst => {
            d.push(c, c2s, &keys, &mut events);
            d.push(s, s2c, &keys, &mut events);
        }
        Order::ServerFirst => {
            d.push(s, s2c, &keys, &mut events);
            d.push(c, c2s, &keys, &mut events);
        }
        Order::Chunks(n) => {
            let mut a = c2s.chunks(n);
            let mut b = s2c.chunks(n);
            loop {
                let (x, y) = (a.next(), b.next());
                if x.is_none() && y.is_none() {
                    break;
                }
                if let Some(x) = x {
                    d.push(c, x, &keys, &mut events);
                }
                if let Some(y) = y {
                    d.push(s, y, &keys, &mut events);
                }
            }
        }
    }
    d.finish(&mut events);
    Run { events, d }
}

const REQUEST: &[u8] = b"GET /hello.txt HTTP/1.0\r\n\r\n";

#[test]
fn openssl_sessions_every_suite_family() {
    let cases = [
        (
            "chacha12",
            ossl::T12_CHACHA_C2S,
            ossl::T12_CHACHA_S2C,
            ossl::T12_CHACHA_KEYS,
            0x0303,
            0xcca9,
        ),
        (
            "aes128gcm12",
            ossl::T12_AES128GCM_C2S,
            ossl::T12_AES128GCM_S2C,
            ossl::T12_AES128GCM_KEYS,
            0x0303,
            0xc02b,
        ),
        (
            "aes256gcm12",
            ossl::T12_AES256GCM_C2S,
            ossl::T12_AES256GCM_S2C,
            ossl::T12_AES256GCM_KEYS,
            0x0303,
            0xc02c,
        ),
        (
            "cbc-sha1-etm",
            ossl::T12_CBC_SHA1_ETM_C2S,
            ossl::T12_CBC_SHA1_ETM_S2C,
            ossl::T12_CBC_SHA1_ETM_KEYS,
            0x0303,
            0xc009,
        ),
        (
            "cbc-sha1",
            ossl::T12_CBC_SHA1_C2S,
            ossl::T12_CBC_SHA1_S2C,
            ossl::T12_CBC_SHA1_KEYS,
            0x0303,
            0xc00a,
        ),
        (
            "cbc-sha256",
            ossl::T12_CBC_SHA256_C2S,
            ossl::T12_CBC_SHA256_S2C,
            ossl::T12_CBC_SHA256_KEYS,
            0x0303,
            0xc023,
        ),
        (
            "cbc-sha384-etm",
            ossl::T12_CBC_SHA384_ETM_C2S,
            ossl::T12_CBC_SHA384_ETM_S2C,
            ossl::T12_CBC_SHA384_ETM_KEYS,
            0x0303,
            0xc024,
        ),
        (
            "chacha13",
            ossl::T13_CHACHA_C2S,
            ossl::T13_CHACHA_S2C,
            ossl::T13_CHACHA_KEYS,
            0x0304,
            0x1303,
        ),
        (
            "hrr13",
            ossl::T13_HRR_KEYUPDATE_C2S,
            ossl::T13_HRR_KEYUPDATE_S2C,
            ossl::T13_HRR_KEYUPDATE_KEYS,
            0x0304,
            0x1301,
        ),
    ];
    for (name, c2s, s2c, keys, version, suite) in cases {
        let (c2s, s2c) = (unhex(c2s), unhex(s2c));
        for order in [
            Order::ClientFirst,
            Order::ServerFirst,
            Order::Chunks(1),
            Order::Chunks(7),
            Order::Chunks(300),
        ] {
            let r = run(&c2s, &s2c, keys, order);
            let st = r.d.stats();
            assert_eq!(r.d.negotiated(), Some((version, suite)), "{name} {order:?}");
            assert_eq!(
                r.plain(Direction::ClientToServer),
                REQUEST,
                "{name} {order:?} {:?}",
                r.events
            );
            let response = r.plain(Direction::ServerToClient);
            assert!(
                response.starts_with(b"HTTP/1.0 200 ok\r\n"),
                "{name} {order:?}"
            );
            assert!(
                response.ends_with(b"hello from the server"),
                "{name} {order:?}"
            );
            assert_eq!(st.auth_failures, 0, "{name} {order:?}");
            assert_eq!(
                r.d.status(),
                Status {
                    decrypted: true,
                    reason: None
                },
                "{name} {order:?}"
            );
            // Both sides close with close_notify inside encryption.
            let alerts = r
                .events
                .iter()
                .filter(|e| matches!(e, Event::Alert { description: 0, .. }))
                .count();
            assert!(alerts >= 1, "{name} {order:?}");
            if version == 0x0304 {
                let chains: Vec<_> = r
                    .events
                    .iter()
                    .filter_map(|e| match e {
                        Event::Certificates {
                            direction: Direction::ServerToClient,
                            chain,
                        } => Some(chain),
                        _ => None,
                    })
                    .collect();
                let [chain] = &chains[..] else {
                    panic!("{name} {chains:?}")
                };
                assert_eq!(chain[0].subject, "O=phonehome test, CN=test.example");
                assert_eq!(chain[0].sans, vec!["test.example".to_owned()]);
            }
        }
    }
}

#[test]
fn hello_retry_and_key_update() {
    let r = run(
        &unhex(ossl::T13_HRR_KEYUPDATE_C2S),
        &unhex(ossl::T13_HRR_KEYUPDATE_S2C),
        ossl::T13_HRR_KEYUPDATE_KEYS,
        Order::Chunks(50),
    );
    let updates: Vec<_> = r
        .events
        .iter()
        .filter(|e| matches!(e, Event::KeyUpdate { .. }))
        .collect();
    assert_eq!(
        updates,
        [
            &Event::KeyUpdate {
                direction: Direction::ClientToServer,
                update_requested: true
            },
            &Event::KeyUpdate {
                direction: Direction::ServerToClient,
                update_requested: false
            },
        ]
    );
    assert!(r.d.hello_retry);
}

fn rfc8448_keys() -> String {
    format!(
        "CLIENT_HANDSHAKE_TRAFFIC_SECRET {cr} {}\nSERVER_HANDSHAKE_TRAFFIC_SECRET {cr} {}\n\
         CLIENT_TRAFFIC_SECRET_0 {cr} {}\nSERVER_TRAFFIC_SECRET_0 {cr} {}\n",
        r::CLIENT_HS_SECRET,
        r::SERVER_HS_SECRET,
        r::CLIENT_APP_SECRET,
        r::SERVER_APP_SECRET,
        cr = r::CLIENT_RANDOM,
    )
}

fn rfc8448_streams() -> (Vec<u8>, Vec<u8>) {
    let c2s = [
        r::CLIENT_HELLO,
        r::CLIENT_FINISHED_RECORD,
        r::CLIENT_APP_RECORD,
        r::CLIENT_ALERT_RECORD,
    ]
    .concat();
    let s2c = [
        r::SERVER_HELLO,
        r::SERVER_FLIGHT_RECORD,
        r::NEW_SESSION_TICKET_RECORD,
        r::SERVER_APP_RECORD,
        r::SERVER_ALERT_RECORD,
    ]
    .concat();
    (unhex(&c2s), unhex(&s2c))
}

#[test]
fn rfc8448_simple_1rtt_session() {
    let (c2s, s2c) = rfc8448_streams();
    let payload: Vec<u8> = (0..50).collect();
    for order in [
        Order::ClientFirst,
        Order::ServerFirst,
        Order::Chunks(1),
        Order::Chunks(64),
    ] {
        let run = run(&c2s, &s2c, &rfc8448_keys(), order);
        let data: Vec<_> = run
            .events
            .iter()
            .filter_map(|e| match e {
                Event::Data(d) => Some((d.direction, d.record_seq, d.bytes.clone())),
                _ => None,
            })
            .collect();
        let mut want = vec![
            (Direction::ClientToServer, 0, payload.clone()),
            // The server's first application record is the NewSessionTicket.
            (Direction::ServerToClient, 1, payload.clone()),
        ];
        if matches!(order, Order::ServerFirst) {
            want.reverse();
        }
        assert_eq!(data, want, "{order:?}");
        let server_hs: Vec<u8> = run
            .events
            .iter()
            .filter_map(|e| match e {
                Event::Handshake {
                    direction: Direction::ServerToClient,
                    msg_type,
                    ..
                } => Some(*msg_type),
                _ => None,
            })
            .collect();
        // EncryptedExtensions, Certificate, CertificateVerify, Finished, NewSessionTicket.
        assert_eq!(server_hs, [8, 11, 15, 20, 4], "{order:?}");
        let chain = run.events.iter().find_map(|e| match e {
            Event::Certificates { chain, .. } => Some(chain),
            _ => None,
        });
        assert_eq!(chain.map(|c| c[0].subject.as_str()), Some("CN=rsa"));
        let alerts = run
            .events
            .iter()
            .filter(|e| {
                matches!(
                    e,
                    Event::Alert {
                        level: 1,
                        description: 0,
                        ..
                    }
                )
            })
            .count();
        assert_eq!(alerts, 2, "close_notify both ways");
        assert_eq!(run.d.stats().auth_failures, 0);
        assert_eq!(run.d.stats().ccs_skipped, 0);
        assert!(!run.d.done());
    }
}

#[test]
fn real_capture_tls12_vectors() {
    let r = run(
        &unhex(cap::ITLS12_C2S),
        &unhex(cap::ITLS12_S2C),
        cap::ITLS12_KEYS,
        Order::Chunks(9),
    );
    assert_eq!(r.plain(Direction::ClientToServer), b"ping");
    assert_eq!(r.plain(Direction::ServerToClient), b"pong");
    assert_eq!(r.d.negotiated(), Some((0x0303, 0xc013)));
    let r = run(
        &unhex(cap::SNET12_C2S),
        &unhex(cap::SNET12_S2C),
        cap::SNET12_KEYS,
        Order::ClientFirst,
    );
    let c = r.plain(Direction::ClientToServer);
    assert_eq!(c.len(), 319);
    assert!(c.starts_with(b"GET / HTTP/1.1\nA\nAA\nAAA\n"));
    assert_eq!(r.plain(Direction::ServerToClient), c, "the server echoes");
    assert_eq!(r.d.stats().records_decrypted, 19);
}

/// Seals a TLS 1.3 record with RustCrypto's AES-128-GCM (RFC 8446 section 5.2).
fn seal13(key: &str, iv: &str, seq: u64, ty: u8, plain: &[u8]) -> Vec<u8> {
    use aes_gcm::aead::AeadInPlace;
    use aes_gcm::{Aes128Gcm, KeyInit};
    let mut nonce: [u8; 12] = unhex(iv).try_into().unwrap();
    for (n, s) in nonce[4..].iter_mut().zip(seq.to_be_bytes()) {
        *n ^= s;
    }
    let mut buf = plain.to_vec();
    buf.push(ty);
    let len = (buf.len() + 16) as u16;
    let mut rec = vec![23, 3, 3];
    rec.extend_from_slice(&len.to_be_bytes());
    let cipher = Aes128Gcm::new_from_slice(&unhex(key)).unwrap();
    let tag = cipher
        .encrypt_in_place_detached((&nonce).into(), &rec, &mut buf)
        .unwrap();
    rec.extend_from_slice(&buf);
    rec.extend_from_slice(&tag);
    rec
}

#[test]
fn resynchronises_after_a_gap() {
    let (keys, _) = KeyLog::parse(&rfc8448_keys(), "t");
    let (c2s, s2c) = rfc8448_streams();
    let hs_len = (r::CLIENT_HELLO.len() + r::CLIENT_FINISHED_RECORD.len()) / 2;
    let records: Vec<Vec<u8>> = (0..10u64)
        .map(|i| {
            seal13(
                r::CLIENT_APP_KEY,
                r::CLIENT_APP_IV,
                i,
                23,
                format!("record {i} ").repeat(10).as_bytes(),
            )
        })
        .collect();
    let mut stream = c2s[..hs_len].to_vec();
    let mut starts = Vec::new();
    for rec in &records {
        starts.push(stream.len());
        stream.extend_from_slice(rec);
    }
    // Lose from the middle of record 2 to the middle of record 4.
    let cut_from = starts[2] + 20;
    let cut_to = starts[4] + 30;
    let mut d = Decryptor::new();
    let mut out = Vec::new();
    d.push(Direction::ServerToClient, &s2c, &keys, &mut out);
    d.push(
        Direction::ClientToServer,
        &stream[..cut_from],
        &keys,
        &mut out,
    );
    d.gap(
        Direction::ClientToServer,
        (cut_to - cut_from) as u64,
        &mut out,
    );
    for chunk in stream[cut_to..].chunks(13) {
        d.push(Direction::ClientToServer, chunk, &keys, &mut out);
    }
    let seqs: Vec<u64> = out
        .iter()
        .filter_map(|e| match e {
            Event::Data(x) if x.direction == Direction::ClientToServer => Some(x.record_seq),
            _ => None,
        })
        .collect();
    assert_eq!(seqs, [0, 1, 5, 6, 7, 8, 9]);
    let resync = out.iter().find(|e| matches!(e, Event::Resynced { .. }));
    assert_eq!(
        resync,
        Some(&Event::Resynced {
            direction: Direction::ClientToServer,
            skipped_bytes: (starts[5] - cut_to) as u64,
            skipped_records: 3,
        })
    );
    assert_eq!(d.stats().auth_failures, 0);
}

#[test]
fn tampered_records_never_yield_plaintext() {
    let (mut c2s, s2c) = rfc8448_streams();
    // The last byte of the client's application record (its tag).
    let at = (r::CLIENT_HELLO.len() + r::CLIENT_FINISHED_RECORD.len() + r::CLIENT_APP_RECORD.len())
        / 2
        - 1;
    c2s[at] ^= 0x01;
    let run = run(&c2s, &s2c, &rfc8448_keys(), Order::ClientFirst);
    assert!(run.plain(Direction::ClientToServer).is_empty());
    assert_eq!(
        run.plain(Direction::ServerToClient),
        (0..50).collect::<Vec<u8>>()
    );
    assert_eq!(run.d.stats().auth_failures, 1);
    // The close_notify after it still opens (at the next sequence number).
    assert!(run.events.iter().any(|e| matches!(
        e,
        Event::Alert {
            direction: Direction::ClientToServer,
            ..
        }
    )));
}

#[test]
fn repeated_failures_stop_the_direction() {
    let (keys, _) = KeyLog::parse(&rfc8448_keys(), "t");
    let (c2s, s2c) = rfc8448_streams();
    let mut d = Decryptor::new();
    let mut out = Vec::new();
    d.push(Direction::ServerToClient, &s2c, &keys, &mut out);
    let hs_len = (r::CLIENT_HELLO.len() + r::CLIENT_FINISHED_RECORD.len()) / 2;
    d.push(Direction::ClientToServer, &c2s[..hs_len], &keys, &mut out);
    let junk = [[23u8, 3, 3, 0, 40].as_slice(), &[0x5a; 40]].concat();
    for _ in 0..MAX_FAILURES + 3 {
        d.push(Direction::ClientToServer, &junk, &keys, &mut out);
    }
    assert_eq!(d.stats().auth_failures, u64::from(MAX_FAILURES));
    assert_eq!(d.stats().undecryptable, 3);
    assert!(out.contains(&Event::Stopped {
        direction: Direction::ClientToServer,
        reason: Reason::AuthFailures
    }));
}

#[test]
fn reasons_when_nothing_decrypts() {
    let (c2s, s2c) = rfc8448_streams();
    // No key for this client random.
    let other = rfc8448_keys().replace(r::CLIENT_RANDOM, &"00".repeat(32));
    let run1 = run(&c2s, &s2c, &other, Order::Chunks(100));
    assert_eq!(
        run1.d.status(),
        Status {
            decrypted: false,
            reason: Some(Reason::NoKey)
        }
    );
    assert!(run1.d.done(), "no key: both directions stopped");
    assert!(run1.events.iter().all(|e| !matches!(e, Event::Data(_))));
    // Capture started after the hellos.
    let flight = unhex(&[r::SERVER_FLIGHT_RECORD, r::SERVER_APP_RECORD].concat());
    let run2 = run(&[], &flight, &rfc8448_keys(), Order::ClientFirst);
    assert_eq!(
        run2.d.status(),
        Status {
            decrypted: false,
            reason: Some(Reason::MissingHandshake)
        }
    );
    // Not TLS at all.
    let run3 = run(b"GET / HTTP/1.1\r\n\r\n", b"", "", Order::ClientFirst);
    assert_eq!(
        run3.d.status(),
        Status {
            decrypted: false,
            reason: Some(Reason::NotTls)
        }
    );
    // A client whose server never answered: its records wait, then give up.
    let run4 = run(&c2s, &[], &rfc8448_keys(), Order::ClientFirst);
    assert_eq!(run4.d.status().reason, Some(Reason::MissingHandshake));
}

#[test]
fn fuzz_entries_on_fixtures() {
    let (c2s, s2c) = rfc8448_streams();
    fuzzing::record_stream(&s2c[95..]);
    fuzzing::record_stream(&c2s);
    fuzzing::record_stream(&[]);
    fuzzing::with_gaps(&s2c);
    for i in (0..s2c.len()).step_by(11) {
        let mut m = s2c.clone();
        m[i] ^= 0xa5;
        fuzzing::record_stream(&m[95..]);
        fuzzing::with_gaps(&m);
    }
    let seeded: Vec<u8> = (0..4000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    fuzzing::record_stream(&seeded);
    fuzzing::with_gaps(&seeded);
}

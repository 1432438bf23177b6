//! pcapng tests on files built by hand after draft-ietf-opsawg-pcapng sections 3 and 4.

use super::padded;
use crate::{Error, LinkType, Reader, Secrets, Timestamp};

/// Writes pcapng blocks in a chosen byte order (switchable between sections).
pub(crate) struct Builder {
    pub(crate) be: bool,
    pub(crate) out: Vec<u8>,
}

impl Builder {
    pub(crate) fn new(be: bool) -> Self {
        Self {
            be,
            out: Vec::new(),
        }
    }

    fn u16(&self, v: u16) -> [u8; 2] {
        if self.be {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        }
    }

    fn u32(&self, v: u32) -> [u8; 4] {
        if self.be {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        }
    }

    /// Options followed by opt_endofopt (section 3.5).
    pub(crate) fn options(&self, options: &[(u16, &[u8])]) -> Vec<u8> {
        let mut o = Vec::new();
        if options.is_empty() {
            return o;
        }
        for (code, value) in options {
            o.extend_from_slice(&self.u16(*code));
            o.extend_from_slice(&self.u16(value.len() as u16));
            o.extend_from_slice(value);
            o.resize(padded(o.len()), 0);
        }
        o.extend_from_slice(&[0; 4]);
        o
    }

    pub(crate) fn block(&mut self, block_type: u32, body: &[u8]) -> &mut Self {
        let total = (12 + padded(body.len())) as u32;
        let (t, l) = (self.u32(block_type), self.u32(total));
        self.out.extend_from_slice(&t);
        self.out.extend_from_slice(&l);
        self.out.extend_from_slice(body);
        self.out.resize(padded(self.out.len()), 0);
        self.out.extend_from_slice(&l);
        self
    }

    pub(crate) fn shb(&mut self) -> &mut Self {
        let mut b = self.u32(0x1a2b_3c4d).to_vec();
        b.extend_from_slice(&self.u16(1));
        b.extend_from_slice(&self.u16(0));
        b.extend_from_slice(&[0xff; 8]);
        self.block(0x0a0d_0d0a, &b)
    }

    pub(crate) fn idb(&mut self, link: u16, snaplen: u32, options: &[(u16, &[u8])]) -> &mut Self {
        let mut b = self.u16(link).to_vec();
        b.extend_from_slice(&[0, 0]);
        b.extend_from_slice(&self.u32(snaplen));
        b.extend_from_slice(&self.options(options));
        self.block(1, &b)
    }

    pub(crate) fn epb(
        &mut self,
        interface: u32,
        ts: u64,
        data: &[u8],
        options: &[(u16, &[u8])],
    ) -> &mut Self {
        let mut b = self.u32(interface).to_vec();
        b.extend_from_slice(&self.u32((ts >> 32) as u32));
        b.extend_from_slice(&self.u32(ts as u32));
        b.extend_from_slice(&self.u32(data.len() as u32));
        b.extend_from_slice(&self.u32(data.len() as u32 + 100));
        b.extend_from_slice(data);
        b.resize(padded(b.len()), 0);
        b.extend_from_slice(&self.options(options));
        self.block(6, &b)
    }

    pub(crate) fn pb(&mut self, interface: u16, ts: u64, data: &[u8]) -> &mut Self {
        let mut b = self.u16(interface).to_vec();
        b.extend_from_slice(&self.u16(0));
        b.extend_from_slice(&self.u32((ts >> 32) as u32));
        b.extend_from_slice(&self.u32(ts as u32));
        b.extend_from_slice(&self.u32(data.len() as u32));
        b.extend_from_slice(&self.u32(data.len() as u32));
        b.extend_from_slice(data);
        self.block(2, &b)
    }

    pub(crate) fn spb(&mut self, orig_len: u32, data: &[u8]) -> &mut Self {
        let mut b = self.u32(orig_len).to_vec();
        b.extend_from_slice(data);
        self.block(3, &b)
    }

    /// One nrb_record_ipv4 (10.0.0.1, empty name) and nrb_record_end.
    pub(crate) fn nrb(&mut self) -> &mut Self {
        let mut b = self.u16(1).to_vec();
        b.extend_from_slice(&self.u16(4));
        b.extend_from_slice(&[10, 0, 0, 1, 0, 0, 0, 0]);
        self.block(4, &b)
    }

    pub(crate) fn dsb(&mut self, secrets_type: u32, data: &[u8]) -> &mut Self {
        let mut b = self.u32(secrets_type).to_vec();
        b.extend_from_slice(&self.u32(data.len() as u32));
        b.extend_from_slice(data);
        self.block(0x0a, &b)
    }
}

#[derive(Debug, PartialEq)]
struct Seen {
    frame: u64,
    ts: i64,
    interface: u32,
    link: LinkType,
    data: Vec<u8>,
    comment: Option<String>,
}

fn read_all(bytes: Vec<u8>) -> (Vec<Seen>, Reader, Option<Error>) {
    let mut r = Reader::from_read("t.pcapng", std::io::Cursor::new(bytes)).unwrap();
    let mut out = Vec::new();
    let err = loop {
        match r.next_packet() {
            Ok(Some(p)) => out.push(Seen {
                frame: p.frame,
                ts: p.ts.as_nanos(),
                interface: p.interface,
                link: p.link,
                data: p.data.to_vec(),
                comment: p.comment.map(str::to_string),
            }),
            Ok(None) => break None,
            Err(e) => break Some(e),
        }
    };
    (out, r, err)
}

/// Both byte orders, every block type, several interfaces with their own resolutions.
fn sample(be: bool) -> Vec<u8> {
    let mut b = Builder::new(be);
    b.shb()
        .idb(1, 0, &[(2, b"eth0"), (1, b"a comment")])
        // if_tsresol 9: nanoseconds; if_tsoffset 100 s.
        .idb(101, 128, &[(9, &[9]), (14, &100i64.to_le_bytes())])
        // if_tsresol 0x8a: 2^-10 s.
        .idb(113, 0, &[(9, &[0x8a])]);
    if be {
        // if_tsoffset is read in the section's byte order: rewrite the BE value.
        b.out.clear();
        b.shb()
            .idb(1, 0, &[(2, b"eth0"), (1, b"a comment")])
            .idb(101, 128, &[(9, &[9]), (14, &100i64.to_be_bytes())])
            .idb(113, 0, &[(9, &[0x8a])]);
    }
    b.epb(
        0,
        1_500_000,
        b"first",
        &[(1, b"hello"), (1, b"second comment")],
    )
    .block(0x0bad, b"custom block body")
    .block(0x1234_5678, b"")
    .epb(1, 2_000_000_007, b"second", &[])
    .spb(3, b"spb-data")
    .pb(2, 3 << 10, b"old")
    .dsb(Secrets::TLS_KEY_LOG, b"CLIENT_RANDOM 00 11\n")
    .nrb()
    .block(5, &[0; 12])
    .epb(0, 7, b"", &[]);
    b.out
}

#[test]
fn every_block_in_both_byte_orders() {
    for be in [false, true] {
        let (seen, mut r, err) = read_all(sample(be));
        assert!(err.is_none(), "{err:?}");
        let want = [
            (
                1,
                1_500_000_000,
                0,
                LinkType::ETHERNET,
                &b"first"[..],
                Some("hello"),
            ),
            (
                2,
                2_000_000_007 + 100_000_000_000,
                1,
                LinkType::RAW,
                b"second",
                None,
            ),
            // Simple Packet Block: interface 0, the previous timestamp, data cut to orig_len.
            (
                3,
                2_000_000_007 + 100_000_000_000,
                0,
                LinkType::ETHERNET,
                b"spb",
                None,
            ),
            // 3 * 2^10 units of 2^-10 s = 3 s.
            (4, 3_000_000_000, 2, LinkType::LINUX_SLL, b"old", None),
            (5, 7_000, 0, LinkType::ETHERNET, b"", None),
        ];
        assert_eq!(seen.len(), want.len(), "be={be}");
        for (s, w) in seen.iter().zip(want) {
            let w = Seen {
                frame: w.0,
                ts: w.1,
                interface: w.2,
                link: w.3,
                data: w.4.to_vec(),
                comment: w.5.map(str::to_string),
            };
            assert_eq!(*s, w, "be={be}");
        }
        assert_eq!(r.take_warnings(), vec![], "be={be}");
        let ifs = r.interfaces();
        assert_eq!(ifs.len(), 3);
        assert_eq!(ifs[0].name.as_deref(), Some("eth0"));
        assert_eq!(ifs[1].snaplen, 128);
        assert_eq!((ifs[1].ts_resolution, ifs[1].ts_offset), (9, 100));
        assert_eq!(ifs[2].ts_resolution, 0x8a);
        let secrets = r.take_secrets();
        assert_eq!(secrets.len(), 1);
        assert_eq!(secrets[0].secrets_type, Secrets::TLS_KEY_LOG);
        assert_eq!(secrets[0].data, b"CLIENT_RANDOM 00 11\n");
        assert!(r.take_secrets().is_empty());
    }
}

#[test]
fn a_new_section_switches_byte_order_and_interfaces() {
    let mut b = Builder::new(false);
    b.shb().idb(1, 0, &[]).epb(0, 1, b"le", &[]);
    b.be = true;
    b.shb().idb(228, 0, &[(9, &[3])]).epb(0, 5, b"be", &[]);
    let (seen, r, err) = read_all(b.out);
    assert!(err.is_none(), "{err:?}");
    assert_eq!(seen.len(), 2);
    assert_eq!(
        (seen[0].interface, seen[0].link, seen[0].ts),
        (0, LinkType::ETHERNET, 1000)
    );
    // Milliseconds (if_tsresol 3) in the second section's own interface numbering.
    assert_eq!(
        (seen[1].interface, seen[1].link, seen[1].ts),
        (1, LinkType::IPV4, 5_000_000)
    );
    assert_eq!(r.interfaces()[1].section, 1);
}

#[test]
fn timestamp_resolutions() {
    let iface = |r: u8, off: i64| crate::Interface {
        ts_offset: off,
        ..crate::Interface::new(LinkType::ETHERNET, 0, r)
    };
    // (if_tsresol, if_tsoffset, units, nanoseconds)
    let table: &[(u8, i64, u64, i64)] = &[
        (6, 0, 1, 1000),
        (9, 0, 1, 1),
        (0, 0, 2, 2_000_000_000),
        (3, 0, 2, 2_000_000),
        (12, 0, 2_500, 2),
        (0x80, 0, 3, 3_000_000_000),
        (0x81, 0, 3, 1_500_000_000),
        (0x9e, 0, 1 << 30, 1_000_000_000),
        (6, -10, 0, -10_000_000_000),
        (127, 0, u64::MAX, 0),
        (0xff, 0, u64::MAX, 0),
        (0, 0, u64::MAX, i64::MAX),
        (0, i64::MIN, 0, i64::MIN),
    ];
    for &(r, off, units, nanos) in table {
        assert_eq!(
            iface(r, off).timestamp(units),
            Timestamp::from_nanos(nanos),
            "{r:#x} {units}"
        );
    }
}

#[test]
fn packet_on_an_undescribed_interface_is_skipped_with_a_warning() {
    let mut b = Builder::new(false);
    b.shb()
        .idb(1, 0, &[])
        .epb(3, 1, b"x", &[])
        .epb(0, 1, b"y", &[])
        .spb(1, b"z");
    let (seen, mut r, err) = read_all(b.out);
    assert!(err.is_none());
    assert_eq!(
        seen.iter().map(|s| s.data.clone()).collect::<Vec<_>>(),
        [b"y", b"z"]
    );
    let w = r.take_warnings();
    assert_eq!(w.len(), 1);
    assert!(w[0].message.contains("interface 3"), "{}", w[0].message);
    assert_eq!((w[0].offset, w[0].frame), (28 + 20, Some(1)));
    // A Simple Packet Block with no interface at all.
    let mut b = Builder::new(true);
    b.shb().spb(1, b"z");
    let (seen, mut r, _) = read_all(b.out);
    assert!(seen.is_empty());
    assert_eq!(r.take_warnings().len(), 1);
}

#[test]
fn damaged_framing_is_an_error_naming_offset_and_frame() {
    let mut good = Builder::new(false);
    good.shb().idb(1, 0, &[]).epb(0, 1, b"abcd", &[]);
    let epb_at = 28 + 20;
    type Damage = fn(&mut Vec<u8>, usize);
    let cases: &[(&str, Damage)] = &[
        ("trailer", |f, at| f[at + 28 + 4 + 4 - 4] ^= 1),
        ("absurd", |f, at| {
            f[at + 4..at + 8].copy_from_slice(&u32::MAX.to_le_bytes())
        }),
        ("multiple of 4", |f, at| f[at + 4] += 1),
        ("shorter", |f, at| {
            f[at + 4..at + 8].copy_from_slice(&8u32.to_le_bytes())
        }),
    ];
    for (what, damage) in cases {
        let mut f = good.out.clone();
        damage(&mut f, epb_at);
        let (seen, _, err) = read_all(f);
        assert!(seen.is_empty());
        match err {
            Some(Error::Format {
                offset, message, ..
            }) => {
                assert_eq!(offset, epb_at as u64, "{what}");
                assert!(message.contains("frame 1"), "{what}: {message}");
            }
            other => panic!("{what}: {other:?}"),
        }
    }
}

#[test]
fn bad_byte_order_magic_and_version_are_errors() {
    let mut b = Builder::new(false);
    b.shb();
    let mut f = b.out.clone();
    f[8] = 0;
    assert!(Reader::from_read("t", std::io::Cursor::new(f))
        .unwrap()
        .next_packet()
        .is_err());
    let mut f = b.out;
    f[12] = 2;
    assert!(Reader::from_read("t", std::io::Cursor::new(f))
        .unwrap()
        .next_packet()
        .is_err());
}

#[test]
fn captured_length_past_the_block_skips_the_packet() {
    let mut b = Builder::new(false);
    b.shb()
        .idb(1, 0, &[])
        .epb(0, 1, b"abcd", &[])
        .epb(0, 2, b"ok", &[]);
    // The first EPB's captured length field.
    b.out[28 + 20 + 8 + 12] = 200;
    let (seen, mut r, err) = read_all(b.out);
    assert!(err.is_none());
    assert_eq!(seen.len(), 1);
    assert_eq!((seen[0].frame, &seen[0].data[..]), (1, &b"ok"[..]));
    assert_eq!(r.take_warnings().len(), 1);
}

#[test]
fn damaged_options_keep_the_packet_without_a_comment() {
    let mut b = Builder::new(false);
    b.shb().idb(1, 0, &[]).epb(0, 1, b"abcd", &[(1, b"note")]);
    // The comment option's length now runs past the block.
    let len = b.out.len();
    b.out[len - 13] = 0xff;
    let (seen, _, err) = read_all(b.out);
    assert!(err.is_none());
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].comment, None);
}

#[test]
fn truncated_last_block_warns() {
    let f = sample(false);
    let (all, _, _) = read_all(f.clone());
    let cut = f.len() - 3;
    let (seen, mut r, err) = read_all(f[..cut].to_vec());
    assert!(err.is_none());
    assert_eq!(seen.len(), all.len() - 1);
    let w = r.take_warnings();
    assert_eq!(w.len(), 1);
    assert_eq!(w[0].frame, Some(all.len() as u64));
}

//! Entry points for fuzz targets (`fuzz/fuzz_targets/`), each with the invariants it checks.
//!
//! Every function takes arbitrary bytes and must return without panicking; the assertions
//! here are the properties the modules promise on hostile input (caps respected, offsets
//! inside the buffer, output independent of where a stream was cut). The unit tests at the
//! bottom run each of them on hand-built inputs and small mutations of those, so the
//! invariants are checked by `cargo test` as well as by the fuzzer.

use std::sync::{Arc, OnceLock};

use crate::decode::websocket::{Deframer, MAX_MESSAGE};
use crate::decode::{Expander, Hint, Limits, MIN_VIEW};
use crate::patterns::{self, Context, Detectors, PatternHit};
use crate::policy::{self, Encryption, Policy, Subject, SubjectKind};
use crate::profile::vcard::{self, AddressBook};
use crate::profile::Profile;
use crate::scanner::{Hit, Scanner};
use crate::variants::{self, Variants};

/// Hints [`decode_expand`] picks from with `data[0]`.
const HINTS: [Hint<'static>; 10] = [
    Hint::Uri,
    Hint::Header { name: "cookie" },
    Hint::Header { name: "x-data" },
    Hint::Body {
        content_type: Some("application/json; charset=utf-8"),
    },
    Hint::Body {
        content_type: Some("application/x-www-form-urlencoded"),
    },
    Hint::Body {
        content_type: Some("multipart/form-data; boundary=----fuzzb"),
    },
    Hint::Body {
        content_type: Some("application/x-protobuf"),
    },
    Hint::Body { content_type: None },
    Hint::DnsName,
    Hint::Payload,
];

/// Caps small enough for a fuzzer to run into each of them.
const SMALL: Limits = Limits {
    max_depth: 2,
    max_view: 256,
    max_total: 1024,
    max_views: 8,
};

/// Layer names that [`Expander`] hands out in pairs for one view (the outer one is named
/// first): a multipart part's transfer encoding, a WebSocket message's compression.
const PAIRS: [(&str, &str); 3] = [
    ("multipart", "base64"),
    ("multipart", "quoted-printable"),
    ("websocket", "deflate"),
];

/// The fewest views a list of layer names can stand for: one per name, except the pairs of
/// [`PAIRS`], which one view may add together. The first names of the pairs are never second
/// names, so pairing greedily from the left finds the most pairs.
fn min_nesting(layers: &[&str]) -> usize {
    let mut n = 0;
    let mut i = 0;
    while i < layers.len() {
        let pair = match (layers.get(i), layers.get(i + 1)) {
            (Some(a), Some(b)) => PAIRS.contains(&(*a, *b)),
            _ => false,
        };
        i += if pair { 2 } else { 1 };
        n += 1;
    }
    n
}

/// One [`Expander::expand`] call and what it handed out.
#[derive(Debug, PartialEq, Eq)]
struct Expansion {
    views: Vec<(Vec<&'static str>, Vec<u8>)>,
}

fn expand_once(x: &mut Expander, hint: Hint<'_>, input: &[u8]) -> Expansion {
    let limits = *x.limits();
    let before = x.stats().clone();
    let mut views = Vec::new();
    let mut total = 0usize;
    x.expand(hint, input, &mut |layers, bytes| {
        assert!(!layers.is_empty(), "a view without a layer");
        assert!(
            min_nesting(layers) <= limits.max_depth,
            "{layers:?} is deeper than {}",
            limits.max_depth
        );
        assert!(bytes.len() >= MIN_VIEW, "a view of {} bytes", bytes.len());
        assert!(
            bytes.len() <= limits.max_view,
            "a view of {} bytes",
            bytes.len()
        );
        total += bytes.len();
        views.push((layers.to_vec(), bytes.to_vec()));
    });
    assert!(views.len() <= limits.max_views, "{} views", views.len());
    assert!(total <= limits.max_total, "{total} bytes of views");
    let after = x.stats();
    assert_eq!(after.views - before.views, views.len() as u64);
    assert_eq!(after.bytes - before.bytes, total as u64);
    assert!(after.capped >= before.capped && after.bombs >= before.bombs);
    Expansion { views }
}

/// `data[0]`: low nibble (mod 10) the [`Hint`], bit 7 small [`Limits`]; the rest is the
/// buffer. Checks every view against the caps and the stats, and that a second call on the
/// same expander (scratch buffers and inflaters reused) hands out the same views.
pub fn decode_expand(data: &[u8]) {
    let Some((&sel, input)) = data.split_first() else {
        return;
    };
    let hint = HINTS[usize::from(sel & 0x0f) % HINTS.len()];
    let limits = if sel & 0x80 != 0 {
        SMALL
    } else {
        Limits::default()
    };
    let mut x = Expander::new(limits);
    let first = expand_once(&mut x, hint, input);
    let second = expand_once(&mut x, hint, input);
    assert_eq!(first, second, "a second call on the same expander differs");
    let _ = crate::decode::looks_opaque(input);
}

/// What a [`Deframer`] handed out over a whole direction.
#[derive(Debug, PartialEq, Eq)]
struct Deframed {
    messages: Vec<(Vec<u8>, bool, bool)>,
    count: u64,
    capped: u64,
    failed: bool,
}

fn deframe<'a>(pieces: impl Iterator<Item = &'a [u8]>) -> Deframed {
    let mut d = Deframer::new();
    let mut messages = Vec::new();
    let mut take = |m: crate::decode::websocket::Message<'_>| {
        assert!(
            m.bytes.len() <= MAX_MESSAGE,
            "a message of {} bytes",
            m.bytes.len()
        );
        messages.push((m.bytes.to_vec(), m.inflated, m.partial));
    };
    for p in pieces {
        let ok = d.push(p, &mut take);
        assert_eq!(ok, !d.failed());
    }
    d.finish(&mut take);
    assert_eq!(d.messages, messages.len() as u64);
    Deframed {
        count: d.messages,
        capped: d.capped,
        failed: d.failed(),
        messages,
    }
}

/// Feeds `data[1..]` to a [`Deframer`] whole, then cut into pieces whose sizes follow from
/// `data[0]` and the bytes themselves; the messages, counters and failure must not depend on
/// the cut.
pub fn websocket_deframe(data: &[u8]) {
    let Some((&seed, stream)) = data.split_first() else {
        return;
    };
    let whole = deframe(std::iter::once(stream));
    let mut pieces = Vec::new();
    let mut rest = stream;
    let mut step = usize::from(seed % 16) + 1;
    while !rest.is_empty() {
        let k = step.min(rest.len());
        let (a, b) = rest.split_at(k);
        pieces.push(a);
        rest = b;
        // The next cut depends on the bytes just cut, so the fuzzer can steer it.
        step = usize::from(a[0] ^ seed) % 23 + 1;
    }
    let cut = deframe(pieces.iter().copied());
    assert_eq!(
        whole, cut,
        "the messages depend on where the stream was cut"
    );
    let bytewise = deframe(stream.chunks(1));
    assert_eq!(
        whole, bytewise,
        "the messages differ when fed one byte at a time"
    );
}

/// Header names [`patterns_find`] may give its bytes.
const HEADERS: [&str; 4] = ["cookie", "x-device-id", "user-agent", "x-imei"];

fn detectors() -> &'static Detectors {
    static D: OnceLock<Detectors> = OnceLock::new();
    D.get_or_init(Detectors::new)
}

/// `data[0]` picks the [`Context`], the rest is the buffer. Checks every hit against the
/// buffer and the caps, their order, and that a second call finds the same.
pub fn patterns_find(data: &[u8]) {
    let Some((&sel, bytes)) = data.split_first() else {
        return;
    };
    let header = HEADERS[usize::from(sel >> 4) % HEADERS.len()];
    let ctx = match sel % 11 {
        0 => Context::Uri,
        1 => Context::Form,
        2 => Context::Json,
        3 => Context::Header { name: header },
        4 => Context::Body {
            content_type: Some("application/json"),
        },
        5 => Context::Body {
            content_type: Some("application/x-www-form-urlencoded"),
        },
        6 => Context::Body {
            content_type: Some("text/plain"),
        },
        7 => Context::Body { content_type: None },
        8 => Context::DnsName,
        _ => Context::Payload,
    };
    let det = detectors();
    let mut hits: Vec<PatternHit> = Vec::new();
    let skipped = det.find(ctx, bytes, &mut hits);
    assert!(hits.len() <= patterns::MAX_HITS, "{} hits", hits.len());
    for h in &hits {
        let end = h.offset.checked_add(h.len);
        assert!(
            end.is_some_and(|e| e <= bytes.len()),
            "hit {}+{} outside {} bytes",
            h.offset,
            h.len,
            bytes.len()
        );
        assert!(
            h.value.len() <= patterns::MAX_VALUE_LEN,
            "value {:?}",
            h.value
        );
        if let Some(k) = &h.key {
            // Coordinates name both keys, comma-separated.
            assert!(k.len() <= 2 * patterns::MAX_KEY_LEN + 1, "key {k:?}");
        }
    }
    assert!(
        hits.windows(2).all(|w| w[0].offset <= w[1].offset),
        "hits out of order"
    );
    let mut again = Vec::new();
    let skipped_again = det.find(ctx, bytes, &mut again);
    assert_eq!(hits, again);
    assert_eq!(skipped, skipped_again);
}

/// Parses `data` as a vCard export. Checks the caps on what is kept, that every line number
/// given is in the file, and that CRLF line ends read as LF ones do.
pub fn vcard_parse(data: &[u8]) {
    let parsed = AddressBook::parse(data, "fuzz.vcf");
    let lines = data.split(|&b| b == b'\n').count();
    match &parsed {
        Ok(book) => {
            assert!(book.cards.len() <= vcard::MAX_CARDS);
            let contacts = book.contacts();
            assert!(contacts.len() <= vcard::MAX_CONTACTS, "{}", contacts.len());
            assert_eq!(
                contacts.len(),
                book.cards.iter().map(vcard::Card::contacts).sum::<usize>()
            );
            for card in &book.cards {
                assert!(
                    (1..=lines).contains(&card.line),
                    "card at line {}",
                    card.line
                );
                assert!(card.phones.len() + card.emails.len() <= vcard::MAX_VALUES_PER_CARD);
                for v in card.phones.iter().chain(&card.emails) {
                    assert!(v.text.len() <= vcard::MAX_LINE, "{} bytes", v.text.len());
                    assert!((1..=lines).contains(&v.line), "value at line {}", v.line);
                }
            }
            // The warnings listed, plus one line counting the rest.
            assert!(
                book.warnings.len() <= 51,
                "{} warnings",
                book.warnings.len()
            );
            let _ = book.check(Some("886"));
            let _ = book.summary();
            let mut p = Profile::default();
            book.add_to(&mut p);
            assert_eq!(p.contacts, contacts);
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
    if !data.contains(&b'\r') {
        let mut crlf = Vec::with_capacity(data.len() + lines);
        for (i, line) in data.split(|&b| b == b'\n').enumerate() {
            if i > 0 {
                crlf.extend_from_slice(b"\r\n");
            }
            crlf.extend_from_slice(line);
        }
        assert_eq!(
            parsed,
            AddressBook::parse(&crlf, "fuzz.vcf"),
            "CRLF line ends read differently"
        );
    }
}

/// Profiles larger than this are parsed and checked but not compiled: the automaton of a
/// large profile takes a second and tens of MiB to build, which would starve the fuzzer.
const MAX_COMPILED_PROFILE: usize = 512;

/// Parses `data` (lossily as UTF-8) as a device profile; when it parses and is small, builds
/// its variants and scanner and scans the profile text itself, whole and cut in two. Checks
/// the variants' lengths and the hits' offsets, and that the cut does not change the hits.
pub fn profile_parse(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let Ok((profile, _warnings)) = Profile::parse(&text, "fuzz.toml") else {
        return;
    };
    let _ = profile.check();
    if text.len() > MAX_COMPILED_PROFILE {
        return;
    }
    let variants = Variants::build(&profile);
    let mut longest = 0;
    for (i, v) in variants.list().iter().enumerate() {
        assert_eq!(v.id as usize, i);
        assert!(v.bytes.len() >= variants::MIN_LEN, "{v:?}");
        // The value is cut to MAX_VALUE_LEN bytes before encoding; the widest encoding
        // (percent-escapes of a legacy charset's bytes) takes at most four bytes per byte.
        assert!(v.bytes.len() <= 4 * variants::MAX_VALUE_LEN, "{v:?}");
        longest = longest.max(v.bytes.len());
    }
    let _ = variants.listing();
    let scanner = match Scanner::new(&variants) {
        Ok(s) => Arc::new(s),
        Err(e) => panic!("{} variants: {e}", variants.list().len()),
    };
    assert_eq!(scanner.max_pattern_len(), longest);
    let bytes = text.as_bytes();
    let scan = |pieces: &[&[u8]]| {
        let mut hits: Vec<Hit> = Vec::new();
        scanner.scan(pieces, &mut hits);
        hits.sort();
        hits
    };
    let whole = scan(&[bytes]);
    for h in &whole {
        assert!(variants.get(h.variant).is_some());
        assert!(
            h.offset + u64::from(h.len) <= bytes.len() as u64,
            "hit {h:?} outside {} bytes",
            bytes.len()
        );
    }
    let mid = data.first().map_or(0, |&b| usize::from(b)) % (bytes.len() + 1);
    let (a, b) = bytes.split_at(mid);
    assert_eq!(whole, scan(&[a, b]), "hits depend on a cut at {mid}");
}

/// IMEI to Xiaomi Analytics, China, decrypted from TLS.
pub(crate) fn imei_to_xiaomi(index: usize) -> Subject<'static> {
    Subject {
        kind: SubjectKind::Finding,
        index,
        flow: Some(10),
        data_type: Some("imei"),
        confidence: Some("high"),
        direction: Some("client_to_server"),
        service: Some("Xiaomi Analytics"),
        org: Some("Xiaomi"),
        org_country: Some("CN"),
        server_country: Some("CN"),
        server_name: Some("data.mistat.xiaomi.com"),
        encryption: Encryption::Decrypted,
        ..Subject::default()
    }
}

/// A contact's phone number to a Taiwanese backup server over plain HTTP.
pub(crate) fn contact_home_cleartext(index: usize) -> Subject<'static> {
    Subject {
        data_type: Some("contact_phone"),
        service: None,
        org: Some("Chunghwa Telecom"),
        org_country: Some("TW"),
        server_country: Some("TW"),
        server_name: Some("backup.example.tw"),
        flow: Some(11),
        encryption: Encryption::Cleartext,
        ..imei_to_xiaomi(index)
    }
}

/// The SMS code (low confidence) to Xiaomi.
pub(crate) fn sms_code_to_xiaomi(index: usize) -> Subject<'static> {
    Subject {
        data_type: Some("sms"),
        confidence: Some("low"),
        ..imei_to_xiaomi(index)
    }
}

/// Subjects [`policy_parse`] judges: findings and flows with every kind of fact set and
/// missing, in the shape the pipeline builds them (the fixtures of `policy/tests.rs`, with an
/// app and an address besides).
fn subjects() -> Vec<Subject<'static>> {
    let seen = |s: Subject<'static>| Subject {
        app: Some("com.miui.analytics"),
        server: Some("203.0.113.7"),
        ..s
    };
    let imei = seen(imei_to_xiaomi(0));
    let contact = seen(contact_home_cleartext(1));
    let sms = seen(sms_code_to_xiaomi(2));
    let other = Subject {
        index: 3,
        flow: Some(12),
        data_type: Some("key:serial"),
        confidence: Some("medium"),
        server_name: None,
        encryption: Encryption::Unknown,
        ..imei
    };
    let tiktok = Subject {
        kind: SubjectKind::Flow,
        index: 4,
        flow: Some(13),
        service: Some("TikTok"),
        org: Some("TikTok Pte. Ltd."),
        org_country: Some("SG"),
        parent_org: Some("ByteDance"),
        parent_country: Some("CN"),
        server_country: Some("SG"),
        server_name: Some("log.tiktokv.com"),
        encryption: Encryption::Encrypted,
        bytes_up: 48_000,
        bytes_down: 1_200_000,
        ..Subject::default()
    };
    let bare = Subject {
        kind: SubjectKind::Flow,
        index: 5,
        flow: Some(14),
        ..Subject::default()
    };
    vec![imei, contact, sms, other, tiktok, bare]
}

/// Parses `data` (lossily as UTF-8) as a policy; when it parses, judges [`subjects`] with
/// and without a home country. Checks that every violation names a rule of the policy and
/// only subjects of the right kind, in ascending order, within the caps.
pub fn policy_parse(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let policy = match Policy::parse(&text, "fuzz.toml") {
        Ok((p, _warnings)) => p,
        Err(e) => {
            let _ = e.to_string();
            return;
        }
    };
    let _ = (policy.name(), policy.description(), policy.home());
    let _ = policy.unknown_services(|s| s.eq_ignore_ascii_case("tiktok"));
    let subjects = subjects();
    for home in [Some("TW"), Some("DE,FR"), None] {
        let verdict = policy::evaluate(&policy, home, &subjects);
        if home.is_none() {
            assert_eq!(
                verdict.is_err(),
                policy.uses_home() && policy.home().is_none(),
                "{verdict:?}"
            );
        }
        let Ok(violations) = verdict else {
            continue;
        };
        for v in &violations {
            assert!(
                policy.rules().iter().any(|r| r.id == v.rule),
                "unknown rule {:?}",
                v.rule
            );
            assert!(v.findings.windows(2).all(|w| w[0] < w[1]), "{v:?}");
            assert!(v.flows.windows(2).all(|w| w[0] < w[1]), "{v:?}");
            assert!(v.findings.len() + v.flows.len() <= 2 * policy::MAX_TRIGGERS);
            for &i in &v.findings {
                assert!(
                    subjects
                        .iter()
                        .any(|s| s.index == i && s.kind == SubjectKind::Finding),
                    "{v:?}"
                );
            }
            for f in &v.flows {
                assert!(subjects.iter().any(|s| s.flow == Some(*f)), "{v:?}");
            }
            assert!(!v.findings.is_empty() || !v.flows.is_empty(), "{v:?}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small deterministic generator so the invariants run in `cargo test` without a fuzzer.
    fn lcg(state: &mut u64) -> u8 {
        *state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (*state >> 33) as u8
    }

    /// Runs `f` on `seed` and on `n` mutations of it (a few bytes changed, then cut).
    fn mutate(seed: &[u8], n: usize, f: fn(&[u8])) {
        f(seed);
        let mut s = seed.len() as u64;
        for _ in 0..n {
            let mut m = seed.to_vec();
            if !m.is_empty() {
                for _ in 0..(lcg(&mut s) % 4 + 1) {
                    let i = usize::from(lcg(&mut s)) * 257 % m.len();
                    m[i] = lcg(&mut s);
                }
            }
            let keep = (usize::from(lcg(&mut s)) * 263) % (seed.len() + 1);
            m.truncate(keep.max(seed.len() / 2));
            f(&m);
        }
    }

    fn with_selector(sel: u8, body: &[u8]) -> Vec<u8> {
        let mut v = vec![sel];
        v.extend_from_slice(body);
        v
    }

    /// A client WebSocket frame: FIN, `opcode`, masked with `key`.
    fn masked_frame(opcode: u8, rsv1: bool, key: [u8; 4], payload: &[u8]) -> Vec<u8> {
        assert!(payload.len() < 126);
        let mut f = vec![
            0x80 | opcode | if rsv1 { 0x40 } else { 0 },
            0x80 | payload.len() as u8,
        ];
        f.extend_from_slice(&key);
        f.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
        f
    }

    #[test]
    fn nesting_counts_paired_layers_once() {
        assert_eq!(min_nesting(&[]), 0);
        assert_eq!(min_nesting(&["form", "base64", "gzip"]), 3);
        assert_eq!(min_nesting(&["multipart", "base64", "json"]), 2);
        assert_eq!(
            min_nesting(&["websocket", "deflate", "websocket", "deflate"]),
            2
        );
        assert_eq!(min_nesting(&["base64", "multipart"]), 2);
    }

    #[test]
    fn decode_expand_on_each_hint() {
        let bodies: [&[u8]; 6] = [
            b"/t?u=Ch%C3%A9n%20Mei&v=MzU2OTM4MDM1NjQzODA5&d=%7B%22imei%22%3A%22356938035643809%22%7D",
            b"sid=eyJpbWVpIjoiMzU2OTM4MDM1NjQzODA5In0; lang=zh-TW",
            b"{\"a\":\"\\u0043h\\u00e9n Mei\",\"b\":\"aW1laT0zNTY5MzgwMzU2NDM4MDk=\"}",
            b"------fuzzb\r\nContent-Disposition: form-data; name=\"f\"\r\nContent-Transfer-Encoding: base64\r\n\r\naW1laT0zNTY5MzgwMzU2NDM4MDk=\r\n------fuzzb--\r\n",
            b"mzwgs4tfmvxgizjamfxgi2lun5xgg33n.t.example.com",
            b"\x0a\x0f356938035643809\x12\x08Chen Mei\x1a\x06\x08\x01\x10\x02\x18\x03",
        ];
        for body in bodies {
            for sel in 0..HINTS.len() as u8 {
                mutate(&with_selector(sel, body), 40, decode_expand);
                mutate(&with_selector(sel | 0x80, body), 40, decode_expand);
            }
        }
        // The layers the bodies above are built to hold are found.
        let mut x = Expander::new(Limits::default());
        let e = expand_once(&mut x, HINTS[5], bodies[3]);
        assert!(e
            .views
            .iter()
            .any(|(l, v)| l == &["multipart", "base64"] && v == b"imei=356938035643809"));
    }

    #[test]
    fn decode_expand_small_limits_cut_deep_nesting() {
        // base64 of base64 of ... of a value: the small limits stop at depth 2.
        let mut v = b"imei=356938035643809&x=1".to_vec();
        for _ in 0..5 {
            use base64::Engine as _;
            v = base64::engine::general_purpose::STANDARD
                .encode(&v)
                .into_bytes();
        }
        let mut x = Expander::new(SMALL);
        let e = expand_once(&mut x, Hint::Payload, &v);
        assert!(!e.views.is_empty());
        assert!(x.stats().capped > 0);
        decode_expand(&with_selector(0x89, &v));
        decode_expand(&with_selector(0x09, &v));
    }

    #[test]
    fn websocket_deframe_on_frames() {
        let key = [0x37, 0xfa, 0x21, 0x3d];
        let mut stream = masked_frame(1, false, key, b"{\"imei\":\"356938035643809\"}");
        // A fragmented binary message with a ping between its fragments.
        let mut first = masked_frame(2, false, key, b"part one ");
        first[0] &= 0x7f;
        stream.extend(first);
        stream.extend(masked_frame(9, false, key, b"ping"));
        stream.extend(masked_frame(0, false, key, b"part two"));
        // "Hello" compressed with permessage-deflate (RFC 7692 section 7.2.3.1).
        stream.extend(masked_frame(
            1,
            true,
            key,
            &[0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00],
        ));
        let d = deframe(std::iter::once(&stream[..]));
        assert!(!d.failed);
        let texts: Vec<&[u8]> = d.messages.iter().map(|m| &m.0[..]).collect();
        assert_eq!(
            texts,
            [
                &b"{\"imei\":\"356938035643809\"}"[..],
                b"part one part two",
                b"Hello"
            ]
        );
        for seed in 0..16 {
            mutate(&with_selector(seed, &stream), 60, websocket_deframe);
        }
        // An unmasked server stream with a 16-bit length.
        let mut server = vec![0x82, 126, 0x01, 0x00];
        server.extend((0..=255u8).collect::<Vec<_>>());
        mutate(&with_selector(3, &server), 100, websocket_deframe);
    }

    #[test]
    fn patterns_find_in_each_context() {
        let bodies: [&[u8]; 5] = [
            b"/api/v1/report?imei=356938035643809&phone=%2B886912345678&lat=25.03361&lng=121.56500",
            b"{\"device\":{\"imei\":\"356938035643809\",\"mac\":\"3c:5a:b4:01:02:03\"},\"email\":\"chen.mei@gmail.com\"}",
            b"deviceId=a1b2c3d4e5f60718; imsi=466924200012345",
            b"356938035643809.imei.t.example.com",
            b"<imei>356938035643809</imei> call +886 912 345 678",
        ];
        for body in bodies {
            for sel in 0..=255u8 {
                patterns_find(&with_selector(sel, body));
            }
            mutate(&with_selector(1, body), 100, patterns_find);
            mutate(&with_selector(2, body), 100, patterns_find);
        }
        let mut hits = Vec::new();
        detectors().find(Context::Uri, bodies[0], &mut hits);
        assert!(
            hits.iter().any(|h| h.value == "356938035643809"),
            "{hits:?}"
        );
    }

    #[test]
    fn vcard_parse_on_exports() {
        let v3 = b"BEGIN:VCARD\nVERSION:3.0\nN:Lin;Chih-Hao;;;\nFN:Chih-Hao Lin\nitem1.TEL;type=CELL:+886 987 654 321\nEMAIL;TYPE=INTERNET:chlin@example.com\nEND:VCARD\n";
        let v21 = b"BEGIN:VCARD\nVERSION:2.1\nN;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:=E9=99=B3;=E7=BE=8E;;;\nTEL;CELL:0912-345-678\nTEL;HOME:02 2345 6789\nEND:VCARD\nBEGIN:VCARD\nVERSION:4.0\nFN:Mei\n  Chen\nTEL;VALUE=uri:tel:+886-2-2345-6789\nEND:VCARD\n";
        for seed in [&v3[..], &v21[..]] {
            vcard_parse(seed);
            mutate(seed, 300, vcard_parse);
        }
        let book = AddressBook::parse(v3, "t.vcf").unwrap();
        assert_eq!(book.cards[0].phones[0].text, "+886 987 654 321");
        vcard_parse(b"");
        vcard_parse(b"\xff\xfeB\0E\0");
    }

    #[test]
    fn profile_parse_on_profiles() {
        let small = b"[identifiers]\nimei = \"356938035643809\"\nphone = \"+886912345678\"\nwifi_mac = \"3c:5a:b4:01:02:03\"\n\n[owner]\nname = \"Chen Mei\"\n\n[[contacts]]\nname = \"Lin\"\nphone = \"0987654321\"\n\n[[locations]]\nlat = 25.0336\nlon = 121.5650\n";
        mutate(small, 40, profile_parse);
        profile_parse(crate::profile::TEMPLATE.as_bytes());
        mutate(crate::profile::TEMPLATE.as_bytes(), 40, profile_parse);
        // The profile holds its own values, so scanning its text finds them: the scan in
        // `profile_parse` is not vacuous.
        let (p, _) = Profile::parse(std::str::from_utf8(small).unwrap(), "t").unwrap();
        let v = Variants::build(&p);
        let scanner = Arc::new(Scanner::new(&v).unwrap());
        let mut hits = Vec::new();
        scanner.scan(&[small], &mut hits);
        assert!(
            hits.iter()
                .any(|h| v.get(h.variant).is_some_and(|x| x.label == "imei")),
            "{hits:?}"
        );
    }

    #[test]
    fn policy_parse_on_presets() {
        for name in Policy::preset_names() {
            let text = Policy::preset_text(name).unwrap();
            policy_parse(text.as_bytes());
            mutate(text.as_bytes(), 60, policy_parse);
        }
        // The subjects make the strict preset fire, so the checks above saw violations.
        let strict = Policy::preset("strict").unwrap();
        assert!(!policy::evaluate(&strict, Some("TW"), &subjects())
            .unwrap()
            .is_empty());
    }
}

//! Personal data found by its shape, for captures that come without a device profile.
//!
//! A lab that seeded the phone knows the values to look for; everyone else does not. Without a
//! profile the only clues are what a value looks like and the name it is sent under:
//! `imei=356938035643809` is an IMEI, and so is that number on its own, if less surely, because
//! its Luhn digit checks and its first two digits name a body that hands out IMEIs.
//!
//! [`Detectors::find`] takes one decoded piece of traffic and the [`Context`] it came in (a
//! request target, a form body, JSON, a header, a DNS name, an opaque payload) and reports
//! [`PatternHit`]s. It works in two layers:
//!
//! - a small key/value tokenizer per context: `k=v&...` for queries and forms, a lexical JSON
//!   walker (nested objects and arrays, string escapes, JSON or a query string inside a JSON
//!   string, partial documents), header names as keys, and `k=v`, `"k": v`, `k: v` and
//!   `<k>v</k>` anywhere in other text. A key is matched ignoring case and separators, so
//!   `deviceId`, `device-id` and `DEVICE_ID` are one key; `x-` prefixes and `a[b][c]` / `a.b`
//!   paths are looked through;
//! - detectors, each named in the hit ([`PatternHit::detector`]): value shapes under known keys
//!   (`key:imsi`, `key:iccid`, `key:android_id`, `key:advertising_id`, `key:serial`, ...), and
//!   shapes that stand on their own anywhere in text: `imei-luhn`, `phone` (E.164 checked
//!   against the numbering plans of libphonenumber), `email` (a real public suffix), `mac`,
//!   and `coordinates` (a latitude and a longitude in one object or query).
//!
//! The same value under a telling key is surer than loose in text, so a key hit hides a
//! text hit of the same data type over the same bytes.
//!
//! # Precision first
//!
//! A report that cries IMEI at every order number is worse than none. So a bare digit run is
//! never a phone number, a 15-digit number is an IMEI only with a Luhn digit and a known
//! Reporting Body, and not at all under keys such as `order_id` or `timestamp`; MACs must be
//! unicast and not the all-zero, broadcast or Android placeholder `02:00:00:00:00:00`; emails
//! must end in a known public suffix and not be role or placeholder addresses; coordinates need
//! both halves, in range, with at least three decimals (about 100 m). The tests hold a decoy
//! table (timestamps, UUIDs under other keys, SHA-1 hex, versions, IPv4 addresses, prices,
//! tracking ids) that must stay silent.
//!
//! # Limits
//!
//! Every scan is a forward pass with bounded look-around, so time is linear in the input. No
//! memory grows with the input but the hit list ([`MAX_HITS`] per call), the JSON nesting
//! tracked ([`MAX_DEPTH`]) and decoded copies of escaped values ([`MAX_DECODE`] bytes each).
//! Phone numbers are checked against the numbering plans at most [`MAX_PHONE_CHECKS`] times
//! per call, as that check is slow. What a cap drops is counted in the returned [`Skipped`].
//! Values that were percent-decoded or unescaped cannot point at their exact bytes: their hits
//! span the whole raw value. Multipart bodies, XML attributes and binary encodings (protobuf)
//! are read only as text.

use std::collections::HashMap;
use std::fmt;

use crate::decode::{percent_decode, unescape_json};
use crate::profile::luhn_digit;
use crate::variants::{Confidence, DataType};

/// Hits kept per call of [`Detectors::find`].
pub const MAX_HITS: usize = 4096;
/// Longest key kept in a hit, in bytes.
pub const MAX_KEY_LEN: usize = 64;
/// Longest normalised value kept in a hit, in bytes (cut at a character boundary).
pub const MAX_VALUE_LEN: usize = 128;
/// JSON nesting tracked; deeper containers are walked without their keys.
pub const MAX_DEPTH: usize = 32;
/// Longest decoded copy of one escaped value, in bytes.
pub const MAX_DECODE: usize = 1 << 20;
/// Phone numbers checked against the numbering plans per call.
pub const MAX_PHONE_CHECKS: usize = 256;

/// Structures nested in values (JSON in a JSON string, a query in a URL in JSON) followed.
const MAX_NESTED: u8 = 3;
/// Longest value read after a key found in free text.
const MAX_TEXT_VALUE: usize = 512;
/// Greatest distance between a latitude and a longitude found in free text.
const COORD_WINDOW: usize = 512;
/// Values split at `,;|` into at most this many parts (dual-SIM `imei=a,b`).
const MAX_PARTS: usize = 16;

/// Where the bytes given to [`Detectors::find`] came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Context<'a> {
    /// A request target or URL: `/path?k=v&...`.
    Uri,
    /// An `application/x-www-form-urlencoded` body.
    Form,
    /// A JSON document, whole or in part.
    Json,
    /// A header value; its name is the key.
    Header { name: &'a str },
    /// A message body; JSON and forms are recognised by content type or by sniffing.
    Body { content_type: Option<&'a str> },
    /// A DNS name (labels may carry identifiers).
    DnsName,
    /// Any other text or bytes.
    Payload,
}

/// One value that looks like personal data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatternHit {
    pub data_type: DataType,
    pub confidence: Confidence,
    /// Which detector fired: `imei-luhn`, `phone`, `email`, `mac`, `coordinates`, or
    /// `key:<name>` for values known by their key alone.
    pub detector: &'static str,
    /// The key the value was under, ASCII-lowercased, at most [`MAX_KEY_LEN`] bytes; for
    /// coordinates both keys, comma-separated.
    pub key: Option<String>,
    /// Offset of the value in the bytes given to [`Detectors::find`].
    pub offset: usize,
    pub len: usize,
    /// The value in a normal form (digits only, E.164, lowercase...), at most
    /// [`MAX_VALUE_LEN`] bytes.
    pub value: String,
}

/// What the caps of one call left out.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Skipped {
    /// Hits beyond [`MAX_HITS`].
    pub hits: usize,
    /// Decoded bytes beyond [`MAX_DECODE`], not scanned.
    pub bytes: usize,
    /// Phone candidates beyond [`MAX_PHONE_CHECKS`], reported without the plan check.
    pub phone_checks: usize,
}

/// The detectors, built once and shared by every thread.
pub struct Detectors {
    keys: HashMap<&'static str, Kind>,
}

impl fmt::Debug for Detectors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Detectors")
            .field("keys", &self.keys.len())
            .finish()
    }
}

impl Default for Detectors {
    fn default() -> Self {
        Self::new()
    }
}

impl Detectors {
    /// Builds the detectors. The numbering plans of the phone detector load on first use
    /// (tens of milliseconds, about a second in a debug build), so that a capture with no
    /// phone-number candidate never pays for them; [`Self::warm`] loads them ahead of time.
    pub fn new() -> Self {
        Self {
            keys: KEYS.iter().copied().collect(),
        }
    }

    /// Loads the numbering plans now, for a caller with a spare thread.
    pub fn warm() {
        let _ = phonenumber::parse(None, "+14155552671").map(|n| phonenumber::is_valid(&n));
    }

    /// Appends to `out` the personal data found in `bytes`, ordered by offset. Never panics;
    /// returns what the caps left out.
    pub fn find(&self, ctx: Context<'_>, bytes: &[u8], out: &mut Vec<PatternHit>) -> Skipped {
        let mut run = Run {
            det: self,
            hits: Vec::new(),
            skipped: Skipped::default(),
            phone_checks: 0,
            phone_cache: Vec::new(),
            claimed: [None; 4],
        };
        let map = Map::exact(0, bytes.len());
        match ctx {
            Context::Uri => run.uri(bytes, map, Group::None, 0),
            Context::Form => run.form(bytes, map, b"&;", Group::None, 0),
            Context::Json => run.json(bytes, map, Group::None, 0),
            Context::Header { name } => run.header(name.as_bytes(), bytes),
            Context::Body { content_type } => run.body(content_type, bytes),
            Context::DnsName => run.free(bytes, map, Group::None, false, true),
            Context::Payload => run.text(bytes, map),
        }
        run.finish(out)
    }

    /// What a key names: its last path component, without case, separators or an `x-`
    /// prefix; and the group (contacts, SMS) an earlier component puts it in.
    fn key(&self, raw: &[u8]) -> Key {
        let raw = trim_bytes(raw, b" \t\r\n\"'");
        let raw = raw.get(..256).unwrap_or(raw);
        let mut group = Group::None;
        let mut leaf: &[u8] = raw;
        if raw.iter().any(|b| matches!(b, b'[' | b']' | b'.')) {
            leaf = &[];
            for comp in raw.split(|b| matches!(b, b'[' | b']' | b'.')) {
                if comp.is_empty() || comp.iter().all(u8::is_ascii_digit) {
                    continue;
                }
                match self.kind(leaf) {
                    Some(Kind::Contacts) => group = Group::Contacts,
                    Some(Kind::Sms) => group = Group::Sms,
                    _ => {}
                }
                leaf = comp;
            }
        }
        let kind = self.kind(leaf);
        let deny = kind.is_none() && {
            let mut canon = [0u8; MAX_KEY_LEN];
            denies_numbers(canonical(leaf, &mut canon))
        };
        Key {
            name: KeyBuf::lower(raw),
            kind,
            group,
            deny,
        }
    }

    fn kind(&self, leaf: &[u8]) -> Option<Kind> {
        let mut buf = [0u8; MAX_KEY_LEN];
        let c = canonical(leaf, &mut buf);
        if c.is_empty() {
            return None;
        }
        let lookup = |c: &[u8]| {
            std::str::from_utf8(c)
                .ok()
                .and_then(|s| self.keys.get(s))
                .copied()
        };
        if let Some(k) = lookup(c) {
            return Some(k);
        }
        // `X-Imei`, `x_device_id`: a custom-header or private-field prefix.
        let stripped = leaf
            .get(..2)
            .filter(|p| p.eq_ignore_ascii_case(b"x-") || p.eq_ignore_ascii_case(b"x_"))
            .and_then(|_| leaf.get(2..));
        if let Some(k) =
            stripped.and_then(|rest| lookup(c.get(c.len().saturating_sub(canonical_len(rest))..)?))
        {
            return Some(k);
        }
        // `userImei`, `lastLatitude`: only names too distinctive to end another word.
        SUFFIXES
            .iter()
            .find(|(suffix, _)| c.len() > suffix.len() && c.ends_with(suffix.as_bytes()))
            .map(|(_, k)| *k)
    }
}

/// What a key says its value is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Imei,
    Meid,
    DeviceId,
    Imsi,
    Iccid,
    Phone,
    Email,
    AndroidId,
    AdId,
    Oaid,
    Serial,
    Mac,
    Ssid,
    Contacts,
    Sms,
    Lat,
    Lon,
    LatLon,
    /// `name`, `displayName`: a contact's name, but only inside contacts.
    Name,
    /// `body`, `text`: an SMS text, but only inside SMS.
    Body,
    /// `number`, `address`: a contact's or an SMS peer's number, only inside those.
    Number,
}

/// Key names, in canonical form (ASCII lowercase letters and digits only).
const KEYS: &[(&str, Kind)] = &[
    ("imei", Kind::Imei),
    ("imei1", Kind::Imei),
    ("imei2", Kind::Imei),
    ("imeinumber", Kind::Imei),
    ("imeino", Kind::Imei),
    ("imeiid", Kind::Imei),
    ("deviceimei", Kind::Imei),
    ("meid", Kind::Meid),
    ("deviceid", Kind::DeviceId),
    ("did", Kind::DeviceId),
    ("devid", Kind::DeviceId),
    ("udid", Kind::DeviceId),
    ("deviceidentifier", Kind::DeviceId),
    ("uniquedeviceid", Kind::DeviceId),
    ("hardwareid", Kind::DeviceId),
    ("hwid", Kind::DeviceId),
    ("imsi", Kind::Imsi),
    ("imsi1", Kind::Imsi),
    ("imsi2", Kind::Imsi),
    ("simimsi", Kind::Imsi),
    ("subscriberid", Kind::Imsi),
    ("iccid", Kind::Iccid),
    ("iccid1", Kind::Iccid),
    ("iccid2", Kind::Iccid),
    ("simiccid", Kind::Iccid),
    ("simserial", Kind::Iccid),
    ("simserialnumber", Kind::Iccid),
    ("phone", Kind::Phone),
    ("phone1", Kind::Phone),
    ("phone2", Kind::Phone),
    ("phonenumber", Kind::Phone),
    ("phoneno", Kind::Phone),
    ("phonenum", Kind::Phone),
    ("mobile", Kind::Phone),
    ("mobilenumber", Kind::Phone),
    ("mobileno", Kind::Phone),
    ("mobilenum", Kind::Phone),
    ("mobilephone", Kind::Phone),
    ("cellphone", Kind::Phone),
    ("tel", Kind::Phone),
    ("telno", Kind::Phone),
    ("telephone", Kind::Phone),
    ("msisdn", Kind::Phone),
    ("mdn", Kind::Phone),
    ("line1number", Kind::Phone),
    ("email", Kind::Email),
    ("emailaddress", Kind::Email),
    ("emailaddr", Kind::Email),
    ("mail", Kind::Email),
    ("mailaddress", Kind::Email),
    ("androidid", Kind::AndroidId),
    ("androididentifier", Kind::AndroidId),
    ("ssaid", Kind::AndroidId),
    ("gaid", Kind::AdId),
    ("idfa", Kind::AdId),
    ("adid", Kind::AdId),
    ("aaid", Kind::AdId),
    ("advertisingid", Kind::AdId),
    ("advertiserid", Kind::AdId),
    ("googleadid", Kind::AdId),
    ("gpsadid", Kind::AdId),
    ("adidentifier", Kind::AdId),
    ("oaid", Kind::Oaid),
    ("serial", Kind::Serial),
    ("serialno", Kind::Serial),
    ("serialnumber", Kind::Serial),
    ("deviceserial", Kind::Serial),
    ("buildserial", Kind::Serial),
    ("mac", Kind::Mac),
    ("macaddr", Kind::Mac),
    ("macaddress", Kind::Mac),
    ("wifimac", Kind::Mac),
    ("wifimacaddress", Kind::Mac),
    ("wlanmac", Kind::Mac),
    ("ethmac", Kind::Mac),
    ("btmac", Kind::Mac),
    ("btaddr", Kind::Mac),
    ("btaddress", Kind::Mac),
    ("bluetoothmac", Kind::Mac),
    ("bluetoothaddress", Kind::Mac),
    ("bssid", Kind::Mac),
    ("wifibssid", Kind::Mac),
    ("ssid", Kind::Ssid),
    ("wifissid", Kind::Ssid),
    ("wifiname", Kind::Ssid),
    ("contacts", Kind::Contacts),
    ("contactlist", Kind::Contacts),
    ("contactsinfo", Kind::Contacts),
    ("addressbook", Kind::Contacts),
    ("phonebook", Kind::Contacts),
    ("sms", Kind::Sms),
    ("smslist", Kind::Sms),
    ("smsbody", Kind::Sms),
    ("smstext", Kind::Sms),
    ("smscontent", Kind::Sms),
    ("smsmessage", Kind::Sms),
    ("smsmessages", Kind::Sms),
    ("lat", Kind::Lat),
    ("latitude", Kind::Lat),
    ("gpslat", Kind::Lat),
    ("lng", Kind::Lon),
    ("lon", Kind::Lon),
    ("long", Kind::Lon),
    ("longitude", Kind::Lon),
    ("gpslng", Kind::Lon),
    ("gpslon", Kind::Lon),
    ("location", Kind::LatLon),
    ("loc", Kind::LatLon),
    ("ll", Kind::LatLon),
    ("latlng", Kind::LatLon),
    ("latlon", Kind::LatLon),
    ("lnglat", Kind::LatLon),
    ("lonlat", Kind::LatLon),
    ("coords", Kind::LatLon),
    ("coordinate", Kind::LatLon),
    ("coordinates", Kind::LatLon),
    ("geo", Kind::LatLon),
    ("gps", Kind::LatLon),
    ("geolocation", Kind::LatLon),
    ("position", Kind::LatLon),
    ("name", Kind::Name),
    ("displayname", Kind::Name),
    ("fullname", Kind::Name),
    ("givenname", Kind::Name),
    ("familyname", Kind::Name),
    ("firstname", Kind::Name),
    ("lastname", Kind::Name),
    ("body", Kind::Body),
    ("text", Kind::Body),
    ("content", Kind::Body),
    ("message", Kind::Body),
    ("msg", Kind::Body),
    ("number", Kind::Number),
    ("address", Kind::Number),
    ("from", Kind::Number),
    ("sender", Kind::Number),
];

/// Key endings that name a value whatever comes before them, most specific first.
const SUFFIXES: &[(&str, Kind)] = &[
    ("phonenumber", Kind::Phone),
    ("advertisingid", Kind::AdId),
    ("serialnumber", Kind::Serial),
    ("emailaddress", Kind::Email),
    ("macaddress", Kind::Mac),
    ("longitude", Kind::Lon),
    ("androidid", Kind::AndroidId),
    ("latitude", Kind::Lat),
    ("serialno", Kind::Serial),
    ("deviceid", Kind::DeviceId),
    ("wifimac", Kind::Mac),
    ("msisdn", Kind::Phone),
    ("iccid", Kind::Iccid),
    ("email", Kind::Email),
    ("bssid", Kind::Mac),
    ("btmac", Kind::Mac),
    ("phone", Kind::Phone),
    ("imei", Kind::Imei),
    ("imsi", Kind::Imsi),
    ("idfa", Kind::AdId),
    ("gaid", Kind::AdId),
    ("oaid", Kind::Oaid),
];

/// Keys whose numbers are something else (times, orders, sizes, other ids): a 15-digit
/// number under them is not reported as an IMEI on its shape alone.
fn denies_numbers(canon: &[u8]) -> bool {
    const WORDS: &[&[u8]] = &[
        b"time", b"date", b"order", b"price", b"amount", b"trace", b"span", b"request", b"session",
        b"txn", b"trans", b"nonce", b"seq", b"version", b"build", b"expire", b"size", b"length",
        b"count", b"offset", b"ts",
    ];
    canon == b"t"
        || canon.ends_with(b"id")
        || canon.ends_with(b"ts")
        || WORDS
            .iter()
            .any(|w| canon.windows(w.len()).any(|x| x == *w))
}

/// How many bytes [`canonical`] keeps of `key`.
fn canonical_len(key: &[u8]) -> usize {
    key.iter().filter(|b| b.is_ascii_alphanumeric()).count()
}

/// The canonical form of a key: ASCII letters (lowercased) and digits, nothing else. Longer
/// than [`MAX_KEY_LEN`] gives the empty key.
fn canonical<'b>(key: &[u8], buf: &'b mut [u8; MAX_KEY_LEN]) -> &'b [u8] {
    let mut n = 0;
    for &b in key {
        if b.is_ascii_alphanumeric() {
            let Some(slot) = buf.get_mut(n) else {
                return &[];
            };
            *slot = b.to_ascii_lowercase();
            n += 1;
        }
    }
    buf.get(..n).unwrap_or(&[])
}

/// What a value's enclosing structure is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Group {
    None,
    Contacts,
    Sms,
}

/// A key, kept inline so walking JSON allocates nothing per key.
#[derive(Clone, Copy)]
struct KeyBuf {
    b: [u8; MAX_KEY_LEN],
    n: usize,
}

impl KeyBuf {
    fn lower(raw: &[u8]) -> Self {
        let mut k = Self {
            b: [0; MAX_KEY_LEN],
            n: 0,
        };
        k.extend(raw);
        k.b.make_ascii_lowercase();
        k
    }

    fn extend(&mut self, bytes: &[u8]) {
        for &c in bytes {
            let Some(slot) = self.b.get_mut(self.n) else {
                return;
            };
            *slot = c;
            self.n += 1;
        }
    }

    fn as_bytes(&self) -> &[u8] {
        self.b.get(..self.n).unwrap_or(&[])
    }

    fn text(&self) -> String {
        cap(&String::from_utf8_lossy(self.as_bytes()), MAX_KEY_LEN)
    }
}

#[derive(Clone, Copy)]
struct Key {
    name: KeyBuf,
    kind: Option<Kind>,
    group: Group,
    /// Numbers under this key are not IMEIs by shape alone.
    deny: bool,
}

/// How offsets in a (possibly decoded) value map back to the caller's bytes.
#[derive(Debug, Clone, Copy)]
struct Map {
    base: usize,
    len: usize,
    /// The text is the caller's bytes as they are: offsets map one to one. Otherwise hits
    /// span the whole raw value.
    exact: bool,
}

impl Map {
    const fn exact(base: usize, len: usize) -> Self {
        Self {
            base,
            len,
            exact: true,
        }
    }

    const fn inexact(self) -> Self {
        Self {
            exact: false,
            ..self
        }
    }

    /// The map of `text[off..off + len]`.
    fn sub(self, off: usize, len: usize) -> Self {
        if self.exact {
            Self::exact(self.base.saturating_add(off), len)
        } else {
            self
        }
    }

    fn span(self, off: usize, len: usize) -> (usize, usize) {
        if self.exact {
            (self.base.saturating_add(off), len)
        } else {
            (self.base, self.len)
        }
    }
}

/// One half of a location.
#[derive(Clone, Copy)]
struct Axis {
    deg: f64,
    off: usize,
    len: usize,
    text: KeyBuf,
    key: KeyBuf,
}

/// Latitude and longitude seen in one scope, waiting for their other half.
#[derive(Clone, Copy, Default)]
struct Coord {
    lat: Option<Axis>,
    lon: Option<Axis>,
    /// Free text has no scopes: halves farther apart than [`COORD_WINDOW`] are not a pair.
    window: bool,
}

/// One open JSON container.
struct Frame {
    is_array: bool,
    /// The key the container is the value of (for arrays, the key of their elements).
    parent: Option<Key>,
    group: Group,
    coord: Coord,
    /// The first two numbers of an array under a location key (`[121.5654, 25.033]`).
    nums: [Option<Axis>; 2],
    count: usize,
}

/// What to check a value against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Check {
    Imei,
    DeviceId,
    Meid,
    Imsi,
    Iccid,
    Phone(DataType),
    Email,
    AndroidId,
    AdId { oaid: bool },
    Serial,
    Mac,
    Ssid,
    Contacts,
    ContactName,
    Sms,
    Lat,
    Lon,
    LatLon,
}

fn check_for(kind: Kind, group: Group) -> Option<Check> {
    Some(match (kind, group) {
        (Kind::Imei, _) => Check::Imei,
        (Kind::Meid, _) => Check::Meid,
        (Kind::DeviceId, _) => Check::DeviceId,
        (Kind::Imsi, _) => Check::Imsi,
        (Kind::Iccid, _) => Check::Iccid,
        (Kind::Phone, Group::None) => Check::Phone(DataType::Phone),
        (Kind::Number, Group::None) => return None,
        (Kind::Phone | Kind::Number, _) => Check::Phone(DataType::ContactPhone),
        (Kind::Email, _) => Check::Email,
        (Kind::AndroidId, _) => Check::AndroidId,
        (Kind::AdId, _) => Check::AdId { oaid: false },
        (Kind::Oaid, _) => Check::AdId { oaid: true },
        (Kind::Serial, _) => Check::Serial,
        (Kind::Mac, _) => Check::Mac,
        (Kind::Ssid, _) => Check::Ssid,
        (Kind::Contacts, _) => Check::Contacts,
        (Kind::Sms, _) | (Kind::Body, Group::Sms) => Check::Sms,
        (Kind::Name, Group::Contacts) => Check::ContactName,
        (Kind::Lat, _) => Check::Lat,
        (Kind::Lon, _) => Check::Lon,
        (Kind::LatLon, _) => Check::LatLon,
        (Kind::Name | Kind::Body, _) => return None,
    })
}

impl Check {
    /// Values that may hold several, `,;|`-separated.
    const fn splits(self) -> bool {
        !matches!(
            self,
            Self::Serial
                | Self::Ssid
                | Self::Contacts
                | Self::ContactName
                | Self::Sms
                | Self::Lat
                | Self::Lon
                | Self::LatLon
        )
    }

    /// Values that may contain commas when read from free text.
    const fn commas(self) -> bool {
        matches!(
            self,
            Self::LatLon | Self::Ssid | Self::Contacts | Self::ContactName | Self::Sms
        )
    }

    /// Values that may contain spaces when read from free text.
    const fn spaces(self) -> bool {
        matches!(
            self,
            Self::Phone(_) | Self::Ssid | Self::Contacts | Self::ContactName | Self::Sms
        )
    }
}

/// What one check found in one value.
struct Found {
    data_type: DataType,
    confidence: Confidence,
    detector: &'static str,
    value: String,
}

impl Found {
    fn new(
        data_type: DataType,
        confidence: Confidence,
        detector: &'static str,
        value: impl Into<String>,
    ) -> Self {
        Self {
            data_type,
            confidence,
            detector,
            value: value.into(),
        }
    }
}

/// The state of one call.
struct Run<'d> {
    det: &'d Detectors,
    /// Hits and whether a key backs them.
    hits: Vec<(PatternHit, bool)>,
    skipped: Skipped,
    phone_checks: usize,
    /// Numbers already checked in this call: apps repeat the same number.
    phone_cache: Vec<(Digits, bool)>,
    /// Data types a key already found in the value being scanned as text: the text hits would
    /// only repeat them less surely.
    claimed: [Option<DataType>; 4],
}

impl Run<'_> {
    fn push(&mut self, found: Found, key: Option<String>, span: (usize, usize), keyed: bool) {
        if !keyed && self.claimed.contains(&Some(found.data_type)) {
            return;
        }
        if self.hits.len() >= MAX_HITS {
            self.skipped.hits = self.skipped.hits.saturating_add(1);
            return;
        }
        self.hits.push((
            PatternHit {
                data_type: found.data_type,
                confidence: found.confidence,
                detector: found.detector,
                key,
                offset: span.0,
                len: span.1,
                value: cap(&found.value, MAX_VALUE_LEN),
            },
            keyed,
        ));
    }

    /// Drops text hits that a key hit of the same data type covers, and duplicates.
    fn finish(self, out: &mut Vec<PatternHit>) -> Skipped {
        let Self {
            mut hits, skipped, ..
        } = self;
        let keyed: Vec<(DataType, usize, usize)> = hits
            .iter()
            .filter(|(_, k)| *k)
            .map(|(h, _)| (h.data_type, h.offset, h.offset.saturating_add(h.len)))
            .collect();
        hits.retain(|(h, k)| {
            *k || !keyed.iter().any(|&(t, s, e)| {
                t == h.data_type && h.offset < e && s < h.offset.saturating_add(h.len.max(1))
            })
        });
        hits.sort_by(|(a, _), (b, _)| {
            (a.offset, a.len, a.data_type, a.detector).cmp(&(
                b.offset,
                b.len,
                b.data_type,
                b.detector,
            ))
        });
        hits.dedup_by(|(a, _), (b, _)| a == b);
        out.extend(hits.into_iter().map(|(h, _)| h));
        skipped
    }

    fn header(&mut self, name: &[u8], value: &[u8]) {
        let map = Map::exact(0, value.len());
        let key = self.det.key(name);
        let mut coord = Coord::default();
        let mut buf = [0u8; MAX_KEY_LEN];
        let canon = canonical(name, &mut buf);
        if key.kind.is_some() {
            self.value(Some(&key), Group::None, value, map, &mut coord, true, 0);
        } else if canon == b"cookie" || canon == b"setcookie" {
            self.form(value, map, b";", Group::None, 0);
        } else if looks_like_json(trim_bytes(value, b" \t\r\n")) {
            self.json(value, map, Group::None, 0);
        } else {
            self.text(value, map);
        }
    }

    fn body(&mut self, content_type: Option<&str>, bytes: &[u8]) {
        let map = Map::exact(0, bytes.len());
        let ct = content_type.map(str::to_ascii_lowercase);
        match ct.as_deref() {
            Some(ct) if ct.contains("json") => self.json(bytes, map, Group::None, 0),
            Some(ct) if ct.contains("x-www-form-urlencoded") => {
                self.form(bytes, map, b"&", Group::None, 0);
            }
            _ if looks_like_form(bytes) => self.form(bytes, map, b"&", Group::None, 0),
            _ => self.text(bytes, map),
        }
    }

    /// Opaque text: JSON if it looks like JSON, else keys found anywhere plus text detectors.
    fn text(&mut self, t: &[u8], map: Map) {
        if looks_like_json(trim_bytes(t, b" \t\r\n")) {
            self.json(t, map, Group::None, 0);
            return;
        }
        let mut coord = Coord {
            window: true,
            ..Coord::default()
        };
        for (i, &c) in t.iter().enumerate() {
            let found = match c {
                b'=' => self.text_key_before(t, i, false),
                b':' => self.text_key_before(t, i, true),
                b'>' => self.xml_key_before(t, i),
                _ => None,
            };
            let Some(key) = found else { continue };
            let Some(check) = key.kind.and_then(|k| check_for(k, key.group)) else {
                continue;
            };
            let (vs, ve) = text_value(t, i.saturating_add(1), check, c == b'>');
            if let Some(v) = t.get(vs..ve) {
                self.value(
                    Some(&key),
                    key.group,
                    v,
                    map.sub(vs, ve.saturating_sub(vs)),
                    &mut coord,
                    false,
                    MAX_NESTED,
                );
            }
        }
        self.free(t, map, Group::None, false, false);
    }

    /// The key right before `t[i]` (`=` or `:`), bare or quoted.
    fn text_key_before(&self, t: &[u8], i: usize, colon: bool) -> Option<Key> {
        let mut e = i;
        if colon {
            while e > 0 && i - e < 8 && t.get(e - 1) == Some(&b' ') {
                e -= 1;
            }
        }
        let before = t.get(..e)?;
        let (s, e) = if before.last() == Some(&b'"') {
            let inner = before.get(..e - 1)?;
            let start = inner.iter().rposition(|&b| b == b'"')?;
            if e - 1 - start > MAX_KEY_LEN + 1 {
                return None;
            }
            (start + 1, e - 1)
        } else {
            let mut s = e;
            while s > 0 && is_key_byte(t.get(s - 1).copied().unwrap_or(b' ')) {
                s -= 1;
                if e - s > MAX_KEY_LEN {
                    return None;
                }
            }
            (s, e)
        };
        let raw = t.get(s..e).filter(|k| !k.is_empty())?;
        Some(self.det.key(raw)).filter(|k| k.kind.is_some())
    }

    /// `<key>` or `<key attr="...">` right before `t[i]` (`>`).
    fn xml_key_before(&self, t: &[u8], i: usize) -> Option<Key> {
        let from = i.saturating_sub(MAX_KEY_LEN + 64);
        let open = from + t.get(from..i)?.iter().rposition(|&b| b == b'<')?;
        let tag = t.get(open + 1..i)?;
        let name_end = tag
            .iter()
            .position(|b| b.is_ascii_whitespace() || *b == b'/')
            .unwrap_or(tag.len());
        let name = tag.get(..name_end)?;
        if name.is_empty() || !name.iter().all(|&b| is_key_byte(b)) || tag.last() == Some(&b'/') {
            return None;
        }
        Some(self.det.key(name)).filter(|k| k.kind.is_some())
    }

    /// A request target: `/a/b?k=v&...#frag`. `/imei/<value>` path pairs count as keys.
    fn uri(&mut self, t: &[u8], map: Map, group: Group, nested: u8) {
        let end = t.iter().position(|&b| b == b'#').unwrap_or(t.len());
        let t = t.get(..end).unwrap_or(t);
        let q = t.iter().position(|&b| b == b'?').unwrap_or(t.len());
        let path = t.get(..q).unwrap_or(&[]);
        let mut coord = Coord::default();
        let mut prev: Option<Key> = None;
        let mut off = 0;
        for seg in path.split(|&b| b == b'/') {
            if let Some(key) = prev.take() {
                let mut buf = Vec::new();
                let (v, m) = self.decode_percent(seg, map.sub(off, seg.len()), false, &mut buf);
                self.value(Some(&key), group, v, m, &mut coord, false, nested);
            }
            if seg.len() <= MAX_KEY_LEN && !seg.is_empty() {
                let key = self.det.key(seg);
                if key.kind.is_some() {
                    prev = Some(key);
                }
            }
            off += seg.len() + 1;
        }
        let mut buf = Vec::new();
        let (p, m) = self.decode_percent(path, map.sub(0, path.len()), false, &mut buf);
        self.free(p, m, group, false, false);
        if let Some(query) = t.get(q + 1..) {
            self.form(query, map.sub(q + 1, query.len()), b"&;", group, nested);
        }
    }

    /// `k=v` pairs separated by any of `seps`; percent-decoded (`+` as space but in cookies).
    fn form(&mut self, t: &[u8], map: Map, seps: &[u8], group: Group, nested: u8) {
        let plus = !seps.contains(&b';') || seps.contains(&b'&');
        let mut coord = Coord::default();
        let mut off = 0;
        for seg in t.split(|b| seps.contains(b)) {
            let seg_map = map.sub(off, seg.len());
            off += seg.len() + 1;
            let Some(eq) = seg.iter().position(|&b| b == b'=') else {
                let mut buf = Vec::new();
                let (v, m) = self.decode_percent(seg, seg_map, plus, &mut buf);
                self.free(v, m, group, false, false);
                continue;
            };
            let (k, v) = (
                seg.get(..eq).unwrap_or(&[]),
                seg.get(eq + 1..).unwrap_or(&[]),
            );
            let mut kbuf = Vec::new();
            let (kd, _) = self.decode_percent(k.get(..256).unwrap_or(k), seg_map, plus, &mut kbuf);
            let key = self.det.key(kd);
            let mut vbuf = Vec::new();
            let (vd, vm) = self.decode_percent(v, seg_map.sub(eq + 1, v.len()), plus, &mut vbuf);
            self.value(Some(&key), group, vd, vm, &mut coord, true, nested);
        }
    }

    /// Percent-decodes `t` into `buf` if it needs it, at most [`MAX_DECODE`] bytes.
    fn decode_percent<'a>(
        &mut self,
        t: &'a [u8],
        map: Map,
        plus: bool,
        buf: &'a mut Vec<u8>,
    ) -> (&'a [u8], Map) {
        if !t.iter().any(|&b| b == b'%' || (plus && b == b'+')) {
            return (t, map);
        }
        let left = percent_decode(t, plus, buf, MAX_DECODE);
        self.skipped.bytes = self.skipped.bytes.saturating_add(left);
        (buf.as_slice(), map.inexact())
    }

    /// A lexical JSON walk: tolerant of partial documents and junk between tokens.
    fn json(&mut self, t: &[u8], map: Map, group: Group, nested: u8) {
        let mut stack: Vec<Frame> = Vec::new();
        let mut deep = 0usize;
        let mut pending: Option<Key> = None;
        let mut top = Coord::default();
        let mut i = 0;
        while i < t.len() {
            let c = t.get(i).copied().unwrap_or(0);
            match c {
                b'{' | b'[' => {
                    let is_array = c == b'[';
                    if stack.len() >= MAX_DEPTH {
                        deep += 1;
                        pending = None;
                    } else {
                        let outer = stack.last();
                        let inherited = outer.map_or(group, |f| f.group);
                        // `[[lon, lat], ...]`: inner arrays keep the outer array's key.
                        let parent = pending.take().or_else(|| {
                            outer
                                .filter(|f| f.is_array && is_array)
                                .and_then(|f| f.parent)
                        });
                        let g = match parent {
                            Some(Key {
                                kind: Some(Kind::Contacts),
                                ..
                            }) => Group::Contacts,
                            Some(Key {
                                kind: Some(Kind::Sms),
                                ..
                            }) => Group::Sms,
                            Some(k) if k.group != Group::None => k.group,
                            _ => inherited,
                        };
                        stack.push(Frame {
                            is_array,
                            parent,
                            group: g,
                            coord: Coord::default(),
                            nums: [None; 2],
                            count: 0,
                        });
                    }
                    i += 1;
                }
                b'}' | b']' => {
                    if deep > 0 {
                        deep -= 1;
                    } else if let Some(f) = stack.pop() {
                        if let (true, [Some(a), Some(b)], 2) = (f.is_array, f.nums, f.count) {
                            self.coord_emit(a, b, map);
                        }
                    }
                    pending = None;
                    i += 1;
                }
                b',' => {
                    pending = None;
                    i += 1;
                }
                b'"' => {
                    let (end, escaped) = string_end(t, i + 1);
                    let raw = t.get(i + 1..end).unwrap_or(&[]);
                    let next = if end < t.len() { end + 1 } else { end };
                    let mut j = next;
                    while t.get(j).is_some_and(u8::is_ascii_whitespace) {
                        j += 1;
                    }
                    if t.get(j) == Some(&b':') {
                        pending = Some(self.det.key(raw));
                        i = j + 1;
                        continue;
                    }
                    // A document cut inside a string starts out of phase: its strings are the
                    // gaps between real ones, followed by neither `,` `:` `}` nor `]`. The
                    // closing quote is then an opening one.
                    if t.get(j).is_some_and(|b| !b",}]".contains(b)) {
                        i = end;
                        continue;
                    }
                    let mut buf = Vec::new();
                    let (v, m) = if escaped {
                        self.skipped.bytes = self
                            .skipped
                            .bytes
                            .saturating_add(unescape_json(raw, &mut buf, MAX_DECODE));
                        (buf.as_slice(), map.sub(i + 1, raw.len()).inexact())
                    } else {
                        (raw, map.sub(i + 1, raw.len()))
                    };
                    self.json_value(&mut stack, &mut top, pending.take(), group, v, m, nested);
                    i = next;
                }
                b'-' | b'0'..=b'9' => {
                    let len = t
                        .get(i..)
                        .unwrap_or(&[])
                        .iter()
                        .position(|&b| !matches!(b, b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E'))
                        .unwrap_or(t.len() - i);
                    let v = t.get(i..i + len).unwrap_or(&[]);
                    self.json_value(
                        &mut stack,
                        &mut top,
                        pending.take(),
                        group,
                        v,
                        map.sub(i, len),
                        nested,
                    );
                    i += len.max(1);
                }
                _ => i += 1,
            }
        }
    }

    #[allow(clippy::too_many_arguments)] // the walker's state, passed apart to satisfy borrows
    fn json_value(
        &mut self,
        stack: &mut [Frame],
        top: &mut Coord,
        pending: Option<Key>,
        group: Group,
        v: &[u8],
        m: Map,
        nested: u8,
    ) {
        let frame = stack.last_mut();
        let (key, group, coord) = match frame {
            Some(f) => {
                let key = pending.or(if f.is_array { f.parent } else { None });
                if f.is_array && pending.is_none() {
                    if let Some(Kind::LatLon) = f.parent.and_then(|k| k.kind) {
                        if let Some(slot) = f.nums.get_mut(f.count) {
                            *slot = axis(v, m, f.parent.map(|k| k.name));
                        }
                        f.count = f.count.saturating_add(1);
                        return;
                    }
                }
                (key, f.group, &mut f.coord)
            }
            None => (pending, group, top),
        };
        self.value(key.as_ref(), group, v, m, coord, true, nested);
    }

    /// One value under `key`: key checks, coordinates, nested structures, text detectors.
    #[allow(clippy::too_many_arguments)] // one call site per context; a struct would only rename them
    fn value(
        &mut self,
        key: Option<&Key>,
        group: Group,
        text: &[u8],
        map: Map,
        coord: &mut Coord,
        free: bool,
        nested: u8,
    ) {
        let (s, e) = trim_range(text, b" \t\r\n\"'");
        let Some(t) = text.get(s..e).filter(|t| !t.is_empty()) else {
            return;
        };
        let map = map.sub(s, e - s);
        let group = match key {
            Some(k) if k.group != Group::None => k.group,
            _ => group,
        };
        if nested < MAX_NESTED {
            let inner = match key.and_then(|k| k.kind) {
                Some(Kind::Contacts) => Group::Contacts,
                Some(Kind::Sms) => Group::Sms,
                _ => group,
            };
            if looks_like_json(t) && t.len() > 2 {
                self.json(t, map, inner, nested + 1);
                return;
            }
            if t.contains(&b'=') && !t.iter().any(u8::is_ascii_whitespace) {
                if t.contains(&b'?') {
                    self.uri(t, map, inner, nested + 1);
                    return;
                }
                if t.contains(&b'&') {
                    self.form(t, map, b"&", inner, nested + 1);
                    return;
                }
            }
        }
        let check = key.and_then(|k| k.kind).and_then(|k| check_for(k, group));
        let before = self.hits.len();
        if let (Some(check), Some(key)) = (check, key) {
            self.keyed(check, key, t, map, coord);
        }
        if free {
            let deny = key.is_some_and(|k| k.deny && k.kind.is_none());
            let mut claimed = [None; 4];
            for (slot, (h, _)) in claimed.iter_mut().zip(self.hits.iter().skip(before)) {
                *slot = Some(h.data_type);
            }
            self.claimed = claimed;
            self.free(t, map, group, deny, false);
            self.claimed = [None; 4];
        }
    }

    fn keyed(&mut self, check: Check, key: &Key, t: &[u8], map: Map, coord: &mut Coord) {
        match check {
            Check::Lat | Check::Lon => {
                if let Some(a) = axis(t, map, Some(key.name)) {
                    self.coord_half(coord, check == Check::Lat, a, map);
                }
                return;
            }
            Check::LatLon => {
                if let Some((a, b)) = pair(t) {
                    let (x, y) = (
                        axis(a.0, map.sub(a.1, a.0.len()), Some(key.name)),
                        axis(b.0, map.sub(b.1, b.0.len()), Some(key.name)),
                    );
                    if let (Some(x), Some(y)) = (x, y) {
                        self.coord_emit(x, y, map);
                    }
                }
                return;
            }
            _ => {}
        }
        let mut parts = 0;
        let mut off = 0;
        let pieces: Box<dyn Iterator<Item = &[u8]>> = if check.splits() {
            Box::new(t.split(|b| matches!(b, b',' | b';' | b'|')))
        } else {
            Box::new(std::iter::once(t))
        };
        for piece in pieces {
            let poff = off;
            off += piece.len() + 1;
            parts += 1;
            if parts > MAX_PARTS {
                break;
            }
            let (s, e) = trim_range(piece, b" \t\r\n\"'[]");
            let Some(p) = piece.get(s..e).filter(|p| !p.is_empty()) else {
                continue;
            };
            if let Some(found) = self.check(check, p) {
                let span = map.span(poff + s, e - s);
                self.push(found, Some(key.name.text()), span, true);
            }
        }
    }

    fn check(&mut self, check: Check, p: &[u8]) -> Option<Found> {
        match check {
            Check::Imei => imei_keyed(p, true),
            Check::Meid => meid(p).or_else(|| imei_keyed(p, true)),
            Check::DeviceId => imei_keyed(p, false).or_else(|| {
                android_id(p, 16).map(|v| {
                    Found::new(DataType::AndroidId, Confidence::Medium, "key:android_id", v)
                })
            }),
            Check::Imsi => imsi(p),
            Check::Iccid => iccid(p),
            Check::Phone(dt) => self.phone_keyed(p, dt),
            Check::Email => email_whole(p, true)
                .map(|v| Found::new(DataType::Email, Confidence::High, "email", v)),
            Check::AndroidId => android_id(p, 13)
                .map(|v| Found::new(DataType::AndroidId, Confidence::High, "key:android_id", v)),
            Check::AdId { oaid } => ad_id(p, oaid),
            Check::Serial => serial(p),
            Check::Mac => mac_any(p).map(|m| Found::new(DataType::Mac, Confidence::High, "mac", m)),
            Check::Ssid => ssid(p),
            Check::Contacts => self.phone_keyed(p, DataType::ContactPhone).or_else(|| {
                words(p, 3)
                    .map(|v| Found::new(DataType::ContactName, Confidence::Low, "key:contacts", v))
            }),
            Check::ContactName => words(p, 1)
                .filter(|v| v.len() <= 64 && !v.contains('@'))
                .map(|v| {
                    Found::new(
                        DataType::ContactName,
                        Confidence::Medium,
                        "key:contact_name",
                        v,
                    )
                }),
            Check::Sms => {
                words(p, 2).map(|v| Found::new(DataType::Sms, Confidence::Medium, "key:sms", v))
            }
            Check::Lat | Check::Lon | Check::LatLon => None,
        }
    }

    /// A phone number under a phone key: international numbers are checked against the
    /// numbering plans; national ones (no country to check against) go by length.
    fn phone_keyed(&mut self, p: &[u8], dt: DataType) -> Option<Found> {
        let p = strip_prefix_ci(p, b"tel:");
        if !p
            .iter()
            .enumerate()
            .all(|(i, &b)| b.is_ascii_digit() || b" -.()/".contains(&b) || (b == b'+' && i == 0))
        {
            return None;
        }
        let mut d = Digits::default();
        for &b in p.iter().filter(|b| b.is_ascii_digit()) {
            d.push(b)?;
        }
        let intl = p.first() == Some(&b'+') || d.as_bytes().starts_with(b"00");
        if intl {
            let body = if p.first() == Some(&b'+') {
                d
            } else {
                d.skip(2)
            };
            if !(7..=15).contains(&body.n) || body.all_same() {
                return None;
            }
            let confidence = if self.valid_e164(&body) == Some(false) {
                Confidence::Medium
            } else {
                Confidence::High
            };
            return Some(Found::new(
                dt,
                confidence,
                "phone",
                format!("+{}", body.text()),
            ));
        }
        if !(7..=15).contains(&d.n) || d.all_same() {
            return None;
        }
        let confidence = if (9..=12).contains(&d.n) {
            Confidence::High
        } else {
            Confidence::Medium
        };
        Some(Found::new(dt, confidence, "phone", d.text()))
    }

    /// Whether `+digits` is a valid number in the ITU/libphonenumber plans; `None` once the
    /// per-call budget is spent.
    fn valid_e164(&mut self, d: &Digits) -> Option<bool> {
        if let Some((_, ok)) = self.phone_cache.iter().find(|(x, _)| x == d) {
            return Some(*ok);
        }
        if self.phone_checks >= MAX_PHONE_CHECKS {
            self.skipped.phone_checks = self.skipped.phone_checks.saturating_add(1);
            return None;
        }
        self.phone_checks += 1;
        let ok = phonenumber::parse(None, format!("+{}", d.text()))
            .map(|n| phonenumber::is_valid(&n))
            .unwrap_or(false);
        if self.phone_cache.len() < 32 {
            self.phone_cache.push((*d, ok));
        }
        Some(ok)
    }

    fn coord_half(&mut self, coord: &mut Coord, lat: bool, a: Axis, map: Map) {
        if lat && a.deg.abs() > 90.0 {
            return;
        }
        let window = coord.window;
        let far = |o: &Axis| window && o.off.abs_diff(a.off) > COORD_WINDOW;
        if lat {
            coord.lat = Some(a);
            if coord.lon.as_ref().is_some_and(far) {
                coord.lon = None;
            }
        } else {
            coord.lon = Some(a);
            if coord.lat.as_ref().is_some_and(far) {
                coord.lat = None;
            }
        }
        if let (Some(la), Some(lo)) = (coord.lat, coord.lon) {
            coord.lat = None;
            coord.lon = None;
            if lo.deg.abs() <= 180.0 {
                self.emit_location(la, lo, map);
            }
        }
    }

    /// Two numbers given together (`"25.0330,121.5654"`, `[121.5654, 25.0330]`), in either
    /// order.
    fn coord_emit(&mut self, a: Axis, b: Axis, map: Map) {
        let ok = (a.deg.abs() <= 90.0 && b.deg.abs() <= 180.0)
            || (a.deg.abs() <= 180.0 && b.deg.abs() <= 90.0);
        if ok {
            self.emit_location(a, b, map);
        }
    }

    fn emit_location(&mut self, a: Axis, b: Axis, map: Map) {
        if a.deg == 0.0 && b.deg == 0.0 {
            return;
        }
        let (first, second) = if a.off <= b.off { (a, b) } else { (b, a) };
        let start = first.off;
        let end = (first.off.saturating_add(first.len)).max(second.off.saturating_add(second.len));
        let span = if map.exact {
            (start, end - start)
        } else {
            (map.base, map.len)
        };
        let key = if a.key.as_bytes() == b.key.as_bytes() {
            a.key.text()
        } else {
            let mut k = a.key;
            k.extend(b",");
            k.extend(b.key.as_bytes());
            k.text()
        };
        let value = format!(
            "{},{}",
            String::from_utf8_lossy(a.text.as_bytes()),
            String::from_utf8_lossy(b.text.as_bytes())
        );
        self.push(
            Found::new(DataType::Location, Confidence::High, "coordinates", value),
            Some(key),
            span,
            true,
        );
    }

    /// Shapes that stand on their own in any text.
    fn free(&mut self, t: &[u8], map: Map, group: Group, deny_numbers: bool, dns: bool) {
        if !deny_numbers {
            self.free_imei(t, map, dns);
        }
        self.free_mac(t, map);
        if !dns {
            self.free_phone(t, map, group);
            self.free_email(t, map);
        }
    }

    /// 15-digit runs with a valid Luhn digit and a Reporting Body that allocates IMEIs.
    fn free_imei(&mut self, t: &[u8], map: Map, dns: bool) {
        let mut i = 0;
        while i < t.len() {
            if !t.get(i).is_some_and(u8::is_ascii_digit) {
                i += 1;
                continue;
            }
            let len = t
                .get(i..)
                .unwrap_or(&[])
                .iter()
                .position(|b| !b.is_ascii_digit())
                .unwrap_or(t.len() - i);
            let run = t.get(i..i + len).unwrap_or(&[]);
            let before = i.checked_sub(1).and_then(|j| t.get(j)).copied();
            let after = t.get(i + len).copied();
            let after2 = t.get(i + len + 1).copied();
            let glued_before = before
                .is_some_and(|b| b.is_ascii_alphanumeric() || b == b'+' || (!dns && b == b'.'));
            let glued_after = after.is_some_and(|b| b.is_ascii_alphanumeric())
                || (!dns && after == Some(b'.') && after2.is_some_and(|b| b.is_ascii_digit()));
            let bounded = !glued_before && !glued_after;
            if len == 15 && bounded && luhn_ok(run) && !all_same(run) && rbi_ok(run) {
                let value = String::from_utf8_lossy(run).into_owned();
                self.push(
                    Found::new(DataType::Imei, Confidence::Low, "imei-luhn", value),
                    None,
                    map.span(i, len),
                    false,
                );
            }
            i += len;
        }
    }

    /// `aa:bb:cc:dd:ee:ff` or with dashes, unicast, not a placeholder.
    fn free_mac(&mut self, t: &[u8], map: Map) {
        let mut i = 0;
        while i + 17 <= t.len() {
            let sep = t.get(i + 2).copied().unwrap_or(0);
            let bad_edge = |b: u8| b.is_ascii_alphanumeric() || b == b':' || b == b'-' || b == b'.';
            let hit = (sep == b':' || sep == b'-')
                && t.get(i).is_some_and(u8::is_ascii_hexdigit)
                && !i
                    .checked_sub(1)
                    .and_then(|j| t.get(j))
                    .is_some_and(|&b| bad_edge(b))
                && !t
                    .get(i + 17)
                    .is_some_and(|&b| b.is_ascii_alphanumeric() || b == sep);
            if hit {
                if let Some(m) = t.get(i..i + 17).and_then(|w| mac_sep(w, sep)) {
                    self.push(
                        Found::new(DataType::Mac, Confidence::Medium, "mac", m),
                        None,
                        map.span(i, 17),
                        false,
                    );
                    i += 17;
                    continue;
                }
            }
            i += 1;
        }
    }

    /// `+CC...` numbers that the numbering plans call valid.
    fn free_phone(&mut self, t: &[u8], map: Map, group: Group) {
        let dt = if group == Group::None {
            DataType::Phone
        } else {
            DataType::ContactPhone
        };
        for i in 0..t.len() {
            if t.get(i) != Some(&b'+') {
                continue;
            }
            let before = i.checked_sub(1).and_then(|j| t.get(j)).copied();
            if before.is_some_and(|b| b.is_ascii_alphanumeric() || b == b'+') {
                continue;
            }
            let mut d = Digits::default();
            let mut end = i + 1;
            let mut j = i + 1;
            let mut seps = 0;
            let mut ok = true;
            while let Some(&b) = t.get(j) {
                if j - i > 24 {
                    ok = false;
                    break;
                }
                if b.is_ascii_digit() {
                    if d.push(b).is_none() {
                        ok = false;
                        break;
                    }
                    seps = 0;
                    end = j + 1;
                } else if b" -.()".contains(&b) && d.n > 0 && seps < 2 {
                    seps += 1;
                } else {
                    break;
                }
                j += 1;
            }
            if !ok
                || !(7..=15).contains(&d.n)
                || t.get(end).is_some_and(|b| b.is_ascii_alphanumeric())
                || !t.get(i + 1).is_some_and(u8::is_ascii_digit)
            {
                continue;
            }
            if self.valid_e164(&d) == Some(true) {
                self.push(
                    Found::new(dt, Confidence::Medium, "phone", format!("+{}", d.text())),
                    None,
                    map.span(i, end - i),
                    false,
                );
            }
        }
    }

    fn free_email(&mut self, t: &[u8], map: Map) {
        for at in 0..t.len() {
            if t.get(at) != Some(&b'@') {
                continue;
            }
            if let Some((s, e, v)) = email_at(t, at, false) {
                self.push(
                    Found::new(DataType::Email, Confidence::Medium, "email", v),
                    None,
                    map.span(s, e - s),
                    false,
                );
            }
        }
    }
}

/// Up to 20 ASCII digits, inline.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Digits {
    b: [u8; 20],
    n: usize,
}

impl Digits {
    fn push(&mut self, d: u8) -> Option<()> {
        *self.b.get_mut(self.n)? = d;
        self.n += 1;
        Some(())
    }
    fn as_bytes(&self) -> &[u8] {
        self.b.get(..self.n).unwrap_or(&[])
    }
    fn skip(&self, k: usize) -> Self {
        let mut d = Self::default();
        for &b in self.as_bytes().get(k..).unwrap_or(&[]) {
            let _ = d.push(b);
        }
        d
    }
    fn all_same(&self) -> bool {
        all_same(self.as_bytes())
    }
    fn text(&self) -> String {
        String::from_utf8_lossy(self.as_bytes()).into_owned()
    }
}

/// Reporting Body Identifiers (the first two digits of a TAC) that allocate or once allocated
/// IMEIs, from GSMA TS.06 Appendix A. The test ranges 00 and 02-09 are left out on purpose.
const RBI: [u8; 17] = [
    1, 10, 30, 33, 35, 44, 45, 49, 50, 51, 52, 53, 54, 86, 91, 98, 99,
];

fn rbi_ok(d: &[u8]) -> bool {
    match d {
        [a, b, ..] => RBI.contains(
            &(a.wrapping_sub(b'0')
                .wrapping_mul(10)
                .wrapping_add(b.wrapping_sub(b'0'))),
        ),
        _ => false,
    }
}

/// Mobile Country Codes assigned in ITU-T E.212 (and its list of assigned codes), plus 001
/// (test networks) and 999 (internal use), both met on lab SIMs.
const MCC: &[u16] = &[
    1, 202, 204, 206, 208, 212, 213, 214, 216, 218, 219, 220, 221, 222, 225, 226, 228, 230, 231,
    232, 234, 235, 238, 240, 242, 244, 246, 247, 248, 250, 255, 257, 259, 260, 262, 266, 268, 270,
    272, 274, 276, 278, 280, 282, 283, 284, 286, 288, 289, 290, 292, 293, 294, 295, 297, 302, 308,
    310, 311, 312, 313, 314, 315, 316, 330, 332, 334, 338, 340, 342, 344, 346, 348, 350, 352, 354,
    356, 358, 360, 362, 363, 364, 365, 366, 368, 370, 372, 374, 376, 400, 401, 402, 404, 405, 406,
    410, 412, 413, 414, 415, 416, 417, 418, 419, 420, 421, 422, 424, 425, 426, 427, 428, 429, 430,
    431, 432, 434, 436, 437, 438, 440, 441, 450, 452, 454, 455, 456, 457, 460, 461, 466, 467, 470,
    472, 502, 505, 510, 514, 515, 520, 525, 528, 530, 536, 537, 539, 540, 541, 542, 543, 544, 545,
    546, 547, 548, 549, 550, 551, 552, 553, 554, 555, 602, 603, 604, 605, 606, 607, 608, 609, 610,
    611, 612, 613, 614, 615, 616, 617, 618, 619, 620, 621, 622, 623, 624, 625, 626, 627, 628, 629,
    630, 631, 632, 633, 634, 635, 636, 637, 638, 639, 640, 641, 642, 643, 645, 646, 647, 648, 649,
    650, 651, 652, 653, 654, 655, 657, 658, 659, 702, 704, 706, 708, 710, 712, 714, 716, 722, 724,
    730, 732, 734, 736, 738, 740, 742, 744, 746, 748, 750, 901, 999,
];

fn mcc_ok(d: &[u8]) -> bool {
    let Some(m) = d.get(..3) else { return false };
    let mcc = m
        .iter()
        .fold(0u16, |acc, b| acc * 10 + u16::from(b.saturating_sub(b'0')));
    MCC.binary_search(&mcc).is_ok()
}

/// A full number (check digit last) passes the Luhn check (ISO/IEC 7812-1 Annex B, as IMEI in
/// 3GPP TS 23.003 6.2.1 and ICCID in ITU-T E.118 use it).
fn luhn_ok(d: &[u8]) -> bool {
    let Some((check, body)) = d.split_last() else {
        return false;
    };
    std::str::from_utf8(body)
        .ok()
        .and_then(luhn_digit)
        .is_some_and(|c| c + b'0' == *check)
}

fn all_same(d: &[u8]) -> bool {
    d.windows(2).all(|w| w.first() == w.get(1))
}

/// Digits with the separators people type (`35-693803-564380-9`) removed; `None` if anything
/// else is there or there are more than 20.
fn digits_only(p: &[u8]) -> Option<Digits> {
    let mut d = Digits::default();
    for &b in p {
        match b {
            b'0'..=b'9' => d.push(b)?,
            b' ' | b'-' | b'/' => {}
            _ => return None,
        }
    }
    Some(d)
}

/// An IMEI under a key: 15 digits with a valid Luhn digit; 14 (no check digit) only under
/// an IMEI key proper.
fn imei_keyed(p: &[u8], imei_key: bool) -> Option<Found> {
    let d = digits_only(p)?;
    let b = d.as_bytes();
    if d.all_same() {
        return None;
    }
    match d.n {
        15 if luhn_ok(b) => Some(Found::new(
            DataType::Imei,
            Confidence::High,
            "imei-luhn",
            d.text(),
        )),
        14 if imei_key => Some(Found::new(
            DataType::Imei,
            Confidence::Medium,
            "key:imei",
            d.text(),
        )),
        _ => None,
    }
}

/// A MEID: 14 hex digits whose first two (the regional code) are A0 or above (3GPP2
/// S.R0048).
fn meid(p: &[u8]) -> Option<Found> {
    let h = hex_only(p, 14)?;
    let rr = u8::from_str_radix(h.get(..2)?, 16).ok()?;
    (h.len() == 14 && rr >= 0xa0)
        .then(|| Found::new(DataType::Imei, Confidence::High, "key:meid", h))
}

fn imsi(p: &[u8]) -> Option<Found> {
    let d = digits_only(p)?;
    ((14..=15).contains(&d.n) && mcc_ok(d.as_bytes()) && !d.all_same())
        .then(|| Found::new(DataType::Imsi, Confidence::High, "key:imsi", d.text()))
}

/// ITU-T E.118: `89` (telecom), up to 19 digits and a Luhn digit; SIMs report trailing `F`
/// filler sometimes.
fn iccid(p: &[u8]) -> Option<Found> {
    let p = trim_bytes(p, b"fF");
    let d = digits_only(p)?;
    let b = d.as_bytes();
    if !b.starts_with(b"89") || !(18..=20).contains(&d.n) {
        return None;
    }
    let confidence = if luhn_ok(b) {
        Confidence::High
    } else if d.n >= 19 {
        Confidence::Medium
    } else {
        return None;
    };
    Some(Found::new(
        DataType::Iccid,
        confidence,
        "key:iccid",
        d.text(),
    ))
}

/// Lowercase hex of at most `max` digits, none other; `None` if empty or all zeros.
fn hex_only(p: &[u8], max: usize) -> Option<String> {
    if p.is_empty()
        || p.len() > max
        || !p.iter().all(u8::is_ascii_hexdigit)
        || p.iter().all(|&b| b == b'0')
    {
        return None;
    }
    Some(String::from_utf8_lossy(p).to_ascii_lowercase())
}

/// Android's `Settings.Secure.ANDROID_ID`: a 64-bit number in hex, leading zeros sometimes
/// dropped.
fn android_id(p: &[u8], min: usize) -> Option<String> {
    let h = hex_only(p, 16)?;
    (h.len() >= min && !all_same(h.as_bytes())).then_some(h)
}

fn is_uuid(p: &[u8]) -> bool {
    p.len() == 36
        && p.iter().enumerate().all(|(i, &b)| {
            if matches!(i, 8 | 13 | 18 | 23) {
                b == b'-'
            } else {
                b.is_ascii_hexdigit()
            }
        })
}

/// Advertising ids: a UUID (GAID, IDFA, Huawei's OAID) that is not the all-zero "limit ad
/// tracking" value; other OAID providers hand out 16, 32 or 64 hex digits.
fn ad_id(p: &[u8], oaid: bool) -> Option<Found> {
    let zero = p.iter().all(|&b| b == b'0' || b == b'-');
    if zero {
        return None;
    }
    let lower = String::from_utf8_lossy(p).to_ascii_lowercase();
    if is_uuid(p) {
        return Some(Found::new(
            DataType::AdvertisingId,
            Confidence::High,
            "key:advertising_id",
            lower,
        ));
    }
    let hex = p.iter().all(u8::is_ascii_hexdigit) && !all_same(p);
    let len_ok = if oaid {
        matches!(p.len(), 16 | 32 | 64)
    } else {
        p.len() == 32
    };
    (hex && len_ok).then(|| {
        Found::new(
            DataType::AdvertisingId,
            Confidence::Medium,
            "key:advertising_id",
            lower,
        )
    })
}

/// A hardware serial: 6 to 32 letters, digits, `-` or `_`, with a digit; not Android's
/// `unknown` (no permission) nor the emulator's.
fn serial(p: &[u8]) -> Option<Found> {
    const PLACEHOLDERS: &[&[u8]] = &[
        b"unknown",
        b"0123456789abcdef",
        b"null",
        b"undefined",
        b"none",
    ];
    if !(6..=32).contains(&p.len())
        || !p
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || *b == b'-' || *b == b'_')
        || !p.iter().any(u8::is_ascii_digit)
        || all_same(p)
        || PLACEHOLDERS.iter().any(|x| x.eq_ignore_ascii_case(p))
        || p.starts_with(b"emulator")
    {
        return None;
    }
    let letters = p.iter().any(u8::is_ascii_alphabetic);
    let confidence = if letters && (8..=20).contains(&p.len()) {
        Confidence::High
    } else {
        Confidence::Medium
    };
    Some(Found::new(
        DataType::Serial,
        confidence,
        "key:serial",
        String::from_utf8_lossy(p),
    ))
}

/// A Wi-Fi network name says where the phone is, so it counts as a (weak) location.
fn ssid(p: &[u8]) -> Option<Found> {
    let s = String::from_utf8_lossy(p);
    let s = s.trim();
    let placeholder = [
        "<unknown ssid>",
        "unknown",
        "0x",
        "null",
        "none",
        "true",
        "false",
    ]
    .iter()
    .any(|x| x.eq_ignore_ascii_case(s));
    (!s.is_empty() && s.len() <= 32 && !placeholder)
        .then(|| Found::new(DataType::Location, Confidence::Low, "key:ssid", s))
}

/// Text with at least `min` bytes and a letter, not a literal or a bare number.
fn words(p: &[u8], min: usize) -> Option<String> {
    let s = String::from_utf8_lossy(p);
    let s = s.trim();
    let literal = ["true", "false", "null", "none", "undefined"]
        .iter()
        .any(|x| x.eq_ignore_ascii_case(s));
    (s.len() >= min && !literal && s.chars().any(char::is_alphabetic)).then(|| s.to_owned())
}

/// A MAC written with colons, dashes, Cisco dots, or bare.
fn mac_any(p: &[u8]) -> Option<String> {
    let hex: Vec<u8> = p.iter().copied().filter(|b| !b":-.".contains(b)).collect();
    if hex.len() != 12 || p.len() > 17 {
        return None;
    }
    let bytes = hex::decode(&hex).ok()?;
    mac_ok(&bytes)
}

/// Exactly `hh<sep>hh<sep>...` (17 bytes).
fn mac_sep(w: &[u8], sep: u8) -> Option<String> {
    let mut hex = [0u8; 12];
    for (k, chunk) in w.chunks(3).enumerate() {
        let (h, rest) = chunk.split_at_checked(2)?;
        if !(rest.is_empty() || rest == [sep]) || (k < 5 && rest.is_empty()) {
            return None;
        }
        hex.get_mut(k * 2..k * 2 + 2)?.copy_from_slice(h);
    }
    let bytes = hex::decode(hex).ok()?;
    mac_ok(&bytes)
}

/// Unicast, not all zeros, not broadcast, not Android's `02:00:00:00:00:00` placeholder
/// (what apps get without the permission).
fn mac_ok(b: &[u8]) -> Option<String> {
    let first = *b.first()?;
    let zero = b.iter().all(|&x| x == 0);
    let placeholder = b == [2, 0, 0, 0, 0, 0];
    if b.len() != 6 || zero || placeholder || first & 1 == 1 {
        return None;
    }
    Some(
        b.iter()
            .map(|x| format!("{x:02x}"))
            .collect::<Vec<_>>()
            .join(":"),
    )
}

fn is_local_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"._%+-".contains(&b)
}

fn is_domain_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'.' || b == b'-'
}

/// The whole value is one address (under an email key).
fn email_whole(p: &[u8], keyed: bool) -> Option<String> {
    let p = strip_prefix_ci(p, b"mailto:");
    let at = p.iter().position(|&b| b == b'@')?;
    let (s, e, v) = email_at(p, at, keyed)?;
    (s == 0 && e == p.len()).then_some(v)
}

/// The address around the `@` at `at` (RFC 5322 section 3.4.1 addr-spec, dot-atom only, with
/// the common local-part characters): start, end and the lowercased address.
fn email_at(t: &[u8], at: usize, keyed: bool) -> Option<(usize, usize, String)> {
    let mut s = at;
    while s > 0 && t.get(s - 1).is_some_and(|&b| is_local_byte(b)) {
        s -= 1;
        if at - s > 64 {
            return None;
        }
    }
    // Leading dots and URL-encoding leftovers are not part of the address.
    while s < at && matches!(t.get(s), Some(b'.' | b'%' | b'+' | b'-')) {
        s += 1;
    }
    let local = t.get(s..at)?;
    if local.is_empty() || local.ends_with(b".") || local.windows(2).any(|w| w == b"..") {
        return None;
    }
    // `scheme://user:pass@host` is a URL's userinfo, not an address.
    if let Some(prev) = s.checked_sub(1).and_then(|j| t.get(j)) {
        let mailto = s >= 7
            && t.get(s - 7..s)
                .is_some_and(|m| m.eq_ignore_ascii_case(b"mailto:"));
        if (*prev == b'/' || *prev == b':' || *prev == b'@') && !mailto {
            return None;
        }
    }
    let mut e = at + 1;
    while t.get(e).is_some_and(|&b| is_domain_byte(b)) {
        e += 1;
        if e - at > 254 {
            return None;
        }
    }
    while e > at + 1 && matches!(t.get(e - 1), Some(b'.' | b'-')) {
        e -= 1;
    }
    if t.get(e) == Some(&b'@') {
        return None;
    }
    let domain = t.get(at + 1..e)?;
    let labels: Vec<&[u8]> = domain.split(|&b| b == b'.').collect();
    if labels.len() < 2
        || labels
            .iter()
            .any(|l| l.is_empty() || l.len() > 63 || l.starts_with(b"-") || l.ends_with(b"-"))
    {
        return None;
    }
    let tld = labels.last()?;
    if tld.len() < 2 || !tld.iter().all(u8::is_ascii_alphabetic) {
        return None;
    }
    let lower_domain = domain.to_ascii_lowercase();
    let registrable = psl::domain(&lower_domain)?;
    if !registrable.suffix().is_known() {
        return None;
    }
    let lower_local = String::from_utf8_lossy(local).to_ascii_lowercase();
    let dom = String::from_utf8_lossy(&lower_domain).into_owned();
    if excluded_email(&lower_local, &dom, keyed) {
        return None;
    }
    Some((s, e, format!("{lower_local}@{dom}")))
}

/// Addresses that are not anyone's: no-reply and role mailboxes (in free text), reserved
/// example domains (RFC 2606), `@2x` image names, service accounts, and hex keys (error
/// reporting DSNs put a key where the local part goes).
fn excluded_email(local: &str, domain: &str, keyed: bool) -> bool {
    const NOREPLY: &[&str] = &[
        "noreply",
        "no-reply",
        "no_reply",
        "donotreply",
        "do-not-reply",
        "mailer-daemon",
        "postmaster",
        "hostmaster",
        "webmaster",
        "abuse",
        "root",
        "git",
    ];
    const ROLES: &[&str] = &[
        "support",
        "info",
        "contact",
        "help",
        "privacy",
        "sales",
        "admin",
        "feedback",
        "hello",
        "team",
        "security",
        "service",
        "dpo",
        "legal",
        "press",
        "jobs",
        "marketing",
    ];
    let first = domain.split('.').next().unwrap_or("");
    let factor = first.strip_suffix('x').unwrap_or("");
    let scale = !factor.is_empty() && factor.bytes().all(|b| b.is_ascii_digit() || b == b'.');
    let hex_key = local.len() >= 16 && local.bytes().all(|b| b.is_ascii_hexdigit());
    NOREPLY.contains(&local)
        || (!keyed && ROLES.contains(&local))
        || ["example.com", "example.org", "example.net", "example.edu"].contains(&domain)
        || [".example", ".test", ".invalid", ".localhost"]
            .iter()
            .any(|s| domain.ends_with(s))
        || domain.starts_with("example.")
        || domain.ends_with("gserviceaccount.com")
        || scale
        || hex_key
}

/// A coordinate: optional sign, 1 to 3 integer digits, at least 3 decimals (about 100 m),
/// within +-180.
fn axis(t: &[u8], map: Map, key: Option<KeyBuf>) -> Option<Axis> {
    let (s, e) = trim_range(t, b" \t\r\n\"'");
    let v = t.get(s..e)?;
    let body = v
        .strip_prefix(b"-")
        .or_else(|| v.strip_prefix(b"+"))
        .unwrap_or(v);
    let dot = body.iter().position(|&b| b == b'.')?;
    let (int, frac) = (body.get(..dot)?, body.get(dot + 1..)?);
    if !(1..=3).contains(&int.len())
        || !(3..=15).contains(&frac.len())
        || !int.iter().chain(frac).all(u8::is_ascii_digit)
    {
        return None;
    }
    let deg: f64 = std::str::from_utf8(v).ok()?.parse().ok()?;
    if deg.abs() > 180.0 {
        return None;
    }
    let (off, len) = map.span(s, e - s);
    Some(Axis {
        deg,
        off,
        len,
        text: KeyBuf::lower(v),
        key: key.unwrap_or(KeyBuf::lower(b"")),
    })
}

/// Two numbers in one value, separated by `,`, `;`, `|` or spaces, with their offsets.
#[allow(clippy::type_complexity)] // two (slice, offset) halves
fn pair(t: &[u8]) -> Option<((&[u8], usize), (&[u8], usize))> {
    let sep = t
        .iter()
        .position(|b| b",;|".contains(b))
        .or_else(|| t.iter().position(|&b| b == b' '))?;
    let a = t.get(..sep)?;
    let b = t.get(sep + 1..)?;
    let (bs, be) = trim_range(b, b" ");
    let b = b.get(bs..be)?;
    if b.iter().any(|c| b",;| ".contains(c)) {
        return None;
    }
    Some(((a, 0), (b, sep + 1 + bs)))
}

/// Where the value after a key in free text ends: a quoted string, or up to a delimiter.
fn text_value(t: &[u8], start: usize, check: Check, xml: bool) -> (usize, usize) {
    let mut s = start;
    if !xml {
        while s < t.len() && s - start < 8 && matches!(t.get(s), Some(b' ' | b'\t')) {
            s += 1;
        }
    }
    let limit = s.saturating_add(MAX_TEXT_VALUE).min(t.len());
    if let Some(&q) = t.get(s).filter(|&&q| !xml && (q == b'"' || q == b'\'')) {
        let inner = s + 1;
        let end = t
            .get(inner..limit)
            .and_then(|v| v.iter().position(|&b| b == q))
            .map_or(limit, |p| inner + p);
        return (inner.min(end), end);
    }
    let stop = |b: u8| {
        if xml {
            return b == b'<';
        }
        matches!(
            b,
            b'&' | b';' | b'"' | b'\'' | b'<' | b'>' | b'\r' | b'\n' | b'{' | b'}' | b'[' | b']'
        ) || (!check.spaces() && (b == b' ' || b == b'\t'))
            || (!check.commas() && b == b',')
    };
    let end = t
        .get(s..limit)
        .and_then(|v| v.iter().position(|&b| stop(b)))
        .map_or(limit, |p| s + p);
    (s, end)
}

fn is_key_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"_-.[]".contains(&b)
}

/// The end of a JSON string starting at `from` (after its opening quote), and whether it
/// holds escapes. An unterminated string runs to the end.
fn string_end(t: &[u8], from: usize) -> (usize, bool) {
    let mut i = from;
    let mut escaped = false;
    while let Some(&b) = t.get(i) {
        match b {
            b'"' => return (i, escaped),
            b'\\' => {
                escaped = true;
                i += 2;
            }
            _ => i += 1,
        }
    }
    (t.len(), escaped)
}

fn looks_like_json(t: &[u8]) -> bool {
    // What may follow the opening bracket: `[event...]` is text, `["a"]` and `{"k"` are JSON.
    let next = t
        .get(1..)
        .map(|r| trim_bytes(r, b" \t\r\n").first().copied());
    match (t.first(), next) {
        (Some(b'{'), Some(Some(b'"' | b'}'))) => true,
        (Some(b'['), Some(Some(n))) => b"\"{[]-0123456789tfn".contains(&n),
        _ => false,
    }
}

/// `k=v&...` with no whitespace or controls, starting with a key.
fn looks_like_form(t: &[u8]) -> bool {
    let head = t.get(..256).unwrap_or(t);
    let eq = head.iter().position(|&b| b == b'=');
    eq.is_some_and(|p| {
        p > 0
            && p <= MAX_KEY_LEN
            && head
                .get(..p)
                .is_some_and(|k| k.iter().all(|&b| is_key_byte(b) || b == b'%'))
    }) && head.iter().all(|&b| b.is_ascii_graphic())
}

fn trim_range(t: &[u8], set: &[u8]) -> (usize, usize) {
    let s = t.iter().position(|b| !set.contains(b)).unwrap_or(t.len());
    let e = t
        .iter()
        .rposition(|b| !set.contains(b))
        .map_or(s, |p| p + 1);
    (s, e.max(s))
}

fn trim_bytes<'a>(t: &'a [u8], set: &[u8]) -> &'a [u8] {
    let (s, e) = trim_range(t, set);
    t.get(s..e).unwrap_or(&[])
}

fn strip_prefix_ci<'a>(t: &'a [u8], prefix: &[u8]) -> &'a [u8] {
    match t.get(..prefix.len()) {
        Some(p) if p.eq_ignore_ascii_case(prefix) => t.get(prefix.len()..).unwrap_or(&[]),
        _ => t,
    }
}

/// `s` cut to at most `max` bytes at a character boundary.
fn cap(s: &str, max: usize) -> String {
    let mut end = s.len().min(max);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s.get(..end).unwrap_or("").to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::OnceLock;

    fn det() -> &'static Detectors {
        static D: OnceLock<Detectors> = OnceLock::new();
        D.get_or_init(Detectors::new)
    }

    fn find(ctx: Context<'_>, s: &str) -> Vec<PatternHit> {
        let mut out = Vec::new();
        let skipped = det().find(ctx, s.as_bytes(), &mut out);
        assert_eq!(skipped, Skipped::default(), "{s}");
        out
    }

    /// (data type, confidence, detector, key, value) of each hit.
    fn summary(
        hits: &[PatternHit],
    ) -> Vec<(&'static str, &'static str, &'static str, Option<&str>, &str)> {
        hits.iter()
            .map(|h| {
                (
                    h.data_type.as_str(),
                    h.confidence.as_str(),
                    h.detector,
                    h.key.as_deref(),
                    h.value.as_str(),
                )
            })
            .collect()
    }

    /// (context, input, expected hits as (data type, confidence, detector, key, value)).
    type Case = (
        Context<'static>,
        &'static str,
        &'static [(
            &'static str,
            &'static str,
            &'static str,
            Option<&'static str>,
            &'static str,
        )],
    );

    fn run_table(cases: &[Case]) {
        for (ctx, input, want) in cases {
            let hits = find(*ctx, input);
            assert_eq!(summary(&hits), *want, "{ctx:?} {input}");
        }
    }

    const HDR_IMEI: Context<'static> = Context::Header { name: "X-Imei" };
    const HDR_DID: Context<'static> = Context::Header {
        name: "X-Device-Id",
    };
    const JSON_BODY: Context<'static> = Context::Body {
        content_type: Some("application/json; charset=utf-8"),
    };
    const FORM_BODY: Context<'static> = Context::Body {
        content_type: Some("application/x-www-form-urlencoded"),
    };

    // 356938035643809: the IMEI example of GSMA TS.06-style listings (TAC 35693803, Luhn 9).
    #[test]
    fn imei() {
        const H: &[(&str, &str, &str, Option<&str>, &str)] =
            &[("imei", "high", "imei-luhn", Some("imei"), "356938035643809")];
        run_table(&[
            (Context::Uri, "/t?imei=356938035643809", H),
            (Context::Json, r#"{"imei":"356938035643809"}"#, H),
            (Context::Json, r#"{"imei": 356938035643809}"#, H),
            (Context::Form, "a=1&imei=35-693803-564380-9", H),
            (Context::Payload, "imei: 356938035643809\r\n", H),
            (Context::Payload, "<imei>356938035643809</imei>", H),
            (
                HDR_IMEI,
                "356938035643809",
                &[(
                    "imei",
                    "high",
                    "imei-luhn",
                    Some("x-imei"),
                    "356938035643809",
                )],
            ),
            (
                Context::Json,
                r#"{"deviceId":"356938035643809"}"#,
                &[(
                    "imei",
                    "high",
                    "imei-luhn",
                    Some("deviceid"),
                    "356938035643809",
                )],
            ),
            (
                Context::Uri,
                "/t?device-id=356938035643809",
                &[(
                    "imei",
                    "high",
                    "imei-luhn",
                    Some("device-id"),
                    "356938035643809",
                )],
            ),
            (
                Context::Form,
                "DEVICE_ID=356938035643809",
                &[(
                    "imei",
                    "high",
                    "imei-luhn",
                    Some("device_id"),
                    "356938035643809",
                )],
            ),
            (
                HDR_DID,
                "356938035643809",
                &[(
                    "imei",
                    "high",
                    "imei-luhn",
                    Some("x-device-id"),
                    "356938035643809",
                )],
            ),
            // Dual SIM, two IMEIs in one value.
            (
                Context::Uri,
                "/t?imei=356938035643809,867400022047199",
                &[
                    ("imei", "high", "imei-luhn", Some("imei"), "356938035643809"),
                    ("imei", "high", "imei-luhn", Some("imei"), "867400022047199"),
                ],
            ),
            // 14 digits (no check digit) only under an IMEI key.
            (
                Context::Uri,
                "/t?imei=35693803564380",
                &[("imei", "medium", "key:imei", Some("imei"), "35693803564380")],
            ),
            (Context::Uri, "/t?did=35693803564380", &[]),
            // Loose in text: low, and only with a Luhn digit and an allocating body.
            (
                Context::Payload,
                "dev 356938035643809 ok",
                &[("imei", "low", "imei-luhn", None, "356938035643809")],
            ),
            (
                Context::DnsName,
                "356938035643809.t.tracker.example.net",
                &[("imei", "low", "imei-luhn", None, "356938035643809")],
            ),
            (Context::Payload, "dev 356938035643808 ok", &[]),
            (Context::Payload, "dev 001234567890128 ok", &[]),
            (Context::Payload, "dev 123456789012347 ok", &[]),
            (Context::Uri, "/t?imei=356938035643808", &[]),
            (Context::Uri, "/t?imei=000000000000000", &[]),
            (Context::Json, r#"{"order_id":356938035643809}"#, &[]),
            (Context::Json, r#"{"ts":"356938035643809"}"#, &[]),
            (Context::Payload, "x=0.356938035643809", &[]),
            (Context::Payload, "x=356938035643809.5", &[]),
            (Context::Payload, "id a356938035643809", &[]),
            (Context::Payload, "1356938035643809", &[]),
            // MEID under its key.
            (
                Context::Uri,
                "/t?meid=A0000000002329",
                &[("imei", "high", "key:meid", Some("meid"), "a0000000002329")],
            ),
        ]);
    }

    #[test]
    fn phone() {
        run_table(&[
            (
                Context::Json,
                r#"{"phone":"+886 912 345 678"}"#,
                &[("phone", "high", "phone", Some("phone"), "+886912345678")],
            ),
            (
                Context::Form,
                "msisdn=%2B886912345678",
                &[("phone", "high", "phone", Some("msisdn"), "+886912345678")],
            ),
            (
                Context::Uri,
                "/r?mobile=0912345678",
                &[("phone", "high", "phone", Some("mobile"), "0912345678")],
            ),
            (
                Context::Json,
                r#"{"phoneNumber":"tel:+1-415-555-2671"}"#,
                &[(
                    "phone",
                    "high",
                    "phone",
                    Some("phonenumber"),
                    "+14155552671",
                )],
            ),
            (
                Context::Json,
                r#"{"userPhone":"0912345678"}"#,
                &[("phone", "high", "phone", Some("userphone"), "0912345678")],
            ),
            // +999 is no country: still a number under a phone key, but less sure.
            (
                Context::Json,
                r#"{"tel":"+99912345678"}"#,
                &[("phone", "medium", "phone", Some("tel"), "+99912345678")],
            ),
            (
                Context::Payload,
                "call +1 (415) 555-2671 now",
                &[("phone", "medium", "phone", None, "+14155552671")],
            ),
            (
                Context::Json,
                r#"{"note":"from +886912345678"}"#,
                &[("phone", "medium", "phone", None, "+886912345678")],
            ),
            (Context::Payload, "call 0912345678 now", &[]),
            (Context::Payload, "n=+99912345678", &[]),
            (
                Context::Json,
                r#"{"tel":"1","mobile":true,"phone":"iPhone15,2"}"#,
                &[],
            ),
            (
                Context::Json,
                r#"{"microphone":"granted","is_mobile":1}"#,
                &[],
            ),
            (Context::Payload, "2024-01-01T00:00:00+08:00 tz=+0800", &[]),
            (
                Context::Payload,
                "b64 dGhpcyBpcyBhIHRlc3Q+14155552671==",
                &[],
            ),
        ]);
    }

    /// One analytics event with its JSON punctuation stripped, as loggers print it.
    #[test]
    fn key_colon_value_text() {
        run_table(&[(
            Context::Payload,
            "[event:open,ts:1700000000000,session_id:6f1c2b7e-3d4a-4f5b-9c8d-7e6f5a4b3c2d,\
             props:screen:home,lat:25.0330,lng:121.5654,ua:Mozilla/5.0 (Linux; Android 14),\
             phone:+886912345678,email:u0@mail.tw]",
            &[
                (
                    "location",
                    "high",
                    "coordinates",
                    Some("lat,lng"),
                    "25.0330,121.5654",
                ),
                ("phone", "high", "phone", Some("phone"), "+886912345678"),
                ("email", "high", "email", Some("email"), "u0@mail.tw"),
            ],
        )]);
    }

    #[test]
    fn email() {
        run_table(&[
            (
                Context::Payload,
                "mail to Mei.Ling@Gmail.com, thanks",
                &[("email", "medium", "email", None, "mei.ling@gmail.com")],
            ),
            (
                Context::Json,
                r#"{"email":"a.b+tag@corp.co.uk"}"#,
                &[(
                    "email",
                    "high",
                    "email",
                    Some("email"),
                    "a.b+tag@corp.co.uk",
                )],
            ),
            (
                Context::Form,
                "user_email=mei%40mail.tw",
                &[("email", "high", "email", Some("user_email"), "mei@mail.tw")],
            ),
            (
                Context::Json,
                r#"{"email":"support@app.io"}"#,
                &[("email", "high", "email", Some("email"), "support@app.io")],
            ),
            (
                Context::Payload,
                "<a href=\"mailto:chen@mail.tw\">",
                &[("email", "medium", "email", None, "chen@mail.tw")],
            ),
            (Context::Payload, "from noreply@company.com", &[]),
            (Context::Payload, "ask support@company.com", &[]),
            (Context::Payload, "user@example.com jane@mail.example", &[]),
            (
                Context::Payload,
                "icon@2x.png logo@3x.webp banner@1.5x.jpg",
                &[],
            ),
            (Context::Payload, "https://user:pw@host.com/x", &[]),
            (Context::Payload, "git@github.com:org/repo", &[]),
            (
                Context::Payload,
                "https://0123456789abcdef0123456789abcdef@o1.ingest.sentry.io/1",
                &[],
            ),
            (
                Context::Payload,
                "a@localhost b@1.2.3.4 c@host.local @types/node",
                &[],
            ),
            (Context::Payload, "pkg@1.2.3 x@@y.com", &[]),
        ]);
    }

    #[test]
    fn coordinates() {
        const TPE: &[(&str, &str, &str, Option<&str>, &str)] = &[(
            "location",
            "high",
            "coordinates",
            Some("lat,lng"),
            "25.0330,121.5654",
        )];
        run_table(&[
            (Context::Json, r#"{"lat": 25.0330, "lng": 121.5654}"#, TPE),
            (
                Context::Json,
                r#"{"lat":"25.0330","x":{"y":1},"lng":"121.5654"}"#,
                TPE,
            ),
            (Context::Uri, "/w?lat=25.0330&lng=121.5654&units=m", TPE),
            (
                Context::Payload,
                "GET /w?lat=25.0330&lng=121.5654 HTTP/1.1",
                TPE,
            ),
            (
                Context::Json,
                r#"{"latitude":-33.8688,"longitude":151.2093}"#,
                &[(
                    "location",
                    "high",
                    "coordinates",
                    Some("latitude,longitude"),
                    "-33.8688,151.2093",
                )],
            ),
            (
                Context::Json,
                r#"{"location":"25.0330,121.5654"}"#,
                &[(
                    "location",
                    "high",
                    "coordinates",
                    Some("location"),
                    "25.0330,121.5654",
                )],
            ),
            (
                Context::Uri,
                "/m?ll=25.0330%2C121.5654",
                &[(
                    "location",
                    "high",
                    "coordinates",
                    Some("ll"),
                    "25.0330,121.5654",
                )],
            ),
            (
                Context::Json,
                r#"{"geometry":{"coordinates":[121.5654,25.0330]}}"#,
                &[(
                    "location",
                    "high",
                    "coordinates",
                    Some("coordinates"),
                    "121.5654,25.0330",
                )],
            ),
            // Halves in different objects, too few decimals, out of range, null island.
            (
                Context::Json,
                r#"{"a":{"lat":25.0330},"b":{"lng":121.5654}}"#,
                &[],
            ),
            (Context::Json, r#"{"lat":25.03,"lng":121.56}"#, &[]),
            (Context::Json, r#"{"lat":95.0000,"lng":121.5654}"#, &[]),
            (Context::Json, r#"{"lat":0.000,"lng":0.000}"#, &[]),
            (Context::Json, r#"{"lat":25.0330}"#, &[]),
            (
                Context::Json,
                r#"{"position":"3","location":"Taipei"}"#,
                &[],
            ),
        ]);
    }

    #[test]
    fn mac() {
        run_table(&[
            (
                Context::Payload,
                "scan AC:DE:48:00:11:22 rssi=-40",
                &[("mac", "medium", "mac", None, "ac:de:48:00:11:22")],
            ),
            (
                Context::Json,
                r#"{"wifi_mac":"ac-de-48-00-11-22"}"#,
                &[("mac", "high", "mac", Some("wifi_mac"), "ac:de:48:00:11:22")],
            ),
            (
                Context::Uri,
                "/c?bssid=acde48001122",
                &[("mac", "high", "mac", Some("bssid"), "ac:de:48:00:11:22")],
            ),
            (
                Context::Json,
                r#"{"btMac":"acde.4800.1122"}"#,
                &[("mac", "high", "mac", Some("btmac"), "ac:de:48:00:11:22")],
            ),
            (Context::Json, r#"{"mac":"02:00:00:00:00:00"}"#, &[]),
            (
                Context::Payload,
                "00:00:00:00:00:00 ff:ff:ff:ff:ff:ff 01:00:5e:00:00:fb",
                &[],
            ),
            (
                Context::Payload,
                "fe80::ac:de:48:00:11:22 aa:bb:cc:dd:ee:ff:00",
                &[],
            ),
            (Context::Uri, "/c?session=acde48001122", &[]),
        ]);
    }

    #[test]
    fn keyed_identifiers() {
        run_table(&[
            (
                Context::Form,
                "imsi=466920123456789",
                &[("imsi", "high", "key:imsi", Some("imsi"), "466920123456789")],
            ),
            (Context::Form, "imsi=123456789012345", &[]),
            (
                Context::Json,
                r#"{"iccid":"89886920000000000003"}"#,
                &[(
                    "iccid",
                    "high",
                    "key:iccid",
                    Some("iccid"),
                    "89886920000000000003",
                )],
            ),
            (
                Context::Json,
                r#"{"simSerial":"89886920000000000004"}"#,
                &[(
                    "iccid",
                    "medium",
                    "key:iccid",
                    Some("simserial"),
                    "89886920000000000004",
                )],
            ),
            (Context::Json, r#"{"iccid":"12345678901234567890"}"#, &[]),
            (
                Context::Uri,
                "/a?android_id=9774D56D682E549C",
                &[(
                    "android_id",
                    "high",
                    "key:android_id",
                    Some("android_id"),
                    "9774d56d682e549c",
                )],
            ),
            (
                Context::Json,
                r#"{"deviceId":"9774d56d682e549c"}"#,
                &[(
                    "android_id",
                    "medium",
                    "key:android_id",
                    Some("deviceid"),
                    "9774d56d682e549c",
                )],
            ),
            (
                Context::Json,
                r#"{"gaid":"38400000-8CF0-11BD-B23E-10B96E40000D"}"#,
                &[(
                    "advertising_id",
                    "high",
                    "key:advertising_id",
                    Some("gaid"),
                    "38400000-8cf0-11bd-b23e-10b96e40000d",
                )],
            ),
            (
                Context::Form,
                "oaid=0123456789abcdef0123456789abcdef",
                &[(
                    "advertising_id",
                    "medium",
                    "key:advertising_id",
                    Some("oaid"),
                    "0123456789abcdef0123456789abcdef",
                )],
            ),
            (
                Context::Json,
                r#"{"idfa":"00000000-0000-0000-0000-000000000000"}"#,
                &[],
            ),
            (
                Context::Json,
                r#"{"serialNo":"R58M123ABCD"}"#,
                &[(
                    "serial",
                    "high",
                    "key:serial",
                    Some("serialno"),
                    "R58M123ABCD",
                )],
            ),
            (
                Context::Payload,
                "ro.serialno=ZY22ABC123\n",
                &[(
                    "serial",
                    "high",
                    "key:serial",
                    Some("ro.serialno"),
                    "ZY22ABC123",
                )],
            ),
            (
                Context::Json,
                r#"{"serial":"unknown","sn":"R58M123ABCD"}"#,
                &[],
            ),
            (
                Context::Json,
                r#"{"ssid":"\"HomeNet 5G\""}"#,
                &[("location", "low", "key:ssid", Some("ssid"), "HomeNet 5G")],
            ),
            (Context::Json, r#"{"ssid":"<unknown ssid>"}"#, &[]),
        ]);
    }

    #[test]
    fn contacts_and_sms() {
        run_table(&[
            (
                Context::Json,
                r#"{"contacts":[{"name":"Mom","phone":"0912345678"},{"displayName":"Dr. Lin","number":"+886 2 2311 1234"}]}"#,
                &[
                    (
                        "contact_name",
                        "medium",
                        "key:contact_name",
                        Some("name"),
                        "Mom",
                    ),
                    (
                        "contact_phone",
                        "high",
                        "phone",
                        Some("phone"),
                        "0912345678",
                    ),
                    (
                        "contact_name",
                        "medium",
                        "key:contact_name",
                        Some("displayname"),
                        "Dr. Lin",
                    ),
                    (
                        "contact_phone",
                        "high",
                        "phone",
                        Some("number"),
                        "+886223111234",
                    ),
                ],
            ),
            (
                Context::Form,
                "contacts%5B0%5D%5Bphone%5D=0912345678",
                &[(
                    "contact_phone",
                    "high",
                    "phone",
                    Some("contacts[0][phone]"),
                    "0912345678",
                )],
            ),
            (
                Context::Json,
                r#"{"sms":[{"address":"+886912345678","body":"Your code is 4711"}]}"#,
                &[
                    (
                        "contact_phone",
                        "high",
                        "phone",
                        Some("address"),
                        "+886912345678",
                    ),
                    (
                        "sms",
                        "medium",
                        "key:sms",
                        Some("body"),
                        "Your code is 4711",
                    ),
                ],
            ),
            (
                Context::Form,
                "sms_body=Meet+at+noon",
                &[("sms", "medium", "key:sms", Some("sms_body"), "Meet at noon")],
            ),
            // Names, bodies and numbers mean nothing outside contacts and SMS.
            (
                Context::Json,
                r#"{"name":"Pixel 8","body":"ok","number":"0912345678"}"#,
                &[],
            ),
            (Context::Form, "sms=1&contacts=true", &[]),
        ]);
    }

    #[test]
    fn nested_and_partial_structures() {
        run_table(&[
            // JSON inside a JSON string.
            (
                Context::Json,
                r#"{"data":"{\"imei\":\"356938035643809\",\"lat\":25.0330,\"lng\":121.5654}"}"#,
                &[
                    ("imei", "high", "imei-luhn", Some("imei"), "356938035643809"),
                    (
                        "location",
                        "high",
                        "coordinates",
                        Some("lat,lng"),
                        "25.0330,121.5654",
                    ),
                ],
            ),
            // A URL with a query inside JSON.
            (
                Context::Json,
                r#"{"url":"https://t.example/p?imei=356938035643809"}"#,
                &[("imei", "high", "imei-luhn", Some("imei"), "356938035643809")],
            ),
            // A JSON document cut at both ends.
            (
                Context::Json,
                r#"ei":"1","imei":"356938035643809","x"#,
                &[("imei", "high", "imei-luhn", Some("imei"), "356938035643809")],
            ),
            (
                JSON_BODY,
                "{\"device\":{\"imei\":[\"356938035643809\"]}}",
                &[("imei", "high", "imei-luhn", Some("imei"), "356938035643809")],
            ),
            (
                FORM_BODY,
                "q=data&deviceId=356938035643809",
                &[(
                    "imei",
                    "high",
                    "imei-luhn",
                    Some("deviceid"),
                    "356938035643809",
                )],
            ),
            (
                Context::Body { content_type: None },
                "imei=356938035643809&v=2",
                &[("imei", "high", "imei-luhn", Some("imei"), "356938035643809")],
            ),
            (
                Context::Header { name: "Cookie" },
                "sid=abc; imei=356938035643809",
                &[("imei", "high", "imei-luhn", Some("imei"), "356938035643809")],
            ),
            (
                Context::Header { name: "Referer" },
                "https://a.example/x?imei=356938035643809",
                &[("imei", "high", "imei-luhn", Some("imei"), "356938035643809")],
            ),
            (
                Context::Uri,
                "/api/v1/imei/356938035643809/report",
                &[("imei", "high", "imei-luhn", Some("imei"), "356938035643809")],
            ),
            (
                Context::Json,
                r#"{"X-Imei":"356938035643809"}"#,
                &[(
                    "imei",
                    "high",
                    "imei-luhn",
                    Some("x-imei"),
                    "356938035643809",
                )],
            ),
        ]);
    }

    /// Values that look like ids, times or numbers but are not personal data.
    #[test]
    fn decoys_stay_silent() {
        let decoys: &[(Context<'static>, &str)] = &[
            (Context::Json, r#"{"ts":1700000000000,"t":1700000000123,"time":"1700000000"}"#),
            (Context::Json, r#"{"request_id":"6f1c2b7e-3d4a-4f5b-9c8d-7e6f5a4b3c2d"}"#),
            (Context::Json, r#"{"session":"38400000-8cf0-11bd-b23e-10b96e40000d"}"#),
            (Context::Uri, "/s?sha1=da39a3ee5e6b4b0d3255bfef95601890afd80709"),
            (
                Context::Uri,
                "/s?h=e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            ),
            (Context::Form, "version=1.2.3&build=20240101&sdk=34"),
            (Context::Payload, "connect 192.168.1.10:443 from 10.0.0.255"),
            (Context::Json, r#"{"order_id":"356938035643809","amount":123456789012345678}"#),
            (Context::Payload, "ref 356938035643808 done"),
            (Context::Form, "price=1299.99&currency=USD&qty=3"),
            (Context::Uri, "/p?utm_source=google&gclid=EAIaIQobChMI8dK2&_ga=GA1.2.1234567890.1700000000"),
            (Context::Uri, "/p?fbclid=IwAR2x9Yk3Zp&msclkid=5c1e8a0b3f2d4e6a"),
            (
                Context::Header { name: "User-Agent" },
                "Mozilla/5.0 (Linux; Android 14; Pixel 8 Build/UQ1A.240105.004) Chrome/120.0.6099.144",
            ),
            (Context::Header { name: "Date" }, "Tue, 14 Nov 2023 22:13:20 GMT"),
            (Context::Json, r#"{"lat":25.0330,"name":"Pixel 8","trace":"deadbeefcafebabe"}"#),
            (Context::Json, r#"{"uid":867400022047199,"user_id":"356938035643809"}"#),
            (Context::DnsName, "e3b0c44298fc1c14.cdn.example.net"),
            (Context::Payload, "\x00\x01\x7f binary \u{ff} noise 12:34"),
            (Context::Json, r#"{"adid":"","gaid":null,"imei":"","phone":""}"#),
        ];
        for (ctx, input) in decoys {
            let hits = find(*ctx, input);
            assert!(hits.is_empty(), "{ctx:?} {input}: {:?}", summary(&hits));
        }
    }

    #[test]
    fn offsets_point_at_the_value() {
        let hits = find(Context::Uri, "/t?imei=356938035643809&x=1");
        assert_eq!((hits[0].offset, hits[0].len), (8, 15));
        // A key hit hides the text hit over the same bytes.
        assert_eq!(hits.len(), 1);
        let input = r#"{"a":1, "email": "Mei@Mail.tw"}"#;
        let hits = find(Context::Json, input);
        let h = &hits[0];
        assert_eq!(&input[h.offset..h.offset + h.len], "Mei@Mail.tw");
        // Percent-decoded: the hit spans the raw value.
        let input = "phone=%2B886912345678&x=1";
        let hits = find(Context::Form, input);
        let h = &hits[0];
        assert_eq!(&input[h.offset..h.offset + h.len], "%2B886912345678");
        let input = "lat=25.0330&lng=121.5654";
        let h = &find(Context::Form, input)[0];
        assert_eq!(&input[h.offset..h.offset + h.len], "25.0330&lng=121.5654");
    }

    #[test]
    fn keys_match_in_every_spelling() {
        for k in [
            "deviceId",
            "device-id",
            "device_id",
            "DEVICE_ID",
            "Device-ID",
            "x-device-id",
        ] {
            let hits = find(Context::Form, &format!("{k}=356938035643809"));
            assert_eq!(summary(&hits).len(), 1, "{k}");
            assert_eq!(hits[0].confidence, Confidence::High, "{k}");
            assert_eq!(
                hits[0].key.as_deref(),
                Some(k.to_ascii_lowercase().as_str())
            );
        }
        let long = "k".repeat(300);
        let hits = find(Context::Form, &format!("{long}_imei=356938035643809"));
        assert!(hits
            .iter()
            .all(|h| h.key.as_ref().is_none_or(|k| k.len() <= MAX_KEY_LEN)));
    }

    #[test]
    fn caps_count_what_they_drop() {
        let mut input = String::new();
        for i in 0..(MAX_HITS + 50) {
            input.push_str(&format!("u{i}@mail.tw "));
        }
        let mut out = Vec::new();
        let skipped = det().find(Context::Payload, input.as_bytes(), &mut out);
        assert_eq!((out.len(), skipped.hits), (MAX_HITS, 50));

        let mut input = String::new();
        for i in 0..(MAX_PHONE_CHECKS + 5) {
            input.push_str(&format!("+8869{i:08} "));
        }
        let mut out = Vec::new();
        let skipped = det().find(Context::Payload, input.as_bytes(), &mut out);
        assert_eq!(skipped.phone_checks, 5);
    }

    /// Hostile shapes: deep nesting, long runs of separators, unterminated strings, random
    /// bytes. Nothing may panic, and the output stays within the cap.
    #[test]
    fn hostile_input_neither_panics_nor_grows() {
        let mut cases: Vec<Vec<u8>> = vec![
            "[".repeat(100_000).into_bytes(),
            "{\"a\":".repeat(50_000).into_bytes(),
            "@".repeat(100_000).into_bytes(),
            "+".repeat(100_000).into_bytes(),
            "a".repeat(100_000).into_bytes(),
            "imei=".repeat(20_000).into_bytes(),
            "\"imei\":\"".repeat(20_000).into_bytes(),
            "aa:".repeat(30_000).into_bytes(),
            "1".repeat(100_000).into_bytes(),
            b"{\"s\":\"\\u00".to_vec(),
            b"{\"s\":\"\\ud800\\u".to_vec(),
            b"%".to_vec(),
            b"a=%f".to_vec(),
        ];
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..64 {
            let mut v = Vec::with_capacity(512);
            for _ in 0..512 {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                // Bias towards the bytes the tokenizers care about.
                let alphabet = b"{}[]\":,=&;?%+@.-_ 0123456789abcdefABCDEF<>/\\imeilatng";
                let b = alphabet[(x % alphabet.len() as u64) as usize];
                v.push(if x & 0x300 == 0 { (x >> 16) as u8 } else { b });
            }
            cases.push(v);
        }
        let ctxs = [
            Context::Uri,
            Context::Form,
            Context::Json,
            Context::Header { name: "Cookie" },
            Context::Body { content_type: None },
            Context::DnsName,
            Context::Payload,
        ];
        for case in &cases {
            for ctx in ctxs {
                let mut out = Vec::new();
                det().find(ctx, case, &mut out);
                assert!(out.len() <= MAX_HITS);
                for h in &out {
                    assert!(
                        h.offset.saturating_add(h.len) <= case.len(),
                        "{ctx:?} {h:?}"
                    );
                    assert!(h.value.len() <= MAX_VALUE_LEN);
                }
            }
        }
    }

    /// Throughput on 1 MiB inputs; run with `--release -- --ignored --nocapture`.
    #[test]
    #[ignore = "a measurement, not a check"]
    fn throughput() {
        let mut json = String::from("[");
        let mut i = 0u64;
        while json.len() < 1 << 20 {
            json.push_str(&format!(
                r#"{{"event":"open","ts":{},"session_id":"6f1c2b7e-3d4a-4f5b-9c8d-{:012x}","props":{{"screen":"home","lat":25.0330,"lng":121.5654,"ua":"Mozilla/5.0 (Linux; Android 14)","phone":"+886912345678","email":"u{}@mail.tw"}}}},"#,
                1_700_000_000_000u64 + i,
                i,
                i
            ));
            i += 1;
        }
        json.push_str("{}]");
        let text: String = json.chars().filter(|c| !"{}\"".contains(*c)).collect();
        let mut x: u64 = 1;
        let random: Vec<u8> = (0..1 << 20)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x >> 24) as u8
            })
            .collect();
        let t = std::time::Instant::now();
        let _ = Detectors::new();
        println!("Detectors::new: {:?}", t.elapsed());
        let hostile = "+886912345678 ".repeat(1 << 16);
        let clean = json
            .replace("+886912345678", "none")
            .replace("@mail.tw", "")
            .replace("25.0330", "1")
            .replace("121.5654", "2");
        for (name, ctx, bytes) in [
            ("json", Context::Json, json.as_bytes()),
            ("json-clean", Context::Json, clean.as_bytes()),
            ("text", Context::Payload, text.as_bytes()),
            ("random", Context::Payload, &random[..]),
            ("hostile", Context::Payload, hostile.as_bytes()),
        ] {
            let mut secs = f64::MAX;
            let mut out = Vec::new();
            let mut skipped = Skipped::default();
            for _ in 0..5 {
                out.clear();
                let t = std::time::Instant::now();
                skipped = det().find(ctx, bytes, &mut out);
                secs = secs.min(t.elapsed().as_secs_f64());
            }
            println!(
                "{name}: {} bytes, {:.1} MB/s, {} hits, {skipped:?}",
                bytes.len(),
                bytes.len() as f64 / secs / 1e6,
                out.len()
            );
        }
    }

    #[test]
    fn tables_are_sorted_and_sane() {
        assert!(MCC.windows(2).all(|w| w[0] < w[1]));
        assert!(RBI.windows(2).all(|w| w[0] < w[1]));
        let mut seen = std::collections::HashSet::new();
        for (k, _) in KEYS {
            assert!(
                k.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()),
                "{k}"
            );
            assert!(seen.insert(*k), "duplicate key {k}");
        }
        fn shared<T: Send + Sync>() {}
        shared::<Detectors>();
    }
}

//! Every byte string a profile value can take on the wire.
//!
//! A value first gets its *normal forms* (a phone number as E.164, national, with spaces...),
//! then each form its *encodings* (URL, JSON escapes, UTF-16, hex, base64 at the three
//! alignments, digests). The result is a flat list of [`Variant`]s, each a literal the
//! [`crate::scanner::Scanner`] looks for, with the chain of transforms that produced it.
//!
//! Text values (names, SMS bodies, secrets) that are not ASCII also get their bytes in the legacy
//! Chinese charsets apps still send (GBK, or GB18030 where GBK lacks a character, and Big5),
//! raw and percent-encoded, when the charset holds every character. These come after all other
//! variants, so adding them kept the ids of the others.
//!
//! Variants shorter than [`MIN_LEN`] bytes are dropped: a 4-byte literal occurs by chance every
//! few gigabytes of random data, and far more often in text. Values longer than [`MAX_VALUE_LEN`]
//! (SMS bodies, secrets) are cut to that many bytes before encoding, which bounds the longest
//! pattern and so the per-stream carry of the scanner.

use std::collections::HashSet;

use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use md5::Md5;
use sha1::Sha1;
use sha2::{Digest, Sha256, Sha512};

use crate::profile::{self, Phone, Profile};

/// Shortest variant kept, in bytes.
pub const MIN_LEN: usize = 6;
/// Longest value encoded, in bytes; longer values are cut (at a character boundary).
pub const MAX_VALUE_LEN: usize = 128;
/// Greatest distance in bytes between the starts of a latitude and a longitude hit for them
/// to count as one location.
pub const PAIR_WINDOW: u64 = 64;

/// What kind of personal data a variant stands for (the report's `data_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum DataType {
    Imei,
    Imsi,
    Iccid,
    Phone,
    Serial,
    AndroidId,
    AdvertisingId,
    Mac,
    Email,
    Name,
    ContactName,
    ContactPhone,
    Sms,
    Location,
    Secret,
}

impl DataType {
    /// The name used in reports.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Imei => "imei",
            Self::Imsi => "imsi",
            Self::Iccid => "iccid",
            Self::Phone => "phone",
            Self::Serial => "serial",
            Self::AndroidId => "android_id",
            Self::AdvertisingId => "advertising_id",
            Self::Mac => "mac",
            Self::Email => "email",
            Self::Name => "name",
            Self::ContactName => "contact_name",
            Self::ContactPhone => "contact_phone",
            Self::Sms => "sms",
            Self::Location => "location",
            Self::Secret => "secret",
        }
    }
}

/// How sure a hit of this variant is to be the value and not chance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Confidence {
    Low,
    Medium,
    High,
}

impl Confidence {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Low => "low",
            Self::Medium => "medium",
            Self::High => "high",
        }
    }
}

/// What must surround a hit for it to count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Boundary {
    /// Anything.
    None,
    /// No ASCII digit right before or right after: a 14-digit IMEI body inside a different
    /// 15-digit IMEI, or a national number inside a longer digit run, is not a hit.
    Digits,
    /// A number that may be followed by more decimals: no digit, '.' or '-' before it.
    NumberStart,
}

/// Which half of a location a coordinate variant is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Axis {
    Lat,
    Lon,
}

/// How people call a data type (`"imei"` -> `"IMEI"`, `"contact_phone"` -> `"contact phone
/// number"`), for messages; unknown names are returned as they are.
pub fn data_type_name(t: &str) -> &str {
    match t {
        "imei" => "IMEI",
        "imsi" => "IMSI",
        "iccid" => "ICCID",
        "phone" => "phone number",
        "serial" => "serial number",
        "android_id" => "Android ID",
        "advertising_id" => "advertising ID",
        "mac" => "MAC address",
        "email" => "email address",
        "name" => "owner's name",
        "contact_name" => "contact name",
        "contact_phone" => "contact phone number",
        "sms" => "SMS",
        other => other,
    }
}

/// One literal to search for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Variant {
    /// Index in [`Variants::list`].
    pub id: u32,
    pub data_type: DataType,
    /// Which profile entry, e.g. `imei`, `contacts[0].phone`, `secrets.wifi`.
    pub label: String,
    /// Which normal form of the value, e.g. `e164`, `national`, `colons`.
    pub form: &'static str,
    /// The transforms applied to the normal form, in the order applied (`["sha1", "hex"]`);
    /// empty for the form as is.
    pub encoding: Vec<&'static str>,
    pub bytes: Vec<u8>,
    /// Matched ignoring ASCII case (hex, emails, MACs, hex identifiers).
    pub case_insensitive: bool,
    pub boundary: Boundary,
    pub confidence: Confidence,
    /// For coordinates: which location and which half; a hit counts only as a pair.
    pub coord: Option<(u32, Axis)>,
}

/// All variants of a profile.
#[derive(Debug, Clone, Default)]
pub struct Variants {
    list: Vec<Variant>,
    /// Variants dropped as shorter than [`MIN_LEN`].
    pub too_short: usize,
    seen: HashSet<(Vec<u8>, bool, u32)>,
    entry: u32,
    /// Text forms waiting for their legacy-charset variants, built last.
    charset_forms: Vec<CharsetForm>,
}

/// A text form of a value, kept to encode in legacy charsets once every other variant is built.
#[derive(Debug, Clone)]
struct CharsetForm {
    entry: u32,
    data_type: DataType,
    label: String,
    confidence: Confidence,
    form: &'static str,
    text: String,
    boundary: Boundary,
}

/// A normal form of a value.
struct Form {
    name: &'static str,
    text: String,
    /// The text's ASCII case does not matter (hex digits, emails): text encodings are matched
    /// ignoring case, byte encodings (hex, base64, digests) are built for lower and upper case.
    any_case: bool,
    boundary: Boundary,
}

impl Form {
    fn new(name: &'static str, text: impl Into<String>) -> Self {
        Self {
            name,
            text: text.into(),
            any_case: false,
            boundary: Boundary::None,
        }
    }
    fn any_case(mut self) -> Self {
        self.any_case = true;
        self
    }
    fn digits(mut self) -> Self {
        self.boundary = Boundary::Digits;
        self
    }
}

struct Entry<'a> {
    data_type: DataType,
    label: &'a str,
    confidence: Confidence,
    coord: Option<(u32, Axis)>,
}

impl Variants {
    /// Builds every variant of every value of the profile.
    pub fn build(p: &Profile) -> Self {
        let mut v = Self::default();
        let ids = &p.identifiers;
        let own_phone = ids
            .phone
            .as_deref()
            .and_then(|s| Phone::parse(s, None).ok());
        let cc = own_phone.as_ref().map(|p| p.country_code.clone());
        for (label, value) in [("imei", &ids.imei), ("imei2", &ids.imei2)] {
            if let Some(value) = value {
                v.value(DataType::Imei, label, Confidence::High, imei_forms(value));
            }
        }
        if let Some(m) = &ids.meid {
            v.value(
                DataType::Imei,
                "meid",
                Confidence::High,
                vec![Form::new("as_written", profile::compact(m)).any_case()],
            );
        }
        for (dt, label, value) in [
            (DataType::Imsi, "imsi", &ids.imsi),
            (DataType::Iccid, "iccid", &ids.iccid),
        ] {
            if let Some(value) = value {
                v.value(
                    dt,
                    label,
                    Confidence::High,
                    vec![Form::new("digits", profile::compact(value))
                        .any_case()
                        .digits()],
                );
            }
        }
        if let Some(s) = &ids.phone {
            v.value(
                DataType::Phone,
                "phone",
                Confidence::High,
                phone_forms(s, None),
            );
        }
        if let Some(s) = &ids.serial {
            v.value(
                DataType::Serial,
                "serial",
                Confidence::High,
                vec![Form::new("as_written", s.clone()).any_case()],
            );
        }
        if let Some(s) = &ids.android_id {
            v.value(
                DataType::AndroidId,
                "android_id",
                Confidence::High,
                vec![Form::new("hex", profile::compact(s)).any_case()],
            );
        }
        if let Some(s) = &ids.advertising_id {
            v.value(
                DataType::AdvertisingId,
                "advertising_id",
                Confidence::High,
                vec![
                    Form::new("uuid", s.trim()).any_case(),
                    Form::new("bare", profile::compact(s)).any_case(),
                ],
            );
        }
        for (label, value) in [("wifi_mac", &ids.wifi_mac), ("bt_mac", &ids.bt_mac)] {
            if let Some(value) = value {
                v.value(DataType::Mac, label, Confidence::High, mac_forms(value));
            }
        }
        // Device fingerprints some SDKs build from two identifiers joined, unsalted:
        // md5(imei + android_id), sha1(android_id + "_" + mac), ...
        let mut parts: Vec<(DataType, &str, String)> = Vec::new();
        if let Some(i) = &ids.imei {
            if let Some(f) = imei_forms(i).into_iter().next() {
                parts.push((DataType::Imei, "imei", f.text));
            }
        }
        if let Some(a) = &ids.android_id {
            parts.push((DataType::AndroidId, "android_id", profile::compact(a)));
        }
        if let Some(s) = &ids.serial {
            parts.push((DataType::Serial, "serial", s.trim().to_owned()));
        }
        if let Some(m) = &ids.wifi_mac {
            if let Some(f) = mac_forms(m).into_iter().next() {
                parts.push((DataType::Mac, "wifi_mac", f.text));
            }
        }
        v.combinations(&parts);
        if let Some(s) = &p.owner.name {
            v.value(
                DataType::Name,
                "owner.name",
                Confidence::Medium,
                name_forms(s),
            );
        }
        if let Some(s) = &p.owner.email {
            v.value(
                DataType::Email,
                "owner.email",
                Confidence::High,
                vec![Form::new("folded", s.trim().to_lowercase()).any_case()],
            );
        }
        for (i, c) in p.contacts.iter().enumerate() {
            if let Some(s) = &c.name {
                v.value(
                    DataType::ContactName,
                    &format!("contacts[{i}].name"),
                    Confidence::Medium,
                    name_forms(s),
                );
            }
            if let Some(s) = &c.phone {
                v.value(
                    DataType::ContactPhone,
                    &format!("contacts[{i}].phone"),
                    Confidence::High,
                    phone_forms(s, cc.as_deref()),
                );
            }
        }
        for (i, m) in p.sms.iter().enumerate() {
            let label = format!("sms[{i}]");
            if let Some(body) = &m.body {
                v.value(
                    DataType::Sms,
                    &format!("{label}.body"),
                    Confidence::High,
                    vec![Form::new("as_written", body.clone())],
                );
                for code in digit_runs(body, 6) {
                    v.value(
                        DataType::Sms,
                        &format!("{label}.code"),
                        Confidence::Low,
                        vec![Form::new("code", code).digits()],
                    );
                }
            }
            if let Some(from) = &m.from {
                let forms = if Phone::parse(from, cc.as_deref()).is_ok() {
                    phone_forms(from, cc.as_deref())
                } else {
                    vec![Form::new("as_written", from.clone())]
                };
                v.value(
                    DataType::Sms,
                    &format!("{label}.from"),
                    Confidence::Low,
                    forms,
                );
            }
        }
        for (i, l) in p.locations.iter().enumerate() {
            let label = format!("locations[{i}]");
            let n = u32::try_from(i).unwrap_or(u32::MAX);
            for (axis, deg) in [(Axis::Lat, l.lat), (Axis::Lon, l.lon)] {
                v.coordinate(&label, n, axis, deg);
            }
        }
        for s in &p.secrets {
            v.value(
                DataType::Secret,
                &format!("secrets.{}", s.label),
                Confidence::High,
                vec![Form::new("as_written", s.value.clone())],
            );
        }
        v.charsets();
        v
    }

    /// The variants, indexed by [`Variant::id`].
    pub fn list(&self) -> &[Variant] {
        &self.list
    }

    pub fn get(&self, id: u32) -> Option<&Variant> {
        self.list.get(id as usize)
    }

    /// One line per variant, for `phonehome profile variants`:
    /// `id  data_type  label  form  encoding  bytes` (bytes as text when printable ASCII,
    /// else hex prefixed with `0x`).
    pub fn listing(&self) -> String {
        let mut out = String::new();
        for v in &self.list {
            let enc = if v.encoding.is_empty() {
                "plain".to_owned()
            } else {
                v.encoding.join("-")
            };
            let shown = if v.bytes.iter().all(|b| (0x20..0x7f).contains(b)) {
                String::from_utf8_lossy(&v.bytes).into_owned()
            } else {
                format!("0x{}", hex::encode(&v.bytes))
            };
            let case = if v.case_insensitive {
                " (any case)"
            } else {
                ""
            };
            out.push_str(&format!(
                "{}\t{}\t{}\t{}\t{}\t{}{}\n",
                v.id,
                v.data_type.as_str(),
                v.label,
                v.form,
                enc,
                shown,
                case
            ));
        }
        out
    }

    fn push(
        &mut self,
        e: &Entry<'_>,
        form: &Form,
        encoding: Vec<&'static str>,
        bytes: Vec<u8>,
        ci: bool,
        boundary: Boundary,
    ) {
        if bytes.len() < MIN_LEN {
            self.too_short += 1;
            return;
        }
        let key_bytes = if ci {
            bytes.to_ascii_lowercase()
        } else {
            bytes.clone()
        };
        // The same bytes from two forms of one value are one variant (the first, most direct).
        if !self.seen.insert((key_bytes, ci, self.entry)) {
            return;
        }
        let id = u32::try_from(self.list.len()).unwrap_or(u32::MAX);
        self.list.push(Variant {
            id,
            data_type: e.data_type,
            label: e.label.to_owned(),
            form: form.name,
            encoding,
            bytes,
            case_insensitive: ci,
            boundary,
            confidence: e.confidence,
            coord: e.coord,
        });
    }

    fn value(
        &mut self,
        data_type: DataType,
        label: &str,
        confidence: Confidence,
        forms: Vec<Form>,
    ) {
        self.entry += 1;
        let e = Entry {
            data_type,
            label,
            confidence,
            coord: None,
        };
        for f in &forms {
            self.encode(&e, f);
        }
        if matches!(
            data_type,
            DataType::Name | DataType::ContactName | DataType::Sms | DataType::Secret
        ) {
            for f in &forms {
                if !f.text.is_ascii() {
                    self.charset_forms.push(CharsetForm {
                        entry: self.entry,
                        data_type,
                        label: label.to_owned(),
                        confidence,
                        form: f.name,
                        text: f.text.clone(),
                        boundary: f.boundary,
                    });
                }
            }
        }
    }

    /// The legacy-charset variants of the text forms kept by [`Self::value`]: the bytes in
    /// GBK (GB18030 when GBK lacks a character) and Big5, as is and percent-encoded (as a form
    /// in that charset submits them), for the charsets that hold every character. Built after
    /// all other variants, so that their ids stay what they were.
    fn charsets(&mut self) {
        let forms = std::mem::take(&mut self.charset_forms);
        let entry = self.entry;
        for c in &forms {
            self.entry = c.entry;
            let e = Entry {
                data_type: c.data_type,
                label: &c.label,
                confidence: c.confidence,
                coord: None,
            };
            let f = Form {
                name: c.form,
                text: String::new(),
                any_case: false,
                boundary: c.boundary,
            };
            let text = truncate(&c.text, MAX_VALUE_LEN);
            let gbk = lossless(encoding_rs::GBK, text)
                .map(|b| ("gbk", b))
                .or_else(|| lossless(encoding_rs::GB18030, text).map(|b| ("gb18030", b)));
            let big5 = lossless(encoding_rs::BIG5, text).map(|b| ("big5", b));
            for (name, bytes) in [gbk, big5].into_iter().flatten() {
                let url = url_encode_bytes(&bytes, false, true);
                self.push(&e, &f, vec![name], bytes, false, c.boundary);
                self.push(
                    &e,
                    &f,
                    vec![name, "url"],
                    url.into_bytes(),
                    false,
                    c.boundary,
                );
            }
        }
        self.entry = entry;
    }

    /// Digests (hex, either case) of every ordered pair of `parts` joined with no separator,
    /// `_`, `-` or `|`: the unsalted fingerprints apps derive from two identifiers. A finding
    /// names the first identifier's data type and both labels (`imei+android_id`).
    fn combinations(&mut self, parts: &[(DataType, &str, String)]) {
        for (i, (data_type, a, va)) in parts.iter().enumerate() {
            for (j, (_, b, vb)) in parts.iter().enumerate() {
                if i == j {
                    continue;
                }
                self.entry += 1;
                let label = format!("{a}+{b}");
                let e = Entry {
                    data_type: *data_type,
                    label: &label,
                    confidence: Confidence::High,
                    coord: None,
                };
                for sep in ["", "_", "-", "|"] {
                    let f = Form::new("combined", format!("{va}{sep}{vb}"));
                    for (digest, bytes) in digests(f.text.as_bytes()) {
                        let hex = hex::encode(&bytes).into_bytes();
                        self.push(&e, &f, vec![digest, "hex"], hex, true, Boundary::None);
                    }
                }
            }
        }
    }

    /// The encodings of one normal form.
    fn encode(&mut self, e: &Entry<'_>, f: &Form) {
        let text = truncate(&f.text, MAX_VALUE_LEN);
        let ci = f.any_case;
        self.push(e, f, vec![], text.as_bytes().to_vec(), ci, f.boundary);
        // Text encodings keep digits as digits, so the boundary rule still applies.
        for (name, enc) in [
            ("url", url_encode(text, false, true)),
            ("url", url_encode(text, true, true)),
            ("url", url_encode(text, false, false)),
        ] {
            if enc != text {
                self.push(e, f, vec![name], enc.into_bytes(), ci, f.boundary);
            }
        }
        for upper in [false, true] {
            let j = json_escape(text, upper);
            if j != text {
                self.push(e, f, vec!["json"], j.into_bytes(), ci, f.boundary);
            }
        }
        let le: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
        let be: Vec<u8> = text.encode_utf16().flat_map(u16::to_be_bytes).collect();
        self.push(e, f, vec!["utf16le"], le, ci, Boundary::None);
        self.push(e, f, vec!["utf16be"], be, ci, Boundary::None);
        // Byte encodings: the case of the source letters changes the bytes, so each case is a source.
        let mut sources = vec![text.to_owned()];
        if ci {
            sources.push(text.to_ascii_lowercase());
            sources.push(text.to_ascii_uppercase());
        } else {
            sources.push(text.to_lowercase());
        }
        let mut done = HashSet::new();
        for (i, s) in sources.iter().enumerate() {
            if !done.insert(s.clone()) {
                continue;
            }
            // Digests of the lowercase of a case-sensitive value are a guess at what an app
            // normalised; the hex and base64 of it are not.
            let lowered_only = !ci && i > 0;
            if !lowered_only {
                self.push(
                    e,
                    f,
                    vec!["hex"],
                    hex::encode(s).into_bytes(),
                    true,
                    Boundary::None,
                );
                for (name, part) in base64_parts(s.as_bytes()) {
                    self.push(e, f, vec![name], part.into_bytes(), false, Boundary::None);
                }
            }
            let lower: &'static str = if lowered_only { "lowercase" } else { "" };
            for (digest, bytes) in digests(s.as_bytes()) {
                let chain = |enc: &'static str| -> Vec<&'static str> {
                    if lower.is_empty() {
                        vec![digest, enc]
                    } else {
                        vec![lower, digest, enc]
                    }
                };
                self.push(
                    e,
                    f,
                    chain("hex"),
                    hex::encode(&bytes).into_bytes(),
                    true,
                    Boundary::None,
                );
                self.push(
                    e,
                    f,
                    chain("base64"),
                    STANDARD_NO_PAD.encode(&bytes).into_bytes(),
                    false,
                    Boundary::None,
                );
                self.push(
                    e,
                    f,
                    chain("base64url"),
                    URL_SAFE_NO_PAD.encode(&bytes).into_bytes(),
                    false,
                    Boundary::None,
                );
            }
        }
    }

    /// Coordinates at 3 to 6 decimals (rounded and truncated), as written, and as E6/E7 integers.
    fn coordinate(&mut self, label: &str, location: u32, axis: Axis, deg: f64) {
        self.entry += 1;
        let e = Entry {
            data_type: DataType::Location,
            label,
            confidence: Confidence::Medium,
            coord: Some((location, axis)),
        };
        let mut texts: Vec<(&'static str, String, Boundary)> =
            vec![("as_written", format!("{deg}"), Boundary::NumberStart)];
        for (name, decimals) in [("3dp", 3), ("4dp", 4), ("5dp", 5), ("6dp", 6)] {
            texts.push((name, format!("{deg:.decimals$}"), Boundary::NumberStart));
            let scale = 10f64.powi(decimals as i32);
            let truncated = (deg * scale).trunc() / scale;
            texts.push((
                name,
                format!("{truncated:.decimals$}"),
                Boundary::NumberStart,
            ));
        }
        for (name, scale) in [("e6", 1e6), ("e7", 1e7)] {
            texts.push((
                name,
                format!("{}", (deg * scale).round() as i64),
                Boundary::Digits,
            ));
        }
        for (name, text, boundary) in texts {
            let f = Form {
                name,
                text,
                any_case: false,
                boundary,
            };
            self.push(&e, &f, vec![], f.text.as_bytes().to_vec(), false, boundary);
            // Encodings that map each character on its own, so the encoding of one half is a
            // substring of the encoding of the whole pair and the halves still pair up:
            // UTF-16 (Java and .NET strings written as bytes) and hex of the text. The
            // neighbouring bytes are encoded too, so no boundary can be checked; the pairing
            // within PAIR_WINDOW is what keeps chance hits out.
            let le: Vec<u8> = f.text.encode_utf16().flat_map(u16::to_le_bytes).collect();
            let be: Vec<u8> = f.text.encode_utf16().flat_map(u16::to_be_bytes).collect();
            self.push(&e, &f, vec!["utf16le"], le, false, Boundary::None);
            self.push(&e, &f, vec!["utf16be"], be, false, Boundary::None);
            let hex = hex::encode(f.text.as_bytes()).into_bytes();
            self.push(&e, &f, vec!["hex"], hex, true, Boundary::None);
        }
    }
}

fn imei_forms(v: &str) -> Vec<Form> {
    let d = profile::compact(v);
    let mut forms = Vec::new();
    if let Ok(body) = profile::check_imei(&d) {
        let check = profile::luhn_digit(&body).map_or(String::new(), |c| c.to_string());
        forms.push(Form::new("15_digits", format!("{body}{check}")).digits());
        forms.push(Form::new("14_digits", body).digits());
    } else {
        // Not a valid IMEI: trace it as written, the lab may have reasons.
        forms.push(Form::new("as_written", d).digits());
    }
    forms
}

fn phone_forms(v: &str, default_cc: Option<&str>) -> Vec<Form> {
    let mut forms = Vec::new();
    match Phone::parse(v, default_cc) {
        Ok(p) => {
            let cc = &p.country_code;
            let n = &p.national;
            forms.push(Form::new("e164", p.e164()).digits());
            forms.push(Form::new("no_plus", format!("{cc}{n}")).digits());
            forms.push(Form::new("national", format!("0{n}")).digits());
            forms.push(Form::new("significant", n.clone()).digits());
            forms.push(Form::new("spaced", format!("+{cc} {n}")).digits());
            forms.push(Form::new("dashed", format!("+{cc}-{n}")).digits());
        }
        Err(_) => forms.push(
            Form::new(
                "digits",
                v.chars().filter(char::is_ascii_digit).collect::<String>(),
            )
            .digits(),
        ),
    }
    let written = v.trim();
    forms.push(Form::new("as_written", written).digits());
    forms.push(Form::new("as_written", written.replace(' ', "-")).digits());
    forms.push(Form::new("as_written", written.replace('-', " ")).digits());
    forms
}

fn mac_forms(v: &str) -> Vec<Form> {
    let Some(mac) = profile::parse_mac(v) else {
        return vec![Form::new("as_written", v.trim()).any_case()];
    };
    let h: Vec<String> = mac.iter().map(|b| format!("{b:02x}")).collect();
    vec![
        Form::new("colons", h.join(":")).any_case(),
        Form::new("dashes", h.join("-")).any_case(),
        Form::new("bare", h.concat()).any_case(),
    ]
}

fn name_forms(v: &str) -> Vec<Form> {
    let t = v.trim();
    vec![
        Form::new("as_written", t),
        Form::new("no_spaces", t.replace(' ', "")),
    ]
}

/// Runs of at least `min` ASCII digits (one-time codes in an SMS).
fn digit_runs(s: &str, min: usize) -> Vec<String> {
    s.split(|c: char| !c.is_ascii_digit())
        .filter(|r| r.len() >= min)
        .map(str::to_owned)
        .collect()
}

/// `text` in `charset`, if the charset holds every character (encoding_rs replaces the others
/// with HTML character references and says so).
fn lossless(charset: &'static encoding_rs::Encoding, text: &str) -> Option<Vec<u8>> {
    let (bytes, used, lossy) = charset.encode(text);
    (!lossy && used == charset).then(|| bytes.into_owned())
}

fn truncate(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// Percent-encoding of RFC 3986 section 2.1: unreserved characters (section 2.3) kept, the
/// rest as %XX. `plus_space`: space as '+', as HTML forms do (application/x-www-form-urlencoded).
fn url_encode(s: &str, lower: bool, plus_space: bool) -> String {
    url_encode_bytes(s.as_bytes(), lower, plus_space)
}

/// [`url_encode`] of bytes in any charset.
fn url_encode_bytes(s: &[u8], lower: bool, plus_space: bool) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for &b in s {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(char::from(b))
            }
            b' ' if plus_space => out.push('+'),
            _ if lower => out.push_str(&format!("%{b:02x}")),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// JSON string escaping as encoders that keep output ASCII do it (RFC 8259 section 7): non-ASCII
/// as \uXXXX (UTF-16 code units), '/' as "\/".
fn json_escape(s: &str, upper: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '/' => out.push_str("\\/"),
            c if c.is_ascii() && !c.is_ascii_control() => out.push(c),
            c => {
                let mut units = [0u16; 2];
                for u in c.encode_utf16(&mut units) {
                    if upper {
                        out.push_str(&format!("\\u{u:04X}"));
                    } else {
                        out.push_str(&format!("\\u{u:04x}"));
                    }
                }
            }
        }
    }
    out
}

/// The base64 characters of `value` that do not depend on the bytes around it, for each of the
/// three positions (mod 3) it can take inside a longer encoded blob (RFC 4648 sections 4 and 5).
/// Output character j covers input bits [6j, 6j+6); with `k` unknown bytes before the value, the
/// characters wholly inside the value's bits are those with 8k <= 6j and 6j + 6 <= 8(k + len).
pub(crate) fn base64_parts(value: &[u8]) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    for k in 0..3usize {
        let mut buf = vec![0u8; k];
        buf.extend_from_slice(value);
        let start = (8 * k).div_ceil(6);
        let end = 8 * (k + value.len()) / 6;
        if end <= start {
            continue;
        }
        for (name, engine) in [
            ("base64", &STANDARD_NO_PAD),
            ("base64url", &URL_SAFE_NO_PAD),
        ] {
            let enc = engine.encode(&buf);
            if let Some(part) = enc.get(start..end) {
                out.push((name, part.to_owned()));
            }
        }
    }
    out
}

fn digests(s: &[u8]) -> [(&'static str, Vec<u8>); 4] {
    [
        ("md5", Md5::digest(s).to_vec()),
        ("sha1", Sha1::digest(s).to_vec()),
        ("sha256", Sha256::digest(s).to_vec()),
        ("sha512", Sha512::digest(s).to_vec()),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile(text: &str) -> Profile {
        Profile::parse(text, "t").unwrap().0
    }

    fn find<'a>(v: &'a Variants, label: &str, form: &str, enc: &[&str]) -> Option<&'a Variant> {
        v.list()
            .iter()
            .find(|x| x.label == label && x.form == form && x.encoding == enc)
    }

    #[test]
    fn imei_digests_and_forms() {
        let v = Variants::build(&profile("[identifiers]\nimei = \"356938035643809\"\n"));
        let imei = b"356938035643809";
        let table: &[(&str, &[&str], Vec<u8>)] = &[
            ("15_digits", &[], imei.to_vec()),
            ("14_digits", &[], b"35693803564380".to_vec()),
            (
                "15_digits",
                &["sha1", "hex"],
                hex::encode(Sha1::digest(imei)).into_bytes(),
            ),
            (
                "15_digits",
                &["md5", "hex"],
                hex::encode(Md5::digest(imei)).into_bytes(),
            ),
            (
                "15_digits",
                &["sha256", "base64"],
                STANDARD_NO_PAD.encode(Sha256::digest(imei)).into_bytes(),
            ),
            (
                "14_digits",
                &["sha1", "hex"],
                hex::encode(Sha1::digest(b"35693803564380")).into_bytes(),
            ),
            ("15_digits", &["hex"], hex::encode(imei).into_bytes()),
            (
                "15_digits",
                &["utf16le"],
                imei.iter().flat_map(|&b| [b, 0]).collect(),
            ),
        ];
        for (form, enc, bytes) in table {
            let got =
                find(&v, "imei", form, enc).unwrap_or_else(|| panic!("{form} {enc:?} missing"));
            assert_eq!(&got.bytes, bytes, "{form} {enc:?}");
            assert_eq!(got.data_type, DataType::Imei);
        }
        // Known answers, computed outside Rust (Python hashlib) for the same 15 ASCII digits.
        let known: &[(&[&str], &str)] = &[
            (&["sha1", "hex"], "31f455635a12252f8cedb39cd7533fc58a064bff"),
            (&["md5", "hex"], "af2d48f2495881aed1737bb21017f9b6"),
        ];
        for (enc, want) in known {
            let got = find(&v, "imei", "15_digits", enc).unwrap();
            assert_eq!(got.bytes, want.as_bytes(), "{enc:?}");
        }
        assert!(
            find(&v, "imei", "15_digits", &["sha1", "hex"])
                .unwrap()
                .case_insensitive
        );
        assert!(v.list().iter().all(|x| x.bytes.len() >= MIN_LEN));
        // Digits have no case: no "lowercase" digest duplicates.
        assert!(v.list().iter().all(|x| !x.encoding.contains(&"lowercase")));
    }

    #[test]
    fn base64_parts_found_at_every_alignment() {
        let value = b"+886912345678";
        let parts = base64_parts(value);
        assert_eq!(parts.len(), 6);
        for pad in 0..6usize {
            let mut blob = b"{\"user\":\"".to_vec();
            blob.extend(std::iter::repeat_n(b'x', pad));
            blob.extend_from_slice(value);
            blob.extend_from_slice(b"\",\"t\":1}");
            let std = STANDARD_NO_PAD.encode(&blob);
            let url = URL_SAFE_NO_PAD.encode(&blob);
            let hit = parts.iter().any(|(name, p)| {
                if *name == "base64" {
                    std.contains(p)
                } else {
                    url.contains(p)
                }
            });
            assert!(hit, "pad {pad}: {std}");
            // The part for this alignment specifically, in both alphabets.
            let k = (9 + pad) % 3;
            assert!(
                std.contains(&parts[2 * k].1) && url.contains(&parts[2 * k + 1].1),
                "pad {pad}"
            );
        }
    }

    #[test]
    fn phone_forms_and_url() {
        let v = Variants::build(&profile("[identifiers]\nphone = \"+886 912 345 678\"\n"));
        let table: &[(&str, &[&str], &str)] = &[
            ("e164", &[], "+886912345678"),
            ("e164", &["url"], "%2B886912345678"),
            ("no_plus", &[], "886912345678"),
            ("national", &[], "0912345678"),
            ("significant", &[], "912345678"),
            ("as_written", &[], "+886 912 345 678"),
            ("as_written", &["url"], "%2B886+912+345+678"),
        ];
        for (form, enc, want) in table {
            let got = find(&v, "phone", form, enc).unwrap_or_else(|| panic!("{form} {enc:?}"));
            assert_eq!(got.bytes, want.as_bytes(), "{form} {enc:?}");
            assert_eq!(got.boundary, Boundary::Digits);
        }
        assert!(v
            .list()
            .iter()
            .any(|x| x.bytes == b"%2B886%20912%20345%20678"));
        assert!(v.list().iter().any(|x| x.bytes == b"%2b886912345678"));
    }

    #[test]
    fn contact_phone_takes_owner_country() {
        let v = Variants::build(&profile(
            "[identifiers]\nphone = \"+886 912 345 678\"\n[[contacts]]\nname = \"Lin\"\nphone = \"0987-654-321\"\n",
        ));
        assert!(
            find(&v, "contacts[0].phone", "e164", &[]).is_some_and(|x| x.bytes == b"+886987654321")
        );
        // A three-letter name is below the minimum length, its UTF-16 is not.
        assert!(find(&v, "contacts[0].name", "as_written", &[]).is_none());
        assert!(find(&v, "contacts[0].name", "as_written", &["utf16le"]).is_some());
        assert!(v.too_short > 0);
    }

    #[test]
    fn mac_email_name_json() {
        let v = Variants::build(&profile(
            "[identifiers]\nwifi_mac = \"02-00-00-AB-cd-56\"\n[owner]\nname = \"Chén Mei Ling\"\nemail = \" Mei@Example.com\"\n",
        ));
        let mac = |form| find(&v, "wifi_mac", form, &[]).unwrap();
        assert_eq!(mac("colons").bytes, b"02:00:00:ab:cd:56");
        assert_eq!(mac("dashes").bytes, b"02-00-00-ab-cd-56");
        assert_eq!(mac("bare").bytes, b020000abcd56());
        assert!(mac("colons").case_insensitive);
        // Digests of both cases of a MAC.
        let upper = Sha1::digest(b"02:00:00:AB:CD:56");
        assert!(v
            .list()
            .iter()
            .any(|x| x.bytes == hex::encode(upper).into_bytes()));
        let email = find(&v, "owner.email", "folded", &[]).unwrap();
        assert_eq!(email.bytes, b"mei@example.com");
        assert!(email.case_insensitive);
        assert!(v
            .list()
            .iter()
            .any(|x| x.bytes == hex::encode(Sha256::digest(b"mei@example.com")).into_bytes()));
        let json = find(&v, "owner.name", "as_written", &["json"]).unwrap();
        assert_eq!(json.bytes, b"Ch\\u00e9n Mei Ling");
        assert!(find(&v, "owner.name", "no_spaces", &[])
            .is_some_and(|x| x.bytes == "ChénMeiLing".as_bytes()));
        assert!(
            !find(&v, "owner.name", "as_written", &[])
                .unwrap()
                .case_insensitive
        );
        // Names: digest of the lowercase too, flagged in the chain.
        let lower = Md5::digest("chén mei ling".as_bytes());
        assert!(
            find(&v, "owner.name", "as_written", &["lowercase", "md5", "hex"])
                .is_some_and(|x| x.bytes == hex::encode(lower).into_bytes())
        );
    }

    fn b020000abcd56() -> &'static [u8] {
        b"020000abcd56"
    }

    #[test]
    fn coordinates() {
        let v = Variants::build(&profile(
            "[[locations]]\nlat = 25.0339639\nlon = -121.5644722\n",
        ));
        let texts: Vec<(&str, Axis)> = v
            .list()
            .iter()
            .filter(|x| x.encoding.is_empty())
            .map(|x| (std::str::from_utf8(&x.bytes).unwrap(), x.coord.unwrap().1))
            .collect();
        for want in [
            "25.034",
            "25.033",
            "25.0340",
            "25.03396",
            "25.033964",
            "25.033963",
            "25033964",
            "250339639",
        ] {
            assert!(texts.contains(&(want, Axis::Lat)), "{want}: {texts:?}");
        }
        for want in ["-121.564", "-121.5645", "-121564472", "-1215644722"] {
            assert!(texts.contains(&(want, Axis::Lon)), "{want}: {texts:?}");
        }
        assert!(v.list().iter().all(|x| x.data_type == DataType::Location));
        // Byte-local encodings of each half, so that an encoded pair still pairs up.
        let enc = |form: &str, encoding: &[&str], axis: Axis| {
            v.list()
                .iter()
                .find(|x| x.form == form && x.encoding == encoding && x.coord.unwrap().1 == axis)
                .map(|x| x.bytes.clone())
        };
        let le: Vec<u8> = "250339639"
            .encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect();
        assert_eq!(enc("e7", &["utf16le"], Axis::Lat), Some(le));
        assert_eq!(
            enc("e7", &["hex"], Axis::Lon),
            Some(b"2d31323135363434373232".to_vec())
        );
        assert!(enc("6dp", &["utf16be"], Axis::Lon).is_some());
        // No digests or base64 of a half: they would never be a substring of the pair's.
        assert!(v.list().iter().all(|x| x.encoding.len() <= 1
            && matches!(
                x.encoding.first(),
                None | Some(&("utf16le" | "utf16be" | "hex"))
            )));
    }

    #[test]
    fn sms_code_and_listing() {
        let v = Variants::build(&profile(
            "[[sms]]\nbody = \"Your code is 482913.\"\nfrom = \"BANK\"\n",
        ));
        let code = find(&v, "sms[0].code", "code", &[]).unwrap();
        assert_eq!(
            (code.bytes.as_slice(), code.confidence),
            (&b"482913"[..], Confidence::Low)
        );
        let listing = v.listing();
        assert!(
            listing.contains("sms\tsms[0].code\tcode\tplain\t482913\n"),
            "{listing}"
        );
        assert!(listing.contains("\tutf16le\t0x"), "{listing}");
        assert_eq!(listing.lines().count(), v.list().len());
    }

    #[test]
    fn legacy_chinese_charsets() {
        let text = "[identifiers]\nimei = \"356938035643809\"\n[owner]\nname = \"陳美玲\"\n\
                    [[contacts]]\nname = \"Mei Lin\"\n[[contacts]]\nname = \"张三丰\"\n\
                    [[sms]]\nbody = \"😀 hi 陈\"\n";
        let v = Variants::build(&profile(text));
        // Known answers from Python's codecs (the WHATWG tables agree for these characters).
        let table: &[(&str, &str, &[&str], &str)] = &[
            ("owner.name", "as_written", &["gbk"], "ea90c3c0c1e1"),
            ("owner.name", "as_written", &["big5"], "b3afacfcacc2"),
            ("contacts[1].name", "as_written", &["gbk"], "d5c5c8fdb7e1"),
            (
                "sms[0].body",
                "as_written",
                &["gb18030"],
                "9439fc3620686920b3c2",
            ),
        ];
        for (label, form, enc, want) in table {
            let got = find(&v, label, form, enc).unwrap_or_else(|| panic!("{label} {enc:?}"));
            assert_eq!(hex::encode(&got.bytes), *want, "{label} {enc:?}");
            assert!(!got.case_insensitive);
        }
        let url = find(&v, "owner.name", "as_written", &["gbk", "url"]).unwrap();
        assert_eq!(url.bytes, b"%EA%90%C3%C0%C1%E1");
        // Big5 lacks simplified 张 and the emoji: no variant rather than a lossy one.
        assert!(find(&v, "contacts[1].name", "as_written", &["big5"]).is_none());
        assert!(find(&v, "sms[0].body", "as_written", &["big5"]).is_none());
        assert!(find(&v, "sms[0].body", "as_written", &["gbk"]).is_none());
        // ASCII text and identifiers get none.
        let legacy = |x: &Variant| {
            x.encoding
                .first()
                .is_some_and(|e| matches!(*e, "gbk" | "gb18030" | "big5"))
        };
        assert!(!v
            .list()
            .iter()
            .any(|x| legacy(x) && (x.label == "contacts[0].name" || x.label == "imei")));
        // Appended after every other variant: the ids of the others did not move.
        let first = v.list().iter().position(legacy).unwrap();
        assert!(v.list()[first..].iter().all(legacy));
        assert!(v.list().iter().enumerate().all(|(i, x)| x.id as usize == i));
        // The same profile with ASCII text only has exactly the variants before them.
        let ascii = Variants::build(&profile(
            "[identifiers]\nimei = \"356938035643809\"\n[[contacts]]\nname = \"Mei Lin\"\n",
        ));
        let imei: Vec<_> = v.list().iter().filter(|x| x.label == "imei").collect();
        let imei_ascii: Vec<_> = ascii.list().iter().filter(|x| x.label == "imei").collect();
        assert_eq!(imei, imei_ascii);
    }

    #[test]
    fn long_values_are_cut() {
        let body = "é".repeat(200);
        let v = Variants::build(&profile(&format!(
            "[[secrets]]\nlabel = \"l\"\nvalue = \"{body}\"\n"
        )));
        let plain = find(&v, "secrets.l", "as_written", &[]).unwrap();
        assert_eq!(plain.bytes.len(), MAX_VALUE_LEN);
        assert!(v.list().iter().all(|x| x.bytes.len() <= 4 * MAX_VALUE_LEN));
    }

    #[test]
    fn digests_of_two_identifiers_joined_are_variants() {
        let (p, _) = Profile::parse(
            "[identifiers]\nimei = \"356938035643809\"\nandroid_id = \"9774d56d682e549c\"\n",
            "t",
        )
        .unwrap();
        let v = Variants::build(&p);
        let md5 = hex::encode(Md5::digest(b"3569380356438099774d56d682e549c"));
        let found = v
            .list()
            .iter()
            .find(|x| x.bytes == md5.as_bytes())
            .expect("md5(imei + android_id)");
        assert_eq!(found.label, "imei+android_id");
        assert_eq!(found.data_type, DataType::Imei);
        assert_eq!(found.encoding, ["md5", "hex"]);
        let sha1 = hex::encode(Sha1::digest(b"9774d56d682e549c_356938035643809"));
        assert!(v
            .list()
            .iter()
            .any(|x| x.bytes == sha1.as_bytes() && x.label == "android_id+imei"));
    }
}

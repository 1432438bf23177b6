//! The device profile: the values a lab seeded on the phone under test.
//!
//! A profile is a TOML file (see [`TEMPLATE`]). Every key is optional. Tables and keys this
//! module does not know are kept as warnings, not errors, so lab notes can live beside the
//! values. A value of the wrong type is an error naming the key and its line.
//!
//! Parsing keeps the text as written; [`Profile::check`] says what looks wrong (an IMEI whose
//! Luhn digit fails, a phone number without country code, a latitude out of range) without
//! refusing the profile: a lab may deliberately trace a malformed value.

use std::fmt;

use toml::de::{DeTable, DeValue};
use toml::Spanned;

use crate::toml_doc::Doc;

pub mod vcard;

/// The device's identifiers (`[identifiers]`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Identifiers {
    pub imei: Option<String>,
    pub imei2: Option<String>,
    pub meid: Option<String>,
    pub imsi: Option<String>,
    pub iccid: Option<String>,
    pub phone: Option<String>,
    pub serial: Option<String>,
    pub android_id: Option<String>,
    /// GAID, OAID or IDFA.
    pub advertising_id: Option<String>,
    pub wifi_mac: Option<String>,
    pub bt_mac: Option<String>,
}

/// The phone's owner (`[owner]`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Owner {
    pub name: Option<String>,
    pub email: Option<String>,
}

/// One `[[contacts]]` entry.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Contact {
    pub name: Option<String>,
    pub phone: Option<String>,
}

/// One `[[sms]]` entry.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sms {
    pub body: Option<String>,
    pub from: Option<String>,
}

/// One `[[locations]]` entry, in decimal degrees (WGS 84).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Location {
    pub lat: f64,
    pub lon: f64,
}

/// One `[[secrets]]` entry: a free-form value a lab wants traced.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Secret {
    pub label: String,
    pub value: String,
}

/// A parsed device profile.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Profile {
    /// Where the profile came from (a file name), for messages.
    pub source: String,
    pub identifiers: Identifiers,
    pub owner: Owner,
    pub contacts: Vec<Contact>,
    pub sms: Vec<Sms>,
    pub locations: Vec<Location>,
    pub secrets: Vec<Secret>,
}

/// A profile that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProfileError {
    /// The text is not valid TOML.
    #[error("{source_name}:{line}: not valid TOML: {message}")]
    Syntax {
        source_name: String,
        line: usize,
        message: String,
    },
    /// The TOML is valid but a known key holds the wrong kind of value.
    #[error("{source_name}:{line}: {key}: {message}")]
    Key {
        source_name: String,
        line: usize,
        key: String,
        message: String,
    },
}

/// Something [`Profile::check`] found doubtful.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The key, e.g. `identifiers.imei` or `contacts[1].phone`.
    pub key: String,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.key, self.message)
    }
}

/// The commented template `phonehome profile init` writes.
pub const TEMPLATE: &str = r#"# phonehome device profile: the values seeded on the phone under test.
# `phonehome audit --profile FILE` reports where any of them (in clear, encoded or
# hashed) left the device. Every key is optional; delete what you do not use.
# Tables and keys phonehome does not know are ignored with a warning, so notes
# can live in this file too.

[identifiers]
# imei = "356938035643809"        # 15 digits (Luhn check digit) or 14 without it
# imei2 = ""                       # second SIM slot
# meid = ""                        # CDMA, 14 hex digits
# imsi = "466920123456789"
# iccid = "8988692012345678901"
# phone = "+886 912 345 678"       # any common format; give the country code
# serial = ""
# android_id = ""                  # 16 hex digits (Settings.Secure.ANDROID_ID)
# advertising_id = ""              # GAID / OAID / IDFA (a UUID)
# wifi_mac = "02:00:00:12:34:56"
# bt_mac = ""

[owner]
# name = "Chen Mei-Ling"
# email = "meiling@example.com"

# One table per contact seeded in the address book.
# Or export the address book and pass it with --contacts FILE.vcf.
# [[contacts]]
# name = "Lin Chih-Hao"
# phone = "+886 987 654 321"

# One table per SMS seeded in the inbox; codes of 6+ digits are traced too.
# [[sms]]
# body = "Your code is 482913"
# from = "+886 911 222 333"

# Mocked locations, decimal degrees; found only as a latitude/longitude pair.
# [[locations]]
# lat = 25.0340
# lon = 121.5645

# Anything else to trace: a password, a token, a file name.
# [[secrets]]
# label = "wifi password"
# value = "correct horse battery staple"
"#;

const IDENTIFIER_KEYS: &[&str] = &[
    "imei",
    "imei2",
    "meid",
    "imsi",
    "iccid",
    "phone",
    "serial",
    "android_id",
    "advertising_id",
    "wifi_mac",
    "bt_mac",
];

/// Keys whose value is all digits and which a lab may write as a bare TOML integer.
const NUMERIC_KEYS: &[&str] = &["imei", "imei2", "imsi", "iccid", "serial"];

struct Ctx<'a> {
    doc: Doc<'a>,
}

impl Ctx<'_> {
    fn key_error(&self, span: std::ops::Range<usize>, key: &str, message: &str) -> ProfileError {
        ProfileError::Key {
            source_name: self.doc.source.to_owned(),
            line: self.doc.line(span.start),
            key: key.to_owned(),
            message: message.to_owned(),
        }
    }

    fn warn_unknown(&mut self, span: std::ops::Range<usize>, key: &str) {
        self.doc
            .warn(span.start, format_args!("unknown key {key} ignored"));
    }

    fn string(&mut self, value: &Spanned<DeValue<'_>>, key: &str) -> Result<String, ProfileError> {
        match value.get_ref() {
            DeValue::String(s) => Ok(s.trim().to_owned()),
            DeValue::Integer(i)
                if NUMERIC_KEYS.iter().any(|k| key.ends_with(k)) && i.radix() == 10 =>
            {
                self.doc.warn(
                    value.span().start,
                    format_args!("{key} is a number; write it as a string to keep leading zeros"),
                );
                Ok(i.as_str().replace('_', ""))
            }
            other => Err(self.key_error(
                value.span(),
                key,
                &format!("expected a string, found {}", other.type_str()),
            )),
        }
    }

    fn number(&self, value: &Spanned<DeValue<'_>>, key: &str) -> Result<f64, ProfileError> {
        let parsed = match value.get_ref() {
            DeValue::Float(f) => f.as_str().replace('_', "").parse::<f64>().ok(),
            DeValue::Integer(i) if i.radix() == 10 => {
                i.as_str().replace('_', "").parse::<f64>().ok()
            }
            DeValue::String(s) => s.trim().parse::<f64>().ok(),
            _ => None,
        };
        match parsed {
            Some(v) if v.is_finite() => Ok(v),
            _ => Err(self.key_error(value.span(), key, "expected a number in decimal degrees")),
        }
    }

    fn table<'t, 'i>(
        &self,
        value: &'t Spanned<DeValue<'i>>,
        key: &str,
    ) -> Result<&'t DeTable<'i>, ProfileError> {
        value
            .get_ref()
            .as_table()
            .ok_or_else(|| self.key_error(value.span(), key, "expected a table"))
    }

    fn tables<'t, 'i>(
        &self,
        value: &'t Spanned<DeValue<'i>>,
        key: &str,
    ) -> Result<Vec<&'t DeTable<'i>>, ProfileError> {
        let Some(array) = value.get_ref().as_array() else {
            return Err(self.key_error(value.span(), key, "expected an array of tables ([[...]])"));
        };
        array
            .iter()
            .enumerate()
            .map(|(i, v)| self.table(v, &format!("{key}[{i}]")))
            .collect()
    }
}

impl Profile {
    /// Parses a profile. `source` names it in messages. Returns the profile and the warnings
    /// (unknown tables and keys, numbers written without quotes).
    pub fn parse(text: &str, source: &str) -> Result<(Self, Vec<String>), ProfileError> {
        let mut cx = Ctx {
            doc: Doc::new(text, source),
        };
        let root = cx
            .doc
            .parse()
            .map_err(|(line, message)| ProfileError::Syntax {
                source_name: source.to_owned(),
                line,
                message,
            })?;
        let mut profile = Self {
            source: source.to_owned(),
            ..Self::default()
        };
        for (name, value) in root.get_ref() {
            let name_str: &str = name.get_ref();
            match name_str {
                "identifiers" => {
                    for (k, v) in cx.table(value, "identifiers")? {
                        let key = format!("identifiers.{}", k.get_ref());
                        if !IDENTIFIER_KEYS.contains(&k.get_ref().as_ref()) {
                            cx.warn_unknown(k.span(), &key);
                            continue;
                        }
                        let s = cx.string(v, &key)?;
                        let ids = &mut profile.identifiers;
                        let slot = match k.get_ref().as_ref() {
                            "imei" => &mut ids.imei,
                            "imei2" => &mut ids.imei2,
                            "meid" => &mut ids.meid,
                            "imsi" => &mut ids.imsi,
                            "iccid" => &mut ids.iccid,
                            "phone" => &mut ids.phone,
                            "serial" => &mut ids.serial,
                            "android_id" => &mut ids.android_id,
                            "advertising_id" => &mut ids.advertising_id,
                            "wifi_mac" => &mut ids.wifi_mac,
                            _ => &mut ids.bt_mac,
                        };
                        *slot = Some(s).filter(|s| !s.is_empty());
                    }
                }
                "owner" => {
                    for (k, v) in cx.table(value, "owner")? {
                        let key = format!("owner.{}", k.get_ref());
                        match k.get_ref().as_ref() {
                            "name" => {
                                profile.owner.name =
                                    Some(cx.string(v, &key)?).filter(|s| !s.is_empty())
                            }
                            "email" => {
                                profile.owner.email =
                                    Some(cx.string(v, &key)?).filter(|s| !s.is_empty())
                            }
                            _ => cx.warn_unknown(k.span(), &key),
                        }
                    }
                }
                "contacts" => {
                    for (i, t) in cx.tables(value, "contacts")?.into_iter().enumerate() {
                        let mut c = Contact::default();
                        for (k, v) in t {
                            let key = format!("contacts[{i}].{}", k.get_ref());
                            match k.get_ref().as_ref() {
                                "name" => {
                                    c.name = Some(cx.string(v, &key)?).filter(|s| !s.is_empty())
                                }
                                "phone" => {
                                    c.phone = Some(cx.string(v, &key)?).filter(|s| !s.is_empty())
                                }
                                _ => cx.warn_unknown(k.span(), &key),
                            }
                        }
                        profile.contacts.push(c);
                    }
                }
                "sms" => {
                    for (i, t) in cx.tables(value, "sms")?.into_iter().enumerate() {
                        let mut m = Sms::default();
                        for (k, v) in t {
                            let key = format!("sms[{i}].{}", k.get_ref());
                            match k.get_ref().as_ref() {
                                "body" => {
                                    m.body = Some(cx.string(v, &key)?).filter(|s| !s.is_empty())
                                }
                                "from" => {
                                    m.from = Some(cx.string(v, &key)?).filter(|s| !s.is_empty())
                                }
                                _ => cx.warn_unknown(k.span(), &key),
                            }
                        }
                        profile.sms.push(m);
                    }
                }
                "locations" => {
                    for (i, t) in cx.tables(value, "locations")?.into_iter().enumerate() {
                        let (mut lat, mut lon) = (None, None);
                        for (k, v) in t {
                            let key = format!("locations[{i}].{}", k.get_ref());
                            match k.get_ref().as_ref() {
                                "lat" => lat = Some(cx.number(v, &key)?),
                                "lon" => lon = Some(cx.number(v, &key)?),
                                _ => cx.warn_unknown(k.span(), &key),
                            }
                        }
                        let (Some(lat), Some(lon)) = (lat, lon) else {
                            return Err(cx.key_error(
                                value.span(),
                                &format!("locations[{i}]"),
                                "needs both lat and lon",
                            ));
                        };
                        profile.locations.push(Location { lat, lon });
                    }
                }
                "secrets" => {
                    for (i, t) in cx.tables(value, "secrets")?.into_iter().enumerate() {
                        let mut s = Secret::default();
                        let mut has_value = false;
                        for (k, v) in t {
                            let key = format!("secrets[{i}].{}", k.get_ref());
                            match k.get_ref().as_ref() {
                                "label" => s.label = cx.string(v, &key)?,
                                "value" => {
                                    s.value = cx.string(v, &key)?;
                                    has_value = true;
                                }
                                _ => cx.warn_unknown(k.span(), &key),
                            }
                        }
                        if !has_value {
                            return Err(cx.key_error(
                                value.span(),
                                &format!("secrets[{i}]"),
                                "needs a value",
                            ));
                        }
                        if s.label.is_empty() {
                            s.label = format!("secret {}", i + 1);
                        }
                        profile.secrets.push(s);
                    }
                }
                _ => cx.doc.warn(
                    name.span().start,
                    format_args!("unknown table {name_str} ignored"),
                ),
            }
        }
        Ok((profile, cx.doc.into_warnings()))
    }

    /// Validates the values; an empty list means nothing looks wrong.
    pub fn check(&self) -> Vec<Problem> {
        let mut out = Vec::new();
        let mut problem = |key: &str, message: String| {
            out.push(Problem {
                key: key.to_owned(),
                message,
            });
        };
        let ids = &self.identifiers;
        for (key, v) in [
            ("identifiers.imei", &ids.imei),
            ("identifiers.imei2", &ids.imei2),
        ] {
            if let Some(v) = v {
                if let Err(m) = check_imei(v) {
                    problem(key, m);
                }
            }
        }
        if let Some(v) = &ids.meid {
            let d = compact(v);
            let ok = (d.len() == 14 && d.bytes().all(|b| b.is_ascii_hexdigit()))
                || (d.len() == 18 && d.bytes().all(|b| b.is_ascii_digit()));
            if !ok {
                problem(
                    "identifiers.meid",
                    "expected 14 hex digits (or 18 decimal digits)".into(),
                );
            }
        }
        if let Some(v) = &ids.imsi {
            let d = compact(v);
            if !(6..=15).contains(&d.len()) || !d.bytes().all(|b| b.is_ascii_digit()) {
                problem(
                    "identifiers.imsi",
                    "expected 6 to 15 digits (ITU-T E.212)".into(),
                );
            }
        }
        if let Some(v) = &ids.iccid {
            let d = compact(v);
            let digits = d.trim_end_matches(['F', 'f']);
            if !(18..=22).contains(&digits.len()) || !digits.bytes().all(|b| b.is_ascii_digit()) {
                problem(
                    "identifiers.iccid",
                    "expected 18 to 22 digits (ITU-T E.118)".into(),
                );
            } else if !digits.starts_with("89") {
                problem(
                    "identifiers.iccid",
                    "an ICCID starts with 89 (telecom industry identifier)".into(),
                );
            }
        }
        if let Some(v) = &ids.phone {
            if let Err(m) = Phone::parse(v, None) {
                problem("identifiers.phone", m);
            }
        }
        if let Some(v) = &ids.android_id {
            let d = compact(v);
            if d.len() != 16 || !d.bytes().all(|b| b.is_ascii_hexdigit()) {
                problem("identifiers.android_id", "expected 16 hex digits".into());
            }
        }
        if let Some(v) = &ids.advertising_id {
            if !is_uuid(v) {
                problem(
                    "identifiers.advertising_id",
                    "expected a UUID (8-4-4-4-12 hex digits)".into(),
                );
            }
        }
        for (key, v) in [
            ("identifiers.wifi_mac", &ids.wifi_mac),
            ("identifiers.bt_mac", &ids.bt_mac),
        ] {
            if let Some(v) = v {
                if parse_mac(v).is_none() {
                    problem(key, "expected 12 hex digits, e.g. 02:00:00:12:34:56".into());
                }
            }
        }
        if let Some(v) = &self.owner.email {
            let ok = v
                .split_once('@')
                .is_some_and(|(l, d)| !l.is_empty() && d.contains('.'));
            if !ok {
                problem(
                    "owner.email",
                    "expected an address like name@example.com".into(),
                );
            }
        }
        let cc = ids
            .phone
            .as_deref()
            .and_then(|p| Phone::parse(p, None).ok())
            .map(|p| p.country_code);
        for (i, c) in self.contacts.iter().enumerate() {
            if let Some(p) = &c.phone {
                if let Err(m) = Phone::parse(p, cc.as_deref()) {
                    problem(&format!("contacts[{i}].phone"), m);
                }
            }
            if c.name.is_none() && c.phone.is_none() {
                problem(&format!("contacts[{i}]"), "empty contact".into());
            }
        }
        for (i, l) in self.locations.iter().enumerate() {
            if !(-90.0..=90.0).contains(&l.lat) {
                problem(
                    &format!("locations[{i}].lat"),
                    format!("{} is not a latitude (-90..90)", l.lat),
                );
            }
            if !(-180.0..=180.0).contains(&l.lon) {
                problem(
                    &format!("locations[{i}].lon"),
                    format!("{} is not a longitude (-180..180)", l.lon),
                );
            }
        }
        for (i, s) in self.secrets.iter().enumerate() {
            if s.value.len() < crate::variants::MIN_LEN {
                problem(
                    &format!("secrets[{i}].value"),
                    format!(
                        "shorter than {} bytes: too short to trace without noise",
                        crate::variants::MIN_LEN
                    ),
                );
            }
        }
        out
    }
}

/// The value without the separators people type (spaces, dashes, dots, slashes, colons).
pub(crate) fn compact(s: &str) -> String {
    s.chars()
        .filter(|c| !matches!(c, ' ' | '-' | '.' | '/' | ':' | '\t'))
        .collect()
}

/// The Luhn check digit for `digits` (ASCII digits only), as used by IMEI (3GPP TS 23.003
/// section 6.2.1 and Annex B) and ICCID.
pub(crate) fn luhn_digit(digits: &str) -> Option<u8> {
    let mut sum = 0u32;
    for (i, b) in digits.bytes().rev().enumerate() {
        let d = u32::from(b.checked_sub(b'0').filter(|d| *d <= 9)?);
        // Doubling starts at the rightmost digit of the payload, since the check digit follows it.
        sum += if i % 2 == 0 {
            let x = d * 2;
            x / 10 + x % 10
        } else {
            d
        };
    }
    u8::try_from((10 - sum % 10) % 10).ok()
}

/// Checks an IMEI: 15 digits with a valid Luhn digit, or 14 digits (TAC + SNR, no check digit).
/// Returns the 14-digit body on success.
pub(crate) fn check_imei(v: &str) -> Result<String, String> {
    let d = compact(v);
    if !d.bytes().all(|b| b.is_ascii_digit()) {
        return Err("an IMEI has only digits".into());
    }
    match d.len() {
        14 => Ok(d),
        15 => {
            let (body, check) = d.split_at(14);
            let expected = luhn_digit(body).unwrap_or(10);
            if check.as_bytes().first().map(|c| c - b'0') == Some(expected) {
                Ok(body.to_owned())
            } else {
                Err(format!(
                    "Luhn check digit should be {expected}, not {check} (3GPP TS 23.003 6.2.1)"
                ))
            }
        }
        16 => Err("16 digits is an IMEISV (no check digit); give the IMEI's 14 or 15".into()),
        n => Err(format!("an IMEI has 14 or 15 digits, not {n}")),
    }
}

/// Twelve hex digits of a MAC address written with colons, dashes, dots or nothing.
pub(crate) fn parse_mac(v: &str) -> Option<[u8; 6]> {
    let d = compact(v);
    if d.len() != 12 {
        return None;
    }
    let bytes = hex::decode(d).ok()?;
    bytes.try_into().ok()
}

pub(crate) fn is_uuid(v: &str) -> bool {
    let groups: Vec<&str> = v.trim().split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// ITU-T E.164 country codes of one and two digits; every other code has three. The codes are
/// prefix-free (E.164 Annex to the list of assigned codes), so the length follows from the first
/// digits alone.
fn country_code_len(digits: &str) -> usize {
    const TWO: &[&str] = &[
        "20", "27", "30", "31", "32", "33", "34", "36", "39", "40", "41", "43", "44", "45", "46",
        "47", "48", "49", "51", "52", "53", "54", "55", "56", "57", "58", "60", "61", "62", "63",
        "64", "65", "66", "81", "82", "84", "86", "90", "91", "92", "93", "94", "95", "98",
    ];
    if digits.starts_with('1') || digits.starts_with('7') {
        1
    } else if digits.get(..2).is_some_and(|p| TWO.contains(&p)) {
        2
    } else {
        3
    }
}

/// A phone number split into country code and national significant number (E.164 section 6).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Phone {
    pub country_code: String,
    pub national: String,
}

impl Phone {
    /// Normalises a phone number written in any common format: `+CC ...`, `00CC ...`, or a
    /// national number with trunk prefix 0 when `default_cc` (the device's own country) is known.
    pub fn parse(v: &str, default_cc: Option<&str>) -> Result<Self, String> {
        let t = v.trim();
        if t.chars()
            .any(|c| !(c.is_ascii_digit() || " -.()/+".contains(c)))
        {
            return Err(
                "a phone number has only digits, spaces, dashes, dots, parentheses and a leading +"
                    .into(),
            );
        }
        let digits: String = t.chars().filter(char::is_ascii_digit).collect();
        let international = if t.starts_with('+') {
            Some(digits.clone())
        } else {
            digits.strip_prefix("00").map(str::to_owned)
        };
        let phone = if let Some(d) = international {
            let n = country_code_len(&d);
            if d.len() <= n {
                return Err("too short for an international number".into());
            }
            let (cc, nsn) = d.split_at(n);
            Self {
                country_code: cc.to_owned(),
                national: nsn.to_owned(),
            }
        } else if let (Some(cc), Some(nsn)) = (default_cc, digits.strip_prefix('0')) {
            Self {
                country_code: cc.to_owned(),
                national: nsn.to_owned(),
            }
        } else {
            return Err("no country code: write it as +CC ... (E.164)".into());
        };
        // E.164 section 6.1: at most 15 digits in all; real mobile numbers have at least 7 after the code.
        let total = phone.country_code.len() + phone.national.len();
        if total > 15 || phone.national.len() < 7 {
            return Err(format!(
                "+{} {} is not a plausible E.164 number",
                phone.country_code, phone.national
            ));
        }
        Ok(phone)
    }

    /// `+8869...`
    pub fn e164(&self) -> String {
        format!("+{}{}", self.country_code, self.national)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FULL: &str = r#"
[identifiers]
imei = "35-693803-564380-9"
imsi = 466920123456789
phone = "+886 912 345 678"
wifi_mac = "02:00:00:12:34:56"
colour = "blue"

[owner]
name = "Chen Mei-Ling"
email = "MeiLing@Example.com"

[[contacts]]
name = "Lin Chih-Hao"
phone = "0987 654 321"

[[sms]]
body = "Your code is 482913"
from = "+886 911 222 333"

[[locations]]
lat = 25.034
lon = 121

[[secrets]]
label = "wifi"
value = "correct horse"

[notes]
day = "tuesday"
"#;

    #[test]
    fn parses_every_table() {
        let (p, warnings) = Profile::parse(FULL, "lab.toml").unwrap();
        assert_eq!(p.identifiers.imei.as_deref(), Some("35-693803-564380-9"));
        assert_eq!(p.identifiers.imsi.as_deref(), Some("466920123456789"));
        assert_eq!(p.owner.email.as_deref(), Some("MeiLing@Example.com"));
        assert_eq!(p.contacts.len(), 1);
        assert_eq!(p.sms[0].from.as_deref(), Some("+886 911 222 333"));
        assert_eq!(
            p.locations,
            vec![Location {
                lat: 25.034,
                lon: 121.0
            }]
        );
        assert_eq!(p.secrets[0].label, "wifi");
        assert_eq!(warnings.len(), 3, "{warnings:?}");
        assert!(
            warnings[0].contains("lab.toml:4: identifiers.imsi is a number"),
            "{warnings:?}"
        );
        assert!(
            warnings[1].contains("lab.toml:7: unknown key identifiers.colour"),
            "{warnings:?}"
        );
        assert!(warnings[2].contains("unknown table notes"), "{warnings:?}");
        assert_eq!(p.check(), vec![]);
    }

    #[test]
    fn errors_name_line_and_key() {
        let cases: &[(&str, usize, &str)] = &[
            ("[identifiers]\nimei = [1]\n", 2, "identifiers.imei"),
            ("[owner]\n\nname = 3\n", 3, "owner.name"),
            ("owner = 3\n", 1, "owner"),
            (
                "[[locations]]\nlat = \"north\"\nlon = 1\n",
                2,
                "locations[0].lat",
            ),
            ("[[locations]]\nlat = 1.0\n", 1, "locations[0]"),
            ("[[secrets]]\nlabel = \"x\"\n", 1, "secrets[0]"),
        ];
        for (text, line, key) in cases {
            match Profile::parse(text, "p.toml") {
                Err(ProfileError::Key {
                    line: l, key: k, ..
                }) => {
                    assert_eq!((l, k.as_str()), (*line, *key), "{text}");
                }
                other => panic!("{text}: {other:?}"),
            }
        }
        match Profile::parse("[owner\nname = 1", "p.toml") {
            Err(e @ ProfileError::Syntax { line: 1, .. }) => {
                assert!(e.to_string().starts_with("p.toml:1:"))
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn template_parses_clean() {
        let (p, warnings) = Profile::parse(TEMPLATE, "template").unwrap();
        assert!(warnings.is_empty());
        assert_eq!(p.identifiers, Identifiers::default());
        // Uncommenting every example gives a profile that passes its own check.
        let uncommented: String = TEMPLATE
            .lines()
            .map(|l| {
                l.strip_prefix("# ")
                    .filter(|r| r.contains(" = ") || r.starts_with('['))
                    .unwrap_or(l)
            })
            .filter(|l| !l.contains("= \"\""))
            .collect::<Vec<_>>()
            .join("\n");
        let (p, warnings) = Profile::parse(&uncommented, "t").unwrap();
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!(p.identifiers.imei.as_deref(), Some("356938035643809"));
        assert_eq!(p.check(), vec![]);
    }

    #[test]
    fn imei_check() {
        // 35-693803-564380-9: the example IMEI of GSMA TS.06 style listings; Luhn digit 9.
        assert_eq!(check_imei("356938035643809"), Ok("35693803564380".into()));
        assert_eq!(check_imei("35693803564380"), Ok("35693803564380".into()));
        assert!(check_imei("356938035643808")
            .unwrap_err()
            .contains("should be 9"));
        assert!(check_imei("3569380356438").is_err());
        assert!(check_imei("35693803564380x").is_err());
        assert_eq!(luhn_digit("7992739871"), Some(3)); // the classic Luhn example
    }

    #[test]
    fn phones() {
        // (text, default country code, Some((country code, national)) or None for an error)
        type Case = (
            &'static str,
            Option<&'static str>,
            Option<(&'static str, &'static str)>,
        );
        let cases: &[Case] = &[
            ("+886 912 345 678", None, Some(("886", "912345678"))),
            ("0088 6912-345-678", None, Some(("886", "912345678"))),
            ("+1 (415) 555-0100", None, Some(("1", "4155550100"))),
            ("+44 7700 900123", None, Some(("44", "7700900123"))),
            ("+7 912 345 67 89", None, Some(("7", "9123456789"))),
            ("0987 654 321", Some("886"), Some(("886", "987654321"))),
            ("0987 654 321", None, None),
            ("+886 12", None, None),
            ("+886 912 345 678 999 99", None, None),
            ("call me", None, None),
        ];
        for (text, cc, want) in cases {
            let got = Phone::parse(text, *cc);
            match want {
                Some((c, n)) => {
                    let p = got.unwrap_or_else(|e| panic!("{text}: {e}"));
                    assert_eq!(
                        (p.country_code.as_str(), p.national.as_str()),
                        (*c, *n),
                        "{text}"
                    );
                }
                None => assert!(got.is_err(), "{text}: {got:?}"),
            }
        }
    }

    #[test]
    fn check_reports_each_bad_value() {
        let text = r#"
[identifiers]
imei = "356938035643808"
phone = "912345678"
wifi_mac = "02:00:00:12:34"
advertising_id = "not-a-uuid"
[owner]
email = "nobody"
[[locations]]
lat = 95.0
lon = -200
"#;
        let (p, _) = Profile::parse(text, "p").unwrap();
        let keys: Vec<String> = p.check().into_iter().map(|p| p.key).collect();
        assert_eq!(
            keys,
            [
                "identifiers.imei",
                "identifiers.phone",
                "identifiers.advertising_id",
                "identifiers.wifi_mac",
                "owner.email",
                "locations[0].lat",
                "locations[0].lon"
            ]
        );
    }
}

//! Address book exports (`.vcf`): the contacts a lab seeded on the phone, as profile
//! `[[contacts]]` entries.
//!
//! Labs add contacts on the test phone, export the address book and hand the same file to
//! phonehome. Exports come in every version of the format: Android's Contacts app writes
//! vCard 2.1 (the versit specification) with `CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE` on
//! anything that is not ASCII, iOS and Google Contacts write vCard 3.0 (RFC 2426 on the
//! RFC 2425 directory format), some tools vCard 4.0 (RFC 6350).
//!
//! Only four properties matter here: `FN` and `N` (the name; `N` builds one when `FN` is
//! missing), `TEL` (any number per card) and `EMAIL`. The reader is written by hand because
//! the vCard crates follow RFC 6350 alone and refuse or garble what Android writes (bare
//! 2.1 parameters, quoted-printable soft line breaks, legacy charsets), and because they
//! parse every property into memory, photos included, where this reader steps over the
//! properties it does not use without copying them.
//!
//! # Bounds
//!
//! Input is untrusted and nothing here panics on it. The caller reads at most
//! [`MAX_FILE_BYTES`]; the reader keeps at most [`MAX_LINE`] bytes of any property it uses
//! (the others, `PHOTO` first, are skipped without being copied or decoded), at most
//! [`MAX_CARDS`] cards giving at most [`MAX_CONTACTS`] contacts, and [`MAX_VALUES_PER_CARD`]
//! numbers and addresses per card. Going past a cap is an error naming the file and line;
//! damage within a card (a line that is not a property, an unknown charset, a card without
//! `END:VCARD`) is a warning naming them.

use std::borrow::Cow;
use std::fmt;

use super::{Contact, Phone, Profile};

/// Largest export read, in bytes. Photos make most of an export's size; a larger file is
/// better exported without them.
pub const MAX_FILE_BYTES: u64 = 64 << 20;

/// Most cards in one export, whatever they hold.
pub const MAX_CARDS: usize = 10_000;

/// Most profile contacts one export gives (see [`AddressBook::contacts`]). Each name and
/// number becomes about 85 search patterns (forms, encodings, digests), and the scanner's
/// automaton grows with them: 1,000 cards of a name and a number took 450 MB. A lab traces
/// the contacts it seeded, not a whole address book.
pub const MAX_CONTACTS: usize = 1_000;

/// Longest property kept (FN, N, TEL, EMAIL, after unfolding), in bytes.
pub const MAX_LINE: usize = 64 << 10;

/// Most phone numbers plus e-mail addresses kept from one card; the rest are dropped with a
/// warning.
pub const MAX_VALUES_PER_CARD: usize = 64;

/// Warnings listed in full; past this only their number is given.
const MAX_WARNINGS: usize = 50;

/// The vCard version a card declares (`VERSION:`), which decides how folded lines join.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Version {
    /// vCard 2.1 (versit): folding keeps the whitespace, parameters may be bare.
    V2_1,
    /// vCard 3.0 (RFC 2426), also the reading of a card that declares no version.
    V3_0,
    /// vCard 4.0 (RFC 6350).
    V4_0,
}

/// A value of a card and the line of its property, for messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Value {
    pub text: String,
    pub line: usize,
}

/// One card (`BEGIN:VCARD` ... `END:VCARD`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Card {
    /// Line of `BEGIN:VCARD`.
    pub line: usize,
    pub version: Version,
    /// `FN`, or a name built from `N` when `FN` is missing or empty.
    pub name: Option<String>,
    /// `TEL` values, as written (a `tel:` URI's number without its scheme), without repeats.
    pub phones: Vec<Value>,
    /// `EMAIL` values, without repeats.
    pub emails: Vec<Value>,
}

/// The cards of one export, and what looked wrong in it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AddressBook {
    /// The file name, for messages.
    pub source: String,
    pub cards: Vec<Card>,
    /// `file:line: message`, in file order.
    pub warnings: Vec<String>,
}

/// An export that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VcardError {
    /// The file is larger than [`MAX_FILE_BYTES`] (`size` is what was given, which may be
    /// just past the cap when the caller stopped reading there).
    #[error("{source_name}: larger than {limit} bytes; export the contacts without photos")]
    TooLarge {
        source_name: String,
        size: u64,
        limit: u64,
    },
    /// More than [`MAX_CARDS`] cards.
    #[error(
        "{source_name}:{line}: more than {limit} cards; export the contacts seeded for the test"
    )]
    TooManyCards {
        source_name: String,
        line: usize,
        limit: usize,
    },
    /// The cards give more than [`MAX_CONTACTS`] contacts.
    #[error("{source_name}:{line}: more than {limit} contacts (one per phone number); export the contacts seeded for the test")]
    TooManyContacts {
        source_name: String,
        line: usize,
        limit: usize,
    },
    /// A property this reader keeps is longer than [`MAX_LINE`].
    #[error("{source_name}:{line}: {property} longer than {limit} bytes")]
    LineTooLong {
        source_name: String,
        line: usize,
        property: String,
        limit: usize,
    },
    /// The text is UTF-16 (it starts with a UTF-16 byte order mark).
    #[error("{source_name}:1: UTF-16 text; save the export as UTF-8")]
    Utf16 { source_name: String },
    /// Not a single `BEGIN:VCARD` in the file.
    #[error("{source_name}: no vCard in it (no BEGIN:VCARD line)")]
    NoCards { source_name: String },
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::V2_1 => "2.1",
            Self::V3_0 => "3.0",
            Self::V4_0 => "4.0",
        })
    }
}

impl AddressBook {
    /// Reads the cards of an export. `source` names it in messages.
    ///
    /// ```
    /// use phonehome_detect::profile::vcard::AddressBook;
    ///
    /// let vcf = "BEGIN:VCARD\r\nVERSION:3.0\r\nN:Lin;Chih-Hao;;;\r\n\
    ///            item1.TEL;type=CELL:+886 987 654 321\r\nEND:VCARD\r\n";
    /// let book = AddressBook::parse(vcf.as_bytes(), "contacts.vcf")?;
    /// assert_eq!(book.cards[0].name.as_deref(), Some("Chih-Hao Lin"));
    /// assert_eq!(book.cards[0].phones[0].text, "+886 987 654 321");
    /// # Ok::<(), phonehome_detect::profile::vcard::VcardError>(())
    /// ```
    pub fn parse(bytes: &[u8], source: &str) -> Result<Self, VcardError> {
        let size = u64::try_from(bytes.len()).unwrap_or(u64::MAX);
        if size > MAX_FILE_BYTES {
            return Err(VcardError::TooLarge {
                source_name: source.to_owned(),
                size,
                limit: MAX_FILE_BYTES,
            });
        }
        if bytes.starts_with(&[0xff, 0xfe]) || bytes.starts_with(&[0xfe, 0xff]) {
            return Err(VcardError::Utf16 {
                source_name: source.to_owned(),
            });
        }
        let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
        let mut reader = Reader {
            source,
            cards: Vec::new(),
            contacts: 0,
            card: None,
            nested: 0,
            begins: 0,
            after_agent: false,
            outside_warned: false,
            warnings: Vec::new(),
            warnings_dropped: 0,
        };
        let mut pending: Option<Pending> = None;
        let mut number = 0usize;
        for raw in bytes.split(|&b| b == b'\n') {
            number += 1;
            let line = raw.strip_suffix(b"\r").unwrap_or(raw);
            if let Some(p) = pending.as_mut() {
                if let Some(rest) = p.continuation(line, reader.version()) {
                    p.feed(rest, line, source)?;
                    continue;
                }
                if p.soft {
                    reader.warn(
                        number,
                        "quoted-printable soft line break before a card boundary; the value ends here",
                    );
                }
            }
            if let Some(p) = pending.take() {
                reader.property(p)?;
            }
            if line.iter().all(|b| matches!(b, b' ' | b'\t')) {
                continue;
            }
            let mut p = Pending::new(number);
            p.feed(line, line, source)?;
            pending = Some(p);
        }
        if let Some(p) = pending.take() {
            reader.property(p)?;
        }
        if let Some(card) = reader.card.take() {
            let line = card.card.line;
            reader.warn(line, "card has no END:VCARD; read to the end of the file");
            reader.finish(card, number)?;
        }
        if reader.begins == 0 {
            return Err(VcardError::NoCards {
                source_name: source.to_owned(),
            });
        }
        // A card's missing END is only known after its content: put it back in file order.
        reader.warnings.sort_by_key(|w| w.0);
        let mut warnings: Vec<String> = reader.warnings.into_iter().map(|w| w.1).collect();
        if reader.warnings_dropped > 0 {
            warnings.push(format!(
                "{source}: {} more warnings not shown",
                reader.warnings_dropped
            ));
        }
        Ok(Self {
            source: source.to_owned(),
            cards: reader.cards,
            warnings,
        })
    }

    /// The profile `[[contacts]]` entries of these cards: one per phone number, the card's
    /// name on the first, so a name is searched once however many numbers it has; a card
    /// without a number gives its name alone.
    pub fn contacts(&self) -> Vec<Contact> {
        let mut out = Vec::with_capacity(self.cards.iter().map(Card::contacts).sum());
        for card in &self.cards {
            if card.phones.is_empty() {
                if card.name.is_some() {
                    out.push(Contact {
                        name: card.name.clone(),
                        phone: None,
                    });
                }
                continue;
            }
            for (i, phone) in card.phones.iter().enumerate() {
                out.push(Contact {
                    name: if i == 0 { card.name.clone() } else { None },
                    phone: Some(phone.text.clone()),
                });
            }
        }
        out
    }

    /// Appends [`Self::contacts`] to `profile`.
    pub fn add_to(&self, profile: &mut Profile) {
        profile.contacts.extend(self.contacts());
    }

    /// What looks wrong, as `file:line: message`: numbers that are not plausible phone
    /// numbers (`default_cc`, the device's own country code, completes national numbers,
    /// as for the profile's contacts).
    pub fn check(&self, default_cc: Option<&str>) -> Vec<String> {
        let mut out = Vec::new();
        for card in &self.cards {
            for phone in &card.phones {
                if let Err(m) = Phone::parse(&phone.text, default_cc) {
                    let whose = card
                        .name
                        .as_deref()
                        .map(|n| format!(" of {n}"))
                        .unwrap_or_default();
                    out.push(format!("{}:{}: TEL{whose}: {m}", self.source, phone.line));
                }
            }
        }
        out
    }

    /// One line saying what the export gives the profile.
    pub fn summary(&self) -> String {
        let names = self.cards.iter().filter(|c| c.name.is_some()).count();
        let phones: usize = self.cards.iter().map(|c| c.phones.len()).sum();
        let emails: usize = self.cards.iter().map(|c| c.emails.len()).sum();
        let mut s = format!(
            "{}: {}, {} and {} traced as contacts",
            self.source,
            count(self.cards.len(), "card"),
            count(names, "name"),
            count(phones, "phone number")
        );
        if emails > 0 {
            s.push_str(&format!(
                " ({} not traced: profile contacts have a name and a phone)",
                count(emails, "e-mail address")
            ));
        }
        s
    }
}

impl Card {
    /// How many profile contacts the card gives (see [`AddressBook::contacts`]).
    pub fn contacts(&self) -> usize {
        match self.phones.len() {
            0 => usize::from(self.name.is_some()),
            n => n,
        }
    }
}

/// `n` and the noun, plural unless `n` is 1.
fn count(n: usize, noun: &str) -> String {
    match (n, noun.ends_with('s')) {
        (1, _) => format!("1 {noun}"),
        (_, true) => format!("{n} {noun}es"),
        _ => format!("{n} {noun}s"),
    }
}

/// One logical line (a property) being assembled from its physical lines.
struct Pending {
    line: usize,
    /// Name, group and parameters, up to the first `:` outside double quotes.
    header: Vec<u8>,
    header_done: bool,
    in_quotes: bool,
    /// The property is one this reader uses; otherwise its value is not copied.
    keep: bool,
    value: Vec<u8>,
    qp: bool,
    base64: bool,
    /// The last physical line ended with a quoted-printable soft line break.
    soft: bool,
    /// A vCard 2.1 `AGENT`, whose value may be a whole card on the lines that follow.
    agent: bool,
}

impl Pending {
    const fn new(line: usize) -> Self {
        Self {
            line,
            header: Vec::new(),
            header_done: false,
            in_quotes: false,
            keep: false,
            value: Vec::new(),
            qp: false,
            base64: false,
            soft: false,
            agent: false,
        }
    }

    /// The part of `line` that continues this property, if it does.
    fn continuation<'l>(&self, line: &'l [u8], version: Version) -> Option<&'l [u8]> {
        if self.soft {
            // A soft break joins the next line whole, whatever it starts with (RFC 2045
            // section 6.7 rule 5); a card boundary there is a damaged export, not content.
            return (!is_boundary(line)).then_some(line);
        }
        match line.first() {
            // vCard 2.1 (section 2.1.3) folds RFC 822 style: the CRLF goes, the whitespace
            // stays. RFC 2425 section 5.8.1 / RFC 6350 section 3.2: both go.
            Some(b' ' | b'\t') if version == Version::V2_1 => Some(line),
            Some(b' ' | b'\t') => line.get(1..),
            // vCard 2.1 base64 data (section 2.1.5) runs until a blank line, and some writers
            // do not indent it: a line of base64 alphabet alone cannot start a property,
            // which needs a ':'.
            Some(_) if self.base64 && line.iter().all(|&b| is_base64(b)) => Some(line),
            _ => None,
        }
    }

    /// Takes `bytes`, the part of physical line `line` that belongs to this property.
    fn feed(&mut self, bytes: &[u8], line: &[u8], source: &str) -> Result<(), VcardError> {
        self.append(bytes, source)?;
        // RFC 2045 section 6.7 rule 5: a final '=' is a soft line break, not content.
        self.soft = self.qp && self.header_done && line.ends_with(b"=");
        if self.soft && self.keep {
            self.value.pop();
        }
        Ok(())
    }

    fn append(&mut self, mut bytes: &[u8], source: &str) -> Result<(), VcardError> {
        if !self.header_done {
            let mut end = None;
            for (i, &b) in bytes.iter().enumerate() {
                match b {
                    b'"' => self.in_quotes = !self.in_quotes,
                    b':' if !self.in_quotes => {
                        end = Some(i);
                        break;
                    }
                    _ => {}
                }
            }
            let head = bytes.get(..end.unwrap_or(bytes.len())).unwrap_or(bytes);
            if self.header.len().saturating_add(head.len()) > MAX_LINE {
                return Err(self.too_long(source));
            }
            self.header.extend_from_slice(head);
            let Some(end) = end else { return Ok(()) };
            self.header_done = true;
            let h = Header::parse(&self.header);
            self.keep = KEPT.iter().any(|k| h.name.eq_ignore_ascii_case(k));
            self.qp = h.encoded(&[b"QUOTED-PRINTABLE"], b"QUOTED-PRINTABLE");
            self.base64 = h.encoded(&[b"B", b"BASE64"], b"BASE64");
            self.agent = h.name.eq_ignore_ascii_case(b"AGENT");
            bytes = bytes.get(end.saturating_add(1)..).unwrap_or(&[]);
        }
        if self.keep {
            if self.value.len().saturating_add(bytes.len()) > MAX_LINE {
                return Err(self.too_long(source));
            }
            self.value.extend_from_slice(bytes);
        }
        Ok(())
    }

    fn too_long(&self, source: &str) -> VcardError {
        let name = Header::parse(&self.header).name;
        VcardError::LineTooLong {
            source_name: source.to_owned(),
            line: self.line,
            property: String::from_utf8_lossy(name.get(..64).unwrap_or(name)).into_owned(),
            limit: MAX_LINE,
        }
    }
}

/// The properties read; every other one is stepped over.
const KEPT: &[&[u8]] = &[b"BEGIN", b"END", b"VERSION", b"FN", b"N", b"TEL", b"EMAIL"];

fn is_base64(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=')
}

fn is_boundary(line: &[u8]) -> bool {
    let t = line.trim_ascii();
    t.eq_ignore_ascii_case(b"END:VCARD") || t.eq_ignore_ascii_case(b"BEGIN:VCARD")
}

/// A property's name and parameters.
struct Header<'a> {
    name: &'a [u8],
    /// `(key, value)`; a vCard 2.1 bare parameter (`CELL`, `QUOTED-PRINTABLE`) has an empty key.
    params: Vec<(&'a [u8], &'a [u8])>,
}

impl<'a> Header<'a> {
    fn parse(header: &'a [u8]) -> Self {
        let mut parts = split_outside_quotes(header, b';').into_iter();
        let full = parts.next().unwrap_or_default().trim_ascii();
        // A group (RFC 6350 section 3.3, `item1.TEL`) says which properties belong together;
        // the name follows its last dot.
        let name = full
            .iter()
            .rposition(|&b| b == b'.')
            .and_then(|i| full.get(i + 1..))
            .unwrap_or(full);
        let params = parts
            .map(|p| match p.iter().position(|&b| b == b'=') {
                Some(i) => (
                    p.get(..i).unwrap_or_default().trim_ascii(),
                    trim_quotes(p.get(i + 1..).unwrap_or_default().trim_ascii()),
                ),
                None => (&[][..], p.trim_ascii()),
            })
            .collect();
        Self { name, params }
    }

    /// The value of parameter `key` (the first one).
    fn param(&self, key: &[u8]) -> Option<&'a [u8]> {
        self.params
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| *v)
    }

    /// Whether the value is in transfer encoding `keyed` (`ENCODING=...`) or, as vCard 2.1
    /// also writes it, `bare` (a parameter of its own, e.g. `;QUOTED-PRINTABLE`).
    fn encoded(&self, keyed: &[&[u8]], bare: &[u8]) -> bool {
        self.params.iter().any(|(k, v)| {
            if k.is_empty() {
                v.eq_ignore_ascii_case(bare)
            } else {
                k.eq_ignore_ascii_case(b"ENCODING")
                    && keyed.iter().any(|n| v.eq_ignore_ascii_case(n))
            }
        })
    }
}

fn trim_quotes(v: &[u8]) -> &[u8] {
    v.strip_prefix(b"\"")
        .and_then(|v| v.strip_suffix(b"\""))
        .unwrap_or(v)
}

fn split_outside_quotes(s: &[u8], sep: u8) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let (mut start, mut quoted) = (0, false);
    for (i, &b) in s.iter().enumerate() {
        if b == b'"' {
            quoted = !quoted;
        } else if b == sep && !quoted {
            out.push(s.get(start..i).unwrap_or_default());
            start = i + 1;
        }
    }
    out.push(s.get(start..).unwrap_or_default());
    out
}

/// A card being read.
struct Building {
    card: Card,
    formatted: Option<String>,
    structured: Option<String>,
    dropped: usize,
}

struct Reader<'s> {
    source: &'s str,
    cards: Vec<Card>,
    /// Contacts the cards so far give.
    contacts: usize,
    card: Option<Building>,
    /// Depth of cards inside the current one (a vCard 2.1 `AGENT` holds a whole card); their
    /// properties are someone else's and are not read.
    nested: usize,
    begins: usize,
    /// The property before was an `AGENT`: a `BEGIN:VCARD` now is its card.
    after_agent: bool,
    outside_warned: bool,
    /// `(line, message)`.
    warnings: Vec<(usize, String)>,
    warnings_dropped: usize,
}

impl Reader<'_> {
    fn version(&self) -> Version {
        self.card.as_ref().map_or(Version::V3_0, |c| c.card.version)
    }

    fn warn(&mut self, line: usize, message: &str) {
        if self.warnings.len() < MAX_WARNINGS {
            self.warnings
                .push((line, format!("{}:{line}: {message}", self.source)));
        } else {
            self.warnings_dropped += 1;
        }
    }

    fn property(&mut self, p: Pending) -> Result<(), VcardError> {
        let after_agent = std::mem::replace(&mut self.after_agent, false);
        if !p.header_done {
            if self.card.is_none() {
                self.outside(p.line);
            } else if self.nested == 0 {
                self.warn(p.line, "not a property (no ':'), ignored");
            }
            return Ok(());
        }
        if !p.keep {
            if self.card.is_none() {
                self.outside(p.line);
            }
            self.after_agent = p.agent;
            return Ok(());
        }
        let header = Header::parse(&p.header);
        let name = header.name.to_ascii_uppercase();
        let simple = p.value.trim_ascii();
        match name.as_slice() {
            b"BEGIN" if simple.eq_ignore_ascii_case(b"VCARD") => {
                self.begins += 1;
                if self.card.is_some() && (after_agent || self.nested > 0) {
                    self.nested += 1;
                } else {
                    if let Some(card) = self.card.take() {
                        // Not an AGENT's card: the card before lacks its END:VCARD. Ending it
                        // here keeps the rest of the file from being read as its agent.
                        let line = card.card.line;
                        self.warn(
                            line,
                            "card has no END:VCARD; it ends at the next BEGIN:VCARD",
                        );
                        self.finish(card, p.line)?;
                    }
                    if self.cards.len() >= MAX_CARDS {
                        return Err(VcardError::TooManyCards {
                            source_name: self.source.to_owned(),
                            line: p.line,
                            limit: MAX_CARDS,
                        });
                    }
                    self.card = Some(Building {
                        card: Card {
                            line: p.line,
                            version: Version::V3_0,
                            name: None,
                            phones: Vec::new(),
                            emails: Vec::new(),
                        },
                        formatted: None,
                        structured: None,
                        dropped: 0,
                    });
                }
                return Ok(());
            }
            b"END" if simple.eq_ignore_ascii_case(b"VCARD") => {
                if self.nested > 0 {
                    self.nested -= 1;
                } else if let Some(card) = self.card.take() {
                    self.finish(card, p.line)?;
                } else {
                    self.warn(p.line, "END:VCARD without BEGIN:VCARD, ignored");
                }
                return Ok(());
            }
            _ => {}
        }
        if self.nested > 0 {
            return Ok(());
        }
        if self.card.is_none() {
            self.outside(p.line);
            return Ok(());
        }
        match name.as_slice() {
            b"VERSION" => {
                let version = match simple {
                    b"2.1" => Version::V2_1,
                    b"3.0" => Version::V3_0,
                    b"4.0" => Version::V4_0,
                    other => {
                        let v = String::from_utf8_lossy(other).into_owned();
                        self.warn(
                            p.line,
                            &format!("VERSION:{v} is not 2.1, 3.0 or 4.0; read as 3.0"),
                        );
                        Version::V3_0
                    }
                };
                if let Some(b) = self.card.as_mut() {
                    b.card.version = version;
                }
            }
            b"FN" | b"N" | b"TEL" | b"EMAIL" => {
                let Some(text) = self.text(&header, &p) else {
                    return Ok(());
                };
                let version = self.version();
                let mut dropped = false;
                if let Some(b) = self.card.as_mut() {
                    match name.as_slice() {
                        b"FN" => {
                            let t = unescape(&text).trim().to_owned();
                            if b.formatted.is_none() && !t.is_empty() {
                                b.formatted = Some(t);
                            }
                        }
                        b"N" => {
                            if b.structured.is_none() {
                                b.structured = name_from_n(&text, version);
                            }
                        }
                        _ => {
                            let total = b.card.phones.len() + b.card.emails.len();
                            let (list, value) = if name.as_slice() == b"TEL" {
                                (&mut b.card.phones, clean_phone(&unescape(&text)))
                            } else {
                                (&mut b.card.emails, clean_email(&unescape(&text)))
                            };
                            let new =
                                !value.is_empty() && !list.iter().any(|v| same(&v.text, &value));
                            if new && total >= MAX_VALUES_PER_CARD {
                                b.dropped += 1;
                                dropped = b.dropped == 1;
                            } else if new {
                                list.push(Value {
                                    text: value,
                                    line: p.line,
                                });
                            }
                        }
                    }
                }
                if dropped {
                    self.warn(
                        p.line,
                        &format!(
                            "more than {MAX_VALUES_PER_CARD} numbers and addresses in one card; the rest are dropped"
                        ),
                    );
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn outside(&mut self, line: usize) {
        if !self.outside_warned {
            self.outside_warned = true;
            self.warn(line, "text outside BEGIN:VCARD ... END:VCARD ignored");
        }
    }

    fn finish(&mut self, b: Building, end_line: usize) -> Result<(), VcardError> {
        let mut card = b.card;
        card.name = b.formatted.or(b.structured);
        if card.name.is_none() && card.phones.is_empty() {
            let line = card.line;
            self.warn(
                line,
                "card has neither a name (FN, N) nor a phone number (TEL); nothing to trace",
            );
        }
        if self.cards.len() >= MAX_CARDS {
            return Err(VcardError::TooManyCards {
                source_name: self.source.to_owned(),
                line: end_line,
                limit: MAX_CARDS,
            });
        }
        self.contacts = self.contacts.saturating_add(card.contacts());
        if self.contacts > MAX_CONTACTS {
            return Err(VcardError::TooManyContacts {
                source_name: self.source.to_owned(),
                line: card.line,
                limit: MAX_CONTACTS,
            });
        }
        self.cards.push(card);
        Ok(())
    }

    /// The property's value as text: transfer encoding undone, then the charset decoded.
    /// Escapes are left for the caller, since `N` splits on unescaped `;` first.
    fn text(&mut self, header: &Header<'_>, p: &Pending) -> Option<String> {
        let decoded: Cow<'_, [u8]> = if p.qp {
            match quoted_printable::decode(&p.value, quoted_printable::ParseMode::Robust) {
                Ok(v) => Cow::Owned(v),
                Err(_) => Cow::Borrowed(p.value.as_slice()),
            }
        } else if p.base64 {
            use base64::Engine as _;
            let compact: Vec<u8> = p
                .value
                .iter()
                .copied()
                .filter(|b| !b.is_ascii_whitespace() && *b != b'=')
                .collect();
            match base64::engine::general_purpose::STANDARD_NO_PAD.decode(compact) {
                Ok(v) => Cow::Owned(v),
                Err(_) => {
                    self.warn(p.line, "base64 value does not decode; ignored");
                    return None;
                }
            }
        } else {
            Cow::Borrowed(p.value.as_slice())
        };
        if let Some(label) = header.param(b"CHARSET") {
            if let Some(enc) = encoding_rs::Encoding::for_label(label) {
                // The label decides, not a byte order mark inside the value.
                let (text, malformed) = enc.decode_without_bom_handling(&decoded);
                if malformed {
                    self.warn(
                        p.line,
                        &format!(
                            "bytes that are not {} replaced by U+FFFD",
                            String::from_utf8_lossy(label)
                        ),
                    );
                }
                return Some(text.into_owned());
            }
            let label = String::from_utf8_lossy(label).into_owned();
            self.warn(p.line, &format!("unknown CHARSET={label}; read as UTF-8"));
        }
        match String::from_utf8(decoded.into_owned()) {
            Ok(s) => Some(s),
            Err(e) => {
                self.warn(
                    p.line,
                    "not UTF-8 and no CHARSET parameter; bytes replaced by U+FFFD",
                );
                Some(String::from_utf8_lossy(e.as_bytes()).into_owned())
            }
        }
    }
}

/// Undoes text escapes (RFC 6350 section 3.4, RFC 2426 section 4): `\\`, `\,`, `\;`, `\n`,
/// `\N`. An unknown escape keeps its backslash, as vCard 2.1 text has no escapes but `\;`.
fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n' | 'N') => out.push('\n'),
            Some(e @ ('\\' | ',' | ';' | ':')) => out.push(e),
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    out
}

/// Splits on `sep` where it is not escaped by a backslash; the pieces keep their escapes.
fn split_unescaped(s: &str, sep: char) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut start, mut escaped) = (0, false);
    for (i, c) in s.char_indices() {
        if escaped {
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == sep {
            out.push(s.get(start..i).unwrap_or_default());
            start = i + sep.len_utf8();
        }
    }
    out.push(s.get(start..).unwrap_or_default());
    out
}

/// A display name from `N` (family; given; additional; prefixes; suffixes), as a phone shows
/// it: "given additional family" in Latin script, "family given" without a space in Chinese,
/// Japanese or Korean, as their Contacts apps write such names.
fn name_from_n(n: &str, version: Version) -> Option<String> {
    let parts: Vec<String> = split_unescaped(n, ';')
        .into_iter()
        .map(|p| {
            // 3.0 and 4.0 list several values of a component with commas; 2.1 has no lists.
            let words: Vec<String> = if version == Version::V2_1 {
                vec![unescape(p)]
            } else {
                split_unescaped(p, ',').into_iter().map(unescape).collect()
            };
            words
                .iter()
                .map(|w| w.trim())
                .filter(|w| !w.is_empty())
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect();
    let part = |i: usize| parts.get(i).map_or("", String::as_str);
    let (family, given, additional, prefix, suffix) = (part(0), part(1), part(2), part(3), part(4));
    let cjk = |s: &str| s.chars().any(is_cjk);
    let name = if cjk(family) || cjk(given) {
        format!("{family}{given}{additional}")
    } else {
        [prefix, given, additional, family, suffix]
            .iter()
            .filter(|s| !s.is_empty())
            .copied()
            .collect::<Vec<_>>()
            .join(" ")
    };
    let name = name.trim().to_owned();
    (!name.is_empty()).then_some(name)
}

/// Han, kana and Hangul: scripts whose names are written family name first, unspaced.
fn is_cjk(c: char) -> bool {
    matches!(c,
        '\u{3040}'..='\u{30ff}' // hiragana, katakana
        | '\u{3400}'..='\u{4dbf}' // CJK extension A
        | '\u{4e00}'..='\u{9fff}' // CJK unified ideographs
        | '\u{ac00}'..='\u{d7af}' // Hangul syllables
        | '\u{f900}'..='\u{faff}' // CJK compatibility ideographs
        | '\u{20000}'..='\u{2ffff}') // CJK extensions B and later
}

/// A `TEL` value as a number a person would type: the `tel:` scheme (RFC 3966) and its
/// parameters dropped, invisible direction marks (iOS wraps numbers in U+202A ... U+202C)
/// removed, full-width digits and typographic spaces and dashes made ASCII.
fn clean_phone(v: &str) -> String {
    let t = v.trim();
    let t = match t.get(..4) {
        Some(scheme) if scheme.eq_ignore_ascii_case("tel:") => {
            let rest = t.get(4..).unwrap_or_default();
            rest.split(';').next().unwrap_or_default()
        }
        _ => t,
    };
    let mut out = String::with_capacity(t.len());
    for c in t.chars() {
        match c {
            // Format characters (Unicode category Cf) a phone inserts around numbers.
            '\u{00ad}'
            | '\u{200b}'..='\u{200f}'
            | '\u{202a}'..='\u{202e}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{2069}'
            | '\u{feff}' => {}
            '\u{00a0}' | '\u{2000}'..='\u{200a}' | '\u{202f}' | '\u{3000}' => out.push(' '),
            '\u{2010}'..='\u{2015}' | '\u{2212}' | '\u{ff0d}' => out.push('-'),
            '\u{ff0b}' => out.push('+'),
            '\u{ff08}' => out.push('('),
            '\u{ff09}' => out.push(')'),
            '\u{ff10}'..='\u{ff19}' => {
                let digit = u32::from(c) - 0xff10;
                out.extend(char::from_digit(digit, 10));
            }
            other => out.push(other),
        }
    }
    out.trim().to_owned()
}

fn clean_email(v: &str) -> String {
    let t = v.trim();
    match t.get(..7) {
        Some(scheme) if scheme.eq_ignore_ascii_case("mailto:") => {
            t.get(7..).unwrap_or_default().trim().to_owned()
        }
        _ => t.to_owned(),
    }
}

/// Two values are the same number or address when they differ only in separators and case
/// (Android exports a number once per type it has).
fn same(a: &str, b: &str) -> bool {
    let key = |s: &str| -> String {
        s.chars()
            .filter(|c| !matches!(c, ' ' | '-' | '.' | '(' | ')' | '/'))
            .flat_map(char::to_lowercase)
            .collect()
    };
    key(a) == key(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn book(text: &str) -> AddressBook {
        AddressBook::parse(text.as_bytes(), "t.vcf").unwrap_or_else(|e| panic!("{e}"))
    }

    fn phones(card: &Card) -> Vec<&str> {
        card.phones.iter().map(|p| p.text.as_str()).collect()
    }

    /// As Android's Contacts app exports (VCardComposer, vCard 2.1): quoted-printable UTF-8
    /// for anything not ASCII, soft line breaks inside escapes, bare type parameters, a
    /// base64 photo indented and ended by a blank line.
    const ANDROID_21: &str = "BEGIN:VCARD\r\n\
VERSION:2.1\r\n\
N;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:=E6=9E=97;=E5=BF=97=E8=B1=AA;;;\r\n\
FN;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:=E6=9E=97=E5=BF=97=E8=B1=AA=E5=BF=97=E8=B1=AA=E5=BF=97=E8=B1=\r\n\
=AA\r\n\
TEL;CELL:0987-654-321\r\n\
TEL;HOME;PREF:+886 2 2345 6789\r\n\
TEL;CELL:0987 654 321\r\n\
PHOTO;ENCODING=BASE64;JPEG:/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAgGBgcGBQgHBwcJCQgKDBQNDAsLDBkSEw8U\r\n\
\x20\x20HRofHh0aHBwgJC4nICIsIxwcKDcpLDAxNDQ0Hyc5PTgyPC4zNDL/2wBDAQkJCQwLDBgNDRgy\r\n\
\r\n\
NOTE;ENCODING=QUOTED-PRINTABLE:TEL:+1 555 0100 is not a property=\r\n\
TEL:+1 555 0100 either\r\n\
END:VCARD\r\n\
BEGIN:VCARD\r\n\
VERSION:2.1\r\n\
N:Wang;Da-Wei;;;\r\n\
EMAIL;HOME:dawei@example.com\r\n\
END:VCARD\r\n";

    #[test]
    fn android_21_quoted_printable_and_photo() {
        let b = book(ANDROID_21);
        assert!(b.warnings.is_empty(), "{:?}", b.warnings);
        assert_eq!(b.cards.len(), 2);
        let c = &b.cards[0];
        assert_eq!(c.version, Version::V2_1);
        assert_eq!(c.name.as_deref(), Some("林志豪志豪志豪"));
        // The repeated number (with other separators) is kept once.
        assert_eq!(phones(c), ["0987-654-321", "+886 2 2345 6789"]);
        assert_eq!(c.phones[1].line, 7);
        // Nothing of the photo or the soft-broken NOTE leaked into the card.
        assert!(c.emails.is_empty());
        let d = &b.cards[1];
        assert_eq!(d.name.as_deref(), Some("Da-Wei Wang"));
        assert!(d.phones.is_empty());
        assert_eq!(d.emails[0].text, "dawei@example.com");
        assert_eq!(d.line, 15);
    }

    /// As iOS exports (vCard 3.0): grouped properties, lower-case `type=`, folded lines,
    /// a folded base64 photo, numbers wrapped in direction marks.
    #[test]
    fn ios_30_groups_folding_and_marks() {
        let text = "BEGIN:VCARD\r\n\
VERSION:3.0\r\n\
PRODID:-//Apple Inc.//iPhone OS 17.0//EN\r\n\
N:Chen;Mei-Ling;;;\r\n\
FN:Chen Mei-\r\n\
\x20Ling\r\n\
ORG:Example Ltd.;\r\n\
item1.TEL;type=pref:\u{202a}+886 912 345 678\u{202c}\r\n\
item1.X-ABLabel:_$!<Mobile>!$_\r\n\
TEL;type=WORK;type=VOICE:+886\u{a0}2\u{a0}2700\u{2011}0000\r\n\
item2.EMAIL;type=INTERNET;type=pref:meiling@example.com\r\n\
PHOTO;ENCODING=b;TYPE=JPEG:/9j/4AAQSkZJRgABAQAAAQABAAD/4gIoSUNDX1BST0ZJTEUAAQEAAAIYAAAAAAQw\r\n\
\x20AABtbnRyUkdCIFhZWiAAAAAAAAAAAAAAAABhY3NwAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\r\n\
\x20TEL:+1 555 0100\r\n\
END:VCARD\r\n";
        let b = book(text);
        assert!(b.warnings.is_empty(), "{:?}", b.warnings);
        let c = &b.cards[0];
        assert_eq!(c.version, Version::V3_0);
        assert_eq!(c.name.as_deref(), Some("Chen Mei-Ling"));
        assert_eq!(phones(c), ["+886 912 345 678", "+886 2 2700-0000"]);
        assert_eq!(c.emails[0].text, "meiling@example.com");
        assert!(b.check(None).is_empty(), "{:?}", b.check(None));
    }

    /// As Google Contacts exports (vCard 3.0, LF line ends, escaped text) and RFC 6350
    /// section 8's example (vCard 4.0, quoted parameter values, `tel:` URIs).
    #[test]
    fn google_30_and_rfc6350_40() {
        let google = "BEGIN:VCARD\nVERSION:3.0\nFN:Smith\\, John\nN:Smith;John;;;\n\
TEL;TYPE=CELL:+1 415-555-0100\nEMAIL;TYPE=INTERNET:john@example.com\nNOTE:a\\nb\\;c\nEND:VCARD\n";
        let c = &book(google).cards[0];
        assert_eq!(c.name.as_deref(), Some("Smith, John"));
        assert_eq!(phones(c), ["+1 415-555-0100"]);

        let rfc = "BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Simon Perreault\r\n\
N:Perreault;Simon;;;ing. jr,M.Sc.\r\nGENDER:M\r\n\
TEL;VALUE=uri;PREF=1;TYPE=\"voice,home\":tel:+1-555-555-5555;ext=5555\r\n\
TEL;VALUE=uri;TYPE=\"cell,voice,video,text\":tel:+1-418-262-6501\r\n\
EMAIL;TYPE=work:simon.perreault@viagenie.ca\r\n\
PHOTO:data:image/jpeg;base64,MIICajCCAdOgAwIBAgICBEUwDQYJKoZIhvcNAQEEBQAwdzELMAkG\r\n\
\x20A1UEBhMCVVMxLDAqBgNVBAoTI05ldHNjYXBlIENvbW11bmljYXRpb25zIENvcnBvcmF0aW9uMRww\r\n\
END:VCARD\r\n";
        let c = &book(rfc).cards[0];
        assert_eq!(c.version, Version::V4_0);
        assert_eq!(c.name.as_deref(), Some("Simon Perreault"));
        assert_eq!(phones(c), ["+1-555-555-5555", "+1-418-262-6501"]);
        assert_eq!(c.emails[0].text, "simon.perreault@viagenie.ca");
    }

    #[test]
    fn name_from_n_when_fn_is_missing() {
        let cases: &[(&str, &str)] = &[
            (
                "VERSION:3.0\nN:Stevenson;John;Philip,Paul;Dr.;Jr.,M.D.",
                "Dr. John Philip Paul Stevenson Jr. M.D.",
            ),
            ("VERSION:3.0\nN:陳;美玲;;;", "陳美玲"),
            ("VERSION:3.0\nN:O\\;Brien;Pat;;;", "Pat O;Brien"),
            ("VERSION:2.1\nN:Doe;Jane, Q.;;;", "Jane, Q. Doe"),
            ("VERSION:3.0\nFN:\nN:;Madonna;;;", "Madonna"),
            ("VERSION:3.0\nN;CHARSET=UTF-8:김;민준;;;", "김민준"),
        ];
        for (props, want) in cases {
            let b = book(&format!(
                "BEGIN:VCARD\n{props}\nTEL:+886912345678\nEND:VCARD\n"
            ));
            assert_eq!(b.cards[0].name.as_deref(), Some(*want), "{props}");
        }
    }

    #[test]
    fn legacy_charsets() {
        // 陳美玲 in Big5 (B3AF ACFC ACC2), 陈美玲 in GBK (B3C2 C3C0 C1E1), as raw bytes and
        // quoted-printable; 許 (B35C in Big5) has a backslash as its second byte, which must
        // not be taken for an escape.
        let mut text = b"BEGIN:VCARD\r\nVERSION:2.1\r\nFN;CHARSET=BIG5:\xb3\xaf\xac\xfc\xac\xc2\r\nTEL:+886912345678\r\nEND:VCARD\r\n".to_vec();
        text.extend_from_slice(b"BEGIN:VCARD\r\nVERSION:2.1\r\nN;CHARSET=GBK;ENCODING=QUOTED-PRINTABLE:=B3=C2;=C3=C0=C1=E1;;;\r\nEND:VCARD\r\n");
        text.extend_from_slice(
            b"BEGIN:VCARD\r\nVERSION:2.1\r\nN;CHARSET=Big5:\xb3\x5c;\xa4\xe5;;;\r\nEND:VCARD\r\n",
        );
        text.extend_from_slice(
            b"BEGIN:VCARD\r\nVERSION:2.1\r\nFN;CHARSET=GB18030:\x81\x30\x81\x30\r\nEND:VCARD\r\n",
        );
        let b = AddressBook::parse(&text, "t.vcf").unwrap();
        assert!(b.warnings.is_empty(), "{:?}", b.warnings);
        let names: Vec<&str> = b.cards.iter().filter_map(|c| c.name.as_deref()).collect();
        assert_eq!(names, ["陳美玲", "陈美玲", "許文", "\u{80}"]);
    }

    #[test]
    fn bom_lf_and_tabs() {
        let text =
            "\u{feff}BEGIN:VCARD\nVERSION:3.0\nFN:Lin\n\tChih-Hao\nTEL:+886 987 654 321\nEND:VCARD";
        let b = book(text);
        assert_eq!(b.cards[0].name.as_deref(), Some("LinChih-Hao"));
        assert_eq!(phones(&b.cards[0]), ["+886 987 654 321"]);
        // vCard 2.1 folding keeps the whitespace.
        let b = book("BEGIN:VCARD\r\nVERSION:2.1\r\nFN:Lin\r\n Chih-Hao\r\nEND:VCARD\r\n");
        assert_eq!(b.cards[0].name.as_deref(), Some("Lin Chih-Hao"));
    }

    #[test]
    fn base64_text_values_decode() {
        // "陳美玲" in UTF-8, base64 (vCard 3.0 ENCODING=b), folded in the middle.
        let text = "BEGIN:VCARD\r\nVERSION:3.0\r\nFN;ENCODING=b;CHARSET=UTF-8:6Zmz576O\r\n 546y\r\nEND:VCARD\r\n";
        assert_eq!(book(text).cards[0].name.as_deref(), Some("陳美玲"));
        let bad =
            "BEGIN:VCARD\r\nVERSION:3.0\r\nFN;ENCODING=b:*not*\r\nN:Lin;Mei;;;\r\nEND:VCARD\r\n";
        let b = book(bad);
        assert_eq!(b.cards[0].name.as_deref(), Some("Mei Lin"));
        assert!(
            b.warnings[0].starts_with("t.vcf:3: base64"),
            "{:?}",
            b.warnings
        );
    }

    #[test]
    fn unindented_21_base64_runs_to_the_blank_line() {
        let text = "BEGIN:VCARD\r\nVERSION:2.1\r\nFN:Mei\r\nPHOTO;BASE64:QUJD\r\nREVGR0hJ\r\nSktMTU5PUA==\r\n\r\nTEL:+886912345678\r\nEND:VCARD\r\n";
        let b = book(text);
        assert!(b.warnings.is_empty(), "{:?}", b.warnings);
        assert_eq!(phones(&b.cards[0]), ["+886912345678"]);
    }

    #[test]
    fn nested_agent_card_is_not_read() {
        let text = "BEGIN:VCARD\r\nVERSION:2.1\r\nFN:Boss\r\nAGENT:\r\nBEGIN:VCARD\r\nVERSION:2.1\r\nFN:Assistant\r\nTEL:+886911111111\r\nEND:VCARD\r\nTEL:+886922222222\r\nEND:VCARD\r\n";
        let b = book(text);
        assert_eq!(b.cards.len(), 1);
        assert_eq!(b.cards[0].name.as_deref(), Some("Boss"));
        assert_eq!(phones(&b.cards[0]), ["+886922222222"]);
    }

    #[test]
    fn damage_is_a_warning_with_file_and_line() {
        let text = "junk before\r\nBEGIN:VCARD\r\nVERSION:5.0\r\nFN;ENCODING=QUOTED-PRINTABLE:Mei=\r\nEND:VCARD\r\n\
BEGIN:VCARD\r\nno colon here\r\nFN;CHARSET=x-nothing:Lin\r\n\
EMAIL:only@example.com\r\nEND:VCARD\r\nEND:VCARD\r\nBEGIN:VCARD\r\nTEL:+886912345678\r\n";
        let b = book(text);
        let want = [
            "t.vcf:1: text outside",
            "t.vcf:3: VERSION:5.0",
            "t.vcf:5: quoted-printable soft line break",
            "t.vcf:7: not a property",
            "t.vcf:8: unknown CHARSET=x-nothing",
            "t.vcf:11: END:VCARD without BEGIN",
            "t.vcf:12: card has no END:VCARD",
        ];
        assert_eq!(b.warnings.len(), want.len(), "{:#?}", b.warnings);
        for (w, prefix) in b.warnings.iter().zip(want) {
            assert!(w.starts_with(prefix), "{w} / {prefix}");
        }
        // The soft break did not swallow END:VCARD: three cards, the first one named.
        assert_eq!(b.cards.len(), 3);
        assert_eq!(b.cards[0].name.as_deref(), Some("Mei"));
        assert_eq!(b.cards[1].name.as_deref(), Some("Lin"));
        assert_eq!(phones(&b.cards[2]), ["+886912345678"]);
        // Invalid UTF-8 without CHARSET is replaced, with a warning.
        let b = AddressBook::parse(b"BEGIN:VCARD\nFN:\xffMei\nEND:VCARD\n", "t.vcf").unwrap();
        assert_eq!(b.cards[0].name.as_deref(), Some("\u{fffd}Mei"));
        assert!(
            b.warnings[0].starts_with("t.vcf:2: not UTF-8"),
            "{:?}",
            b.warnings
        );
    }

    /// A card without END:VCARD does not swallow the cards after it.
    #[test]
    fn missing_end_before_next_card() {
        let text = "BEGIN:VCARD\nFN:First\nBEGIN:VCARD\nFN:Second\nEND:VCARD\nBEGIN:VCARD\nFN:Third\nEND:VCARD\n";
        let b = book(text);
        let names: Vec<&str> = b.cards.iter().filter_map(|c| c.name.as_deref()).collect();
        assert_eq!(names, ["First", "Second", "Third"]);
        // Warnings come in file order, though a missing END is known last.
        let last = book("BEGIN:VCARD\nFN:Last\nno colon\n");
        assert_eq!(last.warnings.len(), 2, "{:?}", last.warnings);
        assert!(last.warnings[0].starts_with("t.vcf:1: card has no END:VCARD"));
        assert!(last.warnings[1].starts_with("t.vcf:3: not a property"));
        assert_eq!(b.warnings.len(), 1, "{:?}", b.warnings);
        assert!(b.warnings[0].starts_with("t.vcf:1: card has no END:VCARD"));
    }

    #[test]
    fn errors_name_file_and_line() {
        let not_vcard = AddressBook::parse(b"[identifiers]\nimei = \"1\"\n", "p.toml");
        assert_eq!(
            not_vcard.unwrap_err().to_string(),
            "p.toml: no vCard in it (no BEGIN:VCARD line)"
        );
        assert!(matches!(
            AddressBook::parse(b"\xff\xfeB\x00E\x00", "w.vcf"),
            Err(VcardError::Utf16 { .. })
        ));
        let long = format!(
            "BEGIN:VCARD\nVERSION:3.0\nNOTE:{}\nFN:{}\nEND:VCARD\n",
            "x".repeat(MAX_LINE * 2),
            "y".repeat(MAX_LINE + 1)
        );
        // The long NOTE is skipped; the long FN is an error on its line.
        match AddressBook::parse(long.as_bytes(), "l.vcf") {
            Err(e @ VcardError::LineTooLong { line: 4, .. }) => {
                assert!(e.to_string().starts_with("l.vcf:4: FN longer than"), "{e}")
            }
            other => panic!("{other:?}"),
        }
        // A folded FN that grows past the cap is caught as it grows.
        let folded = format!(
            "BEGIN:VCARD\nFN:a\n{}END:VCARD\n",
            format!(" {}\n", "z".repeat(1000)).repeat(MAX_LINE / 1000 + 1)
        );
        assert!(matches!(
            AddressBook::parse(folded.as_bytes(), "f.vcf"),
            Err(VcardError::LineTooLong { line: 2, .. })
        ));
        let many = "BEGIN:VCARD\nFN:x\nEND:VCARD\n".repeat(MAX_CONTACTS + 1);
        match AddressBook::parse(many.as_bytes(), "c.vcf") {
            Err(e @ VcardError::TooManyContacts { .. }) => assert_eq!(
                e.to_string(),
                format!(
                    "c.vcf:{}: more than {MAX_CONTACTS} contacts (one per phone number); export the contacts seeded for the test",
                    MAX_CONTACTS * 3 + 1
                )
            ),
            other => panic!("{other:?}"),
        }
        let enough = "BEGIN:VCARD\nFN:x\nEND:VCARD\n".repeat(MAX_CONTACTS);
        assert!(AddressBook::parse(enough.as_bytes(), "c.vcf").is_ok());
        // Cards that give no contact are bounded too.
        let many = "BEGIN:VCARD\nNOTE:x\nEND:VCARD\n".repeat(MAX_CARDS + 1);
        match AddressBook::parse(many.as_bytes(), "m.vcf") {
            Err(e @ VcardError::TooManyCards { .. }) => assert_eq!(
                e.to_string(),
                format!(
                    "m.vcf:{}: more than {MAX_CARDS} cards; export the contacts seeded for the test",
                    MAX_CARDS * 3 + 1
                )
            ),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn values_per_card_are_capped() {
        let tels: String = (0..MAX_VALUES_PER_CARD + 5)
            .map(|i| format!("TEL:+88691234{i:04}\n"))
            .collect();
        let b = book(&format!("BEGIN:VCARD\nFN:Many\n{tels}END:VCARD\n"));
        assert_eq!(b.cards[0].phones.len(), MAX_VALUES_PER_CARD);
        assert_eq!(b.warnings.len(), 1, "{:?}", b.warnings);
    }

    #[test]
    fn warnings_are_capped() {
        let text = "BEGIN:VCARD\nFN:x\n".to_owned()
            + &"no colon\n".repeat(MAX_WARNINGS + 7)
            + "END:VCARD\n";
        let b = book(&text);
        assert_eq!(b.warnings.len(), MAX_WARNINGS + 1);
        assert_eq!(
            b.warnings.last().unwrap(),
            "t.vcf: 7 more warnings not shown"
        );
    }

    #[test]
    fn contacts_and_check() {
        let text =
            "BEGIN:VCARD\nFN:Two Numbers\nTEL:+886 912 345 678\nTEL:0987 654 321\nEND:VCARD\n\
BEGIN:VCARD\nFN:No Number\nEND:VCARD\nBEGIN:VCARD\nTEL;TYPE=CELL:*31#\nEND:VCARD\n\
BEGIN:VCARD\nEMAIL:a@example.com\nEND:VCARD\n";
        let b = book(text);
        let contacts = b.contacts();
        let pairs: Vec<(Option<&str>, Option<&str>)> = contacts
            .iter()
            .map(|c| (c.name.as_deref(), c.phone.as_deref()))
            .collect();
        assert_eq!(
            pairs,
            [
                (Some("Two Numbers"), Some("+886 912 345 678")),
                (None, Some("0987 654 321")),
                (Some("No Number"), None),
                (None, Some("*31#")),
            ]
        );
        assert_eq!(b.warnings, ["t.vcf:12: card has neither a name (FN, N) nor a phone number (TEL); nothing to trace"]);
        let problems = b.check(None);
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems[0].starts_with("t.vcf:4: TEL of Two Numbers: no country code"));
        assert!(problems[1].starts_with("t.vcf:10: TEL: a phone number has only digits"));
        assert_eq!(b.check(Some("886")).len(), 1);
        let mut p = Profile::default();
        b.add_to(&mut p);
        assert_eq!(p.contacts.len(), 4);
        assert!(p.check().iter().any(|x| x.key == "contacts[3].phone"));
        assert_eq!(
            b.summary(),
            "t.vcf: 4 cards, 2 names and 3 phone numbers traced as contacts (1 e-mail address not traced: profile contacts have a name and a phone)"
        );
    }

    #[test]
    fn full_width_and_escaped_numbers() {
        let b = book("BEGIN:VCARD\nFN:x\nTEL:＋８８６　９１２－３４５－６７８\nTEL:+886 (2) 2345\\,6789\nEND:VCARD\n");
        assert_eq!(
            phones(&b.cards[0]),
            ["+886 912-345-678", "+886 (2) 2345,6789"]
        );
    }

    /// Bad input never panics: every prefix of a nasty export, and bytes flipped in it.
    #[test]
    fn truncations_and_flips_do_not_panic() {
        let mut all = ANDROID_21.as_bytes().to_vec();
        all.extend_from_slice(b"BEGIN:VCARD\nVERSION:3.0\nN;CHARSET=\"Big5\":\xb3\\;;\nTEL;VALUE=uri:tel:\nEMAIL:mailto:\nFN;ENCODING=b:=\nEND:VCARD\n");
        for end in 0..=all.len() {
            let _ = AddressBook::parse(&all[..end], "t.vcf");
        }
        for i in 0..all.len() {
            let mut v = all.clone();
            v[i] ^= 0x80;
            let _ = AddressBook::parse(&v, "t.vcf");
            v[i] = b'=';
            let _ = AddressBook::parse(&v, "t.vcf");
        }
    }
}

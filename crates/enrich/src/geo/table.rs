//! Sorted range tables and the `ipdb.bin` file that carries them.
//!
//! A [`RangeMap`] is a list of strictly increasing range starts with a value per start (two
//! parallel arrays); an entry covers its start up to the next start. Gaps hold a "none" value, so
//! a lookup is one binary search. [`Tables`] holds four of them (country and AS for IPv4 and
//! IPv6) and a string table of AS organisation names, each stored once.
//!
//! # File format (version 1)
//! All integers little-endian unless said to be varints (unsigned LEB128).
//! ```text
//! magic      8 bytes  "PHIPDB\r\n"
//! version    u16      1
//! flags      u16      bit 0: body is zstd-compressed
//! date       u8 length + ASCII        the data date, YYYY-MM-DD
//! sources    u16 length + UTF-8       package names, versions and licences
//! body_len   u32      length of the decompressed body (a cap for decompression)
//! body       the rest
//! ```
//! The body is four tables and the string table. A table is `count` (varint), `count` start
//! deltas (varints; the first from zero, every later one non-zero), then its values: country
//! tables two bytes per entry (ASCII upper-case code, or two zero bytes for none), AS tables
//! `count` AS numbers then `count` organisation indexes (varints; 0 is none). The string table
//! is `count` (varint), `count` lengths (varints) and the concatenated UTF-8; organisation `i`
//! (1-based) is its `i`th string. Deltas and varints keep the body small before zstd.
//!
//! The file is decoded with bounds checks everywhere: a damaged file is an error, not a panic.

use super::GeoError;

/// The first bytes of every `ipdb.bin`.
pub const MAGIC: [u8; 8] = *b"PHIPDB\r\n";
/// The format version this code reads and writes.
pub const VERSION: u16 = 1;
const FLAG_ZSTD: u16 = 1;
/// The largest decompressed body accepted, to bound memory on a damaged or hostile file.
pub const MAX_BODY: u32 = 256 << 20;

/// An address key: `u32` for IPv4, `u128` for IPv6.
pub trait Key: Copy + Ord + std::fmt::Debug + sealed::Sealed {
    /// The smallest key.
    const ZERO: Self;
    /// The next key, or `None` after the largest.
    fn succ(self) -> Option<Self>;
    #[doc(hidden)]
    fn to_u128(self) -> u128;
    #[doc(hidden)]
    fn from_u128(v: u128) -> Option<Self>;
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for u32 {}
    impl Sealed for u128 {}
}

impl Key for u32 {
    const ZERO: Self = 0;
    fn succ(self) -> Option<Self> {
        self.checked_add(1)
    }
    fn to_u128(self) -> u128 {
        u128::from(self)
    }
    fn from_u128(v: u128) -> Option<Self> {
        Self::try_from(v).ok()
    }
}

impl Key for u128 {
    const ZERO: Self = 0;
    fn succ(self) -> Option<Self> {
        self.checked_add(1)
    }
    fn to_u128(self) -> u128 {
        self
    }
    fn from_u128(v: u128) -> Option<Self> {
        Some(v)
    }
}

/// Values kept in a range map: each has a "none" that fills gaps.
pub trait Value: Copy + Eq + std::fmt::Debug {
    /// The value of addresses that no input range covers.
    const NONE: Self;
}

/// A country: ISO 3166-1 alpha-2, upper-case ASCII; `[0, 0]` is none.
pub type Country = [u8; 2];

impl Value for Country {
    const NONE: Self = [0, 0];
}

/// An autonomous system and its organisation (an index into [`Tables::orgs`], 0 for none).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct As {
    /// The AS number; 0 (reserved by RFC 7607) is none.
    pub asn: u32,
    /// 1-based index of the organisation name; 0 is none.
    pub org: u32,
}

impl Value for As {
    const NONE: Self = Self { asn: 0, org: 0 };
}

/// Sorted range starts and the value of each range, as two parallel arrays.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RangeMap<K, V> {
    starts: Vec<K>,
    values: Vec<V>,
}

impl<K: Key, V: Value> Default for RangeMap<K, V> {
    fn default() -> Self {
        Self {
            starts: Vec::new(),
            values: Vec::new(),
        }
    }
}

impl<K: Key, V: Value> RangeMap<K, V> {
    /// Builds a map from inclusive ranges `(first, last, value)` in any order. Gaps become
    /// [`Value::NONE`]; neighbouring ranges with equal values are merged, so the same input
    /// always gives the same map. Overlapping or inverted ranges are an error.
    pub fn from_ranges(ranges: impl IntoIterator<Item = (K, K, V)>) -> Result<Self, GeoError> {
        let mut ranges: Vec<(K, K, V)> = ranges.into_iter().collect();
        ranges.sort_unstable_by_key(|&(first, last, _)| (first, last));
        let mut map = Self::default();
        // The first address not yet covered; None once the whole space is covered.
        let mut next: Option<K> = Some(K::ZERO);
        for (first, last, value) in ranges {
            if last < first {
                return Err(GeoError::Range(format!(
                    "inverted range {first:?}-{last:?}"
                )));
            }
            let Some(expected) = next else {
                return Err(GeoError::Range(format!("overlapping range at {first:?}")));
            };
            if first < expected {
                return Err(GeoError::Range(format!("overlapping range at {first:?}")));
            }
            if first > expected {
                map.push(expected, V::NONE);
            }
            map.push(first, value);
            next = last.succ();
        }
        if let Some(expected) = next {
            if !map.starts.is_empty() {
                map.push(expected, V::NONE);
            }
        }
        // A map that starts with NONE at zero needs no entry for it.
        if map.values.first() == Some(&V::NONE) {
            map.starts.remove(0);
            map.values.remove(0);
        }
        Ok(map)
    }

    /// Appends a range start, merging it into the previous range if the value is the same.
    fn push(&mut self, start: K, value: V) {
        if self.values.last() == Some(&value) {
            return;
        }
        self.starts.push(start);
        self.values.push(value);
    }

    /// The value of the range holding `key`, `None` where no range does.
    #[inline]
    #[must_use]
    pub fn get(&self, key: K) -> Option<V> {
        // Index of the first start greater than key; the range holding key is the one before.
        let i = self.starts.partition_point(|&s| s <= key);
        let v = *self.values.get(i.checked_sub(1)?)?;
        (v != V::NONE).then_some(v)
    }

    /// Number of range starts.
    #[must_use]
    pub fn len(&self) -> usize {
        self.starts.len()
    }

    /// Whether the map has no ranges.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.starts.is_empty()
    }

    /// The ranges as `(start, value)` pairs, in order.
    pub fn iter(&self) -> impl Iterator<Item = (K, V)> + '_ {
        self.starts.iter().copied().zip(self.values.iter().copied())
    }
}

/// Everything the bundled file holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tables {
    /// IPv4 address to country.
    pub v4_country: RangeMap<u32, Country>,
    /// IPv6 address to country.
    pub v6_country: RangeMap<u128, Country>,
    /// IPv4 address to AS.
    pub v4_as: RangeMap<u32, As>,
    /// IPv6 address to AS.
    pub v6_as: RangeMap<u128, As>,
    /// Organisation names, concatenated.
    org_text: String,
    /// End offset in `org_text` of each name; name `i` (1-based) ends at `org_ends[i - 1]`.
    org_ends: Vec<u32>,
}

impl Tables {
    /// Sets the organisation names; [`As::org`] `i` refers to `names[i - 1]`.
    pub fn set_orgs<S: AsRef<str>>(&mut self, names: &[S]) -> Result<(), GeoError> {
        self.org_text.clear();
        self.org_ends.clear();
        for name in names {
            self.org_text.push_str(name.as_ref());
            let end = u32::try_from(self.org_text.len())
                .map_err(|_| GeoError::Range("organisation names exceed 4 GiB".into()))?;
            self.org_ends.push(end);
        }
        Ok(())
    }

    /// The organisation name with 1-based index `i`.
    #[must_use]
    pub fn org(&self, i: u32) -> Option<&str> {
        let i = usize::try_from(i).ok()?.checked_sub(1)?;
        let end = usize::try_from(*self.org_ends.get(i)?).ok()?;
        let start = match i.checked_sub(1) {
            Some(p) => usize::try_from(*self.org_ends.get(p)?).ok()?,
            None => 0,
        };
        self.org_text.get(start..end)
    }

    /// Number of organisation names.
    #[must_use]
    pub fn org_count(&self) -> usize {
        self.org_ends.len()
    }

    /// Serialises to the file format (see the module docs). `zstd_level` of `None` writes an
    /// uncompressed body. The output depends only on the inputs.
    pub fn encode(
        &self,
        date: &str,
        sources: &str,
        zstd_level: Option<i32>,
    ) -> Result<Vec<u8>, GeoError> {
        let mut body = Vec::new();
        encode_map(
            &mut body,
            &self.v4_country,
            |b, v| b.extend_from_slice(v),
            |_, _| {},
        );
        encode_map(
            &mut body,
            &self.v6_country,
            |b, v| b.extend_from_slice(v),
            |_, _| {},
        );
        encode_map(
            &mut body,
            &self.v4_as,
            |b, v| put_varint(b, v.asn.into()),
            |b, v| {
                put_varint(b, v.org.into());
            },
        );
        encode_map(
            &mut body,
            &self.v6_as,
            |b, v| put_varint(b, v.asn.into()),
            |b, v| {
                put_varint(b, v.org.into());
            },
        );
        put_varint(&mut body, self.org_ends.len() as u128);
        let mut prev = 0u32;
        for &end in &self.org_ends {
            put_varint(&mut body, u128::from(end.saturating_sub(prev)));
            prev = end;
        }
        body.extend_from_slice(self.org_text.as_bytes());

        let body_len = u32::try_from(body.len())
            .ok()
            .filter(|&n| n <= MAX_BODY)
            .ok_or_else(|| GeoError::Format("body too large".into()))?;
        let date_len =
            u8::try_from(date.len()).map_err(|_| GeoError::Format("date too long".into()))?;
        let sources_len = u16::try_from(sources.len())
            .map_err(|_| GeoError::Format("sources too long".into()))?;
        let mut out = Vec::new();
        out.extend_from_slice(&MAGIC);
        out.extend_from_slice(&VERSION.to_le_bytes());
        let flags = if zstd_level.is_some() { FLAG_ZSTD } else { 0 };
        out.extend_from_slice(&flags.to_le_bytes());
        out.push(date_len);
        out.extend_from_slice(date.as_bytes());
        out.extend_from_slice(&sources_len.to_le_bytes());
        out.extend_from_slice(sources.as_bytes());
        out.extend_from_slice(&body_len.to_le_bytes());
        match zstd_level {
            // Single-threaded zstd with a fixed level is deterministic.
            Some(level) => out.extend_from_slice(
                &zstd::bulk::compress(&body, level).map_err(|e| GeoError::Format(e.to_string()))?,
            ),
            None => out.extend_from_slice(&body),
        }
        Ok(out)
    }

    /// Parses a whole file: header, then the (decompressed) body.
    pub fn decode(bytes: &[u8]) -> Result<(Header<'_>, Self), GeoError> {
        let (header, body) = Header::parse(bytes)?;
        let owned;
        let body = if header.compressed {
            let cap = usize::try_from(header.body_len).unwrap_or(usize::MAX);
            owned = zstd::bulk::decompress(body, cap)
                .map_err(|e| GeoError::Format(format!("zstd: {e}")))?;
            &owned[..]
        } else {
            body
        };
        if u32::try_from(body.len()).ok() != Some(header.body_len) {
            return Err(GeoError::Format(
                "body length differs from the header".into(),
            ));
        }
        let mut r = Reader { bytes: body };
        let mut t = Self {
            v4_country: decode_map(&mut r, read_country, |_, v| Ok(v))?,
            v6_country: decode_map(&mut r, read_country, |_, v| Ok(v))?,
            v4_as: decode_map(&mut r, read_asn, read_org)?,
            v6_as: decode_map(&mut r, read_asn, read_org)?,
            ..Self::default()
        };
        let n = r.count()?;
        let mut ends = Vec::with_capacity(n);
        let mut end = 0u32;
        for _ in 0..n {
            let len = u32::try_from(r.varint()?).map_err(|_| bad("organisation length"))?;
            end = end
                .checked_add(len)
                .ok_or_else(|| bad("organisation length"))?;
            ends.push(end);
        }
        let text = r.take(usize::try_from(end).map_err(|_| bad("organisation text"))?)?;
        let text = std::str::from_utf8(text).map_err(|_| bad("organisation text is not UTF-8"))?;
        if !r.bytes.is_empty() {
            return Err(bad("trailing bytes after the string table"));
        }
        for &e in &ends {
            if !text.is_char_boundary(usize::try_from(e).unwrap_or(usize::MAX)) {
                return Err(bad("organisation name splits a character"));
            }
        }
        let orgs = u32::try_from(n).map_err(|_| bad("organisation count"))?;
        for v in t.v4_as.values.iter().chain(&t.v6_as.values) {
            if v.org > orgs {
                return Err(bad("organisation index out of range"));
            }
        }
        t.org_text = text.to_owned();
        t.org_ends = ends;
        Ok((header, t))
    }
}

/// The uncompressed header of an `ipdb.bin`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header<'a> {
    /// Format version.
    pub version: u16,
    /// Whether the body is zstd-compressed.
    pub compressed: bool,
    /// The data date, `YYYY-MM-DD`.
    pub date: &'a str,
    /// Where the data comes from: package names, versions, licences.
    pub sources: &'a str,
    /// Length of the decompressed body.
    pub body_len: u32,
}

impl<'a> Header<'a> {
    /// Parses the header and returns it with the (possibly compressed) body.
    pub fn parse(bytes: &'a [u8]) -> Result<(Self, &'a [u8]), GeoError> {
        let mut r = Reader { bytes };
        if r.take(MAGIC.len())? != MAGIC {
            return Err(bad("not a phonehome IP database (bad magic)"));
        }
        let version = r.u16()?;
        if version != VERSION {
            return Err(GeoError::Format(format!(
                "unsupported format version {version}"
            )));
        }
        let flags = r.u16()?;
        let date_len = usize::from(r.take(1)?[0]);
        let date = std::str::from_utf8(r.take(date_len)?).map_err(|_| bad("date"))?;
        let sources_len = usize::from(r.u16()?);
        let sources = std::str::from_utf8(r.take(sources_len)?).map_err(|_| bad("sources"))?;
        let body_len = r.u32()?;
        if body_len > MAX_BODY {
            return Err(bad("body larger than the cap"));
        }
        let header = Self {
            version,
            compressed: flags & FLAG_ZSTD != 0,
            date,
            sources,
            body_len,
        };
        Ok((header, r.bytes))
    }
}

fn bad(what: &str) -> GeoError {
    GeoError::Format(what.to_owned())
}

fn put_varint(out: &mut Vec<u8>, mut v: u128) {
    loop {
        // Truncation to the low seven bits is the point of LEB128.
        #[allow(clippy::cast_possible_truncation)]
        let byte = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

fn encode_map<K: Key, V: Value>(
    out: &mut Vec<u8>,
    map: &RangeMap<K, V>,
    first: impl Fn(&mut Vec<u8>, &V),
    second: impl Fn(&mut Vec<u8>, &V),
) {
    put_varint(out, map.starts.len() as u128);
    let mut prev = 0u128;
    for &s in &map.starts {
        let s = s.to_u128();
        put_varint(out, s.wrapping_sub(prev));
        prev = s;
    }
    for v in &map.values {
        first(out, v);
    }
    for v in &map.values {
        second(out, v);
    }
}

/// A bounds-checked cursor over the body.
struct Reader<'a> {
    bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], GeoError> {
        if n > self.bytes.len() {
            return Err(bad("truncated"));
        }
        let (head, rest) = self.bytes.split_at(n);
        self.bytes = rest;
        Ok(head)
    }

    fn u16(&mut self) -> Result<u16, GeoError> {
        let b = self.take(2)?;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    }

    fn u32(&mut self) -> Result<u32, GeoError> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn varint(&mut self) -> Result<u128, GeoError> {
        let mut v = 0u128;
        for shift in (0..128).step_by(7) {
            let byte = self.take(1)?[0];
            let bits = u128::from(byte & 0x7f);
            // The last group of a u128 has only two bits left.
            if shift == 126 && bits > 0b11 {
                return Err(bad("varint overflows 128 bits"));
            }
            v |= bits << shift;
            if byte & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(bad("varint too long"))
    }

    /// A count of items that each take at least one byte, so it cannot exceed what is left.
    fn count(&mut self) -> Result<usize, GeoError> {
        let n = usize::try_from(self.varint()?).map_err(|_| bad("count"))?;
        if n > self.bytes.len() {
            return Err(bad("count larger than the data"));
        }
        Ok(n)
    }
}

fn read_country(r: &mut Reader<'_>) -> Result<Country, GeoError> {
    let b = r.take(2)?;
    let cc = [b[0], b[1]];
    if cc != Country::NONE && !cc.iter().all(u8::is_ascii_uppercase) {
        return Err(bad("country code is not two upper-case letters"));
    }
    Ok(cc)
}

fn read_asn(r: &mut Reader<'_>) -> Result<As, GeoError> {
    let asn = u32::try_from(r.varint()?).map_err(|_| bad("AS number"))?;
    Ok(As { asn, org: 0 })
}

fn read_org(r: &mut Reader<'_>, v: As) -> Result<As, GeoError> {
    let org = u32::try_from(r.varint()?).map_err(|_| bad("organisation index"))?;
    Ok(As { org, ..v })
}

fn decode_map<K: Key, V: Value>(
    r: &mut Reader<'_>,
    first: impl Fn(&mut Reader<'_>) -> Result<V, GeoError>,
    second: impl Fn(&mut Reader<'_>, V) -> Result<V, GeoError>,
) -> Result<RangeMap<K, V>, GeoError> {
    let n = r.count()?;
    let mut starts = Vec::with_capacity(n);
    let mut prev = 0u128;
    for i in 0..n {
        let delta = r.varint()?;
        if i > 0 && delta == 0 {
            return Err(bad("range starts are not increasing"));
        }
        prev = prev
            .checked_add(delta)
            .ok_or_else(|| bad("range start overflows"))?;
        starts.push(K::from_u128(prev).ok_or_else(|| bad("range start out of the family"))?);
    }
    let mut values = Vec::with_capacity(n);
    for _ in 0..n {
        values.push(first(r)?);
    }
    for v in &mut values {
        *v = second(r, *v)?;
    }
    Ok(RangeMap { starts, values })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cc(s: &str) -> Country {
        let b = s.as_bytes();
        [b[0], b[1]]
    }

    #[test]
    fn ranges_fill_gaps_and_merge_neighbours() {
        let map = RangeMap::<u32, Country>::from_ranges([
            (20, 29, cc("FR")),
            (10, 19, cc("FR")),
            (40, 49, cc("DE")),
        ])
        .unwrap();
        let got: Vec<_> = map.iter().collect();
        assert_eq!(
            got,
            vec![
                (10, cc("FR")),
                (30, Country::NONE),
                (40, cc("DE")),
                (50, Country::NONE)
            ]
        );
        let cases = [
            (0, None),
            (9, None),
            (10, Some(cc("FR"))),
            (29, Some(cc("FR"))),
            (30, None),
            (45, Some(cc("DE"))),
            (50, None),
            (u32::MAX, None),
        ];
        for (key, want) in cases {
            assert_eq!(map.get(key), want, "{key}");
        }
    }

    #[test]
    fn ranges_up_to_the_last_address() {
        let map = RangeMap::<u128, Country>::from_ranges([(0, u128::MAX, cc("US"))]).unwrap();
        assert_eq!(map.len(), 1);
        assert_eq!(map.get(u128::MAX), Some(cc("US")));
        assert!(
            RangeMap::<u32, Country>::from_ranges([(0, u32::MAX, cc("US")), (5, 6, cc("FR"))])
                .is_err()
        );
    }

    #[test]
    fn overlapping_and_inverted_ranges_are_errors() {
        assert!(
            RangeMap::<u32, Country>::from_ranges([(0, 10, cc("US")), (10, 12, cc("FR"))]).is_err()
        );
        assert!(RangeMap::<u32, Country>::from_ranges([(5, 4, cc("US"))]).is_err());
        assert!(RangeMap::<u32, Country>::from_ranges([])
            .unwrap()
            .is_empty());
    }

    fn sample() -> Tables {
        let mut t = Tables {
            v4_country: RangeMap::from_ranges([(0x0808_0800, 0x0808_08ff, cc("US"))]).unwrap(),
            v6_country: RangeMap::from_ranges([(1 << 125, (1 << 125) + 65535, cc("JP"))]).unwrap(),
            v4_as: RangeMap::from_ranges([(0x0101_0100, 0x0101_01ff, As { asn: 13335, org: 1 })])
                .unwrap(),
            v6_as: RangeMap::from_ranges([(
                7,
                u128::MAX,
                As {
                    asn: 4_200_000_000,
                    org: 2,
                },
            )])
            .unwrap(),
            ..Tables::default()
        };
        t.set_orgs(&["Cloudflare, Inc.", "Zürich Réseau"]).unwrap();
        t
    }

    #[test]
    fn file_round_trip() {
        let t = sample();
        for level in [None, Some(3)] {
            let bytes = t.encode("2026-06-17", "test sources", level).unwrap();
            let (h, back) = Tables::decode(&bytes).unwrap();
            assert_eq!(h.date, "2026-06-17");
            assert_eq!(h.sources, "test sources");
            assert_eq!(h.compressed, level.is_some());
            assert_eq!(back, t);
            assert_eq!(back.org(1), Some("Cloudflare, Inc."));
            assert_eq!(back.org(2), Some("Zürich Réseau"));
            assert_eq!(back.org(0), None);
            assert_eq!(back.org(3), None);
            assert_eq!(
                back.v6_as.get(u128::MAX).map(|a| a.asn),
                Some(4_200_000_000)
            );
        }
    }

    #[test]
    fn damaged_files_are_errors_not_panics() {
        let bytes = sample().encode("2026-06-17", "s", None).unwrap();
        // Every truncation and every single-byte change must decode or fail cleanly.
        for n in 0..bytes.len() {
            assert!(Tables::decode(&bytes[..n]).is_err(), "truncated at {n}");
        }
        for i in 0..bytes.len() {
            for x in [0x01, 0x80, 0xff] {
                let mut b = bytes.clone();
                b[i] ^= x;
                let _ = Tables::decode(&b);
            }
        }
        let z = sample().encode("2026-06-17", "s", Some(1)).unwrap();
        for n in 0..z.len() {
            let _ = Tables::decode(&z[..n]);
        }
    }

    #[test]
    fn varints() {
        for v in [0u128, 1, 127, 128, 300, u128::from(u32::MAX), u128::MAX] {
            let mut b = Vec::new();
            put_varint(&mut b, v);
            let mut r = Reader { bytes: &b };
            assert_eq!(r.varint().unwrap(), v);
            assert!(r.bytes.is_empty());
        }
        let mut r = Reader { bytes: &[0xff; 20] };
        assert!(r.varint().is_err());
    }
}

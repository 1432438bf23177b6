//! Turns the unpacked npm packages into [`Tables`].
//!
//! Countries come from `@ip-location-db/geo-whois-asn-country-mmdb`: its IPv4 and IPv6 MaxMind
//! DB files are walked network by network with `maxminddb`'s `within`. AS numbers and names come
//! from `@ip-location-db/asn`: its numeric CSV files (`start,end,asn,organisation`, inclusive
//! ranges). Everything is sorted before it is written, so the same packages always give the same
//! bytes.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::Path;

use anyhow::{bail, Context, Result};
use maxminddb::{path, Reader, WithinOptions};
use phonehome_enrich::geo::table::{As, Country, Key, RangeMap, Tables};

/// A package's `name@version (licence)`, read from its `package.json`.
pub(crate) fn package_id(dir: &Path) -> Result<String> {
    let file = dir.join("package.json");
    let text = std::fs::read_to_string(&file).with_context(|| file.display().to_string())?;
    let json: serde_json::Value =
        serde_json::from_str(&text).with_context(|| file.display().to_string())?;
    let field = |k: &str| {
        json.get(k)
            .and_then(serde_json::Value::as_str)
            .unwrap_or("?")
            .to_owned()
    };
    Ok(format!(
        "{}@{} ({})",
        field("name"),
        field("version"),
        field("license")
    ))
}

/// Country ranges of one MaxMind DB: `(v4 ranges, v6 ranges)`, inclusive.
pub(crate) type CountryRanges = (Vec<(u32, u32, Country)>, Vec<(u128, u128, Country)>);

/// Every network of a country database with its country code. Networks without a two-letter
/// code are left out (they become gaps).
pub(crate) fn country_ranges(reader: &Reader<Vec<u8>>) -> Result<CountryRanges> {
    let (mut v4, mut v6) = (Vec::new(), Vec::new());
    for item in reader.networks(WithinOptions::default())? {
        let item = item?;
        let net = item.network()?;
        let code = item
            .decode_path::<&str>(&path!["country_code"])?
            .or(item.decode_path::<&str>(&path!["country", "iso_code"])?);
        let Some(cc) = code.and_then(iso_code) else {
            continue;
        };
        match net.network() {
            IpAddr::V4(a) => {
                let (first, last) = span(u32::from(a), net.prefix(), 32);
                v4.push((first, last, cc));
            }
            IpAddr::V6(a) => {
                let bits = u128::from(a);
                // maxminddb yields an IPv6 database's IPv4 subtree (::/96) as IPv4 networks and
                // skips its aliases; should a database still show IPv4 space as IPv6, it is
                // left out, as IPv4 lookups never reach the IPv6 table.
                if let Some(v4a) = a
                    .to_ipv4_mapped()
                    .or_else(|| (bits >> 32 == 0).then(|| a.to_ipv4()).flatten())
                {
                    let _ = v4a;
                    continue;
                }
                let (first, last) = span(bits, net.prefix(), 128);
                v6.push((first, last, cc));
            }
        }
    }
    Ok((v4, v6))
}

/// First and last address of `start/prefix` in a `bits`-wide family.
fn span<K: Key + Into<u128>>(start: K, prefix: u8, bits: u32) -> (K, K) {
    let host_bits = bits.saturating_sub(u32::from(prefix));
    let size_minus_one: u128 = if host_bits >= 128 {
        u128::MAX
    } else {
        (1u128 << host_bits) - 1
    };
    let first = start.to_u128();
    let last = first.saturating_add(size_minus_one);
    // The network address and the span both fit the family, so both convert back.
    (
        K::from_u128(first).unwrap_or(start),
        K::from_u128(last).unwrap_or(start),
    )
}

fn iso_code(s: &str) -> Option<Country> {
    match s.as_bytes() {
        &[a, b] if a.is_ascii_alphabetic() && b.is_ascii_alphabetic() => {
            Some([a.to_ascii_uppercase(), b.to_ascii_uppercase()])
        }
        _ => None,
    }
}

/// One row of the ASN CSV: inclusive range, AS number, organisation name.
pub(crate) type AsRow<K> = (K, K, u32, String);

/// Reads a numeric ASN CSV (`start,end,asn,organisation`).
pub(crate) fn asn_rows<K: Key + std::str::FromStr>(text: &[u8]) -> Result<Vec<AsRow<K>>> {
    let mut rows = Vec::new();
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text);
    for (line, record) in reader.records().enumerate() {
        let record = record?;
        let field = |i: usize| record.get(i).unwrap_or("").trim();
        let parse = |i: usize| -> Result<K> {
            field(i)
                .parse::<K>()
                .ok()
                .with_context(|| format!("line {}: bad address {:?}", line + 1, field(i)))
        };
        let (first, last) = (parse(0)?, parse(1)?);
        let asn: u32 = field(2)
            .parse()
            .with_context(|| format!("line {}: bad AS number", line + 1))?;
        rows.push((first, last, asn, field(3).to_owned()));
    }
    Ok(rows)
}

/// Makes inclusive ranges disjoint: where two overlap, the one that starts later (the more
/// specific, in registry data) wins over the part it covers, and the earlier one keeps what is
/// left on either side. Returns the ranges sorted and the number of overlaps resolved.
pub(crate) fn resolve_overlaps<K: Key, V: Copy>(
    mut rows: Vec<(K, K, V)>,
) -> (Vec<(K, K, V)>, usize) {
    let mut resolved = 0;
    loop {
        rows.sort_by_key(|&(first, last, _)| (first, std::cmp::Reverse(last)));
        let mut out: Vec<(K, K, V)> = Vec::with_capacity(rows.len());
        let mut tails = Vec::new();
        for r in rows {
            if let Some(p) = out.last_mut() {
                if p.1 >= r.0 {
                    resolved += 1;
                    if p.1 > r.1 {
                        if let Some(after) = r.1.succ() {
                            tails.push((after, p.1, p.2));
                        }
                    }
                    // p starts no later than r (sorted), so r.0 - 1 exists unless they start together.
                    match r.0.to_u128().checked_sub(1).and_then(K::from_u128) {
                        Some(before) if p.0 <= before => p.1 = before,
                        _ => {
                            out.pop();
                        }
                    }
                }
            }
            out.push(r);
        }
        if tails.is_empty() {
            return (out, resolved);
        }
        out.extend(tails);
        rows = out;
    }
}

/// Builds the tables. Organisation names are numbered in sorted order, so their indexes do not
/// depend on the order of the input rows.
pub(crate) fn build(
    country: CountryRanges,
    asn_v4: Vec<AsRow<u32>>,
    asn_v6: Vec<AsRow<u128>>,
) -> Result<Tables> {
    let mut names: BTreeMap<&str, u32> = BTreeMap::new();
    for (_, _, _, org) in &asn_v4 {
        names.insert(org, 0);
    }
    for (_, _, _, org) in &asn_v6 {
        names.insert(org, 0);
    }
    names.remove("");
    for (i, v) in names.values_mut().enumerate() {
        *v = u32::try_from(i + 1)?;
    }
    let org = |name: &str| names.get(name).copied().unwrap_or(0);
    let (asn_v4, n4) = resolve_overlaps(
        asn_v4
            .iter()
            .filter(|r| r.2 != 0)
            .map(|r| {
                (
                    r.0,
                    r.1,
                    As {
                        asn: r.2,
                        org: org(&r.3),
                    },
                )
            })
            .collect(),
    );
    let (asn_v6, n6) = resolve_overlaps(
        asn_v6
            .iter()
            .filter(|r| r.2 != 0)
            .map(|r| {
                (
                    r.0,
                    r.1,
                    As {
                        asn: r.2,
                        org: org(&r.3),
                    },
                )
            })
            .collect(),
    );
    if n4 + n6 > 0 {
        eprintln!("overlapping AS ranges resolved: {n4} IPv4, {n6} IPv6");
    }
    let mut t = Tables::default();
    t.v4_country = RangeMap::from_ranges(country.0)?;
    t.v6_country = RangeMap::from_ranges(country.1)?;
    t.v4_as = RangeMap::from_ranges(asn_v4)?;
    t.v6_as = RangeMap::from_ranges(asn_v6)?;
    t.set_orgs(&names.keys().copied().collect::<Vec<_>>())?;
    if t.v4_country.is_empty() || t.v4_as.is_empty() {
        bail!("no IPv4 data: wrong input files?");
    }
    Ok(t)
}

/// The build date of a MaxMind DB, `YYYY-MM-DD` (UTC).
pub(crate) fn mmdb_date(reader: &Reader<Vec<u8>>) -> Result<String> {
    let epoch = i64::try_from(reader.metadata().build_epoch)?;
    Ok(time::OffsetDateTime::from_unix_timestamp(epoch)?
        .date()
        .to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use mmdb_writer::{ipnet::IpNet, IpVersion, Value, Writer};
    use std::time::{Duration, UNIX_EPOCH};

    fn country_value(cc: &str) -> Value {
        Value::Map([("country_code".to_owned(), Value::String(cc.to_owned()))].into())
    }

    /// A tiny database in the ip-location-db layout (a top-level `country_code`).
    fn tiny_mmdb(version: IpVersion, nets: &[(&str, &str)]) -> Reader<Vec<u8>> {
        let mut w = Writer::builder("geo-whois-asn-country")
            .ip_version(version)
            .build_epoch(UNIX_EPOCH + Duration::from_secs(1_781_722_800))
            .build();
        for &(net, cc) in nets {
            w.insert_value(net.parse::<IpNet>().unwrap(), country_value(cc))
                .unwrap();
        }
        Reader::from_source(w.to_bytes().unwrap()).unwrap()
    }

    #[test]
    fn countries_from_an_ipv4_mmdb() {
        let r = tiny_mmdb(
            IpVersion::V4,
            &[
                ("1.0.0.0/24", "AU"),
                ("1.0.1.0/24", "au"),
                ("8.8.8.0/24", "US"),
                ("9.0.0.0/8", "??"),
            ],
        );
        let (v4, v6) = country_ranges(&r).unwrap();
        assert!(v6.is_empty());
        let map = RangeMap::from_ranges(v4).unwrap();
        // The two AU /24s merge into one range; the bad code is a gap.
        let got: Vec<_> = map.iter().collect();
        assert_eq!(
            got,
            vec![
                (0x0100_0000, *b"AU"),
                (0x0100_0200, [0, 0]),
                (0x0808_0800, *b"US"),
                (0x0808_0900, [0, 0])
            ]
        );
        assert_eq!(mmdb_date(&r).unwrap(), "2026-06-17");
    }

    #[test]
    fn countries_from_an_ipv6_mmdb_keep_families_apart() {
        let r = tiny_mmdb(
            IpVersion::V6,
            &[
                ("2001:4860::/32", "US"),
                ("1.1.1.0/24", "AU"),
                ("2400:3200::/32", "CN"),
            ],
        );
        let (v4, v6) = country_ranges(&r).unwrap();
        // maxminddb yields the IPv4 subtree once, as IPv4 networks, and skips its aliases.
        assert_eq!(v4, vec![(0x0101_0100, 0x0101_01ff, *b"AU")]);
        assert!(v6.iter().all(|&(first, _, _)| first >> 32 != 0));
        let map = RangeMap::from_ranges(v6).unwrap();
        assert_eq!(
            map.get(u128::from(
                "2001:4860:4860::8888"
                    .parse::<std::net::Ipv6Addr>()
                    .unwrap()
            )),
            Some(*b"US")
        );
        assert_eq!(
            map.get(u128::from(
                "2400:3200::1".parse::<std::net::Ipv6Addr>().unwrap()
            )),
            Some(*b"CN")
        );
        assert_eq!(map.get(0x0101_0101), None);
    }

    #[test]
    fn asn_csv_and_string_table() {
        // The shape of asn-ipv4-num.csv: quoted names may hold commas.
        let v4 = b"16777216,16777471,13335,\"Cloudflare, Inc.\"\n16777472,16777727,13335,\"Cloudflare, Inc.\"\n16778240,16779263,38803,Gtelecom Pty Ltd\n134744064,134744319,15169,Google LLC\n" as &[u8];
        let v6 = b"42540488161975842760550356425300246528,42540488241204005274814694018844196863,6939,Hurricane Electric LLC\n" as &[u8];
        let rows4 = asn_rows::<u32>(v4).unwrap();
        let rows6 = asn_rows::<u128>(v6).unwrap();
        assert_eq!(
            rows4[0],
            (16_777_216, 16_777_471, 13335, "Cloudflare, Inc.".to_owned())
        );
        let t = build((vec![(0, 10, *b"ZZ")], vec![]), rows4, rows6).unwrap();
        // Sorted names: Cloudflare, Google, Gtelecom, Hurricane.
        assert_eq!(t.org_count(), 4);
        let a = t.v4_as.get(16_777_600).unwrap();
        assert_eq!((a.asn, t.org(a.org)), (13335, Some("Cloudflare, Inc.")));
        assert_eq!(
            t.v4_as.len(),
            6,
            "adjacent Cloudflare rows merge; gaps are entries"
        );
        let g = t.v4_as.get(0x0808_0808).unwrap();
        assert_eq!((g.asn, t.org(g.org)), (15169, Some("Google LLC")));
        let he = t
            .v6_as
            .get(42_540_488_161_975_842_760_550_356_425_300_246_529)
            .unwrap();
        assert_eq!(t.org(he.org), Some("Hurricane Electric LLC"));
        assert!(asn_rows::<u32>(b"1,2,x,y\n").is_err());
        assert!(asn_rows::<u32>(b"1,99999999999,5,y\n").is_err());
    }

    #[test]
    fn overlaps_are_resolved_towards_the_later_start() {
        // The shape found in asn-ipv4-num.csv 2.3.2026061719: a block whose end runs into the next.
        let (out, n) = resolve_overlaps(vec![(10u32, 30, 'a'), (25, 40, 'b')]);
        assert_eq!((out, n), (vec![(10, 24, 'a'), (25, 40, 'b')], 1));
        // A nested block splits its container.
        let (out, n) = resolve_overlaps(vec![(10u32, 30, 'a'), (15, 19, 'b')]);
        assert_eq!(
            (out, n),
            (vec![(10, 14, 'a'), (15, 19, 'b'), (20, 30, 'a')], 1)
        );
        // Same start: the shorter wins its part, the rest of the longer follows.
        let (out, _) = resolve_overlaps(vec![(0u32, 9, 'b'), (0, 30, 'a')]);
        assert_eq!(out, vec![(0, 9, 'b'), (10, 30, 'a')]);
        let (out, _) = resolve_overlaps(vec![(0u32, u32::MAX, 'a'), (5, u32::MAX, 'b')]);
        assert_eq!(out, vec![(0, 4, 'a'), (5, u32::MAX, 'b')]);
        assert!(RangeMap::from_ranges(
            resolve_overlaps(vec![(1u32, 9, [1u8, 1]), (3, 4, [2, 2]), (4, 6, [3, 3])]).0
        )
        .is_ok());
    }

    #[test]
    fn same_input_same_bytes() {
        let rows = || asn_rows::<u32>(b"20,29,2,B\n10,19,1,A\n" as &[u8]).unwrap();
        let mut reversed = rows();
        reversed.reverse();
        let a = build((vec![(0, 5, *b"US")], vec![]), rows(), vec![]).unwrap();
        let b = build((vec![(0, 5, *b"US")], vec![]), reversed, vec![]).unwrap();
        let ea = a.encode("2026-06-17", "x", Some(3)).unwrap();
        assert_eq!(ea, b.encode("2026-06-17", "x", Some(3)).unwrap());
    }
}

//! Where an address is registered and who announces it: offline IP to country and IP to
//! autonomous system, and the scope of special-purpose addresses.
//!
//! # What the answers mean
//! The country is the country of the address *block*, as its registry (whois), the operator's
//! geofeed (RFC 8805) or its AS's registration gives it: where the network is registered, not a
//! measured location of the server. Anycast addresses (public resolvers, CDNs) answer from many
//! places under one registered country. The AS is the origin AS that announces the block in BGP
//! (RouteViews) or that the registries list for it, with the organisation's name.
//!
//! # Data
//! [`IpDb::bundled`] uses the tables compiled into the binary from `data/ip/ipdb.bin` (see
//! `data/ip/README.md` for sources, versions, dates and licences); they are decompressed once, at
//! first use. [`IpDb::from_mmdb`] reads MaxMind DB files instead (GeoLite2/GeoIP2 Country, City
//! and ASN, or any database with a top-level `country_code`), for users who have their own.
//!
//! # Contract
//! A lookup never panics and does not allocate: two binary searches over sorted range starts
//! (`u32` for IPv4, `u128` for IPv6) with the values in parallel arrays, and AS organisation
//! names borrowed from one string table. Non-global addresses ([`scope`]) get neither country
//! nor AS. IPv4-mapped (`::ffff:a.b.c.d`) and NAT64 (`64:ff9b::a.b.c.d`) addresses are looked up
//! as the IPv4 address they carry. Files are parsed with bounds checks; a damaged file is a
//! [`GeoError`], never a panic.
//!
//! ```
//! use phonehome_enrich::geo::{IpDb, Scope};
//! let db = IpDb::bundled();
//! let hit = db.lookup("8.8.8.8".parse().unwrap());
//! assert_eq!(hit.scope, Scope::Global);
//! assert_eq!(hit.asn, Some(15169));
//! assert_eq!(hit.country_str(), Some("US"));
//! let lan = db.lookup("192.168.1.10".parse().unwrap());
//! assert_eq!((lan.scope, lan.country), (Scope::Private, None));
//! ```

mod mmdb;
mod scope;
pub mod table;

use std::net::IpAddr;
use std::path::Path;
use std::sync::{Arc, OnceLock};

pub use scope::{embedded_v4, scope, Scope};
use table::{Country, Tables};

/// The bundled database file, built by `scripts/update-ip-data.sh`.
const BUNDLED: &[u8] = include_bytes!("../../../../data/ip/ipdb.bin");

/// Why a database could not be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GeoError {
    /// The `ipdb.bin` file is damaged or of another version.
    #[error("IP database file: {0}")]
    Format(String),
    /// Input ranges overlap or are inverted (building a table).
    #[error("IP ranges: {0}")]
    Range(String),
    /// A MaxMind DB file could not be opened or read.
    #[error("MaxMind DB {path}: {source}")]
    Mmdb {
        /// The file.
        path: String,
        /// What the reader said.
        source: maxminddb::MaxMindDbError,
    },
}

/// What is known about one address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lookup<'a> {
    /// The special-purpose scope of the address.
    pub scope: Scope,
    /// ISO 3166-1 alpha-2 code, upper case, of the block's registered country; `None` for
    /// non-global addresses and blocks the data does not cover.
    pub country: Option<[u8; 2]>,
    /// The origin autonomous system.
    pub asn: Option<u32>,
    /// The AS organisation's name, as the data spells it.
    pub as_org: Option<&'a str>,
}

impl<'a> Lookup<'a> {
    /// An answer with the scope only.
    const fn bare(scope: Scope) -> Self {
        Self {
            scope,
            country: None,
            asn: None,
            as_org: None,
        }
    }

    /// The country code as text.
    #[must_use]
    pub fn country_str(&self) -> Option<&str> {
        self.country
            .as_ref()
            .and_then(|c| std::str::from_utf8(c).ok())
    }
}

/// Where one half of the answers (country, or AS) comes from.
enum Source {
    Tables(Arc<Tables>),
    Mmdb(Box<mmdb::Db>),
}

impl Source {
    const fn is_tables(&self) -> bool {
        matches!(self, Self::Tables(_))
    }
}

/// An IP to country and AS database. Cheap to share (`&IpDb` is `Sync`).
pub struct IpDb {
    country: Source,
    asn: Source,
    data_date: String,
    sources: String,
}

impl std::fmt::Debug for IpDb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IpDb")
            .field("data_date", &self.data_date)
            .field("sources", &self.sources)
            .finish_non_exhaustive()
    }
}

impl IpDb {
    /// The database compiled into the binary, decompressed at the first call.
    ///
    /// # Panics
    /// Only if the embedded file is damaged, which the crate's tests rule out for the file
    /// it is built with.
    #[must_use]
    pub fn bundled() -> &'static Self {
        static DB: OnceLock<IpDb> = OnceLock::new();
        // The embedded file is checked by this crate's tests; failing here is a build defect.
        DB.get_or_init(|| Self::from_bytes(BUNDLED).expect("the bundled ipdb.bin decodes"))
    }

    /// The header of the bundled file, without decompressing it.
    pub fn bundled_header() -> Result<table::Header<'static>, GeoError> {
        table::Header::parse(BUNDLED).map(|(h, _)| h)
    }

    /// Loads a database in the `ipdb.bin` format.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, GeoError> {
        let (header, tables) = Tables::decode(bytes)?;
        let tables = Arc::new(tables);
        Ok(Self {
            country: Source::Tables(Arc::clone(&tables)),
            asn: Source::Tables(tables),
            data_date: header.date.to_owned(),
            sources: header.sources.to_owned(),
        })
    }

    /// Uses MaxMind DB files: `country` for countries (GeoLite2/GeoIP2 Country or City:
    /// `country.iso_code`, else `registered_country.iso_code`, else a top-level
    /// `country_code`), `asn` for AS numbers and organisations (GeoLite2/GeoIP2 ASN:
    /// `autonomous_system_number`, `autonomous_system_organization`). Whichever is `None` comes
    /// from the bundled data.
    pub fn from_mmdb(country: Option<&Path>, asn: Option<&Path>) -> Result<Self, GeoError> {
        let bundled = Self::bundled();
        let bundled_tables = || match &bundled.country {
            Source::Tables(t) => Arc::clone(t),
            // The bundled database is always built from tables.
            Source::Mmdb(_) => Arc::new(Tables::default()),
        };
        let open = |path: Option<&Path>| -> Result<Source, GeoError> {
            Ok(match path {
                Some(path) => Source::Mmdb(Box::new(mmdb::Db::open(path)?)),
                None => Source::Tables(bundled_tables()),
            })
        };
        let (country, asn) = (open(country)?, open(asn)?);
        let describe = |s: &Source| match s {
            Source::Mmdb(db) => db.describe(),
            Source::Tables(_) => format!("bundled, {}", bundled.data_date),
        };
        let sources = if country.is_tables() && asn.is_tables() {
            bundled.sources.clone()
        } else {
            format!("country: {}; asn: {}", describe(&country), describe(&asn))
        };
        // The answers are as old as the oldest of the data they come from.
        let data_date = [&country, &asn]
            .iter()
            .map(|s| match s {
                Source::Mmdb(db) => db.date(),
                Source::Tables(_) => bundled.data_date.clone(),
            })
            .min()
            .unwrap_or_default();
        Ok(Self {
            country,
            asn,
            data_date,
            sources,
        })
    }

    /// Everything known about `ip`. Never panics; allocates nothing for the bundled data.
    #[must_use]
    pub fn lookup(&self, ip: IpAddr) -> Lookup<'_> {
        let scope = scope(ip);
        if !scope.is_global() {
            return Lookup::bare(scope);
        }
        let ip = embedded_v4(ip).map_or(ip, IpAddr::V4);
        let mut hit = Lookup::bare(scope);
        hit.country = match &self.country {
            Source::Tables(t) => country_of(t, ip),
            Source::Mmdb(db) => db.country(ip),
        };
        (hit.asn, hit.as_org) = match &self.asn {
            Source::Tables(t) => {
                let a = match ip {
                    IpAddr::V4(v4) => t.v4_as.get(u32::from(v4)),
                    IpAddr::V6(v6) => t.v6_as.get(u128::from(v6)),
                };
                a.map_or((None, None), |a| (Some(a.asn), t.org(a.org)))
            }
            Source::Mmdb(db) => db.asn(ip),
        };
        hit
    }

    /// The date of the data, `YYYY-MM-DD` (for several sources, the oldest).
    #[must_use]
    pub fn data_date(&self) -> &str {
        &self.data_date
    }

    /// Where the data comes from: package or database names, versions, licences.
    #[must_use]
    pub fn sources(&self) -> &str {
        &self.sources
    }
}

fn country_of(t: &Tables, ip: IpAddr) -> Option<Country> {
    match ip {
        IpAddr::V4(v4) => t.v4_country.get(u32::from(v4)),
        IpAddr::V6(v6) => t.v6_country.get(u128::from(v6)),
    }
}

#[cfg(test)]
mod tests;

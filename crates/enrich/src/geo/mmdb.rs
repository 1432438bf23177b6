//! MaxMind DB files (GeoLite2/GeoIP2 Country, City, ASN) read with the `maxminddb` crate.
//!
//! The file is read whole into memory and every lookup walks its search tree; strings are
//! borrowed from the file's bytes. A record that does not decode is treated as "no data" for
//! that address: a lookup never fails.

use std::net::IpAddr;
use std::path::Path;

use maxminddb::{path, Reader};

use super::GeoError;

/// One opened MaxMind DB.
pub(super) struct Db {
    reader: Reader<Vec<u8>>,
    name: String,
}

impl Db {
    pub(super) fn open(path: &Path) -> Result<Self, GeoError> {
        let reader = Reader::open_readfile(path).map_err(|source| GeoError::Mmdb {
            path: path.display().to_string(),
            source,
        })?;
        let name = path
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        Ok(Self { reader, name })
    }

    /// The file name, database type and build date, for [`super::IpDb::sources`].
    pub(super) fn describe(&self) -> String {
        let m = self.reader.metadata();
        format!("{} ({}, built {})", self.name, m.database_type, self.date())
    }

    /// The build date, `YYYY-MM-DD` (UTC).
    pub(super) fn date(&self) -> String {
        let epoch = i64::try_from(self.reader.metadata().build_epoch).unwrap_or(i64::MAX);
        time::OffsetDateTime::from_unix_timestamp(epoch)
            .map_or_else(|_| String::from("unknown"), |t| t.date().to_string())
    }

    fn record(&self, ip: IpAddr) -> Option<maxminddb::LookupResult<'_, Vec<u8>>> {
        // An IPv6 address in an IPv4-only database is an error from the reader: no data.
        self.reader
            .lookup(ip)
            .ok()
            .filter(maxminddb::LookupResult::has_data)
    }

    /// `country.iso_code`, else `registered_country.iso_code` (GeoIP2 Country and City), else
    /// a top-level `country_code` (the ip-location-db layout).
    pub(super) fn country(&self, ip: IpAddr) -> Option<[u8; 2]> {
        let rec = self.record(ip)?;
        let paths = [
            &path!["country", "iso_code"][..],
            &path!["registered_country", "iso_code"][..],
            &path!["country_code"][..],
        ];
        paths
            .iter()
            .find_map(|p| rec.decode_path::<&str>(p).ok().flatten().and_then(iso_code))
    }

    /// `autonomous_system_number` and `autonomous_system_organization` (GeoIP2 ASN).
    pub(super) fn asn(&self, ip: IpAddr) -> (Option<u32>, Option<&str>) {
        let Some(rec) = self.record(ip) else {
            return (None, None);
        };
        let asn = rec
            .decode_path::<u32>(&path!["autonomous_system_number"])
            .ok()
            .flatten();
        let org = rec
            .decode_path::<&str>(&path!["autonomous_system_organization"])
            .ok()
            .flatten();
        (asn.filter(|&a| a != 0), org)
    }
}

/// An ISO 3166-1 alpha-2 code, upper-cased; anything else is no country.
fn iso_code(s: &str) -> Option<[u8; 2]> {
    match s.as_bytes() {
        &[a, b] if a.is_ascii_alphabetic() && b.is_ascii_alphabetic() => {
            Some([a.to_ascii_uppercase(), b.to_ascii_uppercase()])
        }
        _ => None,
    }
}

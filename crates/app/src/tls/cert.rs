//! X.509 certificates from a TLS 1.2-and-earlier Certificate message.
//!
//! DER decoding is x509-parser's; this file only walks the message framing
//! (RFC 5246 section 7.4.2) and picks the fields the report shows.

use sha2::{Digest, Sha256};
use std::fmt::Write as _;
use x509_parser::extensions::GeneralName;
use x509_parser::prelude::{FromDer, X509Certificate};

use super::codec::Reader;
use super::Error;

/// Certificates kept from one chain; longer chains are cut (and counted by the caller).
pub(crate) const MAX_CHAIN: usize = 16;
/// SAN entries kept per certificate.
const MAX_SANS: usize = 256;

/// The parts of a server certificate the report needs.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Certificate {
    /// Subject distinguished name, "C=.., O=.., CN=.." in DER order.
    pub subject: String,
    /// Issuer distinguished name, same form.
    pub issuer: String,
    /// First O= attribute of the subject.
    pub organization: Option<String>,
    /// subjectAltName dNSName and iPAddress entries.
    pub sans: Vec<String>,
    /// notBefore, RFC 3339 in UTC.
    pub not_before: String,
    /// notAfter, RFC 3339 in UTC.
    pub not_after: String,
    /// SHA-256 of the DER encoding, lowercase hex.
    pub sha256: String,
}

/// Parses the body of a Certificate handshake message (type 11, without its
/// four-byte header). Returns the certificates that decoded and how many did not.
pub(crate) fn parse_chain(body: &[u8]) -> Result<(Vec<Certificate>, usize), Error> {
    let bad = Error::Malformed("certificate list");
    let mut r = Reader::new(body);
    let len = r.u24().ok_or(bad.clone())?;
    let mut list = Reader::new(r.take(len).ok_or(bad.clone())?);
    let mut certs = Vec::new();
    let mut failed = 0usize;
    while !list.is_empty() {
        let n = list.u24().ok_or(bad.clone())?;
        let der = list.take(n).ok_or(bad.clone())?;
        if certs.len() >= MAX_CHAIN {
            failed = failed.saturating_add(1);
            continue;
        }
        match parse_der(der) {
            Some(c) => certs.push(c),
            None => failed = failed.saturating_add(1),
        }
    }
    Ok((certs, failed))
}

/// Decodes one DER certificate; `None` when x509-parser rejects it.
pub fn parse_der(der: &[u8]) -> Option<Certificate> {
    let (_, x) = X509Certificate::from_der(der).ok()?;
    let organization = x
        .subject()
        .iter_organization()
        .next()
        .and_then(|a| a.as_str().ok())
        .map(str::to_owned);
    let mut sans = Vec::new();
    if let Ok(Some(ext)) = x.subject_alternative_name() {
        for name in ext.value.general_names.iter().take(MAX_SANS) {
            match name {
                GeneralName::DNSName(s) => sans.push((*s).to_owned()),
                GeneralName::IPAddress(b) => {
                    if let Some(ip) = ip_string(b) {
                        sans.push(ip);
                    }
                }
                _ => {}
            }
        }
    }
    Some(Certificate {
        subject: x.subject().to_string(),
        issuer: x.issuer().to_string(),
        organization,
        sans,
        not_before: rfc3339(x.validity().not_before.timestamp()),
        not_after: rfc3339(x.validity().not_after.timestamp()),
        sha256: hex::encode(Sha256::digest(der)),
    })
}

fn ip_string(b: &[u8]) -> Option<String> {
    if let Ok(a) = <[u8; 4]>::try_from(b) {
        return Some(std::net::Ipv4Addr::from(a).to_string());
    }
    <[u8; 16]>::try_from(b)
        .ok()
        .map(|a| std::net::Ipv6Addr::from(a).to_string())
}

/// Formats Unix seconds as RFC 3339 UTC ("2015-02-12T18:07:27Z"), using the
/// civil-from-days algorithm (H. Hinnant) so no calendar crate is needed.
fn rfc3339(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let tod = secs.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let mut s = String::with_capacity(20);
    let _ = write!(
        s,
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        tod / 3600,
        tod % 3600 / 60,
        tod % 60
    );
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_dates() {
        let cases = [
            (0, "1970-01-01T00:00:00Z"),
            (1_423_764_447, "2015-02-12T18:07:27Z"),
            (951_782_400, "2000-02-29T00:00:00Z"),
            (-1, "1969-12-31T23:59:59Z"),
            (253_402_300_799, "9999-12-31T23:59:59Z"),
        ];
        for (secs, want) in cases {
            assert_eq!(rfc3339(secs), want);
        }
    }

    #[test]
    fn chain_framing_errors() {
        assert!(parse_chain(&[0, 0, 5, 0, 0]).is_err());
        assert_eq!(parse_chain(&[0, 0, 0]).unwrap().0.len(), 0);
        // One entry that is not DER: counted, not fatal.
        let (certs, failed) = parse_chain(&[0, 0, 5, 0, 0, 2, 0x30, 0x00]).unwrap();
        assert!(certs.is_empty());
        assert_eq!(failed, 1);
    }

    #[test]
    fn ip_sans() {
        assert_eq!(ip_string(&[10, 0, 0, 1]).as_deref(), Some("10.0.0.1"));
        assert_eq!(ip_string(&[0; 16]).as_deref(), Some("::"));
        assert_eq!(ip_string(&[1, 2]), None);
    }
}

//! TLS key logs: the NSS `SSLKEYLOGFILE` format, keyed by client random.
//!
//! A key log is what makes a capture of TLS readable to its owner: the
//! browser, curl, OpenSSL or an instrumented app writes one line per secret,
//! `LABEL <client_random hex> <secret hex>`, and a passive observer with the
//! file can derive the record keys of every logged connection (see
//! [`crate::tls::decrypt`]). The same text travels inside pcapng files in a
//! Decryption Secrets Block of type `TLSK` ([`KeyLog::from_decryption_secrets`]).
//!
//! Labels read (NSS key log format, as written by NSS, BoringSSL and OpenSSL):
//! `CLIENT_RANDOM` (the TLS 1.2-and-earlier master secret) and the TLS 1.3
//! secrets `CLIENT_EARLY_TRAFFIC_SECRET`, `EARLY_EXPORTER_SECRET`,
//! `CLIENT_HANDSHAKE_TRAFFIC_SECRET`, `SERVER_HANDSHAKE_TRAFFIC_SECRET`,
//! `CLIENT_TRAFFIC_SECRET_0`, `SERVER_TRAFFIC_SECRET_0`, `EXPORTER_SECRET`.
//!
//! # Contract
//! The text is untrusted. Parsing never panics and never fails as a whole: a
//! line that cannot be read becomes a [`KeylogWarning`] naming its line
//! number, and the rest is kept. Comments (`#`) and blank lines are skipped,
//! CRLF line ends are accepted. Memory is bounded: at most
//! [`MAX_CONNECTIONS`] client randoms are kept and at most [`MAX_WARNINGS`]
//! warnings are listed (a last warning counts the rest). Secrets are fixed-size
//! values and are never printed by `Debug`.
//!
//! ```
//! use phonehome_app::keylog::KeyLog;
//! let cr = "aa".repeat(32);
//! let text = format!("# written by curl\nCLIENT_RANDOM {cr} {}\nbogus line\n", "11".repeat(48));
//! let (log, warnings) = KeyLog::parse(&text, "session.keys");
//! assert_eq!(log.len(), 1);
//! assert_eq!(warnings.len(), 1);
//! assert_eq!(warnings[0].line, 3);
//! let secrets = log.secrets(&[0xaa; 32]).unwrap();
//! assert_eq!(secrets.master_secret.unwrap().as_bytes(), &[0x11; 48][..]);
//! ```

use std::collections::HashMap;
use std::fmt;

/// Most client randoms kept from all key logs together.
pub const MAX_CONNECTIONS: usize = 1 << 20;
/// Most warnings listed from one parse; further malformed lines are counted
/// in one final warning.
pub const MAX_WARNINGS: usize = 100;
/// Longest secret: SHA-384 output (TLS_AES_256_GCM_SHA384) and the 48-byte
/// TLS 1.2 master secret.
pub const MAX_SECRET: usize = 48;
/// pcapng Decryption Secrets Block type for a TLS key log ("TLSK").
pub const SECRETS_TYPE_TLS: u32 = 0x544c_534b;

/// One secret from a key log (1 to [`MAX_SECRET`] bytes).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Secret {
    bytes: [u8; MAX_SECRET],
    len: u8,
}

impl Secret {
    /// The secret, or `None` when it is empty or longer than [`MAX_SECRET`].
    pub fn new(bytes: &[u8]) -> Option<Self> {
        if bytes.is_empty() || bytes.len() > MAX_SECRET {
            return None;
        }
        let mut s = Self {
            bytes: [0; MAX_SECRET],
            len: bytes.len() as u8, // <= 48
        };
        s.bytes[..bytes.len()].copy_from_slice(bytes);
        Some(s)
    }

    /// The secret's bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len)]
    }
}

impl fmt::Debug for Secret {
    // Secrets stay out of logs and panics messages.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret({} bytes)", self.len)
    }
}

/// Every secret logged for one connection (one client random).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Secrets {
    /// `CLIENT_RANDOM`: the TLS 1.2-and-earlier master secret (48 bytes).
    pub master_secret: Option<Secret>,
    /// `CLIENT_EARLY_TRAFFIC_SECRET` (TLS 1.3 0-RTT data).
    pub client_early_traffic: Option<Secret>,
    /// `EARLY_EXPORTER_SECRET`.
    pub early_exporter: Option<Secret>,
    /// `CLIENT_HANDSHAKE_TRAFFIC_SECRET`.
    pub client_handshake_traffic: Option<Secret>,
    /// `SERVER_HANDSHAKE_TRAFFIC_SECRET`.
    pub server_handshake_traffic: Option<Secret>,
    /// `CLIENT_TRAFFIC_SECRET_0`: the client's first application traffic secret.
    pub client_traffic_0: Option<Secret>,
    /// `SERVER_TRAFFIC_SECRET_0`.
    pub server_traffic_0: Option<Secret>,
    /// `EXPORTER_SECRET`.
    pub exporter: Option<Secret>,
}

impl Secrets {
    /// Fills the fields `other` has and `self` lacks.
    fn fill_from(&mut self, other: &Self) {
        let pairs = [
            (&mut self.master_secret, other.master_secret),
            (&mut self.client_early_traffic, other.client_early_traffic),
            (&mut self.early_exporter, other.early_exporter),
            (
                &mut self.client_handshake_traffic,
                other.client_handshake_traffic,
            ),
            (
                &mut self.server_handshake_traffic,
                other.server_handshake_traffic,
            ),
            (&mut self.client_traffic_0, other.client_traffic_0),
            (&mut self.server_traffic_0, other.server_traffic_0),
            (&mut self.exporter, other.exporter),
        ];
        for (mine, theirs) in pairs {
            if mine.is_none() {
                *mine = theirs;
            }
        }
    }
}

impl Secrets {
    /// The connection's secrets as key log lines (SSLKEYLOGFILE format, one per secret,
    /// newline-terminated), e.g. for a pcapng Decryption Secrets Block of evidence.
    pub fn keylog_lines(&self, client_random: &[u8; 32]) -> String {
        let cr: String = client_random.iter().map(|b| format!("{b:02x}")).collect();
        let labelled = [
            ("CLIENT_RANDOM", self.master_secret),
            ("CLIENT_EARLY_TRAFFIC_SECRET", self.client_early_traffic),
            ("EARLY_EXPORTER_SECRET", self.early_exporter),
            (
                "CLIENT_HANDSHAKE_TRAFFIC_SECRET",
                self.client_handshake_traffic,
            ),
            (
                "SERVER_HANDSHAKE_TRAFFIC_SECRET",
                self.server_handshake_traffic,
            ),
            ("CLIENT_TRAFFIC_SECRET_0", self.client_traffic_0),
            ("SERVER_TRAFFIC_SECRET_0", self.server_traffic_0),
            ("EXPORTER_SECRET", self.exporter),
        ];
        let mut out = String::new();
        for (label, secret) in labelled {
            if let Some(secret) = secret {
                let hex: String = secret
                    .as_bytes()
                    .iter()
                    .map(|b| format!("{b:02x}"))
                    .collect();
                out.push_str(&format!("{label} {cr} {hex}\n"));
            }
        }
        out
    }
}

/// A line of a key log that was not used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeylogWarning {
    /// The key log's name as given to the parser (file name, "pcapng DSB").
    pub source: String,
    /// 1-based line number; 0 for a warning about the whole input.
    pub line: usize,
    /// What was wrong.
    pub message: String,
}

impl fmt::Display for KeylogWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}: {}", self.source, self.message)
        } else {
            write!(f, "{}:{}: {}", self.source, self.line, self.message)
        }
    }
}

/// Secrets by client random, from one or more key logs.
#[derive(Debug, Clone, Default)]
pub struct KeyLog {
    // The key is the ClientHello random: unique per connection by design,
    // chosen by the client, and the key every key log line carries.
    map: HashMap<[u8; 32], Secrets>,
    dropped: u64,
}

/// Which field of [`Secrets`] a label fills.
fn slot<'a>(secrets: &'a mut Secrets, label: &str) -> Option<&'a mut Option<Secret>> {
    Some(match label {
        "CLIENT_RANDOM" => &mut secrets.master_secret,
        "CLIENT_EARLY_TRAFFIC_SECRET" => &mut secrets.client_early_traffic,
        "EARLY_EXPORTER_SECRET" => &mut secrets.early_exporter,
        "CLIENT_HANDSHAKE_TRAFFIC_SECRET" => &mut secrets.client_handshake_traffic,
        "SERVER_HANDSHAKE_TRAFFIC_SECRET" => &mut secrets.server_handshake_traffic,
        "CLIENT_TRAFFIC_SECRET_0" => &mut secrets.client_traffic_0,
        "SERVER_TRAFFIC_SECRET_0" => &mut secrets.server_traffic_0,
        "EXPORTER_SECRET" => &mut secrets.exporter,
        _ => return None,
    })
}

/// Decodes hex into `out`, returning the length; `None` on a bad digit,
/// odd length or overflow.
fn unhex(s: &str, out: &mut [u8]) -> Option<usize> {
    let b = s.as_bytes();
    if !b.len().is_multiple_of(2) || b.len() / 2 > out.len() {
        return None;
    }
    for (i, pair) in b.chunks_exact(2).enumerate() {
        let hi = char::from(pair[0]).to_digit(16)?;
        let lo = char::from(pair[1]).to_digit(16)?;
        out[i] = (hi << 4 | lo) as u8; // two hex digits: < 256
    }
    Some(b.len() / 2)
}

impl KeyLog {
    /// An empty key log.
    pub fn new() -> Self {
        Self::default()
    }

    /// Parses NSS key log text. `source_name` only labels the warnings.
    pub fn parse(text: &str, source_name: &str) -> (Self, Vec<KeylogWarning>) {
        let mut log = Self::new();
        let mut warnings = Vec::new();
        let mut unlisted = 0usize;
        for (i, raw) in text.split('\n').enumerate() {
            let line = raw.strip_suffix('\r').unwrap_or(raw).trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            if let Err(message) = log.line(line) {
                if warnings.len() < MAX_WARNINGS {
                    warnings.push(KeylogWarning {
                        source: source_name.to_owned(),
                        line: i + 1,
                        message,
                    });
                } else {
                    unlisted += 1;
                }
            }
        }
        if unlisted > 0 {
            warnings.push(KeylogWarning {
                source: source_name.to_owned(),
                line: 0,
                message: format!("{unlisted} more lines could not be used"),
            });
        }
        if log.dropped > 0 {
            warnings.push(KeylogWarning {
                source: source_name.to_owned(),
                line: 0,
                message: format!(
                    "{} lines dropped: more than {MAX_CONNECTIONS} client randoms",
                    log.dropped
                ),
            });
        }
        (log, warnings)
    }

    /// Reads the data of a pcapng Decryption Secrets Block (pcapng draft
    /// section 4.7). Only `secrets_type` [`SECRETS_TYPE_TLS`] is a TLS key
    /// log (same text as a key log file); other types are reported and skipped.
    pub fn from_decryption_secrets(
        secrets_type: u32,
        data: &[u8],
        source_name: &str,
    ) -> (Self, Vec<KeylogWarning>) {
        if secrets_type != SECRETS_TYPE_TLS {
            let warning = KeylogWarning {
                source: source_name.to_owned(),
                line: 0,
                message: format!(
                    "decryption secrets of type 0x{secrets_type:08x} are not a TLS key log"
                ),
            };
            return (Self::new(), vec![warning]);
        }
        // The block pads its data to 32 bits with zeros; writers also leave
        // a trailing NUL. Neither belongs to the text.
        let end = data.iter().rposition(|&b| b != 0).map_or(0, |p| p + 1);
        let text = String::from_utf8_lossy(&data[..end]);
        Self::parse(&text, source_name)
    }

    /// One non-comment line.
    fn line(&mut self, line: &str) -> Result<(), String> {
        let mut fields = line.split_ascii_whitespace();
        let (Some(label), Some(cr_hex), Some(secret_hex), None) =
            (fields.next(), fields.next(), fields.next(), fields.next())
        else {
            return Err("expected three fields: label, client random, secret".to_owned());
        };
        // OpenSSL also logs the secret after each KeyUpdate without saying
        // which generation it is; the decryptor derives those itself.
        if matches!(label, "CLIENT_TRAFFIC_SECRET_N" | "SERVER_TRAFFIC_SECRET_N") {
            return Ok(());
        }
        let mut probe = Secrets::default();
        if slot(&mut probe, label).is_none() {
            // RSA and PMS_CLIENT_RANDOM lines carry pre-master secrets that
            // need the key exchange to be replayed; they are not used.
            return Err(format!("unsupported label {label:.40}"));
        }
        let mut cr = [0u8; 32];
        if cr_hex.len() != 64 || unhex(cr_hex, &mut cr).is_none() {
            return Err("client random is not 32 bytes of hex".to_owned());
        }
        let mut buf = [0u8; MAX_SECRET];
        let secret = unhex(secret_hex, &mut buf)
            .and_then(|n| Secret::new(&buf[..n]))
            .ok_or_else(|| format!("secret is not 1 to {MAX_SECRET} bytes of hex"))?;
        if label == "CLIENT_RANDOM" && secret.as_bytes().len() != 48 {
            return Err("master secret is not 48 bytes".to_owned());
        }
        if !self.map.contains_key(&cr) && self.map.len() >= MAX_CONNECTIONS {
            self.dropped = self.dropped.saturating_add(1);
            return Ok(());
        }
        let entry = self.map.entry(cr).or_default();
        if let Some(field) = slot(entry, label) {
            *field = Some(secret);
        }
        Ok(())
    }

    /// Adds every connection of `other`; for a client random in both, fields
    /// already known here are kept and missing ones taken from `other`.
    pub fn merge(&mut self, other: Self) {
        self.dropped = self.dropped.saturating_add(other.dropped);
        for (cr, secrets) in other.map {
            if let Some(mine) = self.map.get_mut(&cr) {
                mine.fill_from(&secrets);
            } else if self.map.len() < MAX_CONNECTIONS {
                self.map.insert(cr, secrets);
            } else {
                self.dropped = self.dropped.saturating_add(1);
            }
        }
    }

    /// The secrets logged for the connection whose ClientHello carried `client_random`.
    pub fn secrets(&self, client_random: &[u8; 32]) -> Option<&Secrets> {
        self.map.get(client_random)
    }

    /// Connections (client randoms) known.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// No connection known.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Lines or connections dropped because [`MAX_CONNECTIONS`] was reached.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CR: &str = "cb34ecb1e78163ba1c38c6dacb196a6dffa21a8d9912ec18a2ef6283024dece7";

    #[test]
    fn every_label_lands_in_its_field() {
        let labels = [
            "CLIENT_EARLY_TRAFFIC_SECRET",
            "EARLY_EXPORTER_SECRET",
            "CLIENT_HANDSHAKE_TRAFFIC_SECRET",
            "SERVER_HANDSHAKE_TRAFFIC_SECRET",
            "CLIENT_TRAFFIC_SECRET_0",
            "SERVER_TRAFFIC_SECRET_0",
            "EXPORTER_SECRET",
        ];
        let mut text = format!("CLIENT_RANDOM {CR} {}\r\n", "00".repeat(48));
        for (i, l) in labels.iter().enumerate() {
            text.push_str(&format!(
                "{l} {CR} {}\r\n",
                format!("{:02x}", i + 1).repeat(32)
            ));
        }
        let (log, w) = KeyLog::parse(&text, "t");
        assert!(w.is_empty(), "{w:?}");
        let cr: [u8; 32] = hex::decode(CR).unwrap().try_into().unwrap();
        let s = log.secrets(&cr).unwrap();
        let got = [
            s.client_early_traffic,
            s.early_exporter,
            s.client_handshake_traffic,
            s.server_handshake_traffic,
            s.client_traffic_0,
            s.server_traffic_0,
            s.exporter,
        ];
        for (i, g) in got.iter().enumerate() {
            assert_eq!(
                g.unwrap().as_bytes(),
                &[i as u8 + 1; 32][..],
                "{}",
                labels[i]
            );
        }
        assert_eq!(s.master_secret.unwrap().as_bytes(), &[0; 48][..]);
        assert_eq!(format!("{:?}", s.exporter.unwrap()), "Secret(32 bytes)");
    }

    #[test]
    fn malformed_lines_are_reported_with_line_numbers() {
        let ok = format!("CLIENT_TRAFFIC_SECRET_0 {CR} {}", "ab".repeat(32));
        let cases: &[(&str, &str)] = &[
            ("CLIENT_RANDOM", "expected three fields"),
            (
                &format!("CLIENT_RANDOM {CR} 0011"),
                "master secret is not 48",
            ),
            (
                &format!("CLIENT_RANDOM {} {}", &CR[2..], "00".repeat(48)),
                "client random",
            ),
            (
                &format!("CLIENT_RANDOM {CR} {}zz", "00".repeat(47)),
                "secret is not",
            ),
            (
                &format!("RSA 0011223344556677 {}", "00".repeat(48)),
                "unsupported label RSA",
            ),
            (
                &format!("SERVER_TRAFFIC_SECRET_0 {CR} {}", "00".repeat(49)),
                "secret is not",
            ),
            (&format!("{ok} extra"), "expected three fields"),
        ];
        for (line, want) in cases {
            let text = format!("# header\n\n{ok}\n{line}\n");
            let (log, w) = KeyLog::parse(&text, "f.keys");
            assert_eq!(log.len(), 1, "{line}");
            let [warning] = &w[..] else {
                panic!("{line}: {w:?}")
            };
            assert_eq!(warning.line, 4, "{line}");
            assert!(
                warning.message.contains(want),
                "{line}: {}",
                warning.message
            );
            assert!(warning.to_string().starts_with("f.keys:4: "));
        }
    }

    #[test]
    fn warnings_are_capped_and_counted() {
        let text = "junk\n".repeat(MAX_WARNINGS + 7);
        let (_, w) = KeyLog::parse(&text, "f");
        assert_eq!(w.len(), MAX_WARNINGS + 1);
        assert_eq!(w[MAX_WARNINGS].message, "7 more lines could not be used");
    }

    #[test]
    fn merge_fills_missing_fields() {
        let (mut a, _) = KeyLog::parse(&format!("CLIENT_RANDOM {CR} {}", "01".repeat(48)), "a");
        let (b, _) = KeyLog::parse(
            &format!(
                "CLIENT_RANDOM {CR} {}\nEXPORTER_SECRET {CR} {}\nCLIENT_RANDOM {} {}",
                "02".repeat(48),
                "03".repeat(32),
                "ff".repeat(32),
                "04".repeat(48)
            ),
            "b",
        );
        a.merge(b);
        assert_eq!(a.len(), 2);
        let cr: [u8; 32] = hex::decode(CR).unwrap().try_into().unwrap();
        let s = a.secrets(&cr).unwrap();
        assert_eq!(s.master_secret.unwrap().as_bytes(), &[1; 48][..]);
        assert_eq!(s.exporter.unwrap().as_bytes(), &[3; 32][..]);
        assert!(a.secrets(&[0xff; 32]).is_some());
        assert!(a.secrets(&[0xee; 32]).is_none());
    }

    #[test]
    fn decryption_secrets_block() {
        let mut data = format!("CLIENT_RANDOM {CR} {}\n", "01".repeat(48)).into_bytes();
        data.extend_from_slice(&[0, 0, 0]);
        let (log, w) = KeyLog::from_decryption_secrets(SECRETS_TYPE_TLS, &data, "dsb");
        assert!(w.is_empty());
        assert_eq!(log.len(), 1);
        // "WGKL", the WireGuard key log type.
        let (log, w) = KeyLog::from_decryption_secrets(0x5747_4b4c, &data, "dsb");
        assert!(log.is_empty());
        assert_eq!(w.len(), 1);
        let (log, _) = KeyLog::from_decryption_secrets(SECRETS_TYPE_TLS, &[0xff, 0xfe, 0], "dsb");
        assert!(log.is_empty());
    }

    #[test]
    fn keylog_lines_parse_back_to_the_same_secrets() {
        let cr = [0x11u8; 32];
        let text = format!(
            "CLIENT_HANDSHAKE_TRAFFIC_SECRET {0} {1}\nSERVER_TRAFFIC_SECRET_0 {0} {2}\n",
            "11".repeat(32),
            "ab".repeat(32),
            "cd".repeat(48)
        );
        let (log, warnings) = KeyLog::parse(&text, "t");
        assert!(warnings.is_empty());
        let lines = log.secrets(&cr).unwrap().keylog_lines(&cr);
        assert_eq!(lines.lines().count(), 2);
        let (again, _) = KeyLog::parse(&lines, "again");
        assert_eq!(again.secrets(&cr), log.secrets(&cr));
    }
}

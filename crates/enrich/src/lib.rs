//! Enrichment: what the pipeline knows about each destination beyond the packets themselves.
//!
//! Every flow gets a server name and the evidence it came from ([`names`]); the places where
//! the capture cannot say what was sent are listed ([`blind`]). Its address gets a country, an
//! AS and a scope ([`geo`]); its server an organisation with the countries whose law reaches
//! it ([`orgs`]); and the traffic a service name with the evidence for it ([`services`]).
//!
//! # Contract
//! Enrichment runs after reassembly and parsing, on owned values; it does no I/O and never
//! panics. Its caches are bounded: the DNS cache keeps a fixed number of names per address and
//! a fixed number of addresses, and counts what it had to forget.
//!
//! ```
//! use phonehome_capture::Timestamp;
//! use phonehome_enrich::names::{DnsCache, Evidence, NameSource};
//! let mut dns = DnsCache::default();
//! let ip = "142.250.1.1".parse().unwrap();
//! dns.insert(Timestamp::from_nanos(10), ip, "www.google.com");
//! let evidence = Evidence { server: ip, first_ts: Timestamp::from_nanos(20), ..Evidence::default() };
//! let naming = evidence.name(&dns);
//! assert_eq!(naming.name.as_deref(), Some("www.google.com"));
//! assert_eq!(naming.source, NameSource::Dns);
//! ```

#![forbid(unsafe_code)]

pub mod blind;
pub mod geo;
pub mod names;
pub mod orgs;
pub mod services;

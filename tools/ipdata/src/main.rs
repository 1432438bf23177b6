//! `phonehome-ipdata`: builds `data/ip/ipdb.bin`, the IP to country and AS database that
//! `phonehome-enrich` embeds, from the unpacked `@ip-location-db` npm packages, and checks it.
//!
//! `scripts/update-ip-data.sh` runs it; see `data/ip/README.md` for the sources and licences.
//! The output depends only on the input packages: no clock, everything sorted, a fixed zstd
//! level.

#![forbid(unsafe_code)]

mod convert;

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{ensure, Context, Result};
use clap::{Parser, Subcommand};
use maxminddb::Reader;
use phonehome_enrich::geo::IpDb;

/// The zstd level of the committed file: the smallest output at a build time of seconds.
const ZSTD_LEVEL: i32 = 19;

#[derive(Parser)]
#[command(about = "Build and check phonehome's bundled IP database")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Convert the unpacked packages into one ipdb.bin.
    Build {
        /// The unpacked @ip-location-db/geo-whois-asn-country-mmdb package.
        #[arg(long)]
        country_pkg: PathBuf,
        /// The unpacked @ip-location-db/asn package.
        #[arg(long)]
        asn_pkg: PathBuf,
        /// Where to write ipdb.bin.
        #[arg(long)]
        out: PathBuf,
    },
    /// Compare a built ipdb.bin with the country mmdb read through `IpDb::from_mmdb`, at
    /// every range start of the built file (and the address before it).
    Check {
        /// The ipdb.bin to check.
        #[arg(long)]
        db: PathBuf,
        /// The combined country mmdb (geo-whois-asn-country.mmdb).
        #[arg(long)]
        country_mmdb: PathBuf,
    },
    /// Print the answers for some addresses, with load and lookup timings.
    Lookup {
        /// The ipdb.bin to use.
        #[arg(long)]
        db: PathBuf,
        /// Addresses to look up.
        ips: Vec<IpAddr>,
    },
}

fn main() -> Result<()> {
    match Cli::parse().command {
        Command::Build {
            country_pkg,
            asn_pkg,
            out,
        } => build(&country_pkg, &asn_pkg, &out),
        Command::Check { db, country_mmdb } => check(&db, &country_mmdb),
        Command::Lookup { db, ips } => lookup(&db, &ips),
    }
}

fn build(
    country_pkg: &std::path::Path,
    asn_pkg: &std::path::Path,
    out: &std::path::Path,
) -> Result<()> {
    let open = |name: &str| -> Result<Reader<Vec<u8>>> {
        let p = country_pkg.join(name);
        Reader::open_readfile(&p).with_context(|| p.display().to_string())
    };
    let r4 = open("geo-whois-asn-country-ipv4.mmdb")?;
    let r6 = open("geo-whois-asn-country-ipv6.mmdb")?;
    let (v4, _) = convert::country_ranges(&r4)?;
    let (_, v6) = convert::country_ranges(&r6)?;
    let date = convert::mmdb_date(&r4)?;
    let read = |name: &str| -> Result<Vec<u8>> {
        let p = asn_pkg.join(name);
        std::fs::read(&p).with_context(|| p.display().to_string())
    };
    let asn4 = convert::asn_rows::<u32>(&read("asn-ipv4-num.csv")?)?;
    let asn6 = convert::asn_rows::<u128>(&read("asn-ipv6-num.csv")?)?;
    let tables = convert::build((v4, v6), asn4, asn6)?;
    let sources = format!(
        "country: {} from RIR whois (NRO, CC-BY-4.0), geofeeds and origin AS; \
         asn: {} CC-BY-4.0, data from RouteViews (routeviews.org), DB-IP (db-ip.com) and NRO (nro.net)",
        convert::package_id(country_pkg)?,
        convert::package_id(asn_pkg)?,
    );
    let bytes = tables.encode(&date, &sources, Some(ZSTD_LEVEL))?;
    std::fs::write(out, &bytes).with_context(|| out.display().to_string())?;
    eprintln!(
        "{}: {} bytes; date {date}; ranges: v4 country {}, v6 country {}, v4 AS {}, v6 AS {}; {} organisations",
        out.display(),
        bytes.len(),
        tables.v4_country.len(),
        tables.v6_country.len(),
        tables.v4_as.len(),
        tables.v6_as.len(),
        tables.org_count(),
    );
    Ok(())
}

fn check(db: &std::path::Path, mmdb: &std::path::Path) -> Result<()> {
    let bytes = std::fs::read(db).with_context(|| db.display().to_string())?;
    let built = IpDb::from_bytes(&bytes)?;
    let (_, tables) = phonehome_enrich::geo::table::Tables::decode(&bytes)?;
    let via_mmdb = IpDb::from_mmdb(Some(mmdb), None)?;
    let mut probes: Vec<IpAddr> = Vec::new();
    for (s, _) in tables.v4_country.iter() {
        probes.push(IpAddr::from(s.to_be_bytes()));
        probes.push(IpAddr::from(s.saturating_sub(1).to_be_bytes()));
    }
    for (s, _) in tables.v6_country.iter() {
        probes.push(IpAddr::from(s.to_be_bytes()));
        probes.push(IpAddr::from(s.saturating_sub(1).to_be_bytes()));
    }
    let mut differ = 0usize;
    for &ip in &probes {
        let (a, b) = (built.lookup(ip).country, via_mmdb.lookup(ip).country);
        if a != b {
            differ += 1;
            if differ <= 10 {
                eprintln!(
                    "{ip}: ipdb.bin {:?} mmdb {:?}",
                    a.map(|c| String::from_utf8_lossy(&c).into_owned()),
                    b.map(|c| String::from_utf8_lossy(&c).into_owned())
                );
            }
        }
    }
    eprintln!(
        "checked {} addresses against {}: {differ} differ",
        probes.len(),
        mmdb.display()
    );
    ensure!(differ == 0, "ipdb.bin and the mmdb disagree");
    Ok(())
}

fn lookup(db: &std::path::Path, ips: &[IpAddr]) -> Result<()> {
    let bytes = std::fs::read(db).with_context(|| db.display().to_string())?;
    let t0 = Instant::now();
    let db = IpDb::from_bytes(&bytes)?;
    let load = t0.elapsed();
    println!(
        "data date {}; load {:.1} ms",
        db.data_date(),
        load.as_secs_f64() * 1e3
    );
    for &ip in ips {
        let hit = db.lookup(ip);
        println!(
            "{ip}\t{}\t{}\t{}\t{}",
            hit.scope,
            hit.country_str().unwrap_or("-"),
            hit.asn.map_or_else(|| "-".to_owned(), |a| a.to_string()),
            hit.as_org.unwrap_or("-")
        );
    }
    // Lookup speed over a spread of addresses: a fixed-step walk of the IPv4 space and
    // addresses in 2000::/3, so the binary searches touch the whole table.
    let n: u32 = 4_000_000;
    let step = u32::MAX / n;
    let t1 = Instant::now();
    let mut found = 0usize;
    for i in 0..n {
        let ip = IpAddr::from((i.wrapping_mul(step) ^ 0x5a5a_5a5a).to_be_bytes());
        found += usize::from(std::hint::black_box(db.lookup(ip)).asn.is_some());
    }
    let v4 = t1.elapsed();
    let t2 = Instant::now();
    for i in 0..n {
        let bits = (0x2000_u128 << 112) | (u128::from(i.wrapping_mul(step)) << 80);
        let ip = IpAddr::from(bits.to_be_bytes());
        found += usize::from(std::hint::black_box(db.lookup(ip)).asn.is_some());
    }
    let v6 = t2.elapsed();
    println!(
        "lookup: IPv4 {:.0} ns, IPv6 {:.0} ns per address ({found} with an AS)",
        v4.as_secs_f64() * 1e9 / f64::from(n),
        v6.as_secs_f64() * 1e9 / f64::from(n)
    );
    Ok(())
}

//! `synth`: write a synthetic capture of a phone's traffic (see the crate docs).

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use clap::{Parser, ValueEnum};

/// Writes a deterministic pcap of a phone's traffic on a Wi-Fi hotspot.
#[derive(Parser, Debug)]
#[command(name = "synth", about, long_about = None)]
struct Args {
    /// Which traffic: the small demo story or the benchmark mix.
    #[arg(long, value_enum, default_value_t = ProfileArg::Bench)]
    profile: ProfileArg,
    /// Seed: the same seed, profile and target give the same bytes.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Approximate output size for the bench profile (underscores allowed: 1_100_000_000).
    #[arg(long, default_value = "100_000_000", value_parser = parse_size)]
    target_bytes: u64,
    /// Output file (`-` for standard output).
    #[arg(long, short)]
    out: PathBuf,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum ProfileArg {
    Demo,
    Bench,
}

fn parse_size(s: &str) -> Result<u64, String> {
    s.replace('_', "").parse().map_err(|e| format!("{s}: {e}"))
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let profile = match args.profile {
        ProfileArg::Demo => phonehome_bench::Profile::Demo,
        ProfileArg::Bench => phonehome_bench::Profile::Bench,
    };
    let started = Instant::now();
    let out: Box<dyn Write> = if args.out.as_os_str() == "-" {
        Box::new(std::io::stdout().lock())
    } else {
        Box::new(
            File::create(&args.out).with_context(|| format!("creating {}", args.out.display()))?,
        )
    };
    let out = BufWriter::with_capacity(1 << 20, out);
    let stats = phonehome_bench::generate(profile, args.seed, args.target_bytes, out)
        .with_context(|| format!("writing {}", args.out.display()))?;
    let secs = started.elapsed().as_secs_f64();
    eprintln!(
        "synth: {} sessions, {} frames, {} bytes in {:.2} s ({:.0} MB/s)",
        stats.sessions,
        stats.frames,
        stats.bytes,
        secs,
        stats.bytes as f64 / 1e6 / secs.max(1e-9)
    );
    Ok(())
}

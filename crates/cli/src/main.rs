//! The `phonehome` command. Glue only: flags in, the library does the work, exit codes out.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};

/// What does this device send, to whom, and where in the world does it land?
///
/// phonehome reads packet captures of a device under test (pcap or pcapng as written by
/// tcpdump, dumpcap/Wireshark, PCAPdroid or editcap; gzip or zstd compressed; `-` for
/// standard input), rebuilds its conversations (IP defragmentation, TCP reassembly) and names
/// every server it talked to, with the evidence: TLS SNI, QUIC SNI, HTTP Host, the DNS answer
/// that gave out the address, or the server certificate.
#[derive(Parser, Debug)]
#[command(name = "phonehome", version, about, long_about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Read captures and report every destination: flows, DNS, TLS, QUIC and HTTP.
    ///
    /// Exit status: 0 when the report was written, 2 on a usage error or when no capture
    /// could be read at all. Damaged captures are read up to the damage and warned about.
    Audit(AuditArgs),
    /// Write, check or expand a device profile: the values seeded on the test device.
    #[command(subcommand)]
    Profile(ProfileCommand),
}

#[derive(Subcommand, Debug)]
enum ProfileCommand {
    /// Print a commented profile template.
    Init,
    /// Validate a profile (IMEI check digits, phone numbers, MACs, coordinates...).
    Check {
        #[arg(value_name = "PROFILE.toml")]
        file: std::path::PathBuf,
    },
    /// List every form and encoding of the profile's values that audits search for.
    Variants {
        #[arg(value_name = "PROFILE.toml")]
        file: std::path::PathBuf,
    },
}

#[derive(clap::Args, Debug)]
struct AuditArgs {
    /// Capture files (pcap, pcapng, optionally .gz/.zst compressed); `-` reads standard input,
    /// e.g. `tcpdump -i wlan0 -w - | phonehome audit -`. Several files are read as one capture.
    #[arg(required = true, value_name = "CAPTURE")]
    captures: Vec<String>,
    /// Output: `summary` (a table for the terminal), `json` (one report document,
    /// schema phonehome/report/v1) or `ndjson` (one event per line, like Suricata's eve.json).
    #[arg(long, short = 'F', value_enum, default_value_t = Format::Summary)]
    format: Format,
    /// Write the report to FILE instead of standard output.
    #[arg(long, short, value_name = "FILE")]
    output: Option<std::path::PathBuf>,
    /// Threads in all (default: all cores): from 2 on, one hashes the input beside the reader,
    /// from 3 on, N - 2 workers share the flows. The report is identical for any value.
    #[arg(long, short = 'j', default_value_t = 0, value_name = "N")]
    threads: usize,
    /// Keep only traffic to or from the device under test, given as its IP address or MAC
    /// address (for hotspot captures holding several devices). The rest is counted.
    #[arg(long, value_name = "IP|MAC")]
    device: Option<phonehome::Device>,
    /// Key log for TLS and QUIC decryption, in the NSS format browsers, curl, mitmproxy and
    /// PCAPdroid write (SSLKEYLOGFILE). May be given several times. Keys embedded in a pcapng
    /// (editcap --inject-secrets) are used without it.
    #[arg(long, value_name = "FILE")]
    keylog: Vec<String>,
    /// MaxMind-format country database (GeoLite2/GeoIP2 Country or City) to use instead of
    /// the bundled registry data for server countries.
    #[arg(long, value_name = "FILE.mmdb")]
    geoip: Option<std::path::PathBuf>,
    /// MaxMind-format ASN database (GeoLite2/GeoIP2 ASN) to use instead of the bundled data.
    #[arg(long, value_name = "FILE.mmdb")]
    asn: Option<std::path::PathBuf>,
    /// Device profile (TOML; see `phonehome profile init`): find its values (IMEI, phone,
    /// contacts, SMS, location...) in what the device sent, in any common encoding.
    #[arg(long, value_name = "PROFILE.toml")]
    profile: Option<std::path::PathBuf>,
    /// Put HTTP bodies (decoded, up to 64 KiB each) into the HTTP records of the report.
    #[arg(long)]
    http_bodies: bool,
    /// Memory for out-of-order TCP data of all flows together, in MiB.
    #[arg(long, default_value_t = 256, value_name = "MIB")]
    reassembly_memory: u64,
    /// Most flows kept open at once; beyond it the longest idle flow is closed (and counted).
    #[arg(long, default_value_t = 262_144, value_name = "N")]
    max_flows: usize,
    /// Never show a progress bar.
    #[arg(long, short)]
    quiet: bool,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Format {
    Summary,
    Json,
    Ndjson,
}

/// The version line, with the date of the bundled address data.
fn long_version() -> String {
    let data = match phonehome::enrich::geo::IpDb::bundled_header() {
        Ok(h) => format!("IP data {} ({})", h.date, h.sources),
        Err(e) => format!("IP data unreadable: {e}"),
    };
    format!("{}\n{data}", env!("CARGO_PKG_VERSION"))
}

fn main() -> ExitCode {
    let matches = Cli::command().long_version(long_version()).get_matches();
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    match run(cli) {
        Ok(code) => code,
        Err(err) => {
            if is_broken_pipe(&err) {
                return ExitCode::SUCCESS;
            }
            eprintln!("phonehome: {err:#}");
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Audit(args) => audit(args),
        Command::Profile(cmd) => profile(cmd),
    }
}

/// Reads and parses a profile, printing its warnings.
fn load_profile(path: &std::path::Path) -> anyhow::Result<phonehome::detect::profile::Profile> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
    let (profile, warnings) =
        phonehome::detect::profile::Profile::parse(&text, &path.display().to_string())?;
    for w in warnings {
        eprintln!("phonehome: warning: {w}");
    }
    Ok(profile)
}

fn profile(cmd: ProfileCommand) -> anyhow::Result<ExitCode> {
    let mut out = std::io::stdout().lock();
    match cmd {
        ProfileCommand::Init => out.write_all(phonehome::detect::profile::TEMPLATE.as_bytes())?,
        ProfileCommand::Check { file } => {
            let problems = load_profile(&file)?.check();
            for p in &problems {
                writeln!(out, "{}: {p}", file.display())?;
            }
            if !problems.is_empty() {
                return Ok(ExitCode::from(1));
            }
            writeln!(out, "{}: ok", file.display())?;
        }
        ProfileCommand::Variants { file } => {
            let variants = phonehome::detect::variants::Variants::build(&load_profile(&file)?);
            out.write_all(variants.listing().as_bytes())?;
        }
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// Inputs smaller than this finish before a progress bar would help.
const PROGRESS_MIN_BYTES: u64 = 64 << 20;

fn audit(args: AuditArgs) -> anyhow::Result<ExitCode> {
    let ip_db = if args.geoip.is_some() || args.asn.is_some() {
        let db =
            phonehome::enrich::geo::IpDb::from_mmdb(args.geoip.as_deref(), args.asn.as_deref())?;
        Some(std::sync::Arc::new(db))
    } else {
        None
    };
    let detection = match &args.profile {
        Some(path) => {
            let profile = load_profile(path)?;
            for p in profile.check() {
                eprintln!("phonehome: warning: {}: {p}", path.display());
            }
            Some(std::sync::Arc::new(
                phonehome::Detection::new(&profile).map_err(anyhow::Error::msg)?,
            ))
        }
        None => None,
    };
    let options = phonehome::Options {
        detection,
        ip_db,
        threads: args.threads,
        device: args.device.clone(),
        reassembly_budget: args.reassembly_memory.saturating_mul(1 << 20),
        max_flows: args.max_flows,
        keylogs: args.keylog.clone(),
        http_bodies: args.http_bodies,
    };
    let show_progress = !args.quiet && std::io::stderr().is_terminal();
    let mut bar: Option<indicatif::ProgressBar> = None;
    let mut progress = |p: phonehome::Progress| {
        if !show_progress {
            return;
        }
        let bar = bar.get_or_insert_with(|| new_bar(p.total));
        if p.total.is_none_or(|t| t >= PROGRESS_MIN_BYTES) {
            if let Some(total) = p.total {
                bar.set_length(total);
            }
            bar.set_position(p.bytes);
        }
    };
    let result = phonehome::audit_with_progress(&args.captures, &options, &mut progress);
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let report = result?;
    for input in &report.inputs {
        for warning in &input.warnings {
            eprintln!("phonehome: warning: {warning}");
        }
    }
    for keylog in &report.keylogs {
        for warning in &keylog.warnings {
            eprintln!("phonehome: warning: {warning}");
        }
    }
    let mut out: Box<dyn Write> = match &args.output {
        Some(path) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(path)
                .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    };
    match args.format {
        Format::Summary => phonehome::report::write_summary(&report, &mut out)?,
        Format::Json => phonehome::report::write_json(&report, &mut out)?,
        Format::Ndjson => phonehome::report::write_ndjson(&report, &mut out)?,
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

fn new_bar(total: Option<u64>) -> indicatif::ProgressBar {
    let bar = match total {
        Some(t) => indicatif::ProgressBar::new(t),
        None => indicatif::ProgressBar::new_spinner(),
    };
    bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
    let style = indicatif::ProgressStyle::with_template(
        "{spinner} {bytes}/{total_bytes} {bytes_per_sec} {wide_bar} {eta}",
    )
    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
    bar.set_style(style);
    bar
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|e| {
        e.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

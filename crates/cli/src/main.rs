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
    /// Exit status: 0 when the report was written and no policy rule was broken, 1 when a
    /// rule of the policy (`--policy`) was broken, 2 on a usage error or when a capture could
    /// not be read at all. Damaged captures are read up to the damage and warned about.
    Audit(AuditArgs),
    /// Compare two captures (or two JSON reports): destinations, organisations, countries,
    /// services and personal data seen in only one of them, with bytes.
    ///
    /// Exit status: 0 when nothing differs, 1 when something does, 2 on errors.
    Diff(DiffArgs),
    /// Print the JSON Schema of the JSON report (`audit -F json`).
    Schema,
    /// List, show or check policies (the rules `audit --policy` judges against).
    #[command(subcommand)]
    Policy(PolicyCommand),
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
        #[arg(value_name = "PROFILE.toml", required_unless_present = "contacts")]
        file: Option<std::path::PathBuf>,
        /// Address book export to check with it (see `audit --contacts`).
        #[arg(long, value_name = "FILE.vcf")]
        contacts: Vec<std::path::PathBuf>,
    },
    /// List every form and encoding of the profile's values that audits search for.
    Variants {
        #[arg(value_name = "PROFILE.toml", required_unless_present = "contacts")]
        file: Option<std::path::PathBuf>,
        /// Address book export whose contacts are added (see `audit --contacts`).
        #[arg(long, value_name = "FILE.vcf")]
        contacts: Vec<std::path::PathBuf>,
    },
}

#[derive(Subcommand, Debug)]
enum PolicyCommand {
    /// List the built-in policies.
    List,
    /// Print a built-in policy (each is an ordinary policy file to copy and adapt).
    Show {
        #[arg(value_name = "NAME")]
        name: String,
    },
    /// Validate a policy file.
    Check {
        #[arg(value_name = "POLICY.toml")]
        file: std::path::PathBuf,
    },
}

#[derive(clap::Args, Debug)]
struct DiffArgs {
    /// The capture (or JSON report) before the change, e.g. with cloud sync off.
    #[arg(value_name = "BEFORE")]
    before: String,
    /// The capture (or JSON report) after it.
    #[arg(value_name = "AFTER")]
    after: String,
    /// Output: `text` for the terminal or `json`.
    #[arg(long, short = 'F', value_enum, default_value_t = DiffFormat::Text)]
    format: DiffFormat,
    /// Write the comparison to FILE instead of standard output.
    #[arg(long, short, value_name = "FILE")]
    output: Option<std::path::PathBuf>,
    /// Device profile used when a side is a capture (see `audit --profile`).
    #[arg(long, value_name = "PROFILE.toml")]
    profile: Option<std::path::PathBuf>,
    /// Address book export used when a side is a capture (see `audit --contacts`).
    #[arg(long, value_name = "FILE.vcf")]
    contacts: Vec<std::path::PathBuf>,
    /// Key log used when a side is a capture (see `audit --keylog`).
    #[arg(long, value_name = "FILE")]
    keylog: Vec<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Patterns {
    Auto,
    On,
    Off,
}

/// The pattern detectors, when `choice` (and whether a profile is given) asks for them.
fn patterns(
    choice: Patterns,
    profile: bool,
) -> Option<std::sync::Arc<phonehome::detect::patterns::Detectors>> {
    let on = match choice {
        Patterns::On => true,
        Patterns::Off => false,
        Patterns::Auto => !profile,
    };
    on.then(|| std::sync::Arc::new(phonehome::detect::patterns::Detectors::new()))
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum DiffFormat {
    Text,
    Json,
}

#[derive(clap::Args, Debug)]
struct AuditArgs {
    /// Capture files (pcap, pcapng, optionally .gz/.zst compressed); `-` reads standard input,
    /// e.g. `tcpdump -i wlan0 -w - | phonehome audit -`. Several files are read as one capture.
    /// A directory audits each capture in it (and below) on its own: one report per capture
    /// in the `--output` directory, and a combined summary.
    #[arg(required = true, value_name = "CAPTURE|DIR")]
    captures: Vec<String>,
    /// Output: `summary` (a table for the terminal), `json` (one report document,
    /// schema phonehome/report/v1), `ndjson` (one event per line, like Suricata's eve.json),
    /// `html` (one self-contained page with map and diagrams) or `markdown` (for a notice).
    #[arg(long, short = 'F', value_enum, default_value_t = Format::Summary)]
    format: Format,
    /// Write the report to FILE instead of standard output (a directory when auditing a
    /// directory; default `phonehome-reports`).
    #[arg(long, short, value_name = "FILE")]
    output: Option<std::path::PathBuf>,
    /// Judge the findings against a policy: a built-in one by name (`phonehome policy list`:
    /// no-pii-abroad, gov-network, ...) or a policy file. Violations exit with status 1.
    #[arg(long, value_name = "NAME|FILE")]
    policy: Option<String>,
    /// The home jurisdiction (ISO 3166-1 alpha-2, e.g. TW; several separated by commas, e.g.
    /// DE,FR) the policy judges "abroad" against; overrides the policy's `home`.
    #[arg(long, value_name = "CC")]
    home: Option<String>,
    /// Show the profile's values in the report; by default they are masked as `[imei]`,
    /// `[phone]`, ... wherever they appear (URIs, DNS names, excerpts).
    #[arg(long)]
    show_values: bool,
    /// Write per finding a pcapng of the packets behind it (with the keys of its decrypted
    /// connections in a Decryption Secrets Block) into DIR: it opens in Wireshark as is.
    #[arg(long, value_name = "DIR")]
    evidence: Option<std::path::PathBuf>,
    /// Also write flows, destinations, DNS, HTTP and findings as Parquet files into DIR
    /// (one row group per capture), for DuckDB, Spark or Trino.
    #[arg(long, value_name = "DIR")]
    parquet: Option<std::path::PathBuf>,
    /// Captures audited at once when auditing a directory (default: all cores).
    #[arg(long, default_value_t = 0, value_name = "N")]
    jobs: usize,
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
    /// Address book exported from the device (vCard 2.1, 3.0 or 4.0, as Android's Contacts,
    /// iOS and Google Contacts write it): its names and phone numbers are searched like the
    /// profile's `[[contacts]]`. May be given several times; without `--profile`, the
    /// contacts alone are searched.
    #[arg(long, value_name = "FILE.vcf")]
    contacts: Vec<std::path::PathBuf>,
    /// Pattern detectors (Luhn-valid IMEIs, phone numbers, emails, MACs, coordinates,
    /// identifiers under well-known keys such as imsi or oaid) in HTTP messages and DNS names:
    /// `auto` runs them when no profile is given.
    #[arg(long, value_enum, default_value_t = Patterns::Auto)]
    patterns: Patterns,
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
    Html,
    Markdown,
}

impl Format {
    /// File extension of a report in this format (directory audits).
    const fn extension(self) -> &'static str {
        match self {
            Self::Summary => "txt",
            Self::Json => "json",
            Self::Ndjson => "ndjson",
            Self::Html => "html",
            Self::Markdown => "md",
        }
    }
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
        Command::Diff(args) => diff(args),
        Command::Profile(cmd) => profile(cmd),
        Command::Policy(cmd) => policy(cmd),
        Command::Schema => {
            let mut out = std::io::stdout().lock();
            phonehome::report::serde_json::to_writer_pretty(
                &mut out,
                &phonehome::report::json_schema(),
            )?;
            writeln!(out)?;
            Ok(ExitCode::SUCCESS)
        }
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

/// The values seeded on the device: a profile, address book exports, or both.
struct Seeded {
    profile: phonehome::detect::profile::Profile,
    /// The files read, joined with ` + `, for the report.
    name: String,
    /// SHA-256 of the files' bytes one after the other (`cat FILES | sha256sum`).
    sha256: String,
    /// What looks doubtful in the values, each naming its file.
    problems: Vec<String>,
}

impl Seeded {
    /// The search for these values (their variants and the automaton over them).
    fn detection(&self) -> std::sync::Arc<phonehome::Detection> {
        std::sync::Arc::new(phonehome::Detection::new(&self.profile))
    }
}

/// Reads the profile and the `--contacts` exports (their contacts added to the profile's, or
/// to an empty profile), printing their warnings; `None` when neither is given.
fn load_seeded(
    profile: Option<&std::path::Path>,
    contacts: &[std::path::PathBuf],
) -> anyhow::Result<Option<Seeded>> {
    use phonehome::detect::profile::{vcard, Phone, Profile};
    use std::io::Read;
    let mut names = Vec::new();
    let mut bytes = Vec::new();
    let mut problems = Vec::new();
    let mut seeded = match (profile, contacts.first()) {
        (Some(path), _) => {
            let p = load_profile(path)?;
            problems.extend(p.check().iter().map(|x| format!("{}: {x}", path.display())));
            std::fs::File::open(path)
                .and_then(|mut f| f.read_to_end(&mut bytes))
                .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
            names.push(path.display().to_string());
            p
        }
        (None, Some(first)) => Profile {
            source: first.display().to_string(),
            ..Profile::default()
        },
        (None, None) => return Ok(None),
    };
    // National numbers in the address book take the device's own country code.
    let cc = (seeded.identifiers.phone.as_deref())
        .and_then(|p| Phone::parse(p, None).ok())
        .map(|p| p.country_code);
    let before = seeded.contacts.len();
    for path in contacts {
        let name = path.display().to_string();
        // Read onto the bytes to hash, not copied there: an export may be tens of MiB. One
        // byte past the cap, so that the parser sees a file too large for what it is.
        let start = bytes.len();
        std::fs::File::open(path)
            .and_then(|f| f.take(vcard::MAX_FILE_BYTES + 1).read_to_end(&mut bytes))
            .map_err(|e| anyhow::anyhow!("cannot read {name}: {e}"))?;
        let book = vcard::AddressBook::parse(bytes.get(start..).unwrap_or_default(), &name)?;
        for w in &book.warnings {
            eprintln!("phonehome: warning: {w}");
        }
        eprintln!("phonehome: {}", book.summary());
        problems.extend(book.check(cc.as_deref()));
        book.add_to(&mut seeded);
        if seeded.contacts.len() - before > vcard::MAX_CONTACTS {
            anyhow::bail!(
                "{name}: the --contacts files give more than {} contacts together; export the contacts seeded for the test",
                vcard::MAX_CONTACTS
            );
        }
        names.push(name);
    }
    Ok(Some(Seeded {
        profile: seeded,
        name: names.join(" + "),
        sha256: sha256_hex(&bytes),
        problems,
    }))
}

fn profile(cmd: ProfileCommand) -> anyhow::Result<ExitCode> {
    let mut out = std::io::stdout().lock();
    match cmd {
        ProfileCommand::Init => out.write_all(phonehome::detect::profile::TEMPLATE.as_bytes())?,
        ProfileCommand::Check { file, contacts } => {
            let Some(seeded) = load_seeded(file.as_deref(), &contacts)? else {
                anyhow::bail!("give a profile, --contacts FILE.vcf, or both");
            };
            for p in &seeded.problems {
                writeln!(out, "{p}")?;
            }
            if !seeded.problems.is_empty() {
                return Ok(ExitCode::from(1));
            }
            writeln!(out, "{}: ok", seeded.name)?;
        }
        ProfileCommand::Variants { file, contacts } => {
            let Some(seeded) = load_seeded(file.as_deref(), &contacts)? else {
                anyhow::bail!("give a profile, --contacts FILE.vcf, or both");
            };
            let variants = phonehome::detect::variants::Variants::build(&seeded.profile);
            out.write_all(variants.listing().as_bytes())?;
        }
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// Inputs smaller than this finish before a progress bar would help.
const PROGRESS_MIN_BYTES: u64 = 64 << 20;

/// What the audits of one run share: the profile, policy, address data and options.
struct Setup {
    options: phonehome::Options,
    policy: Option<LoadedPolicy>,
    home: Option<String>,
    profile: Option<(String, String)>,
}

/// A policy ready to judge with: its name for the report and its file's hash.
struct LoadedPolicy {
    /// Named by its `name` (a preset's name; a file's path when it sets none).
    policy: phonehome::detect::policy::Policy,
    sha256: Option<String>,
}

fn sha256_hex(bytes: &[u8]) -> String {
    phonehome::sha256_hex(bytes)
}

/// A built-in policy by name, or a policy file.
fn load_policy(spec: &str) -> anyhow::Result<LoadedPolicy> {
    use phonehome::detect::policy::Policy;
    let path = std::path::Path::new(spec);
    if !path.exists() {
        if let Some(policy) = Policy::preset(spec) {
            return Ok(LoadedPolicy {
                policy,
                sha256: Policy::preset_text(spec).map(|t| sha256_hex(t.as_bytes())),
            });
        }
        anyhow::bail!(
            "no policy file {spec} and no built-in policy of that name (built in: {})",
            Policy::preset_names().collect::<Vec<_>>().join(", ")
        );
    }
    let bytes = std::fs::read(path).map_err(|e| anyhow::anyhow!("cannot read {spec}: {e}"))?;
    let text = String::from_utf8(bytes.clone())
        .map_err(|_| anyhow::anyhow!("{spec}: a policy file is UTF-8 text"))?;
    let (policy, mut warnings) = Policy::parse(&text, spec)?;
    let services = phonehome::enrich::services::Rules::bundled();
    warnings.extend(policy.unknown_services(|name| services.knows(name)));
    for w in warnings {
        eprintln!("phonehome: warning: {w}");
    }
    Ok(LoadedPolicy {
        policy,
        sha256: Some(sha256_hex(&bytes)),
    })
}

fn setup(args: &AuditArgs) -> anyhow::Result<Setup> {
    let ip_db = if args.geoip.is_some() || args.asn.is_some() {
        let db =
            phonehome::enrich::geo::IpDb::from_mmdb(args.geoip.as_deref(), args.asn.as_deref())?;
        Some(std::sync::Arc::new(db))
    } else {
        None
    };
    let (detection, profile) = match load_seeded(args.profile.as_deref(), &args.contacts)? {
        Some(seeded) => {
            for p in &seeded.problems {
                eprintln!("phonehome: warning: {p}");
            }
            (Some(seeded.detection()), Some((seeded.name, seeded.sha256)))
        }
        None => (None, None),
    };
    let policy = args.policy.as_deref().map(load_policy).transpose()?;
    if let Some(home) = &args.home {
        // Several jurisdictions are separated by commas (`--home DE,FR`); the policy engine
        // checks each against the assigned codes.
        let two_letters =
            |code: &str| code.len() == 2 && code.bytes().all(|b| b.is_ascii_alphabetic());
        if !home.split(',').map(str::trim).all(two_letters) {
            anyhow::bail!(
                "--home {home}: expected a two-letter country code such as TW, or several separated by commas (DE,FR)"
            );
        }
    }
    let options = phonehome::Options {
        patterns: patterns(args.patterns, detection.is_some()),
        detection,
        ip_db,
        threads: args.threads,
        device: args.device.clone(),
        reassembly_budget: args.reassembly_memory.saturating_mul(1 << 20),
        max_flows: args.max_flows,
        keylogs: args.keylog.clone(),
        http_bodies: args.http_bodies,
        show_values: args.show_values,
    };
    Ok(Setup {
        options,
        policy,
        home: args.home.as_ref().map(|h| h.to_ascii_uppercase()),
        profile,
    })
}

/// Audits one capture (or several read as one) and judges it.
fn audit_one(
    captures: &[String],
    setup: &Setup,
    progress: &mut dyn FnMut(phonehome::Progress),
) -> anyhow::Result<phonehome::report::Report> {
    let mut report = phonehome::audit_with_progress(captures, &setup.options, progress)?;
    if let Some((path, sha)) = &setup.profile {
        report.run.profile = Some(path.clone());
        report.run.profile_sha256 = Some(sha.clone());
    }
    if let Some(p) = &setup.policy {
        phonehome::verdict::judge(
            &mut report,
            &p.policy,
            p.sha256.clone(),
            setup.home.as_deref(),
        )?;
    }
    Ok(report)
}

fn write_report(
    report: &phonehome::report::Report,
    format: Format,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    let mut out = out;
    match format {
        Format::Summary => phonehome::report::write_summary(report, &mut out),
        Format::Json => phonehome::report::write_json(report, &mut out),
        Format::Ndjson => phonehome::report::write_ndjson(report, &mut out),
        Format::Html => phonehome::report::html::write_html(report, &mut out),
        Format::Markdown => phonehome::report::markdown::write_markdown(report, &mut out),
    }
}

fn print_warnings(report: &phonehome::report::Report) {
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
}

fn create(path: &std::path::Path) -> anyhow::Result<std::io::BufWriter<std::fs::File>> {
    Ok(std::io::BufWriter::new(
        std::fs::File::create(path)
            .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?,
    ))
}

fn write_evidence(
    report: &phonehome::report::Report,
    captures: &[String],
    keylogs: &[String],
    dir: &std::path::Path,
) -> anyhow::Result<()> {
    let done = phonehome::evidence::write_evidence(report, captures, keylogs, dir)?;
    for skipped in &done.skipped {
        eprintln!("phonehome: evidence: {skipped}");
    }
    if done.packets_capped > 0 {
        eprintln!(
            "phonehome: evidence: {} packets left out (at most {} per file)",
            done.packets_capped,
            phonehome::evidence::MAX_PACKETS
        );
    }
    eprintln!(
        "phonehome: evidence: {} files written to {}",
        done.files.len(),
        dir.display()
    );
    Ok(())
}

fn exit_for(reports: &[&phonehome::report::Report]) -> ExitCode {
    if reports.iter().any(|r| r.verdict.status == "fail") {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

fn audit(args: AuditArgs) -> anyhow::Result<ExitCode> {
    let dirs = args
        .captures
        .iter()
        .filter(|c| std::path::Path::new(c.as_str()).is_dir())
        .count();
    if dirs > 0 {
        if dirs != args.captures.len() {
            anyhow::bail!("give either capture files or directories, not both");
        }
        return audit_dirs(&args);
    }
    let setup = setup(&args)?;
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
    let result = audit_one(&args.captures, &setup, &mut progress);
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let report = result?;
    print_warnings(&report);
    let mut out: Box<dyn Write> = match &args.output {
        Some(path) => Box::new(create(path)?),
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    };
    write_report(&report, args.format, &mut out)?;
    out.flush()?;
    drop(out);
    if let Some(dir) = &args.parquet {
        phonehome::report::parquet::write_parquet(&[&report], dir)?;
    }
    if let Some(dir) = &args.evidence {
        write_evidence(&report, &args.captures, &args.keylog, dir)?;
    }
    Ok(exit_for(&[&report]))
}

/// Capture files under a directory (sorted, recursively; hidden entries skipped).
fn captures_in(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) -> anyhow::Result<()> {
    let mut entries: Vec<std::path::PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| anyhow::anyhow!("cannot list {}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            !p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with('.'))
        })
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            captures_in(&path, out)?;
            continue;
        }
        let name = path.to_string_lossy().to_ascii_lowercase();
        let name = name
            .strip_suffix(".gz")
            .or_else(|| name.strip_suffix(".zst"))
            .unwrap_or(&name);
        if [".pcap", ".pcapng", ".cap", ".dmp", ".ntar"]
            .iter()
            .any(|ext| name.ends_with(ext))
        {
            out.push(path);
        }
    }
    Ok(())
}

/// Audits every capture of the directories on its own, `--jobs` at a time.
fn audit_dirs(args: &AuditArgs) -> anyhow::Result<ExitCode> {
    let mut files = Vec::new();
    for dir in &args.captures {
        captures_in(std::path::Path::new(dir), &mut files)?;
    }
    if files.is_empty() {
        anyhow::bail!("no capture files (.pcap, .pcapng, .cap, optionally .gz/.zst) found");
    }
    let out_dir = args
        .output
        .clone()
        .unwrap_or_else(|| std::path::PathBuf::from("phonehome-reports"));
    std::fs::create_dir_all(&out_dir)
        .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", out_dir.display()))?;
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let jobs = if args.jobs == 0 { cores } else { args.jobs }.clamp(1, files.len());
    let mut setup = setup(args)?;
    if setup.options.threads == 0 {
        setup.options.threads = (cores / jobs).max(1);
    }
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results: std::sync::Mutex<Vec<Option<Result<phonehome::report::Report, String>>>> =
        std::sync::Mutex::new((0..files.len()).map(|_| None).collect());
    std::thread::scope(|scope| {
        for _ in 0..jobs {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(file) = files.get(i) else { break };
                let capture = vec![file.display().to_string()];
                let rel = relative_name(file, &args.captures);
                let result = audit_one(&capture, &setup, &mut |_| {}).and_then(|report| {
                    let mut name = rel.clone().into_os_string();
                    name.push(".");
                    name.push(args.format.extension());
                    let path = out_dir.join(name);
                    if let Some(parent) = path.parent() {
                        std::fs::create_dir_all(parent).map_err(|e| {
                            anyhow::anyhow!("cannot create {}: {e}", parent.display())
                        })?;
                    }
                    let mut out = create(&path)?;
                    write_report(&report, args.format, &mut out)?;
                    out.flush()?;
                    if let Some(dir) = &args.evidence {
                        write_evidence(&report, &capture, &args.keylog, &dir.join(&rel))?;
                    }
                    Ok(report)
                });
                if let Ok(mut all) = results.lock() {
                    all[i] = Some(result.map_err(|e| format!("{e:#}")));
                }
            });
        }
    });
    let results = results.into_inner().unwrap_or_default();
    let mut reports = Vec::new();
    let mut failed = 0usize;
    let mut table = String::new();
    table.push_str(&format!(
        "{:<40} {:>9} {:>6} {:>6} {:>9} {:>10}  {}\n",
        "capture", "packets", "flows", "dests", "findings", "violations", "verdict"
    ));
    for (file, result) in files.iter().zip(results) {
        let name = file.display().to_string();
        match result {
            Some(Ok(r)) => {
                print_warnings(&r);
                let personal = r.findings.iter().filter(|f| f.kind != "policy").count();
                table.push_str(&format!(
                    "{:<40} {:>9} {:>6} {:>6} {:>9} {:>10}  {}\n",
                    name,
                    r.stats.packets,
                    r.flows.len(),
                    r.destinations.len(),
                    personal,
                    r.verdict.violations,
                    r.verdict.status
                ));
                reports.push(r);
            }
            Some(Err(e)) => {
                failed += 1;
                eprintln!("phonehome: {name}: {e}");
                table.push_str(&format!("{name:<40} unreadable: {e}\n"));
            }
            None => failed += 1,
        }
    }
    let violating = reports
        .iter()
        .filter(|r| r.verdict.status == "fail")
        .count();
    table.push_str(&format!(
        "{} captures audited, {} unreadable, {} with violations; reports in {}\n",
        reports.len(),
        failed,
        violating,
        out_dir.display()
    ));
    let summary_path = out_dir.join("summary.txt");
    std::fs::write(&summary_path, &table)
        .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", summary_path.display()))?;
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(table.as_bytes())?;
    stdout.flush()?;
    if let Some(dir) = &args.parquet {
        let refs: Vec<&phonehome::report::Report> = reports.iter().collect();
        phonehome::report::parquet::write_parquet(&refs, dir)?;
    }
    if failed > 0 {
        return Ok(ExitCode::from(2));
    }
    let refs: Vec<&phonehome::report::Report> = reports.iter().collect();
    Ok(exit_for(&refs))
}

/// Where a capture's report goes inside the output directory: its path below the directory
/// given (`sub/phone.pcap`), so the reports mirror the captures' tree; with several
/// directories given, below the one holding it, prefixed by that directory's name.
fn relative_name(capture: &std::path::Path, roots: &[String]) -> std::path::PathBuf {
    for root in roots {
        let root = std::path::Path::new(root);
        if let Ok(rel) = capture.strip_prefix(root) {
            return match (roots.len() > 1, root.file_name()) {
                (true, Some(name)) => std::path::Path::new(name).join(rel),
                _ => rel.to_path_buf(),
            };
        }
    }
    capture
        .file_name()
        .map_or_else(|| capture.to_path_buf(), std::path::PathBuf::from)
}

/// One side of a diff: a JSON report as is, or a capture audited now.
fn diff_side(
    spec: &str,
    options: &phonehome::Options,
) -> anyhow::Result<phonehome::report::serde_json::Value> {
    let looks_json = spec.ends_with(".json")
        || std::fs::File::open(spec)
            .ok()
            .and_then(|mut f| {
                let mut first = [0u8; 1];
                std::io::Read::read(&mut f, &mut first).ok()?;
                Some(first[0] == b'{')
            })
            .unwrap_or(false);
    if looks_json {
        let text = std::fs::read_to_string(spec)
            .map_err(|e| anyhow::anyhow!("cannot read {spec}: {e}"))?;
        let value: phonehome::report::serde_json::Value =
            phonehome::report::serde_json::from_str(&text)
                .map_err(|e| anyhow::anyhow!("{spec}: not a JSON report: {e}"))?;
        phonehome::report::diff::check(&value).map_err(|e| anyhow::anyhow!("{spec}: {e}"))?;
        return Ok(value);
    }
    let report = phonehome::audit(&[spec.to_string()], options)?;
    print_warnings(&report);
    Ok(phonehome::report::serde_json::to_value(&report)?)
}

fn diff(args: DiffArgs) -> anyhow::Result<ExitCode> {
    let detection = load_seeded(args.profile.as_deref(), &args.contacts)?.map(|s| s.detection());
    let options = phonehome::Options {
        patterns: patterns(Patterns::Auto, detection.is_some()),
        detection,
        keylogs: args.keylog.clone(),
        ..phonehome::Options::default()
    };
    let before = diff_side(&args.before, &options)?;
    let after = diff_side(&args.after, &options)?;
    let d = phonehome::report::diff::diff(&before, &after);
    let mut out: Box<dyn Write> = match &args.output {
        Some(path) => Box::new(create(path)?),
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    };
    match args.format {
        DiffFormat::Text => phonehome::report::diff::write_text(&d, &mut out)?,
        DiffFormat::Json => phonehome::report::diff::write_json(&d, &mut out)?,
    }
    out.flush()?;
    Ok(if d.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn policy(cmd: PolicyCommand) -> anyhow::Result<ExitCode> {
    use phonehome::detect::policy::Policy;
    let mut out = std::io::stdout().lock();
    match cmd {
        PolicyCommand::List => {
            // Name, then what it forbids: `phonehome policy list | cut -f1` gives the names.
            for name in Policy::preset_names() {
                let about = Policy::preset(name)
                    .and_then(|p| p.description().map(str::to_string))
                    .unwrap_or_default();
                writeln!(out, "{name}\t{about}")?;
            }
        }
        PolicyCommand::Show { name } => match Policy::preset_text(&name) {
            Some(text) => out.write_all(text.as_bytes())?,
            None => anyhow::bail!(
                "no built-in policy {name} (built in: {})",
                Policy::preset_names().collect::<Vec<_>>().join(", ")
            ),
        },
        PolicyCommand::Check { file } => {
            let p = load_policy(&file.display().to_string())?;
            writeln!(
                out,
                "{}: ok ({} rules)",
                file.display(),
                p.policy.rules().len()
            )?;
        }
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

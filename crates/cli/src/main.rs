//! The `phonehome` command. Glue only: flags in, the library does the work, exit codes out.

use std::io::Write;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

/// What does this device send, to whom, and where in the world does it land?
#[derive(Parser, Debug)]
#[command(name = "phonehome", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Read captures (pcap, pcapng; `-` for standard input) and report every destination.
    Audit(AuditArgs),
}

#[derive(clap::Args, Debug)]
struct AuditArgs {
    /// Capture files to read; `-` reads standard input.
    #[arg(required = true, value_name = "CAPTURE")]
    captures: Vec<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Summary)]
    format: Format,
    /// Write the report to FILE instead of standard output.
    #[arg(long, short, value_name = "FILE")]
    output: Option<std::path::PathBuf>,
    /// Worker threads (default: all cores). Results are identical for any value.
    #[arg(long, default_value_t = 0)]
    threads: usize,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Format {
    Summary,
    Json,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
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
    }
}

fn audit(args: AuditArgs) -> anyhow::Result<ExitCode> {
    let options = phonehome::Options {
        threads: args.threads,
    };
    let report = phonehome::audit(&args.captures, &options)?;
    let mut out: Box<dyn Write> = match &args.output {
        Some(path) => Box::new(std::io::BufWriter::new(std::fs::File::create(path)?)),
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    };
    match args.format {
        Format::Json => phonehome::report::write_json(&report, &mut out)?,
        Format::Summary => {
            for input in &report.inputs {
                writeln!(
                    out,
                    "{}: {} packets, {} bytes",
                    input.path, input.packets, input.bytes
                )?;
                for w in &input.warnings {
                    writeln!(out, "  warning: {w}")?;
                }
            }
        }
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|e| {
        e.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

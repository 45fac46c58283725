//! The command line: `sockscope` opens the window; `sockscope snapshot` samples once, headless.

use std::io::{self, Write};
use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

use crate::collector::{CollectError, SocketSource, SystemSource, SystemSourceOptions};
use crate::export::atomic::{WriteError, write_atomically};
use crate::export::csv::write_csv;
use crate::export::json::{ExportOptions, write_json};
use crate::model::snapshot::Snapshot;
use crate::services::registry::Registry;

/// Every socket on this machine next to the port it uses, explained.
///
/// Without a subcommand, opens the window.
#[derive(Debug, Parser)]
#[command(name = "sockscope", version, about, long_about = None)]
pub struct Cli {
    /// What to do; none opens the window.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Headless subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Take one snapshot of all TCP and UDP sockets (IPv4 and IPv6) with their owners, and print or save it.
    Snapshot(SnapshotArgs),
}

/// Options of `sockscope snapshot`.
#[derive(Debug, clap::Args)]
pub struct SnapshotArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Json)]
    pub format: Format,
    /// Write to FILE (atomically: a temporary file in the same directory, then renamed) instead of stdout.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Include each owner's command line (left out by default: command lines can hold secrets).
    #[arg(long)]
    pub with_cmdline: bool,
}

/// Snapshot file formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// The full, versioned snapshot (see README: Snapshot format).
    Json,
    /// One row per socket with a header.
    Csv,
}

/// Why a CLI command failed.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// Sampling failed.
    #[error(transparent)]
    Collect(#[from] CollectError),
    /// Writing the output file failed.
    #[error(transparent)]
    Write(#[from] WriteError),
    /// Writing to stdout failed.
    #[error("cannot write to standard output: {0}")]
    Stdout(io::Error),
}

/// Writes `snapshot` in `format` to `out`.
///
/// # Errors
/// Any write error.
pub fn write_snapshot(
    out: &mut dyn Write,
    snapshot: &Snapshot,
    format: Format,
    options: ExportOptions,
) -> io::Result<()> {
    let registry = Registry::global();
    match format {
        Format::Json => write_json(out, snapshot, registry, options),
        Format::Csv => write_csv(out, snapshot, registry),
    }
}

/// Runs `sockscope snapshot`.
///
/// # Errors
/// When sampling or writing fails. A closed stdout pipe (`| head`) is not an error.
pub fn run_snapshot(args: &SnapshotArgs) -> Result<(), CliError> {
    let mut source = SystemSource::new(SystemSourceOptions {
        with_cmdline: args.with_cmdline,
        ..Default::default()
    });
    let snapshot = source.sample()?;
    let options = ExportOptions {
        with_cmdline: args.with_cmdline,
    };
    match &args.output {
        Some(path) => {
            write_atomically(path, |w| write_snapshot(w, &snapshot, args.format, options))?
        }
        None => {
            let stdout = io::stdout();
            let mut out = io::BufWriter::new(stdout.lock());
            let result = write_snapshot(&mut out, &snapshot, args.format, options)
                .and_then(|()| out.flush());
            match result {
                Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {}
                other => other.map_err(CliError::Stdout)?,
            }
        }
    }
    Ok(())
}

//! The command line: `sockscope` opens the window; `sockscope snapshot` samples once, headless.

use std::io::{self, Write};
use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

use crate::collector::current_privilege;
use crate::collector::resolver::name_peers;
use crate::collector::{CollectError, SocketSource, SystemSource, SystemSourceOptions};
use crate::export::Format;
use crate::export::atomic::{WriteError, write_atomically};
use crate::export::compare::{
    write_json as write_comparison_json, write_text as write_comparison_text,
};
use crate::export::json::ExportOptions;
use crate::export::json::SocketRecord;
use crate::export::read::{OpenError, open_snapshot};
use crate::model::compare::Comparison;
use crate::model::failure::FailureKind;
use crate::model::snapshot::Snapshot;
use crate::model::socket::Protocol;
use crate::services::doctor::{BindQuestion, Verdict, why_port};
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
    /// Take one snapshot of every TCP, UDP and Unix socket with their owners, in every network namespace
    /// Sockscope may enter (other namespaces need root), and print or save it.
    Snapshot(SnapshotArgs),
    /// Open a saved snapshot (JSON, or CSV with the required columns) in the window, read-only.
    Open {
        /// The snapshot file.
        file: PathBuf,
    },
    /// Compare two snapshots: one line per opened (+), closed (-) or changed (~) socket and per port whose
    /// owner changed (*), then a summary line.
    Diff {
        /// The earlier snapshot.
        before: PathBuf,
        /// The later snapshot.
        after: PathBuf,
        /// Output format.
        #[arg(long, value_enum, default_value_t = DiffFormat::Text)]
        format: DiffFormat,
    },
    /// Predict whether this user can bind ADDR:PORT now, and if not which sockets and rules stand in the
    /// way (for a socket that sets no options; what SO_REUSEADDR, SO_REUSEPORT or IPV6_V6ONLY change is
    /// said). Exits 0 whatever the verdict.
    WhyPort(WhyPortArgs),
    /// Close the TCP connections FILTER keeps (same filter language as the window), as `ss -K` does.
    /// Without --yes, lists what would be closed and closes nothing. Needs CAP_NET_ADMIN.
    Close {
        /// Which connections, e.g. "lport:5432" or "proc:firefox rport:443".
        filter: String,
        /// Close them; without it, only list them.
        #[arg(long)]
        yes: bool,
    },
    /// End process PID: SIGTERM, or SIGKILL with --signal kill. Without --yes, says what would happen and
    /// sends nothing. PID 1 and Sockscope itself are refused.
    Kill {
        /// The process.
        pid: u32,
        /// The signal to send.
        #[arg(long, value_enum, default_value_t = SignalArg::Term)]
        signal: SignalArg,
        /// Send it; without it, only say what would happen.
        #[arg(long)]
        yes: bool,
    },
}

/// `--signal` values of `sockscope kill`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum SignalArg {
    /// SIGTERM: ask the process to end.
    Term,
    /// SIGKILL: end it at once.
    Kill,
}

/// Options of `sockscope why-port`.
#[derive(Debug, clap::Args)]
pub struct WhyPortArgs {
    /// The port to ask about.
    pub port: u16,
    /// The protocol, whose port number space is asked about.
    #[arg(long = "proto", value_enum, default_value_t = ProtoArg::Tcp)]
    pub protocol: ProtoArg,
    /// The local address to bind (0.0.0.0 or :: for every address).
    #[arg(long = "addr", default_value = "0.0.0.0")]
    pub address: std::net::IpAddr,
    /// Output format.
    #[arg(long, value_enum, default_value_t = DiffFormat::Text)]
    pub format: DiffFormat,
}

/// `--proto` values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ProtoArg {
    /// TCP.
    Tcp,
    /// UDP.
    Udp,
}

/// Output formats of `sockscope diff`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum DiffFormat {
    /// One line per change.
    Text,
    /// A JSON document (format "sockscope-diff").
    Json,
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
    /// Read the snapshot from FILE (JSON or CSV, any version Sockscope reads) instead of sampling this
    /// machine: converts a saved snapshot to another format, e.g. to the HTML report.
    #[arg(long = "from", value_name = "FILE")]
    pub from: Option<PathBuf>,
    /// Look up the host name of every peer address with the system resolver (/etc/hosts, DNS: this may
    /// send queries) and write it as `remote_host`; without it no lookup is made and `remote_host` is null.
    #[arg(long)]
    pub resolve: bool,
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
    /// A snapshot file could not be opened.
    #[error(transparent)]
    Open(#[from] OpenError),
    /// Writing to stdout failed.
    #[error("cannot write to standard output: {0}")]
    Stdout(io::Error),
}

impl CliError {
    /// The failure's kind, for the advice printed under the error.
    #[must_use]
    pub fn kind(&self) -> FailureKind {
        match self {
            Self::Collect(e) => e.failure().kind,
            Self::Write(e) => FailureKind::of_io(&e.source),
            Self::Open(e) => e.kind,
            Self::Stdout(e) => FailureKind::of_io(e),
        }
    }
}

/// How long `--resolve` waits for names in all; addresses still unanswered then stay unnamed.
const RESOLVE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// Runs `sockscope snapshot`.
///
/// # Errors
/// When sampling or writing fails. A closed stdout pipe (`| head`) is not an error.
pub fn run_snapshot(args: &SnapshotArgs) -> Result<(), CliError> {
    let mut snapshot = match &args.from {
        Some(path) => open_snapshot(path)?,
        None => {
            let mut source = SystemSource::new(SystemSourceOptions {
                with_cmdline: args.with_cmdline,
                ..Default::default()
            });
            let snapshot = source.sample()?;
            for note in &snapshot.notes {
                eprintln!("sockscope: warning: {note}");
            }
            snapshot
        }
    };
    if args.resolve {
        // Names are a nicety: a resolver that cannot start loses them, not the snapshot.
        if let Err(e) = name_peers(&mut snapshot, RESOLVE_TIMEOUT) {
            eprintln!("sockscope: warning: cannot look up host names: {e}");
        }
    }
    let options = ExportOptions {
        with_cmdline: args.with_cmdline,
    };
    match &args.output {
        Some(path) => write_atomically(path, |w| {
            args.format
                .write(w, &snapshot, None, Registry::global(), options)
        })?,
        None => to_stdout(|out| {
            args.format
                .write(out, &snapshot, None, Registry::global(), options)
        })?,
    }
    Ok(())
}

/// Writes to stdout through `write`, treating a closed pipe as success.
fn to_stdout(write: impl FnOnce(&mut dyn Write) -> io::Result<()>) -> Result<(), CliError> {
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    match write(&mut out).and_then(|()| out.flush()) {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        other => other.map_err(CliError::Stdout),
    }
}

/// Runs `sockscope diff`.
///
/// # Errors
/// When a file cannot be opened or stdout fails.
pub fn run_diff(
    before: &std::path::Path,
    after: &std::path::Path,
    format: DiffFormat,
) -> Result<(), CliError> {
    let a = open_snapshot(before)?;
    let b = open_snapshot(after)?;
    let comparison = Comparison::between(&a, &b);
    to_stdout(|out| match format {
        DiffFormat::Text => write_comparison_text(out, &comparison, &a, &b),
        DiffFormat::Json => write_comparison_json(out, &comparison, &a, &b, Registry::global()),
    })
}

/// Runs `sockscope why-port`: samples this machine, then answers for this process.
///
/// # Errors
/// When sampling or writing fails; the verdict itself is never an error.
pub fn run_why_port(args: &WhyPortArgs) -> Result<(), CliError> {
    let snapshot = SystemSource::new(SystemSourceOptions::default()).sample()?;
    let question = BindQuestion {
        protocol: match args.protocol {
            ProtoArg::Tcp => Protocol::Tcp,
            ProtoArg::Udp => Protocol::Udp,
        },
        address: args.address,
        port: args.port,
    };
    let verdict = why_port(&snapshot, question, current_privilege());
    to_stdout(|out| match args.format {
        DiffFormat::Text => write_verdict_text(out, &verdict),
        DiffFormat::Json => write_verdict_json(out, &verdict, &snapshot),
    })
}

fn write_verdict_text(out: &mut dyn Write, v: &Verdict) -> io::Result<()> {
    let q = v.question;
    writeln!(
        out,
        "{}/{} on {}: {}",
        q.port,
        q.protocol,
        q.address,
        if v.bindable {
            "bindable"
        } else {
            "not bindable"
        }
    )?;
    for reason in &v.reasons {
        writeln!(out, "- {reason}")?;
    }
    Ok(())
}

fn write_verdict_json(out: &mut dyn Write, v: &Verdict, snapshot: &Snapshot) -> io::Result<()> {
    let registry = Registry::global();
    let blockers: Vec<SocketRecord> = v
        .blockers
        .iter()
        .map(|s| SocketRecord::new(s, snapshot, registry))
        .collect();
    let doc = serde_json::json!({
        "port": v.question.port,
        "protocol": v.question.protocol,
        "address": v.question.address,
        "bindable": v.bindable,
        "blockers": blockers,
        "reasons": v.reasons,
    });
    serde_json::to_writer_pretty(&mut *out, &doc).map_err(io::Error::from)?;
    out.write_all(b"\n")
}

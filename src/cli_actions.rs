//! `sockscope close` and `sockscope kill`: the window's two actions, for scripts and servers.
//!
//! Both sample the machine first and say exactly what they would do; nothing happens without `--yes`.
//! Exit codes: 0 done (or nothing to do), 1 when an action failed or was refused (one line each on
//! stderr), 2 for bad arguments.

use std::io::Write;

use crate::collector::actions::{Actions, EndSignal, close_refusal, end_refusal};
use crate::collector::{SocketSource, SystemSource, SystemSourceOptions};
use crate::model::compare::owners;
use crate::model::join::Joined;
use crate::model::snapshot::Snapshot;
use crate::model::socket::SocketEntry;
use crate::services::registry::Registry;
use crate::view::filter::{Filter, RowFacts};

/// How a close or kill run ended.
#[derive(Debug, PartialEq, Eq)]
pub enum ActOutcome {
    /// Everything asked for was done, or only listed.
    Done,
    /// At least one action failed or was refused; each was reported on stderr.
    Failed,
    /// The arguments make no sense; the reason was reported on stderr.
    BadArguments,
}

/// Why the command could not even start.
#[derive(Debug, thiserror::Error)]
#[error("cannot sample this machine: {0}")]
pub struct SampleError(#[from] crate::collector::CollectError);

/// The TCP connections of `snapshot` that `filter` keeps and that can be closed.
#[must_use]
pub fn connections_to_close<'s>(
    snapshot: &'s Snapshot,
    filter: &Filter,
    registry: &Registry,
) -> Vec<&'s SocketEntry> {
    let joined = Joined::of(snapshot, &[], None);
    snapshot
        .sockets
        .iter()
        .enumerate()
        .filter(|(i, s)| {
            joined.live(*i).is_some_and(|owners| {
                let facts = RowFacts {
                    owners,
                    host: snapshot.remote_host(s),
                    namespace: snapshot.namespace(s.netns),
                };
                filter.matches(s, facts, registry)
            })
        })
        .map(|(_, s)| s)
        .filter(|s| close_refusal(s).is_none())
        .collect()
}

/// Runs `sockscope close FILTER [--yes]` with `actions`, writing to `out` and `err`.
///
/// # Errors
/// When the machine cannot be sampled.
pub fn run_close(
    filter_text: &str,
    yes: bool,
    actions: &dyn Actions,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<ActOutcome, SampleError> {
    let filter = Filter::parse(filter_text);
    if let Some(hint) = filter.hint() {
        let _ = writeln!(err, "sockscope: bad filter {filter_text:?}: {hint}");
        return Ok(ActOutcome::BadArguments);
    }
    if filter.is_empty() {
        let _ = writeln!(
            err,
            "sockscope: give a filter (e.g. \"lport:5432\"); closing every connection is not offered"
        );
        return Ok(ActOutcome::BadArguments);
    }
    let snapshot = SystemSource::new(SystemSourceOptions::default()).sample()?;
    let chosen = connections_to_close(&snapshot, &filter, Registry::global());
    if !yes {
        for s in &chosen {
            let _ = writeln!(out, "would close {s} {}", owners(&snapshot, s));
        }
        let _ = writeln!(
            out,
            "# {} TCP connection(s) match; nothing was closed (add --yes to close them)",
            chosen.len()
        );
        return Ok(ActOutcome::Done);
    }
    let mut failed = false;
    for s in &chosen {
        match actions.close(s) {
            Ok(()) => {
                let _ = writeln!(out, "closed {s} {}", owners(&snapshot, s));
            }
            Err(failure) => {
                failed = true;
                let _ = writeln!(err, "sockscope: {failure}");
            }
        }
    }
    Ok(if failed {
        ActOutcome::Failed
    } else {
        ActOutcome::Done
    })
}

/// Runs `sockscope kill PID [--signal term|kill] [--yes]` with `actions`.
///
/// # Errors
/// When the machine cannot be sampled.
pub fn run_kill(
    pid: u32,
    signal: EndSignal,
    yes: bool,
    actions: &dyn Actions,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<ActOutcome, SampleError> {
    if let Some(refusal) = end_refusal(pid) {
        let _ = writeln!(err, "sockscope: {refusal}");
        return Ok(ActOutcome::Failed);
    }
    let snapshot = SystemSource::new(SystemSourceOptions::default()).sample()?;
    let sockets = snapshot
        .sockets
        .iter()
        .filter(|s| s.pids.contains(&pid))
        .count();
    let what = format!(
        "{} to {} (it holds {sockets} socket(s), which close with it unless another process shares them)",
        signal.name(),
        snapshot.process_label(pid)
    );
    if !yes {
        let _ = writeln!(
            out,
            "would send {what}; nothing was sent (add --yes to send it)"
        );
        return Ok(ActOutcome::Done);
    }
    match actions.end(pid, signal) {
        Ok(()) => {
            let _ = writeln!(out, "sent {what}");
            Ok(ActOutcome::Done)
        }
        Err(failure) => {
            let _ = writeln!(err, "sockscope: {failure}");
            Ok(ActOutcome::Failed)
        }
    }
}

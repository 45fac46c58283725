//! A comparison as text (one line per change, for people and `grep`) or JSON (for machines).

use std::io::Write;

use serde::Serialize;

use super::json::SocketRecord;
use crate::model::compare::{Comparison, owners};
use crate::model::snapshot::Snapshot;
use crate::services::registry::Registry;

/// Writes one line per change: `+` opened, `-` closed, `~` state changed, `*` owner of a port changed,
/// then a `#` summary line.
///
/// ```text
/// + tcp 0.0.0.0:8080 -> *:* LISTEN python3[4242]
/// - tcp 127.0.0.1:5432 -> 127.0.0.1:40112 ESTABLISHED postgres[812]
/// ~ tcp 127.0.0.1:40112 -> 127.0.0.1:5432 ESTABLISHED -> TIME_WAIT -
/// * port 80/tcp apache2[1] -> nginx[3]
/// ```
///
/// # Errors
/// Any write error.
pub fn write_text(
    out: &mut dyn Write,
    c: &Comparison,
    before: &Snapshot,
    after: &Snapshot,
) -> std::io::Result<()> {
    for s in &c.diff.opened {
        writeln!(out, "+ {s} {}", owners(after, s))?;
    }
    for s in &c.diff.closed {
        writeln!(out, "- {s} {}", owners(before, s))?;
    }
    for ch in &c.diff.changed {
        let or_dash = |s: &'static str| if s.is_empty() { "-" } else { s };
        let from = or_dash(ch.from.as_str());
        let to = or_dash(ch.socket.state.as_str());
        writeln!(
            out,
            "~ {} {from} -> {to} {}",
            ch.socket.tuple(),
            owners(after, &ch.socket)
        )?;
    }
    for o in &c.owner_changes {
        writeln!(
            out,
            "* port {}/{} {} -> {}",
            o.port, o.protocol, o.before, o.after
        )?;
    }
    writeln!(
        out,
        "# {} opened, {} closed, {} changed; {} new listeners, {} vanished listeners, {} owner changes",
        c.diff.opened.len(),
        c.diff.closed.len(),
        c.diff.changed.len(),
        c.new_listeners.len(),
        c.vanished_listeners.len(),
        c.owner_changes.len()
    )
}

#[derive(Serialize)]
struct ChangedRecord {
    socket: SocketRecord,
    from: Option<&'static str>,
}

#[derive(Serialize)]
struct OwnerRecord<'a> {
    protocol: &'static str,
    port: u16,
    before: &'a str,
    after: &'a str,
}

#[derive(Serialize)]
struct ComparisonFile<'a> {
    format: &'static str,
    version: u32,
    before: Meta<'a>,
    after: Meta<'a>,
    opened: Vec<SocketRecord>,
    closed: Vec<SocketRecord>,
    changed: Vec<ChangedRecord>,
    new_listeners: Vec<SocketRecord>,
    vanished_listeners: Vec<SocketRecord>,
    owner_changes: Vec<OwnerRecord<'a>>,
}

#[derive(Serialize)]
struct Meta<'a> {
    host: &'a str,
    taken_at: chrono::DateTime<chrono::Utc>,
}

/// The value of a comparison file's `format` field.
pub const COMPARISON_FORMAT: &str = "sockscope-diff";

/// Writes the comparison as JSON (`"format": "sockscope-diff", "version": 1`), sockets in the snapshot
/// format's socket form.
///
/// # Errors
/// Any write error.
pub fn write_json(
    out: &mut dyn Write,
    c: &Comparison,
    before: &Snapshot,
    after: &Snapshot,
    registry: &Registry,
) -> std::io::Result<()> {
    let records =
        |snap: &Snapshot, sockets: &[crate::model::socket::SocketEntry]| -> Vec<SocketRecord> {
            sockets
                .iter()
                .map(|s| SocketRecord::new(s, snap, registry))
                .collect()
        };
    let changed = c
        .diff
        .changed
        .iter()
        .map(|ch| ChangedRecord {
            socket: SocketRecord::new(&ch.socket, after, registry),
            from: Some(ch.from.as_str()).filter(|s| !s.is_empty()),
        })
        .collect();
    let file = ComparisonFile {
        format: COMPARISON_FORMAT,
        version: 1,
        before: Meta {
            host: &before.host,
            taken_at: before.taken_at,
        },
        after: Meta {
            host: &after.host,
            taken_at: after.taken_at,
        },
        opened: records(after, &c.diff.opened),
        closed: records(before, &c.diff.closed),
        changed,
        new_listeners: records(after, &c.new_listeners),
        vanished_listeners: records(before, &c.vanished_listeners),
        owner_changes: c
            .owner_changes
            .iter()
            .map(|o| OwnerRecord {
                protocol: o.protocol.as_str(),
                port: o.port,
                before: &o.before,
                after: &o.after,
            })
            .collect(),
    };
    serde_json::to_writer_pretty(&mut *out, &file).map_err(std::io::Error::from)?;
    out.write_all(b"\n")
}

//! A comparison as text (one line per change, for people and `grep`) or JSON (for machines).

use std::io::Write;

use serde::Serialize;

use super::json::SocketRecord;
use crate::model::compare::{
    Comparison, in_namespace, owner_change_line, owners, socket_line, unix_line,
};
use crate::model::snapshot::Snapshot;
use crate::model::unix::UnixSocket;
use crate::services::registry::Registry;

/// Writes one line per change: `+` opened, `-` closed, `~` state changed, `*` owner of a port changed,
/// then a `# note:` line per thing not compared, then a `#` summary line.
///
/// ```text
/// + tcp 0.0.0.0:8080 -> *:* LISTEN python3[4242]
/// + tcp 0.0.0.0:80 -> *:* LISTEN nginx[5120] in docker 3f2a1b9c8d7e
/// - tcp 127.0.0.1:5432 -> 127.0.0.1:40112 ESTABLISHED postgres[812]
/// ~ tcp 127.0.0.1:40112 -> 127.0.0.1:5432 ESTABLISHED -> TIME_WAIT -
/// * port 80/tcp apache2[1] -> nginx[3]
/// + unix stream /run/app.sock #7001 LISTEN app[9]
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
        writeln!(out, "{}", socket_line('+', s, after))?;
    }
    for s in &c.diff.closed {
        writeln!(out, "{}", socket_line('-', s, before))?;
    }
    for ch in &c.diff.changed {
        let or_dash = |s: &'static str| if s.is_empty() { "-" } else { s };
        let from = or_dash(ch.from.as_str());
        let to = or_dash(ch.socket.state.as_str());
        writeln!(
            out,
            "~ {} {from} -> {to} {}{}",
            ch.socket.tuple(),
            owners(after, &ch.socket),
            in_namespace(after, ch.socket.netns)
        )?;
    }
    for o in &c.owner_changes {
        writeln!(out, "{}", owner_change_line(o, after))?;
    }
    for u in &c.unix_opened {
        writeln!(out, "{}", unix_line('+', u, after))?;
    }
    for u in &c.unix_closed {
        writeln!(out, "{}", unix_line('-', u, before))?;
    }
    for note in &c.notes {
        writeln!(out, "# note: {note}")?;
    }
    writeln!(
        out,
        "# {} opened, {} closed, {} changed; {} new listeners, {} vanished listeners, {} owner changes; \
         {} Unix sockets opened, {} closed",
        c.diff.opened.len(),
        c.diff.closed.len(),
        c.diff.changed.len(),
        c.new_listeners.len(),
        c.vanished_listeners.len(),
        c.owner_changes.len(),
        c.unix_opened.len(),
        c.unix_closed.len()
    )
}

#[derive(Serialize)]
struct ChangedRecord {
    socket: SocketRecord,
    from: Option<&'static str>,
}

#[derive(Serialize)]
struct OwnerRecord<'a> {
    netns: Option<u64>,
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
    unix_opened: &'a [UnixSocket],
    unix_closed: &'a [UnixSocket],
    notes: &'a [String],
}

#[derive(Serialize)]
struct Meta<'a> {
    host: &'a str,
    taken_at: chrono::DateTime<chrono::Utc>,
}

/// The value of a comparison file's `format` field.
pub const COMPARISON_FORMAT: &str = "sockscope-diff";
/// The version written: 2 added `netns` to owner changes, `unix_opened`, `unix_closed` and `notes`.
pub const COMPARISON_VERSION: u32 = 2;

/// Writes the comparison as JSON (`"format": "sockscope-diff", "version": 2`), sockets in the snapshot
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
        version: COMPARISON_VERSION,
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
                netns: o.netns,
                protocol: o.protocol.as_str(),
                port: o.port,
                before: &o.before,
                after: &o.after,
            })
            .collect(),
        unix_opened: &c.unix_opened,
        unix_closed: &c.unix_closed,
        notes: &c.notes,
    };
    serde_json::to_writer_pretty(&mut *out, &file).map_err(std::io::Error::from)?;
    out.write_all(b"\n")
}

//! A self-contained HTML report: tables of sockets and listening ports with their explanations, inline
//! CSS, no scripts, no external assets, readable in any browser.

use std::fmt::Write as _;
use std::io::Write;

use crate::model::compare::in_namespace;
use crate::model::join::Joined;
use crate::model::ports::PortsIndex;
use crate::model::snapshot::Snapshot;
use crate::model::unix::UnixLinks;
use crate::services::explain::Explainer;
use crate::services::registry::Registry;

/// Escapes text for HTML element content and attribute values.
#[must_use]
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "body{font:14px system-ui,sans-serif;margin:2em;color:#1b1f24;background:#fff}\
h1{font-size:1.5em}h2{margin-top:2em}table{border-collapse:collapse;width:100%}\
th,td{border-bottom:1px solid #d0d7de;padding:4px 8px;text-align:left;vertical-align:top}\
th{background:#f3f5f7}td.n{text-align:right;font-variant-numeric:tabular-nums}code{font-size:.95em}\
.note{color:#57606a}@media(prefers-color-scheme:dark){body{background:#0d1117;color:#e6edf3}\
th{background:#161b22}th,td{border-color:#30363d}.note{color:#8b949e}}";

/// Writes the report of `snapshot`.
///
/// # Errors
/// Any write error.
pub fn write_html(
    out: &mut dyn Write,
    snapshot: &Snapshot,
    registry: &Registry,
) -> std::io::Result<()> {
    write_html_of(out, snapshot, None, registry)
}

/// [`write_html`] of `snapshot`; when it holds only the sockets a filter kept, `whole` is the sample
/// they were taken from, so a socket's port counts as served when a listener of `whole` holds it,
/// though the filter left the listener out.
///
/// # Errors
/// Any write error.
pub fn write_html_of(
    out: &mut dyn Write,
    snapshot: &Snapshot,
    whole: Option<&Snapshot>,
    registry: &Registry,
) -> std::io::Result<()> {
    let ports = PortsIndex::build(snapshot);
    let whole_ports = whole.map(|w| (w, PortsIndex::build(w)));
    let served = match &whole_ports {
        Some((whole, ports)) => Served {
            snapshot: whole,
            ports,
        },
        None => Served {
            snapshot,
            ports: &ports,
        },
    };
    let mut h = String::with_capacity(256 * snapshot.sockets.len() + 4096);
    header(&mut h, snapshot, &ports);
    ports_table(&mut h, snapshot, &ports, registry);
    sockets_table(&mut h, snapshot, &served, registry);
    unix_section(&mut h, snapshot);
    let _ = writeln!(
        h,
        "</table><p class=\"note\">Made by Sockscope. Service names: {}.</p></body></html>",
        registry.sources()
    );
    out.write_all(h.as_bytes())
}

/// The document head and the summary: host, time, counts, the ephemeral range, and what a port and a
/// socket are.
fn header(h: &mut String, snapshot: &Snapshot, ports: &PortsIndex) {
    let range = snapshot.ephemeral_range_or_default();
    let _ = write!(
        h,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Sockscope — {host}</title>\
         <style>{STYLE}</style></head><body><h1>Sockscope report: {host}</h1>\
         <p>Taken {time} (UTC). {n} TCP/UDP sockets, {p} ports in use, {unix} Unix sockets, {procs} processes. Ephemeral port range {lo}–{hi}{note}.</p>\
         <p class=\"note\">A <b>port</b> is a 16-bit number in the TCP or the UDP number space of a host; a <b>socket</b> \
         is an endpoint the kernel keeps for a program (sometimes for itself alone: TIME_WAIT, not yet accepted); a \
         connected socket is identified by its 5-tuple, a listener or unconnected UDP socket by its local address \
         and port. One port can carry many sockets.</p>",
        host = escape(&snapshot.host),
        time = snapshot.taken_at.format("%Y-%m-%d %H:%M:%S"),
        n = snapshot.sockets.len(),
        p = ports.ports().len(),
        unix = snapshot.unix_sockets.len(),
        procs = snapshot.processes.len(),
        lo = range.low,
        hi = range.high,
        note = escape(snapshot.ephemeral_range_known().note()),
    );
}

/// The table of ports that take new peers, each with the inspector's explanation of its port.
fn ports_table(h: &mut String, snapshot: &Snapshot, ports: &PortsIndex, registry: &Registry) {
    h.push_str("<h2>Listening TCP ports and open UDP ports</h2><table><tr><th>Port</th><th>Service</th><th>Class</th><th>Exposure</th><th>Sockets</th><th>Explanation</th></tr>");
    for usage in ports.ports() {
        let (Some(exposure), Some(listener)) = (
            usage.exposure(),
            usage
                .sockets
                .iter()
                .filter_map(|i| snapshot.sockets.get(*i))
                .find(|s| s.takes_new_peers()),
        ) else {
            continue;
        };
        let lines = Explainer::new(snapshot, ports, registry)
            .for_socket(listener)
            .port(listener);
        let explanation: Vec<String> = lines
            .iter()
            .map(|l| format!("<b>{}</b>: {}", escape(l.label), escape(&l.meaning)))
            .collect();
        let _ = write!(
            h,
            "<tr><td class=\"n\">{}/{}{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            usage.port,
            usage.protocol,
            escape(&in_namespace(snapshot, usage.netns)),
            escape(registry.name(usage.port, usage.protocol)),
            usage.class(),
            exposure.badge(),
            escape(&usage.state_summary()),
            explanation.join("<br>")
        );
    }
}

/// The sample a report's sockets were taken from, with its port index: what tells a port the kernel
/// picked.
struct Served<'a> {
    snapshot: &'a Snapshot,
    ports: &'a PortsIndex,
}

/// The table of every socket with its owners. It closes the ports table before it; the Unix section or
/// the footer closes it.
fn sockets_table(h: &mut String, snapshot: &Snapshot, served: &Served<'_>, registry: &Registry) {
    h.push_str("</table><h2>Sockets</h2><table><tr><th>Proto</th><th>Local</th><th>Remote</th><th>State</th><th>PID</th><th>Process</th><th>User</th><th>Service</th></tr>");
    let joined = Joined::of(snapshot, &[], None);
    for (i, s) in snapshot.sockets.iter().enumerate() {
        let owners = joined.live(i).cloned().unwrap_or_default();
        let remote = match (s.remote, s.peer()) {
            (None, _) => String::new(),
            (Some(_), None) => "*".to_owned(),
            (Some(_), Some(p)) => p.to_string(),
        };
        let pids: Vec<String> = s.pids.iter().map(u32::to_string).collect();
        let process = if s.pids.is_empty() {
            s.owner_note.map_or(String::new(), |n| {
                format!(
                    "<span class=\"note\" title=\"{}\">{}</span>",
                    escape(n.sentence()),
                    escape(n.label())
                )
            })
        } else {
            escape(&owners.process)
        };
        let _ = write!(
            h,
            "<tr><td>{}</td><td><code>{}</code>{}</td><td><code>{}</code></td><td>{}</td><td class=\"n\">{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            s.protocol,
            escape(&s.local.to_string()),
            escape(&in_namespace(snapshot, s.netns)),
            escape(&remote),
            s.state.as_str(),
            pids.join(" "),
            process,
            escape(owners.user.as_deref().unwrap_or("")),
            escape(registry.local_service(s, served.ports.kernel_picked(served.snapshot, s)))
        );
    }
}

/// Who talks to whom over Unix sockets, and every Unix socket with its owners, when there are any. It
/// closes the sockets table before it; the footer closes its own.
fn unix_section(h: &mut String, snapshot: &Snapshot) {
    let list = &snapshot.unix_sockets;
    if list.is_empty() {
        return;
    }
    let links = UnixLinks::of(snapshot);
    h.push_str(
        "</table><h2>Unix domain sockets</h2><p class=\"note\">A Unix socket has a name (a path in the file \
         system, or <code>@name</code> in the abstract namespace) or none; never a port. Its socket \
         inode (not the inode of the file at its path) identifies it; a connected one names its peer's.</p><h3>Who talks to whom</h3><ul>",
    );
    for pair in links.pairs(list, &vec![true; list.len()]) {
        let via = pair.name.as_deref().map_or_else(
            || "an unnamed pair".to_owned(),
            |name| format!("<code>{}</code>", escape(name)),
        );
        let _ = write!(
            h,
            "<li>{} ⇄ {} via {via}: {} connection{}</li>",
            escape(&pair.one),
            escape(&pair.other),
            pair.connections,
            if pair.connections == 1 { "" } else { "s" }
        );
    }
    h.push_str("</ul><table><tr><th>Type</th><th>State</th><th>Name</th><th>Inode</th><th>Peer</th><th>Processes</th><th>User</th></tr>");
    for (u, owners) in list.iter().zip(links.owners()) {
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td><code>{}</code>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td>{}</td><td>{}</td></tr>",
            u.kind.as_str(),
            u.state.as_str(),
            escape(u.path.as_deref().unwrap_or("")),
            escape(&in_namespace(snapshot, u.netns)),
            u.inode,
            u.peer_inode.map(|p| p.to_string()).unwrap_or_default(),
            if u.pids.is_empty() {
                String::new()
            } else {
                escape(owners)
            },
            escape(
                u.uid
                    .and_then(|uid| snapshot.users.get(&uid))
                    .map_or("", String::as_str)
            )
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup() {
        assert_eq!(
            escape("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
    }
}

//! Two snapshots compared: sockets opened, closed and changed, listeners that appeared or vanished,
//! ports whose owning process changed (a deploy that swapped the server behind a port), and Unix domain
//! sockets opened and closed.
//!
//! A file written before Sockscope recorded network namespaces (format version 3 or older) held one
//! namespace's sockets; compared with a newer one, only the newer one's host namespace is compared, and
//! a note says so, rather than calling every container socket new.

use std::borrow::Cow;
use std::collections::BTreeMap;

use super::FastSet;
use super::diff::SnapshotDiff;
use super::ports::PortKey;
use super::snapshot::Snapshot;
use super::socket::{Protocol, SocketEntry};
use super::unix::UnixSocket;

/// A listening port whose owner differs between the two snapshots.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OwnerChange {
    /// The network namespace (`None` where not recorded).
    pub netns: Option<u64>,
    /// Number space.
    pub protocol: Protocol,
    /// The port.
    pub port: u16,
    /// Owner(s) before, as `name[pid]`.
    pub before: String,
    /// Owner(s) after.
    pub after: String,
}

/// Everything that changed from `before` to `after`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Comparison {
    /// Sockets opened, closed and changed.
    pub diff: SnapshotDiff,
    /// Listeners present only in `after`.
    pub new_listeners: Vec<SocketEntry>,
    /// Listeners present only in `before`.
    pub vanished_listeners: Vec<SocketEntry>,
    /// Listening ports whose owning processes differ.
    pub owner_changes: Vec<OwnerChange>,
    /// Unix domain sockets present only in `after`.
    pub unix_opened: Vec<UnixSocket>,
    /// Unix domain sockets present only in `before`.
    pub unix_closed: Vec<UnixSocket>,
    /// What could not be compared, and why.
    pub notes: Vec<String>,
}

/// `name[pid]` for each owner of `socket`, or `-` when none is known.
#[must_use]
pub fn owners(snapshot: &Snapshot, socket: &SocketEntry) -> String {
    owners_of(snapshot, &socket.pids)
}

/// `name[pid]` for each of `pids`, or `-` when there are none.
#[must_use]
pub fn owners_of(snapshot: &Snapshot, pids: &[u32]) -> String {
    if pids.is_empty() {
        return "-".to_owned();
    }
    let names: Vec<String> = pids
        .iter()
        .map(|pid| snapshot.process_label(*pid))
        .collect();
    names.join(",")
}

/// ` in docker 3f2a1b9c8d7e` for a namespace other than the host's, when `snapshot` spans several;
/// empty otherwise.
#[must_use]
pub fn in_namespace(snapshot: &Snapshot, netns: Option<u64>) -> String {
    let host = snapshot.namespace(netns).is_some_and(|n| n.host);
    if snapshot.spans_namespaces() && !host {
        format!(" in {}", snapshot.namespace_label(netns))
    } else {
        String::new()
    }
}

/// One opened or closed socket as lists show it: `+ tcp 0.0.0.0:80 -> *:* LISTEN nginx[3]`, with the
/// namespace when it is not the host's.
#[must_use]
pub fn socket_line(prefix: char, socket: &SocketEntry, snapshot: &Snapshot) -> String {
    format!(
        "{prefix} {socket} {}{}",
        owners(snapshot, socket),
        in_namespace(snapshot, socket.netns)
    )
}

/// One opened or closed Unix socket as lists show it: `+ unix stream /run/app.sock #7001 LISTEN app[9]`.
#[must_use]
pub fn unix_line(prefix: char, socket: &UnixSocket, snapshot: &Snapshot) -> String {
    format!(
        "{prefix} {socket} {}{}",
        owners_of(snapshot, &socket.pids),
        in_namespace(snapshot, socket.netns)
    )
}

/// `* port 80/tcp apache2[1] -> nginx[3]`.
#[must_use]
pub fn owner_change_line(change: &OwnerChange, after: &Snapshot) -> String {
    format!(
        "* port {}/{}{} {} -> {}",
        change.port,
        change.protocol,
        in_namespace(after, change.netns),
        change.before,
        change.after
    )
}

/// Listening port → owner text; UDP sockets count as listeners of their port.
fn listener_owners(snapshot: &Snapshot) -> BTreeMap<PortKey, String> {
    let mut map: BTreeMap<PortKey, Vec<String>> = BTreeMap::new();
    for s in snapshot
        .sockets
        .iter()
        .filter(|s| s.is_listener() || s.protocol == Protocol::Udp)
    {
        map.entry(PortKey::of(s))
            .or_default()
            .push(owners(snapshot, s));
    }
    map.into_iter()
        .map(|(k, mut v)| {
            v.sort();
            v.dedup();
            (k, v.join(","))
        })
        .collect()
}

impl Comparison {
    /// Compares `before` with `after`.
    #[must_use]
    pub fn between(before: &Snapshot, after: &Snapshot) -> Self {
        let mut notes = Vec::new();
        let (before, after) = aligned(before, after, &mut notes);
        let (before, after) = (before.as_ref(), after.as_ref());
        let diff = SnapshotDiff::between(before, after);
        let (unix_opened, unix_closed) = unix_changes(before, after, &mut notes);
        let new_listeners = diff
            .opened
            .iter()
            .filter(|s| s.is_listener())
            .cloned()
            .collect();
        let vanished_listeners = diff
            .closed
            .iter()
            .filter(|s| s.is_listener())
            .cloned()
            .collect();
        let (old, new) = (listener_owners(before), listener_owners(after));
        let owner_changes = old
            .iter()
            .filter_map(|(key, was)| {
                let now = new.get(key)?;
                // Unknown owners on either side (no permission) are not a change.
                (was != now && was != "-" && now != "-").then(|| OwnerChange {
                    netns: key.netns,
                    protocol: key.protocol,
                    port: key.port,
                    before: was.clone(),
                    after: now.clone(),
                })
            })
            .collect();
        Self {
            diff,
            new_listeners,
            vanished_listeners,
            owner_changes,
            unix_opened,
            unix_closed,
            notes,
        }
    }

    /// True when nothing changed.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.diff.is_empty()
            && self.owner_changes.is_empty()
            && self.unix_opened.is_empty()
            && self.unix_closed.is_empty()
    }
}

/// The two snapshots as they can be compared: when only one recorded network namespaces, that one
/// reduced to its host namespace, unlabelled, as the older format held it.
fn aligned<'a>(
    before: &'a Snapshot,
    after: &'a Snapshot,
    notes: &mut Vec<String>,
) -> (Cow<'a, Snapshot>, Cow<'a, Snapshot>) {
    match (before.namespaces.is_empty(), after.namespaces.is_empty()) {
        (true, false) => {
            let (host, left_out) = host_only(after);
            notes.push(unrecorded_note("before", "after", left_out));
            (Cow::Borrowed(before), Cow::Owned(host))
        }
        (false, true) => {
            let (host, left_out) = host_only(before);
            notes.push(unrecorded_note("after", "before", left_out));
            (Cow::Owned(host), Cow::Borrowed(after))
        }
        _ => (Cow::Borrowed(before), Cow::Borrowed(after)),
    }
}

fn unrecorded_note(old: &str, new: &str, left_out: usize) -> String {
    format!(
        "{old} recorded no network namespaces (a file of format version 3 or older): only the host \
         namespace of {new} is compared, and {left_out} sockets in other namespaces are left out"
    )
}

/// `snapshot`'s host namespace alone, with no namespace labels, and how many sockets were left out.
/// When no namespace is known to be the host's, every socket stays.
fn host_only(snapshot: &Snapshot) -> (Snapshot, usize) {
    let host = snapshot
        .namespaces
        .values()
        .find(|n| n.host)
        .map(|n| n.inode);
    let keep = |netns: Option<u64>| host.is_none() || netns == host;
    let mut out = snapshot.clone();
    out.sockets.retain(|s| keep(s.netns));
    out.unix_sockets.retain(|u| keep(u.netns));
    let left_out = snapshot.sockets.len() + snapshot.unix_sockets.len()
        - out.sockets.len()
        - out.unix_sockets.len();
    for s in &mut out.sockets {
        s.netns = None;
    }
    for u in &mut out.unix_sockets {
        u.netns = None;
    }
    out.namespaces.clear();
    (out, left_out)
}

/// Unix sockets only in `after`, and only in `before`, by [`UnixSocket::key`]. When one side lists
/// none (a file before version 3, or a kernel that refused unix_diag) they are not compared: every
/// socket would look new.
fn unix_changes(
    before: &Snapshot,
    after: &Snapshot,
    notes: &mut Vec<String>,
) -> (Vec<UnixSocket>, Vec<UnixSocket>) {
    let (b, a) = (&before.unix_sockets, &after.unix_sockets);
    if b.is_empty() != a.is_empty() {
        let side = if b.is_empty() { "before" } else { "after" };
        notes.push(format!(
            "Unix domain sockets are not compared: {side} lists none (a file older than format \
             version 3, or a kernel that refused unix_diag)"
        ));
        return (Vec::new(), Vec::new());
    }
    let keys = |list: &[UnixSocket]| list.iter().map(UnixSocket::key).collect::<FastSet<_>>();
    let (in_before, in_after) = (keys(b), keys(a));
    let opened = a
        .iter()
        .filter(|u| !in_before.contains(&u.key()))
        .cloned()
        .collect();
    let closed = b
        .iter()
        .filter(|u| !in_after.contains(&u.key()))
        .cloned()
        .collect();
    (opened, closed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::snapshot::ProcessInfo;
    use crate::model::socket::TcpState;
    use chrono::Utc;

    fn listen(port: u16, pid: u32, inode: u32) -> SocketEntry {
        SocketEntry::tcp(
            format!("0.0.0.0:{port}").parse().unwrap(),
            "0.0.0.0:0".parse().unwrap(),
            TcpState::Listen,
        )
        .with_inode(inode)
        .with_pids(vec![pid])
    }

    fn snap(sockets: Vec<SocketEntry>, procs: &[(u32, &str)]) -> Snapshot {
        let mut s = Snapshot::empty("h", Utc::now());
        s.sockets = sockets;
        for (pid, name) in procs {
            s.processes.insert(*pid, ProcessInfo::named(*pid, *name));
        }
        s
    }

    #[test]
    fn finds_new_vanished_listeners_and_owner_swaps() {
        let a = snap(
            vec![listen(80, 1, 10), listen(22, 2, 11)],
            &[(1, "apache2"), (2, "sshd")],
        );
        let b = snap(
            vec![listen(80, 3, 12), listen(8080, 4, 13)],
            &[(3, "nginx"), (4, "python3")],
        );
        let c = Comparison::between(&a, &b);
        assert_eq!(
            c.new_listeners
                .iter()
                .map(|s| s.local.port())
                .collect::<Vec<_>>(),
            [80, 8080]
        );
        assert_eq!(
            c.vanished_listeners
                .iter()
                .map(|s| s.local.port())
                .collect::<Vec<_>>(),
            [80, 22]
        );
        assert_eq!(
            c.owner_changes,
            vec![OwnerChange {
                netns: None,
                protocol: Protocol::Tcp,
                port: 80,
                before: "apache2[1]".into(),
                after: "nginx[3]".into()
            }]
        );
        assert!(Comparison::between(&a, &a).is_empty());
    }

    fn unix(inode: u32, path: Option<&str>) -> UnixSocket {
        UnixSocket::stream(inode, None, path, vec![9])
    }

    fn namespaced(mut snap: Snapshot) -> Snapshot {
        use crate::model::netns::NetNamespace;
        for (inode, host, container) in [(1, true, None), (2, false, Some("lxc web1"))] {
            snap.namespaces
                .insert(inode, NetNamespace::listed(inode, host, container));
        }
        snap
    }

    #[test]
    fn unix_sockets_opened_and_closed_by_inode() {
        let mut a = snap(vec![], &[(9, "app")]);
        a.unix_sockets = vec![unix(1, Some("/run/a.sock")), unix(2, None)];
        let mut b = a.clone();
        b.unix_sockets = vec![unix(2, None), unix(3, Some("/run/a.sock"))];
        let c = Comparison::between(&a, &b);
        assert_eq!(c.unix_opened, vec![unix(3, Some("/run/a.sock"))]);
        assert_eq!(c.unix_closed, vec![unix(1, Some("/run/a.sock"))]);
        assert_eq!(
            unix_line('+', &c.unix_opened[0], &b),
            "+ unix stream /run/a.sock #3 LISTEN app[9]"
        );
        // A side that lists none is not compared, and says why.
        let none = snap(vec![], &[]);
        let c = Comparison::between(&none, &b);
        assert!(c.unix_opened.is_empty() && c.is_empty());
        assert_eq!(c.notes.len(), 1, "{:?}", c.notes);
    }

    #[test]
    fn the_same_listener_in_two_namespaces_is_two_sockets() {
        let host = listen(80, 1, 10).with_netns(1);
        let inside = listen(80, 3, 12).with_netns(2);
        let a = namespaced(snap(vec![host.clone()], &[(1, "apache2"), (3, "nginx")]));
        let b = namespaced(snap(vec![host, inside], &[(1, "apache2"), (3, "nginx")]));
        let c = Comparison::between(&a, &b);
        assert_eq!(c.new_listeners.len(), 1);
        assert!(c.owner_changes.is_empty(), "{:?}", c.owner_changes);
        assert_eq!(
            socket_line('+', &c.new_listeners[0], &b),
            "+ tcp 0.0.0.0:80 -> *:* LISTEN nginx[3] in lxc web1"
        );
    }

    #[test]
    fn a_file_without_namespaces_is_compared_with_the_host_namespace_only() {
        let old = snap(vec![listen(80, 1, 10)], &[(1, "apache2")]);
        let new = namespaced(snap(
            vec![
                listen(80, 1, 10).with_netns(1),
                listen(80, 3, 12).with_netns(2),
            ],
            &[(1, "apache2"), (3, "nginx")],
        ));
        let c = Comparison::between(&old, &new);
        assert!(c.is_empty(), "{c:?}");
        assert_eq!(
            c.notes,
            vec![
                "before recorded no network namespaces (a file of format version 3 or older): only \
                 the host namespace of after is compared, and 1 sockets in other namespaces are left \
                 out"
            ]
        );
    }
}

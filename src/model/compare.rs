//! Two snapshots compared: sockets opened, closed and changed, listeners that appeared or vanished, and
//! ports whose owning process changed (a deploy that swapped the server behind a port).

use std::collections::BTreeMap;

use super::diff::SnapshotDiff;
use super::snapshot::Snapshot;
use super::socket::{Protocol, SocketEntry};

/// A listening port whose owner differs between the two snapshots.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OwnerChange {
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
}

/// `name[pid]` for each owner of `socket`, or `-` when none is known.
#[must_use]
pub fn owners(snapshot: &Snapshot, socket: &SocketEntry) -> String {
    if socket.pids.is_empty() {
        return "-".to_owned();
    }
    let names: Vec<String> = socket
        .pids
        .iter()
        .map(|pid| snapshot.process_label(*pid))
        .collect();
    names.join(",")
}

/// Listening (protocol, port) → owner text; UDP sockets count as listeners of their port.
fn listener_owners(snapshot: &Snapshot) -> BTreeMap<(Protocol, u16), String> {
    let mut map: BTreeMap<(Protocol, u16), Vec<String>> = BTreeMap::new();
    for s in snapshot
        .sockets
        .iter()
        .filter(|s| s.is_listener() || s.protocol == Protocol::Udp)
    {
        map.entry((s.protocol, s.local.port()))
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
        let diff = SnapshotDiff::between(before, after);
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
                    protocol: key.0,
                    port: key.1,
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
        }
    }

    /// True when nothing changed.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.diff.is_empty() && self.owner_changes.is_empty()
    }
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
            s.processes.insert(
                *pid,
                ProcessInfo {
                    pid: *pid,
                    name: (*name).into(),
                    user: None,
                    exe: None,
                    cmdline: None,
                },
            );
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
                protocol: Protocol::Tcp,
                port: 80,
                before: "apache2[1]".into(),
                after: "nginx[3]".into()
            }]
        );
        assert!(Comparison::between(&a, &a).is_empty());
    }
}

//! What the Unix view draws: the machine's Unix domain sockets that pass the filter, and who talks to
//! whom through them: each connected pair, joined by the peer inode the kernel reports, folded into
//! one line per (process, process, name). Computed with the other views on the store thread.

use std::cmp::Ordering;

use serde::{Deserialize, Serialize};

use super::filter::{Filter, UnixFacts};
use crate::model::snapshot::Snapshot;
pub use crate::model::unix::UnixPair;
use crate::model::unix::{UnixLinks, UnixSocket, UnixState};

/// A sortable column of the Unix sockets table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum UnixColumn {
    /// stream, dgram, seqpacket.
    Type,
    /// LISTEN, CONNECTED, …
    State,
    /// The path or `@abstract` name.
    Name,
    /// The socket's inode.
    Inode,
    /// The peer's inode.
    Peer,
    /// Who holds the other end.
    PeerProcess,
    /// Who holds this end.
    Process,
    /// The user that created it.
    User,
    /// Recv-Q.
    RecvQueue,
    /// Send-Q.
    SendQueue,
    /// The network namespace's label.
    Namespace,
}

/// The order of the Unix sockets table: by a column, or (no column) listeners first, then by name.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct UnixSort {
    /// Column sorted by; `None` for listeners first, then by name and inode.
    pub column: Option<UnixColumn>,
    /// Ascending when true.
    pub ascending: bool,
}

impl UnixSort {
    /// The sort after clicking `column`'s header: ascending first, then toggling.
    #[must_use]
    pub fn clicked(self, column: UnixColumn) -> Self {
        Self {
            column: Some(column),
            ascending: self.column != Some(column) || !self.ascending,
        }
    }
}

/// The Unix view's content.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UnixView {
    /// Indexes into the snapshot's `unix_sockets` that pass the filter: listeners first, then by name,
    /// then by inode.
    pub rows: Vec<usize>,
    /// Who talks to whom, most connections first; a pair is kept when either end passes the filter.
    pub pairs: Vec<UnixPair>,
    /// The sockets linked by peer inode, with their owners.
    links: UnixLinks,
}

impl UnixView {
    /// Computes the view of `snapshot`'s Unix sockets under `filter`, rows in `sort` order.
    #[must_use]
    pub fn compute(snapshot: &Snapshot, filter: &Filter, sort: UnixSort) -> Self {
        let list = &snapshot.unix_sockets;
        let links = UnixLinks::of(snapshot);
        let kept: Vec<bool> = list
            .iter()
            .zip(links.owners())
            .map(|(u, owner)| {
                let owners_lower = owner.to_lowercase();
                let user_lower = u
                    .uid
                    .and_then(|uid| snapshot.users.get(&uid))
                    .map(|n| n.to_lowercase());
                filter.is_empty()
                    || filter.matches_unix(
                        u,
                        UnixFacts {
                            owners_lower: &owners_lower,
                            user_lower: user_lower.as_deref(),
                            namespace: snapshot.namespace(u.netns),
                        },
                    )
            })
            .collect();
        let mut rows: Vec<usize> = (0..list.len()).filter(|i| kept[*i]).collect();
        let keys = SortKeys {
            snapshot,
            links: &links,
        };
        rows.sort_by(|a, b| {
            let order = keys.compare(sort.column, *a, *b);
            let order = if sort.ascending || sort.column.is_none() {
                order
            } else {
                order.reverse()
            };
            // Ties by inode, so the order is stable from sample to sample.
            order.then(list[*a].key().cmp(&list[*b].key()))
        });
        let pairs = links.pairs(list, &kept);
        Self { rows, pairs, links }
    }

    /// The index of `u`'s peer in the same snapshot, when it is connected and its peer was listed.
    #[must_use]
    pub fn peer_of(&self, u: &UnixSocket) -> Option<usize> {
        self.links.peer_of(u)
    }
}

/// What the rows are sorted by: the sockets, their owners as the table shows them, and their peers.
struct SortKeys<'a> {
    snapshot: &'a Snapshot,
    links: &'a UnixLinks,
}

impl SortKeys<'_> {
    /// Socket `a` against socket `b` (indexes into the snapshot's `unix_sockets`) by `column`.
    fn compare(&self, column: Option<UnixColumn>, a: usize, b: usize) -> Ordering {
        let list = &self.snapshot.unix_sockets;
        let (x, y) = (&list[a], &list[b]);
        // As the cells show them: a socket no process holds has an empty cell, so it sorts first.
        let owner = |i: usize| (!list[i].pids.is_empty()).then(|| self.links.owners()[i].as_str());
        let peer_owner = |u: &UnixSocket| self.links.peer_of(u).and_then(owner);
        let user = |u: &UnixSocket| u.uid.and_then(|uid| self.snapshot.users.get(&uid));
        match column {
            None => (x.state != UnixState::Listen, &x.path)
                .cmp(&(y.state != UnixState::Listen, &y.path)),
            Some(UnixColumn::Type) => x.kind.as_str().cmp(y.kind.as_str()),
            Some(UnixColumn::State) => x.state.as_str().cmp(y.state.as_str()),
            Some(UnixColumn::Name) => x.path.cmp(&y.path),
            Some(UnixColumn::Inode) => x.inode.cmp(&y.inode),
            Some(UnixColumn::Peer) => x.peer_inode.cmp(&y.peer_inode),
            Some(UnixColumn::PeerProcess) => peer_owner(x).cmp(&peer_owner(y)),
            Some(UnixColumn::Process) => owner(a).cmp(&owner(b)),
            Some(UnixColumn::User) => user(x).cmp(&user(y)),
            Some(UnixColumn::RecvQueue) => x.recv_queue.cmp(&y.recv_queue),
            Some(UnixColumn::SendQueue) => x.send_queue.cmp(&y.send_queue),
            Some(UnixColumn::Namespace) => self
                .snapshot
                .namespace_label(x.netns)
                .cmp(&self.snapshot.namespace_label(y.netns)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;

    fn unix(inode: u32, peer: Option<u32>, path: Option<&str>, pid: u32) -> UnixSocket {
        UnixSocket::stream(inode, peer, path, vec![pid])
    }

    /// A bus listener with two clients of one program and one of another, and a socketpair.
    fn machine() -> Snapshot {
        let mut s = Snapshot::empty("h", Utc::now());
        let bus = Some("/run/bus");
        s.unix_sockets = vec![
            unix(1, None, bus, 10),
            unix(2, Some(3), bus, 10),
            unix(3, Some(2), None, 20),
            unix(4, Some(5), bus, 10),
            unix(5, Some(4), None, 20),
            unix(6, Some(7), bus, 10),
            unix(7, Some(6), None, 30),
            unix(8, Some(9), None, 40),
            unix(9, Some(8), None, 40),
        ];
        for (pid, name) in [(10, "bus"), (20, "app"), (30, "shell"), (40, "worker")] {
            s.processes
                .insert(pid, crate::model::snapshot::ProcessInfo::named(pid, name));
        }
        s
    }

    #[test]
    fn pairs_fold_connections_per_process_pair_and_name() {
        let view = UnixView::compute(&machine(), &Filter::default(), UnixSort::default());
        let lines: Vec<(String, String, Option<String>, usize)> = view
            .pairs
            .iter()
            .map(|p| {
                (
                    p.one.clone(),
                    p.other.clone(),
                    p.name.clone(),
                    p.connections,
                )
            })
            .collect();
        assert_eq!(
            lines,
            vec![
                (
                    "bus[10]".into(),
                    "app[20]".into(),
                    Some("/run/bus".into()),
                    2
                ),
                (
                    "bus[10]".into(),
                    "shell[30]".into(),
                    Some("/run/bus".into()),
                    1
                ),
                ("worker[40]".into(), "worker[40]".into(), None, 1),
            ]
        );
        assert_eq!(view.rows.first(), Some(&0), "the listener first");
        assert_eq!(view.rows.len(), 9);
    }

    #[test]
    fn the_filter_keeps_sockets_and_the_pairs_they_are_in() {
        let view = UnixView::compute(
            &machine(),
            &Filter::parse("proc:shell"),
            UnixSort::default(),
        );
        assert_eq!(view.rows, vec![6]);
        assert_eq!(view.pairs.len(), 1);
        assert_eq!(view.pairs[0].other, "shell[30]");
        let listeners = UnixView::compute(
            &machine(),
            &Filter::parse("state:listen"),
            UnixSort::default(),
        );
        assert_eq!(listeners.rows, vec![0]);
        let ports = UnixView::compute(&machine(), &Filter::parse("port:80"), UnixSort::default());
        assert!(ports.rows.is_empty(), "a Unix socket has no port");
        let s = machine();
        assert_eq!(view.peer_of(&s.unix_sockets[6]), Some(5));
    }

    #[test]
    fn rows_sort_by_a_column_both_ways_with_ties_by_inode() {
        let s = machine();
        let by = |column, ascending| {
            UnixView::compute(
                &s,
                &Filter::default(),
                UnixSort {
                    column: Some(column),
                    ascending,
                },
            )
            .rows
        };
        assert_eq!(
            by(UnixColumn::Inode, false),
            vec![8, 7, 6, 5, 4, 3, 2, 1, 0]
        );
        assert_eq!(
            by(UnixColumn::PeerProcess, true),
            vec![0, 1, 3, 2, 4, 6, 5, 7, 8],
            "none, then app, bus, shell, worker; ties by inode"
        );
        assert_eq!(
            by(UnixColumn::Process, false),
            vec![7, 8, 6, 0, 1, 3, 5, 2, 4],
            "worker, shell, bus, app"
        );
        let mut orphan = machine();
        orphan.unix_sockets[5].pids.clear();
        let rows = UnixView::compute(
            &orphan,
            &Filter::default(),
            UnixSort {
                column: Some(UnixColumn::Process),
                ascending: true,
            },
        )
        .rows;
        assert_eq!(rows[0], 5, "an empty Process cell sorts first, as it reads");
    }
}

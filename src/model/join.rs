//! The socket → owner → user join, made once per sample and shared by everything that shows it.
//!
//! The Sockets table's Process and User cells, their sort, the `proc:`/`user:` filter terms, free-text
//! search and the HTML report all read a socket's owners from here, so they cannot disagree, and a
//! sample's 100 000 sockets cost one join per distinct owner list rather than one string per socket per
//! use. Sockets that closed at the latest sample are joined with the sample they were last seen in: their
//! process may have exited since, and its PID may even belong to another program now.

use super::FastMap;
use super::snapshot::Snapshot;
use super::socket::SocketEntry;

/// A socket's owners and user, as every table, filter and report shows them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OwnerFacts {
    /// Owner names joined with `,`, equal neighbours merged (usually one name); empty when no owner's name
    /// is known.
    pub process: String,
    /// Each known owner's name, lowercased, for `proc:` and free-text search.
    pub names_lower: Vec<String>,
    /// The user: the name of the socket's uid, else its first owner's user.
    pub user: Option<String>,
}

impl OwnerFacts {
    /// Joins `socket` with the processes and users of `snapshot` (the sample it was seen in).
    #[must_use]
    pub fn of(socket: &SocketEntry, snapshot: &Snapshot) -> Self {
        let known: Vec<&str> = socket
            .pids
            .iter()
            .filter_map(|pid| snapshot.processes.get(pid))
            .map(|p| p.name.as_str())
            .collect();
        let mut merged = known.clone();
        merged.dedup();
        Self {
            process: merged.join(","),
            names_lower: known.iter().map(|n| n.to_lowercase()).collect(),
            user: snapshot.user_of(socket).map(str::to_owned),
        }
    }
}

/// The owner join of every socket of one sample and of the sockets that closed at it.
#[derive(Clone, Debug, Default)]
pub struct Joined {
    /// One entry per distinct (owner PIDs, uid).
    facts: Vec<OwnerFacts>,
    /// Index into `facts` per socket of the sample.
    live: Vec<u32>,
    /// Index into `facts` per recently closed socket.
    closed: Vec<u32>,
}

impl Joined {
    /// Joins `snapshot`'s sockets with its processes, and `closed` (sockets gone since `previous`) with
    /// `previous`'s.
    #[must_use]
    pub fn of(snapshot: &Snapshot, closed: &[SocketEntry], previous: Option<&Snapshot>) -> Self {
        let mut joined = Self::default();
        joined.live = joined.add(&snapshot.sockets, snapshot);
        joined.closed = joined.add(closed, previous.unwrap_or(snapshot));
        joined
    }

    fn add(&mut self, sockets: &[SocketEntry], snapshot: &Snapshot) -> Vec<u32> {
        let mut seen: FastMap<(&[u32], Option<u32>), u32> = FastMap::default();
        sockets
            .iter()
            .map(|s| {
                *seen.entry((&s.pids, s.uid)).or_insert_with(|| {
                    self.facts.push(OwnerFacts::of(s, snapshot));
                    u32::try_from(self.facts.len() - 1).unwrap_or(u32::MAX)
                })
            })
            .collect()
    }

    /// The owners of the sample's socket `index`.
    #[must_use]
    pub fn live(&self, index: usize) -> Option<&OwnerFacts> {
        self.at(self.live.get(index))
    }

    /// The owners of the recently closed socket `index`, as they were when it was last seen.
    #[must_use]
    pub fn closed(&self, index: usize) -> Option<&OwnerFacts> {
        self.at(self.closed.get(index))
    }

    fn at(&self, entry: Option<&u32>) -> Option<&OwnerFacts> {
        self.facts.get(usize::try_from(*entry?).ok()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::snapshot::ProcessInfo;
    use crate::model::socket::TcpState;
    use chrono::Utc;

    fn with_process(mut s: Snapshot, pid: u32, name: &str) -> Snapshot {
        s.processes.insert(
            pid,
            ProcessInfo {
                pid,
                name: name.into(),
                user: Some("alice".into()),
                exe: None,
                cmdline: None,
            },
        );
        s
    }

    fn conn(port: u16, pids: Vec<u32>) -> SocketEntry {
        SocketEntry::tcp(
            format!("127.0.0.1:{port}").parse().unwrap(),
            "127.0.0.1:5432".parse().unwrap(),
            TcpState::Established,
        )
        .with_pids(pids)
    }

    #[test]
    fn a_closed_socket_keeps_the_owner_it_had_when_last_seen() {
        let gone = conn(40000, vec![7]);
        let mut before = with_process(Snapshot::empty("h", Utc::now()), 7, "psql");
        before.sockets.push(gone.clone());
        // PID 7 now belongs to another program.
        let mut now = with_process(Snapshot::empty("h", Utc::now()), 7, "cron");
        now.sockets.push(conn(40001, vec![7]));
        let joined = Joined::of(&now, &[gone], Some(&before));
        assert_eq!(joined.live(0).unwrap().process, "cron");
        assert_eq!(joined.closed(0).unwrap().process, "psql");
        assert_eq!(joined.closed(0).unwrap().user.as_deref(), Some("alice"));
    }

    #[test]
    fn sockets_with_the_same_owners_share_one_join() {
        let mut s = with_process(Snapshot::empty("h", Utc::now()), 7, "Web Content");
        s = with_process(s, 8, "Web Content");
        s.sockets = vec![conn(1, vec![7, 8]), conn(2, vec![7, 8]), conn(3, vec![])];
        let joined = Joined::of(&s, &[], None);
        assert_eq!(joined.facts.len(), 2);
        let shared = joined.live(1).unwrap();
        assert_eq!(shared.process, "Web Content");
        assert_eq!(shared.names_lower, ["web content", "web content"]);
        assert_eq!(joined.live(2).unwrap().process, "");
    }
}

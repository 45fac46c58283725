//! What changed between two snapshots: sockets opened, closed, or moved to another TCP state.

use crate::model::FastMap;

use super::snapshot::Snapshot;
use super::socket::{SocketEntry, SocketKey, SocketState};

/// A socket whose TCP state differs between two snapshots.
#[derive(Clone, Debug, PartialEq)]
pub struct StateChange {
    /// The socket as it is in the newer snapshot.
    pub socket: SocketEntry,
    /// Its state in the older snapshot.
    pub from: SocketState,
}

/// Differences from an older snapshot to a newer one, keyed by [`SocketKey`].
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SnapshotDiff {
    /// In the newer snapshot only.
    pub opened: Vec<SocketEntry>,
    /// In the older snapshot only.
    pub closed: Vec<SocketEntry>,
    /// In both, with a different TCP state.
    pub changed: Vec<StateChange>,
}

impl SnapshotDiff {
    /// Compares `old` with `new`. Runs in O(n) with one hash map over the older snapshot.
    #[must_use]
    pub fn between(old: &Snapshot, new: &Snapshot) -> Self {
        let mut before: FastMap<SocketKey, &SocketEntry> =
            old.sockets.iter().map(|s| (s.key(), s)).collect();
        let mut diff = Self::default();
        for socket in &new.sockets {
            match before.remove(&socket.key()) {
                None => diff.opened.push(socket.clone()),
                Some(prev) if prev.state != socket.state => diff.changed.push(StateChange {
                    socket: socket.clone(),
                    from: prev.state,
                }),
                Some(_) => {}
            }
        }
        // Keep the older snapshot's order for closed sockets, so output is stable.
        diff.closed = old
            .sockets
            .iter()
            .filter(|s| before.contains_key(&s.key()))
            .cloned()
            .collect();
        diff
    }

    /// True when nothing changed.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.opened.is_empty() && self.closed.is_empty() && self.changed.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::socket::{Protocol, SocketState, TcpState};
    use chrono::Utc;

    fn sock(local: &str, remote: &str, state: TcpState) -> SocketEntry {
        SocketEntry {
            protocol: Protocol::Tcp,
            local: local.parse().unwrap(),
            remote: Some(remote.parse().unwrap()),
            state: SocketState::Tcp(state),
            inode: Some(1),
            uid: None,
            pids: vec![],
            owner_note: None,
            details: Default::default(),
        }
    }

    #[test]
    fn reports_opened_closed_and_changed() {
        let mut a = Snapshot::empty("h", Utc::now());
        let mut b = a.clone();
        let stay = sock("127.0.0.1:1", "127.0.0.1:2", TcpState::Established);
        let gone = sock("127.0.0.1:3", "127.0.0.1:4", TcpState::Established);
        let new = sock("127.0.0.1:5", "127.0.0.1:6", TcpState::SynSent);
        let mut moved = stay.clone();
        moved.state = SocketState::Tcp(TcpState::TimeWait);
        moved.inode = None;
        a.sockets = vec![stay.clone(), gone.clone()];
        b.sockets = vec![moved.clone(), new.clone()];
        let d = SnapshotDiff::between(&a, &b);
        assert_eq!(d.opened, vec![new]);
        assert_eq!(d.closed, vec![gone]);
        assert_eq!(
            d.changed,
            vec![StateChange {
                socket: moved,
                from: SocketState::Tcp(TcpState::Established)
            }]
        );
        assert!(SnapshotDiff::between(&b, &b).is_empty());
    }

    #[test]
    fn a_udp_socket_that_connects_is_a_change_not_a_close_and_an_open() {
        use crate::model::socket::UdpState;
        let mut a = Snapshot::empty("h", Utc::now());
        let mut b = a.clone();
        let unconnected = SocketEntry::udp("0.0.0.0:5353".parse().unwrap(), None).with_inode(9);
        // connect() gave the wildcard-bound socket a source address as well as a peer.
        let connected = SocketEntry::udp(
            "127.0.0.1:5353".parse().unwrap(),
            Some("127.0.0.53:53".parse().unwrap()),
        )
        .with_inode(9);
        a.sockets = vec![unconnected];
        b.sockets = vec![connected.clone()];
        let d = SnapshotDiff::between(&a, &b);
        assert!(d.opened.is_empty() && d.closed.is_empty(), "{d:?}");
        assert_eq!(
            d.changed,
            vec![StateChange {
                socket: connected,
                from: SocketState::Udp(UdpState::Unconnected)
            }]
        );
    }
}

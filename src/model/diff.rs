//! What changed between two snapshots: sockets opened, closed, or moved to another TCP state.
//!
//! One home for the rule: [`SocketTracker`] follows sockets from sample to sample (the store keeps one),
//! and [`SnapshotDiff::between`] runs the same tracker over two files.

use chrono::{DateTime, Utc};

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
    /// Compares `old` with `new`. Runs in O(n) with one hash map.
    #[must_use]
    pub fn between(old: &Snapshot, new: &Snapshot) -> Self {
        let mut tracker = SocketTracker::default();
        tracker.advance(None, old);
        tracker.advance(Some(old), new).diff.unwrap_or_default()
    }

    /// True when nothing changed.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.opened.is_empty() && self.closed.is_empty() && self.changed.is_empty()
    }
}

/// What the tracker remembers of one socket between samples.
#[derive(Clone, Copy, Debug)]
struct Tracked {
    first_seen: DateTime<Utc>,
    state: SocketState,
    /// Where it is in the latest sample.
    index: u32,
    /// The step that last saw it.
    step: u64,
}

/// What one step of the tracker found.
#[derive(Debug, Default)]
pub struct Step {
    /// What changed since the previous sample; `None` for the first, which has nothing to compare with.
    pub diff: Option<SnapshotDiff>,
    /// When each socket of the new sample was first seen, by its index there.
    pub first_seen: Vec<DateTime<Utc>>,
}

/// Follows sockets across samples by [`SocketKey`]: which opened, closed or changed state, and since
/// when each has been seen. One lookup per socket per sample in a map that persists, instead of two
/// maps rebuilt every sample.
#[derive(Debug, Default)]
pub struct SocketTracker {
    tracked: FastMap<SocketKey, Tracked>,
    step: u64,
}

impl SocketTracker {
    /// When the socket with `key` in the latest sample was first seen.
    #[must_use]
    pub fn first_seen(&self, key: &SocketKey) -> Option<DateTime<Utc>> {
        self.tracked.get(key).map(|t| t.first_seen)
    }

    /// Takes in `new`; `old` must be the sample given to the previous call (`None` the first time).
    pub fn advance(&mut self, old: Option<&Snapshot>, new: &Snapshot) -> Step {
        self.step += 1;
        let step = self.step;
        let mut diff = SnapshotDiff::default();
        let mut first_seen = Vec::with_capacity(new.sockets.len());
        for (i, socket) in new.sockets.iter().enumerate() {
            let index = u32::try_from(i).unwrap_or(u32::MAX);
            let entry = self.tracked.entry(socket.key());
            let tracked = match entry {
                std::collections::hash_map::Entry::Occupied(e) => {
                    let t = e.into_mut();
                    // A key seen twice in one sample is one socket listed twice, not a change.
                    if t.step != step && t.state != socket.state {
                        diff.changed.push(StateChange {
                            socket: socket.clone(),
                            from: t.state,
                        });
                    }
                    t
                }
                std::collections::hash_map::Entry::Vacant(e) => {
                    if old.is_some() {
                        diff.opened.push(socket.clone());
                    }
                    e.insert(Tracked {
                        first_seen: new.taken_at,
                        state: socket.state,
                        index,
                        step,
                    })
                }
            };
            tracked.state = socket.state;
            tracked.index = index;
            tracked.step = step;
            first_seen.push(tracked.first_seen);
        }
        let mut closed = Vec::new();
        self.tracked.retain(|_, t| {
            let seen = t.step == step;
            if !seen {
                closed.push(t.index);
            }
            seen
        });
        // Keep the older sample's order for closed sockets, so output is stable.
        closed.sort_unstable();
        if let Some(old) = old {
            diff.closed = closed
                .iter()
                .filter_map(|i| old.sockets.get(*i as usize).cloned())
                .collect();
        }
        Step {
            diff: old.is_some().then_some(diff),
            first_seen,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::socket::{SocketState, TcpState};
    use chrono::Utc;

    fn sock(local: &str, remote: &str, state: TcpState) -> SocketEntry {
        SocketEntry::tcp(local.parse().unwrap(), remote.parse().unwrap(), state).with_inode(1)
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

    #[test]
    fn the_tracker_reports_each_change_once_and_keeps_first_seen_by_index() {
        let at =
            |secs: i64| chrono::TimeZone::timestamp_opt(&Utc, 1_700_000_000 + secs, 0).unwrap();
        let snap = |secs, sockets: Vec<SocketEntry>| Snapshot {
            sockets,
            ..Snapshot::empty("h", at(secs))
        };
        let a = sock("127.0.0.1:1", "127.0.0.1:9", TcpState::Established);
        let b = sock("127.0.0.1:2", "127.0.0.1:9", TcpState::Established);
        let c = sock("127.0.0.1:3", "127.0.0.1:9", TcpState::Established);
        let first = snap(0, vec![a.clone(), b.clone(), c.clone()]);
        let mut tracker = SocketTracker::default();
        let step = tracker.advance(None, &first);
        assert!(
            step.diff.is_none(),
            "nothing to compare the first sample with"
        );
        assert_eq!(step.first_seen, vec![at(0); 3]);

        let mut b2 = b.clone();
        b2.state = SocketState::Tcp(TcpState::CloseWait);
        let d = sock("127.0.0.1:4", "127.0.0.1:9", TcpState::SynSent);
        let second = snap(5, vec![d.clone(), b2.clone()]);
        let step = tracker.advance(Some(&first), &second);
        let diff = step.diff.unwrap();
        assert_eq!(diff.opened, vec![d]);
        assert_eq!(diff.changed.len(), 1);
        assert_eq!(diff.changed[0].socket, b2);
        assert_eq!(diff.closed, vec![a, c], "in the older sample's order");
        assert_eq!(
            step.first_seen,
            vec![at(5), at(0)],
            "aligned with the new sample"
        );
        assert_eq!(tracker.first_seen(&b2.key()), Some(at(0)));

        let step = tracker.advance(Some(&second), &second.clone());
        assert!(
            step.diff.unwrap().is_empty(),
            "an unchanged sample changes nothing"
        );
    }
}

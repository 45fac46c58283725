//! The store: turns a stream of snapshots into what the window shows.
//!
//! It keeps the current snapshot, which sockets are new, changed or just closed (for highlighting), when
//! each socket was first seen (for its age), and a bounded history of aggregates for charts. The UI only
//! reads it; whoever receives samples (the app, a test, a benchmark) calls [`Store::ingest`].

use crate::model::FastMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::budget::{CloseWaitAlert, EphemeralBudget, close_wait_alerts};
use super::diff::{SnapshotDiff, SocketTracker};
use super::failure::Failure;
use super::history::{History, NameInterner, SampleStats};
use super::join::Joined;
use super::side::PortNames;
use super::snapshot::Snapshot;
use super::socket::{SocketEntry, SocketKey};
use super::traffic::{Rate, TrafficMeter};

/// How a socket changed at the latest sample, for TCPView-style highlighting.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ChangeMark {
    /// Appeared since the previous sample.
    Opened,
    /// TCP state differs from the previous sample.
    StateChanged,
    /// Gone since the previous sample; shown for one interval, then removed.
    Closed,
}

/// Current snapshot, change marks, ages and history.
#[derive(Debug)]
pub struct Store {
    /// Which ports name a service, for the side rule the history's top ports follow.
    port_names: &'static dyn PortNames,
    current: Option<Arc<Snapshot>>,
    closed: Arc<Vec<SocketEntry>>,
    /// Owners and users of the current and the just-closed sockets.
    joined: Arc<Joined>,
    marks: Arc<FastMap<SocketKey, ChangeMark>>,
    /// When each socket of the current snapshot was first seen, by its index there.
    first_seen: Arc<Vec<DateTime<Utc>>>,
    tracker: SocketTracker,
    history: Arc<History>,
    generation: u64,
    last_took: Option<Duration>,
    last_error: Option<Failure>,
    names: NameInterner,
    budget: Arc<EphemeralBudget>,
    close_wait: Arc<Vec<CloseWaitAlert>>,
    traffic: TrafficMeter,
    rates: Arc<FastMap<u64, Rate>>,
}

impl Store {
    /// An empty store whose history keeps `capacity` samples; `port_names` tells which ports name a
    /// service (the registry).
    #[must_use]
    pub fn new(capacity: usize, port_names: &'static dyn PortNames) -> Self {
        Self {
            port_names,
            current: None,
            closed: Arc::default(),
            joined: Arc::default(),
            marks: Arc::default(),
            first_seen: Arc::default(),
            tracker: SocketTracker::default(),
            history: Arc::new(History::with_capacity(capacity)),
            generation: 0,
            last_took: None,
            last_error: None,
            names: NameInterner::default(),
            budget: Arc::default(),
            close_wait: Arc::default(),
            traffic: TrafficMeter::default(),
            rates: Arc::default(),
        }
    }

    /// Takes in a new sample: diffs it against the current one, updates marks, ages and history, and makes
    /// it current. Returns the diff (empty for the first sample, which has nothing to compare with).
    pub fn ingest(&mut self, snapshot: Snapshot, took: Option<Duration>) -> SnapshotDiff {
        let step = self.tracker.advance(self.current.as_deref(), &snapshot);
        let diff = step.diff;
        // Copies the samples' pointers only when a reader still holds the previous history.
        Arc::make_mut(&mut self.history).push(SampleStats::of(
            &snapshot,
            diff.as_ref(),
            &mut self.names,
            self.port_names,
        ));
        self.budget = Arc::new(EphemeralBudget::of(&snapshot));
        self.close_wait = Arc::new(close_wait_alerts(&self.history));
        self.rates = Arc::new(self.traffic.update(&snapshot));

        self.first_seen = Arc::new(step.first_seen);

        let diff = diff.unwrap_or_default();
        let mut marks = FastMap::with_capacity_and_hasher(
            diff.opened.len() + diff.changed.len() + diff.closed.len(),
            Default::default(),
        );
        for s in &diff.opened {
            marks.insert(s.key(), ChangeMark::Opened);
        }
        for c in &diff.changed {
            marks.insert(c.socket.key(), ChangeMark::StateChanged);
        }
        for s in &diff.closed {
            marks.insert(s.key(), ChangeMark::Closed);
        }
        self.marks = Arc::new(marks);
        self.joined = Arc::new(Joined::of(&snapshot, &diff.closed, self.current.as_deref()));
        self.closed = Arc::new(diff.closed.clone());
        self.current = Some(Arc::new(snapshot));
        self.generation += 1;
        self.last_took = took;
        self.last_error = None;
        diff
    }

    /// Changes how many samples of history are kept (shrinking drops the oldest).
    pub fn set_history_capacity(&mut self, capacity: usize) {
        Arc::make_mut(&mut self.history).set_capacity(capacity);
        self.generation += 1;
    }

    /// Records a failed sample; the current snapshot stays.
    pub fn record_error(&mut self, failure: Failure) {
        self.last_error = Some(failure);
        self.generation += 1;
    }

    /// Clears the last error (the user dismissed it).
    pub fn dismiss_error(&mut self) {
        if self.last_error.take().is_some() {
            self.generation += 1;
        }
    }

    /// The newest snapshot, if any sample arrived yet.
    #[must_use]
    pub fn current(&self) -> Option<&Arc<Snapshot>> {
        self.current.as_ref()
    }

    /// Sockets that closed at the latest sample (shown in red for one interval).
    #[must_use]
    pub fn recently_closed(&self) -> &Arc<Vec<SocketEntry>> {
        &self.closed
    }

    /// Owners and users of the current and the just-closed sockets, shared.
    #[must_use]
    pub fn joined(&self) -> Arc<Joined> {
        Arc::clone(&self.joined)
    }

    /// How a socket changed at the latest sample.
    #[must_use]
    pub fn mark(&self, key: &SocketKey) -> Option<ChangeMark> {
        self.marks.get(key).copied()
    }

    /// All change marks of the latest sample, shared.
    #[must_use]
    pub fn marks(&self) -> Arc<FastMap<SocketKey, ChangeMark>> {
        Arc::clone(&self.marks)
    }

    /// Traffic of each connection since the previous sample, by socket cookie, shared.
    #[must_use]
    pub fn rates(&self) -> Arc<FastMap<u64, Rate>> {
        Arc::clone(&self.rates)
    }

    /// First-seen times of the current snapshot's sockets, by index there, shared.
    #[must_use]
    pub fn first_seen_all(&self) -> Arc<Vec<DateTime<Utc>>> {
        Arc::clone(&self.first_seen)
    }

    /// When a socket in the current snapshot was first seen by this store.
    #[must_use]
    pub fn first_seen(&self, key: &SocketKey) -> Option<DateTime<Utc>> {
        self.tracker.first_seen(key)
    }

    /// Aggregates of past samples.
    #[must_use]
    pub fn history(&self) -> &History {
        &self.history
    }

    /// Aggregates of past samples, shared (for another thread to draw while this store goes on).
    #[must_use]
    pub fn shared_history(&self) -> Arc<History> {
        Arc::clone(&self.history)
    }

    /// The ephemeral port budget of the current snapshot.
    #[must_use]
    pub fn budget(&self) -> &Arc<EphemeralBudget> {
        &self.budget
    }

    /// Processes whose CLOSE_WAIT count keeps growing.
    #[must_use]
    pub fn close_wait_alerts(&self) -> &Arc<Vec<CloseWaitAlert>> {
        &self.close_wait
    }

    /// Bumps on every change; views recompute only when it differs from what they last saw.
    #[must_use]
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// How long the latest sample took to collect.
    #[must_use]
    pub fn last_took(&self) -> Option<Duration> {
        self.last_took
    }

    /// The latest collector error, until the next good sample or dismissal.
    #[must_use]
    pub fn last_error(&self) -> Option<&Failure> {
        self.last_error.as_ref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::socket::{SocketState, TcpState};
    use chrono::TimeZone;

    fn at(secs: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(1_700_000_000 + secs, 0).unwrap()
    }

    fn tcp(lport: u16, rport: u16, state: TcpState) -> SocketEntry {
        SocketEntry::tcp(
            format!("127.0.0.1:{lport}").parse().unwrap(),
            format!("127.0.0.1:{rport}").parse().unwrap(),
            state,
        )
        .with_inode(u32::from(lport))
        .with_uid(1000)
        .with_pids(vec![1])
    }

    fn snap(secs: i64, sockets: Vec<SocketEntry>) -> Snapshot {
        Snapshot {
            sockets,
            ..Snapshot::empty("h", at(secs))
        }
    }

    #[test]
    fn marks_ages_and_closed_follow_the_samples() {
        let mut store = Store::new(
            History::DEFAULT_CAPACITY,
            crate::services::registry::Registry::global(),
        );
        let a = tcp(5432, 40000, TcpState::Established);
        let b = tcp(5432, 40001, TcpState::Established);
        store.ingest(snap(0, vec![a.clone(), b.clone()]), None);
        assert_eq!(
            store.mark(&a.key()),
            None,
            "first sample marks nothing as new"
        );

        let mut a2 = a.clone();
        a2.state = SocketState::Tcp(TcpState::CloseWait);
        let c = tcp(5432, 40002, TcpState::Established);
        store.ingest(snap(1, vec![a2.clone(), c.clone()]), None);
        assert_eq!(store.mark(&a2.key()), Some(ChangeMark::StateChanged));
        assert_eq!(store.mark(&c.key()), Some(ChangeMark::Opened));
        assert_eq!(store.mark(&b.key()), Some(ChangeMark::Closed));
        assert_eq!(store.recently_closed().as_slice(), std::slice::from_ref(&b));
        assert_eq!(store.first_seen(&a2.key()), Some(at(0)));
        assert_eq!(store.first_seen(&c.key()), Some(at(1)));

        store.ingest(snap(2, vec![a2.clone(), c.clone()]), None);
        assert!(
            store.recently_closed().is_empty(),
            "closed sockets stay one interval only"
        );
        assert_eq!(store.mark(&b.key()), None);
        assert_eq!(store.history().len(), 3);
        let latest = store.history().latest().unwrap();
        assert_eq!(latest.by_state[TcpState::CloseWait.index()], 1);
        assert_eq!(latest.total(), 2);
    }

    #[test]
    fn shrinking_history_keeps_the_newest_samples() {
        let mut store = Store::new(100, crate::services::registry::Registry::global());
        for i in 0..50 {
            store.ingest(snap(i, vec![]), None);
        }
        store.set_history_capacity(10);
        assert_eq!(store.history().len(), 10);
        assert_eq!(store.history().iter().next().unwrap().taken_at, at(40));
        store.set_history_capacity(1000);
        assert_eq!(store.history().len(), 10, "growing keeps what is there");
    }

    #[test]
    fn history_is_bounded() {
        let mut store = Store::new(10, crate::services::registry::Registry::global());
        for i in 0..1000 {
            store.ingest(snap(i, vec![tcp(1, 2, TcpState::Listen)]), None);
        }
        assert_eq!(store.history().len(), 10);
        assert_eq!(store.history().latest().unwrap().taken_at, at(999));
    }

    #[test]
    fn aggregates_count_state_class_family_and_churn() {
        let mut store = Store::new(
            History::DEFAULT_CAPACITY,
            crate::services::registry::Registry::global(),
        );
        let mut listen = tcp(22, 0, TcpState::Listen);
        listen.remote = Some("0.0.0.0:0".parse().unwrap());
        let udp = SocketEntry::udp("127.0.0.1:53".parse().unwrap(), None)
            .with_inode(53)
            .with_uid(1000)
            .with_pids(vec![1]);
        let mut v6 = tcp(50000, 443, TcpState::Established);
        v6.local = "[::1]:50000".parse().unwrap();
        store.ingest(snap(0, vec![listen.clone()]), None);
        store.ingest(snap(1, vec![listen, udp, v6]), None);
        let s = store.history().latest().unwrap();
        assert_eq!(s.by_state[TcpState::Listen.index()], 1);
        assert_eq!(s.by_state[TcpState::Established.index()], 1);
        assert_eq!((s.udp, s.tcp(), s.ipv4, s.ipv6), (1, 2, 2, 1));
        assert_eq!(s.by_class, [2, 0, 1]);
        assert_eq!(s.in_ephemeral_range, 1, "50000 lies in 32768-60999");
        assert_eq!((s.listening_ports, s.opened, s.closed), (1, 2, 0));
    }
}

//! Per-sample aggregates kept over time for charts: counts, never copies of snapshots.

use std::collections::{HashSet, VecDeque};

use chrono::{DateTime, Utc};

use super::diff::SnapshotDiff;
use super::port_class::PortClass;
use super::snapshot::Snapshot;
use super::socket::{Family, Protocol, TcpState};

/// What one sample looked like, in about a hundred bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SampleStats {
    /// When the sample was taken.
    pub taken_at: DateTime<Utc>,
    /// TCP sockets per state, indexed by [`TcpState::index`].
    pub by_state: [u32; TcpState::ALL.len()],
    /// UDP sockets.
    pub udp: u32,
    /// Sockets with an IPv4 local address.
    pub ipv4: u32,
    /// Sockets with an IPv6 local address.
    pub ipv6: u32,
    /// Sockets per local port class, indexed by [`PortClass::index`].
    pub by_class: [u32; PortClass::ALL.len()],
    /// Sockets whose local port lies in the OS ephemeral range.
    pub in_ephemeral_range: u32,
    /// Distinct TCP ports with a listener.
    pub listening_ports: u32,
    /// Sockets opened since the previous sample.
    pub opened: u32,
    /// Sockets closed since the previous sample.
    pub closed: u32,
    /// Sockets whose TCP state changed since the previous sample.
    pub changed: u32,
}

fn count(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

impl SampleStats {
    /// Aggregates `snapshot`; `diff` is the change from the previous sample, if there was one.
    #[must_use]
    pub fn of(snapshot: &Snapshot, diff: Option<&SnapshotDiff>) -> Self {
        let range = snapshot.ephemeral_range_or_default();
        let mut stats = Self {
            taken_at: snapshot.taken_at,
            by_state: [0; TcpState::ALL.len()],
            udp: 0,
            ipv4: 0,
            ipv6: 0,
            by_class: [0; PortClass::ALL.len()],
            in_ephemeral_range: 0,
            listening_ports: 0,
            opened: diff.map_or(0, |d| count(d.opened.len())),
            closed: diff.map_or(0, |d| count(d.closed.len())),
            changed: diff.map_or(0, |d| count(d.changed.len())),
        };
        let mut listening = HashSet::new();
        for s in &snapshot.sockets {
            match (s.protocol, s.state) {
                (Protocol::Tcp, Some(state)) => stats.by_state[state.index()] += 1,
                _ => stats.udp += 1,
            }
            match s.family() {
                Family::Ipv4 => stats.ipv4 += 1,
                Family::Ipv6 => stats.ipv6 += 1,
            }
            let port = s.local.port();
            stats.by_class[PortClass::of(port).index()] += 1;
            if range.contains(port) {
                stats.in_ephemeral_range += 1;
            }
            if s.is_listener() {
                listening.insert(port);
            }
        }
        stats.listening_ports = count(listening.len());
        stats
    }

    /// All TCP sockets.
    #[must_use]
    pub fn tcp(&self) -> u32 {
        self.by_state.iter().sum()
    }

    /// All sockets.
    #[must_use]
    pub fn total(&self) -> u32 {
        self.tcp() + self.udp
    }
}

/// A ring buffer of [`SampleStats`]: the newest `capacity` samples.
#[derive(Clone, Debug)]
pub struct History {
    samples: VecDeque<SampleStats>,
    capacity: usize,
}

impl History {
    /// One hour at one sample per second.
    pub const DEFAULT_CAPACITY: usize = 3600;

    /// An empty history keeping at most `capacity` samples (at least 1).
    #[must_use]
    pub fn with_capacity(capacity: usize) -> Self {
        let capacity = capacity.max(1);
        Self {
            samples: VecDeque::with_capacity(capacity.min(1 << 16)),
            capacity,
        }
    }

    /// Appends a sample, dropping the oldest when full.
    pub fn push(&mut self, stats: SampleStats) {
        if self.samples.len() == self.capacity {
            self.samples.pop_front();
        }
        self.samples.push_back(stats);
    }

    /// Samples, oldest first.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = &SampleStats> + DoubleEndedIterator {
        self.samples.iter()
    }

    /// Number of samples held.
    #[must_use]
    pub fn len(&self) -> usize {
        self.samples.len()
    }

    /// True when empty.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.samples.is_empty()
    }

    /// The most samples held.
    #[must_use]
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// The newest sample.
    #[must_use]
    pub fn latest(&self) -> Option<&SampleStats> {
        self.samples.back()
    }
}

impl Default for History {
    fn default() -> Self {
        Self::with_capacity(Self::DEFAULT_CAPACITY)
    }
}

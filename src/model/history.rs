//! Per-sample aggregates kept over time for charts: counts, never copies of snapshots.

use crate::model::{FastMap, FastSet};
use std::cell::OnceCell;
use std::collections::VecDeque;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use std::net::IpAddr;

use super::diff::SnapshotDiff;
use super::port_class::PortClass;
use super::ports::PortKey;
use super::side::{PortNames, SideFacts, service_port, side_of};
use super::snapshot::{PortRange, Snapshot};
use super::socket::{Family, Protocol, SocketEntry, TcpState};

/// How many of the busiest ports and processes each sample keeps; the rest go to an "other" bucket.
pub const TOP_N: usize = 8;

/// Sockets on one service port (of one namespace) in one sample.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PortCount {
    /// The namespace of the sockets counted (`None` where not recorded): the same number in two
    /// namespaces is counted twice, apart.
    pub netns: Option<u64>,
    /// Number space.
    pub protocol: Protocol,
    /// Local port.
    pub port: u16,
    /// Sockets on it.
    pub count: u32,
}

/// Sockets of one process in one sample.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProcessCount {
    /// Process id.
    pub pid: u32,
    /// Its name (shared between samples); `None` when it exited before its details were read.
    pub name: Option<Arc<str>>,
    /// Sockets it holds (a socket shared by several processes counts for the first).
    pub count: u32,
    /// Of those, in CLOSE_WAIT.
    pub close_wait: u32,
}

/// Shares process names between samples so a long history does not repeat them.
#[derive(Debug, Default)]
pub struct NameInterner {
    names: FastMap<String, Arc<str>>,
}

impl NameInterner {
    /// The shared copy of `name`.
    pub fn intern(&mut self, name: &str) -> Arc<str> {
        if let Some(shared) = self.names.get(name) {
            return Arc::clone(shared);
        }
        // Bounded: names of long-gone processes are dropped (samples keep their own Arc).
        if self.names.len() >= 4096 {
            self.names.clear();
        }
        let shared: Arc<str> = Arc::from(name);
        self.names.insert(name.to_owned(), Arc::clone(&shared));
        shared
    }
}

/// What one sample looked like, in a few hundred bytes.
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
    /// Sockets whose local port lies in the ephemeral range of their namespace.
    pub in_ephemeral_range: u32,
    /// Distinct TCP ports with a listener.
    pub listening_ports: u32,
    /// Sockets opened since the previous sample.
    pub opened: u32,
    /// Sockets closed since the previous sample.
    pub closed: u32,
    /// Sockets whose TCP state changed since the previous sample.
    pub changed: u32,
    /// The busiest service ports, most sockets first. Each socket counts once, under the port of the
    /// service it belongs to: its local port (listeners, accepted connections, UDP), or for an outgoing
    /// connection (ephemeral local port with no listener on it) the remote port it talks to.
    pub top_ports: Vec<PortCount>,
    /// Sockets on all other ports.
    pub other_ports: u32,
    /// The processes holding the most sockets, most first.
    pub top_processes: Vec<ProcessCount>,
    /// Sockets of all other processes.
    pub other_processes: u32,
    /// Sockets with no known owner.
    pub unowned: u32,
    /// The processes with the most CLOSE_WAIT sockets (only those with any), most first.
    pub close_wait_processes: Vec<ProcessCount>,
}

fn count(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// The service ports with the most sockets, most first, and the sockets on all the others.
fn top_ports(per_port: FastMap<PortKey, u32>) -> (Vec<PortCount>, u32) {
    let mut ports: Vec<PortCount> = per_port
        .into_iter()
        .map(
            |(
                PortKey {
                    netns,
                    protocol,
                    port,
                },
                count,
            )| PortCount {
                netns,
                protocol,
                port,
                count,
            },
        )
        .collect();
    // Ties by port, so the order is stable from sample to sample.
    ports.sort_unstable_by(|a, b| {
        b.count
            .cmp(&a.count)
            .then(a.port.cmp(&b.port))
            .then(a.protocol.cmp(&b.protocol))
            .then(a.netns.cmp(&b.netns))
    });
    let other = ports.iter().skip(TOP_N).map(|p| p.count).sum();
    ports.truncate(TOP_N);
    (ports, other)
}

/// What the side rule needs, gathered once per sample: the snapshot's own lookups would scan every
/// socket per call when the machine's addresses were not recorded.
struct SampleFacts<'a> {
    snapshot: &'a Snapshot,
    /// The sampler's namespace, whose facts are gathered here; others are asked of the snapshot.
    sampler: Option<u64>,
    range: PortRange,
    /// (namespace, port) of every TCP listener.
    listening: FastSet<(Option<u64>, u16)>,
    /// The sampler namespace's addresses, when recorded.
    recorded: Option<FastSet<IpAddr>>,
    /// (namespace, local address) of every socket, built on first need: where a namespace's addresses
    /// were not recorded, an address a socket of it is bound to is its own.
    bound: OnceCell<FastSet<(Option<u64>, IpAddr)>>,
    ports: &'a dyn PortNames,
}

impl<'a> SampleFacts<'a> {
    fn of(snapshot: &'a Snapshot, ports: &'a dyn PortNames) -> Self {
        let sampler = snapshot.sampler_netns();
        Self {
            snapshot,
            sampler,
            range: snapshot.ephemeral_range_or_default(),
            listening: snapshot
                .sockets
                .iter()
                .filter(|s| s.is_listener())
                .map(|s| (s.netns, s.local.port()))
                .collect(),
            recorded: snapshot
                .machine
                .local_addresses
                .as_ref()
                .map(|list| list.iter().map(|ip| ip.to_canonical()).collect()),
            bound: OnceCell::new(),
            ports,
        }
    }
}

impl SideFacts for SampleFacts<'_> {
    fn ephemeral_range(&self, netns: Option<u64>) -> PortRange {
        if netns == self.sampler {
            self.range
        } else {
            self.snapshot.facts_in(netns).ephemeral_range_or_default()
        }
    }
    fn tcp_listening(&self, netns: Option<u64>, port: u16) -> bool {
        self.listening.contains(&(netns, port))
    }
    /// The same answer as [`crate::model::snapshot::NsFacts::is_own_address`], from sets built once
    /// per sample rather than a scan of every socket per call.
    fn is_own_address(&self, netns: Option<u64>, ip: IpAddr) -> Option<bool> {
        let ip = ip.to_canonical();
        if ip.is_loopback() {
            return Some(true);
        }
        let recorded = if netns == self.sampler {
            self.recorded.as_ref().map(|set| set.contains(&ip))
        } else {
            let facts = self.snapshot.facts_in(netns);
            facts
                .machine
                .local_addresses
                .as_ref()
                .map(|list| list.contains(&ip))
        };
        if let Some(known) = recorded {
            return Some(known);
        }
        let bound = self.bound.get_or_init(|| {
            self.snapshot
                .sockets
                .iter()
                .map(|s| (s.netns, s.local.ip().to_canonical()))
                .collect()
        });
        bound.contains(&(netns, ip)).then_some(true)
    }
    fn is_registered(&self, port: u16, protocol: Protocol) -> bool {
        self.ports.is_registered(port, protocol)
    }
}

impl SampleStats {
    /// Aggregates `snapshot`; `diff` is the change from the previous sample, if there was one. A
    /// client's socket counts under the service port it talks to, as [`side_of`] decides with `ports`.
    #[must_use]
    pub fn of(
        snapshot: &Snapshot,
        diff: Option<&SnapshotDiff>,
        names: &mut NameInterner,
        ports: &dyn PortNames,
    ) -> Self {
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
            top_ports: Vec::new(),
            other_ports: 0,
            top_processes: Vec::new(),
            other_processes: 0,
            unowned: 0,
            close_wait_processes: Vec::new(),
        };
        let facts = SampleFacts::of(snapshot, ports);
        let mut per_port: FastMap<PortKey, u32> = FastMap::default();
        let mut per_pid: FastMap<u32, (u32, u32)> = FastMap::default();
        for s in &snapshot.sockets {
            stats.tally(s, facts.ephemeral_range(s.netns));
            let key = PortKey {
                netns: s.netns,
                protocol: s.protocol,
                port: service_port(s, side_of(s, &facts).0),
            };
            *per_port.entry(key).or_default() += 1;
            match s.pids.first() {
                Some(pid) => {
                    let e = per_pid.entry(*pid).or_default();
                    e.0 += 1;
                    e.1 += u32::from(s.tcp_state() == Some(TcpState::CloseWait));
                }
                None => stats.unowned += 1,
            }
        }
        stats.listening_ports = count(facts.listening.len());
        (stats.top_ports, stats.other_ports) = top_ports(per_port);
        stats.rank_processes(per_pid, snapshot, names);
        stats
    }

    /// Counts one socket by state, family, port class and whether its port is in `range`, its
    /// namespace's ephemeral range.
    fn tally(&mut self, s: &SocketEntry, range: PortRange) {
        match s.tcp_state() {
            Some(state) => self.by_state[state.index()] += 1,
            None => self.udp += 1,
        }
        match s.family() {
            Family::Ipv4 => self.ipv4 += 1,
            Family::Ipv6 => self.ipv6 += 1,
        }
        let port = s.local.port();
        self.by_class[PortClass::of(port).index()] += 1;
        if range.contains(port) {
            self.in_ephemeral_range += 1;
        }
    }

    /// The processes with the most sockets and those with the most CLOSE_WAIT sockets, from each PID's
    /// (sockets, CLOSE_WAIT sockets); names are interned in `names`.
    fn rank_processes(
        &mut self,
        per_pid: FastMap<u32, (u32, u32)>,
        snapshot: &Snapshot,
        names: &mut NameInterner,
    ) {
        let mut procs: Vec<(u32, u32, u32)> = per_pid
            .into_iter()
            .map(|(pid, (n, cw))| (pid, n, cw))
            .collect();
        procs.sort_unstable_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        self.other_processes = procs.iter().skip(TOP_N).map(|p| p.1).sum();
        let mut top = |list: &[(u32, u32, u32)]| -> Vec<ProcessCount> {
            list.iter()
                .take(TOP_N)
                .map(|&(pid, count, close_wait)| ProcessCount {
                    pid,
                    name: snapshot.processes.get(&pid).map(|p| names.intern(&p.name)),
                    count,
                    close_wait,
                })
                .collect()
        };
        self.top_processes = top(&procs);
        procs.retain(|p| p.2 > 0);
        procs.sort_unstable_by(|a, b| b.2.cmp(&a.2).then(a.0.cmp(&b.0)));
        self.close_wait_processes = top(&procs);
    }

    /// Seconds since the Unix epoch, for chart x axes.
    #[must_use]
    pub fn unix_secs(&self) -> f64 {
        self.taken_at.timestamp_millis() as f64 / 1000.0
    }

    /// Sockets of one TCP state.
    #[must_use]
    pub fn state(&self, state: TcpState) -> u32 {
        self.by_state[state.index()]
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
///
/// Samples are shared, so a copy handed to another thread (the window's) costs one pointer per sample.
#[derive(Clone, Debug)]
pub struct History {
    samples: VecDeque<Arc<SampleStats>>,
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
        self.samples.push_back(Arc::new(stats));
    }

    /// Changes how many samples are kept; shrinking drops the oldest.
    pub fn set_capacity(&mut self, capacity: usize) {
        self.capacity = capacity.max(1);
        while self.samples.len() > self.capacity {
            self.samples.pop_front();
        }
    }

    /// Samples, oldest first.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = &SampleStats> + DoubleEndedIterator {
        self.samples.iter().map(|s| &**s)
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
        self.samples.back().map(|s| &**s)
    }
}

impl Default for History {
    fn default() -> Self {
        Self::with_capacity(Self::DEFAULT_CAPACITY)
    }
}

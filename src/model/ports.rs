//! Sockets grouped by local (protocol, port): the view that shows one port carrying many sockets.

use crate::model::FastMap;
use std::collections::BTreeMap;
use std::net::IpAddr;

use super::netns::Place;
use super::port_class::PortClass;
use super::side::{PortNames, Side, SideFacts, kernel_picked, side_of};
use super::snapshot::{PortRange, Snapshot};
use super::socket::{Protocol, SocketEntry, TcpState, UdpState};

/// Who can reach a bound address.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Exposure {
    /// Loopback only (127.0.0.0/8, ::1): only this machine.
    Loopback,
    /// One specific address of this host: whoever reaches that interface's network.
    Specific,
    /// The wildcard address (0.0.0.0 or ::): every interface of this host.
    AllInterfaces,
}

impl Exposure {
    /// The exposure of a local address.
    #[must_use]
    pub fn of(addr: IpAddr) -> Self {
        let addr = addr.to_canonical();
        if addr.is_unspecified() {
            Self::AllInterfaces
        } else if addr.is_loopback() {
            Self::Loopback
        } else {
            Self::Specific
        }
    }

    /// A short badge text.
    #[must_use]
    pub fn badge(self) -> &'static str {
        match self {
            Self::Loopback => "loopback only",
            Self::Specific => "one address",
            Self::AllInterfaces => "all interfaces",
        }
    }

    /// What the badge means, for a tooltip, for a port of `place`.
    #[must_use]
    pub fn meaning(self, place: &Place) -> String {
        match self {
            Self::Loopback => format!(
                "Bound to a loopback address: only programs in {} can reach it.",
                place.netns()
            ),
            Self::Specific => format!(
                "Bound to one address of {}: reachable by any host that can route packets to that \
                 address (Linux accepts them on any interface), unless a firewall or rp_filter says otherwise.",
                place.name()
            ),
            Self::AllInterfaces => format!(
                "Bound to a wildcard address (0.0.0.0 for IPv4; :: for IPv6, and IPv4 too unless IPV6_V6ONLY is \
                 set): reachable through every interface of {}{}, unless a firewall says otherwise.",
                place.name(),
                if place.is_this_host() {
                    ""
                } else {
                    " (from outside it, only where routes or published ports lead in)"
                }
            ),
        }
    }
}

/// A small ordered set without duplicates. Nearly every port has one or two addresses and owners; a
/// sorted `Vec` holds them in one small allocation where a `BTreeSet` takes a node of hundreds of bytes,
/// which at 50 000 ports was most of the index's memory and time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SmallSet<T>(Vec<T>);

impl<T> Default for SmallSet<T> {
    fn default() -> Self {
        Self(Vec::new())
    }
}

impl<T: Ord> SmallSet<T> {
    /// Adds `value` unless it is there already.
    pub fn insert(&mut self, value: T) {
        if let Err(at) = self.0.binary_search(&value) {
            self.0.insert(at, value);
        }
    }

    /// True when `value` is in the set.
    #[must_use]
    pub fn contains(&self, value: &T) -> bool {
        self.0.binary_search(value).is_ok()
    }

    /// The values in ascending order.
    pub fn iter(&self) -> std::slice::Iter<'_, T> {
        self.0.iter()
    }

    /// How many values the set holds.
    #[must_use]
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True when the set holds nothing.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<'a, T> IntoIterator for &'a SmallSet<T> {
    type Item = &'a T;
    type IntoIter = std::slice::Iter<'a, T>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

/// The badge, and what it means, of a port no socket takes new peers on (no [`Exposure`]).
#[must_use]
pub fn no_exposure(protocol: Protocol) -> (&'static str, &'static str) {
    match protocol {
        Protocol::Tcp => (
            "not listening",
            "No socket on this port listens (the sockets here are connected, closing, or only bound), so \
             a new connection to it is refused: the kernel answers its SYN with a reset (unless a firewall \
             drops the SYN first).",
        ),
        Protocol::Udp => (
            "connected only",
            "Every socket on this port is connected to one peer and takes datagrams only from it; a \
             datagram from any other source matches no socket, and the kernel answers it with ICMP port \
             unreachable (rate-limited; a firewall may drop it first).",
        ),
    }
}

/// A port's identity: a number in one protocol's number space of one network namespace. 80/tcp in a
/// container and 80/tcp on the host are two ports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PortKey {
    /// The network namespace (`None` where not recorded).
    pub netns: Option<u64>,
    /// Number space.
    pub protocol: Protocol,
    /// Port number.
    pub port: u16,
}

impl PortKey {
    /// The local port `socket` is on.
    #[must_use]
    pub fn of(socket: &SocketEntry) -> Self {
        Self {
            netns: socket.netns,
            protocol: socket.protocol,
            port: socket.local.port(),
        }
    }
}

/// One local port in use (see [`PortKey`]) and the sockets on it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PortUsage {
    /// The network namespace (`None` where not recorded).
    pub netns: Option<u64>,
    /// Number space.
    pub protocol: Protocol,
    /// Port number.
    pub port: u16,
    /// Indexes into the snapshot's `sockets`.
    pub sockets: Vec<usize>,
    /// TCP sockets per state, indexed by [`TcpState::index`].
    pub by_state: [u32; TcpState::ALL.len()],
    /// Local addresses the sockets are bound to.
    pub addresses: SmallSet<IpAddr>,
    /// Local addresses of the sockets that take new peers: TCP listeners and unconnected UDP sockets.
    pub open_addresses: SmallSet<IpAddr>,
    /// UDP sockets per state: connected, unconnected, not recorded.
    pub udp_states: [u32; 3],
    /// Owning PIDs.
    pub pids: SmallSet<u32>,
}

impl PortUsage {
    /// Which port this is.
    #[must_use]
    pub fn key(&self) -> PortKey {
        PortKey {
            netns: self.netns,
            protocol: self.protocol,
            port: self.port,
        }
    }

    /// RFC 6335 class of the port.
    #[must_use]
    pub fn class(&self) -> PortClass {
        PortClass::of(self.port)
    }

    /// The widest exposure among the addresses that take new peers; `None` when no socket on the port
    /// listens or takes datagrams from any source (each is connected to its own peer).
    #[must_use]
    pub fn exposure(&self) -> Option<Exposure> {
        self.open_addresses.iter().map(|a| Exposure::of(*a)).max()
    }

    /// The Exposure badge and what it means, for this port of `place`: the widest exposure, or why
    /// nothing new reaches the port.
    #[must_use]
    pub fn exposure_badge(&self, place: &Place) -> (&'static str, String) {
        match self.exposure() {
            Some(e) => (e.badge(), e.meaning(place)),
            None => {
                let (badge, tip) = no_exposure(self.protocol);
                (badge, tip.to_owned())
            }
        }
    }

    /// True when a TCP socket listens on the port.
    #[must_use]
    pub fn has_listener(&self) -> bool {
        self.by_state[TcpState::Listen.index()] > 0
    }

    /// Socket counts as text: `1 LISTEN + 37 ESTABLISHED`, or `3 UDP` for UDP.
    #[must_use]
    pub fn state_summary(&self) -> String {
        if self.protocol == Protocol::Udp {
            let names = ["CONNECTED", "UNCONNECTED", "not recorded"];
            let parts: Vec<String> = names
                .iter()
                .zip(self.udp_states)
                .filter(|(_, n)| *n > 0)
                .map(|(name, n)| format!("{n} {name}"))
                .collect();
            return parts.join(" + ");
        }
        let parts: Vec<String> = TcpState::ALL
            .iter()
            .filter(|s| self.by_state[s.index()] > 0)
            .map(|s| format!("{} {}", self.by_state[s.index()], s.as_str()))
            .collect();
        parts.join(" + ")
    }
}

/// All ports in use in one snapshot.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PortsIndex {
    ports: Vec<PortUsage>,
    by_key: FastMap<PortKey, usize>,
}

impl PortsIndex {
    /// Groups a snapshot's sockets by local port ([`PortKey`]).
    #[must_use]
    pub fn build(snapshot: &Snapshot) -> Self {
        // The distinct ports first, sorted as small keys: sorting the finished (large) usages would move
        // each of them several times.
        let mut by_key: FastMap<PortKey, usize> = FastMap::default();
        for s in &snapshot.sockets {
            by_key.entry(PortKey::of(s)).or_insert(0);
        }
        let mut keys: Vec<PortKey> = by_key.keys().copied().collect();
        keys.sort_unstable_by_key(|k| (k.port, k.protocol, k.netns));
        let mut ports: Vec<PortUsage> = Vec::with_capacity(keys.len());
        for (i, &key) in keys.iter().enumerate() {
            by_key.insert(key, i);
            ports.push(PortUsage {
                netns: key.netns,
                protocol: key.protocol,
                port: key.port,
                sockets: Vec::new(),
                by_state: [0; TcpState::ALL.len()],
                addresses: SmallSet::default(),
                open_addresses: SmallSet::default(),
                udp_states: [0; 3],
                pids: SmallSet::default(),
            });
        }
        for (i, s) in snapshot.sockets.iter().enumerate() {
            let Some(usage) = by_key
                .get(&PortKey::of(s))
                .and_then(|at| ports.get_mut(*at))
            else {
                continue; // every key was entered above
            };
            usage.sockets.push(i);
            if let Some(state) = s.tcp_state() {
                usage.by_state[state.index()] += 1;
            }
            if let Some(state) = s.udp_state() {
                usage.udp_states[match state {
                    UdpState::Connected => 0,
                    UdpState::Unconnected => 1,
                    UdpState::NotRecorded => 2,
                }] += 1;
            }
            if s.takes_new_peers() {
                usage.open_addresses.insert(s.local.ip());
            }
            usage.addresses.insert(s.local.ip());
            for pid in &s.pids {
                usage.pids.insert(*pid);
            }
        }
        Self { ports, by_key }
    }

    /// Ports in ascending order (port, then protocol, then namespace).
    #[must_use]
    pub fn ports(&self) -> &[PortUsage] {
        &self.ports
    }

    /// The usage of one port, if any socket is on it.
    #[must_use]
    pub fn get(&self, key: PortKey) -> Option<&PortUsage> {
        self.by_key.get(&key).map(|i| &self.ports[*i])
    }

    /// True when a TCP listener in namespace `netns` has `port` (any address).
    #[must_use]
    pub fn is_listening(&self, netns: Option<u64>, port: u16) -> bool {
        self.get(PortKey {
            netns,
            protocol: Protocol::Tcp,
            port,
        })
        .is_some_and(PortUsage::has_listener)
    }

    /// True when the kernel most likely picked `s`'s local port for it ([`kernel_picked`]), with its
    /// namespace's ephemeral range from `snapshot`, which this index was built from.
    #[must_use]
    pub fn kernel_picked(&self, snapshot: &Snapshot, s: &SocketEntry) -> bool {
        let open = || {
            self.get(PortKey::of(s))
                .is_some_and(|u| !u.open_addresses.is_empty())
        };
        kernel_picked(s, &snapshot.facts_in(s.netns), open)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::socket::SocketEntry;
    use chrono::Utc;

    fn tcp(local: &str, remote: &str, state: TcpState, inode: u32) -> SocketEntry {
        SocketEntry::tcp(local.parse().unwrap(), remote.parse().unwrap(), state)
            .with_inode(inode)
            .with_uid(0)
            .with_pids(vec![10])
    }

    #[test]
    fn a_port_the_kernel_picked_for_a_connection_is_told_from_a_served_one() {
        let mut snap = Snapshot::empty("h", Utc::now());
        snap.ephemeral_range = Some(PortRange::LINUX_DEFAULT);
        let udp = |l: &str, r: Option<&str>| {
            SocketEntry::udp(l.parse().unwrap(), r.map(|r| r.parse().unwrap()))
        };
        snap.sockets = vec![
            // A psql client on 40000 (registered as safetynetp) to a local postgres.
            tcp(
                "127.0.0.1:40000",
                "127.0.0.1:5432",
                TcpState::Established,
                1,
            ),
            tcp("0.0.0.0:5432", "0.0.0.0:0", TcpState::Listen, 2),
            // MySQL's X protocol listens on 33060, inside the range: its connections are served.
            tcp("0.0.0.0:33060", "0.0.0.0:0", TcpState::Listen, 3),
            tcp(
                "127.0.0.1:33060",
                "127.0.0.1:50000",
                TcpState::Established,
                4,
            ),
            udp("10.0.0.5:41000", Some("8.8.8.8:53")),
            // WireGuard's unconnected socket on 51820 takes any peer.
            udp("0.0.0.0:51820", None),
        ];
        let index = PortsIndex::build(&snap);
        let picked: Vec<bool> = snap
            .sockets
            .iter()
            .map(|s| index.kernel_picked(&snap, s))
            .collect();
        assert_eq!(picked, [true, false, false, false, true, false]);
        // A reserved port is never picked automatically (ip(7)): a program bound it.
        snap.machine.reserved_ports = Some(vec![PortRange {
            low: 40000,
            high: 40000,
        }]);
        assert!(!index.kernel_picked(&snap, &snap.sockets[0]));
    }

    #[test]
    fn one_port_carries_a_listener_and_its_accepted_connections() {
        let mut snap = Snapshot::empty("h", Utc::now());
        snap.sockets
            .push(tcp("0.0.0.0:5432", "0.0.0.0:0", TcpState::Listen, 1));
        for i in 0..3u16 {
            snap.sockets.push(tcp(
                "127.0.0.1:5432",
                &format!("127.0.0.1:{}", 40000 + i),
                TcpState::Established,
                2 + u32::from(i),
            ));
            snap.sockets.push(tcp(
                &format!("127.0.0.1:{}", 40000 + i),
                "127.0.0.1:5432",
                TcpState::Established,
                10 + u32::from(i),
            ));
        }
        let idx = PortsIndex::build(&snap);
        let key = |protocol, port| PortKey {
            netns: None,
            protocol,
            port,
        };
        let pg = idx.get(key(Protocol::Tcp, 5432)).unwrap();
        assert_eq!(pg.sockets.len(), 4);
        assert_eq!(pg.state_summary(), "1 LISTEN + 3 ESTABLISHED");
        assert_eq!(pg.exposure(), Some(Exposure::AllInterfaces));
        assert!(idx.is_listening(None, 5432));
        assert!(!idx.is_listening(None, 40000));
        assert_eq!(
            idx.get(key(Protocol::Udp, 5432)),
            None,
            "UDP is another number space"
        );
        assert_eq!(idx.ports().len(), 4);
    }

    #[test]
    fn exposure_of_addresses() {
        assert_eq!(
            Exposure::of("127.0.0.5".parse().unwrap()),
            Exposure::Loopback
        );
        assert_eq!(Exposure::of("::1".parse().unwrap()), Exposure::Loopback);
        assert_eq!(
            Exposure::of("::ffff:127.0.0.1".parse().unwrap()),
            Exposure::Loopback
        );
        assert_eq!(Exposure::of("::".parse().unwrap()), Exposure::AllInterfaces);
        assert_eq!(
            Exposure::of("10.0.0.2".parse().unwrap()),
            Exposure::Specific
        );
    }
}

/// A line of the Ports view: one port, or many ephemeral ports that only carry outgoing connections of
/// one owner to one peer port, folded so that service ports stay in view at 50 000 sockets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PortLine {
    /// One port (index into [`PortsIndex::ports`]).
    Port(usize),
    /// Several ports folded into one expandable line.
    Fold(PortFold),
}

/// Ephemeral ports of one owner whose sockets are all connections (none listens or takes datagrams from
/// any source), grouped by the remote port they talk to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PortFold {
    /// Number space.
    pub protocol: Protocol,
    /// Owning process name, or empty when unknown.
    pub owner: String,
    /// The remote port their connections go to; `None` when a port's connections go to several.
    pub peer_port: Option<u16>,
    /// The folded ports (indexes into [`PortsIndex::ports`]), ascending.
    pub ports: Vec<usize>,
}

impl PortFold {
    /// The fold's identity, stable across samples, for remembering which folds are open.
    #[must_use]
    pub fn key(&self) -> (Protocol, String, Option<u16>) {
        (self.protocol, self.owner.clone(), self.peer_port)
    }
}

/// The remote ports a port's connections go to, without collecting them: `None` when there are none,
/// `Some(Some(p))` when all go to `p`, `Some(None)` when they go to several.
fn peer_ports(ports: impl Iterator<Item = u16>) -> Option<Option<u16>> {
    let mut seen: Option<Option<u16>> = None;
    for port in ports {
        seen = match seen {
            None => Some(Some(port)),
            Some(Some(p)) if p == port => Some(Some(p)),
            Some(_) => Some(None),
        };
    }
    seen
}

/// The side rule's facts for one snapshot and its port index.
#[derive(Clone, Copy, Debug)]
pub struct PortFacts<'a> {
    /// The snapshot the index was built from.
    pub snapshot: &'a Snapshot,
    /// Its ports.
    pub index: &'a PortsIndex,
    /// Which ports name a service.
    pub names: &'a dyn PortNames,
}

impl SideFacts for PortFacts<'_> {
    fn ephemeral_range(&self, netns: Option<u64>) -> PortRange {
        self.snapshot.facts_in(netns).ephemeral_range_or_default()
    }
    fn tcp_listening(&self, netns: Option<u64>, port: u16) -> bool {
        self.index.is_listening(netns, port)
    }
    fn is_own_address(&self, netns: Option<u64>, ip: IpAddr) -> Option<bool> {
        self.snapshot.facts_in(netns).is_own_address(ip)
    }
    fn is_registered(&self, port: u16, protocol: Protocol) -> bool {
        self.names.is_registered(port, protocol)
    }
}

/// Orders `visible` ports (indexes into `facts.index`) for the Ports view: service and listening ports
/// first, ascending; then the ports whose every socket is the client end of a connection ([`side_of`]),
/// folded per (owner, service port they talk to), largest fold first. A fold of one port stays a port.
/// Every port line comes before every fold, which the Ports table relies on to map rows without a
/// per-frame list.
#[must_use]
pub fn port_lines(facts: &PortFacts<'_>, visible: &[usize]) -> Vec<PortLine> {
    let (snapshot, index) = (facts.snapshot, facts.index);
    let mut lines = Vec::new();
    // Keyed by the owner's name as the snapshot holds it: a String per port would be 50 000 allocations.
    let mut folds: BTreeMap<(Protocol, &str, Option<u16>), Vec<usize>> = BTreeMap::new();
    for &i in visible {
        let Some(usage) = index.ports.get(i) else {
            continue;
        };
        let sockets = || {
            usage
                .sockets
                .iter()
                .filter_map(|s| snapshot.sockets.get(*s))
        };
        let foldable =
            usage.exposure().is_none() && sockets().all(|s| side_of(s, facts).0 == Side::Client);
        let peer_ports = peer_ports(sockets().filter_map(|s| s.peer()).map(|p| p.port()));
        match (foldable, peer_ports) {
            (true, Some(peer_port)) => {
                let owner = sockets()
                    .find_map(|s| snapshot.process_name(s))
                    .unwrap_or_default();
                folds
                    .entry((usage.protocol, owner, peer_port))
                    .or_default()
                    .push(i);
            }
            _ => lines.push(PortLine::Port(i)),
        }
    }
    let mut folded: Vec<PortFold> = Vec::new();
    for ((protocol, owner, peer_port), ports) in folds {
        if let [one] = ports.as_slice() {
            lines.push(PortLine::Port(*one));
        } else {
            folded.push(PortFold {
                protocol,
                owner: owner.to_owned(),
                peer_port,
                ports,
            });
        }
    }
    lines.sort_by_key(|l| match l {
        PortLine::Port(i) => index.ports.get(*i).map(|u| (u.port, u.protocol)),
        PortLine::Fold(_) => None,
    });
    folded.sort_by(|a, b| {
        b.ports
            .len()
            .cmp(&a.ports.len())
            .then(a.key().cmp(&b.key()))
    });
    lines.extend(folded.into_iter().map(PortLine::Fold));
    lines
}

#[cfg(test)]
mod fold_tests {
    use super::*;
    use crate::model::snapshot::ProcessInfo;
    use crate::model::socket::SocketEntry;
    use chrono::Utc;

    /// nginx listening on 443; firefox with five connections out to 443 and one to 5432.
    fn browser_and_server() -> Snapshot {
        let mut s = Snapshot::empty("h", Utc::now());
        s.sockets.push(
            SocketEntry::tcp(
                "0.0.0.0:443".parse().unwrap(),
                "0.0.0.0:0".parse().unwrap(),
                TcpState::Listen,
            )
            .with_pids(vec![1]),
        );
        for i in 0..5u16 {
            s.sockets.push(
                SocketEntry::tcp(
                    format!("10.0.0.2:{}", 40000 + i).parse().unwrap(),
                    "93.184.216.34:443".parse().unwrap(),
                    TcpState::Established,
                )
                .with_pids(vec![2]),
            );
        }
        s.sockets.push(
            SocketEntry::tcp(
                "10.0.0.2:41000".parse().unwrap(),
                "10.0.0.9:5432".parse().unwrap(),
                TcpState::Established,
            )
            .with_pids(vec![2]),
        );
        for (pid, name) in [(1, "nginx"), (2, "firefox")] {
            s.processes.insert(pid, ProcessInfo::named(pid, name));
        }
        s
    }

    #[test]
    fn outgoing_only_ephemeral_ports_fold_per_owner_and_peer_port() {
        let s = browser_and_server();
        let index = PortsIndex::build(&s);
        let all: Vec<usize> = (0..index.ports().len()).collect();
        let facts = PortFacts {
            snapshot: &s,
            index: &index,
            names: crate::services::registry::Registry::global(),
        };
        let lines = port_lines(&facts, &all);
        assert_eq!(lines.len(), 3, "{lines:?}");
        let port = |l: &PortLine| match l {
            PortLine::Port(i) => index.ports()[*i].port,
            PortLine::Fold(_) => 0,
        };
        assert_eq!(
            port(&lines[0]),
            443,
            "the listening service port comes first"
        );
        assert_eq!(port(&lines[1]), 41000, "a fold of one port stays a port");
        let PortLine::Fold(fold) = &lines[2] else {
            panic!("the five firefox → 443 ports fold: {lines:?}")
        };
        assert_eq!(
            (fold.owner.as_str(), fold.peer_port, fold.ports.len()),
            ("firefox", Some(443), 5)
        );
    }
}

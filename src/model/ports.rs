//! Sockets grouped by local (protocol, port): the view that shows one port carrying many sockets.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::IpAddr;

use super::port_class::PortClass;
use super::snapshot::Snapshot;
use super::socket::{Protocol, TcpState, UdpState};

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
        let addr = match addr {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(addr, IpAddr::V4),
            v4 @ IpAddr::V4(_) => v4,
        };
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

    /// What the badge means, for a tooltip.
    #[must_use]
    pub fn meaning(self) -> &'static str {
        match self {
            Self::Loopback => {
                "Bound to a loopback address: only programs in this host's network namespace can reach it."
            }
            Self::Specific => {
                "Bound to one address of this host: reachable by any host that can route packets to that \
                 address (Linux accepts them on any interface), unless a firewall or rp_filter says otherwise."
            }
            Self::AllInterfaces => {
                "Bound to a wildcard address (0.0.0.0 for IPv4; :: for IPv6, and IPv4 too unless IPV6_V6ONLY is \
                 set): reachable through every interface of this host, unless a firewall says otherwise."
            }
        }
    }
}

/// One local (protocol, port) in use and the sockets on it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PortUsage {
    /// Number space.
    pub protocol: Protocol,
    /// Port number.
    pub port: u16,
    /// Indexes into the snapshot's `sockets`.
    pub sockets: Vec<usize>,
    /// TCP sockets per state, indexed by [`TcpState::index`].
    pub by_state: [u32; TcpState::ALL.len()],
    /// Local addresses the sockets are bound to.
    pub addresses: BTreeSet<IpAddr>,
    /// Local addresses of the sockets that take new peers: TCP listeners and unconnected UDP sockets.
    pub open_addresses: BTreeSet<IpAddr>,
    /// UDP sockets per state: connected, unconnected, not recorded.
    pub udp_states: [u32; 3],
    /// Owning PIDs.
    pub pids: BTreeSet<u32>,
}

impl PortUsage {
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
    by_key: HashMap<(Protocol, u16), usize>,
}

impl PortsIndex {
    /// Groups a snapshot's sockets by local (protocol, port).
    #[must_use]
    pub fn build(snapshot: &Snapshot) -> Self {
        let mut groups: BTreeMap<(u16, Protocol), PortUsage> = BTreeMap::new();
        for (i, s) in snapshot.sockets.iter().enumerate() {
            let port = s.local.port();
            let usage = groups
                .entry((port, s.protocol))
                .or_insert_with(|| PortUsage {
                    protocol: s.protocol,
                    port,
                    sockets: Vec::new(),
                    by_state: [0; TcpState::ALL.len()],
                    addresses: BTreeSet::new(),
                    open_addresses: BTreeSet::new(),
                    udp_states: [0; 3],
                    pids: BTreeSet::new(),
                });
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
            let takes_new_peers = s.is_listener()
                || matches!(
                    s.udp_state(),
                    Some(UdpState::Unconnected | UdpState::NotRecorded)
                );
            if takes_new_peers {
                usage.open_addresses.insert(s.local.ip());
            }
            usage.addresses.insert(s.local.ip());
            usage.pids.extend(s.pids.iter().copied());
        }
        let ports: Vec<PortUsage> = groups.into_values().collect();
        let by_key = ports
            .iter()
            .enumerate()
            .map(|(i, p)| ((p.protocol, p.port), i))
            .collect();
        Self { ports, by_key }
    }

    /// Ports in ascending order (port, then protocol).
    #[must_use]
    pub fn ports(&self) -> &[PortUsage] {
        &self.ports
    }

    /// The usage of one (protocol, port), if any socket is on it.
    #[must_use]
    pub fn get(&self, protocol: Protocol, port: u16) -> Option<&PortUsage> {
        self.by_key.get(&(protocol, port)).map(|i| &self.ports[*i])
    }

    /// True when a TCP listener on this host has `port` (any address).
    #[must_use]
    pub fn is_listening(&self, port: u16) -> bool {
        self.get(Protocol::Tcp, port)
            .is_some_and(PortUsage::has_listener)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::socket::{SocketEntry, SocketState};
    use chrono::Utc;

    fn tcp(local: &str, remote: &str, state: TcpState, inode: u32) -> SocketEntry {
        SocketEntry {
            protocol: Protocol::Tcp,
            local: local.parse().unwrap(),
            remote: Some(remote.parse().unwrap()),
            state: SocketState::Tcp(state),
            inode: Some(inode),
            uid: Some(0),
            pids: vec![10],
            owner_note: None,
            details: Default::default(),
        }
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
        let pg = idx.get(Protocol::Tcp, 5432).unwrap();
        assert_eq!(pg.sockets.len(), 4);
        assert_eq!(pg.state_summary(), "1 LISTEN + 3 ESTABLISHED");
        assert_eq!(pg.exposure(), Some(Exposure::AllInterfaces));
        assert!(idx.is_listening(5432));
        assert!(!idx.is_listening(40000));
        assert_eq!(
            idx.get(Protocol::Udp, 5432),
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

//! A snapshot: every socket and owning process of one host at one instant.

use std::collections::BTreeMap;
use std::net::IpAddr;

use chrono::{DateTime, Utc};

use super::socket::SocketEntry;

/// The range of local ports the kernel picks from when a program does not choose one (Linux:
/// `net.ipv4.ip_local_port_range`, 32768–60999 by default). Not the same as IANA's dynamic range.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PortRange {
    /// First port of the range, inclusive.
    pub low: u16,
    /// Last port of the range, inclusive.
    pub high: u16,
}

impl PortRange {
    /// Linux's default `ip_local_port_range`.
    pub const LINUX_DEFAULT: Self = Self {
        low: 32768,
        high: 60999,
    };

    /// IANA's dynamic (private) port range, RFC 6335 §6.
    pub const IANA_DYNAMIC: Self = Self {
        low: 49152,
        high: 65535,
    };

    /// True when `port` lies in the range.
    #[must_use]
    pub fn contains(self, port: u16) -> bool {
        (self.low..=self.high).contains(&port)
    }

    /// How many ports the range holds.
    #[must_use]
    pub fn len(self) -> u32 {
        u32::from(self.high).saturating_sub(u32::from(self.low)) + 1
    }

    /// Never true for a valid range; present because `len` is.
    #[must_use]
    pub fn is_empty(self) -> bool {
        self.high < self.low
    }
}

/// A value the explanations depend on, and whether it was read from the sampled machine or assumed (the
/// Linux default) because the snapshot did not record it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Known<T> {
    /// The value.
    pub value: T,
    /// True when the snapshot did not record it and this is Linux's default.
    pub assumed: bool,
}

impl<T> Known<T> {
    fn of(recorded: Option<T>, default: T) -> Self {
        match recorded {
            Some(value) => Self {
                value,
                assumed: false,
            },
            None => Self {
                value: default,
                assumed: true,
            },
        }
    }

    /// `" (assumed: Linux's default; this snapshot did not record it)"` when assumed, else empty: the
    /// suffix every sentence built on this value carries.
    #[must_use]
    pub fn note(&self) -> &'static str {
        if self.assumed {
            " (assumed: Linux's default; this snapshot did not record it)"
        } else {
            ""
        }
    }
}

/// Kernel settings of the sampled host's network namespace that decide what binds and what an address
/// means. `None` where the snapshot did not record it (files of format version 1, other systems).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MachineFacts {
    /// `net.ipv4.ip_unprivileged_port_start`: ports below it need CAP_NET_BIND_SERVICE (IPv6 too).
    pub unprivileged_port_start: Option<u16>,
    /// `net.ipv4.ip_local_reserved_ports`: ranges the kernel never picks as ephemeral ports.
    pub reserved_ports: Option<Vec<PortRange>>,
    /// `net.ipv6.bindv6only`: the IPV6_V6ONLY a new IPv6 socket starts with.
    pub bindv6only: Option<bool>,
    /// `net.ipv4.tcp_tw_reuse`: 0 off, 1 on, 2 on for loopback only (the default).
    pub tcp_tw_reuse: Option<u8>,
    /// The addresses of this host's interfaces (IPv4 and IPv6).
    pub local_addresses: Option<Vec<IpAddr>>,
}

impl MachineFacts {
    /// The first port a process without CAP_NET_BIND_SERVICE may bind (Linux default 1024).
    #[must_use]
    pub fn unprivileged_port_start(&self) -> Known<u16> {
        Known::of(self.unprivileged_port_start, 1024)
    }

    /// `net.ipv4.tcp_tw_reuse` (Linux default 2: reuse TIME_WAIT tuples for loopback connections only).
    #[must_use]
    pub fn tcp_tw_reuse(&self) -> Known<u8> {
        Known::of(self.tcp_tw_reuse, 2)
    }

    /// Whether new IPv6 sockets start IPv6-only (Linux default: no).
    #[must_use]
    pub fn bindv6only(&self) -> Known<bool> {
        Known::of(self.bindv6only, false)
    }
}

/// A process that owns at least one socket in a snapshot.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProcessInfo {
    /// Process id.
    pub pid: u32,
    /// Short name (`comm`), e.g. `nginx`.
    pub name: String,
    /// Name of the user the process runs as, when known.
    pub user: Option<String>,
    /// Path of the executable, when readable.
    pub exe: Option<String>,
    /// Command line arguments; `None` unless asked for, because command lines can hold secrets.
    pub cmdline: Option<Vec<String>>,
}

impl ProcessInfo {
    /// Process `pid` named `name`, with nothing else known.
    #[must_use]
    pub fn named(pid: u32, name: impl Into<String>) -> Self {
        Self {
            pid,
            name: name.into(),
            user: None,
            exe: None,
            cmdline: None,
        }
    }
}

/// Every socket and owning process of one host at one instant.
#[derive(Clone, Debug, PartialEq)]
pub struct Snapshot {
    /// When the sample was taken (UTC).
    pub taken_at: DateTime<Utc>,
    /// The host name of the machine sampled.
    pub host: String,
    /// The machine's ephemeral port range, when known; explanations use it rather than this machine's.
    pub ephemeral_range: Option<PortRange>,
    /// All sockets, in the kernel's order.
    pub sockets: Vec<SocketEntry>,
    /// Owning processes by PID.
    pub processes: BTreeMap<u32, ProcessInfo>,
    /// User names by uid, for the sockets' `uid`.
    pub users: BTreeMap<u32, String>,
    /// What the sampler could not see, in sentences (a refused kernel dump and the fallback used).
    pub notes: Vec<String>,
    /// The sampled host's settings that explanations depend on.
    pub machine: MachineFacts,
    /// Host names of peer addresses, looked up with the system resolver when the user asked for names
    /// (`--resolve`); empty otherwise.
    pub hosts: BTreeMap<IpAddr, String>,
    /// Unix domain sockets (empty where the source does not list them, and in files before version 3).
    pub unix_sockets: Vec<super::unix::UnixSocket>,
    /// The network namespaces sampled, by inode (empty where not recorded: files before version 4,
    /// systems other than Linux).
    pub namespaces: BTreeMap<u64, super::netns::NetNamespace>,
}

/// How a process is named in every list and sentence: `name[pid]`, or `?[pid]` when its name is unknown
/// (it exited before its details were read, or the file did not record it).
#[must_use]
pub fn process_label(name: Option<&str>, pid: u32) -> String {
    format!("{}[{pid}]", name.unwrap_or("?"))
}

impl Snapshot {
    /// An empty snapshot of `host` taken at `taken_at`.
    #[must_use]
    pub fn empty(host: impl Into<String>, taken_at: DateTime<Utc>) -> Self {
        Self {
            taken_at,
            host: host.into(),
            ephemeral_range: None,
            sockets: Vec::new(),
            processes: BTreeMap::new(),
            users: BTreeMap::new(),
            notes: Vec::new(),
            machine: MachineFacts::default(),
            hosts: BTreeMap::new(),
            unix_sockets: Vec::new(),
            namespaces: BTreeMap::new(),
        }
    }

    /// The namespace a socket lives in, when recorded.
    #[must_use]
    pub fn namespace(&self, netns: Option<u64>) -> Option<&super::netns::NetNamespace> {
        self.namespaces.get(&netns?)
    }

    /// How lists name a socket's namespace ([`super::netns::NetNamespace::label`]); empty when not
    /// recorded.
    #[must_use]
    pub fn namespace_label(&self, netns: Option<u64>) -> String {
        match (netns, self.namespace(netns)) {
            (_, Some(ns)) => ns.label(),
            (Some(inode), None) => format!("netns {inode}"),
            (None, None) => String::new(),
        }
    }

    /// Where sockets of namespace `netns` live, as sentences name it: this host for the host's
    /// namespace (and when none is recorded), else that namespace.
    #[must_use]
    pub fn place(&self, netns: Option<u64>) -> super::netns::Place {
        self.namespace(netns)
            .filter(|ns| !ns.host && self.spans_namespaces())
            .map(super::netns::Place::other)
            .unwrap_or_default()
    }

    /// True when the sample spans more than one network namespace: only then do lists need a namespace
    /// column.
    #[must_use]
    pub fn spans_namespaces(&self) -> bool {
        self.namespaces.len() > 1
    }

    /// The name of a socket's first owning process, if any.
    #[must_use]
    pub fn process_name(&self, socket: &SocketEntry) -> Option<&str> {
        socket
            .pids
            .first()
            .and_then(|pid| self.processes.get(pid))
            .map(|p| p.name.as_str())
    }

    /// Process `pid` as every list names it: [`process_label`] with its name from this snapshot.
    #[must_use]
    pub fn process_label(&self, pid: u32) -> String {
        process_label(self.processes.get(&pid).map(|p| p.name.as_str()), pid)
    }

    /// One name per owning PID, in the order of `pids`, joined with `,`; an unknown name is empty. Unlike
    /// the Process column ([`crate::model::join::OwnerFacts`]) nothing is dropped or merged, so a reader
    /// can give each PID its own name back (the CSV `process` column).
    #[must_use]
    pub fn process_names_by_pid(&self, socket: &SocketEntry) -> String {
        let names: Vec<&str> = socket
            .pids
            .iter()
            .map(|pid| self.processes.get(pid).map_or("", |p| p.name.as_str()))
            .collect();
        names.join(",")
    }

    /// Every distinct peer address (as [`SocketEntry::peer_ip`] gives it), ascending: what a name lookup
    /// asks about. Unspecified addresses are left out.
    #[must_use]
    pub fn peer_addresses(&self) -> Vec<IpAddr> {
        let mut peers: Vec<IpAddr> = self
            .sockets
            .iter()
            .filter_map(SocketEntry::peer_ip)
            .filter(|ip| !ip.is_unspecified())
            .collect();
        peers.sort_unstable();
        peers.dedup();
        peers
    }

    /// The host name of `socket`'s peer, when names were looked up and it has one.
    #[must_use]
    pub fn remote_host(&self, socket: &SocketEntry) -> Option<&str> {
        self.hosts.get(&socket.peer_ip()?).map(String::as_str)
    }

    /// The user that owns a socket: from its uid, else from its process.
    #[must_use]
    pub fn user_of(&self, socket: &SocketEntry) -> Option<&str> {
        socket
            .uid
            .and_then(|uid| self.users.get(&uid))
            .map(String::as_str)
            .or_else(|| {
                socket
                    .pids
                    .first()
                    .and_then(|pid| self.processes.get(pid))
                    .and_then(|p| p.user.as_deref())
            })
    }

    /// The namespace Sockscope sampled from (whose settings are [`Self::machine`]), when recorded.
    #[must_use]
    pub fn sampler_netns(&self) -> Option<u64> {
        self.namespaces
            .values()
            .find(|n| n.sampler)
            .map(|n| n.inode)
    }

    /// The settings of network namespace `netns`, which explain its sockets: its own where recorded;
    /// the sampler's namespace's (the snapshot's `machine` and `ephemeral_range`) for that namespace
    /// and where no namespace was recorded; none, so every value reads as assumed, for another
    /// namespace whose settings could not be read (they are its own, not the host's).
    #[must_use]
    pub fn facts_in(&self, netns: Option<u64>) -> NsFacts<'_> {
        /// Settings nobody recorded.
        static UNRECORDED: MachineFacts = MachineFacts {
            unprivileged_port_start: None,
            reserved_ports: None,
            bindv6only: None,
            tcp_tw_reuse: None,
            local_addresses: None,
        };
        let sampler = self.sampler_netns();
        match self.namespace(netns).and_then(|n| n.facts.as_ref()) {
            Some(facts) => NsFacts {
                ephemeral_range: facts.ephemeral_range,
                machine: &facts.machine,
                netns,
                sockets: &self.sockets,
            },
            None if sampler.is_some() && netns.is_some() && netns != sampler => NsFacts {
                ephemeral_range: None,
                machine: &UNRECORDED,
                netns,
                sockets: &self.sockets,
            },
            None => NsFacts {
                ephemeral_range: self.ephemeral_range,
                machine: &self.machine,
                netns: sampler.or(netns),
                sockets: &self.sockets,
            },
        }
    }

    /// The sampler's namespace's settings: [`Self::facts_in`] of it.
    fn sampler_facts(&self) -> NsFacts<'_> {
        self.facts_in(self.sampler_netns())
    }

    /// The ephemeral range of the sampler's namespace: the recorded one, else Linux's default.
    #[must_use]
    pub fn ephemeral_range_or_default(&self) -> PortRange {
        self.sampler_facts().ephemeral_range_or_default()
    }

    /// The ephemeral range of the sampler's namespace, marked assumed when not recorded.
    #[must_use]
    pub fn ephemeral_range_known(&self) -> Known<PortRange> {
        self.sampler_facts().ephemeral_range_known()
    }

    /// True when `port` is in the sampler's namespace's `ip_local_reserved_ports`; `None` when the
    /// snapshot did not record them.
    #[must_use]
    pub fn is_reserved_port(&self, port: u16) -> Option<bool> {
        self.sampler_facts().is_reserved_port(port)
    }

    /// Whether `ip` is an address of the sampler's namespace ([`NsFacts::is_own_address`]).
    #[must_use]
    pub fn is_own_address(&self, ip: IpAddr) -> Option<bool> {
        self.sampler_facts().is_own_address(ip)
    }
}

/// One network namespace's settings as the explanations of its sockets read them: its ephemeral range
/// and [`MachineFacts`], with Linux's defaults, labelled assumed, where they were not recorded.
#[derive(Clone, Copy, Debug)]
pub struct NsFacts<'a> {
    /// `net.ipv4.ip_local_port_range` of the namespace, when recorded.
    pub ephemeral_range: Option<PortRange>,
    /// Its other settings.
    pub machine: &'a MachineFacts,
    /// Which namespace (`None` where not recorded).
    netns: Option<u64>,
    /// The snapshot's sockets, to tell an address by a socket bound to it when addresses were not
    /// recorded.
    sockets: &'a [SocketEntry],
}

impl NsFacts<'_> {
    /// The ephemeral range: the recorded one, else Linux's default.
    #[must_use]
    pub fn ephemeral_range_or_default(&self) -> PortRange {
        self.ephemeral_range.unwrap_or(PortRange::LINUX_DEFAULT)
    }

    /// The ephemeral range, marked assumed when not recorded.
    #[must_use]
    pub fn ephemeral_range_known(&self) -> Known<PortRange> {
        Known::of(self.ephemeral_range, PortRange::LINUX_DEFAULT)
    }

    /// True when `port` is in `ip_local_reserved_ports`; `None` when not recorded.
    #[must_use]
    pub fn is_reserved_port(&self, port: u16) -> Option<bool> {
        self.machine
            .reserved_ports
            .as_ref()
            .map(|ranges| ranges.iter().any(|r| r.contains(port)))
    }

    /// Whether `ip` is an address of this namespace: loopback and IPv4-mapped loopback always are;
    /// others by the recorded interface addresses, or by a socket of the namespace bound to it. `None`
    /// when that cannot be told (addresses not recorded and no socket bound to it).
    #[must_use]
    pub fn is_own_address(&self, ip: IpAddr) -> Option<bool> {
        let ip = ip.to_canonical();
        if ip.is_loopback() {
            return Some(true);
        }
        if let Some(addresses) = &self.machine.local_addresses {
            return Some(addresses.contains(&ip));
        }
        self.sockets
            .iter()
            .any(|s| s.netns == self.netns && s.local.ip() == ip)
            .then_some(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linux_default_range_holds_28232_ports() {
        assert_eq!(PortRange::LINUX_DEFAULT.len(), 28_232);
        assert!(PortRange::LINUX_DEFAULT.contains(32768));
        assert!(PortRange::LINUX_DEFAULT.contains(60999));
        assert!(!PortRange::LINUX_DEFAULT.contains(61000));
    }

    /// The sampler's namespace with its settings, a container's that could not be read (2), with a
    /// socket on 172.17.0.2, and one read from inside (3).
    fn three_namespaces() -> Snapshot {
        use crate::model::netns::{NamespaceFacts, NetNamespace};
        use crate::model::socket::{SocketEntry, TcpState};
        let mut s = Snapshot::empty("h", chrono::Utc::now());
        s.ephemeral_range = Some(PortRange {
            low: 20000,
            high: 20999,
        });
        s.machine.unprivileged_port_start = Some(80);
        s.machine.local_addresses = Some(vec!["192.0.2.1".parse().unwrap()]);
        let mut host = NetNamespace::listed(1, true, None);
        host.sampler = true;
        let mut read = NetNamespace::listed(3, false, Some("lxc web1"));
        read.facts = Some(NamespaceFacts {
            ephemeral_range: Some(PortRange {
                low: 40000,
                high: 40100,
            }),
            ..NamespaceFacts::default()
        });
        s.namespaces = [
            (1, host),
            (
                2,
                NetNamespace::listed(2, false, Some("docker 3f2a1b9c8d7e")),
            ),
            (3, read),
        ]
        .into();
        s.sockets = vec![
            SocketEntry::tcp(
                "172.17.0.2:5432".parse().unwrap(),
                "0.0.0.0:0".parse().unwrap(),
                TcpState::Listen,
            )
            .with_netns(2),
        ];
        s
    }

    #[test]
    fn another_namespaces_unread_settings_are_assumed_not_the_hosts() {
        let s = three_namespaces();
        let (sampler, unread, own) = (
            s.facts_in(Some(1)),
            s.facts_in(Some(2)),
            s.facts_in(Some(3)),
        );
        assert_eq!(sampler.ephemeral_range_known().value.low, 20000);
        assert!(!sampler.ephemeral_range_known().assumed);
        assert!(
            unread.ephemeral_range_known().assumed,
            "not the host's range"
        );
        assert!(unread.machine.unprivileged_port_start().assumed);
        assert_eq!(own.ephemeral_range_known().value.low, 40000);
        let host_ip: IpAddr = "192.0.2.1".parse().unwrap();
        assert_eq!(sampler.is_own_address(host_ip), Some(true));
        assert_eq!(
            unread.is_own_address(host_ip),
            None,
            "the host's address is not the container's"
        );
        assert_eq!(
            unread.is_own_address("172.17.0.2".parse().unwrap()),
            Some(true),
            "its own socket is bound to it"
        );
        assert_eq!(
            s.facts_in(None).ephemeral_range_known().value.low,
            20000,
            "no namespace recorded: the snapshot's own"
        );
    }
}

//! The "Socket vs port" page: the comparison aspect by aspect and the four questions people ask, each
//! answered with evidence from the sockets of one snapshot, with links to the sockets it cites.

use std::collections::{BTreeMap, HashMap};

use crate::model::port_class::PortClass;
use crate::model::ports::{Exposure, PortKey, PortUsage, PortsIndex};
use crate::model::snapshot::Snapshot;
use crate::model::socket::{Protocol, SocketEntry, SocketKey, TcpState};
use crate::services::registry::Registry;

/// A sentence of live evidence, with the socket it cites (a link that selects it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Evidence {
    /// What this machine shows.
    pub text: String,
    /// The socket cited, if one.
    pub socket: Option<SocketKey>,
}

/// One row of the comparison: what the aspect means for ports and for sockets, and what this machine
/// shows of it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PageAspect {
    /// The aspect, e.g. "Scope".
    pub aspect: &'static str,
    /// For a port.
    pub port: String,
    /// For a socket.
    pub socket: String,
    /// Live evidence.
    pub evidence: Vec<Evidence>,
}

/// A question with its answer and live evidence.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Faq {
    /// The question.
    pub question: &'static str,
    /// The answer, true everywhere.
    pub answer: String,
    /// What this machine shows.
    pub evidence: Vec<Evidence>,
}

/// The whole page for one snapshot.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Page {
    /// The comparison, aspect by aspect.
    pub aspects: Vec<PageAspect>,
    /// The questions.
    pub faqs: Vec<Faq>,
}

fn cite(text: String, s: &SocketEntry) -> Evidence {
    Evidence {
        text,
        socket: Some(s.key()),
    }
}

fn say(text: String) -> Evidence {
    Evidence { text, socket: None }
}

/// Facts about one snapshot that several answers cite, computed once.
struct Facts<'a> {
    snap: &'a Snapshot,
    ports: &'a PortsIndex,
    registry: &'a Registry,
    listeners: Vec<&'a SocketEntry>,
    connected: Option<&'a SocketEntry>,
    udp: Option<&'a SocketEntry>,
    busiest_port: Option<(PortKey, usize)>,
}

impl<'a> Facts<'a> {
    fn of(snap: &'a Snapshot, ports: &'a PortsIndex, registry: &'a Registry) -> Self {
        let listeners: Vec<&SocketEntry> =
            snap.sockets.iter().filter(|s| s.is_listener()).collect();
        let connected = snap
            .sockets
            .iter()
            .find(|s| s.tcp_state() == Some(TcpState::Established) && !s.pids.is_empty())
            .or_else(|| snap.sockets.iter().find(|s| s.peer().is_some()));
        let udp = snap.sockets.iter().find(|s| s.protocol == Protocol::Udp);
        let busiest_port = ports
            .ports()
            .iter()
            .max_by_key(|p| (p.sockets.len(), std::cmp::Reverse(p.port)))
            .map(|p| (p.key(), p.sockets.len()));
        Self {
            snap,
            ports,
            registry,
            listeners,
            connected,
            udp,
            busiest_port,
        }
    }

    fn first_on(&self, key: PortKey) -> Option<&'a SocketEntry> {
        let usage = self.ports.get(key)?;
        usage
            .sockets
            .first()
            .and_then(|i| self.snap.sockets.get(*i))
    }

    fn owner(&self, s: &SocketEntry) -> String {
        self.snap
            .process_name(s)
            .map_or_else(|| "an unknown owner".to_owned(), str::to_owned)
    }
}

/// Builds the page from `snap`.
#[must_use]
pub fn page(snap: &Snapshot, ports: &PortsIndex, registry: &Registry) -> Page {
    let f = Facts::of(snap, ports, registry);
    Page {
        aspects: aspects(&f),
        faqs: vec![
            several_ports(&f),
            exploitable(&f),
            change_port(&f),
            same_everywhere(&f),
        ],
    }
}

/// The comparison, one row per aspect, each with this machine's evidence.
fn aspects(f: &Facts<'_>) -> Vec<PageAspect> {
    vec![
        definition_row(f),
        scope_row(f),
        type_row(f),
        role_row(f),
        configuration_row(f),
        security_row(f),
        connection_type_row(f),
        lifecycle_row(f),
        addressing_row(f),
        dependency_row(f),
        examples_row(f),
    ]
}

/// One row of the comparison.
fn aspect(aspect: &'static str, port: &str, socket: &str, evidence: Vec<Evidence>) -> PageAspect {
    PageAspect {
        aspect,
        port: port.to_owned(),
        socket: socket.to_owned(),
        evidence,
    }
}

/// Definition, with how many ports, sockets and processes this machine has.
fn definition_row(f: &Facts<'_>) -> PageAspect {
    let count = |p: Protocol| f.ports.ports().iter().filter(|u| u.protocol == p).count();
    let processes = f.snap.processes.len();
    aspect(
        "Definition",
        "A 16-bit number (0–65535) in the TCP or the UDP number space of one host.",
        "An endpoint object the kernel keeps for a program (created by socket() or accept()): bound \
         to a local address and port and, once connected, identified by its 5-tuple.",
        std::iter::once(say(format!(
            "Here: {} TCP and {} UDP ports in use, by {} sockets, {} of them held by {processes} visible \
             process{}.",
            count(Protocol::Tcp),
            count(Protocol::Udp),
            f.snap.sockets.len(),
            f.snap.sockets.iter().filter(|s| !s.pids.is_empty()).count(),
            if processes == 1 { "" } else { "es" }
        )))
        .chain(unix_evidence(f.snap))
        .collect(),
    )
}

/// Not every socket has a port: this machine's Unix domain sockets, named by a path or by nothing.
fn unix_evidence(snap: &Snapshot) -> Option<Evidence> {
    let unix = &snap.unix_sockets;
    let named = unix.iter().find(|u| u.path.is_some())?;
    let paired = unix
        .iter()
        .filter(|u| u.path.is_none() && u.peer_inode.is_some())
        .count();
    let owner = named.pids.first().map_or_else(String::new, |pid| {
        format!(", held by {}", snap.process_label(*pid))
    });
    let pairs = if paired == 0 {
        String::new()
    } else {
        format!(
            " {paired} have no name at all and are reached only through the socket they are connected to."
        )
    };
    Some(say(format!(
        "Not every socket has a port: {} Unix domain sockets here use none. {} (inode {}{owner}) is named \
         by a path.{pairs}",
        unix.len(),
        named.path.as_deref().unwrap_or_default(),
        named.inode
    )))
}

/// Scope, with a number in use in both number spaces and a socket several processes hold.
fn scope_row(f: &Facts<'_>) -> PageAspect {
    aspect(
        "Scope",
        "One number per protocol per host (per network namespace): 53/tcp and 53/udp are two ports.",
        "Belongs to the processes that hold a file descriptor for it; a fork() shares it.",
        scope_evidence(f),
    )
}

/// Type, with how many ports of each RFC 6335 class are in use.
fn type_row(f: &Facts<'_>) -> PageAspect {
    let by_class = |c: PortClass| f.ports.ports().iter().filter(|u| u.class() == c).count();
    aspect(
        "Type",
        "RFC 6335 classes by number: system 0–1023, user 1024–49151, dynamic 49152–65535.",
        "By protocol: a TCP socket is a byte stream (SOCK_STREAM), a UDP socket sends datagrams \
         (SOCK_DGRAM).",
        vec![say(format!(
            "Here: {} system, {} user and {} dynamic ports in use.",
            by_class(PortClass::System),
            by_class(PortClass::User),
            by_class(PortClass::Dynamic)
        ))],
    )
}

/// Role, with this machine's listeners and the connections they accepted.
fn role_row(f: &Facts<'_>) -> PageAspect {
    aspect(
        "Role",
        "Names a service by convention (IANA's registry): clients find a server by its port.",
        "Does the work: a TCP listener accepts connections, and each accepted connection is a new \
         socket on the same port.",
        role_evidence(f),
    )
}

/// Configuration, with this machine's ephemeral range and how many sockets use it.
fn configuration_row(f: &Facts<'_>) -> PageAspect {
    let range = f.snap.ephemeral_range_known();
    let in_range = f
        .snap
        .sockets
        .iter()
        .filter(|s| range.value.contains(s.local.port()))
        .count();
    aspect(
        "Configuration",
        "Chosen by a program's bind(), or picked by the kernel from the ephemeral range when a program \
         connects without binding.",
        "Set per socket with options (SO_REUSEADDR, SO_REUSEPORT, IPV6_V6ONLY, timeouts…).",
        vec![say(format!(
            "Here: the ephemeral range is {}–{}{}, and {in_range} sockets use a port in it.",
            range.value.low,
            range.value.high,
            range.note()
        ))],
    )
}

/// Security, with the listeners reachable from the network.
fn security_row(f: &Facts<'_>) -> PageAspect {
    aspect(
        "Security",
        "A listening port is what a scanner finds; what can be attacked is the program behind it.",
        "Belongs to processes running as some user; the kernel records the uid that created it.",
        security_evidence(f),
    )
}

/// Connection type, citing one connected socket.
fn connection_type_row(f: &Facts<'_>) -> PageAspect {
    aspect(
        "Connection type",
        "Comes from the number space the port is in: a TCP port's sockets are connection-oriented, \
         a UDP port's sockets exchange datagrams.",
        "A TCP socket goes through connection states (RFC 9293); a UDP socket is connected (to one \
         peer, after connect()) or not.",
        f.connected
            .map(|s| vec![cite(format!("For example {s}."), s)])
            .unwrap_or_default(),
    )
}

/// Lifecycle, with how many TIME_WAIT sockets still hold their ports.
fn lifecycle_row(f: &Facts<'_>) -> PageAspect {
    aspect(
        "Lifecycle",
        "In use while at least one socket is bound to it (a TIME_WAIT socket counts).",
        "Lives from socket() to close(); TCP may keep the tuple in TIME_WAIT after close().",
        vec![say(format!(
            "Here: {} sockets in TIME_WAIT hold their ports after their programs closed them.",
            f.snap
                .sockets
                .iter()
                .filter(|s| s.tcp_state() == Some(TcpState::TimeWait))
                .count()
        ))],
    )
}

/// Addressing, citing one connected socket's five values.
fn addressing_row(f: &Facts<'_>) -> PageAspect {
    aspect(
        "Addressing",
        "Half of an endpoint: with an IP address it makes ADDR:PORT.",
        "A connected socket is told apart by protocol, local address, local port, remote address \
         and remote port.",
        f.connected
            .map(|s| {
                let peer = s.peer().map_or_else(String::new, |p| p.to_string());
                vec![cite(
                    format!(
                        "{} {} ↔ {peer}: five values, two ports.",
                        s.protocol, s.local
                    ),
                    s,
                )]
            })
            .unwrap_or_default(),
    )
}

/// Dependency, citing the port that carries the most sockets.
fn dependency_row(f: &Facts<'_>) -> PageAspect {
    aspect(
        "Dependency",
        "Exists in use only through sockets bound to it.",
        "Needs a local port: bind() chooses it (port 0: the kernel picks), connect() or a first sendto() has the kernel pick one, and accept() gives it the listener's.",
        f.busiest_port
            .and_then(|(key, count)| {
                let (p, n) = (key.protocol, key.port);
                let s = f.first_on(key)?;
                Some(vec![cite(
                    format!("{n}/{p} carries {count} sockets right now."),
                    s,
                )])
            })
            .unwrap_or_default(),
    )
}

/// Examples, citing a listener, a connection and a UDP socket of this machine.
fn examples_row(f: &Facts<'_>) -> PageAspect {
    aspect(
        "Examples",
        "443/tcp (https), 53/udp (domain), 5432/tcp (postgresql) in IANA's registry.",
        "A listener, each connection it accepted, a client's connection, a DNS resolver's UDP socket.",
        examples(f),
    )
}

fn scope_evidence(f: &Facts<'_>) -> Vec<Evidence> {
    let mut out = Vec::new();
    let both = f.ports.ports().iter().find(|u| {
        u.protocol == Protocol::Tcp
            && f.ports
                .get(PortKey {
                    protocol: Protocol::Udp,
                    ..u.key()
                })
                .is_some()
    });
    if let Some(u) = both {
        out.push(say(format!(
            "Here: {0}/tcp and {0}/udp are both in use — two ports that share a number.",
            u.port
        )));
    }
    if let Some(s) = f.snap.sockets.iter().find(|s| s.pids.len() > 1) {
        out.push(cite(
            format!("{s} is held by {} processes at once.", s.pids.len()),
            s,
        ));
    }
    out
}

fn role_evidence(f: &Facts<'_>) -> Vec<Evidence> {
    let time_wait = |s: &SocketEntry| s.tcp_state() == Some(TcpState::TimeWait);
    let connected = f
        .snap
        .sockets
        .iter()
        .filter(|s| s.peer().is_some() && !time_wait(s))
        .count();
    let waiting = f.snap.sockets.iter().filter(|s| time_wait(s)).count();
    let mut out = vec![say(format!(
        "Here: {} listeners, {connected} connected sockets and {waiting} in TIME_WAIT.",
        f.listeners.len()
    ))];
    if let Some(l) = f.listeners.first() {
        let p = l.local.port();
        let accepted = f
            .ports
            .get(PortKey::of(l))
            .map_or(0, |u| u.sockets.len().saturating_sub(1));
        out.push(cite(
            format!(
                "{} listens on {p}/{} ({}); {accepted} other sockets share that port.",
                f.owner(l),
                l.protocol,
                f.registry.name(p, l.protocol)
            ),
            l,
        ));
    }
    out
}

fn security_evidence(f: &Facts<'_>) -> Vec<Evidence> {
    let open: Vec<&&SocketEntry> = f
        .listeners
        .iter()
        .filter(|s| Exposure::of(s.local.ip()) == Exposure::AllInterfaces)
        .collect();
    let local = f
        .listeners
        .iter()
        .filter(|s| Exposure::of(s.local.ip()) == Exposure::Loopback)
        .count();
    let mut out = vec![say(format!(
        "Here: {} listeners on a wildcard address (0.0.0.0 takes every IPv4 address of {}, :: \
         every IPv6 one and IPv4 too unless IPV6_V6ONLY is on; reachable from the network unless a \
         firewall blocks them), {local} on loopback only.",
        open.len(),
        if f.snap.spans_namespaces() {
            "the listener's own network namespace"
        } else {
            "this host"
        }
    ))];
    out.extend(open.first().map(|s| {
        cite(
            format!(
                "{} listens on {}: reachable through every interface of {} unless a firewall blocks it.",
                f.owner(s),
                s.local,
                f.snap.place(s.netns).name()
            ),
            s,
        )
    }));
    out
}

fn examples(f: &Facts<'_>) -> Vec<Evidence> {
    let mut out = Vec::new();
    out.extend(
        f.listeners
            .first()
            .map(|s| cite(format!("A listener: {s} ({}).", f.owner(s)), s)),
    );
    out.extend(
        f.connected
            .map(|s| cite(format!("A connection: {s} ({}).", f.owner(s)), s)),
    );
    out.extend(
        f.udp
            .map(|s| cite(format!("A UDP socket: {s} ({}).", f.owner(s)), s)),
    );
    out
}

fn several_ports(f: &Facts<'_>) -> Faq {
    let mut evidence = Vec::new();
    if let Some(s) = f.connected {
        if let Some(peer) = s.peer() {
            evidence.push(cite(
                format!(
                    "{s} uses local port {} here and the peer's port {} there.",
                    s.local.port(),
                    peer.port()
                ),
                s,
            ));
        }
    }
    if let Some((key, count)) = f.busiest_port {
        let (p, n) = (key.protocol, key.port);
        if let Some(s) = f.first_on(key) {
            evidence.push(cite(format!("Port {n}/{p} carries {count} sockets."), s));
        }
    }
    // Two listeners on one address and port: only SO_REUSEPORT allows that.
    let mut by_addr: HashMap<(Protocol, std::net::SocketAddr), Vec<&SocketEntry>> = HashMap::new();
    for l in &f.listeners {
        by_addr.entry((l.protocol, l.local)).or_default().push(l);
    }
    if let Some(group) = by_addr.values().find(|g| g.len() > 1) {
        evidence.push(cite(
            format!(
                "{} listeners share {} through SO_REUSEPORT; the kernel spreads new connections over them.",
                group.len(),
                group[0].local
            ),
            group[0],
        ));
    }
    Faq {
        question: "Can a socket use several ports?",
        answer: "A socket is bound to one local port. A connected socket also names its peer's port, so \
                 one conversation involves two ports, one at each end (on two hosts, or both on this one over \
                 loopback). The other way round, one port \
                 carries many sockets: a listener and every connection it accepted."
            .to_owned(),
        evidence,
    }
}

fn exploitable(f: &Facts<'_>) -> Faq {
    Faq {
        question: "Are open ports exploitable?",
        answer: "A port is a number; it cannot be attacked by itself. What an attacker reaches through an \
                 open port is the program listening on it, so the risk is that program's flaws and \
                 configuration, and who can reach the address it listens on."
            .to_owned(),
        evidence: security_evidence(f),
    }
}

fn change_port(f: &Facts<'_>) -> Faq {
    let evidence = f
        .listeners
        .first()
        .map(|l| {
            vec![cite(
                format!(
                    "{} listens on {}: moving it means a new socket bound to the new port.",
                    f.owner(l),
                    l.local
                ),
                l,
            )]
        })
        .unwrap_or_default();
    Faq {
        question: "Can a running service change its port?",
        answer: "Not in place: a socket's local port is fixed once it is bound. A service \"changes port\" \
                 by binding a new socket to the new port (usually on restart or reload); connections \
                 already accepted keep the port they were made on until they close."
            .to_owned(),
        evidence,
    }
}

/// A port number in use in more than one network namespace, listeners first: two ports that share a
/// number, citing a socket of the other namespace's.
fn same_number_elsewhere(f: &Facts<'_>) -> Option<Evidence> {
    let mut by_number: BTreeMap<(bool, Protocol, u16), Vec<&PortUsage>> = BTreeMap::new();
    for usage in f.ports.ports() {
        by_number
            .entry((!usage.has_listener(), usage.protocol, usage.port))
            .or_default()
            .push(usage);
    }
    let ((_, protocol, port), usages) = by_number.into_iter().find(|(_, u)| u.len() > 1)?;
    let names: Vec<String> = usages
        .iter()
        .map(|u| f.snap.namespace_label(u.netns))
        .collect();
    let other = usages
        .iter()
        .find(|u| !f.snap.place(u.netns).is_this_host())
        .or(usages.last())?;
    // The port's listener (or unconnected UDP socket) where it has one, else any of its sockets.
    let socket = other
        .sockets
        .iter()
        .filter_map(|i| f.snap.sockets.get(*i))
        .find(|s| s.takes_new_peers())
        .or_else(|| f.snap.sockets.get(*other.sockets.first()?))?;
    Some(cite(
        format!(
            "Here {port}/{protocol} is in use in {} network namespaces ({}): {} ports that share a number, \
             each with its own sockets.",
            usages.len(),
            names.join(", "),
            usages.len()
        ),
        socket,
    ))
}

fn same_everywhere(f: &Facts<'_>) -> Faq {
    let range = f.snap.ephemeral_range_known();
    let mut evidence = vec![say(format!(
        "This host picks ephemeral ports from {}–{}{}; IANA's dynamic range is 49152–65535, and other \
         systems use other ranges.",
        range.value.low,
        range.value.high,
        range.note()
    ))];
    evidence.extend(f.listeners.iter().find_map(|l| {
        let name = f.registry.name(l.local.port(), l.protocol);
        let owner = f.snap.process_name(l)?;
        (!name.is_empty()).then(|| {
            cite(
                format!(
                    "{}/{} is registered as {name}; here {owner} listens on it.",
                    l.local.port(),
                    l.protocol
                ),
                l,
            )
        })
    }));
    evidence.extend(same_number_elsewhere(f));
    Faq {
        question: "Are port numbers the same everywhere?",
        answer: "The numbers and IANA's registry are the same everywhere, but the registry is a \
                 convention: any program may listen on any free port it may bind, and every host (and \
                 network namespace) has its own ports in use."
            .to_owned(),
        evidence,
    }
}

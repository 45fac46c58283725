//! Sentences that explain one socket and its port, filled with that socket's live values.
//!
//! Everything the inspector says comes from here, so it is unit-tested without a window. The wording aims
//! to be technically right where popular articles are not: retransmission is TCP's, not a port's; 53/tcp
//! and 53/udp are different ports; a connected TCP socket involves two ports; IANA's dynamic range is not
//! the kernel's ephemeral range.

use crate::model::port_class::PortClass;
use crate::model::ports::{Exposure, PortsIndex};
use crate::model::snapshot::{PortRange, Snapshot};
use crate::model::socket::{Protocol, SocketEntry, SocketState, TcpState, UdpState};
use crate::services::registry::Registry;

/// One labelled part of an explanation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Line {
    /// Short label, e.g. "Local port".
    pub label: &'static str,
    /// The live value, e.g. "5432".
    pub value: String,
    /// What it means for this socket.
    pub meaning: String,
}

/// Which end of a conversation a socket is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    /// A TCP listener.
    Listener,
    /// The service end of a connection.
    Server,
    /// The end that connected out.
    Client,
    /// Not determinable from the ports alone.
    Unknown,
}

/// A side with the reason it was decided.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Role {
    /// The side.
    pub side: Side,
    /// Why, in one sentence.
    pub reason: String,
}

/// A row of the "socket vs port" comparison.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Aspect {
    /// The aspect compared, e.g. "Scope".
    pub aspect: &'static str,
    /// What it is for the port.
    pub port: String,
    /// What it is for the socket.
    pub socket: String,
}

/// Explains sockets of one snapshot.
pub struct Explainer<'a> {
    snapshot: &'a Snapshot,
    ports: &'a PortsIndex,
    registry: &'a Registry,
}

fn class_meaning(class: PortClass) -> &'static str {
    match class {
        PortClass::System => {
            "System port (0–1023, RFC 6335): assigned by IETF review; on Linux binding one needs root or \
             CAP_NET_BIND_SERVICE."
        }
        PortClass::User => {
            "User port (1024–49151, RFC 6335): registered with IANA on request; any program may bind it."
        }
        PortClass::Dynamic => {
            "Dynamic port (49152–65535, RFC 6335): never assigned by IANA, meant for private or temporary use."
        }
    }
}

/// What a UDP socket's state means (udp(7), connect(2)), with its peer when connected.
#[must_use]
pub fn udp_state_meaning(state: UdpState, peer: Option<std::net::SocketAddr>) -> String {
    match (state, peer) {
        (UdpState::Connected, Some(peer)) => format!(
            "connect() set a default peer: the socket sends to {peer} without naming it, and the kernel \
             delivers to it only datagrams from {peer}. UDP still does not acknowledge or retransmit."
        ),
        (UdpState::Connected, None) => "connect() set a default peer: the socket receives datagrams only \
             from that peer. UDP still does not acknowledge or retransmit."
            .to_owned(),
        (UdpState::Unconnected, _) => "No peer set: each send names its destination, and the socket \
             receives datagrams from any source sent to its address and port (where several sockets match, \
             the most specific bind wins; an SO_REUSEPORT group shares them)."
            .to_owned(),
        (UdpState::NotRecorded, _) => "Not recorded: this file predates format version 2, which records \
             whether a UDP socket is connected and to which peer."
            .to_owned(),
    }
}

/// What a TCP state means, in plain language (RFC 9293 §3.3.2).
#[must_use]
pub fn state_meaning(state: TcpState) -> &'static str {
    match state {
        TcpState::Listen => {
            "Waiting for connection requests. A listener carries no data itself: each accepted connection gets \
             its own socket on the same local port."
        }
        TcpState::SynSent => {
            "This side sent a SYN to open a connection and waits for SYN+ACK. Sockets stuck here mean the peer \
             does not answer (host down, firewall dropping packets)."
        }
        TcpState::SynReceived => {
            "A SYN arrived and was answered with SYN+ACK; the kernel waits for the last ACK of the three-way \
             handshake. Many of these at once can mean a SYN flood or a lossy path."
        }
        TcpState::Established => {
            "Open connection: both sides can send data, and TCP delivers it in order, retransmitting what is lost."
        }
        TcpState::FinWait1 => {
            "This side closed (sent FIN) and waits for the peer to acknowledge it."
        }
        TcpState::FinWait2 => {
            "This side's FIN was acknowledged; waiting for the peer to close its side. The peer may still send data."
        }
        TcpState::CloseWait => {
            "The peer closed its side (its FIN arrived) and this process has not called close() yet. CLOSE_WAIT \
             sockets that pile up mean the program leaks connections."
        }
        TcpState::Closing => {
            "Both sides sent FIN at about the same time; waiting for the ACK of this side's FIN."
        }
        TcpState::LastAck => {
            "The peer closed first, then this side; waiting for the ACK of this side's FIN."
        }
        TcpState::TimeWait => {
            "This side closed first. The kernel keeps the 5-tuple for a while (2×MSL, 60 s on Linux) so that late \
             segments of this connection cannot be taken for a new one with the same tuple. No process owns it."
        }
        TcpState::Closed => {
            "No connection: the socket exists (created or bound) but neither listens nor is connected."
        }
    }
}

impl<'a> Explainer<'a> {
    /// An explainer over one snapshot and its port index.
    #[must_use]
    pub fn new(snapshot: &'a Snapshot, ports: &'a PortsIndex, registry: &'a Registry) -> Self {
        Self {
            snapshot,
            ports,
            registry,
        }
    }

    fn range(&self) -> PortRange {
        self.snapshot.ephemeral_range_or_default()
    }

    fn service_label(&self, port: u16, protocol: Protocol) -> String {
        match self.registry.service(port, protocol) {
            Some(s) if !s.name.is_empty() => s.name.clone(),
            _ => "no registered service".to_owned(),
        }
    }

    /// Which side of the conversation `s` is, and why.
    #[must_use]
    pub fn role(&self, s: &SocketEntry) -> Role {
        let range = self.range();
        let lport = s.local.port();
        let role = |side, reason: String| Role { side, reason };
        if s.is_listener() {
            return role(
                Side::Listener,
                format!("It listens on port {lport}: it is the service, waiting for clients."),
            );
        }
        if s.protocol == Protocol::Udp {
            let named = !self.registry.name(lport, Protocol::Udp).is_empty();
            return if range.contains(lport) {
                role(
                    Side::Client,
                    format!(
                        "UDP port {lport} lies in the ephemeral range {}–{}: the kernel picked it, as it does for a client.",
                        range.low, range.high
                    ),
                )
            } else if named {
                role(
                    Side::Server,
                    format!(
                        "UDP port {lport} is a registered service port outside the ephemeral range: most likely a server."
                    ),
                )
            } else {
                role(
                    Side::Unknown,
                    "UDP has no connections; nothing tells a client socket from a server one here."
                        .to_owned(),
                )
            };
        }
        let Some(peer) = s.peer() else {
            return role(
                Side::Unknown,
                "Not connected: no peer, so no client or server side yet.".to_owned(),
            );
        };
        let rport = peer.port();
        if self.ports.is_listening(lport) {
            return role(
                Side::Server,
                format!(
                    "A listener on this machine has local port {lport}, so this socket was accepted by it: this is the service side."
                ),
            );
        }
        if peer.ip().is_loopback() && self.ports.is_listening(rport) {
            return role(
                Side::Client,
                format!(
                    "This machine listens on remote port {rport}: this socket connected to it, so it is the client side."
                ),
            );
        }
        let (l_eph, r_eph) = (range.contains(lport), range.contains(rport));
        if l_eph && !r_eph {
            return role(
                Side::Client,
                format!(
                    "Local port {lport} lies in the ephemeral range {}–{}: the kernel picked it for an outgoing connection.",
                    range.low, range.high
                ),
            );
        }
        let r_named = !self.registry.name(rport, s.protocol).is_empty()
            && PortClass::of(rport) != PortClass::Dynamic;
        let l_named = !self.registry.name(lport, s.protocol).is_empty()
            && PortClass::of(lport) != PortClass::Dynamic;
        if r_named && !l_named {
            return role(
                Side::Client,
                format!(
                    "Remote port {rport} is a registered service ({}): this side is the client.",
                    self.service_label(rport, s.protocol)
                ),
            );
        }
        if r_eph && !l_eph {
            return role(
                Side::Server,
                format!(
                    "Remote port {rport} lies in the ephemeral range: the peer is the client, this side the service."
                ),
            );
        }
        if l_named && !r_named {
            return role(
                Side::Server,
                format!(
                    "Local port {lport} is a registered service ({}): this side is most likely the service.",
                    self.service_label(lport, s.protocol)
                ),
            );
        }
        role(Side::Unknown, "Both ports look alike (neither a listener here, a registered service, nor ephemeral): the ports alone cannot tell which side is the service.".to_owned())
    }

    /// The 5-tuple as five labelled cells with their meaning for this socket.
    #[must_use]
    pub fn tuple(&self, s: &SocketEntry) -> Vec<Line> {
        let role = self.role(s);
        let lport = s.local.port();
        let lip = s.local.ip();
        let protocol = match s.protocol {
            Protocol::Tcp => {
                "TCP (RFC 9293): a connected, ordered byte stream; TCP itself acknowledges, orders and retransmits."
            }
            Protocol::Udp => {
                "UDP (RFC 768): independent datagrams with no connection, no ordering and no retransmission; the program must cope with loss."
            }
        };
        let local_ip = match Exposure::of(lip) {
            Exposure::AllInterfaces => format!(
                "{lip}: the wildcard address, so the socket accepts traffic arriving on every interface of this host."
            ),
            Exposure::Loopback => {
                format!("{lip}: loopback, so only programs on this machine can reach it.")
            }
            Exposure::Specific => {
                format!("{lip}: one address of this host; only traffic to that address reaches it.")
            }
        };
        let local_port = match role.side {
            Side::Listener => format!(
                "local port {lport}: the port this service listens on; clients connect to it."
            ),
            Side::Server => format!(
                "local port {lport}: the service's port, shared with its listener; each accepted connection is another socket on it."
            ),
            Side::Client if self.range().contains(lport) => format!(
                "local port {lport}: picked by the kernel from the ephemeral range {}–{} for this outgoing connection.",
                self.range().low,
                self.range().high
            ),
            _ if s.protocol == Protocol::Udp => format!(
                "local port {lport}: datagrams sent to this port on {lip} are delivered to this socket."
            ),
            _ => format!("local port {lport}: this socket's end of the connection."),
        };
        let (remote_ip_value, remote_ip, remote_port_value, remote_port) = match (s.protocol, s.peer()) {
            (Protocol::Udp, Some(peer)) => (
                peer.ip().to_string(),
                format!("the peer set by connect(): datagrams go to {} by default, and the kernel drops datagrams from any other address.", peer.ip()),
                peer.port().to_string(),
                format!("the peer's port {}: only datagrams from {peer} reach this socket.", peer.port()),
            ),
            (Protocol::Udp, None) if s.udp_state() == Some(UdpState::NotRecorded) => (
                "?".to_owned(),
                "not recorded: files of format version 1 did not record UDP peers.".to_owned(),
                "?".to_owned(),
                "not recorded.".to_owned(),
            ),
            (Protocol::Udp, None) => (
                "—".to_owned(),
                "none: this UDP socket did not call connect(), so datagrams may come from any address and each send names its destination.".to_owned(),
                "—".to_owned(),
                "none: without connect() there is no fixed remote port.".to_owned(),
            ),
            (Protocol::Tcp, None) => (
                "*".to_owned(),
                "none yet: a socket that is not connected has no peer; a listener hands each client to a new socket.".to_owned(),
                "*".to_owned(),
                "none yet: set when a connection is made.".to_owned(),
            ),
            (Protocol::Tcp, Some(peer)) => {
                let rport = peer.port();
                let who = if peer.ip().is_loopback() { "a program on this same machine (loopback)" } else { "another host" };
                let rp = match role.side {
                    Side::Client => format!("remote port {rport}: the service this connection talks to ({}).", self.service_label(rport, s.protocol)),
                    Side::Server => format!("remote port {rport}: the client's port, picked by its kernel from its ephemeral range."),
                    _ => format!("remote port {rport}: the peer's end of the connection."),
                };
                (peer.ip().to_string(), format!("{}: the peer is {who}.", peer.ip()), rport.to_string(), rp)
            }
        };
        vec![
            Line {
                label: "Protocol",
                value: s.protocol.to_string(),
                meaning: protocol.to_owned(),
            },
            Line {
                label: "Local IP",
                value: lip.to_string(),
                meaning: local_ip,
            },
            Line {
                label: "Local port",
                value: lport.to_string(),
                meaning: local_port,
            },
            Line {
                label: "Remote IP",
                value: remote_ip_value,
                meaning: remote_ip,
            },
            Line {
                label: "Remote port",
                value: remote_port_value,
                meaning: remote_port,
            },
        ]
    }

    /// The state and what it means: TCP's state, or whether a UDP socket is connected.
    #[must_use]
    pub fn state(&self, s: &SocketEntry) -> Line {
        match s.state {
            SocketState::Tcp(st) => Line {
                label: "State",
                value: st.to_string(),
                meaning: state_meaning(st).to_owned(),
            },
            SocketState::Udp(u) => Line {
                label: "State",
                value: if u == UdpState::NotRecorded {
                    "not recorded".to_owned()
                } else {
                    u.as_str().to_owned()
                },
                meaning: udp_state_meaning(u, s.peer()),
            },
        }
    }

    /// Who owns the socket, or why no one is shown.
    #[must_use]
    pub fn owner(&self, s: &SocketEntry) -> Vec<String> {
        if s.pids.is_empty() {
            let why = s.owner_note.map_or("No owner known.", |n| n.sentence());
            let user = self
                .snapshot
                .user_of(s)
                .map(|u| format!(" The kernel says user {u} created it."))
                .unwrap_or_default();
            return vec![format!("{why}{user}")];
        }
        s.pids
            .iter()
            .map(|pid| match self.snapshot.processes.get(pid) {
                Some(p) => format!(
                    "PID {pid} {} — user {}, executable {}",
                    p.name,
                    p.user.as_deref().unwrap_or("unknown"),
                    p.exe.as_deref().unwrap_or("not readable")
                ),
                None => format!("PID {pid} (exited before its details could be read)"),
            })
            .collect()
    }

    /// The local port explained: service, class, ephemeral or chosen, exposure, sharing; and for an outgoing
    /// connection, the remote port's service.
    #[must_use]
    pub fn port(&self, s: &SocketEntry) -> Vec<Line> {
        let p = s.local.port();
        let proto = s.protocol;
        let range = self.range();
        let role = self.role(s);
        let mut lines = Vec::new();
        let other_proto = match proto {
            Protocol::Tcp => Protocol::Udp,
            Protocol::Udp => Protocol::Tcp,
        };
        let service = match self.registry.service(p, proto) {
            Some(info) if !info.name.is_empty() => {
                let iana = info
                    .iana_name
                    .as_ref()
                    .map(|n| format!(" (IANA name: {n})"))
                    .unwrap_or_default();
                let desc = if info.description.is_empty() {
                    String::new()
                } else {
                    format!(" — {}", info.description)
                };
                Line {
                    label: "Service",
                    value: info.name.clone(),
                    meaning: format!("Registered for {p}/{proto}{iana}{desc}."),
                }
            }
            _ => {
                let other = self.registry.name(p, other_proto);
                let hint = if other.is_empty() {
                    String::new()
                } else {
                    format!(
                        " {p}/{other_proto} is registered as {other}, but that is a different port in the {other_proto} number space."
                    )
                };
                Line {
                    label: "Service",
                    value: "—".to_owned(),
                    meaning: format!("No service is registered for {p}/{proto}.{hint}"),
                }
            }
        };
        lines.push(service);
        let class = PortClass::of(p);
        lines.push(Line {
            label: "Class",
            value: class.to_string(),
            meaning: class_meaning(class).to_owned(),
        });
        let in_eph = range.contains(p);
        let chosen = match (in_eph, role.side) {
            (true, Side::Client) => format!(
                "In this machine's ephemeral range {}–{}: the kernel picked it because the program connected without choosing a port.",
                range.low, range.high
            ),
            (true, _) => format!(
                "In the ephemeral range {}–{}, yet {}: a program bound it on purpose, or the kernel picked it for a bind to port 0.",
                range.low,
                range.high,
                if role.side == Side::Listener {
                    "it listens"
                } else {
                    "it is a service port here"
                }
            ),
            (false, _) => format!(
                "Outside the ephemeral range {}–{}: a program chose this port with bind().",
                range.low, range.high
            ),
        };
        let mut chosen = chosen;
        if class == PortClass::Dynamic || in_eph {
            chosen.push_str(&format!(" Note: IANA's dynamic range 49152–65535 is not the kernel's ephemeral range ({}–{} here).", range.low, range.high));
        }
        lines.push(Line {
            label: "Picked by",
            value: if in_eph {
                "kernel (ephemeral)".to_owned()
            } else {
                "program".to_owned()
            },
            meaning: chosen,
        });
        if let Some(usage) = self.ports.get(proto, p) {
            let exposure = usage.exposure();
            let addrs: Vec<String> = usage.addresses.iter().map(ToString::to_string).collect();
            lines.push(Line {
                label: "Exposure",
                value: exposure.badge().to_owned(),
                meaning: format!(
                    "{} Bound addresses: {}.",
                    exposure.meaning(),
                    addrs.join(", ")
                ),
            });
            let n = usage.sockets.len();
            let sharing = if n == 1 {
                "Only this socket uses the port right now.".to_owned()
            } else {
                format!(
                    "{n} sockets share {p}/{proto} right now: {}. One port, many sockets.",
                    usage.state_summary()
                )
            };
            lines.push(Line {
                label: "Sockets on port",
                value: n.to_string(),
                meaning: sharing,
            });
        }
        if let (Some(peer), Side::Client) = (s.peer(), role.side) {
            let rp = peer.port();
            let info = self.registry.service(rp, proto);
            let desc = info
                .map(|i| i.description.clone())
                .filter(|d| !d.is_empty())
                .map(|d| format!(" — {d}"))
                .unwrap_or_default();
            lines.push(Line {
                label: "Remote service",
                value: format!("{rp}/{proto} {}", self.service_label(rp, proto)),
                meaning: format!(
                    "This is an outgoing connection: the service is on the remote side{desc}. {}",
                    role.reason
                ),
            });
        } else {
            lines.push(Line {
                label: "Side",
                value: format!("{:?}", role.side).to_lowercase(),
                meaning: role.reason,
            });
        }
        lines
    }

    /// Socket and port compared, aspect by aspect, with this socket's live values.
    #[must_use]
    pub fn socket_vs_port(&self, s: &SocketEntry) -> Vec<Aspect> {
        let p = s.local.port();
        let proto = s.protocol;
        let range = self.range();
        let usage = self.ports.get(proto, p);
        let on_port = usage.map_or(1, |u| u.sockets.len());
        let summary = usage.map(|u| u.state_summary()).unwrap_or_default();
        let owner = s
            .pids
            .first()
            .and_then(|pid| self.snapshot.processes.get(pid))
            .map_or_else(
                || "no visible process".to_owned(),
                |pr| format!("{} (PID {})", pr.name, pr.pid),
            );
        let inode = s.inode.map_or_else(
            || "no inode (kernel-held)".to_owned(),
            |i| format!("inode {i}"),
        );
        let role = self.role(s);
        let exposure = Exposure::of(s.local.ip());
        let two_ports = match s.peer() {
            Some(peer) => format!(
                "This connected TCP socket involves two ports: local {p} and remote {}.",
                peer.port()
            ),
            None => "It is not connected, so it involves only its local port.".to_owned(),
        };
        let aspect = |aspect, port: String, socket: String| Aspect {
            aspect,
            port,
            socket,
        };
        vec![
            aspect("Definition",
                format!("{p} is a 16-bit number (0–65535) in the {proto} number space of this host."),
                format!("This socket is a kernel object ({inode}) held by {owner}: `{s}`.")),
            aspect("Scope",
                format!("One number per protocol per host: {p}/tcp and {p}/udp are different ports in different number spaces."),
                format!("One endpoint of one conversation; {p}/{proto} carries {on_port} socket(s) now{}.", if summary.is_empty() { String::new() } else { format!(" ({summary})") })),
            aspect("Type",
                format!("A {} port.", PortClass::of(p)),
                match proto {
                    Protocol::Tcp => "A stream socket (SOCK_STREAM over TCP).".to_owned(),
                    Protocol::Udp => "A datagram socket (SOCK_DGRAM over UDP).".to_owned(),
                }),
            aspect("Role",
                format!("Names a service by convention: {p}/{proto} is {}.", self.service_label(p, proto)),
                format!("{} {}", match role.side { Side::Listener => "Listener.", Side::Server => "Service side.", Side::Client => "Client side.", Side::Unknown => "Side unknown." }, role.reason)),
            aspect("Configuration",
                format!("Chosen by a program with bind(), or by the kernel from {}–{} when the program does not choose.", range.low, range.high),
                "Made with socket(), then bind() and listen() or connect(); tuned with options such as SO_REUSEADDR, SO_REUSEPORT or TCP_NODELAY.".to_owned()),
            aspect("Security",
                format!("Firewall rules and service scanners name ports ({p}/{proto}); ports below 1024 need root or CAP_NET_BIND_SERVICE to bind."),
                format!("Reachability depends on the bound address ({}: {}) and access on the owner process and user.", s.local.ip(), exposure.badge())),
            aspect("Connection type",
                "None: a port is a number and has no connection, delivery or retransmission of its own.".to_owned(),
                match proto {
                    Protocol::Tcp => "Connection-oriented: TCP acknowledges, orders and retransmits data for this socket.".to_owned(),
                    Protocol::Udp => "Connectionless: datagrams may be lost, duplicated or reordered; UDP does not retransmit.".to_owned(),
                }),
            aspect("Lifecycle",
                "In use while at least one socket is bound to it; free again when the last one closes (a TIME_WAIT tuple keeps its pair of ports busy for about 60 s).".to_owned(),
                match s.state {
                    SocketState::Tcp(st) => format!("Now {st}: created, bound, connected or listening, then closed; TCP may linger in TIME_WAIT after close."),
                    SocketState::Udp(u) => format!(
                        "Lives from socket() to close(), with no handshake; the only state Linux keeps for UDP is whether connect() set a peer{}.",
                        match u { UdpState::NotRecorded => " (not recorded in this file)".to_owned(), u => format!(" (now {u})", u = u.as_str()) }
                    ),
                }),
            aspect("Addressing",
                format!("One part of an address: {}:{p} needs the IP as well.", s.local.ip()),
                match s.peer() {
                    Some(peer) => format!("The full 5-tuple: {proto}, {}, {p}, {}, {}.", s.local.ip(), peer.ip(), peer.port()),
                    None => format!("{proto}, {}, {p}, and no peer yet.", s.local.ip()),
                }),
            aspect("Dependency",
                "A port is in use only through sockets: with no socket bound, nothing receives traffic for it.".to_owned(),
                format!("Needs exactly one local port, which it may share: a listener shares it with its accepted connections, and SO_REUSEPORT lets several listeners share one. {two_ports}")),
            aspect("Example",
                format!("{p}/{proto}: like a numbered door of this host{}.", if self.registry.name(p, proto).is_empty() { String::new() } else { format!(", labelled {}", self.registry.name(p, proto)) }),
                format!("`{s}`: one particular conversation through that door.")),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::snapshot::ProcessInfo;
    use crate::services::registry::IANA_TSV;
    use chrono::Utc;

    fn tcp(l: &str, r: &str, st: TcpState, pid: u32) -> SocketEntry {
        SocketEntry {
            protocol: Protocol::Tcp,
            local: l.parse().unwrap(),
            remote: Some(r.parse().unwrap()),
            state: SocketState::Tcp(st),
            inode: Some(100 + pid),
            uid: Some(0),
            pids: vec![pid],
            owner_note: None,
            details: Default::default(),
        }
    }

    fn fixture() -> (Snapshot, Registry) {
        let mut s = Snapshot::empty("h", Utc::now());
        s.ephemeral_range = Some(PortRange::LINUX_DEFAULT);
        s.sockets = vec![
            tcp("0.0.0.0:5432", "0.0.0.0:0", TcpState::Listen, 1),
            tcp(
                "127.0.0.1:5432",
                "127.0.0.1:40112",
                TcpState::Established,
                1,
            ),
            tcp(
                "127.0.0.1:40112",
                "127.0.0.1:5432",
                TcpState::Established,
                2,
            ),
            tcp(
                "10.0.0.2:51000",
                "93.184.216.34:443",
                TcpState::Established,
                3,
            ),
            tcp("10.0.0.2:7000", "10.0.0.9:7001", TcpState::Established, 3),
        ];
        s.processes.insert(
            1,
            ProcessInfo {
                pid: 1,
                name: "postgres".into(),
                user: Some("postgres".into()),
                exe: None,
                cmdline: None,
            },
        );
        (s, Registry::from_iana_tsv(IANA_TSV).unwrap())
    }

    #[test]
    fn roles_follow_listeners_registered_ports_and_ephemeral_range() {
        let (snap, reg) = fixture();
        let ports = PortsIndex::build(&snap);
        let e = Explainer::new(&snap, &ports, &reg);
        assert_eq!(e.role(&snap.sockets[0]).side, Side::Listener);
        let accepted = e.role(&snap.sockets[1]);
        assert_eq!(accepted.side, Side::Server);
        assert!(accepted.reason.contains("listener"), "{}", accepted.reason);
        assert_eq!(e.role(&snap.sockets[2]).side, Side::Client);
        let outgoing = e.role(&snap.sockets[3]);
        assert_eq!(outgoing.side, Side::Client);
        assert!(
            outgoing.reason.contains("51000") || outgoing.reason.contains("443"),
            "{}",
            outgoing.reason
        );
        assert_eq!(
            e.role(&snap.sockets[4]).side,
            Side::Unknown,
            "7000 and 7001: nothing tells"
        );
    }

    #[test]
    fn tuple_cells_are_filled_from_the_socket() {
        let (snap, reg) = fixture();
        let ports = PortsIndex::build(&snap);
        let e = Explainer::new(&snap, &ports, &reg);
        let cells = e.tuple(&snap.sockets[2]);
        let labels: Vec<&str> = cells.iter().map(|c| c.label).collect();
        assert_eq!(
            labels,
            [
                "Protocol",
                "Local IP",
                "Local port",
                "Remote IP",
                "Remote port"
            ]
        );
        assert!(
            cells[2].meaning.contains("ephemeral range 32768–60999"),
            "{}",
            cells[2].meaning
        );
        assert!(
            cells[4]
                .meaning
                .starts_with("remote port 5432: the service this connection talks to (postgresql)"),
            "{}",
            cells[4].meaning
        );
        assert!(cells[3].meaning.contains("loopback"));
        let listener = e.tuple(&snap.sockets[0]);
        assert!(listener[1].meaning.contains("every interface"));
        assert!(listener[3].meaning.contains("none yet"));
    }

    #[test]
    fn states_are_explained_per_rfc_9293() {
        assert!(
            state_meaning(TcpState::CloseWait).contains("peer closed")
                && state_meaning(TcpState::CloseWait).contains("close()")
        );
        assert!(state_meaning(TcpState::TimeWait).contains("closed first"));
        assert!(state_meaning(TcpState::Listen).contains("own socket"));
        for st in TcpState::ALL {
            assert!(!state_meaning(st).is_empty());
        }
    }

    #[test]
    fn port_panel_names_service_class_sharing_and_corrects_ranges() {
        let (snap, reg) = fixture();
        let ports = PortsIndex::build(&snap);
        let e = Explainer::new(&snap, &ports, &reg);
        let lines = e.port(&snap.sockets[0]);
        let get = |label| lines.iter().find(|l| l.label == label).unwrap();
        assert_eq!(get("Service").value, "postgresql");
        assert!(get("Service").meaning.contains("PostgreSQL Database"));
        assert_eq!(get("Class").value, "user");
        assert!(
            get("Sockets on port")
                .meaning
                .contains("1 LISTEN + 1 ESTABLISHED"),
            "{}",
            get("Sockets on port").meaning
        );
        assert_eq!(get("Exposure").value, "all interfaces");
        let client = e.port(&snap.sockets[3]);
        let eph = client.iter().find(|l| l.label == "Picked by").unwrap();
        assert!(
            eph.meaning
                .contains("IANA's dynamic range 49152–65535 is not the kernel's ephemeral range"),
            "{}",
            eph.meaning
        );
        let remote = client.iter().find(|l| l.label == "Remote service").unwrap();
        assert!(remote.value.contains("443/tcp https"), "{}", remote.value);
    }

    #[test]
    fn socket_vs_port_is_live_and_technically_right() {
        let (snap, reg) = fixture();
        let ports = PortsIndex::build(&snap);
        let e = Explainer::new(&snap, &ports, &reg);
        let aspects = e.socket_vs_port(&snap.sockets[1]);
        let names: Vec<&str> = aspects.iter().map(|a| a.aspect).collect();
        assert_eq!(
            names,
            [
                "Definition",
                "Scope",
                "Type",
                "Role",
                "Configuration",
                "Security",
                "Connection type",
                "Lifecycle",
                "Addressing",
                "Dependency",
                "Example"
            ]
        );
        let find = |n| aspects.iter().find(|a| a.aspect == n).unwrap();
        assert!(
            find("Scope")
                .port
                .contains("5432/tcp and 5432/udp are different ports")
        );
        assert!(
            find("Connection type")
                .port
                .contains("no connection, delivery or retransmission")
        );
        assert!(find("Connection type").socket.contains("retransmits"));
        assert!(
            find("Dependency")
                .socket
                .contains("two ports: local 5432 and remote 40112")
        );
        assert!(find("Dependency").socket.contains("SO_REUSEPORT"));
        assert!(
            find("Addressing")
                .socket
                .contains("tcp, 127.0.0.1, 5432, 127.0.0.1, 40112")
        );
        let mut udp = snap.sockets[0].clone();
        udp.protocol = Protocol::Udp;
        udp.state = SocketState::Udp(UdpState::Unconnected);
        udp.remote = None;
        let u = e.socket_vs_port(&udp);
        assert!(
            u.iter()
                .find(|a| a.aspect == "Connection type")
                .unwrap()
                .socket
                .contains("does not retransmit")
        );
    }

    #[test]
    fn owner_or_reason() {
        let (snap, reg) = fixture();
        let ports = PortsIndex::build(&snap);
        let e = Explainer::new(&snap, &ports, &reg);
        assert!(e.owner(&snap.sockets[0])[0].starts_with("PID 1 postgres — user postgres"));
        let mut tw = snap.sockets[2].clone();
        tw.pids.clear();
        tw.owner_note = Some(crate::model::socket::OwnerNote::TimeWait);
        assert!(e.owner(&tw)[0].contains("TIME_WAIT"));
    }
}

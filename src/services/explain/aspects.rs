//! Socket and port compared aspect by aspect, each filled with one socket's live values.

use super::{Aspect, Explainer, Side};
use crate::model::port_class::PortClass;
use crate::model::ports::{Exposure, PortKey};
use crate::model::side::{SideReason, side_of};
use crate::model::socket::{Protocol, SocketEntry, SocketState, TcpState, UdpState};

impl Explainer<'_> {
    /// What the number says about the service, in the Role row: a registration, none, or one the
    /// kernel's pick makes meaningless for this socket.
    fn port_role(&self, p: u16, proto: Protocol, kernel_picked: bool) -> String {
        let range = self.facts.ephemeral_range_known();
        let picked = format!(
            "this socket most likely got the port from the ephemeral range {}–{}{}",
            range.value.low,
            range.value.high,
            range.note()
        );
        let name = self.registry.name(p, proto);
        match (name.is_empty(), kernel_picked) {
            (false, true) => format!(
                "Names a service by convention: {p}/{proto} is registered for {name}, but {picked}; the \
                 name says nothing about its traffic."
            ),
            (false, false) => format!("Names a service by convention: {p}/{proto} is {name}."),
            (true, true) => format!(
                "Would name a service by convention, but none is registered for {p}/{proto}; {picked}."
            ),
            (true, false) => format!(
                "Would name a service by convention, but none is registered for {p}/{proto}."
            ),
        }
    }

    /// Socket and port compared, aspect by aspect, with this socket's live values.
    #[must_use]
    pub fn socket_vs_port(&self, s: &SocketEntry) -> Vec<Aspect> {
        vec![
            self.definition_aspect(s),
            self.scope_aspect(s),
            type_aspect(s),
            self.role_aspect(s),
            self.configuration_aspect(s),
            self.security_aspect(s),
            connection_type_aspect(s),
            self.lifecycle_aspect(s),
            addressing_aspect(s),
            dependency_aspect(s),
            self.example_aspect(s),
        ]
    }

    /// Definition: a number in a number space against a kernel object held by a process.
    fn definition_aspect(&self, s: &SocketEntry) -> Aspect {
        let (p, proto) = (s.local.port(), s.protocol);
        let owner = s
            .pids
            .first()
            .and_then(|pid| self.snapshot.processes.get(pid))
            .map_or_else(
                || "no visible process".to_owned(),
                |pr| format!("{} (PID {})", pr.name, pr.pid),
            );
        let inode = s.inode.map_or_else(
            || "no inode: kernel-held".to_owned(),
            |i| format!("inode {i}"),
        );
        let space = match self.snapshot.namespace(s.netns) {
            Some(ns) if !ns.host => format!(
                "of {}, not the host's: the same number on the host is another port",
                ns.describe()
            ),
            _ => "of this host's network namespace".to_owned(),
        };
        aspect(
            "Definition",
            format!("{p} is a 16-bit number (0–65535) in the {proto} number space {space}."),
            format!("This socket is a kernel object ({inode}) held by {owner}: `{s}`."),
        )
    }

    /// Scope: one number per protocol against one endpoint, with how many sockets the port carries now.
    fn scope_aspect(&self, s: &SocketEntry) -> Aspect {
        let (p, proto) = (s.local.port(), s.protocol);
        let usage = self.ports.get(PortKey::of(s));
        let on_port = usage.map_or(1, |u| u.sockets.len());
        let summary = usage.map(|u| u.state_summary()).unwrap_or_default();
        let what = if s.is_listener() {
            format!(
                "A listener: in no conversation itself; each connection it accepts becomes its own socket on {p}/{proto}"
            )
        } else if s.protocol == Protocol::Udp && s.peer().is_none() {
            "One endpoint that may exchange datagrams with any number of peers".to_owned()
        } else {
            "One endpoint of one conversation".to_owned()
        };
        let states = if summary.is_empty() {
            String::new()
        } else {
            format!(" ({summary})")
        };
        aspect(
            "Scope",
            format!(
                "One number per protocol per host: {p}/tcp and {p}/udp are different ports in different number spaces."
            ),
            format!("{what}; {p}/{proto} carries {on_port} socket(s) now{states}."),
        )
    }

    /// Role: what the number names by convention against which end this socket is.
    fn role_aspect(&self, s: &SocketEntry) -> Aspect {
        let (p, proto) = (s.local.port(), s.protocol);
        let role = self.role(s);
        aspect(
            "Role",
            self.port_role(p, proto, self.kernel_picked(s)),
            format!(
                "{} {}",
                match role.side {
                    Side::Listener => "Listener.",
                    Side::Server => "Service side.",
                    Side::Client => "Client side.",
                    Side::Unknown => "Side unknown.",
                },
                role.reason
            ),
        )
    }

    /// True when `s` is a connection a listener on this host accepted (it shares the listener's port).
    pub(crate) fn is_accepted(&self, s: &SocketEntry) -> bool {
        side_of(s, self).1 == SideReason::LocalPortListened
    }

    /// Configuration: who chooses the port against how a socket is made and tuned.
    fn configuration_aspect(&self, s: &SocketEntry) -> Aspect {
        let range = self.range();
        aspect("Configuration",
            format!("Chosen by a program with bind(), or by the kernel from {}–{}{} when the program does not choose.", range.low, range.high, self.facts.ephemeral_range_known().note()),
            match s.protocol {
                Protocol::Tcp if self.is_accepted(s) => "Made by accept() on the listener, so it has the listener's local address and port and inherits most of its socket options (not file status flags such as O_NONBLOCK: accept(2)); tuned with options such as TCP_NODELAY.".to_owned(),
                Protocol::Tcp => "Made with socket(), then bind() and listen(), or connect(); tuned with options such as SO_REUSEADDR, SO_REUSEPORT, IPV6_V6ONLY or TCP_NODELAY.".to_owned(),
                Protocol::Udp => "Made with socket(), then bind() (or a first sendto() or connect(), which binds a free port), and optionally connect() to fix one peer; tuned with options such as SO_REUSEADDR, SO_REUSEPORT, IPV6_V6ONLY or SO_RCVBUF.".to_owned(),
            })
    }

    /// Security: what firewalls and the privileged threshold see against who can reach this socket.
    fn security_aspect(&self, s: &SocketEntry) -> Aspect {
        let (p, proto) = (s.local.port(), s.protocol);
        let exposure = Exposure::of(s.local.ip());
        let start = self.facts.machine.unprivileged_port_start();
        aspect(
            "Security",
            format!(
                "Firewall rules and scanners name ports ({p}/{proto}); {}, {}",
                self.place(s).on(),
                if start.value == 0 {
                    format!("no port needs privilege to bind (net.ipv4.ip_unprivileged_port_start = 0{}).", start.note())
                } else {
                    format!("ports below {}{} need root or CAP_NET_BIND_SERVICE to bind (net.ipv4.ip_unprivileged_port_start).", start.value, start.note())
                }
            ),
            match s.peer() {
                _ if s.tcp_state() == Some(TcpState::TimeWait) => "Not reachable by new peers: only the kernel holds this closed tuple, and no process owns it.".to_owned(),
                Some(peer) if !s.takes_new_peers() => format!(
                    "Not reachable by new peers: it is connected to {peer} and takes packets only from it; what it may do depends on the owner process and user."
                ),
                _ => format!(
                    "Reachability depends on the bound address ({} = {}); what it may do depends on the owner process and user.",
                    s.local.ip(),
                    exposure.badge()
                ),
            },
        )
    }

    /// Lifecycle: when the port is free again (TIME_WAIT, tcp_tw_reuse) against the socket's own states.
    fn lifecycle_aspect(&self, s: &SocketEntry) -> Aspect {
        aspect("Lifecycle",
            match s.protocol {
                Protocol::Tcp => {
                    let tw = self.facts.machine.tcp_tw_reuse();
                    format!(
                        "In use while at least one socket is bound to it; free again when the last one closes. A TIME_WAIT entry holds it up to 60 s more: a bind() to an overlapping address fails with EADDRINUSE unless both sockets set SO_REUSEADDR (or both SO_REUSEPORT). When the kernel picks the port, connect() may reuse a TIME_WAIT tuple only as net.ipv4.tcp_tw_reuse = {}{} allows ({}); a program that bound the port itself may take the tuple over whenever TCP timestamps were in use.",
                        tw.value,
                        tw.note(),
                        match tw.value {
                            0 => "never",
                            1 => "after 1 s, with TCP timestamps",
                            _ => "after 1 s, with TCP timestamps, to loopback only",
                        }
                    )
                }
                Protocol::Udp => "In use while at least one socket is bound to it; free again as soon as the last one closes (UDP has no TIME_WAIT).".to_owned(),
            },
            match s.state {
                SocketState::Tcp(st) => format!("Now {st}: created, bound, connected or listening, then closed; TCP may linger in TIME_WAIT after close."),
                SocketState::Udp(u) => format!(
                    "Lives from socket() to close(), with no handshake; the only state Linux keeps for UDP is whether connect() set a peer{}.",
                    match u { UdpState::NotRecorded => " (not recorded in this file)".to_owned(), u => format!(" (now {u})", u = u.as_str()) }
                ),
            })
    }

    /// Example: a numbered door, labelled with its service, against what this socket is at that door.
    fn example_aspect(&self, s: &SocketEntry) -> Aspect {
        let (p, proto) = (s.local.port(), s.protocol);
        aspect(
            "Example",
            format!(
                "{p}/{proto}: like a numbered door of {}{}.",
                self.place(s).name(),
                if self.registry.name(p, proto).is_empty() {
                    String::new()
                } else {
                    format!(", labelled {}", self.registry.name(p, proto))
                }
            ),
            if s.is_listener() {
                format!(
                    "`{s}`: the doorkeeper: in no conversation itself; each connection it accepts gets a socket of its own."
                )
            } else if s.protocol == Protocol::Udp && s.peer().is_none() {
                format!("`{s}`: a mailbox at that door: it takes datagrams from any sender.")
            } else {
                format!("`{s}`: one particular conversation through that door.")
            },
        )
    }
}

/// One row of the comparison.
fn aspect(aspect: &'static str, port: String, socket: String) -> Aspect {
    Aspect {
        aspect,
        port,
        socket,
    }
}

/// Type: the port's RFC 6335 class against the socket's type.
fn type_aspect(s: &SocketEntry) -> Aspect {
    aspect(
        "Type",
        format!("A {} port.", PortClass::of(s.local.port())),
        match s.protocol {
            Protocol::Tcp => "A stream socket (SOCK_STREAM over TCP).".to_owned(),
            Protocol::Udp => "A datagram socket (SOCK_DGRAM over UDP).".to_owned(),
        },
    )
}

/// Connection type: the port's number space decides it; the socket's protocol delivers it.
fn connection_type_aspect(s: &SocketEntry) -> Aspect {
    let p = s.local.port();
    aspect("Connection type",
        match s.protocol {
            Protocol::Tcp => format!("{p}/tcp is in TCP's number space, so every socket on it is connection-oriented; the delivery guarantees belong to TCP, not to the number."),
            Protocol::Udp => format!("{p}/udp is in UDP's number space, so every socket on it exchanges datagrams; the number itself guarantees nothing."),
        },
        match s.protocol {
            Protocol::Tcp => "Connection-oriented: TCP acknowledges, orders and retransmits data for this socket.".to_owned(),
            Protocol::Udp => "Connectionless: datagrams may be lost, duplicated or reordered; UDP does not retransmit.".to_owned(),
        })
}

/// Addressing: the port is half an address; the socket is its full 5-tuple.
fn addressing_aspect(s: &SocketEntry) -> Aspect {
    let (p, proto) = (s.local.port(), s.protocol);
    aspect(
        "Addressing",
        format!("One part of an address: {} needs the IP as well.", s.local),
        match s.peer() {
            Some(peer) => format!(
                "The full 5-tuple: {proto}, {}, {p}, {}, {}.",
                s.local.ip(),
                peer.ip(),
                peer.port()
            ),
            None => format!("{proto}, {}, {p}, and no peer yet.", s.local.ip()),
        },
    )
}

/// Dependency: a port is used only through sockets; a socket needs one local port, and connected,
/// involves two.
fn dependency_aspect(s: &SocketEntry) -> Aspect {
    let (p, proto) = (s.local.port(), s.protocol);
    let two_ports = match s.peer() {
        Some(peer) => format!(
            "This connected {proto} socket involves two ports: local {p} and remote {}.",
            peer.port()
        ),
        None if s.protocol == Protocol::Udp => "It has no fixed peer: it involves its local port, and each datagram brings or names a remote port.".to_owned(),
        None => "It is not connected, so it involves only its local port.".to_owned(),
    };
    aspect("Dependency",
        "A port is in use only through sockets: with no socket bound, nothing receives traffic for it.".to_owned(),
        match proto {
            Protocol::Tcp => format!("Needs exactly one local port, which it may share: a listener shares it with its accepted connections, and SO_REUSEPORT lets several listeners share one. {two_ports}"),
            Protocol::Udp => format!("Needs exactly one local port, which it may share with other UDP sockets through SO_REUSEADDR or SO_REUSEPORT. {two_ports}"),
        })
}

//! The socket itself: its 5-tuple cell by cell, its state and its owner.

use std::net::{IpAddr, SocketAddr};

use super::{Explainer, Line, Side};
use crate::model::ports::Exposure;
use crate::model::socket::{Protocol, SocketEntry, SocketState, TcpState, UdpState};

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
             a unicast datagram goes to the most specific bind, or to one member of an SO_REUSEPORT group; \
             a multicast or broadcast datagram is copied to every matching socket)."
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
            "This side closed: its FIN is sent, or queued behind unsent data, and it waits for the peer to \
             acknowledge it (or for the peer's own FIN, which leads to CLOSING)."
        }
        TcpState::FinWait2 => {
            "This side's FIN was acknowledged; waiting for the peer to close its side. The peer may still send data."
        }
        TcpState::CloseWait => {
            "The peer closed its side (its FIN arrived); this end stays open until the program holding it \
             closes it (close() or shutdown(SHUT_WR)); a connection no program has accepted yet waits in the \
             listener's accept queue meanwhile. CLOSE_WAIT sockets that keep piling up usually mean the \
             program does not close connections."
        }
        TcpState::Closing => {
            "Both sides sent FIN at about the same time; waiting for the ACK of this side's FIN."
        }
        TcpState::LastAck => {
            "The peer closed first, then this side; waiting for the ACK of this side's FIN."
        }
        TcpState::TimeWait => {
            "This side closed first (or both closed at once). The kernel keeps the 5-tuple for 60 s (Linux's \
             fixed TCP_TIMEWAIT_LEN; RFC 9293 asks for 2×MSL, 4 min with its 2-minute MSL) so that the last ACK \
             can be sent again if the peer's FIN is retransmitted, and late segments of this connection \
             cannot be taken for a new one with the same tuple. No process owns it."
        }
        TcpState::Closed => {
            "No connection: the socket is bound to a port but neither listens nor is connected (Linux ≥ 6.8 \
             lists these, as ss -B does)."
        }
    }
}

impl Explainer<'_> {
    /// The 5-tuple as five labelled cells with their meaning for this socket.
    #[must_use]
    pub fn tuple(&self, s: &SocketEntry) -> Vec<Line> {
        let role = self.role(s);
        let [remote_ip, remote_port] = self.remote_lines(s, role.side);
        vec![
            Line {
                label: "Protocol",
                value: s.protocol.to_string(),
                meaning: protocol_meaning(s.protocol).to_owned(),
            },
            self.local_ip_line(s),
            Line {
                label: "Local port",
                value: s.local.port().to_string(),
                meaning: self.local_port_meaning(s, role.side),
            },
            remote_ip,
            remote_port,
        ]
    }

    /// The Local IP cell: which of this host's addresses the socket takes traffic on, and its interface
    /// when it is bound to one.
    fn local_ip_line(&self, s: &SocketEntry) -> Line {
        let lip = s.local.ip();
        let place = self.place(s);
        let host = place.name();
        let dev = s
            .details
            .interface
            .as_ref()
            .map(|i| format!(" Bound to interface {i}: only through {i}."))
            .unwrap_or_default();
        let local_ip = match Exposure::of(lip) {
            Exposure::AllInterfaces if lip.is_ipv4() => format!(
                "{lip} is the IPv4 wildcard, so the socket takes traffic to every IPv4 address (not IPv6) of {host}."
            ),
            Exposure::AllInterfaces => self.ipv6_wildcard_meaning(lip, s.details.v6only, &host),
            Exposure::Loopback => {
                format!(
                    "{lip} is loopback, so only programs in {} can reach it.",
                    place.netns()
                )
            }
            Exposure::Specific => {
                format!("{lip} is one address of {host}; only traffic to that address reaches it.")
            }
        };
        Line {
            label: "Local IP",
            value: lip.to_string(),
            meaning: format!("{local_ip}{dev}"),
        }
    }

    /// What `::` covers: IPv6 alone or IPv4 too, as IPV6_V6ONLY (or, unreported, the host's default) says.
    fn ipv6_wildcard_meaning(&self, lip: IpAddr, v6only: Option<bool>, host: &str) -> String {
        match v6only {
            Some(true) => format!(
                "{lip} is the IPv6 wildcard with IPV6_V6ONLY set, so the socket takes traffic to every IPv6 address of {host}, and no IPv4."
            ),
            Some(false) => format!(
                "{lip} is the IPv6 wildcard with IPV6_V6ONLY off, so the socket takes traffic to every IPv6 and every IPv4 address of {host}; IPv4 peers appear as ::ffff:a.b.c.d."
            ),
            None => {
                let v6 = self.facts.machine.bindv6only();
                format!(
                    "{lip} is the IPv6 wildcard: every IPv6 address of {host}, and every IPv4 address too unless the socket set IPV6_V6ONLY, which was not reported; new sockets start with it {}{}.",
                    if v6.value { "on" } else { "off" },
                    v6.note()
                )
            }
        }
    }

    /// The Local port cell: what the port is to this end of the conversation.
    fn local_port_meaning(&self, s: &SocketEntry, side: Side) -> String {
        let lport = s.local.port();
        let lip = s.local.ip();
        match side {
            Side::Listener => format!(
                "local port {lport}: the port this service listens on; clients connect to it."
            ),
            Side::Server
                if s.protocol == Protocol::Tcp && self.ports.is_listening(s.netns, lport) =>
            {
                format!(
                    "local port {lport}: the service's port, shared with its listener; each accepted connection is another socket on it."
                )
            }
            Side::Server if s.protocol == Protocol::Tcp => format!(
                "local port {lport}: most likely the service's port (no listener holds it now)."
            ),
            Side::Client if self.range().contains(lport) => format!(
                "local port {lport}: in the ephemeral range {}–{}{}, so most likely picked by the kernel {}.",
                self.range().low,
                self.range().high,
                self.facts.ephemeral_range_known().note(),
                match (s.protocol, s.peer()) {
                    (Protocol::Tcp, _) => "for this outgoing connection",
                    (Protocol::Udp, Some(_)) => "when the program called connect()",
                    (Protocol::Udp, None) =>
                        "when the program first sent a datagram or bound port 0",
                }
            ),
            _ if s.protocol == Protocol::Udp => match s.peer() {
                Some(peer) => format!(
                    "local port {lport}: only datagrams from {peer} to {lip}:{lport} are delivered to this socket."
                ),
                None if lip.is_unspecified() => format!(
                    "local port {lport}: datagrams to port {lport} at any address the wildcard covers are delivered to this socket unless a more specific socket on the port matches them (a multicast or broadcast datagram reaches every matching socket)."
                ),
                None => format!(
                    "local port {lport}: datagrams to {lip}:{lport} are delivered to this socket unless a more specific socket on the port matches them (a multicast or broadcast datagram reaches every matching socket)."
                ),
            },
            _ => format!("local port {lport}: this socket's end of the connection."),
        }
    }

    /// The Remote IP and Remote port cells: the peer, or why there is none.
    fn remote_lines(&self, s: &SocketEntry, side: Side) -> [Line; 2] {
        match (s.protocol, s.peer()) {
            (Protocol::Udp, Some(peer)) => remote(
                peer.ip().to_string(),
                format!("the peer set by connect(): datagrams go to {peer} by default, and only datagrams from {peer} (address and port) reach this socket; others go to another socket on the port if one matches; otherwise the kernel discards them and answers with ICMP port unreachable (rate-limited)."),
                peer.port().to_string(),
                format!("the peer's port {}: only datagrams from {peer} reach this socket.", peer.port()),
            ),
            (Protocol::Udp, None) if s.udp_state() == Some(UdpState::NotRecorded) => remote(
                "?".to_owned(),
                "not recorded: files of format version 1 did not record UDP peers.".to_owned(),
                "?".to_owned(),
                "not recorded.".to_owned(),
            ),
            (Protocol::Udp, None) => remote(
                "—".to_owned(),
                "none: this UDP socket did not call connect(), so datagrams may come from any address and each send names its destination.".to_owned(),
                "—".to_owned(),
                "none: without connect() there is no fixed remote port.".to_owned(),
            ),
            (Protocol::Tcp, None) => remote(
                "*".to_owned(),
                "none yet: a socket that is not connected has no peer; a listener hands each client to a new socket.".to_owned(),
                "*".to_owned(),
                "none yet: set when a connection is made.".to_owned(),
            ),
            (Protocol::Tcp, Some(peer)) => self.tcp_peer_lines(peer, side, s.protocol),
        }
    }

    /// The remote cells of a TCP connection: who the peer is, and what its port most likely is.
    fn tcp_peer_lines(&self, peer: SocketAddr, side: Side, protocol: Protocol) -> [Line; 2] {
        let rport = peer.port();
        let who = match self.facts.is_own_address(peer.ip()) {
            _ if peer.ip().to_canonical().is_loopback() => {
                "a program on this same machine (loopback)"
            }
            Some(true) => "a program on this same machine (one of its own addresses)",
            Some(false) => "another host",
            None => {
                "another host, unless it is an address of this one (this snapshot did not record them)"
            }
        };
        let rp = match side {
            Side::Client => format!(
                "remote port {rport}: most likely the service this connection talks to ({}).",
                self.service_label(rport, protocol)
            ),
            Side::Server => format!(
                "remote port {rport}: the client's port, most likely picked by its kernel from its ephemeral range."
            ),
            _ => format!("remote port {rport}: the peer's end of the connection."),
        };
        remote(
            peer.ip().to_string(),
            format!("The peer, {}, is {who}.", peer.ip()),
            rport.to_string(),
            rp,
        )
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
}

/// What a protocol guarantees, for the Protocol cell.
fn protocol_meaning(protocol: Protocol) -> &'static str {
    match protocol {
        Protocol::Tcp => {
            "TCP (RFC 9293): connection-oriented, an ordered byte stream; TCP itself acknowledges, orders and retransmits."
        }
        Protocol::Udp => {
            "UDP (RFC 768): independent datagrams with no handshake, no ordering and no retransmission; connect() only fixes a default peer (and filters what it receives); it sends nothing. The program must cope with loss."
        }
    }
}

/// The Remote IP and Remote port cells from their values and meanings.
fn remote(ip_value: String, ip: String, port_value: String, port: String) -> [Line; 2] {
    [
        Line {
            label: "Remote IP",
            value: ip_value,
            meaning: ip,
        },
        Line {
            label: "Remote port",
            value: port_value,
            meaning: port,
        },
    ]
}

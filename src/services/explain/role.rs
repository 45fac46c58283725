//! Which end of a conversation a socket is: the listener, the service end, or the end that connected.

use super::{Explainer, Role, Side};
use crate::model::port_class::PortClass;
use crate::model::socket::{OwnerNote, Protocol, SocketEntry};

impl Explainer<'_> {
    /// Which end of a conversation `s` is, and why. Only a listener is certain; every other judgement
    /// rests on port conventions and this host's ephemeral range, so it says "most likely".
    #[must_use]
    pub fn role(&self, s: &SocketEntry) -> Role {
        let lport = s.local.port();
        if s.is_listener() {
            return Role {
                side: Side::Listener,
                reason: format!(
                    "It listens on port {lport}: it is the server end, waiting for clients."
                ),
            };
        }
        if s.protocol == Protocol::Udp {
            return self.udp_role(s);
        }
        match s.peer() {
            None => Role {
                side: Side::Unknown,
                reason: "Bound but neither listening nor connected: it has no end of a conversation yet."
                    .to_owned(),
            },
            Some(peer) => self.tcp_role(s, peer),
        }
    }

    fn udp_role(&self, s: &SocketEntry) -> Role {
        let lport = s.local.port();
        let range = self.snapshot.ephemeral_range_known();
        let (low, high, note) = (range.value.low, range.value.high, range.note());
        let named = |port: u16| {
            !self.registry.name(port, Protocol::Udp).is_empty() && !range.value.contains(port)
        };
        let (side, reason) = match s.peer() {
            Some(_) if range.value.contains(lport) => (
                Side::Client,
                format!(
                    "UDP port {lport} lies in the ephemeral range {low}–{high}{note}: most likely the kernel \
                     picked it when the program called connect(), as clients do (a program may also bind \
                     such a port itself)."
                ),
            ),
            Some(peer) if named(peer.port()) && !named(lport) => (
                Side::Client,
                format!(
                    "Its peer's port {} is registered for {}: most likely this socket is the client.",
                    peer.port(),
                    self.service_label(peer.port(), Protocol::Udp)
                ),
            ),
            _ if named(lport) => (
                Side::Server,
                format!(
                    "UDP port {lport} is registered for {} and lies outside the ephemeral range: most likely \
                     a server bound it on purpose.",
                    self.service_label(lport, Protocol::Udp)
                ),
            ),
            None if range.value.contains(lport) => (
                Side::Unknown,
                format!(
                    "Unconnected UDP socket on port {lport}, in the ephemeral range {low}–{high}{note}: the \
                     kernel may have picked it when the program first sent a datagram or bound port 0, as \
                     clients do; UDP has no handshake or LISTEN state to tell."
                ),
            ),
            _ => (
                Side::Unknown,
                "UDP has no handshake and no LISTEN state, and neither a registration nor the ephemeral \
                 range points to a side here."
                    .to_owned(),
            ),
        };
        Role { side, reason }
    }

    fn tcp_role(&self, s: &SocketEntry, peer: std::net::SocketAddr) -> Role {
        let (lport, rport) = (s.local.port(), peer.port());
        let range = self.snapshot.ephemeral_range_known();
        let (low, high, note) = (range.value.low, range.value.high, range.note());
        let role = |side, reason: String| Role { side, reason };
        if self.ports.is_listening(lport) {
            let accepted = if !s.pids.is_empty() {
                " and a program accepted it"
            } else if s.owner_note == Some(OwnerNote::NotAccepted) {
                " and waits in its accept queue; no program has accepted it yet"
            } else {
                ""
            };
            return role(
                Side::Server,
                format!(
                    "A listener on this host uses local port {lport}: this connection most likely came in \
                     through it{accepted}, so this is the server end."
                ),
            );
        }
        if self.snapshot.is_own_address(peer.ip()) == Some(true) && self.ports.is_listening(rport) {
            return role(
                Side::Client,
                format!(
                    "The peer is this host, which listens on port {rport}: this socket connected to it, so \
                     it is the client end."
                ),
            );
        }
        let (l_eph, r_eph) = (range.value.contains(lport), range.value.contains(rport));
        // A registration says little about a port the kernel may have picked from its range.
        let named = |port: u16| {
            !self.registry.name(port, s.protocol).is_empty()
                && PortClass::of(port) != PortClass::Dynamic
                && !range.value.contains(port)
        };
        let (l_named, r_named) = (named(lport), named(rport));
        if l_eph && !r_eph {
            return role(
                Side::Client,
                format!(
                    "Local port {lport} lies in the ephemeral range {low}–{high}{note} and the remote port does \
                     not: most likely the kernel picked it for an outgoing connection, the client end."
                ),
            );
        }
        if r_named && !l_named {
            return role(
                Side::Client,
                format!(
                    "Remote port {rport} is registered for {}: most likely this end is the client.",
                    self.service_label(rport, s.protocol)
                ),
            );
        }
        if r_eph && !l_eph {
            return role(
                Side::Server,
                format!(
                    "Remote port {rport} lies in this host's ephemeral range {low}–{high}{note}: likely the peer's \
                     kernel picked it, making the peer the client (the peer's own range may differ)."
                ),
            );
        }
        if l_named && !r_named {
            return role(
                Side::Server,
                format!(
                    "Local port {lport} is registered for {}: most likely this end is the server.",
                    self.service_label(lport, s.protocol)
                ),
            );
        }
        let why = match (l_eph && r_eph, l_named && r_named) {
            (true, _) => format!("both ports lie in the ephemeral range {low}–{high}{note}"),
            (_, true) => "both ports are registered services".to_owned(),
            _ => {
                "neither port is listened on here, registered, or in the ephemeral range".to_owned()
            }
        };
        role(
            Side::Unknown,
            format!("The ports cannot tell which end is the server: {why}."),
        )
    }
}

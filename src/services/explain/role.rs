//! The sentence that says which end of a conversation a socket is. The decision itself is
//! [`crate::model::side::side_of`], shared with the charts and the Ports view; this only words it.

use std::net::IpAddr;

use super::{Explainer, Role};
use crate::model::netns::Place;
use crate::model::side::{PortNames, SideFacts, SideReason, side_of};
use crate::model::snapshot::{Known, PortRange};
use crate::model::socket::{OwnerNote, Protocol, SocketEntry};

impl SideFacts for Explainer<'_> {
    fn ephemeral_range(&self, netns: Option<u64>) -> PortRange {
        self.snapshot.facts_in(netns).ephemeral_range_or_default()
    }
    fn tcp_listening(&self, netns: Option<u64>, port: u16) -> bool {
        self.ports.is_listening(netns, port)
    }
    fn is_own_address(&self, netns: Option<u64>, ip: IpAddr) -> Option<bool> {
        self.snapshot.facts_in(netns).is_own_address(ip)
    }
    fn is_registered(&self, port: u16, protocol: Protocol) -> bool {
        PortNames::is_registered(self.registry, port, protocol)
    }
}

impl Explainer<'_> {
    /// Which end of a conversation `s` is, and why. Only a listener is certain; every other judgement
    /// rests on port conventions and this host's ephemeral range, so it says "most likely".
    #[must_use]
    pub fn role(&self, s: &SocketEntry) -> Role {
        let (side, why) = side_of(s, self);
        Role {
            side,
            reason: self.reason(s, why),
        }
    }

    /// The sentence for `why`, with this socket's ports and this host's ephemeral range.
    fn reason(&self, s: &SocketEntry, why: SideReason) -> String {
        let lport = s.local.port();
        let rport = s.peer().map_or(0, |p| p.port());
        let range = self.snapshot.facts_in(s.netns).ephemeral_range_known();
        let (low, high, note) = (range.value.low, range.value.high, range.note());
        match why {
            SideReason::Listens => {
                format!("It listens on port {lport}: it is the server end, waiting for clients.")
            }
            SideReason::BoundOnly => {
                "Bound but neither listening nor connected: it has no end of a conversation yet."
                    .to_owned()
            }
            SideReason::LocalPortListened => accepted_reason(s, &self.place(s)),
            SideReason::PeerIsThisHostListening => {
                let place = self.place(s);
                if place.is_this_host() {
                    format!(
                        "The peer is this host, which listens on port {rport}: this socket connected to \
                         it, so it is the client end."
                    )
                } else {
                    format!(
                        "The peer is an address of {}, where a listener holds port {rport}: this socket \
                         connected to it, so it is the client end.",
                        place.name()
                    )
                }
            }
            SideReason::LocalEphemeral => format!(
                "Local port {lport} lies in the ephemeral range {low}–{high}{note} and the remote port does \
                 not: most likely the kernel picked it for an outgoing connection, the client end."
            ),
            SideReason::UdpConnectedEphemeral => format!(
                "UDP port {lport} lies in the ephemeral range {low}–{high}{note}: most likely the kernel \
                 picked it when the program called connect(), as clients do (a program may also bind such a \
                 port itself)."
            ),
            SideReason::RemoteRegistered => self.remote_registered_reason(s, rport),
            SideReason::RemoteEphemeral => format!(
                "Remote port {rport} lies in {}: likely the peer's kernel picked it, making the peer \
                 the client (the peer's own range may differ).",
                self.place(s)
                    .ephemeral_range(&format!("{low}–{high}{note}"))
            ),
            SideReason::LocalRegistered => self.local_registered_reason(s, lport),
            SideReason::UdpUnconnectedEphemeral => format!(
                "Unconnected UDP socket on port {lport}, in the ephemeral range {low}–{high}{note}: the kernel \
                 may have picked it when the program first sent a datagram or bound port 0, as clients do; \
                 UDP has no handshake or LISTEN state to tell."
            ),
            SideReason::UdpNoHint => "UDP has no handshake and no LISTEN state, and neither a \
                 registration nor the ephemeral range points to a side here."
                .to_owned(),
            SideReason::NoHint {
                both_ephemeral,
                both_registered,
            } => no_hint_reason(both_ephemeral, both_registered, range),
        }
    }

    /// Why a socket whose peer's port is registered is most likely the client.
    fn remote_registered_reason(&self, s: &SocketEntry, rport: u16) -> String {
        match s.protocol {
            Protocol::Udp => format!(
                "Its peer's port {rport} is registered for {}: most likely this socket is the client.",
                self.service_label(rport, s.protocol)
            ),
            Protocol::Tcp => format!(
                "Remote port {rport} is registered for {}: most likely this end is the client.",
                self.service_label(rport, s.protocol)
            ),
        }
    }

    /// Why a socket whose own port is registered is most likely the server.
    fn local_registered_reason(&self, s: &SocketEntry, lport: u16) -> String {
        match s.protocol {
            Protocol::Udp => format!(
                "UDP port {lport} is registered for {} and lies outside the ephemeral range: most likely a \
                 server bound it on purpose.",
                self.service_label(lport, s.protocol)
            ),
            Protocol::Tcp => format!(
                "Local port {lport} is registered for {}: most likely this end is the server.",
                self.service_label(lport, s.protocol)
            ),
        }
    }
}

/// Why a connection on a port a listener holds is the server end, and whether a program accepted it.
fn accepted_reason(s: &SocketEntry, place: &Place) -> String {
    let lport = s.local.port();
    let accepted = if !s.pids.is_empty() {
        " and a program accepted it"
    } else if s.owner_note == Some(OwnerNote::NotAccepted) {
        " and waits in its accept queue; no program has accepted it yet"
    } else {
        ""
    };
    format!(
        "A listener {} holds local port {lport}: this connection most likely came in \
         through it{accepted}, so this is the server end.",
        place.on()
    )
}

/// Why neither end can be told apart: both ports ephemeral, both registered, or no hint at all.
fn no_hint_reason(both_ephemeral: bool, both_registered: bool, range: Known<PortRange>) -> String {
    let (low, high, note) = (range.value.low, range.value.high, range.note());
    let why = match (both_ephemeral, both_registered) {
        (true, _) => {
            format!("both ports lie in the ephemeral range {low}–{high}{note}")
        }
        (_, true) => "both ports are registered services".to_owned(),
        _ => "neither port is listened on here, registered, or in the ephemeral range".to_owned(),
    };
    format!("The ports cannot tell which end is the server: {why}.")
}

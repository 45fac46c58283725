//! Which end of a conversation a socket is: the listener, the service end, or the end that connected.

use super::{Explainer, Role, Side};
use crate::model::port_class::PortClass;
use crate::model::socket::{Protocol, SocketEntry};

impl Explainer<'_> {
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
}

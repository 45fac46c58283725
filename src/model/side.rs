//! Which end of a conversation a socket is: one rule, used wherever the answer matters.
//!
//! The inspector explains the side in a sentence, the charts count a client's socket under the service
//! port it talks to, and the Ports view folds ports that only carry a program's outgoing connections. All
//! three ask [`side_of`], so they cannot disagree about a socket. The rule decides from facts first (a
//! listener, a listener on this host behind the local or remote port) and then from conventions (this
//! host's ephemeral range, IANA registrations), which is why every answer but a listener's is "most
//! likely". The sentences live in `services::explain`; this module only decides.

use std::net::IpAddr;

use super::port_class::PortClass;
use super::snapshot::{NsFacts, PortRange};
use super::socket::{Protocol, SocketEntry};

/// Which end of a conversation a socket is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    /// A TCP listener.
    Listener,
    /// The service end of a connection.
    Server,
    /// The end that connected out.
    Client,
    /// Not determinable from what the kernel and the ports tell.
    Unknown,
}

/// What a [`Side`] was decided from; the explainer turns each into a sentence with the live values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SideReason {
    /// The socket listens (certain).
    Listens,
    /// A TCP socket that is bound but neither listens nor is connected.
    BoundOnly,
    /// A TCP listener on this host uses the local port: the connection came in through it.
    LocalPortListened,
    /// The peer is this host and listens on the remote port: this socket connected to it.
    PeerIsThisHostListening,
    /// TCP: the local port is in the ephemeral range and the remote port is not.
    LocalEphemeral,
    /// UDP, connected: the local port is in the ephemeral range.
    UdpConnectedEphemeral,
    /// The remote port names a service and the local port does not.
    RemoteRegistered,
    /// TCP: the remote port is in this host's ephemeral range and the local port is not.
    RemoteEphemeral,
    /// The local port names a service and the remote port does not (or there is none).
    LocalRegistered,
    /// UDP, unconnected, on a port in the ephemeral range: possibly a client's, nothing tells.
    UdpUnconnectedEphemeral,
    /// UDP with no hint either way.
    UdpNoHint,
    /// TCP, connected, and the ports give no hint.
    NoHint {
        /// Both ports lie in the ephemeral range.
        both_ephemeral: bool,
        /// Both ports name services.
        both_registered: bool,
    },
}

/// Which ports name a service: the port registry, seen from the model (which does not depend on it).
pub trait PortNames: Send + Sync + std::fmt::Debug {
    /// True when IANA or this machine's services file names a service for `port`/`protocol`.
    fn is_registered(&self, port: u16, protocol: Protocol) -> bool;
}

/// What the rule needs to know about the machine and the port registry.
pub trait SideFacts {
    /// The ephemeral port range of network namespace `netns` (recorded, or Linux's default).
    fn ephemeral_range(&self, netns: Option<u64>) -> PortRange;
    /// True when a TCP listener in network namespace `netns` holds `port`.
    fn tcp_listening(&self, netns: Option<u64>, port: u16) -> bool;
    /// True when `ip` is an address of network namespace `netns`; `None` when the snapshot cannot tell.
    fn is_own_address(&self, netns: Option<u64>, ip: IpAddr) -> Option<bool>;
    /// True when IANA or this machine's services file names a service for `port`/`protocol`.
    fn is_registered(&self, port: u16, protocol: Protocol) -> bool;
}

/// True when the kernel most likely picked `s`'s local port for a connection: it has a peer, the port
/// lies in its namespace's ephemeral range (`facts`) and is not one of its reserved ports (never picked
/// automatically, ip(7)), and no socket of its namespace takes new peers on it (`open`, asked last: a
/// listener, an unconnected UDP socket). A registration of that number then names nothing about this
/// socket: a psql client on port 40000 is not "safetynetp".
#[must_use]
pub fn kernel_picked(s: &SocketEntry, facts: &NsFacts<'_>, open: impl FnOnce() -> bool) -> bool {
    let port = s.local.port();
    s.peer().is_some()
        && facts.ephemeral_range_or_default().contains(port)
        && facts.is_reserved_port(port) != Some(true)
        && !open()
}

/// The side `s` is on, and why.
#[must_use]
pub fn side_of(s: &SocketEntry, facts: &dyn SideFacts) -> (Side, SideReason) {
    if s.is_listener() {
        return (Side::Listener, SideReason::Listens);
    }
    let range = facts.ephemeral_range(s.netns);
    let lport = s.local.port();
    // A registration says little about a port the kernel may have picked from its range.
    let names = |port: u16| {
        facts.is_registered(port, s.protocol)
            && PortClass::of(port) != PortClass::Dynamic
            && !range.contains(port)
    };
    let peer = s.peer();
    if s.protocol == Protocol::Udp {
        return match peer {
            Some(_) if range.contains(lport) => (Side::Client, SideReason::UdpConnectedEphemeral),
            Some(p) if names(p.port()) && !names(lport) => {
                (Side::Client, SideReason::RemoteRegistered)
            }
            _ if names(lport) => (Side::Server, SideReason::LocalRegistered),
            None if range.contains(lport) => (Side::Unknown, SideReason::UdpUnconnectedEphemeral),
            _ => (Side::Unknown, SideReason::UdpNoHint),
        };
    }
    let Some(peer) = peer else {
        return (Side::Unknown, SideReason::BoundOnly);
    };
    let rport = peer.port();
    if facts.tcp_listening(s.netns, lport) {
        return (Side::Server, SideReason::LocalPortListened);
    }
    // The listening check first: it is a lookup, the address check may not be.
    if facts.tcp_listening(s.netns, rport) && facts.is_own_address(s.netns, peer.ip()) == Some(true)
    {
        return (Side::Client, SideReason::PeerIsThisHostListening);
    }
    let (l_eph, r_eph) = (range.contains(lport), range.contains(rport));
    let (l_named, r_named) = (names(lport), names(rport));
    match () {
        () if l_eph && !r_eph => (Side::Client, SideReason::LocalEphemeral),
        () if r_named && !l_named => (Side::Client, SideReason::RemoteRegistered),
        () if r_eph && !l_eph => (Side::Server, SideReason::RemoteEphemeral),
        () if l_named && !r_named => (Side::Server, SideReason::LocalRegistered),
        () => (
            Side::Unknown,
            SideReason::NoHint {
                both_ephemeral: l_eph && r_eph,
                both_registered: l_named && r_named,
            },
        ),
    }
}

/// The port of the service `s` takes part in: the remote port for a client, its own port otherwise.
#[must_use]
pub fn service_port(s: &SocketEntry, side: Side) -> u16 {
    match (side, s.peer()) {
        (Side::Client, Some(peer)) => peer.port(),
        _ => s.local.port(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::socket::TcpState;

    /// Linux's default range, a listener on 41234/tcp, 443 and 53 registered, 127.0.0.0/8 ours.
    struct Facts;

    impl SideFacts for Facts {
        fn ephemeral_range(&self, _: Option<u64>) -> PortRange {
            PortRange::LINUX_DEFAULT
        }
        fn tcp_listening(&self, _: Option<u64>, port: u16) -> bool {
            port == 41234
        }
        fn is_own_address(&self, _: Option<u64>, ip: IpAddr) -> Option<bool> {
            Some(ip.is_loopback())
        }
        fn is_registered(&self, port: u16, _: Protocol) -> bool {
            matches!(port, 443 | 53)
        }
    }

    fn tcp(local: &str, remote: &str) -> SocketEntry {
        SocketEntry::tcp(
            local.parse().unwrap(),
            remote.parse().unwrap(),
            TcpState::Established,
        )
    }

    fn side(s: &SocketEntry) -> (Side, u16) {
        let (side, _) = side_of(s, &Facts);
        (side, service_port(s, side))
    }

    #[test]
    fn a_connection_to_a_listener_on_this_host_is_its_client_even_from_an_ephemeral_port() {
        // Both ports in the range: only the listener tells.
        let client = tcp("127.0.0.1:51000", "127.0.0.1:41234");
        assert_eq!(side(&client), (Side::Client, 41234));
        let server = tcp("127.0.0.1:41234", "127.0.0.1:51000");
        assert_eq!(side(&server), (Side::Server, 41234));
    }

    #[test]
    fn a_client_port_outside_the_range_still_talks_to_the_registered_service() {
        let s = tcp("10.0.0.5:62000", "93.184.216.34:443");
        assert_eq!(side(&s), (Side::Client, 443));
    }

    #[test]
    fn udp_listening_is_not_taken_from_a_tcp_listener_on_the_same_number() {
        let mut s = SocketEntry::udp(
            "10.0.0.5:41234".parse().unwrap(),
            Some("8.8.8.8:53".parse().unwrap()),
        );
        assert_eq!(side(&s), (Side::Client, 53));
        s = SocketEntry::udp("0.0.0.0:53".parse().unwrap(), None);
        assert_eq!(side(&s), (Side::Server, 53));
    }

    #[test]
    fn when_nothing_tells_the_side_is_unknown_and_the_local_port_counts() {
        let s = tcp("10.0.0.5:40000", "10.0.0.9:50000");
        assert_eq!(
            side_of(&s, &Facts).1,
            SideReason::NoHint {
                both_ephemeral: true,
                both_registered: false
            }
        );
        assert_eq!(side(&s), (Side::Unknown, 40000));
    }
}

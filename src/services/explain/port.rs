//! The socket's port: service, RFC 6335 class, who picked it, exposure and the other sockets on it.

use super::{Explainer, Line, Role, Side};
use crate::model::netns::Place;
use crate::model::port_class::PortClass;
use crate::model::ports::{PortKey, PortUsage, no_exposure};
use crate::model::snapshot::PortRange;
use crate::model::socket::{Protocol, SocketEntry};
use crate::services::registry::ServiceInfo;

fn class_meaning(class: PortClass) -> &'static str {
    match class {
        PortClass::System => {
            "System port (0–1023, RFC 6335 §6): IANA assigns these only through IETF Review or IESG \
             Approval."
        }
        PortClass::User => {
            "User port (1024–49151, RFC 6335 §6): IANA assigns these on request, through Expert Review, \
             IETF Review or IESG Approval."
        }
        PortClass::Dynamic => {
            "Dynamic port (49152–65535, RFC 6335 §6): never assigned by IANA, meant for private or temporary \
             use."
        }
    }
}

impl Explainer<'_> {
    /// The local port explained: service, class, ephemeral or chosen, exposure, sharing; and for an outgoing
    /// connection, the remote port's service.
    #[must_use]
    pub fn port(&self, s: &SocketEntry) -> Vec<Line> {
        let p = s.local.port();
        let proto = s.protocol;
        let role = self.role(s);
        let mut lines = vec![
            self.service_line(s),
            class_line(p),
            self.privilege_line(p),
            self.picked_by_line(p, role.side, self.is_accepted(s)),
        ];
        if let Some(usage) = self.ports.get(PortKey::of(s)) {
            lines.push(exposure_line(usage, s, &self.place(s)));
            lines.push(sharing_line(usage, p, proto));
        }
        lines.push(self.side_line(s, role));
        lines
    }

    /// The Service line: what the number is registered for, and whether that says anything about this
    /// socket.
    fn service_line(&self, s: &SocketEntry) -> Line {
        let (p, proto) = (s.local.port(), s.protocol);
        match self.registry.service(p, proto) {
            Some(info) if !info.name.is_empty() => {
                registered_service_line(info, p, proto, self.kernel_picked(s))
            }
            _ => self.unregistered_service_line(p, proto),
        }
    }

    /// The Service line of a port nothing is registered for, pointing out a registration of the same
    /// number in the other protocol's number space.
    fn unregistered_service_line(&self, p: u16, proto: Protocol) -> Line {
        let other_proto = match proto {
            Protocol::Tcp => Protocol::Udp,
            Protocol::Udp => Protocol::Tcp,
        };
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

    /// The Privilege line: whether binding the port needs CAP_NET_BIND_SERVICE on this host.
    fn privilege_line(&self, p: u16) -> Line {
        let start = self.facts.machine.unprivileged_port_start();
        if p < start.value {
            Line {
                label: "Privilege",
                value: "needs CAP_NET_BIND_SERVICE".to_owned(),
                meaning: format!(
                    "Port {p} is below net.ipv4.ip_unprivileged_port_start = {}{}: binding it needs root or \
                     CAP_NET_BIND_SERVICE.",
                    start.value,
                    start.note()
                ),
            }
        } else {
            Line {
                label: "Privilege",
                value: "any user".to_owned(),
                meaning: format!(
                    "Port {p} is at or above net.ipv4.ip_unprivileged_port_start = {}{}: any user may bind it \
                     while it is free.",
                    start.value,
                    start.note()
                ),
            }
        }
    }

    /// The Picked by line: whether the kernel or a program most likely chose the port.
    fn picked_by_line(&self, p: u16, side: Side, accepted: bool) -> Line {
        let range = self.range();
        let in_eph = range.contains(p);
        let mut chosen = self.who_picked(p, side, accepted);
        chosen.push_str(&dynamic_range_note(range, PortClass::of(p), in_eph));
        Line {
            label: "Picked by",
            value: match (in_eph, side) {
                (true, Side::Client) => "kernel, most likely".to_owned(),
                (true, _) => "kernel or program".to_owned(),
                (false, _) => "program".to_owned(),
            },
            meaning: chosen,
        }
    }

    /// Why the kernel or a program most likely chose the port, from the ephemeral range and the side.
    fn who_picked(&self, p: u16, side: Side, accepted: bool) -> String {
        let range = self.range();
        let note = self.facts.ephemeral_range_known().note();
        let (low, high) = (range.low, range.high);
        match (range.contains(p), side) {
            (true, Side::Client) => format!(
                "In this machine's ephemeral range {low}–{high}{note}: most likely the kernel picked it because \
                 the program connected (or sent) without choosing a port; the kernel's dump does not say who \
                 chose it."
            ),
            (true, Side::Listener | Side::Server) => format!(
                "In the ephemeral range {low}–{high}{note}, yet {}: a program bound it on purpose, or the kernel \
                 picked it (bind() to port 0, or listen() without bind()).",
                if side == Side::Listener {
                    "it listens"
                } else {
                    "it is a service port here"
                }
            ),
            (true, _) => format!(
                "In the ephemeral range {low}–{high}{note}: the kernel may have picked it, or a program chose it; \
                 the kernel's dump does not say which."
            ),
            (false, _) if accepted => format!(
                "Outside the ephemeral range {low}–{high}{note}: a program bound its listener to this port, and \
                 this accepted connection inherited it."
            ),
            (false, _) => format!(
                "Outside the ephemeral range {low}–{high}{note}: {}a program chose this port with bind().",
                if note.is_empty() { "" } else { "most likely " }
            ),
        }
    }

    /// The last line: for a client with a peer, the remote service it most likely talks to; otherwise its
    /// side.
    fn side_line(&self, s: &SocketEntry, role: Role) -> Line {
        match (s.peer(), role.side) {
            (Some(peer), Side::Client) => {
                self.remote_service_line(peer.port(), s.protocol, &role.reason)
            }
            _ => Line {
                label: "Side",
                value: format!("{:?}", role.side).to_lowercase(),
                meaning: role.reason,
            },
        }
    }

    /// The Remote service line of a client: the service on the peer's port `rp`.
    fn remote_service_line(&self, rp: u16, proto: Protocol, reason: &str) -> Line {
        let info = self.registry.service(rp, proto);
        let desc = info
            .map(|i| i.description.clone())
            .filter(|d| !d.is_empty())
            .map(|d| format!(" — {d}"))
            .unwrap_or_default();
        Line {
            label: "Remote service",
            value: format!("{rp}/{proto} {}", self.service_label(rp, proto)),
            meaning: match proto {
                Protocol::Tcp => format!(
                    "This is most likely an outgoing connection: the service is on the remote side{desc}. {reason}"
                ),
                Protocol::Udp => format!(
                    "This socket most likely talks to a service on the remote side{desc} (UDP has no \
                     connection, only a default peer). {reason}"
                ),
            },
        }
    }
}

/// The Service line of a registered port: IANA's name (or only /etc/services'), unless the kernel most
/// likely picked the port, which makes the name meaningless for this socket.
fn registered_service_line(
    info: &ServiceInfo,
    p: u16,
    proto: Protocol,
    kernel_picked: bool,
) -> Line {
    let mut also: Vec<String> = info.aliases.clone();
    also.extend(
        info.local_name
            .iter()
            .map(|l| format!("{l} in /etc/services")),
    );
    let iana = if also.is_empty() {
        String::new()
    } else {
        format!(" (also: {})", also.join(", "))
    };
    let desc = if info.description.is_empty() {
        String::new()
    } else {
        format!(" — {}", info.description)
    };
    Line {
        label: "Service",
        value: info.name.clone(),
        meaning: if !info.from_iana {
            format!(
                "Named {} only in this machine's /etc/services; IANA has no service registered \
                 for {p}/{proto}.",
                info.name
            )
        } else if kernel_picked {
            format!(
                "IANA registers {} for {p}/{proto}{iana}, but this socket's port was most likely \
                 picked by the kernel {}: that service has nothing to do with it.",
                info.name,
                match proto {
                    Protocol::Tcp => "for an outgoing connection",
                    Protocol::Udp => "when the program sent or connected without bind()",
                }
            )
        } else {
            format!("Registered at IANA for {p}/{proto}{iana}{desc}.")
        },
    }
}

/// The Class line: the port's RFC 6335 class.
fn class_line(p: u16) -> Line {
    let class = PortClass::of(p);
    Line {
        label: "Class",
        value: class.to_string(),
        meaning: class_meaning(class).to_owned(),
    }
}

/// The note after Picked by that keeps the kernel's ephemeral range and IANA's dynamic range apart,
/// where the two could be confused; empty elsewhere.
fn dynamic_range_note(range: PortRange, class: PortClass, in_eph: bool) -> String {
    let (low, high) = (range.low, range.high);
    if range == PortRange::IANA_DYNAMIC {
        " Note: this machine's ephemeral range coincides with IANA's dynamic range 49152–65535, but \
         the two are set independently (a kernel setting vs RFC 6335)."
            .to_owned()
    } else if class == PortClass::Dynamic || in_eph {
        format!(
            " Note: IANA's dynamic range 49152–65535 is not the kernel's ephemeral range ({low}–{high} here)."
        )
    } else {
        String::new()
    }
}

/// The Exposure line: which addresses take new peers on the port. Only a listener (or an unconnected
/// UDP socket) takes new peers; a port that only carries connections has no exposure of its own.
fn exposure_line(usage: &PortUsage, s: &SocketEntry, place: &Place) -> Line {
    let (p, proto) = (s.local.port(), s.protocol);
    let Some(exposure) = usage.exposure() else {
        return closed_port_line(p, proto);
    };
    let addrs: Vec<String> = usage
        .open_addresses
        .iter()
        .map(ToString::to_string)
        .collect();
    // The exposure is the port's, through its listeners or unconnected sockets; a connection on it is
    // bound to its own address and takes packets only from its peer.
    let this = match s.peer() {
        Some(peer) if !s.takes_new_peers() => format!(
            " This connection itself is bound to {} and takes packets only from {peer}.",
            s.local.ip()
        ),
        _ => String::new(),
    };
    Line {
        label: "Exposure",
        value: exposure.badge().to_owned(),
        meaning: format!(
            "{p}/{proto} takes new peers on {}. {}{this}",
            addrs.join(", "),
            exposure.meaning(place)
        ),
    }
}

/// The Sockets on port line: how many sockets share the port, in which states.
fn sharing_line(usage: &PortUsage, p: u16, proto: Protocol) -> Line {
    let n = usage.sockets.len();
    let sharing = if n == 1 {
        "Only this socket uses the port right now.".to_owned()
    } else {
        format!(
            "{n} sockets share {p}/{proto} right now: {}. One port, many sockets.",
            usage.state_summary()
        )
    };
    Line {
        label: "Sockets on port",
        value: n.to_string(),
        meaning: sharing,
    }
}

/// The Exposure line of a port no socket takes new peers on.
fn closed_port_line(p: u16, proto: Protocol) -> Line {
    let (badge, meaning) = no_exposure(proto);
    Line {
        label: "Exposure",
        value: badge.to_owned(),
        meaning: format!("{p}/{proto}: {meaning}"),
    }
}

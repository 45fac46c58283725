//! The socket's port: service, RFC 6335 class, who picked it, exposure and the other sockets on it.

use super::{Explainer, Line, Side};
use crate::model::port_class::PortClass;
use crate::model::ports::no_exposure;
use crate::model::socket::{Protocol, SocketEntry};

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
        let range = self.range();
        let role = self.role(s);
        let mut lines = Vec::new();
        let other_proto = match proto {
            Protocol::Tcp => Protocol::Udp,
            Protocol::Udp => Protocol::Tcp,
        };
        let service = match self.registry.service(p, proto) {
            Some(info) if !info.name.is_empty() => {
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
                let kernel_picked = role.side == Side::Client && range.contains(p);
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
                                Protocol::Udp =>
                                    "when the program sent or connected without bind()",
                            }
                        )
                    } else {
                        format!("Registered at IANA for {p}/{proto}{iana}{desc}.")
                    },
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
        let start = self.snapshot.machine.unprivileged_port_start();
        lines.push(if p < start.value {
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
        });
        let in_eph = range.contains(p);
        let note = self.snapshot.ephemeral_range_known().note();
        let (low, high) = (range.low, range.high);
        let mut chosen = match (in_eph, role.side) {
            (true, Side::Client) => format!(
                "In this machine's ephemeral range {low}–{high}{note}: most likely the kernel picked it because \
                 the program connected (or sent) without choosing a port; the kernel's dump does not say who \
                 chose it."
            ),
            (true, Side::Listener | Side::Server) => format!(
                "In the ephemeral range {low}–{high}{note}, yet {}: a program bound it on purpose, or the kernel \
                 picked it (bind() to port 0, or listen() without bind()).",
                if role.side == Side::Listener {
                    "it listens"
                } else {
                    "it is a service port here"
                }
            ),
            (true, _) => format!(
                "In the ephemeral range {low}–{high}{note}: the kernel may have picked it, or a program chose it; \
                 the kernel's dump does not say which."
            ),
            (false, _) => format!(
                "Outside the ephemeral range {low}–{high}{note}: a program chose this port with bind()."
            ),
        };
        if range == crate::model::snapshot::PortRange::IANA_DYNAMIC {
            chosen.push_str(
                " Note: this machine's ephemeral range coincides with IANA's dynamic range 49152–65535, but \
                 the two are set independently (a kernel setting vs RFC 6335).",
            );
        } else if class == PortClass::Dynamic || in_eph {
            chosen.push_str(&format!(
                " Note: IANA's dynamic range 49152–65535 is not the kernel's ephemeral range ({low}–{high} here)."
            ));
        }
        lines.push(Line {
            label: "Picked by",
            value: match (in_eph, role.side) {
                (true, Side::Client) => "kernel, most likely".to_owned(),
                (true, _) => "kernel or program".to_owned(),
                (false, _) => "program".to_owned(),
            },
            meaning: chosen,
        });
        if let Some(usage) = self.ports.get(proto, p) {
            // Only a listener (or an unconnected UDP socket) takes new peers; a port that only carries
            // connections has no exposure of its own.
            match usage.exposure() {
                Some(exposure) => {
                    let addrs: Vec<String> = usage
                        .open_addresses
                        .iter()
                        .map(ToString::to_string)
                        .collect();
                    lines.push(Line {
                        label: "Exposure",
                        value: exposure.badge().to_owned(),
                        meaning: format!(
                            "{} Addresses that take new peers: {}.",
                            exposure.meaning(),
                            addrs.join(", ")
                        ),
                    });
                }
                None => lines.push(closed_port_line(p, proto)),
            }
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
                meaning: match proto {
                    Protocol::Tcp => format!(
                        "This is most likely an outgoing connection: the service is on the remote side{desc}. {}",
                        role.reason
                    ),
                    Protocol::Udp => format!(
                        "This socket most likely talks to a service on the remote side{desc} (UDP has no \
                         connection, only a default peer). {}",
                        role.reason
                    ),
                },
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

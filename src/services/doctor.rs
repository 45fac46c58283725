//! The port-conflict doctor: would a plain `bind()` of ADDR:PORT succeed for this process right now, and
//! if not, which sockets and which rules stand in the way.
//!
//! The rules are Linux's (`inet_csk_bind_conflict`, `inet_rcv_saddr_equal`, `ipv6_rcv_saddr_equal`,
//! `udp_lib_lport_inuse`), applied to the sockets of one snapshot's sampling namespace (where this
//! process would bind) and that namespace's recorded settings. The
//! prediction is for a socket that sets no options before `bind()`; what SO_REUSEADDR, SO_REUSEPORT or
//! IPV6_V6ONLY would change is said as advice, because the existing sockets' own options are not
//! visible in the kernel's socket dump.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

pub use crate::model::privilege::Privilege;
use crate::model::snapshot::Snapshot;
use crate::model::socket::{Protocol, SocketEntry, TcpState};

/// What is asked: may this process bind `address:port` over `protocol`?
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BindQuestion {
    /// TCP or UDP: each has its own port number space.
    pub protocol: Protocol,
    /// The local address asked for (`0.0.0.0` or `::` for every address).
    pub address: IpAddr,
    /// The port asked for.
    pub port: u16,
}

/// Why a bind would fail, as the kernel's error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// EACCES: the port is below the unprivileged threshold and the process lacks CAP_NET_BIND_SERVICE.
    Privileged,
    /// EADDRNOTAVAIL: the address is not one of this host's.
    NotLocal,
    /// EADDRINUSE: sockets already hold an overlapping address on the port.
    InUse,
}

/// The doctor's answer.
#[derive(Clone, Debug, PartialEq)]
pub struct Verdict {
    /// The question answered.
    pub question: BindQuestion,
    /// True when a plain bind() is predicted to succeed.
    pub bindable: bool,
    /// The kernel errors predicted, most fundamental first (empty when bindable).
    pub refusals: Vec<Refusal>,
    /// The sockets that hold an overlapping address on the port.
    pub blockers: Vec<SocketEntry>,
    /// Why, and what to do, one sentence each.
    pub reasons: Vec<String>,
}

/// How a bound socket takes part in IPv4's address space, for bind conflicts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum V4View {
    /// Not at all: an IPv6 socket with IPV6_V6ONLY (set, or forced by binding a specific IPv6 address).
    None,
    /// Every IPv4 address: 0.0.0.0, or `::` without IPV6_V6ONLY.
    Any,
    /// One IPv4 address: its own, or the one in `::ffff:a.b.c.d`.
    Addr(Ipv4Addr),
    /// An IPv6 socket that got its specific address from connect() or accept() rather than bind(): the
    /// kernel keeps IPV6_V6ONLY off and a placeholder IPv4 address (127.0.0.6) that only an IPv4
    /// wildcard bind collides with (`inet6_bind`, `LOOPBACK4_IPV6`).
    Placeholder,
}

/// The IPv4 view of an address bound explicitly with bind(): `v6only` applies to `::` only.
fn bound_view(ip: IpAddr, v6only: bool) -> V4View {
    match ip {
        IpAddr::V4(v4) if v4.is_unspecified() => V4View::Any,
        IpAddr::V4(v4) => V4View::Addr(v4),
        IpAddr::V6(v6) if v6.is_unspecified() => {
            if v6only {
                V4View::None
            } else {
                V4View::Any
            }
        }
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(V4View::None, V4View::Addr),
    }
}

/// The IPv4 view of an existing socket. A specific IPv6 address was bound explicitly when the socket
/// listens, is only bound, or is unconnected UDP; a connected or closing socket may have got it from
/// connect() or accept(), and is then taken to hold the placeholder, the view that blocks more.
fn held_view(s: &SocketEntry, snapshot: &Snapshot) -> V4View {
    let ip = s.local.ip();
    match ip {
        IpAddr::V6(v6) if v6.is_unspecified() => bound_view(
            ip,
            s.details
                .v6only
                .unwrap_or(snapshot.machine.bindv6only().value),
        ),
        IpAddr::V6(v6) if v6.to_ipv4_mapped().is_none() && s.peer().is_some() => {
            V4View::Placeholder
        }
        _ => bound_view(ip, true),
    }
}

/// Do two bound sockets collide in bind()? Linux's `inet_rcv_saddr_equal` with wildcards matching: in
/// IPv4's space by their views, in IPv6's space (IPv6 sockets only) when either is `::` or both are
/// equal. `new` is the address asked for with its IPV6_V6ONLY.
#[must_use]
pub fn addresses_overlap(new: IpAddr, new_v6only: bool, held: IpAddr, held_v4: V4View) -> bool {
    let v4_overlap = match (bound_view(new, new_v6only), held_v4) {
        (V4View::None, _) | (_, V4View::None) => false,
        (V4View::Any, _) => true,
        (V4View::Addr(_), V4View::Any) => true,
        (V4View::Addr(a), V4View::Addr(b)) => a == b,
        (V4View::Addr(_), V4View::Placeholder) => false,
        (V4View::Placeholder, _) => false,
    };
    let pure_v6 = |ip: IpAddr| match ip {
        IpAddr::V6(v6) if v6.to_ipv4_mapped().is_none() => Some(v6),
        _ => None,
    };
    let v6_overlap = match (pure_v6(new), pure_v6(held)) {
        (Some(x), Some(y)) => x == y || x.is_unspecified() || y.is_unspecified(),
        _ => false,
    };
    v4_overlap || v6_overlap
}

/// Answers `q` for a process with `privilege`, from `snapshot`'s sockets and settings.
#[must_use]
pub fn why_port(snapshot: &Snapshot, q: BindQuestion, privilege: Privilege) -> Verdict {
    let mut v = Verdict {
        question: q,
        bindable: true,
        refusals: Vec::new(),
        blockers: Vec::new(),
        reasons: Vec::new(),
    };
    if q.port == 0 {
        v.reasons.push(
            "Port 0 asks the kernel to pick a free port from the ephemeral range: bind() gets one as \
             long as the range has a free port for this address."
                .to_owned(),
        );
        return v;
    }
    privileged(snapshot, q, privilege, &mut v);
    local_address(snapshot, q, &mut v);
    conflicts(snapshot, q, &mut v);
    ranges(snapshot, q, &mut v);
    v.bindable = v.refusals.is_empty();
    if v.bindable {
        v.reasons.insert(
            0,
            format!(
                "{} can bind: no {} socket holds port {} on an overlapping address.",
                SocketAddr::new(q.address, q.port),
                q.protocol,
                q.port
            ),
        );
    }
    v
}

fn privileged(snapshot: &Snapshot, q: BindQuestion, privilege: Privilege, v: &mut Verdict) {
    let start = snapshot.machine.unprivileged_port_start();
    if q.port >= start.value {
        return;
    }
    let threshold = format!(
        "port {} is below net.ipv4.ip_unprivileged_port_start = {}{}",
        q.port,
        start.value,
        start.note()
    );
    match privilege {
        Privilege::CanBindLowPorts => v.reasons.push(format!(
            "Allowed although {threshold}: this process has CAP_NET_BIND_SERVICE."
        )),
        Privilege::Unprivileged => {
            v.refusals.push(Refusal::Privileged);
            v.reasons.push(format!(
                "Refused (EACCES): {threshold}, and this process lacks CAP_NET_BIND_SERVICE. Run the \
                 server as root, grant it the capability (setcap cap_net_bind_service+ep PROGRAM), or \
                 use a port of {} or above.",
                start.value
            ));
        }
        Privilege::Unknown => v.reasons.push(format!(
            "Binding it needs CAP_NET_BIND_SERVICE (root has it): {threshold}."
        )),
    }
}

fn local_address(snapshot: &Snapshot, q: BindQuestion, v: &mut Verdict) {
    if q.address.is_unspecified() || snapshot.is_own_address(q.address) != Some(false) {
        return;
    }
    v.refusals.push(Refusal::NotLocal);
    v.reasons.push(format!(
        "Refused (EADDRNOTAVAIL): {} is not an address of this host's interfaces; bind to one of them \
         or to {} (unless net.ipv4.ip_nonlocal_bind or IP_FREEBIND allows non-local addresses).",
        q.address,
        if q.address.is_ipv4() { "0.0.0.0" } else { "::" }
    ));
}

fn conflicts(snapshot: &Snapshot, q: BindQuestion, v: &mut Verdict) {
    let new_v6only = match q.address {
        IpAddr::V6(v6) if v6.is_unspecified() => snapshot.machine.bindv6only().value,
        IpAddr::V6(v6) => v6.to_ipv4_mapped().is_none(),
        IpAddr::V4(_) => false,
    };
    // Only the sockets of the namespace the bind() would happen in: the sampler's (this process's).
    // A container's listener on the same number holds another namespace's port.
    let here = snapshot.sampler_netns();
    v.blockers = snapshot
        .sockets
        .iter()
        .filter(|s| s.netns == here && s.protocol == q.protocol && s.local.port() == q.port)
        .filter(|s| addresses_overlap(q.address, new_v6only, s.local.ip(), held_view(s, snapshot)))
        .cloned()
        .collect();
    if v.blockers.is_empty() {
        return;
    }
    v.refusals.push(Refusal::InUse);
    let listed: Vec<String> = v
        .blockers
        .iter()
        .take(5)
        .map(|s| {
            let owner = match (s.pids.first(), snapshot.process_name(s)) {
                (Some(pid), Some(_)) => snapshot.process_label(*pid),
                _ => s
                    .owner_note
                    .map_or("owner unknown", |n| n.as_str())
                    .to_owned(),
            };
            format!("{s} ({owner})")
        })
        .collect();
    let more = v.blockers.len().saturating_sub(listed.len());
    v.reasons.push(format!(
        "Refused (EADDRINUSE): {} overlap{} {}:{} — {}{}.",
        plural(v.blockers.len(), "socket holds", "sockets hold"),
        if v.blockers.len() == 1 { "s" } else { "" },
        q.address,
        q.port,
        listed.join("; "),
        if more > 0 {
            format!(" and {more} more")
        } else {
            String::new()
        }
    ));
    v.reasons
        .extend(conflict_advice(snapshot, q, new_v6only, &v.blockers));
}

fn plural(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one} an address that")
    } else {
        format!("{n} {many} addresses that")
    }
}

/// What would change the outcome, given what kind of sockets block.
fn conflict_advice(
    snapshot: &Snapshot,
    q: BindQuestion,
    new_v6only: bool,
    blockers: &[SocketEntry],
) -> Vec<String> {
    let mut advice = Vec::new();
    advice.extend(wildcard_advice(q, new_v6only));
    advice.extend(dual_stack_advice(snapshot, q, new_v6only, blockers));
    advice.push(sharing_advice(q, blockers));
    advice
}

/// For a wildcard address: it claims the port on every address, so a specific one may still be free.
fn wildcard_advice(q: BindQuestion, new_v6only: bool) -> Option<String> {
    q.address.is_unspecified().then(|| {
        format!(
            "{} is the wildcard: it claims port {} on every {} address, so any socket on the port \
             blocks it; a specific address that no socket holds may still be free.",
            q.address,
            q.port,
            match (q.address, new_v6only) {
                (IpAddr::V4(_), _) => "IPv4",
                (IpAddr::V6(_), true) => "IPv6",
                (IpAddr::V6(_), false) => "IPv6 and (IPV6_V6ONLY is off) IPv4",
            }
        )
    })
}

/// For a dual-stack `::` that only IPv4 sockets block: IPV6_V6ONLY avoids the conflict.
fn dual_stack_advice(
    snapshot: &Snapshot,
    q: BindQuestion,
    new_v6only: bool,
    blockers: &[SocketEntry],
) -> Option<String> {
    if !(q.address.is_ipv6() && q.address.is_unspecified() && !new_v6only) {
        return None;
    }
    let bv6 = snapshot.machine.bindv6only();
    // IPv4 sockets, and IPv6 sockets on a mapped ::ffff:a.b.c.d address.
    blockers
        .iter()
        .all(|s| s.local.ip().to_canonical().is_ipv4())
        .then(|| {
            format!(
                "Only IPv4 sockets block it: a new :: socket starts with IPV6_V6ONLY off \
                 (net.ipv6.bindv6only = {}{}), so it also claims IPv4; setting IPV6_V6ONLY=1 before \
                 bind() avoids the conflict.",
                u8::from(bv6.value),
                bv6.note()
            )
        })
}

/// Which socket options would let a second socket share the port, given what kind of sockets block:
/// listeners, only TIME_WAIT sockets, other TCP connections, or UDP sockets.
fn sharing_advice(q: BindQuestion, blockers: &[SocketEntry]) -> String {
    let listeners = blockers.iter().filter(|s| s.is_listener()).count();
    let time_wait: Vec<&SocketEntry> = blockers
        .iter()
        .filter(|s| s.tcp_state() == Some(TcpState::TimeWait))
        .collect();
    if listeners > 0 {
        "A listening socket blocks the port even for a socket with SO_REUSEADDR; only SO_REUSEPORT \
         set on both sockets, by the same user, lets a second socket share it."
            .to_owned()
    } else if !time_wait.is_empty() && time_wait.len() == blockers.len() {
        let left = time_wait
            .iter()
            .filter_map(|s| s.details.timer.map(|t| t.expires_ms))
            .max();
        format!(
            "Only TIME_WAIT sockets block it{}: a server that sets SO_REUSEADDR before bind() can \
             usually bind now (Linux allows it when the old connections' sockets had it too, as \
             connections accepted by such a server do).",
            left.map(|ms| format!(
                ", and the last of them goes away in {:.0} s",
                f64::from(ms) / 1000.0
            ))
            .unwrap_or_default()
        )
    } else if q.protocol == Protocol::Tcp {
        "No listener holds it, only connection sockets (for example the local end of outgoing \
         connections): a socket with SO_REUSEADDR may bind when those sockets set it too; a plain \
         bind() fails."
            .to_owned()
    } else {
        "For UDP, a second socket may bind the same address and port only when both set \
         SO_REUSEADDR, or both SO_REUSEPORT as the same user."
            .to_owned()
    }
}

fn ranges(snapshot: &Snapshot, q: BindQuestion, v: &mut Verdict) {
    let range = snapshot.ephemeral_range_known();
    let reserved = snapshot.is_reserved_port(q.port);
    if reserved == Some(true) {
        v.reasons.push(format!(
            "Port {} is in net.ipv4.ip_local_reserved_ports: the kernel never hands it out as an \
             ephemeral port, and an explicit bind() is unaffected.",
            q.port
        ));
    } else if range.value.contains(q.port) {
        v.reasons.push(format!(
            "Port {} lies in the ephemeral range {}–{}{}: the kernel may give it to an outgoing \
             connection at any time, so a server that binds it later can find it taken; choose a port \
             outside the range or add it to net.ipv4.ip_local_reserved_ports.",
            q.port,
            range.value.low,
            range.value.high,
            range.note()
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::snapshot::MachineFacts;
    use chrono::Utc;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn address_overlap_follows_linux() {
        let any4 = ip("0.0.0.0");
        let any6 = ip("::");
        let lo = ip("127.0.0.1");
        let held = |addr: &str, v6only| (ip(addr), bound_view(ip(addr), v6only));
        let overlap = |new: IpAddr, new_v6only, (h, view): (IpAddr, V4View)| {
            addresses_overlap(new, new_v6only, h, view)
        };
        assert!(overlap(any4, false, held("127.0.0.1", false)));
        assert!(overlap(lo, false, held("0.0.0.0", false)));
        assert!(!overlap(ip("127.0.0.2"), false, held("127.0.0.1", false)));
        // `::` without v6only takes IPv4 too; with it, not.
        assert!(overlap(any4, false, held("::", false)));
        assert!(!overlap(any4, false, held("::", true)));
        assert!(overlap(any6, false, held("127.0.0.1", false)));
        assert!(!overlap(any6, true, held("127.0.0.1", false)));
        assert!(overlap(any6, true, held("::", true)));
        // A mapped address is its IPv4 address; a specific IPv6 bind is IPv6 only.
        assert!(overlap(
            ip("::ffff:127.0.0.1"),
            false,
            held("127.0.0.1", false)
        ));
        assert!(!overlap(ip("::1"), true, held("0.0.0.0", false)));
        assert!(overlap(ip("::1"), true, held("::", true)));
        // An IPv6 connection's placeholder collides with the IPv4 wildcard only.
        let conn = (ip("::1"), V4View::Placeholder);
        assert!(overlap(any4, false, conn));
        assert!(!overlap(lo, false, conn));
        assert!(overlap(any6, true, conn));
    }

    fn snap(sockets: Vec<SocketEntry>) -> Snapshot {
        let mut s = Snapshot::empty("h", Utc::now());
        s.sockets = sockets;
        s.machine = MachineFacts {
            unprivileged_port_start: Some(1024),
            bindv6only: Some(false),
            local_addresses: Some(vec![ip("127.0.0.1"), ip("::1"), ip("10.0.0.2")]),
            ..MachineFacts::default()
        };
        s
    }

    fn listener(addr: &str) -> SocketEntry {
        SocketEntry::tcp(
            addr.parse().unwrap(),
            "0.0.0.0:0".parse().unwrap(),
            TcpState::Listen,
        )
    }

    fn ask(s: &Snapshot, addr: &str, port: u16, privilege: Privilege) -> Verdict {
        why_port(
            s,
            BindQuestion {
                protocol: Protocol::Tcp,
                address: ip(addr),
                port,
            },
            privilege,
        )
    }

    #[test]
    fn a_listener_on_loopback_blocks_the_wildcard_but_not_another_address() {
        let s = snap(vec![listener("127.0.0.1:8080")]);
        let v = ask(&s, "0.0.0.0", 8080, Privilege::Unprivileged);
        assert!(!v.bindable);
        assert_eq!(v.refusals, vec![Refusal::InUse]);
        assert_eq!(v.blockers.len(), 1);
        assert!(
            v.reasons[0].starts_with("Refused (EADDRINUSE)"),
            "{:?}",
            v.reasons
        );
        assert!(ask(&s, "127.0.0.2", 8080, Privilege::Unprivileged).bindable);
    }

    #[test]
    fn privileged_ports_use_the_machines_threshold() {
        let mut s = snap(vec![]);
        let v = ask(&s, "127.0.0.1", 80, Privilege::Unprivileged);
        assert_eq!(v.refusals, vec![Refusal::Privileged]);
        assert!(v.reasons[0].contains("ip_unprivileged_port_start = 1024"));
        assert!(ask(&s, "127.0.0.1", 80, Privilege::CanBindLowPorts).bindable);
        s.machine.unprivileged_port_start = Some(0);
        assert!(ask(&s, "127.0.0.1", 80, Privilege::Unprivileged).bindable);
        s.machine.unprivileged_port_start = None;
        let assumed = ask(&s, "127.0.0.1", 80, Privilege::Unprivileged);
        assert!(
            assumed.reasons[0].contains("(assumed"),
            "{:?}",
            assumed.reasons
        );
    }

    #[test]
    fn a_foreign_address_is_not_available() {
        let s = snap(vec![]);
        let v = ask(&s, "192.0.2.7", 8080, Privilege::Unprivileged);
        assert_eq!(v.refusals, vec![Refusal::NotLocal]);
        assert!(ask(&s, "10.0.0.2", 8080, Privilege::Unprivileged).bindable);
    }

    #[test]
    fn a_dual_stack_wildcard_is_blocked_by_ipv4_and_says_v6only_helps() {
        let s = snap(vec![listener("0.0.0.0:8443")]);
        let v = ask(&s, "::", 8443, Privilege::Unprivileged);
        assert!(!v.bindable);
        assert!(
            v.reasons
                .iter()
                .any(|r| r.contains("setting IPV6_V6ONLY=1")),
            "{:?}",
            v.reasons
        );
        let mut only6 = listener("[::]:9443");
        only6.details.v6only = Some(true);
        let s = snap(vec![only6]);
        assert!(ask(&s, "0.0.0.0", 9443, Privilege::Unprivileged).bindable);
    }
}

//! Linux: the kernel's own socket tables over netlink `sock_diag`, as `ss` reads them.
//!
//! One dump per family × protocol, every state, with `tcp_info`. Everything the kernel says about a
//! socket is kept (UDP peers, IPV6_V6ONLY, bound interface, cookie, queues, timers, TCP counters), and
//! the kernel's placeholders (uid 0 of TIME_WAIT and request sockets) are not mistaken for facts.

pub mod destroy;
pub mod diag;
mod machine;
pub mod netns;
mod procfs;
pub mod tcp_info;
pub mod unix;

use crate::model::FastMap;
use std::io;

use netlink_sys::{Socket, protocols::NETLINK_SOCK_DIAG};

use self::diag::{AF_INET, AF_INET6, IPPROTO_TCP, IPPROTO_UDP, RawSocket};
use super::{CollectError, DumpError};
use crate::model::kernel::{KernelDetails, SocketTimer, TimerKind};
use crate::model::socket::{SocketEntry, TcpState};

pub use machine::{read_machine_facts, read_machine_facts_at};
pub use procfs::dump_procfs;

/// The kernel's state numbers (include/net/tcp_states.h).
const TCP_ESTABLISHED: u8 = 1;
const TCP_TIME_WAIT: u8 = 6;
/// A request socket: a SYN received, the handshake not finished (reported as SYN_RECV by most kernels).
const TCP_NEW_SYN_RECV: u8 = 12;
/// `idiag_timer` of a timewait mini-socket.
const TIMER_TIME_WAIT: u8 = 3;

/// Receive buffer for one `recv`: large, so a dump of 100k sockets takes few system calls.
const RECV_BUFFER: usize = 1 << 20;

/// Dumps every TCP and UDP socket, IPv4 and IPv6. Interface indexes are named through `names`.
/// `expected` (the previous sample's count) sizes the list up front: growing it by doubling would
/// copy it several times per sample and leave up to twice its size in the allocator at 100k sockets.
///
/// # Errors
/// When the kernel refuses a dump or the netlink socket fails; the error names the table.
pub fn dump_sockets(
    names: &mut InterfaceNames,
    expected: usize,
) -> Result<Vec<SocketEntry>, CollectError> {
    let mut socket = Socket::new(NETLINK_SOCK_DIAG).map_err(|source| CollectError::SocketDump {
        table: "netlink",
        source: DumpError::Io(source),
    })?;
    // Best effort: a larger kernel-side buffer only saves round trips.
    let _ = socket.set_rx_buf_sz(RECV_BUFFER);
    socket
        .bind_auto()
        .map_err(|source| CollectError::SocketDump {
            table: "netlink",
            source: DumpError::Io(source),
        })?;
    let mut buf = Vec::with_capacity(RECV_BUFFER);
    let mut out = Vec::with_capacity(expected + expected / 16);
    // TCP: one walk of the kernel's tables for both families, as `ss` does; kernels without the older
    // request type get one dump per family.
    let both = diag::tcp_dump_request_both_families(1);
    let one_walk = dump_one(&socket, &mut buf, &both, diag::parse_inet_msg, &mut |raw| {
        out.push(entry_of(&raw, IPPROTO_TCP, names));
    });
    let mut tables = vec![
        ("udp (IPv4)", AF_INET, IPPROTO_UDP),
        ("udp (IPv6)", AF_INET6, IPPROTO_UDP),
    ];
    if one_walk.is_err() {
        out.clear();
        tables.splice(
            0..0,
            [
                ("tcp (IPv4)", AF_INET, IPPROTO_TCP),
                ("tcp (IPv6)", AF_INET6, IPPROTO_TCP),
            ],
        );
    }
    for (seq, (table, family, protocol)) in (2u32..).zip(tables) {
        let request = diag::dump_request(family, protocol, seq);
        dump_one(
            &socket,
            &mut buf,
            &request,
            diag::parse_inet_msg,
            &mut |raw| {
                out.push(entry_of(&raw, protocol, names));
            },
        )
        .map_err(|source| CollectError::SocketDump { table, source })?;
    }
    Ok(out)
}

/// Sends one dump request and feeds every record of the reply, as `parse` decodes it, to `sink`.
pub(crate) fn dump_one<T>(
    socket: &Socket,
    buf: &mut Vec<u8>,
    request: &[u8],
    parse: impl Fn(&[u8]) -> Option<T> + Copy,
    sink: &mut dyn FnMut(T),
) -> Result<(), DumpError> {
    socket.send(request, 0).map_err(DumpError::Io)?;
    loop {
        buf.clear();
        let n = loop {
            match socket.recv(buf, 0) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                other => break other.map_err(DumpError::Io)?,
            }
        };
        if n == 0 {
            return Err(DumpError::Malformed(
                "the kernel closed the dump early".into(),
            ));
        }
        let batch = diag::parse_batch_with(buf, parse);
        batch.sockets.into_iter().for_each(&mut *sink);
        if let Some(errno) = batch.error {
            return Err(DumpError::Refused(errno));
        }
        if batch.done {
            return Ok(());
        }
    }
}

/// Names of network interfaces by index, read from `/sys/class/net` when an unknown index turns up.
#[derive(Debug, Default)]
pub struct InterfaceNames {
    names: FastMap<u32, String>,
    /// Never read `/sys/class/net`: it lists the host's interfaces, not another namespace's.
    numbered: bool,
}

impl InterfaceNames {
    /// Names that stay numbers (`if3`): for a namespace whose interfaces `/sys/class/net` does not list.
    #[must_use]
    pub fn numbered() -> Self {
        Self {
            names: FastMap::default(),
            numbered: true,
        }
    }

    /// The name of interface `index` (`lo`), or `if{index}` when it has none (it went away).
    pub fn name(&mut self, index: u32) -> String {
        if !self.numbered && !self.names.contains_key(&index) {
            self.names = read_interface_names();
        }
        self.names
            .get(&index)
            .cloned()
            .unwrap_or_else(|| format!("if{index}"))
    }
}

fn read_interface_names() -> FastMap<u32, String> {
    let Ok(dir) = std::fs::read_dir("/sys/class/net") else {
        return FastMap::default();
    };
    dir.filter_map(Result::ok)
        .filter_map(|e| {
            let text = std::fs::read_to_string(e.path().join("ifindex")).ok()?;
            let index = text.trim().parse().ok()?;
            Some((index, e.file_name().to_string_lossy().into_owned()))
        })
        .collect()
}

/// Interprets one kernel record.
pub(crate) fn entry_of(raw: &RawSocket, protocol: u8, names: &mut InterfaceNames) -> SocketEntry {
    let mut entry = if protocol == IPPROTO_UDP {
        // UDP keeps TCP_ESTABLISHED (1) for a connected socket: the builder sets CONNECTED with the peer.
        SocketEntry::udp(
            raw.local,
            (raw.state == TCP_ESTABLISHED).then_some(raw.remote),
        )
    } else {
        SocketEntry::tcp(raw.local, raw.remote, tcp_state(raw.state))
    };
    entry = entry.with_inode(raw.inode);
    // TIME_WAIT (and FIN_WAIT_2 after close) mini-sockets and request sockets carry uid 0 as a
    // placeholder, not the user who made them.
    let placeholder = raw.timer == TIMER_TIME_WAIT
        || raw.state == TCP_TIME_WAIT
        || raw.state == TCP_NEW_SYN_RECV
        || (protocol == IPPROTO_TCP && raw.state == 3 && raw.inode == 0);
    if !placeholder {
        entry = entry.with_uid(raw.uid);
    }
    entry.details = KernelDetails {
        v6only: if raw.family == AF_INET6 {
            raw.v6only
        } else {
            None
        },
        interface: (raw.interface != 0).then(|| names.name(raw.interface)),
        // Cookies start at 1; 0 means the source had none (the /proc/net fallback).
        cookie: (raw.cookie != 0).then_some(raw.cookie),
        recv_queue: Some(raw.recv_queue),
        send_queue: Some(raw.send_queue),
        timer: (protocol == IPPROTO_TCP)
            .then(|| TimerKind::from_diag(raw.timer))
            .flatten()
            .map(|kind| SocketTimer {
                kind,
                expires_ms: raw.expires_ms,
                retransmits: raw.retransmits,
            }),
        tcp_info: raw.tcp_info,
    };
    entry
}

/// Maps the kernel's TCP state number. Request sockets (`TCP_NEW_SYN_RECV`) are SYN_RECEIVED, as `ss`
/// shows them; `TCP_CLOSE` is a bound socket that neither listens nor connects.
pub(crate) fn tcp_state(code: u8) -> TcpState {
    match code {
        1 => TcpState::Established,
        2 => TcpState::SynSent,
        3 | TCP_NEW_SYN_RECV => TcpState::SynReceived,
        4 => TcpState::FinWait1,
        5 => TcpState::FinWait2,
        TCP_TIME_WAIT => TcpState::TimeWait,
        8 => TcpState::CloseWait,
        9 => TcpState::LastAck,
        10 => TcpState::Listen,
        11 => TcpState::Closing,
        _ => TcpState::Closed,
    }
}

#[cfg(test)]
mod tests {
    use super::diag::tests::inet_msg;
    use super::*;
    use crate::model::socket::UdpState;

    fn entry(state: u8, timer: u8, inode: u32, protocol: u8) -> SocketEntry {
        let mut msg = inet_msg(state, 5000, if state == 10 { 0 } else { 6000 }, &[]);
        msg[2] = timer;
        msg[68..72].copy_from_slice(&inode.to_ne_bytes());
        let raw = diag::parse_inet_msg(&msg).unwrap();
        entry_of(&raw, protocol, &mut InterfaceNames::default())
    }

    #[test]
    fn placeholder_uids_of_mini_sockets_are_not_reported() {
        assert_eq!(entry(1, 0, 77, IPPROTO_TCP).uid, Some(1000));
        assert_eq!(entry(TCP_TIME_WAIT, 3, 0, IPPROTO_TCP).uid, None);
        assert_eq!(entry(5, 3, 0, IPPROTO_TCP).uid, None, "FIN_WAIT_2 timewait");
        assert_eq!(entry(3, 1, 0, IPPROTO_TCP).uid, None, "request socket");
    }

    #[test]
    fn udp_state_and_peer_follow_the_kernel() {
        let connected = entry(TCP_ESTABLISHED, 0, 9, IPPROTO_UDP);
        assert_eq!(connected.udp_state(), Some(UdpState::Connected));
        assert_eq!(connected.remote, Some("127.0.0.1:6000".parse().unwrap()));
        let unconnected = entry(7, 0, 9, IPPROTO_UDP);
        assert_eq!(unconnected.udp_state(), Some(UdpState::Unconnected));
        assert_eq!(unconnected.remote, None);
        assert_eq!(unconnected.details.timer, None);
    }

    #[test]
    fn time_wait_keeps_its_time_left() {
        let mut msg = inet_msg(TCP_TIME_WAIT, 5000, 6000, &[]);
        msg[2] = 3;
        msg[52..56].copy_from_slice(&41_000u32.to_ne_bytes());
        let raw = diag::parse_inet_msg(&msg).unwrap();
        let e = entry_of(&raw, IPPROTO_TCP, &mut InterfaceNames::default());
        assert_eq!(e.tcp_state(), Some(TcpState::TimeWait));
        let timer = e.details.timer.unwrap();
        assert_eq!(
            (timer.kind, timer.expires_ms),
            (TimerKind::TimeWait, 41_000)
        );
    }
}

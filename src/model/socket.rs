//! One socket as the kernel reports it: the 5-tuple, the TCP state and who owns it.
//!
//! Plain data with no OS calls, so every other layer (store, export, UI, tests) can build and compare
//! sockets freely. `Display`/`Debug` read like `ss` output (`tcp 127.0.0.1:5432 -> 127.0.0.1:40112
//! ESTABLISHED`) because that is what a person scanning test failures or logs wants to see.

use std::fmt;
use std::net::{IpAddr, SocketAddr};

use serde::{Deserialize, Serialize};

/// The transport protocol, which is also the port number space: 53/tcp and 53/udp are different ports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    /// Transmission Control Protocol (RFC 9293): connected byte streams with delivery guarantees.
    Tcp,
    /// User Datagram Protocol (RFC 768): independent datagrams, no connection, no retransmission.
    Udp,
}

impl Protocol {
    /// The lowercase name used in files and on screen (`tcp`, `udp`).
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Tcp => "tcp",
            Self::Udp => "udp",
        }
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The IP version of a socket's local address (an IPv6 socket may still carry IPv4-mapped traffic).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Family {
    /// `AF_INET`.
    Ipv4,
    /// `AF_INET6`.
    Ipv6,
}

impl Family {
    /// The family of an address.
    #[must_use]
    pub fn of(addr: IpAddr) -> Self {
        match addr {
            IpAddr::V4(_) => Self::Ipv4,
            IpAddr::V6(_) => Self::Ipv6,
        }
    }

    /// The lowercase name used in files and on screen (`ipv4`, `ipv6`).
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ipv4 => "ipv4",
            Self::Ipv6 => "ipv6",
        }
    }
}

/// A TCP connection state as named by RFC 9293 §3.3.2, spelled as `netstat` spells it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TcpState {
    /// Waiting for connection requests from any remote TCP peer.
    Listen,
    /// Sent a SYN, waiting for the matching SYN+ACK.
    SynSent,
    /// Received a SYN and answered; waiting for the final ACK of the handshake.
    SynReceived,
    /// Open connection: data flows both ways.
    Established,
    /// This side closed (sent FIN), waiting for the peer's ACK or FIN.
    #[serde(rename = "FIN_WAIT_1")]
    FinWait1,
    /// This side's FIN was acknowledged; waiting for the peer to close.
    #[serde(rename = "FIN_WAIT_2")]
    FinWait2,
    /// The peer closed; waiting for the local program to close.
    CloseWait,
    /// Both sides closed at the same time; waiting for the ACK of this side's FIN.
    Closing,
    /// The peer closed first, then this side; waiting for the ACK of this side's FIN.
    LastAck,
    /// This side closed first; the kernel keeps the tuple for 2×MSL so stray segments die out.
    TimeWait,
    /// No connection: a socket that is bound (or just created) but neither listening nor connected.
    Closed,
}

impl TcpState {
    /// Every state, in the order used for charts and counts.
    pub const ALL: [Self; 11] = [
        Self::Listen,
        Self::SynSent,
        Self::SynReceived,
        Self::Established,
        Self::FinWait1,
        Self::FinWait2,
        Self::CloseWait,
        Self::Closing,
        Self::LastAck,
        Self::TimeWait,
        Self::Closed,
    ];

    /// The name used in files and on screen, e.g. `TIME_WAIT`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Listen => "LISTEN",
            Self::SynSent => "SYN_SENT",
            Self::SynReceived => "SYN_RECEIVED",
            Self::Established => "ESTABLISHED",
            Self::FinWait1 => "FIN_WAIT_1",
            Self::FinWait2 => "FIN_WAIT_2",
            Self::CloseWait => "CLOSE_WAIT",
            Self::Closing => "CLOSING",
            Self::LastAck => "LAST_ACK",
            Self::TimeWait => "TIME_WAIT",
            Self::Closed => "CLOSED",
        }
    }

    /// Parses a state name, accepting `ss`'s spellings too (`SYN-RECV`, `ESTAB`, `FIN-WAIT-1`, `UNCONN`
    /// is not TCP and is rejected), case-insensitively.
    #[must_use]
    pub fn parse(text: &str) -> Option<Self> {
        let norm = text.trim().to_ascii_uppercase().replace('-', "_");
        let state = match norm.as_str() {
            "LISTEN" => Self::Listen,
            "SYN_SENT" => Self::SynSent,
            "SYN_RECEIVED" | "SYN_RECV" => Self::SynReceived,
            "ESTABLISHED" | "ESTAB" => Self::Established,
            "FIN_WAIT_1" | "FIN_WAIT1" => Self::FinWait1,
            "FIN_WAIT_2" | "FIN_WAIT2" => Self::FinWait2,
            "CLOSE_WAIT" => Self::CloseWait,
            "CLOSING" => Self::Closing,
            "LAST_ACK" => Self::LastAck,
            "TIME_WAIT" => Self::TimeWait,
            "CLOSED" | "CLOSE" => Self::Closed,
            _ => return None,
        };
        Some(state)
    }

    /// Position in [`TcpState::ALL`], for per-state counters.
    #[must_use]
    pub fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for TcpState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a socket has no owner process in a snapshot. Knowing the reason matters: "not permitted" is fixed by
/// running as root, "kernel-owned" never is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OwnerNote {
    /// The socket belongs to another user and this process may not read that user's `/proc/PID/fd`
    /// (needs root or `CAP_SYS_PTRACE` + `CAP_DAC_READ_SEARCH`).
    NotPermitted,
    /// A TIME_WAIT socket: the program already closed it; only the kernel holds the tuple now.
    TimeWait,
    /// A half-open connection (SYN_RECEIVED) not yet accepted by any program; the kernel holds it.
    NotAccepted,
    /// No process held the socket when `/proc` was scanned: its process exited (or closed it) during the
    /// scan, or the socket is orphaned (closed by its program, still finishing its FIN exchange).
    NoProcess,
}

impl OwnerNote {
    /// The code used in files (`not_permitted`, `time_wait`, `not_accepted`, `no_process`).
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NotPermitted => "not_permitted",
            Self::TimeWait => "time_wait",
            Self::NotAccepted => "not_accepted",
            Self::NoProcess => "no_process",
        }
    }

    /// Parses the file code back.
    #[must_use]
    pub fn parse(text: &str) -> Option<Self> {
        [
            Self::NotPermitted,
            Self::TimeWait,
            Self::NotAccepted,
            Self::NoProcess,
        ]
        .into_iter()
        .find(|n| n.as_str() == text)
    }

    /// One sentence for people.
    #[must_use]
    pub fn sentence(self) -> &'static str {
        match self {
            Self::NotPermitted => {
                "Owner hidden: the socket belongs to another user and reading that user's /proc/PID/fd needs \
                 root or CAP_SYS_PTRACE."
            }
            Self::TimeWait => {
                "No owner: in TIME_WAIT the program has already closed the socket; only the kernel keeps the \
                 tuple, for about 60 s on Linux."
            }
            Self::NotAccepted => {
                "No owner yet: a half-open connection waits in the listener's queue until a program calls \
                 accept()."
            }
            Self::NoProcess => {
                "No owner found: the process exited or closed the socket during the scan, or the socket is \
                 orphaned and the kernel is finishing its close."
            }
        }
    }
}

/// One socket: protocol, local and remote endpoint, TCP state, kernel identity and owner.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct SocketEntry {
    /// TCP or UDP.
    pub protocol: Protocol,
    /// Local address and port the socket is bound to (`0.0.0.0`/`::` means every interface).
    pub local: SocketAddr,
    /// Remote address and port. `None` for UDP (the kernel's dump used here does not report a UDP peer);
    /// for a TCP socket that is not connected (LISTEN, CLOSED) it is the unspecified address and port 0.
    pub remote: Option<SocketAddr>,
    /// The TCP state; `None` for UDP, which has no connection states.
    pub state: Option<TcpState>,
    /// The kernel's socket inode; `None` when the kernel reports 0 (TIME_WAIT, half-open request sockets).
    pub inode: Option<u32>,
    /// The user id that created the socket, as the kernel reports it (known even when the PID is not).
    pub uid: Option<u32>,
    /// Processes holding a file descriptor for this socket (several after `fork`), ascending.
    pub pids: Vec<u32>,
    /// Why `pids` is empty, when it is.
    pub owner_note: Option<OwnerNote>,
}

impl SocketEntry {
    /// The address family of the local address.
    #[must_use]
    pub fn family(&self) -> Family {
        Family::of(self.local.ip())
    }

    /// True for a TCP socket in LISTEN.
    #[must_use]
    pub fn is_listener(&self) -> bool {
        self.state == Some(TcpState::Listen)
    }

    /// The remote endpoint when this socket is connected to a peer (non-zero remote port).
    #[must_use]
    pub fn peer(&self) -> Option<SocketAddr> {
        self.remote.filter(|r| r.port() != 0)
    }

    /// The identity used to follow this socket from one sample to the next.
    #[must_use]
    pub fn key(&self) -> SocketKey {
        // A connected TCP 4-tuple is unique on a host, and stays the same when the socket moves to
        // TIME_WAIT (where the kernel drops the inode), so the inode must not be part of the key then.
        // Unconnected sockets (listeners, UDP) can share an address with SO_REUSEPORT; the inode tells
        // them apart.
        let inode = if self.peer().is_some() {
            0
        } else {
            self.inode.unwrap_or(0)
        };
        SocketKey {
            protocol: self.protocol,
            local: self.local,
            remote: self.peer(),
            inode,
        }
    }
}

fn write_endpoint(f: &mut fmt::Formatter<'_>, addr: SocketAddr) -> fmt::Result {
    let port = addr.port();
    let ip = addr.ip();
    match (ip.is_unspecified() && port == 0, ip) {
        (true, _) => f.write_str("*:*"),
        (false, IpAddr::V4(v4)) => write!(f, "{v4}:{port}"),
        (false, IpAddr::V6(v6)) => write!(f, "[{v6}]:{port}"),
    }
}

impl fmt::Display for SocketEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ", self.protocol)?;
        write_endpoint(f, self.local)?;
        if let Some(remote) = self.remote {
            f.write_str(" -> ")?;
            write_endpoint(f, remote)?;
        }
        if let Some(state) = self.state {
            write!(f, " {state}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for SocketEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)?;
        if !self.pids.is_empty() {
            write!(f, " pids={:?}", self.pids)?;
        } else if let Some(note) = self.owner_note {
            write!(f, " ({})", note.as_str())?;
        }
        Ok(())
    }
}

/// Identity of a socket across samples: protocol, local endpoint, remote endpoint when connected, and the
/// inode for unconnected sockets that may share an address.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SocketKey {
    /// TCP or UDP.
    pub protocol: Protocol,
    /// Local endpoint.
    pub local: SocketAddr,
    /// Remote endpoint of a connected socket.
    pub remote: Option<SocketAddr>,
    /// Kernel inode for unconnected sockets, 0 otherwise.
    pub inode: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tcp(local: &str, remote: &str, state: TcpState) -> SocketEntry {
        SocketEntry {
            protocol: Protocol::Tcp,
            local: local.parse().unwrap(),
            remote: Some(remote.parse().unwrap()),
            state: Some(state),
            inode: Some(7),
            uid: Some(0),
            pids: vec![42],
            owner_note: None,
        }
    }

    #[test]
    fn display_reads_like_ss() {
        let s = tcp("127.0.0.1:5432", "127.0.0.1:40112", TcpState::Established);
        assert_eq!(
            s.to_string(),
            "tcp 127.0.0.1:5432 -> 127.0.0.1:40112 ESTABLISHED"
        );
        assert_eq!(
            format!("{s:?}"),
            "tcp 127.0.0.1:5432 -> 127.0.0.1:40112 ESTABLISHED pids=[42]"
        );
        let l = tcp("[::]:22", "[::]:0", TcpState::Listen);
        assert_eq!(l.to_string(), "tcp [::]:22 -> *:* LISTEN");
    }

    #[test]
    fn key_survives_move_to_time_wait() {
        let a = tcp("127.0.0.1:5432", "127.0.0.1:40112", TcpState::Established);
        let mut b = a.clone();
        b.state = Some(TcpState::TimeWait);
        b.inode = None;
        assert_eq!(a.key(), b.key());
    }

    #[test]
    fn listeners_sharing_a_port_have_distinct_keys() {
        let a = tcp("0.0.0.0:80", "0.0.0.0:0", TcpState::Listen);
        let mut b = a.clone();
        b.inode = Some(8);
        assert_ne!(a.key(), b.key());
    }

    #[test]
    fn state_names_round_trip_and_accept_ss_spellings() {
        for s in TcpState::ALL {
            assert_eq!(TcpState::parse(s.as_str()), Some(s));
            assert_eq!(TcpState::ALL[s.index()], s);
        }
        assert_eq!(TcpState::parse("syn-recv"), Some(TcpState::SynReceived));
        assert_eq!(TcpState::parse("ESTAB"), Some(TcpState::Established));
        assert_eq!(TcpState::parse("UNCONN"), None);
    }
}

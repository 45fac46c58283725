//! One socket as the kernel reports it: the 5-tuple, the TCP state and who owns it.
//!
//! Plain data with no OS calls, so every other layer (store, export, UI, tests) can build and compare
//! sockets freely. `Display`/`Debug` read like `ss` output (`tcp 127.0.0.1:5432 -> 127.0.0.1:40112
//! ESTABLISHED`) because that is what a person scanning test failures or logs wants to see.

use std::fmt;
use std::net::{IpAddr, SocketAddr};

use serde::{Deserialize, Serialize};

use super::kernel::KernelDetails;
pub use super::state::{SocketState, TcpState, UdpState};

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

    /// Reads `tcp` or `udp` (any case), as files, the registry and the filter write them.
    #[must_use]
    pub fn parse(text: &str) -> Option<Self> {
        [Self::Tcp, Self::Udp]
            .into_iter()
            .find(|p| text.eq_ignore_ascii_case(p.as_str()))
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
    /// A connection no program has accepted yet: a request socket in SYN_RECEIVED (handshake not
    /// finished), or a completed connection (ESTABLISHED, or CLOSE_WAIT if the peer already closed) waiting
    /// in the listener's accept queue. The kernel holds it; no file descriptor exists yet.
    NotAccepted,
    /// The program closed the socket but the kernel is still finishing the close (FIN_WAIT_1/2, CLOSING,
    /// LAST_ACK with no inode): no process will ever own it again.
    Orphaned,
    /// No process held the socket when `/proc` was scanned: its process exited or closed it during the
    /// scan, or the process is in another PID namespace (a container or sandbox) this process cannot see.
    NoProcess,
}

impl OwnerNote {
    const ALL: [Self; 5] = [
        Self::NotPermitted,
        Self::TimeWait,
        Self::NotAccepted,
        Self::Orphaned,
        Self::NoProcess,
    ];

    /// The code used in files (`not_permitted`, `time_wait`, `not_accepted`, `orphaned`, `no_process`).
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NotPermitted => "not_permitted",
            Self::TimeWait => "time_wait",
            Self::NotAccepted => "not_accepted",
            Self::Orphaned => "orphaned",
            Self::NoProcess => "no_process",
        }
    }

    /// A short label where the process name would be (`not permitted`, `time wait`, …).
    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            Self::NotPermitted => "not permitted",
            Self::TimeWait => "time wait",
            Self::NotAccepted => "not accepted",
            Self::Orphaned => "orphaned",
            Self::NoProcess => "no process",
        }
    }

    /// Parses the file code back.
    #[must_use]
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|n| n.as_str() == text)
    }

    /// One sentence for people.
    #[must_use]
    pub fn sentence(self) -> &'static str {
        match self {
            Self::NotPermitted => {
                "Owner hidden, most likely: a process of this socket's user would not show its open files \
                 (/proc/PID/fd). Reading them needs the right to ptrace that process (root, or both \
                 CAP_SYS_PTRACE and CAP_DAC_READ_SEARCH, for another user's processes), and some processes \
                 refuse even root: non-dumpable ones, and those started outside this container's user \
                 namespace."
            }
            Self::TimeWait => {
                "No owner: in TIME_WAIT the program has already closed the socket; only the kernel keeps the \
                 tuple, for 60 s on Linux (TCP_TIMEWAIT_LEN)."
            }
            Self::NotAccepted => {
                "No owner yet: the kernel holds this connection for a listener, and no program has called \
                 accept() for it (a SYN_RECEIVED request still waits for the handshake's last ACK; an \
                 ESTABLISHED one waits in the accept queue, and a CLOSE_WAIT one too, its client having \
                 already closed)."
            }
            Self::Orphaned => {
                "No owner: the program closed the socket; the kernel alone finishes the connection's close."
            }
            Self::NoProcess => {
                "No owner found: no process held it when /proc was scanned — the process exited or closed it \
                 meanwhile, runs in another PID namespace (a container or sandbox), or is hidden by /proc's \
                 hidepid; or the kernel itself opened the socket (WireGuard, NFS, SMB or iSCSI clients), and \
                 no process ever holds those."
            }
        }
    }
}

/// One socket: protocol, local and remote endpoint, state, kernel identity, owner and kernel details.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct SocketEntry {
    /// TCP or UDP.
    pub protocol: Protocol,
    /// Local address and port the socket is bound to (`0.0.0.0` = every IPv4 address; `::` = every IPv6
    /// address, and every IPv4 address too unless IPV6_V6ONLY is set).
    pub local: SocketAddr,
    /// Remote address and port. TCP: always present; for a socket that is not connected (LISTEN, CLOSED)
    /// the unspecified address and port 0. UDP: the peer set by connect(), `None` when unconnected (or not
    /// recorded, in files of format version 1).
    pub remote: Option<SocketAddr>,
    /// The state, in the state space of `protocol`.
    pub state: SocketState,
    /// The kernel's socket inode; `None` when the kernel reports 0 (TIME_WAIT, request sockets, and
    /// sockets no file refers to: not yet accepted, or orphaned).
    pub inode: Option<u32>,
    /// The user id that created the socket, as the kernel reports it (known even when the PID is not).
    /// `None` where the kernel sends a placeholder 0 (TIME_WAIT and request sockets) or did not say.
    pub uid: Option<u32>,
    /// Processes holding a file descriptor for this socket (several after `fork`), ascending.
    pub pids: Vec<u32>,
    /// Why `pids` is empty, when it is.
    pub owner_note: Option<OwnerNote>,
    /// Queues, timer, v6only, interface, cookie and `tcp_info`, where recorded.
    pub details: KernelDetails,
    /// The network namespace it lives in (its nsfs inode, see [`super::netns`]); `None` where not
    /// recorded (files before version 4, systems other than Linux).
    pub netns: Option<u64>,
}

impl SocketEntry {
    /// A TCP socket with no owner or details yet; `remote` is the unspecified address and port 0 for a
    /// socket that is not connected.
    #[must_use]
    pub fn tcp(local: SocketAddr, remote: SocketAddr, state: TcpState) -> Self {
        Self::new(Protocol::Tcp, local, Some(remote), SocketState::Tcp(state))
    }

    /// A UDP socket with no owner or details yet: connected when `peer` is given.
    #[must_use]
    pub fn udp(local: SocketAddr, peer: Option<SocketAddr>) -> Self {
        let state = if peer.is_some() {
            UdpState::Connected
        } else {
            UdpState::Unconnected
        };
        Self::new(Protocol::Udp, local, peer, SocketState::Udp(state))
    }

    /// A socket with no owner or details yet, from its parts as read (a file reader's start; the other
    /// fields are set after, so a new field needs no change here). [`SocketEntry::validate`] checks that
    /// the parts agree.
    #[must_use]
    pub fn new(
        protocol: Protocol,
        local: SocketAddr,
        remote: Option<SocketAddr>,
        state: SocketState,
    ) -> Self {
        Self {
            protocol,
            local,
            remote,
            state,
            inode: None,
            uid: None,
            pids: Vec::new(),
            owner_note: None,
            details: KernelDetails::default(),
            netns: None,
        }
    }

    /// The same socket in network namespace `netns`.
    #[must_use]
    pub fn with_netns(mut self, netns: u64) -> Self {
        self.netns = Some(netns);
        self
    }

    /// The same socket with this inode.
    #[must_use]
    pub fn with_inode(mut self, inode: u32) -> Self {
        self.inode = (inode != 0).then_some(inode);
        self
    }

    /// The same socket with this uid.
    #[must_use]
    pub fn with_uid(mut self, uid: u32) -> Self {
        self.uid = Some(uid);
        self
    }

    /// The same socket owned by `pids` (sorted, no owner note).
    #[must_use]
    pub fn with_pids(mut self, mut pids: Vec<u32>) -> Self {
        pids.sort_unstable();
        pids.dedup();
        self.pids = pids;
        self.owner_note = None;
        self
    }

    /// The same socket with no owner, for `note`'s reason.
    #[must_use]
    pub fn without_owner(mut self, note: OwnerNote) -> Self {
        self.pids.clear();
        self.owner_note = Some(note);
        self
    }

    /// Checks that the parts agree with each other, as a reader of files must before trusting them.
    ///
    /// # Errors
    /// A sentence saying what contradicts what.
    pub fn validate(&self) -> Result<(), String> {
        if self.state.protocol() != self.protocol {
            return Err(format!(
                "state {} is not a {} state",
                self.state.as_str(),
                self.protocol
            ));
        }
        if let Some(remote) = self.remote {
            if Family::of(remote.ip()) != self.family() {
                return Err(format!(
                    "remote {} and local {} are of different families",
                    remote.ip(),
                    self.local.ip()
                ));
            }
        }
        match (self.protocol, self.remote, self.state) {
            (Protocol::Tcp, None, _) => {
                return Err("a tcp socket needs remote_address and remote_port".into());
            }
            (Protocol::Udp, Some(_), SocketState::Udp(UdpState::Unconnected)) => {
                return Err("an UNCONNECTED udp socket has no remote address".into());
            }
            (Protocol::Udp, None, SocketState::Udp(UdpState::Connected)) => {
                return Err("a CONNECTED udp socket needs remote_address and remote_port".into());
            }
            _ => {}
        }
        if self.details.v6only.is_some() && self.family() == Family::Ipv4 {
            return Err("v6only is set on an IPv4 socket".into());
        }
        if !self.pids.is_empty() && self.owner_note.is_some() {
            return Err("a socket with pids has no owner_note".into());
        }
        Ok(())
    }

    /// The TCP state, for TCP sockets.
    #[must_use]
    pub fn tcp_state(&self) -> Option<TcpState> {
        match self.state {
            SocketState::Tcp(t) => Some(t),
            SocketState::Udp(_) => None,
        }
    }

    /// The UDP state, for UDP sockets.
    #[must_use]
    pub fn udp_state(&self) -> Option<UdpState> {
        match self.state {
            SocketState::Udp(u) => Some(u),
            SocketState::Tcp(_) => None,
        }
    }

    /// The address family of the local address.
    #[must_use]
    pub fn family(&self) -> Family {
        Family::of(self.local.ip())
    }

    /// True for a TCP socket in LISTEN.
    #[must_use]
    pub fn is_listener(&self) -> bool {
        self.state == SocketState::Tcp(TcpState::Listen)
    }

    /// True when the socket takes traffic from new peers: a TCP listener, or a UDP socket without a fixed
    /// peer (unconnected, or not recorded). Such sockets are what a port's exposure is about.
    #[must_use]
    pub fn takes_new_peers(&self) -> bool {
        self.is_listener()
            || matches!(
                self.udp_state(),
                Some(UdpState::Unconnected | UdpState::NotRecorded)
            )
    }

    /// The remote endpoint when this socket is connected to a peer (non-zero remote port).
    #[must_use]
    pub fn peer(&self) -> Option<SocketAddr> {
        self.remote.filter(|r| r.port() != 0)
    }

    /// The peer's address as host names are keyed: IPv4-mapped IPv6 addresses as plain IPv4.
    #[must_use]
    pub fn peer_ip(&self) -> Option<std::net::IpAddr> {
        self.peer().map(|p| p.ip().to_canonical())
    }

    /// The identity used to follow this socket from one sample to the next.
    #[must_use]
    pub fn key(&self) -> SocketKey {
        // A connected TCP 4-tuple is unique on a host, and stays the same when the socket moves to
        // TIME_WAIT (where the kernel drops the inode), so the inode must not be part of the key then.
        // Unconnected TCP sockets (listeners) can share an address with SO_REUSEPORT; the inode tells
        // them apart. A UDP socket always has an inode and keeps it when it connects, while connect()
        // may change its local address (a wildcard bind gets a source address): its key is its inode and
        // local port, so connecting is a change of state, not a close and an open.
        if self.protocol == Protocol::Udp {
            if let Some(inode) = self.inode {
                let any = match self.local {
                    SocketAddr::V4(_) => IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED),
                    SocketAddr::V6(_) => IpAddr::V6(std::net::Ipv6Addr::UNSPECIFIED),
                };
                return SocketKey {
                    netns: self.netns,
                    protocol: self.protocol,
                    local: SocketAddr::new(any, self.local.port()),
                    remote: None,
                    inode,
                };
            }
        }
        let inode = if self.peer().is_some() {
            0
        } else {
            self.inode.unwrap_or(0)
        };
        SocketKey {
            netns: self.netns,
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

/// A socket's protocol and endpoints without its state, as `ss` shows them: `tcp 127.0.0.1:80 -> *:*`.
pub struct Tuple<'a>(&'a SocketEntry);

impl fmt::Display for Tuple<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ", self.0.protocol)?;
        write_endpoint(f, self.0.local)?;
        if let Some(remote) = self.0.remote {
            f.write_str(" -> ")?;
            write_endpoint(f, remote)?;
        }
        Ok(())
    }
}

impl SocketEntry {
    /// Protocol and endpoints without the state, for lines that print the state themselves.
    #[must_use]
    pub fn tuple(&self) -> Tuple<'_> {
        Tuple(self)
    }
}

impl fmt::Display for SocketEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.tuple())?;
        let state = self.state.as_str();
        if !state.is_empty() {
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

/// Identity of a socket across samples: network namespace, protocol, local endpoint, remote endpoint when
/// connected, and the inode for unconnected sockets that may share an address.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SocketKey {
    /// The network namespace: the same tuple in two namespaces is two sockets.
    pub netns: Option<u64>,
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
        SocketEntry::tcp(local.parse().unwrap(), remote.parse().unwrap(), state)
            .with_inode(7)
            .with_uid(0)
            .with_pids(vec![42])
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
        b.state = SocketState::Tcp(TcpState::TimeWait);
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

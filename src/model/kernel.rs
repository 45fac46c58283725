//! What the kernel knows about a socket beyond its tuple: queues, timer, IPV6_V6ONLY, the bound interface,
//! the socket cookie and TCP's own counters (`tcp_info`).
//!
//! Kept apart from the tuple because none of it is known for every socket: files of format version 1
//! recorded none of it, non-Linux systems report little of it, and the kernel itself sends no `tcp_info`
//! for TIME_WAIT or request sockets. Every field is therefore optional, and `None` means "not reported",
//! never zero.

use std::fmt;

/// A TCP timer the kernel has armed for a socket (the `timer:(…)` of `ss -o`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SocketTimer {
    /// Which timer.
    pub kind: TimerKind,
    /// Time left until it fires, in milliseconds (0 when already due).
    pub expires_ms: u32,
    /// Retransmissions or probes already sent without an answer (keepalive: probes sent).
    pub retransmits: u8,
}

/// The kind of a TCP timer, as `inet_diag` numbers them (`idiag_timer`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TimerKind {
    /// Retransmission timer (for a request socket: the next SYN-ACK retransmission). `idiag_timer` 1.
    Retransmit,
    /// Keepalive timer (SO_KEEPALIVE), also used for the FIN_WAIT_2 timeout. `idiag_timer` 2.
    Keepalive,
    /// Expiry of a timewait mini-socket (TIME_WAIT, or FIN_WAIT_2 after the program closed): when it fires,
    /// the kernel forgets the tuple. `idiag_timer` 3.
    TimeWait,
    /// Zero-window probe (persist) timer: the peer advertised a zero receive window. `idiag_timer` 4.
    ZeroWindowProbe,
}

impl TimerKind {
    /// The kernel's number for it (`idiag_timer`), when it is one of the known kinds.
    #[must_use]
    pub fn from_diag(code: u8) -> Option<Self> {
        match code {
            1 => Some(Self::Retransmit),
            2 => Some(Self::Keepalive),
            3 => Some(Self::TimeWait),
            4 => Some(Self::ZeroWindowProbe),
            _ => None,
        }
    }

    /// The name used in files: `retransmit`, `keepalive`, `time_wait`, `zero_window_probe`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Retransmit => "retransmit",
            Self::Keepalive => "keepalive",
            Self::TimeWait => "time_wait",
            Self::ZeroWindowProbe => "zero_window_probe",
        }
    }

    /// Parses the file name back.
    #[must_use]
    pub fn parse(text: &str) -> Option<Self> {
        [
            Self::Retransmit,
            Self::Keepalive,
            Self::TimeWait,
            Self::ZeroWindowProbe,
        ]
        .into_iter()
        .find(|k| k.as_str() == text)
    }
}

impl fmt::Display for SocketTimer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = f64::from(self.expires_ms) / 1000.0;
        write!(f, "{} in {secs:.1} s", self.kind.as_str())?;
        if self.retransmits > 0 {
            write!(f, " ({} sent)", self.retransmits)?;
        }
        Ok(())
    }
}

/// TCP's own counters for one connection (`struct tcp_info`, the `-i` of `ss`). Each field is `None` when
/// the kernel's structure was too short to hold it (older kernels send shorter ones).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct TcpInfo {
    /// Smoothed round-trip time, µs (`tcpi_rtt`).
    pub rtt_us: Option<u32>,
    /// Round-trip time variation, µs (`tcpi_rttvar`).
    pub rttvar_us: Option<u32>,
    /// Lowest round-trip time seen, µs (`tcpi_min_rtt`).
    pub min_rtt_us: Option<u32>,
    /// Retransmission timeout, µs (`tcpi_rto`).
    pub rto_us: Option<u32>,
    /// Segments retransmitted and not yet acknowledged (`tcpi_retrans`).
    pub retrans: Option<u32>,
    /// Segments retransmitted over the connection's life (`tcpi_total_retrans`).
    pub total_retrans: Option<u32>,
    /// Segments currently considered lost (`tcpi_lost`).
    pub lost: Option<u32>,
    /// Congestion window, in segments (`tcpi_snd_cwnd`).
    pub snd_cwnd: Option<u32>,
    /// Bytes sent, retransmissions included (`tcpi_bytes_sent`, Linux ≥ 4.19).
    pub bytes_sent: Option<u64>,
    /// Bytes the peer acknowledged (`tcpi_bytes_acked`, Linux ≥ 4.1).
    pub bytes_acked: Option<u64>,
    /// Bytes received in order (`tcpi_bytes_received`, Linux ≥ 4.1).
    pub bytes_received: Option<u64>,
    /// Latest delivery-rate estimate, bytes per second (`tcpi_delivery_rate`, Linux ≥ 4.9).
    pub delivery_rate: Option<u64>,
}

/// Kernel facts about one socket that go beyond its tuple, state and owner. `Default` is "nothing
/// recorded".
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct KernelDetails {
    /// IPV6_V6ONLY of an IPv6 socket: `Some(false)` means a `::` socket also takes IPv4 (as
    /// `::ffff:a.b.c.d`). The kernel reports it only for unconnected sockets (TCP LISTEN or bound,
    /// unconnected UDP), where it decides what the socket accepts; `None` otherwise, for IPv4 sockets and
    /// when not recorded.
    pub v6only: Option<bool>,
    /// The interface the socket is bound to with SO_BINDTODEVICE, by name (`lo`), or `if7` when the index
    /// had no name when sampled. `None` when not bound to one.
    pub interface: Option<String>,
    /// The kernel's socket cookie: unique for the socket's life and never reused while the host runs, so
    /// it identifies a socket more exactly than its tuple (`sk:` in `ss -e`).
    pub cookie: Option<u64>,
    /// TCP listener: connections waiting for accept(). Other TCP sockets: bytes received and not yet
    /// read by the program. UDP: memory held by received datagrams not yet read (with the kernel's
    /// per-packet overhead, so more than their payload).
    pub recv_queue: Option<u32>,
    /// TCP listener: the accept backlog (the `listen()` argument, capped by `somaxconn`). Other TCP
    /// sockets: bytes sent and not yet acknowledged. UDP: memory of datagrams queued to send.
    pub send_queue: Option<u32>,
    /// The TCP timer armed for the socket, if any.
    pub timer: Option<SocketTimer>,
    /// TCP's counters; `None` for UDP, TIME_WAIT, request sockets, and when not recorded.
    pub tcp_info: Option<TcpInfo>,
}

//! Socket states: TCP's (RFC 9293) and UDP's connectedness, which Linux also tracks.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::socket::Protocol;

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

/// Whether a UDP socket is connected. Linux keeps a state for UDP too: a socket that called connect() is
/// `TCP_ESTABLISHED` (1) in the kernel's dump, and it then receives datagrams from its peer only.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum UdpState {
    /// connect() was called: a default peer is set and datagrams from other sources are dropped.
    Connected,
    /// No peer: the socket sends with sendto() and receives from any source.
    Unconnected,
    /// The sample did not record it (snapshot files of format version 1).
    NotRecorded,
}

impl UdpState {
    /// The name used in files and on screen (`CONNECTED`, `UNCONNECTED`); empty when not recorded.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Connected => "CONNECTED",
            Self::Unconnected => "UNCONNECTED",
            Self::NotRecorded => "",
        }
    }

    /// Parses a state name, accepting `ss`'s spellings (`ESTAB`, `UNCONN`) case-insensitively.
    #[must_use]
    pub fn parse(text: &str) -> Option<Self> {
        match text.trim().to_ascii_uppercase().as_str() {
            "CONNECTED" | "ESTAB" | "ESTABLISHED" => Some(Self::Connected),
            "UNCONNECTED" | "UNCONN" => Some(Self::Unconnected),
            _ => None,
        }
    }
}

/// The state of a socket, in the state space of its protocol.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SocketState {
    /// A TCP socket's state (RFC 9293).
    Tcp(TcpState),
    /// A UDP socket's connectedness.
    Udp(UdpState),
}

impl SocketState {
    /// The name used in files and on screen (`ESTABLISHED`, `UNCONNECTED`; empty when not recorded).
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Tcp(t) => t.as_str(),
            Self::Udp(u) => u.as_str(),
        }
    }

    /// The protocol whose state space this state belongs to.
    #[must_use]
    pub fn protocol(self) -> Protocol {
        match self {
            Self::Tcp(_) => Protocol::Tcp,
            Self::Udp(_) => Protocol::Udp,
        }
    }

    /// Parses a state name for `protocol` (TCP or UDP names, with `ss` spellings).
    #[must_use]
    pub fn parse(protocol: Protocol, text: &str) -> Option<Self> {
        match protocol {
            Protocol::Tcp => TcpState::parse(text).map(Self::Tcp),
            Protocol::Udp => UdpState::parse(text).map(Self::Udp),
        }
    }
}

impl fmt::Display for SocketState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

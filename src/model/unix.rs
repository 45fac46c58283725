//! Unix domain sockets: endpoints named by a path (or an abstract name), never by a port.
//!
//! They are the other half of a machine's sockets (D-Bus, X11 and Wayland, docker.sock, databases on a
//! local socket) and the clearest evidence that a socket is not a port: two programs talk through a
//! pair of connected sockets that the kernel links by inode, with no number space at all.

use serde::{Deserialize, Serialize};

/// The socket type a program asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnixType {
    /// SOCK_STREAM: a byte stream, connection-oriented.
    Stream,
    /// SOCK_DGRAM: datagrams.
    Dgram,
    /// SOCK_SEQPACKET: connection-oriented, message boundaries kept.
    Seqpacket,
}

impl UnixType {
    /// From the kernel's `SOCK_*` number; `None` for a type Sockscope does not know.
    #[must_use]
    pub fn from_kernel(kind: u8) -> Option<Self> {
        match kind {
            1 => Some(Self::Stream),
            2 => Some(Self::Dgram),
            5 => Some(Self::Seqpacket),
            _ => None,
        }
    }
}

/// Where a Unix socket is in its life, as the kernel reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnixState {
    /// Waiting for connections on its path.
    Listen,
    /// Connected to a peer socket.
    Connected,
    /// A connect() under way.
    Connecting,
    /// Neither listening nor connected (an unconnected datagram socket, or a closed one).
    Unconnected,
}

impl UnixState {
    /// From the kernel's state number (the TCP numbers, reused by af_unix).
    #[must_use]
    pub fn from_kernel(state: u8) -> Self {
        match state {
            10 => Self::Listen,
            1 => Self::Connected,
            2 => Self::Connecting,
            _ => Self::Unconnected,
        }
    }
}

/// One Unix domain socket.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnixSocket {
    /// Stream, datagram or seqpacket.
    #[serde(rename = "type")]
    pub kind: UnixType,
    /// Listening, connected, connecting or neither.
    pub state: UnixState,
    /// The bound path, `@name` for an abstract name, `None` for an unnamed socket (most connected ends
    /// and every socketpair()).
    pub path: Option<String>,
    /// The socket's inode: its identity, and what `/proc/PID/fd` links name.
    pub inode: u32,
    /// The inode of the socket it is connected to, when connected.
    pub peer_inode: Option<u32>,
    /// Bytes queued for reading (a listener: connections waiting for accept()).
    pub recv_queue: Option<u32>,
    /// Bytes queued for sending (a listener: the backlog).
    pub send_queue: Option<u32>,
    /// The user that created it.
    pub uid: Option<u32>,
    /// Processes holding it.
    pub pids: Vec<u32>,
}

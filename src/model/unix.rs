//! Unix domain sockets: endpoints named by a path (or an abstract name), never by a port.
//!
//! They are the other half of a machine's sockets (D-Bus, X11 and Wayland, docker.sock, databases on a
//! local socket) and the clearest evidence that a socket is not a port: two programs talk through a
//! pair of connected sockets that the kernel links by inode, with no number space at all.

use std::fmt;

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
    /// The type as lists show it (`stream`, `dgram`, `seqpacket`).
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Stream => "stream",
            Self::Dgram => "dgram",
            Self::Seqpacket => "seqpacket",
        }
    }

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
    /// The state as lists show it, in capitals like TCP's (`LISTEN`, `CONNECTED`).
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Listen => "LISTEN",
            Self::Connected => "CONNECTED",
            Self::Connecting => "CONNECTING",
            Self::Unconnected => "UNCONNECTED",
        }
    }

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
    /// The network namespace it was listed in (version 4; `None` before). Unix sockets named by a path
    /// are reached through the file system, not the namespace; abstract names are per namespace.
    #[serde(default)]
    pub netns: Option<u64>,
}

impl UnixSocket {
    /// A stream socket `inode` held by `pids`: connected to `peer_inode`, or listening when it has
    /// none; named `path`; queues, user and namespace not recorded. Fixtures and tests build from it.
    #[must_use]
    pub fn stream(inode: u32, peer_inode: Option<u32>, path: Option<&str>, pids: Vec<u32>) -> Self {
        Self {
            kind: UnixType::Stream,
            state: if peer_inode.is_some() {
                UnixState::Connected
            } else {
                UnixState::Listen
            },
            path: path.map(str::to_owned),
            inode,
            peer_inode,
            recv_queue: None,
            send_queue: None,
            uid: None,
            pids,
            netns: None,
        }
    }

    /// Identity across samples: the namespace and the inode (a path may be bound again by a new socket).
    #[must_use]
    pub fn key(&self) -> (Option<u64>, u32) {
        (self.netns, self.inode)
    }
}

/// Reads like the inet sockets' lines: `unix stream /run/user/1000/bus #7001 LISTEN`, and
/// `unix stream (unnamed) #7002 CONNECTED -> #7003` for a connected end.
impl fmt::Display for UnixSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = self.path.as_deref().unwrap_or("(unnamed)");
        write!(
            f,
            "unix {} {path} #{} {}",
            self.kind.as_str(),
            self.inode,
            self.state.as_str()
        )?;
        if let Some(peer) = self.peer_inode {
            write!(f, " -> #{peer}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_read_like_the_inet_sockets() {
        let mut s = UnixSocket::stream(7001, None, Some("/run/user/1000/bus"), vec![]);
        assert_eq!(s.to_string(), "unix stream /run/user/1000/bus #7001 LISTEN");
        s.path = None;
        s.state = UnixState::Connected;
        s.peer_inode = Some(7003);
        assert_eq!(
            s.to_string(),
            "unix stream (unnamed) #7001 CONNECTED -> #7003"
        );
    }
}

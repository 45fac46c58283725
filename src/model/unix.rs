//! Unix domain sockets: endpoints named by a path (or an abstract name), never by a port.
//!
//! They are the other half of a machine's sockets (D-Bus, X11 and Wayland, docker.sock, databases on a
//! local socket) and the clearest evidence that a socket is not a port: two programs talk through a
//! pair of connected sockets that the kernel links by inode, with no number space at all.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use super::FastMap;
use super::compare::owners_of;
use super::snapshot::Snapshot;

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

/// Processes talking over Unix sockets: one line per (one side, other side, name).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnixPair {
    /// The end that holds the name (the server's accepted socket carries its listener's path), or
    /// either end of an unnamed pair: its owners as `name[pid]`.
    pub one: String,
    /// The other end's owners.
    pub other: String,
    /// The path or `@abstract` name one end carries; `None` for a socketpair() or two unnamed ends.
    pub name: Option<String>,
    /// How many connections link them.
    pub connections: usize,
    /// One of the sockets, an index into the snapshot's `unix_sockets`, to select.
    pub example: usize,
}

/// The Unix sockets of one snapshot linked by the peer inode the kernel reports, with their owners:
/// who talks to whom. The Unix view and the HTML report read it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UnixLinks {
    /// Each socket's index by inode, to find a peer. Socket inodes are unique across the machine, and
    /// a peer may be in another namespace (a container's client of a bind-mounted docker.sock).
    by_inode: FastMap<u32, usize>,
    /// Each socket's owners as `name[pid]`, or "no visible process".
    owners: Vec<String>,
}

impl UnixLinks {
    /// Links `snapshot`'s Unix sockets.
    #[must_use]
    pub fn of(snapshot: &Snapshot) -> Self {
        let list = &snapshot.unix_sockets;
        Self {
            by_inode: list.iter().enumerate().map(|(i, u)| (u.inode, i)).collect(),
            owners: list
                .iter()
                .map(|u| {
                    if u.pids.is_empty() {
                        "no visible process".to_owned()
                    } else {
                        owners_of(snapshot, &u.pids)
                    }
                })
                .collect(),
        }
    }

    /// Each socket's owners, in the snapshot's order.
    #[must_use]
    pub fn owners(&self) -> &[String] {
        &self.owners
    }

    /// The index of `u`'s peer in the same snapshot, when it is connected and its peer was listed.
    #[must_use]
    pub fn peer_of(&self, u: &UnixSocket) -> Option<usize> {
        self.by_inode.get(&u.peer_inode?).copied()
    }

    /// Folds every connected pair of `list` (the snapshot's `unix_sockets`), each counted once, into
    /// lines per (owners, owners, name), most connections first; a pair is kept when either end is
    /// `kept`.
    #[must_use]
    pub fn pairs(&self, list: &[UnixSocket], kept: &[bool]) -> Vec<UnixPair> {
        let owners = &self.owners;
        let mut folded: BTreeMap<(&str, &str, Option<&str>), (usize, usize)> = BTreeMap::new();
        let kept = |i: usize| kept.get(i) == Some(&true);
        for (i, u) in list.iter().enumerate() {
            let Some((j, peer)) = self.peer_of(u).and_then(|j| Some((j, list.get(j)?))) else {
                continue;
            };
            // Each pair once: from the end with the smaller inode when both name the other. A datagram
            // client connected to a server's socket (/dev/log) is named by no peer: counted from it.
            let mutual = peer.peer_inode == Some(u.inode);
            if (mutual && peer.inode < u.inode) || !(kept(i) || kept(j)) {
                continue;
            }
            // The named end first: it is the server's side of a connection to a listener.
            let (a, b, name) = if u.path.is_none() && peer.path.is_some() {
                (j, i, peer.path.as_deref())
            } else {
                (i, j, u.path.as_deref())
            };
            let (Some(one), Some(other)) = (owners.get(a), owners.get(b)) else {
                continue;
            };
            folded
                .entry((one.as_str(), other.as_str(), name))
                .or_insert((0, a))
                .0 += 1;
        }
        let mut out: Vec<UnixPair> = folded
            .into_iter()
            .map(|((one, other, name), (connections, example))| UnixPair {
                one: one.to_owned(),
                other: other.to_owned(),
                name: name.map(str::to_owned),
                connections,
                example,
            })
            .collect();
        out.sort_by_key(|p| std::cmp::Reverse(p.connections));
        out
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

    #[test]
    fn a_datagram_client_of_dev_log_and_a_peer_in_another_namespace_are_linked() {
        let mut s = Snapshot::empty("h", chrono::Utc::now());
        let mut log = UnixSocket::stream(10, None, Some("/dev/log"), vec![1]);
        log.kind = UnixType::Dgram;
        log.state = UnixState::Unconnected;
        // The client names the server's socket; the server names no peer.
        let mut client = UnixSocket::stream(50, Some(10), None, vec![2]);
        client.kind = UnixType::Dgram;
        // A container's client of the host's docker.sock: its end is in another namespace.
        let mut docker = UnixSocket::stream(20, Some(60), Some("/run/docker.sock"), vec![3]);
        docker.netns = Some(1);
        let mut cli = UnixSocket::stream(60, Some(20), None, vec![4]);
        cli.netns = Some(2);
        s.unix_sockets = vec![log, client, docker, cli];
        for (pid, name) in [
            (1, "journald"),
            (2, "logger"),
            (3, "dockerd"),
            (4, "docker"),
        ] {
            s.processes
                .insert(pid, crate::model::snapshot::ProcessInfo::named(pid, name));
        }
        let links = UnixLinks::of(&s);
        let lines: Vec<(String, String, Option<String>)> = links
            .pairs(&s.unix_sockets, &[true; 4])
            .into_iter()
            .map(|p| (p.one, p.other, p.name))
            .collect();
        assert_eq!(
            lines,
            vec![
                (
                    "dockerd[3]".to_owned(),
                    "docker[4]".to_owned(),
                    Some("/run/docker.sock".to_owned())
                ),
                (
                    "journald[1]".to_owned(),
                    "logger[2]".to_owned(),
                    Some("/dev/log".to_owned())
                ),
            ]
        );
        assert_eq!(links.peer_of(&s.unix_sockets[3]), Some(2));
    }
}

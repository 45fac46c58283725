//! Sentences for one Unix domain socket: a name (or none) instead of a port, an inode for identity, and
//! the peer the kernel links it to. Wording after unix(7), socketpair(2), accept(2) and the kernel's
//! unix_diag (what the queues mean for a listener).

use super::Line;
use crate::model::compare::owners_of;
use crate::model::snapshot::Snapshot;
use crate::model::unix::{UnixSocket, UnixState, UnixType};

/// Explains `u`, a Unix socket of `snapshot`; `peer` is the socket it is connected to, when listed.
#[must_use]
pub fn unix_lines(snapshot: &Snapshot, u: &UnixSocket, peer: Option<&UnixSocket>) -> Vec<Line> {
    let mut lines = vec![
        name_line(u),
        Line {
            label: "Identity",
            value: format!("inode {}", u.inode),
            meaning: format!(
                "The kernel knows it by inode {0} (`socket:[{0}]` in /proc/PID/fd). A TCP or UDP socket \
                 is found through a port number that many sockets may share; this one is found by its \
                 name, and the two ends of a connection by each other's inode. No port, no address, and \
                 nothing on a network.",
                u.inode
            ),
        },
        state_line(snapshot, u, peer),
        owner_line(snapshot, u),
    ];
    if snapshot.spans_namespaces() {
        lines.push(Line {
            label: "Namespace",
            value: snapshot.namespace_label(u.netns),
            meaning: "Listed from this network namespace. A path is reached through the file system, \
                      from any namespace that sees the file; an abstract name only from inside this \
                      namespace."
                .to_owned(),
        });
    }
    lines
}

/// What its name is, and what kind of name.
fn name_line(u: &UnixSocket) -> Line {
    let stream = u.kind != UnixType::Dgram;
    let (value, meaning) = match u.path.as_deref() {
        Some(name) if name.starts_with('@') => (
            name.to_owned(),
            "An abstract name (the @ stands for a leading NUL byte): no file exists. The name lives in \
             the network namespace's abstract socket namespace; file permissions and umask have no \
             meaning for it, so any process in the namespace may connect, and it disappears when the \
             last socket bound to it closes (unix(7))."
                .to_owned(),
        ),
        Some(path) if stream && u.state == UnixState::Connected => (
            path.to_owned(),
            format!(
                "A path, not a port. A connected stream that carries one is normally the server's end: \
                 accept() on the listener bound to {path} made it and gives it that name (a client that \
                 bound a path before connecting carries its own)."
            ),
        ),
        Some(path) => (
            path.to_owned(),
            format!(
                "A path in the file system, not a port: a program reaches this socket by passing \
                 {path} to connect() or sendto(), and needs write permission on that file to do so \
                 (unix(7)). The file stays after the socket closes until someone unlinks it."
            ),
        ),
        None => (
            "(unnamed)".to_owned(),
            "Never bound to a name: socketpair() makes two such ends, and a client that calls connect() \
             without bind() is one. Nothing can find it by name; it is reached only through the socket \
             it is connected to."
                .to_owned(),
        ),
    };
    Line {
        label: "Name",
        value,
        meaning,
    }
}

/// Its state, with its peer or its waiting connections.
fn state_line(snapshot: &Snapshot, u: &UnixSocket, peer: Option<&UnixSocket>) -> Line {
    let meaning = match u.state {
        UnixState::Listen => {
            let waiting = u.recv_queue.map_or_else(String::new, |q| {
                let backlog = u
                    .send_queue
                    .map_or_else(String::new, |b| format!(" of a backlog of {b}"));
                format!(" {q} waiting now{backlog}.")
            });
            format!(
                "Listening: each connect() to its name becomes a new connected pair, and waits here until \
                 the program calls accept().{waiting}"
            )
        }
        UnixState::Connected => connected_meaning(snapshot, u, peer),
        UnixState::Connecting => "connect() is under way.".to_owned(),
        UnixState::Unconnected if u.kind == UnixType::Dgram => {
            "Not connected: a datagram socket that takes what is sent to its name, and sends with \
             sendto() to a named socket."
                .to_owned()
        }
        UnixState::Unconnected => "Neither listening nor connected.".to_owned(),
    };
    Line {
        label: "State",
        value: u.state.as_str().to_owned(),
        meaning,
    }
}

fn connected_meaning(snapshot: &Snapshot, u: &UnixSocket, peer: Option<&UnixSocket>) -> String {
    let other = match (u.peer_inode, peer) {
        (Some(inode), Some(p)) if p.pids.is_empty() => {
            format!("#{inode}, held by no visible process")
        }
        (Some(inode), Some(p)) => format!("#{inode}, held by {}", owners_of(snapshot, &p.pids)),
        (Some(inode), None) => format!("#{inode} (not in this sample)"),
        (None, _) => "a peer the kernel did not name".to_owned(),
    };
    let unread = match (u.kind, u.recv_queue) {
        (UnixType::Dgram, _) | (_, None | Some(0)) => String::new(),
        (_, Some(bytes)) => format!(" {bytes} bytes here are not yet read."),
    };
    format!(
        "Connected to {other}: what one end writes, the other reads; the kernel copies the data \
         between them.{unread}"
    )
}

/// Who holds it.
fn owner_line(snapshot: &Snapshot, u: &UnixSocket) -> Line {
    let user = u
        .uid
        .and_then(|uid| snapshot.users.get(&uid))
        .map_or_else(String::new, |name| format!(", created by user {name}"));
    let meaning = if u.pids.is_empty() {
        "No process found holding it: one that exited during the scan, another user's read without \
         root, or the kernel's own."
            .to_owned()
    } else {
        format!("The processes holding a descriptor of it (several after fork()){user}.")
    };
    Line {
        label: "Owner",
        value: owners_of(snapshot, &u.pids),
        meaning,
    }
}

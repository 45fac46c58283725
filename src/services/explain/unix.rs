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
                 is found through a port number that many sockets may share; a named Unix socket is \
                 found by its path or abstract name, an unnamed one only through the socket connected \
                 to it, and unix_diag names that peer by its inode. No port, no IP address, nothing on a \
                 network.",
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
            meaning: "It belongs to this network namespace: its creator's (for a server's end, the \
                      client's, whose connect() created it). A path is reached from any namespace whose \
                      mounts reach the file; an abstract name only from inside this one."
                .to_owned(),
        });
    }
    lines
}

/// What its name is, and what kind of name.
fn name_line(u: &UnixSocket) -> Line {
    let stream = u.kind != UnixType::Dgram;
    let (value, meaning) = match u.path.as_deref() {
        Some(name) if stream && u.state == UnixState::Connected => (
            name.to_owned(),
            format!(
                "A name, not a port. A connected stream that carries one is normally the server's end: \
                 the client's connect() made it, carrying the name of the listener bound to {name}, and \
                 accept() handed it to the program (a client that bound a name before connecting \
                 carries its own)."
            ),
        ),
        Some(name) if name.starts_with('@') => (
            name.to_owned(),
            "An abstract name (the @ stands for a leading NUL byte): no file exists. The name lives in \
             the network namespace's abstract socket namespace; file permissions and umask have no \
             meaning for it (only a security module can restrict who connects), and the name is freed \
             when the socket bound to it is closed by every holder (unix(7))."
                .to_owned(),
        ),
        Some(path) => {
            let how = if stream { "connect()" } else { "connect() or sendto()" };
            (
                path.to_owned(),
                format!(
                    "A path in the file system, not a port: a program reaches this socket by passing \
                     {path} to {how}, which needs write permission on the socket file and search \
                     permission on its directories (unix(7)). The path is as given to bind(): the file \
                     may since have been removed or replaced, and it stays after the socket closes \
                     until someone unlinks it."
                ),
            )
        }
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
                "Listening: for each connect() to its name the kernel creates the server's end, already \
                 connected to the client; it waits in this queue until the program calls accept().\
                 {waiting}"
            )
        }
        UnixState::Connected => connected_meaning(snapshot, u, peer),
        UnixState::Connecting => {
            "The kernel reports SYN_SENT, a state af_unix does not normally use.".to_owned()
        }
        UnixState::Unconnected if u.kind == UnixType::Dgram && u.path.is_some() => {
            "Not connected: it takes datagrams sent to its name, and sends with sendto().".to_owned()
        }
        UnixState::Unconnected if u.kind == UnixType::Dgram => {
            "Not connected and unnamed: it sends with sendto(), and nothing can send to it unless it \
             is given a name (bind(), or autobind: unix(7), SO_PASSCRED)."
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
    let dgram = u.kind == UnixType::Dgram;
    if u.peer_inode.is_none() {
        return if dgram {
            "A datagram socket that another socket has connect()ed to; it takes datagrams from any \
             sender."
                .to_owned()
        } else {
            "Connected, but the kernel reports no peer inode: the other end has closed, or is not yet \
             accept()ed."
                .to_owned()
        };
    }
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
    if dgram {
        return format!(
            "Connected to {other}: it sends there by default, and takes datagrams only from it."
        );
    }
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

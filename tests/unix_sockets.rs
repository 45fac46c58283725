//! Unix domain sockets from the kernel's unix_diag, against sockets this test holds.
#![cfg(target_os = "linux")]
#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly on purpose.

mod common;

use std::os::fd::AsRawFd;
use std::os::unix::net::{UnixListener, UnixStream};

use sockscope::collector::{SocketSource, SystemSource, SystemSourceOptions};
use sockscope::model::unix::{UnixSocket, UnixState, UnixType};

/// The inode of the socket behind file descriptor `fd` of this process.
fn inode(fd: &impl AsRawFd) -> u32 {
    let link = std::fs::read_link(format!("/proc/self/fd/{}", fd.as_raw_fd())).unwrap();
    let text = link.to_string_lossy();
    text.trim_start_matches("socket:[")
        .trim_end_matches(']')
        .parse()
        .unwrap()
}

#[test]
fn a_listener_its_clients_and_a_socketpair_appear_with_owners_and_peers() {
    let dir = common::temp_dir();
    let path = dir.path().join("app.sock");
    let listener = UnixListener::bind(&path).unwrap();
    let clients: Vec<UnixStream> = (0..3)
        .map(|_| UnixStream::connect(&path).unwrap())
        .collect();
    let accepted: Vec<UnixStream> = (0..3).map(|_| listener.accept().unwrap().0).collect();
    let (left, right) = UnixStream::pair().unwrap();

    let snapshot = SystemSource::new(SystemSourceOptions::default())
        .sample()
        .unwrap();
    let me = std::process::id();
    let find = |ino: u32| -> &UnixSocket {
        snapshot
            .unix_sockets
            .iter()
            .find(|u| u.inode == ino)
            .unwrap_or_else(|| panic!("socket {ino} is listed"))
    };
    let l = find(inode(&listener));
    assert_eq!((l.kind, l.state), (UnixType::Stream, UnixState::Listen));
    assert_eq!(l.path.as_deref(), Some(path.to_str().unwrap()));
    assert_eq!(l.pids, vec![me]);
    for (client, server) in clients.iter().zip(&accepted) {
        let (c, s) = (find(inode(client)), find(inode(server)));
        assert_eq!(c.state, UnixState::Connected);
        assert_eq!(c.peer_inode, Some(s.inode), "client → its accepted end");
        assert_eq!(s.peer_inode, Some(c.inode), "accepted end → its client");
        assert_eq!((c.pids.clone(), s.pids.clone()), (vec![me], vec![me]));
    }
    let (a, b) = (find(inode(&left)), find(inode(&right)));
    assert_eq!((a.peer_inode, b.peer_inode), (Some(b.inode), Some(a.inode)));
    assert_eq!(
        (a.path.as_deref(), b.path.as_deref()),
        (None, None),
        "a socketpair has no name"
    );
}

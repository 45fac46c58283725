//! Network namespaces: a listener inside `unshare -n` is a socket of its own namespace, on a port of its
//! own, next to a host listener with the same number.
#![cfg(target_os = "linux")]
#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly on purpose.

mod common;

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};

use sockscope::collector::{SocketSource, SystemSource, SystemSourceOptions};
use sockscope::model::ports::{PortKey, PortsIndex};
use sockscope::model::snapshot::{PortRange, Snapshot};
use sockscope::model::socket::Protocol;
use sockscope::model::socket::SocketEntry;
use sockscope::services::doctor::{BindQuestion, Privilege, why_port};

/// Kills the namespaced child when the test ends, however it ends.
struct Reaped(Child);

impl Drop for Reaped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A python listener on 0.0.0.0:`port` in a new network namespace, once it listens; `None` when this
/// machine cannot make one (no root, no unshare).
fn listener_in_new_namespace(port: u16) -> Option<Reaped> {
    let script = format!(
        "import socket, time\n\
         open('/proc/sys/net/ipv4/ip_local_port_range', 'w').write('40000 40100')\n\
         s = socket.socket()\n\
         s.bind(('0.0.0.0', {port}))\n\
         s.listen()\n\
         print('ready', flush=True)\n\
         time.sleep(60)\n"
    );
    let mut child = Command::new("unshare")
        .args(["--net", "--", "python3", "-c", &script])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let mut line = String::new();
    BufReader::new(child.stdout.take()?)
        .read_line(&mut line)
        .ok()?;
    let child = Reaped(child);
    (line.trim() == "ready").then_some(child)
}

#[test]
fn a_listener_inside_unshare_n_is_its_own_socket_on_its_own_port() {
    let root = common::effective_uid() == Some(0);
    if !root && std::env::var_os("CI").is_none() {
        eprintln!("skipped: entering another network namespace needs root (CI runs as root)");
        return;
    }
    let host = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = host.local_addr().unwrap().port();
    let inside = listener_in_new_namespace(port).expect("unshare -n runs a listener (as root)");
    let child_pid = inside.0.id();

    let snap = SystemSource::new(SystemSourceOptions::default())
        .sample()
        .unwrap();
    let listeners: Vec<_> = snap
        .sockets
        .iter()
        .filter(|s| s.is_listener() && s.local.port() == port)
        .collect();
    assert_eq!(listeners.len(), 2, "{listeners:?}\nnotes: {:?}", snap.notes);
    let ours = listeners
        .iter()
        .find(|s| s.pids.contains(&std::process::id()))
        .expect("the host listener, owned by this test");
    let theirs = listeners
        .iter()
        .find(|s| s.pids == vec![child_pid])
        .expect("the namespaced listener, owned by the unshared python");
    assert_eq!(theirs.local.to_string(), format!("0.0.0.0:{port}"));
    assert!(ours.netns.is_some() && theirs.netns.is_some());
    assert_ne!(ours.netns, theirs.netns, "two namespaces");
    let ns = snap
        .namespace(theirs.netns)
        .expect("its namespace is described");
    assert!(ns.listed && !ns.host, "{ns:?}");
    assert_eq!(
        snap.namespace_label(theirs.netns),
        format!("netns {}", ns.inode)
    );

    settings_are_their_own(&snap, ours, theirs, port);

    // Two ports that share a number: one per namespace.
    let index = PortsIndex::build(&snap);
    let key = |netns| PortKey {
        netns,
        protocol: Protocol::Tcp,
        port,
    };
    let host_port = index.get(key(ours.netns)).unwrap();
    let their_port = index.get(key(theirs.netns)).unwrap();
    assert_eq!((host_port.sockets.len(), their_port.sockets.len()), (1, 1));
    assert_eq!(
        their_port.pids.iter().copied().collect::<Vec<_>>(),
        vec![child_pid]
    );
}

/// The namespaced listener's settings are its namespace's, read from inside it, and a bind() in ours is
/// blocked by our listener only.
fn settings_are_their_own(snap: &Snapshot, ours: &SocketEntry, theirs: &SocketEntry, port: u16) {
    // Its own settings, read from inside it: the range its process set, not the host's.
    let facts = snap.facts_in(theirs.netns);
    assert_eq!(
        facts.ephemeral_range,
        Some(PortRange {
            low: 40000,
            high: 40100
        })
    );
    assert_ne!(
        facts.machine.local_addresses, snap.machine.local_addresses,
        "a new namespace has none of the host's addresses"
    );
    assert_ne!(
        snap.facts_in(ours.netns).ephemeral_range,
        facts.ephemeral_range
    );
    assert_eq!(snap.sampler_netns(), ours.netns);

    // A bind() here is blocked by the host's listener only.
    let verdict = why_port(
        snap,
        BindQuestion {
            protocol: Protocol::Tcp,
            address: "0.0.0.0".parse().unwrap(),
            port,
        },
        Privilege::Unknown,
    );
    assert_eq!(verdict.blockers.len(), 1, "{:?}", verdict.blockers);
    assert_eq!(verdict.blockers[0].netns, ours.netns);
}

//! The live collector against real sockets this test opens on loopback, and against `ss -tuanp`.
#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly on purpose.

use std::collections::{BTreeSet, HashMap};
use std::io::{Read, Write};
use std::net::{IpAddr, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::process::Command;

use sockscope::collector::{SocketSource, SystemSource, SystemSourceOptions};
use sockscope::model::diff::SnapshotDiff;
use sockscope::model::snapshot::Snapshot;
use sockscope::model::socket::{OwnerNote, Protocol, SocketEntry, SocketState, TcpState, UdpState};

/// Held by tests that spawn processes or check that closed sockets are gone. Between `fork` and `exec`, a
/// child holds copies of all this process's fds, so a socket "closed" here can outlive its close while
/// another test spawns `ss`: the kernel really still has it.
static NO_FORKS: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    NO_FORKS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A listener, one accepted connection (both ends) and a UDP socket on one loopback address.
struct LoopbackSet {
    listener: TcpListener,
    client: TcpStream,
    server: TcpStream,
    udp: UdpSocket,
}

impl LoopbackSet {
    fn open(ip: &str) -> Self {
        let listener = TcpListener::bind((ip, 0)).unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (server, _) = listener.accept().unwrap();
        let udp = UdpSocket::bind((ip, 0)).unwrap();
        Self {
            listener,
            client,
            server,
            udp,
        }
    }
}

fn find(
    snap: &Snapshot,
    proto: Protocol,
    local: SocketAddr,
    remote: Option<SocketAddr>,
) -> Option<&SocketEntry> {
    snap.sockets.iter().find(|s| {
        s.protocol == proto && s.local == local && (remote.is_none() || s.peer() == remote)
    })
}

fn own_comm() -> String {
    std::fs::read_to_string("/proc/self/comm")
        .unwrap()
        .trim()
        .to_owned()
}

/// A socket this test expects: protocol, local address, peer, state.
type Expected = (Protocol, SocketAddr, Option<SocketAddr>, SocketState);

/// The four sockets of each set: the listener, both ends of its connection, the UDP socket.
fn expected_sockets(sets: &[LoopbackSet]) -> Vec<Expected> {
    let mut expected = Vec::new();
    for set in sets {
        let lst = set.listener.local_addr().unwrap();
        let cli = set.client.local_addr().unwrap();
        let srv = set.server.local_addr().unwrap();
        let udp = set.udp.local_addr().unwrap();
        let tcp = SocketState::Tcp;
        expected.push((Protocol::Tcp, lst, None, tcp(TcpState::Listen)));
        expected.push((Protocol::Tcp, cli, Some(srv), tcp(TcpState::Established)));
        expected.push((Protocol::Tcp, srv, Some(cli), tcp(TcpState::Established)));
        expected.push((
            Protocol::Udp,
            udp,
            None,
            SocketState::Udp(UdpState::Unconnected),
        ));
    }
    expected
}

/// Checks that `snap` lists every expected socket in its state, owned by this process (`me`, named
/// `comm`), and returns them as listed.
fn assert_listed(snap: &Snapshot, expected: &[Expected], me: u32, comm: &str) -> Vec<SocketEntry> {
    let mut ours = Vec::new();
    for (proto, local, remote, state) in expected {
        let s = find(snap, *proto, *local, *remote)
            .unwrap_or_else(|| panic!("{proto} {local} -> {remote:?} not listed"));
        assert_eq!(s.state, *state, "{s:?}");
        assert_eq!(s.pids, vec![me], "{s:?} is owned by this test");
        assert_eq!(s.owner_note, None);
        assert!(s.inode.is_some(), "{s:?} has an inode");
        assert_eq!(snap.process_name(s), Some(comm));
        if *state == SocketState::Tcp(TcpState::Listen) {
            let r = s.remote.unwrap();
            assert!(
                r.ip().is_unspecified() && r.port() == 0,
                "a listener has no peer: {s:?}"
            );
        }
        if *proto == Protocol::Udp {
            assert_eq!(s.remote, None);
        }
        ours.push(s.clone());
    }
    ours
}

/// Checks that each of `ours` is gone from `after` (reported closed), or lingers unowned as a connected
/// end the kernel still holds (reported changed).
fn assert_gone(after: &Snapshot, diff: &SnapshotDiff, ours: &[SocketEntry]) {
    for s in ours {
        // Follow each socket by its identity, not its address: a parallel test may already have been
        // given the freed port.
        match after.sockets.iter().find(|a| a.key() == s.key()) {
            // The side that closes first lingers in TIME_WAIT (or finishes its FIN exchange) with no
            // owner: the kernel still holds the tuple, so it is changed, not closed.
            Some(a) => {
                assert!(s.peer().is_some(), "only a connected end may linger: {a:?}");
                assert!(a.pids.is_empty(), "{a:?} is no longer ours");
                assert!(
                    diff.changed.iter().any(|c| c.socket.key() == a.key()),
                    "{a:?} reported changed"
                );
                if a.state == SocketState::Tcp(TcpState::TimeWait) {
                    assert_eq!(a.owner_note, Some(OwnerNote::TimeWait));
                }
            }
            None => assert!(diff.closed.contains(s), "{s:?} reported closed"),
        }
    }
    assert!(
        diff.closed.iter().filter(|c| ours.contains(c)).count() >= 6,
        "listeners, UDP and one side of each pair close"
    );
}

#[test]
fn sample_lists_own_loopback_sockets_and_diff_reports_them_closed() {
    let _serial = serial();
    let me = std::process::id();
    let sets = [LoopbackSet::open("127.0.0.1"), LoopbackSet::open("::1")];
    let mut source = SystemSource::new(SystemSourceOptions::default());
    let before = source.sample().unwrap();

    let comm = own_comm();
    assert_eq!(
        before.processes.get(&me).map(|p| p.name.as_str()),
        Some(comm.as_str())
    );
    let ours = assert_listed(&before, &expected_sockets(&sets), me, &comm);

    drop(sets);
    let after = source.sample().unwrap();
    let diff = SnapshotDiff::between(&before, &after);
    assert_gone(&after, &diff, &ours);
}

/// One socket as `ss -tuanp` prints it, reduced to what both tools report.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct Row {
    proto: &'static str,
    state: String,
    local: String,
    remote: String,
    pids: BTreeSet<u32>,
}

/// Normalises `ADDR:PORT` as ss prints it: `[v6]:p`, `v4:p`, `*:p`, with `%iface` scopes dropped.
fn norm_endpoint(text: &str) -> String {
    let (host, port) = text.rsplit_once(':').unwrap_or((text, ""));
    let host = host
        .split('%')
        .next()
        .unwrap_or(host)
        .trim_start_matches('[')
        .trim_end_matches(']');
    let host = match host {
        "*" | "0.0.0.0" | "::" => "*".to_owned(),
        h => h
            .parse::<IpAddr>()
            .map_or_else(|_| h.to_owned(), |ip| ip.to_string()),
    };
    let port = if port == "*" { "0" } else { port };
    format!("{host} {port}")
}

fn ss_rows() -> Vec<Row> {
    let out = Command::new("ss")
        .args(["-tuanpH"])
        .output()
        .expect("ss from iproute2 is installed");
    assert!(
        out.status.success(),
        "ss failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let mut rows = Vec::new();
    for line in text.lines() {
        let cols: Vec<&str> = line.split_whitespace().collect();
        if cols.len() < 6 {
            continue;
        }
        let proto = match cols[0] {
            "tcp" => "tcp",
            "udp" => "udp",
            _ => continue,
        };
        let pids = cols.get(6).map_or_else(BTreeSet::new, |p| {
            p.split("pid=")
                .skip(1)
                .filter_map(|s| s.split(',').next()?.parse().ok())
                .collect()
        });
        let state = if proto == "udp" {
            UdpState::parse(cols[1]).map_or_else(String::new, |s| s.as_str().to_owned())
        } else {
            TcpState::parse(cols[1]).map_or_else(|| "CLOSED".to_owned(), |s| s.as_str().to_owned())
        };
        let remote = if proto == "udp" && cols[1] != "ESTAB" {
            String::new()
        } else {
            norm_endpoint(cols[5])
        };
        rows.push(Row {
            proto,
            state,
            local: norm_endpoint(cols[4]),
            remote,
            pids,
        });
    }
    rows
}

/// The snapshot's sockets of this test's own network namespace, the one `ss` lists, as rows.
fn our_rows(snap: &Snapshot) -> Vec<Row> {
    use std::os::unix::fs::MetadataExt;
    let own = std::fs::metadata("/proc/self/ns/net").ok().map(|m| m.ino());
    snap.sockets
        .iter()
        .filter(|s| s.netns.is_none() || s.netns == own)
        .map(|s| {
            let show =
                |a: SocketAddr| norm_endpoint(&SocketAddr::new(a.ip(), a.port()).to_string());
            Row {
                proto: s.protocol.as_str(),
                state: s.state.as_str().to_owned(),
                local: show(s.local),
                remote: s.remote.map(show).unwrap_or_default(),
                pids: s.pids.iter().copied().collect(),
            }
        })
        .collect()
}

#[test]
fn whole_machine_matches_ss_for_sockets_present_throughout() {
    let _serial = serial();
    // Hold some sockets of our own so the comparison is never of an empty machine.
    let _sets = [LoopbackSet::open("127.0.0.1"), LoopbackSet::open("::1")];
    let mut source = SystemSource::new(SystemSourceOptions::default());
    let a = our_rows(&source.sample().unwrap());
    let ss = ss_rows();
    let b = our_rows(&source.sample().unwrap());

    let count = |rows: &[Row]| {
        let mut m: HashMap<Row, usize> = HashMap::new();
        for r in rows {
            *m.entry(r.clone()).or_default() += 1;
        }
        m
    };
    let (ca, cb, css) = (count(&a), count(&b), count(&ss));
    // Stable: identical in both of our samples, so it existed for the whole time ss ran.
    let mut checked = 0;
    for (row, n) in &ca {
        if cb.get(row) == Some(n) {
            assert_eq!(
                css.get(row),
                Some(n),
                "ss disagrees about {row:?}\nss: {ss:#?}"
            );
            checked += n;
        }
    }
    // And the other way round: what ss saw, which we saw identically before and after, we listed.
    for (row, n) in &css {
        if ca.get(row) == cb.get(row) && ca.contains_key(row) {
            assert_eq!(ca.get(row), Some(n), "{row:?}");
        }
    }
    assert!(checked >= 8, "compared only {checked} sockets");
    eprintln!(
        "matched {checked} sockets with ss -tuanp ({} in ss)",
        ss.len()
    );
}

#[test]
fn bytes_flow_on_the_sockets_we_list() {
    // Guards the fixture itself: the pairs are really connected to each other.
    let mut set = LoopbackSet::open("127.0.0.1");
    set.client.write_all(b"ping").unwrap();
    let mut buf = [0u8; 4];
    set.server.read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"ping");
}

/// Linux ≥ 6.8 lists TCP sockets that are bound but neither listening nor connected (`ss -B`).
fn kernel_lists_bound_inactive() -> bool {
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let mut parts = release
        .trim()
        .split(['.', '-'])
        .map(|p| p.parse::<u32>().unwrap_or(0));
    let (major, minor) = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
    (major, minor) >= (6, 8)
}

#[test]
fn kernel_held_connections_and_bound_sockets_are_told_apart() {
    let _serial = serial();
    let me = std::process::id();
    // A connection the kernel completed for a listener that never calls accept().
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    // A TCP socket that is only bound.
    let bound = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    bound
        .bind(&"127.0.0.1:0".parse::<SocketAddr>().unwrap().into())
        .unwrap();
    let bound_addr = bound.local_addr().unwrap().as_socket().unwrap();
    // A connected UDP socket and its peer.
    let peer = UdpSocket::bind("127.0.0.1:0").unwrap();
    let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
    udp.connect(peer.local_addr().unwrap()).unwrap();

    let snap = SystemSource::new(SystemSourceOptions::default())
        .sample()
        .unwrap();
    let queued = find(
        &snap,
        Protocol::Tcp,
        listener.local_addr().unwrap(),
        Some(client.local_addr().unwrap()),
    )
    .expect("the accept queue's connection is listed");
    assert_eq!(
        queued.tcp_state(),
        Some(TcpState::Established),
        "{queued:?}"
    );
    assert_eq!(queued.inode, None, "no file refers to it yet: {queued:?}");
    assert_eq!(
        queued.owner_note,
        Some(OwnerNote::NotAccepted),
        "{queued:?}"
    );
    let l = find(&snap, Protocol::Tcp, listener.local_addr().unwrap(), None)
        .filter(|s| s.is_listener())
        .expect("the listener");
    assert_eq!(
        l.details.recv_queue,
        Some(1),
        "one connection waits for accept()"
    );

    let c = find(
        &snap,
        Protocol::Udp,
        udp.local_addr().unwrap(),
        Some(peer.local_addr().unwrap()),
    )
    .expect("the connected UDP socket, with its peer");
    assert_eq!(c.udp_state(), Some(UdpState::Connected));
    assert_eq!(c.pids, vec![me]);
    assert!(c.details.cookie.is_some());
    let p = find(&snap, Protocol::Udp, peer.local_addr().unwrap(), None).unwrap();
    assert_eq!(p.state, SocketState::Udp(UdpState::Unconnected));
    assert_eq!(p.remote, None);

    if kernel_lists_bound_inactive() {
        let b = find(&snap, Protocol::Tcp, bound_addr, None).expect("the bound-only socket");
        assert_eq!(b.tcp_state(), Some(TcpState::Closed), "{b:?}");
        assert_eq!(b.pids, vec![me]);
    }
}

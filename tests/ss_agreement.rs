//! `sockscope snapshot` against `ss -tuanpieH`, socket by socket.
//!
//! The issue: with ≥300 TCP sockets, ≥30 connected and ≥30 unconnected UDP sockets over IPv4
//! and IPv6, and `::` listeners with IPV6_V6ONLY 1 and 0, the snapshot agrees with ss on
//! 5-tuple, state, PIDs, v6only and UDP peers. This test opens such sockets on loopback, runs
//! both tools back to back, pairs their records by socket cookie (ss `sk:HEX`, JSON `cookie`)
//! and compares each socket this process owns.
#![cfg(target_os = "linux")]
#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly on purpose.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::io::{ErrorKind, Read};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde::Deserialize;
use socket2::{Domain, Protocol, Socket, Type};

/// Connections per TCP listener: four listeners, two ends each, make 320 connected TCP sockets.
const CONNECTIONS_PER_LISTENER: usize = 40;
/// Unconnected UDP sockets per family; each gets one connected UDP socket aimed at it.
const UDP_PER_FAMILY: usize = 16;
/// Longest either tool may run before the test gives up on it.
const TOOL_LIMIT: Duration = Duration::from_secs(60);
// The issue's machine: ≥300 TCP sockets, ≥30 connected and ≥30 unconnected UDP sockets.
const _: () = assert!(8 * CONNECTIONS_PER_LISTENER >= 300 && 2 * UDP_PER_FAMILY >= 30);

/// One socket as either tool reports it, reduced to what both report.
#[derive(Debug)]
struct Seen {
    cookie: Option<u64>,
    protocol: String,
    family: String,
    local: SocketAddr,
    /// `None` only for unconnected UDP; a TCP listener's peer is the unspecified address, port 0.
    remote: Option<SocketAddr>,
    state: String,
    pids: BTreeSet<u32>,
    v6only: Option<bool>,
    inode: Option<u64>,
}

impl Seen {
    /// `tcp 127.0.0.1:5432 -> 127.0.0.1:40112`, `udp [::1]:5353 (unconnected)`.
    fn label(&self) -> String {
        label(&self.protocol, self.local, self.remote)
    }
}

fn label(protocol: &str, local: SocketAddr, remote: Option<SocketAddr>) -> String {
    match remote {
        Some(remote) => format!("{protocol} {local} -> {remote}"),
        None => format!("{protocol} {local} (unconnected)"),
    }
}

/// Every socket this test opens, kept open until dropped.
struct Held {
    listeners: Vec<TcpListener>,
    streams: Vec<TcpStream>,
    udp: Vec<UdpSocket>,
}

impl Held {
    fn open() -> Self {
        let (v4, v6): (IpAddr, IpAddr) = (Ipv4Addr::LOCALHOST.into(), Ipv6Addr::LOCALHOST.into());
        // Each listener with the addresses its clients dial. IPv4 clients of the dual-stack
        // listener arrive as ::ffff:127.0.0.1 on the server side.
        let plan: [(TcpListener, Vec<IpAddr>); 4] = [
            (TcpListener::bind((v4, 0)).unwrap(), vec![v4]),
            (TcpListener::bind((v6, 0)).unwrap(), vec![v6]),
            (v6_wildcard_listener(true), vec![v6]),
            (v6_wildcard_listener(false), vec![v4, v6]),
        ];
        let mut streams = Vec::new();
        for (listener, client_ips) in &plan {
            let port = listener.local_addr().unwrap().port();
            for i in 0..CONNECTIONS_PER_LISTENER {
                let target = SocketAddr::new(client_ips[i % client_ips.len()], port);
                streams.push(TcpStream::connect(target).unwrap());
                streams.push(listener.accept().unwrap().0);
            }
        }
        let bind = |ip: IpAddr| UdpSocket::bind((ip, 0)).unwrap();
        let targets: Vec<UdpSocket> = [v4, v6]
            .into_iter()
            .flat_map(|ip| (0..UDP_PER_FAMILY).map(move |_| bind(ip)))
            .collect();
        // Every other IPv4 target is reached from an IPv6 socket through its v4-mapped address.
        let connected: Vec<UdpSocket> = targets
            .iter()
            .enumerate()
            .map(|(i, target)| {
                let peer = target.local_addr().unwrap();
                connected_udp(peer, peer.is_ipv4() && i % 2 == 1)
            })
            .collect();
        let udp = targets.into_iter().chain(connected).collect();
        let listeners = plan.into_iter().map(|(listener, _)| listener).collect();
        Self {
            listeners,
            streams,
            udp,
        }
    }

    /// `label state` of each socket held, as both tools should list it.
    fn expected(&self) -> Vec<String> {
        let listeners = self.listeners.iter().map(|l| {
            let local = l.local_addr().unwrap();
            let any = if local.is_ipv4() {
                "0.0.0.0:0"
            } else {
                "[::]:0"
            };
            format!("{} LISTEN", label("tcp", local, any.parse().ok()))
        });
        let streams = self.streams.iter().map(|s| {
            let (local, peer) = (s.local_addr().unwrap(), s.peer_addr().ok());
            format!("{} ESTABLISHED", label("tcp", local, peer))
        });
        let udp = self.udp.iter().map(|u| {
            let (local, peer) = (u.local_addr().unwrap(), u.peer_addr().ok());
            let state = peer.map_or("UNCONNECTED", |_| "CONNECTED");
            format!("{} {state}", label("udp", local, peer))
        });
        listeners.chain(streams).chain(udp).collect()
    }
}

/// A TCP listener on `[::]:0` with IPV6_V6ONLY set as asked.
fn v6_wildcard_listener(v6only: bool) -> TcpListener {
    let socket = Socket::new(Domain::IPV6, Type::STREAM, Some(Protocol::TCP)).unwrap();
    socket.set_only_v6(v6only).unwrap();
    let any = SocketAddr::from((Ipv6Addr::UNSPECIFIED, 0));
    socket.bind(&any.into()).unwrap();
    socket.listen(1024).unwrap();
    socket.into()
}

/// A loopback UDP socket connected to `peer`; with `mapped` (IPv4 peers only), an IPv6 socket on
/// ::ffff:127.0.0.1 connected to the peer's v4-mapped address.
fn connected_udp(peer: SocketAddr, mapped: bool) -> UdpSocket {
    let (socket, peer) = match peer.ip() {
        IpAddr::V4(ip) if mapped => {
            let socket = Socket::new(Domain::IPV6, Type::DGRAM, Some(Protocol::UDP)).unwrap();
            socket.set_only_v6(false).unwrap();
            let local = SocketAddr::from((Ipv4Addr::LOCALHOST.to_ipv6_mapped(), 0));
            socket.bind(&local.into()).unwrap();
            let peer = SocketAddr::from((ip.to_ipv6_mapped(), peer.port()));
            (UdpSocket::from(socket), peer)
        }
        ip => (UdpSocket::bind((ip, 0)).unwrap(), peer),
    };
    socket.connect(peer).unwrap();
    socket
}

/// Runs `command` within `TOOL_LIMIT` and returns its stdout; panics if it fails or hangs.
fn run_bounded(command: &mut Command) -> std::io::Result<Vec<u8>> {
    let mut child = command.stdout(Stdio::piped()).spawn()?;
    let mut stdout = child.stdout.take().expect("piped stdout");
    // Read on a thread of its own, so a long output never blocks the child on a full pipe.
    let reader = std::thread::Builder::new()
        .name("tool-stdout".to_owned())
        .spawn(move || {
            let mut bytes = Vec::new();
            stdout.read_to_end(&mut bytes).map(|_| bytes)
        })?;
    let deadline = Instant::now() + TOOL_LIMIT;
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if Instant::now() >= deadline {
            child.kill()?;
            child.wait()?;
            panic!("{command:?} ran longer than {TOOL_LIMIT:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    assert!(status.success(), "{command:?} failed: {status}");
    reader.join().expect("stdout reader")
}

/// ss's TCP and UDP records; the indented continuation lines that `-i` adds are skipped.
fn parse_ss(text: &str) -> Vec<Seen> {
    let records = text
        .lines()
        .filter(|l| l.starts_with("tcp") || l.starts_with("udp"));
    let parse = |line| parse_ss_record(line).unwrap_or_else(|| panic!("ss record: {line}"));
    records.map(parse).collect()
}

/// `Netid State Recv-Q Send-Q Local Peer [users:((..))] [uid:N] ino:N sk:HEX [v6only:B] ...`
fn parse_ss_record(line: &str) -> Option<Seen> {
    let columns: Vec<&str> = line.split_whitespace().take(6).collect();
    let [protocol, state, _recv_q, _send_q, local, peer] = columns[..] else {
        return None;
    };
    let local = parse_ss_endpoint(local)?;
    let remote = parse_ss_endpoint(peer)?;
    // An unconnected UDP socket's peer is `0.0.0.0:*`, `[::]:*` or `*:*`. A listener's too, but
    // the snapshot gives TCP sockets the unspecified address and port 0 there.
    let unconnected_udp = protocol == "udp" && peer.ends_with(":*");
    let (pids, details) = split_users(line);
    let detail = |key: &str| details.split_whitespace().find_map(|t| t.strip_prefix(key));
    Some(Seen {
        cookie: detail("sk:").and_then(|hex| u64::from_str_radix(hex, 16).ok()),
        protocol: protocol.to_owned(),
        family: if local.is_ipv4() { "ipv4" } else { "ipv6" }.to_owned(),
        local,
        remote: (!unconnected_udp).then_some(remote),
        state: snapshot_state(protocol, state),
        pids,
        v6only: detail("v6only:").map(|flag| flag == "1"),
        inode: detail("ino:").and_then(|n| n.parse().ok()),
    })
}

/// `127.0.0.1:80`, `[::1]:80`, `[::ffff:127.0.0.1]:80`, `0.0.0.0%lo:80`, `*:80` (`::` without
/// v6only), `0.0.0.0:*` (port `*` is 0).
fn parse_ss_endpoint(text: &str) -> Option<SocketAddr> {
    let (host, port) = text.rsplit_once(':')?;
    let host = host.split_once('%').map_or(host, |(host, _iface)| host);
    let ip = match host.trim_start_matches('[').trim_end_matches(']') {
        "*" => Ipv6Addr::UNSPECIFIED.into(),
        host => host.parse().ok()?,
    };
    let port = if port == "*" { 0 } else { port.parse().ok()? };
    Some(SocketAddr::new(ip, port))
}

/// The pids in `users:(("name",pid=N,fd=M),...)` and what follows it; or none and all of `text`.
fn split_users(text: &str) -> (BTreeSet<u32>, &str) {
    let Some((_, users)) = text.split_once("users:(") else {
        return (BTreeSet::new(), text);
    };
    let (users, after) = users.split_once("))").unwrap_or((users, ""));
    let pid = |owner: &str| owner.split(',').next()?.parse().ok();
    let pids = users.split(",pid=").skip(1).filter_map(pid).collect();
    (pids, after)
}

/// ss's state names as the snapshot spells them; unknown names pass through to fail the comparison.
fn snapshot_state(protocol: &str, state: &str) -> String {
    let name = match (protocol, state) {
        ("udp", "ESTAB") => "CONNECTED",
        ("udp", "UNCONN") => "UNCONNECTED",
        ("tcp", "ESTAB") => "ESTABLISHED",
        ("tcp", "SYN-RECV") => "SYN_RECEIVED",
        ("tcp", "UNCONN") => "CLOSED",
        (_, other) => return other.replace('-', "_"),
    };
    name.to_owned()
}

/// A version-4 `sockscope snapshot --format json`, reduced to the fields this test compares.
#[derive(Deserialize)]
struct Snapshot {
    format: String,
    version: u32,
    sockets: Vec<SnapshotSocket>,
}

#[derive(Deserialize)]
struct SnapshotSocket {
    protocol: String,
    family: String,
    local_address: IpAddr,
    local_port: u16,
    remote_address: Option<IpAddr>,
    remote_port: Option<u16>,
    state: String,
    inode: Option<u64>,
    pids: BTreeSet<u32>,
    v6only: Option<bool>,
    cookie: u64,
}

fn parse_snapshot(json: &[u8]) -> Vec<Seen> {
    let snapshot: Snapshot = serde_json::from_slice(json).expect("a version-4 JSON snapshot");
    assert_eq!(snapshot.format, "sockscope-snapshot");
    assert_eq!(snapshot.version, 4, "this test reads snapshot version 4");
    let seen = |s: SnapshotSocket| Seen {
        cookie: Some(s.cookie),
        remote: s.remote_address.zip(s.remote_port).map(SocketAddr::from),
        local: SocketAddr::new(s.local_address, s.local_port),
        protocol: s.protocol,
        family: s.family,
        state: s.state,
        pids: s.pids,
        v6only: s.v6only,
        inode: s.inode,
    };
    snapshot.sockets.into_iter().map(seen).collect()
}

/// One tool's view of the sockets this process owns, by cookie.
fn ours_by_cookie(tool: &str, sockets: Vec<Seen>) -> HashMap<u64, Seen> {
    let me = std::process::id();
    let mut ours = HashMap::new();
    for socket in sockets.into_iter().filter(|s| s.pids.contains(&me)) {
        let name = socket.label();
        let cookie = socket
            .cookie
            .unwrap_or_else(|| panic!("{tool}: {name} has no cookie"));
        let twice = ours.insert(cookie, socket).is_some();
        assert!(!twice, "{tool}: cookie {cookie} twice, at {name}");
    }
    ours
}

/// Each field on which ss and the snapshot disagree about one socket: `field: ss X, snapshot Y`.
fn differences(ss: &Seen, snap: &Seen) -> Vec<String> {
    fn differ<T: PartialEq + std::fmt::Debug>(field: &str, ss: &T, snap: &T) -> Option<String> {
        (ss != snap).then(|| format!("{field}: ss {ss:?}, snapshot {snap:?}"))
    }
    [
        differ("protocol", &ss.protocol, &snap.protocol),
        differ("family", &ss.family, &snap.family),
        differ("local", &ss.local, &snap.local),
        differ("remote", &ss.remote, &snap.remote),
        differ("state", &ss.state, &snap.state),
        differ("pids", &ss.pids, &snap.pids),
        differ("v6only", &ss.v6only, &snap.v6only),
        differ("inode", &ss.inode, &snap.inode),
    ]
    .into_iter()
    .flatten()
    .collect()
}

#[test]
fn snapshot_agrees_with_ss_socket_by_socket() {
    let held = Held::open();
    let ss_out = match run_bounded(Command::new("ss").arg("-tuanpieH")) {
        Err(e) if e.kind() == ErrorKind::NotFound => {
            eprintln!("skipped: `ss` (iproute2) is not installed");
            return;
        }
        result => result.expect("ss runs"),
    };
    let mut sockscope = Command::new(env!("CARGO_BIN_EXE_sockscope"));
    let json = run_bounded(sockscope.args(["snapshot", "--format", "json"])).expect("it runs");
    let ss = ours_by_cookie("ss", parse_ss(&String::from_utf8_lossy(&ss_out)));
    let snap = ours_by_cookie("snapshot", parse_snapshot(&json));

    // ss lists exactly what this test holds; otherwise the setup or the parser is off.
    let expected = held.expected();
    let listed: HashSet<String> = ss
        .values()
        .map(|s| format!("{} {}", s.label(), s.state))
        .collect();
    let unseen: Vec<_> = expected.iter().filter(|s| !listed.contains(*s)).collect();
    assert!(unseen.is_empty(), "ss lacks sockets held here: {unseen:#?}");
    assert_eq!(ss.len(), expected.len(), "ss lists more sockets as ours");

    let mut problems = Vec::new();
    for (cookie, in_ss) in &ss {
        let diffs = match snap.get(cookie) {
            Some(in_snap) => differences(in_ss, in_snap),
            None => vec![format!("not in the snapshot (cookie {cookie})")],
        };
        if !diffs.is_empty() {
            problems.push(format!("{}: {}", in_ss.label(), diffs.join("; ")));
        }
    }
    for (cookie, in_snap) in snap.iter().filter(|(c, _)| !ss.contains_key(*c)) {
        problems.push(format!(
            "{}: only in the snapshot (cookie {cookie})",
            in_snap.label()
        ));
    }
    problems.sort();
    let summary = format!("{} of {} sockets disagree", problems.len(), ss.len());
    assert!(problems.is_empty(), "{summary}:\n{}", problems.join("\n"));

    // The `::` listeners carry the IPV6_V6ONLY they were given; the kernel sets it on `::1`.
    let v6only = [None, Some(true), Some(true), Some(false)];
    for (listener, v6only) in held.listeners.iter().zip(v6only) {
        let local = listener.local_addr().unwrap();
        let listed = snap
            .values()
            .find(|s| s.local == local && s.state == "LISTEN");
        assert_eq!(
            listed.expect("listed").v6only,
            v6only,
            "tcp {local}: v6only"
        );
    }
    eprintln!(
        "ss and the snapshot agree on all {} sockets held here",
        ss.len()
    );
    drop(held);
}

/// Records as `ss -tuanpieH` (iproute2 6.1.0) printed them for python3's sockets, padding trimmed.
#[test]
fn ss_records_parse_as_iproute2_prints_them() {
    let text = "\
udp ESTAB     0      0      [::ffff:127.0.0.1]:43666 [::ffff:127.0.0.1]:41502 users:((\"python3\",pid=8655,fd=5),(\"python3\",pid=8607,fd=5)) ino:22624 sk:1008 cgroup:/ <->
udp UNCONN    0      0                       *:57193                  *:*     users:((\"python3\",pid=5330,fd=21)) ino:19602 sk:4 cgroup:/ v6only:0 <->
udp UNCONN    0      0                   [::1]:52804               [::]:*     users:((\"python3\",pid=5330,fd=19)) ino:19600 sk:6 cgroup:/ v6only:1 <->
tcp LISTEN    0      128            0.0.0.0%lo:36385            0.0.0.0:*     users:((\"python3\",pid=5330,fd=26)) ino:19610 sk:a cgroup:/ <->
\t bbr cwnd:10
tcp LISTEN    0      128                     *:45597                  *:*     users:((\"python3\",pid=5330,fd=9)) ino:19591 sk:10 cgroup:/ v6only:0 <->
\t bbr cwnd:10
tcp ESTAB     0      0      [::ffff:127.0.0.1]:45597 [::ffff:127.0.0.1]:51554 users:((\"python3\",pid=5330,fd=12)) ino:19593 sk:15 cgroup:/ <->
\t ts sack bbr wscale:10,10 rto:200 rtt:0.039/0.019 mss:32768 pmtu:65535 rcvmss:536 advmss:65483 cwnd:10
tcp TIME-WAIT 0      0               127.0.0.1:50486          127.0.0.1:41285 timer:(timewait,59sec,0) ino:0 sk:d
\t
";
    let summary = |s: &Seen| {
        let fields = (&s.state, &s.family, &s.pids, s.v6only, s.cookie, s.inode);
        format!("{} {fields:?}", s.label())
    };
    let got: Vec<String> = parse_ss(text).iter().map(summary).collect();
    let want = [
        r#"udp [::ffff:127.0.0.1]:43666 -> [::ffff:127.0.0.1]:41502 ("CONNECTED", "ipv6", {8607, 8655}, None, Some(4104), Some(22624))"#,
        r#"udp [::]:57193 (unconnected) ("UNCONNECTED", "ipv6", {5330}, Some(false), Some(4), Some(19602))"#,
        r#"udp [::1]:52804 (unconnected) ("UNCONNECTED", "ipv6", {5330}, Some(true), Some(6), Some(19600))"#,
        r#"tcp 0.0.0.0:36385 -> 0.0.0.0:0 ("LISTEN", "ipv4", {5330}, None, Some(10), Some(19610))"#,
        r#"tcp [::]:45597 -> [::]:0 ("LISTEN", "ipv6", {5330}, Some(false), Some(16), Some(19591))"#,
        r#"tcp [::ffff:127.0.0.1]:45597 -> [::ffff:127.0.0.1]:51554 ("ESTABLISHED", "ipv6", {5330}, None, Some(21), Some(19593))"#,
        r#"tcp 127.0.0.1:50486 -> 127.0.0.1:41285 ("TIME_WAIT", "ipv4", {}, None, Some(13), Some(0))"#,
    ];
    assert_eq!(got, want);
}

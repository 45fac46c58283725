//! Everything Sockscope writes for people, pinned: the inspector's sentences, the "Socket vs port" page,
//! the CSV, JSON and HTML writers and `sockscope diff`'s text. A changed sentence or column shows up as a
//! snapshot diff to review (`cargo insta review`, or `INSTA_UPDATE=always cargo test --test wording` and
//! read `git diff tests/snapshots`), never as a silent change.
//!
//! The registry is IANA's alone (no /etc/services), so the text does not depend on the machine running
//! the tests.
#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly on purpose.

mod common;

use std::fmt::Write as _;
use std::sync::OnceLock;

use chrono::{TimeZone, Utc};
use sockscope::export::compare::write_text;
use sockscope::export::csv::write_csv;
use sockscope::export::html::write_html;
use sockscope::export::json::{ExportOptions, write_json};
use sockscope::model::compare::Comparison;
use sockscope::model::kernel::{SocketTimer, TcpInfo, TimerKind};
use sockscope::model::ports::PortsIndex;
use sockscope::model::snapshot::{MachineFacts, PortRange, Snapshot};
use sockscope::model::socket::{OwnerNote, SocketEntry, TcpState};
use sockscope::services::explain::{Explainer, kernel_lines, page};
use sockscope::services::registry::{IANA_TSV, Registry};

fn iana() -> &'static Registry {
    static REGISTRY: OnceLock<Registry> = OnceLock::new();
    REGISTRY.get_or_init(|| Registry::from_iana_tsv(IANA_TSV).unwrap())
}

/// A machine with the kinds of sockets the inspector has to get right.
fn machine() -> Snapshot {
    let mut s = Snapshot::empty(
        "build-07",
        Utc.with_ymd_and_hms(2026, 12, 7, 9, 30, 0).unwrap(),
    );
    s.ephemeral_range = Some(PortRange::LINUX_DEFAULT);
    s.machine = MachineFacts {
        unprivileged_port_start: Some(1024),
        reserved_ports: Some(Vec::new()),
        bindv6only: Some(false),
        tcp_tw_reuse: Some(2),
        local_addresses: Some(vec![
            "127.0.0.1".parse().unwrap(),
            "::1".parse().unwrap(),
            "10.0.0.5".parse().unwrap(),
        ]),
    };
    common::add_process(&mut s, 812, "postgres", Some("postgres"));
    common::add_process(&mut s, 2201, "firefox", Some("alice"));
    common::add_process(&mut s, 640, "systemd-resolve", Some("systemd-resolve"));
    let pg = |l: &str, r: &str, st| {
        common::tcp(l, r, st)
            .with_inode(4242)
            .with_uid(106)
            .with_pids(vec![812])
    };
    let resolver = |s: SocketEntry, inode| s.with_inode(inode).with_uid(101).with_pids(vec![640]);
    s.sockets = vec![
        pg("0.0.0.0:5432", "0.0.0.0:0", TcpState::Listen),
        pg("127.0.0.1:5432", "127.0.0.1:40112", TcpState::Established),
        common::tcp("127.0.0.1:40112", "127.0.0.1:5432", TcpState::Established)
            .with_inode(4300)
            .with_uid(1000)
            .with_pids(vec![2201]),
        time_wait(),
        pg("127.0.0.1:5432", "127.0.0.1:40200", TcpState::CloseWait),
        dual_stack_listener(),
        https_client(),
        resolver(common::udp("10.0.0.5:41000", Some("8.8.8.8:53")), 500),
        resolver(common::udp("0.0.0.0:5353", None), 501),
    ];
    s.unix_sockets = unix_sockets();
    // As the live collector reports them: queues and a cookie for every socket.
    for (cookie, socket) in (100..).zip(s.sockets.iter_mut()) {
        let d = &mut socket.details;
        d.cookie = d.cookie.or(Some(cookie));
        d.recv_queue = Some(0);
        d.send_queue = Some(0);
    }
    s
}

/// D-Bus's listener and one connected pair of Unix sockets.
fn unix_sockets() -> Vec<sockscope::model::unix::UnixSocket> {
    use sockscope::model::unix::{UnixSocket, UnixState, UnixType};
    let unix = |state, path: Option<&str>, inode, peer_inode| UnixSocket {
        kind: UnixType::Stream,
        state,
        path: path.map(str::to_owned),
        inode,
        peer_inode,
        recv_queue: Some(0),
        send_queue: Some(0),
        uid: Some(1000),
        pids: vec![2201],
        netns: None,
    };
    vec![
        unix(UnixState::Listen, Some("/run/user/1000/bus"), 7001, None),
        unix(UnixState::Connected, None, 7002, Some(7003)),
        unix(UnixState::Connected, None, 7003, Some(7002)),
    ]
}

/// A `::` listener with IPV6_V6ONLY off.
fn dual_stack_listener() -> SocketEntry {
    let mut s = common::tcp("[::]:8080", "[::]:0", TcpState::Listen)
        .with_inode(77)
        .with_uid(1000)
        .with_pids(vec![2201]);
    s.details.v6only = Some(false);
    s
}

/// An outgoing HTTPS connection with TCP's counters.
fn https_client() -> SocketEntry {
    let mut s = common::tcp("10.0.0.5:51000", "93.184.216.34:443", TcpState::Established)
        .with_inode(9001)
        .with_uid(1000)
        .with_pids(vec![2201]);
    s.details.cookie = Some(51);
    s.details.tcp_info = Some(TcpInfo {
        rtt_us: Some(24_000),
        rttvar_us: Some(3_000),
        retrans: Some(0),
        total_retrans: Some(2),
        bytes_acked: Some(1_200),
        bytes_received: Some(88_000),
        ..TcpInfo::default()
    });
    s
}

/// A TIME_WAIT entry with 41 s left.
fn time_wait() -> SocketEntry {
    let mut s = common::tcp("127.0.0.1:40113", "127.0.0.1:5432", TcpState::TimeWait)
        .without_owner(OwnerNote::TimeWait);
    s.details.timer = Some(SocketTimer {
        kind: TimerKind::TimeWait,
        expires_ms: 41_000,
        retransmits: 0,
    });
    s
}

/// Everything the inspector writes for each socket of `snap`.
fn inspector_text(snap: &Snapshot) -> String {
    let ports = PortsIndex::build(snap);
    let e = Explainer::new(snap, &ports, iana());
    let mut out = String::new();
    for s in &snap.sockets {
        let _ = writeln!(out, "== {s:?}");
        for line in e.tuple(s).iter().chain(e.port(s).iter()) {
            let _ = writeln!(out, "{}: {} | {}", line.label, line.value, line.meaning);
        }
        let state = e.state(s);
        let _ = writeln!(out, "{}: {} | {}", state.label, state.value, state.meaning);
        for owner in e.owner(s) {
            let _ = writeln!(out, "Owner: {owner}");
        }
        let role = e.role(s);
        let _ = writeln!(out, "Side: {:?} | {}", role.side, role.reason);
        for line in kernel_lines(s, None, &snap.machine) {
            let _ = writeln!(out, "{}: {} | {}", line.label, line.value, line.meaning);
        }
        for a in e.socket_vs_port(s) {
            let _ = writeln!(out, "{}: port: {} | socket: {}", a.aspect, a.port, a.socket);
        }
        out.push('\n');
    }
    out
}

#[test]
fn inspector_sentences() {
    insta::assert_snapshot!(inspector_text(&machine()));
}

/// A snapshot that recorded none of the machine's settings (a version 1 file): every threshold the text
/// uses is Linux's default, labelled assumed.
#[test]
fn inspector_sentences_with_assumed_settings() {
    let mut snap = machine();
    snap.machine = MachineFacts::default();
    snap.ephemeral_range = None;
    snap.sockets.truncate(2);
    insta::assert_snapshot!(inspector_text(&snap));
}

#[test]
fn socket_vs_port_page() {
    let snap = machine();
    let ports = PortsIndex::build(&snap);
    let page = page(&snap, &ports, iana());
    let mut out = String::new();
    for a in &page.aspects {
        let _ = writeln!(
            out,
            "## {}\nport: {}\nsocket: {}",
            a.aspect, a.port, a.socket
        );
        for ev in &a.evidence {
            let _ = writeln!(out, "- {ev:?}");
        }
    }
    for f in &page.faqs {
        let _ = writeln!(out, "## {}\n{}", f.question, f.answer);
        for ev in &f.evidence {
            let _ = writeln!(out, "- {ev:?}");
        }
    }
    insta::assert_snapshot!(out);
}

/// The Unix view's explanation of each kind of Unix socket: D-Bus's listener (with connections
/// waiting), both ends of an accepted connection, an abstract name, and an unconnected datagram socket.
#[test]
fn unix_socket_sentences() {
    use sockscope::model::unix::{UnixState, UnixType};
    use sockscope::services::explain::unix_lines;
    let mut snap = machine();
    snap.unix_sockets[0].recv_queue = Some(2);
    snap.unix_sockets[0].send_queue = Some(4096);
    // The accepted end carries the listener's path; the client end stays unnamed.
    snap.unix_sockets[1].path = Some("/run/user/1000/bus".to_owned());
    snap.unix_sockets[1].recv_queue = Some(120);
    let mut abstract_name = snap.unix_sockets[0].clone();
    abstract_name.path = Some("@/tmp/.X11-unix/X0".to_owned());
    abstract_name.inode = 7010;
    let mut datagram = snap.unix_sockets[0].clone();
    datagram.kind = UnixType::Dgram;
    datagram.state = UnixState::Unconnected;
    datagram.path = Some("/run/systemd/notify".to_owned());
    datagram.inode = 7011;
    datagram.pids = vec![];
    // A logging client connected to the datagram socket, and a stream whose peer has gone.
    let mut logger = datagram.clone();
    logger.state = UnixState::Connected;
    logger.path = None;
    logger.inode = 7012;
    logger.peer_inode = Some(7011);
    logger.pids = vec![2201];
    let mut orphan = snap.unix_sockets[2].clone();
    orphan.inode = 7013;
    orphan.peer_inode = None;
    let mut sockets = snap.unix_sockets.clone();
    sockets.extend([abstract_name, datagram, logger, orphan]);
    let mut out = String::new();
    for u in &sockets {
        let peer = sockets.iter().find(|p| Some(p.inode) == u.peer_inode);
        let _ = writeln!(out, "## {u}");
        for line in unix_lines(&snap, u, peer) {
            let _ = writeln!(out, "{}: {} — {}", line.label, line.value, line.meaning);
        }
    }
    insta::assert_snapshot!(out);
}

fn written(write: impl FnOnce(&mut Vec<u8>) -> std::io::Result<()>) -> String {
    let mut buf = Vec::new();
    write(&mut buf).unwrap();
    String::from_utf8(buf).unwrap()
}

#[test]
fn csv_writer() {
    let snap = machine();
    insta::assert_snapshot!(written(|out| write_csv(out, &snap, iana())));
}

#[test]
fn json_writer() {
    let snap = machine();
    insta::assert_snapshot!(written(|out| write_json(
        out,
        &snap,
        iana(),
        ExportOptions::default()
    )));
}

#[test]
fn html_writer() {
    let snap = machine();
    insta::assert_snapshot!(written(|out| write_html(out, &snap, iana())));
}

#[test]
fn diff_text() {
    use sockscope::model::socket::SocketState;
    let before = machine();
    let mut after = machine();
    // Twenty seconds on (the TIME_WAIT entry, 41 s from its end, is still there): the client of
    // 40112 closed its end, so it waits in FIN_WAIT_2 and the server's side in CLOSE_WAIT; the earlier
    // CLOSE_WAIT connection finished closing; a new listener appeared.
    after.taken_at = Utc.with_ymd_and_hms(2026, 12, 7, 9, 30, 20).unwrap();
    for s in &mut after.sockets {
        let peer = s.peer().map(|p| p.port());
        if s.local.port() == 40112 {
            s.state = SocketState::Tcp(TcpState::FinWait2);
        } else if peer == Some(40112) {
            s.state = SocketState::Tcp(TcpState::CloseWait);
        }
    }
    after
        .sockets
        .retain(|s| s.peer().map(|p| p.port()) != Some(40200));
    after.sockets.push(
        common::tcp("0.0.0.0:9090", "0.0.0.0:0", TcpState::Listen)
            .with_inode(880)
            .with_uid(1000)
            .with_pids(vec![2201]),
    );
    // A program binds a path; the connected pair of before closes.
    let mut bound = after.unix_sockets[0].clone();
    bound.path = Some("/run/app.sock".to_owned());
    bound.inode = 7100;
    after.unix_sockets.retain(|u| u.peer_inode.is_none());
    after.unix_sockets.push(bound);
    let comparison = Comparison::between(&before, &after);
    insta::assert_snapshot!(written(|out| write_text(out, &comparison, &before, &after)));
}

/// The builders above must keep producing valid sockets, or the snapshots pin nonsense.
#[test]
fn the_fixture_is_valid() {
    for s in &machine().sockets {
        s.validate().unwrap();
    }
    let _: Vec<SocketEntry> = machine().sockets;
}

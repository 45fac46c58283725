//! The store's history and warnings, fed with fake snapshots.
#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly on purpose.

mod common;

use sockscope::model::budget::{BudgetLevel, EphemeralBudget};
use sockscope::model::history::{History, TOP_N};
use sockscope::model::port_class::PortClass;
use sockscope::model::ports::PortsIndex;
use sockscope::model::snapshot::{PortRange, ProcessInfo, Snapshot};
use sockscope::model::socket::{Protocol, SocketEntry, TcpState};
use sockscope::model::store::Store;
use sockscope::services::registry::Registry;

fn tcp(local: String, remote: String, state: TcpState, pids: Vec<u32>, inode: u32) -> SocketEntry {
    common::tcp(&local, &remote, state)
        .with_inode(inode)
        .with_uid(0)
        .with_pids(pids)
}

/// A deterministic, varied snapshot: `n` sockets over many ports, processes, states and both families.
fn varied(seed: u32, n: u32, secs: i64) -> Snapshot {
    let mut s = Snapshot::empty("h", common::at(secs));
    s.ephemeral_range = Some(PortRange::LINUX_DEFAULT);
    let mut x = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        x
    };
    for i in 0..n {
        let r = next();
        let port = [
            22u16, 80, 443, 5432, 8080, 33000, 50000, 61000, 1023, 1024, 49151, 49152,
        ][(r % 12) as usize]
            .wrapping_add(u16::try_from(r % 3).unwrap() * u16::from(r % 7 == 0));
        let state = TcpState::ALL[(r >> 8) as usize % TcpState::ALL.len()];
        let pids = if r % 5 == 0 {
            vec![]
        } else {
            vec![100 + (r >> 4) % 20]
        };
        let (l, rem) = if r % 4 == 0 {
            (
                format!("[::1]:{port}"),
                format!("[::1]:{}", 40000 + i % 20000),
            )
        } else {
            (
                format!("127.0.0.1:{port}"),
                format!("10.0.{}.{}:{}", (i >> 8) & 255, i & 255, 1 + i % 60000),
            )
        };
        let sock = if r % 9 == 0 {
            common::udp(&l, None)
                .with_inode(i + 1)
                .with_uid(0)
                .with_pids(pids)
        } else {
            tcp(l, rem, state, pids, i + 1)
        };
        s.sockets.push(sock);
    }
    for pid in 100..120 {
        s.processes.insert(
            pid,
            ProcessInfo {
                pid,
                name: format!("proc{pid}"),
                user: None,
                exe: None,
                cmdline: None,
            },
        );
    }
    s
}

#[test]
fn aggregates_match_the_snapshots_exactly() {
    let mut store = Store::new(History::DEFAULT_CAPACITY, Registry::global());
    for round in 0..20u32 {
        let snap = varied(round, 3000 + round * 50, i64::from(round));
        let prev = store.current().cloned();
        let diff = store.ingest(snap.clone(), None);
        let st = store.history().latest().unwrap();
        for state in TcpState::ALL {
            let n = snap
                .sockets
                .iter()
                .filter(|s| s.tcp_state() == Some(state))
                .count();
            assert_eq!(st.state(state) as usize, n, "{state}");
        }
        assert_eq!(
            st.udp as usize,
            snap.sockets
                .iter()
                .filter(|s| s.protocol == Protocol::Udp)
                .count()
        );
        assert_eq!(
            st.ipv6 as usize,
            snap.sockets.iter().filter(|s| s.local.is_ipv6()).count()
        );
        assert_eq!(st.ipv4 + st.ipv6, st.total());
        for class in PortClass::ALL {
            let n = snap
                .sockets
                .iter()
                .filter(|s| PortClass::of(s.local.port()) == class)
                .count();
            assert_eq!(st.by_class[class.index()] as usize, n, "{class}");
        }
        let eph = snap
            .sockets
            .iter()
            .filter(|s| PortRange::LINUX_DEFAULT.contains(s.local.port()))
            .count();
        assert_eq!(st.in_ephemeral_range as usize, eph);
        assert_eq!(st.total() as usize, snap.sockets.len());
        assert_eq!(
            (st.opened as usize, st.closed as usize),
            (diff.opened.len(), diff.closed.len())
        );
        if prev.is_none() {
            assert_eq!(st.opened, 0, "the first sample has nothing to compare with");
        }
    }
}

#[test]
fn top_n_buckets_sum_to_the_totals() {
    let mut store = Store::new(History::DEFAULT_CAPACITY, Registry::global());
    store.ingest(varied(7, 5000, 0), None);
    let st = store.history().latest().unwrap();
    assert_eq!(st.top_ports.len(), TOP_N);
    let ports: u32 = st.top_ports.iter().map(|p| p.count).sum::<u32>() + st.other_ports;
    assert_eq!(ports, st.total());
    assert!(
        st.top_ports.windows(2).all(|w| w[0].count >= w[1].count),
        "busiest first"
    );
    let procs: u32 =
        st.top_processes.iter().map(|p| p.count).sum::<u32>() + st.other_processes + st.unowned;
    assert_eq!(procs, st.total());
    assert!(
        st.unowned > 0 && st.other_processes > 0,
        "the fixture exercises every bucket"
    );
}

#[test]
fn ring_buffer_never_exceeds_its_capacity() {
    let mut store = Store::new(3600, Registry::global());
    let snap = varied(1, 20, 0);
    for i in 0..100_000i64 {
        let mut s = snap.clone();
        s.taken_at = common::at(i);
        store.ingest(s, None);
        assert!(store.history().len() <= 3600);
    }
    assert_eq!(store.history().len(), 3600);
    assert_eq!(
        store.history().iter().next().unwrap().taken_at,
        common::at(100_000 - 3600)
    );
}

#[test]
fn ephemeral_budget_of_20000_connections_to_one_port_warns_at_half() {
    let mut s = Snapshot::empty("h", common::at(0));
    s.ephemeral_range = Some(PortRange {
        low: 32768,
        high: 60999,
    });
    for i in 0..20_000u32 {
        let lport = 32768 + i;
        s.sockets.push(tcp(
            format!("10.0.0.2:{lport}"),
            "10.0.0.10:443".into(),
            TcpState::Established,
            vec![1],
            i + 1,
        ));
    }
    // Other destinations and non-ephemeral ports do not count toward this group.
    s.sockets.push(tcp(
        "10.0.0.2:40000".into(),
        "10.0.0.11:443".into(),
        TcpState::Established,
        vec![1],
        99_999,
    ));
    s.sockets.push(tcp(
        "10.0.0.2:443".into(),
        "10.0.0.10:443".into(),
        TcpState::Established,
        vec![1],
        99_998,
    ));
    let b = EphemeralBudget::of(&s);
    let worst = b.worst.unwrap();
    assert_eq!((worst.used, b.range.len()), (20_000, 28_232));
    assert_eq!(worst.destination.map(|(_, port)| port), Some(443));
    assert_eq!(b.level(), BudgetLevel::Warning);
    assert!(
        b.summary()
            .starts_with("20000 / 28232 ephemeral ports (71 %)"),
        "{}",
        b.summary()
    );
    let mut store = Store::new(History::DEFAULT_CAPACITY, Registry::global());
    store.ingest(s, None);
    assert_eq!(store.budget().level(), BudgetLevel::Warning);
}

#[test]
fn growing_close_wait_names_the_process_and_a_stable_one_does_not() {
    let mut store = Store::new(History::DEFAULT_CAPACITY, Registry::global());
    for minute in 0..=4i64 {
        for tick in 0..6i64 {
            let secs = minute * 60 + tick * 10;
            let mut s = Snapshot::empty("h", common::at(secs));
            let leaking = u32::try_from(secs / 10).unwrap();
            for i in 0..leaking {
                s.sockets.push(tcp(
                    format!("127.0.0.1:{}", 8000),
                    format!("127.0.0.1:{}", 40000 + i),
                    TcpState::CloseWait,
                    vec![7],
                    i + 1,
                ));
            }
            for i in 0..10 {
                s.sockets.push(tcp(
                    "127.0.0.1:9000".into(),
                    format!("127.0.0.1:{}", 50000 + i),
                    TcpState::CloseWait,
                    vec![8],
                    1000 + i,
                ));
            }
            s.processes.insert(
                7,
                ProcessInfo {
                    pid: 7,
                    name: "leaky".into(),
                    user: None,
                    exe: None,
                    cmdline: None,
                },
            );
            s.processes.insert(
                8,
                ProcessInfo {
                    pid: 8,
                    name: "steady".into(),
                    user: None,
                    exe: None,
                    cmdline: None,
                },
            );
            store.ingest(s, None);
        }
    }
    let alerts = store.close_wait_alerts();
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    assert_eq!(alerts[0].name.as_deref(), Some("leaky"));
    assert!(alerts[0].to >= alerts[0].from + 5);
    assert!(alerts[0].sentence().contains("leaky[7]"));
}

/// The charts' top ports and the inspector decide a socket's side with one rule: a loopback client
/// whose port and its server's both lie in the ephemeral range counts under the server's port, as the
/// inspector says it is that port's client; a UDP socket is not taken for a server because a TCP
/// listener holds the same number.
#[test]
fn top_ports_count_clients_under_the_service_port_the_inspector_names() {
    let mut s = Snapshot::empty("h", common::at(0));
    s.ephemeral_range = Some(PortRange::LINUX_DEFAULT);
    s.sockets = vec![
        tcp(
            "127.0.0.1:41234".into(),
            "0.0.0.0:0".into(),
            TcpState::Listen,
            vec![7],
            1,
        ),
        tcp(
            "127.0.0.1:41234".into(),
            "127.0.0.1:51000".into(),
            TcpState::Established,
            vec![7],
            2,
        ),
        tcp(
            "127.0.0.1:51000".into(),
            "127.0.0.1:41234".into(),
            TcpState::Established,
            vec![8],
            3,
        ),
        common::udp("10.0.0.5:41234", Some("8.8.8.8:53")).with_inode(4),
    ];
    let mut store = Store::new(History::DEFAULT_CAPACITY, Registry::global());
    store.ingest(s, None);
    let stats = store.history().latest().unwrap();
    let top: Vec<(Protocol, u16, u32)> = stats
        .top_ports
        .iter()
        .map(|p| (p.protocol, p.port, p.count))
        .collect();
    assert_eq!(top, vec![(Protocol::Tcp, 41234, 3), (Protocol::Udp, 53, 1)]);
}

/// The same port number in two namespaces is two ports: counted apart, each socket against its own
/// namespace's ephemeral range.
/// A snapshot with the host's namespace (1, the sampler's) and a container's (2) whose ephemeral range
/// is 10000–10999 and whose addresses were not recorded.
fn host_and_container() -> Snapshot {
    use sockscope::model::netns::{NamespaceFacts, NetNamespace};
    let mut s = Snapshot::empty("h", common::at(0));
    s.ephemeral_range = Some(PortRange::LINUX_DEFAULT);
    let mut sampler = NetNamespace::listed(1, true, None);
    sampler.sampler = true;
    let mut container = NetNamespace::listed(2, false, Some("docker 3f2a1b9c8d7e"));
    container.facts = Some(NamespaceFacts {
        ephemeral_range: Some(PortRange {
            low: 10000,
            high: 10999,
        }),
        ..NamespaceFacts::default()
    });
    s.namespaces = [(1, sampler), (2, container)].into();
    s
}

#[test]
fn top_ports_and_the_ephemeral_count_are_per_namespace() {
    let (host, docker) = (1u64, 2u64);
    let mut s = host_and_container();
    let listener = |netns, port, inode| {
        tcp(
            format!("0.0.0.0:{port}"),
            "0.0.0.0:0".into(),
            TcpState::Listen,
            vec![7],
            inode,
        )
        .with_netns(netns)
    };
    // Port 10500 is ephemeral in the container only.
    s.sockets = vec![
        listener(host, 5432, 1),
        listener(docker, 5432, 2),
        listener(docker, 10500, 3),
        listener(host, 10500, 4),
    ];
    // A client in the container of its own listener on 7001, through the container's address (its
    // addresses were not recorded: a socket bound to it tells), counts under 7001.
    for (local, remote, state, inode) in [
        ("172.17.0.2:7001", "0.0.0.0:0", TcpState::Listen, 5),
        (
            "172.17.0.2:7000",
            "172.17.0.2:7001",
            TcpState::Established,
            6,
        ),
    ] {
        s.sockets
            .push(tcp(local.into(), remote.into(), state, vec![7], inode).with_netns(docker));
    }
    let mut store = Store::new(History::DEFAULT_CAPACITY, Registry::global());
    store.ingest(s, None);
    let stats = store.history().latest().unwrap();
    let mut top: Vec<(Option<u64>, u16, u32)> = stats
        .top_ports
        .iter()
        .map(|p| (p.netns, p.port, p.count))
        .collect();
    top.sort_unstable();
    assert_eq!(
        top,
        vec![
            (Some(host), 5432, 1),
            (Some(host), 10500, 1),
            (Some(docker), 5432, 1),
            (Some(docker), 7001, 2),
            (Some(docker), 10500, 1)
        ]
    );
    assert_eq!(stats.listening_ports, 5);
    assert_eq!(
        stats.in_ephemeral_range, 1,
        "10500 is ephemeral in the container only"
    );
}

/// A process that exited before its details were read has no name: lists show `?[pid]`, never its PID
/// twice as `4242[4242]`.
#[test]
fn a_process_without_details_is_unnamed_in_the_history() {
    let mut s = Snapshot::empty("h", common::at(0));
    s.sockets = vec![tcp(
        "10.0.0.5:40000".into(),
        "10.0.0.9:443".into(),
        TcpState::Established,
        vec![4242],
        1,
    )];
    let mut store = Store::new(History::DEFAULT_CAPACITY, Registry::global());
    store.ingest(s, None);
    let top = &store.history().latest().unwrap().top_processes;
    assert_eq!(top.len(), 1);
    assert_eq!(top[0].name, None);
    assert_eq!(
        sockscope::model::snapshot::process_label(top[0].name.as_deref(), top[0].pid),
        "?[4242]"
    );
}

/// A socket that closed because its process exited still shows, for its one interval in red, the owner it
/// had: the filter finds it by that name and the Process cell names it.
#[test]
fn a_closed_socket_keeps_its_owner_after_the_process_exits() {
    use sockscope::view::filter::Filter;
    use sockscope::view::rows::{RowRef, SortSpec, ViewInput, compute_rows};
    let mut before = Snapshot::empty("h", common::at(0));
    common::add_process(&mut before, 7, "psql", Some("alice"));
    before.sockets = vec![tcp(
        "127.0.0.1:40000".into(),
        "127.0.0.1:5432".into(),
        TcpState::Established,
        vec![7],
        1,
    )];
    let after = Snapshot::empty("h", common::at(1));
    let mut store = Store::new(History::DEFAULT_CAPACITY, Registry::global());
    store.ingest(before, None);
    store.ingest(after, None);
    let input = ViewInput::from_store(&store).unwrap();
    let rows = compute_rows(
        &input,
        &Filter::parse("proc:psql"),
        SortSpec::default(),
        &PortsIndex::build(&input.snapshot),
        Registry::global(),
    );
    assert_eq!(rows, vec![RowRef::Closed(0)]);
    assert_eq!(input.owners(rows[0]).process, "psql");
    assert_eq!(input.owners(rows[0]).user.as_deref(), Some("alice"));
}

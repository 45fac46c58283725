//! The explanations' facts, pinned.

use super::*;
use crate::model::snapshot::PortRange;
use crate::model::snapshot::ProcessInfo;
use crate::model::socket::{Protocol, SocketEntry, SocketState, TcpState, UdpState};
use crate::services::registry::IANA_TSV;
use chrono::Utc;

fn tcp(l: &str, r: &str, st: TcpState, pid: u32) -> SocketEntry {
    SocketEntry::tcp(l.parse().unwrap(), r.parse().unwrap(), st)
        .with_inode(100 + pid)
        .with_uid(0)
        .with_pids(vec![pid])
}

fn fixture() -> (Snapshot, Registry) {
    let mut s = Snapshot::empty("h", Utc::now());
    s.ephemeral_range = Some(PortRange::LINUX_DEFAULT);
    s.sockets = vec![
        tcp("0.0.0.0:5432", "0.0.0.0:0", TcpState::Listen, 1),
        tcp(
            "127.0.0.1:5432",
            "127.0.0.1:40112",
            TcpState::Established,
            1,
        ),
        tcp(
            "127.0.0.1:40112",
            "127.0.0.1:5432",
            TcpState::Established,
            2,
        ),
        tcp(
            "10.0.0.2:51000",
            "93.184.216.34:443",
            TcpState::Established,
            3,
        ),
        tcp("10.0.0.2:7000", "10.0.0.9:7001", TcpState::Established, 3),
    ];
    s.processes.insert(
        1,
        ProcessInfo {
            pid: 1,
            name: "postgres".into(),
            user: Some("postgres".into()),
            exe: None,
            cmdline: None,
        },
    );
    (s, Registry::from_iana_tsv(IANA_TSV).unwrap())
}

#[test]
fn roles_follow_listeners_registered_ports_and_ephemeral_range() {
    let (snap, reg) = fixture();
    let ports = PortsIndex::build(&snap);
    let e = Explainer::new(&snap, &ports, &reg);
    assert_eq!(e.role(&snap.sockets[0]).side, Side::Listener);
    let accepted = e.role(&snap.sockets[1]);
    assert_eq!(accepted.side, Side::Server);
    assert!(accepted.reason.contains("listener"), "{}", accepted.reason);
    assert_eq!(e.role(&snap.sockets[2]).side, Side::Client);
    let outgoing = e.role(&snap.sockets[3]);
    assert_eq!(outgoing.side, Side::Client);
    assert!(
        outgoing.reason.contains("51000") || outgoing.reason.contains("443"),
        "{}",
        outgoing.reason
    );
    assert_eq!(
        e.role(&snap.sockets[4]).side,
        Side::Unknown,
        "7000 and 7001: nothing tells"
    );
}

#[test]
fn tuple_cells_are_filled_from_the_socket() {
    let (snap, reg) = fixture();
    let ports = PortsIndex::build(&snap);
    let e = Explainer::new(&snap, &ports, &reg);
    let cells = e.tuple(&snap.sockets[2]);
    let labels: Vec<&str> = cells.iter().map(|c| c.label).collect();
    assert_eq!(
        labels,
        [
            "Protocol",
            "Local IP",
            "Local port",
            "Remote IP",
            "Remote port"
        ]
    );
    assert!(
        cells[2].meaning.contains("ephemeral range 32768–60999"),
        "{}",
        cells[2].meaning
    );
    assert!(
        cells[4].meaning.starts_with(
            "remote port 5432: most likely the service this connection talks to (postgresql)"
        ),
        "{}",
        cells[4].meaning
    );
    assert!(cells[3].meaning.contains("loopback"));
    let listener = e.tuple(&snap.sockets[0]);
    assert!(
        listener[1]
            .meaning
            .contains("every IPv4 address (not IPv6) of this host"),
        "0.0.0.0 is IPv4 only: {}",
        listener[1].meaning
    );
    assert!(listener[3].meaning.contains("none yet"));
}

#[test]
fn a_dual_stack_wildcard_says_it_takes_ipv4_and_v6only_says_it_does_not() {
    let (mut snap, reg) = fixture();
    let mut dual = tcp("[::]:8443", "[::]:0", TcpState::Listen, 1);
    dual.details.v6only = Some(false);
    let mut only6 = dual.clone();
    only6.details.v6only = Some(true);
    snap.sockets = vec![dual.clone(), only6.clone()];
    let ports = PortsIndex::build(&snap);
    let e = Explainer::new(&snap, &ports, &reg);
    assert!(
        e.tuple(&dual)[1]
            .meaning
            .contains("every IPv6 and every IPv4 address")
    );
    assert!(e.tuple(&only6)[1].meaning.contains("and no IPv4"));
}

#[test]
fn this_hosts_own_and_mapped_loopback_addresses_are_not_another_host() {
    let (mut snap, reg) = fixture();
    snap.machine.local_addresses = Some(vec!["10.0.0.2".parse().unwrap()]);
    let mapped = tcp(
        "[::ffff:127.0.0.1]:8443",
        "[::ffff:127.0.0.1]:40000",
        TcpState::Established,
        1,
    );
    let own = tcp("10.0.0.2:7000", "10.0.0.2:7001", TcpState::Established, 3);
    let foreign = tcp("10.0.0.2:7000", "10.0.0.9:7001", TcpState::Established, 3);
    snap.sockets.push(mapped.clone());
    let ports = PortsIndex::build(&snap);
    let e = Explainer::new(&snap, &ports, &reg);
    assert!(
        e.tuple(&mapped)[3]
            .meaning
            .contains("this same machine (loopback)")
    );
    assert!(
        e.tuple(&own)[3]
            .meaning
            .contains("this same machine (one of its own addresses)")
    );
    assert!(e.tuple(&foreign)[3].meaning.ends_with("is another host."));
    snap.machine.local_addresses = None;
    let e = Explainer::new(&snap, &ports, &reg);
    assert!(
        e.tuple(&foreign)[3]
            .meaning
            .contains("unless it is an address of this one")
    );
}

#[test]
fn an_unrecorded_ephemeral_range_is_labelled_assumed() {
    let (mut snap, reg) = fixture();
    snap.ephemeral_range = None;
    let ports = PortsIndex::build(&snap);
    let e = Explainer::new(&snap, &ports, &reg);
    let udp = SocketEntry::udp("0.0.0.0:40000".parse().unwrap(), None);
    assert!(
        e.role(&udp).reason.contains("(assumed"),
        "{}",
        e.role(&udp).reason
    );
}

#[test]
fn states_are_explained_per_rfc_9293() {
    assert!(
        state_meaning(TcpState::CloseWait).contains("peer closed")
            && state_meaning(TcpState::CloseWait).contains("close()")
    );
    assert!(state_meaning(TcpState::TimeWait).contains("closed first"));
    assert!(state_meaning(TcpState::Listen).contains("own socket"));
    for st in TcpState::ALL {
        assert!(!state_meaning(st).is_empty());
    }
}

#[test]
fn port_panel_names_service_class_sharing_and_corrects_ranges() {
    let (snap, reg) = fixture();
    let ports = PortsIndex::build(&snap);
    let e = Explainer::new(&snap, &ports, &reg);
    let lines = e.port(&snap.sockets[0]);
    let get = |label| lines.iter().find(|l| l.label == label).unwrap();
    assert_eq!(get("Service").value, "postgresql");
    assert!(get("Service").meaning.contains("PostgreSQL Database"));
    assert_eq!(get("Class").value, "user");
    assert!(
        get("Sockets on port")
            .meaning
            .contains("1 LISTEN + 1 ESTABLISHED"),
        "{}",
        get("Sockets on port").meaning
    );
    assert_eq!(get("Exposure").value, "all interfaces");
    let client = e.port(&snap.sockets[3]);
    let eph = client.iter().find(|l| l.label == "Picked by").unwrap();
    assert!(
        eph.meaning
            .contains("IANA's dynamic range 49152–65535 is not the kernel's ephemeral range"),
        "{}",
        eph.meaning
    );
    let remote = client.iter().find(|l| l.label == "Remote service").unwrap();
    assert!(remote.value.contains("443/tcp https"), "{}", remote.value);
}

#[test]
fn socket_vs_port_compares_every_aspect_in_order() {
    let (snap, reg) = fixture();
    let ports = PortsIndex::build(&snap);
    let e = Explainer::new(&snap, &ports, &reg);
    let aspects = e.socket_vs_port(&snap.sockets[1]);
    let names: Vec<&str> = aspects.iter().map(|a| a.aspect).collect();
    assert_eq!(
        names,
        [
            "Definition",
            "Scope",
            "Type",
            "Role",
            "Configuration",
            "Security",
            "Connection type",
            "Lifecycle",
            "Addressing",
            "Dependency",
            "Example"
        ]
    );
}

#[test]
fn socket_vs_port_is_live_and_technically_right() {
    let (snap, reg) = fixture();
    let ports = PortsIndex::build(&snap);
    let e = Explainer::new(&snap, &ports, &reg);
    let aspects = e.socket_vs_port(&snap.sockets[1]);
    let find = |n| aspects.iter().find(|a| a.aspect == n).unwrap();
    assert!(
        find("Scope")
            .port
            .contains("5432/tcp and 5432/udp are different ports")
    );
    assert!(
        find("Connection type")
            .port
            .contains("in TCP's number space, so every socket on it is connection-oriented"),
        "a port's connection type is its number space's"
    );
    assert!(find("Connection type").socket.contains("retransmits"));
    assert!(
        find("Dependency")
            .socket
            .contains("two ports: local 5432 and remote 40112")
    );
    assert!(find("Dependency").socket.contains("SO_REUSEPORT"));
    assert!(
        find("Addressing")
            .socket
            .contains("tcp, 127.0.0.1, 5432, 127.0.0.1, 40112")
    );
}

#[test]
fn socket_vs_port_says_nothing_tcp_only_of_udp() {
    let (snap, reg) = fixture();
    let ports = PortsIndex::build(&snap);
    let e = Explainer::new(&snap, &ports, &reg);
    let mut udp = snap.sockets[0].clone();
    udp.protocol = Protocol::Udp;
    udp.state = SocketState::Udp(UdpState::Unconnected);
    udp.remote = None;
    let u = e.socket_vs_port(&udp);
    assert!(
        u.iter()
            .find(|a| a.aspect == "Connection type")
            .unwrap()
            .socket
            .contains("does not retransmit")
    );
    let find_u = |n| u.iter().find(|a| a.aspect == n).unwrap();
    assert!(
        !find_u("Configuration").socket.contains("listen()"),
        "no TCP-only calls said of UDP"
    );
    assert!(find_u("Lifecycle").port.contains("no TIME_WAIT"));
}

#[test]
fn a_raised_unprivileged_threshold_comes_from_the_machine() {
    let (mut snap, reg) = fixture();
    snap.machine.unprivileged_port_start = Some(6000);
    let ports = PortsIndex::build(&snap);
    let e = Explainer::new(&snap, &ports, &reg);
    let lines = e.port(&snap.sockets[0]);
    let privilege = lines.iter().find(|l| l.label == "Privilege").unwrap();
    assert_eq!(privilege.value, "needs CAP_NET_BIND_SERVICE");
    assert!(
        privilege
            .meaning
            .contains("ip_unprivileged_port_start = 6000")
    );
    assert!(!privilege.meaning.contains("assumed"));
}

#[test]
fn a_port_carrying_only_outgoing_connections_has_no_exposure() {
    let (snap, reg) = fixture();
    let ports = PortsIndex::build(&snap);
    let e = Explainer::new(&snap, &ports, &reg);
    // 10.0.0.2:51000 -> 93.184.216.34:443: a client's kernel-picked port.
    let lines = e.port(&snap.sockets[3]);
    let exposure = lines.iter().find(|l| l.label == "Exposure").unwrap();
    assert_eq!(exposure.value, "not listening");
}

#[test]
fn owner_or_reason() {
    let (snap, reg) = fixture();
    let ports = PortsIndex::build(&snap);
    let e = Explainer::new(&snap, &ports, &reg);
    assert!(e.owner(&snap.sockets[0])[0].starts_with("PID 1 postgres — user postgres"));
    let mut tw = snap.sockets[2].clone();
    tw.pids.clear();
    tw.owner_note = Some(crate::model::socket::OwnerNote::TimeWait);
    assert!(e.owner(&tw)[0].contains("TIME_WAIT"));
}

/// The host's namespace (the sampler's) with a listener on 5432, and a container's with its own 5432
/// listener, a connection it accepted, and a loopback-only listener.
fn host_and_container() -> (Snapshot, Registry) {
    use crate::model::netns::NetNamespace;
    const HOST: u64 = 4_026_531_840;
    const DOCKER: u64 = 4_026_532_291;
    let (mut snap, reg) = fixture();
    let mut host = NetNamespace::listed(HOST, true, None);
    host.sampler = true;
    snap.namespaces.insert(HOST, host);
    // Docker lets every user bind every port inside a container.
    let mut docker = NetNamespace::listed(DOCKER, false, Some("docker 3f2a1b9c8d7e"));
    docker.facts = Some(crate::model::netns::NamespaceFacts {
        machine: crate::model::snapshot::MachineFacts {
            unprivileged_port_start: Some(0),
            ..crate::model::snapshot::MachineFacts::default()
        },
        ..crate::model::netns::NamespaceFacts::default()
    });
    snap.namespaces.insert(DOCKER, docker);
    let in_docker = |s: SocketEntry| s.with_netns(DOCKER);
    snap.sockets = vec![
        tcp("0.0.0.0:5432", "0.0.0.0:0", TcpState::Listen, 1).with_netns(HOST),
        in_docker(tcp("0.0.0.0:5432", "0.0.0.0:0", TcpState::Listen, 1)),
        in_docker(tcp(
            "127.0.0.1:5432",
            "127.0.0.1:40112",
            TcpState::Established,
            1,
        )),
        in_docker(tcp("127.0.0.1:8080", "0.0.0.0:0", TcpState::Listen, 1)),
    ];
    (snap, reg)
}

#[test]
fn a_containers_socket_is_explained_with_its_namespace_not_this_host() {
    let (snap, reg) = host_and_container();
    let ports = PortsIndex::build(&snap);
    let e = || Explainer::new(&snap, &ports, &reg);
    let local_ip = |s: &SocketEntry| e().for_socket(s).tuple(s)[1].meaning.clone();
    assert!(
        local_ip(&snap.sockets[0]).contains("every IPv4 address (not IPv6) of this host"),
        "{}",
        local_ip(&snap.sockets[0])
    );
    let theirs = local_ip(&snap.sockets[1]);
    assert!(
        theirs.contains(
            "every IPv4 address (not IPv6) of the network namespace of docker 3f2a1b9c8d7e"
        ),
        "{theirs}"
    );
    assert!(!theirs.contains("this host"), "{theirs}");
    let loopback = local_ip(&snap.sockets[3]);
    assert!(
        loopback.contains("only programs in the network namespace of docker 3f2a1b9c8d7e"),
        "{loopback}"
    );
    let accepted = e().for_socket(&snap.sockets[2]).role(&snap.sockets[2]);
    assert!(
        accepted.reason.starts_with(
            "A listener in the network namespace of docker 3f2a1b9c8d7e holds local port 5432"
        ),
        "{}",
        accepted.reason
    );
    let aspects = e()
        .for_socket(&snap.sockets[1])
        .socket_vs_port(&snap.sockets[1]);
    let security = aspects.iter().find(|a| a.aspect == "Security").unwrap();
    assert!(
        security.port.ends_with(
            "in the network namespace of docker 3f2a1b9c8d7e, no port needs privilege to bind \
             (net.ipv4.ip_unprivileged_port_start = 0)."
        ),
        "{}",
        security.port
    );
    for a in e()
        .for_socket(&snap.sockets[1])
        .socket_vs_port(&snap.sockets[1])
    {
        assert!(
            !a.port.contains("this host") && !a.socket.contains("this host"),
            "{}: {} / {}",
            a.aspect,
            a.port,
            a.socket
        );
    }
}

#[test]
fn the_same_number_in_two_namespaces_is_evidence_of_two_ports() {
    let (snap, reg) = host_and_container();
    let ports = PortsIndex::build(&snap);
    let shown = page(&snap, &ports, &reg);
    let faq = shown
        .faqs
        .iter()
        .find(|f| f.question == "Are port numbers the same everywhere?")
        .unwrap();
    let two = faq
        .evidence
        .iter()
        .find(|e| {
            e.text
                .starts_with("Here 5432/tcp is in use in 2 network namespaces")
        })
        .unwrap_or_else(|| panic!("{:?}", faq.evidence));
    assert!(
        two.text
            .contains("(host, docker 3f2a1b9c8d7e): 2 ports that share a number"),
        "{}",
        two.text
    );
    assert_eq!(
        two.socket,
        Some(snap.sockets[1].key()),
        "it cites the container's listener"
    );
    let (one, _) = fixture();
    let ports = PortsIndex::build(&one);
    assert!(
        page(&one, &ports, &reg)
            .faqs
            .iter()
            .flat_map(|f| &f.evidence)
            .all(|e| !e.text.contains("network namespaces (")),
        "one namespace: no such evidence"
    );
}

//! Snapshot files: what is written reads back the same.
#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly on purpose.

mod common;

use std::collections::BTreeMap;

use chrono::{TimeZone, Utc};
use sockscope::collector::{SocketSource, SystemSource, SystemSourceOptions};
use sockscope::export::json::{ExportOptions, FORMAT_VERSION, read_json, write_json};
use sockscope::model::netns::NetNamespace;
use sockscope::model::snapshot::{PortRange, ProcessInfo, Snapshot};
use sockscope::model::socket::{OwnerNote, SocketEntry, SocketState, TcpState, UdpState};
use sockscope::services::registry::Registry;

fn sample_snapshot() -> Snapshot {
    let postgres = |l: &str, r: &str, st| {
        common::tcp(l, r, st)
            .with_inode(4242)
            .with_uid(106)
            .with_pids(vec![812])
    };
    let mut snap = Snapshot {
        namespaces: namespaces(),
        hosts: BTreeMap::new(),
        unix_sockets: Vec::new(),
        notes: Vec::new(),
        machine: sockscope::model::snapshot::MachineFacts {
            unprivileged_port_start: Some(1024),
            reserved_ports: Some(vec![PortRange {
                low: 9000,
                high: 9010,
            }]),
            bindv6only: Some(false),
            tcp_tw_reuse: Some(2),
            local_addresses: Some(vec!["127.0.0.1".parse().unwrap(), "::1".parse().unwrap()]),
        },
        taken_at: Utc.with_ymd_and_hms(2026, 11, 23, 20, 46, 49).unwrap(),
        host: "build-07".into(),
        ephemeral_range: Some(PortRange {
            low: 32768,
            high: 60999,
        }),
        sockets: vec![
            postgres("0.0.0.0:5432", "0.0.0.0:0", TcpState::Listen),
            postgres("[::1]:5432", "[::1]:40112", TcpState::Established),
            common::tcp("127.0.0.1:40113", "127.0.0.1:5432", TcpState::TimeWait)
                .with_uid(106)
                .without_owner(OwnerNote::TimeWait),
            common::udp("[::]:5353", None)
                .with_inode(99)
                .with_uid(0)
                .without_owner(OwnerNote::NotPermitted),
        ],
        processes: postgres_process(),
        users: [(106, "postgres".to_owned()), (0, "root".to_owned())]
            .into_iter()
            .collect(),
    };
    for s in &mut snap.sockets {
        s.netns = Some(HOST_NS);
    }
    // The same listening tuple inside a container is another socket on another port.
    snap.sockets.push(
        common::tcp("0.0.0.0:5432", "0.0.0.0:0", TcpState::Listen)
            .with_inode(5555)
            .with_uid(999)
            .with_netns(DOCKER_NS)
            .without_owner(OwnerNote::NoProcess),
    );
    snap
}

/// The postgres server that owns most of the sample's sockets.
fn postgres_process() -> BTreeMap<u32, ProcessInfo> {
    let mut processes = BTreeMap::new();
    processes.insert(
        812,
        ProcessInfo {
            pid: 812,
            name: "postgres".into(),
            user: Some("postgres".into()),
            exe: Some("/usr/lib/postgresql/15/bin/postgres".into()),
            cmdline: Some(vec![
                "postgres".into(),
                "-D".into(),
                "/var/lib/pg, \"quoted\"".into(),
            ]),
        },
    );
    processes
}

/// The host's namespace, a container's, and one that could not be entered.
fn namespaces() -> BTreeMap<u64, NetNamespace> {
    [
        NetNamespace {
            inode: HOST_NS,
            host: true,
            container: None,
            listed: true,
            sampler: false,
            facts: None,
        },
        NetNamespace {
            inode: DOCKER_NS,
            host: false,
            container: Some("docker 3f2a1b9c8d7e".into()),
            listed: true,
            sampler: false,
            facts: Some(sockscope::model::netns::NamespaceFacts {
                ephemeral_range: Some(PortRange {
                    low: 40000,
                    high: 40100,
                }),
                machine: sockscope::model::snapshot::MachineFacts {
                    unprivileged_port_start: Some(0),
                    reserved_ports: Some(vec![]),
                    bindv6only: Some(true),
                    tcp_tw_reuse: Some(1),
                    local_addresses: Some(vec!["172.17.0.2".parse().unwrap()]),
                },
            }),
        },
        NetNamespace {
            inode: 4_026_532_400,
            host: false,
            container: None,
            listed: false,
            sampler: false,
            facts: None,
        },
    ]
    .into_iter()
    .map(|n| (n.inode, n))
    .collect()
}

const HOST_NS: u64 = 4_026_531_840;
const DOCKER_NS: u64 = 4_026_532_291;

#[test]
fn json_round_trip_is_exact_with_cmdline() {
    let snap = sample_snapshot();
    let mut buf = Vec::new();
    write_json(
        &mut buf,
        &snap,
        Registry::global(),
        ExportOptions { with_cmdline: true },
    )
    .unwrap();
    let back = read_json(buf.as_slice()).unwrap();
    assert_eq!(back, snap);
}

#[test]
fn json_without_cmdline_drops_only_command_lines() {
    let snap = sample_snapshot();
    let mut buf = Vec::new();
    write_json(
        &mut buf,
        &snap,
        Registry::global(),
        ExportOptions::default(),
    )
    .unwrap();
    assert!(!String::from_utf8_lossy(&buf).contains("/var/lib/pg"));
    let back = read_json(buf.as_slice()).unwrap();
    let mut expected = snap;
    for p in expected.processes.values_mut() {
        p.cmdline = None;
    }
    assert_eq!(back, expected);
}

#[test]
fn live_snapshot_round_trips() {
    let _l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let snap = SystemSource::new(SystemSourceOptions::default())
        .sample()
        .unwrap();
    let mut buf = Vec::new();
    write_json(
        &mut buf,
        &snap,
        Registry::global(),
        ExportOptions::default(),
    )
    .unwrap();
    assert_eq!(read_json(buf.as_slice()).unwrap(), snap);
}

#[test]
fn wrong_format_or_version_is_refused_with_the_reason() {
    let snap = sample_snapshot();
    let mut buf = Vec::new();
    write_json(
        &mut buf,
        &snap,
        Registry::global(),
        ExportOptions::default(),
    )
    .unwrap();
    let text = String::from_utf8(buf).unwrap();
    let current = format!("\"version\": {FORMAT_VERSION}");
    let next = format!("\"version\": {}", FORMAT_VERSION + 1);
    let newer = text.replacen(&current, &next, 1);
    assert!(
        read_json(newer.as_bytes())
            .unwrap_err()
            .to_string()
            .contains("version")
    );
    let other = text.replacen("sockscope-snapshot", "something-else", 1);
    assert!(
        read_json(other.as_bytes())
            .unwrap_err()
            .to_string()
            .contains("format")
    );
    let bad_port = text.replacen("\"local_port\": 5432", "\"local_port\": 70000", 1);
    let e = read_json(bad_port.as_bytes()).unwrap_err().to_string();
    assert!(e.contains("70000") && e.contains("line"), "{e}");
}

mod reading {
    use super::*;
    use sockscope::export::csv::write_csv;
    use sockscope::export::html::write_html;
    use sockscope::export::read::{MAX_FILE_BYTES, open_snapshot, parse_snapshot};
    use sockscope::model::failure::FailureKind;
    use std::path::PathBuf;

    fn temp_file(tag: &str, contents: &[u8]) -> PathBuf {
        let d = std::env::temp_dir().join(format!("sockscope-read-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        let p = d.join(tag);
        std::fs::write(&p, contents).unwrap();
        p
    }

    #[test]
    fn csv_round_trip_keeps_its_columns() {
        let snap = sample_snapshot();
        let mut buf = Vec::new();
        write_csv(&mut buf, &snap, Registry::global()).unwrap();
        let back = parse_snapshot(&buf, Some(snap.taken_at)).unwrap();
        assert_eq!(
            back.sockets, snap.sockets,
            "every socket field is a CSV column"
        );
        assert_eq!(
            back.processes.get(&812).map(|p| p.name.as_str()),
            Some("postgres")
        );
        assert_eq!(back.users, snap.users);
        assert_eq!(back.taken_at, snap.taken_at);
    }

    /// Peer names looked up with --resolve travel as `remote_host` in JSON and CSV and read back; a file
    /// without them (or of version 2) has none.
    #[test]
    fn peer_host_names_round_trip_through_json_and_csv() {
        let mut snap = sample_snapshot();
        let peer = snap.sockets.iter().find_map(|s| s.peer()).unwrap().ip();
        snap.hosts.insert(peer.to_canonical(), "localhost".into());
        let mut json = Vec::new();
        write_json(
            &mut json,
            &snap,
            Registry::global(),
            ExportOptions::default(),
        )
        .unwrap();
        assert_eq!(read_json(&*json).unwrap().hosts, snap.hosts);
        let mut csv = Vec::new();
        write_csv(&mut csv, &snap, Registry::global()).unwrap();
        let back = parse_snapshot(&csv, Some(snap.taken_at)).unwrap();
        assert_eq!(back.hosts, snap.hosts);
        // A version 2 file has no remote_host at all: no names, and no error.
        let mut v2: serde_json::Value = serde_json::from_slice(&json).unwrap();
        v2["version"] = 2.into();
        for socket in v2["sockets"].as_array_mut().unwrap() {
            socket.as_object_mut().unwrap().remove("remote_host");
        }
        let old = read_json(serde_json::to_vec(&v2).unwrap().as_slice()).unwrap();
        assert!(old.hosts.is_empty());
    }

    /// A pre-fork server's socket held by three processes, two of one name and one whose details were
    /// never read: each PID gets its own name back, and the unknown one stays unknown.
    #[test]
    fn csv_gives_each_owner_of_a_shared_socket_its_own_name_back() {
        let mut snap = Snapshot::empty("h", Utc.timestamp_opt(1_700_000_000, 0).unwrap());
        snap.sockets.push(
            SocketEntry::tcp(
                "0.0.0.0:80".parse().unwrap(),
                "0.0.0.0:0".parse().unwrap(),
                TcpState::Listen,
            )
            .with_inode(7)
            .with_uid(0)
            .with_pids(vec![10, 11, 12, 13]),
        );
        for (pid, name) in [(10, "nginx"), (11, "nginx"), (13, "nginx-cache")] {
            snap.processes.insert(
                pid,
                ProcessInfo {
                    pid,
                    name: name.into(),
                    user: None,
                    exe: None,
                    cmdline: None,
                },
            );
        }
        let mut buf = Vec::new();
        write_csv(&mut buf, &snap, Registry::global()).unwrap();
        let back = parse_snapshot(&buf, Some(snap.taken_at)).unwrap();
        let name = |pid: u32| back.processes.get(&pid).map(|p| p.name.as_str());
        assert_eq!(
            [name(10), name(11), name(12), name(13)],
            [Some("nginx"), Some("nginx"), None, Some("nginx-cache")]
        );
    }

    #[test]
    fn html_report_is_self_contained_and_escaped() {
        let mut snap = sample_snapshot();
        snap.host = "<script>alert(1)</script>".into();
        let mut buf = Vec::new();
        write_html(&mut buf, &snap, Registry::global()).unwrap();
        let html = String::from_utf8(buf).unwrap();
        assert!(html.starts_with("<!DOCTYPE html>"));
        assert!(!html.contains("<script>"), "host name is escaped");
        assert!(
            !html.contains("src=") && !html.contains("href="),
            "no external assets"
        );
        assert!(
            html.contains("5432/tcp")
                && html.contains("postgresql")
                && html.contains("1 LISTEN + 1 ESTABLISHED")
        );
        assert!(
            html.contains("5432/tcp in docker 3f2a1b9c8d7e"),
            "the container's port is its own, named"
        );
    }

    #[test]
    fn bad_files_get_one_line_naming_the_file() {
        let cases: Vec<(&str, Vec<u8>, &str)> = vec![
            ("empty.json", vec![], "the file is empty"),
            ("garbage.json", b"{ not json".to_vec(), "line 1 column"),
            ("array.json", b"[1,2]".to_vec(), "JSON array"),
            ("nofmt.json", br#"{"version":1}"#.to_vec(), "missing field"),
            (
                "header.csv",
                b"a,b,c\n1,2,3\n".to_vec(),
                "missing columns protocol",
            ),
        ];
        for (name, bytes, expected) in cases {
            let path = temp_file(name, &bytes);
            let error = open_snapshot(&path).unwrap_err();
            assert_eq!(error.kind, FailureKind::Malformed, "{name}: {error}");
            let err = error.to_string();
            assert!(err.starts_with(&format!("{}: ", path.display())), "{err}");
            assert!(err.contains(expected), "{name}: {err}");
            assert_eq!(err.lines().count(), 1, "{err}");
        }
        let missing = open_snapshot(std::path::Path::new("/nonexistent/snap.json")).unwrap_err();
        assert_eq!(missing.kind, FailureKind::NotFound);
        let missing = missing.to_string();
        assert!(
            missing.starts_with("/nonexistent/snap.json: cannot read"),
            "{missing}"
        );
    }

    #[test]
    fn duplicate_and_absurd_json_values_are_refused() {
        let snap = sample_snapshot();
        let mut buf = Vec::new();
        write_json(
            &mut buf,
            &snap,
            Registry::global(),
            ExportOptions::default(),
        )
        .unwrap();
        let mut v: serde_json::Value = serde_json::from_slice(&buf).unwrap();
        let first = v["sockets"][0].clone();
        v["sockets"].as_array_mut().unwrap().push(first);
        let err = read_json(serde_json::to_vec(&v).unwrap().as_slice())
            .unwrap_err()
            .to_string();
        assert!(err.contains("duplicate socket"), "{err}");
        let mut v: serde_json::Value = serde_json::from_slice(&buf).unwrap();
        v["sockets"][0]["state"] = "DANCING".into();
        let err = read_json(serde_json::to_vec(&v).unwrap().as_slice())
            .unwrap_err()
            .to_string();
        assert!(err.contains("DANCING"), "{err}");
    }

    #[test]
    fn files_over_the_limit_are_refused_before_reading() {
        let path = temp_file("huge.json", b"");
        // A sparse 1 GiB file: costs no disk, and is never read.
        std::fs::OpenOptions::new()
            .write(true)
            .open(&path)
            .unwrap()
            .set_len(1 << 30)
            .unwrap();
        let err = open_snapshot(&path).unwrap_err().to_string();
        assert!(
            err.contains("1024.0 MiB")
                && err.contains(&format!("up to {} MiB", MAX_FILE_BYTES >> 20)),
            "{err}"
        );
        std::fs::remove_file(&path).unwrap();
    }
}

mod fuzz {
    use super::*;
    use proptest::prelude::*;
    use sockscope::export::read::parse_snapshot;

    fn valid_json() -> Vec<u8> {
        let mut buf = Vec::new();
        write_json(
            &mut buf,
            &sample_snapshot(),
            Registry::global(),
            ExportOptions { with_cmdline: true },
        )
        .unwrap();
        buf
    }

    fn valid_csv() -> Vec<u8> {
        let mut buf = Vec::new();
        sockscope::export::csv::write_csv(&mut buf, &sample_snapshot(), Registry::global())
            .unwrap();
        buf
    }

    proptest! {
        // 10 000 inputs in CI; run longer with PROPTEST_CASES=1000000 cargo test --test export fuzz.
        #![proptest_config(ProptestConfig { cases: std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(10_000), ..ProptestConfig::default() })]

        #[test]
        fn reader_never_panics_on_mutated_files(
            json in any::<bool>(),
            edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..3), 1..8),
            cut in any::<prop::sample::Index>(),
        ) {
            let mut bytes = if json { valid_json() } else { valid_csv() };
            for (at, byte, op) in edits {
                let i = at.index(bytes.len());
                match op {
                    0 => bytes[i] = byte,
                    1 => bytes.insert(i, byte),
                    _ => { bytes.remove(i); }
                }
            }
            if cut.index(4) == 0 {
                let keep = cut.index(bytes.len().max(1));
                bytes.truncate(keep);
            }
            let _ = parse_snapshot(&bytes, None);
        }

        #[test]
        fn reader_never_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = parse_snapshot(&bytes, None);
        }
    }
}

/// A file written by Sockscope 0.1 (format version 1): no UDP state or peer, no kernel details, and the
/// kernel's placeholder uid 0 on a TIME_WAIT socket.
const VERSION_1_FILE: &str = r#"{
  "format": "sockscope-snapshot",
  "version": 1,
  "taken_at": "2026-11-23T20:46:49.901663947Z",
  "host": "build-07",
  "ephemeral_range": [32768, 60999],
  "sockets": [
    { "protocol": "tcp", "family": "ipv4", "local_address": "127.0.0.1", "local_port": 40112,
      "remote_address": "127.0.0.1", "remote_port": 5432, "state": "TIME_WAIT", "inode": null,
      "uid": 0, "user": "root", "pids": [], "owner_note": "time_wait",
      "service": { "port": 40112, "name": null, "class": "user" } },
    { "protocol": "udp", "family": "ipv4", "local_address": "0.0.0.0", "local_port": 53,
      "remote_address": null, "remote_port": null, "state": null, "inode": 99, "uid": 101,
      "user": "systemd-resolve", "pids": [7], "owner_note": null,
      "service": { "port": 53, "name": "domain", "class": "system" } }
  ],
  "processes": [ { "pid": 7, "name": "resolved", "user": "systemd-resolve", "exe": null, "cmdline": null } ]
}"#;

/// The sample, written as a version-current JSON document.
fn sample_document() -> serde_json::Value {
    let mut buf = Vec::new();
    write_json(
        &mut buf,
        &sample_snapshot(),
        Registry::global(),
        ExportOptions::default(),
    )
    .unwrap();
    serde_json::from_slice(&buf).unwrap()
}

#[test]
fn the_file_names_each_sockets_namespace_and_container() {
    let doc = sample_document();
    let sockets = doc["sockets"].as_array().unwrap();
    let in_docker: Vec<_> = sockets.iter().filter(|s| s["netns"] == DOCKER_NS).collect();
    assert_eq!(in_docker.len(), 1);
    assert_eq!(in_docker[0]["container"], "docker 3f2a1b9c8d7e");
    assert!(
        sockets
            .iter()
            .filter(|s| s["netns"] == HOST_NS)
            .all(|s| s["container"].is_null())
    );
    assert_eq!(doc["namespaces"].as_array().unwrap().len(), 3);
}

#[test]
fn version_3_files_read_with_no_namespace() {
    let mut doc = sample_document();
    doc["version"] = 3.into();
    doc.as_object_mut().unwrap().remove("namespaces");
    // Version 3 had one namespace's sockets: drop the container's, then its fields.
    let sockets = doc["sockets"].as_array_mut().unwrap();
    sockets.retain(|s| s["netns"] != DOCKER_NS);
    for s in sockets {
        let s = s.as_object_mut().unwrap();
        s.remove("netns");
        s.remove("container");
    }
    let snap = read_json(serde_json::to_vec(&doc).unwrap().as_slice()).unwrap();
    assert!(snap.namespaces.is_empty());
    assert!(snap.sockets.iter().all(|s| s.netns.is_none()));
    assert_eq!(snap.namespace_label(None), "");
}

#[test]
fn version_1_files_stay_readable_and_unrecorded_facts_stay_unknown() {
    let snap = read_json(VERSION_1_FILE.as_bytes()).unwrap();
    let tw = &snap.sockets[0];
    assert_eq!(tw.tcp_state(), Some(TcpState::TimeWait));
    assert_eq!(
        tw.uid, None,
        "uid 0 of a TIME_WAIT socket is the kernel's placeholder"
    );
    assert_eq!(tw.details, Default::default());
    let udp = &snap.sockets[1];
    assert_eq!(udp.state, SocketState::Udp(UdpState::NotRecorded));
    assert_eq!(udp.remote, None);
    assert_eq!(udp.uid, Some(101));
    assert_eq!(snap.user_of(udp), Some("systemd-resolve"));
}

#[test]
fn version_2_round_trip_keeps_udp_peers_and_kernel_details() {
    use sockscope::model::kernel::{KernelDetails, SocketTimer, TcpInfo, TimerKind};
    let mut snap = sample_snapshot();
    let peer = "127.0.0.53:53".parse().unwrap();
    snap.sockets
        .push(SocketEntry::udp("127.0.0.1:41684".parse().unwrap(), Some(peer)).with_inode(5));
    let mut v6 = SocketEntry::tcp(
        "[::]:8443".parse().unwrap(),
        "[::]:0".parse().unwrap(),
        TcpState::Listen,
    )
    .with_inode(6);
    v6.details = KernelDetails {
        v6only: Some(false),
        interface: Some("lo".into()),
        cookie: Some(0x1_0000_1234),
        recv_queue: Some(3),
        send_queue: Some(4096),
        timer: Some(SocketTimer {
            kind: TimerKind::Keepalive,
            expires_ms: 7_140_000,
            retransmits: 0,
        }),
        tcp_info: Some(TcpInfo {
            rtt_us: Some(37),
            bytes_acked: Some(1 << 40),
            ..TcpInfo::default()
        }),
    };
    snap.sockets.push(v6);
    let mut buf = Vec::new();
    write_json(
        &mut buf,
        &snap,
        Registry::global(),
        ExportOptions::default(),
    )
    .unwrap();
    let text = String::from_utf8(buf).unwrap();
    assert!(text.contains("\"state\": \"CONNECTED\""), "{text}");
    assert!(text.contains("\"v6only\": false"));
    let back = read_json(text.as_bytes()).unwrap();
    assert_eq!(back.sockets, snap.sockets);
}

/// Arbitrary valid snapshots survive a round trip: JSON keeps everything, CSV keeps every socket field.
mod round_trip {
    use super::*;
    use proptest::prelude::*;
    use sockscope::model::kernel::TcpInfo;
    use std::net::{IpAddr, SocketAddr};

    fn ip(v6: bool, n: u8) -> IpAddr {
        if v6 {
            IpAddr::V6(std::net::Ipv6Addr::new(
                0xfd00,
                0,
                0,
                0,
                0,
                0,
                0,
                u16::from(n),
            ))
        } else {
            IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, n))
        }
    }

    prop_compose! {
        fn tcp_info()(
            small in proptest::array::uniform8(proptest::option::of(any::<u32>())),
            big in proptest::array::uniform4(proptest::option::of(any::<u64>())),
        ) -> TcpInfo {
            TcpInfo {
                rtt_us: small[0],
                rttvar_us: small[1],
                min_rtt_us: small[2],
                rto_us: small[3],
                retrans: small[4],
                total_retrans: small[5],
                lost: small[6],
                snd_cwnd: small[7],
                bytes_sent: big[0],
                bytes_acked: big[1],
                bytes_received: big[2],
                delivery_rate: big[3],
            }
        }
    }

    prop_compose! {
        fn socket()(
            udp in any::<bool>(),
            v6 in any::<bool>(),
            hosts in (1u8..20, 1u8..20),
            ports in (1u16.., 1u16..),
            state in 0..TcpState::ALL.len(),
            connected in any::<bool>(),
            inode in 0u32..100_000,
            uid in proptest::option::of(0u32..70_000),
            pids in proptest::collection::vec(1u32..40, 0..3),
            note in 0usize..6,
            cookie in proptest::option::of(any::<u64>()),
            queues in (proptest::option::of(any::<u32>()), proptest::option::of(any::<u32>())),
            v6only in proptest::option::of(any::<bool>()),
            iface in any::<bool>(),
            info in proptest::option::of(tcp_info()),
        ) -> SocketEntry {
            let local = SocketAddr::new(ip(v6, hosts.0), ports.0);
            let peer = SocketAddr::new(ip(v6, hosts.1), ports.1);
            let mut s = if udp {
                SocketEntry::udp(local, connected.then_some(peer))
            } else {
                let state = TcpState::ALL[state];
                let remote = if state == TcpState::Listen {
                    SocketAddr::new(if v6 { "::".parse().unwrap() } else { "0.0.0.0".parse().unwrap() }, 0)
                } else {
                    peer
                };
                SocketEntry::tcp(local, remote, state)
            };
            s = s.with_inode(inode).with_pids(pids);
            s.uid = uid;
            let notes = [
                OwnerNote::NotPermitted,
                OwnerNote::TimeWait,
                OwnerNote::NotAccepted,
                OwnerNote::Orphaned,
                OwnerNote::NoProcess,
            ];
            if s.pids.is_empty() {
                s.owner_note = notes.get(note).copied();
            }
            s.details.cookie = cookie;
            s.details.recv_queue = queues.0;
            s.details.send_queue = queues.1;
            s.details.v6only = v6only.filter(|_| v6);
            s.details.interface = iface.then(|| "lo".to_owned());
            // The kernel never sends an empty tcp_info; CSV cannot tell one from none.
            s.details.tcp_info = info.filter(|i| !udp && *i != TcpInfo::default());
            s
        }
    }

    prop_compose! {
        fn snapshot()(sockets in proptest::collection::vec(socket(), 0..12)) -> Snapshot {
            let mut snap = Snapshot::empty("h", Utc.with_ymd_and_hms(2026, 11, 25, 8, 0, 0).unwrap());
            let mut keys = std::collections::HashSet::new();
            for s in sockets {
                if s.validate().is_ok() && keys.insert(s.key()) {
                    snap.sockets.push(s);
                }
            }
            let pids: Vec<u32> = snap.sockets.iter().flat_map(|s| s.pids.clone()).collect();
            for pid in pids {
                snap.processes.insert(pid, ProcessInfo {
                    pid,
                    name: format!("proc {pid}"),
                    user: Some("alice".to_owned()),
                    exe: None,
                    cmdline: None,
                });
            }
            let uids: Vec<u32> = snap.sockets.iter().filter_map(|s| s.uid).collect();
            for uid in uids {
                snap.users.insert(uid, format!("user{uid}"));
            }
            snap
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

        #[test]
        fn json_keeps_everything(snap in snapshot()) {
            let mut buf = Vec::new();
            write_json(&mut buf, &snap, Registry::global(), ExportOptions { with_cmdline: true }).unwrap();
            let back = read_json(buf.as_slice()).unwrap();
            prop_assert_eq!(back, snap);
        }

        #[test]
        fn csv_keeps_every_socket(snap in snapshot()) {
            let mut buf = Vec::new();
            sockscope::export::csv::write_csv(&mut buf, &snap, Registry::global()).unwrap();
            let back = sockscope::export::read::read_csv(&buf, snap.taken_at).unwrap();
            // Field by field, so a failure names the field (a socket's Debug is its one-line summary).
            let fields = |s: &SocketEntry| format!(
                "{:?} {:?} {:?} {:?} inode={:?} uid={:?} pids={:?} note={:?} {:?}",
                s.protocol, s.local, s.remote, s.state, s.inode, s.uid, s.pids, s.owner_note, s.details
            );
            // CSV carries four of tcp_info's counters (its columns); the rest are JSON's.
            let in_csv = |s: &SocketEntry| {
                let mut s = s.clone();
                s.details.tcp_info = s.details.tcp_info.map(|i| TcpInfo {
                    rtt_us: i.rtt_us,
                    total_retrans: i.total_retrans,
                    bytes_acked: i.bytes_acked,
                    bytes_received: i.bytes_received,
                    ..TcpInfo::default()
                }).filter(|i| *i != TcpInfo::default());
                fields(&s)
            };
            let back: Vec<String> = back.sockets.iter().map(fields).collect();
            let sent: Vec<String> = snap.sockets.iter().map(in_csv).collect();
            prop_assert_eq!(back, sent);
        }
    }
}

/// A filtered HTML report names the service of a connection whose listener the filter left out: the
/// whole sample tells that the port is served, not picked by the kernel.
#[test]
fn a_filtered_report_tells_a_served_port_by_the_whole_sample() {
    use sockscope::export::format::Format;
    let mut whole = Snapshot::empty("h", Utc.with_ymd_and_hms(2026, 12, 7, 9, 0, 0).unwrap());
    whole.ephemeral_range = Some(PortRange {
        low: 32768,
        high: 60999,
    });
    whole.sockets = vec![
        common::tcp("0.0.0.0:40000", "0.0.0.0:0", TcpState::Listen).with_inode(1),
        common::tcp("127.0.0.1:40000", "127.0.0.1:50123", TcpState::Established).with_inode(2),
    ];
    let mut subset = whole.clone();
    subset.sockets.remove(0);
    let html = |whole: Option<&Snapshot>| {
        let mut buf = Vec::new();
        Format::Html
            .write(
                &mut buf,
                &subset,
                whole,
                Registry::global(),
                ExportOptions::default(),
            )
            .unwrap();
        String::from_utf8(buf).unwrap()
    };
    assert!(
        html(Some(&whole)).contains("safetynetp"),
        "its listener serves 40000"
    );
    assert!(
        !html(None).contains("safetynetp"),
        "alone, the connection looks like a client's picked port"
    );
}

//! Snapshot files: what is written reads back the same.
#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly on purpose.

use std::collections::BTreeMap;

use chrono::{TimeZone, Utc};
use sockscope::collector::{SocketSource, SystemSource, SystemSourceOptions};
use sockscope::export::json::{ExportOptions, read_json, write_json};
use sockscope::model::snapshot::{PortRange, ProcessInfo, Snapshot};
use sockscope::model::socket::{OwnerNote, Protocol, SocketEntry, TcpState};
use sockscope::services::registry::Registry;

fn sample_snapshot() -> Snapshot {
    let tcp = |l: &str, r: &str, st, pids: Vec<u32>, note| SocketEntry {
        protocol: Protocol::Tcp,
        local: l.parse().unwrap(),
        remote: Some(r.parse().unwrap()),
        state: Some(st),
        inode: if pids.is_empty() { None } else { Some(4242) },
        uid: Some(106),
        pids,
        owner_note: note,
    };
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
    Snapshot {
        taken_at: Utc.with_ymd_and_hms(2026, 11, 23, 20, 46, 49).unwrap(),
        host: "build-07".into(),
        ephemeral_range: Some(PortRange {
            low: 32768,
            high: 60999,
        }),
        sockets: vec![
            tcp(
                "0.0.0.0:5432",
                "0.0.0.0:0",
                TcpState::Listen,
                vec![812],
                None,
            ),
            tcp(
                "[::1]:5432",
                "[::1]:40112",
                TcpState::Established,
                vec![812],
                None,
            ),
            tcp(
                "127.0.0.1:40113",
                "127.0.0.1:5432",
                TcpState::TimeWait,
                vec![],
                Some(OwnerNote::TimeWait),
            ),
            SocketEntry {
                protocol: Protocol::Udp,
                local: "[::]:5353".parse().unwrap(),
                remote: None,
                state: None,
                inode: Some(99),
                uid: Some(0),
                pids: vec![],
                owner_note: Some(OwnerNote::NotPermitted),
            },
        ],
        processes,
        users: [(106, "postgres".to_owned()), (0, "root".to_owned())]
            .into_iter()
            .collect(),
    }
}

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
    let v2 = text.replacen("\"version\": 1", "\"version\": 2", 1);
    assert!(
        read_json(v2.as_bytes())
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

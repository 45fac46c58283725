//! The command line as a user runs it: the built binary, its exit codes, stdout and files.
#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly on purpose.

mod common;

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Command, Output};

/// Every spawn in this file holds this lock: between `fork` and `exec` a child holds copies of all of this
/// process's fds, so a snapshot taken by one test's child while another test spawns could see that child
/// as a second owner of a socket this test holds.
static SPAWNS: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SPAWNS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn sockscope(args: &[&str]) -> Output {
    let _serial = serial();
    Command::new(env!("CARGO_BIN_EXE_sockscope"))
        .args(args)
        .output()
        .expect("binary runs")
}

#[test]
fn help_and_version() {
    let help = sockscope(&["--help"]);
    assert!(help.status.success());
    let text = String::from_utf8_lossy(&help.stdout);
    assert!(text.contains("snapshot"), "{text}");
    let v = sockscope(&["--version"]);
    assert_eq!(
        String::from_utf8_lossy(&v.stdout).trim(),
        format!("sockscope {}", env!("CARGO_PKG_VERSION"))
    );
    let sub = sockscope(&["snapshot", "--help"]);
    assert!(String::from_utf8_lossy(&sub.stdout).contains("--with-cmdline"));
}

/// `--resolve` names a loopback peer from /etc/hosts (no query leaves the host); without it every
/// `remote_host` is null.
#[test]
fn resolve_names_loopback_peers_and_without_it_no_name_is_written() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let client = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let _server = listener.accept().unwrap();
    let port = client.local_addr().unwrap().port();
    let ours = |args: &[&str]| {
        let out = sockscope(args);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let sockets = v["sockets"].as_array().unwrap().clone();
        let everyone_unnamed = sockets.iter().all(|s| s["remote_host"].is_null());
        let mine = sockets
            .into_iter()
            .find(|s| s["local_port"] == port && s["protocol"] == "tcp")
            .expect("our client end is in the snapshot");
        (mine, everyone_unnamed)
    };
    let (named, _) = ours(&["snapshot", "--resolve"]);
    assert_eq!(named["remote_host"], "localhost");
    let (plain, everyone_unnamed) = ours(&["snapshot"]);
    assert!(plain["remote_host"].is_null());
    assert!(everyone_unnamed);
}

/// Without --resolve the snapshot command starts no resolver thread (no lookup, no DNS query).
#[test]
fn a_snapshot_without_resolve_starts_no_resolver() {
    // A connection, so there is a peer that --resolve would look up.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let _client = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let dir = common::temp_dir();
    let path = dir.path().join("s.json");
    let args = |resolve| sockscope::cli::SnapshotArgs {
        format: sockscope::export::Format::Json,
        output: Some(path.clone()),
        with_cmdline: false,
        from: None,
        resolve,
    };
    let before = sockscope::collector::resolver::threads_started();
    sockscope::cli::run_snapshot(&args(false)).unwrap();
    assert_eq!(sockscope::collector::resolver::threads_started(), before);
    sockscope::cli::run_snapshot(&args(true)).unwrap();
    assert!(
        sockscope::collector::resolver::threads_started() > before,
        "with --resolve it does (the check can fail)"
    );
}

#[test]
fn json_snapshot_on_stdout_lists_a_listener_we_hold() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let out = sockscope(&["snapshot", "--format", "json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["format"], "sockscope-snapshot");
    assert_eq!(v["version"], 4);
    assert!(
        v["taken_at"].as_str().unwrap().ends_with('Z'),
        "RFC 3339 UTC"
    );
    let sockets = v["sockets"].as_array().unwrap();
    let ours = sockets
        .iter()
        .find(|s| s["local_port"] == port && s["protocol"] == "tcp")
        .expect("our listener is in the snapshot");
    assert_eq!(ours["state"], "LISTEN");
    assert_eq!(ours["local_address"], "127.0.0.1");
    assert_eq!(ours["family"], "ipv4");
    assert_eq!(ours["pids"], serde_json::json!([std::process::id()]));
    assert_eq!(ours["service"]["port"], port);
    assert!(ours["service"]["class"].is_string());
    let me = v["processes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["pid"] == std::process::id())
        .unwrap();
    assert!(
        me["cmdline"].is_null(),
        "command lines are left out by default"
    );
    drop(listener);
}

#[test]
fn with_cmdline_includes_command_lines() {
    let _listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let out = sockscope(&["snapshot", "--with-cmdline"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let me = v["processes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["pid"] == std::process::id())
        .unwrap();
    assert!(
        me["cmdline"].as_array().is_some_and(|a| !a.is_empty()),
        "{me}"
    );
}

#[test]
fn csv_to_file_has_header_and_rows() {
    let _listener = TcpListener::bind("[::1]:0").unwrap();
    let temp = common::temp_dir();
    let d = temp.path();
    let path = d.join("out.csv");
    let out = sockscope(&["snapshot", "--format", "csv", "-o", path.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stdout.is_empty(), "nothing on stdout with -o");
    let text = std::fs::read_to_string(&path).unwrap();
    let header = text.lines().next().unwrap();
    for col in [
        "protocol",
        "family",
        "local_address",
        "local_port",
        "remote_address",
        "remote_port",
        "state",
        "pids",
        "process",
        "user",
        "service",
    ] {
        assert!(
            header.split(',').any(|c| c == col),
            "missing column {col}: {header}"
        );
    }
    assert!(
        text.lines().any(|l| l.starts_with("tcp,ipv6,::1,")),
        "{text}"
    );
    let leftovers: Vec<_> = std::fs::read_dir(d)
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert_eq!(leftovers.len(), 1, "no temporary file left: {leftovers:?}");
}

#[test]
fn unwritable_path_is_one_line_naming_it_with_exit_1() {
    let out = sockscope(&["snapshot", "-o", "/nonexistent-dir/snap.json"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("/nonexistent-dir/snap.json"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

/// A target that is not a regular file (a device such as /dev/null, a pipe) is written in place, never
/// replaced by a renamed temporary file. A FIFO in a temporary directory stands in for the device.
#[test]
fn writing_to_a_pipe_keeps_the_pipe() {
    let temp = common::temp_dir();
    let (fifo, reader) = common::fifo_with_reader(temp.path(), "out.fifo");
    let out = sockscope(&["snapshot", "-o", fifo.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    use std::os::unix::fs::FileTypeExt;
    // Checked before joining: a pipe replaced by a file would leave the reader waiting forever.
    assert!(std::fs::metadata(&fifo).unwrap().file_type().is_fifo());
    let written = reader.join().unwrap();
    assert!(written.starts_with(b"{"), "the reader got the JSON");
    let entries = std::fs::read_dir(temp.path()).unwrap().count();
    assert_eq!(entries, 1, "no temporary file left beside it");
}

#[test]
fn bad_arguments_fail_with_usage() {
    let out = sockscope(&["snapshot", "--format", "xml"]);
    assert_eq!(out.status.code(), Some(2), "clap's usage error code");
    assert!(String::from_utf8_lossy(&out.stderr).contains("xml"));
}

#[test]
fn without_root_other_users_sockets_get_a_note_and_exit_is_0() {
    if common::effective_uid() != Some(0) {
        eprintln!("skipped: needs root to drop to an unprivileged user (CI runs as root)");
        return;
    }
    // A socket owned by root (this test), seen by an unprivileged user.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let _serial = serial();
    let out = Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
        .arg(env!("CARGO_BIN_EXE_sockscope"))
        .args(["snapshot", "--format", "json"])
        .output()
        .expect("setpriv (util-linux) runs");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.stderr.is_empty(),
        "no error spam: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let ours = v["sockets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["local_port"] == port)
        .unwrap();
    assert_eq!(ours["pids"], serde_json::json!([]));
    assert_eq!(ours["owner_note"], "not_permitted");
    assert_eq!(
        ours["user"], "root",
        "the kernel still tells the socket's user"
    );
}

fn write_snapshot_file(
    dir: &std::path::Path,
    name: &str,
    extra_listener: Option<&TcpListener>,
) -> PathBuf {
    let _keep = extra_listener;
    let path = dir.join(name);
    let out = sockscope(&["snapshot", "-o", path.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    path
}

#[test]
fn diff_prints_one_line_per_change_and_json_on_request() {
    let temp = common::temp_dir();
    let d = temp.path();
    let before = write_snapshot_file(d, "before.json", None);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let after = write_snapshot_file(d, "after.json", Some(&listener));
    let out = sockscope(&["diff", before.to_str().unwrap(), after.to_str().unwrap()]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let me = std::fs::read_to_string("/proc/self/comm")
        .unwrap()
        .trim()
        .to_owned();
    let expected = format!(
        "+ tcp 127.0.0.1:{port} -> *:* LISTEN {me}[{}]",
        std::process::id()
    );
    assert!(
        text.lines().any(|l| l == expected),
        "missing {expected:?} in\n{text}"
    );
    assert!(
        text.lines().last().unwrap().starts_with("# "),
        "summary line last"
    );
    let json = sockscope(&[
        "diff",
        "--format",
        "json",
        before.to_str().unwrap(),
        after.to_str().unwrap(),
    ]);
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(v["format"], "sockscope-diff");
    assert_eq!(v["version"], 2);
    assert!(v["unix_opened"].is_array() && v["notes"].is_array());
    assert!(
        v["new_listeners"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["local_port"] == port)
    );
}

#[test]
fn diff_and_open_refuse_bad_files_with_one_line_and_exit_1() {
    let temp = common::temp_dir();
    let d = temp.path();
    let good = write_snapshot_file(d, "good.json", None);
    let cases = [
        ("empty.json", "".to_owned(), "the file is empty"),
        ("bad.json", "{\"format\": 3".to_owned(), "line 1"),
        (
            "v4.json",
            std::fs::read_to_string(&good)
                .unwrap()
                .replacen("\"version\": 4", "\"version\": 5", 1),
            "version",
        ),
    ];
    for (name, contents, expected) in cases {
        let path = d.join(name);
        std::fs::write(&path, contents).unwrap();
        for args in [
            vec!["diff", good.to_str().unwrap(), path.to_str().unwrap()],
            vec!["open", path.to_str().unwrap()],
        ] {
            let out = sockscope(&args);
            assert_eq!(out.status.code(), Some(1), "{args:?}");
            let err = String::from_utf8_lossy(&out.stderr);
            assert_eq!(err.lines().count(), 1, "{err}");
            assert!(
                err.contains(name) && err.contains(expected),
                "{args:?}: {err}"
            );
        }
    }
}

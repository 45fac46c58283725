//! `sockscope close` and `sockscope kill` against real loopback connections and a real child process.
#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly on purpose.

mod common;

use std::io::{ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Output};
use std::time::Duration;

fn sockscope(args: &[&str], as_nobody: bool) -> Output {
    common::run_sockscope(args, as_nobody)
}

/// A loopback connection: (client, server end).
fn connection(listener: &TcpListener) -> (TcpStream, TcpStream) {
    let client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let (server, _) = listener.accept().unwrap();
    for s in [&client, &server] {
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    }
    (client, server)
}

fn is_root() -> bool {
    common::effective_uid() == Some(0)
}

/// Whether the end still carries data both ways.
fn still_open(client: &mut TcpStream, server: &mut TcpStream) -> bool {
    let mut byte = [0u8; 1];
    client.write_all(b"x").is_ok()
        && server.read_exact(&mut byte).is_ok()
        && server.write_all(b"y").is_ok()
        && client.read_exact(&mut byte).is_ok()
}

#[test]
fn close_lists_without_yes_and_closes_exactly_the_matching_connection_with_it() {
    if !is_root() {
        eprintln!("not root: closing needs CAP_NET_ADMIN; skipped");
        return;
    }
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let (mut doomed, mut peer) = connection(&listener);
    let (mut kept_client, mut kept_server) = connection(&listener);
    let port = doomed.local_addr().unwrap().port().to_string();
    let filter = format!("lport:{port}");

    let listed = sockscope(&["close", &filter], false);
    assert!(listed.status.success());
    let text = String::from_utf8_lossy(&listed.stdout);
    assert!(
        text.contains(&format!("would close tcp 127.0.0.1:{port} ->")),
        "{text}"
    );
    assert!(text.contains("1 TCP connection(s) match"), "{text}");
    assert!(still_open(&mut doomed, &mut peer), "listing closes nothing");

    let closed = sockscope(&["close", &filter, "--yes"], false);
    assert!(
        closed.status.success(),
        "{}",
        String::from_utf8_lossy(&closed.stderr)
    );
    // The peer learns of it: a reset (or, had data been in flight, an end of stream).
    let mut buf = [0u8; 8];
    match peer.read(&mut buf) {
        Ok(0) => {}
        Err(e) => assert!(
            matches!(
                e.kind(),
                ErrorKind::ConnectionReset | ErrorKind::ConnectionAborted
            ),
            "{e}"
        ),
        Ok(n) => panic!("the closed connection delivered {n} bytes"),
    }
    assert!(
        still_open(&mut kept_client, &mut kept_server),
        "every other connection stays open"
    );
}

#[test]
fn close_without_cap_net_admin_exits_1_naming_the_capability() {
    if !is_root() {
        eprintln!("not root: cannot switch to nobody; skipped");
        return;
    }
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let (mut client, mut server) = connection(&listener);
    let port = client.local_addr().unwrap().port().to_string();
    let out = sockscope(&["close", &format!("lport:{port}"), "--yes"], true);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("CAP_NET_ADMIN"), "{err}");
    assert_eq!(err.lines().count(), 1, "one line per failure: {err}");
    assert!(still_open(&mut client, &mut server));
}

#[test]
fn close_needs_a_filter_that_parses() {
    assert_eq!(sockscope(&["close", ""], false).status.code(), Some(2));
    let out = sockscope(&["close", "colour:red"], false);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("bad filter"));
}

#[test]
fn kill_ends_a_child_only_with_yes_and_refuses_init() {
    let mut child = Command::new("sleep").arg("30").spawn().unwrap();
    let pid = child.id().to_string();
    let asked = sockscope(&["kill", &pid], false);
    assert!(asked.status.success());
    assert!(String::from_utf8_lossy(&asked.stdout).contains("would send SIGTERM"));
    assert!(
        child.try_wait().unwrap().is_none(),
        "without --yes nothing is sent"
    );

    let sent = sockscope(&["kill", &pid, "--yes"], false);
    assert!(
        sent.status.success(),
        "{}",
        String::from_utf8_lossy(&sent.stderr)
    );
    let status = child.wait().unwrap();
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(status.signal(), Some(15), "ended by SIGTERM");

    let init = sockscope(&["kill", "1", "--yes", "--signal", "kill"], false);
    assert_eq!(init.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&init.stderr).contains("PID 1 is init"));
}

//! `sockscope why-port` against the kernel: for each case the doctor's verdict must equal what a real,
//! plain bind() does on this machine, as root and as an unprivileged user.
#![cfg(target_os = "linux")]
#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly on purpose.

mod common;

use std::net::{IpAddr, SocketAddr};
use std::process::Command;

use socket2::{Domain, Socket, Type};

fn sockscope(args: &[&str], as_nobody: bool) -> serde_json::Value {
    let out = common::run_sockscope(args, as_nobody);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn ty(proto: &str) -> Type {
    if proto == "udp" {
        Type::DGRAM
    } else {
        Type::STREAM
    }
}

/// A plain bind (no socket options), in this process.
fn bind_here(proto: &str, addr: SocketAddr) -> bool {
    let socket = Socket::new(Domain::for_address(addr), ty(proto), None).unwrap();
    socket.bind(&addr.into()).is_ok()
}

/// A plain bind as the unprivileged user nobody, through python3.
fn bind_as_nobody(proto: &str, addr: SocketAddr) -> Option<bool> {
    let (family, kind) = (
        if addr.is_ipv4() {
            "AF_INET"
        } else {
            "AF_INET6"
        },
        if proto == "udp" {
            "SOCK_DGRAM"
        } else {
            "SOCK_STREAM"
        },
    );
    let code = format!(
        "import socket,sys\ns=socket.socket(socket.{family},socket.{kind})\ntry:\n s.bind(('{}',{}))\nexcept OSError:\n sys.exit(3)\n",
        addr.ip(),
        addr.port()
    );
    let status = Command::new("setpriv")
        .args([
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            "/usr/bin/python3",
            "-c",
            &code,
        ])
        .status()
        .ok()?;
    match status.code() {
        Some(0) => Some(true),
        Some(3) => Some(false),
        _ => None,
    }
}

/// True when this test may run commands as nobody: it runs as root, and nobody can execute both python3
/// and the binary (a checkout under a private home directory is not reachable for nobody).
fn can_switch_user() -> bool {
    let as_nobody = |cmd: &[&str]| {
        Command::new("setpriv")
            .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .args(cmd)
            .output()
            .is_ok_and(|o| o.status.success())
    };
    let ok = as_nobody(&["/usr/bin/python3", "-c", "pass"])
        && as_nobody(&[env!("CARGO_BIN_EXE_sockscope"), "--version"]);
    if !ok {
        eprintln!("cannot run commands as nobody here: unprivileged cases skipped");
    }
    ok
}

/// Asks the doctor and the kernel the same question, as root and (when possible) as nobody.
fn agree(proto: &str, addr: &str, port: u16) -> bool {
    let ip: IpAddr = addr.parse().unwrap();
    let target = SocketAddr::new(ip, port);
    let port_text = port.to_string();
    let args = [
        "why-port", &port_text, "--proto", proto, "--addr", addr, "--format", "json",
    ];
    let verdict = sockscope(&args, false);
    let real = bind_here(proto, target);
    assert_eq!(
        verdict["bindable"], real,
        "as root, {proto} {target}: doctor says {verdict}, bind() says {real}"
    );
    assert_eq!(verdict["port"], port);
    assert_eq!(verdict["protocol"], proto);
    assert!(verdict["reasons"].as_array().is_some_and(|r| !r.is_empty()));
    if can_switch_user() {
        let verdict = sockscope(&args, true);
        if let Some(real) = bind_as_nobody(proto, target) {
            assert_eq!(
                verdict["bindable"], real,
                "as nobody, {proto} {target}: doctor says {verdict}, bind() says {real}"
            );
        }
    }
    real
}

fn listener(addr: &str, v6only: Option<bool>) -> (Socket, u16) {
    let addr: SocketAddr = addr.parse().unwrap();
    let s = Socket::new(Domain::for_address(addr), Type::STREAM, None).unwrap();
    if let Some(v6only) = v6only {
        s.set_only_v6(v6only).unwrap();
    }
    s.bind(&addr.into()).unwrap();
    s.listen(8).unwrap();
    let port = s.local_addr().unwrap().as_socket().unwrap().port();
    (s, port)
}

/// A port that nothing uses right now (the kernel's pick, released).
fn free_port(proto: &str) -> u16 {
    let s = Socket::new(Domain::IPV4, ty(proto), None).unwrap();
    s.bind(&"127.0.0.1:0".parse::<SocketAddr>().unwrap().into())
        .unwrap();
    s.local_addr().unwrap().as_socket().unwrap().port()
}

#[test]
fn verdicts_match_real_binds() {
    // A free port.
    let port = free_port("tcp");
    assert!(agree("tcp", "127.0.0.1", port), "a free port binds");

    // A listener on 127.0.0.1 blocks 0.0.0.0 but not 127.0.0.2.
    let (_held, port) = listener("127.0.0.1:0", None);
    assert!(!agree("tcp", "0.0.0.0", port));
    assert!(agree("tcp", "127.0.0.2", port));

    // `::` with IPV6_V6ONLY off takes IPv4 too; with it on, 0.0.0.0 stays free.
    let (_dual, port) = listener("[::]:0", Some(false));
    assert!(!agree("tcp", "0.0.0.0", port));
    let (_only6, port) = listener("[::]:0", Some(true));
    assert!(agree("tcp", "0.0.0.0", port));

    // An outgoing IPv6 connection's local port blocks the IPv4 wildcard, not 127.0.0.1: the kernel gives
    // such a socket a placeholder IPv4 address that only the wildcard collides with.
    // On a busy machine the kernel may give the client a port that an IPv4 socket on 127.0.0.1 holds
    // too (connections only need distinct 4-tuples); such a port is not the case named here, so pick again.
    let (v6_listener, v6_port) = listener("[::1]:0", None);
    let (_client, _accepted, port) = (0..50)
        .find_map(|_| {
            let client = std::net::TcpStream::connect(("::1", v6_port)).unwrap();
            let accepted = v6_listener.accept().unwrap();
            let port = client.local_addr().unwrap().port();
            bind_here("tcp", SocketAddr::new([127, 0, 0, 1].into(), port))
                .then_some((client, accepted, port))
        })
        .expect("an IPv6 client port that no IPv4 socket on 127.0.0.1 holds");
    assert!(!agree("tcp", "0.0.0.0", port));
    assert!(agree("tcp", "127.0.0.1", port));

    // A UDP port held on 0.0.0.0 blocks 127.0.0.1.
    let udp = Socket::new(Domain::IPV4, Type::DGRAM, None).unwrap();
    udp.bind(&"0.0.0.0:0".parse::<SocketAddr>().unwrap().into())
        .unwrap();
    let port = udp.local_addr().unwrap().as_socket().unwrap().port();
    assert!(!agree("udp", "127.0.0.1", port));
}

#[test]
fn ports_below_the_unprivileged_threshold() {
    let start: u16 = std::fs::read_to_string("/proc/sys/net/ipv4/ip_unprivileged_port_start")
        .ok()
        .and_then(|t| t.trim().parse().ok())
        .unwrap_or(1024);
    if start == 0 {
        eprintln!("ip_unprivileged_port_start is 0 here: every port is unprivileged");
        return;
    }
    // The highest privileged port that nothing holds on 127.0.0.1.
    let port = (1..start)
        .rev()
        .find(|p| bind_here("tcp", SocketAddr::new([127, 0, 0, 1].into(), *p)))
        .expect("a free privileged port");
    agree("tcp", "127.0.0.1", port);
    if can_switch_user() {
        let verdict = sockscope(
            &[
                "why-port",
                &port.to_string(),
                "--addr",
                "127.0.0.1",
                "--format",
                "json",
            ],
            true,
        );
        assert_eq!(
            verdict["bindable"], false,
            "nobody may not bind {port}: {verdict}"
        );
        assert!(
            verdict["reasons"][0]
                .as_str()
                .unwrap()
                .contains("CAP_NET_BIND_SERVICE")
        );
    }
}

#[test]
fn bad_arguments_exit_2() {
    let bin = env!("CARGO_BIN_EXE_sockscope");
    for args in [
        vec!["why-port", "70000"],
        vec!["why-port", "80", "--proto", "sctp"],
        vec!["why-port", "80", "--addr", "localhost"],
    ] {
        let out = Command::new(bin).args(&args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
    }
}

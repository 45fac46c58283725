//! socket_farm: holds N established TCP connections (2N sockets, both ends here), M UDP sockets on
//! loopback and U Unix stream sockets (a listener at a temporary path per worker, and connections to it
//! with both ends held), spread over enough worker processes to stay under the open-file limit. A load
//! fixture for benchmarks and manual tests of Sockscope; binds 127.0.0.1 / ::1 only and sends no traffic.
//!
//! ```text
//! cargo run --release --example socket_farm -- --conns 10000 [--udp 100] [--unix 10000] [--family 4|6|both] [--hold-s 600]
//! ```
//! Prints `ready conns=N sockets=2N udp=M unix=U workers=K` when everything is open, then holds until it is
//! killed or `--hold-s` runs out. Workers exit when the parent goes away (their stdin closes).
//! Sockets close with SO_LINGER 0 (an RST), leaving no TIME_WAIT behind to skew the next measurement.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream, UdpSocket};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const SLACK: usize = 64;

struct Args {
    conns: usize,
    udp: usize,
    unix: usize,
    family: String,
    hold: Duration,
}

fn parse_args(args: &[String]) -> Result<Args, String> {
    let mut a = Args {
        conns: 1000,
        udp: 0,
        unix: 0,
        family: "4".into(),
        hold: Duration::from_secs(600),
    };
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--conns" | "-n" => a.conns = value()?.parse().map_err(|e| format!("--conns: {e}"))?,
            "--udp" | "-u" => a.udp = value()?.parse().map_err(|e| format!("--udp: {e}"))?,
            "--unix" => a.unix = value()?.parse().map_err(|e| format!("--unix: {e}"))?,
            "--family" => a.family = value()?.clone(),
            "--hold-s" => {
                a.hold =
                    Duration::from_secs_f64(value()?.parse().map_err(|e| format!("--hold-s: {e}"))?)
            }
            other => return Err(format!("unknown argument {other}")),
        }
    }
    if !matches!(a.family.as_str(), "4" | "6" | "both") {
        return Err("--family is 4, 6 or both".into());
    }
    Ok(a)
}

fn open_files_limit() -> usize {
    std::fs::read_to_string("/proc/self/limits")
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("Max open files"))
                .and_then(|l| l.split_whitespace().nth(3))
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or(1024)
}

fn linger_zero(stream: &TcpStream) {
    let _ = socket2::SockRef::from(stream).set_linger(Some(Duration::ZERO));
}

/// `unix` Unix stream sockets: a listener at a temporary path and connections to it, both ends held (the
/// listener counts as one of them).
fn unix_sockets(
    unix: usize,
) -> std::io::Result<(Vec<std::os::unix::net::UnixStream>, Option<UnixListenerAt>)> {
    use std::os::unix::net::{UnixListener, UnixStream};
    if unix == 0 {
        return Ok((Vec::new(), None));
    }
    let path = std::env::temp_dir().join(format!("sockscope-farm-{}.sock", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let listener = UnixListener::bind(&path)?;
    let mut held = Vec::with_capacity(unix);
    for _ in 0..(unix - 1) / 2 {
        held.push(UnixStream::connect(&path)?);
        held.push(listener.accept()?.0);
    }
    Ok((
        held,
        Some(UnixListenerAt {
            _listener: listener,
            path,
        }),
    ))
}

/// A Unix listener and its path, removed when dropped.
struct UnixListenerAt {
    _listener: std::os::unix::net::UnixListener,
    path: std::path::PathBuf,
}

impl Drop for UnixListenerAt {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// A worker: opens its share and holds it until stdin closes or the hold time ends.
fn worker(
    conns: usize,
    udp: usize,
    unix: usize,
    family: &str,
    hold: Duration,
) -> std::io::Result<()> {
    let addrs: Vec<&str> = match family {
        "6" => vec!["::1"],
        "both" => vec!["127.0.0.1", "::1"],
        _ => vec!["127.0.0.1"],
    };
    let listeners: Vec<TcpListener> = addrs
        .iter()
        .map(|a| TcpListener::bind((*a, 0)))
        .collect::<Result<_, _>>()?;
    let mut held = Vec::with_capacity(conns * 2);
    for i in 0..conns {
        let l = &listeners[i % listeners.len()];
        let client = TcpStream::connect(l.local_addr()?)?;
        let (server, _) = l.accept()?;
        linger_zero(&client);
        linger_zero(&server);
        held.push(client);
        held.push(server);
    }
    let udps: Vec<UdpSocket> = (0..udp)
        .map(|i| UdpSocket::bind((addrs[i % addrs.len()], 0)))
        .collect::<Result<_, _>>()?;
    let unix_held = unix_sockets(unix)?;
    println!("ready {} {}", held.len(), udps.len());
    std::io::stdout().flush()?;
    // Hold until the parent closes our stdin (or dies), or the time is up.
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .name("stdin-watch".to_owned())
        .spawn(move || {
            let mut sink = Vec::new();
            let _ = std::io::stdin().read_to_end(&mut sink);
            let _ = tx.send(());
        })?;
    let _ = rx.recv_timeout(hold);
    drop((held, udps, listeners, unix_held));
    Ok(())
}

fn main() {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    if argv.first().map(String::as_str) == Some("--worker") {
        run_worker(&argv);
        return;
    }
    let args = match parse_args(&argv) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("socket_farm: {e}");
            std::process::exit(2);
        }
    };
    let per_worker = open_files_limit().saturating_sub(SLACK).clamp(2, 40_000);
    let workers = (2 * args.conns + args.udp + args.unix)
        .div_ceil(per_worker)
        .max(1);
    let exe = match std::env::current_exe() {
        Ok(e) => e,
        Err(e) => {
            eprintln!("socket_farm: {e}");
            std::process::exit(1);
        }
    };
    let started = Instant::now();
    let mut children = spawn_workers(&exe, &args, workers);
    await_ready(&mut children);
    println!(
        "ready conns={} sockets={} udp={} unix={} workers={} in {:.1}s",
        args.conns,
        args.conns * 2,
        args.udp,
        args.unix,
        workers,
        started.elapsed().as_secs_f64()
    );
    let _ = std::io::stdout().flush();
    // Hold until killed or the time runs out. Killed, our end of each worker's stdin pipe closes and the
    // workers exit on their own.
    std::thread::sleep(args.hold);
    for mut c in children {
        drop(c.stdin.take());
        let _ = c.wait();
    }
}

/// A worker process: `--worker CONNS UDP FAMILY HOLD_S UNIX`, as the parent starts it.
fn run_worker(argv: &[String]) {
    let number = |i: usize| argv.get(i).and_then(|s| s.parse::<usize>().ok());
    let hold = Duration::from_secs_f64(argv.get(4).and_then(|s| s.parse().ok()).unwrap_or(600.0));
    let unix = number(5).unwrap_or(0);
    if let (Some(c), Some(u), Some(family)) = (number(1), number(2), argv.get(3)) {
        if let Err(e) = worker(c, u, unix, family, hold) {
            eprintln!("socket_farm worker: {e}");
            std::process::exit(1);
        }
    }
}

/// Starts `workers` copies of this program as workers, sharing the connections and UDP sockets out.
fn spawn_workers(exe: &Path, args: &Args, workers: usize) -> Vec<Child> {
    let mut children = Vec::new();
    for i in 0..workers {
        let conns = args.conns / workers + usize::from(i < args.conns % workers);
        let udp = args.udp / workers + usize::from(i < args.udp % workers);
        let unix = args.unix / workers + usize::from(i < args.unix % workers);
        let child = Command::new(exe)
            .args([
                "--worker",
                &conns.to_string(),
                &udp.to_string(),
                &args.family,
            ])
            .arg(args.hold.as_secs_f64().to_string())
            .arg(unix.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn();
        match child {
            Ok(c) => children.push(c),
            Err(e) => {
                eprintln!("socket_farm: cannot start worker: {e}");
                std::process::exit(1);
            }
        }
    }
    children
}

/// Waits for every worker's `ready` line; if one fails, kills them all and exits.
fn await_ready(children: &mut [Child]) {
    for c in children.iter_mut() {
        let mut line = String::new();
        if let Some(out) = c.stdout.take() {
            let _ = BufReader::new(out).read_line(&mut line);
        }
        if !line.starts_with("ready") {
            eprintln!("socket_farm: a worker failed to open its sockets");
            for c in children.iter_mut() {
                let _ = c.kill();
            }
            std::process::exit(1);
        }
    }
}

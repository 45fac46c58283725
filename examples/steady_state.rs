//! Collector cost in steady state: samples this machine at a fixed interval as the window's collector
//! does (owner scan cached between samples), and prints the CPU time each sample costs the sampling
//! thread, read from `/proc/thread-self/stat`.
//!
//! ```text
//! cargo run --release --example steady_state -- [--samples 30] [--interval-ms 1000]
//! ```
//! Prints one line per sample and a summary: sockets, median and max CPU ms per sample.

use std::time::{Duration, Instant};

use sockscope::collector::{SocketSource, SystemSource, SystemSourceOptions};

/// utime + stime of the calling thread, in clock ticks (USER_HZ = 100 on Linux).
fn thread_cpu_ticks() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").ok()?;
    // Fields after the command name, which ends at the last ')'.
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(utime + stime)
}

fn arg(args: &[String], name: &str, default: u64) -> u64 {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let samples = arg(&args, "--samples", 30);
    let interval = Duration::from_millis(arg(&args, "--interval-ms", 1000));
    let mut source = SystemSource::new(SystemSourceOptions {
        owner_cache: sockscope::collector::LIVE_OWNER_CACHE,
        ..SystemSourceOptions::default()
    });
    let mut cpu_ms = Vec::new();
    let mut wall_ms = Vec::new();
    let mut sockets = 0;
    for i in 0..samples {
        let start = Instant::now();
        let before = thread_cpu_ticks().unwrap_or(0);
        let snap = match source.sample() {
            Ok(s) => s,
            Err(e) => {
                eprintln!("sample failed: {e}");
                return;
            }
        };
        let cpu = (thread_cpu_ticks().unwrap_or(0) - before) * 10;
        let wall = start.elapsed();
        sockets = snap.sockets.len();
        println!(
            "sample {i:3}: {sockets} sockets, cpu {cpu} ms, wall {} ms",
            wall.as_millis()
        );
        cpu_ms.push(cpu);
        wall_ms.push(wall.as_millis());
        std::thread::sleep(interval.saturating_sub(wall));
    }
    // The first sample scans every process's fds; the steady state is what follows.
    let steady = &mut cpu_ms[1..];
    steady.sort_unstable();
    let total: u64 = steady.iter().sum();
    println!(
        "steady state over {} samples of {sockets} sockets: cpu per sample median {} ms, mean {:.1} ms, max {} ms",
        steady.len(),
        steady[steady.len() / 2],
        total as f64 / steady.len() as f64,
        steady.last().copied().unwrap_or(0)
    );
}

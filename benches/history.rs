//! Memory and chart cost of an hour of history: 3 600 samples of 20 000 sockets fed to the app's store,
//! then the Charts view drawn from it. `cargo bench --bench history`.
//!
//! Targets (issue 4): whole-process RSS ≤ 120 MB after the hour; charts ≤ 2 ms per frame.

use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use sockscope::collector::{CollectError, SocketSource};
use sockscope::model::history::SampleStats;
use sockscope::model::snapshot::{PortRange, ProcessInfo, Snapshot};
use sockscope::model::socket::{SocketEntry, TcpState};
use sockscope::ui::SockscopeApp;
use sockscope::ui::settings::{Settings, View};

const SOCKETS: u32 = 20_000;
const SAMPLES: u32 = 3_600;

#[path = "../tests/common/mod.rs"]
mod common;

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

/// Sample `t`: 20 000 connections to a few services, 1 % of them replaced every sample (churn).
fn sample(t: u32) -> Snapshot {
    let mut s = Snapshot::empty(
        "bench",
        Utc.timestamp_opt(1_700_000_000 + i64::from(t), 0)
            .single()
            .unwrap_or_default(),
    );
    s.ephemeral_range = Some(PortRange::LINUX_DEFAULT);
    for i in 0..SOCKETS {
        // Connection i is replaced every 100 samples, staggered: 200 close and 200 open per sample.
        let generation = (t + i % 100) / 100;
        let id = i + generation * SOCKETS;
        let pid = 1000 + i % 300;
        let service = [443u16, 5432, 6379, 8080][(i % 4) as usize];
        let state = if i % 50 == 0 {
            TcpState::TimeWait
        } else {
            TcpState::Established
        };
        let local = std::net::SocketAddr::new(
            [10, 0, 0, 2].into(),
            32768 + u16::try_from(id % 28_000).unwrap_or(0),
        );
        let [.., hi, lo] = id.to_be_bytes();
        let remote = std::net::SocketAddr::new([10, 1, hi, lo].into(), service);
        s.sockets.push(
            SocketEntry::tcp(local, remote, state)
                .with_inode(id + 1)
                .with_uid(1000)
                .with_pids(vec![pid]),
        );
        s.processes.entry(pid).or_insert_with(|| ProcessInfo {
            pid,
            name: format!("client-{}", pid % 40),
            user: Some("app".into()),
            exe: Some("/usr/bin/client".into()),
            cmdline: None,
        });
    }
    s
}

/// Samples made up on demand: [`sample`] of 0, 1, 2…
struct Generated(u32);

impl SocketSource for Generated {
    fn sample(&mut self) -> Result<Snapshot, CollectError> {
        self.0 += 1;
        Ok(sample(self.0 - 1))
    }
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    let ctx = egui::Context::default();
    let settings = Settings {
        view: View::Charts,
        ..Settings::default()
    };
    let mut app = SockscopeApp::with_source(&ctx, Box::new(Generated(0)), settings);
    let before = rss_kib();
    let started = Instant::now();
    for t in 0..SAMPLES {
        let _ = t;
        app.sample_now();
        if t % 600 == 0 {
            common::timed_frame(&ctx, &mut app);
        }
    }
    let fed = started.elapsed();
    // Let the view worker finish with the last sample, then settle.
    for _ in 0..200 {
        common::timed_frame(&ctx, &mut app);
        std::thread::sleep(Duration::from_millis(2));
    }
    let Some(history) = app.published().map(|p| std::sync::Arc::clone(&p.history)) else {
        eprintln!("no sample was published");
        return;
    };
    let per_sample: usize = history
        .iter()
        .map(|s| {
            std::mem::size_of::<SampleStats>()
                + s.top_ports.capacity() * std::mem::size_of_val(&s.top_ports[..].first().copied())
                + (s.top_processes.capacity() + s.close_wait_processes.capacity())
                    * std::mem::size_of::<sockscope::model::history::ProcessCount>()
        })
        .sum::<usize>()
        / history.len().max(1);
    let samples_held = history.len();
    let times: Vec<Duration> = (0..200)
        .map(|_| common::timed_frame(&ctx, &mut app))
        .collect();
    let after = rss_kib();
    println!(
        "fed {SAMPLES} samples of {SOCKETS} sockets in {:.1} s",
        fed.as_secs_f64()
    );
    println!(
        "history: {} samples, ≈{per_sample} bytes each, ≈{:.2} MB in all",
        samples_held,
        (per_sample * samples_held) as f64 / 1e6
    );
    println!(
        "process RSS: {:.1} MB (before feeding {:.1} MB); target ≤ 120 MB",
        after as f64 / 1024.0,
        before as f64 / 1024.0
    );
    println!(
        "charts frame with {samples_held} points per series: median {:.3} ms (n=200); target ≤ 2 ms",
        median(times).as_secs_f64() * 1000.0
    );
}

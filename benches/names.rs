//! UI-thread frame time while 1 000 distinct peer addresses are being named, against the same window
//! with Names off: the lookups run on the resolver threads and the store thread, so the window's frames
//! must not grow. `cargo bench --bench names`.
//!
//! The lookup is a stand-in that takes 5 ms per address and answers from a table: the real resolver
//! would send DNS queries for addresses /etc/hosts does not know, and a benchmark sends no traffic.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use sockscope::collector::ReplaySource;
use sockscope::collector::resolver::Lookup;
use sockscope::model::snapshot::Snapshot;
use sockscope::model::socket::TcpState;
use sockscope::ui::SockscopeApp;
use sockscope::ui::settings::Settings;

#[path = "../tests/common/mod.rs"]
mod common;

const PEERS: u16 = 1000;
/// Frames timed per case, one every 10 ms: about as long as naming all peers takes.
const FRAMES: usize = 150;

/// A client holding one connection to each of 1 000 distinct loopback-range peers.
fn machine() -> Snapshot {
    let mut s = Snapshot::empty("bench", common::at(0));
    for i in 0..PEERS {
        let [hi, lo] = i.to_be_bytes();
        let peer = format!("127.1.{hi}.{lo}:443");
        let local = format!("127.0.0.1:{}", 40_000 + i);
        s.sockets.push(common::owned(
            common::tcp(&local, &peer, TcpState::Established),
            4242,
            u32::from(i) + 1,
        ));
    }
    common::add_process(&mut s, 4242, "client", Some("alice"));
    s
}

/// Names every address after 5 ms, as a slow resolver would.
fn slow_lookup() -> Lookup {
    Arc::new(|ip: IpAddr| {
        std::thread::sleep(Duration::from_millis(5));
        Some(format!("host-{ip}.example"))
    })
}

fn main() {
    println!(
        "UI-thread frame time with {PEERS} peers, {FRAMES} frames 10 ms apart (layout + tessellation):"
    );
    for names in [false, true] {
        let (mut times, named) = measure(names);
        times.sort();
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        println!(
            "  Names {}: median {:.2} ms, p95 {:.2} ms, max {:.2} ms ({named} peers named by the end)",
            if names { "on " } else { "off" },
            ms(times[times.len() / 2]),
            ms(times[times.len() * 95 / 100]),
            ms(times[times.len() - 1]),
        );
    }
}

fn measure(names: bool) -> (Vec<Duration>, usize) {
    let ctx = egui::Context::default();
    let settings = Settings {
        interval_ms: 3_600_000,
        resolve_names: names,
        ..Settings::default()
    };
    let source = Box::new(ReplaySource::repeating(vec![machine()]));
    let mut app =
        SockscopeApp::with_threads(&ctx, source, settings).with_name_lookup(slow_lookup());
    if !app.wait_for_store(Duration::from_secs(60)) {
        eprintln!("no sample arrived");
        return (vec![Duration::ZERO], 0);
    }
    let mut times = Vec::with_capacity(FRAMES);
    for _ in 0..FRAMES {
        let started = Instant::now();
        times.push(common::timed_frame(&ctx, &mut app));
        std::thread::sleep(Duration::from_millis(10).saturating_sub(started.elapsed()));
    }
    let named = app.shown().map_or(0, |v| v.input.hosts.len());
    (times, named)
}

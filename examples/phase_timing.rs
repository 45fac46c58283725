//! Times each phase of one live sample (kernel dump, owner scan, full sample, JSON), for profiling.
//! `cargo run --release --example phase_timing`
use std::time::Instant;

use sockscope::collector::{InodeOwners, SocketSource, SystemSource, SystemSourceOptions};
use sockscope::export::json::{ExportOptions, write_json};
use sockscope::services::registry::Registry;

fn main() {
    let t = Instant::now();
    let owners = InodeOwners::scan(std::path::Path::new("/proc"));
    let scan = t.elapsed();
    let t = Instant::now();
    let mut source = SystemSource::new(SystemSourceOptions::default());
    let setup = t.elapsed();
    let t = Instant::now();
    let snap = source.sample();
    let sample = t.elapsed();
    let Ok(snap) = snap else { return };
    let t = Instant::now();
    let registry = Registry::global();
    let reg = t.elapsed();
    let t = Instant::now();
    let mut out = std::io::sink();
    let _ = write_json(&mut out, &snap, registry, ExportOptions::default());
    let json = t.elapsed();
    println!(
        "sockets={} owner-inodes={} | owner scan {scan:?} | source setup {setup:?} | full sample {sample:?} | registry {reg:?} | json {json:?}",
        snap.sockets.len(),
        owners.map(|o| o.by_inode.len()).unwrap_or(0)
    );
}

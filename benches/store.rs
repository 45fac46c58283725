//! The store thread's work per sample: ingest (diff, history, budget, alerts, marks, traffic) plus the
//! publication (rows filtered and sorted, port index, traffic sums, port lines), at 20 000 and 100 000
//! sockets. `cargo bench --bench store`.
//!
//! This is the work the window's thread no longer does (issue 11): it runs on the thread named `store`.

use std::hint::black_box;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use sockscope::model::snapshot::Snapshot;
use sockscope::services::registry::Registry;
use sockscope::view::{StoreCore, StoreInput};

#[path = "../tests/common/mod.rs"]
mod common;

/// Builds a sample of `n` sockets.
type Shape = fn(usize) -> Snapshot;

/// Two samples one second apart, built by `make`: a tenth of the sockets replaced.
fn samples(n: usize, make: Shape) -> [Snapshot; 2] {
    let first = make(n);
    let mut second = first.clone();
    second.taken_at = common::at(1);
    let replaced = make(n + n / 10);
    for (i, s) in replaced.sockets[n..].iter().enumerate() {
        second.sockets[i * 10] = s.clone();
    }
    [first, second]
}

fn bench_ingest(c: &mut Criterion) {
    let mut group = c.benchmark_group("store_sample");
    group.sample_size(10);
    // A busy server (four ports) and the loopback farm the window benchmark runs (a port per client).
    let shapes: [(&str, Shape); 2] = [("", common::busy_server), ("farm_", common::loopback_farm)];
    for ((shape, make), n) in shapes
        .into_iter()
        .flat_map(|shape| [20_000, 100_000].map(|n| (shape, n)))
    {
        let samples = samples(n, make);
        let mut core = StoreCore::new(3600, Registry::global());
        core.apply(StoreInput::Sample(Box::new(samples[0].clone()), None));
        let _ = core.publish();
        let mut turn = 0usize;
        group.bench_function(format!("ingest_and_publish_{shape}{n}"), |b| {
            b.iter_batched(
                || {
                    turn += 1;
                    Box::new(samples[turn % 2].clone())
                },
                |sample| {
                    core.apply(StoreInput::Sample(sample, None));
                    black_box(core.publish())
                },
                BatchSize::LargeInput,
            );
        });
    }
    group.finish();
}

criterion_group!(benches, bench_ingest);
criterion_main!(benches);

//! Frame cost of the window and sort/filter cost of the sockets table at 100 000 sockets.
//!
//! `cargo bench --bench ui`. Targets (issue 3): frame ≤ 2 ms median with 100 000 sockets in the table;
//! re-sorting 100 000 rows ≤ 20 ms.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use sockscope::collector::ReplaySource;
use sockscope::model::history::History;
use sockscope::model::ports::PortsIndex;
use sockscope::model::store::Store;
use sockscope::services::registry::Registry;
use sockscope::ui::SockscopeApp;
use sockscope::ui::settings::Settings;
use sockscope::view::filter::Filter;
use sockscope::view::rows::{SortColumn, SortSpec, ViewInput, compute_rows};

#[path = "../tests/common/mod.rs"]
mod common;

use common::busy_server as big_snapshot;

fn bench_sort(c: &mut Criterion) {
    let mut store = Store::new(History::DEFAULT_CAPACITY, Registry::global());
    store.ingest(big_snapshot(100_000), None);
    let input = ViewInput::from_store(&store).unwrap_or_else(|| unreachable!());
    let ports = PortsIndex::build(&input.snapshot);
    let registry = Registry::global();
    let filter = Filter::default();
    let mut group = c.benchmark_group("rows_100k");
    group.sample_size(20);
    for column in [
        SortColumn::LocalPort,
        SortColumn::RemoteAddress,
        SortColumn::Process,
        SortColumn::Service,
    ] {
        let sort = SortSpec {
            column,
            ascending: false,
        };
        group.bench_function(format!("sort_by_{column:?}"), |b| {
            b.iter(|| black_box(compute_rows(&input, &filter, sort, &ports, registry)))
        });
    }
    let filter = Filter::parse("port:5432 !state:time_wait");
    group.bench_function("filter_port_and_state", |b| {
        b.iter(|| {
            black_box(compute_rows(
                &input,
                &filter,
                SortSpec::default(),
                &ports,
                registry,
            ))
        })
    });
    let filter = Filter::parse("worker-7");
    group.bench_function("filter_free_text", |b| {
        b.iter(|| {
            black_box(compute_rows(
                &input,
                &filter,
                SortSpec::default(),
                &ports,
                registry,
            ))
        })
    });
    group.finish();
}

fn bench_frame(c: &mut Criterion) {
    let ctx = egui::Context::default();
    let mut app = SockscopeApp::with_source(
        &ctx,
        Box::new(ReplaySource::new([big_snapshot(100_000)])),
        Settings::default(),
    );
    app.sample_now();
    let input = || egui::RawInput {
        screen_rect: Some(egui::Rect::from_min_size(
            egui::Pos2::ZERO,
            egui::vec2(1280.0, 800.0),
        )),
        ..Default::default()
    };
    let _ = ctx.run_ui(input(), |ui| app.show(ui));
    assert!(
        app.shown().is_some_and(|v| v.rows.len() == 100_000),
        "the table holds 100 000 rows"
    );
    c.bench_function("frame_100k_sockets_table", |b| {
        b.iter(|| black_box(ctx.run_ui(input(), |ui| app.show(ui))))
    });
}

criterion_group!(benches, bench_sort, bench_frame);
criterion_main!(benches);

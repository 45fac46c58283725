//! UI-thread time of the frame that first draws a newly arrived 100 000-socket sample, through the real
//! collector → store → window threads. `cargo bench --bench arrival`.
//!
//! For each view (Sockets, Sockets with the inspector open, Ports, Charts, Socket vs port) it takes 12 samples, waits for the store
//! thread's publication, and times the next frame on this thread: layout plus tessellation, as eframe does
//! before handing the meshes to the GPU. Target (issue 11): no such frame over 16 ms.

use std::time::Duration;

use sockscope::collector::ReplaySource;
use sockscope::model::snapshot::Snapshot;
use sockscope::ui::SockscopeApp;
use sockscope::ui::settings::{Settings, View};

#[path = "../tests/common/mod.rs"]
mod common;

const SOCKETS: usize = 100_000;
const ARRIVALS: usize = 12;

/// Samples that alternate, so every arrival has opened and closed sockets to mark.
fn samples() -> Vec<Snapshot> {
    let first = common::busy_server(SOCKETS);
    let replaced = common::busy_server(SOCKETS + SOCKETS / 10);
    (0..=ARRIVALS + 1)
        .map(|i| {
            let mut s = first.clone();
            s.taken_at = common::at(i64::try_from(i).unwrap_or(0));
            if i % 2 == 1 {
                for (j, r) in replaced.sockets[SOCKETS..].iter().enumerate() {
                    s.sockets[j * 10] = r.clone();
                }
            }
            s
        })
        .collect()
}

fn main() {
    println!(
        "frame that first draws a new {SOCKETS}-socket sample (UI thread, layout + tessellation):"
    );
    for (view, inspect) in [
        (View::Sockets, false),
        (View::Sockets, true),
        (View::Ports, false),
        (View::Charts, false),
        (View::Learn, false),
    ] {
        let (mut times, store) = match measure(view, inspect) {
            Ok(measured) => measured,
            Err(why) => {
                eprintln!("{why}");
                return;
            }
        };
        times.sort();
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        println!(
            "  {view:?}{}: median {:.1} ms, max {:.1} ms over {ARRIVALS} arrivals (store thread: {store:.0} ms per publication); target ≤ 16 ms",
            if inspect { " + inspector" } else { "" },
            ms(times[times.len() / 2]),
            ms(times[times.len() - 1]),
        );
    }
}

/// Runs the window threads on `view` (with the inspector open if `inspect`) and times the frame after
/// each arrival; also returns the store thread's last publication time in ms.
fn measure(view: View, inspect: bool) -> Result<(Vec<Duration>, f64), &'static str> {
    let ctx = egui::Context::default();
    let settings = Settings {
        view,
        interval_ms: 3_600_000,
        ..Settings::default()
    };
    let mut app =
        SockscopeApp::with_threads(&ctx, Box::new(ReplaySource::repeating(samples())), settings);
    let wait = Duration::from_secs(120);
    if !app.wait_for_store(wait) {
        return Err("no sample arrived");
    }
    // Settle: fonts, first layout; and open the inspector on one socket in the sockets view.
    for _ in 0..3 {
        common::timed_frame(&ctx, &mut app);
    }
    if inspect {
        inspect_first_row(&ctx, &mut app, wait)?;
    }
    let mut times = Vec::new();
    for _ in 0..ARRIVALS {
        let serial = app.published().map_or(0, |p| p.serial);
        app.sample_now();
        if !app.wait_until(wait, |p| p.serial > serial && p.view.is_some()) {
            return Err("a sample did not arrive");
        }
        times.push(common::timed_frame(&ctx, &mut app));
        common::timed_frame(&ctx, &mut app);
    }
    let store = app
        .published()
        .map_or(0.0, |p| p.computed_in.as_secs_f64() * 1000.0);
    Ok((times, store))
}

/// Selects the first row's socket, waits for its explanation and draws it once.
fn inspect_first_row(
    ctx: &egui::Context,
    app: &mut SockscopeApp,
    wait: Duration,
) -> Result<(), &'static str> {
    let key = app
        .shown()
        .and_then(|v| v.rows.first().and_then(|r| v.input.socket(*r)))
        .map(sockscope::model::socket::SocketEntry::key);
    app.select(key);
    if !app.wait_for_store(wait) {
        return Err("the selection was not answered");
    }
    common::timed_frame(ctx, app);
    Ok(())
}

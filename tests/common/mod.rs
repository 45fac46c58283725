//! Test support in one place, for the integration tests and the benchmarks (`#[path]`-included there):
//! socket and process builders, temporary directories, and the window under kittest.
#![allow(dead_code, unreachable_pub)] // Each test crate uses a part of it.

use std::net::SocketAddr;
use std::sync::Arc;

use chrono::{DateTime, TimeZone, Utc};
use egui_kittest::Harness;
use sockscope::collector::ReplaySource;
use sockscope::model::snapshot::{ProcessInfo, Snapshot};
use sockscope::model::socket::{SocketEntry, TcpState};
use sockscope::ui::SockscopeApp;
use sockscope::ui::dialogs::ScriptedDialogs;
use sockscope::ui::settings::Settings;

/// A fixed instant plus `secs`: tests never depend on the clock.
#[must_use]
pub fn at(secs: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(1_700_000_000 + secs, 0)
        .single()
        .unwrap_or_else(|| unreachable!("a fixed, valid instant"))
}

/// `"127.0.0.1:80"` or `"[::1]:80"` as an address; panics on a typo in a test.
#[must_use]
pub fn addr(text: &str) -> SocketAddr {
    text.parse()
        .unwrap_or_else(|e| panic!("bad test address {text:?}: {e}"))
}

/// A TCP socket from `local` to `remote` (`"0.0.0.0:0"` for a listener) in `state`, with no owner.
#[must_use]
pub fn tcp(local: &str, remote: &str, state: TcpState) -> SocketEntry {
    SocketEntry::tcp(addr(local), addr(remote), state)
}

/// A UDP socket on `local`, connected to `peer` when given.
#[must_use]
pub fn udp(local: &str, peer: Option<&str>) -> SocketEntry {
    SocketEntry::udp(addr(local), peer.map(addr))
}

/// `socket` owned by process `pid` through `inode`, created by user 1000.
#[must_use]
pub fn owned(socket: SocketEntry, pid: u32, inode: u32) -> SocketEntry {
    socket.with_inode(inode).with_uid(1000).with_pids(vec![pid])
}

/// Adds process `pid` named `name`, run by `user`, to `snapshot`.
pub fn add_process(snapshot: &mut Snapshot, pid: u32, name: &str, user: Option<&str>) {
    snapshot.processes.insert(
        pid,
        ProcessInfo {
            pid,
            name: name.to_owned(),
            user: user.map(str::to_owned),
            exe: None,
            cmdline: None,
        },
    );
}

/// An empty snapshot of host `h` taken at [`at`]`(secs)`.
#[must_use]
pub fn snapshot_at(secs: i64, sockets: Vec<SocketEntry>) -> Snapshot {
    Snapshot {
        sockets,
        ..Snapshot::empty("h", at(secs))
    }
}

/// This process's effective uid, from `/proc/self/status` (tests that need root check it).
#[must_use]
pub fn effective_uid() -> Option<u32> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("Uid:"))?;
    line.split_whitespace().nth(2)?.parse().ok()
}

/// A fresh directory, removed with everything in it when the value drops (also when the test fails).
#[must_use]
pub fn temp_dir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("sockscope-test-")
        .tempdir()
        .unwrap_or_else(|e| panic!("cannot create a temporary directory: {e}"))
}

/// A named pipe at `dir/name` and a thread named `fifo-reader` that reads it to the end: a target that
/// is not a regular file, like a device, without touching the machine's real devices.
#[must_use]
pub fn fifo_with_reader(
    dir: &std::path::Path,
    name: &str,
) -> (std::path::PathBuf, std::thread::JoinHandle<Vec<u8>>) {
    let path = dir.join(name);
    let made = std::process::Command::new("mkfifo")
        .arg(&path)
        .status()
        .unwrap_or_else(|e| panic!("cannot run mkfifo: {e}"));
    assert!(made.success(), "mkfifo {} failed", path.display());
    let reader_path = path.clone();
    let reader = std::thread::Builder::new()
        .name("fifo-reader".to_owned())
        .spawn(move || std::fs::read(&reader_path).unwrap_or_default())
        .unwrap_or_else(|e| panic!("cannot start the reader: {e}"));
    (path, reader)
}

/// `n` sockets like a busy server's: four listening services with many accepted connections from 500
/// processes, one in ten in TIME_WAIT. Deterministic, for benchmarks.
#[must_use]
pub fn busy_server(n: usize) -> Snapshot {
    let mut s = Snapshot::empty("bench", at(0));
    for i in 0..n {
        let i32 = u32::try_from(i).unwrap_or(u32::MAX);
        let pid = 1000 + i32 % 500;
        let lport = [443u16, 5432, 8080, 6379][i % 4];
        let peer = format!(
            "10.{}.{}.{}:{}",
            (i >> 16) & 255,
            (i >> 8) & 255,
            i & 255,
            32768 + (i % 28000)
        );
        let state = if i % 10 == 0 {
            TcpState::TimeWait
        } else {
            TcpState::Established
        };
        let socket = tcp(&format!("10.0.0.1:{lport}"), &peer, state)
            .with_inode(i32 + 1)
            .with_uid(33)
            .with_pids(vec![pid]);
        s.sockets.push(socket);
        if !s.processes.contains_key(&pid) {
            add_process(
                &mut s,
                pid,
                &format!("worker-{}", pid % 37),
                Some("www-data"),
            );
        }
    }
    s
}

/// `n` sockets as `socket-farm.py` holds them: `n / 2` loopback connections with both ends on this host,
/// spread over six worker processes that each listen on their own port. Every client end has its own
/// ephemeral port, so the port index has about `n / 2` ports (a busy server has four).
pub fn loopback_farm(n: usize) -> Snapshot {
    let mut s = Snapshot::empty("bench", at(0));
    for i in 0..n / 2 {
        let i32 = u32::try_from(i).unwrap_or(u32::MAX);
        let worker = i32 % 6;
        let pid = 2000 + worker;
        let service = format!("127.0.0.1:{}", 20_000 + worker);
        let client = format!("127.0.0.1:{}", 32_768 + i % 28_000);
        let uid = 1000;
        s.sockets.push(
            tcp(&service, &client, TcpState::Established)
                .with_inode(2 * i32 + 1)
                .with_uid(uid)
                .with_pids(vec![pid]),
        );
        s.sockets.push(
            tcp(&client, &service, TcpState::Established)
                .with_inode(2 * i32 + 2)
                .with_uid(uid)
                .with_pids(vec![pid]),
        );
        if !s.processes.contains_key(&pid) {
            add_process(&mut s, pid, "python3", Some("farm"));
        }
    }
    s
}

/// Runs one headless frame of `app` at 1280×800 and returns its time on this thread: layout plus
/// tessellation, as eframe does before handing the meshes to the GPU. For benchmarks.
pub fn timed_frame(ctx: &egui::Context, app: &mut SockscopeApp) -> std::time::Duration {
    let input = egui::RawInput {
        screen_rect: Some(egui::Rect::from_min_size(
            egui::Pos2::ZERO,
            egui::vec2(1280.0, 800.0),
        )),
        ..Default::default()
    };
    let start = std::time::Instant::now();
    let output = ctx.run_ui(input, |ui| app.show(ui));
    let _ = ctx.tessellate(output.shapes, output.pixels_per_point);
    start.elapsed()
}

/// The window at 1400×900, as a person sees it.
fn window(
    build: impl FnOnce(&egui::Context) -> SockscopeApp + 'static,
) -> Harness<'static, SockscopeApp> {
    Harness::builder()
        .with_size(egui::vec2(1400.0, 900.0))
        // The inspector's grids size their columns over a few frames when the selection changes.
        .with_max_steps(8)
        .allow_missing_glyphs()
        .build_eframe(move |cc| build(&cc.egui_ctx))
}

/// The window fed `snapshots` one per [`SockscopeApp::sample_now`], computed on the test's thread; the
/// first is shown already.
#[must_use]
pub fn window_replaying(
    snapshots: Vec<Snapshot>,
    settings: Settings,
) -> Harness<'static, SockscopeApp> {
    window_with_dialogs(snapshots, settings, ScriptedDialogs::new([]))
}

/// As [`window_replaying`], with file dialogs that answer from a script.
#[must_use]
pub fn window_with_dialogs(
    snapshots: Vec<Snapshot>,
    settings: Settings,
    dialogs: ScriptedDialogs,
) -> Harness<'static, SockscopeApp> {
    let mut h = window(move |ctx| {
        SockscopeApp::with_source(ctx, Box::new(ReplaySource::new(snapshots)), settings)
            .with_dialogs(Arc::new(dialogs))
    });
    h.state_mut().sample_now();
    h.run();
    h
}

/// The window fed through the real collector and store threads by a source that replays `snapshots`
/// (then repeats the last). Sampled once at start, then only on [`SockscopeApp::sample_now`].
#[must_use]
pub fn window_threaded(
    snapshots: Vec<Snapshot>,
    settings: Settings,
) -> Harness<'static, SockscopeApp> {
    let settings = Settings {
        interval_ms: 3_600_000,
        ..settings
    };
    window(move |ctx| {
        SockscopeApp::with_threads(ctx, Box::new(ReplaySource::repeating(snapshots)), settings)
    })
}

/// Actions that only record what they were asked, for window tests: no connection is closed and no
/// process is signalled.
#[derive(Debug, Default)]
pub struct RecordingActions {
    asked: std::sync::Mutex<Vec<String>>,
}

impl RecordingActions {
    /// What was asked so far: `close <socket>` or `end <pid> <signal>`.
    pub fn asked(&self) -> Vec<String> {
        self.record().clone()
    }

    fn record(&self) -> std::sync::MutexGuard<'_, Vec<String>> {
        self.asked
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl sockscope::collector::actions::Actions for RecordingActions {
    fn close(&self, socket: &SocketEntry) -> Result<(), sockscope::model::failure::Failure> {
        self.record().push(format!("close {socket}"));
        Ok(())
    }

    fn end(
        &self,
        pid: u32,
        signal: sockscope::collector::actions::EndSignal,
    ) -> Result<(), sockscope::model::failure::Failure> {
        self.record().push(format!("end {pid} {}", signal.name()));
        Ok(())
    }
}

/// As [`window_replaying`] (repeating the last sample), with the app adjusted by `configure` before its
/// first frame.
#[must_use]
pub fn window_configured(
    snapshots: Vec<Snapshot>,
    settings: Settings,
    configure: impl FnOnce(SockscopeApp) -> SockscopeApp + 'static,
) -> Harness<'static, SockscopeApp> {
    let mut h = window(move |ctx| {
        configure(SockscopeApp::with_source(
            ctx,
            Box::new(ReplaySource::repeating(snapshots)),
            settings,
        ))
    });
    h.state_mut().sample_now();
    h.run();
    h
}

/// As [`window_replaying`], acting through `actions`.
#[must_use]
pub fn window_with_actions(
    snapshots: Vec<Snapshot>,
    settings: Settings,
    actions: Arc<RecordingActions>,
) -> Harness<'static, SockscopeApp> {
    window_configured(snapshots, settings, move |app| app.with_actions(actions))
}

/// Runs the `sockscope` binary with `args`, as root or, with `as_nobody`, as user nobody (uid 65534,
/// no capabilities), and returns what it printed.
pub fn run_sockscope(args: &[&str], as_nobody: bool) -> std::process::Output {
    let bin = env!("CARGO_BIN_EXE_sockscope");
    let mut command = if as_nobody {
        let mut c = std::process::Command::new("setpriv");
        c.args(["--reuid=65534", "--regid=65534", "--clear-groups", bin]);
        c
    } else {
        std::process::Command::new(bin)
    };
    command
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run sockscope {args:?}: {e}"))
}

/// As [`window_replaying`], looking host names up with `lookup` (no DNS query) once Names is on.
#[must_use]
pub fn window_with_names(
    snapshots: Vec<Snapshot>,
    settings: Settings,
    lookup: sockscope::collector::resolver::Lookup,
) -> Harness<'static, SockscopeApp> {
    window_configured(snapshots, settings, move |app| app.with_name_lookup(lookup))
}

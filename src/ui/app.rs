//! The Sockscope window: drains the collector into the store, lays out the panels, applies their commands.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, channel};
use std::time::Duration;

use crate::collector::{
    Collector, CollectorEvent, SocketSource, SystemSource, SystemSourceOptions,
};
use crate::model::snapshot::Snapshot;
use crate::model::socket::{Protocol, SocketEntry, SocketKey};
use crate::model::store::Store;

use super::charts::Charts;
use super::command::{Command, ExportRequest};
use super::dialogs::{FileDialogs, FileKind, NativeDialogs, run_job};
use super::diff_view::{DiffView, Shown};
use super::export_window::ExportWindow;
use super::filter::Filter;
use super::inspector::Inspector;
use super::learn::LearnPage;
use super::ports_table::PortsTable;
use super::rows::{RowRef, SortSpec, ViewInput};
use super::settings::{STORAGE_KEY, Settings, View};
use super::sockets_table::SocketsTable;
use super::status_bar::StatusBar;
use super::toolbar::{Toolbar, ToolbarState, filter_id};
use super::view_worker::{ComputedView, ViewWorker};
use crate::export::atomic::write_atomically;
use crate::export::json::ExportOptions;
use crate::export::read::open_snapshot;
use crate::model::compare::Comparison;
use crate::model::privilege::Privilege;
use crate::services::registry::Registry;

/// Where samples come from.
enum Feed {
    /// The collector thread, sending events through a channel.
    Thread {
        collector: Collector,
        events: Receiver<CollectorEvent>,
    },
    /// A source sampled on demand on the UI thread: tests and replays.
    Manual { source: Box<dyn SocketSource> },
}

fn file_name(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

/// What a file job (dialog + I/O, possibly on the dialog thread) reports back.
enum Outcome {
    Saved { path: PathBuf, sockets: usize },
    Opened(PathBuf, Snapshot),
    Compare(PathBuf, Snapshot),
    Failed(String),
    Cancelled,
}

/// A snapshot file being shown instead of live data.
struct FileSource {
    path: PathBuf,
    store: Store,
}

/// The app: store, feed, view cache, panels and selection.
pub struct SockscopeApp {
    store: Store,
    feed: Feed,
    settings: Settings,
    filter: Filter,
    worker: ViewWorker,
    shown: Option<ComputedView>,
    shown_key: Option<(u64, String, SortSpec)>,
    frozen: Option<ViewInput>,
    selected: Option<SocketKey>,
    selected_entry: Option<(SocketEntry, bool)>,
    selected_port: Option<(Protocol, u16)>,
    scroll_to: Option<usize>,
    message: Option<String>,
    message_is_error: bool,
    toolbar: Toolbar,
    sockets_table: SocketsTable,
    ports_table: PortsTable,
    inspector: Inspector,
    status_bar: StatusBar,
    charts: Charts,
    dialogs: Arc<dyn FileDialogs>,
    jobs: Vec<Receiver<Outcome>>,
    file: Option<FileSource>,
    comparison: Option<Shown>,
    export_window: ExportWindow,
    diff_view: DiffView,
    learn: LearnPage,
    /// What this process may bind, for the doctor's answers about live data.
    live_privilege: Privilege,
}

impl SockscopeApp {
    /// The real app: settings from eframe storage, live sampling on the collector thread.
    #[must_use]
    pub fn new(cc: &eframe::CreationContext<'_>) -> Self {
        let settings: Settings = cc
            .storage
            .and_then(|s| eframe::get_value(s, STORAGE_KEY))
            .unwrap_or_default();
        let source = SystemSource::new(SystemSourceOptions {
            with_cmdline: false,
            owner_cache: crate::collector::LIVE_OWNER_CACHE,
        });
        let (tx, rx) = channel();
        let ctx = cc.egui_ctx.clone();
        let interval = Duration::from_millis(settings.interval_ms);
        let feed = match Collector::spawn(Box::new(source), interval, move |event| {
            // The window may be gone at shutdown; nothing to do then.
            let _ = tx.send(event);
            ctx.request_repaint();
        }) {
            Ok(collector) => Feed::Thread {
                collector,
                events: rx,
            },
            Err(e) => {
                let mut app = Self::build(
                    &cc.egui_ctx,
                    Feed::Manual {
                        source: Box::new(crate::collector::ReplaySource::default()),
                    },
                    settings,
                );
                app.store
                    .record_error(format!("cannot start the collector thread: {e}"));
                return app;
            }
        };
        let mut app = Self::build(&cc.egui_ctx, feed, settings);
        app.live_privilege = crate::collector::current_privilege();
        app
    }

    /// An app fed by `source` only when [`SockscopeApp::sample_now`] is called: for tests and replays,
    /// with no thread and no sleeps.
    #[must_use]
    pub fn with_source(
        ctx: &egui::Context,
        source: Box<dyn SocketSource>,
        settings: Settings,
    ) -> Self {
        Self::build(ctx, Feed::Manual { source }, settings)
    }

    fn build(ctx: &egui::Context, feed: Feed, mut settings: Settings) -> Self {
        let ctx = ctx.clone();
        let filter = Filter::parse(&settings.filter);
        // A comparison is never restored between runs: a remembered Diff view would show nothing.
        if settings.view == View::Diff {
            settings.view = View::Sockets;
        }
        Self {
            store: Store::with_history_capacity(settings.history_samples),
            feed,
            filter,
            settings,
            worker: ViewWorker::new(Arc::new(move || ctx.request_repaint())),
            shown: None,
            shown_key: None,
            frozen: None,
            selected: None,
            selected_entry: None,
            selected_port: None,
            scroll_to: None,
            message: None,
            message_is_error: false,
            toolbar: Toolbar::default(),
            sockets_table: SocketsTable,
            ports_table: PortsTable::default(),
            inspector: Inspector,
            status_bar: StatusBar,
            charts: Charts::default(),
            dialogs: Arc::new(NativeDialogs),
            jobs: Vec::new(),
            file: None,
            comparison: None,
            export_window: ExportWindow::default(),
            diff_view: DiffView,
            learn: LearnPage::default(),
            live_privilege: Privilege::Unknown,
        }
    }

    /// Takes a sample now: synchronously for a manual source, by waking the thread otherwise.
    pub fn sample_now(&mut self) {
        match &mut self.feed {
            Feed::Manual { source } => match source.sample() {
                Ok(snapshot) => {
                    self.store.ingest(snapshot, None);
                }
                Err(e) => self.store.record_error(e.to_string()),
            },
            Feed::Thread { collector, .. } => collector.sample_now(),
        }
    }

    /// Feeds a snapshot directly, as if sampled.
    pub fn ingest(&mut self, snapshot: Snapshot) {
        self.store.ingest(snapshot, None);
    }

    /// Uses `dialogs` for Export, Open and Compare (tests pass scripted ones).
    #[must_use]
    pub fn with_dialogs(mut self, dialogs: Arc<dyn FileDialogs>) -> Self {
        self.dialogs = dialogs;
        self
    }

    /// Shows a snapshot file, read-only, instead of live data.
    pub fn show_file(&mut self, path: PathBuf, snapshot: Snapshot) {
        let mut store = Store::default();
        store.ingest(snapshot, None);
        self.file = Some(FileSource { path, store });
        self.frozen = None;
        self.shown_key = None;
        if self.settings.view == View::Charts || self.settings.view == View::Diff {
            self.settings.view = View::Sockets;
        }
    }

    /// The file shown instead of live data, if any.
    #[must_use]
    pub fn shown_file(&self) -> Option<&Path> {
        self.file.as_ref().map(|f| f.path.as_path())
    }

    /// The comparison shown in the Diff view, if any.
    #[must_use]
    pub fn comparison(&self) -> Option<&Comparison> {
        self.comparison.as_ref().map(|c| &c.comparison)
    }

    /// The message in the status bar, if any.
    #[must_use]
    pub fn message(&self) -> Option<&str> {
        self.message.as_deref()
    }

    /// The store the window reads.
    #[must_use]
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The current settings.
    #[must_use]
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The selected socket, if any.
    #[must_use]
    pub fn selected(&self) -> Option<SocketKey> {
        self.selected
    }

    /// What the tables show now.
    #[must_use]
    pub fn shown(&self) -> Option<&ComputedView> {
        self.shown.as_ref()
    }

    /// The charts panel (where it drew its bars).
    #[must_use]
    pub fn charts(&self) -> &Charts {
        &self.charts
    }

    /// The privilege the doctor answers for: this process's for live data, unknown for a file.
    fn privilege(&self) -> Privilege {
        if self.file.is_some() {
            Privilege::Unknown
        } else {
            self.live_privilege
        }
    }

    /// True while the view is frozen.
    #[must_use]
    pub fn is_paused(&self) -> bool {
        self.frozen.is_some()
    }

    fn drain_events(&mut self) {
        let Feed::Thread { events, .. } = &self.feed else {
            return;
        };
        while let Ok(event) = events.try_recv() {
            match event {
                CollectorEvent::Sample { snapshot, took, .. } => {
                    self.store.ingest(snapshot, Some(took));
                }
                CollectorEvent::Error { message, .. } => self.store.record_error(message),
            }
        }
    }

    /// Recomputes rows when the data, filter or sort changed; picks up worker results.
    fn refresh_view(&mut self) {
        if let Some(done) = self.worker.poll() {
            self.shown = Some(done);
            self.resolve_selection();
        }
        let input = match (&self.frozen, &self.file) {
            (Some(frozen), _) => Some(frozen.clone()),
            (None, Some(file)) => ViewInput::from_store(&file.store).map(|input| ViewInput {
                ages_known: false,
                ..input
            }),
            (None, None) => ViewInput::from_store(&self.store),
        };
        let Some(input) = input else { return };
        let key = (
            input.generation,
            self.settings.filter.clone(),
            self.settings.sort,
        );
        if self.shown_key.as_ref() == Some(&key) {
            return;
        }
        self.shown_key = Some(key);
        if let Some(done) = self.worker.request(input, &self.filter, self.settings.sort) {
            self.shown = Some(done);
            self.resolve_selection();
        }
    }

    /// Finds the selected socket in what is shown (once per change, not per frame).
    fn resolve_selection(&mut self) {
        let (Some(key), Some(view)) = (self.selected, &self.shown) else {
            return;
        };
        let live = view
            .input
            .snapshot
            .sockets
            .iter()
            .find(|s| s.key() == key)
            .or_else(|| {
                // A socket picked in the Diff view may exist only in the earlier snapshot.
                self.comparison
                    .as_ref()
                    .and_then(|c| c.find(key))
                    .filter(|_| self.settings.view == View::Diff)
            });
        self.selected_entry = match live {
            Some(s) => Some((s.clone(), false)),
            // Gone: keep showing it as last seen, marked closed.
            None => self.selected_entry.take().map(|(s, _)| (s, true)),
        };
    }

    fn row_index(&self, key: SocketKey) -> Option<usize> {
        let view = self.shown.as_ref()?;
        view.rows.iter().position(|r| {
            view.input
                .socket(*r)
                .is_some_and(|s| s.key() == key && !matches!(r, RowRef::Closed(_)))
        })
    }

    fn handle_keys(&mut self, ctx: &egui::Context) -> Vec<Command> {
        let mut commands = Vec::new();
        let typing = ctx.memory(|m| m.focused().is_some());
        let (ctrl_s, ctrl_o) = ctx.input_mut(|i| {
            (
                i.consume_key(egui::Modifiers::COMMAND, egui::Key::S),
                i.consume_key(egui::Modifiers::COMMAND, egui::Key::O),
            )
        });
        if ctrl_s {
            commands.push(Command::ShowExport);
        }
        if ctrl_o {
            commands.push(Command::OpenFile);
        }
        let (ctrl_f, esc, space, down, up) = ctx.input_mut(|i| {
            (
                i.consume_key(egui::Modifiers::COMMAND, egui::Key::F),
                i.key_pressed(egui::Key::Escape),
                !typing && i.consume_key(egui::Modifiers::NONE, egui::Key::Space),
                !typing && i.consume_key(egui::Modifiers::NONE, egui::Key::ArrowDown),
                !typing && i.consume_key(egui::Modifiers::NONE, egui::Key::ArrowUp),
            )
        });
        if ctrl_f {
            self.toolbar.focus_filter = true;
        }
        if esc {
            if ctx.memory(|m| m.has_focus(filter_id())) {
                ctx.memory_mut(|m| m.surrender_focus(filter_id()));
            } else {
                commands.push(Command::SelectSocket(None));
            }
        }
        if space {
            commands.push(Command::TogglePause);
        }
        if (down || up) && self.settings.view == View::Sockets {
            if let Some(view) = &self.shown {
                let len = view.rows.len();
                let current = self.selected.and_then(|k| self.row_index(k));
                let next = match (current, down) {
                    (None, true) => Some(0),
                    (None, false) => len.checked_sub(1),
                    (Some(i), true) => Some((i + 1).min(len.saturating_sub(1))),
                    (Some(i), false) => Some(i.saturating_sub(1)),
                };
                if let Some(next) = next.filter(|n| *n < len) {
                    if let Some(s) = view.rows.get(next).and_then(|r| view.input.socket(*r)) {
                        commands.push(Command::SelectSocket(Some(s.key())));
                        self.scroll_to = Some(next);
                    }
                }
            }
        }
        commands
    }

    /// Applies one command; returns whether anything shown changed.
    fn apply(&mut self, ctx: &egui::Context, command: Command) -> bool {
        match command {
            Command::SelectSocket(key) => {
                if self.selected == key {
                    return false;
                }
                self.selected = key;
                self.selected_entry = None;
                self.resolve_selection();
            }
            Command::SelectPort(port) => {
                if self.selected_port == port {
                    return false;
                }
                self.selected_port = port;
            }
            Command::SetFilter(text) => {
                if self.settings.filter == text {
                    return false;
                }
                self.filter = Filter::parse(&text);
                self.settings.filter = text;
            }
            Command::SetSort(sort) => self.settings.sort = sort,
            Command::SetView(view) => self.settings.view = view,
            // An opened file never changes: there is nothing to freeze, and freezing the live store
            // behind it would show live data under the file's name when the file is closed.
            Command::TogglePause if self.file.is_some() => {}
            Command::TogglePause => {
                self.frozen = match self.frozen.take() {
                    Some(_) => None,
                    None => ViewInput::from_store(&self.store),
                };
            }
            Command::SetInterval(interval) => {
                self.settings.interval_ms = u64::try_from(interval.as_millis()).unwrap_or(1000);
                if let Feed::Thread { collector, .. } = &self.feed {
                    collector.set_interval(interval);
                }
            }
            Command::SetHistorySamples(n) => {
                self.settings.history_samples = n;
                self.store.set_history_capacity(n);
            }
            Command::DismissError => {
                self.store.dismiss_error();
                self.message = None;
            }
            Command::Copy(text) => {
                ctx.copy_text(text);
                self.say("Copied to the clipboard.", false);
            }
            Command::ShowExport => self.export_window.open = true,
            Command::Export(request) => self.start_export(ctx, request),
            Command::OpenFile => {
                self.start_job(ctx, |d| match d.open("Open a Sockscope snapshot") {
                    None => Outcome::Cancelled,
                    Some(path) => match open_snapshot(&path) {
                        Ok(snapshot) => Outcome::Opened(path, snapshot),
                        Err(e) => Outcome::Failed(e.to_string()),
                    },
                })
            }
            Command::CompareWithFile => self.start_job(ctx, |d| {
                match d.open("Compare with a snapshot (the earlier one)") {
                    None => Outcome::Cancelled,
                    Some(path) => match open_snapshot(&path) {
                        Ok(snapshot) => Outcome::Compare(path, snapshot),
                        Err(e) => Outcome::Failed(e.to_string()),
                    },
                }
            }),
            Command::BackToLive => {
                self.file = None;
                self.comparison = None;
                self.shown_key = None;
                if self.settings.view == View::Diff {
                    self.settings.view = View::Sockets;
                }
            }
        }
        true
    }

    /// Runs a file job: inline for dialogs that do not block, else on the dialog thread.
    fn start_job(
        &mut self,
        ctx: &egui::Context,
        job: impl FnOnce(&dyn FileDialogs) -> Outcome + Send + 'static,
    ) {
        if !self.jobs.is_empty() {
            self.say("A file dialog is already open: finish it first.", true);
            return;
        }
        let dialogs = Arc::clone(&self.dialogs);
        let inline = !dialogs.blocks();
        let waker = ctx.clone();
        self.jobs.push(run_job(
            inline,
            move || job(&*dialogs),
            move || waker.request_repaint(),
        ));
    }

    /// Exports what is shown (the live, frozen or opened snapshot), all of it or the filtered rows.
    fn start_export(&mut self, ctx: &egui::Context, request: ExportRequest) {
        let Some(view) = &self.shown else {
            self.say("Nothing to export yet: no sample has arrived.", true);
            return;
        };
        // The job gets the shared snapshot and rows; any copying happens on the dialog thread.
        let shown = Arc::clone(&view.input.snapshot);
        let rows = request.filtered_only.then(|| Arc::clone(&view.rows));
        self.start_job(ctx, move |dialogs| {
            let path = match request
                .path
                .clone()
                .or_else(|| dialogs.save("Export snapshot", &request.default_name, request.kind))
            {
                Some(p) if p.extension().is_none() => p.with_extension(request.kind.extension()),
                Some(p) => p,
                None => return Outcome::Cancelled,
            };
            let filtered;
            let snapshot: &Snapshot = match &rows {
                None => &shown,
                Some(rows) => {
                    let sockets = rows
                        .iter()
                        .filter_map(|r| match r {
                            RowRef::Live(i) => shown.sockets.get(*i as usize).cloned(),
                            RowRef::Closed(_) => None,
                        })
                        .collect();
                    filtered = Snapshot {
                        sockets,
                        taken_at: shown.taken_at,
                        host: shown.host.clone(),
                        ephemeral_range: shown.ephemeral_range,
                        processes: shown.processes.clone(),
                        users: shown.users.clone(),
                        notes: shown.notes.clone(),
                        machine: shown.machine.clone(),
                    };
                    &filtered
                }
            };
            let registry = Registry::global();
            let options = ExportOptions {
                with_cmdline: request.with_cmdline,
            };
            let written = write_atomically(&path, |w| match request.kind {
                FileKind::Json | FileKind::Snapshot => {
                    crate::export::json::write_json(w, snapshot, registry, options)
                }
                FileKind::Csv => crate::export::csv::write_csv(w, snapshot, registry),
                FileKind::Html => crate::export::html::write_html(w, snapshot, registry),
            });
            match written {
                Ok(()) => Outcome::Saved {
                    path,
                    sockets: snapshot.sockets.len(),
                },
                Err(e) => Outcome::Failed(format!("Export failed: {e}")),
            }
        });
    }

    /// Takes in finished file jobs.
    fn drain_jobs(&mut self) {
        let mut outcomes = Vec::new();
        self.jobs.retain(|rx| match rx.try_recv() {
            Ok(outcome) => {
                outcomes.push(outcome);
                false
            }
            Err(std::sync::mpsc::TryRecvError::Empty) => true,
            Err(std::sync::mpsc::TryRecvError::Disconnected) => {
                outcomes.push(Outcome::Failed(
                    "the file dialog could not be started".to_owned(),
                ));
                false
            }
        });
        for outcome in outcomes {
            match outcome {
                Outcome::Saved { path, sockets } => self.say(
                    &format!("Saved {sockets} sockets to {}", path.display()),
                    false,
                ),
                Outcome::Failed(reason) => self.say(&reason, true),
                Outcome::Opened(path, snapshot) => {
                    self.message = None;
                    self.show_file(path, snapshot);
                }
                Outcome::Compare(path, before) => {
                    let after_label = self
                        .file
                        .as_ref()
                        .map_or_else(|| "live".to_owned(), |f| file_name(&f.path));
                    let after = self.shown.as_ref().map_or_else(
                        || Arc::new(Snapshot::empty("none", before.taken_at)),
                        |v| Arc::clone(&v.input.snapshot),
                    );
                    let comparison = Comparison::between(&before, &after);
                    self.comparison = Some(Shown {
                        before_label: file_name(&path),
                        after_label,
                        before,
                        after,
                        comparison,
                    });
                    self.settings.view = View::Diff;
                    self.message = None;
                }
                Outcome::Cancelled => {}
            }
        }
    }

    /// Shows a message in the status bar; errors in the error colour.
    fn say(&mut self, text: &str, is_error: bool) {
        self.message = Some(text.to_owned());
        self.message_is_error = is_error;
    }

    /// Draws one frame into `ui` (the whole window).
    pub fn show(&mut self, ui: &mut egui::Ui) {
        let ctx = ui.ctx().clone();
        self.drain_events();
        self.drain_jobs();
        let mut commands = self.handle_keys(&ctx);
        self.refresh_view();

        let interval = Duration::from_millis(self.settings.interval_ms);
        egui::Panel::top("toolbar").show(ui, |ui| {
            ui.add_space(2.0);
            let state = ToolbarState {
                view: self.settings.view,
                paused: self.frozen.is_some(),
                interval,
                filter_text: &self.settings.filter,
                filter: &self.filter,
                has_comparison: self.comparison.is_some(),
            };
            commands.extend(self.toolbar.ui(ui, &state));
            ui.add_space(2.0);
        });
        if self.file.is_some() || (self.comparison.is_some() && self.settings.view == View::Diff) {
            egui::Panel::top("banner").show(ui, |ui| {
                ui.horizontal(|ui| {
                    let text = match (&self.file, &self.comparison) {
                        (Some(file), _) if self.settings.view != View::Diff => {
                            let snap = file.store.current();
                            format!(
                                "Viewing {} — host {}, taken {} — read-only",
                                file.path.display(),
                                snap.map_or("?", |s| s.host.as_str()),
                                snap.map_or_else(String::new, |s| s
                                    .taken_at
                                    .with_timezone(&chrono::Local)
                                    .format("%Y-%m-%d %H:%M:%S")
                                    .to_string())
                            )
                        }
                        (_, Some(c)) => format!(
                            "Comparing {} (before) with {} (after)",
                            c.before_label, c.after_label
                        ),
                        _ => String::new(),
                    };
                    ui.label(egui::RichText::new(text).strong());
                    if ui.button("Back to live").clicked() {
                        commands.push(Command::BackToLive);
                    }
                });
            });
        }
        if let Some(view) = &self.shown {
            let snap = &view.input.snapshot;
            let default_name = format!(
                "sockscope-{}-{}",
                snap.host
                    .replace(|c: char| !c.is_ascii_alphanumeric() && c != '-', "_"),
                snap.taken_at
                    .with_timezone(&chrono::Local)
                    .format("%Y%m%d-%H%M%S")
            );
            let live_rows = view
                .rows
                .iter()
                .filter(|r| matches!(r, RowRef::Live(_)))
                .count();
            commands.extend(self.export_window.ui(
                &ctx,
                live_rows,
                snap.sockets.len(),
                self.dialogs.available(),
                &default_name,
            ));
        }
        // Live sampling problems belong to live data: over an opened file, only the file's own notes show.
        let shown_store = self.file.as_ref().map_or(&self.store, |f| &f.store);
        let live_error = self
            .file
            .is_none()
            .then(|| self.store.last_error())
            .flatten();
        let message = match (live_error, &self.message) {
            (Some(error), _) => Some((error.to_owned(), true)),
            (None, Some(text)) => Some((text.clone(), self.message_is_error)),
            // What the collector could not see (a refused kernel dump and the fallback used).
            (None, None) => shown_store
                .current()
                .and_then(|s| s.notes.first())
                .map(|note| (note.clone(), true)),
        };
        egui::Panel::bottom("status").show(ui, |ui| {
            commands.extend(self.status_bar.ui(
                ui,
                self.shown.as_ref(),
                &self.store,
                self.frozen.is_some(),
                message.as_ref().map(|(t, e)| (t.as_str(), *e)),
            ));
        });
        if let (Some((socket, closed)), Some(view), true) = (
            &self.selected_entry,
            &self.shown,
            !matches!(self.settings.view, View::Charts | View::Learn),
        ) {
            let height = ui.available_height();
            egui::Panel::bottom("inspector")
                .resizable(true)
                .default_size(height * 0.5)
                .min_size(120.0)
                .show(ui, |ui| {
                    commands.extend(self.inspector.ui(ui, socket, *closed, view));
                });
        }
        egui::CentralPanel::default().show(ui, |ui| match (&self.shown, self.settings.view) {
            (None, _) => {
                ui.centered_and_justified(|ui| ui.label("Waiting for the first sample…"));
            }
            (Some(view), View::Sockets) => {
                let scroll_to = self.scroll_to.take();
                commands.extend(self.sockets_table.ui(
                    ui,
                    view,
                    self.selected,
                    self.settings.sort,
                    scroll_to,
                ));
            }
            (Some(view), View::Ports) => {
                commands.extend(
                    self.ports_table.ui(
                        ui,
                        view,
                        self.selected_port,
                        self.selected,
                        self.privilege(),
                    ),
                );
            }
            (Some(view), View::Learn) => commands.extend(self.learn.ui(ui, view)),
            (Some(_), View::Diff) => match &self.comparison {
                Some(shown) => commands.extend(self.diff_view.ui(ui, shown, self.selected)),
                None => {
                    ui.label("No comparison yet: use Compare… to compare a saved snapshot with what is shown.");
                }
            },
            (Some(_), View::Charts) => {
                let until = self.frozen.as_ref().map(|f| f.snapshot.taken_at);
                commands.extend(self.charts.ui(
                    ui,
                    self.store.history(),
                    until,
                    self.store.budget(),
                    self.store.close_wait_alerts(),
                    self.shown.as_ref(),
                ));
            }
        });
        let mut changed = false;
        for command in commands {
            changed |= self.apply(&ctx, command);
        }
        if changed {
            // Commands are applied after the panels drew; draw again so the change shows now.
            ctx.request_repaint();
        }
    }
}

impl eframe::App for SockscopeApp {
    fn logic(&mut self, _ctx: &egui::Context, _frame: &mut eframe::Frame) {
        // Also runs while the window is hidden, so the history has no gaps.
        self.drain_events();
    }

    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        self.show(ui);
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        eframe::set_value(storage, STORAGE_KEY, &self.settings);
    }
}

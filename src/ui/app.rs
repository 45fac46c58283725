//! The Sockscope window: takes the store's newest publication, lays out the panels, applies their
//! commands.
//!
//! Nothing heavy happens here. Samples go collector → store thread (see [`Feed`]); the store publishes an
//! immutable [`Published`] with the rows, ports and history already computed, and this thread swaps that
//! pointer, sends the user's view requests (filter, sort, selection) back and draws. File jobs run on the
//! dialog thread ([`FileJobs`]).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use super::act::ActionJobs;
use super::banner;
use super::charts::Charts;
use super::command::Command;
use super::confirm::{Confirm, Pending};
use super::dialogs::{FileDialogs, NativeDialogs};
use super::diff_view::{DiffView, Shown};
use super::export_window::ExportWindow;
use super::feed::Feed;
use super::files::{FileJobs, Outcome, file_name};
use super::inspector::Inspector;
use super::keys::{self, Step};
use super::learn::LearnPage;
use super::ports_table::PortsTable;
use super::settings::{STORAGE_KEY, Settings, View};
use super::sockets_table::SocketsTable;
use super::status_bar::{StatusBar, StatusMessage};
use super::toolbar::{Toolbar, ToolbarState};
use super::unix_table::UnixTable;
use crate::collector::actions::{Actions, SystemActions, close_refusal, end_refusal};
use crate::collector::{ReplaySource, SocketSource, SystemSource, SystemSourceOptions};
use crate::model::compare::Comparison;
use crate::model::failure::{Failure, FailureKind};
use crate::model::ports::PortKey;
use crate::model::privilege::Privilege;
use crate::model::snapshot::Snapshot;
use crate::model::socket::{SocketEntry, SocketKey};
use crate::services::registry::Registry;
use crate::view::filter::Filter;
use crate::view::rows::RowRef;
use crate::view::{ComputedView, Published, Showing, StoreInput, ViewRequest};

/// The selected socket as the inspector shows it.
struct Selection {
    key: SocketKey,
    /// The request that selected it: publications older than this do not know about it yet.
    since: u64,
    /// The socket as last found, and whether it is gone since.
    entry: Option<(SocketEntry, bool)>,
}

/// The app: feed, the newest publication, settings, panels and selection.
pub struct SockscopeApp {
    feed: Feed,
    published: Option<Arc<Published>>,
    settings: Settings,
    /// The filter as parsed here too, for the toolbar's hints (rows are filtered by the store).
    filter: Filter,
    request: ViewRequest,
    selection: Option<Selection>,
    selected_port: Option<PortKey>,
    scroll_to: Option<usize>,
    message: Option<StatusMessage>,
    files: FileJobs,
    comparison: Option<Shown>,
    toolbar: Toolbar,
    sockets_table: SocketsTable,
    ports_table: PortsTable,
    unix_table: UnixTable,
    inspector: Inspector,
    status_bar: StatusBar,
    charts: Charts,
    export_window: ExportWindow,
    diff_view: DiffView,
    learn: LearnPage,
    /// What this process may bind, for the doctor's answers about live data.
    live_privilege: Privilege,
    /// The question before a destructive action.
    confirm: Confirm,
    /// Whether the remembered Names setting was applied (on the first frame, after any builder such
    /// as [`SockscopeApp::with_name_lookup`] had its say).
    names_applied: bool,
    /// Confirmed actions running off this thread.
    actions: ActionJobs,
}

impl SockscopeApp {
    /// The real app: settings from eframe storage, this machine sampled on the collector thread.
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
        let mut app = Self::with_threads(&cc.egui_ctx, Box::new(source), settings);
        app.live_privilege = crate::collector::current_privilege();
        app
    }

    /// An app fed by `source` through the real collector and store threads.
    #[must_use]
    pub fn with_threads(
        ctx: &egui::Context,
        source: Box<dyn SocketSource>,
        settings: Settings,
    ) -> Self {
        let waker = ctx.clone();
        let feed = Feed::threads(
            source,
            Duration::from_millis(settings.interval_ms),
            settings.history_samples,
            Registry::global(),
            Arc::new(move || waker.request_repaint()),
        );
        match feed {
            Ok(feed) => Self::build(feed, settings),
            Err(e) => {
                // Files can still be opened; say why nothing live shows.
                let mut feed = Feed::inline(
                    Box::new(ReplaySource::default()),
                    settings.history_samples,
                    Registry::global(),
                );
                feed.send(StoreInput::Collected(
                    crate::collector::CollectorEvent::Error {
                        generation: 0,
                        failure: Failure::new(
                            FailureKind::of_io(&e),
                            format!("cannot start the store thread: {e}"),
                        ),
                    },
                ));
                Self::build(feed, settings)
            }
        }
    }

    /// An app fed by `source` only when [`SockscopeApp::sample_now`] is called, computed on the calling
    /// thread: for step-by-step tests, with no threads and no sleeps.
    #[must_use]
    pub fn with_source(
        _ctx: &egui::Context,
        source: Box<dyn SocketSource>,
        settings: Settings,
    ) -> Self {
        let feed = Feed::inline(source, settings.history_samples, Registry::global());
        Self::build(feed, settings)
    }

    fn build(mut feed: Feed, mut settings: Settings) -> Self {
        // A comparison is never restored between runs: a remembered Diff view would show nothing.
        if settings.view == View::Diff {
            settings.view = View::Sockets;
        }
        let request = ViewRequest {
            id: 1,
            filter: settings.filter.clone(),
            sort: settings.sort,
            unix_sort: settings.unix_sort,
            selected: None,
            page: settings.view == View::Learn,
        };
        feed.send(StoreInput::View(request.clone()));
        Self {
            feed,
            published: None,
            filter: Filter::parse(&settings.filter),
            settings,
            request,
            selection: None,
            selected_port: None,
            scroll_to: None,
            message: None,
            files: FileJobs::new(Arc::new(NativeDialogs)),
            comparison: None,
            toolbar: Toolbar::default(),
            sockets_table: SocketsTable,
            ports_table: PortsTable::default(),
            unix_table: UnixTable::default(),
            inspector: Inspector::default(),
            status_bar: StatusBar,
            charts: Charts::default(),
            export_window: ExportWindow::default(),
            diff_view: DiffView::default(),
            learn: LearnPage,
            live_privilege: Privilege::Unknown,
            confirm: Confirm::default(),
            names_applied: false,
            actions: ActionJobs::new(Arc::new(SystemActions)),
        }
    }

    /// Takes a sample now: synchronously for an inline feed, by waking the collector otherwise.
    pub fn sample_now(&mut self) {
        self.feed.sample_now();
        self.take_published();
    }

    /// Waits up to `timeout` until the store has published an answer to every request sent so far, with
    /// something to show, and takes it. For tests driving the real threads: no sleeps, no polling.
    /// Returns false on timeout.
    pub fn wait_for_store(&mut self, timeout: Duration) -> bool {
        let id = self.request.id;
        self.wait_until(timeout, |p| p.answers >= id && p.view.is_some())
    }

    /// Waits up to `timeout` for a publication that satisfies `done` (the one already taken counts), and
    /// takes it. Returns false on timeout.
    pub fn wait_until(&mut self, timeout: Duration, done: impl Fn(&Published) -> bool) -> bool {
        self.take_published();
        if self.published.as_deref().is_some_and(&done) {
            return true;
        }
        match self.feed.wait_for(timeout, done) {
            Some(p) => {
                self.receive(p);
                true
            }
            None => false,
        }
    }

    /// Uses `dialogs` for Export, Open and Compare (tests pass scripted ones).
    #[must_use]
    pub fn with_dialogs(mut self, dialogs: Arc<dyn FileDialogs>) -> Self {
        self.files = FileJobs::new(dialogs);
        self
    }

    /// Closes connections and ends processes through `actions` (tests pass a fake).
    #[must_use]
    pub fn with_actions(mut self, actions: Arc<dyn Actions>) -> Self {
        self.actions = ActionJobs::new(actions);
        self
    }

    /// Looks host names up with `lookup` instead of the system resolver (tests: no DNS query).
    #[must_use]
    pub fn with_name_lookup(mut self, lookup: crate::collector::resolver::Lookup) -> Self {
        self.feed
            .send(StoreInput::UseLookup(crate::view::NameLookup(lookup)));
        self
    }

    /// The confirmation question shown, if any.
    #[must_use]
    pub fn question(&self) -> Option<&str> {
        self.confirm.question()
    }

    /// Shows a snapshot file, read-only, instead of live data.
    pub fn show_file(&mut self, path: PathBuf, snapshot: Snapshot) {
        self.feed.send(StoreInput::ShowFile {
            path,
            snapshot: Box::new(snapshot),
        });
        if matches!(self.settings.view, View::Charts | View::Diff) {
            self.set_view(View::Sockets);
        }
        self.take_published();
    }

    /// What the window shows: live, frozen or a file.
    #[must_use]
    pub fn showing(&self) -> &Showing {
        static LIVE: Showing = Showing::Live;
        self.published.as_ref().map_or(&LIVE, |p| &p.showing)
    }

    /// The file shown instead of live data, if any.
    #[must_use]
    pub fn shown_file(&self) -> Option<&Path> {
        match &self.published.as_ref()?.showing {
            Showing::File { path } => Some(path),
            Showing::Live | Showing::Frozen { .. } => None,
        }
    }

    /// The comparison shown in the Diff view, if any.
    #[must_use]
    pub fn comparison(&self) -> Option<&Comparison> {
        self.comparison.as_ref().map(|c| &c.comparison)
    }

    /// The message in the status bar, if any.
    #[must_use]
    pub fn message(&self) -> Option<&str> {
        self.message.as_ref().map(|m| m.text.as_str())
    }

    /// The newest publication of the store.
    #[must_use]
    pub fn published(&self) -> Option<&Published> {
        self.published.as_deref()
    }

    /// The current settings.
    #[must_use]
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The selected socket, if any.
    #[must_use]
    pub fn selected(&self) -> Option<SocketKey> {
        self.selection.as_ref().map(|s| s.key)
    }

    /// What the tables show now.
    #[must_use]
    pub fn shown(&self) -> Option<&ComputedView> {
        self.published.as_ref()?.view.as_ref()
    }

    /// The charts panel (where it drew its bars).
    #[must_use]
    pub fn charts(&self) -> &Charts {
        &self.charts
    }

    /// True while the view is frozen.
    #[must_use]
    pub fn is_paused(&self) -> bool {
        matches!(self.showing(), Showing::Frozen { .. })
    }

    /// The privilege the doctor answers for: this process's for live data, unknown for a file.
    fn privilege(&self) -> Privilege {
        match self.showing() {
            Showing::File { .. } => Privilege::Unknown,
            Showing::Live | Showing::Frozen { .. } => self.live_privilege,
        }
    }

    /// The view drawn: the Diff view only while there is a comparison.
    fn view(&self) -> View {
        match self.settings.view {
            View::Diff if self.comparison.is_none() => View::Sockets,
            view => view,
        }
    }

    /// Takes the store's newest publication, if any: a pointer swap and a look at the selection.
    fn take_published(&mut self) {
        if let Some(p) = self.feed.take() {
            self.receive(p);
        }
    }

    fn receive(&mut self, published: Arc<Published>) {
        if let Some(old) = self.published.replace(published) {
            self.feed.retire(old);
        }
        self.resolve_selection();
    }

    /// Updates the inspector's socket from the publication (which looked it up on the store thread).
    fn resolve_selection(&mut self) {
        let (Some(sel), Some(p)) = (&mut self.selection, &self.published) else {
            return;
        };
        if p.answers < sel.since {
            return;
        }
        let found = p
            .explained
            .as_ref()
            .filter(|e| e.socket().key() == sel.key)
            .map(|e| (e.socket().clone(), e.closed()))
            .or_else(|| {
                // A socket picked in the Diff view may exist only in the earlier snapshot.
                self.comparison
                    .as_ref()
                    .filter(|_| self.settings.view == View::Diff)
                    .and_then(|c| c.find(sel.key))
                    .map(|s| (s.clone(), false))
            });
        sel.entry = match found {
            Some(entry) => Some(entry),
            // Gone: keep showing it as last seen, marked closed.
            None => sel.entry.take().map(|(s, _)| (s, true)),
        };
    }

    /// Switches the central view; the store writes the Socket vs port page only while it is shown.
    fn set_view(&mut self, view: View) {
        self.settings.view = view;
        let page = view == View::Learn;
        if self.request.page != page {
            self.request.page = page;
            self.send_request();
        }
    }

    fn send_request(&mut self) {
        self.request.id += 1;
        self.feed.send(StoreInput::View(self.request.clone()));
    }

    fn row_index(view: &ComputedView, key: SocketKey) -> Option<usize> {
        view.rows.iter().position(|r| {
            !matches!(r, RowRef::Closed(_)) && view.input.socket(*r).is_some_and(|s| s.key() == key)
        })
    }

    /// The command for an arrow key in the sockets table.
    fn step_selection(&mut self, step: Step) -> Option<Command> {
        let view = self.shown()?;
        let current = self.selected().and_then(|k| Self::row_index(view, k));
        let next = keys::stepped(current, step, view.rows.len())?;
        let key = view
            .rows
            .get(next)
            .and_then(|r| view.input.socket(*r))?
            .key();
        self.scroll_to = Some(next);
        Some(Command::SelectSocket(Some(key)))
    }

    /// Selects a socket for the inspector (or clears the selection); returns whether it changed.
    pub fn select(&mut self, key: Option<SocketKey>) -> bool {
        if self.selected() == key {
            return false;
        }
        self.request.selected = key;
        self.send_request();
        self.selection = key.map(|key| Selection {
            key,
            since: self.request.id,
            entry: None,
        });
        self.take_published();
        true
    }

    /// Applies one command; returns whether anything shown changed.
    fn apply(&mut self, ctx: &egui::Context, command: Command) -> bool {
        match command {
            Command::SelectSocket(key) => self.select(key),
            Command::SelectPort(port) => {
                let changed = self.selected_port != port;
                self.selected_port = port;
                changed
            }
            Command::SetFilter(text) => {
                if self.settings.filter == text {
                    return false;
                }
                self.filter = Filter::parse(&text);
                self.settings.filter.clone_from(&text);
                self.request.filter = text;
                self.send_request();
                true
            }
            Command::SetSort(sort) => {
                self.settings.sort = sort;
                self.request.sort = sort;
                self.send_request();
                true
            }
            Command::SetUnixSort(sort) => {
                self.settings.unix_sort = sort;
                self.request.unix_sort = sort;
                self.send_request();
                true
            }
            Command::SetView(view) => {
                self.set_view(view);
                true
            }
            Command::TogglePause => match self.showing() {
                Showing::Live => {
                    self.feed.send(StoreInput::Freeze);
                    true
                }
                Showing::Frozen { .. } => {
                    self.feed.send(StoreInput::ShowLive);
                    true
                }
                // A file never changes: there is nothing to freeze.
                Showing::File { .. } => false,
            },
            other => {
                self.apply_other(ctx, other);
                true
            }
        }
    }

    /// Applies a command about settings, the clipboard or files.
    fn apply_other(&mut self, ctx: &egui::Context, command: Command) {
        match command {
            Command::SetInterval(interval) => {
                self.settings.interval_ms = u64::try_from(interval.as_millis()).unwrap_or(1000);
                self.feed.set_interval(interval);
            }
            Command::SetHistorySamples(n) => {
                self.settings.history_samples = n;
                self.feed.send(StoreInput::SetHistoryCapacity(n));
            }
            Command::SetNames(on) => {
                self.settings.resolve_names = on;
                self.feed.set_names(on);
            }
            Command::DismissError => {
                self.feed.send(StoreInput::DismissError);
                self.message = None;
            }
            Command::Copy(text) => {
                ctx.copy_text(text);
                self.say("Copied to the clipboard.", false);
            }
            Command::ShowExport => self.export_window.open = true,
            Command::Export(request) => {
                let started = match self.shown() {
                    None => Err("Nothing to export yet: no sample has arrived."),
                    Some(view) => {
                        let view = view.clone();
                        self.files.export(ctx, &view, request)
                    }
                };
                self.refused(started);
            }
            Command::OpenFile => {
                let started = self.files.open(ctx);
                self.refused(started);
            }
            Command::CompareWithFile => self.compare_with_file(ctx),
            Command::BackToLive => {
                self.feed.send(StoreInput::ShowLive);
                self.comparison = None;
                if self.settings.view == View::Diff {
                    self.set_view(View::Sockets);
                }
            }
            Command::AskClose(_)
            | Command::AskEnd { .. }
            | Command::Confirmed
            | Command::Dismissed => self.apply_action(ctx, command),
            // Applied by `apply`.
            Command::SelectSocket(_)
            | Command::SelectPort(_)
            | Command::SetFilter(_)
            | Command::SetSort(_)
            | Command::SetUnixSort(_)
            | Command::SetView(_)
            | Command::TogglePause => {}
        }
    }

    /// Applies a command about closing a connection or ending a process.
    fn apply_action(&mut self, ctx: &egui::Context, command: Command) {
        match command {
            Command::AskClose(socket) => {
                let refusal = self.live_only().or_else(|| close_refusal(&socket));
                self.ask(Pending::Close(socket), refusal);
            }
            Command::AskEnd { pid, signal } => {
                let refusal = self.live_only().or_else(|| end_refusal(pid));
                self.ask(Pending::End { pid, signal }, refusal);
            }
            Command::Confirmed => {
                if let Some((pending, label)) = self.confirm.take() {
                    self.actions.start(ctx, pending, label);
                }
            }
            Command::Dismissed => self.confirm.dismiss(),
            _ => {}
        }
    }

    /// Actions act on this machine now: not on a saved file's sockets.
    fn live_only(&self) -> Option<Failure> {
        matches!(self.showing(), Showing::File { .. }).then(|| {
            Failure::new(
                FailureKind::Unsupported,
                "This is a saved snapshot: go back to live data to act on this machine's sockets.",
            )
        })
    }

    /// Opens the confirmation for `pending`, unless it is refused.
    fn ask(&mut self, pending: Pending, refusal: Option<Failure>) {
        if let Some(failure) = refusal {
            self.message = Some(StatusMessage::failure(&failure));
            return;
        }
        let snapshot = self.published.as_ref().and_then(|p| p.snapshot()).cloned();
        let empty = Snapshot::empty("none", chrono::Utc::now());
        self.confirm
            .ask(pending, snapshot.as_deref().unwrap_or(&empty));
    }

    /// Takes in finished actions: a line in the status bar, and a sample now so the result shows.
    fn take_action_outcomes(&mut self) {
        for outcome in self.actions.finished() {
            match outcome {
                Ok(done) => {
                    self.say(&done, false);
                    self.feed.sample_now();
                }
                Err(failure) => self.message = Some(StatusMessage::failure(&failure)),
            }
        }
    }

    /// Asks for a file to compare, as "before", with what is shown.
    fn compare_with_file(&mut self, ctx: &egui::Context) {
        let after = self
            .published
            .as_ref()
            .and_then(|p| p.snapshot())
            .map_or_else(
                || Arc::new(Snapshot::empty("none", chrono::Utc::now())),
                Arc::clone,
            );
        let label = self
            .shown_file()
            .map_or_else(|| "live".to_owned(), file_name);
        let started = self.files.compare(ctx, after, label);
        self.refused(started);
    }

    fn refused(&mut self, started: Result<(), &'static str>) {
        if let Err(why) = started {
            self.say(why, true);
        }
    }

    /// Takes in finished file jobs.
    fn take_file_outcomes(&mut self) {
        for outcome in self.files.finished() {
            match outcome {
                Outcome::Saved { path, sockets } => self.say(
                    &format!("Saved {sockets} sockets to {}", path.display()),
                    false,
                ),
                Outcome::Failed(failure) => self.message = Some(StatusMessage::failure(&failure)),
                Outcome::Opened(path, snapshot) => {
                    self.message = None;
                    self.show_file(path, *snapshot);
                }
                Outcome::Compared(shown) => {
                    self.comparison = Some(*shown);
                    self.set_view(View::Diff);
                    self.message = None;
                }
                Outcome::Cancelled => {}
            }
        }
    }

    /// Shows a message in the status bar; errors in the error colour.
    fn say(&mut self, text: &str, is_error: bool) {
        self.message = Some(StatusMessage::new(text, is_error));
    }

    /// The status bar's message: a live sampling error, else the app's own message, else what the
    /// collector could not see in the shown sample.
    fn status_message(&self) -> Option<StatusMessage> {
        let p = self.published.as_deref();
        if let Some(failure) = p.and_then(|p| p.last_error.as_ref()) {
            return Some(StatusMessage::failure(failure));
        }
        if let Some(message) = &self.message {
            return Some(message.clone());
        }
        p.and_then(Published::snapshot)
            .and_then(|s| s.notes.first())
            .map(|note| StatusMessage::new(note.clone(), true))
    }

    /// The name an export proposes: host and sample time.
    fn export_name(snap: &Snapshot) -> String {
        format!(
            "sockscope-{}-{}",
            snap.host
                .replace(|c: char| !c.is_ascii_alphanumeric() && c != '-', "_"),
            snap.taken_at
                .with_timezone(&chrono::Local)
                .format("%Y%m%d-%H%M%S")
        )
    }

    /// Draws one frame into `ui` (the whole window).
    pub fn show(&mut self, ui: &mut egui::Ui) {
        let ctx = ui.ctx().clone();
        if !self.names_applied {
            self.names_applied = true;
            if self.settings.resolve_names {
                self.feed.set_names(true);
            }
        }
        self.take_published();
        self.take_file_outcomes();
        self.take_action_outcomes();
        // While a confirmation is open its keys are its own (Escape dismisses it).
        let keys = if self.confirm.question().is_some() {
            keys::Keys::default()
        } else {
            keys::read(&ctx)
        };
        let mut commands = keys.commands;
        self.toolbar.focus_filter |= keys.focus_filter;
        if let (Some(step), View::Sockets) = (keys.step, self.view()) {
            commands.extend(self.step_selection(step));
        }
        let published = self.published.clone();
        commands.extend(self.top_panels(ui, published.as_deref()));
        let message = self.status_message();
        egui::Panel::bottom("status").show(ui, |ui| {
            commands.extend(
                self.status_bar
                    .ui(ui, published.as_deref(), message.as_ref()),
            );
        });
        commands.extend(self.inspector_panel(ui, published.as_deref()));
        egui::CentralPanel::default().show(ui, |ui| {
            commands.extend(self.central(ui, published.as_deref()));
        });
        commands.extend(self.confirm.ui(&ctx));
        let mut changed = false;
        for command in commands {
            changed |= self.apply(&ctx, command);
        }
        // An inline feed published while applying; take it now so this frame's change shows.
        self.take_published();
        if changed {
            // Commands are applied after the panels drew; draw again so the change shows now.
            ctx.request_repaint();
        }
    }

    /// The toolbar, the banner over a file or comparison, and the export window while it is open.
    fn top_panels(&mut self, ui: &mut egui::Ui, published: Option<&Published>) -> Vec<Command> {
        let mut commands = Vec::new();
        let view = self.view();
        let shown = published.and_then(|p| p.view.as_ref());
        egui::Panel::top("toolbar").show(ui, |ui| {
            ui.add_space(2.0);
            let state = ToolbarState {
                view,
                paused: self.is_paused(),
                interval: Duration::from_millis(self.settings.interval_ms),
                filter_text: &self.settings.filter,
                filter: &self.filter,
                has_comparison: self.comparison.is_some(),
                names: self.settings.resolve_names,
            };
            commands.extend(self.toolbar.ui(ui, &state));
            ui.add_space(2.0);
        });
        let banner_text = banner::text(
            self.showing(),
            shown.map(|v| &*v.input.snapshot),
            self.comparison.as_ref(),
            view == View::Diff,
        );
        if let Some(text) = banner_text {
            egui::Panel::top("banner").show(ui, |ui| commands.extend(banner::ui(ui, &text)));
        }
        // Only while the window is open: the proposed name reads the local time zone.
        if let (Some(v), true) = (shown, self.export_window.open) {
            commands.extend(self.export_window.ui(
                ui.ctx(),
                v,
                self.files.dialogs_available(),
                &Self::export_name(&v.input.snapshot),
            ));
        }
        commands
    }

    /// The inspector under the tables, while a socket is selected.
    fn inspector_panel(
        &mut self,
        ui: &mut egui::Ui,
        published: Option<&Published>,
    ) -> Vec<Command> {
        let mut commands = Vec::new();
        let shown = published.and_then(|p| p.view.as_ref());
        let selected = self.selection.as_ref().and_then(|s| s.entry.as_ref());
        if let (Some((socket, closed)), Some(v), false) = (
            selected,
            shown,
            matches!(self.view(), View::Charts | View::Learn | View::Unix),
        ) {
            let height = ui.available_height();
            egui::Panel::bottom("inspector")
                .resizable(true)
                .default_size(height * 0.5)
                .min_size(120.0)
                .show(ui, |ui| {
                    let explained = published.and_then(|p| p.explained.as_ref());
                    commands.extend(self.inspector.ui(ui, socket, *closed, v, explained));
                });
        }
        commands
    }

    /// The view in the middle: a table, the page, the comparison or the charts.
    fn central(&mut self, ui: &mut egui::Ui, published: Option<&Published>) -> Vec<Command> {
        let selected_key = self.selected();
        match (published.and_then(|p| p.view.as_ref()), self.view()) {
            (None, _) => {
                ui.centered_and_justified(|ui| ui.label("Waiting for the first sample…"));
                Vec::new()
            }
            (Some(v), View::Sockets) => {
                let scroll_to = self.scroll_to.take();
                let sort = self.settings.sort;
                self.sockets_table.ui(ui, v, selected_key, sort, scroll_to)
            }
            (Some(v), View::Ports) => {
                let privilege = self.privilege();
                let port = self.selected_port;
                self.ports_table.ui(ui, v, port, selected_key, privilege)
            }
            (Some(v), View::Unix) => {
                let sort = self.settings.unix_sort;
                self.unix_table.ui(ui, v, sort)
            }
            (Some(_), View::Learn) => {
                let page = published.and_then(|p| p.page.as_deref());
                self.learn.ui(ui, page)
            }
            (Some(_), View::Diff) => match &self.comparison {
                Some(c) => self.diff_view.ui(ui, c, selected_key),
                None => Vec::new(),
            },
            (Some(_), View::Charts) => match published {
                Some(p) => self.charts.ui(ui, p),
                None => Vec::new(),
            },
        }
    }
}

impl eframe::App for SockscopeApp {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        self.show(ui);
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        eframe::set_value(storage, STORAGE_KEY, &self.settings);
    }
}

//! The store thread: owns the [`Store`], takes in samples and the window's view requests, and publishes
//! one immutable [`Published`] with everything the window draws.
//!
//! As in bottom's data farmer, the heavy work (diffing a sample, history, budget, alerts, the port index,
//! filtering and sorting 100k rows) happens here; the window's thread only swaps an `Arc` and draws. Inputs
//! that arrive while a publication is being computed are applied together, and only the newest result is
//! kept for the window, so a slow window never queues snapshots up.
//!
//! [`StoreCore`] is the whole logic and has no thread; [`StoreThread`] runs it on a thread named `store`.
//! Tests and benchmarks can drive the core directly, the same code the window's thread-fed path runs.

use std::net::IpAddr;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

use super::compute::{ComputedView, compute};
use super::explained::Explained;
use super::filter::Filter;
use super::rows::{RowRef, SortSpec, ViewInput};
use super::unix::UnixSort;
use crate::collector::CollectorEvent;
use crate::collector::resolver::{AnswerHook, Lookup, Resolver, system_lookup};
use crate::model::FastMap;
use crate::model::budget::{CloseWaitAlert, EphemeralBudget};
use crate::model::failure::Failure;
use crate::model::history::History;
use crate::model::snapshot::Snapshot;
use crate::model::socket::{SocketEntry, SocketKey};
use crate::model::store::Store;
use crate::services::explain::{Page, page};
use crate::services::registry::Registry;

/// What the window asks to see: the filter, the sort and the selected socket.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ViewRequest {
    /// Increases with every request; a publication says which one it answers.
    pub id: u64,
    /// The filter as typed (parsed on the store thread).
    pub filter: String,
    /// The sort of the sockets table.
    pub sort: SortSpec,
    /// The sort of the Unix sockets table.
    pub unix_sort: UnixSort,
    /// The socket whose details the inspector shows.
    pub selected: Option<SocketKey>,
    /// The "Socket vs port" page is shown: write it with each publication.
    pub page: bool,
}

/// What the window shows: exactly one of these, so "paused while a file is open" cannot be written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Showing {
    /// Samples as they arrive.
    Live,
    /// The live sample taken at `at`, held still (sampling goes on into the history).
    Frozen {
        /// When the held sample was taken.
        at: DateTime<Utc>,
    },
    /// A snapshot file, read-only.
    File {
        /// Where it was read from.
        path: PathBuf,
    },
}

/// What the store calls when a host name arrives (so the window can show it).
#[derive(Clone)]
pub struct NameWaker(pub Waker);

impl std::fmt::Debug for NameWaker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NameWaker")
    }
}

/// What the store thread takes in.
#[derive(Debug)]
pub enum StoreInput {
    /// A sample or a sampling error from the collector.
    Collected(CollectorEvent),
    /// A sample taken by someone else (a test, a replay), with how long it took.
    Sample(Box<Snapshot>, Option<Duration>),
    /// New filter, sort or selection.
    View(ViewRequest),
    /// Show live data again (leaves a frozen view or a file).
    ShowLive,
    /// Hold the live view still at its current sample; ignored over a file (it never changes).
    Freeze,
    /// Show a snapshot file instead of live data.
    ShowFile {
        /// Where it was read from.
        path: PathBuf,
        /// Its content.
        snapshot: Box<Snapshot>,
    },
    /// Keep this many samples of history.
    SetHistoryCapacity(usize),
    /// The user dismissed the last sampling error.
    DismissError,
    /// Look peers' host names up (`Some`, with what to call when an answer arrives) or stop (`None`).
    SetNames(Option<NameWaker>),
    /// A host name arrived: publish again so it shows.
    NamesArrived,
    /// Look names up with this instead of the system resolver (tests: no DNS query).
    UseLookup(NameLookup),
}

/// A way to look names up, as an input (tests pass a fake).
#[derive(Clone)]
pub struct NameLookup(pub Lookup);

impl std::fmt::Debug for NameLookup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NameLookup")
    }
}

/// Everything the window draws, immutable and shared: the window's thread only swaps this pointer.
#[derive(Clone, Debug)]
pub struct Published {
    /// Increases with every publication.
    pub serial: u64,
    /// The newest view request this publication reflects.
    pub answers: u64,
    /// Live, frozen or a file.
    pub showing: Showing,
    /// Rows, ports and traffic of what is shown; `None` until there is something to show.
    pub view: Option<ComputedView>,
    /// The selected socket as it is in the shown data (whether it closed at the latest sample), with
    /// the inspector's text for it.
    pub explained: Option<Arc<Explained>>,
    /// The "Socket vs port" page for the shown snapshot, when the request asked for it.
    pub page: Option<Arc<Page>>,
    /// Aggregates of past samples of the shown store (a file has one).
    pub history: Arc<History>,
    /// While frozen, the charts stop at the held sample.
    pub history_until: Option<DateTime<Utc>>,
    /// The ephemeral port budget of the shown store's newest sample.
    pub budget: Arc<EphemeralBudget>,
    /// Processes whose CLOSE_WAIT count keeps growing.
    pub alerts: Arc<Vec<CloseWaitAlert>>,
    /// How long the newest live sample took.
    pub last_took: Option<Duration>,
    /// The newest live sampling error; `None` over a file, whose data it does not concern.
    pub last_error: Option<Failure>,
    /// How long computing this publication took on the store thread.
    pub computed_in: Duration,
}

impl Published {
    /// The snapshot shown, if any.
    #[must_use]
    pub fn snapshot(&self) -> Option<&Arc<Snapshot>> {
        self.view.as_ref().map(|v| &v.input.snapshot)
    }
}

/// Where the shown data comes from.
enum Source {
    Live,
    Frozen(ViewInput),
    File { path: PathBuf, store: Box<Store> },
}

/// What the current rows were computed from; equal keys mean the rows are still right.
#[derive(Clone, Debug, PartialEq, Eq)]
struct RowsKey {
    epoch: u64,
    generation: u64,
    filter: String,
    sort: SortSpec,
    unix_sort: UnixSort,
}

/// The store and the view logic, with no thread: feed it inputs, then ask for a publication.
pub struct StoreCore {
    live: Store,
    source: Source,
    /// Bumps when the source changes, so rows of one source are never taken for another's.
    epoch: u64,
    request: ViewRequest,
    registry: &'static Registry,
    serial: u64,
    view: Option<ComputedView>,
    rows_key: Option<RowsKey>,
    explained: Option<Arc<Explained>>,
    /// The page last written, and the snapshot it was written from.
    page: Option<(Arc<Snapshot>, Arc<Page>)>,
    /// Looks peers' host names up while the user wants names; `None` otherwise (no lookups at all).
    resolver: Option<Resolver>,
    /// How names are looked up: the system resolver, or a fake in tests.
    lookup: Lookup,
}

impl StoreCore {
    /// A store keeping `history_capacity` samples, naming services with `registry`.
    #[must_use]
    pub fn new(history_capacity: usize, registry: &'static Registry) -> Self {
        Self {
            live: Store::new(history_capacity, registry),
            source: Source::Live,
            epoch: 0,
            request: ViewRequest::default(),
            registry,
            serial: 0,
            view: None,
            rows_key: None,
            explained: None,
            page: None,
            resolver: None,
            lookup: system_lookup(),
        }
    }

    /// Starts or stops looking names up.
    fn set_names(&mut self, wake: Option<NameWaker>) {
        match wake {
            None => self.resolver = None,
            Some(_) if self.resolver.is_some() => {}
            Some(wake) => {
                let hook: AnswerHook = wake.0;
                match Resolver::start_with_hook(4, Arc::clone(&self.lookup), Some(hook)) {
                    Ok(resolver) => self.resolver = Some(resolver),
                    Err(e) => self.live.record_error(Failure::new(
                        crate::model::failure::FailureKind::of_io(&e),
                        format!("cannot start looking up host names: {e}"),
                    )),
                }
            }
        }
    }

    /// Host names of `snapshot`'s peers: those the file recorded, and those looked up so far while
    /// names are on. Unknown addresses are queued for lookup, never waited for.
    fn hosts_for(&self, snapshot: &Snapshot) -> Arc<FastMap<IpAddr, String>> {
        if self.resolver.is_none() && snapshot.hosts.is_empty() {
            return Arc::default();
        }
        let mut hosts: FastMap<IpAddr, String> = snapshot
            .hosts
            .iter()
            .map(|(k, v)| (*k, v.clone()))
            .collect();
        if let Some(resolver) = &self.resolver {
            for ip in snapshot.peer_addresses() {
                if let Some(name) = resolver.name(ip) {
                    hosts.insert(ip, name);
                }
            }
        }
        Arc::new(hosts)
    }

    /// The live store (history, marks), for tests and benchmarks.
    #[must_use]
    pub fn live(&self) -> &Store {
        &self.live
    }

    /// Applies one input.
    pub fn apply(&mut self, input: StoreInput) {
        match input {
            StoreInput::Collected(CollectorEvent::Sample { snapshot, took, .. }) => {
                self.live.ingest(*snapshot, Some(took));
            }
            StoreInput::Collected(CollectorEvent::Error { failure, .. }) => {
                self.live.record_error(failure);
            }
            StoreInput::Sample(snapshot, took) => {
                self.live.ingest(*snapshot, took);
            }
            StoreInput::View(request) => self.request = request,
            StoreInput::ShowLive => self.set_source(Source::Live),
            StoreInput::Freeze => {
                if let (Source::Live, Some(input)) =
                    (&self.source, ViewInput::from_store(&self.live))
                {
                    self.set_source(Source::Frozen(input));
                }
            }
            StoreInput::ShowFile { path, snapshot } => {
                let mut store = Store::new(History::DEFAULT_CAPACITY, self.registry);
                store.ingest(*snapshot, None);
                self.set_source(Source::File {
                    path,
                    store: Box::new(store),
                });
            }
            StoreInput::SetHistoryCapacity(n) => self.live.set_history_capacity(n),
            StoreInput::SetNames(wake) => self.set_names(wake),
            StoreInput::NamesArrived => {}
            StoreInput::UseLookup(NameLookup(lookup)) => self.lookup = lookup,
            StoreInput::DismissError => self.live.dismiss_error(),
        }
    }

    fn set_source(&mut self, source: Source) {
        self.source = source;
        self.epoch += 1;
    }

    /// The selected socket's text: the previous publication's when nothing it depends on changed.
    fn explain(
        &mut self,
        socket: &SocketEntry,
        row: RowRef,
        view: &ComputedView,
    ) -> Arc<Explained> {
        let closed = matches!(row, RowRef::Closed(_));
        if let Some(e) = self
            .explained
            .as_ref()
            .filter(|e| e.is_for(socket, closed, &view.input.snapshot))
        {
            return Arc::clone(e);
        }
        let e = Arc::new(Explained::of(socket, closed, Some(row), view));
        self.explained = Some(Arc::clone(&e));
        e
    }

    /// The "Socket vs port" page for `view`: the previous one while the snapshot is the same.
    fn page(&mut self, view: &ComputedView) -> Arc<Page> {
        if let Some((shown, page)) = &self.page {
            if Arc::ptr_eq(shown, &view.input.snapshot) {
                return Arc::clone(page);
            }
        }
        let written = Arc::new(page(&view.input.snapshot, &view.ports, view.registry));
        self.page = Some((Arc::clone(&view.input.snapshot), Arc::clone(&written)));
        written
    }

    /// The sockets the shown source offers now, if any.
    fn source_input(&self) -> Option<ViewInput> {
        match &self.source {
            Source::Live => ViewInput::from_store(&self.live),
            Source::Frozen(input) => Some(input.clone()),
            // Nobody watched a file's sockets appear, so they have no age.
            Source::File { store, .. } => ViewInput::from_store(store).map(|input| ViewInput {
                ages_known: false,
                ..input
            }),
        }
    }

    /// Brings the view up to date with the shown source: rows are recomputed only when the data, filter
    /// or sort changed since the last computation.
    fn refresh_view(&mut self) {
        match self.source_input() {
            None => {
                self.view = None;
                self.rows_key = None;
            }
            Some(mut input) => {
                input.hosts = self.hosts_for(&input.snapshot);
                let key = RowsKey {
                    epoch: self.epoch,
                    generation: input.generation,
                    filter: self.request.filter.clone(),
                    sort: self.request.sort,
                    unix_sort: self.request.unix_sort,
                };
                if self.rows_key.as_ref() != Some(&key) {
                    let filter = Filter::parse(&key.filter);
                    self.view = Some(compute(
                        input,
                        &filter,
                        key.sort,
                        key.unix_sort,
                        self.registry,
                    ));
                    self.rows_key = Some(key);
                } else if let Some(view) = &mut self.view {
                    // Same rows; names that arrived meanwhile show now (a host: filter uses them from
                    // the next sample on).
                    view.input.hosts = input.hosts;
                }
            }
        }
    }

    /// What the window should draw now. Rows are recomputed only when the data, filter or sort changed.
    pub fn publish(&mut self) -> Arc<Published> {
        let started = Instant::now();
        self.refresh_view();
        let found = self.view.clone().and_then(|view| {
            let row = find(&view, self.request.selected?)?;
            let socket = view.input.socket(row)?.clone();
            Some((view, row, socket))
        });
        let explained = found.map(|(view, row, socket)| self.explain(&socket, row, &view));
        let page = match self.view.clone() {
            Some(view) if self.request.page => Some(self.page(&view)),
            _ => None,
        };
        let (shown_store, showing, until) = match &self.source {
            Source::Live => (&self.live, Showing::Live, None),
            Source::Frozen(input) => (
                &self.live,
                Showing::Frozen {
                    at: input.snapshot.taken_at,
                },
                Some(input.snapshot.taken_at),
            ),
            Source::File { path, store } => (&**store, Showing::File { path: path.clone() }, None),
        };
        self.serial += 1;
        Arc::new(Published {
            serial: self.serial,
            answers: self.request.id,
            last_error: match showing {
                Showing::File { .. } => None,
                Showing::Live | Showing::Frozen { .. } => self.live.last_error().cloned(),
            },
            showing,
            view: self.view.clone(),
            explained,
            page,
            history: shown_store.shared_history(),
            history_until: until,
            budget: Arc::clone(shown_store.budget()),
            alerts: Arc::clone(shown_store.close_wait_alerts()),
            last_took: self.live.last_took(),
            computed_in: started.elapsed(),
        })
    }
}

/// The row of the socket with `key` among the shown sockets, else among the just-closed ones.
fn find(view: &ComputedView, key: SocketKey) -> Option<RowRef> {
    let input = &view.input;
    let index = |i: usize| u32::try_from(i).unwrap_or(u32::MAX);
    let live = input.snapshot.sockets.iter().enumerate();
    let closed = input.closed.iter().enumerate();
    live.map(|(i, s)| (RowRef::Live(index(i)), s))
        .chain(closed.map(|(i, s)| (RowRef::Closed(index(i)), s)))
        .find(|(_, s)| s.key() == key)
        .map(|(row, _)| row)
}

/// Called after each publication, e.g. to wake the window (`ctx.request_repaint()`).
pub type Waker = Arc<dyn Fn() + Send + Sync>;

enum Message {
    Input(Box<StoreInput>),
    /// A publication the window no longer shows, sent back so that freeing it (possibly the last copy
    /// of a 100k-socket sample) happens here, not on the window's thread.
    Retire(Arc<Published>),
    Stop,
}

/// The newest publication, waiting for the window to take it.
#[derive(Default)]
struct Slot {
    newest: Mutex<Option<Arc<Published>>>,
    filled: Condvar,
}

impl Slot {
    fn lock(&self) -> MutexGuard<'_, Option<Arc<Published>>> {
        // It holds one pointer; a panic elsewhere cannot leave it half-written.
        self.newest.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Handle to the store thread. Dropping it stops and joins the thread.
pub struct StoreThread {
    inputs: Sender<Message>,
    slot: Arc<Slot>,
    handle: Option<JoinHandle<()>>,
}

impl StoreThread {
    /// Starts the thread named `store` around `core`; `waker` runs after every publication.
    ///
    /// # Errors
    /// When the OS refuses to create the thread.
    pub fn spawn(core: StoreCore, waker: Waker) -> std::io::Result<Self> {
        let (tx, rx) = channel();
        let slot = Arc::new(Slot::default());
        let thread_slot = Arc::clone(&slot);
        let handle = std::thread::Builder::new()
            .name("store".to_owned())
            .spawn(move || run(core, &rx, &thread_slot, &*waker))?;
        Ok(Self {
            inputs: tx,
            slot,
            handle: Some(handle),
        })
    }

    /// What the resolver calls when a name arrives: it asks this thread to publish again.
    #[must_use]
    pub fn name_waker(&self) -> NameWaker {
        let tx = self.inputs.clone();
        NameWaker(Arc::new(move || {
            // At shutdown the store may be gone; the name is not needed then.
            let _ = tx.send(Message::Input(Box::new(StoreInput::NamesArrived)));
        }))
    }

    /// Sends an input; the thread publishes the result.
    pub fn send(&self, input: StoreInput) {
        // The thread only ends when this handle drops; a send can fail only during shutdown.
        let _ = self.inputs.send(Message::Input(Box::new(input)));
    }

    /// Hands back a publication the window has replaced. The store thread frees it, so the window's
    /// thread never pays for dropping the last reference to a large sample.
    pub fn retire(&self, published: Arc<Published>) {
        // During shutdown the thread may be gone; the publication is then freed here, which is fine.
        let _ = self.inputs.send(Message::Retire(published));
    }

    /// A sink for the collector thread: its events go straight to the store, not through the window.
    pub fn collector_sink(&self) -> impl FnMut(CollectorEvent) + Send + 'static {
        let tx = self.inputs.clone();
        move |event| {
            // At shutdown the store may be gone first; the event is not needed then.
            let _ = tx.send(Message::Input(Box::new(StoreInput::Collected(event))));
        }
    }

    /// Takes the newest publication, if one arrived since the last call. Never blocks on the work.
    #[must_use]
    pub fn take(&self) -> Option<Arc<Published>> {
        self.slot.lock().take()
    }

    /// Waits up to `timeout` for a publication that satisfies `done`, for tests and tools that must see a
    /// result before going on. Returns it, or `None` on timeout.
    #[must_use]
    pub fn wait_for(
        &self,
        timeout: Duration,
        done: impl Fn(&Published) -> bool,
    ) -> Option<Arc<Published>> {
        let deadline = Instant::now() + timeout;
        let mut newest = self.slot.lock();
        loop {
            if let Some(p) = newest.take() {
                if done(&p) {
                    return Some(p);
                }
            }
            let left = deadline.checked_duration_since(Instant::now())?;
            newest = self
                .slot
                .filled
                .wait_timeout(newest, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }
}

impl Drop for StoreThread {
    fn drop(&mut self) {
        let _ = self.inputs.send(Message::Stop);
        if let Some(handle) = self.handle.take() {
            // A panic was already reported as a publication error; nothing more to do at shutdown.
            let _ = handle.join();
        }
    }
}

fn run(mut core: StoreCore, inputs: &Receiver<Message>, slot: &Slot, waker: &(dyn Fn() + Sync)) {
    while let Ok(first) = inputs.recv() {
        // Everything that queued up while the last publication was computed goes into the next one.
        let mut batch = vec![first];
        batch.extend(inputs.try_iter());
        let mut changed = false;
        for message in batch {
            match message {
                Message::Stop => return,
                Message::Retire(old) => drop(old),
                Message::Input(input) => {
                    core.apply(*input);
                    changed = true;
                }
            }
        }
        if !changed {
            continue;
        }
        let published = match catch_unwind(AssertUnwindSafe(|| core.publish())) {
            Ok(published) => published,
            Err(_) => {
                // A bug in the view code must not take live sampling down with it.
                // The panic hook has printed the details on standard error.
                core.live.record_error(Failure::internal(
                    "internal error while preparing the view (details on standard error)",
                ));
                core.view = None;
                core.rows_key = None;
                continue;
            }
        };
        *slot.lock() = Some(published);
        slot.filled.notify_all();
        waker();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::failure::FailureKind;
    use crate::model::socket::{SocketEntry, TcpState};
    use chrono::TimeZone;

    fn at(secs: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(1_700_000_000 + secs, 0).unwrap()
    }

    fn snap(secs: i64, ports: &[u16]) -> Snapshot {
        Snapshot {
            sockets: ports
                .iter()
                .map(|p| {
                    SocketEntry::tcp(
                        format!("127.0.0.1:{p}").parse().unwrap(),
                        "127.0.0.1:40000".parse().unwrap(),
                        TcpState::Established,
                    )
                    .with_inode(u32::from(*p))
                })
                .collect(),
            ..Snapshot::empty("h", at(secs))
        }
    }

    fn shown_ports(p: &Published) -> Vec<u16> {
        let view = p.view.as_ref().unwrap();
        view.rows
            .iter()
            .map(|r| view.input.socket(*r).unwrap().local.port())
            .collect()
    }

    fn core() -> StoreCore {
        StoreCore::new(100, Registry::global())
    }

    #[test]
    fn frozen_view_holds_its_sample_while_history_goes_on() {
        let mut core = core();
        core.apply(StoreInput::Sample(Box::new(snap(0, &[1, 2])), None));
        core.apply(StoreInput::Freeze);
        core.apply(StoreInput::Sample(Box::new(snap(1, &[1, 2, 3])), None));
        let p = core.publish();
        assert_eq!(p.showing, Showing::Frozen { at: at(0) });
        assert_eq!(shown_ports(&p), vec![1, 2]);
        assert_eq!(p.history.len(), 2, "sampling goes on while frozen");
        core.apply(StoreInput::ShowLive);
        assert_eq!(shown_ports(&core.publish()), vec![1, 2, 3]);
    }

    #[test]
    fn a_file_cannot_be_frozen_and_hides_live_errors() {
        let mut core = core();
        core.apply(StoreInput::Sample(Box::new(snap(0, &[1])), None));
        core.apply(StoreInput::ShowFile {
            path: "saved.json".into(),
            snapshot: Box::new(snap(5, &[7, 8])),
        });
        core.apply(StoreInput::Freeze);
        core.apply(StoreInput::Collected(CollectorEvent::Error {
            generation: 0,
            failure: Failure::new(FailureKind::Permission, "dump refused"),
        }));
        let p = core.publish();
        assert_eq!(
            p.showing,
            Showing::File {
                path: "saved.json".into()
            }
        );
        assert_eq!(shown_ports(&p), vec![7, 8]);
        assert_eq!(p.last_error, None, "a live error says nothing about a file");
        core.apply(StoreInput::ShowLive);
        let p = core.publish();
        assert_eq!(shown_ports(&p), vec![1]);
        let error = p.last_error.clone().unwrap();
        assert_eq!(
            (error.kind, error.message.as_str()),
            (FailureKind::Permission, "dump refused")
        );
    }

    #[test]
    fn rows_follow_the_request_and_the_selection_is_found() {
        let mut core = core();
        core.apply(StoreInput::Sample(Box::new(snap(0, &[5, 3, 9])), None));
        let selected = snap(0, &[9]).sockets[0].key();
        core.apply(StoreInput::View(ViewRequest {
            id: 7,
            filter: "!lport:5".to_owned(),
            selected: Some(selected),
            ..ViewRequest::default()
        }));
        let p = core.publish();
        assert_eq!(p.answers, 7);
        let mut ports = shown_ports(&p);
        ports.sort_unstable();
        assert_eq!(ports, vec![3, 9]);
        assert_eq!(
            p.explained.as_ref().map(|e| e.socket().key()),
            Some(selected)
        );
    }

    #[test]
    fn the_thread_publishes_each_batch_and_wakes_the_window() {
        let (woken_tx, woken) = channel();
        let woken_tx = Mutex::new(woken_tx);
        let thread = StoreThread::spawn(
            core(),
            Arc::new(move || {
                let _ = woken_tx.lock().unwrap().send(());
            }),
        )
        .unwrap();
        let mut sink = thread.collector_sink();
        sink(CollectorEvent::Sample {
            generation: 0,
            snapshot: Box::new(snap(0, &[4, 6])),
            took: Duration::from_millis(3),
        });
        let p = thread
            .wait_for(Duration::from_secs(10), |p| p.view.is_some())
            .expect("a publication with the sample");
        assert_eq!(shown_ports(&p), vec![4, 6]);
        assert_eq!(p.last_took, Some(Duration::from_millis(3)));
        thread.send(StoreInput::View(ViewRequest {
            id: 1,
            filter: "lport:6".to_owned(),
            ..ViewRequest::default()
        }));
        let p = thread
            .wait_for(Duration::from_secs(10), |p| p.answers == 1)
            .expect("the answer to the request");
        assert_eq!(shown_ports(&p), vec![6]);
        for _ in 0..2 {
            woken
                .recv_timeout(Duration::from_secs(10))
                .expect("woken after each publication");
        }
    }
}

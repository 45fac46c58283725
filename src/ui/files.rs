//! File jobs: Export, Open and Compare, each a dialog plus I/O that runs off the UI thread (on the
//! dialog thread, or inline for dialogs that do not block) and reports one [`Outcome`].
//!
//! Reading, writing and diffing all happen inside the job, so the window only receives finished results.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc::Receiver;

use super::command::ExportRequest;
use super::dialogs::FileDialogs;
use super::diff_view::Shown;
use super::jobs::{finished, run_job};
use crate::export::atomic::write_atomically;
use crate::export::json::ExportOptions;
use crate::export::read::open_snapshot;
use crate::model::compare::Comparison;
use crate::model::failure::Failure;
use crate::model::snapshot::Snapshot;
use crate::services::registry::Registry;
use crate::view::ComputedView;
use crate::view::rows::RowRef;
use crate::view::unix::UnixView;

/// What a file job reports back.
pub enum Outcome {
    /// An export was written.
    Saved {
        /// Where.
        path: PathBuf,
        /// How many sockets it holds.
        sockets: usize,
    },
    /// A snapshot file was read, to be shown.
    Opened(PathBuf, Box<Snapshot>),
    /// A snapshot file was read and compared with what was shown.
    Compared(Box<Shown>),
    /// Something failed; the failure says what and where, and its kind.
    Failed(Failure),
    /// The user closed the dialog.
    Cancelled,
}

/// The last component of `path`, for labels.
#[must_use]
pub fn file_name(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

/// The dialogs and the jobs under way (at most one at a time).
pub struct FileJobs {
    dialogs: Arc<dyn FileDialogs>,
    jobs: Vec<Receiver<Outcome>>,
}

impl FileJobs {
    /// Jobs that ask through `dialogs`.
    #[must_use]
    pub fn new(dialogs: Arc<dyn FileDialogs>) -> Self {
        Self {
            dialogs,
            jobs: Vec::new(),
        }
    }

    /// Whether a dialog can be shown at all (else the export window offers a path field).
    #[must_use]
    pub fn dialogs_available(&self) -> bool {
        self.dialogs.available()
    }

    /// Starts `job`; refuses (with the sentence to show) while another dialog is open.
    fn start(
        &mut self,
        ctx: &egui::Context,
        job: impl FnOnce(&dyn FileDialogs) -> Outcome + Send + 'static,
    ) -> Result<(), &'static str> {
        if !self.jobs.is_empty() {
            return Err("A file dialog is already open: finish it first.");
        }
        let dialogs = Arc::clone(&self.dialogs);
        let inline = !dialogs.blocks();
        let waker = ctx.clone();
        self.jobs.push(run_job(
            "dialog",
            inline,
            move || job(&*dialogs),
            move || waker.request_repaint(),
        ));
        Ok(())
    }

    /// Asks for a snapshot file and reads it.
    ///
    /// # Errors
    /// While another dialog is open.
    pub fn open(&mut self, ctx: &egui::Context) -> Result<(), &'static str> {
        self.start(ctx, |d| match d.open("Open a Sockscope snapshot") {
            None => Outcome::Cancelled,
            Some(path) => match open_snapshot(&path) {
                Ok(snapshot) => Outcome::Opened(path, Box::new(snapshot)),
                Err(e) => Outcome::Failed(e.failure()),
            },
        })
    }

    /// Asks for a snapshot file and compares it, as "before", with `after` (what is shown, labelled).
    ///
    /// # Errors
    /// While another dialog is open.
    pub fn compare(
        &mut self,
        ctx: &egui::Context,
        after: Arc<Snapshot>,
        after_label: String,
    ) -> Result<(), &'static str> {
        self.start(ctx, move |d| {
            match d.open("Compare with a snapshot (the earlier one)") {
                None => Outcome::Cancelled,
                Some(path) => match open_snapshot(&path) {
                    Ok(before) => {
                        let comparison = Comparison::between(&before, &after);
                        Outcome::Compared(Box::new(Shown::new(
                            file_name(&path),
                            after_label,
                            before,
                            after,
                            comparison,
                        )))
                    }
                    Err(e) => Outcome::Failed(e.failure()),
                },
            }
        })
    }

    /// Exports what `view` shows (all of it, or the filtered rows), asking where unless the request says.
    ///
    /// # Errors
    /// While another dialog is open.
    pub fn export(
        &mut self,
        ctx: &egui::Context,
        view: &ComputedView,
        request: ExportRequest,
    ) -> Result<(), &'static str> {
        // The job gets the shared snapshot and rows; any copying happens on the dialog thread.
        let shown = Arc::clone(&view.input.snapshot);
        let rows = request
            .filtered_only
            .then(|| (Arc::clone(&view.rows), Arc::clone(&view.unix)));
        // Names looked up while Names is on go into the file as remote_host.
        let hosts = Arc::clone(&view.input.hosts);
        let registry = view.registry;
        self.start(ctx, move |dialogs| {
            let path = match request
                .path
                .clone()
                .or_else(|| dialogs.save("Export snapshot", &request.default_name, request.kind))
            {
                Some(p) if p.extension().is_none() => p.with_extension(request.kind.extension()),
                Some(p) => p,
                None => return Outcome::Cancelled,
            };
            let copied;
            let snapshot: &Snapshot = match (&rows, hosts.is_empty()) {
                (None, true) => &shown,
                (None, false) => {
                    copied = with_hosts((*shown).clone(), &hosts);
                    &copied
                }
                (Some((rows, unix)), _) => {
                    copied = with_hosts(only_rows(&shown, rows, unix), &hosts);
                    &copied
                }
            };
            let whole = rows.is_some().then_some(&*shown);
            write(&path, snapshot, whole, registry, &request)
        })
    }

    /// Finished jobs' outcomes, in order.
    pub fn finished(&mut self) -> Vec<Outcome> {
        finished(&mut self.jobs, || {
            Outcome::Failed(Failure::internal("the file dialog could not be started"))
        })
    }
}

/// `snapshot` with the host names looked up for its peers.
fn with_hosts(
    mut snapshot: Snapshot,
    hosts: &crate::model::FastMap<std::net::IpAddr, String>,
) -> Snapshot {
    snapshot
        .hosts
        .extend(hosts.iter().map(|(ip, name)| (*ip, name.clone())));
    snapshot
}

/// `shown` with only the live sockets `rows` point at, and the Unix sockets the Unix view shows with
/// their peers (its "who talks to whom" names both ends).
fn only_rows(shown: &Snapshot, rows: &[RowRef], unix: &UnixView) -> Snapshot {
    let mut unix_rows: Vec<usize> = unix
        .rows
        .iter()
        .flat_map(|i| {
            let peer = shown.unix_sockets.get(*i).and_then(|u| unix.peer_of(u));
            std::iter::once(*i).chain(peer)
        })
        .collect();
    unix_rows.sort_unstable();
    unix_rows.dedup();
    let sockets = rows
        .iter()
        .filter_map(|r| match r {
            RowRef::Live(i) => shown.sockets.get(*i as usize).cloned(),
            RowRef::Closed(_) => None,
        })
        .collect();
    Snapshot {
        sockets,
        taken_at: shown.taken_at,
        host: shown.host.clone(),
        ephemeral_range: shown.ephemeral_range,
        processes: shown.processes.clone(),
        users: shown.users.clone(),
        notes: shown.notes.clone(),
        machine: shown.machine.clone(),
        hosts: shown.hosts.clone(),
        unix_sockets: unix_rows
            .iter()
            .filter_map(|i| shown.unix_sockets.get(*i).cloned())
            .collect(),
        namespaces: shown.namespaces.clone(),
    }
}

fn write(
    path: &Path,
    snapshot: &Snapshot,
    whole: Option<&Snapshot>,
    registry: &Registry,
    request: &ExportRequest,
) -> Outcome {
    let options = ExportOptions {
        with_cmdline: request.with_cmdline,
    };
    let written = write_atomically(path, |w| {
        request.kind.write(w, snapshot, whole, registry, options)
    });
    match written {
        Ok(()) => Outcome::Saved {
            path: path.to_owned(),
            sockets: snapshot.sockets.len(),
        },
        Err(e) => Outcome::Failed(e.failure()),
    }
}

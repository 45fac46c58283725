//! Computes table rows and the port index off the UI thread when the tables are large.
//!
//! Small inputs are computed inline (a thread round trip would only add latency); large ones go to a
//! thread named `view`, and the window keeps showing the previous rows until the new ones arrive. Both
//! paths run the same function, so they give the same result.

use std::sync::Arc;
use std::sync::mpsc::{Receiver, Sender, channel};

use super::filter::Filter;
use super::rows::{RowRef, SortSpec, ViewInput, compute_rows};
use crate::model::ports::{PortLine, PortsIndex, port_lines};
use crate::model::traffic::TrafficSums;
use crate::services::registry::Registry;

/// Inputs up to this many sockets are computed on the UI thread: a few milliseconds at most (see
/// `cargo bench --bench ui`: 100 000 rows sort in 12–16 ms), and it saves a frame per sample, which is most of
/// an idle window's cost. Larger tables go to the worker.
pub const INLINE_LIMIT: usize = 20_000;

/// What the tables draw: rows and ports computed from one input.
#[derive(Clone, Debug)]
pub struct ComputedView {
    /// The input the rows index into.
    pub input: ViewInput,
    /// Socket rows, filtered and sorted.
    pub rows: Arc<Vec<RowRef>>,
    /// Sockets grouped by port (unfiltered).
    pub ports: Arc<PortsIndex>,
    /// Traffic summed per port and process, and the busiest connections (unfiltered).
    pub traffic: Arc<TrafficSums>,
    /// The visible ports as the Ports view lists them: service ports first, outgoing-only ephemeral
    /// ports folded.
    pub port_lines: Arc<Vec<PortLine>>,
}

/// One request: what to compute and the request id it answers.
struct Job {
    id: u64,
    input: ViewInput,
    filter: Filter,
    sort: SortSpec,
}

/// Does the work of one job.
#[must_use]
pub fn compute(
    input: ViewInput,
    filter: &Filter,
    sort: SortSpec,
    registry: &Registry,
) -> ComputedView {
    let rows = compute_rows(&input, filter, sort, registry);
    let ports = PortsIndex::build(&input.snapshot);
    let visible_ports: Vec<usize> = if filter.is_empty() {
        (0..ports.ports().len()).collect()
    } else {
        let snap = &input.snapshot;
        ports
            .ports()
            .iter()
            .enumerate()
            .filter(|(_, p)| {
                p.sockets
                    .iter()
                    .any(|i| filter.matches(&snap.sockets[*i], snap, registry))
            })
            .map(|(i, _)| i)
            .collect()
    };
    let traffic = TrafficSums::of(&input.snapshot, &input.rates);
    let port_lines = port_lines(
        &input.snapshot,
        &ports,
        &visible_ports,
        input.snapshot.ephemeral_range_or_default(),
    );
    ComputedView {
        input,
        rows: Arc::new(rows),
        ports: Arc::new(ports),
        traffic: Arc::new(traffic),
        port_lines: Arc::new(port_lines),
    }
}

/// The two ends the UI keeps: jobs out, finished views (with their request id) back.
type Channels = (Sender<Job>, Receiver<(u64, ComputedView)>);

/// The worker thread and its channels, started on first need.
pub struct ViewWorker {
    waker: Arc<dyn Fn() + Send + Sync>,
    channels: Option<Channels>,
    next_id: u64,
    pending: Option<u64>,
}

impl ViewWorker {
    /// A worker that calls `waker` (e.g. `ctx.request_repaint()`) when a result is ready.
    #[must_use]
    pub fn new(waker: Arc<dyn Fn() + Send + Sync>) -> Self {
        Self {
            waker,
            channels: None,
            next_id: 0,
            pending: None,
        }
    }

    /// Computes now when small, else queues for the worker; returns the result when computed inline.
    pub fn request(
        &mut self,
        input: ViewInput,
        filter: &Filter,
        sort: SortSpec,
    ) -> Option<ComputedView> {
        self.next_id += 1;
        if input.snapshot.sockets.len() + input.closed.len() <= INLINE_LIMIT {
            self.pending = None;
            return Some(compute(input, filter, sort, Registry::global()));
        }
        let job = Job {
            id: self.next_id,
            input: input.clone(),
            filter: filter.clone(),
            sort,
        };
        if self.channels.is_none() {
            self.channels = self.spawn();
        }
        match &self.channels {
            Some((tx, _)) if tx.send(job).is_ok() => {
                self.pending = Some(self.next_id);
                None
            }
            // No thread could be started: compute here rather than show nothing.
            _ => {
                self.channels = None;
                Some(compute(input, filter, sort, Registry::global()))
            }
        }
    }

    /// The latest finished result, if it answers the newest request; stale ones are dropped.
    pub fn poll(&mut self) -> Option<ComputedView> {
        let (_, rx) = self.channels.as_ref()?;
        let mut newest = None;
        while let Ok((id, view)) = rx.try_recv() {
            if Some(id) == self.pending {
                self.pending = None;
                newest = Some(view);
            }
        }
        newest
    }

    /// True while a result is awaited.
    #[must_use]
    pub fn is_busy(&self) -> bool {
        self.pending.is_some()
    }

    fn spawn(&self) -> Option<Channels> {
        let (job_tx, job_rx) = channel::<Job>();
        let (done_tx, done_rx) = channel();
        let waker = Arc::clone(&self.waker);
        std::thread::Builder::new()
            .name("view".to_owned())
            .spawn(move || {
                while let Ok(mut job) = job_rx.recv() {
                    // Only the newest request matters; skip the ones it replaced.
                    while let Ok(newer) = job_rx.try_recv() {
                        job = newer;
                    }
                    let view = compute(job.input, &job.filter, job.sort, Registry::global());
                    if done_tx.send((job.id, view)).is_err() {
                        return;
                    }
                    waker();
                }
            })
            .ok()?;
        Some((job_tx, done_rx))
    }
}

//! How samples reach the window: the one place that wires source → collector → store → window.
//!
//! The live app runs two threads: the collector samples, the store thread ingests and computes, and the
//! window only takes the newest [`Published`]. Tests pick either the same threads (with a replay source,
//! waiting on the store's publications rather than sleeping) or an inline feed that samples and computes
//! on the calling thread, for step-by-step kittest scripts.

use std::sync::Arc;
use std::time::Duration;

use crate::collector::{Collector, CollectorEvent, SocketSource};
use crate::model::failure::{Failure, FailureKind};
use crate::services::registry::Registry;
use crate::view::store_thread::Waker;
use crate::view::{NameWaker, Published, StoreCore, StoreInput, StoreThread};

/// Where the window's data comes from.
pub enum Feed {
    /// Collector thread → store thread → window.
    Threads {
        /// The sampling thread; `None` when it could not be started (the store says why). Declared
        /// first so it stops first.
        collector: Option<Collector>,
        /// The store thread the window sends its requests to.
        store: StoreThread,
    },
    /// Sampled and computed on the calling thread, on demand: tests and replays, with no threads.
    Inline {
        /// Sampled by [`Feed::sample_now`].
        source: Box<dyn SocketSource>,
        /// The same store logic the thread runs.
        core: Box<StoreCore>,
        /// The publication not yet taken.
        fresh: Option<Arc<Published>>,
    },
}

impl Feed {
    /// Starts the collector and store threads: `source` sampled every `interval`, history of
    /// `history_capacity` samples, services named from `registry`; `waker` runs after each publication.
    ///
    /// # Errors
    /// When the store thread cannot be started. A collector that cannot start is reported by the store
    /// instead (the window still opens files).
    pub fn threads(
        source: Box<dyn SocketSource>,
        interval: Duration,
        history_capacity: usize,
        registry: &'static Registry,
        waker: Waker,
    ) -> std::io::Result<Self> {
        let store = StoreThread::spawn(StoreCore::new(history_capacity, registry), waker)?;
        let collector = match Collector::spawn(source, interval, store.collector_sink()) {
            Ok(collector) => Some(collector),
            Err(e) => {
                store.send(StoreInput::Collected(CollectorEvent::Error {
                    generation: 0,
                    failure: Failure::new(
                        FailureKind::of_io(&e),
                        format!("cannot start the collector thread: {e}"),
                    ),
                }));
                None
            }
        };
        Ok(Self::Threads { store, collector })
    }

    /// A feed with no threads: `source` is sampled when [`Feed::sample_now`] is called.
    #[must_use]
    pub fn inline(
        source: Box<dyn SocketSource>,
        history_capacity: usize,
        registry: &'static Registry,
    ) -> Self {
        Self::Inline {
            source,
            core: Box::new(StoreCore::new(history_capacity, registry)),
            fresh: None,
        }
    }

    /// Sends an input to the store.
    pub fn send(&mut self, input: StoreInput) {
        match self {
            Self::Threads { store, .. } => store.send(input),
            Self::Inline { core, fresh, .. } => {
                core.apply(input);
                *fresh = Some(core.publish());
            }
        }
    }

    /// The newest publication since the last call, if any. Never waits.
    pub fn take(&mut self) -> Option<Arc<Published>> {
        match self {
            Self::Threads { store, .. } => store.take(),
            Self::Inline { fresh, .. } => fresh.take(),
        }
    }

    /// Gives back a publication the window replaced, so the store thread frees it (inline: freed here).
    pub fn retire(&self, published: Arc<Published>) {
        if let Self::Threads { store, .. } = self {
            store.retire(published);
        }
    }

    /// Waits up to `timeout` for a publication that satisfies `done` (inline: only the one already made).
    pub fn wait_for(
        &mut self,
        timeout: Duration,
        done: impl Fn(&Published) -> bool,
    ) -> Option<Arc<Published>> {
        match self {
            Self::Threads { store, .. } => store.wait_for(timeout, done),
            Self::Inline { fresh, .. } => fresh.take().filter(|p| done(p)),
        }
    }

    /// Takes a sample now: synchronously inline, by waking the collector otherwise.
    pub fn sample_now(&mut self) {
        match self {
            Self::Threads { collector, .. } => {
                if let Some(c) = collector {
                    c.sample_now();
                }
            }
            Self::Inline {
                source,
                core,
                fresh,
            } => {
                let input = match source.sample() {
                    Ok(snapshot) => StoreInput::Sample(Box::new(snapshot), None),
                    Err(e) => StoreInput::Collected(CollectorEvent::Error {
                        generation: 0,
                        failure: e.failure(),
                    }),
                };
                core.apply(input);
                *fresh = Some(core.publish());
            }
        }
    }

    /// Starts or stops looking peers' host names up (off: no lookup is made at all).
    pub fn set_names(&mut self, on: bool) {
        match self {
            Self::Threads { store, .. } => {
                let wake = on.then(|| store.name_waker());
                store.send(StoreInput::SetNames(wake));
            }
            Self::Inline { core, fresh, .. } => {
                // Inline, answers show at the next sample or request.
                let wake = on.then(|| NameWaker(Arc::new(|| {})));
                core.apply(StoreInput::SetNames(wake));
                *fresh = Some(core.publish());
            }
        }
    }

    /// Changes the sampling interval (no effect inline).
    pub fn set_interval(&self, interval: Duration) {
        if let Self::Threads {
            collector: Some(c), ..
        } = self
        {
            c.set_interval(interval);
        }
    }
}

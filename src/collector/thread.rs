//! The background sampler: one named thread that calls a [`SocketSource`] at a steady interval.
//!
//! It knows nothing about the store or egui: each result goes to a callback (the "sink"), which the app
//! uses to ingest the sample and wake its window. Samples are never queued: when one takes longer than
//! the interval, the next starts right after it instead of several running back to back to catch up.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::SocketSource;
use crate::model::failure::Failure;
use crate::model::snapshot::Snapshot;

/// What the collector hands to its sink.
#[derive(Debug)]
pub enum CollectorEvent {
    /// A new sample.
    Sample {
        /// The generation the sample was started under; see [`Collector::reset`].
        generation: u64,
        /// The sample (boxed: events move between threads, and most are small).
        snapshot: Box<Snapshot>,
        /// How long taking it took.
        took: Duration,
    },
    /// A sample failed; the collector goes on and tries again at the next tick.
    Error {
        /// The generation the sample was started under.
        generation: u64,
        /// What went wrong, with a kind the window can branch on.
        failure: Failure,
    },
}

#[derive(Debug)]
struct Control {
    interval: Duration,
    paused: bool,
    stop: bool,
    sample_now: bool,
    generation: u64,
}

#[derive(Debug)]
struct Shared {
    control: Mutex<Control>,
    wake: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Control> {
        // The control block holds plain flags; a panic elsewhere cannot leave them inconsistent.
        self.control.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Handle to the sampling thread. Dropping it stops and joins the thread.
#[derive(Debug)]
pub struct Collector {
    shared: Arc<Shared>,
    handle: Option<JoinHandle<()>>,
}

/// The shortest interval accepted; anything lower would only burn CPU.
pub const MIN_INTERVAL: Duration = Duration::from_millis(100);

impl Collector {
    /// Starts a thread named `collector` that samples `source` now and then every `interval`, handing
    /// each result to `sink`.
    ///
    /// # Errors
    /// When the OS refuses to create the thread.
    pub fn spawn<F>(
        source: Box<dyn SocketSource>,
        interval: Duration,
        sink: F,
    ) -> std::io::Result<Self>
    where
        F: FnMut(CollectorEvent) + Send + 'static,
    {
        let shared = Arc::new(Shared {
            control: Mutex::new(Control {
                interval: interval.max(MIN_INTERVAL),
                paused: false,
                stop: false,
                sample_now: true,
                generation: 0,
            }),
            wake: Condvar::new(),
        });
        let thread_shared = Arc::clone(&shared);
        let handle = std::thread::Builder::new()
            .name("collector".to_owned())
            .spawn(move || run(&thread_shared, source, sink))?;
        Ok(Self {
            shared,
            handle: Some(handle),
        })
    }

    /// Stops sampling until [`Collector::resume`]; a sample under way finishes.
    pub fn pause(&self) {
        self.shared.lock().paused = true;
        self.shared.wake.notify_all();
    }

    /// Resumes sampling, taking a sample right away.
    pub fn resume(&self) {
        let mut c = self.shared.lock();
        c.paused = false;
        c.sample_now = true;
        drop(c);
        self.shared.wake.notify_all();
    }

    /// True while paused.
    #[must_use]
    pub fn is_paused(&self) -> bool {
        self.shared.lock().paused
    }

    /// Changes the interval (at least [`MIN_INTERVAL`]); takes effect from the next sample.
    pub fn set_interval(&self, interval: Duration) {
        self.shared.lock().interval = interval.max(MIN_INTERVAL);
        self.shared.wake.notify_all();
    }

    /// The current interval.
    #[must_use]
    pub fn interval(&self) -> Duration {
        self.shared.lock().interval
    }

    /// Asks for a sample now, even when paused.
    pub fn sample_now(&self) {
        self.shared.lock().sample_now = true;
        self.shared.wake.notify_all();
    }

    /// Starts a new generation: events carry it so a consumer can drop samples begun before a reset.
    /// Returns the new generation.
    pub fn reset(&self) -> u64 {
        let mut c = self.shared.lock();
        c.generation += 1;
        c.sample_now = true;
        let generation = c.generation;
        drop(c);
        self.shared.wake.notify_all();
        generation
    }
}

impl Drop for Collector {
    fn drop(&mut self) {
        self.shared.lock().stop = true;
        self.shared.wake.notify_all();
        if let Some(handle) = self.handle.take() {
            // A sink that panicked already ended the thread; nothing more to report at shutdown.
            let _ = handle.join();
        }
    }
}

fn run<F>(shared: &Shared, mut source: Box<dyn SocketSource>, mut sink: F)
where
    F: FnMut(CollectorEvent),
{
    let mut next_due = Instant::now();
    loop {
        let generation = {
            let mut c = shared.lock();
            loop {
                if c.stop {
                    return;
                }
                if c.sample_now || (!c.paused && Instant::now() >= next_due) {
                    break;
                }
                c = if c.paused {
                    shared.wake.wait(c).unwrap_or_else(PoisonError::into_inner)
                } else {
                    let wait = next_due.saturating_duration_since(Instant::now());
                    shared
                        .wake
                        .wait_timeout(c, wait)
                        .unwrap_or_else(PoisonError::into_inner)
                        .0
                };
            }
            c.sample_now = false;
            c.generation
        };
        let started = Instant::now();
        let result = catch_unwind(AssertUnwindSafe(|| source.sample()));
        let took = started.elapsed();
        let event = match result {
            Ok(Ok(snapshot)) => CollectorEvent::Sample {
                generation,
                snapshot: Box::new(snapshot),
                took,
            },
            Ok(Err(e)) => CollectorEvent::Error {
                generation,
                failure: e.failure(),
            },
            Err(_) => CollectorEvent::Error {
                generation,
                failure: Failure::internal("the socket sampler panicked"),
            },
        };
        sink(event);
        let interval = shared.lock().interval;
        // Schedule from the start of this sample; if it overran, start the next one now, not a backlog.
        next_due = (started + interval).max(Instant::now());
    }
}

/// A snapshot sampler that records the sink's events, for tests.
#[cfg(test)]
mod tests {
    use super::*;
    use crate::collector::{CollectError, ReplaySource};
    use crate::model::failure::FailureKind;
    use std::sync::{Mutex, mpsc};

    struct Slow(Duration, u32);
    impl SocketSource for Slow {
        fn sample(&mut self) -> Result<Snapshot, CollectError> {
            std::thread::sleep(self.0);
            self.1 += 1;
            Ok(Snapshot::empty(format!("n{}", self.1), chrono::Utc::now()))
        }
    }

    #[test]
    fn samples_then_reports_errors_without_stopping() {
        let (tx, rx) = mpsc::channel();
        let source = ReplaySource::new([Snapshot::empty("a", chrono::Utc::now())]);
        let c = Collector::spawn(Box::new(source), MIN_INTERVAL, move |e| {
            let _ = tx.send(e);
        })
        .unwrap();
        let first = rx.recv_timeout(Duration::from_secs(5)).unwrap();
        assert!(matches!(
            first,
            CollectorEvent::Sample { generation: 0, .. }
        ));
        let second = rx.recv_timeout(Duration::from_secs(5)).unwrap();
        assert!(
            matches!(second, CollectorEvent::Error { ref failure, .. } if failure.message.contains("no more") && failure.kind == FailureKind::NotFound)
        );
        let third = rx.recv_timeout(Duration::from_secs(5)).unwrap();
        assert!(
            matches!(third, CollectorEvent::Error { .. }),
            "thread keeps running after an error"
        );
        drop(c);
    }

    /// Records when each sample started; the first takes `first` long, the rest take no time.
    struct Timed {
        first: Duration,
        starts: Arc<Mutex<Vec<Instant>>>,
    }
    impl SocketSource for Timed {
        fn sample(&mut self) -> Result<Snapshot, CollectError> {
            let mut starts = self.starts.lock().unwrap();
            starts.push(Instant::now());
            let first = starts.len() == 1;
            drop(starts);
            if first {
                std::thread::sleep(self.first);
            }
            Ok(Snapshot::empty("h", chrono::Utc::now()))
        }
    }

    #[test]
    fn overrunning_samples_do_not_queue_up() {
        // The first sample takes 3.5 intervals. A sampler that caught up on the missed ticks would run
        // the next samples back to back; this one runs the next right away, then one per interval.
        let starts = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = mpsc::channel();
        let source = Timed {
            first: MIN_INTERVAL * 7 / 2,
            starts: Arc::clone(&starts),
        };
        let c = Collector::spawn(Box::new(source), MIN_INTERVAL, move |e| {
            let _ = tx.send(e);
        })
        .unwrap();
        for _ in 0..4 {
            rx.recv_timeout(Duration::from_secs(10)).unwrap();
        }
        drop(c);
        let starts = starts.lock().unwrap();
        for pair in starts[1..4].windows(2) {
            let gap = pair[1] - pair[0];
            // Waiting can only make a gap longer than the interval, never shorter: no luck involved.
            assert!(
                gap >= MIN_INTERVAL.saturating_sub(Duration::from_millis(5)),
                "samples ran back to back after an overrun: {gap:?}"
            );
        }
    }

    #[test]
    fn pause_stops_sampling_and_resume_samples_at_once() {
        // At the shortest interval an unpaused sampler delivers several samples in the time this test
        // waits, so a pause that did nothing fails it.
        let (tx, rx) = mpsc::channel();
        let c = Collector::spawn(Box::new(Slow(Duration::ZERO, 0)), MIN_INTERVAL, move |e| {
            let _ = tx.send(e);
        })
        .unwrap();
        rx.recv_timeout(Duration::from_secs(5)).unwrap();
        rx.recv_timeout(Duration::from_secs(5))
            .expect("samples flow at the interval before the pause");
        c.pause();
        assert!(c.is_paused());
        // A sample already under way when pause() was called may still arrive; then nothing.
        let _ = rx.recv_timeout(MIN_INTERVAL / 2);
        assert!(
            rx.recv_timeout(MIN_INTERVAL * 4).is_err(),
            "no sample while paused"
        );
        c.resume();
        assert!(
            rx.recv_timeout(Duration::from_secs(5)).is_ok(),
            "resume samples right away"
        );
        let generation = c.reset();
        match rx.recv_timeout(Duration::from_secs(5)).unwrap() {
            CollectorEvent::Sample { generation: g, .. } => assert_eq!(g, generation),
            CollectorEvent::Error { failure, .. } => panic!("{failure}"),
        }
    }
}

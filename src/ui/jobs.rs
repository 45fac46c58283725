//! Work the window hands to a named thread (file dialogs and their I/O, confirmed actions) so its own
//! thread never waits: one way to start such a job and one way to collect what finished.

use std::sync::mpsc::{Receiver, TryRecvError, channel};

/// Runs `job` now when `inline`, else on a thread named `thread`; the result arrives on the returned
/// channel, and `wake` is called when it is ready. A thread that cannot start leaves the channel closed,
/// which [`finished`] reports.
pub fn run_job<T: Send + 'static>(
    thread: &str,
    inline: bool,
    job: impl FnOnce() -> T + Send + 'static,
    wake: impl Fn() + Send + 'static,
) -> Receiver<T> {
    let (tx, rx) = channel();
    if inline {
        let _ = tx.send(job());
        return rx;
    }
    let spawned = std::thread::Builder::new()
        .name(thread.to_owned())
        .spawn(move || {
            // The window may have closed meanwhile; then nobody needs the answer.
            let _ = tx.send(job());
            wake();
        });
    if let Err(e) = spawned {
        // Nothing can be reported through the dropped sender; the caller sees a closed channel.
        drop(e);
    }
    rx
}

/// Takes the results of the jobs that finished, in order, and forgets them; a job whose channel closed
/// without a result (its thread could not start, or died) reports `lost()`.
pub fn finished<T>(jobs: &mut Vec<Receiver<T>>, lost: impl Fn() -> T) -> Vec<T> {
    let mut done = Vec::new();
    jobs.retain(|rx| match rx.try_recv() {
        Ok(result) => {
            done.push(result);
            false
        }
        Err(TryRecvError::Empty) => true,
        Err(TryRecvError::Disconnected) => {
            done.push(lost());
            false
        }
    });
    done
}

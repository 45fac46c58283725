//! Confirmed actions run on a thread named `action`, so the window never waits on the kernel; each
//! reports one line back, and wakes the window when it has.

use std::sync::Arc;
use std::sync::mpsc::{Receiver, TryRecvError, channel};

use super::confirm::Pending;
use crate::collector::actions::Actions;
use crate::model::failure::Failure;

/// What an action reports: a sentence saying what was done, or why not.
pub type ActionOutcome = Result<String, Failure>;

/// The actions seam and the jobs still running.
pub struct ActionJobs {
    actions: Arc<dyn Actions>,
    running: Vec<Receiver<ActionOutcome>>,
}

impl ActionJobs {
    /// Jobs done through `actions`.
    #[must_use]
    pub fn new(actions: Arc<dyn Actions>) -> Self {
        Self {
            actions,
            running: Vec::new(),
        }
    }

    /// Starts `pending` on its own thread; `label` names its process for the report.
    pub fn start(&mut self, ctx: &egui::Context, pending: Pending, label: String) {
        let (tx, rx) = channel();
        let actions = Arc::clone(&self.actions);
        let ctx = ctx.clone();
        let spawned = std::thread::Builder::new()
            .name("action".to_owned())
            .spawn(move || {
                let outcome = match pending {
                    Pending::Close(socket) => {
                        actions.close(&socket).map(|()| format!("Closed {socket}."))
                    }
                    Pending::End { pid, signal } => actions
                        .end(pid, signal)
                        .map(|()| format!("Sent {} to {label}.", signal.name())),
                };
                // The window may have closed meanwhile; then nobody needs the answer.
                let _ = tx.send(outcome);
                ctx.request_repaint();
            });
        match spawned {
            Ok(_) => self.running.push(rx),
            Err(e) => {
                let (tx, rx) = channel();
                let _ = tx.send(Err(Failure::new(
                    crate::model::failure::FailureKind::of_io(&e),
                    format!("Could not start the action: {e}"),
                )));
                self.running.push(rx);
            }
        }
    }

    /// The reports of jobs that finished since the last call.
    pub fn finished(&mut self) -> Vec<ActionOutcome> {
        let mut done = Vec::new();
        self.running.retain(|rx| match rx.try_recv() {
            Ok(outcome) => {
                done.push(outcome);
                false
            }
            Err(TryRecvError::Empty) => true,
            Err(TryRecvError::Disconnected) => {
                done.push(Err(Failure::internal(
                    "the action stopped without an answer",
                )));
                false
            }
        });
        done
    }
}

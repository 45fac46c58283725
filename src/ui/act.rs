//! Confirmed actions run on a thread named `action`, so the window never waits on the kernel; each
//! reports one line back, and wakes the window when it has.

use std::sync::Arc;
use std::sync::mpsc::Receiver;

use super::confirm::Pending;
use super::jobs::{finished, run_job};
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
        let actions = Arc::clone(&self.actions);
        let waker = ctx.clone();
        let job = move || match pending {
            Pending::Close(socket) => actions.close(&socket).map(|()| format!("Closed {socket}.")),
            Pending::End { pid, signal } => actions
                .end(pid, signal)
                .map(|()| format!("Sent {} to {label}.", signal.name())),
        };
        self.running.push(run_job("action", false, job, move || {
            waker.request_repaint()
        }));
    }

    /// The reports of jobs that finished since the last call.
    pub fn finished(&mut self) -> Vec<ActionOutcome> {
        finished(&mut self.running, || {
            Err(Failure::internal("the action could not be started"))
        })
    }
}

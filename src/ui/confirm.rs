//! The confirmation before anything destructive: a modal that names exactly what will happen (the
//! tuple, the process, its PID, how many sockets go with it) and does nothing until the user says so.
//! Escape, a click outside or Cancel dismisses it. Cancel has the keyboard focus, so Enter never destroys
//! anything by accident; Tab reaches the confirm button.

use egui::RichText;

use super::command::Command;
use crate::collector::actions::EndSignal;
use crate::model::snapshot::Snapshot;
use crate::model::socket::SocketEntry;

/// The action waiting for the user's answer.
#[derive(Clone, Debug, PartialEq)]
pub enum Pending {
    /// Close this TCP connection.
    Close(Box<SocketEntry>),
    /// Send `signal` to process `pid`.
    End {
        /// The process.
        pid: u32,
        /// TERM or KILL.
        signal: EndSignal,
    },
}

/// The confirmation modal: at most one question at a time.
#[derive(Debug, Default)]
pub struct Confirm {
    asked: Option<Asked>,
}

#[derive(Debug)]
struct Asked {
    pending: Pending,
    /// The process the action's report names (`name[pid]`); empty for a connection.
    label: String,
    title: String,
    text: String,
    button: &'static str,
}

impl Confirm {
    /// Asks about `pending`, described from `snapshot` (the sample the user acted on).
    pub fn ask(&mut self, pending: Pending, snapshot: &Snapshot) {
        let (label, (title, text, button)) = match &pending {
            Pending::Close(s) => (String::new(), close_text(s, snapshot)),
            Pending::End { pid, signal } => {
                let label = snapshot.process_label(*pid);
                let text = end_text(&label, *pid, *signal, snapshot);
                (label, text)
            }
        };
        self.asked = Some(Asked {
            pending,
            label,
            title,
            text,
            button,
        });
    }

    /// The question shown, if any.
    #[must_use]
    pub fn question(&self) -> Option<&str> {
        self.asked.as_ref().map(|a| a.text.as_str())
    }

    /// Takes the confirmed action out, with the process label its report names (empty for a
    /// connection).
    pub fn take(&mut self) -> Option<(Pending, String)> {
        self.asked.take().map(|a| (a.pending, a.label))
    }

    /// Forgets the question.
    pub fn dismiss(&mut self) {
        self.asked = None;
    }

    /// Draws the modal while a question is open.
    pub fn ui(&mut self, ctx: &egui::Context) -> Vec<Command> {
        let Some(asked) = &self.asked else {
            return Vec::new();
        };
        let mut commands = Vec::new();
        let modal = egui::Modal::new(egui::Id::unique("confirm-action")).show(ctx, |ui| {
            ui.set_max_width(520.0);
            ui.heading(&asked.title);
            ui.add(egui::Label::new(&asked.text).wrap());
            ui.add_space(8.0);
            ui.horizontal(|ui| {
                let confirm =
                    ui.button(RichText::new(asked.button).color(ui.visuals().error_fg_color));
                if confirm.clicked() {
                    commands.push(Command::Confirmed);
                }
                let cancel = ui.button("Cancel");
                if ui.ctx().memory(|m| m.focused().is_none()) {
                    cancel.request_focus();
                }
                if cancel.clicked() {
                    commands.push(Command::Dismissed);
                }
            });
        });
        if commands.is_empty() && modal.should_close() {
            commands.push(Command::Dismissed);
        }
        commands
    }
}

/// Title, sentence and button for closing `s`.
fn close_text(s: &SocketEntry, snapshot: &Snapshot) -> (String, String, &'static str) {
    let owner = owner_text(s, snapshot);
    let peer = s
        .peer()
        .map_or_else(|| "its peer".to_owned(), |p| p.to_string());
    let text = format!(
        "Close {s}, held by {owner}? The kernel aborts this one connection: {peer} gets a reset, and the \
         program's next call on the socket fails with ECONNABORTED. Other connections on port {} stay \
         open. Needs CAP_NET_ADMIN.",
        s.local.port()
    );
    (
        "Close this connection?".to_owned(),
        text,
        "Close connection",
    )
}

/// Title, sentence and button for sending `signal` to `pid`.
fn end_text(
    label: &str,
    pid: u32,
    signal: EndSignal,
    snapshot: &Snapshot,
) -> (String, String, &'static str) {
    let user = snapshot
        .processes
        .get(&pid)
        .and_then(|p| p.user.as_deref())
        .map_or_else(String::new, |u| format!(" (user {u})"));
    let sockets = snapshot
        .sockets
        .iter()
        .filter(|s| s.pids.contains(&pid))
        .count();
    let how = match signal {
        EndSignal::Term => "SIGTERM asks it to exit: it may clean up first, or ignore the request.",
        EndSignal::Kill => "SIGKILL ends it at once: it cannot clean up or refuse.",
    };
    let text = format!(
        "Send {} to {label}{user}? It holds {sockets} socket(s), which close when it exits unless another \
         process shares them. {how}",
        signal.name()
    );
    let (title, button) = match signal {
        EndSignal::Term => ("End this process?", "End process (SIGTERM)"),
        EndSignal::Kill => ("Kill this process?", "Kill process (SIGKILL)"),
    };
    (title.to_owned(), text, button)
}

/// The owners of `s` (`name[pid]`, …), or what holds it instead.
fn owner_text(s: &SocketEntry, snapshot: &Snapshot) -> String {
    if s.pids.is_empty() {
        return s
            .owner_note
            .map_or("no visible process", |n| n.label())
            .to_owned();
    }
    crate::model::compare::owners(snapshot, s)
}

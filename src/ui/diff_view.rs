//! The Diff view: what changed between two snapshots, each line selectable into the inspector.

use egui::RichText;

use super::command::Command;
use crate::model::compare::{Comparison, owners};
use crate::model::snapshot::Snapshot;
use crate::model::socket::{SocketEntry, SocketKey};

/// A comparison being shown: what was compared, and the result.
#[derive(Debug)]
pub struct Shown {
    /// Label of the earlier side (a file name).
    pub before_label: String,
    /// Label of the later side (a file name, or "live").
    pub after_label: String,
    /// The earlier snapshot.
    pub before: Snapshot,
    /// The later snapshot (shared with the view it was taken from).
    pub after: std::sync::Arc<Snapshot>,
    /// The result.
    pub comparison: Comparison,
}

impl Shown {
    /// A socket of either side by key (closed ones only exist in `before`).
    #[must_use]
    pub fn find(&self, key: SocketKey) -> Option<&SocketEntry> {
        self.after
            .sockets
            .iter()
            .chain(&self.before.sockets)
            .find(|s| s.key() == key)
    }
}

/// The Diff view panel.
#[derive(Debug, Default)]
pub struct DiffView;

fn section(
    ui: &mut egui::Ui,
    title: &str,
    lines: Vec<(String, SocketKey)>,
    selected: Option<SocketKey>,
    commands: &mut Vec<Command>,
) {
    egui::CollapsingHeader::new(RichText::new(format!("{title} ({})", lines.len())).strong())
        .id_salt(title)
        .default_open(true)
        .show(ui, |ui| {
            for (text, key) in lines {
                if ui
                    .selectable_label(selected == Some(key), RichText::new(text).monospace())
                    .clicked()
                {
                    commands.push(Command::SelectSocket(Some(key)));
                }
            }
        });
}

impl DiffView {
    /// Draws the comparison.
    pub fn ui(
        &mut self,
        ui: &mut egui::Ui,
        shown: &Shown,
        selected: Option<SocketKey>,
    ) -> Vec<Command> {
        let mut commands = Vec::new();
        let c = &shown.comparison;
        ui.label(
            RichText::new(format!(
                "{} → {}: {} opened, {} closed, {} changed",
                shown.before_label,
                shown.after_label,
                c.diff.opened.len(),
                c.diff.closed.len(),
                c.diff.changed.len()
            ))
            .heading(),
        );
        egui::ScrollArea::vertical()
            .id_salt("diff-scroll")
            .show(ui, |ui| {
                let line = |prefix: &str, s: &SocketEntry, snap: &Snapshot| {
                    (format!("{prefix} {s} {}", owners(snap, s)), s.key())
                };
                section(
                    ui,
                    "New listeners",
                    c.new_listeners
                        .iter()
                        .map(|s| line("+", s, &shown.after))
                        .collect(),
                    selected,
                    &mut commands,
                );
                section(
                    ui,
                    "Vanished listeners",
                    c.vanished_listeners
                        .iter()
                        .map(|s| line("-", s, &shown.before))
                        .collect(),
                    selected,
                    &mut commands,
                );
                egui::CollapsingHeader::new(
                    RichText::new(format!(
                        "Ports whose owner changed ({})",
                        c.owner_changes.len()
                    ))
                    .strong(),
                )
                .id_salt("owner-changes")
                .default_open(true)
                .show(ui, |ui| {
                    for o in &c.owner_changes {
                        ui.label(
                            RichText::new(format!(
                                "* port {}/{} {} -> {}",
                                o.port, o.protocol, o.before, o.after
                            ))
                            .monospace(),
                        );
                    }
                });
                section(
                    ui,
                    "Opened",
                    c.diff
                        .opened
                        .iter()
                        .map(|s| line("+", s, &shown.after))
                        .collect(),
                    selected,
                    &mut commands,
                );
                section(
                    ui,
                    "Closed",
                    c.diff
                        .closed
                        .iter()
                        .map(|s| line("-", s, &shown.before))
                        .collect(),
                    selected,
                    &mut commands,
                );
                let changed = c
                    .diff
                    .changed
                    .iter()
                    .map(|ch| {
                        let from = Some(ch.from.as_str())
                            .filter(|s| !s.is_empty())
                            .unwrap_or("-");
                        (
                            format!(
                                "~ {} (was {from}) {}",
                                ch.socket,
                                owners(&shown.after, &ch.socket)
                            ),
                            ch.socket.key(),
                        )
                    })
                    .collect();
                section(ui, "Changed state", changed, selected, &mut commands);
            });
        commands
    }
}

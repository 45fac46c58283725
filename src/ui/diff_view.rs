//! The Diff view: what changed between two snapshots, each line selectable into the inspector.
//!
//! Its lines are written once, when the comparison is made (off the UI thread), and drawn virtualised:
//! a frame lays out only the lines on screen, however many sockets changed.

use std::collections::HashSet;

use egui::RichText;

use super::command::Command;
use crate::model::compare::{
    Comparison, in_namespace, owner_change_line, owners, socket_line, unix_line,
};
use crate::model::snapshot::Snapshot;
use crate::model::socket::{SocketEntry, SocketKey};
use crate::model::unix::UnixSocket;

/// One titled group of lines; a line with a key selects that socket.
#[derive(Debug)]
struct Section {
    title: &'static str,
    lines: Vec<(String, Option<SocketKey>)>,
}

/// A comparison being shown: what was compared, the result, and its lines.
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
    sections: Vec<Section>,
}

impl Shown {
    /// A comparison ready to draw: its lines are written here, once.
    #[must_use]
    pub fn new(
        before_label: String,
        after_label: String,
        before: Snapshot,
        after: std::sync::Arc<Snapshot>,
        comparison: Comparison,
    ) -> Self {
        let sections = sections(&comparison, &before, &after);
        Self {
            before_label,
            after_label,
            before,
            after,
            comparison,
            sections,
        }
    }

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

fn sections(c: &Comparison, before: &Snapshot, after: &Snapshot) -> Vec<Section> {
    let mut sections = socket_sections(c, before, after);
    sections.extend(unix_sections(c, before, after));
    sections
}

/// Unix sockets opened and closed, and what was not compared.
fn unix_sections(c: &Comparison, before: &Snapshot, after: &Snapshot) -> Vec<Section> {
    let unix = |prefix: char, u: &UnixSocket, snap: &Snapshot| (unix_line(prefix, u, snap), None);
    vec![
        Section {
            title: "Unix sockets opened",
            lines: c.unix_opened.iter().map(|u| unix('+', u, after)).collect(),
        },
        Section {
            title: "Unix sockets closed",
            lines: c.unix_closed.iter().map(|u| unix('-', u, before)).collect(),
        },
        Section {
            title: "Not compared",
            lines: c.notes.iter().map(|n| (n.clone(), None)).collect(),
        },
    ]
}

/// Listeners, owner changes, and sockets opened, closed and changed.
fn socket_sections(c: &Comparison, before: &Snapshot, after: &Snapshot) -> Vec<Section> {
    let line = |prefix: char, s: &SocketEntry, snap: &Snapshot| {
        (socket_line(prefix, s, snap), Some(s.key()))
    };
    vec![
        Section {
            title: "New listeners",
            lines: c
                .new_listeners
                .iter()
                .map(|s| line('+', s, after))
                .collect(),
        },
        Section {
            title: "Vanished listeners",
            lines: c
                .vanished_listeners
                .iter()
                .map(|s| line('-', s, before))
                .collect(),
        },
        Section {
            title: "Ports whose owner changed",
            lines: c
                .owner_changes
                .iter()
                .map(|o| (owner_change_line(o, after), None))
                .collect(),
        },
        Section {
            title: "Opened",
            lines: c.diff.opened.iter().map(|s| line('+', s, after)).collect(),
        },
        Section {
            title: "Closed",
            lines: c.diff.closed.iter().map(|s| line('-', s, before)).collect(),
        },
        Section {
            title: "Changed state",
            lines: c
                .diff
                .changed
                .iter()
                .map(|ch| {
                    let from = Some(ch.from.as_str())
                        .filter(|s| !s.is_empty())
                        .unwrap_or("-");
                    let text = format!(
                        "~ {} (was {from}) {}{}",
                        ch.socket,
                        owners(after, &ch.socket),
                        in_namespace(after, ch.socket.netns)
                    );
                    (text, Some(ch.socket.key()))
                })
                .collect(),
        },
    ]
}

/// The Diff view panel: remembers which sections are folded.
#[derive(Debug, Default)]
pub struct DiffView {
    folded: HashSet<&'static str>,
}

/// One drawn row: a section's header or one of its lines.
enum Row<'a> {
    Header(&'a Section, bool),
    Line(&'a str, Option<SocketKey>),
}

impl DiffView {
    fn row_count(&self, shown: &Shown) -> usize {
        shown
            .sections
            .iter()
            .map(|s| {
                1 + if self.folded.contains(s.title) {
                    0
                } else {
                    s.lines.len()
                }
            })
            .sum()
    }

    /// The `i`th drawn row: a walk over the six sections, not over the lines.
    fn row<'a>(&self, shown: &'a Shown, mut i: usize) -> Option<Row<'a>> {
        for section in &shown.sections {
            let open = !self.folded.contains(section.title);
            if i == 0 {
                return Some(Row::Header(section, open));
            }
            i -= 1;
            let len = if open { section.lines.len() } else { 0 };
            if i < len {
                let (text, key) = section.lines.get(i)?;
                return Some(Row::Line(text, *key));
            }
            i -= len;
        }
        None
    }

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
        let row_height = ui.text_style_height(&egui::TextStyle::Monospace).max(
            ui.text_style_height(&egui::TextStyle::Button) + 2.0 * ui.spacing().button_padding.y,
        ) + 2.0;
        let mut toggle = None;
        egui::ScrollArea::vertical()
            .id_salt("diff-scroll")
            .auto_shrink([false, false])
            .show_rows(ui, row_height, self.row_count(shown), |ui, range| {
                for i in range {
                    match self.row(shown, i) {
                        Some(Row::Header(section, open)) => {
                            let arrow = if open { "⏷" } else { "⏵" };
                            let text =
                                format!("{arrow} {} ({})", section.title, section.lines.len());
                            if ui
                                .add(egui::Button::new(RichText::new(text).strong()).frame(false))
                                .clicked()
                            {
                                toggle = Some(section.title);
                            }
                        }
                        Some(Row::Line(text, Some(key))) => {
                            let line = ui.selectable_label(
                                selected == Some(key),
                                RichText::new(text).monospace(),
                            );
                            if line.clicked() {
                                commands.push(Command::SelectSocket(Some(key)));
                            }
                        }
                        Some(Row::Line(text, None)) => {
                            ui.label(RichText::new(text).monospace());
                        }
                        None => {}
                    }
                }
            });
        if let Some(title) = toggle {
            if !self.folded.remove(title) {
                self.folded.insert(title);
            }
        }
        commands
    }
}

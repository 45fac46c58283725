//! The banner over the tables: says when what is shown is not live (a file, a comparison) and offers
//! the way back.

use super::command::Command;
use super::diff_view::Shown;
use crate::model::snapshot::Snapshot;
use crate::view::Showing;

/// The banner's sentence, or `None` when live data is shown (no banner).
#[must_use]
pub fn text(
    showing: &Showing,
    shown: Option<&Snapshot>,
    comparison: Option<&Shown>,
    in_diff_view: bool,
) -> Option<String> {
    match (showing, comparison) {
        (_, Some(c)) if in_diff_view => Some(format!(
            "Comparing {} (before) with {} (after)",
            c.before_label, c.after_label
        )),
        (Showing::File { path }, _) => Some(format!(
            "Viewing {} — host {}, taken {} — read-only",
            path.display(),
            shown.map_or("?", |s| s.host.as_str()),
            shown.map_or_else(String::new, |s| s
                .taken_at
                .with_timezone(&chrono::Local)
                .format("%Y-%m-%d %H:%M:%S")
                .to_string())
        )),
        _ => None,
    }
}

/// Draws the banner with `text` and a "Back to live" button.
pub fn ui(ui: &mut egui::Ui, text: &str) -> Vec<Command> {
    let mut commands = Vec::new();
    ui.horizontal(|ui| {
        ui.label(egui::RichText::new(text).strong());
        if ui.button("Back to live").clicked() {
            commands.push(Command::BackToLive);
        }
    });
    commands
}

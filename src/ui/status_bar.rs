//! The status bar: counts, the last sample's time and cost, pause state, and collector errors.

use chrono::Local;
use egui::RichText;

use super::command::Command;
use super::view_worker::ComputedView;
use crate::model::budget::BudgetLevel;
use crate::model::store::Store;

/// The status bar panel.
#[derive(Debug, Default)]
pub struct StatusBar;

impl StatusBar {
    /// Draws counts for the shown `view`, sample timing from the `store`, and `paused`/`message` state.
    pub fn ui(
        &mut self,
        ui: &mut egui::Ui,
        view: Option<&ComputedView>,
        store: &Store,
        paused: bool,
        message: Option<(&str, bool)>,
    ) -> Vec<Command> {
        let mut commands = Vec::new();
        ui.horizontal(|ui| {
            match view {
                Some(v) => {
                    let snap = &v.input.snapshot;
                    let listening = v.ports.ports().iter().filter(|p| p.has_listener()).count();
                    ui.label(format!("{} sockets", snap.sockets.len()));
                    ui.separator();
                    ui.label(format!("{} shown", v.rows.len()));
                    ui.separator();
                    ui.label(format!("{listening} listening ports"));
                    ui.separator();
                    let n = snap.processes.len();
                    ui.label(format!("{n} process{}", if n == 1 { "" } else { "es" }));
                    ui.separator();
                    let took = store
                        .last_took()
                        .map(|d| format!(", took {} ms", d.as_millis()))
                        .unwrap_or_default();
                    ui.label(format!(
                        "sample {}{took}",
                        snap.taken_at.with_timezone(&Local).format("%H:%M:%S")
                    ));
                }
                None => {
                    ui.label("Waiting for the first sample…");
                }
            }
            let budget = store.budget();
            if budget.level() != BudgetLevel::Ok {
                ui.separator();
                let color = if budget.level() == BudgetLevel::Critical {
                    ui.visuals().error_fg_color
                } else {
                    ui.visuals().warn_fg_color
                };
                let pct = (budget.ratio() * 100.0).round();
                ui.label(
                    RichText::new(format!("ephemeral ports {pct:.0} % used"))
                        .strong()
                        .color(color),
                )
                .on_hover_text(format!(
                    "{}\n{}",
                    budget.summary(),
                    budget.consequence()
                ));
            }
            if let Some(alert) = store.close_wait_alerts().first() {
                ui.separator();
                ui.label(
                    RichText::new(format!("CLOSE_WAIT growing in {}", alert.name))
                        .strong()
                        .color(ui.visuals().warn_fg_color),
                )
                .on_hover_text(alert.sentence());
            }
            if paused {
                ui.separator();
                ui.label(
                    RichText::new("PAUSED")
                        .strong()
                        .color(ui.visuals().warn_fg_color),
                )
                .on_hover_text("The view is frozen; sampling goes on. Press Space or Resume.");
            }
            if let Some((msg, is_error)) = message {
                ui.separator();
                let color = if is_error {
                    ui.visuals().error_fg_color
                } else {
                    ui.visuals().strong_text_color()
                };
                ui.label(RichText::new(msg).color(color));
                if ui.small_button("Dismiss").clicked() {
                    commands.push(Command::DismissError);
                }
            }
        });
        commands
    }
}

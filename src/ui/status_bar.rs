//! The status bar: counts, the last sample's time and cost, pause state, and collector errors.

use chrono::Local;
use egui::RichText;

use crate::model::failure::Failure;

use super::command::Command;
use crate::model::budget::BudgetLevel;
use crate::view::{Published, Showing};

/// What the status bar says at its end: a sampling error, the app's own message, or a note.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatusMessage {
    /// The line shown.
    pub text: String,
    /// Shown in the error colour.
    pub is_error: bool,
    /// What to do about it, on hover (from the failure's kind).
    pub advice: Option<&'static str>,
}

impl StatusMessage {
    /// A plain message, or an error without advice.
    #[must_use]
    pub fn new(text: impl Into<String>, is_error: bool) -> Self {
        Self {
            text: text.into(),
            is_error,
            advice: None,
        }
    }

    /// A failure, with the advice its kind carries.
    #[must_use]
    pub fn failure(failure: &Failure) -> Self {
        Self {
            text: failure.message.clone(),
            is_error: true,
            advice: failure.kind.advice(),
        }
    }
}

/// The status bar panel.
#[derive(Debug, Default)]
pub struct StatusBar;

impl StatusBar {
    /// Draws counts, sample timing and the frozen state from the store's publication, and `message`.
    pub fn ui(
        &mut self,
        ui: &mut egui::Ui,
        published: Option<&Published>,
        message: Option<&StatusMessage>,
    ) -> Vec<Command> {
        let mut commands = Vec::new();
        ui.horizontal(|ui| {
            counts(ui, published);
            if let Some(p) = published {
                warnings(ui, p);
            }
            if let Some(message) = message {
                ui.separator();
                let color = if message.is_error {
                    ui.visuals().error_fg_color
                } else {
                    ui.visuals().strong_text_color()
                };
                let label = ui.label(RichText::new(&message.text).color(color));
                if let Some(advice) = message.advice {
                    label.on_hover_text(advice);
                }
                if ui.small_button("Dismiss").clicked() {
                    commands.push(Command::DismissError);
                }
            }
        });
        commands
    }
}

/// Sockets (TCP/UDP, then Unix), rows shown, listening ports, processes, and when the sample was taken.
fn counts(ui: &mut egui::Ui, published: Option<&Published>) {
    let Some((p, v)) = published.and_then(|p| p.view.as_ref().map(|v| (p, v))) else {
        ui.label("Waiting for the first sample…");
        return;
    };
    let snap = &v.input.snapshot;
    ui.label(format!("{} TCP/UDP sockets", snap.sockets.len()))
        .on_hover_text("Every TCP and UDP socket of the sample, in every network namespace listed");
    ui.separator();
    if !snap.unix_sockets.is_empty() {
        ui.label(format!("{} Unix sockets", snap.unix_sockets.len()));
        ui.separator();
    }
    ui.label(format!("{} shown", v.rows.len()));
    ui.separator();
    ui.label(format!("{} listening ports", v.listening_ports));
    ui.separator();
    let n = snap.processes.len();
    ui.label(format!("{n} process{}", if n == 1 { "" } else { "es" }));
    ui.separator();
    let took = p
        .last_took
        .map(|d| format!(", took {} ms", d.as_millis()))
        .unwrap_or_default();
    ui.label(format!(
        "sample {}{took}",
        snap.taken_at.with_timezone(&Local).format("%H:%M:%S")
    ));
}

/// The ephemeral budget when it runs low, a growing CLOSE_WAIT, and the frozen state.
fn warnings(ui: &mut egui::Ui, p: &Published) {
    let budget = &p.budget;
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
        .on_hover_text(format!("{}\n{}", budget.summary(), budget.consequence()));
    }
    if let Some(alert) = p.alerts.first() {
        ui.separator();
        ui.label(
            RichText::new(format!("CLOSE_WAIT growing in {}", alert.label()))
                .strong()
                .color(ui.visuals().warn_fg_color),
        )
        .on_hover_text(alert.sentence());
    }
    if matches!(p.showing, Showing::Frozen { .. }) {
        ui.separator();
        ui.label(
            RichText::new("PAUSED")
                .strong()
                .color(ui.visuals().warn_fg_color),
        )
        .on_hover_text("The view is frozen; sampling goes on. Press Space or Resume.");
    }
}

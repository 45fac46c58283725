//! The toolbar: pause, interval, views, filter with its hint, and the colour legend.

use std::time::Duration;

use egui::RichText;

use super::command::Command;
use super::settings::View;
use super::theme::LEGEND;
use crate::view::filter::{FIELDS, Filter};

/// Intervals offered, in milliseconds.
const INTERVALS_MS: [u64; 6] = [500, 1000, 2000, 5000, 10_000, 30_000];

/// What the toolbar shows.
#[derive(Clone, Copy, Debug)]
pub struct ToolbarState<'a> {
    /// The current view.
    pub view: View,
    /// Whether the view is frozen.
    pub paused: bool,
    /// Sampling interval.
    pub interval: Duration,
    /// Filter text.
    pub filter_text: &'a str,
    /// The parsed filter (for its hint).
    pub filter: &'a Filter,
    /// Whether a comparison exists (shows the Diff view button).
    pub has_comparison: bool,
    /// Whether peers' host names are looked up.
    pub names: bool,
}

/// The toolbar panel; owns the filter text while it is being edited.
#[derive(Debug, Default)]
pub struct Toolbar {
    /// Set to move keyboard focus into the filter box on the next frame (Ctrl+F).
    pub focus_filter: bool,
}

/// The filter box's id, so the app can tell whether it has focus.
#[must_use]
pub fn filter_id() -> egui::Id {
    egui::Id::unique("sockscope-filter")
}

impl Toolbar {
    /// Draws the toolbar.
    pub fn ui(&mut self, ui: &mut egui::Ui, state: &ToolbarState<'_>) -> Vec<Command> {
        let mut commands = Vec::new();
        ui.horizontal(|ui| {
            sampling(ui, state.paused, state.interval, &mut commands);
            ui.separator();
            let diff = state.has_comparison.then_some(View::Diff);
            for v in View::ALL.into_iter().chain(diff) {
                if ui.selectable_label(state.view == v, v.label()).clicked() && state.view != v {
                    commands.push(Command::SetView(v));
                }
            }
            ui.separator();
            files(ui, &mut commands);
            let mut names = state.names;
            let tip = "Look up the host name of each peer address with the system resolver (/etc/hosts, \
                       DNS). Off by default: it may send DNS queries. Names show in the Remote host column \
                       and match host: in the filter.";
            if ui.checkbox(&mut names, "Names").on_hover_text(tip).changed() {
                commands.push(Command::SetNames(names));
            }
            ui.separator();
            self.filter_field(ui, state.filter_text, &mut commands);
            ui.label(RichText::new("Legend").underline())
                .on_hover_text(LEGEND);
        });
        if let Some(hint) = state.filter.hint() {
            ui.label(
                RichText::new(hint)
                    .color(ui.visuals().warn_fg_color)
                    .small(),
            );
        }
        commands
    }

    /// The filter field with its help, and a button that clears it.
    fn filter_field(&mut self, ui: &mut egui::Ui, filter_text: &str, commands: &mut Vec<Command>) {
        let mut text = filter_text.to_owned();
        let help: String = FIELDS
            .iter()
            .map(|(n, d)| format!("{n}: {d}"))
            .collect::<Vec<_>>()
            .join("\n");
        let response = ui
            .add(
                egui::TextEdit::singleline(&mut text)
                    .id(filter_id())
                    .hint_text("Filter (Ctrl+F): port:443 proc:nginx !state:listen")
                    .desired_width(320.0),
            )
            .on_hover_text(format!(
                "All terms must match; ! negates a term; free text matches any column.\n\n{help}"
            ));
        if self.focus_filter {
            response.request_focus();
            self.focus_filter = false;
        }
        if text != filter_text {
            commands.push(Command::SetFilter(text));
        }
        if !filter_text.is_empty()
            && ui
                .button("Clear")
                .on_hover_text("Clear the filter")
                .clicked()
        {
            commands.push(Command::SetFilter(String::new()));
        }
    }
}

/// Pause or resume, and the sampling interval.
fn sampling(ui: &mut egui::Ui, paused: bool, interval: Duration, commands: &mut Vec<Command>) {
    let label = if paused { "Resume" } else { "Pause" };
    let tip = if paused {
        "Show live data again (Space). Sampling never stopped: the history has no gap."
    } else {
        "Freeze the tables and charts on this instant (Space); sampling goes on in the background."
    };
    if ui.button(label).on_hover_text(tip).clicked() {
        commands.push(Command::TogglePause);
    }
    let ms = u64::try_from(interval.as_millis()).unwrap_or(u64::MAX);
    egui::ComboBox::from_id_salt("interval")
        .selected_text(format!("every {}", format_interval(ms)))
        .show_ui(ui, |ui| {
            for choice in INTERVALS_MS {
                let text = format!("every {}", format_interval(choice));
                if ui.selectable_label(ms == choice, text).clicked() {
                    commands.push(Command::SetInterval(Duration::from_millis(choice)));
                }
            }
        })
        .response
        .on_hover_text("Sampling interval");
}

/// Export, open and compare.
fn files(ui: &mut egui::Ui, commands: &mut Vec<Command>) {
    let buttons = [
        (
            "Export…",
            "Save what is shown as JSON, CSV or an HTML report (Ctrl+S)",
            Command::ShowExport,
        ),
        (
            "Open…",
            "Open a saved snapshot, read-only (Ctrl+O)",
            Command::OpenFile,
        ),
        (
            "Compare…",
            "Compare a saved snapshot (before) with what is shown (after)",
            Command::CompareWithFile,
        ),
    ];
    for (label, tip, command) in buttons {
        if ui.button(label).on_hover_text(tip).clicked() {
            commands.push(command);
        }
    }
}

fn format_interval(ms: u64) -> String {
    if ms < 1000 {
        format!("{ms} ms")
    } else if ms % 1000 == 0 {
        format!("{} s", ms / 1000)
    } else {
        format!("{:.1} s", ms as f64 / 1000.0)
    }
}

//! The export window: format, what to include, then the save dialog (or a path field when no dialog can
//! be shown).

use std::path::PathBuf;

use super::command::{Command, ExportRequest};
use super::dialogs::FileKind;
use crate::view::ComputedView;

/// The export window's state.
#[derive(Debug)]
pub struct ExportWindow {
    /// Shown when true.
    pub open: bool,
    kind: FileKind,
    filtered_only: bool,
    with_cmdline: bool,
    path_text: String,
}

impl Default for ExportWindow {
    fn default() -> Self {
        Self {
            open: false,
            kind: FileKind::Json,
            filtered_only: false,
            with_cmdline: false,
            path_text: String::new(),
        }
    }
}

impl ExportWindow {
    /// Draws the window when open. What `view` shows sizes the filter checkbox; `default_name` is the
    /// proposed file name without extension.
    pub fn ui(
        &mut self,
        ctx: &egui::Context,
        view: &ComputedView,
        dialogs_available: bool,
        default_name: &str,
    ) -> Vec<Command> {
        let mut commands = Vec::new();
        if !self.open {
            return commands;
        }
        let mut open = true;
        egui::Window::new("Export snapshot").open(&mut open).collapsible(false).resizable(false).show(ctx, |ui| {
            ui.horizontal(|ui| {
                ui.label("Format:");
                ui.radio_value(&mut self.kind, FileKind::Json, "JSON").on_hover_text("The full snapshot; Sockscope can open it again");
                ui.radio_value(&mut self.kind, FileKind::Csv, "CSV").on_hover_text("One row per socket, for spreadsheets");
                ui.radio_value(&mut self.kind, FileKind::Html, "HTML report").on_hover_text("Tables and port explanations, readable in any browser");
            });
            ui.checkbox(&mut self.filtered_only, filtered_label(view, self.kind));
            ui.checkbox(&mut self.with_cmdline, "Include command lines (they can hold passwords and tokens)");
            let name = format!("{default_name}.{}", self.kind.extension());
            let request = |path| ExportRequest { kind: self.kind, filtered_only: self.filtered_only, with_cmdline: self.with_cmdline, default_name: name.clone(), path };
            if dialogs_available {
                if ui.button("Save…").clicked() {
                    commands.push(Command::Export(request(None)));
                    self.open = false;
                }
            } else {
                ui.label("No file dialog is available here (no desktop portal and no zenity). Type a path:");
                ui.add(egui::TextEdit::singleline(&mut self.path_text).hint_text(format!("e.g. ~/{name}")).desired_width(360.0));
                if ui.button("Save").clicked() && !self.path_text.trim().is_empty() {
                    commands.push(Command::Export(request(Some(PathBuf::from(self.path_text.trim())))));
                    self.open = false;
                }
            }
        });
        if !open {
            self.open = false;
        }
        commands
    }
}

/// The filter checkbox: how many sockets of each kind the filter keeps, of how many (CSV holds no Unix
/// sockets).
fn filtered_label(view: &ComputedView, kind: FileKind) -> String {
    let snapshot = &view.input.snapshot;
    let (rows, all) = (view.live_rows, snapshot.sockets.len());
    if snapshot.unix_sockets.is_empty() || kind == FileKind::Csv {
        format!("Only what the filter shows: {rows} of {all} sockets")
    } else {
        format!(
            "Only what the filter shows: {rows} of {all} TCP/UDP sockets, {} of {} Unix sockets (with their \
             peers)",
            view.unix.rows.len(),
            snapshot.unix_sockets.len()
        )
    }
}

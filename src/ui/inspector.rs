//! The inspector: the selected socket explained on the left, its port on the right, and beneath both the
//! socket-versus-port comparison filled with this socket's values. All text comes from
//! [`crate::services::explain`].

use std::sync::Arc;

use chrono::Local;
use egui::{RichText, ScrollArea};

use super::command::Command;
use super::theme::format_age;
use crate::model::snapshot::Snapshot;
use crate::model::socket::SocketEntry;
use crate::services::explain::kernel_lines;
use crate::services::explain::{Aspect, Explainer, Line};
use crate::view::ComputedView;

/// Everything the inspector writes about one socket of one sample.
#[derive(Debug)]
struct Explained {
    tuple: Vec<Line>,
    state: Line,
    owner: Vec<String>,
    kernel: Vec<Line>,
    port: Vec<Line>,
    aspects: Vec<Aspect>,
}

/// What [`Explained`] was written for: the same sample, socket and closed flag give the same text.
#[derive(Debug)]
struct ExplainedFor {
    snapshot: Arc<Snapshot>,
    socket: SocketEntry,
    closed: bool,
}

/// The inspector panel. Its text is written once per sample and selection, not once per frame.
#[derive(Debug, Default)]
pub struct Inspector {
    cached: Option<(ExplainedFor, Arc<Explained>)>,
}

fn lines_grid(ui: &mut egui::Ui, id: &str, lines: &[Line]) {
    egui::Grid::new(id)
        .num_columns(3)
        .striped(true)
        .spacing([10.0, 6.0])
        .show(ui, |ui| {
            for line in lines {
                ui.label(RichText::new(format!("{}:", line.label)).strong());
                ui.label(RichText::new(&line.value).monospace());
                ui.add(egui::Label::new(&line.meaning).wrap());
                ui.end_row();
            }
        });
}

impl Inspector {
    fn explained(
        &mut self,
        socket: &SocketEntry,
        closed: bool,
        view: &ComputedView,
    ) -> Arc<Explained> {
        if let Some((key, text)) = &self.cached {
            if Arc::ptr_eq(&key.snapshot, &view.input.snapshot)
                && key.closed == closed
                && key.socket == *socket
            {
                return Arc::clone(text);
            }
        }
        let explainer = Explainer::new(&view.input.snapshot, &view.ports, view.registry);
        let rate = (!closed).then(|| view.input.rate(socket)).flatten();
        let text = Arc::new(Explained {
            tuple: explainer.tuple(socket),
            state: explainer.state(socket),
            owner: explainer.owner(socket),
            kernel: kernel_lines(socket, rate),
            port: explainer.port(socket),
            aspects: explainer.socket_vs_port(socket),
        });
        let key = ExplainedFor {
            snapshot: Arc::clone(&view.input.snapshot),
            socket: socket.clone(),
            closed,
        };
        self.cached = Some((key, Arc::clone(&text)));
        text
    }

    /// Draws the inspector for `socket`; `closed` says it is no longer in the live snapshot.
    pub fn ui(
        &mut self,
        ui: &mut egui::Ui,
        socket: &SocketEntry,
        closed: bool,
        view: &ComputedView,
    ) -> Vec<Command> {
        let mut commands = Vec::new();
        let text = self.explained(socket, closed, view);
        ui.horizontal(|ui| {
            ui.heading(RichText::new(socket.to_string()).monospace());
            if closed {
                ui.label(
                    RichText::new("closed")
                        .color(ui.visuals().error_fg_color)
                        .strong(),
                )
                .on_hover_text(
                    "This socket is gone from the latest sample; shown as it was last seen.",
                );
            }
            ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                if ui.button("Close inspector").on_hover_text("Esc").clicked() {
                    commands.push(Command::SelectSocket(None));
                }
            });
        });
        ui.separator();
        ScrollArea::vertical()
            .id_salt("inspector-scroll")
            .auto_shrink([false, false])
            .show(ui, |ui| {
                ui.columns(2, |cols| {
                    let left = &mut cols[0];
                    left.label(
                        RichText::new("The socket: one endpoint, as the kernel holds it").heading(),
                    );
                    lines_grid(left, "inspector-tuple", &text.tuple);
                    lines_grid(left, "inspector-state", std::slice::from_ref(&text.state));
                    left.add_space(4.0);
                    left.label(RichText::new("Owner").strong());
                    for line in &text.owner {
                        left.add(egui::Label::new(line).wrap());
                    }
                    left.add_space(4.0);
                    left.label(RichText::new("What the kernel reports").strong());
                    lines_grid(left, "inspector-kernel", &text.kernel);
                    if let Some(seen) = view.input.first_seen.get(&socket.key()) {
                        let age = view
                            .input
                            .age_secs(socket)
                            .map(format_age)
                            .unwrap_or_default();
                        left.label(format!(
                            "First seen {} (age {age})",
                            seen.with_timezone(&Local).format("%H:%M:%S")
                        ));
                    }

                    let right = &mut cols[1];
                    right.label(
                        RichText::new(format!(
                            "Its port: {}/{}",
                            socket.local.port(),
                            socket.protocol
                        ))
                        .heading(),
                    );
                    lines_grid(right, "inspector-port", &text.port);
                    if right
                        .link(format!("Show every socket on port {}", socket.local.port()))
                        .clicked()
                    {
                        commands.push(Command::SetFilter(format!(
                            "lport:{} proto:{}",
                            socket.local.port(),
                            socket.protocol
                        )));
                    }
                });
                ui.add_space(8.0);
                egui::CollapsingHeader::new(
                    RichText::new("Socket vs port, for this very socket").strong(),
                )
                .id_salt("socket-vs-port")
                .default_open(true)
                .show(ui, |ui| {
                    egui::Grid::new("socket-vs-port-grid")
                        .num_columns(3)
                        .striped(true)
                        .spacing([12.0, 6.0])
                        .show(ui, |ui| {
                            ui.label(RichText::new("Aspect").strong());
                            ui.label(
                                RichText::new(format!(
                                    "Port {}/{}",
                                    socket.local.port(),
                                    socket.protocol
                                ))
                                .strong(),
                            );
                            ui.label(RichText::new("This socket").strong());
                            ui.end_row();
                            for a in &text.aspects {
                                ui.label(RichText::new(a.aspect).strong());
                                ui.add(egui::Label::new(&a.port).wrap());
                                ui.add(egui::Label::new(&a.socket).wrap());
                                ui.end_row();
                            }
                        });
                });
            });
        commands
    }
}

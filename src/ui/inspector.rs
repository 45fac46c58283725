//! The inspector: the selected socket explained on the left, its port on the right, and beneath both the
//! socket-versus-port comparison filled with this socket's values. All text comes from
//! [`crate::services::explain`].

use std::sync::Arc;

use chrono::Local;
use egui::{RichText, ScrollArea};

use super::command::Command;
use super::sockets_table::action_buttons;
use super::theme::format_age;
use crate::model::socket::SocketEntry;
use crate::services::explain::Line;
use crate::view::ComputedView;
use crate::view::explained::Explained;

/// The inspector panel. Its text is written on the store thread for the selected socket; for a socket
/// it has no text for (one picked in the Diff view), it writes it here, once per sample and socket.
#[derive(Debug, Default)]
pub struct Inspector {
    cached: Option<Arc<Explained>>,
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
        published: Option<&Arc<Explained>>,
    ) -> Arc<Explained> {
        let fits = |e: &&Arc<Explained>| e.is_for(socket, closed, &view.input.snapshot);
        if let Some(e) = published.filter(fits) {
            return Arc::clone(e);
        }
        if let Some(e) = self.cached.as_ref().filter(fits) {
            return Arc::clone(e);
        }
        let text = Arc::new(Explained::of(socket, closed, None, view));
        self.cached = Some(Arc::clone(&text));
        text
    }

    /// Draws the inspector for `socket`; `closed` says it is no longer in the live snapshot. `explained`
    /// is the store thread's text for the selected socket, used when it is for this one.
    pub fn ui(
        &mut self,
        ui: &mut egui::Ui,
        socket: &SocketEntry,
        closed: bool,
        view: &ComputedView,
        explained: Option<&Arc<Explained>>,
    ) -> Vec<Command> {
        let mut commands = Vec::new();
        let text = self.explained(socket, closed, view, explained);
        heading(ui, socket, closed, &mut commands);
        if !closed {
            ui.horizontal(|ui| {
                commands.extend(action_buttons(ui, socket, &view.input.snapshot));
            });
        }
        ui.separator();
        ScrollArea::vertical()
            .id_salt("inspector-scroll")
            .auto_shrink([false, false])
            .show(ui, |ui| {
                ui.columns(2, |cols| {
                    socket_column(&mut cols[0], &text);
                    port_column(&mut cols[1], socket, &text, &mut commands);
                });
                ui.add_space(8.0);
                egui::CollapsingHeader::new(
                    RichText::new("Socket vs port, for this very socket").strong(),
                )
                .id_salt("socket-vs-port")
                .default_open(true)
                .show(ui, |ui| aspects_grid(ui, socket, &text));
            });
        commands
    }
}

/// The socket as a heading, marked when it closed, with the button that closes the inspector.
fn heading(ui: &mut egui::Ui, socket: &SocketEntry, closed: bool, commands: &mut Vec<Command>) {
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
}

/// The left column: the socket, part by part, its owner and what the kernel reports.
fn socket_column(ui: &mut egui::Ui, text: &Explained) {
    ui.label(RichText::new("The socket: one endpoint, as the kernel holds it").heading());
    lines_grid(ui, "inspector-tuple", &text.tuple);
    lines_grid(ui, "inspector-state", std::slice::from_ref(&text.state));
    ui.add_space(4.0);
    ui.label(RichText::new("Owner").strong());
    for line in &text.owner {
        ui.add(egui::Label::new(line).wrap());
    }
    ui.add_space(4.0);
    ui.label(RichText::new("What the kernel reports").strong());
    lines_grid(ui, "inspector-kernel", &text.kernel);
    if let Some((seen, age)) = text.first_seen {
        ui.label(format!(
            "First seen {} (age {})",
            seen.with_timezone(&Local).format("%H:%M:%S"),
            format_age(age)
        ));
    }
}

/// The right column: the port the socket uses, and a link to every socket on it.
fn port_column(
    ui: &mut egui::Ui,
    socket: &SocketEntry,
    text: &Explained,
    commands: &mut Vec<Command>,
) {
    let (port, proto) = (socket.local.port(), socket.protocol);
    ui.label(RichText::new(format!("Its port: {port}/{proto}")).heading());
    lines_grid(ui, "inspector-port", &text.port);
    if ui
        .link(format!("Show every socket on port {port}"))
        .clicked()
    {
        commands.push(Command::SetFilter(format!("lport:{port} proto:{proto}")));
    }
}

/// Socket vs port, aspect by aspect, with this socket's values.
fn aspects_grid(ui: &mut egui::Ui, socket: &SocketEntry, text: &Explained) {
    egui::Grid::new("socket-vs-port-grid")
        .num_columns(3)
        .striped(true)
        .spacing([12.0, 6.0])
        .show(ui, |ui| {
            ui.label(RichText::new("Aspect").strong());
            let port = format!("Port {}/{}", socket.local.port(), socket.protocol);
            ui.label(RichText::new(port).strong());
            ui.label(RichText::new("This socket").strong());
            ui.end_row();
            for a in &text.aspects {
                ui.label(RichText::new(a.aspect).strong());
                ui.add(egui::Label::new(&a.port).wrap());
                ui.add(egui::Label::new(&a.socket).wrap());
                ui.end_row();
            }
        });
}

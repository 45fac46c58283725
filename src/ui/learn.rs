//! The "Socket vs port" page: the comparison and the four common questions, answered with this
//! machine's sockets; every cited socket is a link that selects it in the Sockets view.

use egui::RichText;

use super::command::Command;
use super::settings::View;
use crate::services::explain::{Evidence, Page};

/// The page panel. The store thread writes the page; this panel only lays it out.
#[derive(Debug, Default)]
pub struct LearnPage;

fn evidence(ui: &mut egui::Ui, items: &[Evidence], commands: &mut Vec<Command>) {
    for e in items {
        match e.socket {
            Some(key) => {
                if ui
                    .link(&e.text)
                    .on_hover_text("Select this socket")
                    .clicked()
                {
                    commands.push(Command::SetView(View::Sockets));
                    commands.push(Command::SelectSocket(Some(key)));
                }
            }
            None => {
                ui.add(egui::Label::new(&e.text).wrap());
            }
        }
    }
}

impl LearnPage {
    /// Draws `page`, written by the store thread for the shown sample; `None` until it arrives.
    pub fn ui(&mut self, ui: &mut egui::Ui, page: Option<&Page>) -> Vec<Command> {
        let mut commands = Vec::new();
        let Some(page) = page else {
            ui.centered_and_justified(|ui| ui.label("Writing the page from the shown sample…"));
            return commands;
        };
        egui::ScrollArea::vertical()
            .id_salt("learn-scroll")
            .auto_shrink([false, false])
            .show(ui, |ui| {
                ui.heading("Socket vs port, on this machine");
                ui.label(
                    "A port is a number in the TCP or the UDP number space of one host; a socket is an \
                     endpoint the kernel keeps for a program, bound to a port. Each row below is filled from \
                     the sockets shown now; links select the socket they cite.",
                );
                ui.add_space(6.0);
                aspects_grid(ui, page, &mut commands);
                ui.add_space(10.0);
                ui.heading("Questions people ask");
                for faq in &page.faqs {
                    egui::CollapsingHeader::new(RichText::new(faq.question).strong())
                        .id_salt(faq.question)
                        .default_open(true)
                        .show(ui, |ui| {
                            ui.add(egui::Label::new(&faq.answer).wrap());
                            evidence(ui, &faq.evidence, &mut commands);
                        });
                }
            });
        commands
    }
}

/// Socket vs port, aspect by aspect, with this machine's evidence.
fn aspects_grid(ui: &mut egui::Ui, page: &Page, commands: &mut Vec<Command>) {
    // Wrapped text in a grid shrinks to its narrowest word unless each cell has a width.
    let total = ui.available_width() - 60.0;
    let widths = [110.0, total * 0.27, total * 0.27, total * 0.46 - 110.0];
    let cell = |ui: &mut egui::Ui, width: f32, add: &mut dyn FnMut(&mut egui::Ui)| {
        ui.vertical(|ui| {
            ui.set_width(width.max(80.0));
            add(ui);
        });
    };
    egui::Grid::new("learn-aspects")
        .num_columns(4)
        .striped(true)
        .spacing([12.0, 8.0])
        .show(ui, |ui| {
            for title in ["Aspect", "Port", "Socket", "On this machine"] {
                ui.label(RichText::new(title).strong());
            }
            ui.end_row();
            for a in &page.aspects {
                cell(ui, widths[0], &mut |ui| {
                    ui.label(RichText::new(a.aspect).strong());
                });
                cell(ui, widths[1], &mut |ui| {
                    ui.add(egui::Label::new(&a.port).wrap());
                });
                cell(ui, widths[2], &mut |ui| {
                    ui.add(egui::Label::new(&a.socket).wrap());
                });
                cell(ui, widths[3], &mut |ui| evidence(ui, &a.evidence, commands));
                ui.end_row();
            }
        });
}

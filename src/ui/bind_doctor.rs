//! "Can I bind…?": the port-conflict doctor in the window, above the Ports table. It answers for the
//! snapshot shown and is recomputed only when the question or the data changes.

use std::net::IpAddr;

use egui::RichText;

use super::command::Command;
use crate::model::privilege::Privilege;
use crate::model::socket::Protocol;
use crate::services::doctor::{BindQuestion, Verdict, why_port};
use crate::view::ComputedView;

/// The doctor panel: the question being typed and the last answer.
#[derive(Debug)]
pub struct BindDoctor {
    port: u16,
    protocol: Protocol,
    address: String,
    cached: Option<(BindQuestion, u64, Verdict)>,
}

impl Default for BindDoctor {
    fn default() -> Self {
        Self {
            port: 8080,
            protocol: Protocol::Tcp,
            address: "0.0.0.0".to_owned(),
            cached: None,
        }
    }
}

impl BindDoctor {
    /// Asks about `port`/`protocol` (from a selected port, say), keeping the address.
    pub fn ask_about(&mut self, protocol: Protocol, port: u16) {
        self.protocol = protocol;
        self.port = port;
    }

    /// Draws the question and the verdict for `view`, as a process with `privilege`.
    pub fn ui(
        &mut self,
        ui: &mut egui::Ui,
        view: &ComputedView,
        privilege: Privilege,
    ) -> Vec<Command> {
        egui::CollapsingHeader::new(RichText::new("Can I bind…?").strong())
            .id_salt("bind-doctor")
            .default_open(false)
            .show(ui, |ui| {
                ui.horizontal(|ui| {
                    let port = ui.label("Port");
                    ui.add(egui::DragValue::new(&mut self.port).range(0..=65535))
                        .labelled_by(port.id);
                    egui::ComboBox::new("bind-doctor-proto", "protocol")
                        .selected_text(self.protocol.as_str())
                        .show_ui(ui, |ui| {
                            for p in [Protocol::Tcp, Protocol::Udp] {
                                ui.selectable_value(&mut self.protocol, p, p.as_str());
                            }
                        });
                    let on = ui.label("on address");
                    ui.add(
                        egui::TextEdit::singleline(&mut self.address)
                            .desired_width(160.0)
                            .hint_text("0.0.0.0, ::, 127.0.0.1"),
                    )
                    .labelled_by(on.id);
                });
                let Ok(address) = self.address.trim().trim_matches(['[', ']']).parse::<IpAddr>()
                else {
                    ui.colored_label(
                        ui.visuals().warn_fg_color,
                        "Type an IP address: 0.0.0.0 and :: mean every address.",
                    );
                    return;
                };
                let question = BindQuestion {
                    protocol: self.protocol,
                    address,
                    port: self.port,
                };
                let verdict = self.verdict(question, view, privilege);
                let (text, color) = if verdict.bindable {
                    ("bindable now", egui::Color32::from_rgb(80, 170, 110))
                } else {
                    ("not bindable now", ui.visuals().error_fg_color)
                };
                ui.label(RichText::new(text).strong().color(color));
                for reason in &verdict.reasons {
                    ui.add(egui::Label::new(format!("• {reason}")).wrap());
                }
                if privilege == Privilege::Unknown {
                    ui.label(
                        RichText::new(
                            "Whether the program you will run may bind privileged ports is not known \
                             here; the answer says what it needs.",
                        )
                        .weak(),
                    );
                }
            });
        Vec::new()
    }

    fn verdict(
        &mut self,
        question: BindQuestion,
        view: &ComputedView,
        privilege: Privilege,
    ) -> &Verdict {
        let generation = view.input.generation;
        let fresh = matches!(&self.cached, Some((q, g, _)) if *q == question && *g == generation);
        if !fresh {
            self.cached = None;
        }
        let (_, _, verdict) = self.cached.get_or_insert_with(|| {
            (
                question,
                generation,
                why_port(&view.input.snapshot, question, privilege),
            )
        });
        verdict
    }
}

//! The ports table: one row per local (protocol, port) in use, and the sockets of the selected port —
//! where a person sees that one port carries many sockets.

use egui::{Label, RichText, Sense};
use egui_extras::{Column, TableBuilder};

use super::bind_doctor::BindDoctor;
use super::command::Command;
use crate::view::ComputedView;
use std::collections::HashSet;

use crate::model::ports::{PortFold, PortKey, PortLine, PortUsage, no_exposure};
use crate::model::privilege::Privilege;
use crate::model::socket::{Protocol, SocketKey};
use crate::model::traffic::format_rate;
use crate::services::registry::Registry;

const HEADERS: [(&str, &str, f32); 11] = [
    ("Port", "Local port number", 56.0),
    ("Proto", "Number space: tcp or udp", 48.0),
    (
        "Service name",
        "Registered service (IANA, local /etc/services)",
        100.0,
    ),
    (
        "Description",
        "IANA's description of the port's registered service (empty where only /etc/services names the port)",
        170.0,
    ),
    (
        "Class",
        "RFC 6335: system 0–1023, user 1024–49151, dynamic 49152–65535",
        64.0,
    ),
    (
        "Ephemeral",
        "Whether the port lies in the sampled machine's ephemeral range: the range the kernel picks from when a \
         program does not choose a port (connect(), sendto(), listen() or bind() to port 0). A program may also \
         bind a port in it.",
        72.0,
    ),
    (
        "Bound to",
        "Local addresses of the sockets on this port, and who can reach them",
        190.0,
    ),
    ("Sockets", "Sockets on this port by state", 170.0),
    (
        "In/s",
        "Bytes per second received by this port's TCP connections since the previous sample",
        72.0,
    ),
    (
        "Out/s",
        "Bytes per second sent (acknowledged by the peers) by this port's TCP connections",
        72.0,
    ),
    ("Processes", "Processes owning sockets on this port", 120.0),
];

/// The ports panel, with the bind doctor above the table.
#[derive(Debug, Default)]
pub struct PortsTable {
    doctor: BindDoctor,
    /// Folds the user opened, by [`PortFold::key`].
    open_folds: HashSet<(Protocol, String, Option<u16>)>,
}

/// One drawn row: a port, or a fold's summary line.
#[derive(Clone, Copy)]
enum Drawn<'a> {
    Port(usize),
    Fold(&'a PortFold),
}

/// A fold's line, cell by cell in the table's columns: count, protocol, owner, remote port, then the
/// ephemeral flag and what the ports carry.
fn fold_cells(fold: &PortFold, open: bool, registry: &Registry) -> [String; 8] {
    let owner = if fold.owner.is_empty() {
        "owner unknown".to_owned()
    } else {
        fold.owner.clone()
    };
    let peer = match fold.peer_port {
        Some(port) => {
            let service = registry.name(port, fold.protocol);
            format!(
                "ephemeral ports → remote port {port}{}",
                if service.is_empty() {
                    String::new()
                } else {
                    format!(" {service}")
                }
            )
        }
        None => "ephemeral ports → several remote ports each".to_owned(),
    };
    [
        format!("{} {}", if open { "▾" } else { "▸" }, fold.ports.len()),
        fold.protocol.to_string(),
        owner,
        peer,
        String::new(),
        "yes".to_owned(),
        no_exposure(fold.protocol).0.to_owned(),
        "connections only".to_owned(),
    ]
}

fn process_names(usage: &PortUsage, view: &ComputedView) -> String {
    let snap = &view.input.snapshot;
    let mut names: Vec<String> = usage
        .pids
        .iter()
        .map(|pid| snap.process_label(*pid))
        .collect();
    names.dedup();
    names.join(", ")
}

/// One line of the busiest processes by traffic, so a process's sum over all its ports is in view too.
fn process_traffic(ui: &mut egui::Ui, view: &ComputedView) {
    let busy: Vec<String> = view
        .traffic
        .by_process
        .iter()
        .filter(|(_, r)| r.total() > 0.0)
        .take(6)
        .map(|(pid, r)| {
            format!(
                "{} ↓{} ↑{}",
                view.input.snapshot.process_label(*pid),
                format_rate(r.in_bps),
                format_rate(r.out_bps)
            )
        })
        .collect();
    if busy.is_empty() {
        return;
    }
    ui.horizontal_wrapped(|ui| {
        ui.label(RichText::new("Traffic by process:").strong())
            .on_hover_text(
                "TCP bytes per second since the previous sample, summed over each process's \
                 connections (↓ received, ↑ sent and acknowledged)",
            );
        ui.label(busy.join("   "));
    });
}

/// A fold's identity, for remembering which folds are open.
type FoldKey = (Protocol, String, Option<u16>);

impl PortsTable {
    /// Draws the table, and under it the sockets of `selected` port.
    pub fn ui(
        &mut self,
        ui: &mut egui::Ui,
        view: &ComputedView,
        selected: Option<PortKey>,
        selected_socket: Option<SocketKey>,
        privilege: Privilege,
    ) -> Vec<Command> {
        ui.style_mut().interaction.selectable_labels = false;
        let mut commands = self.doctor.ui(ui, view, privilege);
        process_traffic(ui, view);
        let table_height = if selected.is_some() {
            ui.available_height() * 0.55
        } else {
            ui.available_height()
        };
        let mut toggled: Option<FoldKey> = None;
        ui.allocate_ui(egui::vec2(ui.available_width(), table_height), |ui| {
            self.table(ui, view, selected, &mut commands, &mut toggled);
        });
        if let Some(key) = toggled {
            if !self.open_folds.remove(&key) {
                self.open_folds.insert(key);
            }
            // The table was drawn before the click was seen: draw again with the fold opened or closed.
            ui.ctx().request_repaint();
        }
        if let Some(usage) = selected.and_then(|key| view.ports.get(key)) {
            commands.extend(port_sockets(ui, view, usage, selected_socket));
        }
        commands
    }

    /// The table itself: headers, then one row per port line (and per port of an open fold).
    fn table(
        &mut self,
        ui: &mut egui::Ui,
        view: &ComputedView,
        selected: Option<PortKey>,
        commands: &mut Vec<Command>,
        toggled: &mut Option<FoldKey>,
    ) {
        let row_height = ui.text_style_height(&egui::TextStyle::Body) + 6.0;
        let mut table = TableBuilder::new(ui)
            .id_salt("ports-table")
            .striped(true)
            .resizable(true)
            .sense(Sense::click());
        for (i, (_, _, w)) in HEADERS.iter().enumerate() {
            table = table.column(if i + 1 == HEADERS.len() {
                Column::remainder().at_least(*w)
            } else {
                Column::initial(*w).at_least(30.0).clip(true)
            });
        }
        table
            .header(row_height + 2.0, |mut header| {
                for (title, tip, _) in HEADERS {
                    header.col(|ui| {
                        ui.label(RichText::new(title).strong()).on_hover_text(tip);
                    });
                }
            })
            .body(|body| {
                let (head, tail) = self.drawn_lines(view);
                let lines = &view.port_lines;
                body.rows(row_height, head + tail.len(), |mut row| {
                    let n = row.index();
                    let drawn = match lines.get(n) {
                        Some(PortLine::Port(i)) if n < head => Some(Drawn::Port(*i)),
                        _ => n.checked_sub(head).and_then(|t| tail.get(t)).copied(),
                    };
                    match drawn {
                        Some(Drawn::Fold(fold)) => {
                            let open = self.open_folds.contains(&fold.key());
                            if fold_row(&mut row, fold, open, view.registry) {
                                *toggled = Some(fold.key());
                            }
                        }
                        Some(Drawn::Port(i)) => {
                            let Some(usage) = view.ports.ports().get(i) else {
                                return;
                            };
                            let key = usage.key();
                            if port_row(&mut row, usage, view, selected == Some(key)) {
                                self.doctor.ask_about(key.protocol, key.port);
                                let again = selected == Some(key);
                                commands.push(Command::SelectPort((!again).then_some(key)));
                            }
                        }
                        None => {}
                    }
                });
            });
    }

    /// How many port lines map to rows one to one (they come first), and what the rows after them draw:
    /// the folds and the ports of open ones. A frame does no work per port.
    fn drawn_lines<'v>(&self, view: &'v ComputedView) -> (usize, Vec<Drawn<'v>>) {
        let lines = &view.port_lines;
        let head = lines
            .iter()
            .position(|l| matches!(l, PortLine::Fold(_)))
            .unwrap_or(lines.len());
        let mut tail: Vec<Drawn<'_>> = Vec::new();
        for line in &lines[head..] {
            match line {
                PortLine::Port(i) => tail.push(Drawn::Port(*i)),
                PortLine::Fold(fold) => {
                    tail.push(Drawn::Fold(fold));
                    if self.open_folds.contains(&fold.key()) {
                        tail.extend(fold.ports.iter().map(|i| Drawn::Port(*i)));
                    }
                }
            }
        }
        (head, tail)
    }
}

/// A fold's row, in italics; true when it was clicked (to open or close it).
fn fold_row(
    row: &mut egui_extras::TableRow<'_, '_>,
    fold: &PortFold,
    open: bool,
    registry: &Registry,
) -> bool {
    let cells = fold_cells(fold, open, registry);
    for text in &cells {
        row.col(|ui| {
            ui.add(Label::new(RichText::new(text).italics()).truncate());
        });
    }
    // Empty cells so the row, and its click area, spans the whole table.
    for _ in cells.len()..HEADERS.len() {
        row.col(|_| {});
    }
    row.response().clicked()
}

/// One port's row; true when it was clicked.
fn port_row(
    row: &mut egui_extras::TableRow<'_, '_>,
    usage: &PortUsage,
    view: &ComputedView,
    selected: bool,
) -> bool {
    row.set_selected(selected);
    let range = view
        .input
        .snapshot
        .facts_in(usage.netns)
        .ephemeral_range_or_default();
    let service = view.registry.service(usage.port, usage.protocol);
    let (badge, badge_tip) = usage.exposure_badge(&view.input.snapshot.place(usage.netns));
    let addrs: Vec<String> = usage.addresses.iter().map(ToString::to_string).collect();
    let shown = &view.input.snapshot;
    let cells = [
        if shown.spans_namespaces() {
            format!("{} ({})", usage.port, shown.namespace_label(usage.netns))
        } else {
            usage.port.to_string()
        },
        usage.protocol.to_string(),
        service.map(|s| s.name.clone()).unwrap_or_default(),
        service.map(|s| s.description.clone()).unwrap_or_default(),
        usage.class().to_string(),
        if range.contains(usage.port) {
            "yes"
        } else {
            "no"
        }
        .to_owned(),
    ];
    for text in cells {
        row.col(|ui| {
            ui.add(Label::new(text).truncate());
        });
    }
    row.col(|ui| {
        // Badge and addresses side by side: stacked, they overflow the row.
        ui.horizontal(|ui| {
            ui.label(RichText::new(badge).small().strong())
                .on_hover_text(badge_tip);
            ui.add(Label::new(addrs.join(", ")).truncate());
        });
    });
    row.col(|ui| {
        ui.add(Label::new(usage.state_summary()).truncate());
    });
    let rate = view.traffic.by_port.get(&usage.key());
    for value in [rate.map(|r| r.in_bps), rate.map(|r| r.out_bps)] {
        row.col(|ui| {
            ui.label(value.map(format_rate).unwrap_or_default());
        });
    }
    row.col(|ui| {
        ui.add(Label::new(process_names(usage, view)).truncate());
    });
    row.response().clicked()
}

/// Under the table: the sockets of the selected port, one port carrying many sockets.
fn port_sockets(
    ui: &mut egui::Ui,
    view: &ComputedView,
    usage: &PortUsage,
    selected_socket: Option<SocketKey>,
) -> Vec<Command> {
    let mut commands = Vec::new();
    ui.separator();
    ui.label(
        RichText::new(format!(
            "{}/{}: {} socket{} on one port — {}",
            usage.port,
            usage.protocol,
            usage.sockets.len(),
            if usage.sockets.len() == 1 { "" } else { "s" },
            usage.state_summary()
        ))
        .strong(),
    );
    egui::ScrollArea::vertical()
        .id_salt("port-sockets")
        .show(ui, |ui| {
            for i in &usage.sockets {
                let Some(s) = view.input.snapshot.sockets.get(*i) else {
                    continue;
                };
                let owner = view.input.snapshot.process_name(s).unwrap_or("—");
                let text = format!("{s}   {owner}");
                if ui
                    .selectable_label(selected_socket == Some(s.key()), text)
                    .clicked()
                {
                    commands.push(Command::SelectSocket(Some(s.key())));
                }
            }
        });
    commands
}

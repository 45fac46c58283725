//! The Unix view: who talks to whom over Unix domain sockets, every Unix socket in a table, and the
//! selected one explained (a name or none instead of a port, an inode, a peer).

use egui::{Label, RichText, Sense};
use egui_extras::{Column, TableBuilder};

use super::command::Command;
use super::sockets_table::sortable_header;
use crate::model::compare::owners_of;
use crate::model::unix::UnixSocket;
use crate::services::explain::unix_lines;
use crate::view::ComputedView;
use crate::view::filter::term;
use crate::view::unix::{UnixColumn, UnixSort};

/// Columns: sort key, header, tooltip, initial width. The last, Namespace, shows only when the sample
/// spans namespaces.
const COLUMNS: [(UnixColumn, &str, &str, f32); 11] = [
    (
        UnixColumn::Type,
        "Type",
        "stream (SOCK_STREAM), dgram (SOCK_DGRAM) or seqpacket (SOCK_SEQPACKET)",
        70.0,
    ),
    (
        UnixColumn::State,
        "State",
        "LISTEN, CONNECTED, or UNCONNECTED (neither)",
        96.0,
    ),
    (
        UnixColumn::Name,
        "Name",
        "The path it is bound to, @name for an abstract name, empty when unnamed (socketpair(), most \
         clients): a Unix socket has a name, never a port",
        240.0,
    ),
    (
        UnixColumn::Inode,
        "Inode",
        "The socket's inode: its identity (socket:[N] in /proc/PID/fd)",
        70.0,
    ),
    (
        UnixColumn::Peer,
        "Peer",
        "The inode of the socket it is connected to",
        70.0,
    ),
    (
        UnixColumn::PeerProcess,
        "Peer process",
        "Who holds the other end",
        120.0,
    ),
    (UnixColumn::Process, "Process", "Who holds this end", 120.0),
    (UnixColumn::User, "User", "The user that created it", 70.0),
    (
        UnixColumn::RecvQueue,
        "Recv-Q",
        "Stream and seqpacket: bytes not yet read. Dgram: the size of the next datagram only. Listener: \
         connections waiting for accept()",
        60.0,
    ),
    (
        UnixColumn::SendQueue,
        "Send-Q",
        "Memory of what this socket sent that the receiver has not yet read (buffer overhead included). \
         Listener: the maximum backlog (listen()'s argument, capped by net.core.somaxconn)",
        60.0,
    ),
    (
        UnixColumn::Namespace,
        "Namespace",
        "The network namespace it was listed in: host, a container, or netns N (an abstract name is \
         per namespace; a path is in the filesystem)",
        110.0,
    ),
];

/// True when column `i` is drawn: the Namespace column only when the sample spans namespaces.
fn shown(i: usize, view: &ComputedView) -> bool {
    COLUMNS[i].0 != UnixColumn::Namespace || view.input.snapshot.spans_namespaces()
}

/// The Unix view panel: remembers the selected socket by (namespace, inode).
#[derive(Debug, Default)]
pub struct UnixTable {
    selected: Option<(Option<u64>, u32)>,
}

impl UnixTable {
    /// Draws the pairs, the table (sorted by `sort`), and the selected socket's explanation; returns a
    /// new sort when a header was clicked.
    pub fn ui(&mut self, ui: &mut egui::Ui, view: &ComputedView, sort: UnixSort) -> Vec<Command> {
        let mut commands = Vec::new();
        ui.style_mut().interaction.selectable_labels = false;
        let snapshot = &view.input.snapshot;
        if snapshot.unix_sockets.is_empty() {
            ui.label(
                "No Unix domain sockets in this sample (a file written before format version 3, a \
                 system other than Linux, or a kernel that refused unix_diag: see the status bar).",
            );
            return commands;
        }
        self.pairs(ui, view);
        let selected = self
            .selected
            .and_then(|key| snapshot.unix_sockets.iter().find(|u| u.key() == key));
        let table_height = if selected.is_some() {
            ui.available_height() * 0.55
        } else {
            ui.available_height()
        };
        ui.allocate_ui(egui::vec2(ui.available_width(), table_height), |ui| {
            self.table(ui, view, sort, &mut commands);
            if view.unix.rows.is_empty() {
                ui.label(
                    "No Unix socket passes the filter. Only proc:, pid:, user:, state:, ns: and plain text \
                     apply to Unix sockets: a Unix socket has a name or none, never a port, an address or a \
                     service, so other terms match none (unless negated).",
                );
            }
        });
        if let Some(u) = selected {
            explained(ui, view, u);
        }
        commands
    }

    /// "Who talks to whom": one clickable line per pair of processes and name.
    fn pairs(&mut self, ui: &mut egui::Ui, view: &ComputedView) {
        let unix = &view.unix;
        let title = format!(
            "Who talks to whom: {} pairs of processes over {} Unix sockets shown",
            unix.pairs.len(),
            unix.rows.len()
        );
        egui::CollapsingHeader::new(title)
            .id_salt("unix-pairs")
            .default_open(true)
            .show(ui, |ui| {
                egui::ScrollArea::vertical()
                    .id_salt("unix-pairs-scroll")
                    .max_height(140.0)
                    .show(ui, |ui| {
                        for pair in &unix.pairs {
                            let via = pair.name.as_deref().unwrap_or("an unnamed pair");
                            let plural = if pair.connections == 1 { "" } else { "s" };
                            let text = format!(
                                "{} ⇄ {}   via {via}   {} connection{plural}",
                                pair.one, pair.other, pair.connections
                            );
                            let Some(example) = view.input.snapshot.unix_sockets.get(pair.example)
                            else {
                                continue;
                            };
                            let on = self.selected == Some(example.key());
                            if ui.selectable_label(on, text).clicked() {
                                self.selected = (!on).then_some(example.key());
                            }
                        }
                    });
            });
    }

    /// The table of Unix sockets that pass the filter.
    fn table(
        &mut self,
        ui: &mut egui::Ui,
        view: &ComputedView,
        sort: UnixSort,
        commands: &mut Vec<Command>,
    ) {
        let row_height = ui.text_style_height(&egui::TextStyle::Body) + 6.0;
        let mut table = TableBuilder::new(ui)
            .id_salt("unix-table")
            .striped(true)
            .resizable(true)
            .sense(Sense::click())
            // The sort arrow sits beside its header, not under it.
            .cell_layout(egui::Layout::left_to_right(egui::Align::Center))
            .min_scrolled_height(0.0);
        let last = (0..COLUMNS.len()).rev().find(|i| shown(*i, view));
        for (i, (_, _, _, width)) in COLUMNS.iter().enumerate() {
            if !shown(i, view) {
                continue;
            }
            table = table.column(if Some(i) == last {
                Column::remainder().at_least(*width)
            } else {
                Column::initial(*width).at_least(30.0).clip(true)
            });
        }
        let list = &view.input.snapshot.unix_sockets;
        table
            .header(row_height + 2.0, |mut header| {
                for (i, (column, title, tip, _)) in COLUMNS.into_iter().enumerate() {
                    if !shown(i, view) {
                        continue;
                    }
                    header.col(|ui| {
                        let arrow = (sort.column == Some(column)).then_some(sort.ascending);
                        if sortable_header(ui, title, tip, arrow) {
                            commands.push(Command::SetUnixSort(sort.clicked(column)));
                        }
                    });
                }
            })
            .body(|body| {
                body.rows(row_height, view.unix.rows.len(), |mut row| {
                    let Some(u) = view.unix.rows.get(row.index()).and_then(|i| list.get(*i)) else {
                        return;
                    };
                    row.set_selected(self.selected == Some(u.key()));
                    let texts = cells(u, view);
                    for (i, text) in texts.iter().enumerate() {
                        if !shown(i, view) {
                            continue;
                        }
                        row.col(|ui| {
                            ui.add(Label::new(text.as_str()).truncate());
                        });
                    }
                    let response = row.response();
                    if response.clicked() {
                        let again = self.selected == Some(u.key());
                        self.selected = (!again).then_some(u.key());
                    }
                    response.context_menu(|ui| {
                        self.selected = Some(u.key());
                        context_menu(ui, u, &texts, view, commands);
                    });
                });
            });
    }
}

/// A row's context menu: copy it or its name, or filter by its process.
fn context_menu(
    ui: &mut egui::Ui,
    u: &UnixSocket,
    texts: &[String],
    view: &ComputedView,
    commands: &mut Vec<Command>,
) {
    if ui.button("Copy row").clicked() {
        let shown: Vec<&str> = texts
            .iter()
            .enumerate()
            .filter(|(i, _)| shown(*i, view))
            .map(|(_, t)| t.as_str())
            .collect();
        commands.push(Command::Copy(shown.join("\t")));
        ui.close();
    }
    if let Some(name) = &u.path {
        if ui.button("Copy name").clicked() {
            commands.push(Command::Copy(name.clone()));
            ui.close();
        }
    }
    let process = u
        .pids
        .first()
        .and_then(|pid| view.input.snapshot.processes.get(pid));
    if let Some(process) = process {
        if ui
            .button(format!("Filter by process {}", process.name))
            .clicked()
        {
            commands.push(Command::SetFilter(term("proc", &process.name)));
            ui.close();
        }
    }
}

/// One row's cell texts, in [`COLUMNS`] order.
fn cells(u: &UnixSocket, view: &ComputedView) -> [String; 11] {
    let snapshot = &view.input.snapshot;
    let peer = view
        .unix
        .peer_of(u)
        .and_then(|i| snapshot.unix_sockets.get(i));
    let number = |n: Option<u32>| n.map(|n| n.to_string()).unwrap_or_default();
    let owners = |pids: &[u32]| {
        if pids.is_empty() {
            String::new()
        } else {
            owners_of(snapshot, pids)
        }
    };
    [
        u.kind.as_str().to_owned(),
        u.state.as_str().to_owned(),
        u.path.clone().unwrap_or_default(),
        u.inode.to_string(),
        number(u.peer_inode),
        peer.map(|p| owners(&p.pids)).unwrap_or_default(),
        owners(&u.pids),
        u.uid
            .and_then(|uid| snapshot.users.get(&uid).cloned())
            .unwrap_or_default(),
        number(u.recv_queue),
        number(u.send_queue),
        snapshot.namespace_label(u.netns),
    ]
}

/// Under the table: the selected socket, explained line by line.
fn explained(ui: &mut egui::Ui, view: &ComputedView, u: &UnixSocket) {
    let snapshot = &view.input.snapshot;
    let peer = view
        .unix
        .peer_of(u)
        .and_then(|i| snapshot.unix_sockets.get(i));
    ui.separator();
    ui.label(RichText::new(u.to_string()).strong().monospace());
    egui::ScrollArea::vertical()
        .id_salt("unix-explained")
        .show(ui, |ui| {
            egui::Grid::new("unix-lines")
                .num_columns(3)
                .striped(true)
                .spacing([12.0, 6.0])
                .show(ui, |ui| {
                    for line in unix_lines(snapshot, u, peer) {
                        ui.label(RichText::new(line.label).strong());
                        ui.label(RichText::new(line.value).monospace());
                        ui.add(Label::new(line.meaning).wrap());
                        ui.end_row();
                    }
                });
        });
}

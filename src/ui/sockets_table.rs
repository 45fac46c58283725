//! The sockets table: one virtualised row per socket, sortable by header, highlighted by change.

use egui::{Label, RichText, Sense};
use egui_extras::{Column, TableBuilder};

use super::command::Command;
use super::theme::{format_age, mark_fill};
use crate::collector::actions::{EndSignal, close_refusal};
use crate::model::socket::{SocketEntry, SocketKey};
use crate::model::traffic::format_rate;
use crate::services::registry::Registry;
use crate::view::ComputedView;
use crate::view::filter::term;
use crate::view::rows::{RowRef, SortColumn, SortSpec};

/// Columns in display order: sort key, header text, tooltip, initial width.
const COLUMNS: [(SortColumn, &str, &str, f32); 15] = [
    (
        SortColumn::Protocol,
        "Protocol",
        "tcp or udp: also the port number space (53/tcp and 53/udp are different ports)",
        56.0,
    ),
    (
        SortColumn::LocalAddress,
        "Local address",
        "The address the socket is bound to; 0.0.0.0 = every IPv4 address, :: = every IPv6 address \
         and every IPv4 address too unless IPV6_V6ONLY is on (new sockets start with net.ipv6.bindv6only)",
        130.0,
    ),
    (
        SortColumn::LocalPort,
        "Local port",
        "This socket's port on this host",
        70.0,
    ),
    (
        SortColumn::RemoteAddress,
        "Remote address",
        "The peer's address; * for a TCP socket that is not connected, empty for a UDP socket without \
         connect()",
        130.0,
    ),
    (
        SortColumn::RemotePort,
        "Remote port",
        "The peer's port; * for a TCP socket that is not connected, empty for a UDP socket without connect()",
        74.0,
    ),
    (
        SortColumn::RemoteHost,
        "Remote host",
        "The peer's host name from the system resolver, with Names on (toolbar); empty until it arrives or \
         when the address has none",
        120.0,
    ),
    (
        SortColumn::State,
        "State",
        "TCP state (RFC 9293); for UDP, whether connect() set a peer (CONNECTED) or not (UNCONNECTED)",
        96.0,
    ),
    (SortColumn::Pid, "PID", "Process holding the socket", 56.0),
    (
        SortColumn::Process,
        "Process",
        "Name of the owning process",
        110.0,
    ),
    (
        SortColumn::User,
        "User",
        "User that created the socket",
        70.0,
    ),
    (
        SortColumn::Service,
        "Service",
        "Registered service of the local port (IANA, /etc/services). Blank where the kernel most likely \
         picked the port for a connection: the socket has a peer, the port lies in its namespace's \
         ephemeral range and is not a reserved one, and no listener or unconnected UDP socket is on it; \
         the registration then names nothing about the socket. svc: and search still match the \
         registered name",
        90.0,
    ),
    (
        SortColumn::Namespace,
        "Namespace",
        "The network namespace the socket lives in: host, or the container its processes belong to (as \
         their cgroup names it). Each namespace has its own ports: 80/tcp in a container is not the \
         host's 80/tcp. Shown when the sample spans several namespaces",
        110.0,
    ),
    (
        SortColumn::RateIn,
        "In/s",
        "Bytes received per second since the previous sample (TCP's byte counters; none for UDP)",
        72.0,
    ),
    (
        SortColumn::RateOut,
        "Out/s",
        "Bytes sent and acknowledged by the peer per second since the previous sample",
        72.0,
    ),
    (
        SortColumn::Age,
        "Age",
        "Time since Sockscope first saw the socket",
        60.0,
    ),
];

/// Position of the Process column in [`COLUMNS`].
const PROCESS_COLUMN: usize = 8;
/// Position of the Namespace column in [`COLUMNS`].
const NAMESPACE_COLUMN: usize = 11;

/// Whether column `i` is drawn: the Namespace column only when the sample spans several namespaces.
fn shown(i: usize, view: &ComputedView) -> bool {
    i != NAMESPACE_COLUMN || view.input.snapshot.spans_namespaces()
}

/// The 5-tuple and state as one line, for the clipboard.
#[must_use]
pub fn five_tuple(s: &SocketEntry) -> String {
    s.to_string()
}

fn cell_texts(
    s: &SocketEntry,
    row: RowRef,
    view: &ComputedView,
    registry: &Registry,
) -> [String; 15] {
    let (raddr, rport) = match (s.remote, s.peer()) {
        (None, _) => (String::new(), String::new()),
        (Some(_), None) => ("*".to_owned(), "*".to_owned()),
        (Some(_), Some(p)) => (p.ip().to_string(), p.port().to_string()),
    };
    let pid = match s.pids.as_slice() {
        [] => String::new(),
        [one] => one.to_string(),
        [first, rest @ ..] => format!("{first} +{}", rest.len()),
    };
    let rate = view.input.rate(s);
    let owners = view.input.owners(row);
    [
        s.protocol.to_string(),
        s.local.ip().to_string(),
        s.local.port().to_string(),
        raddr,
        rport,
        view.input.host(s).unwrap_or_default().to_owned(),
        s.state.as_str().to_owned(),
        pid,
        owners.process.clone(),
        owners.user.clone().unwrap_or_default(),
        registry
            .local_service(s, view.ports.kernel_picked(&view.input.snapshot, s))
            .to_owned(),
        view.input.snapshot.namespace_label(s.netns),
        rate.map(|r| format_rate(r.in_bps)).unwrap_or_default(),
        rate.map(|r| format_rate(r.out_bps)).unwrap_or_default(),
        view.input.age_secs(row).map(format_age).unwrap_or_default(),
    ]
}

/// One row's text, tab-separated, for "Copy row".
#[must_use]
pub fn row_text(s: &SocketEntry, row: RowRef, view: &ComputedView, registry: &Registry) -> String {
    let cells: Vec<String> = cell_texts(s, row, view, registry)
        .into_iter()
        .enumerate()
        .filter(|(i, _)| shown(*i, view))
        .map(|(_, text)| text)
        .collect();
    cells.join("\t")
}

/// A column header that sorts when clicked: its title, its tooltip, and the arrow of the sort when the
/// table is sorted by it (`Some(ascending)`). True when clicked.
pub(crate) fn sortable_header(
    ui: &mut egui::Ui,
    title: &str,
    tip: &str,
    arrow: Option<bool>,
) -> bool {
    let clicked = ui
        .add(egui::Button::new(RichText::new(title).strong()).frame(false))
        .on_hover_text(tip)
        .clicked();
    if let Some(ascending) = arrow {
        sort_arrow(ui, ascending);
    }
    clicked
}

/// A painted triangle (no font needs the glyph), announced to screen readers and tests by its direction.
fn sort_arrow(ui: &mut egui::Ui, ascending: bool) {
    let (rect, response) = ui.allocate_exact_size(egui::vec2(9.0, 8.0), Sense::hover());
    let color = ui.visuals().strong_text_color();
    let (top, bottom) = (rect.top(), rect.bottom());
    let points = if ascending {
        vec![
            egui::pos2(rect.center().x, top),
            egui::pos2(rect.right(), bottom),
            egui::pos2(rect.left(), bottom),
        ]
    } else {
        vec![
            egui::pos2(rect.left(), top),
            egui::pos2(rect.right(), top),
            egui::pos2(rect.center().x, bottom),
        ]
    };
    ui.painter().add(egui::Shape::convex_polygon(
        points,
        color,
        egui::Stroke::NONE,
    ));
    let text = if ascending {
        "sorted ascending"
    } else {
        "sorted descending"
    };
    response.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Label, true, text));
    response.on_hover_text(text);
}

/// The sockets table panel.
#[derive(Debug, Default)]
pub struct SocketsTable;

impl SocketsTable {
    /// Draws the table; `scroll_to` brings a row into view (after keyboard navigation).
    pub fn ui(
        &mut self,
        ui: &mut egui::Ui,
        view: &ComputedView,
        selected: Option<SocketKey>,
        sort: SortSpec,
        scroll_to: Option<usize>,
    ) -> Vec<Command> {
        let mut commands = Vec::new();
        let dark = ui.visuals().dark_mode;
        let row_height = ui.text_style_height(&egui::TextStyle::Body) + 6.0;
        ui.style_mut().interaction.selectable_labels = false;
        let mut table = TableBuilder::new(ui)
            .id_salt("sockets-table")
            .striped(true)
            .resizable(true)
            .sense(Sense::click())
            .cell_layout(egui::Layout::left_to_right(egui::Align::Center))
            .min_scrolled_height(0.0);
        for (i, (_, _, _, width)) in COLUMNS.iter().enumerate() {
            if !shown(i, view) {
                continue;
            }
            let col = if i + 1 == COLUMNS.len() {
                Column::remainder().at_least(*width)
            } else {
                Column::initial(*width).at_least(30.0).clip(true)
            };
            table = table.column(col);
        }
        if let Some(row) = scroll_to {
            table = table.scroll_to_row(row, None);
        }
        table
            .header(row_height + 2.0, |mut header| {
                for (i, (column, title, tip, _)) in COLUMNS.into_iter().enumerate() {
                    if !shown(i, view) {
                        continue;
                    }
                    header.col(|ui| {
                        let arrow = (sort.column == column).then_some(sort.ascending);
                        if sortable_header(ui, title, tip, arrow) {
                            commands.push(Command::SetSort(sort.clicked(column)));
                        }
                    });
                }
            })
            .body(|body| {
                body.rows(row_height, view.rows.len(), |mut row| {
                    if let Some(&row_ref) = view.rows.get(row.index()) {
                        socket_row(&mut row, row_ref, view, selected, dark, &mut commands);
                    }
                });
            });
        commands
    }
}

/// One socket's row: cells tinted by its change mark, a quiet reason where the owner is missing, and
/// the context menu.
fn socket_row(
    row: &mut egui_extras::TableRow<'_, '_>,
    row_ref: RowRef,
    view: &ComputedView,
    selected: Option<SocketKey>,
    dark: bool,
    commands: &mut Vec<Command>,
) {
    let Some(socket) = view.input.socket(row_ref) else {
        return;
    };
    let key = socket.key();
    row.set_selected(selected == Some(key) && !matches!(row_ref, RowRef::Closed(_)));
    let fill = view.input.mark(row_ref).map(|m| mark_fill(m, dark));
    for (i, text) in cell_texts(socket, row_ref, view, view.registry)
        .into_iter()
        .enumerate()
        .filter(|(i, _)| shown(*i, view))
    {
        row.col(|ui| {
            if let Some(fill) = fill {
                ui.painter()
                    .rect_filled(ui.max_rect().expand2(egui::vec2(4.0, 3.0)), 0.0, fill);
            }
            match (i, socket.owner_note) {
                // No owner: say why, quietly, where the process name would be.
                (PROCESS_COLUMN, Some(note)) if socket.pids.is_empty() => {
                    ui.add(Label::new(RichText::new(note.label()).italics().weak()).truncate())
                        .on_hover_text(note.sentence());
                }
                _ => {
                    ui.add(Label::new(text).truncate());
                }
            }
        });
    }
    let response = row.response();
    if response.clicked() {
        commands.push(Command::SelectSocket(Some(key)));
    }
    response.context_menu(|ui| context_menu(ui, socket, row_ref, view, commands));
}

/// A row's context menu: select it, copy it, or filter by its process or port.
fn context_menu(
    ui: &mut egui::Ui,
    socket: &SocketEntry,
    row_ref: RowRef,
    view: &ComputedView,
    commands: &mut Vec<Command>,
) {
    commands.push(Command::SelectSocket(Some(socket.key())));
    if ui.button("Copy row").clicked() {
        commands.push(Command::Copy(row_text(
            socket,
            row_ref,
            view,
            view.registry,
        )));
        ui.close();
    }
    if ui.button("Copy 5-tuple").clicked() {
        commands.push(Command::Copy(five_tuple(socket)));
        ui.close();
    }
    if let Some(name) = view.input.snapshot.process_name(socket) {
        if ui.button(format!("Filter by process {name}")).clicked() {
            commands.push(Command::SetFilter(term("proc", name)));
            ui.close();
        }
    }
    let port = socket.local.port();
    if ui.button(format!("Filter by port {port}")).clicked() {
        commands.push(Command::SetFilter(format!("port:{port}")));
        ui.close();
    }
    if !matches!(row_ref, RowRef::Closed(_)) {
        ui.separator();
        let asked = action_buttons(ui, socket, &view.input.snapshot);
        if !asked.is_empty() {
            ui.close();
        }
        commands.extend(asked);
    }
}

/// "Close connection…" and "End process…" (each opens a confirmation first), for the context menu and
/// the inspector. A connection that cannot be closed shows why instead.
pub fn action_buttons(
    ui: &mut egui::Ui,
    socket: &SocketEntry,
    snapshot: &crate::model::snapshot::Snapshot,
) -> Vec<Command> {
    let mut commands = Vec::new();
    if socket.protocol == crate::model::socket::Protocol::Tcp {
        let refusal = close_refusal(socket);
        let button = ui.add_enabled(refusal.is_none(), egui::Button::new("Close connection…"));
        let button = match &refusal {
            Some(why) => button.on_disabled_hover_text(&why.message),
            None => button.on_hover_text("Abort this one connection, as ss -K does (asks first)"),
        };
        if button.clicked() {
            commands.push(Command::AskClose(Box::new(socket.clone())));
        }
    }
    if let Some(&pid) = socket.pids.first() {
        let label = snapshot.process_label(pid);
        for (text, signal) in [
            (format!("End process {label}…"), EndSignal::Term),
            (format!("Kill process {label} (SIGKILL)…"), EndSignal::Kill),
        ] {
            if ui.button(text).clicked() {
                commands.push(Command::AskEnd { pid, signal });
            }
        }
    }
    commands
}

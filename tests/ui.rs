//! The window as a person uses it, driven by egui_kittest with no display, fed by a replay source.
#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly on purpose.

mod common;

use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use sockscope::model::snapshot::{PortRange, Snapshot};
use sockscope::model::socket::{SocketEntry, TcpState};
use sockscope::model::store::ChangeMark;
use sockscope::ui::SockscopeApp;
use sockscope::ui::settings::Settings;
use sockscope::view::rows::{SortColumn, SortSpec};

/// A TCP socket owned by `pid` through `inode`, user 1000.
fn tcp(local: &str, remote: &str, state: TcpState, pid: u32, inode: u32) -> SocketEntry {
    common::owned(common::tcp(local, remote, state), pid, inode)
}

/// A postgres listener with three accepted connections (and their psql client ends), one HTTPS client
/// connection from firefox, and a UDP socket.
fn machine(secs: i64) -> Snapshot {
    let mut s = Snapshot::empty("testhost", common::at(secs));
    s.ephemeral_range = Some(PortRange::LINUX_DEFAULT);
    s.sockets
        .push(tcp("0.0.0.0:5432", "0.0.0.0:0", TcpState::Listen, 100, 1));
    for i in 0..3u16 {
        let client = 40112 + i;
        s.sockets.push(tcp(
            "127.0.0.1:5432",
            &format!("127.0.0.1:{client}"),
            TcpState::Established,
            100,
            10 + u32::from(i),
        ));
        s.sockets.push(tcp(
            &format!("127.0.0.1:{client}"),
            "127.0.0.1:5432",
            TcpState::Established,
            200,
            20 + u32::from(i),
        ));
    }
    s.sockets.push(tcp(
        "10.0.0.2:51000",
        "10.0.0.10:443",
        TcpState::Established,
        300,
        30,
    ));
    s.sockets
        .push(common::owned(common::udp("0.0.0.0:5353", None), 400, 40));
    for (pid, name) in [
        (100, "postgres"),
        (200, "psql"),
        (300, "firefox"),
        (400, "avahi-daemon"),
    ] {
        common::add_process(&mut s, pid, name, Some("alice"));
    }
    s.users.insert(1000, "alice".into());
    s
}

fn harness(snapshots: Vec<Snapshot>, settings: Settings) -> Harness<'static, SockscopeApp> {
    common::window_replaying(snapshots, settings)
}

fn shown_local_ports(h: &Harness<'_, SockscopeApp>) -> Vec<u16> {
    let view = h.state().shown().unwrap();
    view.rows
        .iter()
        .map(|r| view.input.socket(*r).unwrap().local.port())
        .collect()
}

#[test]
fn clicking_local_port_header_sorts_by_port_both_ways() {
    let settings = Settings {
        sort: SortSpec {
            column: SortColumn::Pid,
            ascending: false,
        },
        ..Settings::default()
    };
    let mut h = harness(vec![machine(0)], settings);
    h.get_by_label("Local port").click();
    h.run();
    let asc = shown_local_ports(&h);
    assert_eq!(
        h.state().settings().sort,
        SortSpec {
            column: SortColumn::LocalPort,
            ascending: true
        }
    );
    assert!(asc.windows(2).all(|w| w[0] <= w[1]), "ascending: {asc:?}");
    assert_eq!(asc.first(), Some(&5353));
    assert!(
        h.query_by_label("sorted ascending").is_some(),
        "an arrow shows the direction"
    );
    h.get_by_label("Local port").click();
    h.run();
    let desc = shown_local_ports(&h);
    assert!(
        desc.windows(2).all(|w| w[0] >= w[1]),
        "descending: {desc:?}"
    );
    assert_eq!(desc.first(), Some(&51000));
    assert!(h.query_by_label("sorted descending").is_some());
}

#[test]
fn typing_port_filter_leaves_only_matching_rows() {
    let mut h = harness(vec![machine(0)], Settings::default());
    assert!(h.query_by_label("firefox").is_some());
    let filter = h.get_by_role(Role::TextInput);
    filter.focus();
    filter.type_text("port:5432");
    h.run();
    assert_eq!(h.state().settings().filter, "port:5432");
    let view = h.state().shown().unwrap();
    assert_eq!(view.rows.len(), 7, "listener, 3 accepted, 3 clients");
    for r in view.rows.iter() {
        let s = view.input.socket(*r).unwrap();
        assert!(
            s.local.port() == 5432 || s.peer().map(|p| p.port()) == Some(5432),
            "{s:?}"
        );
    }
    assert!(
        h.query_by_label("firefox").is_none(),
        "the HTTPS row is filtered out"
    );
    assert!(h.query_by_label("avahi-daemon").is_none());
}

#[test]
fn unknown_filter_field_shows_a_hint() {
    let mut h = harness(vec![machine(0)], Settings::default());
    let filter = h.get_by_role(Role::TextInput);
    filter.focus();
    filter.type_text("colour:red");
    h.run();
    assert!(
        h.query_by_label_contains("unknown field \"colour\"")
            .is_some()
    );
}

#[test]
fn selecting_a_row_shows_the_inspector_with_service_and_class() {
    let mut h = harness(vec![machine(0)], Settings::default());
    assert!(h.query_by_label("Its port: 5432/tcp").is_none());
    h.get_by_label("LISTEN").click();
    h.run();
    assert!(h.state().selected().is_some());
    assert!(
        h.query_by_label("Its port: 5432/tcp").is_some(),
        "the port panel opens beside the socket panel"
    );
    assert!(
        h.query_by_label("The socket: one endpoint, as the kernel holds it")
            .is_some()
    );
    assert!(h.query_by_label("Service:").is_some() && h.query_by_label("Class:").is_some());
    assert!(
        h.query_by_label("user").is_some(),
        "5432 is an RFC 6335 user port"
    );
    assert!(
        h.query_by_label_contains("PostgreSQL Database").is_some(),
        "IANA's description"
    );
    assert!(
        h.query_all_by_label_contains("1 LISTEN + 3 ESTABLISHED")
            .count()
            >= 1,
        "who else uses the port"
    );
    assert!(
        h.query_by_label("Socket vs port, for this very socket")
            .is_some()
    );
    h.key_press(egui::Key::Escape);
    h.run();
    assert!(h.state().selected().is_none(), "Esc clears the selection");
    assert!(h.query_by_label("Its port: 5432/tcp").is_none());
}

#[test]
fn arrow_keys_move_the_selection_and_space_pauses() {
    let mut h = harness(vec![machine(0)], Settings::default());
    h.key_press(egui::Key::ArrowDown);
    h.run();
    let first = h.state().selected().unwrap();
    h.key_press(egui::Key::ArrowDown);
    h.run();
    let second = h.state().selected().unwrap();
    assert_ne!(first, second);
    h.key_press(egui::Key::ArrowUp);
    h.run();
    assert_eq!(h.state().selected(), Some(first));
    h.key_press(egui::Key::Space);
    h.run();
    assert!(h.state().is_paused());
    assert!(h.query_by_label("Resume").is_some());
}

#[test]
fn a_socket_that_disappears_is_shown_closed_then_removed() {
    let first = machine(0);
    let mut second = machine(1);
    second.sockets.retain(|s| s.local.port() != 51000);
    let third = second.clone();
    let mut h = harness(vec![first, second, third], Settings::default());
    assert!(h.query_by_label("firefox").is_some());

    h.state_mut().sample_now();
    h.run();
    let view = h.state().shown().unwrap();
    let closed: Vec<_> = view
        .rows
        .iter()
        .filter(|r| view.input.mark(**r) == Some(ChangeMark::Closed))
        .collect();
    assert_eq!(
        closed.len(),
        1,
        "the vanished socket stays one interval, marked closed"
    );
    assert_eq!(view.input.socket(*closed[0]).unwrap().local.port(), 51000);
    assert!(
        h.query_by_label("firefox").is_some(),
        "still listed while marked closed"
    );

    h.state_mut().sample_now();
    h.run();
    assert!(
        h.query_by_label("firefox").is_none(),
        "removed after one interval"
    );
    assert!(h.query_by_label("51000").is_none());
}

#[test]
fn ports_view_shows_one_listen_plus_n_established() {
    let mut h = harness(vec![machine(0)], Settings::default());
    h.get_by_label("Ports").click();
    h.run();
    assert!(h.query_by_label("1 LISTEN + 3 ESTABLISHED").is_some());
    h.get_by_label("1 LISTEN + 3 ESTABLISHED").click();
    h.run();
    assert!(
        h.query_by_label_contains("4 sockets on one port").is_some(),
        "selecting a port lists its sockets"
    );
}

#[test]
fn context_menu_filters_by_process() {
    let mut h = harness(vec![machine(0)], Settings::default());
    h.get_by_label("firefox").click_secondary();
    h.run();
    h.get_by_label("Filter by process firefox").click();
    h.run();
    assert_eq!(h.state().settings().filter, "proc:firefox");
    assert_eq!(h.state().shown().unwrap().rows.len(), 1);
}

#[test]
fn filtering_by_a_process_whose_name_has_a_space_keeps_exactly_its_sockets() {
    let mut s = machine(0);
    // Firefox's content processes are named "Web Content"; a "Web" process must not match.
    s.sockets.push(tcp(
        "10.0.0.2:51001",
        "10.0.0.10:443",
        TcpState::Established,
        500,
        50,
    ));
    s.sockets.push(tcp(
        "10.0.0.2:51002",
        "10.0.0.11:443",
        TcpState::Established,
        500,
        51,
    ));
    s.sockets.push(tcp(
        "10.0.0.2:51003",
        "10.0.0.12:80",
        TcpState::Established,
        600,
        52,
    ));
    common::add_process(&mut s, 500, "Web Content", Some("alice"));
    common::add_process(&mut s, 600, "Web", Some("alice"));
    let mut h = harness(vec![s], Settings::default());
    h.get_all_by_label("Web Content")
        .next()
        .unwrap()
        .click_secondary();
    h.run();
    h.get_by_label("Filter by process Web Content").click();
    h.run();
    assert_eq!(h.state().settings().filter, "proc:\"Web Content\"");
    let view = h.state().shown().unwrap();
    let pids: Vec<u32> = view
        .rows
        .iter()
        .map(|r| view.input.socket(*r).unwrap().pids[0])
        .collect();
    assert_eq!(
        pids,
        vec![500, 500],
        "both of its sockets, no other process's"
    );
}

/// A minute of history: an HTTPS-heavy client with churn, so 443 is the busiest port.
fn busy_history() -> Vec<Snapshot> {
    (0..60)
        .map(|t| {
            let mut s = machine(t);
            for i in 0..(20 + u16::try_from(t % 7).unwrap()) {
                s.sockets.push(tcp(
                    &format!("10.0.0.2:{}", 52000 + i),
                    "10.0.0.10:443",
                    TcpState::Established,
                    300,
                    1000 + u32::from(i),
                ));
            }
            s
        })
        .collect()
}

fn click_at(h: &mut Harness<'_, SockscopeApp>, pos: egui::Pos2) {
    h.event(egui::Event::PointerMoved(pos));
    for pressed in [true, false] {
        h.event(egui::Event::PointerButton {
            pos,
            button: egui::PointerButton::Primary,
            pressed,
            modifiers: egui::Modifiers::default(),
        });
    }
}

#[test]
fn charts_view_renders_from_history() {
    let mut h = harness(busy_history(), Settings::default());
    for _ in 1..60 {
        h.state_mut().sample_now();
    }
    h.run();
    assert_eq!(h.state().published().unwrap().history.len(), 60);
    h.get_by_label("Charts").click();
    h.run();
    assert_eq!(
        h.state().settings().view,
        sockscope::ui::settings::View::Charts
    );
    for title in [
        "Sockets by TCP state, and UDP",
        "Churn: sockets opened (up) and closed (down) per sample",
        "Top ports now (click a bar to filter)",
        "Top processes now (click a bar to filter)",
        "Local ports by RFC 6335 class, and in the OS ephemeral range",
        "Ephemeral port budget",
    ] {
        assert!(h.query_by_label(title).is_some(), "{title}");
    }
    assert!(
        h.state().charts().bar_center("443/tcp https").is_some(),
        "443 is among the top ports"
    );
}

#[test]
fn clicking_the_bar_of_port_443_filters_the_sockets_view() {
    let mut h = harness(busy_history(), Settings::default());
    h.state_mut().sample_now();
    h.get_by_label("Charts").click();
    h.run();
    let bar = h
        .state()
        .charts()
        .bar_center("443/tcp https")
        .expect("the 443 bar is drawn");
    click_at(&mut h, bar);
    h.run();
    assert_eq!(h.state().settings().filter, "port:443");
    assert_eq!(
        h.state().settings().view,
        sockscope::ui::settings::View::Sockets
    );
    let view = h.state().shown().unwrap();
    assert!(!view.rows.is_empty());
    assert!(
        view.rows
            .iter()
            .all(|r| view.input.socket(*r).unwrap().peer().map(|p| p.port()) == Some(443))
    );
    assert!(
        h.query_all_by_label("firefox").count() > 1,
        "firefox's HTTPS connections are listed"
    );
    assert!(h.query_by_label("postgres").is_none());
}

mod files {
    use super::*;
    use sockscope::export::json::{ExportOptions, write_json};
    use sockscope::export::read::open_snapshot;
    use sockscope::services::registry::Registry;
    use sockscope::ui::dialogs::ScriptedDialogs;
    use std::path::PathBuf;

    /// The window on `snapshot` filtered by `filter`, its Export window open; Save… writes `path`.
    fn export_window(
        snapshot: Snapshot,
        filter: &str,
        path: &std::path::Path,
    ) -> Harness<'static, SockscopeApp> {
        let settings = Settings {
            filter: filter.into(),
            ..Settings::default()
        };
        let dialogs = ScriptedDialogs::new([Some(path.to_owned())]);
        let mut h = common::window_with_dialogs(vec![snapshot], settings, dialogs);
        h.get_by_label("Export…").click();
        h.run();
        h
    }

    fn harness_with_dialogs(
        snapshots: Vec<Snapshot>,
        dialogs: ScriptedDialogs,
    ) -> Harness<'static, SockscopeApp> {
        common::window_with_dialogs(snapshots, Settings::default(), dialogs)
    }

    fn saved(snapshot: &Snapshot, path: &std::path::Path) {
        let mut out = std::fs::File::create(path).unwrap();
        write_json(
            &mut out,
            snapshot,
            Registry::global(),
            ExportOptions::default(),
        )
        .unwrap();
    }

    #[test]
    fn pausing_with_a_file_open_keeps_showing_the_file_and_leaves_live_data_live() {
        let dir = common::temp_dir();
        let path = dir.path().join("server.json");
        let mut server = machine(0);
        server.sockets.retain(|s| s.local.port() != 51000);
        saved(&server, &path);
        let mut h =
            harness_with_dialogs(vec![machine(0)], ScriptedDialogs::new([Some(path.clone())]));
        h.get_by_label("Open…").click();
        h.run();
        h.key_press(egui::Key::Space);
        h.run();
        assert_eq!(h.state().shown_file(), Some(path.as_path()));
        assert!(!h.state().is_paused(), "a file has nothing to freeze");
        assert!(
            h.query_by_label("firefox").is_none(),
            "still the file's sockets"
        );
        h.get_by_label("Back to live").click();
        h.run();
        assert!(!h.state().is_paused());
        assert!(
            h.query_by_label("firefox").is_some(),
            "live again, not frozen"
        );
    }

    #[test]
    fn opening_a_saved_file_shows_a_banner_and_back_to_live_returns() {
        let dir = common::temp_dir();
        let path = dir.path().join("server.json");
        let mut server = machine(0);
        server.host = "db-server-7".into();
        server.sockets.retain(|s| s.local.port() != 51000);
        saved(&server, &path);
        let live = machine(0);
        let mut h = harness_with_dialogs(vec![live], ScriptedDialogs::new([Some(path.clone())]));
        assert!(
            h.query_by_label("firefox").is_some(),
            "live data has the firefox socket"
        );
        assert!(
            h.query_all_by_label("0s").count() > 0,
            "live sockets have an age"
        );
        h.get_by_label("Open…").click();
        h.run();
        assert_eq!(h.state().shown_file(), Some(path.as_path()));
        assert!(
            h.query_by_label("0s").is_none(),
            "a file's sockets have no age: nobody saw them appear"
        );
        let banner = h.get_by_label_contains("Viewing ");
        let text = format!("{banner:?}");
        assert!(
            text.contains("server.json") && text.contains("db-server-7"),
            "{text}"
        );
        assert!(
            h.query_by_label("firefox").is_none(),
            "the file's sockets are shown, not live ones"
        );
        h.get_by_label("Back to live").click();
        h.run();
        assert!(h.state().shown_file().is_none());
        assert!(h.query_by_label_contains("Viewing ").is_none());
        assert!(h.query_by_label("firefox").is_some());
    }

    /// The window's HTML export and `sockscope snapshot --format html` are one writer: the same snapshot
    /// gives the same bytes.
    #[test]
    fn the_html_report_of_the_window_is_the_one_the_cli_writes() {
        let dir = common::temp_dir();
        let saved_path = dir.path().join("saved.json");
        saved(&machine(0), &saved_path);
        let window_html = dir.path().join("window.html");
        let mut h = harness_with_dialogs(
            vec![machine(5)],
            ScriptedDialogs::new([Some(saved_path.clone()), Some(window_html.clone())]),
        );
        h.get_by_label("Open…").click();
        h.run();
        h.get_by_label("Export…").click();
        h.run();
        h.get_by_label("HTML report").click();
        h.run();
        h.get_by_label("Save…").click();
        h.run();
        let cli_html = dir.path().join("cli.html");
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_sockscope"))
            .args(["snapshot", "--from"])
            .arg(&saved_path)
            .args(["--format", "html", "-o"])
            .arg(&cli_html)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let window = std::fs::read_to_string(&window_html).unwrap();
        assert!(
            window.contains("<html") && window.contains("testhost"),
            "{window}"
        );
        assert_eq!(window, std::fs::read_to_string(&cli_html).unwrap());
    }

    #[test]
    fn export_writes_the_chosen_file_and_it_opens_back() {
        let dir = common::temp_dir();
        let path = dir.path().join("snap.json");
        let mut h =
            harness_with_dialogs(vec![machine(0)], ScriptedDialogs::new([Some(path.clone())]));
        h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::S);
        h.run();
        assert!(
            h.query_by_label("Export snapshot").is_some(),
            "Ctrl+S opens the export window"
        );
        h.get_by_label("Save…").click();
        h.run();
        assert!(
            h.state()
                .message()
                .unwrap()
                .starts_with("Saved 9 sockets to"),
            "{:?}",
            h.state().message()
        );
        let back = open_snapshot(&path).unwrap();
        assert_eq!(back, machine(0), "what was shown is what was saved");
    }

    #[test]
    fn export_of_the_filtered_rows_writes_only_those() {
        let dir = common::temp_dir();
        let path = dir.path().join("firefox.json");
        let mut h = export_window(machine(0), "proc:firefox", &path);
        h.get_by_label("Only what the filter shows: 1 of 9 sockets")
            .click();
        h.run();
        h.get_by_label("Save…").click();
        h.run();
        let back = open_snapshot(&path).unwrap();
        assert_eq!(back.sockets.len(), 1);
        assert_eq!(back.sockets[0].local.port(), 51000);
        assert_eq!(
            back.host, "testhost",
            "the rest of the snapshot comes along"
        );
        assert!(back.processes.contains_key(&300));
    }

    #[test]
    fn export_of_the_filtered_rows_keeps_only_the_unix_sockets_shown() {
        let dir = common::temp_dir();
        let path = dir.path().join("psql.json");
        let mut h = export_window(machine_with_unix_sockets(0), "proc:psql", &path);
        h.get_by_label("CSV").click();
        h.run();
        assert!(
            h.query_by_label("Only what the filter shows: 3 of 9 sockets")
                .is_some(),
            "CSV holds no Unix sockets"
        );
        h.get_by_label("JSON").click();
        h.run();
        h.get_by_label(
            "Only what the filter shows: 3 of 9 TCP/UDP sockets, 2 of 5 Unix sockets (with their peers)",
        )
            .click();
        h.run();
        h.get_by_label("Save…").click();
        h.run();
        let back = open_snapshot(&path).unwrap();
        assert_eq!(back.sockets.len(), 3, "psql's TCP sockets");
        let inodes: Vec<u32> = back.unix_sockets.iter().map(|u| u.inode).collect();
        assert_eq!(
            inodes,
            vec![901, 902, 903, 904],
            "psql's two ends, and postgres's ends of them"
        );
    }

    #[test]
    fn export_to_an_unwritable_place_says_where_and_why() {
        let mut h = harness_with_dialogs(
            vec![machine(0)],
            ScriptedDialogs::new([Some(PathBuf::from("/nonexistent-dir/x.json"))]),
        );
        h.get_by_label("Export…").click();
        h.run();
        h.get_by_label("Save…").click();
        h.run();
        let msg = h.state().message().unwrap().to_owned();
        assert!(
            msg.contains("/nonexistent-dir/x.json") && msg.contains("No such file"),
            "{msg}"
        );
        assert!(
            h.query_by_label(msg.as_str()).is_some(),
            "shown in the status bar"
        );
    }

    #[test]
    fn without_any_dialog_a_path_field_is_offered() {
        let dir = common::temp_dir();
        let mut h = harness_with_dialogs(vec![machine(0)], ScriptedDialogs::unavailable());
        h.get_by_label("Export…").click();
        h.run();
        assert!(
            h.query_by_label_contains("No file dialog is available here")
                .is_some()
        );
        let field = h.get_all_by_role(Role::TextInput).last().unwrap();
        field.focus();
        field.type_text(dir.path().join("typed.csv").to_str().unwrap());
        h.run();
        h.get_by_label("CSV").click();
        h.run();
        h.get_by_label("Save").click();
        h.run();
        let text = std::fs::read_to_string(dir.path().join("typed.csv")).unwrap();
        assert!(text.starts_with("protocol,family,local_address"), "{text}");
    }

    #[test]
    fn comparing_with_a_file_lists_the_changes_in_the_diff_view() {
        let dir = common::temp_dir();
        let path = dir.path().join("before.json");
        let mut before = machine(0);
        before.sockets.retain(|s| s.local.port() != 51000);
        saved(&before, &path);
        let mut h = harness_with_dialogs(vec![machine(1)], ScriptedDialogs::new([Some(path)]));
        h.get_by_label("Compare…").click();
        h.run();
        assert_eq!(
            h.state().settings().view,
            sockscope::ui::settings::View::Diff
        );
        let c = h.state().comparison().unwrap();
        assert_eq!(c.diff.opened.len(), 1);
        assert!(
            h.query_by_label("+ tcp 10.0.0.2:51000 -> 10.0.0.10:443 ESTABLISHED firefox[300]")
                .is_some()
        );
        assert!(
            h.query_by_label_contains("Comparing before.json (before) with live (after)")
                .is_some()
        );
        h.get_by_label("+ tcp 10.0.0.2:51000 -> 10.0.0.10:443 ESTABLISHED firefox[300]")
            .click();
        h.run();
        assert!(
            h.query_by_label("Its port: 51000/tcp").is_some(),
            "the same inspector"
        );
    }
}

/// Two samples one second apart in which postgres's first connection moved 2 MB in and 50 kB out.
fn traffic_samples() -> Vec<Snapshot> {
    use sockscope::model::kernel::TcpInfo;
    let with_counters = |secs: i64, rx: u64, tx: u64| {
        let mut s = machine(secs);
        for (i, sock) in s.sockets.iter_mut().enumerate() {
            sock.details.cookie = Some(1000 + i as u64);
            if sock.tcp_state() == Some(TcpState::Established) {
                let busy =
                    sock.local.port() == 5432 && sock.peer().map(|p| p.port()) == Some(40112);
                sock.details.tcp_info = Some(TcpInfo {
                    bytes_received: Some(if busy { rx } else { 7 }),
                    bytes_acked: Some(if busy { tx } else { 7 }),
                    ..TcpInfo::default()
                });
            }
        }
        s
    };
    vec![
        with_counters(0, 1_000_000, 10_000),
        with_counters(1, 3_000_000, 60_000),
    ]
}

#[test]
fn traffic_since_the_previous_sample_shows_in_columns_and_the_busiest_chart() {
    let mut h = harness(traffic_samples(), Settings::default());
    h.state_mut().sample_now();
    h.run();
    assert!(h.query_by_label("In/s").is_some(), "an In/s column");
    assert!(
        h.query_by_label("2.0 MB/s").is_some(),
        "the busy connection's receive rate is shown"
    );
    assert!(h.query_by_label("50.0 KB/s").is_some());
    // Sorting by In/s, descending, puts the busy connection's receiving end first.
    h.get_by_label("In/s").click();
    h.run();
    h.get_by_label("In/s").click();
    h.run();
    let view = h.state().shown().unwrap();
    let first = view.input.socket(view.rows[0]).unwrap();
    assert_eq!(
        (first.local.port(), first.peer().map(|p| p.port())),
        (5432, Some(40112)),
        "the busiest receiver sorts first"
    );
    h.get_by_label("Charts").click();
    h.run();
    let label = "tcp 127.0.0.1:5432 -> 127.0.0.1:40112 postgres";
    let bar = h
        .state()
        .charts()
        .bar_center(label)
        .expect("the busiest connection has a bar");
    click_at(&mut h, bar);
    h.run();
    assert_eq!(
        h.state().settings().view,
        sockscope::ui::settings::View::Sockets
    );
    let selected = h.state().selected().expect("clicking the bar selects it");
    assert_eq!(selected.local.port(), 5432);
    assert_eq!(selected.remote.map(|r| r.port()), Some(40112));
    assert!(
        h.query_by_label("↓2.0 MB/s ↑50.0 KB/s").is_some(),
        "the inspector shows the connection's traffic"
    );
}

#[test]
fn a_connected_udp_socket_is_explained_with_its_peer() {
    let mut s = machine(0);
    s.sockets.push(
        SocketEntry::udp(
            "127.0.0.1:41684".parse().unwrap(),
            Some("127.0.0.53:53".parse().unwrap()),
        )
        .with_inode(77)
        .with_pids(vec![400]),
    );
    let mut h = harness(vec![s], Settings::default());
    h.get_by_label("41684").click();
    h.run();
    assert!(
        h.query_all_by_label("CONNECTED").count() >= 2,
        "in the table and the inspector"
    );
    assert!(
        h.query_all_by_label_contains("only datagrams from 127.0.0.53:53")
            .next()
            .is_some(),
        "the inspector says a connected UDP socket hears only its peer"
    );
}

#[test]
fn what_the_collector_could_not_see_shows_in_the_status_bar() {
    let mut s = machine(0);
    let note = "cannot list tcp (IPv4) sockets from the kernel (sock_diag): permission denied; read \
                /proc/net instead";
    s.notes.push(note.to_owned());
    let h = harness(vec![s], Settings::default());
    assert!(
        h.query_by_label_contains("read /proc/net instead")
            .is_some()
    );
}

#[test]
fn socket_vs_port_page_answers_with_live_evidence_and_links_select_sockets() {
    let mut h = harness(vec![machine(0)], Settings::default());
    h.get_by_label("Socket vs port").click();
    h.run();
    for aspect in [
        "Definition",
        "Scope",
        "Type",
        "Role",
        "Configuration",
        "Security",
        "Connection type",
        "Lifecycle",
        "Addressing",
        "Dependency",
        "Examples",
    ] {
        assert!(h.query_by_label(aspect).is_some(), "aspect {aspect}");
    }
    for question in [
        "Can a socket use several ports?",
        "Are open ports exploitable?",
        "Can a running service change its port?",
        "Are port numbers the same everywhere?",
    ] {
        assert!(h.query_by_label(question).is_some(), "question {question}");
    }
    // Live numbers from the replayed machine: 2 TCP ports in use besides UDP's 5353, 9 sockets.
    assert!(
        h.query_by_label_contains("by 9 sockets, 9 of them held by 4 visible processes")
            .is_some()
    );
    assert!(
        h.query_by_label("Port 5432/tcp carries 4 sockets.")
            .is_some()
    );
    h.get_by_label("Port 5432/tcp carries 4 sockets.")
        .scroll_to_me();
    h.run();
    h.get_by_label("Port 5432/tcp carries 4 sockets.").click();
    h.run();
    assert_eq!(
        h.state().settings().view,
        sockscope::ui::settings::View::Sockets
    );
    let selected = h.state().selected().expect("the link selects a socket");
    assert_eq!(selected.local.port(), 5432);
}

#[test]
fn the_bind_doctor_names_the_listener_that_blocks_a_port() {
    let mut h = harness(vec![machine(0)], Settings::default());
    h.get_by_label("Ports").click();
    h.run();
    h.get_by_label("Can I bind…?").click();
    h.run();
    // Selecting port 5432 asks about it; the postgres listener on 0.0.0.0 holds it.
    h.get_by_label("postgresql").click();
    h.run();
    assert!(h.query_by_label("not bindable now").is_some());
    assert!(h.query_by_label_contains("Refused (EADDRINUSE)").is_some());
    assert!(
        h.query_by_label_contains("LISTEN (postgres[100])")
            .is_some(),
        "the blocking listener and its owner are named"
    );
}

#[test]
fn a_remembered_diff_view_with_nothing_to_compare_falls_back_to_sockets() {
    let settings = Settings {
        view: sockscope::ui::settings::View::Diff,
        ..Settings::default()
    };
    let h = harness(vec![machine(0)], settings);
    assert_eq!(
        h.state().settings().view,
        sockscope::ui::settings::View::Sockets
    );
    assert!(
        h.query_by_label("LISTEN").is_some(),
        "the sockets table is shown"
    );
}

#[test]
fn ports_view_folds_outgoing_only_ephemeral_ports_and_opens_the_fold_on_click() {
    let mut s = machine(0);
    for i in 0..4u16 {
        s.sockets.push(tcp(
            &format!("10.0.0.2:{}", 51001 + i),
            "10.0.0.10:443",
            TcpState::Established,
            300,
            60 + u32::from(i),
        ));
    }
    let mut h = harness(vec![s], Settings::default());
    h.get_by_label("Ports").click();
    h.run();
    let fold = "▸ 5";
    assert!(
        h.query_by_label(fold).is_some(),
        "firefox's five client ports are one line"
    );
    assert!(
        h.query_by_label("ephemeral ports → remote port 443 https")
            .is_some()
    );
    assert!(
        h.query_by_label("51003").is_none(),
        "folded ports are hidden"
    );
    assert!(
        h.query_by_label("5432").is_some(),
        "service ports stay in view"
    );
    h.get_by_label(fold).click();
    h.run();
    assert!(
        h.query_by_label("51003").is_some(),
        "an open fold lists its ports"
    );
    assert!(h.query_by_label("▾ 5").is_some());
}

/// The window as the app runs it: a replay source sampled by the collector thread, ingested and computed by
/// the store thread, published to the window. The test waits on the store's publications, never sleeps.
#[test]
fn the_window_is_fed_through_the_collector_and_store_threads() {
    let first = machine(0);
    let mut second = machine(1);
    second.sockets.retain(|s| s.local.port() != 51000);
    let mut h = common::window_threaded(vec![first, second], Settings::default());
    let wait = std::time::Duration::from_secs(30);
    assert!(
        h.state_mut().wait_for_store(wait),
        "the first sample arrives"
    );
    h.run();
    assert!(h.query_by_label("firefox").is_some());
    assert_eq!(h.state().shown().unwrap().rows.len(), 9);

    let filter = h.get_by_role(Role::TextInput);
    filter.focus();
    filter.type_text("proc:firefox");
    h.run();
    assert!(
        h.state_mut().wait_for_store(wait),
        "the store answers the filter"
    );
    h.run();
    assert_eq!(h.state().shown().unwrap().rows.len(), 1);
    assert!(
        h.query_by_label("postgres").is_none(),
        "filtered on the store thread"
    );

    h.state_mut().sample_now();
    let second_at = common::at(1);
    assert!(h.state_mut().wait_until(wait, |p| {
        p.snapshot().is_some_and(|s| s.taken_at == second_at)
    }));
    h.run();
    let view = h.state().shown().unwrap();
    assert_eq!(view.rows.len(), 1, "the filter still applies");
    assert_eq!(
        view.input.mark(view.rows[0]),
        Some(ChangeMark::Closed),
        "firefox's connection closed in the second sample"
    );
    h.get_by_label("Pause").click();
    h.run();
    assert!(h.state_mut().wait_until(wait, |p| matches!(
        p.showing,
        sockscope::view::Showing::Frozen { .. }
    )));
    h.run();
    assert!(h.query_by_label("PAUSED").is_some());
}

/// Waits (bounded) until the fake has been asked `n` things: actions run on their own thread.
fn asked_after(
    h: &mut Harness<'_, SockscopeApp>,
    actions: &common::RecordingActions,
    n: usize,
) -> Vec<String> {
    for _ in 0..200 {
        h.run();
        if actions.asked().len() >= n {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    actions.asked()
}

#[test]
fn closing_a_connection_asks_first_and_cancel_does_nothing() {
    let mut s = machine(0);
    for socket in &mut s.sockets {
        socket.details.cookie = socket.inode.map(u64::from);
    }
    let actions = std::sync::Arc::new(common::RecordingActions::default());
    let mut h = common::window_with_actions(vec![s], Settings::default(), actions.clone());
    let open_menu = |h: &mut Harness<'_, SockscopeApp>| {
        h.get_all_by_label("51000")
            .next()
            .unwrap()
            .click_secondary();
        h.run();
        // The right click also selected it: the menu and the inspector both offer the action.
        h.get_all_by_label("Close connection…")
            .next()
            .unwrap()
            .click();
        h.run();
    };
    open_menu(&mut h);
    let question = h.state().question().unwrap().to_owned();
    assert!(
        question.contains("tcp 10.0.0.2:51000 -> 10.0.0.10:443 ESTABLISHED")
            && question.contains("firefox[300]")
            && question.contains("CAP_NET_ADMIN"),
        "{question}"
    );
    h.get_by_label("Cancel").click();
    h.run();
    // Only a confirmation starts an action (on its thread); after Cancel there is none to wait for.
    assert_eq!(actions.asked(), Vec::<String>::new());
    assert!(h.state().question().is_none(), "cancel closes the question");

    open_menu(&mut h);
    h.get_by_label("Close connection").click();
    assert_eq!(
        asked_after(&mut h, &actions, 1),
        vec!["close tcp 10.0.0.2:51000 -> 10.0.0.10:443 ESTABLISHED".to_owned()]
    );
    assert!(
        h.state()
            .message()
            .is_some_and(|m| m.starts_with("Closed tcp 10.0.0.2:51000")),
        "{:?}",
        h.state().message()
    );
}

#[test]
fn ending_a_process_names_it_and_its_sockets_and_kill_is_a_separate_request() {
    let actions = std::sync::Arc::new(common::RecordingActions::default());
    let mut h = common::window_with_actions(vec![machine(0)], Settings::default(), actions.clone());
    h.get_all_by_label("51000")
        .next()
        .unwrap()
        .click_secondary();
    h.run();
    h.get_all_by_label("End process firefox[300]…")
        .next()
        .unwrap()
        .click();
    h.run();
    let question = h.state().question().unwrap().to_owned();
    assert!(
        question.contains("Send SIGTERM to firefox[300] (user alice)")
            && question.contains("1 socket(s)"),
        "{question}"
    );
    h.get_by_label("End process (SIGTERM)").click();
    assert_eq!(asked_after(&mut h, &actions, 1), vec!["end 300 SIGTERM"]);
}

#[test]
fn names_are_looked_up_only_when_turned_on_and_then_show_and_filter() {
    let asked = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = asked.clone();
    let lookup: sockscope::collector::resolver::Lookup =
        std::sync::Arc::new(move |ip: std::net::IpAddr| {
            seen.lock().unwrap().push(ip);
            match ip.to_string().as_str() {
                "10.0.0.10" => Some("web.example".to_owned()),
                "127.0.0.1" => Some("localhost".to_owned()),
                _ => None,
            }
        });
    let mut h = common::window_with_names(vec![machine(0)], Settings::default(), lookup);
    h.state_mut().sample_now();
    h.run();
    assert!(
        asked.lock().unwrap().is_empty(),
        "off by default: nothing looked up"
    );
    assert!(h.query_by_label("web.example").is_none());

    h.get_by_label("Names").click();
    h.run();
    // Answers arrive on resolver threads; the next sample shows them (bounded wait).
    for _ in 0..200 {
        h.state_mut().sample_now();
        h.run();
        if h.query_by_label("web.example").is_some() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    assert!(
        h.query_by_label("web.example").is_some(),
        "the peer's name shows"
    );
    assert!(
        h.state().settings().resolve_names,
        "the setting is remembered"
    );

    h.get_by_label("Names").click();
    h.run();
    h.state_mut().sample_now();
    h.run();
    assert!(!h.state().settings().resolve_names);
}

#[test]
fn the_host_filter_keeps_the_peers_with_that_name() {
    let lookup: sockscope::collector::resolver::Lookup =
        std::sync::Arc::new(|ip: std::net::IpAddr| {
            (ip.to_string() == "10.0.0.10").then(|| "web.example".to_owned())
        });
    let settings = Settings {
        resolve_names: true,
        filter: "host:web".into(),
        ..Settings::default()
    };
    let mut h = common::window_with_names(vec![machine(0)], settings, lookup);
    for _ in 0..200 {
        h.state_mut().sample_now();
        h.run();
        if shown_local_ports(&h) == vec![51000] {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    assert_eq!(
        shown_local_ports(&h),
        vec![51000],
        "only firefox's connection to web.example"
    );
}

/// `machine`, with a web server listening on 5432 too, inside an lxc container's namespace.
fn machine_with_a_container(secs: i64) -> Snapshot {
    use sockscope::model::netns::NetNamespace;
    let mut s = machine(secs);
    for socket in &mut s.sockets {
        socket.netns = Some(1);
    }
    s.sockets
        .push(tcp("0.0.0.0:5432", "0.0.0.0:0", TcpState::Listen, 500, 50).with_netns(2));
    common::add_process(&mut s, 500, "pg-in-lxc", Some("alice"));
    for (inode, host, container) in [(1, true, None), (2, false, Some("lxc web1"))] {
        s.namespaces
            .insert(inode, NetNamespace::listed(inode, host, container));
    }
    s
}

/// A client's port the kernel picked is not named after the service IANA registered for that number.
#[test]
fn a_clients_picked_port_shows_no_registered_service() {
    let mut s = machine(0);
    s.sockets.push(tcp(
        "127.0.0.1:40000",
        "127.0.0.1:5432",
        TcpState::Established,
        200,
        90,
    ));
    let mut served = s.clone();
    // A server of 40000/tcp itself: its listener's port is named.
    served
        .sockets
        .push(tcp("0.0.0.0:40000", "0.0.0.0:0", TcpState::Listen, 500, 91));
    let h = harness(vec![s], Settings::default());
    assert!(h.query_by_label("40000").is_some());
    assert!(
        h.query_by_label("safetynetp").is_none(),
        "40000 is registered as safetynetp, but the kernel picked it for psql"
    );
    let h = harness(vec![served], Settings::default());
    assert_eq!(h.query_all_by_label("safetynetp").count(), 2);
}

#[test]
fn the_bar_of_a_containers_port_names_it_and_filters_to_its_namespace() {
    let mut h = harness(vec![machine_with_a_container(0)], Settings::default());
    h.get_by_label("Charts").click();
    h.run();
    let bar = h
        .state()
        .charts()
        .bar_center("5432/tcp postgresql (lxc web1)")
        .expect("the container's 5432 has its own bar");
    assert!(
        h.state()
            .charts()
            .bar_center("5432/tcp postgresql (host)")
            .is_some(),
        "the host's 5432 is another port"
    );
    click_at(&mut h, bar);
    h.run();
    assert_eq!(h.state().settings().filter, "port:5432 ns:2");
    let view = h.state().shown().unwrap();
    let kept: Vec<String> = view
        .rows
        .iter()
        .map(|r| view.input.socket(*r).unwrap().to_string())
        .collect();
    assert_eq!(kept, vec!["tcp 0.0.0.0:5432 -> *:* LISTEN"]);
}

#[test]
fn a_container_listener_shows_its_namespace_and_ns_filters_it() {
    let h = harness(vec![machine(0)], Settings::default());
    assert!(
        h.query_by_label("Namespace").is_none(),
        "one namespace: no namespace column"
    );
    let mut h2 = harness(vec![machine_with_a_container(0)], Settings::default());
    assert!(h2.query_by_label("Namespace").is_some());
    assert!(h2.query_by_label("lxc web1").is_some());
    let filter = h2.get_by_role(Role::TextInput);
    filter.focus();
    filter.type_text("ns:web1");
    h2.run();
    let view = h2.state().shown().unwrap();
    let kept: Vec<String> = view
        .rows
        .iter()
        .map(|r| view.input.socket(*r).unwrap().to_string())
        .collect();
    assert_eq!(kept, vec!["tcp 0.0.0.0:5432 -> *:* LISTEN"]);
    assert!(h2.query_by_label("pg-in-lxc").is_some());
    assert!(h2.query_by_label("postgres").is_none());
}

#[test]
fn the_ports_view_counts_the_same_number_in_two_namespaces_as_two_ports() {
    let settings = Settings {
        view: sockscope::ui::settings::View::Ports,
        ..Settings::default()
    };
    let h = harness(vec![machine_with_a_container(0)], settings);
    assert!(h.query_by_label("5432 (host)").is_some());
    assert!(h.query_by_label("5432 (lxc web1)").is_some());
}

/// `machine`, with postgres also listening on a Unix socket and psql connected to it twice.
fn machine_with_unix_sockets(secs: i64) -> Snapshot {
    use sockscope::model::unix::UnixSocket;
    let mut s = machine(secs);
    let unix = |inode, peer: Option<u32>, path: Option<&str>, pid| UnixSocket {
        recv_queue: Some(0),
        send_queue: Some(0),
        uid: Some(1000),
        ..UnixSocket::stream(inode, peer, path, vec![pid])
    };
    let path = Some("/run/postgresql/.s.PGSQL.5432");
    s.unix_sockets = vec![
        unix(900, None, path, 100),
        unix(901, Some(902), path, 100),
        unix(902, Some(901), None, 200),
        unix(903, Some(904), path, 100),
        unix(904, Some(903), None, 200),
    ];
    s
}

#[test]
fn the_unix_view_pairs_processes_and_explains_a_socket_without_a_port() {
    let mut h = harness(vec![machine_with_unix_sockets(0)], Settings::default());
    h.get_by_label("Unix sockets").click();
    h.run();
    assert_eq!(
        h.state().settings().view,
        sockscope::ui::settings::View::Unix
    );
    let pair = "postgres[100] ⇄ psql[200]   via /run/postgresql/.s.PGSQL.5432   2 connections";
    assert!(
        h.query_by_label("Identity").is_none(),
        "nothing selected yet"
    );
    h.get_by_label(pair).click();
    h.run();
    assert!(
        h.query_by_label("Identity").is_some(),
        "the selected socket is explained"
    );
    assert!(h.query_by_label("inode 901").is_some());
    let filter = h.get_by_role(Role::TextInput);
    filter.focus();
    filter.type_text("proc:psql");
    h.run();
    let view = h.state().shown().unwrap();
    let kept: Vec<u32> = view
        .unix
        .rows
        .iter()
        .map(|i| view.input.snapshot.unix_sockets[*i].inode)
        .collect();
    assert_eq!(kept, vec![902, 904], "only psql's ends");
}

#[test]
fn a_port_filter_in_the_unix_view_says_why_nothing_is_left() {
    let mut h = harness(vec![machine_with_unix_sockets(0)], Settings::default());
    h.get_by_label("Unix sockets").click();
    h.run();
    let why = "No Unix socket passes the filter. Only proc:, pid:, user:, state:, ns: and plain text \
               apply to Unix sockets: a Unix socket has a name or none, never a port, an address or a \
               service, so other terms match none (unless negated).";
    assert!(h.query_by_label(why).is_none());
    let filter = h.get_by_role(Role::TextInput);
    filter.focus();
    filter.type_text("port:5432");
    h.run();
    assert!(h.query_by_label(why).is_some());
}

#[test]
fn a_unix_rows_context_menu_filters_by_its_process() {
    let mut h = harness(vec![machine_with_unix_sockets(0)], Settings::default());
    h.get_by_label("Unix sockets").click();
    h.run();
    h.query_all_by_label("psql[200]")
        .next()
        .expect("psql holds a row")
        .click_secondary();
    h.run();
    h.get_by_label("Filter by process psql").click();
    h.run();
    assert_eq!(h.state().settings().filter, "proc:psql");
    let view = h.state().shown().unwrap();
    assert_eq!(view.unix.rows.len(), 2);
}

#[test]
fn clicking_a_unix_header_sorts_by_it_and_clicking_again_reverses() {
    let mut h = harness(vec![machine_with_unix_sockets(0)], Settings::default());
    h.get_by_label("Unix sockets").click();
    h.run();
    let inodes = |h: &Harness<'_, SockscopeApp>| {
        let view = h.state().shown().unwrap();
        view.unix
            .rows
            .iter()
            .map(|i| view.input.snapshot.unix_sockets[*i].inode)
            .collect::<Vec<u32>>()
    };
    assert_eq!(
        inodes(&h),
        vec![900, 902, 904, 901, 903],
        "the listener first, then unnamed ends, then by name"
    );
    h.get_by_label("Peer").click();
    h.run();
    assert_eq!(
        inodes(&h),
        vec![900, 902, 901, 904, 903],
        "unconnected first, then by peer inode"
    );
    h.get_by_label("Peer").click();
    h.run();
    assert_eq!(inodes(&h), vec![903, 904, 901, 902, 900]);
    assert_eq!(
        h.state().settings().unix_sort,
        sockscope::view::unix::UnixSort {
            column: Some(sockscope::view::unix::UnixColumn::Peer),
            ascending: false
        }
    );
}

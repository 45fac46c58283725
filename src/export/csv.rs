//! CSV export: one row per socket, for spreadsheets and `grep`.

use std::io::Write;

use serde::Serialize;

use crate::model::port_class::PortClass;
use crate::model::snapshot::Snapshot;
use crate::services::registry::Registry;

/// One CSV row. Column order is part of the public format.
#[derive(Serialize)]
struct Row<'a> {
    protocol: &'static str,
    family: &'static str,
    local_address: String,
    local_port: u16,
    remote_address: Option<String>,
    remote_port: Option<u16>,
    state: Option<&'static str>,
    pids: String,
    process: String,
    user: Option<&'a str>,
    service: &'a str,
    port_class: PortClass,
    inode: Option<u32>,
    uid: Option<u32>,
    owner_note: Option<&'static str>,
    v6only: Option<bool>,
    interface: Option<&'a str>,
    cookie: Option<u64>,
    recv_queue: Option<u32>,
    send_queue: Option<u32>,
    timer: Option<&'static str>,
    timer_expires_ms: Option<u32>,
    rtt_us: Option<u32>,
    total_retrans: Option<u32>,
    bytes_acked: Option<u64>,
    bytes_received: Option<u64>,
    remote_host: Option<&'a str>,
    netns: Option<u64>,
    namespace: String,
}

/// The CSV header, in order.
pub const CSV_COLUMNS: [&str; 29] = [
    "protocol",
    "family",
    "local_address",
    "local_port",
    "remote_address",
    "remote_port",
    "state",
    "pids",
    "process",
    "user",
    "service",
    "port_class",
    "inode",
    "uid",
    "owner_note",
    "v6only",
    "interface",
    "cookie",
    "recv_queue",
    "send_queue",
    "timer",
    "timer_expires_ms",
    "rtt_us",
    "total_retrans",
    "bytes_acked",
    "bytes_received",
    "remote_host",
    "netns",
    "namespace",
];

/// Writes one header row and one row per socket. Several PIDs are joined with `;`.
///
/// # Errors
/// Any write error.
pub fn write_csv(
    out: &mut dyn Write,
    snapshot: &Snapshot,
    registry: &Registry,
) -> std::io::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    for s in &snapshot.sockets {
        let port = s.local.port();
        let d = &s.details;
        let info = d.tcp_info.as_ref();
        let row = Row {
            protocol: s.protocol.as_str(),
            family: s.family().as_str(),
            local_address: s.local.ip().to_string(),
            local_port: port,
            remote_address: s.remote.map(|r| r.ip().to_string()),
            remote_port: s.remote.map(|r| r.port()),
            state: Some(s.state.as_str()).filter(|st| !st.is_empty()),
            pids: s
                .pids
                .iter()
                .map(u32::to_string)
                .collect::<Vec<_>>()
                .join(";"),
            process: snapshot.process_names_by_pid(s),
            user: snapshot.user_of(s),
            service: registry.name(port, s.protocol),
            port_class: PortClass::of(port),
            inode: s.inode,
            uid: s.uid,
            owner_note: s.owner_note.map(|n| n.as_str()),
            v6only: d.v6only,
            interface: d.interface.as_deref(),
            cookie: d.cookie,
            recv_queue: d.recv_queue,
            send_queue: d.send_queue,
            timer: d.timer.map(|t| t.kind.as_str()),
            timer_expires_ms: d.timer.map(|t| t.expires_ms),
            rtt_us: info.and_then(|i| i.rtt_us),
            total_retrans: info.and_then(|i| i.total_retrans),
            bytes_acked: info.and_then(|i| i.bytes_acked),
            bytes_received: info.and_then(|i| i.bytes_received),
            remote_host: snapshot.remote_host(s),
            netns: s.netns,
            namespace: snapshot.namespace_label(s.netns),
        };
        w.serialize(row).map_err(std::io::Error::other)?;
    }
    if snapshot.sockets.is_empty() {
        w.write_record(CSV_COLUMNS).map_err(std::io::Error::other)?;
    }
    w.flush()
}

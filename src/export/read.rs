//! Opening snapshot files: JSON (the full format) or CSV (rebuilt from its columns), with every problem
//! reported as one line naming the file and, where the parser knows it, the line or field.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::Read;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use super::json::{FileError, read_json};
use crate::model::failure::{Failure, FailureKind};
use crate::model::kernel::{KernelDetails, SocketTimer, TcpInfo, TimerKind};
use crate::model::netns::NetNamespace;
use crate::model::snapshot::{ProcessInfo, Snapshot};
use crate::model::socket::{Family, OwnerNote, Protocol, SocketEntry, SocketState, UdpState};

/// Files larger than this are refused before reading: a real snapshot of 100 000 sockets is ~40 MB.
pub const MAX_FILE_BYTES: u64 = 256 * 1024 * 1024;

/// Why a file could not be opened, with its path.
#[derive(Debug, thiserror::Error)]
#[error("{}: {reason}", path.display())]
pub struct OpenError {
    /// The file.
    pub path: PathBuf,
    /// What kind of problem: missing, not permitted, unreadable, or not a valid snapshot.
    pub kind: FailureKind,
    /// What is wrong, in one line.
    pub reason: String,
}

impl OpenError {
    /// The failure as the window shows it: this error's line, with its kind.
    #[must_use]
    pub fn failure(&self) -> Failure {
        Failure::new(self.kind, self.to_string())
    }
}

/// Reads a snapshot file, JSON or CSV (told apart by content, not name).
///
/// # Errors
/// Unreadable, empty, too large, malformed or invalid files, one line each.
pub fn open_snapshot(path: &Path) -> Result<Snapshot, OpenError> {
    let fail = |kind: FailureKind, reason: String| OpenError {
        path: path.to_owned(),
        kind,
        reason,
    };
    let unreadable = |e: std::io::Error| fail(FailureKind::of_io(&e), format!("cannot read: {e}"));
    let meta = std::fs::metadata(path).map_err(unreadable)?;
    if meta.is_dir() {
        return Err(fail(
            FailureKind::Malformed,
            "is a directory, not a snapshot file".to_owned(),
        ));
    }
    if meta.len() > MAX_FILE_BYTES {
        return Err(fail(
            FailureKind::Malformed,
            format!(
                "is {:.1} MiB; Sockscope opens snapshot files up to {} MiB",
                meta.len() as f64 / 1_048_576.0,
                MAX_FILE_BYTES / 1_048_576
            ),
        ));
    }
    let file = std::fs::File::open(path).map_err(unreadable)?;
    // The size was checked, but a file can grow while it is read: never read past the limit.
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(unreadable)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(fail(
            FailureKind::Malformed,
            format!(
                "grew past {} MiB while being read",
                MAX_FILE_BYTES / 1_048_576
            ),
        ));
    }
    let modified = meta.modified().ok().map(DateTime::<Utc>::from);
    parse_snapshot(&bytes, modified).map_err(|e| {
        let kind = match &e {
            FileError::Io(io) => FailureKind::of_io(io),
            FileError::Parse(_) | FileError::Invalid(_) => FailureKind::Malformed,
        };
        fail(kind, e.to_string())
    })
}

/// Parses snapshot bytes, JSON or CSV. `modified` dates a CSV file, which has no timestamp of its own.
///
/// # Errors
/// What is wrong, in one line.
pub fn parse_snapshot(
    bytes: &[u8],
    modified: Option<DateTime<Utc>>,
) -> Result<Snapshot, FileError> {
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
    match first {
        None => Err(FileError::Invalid("the file is empty".to_owned())),
        Some(b'{') => read_json(bytes),
        Some(b'[') => Err(FileError::Invalid(
            "a JSON array is not a Sockscope snapshot (expected an object with \"format\")"
                .to_owned(),
        )),
        Some(_) => read_csv(bytes, modified.unwrap_or_else(Utc::now)),
    }
}

/// Columns a CSV file must have to be opened.
pub const CSV_REQUIRED: [&str; 7] = [
    "protocol",
    "local_address",
    "local_port",
    "remote_address",
    "remote_port",
    "state",
    "pids",
];

/// Rebuilds a snapshot from a CSV export: sockets from its rows; processes from `pids`, `process` and
/// `user`. Host is unknown and the time is `taken_at` (the file's modification time).
///
/// # Errors
/// Missing columns, or a row with a bad value, naming the line and column.
pub fn read_csv(bytes: &[u8], taken_at: DateTime<Utc>) -> Result<Snapshot, FileError> {
    let mut reader = csv::ReaderBuilder::new().flexible(false).from_reader(bytes);
    let headers = reader
        .headers()
        .map_err(|e| FileError::Parse(format!("CSV header: {e}")))?
        .clone();
    let col = csv_columns(&headers)?;
    let mut snapshot = Snapshot::empty("unknown host (CSV)", taken_at);
    let mut keys = HashSet::new();
    let mut processes: BTreeMap<u32, ProcessInfo> = BTreeMap::new();
    for record in reader.records() {
        let record = record.map_err(|e| FileError::Parse(format!("CSV: {e}")))?;
        let row = CsvRow {
            col: &col,
            record: &record,
            line: record.position().map_or(0, csv::Position::line),
        };
        let socket = csv_socket(&row, &mut snapshot.users, &mut processes)?;
        if !keys.insert(socket.key()) {
            return Err(row.bad(format!("duplicate socket {socket}")));
        }
        if let Some(netns) = socket.netns {
            snapshot
                .namespaces
                .entry(netns)
                .or_insert_with(|| NetNamespace::from_label(netns, row.get("namespace")));
        }
        if let (Some(ip), host) = (socket.peer_ip(), row.get("remote_host")) {
            if !host.is_empty() {
                snapshot.hosts.insert(ip, host.to_owned());
            }
        }
        snapshot.sockets.push(socket);
    }
    snapshot.processes = processes;
    Ok(snapshot)
}

/// Each column's index by name, once every required column is there.
fn csv_columns(headers: &csv::StringRecord) -> Result<HashMap<&str, usize>, FileError> {
    let col: HashMap<&str, usize> = headers
        .iter()
        .enumerate()
        .map(|(i, h)| (h.trim(), i))
        .collect();
    let missing: Vec<&str> = CSV_REQUIRED
        .iter()
        .copied()
        .filter(|c| !col.contains_key(c))
        .collect();
    if !missing.is_empty() {
        return Err(FileError::Invalid(format!(
            "not a Sockscope CSV: missing column{} {}",
            if missing.len() == 1 { "" } else { "s" },
            missing.join(", ")
        )));
    }
    Ok(col)
}

/// One CSV row, read by column name, whose errors name its line.
struct CsvRow<'a> {
    col: &'a HashMap<&'a str, usize>,
    record: &'a csv::StringRecord,
    line: u64,
}

impl<'a> CsvRow<'a> {
    /// The column's value as written, `None` when the file has no such column.
    fn raw(&self, name: &str) -> Option<&'a str> {
        self.col.get(name).and_then(|i| self.record.get(*i))
    }

    /// The column's value trimmed, empty when the file has no such column.
    fn get(&self, name: &str) -> &'a str {
        self.raw(name).map(str::trim).unwrap_or("")
    }

    /// An error about this row.
    fn bad(&self, what: String) -> FileError {
        FileError::Invalid(format!("line {}: {what}", self.line))
    }

    /// The column as an IP address.
    fn ip(&self, name: &str) -> Result<IpAddr, FileError> {
        self.get(name)
            .parse()
            .map_err(|_| self.bad(format!("{name} {:?} is not an IP address", self.get(name))))
    }

    /// The column as a port number.
    fn port(&self, name: &str) -> Result<u16, FileError> {
        self.get(name).parse().map_err(|_| {
            self.bad(format!(
                "{name} {:?} is not a port (0–65535)",
                self.get(name)
            ))
        })
    }

    /// The column as a number, `None` when empty.
    fn opt_u32(&self, name: &str) -> Result<Option<u32>, FileError> {
        self.opt_number(name)
    }

    /// The column as a number of any width, `None` when empty.
    fn opt_number<T: std::str::FromStr>(&self, name: &str) -> Result<Option<T>, FileError> {
        match self.get(name) {
            "" => Ok(None),
            v => v
                .parse()
                .map(Some)
                .map_err(|_| self.bad(format!("{name} {v:?} is not a number"))),
        }
    }
}

/// The socket of one row. Its user's name goes into `users`, its owners' names into `processes`.
fn csv_socket(
    row: &CsvRow<'_>,
    users: &mut BTreeMap<u32, String>,
    processes: &mut BTreeMap<u32, ProcessInfo>,
) -> Result<SocketEntry, FileError> {
    let protocol = Protocol::parse(row.get("protocol")).ok_or_else(|| {
        row.bad(format!(
            "protocol {:?} is not tcp or udp",
            row.get("protocol")
        ))
    })?;
    let local = csv_local(row)?;
    let remote = csv_remote(row)?;
    let state = csv_state(row, protocol)?;
    let pids = csv_pids(row)?;
    let uid = row.opt_u32("uid")?;
    let owner_note = match row.get("owner_note") {
        "" => None,
        n => Some(
            OwnerNote::parse(n).ok_or_else(|| row.bad(format!("owner_note {n:?} is not known")))?,
        ),
    };
    let user = row.get("user");
    if let (Some(uid), false) = (uid, user.is_empty()) {
        users.insert(uid, user.to_owned());
    }
    csv_processes(&pids, row.get("process"), user, processes);
    let mut socket = SocketEntry::new(protocol, local, remote, state);
    socket.inode = row.opt_u32("inode")?.filter(|i| *i != 0);
    socket.uid = uid;
    socket.pids = pids;
    socket.owner_note = owner_note;
    socket.netns = row.opt_number("netns")?;
    socket.details = csv_details(&|name: &str| row.get(name), &|what| row.bad(what))?;
    socket.validate().map_err(|what| row.bad(what))?;
    Ok(socket)
}

/// The local address, checked against the `family` column where there is one.
fn csv_local(row: &CsvRow<'_>) -> Result<SocketAddr, FileError> {
    let local = SocketAddr::new(row.ip("local_address")?, row.port("local_port")?);
    if let Some(family) = row.raw("family") {
        let expected = Family::of(local.ip()).as_str();
        if !family.is_empty() && family != expected {
            return Err(row.bad(format!(
                "family {family} does not match address {}",
                local.ip()
            )));
        }
    }
    Ok(local)
}

/// The remote address: both columns set, or both empty for none.
fn csv_remote(row: &CsvRow<'_>) -> Result<Option<SocketAddr>, FileError> {
    match (
        row.get("remote_address").is_empty(),
        row.get("remote_port").is_empty(),
    ) {
        (true, true) => Ok(None),
        (false, false) => Ok(Some(SocketAddr::new(
            row.ip("remote_address")?,
            row.port("remote_port")?,
        ))),
        _ => {
            Err(row.bad("remote_address and remote_port must both be set or both empty".to_owned()))
        }
    }
}

/// The state, in `protocol`'s terms.
fn csv_state(row: &CsvRow<'_>, protocol: Protocol) -> Result<SocketState, FileError> {
    match (protocol, row.get("state")) {
        // Files without UDP state (before format version 2) leave it unknown, not "unconnected".
        (Protocol::Udp, "") => Ok(SocketState::Udp(UdpState::NotRecorded)),
        (p, text) => SocketState::parse(p, text).ok_or_else(|| {
            row.bad(format!(
                "state {text:?} is not a {} state",
                p.as_str().to_uppercase()
            ))
        }),
    }
}

/// The owners' PIDs, `;`-separated.
fn csv_pids(row: &CsvRow<'_>) -> Result<Vec<u32>, FileError> {
    row.get("pids")
        .split(';')
        .filter(|p| !p.is_empty())
        .map(|p| {
            p.parse()
                .map_err(|_| row.bad(format!("pid {p:?} is not a number")))
        })
        .collect()
}

/// Names the row's PIDs from its `process` column, keeping the first name seen for each PID.
fn csv_processes(
    pids: &[u32],
    process: &str,
    user: &str,
    processes: &mut BTreeMap<u32, ProcessInfo>,
) {
    // One name per PID in order; files from before 2026-12-07 may hold fewer (merged or dropped),
    // and then the first name stands for the rest, as it did. An empty name is an unknown process.
    let names: Vec<&str> = process.split(',').collect();
    for (i, pid) in pids.iter().enumerate() {
        let name = names
            .get(i)
            .or(names.first())
            .copied()
            .unwrap_or("")
            .to_owned();
        if name.is_empty() {
            continue;
        }
        processes.entry(*pid).or_insert_with(|| ProcessInfo {
            pid: *pid,
            name,
            user: (!user.is_empty()).then(|| user.to_owned()),
            exe: None,
            cmdline: None,
        });
    }
}

/// The kernel-detail columns of a CSV row (format version 2); absent columns are "not recorded".
fn csv_details<'a>(
    get: &impl Fn(&str) -> &'a str,
    bad: &impl Fn(String) -> FileError,
) -> Result<KernelDetails, FileError> {
    fn parsed<T: std::str::FromStr>(
        value: &str,
        name: &str,
        bad: &impl Fn(String) -> FileError,
    ) -> Result<Option<T>, FileError> {
        match value {
            "" => Ok(None),
            v => v
                .parse()
                .map(Some)
                .map_err(|_| bad(format!("{name} {v:?} is not a number"))),
        }
    }
    let num32 = |name: &str| parsed::<u32>(get(name), name, bad);
    let num64 = |name: &str| parsed::<u64>(get(name), name, bad);
    let v6only = match get("v6only") {
        "" => None,
        "true" | "1" => Some(true),
        "false" | "0" => Some(false),
        v => return Err(bad(format!("v6only {v:?} is not true or false"))),
    };
    let timer = match get("timer") {
        "" => None,
        kind => Some(SocketTimer {
            kind: TimerKind::parse(kind)
                .ok_or_else(|| bad(format!("timer {kind:?} is not known")))?,
            expires_ms: num32("timer_expires_ms")?.unwrap_or(0),
            retransmits: 0,
        }),
    };
    let tcp = TcpInfo {
        rtt_us: num32("rtt_us")?,
        total_retrans: num32("total_retrans")?,
        bytes_acked: num64("bytes_acked")?,
        bytes_received: num64("bytes_received")?,
        ..TcpInfo::default()
    };
    Ok(KernelDetails {
        v6only,
        interface: Some(get("interface"))
            .filter(|i| !i.is_empty())
            .map(str::to_owned),
        cookie: num64("cookie")?,
        recv_queue: num32("recv_queue")?,
        send_queue: num32("send_queue")?,
        timer,
        tcp_info: (tcp != TcpInfo::default()).then_some(tcp),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_and_whitespace_files_are_refused() {
        assert_eq!(
            parse_snapshot(b"", None).unwrap_err().to_string(),
            "the file is empty"
        );
        assert_eq!(
            parse_snapshot(b"  \n ", None).unwrap_err().to_string(),
            "the file is empty"
        );
    }

    #[test]
    fn csv_errors_name_line_and_column() {
        let head =
            "protocol,family,local_address,local_port,remote_address,remote_port,state,pids\n";
        let ok = format!("{head}tcp,ipv4,127.0.0.1,80,0.0.0.0,0,LISTEN,12\n");
        assert_eq!(
            read_csv(ok.as_bytes(), Utc::now()).unwrap().sockets.len(),
            1
        );
        let port = format!("{head}tcp,ipv4,127.0.0.1,70000,0.0.0.0,0,LISTEN,12\n");
        assert_eq!(
            read_csv(port.as_bytes(), Utc::now())
                .unwrap_err()
                .to_string(),
            "line 2: local_port \"70000\" is not a port (0–65535)"
        );
        let state = format!("{head}tcp,ipv4,127.0.0.1,80,0.0.0.0,0,DANCING,12\n");
        assert!(
            read_csv(state.as_bytes(), Utc::now())
                .unwrap_err()
                .to_string()
                .contains("\"DANCING\" is not a TCP state")
        );
        let dup = format!("{head}udp,ipv4,127.0.0.1,53,,,,1\nudp,ipv4,127.0.0.1,53,,,,1\n");
        assert!(
            read_csv(dup.as_bytes(), Utc::now())
                .unwrap_err()
                .to_string()
                .starts_with("line 3: duplicate socket")
        );
        let cols = "protocol,local_port\ntcp,80\n";
        assert!(
            read_csv(cols.as_bytes(), Utc::now())
                .unwrap_err()
                .to_string()
                .contains("missing columns local_address")
        );
    }
}

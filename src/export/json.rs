//! The JSON snapshot file: Sockscope's public, versioned format (documented in README.md).
//!
//! The file form is kept apart from the in-memory [`Snapshot`] so the format changes only on purpose: a
//! field renamed in the model does not silently rename it in everyone's saved files.

use std::collections::{BTreeMap, HashSet};
use std::io::{Read, Write};
use std::net::{IpAddr, SocketAddr};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::model::port_class::PortClass;
use crate::model::snapshot::{PortRange, ProcessInfo, Snapshot};
use crate::model::socket::{Family, OwnerNote, Protocol, SocketEntry, TcpState};
use crate::services::registry::Registry;

/// The value of the `format` field.
pub const FORMAT_NAME: &str = "sockscope-snapshot";
/// The version written, and the only one read.
pub const FORMAT_VERSION: u32 = 1;

/// What to leave out of an export.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ExportOptions {
    /// Include process command lines (they can hold passwords and tokens).
    pub with_cmdline: bool,
}

/// The service of a socket's local port, as written to files.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceRecord {
    /// The local port.
    pub port: u16,
    /// Registered service name, `null` when none.
    pub name: Option<String>,
    /// RFC 6335 class.
    pub class: PortClass,
}

/// One socket in the file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct SocketRecord {
    pub protocol: Protocol,
    pub family: Family,
    pub local_address: IpAddr,
    pub local_port: u16,
    pub remote_address: Option<IpAddr>,
    pub remote_port: Option<u16>,
    pub state: Option<TcpState>,
    pub inode: Option<u32>,
    pub uid: Option<u32>,
    pub user: Option<String>,
    pub pids: Vec<u32>,
    pub owner_note: Option<OwnerNote>,
    pub service: Option<ServiceRecord>,
}

/// One process in the file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct ProcessRecord {
    pub pid: u32,
    pub name: String,
    pub user: Option<String>,
    pub exe: Option<String>,
    pub cmdline: Option<Vec<String>>,
}

/// The whole file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct SnapshotFile {
    pub format: String,
    pub version: u32,
    pub taken_at: DateTime<Utc>,
    pub host: String,
    pub ephemeral_range: Option<[u16; 2]>,
    pub sockets: Vec<SocketRecord>,
    pub processes: Vec<ProcessRecord>,
}

impl SocketRecord {
    /// The file form of `socket`, a socket of `snapshot` (which names its user).
    #[must_use]
    pub fn new(socket: &SocketEntry, snapshot: &Snapshot, registry: &Registry) -> Self {
        let port = socket.local.port();
        let name = registry.name(port, socket.protocol);
        Self {
            protocol: socket.protocol,
            family: socket.family(),
            local_address: socket.local.ip(),
            local_port: port,
            remote_address: socket.remote.map(|r| r.ip()),
            remote_port: socket.remote.map(|r| r.port()),
            state: socket.state,
            inode: socket.inode,
            uid: socket.uid,
            user: snapshot.user_of(socket).map(str::to_owned),
            pids: socket.pids.clone(),
            owner_note: socket.owner_note,
            service: Some(ServiceRecord {
                port,
                name: (!name.is_empty()).then(|| name.to_owned()),
                class: PortClass::of(port),
            }),
        }
    }
}

impl SnapshotFile {
    /// The file form of `snapshot`.
    #[must_use]
    pub fn from_snapshot(snapshot: &Snapshot, registry: &Registry, options: ExportOptions) -> Self {
        let sockets = snapshot
            .sockets
            .iter()
            .map(|s| SocketRecord::new(s, snapshot, registry))
            .collect();
        let processes = snapshot
            .processes
            .values()
            .map(|p| ProcessRecord {
                pid: p.pid,
                name: p.name.clone(),
                user: p.user.clone(),
                exe: p.exe.clone(),
                cmdline: if options.with_cmdline {
                    p.cmdline.clone()
                } else {
                    None
                },
            })
            .collect();
        Self {
            format: FORMAT_NAME.to_owned(),
            version: FORMAT_VERSION,
            taken_at: snapshot.taken_at,
            host: snapshot.host.clone(),
            ephemeral_range: snapshot.ephemeral_range.map(|r| [r.low, r.high]),
            sockets,
            processes,
        }
    }

    /// Checks the file and turns it back into a snapshot.
    ///
    /// # Errors
    /// A wrong format name or version, or a record that contradicts itself, naming the record.
    pub fn into_snapshot(self) -> Result<Snapshot, FileError> {
        if self.format != FORMAT_NAME {
            return Err(FileError::Invalid(format!(
                "\"format\" is {:?}, expected {FORMAT_NAME:?}",
                self.format
            )));
        }
        if self.version != FORMAT_VERSION {
            return Err(FileError::Invalid(format!(
                "\"version\" is {}, this Sockscope reads version {FORMAT_VERSION}",
                self.version
            )));
        }
        let ephemeral_range = match self.ephemeral_range {
            Some([low, high]) if low <= high => Some(PortRange { low, high }),
            Some([low, high]) => {
                return Err(FileError::Invalid(format!(
                    "\"ephemeral_range\" {low}-{high} is reversed"
                )));
            }
            None => None,
        };
        let mut users = BTreeMap::new();
        let mut sockets = Vec::with_capacity(self.sockets.len());
        let mut keys = HashSet::with_capacity(self.sockets.len());
        for (i, r) in self.sockets.into_iter().enumerate() {
            let bad = |what: String| FileError::Invalid(format!("sockets[{i}]: {what}"));
            if Family::of(r.local_address) != r.family {
                return Err(bad(format!(
                    "family {} does not match address {}",
                    r.family.as_str(),
                    r.local_address
                )));
            }
            let remote = match (r.protocol, r.remote_address, r.remote_port) {
                (Protocol::Tcp, Some(a), Some(p)) => Some(SocketAddr::new(a, p)),
                (Protocol::Tcp, _, _) => {
                    return Err(bad(
                        "a tcp socket needs remote_address and remote_port".into()
                    ));
                }
                (Protocol::Udp, None, None) => None,
                (Protocol::Udp, Some(a), Some(p)) => Some(SocketAddr::new(a, p)),
                (Protocol::Udp, _, _) => {
                    return Err(bad(
                        "remote_address and remote_port must both be set or null".into(),
                    ));
                }
            };
            match (r.protocol, r.state) {
                (Protocol::Tcp, None) => return Err(bad("a tcp socket needs a state".into())),
                (Protocol::Udp, Some(_)) => return Err(bad("a udp socket has no state".into())),
                _ => {}
            }
            if let (Some(uid), Some(user)) = (r.uid, r.user) {
                users.insert(uid, user);
            }
            let socket = SocketEntry {
                protocol: r.protocol,
                local: SocketAddr::new(r.local_address, r.local_port),
                remote,
                state: r.state,
                inode: r.inode.filter(|i| *i != 0),
                uid: r.uid,
                pids: r.pids,
                owner_note: r.owner_note,
            };
            if !keys.insert(socket.key()) {
                return Err(bad(format!("duplicate socket {socket}")));
            }
            sockets.push(socket);
        }
        let mut processes = BTreeMap::new();
        for p in self.processes {
            let pid = p.pid;
            let info = ProcessInfo {
                pid,
                name: p.name,
                user: p.user,
                exe: p.exe,
                cmdline: p.cmdline,
            };
            if processes.insert(pid, info).is_some() {
                return Err(FileError::Invalid(format!(
                    "processes: pid {pid} appears twice"
                )));
            }
        }
        Ok(Snapshot {
            taken_at: self.taken_at,
            host: self.host,
            ephemeral_range,
            sockets,
            processes,
            users,
        })
    }
}

/// Why a snapshot file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    /// Not parseable (syntax, types, missing fields); serde's message has the line and column.
    #[error("{0}")]
    Parse(String),
    /// Parseable, but not a valid snapshot.
    #[error("{0}")]
    Invalid(String),
    /// Reading failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// Writes `snapshot` as pretty JSON.
///
/// # Errors
/// Any write error.
pub fn write_json(
    out: &mut dyn Write,
    snapshot: &Snapshot,
    registry: &Registry,
    options: ExportOptions,
) -> std::io::Result<()> {
    let file = SnapshotFile::from_snapshot(snapshot, registry, options);
    serde_json::to_writer_pretty(&mut *out, &file).map_err(std::io::Error::from)?;
    out.write_all(b"\n")
}

/// Reads a JSON snapshot file.
///
/// # Errors
/// Syntax, missing or mistyped fields (with line and column), or invalid content.
pub fn read_json(input: impl Read) -> Result<Snapshot, FileError> {
    let file: SnapshotFile = serde_json::from_reader(std::io::BufReader::new(input))
        .map_err(|e| FileError::Parse(e.to_string()))?;
    file.into_snapshot()
}

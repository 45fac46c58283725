//! The JSON snapshot file: Sockscope's public, versioned format (documented in README.md).
//!
//! The file form is kept apart from the in-memory [`Snapshot`] so the format changes only on purpose: a
//! field renamed in the model does not silently rename it in everyone's saved files.

use std::collections::{BTreeMap, HashSet};
use std::io::{Read, Write};
use std::net::{IpAddr, SocketAddr};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::model::kernel::{KernelDetails, SocketTimer, TcpInfo, TimerKind};
use crate::model::netns::{NamespaceFacts, NetNamespace};
use crate::model::port_class::PortClass;
use crate::model::snapshot::{MachineFacts, PortRange, ProcessInfo, Snapshot};
use crate::model::socket::{
    Family, OwnerNote, Protocol, SocketEntry, SocketState, TcpState, UdpState,
};
use crate::model::unix::UnixSocket;
use crate::services::registry::Registry;

/// The value of the `format` field.
pub const FORMAT_NAME: &str = "sockscope-snapshot";
/// The version written. Versions 1 to 3 are read too (1 lacks UDP state and kernel details, 2 the
/// peers' host names and Unix sockets, 3 the network namespaces).
pub const FORMAT_VERSION: u32 = 4;

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
    pub state: Option<String>,
    pub inode: Option<u32>,
    pub uid: Option<u32>,
    pub user: Option<String>,
    pub pids: Vec<u32>,
    pub owner_note: Option<OwnerNote>,
    #[serde(default)]
    pub v6only: Option<bool>,
    #[serde(default)]
    pub interface: Option<String>,
    #[serde(default)]
    pub cookie: Option<u64>,
    #[serde(default)]
    pub recv_queue: Option<u32>,
    #[serde(default)]
    pub send_queue: Option<u32>,
    #[serde(default)]
    pub timer: Option<TimerRecord>,
    #[serde(default)]
    pub tcp_info: Option<TcpInfoRecord>,
    pub service: Option<ServiceRecord>,
    /// The peer's host name (version 3), when names were looked up and it has one.
    #[serde(default)]
    pub remote_host: Option<String>,
    /// The network namespace's inode (version 4; `null` when not recorded).
    #[serde(default)]
    pub netns: Option<u64>,
    /// The container that namespace belongs to (version 4; `null` when none).
    #[serde(default)]
    pub container: Option<String>,
}

/// One network namespace in the file (version 4).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NamespaceRecord {
    /// Its inode in nsfs.
    pub netns: u64,
    /// True for PID 1's namespace.
    pub host: bool,
    /// The container, from its processes' cgroup; `null` when none.
    pub container: Option<String>,
    /// Whether its sockets were listed.
    pub listed: bool,
    /// True for the namespace Sockscope sampled from (the file's `machine` and `ephemeral_range` are
    /// its settings).
    pub sampler: bool,
    /// Its own `ip_local_port_range`, read inside it; `null` for the sampler's and when not read.
    pub ephemeral_range: Option<[u16; 2]>,
    /// Its own settings, read inside it; `null` for the sampler's and when not read.
    pub machine: Option<MachineRecord>,
}

impl NamespaceRecord {
    fn new(ns: &NetNamespace) -> Self {
        Self {
            netns: ns.inode,
            host: ns.host,
            container: ns.container.clone(),
            listed: ns.listed,
            sampler: ns.sampler,
            ephemeral_range: ns
                .facts
                .as_ref()
                .and_then(|f| f.ephemeral_range)
                .map(|r| [r.low, r.high]),
            machine: ns.facts.as_ref().map(|f| MachineRecord::from(&f.machine)),
        }
    }

    fn into_namespace(self) -> Result<NetNamespace, FileError> {
        let ephemeral_range = match self.ephemeral_range {
            Some([low, high]) if low <= high => Some(PortRange { low, high }),
            Some([low, high]) => {
                return Err(FileError::Invalid(format!(
                    "namespaces: netns {} has a reversed ephemeral_range {low}-{high}",
                    self.netns
                )));
            }
            None => None,
        };
        let facts = match self.machine {
            Some(machine) => Some(NamespaceFacts {
                ephemeral_range,
                machine: machine.into_facts()?,
            }),
            None => ephemeral_range.map(|range| NamespaceFacts {
                ephemeral_range: Some(range),
                machine: MachineFacts::default(),
            }),
        };
        Ok(NetNamespace {
            inode: self.netns,
            host: self.host,
            container: self.container,
            listed: self.listed,
            sampler: self.sampler,
            facts,
        })
    }
}

/// The host's settings in the file; each `null` when not read.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct MachineRecord {
    pub ip_unprivileged_port_start: Option<u16>,
    pub ip_local_reserved_ports: Option<Vec<[u16; 2]>>,
    pub bindv6only: Option<bool>,
    pub tcp_tw_reuse: Option<u8>,
    pub local_addresses: Option<Vec<IpAddr>>,
}

impl From<&MachineFacts> for MachineRecord {
    fn from(m: &MachineFacts) -> Self {
        Self {
            ip_unprivileged_port_start: m.unprivileged_port_start,
            ip_local_reserved_ports: m
                .reserved_ports
                .as_ref()
                .map(|r| r.iter().map(|r| [r.low, r.high]).collect()),
            bindv6only: m.bindv6only,
            tcp_tw_reuse: m.tcp_tw_reuse,
            local_addresses: m.local_addresses.clone(),
        }
    }
}

impl MachineRecord {
    fn into_facts(self) -> Result<MachineFacts, FileError> {
        let reserved_ports = match self.ip_local_reserved_ports {
            None => None,
            Some(ranges) => Some(
                ranges
                    .into_iter()
                    .map(|[low, high]| {
                        (low <= high)
                            .then_some(PortRange { low, high })
                            .ok_or_else(|| {
                                FileError::Invalid(format!(
                                    "machine.ip_local_reserved_ports: {low}-{high} is reversed"
                                ))
                            })
                    })
                    .collect::<Result<_, _>>()?,
            ),
        };
        Ok(MachineFacts {
            unprivileged_port_start: self.ip_unprivileged_port_start,
            reserved_ports,
            bindv6only: self.bindv6only,
            tcp_tw_reuse: self.tcp_tw_reuse,
            local_addresses: self.local_addresses,
        })
    }
}

/// A socket's armed TCP timer in the file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct TimerRecord {
    /// `retransmit`, `keepalive`, `time_wait` or `zero_window_probe`.
    pub kind: String,
    pub expires_ms: u32,
    pub retransmits: u8,
}

/// `tcp_info` in the file; every field `null` when the kernel did not send it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct TcpInfoRecord {
    pub rtt_us: Option<u32>,
    pub rttvar_us: Option<u32>,
    #[serde(default)]
    pub min_rtt_us: Option<u32>,
    #[serde(default)]
    pub rto_us: Option<u32>,
    pub retrans: Option<u32>,
    pub total_retrans: Option<u32>,
    pub lost: Option<u32>,
    pub snd_cwnd: Option<u32>,
    pub bytes_sent: Option<u64>,
    pub bytes_acked: Option<u64>,
    pub bytes_received: Option<u64>,
    pub delivery_rate: Option<u64>,
}

impl From<&TcpInfo> for TcpInfoRecord {
    fn from(i: &TcpInfo) -> Self {
        Self {
            rtt_us: i.rtt_us,
            rttvar_us: i.rttvar_us,
            min_rtt_us: i.min_rtt_us,
            rto_us: i.rto_us,
            retrans: i.retrans,
            total_retrans: i.total_retrans,
            lost: i.lost,
            snd_cwnd: i.snd_cwnd,
            bytes_sent: i.bytes_sent,
            bytes_acked: i.bytes_acked,
            bytes_received: i.bytes_received,
            delivery_rate: i.delivery_rate,
        }
    }
}

impl From<TcpInfoRecord> for TcpInfo {
    fn from(r: TcpInfoRecord) -> Self {
        Self {
            rtt_us: r.rtt_us,
            rttvar_us: r.rttvar_us,
            min_rtt_us: r.min_rtt_us,
            rto_us: r.rto_us,
            retrans: r.retrans,
            total_retrans: r.total_retrans,
            lost: r.lost,
            snd_cwnd: r.snd_cwnd,
            bytes_sent: r.bytes_sent,
            bytes_acked: r.bytes_acked,
            bytes_received: r.bytes_received,
            delivery_rate: r.delivery_rate,
        }
    }
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
    /// What the sampler could not see (version 2; absent in version 1).
    #[serde(default)]
    pub notes: Vec<String>,
    /// The host's settings (version 2; absent in version 1).
    #[serde(default)]
    pub machine: Option<MachineRecord>,
    pub sockets: Vec<SocketRecord>,
    /// Unix domain sockets (version 3; absent before).
    #[serde(default)]
    pub unix_sockets: Vec<UnixSocket>,
    /// The network namespaces sampled (version 4; absent before).
    #[serde(default)]
    pub namespaces: Vec<NamespaceRecord>,
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
            state: Some(socket.state.as_str())
                .filter(|s| !s.is_empty())
                .map(str::to_owned),
            inode: socket.inode,
            uid: socket.uid,
            user: snapshot.user_of(socket).map(str::to_owned),
            pids: socket.pids.clone(),
            owner_note: socket.owner_note,
            v6only: socket.details.v6only,
            interface: socket.details.interface.clone(),
            cookie: socket.details.cookie,
            recv_queue: socket.details.recv_queue,
            send_queue: socket.details.send_queue,
            timer: socket.details.timer.map(|t| TimerRecord {
                kind: t.kind.as_str().to_owned(),
                expires_ms: t.expires_ms,
                retransmits: t.retransmits,
            }),
            tcp_info: socket.details.tcp_info.as_ref().map(TcpInfoRecord::from),
            service: Some(ServiceRecord {
                port,
                name: (!name.is_empty()).then(|| name.to_owned()),
                class: PortClass::of(port),
            }),
            remote_host: snapshot.remote_host(socket).map(str::to_owned),
            netns: socket.netns,
            container: snapshot
                .namespace(socket.netns)
                .and_then(|ns| ns.container.clone()),
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
            notes: snapshot.notes.clone(),
            machine: Some(MachineRecord::from(&snapshot.machine)),
            sockets,
            unix_sockets: snapshot.unix_sockets.clone(),
            namespaces: snapshot
                .namespaces
                .values()
                .map(NamespaceRecord::new)
                .collect(),
            processes,
        }
    }

    /// Checks the file and turns it back into a snapshot.
    ///
    /// # Errors
    /// A wrong format name or version, or a record that contradicts itself, naming the record.
    pub fn into_snapshot(self) -> Result<Snapshot, FileError> {
        let ephemeral_range = self.checked_header()?;
        let hosts = read_hosts(&self.sockets);
        let (sockets, users) = read_sockets(self.sockets, self.version)?;
        let namespaces = self
            .namespaces
            .into_iter()
            .map(|r| r.into_namespace().map(|ns| (ns.inode, ns)))
            .collect::<Result<_, _>>()?;
        Ok(Snapshot {
            hosts,
            namespaces,
            unix_sockets: self.unix_sockets,
            taken_at: self.taken_at,
            host: self.host,
            ephemeral_range,
            sockets,
            processes: read_processes(self.processes)?,
            users,
            notes: self.notes,
            machine: self
                .machine
                .map(MachineRecord::into_facts)
                .transpose()?
                .unwrap_or_default(),
        })
    }

    /// The format name and version checked, and the ephemeral range read.
    fn checked_header(&self) -> Result<Option<PortRange>, FileError> {
        if self.format != FORMAT_NAME {
            return Err(FileError::Invalid(format!(
                "\"format\" is {:?}, expected {FORMAT_NAME:?}",
                self.format
            )));
        }
        if !(1..=FORMAT_VERSION).contains(&self.version) {
            return Err(FileError::Invalid(format!(
                "\"version\" is {}, this Sockscope reads versions 1 to {FORMAT_VERSION}",
                self.version
            )));
        }
        match self.ephemeral_range {
            Some([low, high]) if low <= high => Ok(Some(PortRange { low, high })),
            Some([low, high]) => Err(FileError::Invalid(format!(
                "\"ephemeral_range\" {low}-{high} is reversed"
            ))),
            None => Ok(None),
        }
    }
}

/// The sockets of a file of format `version`, each checked and none twice, and the user names they carry.
fn read_sockets(
    records: Vec<SocketRecord>,
    version: u32,
) -> Result<(Vec<SocketEntry>, BTreeMap<u32, String>), FileError> {
    let mut users = BTreeMap::new();
    let mut sockets = Vec::with_capacity(records.len());
    let mut keys = HashSet::with_capacity(records.len());
    for (i, r) in records.into_iter().enumerate() {
        let bad = |what: String| FileError::Invalid(format!("sockets[{i}]: {what}"));
        if let (Some(uid), Some(user)) = (r.uid, r.user.clone()) {
            users.insert(uid, user);
        }
        let socket = r.into_entry(version).map_err(bad)?;
        if !keys.insert(socket.key()) {
            return Err(bad(format!("duplicate socket {socket}")));
        }
        sockets.push(socket);
    }
    Ok((sockets, users))
}

/// The peers' host names a file records (version 3), by address.
fn read_hosts(records: &[SocketRecord]) -> BTreeMap<IpAddr, String> {
    records
        .iter()
        .filter_map(|r| Some((r.remote_address?.to_canonical(), r.remote_host.clone()?)))
        .collect()
}

/// The processes of a file, none twice.
fn read_processes(records: Vec<ProcessRecord>) -> Result<BTreeMap<u32, ProcessInfo>, FileError> {
    let mut processes = BTreeMap::new();
    for p in records {
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
    Ok(processes)
}

impl SocketRecord {
    /// The socket this record describes, read under the rules of format `version`.
    fn into_entry(self, version: u32) -> Result<SocketEntry, String> {
        let remote = match (self.remote_address, self.remote_port) {
            (Some(a), Some(p)) => Some(SocketAddr::new(a, p)),
            (None, None) => None,
            _ => return Err("remote_address and remote_port must both be set or null".into()),
        };
        let state = match (self.protocol, self.state.as_deref()) {
            (Protocol::Tcp, None) => return Err("a tcp socket needs a state".into()),
            (Protocol::Tcp, Some(text)) => SocketState::Tcp(
                TcpState::parse(text).ok_or_else(|| format!("{text:?} is not a TCP state"))?,
            ),
            // Version 1 recorded no UDP state (and no UDP peer): it stays unknown, not "unconnected".
            (Protocol::Udp, None) if version == 1 => SocketState::Udp(UdpState::NotRecorded),
            (Protocol::Udp, None) => return Err("a udp socket needs a state".into()),
            (Protocol::Udp, Some(text)) => {
                SocketState::Udp(UdpState::parse(text).ok_or_else(|| {
                    format!("{text:?} is not a UDP state (CONNECTED, UNCONNECTED)")
                })?)
            }
        };
        if Family::of(self.local_address) != self.family {
            return Err(format!(
                "family {} does not match address {}",
                self.family.as_str(),
                self.local_address
            ));
        }
        // Version 1 wrote the kernel's placeholder uid 0 for TIME_WAIT and request sockets as if it
        // were a fact; drop it.
        let placeholder_uid = version == 1
            && self.inode.is_none_or(|i| i == 0)
            && matches!(
                state,
                SocketState::Tcp(TcpState::TimeWait | TcpState::SynReceived)
            );
        let timer = match self.timer {
            None => None,
            Some(t) => Some(SocketTimer {
                kind: TimerKind::parse(&t.kind)
                    .ok_or_else(|| format!("timer kind {:?} is not known", t.kind))?,
                expires_ms: t.expires_ms,
                retransmits: t.retransmits,
            }),
        };
        let local = SocketAddr::new(self.local_address, self.local_port);
        let mut socket = SocketEntry::new(self.protocol, local, remote, state);
        socket.inode = self.inode.filter(|i| *i != 0);
        socket.uid = self.uid.filter(|_| !placeholder_uid);
        socket.pids = self.pids;
        socket.owner_note = self.owner_note;
        socket.netns = self.netns;
        socket.details = KernelDetails {
            v6only: self.v6only,
            interface: self.interface,
            cookie: self.cookie,
            recv_queue: self.recv_queue,
            send_queue: self.send_queue,
            timer,
            tcp_info: self.tcp_info.map(TcpInfo::from),
        };
        socket.validate()?;
        Ok(socket)
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

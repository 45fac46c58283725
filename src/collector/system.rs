//! The live [`SocketSource`]: the kernel's socket dump (our own sock_diag reader on Linux, netstat2
//! elsewhere), owners from `/proc/PID/fd`, process details from sysinfo.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::Duration;

use chrono::Utc;
use sysinfo::{Pid, ProcessRefreshKind, ProcessesToUpdate, System, UpdateKind};

use super::users::UserNames;

use super::owners::{InodeOwners, OwnerScan};
use super::{CollectError, SocketSource};
use crate::model::snapshot::{PortRange, ProcessInfo, Snapshot};
use crate::model::socket::{OwnerNote, SocketEntry, TcpState};

/// How long the window's collector reuses an owner scan while no unknown socket appears: the scan of every
/// `/proc/PID/fd` is the costly part of a sample, and owners rarely change without a new socket.
pub const LIVE_OWNER_CACHE: Duration = Duration::from_secs(10);

/// How a [`SystemSource`] samples.
#[derive(Clone, Debug)]
pub struct SystemSourceOptions {
    /// Record each owner's command line (off by default: command lines can hold secrets).
    pub with_cmdline: bool,
    /// How long an owner scan of `/proc` may be reused while no unknown socket appears. Zero rescans
    /// every sample (what a one-shot snapshot wants).
    pub owner_cache: Duration,
}

impl Default for SystemSourceOptions {
    fn default() -> Self {
        Self {
            with_cmdline: false,
            owner_cache: Duration::ZERO,
        }
    }
}

/// Samples this machine's TCP and UDP sockets, IPv4 and IPv6.
pub struct SystemSource {
    options: SystemSourceOptions,
    owners: OwnerScan,
    // One System kept between samples so exe paths and names are read once per process, not per sample.
    system: Option<System>,
    users: UserNames,
    host: String,
    #[cfg(target_os = "linux")]
    interfaces: super::linux::InterfaceNames,
    /// How many sockets the previous sample held, to size the next dump's list.
    #[cfg(target_os = "linux")]
    last_count: usize,
}

impl SystemSource {
    /// A source reading `/proc`. Never fails: a missing piece (sysinfo, user list) only loses details.
    #[must_use]
    pub fn new(options: SystemSourceOptions) -> Self {
        let owners = OwnerScan::new("/proc", options.owner_cache);
        Self {
            options,
            owners,
            system: System::new().ok(),
            users: UserNames::default(),
            host: System::host_name().unwrap_or_else(|_| "unknown-host".to_owned()),
            #[cfg(target_os = "linux")]
            interfaces: super::linux::InterfaceNames::default(),
            #[cfg(target_os = "linux")]
            last_count: 0,
        }
    }
}

/// Why a socket without a process has none.
fn owner_note(socket: &SocketEntry, owners: &InodeOwners) -> OwnerNote {
    use TcpState as T;
    match (socket.inode, socket.tcp_state()) {
        (None, Some(T::TimeWait)) => OwnerNote::TimeWait,
        // No file refers to a connection the kernel completed (or is completing) for a listener until a
        // program accepts it.
        (None, Some(T::SynReceived | T::Established | T::CloseWait)) => OwnerNote::NotAccepted,
        (None, Some(T::FinWait1 | T::FinWait2 | T::Closing | T::LastAck | T::Closed)) => {
            OwnerNote::Orphaned
        }
        (Some(_), _)
            if socket
                .uid
                .is_some_and(|uid| owners.denied_uids.contains(&uid)) =>
        {
            OwnerNote::NotPermitted
        }
        _ => OwnerNote::NoProcess,
    }
}

/// Reads the kernel's ephemeral port range (`net.ipv4.ip_local_port_range`, which IPv6 uses too).
#[must_use]
pub fn read_ephemeral_range(path: &Path) -> Option<PortRange> {
    let text = std::fs::read_to_string(path).ok()?;
    let mut parts = text.split_whitespace().map(str::parse::<u16>);
    let (Some(Ok(low)), Some(Ok(high))) = (parts.next(), parts.next()) else {
        return None;
    };
    (low <= high).then_some(PortRange { low, high })
}

impl SystemSource {
    fn process_details(&mut self, pids: &BTreeSet<u32>) -> BTreeMap<u32, ProcessInfo> {
        let Some(system) = self.system.as_mut() else {
            return BTreeMap::new();
        };
        let list: Vec<Pid> = pids.iter().map(|p| Pid::from_u32(*p)).collect();
        let cmd = if self.options.with_cmdline {
            UpdateKind::OnlyIfNotSet
        } else {
            UpdateKind::Never
        };
        let kind = ProcessRefreshKind::nothing()
            .with_user(UpdateKind::OnlyIfNotSet)
            .with_exe(UpdateKind::OnlyIfNotSet)
            .with_cmd(cmd)
            .without_tasks();
        system.refresh_processes_specifics(ProcessesToUpdate::Some(&list), true, kind);
        // refresh with a PID list only removes the listed dead ones; drop the rest when they pile up.
        if system.processes().len() > 4 * list.len() + 256 {
            if let Ok(fresh) = System::new() {
                *system = fresh;
                system.refresh_processes_specifics(ProcessesToUpdate::Some(&list), true, kind);
            }
        }
        let mut out = BTreeMap::new();
        for pid in &list {
            // A PID absent here exited after the owner scan; its sockets keep the PID, without details.
            let Some(p) = system.process(*pid) else {
                continue;
            };
            let user = p.user_id().and_then(|uid| self.users.name(**uid));
            let info = ProcessInfo {
                pid: pid.as_u32(),
                name: p.name().to_string_lossy().into_owned(),
                user,
                exe: p.exe().map(|e| e.to_string_lossy().into_owned()),
                cmdline: self.options.with_cmdline.then(|| {
                    p.cmd()
                        .iter()
                        .map(|a| a.to_string_lossy().into_owned())
                        .collect()
                }),
            };
            out.insert(info.pid, info);
        }
        out
    }

    fn user_names(&mut self, uids: &BTreeSet<u32>) -> BTreeMap<u32, String> {
        uids.iter()
            .filter_map(|uid| Some((*uid, self.users.name(*uid)?)))
            .collect()
    }
}

impl SocketSource for SystemSource {
    fn sample(&mut self) -> Result<Snapshot, CollectError> {
        let taken_at = Utc::now();
        let (mut sockets, mut notes) = self.dump()?;
        let mut unix_sockets = dump_unix_sockets(&mut notes);
        let namespaces = other_namespaces(&mut sockets, &mut unix_sockets, &mut notes);
        let inodes: Vec<u32> = sockets
            .iter()
            .filter_map(|s| s.inode)
            .chain(unix_sockets.iter().map(|u| u.inode))
            .collect();
        let owners = self
            .owners
            .owners_for(&inodes)
            .map_err(|source| CollectError::Proc {
                path: "/proc".to_owned(),
                source,
            })?;
        let mut pids = BTreeSet::new();
        let mut uids = BTreeSet::new();
        for socket in &mut sockets {
            if let Some(found) = socket.inode.and_then(|i| owners.by_inode.get(&i)) {
                socket.pids.clone_from(found);
                pids.extend(found.iter().copied());
            } else {
                socket.owner_note = Some(owner_note(socket, owners));
            }
            uids.extend(socket.uid);
        }
        for unix in &mut unix_sockets {
            if let Some(found) = owners.by_inode.get(&unix.inode) {
                unix.pids.clone_from(found);
                pids.extend(found.iter().copied());
            }
        }
        let processes = self.process_details(&pids);
        let users = self.user_names(&uids);
        Ok(Snapshot {
            taken_at,
            host: self.host.clone(),
            ephemeral_range: read_ephemeral_range(Path::new(
                "/proc/sys/net/ipv4/ip_local_port_range",
            )),
            sockets,
            processes,
            users,
            notes,
            machine: machine_facts(),
            hosts: BTreeMap::new(),
            unix_sockets,
            namespaces,
        })
    }
}

impl SystemSource {
    /// The kernel's sockets, and notes on what could not be seen. On Linux a refused sock_diag dump falls
    /// back to the `/proc/net` tables, which lack v6only, cookies, interfaces and `tcp_info`.
    #[cfg(target_os = "linux")]
    fn dump(&mut self) -> Result<(Vec<SocketEntry>, Vec<String>), CollectError> {
        let dumped = super::linux::dump_sockets(&mut self.interfaces, self.last_count);
        let result = with_fallback(dumped, || super::linux::dump_procfs(Path::new("/proc/net")));
        if let Ok((sockets, _)) = &result {
            self.last_count = sockets.len();
        }
        result
    }

    #[cfg(not(target_os = "linux"))]
    fn dump(&mut self) -> Result<(Vec<SocketEntry>, Vec<String>), CollectError> {
        super::portable::dump_sockets().map(|s| (s, Vec::new()))
    }
}

/// This namespace's Unix domain sockets; a kernel that refuses the dump (no `unix_diag`) costs only
/// them, with a note saying so.
fn dump_unix_sockets(notes: &mut Vec<String>) -> Vec<crate::model::unix::UnixSocket> {
    #[cfg(target_os = "linux")]
    match super::linux::unix::dump_unix() {
        Ok(list) => return list,
        Err(e) => notes.push(format!("{e}; Unix domain sockets are not listed")),
    }
    #[cfg(not(target_os = "linux"))]
    let _ = notes;
    Vec::new()
}

/// Labels this namespace's sockets with its inode, and adds every other namespace's sockets (Linux).
fn other_namespaces(
    sockets: &mut Vec<SocketEntry>,
    unix: &mut Vec<crate::model::unix::UnixSocket>,
    notes: &mut Vec<String>,
) -> BTreeMap<u64, crate::model::netns::NetNamespace> {
    #[cfg(target_os = "linux")]
    {
        use super::linux::netns;
        let proc_root = Path::new("/proc");
        let scan = netns::scan_namespaces(proc_root);
        for socket in sockets.iter_mut() {
            socket.netns = scan.own;
        }
        for socket in unix.iter_mut() {
            socket.netns = scan.own;
        }
        let foreign = netns::dump_other_namespaces(proc_root, &scan);
        sockets.extend(foreign.sockets);
        unix.extend(foreign.unix);
        notes.extend(foreign.notes);
        foreign.namespaces
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = (sockets, unix, notes);
        BTreeMap::new()
    }
}

/// The host settings explanations depend on; none on systems other than Linux.
fn machine_facts() -> crate::model::snapshot::MachineFacts {
    #[cfg(target_os = "linux")]
    return super::linux::read_machine_facts(Path::new("/proc"));
    #[cfg(not(target_os = "linux"))]
    return crate::model::snapshot::MachineFacts::default();
}

/// The kernel dump, or when the kernel refused it the fallback's sockets with a note saying so and what
/// the fallback lacks. When both fail, the kernel's error is the one worth reporting.
#[cfg(target_os = "linux")]
fn with_fallback(
    dump: Result<Vec<SocketEntry>, CollectError>,
    fallback: impl FnOnce() -> std::io::Result<Vec<SocketEntry>>,
) -> Result<(Vec<SocketEntry>, Vec<String>), CollectError> {
    match dump {
        Ok(sockets) => Ok((sockets, Vec::new())),
        Err(err) => match fallback() {
            Ok(sockets) => Ok((
                sockets,
                vec![format!(
                    "{err}; read /proc/net instead, which does not give IPV6_V6ONLY, socket cookies, \
                     bound interfaces or tcp_info"
                )],
            )),
            Err(_) => Err(err),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(target_os = "linux")]
    #[test]
    fn a_refused_dump_falls_back_to_proc_net_and_says_why() {
        use crate::collector::DumpError;
        let refused = || {
            Err(CollectError::SocketDump {
                table: "tcp (IPv4)",
                source: DumpError::Refused(1),
            })
        };
        let one = SocketEntry::udp("0.0.0.0:53".parse().unwrap(), None);
        let (sockets, notes) = with_fallback(refused(), || Ok(vec![one.clone()])).unwrap();
        assert_eq!(sockets, vec![one]);
        assert_eq!(
            notes,
            vec![
                "cannot list tcp (IPv4) sockets from the kernel (sock_diag): permission denied (a \
                 security policy or seccomp filter blocks sock_diag) (EPERM); read /proc/net \
                 instead, which does not give IPV6_V6ONLY, socket cookies, bound interfaces or \
                 tcp_info"
            ]
        );
        let both_fail = with_fallback(refused(), || Err(std::io::Error::other("no /proc")));
        let err = both_fail.unwrap_err();
        assert!(
            matches!(err, CollectError::SocketDump { ref source, .. } if source.is_permission())
        );
    }

    #[test]
    fn reads_this_machines_ephemeral_range() {
        let range =
            read_ephemeral_range(Path::new("/proc/sys/net/ipv4/ip_local_port_range")).unwrap();
        assert!(range.low <= range.high);
        assert!(read_ephemeral_range(Path::new("/nonexistent")).is_none());
    }
}

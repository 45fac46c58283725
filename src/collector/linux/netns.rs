//! Network namespaces other than Sockscope's own: containers keep their sockets there, invisible to a
//! dump made from the host's namespace (sock_diag answers for the namespace of the socket that asks).
//!
//! Every process's `/proc/PID/ns/net` says which namespace it is in. For each namespace other than ours,
//! one short-lived thread named `netns` enters it with setns(2) (which needs CAP_SYS_ADMIN) and makes the
//! same dumps there; the thread ends with the sample, so no other thread ever runs in a foreign
//! namespace. Sockets keep their inode across namespaces, so the one `/proc` owner scan serves them all.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::ErrorKind;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use rustix::fd::AsFd;
use rustix::thread::{LinkNameSpaceType, move_into_link_name_space};

use super::InterfaceNames;
use crate::collector::CollectError;
use crate::model::netns::{NamespaceFacts, NetNamespace, container_of_cgroup};
use crate::model::socket::SocketEntry;
use crate::model::unix::UnixSocket;

/// Which namespace every process is in.
#[derive(Debug, Default)]
pub struct NamespaceScan {
    /// The namespace Sockscope samples from.
    pub own: Option<u64>,
    /// The host's: PID 1's, or when PID 1 refuses (some sandboxes refuse even root) kthreadd's (PID 2),
    /// which like every kernel thread is in the initial namespace.
    pub init: Option<u64>,
    /// Every namespace a process is in, with those processes, ascending.
    pub members: BTreeMap<u64, Vec<u32>>,
    /// Processes whose namespace could not be read (permission denied): other users' without root. Their
    /// namespaces cannot be named, so no note can say which; README says that listing other namespaces
    /// needs root.
    pub unreadable: usize,
}

/// The inode of the namespace `link` (a `/proc/PID/ns/net`) names.
fn inode_of(link: &Path) -> std::io::Result<u64> {
    std::fs::metadata(link).map(|m| m.ino())
}

/// The namespace this process samples from (its main thread's), read once: it does not change.
#[must_use]
pub fn own_netns() -> Option<u64> {
    static OWN: std::sync::OnceLock<Option<u64>> = std::sync::OnceLock::new();
    *OWN.get_or_init(|| inode_of(Path::new("/proc/self/ns/net")).ok())
}

/// Reads `/proc/PID/ns/net` of every process under `proc_root`. Processes that exit mid-scan are
/// skipped; those that refuse are counted.
#[must_use]
pub fn scan_namespaces(proc_root: &Path) -> NamespaceScan {
    let mut scan = NamespaceScan {
        own: inode_of(&proc_root.join("self/ns/net")).ok(),
        init: inode_of(&proc_root.join("1/ns/net"))
            .or_else(|_| inode_of(&proc_root.join("2/ns/net")))
            .ok(),
        ..NamespaceScan::default()
    };
    let Ok(dirs) = crate::collector::owners::process_dirs(proc_root) else {
        return scan;
    };
    for (pid, entry) in dirs {
        match inode_of(&entry.path().join("ns/net")) {
            Ok(inode) => scan.members.entry(inode).or_default().push(pid),
            Err(e) if e.kind() == ErrorKind::PermissionDenied => scan.unreadable += 1,
            // Exited since /proc was listed, or a kernel without network namespaces.
            Err(_) => {}
        }
    }
    for pids in scan.members.values_mut() {
        pids.sort_unstable();
    }
    scan
}

/// What the other namespaces held, and what could not be seen.
#[derive(Debug, Default)]
pub struct ForeignSockets {
    /// Their TCP and UDP sockets, each labelled with its namespace.
    pub sockets: Vec<SocketEntry>,
    /// Their Unix sockets, each labelled with its namespace.
    pub unix: Vec<UnixSocket>,
    /// Every namespace seen, ours included (listed or not).
    pub namespaces: BTreeMap<u64, NetNamespace>,
    /// What could not be listed, and why.
    pub notes: Vec<String>,
}

/// Describes every namespace in `scan` and dumps the sockets of those other than ours.
#[must_use]
pub fn dump_other_namespaces(proc_root: &Path, scan: &NamespaceScan) -> ForeignSockets {
    let mut out = ForeignSockets::default();
    let mut entered = Vec::new();
    for (&inode, pids) in &scan.members {
        let own = Some(inode) == scan.own;
        let host = Some(inode) == scan.init;
        let mut ns = NetNamespace {
            inode,
            host,
            container: None,
            listed: own,
            sampler: own,
            facts: None,
        };
        if !host {
            match container_of_members(proc_root, pids) {
                Ok(container) => ns.container = container,
                Err(why) => out.notes.push(format!(
                    "the container of {} ({}) cannot be told: {why}",
                    ns.describe(),
                    pid_list(pids)
                )),
            }
        }
        if !own {
            match open_namespace(proc_root, inode, pids) {
                Ok(file) => entered.push((inode, file)),
                Err(why) => out.notes.push(format!(
                    "{} ({}) {why}; its sockets are not listed",
                    ns.describe(),
                    pid_list(pids)
                )),
            }
        }
        out.namespaces.insert(inode, ns);
    }
    if !entered.is_empty() {
        dump_entered(entered, &mut out);
    }
    out
}

/// The container the first of `pids` whose cgroup can be read belongs to (`None` when its cgroup names
/// none, or every process has exited); an error when some process is there but its cgroup file cannot
/// be read.
fn container_of_members(proc_root: &Path, pids: &[u32]) -> Result<Option<String>, String> {
    let mut refused = None;
    for pid in pids {
        match std::fs::read_to_string(proc_root.join(format!("{pid}/cgroup"))) {
            Ok(text) => return Ok(container_of_cgroup(&text)),
            Err(e) if e.kind() == ErrorKind::NotFound => {}
            Err(e) => refused = Some(e),
        }
    }
    match refused {
        Some(e) => Err(format!("its processes' cgroup files cannot be read ({e})")),
        None => Ok(None),
    }
}

/// `PIDs 1234, 1240` (at most five, then `…`).
fn pid_list(pids: &[u32]) -> String {
    let shown: Vec<String> = pids.iter().take(5).map(u32::to_string).collect();
    let more = if pids.len() > 5 { ", …" } else { "" };
    let word = if pids.len() == 1 { "PID" } else { "PIDs" };
    format!("{word} {}{more}", shown.join(", "))
}

/// Opens namespace `inode` through the first of its processes that is still in it. A PID may have
/// exited and been reused since the scan, so the opened file's inode is checked.
fn open_namespace(proc_root: &Path, inode: u64, pids: &[u32]) -> Result<File, &'static str> {
    let mut denied = false;
    for pid in pids {
        match File::open(proc_root.join(format!("{pid}/ns/net"))) {
            Ok(file) if file.metadata().is_ok_and(|m| m.ino() == inode) => return Ok(file),
            Ok(_) => {}
            Err(e) if e.kind() == ErrorKind::PermissionDenied => denied = true,
            Err(_) => {}
        }
    }
    Err(if denied {
        "could not be opened: permission denied (run Sockscope as root)"
    } else {
        "went away during the sample (every process in it exited)"
    })
}

/// What one namespace held: its inet sockets, its Unix sockets (or why not), and its settings.
struct Inside {
    sockets: Vec<SocketEntry>,
    unix: Result<Vec<UnixSocket>, CollectError>,
    facts: NamespaceFacts,
}

/// One namespace's dump, or why it could not be made.
type Dumped = (u64, Result<Inside, String>);

/// Enters each namespace in turn on one short-lived thread and dumps it there.
fn dump_entered(entered: Vec<(u64, File)>, out: &mut ForeignSockets) {
    let worker = std::thread::Builder::new()
        .name("netns".to_owned())
        .spawn(move || entered.into_iter().map(dump_in).collect::<Vec<Dumped>>());
    let results = match worker.map(std::thread::JoinHandle::join) {
        Ok(Ok(results)) => results,
        Ok(Err(_)) => {
            out.notes.push(
                "the thread reading other network namespaces failed; their sockets are not listed"
                    .to_owned(),
            );
            return;
        }
        Err(e) => {
            out.notes.push(format!(
                "could not start a thread to read other network namespaces ({e}); their sockets are \
                 not listed"
            ));
            return;
        }
    };
    for (inode, result) in results {
        let label = out.namespaces.get(&inode).map_or_else(
            || format!("network namespace {inode}"),
            NetNamespace::describe,
        );
        match result {
            Ok(Inside {
                sockets,
                unix,
                facts,
            }) => {
                out.sockets.extend(sockets.into_iter().map(|s| SocketEntry {
                    netns: Some(inode),
                    ..s
                }));
                match unix {
                    Ok(list) => out.unix.extend(list.into_iter().map(|u| UnixSocket {
                        netns: Some(inode),
                        ..u
                    })),
                    Err(e) => out.notes.push(format!(
                        "{e} in {label}; its Unix domain sockets are not listed"
                    )),
                }
                if let Some(ns) = out.namespaces.get_mut(&inode) {
                    ns.listed = true;
                    ns.facts = Some(facts);
                }
            }
            Err(why) => out
                .notes
                .push(format!("{label} {why}; its sockets are not listed")),
        }
    }
}

/// Runs on the `netns` thread: enters `file`'s namespace and dumps it. Interface indexes there name
/// that namespace's interfaces, which `/sys/class/net` (the host's) does not list, so they stay numbers.
fn dump_in((inode, file): (u64, File)) -> Dumped {
    if let Err(e) = move_into_link_name_space(file.as_fd(), Some(LinkNameSpaceType::Network)) {
        let why = if e == rustix::io::Errno::PERM {
            "could not be entered: permission denied (setns needs CAP_SYS_ADMIN in Sockscope's user \
             namespace and in the one that owns the target; run Sockscope as root)"
                .to_owned()
        } else {
            format!("could not be entered ({e})")
        };
        return (inode, Err(why));
    }
    let sockets = match super::dump_sockets(&mut InterfaceNames::numbered(), 0) {
        Ok(sockets) => sockets,
        Err(e) => return (inode, Err(format!("could not be listed: {e}"))),
    };
    // `/proc/sys/net` answers for this thread's namespace now; `/proc/net` still for the main thread's.
    let facts = NamespaceFacts {
        ephemeral_range: crate::collector::system::read_ephemeral_range(Path::new(
            "/proc/sys/net/ipv4/ip_local_port_range",
        )),
        machine: super::read_machine_facts_at(Path::new("/proc"), Path::new("/proc/thread-self")),
    };
    let inside = Inside {
        sockets,
        unix: super::unix::dump_unix(),
        facts,
    };
    (inode, Ok(inside))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_is_in_a_namespace_the_scan_finds() {
        let scan = scan_namespaces(Path::new("/proc"));
        let own = scan.own.expect("this kernel has network namespaces");
        let members = scan.members.get(&own).expect("our namespace has members");
        assert!(members.contains(&std::process::id()));
    }

    #[test]
    fn a_namespace_whose_processes_are_gone_is_a_note_not_an_error() {
        let scan = NamespaceScan {
            own: Some(1),
            init: Some(1),
            members: BTreeMap::from([(1, vec![]), (77, vec![u32::MAX - 1])]),
            unreadable: 0,
        };
        let out = dump_other_namespaces(Path::new("/proc"), &scan);
        assert!(out.sockets.is_empty());
        assert_eq!(out.namespaces.len(), 2);
        assert!(!out.namespaces[&77].listed);
        assert!(out.namespaces[&1].listed && out.namespaces[&1].host);
        assert_eq!(
            out.notes,
            vec![
                "network namespace 77 (PID 4294967294) went away during the sample (every \
                 process in it exited); its sockets are not listed"
            ]
        );
    }

    #[test]
    fn an_unreadable_cgroup_is_a_note_and_the_namespace_is_still_described() {
        let root = tempfile::tempdir().unwrap();
        // A directory where the file should be: reading it fails, and not because the process exited.
        std::fs::create_dir_all(root.path().join("4242/cgroup")).unwrap();
        let scan = NamespaceScan {
            own: Some(1),
            init: Some(1),
            members: BTreeMap::from([(1, vec![]), (88, vec![4242])]),
            unreadable: 0,
        };
        let out = dump_other_namespaces(root.path(), &scan);
        let ns = &out.namespaces[&88];
        assert_eq!((ns.container.as_deref(), ns.listed), (None, false));
        assert!(
            out.notes[0].starts_with(
                "the container of network namespace 88 (PID 4242) cannot be told: its processes' \
                 cgroup files cannot be read ("
            ),
            "{:?}",
            out.notes
        );
        assert_eq!(
            out.notes.len(),
            2,
            "and it could not be entered: {:?}",
            out.notes
        );
    }

    #[test]
    fn pid_lists_stay_short() {
        assert_eq!(pid_list(&[7]), "PID 7");
        assert_eq!(pid_list(&[1, 2, 3, 4, 5, 6, 7]), "PIDs 1, 2, 3, 4, 5, …");
    }
}

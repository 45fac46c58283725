//! Which process holds which socket: a scan of `/proc/PID/fd` mapping socket inodes to PIDs.
//!
//! The kernel's socket dump gives each socket's inode but not its process; the only way to the process is
//! to read every `/proc/PID/fd/N` link and look for `socket:[INODE]`, as `ss -p` and `lsof` do. That scan
//! is the costly part of a sample (≈15 µs per socket fd), so [`OwnerScan`] keeps the last result and
//! rescans only when a socket it has not resolved before appears, or when the result is too old.

use crate::model::{FastMap, FastSet};

use std::fmt::Write as _;
use std::fs;
use std::io::ErrorKind;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The result of one full scan of `/proc`.
#[derive(Debug, Default, Clone)]
pub struct InodeOwners {
    /// Socket inode → PIDs holding it, ascending.
    pub by_inode: FastMap<u32, Vec<u32>>,
    /// Uids of processes whose fd table could not be read (permission denied).
    pub denied_uids: FastSet<u32>,
    /// How many processes could not be read.
    pub denied_processes: usize,
}

/// Processes whose fd directories are open at once; bounds our own descriptor use on busy hosts.
const PROCESS_BATCH: usize = 256;
/// Below this many fds in a batch, threads cost more than they save.
const PARALLEL_MIN_FDS: usize = 4096;

/// One process's open fd directory and the fd numbers listed in it.
struct ProcFds {
    pid: u32,
    uid: Option<u32>,
    dir: rustix::fd::OwnedFd,
    fds: Vec<u32>,
}

/// What one worker found: (inode, pid) pairs and the processes whose links it could not read.
#[derive(Default)]
struct Found {
    sockets: Vec<(u32, u32)>,
    denied: Vec<usize>,
}

impl InodeOwners {
    /// Scans every numeric directory of `proc_root` (normally `/proc`). Processes that vanish mid-scan and
    /// fd tables that cannot be read are skipped, never fatal.
    ///
    /// Each link is read with `readlinkat` relative to the open `/proc/PID/fd` directory, which spares the
    /// kernel a path walk per fd, and large batches are split over the available cores: the scan is most
    /// of a sample's cost.
    ///
    /// # Errors
    /// Only when `proc_root` itself cannot be listed.
    pub fn scan(proc_root: &Path) -> std::io::Result<Self> {
        let mut owners = Self::default();
        let mut batch = Vec::with_capacity(PROCESS_BATCH);
        let mut fd_dir = PathBuf::new();
        for (pid, entry) in process_dirs(proc_root)? {
            fd_dir.clear();
            fd_dir.push(entry.path());
            fd_dir.push("fd");
            let uid = || entry.metadata().ok().map(|m| m.uid());
            match list_fds(&fd_dir) {
                Ok((dir, fds)) => batch.push(ProcFds {
                    pid,
                    uid: uid(),
                    dir,
                    fds,
                }),
                Err(e) if e.kind() == ErrorKind::PermissionDenied => {
                    if still_denied(&entry.path()) {
                        owners.note_denied(uid());
                    }
                }
                // NotFound: the process exited between listing /proc and here.
                Err(_) => {}
            }
            if batch.len() == PROCESS_BATCH {
                owners.resolve(&batch, proc_root);
                batch.clear();
            }
        }
        owners.resolve(&batch, proc_root);
        for pids in owners.by_inode.values_mut() {
            pids.sort_unstable();
            pids.dedup();
        }
        Ok(owners)
    }

    /// Reads the links of a batch of processes, on several threads when the batch is large.
    fn resolve(&mut self, batch: &[ProcFds], proc_root: &Path) {
        let work: Vec<(usize, u32)> = batch
            .iter()
            .enumerate()
            .flat_map(|(i, p)| p.fds.iter().map(move |fd| (i, *fd)))
            .collect();
        let threads = std::thread::available_parallelism()
            .map_or(1, std::num::NonZero::get)
            .min(4);
        let found: Vec<Found> = if threads > 1 && work.len() >= PARALLEL_MIN_FDS {
            let chunk = work.len().div_ceil(threads);
            std::thread::scope(|scope| {
                let workers: Vec<_> = work
                    .chunks(chunk)
                    .map(|part| {
                        let worker = std::thread::Builder::new()
                            .name("owner-scan".to_owned())
                            .spawn_scoped(scope, move || read_links(batch, part));
                        // No thread to be had: scan this part here rather than lose it.
                        worker.map_err(|_| read_links(batch, part))
                    })
                    .collect();
                workers
                    .into_iter()
                    // A worker only panics on a bug; losing its part of the scan beats losing the sample.
                    .filter_map(|w| match w {
                        Ok(handle) => handle.join().ok(),
                        Err(done) => Some(done),
                    })
                    .collect()
            })
        } else {
            vec![read_links(batch, &work)]
        };
        let mut denied = FastSet::default();
        for f in found {
            for (inode, pid) in f.sockets {
                let pids = self.by_inode.entry(inode).or_default();
                if pids.last() != Some(&pid) {
                    pids.push(pid);
                }
            }
            denied.extend(f.denied);
        }
        for i in denied {
            if still_denied(&proc_root.join(batch[i].pid.to_string())) {
                self.note_denied(batch[i].uid);
            }
        }
    }

    /// Remembers a process whose sockets we may not see, by the uid owning its `/proc/PID` entry.
    fn note_denied(&mut self, uid: Option<u32>) {
        self.denied_processes += 1;
        self.denied_uids.extend(uid);
    }
}

/// Every `/proc/PID` directory under `proc_root`, with its PID. Entries that vanish while listed are
/// skipped.
///
/// # Errors
/// Only when `proc_root` itself cannot be listed.
pub(crate) fn process_dirs(
    proc_root: &Path,
) -> std::io::Result<impl Iterator<Item = (u32, fs::DirEntry)>> {
    Ok(fs::read_dir(proc_root)?.filter_map(|entry| {
        let entry = entry.ok()?;
        let pid = entry.file_name().to_str()?.parse::<u32>().ok()?;
        Some((pid, entry))
    }))
}

/// Whether a refusal to read `proc_dir`'s fds is about permission. A process that is exiting (or a
/// zombie) refuses too, even to root, and one that has gone cannot be asked: neither says anything
/// about privileges, and calling its sockets "not permitted" would be wrong. So the process must still
/// be alive and refuse a second time.
fn still_denied(proc_dir: &Path) -> bool {
    match fs::read_to_string(proc_dir.join("stat")) {
        Ok(stat) if !is_exiting(&stat) => match list_fds(&proc_dir.join("fd")) {
            Err(e) => e.kind() == ErrorKind::PermissionDenied,
            // Some processes let the directory be listed but refuse each link (PID 1 in some sandboxes).
            Ok((dir, fds)) => fds.first().is_some_and(|fd| {
                let mut buf = [0u8; 64];
                matches!(
                    rustix::fs::readlinkat_raw(&dir, fd.to_string().as_str(), &mut buf),
                    Err(rustix::io::Errno::ACCESS | rustix::io::Errno::PERM)
                )
            }),
        },
        _ => false,
    }
}

/// True when a `/proc/PID/stat` line shows a zombie or dead process (state `Z`, `X` or `x`).
fn is_exiting(stat: &str) -> bool {
    // The name in parentheses may hold spaces and parentheses: the state follows the last ')'.
    let state = stat
        .rsplit_once(')')
        .and_then(|(_, rest)| rest.split_whitespace().next());
    matches!(state, Some("Z" | "X" | "x"))
}

/// Opens `/proc/PID/fd` and lists its fd numbers.
fn list_fds(fd_dir: &Path) -> std::io::Result<(rustix::fd::OwnedFd, Vec<u32>)> {
    use rustix::fs::{Dir, Mode, OFlags};
    let dir = rustix::fs::open(
        fd_dir,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )?;
    let mut fds = Vec::new();
    for entry in Dir::read_from(&dir)? {
        let Ok(entry) = entry else { break };
        if let Some(fd) = entry.file_name().to_str().ok().and_then(|n| n.parse().ok()) {
            fds.push(fd);
        }
    }
    Ok((dir, fds))
}

/// Reads `part` of a batch's fd links, keeping the ones that are sockets.
fn read_links(batch: &[ProcFds], part: &[(usize, u32)]) -> Found {
    let mut found = Found::default();
    let mut buf = [0u8; 64];
    let mut name = String::with_capacity(12);
    let mut skip_proc = usize::MAX;
    for &(i, fd) in part {
        if i == skip_proc {
            continue;
        }
        let proc_fds = &batch[i];
        name.clear();
        let _ = write!(name, "{fd}");
        match rustix::fs::readlinkat_raw(&proc_fds.dir, name.as_str(), &mut buf) {
            // Targets longer than the buffer are cut short; they are paths, never `socket:[N]`.
            Ok(len) => {
                if let Some(inode) = socket_inode(&buf[..len.min(buf.len())]) {
                    found.sockets.push((inode, proc_fds.pid));
                }
            }
            // Some kernels (and sandboxes) list the fd directory but refuse each link.
            Err(rustix::io::Errno::ACCESS | rustix::io::Errno::PERM) => {
                found.denied.push(i);
                skip_proc = i;
            }
            // The fd was closed, or the process exited, since the listing.
            Err(_) => {}
        }
    }
    found
}

/// Parses `socket:[12345]` into 12345.
fn socket_inode(link: &[u8]) -> Option<u32> {
    let digits = link.strip_prefix(b"socket:[")?.strip_suffix(b"]")?;
    std::str::from_utf8(digits).ok()?.parse().ok()
}

/// A cached owner scan for a sampler that runs every second.
///
/// The cache is reused while every socket inode in the new sample was already looked up (found or not)
/// and the cache is younger than `max_age`; any unseen inode, or age, triggers one full rescan. A forked
/// child that inherits a socket after the scan shows up at the next rescan at the latest.
#[derive(Debug)]
pub struct OwnerScan {
    proc_root: PathBuf,
    max_age: Duration,
    cached: Option<(Instant, InodeOwners)>,
    looked_up: FastSet<u32>,
}

impl OwnerScan {
    /// A scanner over `proc_root` whose cache lives at most `max_age` (zero: rescan every time).
    #[must_use]
    pub fn new(proc_root: impl Into<PathBuf>, max_age: Duration) -> Self {
        Self {
            proc_root: proc_root.into(),
            max_age,
            cached: None,
            looked_up: FastSet::default(),
        }
    }

    /// Owners for a sample whose sockets have `inodes` (0 = none, ignored).
    ///
    /// # Errors
    /// When `/proc` cannot be listed.
    pub fn owners_for(&mut self, inodes: &[u32]) -> std::io::Result<&InodeOwners> {
        let fresh = self
            .cached
            .as_ref()
            .is_some_and(|(at, _)| at.elapsed() < self.max_age);
        let all_known = inodes.iter().all(|i| *i == 0 || self.looked_up.contains(i));
        if !(fresh && all_known) {
            let owners = InodeOwners::scan(&self.proc_root)?;
            self.looked_up = inodes.iter().copied().filter(|i| *i != 0).collect();
            self.cached = Some((Instant::now(), owners));
        }
        match &self.cached {
            Some((_, owners)) => Ok(owners),
            None => Err(std::io::Error::other("owner scan produced no result")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exiting_processes_are_told_apart_from_live_ones() {
        assert!(is_exiting("4242 (sh) Z 1 4242 4242 0 -1"));
        assert!(is_exiting("4242 (a) b) X 1"));
        assert!(!is_exiting("4242 (tmux: server) S 1 4242"));
        assert!(!is_exiting("4242 (Z) R 1"));
        assert!(!still_denied(Path::new("/proc/no-such-process")));
        assert!(
            !still_denied(Path::new("/proc/self")),
            "this process can read its own fds"
        );
    }

    #[test]
    fn parses_socket_links_only() {
        assert_eq!(socket_inode(b"socket:[12345]"), Some(12345));
        assert_eq!(socket_inode(b"pipe:[12345]"), None);
        assert_eq!(socket_inode(b"socket:[x]"), None);
        assert_eq!(socket_inode(b"/dev/null"), None);
    }

    #[test]
    fn finds_own_socket_in_real_proc() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let me = std::process::id();
        let owners = InodeOwners::scan(Path::new("/proc")).unwrap();
        // Our own fd table is always readable, so at least one socket inode maps to us.
        assert!(owners.by_inode.values().any(|pids| pids.contains(&me)));
        drop(listener);
    }

    /// A fake `/proc` with `pid/fd/N -> target` links.
    fn fake_proc(tag: &str, links: &[(u32, u32, &str)]) -> PathBuf {
        let root =
            std::env::temp_dir().join(format!("sockscope-fakeproc-{tag}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&root);
        add_links(&root, links);
        fs::create_dir_all(root.join("self")).unwrap();
        root
    }

    fn add_links(root: &Path, links: &[(u32, u32, &str)]) {
        for (pid, fd, target) in links {
            let dir = root.join(pid.to_string()).join("fd");
            fs::create_dir_all(&dir).unwrap();
            std::os::unix::fs::symlink(target, dir.join(fd.to_string())).unwrap();
        }
    }

    #[test]
    fn maps_inodes_to_all_holders_and_ignores_other_fds() {
        let root = fake_proc(
            "map",
            &[
                (10, 3, "socket:[555]"),
                (10, 4, "/dev/null"),
                (11, 7, "socket:[555]"),
                (12, 0, "pipe:[9]"),
            ],
        );
        let owners = InodeOwners::scan(&root).unwrap();
        assert_eq!(
            owners.by_inode.get(&555),
            Some(&vec![10, 11]),
            "a forked socket has both holders"
        );
        assert_eq!(owners.by_inode.len(), 1);
        assert_eq!(owners.denied_processes, 0);
        fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn cached_scan_is_reused_until_an_unknown_inode_appears() {
        let root = fake_proc("cache", &[(10, 3, "socket:[555]")]);
        let mut scan = OwnerScan::new(&root, Duration::from_secs(3600));
        assert_eq!(
            scan.owners_for(&[555]).unwrap().by_inode.get(&555),
            Some(&vec![10])
        );
        add_links(&root, &[(20, 5, "socket:[777]"), (21, 5, "socket:[555]")]);
        let cached = scan.owners_for(&[555, 0]).unwrap();
        assert_eq!(
            cached.by_inode.get(&555),
            Some(&vec![10]),
            "known inodes reuse the cache"
        );
        let fresh = scan.owners_for(&[555, 777]).unwrap();
        assert_eq!(
            fresh.by_inode.get(&777),
            Some(&vec![20]),
            "an unknown inode triggers a rescan"
        );
        assert_eq!(fresh.by_inode.get(&555), Some(&vec![10, 21]));
        let mut no_cache = OwnerScan::new(&root, Duration::ZERO);
        add_links(&root, &[(30, 1, "socket:[555]")]);
        assert_eq!(
            no_cache.owners_for(&[555]).unwrap().by_inode.get(&555),
            Some(&vec![10, 21, 30])
        );
        assert_eq!(
            no_cache
                .owners_for(&[555])
                .unwrap()
                .by_inode
                .get(&555)
                .map(Vec::len),
            Some(3)
        );
        fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn missing_proc_root_is_an_error_not_a_panic() {
        assert!(InodeOwners::scan(Path::new("/nonexistent-proc")).is_err());
    }
}

//! A snapshot: every socket and owning process of one host at one instant.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use super::socket::SocketEntry;

/// The range of local ports the kernel picks from when a program does not choose one (Linux:
/// `net.ipv4.ip_local_port_range`, 32768–60999 by default). Not the same as IANA's dynamic range.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PortRange {
    /// First port of the range, inclusive.
    pub low: u16,
    /// Last port of the range, inclusive.
    pub high: u16,
}

impl PortRange {
    /// Linux's default `ip_local_port_range`.
    pub const LINUX_DEFAULT: Self = Self {
        low: 32768,
        high: 60999,
    };

    /// True when `port` lies in the range.
    #[must_use]
    pub fn contains(self, port: u16) -> bool {
        (self.low..=self.high).contains(&port)
    }

    /// How many ports the range holds.
    #[must_use]
    pub fn len(self) -> u32 {
        u32::from(self.high).saturating_sub(u32::from(self.low)) + 1
    }

    /// Never true for a valid range; present because `len` is.
    #[must_use]
    pub fn is_empty(self) -> bool {
        self.high < self.low
    }
}

/// A process that owns at least one socket in a snapshot.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProcessInfo {
    /// Process id.
    pub pid: u32,
    /// Short name (`comm`), e.g. `nginx`.
    pub name: String,
    /// Name of the user the process runs as, when known.
    pub user: Option<String>,
    /// Path of the executable, when readable.
    pub exe: Option<String>,
    /// Command line arguments; `None` unless asked for, because command lines can hold secrets.
    pub cmdline: Option<Vec<String>>,
}

/// Every socket and owning process of one host at one instant.
#[derive(Clone, Debug, PartialEq)]
pub struct Snapshot {
    /// When the sample was taken (UTC).
    pub taken_at: DateTime<Utc>,
    /// The host name of the machine sampled.
    pub host: String,
    /// The machine's ephemeral port range, when known; explanations use it rather than this machine's.
    pub ephemeral_range: Option<PortRange>,
    /// All sockets, in the kernel's order.
    pub sockets: Vec<SocketEntry>,
    /// Owning processes by PID.
    pub processes: BTreeMap<u32, ProcessInfo>,
    /// User names by uid, for the sockets' `uid`.
    pub users: BTreeMap<u32, String>,
    /// What the sampler could not see, in sentences (a refused kernel dump and the fallback used).
    pub notes: Vec<String>,
}

impl Snapshot {
    /// An empty snapshot of `host` taken at `taken_at`.
    #[must_use]
    pub fn empty(host: impl Into<String>, taken_at: DateTime<Utc>) -> Self {
        Self {
            taken_at,
            host: host.into(),
            ephemeral_range: None,
            sockets: Vec::new(),
            processes: BTreeMap::new(),
            users: BTreeMap::new(),
            notes: Vec::new(),
        }
    }

    /// The name of a socket's first owning process, if any.
    #[must_use]
    pub fn process_name(&self, socket: &SocketEntry) -> Option<&str> {
        socket
            .pids
            .first()
            .and_then(|pid| self.processes.get(pid))
            .map(|p| p.name.as_str())
    }

    /// All owner names of a socket joined with `,` (usually one).
    #[must_use]
    pub fn process_names(&self, socket: &SocketEntry) -> String {
        let mut names: Vec<&str> = socket
            .pids
            .iter()
            .filter_map(|pid| self.processes.get(pid))
            .map(|p| p.name.as_str())
            .collect();
        names.dedup();
        names.join(",")
    }

    /// The user that owns a socket: from its uid, else from its process.
    #[must_use]
    pub fn user_of(&self, socket: &SocketEntry) -> Option<&str> {
        socket
            .uid
            .and_then(|uid| self.users.get(&uid))
            .map(String::as_str)
            .or_else(|| {
                socket
                    .pids
                    .first()
                    .and_then(|pid| self.processes.get(pid))
                    .and_then(|p| p.user.as_deref())
            })
    }

    /// The ephemeral range to explain this snapshot with: the recorded one, else Linux's default.
    #[must_use]
    pub fn ephemeral_range_or_default(&self) -> PortRange {
        self.ephemeral_range.unwrap_or(PortRange::LINUX_DEFAULT)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linux_default_range_holds_28232_ports() {
        assert_eq!(PortRange::LINUX_DEFAULT.len(), 28_232);
        assert!(PortRange::LINUX_DEFAULT.contains(32768));
        assert!(PortRange::LINUX_DEFAULT.contains(60999));
        assert!(!PortRange::LINUX_DEFAULT.contains(61000));
    }
}

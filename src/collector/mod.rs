//! The only part of Sockscope that touches the operating system.
//!
//! Everything that samples sockets sits behind [`SocketSource`], so the store, the UI and their tests can
//! be driven by [`ReplaySource`] with no sockets, no `/proc` and no sleeps.

pub mod actions;
#[cfg(target_os = "linux")]
pub mod linux;
mod owners;
#[cfg(not(target_os = "linux"))]
mod portable;
mod privilege;
mod replay;
pub mod resolver;
mod system;
mod thread;
pub mod users;

pub use owners::{InodeOwners, OwnerScan};
pub use privilege::current_privilege;
pub use replay::ReplaySource;
pub use system::{LIVE_OWNER_CACHE, SystemSource, SystemSourceOptions};
pub use thread::{Collector, CollectorEvent};

use crate::model::failure::{Failure, FailureKind};
use crate::model::snapshot::Snapshot;

/// A failure to take a sample at all. Partial problems (one unreadable `/proc/PID`, a process that
/// exits mid-scan) are not errors: they end up as an [`crate::model::socket::OwnerNote`] on the socket.
#[derive(Debug, thiserror::Error)]
pub enum CollectError {
    /// The kernel's socket dump failed, for one table (`tcp (IPv6)`, …) or for all (`netlink`).
    #[error("cannot list {table} sockets from the kernel (sock_diag): {source}")]
    SocketDump {
        /// Which table.
        table: &'static str,
        /// Why.
        source: DumpError,
    },
    /// `/proc` is missing or unreadable, so no owner can be found.
    #[error("cannot read {path}: {source}")]
    Proc {
        /// The path that failed.
        path: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// A replay source ran out of snapshots.
    #[error("no more snapshots to replay")]
    Exhausted,
}

impl CollectError {
    /// The failure as the store and the window carry it: this error's sentence and its kind.
    #[must_use]
    pub fn failure(&self) -> Failure {
        let kind = match self {
            Self::SocketDump { source, .. } => source.kind(),
            Self::Proc { source, .. } => FailureKind::of_io(source),
            Self::Exhausted => FailureKind::NotFound,
        };
        Failure::new(kind, self.to_string())
    }
}

/// Why a kernel socket dump failed, in a form callers can branch on.
#[derive(Debug, thiserror::Error)]
pub enum DumpError {
    /// The netlink socket could not be opened, sent to or read from.
    #[error("{0}")]
    Io(std::io::Error),
    /// The kernel answered the request with an error number.
    #[error("{}", refusal_text(*.0))]
    Refused(i32),
    /// The reply could not be understood.
    #[error("malformed reply: {0}")]
    Malformed(String),
}

impl DumpError {
    /// What kind of failure this is.
    #[must_use]
    pub fn kind(&self) -> FailureKind {
        match self {
            _ if self.is_permission() => FailureKind::Permission,
            Self::Io(e) => FailureKind::of_io(e),
            Self::Refused(2 | 93 | 95 | 97) => FailureKind::Unsupported,
            Self::Refused(_) => FailureKind::Io,
            Self::Malformed(_) => FailureKind::Malformed,
        }
    }

    /// True when the kernel or a security policy refused for lack of permission (EPERM, EACCES).
    #[must_use]
    pub fn is_permission(&self) -> bool {
        match self {
            Self::Io(e) => e.kind() == std::io::ErrorKind::PermissionDenied,
            Self::Refused(errno) => matches!(errno, 1 | 13),
            Self::Malformed(_) => false,
        }
    }
}

/// The kernel's refusal in words: what errno means for a sock_diag dump and what to do about it.
fn refusal_text(errno: i32) -> String {
    const DENIED: &str = "permission denied (a security policy or seccomp filter blocks sock_diag)";
    const UNSUPPORTED: &str = "this kernel has no sock_diag support for it (module inet_diag, tcp_diag or \
                               udp_diag not loaded)";
    const NO_MEMORY: &str = "the kernel ran out of memory for the reply";
    const REFUSED: &str = "the kernel refused the request";
    let (what, name) = match errno {
        1 => (DENIED, "EPERM"),
        13 => (DENIED, "EACCES"),
        2 => (UNSUPPORTED, "ENOENT"),
        93 => (UNSUPPORTED, "EPROTONOSUPPORT"),
        95 => (UNSUPPORTED, "EOPNOTSUPP"),
        97 => (UNSUPPORTED, "EAFNOSUPPORT"),
        12 => (NO_MEMORY, "ENOMEM"),
        105 => (NO_MEMORY, "ENOBUFS"),
        22 => (REFUSED, "EINVAL"),
        _ => return format!("{REFUSED} (errno {errno})"),
    };
    format!("{what} ({name})")
}

/// Anything that can produce snapshots: the live system, or a replay of recorded ones.
pub trait SocketSource: Send {
    /// Takes one sample.
    ///
    /// # Errors
    /// When no snapshot could be produced at all.
    fn sample(&mut self) -> Result<Snapshot, CollectError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_keep_a_kind_the_window_can_branch_on() {
        let dump = |source| CollectError::SocketDump {
            table: "tcp (IPv4)",
            source,
        };
        let denied = dump(DumpError::Refused(1)).failure();
        assert_eq!(denied.kind, FailureKind::Permission);
        assert!(denied.message.contains("EPERM"), "{denied}");
        assert_eq!(
            dump(DumpError::Refused(93)).failure().kind,
            FailureKind::Unsupported
        );
        assert_eq!(
            dump(DumpError::Malformed("short".into())).failure().kind,
            FailureKind::Malformed
        );
        let proc_denied = CollectError::Proc {
            path: "/proc".into(),
            source: std::io::Error::from(std::io::ErrorKind::PermissionDenied),
        };
        assert_eq!(proc_denied.failure().kind, FailureKind::Permission);
        assert_eq!(
            CollectError::Exhausted.failure().kind,
            FailureKind::NotFound
        );
    }
}

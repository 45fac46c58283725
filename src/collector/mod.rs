//! The only part of Sockscope that touches the operating system.
//!
//! Everything that samples sockets sits behind [`SocketSource`], so the store, the UI and their tests can
//! be driven by [`ReplaySource`] with no sockets, no `/proc` and no sleeps.

mod owners;
mod replay;
mod system;
mod thread;

pub use owners::{InodeOwners, OwnerScan};
pub use replay::ReplaySource;
pub use system::{SystemSource, SystemSourceOptions};
pub use thread::{Collector, CollectorEvent};

use crate::model::snapshot::Snapshot;

/// A failure to take a sample at all. Partial problems (one unreadable `/proc/PID`, a process that
/// exits mid-scan) are not errors: they end up as an [`crate::model::socket::OwnerNote`] on the socket.
#[derive(Debug, thiserror::Error)]
pub enum CollectError {
    /// The kernel's socket dump (netlink `SOCK_DIAG`) failed.
    #[error("cannot list sockets from the kernel (netlink sock_diag): {0}")]
    SocketDump(String),
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

/// Anything that can produce snapshots: the live system, or a replay of recorded ones.
pub trait SocketSource: Send {
    /// Takes one sample.
    ///
    /// # Errors
    /// When no snapshot could be produced at all.
    fn sample(&mut self) -> Result<Snapshot, CollectError>;
}

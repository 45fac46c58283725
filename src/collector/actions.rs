//! Acting on what Sockscope shows: closing one TCP connection, ending one process.
//!
//! Both go through [`Actions`], so the window and its tests never reach the kernel directly: the app
//! runs [`SystemActions`], UI tests a fake that records what it was asked. Each action is checked here
//! before anything is sent (a connection needs its cookie; PID 1 and Sockscope itself are refused), and
//! every refusal says what is missing and how to get it, never a bare errno.

use crate::model::failure::{Failure, FailureKind};
use crate::model::socket::{Protocol, SocketEntry, TcpState};

/// The signal that ends a process: TERM asks, KILL does not ask.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EndSignal {
    /// SIGTERM: the process may clean up, or ignore it.
    Term,
    /// SIGKILL: the kernel ends it at once.
    Kill,
}

impl EndSignal {
    /// `SIGTERM` or `SIGKILL`.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Term => "SIGTERM",
            Self::Kill => "SIGKILL",
        }
    }
}

/// What the kernel is asked to do; the seam tests replace.
pub trait Actions: Send + Sync {
    /// Closes the TCP connection `socket`, as seen in the latest sample.
    ///
    /// # Errors
    /// When the socket cannot be closed, with why and what to do.
    fn close(&self, socket: &SocketEntry) -> Result<(), Failure>;

    /// Sends `signal` to process `pid`.
    ///
    /// # Errors
    /// When the process cannot be signalled, with why and what to do.
    fn end(&self, pid: u32, signal: EndSignal) -> Result<(), Failure>;
}

/// The actions, done by this machine's kernel.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemActions;

/// What a user can do when closing needs a privilege this process lacks.
const NET_ADMIN_ADVICE: &str = "run Sockscope as root, give the binary the capability with `sudo setcap \
                                cap_net_admin+ep /usr/bin/sockscope`, or run `pkexec sockscope close …`";

/// Why `socket` cannot be closed at all, before asking the kernel.
#[must_use]
pub fn close_refusal(socket: &SocketEntry) -> Option<Failure> {
    let why = match socket.tcp_state() {
        None if socket.protocol == Protocol::Udp => "only TCP connections can be closed",
        Some(TcpState::TimeWait) => {
            "a TIME_WAIT entry is already closed; the kernel keeps only its tuple"
        }
        Some(TcpState::Listen) => "a listener is not a connection (end its process instead)",
        _ if socket.details.cookie.is_none() => {
            "this sample has no socket cookie (it came from /proc/net or a file), so the exact socket \
             cannot be named"
        }
        _ if socket.peer().is_none() => "the socket is not connected",
        _ if socket.netns.is_some() && socket.netns != own_netns() => {
            "it lives in another network namespace (a container's) and Sockscope closes connections \
             only in its own; run `nsenter -t PID -n ss -K` with its tuple there"
        }
        _ => return None,
    };
    Some(Failure::new(
        FailureKind::Unsupported,
        format!("Cannot close {socket}: {why}."),
    ))
}

/// The network namespace Sockscope runs in, where it can close connections.
fn own_netns() -> Option<u64> {
    #[cfg(target_os = "linux")]
    return super::linux::netns::own_netns();
    #[cfg(not(target_os = "linux"))]
    return None;
}

/// Why process `pid` must not be ended from here, if it must not.
#[must_use]
pub fn end_refusal(pid: u32) -> Option<Failure> {
    let why = match pid {
        0 => "PID 0 is not a process",
        1 => "PID 1 is init: ending it takes the whole system (or container) down",
        _ if pid == std::process::id() => "that is Sockscope itself",
        _ => return None,
    };
    Some(Failure::new(
        FailureKind::Permission,
        format!("Refused to end PID {pid}: {why}."),
    ))
}

impl Actions for SystemActions {
    fn close(&self, socket: &SocketEntry) -> Result<(), Failure> {
        if let Some(refusal) = close_refusal(socket) {
            return Err(refusal);
        }
        close_on_kernel(socket)
    }

    fn end(&self, pid: u32, signal: EndSignal) -> Result<(), Failure> {
        if let Some(refusal) = end_refusal(pid) {
            return Err(refusal);
        }
        let target = i32::try_from(pid)
            .ok()
            .and_then(rustix::process::Pid::from_raw)
            .ok_or_else(|| {
                Failure::new(FailureKind::NotFound, format!("PID {pid} is not valid"))
            })?;
        let sig = match signal {
            EndSignal::Term => rustix::process::Signal::TERM,
            EndSignal::Kill => rustix::process::Signal::KILL,
        };
        rustix::process::kill_process(target, sig).map_err(|errno| {
            let (kind, why) = match errno {
                rustix::io::Errno::PERM => (
                    FailureKind::Permission,
                    "it belongs to another user: ending it needs root (or CAP_KILL)".to_owned(),
                ),
                rustix::io::Errno::SRCH => {
                    (FailureKind::NotFound, "it has already exited".to_owned())
                }
                other => (FailureKind::Io, other.to_string()),
            };
            Failure::new(
                kind,
                format!("Could not send {} to PID {pid}: {why}.", signal.name()),
            )
        })
    }
}

#[cfg(target_os = "linux")]
fn close_on_kernel(socket: &SocketEntry) -> Result<(), Failure> {
    use super::linux::destroy::{DestroyError, destroy_tcp};
    let (Some(remote), Some(cookie)) = (socket.peer(), socket.details.cookie) else {
        return Err(Failure::new(
            FailureKind::Unsupported,
            format!("Cannot close {socket}."),
        ));
    };
    let interface = socket
        .details
        .interface
        .as_deref()
        .map_or(0, interface_index);
    destroy_tcp(socket.local, remote, interface, cookie).map_err(|e| {
        let kind = match &e {
            DestroyError::NotPermitted => FailureKind::Permission,
            DestroyError::Unsupported => FailureKind::Unsupported,
            DestroyError::Gone | DestroyError::Reused => FailureKind::NotFound,
            DestroyError::Refused(_) | DestroyError::Io(_) => FailureKind::Io,
        };
        let advice = match e {
            DestroyError::NotPermitted => format!(": {NET_ADMIN_ADVICE}"),
            _ => String::new(),
        };
        Failure::new(kind, format!("Could not close {socket}: {e}{advice}."))
    })
}

#[cfg(not(target_os = "linux"))]
fn close_on_kernel(socket: &SocketEntry) -> Result<(), Failure> {
    let _ = NET_ADMIN_ADVICE;
    Err(Failure::new(
        FailureKind::Unsupported,
        format!("Cannot close {socket}: closing connections is only built for Linux."),
    ))
}

/// The index of interface `name` (`/sys/class/net/NAME/ifindex`; `ifN` names an index that is gone).
#[cfg(target_os = "linux")]
fn interface_index(name: &str) -> u32 {
    let path = std::path::Path::new("/sys/class/net")
        .join(name)
        .join("ifindex");
    std::fs::read_to_string(path)
        .ok()
        .and_then(|text| text.trim().parse().ok())
        .or_else(|| name.strip_prefix("if").and_then(|n| n.parse().ok()))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn init_and_sockscope_itself_are_never_ended() {
        assert!(end_refusal(1).is_some());
        assert!(end_refusal(std::process::id()).is_some());
        assert!(end_refusal(0).is_some());
        assert!(end_refusal(4242).is_none());
        let refused = SystemActions.end(1, EndSignal::Kill).unwrap_err();
        assert!(refused.message.contains("init"), "{refused}");
    }

    #[test]
    fn only_connections_with_a_cookie_can_be_closed() {
        let tcp = |state| {
            SocketEntry::tcp(
                "127.0.0.1:40112".parse().unwrap(),
                "127.0.0.1:5432".parse().unwrap(),
                state,
            )
        };
        let mut open = tcp(TcpState::Established);
        assert!(close_refusal(&open).is_some(), "no cookie");
        open.details.cookie = Some(7);
        assert!(close_refusal(&open).is_none());
        let mut waiting = tcp(TcpState::TimeWait);
        waiting.details.cookie = Some(8);
        assert!(
            close_refusal(&waiting)
                .unwrap()
                .message
                .contains("TIME_WAIT")
        );
        let udp = SocketEntry::udp("0.0.0.0:53".parse().unwrap(), None);
        assert!(close_refusal(&udp).is_some());
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_connection_in_another_namespace_is_not_closed_from_here() {
        let mut open = SocketEntry::tcp(
            "127.0.0.1:40112".parse().unwrap(),
            "127.0.0.1:5432".parse().unwrap(),
            TcpState::Established,
        );
        open.details.cookie = Some(7);
        let own = own_netns().expect("this kernel has network namespaces");
        assert!(close_refusal(&open.clone().with_netns(own)).is_none());
        let elsewhere = close_refusal(&open.with_netns(own + 1)).unwrap();
        assert!(
            elsewhere.message.contains("another network namespace"),
            "{elsewhere}"
        );
    }
}

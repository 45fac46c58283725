//! A failure as it crosses a seam (collector → store → window, file → window): the sentence people read,
//! and a kind that code can branch on.
//!
//! The typed errors of each module (`CollectError`, `OpenError`, `WriteError`) say exactly what went wrong
//! where it went wrong; what travels on to the store, the status bar and the CLI is a [`Failure`], which is
//! `Clone` (a publication is shared) and keeps the [`FailureKind`], so the window can say what to do about
//! a permission problem without parsing a message.

use std::io;

/// What kind of failure, for code that reacts differently to each.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FailureKind {
    /// The OS or a security policy refused for lack of privilege (EPERM, EACCES).
    Permission,
    /// This system or kernel lacks the feature (a sock_diag module, `/proc`).
    Unsupported,
    /// What was asked for is not there (a file, a process that exited, a replay that ran out).
    NotFound,
    /// The data could not be understood (a malformed kernel reply or file).
    Malformed,
    /// Any other I/O failure.
    Io,
    /// A bug in Sockscope (a panic caught at a thread's edge).
    Internal,
}

impl FailureKind {
    /// The kind of an OS error.
    #[must_use]
    pub fn of_io(e: &io::Error) -> Self {
        match e.kind() {
            io::ErrorKind::PermissionDenied => Self::Permission,
            io::ErrorKind::NotFound => Self::NotFound,
            io::ErrorKind::Unsupported => Self::Unsupported,
            io::ErrorKind::InvalidData => Self::Malformed,
            _ => Self::Io,
        }
    }

    /// What a user can do about a failure of this kind, when there is something to say.
    #[must_use]
    pub fn advice(self) -> Option<&'static str> {
        match self {
            Self::Permission => Some(
                "Sockscope lacks a privilege for this: run it as root, or see the README (\"Seeing other \
                 users' owners without root\") for the capabilities it can use instead.",
            ),
            Self::Unsupported => Some(
                "This kernel lacks what Sockscope reads here; Sockscope falls back to /proc/net where \
                 it can.",
            ),
            Self::NotFound | Self::Malformed | Self::Io | Self::Internal => None,
        }
    }
}

/// A failure with its kind and the one line users read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct Failure {
    /// What kind of failure.
    pub kind: FailureKind,
    /// What went wrong, in one line (with the path or table involved).
    pub message: String,
}

impl Failure {
    /// A failure of `kind` saying `message`.
    #[must_use]
    pub fn new(kind: FailureKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
        }
    }

    /// A bug caught at a thread's edge.
    #[must_use]
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(FailureKind::Internal, message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn os_errors_keep_their_kind() {
        let denied = io::Error::from(io::ErrorKind::PermissionDenied);
        assert_eq!(FailureKind::of_io(&denied), FailureKind::Permission);
        assert!(FailureKind::Permission.advice().is_some());
        let gone = io::Error::from(io::ErrorKind::NotFound);
        assert_eq!(FailureKind::of_io(&gone), FailureKind::NotFound);
        assert_eq!(FailureKind::NotFound.advice(), None);
    }
}

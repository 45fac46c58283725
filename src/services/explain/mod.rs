//! Sentences that explain one socket and its port, filled with that socket's live values.
//!
//! Everything the inspector says comes from here, so it is unit-tested without a window. The wording aims
//! to be technically right where popular articles are not: retransmission is TCP's, not a port's; 53/tcp
//! and 53/udp are different ports; a connected TCP socket involves two ports; IANA's dynamic range is not
//! the kernel's ephemeral range.

mod aspects;
mod kernel;
mod page;
mod port;
mod role;
#[cfg(test)]
mod tests;
mod tuple;
mod unix;

pub use kernel::kernel_lines;
pub use page::{Evidence, Faq, Page, PageAspect, page};
pub use tuple::{state_meaning, udp_state_meaning};
pub use unix::unix_lines;

use crate::model::netns::Place;
use crate::model::ports::PortsIndex;
use crate::model::snapshot::{NsFacts, PortRange, Snapshot};
use crate::model::socket::{Protocol, SocketEntry};
use crate::services::registry::Registry;

/// One labelled part of an explanation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Line {
    /// Short label, e.g. "Local port".
    pub label: &'static str,
    /// The live value, e.g. "5432".
    pub value: String,
    /// What it means for this socket.
    pub meaning: String,
}

pub use crate::model::side::Side;

/// A side with the reason it was decided.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Role {
    /// The side.
    pub side: Side,
    /// Why, in one sentence.
    pub reason: String,
}

/// A row of the "socket vs port" comparison.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Aspect {
    /// The aspect compared, e.g. "Scope".
    pub aspect: &'static str,
    /// What it is for the port.
    pub port: String,
    /// What it is for the socket.
    pub socket: String,
}

/// Explains sockets of one snapshot.
pub struct Explainer<'a> {
    pub(crate) snapshot: &'a Snapshot,
    ports: &'a PortsIndex,
    registry: &'a Registry,
    /// The settings of the namespace explained: the sampler's, or a socket's ([`Self::for_socket`]).
    facts: NsFacts<'a>,
}

impl<'a> Explainer<'a> {
    /// An explainer over one snapshot and its port index, with the sampler's namespace's settings.
    #[must_use]
    pub fn new(snapshot: &'a Snapshot, ports: &'a PortsIndex, registry: &'a Registry) -> Self {
        Self {
            snapshot,
            ports,
            registry,
            facts: snapshot.facts_in(snapshot.sampler_netns()),
        }
    }

    /// The same explainer with the settings (ephemeral range, privileged threshold, addresses) of
    /// `socket`'s network namespace, which explain it.
    #[must_use]
    pub fn for_socket(self, socket: &SocketEntry) -> Self {
        Self {
            facts: self.snapshot.facts_in(socket.netns),
            ..self
        }
    }

    /// Where `s`'s addresses and ports live, for sentences: this host, or its network namespace.
    pub(crate) fn place(&self, s: &SocketEntry) -> Place {
        self.snapshot.place(s.netns)
    }

    /// True when the kernel most likely picked `s`'s local port ([`PortsIndex::kernel_picked`]): the
    /// same rule that blanks the Sockets table's Service cell.
    pub(crate) fn kernel_picked(&self, s: &SocketEntry) -> bool {
        self.ports.kernel_picked(self.snapshot, s)
    }

    pub(crate) fn range(&self) -> PortRange {
        self.facts.ephemeral_range_or_default()
    }

    pub(crate) fn service_label(&self, port: u16, protocol: Protocol) -> String {
        match self.registry.service(port, protocol) {
            Some(s) if !s.name.is_empty() => s.name.clone(),
            _ => "no registered service".to_owned(),
        }
    }
}

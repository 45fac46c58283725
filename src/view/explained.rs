//! The inspector's text for one socket of one sample, written off the UI thread.
//!
//! Explaining a socket looks across the whole sample (who else uses the port, whether the peer is one of
//! this host's addresses), which costs milliseconds at 100 000 sockets; the store thread writes it for the
//! selected socket with each publication, and the inspector only lays it out.

use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::compute::ComputedView;
use super::rows::RowRef;
use crate::model::snapshot::Snapshot;
use crate::model::socket::SocketEntry;
use crate::services::explain::{Aspect, Explainer, Line, kernel_lines};

/// Everything the inspector writes about one socket of one sample.
#[derive(Debug)]
pub struct Explained {
    socket: SocketEntry,
    closed: bool,
    snapshot: Arc<Snapshot>,
    /// The 5-tuple, part by part.
    pub tuple: Vec<Line>,
    /// Its state.
    pub state: Line,
    /// Who owns it.
    pub owner: Vec<String>,
    /// Queues, timers, `tcp_info` and traffic.
    pub kernel: Vec<Line>,
    /// When it was first seen and its age then, in seconds; `None` when nobody watched it appear.
    pub first_seen: Option<(DateTime<Utc>, i64)>,
    /// Its port's service and class.
    pub port: Vec<Line>,
    /// Socket vs port, aspect by aspect.
    pub aspects: Vec<Aspect>,
}

impl Explained {
    /// Writes the text for `socket` of `view`'s sample; `closed` when it closed at that sample; `row`
    /// where it is in the sample, when it is there.
    #[must_use]
    pub fn of(
        socket: &SocketEntry,
        closed: bool,
        row: Option<RowRef>,
        view: &ComputedView,
    ) -> Self {
        let explainer =
            Explainer::new(&view.input.snapshot, &view.ports, view.registry).for_socket(socket);
        let rate = (!closed).then(|| view.input.rate(socket)).flatten();
        Self {
            socket: socket.clone(),
            closed,
            snapshot: Arc::clone(&view.input.snapshot),
            tuple: explainer.tuple(socket),
            state: explainer.state(socket),
            owner: explainer.owner(socket),
            kernel: kernel_lines(
                socket,
                rate,
                view.input.snapshot.facts_in(socket.netns).machine,
            ),
            first_seen: row
                .and_then(|r| Some((view.input.first_seen(r)?, view.input.age_secs(r)?))),
            port: explainer.port(socket),
            aspects: explainer.socket_vs_port(socket),
        }
    }

    /// The socket explained, as it was in its sample.
    #[must_use]
    pub fn socket(&self) -> &SocketEntry {
        &self.socket
    }

    /// Whether the socket had closed at that sample (shown as last seen).
    #[must_use]
    pub fn closed(&self) -> bool {
        self.closed
    }

    /// True when this text was written for exactly this socket, closed flag and sample.
    #[must_use]
    pub fn is_for(&self, socket: &SocketEntry, closed: bool, snapshot: &Arc<Snapshot>) -> bool {
        self.closed == closed && Arc::ptr_eq(&self.snapshot, snapshot) && self.socket == *socket
    }
}

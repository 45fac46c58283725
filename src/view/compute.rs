//! What the tables draw, computed in one pass from one input: filtered and sorted rows, the port index,
//! traffic sums and the Ports view's lines. The store thread runs it; the window only reads the result.

use std::sync::Arc;

use super::filter::Filter;
use super::rows::{RowRef, SortSpec, ViewInput, compute_rows};
use super::unix::{UnixSort, UnixView};
use crate::model::ports::{PortFacts, PortLine, PortsIndex, port_lines};
use crate::model::traffic::TrafficSums;
use crate::services::registry::Registry;

/// What the tables draw: rows and ports computed from one input.
#[derive(Clone, Debug)]
pub struct ComputedView {
    /// The input the rows index into.
    pub input: ViewInput,
    /// Socket rows, filtered and sorted.
    pub rows: Arc<Vec<RowRef>>,
    /// Sockets grouped by port (unfiltered).
    pub ports: Arc<PortsIndex>,
    /// Traffic summed per port and process, and the busiest connections (unfiltered).
    pub traffic: Arc<TrafficSums>,
    /// The visible ports as the Ports view lists them: service ports first, outgoing-only ephemeral
    /// ports folded.
    pub port_lines: Arc<Vec<PortLine>>,
    /// How many rows are sockets of the snapshot (not recently closed ones): what an export of the
    /// filtered rows writes.
    pub live_rows: usize,
    /// How many ports have a listener (for the status bar).
    pub listening_ports: usize,
    /// The service registry the rows were named with; panels name services with the same one.
    pub registry: &'static Registry,
    /// The Unix view: Unix sockets that pass the filter, and who talks to whom.
    pub unix: Arc<UnixView>,
}

/// Computes everything the tables draw from `input`.
#[must_use]
pub fn compute(
    input: ViewInput,
    filter: &Filter,
    sort: SortSpec,
    unix_sort: UnixSort,
    registry: &'static Registry,
) -> ComputedView {
    let ports = PortsIndex::build(&input.snapshot);
    let rows = compute_rows(&input, filter, sort, &ports, registry);
    let visible_ports: Vec<usize> = if filter.is_empty() {
        (0..ports.ports().len()).collect()
    } else {
        // The rows are the filter's verdict already: a port is visible when one of its sockets is a row.
        let mut kept = vec![false; input.snapshot.sockets.len()];
        for row in rows.iter() {
            if let RowRef::Live(i) = row {
                if let Some(k) = kept.get_mut(*i as usize) {
                    *k = true;
                }
            }
        }
        ports
            .ports()
            .iter()
            .enumerate()
            .filter(|(_, p)| p.sockets.iter().any(|i| kept.get(*i) == Some(&true)))
            .map(|(i, _)| i)
            .collect()
    };
    let traffic = TrafficSums::of(&input.snapshot, &input.rates);
    let facts = PortFacts {
        snapshot: &input.snapshot,
        index: &ports,
        names: registry,
    };
    let port_lines = port_lines(&facts, &visible_ports);
    let live_rows = rows.iter().filter(|r| matches!(r, RowRef::Live(_))).count();
    let listening_ports = ports.ports().iter().filter(|p| p.has_listener()).count();
    let unix = UnixView::compute(&input.snapshot, filter, unix_sort);
    ComputedView {
        unix: Arc::new(unix),
        input,
        live_rows,
        listening_ports,
        registry,
        rows: Arc::new(rows),
        ports: Arc::new(ports),
        traffic: Arc::new(traffic),
        port_lines: Arc::new(port_lines),
    }
}

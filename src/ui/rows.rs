//! Which sockets a table shows, in which order: filtering and sorting, cached per input.
//!
//! Pure data work over `Arc`s from the store, so it can run on the view worker thread for big tables and
//! inline for small ones, with the same result.

use std::cmp::Ordering;
use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::filter::Filter;
use crate::model::snapshot::Snapshot;
use crate::model::socket::{SocketEntry, SocketKey};
use crate::model::store::{ChangeMark, Store};
use crate::services::registry::Registry;

/// A sortable column of the sockets table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SortColumn {
    /// tcp / udp.
    Protocol,
    /// Local IP (then port).
    LocalAddress,
    /// Local port.
    LocalPort,
    /// Remote IP (then port).
    RemoteAddress,
    /// Remote port.
    RemotePort,
    /// TCP state.
    State,
    /// First owner PID.
    Pid,
    /// Owner process name.
    Process,
    /// User.
    User,
    /// Local port's service name.
    Service,
    /// Time since first seen.
    Age,
}

/// Column and direction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SortSpec {
    /// Column sorted by.
    pub column: SortColumn,
    /// Ascending when true.
    pub ascending: bool,
}

impl Default for SortSpec {
    fn default() -> Self {
        Self {
            column: SortColumn::LocalPort,
            ascending: true,
        }
    }
}

impl SortSpec {
    /// The spec after clicking `column`'s header: ascending first, then toggling.
    #[must_use]
    pub fn clicked(self, column: SortColumn) -> Self {
        if self.column == column {
            Self {
                column,
                ascending: !self.ascending,
            }
        } else {
            Self {
                column,
                ascending: true,
            }
        }
    }
}

/// Everything the tables draw from, shared by `Arc` with the view worker.
#[derive(Clone, Debug)]
pub struct ViewInput {
    /// The snapshot shown.
    pub snapshot: Arc<Snapshot>,
    /// Sockets closed at the last sample, still shown for one interval.
    pub closed: Arc<Vec<SocketEntry>>,
    /// Change marks of the last sample.
    pub marks: Arc<HashMap<SocketKey, ChangeMark>>,
    /// When each current socket was first seen.
    pub first_seen: Arc<HashMap<SocketKey, DateTime<Utc>>>,
    /// The store generation this was taken at.
    pub generation: u64,
}

impl ViewInput {
    /// What the store shows now, if it has a snapshot.
    #[must_use]
    pub fn from_store(store: &Store) -> Option<Self> {
        Some(Self {
            snapshot: Arc::clone(store.current()?),
            closed: Arc::clone(store.recently_closed()),
            marks: store.marks(),
            first_seen: store.first_seen_all(),
            generation: store.generation(),
        })
    }

    /// The socket a row points at.
    #[must_use]
    pub fn socket(&self, row: RowRef) -> Option<&SocketEntry> {
        match row {
            RowRef::Live(i) => self.snapshot.sockets.get(i as usize),
            RowRef::Closed(i) => self.closed.get(i as usize),
        }
    }

    /// The change mark of a row.
    #[must_use]
    pub fn mark(&self, row: RowRef) -> Option<ChangeMark> {
        match row {
            RowRef::Closed(_) => Some(ChangeMark::Closed),
            RowRef::Live(_) => self
                .socket(row)
                .and_then(|s| self.marks.get(&s.key()).copied()),
        }
    }

    /// Seconds since a live socket was first seen, as of the snapshot's time.
    #[must_use]
    pub fn age_secs(&self, socket: &SocketEntry) -> Option<i64> {
        let seen = self.first_seen.get(&socket.key())?;
        Some((self.snapshot.taken_at - *seen).num_seconds().max(0))
    }
}

/// A row of the sockets table: a socket of the current snapshot, or one that just closed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RowRef {
    /// Index into the snapshot's sockets.
    Live(u32),
    /// Index into the recently closed sockets.
    Closed(u32),
}

fn cmp_opt<T: Ord>(a: Option<T>, b: Option<T>) -> Ordering {
    // Missing values sort last in ascending order.
    match (a, b) {
        (Some(a), Some(b)) => a.cmp(&b),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => Ordering::Equal,
    }
}

/// Filters and sorts `input`'s sockets (recently closed ones included). Ties keep a stable, total order by
/// socket identity, so rows do not jump between samples.
#[must_use]
pub fn compute_rows(
    input: &ViewInput,
    filter: &Filter,
    sort: SortSpec,
    registry: &Registry,
) -> Vec<RowRef> {
    let snap = &*input.snapshot;
    let live = (0..snap.sockets.len()).map(|i| RowRef::Live(u32::try_from(i).unwrap_or(u32::MAX)));
    let closed =
        (0..input.closed.len()).map(|i| RowRef::Closed(u32::try_from(i).unwrap_or(u32::MAX)));
    let mut rows: Vec<(RowRef, &SocketEntry)> = live
        .chain(closed)
        .filter_map(|r| input.socket(r).map(|s| (r, s)))
        .filter(|(_, s)| filter.is_empty() || filter.matches(s, snap, registry))
        .collect();

    let tie = |a: &SocketEntry, b: &SocketEntry| a.key().cmp(&b.key());
    let dir = |o: Ordering| if sort.ascending { o } else { o.reverse() };
    match sort.column {
        SortColumn::Protocol => {
            rows.sort_by(|a, b| dir(a.1.protocol.cmp(&b.1.protocol)).then_with(|| tie(a.1, b.1)))
        }
        SortColumn::LocalAddress => rows
            .sort_by(|a, b| dir(a.1.local.ip().cmp(&b.1.local.ip())).then_with(|| tie(a.1, b.1))),
        SortColumn::LocalPort => rows.sort_by(|a, b| {
            dir(a.1.local.port().cmp(&b.1.local.port())).then_with(|| tie(a.1, b.1))
        }),
        SortColumn::RemoteAddress => rows.sort_by(|a, b| {
            dir(cmp_opt(
                a.1.remote.map(|r| r.ip()),
                b.1.remote.map(|r| r.ip()),
            ))
            .then_with(|| tie(a.1, b.1))
        }),
        SortColumn::RemotePort => rows.sort_by(|a, b| {
            dir(cmp_opt(
                a.1.peer().map(|r| r.port()),
                b.1.peer().map(|r| r.port()),
            ))
            .then_with(|| tie(a.1, b.1))
        }),
        SortColumn::State => {
            rows.sort_by(|a, b| dir(cmp_opt(a.1.state, b.1.state)).then_with(|| tie(a.1, b.1)))
        }
        SortColumn::Pid => rows.sort_by(|a, b| {
            dir(cmp_opt(a.1.pids.first(), b.1.pids.first())).then_with(|| tie(a.1, b.1))
        }),
        SortColumn::Age => {
            rows.sort_by(|a, b| {
                dir(cmp_opt(input.age_secs(a.1), input.age_secs(b.1))).then_with(|| tie(a.1, b.1))
            });
        }
        SortColumn::Process | SortColumn::User | SortColumn::Service => {
            // String keys are looked up once per row, not once per comparison.
            let text = |s: &SocketEntry| -> Option<String> {
                let t = match sort.column {
                    SortColumn::Process => snap.process_names(s),
                    SortColumn::User => snap.user_of(s).unwrap_or_default().to_owned(),
                    _ => registry.name(s.local.port(), s.protocol).to_owned(),
                };
                (!t.is_empty()).then(|| t.to_lowercase())
            };
            let mut keyed: Vec<(Option<String>, RowRef, &SocketEntry)> =
                rows.into_iter().map(|(r, s)| (text(s), r, s)).collect();
            keyed.sort_by(|a, b| {
                dir(cmp_opt(a.0.as_ref(), b.0.as_ref())).then_with(|| tie(a.2, b.2))
            });
            return keyed.into_iter().map(|(_, r, _)| r).collect();
        }
    }
    rows.into_iter().map(|(r, _)| r).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::socket::{Protocol, TcpState};

    fn sock(l: &str, r: &str, pid: u32) -> SocketEntry {
        SocketEntry {
            protocol: Protocol::Tcp,
            local: l.parse().unwrap(),
            remote: Some(r.parse().unwrap()),
            state: Some(TcpState::Established),
            inode: Some(pid),
            uid: None,
            pids: vec![pid],
            owner_note: None,
        }
    }

    fn input(sockets: Vec<SocketEntry>) -> ViewInput {
        let mut store = Store::default();
        store.ingest(
            Snapshot {
                sockets,
                ..Snapshot::empty("h", Utc::now())
            },
            None,
        );
        ViewInput::from_store(&store).unwrap()
    }

    fn order(input: &ViewInput, column: SortColumn, ascending: bool) -> Vec<String> {
        let r = Registry::default();
        compute_rows(
            input,
            &Filter::default(),
            SortSpec { column, ascending },
            &r,
        )
        .into_iter()
        .map(|row| input.socket(row).unwrap().local.to_string())
        .collect()
    }

    #[test]
    fn addresses_sort_as_addresses_ipv4_before_ipv6() {
        let i = input(vec![
            sock("[::1]:1", "[::1]:9", 1),
            sock("10.0.0.10:1", "1.1.1.1:9", 2),
            sock("10.0.0.2:1", "1.1.1.1:9", 3),
        ]);
        assert_eq!(
            order(&i, SortColumn::LocalAddress, true),
            ["10.0.0.2:1", "10.0.0.10:1", "[::1]:1"]
        );
        assert_eq!(
            order(&i, SortColumn::LocalAddress, false),
            ["[::1]:1", "10.0.0.10:1", "10.0.0.2:1"]
        );
    }

    #[test]
    fn ports_and_pids_sort_as_numbers_with_stable_ties() {
        let i = input(vec![
            sock("1.1.1.1:80", "2.2.2.2:9", 10),
            sock("1.1.1.1:8080", "2.2.2.2:9", 9),
            sock("1.1.1.2:80", "2.2.2.2:9", 100),
        ]);
        assert_eq!(
            order(&i, SortColumn::LocalPort, true),
            ["1.1.1.1:80", "1.1.1.2:80", "1.1.1.1:8080"]
        );
        assert_eq!(
            order(&i, SortColumn::LocalPort, false),
            ["1.1.1.1:8080", "1.1.1.1:80", "1.1.1.2:80"]
        );
        assert_eq!(
            order(&i, SortColumn::Pid, true),
            ["1.1.1.1:8080", "1.1.1.1:80", "1.1.1.2:80"]
        );
    }

    #[test]
    fn clicking_toggles_direction() {
        let s = SortSpec::default().clicked(SortColumn::Pid);
        assert_eq!(
            s,
            SortSpec {
                column: SortColumn::Pid,
                ascending: true
            }
        );
        assert!(!s.clicked(SortColumn::Pid).ascending);
    }
}

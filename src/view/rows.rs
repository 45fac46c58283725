//! Which sockets a table shows, in which order: filtering and sorting, cached per input.
//!
//! Pure data work over `Arc`s from the store, so it can run on the view worker thread for big tables and
//! inline for small ones, with the same result.

use crate::model::FastMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::filter::{Filter, RowFacts};
use crate::model::join::{Joined, OwnerFacts};
use crate::model::ports::PortsIndex;
use crate::model::snapshot::Snapshot;
use crate::model::socket::{SocketEntry, SocketKey};
use crate::model::store::{ChangeMark, Store};
use crate::model::traffic::Rate;
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
    /// The peer's host name (with Names on).
    RemoteHost,
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
    /// The network namespace's label (host, or a container).
    Namespace,
    /// Time since first seen.
    Age,
    /// Bytes per second received.
    RateIn,
    /// Bytes per second sent (acknowledged by the peer).
    RateOut,
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
    /// Owners and users of the shown and the closed sockets.
    pub joined: Arc<Joined>,
    /// Peers' host names known when the rows were computed (empty unless names are looked up).
    pub hosts: Arc<FastMap<std::net::IpAddr, String>>,
    /// Change marks of the last sample.
    pub marks: Arc<FastMap<SocketKey, ChangeMark>>,
    /// When each current socket was first seen.
    pub first_seen: Arc<Vec<DateTime<Utc>>>,
    /// Traffic per connection since the previous sample, by cookie (empty for files).
    pub rates: Arc<FastMap<u64, Rate>>,
    /// The store generation this was taken at.
    pub generation: u64,
    /// False for a snapshot opened from a file: nobody watched its sockets appear, so they have no age.
    pub ages_known: bool,
}

impl ViewInput {
    /// What the store shows now, if it has a snapshot.
    #[must_use]
    pub fn from_store(store: &Store) -> Option<Self> {
        Some(Self {
            snapshot: Arc::clone(store.current()?),
            closed: Arc::clone(store.recently_closed()),
            joined: store.joined(),
            hosts: Arc::default(),
            marks: store.marks(),
            first_seen: store.first_seen_all(),
            rates: store.rates(),
            generation: store.generation(),
            ages_known: true,
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

    /// The owners and user of a row's socket (a closed one's as they were when it was last seen).
    #[must_use]
    pub fn owners(&self, row: RowRef) -> &OwnerFacts {
        static NONE: OwnerFacts = OwnerFacts {
            process: String::new(),
            names_lower: Vec::new(),
            user: None,
        };
        match row {
            RowRef::Live(i) => self.joined.live(i as usize),
            RowRef::Closed(i) => self.joined.closed(i as usize),
        }
        .unwrap_or(&NONE)
    }

    /// The peer's host name of `socket`, when names are looked up and it has one.
    #[must_use]
    pub fn host(&self, socket: &SocketEntry) -> Option<&str> {
        self.hosts.get(&socket.peer_ip()?).map(String::as_str)
    }

    /// What the filter reads about `row` (the socket `socket`).
    #[must_use]
    pub fn facts(&self, row: RowRef, socket: &SocketEntry) -> RowFacts<'_> {
        RowFacts {
            owners: self.owners(row),
            host: self.host(socket),
            namespace: self.snapshot.namespace(socket.netns),
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

    /// The traffic of a socket since the previous sample, when it is a TCP connection seen twice.
    #[must_use]
    pub fn rate(&self, socket: &SocketEntry) -> Option<Rate> {
        self.rates.get(&socket.details.cookie?).copied()
    }

    /// When the live socket of `row` was first seen; `None` for a closed row or a file.
    #[must_use]
    pub fn first_seen(&self, row: RowRef) -> Option<DateTime<Utc>> {
        match row {
            RowRef::Live(i) if self.ages_known => self.first_seen.get(i as usize).copied(),
            RowRef::Live(_) | RowRef::Closed(_) => None,
        }
    }

    /// Seconds since the live socket of `row` was first seen, as of the snapshot's time.
    #[must_use]
    pub fn age_secs(&self, row: RowRef) -> Option<i64> {
        let seen = self.first_seen(row)?;
        Some((self.snapshot.taken_at - seen).num_seconds().max(0))
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

/// Filters and sorts `input`'s sockets (recently closed ones included). Ties keep a stable, total order by
/// socket identity, so rows do not jump between samples.
#[must_use]
pub fn compute_rows(
    input: &ViewInput,
    filter: &Filter,
    sort: SortSpec,
    ports: &PortsIndex,
    registry: &Registry,
) -> Vec<RowRef> {
    let snap = &*input.snapshot;
    let live = (0..snap.sockets.len()).map(|i| RowRef::Live(u32::try_from(i).unwrap_or(u32::MAX)));
    let closed =
        (0..input.closed.len()).map(|i| RowRef::Closed(u32::try_from(i).unwrap_or(u32::MAX)));
    let rows: Vec<(RowRef, &SocketEntry)> = live
        .chain(closed)
        .filter_map(|r| input.socket(r).map(|s| (r, s)))
        .filter(|(r, s)| filter.is_empty() || filter.matches(s, input.facts(*r, s), registry))
        .collect();

    // Each row's sort key (column value, then identity) is computed once into contiguous integers: the sort
    // then never touches the sockets, and most comparisons on a column with few distinct values (ports,
    // states, names) are ties decided by the packed identity.
    let ranks = matches!(
        sort.column,
        SortColumn::Process
            | SortColumn::User
            | SortColumn::Service
            | SortColumn::RemoteHost
            | SortColumn::Namespace
    )
    .then(|| text_ranks(&rows, sort.column, input, ports, registry));
    let mut keyed: Vec<((u8, u128), TieKey, RowRef)> = rows
        .iter()
        .enumerate()
        .map(|(i, (r, s))| {
            let rank = ranks.as_ref().and_then(|r| r.get(i).copied().flatten());
            (
                primary_key(sort.column, *r, s, rank, input),
                TieKey::of(s),
                *r,
            )
        })
        .collect();
    // Missing values sort last in either direction.
    keyed.sort_unstable_by(|a, b| {
        let primary = match (a.0.0 == u8::MAX, b.0.0 == u8::MAX) {
            (false, false) if sort.ascending => a.0.cmp(&b.0),
            (false, false) => b.0.cmp(&a.0),
            (x, y) => x.cmp(&y),
        };
        primary.then_with(|| a.1.cmp(&b.1))
    });
    keyed.into_iter().map(|(_, _, r)| r).collect()
}

/// A row's value in the sorted `column`, packed as (0, value), or `(u8::MAX, 0)` when it has none. Text
/// columns take the row's precomputed `rank`.
fn primary_key(
    column: SortColumn,
    r: RowRef,
    s: &SocketEntry,
    rank: Option<u32>,
    input: &ViewInput,
) -> (u8, u128) {
    let missing = (u8::MAX, 0u128);
    let ip_key = |ip: std::net::IpAddr| match ip {
        std::net::IpAddr::V4(v4) => (0u8, u128::from(v4.to_bits())),
        std::net::IpAddr::V6(v6) => (1u8, v6.to_bits()),
    };
    let present = |v: u128| (0u8, v);
    match column {
        SortColumn::Protocol => present(u128::from(
            s.protocol == crate::model::socket::Protocol::Udp,
        )),
        SortColumn::LocalAddress => ip_key(s.local.ip()),
        SortColumn::LocalPort => present(u128::from(s.local.port())),
        SortColumn::RemoteAddress => s.remote.map_or(missing, |r| ip_key(r.ip())),
        SortColumn::RemotePort => s.peer().map_or(missing, |r| present(u128::from(r.port()))),
        SortColumn::State => state_rank(s.state).map_or(missing, present),
        SortColumn::Pid => s.pids.first().map_or(missing, |p| present(u128::from(*p))),
        SortColumn::Age => input
            .age_secs(r)
            .map_or(missing, |a| present(u128::try_from(a).unwrap_or(0))),
        SortColumn::RateIn => input
            .rate(s)
            .map_or(missing, |r| present(rate_key(r.in_bps))),
        SortColumn::RateOut => input
            .rate(s)
            .map_or(missing, |r| present(rate_key(r.out_bps))),
        SortColumn::Process
        | SortColumn::User
        | SortColumn::Service
        | SortColumn::RemoteHost
        | SortColumn::Namespace => rank.map_or(missing, |rank| present(u128::from(rank))),
    }
}

/// A socket's identity packed into integers: the tie-break of every sort, compared millions of times.
/// Same information as [`SocketKey`], much cheaper to compare.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct TieKey(u128, u128, u128);

impl TieKey {
    fn of(s: &SocketEntry) -> Self {
        let ip = |ip: std::net::IpAddr| match ip {
            std::net::IpAddr::V4(v4) => u128::from(v4.to_bits()),
            std::net::IpAddr::V6(v6) => v6.to_bits(),
        };
        let k = s.key();
        let remote = k.remote.map_or(0, |r| ip(r.ip()));
        let ports = u128::from(k.local.port()) << 48
            | u128::from(k.remote.map_or(0, |r| r.port())) << 32
            | u128::from(k.inode);
        // nsfs inode numbers fit 32 bits; the mask keeps the shift inside the key.
        let v6_bits = u128::from(k.netns.unwrap_or(0) & 0xffff_ffff) << 80
            | u128::from(k.local.is_ipv6()) << 66
            | u128::from(k.remote.is_some_and(|r| r.is_ipv6())) << 65;
        Self(
            ip(k.local.ip()),
            remote,
            u128::from(k.protocol == crate::model::socket::Protocol::Udp) << 64 | v6_bits | ports,
        )
    }
}

/// The text of a string column per row, as its rank among the distinct texts (case-insensitive), so the
/// sort compares integers. Texts are built and ranked once per distinct owner, user or port, not per row.
fn text_ranks(
    rows: &[(RowRef, &SocketEntry)],
    column: SortColumn,
    input: &ViewInput,
    ports: &PortsIndex,
    registry: &Registry,
) -> Vec<Option<u32>> {
    let picked = |s: &SocketEntry| ports.kernel_picked(&input.snapshot, s);
    let text_of = |row: RowRef, s: &SocketEntry| -> Option<String> {
        let owners = input.owners(row);
        let t = match column {
            SortColumn::Process => owners.process.clone(),
            SortColumn::User => owners.user.clone().unwrap_or_default(),
            SortColumn::RemoteHost => input.host(s).unwrap_or_default().to_owned(),
            SortColumn::Namespace => input.snapshot.namespace_label(s.netns),
            _ => registry.local_service(s, picked(s)).to_owned(),
        };
        (!t.is_empty()).then(|| t.to_lowercase())
    };
    // What the text depends on: the owning PID (process), uid and PID (user), or port and protocol
    // (service); a closed socket's owners come from an earlier sample, so it is ranked on its own.
    let source_of = |row: RowRef, s: &SocketEntry| match column {
        _ if matches!(row, RowRef::Closed(_)) && column != SortColumn::Service => None,
        SortColumn::RemoteHost | SortColumn::Namespace => None,
        SortColumn::Process if s.pids.len() > 1 => None,
        SortColumn::Process => Some((s.pids.first().copied(), None, 0, (false, false))),
        SortColumn::User => Some((s.pids.first().copied(), s.uid, 0, (false, false))),
        _ => Some((
            None,
            None,
            s.local.port(),
            (s.protocol == crate::model::socket::Protocol::Tcp, picked(s)),
        )),
    };
    let mut entries: Vec<Option<String>> = Vec::new();
    let mut entry_of_source = FastMap::default();
    let row_entries: Vec<usize> = rows
        .iter()
        .map(|(row, s)| {
            let mut new_entry = || {
                entries.push(text_of(*row, s));
                entries.len() - 1
            };
            match source_of(*row, s) {
                Some(source) => *entry_of_source.entry(source).or_insert_with(new_entry),
                // Several owners: rare, computed per row.
                None => new_entry(),
            }
        })
        .collect();
    let mut order: Vec<usize> = (0..entries.len())
        .filter(|i| entries[*i].is_some())
        .collect();
    order.sort_unstable_by(|a, b| entries[*a].cmp(&entries[*b]));
    let mut entry_rank: Vec<Option<u32>> = vec![None; entries.len()];
    let mut rank = 0u32;
    for (n, i) in order.iter().enumerate() {
        if n > 0 && entries[order[n - 1]] != entries[*i] {
            rank += 1;
        }
        entry_rank[*i] = Some(rank);
    }
    row_entries.into_iter().map(|e| entry_rank[e]).collect()
}

/// A rate as a sort key: whole bytes per second (sub-byte precision is noise). Rates are non-negative
/// and far below u128's range; a NaN or negative rate (never produced) sorts as 0.
#[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)] // saturating, see above
fn rate_key(bps: f64) -> u128 {
    bps.max(0.0).round() as u128
}

/// Sort rank of a state: TCP states in RFC order, then UDP connected, unconnected; `None` when not
/// recorded (sorted last).
fn state_rank(state: crate::model::socket::SocketState) -> Option<u128> {
    use crate::model::socket::{SocketState, UdpState};
    match state {
        SocketState::Tcp(t) => Some(t.index() as u128),
        SocketState::Udp(UdpState::Connected) => Some(100),
        SocketState::Udp(UdpState::Unconnected) => Some(101),
        SocketState::Udp(UdpState::NotRecorded) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::socket::{Protocol, SocketState, TcpState, UdpState};

    fn sock(l: &str, r: &str, pid: u32) -> SocketEntry {
        SocketEntry::tcp(
            l.parse().unwrap(),
            r.parse().unwrap(),
            TcpState::Established,
        )
        .with_inode(pid)
        .with_pids(vec![pid])
    }

    fn input(sockets: Vec<SocketEntry>) -> ViewInput {
        let mut store = Store::new(
            crate::model::history::History::DEFAULT_CAPACITY,
            Registry::global(),
        );
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
            &PortsIndex::build(&input.snapshot),
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
    fn missing_values_sort_last_both_ways() {
        let mut udp = sock("1.1.1.1:53", "0.0.0.0:0", 5);
        udp.protocol = Protocol::Udp;
        udp.remote = None;
        // A UDP socket from a version-1 file: neither its peer nor its state was recorded.
        udp.state = SocketState::Udp(UdpState::NotRecorded);
        let i = input(vec![
            udp,
            sock("1.1.1.1:80", "9.9.9.9:1", 6),
            sock("1.1.1.1:81", "8.8.8.8:1", 7),
        ]);
        assert_eq!(
            order(&i, SortColumn::RemoteAddress, true),
            ["1.1.1.1:81", "1.1.1.1:80", "1.1.1.1:53"]
        );
        assert_eq!(
            order(&i, SortColumn::RemoteAddress, false),
            ["1.1.1.1:80", "1.1.1.1:81", "1.1.1.1:53"]
        );
        assert_eq!(
            order(&i, SortColumn::State, false)
                .last()
                .map(String::as_str),
            Some("1.1.1.1:53")
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

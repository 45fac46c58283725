//! Early warnings: running out of ephemeral ports, and CLOSE_WAIT sockets piling up in a process.
//!
//! For TCP the kernel needs a distinct local port for every connection to the same (remote address,
//! remote port) from the same local address, chosen from its ephemeral range minus the reserved ports:
//! 28 232 ports by default on Linux. A client opening short connections to one server burns through them
//! (TIME_WAIT included, where `tcp_tw_reuse` does not allow reuse), then `connect()` fails with
//! EADDRNOTAVAIL. For UDP a port picked automatically must be free on the local address whatever the
//! destination, and running out fails with EAGAIN. The budget shows how close the busiest group is.

use crate::model::FastMap;
use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::Arc;

use chrono::Duration;

use super::history::History;
use super::netns::Place;
use super::snapshot::{Known, MachineFacts, PortRange, Snapshot, process_label};
use super::socket::Protocol;

/// Sockets using ephemeral local ports that compete for the same ports: TCP connections of one (local
/// IP, remote IP, remote port), or UDP sockets of one local IP.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BudgetGroup {
    /// The network namespace whose ports they are (`None` where not recorded).
    pub netns: Option<u64>,
    /// Number space.
    pub protocol: Protocol,
    /// Local address.
    pub local: IpAddr,
    /// Remote address and port, for TCP; `None` for UDP, whose ports compete whatever the destination.
    pub destination: Option<(IpAddr, u16)>,
    /// Sockets in the group whose local port lies in the ephemeral range.
    pub used: u32,
}

/// What competes for the same ephemeral ports: the namespace (each has its own ports), protocol, local
/// address, and the destination for TCP.
type GroupKey = (Option<u64>, Protocol, IpAddr, Option<(IpAddr, u16)>);

/// How many ports of `range` the namespace's `ip_local_reserved_ports` takes out (0 when not recorded).
fn reserved_in(range: PortRange, machine: &MachineFacts) -> u32 {
    let Some(reserved) = &machine.reserved_ports else {
        return 0;
    };
    // Overlapping reserved ranges are merged first so no port is counted twice.
    let mut clipped: Vec<(u16, u16)> = reserved
        .iter()
        .filter_map(|r| {
            let (low, high) = (r.low.max(range.low), r.high.min(range.high));
            (low <= high).then_some((low, high))
        })
        .collect();
    clipped.sort_unstable();
    let mut count = 0u32;
    let mut covered_to: Option<u16> = None;
    for (low, high) in clipped {
        let start = covered_to.map_or(low, |c| low.max(c.saturating_add(1)));
        if start <= high && covered_to.is_none_or(|c| c < high) {
            count += u32::from(high - start) + 1;
        }
        covered_to = Some(covered_to.map_or(high, |c| c.max(high)));
    }
    count
}

/// One namespace's ephemeral range, the ports of it the kernel may pick, and its `tcp_tw_reuse`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Pool {
    range: PortRange,
    available: u32,
    tw_reuse: Known<u8>,
}

impl Pool {
    fn of(snapshot: &Snapshot, netns: Option<u64>) -> Self {
        let facts = snapshot.facts_in(netns);
        let range = facts.ephemeral_range_or_default();
        Self {
            range,
            available: range
                .len()
                .saturating_sub(reserved_in(range, facts.machine)),
            tw_reuse: facts.machine.tcp_tw_reuse(),
        }
    }

    /// True when `used` ports are at least half of the pool.
    fn at_warning(self, used: u32) -> bool {
        u64::from(used) * 2 >= u64::from(self.available)
    }
}

/// How close a budget is to exhaustion.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum BudgetLevel {
    /// Under half used.
    Ok,
    /// At least half used.
    Warning,
    /// At least 80 % used.
    Critical,
}

/// The ephemeral port budget of one snapshot: its busiest group against the range size.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EphemeralBudget {
    /// The range the kernel picks from, in the worst group's namespace.
    pub range: PortRange,
    /// Ports of the range the kernel may pick: its size minus the reserved ports in it.
    pub available: u32,
    /// `net.ipv4.tcp_tw_reuse` of that namespace, which decides whether TIME_WAIT tuples block.
    pub tw_reuse: Known<u8>,
    /// That namespace, as sentences name it: this host, or a container's namespace.
    pub place: Place,
    /// The group using the most ephemeral ports, if any socket uses one.
    pub worst: Option<BudgetGroup>,
    /// How many groups have reached the warning level.
    pub groups_warning: usize,
}

impl Default for EphemeralBudget {
    fn default() -> Self {
        Self {
            range: PortRange::LINUX_DEFAULT,
            available: PortRange::LINUX_DEFAULT.len(),
            tw_reuse: MachineFacts::default().tcp_tw_reuse(),
            place: Place::default(),
            worst: None,
            groups_warning: 0,
        }
    }
}

impl EphemeralBudget {
    /// What happens when the busiest group is full, for a tooltip.
    #[must_use]
    pub fn consequence(&self) -> &'static str {
        match self.worst.map(|g| g.protocol) {
            Some(Protocol::Udp) => {
                "At 100 % connect() or sendto() on an unbound UDP socket from that address fails (EAGAIN)."
            }
            _ => "At 100 % connect() to that destination fails (EADDRNOTAVAIL).",
        }
    }

    /// Counts, for each group of connected sockets, those on an ephemeral local port (TIME_WAIT
    /// included), each against its own namespace's range; the worst is the group that used the largest
    /// share of its namespace's ports.
    #[must_use]
    pub fn of(snapshot: &Snapshot) -> Self {
        let sampler = snapshot.sampler_netns();
        let mut pools: BTreeMap<Option<u64>, Pool> = BTreeMap::new();
        let mut groups: FastMap<GroupKey, u32> = FastMap::default();
        for s in &snapshot.sockets {
            let netns = s.netns;
            let pool = *pools
                .entry(netns)
                .or_insert_with(|| Pool::of(snapshot, netns));
            if !pool.range.contains(s.local.port()) {
                continue;
            }
            let destination = match s.protocol {
                Protocol::Tcp => match s.peer() {
                    Some(peer) => Some((peer.ip(), peer.port())),
                    None => continue,
                },
                Protocol::Udp => None,
            };
            *groups
                .entry((netns, s.protocol, s.local.ip(), destination))
                .or_default() += 1;
        }
        let pool_of = |netns: Option<u64>| {
            pools
                .get(&netns)
                .copied()
                .unwrap_or_else(|| Pool::of(snapshot, netns))
        };
        let groups_warning = groups
            .iter()
            .filter(|((netns, ..), n)| pool_of(*netns).at_warning(**n))
            .count();
        let share =
            |netns: Option<u64>, n: u32| f64::from(n) / f64::from(pool_of(netns).available.max(1));
        let worst = groups
            .into_iter()
            .max_by(|(a, na), (b, nb)| {
                share(a.0, *na)
                    .total_cmp(&share(b.0, *nb))
                    .then(na.cmp(nb))
                    .then(b.cmp(a))
            })
            .map(
                |((netns, protocol, local, destination), used)| BudgetGroup {
                    netns,
                    protocol,
                    local,
                    destination,
                    used,
                },
            );
        let pool = pool_of(worst.map_or(sampler, |g| g.netns));
        Self {
            range: pool.range,
            available: pool.available,
            tw_reuse: pool.tw_reuse,
            place: snapshot.place(worst.and_then(|g| g.netns)),
            worst,
            groups_warning,
        }
    }

    /// Share of the range used by the worst group, 0.0 to 1.0 (above 1 only if the range changed).
    #[must_use]
    pub fn ratio(&self) -> f64 {
        self.worst.map_or(0.0, |g| {
            f64::from(g.used) / f64::from(self.available.max(1))
        })
    }

    /// Warning level at 50 % and 80 %.
    #[must_use]
    pub fn level(&self) -> BudgetLevel {
        let r = self.ratio();
        if r >= 0.8 {
            BudgetLevel::Critical
        } else if r >= 0.5 {
            BudgetLevel::Warning
        } else {
            BudgetLevel::Ok
        }
    }

    /// One line for a gauge or badge: `20000 / 28232 ephemeral ports (71 %) 10.0.0.2 → 10.0.0.10:443/tcp`.
    #[must_use]
    pub fn summary(&self) -> String {
        match self.worst {
            None => format!(
                "0 / {} ephemeral ports in use by any one group",
                self.available
            ),
            Some(g) => {
                let whom = match g.destination {
                    Some((remote, port)) => format!("{} → {remote}:{port}/{}", g.local, g.protocol),
                    None => format!("{} (any destination)/{}", g.local, g.protocol),
                };
                format!(
                    "{} / {} ephemeral ports ({:.0} %) {whom}{}",
                    g.used,
                    self.available,
                    self.ratio() * 100.0,
                    self.place.tag()
                )
            }
        }
    }
}

/// A process whose CLOSE_WAIT sockets kept growing over the watch window.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CloseWaitAlert {
    /// Process id.
    pub pid: u32,
    /// Process name; `None` when unknown.
    pub name: Option<Arc<str>>,
    /// CLOSE_WAIT sockets at the start of the window.
    pub from: u32,
    /// CLOSE_WAIT sockets now.
    pub to: u32,
    /// Length of the window in minutes.
    pub minutes: i64,
}

impl CloseWaitAlert {
    /// The process as every list names it (`name[pid]`, `?[pid]` when unknown).
    #[must_use]
    pub fn label(&self) -> String {
        process_label(self.name.as_deref(), self.pid)
    }

    /// A sentence for the status bar.
    #[must_use]
    pub fn sentence(&self) -> String {
        format!(
            "{}: CLOSE_WAIT grew from {} to {} in {} min — it is not closing connections its peers closed",
            self.label(),
            self.from,
            self.to,
            self.minutes
        )
    }
}

/// How long CLOSE_WAIT must keep growing before it is reported.
pub const CLOSE_WAIT_WINDOW_MINUTES: i64 = 3;
/// How much it must grow over the window.
pub const CLOSE_WAIT_MIN_GROWTH: u32 = 5;

/// Processes whose CLOSE_WAIT count never fell and grew by at least [`CLOSE_WAIT_MIN_GROWTH`] over the last
/// [`CLOSE_WAIT_WINDOW_MINUTES`] minutes of history.
#[must_use]
pub fn close_wait_alerts(history: &History) -> Vec<CloseWaitAlert> {
    let Some(latest) = history.latest() else {
        return Vec::new();
    };
    let window = Duration::minutes(CLOSE_WAIT_WINDOW_MINUTES);
    let since = latest.taken_at - window;
    let samples: Vec<_> = history
        .iter()
        .rev()
        .take_while(|s| s.taken_at >= since)
        .collect();
    let Some(oldest) = samples.last() else {
        return Vec::new();
    };
    // Only judge once the history covers (almost) the whole window.
    if latest.taken_at - oldest.taken_at < window - Duration::seconds(15) {
        return Vec::new();
    }
    latest
        .close_wait_processes
        .iter()
        .filter_map(|p| {
            let count_at = |s: &&crate::model::history::SampleStats| {
                s.close_wait_processes
                    .iter()
                    .find(|q| q.pid == p.pid)
                    .map_or(0, |q| q.close_wait)
            };
            // samples are newest first: a growing series is non-increasing in this order.
            let series: Vec<u32> = samples.iter().map(count_at).collect();
            let grows = series.windows(2).all(|w| w[0] >= w[1]);
            let from = series.last().copied().unwrap_or(0);
            (grows && p.close_wait >= from + CLOSE_WAIT_MIN_GROWTH).then(|| CloseWaitAlert {
                pid: p.pid,
                name: p.name.clone(),
                from,
                to: p.close_wait,
                minutes: (latest.taken_at - oldest.taken_at).num_minutes().max(1),
            })
        })
        .collect()
}

#[cfg(test)]
mod reserved_tests {
    use super::*;
    use chrono::Utc;

    #[test]
    fn reserved_ports_inside_the_range_shrink_the_budget_once_each() {
        let mut s = Snapshot::empty("h", Utc::now());
        s.ephemeral_range = Some(PortRange {
            low: 40000,
            high: 40009,
        });
        let r = |low, high| PortRange { low, high };
        s.machine.reserved_ports = Some(vec![
            r(39990, 40001),
            r(40001, 40002),
            r(40008, 40100),
            r(5, 6),
        ]);
        assert_eq!(EphemeralBudget::of(&s).available, 10 - 3 - 2);
        s.machine.reserved_ports = None;
        assert_eq!(EphemeralBudget::of(&s).available, 10);
    }

    #[test]
    fn each_namespace_spends_its_own_ports() {
        use crate::model::netns::{NamespaceFacts, NetNamespace};
        use crate::model::socket::{SocketEntry, TcpState};
        let (host, docker) = (1u64, 2u64);
        let mut s = Snapshot::empty("h", Utc::now());
        s.ephemeral_range = Some(PortRange {
            low: 40000,
            high: 40009,
        });
        let mut sampler = NetNamespace::listed(host, true, None);
        sampler.sampler = true;
        let mut container = NetNamespace::listed(docker, false, Some("docker 3f2a1b9c8d7e"));
        container.facts = Some(NamespaceFacts {
            ephemeral_range: Some(PortRange {
                low: 40000,
                high: 40003,
            }),
            ..NamespaceFacts::default()
        });
        s.namespaces = [(host, sampler), (docker, container)].into();
        for netns in [host, docker] {
            for port in 40000..40003 {
                s.sockets.push(
                    SocketEntry::tcp(
                        format!("127.0.0.1:{port}").parse().unwrap(),
                        "127.0.0.1:5432".parse().unwrap(),
                        TcpState::Established,
                    )
                    .with_netns(netns),
                );
            }
        }
        let b = EphemeralBudget::of(&s);
        let worst = b.worst.unwrap();
        assert_eq!(
            (worst.netns, worst.used, b.available),
            (Some(docker), 3, 4),
            "the same tuples in two namespaces are two groups, each against its own range"
        );
        assert_eq!(b.groups_warning, 1, "3 of the host's 10 is under half");
        assert!(
            b.summary()
                .ends_with("127.0.0.1 → 127.0.0.1:5432/tcp in docker 3f2a1b9c8d7e"),
            "{}",
            b.summary()
        );
    }
}

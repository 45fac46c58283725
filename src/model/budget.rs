//! Early warnings: running out of ephemeral ports, and CLOSE_WAIT sockets piling up in a process.
//!
//! For TCP the kernel needs a distinct local port for every connection to the same (remote address,
//! remote port) from the same local address, chosen from its ephemeral range minus the reserved ports:
//! 28 232 ports by default on Linux. A client opening short connections to one server burns through them
//! (TIME_WAIT included, where `tcp_tw_reuse` does not allow reuse), then `connect()` fails with
//! EADDRNOTAVAIL. For UDP a port picked automatically must be free on the local address whatever the
//! destination, and running out fails with EAGAIN. The budget shows how close the busiest group is.

use crate::model::FastMap;
use std::net::IpAddr;
use std::sync::Arc;

use chrono::Duration;

use super::history::History;
use super::snapshot::{Known, MachineFacts, PortRange, Snapshot, process_label};
use super::socket::Protocol;

/// Sockets using ephemeral local ports that compete for the same ports: TCP connections of one (local
/// IP, remote IP, remote port), or UDP sockets of one local IP.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BudgetGroup {
    /// Number space.
    pub protocol: Protocol,
    /// Local address.
    pub local: IpAddr,
    /// Remote address and port, for TCP; `None` for UDP, whose ports compete whatever the destination.
    pub destination: Option<(IpAddr, u16)>,
    /// Sockets in the group whose local port lies in the ephemeral range.
    pub used: u32,
}

/// What competes for the same ephemeral ports: protocol, local address, and the destination for TCP.
type GroupKey = (Protocol, IpAddr, Option<(IpAddr, u16)>);

/// How many ports of `range` the snapshot's `ip_local_reserved_ports` takes out (0 when not recorded).
fn reserved_in(range: PortRange, snapshot: &Snapshot) -> u32 {
    let Some(reserved) = &snapshot.machine.reserved_ports else {
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
    /// The range the kernel picks from.
    pub range: PortRange,
    /// Ports of the range the kernel may pick: its size minus the reserved ports in it.
    pub available: u32,
    /// `net.ipv4.tcp_tw_reuse` of the sampled machine, which decides whether TIME_WAIT tuples block.
    pub tw_reuse: Known<u8>,
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

    /// Counts, for each group of connected sockets, those on an ephemeral local port (TIME_WAIT included).
    #[must_use]
    pub fn of(snapshot: &Snapshot) -> Self {
        let range = snapshot.ephemeral_range_or_default();
        let mut groups: FastMap<GroupKey, u32> = FastMap::default();
        for s in &snapshot.sockets {
            if !range.contains(s.local.port()) {
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
                .entry((s.protocol, s.local.ip(), destination))
                .or_default() += 1;
        }
        let size = range.len().saturating_sub(reserved_in(range, snapshot));
        let groups_warning = groups
            .values()
            .filter(|n| u64::from(**n) * 2 >= u64::from(size))
            .count();
        let worst = groups
            .into_iter()
            .max_by_key(|((p, l, d), n)| (*n, std::cmp::Reverse((*p, *l, *d))))
            .map(|((protocol, local, destination), used)| BudgetGroup {
                protocol,
                local,
                destination,
                used,
            });
        Self {
            range,
            available: size,
            tw_reuse: snapshot.machine.tcp_tw_reuse(),
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
                    "{} / {} ephemeral ports ({:.0} %) {whom}",
                    g.used,
                    self.available,
                    self.ratio() * 100.0
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
}

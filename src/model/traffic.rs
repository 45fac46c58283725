//! Per-connection traffic: bytes per second in and out, from the change of TCP's own counters between
//! two samples.
//!
//! The kernel counts bytes for the connection's whole life (`tcpi_bytes_received`, `tcpi_bytes_acked`);
//! a rate needs two readings of the same connection. Connections are matched by socket cookie, which the
//! kernel never reuses while the host runs, so a new connection on a reused 4-tuple never inherits an
//! old one's counters. UDP has no such counters, so UDP sockets get no rate.

use crate::model::FastMap;

use chrono::{DateTime, Utc};

use super::ports::PortKey;
use super::snapshot::Snapshot;
use super::socket::SocketEntry;

/// Traffic of one connection between two samples.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Rate {
    /// Bytes received in order per second (`tcpi_bytes_received`).
    pub in_bps: f64,
    /// Bytes the peer acknowledged per second (`tcpi_bytes_acked`): data delivered, without
    /// retransmissions.
    pub out_bps: f64,
}

impl Rate {
    /// In and out together.
    #[must_use]
    pub fn total(self) -> f64 {
        self.in_bps + self.out_bps
    }
}

impl std::ops::AddAssign for Rate {
    fn add_assign(&mut self, other: Self) {
        self.in_bps += other.in_bps;
        self.out_bps += other.out_bps;
    }
}

/// The byte counters of a connection, when the kernel reported them. A listener's counters exist but
/// stay zero: it carries no data, so it gets no rate.
fn counters(s: &SocketEntry) -> Option<(u64, (u64, u64))> {
    s.peer()?;
    let info = s.details.tcp_info.as_ref()?;
    Some((s.details.cookie?, (info.bytes_received?, info.bytes_acked?)))
}

/// Remembers the previous sample's counters and turns each new sample into rates. The map of counters
/// persists and is updated in place: one lookup per connection per sample.
#[derive(Debug, Default)]
pub struct TrafficMeter {
    /// Counters by cookie, with the step that last saw them.
    previous: FastMap<u64, ((u64, u64), u64)>,
    previous_at: Option<DateTime<Utc>>,
    step: u64,
}

impl TrafficMeter {
    /// Rates by cookie for every connection seen in both this and the previous sample. The first
    /// sample, and a sample not later than the previous one, give no rates.
    pub fn update(&mut self, snapshot: &Snapshot) -> FastMap<u64, Rate> {
        self.step += 1;
        let step = self.step;
        let elapsed = self
            .previous_at
            .map(|at| (snapshot.taken_at - at).as_seconds_f64())
            .filter(|secs| *secs > 0.0);
        let mut rates = FastMap::default();
        for (cookie, (rx, tx)) in snapshot.sockets.iter().filter_map(counters) {
            let slot = self.previous.entry(cookie).or_insert(((rx, tx), 0));
            let ((prx, ptx), seen) = *slot;
            if let (Some(secs), true) = (elapsed, seen + 1 == step) {
                // Counters only grow; a smaller reading is another connection's.
                if let (Some(drx), Some(dtx)) = (rx.checked_sub(prx), tx.checked_sub(ptx)) {
                    rates.insert(
                        cookie,
                        Rate {
                            in_bps: drx as f64 / secs,
                            out_bps: dtx as f64 / secs,
                        },
                    );
                }
            }
            *slot = ((rx, tx), step);
        }
        self.previous.retain(|_, (_, seen)| *seen == step);
        self.previous_at = Some(snapshot.taken_at);
        rates
    }
}

/// Traffic summed where people look for it: per local port, per process, and the busiest connections.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TrafficSums {
    /// Per local port (of its namespace): the sum over its connections.
    pub by_port: FastMap<PortKey, Rate>,
    /// Per owning process, busiest first (a socket shared by several processes counts for each).
    pub by_process: Vec<(u32, Rate)>,
    /// The busiest connections (index into the snapshot's sockets), busiest first, at most
    /// [`BUSIEST`]; connections that moved no bytes are left out.
    pub busiest: Vec<(usize, Rate)>,
}

/// How many connections [`TrafficSums::busiest`] keeps.
pub const BUSIEST: usize = 10;

impl TrafficSums {
    /// Sums `rates` (by cookie) over `snapshot`'s sockets.
    #[must_use]
    pub fn of(snapshot: &Snapshot, rates: &FastMap<u64, Rate>) -> Self {
        let mut sums = Self::default();
        if rates.is_empty() {
            return sums;
        }
        let mut by_process: FastMap<u32, Rate> = FastMap::default();
        for (i, s) in snapshot.sockets.iter().enumerate() {
            let Some(rate) = s.details.cookie.and_then(|c| rates.get(&c)).copied() else {
                continue;
            };
            *sums.by_port.entry(PortKey::of(s)).or_default() += rate;
            for pid in &s.pids {
                *by_process.entry(*pid).or_default() += rate;
            }
            if rate.total() > 0.0 {
                sums.busiest.push((i, rate));
            }
        }
        let busiest_first = |a: &Rate, b: &Rate| b.total().total_cmp(&a.total());
        sums.busiest
            .sort_by(|a, b| busiest_first(&a.1, &b.1).then(a.0.cmp(&b.0)));
        sums.busiest.truncate(BUSIEST);
        sums.by_process = by_process.into_iter().collect();
        sums.by_process
            .sort_by(|a, b| busiest_first(&a.1, &b.1).then(a.0.cmp(&b.0)));
        sums
    }
}

/// Formats bytes per second for a table cell: `0 B/s`, `980 B/s`, `12.3 KB/s`, `4.0 MB/s` (decimal
/// units, as network tools count).
#[must_use]
pub fn format_rate(bps: f64) -> String {
    const UNITS: [&str; 4] = ["KB/s", "MB/s", "GB/s", "TB/s"];
    if bps < 1000.0 {
        return format!("{bps:.0} B/s");
    }
    let mut value = bps / 1000.0;
    let mut unit = UNITS[0];
    for next in &UNITS[1..] {
        if value < 1000.0 {
            break;
        }
        value /= 1000.0;
        unit = next;
    }
    format!("{value:.1} {unit}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::kernel::TcpInfo;
    use crate::model::socket::{Protocol, TcpState};
    use chrono::TimeZone;

    fn conn(cookie: u64, rx: u64, tx: u64) -> SocketEntry {
        let mut s = SocketEntry::tcp(
            "127.0.0.1:5432".parse().unwrap(),
            format!("127.0.0.1:{}", 40000 + cookie).parse().unwrap(),
            TcpState::Established,
        );
        s.details.cookie = Some(cookie);
        s.details.tcp_info = Some(TcpInfo {
            bytes_received: Some(rx),
            bytes_acked: Some(tx),
            ..TcpInfo::default()
        });
        s
    }

    fn snap(secs: i64, sockets: Vec<SocketEntry>) -> Snapshot {
        let mut s = Snapshot::empty("h", Utc.timestamp_opt(1_700_000_000 + secs, 0).unwrap());
        s.sockets = sockets;
        s
    }

    #[test]
    fn rates_come_from_counter_changes_of_the_same_cookie() {
        let mut meter = TrafficMeter::default();
        assert!(meter.update(&snap(0, vec![conn(1, 1000, 500)])).is_empty());
        let rates = meter.update(&snap(2, vec![conn(1, 5000, 2500), conn(2, 10, 10)]));
        assert_eq!(
            rates.get(&1),
            Some(&Rate {
                in_bps: 2000.0,
                out_bps: 1000.0
            })
        );
        assert_eq!(rates.get(&2), None, "a new connection has no rate yet");
        let rates = meter.update(&snap(3, vec![conn(2, 1010, 10)]));
        assert_eq!(rates.get(&2).map(|r| r.in_bps), Some(1000.0));
    }

    #[test]
    fn a_listener_carries_no_data_and_gets_no_rate() {
        let mut listener = conn(5, 0, 0);
        listener.remote = Some("0.0.0.0:0".parse().unwrap());
        listener.state = crate::model::socket::SocketState::Tcp(TcpState::Listen);
        let mut meter = TrafficMeter::default();
        meter.update(&snap(0, vec![listener.clone()]));
        assert!(meter.update(&snap(1, vec![listener])).is_empty());
    }

    #[test]
    fn shrinking_counters_and_unmoving_clocks_give_no_rate() {
        let mut meter = TrafficMeter::default();
        meter.update(&snap(0, vec![conn(1, 1000, 500)]));
        assert!(meter.update(&snap(1, vec![conn(1, 10, 500)])).is_empty());
        assert!(meter.update(&snap(1, vec![conn(1, 20, 500)])).is_empty());
    }

    #[test]
    fn sums_per_port_and_process_and_the_busiest_first() {
        let mut a = conn(1, 0, 0);
        a.pids = vec![10];
        let mut b = conn(2, 0, 0);
        b.pids = vec![10, 11];
        let mut idle = conn(3, 0, 0);
        idle.pids = vec![12];
        let s = snap(0, vec![a, b, idle]);
        let rate = |i, o| Rate {
            in_bps: i,
            out_bps: o,
        };
        let rates: FastMap<u64, Rate> = [
            (1, rate(100.0, 0.0)),
            (2, rate(0.0, 500.0)),
            (3, rate(0.0, 0.0)),
        ]
        .into_iter()
        .collect();
        let sums = TrafficSums::of(&s, &rates);
        assert_eq!(
            sums.by_port.get(&PortKey {
                netns: None,
                protocol: Protocol::Tcp,
                port: 5432
            }),
            Some(&rate(100.0, 500.0))
        );
        assert_eq!(
            sums.by_process,
            vec![
                (10, rate(100.0, 500.0)),
                (11, rate(0.0, 500.0)),
                (12, rate(0.0, 0.0))
            ]
        );
        assert_eq!(
            sums.busiest.iter().map(|(i, _)| *i).collect::<Vec<_>>(),
            vec![1, 0],
            "busiest first, idle connections left out"
        );
    }

    #[test]
    fn the_same_port_in_two_namespaces_sums_apart() {
        let host = conn(1, 0, 0).with_netns(1);
        let container = conn(2, 0, 0).with_netns(2);
        let s = snap(0, vec![host, container]);
        let rates: FastMap<u64, Rate> = [(1, 100.0), (2, 7.0)]
            .into_iter()
            .map(|(c, r)| {
                (
                    c,
                    Rate {
                        in_bps: r,
                        out_bps: 0.0,
                    },
                )
            })
            .collect();
        let sums = TrafficSums::of(&s, &rates);
        let on = |netns| {
            sums.by_port[&PortKey {
                netns: Some(netns),
                protocol: Protocol::Tcp,
                port: 5432,
            }]
                .in_bps
        };
        assert_eq!((on(1), on(2)), (100.0, 7.0));
    }

    #[test]
    fn rates_read_in_decimal_units() {
        assert_eq!(format_rate(0.0), "0 B/s");
        assert_eq!(format_rate(980.0), "980 B/s");
        assert_eq!(format_rate(12_345.0), "12.3 KB/s");
        assert_eq!(format_rate(4_000_000.0), "4.0 MB/s");
    }
}

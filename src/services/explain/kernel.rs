//! Sentences for what the kernel reports beyond the tuple: queues, the armed timer, IPV6_V6ONLY, the
//! bound interface, the cookie, TCP's counters and the traffic since the previous sample.
//!
//! Each sentence is built from the value it explains (tcp(7), udp(7), ipv6(7), socket(7)); a value the
//! sample did not record gets no sentence rather than a guess.

use std::net::IpAddr;

use super::Line;
use crate::model::kernel::{KernelDetails, SocketTimer, TcpInfo, TimerKind};
use crate::model::snapshot::MachineFacts;
use crate::model::socket::{Protocol, SocketEntry, TcpState};
use crate::model::traffic::{Rate, format_rate};

/// Every kernel fact recorded for `s`, one line each; `rate` is its traffic since the previous sample;
/// `machine` the facts of the machine it was sampled on (its `tcp_tw_reuse`).
#[must_use]
pub fn kernel_lines(s: &SocketEntry, rate: Option<Rate>, machine: &MachineFacts) -> Vec<Line> {
    let d = &s.details;
    if *d == KernelDetails::default() {
        return vec![Line {
            label: "Kernel details",
            value: "not recorded".to_owned(),
            meaning:
                "This snapshot holds no queues, timers, IPV6_V6ONLY or tcp_info for the socket \
                      (files of format version 1, or a source that does not report them)."
                    .to_owned(),
        }];
    }
    let mut lines = Vec::new();
    lines.extend(queues(s));
    lines.extend(d.timer.map(|t| timer(s, t, machine)));
    lines.extend(v6only(s));
    lines.extend(d.interface.as_ref().map(|name| Line {
        label: "Interface",
        value: name.clone(),
        meaning: format!(
            "Bound to interface {name} (SO_BINDTODEVICE, or the scope of an IPv6 link-local address): it \
             sends and receives only through {name}."
        ),
    }));
    // A listener's (or bound socket's) tcp_info holds no connection to describe.
    if s.peer().is_some() {
        lines.extend(d.tcp_info.as_ref().map_or_else(Vec::new, tcp_info));
    }
    lines.extend(rate.map(|r| {
        Line {
            label: "Traffic",
            value: format!("↓{} ↑{}", format_rate(r.in_bps), format_rate(r.out_bps)),
            meaning: "Since the previous sample: bytes received, and bytes sent that the peer \
                  acknowledged, per second (from the change of TCP's byte counters)."
                .to_owned(),
        }
    }));
    lines.extend(d.cookie.map(|c| Line {
        label: "Cookie",
        value: format!("{c:x}"),
        meaning: "The kernel's identity for this socket (sk: in ss -e): unique, never reused while the \
                  host runs, unlike the tuple or the inode."
            .to_owned(),
    }));
    lines
}

fn queues(s: &SocketEntry) -> Option<Line> {
    let (recv, send) = (s.details.recv_queue?, s.details.send_queue?);
    let meaning = match (s.protocol, s.tcp_state()) {
        (Protocol::Tcp, Some(TcpState::Listen)) => format!(
            "{recv} completed connection{} waiting for the program to accept(); the accept queue is full \
             once it holds more than {send} (the listen() backlog, capped by net.core.somaxconn).",
            if recv == 1 { "" } else { "s" }
        ),
        (Protocol::Tcp, _) => format!(
            "{recv} bytes received that the program has not read yet; {send} bytes the program wrote that \
             the peer has not acknowledged yet (sent, or still waiting to be sent)."
        ),
        (Protocol::Udp, _) => format!(
            "{recv} bytes of memory hold datagrams the program has not read (the kernel's per-packet \
             overhead included); {send} bytes of memory hold datagrams handed to the kernel and not yet \
             released by the network device."
        ),
    };
    Some(Line {
        label: "Queues",
        value: format!("Recv-Q {recv}, Send-Q {send}"),
        meaning,
    })
}

fn secs(ms: u32) -> String {
    format!("{:.1} s", f64::from(ms) / 1000.0)
}

fn timer(s: &SocketEntry, t: SocketTimer, machine: &MachineFacts) -> Line {
    let left = secs(t.expires_ms);
    let meaning = match (t.kind, s.tcp_state()) {
        (TimerKind::Retransmit, Some(TcpState::SynReceived)) => format!(
            "The SYN-ACK is sent again in {left} unless the client's ACK arrives ({} sent again so far).",
            t.retransmits
        ),
        (TimerKind::Retransmit, _) => format!(
            "Unacknowledged data (or a SYN or FIN) is sent again in {left} unless acknowledged; {} \
             retransmission{} so far without an answer.",
            t.retransmits,
            if t.retransmits == 1 { "" } else { "s" }
        ),
        (TimerKind::Keepalive, Some(TcpState::FinWait2)) if s.inode.is_none() => format!(
            "Orphaned FIN_WAIT_2: the kernel gives up waiting for the peer's FIN after \
             net.ipv4.tcp_fin_timeout; this timer fires in {left}, then a timewait entry covers the rest."
        ),
        (TimerKind::Keepalive, _) => format!(
            "Keepalive (SO_KEEPALIVE): the timer fires in {left}; if the connection has been idle long enough \
             by then, a probe goes out. {} probe{} unanswered so far.",
            t.retransmits,
            if t.retransmits == 1 { "" } else { "s" }
        ),
        (TimerKind::TimeWait, Some(TcpState::TimeWait)) => {
            let tw = machine.tcp_tw_reuse();
            let reuse = match tw.value {
                0 => "connect() never reuses it",
                1 => {
                    "connect() may reuse it once it is 1 s old, when both ends use TCP timestamps, \
                     for a connection to any destination"
                }
                _ => {
                    "connect() may reuse it once it is 1 s old, when both ends use TCP timestamps, \
                     for a connection over loopback only"
                }
            };
            format!(
                "The kernel forgets this tuple in {left}; until then it keeps it reserved so that late \
                 segments of the old connection are not taken for a new one (Linux waits a fixed 60 s; \
                 net.ipv4.tcp_tw_reuse = {}{}: {reuse}).",
                tw.value,
                tw.note()
            )
        }
        (TimerKind::TimeWait, _) => {
            format!("The kernel drops this closed connection's remains in {left}.")
        }
        (TimerKind::ZeroWindowProbe, _) => format!(
            "The peer advertised a zero receive window (it reads too slowly); the next probe asking \
             whether it opened goes out in {left}."
        ),
    };
    Line {
        label: "Timer",
        value: format!("{} {left}", t.kind.as_str()),
        meaning,
    }
}

fn v6only(s: &SocketEntry) -> Option<Line> {
    let IpAddr::V6(ip) = s.local.ip() else {
        return None;
    };
    let port = s.local.port();
    let proto = s.protocol;
    let Some(on) = s.details.v6only else {
        return Some(Line {
            label: "IPV6_V6ONLY",
            value: "not reported".to_owned(),
            meaning: "The kernel reports IPV6_V6ONLY only for listening and unconnected sockets, where it \
                      decides what the socket accepts."
                .to_owned(),
        });
    };
    let meaning = match (ip.is_unspecified(), on) {
        (true, false) => format!(
            "Off: this :: socket takes IPv4 as well as IPv6, so IPv4 peers appear as ::ffff:a.b.c.d \
             (ipv6(7)); a separate 0.0.0.0:{port}/{proto} bind fails with EADDRINUSE unless both sockets set \
             SO_REUSEPORT as the same user{}.",
            if s.is_listener() {
                ""
            } else {
                " (or, since this socket does not listen, both set SO_REUSEADDR)"
            }
        ),
        (true, true) => format!(
            "On: this :: socket takes IPv6 only; IPv4 traffic to {port}/{proto} needs its own socket on \
             0.0.0.0 or an IPv4 address."
        ),
        (false, _) => format!(
            "{}: it matters only for the wildcard ::; this socket is bound to {ip} and takes only what \
             is addressed to it.",
            if on { "On" } else { "Off" }
        ),
    };
    Some(Line {
        label: "IPV6_V6ONLY",
        value: if on { "1" } else { "0" }.to_owned(),
        meaning,
    })
}

fn tcp_info(i: &TcpInfo) -> Vec<Line> {
    let ms = |us: u32| format!("{:.3} ms", f64::from(us) / 1000.0);
    let mut lines = Vec::new();
    if let Some(rtt) = i.rtt_us {
        let var = i
            .rttvar_us
            .map(|v| format!(" ± {}", ms(v)))
            .unwrap_or_default();
        let min = i
            .min_rtt_us
            .map(|m| {
                format!(
                    "; the lowest in the last 5 minutes (net.ipv4.tcp_min_rtt_wlen) is {}",
                    ms(m)
                )
            })
            .unwrap_or_default();
        lines.push(Line {
            label: "Round trip",
            value: format!("{}{var}", ms(rtt)),
            meaning: format!("TCP's smoothed estimate of the time to the peer and back{min}."),
        });
    }
    if let (Some(total), Some(now)) = (i.total_retrans, i.retrans) {
        let lost = i
            .lost
            .map(|l| format!(", {l} considered lost"))
            .unwrap_or_default();
        lines.push(Line {
            label: "Retransmits",
            value: total.to_string(),
            meaning: format!(
                "Segments sent again over the connection's life; {now} retransmitted and not yet \
                 acknowledged now{lost}."
            ),
        });
    }
    if let Some(cwnd) = i.snd_cwnd {
        lines.push(Line {
            label: "Congestion window",
            value: format!("{cwnd} segments"),
            meaning: "How many segments TCP lets be in flight unacknowledged before it waits."
                .to_owned(),
        });
    }
    if let (Some(acked), Some(received)) = (i.bytes_acked, i.bytes_received) {
        let sent = i
            .bytes_sent
            .map(|s| format!(" ({s} sent, retransmissions included)"))
            .unwrap_or_default();
        lines.push(Line {
            label: "Bytes",
            value: format!("↑{acked} ↓{received}"),
            meaning: format!(
                "Over the connection's life: {acked} bytes sent and acknowledged by the peer{sent}, \
                 {received} bytes received."
            ),
        });
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listener(addr: &str, v6only: Option<bool>) -> SocketEntry {
        let mut s = SocketEntry::tcp(
            addr.parse().unwrap(),
            "[::]:0".parse().unwrap(),
            TcpState::Listen,
        );
        s.details.v6only = v6only;
        s.details.recv_queue = Some(2);
        s.details.send_queue = Some(4096);
        s
    }

    fn line<'a>(lines: &'a [Line], label: &str) -> &'a Line {
        lines.iter().find(|l| l.label == label).unwrap()
    }

    #[test]
    fn a_dual_stack_wildcard_listener_says_it_takes_ipv4() {
        let lines = kernel_lines(
            &listener("[::]:8080", Some(false)),
            None,
            &MachineFacts::default(),
        );
        let v6 = line(&lines, "IPV6_V6ONLY");
        assert_eq!(v6.value, "0");
        assert!(v6.meaning.contains("takes IPv4 as well"), "{}", v6.meaning);
        let only = kernel_lines(
            &listener("[::]:8080", Some(true)),
            None,
            &MachineFacts::default(),
        );
        assert!(line(&only, "IPV6_V6ONLY").meaning.contains("IPv6 only"));
        let q = line(&lines, "Queues");
        assert!(
            q.meaning.starts_with("2 completed connections waiting"),
            "{}",
            q.meaning
        );
        assert!(q.meaning.contains("full once it holds more than 4096"));
    }

    #[test]
    fn unrecorded_details_say_so_and_invent_nothing() {
        let s = SocketEntry::udp("0.0.0.0:53".parse().unwrap(), None);
        let lines = kernel_lines(&s, None, &MachineFacts::default());
        assert_eq!(lines.len(), 1);
        assert_eq!(lines[0].value, "not recorded");
    }

    #[test]
    fn time_wait_says_when_the_tuple_is_forgotten() {
        let mut s = SocketEntry::tcp(
            "127.0.0.1:40112".parse().unwrap(),
            "127.0.0.1:5432".parse().unwrap(),
            TcpState::TimeWait,
        );
        s.details.timer = Some(SocketTimer {
            kind: TimerKind::TimeWait,
            expires_ms: 41_500,
            retransmits: 0,
        });
        let lines = kernel_lines(&s, None, &MachineFacts::default());
        let t = line(&lines, "Timer");
        assert_eq!(t.value, "time_wait 41.5 s");
        assert!(
            t.meaning
                .starts_with("The kernel forgets this tuple in 41.5 s")
        );
        assert!(
            t.meaning.contains(
                "tcp_tw_reuse = 2 (assumed: Linux's default; this snapshot did not record it): \
                 connect() may reuse it once it is 1 s old"
            ),
            "{}",
            t.meaning
        );
        let machine = MachineFacts {
            tcp_tw_reuse: Some(0),
            ..MachineFacts::default()
        };
        let t = line(&kernel_lines(&s, None, &machine), "Timer")
            .meaning
            .clone();
        assert!(
            t.contains("tcp_tw_reuse = 0: connect() never reuses it"),
            "{t}"
        );
    }
}

//! The host settings that decide what a bind() may do and what an address means, read from `/proc`:
//! `ip_unprivileged_port_start`, `ip_local_reserved_ports`, `bindv6only`, `tcp_tw_reuse`, and the
//! interfaces' addresses. Each is per network namespace; this process reads its own namespace's.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::Path;

use crate::model::snapshot::{MachineFacts, PortRange};

/// Reads every fact under `proc` (normally `/proc`); a file that cannot be read leaves its fact `None`.
#[must_use]
pub fn read_machine_facts(proc: &Path) -> MachineFacts {
    read_machine_facts_at(proc, proc)
}

/// Reads the sysctls under `proc/sys` and the addresses under `net_proc/net`. `/proc/sys/net` answers
/// for the namespace of the thread that opens it, `/proc/net` for the process's main thread's: a thread
/// that entered another namespace reads its addresses from `/proc/thread-self/net`.
#[must_use]
pub fn read_machine_facts_at(proc: &Path, net_proc: &Path) -> MachineFacts {
    let read = |rel: &str| std::fs::read_to_string(proc.join(rel)).ok();
    let read_net = |rel: &str| std::fs::read_to_string(net_proc.join(rel)).ok();
    let number = |rel: &str| read(rel).and_then(|t| t.trim().parse::<u32>().ok());
    MachineFacts {
        unprivileged_port_start: number("sys/net/ipv4/ip_unprivileged_port_start")
            .map(|n| u16::try_from(n).unwrap_or(u16::MAX)),
        reserved_ports: read("sys/net/ipv4/ip_local_reserved_ports")
            .and_then(|t| parse_port_list(&t)),
        bindv6only: number("sys/net/ipv6/bindv6only").map(|n| n != 0),
        tcp_tw_reuse: number("sys/net/ipv4/tcp_tw_reuse").and_then(|n| u8::try_from(n).ok()),
        local_addresses: local_addresses(
            read_net("net/fib_trie").as_deref(),
            read_net("net/if_inet6").as_deref(),
        ),
    }
}

/// `8080,9000-9010` (empty when none) → ranges; `None` when malformed.
fn parse_port_list(text: &str) -> Option<Vec<PortRange>> {
    text.trim()
        .split(',')
        .filter(|p| !p.trim().is_empty())
        .map(|part| {
            let (low, high) = part.split_once('-').unwrap_or((part, part));
            let low = low.trim().parse().ok()?;
            let high = high.trim().parse().ok()?;
            (low <= high).then_some(PortRange { low, high })
        })
        .collect()
}

/// This host's addresses: IPv4 from the `LOCAL` /32 entries of `/proc/net/fib_trie`, IPv6 from
/// `/proc/net/if_inet6`. `None` when neither could be read.
fn local_addresses(fib_trie: Option<&str>, if_inet6: Option<&str>) -> Option<Vec<IpAddr>> {
    if fib_trie.is_none() && if_inet6.is_none() {
        return None;
    }
    let mut out: Vec<IpAddr> = Vec::new();
    let mut last: Option<Ipv4Addr> = None;
    for line in fib_trie.unwrap_or_default().lines() {
        let line = line.trim();
        if let Some(addr) = line.strip_prefix("|-- ") {
            last = addr.trim().parse().ok();
        } else if line.starts_with("/32 host LOCAL") {
            out.extend(last.map(IpAddr::V4));
        }
    }
    for line in if_inet6.unwrap_or_default().lines() {
        let hex = line.split_whitespace().next().unwrap_or_default();
        if hex.len() == 32 {
            if let Ok(bits) = u128::from_str_radix(hex, 16) {
                out.push(IpAddr::V6(Ipv6Addr::from(bits)));
            }
        }
    }
    out.sort_unstable();
    out.dedup();
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserved_port_lists_parse_and_malformed_ones_are_unknown() {
        assert_eq!(parse_port_list("\n"), Some(vec![]));
        assert_eq!(
            parse_port_list("8080,9000-9010\n"),
            Some(vec![
                PortRange {
                    low: 8080,
                    high: 8080
                },
                PortRange {
                    low: 9000,
                    high: 9010
                }
            ])
        );
        assert_eq!(parse_port_list("9010-9000"), None);
        assert_eq!(parse_port_list("http"), None);
    }

    #[test]
    fn local_addresses_come_from_fib_trie_and_if_inet6() {
        let trie = "Main:\n  +-- 0.0.0.0/0 3 0 5\n     |-- 10.0.0.2\n        /32 host LOCAL\n     |-- 10.0.0.0\n        /24 link UNICAST\nLocal:\n     |-- 127.0.0.1\n        /32 host LOCAL\n     |-- 10.0.0.2\n        /32 host LOCAL\n";
        let inet6 = "00000000000000000000000000000001 01 80 10 80       lo\nfe800000000000000000000000000001 02 40 20 80     eth0\n";
        let got = local_addresses(Some(trie), Some(inet6)).unwrap();
        let want: Vec<IpAddr> = ["10.0.0.2", "127.0.0.1", "::1", "fe80::1"]
            .iter()
            .map(|a| a.parse().unwrap())
            .collect();
        assert_eq!(got, want);
        assert_eq!(local_addresses(None, None), None);
    }

    #[test]
    fn this_machine_has_loopback_and_a_threshold() {
        let facts = read_machine_facts(Path::new("/proc"));
        assert!(facts.unprivileged_port_start.is_some());
        let addrs = facts.local_addresses.unwrap();
        assert!(addrs.contains(&"127.0.0.1".parse().unwrap()), "{addrs:?}");
    }
}

//! The fallback when the kernel refuses sock_diag (no `inet_diag` module, or a sandbox that blocks
//! netlink): the text tables `/proc/net/{tcp,tcp6,udp,udp6}`.
//!
//! They hold the tuple, state, queues, timer, uid and inode, but no cookie, no IPV6_V6ONLY, no bound
//! interface and no `tcp_info`, so those stay "not recorded".

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::Path;

use super::diag::{AF_INET, AF_INET6, IPPROTO_TCP, IPPROTO_UDP, RawSocket};
use super::{InterfaceNames, entry_of};
use crate::model::socket::SocketEntry;

/// Reads every socket from the `/proc/net` tables under `proc_net` (normally `/proc/net`).
///
/// # Errors
/// When none of the four tables can be read.
pub fn dump_procfs(proc_net: &Path) -> std::io::Result<Vec<SocketEntry>> {
    let mut out = Vec::new();
    let mut read_any = None;
    let mut names = InterfaceNames::default();
    for (file, family, protocol) in [
        ("tcp", AF_INET, IPPROTO_TCP),
        ("tcp6", AF_INET6, IPPROTO_TCP),
        ("udp", AF_INET, IPPROTO_UDP),
        ("udp6", AF_INET6, IPPROTO_UDP),
    ] {
        match std::fs::read_to_string(proc_net.join(file)) {
            Ok(text) => {
                read_any = Some(Ok(()));
                out.extend(
                    text.lines()
                        .skip(1)
                        .filter_map(|line| parse_line(line, family))
                        .map(|raw| entry_of(&raw, protocol, &mut names)),
                );
            }
            // IPv6 may be disabled: its tables are then missing, which is no error.
            Err(e) => {
                read_any.get_or_insert(Err(e));
            }
        }
    }
    read_any.unwrap_or(Ok(()))?;
    Ok(out)
}

fn hex_u32(text: &str) -> Option<u32> {
    u32::from_str_radix(text, 16).ok()
}

/// `0100007F:0CEA` → 127.0.0.1:3306. The kernel prints each 32-bit word of the address as it lies in
/// memory (network order read as a native integer), and the port as a number.
fn parse_endpoint(text: &str, family: u8) -> Option<SocketAddr> {
    let (addr, port) = text.split_once(':')?;
    let port = u16::from_str_radix(port, 16).ok()?;
    let ip = match (family, addr.len()) {
        (AF_INET, 8) => IpAddr::V4(Ipv4Addr::from(hex_u32(addr)?.to_ne_bytes())),
        (AF_INET6, 32) => {
            let mut bytes = [0u8; 16];
            for (i, chunk) in bytes.chunks_exact_mut(4).enumerate() {
                let word = hex_u32(addr.get(i * 8..i * 8 + 8)?)?;
                chunk.copy_from_slice(&word.to_ne_bytes());
            }
            IpAddr::V6(Ipv6Addr::from(bytes))
        }
        _ => return None,
    };
    Some(SocketAddr::new(ip, port))
}

/// One table line: `sl local rem st tx:rx tr:when retrnsmt uid timeout inode …`. Malformed lines are
/// skipped.
fn parse_line(line: &str, family: u8) -> Option<RawSocket> {
    let f: Vec<&str> = line.split_whitespace().collect();
    let (tx, rx) = f.get(4)?.split_once(':')?;
    let (timer, when) = f.get(5)?.split_once(':')?;
    // `when` is in clock ticks (USER_HZ, 100 per second on Linux).
    let expires_ms = hex_u32(when)?.saturating_mul(10);
    Some(RawSocket {
        family,
        state: u8::from_str_radix(f.get(3)?, 16).ok()?,
        timer: u8::from_str_radix(timer, 16).ok()?,
        retransmits: u8::try_from(hex_u32(f.get(6)?)?).unwrap_or(u8::MAX),
        local: parse_endpoint(f.get(1)?, family)?,
        remote: parse_endpoint(f.get(2)?, family)?,
        interface: 0,
        cookie: 0,
        expires_ms,
        recv_queue: hex_u32(rx)?,
        send_queue: hex_u32(tx)?,
        uid: f.get(7)?.parse().ok()?,
        inode: f.get(9)?.parse().ok()?,
        v6only: None,
        tcp_info: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::socket::UdpState;

    #[test]
    fn reads_the_text_tables() {
        let dir = std::env::temp_dir().join(format!("sockscope-procfs-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let head = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n";
        std::fs::write(
            dir.join("tcp"),
            format!(
                "{head}   0: 0100007F:0CEA 00000000:0000 0A 00000000:00000002 00:00000000 00000000   116        0 25125 1 0 100 0 0 10 0\n   1: garbage\n"
            ),
        )
        .unwrap();
        std::fs::write(
            dir.join("udp6"),
            format!(
                "{head}  10: 00000000000000000000000001000000:0035 00000000000000000000000001000000:1F90 01 00000000:00000000 00:00000000 00000000  1000        0 777 2 0 0\n"
            ),
        )
        .unwrap();
        let sockets = dump_procfs(&dir).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(sockets.len(), 2, "{sockets:?}");
        let l = &sockets[0];
        assert_eq!(l.to_string(), "tcp 127.0.0.1:3306 -> *:* LISTEN");
        assert_eq!(
            (l.uid, l.inode, l.details.recv_queue),
            (Some(116), Some(25125), Some(2))
        );
        let u = &sockets[1];
        assert_eq!(u.udp_state(), Some(UdpState::Connected));
        assert_eq!(u.to_string(), "udp [::1]:53 -> [::1]:8080 CONNECTED");
        assert_eq!(u.details.v6only, None);
    }

    #[test]
    fn no_tables_at_all_is_an_error() {
        assert!(dump_procfs(Path::new("/nonexistent-sockscope")).is_err());
    }
}

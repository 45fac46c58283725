//! What this process may do that matters for binding: whether it holds CAP_NET_BIND_SERVICE, read from
//! the effective capability set in `/proc/self/status` (`CapEff`, bit 10).

use std::path::Path;

use crate::model::privilege::Privilege;

/// CAP_NET_BIND_SERVICE's bit in the capability sets (linux/capability.h).
const CAP_NET_BIND_SERVICE: u32 = 10;

/// This process's privilege to bind ports below `ip_unprivileged_port_start`.
#[must_use]
pub fn current_privilege() -> Privilege {
    privilege_from_status(Path::new("/proc/self/status"))
}

fn privilege_from_status(path: &Path) -> Privilege {
    let Ok(text) = std::fs::read_to_string(path) else {
        return Privilege::Unknown;
    };
    text.lines()
        .find_map(|l| l.strip_prefix("CapEff:"))
        .and_then(|hex| u64::from_str_radix(hex.trim(), 16).ok())
        .map_or(Privilege::Unknown, |caps| {
            if caps & (1 << CAP_NET_BIND_SERVICE) != 0 {
                Privilege::CanBindLowPorts
            } else {
                Privilege::Unprivileged
            }
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_effective_capability_bit() {
        let dir = std::env::temp_dir().join(format!("sockscope-caps-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let status = dir.join("status");
        std::fs::write(&status, "Name:\tx\nCapEff:\t0000000000000400\n").unwrap();
        assert_eq!(privilege_from_status(&status), Privilege::CanBindLowPorts);
        std::fs::write(&status, "CapEff:\t0000000000000000\n").unwrap();
        assert_eq!(privilege_from_status(&status), Privilege::Unprivileged);
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(privilege_from_status(&dir), Privilege::Unknown);
    }
}

//! What the asking process may do that decides a bind(): plain data, read by the collector.

/// Whether the asking process may bind ports below `ip_unprivileged_port_start`, as far as is known.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Privilege {
    /// It has CAP_NET_BIND_SERVICE (root has it).
    CanBindLowPorts,
    /// It lacks CAP_NET_BIND_SERVICE.
    Unprivileged,
    /// Not known (a saved snapshot asked about from elsewhere).
    Unknown,
}

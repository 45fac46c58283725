//! Targets other than Linux: the socket dump through netstat2, which reports the tuple, TCP state, uid
//! and inode but none of the kernel details Linux's sock_diag gives.

use std::net::SocketAddr;

use netstat2::{AddressFamilyFlags, ProtocolFlags, ProtocolSocketInfo};

use super::{CollectError, DumpError};
use crate::model::socket::{SocketEntry, TcpState, UdpState};

/// Maps netstat2's state. Linux reports request sockets (handshake not finished) as `TCP_NEW_SYN_RECV` (12), which
/// netstat2 does not name and turns into `Unknown`; `ss` prints them as SYN-RECV, and so do we.
fn map_state(state: netstat2::TcpState) -> TcpState {
    use netstat2::TcpState as N;
    match state {
        N::Listen => TcpState::Listen,
        N::SynSent => TcpState::SynSent,
        N::SynReceived | N::Unknown => TcpState::SynReceived,
        N::Established => TcpState::Established,
        N::FinWait1 => TcpState::FinWait1,
        N::FinWait2 => TcpState::FinWait2,
        N::CloseWait => TcpState::CloseWait,
        N::Closing => TcpState::Closing,
        N::LastAck => TcpState::LastAck,
        N::TimeWait => TcpState::TimeWait,
        N::Closed | N::DeleteTcb => TcpState::Closed,
    }
}

/// Turns the kernel's dump into entries (owners not yet attached). netstat2 reports no UDP peer, so
/// UDP connectedness is not recorded.
pub fn dump_sockets() -> Result<Vec<SocketEntry>, CollectError> {
    let failed = |e: netstat2::error::Error| CollectError::SocketDump {
        table: "tcp/udp",
        source: DumpError::Malformed(e.to_string()),
    };
    let families = AddressFamilyFlags::IPV4 | AddressFamilyFlags::IPV6;
    let protocols = ProtocolFlags::TCP | ProtocolFlags::UDP;
    let iter = netstat2::iterate_sockets_info_without_pids(families, protocols).map_err(failed)?;
    let mut sockets = Vec::new();
    for item in iter {
        let info = item.map_err(failed)?;
        let entry = match info.protocol_socket_info {
            ProtocolSocketInfo::Tcp(t) => SocketEntry::tcp(
                SocketAddr::new(t.local_addr, t.local_port),
                SocketAddr::new(t.remote_addr, t.remote_port),
                map_state(t.state),
            ),
            ProtocolSocketInfo::Udp(u) => {
                let mut e = SocketEntry::udp(SocketAddr::new(u.local_addr, u.local_port), None);
                e.state = crate::model::socket::SocketState::Udp(UdpState::NotRecorded);
                e
            }
        };
        sockets.push(entry.with_inode(info.inode).with_uid(info.uid));
    }
    Ok(sockets)
}

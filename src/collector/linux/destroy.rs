//! Closing one TCP connection from outside its program, as `ss -K` does: `SOCK_DESTROY` over sock_diag.
//!
//! The request names the exact socket: its 5-tuple, its bound interface and the kernel's cookie from the
//! sample it was seen in. The kernel refuses with `ESTALE` when the tuple now belongs to another
//! connection (cookies are never reused), so a sample a second old never closes the wrong socket. The
//! kernel aborts the connection (`tcp_abort`): the peer gets a reset, and the owning program's next
//! call on the socket fails with `ECONNABORTED`.

use std::io;
use std::net::{IpAddr, SocketAddr};

use netlink_sys::{Socket, protocols::NETLINK_SOCK_DIAG};

use super::diag::{AF_INET, AF_INET6, IPPROTO_TCP, message_header, u32_ne};

/// `SOCK_DESTROY`.
const SOCK_DESTROY: u16 = 21;
/// `NLMSG_ERROR`.
const NLMSG_ERROR: u16 = 2;
/// `NLM_F_REQUEST | NLM_F_ACK`.
const REQUEST_ACK: u16 = 0x1 | 0x4;
/// `sizeof(struct nlmsghdr)`.
const NLMSG_HDRLEN: usize = 16;
/// `sizeof(struct inet_diag_req_v2)`.
const INET_DIAG_REQ_LEN: usize = 56;

/// Why the kernel did not close a connection, as its errno says.
#[derive(Debug, thiserror::Error)]
pub enum DestroyError {
    /// EPERM or EACCES: the caller lacks `CAP_NET_ADMIN` in the socket's network namespace.
    #[error("closing a connection needs CAP_NET_ADMIN, which this process lacks")]
    NotPermitted,
    /// EOPNOTSUPP: the kernel was built without `CONFIG_INET_DIAG_DESTROY`.
    #[error(
        "this kernel cannot close sockets from outside their program (built without CONFIG_INET_DIAG_DESTROY)"
    )]
    Unsupported,
    /// ENOENT: no socket has this tuple any more.
    #[error("the connection is already gone")]
    Gone,
    /// ESTALE: the tuple now belongs to another connection (its cookie differs).
    #[error("the tuple now belongs to another connection; nothing was closed")]
    Reused,
    /// Any other errno.
    #[error("the kernel refused (errno {0})")]
    Refused(i32),
    /// The netlink socket failed.
    #[error("{0}")]
    Io(#[from] io::Error),
}

/// The `SOCK_DESTROY` request for the TCP socket `local` ↔ `remote`, bound to interface `interface`
/// (0 for none), with the kernel's `cookie`.
#[must_use]
pub fn destroy_request(
    local: SocketAddr,
    remote: SocketAddr,
    interface: u32,
    cookie: u64,
    seq: u32,
) -> Vec<u8> {
    let mut buf = message_header(INET_DIAG_REQ_LEN, SOCK_DESTROY, REQUEST_ACK, seq);
    let family = if local.is_ipv6() { AF_INET6 } else { AF_INET };
    buf.extend_from_slice(&[family, IPPROTO_TCP, 0, 0]);
    buf.extend_from_slice(&u32::MAX.to_ne_bytes()); // every state
    buf.extend_from_slice(&local.port().to_be_bytes());
    buf.extend_from_slice(&remote.port().to_be_bytes());
    buf.extend_from_slice(&address_bytes(local.ip()));
    buf.extend_from_slice(&address_bytes(remote.ip()));
    buf.extend_from_slice(&interface.to_ne_bytes());
    // The cookie as the kernel splits it: low 32 bits, then high.
    let [low, high] =
        [cookie & 0xffff_ffff, cookie >> 32].map(|half| u32::try_from(half).unwrap_or(0));
    buf.extend_from_slice(&low.to_ne_bytes());
    buf.extend_from_slice(&high.to_ne_bytes());
    buf
}

/// An address as `inet_diag_sockid` holds it: 16 bytes in network order, IPv4 in the first four.
fn address_bytes(ip: IpAddr) -> [u8; 16] {
    match ip {
        IpAddr::V4(v4) => {
            let mut out = [0; 16];
            out[..4].copy_from_slice(&v4.octets());
            out
        }
        IpAddr::V6(v6) => v6.octets(),
    }
}

/// Asks the kernel to close the TCP connection `local` ↔ `remote` whose cookie is `cookie`.
///
/// # Errors
/// What the kernel answered, as a [`DestroyError`].
pub fn destroy_tcp(
    local: SocketAddr,
    remote: SocketAddr,
    interface: u32,
    cookie: u64,
) -> Result<(), DestroyError> {
    let mut socket = Socket::new(NETLINK_SOCK_DIAG)?;
    socket.bind_auto()?;
    socket.send(&destroy_request(local, remote, interface, cookie, 1), 0)?;
    let mut buf = Vec::with_capacity(4096);
    socket.recv(&mut buf, 0)?;
    match reply_errno(&buf) {
        Some(0) => Ok(()),
        Some(1 | 13) => Err(DestroyError::NotPermitted),
        Some(95) => Err(DestroyError::Unsupported),
        Some(2) => Err(DestroyError::Gone),
        Some(116) => Err(DestroyError::Reused),
        Some(errno) => Err(DestroyError::Refused(errno)),
        None => Err(DestroyError::Io(io::Error::new(
            io::ErrorKind::InvalidData,
            "the kernel's answer to SOCK_DESTROY could not be read",
        ))),
    }
}

/// The errno of the kernel's acknowledgement (0 for success), when the reply holds one.
fn reply_errno(buf: &[u8]) -> Option<i32> {
    let kind = u16::from_ne_bytes(buf.get(4..6)?.try_into().ok()?);
    if kind != NLMSG_ERROR {
        return None;
    }
    let code = i32::from_ne_bytes(u32_ne(buf, NLMSG_HDRLEN)?.to_ne_bytes());
    Some(-code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_request_names_the_exact_socket() {
        let local: SocketAddr = "127.0.0.1:40112".parse().unwrap();
        let remote: SocketAddr = "127.0.0.1:5432".parse().unwrap();
        let req = destroy_request(local, remote, 3, 0x1_0000_0002, 9);
        assert_eq!(req.len(), 72);
        assert_eq!(u16::from_ne_bytes([req[4], req[5]]), SOCK_DESTROY);
        assert_eq!(&req[16..18], &[AF_INET, IPPROTO_TCP]);
        assert_eq!(&req[24..28], &[0x9c, 0xb0, 0x15, 0x38], "ports, big-endian");
        assert_eq!(&req[28..32], &[127, 0, 0, 1]);
        assert_eq!(&req[44..48], &[127, 0, 0, 1]);
        assert_eq!(u32_ne(&req, 60), Some(3), "interface");
        assert_eq!(
            (u32_ne(&req, 64), u32_ne(&req, 68)),
            (Some(2), Some(1)),
            "cookie, low half first"
        );
    }

    #[test]
    fn acknowledgements_and_refusals_are_read() {
        let reply = |errno: i32| {
            let mut b = vec![0u8; 36];
            b[4..6].copy_from_slice(&NLMSG_ERROR.to_ne_bytes());
            b[16..20].copy_from_slice(&(-errno).to_ne_bytes());
            b
        };
        assert_eq!(reply_errno(&reply(0)), Some(0));
        assert_eq!(reply_errno(&reply(116)), Some(116));
        assert_eq!(reply_errno(&[0; 3]), None);
    }
}

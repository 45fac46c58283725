//! Parsing the kernel's `inet_diag` replies by hand, defensively.
//!
//! The layouts come from the kernel's uapi headers (`linux/netlink.h`, `linux/inet_diag.h`). Like
//! iproute2's `ss`, this reader skips what it does not understand: an unknown attribute, an attribute too
//! short for its type or a message type it does not expect is passed over, never fatal, and never costs
//! the rest of the dump. Only a reply whose framing is broken (a length that points outside the buffer)
//! stops the parse, because nothing after it can be found.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use crate::model::kernel::TcpInfo;

/// `NLMSG_NOOP`: nothing to read.
const NLMSG_NOOP: u16 = 1;
/// `NLMSG_ERROR`: the payload starts with a negative errno.
const NLMSG_ERROR: u16 = 2;
/// `NLMSG_DONE`: the end of a dump.
const NLMSG_DONE: u16 = 3;
/// `NLM_F_DUMP_INTR`: the table changed while the dump ran, so it may be inconsistent.
const NLM_F_DUMP_INTR: u16 = 0x10;
/// `SOCK_DIAG_BY_FAMILY`: a socket record.
pub const SOCK_DIAG_BY_FAMILY: u16 = 20;
/// `TCPDIAG_GETSOCK`: the older request (and reply) type for TCP, which takes `AF_UNSPEC` and so walks
/// the kernel's TCP tables once for IPv4 and IPv6 together, as `ss` does.
pub const TCPDIAG_GETSOCK: u16 = 18;
/// `sizeof(struct inet_diag_req)`, the older request.
const INET_DIAG_REQ_V1_LEN: usize = 60;
/// Every state bit, including TCP_BOUND_INACTIVE (13) on kernels that know it (≥ 6.8); older kernels
/// ignore bits they do not know.
const ALL_STATES: u32 = u32::MAX;
/// `NLM_F_REQUEST | NLM_F_DUMP`.
const DUMP_REQUEST_FLAGS: u16 = 0x1 | 0x300;

const NLMSG_HDRLEN: usize = 16;
/// `sizeof(struct inet_diag_msg)`.
const INET_DIAG_MSG_LEN: usize = 72;
/// `sizeof(struct inet_diag_req_v2)`.
const INET_DIAG_REQ_LEN: usize = 56;

/// `INET_DIAG_INFO`: `struct tcp_info` for TCP full sockets.
const INET_DIAG_INFO: u16 = 2;
/// `INET_DIAG_SKV6ONLY`: one byte, IPV6_V6ONLY of an AF_INET6 socket.
const INET_DIAG_SKV6ONLY: u16 = 11;

/// `AF_INET`.
pub const AF_INET: u8 = 2;
/// `AF_INET6`.
pub const AF_INET6: u8 = 10;
/// `IPPROTO_TCP`.
pub const IPPROTO_TCP: u8 = 6;
/// `IPPROTO_UDP`.
pub const IPPROTO_UDP: u8 = 17;

/// One socket record from the kernel, decoded but not yet interpreted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawSocket {
    /// `AF_INET` or `AF_INET6`.
    pub family: u8,
    /// The kernel's state number (`TCP_ESTABLISHED` = 1 … `TCP_NEW_SYN_RECV` = 12); UDP uses 1 and 7.
    pub state: u8,
    /// `idiag_timer`: 0 none, 1 retransmit, 2 keepalive, 3 TIME_WAIT, 4 zero-window probe.
    pub timer: u8,
    /// `idiag_retrans`.
    pub retransmits: u8,
    /// Local endpoint.
    pub local: SocketAddr,
    /// Remote endpoint (unspecified and port 0 when not connected).
    pub remote: SocketAddr,
    /// `idiag_if`: the interface index the socket is bound to, 0 for none.
    pub interface: u32,
    /// The socket cookie, as `ss -e` prints it (`sk:`).
    pub cookie: u64,
    /// `idiag_expires`, milliseconds.
    pub expires_ms: u32,
    /// `idiag_rqueue`.
    pub recv_queue: u32,
    /// `idiag_wqueue`.
    pub send_queue: u32,
    /// `idiag_uid` (a placeholder 0 for TIME_WAIT and request sockets).
    pub uid: u32,
    /// `idiag_inode` (0 when no file refers to the socket).
    pub inode: u32,
    /// `INET_DIAG_SKV6ONLY`, when sent.
    pub v6only: Option<bool>,
    /// `struct tcp_info`, when sent, read from whatever length the kernel sent.
    pub tcp_info: Option<TcpInfo>,
}

/// What one buffer of a dump reply held: records of type `T` (inet sockets unless said otherwise).
#[derive(Debug, PartialEq, Eq)]
pub struct Batch<T = RawSocket> {
    /// Socket records, in the kernel's order.
    pub sockets: Vec<T>,
    /// The dump ended in this buffer (`NLMSG_DONE`).
    pub done: bool,
    /// The kernel answered with an error: its errno (positive).
    pub error: Option<i32>,
    /// The kernel flagged the dump as interrupted (`NLM_F_DUMP_INTR`): the table changed during the dump.
    pub interrupted: bool,
    /// Records that could not be decoded and were skipped (too short).
    pub skipped: usize,
}

/// The kernel's `int error` of an error or done message, read as the bits of a `u32`.
fn errno_of(bits: u32) -> i32 {
    i32::from_ne_bytes(bits.to_ne_bytes())
}

impl<T> Default for Batch<T> {
    fn default() -> Self {
        Self {
            sockets: Vec::new(),
            done: false,
            error: None,
            interrupted: false,
            skipped: 0,
        }
    }
}

/// A dump request's `struct nlmsghdr` for a message of `payload_len` bytes of type `kind`.
fn request_header(payload_len: usize, kind: u16, seq: u32) -> Vec<u8> {
    message_header(payload_len, kind, DUMP_REQUEST_FLAGS, seq)
}

/// A `struct nlmsghdr` to the kernel (pid 0) for a message of `payload_len` bytes.
pub(super) fn message_header(payload_len: usize, kind: u16, flags: u16, seq: u32) -> Vec<u8> {
    let len = NLMSG_HDRLEN + payload_len;
    let mut buf = Vec::with_capacity(len);
    buf.extend_from_slice(&u32::try_from(len).unwrap_or(u32::MAX).to_ne_bytes());
    buf.extend_from_slice(&kind.to_ne_bytes());
    buf.extend_from_slice(&flags.to_ne_bytes());
    buf.extend_from_slice(&seq.to_ne_bytes());
    buf.extend_from_slice(&0u32.to_ne_bytes()); // pid: the kernel
    buf
}

/// The request for a dump of every socket of `family` and `protocol`, in all states, with `tcp_info`.
#[must_use]
pub fn dump_request(family: u8, protocol: u8, seq: u32) -> Vec<u8> {
    let mut buf = request_header(INET_DIAG_REQ_LEN, SOCK_DIAG_BY_FAMILY, seq);
    buf.push(family);
    buf.push(protocol);
    // idiag_ext: bit (ext - 1) asks for attribute ext; v6only comes unasked.
    buf.push(1 << (INET_DIAG_INFO - 1));
    buf.push(0);
    buf.extend_from_slice(&ALL_STATES.to_ne_bytes());
    buf.resize(NLMSG_HDRLEN + INET_DIAG_REQ_LEN, 0); // inet_diag_sockid: all zero, no filter
    buf
}

/// The request for a dump of every TCP socket, IPv4 and IPv6 in one walk of the kernel's tables
/// (`TCPDIAG_GETSOCK` with `struct inet_diag_req`, family `AF_UNSPEC`), all states, with `tcp_info`.
#[must_use]
pub fn tcp_dump_request_both_families(seq: u32) -> Vec<u8> {
    let mut buf = request_header(INET_DIAG_REQ_V1_LEN, TCPDIAG_GETSOCK, seq);
    // idiag_family (ignored: the kernel dumps AF_UNSPEC), src_len, dst_len, idiag_ext.
    buf.extend_from_slice(&[0, 0, 0, 1 << (INET_DIAG_INFO - 1)]);
    buf.resize(NLMSG_HDRLEN + 4 + 48, 0); // inet_diag_sockid: no filter
    buf.extend_from_slice(&ALL_STATES.to_ne_bytes());
    buf.extend_from_slice(&0u32.to_ne_bytes()); // idiag_dbs
    buf
}

fn u16_ne(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_ne_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

/// A native-endian `u32` at byte `at`, when the buffer holds it.
pub(super) fn u32_ne(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_ne_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

/// A native-endian `u64` at byte `at`, when the buffer holds it.
pub(super) fn u64_ne(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_ne_bytes(b.get(at..at + 8)?.try_into().ok()?))
}

fn port_be(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

fn align4(n: usize) -> usize {
    (n + 3) & !3
}

/// Parses one buffer returned by `recv` on a sock_diag socket of the inet families. Never panics; see
/// the module docs for what is skipped.
#[must_use]
pub fn parse_batch(buf: &[u8]) -> Batch {
    parse_batch_with(buf, parse_inet_msg)
}

/// Parses one buffer of a sock_diag dump whose records `parse` decodes (`None`: skipped as short).
pub fn parse_batch_with<T>(buf: &[u8], parse: impl Fn(&[u8]) -> Option<T>) -> Batch<T> {
    let mut batch = Batch::default();
    let mut at = 0;
    while at + NLMSG_HDRLEN <= buf.len() {
        let (Some(len), Some(kind), Some(flags)) =
            (u32_ne(buf, at), u16_ne(buf, at + 4), u16_ne(buf, at + 6))
        else {
            break;
        };
        let len = len as usize;
        if len < NLMSG_HDRLEN || at + len > buf.len() {
            // Broken framing: the rest of the buffer cannot be found.
            batch.skipped += 1;
            break;
        }
        batch.interrupted |= flags & NLM_F_DUMP_INTR != 0;
        let payload = &buf[at + NLMSG_HDRLEN..at + len];
        match kind {
            NLMSG_NOOP => {}
            NLMSG_DONE => {
                batch.done = true;
                // A dump that failed half-way reports the errno in DONE's payload.
                if let Some(code) = u32_ne(payload, 0).map(errno_of) {
                    if code < 0 {
                        batch.error = Some(-code);
                    }
                }
                break;
            }
            NLMSG_ERROR => {
                let code = u32_ne(payload, 0).map_or(0, errno_of);
                // errno 0 is an acknowledgement, not an error.
                if code != 0 {
                    batch.error = Some(code.saturating_neg());
                    batch.done = true;
                    break;
                }
            }
            SOCK_DIAG_BY_FAMILY | TCPDIAG_GETSOCK => match parse(payload) {
                Some(socket) => batch.sockets.push(socket),
                None => batch.skipped += 1,
            },
            _ => {}
        }
        at += align4(len);
    }
    batch
}

/// Decodes one `struct inet_diag_msg` and its attributes; `None` when the header itself is short or names
/// a family other than IPv4/IPv6.
#[must_use]
pub fn parse_inet_msg(msg: &[u8]) -> Option<RawSocket> {
    let head = msg.get(..INET_DIAG_MSG_LEN)?;
    let family = head[0];
    let (local_ip, remote_ip) = match family {
        AF_INET => (
            IpAddr::V4(Ipv4Addr::from(<[u8; 4]>::try_from(&head[8..12]).ok()?)),
            IpAddr::V4(Ipv4Addr::from(<[u8; 4]>::try_from(&head[24..28]).ok()?)),
        ),
        AF_INET6 => (
            IpAddr::V6(Ipv6Addr::from(<[u8; 16]>::try_from(&head[8..24]).ok()?)),
            IpAddr::V6(Ipv6Addr::from(<[u8; 16]>::try_from(&head[24..40]).ok()?)),
        ),
        _ => return None,
    };
    let cookie_lo = u32_ne(head, 44)?;
    let cookie_hi = u32_ne(head, 48)?;
    let mut socket = RawSocket {
        family,
        state: head[1],
        timer: head[2],
        retransmits: head[3],
        local: SocketAddr::new(local_ip, port_be(head, 4)?),
        remote: SocketAddr::new(remote_ip, port_be(head, 6)?),
        interface: u32_ne(head, 40)?,
        cookie: u64::from(cookie_hi) << 32 | u64::from(cookie_lo),
        expires_ms: u32_ne(head, 52)?,
        recv_queue: u32_ne(head, 56)?,
        send_queue: u32_ne(head, 60)?,
        uid: u32_ne(head, 64)?,
        inode: u32_ne(head, 68)?,
        v6only: None,
        tcp_info: None,
    };
    for (kind, data) in attributes(&msg[INET_DIAG_MSG_LEN..]) {
        match kind {
            INET_DIAG_SKV6ONLY => socket.v6only = data.first().map(|b| *b != 0),
            INET_DIAG_INFO => socket.tcp_info = Some(super::tcp_info::parse(data)),
            _ => {}
        }
    }
    Some(socket)
}

/// Iterates `struct rtattr`s (`len: u16, type: u16, data`, 4-byte aligned), stopping at the first one
/// whose length does not fit, so a truncated tail costs only itself.
pub(super) fn attributes(mut rest: &[u8]) -> impl Iterator<Item = (u16, &[u8])> {
    std::iter::from_fn(move || {
        let len = usize::from(u16_ne(rest, 0)?);
        let kind = u16_ne(rest, 2)? & 0x3fff; // drop NLA_F_NESTED / NLA_F_NET_BYTEORDER
        if len < 4 || len > rest.len() {
            rest = &[];
            return None;
        }
        let data = &rest[4..len];
        rest = rest.get(align4(len)..).unwrap_or(&[]);
        Some((kind, data))
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A hand-made `inet_diag_msg` for tests: IPv4 127.0.0.1:`sport` -> 127.0.0.1:`dport`.
    pub(crate) fn inet_msg(state: u8, sport: u16, dport: u16, attrs: &[(u16, &[u8])]) -> Vec<u8> {
        let mut m = vec![0u8; INET_DIAG_MSG_LEN];
        m[0] = AF_INET;
        m[1] = state;
        m[4..6].copy_from_slice(&sport.to_be_bytes());
        m[6..8].copy_from_slice(&dport.to_be_bytes());
        m[8..12].copy_from_slice(&[127, 0, 0, 1]);
        m[24..28].copy_from_slice(&[127, 0, 0, 1]);
        m[44..48].copy_from_slice(&0x0000_1234u32.to_ne_bytes());
        m[48..52].copy_from_slice(&0x0000_0001u32.to_ne_bytes());
        m[64..68].copy_from_slice(&1000u32.to_ne_bytes());
        m[68..72].copy_from_slice(&4242u32.to_ne_bytes());
        for (kind, data) in attrs {
            let len = 4 + data.len();
            m.extend_from_slice(&u16::try_from(len).unwrap().to_ne_bytes());
            m.extend_from_slice(&kind.to_ne_bytes());
            m.extend_from_slice(data);
            m.resize(align4(m.len()), 0);
        }
        m
    }

    /// Wraps payloads in netlink headers of `kind`.
    pub(crate) fn frame(parts: &[(u16, &[u8])]) -> Vec<u8> {
        let mut out = Vec::new();
        for (kind, payload) in parts {
            let len = NLMSG_HDRLEN + payload.len();
            out.extend_from_slice(&u32::try_from(len).unwrap().to_ne_bytes());
            out.extend_from_slice(&kind.to_ne_bytes());
            out.extend_from_slice(&2u16.to_ne_bytes());
            out.extend_from_slice(&[0; 8]);
            out.extend_from_slice(payload);
            out.resize(align4(out.len()), 0);
        }
        out
    }

    #[test]
    fn decodes_tuple_cookie_and_v6only() {
        let msg = inet_msg(1, 5432, 40112, &[(INET_DIAG_SKV6ONLY, &[1])]);
        let s = parse_inet_msg(&msg).unwrap();
        assert_eq!(s.local, "127.0.0.1:5432".parse().unwrap());
        assert_eq!(s.remote, "127.0.0.1:40112".parse().unwrap());
        assert_eq!(s.cookie, 0x1_0000_1234);
        assert_eq!((s.uid, s.inode, s.state), (1000, 4242, 1));
        assert_eq!(s.v6only, Some(true));
        assert_eq!(s.tcp_info, None);
    }

    #[test]
    fn unknown_and_truncated_attributes_are_skipped_not_fatal() {
        // An unknown attribute (type 99), then v6only, then an attribute claiming 200 bytes that are not
        // there: the socket survives with what could be read.
        let mut msg = inet_msg(10, 80, 0, &[(99, &[1, 2, 3]), (INET_DIAG_SKV6ONLY, &[0])]);
        msg.extend_from_slice(&200u16.to_ne_bytes());
        msg.extend_from_slice(&INET_DIAG_INFO.to_ne_bytes());
        msg.extend_from_slice(&[0; 8]);
        let s = parse_inet_msg(&msg).unwrap();
        assert_eq!(s.v6only, Some(false));
        assert_eq!(s.tcp_info, None);
        // An empty v6only attribute gives no value rather than a guess.
        let s = parse_inet_msg(&inet_msg(10, 80, 0, &[(INET_DIAG_SKV6ONLY, &[])])).unwrap();
        assert_eq!(s.v6only, None);
    }

    #[test]
    fn a_short_record_is_skipped_and_the_rest_of_the_dump_kept() {
        let good = inet_msg(1, 1, 2, &[]);
        let short = &good[..40];
        let other = inet_msg(10, 3, 0, &[]);
        let buf = frame(&[
            (SOCK_DIAG_BY_FAMILY, &good),
            (SOCK_DIAG_BY_FAMILY, short),
            (77, b"unknown message type"),
            (SOCK_DIAG_BY_FAMILY, &other),
            (NLMSG_DONE, &0i32.to_ne_bytes()),
        ]);
        let batch = parse_batch(&buf);
        assert_eq!(batch.sockets.len(), 2);
        assert_eq!(batch.skipped, 1);
        assert!(batch.done);
        assert_eq!(batch.error, None);
    }

    #[test]
    fn broken_framing_stops_without_panicking() {
        let good = inet_msg(1, 1, 2, &[]);
        let mut buf = frame(&[(SOCK_DIAG_BY_FAMILY, &good), (SOCK_DIAG_BY_FAMILY, &good)]);
        let second = align4(NLMSG_HDRLEN + good.len());
        buf[second..second + 4].copy_from_slice(&100_000u32.to_ne_bytes());
        let batch = parse_batch(&buf);
        assert_eq!(batch.sockets.len(), 1);
        assert_eq!(batch.skipped, 1);
        for cut in 0..buf.len() {
            let _ = parse_batch(&buf[..cut]);
        }
    }

    #[test]
    fn kernel_errors_are_reported_with_their_errno() {
        let buf = frame(&[(NLMSG_ERROR, &(-1i32).to_ne_bytes())]);
        let batch = parse_batch(&buf);
        assert_eq!(batch.error, Some(1)); // EPERM
        assert!(batch.done);
        let ack = parse_batch(&frame(&[(NLMSG_ERROR, &0i32.to_ne_bytes())]));
        assert_eq!(ack.error, None);
        let failed_dump = parse_batch(&frame(&[(NLMSG_DONE, &(-22i32).to_ne_bytes())]));
        assert_eq!(failed_dump.error, Some(22));
    }

    #[test]
    fn the_one_walk_tcp_request_is_the_older_struct() {
        let req = tcp_dump_request_both_families(3);
        assert_eq!(req.len(), 76);
        assert_eq!(u32_ne(&req, 0), Some(76));
        assert_eq!(u16_ne(&req, 4), Some(TCPDIAG_GETSOCK));
        assert_eq!((req[16], req[19]), (0, 2), "AF_UNSPEC, INET_DIAG_INFO");
        assert_eq!(u32_ne(&req, 16 + 52), Some(u32::MAX));
        let reply = frame(&[(TCPDIAG_GETSOCK, &inet_msg(1, 1, 2, &[]))]);
        assert_eq!(parse_batch(&reply).sockets.len(), 1);
    }

    #[test]
    fn request_asks_for_every_state_and_tcp_info() {
        let req = dump_request(AF_INET6, IPPROTO_TCP, 7);
        assert_eq!(req.len(), 72);
        assert_eq!(u32_ne(&req, 0), Some(72));
        assert_eq!(u16_ne(&req, 4), Some(SOCK_DIAG_BY_FAMILY));
        assert_eq!((req[16], req[17], req[18]), (AF_INET6, IPPROTO_TCP, 2));
        assert_eq!(u32_ne(&req, 20), Some(u32::MAX));
    }
}

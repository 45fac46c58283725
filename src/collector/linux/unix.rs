//! Unix domain sockets from the kernel's `unix_diag` (as `ss -x` reads them): path or abstract name,
//! type, state, inode, the peer's inode and queues. Parsed as defensively as the inet dump: unknown or
//! short attributes are skipped, a short record costs only itself.

use netlink_sys::{Socket, protocols::NETLINK_SOCK_DIAG};

use super::diag::{SOCK_DIAG_BY_FAMILY, attributes, message_header, u32_ne};
use super::dump_one;
use crate::collector::{CollectError, DumpError};
use crate::model::unix::{UnixSocket, UnixState, UnixType};

/// `AF_UNIX`.
const AF_UNIX: u8 = 1;
/// `NLM_F_REQUEST | NLM_F_DUMP`.
const DUMP_FLAGS: u16 = 0x1 | 0x300;
/// `sizeof(struct unix_diag_req)`.
const UNIX_DIAG_REQ_LEN: usize = 24;
/// `sizeof(struct unix_diag_msg)`.
const UNIX_DIAG_MSG_LEN: usize = 16;
/// `UDIAG_SHOW_NAME | UDIAG_SHOW_PEER | UDIAG_SHOW_RQLEN | UDIAG_SHOW_UID`.
const SHOW: u32 = 0x1 | 0x4 | 0x10 | 0x40;
/// Attribute types (`linux/unix_diag.h`).
const UNIX_DIAG_NAME: u16 = 0;
const UNIX_DIAG_PEER: u16 = 2;
const UNIX_DIAG_RQLEN: u16 = 4;
const UNIX_DIAG_UID: u16 = 7;

/// The request for every Unix socket, all states.
#[must_use]
pub fn unix_dump_request(seq: u32) -> Vec<u8> {
    let mut buf = message_header(UNIX_DIAG_REQ_LEN, SOCK_DIAG_BY_FAMILY, DUMP_FLAGS, seq);
    buf.extend_from_slice(&[AF_UNIX, 0, 0, 0]);
    buf.extend_from_slice(&u32::MAX.to_ne_bytes()); // every state
    buf.extend_from_slice(&0u32.to_ne_bytes()); // any inode
    buf.extend_from_slice(&SHOW.to_ne_bytes());
    buf.extend_from_slice(&[0xff; 8]); // no cookie
    buf
}

/// Decodes one `struct unix_diag_msg` and its attributes; `None` when it is short, not AF_UNIX, or of a
/// socket type Sockscope does not know.
#[must_use]
pub fn parse_unix_msg(msg: &[u8]) -> Option<UnixSocket> {
    let header = msg.get(..UNIX_DIAG_MSG_LEN)?;
    if header[0] != AF_UNIX {
        return None;
    }
    let mut socket = UnixSocket {
        kind: UnixType::from_kernel(header[1])?,
        state: UnixState::from_kernel(header[2]),
        path: None,
        inode: u32_ne(header, 4)?,
        peer_inode: None,
        recv_queue: None,
        send_queue: None,
        uid: None,
        pids: Vec::new(),
        netns: None,
    };
    for (kind, data) in attributes(msg.get(UNIX_DIAG_MSG_LEN..)?) {
        match kind {
            UNIX_DIAG_NAME => socket.path = path_of(data),
            UNIX_DIAG_PEER => socket.peer_inode = u32_ne(data, 0).filter(|i| *i != 0),
            UNIX_DIAG_RQLEN => {
                socket.recv_queue = u32_ne(data, 0);
                socket.send_queue = u32_ne(data, 4);
            }
            UNIX_DIAG_UID => socket.uid = u32_ne(data, 0),
            _ => {}
        }
    }
    Some(socket)
}

/// A bound name as people write it: a path, or `@name` for the abstract namespace (a leading NUL).
fn path_of(raw: &[u8]) -> Option<String> {
    match raw.split_first() {
        None => None,
        Some((0, rest)) => Some(format!("@{}", String::from_utf8_lossy(rest))),
        Some(_) => {
            let end = raw.iter().position(|b| *b == 0).unwrap_or(raw.len());
            Some(String::from_utf8_lossy(&raw[..end]).into_owned())
        }
    }
}

/// Dumps every Unix domain socket of this network namespace.
///
/// # Errors
/// When the kernel refuses the dump (no `unix_diag` module) or the netlink socket fails.
pub fn dump_unix() -> Result<Vec<UnixSocket>, CollectError> {
    let fail = |source| CollectError::SocketDump {
        table: "unix",
        source,
    };
    let mut socket = Socket::new(NETLINK_SOCK_DIAG).map_err(|e| fail(DumpError::Io(e)))?;
    socket.bind_auto().map_err(|e| fail(DumpError::Io(e)))?;
    let mut buf = Vec::with_capacity(1 << 16);
    let mut out = Vec::new();
    dump_one(
        &socket,
        &mut buf,
        &unix_dump_request(1),
        parse_unix_msg,
        &mut |s| {
            out.push(s);
        },
    )
    .map_err(fail)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(kind: u8, state: u8, inode: u32, attrs: &[(u16, &[u8])]) -> Vec<u8> {
        let mut m = vec![AF_UNIX, kind, state, 0];
        m.extend_from_slice(&inode.to_ne_bytes());
        m.extend_from_slice(&[0; 8]);
        for (t, data) in attrs {
            let len = u16::try_from(4 + data.len()).unwrap();
            m.extend_from_slice(&len.to_ne_bytes());
            m.extend_from_slice(&t.to_ne_bytes());
            m.extend_from_slice(data);
            m.resize(m.len().div_ceil(4) * 4, 0);
        }
        m
    }

    #[test]
    fn paths_abstract_names_peers_and_short_attributes() {
        let listener =
            parse_unix_msg(&msg(1, 10, 7, &[(UNIX_DIAG_NAME, b"/run/app.sock")])).unwrap();
        assert_eq!(
            (listener.kind, listener.state, listener.path.as_deref()),
            (UnixType::Stream, UnixState::Listen, Some("/run/app.sock"))
        );
        let abstract_name = parse_unix_msg(&msg(2, 7, 8, &[(UNIX_DIAG_NAME, b"\0bus")])).unwrap();
        assert_eq!(abstract_name.path.as_deref(), Some("@bus"));
        let peer = 9u32.to_ne_bytes();
        let connected = parse_unix_msg(&msg(1, 1, 10, &[(UNIX_DIAG_PEER, &peer)])).unwrap();
        assert_eq!((connected.path, connected.peer_inode), (None, Some(9)));
        let short = parse_unix_msg(&msg(1, 1, 11, &[(UNIX_DIAG_RQLEN, &[1, 2])])).unwrap();
        assert_eq!(short.recv_queue, None, "a short attribute is skipped");
        assert!(parse_unix_msg(&[AF_UNIX, 1, 1]).is_none(), "a short header");
        assert!(
            parse_unix_msg(&msg(3, 1, 12, &[])).is_none(),
            "SOCK_RAW is not a Unix type we list"
        );
    }
}

//! `struct tcp_info` (linux/tcp.h) read field by field from whatever length the kernel sent.
//!
//! The structure only ever grows at its end, so an older kernel sends a prefix of it. Each field is read
//! only when the bytes for it are present; a short structure gives `None` for the fields it lacks and
//! never costs the socket.

use super::diag::{u32_ne, u64_ne};
use crate::model::kernel::TcpInfo;

// Byte offsets in struct tcp_info (include/uapi/linux/tcp.h).
const RTO: usize = 8;
const LOST: usize = 32;
const RETRANS: usize = 36;
const RTT: usize = 68;
const RTTVAR: usize = 72;
const SND_CWND: usize = 80;
const TOTAL_RETRANS: usize = 100;
const BYTES_ACKED: usize = 120;
const BYTES_RECEIVED: usize = 128;
const MIN_RTT: usize = 148;
const DELIVERY_RATE: usize = 160;
const BYTES_SENT: usize = 200;

/// Reads the fields Sockscope shows from a raw `struct tcp_info` of any length.
#[must_use]
pub fn parse(raw: &[u8]) -> TcpInfo {
    TcpInfo {
        rtt_us: u32_ne(raw, RTT),
        rttvar_us: u32_ne(raw, RTTVAR),
        min_rtt_us: u32_ne(raw, MIN_RTT),
        rto_us: u32_ne(raw, RTO),
        retrans: u32_ne(raw, RETRANS),
        total_retrans: u32_ne(raw, TOTAL_RETRANS),
        lost: u32_ne(raw, LOST),
        snd_cwnd: u32_ne(raw, SND_CWND),
        bytes_sent: u64_ne(raw, BYTES_SENT),
        bytes_acked: u64_ne(raw, BYTES_ACKED),
        bytes_received: u64_ne(raw, BYTES_RECEIVED),
        delivery_rate: u64_ne(raw, DELIVERY_RATE),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(len: usize) -> Vec<u8> {
        let mut b = vec![0u8; len];
        let mut put32 = |at: usize, v: u32| {
            if at + 4 <= len {
                b[at..at + 4].copy_from_slice(&v.to_ne_bytes());
            }
        };
        put32(RTT, 250);
        put32(RTTVAR, 40);
        put32(SND_CWND, 10);
        put32(TOTAL_RETRANS, 3);
        let mut put64 = |at: usize, v: u64| {
            if at + 8 <= len {
                b[at..at + 8].copy_from_slice(&v.to_ne_bytes());
            }
        };
        put64(BYTES_ACKED, 1_000_000);
        put64(BYTES_RECEIVED, 2_000);
        put64(BYTES_SENT, 1_000_500);
        b
    }

    #[test]
    fn a_current_kernel_struct_gives_every_field() {
        let info = parse(&raw(248));
        assert_eq!(info.rtt_us, Some(250));
        assert_eq!(info.rttvar_us, Some(40));
        assert_eq!(info.snd_cwnd, Some(10));
        assert_eq!(info.total_retrans, Some(3));
        assert_eq!(info.bytes_acked, Some(1_000_000));
        assert_eq!(info.bytes_received, Some(2_000));
        assert_eq!(info.bytes_sent, Some(1_000_500));
        assert_eq!(info.delivery_rate, Some(0));
    }

    #[test]
    fn an_older_kernels_shorter_struct_gives_the_fields_it_has() {
        // Linux 4.6 sent 160 bytes: byte counters received/acked, no delivery rate, no bytes_sent.
        let info = parse(&raw(160));
        assert_eq!(info.rtt_us, Some(250));
        assert_eq!(info.bytes_acked, Some(1_000_000));
        assert_eq!(info.delivery_rate, None);
        assert_eq!(info.bytes_sent, None);
        // Linux 2.6 sent 104 bytes.
        let old = parse(&raw(104));
        assert_eq!(old.total_retrans, Some(3));
        assert_eq!(old.bytes_acked, None);
        // Nothing at all is still a socket, with no counters.
        assert_eq!(parse(&[]), TcpInfo::default());
    }
}

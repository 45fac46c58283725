//! The filter language of the tables: field terms, free text and negation, all of which must match.
//!
//! `port:443 proc:nginx !state:time_wait 10.0.` keeps nginx's sockets on port 443 (local or remote) that are
//! not in TIME_WAIT and mention `10.0.` anywhere. A value with spaces is quoted: `proc:"Web Content"`,
//! `proc:'tmux: server'`; every term the app writes for the user goes through [`term`], which quotes
//! when needed. Pure logic, no egui: it runs on the store thread.

use std::net::IpAddr;

use crate::model::join::OwnerFacts;
use crate::model::netns::NetNamespace;
use crate::model::port_class::PortClass;
use crate::model::socket::{Protocol, SocketEntry, SocketState, TcpState, UdpState};
use crate::model::unix::{UnixSocket, UnixState};
use crate::services::registry::Registry;

/// The field names understood, for hints and the help tooltip.
pub const FIELDS: &[(&str, &str)] = &[
    (
        "port",
        "local or remote port, a number or range: port:443, port:8000-8100",
    ),
    ("lport", "local port"),
    ("rport", "remote port"),
    ("proc", "process name contains: proc:firefox"),
    ("pid", "process id: pid:1234"),
    (
        "state",
        "TCP or UDP state, prefix allowed: state:listen, state:estab, state:time_wait, state:unconn",
    ),
    ("proto", "tcp or udp"),
    (
        "addr",
        "local or remote address; a full IP matches exactly, anything else as a prefix: addr:10.0.",
    ),
    (
        "svc",
        "service name of the local or remote port contains: svc:https",
    ),
    (
        "class",
        "RFC 6335 class of the local port: system, user, dynamic",
    ),
    ("user", "user name contains"),
    (
        "iface",
        "interface the socket is bound to (SO_BINDTODEVICE or link-local scope), exactly: iface:lo",
    ),
    (
        "host",
        "the peer's host name contains (with Names on): host:github.com",
    ),
    (
        "ns",
        "network namespace: host, a container (ns:docker, ns:web1) or its inode number",
    ),
];

/// What a filter reads about one row besides the socket itself: its owners, and its peer's host name
/// when names are looked up.
#[derive(Clone, Copy, Debug)]
pub struct RowFacts<'a> {
    /// The socket's owners and user.
    pub owners: &'a OwnerFacts,
    /// The peer's host name, when known.
    pub host: Option<&'a str>,
    /// The socket's network namespace, when recorded.
    pub namespace: Option<&'a NetNamespace>,
}

#[derive(Clone, Debug, PartialEq)]
enum Field {
    Port(u16, u16),
    LPort(u16, u16),
    RPort(u16, u16),
    Proc(String),
    Pid(u32),
    State(Vec<SocketState>),
    Proto(Protocol),
    AddrExact(IpAddr),
    AddrPrefix(String),
    Svc(String),
    Class(PortClass),
    User(String),
    Iface(String),
    Host(String),
    Namespace(String),
    Text(String),
}

#[derive(Clone, Debug, PartialEq)]
struct Term {
    negate: bool,
    field: Field,
}

/// A parsed filter. Terms that could not be parsed are left out and explained in [`Filter::hint`].
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Filter {
    terms: Vec<Term>,
    hint: Option<String>,
}

/// One word of filter text, quotes removed.
#[derive(Debug, Default, PartialEq)]
struct Word {
    text: String,
    /// Byte offset in `text` where quoted text began: a `!` or `:` from there on is part of a value.
    quoted_from: Option<usize>,
}

/// Splits filter text into words at whitespace outside quotes. A quote (`"` or `'`) anywhere in a word
/// groups up to the same quote; inside double quotes `\"` and `\\` stand for `"` and `\`. An unclosed
/// quote runs to the end.
fn words(text: &str) -> Vec<Word> {
    let mut out = Vec::new();
    let mut word = Word::default();
    let mut in_word = false;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' | '\'' => {
                in_word = true;
                word.quoted_from.get_or_insert(word.text.len());
                while let Some(q) = chars.next() {
                    match q {
                        _ if q == c => break,
                        '\\' if c == '"' => {
                            if let Some(escaped) = chars.next() {
                                word.text.push(escaped);
                            }
                        }
                        _ => word.text.push(q),
                    }
                }
            }
            _ if c.is_whitespace() => {
                if in_word {
                    out.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            _ => {
                in_word = true;
                word.text.push(c);
            }
        }
    }
    if in_word {
        out.push(word);
    }
    out
}

/// The filter term `field:value`, quoted when the value needs it, so that [`Filter::parse`] reads back
/// exactly `value`: `term("proc", "Web Content")` is `proc:"Web Content"`.
#[must_use]
pub fn term(field: &str, value: &str) -> String {
    let plain = !value.is_empty()
        && !value
            .chars()
            .any(|c| c.is_whitespace() || c == '"' || c == '\'' || c == '\\');
    if plain {
        return format!("{field}:{value}");
    }
    let escaped = value.replace('\\', "\\\\").replace('"', "\\\"");
    format!("{field}:\"{escaped}\"")
}

fn parse_ports(value: &str) -> Option<(u16, u16)> {
    match value.split_once('-') {
        Some((a, b)) => {
            let (a, b) = (a.trim().parse().ok()?, b.trim().parse().ok()?);
            (a <= b).then_some((a, b))
        }
        None => value.parse().ok().map(|p| (p, p)),
    }
}

/// States a `state:` term names: an exact TCP or UDP name (with `ss` spellings: `estab`, `syn-recv`,
/// `unconn`), else every state whose name starts with it (`state:fin` = both FIN_WAITs).
fn parse_states(value: &str) -> Vec<SocketState> {
    if let Some(exact) = TcpState::parse(value) {
        return vec![SocketState::Tcp(exact)];
    }
    if let Some(exact) = UdpState::parse(value).filter(|_| !value.eq_ignore_ascii_case("estab")) {
        return vec![SocketState::Udp(exact)];
    }
    let norm = value.to_ascii_uppercase().replace('-', "_");
    TcpState::ALL
        .into_iter()
        .map(SocketState::Tcp)
        .chain([UdpState::Connected, UdpState::Unconnected].map(SocketState::Udp))
        .filter(|s| s.as_str().starts_with(&norm))
        .collect()
}

impl Filter {
    /// Parses filter text. Never fails: what it does not understand becomes a hint.
    #[must_use]
    pub fn parse(text: &str) -> Self {
        let mut filter = Self::default();
        let mut problems = Vec::new();
        for raw in words(text) {
            let quoted_from = raw.quoted_from.unwrap_or(raw.text.len());
            let (negate, word, quoted_from) = match raw.text.strip_prefix('!') {
                Some(rest) if quoted_from > 0 => (true, rest, quoted_from - 1),
                _ => (false, raw.text.as_str(), quoted_from),
            };
            if word.is_empty() {
                continue;
            }
            // A `:` inside quotes belongs to the value (`"a:b"` is free text).
            let split = word.find(':').filter(|at| *at < quoted_from);
            let field = match split.map(|at| (&word[..at], &word[at + 1..])) {
                // An IPv6 address or `host:port` is free text, not a field.
                Some((name, value))
                    if name.chars().all(|c| c.is_ascii_alphabetic()) && !name.is_empty() =>
                {
                    match Self::parse_field(&name.to_ascii_lowercase(), value) {
                        Ok(f) => f,
                        Err(p) => {
                            problems.push(p);
                            continue;
                        }
                    }
                }
                _ => Field::Text(word.to_lowercase()),
            };
            filter.terms.push(Term { negate, field });
        }
        if !problems.is_empty() {
            filter.hint = Some(problems.join("; "));
        }
        filter
    }

    fn parse_field(name: &str, value: &str) -> Result<Field, String> {
        let bad_port =
            || format!("{name}:{value} — expected a port 0-65535 or a range like 8000-8100");
        let field = match name {
            "port" => parse_ports(value)
                .map(|(a, b)| Field::Port(a, b))
                .ok_or_else(bad_port)?,
            "lport" => parse_ports(value)
                .map(|(a, b)| Field::LPort(a, b))
                .ok_or_else(bad_port)?,
            "rport" => parse_ports(value)
                .map(|(a, b)| Field::RPort(a, b))
                .ok_or_else(bad_port)?,
            "proc" | "process" => Field::Proc(value.to_lowercase()),
            "pid" => Field::Pid(
                value
                    .parse()
                    .map_err(|_| format!("pid:{value} — expected a number"))?,
            ),
            "state" => {
                let states = parse_states(value);
                if states.is_empty() {
                    return Err(format!(
                        "state:{value} — no TCP or UDP state starts with that (listen, estab, time_wait, unconn…)"
                    ));
                }
                Field::State(states)
            }
            "proto" => match Protocol::parse(value) {
                Some(p) => Field::Proto(p),
                None => return Err(format!("proto:{value} — expected tcp or udp")),
            },
            "addr" => match value.trim_matches(['[', ']']).parse::<IpAddr>() {
                Ok(ip) => Field::AddrExact(ip),
                Err(_) => Field::AddrPrefix(value.to_ascii_lowercase()),
            },
            "svc" | "service" => Field::Svc(value.to_lowercase()),
            "class" => Field::Class(
                PortClass::parse(value)
                    .ok_or_else(|| format!("class:{value} — expected system, user or dynamic"))?,
            ),
            "user" => Field::User(value.to_lowercase()),
            "iface" | "dev" => Field::Iface(value.to_lowercase()),
            "host" => Field::Host(value.to_lowercase()),
            "ns" | "netns" => Field::Namespace(value.to_lowercase()),
            other => {
                let known: Vec<&str> = FIELDS.iter().map(|(n, _)| *n).collect();
                return Err(format!(
                    "unknown field \"{other}\" — try {}",
                    known.join(", ")
                ));
            }
        };
        Ok(field)
    }

    /// What could not be understood, if anything, for a hint under the filter box.
    #[must_use]
    pub fn hint(&self) -> Option<&str> {
        self.hint.as_deref()
    }

    /// True when the filter keeps everything.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }

    /// True when `socket`, with the row's `facts`, passes every term.
    #[must_use]
    pub fn matches(&self, socket: &SocketEntry, facts: RowFacts<'_>, registry: &Registry) -> bool {
        self.terms
            .iter()
            .all(|t| Self::term_matches(&t.field, socket, facts, registry) != t.negate)
    }

    fn term_matches(
        field: &Field,
        s: &SocketEntry,
        facts: RowFacts<'_>,
        registry: &Registry,
    ) -> bool {
        let owners = facts.owners;
        let lport = s.local.port();
        let rport = s.peer().map(|r| r.port());
        let in_range = |p: u16, a: u16, b: u16| (a..=b).contains(&p);
        match field {
            Field::Port(a, b) => {
                in_range(lport, *a, *b) || rport.is_some_and(|p| in_range(p, *a, *b))
            }
            Field::LPort(a, b) => in_range(lport, *a, *b),
            Field::RPort(a, b) => rport.is_some_and(|p| in_range(p, *a, *b)),
            Field::Proc(name) => owners.names_lower.iter().any(|n| n.contains(name.as_str())),
            Field::Pid(pid) => s.pids.contains(pid),
            Field::State(states) => states.contains(&s.state),
            Field::Proto(p) => s.protocol == *p,
            Field::Iface(name) => s
                .details
                .interface
                .as_deref()
                .is_some_and(|i| i.to_lowercase() == *name),
            Field::AddrExact(ip) => s.local.ip() == *ip || s.remote.is_some_and(|r| r.ip() == *ip),
            Field::AddrPrefix(prefix) => {
                s.local.ip().to_string().starts_with(prefix.as_str())
                    || s.remote
                        .is_some_and(|r| r.ip().to_string().starts_with(prefix.as_str()))
            }
            Field::Svc(name) => {
                registry
                    .name(lport, s.protocol)
                    .to_lowercase()
                    .contains(name.as_str())
                    || rport.is_some_and(|p| {
                        registry
                            .name(p, s.protocol)
                            .to_lowercase()
                            .contains(name.as_str())
                    })
            }
            Field::Class(class) => PortClass::of(lport) == *class,
            Field::User(user) => owners
                .user
                .as_deref()
                .is_some_and(|u| u.to_lowercase().contains(user.as_str())),
            Field::Host(name) => facts
                .host
                .is_some_and(|h| h.to_lowercase().contains(name.as_str())),
            Field::Namespace(value) => facts.namespace.is_some_and(|ns| ns.matches(value)),
            Field::Text(text) => haystack(s, facts, registry).contains(text.as_str()),
        }
    }
}

/// What the filter reads about one Unix socket besides the socket itself.
#[derive(Clone, Copy, Debug)]
pub struct UnixFacts<'a> {
    /// Its owners as lists show them, lowercased (`dbus-daemon[812]`).
    pub owners_lower: &'a str,
    /// Its user's name, lowercased.
    pub user_lower: Option<&'a str>,
    /// Its network namespace, when recorded.
    pub namespace: Option<&'a NetNamespace>,
}

impl Filter {
    /// True when Unix socket `u` passes every term. Terms about ports, addresses, services, interfaces
    /// and peers' host names never match a Unix socket: it has none of them. `state:` matches the Unix
    /// state the TCP or UDP state words stand for (`state:listen`, `state:conn`, `state:unconn`).
    #[must_use]
    pub fn matches_unix(&self, u: &UnixSocket, facts: UnixFacts<'_>) -> bool {
        self.terms
            .iter()
            .all(|t| Self::unix_term_matches(&t.field, u, facts) != t.negate)
    }

    fn unix_term_matches(field: &Field, u: &UnixSocket, facts: UnixFacts<'_>) -> bool {
        match field {
            Field::Proc(name) => facts.owners_lower.contains(name.as_str()),
            Field::Pid(pid) => u.pids.contains(pid),
            Field::State(states) => states.iter().any(|s| unix_state_of(*s) == Some(u.state)),
            Field::User(user) => facts.user_lower.is_some_and(|n| n.contains(user.as_str())),
            Field::Namespace(value) => facts.namespace.is_some_and(|ns| ns.matches(value)),
            Field::Text(text) => {
                let haystack = format!("{u} {}", facts.owners_lower).to_lowercase();
                haystack.contains(text.as_str())
            }
            _ => false,
        }
    }
}

/// The Unix state a TCP or UDP state word stands for in a filter.
fn unix_state_of(state: SocketState) -> Option<UnixState> {
    match state {
        SocketState::Tcp(TcpState::Listen) => Some(UnixState::Listen),
        SocketState::Tcp(TcpState::Established) | SocketState::Udp(UdpState::Connected) => {
            Some(UnixState::Connected)
        }
        SocketState::Tcp(TcpState::SynSent) => Some(UnixState::Connecting),
        SocketState::Udp(UdpState::Unconnected) | SocketState::Tcp(TcpState::Closed) => {
            Some(UnixState::Unconnected)
        }
        _ => None,
    }
}

/// Everything a row shows, lowercased, for free-text search.
fn haystack(s: &SocketEntry, facts: RowFacts<'_>, registry: &Registry) -> String {
    let owners = facts.owners;
    use std::fmt::Write as _;
    let mut h = String::with_capacity(96);
    let _ = write!(h, "{} {} {}", s.protocol, s.local.ip(), s.local.port());
    if let Some(r) = s.remote {
        let _ = write!(
            h,
            " {} {} {}",
            r.ip(),
            r.port(),
            registry.name(r.port(), s.protocol)
        );
    }
    let _ = write!(h, " {}", s.state);
    for pid in &s.pids {
        let _ = write!(h, " {pid}");
    }
    let _ = write!(
        h,
        " {} {} {} {}",
        owners.process,
        owners.user.as_deref().unwrap_or(""),
        registry.name(s.local.port(), s.protocol),
        facts.host.unwrap_or("")
    );
    h.to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::snapshot::Snapshot;
    use chrono::Utc;
    use std::collections::BTreeMap;

    fn mk(proto: Protocol, l: &str, r: Option<&str>, st: SocketState, pid: u32) -> SocketEntry {
        SocketEntry::new(proto, l.parse().unwrap(), r.map(|r| r.parse().unwrap()), st)
            .with_inode(pid)
            .with_uid(0)
            .with_pids(vec![pid])
    }

    /// A postgres listener and both ends of a psql connection to it, a firefox TIME_WAIT, a dnsmasq UDP
    /// socket and a dig query bound to `lo`.
    fn sockets() -> Vec<SocketEntry> {
        let mut sockets = vec![
            mk(
                Protocol::Tcp,
                "0.0.0.0:5432",
                Some("0.0.0.0:0"),
                SocketState::Tcp(TcpState::Listen),
                1,
            ),
            mk(
                Protocol::Tcp,
                "127.0.0.1:5432",
                Some("127.0.0.1:40112"),
                SocketState::Tcp(TcpState::Established),
                1,
            ),
            mk(
                Protocol::Tcp,
                "127.0.0.1:40112",
                Some("127.0.0.1:5432"),
                SocketState::Tcp(TcpState::Established),
                2,
            ),
            mk(
                Protocol::Tcp,
                "10.0.0.2:51000",
                Some("10.0.0.10:443"),
                SocketState::Tcp(TcpState::TimeWait),
                3,
            ),
            mk(
                Protocol::Udp,
                "[::]:53",
                None,
                SocketState::Udp(UdpState::Unconnected),
                4,
            ),
            mk(
                Protocol::Udp,
                "127.0.0.1:41684",
                Some("127.0.0.53:53"),
                SocketState::Udp(UdpState::Connected),
                5,
            ),
        ];
        sockets[5].details.interface = Some("lo".into());
        sockets
    }

    fn snap() -> Snapshot {
        let mut s = Snapshot::empty("h", Utc::now());
        s.sockets = sockets();
        let mut processes = BTreeMap::new();
        for (pid, name) in [
            (1, "postgres"),
            (2, "psql"),
            (3, "firefox"),
            (4, "dnsmasq"),
            (5, "dig"),
        ] {
            processes.insert(pid, crate::model::snapshot::ProcessInfo::named(pid, name));
        }
        s.processes = processes;
        // dnsmasq runs in a container's namespace, everything else on the host.
        for (inode, host, container) in [(1, true, None), (2, false, Some("lxc dns1"))] {
            let ns = crate::model::netns::NetNamespace::listed(inode, host, container);
            s.namespaces.insert(inode, ns);
        }
        for (i, socket) in s.sockets.iter_mut().enumerate() {
            socket.netns = Some(if i == 4 { 2 } else { 1 });
        }
        s
    }

    fn kept(text: &str) -> Vec<usize> {
        let s = snap();
        let f = Filter::parse(text);
        let r = Registry::from_iana_tsv(crate::services::registry::IANA_TSV).unwrap();
        let joined = crate::model::join::Joined::of(&s, &[], None);
        (0..s.sockets.len())
            .filter(|i| {
                let facts = RowFacts {
                    owners: joined.live(*i).unwrap(),
                    host: None,
                    namespace: s.namespace(s.sockets[*i].netns),
                };
                f.matches(&s.sockets[*i], facts, &r)
            })
            .collect()
    }

    #[test]
    fn namespace_terms() {
        assert_eq!(kept("ns:dns1"), vec![4]);
        assert_eq!(kept("ns:LXC"), vec![4]);
        assert_eq!(kept("ns:2"), vec![4]);
        assert_eq!(kept("!ns:host"), vec![4]);
        assert_eq!(kept("ns:host"), vec![0, 1, 2, 3, 5]);
        assert_eq!(kept("ns:docker"), Vec::<usize>::new());
    }

    #[test]
    fn field_terms() {
        assert_eq!(kept("port:5432"), vec![0, 1, 2]);
        assert_eq!(kept("lport:5432"), vec![0, 1]);
        assert_eq!(kept("rport:5432"), vec![2]);
        assert_eq!(kept("proc:POST"), vec![0, 1]);
        assert_eq!(kept("pid:3"), vec![3]);
        assert_eq!(kept("state:listen"), vec![0]);
        assert_eq!(kept("state:estab"), vec![1, 2]);
        assert_eq!(kept("state:time-wait"), vec![3]);
        assert_eq!(kept("proto:udp"), vec![4, 5]);
        assert_eq!(
            kept("state:unconn"),
            vec![4],
            "ss spelling of an unconnected UDP socket"
        );
        assert_eq!(kept("state:connected"), vec![5]);
        assert_eq!(kept("iface:LO"), vec![5]);
        assert_eq!(
            kept("rport:53"),
            vec![5],
            "a connected UDP socket has a peer"
        );
        assert_eq!(kept("addr:10.0.0.10"), vec![3]);
        assert_eq!(kept("addr:10.0."), vec![3]);
        assert_eq!(kept("addr:::"), vec![4]);
        assert_eq!(kept("svc:https"), vec![3]);
        assert_eq!(kept("class:dynamic"), vec![3]);
        assert_eq!(kept("port:400-50000"), vec![0, 1, 2, 3, 5]);
    }

    #[test]
    fn negation_combination_and_free_text() {
        assert_eq!(kept("port:5432 !state:listen"), vec![1, 2]);
        assert_eq!(kept("!proto:tcp"), vec![4, 5]);
        assert_eq!(kept("firefox"), vec![3]);
        assert_eq!(
            kept("postgresql"),
            vec![0, 1, 2],
            "service names are searchable"
        );
        assert_eq!(kept(""), vec![0, 1, 2, 3, 4, 5]);
    }

    #[test]
    fn unknown_fields_and_bad_values_give_hints_and_are_ignored() {
        let f = Filter::parse("colour:red port:99999 state:zzz");
        let hint = f.hint().unwrap();
        assert!(hint.contains("unknown field \"colour\""), "{hint}");
        assert!(hint.contains("port:99999"), "{hint}");
        assert!(hint.contains("state:zzz"), "{hint}");
        assert!(f.is_empty());
        assert_eq!(kept("colour:red"), vec![0, 1, 2, 3, 4, 5]);
    }

    #[test]
    fn never_panics_on_odd_input() {
        for text in [
            "!",
            "!!",
            ":",
            "port:",
            "port:-",
            "port:5-",
            "addr:[",
            "::1",
            "é:ü",
            "pid:-1",
            "\u{0}",
            "port:65535-0",
        ] {
            let _ = kept(text);
        }
    }

    #[test]
    fn quoted_values_keep_their_spaces_colons_and_quotes() {
        let proc = |v: &str| Filter {
            terms: vec![Term {
                negate: false,
                field: Field::Proc(v.to_lowercase()),
            }],
            hint: None,
        };
        assert_eq!(Filter::parse("proc:\"Web Content\""), proc("Web Content"));
        assert_eq!(Filter::parse("proc:'tmux: server'"), proc("tmux: server"));
        assert_eq!(
            Filter::parse(&term("proc", "Web Content")),
            proc("Web Content")
        );
        assert_eq!(
            term("proc", "nginx"),
            "proc:nginx",
            "plain values stay unquoted"
        );
        let odd = r#"say "hi" \ 'there'"#;
        assert_eq!(Filter::parse(&term("proc", odd)), proc(odd));
        let two = Filter::parse("!proc:\"Web Content\" port:443");
        assert_eq!(two.terms.len(), 2);
        assert!(two.terms[0].negate);
        assert_eq!(
            Filter::parse("\"a:b\"").terms[0].field,
            Field::Text("a:b".to_owned()),
            "a quoted colon is text, not a field"
        );
        assert!(
            !Filter::parse("\"!x\"").terms[0].negate,
            "a quoted ! is text"
        );
    }

    proptest::proptest! {
        #[test]
        fn parse_never_panics(text in "\\PC*") {
            let _ = Filter::parse(&text);
        }

        #[test]
        fn a_written_term_reads_back_exactly(value in "\\PC{1,30}") {
            let parsed = Filter::parse(&term("proc", &value));
            proptest::prop_assert_eq!(parsed.terms.len(), 1);
            proptest::prop_assert_eq!(&parsed.terms[0].field, &Field::Proc(value.to_lowercase()));
        }
    }
}

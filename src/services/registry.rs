//! What a port number is registered for: IANA's registry, overlaid with the local `/etc/services`.
//!
//! The IANA table is compiled into the binary (`assets/services/iana-ports.tsv`, see its PROVENANCE) and
//! parsed once on first use. IANA's service name is the name shown (RFC 6335 §5: 80/tcp is `http`, with
//! aliases `www` and `www-http`); a different name in this machine's `/etc/services` is kept beside it,
//! and names only `/etc/services` knows fill ports IANA leaves unnamed.

use std::collections::HashMap;
use std::sync::OnceLock;

use crate::model::port_class::PortClass;
use crate::model::socket::Protocol;

/// The IANA data shipped with the binary.
pub const IANA_TSV: &str = include_str!("../../assets/services/iana-ports.tsv");

/// What the registry knows about one (port, protocol).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ServiceInfo {
    /// IANA's service name, or the local `/etc/services` name where IANA has none; may be empty.
    pub name: String,
    /// IANA's aliases for the same assignment (80/tcp: `www`, `www-http`).
    pub aliases: Vec<String>,
    /// This machine's `/etc/services` name, when it differs from `name` and the aliases.
    pub local_name: Option<String>,
    /// True when `name` is IANA's; false when only `/etc/services` names the port.
    pub from_iana: bool,
    /// IANA's description, e.g. "The Secure Shell (SSH) Protocol".
    pub description: String,
}

/// A port as explained to a person: number, protocol, class and registered service.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PortInfo {
    /// The port number.
    pub port: u16,
    /// The number space it belongs to.
    pub protocol: Protocol,
    /// RFC 6335 range class.
    pub class: PortClass,
    /// Registered service, if any.
    pub service: Option<ServiceInfo>,
}

impl PortInfo {
    /// The service name, or `""` when none is registered.
    #[must_use]
    pub fn service_name(&self) -> &str {
        self.service.as_ref().map_or("", |s| s.name.as_str())
    }
}

/// A problem found while parsing a registry table.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RegistryError {
    /// A line that is not `port<TAB>proto<TAB>name<TAB>description`.
    #[error("line {line}: {reason}")]
    BadLine {
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        reason: String,
    },
    /// The same (port, protocol) twice.
    #[error("line {line}: duplicate entry {port}/{protocol}")]
    Duplicate {
        /// 1-based line number of the second occurrence.
        line: usize,
        /// Port number.
        port: u16,
        /// Protocol.
        protocol: Protocol,
    },
}

/// Port number → service lookup for TCP and UDP.
#[derive(Clone, Debug, Default)]
pub struct Registry {
    entries: HashMap<(u16, Protocol), ServiceInfo>,
    /// Whether a local `/etc/services` was laid over IANA's table.
    with_local: bool,
}

impl Registry {
    /// Parses the IANA table format (`port<TAB>proto<TAB>name<TAB>description`, `#` comments), rejecting
    /// malformed lines and duplicate keys.
    ///
    /// # Errors
    /// The first bad or duplicate line.
    pub fn from_iana_tsv(text: &str) -> Result<Self, RegistryError> {
        let mut entries = HashMap::new();
        for (i, line) in text.lines().enumerate() {
            let line_no = i + 1;
            if line.starts_with('#') || line.trim().is_empty() {
                continue;
            }
            let bad = |reason: &str| RegistryError::BadLine {
                line: line_no,
                reason: reason.to_owned(),
            };
            let mut fields = line.splitn(5, '\t');
            let port: u16 = fields
                .next()
                .and_then(|p| p.parse().ok())
                .ok_or_else(|| bad("port is not a number from 0 to 65535"))?;
            let protocol = fields
                .next()
                .and_then(Protocol::parse)
                .ok_or_else(|| bad("protocol is not tcp or udp"))?;
            let name = fields.next().ok_or_else(|| bad("missing name"))?;
            let description = fields.next().ok_or_else(|| bad("missing description"))?;
            let aliases = fields
                .next()
                .unwrap_or_default()
                .split(',')
                .filter(|a| !a.is_empty())
                .map(str::to_owned)
                .collect();
            let info = ServiceInfo {
                name: name.to_owned(),
                aliases,
                local_name: None,
                from_iana: !name.is_empty(),
                description: description.to_owned(),
            };
            if entries.insert((port, protocol), info).is_some() {
                return Err(RegistryError::Duplicate {
                    line: line_no,
                    port,
                    protocol,
                });
            }
        }
        Ok(Self {
            entries,
            with_local: false,
        })
    }

    /// Lays `/etc/services` text over the registry: a local name fills a port IANA leaves unnamed and is
    /// kept beside IANA's name where it differs. Malformed lines are skipped, as libc's `getservent` does.
    pub fn overlay_etc_services(&mut self, text: &str) {
        self.with_local = true;
        for line in text.lines() {
            let content = line.split('#').next().unwrap_or_default();
            let mut fields = content.split_whitespace();
            let (Some(name), Some(port_proto)) = (fields.next(), fields.next()) else {
                continue;
            };
            let Some((port, proto)) = port_proto.split_once('/') else {
                continue;
            };
            let (Ok(port), Some(protocol)) = (port.parse::<u16>(), Protocol::parse(proto)) else {
                continue;
            };
            let entry = self.entries.entry((port, protocol)).or_default();
            // /etc/services lists the canonical name first; later lines for the same key are aliases.
            if entry.name.is_empty() {
                entry.name = name.to_owned();
            } else if entry.local_name.is_none()
                && entry.name != name
                && !entry.aliases.iter().any(|a| a == name)
            {
                entry.local_name = Some(name.to_owned());
            }
        }
    }

    /// The registry every part of the app uses: IANA's table plus this machine's `/etc/services`.
    /// Parsed on first use; a broken `/etc/services` only loses the local names.
    #[must_use]
    pub fn global() -> &'static Self {
        static GLOBAL: OnceLock<Registry> = OnceLock::new();
        GLOBAL.get_or_init(|| {
            // The shipped table is checked by tests; if it were ever corrupt, an empty registry (no names)
            // is better than a crash.
            let mut registry = Self::from_iana_tsv(IANA_TSV).unwrap_or_default();
            if let Ok(text) = std::fs::read_to_string("/etc/services") {
                registry.overlay_etc_services(&text);
            }
            registry
        })
    }

    /// Where the names come from, for a report's footer.
    #[must_use]
    pub fn sources(&self) -> &'static str {
        if self.with_local {
            "IANA Service Name and Transport Protocol Port Number Registry, with the /etc/services of the \
             machine that wrote this report"
        } else {
            "IANA Service Name and Transport Protocol Port Number Registry"
        }
    }

    /// Number of (port, protocol) entries.
    #[must_use]
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when nothing is registered.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The registered service for `port` in `protocol`'s number space.
    #[must_use]
    pub fn service(&self, port: u16, protocol: Protocol) -> Option<&ServiceInfo> {
        self.entries
            .get(&(port, protocol))
            .filter(|s| !s.name.is_empty() || !s.description.is_empty())
    }

    /// Everything known about a port.
    #[must_use]
    pub fn lookup(&self, port: u16, protocol: Protocol) -> PortInfo {
        PortInfo {
            port,
            protocol,
            class: PortClass::of(port),
            service: self.service(port, protocol).cloned(),
        }
    }

    /// The display name for a port (`""` when none), without cloning.
    #[must_use]
    pub fn name(&self, port: u16, protocol: Protocol) -> &str {
        self.service(port, protocol).map_or("", |s| s.name.as_str())
    }
}

impl Registry {
    /// The Service cell of socket `s`: its local port's registered name, or nothing when the kernel
    /// picked that port for it ([`crate::model::side::kernel_picked`] says so as `picked`).
    #[must_use]
    pub fn local_service(&self, s: &crate::model::socket::SocketEntry, picked: bool) -> &str {
        if picked {
            ""
        } else {
            self.name(s.local.port(), s.protocol)
        }
    }
}

impl crate::model::side::PortNames for Registry {
    fn is_registered(&self, port: u16, protocol: Protocol) -> bool {
        !self.name(port, protocol).is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_registry_is_complete_and_has_no_duplicates() {
        let r = Registry::from_iana_tsv(IANA_TSV).expect("shipped table parses without duplicates");
        assert_eq!(r.len(), 12_240);
        let named = r.entries.values().filter(|s| !s.name.is_empty()).count();
        assert_eq!(named, 11_391);
        assert!(
            r.entries
                .keys()
                .all(|(_, p)| matches!(p, Protocol::Tcp | Protocol::Udp))
        );
    }

    #[test]
    fn known_entries() {
        let r = Registry::from_iana_tsv(IANA_TSV).unwrap();
        assert_eq!(r.name(22, Protocol::Tcp), "ssh");
        assert_eq!(r.name(53, Protocol::Udp), "domain");
        assert_eq!(r.name(443, Protocol::Tcp), "https");
        assert_eq!(r.name(5432, Protocol::Tcp), "postgresql");
        assert_eq!(
            r.service(5432, Protocol::Tcp).unwrap().description,
            "PostgreSQL Database"
        );
        assert_eq!(r.lookup(5432, Protocol::Tcp).class, PortClass::User);
    }

    #[test]
    fn duplicates_and_bad_lines_are_rejected() {
        let dup = "22\ttcp\tssh\tSSH\n22\ttcp\tssh2\tSSH again\n";
        assert_eq!(
            Registry::from_iana_tsv(dup).unwrap_err(),
            RegistryError::Duplicate {
                line: 2,
                port: 22,
                protocol: Protocol::Tcp
            }
        );
        assert!(matches!(
            Registry::from_iana_tsv("70000\ttcp\tx\ty\n"),
            Err(RegistryError::BadLine { line: 1, .. })
        ));
        assert!(matches!(
            Registry::from_iana_tsv("1\tsctp\tx\ty\n"),
            Err(RegistryError::BadLine { .. })
        ));
    }

    #[test]
    fn iana_primary_names_come_first_with_their_aliases() {
        let r = Registry::from_iana_tsv(IANA_TSV).unwrap();
        let http = r.service(80, Protocol::Tcp).unwrap();
        assert_eq!(http.name, "http", "IANA's service name for 80/tcp");
        assert_eq!(http.aliases, vec!["www", "www-http"]);
        assert_eq!(r.name(42, Protocol::Tcp), "name");
        let ports_with_aliases = r.entries.values().filter(|s| !s.aliases.is_empty()).count();
        assert_eq!(ports_with_aliases, 190);
    }

    #[test]
    fn local_names_fill_gaps_and_sit_beside_iana_names() {
        let mut r = Registry::from_iana_tsv(IANA_TSV).unwrap();
        r.overlay_etc_services(
            "http\t\t80/tcp\t\twww  # WorldWideWeb HTTP\nbroken line\nmyapp 4\ttcp\nmyapp 4/tcp\nwebcache 8080/tcp\n",
        );
        let http = r.service(80, Protocol::Tcp).unwrap();
        assert_eq!(http.name, "http");
        assert_eq!(http.local_name, None, "the local name is IANA's");
        assert_eq!(http.description, "World Wide Web HTTP");
        assert_eq!(
            r.name(4, Protocol::Tcp),
            "myapp",
            "IANA leaves 4/tcp unnamed"
        );
        let alt = r.service(8080, Protocol::Tcp).unwrap();
        assert_eq!(alt.name, "http-alt");
        assert_eq!(alt.local_name.as_deref(), Some("webcache"));
        // UDP is a separate number space: the TCP overlay does not touch it.
        assert_eq!(r.service(8080, Protocol::Udp).unwrap().local_name, None);
    }
}

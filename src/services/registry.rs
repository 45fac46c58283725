//! What a port number is registered for: IANA's registry, overlaid with the local `/etc/services`.
//!
//! The IANA table is compiled into the binary (`assets/services/iana-ports.tsv`, see its PROVENANCE) and
//! parsed once on first use. Local names win for display because they are what `ss` and `netstat` print
//! on this machine (80/tcp is `http` locally, `www-http` at IANA); IANA's descriptions stay because
//! `/etc/services` has none.

use std::collections::HashMap;
use std::sync::OnceLock;

use crate::model::port_class::PortClass;
use crate::model::socket::Protocol;

/// The IANA data shipped with the binary.
pub const IANA_TSV: &str = include_str!("../../assets/services/iana-ports.tsv");

/// What the registry knows about one (port, protocol).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceInfo {
    /// Service name for display (local name when `/etc/services` has one, else IANA's); may be empty.
    pub name: String,
    /// IANA's service name, when it has one and it differs from `name`.
    pub iana_name: Option<String>,
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
}

fn parse_protocol(text: &str) -> Option<Protocol> {
    match text {
        "tcp" => Some(Protocol::Tcp),
        "udp" => Some(Protocol::Udp),
        _ => None,
    }
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
            let mut fields = line.splitn(4, '\t');
            let port: u16 = fields
                .next()
                .and_then(|p| p.parse().ok())
                .ok_or_else(|| bad("port is not a number from 0 to 65535"))?;
            let protocol = fields
                .next()
                .and_then(parse_protocol)
                .ok_or_else(|| bad("protocol is not tcp or udp"))?;
            let name = fields.next().ok_or_else(|| bad("missing name"))?;
            let description = fields.next().ok_or_else(|| bad("missing description"))?;
            let info = ServiceInfo {
                name: name.to_owned(),
                iana_name: None,
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
        Ok(Self { entries })
    }

    /// Lays `/etc/services` text over the registry: its names win for display, IANA's description and name
    /// stay. Malformed lines are skipped, as libc's `getservent` does.
    pub fn overlay_etc_services(&mut self, text: &str) {
        for line in text.lines() {
            let content = line.split('#').next().unwrap_or_default();
            let mut fields = content.split_whitespace();
            let (Some(name), Some(port_proto)) = (fields.next(), fields.next()) else {
                continue;
            };
            let Some((port, proto)) = port_proto.split_once('/') else {
                continue;
            };
            let (Ok(port), Some(protocol)) = (port.parse::<u16>(), parse_protocol(proto)) else {
                continue;
            };
            let entry = self
                .entries
                .entry((port, protocol))
                .or_insert_with(|| ServiceInfo {
                    name: String::new(),
                    iana_name: None,
                    description: String::new(),
                });
            // /etc/services lists the canonical name first; later lines for the same key are aliases.
            if entry.iana_name.is_none() && entry.name != name {
                let iana = std::mem::replace(&mut entry.name, name.to_owned());
                entry.iana_name = (!iana.is_empty()).then_some(iana);
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
    fn local_names_win_and_iana_descriptions_stay() {
        let mut r = Registry::from_iana_tsv(IANA_TSV).unwrap();
        assert_eq!(r.name(80, Protocol::Tcp), "www-http");
        r.overlay_etc_services(
            "http\t\t80/tcp\t\twww  # WorldWideWeb HTTP\nbroken line\nmyapp 7777/tcp\n",
        );
        let http = r.service(80, Protocol::Tcp).unwrap();
        assert_eq!(http.name, "http");
        assert_eq!(http.iana_name.as_deref(), Some("www-http"));
        assert_eq!(http.description, "World Wide Web HTTP");
        assert_eq!(r.name(7777, Protocol::Tcp), "myapp");
        // UDP is a separate number space: the TCP overlay does not touch it.
        assert_eq!(r.name(80, Protocol::Udp), "www-http");
    }
}

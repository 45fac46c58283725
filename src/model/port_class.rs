//! RFC 6335 §6 port number ranges.
//!
//! Plain arithmetic on the port number, kept in the model so the store can count sockets per class without
//! knowing anything about the service registry.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The three ranges RFC 6335 divides each port number space into.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PortClass {
    /// 0–1023, "System Ports" (also called well-known); assigned by IETF review, and on Unix binding them
    /// needs root or `CAP_NET_BIND_SERVICE`.
    System,
    /// 1024–49151, "User Ports" (also called registered); assigned by IANA on request.
    User,
    /// 49152–65535, "Dynamic Ports" (also called private or ephemeral); never assigned.
    Dynamic,
}

impl PortClass {
    /// Every class, lowest range first.
    pub const ALL: [Self; 3] = [Self::System, Self::User, Self::Dynamic];

    /// The class of `port`.
    #[must_use]
    pub fn of(port: u16) -> Self {
        match port {
            0..=1023 => Self::System,
            1024..=49151 => Self::User,
            _ => Self::Dynamic,
        }
    }

    /// The name used in files and filters (`system`, `user`, `dynamic`).
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::System => "system",
            Self::User => "user",
            Self::Dynamic => "dynamic",
        }
    }

    /// Parses a class name; accepts the older names (`well-known`, `registered`, `private`) too.
    #[must_use]
    pub fn parse(text: &str) -> Option<Self> {
        match text.trim().to_ascii_lowercase().as_str() {
            "system" | "well-known" | "wellknown" => Some(Self::System),
            "user" | "registered" => Some(Self::User),
            "dynamic" | "private" => Some(Self::Dynamic),
            _ => None,
        }
    }

    /// The inclusive bounds of the class.
    #[must_use]
    pub fn bounds(self) -> (u16, u16) {
        match self {
            Self::System => (0, 1023),
            Self::User => (1024, 49151),
            Self::Dynamic => (49152, 65535),
        }
    }

    /// Position in [`PortClass::ALL`].
    #[must_use]
    pub fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for PortClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boundaries_follow_rfc_6335() {
        assert_eq!(PortClass::of(0), PortClass::System);
        assert_eq!(PortClass::of(1023), PortClass::System);
        assert_eq!(PortClass::of(1024), PortClass::User);
        assert_eq!(PortClass::of(49151), PortClass::User);
        assert_eq!(PortClass::of(49152), PortClass::Dynamic);
        assert_eq!(PortClass::of(65535), PortClass::Dynamic);
        for c in PortClass::ALL {
            assert_eq!(PortClass::parse(c.as_str()), Some(c));
            assert_eq!(PortClass::of(c.bounds().0), c);
            assert_eq!(PortClass::of(c.bounds().1), c);
        }
    }
}

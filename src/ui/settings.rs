//! What the window remembers between runs (through eframe's storage).

use serde::{Deserialize, Serialize};

use crate::view::rows::SortSpec;
use crate::view::unix::UnixSort;

/// The central view.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum View {
    /// One row per socket.
    #[default]
    Sockets,
    /// One row per local (protocol, port).
    Ports,
    /// History charts.
    Charts,
    /// A comparison of two snapshots.
    Diff,
    /// Socket vs port, explained with this machine's sockets.
    Learn,
    /// Unix domain sockets, and who talks to whom through them.
    Unix,
}

impl View {
    /// Every view, in toolbar order.
    pub const ALL: [Self; 5] = [
        Self::Sockets,
        Self::Ports,
        Self::Unix,
        Self::Charts,
        Self::Learn,
    ];

    /// Its toolbar label.
    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            Self::Sockets => "Sockets",
            Self::Ports => "Ports",
            Self::Charts => "Charts",
            Self::Diff => "Diff",
            Self::Learn => "Socket vs port",
            Self::Unix => "Unix sockets",
        }
    }
}

/// Settings persisted between runs. Window size and column widths are kept by eframe and egui themselves.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// The central view.
    pub view: View,
    /// Filter text.
    pub filter: String,
    /// Sort of the sockets table.
    pub sort: SortSpec,
    /// Sort of the Unix sockets table.
    pub unix_sort: UnixSort,
    /// Sampling interval in milliseconds.
    pub interval_ms: u64,
    /// Samples of history kept for the charts (3 600 = one hour at 1 Hz).
    pub history_samples: usize,
    /// Look peers' host names up with the system resolver (off by default: it may send DNS queries).
    #[serde(default)]
    pub resolve_names: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            view: View::Sockets,
            filter: String::new(),
            sort: SortSpec::default(),
            unix_sort: UnixSort::default(),
            interval_ms: 1000,
            history_samples: 3600,
            resolve_names: false,
        }
    }
}

/// The key under which settings are stored.
pub const STORAGE_KEY: &str = "sockscope-settings";

//! What panels ask the app to do. Panels return these instead of changing shared state, so no panel
//! reaches into another; the app applies them at the end of the frame.

use std::time::Duration;

use std::path::PathBuf;

use super::dialogs::FileKind;
use crate::collector::actions::EndSignal;
use crate::model::ports::PortKey;
use crate::model::socket::{SocketEntry, SocketKey};

use super::settings::View;
use crate::view::rows::SortSpec;
use crate::view::unix::UnixSort;

/// A request from a panel to the app.
#[must_use]
#[derive(Clone, Debug, PartialEq)]
pub enum Command {
    /// Select a socket (show it in the inspector), or clear the selection.
    SelectSocket(Option<SocketKey>),
    /// Select a port in the Ports view, or clear it.
    SelectPort(Option<PortKey>),
    /// Replace the filter text.
    SetFilter(String),
    /// Sort the sockets table.
    SetSort(SortSpec),
    /// Sort the Unix sockets table.
    SetUnixSort(UnixSort),
    /// Switch the central view.
    SetView(View),
    /// Freeze or unfreeze what is shown (sampling goes on).
    TogglePause,
    /// Change the sampling interval.
    SetInterval(Duration),
    /// Change how many samples of history are kept.
    SetHistorySamples(usize),
    /// Hide the collector error message.
    DismissError,
    /// Put text on the clipboard.
    Copy(String),
    /// Show the export window.
    ShowExport,
    /// Save what is shown.
    Export(ExportRequest),
    /// Ask for a snapshot file and show it, read-only.
    OpenFile,
    /// Ask for a snapshot file and compare it (as "before") with what is shown.
    CompareWithFile,
    /// Leave the opened file or comparison and show live data again.
    BackToLive,
    /// Ask to close this TCP connection (a confirmation comes first).
    AskClose(Box<SocketEntry>),
    /// Ask to send a signal to a process (a confirmation comes first).
    AskEnd {
        /// The process.
        pid: u32,
        /// TERM, or KILL on a second, explicit request.
        signal: EndSignal,
    },
    /// The user confirmed the pending action.
    Confirmed,
    /// The user dismissed the pending action.
    Dismissed,
    /// Turn looking up peers' host names on or off.
    SetNames(bool),
}

/// What to export, and where (a path, or ask with the save dialog).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExportRequest {
    /// File format.
    pub kind: FileKind,
    /// Only the rows the filter shows.
    pub filtered_only: bool,
    /// Include process command lines.
    pub with_cmdline: bool,
    /// Name proposed in the save dialog.
    pub default_name: String,
    /// Where to write; `None` asks.
    pub path: Option<PathBuf>,
}

//! What panels ask the app to do. Panels return these instead of changing shared state, so no panel
//! reaches into another; the app applies them at the end of the frame.

use std::time::Duration;

use crate::model::socket::{Protocol, SocketKey};

use super::rows::SortSpec;
use super::settings::View;

/// A request from a panel to the app.
#[must_use]
#[derive(Clone, Debug, PartialEq)]
pub enum Command {
    /// Select a socket (show it in the inspector), or clear the selection.
    SelectSocket(Option<SocketKey>),
    /// Select a port in the Ports view, or clear it.
    SelectPort(Option<(Protocol, u16)>),
    /// Replace the filter text.
    SetFilter(String),
    /// Sort the sockets table.
    SetSort(SortSpec),
    /// Switch the central view.
    SetView(View),
    /// Freeze or unfreeze what is shown (sampling goes on).
    TogglePause,
    /// Change the sampling interval.
    SetInterval(Duration),
    /// Hide the collector error message.
    DismissError,
    /// Put text on the clipboard.
    Copy(String),
}

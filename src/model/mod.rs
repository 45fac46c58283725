//! Plain data: sockets, snapshots, diffs and the store. No egui, no OS calls.

pub mod budget;
pub mod compare;
pub mod diff;
pub mod history;
pub mod kernel;
pub mod port_class;
pub mod ports;
pub mod privilege;
pub mod snapshot;
pub mod socket;
pub mod state;
pub mod store;
pub mod traffic;

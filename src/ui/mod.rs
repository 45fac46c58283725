//! Everything egui: the window and its panels. What they draw is computed in [`crate::view`].
//!
//! Panels never reach into each other: each returns [`command::Command`]s that the app applies at the end
//! of the frame.

pub mod act;
pub mod app;
pub mod banner;
pub mod bind_doctor;
pub mod charts;
pub mod command;
pub mod confirm;
pub mod dialogs;
pub mod diff_view;
pub mod export_window;
pub mod feed;
pub mod files;
pub mod inspector;
pub mod jobs;
pub mod keys;
pub mod learn;
pub mod ports_table;
pub mod settings;
pub mod sockets_table;
pub mod status_bar;
pub mod theme;
pub mod toolbar;
pub mod unix_table;

pub use app::SockscopeApp;

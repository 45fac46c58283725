//! Everything egui: the window, its panels and the view computations they draw from.
//!
//! Panels never reach into each other: each returns [`command::Command`]s that the app applies at the end
//! of the frame.

pub mod app;
pub mod bind_doctor;
pub mod charts;
pub mod command;
pub mod dialogs;
pub mod diff_view;
pub mod export_window;
pub mod filter;
pub mod inspector;
pub mod learn;
pub mod ports_table;
pub mod rows;
pub mod settings;
pub mod sockets_table;
pub mod status_bar;
pub mod theme;
pub mod toolbar;
pub mod view_worker;

pub use app::SockscopeApp;

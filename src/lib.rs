//! Sockscope: every socket on this machine next to the port it uses, explained.
//!
//! Layers, arrows pointing down only: `ui` → `view`, `model`, `services`, `export`; `view` → `model`,
//! `services`, `collector` (its events); `collector` → `model`;
//! `export` → `model`, `services`. Only `collector` touches the OS.

#![warn(missing_docs)]

pub mod cli;
pub mod cli_actions;
pub mod collector;
pub mod export;
pub mod model;
pub mod services;
pub mod ui;
pub mod view;

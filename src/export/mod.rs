//! Snapshot files: JSON (the full, versioned format), CSV (one row per socket), an HTML report, reading
//! them back, comparisons, and atomic saving. Pure functions over `Write`/`Read` where possible, so tests
//! and the CLI use them without files.

pub mod atomic;
pub mod compare;
pub mod csv;
pub mod format;
pub mod html;
pub mod json;
pub mod read;

pub use format::Format;

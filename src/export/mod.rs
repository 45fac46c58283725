//! Snapshot files: JSON (the full, versioned format) and CSV (one row per socket), plus atomic saving.
//! Pure functions over `Write`/`Read`, so tests and the CLI use them without files.

pub mod atomic;
pub mod csv;
pub mod json;

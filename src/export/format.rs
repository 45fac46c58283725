//! The file formats a snapshot is written in, and the one function that writes each: the window's Export
//! and `sockscope snapshot --format` both go through [`Format::write`], so they write the same files.

use std::io::{self, Write};

use super::json::ExportOptions;
use crate::model::snapshot::Snapshot;
use crate::services::registry::Registry;

/// A snapshot file format.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// The full, versioned snapshot (README: Snapshot format); Sockscope opens it again.
    #[default]
    Json,
    /// One row per socket with a header, for spreadsheets; Sockscope opens it again.
    Csv,
    /// A self-contained report: tables and port explanations, readable in any browser.
    Html,
}

impl Format {
    /// The file extension written for this format.
    #[must_use]
    pub fn extension(self) -> &'static str {
        match self {
            Self::Json => "json",
            Self::Csv => "csv",
            Self::Html => "html",
        }
    }

    /// Writes `snapshot` in this format, naming services with `registry`. `options` apply to JSON
    /// (command lines are left out of CSV and HTML). When `snapshot` holds only the sockets a filter
    /// kept, `whole` is the sample they were taken from: the HTML report tells a port the kernel picked
    /// by the listeners there, which the filter may have left out.
    ///
    /// # Errors
    /// Any write error.
    pub fn write(
        self,
        out: &mut dyn Write,
        snapshot: &Snapshot,
        whole: Option<&Snapshot>,
        registry: &Registry,
        options: ExportOptions,
    ) -> io::Result<()> {
        match self {
            Self::Json => super::json::write_json(out, snapshot, registry, options),
            Self::Csv => super::csv::write_csv(out, snapshot, registry),
            Self::Html => super::html::write_html_of(out, snapshot, whole, registry),
        }
    }
}

//! Entry point: parse the command line, then run headless or open the window.

use std::process::ExitCode;

use clap::Parser;
use sockscope::cli::{Cli, Command, run_snapshot};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result: anyhow::Result<()> = match &cli.command {
        Some(Command::Snapshot(args)) => run_snapshot(args).map_err(anyhow::Error::from),
        None => open_window(),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // Library errors already carry their cause in their message; print it once.
            eprintln!("sockscope: {e}");
            ExitCode::FAILURE
        }
    }
}

fn open_window() -> anyhow::Result<()> {
    let options = eframe::NativeOptions::default();
    eframe::run_ui_native("Sockscope", options, |ui, _frame| {
        ui.label("Sockscope: the window arrives with the main-window issue. Use `sockscope snapshot` for now.");
    })
    .map_err(|e| anyhow::anyhow!("cannot open the window: {e}"))
}

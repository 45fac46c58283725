//! Entry point: parse the command line, then run headless or open the window.

use std::process::ExitCode;

use clap::Parser;
use std::io::Write;

use sockscope::cli::{Cli, Command, SignalArg, run_diff, run_snapshot, run_why_port};
use sockscope::cli_actions::{ActOutcome, run_close, run_kill};
use sockscope::collector::actions::{EndSignal, SystemActions};
use sockscope::export::read::open_snapshot;
use sockscope::ui::SockscopeApp;

/// The desktop id: window app id (Wayland), desktop file and AppStream component share it.
const APP_ID: &str = "io.github.sockscope.Sockscope";

/// The window icon, also installed by the packages.
const ICON_PNG: &[u8] = include_bytes!("../assets/icon-256.png");

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result: anyhow::Result<()> = match &cli.command {
        // Their own exit codes: 0 done, 1 failed or refused, 2 bad arguments.
        Some(command @ (Command::Close { .. } | Command::Kill { .. })) => return act(command),
        Some(Command::Snapshot(args)) => run_snapshot(args).map_err(anyhow::Error::from),
        Some(Command::Diff {
            before,
            after,
            format,
        }) => run_diff(before, after, *format).map_err(anyhow::Error::from),
        Some(Command::WhyPort(args)) => run_why_port(args).map_err(anyhow::Error::from),
        Some(Command::Open { file }) => match open_snapshot(file) {
            // Read before the window opens, so a bad file is a one-line error and exit 1.
            Ok(snapshot) => open_window(Some((file.clone(), snapshot))),
            Err(e) => Err(anyhow::Error::from(e)),
        },
        None => open_window(None),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // Library errors already carry their cause in their message; print it once.
            eprintln!("sockscope: {e}");
            let advice = e
                .downcast_ref::<sockscope::cli::CliError>()
                .and_then(|e| e.kind().advice());
            if let Some(advice) = advice {
                eprintln!("sockscope: {advice}");
            }
            ExitCode::FAILURE
        }
    }
}

/// Runs `close` or `kill`, which have their own exit codes (0 done, 1 failed, 2 bad arguments).
fn act(command: &Command) -> ExitCode {
    let (stdout, stderr) = (std::io::stdout(), std::io::stderr());
    let (mut out, mut err) = (stdout.lock(), stderr.lock());
    let actions = SystemActions;
    let outcome = match command {
        Command::Close { filter, yes } => run_close(filter, *yes, &actions, &mut out, &mut err),
        Command::Kill { pid, signal, yes } => {
            let signal = match signal {
                SignalArg::Term => EndSignal::Term,
                SignalArg::Kill => EndSignal::Kill,
            };
            run_kill(*pid, signal, *yes, &actions, &mut out, &mut err)
        }
        _ => return ExitCode::from(2),
    };
    match outcome {
        Ok(ActOutcome::Done) => ExitCode::SUCCESS,
        Ok(ActOutcome::Failed) => ExitCode::FAILURE,
        Ok(ActOutcome::BadArguments) => ExitCode::from(2),
        Err(e) => {
            let _ = writeln!(err, "sockscope: {e}");
            ExitCode::FAILURE
        }
    }
}

fn open_window(
    file: Option<(std::path::PathBuf, sockscope::model::snapshot::Snapshot)>,
) -> anyhow::Result<()> {
    let mut viewport = egui::ViewportBuilder::default()
        .with_title("Sockscope")
        .with_app_id(APP_ID)
        .with_inner_size([1280.0, 800.0])
        .with_min_inner_size([640.0, 400.0]);
    // A broken icon is not worth refusing to start over.
    if let Ok(icon) = eframe::icon_data::from_png_bytes(ICON_PNG) {
        viewport = viewport.with_icon(icon);
    }
    let options = eframe::NativeOptions {
        viewport,
        ..Default::default()
    };
    eframe::run_native(
        "Sockscope",
        options,
        Box::new(|cc| {
            let mut app = SockscopeApp::new(cc);
            if let Some((path, snapshot)) = file {
                app.show_file(path, snapshot);
            }
            Ok(Box::new(app))
        }),
    )
    .map_err(|e| anyhow::anyhow!("cannot open the window: {e}"))
}

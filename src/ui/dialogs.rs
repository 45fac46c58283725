//! File dialogs behind a seam: the native one (rfd: desktop portal over D-Bus, else zenity) for people,
//! a scripted one for tests. Native dialogs block, so they run on a thread named `dialog`, which also does
//! the file's I/O and reports back; the window never freezes.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::Mutex;

/// Which files a dialog offers to save: the export formats.
pub use crate::export::Format as FileKind;

/// Something that asks the user for a file path.
pub trait FileDialogs: Send + Sync {
    /// Asks where to save, proposing `default_name`; `None` when cancelled.
    fn save(&self, title: &str, default_name: &str, kind: FileKind) -> Option<PathBuf>;
    /// Asks which file to open; `None` when cancelled.
    fn open(&self, title: &str) -> Option<PathBuf>;
    /// False when no dialog can be shown at all (the window then offers a path field instead).
    fn available(&self) -> bool;
    /// True when the calls block until the user answers, so they must run off the UI thread.
    fn blocks(&self) -> bool;
}

/// rfd's dialogs.
#[derive(Debug, Default)]
pub struct NativeDialogs;

impl FileDialogs for NativeDialogs {
    fn save(&self, title: &str, default_name: &str, kind: FileKind) -> Option<PathBuf> {
        let ext = kind.extension();
        rfd::FileDialog::new()
            .set_title(title)
            .set_file_name(default_name)
            .add_filter(ext.to_uppercase(), &[ext])
            .save_file()
    }

    fn open(&self, title: &str) -> Option<PathBuf> {
        rfd::FileDialog::new()
            .set_title(title)
            .add_filter("Sockscope snapshot", &["json", "csv"])
            .add_filter("All files", &["*"])
            .pick_file()
    }

    fn available(&self) -> bool {
        // rfd talks to the desktop portal over the session bus, and falls back to zenity.
        let session_bus = std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some();
        let zenity = std::env::var_os("PATH").is_some_and(|paths| {
            std::env::split_paths(&paths).any(|dir| dir.join("zenity").is_file())
        });
        session_bus || zenity
    }

    fn blocks(&self) -> bool {
        true
    }
}

/// Answers dialogs with paths queued in advance (tests).
#[derive(Debug, Default)]
pub struct ScriptedDialogs {
    answers: Mutex<VecDeque<Option<PathBuf>>>,
    available: bool,
}

impl ScriptedDialogs {
    /// Dialogs that answer with `answers`, in order (`None` = cancelled).
    #[must_use]
    pub fn new(answers: impl IntoIterator<Item = Option<PathBuf>>) -> Self {
        Self {
            answers: Mutex::new(answers.into_iter().collect()),
            available: true,
        }
    }

    /// Dialogs that cannot be shown (no portal, no zenity).
    #[must_use]
    pub fn unavailable() -> Self {
        Self {
            answers: Mutex::default(),
            available: false,
        }
    }

    fn next(&self) -> Option<PathBuf> {
        self.answers
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .pop_front()
            .flatten()
    }
}

impl FileDialogs for ScriptedDialogs {
    fn save(&self, _title: &str, _default_name: &str, _kind: FileKind) -> Option<PathBuf> {
        self.next()
    }

    fn open(&self, _title: &str) -> Option<PathBuf> {
        self.next()
    }

    fn available(&self) -> bool {
        self.available
    }

    fn blocks(&self) -> bool {
        false
    }
}

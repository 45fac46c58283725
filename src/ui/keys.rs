//! Keyboard shortcuts: what each key asks for, read once per frame.
//!
//! Ctrl+S export, Ctrl+O open, Ctrl+F filter, Esc leaves the filter or clears the selection, Space
//! pauses, ↑/↓ move the selection in the sockets table. Keys that type text are left alone while a text
//! field has focus.

use super::command::Command;
use super::toolbar::filter_id;

/// A move of the selection by one row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// To the next row.
    Down,
    /// To the previous row.
    Up,
}

/// What the keys pressed this frame ask for.
#[derive(Debug, Default)]
pub struct Keys {
    /// Commands for the app.
    pub commands: Vec<Command>,
    /// Move the selection (the app knows the rows).
    pub step: Option<Step>,
    /// Put the cursor in the filter field.
    pub focus_filter: bool,
}

/// Reads (and consumes) this frame's shortcuts.
#[must_use]
pub fn read(ctx: &egui::Context) -> Keys {
    let mut keys = Keys::default();
    let typing = ctx.memory(|m| m.focused().is_some());
    let (ctrl_s, ctrl_o, ctrl_f, esc, space, down, up) = ctx.input_mut(|i| {
        (
            i.consume_key(egui::Modifiers::COMMAND, egui::Key::S),
            i.consume_key(egui::Modifiers::COMMAND, egui::Key::O),
            i.consume_key(egui::Modifiers::COMMAND, egui::Key::F),
            i.key_pressed(egui::Key::Escape),
            !typing && i.consume_key(egui::Modifiers::NONE, egui::Key::Space),
            !typing && i.consume_key(egui::Modifiers::NONE, egui::Key::ArrowDown),
            !typing && i.consume_key(egui::Modifiers::NONE, egui::Key::ArrowUp),
        )
    });
    if ctrl_s {
        keys.commands.push(Command::ShowExport);
    }
    if ctrl_o {
        keys.commands.push(Command::OpenFile);
    }
    keys.focus_filter = ctrl_f;
    if esc {
        if ctx.memory(|m| m.has_focus(filter_id())) {
            ctx.memory_mut(|m| m.surrender_focus(filter_id()));
        } else {
            keys.commands.push(Command::SelectSocket(None));
        }
    }
    if space {
        keys.commands.push(Command::TogglePause);
    }
    keys.step = match (down, up) {
        (true, _) => Some(Step::Down),
        (false, true) => Some(Step::Up),
        (false, false) => None,
    };
    keys
}

/// The row a step lands on, from `current` in a table of `len` rows; `None` when the table is empty.
#[must_use]
pub fn stepped(current: Option<usize>, step: Step, len: usize) -> Option<usize> {
    let next = match (current, step) {
        (None, Step::Down) => Some(0),
        (None, Step::Up) => len.checked_sub(1),
        (Some(i), Step::Down) => Some((i + 1).min(len.saturating_sub(1))),
        (Some(i), Step::Up) => Some(i.saturating_sub(1)),
    };
    next.filter(|n| *n < len)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_stop_at_the_ends_and_start_from_the_nearest_end() {
        assert_eq!(stepped(None, Step::Down, 3), Some(0));
        assert_eq!(stepped(None, Step::Up, 3), Some(2));
        assert_eq!(stepped(Some(2), Step::Down, 3), Some(2));
        assert_eq!(stepped(Some(0), Step::Up, 3), Some(0));
        assert_eq!(stepped(Some(1), Step::Down, 3), Some(2));
        assert_eq!(stepped(None, Step::Down, 0), None);
    }
}

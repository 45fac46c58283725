//! Colours and small formatting helpers shared by the panels.

use egui::Color32;

use crate::model::store::ChangeMark;

/// Row background for a change mark, TCPView style (new green, closed red, changed yellow), toned for the
/// current theme so text stays readable in both.
#[must_use]
pub fn mark_fill(mark: ChangeMark, dark_mode: bool) -> Color32 {
    match (mark, dark_mode) {
        (ChangeMark::Opened, true) => Color32::from_rgba_unmultiplied(40, 150, 60, 90),
        (ChangeMark::Opened, false) => Color32::from_rgba_unmultiplied(90, 200, 110, 110),
        (ChangeMark::Closed, true) => Color32::from_rgba_unmultiplied(190, 50, 50, 100),
        (ChangeMark::Closed, false) => Color32::from_rgba_unmultiplied(235, 100, 100, 110),
        (ChangeMark::StateChanged, true) => Color32::from_rgba_unmultiplied(190, 160, 30, 90),
        (ChangeMark::StateChanged, false) => Color32::from_rgba_unmultiplied(240, 210, 60, 130),
    }
}

/// The legend for the highlight colours, for a tooltip.
pub const LEGEND: &str = "Green: opened since the previous sample.\nYellow: state changed since the previous sample (a TCP state, or UDP connected/unconnected).\n\
Red: closed since the previous sample (shown for one interval, then removed).";

/// Seconds as a short age: `42s`, `3m 07s`, `2h 05m`, `3d 04h`.
#[must_use]
pub fn format_age(secs: i64) -> String {
    match secs {
        s if s < 60 => format!("{s}s"),
        s if s < 3600 => format!("{}m {:02}s", s / 60, s % 60),
        s if s < 86_400 => format!("{}h {:02}m", s / 3600, (s % 3600) / 60),
        s => format!("{}d {:02}h", s / 86_400, (s % 86_400) / 3600),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_read_naturally() {
        assert_eq!(format_age(0), "0s");
        assert_eq!(format_age(187), "3m 07s");
        assert_eq!(format_age(7500), "2h 05m");
        assert_eq!(format_age(3 * 86_400 + 4 * 3600), "3d 04h");
    }
}

//! The Charts view: how the machine's sockets change over time, drawn from the store's history.
//!
//! Every series is downsampled to the plot's pixel width (keeping each bucket's maximum, so spikes stay
//! visible), so an hour of 1 Hz history costs the same to draw as a minute.

use std::sync::Arc;

use chrono::{DateTime, Local, TimeZone, Utc};
use egui::{Color32, RichText};
use egui_plot::{Bar, BarChart, HoverPosition, Legend, Line, Plot, PlotPoint, PlotResponse};

use super::command::Command;
use super::settings::View;
use crate::model::budget::{BudgetLevel, CloseWaitAlert, EphemeralBudget};
use crate::model::history::{History, SampleStats};
use crate::model::port_class::PortClass;
use crate::model::snapshot::{PortRange, process_label};
use crate::model::socket::{SocketEntry, TcpState};
use crate::services::registry::Registry;
use crate::view::filter::term;
use crate::view::{ComputedView, Published};

/// Height of one time-series plot.
const PLOT_HEIGHT: f32 = 190.0;

/// The charts panel. Remembers where it drew each clickable bar (for hit-testing and tests), and the
/// series it last downsampled, which stay right until the history, the width or the end changes.
#[derive(Debug, Default)]
pub struct Charts {
    bar_centers: Vec<(String, egui::Pos2)>,
    series: Option<(SeriesFor, Arc<Series>)>,
}

/// What a [`Series`] was computed from.
#[derive(Debug)]
struct SeriesFor {
    history: Arc<History>,
    max_points: usize,
    until: Option<DateTime<Utc>>,
}

/// The downsampled points of every time series.
#[derive(Debug, Default)]
struct Series {
    samples: usize,
    since: f64,
    states: Vec<(TcpState, Vec<[f64; 2]>)>,
    udp: Vec<[f64; 2]>,
    opened: Vec<[f64; 2]>,
    closed: Vec<[f64; 2]>,
    /// Width of a churn bar, in seconds.
    bar_width: f64,
    classes: Vec<(PortClass, Vec<[f64; 2]>)>,
    ephemeral: Vec<[f64; 2]>,
}

impl Series {
    fn of(samples: &[&SampleStats], max_points: usize) -> Self {
        let Some(first) = samples.first() else {
            return Self::default();
        };
        let line = |value: &dyn Fn(&SampleStats) -> f64| downsample(samples, max_points, value);
        let width = samples.len().div_ceil(max_points).max(1);
        let span = samples
            .windows(2)
            .last()
            .map_or(1.0, |w| (w[1].unix_secs() - w[0].unix_secs()).max(0.1));
        Self {
            samples: samples.len(),
            since: first.unix_secs(),
            states: TcpState::ALL
                .into_iter()
                .filter(|state| samples.iter().any(|s| s.state(*state) > 0))
                .map(|state| (state, line(&|s| f64::from(s.state(state)))))
                .collect(),
            udp: line(&|s| f64::from(s.udp)),
            opened: line(&|s| f64::from(s.opened)),
            closed: line(&|s| f64::from(s.closed)),
            bar_width: span * width as f64 * 0.8,
            classes: PortClass::ALL
                .into_iter()
                .map(|class| (class, line(&|s| f64::from(s.by_class[class.index()]))))
                .collect(),
            ephemeral: line(&|s| f64::from(s.in_ephemeral_range)),
        }
    }
}

/// The bar a plot coordinate falls on: `i` (already rounded) as an index below `len`, when it is one.
#[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)] // checked: a whole number in 0..len
fn bar_index(i: f64, len: usize) -> Option<usize> {
    (i.is_finite() && i >= 0.0 && i < len as f64 && i.fract() == 0.0).then_some(i as usize)
}

/// A width in points as a whole number of pixels (0 for a negative or NaN width).
#[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)] // saturating: screens are small
fn pixels(width: f32) -> usize {
    width.max(0.0) as usize
}

/// A ratio as a progress bar's fraction, clamped to 0..=1 (where f32 holds it closely enough).
#[allow(clippy::cast_possible_truncation)] // a value in 0..=1
fn fraction(ratio: f64) -> f32 {
    ratio.clamp(0.0, 1.0) as f32
}

/// Wall-clock time of a chart x value (Unix seconds), as local `HH:MM:SS`.
fn clock(secs: f64) -> String {
    // Chart x values are sample times: finite, and far inside i64's range in milliseconds (the cast
    // saturates otherwise, and chrono then refuses the value).
    #[allow(clippy::cast_possible_truncation)]
    let millis = (secs * 1000.0).round() as i64;
    match Utc.timestamp_millis_opt(millis) {
        chrono::LocalResult::Single(t) => t.with_timezone(&Local).format("%H:%M:%S").to_string(),
        _ => String::new(),
    }
}

/// Points of one series, at most `max_points`, each the maximum of its bucket of samples.
#[must_use]
pub fn downsample(
    samples: &[&SampleStats],
    max_points: usize,
    value: impl Fn(&SampleStats) -> f64,
) -> Vec<[f64; 2]> {
    let bucket = samples.len().div_ceil(max_points.max(1)).max(1);
    samples
        .chunks(bucket)
        .filter_map(|chunk| {
            let last = chunk.last()?;
            let peak = chunk
                .iter()
                .map(|s| value(s))
                .fold(f64::NEG_INFINITY, f64::max);
            Some([last.unix_secs(), peak])
        })
        .collect()
}

fn time_plot<'a>(id: &'a str, y_label: &'a str) -> Plot<'a> {
    Plot::new(id)
        .height(PLOT_HEIGHT)
        .legend(Legend::default())
        .x_axis_label("time")
        .y_axis_label(y_label)
        .x_axis_formatter(|mark, _| clock(mark.value))
        .label_formatter(|hover: &HoverPosition<'_>| match hover {
            HoverPosition::NearDataPoint {
                plot_name,
                position,
                ..
            } => Some(format!(
                "{plot_name}\n{}: {:.0}",
                clock(position.x),
                position.y
            )),
            HoverPosition::Elsewhere { .. } => None,
        })
        .allow_drag(false)
        .allow_zoom(false)
        .allow_scroll(false)
        .allow_boxed_zoom(false)
        .include_y(0.0)
}

fn state_color(state: TcpState) -> Color32 {
    match state {
        TcpState::Listen => Color32::from_rgb(90, 160, 255),
        TcpState::Established => Color32::from_rgb(80, 200, 120),
        TcpState::TimeWait => Color32::from_rgb(230, 170, 60),
        TcpState::CloseWait => Color32::from_rgb(230, 80, 80),
        TcpState::SynSent | TcpState::SynReceived => Color32::from_rgb(190, 120, 230),
        _ => Color32::from_rgb(150, 150, 150),
    }
}

impl Charts {
    /// Where the bar labelled `label` (e.g. `443/tcp`) was drawn last frame, in screen points.
    #[must_use]
    pub fn bar_center(&self, label: &str) -> Option<egui::Pos2> {
        self.bar_centers
            .iter()
            .find(|(l, _)| l == label)
            .map(|(_, p)| *p)
    }

    /// The series for `history` up to `until` at `max_points`, downsampled again only when one changed.
    fn series(
        &mut self,
        history: &Arc<History>,
        until: Option<DateTime<Utc>>,
        max_points: usize,
    ) -> Arc<Series> {
        if let Some((key, series)) = &self.series {
            if Arc::ptr_eq(&key.history, history)
                && key.max_points == max_points
                && key.until == until
            {
                return Arc::clone(series);
            }
        }
        let samples: Vec<&SampleStats> = history
            .iter()
            .filter(|s| until.is_none_or(|t| s.taken_at <= t))
            .collect();
        let series = Arc::new(Series::of(&samples, max_points));
        let key = SeriesFor {
            history: Arc::clone(history),
            max_points,
            until,
        };
        self.series = Some((key, Arc::clone(&series)));
        series
    }

    /// Draws the charts from the published history (up to the held sample while frozen).
    pub fn ui(&mut self, ui: &mut egui::Ui, published: &Published) -> Vec<Command> {
        let view = published.view.as_ref();
        let mut commands = Vec::new();
        self.bar_centers.clear();
        let history = &published.history;
        let until = published.history_until;
        let budget = &*published.budget;
        let Some(latest) = history
            .iter()
            .rev()
            .find(|s| until.is_none_or(|t| s.taken_at <= t))
        else {
            ui.label("No history yet.");
            return commands;
        };
        let max_points = pixels(ui.available_width()).max(50);
        let series = self.series(history, until, max_points);
        egui::ScrollArea::vertical()
            .id_salt("charts-scroll")
            .show(ui, |ui| {
                commands.extend(history_length(ui, history, &series));
                self.budget_gauge(ui, budget, &published.alerts);
                ui.add_space(6.0);
                states_plot(ui, &series);
                churn_plot(ui, &series);
                ui.columns(2, |cols| {
                    commands.extend(self.top_ports(&mut cols[0], latest, view));
                    commands.extend(self.top_processes(&mut cols[1], latest));
                });
                if let Some(view) = view {
                    commands.extend(self.busiest_connections(ui, view));
                }
                let range = view.map(|v| {
                    let shown = &v.input.snapshot;
                    (shown.ephemeral_range_or_default(), shown.spans_namespaces())
                });
                classes_plot(ui, &series, range);
            });
        commands
    }

    fn budget_gauge(&self, ui: &mut egui::Ui, budget: &EphemeralBudget, alerts: &[CloseWaitAlert]) {
        ui.horizontal(|ui| {
            ui.label(RichText::new("Ephemeral port budget").strong()).on_hover_text(format!(
                "For TCP, connect() needs a local port from the ephemeral range {}–{} ({} ports that are not \
                 reserved) that no other connection from the same local address to the same remote address \
                 and port uses; TIME_WAIT entries are counted, though with net.ipv4.tcp_tw_reuse = {}{} \
                 connect() can reuse those older than 1 s {}. For UDP, an automatically picked port must be \
                 free on the local address whatever the destination. This shows the group that used the \
                 largest share of its namespace's ports{}. {}",
                budget.range.low,
                budget.range.high,
                budget.available,
                budget.tw_reuse.value,
                budget.tw_reuse.note(),
                match budget.tw_reuse.value {
                    0 => "never",
                    1 => "to any destination",
                    _ => "towards loopback only",
                },
                budget.place.tag(),
                budget.consequence()
            ));
            let color = match budget.level() {
                BudgetLevel::Ok => Color32::from_rgb(80, 170, 110),
                BudgetLevel::Warning => Color32::from_rgb(220, 170, 50),
                BudgetLevel::Critical => Color32::from_rgb(220, 70, 70),
            };
            ui.add(
                egui::ProgressBar::new(fraction(budget.ratio()))
                    .text(budget.summary())
                    .fill(color)
                    .desired_width(ui.available_width().min(720.0)),
            );
        });
        for alert in alerts {
            ui.label(RichText::new(alert.sentence()).color(ui.visuals().error_fg_color));
        }
    }

    /// A horizontal bar chart of `(label, value)` whose bars are clickable; returns the clicked index.
    fn clickable_bars(
        &mut self,
        ui: &mut egui::Ui,
        id: &str,
        title: &str,
        x_label: &str,
        y_label: &str,
        items: &[(String, f64)],
    ) -> Option<usize> {
        ui.label(RichText::new(title).strong());
        let labels: Vec<String> = items.iter().map(|(l, _)| l.clone()).collect();
        let bars: Vec<Bar> = items
            .iter()
            .enumerate()
            .map(|(i, (label, n))| Bar::new(i as f64, *n).name(label).width(0.7))
            .collect();
        let count = items.len();
        let response: PlotResponse<()> = Plot::new(id)
            // Room for a label per bar: egui_plot drops axis labels that would sit closer than ~30 px.
            .height(PLOT_HEIGHT.max(36.0 * count as f32 + 40.0))
            .x_axis_label(x_label)
            .y_axis_label(y_label)
            .y_axis_formatter(move |mark, _| {
                let i = mark.value.round();
                match bar_index(i, labels.len()) {
                    Some(i) if (mark.value - i as f64).abs() < 0.01 => labels[i].clone(),
                    _ => String::new(),
                }
            })
            // One grid mark per bar, so every bar gets its label.
            .y_grid_spacer(move |_| {
                (0..count)
                    .map(|i| egui_plot::GridMark {
                        value: i as f64,
                        step_size: 1.0,
                    })
                    .collect()
            })
            .allow_drag(false)
            .allow_zoom(false)
            .allow_scroll(false)
            .allow_boxed_zoom(false)
            .include_x(0.0)
            .include_y(-0.6)
            .include_y(count as f64 - 0.4)
            .show(ui, |plot| {
                plot.bar_chart(BarChart::new(title, bars).horizontal())
            });
        for (i, (label, n)) in items.iter().enumerate() {
            let center = response
                .transform
                .position_from_point(&PlotPoint::new(*n / 2.0, i as f64));
            self.bar_centers.push((label.clone(), center));
        }
        let pos = response
            .response
            .clicked()
            .then(|| response.response.interact_pointer_pos())
            .flatten()?;
        let value = response.transform.value_from_position(pos);
        let i = bar_index(value.y.round(), count)?;
        let hit = (value.y - i as f64).abs() <= 0.35 && value.x >= 0.0 && value.x <= items[i].1;
        hit.then_some(i)
    }

    fn top_ports(
        &mut self,
        ui: &mut egui::Ui,
        latest: &SampleStats,
        view: Option<&ComputedView>,
    ) -> Vec<Command> {
        let registry = view.map_or_else(Registry::global, |v| v.registry);
        let shown = view
            .map(|v| &*v.input.snapshot)
            .filter(|s| s.spans_namespaces());
        let items: Vec<(String, f64)> = latest
            .top_ports
            .iter()
            .map(|p| {
                let name = registry.name(p.port, p.protocol);
                let mut label = if name.is_empty() {
                    format!("{}/{}", p.port, p.protocol)
                } else {
                    format!("{}/{} {name}", p.port, p.protocol)
                };
                // Another namespace's port is another port: say whose.
                let namespace = shown
                    .filter(|s| s.sampler_netns() != p.netns)
                    .map(|s| s.namespace_label(p.netns))
                    .unwrap_or_default();
                if !namespace.is_empty() {
                    label.push_str(&format!(" ({namespace})"));
                }
                (label, f64::from(p.count))
            })
            .collect();
        let clicked = self.clickable_bars(
            ui,
            "chart-top-ports",
            "Top ports now (click a bar to filter)",
            "sockets now",
            "service port",
            &items,
        );
        if latest.other_ports > 0 {
            ui.label(format!("other ports: {} sockets", latest.other_ports));
        }
        clicked
            .and_then(|i| latest.top_ports.get(i))
            .map(|p| {
                let filter = match (shown, p.netns) {
                    (Some(_), Some(netns)) => format!("port:{} ns:{netns}", p.port),
                    _ => format!("port:{}", p.port),
                };
                vec![Command::SetFilter(filter), Command::SetView(View::Sockets)]
            })
            .unwrap_or_default()
    }

    fn top_processes(&mut self, ui: &mut egui::Ui, latest: &SampleStats) -> Vec<Command> {
        let items: Vec<(String, f64)> = latest
            .top_processes
            .iter()
            .map(|p| (process_label(p.name.as_deref(), p.pid), f64::from(p.count)))
            .collect();
        let clicked = self.clickable_bars(
            ui,
            "chart-top-procs",
            "Top processes now (click a bar to filter)",
            "sockets now",
            "process",
            &items,
        );
        if latest.other_processes + latest.unowned > 0 {
            ui.label(format!(
                "other processes: {} sockets; no known owner: {}",
                latest.other_processes, latest.unowned
            ));
        }
        clicked
            .and_then(|i| latest.top_processes.get(i))
            .map(|p| {
                // A process whose name is unknown is found by its PID.
                let filter = match &p.name {
                    Some(name) => term("proc", name),
                    None => term("pid", &p.pid.to_string()),
                };
                vec![Command::SetFilter(filter), Command::SetView(View::Sockets)]
            })
            .unwrap_or_default()
    }

    /// The busiest TCP connections since the previous sample; clicking one selects it in the table.
    fn busiest_connections(&mut self, ui: &mut egui::Ui, view: &ComputedView) -> Vec<Command> {
        let snap = &view.input.snapshot;
        let rows: Vec<(&SocketEntry, f64)> = view
            .traffic
            .busiest
            .iter()
            .filter_map(|(i, rate)| Some((snap.sockets.get(*i)?, rate.total() / 1000.0)))
            .collect();
        if rows.is_empty() {
            ui.label(RichText::new("Busiest connections now").strong());
            ui.label("No TCP connection moved data since the previous sample.");
            return Vec::new();
        }
        let items: Vec<(String, f64)> = rows
            .iter()
            .map(|(s, kbps)| {
                let owner = snap.process_name(s).unwrap_or("?");
                (format!("{} {owner}", s.tuple()), *kbps)
            })
            .collect();
        let clicked = self.clickable_bars(
            ui,
            "chart-busiest",
            "Busiest connections now: KB/s in + out (click a bar to inspect)",
            "KB/s since the previous sample",
            "connection",
            &items,
        );
        clicked
            .and_then(|i| rows.get(i))
            .map(|(s, _)| {
                vec![
                    Command::SetView(View::Sockets),
                    Command::SelectSocket(Some(s.key())),
                ]
            })
            .unwrap_or_default()
    }
}

/// How much history is kept (a choice) and how much is held.
fn history_length(ui: &mut egui::Ui, history: &History, series: &Series) -> Vec<Command> {
    let mut commands = Vec::new();
    ui.horizontal(|ui| {
        let keep = history.capacity();
        let label = |n: usize| format!("keep {} samples ({} h at 1 Hz)", n, n / 3600);
        egui::ComboBox::new("history-length", "of history")
            .selected_text(label(keep))
            .show_ui(ui, |ui| {
                for n in [3600, 6 * 3600, 24 * 3600] {
                    if ui.selectable_label(keep == n, label(n)).clicked() && keep != n {
                        commands.push(Command::SetHistorySamples(n));
                    }
                }
            });
        ui.label(format!(
            "{} samples held, since {}",
            series.samples,
            clock(series.since)
        ));
    });
    commands
}

/// Sockets by TCP state, and UDP, over time.
fn states_plot(ui: &mut egui::Ui, series: &Series) {
    ui.label(RichText::new("Sockets by TCP state, and UDP").strong());
    time_plot("chart-states", "sockets").show(ui, |plot| {
        for (state, points) in &series.states {
            plot.line(Line::new(state.as_str(), points.clone()).color(state_color(*state)));
        }
        plot.line(Line::new("UDP", series.udp.clone()).color(Color32::from_rgb(100, 200, 220)));
    });
}

/// Sockets opened (up) and closed (down) per sample.
fn churn_plot(ui: &mut egui::Ui, series: &Series) {
    ui.label(RichText::new("Churn: sockets opened (up) and closed (down) per sample").strong());
    time_plot("chart-churn", "sockets per sample").show(ui, |plot| {
        let bars = |points: &[[f64; 2]], sign: f64| -> Vec<Bar> {
            points
                .iter()
                .map(|[x, y]| Bar::new(*x, sign * y).width(series.bar_width))
                .collect()
        };
        plot.bar_chart(
            BarChart::new("opened", bars(&series.opened, 1.0))
                .color(Color32::from_rgb(80, 200, 120)),
        );
        plot.bar_chart(
            BarChart::new("closed", bars(&series.closed, -1.0))
                .color(Color32::from_rgb(230, 80, 80)),
        );
    });
}

/// Local ports by RFC 6335 class, and how many lie in the ephemeral range: `range` is the sampler's,
/// and whether the sample spans namespaces (each counted against its own range).
fn classes_plot(ui: &mut egui::Ui, series: &Series, range: Option<(PortRange, bool)>) {
    ui.label(
        RichText::new("Local ports by RFC 6335 class, and in the OS ephemeral range").strong(),
    );
    time_plot("chart-classes", "sockets").show(ui, |plot| {
        for (class, points) in &series.classes {
            plot.line(Line::new(
                format!("{class} ({}–{})", class.bounds().0, class.bounds().1),
                points.clone(),
            ));
        }
        let name = match range {
            Some((_, true)) => "ephemeral (each namespace's range)".to_owned(),
            Some((r, false)) => format!("ephemeral {}–{}", r.low, r.high),
            None => "ephemeral".to_owned(),
        };
        plot.line(Line::new(name, series.ephemeral.clone()));
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::history::NameInterner;
    use crate::model::snapshot::Snapshot;

    #[test]
    fn downsampling_keeps_peaks_and_bounds_points() {
        let mut names = NameInterner::default();
        let stats: Vec<SampleStats> = (0..3600)
            .map(|i| {
                let mut s = Snapshot::empty("h", Utc.timestamp_opt(1_700_000_000 + i, 0).unwrap());
                s.sockets.clear();
                let mut st = SampleStats::of(&s, None, &mut names, Registry::global());
                st.udp = if i == 1234 { 999 } else { 1 };
                st
            })
            .collect();
        let refs: Vec<&SampleStats> = stats.iter().collect();
        let points = downsample(&refs, 800, |s| f64::from(s.udp));
        assert!(points.len() <= 800);
        assert!(
            points.iter().any(|p| p[1] == 999.0),
            "a one-sample spike survives"
        );
        assert!(
            points.windows(2).all(|w| w[0][0] < w[1][0]),
            "time increases"
        );
        assert_eq!(downsample(&refs[..10], 800, |s| f64::from(s.udp)).len(), 10);
    }
}

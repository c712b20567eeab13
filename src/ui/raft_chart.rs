//! The Raft pane's chart: the highest Blue and the highest Green committed index over the
//! session, so a catch-up (lines meeting) or a stall (Blue flat, Green rising) is seen.
//! Draws at most two points per column, whatever the history's length.
//!
//! The axes move in steps, not with every sample: the time window grows through nice widths
//! (2 m, 5 m, 10 m, 20 m, …) with its left edge on a multiple of an eighth of it and labelled
//! with the clock times of its edges, the value axis snaps to round numbers (its span at least
//! doubling when a value leaves it), and the points kept are the first of each column's time
//! slot. A new sample then adds a point at the right end of the line instead of redrawing the
//! whole chart, which is what an idle console writes to its terminal.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Style};
use ratatui::symbols::Marker;
use ratatui::text::Span;
use ratatui::widgets::{Axis, Chart, Dataset, GraphType};

use super::theme::Theme;
use crate::domain::raft_history::{RaftHistory, RaftPoint};

/// Nice window widths in seconds (then whole hours).
const WINDOWS: [i64; 8] = [120, 300, 600, 1_200, 1_800, 3_600, 7_200, 14_400];

/// The window: its left edge (seconds since the epoch) and width, the first nice width
/// (with its left edge snapped down to an eighth of it) that holds `first..=last`.
fn window(first: i64, last: i64) -> (i64, i64) {
    let fits = |w: i64| {
        let eighth = (w / 8).max(1);
        let left = first.div_euclid(eighth) * eighth;
        (left + w >= last).then_some((left, w))
    };
    WINDOWS
        .iter()
        .find_map(|&w| fits(w))
        .or_else(|| {
            let hours = (last - first) / 3_600 + 2;
            fits(hours * 3_600)
        })
        .unwrap_or((first, (last - first).max(1)))
}

/// `lo..hi` widened to a round axis: a span of 1, 2 or 5 times a power of ten, the smallest
/// that holds `hi` from `lo` rounded down to a multiple of the next smaller such number. It
/// changes only when a value leaves it, and then its span at least doubles: a steadily
/// growing index (the committed index of a live cluster) redraws the whole line ever more
/// rarely instead of every few samples.
fn snap(lo: f64, hi: f64) -> (f64, f64) {
    let (mut below, mut span) = (1.0_f64, 1.0_f64);
    for k in 0usize.. {
        let base = (lo / below).floor() * below;
        if base + span >= hi || !span.is_finite() {
            return (base.max(0.0), base + span);
        }
        below = span;
        span *= if k % 3 == 1 { 2.5 } else { 2.0 };
    }
    (lo, hi)
}

pub(crate) fn render(history: &RaftHistory, t: Theme, frame: &mut Frame, area: Rect) {
    let points = history.points();
    let (Some(first), Some(last)) = (points.front(), points.back()) else {
        return;
    };
    let (left, width) = window(first.at.as_second(), last.at.as_second());
    let budget = i64::from(area.width).saturating_mul(2).max(2);
    let slot = |p: &RaftPoint| (p.at.as_second() - left) * budget / width;
    let series = |pick: fn(&RaftPoint) -> Option<u64>| -> Vec<(f64, f64)> {
        let mut out: Vec<(f64, f64)> = Vec::new();
        let mut previous = None;
        for p in points {
            let s = slot(p);
            // The first point of each slot (it never changes once drawn), and the newest.
            if previous != Some(s) || std::ptr::eq(p, last) {
                previous = Some(s);
                if let Some(v) = pick(p) {
                    let x = p.at.as_millisecond() as f64 / 1000.0 - left as f64;
                    out.push((x, v as f64));
                }
            }
        }
        out
    };
    let blue = series(|p| p.blue);
    let green = series(|p| p.green);
    let values = || blue.iter().chain(&green).map(|&(_, v)| v);
    let (Some(lo), Some(hi)) = (values().reduce(f64::min), values().reduce(f64::max)) else {
        return;
    };
    let (lo, hi) = snap(lo, hi);
    let (blue_style, green_style) = if t.color {
        (Style::new().fg(Color::Blue), Style::new().fg(Color::Green))
    } else {
        (Style::new(), Style::new())
    };
    let datasets = vec![
        Dataset::default()
            .name("Blue max committed")
            .marker(Marker::Braille)
            .graph_type(GraphType::Line)
            .style(blue_style)
            .data(&blue),
        Dataset::default()
            .name("Green max committed")
            .marker(if t.color {
                Marker::Braille
            } else {
                Marker::Dot
            })
            .graph_type(GraphType::Line)
            .style(green_style)
            .data(&green),
    ];
    let clock = |secs: i64| {
        jiff::Timestamp::from_second(secs)
            .map_or_else(|_| "?".into(), |t| t.strftime("%H:%M:%SZ").to_string())
    };
    let chart = Chart::new(datasets)
        .x_axis(
            Axis::default()
                .bounds([0.0, width as f64])
                .labels([Span::raw(clock(left)), Span::raw(clock(left + width))]),
        )
        .y_axis(
            Axis::default()
                .bounds([lo, hi])
                .labels([Span::raw(format!("{lo:.0}")), Span::raw(format!("{hi:.0}"))]),
        )
        .hidden_legend_constraints((
            ratatui::layout::Constraint::Ratio(1, 2),
            ratatui::layout::Constraint::Ratio(1, 2),
        ));
    frame.render_widget(chart, area);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_grows_in_steps_and_holds_every_point() {
        let t0 = 1_764_000_003;
        let mut widths = Vec::new();
        for age in 0..4_000 {
            let (left, w) = window(t0, t0 + age);
            assert!(left <= t0 && t0 + age <= left + w, "{age}: {left} {w}");
            assert_eq!(left % (w / 8).max(1), 0);
            if widths.last() != Some(&w) {
                widths.push(w);
            }
        }
        assert_eq!(widths, [120, 300, 600, 1_200, 1_800, 3_600, 7_200]);
    }

    #[test]
    fn the_value_axis_snaps_to_round_steps() {
        assert_eq!(snap(72.0, 121.0), (50.0, 150.0));
        assert_eq!(
            snap(72.0, 125.0),
            (50.0, 150.0),
            "a value inside: the same axis"
        );
        assert_eq!(snap(5.0, 5.0), (5.0, 6.0));
        assert_eq!(snap(1_000_010.0, 1_000_900.0), (1_000_000.0, 1_001_000.0));
    }

    #[test]
    fn a_growing_value_changes_the_axis_rarely() {
        let mut axes: Vec<(f64, f64)> = Vec::new();
        for hi in 69..=20_000 {
            let (lo, top) = snap(69.0, f64::from(hi));
            assert!(lo <= 69.0 && f64::from(hi) <= top, "{hi}: {lo}..{top}");
            if axes.last() != Some(&(lo, top)) {
                if let Some(&(plo, ptop)) = axes.last() {
                    assert!(
                        top - lo >= 2.0 * (ptop - plo),
                        "{plo}..{ptop} to {lo}..{top}"
                    );
                }
                axes.push((lo, top));
            }
        }
        assert!(axes.len() <= 15, "{axes:?}");
    }
}

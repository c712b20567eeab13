//! The Raft pane's chart: the highest Blue and the highest Green committed index over the
//! session, so a catch-up (lines meeting) or a stall (Blue flat, Green rising) is seen.
//! Draws at most two points per column, whatever the history's length.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Style};
use ratatui::symbols::Marker;
use ratatui::text::Span;
use ratatui::widgets::{Axis, Chart, Dataset, GraphType};

use super::theme::Theme;
use crate::domain::raft_history::{RaftHistory, RaftPoint};

pub(crate) fn render(history: &RaftHistory, t: Theme, frame: &mut Frame, area: Rect) {
    let points = history.points();
    let (Some(first), Some(last)) = (points.front(), points.back()) else {
        return;
    };
    let t0 = first.at;
    let span_s = last.at.duration_since(t0).as_secs_f64().max(1.0);
    let budget = usize::from(area.width).saturating_mul(2).max(2);
    let stride = points.len().div_ceil(budget).max(1);
    let series = |pick: fn(&RaftPoint) -> Option<u64>| -> Vec<(f64, f64)> {
        points
            .iter()
            .step_by(stride)
            .chain(std::iter::once(last))
            .filter_map(|p| {
                let v = pick(p)?;
                Some((p.at.duration_since(t0).as_secs_f64(), v as f64))
            })
            .collect()
    };
    let blue = series(|p| p.blue);
    let green = series(|p| p.green);
    let values = || blue.iter().chain(&green).map(|&(_, v)| v);
    let (Some(lo), Some(hi)) = (values().reduce(f64::min), values().reduce(f64::max)) else {
        return;
    };
    let pad = ((hi - lo) * 0.05).max(1.0);
    let (lo, hi) = ((lo - pad).max(0.0), hi + pad);
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
    let secs = span_s.round() as i64;
    let chart = Chart::new(datasets)
        .x_axis(Axis::default().bounds([0.0, span_s]).labels([
            Span::raw(format!("-{}", super::fmt_age(secs))),
            Span::raw("now"),
        ]))
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

//! The Raft pane: one row per node reading, grouped Blue then Green, with lag against the
//! highest committed index, and a Blue-behind-Green summary against the executor's sync
//! threshold. Shows what the poller sends; it does not know whether endpoints are real.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

use super::theme::Theme;
use super::{PaneView, clean, draw_text, fmt_age, pane_block};
use crate::app::{Focus, State};
use crate::domain::raft::{self, SYNC_THRESHOLD};
use crate::domain::{RaftReading, Side};

/// Below this inner width pod names are shortened to `blue-0`.
const FULL_NAMES_MIN_WIDTH: u16 = 75;

pub(crate) fn render(state: &State, view: PaneView, frame: &mut Frame, area: Rect) {
    let block = pane_block(state, Focus::Raft, view, None);
    let short = area.width.saturating_sub(2) < FULL_NAMES_MIN_WIDTH;
    draw_text(
        frame,
        area,
        block,
        lines(state, view.theme, short),
        state.raft_scroll,
        (!view.collapsed).then_some("j/PgDn"),
    );
}

fn lines(state: &State, t: Theme, short: bool) -> Vec<Line<'static>> {
    let readings = &state.incident.raft;
    if readings.is_empty() {
        return vec![Line::styled("no Raft readings yet", t.dim())];
    }
    let mut out = vec![summary(readings, t)];
    let label = |r: &RaftReading| {
        if short {
            let ordinal = r.pod.rsplit('-').next().unwrap_or("?");
            format!("{}-{ordinal}", r.side.label())
        } else {
            r.pod.clone()
        }
    };
    let w = readings
        .iter()
        .map(|r| label(r).chars().count())
        .max()
        .unwrap_or(3)
        .max(3);
    out.push(Line::styled(
        format!(
            "{:<w$} {:<11} {:>9} {:>9} {:>6} {:>4}",
            "pod", "role", "committed", "applied", "lag", "age"
        ),
        t.label(),
    ));
    for side in [Side::Blue, Side::Green, Side::Other] {
        let rows: Vec<&RaftReading> = readings.iter().filter(|r| r.side == side).collect();
        if rows.is_empty() {
            continue;
        }
        out.push(Line::styled(
            match side {
                Side::Blue => "Blue",
                Side::Green => "Green",
                Side::Other => "Other",
            },
            t.label(),
        ));
        for r in rows {
            out.extend(row(state, r, &label(r), w, t));
        }
    }
    out
}

fn summary(readings: &[RaftReading], t: Theme) -> Line<'static> {
    match raft::blue_behind_green(readings) {
        None => Line::styled(
            "Blue vs Green: not comparable (a side has no committed index)",
            t.dim(),
        ),
        Some(lag) if lag > SYNC_THRESHOLD => Line::from(vec![
            Span::styled("[LAG]", t.warn()),
            Span::raw(format!(
                " Blue is {lag} entries behind Green (sync threshold {SYNC_THRESHOLD})"
            )),
        ]),
        Some(lag) => Line::from(vec![
            Span::styled("[ok]", t.ok()),
            Span::raw(format!(
                " Blue is {lag} entries behind Green (within sync threshold {SYNC_THRESHOLD})"
            )),
        ]),
    }
}

fn row(state: &State, r: &RaftReading, label: &str, w: usize, t: Theme) -> Vec<Line<'static>> {
    let (role, role_style) = if !r.reachable {
        ("unreachable", t.error())
    } else if r.is_leader {
        ("leader", t.info())
    } else {
        ("follower", ratatui::style::Style::new())
    };
    let num = |v: Option<u64>| v.map_or("-".to_string(), |n| n.to_string());
    let lag = raft::lag(r, &state.incident.raft);
    let lag_text = match lag {
        Some(l) if l > SYNC_THRESHOLD => format!("{l}!"),
        other => num(other),
    };
    let lag_style = match lag {
        Some(l) if l > SYNC_THRESHOLD => t.warn(),
        _ => ratatui::style::Style::new(),
    };
    let age = fmt_age(state.now.duration_since(r.at).as_secs().max(0));
    let mut out = vec![Line::from(vec![
        Span::raw(format!("{label:<w$} ")),
        Span::styled(format!("{role:<11}"), role_style),
        Span::raw(format!(" {:>9} {:>9} ", num(r.committed), num(r.applied))),
        Span::styled(format!("{lag_text:>6}"), lag_style),
        Span::raw(format!(" {age:>4}")),
    ])];
    if let Some(e) = &r.error {
        out.push(Line::styled(format!("  {}", clean(e)), t.dim()));
    }
    out
}

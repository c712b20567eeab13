//! Where each pane goes for a given terminal size and focus (pure geometry).
//!
//! Wide terminals (≥ 100 columns, ≥ 20 rows) get a 2x2 grid. Anything smaller (80x24 over
//! SSH) gets a stack: the focused pane takes the room, the others shrink to their title and
//! one summary line, so everything essential stays readable. `app::update` asks the same
//! function how many log rows are visible, so paging and pausing match what is drawn.

use ratatui::layout::{Constraint, Layout, Rect};

use crate::app::Focus;

pub(crate) const WIDE_MIN_WIDTH: u16 = 100;
pub(crate) const WIDE_MIN_HEIGHT: u16 = 20;
/// Rows of a collapsed pane: its title line and one summary line.
pub(crate) const COLLAPSED_ROWS: u16 = 2;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Panes {
    pub header: Rect,
    pub footer: Rect,
    /// In `Focus::ALL` order.
    pub panes: [Rect; 4],
    /// Panes other than the focused one are collapsed to `COLLAPSED_ROWS`.
    pub compact: bool,
}

impl Panes {
    pub fn get(&self, pane: Focus) -> Rect {
        let i = Focus::ALL.iter().position(|f| *f == pane).unwrap_or(0);
        self.panes[i]
    }

    /// A collapsed pane draws only a top border (its title) above its summary line.
    pub(crate) fn collapsed(&self, pane: Focus, focus: Focus) -> bool {
        self.compact && pane != focus
    }
}

pub(crate) fn compute(area: Rect, focus: Focus) -> Panes {
    let [header, body, footer] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(0),
        Constraint::Length(1),
    ])
    .areas(area);
    if area.width >= WIDE_MIN_WIDTH && area.height >= WIDE_MIN_HEIGHT {
        let [top, bottom] =
            Layout::vertical([Constraint::Percentage(55), Constraint::Percentage(45)]).areas(body);
        let [health, raft] =
            Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(top);
        let [logs, decision] =
            Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)])
                .areas(bottom);
        return Panes {
            header,
            footer,
            panes: [health, raft, logs, decision],
            compact: false,
        };
    }
    let mut panes = [Rect::default(); 4];
    if body.height < COLLAPSED_ROWS * 3 + 3 {
        // Too short for a stack: the focused pane alone.
        for (i, f) in Focus::ALL.iter().enumerate() {
            if *f == focus {
                panes[i] = body;
            }
        }
    } else {
        let constraints = Focus::ALL.map(|f| {
            if f == focus {
                Constraint::Min(0)
            } else {
                Constraint::Length(COLLAPSED_ROWS)
            }
        });
        let rects = Layout::vertical(constraints).split(body);
        for (slot, r) in panes.iter_mut().zip(rects.iter()) {
            *slot = *r;
        }
    }
    Panes {
        header,
        footer,
        panes,
        compact: true,
    }
}

/// Rows inside a pane's block.
pub(crate) fn inner_rows(area: Rect, collapsed: bool) -> u16 {
    if collapsed {
        area.height.saturating_sub(1)
    } else {
        area.height.saturating_sub(2)
    }
}

/// The Logs pane keeps its last row for the meaning of the last matched line when it has
/// room for at least three log rows.
pub(crate) fn log_body_rows(inner_rows: u16) -> u16 {
    if inner_rows >= 4 {
        inner_rows - 1
    } else {
        inner_rows
    }
}

/// Visible log rows for a terminal size and focus (used by `update` for paging).
pub(crate) fn visible_log_rows(size: (u16, u16), focus: Focus) -> u16 {
    let p = compute(Rect::new(0, 0, size.0, size.1), focus);
    log_body_rows(inner_rows(
        p.get(Focus::Logs),
        p.collapsed(Focus::Logs, focus),
    ))
}

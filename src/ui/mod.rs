//! Rendering: one function per pane and dialog, read-only over `app::State`.
//!
//! `render` draws the header (where am I, is break glass active), the four panes placed by
//! `layout`, the footer (the staleness banner, else key hints from the keymap), then any
//! overlay (dialog, help). Every pane title carries its data age and `[STALE]`; every
//! colour has a text badge beside it, so `color: false` loses no meaning.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

use crate::app::msg::SourceName;
use crate::app::{Focus, State, contexts};

mod decision;
mod decision_notes;
mod dialog;
mod dialog_pause;
mod events;
mod header;
mod health;
mod help;
pub(crate) mod heredoc;
pub mod layout;
mod logs;
pub mod picker;
mod raft;
mod raft_chart;
#[cfg(test)]
mod raft_tests;
pub mod theme;
mod wizard;

#[cfg(test)]
pub(crate) mod test_screen;
#[cfg(test)]
mod tests;

use theme::Theme;

/// How a pane is drawn this frame.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PaneView {
    pub theme: Theme,
    pub focused: bool,
    /// Only a title line and one summary line (the stacked small-terminal layout).
    pub collapsed: bool,
}

pub fn render(state: &State, frame: &mut Frame) {
    let area = frame.area();
    if area.width == 0 || area.height == 0 {
        return;
    }
    let theme = Theme {
        color: state.opts.color,
    };
    let panes = layout::compute(area, state.focus);
    header::render(state, theme, frame, panes.header);
    for pane in Focus::ALL {
        let rect = panes.get(pane);
        if rect.width == 0 || rect.height == 0 {
            continue;
        }
        let view = PaneView {
            theme,
            focused: pane == state.focus,
            collapsed: panes.collapsed(pane, state.focus),
        };
        match pane {
            Focus::Health => health::render(state, view, frame, rect),
            Focus::Raft => raft::render(state, view, frame, rect),
            Focus::Logs => logs::render(state, view, frame, rect),
            Focus::Decision => decision::render(state, view, frame, rect),
        }
    }
    footer(state, theme, frame, panes.footer);
    if let Some(d) = &state.dialog {
        // The header (where, which mode, break glass) and the footer (the dialog's keys)
        // stay visible around a confirmation, however long it is (the rest scrolls).
        let between = Rect {
            y: area.y.saturating_add(1),
            height: area.height.saturating_sub(2),
            ..area
        };
        dialog::render(state, d, theme, frame, between);
    }
    if let Some(w) = &state.wizard {
        wizard::render(state, w, theme, frame, area);
    }
    if state.help {
        let scope = state
            .scope_watch
            .help_lines(state.source(SourceName::Scope).problem.as_deref());
        let notes = (state.log_file.as_str(), scope.as_slice());
        help::render(theme, state.keys(), state.help_scroll, notes, frame, area);
    }
}

/// Strings from the API server (status messages, steps, error texts) get the same
/// neutralising as log lines: they are written by other programs too.
pub(crate) fn clean(s: &str) -> String {
    crate::logs::sanitize(s)
}

/// `3s`, `40s`, `4m`, `2h`: short enough for a pane title, and coarser the older it is
/// (every second up to 10 s, every 10 s up to a minute, then minutes, then hours past two
/// hours), so that an age on screen changes its text, and the terminal is written to, less
/// often as it grows.
pub(crate) fn fmt_age(secs: i64) -> String {
    match secs {
        s if s < 10 => format!("{s}s"),
        s if s < 60 => format!("{}s", s / 10 * 10),
        s if s < 7_200 => format!("{}m", s / 60),
        s => format!("{}h", s / 3_600),
    }
}

/// A pane's age in its title: `now` while its data is under two seconds old (a pane polled
/// every second would flap between `0s` and `1s`, writing to the terminal for nothing), then
/// [`fmt_age`].
fn title_age(secs: i64) -> String {
    if secs < 2 {
        "now".into()
    } else {
        fmt_age(secs)
    }
}

/// The pane's block: `Health · 3s [STALE]`, plus an optional detail after the age.
pub(crate) fn pane_block(
    state: &State,
    pane: Focus,
    view: PaneView,
    detail: Option<String>,
) -> Block<'static> {
    let t = view.theme;
    let mut spans = vec![
        Span::styled(format!(" {}", pane.title()), t.label()),
        Span::raw(" · "),
        Span::raw(state.pane_age(pane).map_or("no data".into(), title_age)),
    ];
    if state.pane_stale(pane) {
        spans.push(Span::raw(" "));
        spans.push(Span::styled("[STALE]", t.warn()));
    }
    if let Some(d) = detail {
        spans.push(Span::raw(" · "));
        spans.push(Span::raw(d));
    }
    spans.push(Span::raw(" "));
    let borders = if view.collapsed {
        Borders::TOP
    } else {
        Borders::ALL
    };
    Block::new()
        .borders(borders)
        .border_style(t.border(view.focused))
        .title(Line::from(spans))
}

/// Draw `lines` in the pane's block, scrolled by `scroll` (clamped to the content).
pub(crate) fn draw_text(
    frame: &mut Frame,
    area: Rect,
    block: Block<'static>,
    lines: Vec<Line<'static>>,
    scroll: u16,
    more_hint: Option<&'static str>,
) {
    // Wrapped rows, estimated by width (word wrap can add a few, hence the slack), so the
    // end of long content stays reachable without scrolling far into blank space.
    let width = usize::from(block.inner(area).width).max(1);
    let rows: usize = lines.iter().map(|l| l.width().div_ceil(width).max(1)).sum();
    let max = u16::try_from(rows + rows / 4).unwrap_or(u16::MAX);
    let scroll = scroll.min(max);
    let visible = usize::from(block.inner(area).height);
    let mut block = block;
    if let Some(hint) = more_hint {
        // Say that there is more, and which key reaches it, on the bottom border.
        if rows > visible + usize::from(scroll) {
            block = block.title_bottom(Line::from(format!(" ↓ more: {hint} ")).right_aligned());
        } else if scroll > 0 {
            block = block.title_bottom(Line::from(" ↑ scrolled ").right_aligned());
        }
    }
    let p = Paragraph::new(lines)
        .block(block)
        .wrap(ratatui::widgets::Wrap { trim: false })
        .scroll((scroll, 0));
    frame.render_widget(p, area);
}

/// `label value` with the label in bold.
pub(crate) fn kv(t: Theme, label: &str, value: impl Into<String>) -> Line<'static> {
    Line::from(vec![
        Span::styled(format!("{label} "), t.label()),
        Span::raw(value.into()),
    ])
}

/// The banner for the first source with a problem: what, since when.
pub(crate) fn banner(state: &State) -> Option<String> {
    let mut problems = state.problems();
    let (source, message) = problems.next()?;
    let more = problems.count();
    let age = state
        .age_secs(source)
        .map_or("no data yet".into(), |a| format!("data {a} s old"));
    // The journal is written, not read: its failure is evidence not kept, never stale data.
    if source == crate::app::msg::SourceName::Journal {
        let mut s = format!("[NOT SAVED] journal: {}", clean(message));
        if more > 0 {
            s.push_str(&format!(" (+{more} more)"));
        }
        return Some(s);
    }
    // A source that stopped on purpose (a 401) is not retrying: the banner must not say so.
    let retrying = if message.contains(crate::app::msg::READS_STOPPED) {
        ""
    } else {
        " — retrying"
    };
    let mut s = format!(
        "[STALE] {}: {}{retrying}; {age}",
        source.label(),
        clean(message)
    );
    if more > 0 {
        s.push_str(&format!(" (+{more} more)"));
    }
    Some(s)
}

fn footer(state: &State, t: Theme, frame: &mut Frame, area: Rect) {
    let mut spans = Vec::new();
    if let Some(b) = banner(state) {
        spans.push(Span::styled(b, t.warn()));
        spans.push(Span::raw("  "));
    } else if let Some(u) = &state.unparseable {
        spans.push(Span::styled(
            format!("[UNPARSEABLE] {}", clean(u)),
            t.error(),
        ));
        spans.push(Span::raw("  "));
    } else if let Some(Err(e)) = &state.logs.saved_to {
        spans.push(Span::styled(format!("[NOT SAVED] {}", clean(e)), t.warn()));
        spans.push(Span::raw("  "));
    }
    // What `y` just copied (or why nothing) comes before the hints for a few seconds.
    if let Some(note) = state.footer_note() {
        spans.push(Span::styled(clean(note), t.ok()));
        spans.push(Span::raw("  "));
    }
    for (i, (key, hint)) in state.keys().hints(&contexts(state)).into_iter().enumerate() {
        if i > 0 {
            spans.push(Span::raw(" · "));
        }
        spans.push(Span::styled(key, t.label()));
        spans.push(Span::raw(format!(" {hint}")));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)).style(Style::new()), area);
}

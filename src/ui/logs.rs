//! The Logs pane: the followed repair Job's executor output, attempt markers, severity
//! badges, and the meaning of the last matched line on the bottom row.
//!
//! Only the visible rows are touched: the store is indexed by sequence number, never
//! iterated whole, so a 100 000-line buffer costs the same to draw as a 10-line one.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::layout::{inner_rows, log_body_rows};
use super::theme::Theme;
use super::{PaneView, pane_block};
use crate::app::state::{LogPane, attempt_of};
use crate::app::{Focus, State};
use crate::logs::{LineKind, StoredLine};
use crate::patterns::{self, Resolution, Rule, RuleProblem, Severity};

/// Width of the badge gutter (`[ERR] `).
const GUTTER: usize = 6;

pub(crate) fn render(state: &State, view: PaneView, frame: &mut Frame, area: Rect) {
    let t = view.theme;
    let logs = &state.logs;
    let block = pane_block(state, Focus::Logs, view, Some(title_detail(logs)));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let rows = log_body_rows(inner_rows(area, view.collapsed)).min(inner.height);
    let body = Rect {
        height: rows,
        ..inner
    };
    let store = &logs.store;
    if store.is_empty() {
        let msg = match &logs.job {
            Some(j) => format!("no lines yet from job {j}"),
            None => "no log lines yet (waiting for the repair Job's pod)".into(),
        };
        frame.render_widget(Paragraph::new(Line::styled(msg, t.dim())), body);
        return;
    }
    if view.collapsed {
        // One summary line: what the newest known pattern means beats the raw tail.
        if let Some((_, rule, severity)) = store.last_match() {
            frame.render_widget(Paragraph::new(meaning(Some((rule, severity)), t)), body);
            return;
        }
    }
    let start = logs.first_visible(rows);
    let mut last_visible_match = None;
    let lines: Vec<Line> = store
        .range(start, usize::from(rows))
        .map(|(seq, l)| {
            if let Some(m) = l.matched() {
                last_visible_match = Some((seq, m));
            }
            line(l, logs.hscroll, body.width, t)
        })
        .collect();
    frame.render_widget(Paragraph::new(lines), body);
    if inner.height > rows {
        let meaning_row = Rect {
            y: inner.y + rows,
            height: 1,
            ..inner
        };
        let matched = last_visible_match
            .map(|(_, m)| m)
            .or(store.last_match().map(|(_, r, s)| (r, s)));
        frame.render_widget(Paragraph::new(meaning(matched, t)), meaning_row);
    }
}

/// `[FOLLOW] · [ENDED] · dropped N · attempt N · job`.
fn title_detail(logs: &LogPane) -> String {
    // Short, always-relevant parts first: the job name is long and may be cut.
    let mut parts = vec![if logs.follow { "[FOLLOW]" } else { "[PAUSED]" }.to_string()];
    if logs.ended {
        parts.push("[ENDED]".into());
    }
    if !patterns::active().problems().is_empty() {
        parts.push(format!(
            "[PATTERNS ✗{}]",
            patterns::active().problems().len()
        ));
    }
    if logs.store.dropped() > 0 {
        parts.push(format!("dropped {}", logs.store.dropped()));
    }
    match &logs.saved_to {
        Some(Ok(dir)) => parts.push(format!("saved {dir}")),
        Some(Err(e)) => parts.push(format!("[{e}]")),
        None => {}
    }
    if let Some(j) = &logs.job {
        let attempt = attempt_of(logs.run_id.as_deref()).map_or("?".into(), |a| a.to_string());
        parts.push(format!("attempt {attempt} · {j}"));
    }
    parts.join(" · ")
}

fn line(l: &StoredLine, hscroll: u16, width: u16, t: Theme) -> Line<'static> {
    // Only what fits is sliced and matched: a 16 KiB line costs its visible width.
    let text: String = l
        .text
        .chars()
        .skip(usize::from(hscroll))
        .take(usize::from(width))
        .collect();
    match l.kind {
        LineKind::Marker => Line::styled(text, t.marker()),
        LineKind::Log(Some((_, severity))) => {
            let mut spans = vec![Span::styled(
                format!("{} ", severity.badge()),
                t.severity(severity),
            )];
            spans.extend(highlighted(text, t));
            Line::from(spans)
        }
        LineKind::Log(None) => Line::from(vec![Span::raw(" ".repeat(GUTTER)), Span::raw(text)]),
    }
}

/// The text with each rule match styled by its rule's severity (underlined too, so the
/// highlight survives NO_COLOR).
fn highlighted(text: String, t: Theme) -> Vec<Span<'static>> {
    let found = patterns::active().spans(&text);
    if found.is_empty() {
        return vec![Span::raw(text)];
    }
    let mut out = Vec::with_capacity(found.len() * 2 + 1);
    let mut at = 0;
    for s in found {
        if s.range.start > at {
            out.push(Span::raw(text[at..s.range.start].to_string()));
        }
        out.push(Span::styled(
            text[s.range.clone()].to_string(),
            t.severity(s.severity).add_modifier(Modifier::UNDERLINED),
        ));
        at = s.range.end;
    }
    if at < text.len() {
        out.push(Span::raw(text[at..].to_string()));
    }
    out
}

fn meaning(matched: Option<(&Rule, Severity)>, t: Theme) -> Line<'static> {
    let problems = patterns::active().problems();
    let Some((r, severity)) = matched else {
        if let Some(p) = problems.first() {
            return problem_line(p, problems.len(), t);
        }
        return Line::styled("no known pattern matched yet", t.dim());
    };
    let mut spans = vec![
        Span::styled(severity.badge(), t.severity(severity)),
        Span::raw(format!(" {}", r.meaning)),
    ];
    if r.path != Resolution::None {
        spans.push(Span::styled(format!(" → {}", r.path.name()), t.label()));
    }
    if r.runbook_only() {
        spans.push(Span::styled(" [runbook only]", t.warn()));
    }
    spans.push(Span::styled(format!(" ({})", r.id), t.dim()));
    Line::from(spans)
}

/// A broken user rule: named, never silent, and the console runs with the rest.
fn problem_line(p: &RuleProblem, n: usize, t: Theme) -> Line<'static> {
    let more = if n > 1 {
        format!(" (+{} more)", n - 1)
    } else {
        String::new()
    };
    Line::from(vec![
        Span::styled("[WRN] patterns: ", t.warn()),
        Span::raw(crate::logs::sanitize(&format!(
            "{p}{more}; the other rules are in use"
        ))),
    ])
}

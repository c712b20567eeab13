//! The Logs pane: the followed repair Job's executor output, attempt markers, severity
//! badges, and the meaning of the last matched line on the bottom row.
//!
//! Only the visible rows are touched: the store is indexed by sequence number, never
//! iterated whole, so a 100 000-line buffer costs the same to draw as a 10-line one.

use ratatui::Frame;
use ratatui::layout::Rect;
use std::ops::Range;

use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use super::layout::{inner_rows, log_body_rows};
use super::theme::Theme;
use super::{PaneView, pane_block};
use crate::app::lognav::{self, Drawn, Input, InputKind, text_of};
use crate::app::state::{LogPane, attempt_of};
use crate::app::{Focus, State};
use crate::domain::rollback_jobs::RollbackStep;
use crate::logs::fold::{self, Row};
use crate::logs::search::Query;
use crate::logs::{LineKind, StoredLine};
use crate::patterns::{self, Resolution, Rule, RuleProblem, Severity};

/// Width of the badge gutter (`[ERR] `).
const GUTTER: usize = 6;

pub(crate) fn render(state: &State, view: PaneView, frame: &mut Frame, area: Rect) {
    let t = view.theme;
    let logs = &state.logs;
    let block = pane_block(state, Focus::Logs, view, Some(title_detail(state, logs)));
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
    let visible = visible_rows(logs, start, rows, body.width);
    let mut selected = None;
    let lines: Vec<Line> = visible
        .iter()
        .map(|row| match row {
            Row::Line((seq, l)) => {
                if let Some(m) = l.matched()
                    && (selected.is_none() || logs.nav.current != selected.map(|(s, _)| s))
                {
                    selected = Some((*seq, m));
                }
                line(logs, *seq, l, body, t)
            }
            Row::Fold { lines, frames, .. } => folded(*lines, *frames, t),
        })
        .collect();
    let mut paragraph = Paragraph::new(lines);
    if logs.nav.wrap {
        paragraph = paragraph.wrap(Wrap { trim: false });
    }
    frame.render_widget(paragraph, body);
    if inner.height > rows {
        let meaning_row = Rect {
            y: inner.y + rows,
            height: 1,
            ..inner
        };
        let bottom = match &logs.nav.input {
            Some(input) => prompt(input, t),
            None => meaning(
                selected
                    .map(|(_, m)| m)
                    .or(store.last_match().map(|(_, r, s)| (r, s))),
                t,
            ),
        };
        frame.render_widget(Paragraph::new(bottom), meaning_row);
    }
}

/// The rows to draw: from `start`, or (following, with wrap or folding on) as many of the
/// newest as fill the pane. Stack traces are folded unless `x` unfolded them. Either way only
/// the visible lines are touched (plus a folded run's lines, at most [`fold::MAX_RUN`] each).
fn visible_rows(logs: &LogPane, start: u64, rows: u16, width: u16) -> Vec<Row<Drawn<'_>>> {
    let fold_on = !logs.nav.unfold_stacks;
    let rows = usize::from(rows);
    if !(logs.follow && (logs.nav.wrap || fold_on)) {
        if fold_on {
            return fold::fold(logs.rows_after(start), text_of, rows);
        }
        return logs
            .rows_from(start, rows)
            .into_iter()
            .map(Row::Line)
            .collect();
    }
    let width = usize::from(width.max(1));
    let height = |r: &Row<Drawn<'_>>| match r {
        Row::Line((_, l)) if logs.nav.wrap => {
            (GUTTER + l.text.chars().count()).div_ceil(width).max(1)
        }
        _ => 1,
    };
    logs.rows_ending_at(logs.store.end_seq(), rows, height)
}

/// A folded stack trace: one dim row saying how much is hidden and how to see it.
fn folded(lines: usize, frames: usize, t: Theme) -> Line<'static> {
    let what = match frames {
        1 => "1 stack frame".to_string(),
        n => format!("{n} stack frames"),
    };
    Line::styled(
        format!("{}▸ {what}, {lines} lines (x unfolds)", " ".repeat(GUTTER)),
        t.dim(),
    )
}

/// The query being typed, on the bottom row.
fn prompt(input: &Input, t: Theme) -> Line<'static> {
    let label = match input.kind {
        InputKind::Search => "search: /",
        InputKind::Filter => "filter (only matching lines): &",
    };
    Line::from(vec![
        Span::styled(label, t.label()),
        Span::raw(crate::logs::sanitize(&input.text)),
        Span::styled("█", t.dim()),
        Span::styled("  Enter applies · Esc cancels", t.dim()),
    ])
}

/// `[FOLLOW] · [ENDED] · dropped N · attempt N · job`.
fn title_detail(state: &State, logs: &LogPane) -> String {
    // Short, always-relevant parts first: the job name is long and may be cut.
    let mut parts = vec![if logs.follow { "[FOLLOW]" } else { "[PAUSED]" }.to_string()];
    if logs.ended {
        parts.push("[ENDED]".into());
    }
    // Not saving evidence is said early, where a narrow title still shows it (the reason
    // is the last part, and a marker in the pane).
    if matches!(logs.saved_to, Some(Err(_))) {
        parts.push("[NOT SAVED]".into());
    }
    if let Some((k, m)) = logs.nav.hit_count()
        && let Some(q) = &logs.nav.search
    {
        parts.push(format!("/{} {k} of {m}", crate::logs::sanitize(q.text())));
    }
    if let (Some(n), Some(q)) = (logs.nav.shown_count(), &logs.nav.filter) {
        let noun = if n == 1 { "line" } else { "lines" };
        parts.push(format!(
            "[FILTER &{}: {n} {noun}]",
            crate::logs::sanitize(q.text())
        ));
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
    if let Some(j) = &logs.job {
        let attempt = attempt_of(logs.run_id.as_deref()).map_or("?".into(), |a| a.to_string());
        // A RollbackCleanup Job is named as such (its action, not its name, says so).
        let cleanup = state
            .incident
            .all_jobs
            .iter()
            .find(|x| &x.name == j)
            .and_then(|x| RollbackStep::of_action(x.action.as_deref()?))
            == Some(RollbackStep::Cleanup);
        let kind = if cleanup {
            "cleanup attempt"
        } else {
            "attempt"
        };
        parts.push(format!("{kind} {attempt} · {j}"));
    }
    // Last: the job and attempt matter more on a narrow screen; each attempt's marker
    // repeats the full path.
    match &logs.saved_to {
        Some(Ok(dir)) => parts.push(format!("saved to {dir}")),
        Some(Err(e)) => parts.push(format!("[{e}]")),
        None => {}
    }
    parts.join(" · ")
}

fn line(logs: &LogPane, seq: u64, l: &StoredLine, body: Rect, t: Theme) -> Line<'static> {
    let nav = &logs.nav;
    let shown = &l.text[lognav::hidden_prefix(nav, &l.text)..];
    // Only what fits is sliced and matched: a 16 KiB line costs its visible width (or the
    // rows it can fill when wrapping).
    let take = if nav.wrap {
        usize::from(body.width) * usize::from(body.height)
    } else {
        usize::from(body.width)
    };
    let text: String = shown
        .chars()
        .skip(if nav.wrap {
            0
        } else {
            usize::from(logs.hscroll)
        })
        .take(take)
        .collect();
    let search = nav.search.as_ref().filter(|_| nav.is_hit(seq));
    match l.kind {
        LineKind::Marker => Line::styled(text, t.marker()),
        LineKind::Log(Some((_, severity))) => {
            let mut spans = vec![Span::styled(
                format!("{} ", severity.badge()),
                t.severity(severity),
            )];
            spans.extend(highlighted(text, search, t));
            Line::from(spans)
        }
        LineKind::Log(None) => {
            let mut spans = vec![Span::raw(" ".repeat(GUTTER))];
            spans.extend(highlighted(text, search, t));
            Line::from(spans)
        }
    }
}

/// The text with each rule match styled by its rule's severity (underlined too, so the
/// highlight survives NO_COLOR) and each search match reversed.
fn highlighted(text: String, search: Option<&Query>, t: Theme) -> Vec<Span<'static>> {
    let rules: Vec<(Range<usize>, Style)> = patterns::active()
        .spans(&text)
        .into_iter()
        .map(|s| {
            (
                s.range,
                t.severity(s.severity).add_modifier(Modifier::UNDERLINED),
            )
        })
        .collect();
    let hits: Vec<Range<usize>> = search.map(|q| q.ranges(&text)).unwrap_or_default();
    if rules.is_empty() && hits.is_empty() {
        return vec![Span::raw(text)];
    }
    let mut cuts: Vec<usize> = vec![0, text.len()];
    for r in rules.iter().map(|(r, _)| r).chain(hits.iter()) {
        cuts.extend([r.start, r.end]);
    }
    cuts.sort_unstable();
    cuts.dedup();
    cuts.windows(2)
        .filter_map(|w| {
            let (a, b) = (w[0], w[1]);
            let piece = text.get(a..b)?.to_string();
            let mut style = rules
                .iter()
                .find(|(r, _)| r.start <= a && a < r.end)
                .map_or(Style::new(), |(_, s)| *s);
            if hits.iter().any(|r| r.start <= a && a < r.end) {
                style = style.add_modifier(Modifier::REVERSED);
            }
            Some(Span::styled(piece, style))
        })
        .collect()
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
    let id = match r.generations_label() {
        Some(g) => format!(" ({} · {g})", r.id),
        None => format!(" ({})", r.id),
    };
    spans.push(Span::styled(id, t.dim()));
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

//! The Decision pane: the runbook's three paths, each with what the operator really does,
//! whether Retry can be sent now (and if not, why), and the outcome of the last action.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

use super::theme::Theme;
use super::{PaneView, clean, draw_text, pane_block};
use crate::app::{Focus, State};
use crate::domain::paths::{self, PathKind};
use crate::sources::ActionOutcome;

pub(crate) fn render(state: &State, view: PaneView, frame: &mut Frame, area: Rect) {
    let block = pane_block(state, Focus::Decision, view, None);
    draw_text(
        frame,
        area,
        block,
        lines(state, view.theme),
        state.decision.scroll,
        (!view.collapsed).then_some("PgDn"),
    );
}

fn lines(state: &State, t: Theme) -> Vec<Line<'static>> {
    let retry = state.retry_target();
    let mut out = vec![match &retry {
        Ok(_) => Line::from(vec![
            Span::styled("[AVAILABLE]", t.ok()),
            Span::raw(" Retry: select it and press Enter to review the exact patch"),
        ]),
        Err(reason) => Line::from(vec![
            Span::styled("[DISABLED]", t.warn()),
            Span::raw(format!(" Retry: {}", clean(reason))),
        ]),
    }];
    if let Some(status) = state.decision.status_line() {
        out.push(Line::from(vec![
            Span::styled("last action ", t.label()),
            Span::raw(clean(&status)),
        ]));
    }
    out.extend(new_job_line(state, t));
    out.extend(failing_green_warning(state, t));
    for (i, path) in paths::ALL.iter().enumerate() {
        let selected = i == state.decision.selected;
        let badge = match (path, &retry) {
            (PathKind::Retry, Ok(_)) => "[available]".to_string(),
            (PathKind::Retry, Err(_)) => "[disabled]".into(),
            _ => "[guided later]".into(),
        };
        let text = format!(
            "{} {}. {} {badge}",
            if selected { "▶" } else { " " },
            i + 1,
            path.info().title
        );
        out.push(if selected {
            Line::styled(text, t.selected())
        } else {
            Line::raw(text)
        });
    }
    let info = state.selected_path().info();
    out.push(Line::styled("Runbook says:", t.label()));
    out.extend(
        info.runbook_steps
            .iter()
            .enumerate()
            .map(|(i, s)| Line::raw(format!("  {}. {s}", i + 1))),
    );
    out.push(Line::styled("What the operator really does:", t.label()));
    out.extend(info.reality.iter().map(|s| Line::raw(format!("  - {s}"))));
    out
}

/// After an accepted acknowledgement: the Job the operator created for the new attempt.
fn new_job_line(state: &State, t: Theme) -> Option<Line<'static>> {
    if !matches!(
        state.decision.outcome,
        Some(ActionOutcome::Acknowledged { .. })
    ) {
        return None;
    }
    let attempt = state.next_attempt() - 1;
    let job = state
        .incident
        .jobs
        .iter()
        .find(|j| attempt > 0 && j.attempt() == Some(attempt))?;
    Some(Line::from(vec![
        Span::styled("operator's new Job ", t.label()),
        Span::raw(format!(
            "{} ({}) ",
            job.name,
            job.run_id.as_deref().unwrap_or("?")
        )),
        Span::styled(format!("[{}]", job.state.label()), t.info()),
    ]))
}

/// Crash-looping Green turns an acknowledgement into an abort: say so loudly, in the pane
/// and in the dialog.
pub(crate) fn failing_green_warning(state: &State, t: Theme) -> Vec<Line<'static>> {
    let failing = state.failing_green();
    if failing.is_empty() {
        return Vec::new();
    }
    vec![Line::from(vec![
        Span::styled("[!] ABORT RISK", t.alarm()),
        Span::styled(
            format!(
                " Green failing: {}. Acknowledging makes the operator ABORT (Green StatefulSet deleted, no Raft repair), not retry.",
                failing.join(", ")
            ),
            t.error(),
        ),
    ])]
}

//! The Decision pane: the runbook's three paths, each with what the operator really does,
//! whether Retry can be sent now (and if not, why), and the outcome of the last action.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

use super::theme::Theme;
use super::{PaneView, clean, draw_text, pane_block};
use crate::app::decide::journal_label;
use crate::app::msg::ActionOutcome;
use crate::app::{Focus, State};
use crate::domain::generation::Line as GenLine;
use crate::domain::paths;

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
    let retry = state
        .retry_target()
        .and_then(|t| crate::app::writes::restore_blocks_ack(state).map(|()| t));
    let diagnosis = state.diagnosis();
    let mut out = vec![mode_line(state, t)];
    out.push(match &retry {
        Ok(_) if !state.write.is_on(state.now) => Line::from(vec![
            Span::styled("[READ-ONLY]", t.warn()),
            Span::raw(format!(
                " Retry could be sent: press {} to allow writes, then Enter to review",
                state.write.key
            )),
        ]),
        Ok(_) => Line::from(vec![
            Span::styled("[AVAILABLE]", t.ok()),
            Span::raw(" Retry: select it and press Enter to review the exact patch"),
        ]),
        Err(reason) => Line::from(vec![
            Span::styled("[DISABLED]", t.warn()),
            Span::raw(format!(" Retry: {}", clean(&reason.to_string()))),
        ]),
    });
    if let Some(status) = state.decision.status_line() {
        out.push(Line::from(vec![
            Span::styled("last action ", t.label()),
            Span::raw(clean(&status)),
        ]));
    }
    out.extend(new_job_line(state, t));
    // The restore the wizard created stays visible (and followed) once the wizard is closed.
    if let (Some(f), None) = (&state.restore, &state.wizard) {
        let mut line = super::wizard::status_line(f, t);
        line.spans.insert(0, Span::styled("[RESTORE] ", t.label()));
        if let Some(e) = &f.executor_error {
            line.spans
                .push(Span::styled(format!(" · {}", clean(e)), t.error()));
        }
        if f.current().is_some_and(|s| s.unknown()) {
            line.spans.push(Span::styled(
                " · u: Resume or Abandon (Abandon sets spec.paused=true on the cluster)",
                t.alarm(),
            ));
        }
        out.push(line);
    }
    // The follow-up appears once it can be taken (after the retry, break glass over).
    if let Ok(r) = state.revert_target() {
        out.push(Line::from(vec![
            Span::styled("[FOLLOW-UP]", t.warn()),
            Span::raw(format!(
                " v: revert spec.version {} → Blue's {} so the upgrade does not restart",
                r.from_version, r.to_version
            )),
        ]));
    }
    out.extend(failing_green_warning(state, t));
    out.extend(super::decision_notes::lines(state, t));
    out.push(Line::from(vec![
        Span::styled("Recommended: ", t.label()),
        Span::raw(format!(
            "{} — {}",
            diagnosis.recommended.map_or("none", |p| p.title()),
            clean(&diagnosis.summary)
        )),
    ]));
    out.extend(
        diagnosis
            .before
            .iter()
            .map(|b| Line::raw(format!("  first: {}", clean(b)))),
    );
    for (i, path) in paths::ALL.iter().enumerate() {
        let selected = i == state.decision.selected;
        let badge = match diagnosis.verdict(*path) {
            Some(v) if v.available() => "[available]".to_string(),
            Some(v) => format!("[disabled: {}]", v.why_not.join("; ")),
            None => "[?]".into(),
        };
        let text = format!(
            "{} {}. {} {}",
            if selected { "▶" } else { " " },
            i + 1,
            path.title(),
            clean(&badge)
        );
        out.push(if selected {
            Line::styled(text, t.selected())
        } else {
            Line::raw(text)
        });
    }
    let path = state.selected_path();
    let info = path.info(state.line());
    if let Some(v) = diagnosis.verdict(path)
        && !v.warnings.is_empty()
    {
        out.push(Line::styled("What will really happen now:", t.label()));
        out.extend(
            v.warnings
                .iter()
                .map(|w| Line::styled(format!("  ! {}", clean(w)), t.warn())),
        );
    }
    out.push(Line::styled("Evidence:", t.label()));
    out.extend(diagnosis.findings.iter().map(|f| {
        Line::raw(format!(
            "  - {}  ← {}",
            clean(&f.text),
            clean(&f.source.label())
        ))
    }));
    if let Some(note) = dropped_evidence_note(
        state.logs.store.evidence_dropped(),
        state.logs.saved_to.as_ref(),
    ) {
        out.push(Line::styled(format!("  {}", clean(&note)), t.warn()));
    }
    out.push(Line::styled("Runbook says:", t.label()));
    out.extend(
        info.runbook_steps
            .iter()
            .enumerate()
            .map(|(i, s)| Line::raw(format!("  {}. {s}", i + 1))),
    );
    out.push(Line::styled("What the operator really does:", t.label()));
    out.extend(info.reality.iter().map(|s| Line::raw(format!("  - {s}"))));
    out.push(Line::styled(
        clean(&journal_label(state.journal.as_ref())),
        t.dim(),
    ));
    out
}

/// The evidence records kept in memory are bounded (`logs::EVIDENCE_CAPACITY`): how many
/// of the oldest were dropped, and whether the evidence files still hold them. The findings'
/// line counts include them; only the records themselves are gone.
fn dropped_evidence_note(
    dropped: u64,
    saved_to: Option<&Result<String, String>>,
) -> Option<String> {
    if dropped == 0 {
        return None;
    }
    let noun = if dropped == 1 { "record" } else { "records" };
    let whereabouts = match saved_to {
        Some(Ok(dir)) => format!("still in the evidence files: {dir}"),
        // Saving may have failed from the start or only later (disk full): the oldest
        // records may or may not be on disk, and the reason says which file failed.
        Some(Err(e)) => format!("the evidence files may not hold them: {e}"),
        None => "not saved to disk".into(),
    };
    Some(format!(
        "+{} older evidence {noun} dropped from memory ({whereabouts})",
        thousands(dropped)
    ))
}

/// `1234567` as `1,234,567`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Read-only or write mode, and who the API server says the user is.
fn mode_line(state: &State, t: Theme) -> Line<'static> {
    let on = state.write.is_on(state.now);
    let who = state
        .rbac
        .as_ref()
        .map_or("identity: checking…".to_string(), |r| {
            format!("as {}", r.identity)
        });
    Line::from(vec![
        Span::styled(
            format!("[{}]", state.write.badge(state.now)),
            if on { t.alarm() } else { t.ok() },
        ),
        Span::raw(format!(
            " {} · {}",
            if on {
                format!(
                    "writes allowed until the action is done ({}: leave)",
                    state.write.key
                )
            } else {
                format!(
                    "nothing can be sent ({}: allow writes for 5 min)",
                    state.write.key
                )
            },
            clean(&who)
        )),
    ])
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

/// Crash-looping Green turns an acknowledgement into an abort on the 0.1 line: say so
/// loudly, in the pane and in the dialog. Other lines: what it means there.
pub(crate) fn failing_green_warning(state: &State, t: Theme) -> Vec<Line<'static>> {
    let failing = state.failing_green();
    if failing.is_empty() {
        return Vec::new();
    }
    let (badge, style, text) = match state.line() {
        GenLine::V01 => (
            "[!] ABORT RISK",
            t.alarm(),
            " Acknowledging makes the 0.1 operator ABORT (Green StatefulSet deleted, no Raft repair), not retry.",
        ),
        GenLine::Unknown => (
            "[!] ABORT RISK?",
            t.warn(),
            " On 0.1 acknowledging then ABORTS (Green deleted, no Raft repair); on 0.6 it does not. The operator line is unknown.",
        ),
        GenLine::V06 | GenLine::V02To050 => (
            "[i] Green failing",
            t.info(),
            " This line does not abort a rollback for it (abort only in DeployingGreen/JoiningMesh/Syncing).",
        ),
    };
    vec![Line::from(vec![
        Span::styled(badge, style),
        Span::styled(
            format!(" Green failing: {}.{text}", failing.join(", ")),
            if state.line() == GenLine::V01 {
                t.error()
            } else {
                t.warn()
            },
        ),
    ])]
}

#[cfg(test)]
#[path = "decision_tests.rs"]
mod tests;

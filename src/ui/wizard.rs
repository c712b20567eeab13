//! The Restore wizard overlay: every step with the current one marked, the facts it found
//! (snapshot key, its source and age, operator Deployment, the exact PVCs), the exact
//! request the next confirmation sends, and the typed-name field for irreversible steps.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Wrap};

use super::clean;
use super::dialog::centered;
use super::theme::Theme;
use crate::app::State;
use crate::app::msg::SourceName;
use crate::app::wizard::{Step, Wizard, key_time};
use crate::domain::restore::Request;
use crate::domain::restore_status::EXECUTOR_ERROR_PREFIX;
use crate::domain::restore_status::RestoreFollow;

pub(crate) fn render(state: &State, w: &Wizard, t: Theme, frame: &mut Frame, area: Rect) {
    let rect = centered(area, 112, area.height.saturating_sub(2));
    if rect.width < 10 || rect.height < 5 {
        return;
    }
    frame.render_widget(Clear, rect);
    let block = Block::bordered()
        .title(Span::styled(
            " Restore wizard (Esc cancels; nothing is sent without Enter) ",
            t.label(),
        ))
        .border_style(t.border(true));
    let width = rect.width.saturating_sub(2);
    let body = lines(state, w, t, width);
    let rows: usize = body
        .iter()
        .map(|l| l.width().div_ceil(usize::from(width.max(1))).max(1))
        .sum();
    let visible = rect.height.saturating_sub(2);
    let (block, scroll) = super::dialog::scrolled(block, rows, visible, state.overlay_scroll, "↓");
    frame.render_widget(
        Paragraph::new(body)
            .block(block)
            .wrap(Wrap { trim: false })
            .scroll((scroll, 0)),
        rect,
    );
}

/// The wizard's rows; `width`: the inner width (the kubectl command wraps to it).
fn lines(state: &State, w: &Wizard, t: Theme, width: u16) -> Vec<Line<'static>> {
    let mut out: Vec<Line<'static>> = Step::ALL
        .iter()
        .map(|s| {
            let text = format!("{} {}", if *s == w.step { "▶" } else { " " }, s.title());
            if *s == w.step {
                Line::styled(text, t.selected())
            } else if !s.applies(&w.facts) {
                Line::styled(format!("{text} — not on this operator line"), t.dim())
            } else {
                Line::raw(text)
            }
        })
        .collect();
    out.push(snapshot_line(state, w, t));
    if w.step == Step::Snapshot {
        out.push(Line::from(vec![
            Span::styled("or type a snapshot key (Enter uses it): ", t.label()),
            Span::raw(clean(&w.typed)),
        ]));
    }
    let op = w.facts.operator.as_ref().map_or(
        "not found by app.kubernetes.io/name=openbao-operator,component=controller".into(),
        |o| format!("{}/{} ({} replicas)", o.namespace, o.name, o.replicas),
    );
    out.push(Line::from(vec![
        Span::styled("operator ", t.label()),
        Span::raw(clean(&op)),
    ]));
    out.push(Line::from(vec![
        Span::styled("PVCs left ", t.label()),
        Span::raw(clean(&w.pending_pvcs.join(", "))),
    ]));
    out.extend(line_facts(w, t));
    if w.step != Step::Follow {
        out.push(Line::styled(
            "Enter sends exactly (after a dry run):",
            t.label(),
        ));
        match w.request() {
            Ok(Some(r)) => {
                out.extend(request_lines(&r, t, width));
                out.extend(super::dialog::kubectl_lines(
                    t,
                    r.kubectl(),
                    width,
                    "Ctrl-Y",
                ));
            }
            Ok(None) => out.push(Line::raw("nothing (this step only moves on)")),
            Err(e) => out.push(Line::styled(format!("cannot: {}", clean(&e)), t.error())),
        }
    }
    if w.step == Step::Follow {
        out.extend(follow_lines(state, t));
    }
    if w.step.irreversible() {
        out.push(Line::from(vec![
            Span::styled("type the cluster name to confirm: ", t.alarm()),
            Span::raw(clean(&w.typed)),
        ]));
    }
    if w.waiting {
        out.push(Line::styled("request sent; waiting…", t.dim()));
    }
    if let Some(n) = &state.decision.notice {
        out.push(Line::styled(clean(n), t.warn()));
    }
    let key = state.write.key;
    let keys = match w.step {
        Step::Snapshot => format!("{key} is typed here · Enter confirms this step · Esc cancels"),
        Step::Follow => {
            "Esc closes this view (the restore is still followed and journaled)".to_string()
        }
        _ => format!("{key} toggles write mode · Enter confirms this step · Esc cancels"),
    };
    out.push(Line::styled(
        format!("[{}] {keys}", state.write.badge(state.now)),
        t.dim(),
    ));
    out
}

/// What the restore does on the wizard's operator line: its target, its auth role, what
/// `force` and `overrideOperationLock` mean, and what it must never run alongside.
fn line_facts(w: &Wizard, t: Theme) -> Vec<Line<'static>> {
    let f = &w.facts;
    let mut out = vec![
        Line::from(vec![
            Span::styled("target ", t.label()),
            Span::raw(clean(&f.target())),
        ]),
        Line::from(vec![
            Span::styled("auth ", t.label()),
            Span::raw(format!(
                "jwtAuthRole {} (the restore's own role, spec.restore.jwtAuthRole; not the backup role)",
                clean(f.restore_role())
            )),
        ]),
        Line::raw(
            "force: true selects the force endpoint (snapshot-force) and skips the initialized/not-upgrading checks; overrideOperationLock: true (the Upgrade lock is held) requires force.",
        ),
    ];
    out.push(if f.targets_blue() {
        Line::styled(
            "The restore controller runs inside the operator: it must be running. It needs a running, unsealed Blue leader: no scale down, no PVC deletion. Never acknowledge break glass while it runs. Phase Unknown waits for Resume/Abandon (u).",
            t.warn(),
        )
    } else {
        Line::styled(
            "The restore controller runs inside the operator: it must be scaled back up before the OpenBaoRestore is created. PVCs of running pods stay (pvc-protection). The restore executor probes <cluster>-<n> pods, absent for Blue/Green: it likely fails to find a leader.",
            t.warn(),
        )
    });
    out
}

/// The chosen (or found) snapshot key, where it came from and its age.
fn snapshot_line(state: &State, w: &Wizard, t: Theme) -> Line<'static> {
    let text = match (&w.key, w.key_typed) {
        (None, _) => "none found: type one below, or cancel".to_string(),
        (Some(k), true) => format!("{} (typed by user, age unknown)", clean(k)),
        (Some(k), false) => {
            let age = key_time(k).map_or(String::new(), |at| {
                format!(
                    " · taken {} min ago",
                    state.now.duration_since(at).as_mins()
                )
            });
            format!(
                "{}{age} ({})",
                clean(k),
                state.wizard_key_source.as_deref().unwrap_or("no source")
            )
        }
    };
    Line::from(vec![Span::styled("snapshot ", t.label()), Span::raw(text)])
}

/// `OpenBaoRestore <name> <phase>: <message>`, styled by phase (the wizard's last step and
/// the Decision pane once the wizard is closed).
pub(crate) fn status_line(f: &RestoreFollow, t: Theme) -> Line<'static> {
    let (phase, message) = match &f.status {
        None => ("reading…".to_string(), String::new()),
        Some(None) => (
            "the object does not exist (deleted?)".to_string(),
            String::new(),
        ),
        Some(Some(s)) => (
            s.phase
                .clone()
                .unwrap_or_else(|| "none yet: the restore controller runs in the operator".into()),
            s.message.clone().unwrap_or_default(),
        ),
    };
    let style = match f.current().and_then(|s| s.phase.as_deref()) {
        Some("Completed") => t.info(),
        Some("Failed") => t.error(),
        _ => t.warn(),
    };
    Line::from(vec![
        Span::styled(format!("OpenBaoRestore {} ", clean(&f.name)), t.label()),
        Span::styled(clean(&phase), style),
        Span::raw(if message.is_empty() {
            String::new()
        } else {
            format!(": {}", clean(&message))
        }),
    ])
}

/// The followed OpenBaoRestore: phase, message, and the last lines of its Job's log that fit.
fn follow_lines(state: &State, t: Theme) -> Vec<Line<'static>> {
    let Some(f) = &state.restore else {
        return vec![Line::styled("not following a restore", t.dim())];
    };
    let problem = state.source(SourceName::Restore).problem;
    let mut out = vec![
        status_line(f, t),
        Line::from(vec![
            Span::styled(format!("Job {} log ", clean(&f.job)), t.label()),
            Span::styled(
                match (f.log_ended, f.lines.is_empty()) {
                    (true, _) => "(ended)".to_string(),
                    (false, true) => "(waiting for the Job's pod)".to_string(),
                    (false, false) => "(streaming)".to_string(),
                },
                t.dim(),
            ),
        ]),
    ];
    if let Some(p) = problem {
        out.push(Line::styled(clean(&p), t.error()));
    }
    if f.current().is_some_and(|s| s.finished()) {
        out.push(Line::styled(
            "Break glass and blue/green RollingBack are still set after a restore: acknowledging re-enters the rollback unless spec.version is reverted to Blue's.",
            t.warn(),
        ));
    }
    let room = usize::from(state.size.1).saturating_sub(24).max(4);
    let skip = f.lines.len().saturating_sub(room);
    out.extend(f.lines.iter().skip(skip).map(|l| {
        let style = if l.contains(EXECUTOR_ERROR_PREFIX) {
            t.error()
        } else {
            t.dim()
        };
        Line::styled(format!("  {}", clean(l)), style)
    }));
    out
}

/// The request as sent: method, path and the exact body (`Request::preview`, the builder
/// the executor sends from), on one line when it fits. Else the path breaks after a `/`
/// (continued two columns in) and the body goes on its own line; a created object's body,
/// wider than any terminal as one line of JSON, is shown once: in the kubectl command
/// below, folded to the width as YAML.
fn request_lines(r: &Request, t: Theme, width: u16) -> Vec<Line<'static>> {
    let preview = clean(&r.preview());
    let width = usize::from(width);
    if preview.chars().count() <= width {
        return vec![Line::styled(preview, t.info())];
    }
    let (method, path) = r.method_path();
    let mut out: Vec<Line<'static>> = fold_path(&clean(&format!("{method} {path}")), width)
        .into_iter()
        .map(|row| Line::styled(row, t.info()))
        .collect();
    let in_heredoc = r.kubectl().is_some_and(|c| c.line.contains("<<'EOF'\n"));
    match r.body() {
        Some(_) if in_heredoc => out.push(Line::styled(
            "  body: the object in the here-document below (sent as one line of JSON)",
            t.dim(),
        )),
        Some(b) => out.push(Line::styled(clean(&format!("  body {b}")), t.info())),
        None => {}
    }
    out
}

/// `text` in rows of at most `width` columns, broken after a `/` where one is near enough
/// (else at the width); rows after the first are indented by two.
fn fold_path(text: &str, width: usize) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut rows = Vec::new();
    let mut start = 0;
    while start < chars.len() {
        let indent = if rows.is_empty() { 0 } else { 2 };
        let room = width.saturating_sub(indent).max(8);
        let end = if chars.len() - start <= room {
            chars.len()
        } else {
            chars[start..start + room]
                .iter()
                .rposition(|c| *c == '/')
                .filter(|&i| i > room / 2)
                .map_or(start + room, |i| start + i + 1)
        };
        let row: String = chars[start..end].iter().collect();
        rows.push(format!("{}{row}", " ".repeat(indent)));
        start = end;
    }
    rows
}

#[cfg(test)]
#[path = "wizard_tests.rs"]
mod tests;

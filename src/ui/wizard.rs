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
use crate::app::wizard::{Step, Wizard, key_time};
use crate::domain::restore::Request;

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
    frame.render_widget(
        Paragraph::new(lines(state, w, t))
            .block(block)
            .wrap(Wrap { trim: false }),
        rect,
    );
}

fn lines(state: &State, w: &Wizard, t: Theme) -> Vec<Line<'static>> {
    let mut out: Vec<Line<'static>> = Step::ALL
        .iter()
        .map(|s| {
            let text = format!("{} {}", if *s == w.step { "▶" } else { " " }, s.title());
            if *s == w.step {
                Line::styled(text, t.selected())
            } else {
                Line::raw(text)
            }
        })
        .collect();
    let key = w
        .key
        .as_deref()
        .unwrap_or("none found: type it (not yet supported) or cancel");
    let age = w
        .key
        .as_deref()
        .and_then(key_time)
        .map_or(String::new(), |at| {
            format!(
                " · taken {} min ago",
                state.now.duration_since(at).as_mins()
            )
        });
    out.push(Line::from(vec![
        Span::styled("snapshot ", t.label()),
        Span::raw(format!(
            "{}{age} ({})",
            clean(key),
            state.wizard_key_source.as_deref().unwrap_or("no source")
        )),
    ]));
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
    out.push(Line::styled(
        "The restore controller runs inside the operator: it must be scaled back up before the OpenBaoRestore is created. PVCs of running pods stay (pvc-protection). The restore executor probes <cluster>-<n> pods, absent for Blue/Green: it likely fails to find a leader.",
        t.warn(),
    ));
    out.push(Line::styled(
        "Enter sends exactly (after a dry run):",
        t.label(),
    ));
    out.push(match w.request() {
        Ok(Some(r)) => Line::styled(clean(&describe(&r)), t.info()),
        Ok(None) => Line::raw("nothing (this step only moves on)"),
        Err(e) => Line::styled(format!("cannot: {}", clean(&e)), t.error()),
    });
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
    out.push(Line::styled(
        format!(
            "[{}] W toggles write mode · Enter confirms this step · Esc cancels",
            state.write.badge(state.now)
        ),
        t.dim(),
    ));
    out
}

fn describe(r: &Request) -> String {
    match r {
        Request::Scale {
            namespace,
            name,
            replicas,
        } => format!(
            "PATCH deployments/{name}/scale in {namespace}: {{\"spec\":{{\"replicas\":{replicas}}}}}"
        ),
        Request::DeletePvc { namespace, name } => {
            format!("DELETE persistentvolumeclaims/{name} in {namespace}")
        }
        Request::CreateRestore { namespace, body } => {
            format!("POST openbaorestores in {namespace}: {body}")
        }
    }
}

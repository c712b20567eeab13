//! The Pause and repair confirmation: both patches of the path exactly (the one this
//! confirmation sends, and the one that comes after the repair), what the operator does
//! while paused, and a live check that what was captured still holds.

use ratatui::text::{Line, Span};

use super::clean;
use super::theme::Theme;
use crate::app::State;
use crate::app::pause_repair::PauseTarget;
use crate::sources::actions::PauseStep;

pub(crate) fn title(target: &PauseTarget) -> &'static str {
    match target.step {
        PauseStep::Pause => " Pause and repair, 1 of 2: pause the cluster ",
        PauseStep::ResumeAck => " Pause and repair, 2 of 2: resume and acknowledge ",
    }
}

pub(crate) fn button(target: &PauseTarget) -> &'static str {
    match target.step {
        PauseStep::Pause => "[ Pause ]",
        PauseStep::ResumeAck => "[ Resume + Acknowledge ]",
    }
}

pub(crate) fn lines(state: &State, target: &PauseTarget, t: Theme) -> Vec<Line<'static>> {
    let mut out = vec![Line::from(vec![
        Span::styled("Target  ", t.label()),
        Span::raw(format!(
            "OpenBaoCluster {}/{}",
            state.opts.namespace, state.opts.cluster
        )),
    ])];
    for (i, (step, body)) in target.both().into_iter().enumerate() {
        let now = step == target.step;
        out.push(Line::styled(
            format!(
                "Patch {} ({}), JSON merge patch{}:",
                i + 1,
                match step {
                    PauseStep::Pause => "pause",
                    PauseStep::ResumeAck => "resume + acknowledge",
                },
                if now {
                    ", sent exactly by this confirmation after a dry run"
                } else if step == PauseStep::Pause {
                    ", already sent"
                } else {
                    ", a separate confirmation after the repair"
                }
            ),
            t.label(),
        ));
        out.push(Line::styled(
            clean(&body),
            if now { t.info() } else { t.dim() },
        ));
    }
    out.push(Line::styled("What the operator does next:", t.label()));
    out.extend(
        target
            .consequences()
            .iter()
            .map(|c| Line::raw(format!("- {c}"))),
    );
    let changed = match state.pause_target() {
        Err(reason) => Some(reason),
        Ok(now) if now.nonce != target.nonce => Some("the nonce changed".into()),
        Ok(now) if now.step != target.step => Some("the pause state changed".into()),
        Ok(_) => None,
    };
    if let Some(reason) = changed {
        out.push(Line::from(vec![
            Span::styled("[CHANGED]", t.error()),
            Span::raw(format!(
                " {}: the confirmation will send nothing.",
                clean(&reason)
            )),
        ]));
    }
    out
}

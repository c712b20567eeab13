//! The confirmations of the newer lines' paths: Pause and repair (both patches exactly,
//! the one this confirmation sends and the one that comes after the repair, what the
//! operator does while paused) and the Resume/Abandon of a restore in phase `Unknown`; each
//! with a live check that what was captured still holds.

use ratatui::text::Line;

use super::clean;
use super::dialog::{changed_line, target_line};
use super::theme::Theme;
use crate::app::State;
use crate::app::pause_repair::PauseTarget;
use crate::domain::write::PauseStep;

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
    let mut out = vec![target_line(
        t,
        format!(
            "OpenBaoCluster {}/{}",
            state.opts.namespace, state.opts.cluster
        ),
    )];
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
    if let Err(reason) = crate::app::writes::still_valid(state, &target.patch) {
        out.push(changed_line(
            t,
            &reason.to_string(),
            "the confirmation will send nothing",
        ));
    }
    out
}

/// The Resume/Abandon confirmation of a restore in phase `Unknown`: the exact annotation
/// patch for the chosen disposition and what the restore controller then does.
pub(crate) fn restore_ack_lines(
    state: &State,
    target: &crate::app::restore_ack::RestoreAckTarget,
    t: Theme,
) -> Vec<Line<'static>> {
    use crate::domain::restore::Disposition;
    let mut out = vec![
        target_line(
            t,
            format!(
                "OpenBaoRestore {}/{} (uid {})",
                target.namespace,
                clean(&target.name),
                clean(&target.uid)
            ),
        ),
        Line::raw(
            "Phase Unknown: the controller cannot prove whether the restore ran; it is never retried by itself.",
        ),
        Line::styled(
            format!(
                "JSON merge patch for {}, sent exactly after a dry run:",
                target.choice.label()
            ),
            t.label(),
        ),
        Line::styled(clean(&target.body().to_string()), t.info()),
    ];
    for d in [Disposition::Resume, Disposition::Abandon] {
        let style = match (d == target.choice, d) {
            (true, Disposition::Abandon) => t.error(),
            (true, _) => t.warn(),
            _ => t.dim(),
        };
        out.push(Line::styled(format!("- {}", d.consequence()), style));
    }
    out.push(Line::raw(
        "Tab: Cancel → Resume → Abandon. Never acknowledge break glass while the restore is held.",
    ));
    if let Err(reason) = state.restore_ack_target() {
        out.push(changed_line(t, &reason.to_string(), "nothing will be sent"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::fixtures::{NONCE, RV, incident_state};

    #[test]
    fn the_pause_dialog_shows_both_patches_and_marks_the_one_it_sends() {
        let s = incident_state(false);
        let mut c = s.incident.cluster.clone().unwrap();
        c.resource_version = RV.into();
        let write = crate::domain::write::ClusterWrite::PauseRepair {
            step: PauseStep::Pause,
            nonce: NONCE.into(),
        };
        let patch =
            crate::domain::write::ClusterPatch::build(write, "security", "prod-cluster", &c)
                .unwrap();
        let target = PauseTarget::from(patch);
        let text: Vec<String> = lines(&s, &target, Theme { color: false })
            .iter()
            .map(|l| l.spans.iter().map(|s| s.content.to_string()).collect())
            .collect();
        let sent = text
            .iter()
            .position(|l| l.contains("sent exactly by this confirmation"))
            .unwrap();
        assert_eq!(text[sent + 1], target.body());
        assert!(
            text.iter().any(|l| l
                .contains(r#""breakGlassAck":"9f2c4e1a7b3d5f60812a4c6e8b0d2f47","paused":false"#)),
            "{text:#?}"
        );
        assert!(text.iter().any(|l| l.contains("no backups")));
        // The fixture is not on the 0.6 line: the live check says nothing will be sent.
        assert!(text.iter().any(|l| l.starts_with("[CHANGED]")), "{text:#?}");
    }
}

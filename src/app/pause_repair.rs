//! Pause and repair (upstream's rewritten runbook, 0.6 line): `spec.paused: true`, repair by
//! hand, then `spec.paused: false` and the acknowledgement in ONE merge patch. Two guarded
//! writes, each confirmed on its own from a dialog with Cancel focused, each with the same
//! preconditions as Retry (break glass active, the nonce current, fresh data, write mode,
//! RBAC) plus the pause state it expects. Pure like the rest of `update`.

use super::Effect;
use super::decide::{session_guard, start_write};
use super::state::State;
use crate::domain::generation::Line;
use crate::domain::paths::PathKind;
use crate::sources::actions::PauseStep;

/// What the Pause and repair dialog captured when it opened: the step, the nonce and the
/// resourceVersion its preview shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PauseTarget {
    pub step: PauseStep,
    pub nonce: String,
    pub resource_version: String,
}

impl PauseTarget {
    /// The exact JSON merge patch this confirmation sends (the same builder as the send).
    pub fn body(&self) -> String {
        self.step
            .patch(&self.nonce, &self.resource_version)
            .to_string()
    }

    /// Both patches of the path, for the preview: the first with the resourceVersion seen
    /// now, the second as it will look (its resourceVersion is the one read when it is sent).
    pub fn both(&self) -> [(PauseStep, String); 2] {
        let later = "<resourceVersion when sent>";
        let rv = |s: PauseStep| {
            if s == self.step {
                self.resource_version.as_str()
            } else {
                later
            }
        };
        [PauseStep::Pause, PauseStep::ResumeAck]
            .map(|s| (s, s.patch(&self.nonce, rv(s)).to_string()))
    }

    /// What the operator does after this patch.
    pub fn consequences(&self) -> &'static [&'static str] {
        match self.step {
            PauseStep::Pause => &[
                "While spec.paused is true the operator does NOTHING for this cluster: no reconcile, no rollback, no backups.",
                "Break glass stays active; the nonce does not change while paused.",
                "Repair by hand (e.g. remove stale Green peers from the Blue leader), then come back here for the resume + acknowledgement.",
            ],
            PauseStep::ResumeAck => &[
                "spec.paused=false and spec.breakGlassAck=<nonce> in ONE patch: the operator resumes straight into the retry of the failed step.",
                "rollbackAttempt+1; a new Job for the failed step within ~5 s; a cause that is not fixed fails again with a NEW nonce.",
            ],
        }
    }
}

impl State {
    /// Whether Pause and repair may be offered now, and which patch is next, or why not.
    pub fn pause_target(&self) -> Result<PauseTarget, String> {
        let line = self.line();
        if line != Line::V06 {
            return Err(format!(
                "not offered for {}: upstream's Pause and repair runbook is for the 0.6 line",
                line.header()
            ));
        }
        let retry = self.retry_target()?;
        let Some(c) = self.incident.cluster.as_ref() else {
            return Err("no cluster data yet".into());
        };
        if c.controls.restore_hold.is_some() {
            return Err("a restore holds the cluster (openbao.org/restore-hold)".into());
        }
        Ok(PauseTarget {
            step: if c.paused {
                PauseStep::ResumeAck
            } else {
                PauseStep::Pause
            },
            nonce: retry.nonce,
            resource_version: retry.resource_version,
        })
    }
}

/// The data guards plus the session's (write mode, fresh data, RBAC).
pub(crate) fn allowed(state: &State) -> Result<PauseTarget, String> {
    let target = state.pause_target()?;
    super::decide::restore_blocks_ack(state)?;
    session_guard(state, PathKind::PauseRepair)?;
    Ok(target)
}

/// Enter on the dialog's confirm button: re-check, journal the decision, send.
pub(crate) fn press(state: &mut State, captured: PauseTarget) -> Vec<Effect> {
    let now = allowed(state);
    let (label, decision) = match captured.step {
        PauseStep::Pause => (
            "pause and repair: pause (console)",
            "Pause and repair: pause",
        ),
        PauseStep::ResumeAck => (
            "pause and repair: resume + acknowledge (console)",
            "Pause and repair: resume + acknowledge",
        ),
    };
    let Some(mut effects) = start_write(
        state,
        now,
        |now| {
            if now.nonce != captured.nonce {
                Some("the nonce changed while the dialog was open".to_string())
            } else if now.step != captured.step {
                Some("the cluster's pause state changed while the dialog was open".to_string())
            } else {
                None
            }
        },
        (captured.nonce.clone(), label, decision),
    ) else {
        return Vec::new();
    };
    effects.push(Effect::PauseRepair {
        step: captured.step,
        nonce: captured.nonce,
    });
    effects
}

#[cfg(test)]
#[path = "pause_repair_tests.rs"]
mod tests;

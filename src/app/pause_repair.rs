//! Pause and repair (upstream's rewritten runbook, 0.6 line): `spec.paused: true`, repair by
//! hand, then `spec.paused: false` and the acknowledgement in ONE merge patch. Two guarded
//! writes, each confirmed on its own from a dialog with Cancel focused, each with the same
//! preconditions as Retry (break glass active, the nonce current, fresh data, write mode,
//! RBAC) plus the pause state it expects. Pure like the rest of `update`.

use super::Effect;
use super::state::State;
use crate::domain::write::{ClusterPatch, PauseStep};

/// What the Pause and repair dialog captured when it opened: the step, the nonce and the
/// patch its preview shows (and the runtime sends).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PauseTarget {
    pub step: PauseStep,
    pub nonce: String,
    pub resource_version: String,
    pub patch: ClusterPatch,
}

impl From<ClusterPatch> for PauseTarget {
    fn from(patch: ClusterPatch) -> PauseTarget {
        let step = match &patch.write {
            crate::domain::write::ClusterWrite::PauseRepair { step, .. } => *step,
            _ => PauseStep::Pause,
        };
        PauseTarget {
            step,
            nonce: patch.write.nonce().unwrap_or_default().to_string(),
            resource_version: patch.resource_version.clone(),
            patch,
        }
    }
}

impl PauseTarget {
    /// The exact JSON merge patch this confirmation sends.
    pub fn body(&self) -> String {
        self.patch.body.clone()
    }

    /// Both patches of the path, for the preview: this step's exactly as sent, the other
    /// as it will look (its resourceVersion is the one seen when its own dialog opens).
    pub fn both(&self) -> [(PauseStep, String); 2] {
        let later = "<resourceVersion when its dialog opens>";
        [PauseStep::Pause, PauseStep::ResumeAck].map(|s| {
            let body = if s == self.step {
                self.body()
            } else {
                s.patch(&self.nonce, later).to_string()
            };
            (s, body)
        })
    }

    /// What the operator does after this patch.
    pub(crate) fn consequences(&self) -> &'static [&'static str] {
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

impl State {}

impl State {
    /// Whether Pause and repair may be offered now (its data), and which patch is next, or
    /// why not (`domain::write::guard::pause_data`).
    #[cfg(test)]
    pub(crate) fn pause_target(&self) -> Result<PauseTarget, crate::domain::write::Refusal> {
        crate::domain::write::guard::pause_data(&self.seen()).map(PauseTarget::from)
    }
}

/// Enter on the dialog's confirm button: re-check, journal the decision, send.
pub(crate) fn press(state: &mut State, captured: PauseTarget) -> Vec<Effect> {
    let decision = match captured.step {
        PauseStep::Pause => "Pause and repair: pause",
        PauseStep::ResumeAck => "Pause and repair: resume + acknowledge",
    };
    super::writes::press(state, captured.patch, decision)
}

#[cfg(test)]
#[path = "pause_repair_tests.rs"]
mod tests;

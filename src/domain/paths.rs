//! The runbook's three resolution paths, each with what the real operator does instead
//! (operator-facts §9, §10). The Decision pane lists them; they are carried out in
//! the console: Retry (and Fix forward, which is a Retry with this operator) by confirmation,
//! Restore by a step-by-step wizard.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathKind {
    Retry,
    FixForward,
    Restore,
}

pub const ALL: [PathKind; 3] = [PathKind::Retry, PathKind::FixForward, PathKind::Restore];

pub struct PathInfo {
    pub title: &'static str,
    /// The runbook's own steps, verbatim in meaning.
    pub runbook_steps: &'static [&'static str],
    /// What the operator at dc-tec/openbao-operator@002fbdd really does.
    pub reality: &'static [&'static str],
}

impl PathKind {
    pub fn info(self) -> PathInfo {
        match self {
            PathKind::Retry => PathInfo {
                title: "Retry (acknowledge the nonce)",
                runbook_steps: &[
                    "Acknowledge the Break Glass nonce: the Operator will \"Try Again\".",
                    "The Operator spawns a new Rollback Job. Monitor it closely.",
                ],
                reality: &[
                    "Sets spec.breakGlassAck = status.breakGlass.nonce (JSON merge patch).",
                    "Operator: active=false, rollbackAttempt+1, new Job ...repair-consensus-<hex> with run ID rollback-retry-N within ~5 s.",
                    "A cause that is not transient (403 policy, no leader) fails again with a NEW nonce.",
                    "Crash-looping Green pods make the operator ABORT instead (Green StatefulSet deleted, no Raft repair).",
                    "On success RollbackCleanup runs the remove-blue-peers action with revisions not swapped (§3.7): check the Raft configuration.",
                    "Back at Idle the upgrade restarts unless spec.version/spec.image are reverted to Blue's.",
                ],
            },
            PathKind::FixForward => PathInfo {
                title: "Fix forward (stay on Green)",
                runbook_steps: &[
                    "Update Spec: set spec.version to the Green (new) version.",
                    "Acknowledge the nonce.",
                    "The Operator will reconcile the Green cluster as the primary.",
                ],
                reality: &[
                    "Not implemented by the operator: spec.version already is Green's, so this is a Retry of the rollback.",
                    "Setting spec.version to BLUE's version and acknowledging deletes the Green StatefulSet with no Raft repair (quorum risk if Green peers are voters).",
                    "Without an acknowledgement no spec change is acted on while break glass is active.",
                ],
            },
            PathKind::Restore => PathInfo {
                title: "Restore from snapshot",
                runbook_steps: &[
                    "Stop Operator: scale down the operator deployment.",
                    "Delete PVCs: clean up the corrupted data.",
                    "Restore from the last known good snapshot (Pre-Upgrade).",
                ],
                reality: &[
                    "OpenBaoRestore is reconciled by the operator Deployment itself: scaled to 0, nothing restores.",
                    "The restore needs force: true AND overrideOperationLock: true for a cluster in this state.",
                    "It needs an initialised, unsealed leader; PVCs of running pods stay (pvc-protection).",
                    "The restore executor probes <cluster>-<n> pods, which do not exist for Blue/Green clusters: likely 'failed to find leader'.",
                    "After a restore, break glass and RollingBack are still there.",
                ],
            },
        }
    }
}

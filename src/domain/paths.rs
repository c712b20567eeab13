//! The resolution paths, each with what the real operator of the detected line does instead
//! of what the runbook says (README "Resolution paths by operator line"). The Decision pane
//! lists them; they are carried out in the console: Retry (and Fix forward, which is a
//! Retry with this operator) and Pause and repair by confirmation, Restore by a step-by-step
//! wizard. What differs by line at run time (warnings, why a path is unavailable) is in
//! `path_truth`.

use super::generation::Line;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathKind {
    Retry,
    FixForward,
    /// Upstream's rewritten runbook (0.6): `spec.paused: true`, repair by hand, then
    /// `paused: false` and the acknowledgement in one merge patch.
    PauseRepair,
    Restore,
}

/// Pause and repair comes last: the keys and tests that reach Restore keep working.
pub(crate) const ALL: [PathKind; 4] = [
    PathKind::Retry,
    PathKind::FixForward,
    PathKind::Restore,
    PathKind::PauseRepair,
];

pub struct PathInfo {
    pub title: &'static str,
    /// The runbook's own steps, verbatim in meaning.
    pub runbook_steps: &'static [&'static str],
    /// What the operator of this line really does.
    pub reality: &'static [&'static str],
}

impl PathKind {
    pub(crate) fn title(self) -> &'static str {
        match self {
            PathKind::Retry => "Retry (acknowledge the nonce)",
            PathKind::FixForward => "Fix forward (stay on Green)",
            PathKind::PauseRepair => "Pause and repair (spec.paused, then resume + acknowledge)",
            PathKind::Restore => "Restore from snapshot",
        }
    }

    /// The runbook and the operator's reality for `line`. `Unknown` gets only what every
    /// line shares, and says so.
    pub fn info(self, line: Line) -> PathInfo {
        let title = self.title();
        let runbook_steps = self.runbook_steps();
        let reality: &'static [&'static str] = match (self, line) {
            (PathKind::Retry, Line::V01) => &[
                "Sets spec.breakGlassAck = status.breakGlass.nonce (JSON merge patch).",
                "Operator: active=false, rollbackAttempt+1, new Job ...repair-consensus-<hex> with run ID rollback-retry-N within ~5 s.",
                "A cause that is not transient (403 policy, no leader) fails again with a NEW nonce.",
                "Crash-looping Green pods make the operator ABORT instead (Green StatefulSet deleted, no Raft repair).",
                "On success RollbackCleanup runs the remove-blue-peers action with revisions not swapped (internal/upgrade/bluegreen/manager.go): check the Raft configuration.",
                "Back at Idle the upgrade restarts unless spec.version/spec.image are reverted to Blue's.",
            ],
            (PathKind::Retry, Line::V06 | Line::V02To050) => &[
                "Sets spec.breakGlassAck = status.breakGlass.nonce (JSON merge patch).",
                "The ack retries the step that failed: RollbackConsensusRepairFailed in RollingBack reruns bluegreen-repair-consensus; RollbackCleanupPeerRemovalFailed in RollbackCleanup reruns bluegreen-remove-green-peers (break_glass.go).",
                "rollbackAttempt+1, failure counters reset; the new Job's run ID is rollback-retry-N, scoped <operationID>/… for bg-v2- operations.",
                "A cause that is not transient fails again with a NEW nonce.",
                "Crash-looping Green pods no longer abort a rollback (abort is limited to DeployingGreen/JoiningMesh/Syncing).",
                "On success RollbackCleanup removes the Green peers, then deletes Green's StatefulSet and its data PVCs; then Idle.",
                "Back at Idle the upgrade restarts (new operationID) unless spec.version/spec.image are reverted to Blue's.",
            ],
            (PathKind::Retry, Line::Unknown) => &[
                "Sets spec.breakGlassAck = status.breakGlass.nonce (JSON merge patch); the operator clears break glass and retries the failed step.",
                "Operator line unknown: whether crash-looping Green aborts and what RollbackCleanup removes differ by line.",
                "Back at Idle the upgrade restarts unless spec.version/spec.image are reverted to Blue's.",
            ],
            (PathKind::FixForward, Line::V01) => &[
                "Not implemented by the operator: spec.version already is Green's, so this is a Retry of the rollback.",
                "Setting spec.version to BLUE's version and acknowledging deletes the Green StatefulSet with no Raft repair (quorum risk if Green peers are voters).",
                "Without an acknowledgement no spec change is acted on while break glass is active.",
            ],
            (PathKind::FixForward, Line::V06 | Line::V02To050) => &[
                "Not implemented by the operator: this is a Retry of the rollback.",
                "A rollback is refused once the upgrade reached Cleanup or RestoringReadReplicas: there the operator rolls forward by itself.",
                "Reverting spec.version to status.currentVersion mid-rollback no longer deletes Green (the no-upgrade handler runs only at Idle).",
                "Lowering spec.version below status.currentVersion is refused (DowngradeBlocked): do not lower spec.version to escape.",
            ],
            (PathKind::FixForward, Line::Unknown) => &[
                "Not implemented by any operator line: spec.version already is Green's, so this is a Retry of the rollback.",
                "Without an acknowledgement no spec change is acted on while break glass is active.",
            ],
            (PathKind::PauseRepair, Line::V06) => &[
                "Patch 1: spec.paused=true. While paused the operator does nothing for this cluster, its backups included.",
                "Repair by hand (e.g. remove stale Green peers from the Blue leader).",
                "Patch 2, one merge patch: spec.paused=false and spec.breakGlassAck=<nonce>: the operator resumes and retries the failed step.",
            ],
            (PathKind::PauseRepair, _) => &[
                "Upstream's Pause and repair runbook is written for the 0.6 line; on this line it is not offered.",
            ],
            (PathKind::Restore, Line::V01) => &[
                "OpenBaoRestore is reconciled by the operator Deployment itself: scaled to 0, nothing restores.",
                "The restore needs force: true AND overrideOperationLock: true for a cluster in this state.",
                "It needs an initialised, unsealed leader; PVCs of running pods stay (pvc-protection).",
                "The restore executor probes <cluster>-<n> pods, which do not exist for Blue/Green clusters: likely 'failed to find leader'.",
                "After a restore, break glass and RollingBack are still there.",
            ],
            (PathKind::Restore, Line::V06 | Line::V02To050) => &[
                "OpenBaoRestore is reconciled by the operator Deployment itself: it must be running.",
                "Blue/Green: the restore targets the Blue StatefulSet <cluster>-<blueRevision>, whatever the phase.",
                "It authenticates with the restore's own role spec.restore.jwtAuthRole (default openbao-operator-restore), not the backup role.",
                "force: true selects the force endpoint (snapshot-force) and skips the initialized/not-upgrading checks; overrideOperationLock requires force.",
                "Phase Unknown is never retried: only an openbao.org/restore-acknowledge=<uid>/Resume|Abandon annotation releases it; Abandon pauses the cluster.",
                "Never acknowledge break glass while a forced restore runs.",
            ],
            (PathKind::Restore, Line::Unknown) => &[
                "OpenBaoRestore is reconciled by the operator Deployment itself: it must be running.",
                "The restore needs force: true and overrideOperationLock: true for a cluster in this state.",
                "Operator line unknown: the restore's target and auth role differ by line.",
            ],
        };
        PathInfo {
            title,
            runbook_steps,
            reality,
        }
    }

    fn runbook_steps(self) -> &'static [&'static str] {
        match self {
            PathKind::Retry => &[
                "Acknowledge the Break Glass nonce: the Operator will \"Try Again\".",
                "The Operator spawns a new Rollback Job. Monitor it closely.",
            ],
            PathKind::FixForward => &[
                "Update Spec: set spec.version to the Green (new) version.",
                "Acknowledge the nonce.",
                "The Operator will reconcile the Green cluster as the primary.",
            ],
            PathKind::PauseRepair => &[
                "Pause the cluster: spec.paused: true.",
                "Repair by hand.",
                "Resume and acknowledge in one patch: spec.paused: false and spec.breakGlassAck: <nonce>.",
            ],
            PathKind::Restore => &[
                "Stop Operator: scale down the operator deployment.",
                "Delete PVCs: clean up the corrupted data.",
                "Restore from the last known good snapshot (Pre-Upgrade).",
            ],
        }
    }
}

//! The rollback's executor Jobs, found by meaning (README "Operator generations"):
//!
//! 1. the failed Job named in `status.breakGlass.message` (`Rollback consensus repair Job
//!    <job> failed; …` / `Rollback cleanup peer-removal Job <job> failed; …`), for both
//!    reasons and every line;
//! 2. the Jobs whose `openbao.org/upgrade-action` is a rollback step (consensus repair in
//!    RollingBack; Green-peer removal in RollbackCleanup, 0.1's Blue-peer removal there) and
//!    whose `openbao.org/upgrade-run-id` is **exactly** a run ID of the current operation:
//!    `naming::rollback_run_id(operationID, a)` for every attempt `a` up to
//!    `status.blueGreen.rollbackAttempt` (internal/service/upgrade/bluegreen/break_glass.go
//!    `rollbackRunID`). Never a suffix match: a previous operation's Job keeps its
//!    `…/rollback` run ID for the hour its TTL lasts.
//!
//! Both steps share the run ID; only the action tells a repair from a cleanup.

use super::incident::{ACTION_REMOVE_GREEN_PEERS, ACTION_REPAIR_CONSENSUS, Incident, JobView};
use super::naming;

/// 0.1's RollbackCleanup action (it removed the Blue peers; dc-tec/openbao-operator@002fbdd `internal/upgrade/bluegreen/manager.go` `handlePhaseRollbackCleanup`), also the
/// forward Cleanup's action on every line (told apart by its run ID).
pub(crate) const ACTION_REMOVE_BLUE_PEERS: &str = "bluegreen-remove-blue-peers";

/// Which rollback phase a Job belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RollbackStep {
    /// RollingBack: `bluegreen-repair-consensus`.
    Repair,
    /// RollbackCleanup: `bluegreen-remove-green-peers` (0.1: `bluegreen-remove-blue-peers`).
    Cleanup,
}

impl RollbackStep {
    pub fn label(self) -> &'static str {
        match self {
            RollbackStep::Repair => "repair",
            RollbackStep::Cleanup => "cleanup",
        }
    }

    /// The step an action stands for when its run ID is a rollback one.
    pub(crate) fn of_action(action: &str) -> Option<RollbackStep> {
        match action {
            ACTION_REPAIR_CONSENSUS => Some(RollbackStep::Repair),
            ACTION_REMOVE_GREEN_PEERS | ACTION_REMOVE_BLUE_PEERS => Some(RollbackStep::Cleanup),
            _ => None,
        }
    }
}

impl JobView {
    /// The rollback step of this Job: a rollback action with a rollback run ID (`rollback`,
    /// `rollback-retry-N`, scoped or not). A forward Cleanup's `bluegreen-remove-blue-peers`
    /// (run ID `retry-N` or `bg-v2-…/`) is not one.
    pub(crate) fn rollback_step(&self) -> Option<RollbackStep> {
        self.attempt()?;
        RollbackStep::of_action(self.action.as_deref()?)
    }
}

/// One rollback executor Job of the current operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RollbackJob {
    pub job: JobView,
    pub step: RollbackStep,
    pub attempt: Option<i32>,
    /// Named in `status.breakGlass.message` as the Job that failed.
    pub named_failed: bool,
}

impl Incident {
    /// The current operation's rollback Jobs (both steps), oldest attempt first, the repair
    /// before the cleanup of the same attempt; see the module doc for how they are found.
    pub fn rollback_jobs(&self) -> Vec<RollbackJob> {
        let Some(cluster) = self.cluster.as_ref() else {
            return Vec::new();
        };
        let named = cluster.failed_job_from_message();
        let current_attempt = cluster.blue_green.as_ref().map(|bg| bg.rollback_attempt);
        let expected: Vec<String> = cluster.blue_green.as_ref().map_or(Vec::new(), |bg| {
            let op = bg.operation_id.as_deref().unwrap_or("");
            (0..=bg.rollback_attempt.max(0))
                .map(|a| naming::rollback_run_id(op, a))
                .collect()
        });
        let mut out: Vec<RollbackJob> = self
            .all_jobs
            .iter()
            .filter_map(|j| {
                let named_failed = named.as_deref() == Some(j.name.as_str());
                let exact = j.run_id.as_ref().is_some_and(|r| expected.contains(r));
                let step = match (j.rollback_step(), named_failed) {
                    (Some(step), _) if exact || named_failed => step,
                    // The message names it: take the step from its action alone.
                    (None, true) => RollbackStep::of_action(j.action.as_deref()?)?,
                    _ => return None,
                };
                // The attempt from the run ID; for the Job break glass names without one,
                // the current `rollbackAttempt` (it failed in this attempt).
                let attempt = j.attempt().or(current_attempt.filter(|_| named_failed));
                Some(RollbackJob {
                    job: j.clone(),
                    step,
                    attempt,
                    named_failed,
                })
            })
            .collect();
        out.sort_by_key(|r| (r.attempt, r.step, r.job.created));
        out
    }

    /// The Jobs the log follower streams, in order (the rollback Jobs' views).
    pub fn followed_jobs(&self) -> Vec<JobView> {
        self.rollback_jobs().into_iter().map(|r| r.job).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ClusterView;
    use crate::domain::JobState;

    const OP: &str = "bg-v2-3f1c2a9e-8d4b-4c6e-9a1f-0b2c3d4e5f60";
    const PREVIOUS: &str = "bg-v2-0a0a0a0a-8d4b-4c6e-9a1f-0b2c3d4e5f60";

    fn cluster(op: Option<&str>, attempt: i32, message: Option<&str>) -> ClusterView {
        let mut status = serde_json::json!({"blueGreen": {"phase": "RollbackCleanup",
            "blueRevision": "e8983038c519c718", "greenRevision": "269c4f7ba494030d",
            "rollbackAttempt": attempt}});
        if let Some(op) = op {
            status["blueGreen"]["operationID"] = op.into();
        }
        if let Some(m) = message {
            status["breakGlass"] = serde_json::json!({"active": true,
                "reason": "RollbackCleanupPeerRemovalFailed", "message": m, "nonce": "n"});
        }
        ClusterView::from_json(&serde_json::json!({
            "metadata": {"name": "prod-cluster", "namespace": "security"},
            "spec": {"version": "2.4.4"}, "status": status}))
        .unwrap()
    }

    fn job(name: &str, action: &str, run: &str, state: JobState, at: i64) -> JobView {
        JobView {
            name: name.into(),
            action: Some(action.into()),
            run_id: Some(run.into()),
            state,
            created: jiff::Timestamp::from_second(at).ok(),
        }
    }

    fn names(i: &Incident) -> Vec<String> {
        i.rollback_jobs().into_iter().map(|r| r.job.name).collect()
    }

    #[test]
    fn exact_run_ids_of_the_current_operation_only() {
        let mut i = Incident {
            cluster: Some(cluster(Some(OP), 1, None)),
            ..Incident::default()
        };
        let f = JobState::Failed;
        i.set_jobs(vec![
            // A previous operation's Jobs, still inside their one-hour TTL.
            job(
                "old-repair",
                ACTION_REPAIR_CONSENSUS,
                &format!("{PREVIOUS}/rollback"),
                f,
                1,
            ),
            job(
                "old-cleanup",
                ACTION_REMOVE_GREEN_PEERS,
                &format!("{PREVIOUS}/rollback-retry-1"),
                f,
                2,
            ),
            // An unscoped run ID (an operator before 0.5.1) is not this operation's either.
            job("bare", ACTION_REPAIR_CONSENSUS, "rollback", f, 3),
            // The forward Cleanup's Blue-peer removal.
            job(
                "forward",
                ACTION_REMOVE_BLUE_PEERS,
                &format!("{OP}/retry-1"),
                f,
                4,
            ),
            // A retry beyond rollbackAttempt cannot exist yet.
            job(
                "future",
                ACTION_REPAIR_CONSENSUS,
                &format!("{OP}/rollback-retry-2"),
                f,
                5,
            ),
            job(
                "c1",
                ACTION_REMOVE_GREEN_PEERS,
                &format!("{OP}/rollback-retry-1"),
                f,
                9,
            ),
            job(
                "r0",
                ACTION_REPAIR_CONSENSUS,
                &format!("{OP}/rollback"),
                JobState::Succeeded,
                6,
            ),
            job(
                "c0",
                ACTION_REMOVE_GREEN_PEERS,
                &format!("{OP}/rollback"),
                f,
                7,
            ),
        ]);
        assert_eq!(names(&i), ["r0", "c0", "c1"]);
        let steps: Vec<_> = i
            .rollback_jobs()
            .iter()
            .map(|r| (r.step, r.attempt))
            .collect();
        assert_eq!(
            steps,
            [
                (RollbackStep::Repair, Some(0)),
                (RollbackStep::Cleanup, Some(0)),
                (RollbackStep::Cleanup, Some(1))
            ]
        );
        // `repairJobs` keeps what it always listed: every repair Job of the cluster.
        assert_eq!(i.jobs.len(), 4);
    }

    #[test]
    fn unscoped_operations_and_the_01_cleanup() {
        // 0.1 (no operation ID): `rollback`, `rollback-retry-N`; its RollbackCleanup runs
        // remove-blue-peers on the rollback run ID.
        let mut i = Incident {
            cluster: Some(cluster(None, 0, None)),
            ..Incident::default()
        };
        let f = JobState::Failed;
        i.set_jobs(vec![
            job(
                "cleanup",
                ACTION_REMOVE_BLUE_PEERS,
                "rollback",
                JobState::Running,
                2,
            ),
            job(
                "repair",
                ACTION_REPAIR_CONSENSUS,
                "rollback",
                JobState::Succeeded,
                1,
            ),
            job(
                "scoped",
                ACTION_REPAIR_CONSENSUS,
                &format!("{OP}/rollback"),
                f,
                3,
            ),
            job("fwd", ACTION_REMOVE_BLUE_PEERS, "retry-1", f, 0),
        ]);
        assert_eq!(names(&i), ["repair", "cleanup"]);
        // A plain (0.5.0) operation ID keeps unscoped names.
        i.cluster = Some(cluster(Some("3f1c2a9e-plain"), 0, None));
        assert_eq!(names(&i), ["repair", "cleanup"]);
    }

    #[test]
    fn the_job_break_glass_names_comes_first_even_without_a_matching_run_id() {
        let msg = "Rollback cleanup peer-removal Job upgrade-prod-cluster-bluegreen-remove-green-peers-05ad6a2368 failed; manual intervention required";
        let mut i = Incident {
            cluster: Some(cluster(Some(OP), 0, Some(msg))),
            ..Incident::default()
        };
        let mut named = job(
            "upgrade-prod-cluster-bluegreen-remove-green-peers-05ad6a2368",
            ACTION_REMOVE_GREEN_PEERS,
            "",
            JobState::Failed,
            5,
        );
        named.run_id = None;
        i.set_jobs(vec![
            job(
                "r0",
                ACTION_REPAIR_CONSENSUS,
                &format!("{OP}/rollback"),
                JobState::Succeeded,
                1,
            ),
            named,
        ]);
        let jobs = i.rollback_jobs();
        assert_eq!(jobs.len(), 2, "{jobs:?}");
        let current = jobs.iter().find(|r| r.named_failed).unwrap();
        assert!(current.named_failed);
        assert_eq!(
            current.attempt,
            Some(0),
            "rollbackAttempt stands in for the run ID"
        );
        assert_eq!(current.step, RollbackStep::Cleanup);
        // No cluster read yet: nothing can be matched.
        i.cluster = None;
        assert!(i.rollback_jobs().is_empty());
    }
}

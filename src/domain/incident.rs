//! The incident snapshot: everything the panes show, assembled from watched objects.
//!
//! Pods are grouped Blue/Green by the `openbao.org/revision` label against
//! `status.blueGreen.blueRevision`/`greenRevision` (dc-tec/openbao-operator@002fbdd `internal/infra/manager.go`). Repair Jobs are
//! recognised by their annotations (as the operator's own `test/e2e/Upgrade_Strategies_test.go`
//! `findUpgradeExecutorJob` does), never by name patterns from the runbook.

use jiff::Timestamp;
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::Pod;

use super::cluster::ClusterView;
use super::generation::{Generation, Signals};
use super::raft::RaftReading;
use super::raft_members::Membership;

pub const LABEL_CLUSTER: &str = "openbao.org/cluster";
pub const LABEL_REVISION: &str = "openbao.org/revision";
pub(crate) const LABEL_COMPONENT: &str = "openbao.org/component";
pub(crate) const LABEL_ACTIVE: &str = "openbao-active";
pub(crate) const LABEL_SEALED: &str = "openbao-sealed";
/// OpenBao's service-registration label with the node's version (Green's version lives here).
pub(crate) const LABEL_VERSION: &str = "openbao-version";
pub(crate) const LABEL_JOB_NAME: &str = "batch.kubernetes.io/job-name";
pub(crate) const LABEL_JOB_NAME_LEGACY: &str = "job-name";
pub(crate) const ANNOTATION_ACTION: &str = "openbao.org/upgrade-action";
pub(crate) const ANNOTATION_RUN_ID: &str = "openbao.org/upgrade-run-id";
pub(crate) const ACTION_REPAIR_CONSENSUS: &str = "bluegreen-repair-consensus";
/// RollbackCleanup's action from the 0.5.1 line on (it replaced 0.1's remove-blue-peers there).
pub(crate) const ACTION_REMOVE_GREEN_PEERS: &str = "bluegreen-remove-green-peers";
pub const EXECUTOR_CONTAINER: &str = "upgrade-executor";

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Side {
    Blue,
    Green,
    /// A pod of the cluster whose revision is neither Blue's nor Green's.
    Other,
}

impl Side {
    pub fn label(self) -> &'static str {
        match self {
            Side::Blue => "blue",
            Side::Green => "green",
            Side::Other => "other",
        }
    }

    pub(crate) fn of_revision(revision: Option<&str>, cluster: Option<&ClusterView>) -> Side {
        let bg = cluster.and_then(|c| c.blue_green.as_ref());
        match (revision, bg) {
            (Some(r), Some(bg)) if bg.blue_revision.as_deref() == Some(r) => Side::Blue,
            (Some(r), Some(bg)) if bg.green_revision.as_deref() == Some(r) => Side::Green,
            _ => Side::Other,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PodView {
    pub name: String,
    pub revision: Option<String>,
    /// Pod phase: Pending | Running | Succeeded | Failed | Unknown.
    pub phase: String,
    pub ready: bool,
    /// From OpenBao's service-registration labels; None when the label is absent.
    pub sealed: Option<bool>,
    pub active: Option<bool>,
    pub restarts: i32,
    /// e.g. `CrashLoopBackOff`, `ImagePullBackOff` (the operator aborts on these).
    pub waiting_reason: Option<String>,
    pub deleting: bool,
    /// The `openbao-version` label (None when absent).
    pub version: Option<String>,
}

impl PodView {
    pub fn from_pod(pod: &Pod) -> PodView {
        let labels = pod.metadata.labels.clone().unwrap_or_default();
        let flag = |k: &str| labels.get(k).map(|v| v == "true");
        let status = pod.status.as_ref();
        let statuses = status
            .and_then(|s| s.container_statuses.clone())
            .unwrap_or_default();
        let ready = status
            .and_then(|s| s.conditions.as_ref())
            .is_some_and(|cs| cs.iter().any(|c| c.type_ == "Ready" && c.status == "True"));
        PodView {
            name: pod.metadata.name.clone().unwrap_or_default(),
            revision: labels.get(LABEL_REVISION).cloned(),
            phase: status
                .and_then(|s| s.phase.clone())
                .unwrap_or_else(|| "Unknown".into()),
            ready,
            sealed: flag(LABEL_SEALED),
            active: flag(LABEL_ACTIVE),
            restarts: statuses.iter().map(|c| c.restart_count).sum(),
            waiting_reason: statuses
                .iter()
                .filter_map(|c| c.state.as_ref()?.waiting.as_ref()?.reason.clone())
                .next(),
            deleting: pod.metadata.deletion_timestamp.is_some(),
            version: labels.get(LABEL_VERSION).cloned(),
        }
    }

    /// Crash-looping Green makes the operator abort instead of retry (dc-tec/openbao-operator@002fbdd `internal/upgrade/bluegreen/manager.go`).
    pub(crate) fn is_failing(&self) -> bool {
        matches!(
            self.waiting_reason.as_deref(),
            Some("CrashLoopBackOff" | "ImagePullBackOff" | "ErrImagePull")
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobState {
    Running,
    Succeeded,
    Failed,
}

impl JobState {
    pub fn label(self) -> &'static str {
        match self {
            JobState::Running => "running",
            JobState::Succeeded => "succeeded",
            JobState::Failed => "failed",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobView {
    pub name: String,
    pub action: Option<String>,
    /// `rollback`, `rollback-retry-N`, or None.
    pub run_id: Option<String>,
    pub state: JobState,
    pub created: Option<Timestamp>,
}

impl JobView {
    pub fn from_job(job: &Job) -> JobView {
        let ann = job.metadata.annotations.clone().unwrap_or_default();
        let status = job.status.as_ref();
        let cond = |t: &str| {
            status
                .and_then(|s| s.conditions.as_ref())
                .is_some_and(|cs| cs.iter().any(|c| c.type_ == t && c.status == "True"))
        };
        let n = |f: fn(&k8s_openapi::api::batch::v1::JobStatus) -> Option<i32>| {
            status.and_then(f).unwrap_or(0)
        };
        // The operator's own JobFailed rule: Failed=True, or failed>0 && active==0 && succeeded==0.
        let state = if cond("Complete") || n(|s| s.succeeded) > 0 {
            JobState::Succeeded
        } else if cond("Failed") || (n(|s| s.failed) > 0 && n(|s| s.active) == 0) {
            JobState::Failed
        } else {
            JobState::Running
        };
        JobView {
            name: job.metadata.name.clone().unwrap_or_default(),
            action: ann.get(ANNOTATION_ACTION).cloned(),
            run_id: ann.get(ANNOTATION_RUN_ID).cloned(),
            state,
            created: job.metadata.creation_timestamp.as_ref().map(|t| t.0),
        }
    }

    pub fn is_repair(&self) -> bool {
        self.action.as_deref() == Some(ACTION_REPAIR_CONSENSUS)
    }

    /// 0 for `rollback`, N for `rollback-retry-N` (with or without a `bg-v2-` scope).
    pub fn attempt(&self) -> Option<i32> {
        super::naming::rollback_attempt_of(self.run_id.as_deref()?)
    }
}

/// Everything the console currently believes about the incident.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Incident {
    pub namespace: String,
    pub cluster_name: String,
    /// None until the first read, or when the cluster does not exist.
    pub cluster: Option<ClusterView>,
    pub pods: Vec<PodView>,
    /// Repair-consensus Jobs of this cluster, oldest attempt first (`repairJobs`).
    pub jobs: Vec<JobView>,
    /// Every upgrade executor Job of this cluster as watched (`rollback_jobs` picks the
    /// current operation's rollback Jobs from them).
    pub all_jobs: Vec<JobView>,
    pub raft: Vec<RaftReading>,
    /// Voters, autopilot health and failure tolerance (token-gated).
    pub raft_members: Membership,
    /// How the Raft nodes are reached when not by the pod proxy (or why they cannot be).
    pub raft_route: Option<String>,
    /// What was read about the operator's line (CRD schema, controller image).
    pub operator: Signals,
}

impl Incident {
    /// The operator line from the signals read and the live `status.blueGreen.operationID`.
    pub fn generation(&self) -> Generation {
        self.operator.detect(self.operation_id())
    }

    /// `status.blueGreen.operationID`, when set.
    pub fn operation_id(&self) -> Option<&str> {
        self.cluster
            .as_ref()?
            .blue_green
            .as_ref()?
            .operation_id
            .as_deref()
    }

    pub(crate) fn side_of(&self, pod: &PodView) -> Side {
        Side::of_revision(pod.revision.as_deref(), self.cluster.as_ref())
    }

    pub(crate) fn pods_on(&self, side: Side) -> impl Iterator<Item = &PodView> {
        self.pods.iter().filter(move |p| self.side_of(p) == side)
    }

    /// Sort and keep only this cluster's repair Jobs.
    pub(crate) fn set_jobs(&mut self, mut jobs: Vec<JobView>) {
        self.all_jobs = jobs.clone();
        jobs.retain(JobView::is_repair);
        jobs.sort_by_key(|j| (j.attempt(), j.created));
        self.jobs = jobs;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(run: &str, state: JobState) -> JobView {
        JobView {
            name: format!("job-{run}"),
            action: Some(ACTION_REPAIR_CONSENSUS.into()),
            run_id: Some(run.into()),
            state,
            created: None,
        }
    }

    #[test]
    fn attempts_come_from_the_run_id() {
        assert_eq!(job("rollback", JobState::Failed).attempt(), Some(0));
        assert_eq!(job("rollback-retry-3", JobState::Failed).attempt(), Some(3));
        assert_eq!(job("retry-1", JobState::Failed).attempt(), None);
    }

    #[test]
    fn set_jobs_orders_attempts_and_drops_other_actions() {
        let mut i = Incident::default();
        let mut other = job("", JobState::Failed);
        other.action = Some("bluegreen-remove-blue-peers".into());
        i.set_jobs(vec![
            job("rollback-retry-1", JobState::Running),
            other,
            job("rollback", JobState::Failed),
        ]);
        let names: Vec<_> = i.jobs.iter().map(|j| j.name.as_str()).collect();
        assert_eq!(names, ["job-rollback", "job-rollback-retry-1"]);
    }
}

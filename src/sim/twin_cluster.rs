//! The OpenBaoCluster as the operator writes it during this incident, and the operator's
//! status transitions as pure functions on its JSON (dc-tec/openbao-operator@002fbdd `api/v1alpha1/openbaocluster_types.go`, `internal/upgrade/bluegreen/break_glass.go`, `internal/upgrade/bluegreen/manager.go`).
//!
//! `seed` builds the initial object with [`cluster_object`]; `twin` decides with
//! [`decide_ack`] / [`green_failing`] and applies [`apply_ack`], [`enter_break_glass`],
//! [`begin_rollback_cleanup`] and [`finish_idle`] through `Store::modify`, so every
//! transition is one status write that watchers see.

use jiff::Timestamp;
use serde_json::{Value, json};

use super::scenario::FailedStep;
use super::scenario::Topology;
use super::twin_objects::ts;
use crate::domain::cluster::{
    REASON_ROLLBACK_CLEANUP_PEER_REMOVAL_FAILED, REASON_ROLLBACK_CONSENSUS_REPAIR_FAILED,
};

pub(crate) const DEGRADED_BREAK_GLASS_MESSAGE: &str =
    "Break glass required; see status.breakGlass for recovery steps";
pub(crate) const ROLLBACK_REASON: &str = "demotion job failure threshold exceeded";
const LOCK_HOLDER: &str = "openbaocluster/upgrade";

/// 16 random bytes, hex: the operator's nonce format (32 lowercase hex chars).
pub(crate) fn new_nonce() -> String {
    let mut b = [0u8; 16];
    rand::fill(&mut b);
    hex::encode(b)
}

/// `status.breakGlass.reason` for the step whose Job failed.
pub(crate) fn break_glass_reason(step: FailedStep) -> &'static str {
    match step {
        FailedStep::Repair => REASON_ROLLBACK_CONSENSUS_REPAIR_FAILED,
        FailedStep::Cleanup => REASON_ROLLBACK_CLEANUP_PEER_REMOVAL_FAILED,
    }
}

pub(crate) fn break_glass_message(step: FailedStep, job: &str) -> String {
    match step {
        FailedStep::Repair => {
            format!("Rollback consensus repair Job {job} failed; manual intervention required")
        }
        FailedStep::Cleanup => {
            format!("Rollback cleanup peer-removal Job {job} failed; manual intervention required")
        }
    }
}

/// The five steps of `break_glass.go`, verbatim (step 3 names `<cluster>-0`, which exists
/// only for an unrevisioned Blue).
pub(crate) fn break_glass_steps(
    step: FailedStep,
    ns: &str,
    cluster: &str,
    job: &str,
    nonce: &str,
) -> Vec<String> {
    let pods = format!(
        "Inspect pod status: kubectl -n {ns} get pods -l openbao.org/cluster={cluster} -o wide"
    );
    let ack = format!(
        "Acknowledge break glass to retry rollback automation: kubectl -n {ns} patch openbaocluster {cluster} --type merge -p '{{\"spec\":{{\"breakGlassAck\":\"{nonce}\"}}}}'"
    );
    match step {
        FailedStep::Repair => vec![
            format!("Inspect rollback Job logs: kubectl -n {ns} logs job/{job}"),
            pods,
            format!(
                "Attempt to identify Raft leader: kubectl -n {ns} exec -it {cluster}-0 -- bao operator raft list-peers"
            ),
            "Perform any required Raft recovery steps (peer removal, snapshot restore) per the user-guide runbook.".to_string(),
            ack,
        ],
        FailedStep::Cleanup => vec![
            format!("Inspect rollback cleanup Job logs: kubectl -n {ns} logs job/{job}"),
            pods,
            format!(
                "Inspect remaining Raft peers from the Blue leader: kubectl -n {ns} exec -it {cluster}-0 -- bao operator raft list-peers"
            ),
            "Remove any stale Green peers manually if required, then verify the Blue cluster is healthy before resuming automation.".to_string(),
            ack,
        ],
    }
}

/// The Warning `BreakGlassEntered` Event's message (break_glass.go).
pub fn break_glass_event(step: FailedStep, job: &str) -> String {
    match step {
        FailedStep::Repair => {
            format!("Break glass entered after rollback consensus repair Job {job} failed")
        }
        FailedStep::Cleanup => {
            format!("Break glass entered after rollback cleanup peer-removal Job {job} failed")
        }
    }
}

/// Times and names of the incident so far.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ClusterSeed {
    pub nonce: String,
    pub upgrade_start: Timestamp,
    pub rollback_start: Timestamp,
    pub entered_at: Timestamp,
    pub snapshot_job: String,
    pub last_job_failure: String,
    /// The rollback Job whose failure entered break glass.
    pub failed_job: String,
    /// Which rollback step that Job ran.
    pub failed_step: FailedStep,
    /// The Blue pod labelled `openbao-active=true`, if any (a Green leader does not count).
    pub active_leader: Option<String>,
}

fn cond(type_: &str, status: &str, reason: &str, message: &str, at: &str) -> Value {
    json!({"type": type_, "status": status, "reason": reason, "message": message,
           "lastTransitionTime": at, "observedGeneration": 1})
}

fn leader_condition(leader: Option<&str>, at: &str) -> Value {
    match leader {
        Some(pod) => cond(
            "OpenBaoLeader",
            "True",
            "LeaderFound",
            &format!("Leader is {pod}"),
            at,
        ),
        None => cond(
            "OpenBaoLeader",
            "False",
            "LeaderUnknown",
            "No leader found among active revision pods",
            at,
        ),
    }
}

/// A CRD-valid OpenBaoCluster in break glass (spec: Hardened, BlueGreen, 2.4.3 → 2.4.4).
pub(crate) fn cluster_object(topo: &Topology, s: &ClusterSeed) -> Value {
    let at = ts(s.upgrade_start);
    let entered = ts(s.entered_at);
    let ns = &topo.namespace;
    let cluster = &topo.cluster;
    let phase = match s.failed_step {
        FailedStep::Repair => "RollingBack",
        FailedStep::Cleanup => "RollbackCleanup",
    };
    let mut obj = json!({
        "apiVersion": "openbao.org/v1alpha1", "kind": "OpenBaoCluster",
        "metadata": {"name": cluster, "namespace": ns,
            "finalizers": ["openbao.org/openbaocluster-finalizer"],
            "labels": {"app.kubernetes.io/part-of": "platform-secrets"}},
        "spec": {
            "version": topo.green_version,
            "image": topo.green_image,
            "replicas": topo.replicas,
            "profile": "Hardened",
            "tls": {"enabled": true, "mode": "External"},
            "storage": {"size": "10Gi", "storageClassName": "standard"},
            "unseal": {"type": "awskms", "awskms": {"kmsKeyID": "alias/openbao-prod-unseal", "region": "eu-west-1"}},
            "selfInit": {"enabled": true, "oidc": {"enabled": true}},
            "upgrade": {"strategy": "BlueGreen", "blueGreen": {
                "autoPromote": true, "maxJobFailures": 5, "preUpgradeSnapshot": true,
                "autoRollback": {"enabled": true, "onJobFailure": true, "onValidationFailure": true}}},
            "backup": {"schedule": "0 */6 * * *", "jwtAuthRole": "openbao-operator-backup",
                "target": {"provider": "s3", "endpoint": "https://s3.eu-west-1.amazonaws.com",
                    "bucket": "acme-openbao-backups", "region": "eu-west-1",
                    "roleArn": "arn:aws:iam::123456789012:role/openbao-backup"}},
            "deletionPolicy": "Retain",
        },
        "status": {
            "phase": "Upgrading",
            "activeLeader": s.active_leader.clone().unwrap_or_default(),
            "readyReplicas": topo.replicas,
            "currentVersion": topo.blue_version,
            "initialized": true,
            "selfInitialized": true,
            "blueGreen": {
                "phase": phase,
                "blueRevision": topo.blue_rev, "blueImage": topo.blue_image,
                "greenRevision": topo.green_rev,
                "startTime": at,
                "jobFailureCount": 5,
                "lastJobFailure": s.last_job_failure,
                "preUpgradeSnapshotJobName": s.snapshot_job,
                "rollbackReason": ROLLBACK_REASON,
                "rollbackStartTime": ts(s.rollback_start),
                "rollbackAttempt": 0,
            },
            "operationLock": {"operation": "Upgrade", "holder": LOCK_HOLDER,
                "message": format!("blue/green upgrade phase {phase}"),
                "acquiredAt": at, "renewedAt": entered},
            "breakGlass": {
                "active": true, "reason": break_glass_reason(s.failed_step),
                "message": break_glass_message(s.failed_step, &s.failed_job),
                "nonce": s.nonce, "enteredAt": entered,
                "steps": break_glass_steps(s.failed_step, ns, cluster, &s.failed_job, &s.nonce),
            },
            "conditions": [
                cond("Available", "True", "AllReplicasReady", &format!("{0}/{0} replicas ready", topo.replicas), &at),
                cond("TLSReady", "True", "Ready", "TLS is managed externally", &at),
                cond("ProductionReady", "True", "ProductionReady", "Cluster meets production requirements", &at),
                cond("Upgrading", "True", "InProgress", &format!("Blue/green upgrade phase {phase}"), &ts(s.rollback_start)),
                cond("BackingUp", "False", "Idle", "No backup is currently in progress", &at),
                cond("Degraded", "True", "BreakGlassRequired", DEGRADED_BREAK_GLASS_MESSAGE, &entered),
                cond("EtcdEncryptionWarning", "True", "EtcdEncryptionUnknown", "The operator cannot verify etcd encryption at rest", &at),
                cond("OpenBaoInitialized", "True", "Initialized", "OpenBao is initialized", &at),
                cond("OpenBaoSealed", "False", "Unsealed", "OpenBao is unsealed", &at),
                leader_condition(s.active_leader.as_deref(), &at),
            ],
        },
    });
    if topo.operator.is_06() {
        with_06_status(&mut obj, topo);
    }
    obj
}

/// The status fields the 0.6 line records at upgrade start (lifecycle.go
/// `recordBlueGreenUpgradeStart`): the operation ID and the frozen target.
fn with_06_status(obj: &mut Value, topo: &Topology) {
    let bg = &mut obj["status"]["blueGreen"];
    bg["operationID"] = json!(topo.operation_id);
    bg["blueReplicas"] = json!(topo.replicas);
    bg["greenImage"] = json!(topo.green_image);
    bg["greenVersion"] = json!(topo.green_version);
    bg["greenReplicas"] = json!(topo.replicas);
    bg["manualPromotionRequired"] = json!(false);
    obj["status"]["acceptedUpgradeStrategy"] = json!("BlueGreen");
    obj["status"]["observedGeneration"] = json!(1);
}

/// Set a condition like meta.SetStatusCondition: the transition time moves only when the
/// status changes; observedGeneration follows the object's generation.
pub(crate) fn set_condition(
    obj: &mut Value,
    type_: &str,
    status: &str,
    reason: &str,
    message: &str,
    now: Timestamp,
) {
    let generation = obj
        .pointer("/metadata/generation")
        .and_then(Value::as_i64)
        .unwrap_or(1);
    if !obj["status"]["conditions"].is_array() {
        obj["status"]["conditions"] = json!([]);
    }
    let Some(list) = obj["status"]["conditions"].as_array_mut() else {
        return;
    };
    let fresh = cond(type_, status, reason, message, &ts(now));
    match list.iter_mut().find(|c| c["type"] == type_) {
        Some(c) => {
            if c["status"] != status {
                c["lastTransitionTime"] = json!(ts(now));
            }
            c["status"] = json!(status);
            c["reason"] = json!(reason);
            c["message"] = json!(message);
            c["observedGeneration"] = json!(generation);
        }
        None => {
            let mut fresh = fresh;
            fresh["observedGeneration"] = json!(generation);
            list.push(fresh);
        }
    }
}

/// What an adminops reconcile makes of the current object (`handleBreakGlassAck`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum AckDecision {
    /// Break glass is not active: nothing to acknowledge.
    NotActive,
    /// Active, and `spec.breakGlassAck` is empty or does not match: hold, no requeue.
    Hold,
    /// Active and matching: acknowledge; the retry becomes attempt `next_attempt`
    /// (`None` when the phase/reason would not count an attempt).
    Acknowledge { next_attempt: Option<i32> },
}

pub(crate) fn decide_ack(obj: &Value) -> AckDecision {
    let bg = &obj["status"]["breakGlass"];
    if bg["active"].as_bool() != Some(true) {
        return AckDecision::NotActive;
    }
    let nonce = bg["nonce"].as_str().unwrap_or_default();
    let ack = obj["spec"]["breakGlassAck"].as_str().unwrap_or_default();
    if nonce.is_empty() || ack != nonce {
        return AckDecision::Hold;
    }
    // shouldResumeBlueGreenRollbackAfterBreakGlassAck: the reason's own phase.
    let phase = &obj["status"]["blueGreen"]["phase"];
    let rolling_back = (phase == "RollingBack"
        && bg["reason"] == REASON_ROLLBACK_CONSENSUS_REPAIR_FAILED)
        || (phase == "RollbackCleanup"
            && bg["reason"] == REASON_ROLLBACK_CLEANUP_PEER_REMOVAL_FAILED);
    let attempt = obj["status"]["blueGreen"]["rollbackAttempt"]
        .as_i64()
        .unwrap_or(0);
    AckDecision::Acknowledge {
        next_attempt: rolling_back.then(|| i32::try_from(attempt + 1).unwrap_or(i32::MAX)),
    }
}

/// The acknowledgement's status write: `active=false`, `acknowledgedAt`, and in the failed
/// step's phase `rollbackAttempt+1`, `jobFailureCount=0`, `lastJobFailure=""`. The Degraded
/// condition follows (the status controller's BreakGlassRequired check no longer holds).
pub(crate) fn apply_ack(obj: &mut Value, now: Timestamp) {
    if let AckDecision::Acknowledge { next_attempt } = decide_ack(obj) {
        obj["status"]["breakGlass"]["active"] = json!(false);
        obj["status"]["breakGlass"]["acknowledgedAt"] = json!(ts(now));
        if let Some(n) = next_attempt {
            let bg = &mut obj["status"]["blueGreen"];
            bg["rollbackAttempt"] = json!(n);
            bg["jobFailureCount"] = json!(0);
            bg["lastJobFailure"] = json!("");
        }
        obj["status"]["operationLock"]["renewedAt"] = json!(ts(now));
        set_condition(obj, "Degraded", "False", "Reconciling", "", now);
    }
}

/// Break glass for the failed `step`'s Job: skipped if already active; otherwise the whole
/// `breakGlass` is replaced (so `acknowledgedAt` disappears) with a new nonce.
pub(crate) fn enter_break_glass(
    obj: &mut Value,
    topo: &Topology,
    step: FailedStep,
    job: &str,
    nonce: &str,
    now: Timestamp,
) {
    if obj["status"]["breakGlass"]["active"].as_bool() == Some(true) {
        return;
    }
    obj["status"]["breakGlass"] = json!({
        "active": true, "reason": break_glass_reason(step),
        "message": break_glass_message(step, job), "nonce": nonce, "enteredAt": ts(now),
        "steps": break_glass_steps(step, &topo.namespace, &topo.cluster, job, nonce),
    });
    set_condition(
        obj,
        "Degraded",
        "True",
        "BreakGlassRequired",
        DEGRADED_BREAK_GLASS_MESSAGE,
        now,
    );
}

/// A Blue leader was confirmed after a successful repair: phase `RollbackCleanup`.
pub(crate) fn begin_rollback_cleanup(obj: &mut Value, leader: &str, now: Timestamp) {
    let phase = "RollbackCleanup";
    obj["status"]["blueGreen"]["phase"] = json!(phase);
    obj["status"]["operationLock"]["message"] = json!(format!("blue/green upgrade phase {phase}"));
    obj["status"]["operationLock"]["renewedAt"] = json!(ts(now));
    obj["status"]["activeLeader"] = json!(leader);
    set_condition(
        obj,
        "Upgrading",
        "True",
        "InProgress",
        &format!("Blue/green upgrade phase {phase}"),
        now,
    );
    set_condition(
        obj,
        "OpenBaoLeader",
        "True",
        "LeaderFound",
        &format!("Leader is {leader}"),
        now,
    );
}

/// Back to `Idle` (after RollbackCleanup, or an abort): `greenRevision` cleared, lock
/// released, `status.phase` Running. `rollbackReason`/`rollbackStartTime` are kept, and
/// `currentVersion` stays Blue's.
///
/// The real operator's Idle handler then sees `spec.version != status.currentVersion` and
/// starts the upgrade again (a new pre-upgrade snapshot, a new Green): nothing remembers the
/// rollback. The sim stops here so the console can show the state the human must act on
/// (revert `spec.version`/`spec.image` to Blue's to stay on Blue).
pub(crate) fn finish_idle(obj: &mut Value, leader: Option<&str>, now: Timestamp) {
    let bg = &mut obj["status"]["blueGreen"];
    bg["phase"] = json!("Idle");
    if bg.get("operationID").is_some() {
        // 0.6: the next upgrade draws a new operation ID.
        bg["operationID"] = json!("");
    }
    bg["greenRevision"] = json!("");
    bg["startTime"] = json!(ts(now));
    if let Some(status) = obj["status"].as_object_mut() {
        status.remove("operationLock");
    }
    obj["status"]["phase"] = json!("Running");
    obj["status"]["activeLeader"] = json!(leader.unwrap_or_default());
    set_condition(
        obj,
        "Upgrading",
        "False",
        "Idle",
        "No upgrade is currently in progress",
        now,
    );
    set_condition(obj, "Degraded", "False", "Reconciling", "", now);
    match leader {
        Some(pod) => set_condition(
            obj,
            "OpenBaoLeader",
            "True",
            "LeaderFound",
            &format!("Leader is {pod}"),
            now,
        ),
        None => set_condition(
            obj,
            "OpenBaoLeader",
            "False",
            "LeaderUnknown",
            "No leader found among active revision pods",
            now,
        ),
    }
}

/// `spec.paused` stops the adminops (and workload) controllers for this cluster.
pub(crate) fn adminops_paused(obj: &Value) -> bool {
    obj["spec"]["paused"].as_bool() == Some(true)
}

/// `handleNoUpgradeNeeded`: `spec.version` equals `status.currentVersion` (e.g. reverted to
/// Blue's version), so the operator deletes Green at once, without any Raft repair (README "Resolution paths by operator line").
pub(crate) fn no_upgrade_needed(obj: &Value) -> bool {
    let spec = obj["spec"]["version"].as_str().unwrap_or_default();
    !spec.is_empty() && obj["status"]["currentVersion"].as_str() == Some(spec)
}

/// Break glass is not active and the phase is RollingBack: the rollback attempt to run.
pub(crate) fn rolling_back_pending(obj: &Value) -> Option<i32> {
    phase_pending(obj, "RollingBack")
}

/// Break glass is not active and the phase is RollbackCleanup: the cleanup attempt to run.
pub(crate) fn cleanup_pending(obj: &Value) -> Option<i32> {
    phase_pending(obj, "RollbackCleanup")
}

fn phase_pending(obj: &Value, phase: &str) -> Option<i32> {
    let active = obj["status"]["breakGlass"]["active"].as_bool() == Some(true);
    let rolling_back = obj["status"]["blueGreen"]["phase"] == phase;
    (!active && rolling_back).then(|| {
        let n = obj["status"]["blueGreen"]["rollbackAttempt"]
            .as_i64()
            .unwrap_or(0);
        i32::try_from(n).unwrap_or(i32::MAX)
    })
}

/// The controller Deployment has an available replica (scaled to 0, nothing reconciles).
pub(crate) fn operator_available(deployment: Option<&Value>) -> bool {
    deployment.is_some_and(|d| {
        d["spec"]["replicas"].as_i64().unwrap_or(1) > 0
            && d["status"]["availableReplicas"].as_i64().unwrap_or(0) > 0
    })
}

/// `checkAbortConditions`: a Green container Waiting in CrashLoopBackOff / ImagePullBackOff /
/// ErrImagePull, or Terminated with a non-zero code.
pub(crate) fn green_failing(pods: &[Value], green_rev: &str) -> bool {
    pods.iter()
        .filter(|p| {
            p.pointer("/metadata/labels/openbao.org~1revision")
                .and_then(Value::as_str)
                == Some(green_rev)
        })
        .flat_map(|p| {
            p.pointer("/status/containerStatuses")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default()
        })
        .any(|c| {
            let waiting = c.pointer("/state/waiting/reason").and_then(Value::as_str);
            let exit = c
                .pointer("/state/terminated/exitCode")
                .and_then(Value::as_i64);
            matches!(
                waiting,
                Some("CrashLoopBackOff" | "ImagePullBackOff" | "ErrImagePull")
            ) || exit.is_some_and(|c| c != 0)
        })
}

#[cfg(test)]
#[path = "twin_cluster_tests.rs"]
mod tests;

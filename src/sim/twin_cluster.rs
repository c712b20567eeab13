//! The OpenBaoCluster as the operator writes it during this incident, and the operator's
//! status transitions as pure functions on its JSON (operator-facts §1.3, §1.4, §2, §3.1, §9).
//!
//! `seed` builds the initial object with [`cluster_object`]; `twin` decides with
//! [`decide_ack`] / [`green_failing`] and applies [`apply_ack`], [`enter_break_glass`],
//! [`begin_rollback_cleanup`] and [`finish_idle`] through `Store::modify`, so every
//! transition is one status write that watchers see.

use jiff::Timestamp;
use serde_json::{Value, json};

use super::scenario::Topology;
use super::twin_objects::ts;
use crate::domain::cluster::REASON_ROLLBACK_CONSENSUS_REPAIR_FAILED;

pub const DEGRADED_BREAK_GLASS_MESSAGE: &str =
    "Break glass required; see status.breakGlass for recovery steps";
pub const ROLLBACK_REASON: &str = "demotion job failure threshold exceeded";
const LOCK_HOLDER: &str = "openbaocluster/upgrade";

/// 16 random bytes, hex: the operator's nonce format (32 lowercase hex chars).
pub fn new_nonce() -> String {
    let mut b = [0u8; 16];
    rand::fill(&mut b);
    hex::encode(b)
}

pub fn break_glass_message(job: &str) -> String {
    format!("Rollback consensus repair Job {job} failed; manual intervention required")
}

/// The five steps of `break_glass.go`, verbatim (step 3 names the non-existent `<cluster>-0`).
pub fn break_glass_steps(ns: &str, cluster: &str, job: &str, nonce: &str) -> Vec<String> {
    vec![
        format!("Inspect rollback Job logs: kubectl -n {ns} logs job/{job}"),
        format!(
            "Inspect pod status: kubectl -n {ns} get pods -l openbao.org/cluster={cluster} -o wide"
        ),
        format!(
            "Attempt to identify Raft leader: kubectl -n {ns} exec -it {cluster}-0 -- bao operator raft list-peers"
        ),
        "Perform any required Raft recovery steps (peer removal, snapshot restore) per the user-guide runbook.".to_string(),
        format!(
            "Acknowledge break glass to retry rollback automation: kubectl -n {ns} patch openbaocluster {cluster} --type merge -p '{{\"spec\":{{\"breakGlassAck\":\"{nonce}\"}}}}'"
        ),
    ]
}

/// Times and names of the incident so far.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterSeed {
    pub nonce: String,
    pub upgrade_start: Timestamp,
    pub rollback_start: Timestamp,
    pub entered_at: Timestamp,
    pub snapshot_job: String,
    pub last_job_failure: String,
    pub failed_repair_job: String,
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
pub fn cluster_object(topo: &Topology, s: &ClusterSeed) -> Value {
    let at = ts(s.upgrade_start);
    let entered = ts(s.entered_at);
    let ns = &topo.namespace;
    let cluster = &topo.cluster;
    json!({
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
                "phase": "RollingBack",
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
                "message": "blue/green upgrade phase RollingBack",
                "acquiredAt": at, "renewedAt": entered},
            "breakGlass": {
                "active": true, "reason": REASON_ROLLBACK_CONSENSUS_REPAIR_FAILED,
                "message": break_glass_message(&s.failed_repair_job),
                "nonce": s.nonce, "enteredAt": entered,
                "steps": break_glass_steps(ns, cluster, &s.failed_repair_job, &s.nonce),
            },
            "conditions": [
                cond("Available", "True", "AllReplicasReady", &format!("{0}/{0} replicas ready", topo.replicas), &at),
                cond("TLSReady", "True", "Ready", "TLS is managed externally", &at),
                cond("ProductionReady", "True", "ProductionReady", "Cluster meets production requirements", &at),
                cond("Upgrading", "True", "InProgress", "Blue/green upgrade phase RollingBack", &ts(s.rollback_start)),
                cond("BackingUp", "False", "Idle", "No backup is currently in progress", &at),
                cond("Degraded", "True", "BreakGlassRequired", DEGRADED_BREAK_GLASS_MESSAGE, &entered),
                cond("EtcdEncryptionWarning", "True", "EtcdEncryptionUnknown", "The operator cannot verify etcd encryption at rest", &at),
                cond("OpenBaoInitialized", "True", "Initialized", "OpenBao is initialized", &at),
                cond("OpenBaoSealed", "False", "Unsealed", "OpenBao is unsealed", &at),
                leader_condition(s.active_leader.as_deref(), &at),
            ],
        },
    })
}

/// Set a condition like meta.SetStatusCondition: the transition time moves only when the
/// status changes; observedGeneration follows the object's generation.
pub fn set_condition(
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
pub enum AckDecision {
    /// Break glass is not active: nothing to acknowledge.
    NotActive,
    /// Active, and `spec.breakGlassAck` is empty or does not match: hold, no requeue.
    Hold,
    /// Active and matching: acknowledge; the retry becomes attempt `next_attempt`
    /// (`None` when the phase/reason would not count an attempt).
    Acknowledge { next_attempt: Option<i32> },
}

pub fn decide_ack(obj: &Value) -> AckDecision {
    let bg = &obj["status"]["breakGlass"];
    if bg["active"].as_bool() != Some(true) {
        return AckDecision::NotActive;
    }
    let nonce = bg["nonce"].as_str().unwrap_or_default();
    let ack = obj["spec"]["breakGlassAck"].as_str().unwrap_or_default();
    if nonce.is_empty() || ack != nonce {
        return AckDecision::Hold;
    }
    let rolling_back = obj["status"]["blueGreen"]["phase"] == "RollingBack"
        && bg["reason"] == REASON_ROLLBACK_CONSENSUS_REPAIR_FAILED;
    let attempt = obj["status"]["blueGreen"]["rollbackAttempt"]
        .as_i64()
        .unwrap_or(0);
    AckDecision::Acknowledge {
        next_attempt: rolling_back.then(|| i32::try_from(attempt + 1).unwrap_or(i32::MAX)),
    }
}

/// The acknowledgement's status write: `active=false`, `acknowledgedAt`, and while
/// RollingBack `rollbackAttempt+1`, `jobFailureCount=0`, `lastJobFailure=""`. The Degraded
/// condition follows (the status controller's BreakGlassRequired check no longer holds).
pub fn apply_ack(obj: &mut Value, now: Timestamp) {
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

/// `enterBreakGlassRollbackConsensusRepairFailed`: skipped if already active; otherwise the
/// whole `breakGlass` is replaced (so `acknowledgedAt` disappears) with a new nonce.
pub fn enter_break_glass(obj: &mut Value, topo: &Topology, job: &str, nonce: &str, now: Timestamp) {
    if obj["status"]["breakGlass"]["active"].as_bool() == Some(true) {
        return;
    }
    obj["status"]["breakGlass"] = json!({
        "active": true, "reason": REASON_ROLLBACK_CONSENSUS_REPAIR_FAILED,
        "message": break_glass_message(job), "nonce": nonce, "enteredAt": ts(now),
        "steps": break_glass_steps(&topo.namespace, &topo.cluster, job, nonce),
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
pub fn begin_rollback_cleanup(obj: &mut Value, leader: &str, now: Timestamp) {
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
pub fn finish_idle(obj: &mut Value, leader: Option<&str>, now: Timestamp) {
    let bg = &mut obj["status"]["blueGreen"];
    bg["phase"] = json!("Idle");
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
pub fn adminops_paused(obj: &Value) -> bool {
    obj["spec"]["paused"].as_bool() == Some(true)
}

/// `handleNoUpgradeNeeded`: `spec.version` equals `status.currentVersion` (e.g. reverted to
/// Blue's version), so the operator deletes Green at once, without any Raft repair (§9).
pub fn no_upgrade_needed(obj: &Value) -> bool {
    let spec = obj["spec"]["version"].as_str().unwrap_or_default();
    !spec.is_empty() && obj["status"]["currentVersion"].as_str() == Some(spec)
}

/// Break glass is not active and the phase is RollingBack: the rollback attempt to run.
pub fn rolling_back_pending(obj: &Value) -> Option<i32> {
    let active = obj["status"]["breakGlass"]["active"].as_bool() == Some(true);
    let rolling_back = obj["status"]["blueGreen"]["phase"] == "RollingBack";
    (!active && rolling_back).then(|| {
        let n = obj["status"]["blueGreen"]["rollbackAttempt"]
            .as_i64()
            .unwrap_or(0);
        i32::try_from(n).unwrap_or(i32::MAX)
    })
}

/// The controller Deployment has an available replica (scaled to 0, nothing reconciles).
pub fn operator_available(deployment: Option<&Value>) -> bool {
    deployment.is_some_and(|d| {
        d["spec"]["replicas"].as_i64().unwrap_or(1) > 0
            && d["status"]["availableReplicas"].as_i64().unwrap_or(0) > 0
    })
}

/// `checkAbortConditions`: a Green container Waiting in CrashLoopBackOff / ImagePullBackOff /
/// ErrImagePull, or Terminated with a non-zero code.
pub fn green_failing(pods: &[Value], green_rev: &str) -> bool {
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
mod tests {
    use super::*;
    use crate::domain::ClusterView;
    use crate::sim::scenario::Scenario;

    fn topo() -> Topology {
        Topology::of(&Scenario::named("transient").unwrap())
    }

    fn seeded() -> Value {
        let t: Timestamp = "2026-11-23T19:00:00Z".parse().unwrap();
        let mut o = cluster_object(
            &topo(),
            &ClusterSeed {
                nonce: "0123456789abcdef0123456789abcdef".into(),
                upgrade_start: t,
                rollback_start: t,
                entered_at: t,
                snapshot_job: "snap".into(),
                last_job_failure: "demote".into(),
                failed_repair_job: topo().repair_job(0),
                active_leader: None,
            },
        );
        o["metadata"]["generation"] = json!(1);
        o
    }

    fn now() -> Timestamp {
        "2026-11-23T19:10:00Z".parse().unwrap()
    }

    #[test]
    fn the_seeded_cluster_parses_as_the_console_reads_it() {
        let c = ClusterView::from_json(&seeded()).unwrap();
        assert!(c.break_glass_active());
        assert_eq!(c.failed_job_from_message().unwrap(), topo().repair_job(0));
        let bg = c.blue_green.clone().unwrap();
        assert_eq!(bg.phase.as_deref(), Some("RollingBack"));
        assert_eq!(bg.job_failure_count, 5);
        let b = c.break_glass.clone().unwrap();
        assert_eq!(b.steps.len(), 5);
        assert!(
            b.steps[4]
                .ends_with(r#"-p '{"spec":{"breakGlassAck":"0123456789abcdef0123456789abcdef"}}'"#)
        );
        assert_eq!(
            c.condition("Degraded").unwrap().reason.as_deref(),
            Some("BreakGlassRequired")
        );
    }

    #[test]
    fn only_the_exact_nonce_acknowledges() {
        let mut o = seeded();
        assert_eq!(decide_ack(&o), AckDecision::Hold);
        o["spec"]["breakGlassAck"] = json!("0123456789ABCDEF0123456789ABCDEF");
        assert_eq!(decide_ack(&o), AckDecision::Hold);
        let before = o.clone();
        apply_ack(&mut o, now());
        assert_eq!(o, before, "a wrong ack changes nothing");
        o["spec"]["breakGlassAck"] = json!("0123456789abcdef0123456789abcdef");
        assert_eq!(
            decide_ack(&o),
            AckDecision::Acknowledge {
                next_attempt: Some(1)
            }
        );
        apply_ack(&mut o, now());
        let bg = &o["status"]["blueGreen"];
        assert_eq!(bg["rollbackAttempt"], 1);
        assert_eq!(bg["jobFailureCount"], 0);
        assert_eq!(bg["lastJobFailure"], "");
        assert_eq!(o["status"]["breakGlass"]["active"], false);
        assert_eq!(
            o["status"]["breakGlass"]["acknowledgedAt"],
            "2026-11-23T19:10:00Z"
        );
        assert_eq!(decide_ack(&o), AckDecision::NotActive);
    }

    #[test]
    fn a_new_break_glass_replaces_the_old_one() {
        let mut o = seeded();
        o["spec"]["breakGlassAck"] = json!("0123456789abcdef0123456789abcdef");
        apply_ack(&mut o, now());
        let job = topo().repair_job(1);
        enter_break_glass(
            &mut o,
            &topo(),
            &job,
            "ffffffffffffffffffffffffffffffff",
            now(),
        );
        let b = &o["status"]["breakGlass"];
        assert_eq!(b["active"], true);
        assert!(b.get("acknowledgedAt").is_none());
        assert_eq!(b["message"], break_glass_message(&job));
        let c = ClusterView::from_json(&o).unwrap();
        assert_eq!(c.condition("Degraded").unwrap().status, "True");
        assert_eq!(
            decide_ack(&o),
            AckDecision::Hold,
            "the stale ack no longer matches"
        );
    }

    #[test]
    fn idle_clears_green_and_releases_the_lock() {
        let mut o = seeded();
        begin_rollback_cleanup(&mut o, "prod-cluster-e8983038c519c718-0", now());
        assert_eq!(o["status"]["blueGreen"]["phase"], "RollbackCleanup");
        finish_idle(&mut o, Some("prod-cluster-e8983038c519c718-0"), now());
        let c = ClusterView::from_json(&o).unwrap();
        let bg = c.blue_green.as_ref().unwrap();
        assert_eq!(bg.phase.as_deref(), Some("Idle"));
        assert_eq!(bg.green_revision, None);
        assert_eq!(c.condition("Upgrading").unwrap().status, "False");
        assert_eq!(c.current_version.as_deref(), Some("2.4.3"));
        assert!(o["status"].get("operationLock").is_none());
    }

    #[test]
    fn what_keeps_the_operator_from_acting() {
        let mut o = seeded();
        assert!(!adminops_paused(&o));
        o["spec"]["paused"] = json!(true);
        assert!(adminops_paused(&o));
        assert!(!no_upgrade_needed(&o));
        o["spec"]["version"] = json!("2.4.3");
        assert!(no_upgrade_needed(&o));
        assert_eq!(rolling_back_pending(&o), None, "break glass still active");
        o["status"]["breakGlass"]["active"] = json!(false);
        assert_eq!(rolling_back_pending(&o), Some(0));
        let up = json!({"spec": {"replicas": 1}, "status": {"availableReplicas": 1}});
        let down = json!({"spec": {"replicas": 0}, "status": {"availableReplicas": 1}});
        let starting = json!({"spec": {"replicas": 1}, "status": {"availableReplicas": 0}});
        assert!(operator_available(Some(&up)));
        assert!(!operator_available(Some(&down)));
        assert!(!operator_available(Some(&starting)));
        assert!(!operator_available(None));
    }

    #[test]
    fn nonces_are_32_lowercase_hex() {
        let n = new_nonce();
        assert_eq!(n.len(), 32);
        assert!(
            n.chars()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
        );
        assert_ne!(n, new_nonce());
    }

    #[test]
    fn green_failure_detection() {
        let green = |waiting: &str| {
            json!({"metadata": {"labels": {"openbao.org/revision": "g"}},
            "status": {"containerStatuses": [{"state": {"waiting": {"reason": waiting}}}]}})
        };
        assert!(green_failing(&[green("CrashLoopBackOff")], "g"));
        assert!(!green_failing(&[green("ContainerCreating")], "g"));
        assert!(!green_failing(&[green("CrashLoopBackOff")], "other"));
    }
}

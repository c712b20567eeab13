//! The operator twin's restore controller (dc-tec/openbao-operator@002fbdd `internal/restore/manager.go`):
//! for each OpenBaoRestore it moves Pending → Validating (`Validating restore preconditions`),
//! refuses what the real controller refuses (missing cluster, `overrideOperationLock` without
//! `force`, `cannot restore while cluster is upgrading` without `force`, missing auth), waits
//! on another operation's lock unless overriding it, then runs the Job `restore-<name>`
//! (container `restore`) whose log prints the restore executor's lines, and finishes
//! Completed or Failed with the real messages. It lives in the operator: nothing happens
//! while the controller Deployment is scaled down.
//!
//! On the 0.1 line the executor probes `<cluster>-<i>.<cluster>.<ns>.svc` (no
//! `STATEFULSET_NAME`), so for a Blue/Green cluster, whose pods are `<cluster>-<rev>-<i>`, it
//! finds no leader and exits 3 (inferred from the code, played here). From the 0.5 line on the
//! target is the active Blue StatefulSet (`restoreTargetStatefulSetName`, PR #405), whose
//! leader it finds. A probed pod labelled `openbao-active=true` is a leader it finds.

use std::collections::HashSet;
use std::sync::{Arc, Mutex, PoisonError};

use jiff::Timestamp;
use serde_json::{Value, json};
use tokio::task::JoinSet;

use super::operator_line::OperatorLine;
use super::scenario::{OPERATOR_DEPLOYMENT, OPERATOR_NAMESPACE, Scenario, Topology};
use super::store::{ApiError, Resource};
use super::twin_api::TwinApi;
use super::twin_cluster::{operator_available, set_condition};
use super::twin_objects::{JobPhase, PodRun, job_pod_status, job_status, ts};
use super::twin_seed::{create_job, create_job_pod};
use crate::domain::restore_status::{RESTORE_CONTAINER, restore_job_name};

/// The restore executor's exit code when it finds no leader.
pub(crate) const EXIT_LEADER_DISCOVERY: i32 = 3;
/// The executor's retries of leader discovery.
const LEADER_ATTEMPTS: i32 = 5;
/// The controller requeues every 5 s while it waits for the lock.
const LOCK_REQUEUE_MS: u64 = 5000;

/// What the Validating phase decides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Validation {
    /// Failed with this message.
    Fail(String),
    /// Another operation holds the lock: this message, requeue indefinitely.
    WaitLock(String),
    /// Go on; `override_lock`: clear another operation's lock first.
    Proceed { override_lock: bool },
}

fn flag(obj: &Value, field: &str) -> bool {
    obj["spec"][field].as_bool().unwrap_or(false)
}

fn upgrading(cluster: &Value) -> bool {
    cluster["status"]["conditions"]
        .as_array()
        .is_some_and(|cs| {
            cs.iter()
                .any(|c| c["type"] == "Upgrading" && c["status"] == "True")
        })
}

/// The controller's checks, in its order.
pub fn validate(restore: &Value, cluster: Option<&Value>) -> Validation {
    let force = flag(restore, "force");
    let Some(cluster) = cluster else {
        let name = restore["spec"]["cluster"].as_str().unwrap_or_default();
        return Validation::Fail(format!("target cluster \"{name}\" not found"));
    };
    if flag(restore, "overrideOperationLock") && !force {
        return Validation::Fail("overrideOperationLock requires force: true".into());
    }
    let lock = &cluster["status"]["operationLock"];
    let held_by_other = lock["operation"].as_str().is_some_and(|op| op != "Restore");
    let override_lock = held_by_other && force && flag(restore, "overrideOperationLock");
    if held_by_other && !override_lock {
        return Validation::WaitLock(format!(
            "Waiting for cluster operation lock: operation={} holder={}",
            lock["operation"].as_str().unwrap_or_default(),
            lock["holder"].as_str().unwrap_or_default()
        ));
    }
    if !force {
        if !cluster["status"]["initialized"].as_bool().unwrap_or(false) {
            return Validation::Fail(
                "target cluster is not initialized (use force: true to override)".into(),
            );
        }
        if upgrading(cluster) {
            return Validation::Fail("cannot restore while cluster is upgrading".into());
        }
    }
    let self_init_oidc = cluster
        .pointer("/spec/selfInit/oidc/enabled")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let authed = restore["spec"].get("jwtAuthRole").is_some()
        || restore["spec"].get("tokenSecretRef").is_some()
        || self_init_oidc;
    if !authed {
        return Validation::Fail(
            "authentication is required: either jwtAuthRole or tokenSecretRef must be set in the restore spec"
                .into(),
        );
    }
    Validation::Proceed { override_lock }
}

/// Set `status.phase` and `status.message` (and the times) on an OpenBaoRestore.
pub fn set_phase(obj: &mut Value, phase: &str, message: &str, now: Timestamp) {
    obj["status"]["phase"] = json!(phase);
    obj["status"]["message"] = json!(message);
    match phase {
        "Running" => obj["status"]["startTime"] = json!(ts(now)),
        "Completed" | "Failed" => {
            obj["status"]["completionTime"] = json!(ts(now));
            let (status, reason) = if phase == "Completed" {
                ("True", "RestoreSucceeded")
            } else {
                ("False", "RestoreFailed")
            };
            set_condition(obj, "RestoreComplete", status, reason, message, now);
        }
        _ => {}
    }
}

/// The Job the controller creates: `restore-<name>`, labels managed-by / cluster /
/// component=restore, container `restore` with `EXECUTOR_MODE=restore` and no
/// `STATEFULSET_NAME`, SA `<cluster>-restore-serviceaccount`, TTL 1 h.
pub(crate) fn restore_job(restore: &Value, cluster: &Value, line: OperatorLine) -> Value {
    let name = restore["metadata"]["name"].as_str().unwrap_or_default();
    let ns = restore["metadata"]["namespace"]
        .as_str()
        .unwrap_or_default();
    let target = restore["spec"]["cluster"].as_str().unwrap_or_default();
    let image = restore["spec"]["image"]
        .as_str()
        .or_else(|| {
            cluster
                .pointer("/spec/backup/image")
                .and_then(Value::as_str)
        })
        .map_or_else(|| line.image("openbao-backup"), str::to_string);
    let labels = json!({"app.kubernetes.io/managed-by": "openbao-operator",
        "openbao.org/cluster": target, "openbao.org/component": "restore"});
    let replicas = cluster["spec"]["replicas"]
        .as_i64()
        .unwrap_or(1)
        .to_string();
    let env = [
        ("EXECUTOR_MODE", "restore"),
        ("CLUSTER_NAMESPACE", ns),
        ("CLUSTER_NAME", target),
        ("CLUSTER_REPLICAS", &replicas),
        (
            "RESTORE_KEY",
            restore["spec"]["source"]["key"]
                .as_str()
                .unwrap_or_default(),
        ),
    ]
    .map(|(k, v)| json!({"name": k, "value": v}));
    json!({
        "apiVersion": "batch/v1", "kind": "Job",
        "metadata": {"name": restore_job_name(name), "namespace": ns, "labels": labels.clone(),
            "ownerReferences": [super::twin_objects::owner_ref("openbao.org/v1alpha1", "OpenBaoRestore", name,
                restore["metadata"]["uid"].as_str().unwrap_or_default())]},
        "spec": {
            "backoffLimit": 0, "ttlSecondsAfterFinished": 3600, "completions": 1, "parallelism": 1,
            "template": {"metadata": {"labels": labels}, "spec": {
                "restartPolicy": "Never",
                "serviceAccountName": format!("{target}-restore-serviceaccount"),
                "containers": [{"name": RESTORE_CONTAINER, "image": image, "env": env}]}},
        },
    })
}

/// The StatefulSet whose pods the restore executor probes. On 0.1 `<cluster>` (no
/// `STATEFULSET_NAME`: Blue/Green revisions ignored); from the 0.5 line on
/// (`restoreTargetStatefulSetName`, PR #405) the active Blue StatefulSet
/// `<cluster>-<status.blueGreen.blueRevision>`, or `<cluster>` when Blue is unrevisioned.
pub(crate) fn target_statefulset(cluster: &Value, line: OperatorLine) -> String {
    let name = cluster["metadata"]["name"].as_str().unwrap_or_default();
    let blue = cluster
        .pointer("/status/blueGreen/blueRevision")
        .and_then(Value::as_str)
        .filter(|r| !r.is_empty());
    match (line, blue) {
        (OperatorLine::V06, Some(rev)) => format!("{name}-{rev}"),
        _ => name.to_string(),
    }
}

/// The leader the executor finds: it probes `<statefulset>-<i>` for i < replicas.
pub(crate) fn find_leader(statefulset: &str, replicas: i32, pods: &[Value]) -> Option<String> {
    (0..replicas)
        .map(|i| format!("{statefulset}-{i}"))
        .find(|name| {
            pods.iter().any(|p| {
                p["metadata"]["name"] == name.as_str()
                    && p.pointer("/metadata/labels/openbao-active") == Some(&json!("true"))
            })
        })
}

/// The restore executor's output (stdout lines, then stderr on failure) and exit code.
pub fn executor_log(
    restore: &Value,
    cluster: &Value,
    statefulset: &str,
    leader: Option<&str>,
) -> (Vec<String>, i32) {
    let ns = restore["metadata"]["namespace"]
        .as_str()
        .unwrap_or_default();
    let target = restore["spec"]["cluster"].as_str().unwrap_or_default();
    let key = restore["spec"]["source"]["key"]
        .as_str()
        .unwrap_or_default();
    let replicas = cluster["spec"]["replicas"].as_i64().unwrap_or(1);
    let url = |pod: &str| format!("https://{pod}.{target}.{ns}.svc:8200");
    let mut lines = vec![
        "Starting restore operation...".to_string(),
        format!("Configuration loaded - cluster={target}, namespace={ns}, replicas={replicas}"),
        format!("Restore key: {key}"),
        "Finding cluster leader...".to_string(),
    ];
    let Some(leader) = leader else {
        for attempt in 1..=LEADER_ATTEMPTS {
            for i in 0..replicas {
                let host = format!("{statefulset}-{i}.{target}.{ns}.svc");
                lines.push(format!(
                    "findLeader: attempt {attempt}/{LEADER_ATTEMPTS}: {}: dial tcp: lookup {host}: no such host",
                    url(&format!("{statefulset}-{i}"))
                ));
            }
        }
        lines.push(format!(
            "bao-restore error: failed to find leader: no leader found among {replicas} pods after {LEADER_ATTEMPTS} attempts"
        ));
        return (lines, EXIT_LEADER_DISCOVERY);
    };
    let method = if restore["spec"].get("tokenSecretRef").is_some() {
        "token"
    } else {
        "jwt"
    };
    lines.extend([
        format!("findLeader: {leader} is the active node"),
        format!("Found leader at: {}", url(leader)),
        format!("Authenticating to leader (method={method})..."),
        "Authentication successful".to_string(),
        "Creating storage client...".to_string(),
        format!("Verifying snapshot exists: {key}"),
        "Downloading snapshot from storage...".to_string(),
        "Restoring snapshot to cluster...".to_string(),
        format!("Restore completed successfully from: {key}"),
    ]);
    (lines, 0)
}

/// Names of the OpenBaoRestores the controller has not finished (phase not Completed
/// or Failed).
fn unfinished(restores: &[Value]) -> Vec<String> {
    restores
        .iter()
        .filter(|r| !matches!(r["status"]["phase"].as_str(), Some("Completed" | "Failed")))
        .filter_map(|r| r["metadata"]["name"].as_str())
        .filter(|n| !n.is_empty())
        .map(str::to_string)
        .collect()
}

/// The OpenBaoRestores a controller script is working on (one script each).
pub(crate) type Restoring = Arc<Mutex<HashSet<String>>>;

/// Plays the controller for one OpenBaoRestore, from whatever phase it is in.
#[derive(Clone)]
pub(crate) struct RestoreController {
    pub store: Arc<dyn TwinApi>,
    pub scenario: Arc<Scenario>,
    pub topo: Arc<Topology>,
}

impl RestoreController {
    /// One script for every OpenBaoRestore not finished and not already worked on.
    pub(crate) fn spawn_unfinished(&self, restoring: &Restoring, scripts: &mut JoinSet<()>) {
        let (list, _) = self
            .store
            .list(Resource::OpenBaoRestores, Some(&self.topo.namespace));
        for name in unfinished(&list) {
            if !restoring
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .insert(name.clone())
            {
                continue;
            }
            let controller = self.clone();
            let restoring = restoring.clone();
            scripts.spawn(async move {
                if let Err(e) = controller.run(&name).await {
                    tracing::warn!(error = %e, restore = %name, "operator twin: restore failed");
                }
                restoring
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .remove(&name);
            });
        }
    }

    fn operator_up(&self) -> bool {
        let d = self.store.get(
            Resource::Deployments,
            OPERATOR_NAMESPACE,
            OPERATOR_DEPLOYMENT,
        );
        operator_available(d.as_ref())
    }

    async fn sleep(&self, ms: u64) {
        tokio::time::sleep(self.scenario.delay(ms)).await;
    }

    /// The next reconcile: after `ms`, and only once the operator runs (again).
    async fn reconcile_after(&self, ms: u64) {
        self.sleep(ms).await;
        while !self.operator_up() {
            self.sleep(self.scenario.timing.tick_ms).await;
        }
    }

    fn restore(&self, name: &str) -> Option<Value> {
        self.store
            .get(Resource::OpenBaoRestores, &self.topo.namespace, name)
    }

    fn phase(&self, name: &str, phase: &str, message: &str) -> Result<Value, ApiError> {
        self.store
            .modify(Resource::OpenBaoRestores, &self.topo.namespace, name, |o| {
                set_phase(o, phase, message, Timestamp::now())
            })
    }

    fn cluster_of(&self, restore: &Value) -> Option<Value> {
        let target = restore["spec"]["cluster"].as_str()?;
        self.store
            .get(Resource::OpenBaoClusters, &self.topo.namespace, target)
    }

    /// Take the cluster's operation lock for this restore (clearing another one when
    /// overriding), or release it (`None`).
    fn lock(&self, cluster: &Value, holder: Option<&str>) -> Result<(), ApiError> {
        let name = cluster["metadata"]["name"].as_str().unwrap_or_default();
        let now = ts(Timestamp::now());
        self.store.modify(
            Resource::OpenBaoClusters,
            &self.topo.namespace,
            name,
            |c| match holder {
                Some(h) => {
                    c["status"]["operationLock"] = json!({"operation": "Restore",
                    "holder": format!("openbaorestore/{h}"), "message": "restore in progress",
                    "acquiredAt": now, "renewedAt": now});
                }
                None => {
                    if let Some(s) = c["status"].as_object_mut() {
                        s.remove("operationLock");
                    }
                }
            },
        )?;
        Ok(())
    }

    /// Reconcile restore `name` until it is Completed or Failed (or gone).
    pub async fn run(&self, name: &str) -> Result<(), ApiError> {
        let timing = self.scenario.timing;
        let Some(obj) = self.restore(name) else {
            return Ok(());
        };
        match obj["status"]["phase"].as_str().unwrap_or_default() {
            "Completed" | "Failed" => return Ok(()),
            "Running" => {
                // A Job already exists: the operator restarted mid-restore. Its outcome
                // is read from the Job in `execute`.
            }
            "" => {
                self.phase(name, "Pending", "")?;
            }
            _ => {}
        }
        self.reconcile_after(timing.ack_to_status_ms).await;
        let override_lock = loop {
            let Some(obj) = self.restore(name) else {
                return Ok(());
            };
            if obj["status"]["phase"] == "Running" {
                break false;
            }
            self.phase(name, "Validating", "Validating restore preconditions")?;
            self.reconcile_after(timing.ack_to_status_ms).await;
            let cluster = self.cluster_of(&obj);
            match validate(&obj, cluster.as_ref()) {
                Validation::Fail(message) => {
                    self.phase(name, "Failed", &message)?;
                    return Ok(());
                }
                Validation::WaitLock(message) => {
                    self.phase(name, "Validating", &message)?;
                    self.reconcile_after(LOCK_REQUEUE_MS).await;
                }
                Validation::Proceed { override_lock } => break override_lock,
            }
        };
        if override_lock {
            self.store
                .modify(Resource::OpenBaoRestores, &self.topo.namespace, name, |o| {
                    set_condition(
                        o,
                        "OperationLockOverride",
                        "True",
                        "OperationLockOverridden",
                        "operation lock overridden by restore (force, overrideOperationLock)",
                        Timestamp::now(),
                    );
                })?;
        }
        self.execute(name).await
    }

    /// Running: the Job, its pod and log, then the outcome; the lock is released at the end.
    async fn execute(&self, name: &str) -> Result<(), ApiError> {
        let timing = self.scenario.timing;
        let ns = self.topo.namespace.clone();
        let (Some(obj), job_name) = (self.restore(name), restore_job_name(name)) else {
            return Ok(());
        };
        let Some(cluster) = self.cluster_of(&obj) else {
            let target = obj["spec"]["cluster"].as_str().unwrap_or_default();
            self.phase(
                name,
                "Failed",
                &format!("target cluster \"{target}\" not found"),
            )?;
            return Ok(());
        };
        if self.store.get(Resource::Jobs, &ns, &job_name).is_none() {
            self.lock(&cluster, Some(name))?;
            let (job, job_uid) =
                create_job(&self.store, restore_job(&obj, &cluster, self.topo.operator))?;
            self.phase(name, "Running", "Restore job running")?;
            let started = Timestamp::now();
            self.store.modify(Resource::Jobs, &ns, &job_name, |j| {
                j["status"] = job_status(JobPhase::Running, started, started);
            })?;
            let pod = create_job_pod(
                &self.store,
                &job,
                &job_uid,
                RESTORE_CONTAINER,
                PodRun::Pending,
                started,
                started,
            )?;
            self.run_pod(&obj, &cluster, &pod).await?;
        }
        // The controller polls the Job (no Job watches).
        self.reconcile_after(timing.tick_ms).await;
        let Some(job) = self.store.get(Resource::Jobs, &ns, &job_name) else {
            self.phase(
                name,
                "Failed",
                "Restore job failed: the Job no longer exists",
            )?;
            return self.lock(&cluster, None);
        };
        let failed = job["status"]["conditions"]
            .as_array()
            .and_then(|cs| {
                cs.iter()
                    .find(|c| c["type"] == "Failed" && c["status"] == "True")
            })
            .map(|c| c["message"].as_str().unwrap_or_default().to_string());
        match failed {
            Some(m) if m.is_empty() => self.phase(name, "Failed", "Restore job failed")?,
            Some(m) => self.phase(name, "Failed", &format!("Restore job failed: {m}"))?,
            None => {
                let key = obj["spec"]["source"]["key"].clone();
                self.store
                    .modify(Resource::OpenBaoRestores, &ns, name, |o| {
                        o["status"]["snapshotKey"] = key.clone();
                        set_phase(
                            o,
                            "Completed",
                            "Restore completed successfully",
                            Timestamp::now(),
                        );
                    })?
            }
        };
        self.lock(&cluster, None)
    }

    /// The kubelet's part: start the pod, write the executor's log, terminate.
    async fn run_pod(&self, restore: &Value, cluster: &Value, pod: &Value) -> Result<(), ApiError> {
        let timing = self.scenario.timing;
        let ns = self.topo.namespace.clone();
        let pod_name = pod["metadata"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let job_name = restore_job_name(restore["metadata"]["name"].as_str().unwrap_or_default());
        let image = pod
            .pointer("/spec/containers/0/image")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        self.sleep(timing.pod_start_ms).await;
        let started = Timestamp::now();
        self.store.modify(Resource::Pods, &ns, &pod_name, |p| {
            p["status"] =
                job_pod_status(RESTORE_CONTAINER, &image, PodRun::Running, started, started);
        })?;
        let name = restore["metadata"]["name"].as_str().unwrap_or_default();
        if self.operator_up() {
            self.phase(name, "Running", "Restore job in progress")?;
        }
        let (pods, _) = self.store.list(Resource::Pods, Some(&ns));
        let replicas =
            i32::try_from(cluster["spec"]["replicas"].as_i64().unwrap_or(1)).unwrap_or(1);
        let statefulset = target_statefulset(cluster, self.topo.operator);
        let leader = find_leader(&statefulset, replicas, &pods);
        let (lines, exit) = executor_log(restore, cluster, &statefulset, leader.as_deref());
        let pause = timing.job_run_ms / (lines.len() as u64 + 1);
        for line in &lines {
            self.sleep(pause).await;
            self.store
                .append_log(&ns, &pod_name, RESTORE_CONTAINER, line);
        }
        self.sleep(pause).await;
        let ended = Timestamp::now();
        self.store.modify(Resource::Pods, &ns, &pod_name, |p| {
            p["status"] = job_pod_status(
                RESTORE_CONTAINER,
                &image,
                PodRun::Exited(exit),
                started,
                ended,
            );
        })?;
        self.store.terminate_log(&ns, &pod_name, RESTORE_CONTAINER);
        let phase = if exit == 0 {
            JobPhase::Succeeded
        } else {
            JobPhase::Failed
        };
        self.store.modify(Resource::Jobs, &ns, &job_name, |j| {
            j["status"] = job_status(phase, started, ended);
        })?;
        Ok(())
    }
}

#[cfg(test)]
#[path = "twin_restore_tests.rs"]
mod tests;

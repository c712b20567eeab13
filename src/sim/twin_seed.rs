//! Seeding the store with the incident exactly as the real operator (and Kubernetes) would
//! have left it when break glass was entered: operator Deployment, OpenBaoCluster, Blue and
//! Green StatefulSets/pods/PVCs, the pre-upgrade snapshot Job, the last failed forward Job
//! and the failed `rollback` repair Job, each with its pod and container log.
//!
//! Called once before the twin starts (`run::start`, tests). Job helpers here are shared
//! with the twin, which creates later Jobs the same way.

use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};

use super::executor_log::{finished_log, snapshot_completed_line, snapshot_key};
use super::openbao_sim::RaftModel;
use super::scenario::{ACTION_DEMOTE, ACTION_REPAIR, Scenario, Topology};
use super::store::{ApiError, Resource, Store, random_suffix};
use super::twin_cluster::{ClusterSeed, cluster_object, new_nonce};
use super::twin_objects::{
    BACKUP_CONTAINER, EXECUTOR_CONTAINER, JobPhase, NodeLabels, PodRun, add_job_selector,
    executor_job, job_pod, job_pod_status, job_status, openbao_pod, operator_deployment, pvc,
    snapshot_job, statefulset,
};
use crate::domain::naming;

/// What seeding produced, for the twin and for tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seeded {
    pub nonce: String,
    pub cluster_uid: String,
    pub failed_job: String,
    pub failed_pod: String,
    pub forward_job: String,
    pub snapshot_job: String,
    pub snapshot_key: String,
}

fn uid_of(obj: &Value) -> String {
    obj.pointer("/metadata/uid")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

fn name_of(obj: &Value) -> String {
    obj.pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

fn before(t: Timestamp, secs: f64) -> Timestamp {
    t.checked_sub(SignedDuration::from_secs_f64(secs))
        .unwrap_or(t)
}

fn after(t: Timestamp, secs: f64) -> Timestamp {
    t.checked_add(SignedDuration::from_secs_f64(secs))
        .unwrap_or(t)
}

/// Create a Job, then add what the API server derives from its uid (selector, pod labels).
/// Returns the stored Job and its uid.
pub fn create_job(store: &Store, job: Value) -> Result<(Value, String), ApiError> {
    let created = store.create(Resource::Jobs, job)?;
    let uid = uid_of(&created);
    let ns = created
        .pointer("/metadata/namespace")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let stored = store.modify(Resource::Jobs, &ns, &name_of(&created), |j| {
        add_job_selector(j, &uid)
    })?;
    Ok((stored, uid))
}

/// Create the Job's pod (`<job>-<5 chars>`) with the given container state.
pub fn create_job_pod(
    store: &Store,
    job: &Value,
    job_uid: &str,
    container: &str,
    run: PodRun,
    start: Timestamp,
    end: Timestamp,
) -> Result<Value, ApiError> {
    let mut pod = job_pod(job, job_uid, &random_suffix());
    let image = pod
        .pointer("/spec/containers/0/image")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    pod["status"] = job_pod_status(container, &image, run, start, end);
    store.create(Resource::Pods, pod)
}

/// A finished Job with its pod and full log, as left behind by the job-controller.
struct FinishedJob<'a> {
    job: Value,
    container: &'a str,
    start: Timestamp,
    end: Timestamp,
    exit: i32,
    log: Vec<String>,
}

fn create_finished(store: &Store, f: FinishedJob<'_>) -> Result<(String, String), ApiError> {
    let (job, uid) = create_job(store, f.job)?;
    let name = name_of(&job);
    let ns = job
        .pointer("/metadata/namespace")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let phase = if f.exit == 0 {
        JobPhase::Succeeded
    } else {
        JobPhase::Failed
    };
    store.modify(Resource::Jobs, &ns, &name, |j| {
        j["status"] = job_status(phase, f.start, f.end)
    })?;
    let pod = create_job_pod(
        store,
        &job,
        &uid,
        f.container,
        PodRun::Exited(f.exit),
        f.start,
        f.end,
    )?;
    let pod_name = name_of(&pod);
    for line in &f.log {
        store.append_log(&ns, &pod_name, f.container, line);
    }
    store.terminate_log(&ns, &pod_name, f.container);
    Ok((name, pod_name))
}

/// Put the incident into `store`. The Raft model gives who leads (pod labels, activeLeader).
pub fn seed(store: &Store, scenario: &Scenario, model: &RaftModel) -> Result<Seeded, ApiError> {
    let topo = Topology::of(scenario);
    let now = Timestamp::now();
    let nonce = new_nonce();

    // The timeline, backwards from "break glass was entered two minutes ago".
    let entered_at = before(now, 120.0);
    let first = scenario
        .attempt(0)
        .ok_or_else(|| ApiError::bad_request("scenario has no attempts"))?;
    let repair_run = scenario.run_seconds(&first.log, first.duration_s);
    let repair_end = before(entered_at, 1.0);
    let repair_start = before(repair_end, repair_run);
    let rollback_start = before(repair_start, 3.0);
    let ff = &scenario.forward_failure;
    let forward_run = scenario.run_seconds(&ff.log, ff.duration_s);
    let forward_end = before(rollback_start, 2.0);
    let forward_start = before(forward_end, forward_run);
    let upgrade_start = before(forward_start, 1800.0);
    let snapshot_end = after(upgrade_start, 38.0);

    store.create(Resource::Deployments, operator_deployment())?;

    let forward_job = topo.job(ACTION_DEMOTE, "retry-4");
    let failed_job = topo.repair_job(0);
    let active_leader = model
        .leader
        .clone()
        .filter(|l| model.nodes.get(l).is_some_and(|n| n.blue));
    let cluster = store.create(
        Resource::OpenBaoClusters,
        cluster_object(
            &topo,
            &ClusterSeed {
                nonce: nonce.clone(),
                upgrade_start,
                rollback_start,
                entered_at,
                snapshot_job: topo.snapshot_job(),
                last_job_failure: forward_job.clone(),
                failed_repair_job: failed_job.clone(),
                active_leader,
            },
        ),
    )?;
    let cluster_uid = uid_of(&cluster);

    for blue in [true, false] {
        let crash = !blue && scenario.green.crashloop;
        let ready = if crash { 0 } else { topo.replicas };
        let sts = store.create(
            Resource::StatefulSets,
            statefulset(&topo, blue, &cluster_uid, ready),
        )?;
        let sts_uid = uid_of(&sts);
        let started = if blue {
            before(upgrade_start, 86_400.0 * 9.0)
        } else {
            after(upgrade_start, 60.0)
        };
        for n in 0..topo.replicas {
            let pod = topo.pod(blue, n);
            let node = NodeLabels {
                active: model.is_leader(&pod),
                sealed: crash,
                crashloop: crash.then_some(scenario.green.restarts),
            };
            store.create(
                Resource::Pods,
                openbao_pod(&topo, blue, n, &sts_uid, node, started),
            )?;
            store.create(Resource::PersistentVolumeClaims, pvc(&topo, blue, n))?;
        }
    }

    let mut hex8 = [0u8; 4];
    rand::fill(&mut hex8);
    let key = snapshot_key(&topo, upgrade_start, &hex::encode(hex8));
    let size = 48_000_000 + u64::from(hex8[0]) * 4096;
    create_finished(
        store,
        FinishedJob {
            job: snapshot_job(&topo, &cluster_uid),
            container: BACKUP_CONTAINER,
            start: upgrade_start,
            end: snapshot_end,
            exit: 0,
            log: vec![snapshot_completed_line(&key, size)],
        },
    )?;

    let forward_log = scenario.logs.get(&ff.log).cloned().unwrap_or_default();
    create_finished(
        store,
        FinishedJob {
            job: executor_job(&topo, ACTION_DEMOTE, "retry-4", &cluster_uid),
            container: EXECUTOR_CONTAINER,
            start: forward_start,
            end: forward_end,
            exit: 2,
            log: finished_log(
                forward_start,
                &topo,
                ACTION_DEMOTE,
                &forward_log,
                Some(&ff.error),
            ),
        },
    )?;

    let repair_log = scenario.logs.get(&first.log).cloned().unwrap_or_default();
    let (_, failed_pod) = create_finished(
        store,
        FinishedJob {
            job: executor_job(
                &topo,
                ACTION_REPAIR,
                &naming::rollback_run_id("", 0),
                &cluster_uid,
            ),
            container: EXECUTOR_CONTAINER,
            start: repair_start,
            end: repair_end,
            exit: 2,
            log: finished_log(
                repair_start,
                &topo,
                ACTION_REPAIR,
                &repair_log,
                first.error.as_deref(),
            ),
        },
    )?;

    Ok(Seeded {
        nonce,
        cluster_uid,
        failed_job,
        failed_pod,
        forward_job,
        snapshot_job: topo.snapshot_job(),
        snapshot_key: key,
    })
}

/// Set OpenBao's `openbao-active` label on a pod (service registration follows the leader).
pub fn set_active_label(pod: &mut Value, active: bool) {
    pod["metadata"]["labels"]["openbao-active"] = json!(if active { "true" } else { "false" });
}

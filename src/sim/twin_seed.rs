//! Seeding the store with the incident exactly as the real operator (and Kubernetes) would
//! have left it when break glass was entered: operator Deployment, OpenBaoCluster, Blue and
//! Green StatefulSets/pods/PVCs, the pre-upgrade snapshot Job, the last failed forward Job
//! and the failed `rollback` repair Job, each with its pod and container log.
//!
//! Called once before the twin starts (`run::start`, tests), on any of the twin's API servers
//! (`twin_api`): the simulator's store, or a real kube-apiserver (`twin_api_kube`), where the
//! operator's install is already there and the past Jobs are kept from the real Job
//! controller. Job helpers here are shared with the twin, which creates later Jobs the same
//! way.

use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};

use super::executor_log::{finished_log, snapshot_completed_line, snapshot_key};
use super::openbao_sim::RaftModel;
use super::operator_line::OperatorLine;
use super::scenario::{ACTION_DEMOTE, ACTION_REPAIR, FailedStep, Scenario, Topology};
use super::store::{ApiError, Resource, random_suffix};
use super::twin_api::TwinApi;
use super::twin_cluster::{
    ClusterSeed, ROLLBACK_REASON, break_glass_event, cluster_object, new_nonce,
};
use super::twin_objects::{
    BACKUP_CONTAINER, EXECUTOR_CONTAINER, JobPhase, NodeLabels, PodRun, add_job_selector,
    executor_job, job_pod, job_pod_status, job_status, openbao_pod, operator_deployment, pvc,
    snapshot_job, statefulset,
};
use crate::domain::naming;

/// `spec.managedBy` of the incident's past Jobs on a real API server (see `create_finished`).
pub(crate) const PAST_JOBS_MANAGED_BY: &str = "sim.breakglass.dev/incident-past";

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
pub fn create_job(store: &dyn TwinApi, job: Value) -> Result<(Value, String), ApiError> {
    create_job_at(store, job, Timestamp::now())
}

/// [`create_job`] as if created at `at` (a seeded Job of the incident's past).
fn create_job_at(
    store: &dyn TwinApi,
    job: Value,
    at: Timestamp,
) -> Result<(Value, String), ApiError> {
    let created = store.create_at(Resource::Jobs, job, at)?;
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
    store: &dyn TwinApi,
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
    store.create_at(Resource::Pods, pod, start)
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

fn create_finished(
    store: &dyn TwinApi,
    mut f: FinishedJob<'_>,
) -> Result<(String, String), ApiError> {
    if !store.plays_workloads() {
        // A real Job controller would start the past over: it leaves a Job another
        // controller manages alone (`spec.managedBy`), and the twin writes its status.
        f.job["spec"]["managedBy"] = json!(PAST_JOBS_MANAGED_BY);
    }
    let (job, uid) = create_job_at(store, f.job, f.start)?;
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
pub fn seed(
    store: &dyn TwinApi,
    scenario: &Scenario,
    model: &RaftModel,
) -> Result<Seeded, ApiError> {
    let topo = Topology::of(scenario);
    let now = Timestamp::now();
    let nonce = new_nonce();

    // The timeline, backwards from "break glass was entered two minutes ago".
    let entered_at = before(now, 120.0);
    let runs = rollback_runs(scenario, &topo)?;
    let mut end = before(entered_at, 1.0);
    let mut timed = Vec::new();
    for run in runs.into_iter().rev() {
        let start = before(end, run.seconds);
        timed.push((run, start, end));
        // Between the repair and the cleanup: waiting for the Blue leader.
        end = before(start, 5.0);
    }
    timed.reverse();
    let first_start = timed.first().map_or(entered_at, |(_, s, _)| *s);
    let rollback_start = before(first_start, 3.0);
    let ff = &scenario.forward_failure;
    let forward_run = scenario.run_seconds(&ff.log, ff.duration_s);
    let forward_end = before(rollback_start, 2.0);
    let forward_start = before(forward_end, forward_run);
    let upgrade_start = before(forward_start, 1800.0);
    let snapshot_end = after(upgrade_start, 38.0);

    // On a real server the operator's install is there already (its CRDs, its Deployment,
    // shared by every namespace's incident): kept as it is.
    if store.plays_workloads() {
        for crd in crds(scenario.operator) {
            store.create(Resource::CustomResourceDefinitions, crd)?;
        }
    }
    match store.create(
        Resource::Deployments,
        operator_deployment(scenario.operator),
    ) {
        Err(e) if e.code == 409 && !store.plays_workloads() => {}
        other => {
            other?;
        }
    }

    let forward_run_id = naming::operation_scoped_run_id(&topo.operation_id, "retry-4");
    let forward_job = topo.job(ACTION_DEMOTE, &forward_run_id);
    let failed_job = timed
        .last()
        .map(|(r, _, _)| topo.rollback_job(r.action, 0))
        .unwrap_or_default();
    let active_leader = model
        .leader
        .clone()
        .filter(|l| model.nodes.get(l).is_some_and(|n| n.blue));
    let cluster = store.create_at(
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
                failed_job: failed_job.clone(),
                failed_step: scenario.failed_step,
                active_leader,
            },
        ),
        before(upgrade_start, 86_400.0 * 30.0),
    )?;
    let cluster_uid = uid_of(&cluster);

    for blue in [true, false] {
        let crash = !blue && scenario.green.crashloop;
        let ready = if crash { 0 } else { topo.replicas };
        let started = if blue {
            before(upgrade_start, 86_400.0 * 9.0)
        } else {
            after(upgrade_start, 60.0)
        };
        let sts = store.create_at(
            Resource::StatefulSets,
            statefulset(&topo, blue, &cluster_uid, ready),
            started,
        )?;
        let sts_uid = uid_of(&sts);
        for n in 0..topo.replicas {
            let pod = topo.pod(blue, n);
            let node = NodeLabels {
                active: model.is_leader(&pod),
                sealed: crash,
                crashloop: crash.then_some(scenario.green.restarts),
            };
            store.create_at(
                Resource::Pods,
                openbao_pod(&topo, blue, n, &sts_uid, node, started),
                started,
            )?;
            store.create_at(
                Resource::PersistentVolumeClaims,
                pvc(&topo, blue, n),
                started,
            )?;
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
            job: executor_job(&topo, ACTION_DEMOTE, &forward_run_id, &cluster_uid),
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

    let mut failed_pod = String::new();
    for (run, start, end) in &timed {
        let steps = scenario.logs.get(&run.log).cloned().unwrap_or_default();
        let (_, pod) = create_finished(
            store,
            FinishedJob {
                job: executor_job(&topo, run.action, &topo.rollback_run_id(0), &cluster_uid),
                container: EXECUTOR_CONTAINER,
                start: *start,
                end: *end,
                exit: if run.error.is_some() { 2 } else { 0 },
                log: finished_log(*start, &topo, run.action, &steps, run.error.as_deref()),
            },
        )?;
        failed_pod = pod;
    }
    seed_events(
        store,
        &topo,
        &cluster,
        &failed_job,
        scenario.failed_step,
        [upgrade_start, snapshot_end, rollback_start, entered_at],
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

/// One seeded rollback Job: the repair, and on a cleanup failure the cleanup after it.
struct SeededRun {
    action: &'static str,
    log: String,
    error: Option<String>,
    seconds: f64,
}

fn rollback_runs(scenario: &Scenario, topo: &Topology) -> Result<Vec<SeededRun>, ApiError> {
    let first = scenario
        .attempt(0)
        .ok_or_else(|| ApiError::bad_request("scenario has no attempts"))?;
    let failed = |action| SeededRun {
        action,
        seconds: scenario.run_seconds(&first.log, first.duration_s),
        log: first.log.clone(),
        error: first.error.clone(),
    };
    Ok(match scenario.failed_step {
        FailedStep::Repair => vec![failed(ACTION_REPAIR)],
        FailedStep::Cleanup => {
            let log = scenario.repair_log.clone().unwrap_or_default();
            vec![
                SeededRun {
                    action: ACTION_REPAIR,
                    seconds: scenario.run_seconds(&log, None),
                    log,
                    error: None,
                },
                failed(topo.cleanup_action()),
            ]
        }
    })
}

/// The 0.6 operator's Events of the incident so far (none on 0.1): the upgrade and its
/// snapshot, the late-phase failure and the rollback, and break glass. `at`: upgrade start,
/// snapshot end, rollback start, break glass.
fn seed_events(
    store: &dyn TwinApi,
    topo: &Topology,
    cluster: &Value,
    failed_job: &str,
    step: FailedStep,
    at: [Timestamp; 4],
) -> Result<(), ApiError> {
    use super::twin_events::*;
    if !topo.operator.is_06() {
        return Ok(());
    }
    let snapshot = topo.snapshot_job();
    let events = [
        (
            NORMAL,
            UPGRADE_STARTED,
            format!(
                "Blue/green upgrade started from {} to {}",
                topo.blue_version, topo.green_version
            ),
            at[0],
        ),
        (
            NORMAL,
            SNAPSHOT_JOB_CREATED,
            format!("Created pre-upgrade snapshot Job {snapshot}"),
            after(at[0], 0.2),
        ),
        (
            NORMAL,
            SNAPSHOT_COMPLETED,
            format!("Pre-upgrade snapshot completed successfully with Job {snapshot}"),
            at[1],
        ),
        (
            WARNING,
            UPGRADE_FAILED,
            format!("Blue/green upgrade failed: {ROLLBACK_REASON}"),
            at[2],
        ),
        (
            WARNING,
            ROLLBACK_STARTED,
            format!("Blue/green rollback started: {ROLLBACK_REASON}"),
            after(at[2], 0.05),
        ),
        (
            WARNING,
            BREAK_GLASS_ENTERED,
            break_glass_event(step, failed_job),
            at[3],
        ),
    ];
    for (type_, reason, message, t) in events {
        record(store, event(cluster, type_, reason, &message, t), t)?;
    }
    Ok(())
}

/// The line's CRDs as the API server stores them (`apiextensions.k8s.io/v1`), with the
/// status an established CRD has.
pub fn crds(line: OperatorLine) -> Vec<Value> {
    [Resource::OpenBaoClusters, Resource::OpenBaoRestores]
        .into_iter()
        .filter_map(|r| line.crd_yaml(r))
        .filter_map(|yaml| serde_yaml::from_str::<Value>(yaml).ok())
        .map(|mut crd| {
            let names = crd.pointer("/spec/names").cloned().unwrap_or(json!({}));
            let stored: Vec<Value> = crd
                .pointer("/spec/versions")
                .and_then(Value::as_array)
                .map(|vs| vs.iter().map(|v| v["name"].clone()).collect())
                .unwrap_or_default();
            let at = super::twin_objects::ts(Timestamp::now());
            crd["status"] = json!({
                "acceptedNames": names,
                "conditions": [
                    {"type": "NamesAccepted", "status": "True", "reason": "NoConflicts",
                     "message": "no conflicts found", "lastTransitionTime": at},
                    {"type": "Established", "status": "True", "reason": "InitialNamesAccepted",
                     "message": "the initial names have been accepted", "lastTransitionTime": at},
                ],
                "storedVersions": stored,
            });
            crd
        })
        .collect()
}

/// Set OpenBao's `openbao-active` label on a pod (service registration follows the leader).
pub(crate) fn set_active_label(pod: &mut Value, active: bool) {
    pod["metadata"]["labels"]["openbao-active"] = json!(if active { "true" } else { "false" });
}

//! The operator twin: plays dc-tec/openbao-operator's break-glass behaviour on the store.
//!
//! One tokio task subscribes to store changes (what a controller's watch would see) and
//! ticks the simulated OpenBao nodes. When `spec.breakGlassAck` equals the active nonce it
//! runs the operator's sequence (operator-facts §2.2, §3.1, §9) as a script: acknowledge in
//! status, then on the next reconcile either abort (Green crash-looping) or create the repair
//! Job `rollback-retry-N`, stream its executor log, and finish with a new break glass
//! (failure) or Blue leadership, RollbackCleanup and Idle (success). Every effect is a store
//! write, so API watchers see exactly what they would see from the real operator.

use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use serde_json::Value;
use tokio::sync::{broadcast, mpsc, oneshot};
use tokio::task::{JoinHandle, JoinSet};

use super::executor_log::{ExecutorFields, error_line, step_lines};
use super::openbao::PodProxy;
use super::openbao_sim::{RaftModel, SimOpenBao};
use super::real_nodes::RaftDriverSlot;
use super::scenario::{ACTION_REMOVE_BLUE_PEERS, ACTION_REPAIR, Outcome, Scenario, Topology};
use super::scenario::{OPERATOR_DEPLOYMENT, OPERATOR_NAMESPACE};
use super::store::{ApiError, Resource, Store};
use super::twin_cluster::{
    AckDecision, adminops_paused, apply_ack, begin_rollback_cleanup, decide_ack, enter_break_glass,
    finish_idle, green_failing, new_nonce, no_upgrade_needed, operator_available,
    rolling_back_pending,
};
use super::twin_objects::{
    EXECUTOR_CONTAINER, JobPhase, PodRun, executor_job, job_pod_status, job_status,
};
use super::twin_restore::{RestoreController, Restoring};
use super::twin_seed::{create_job, create_job_pod, set_active_label};
use crate::domain::naming;

/// The running twin. Dropping it (or [`TwinHandle::stop`]) ends the task and any script.
pub struct TwinHandle {
    openbao: SimOpenBao,
    driver: RaftDriverSlot,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
}

impl TwinHandle {
    /// The simulated OpenBao nodes, for the API server's pod proxy.
    pub fn proxy(&self) -> Arc<dyn PodProxy> {
        Arc::new(self.openbao.clone())
    }

    /// The simulated OpenBao nodes themselves (tests inspect the Raft model).
    pub fn openbao(&self) -> &SimOpenBao {
        &self.openbao
    }

    /// Where real OpenBao nodes attach, so the twin drives them too (`sim::real_nodes`).
    pub fn raft_driver(&self) -> &RaftDriverSlot {
        &self.driver
    }

    /// Stop and wait for the task to end.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = (&mut self.task).await;
    }
}

impl Drop for TwinHandle {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Start the twin for an already seeded store (see `twin_seed::seed`). The Raft model is
/// built from the scenario; pass the same one to `seed` via [`model_for`] so labels agree.
pub fn spawn(store: Arc<Store>, scenario: Scenario) -> TwinHandle {
    let topo = Topology::of(&scenario);
    let openbao = SimOpenBao::new(model_for(&scenario));
    let (stop, stop_rx) = oneshot::channel();
    let driver = RaftDriverSlot::default();
    let twin = Twin {
        store,
        scenario: Arc::new(scenario),
        topo: Arc::new(topo),
        openbao: openbao.clone(),
        driver: driver.clone(),
        restoring: Arc::default(),
    };
    // Subscribe before returning, so no change made after spawn() is missed.
    let rx = twin.store.subscribe();
    let task = tokio::spawn(twin.run(rx, stop_rx));
    TwinHandle {
        openbao,
        driver,
        stop: Some(stop),
        task,
    }
}

/// The Raft model a scenario starts with.
pub fn model_for(scenario: &Scenario) -> RaftModel {
    RaftModel::new(scenario, &Topology::of(scenario))
}

#[derive(Clone)]
struct Twin {
    store: Arc<Store>,
    scenario: Arc<Scenario>,
    topo: Arc<Topology>,
    openbao: SimOpenBao,
    driver: RaftDriverSlot,
    /// OpenBaoRestores the restore controller is working on (one script each).
    restoring: Restoring,
}

impl Twin {
    async fn run(
        self,
        mut rx: broadcast::Receiver<super::store::Change>,
        mut stop: oneshot::Receiver<()>,
    ) {
        let tick_every = self.scenario.delay(self.scenario.timing.tick_ms);
        let mut tick = tokio::time::interval(tick_every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        // Scripts live in this set: aborting the twin's task drops (aborts) them too.
        let mut scripts: JoinSet<()> = JoinSet::new();
        let (done_tx, mut done_rx) = mpsc::unbounded_channel::<()>();
        let mut busy = false;
        let mut ttl = tokio::time::interval(Duration::from_secs(1));
        ttl.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        self.reconcile(&mut busy, &mut scripts, &done_tx);
        self.restores(&mut scripts);
        loop {
            tokio::select! {
                _ = &mut stop => break,
                change = rx.recv() => match change {
                    Ok(c) if c.resource == Resource::OpenBaoClusters => {
                        self.reconcile(&mut busy, &mut scripts, &done_tx);
                    }
                    Ok(c) if c.resource == Resource::Deployments => {
                        self.deployment_controller(&c.object, &mut scripts);
                        self.reconcile(&mut busy, &mut scripts, &done_tx);
                        self.restores(&mut scripts);
                    }
                    Ok(c) if c.resource == Resource::OpenBaoRestores => self.restores(&mut scripts),
                    Ok(_) => {}
                    Err(broadcast::error::RecvError::Lagged(_)) => {
                        self.reconcile(&mut busy, &mut scripts, &done_tx);
                    }
                    Err(broadcast::error::RecvError::Closed) => break,
                },
                Some(()) = done_rx.recv() => {
                    busy = false;
                    // Something may have changed while the script ran.
                    self.reconcile(&mut busy, &mut scripts, &done_tx);
                }
                Some(_) = scripts.join_next(), if !scripts.is_empty() => {}
                _ = ttl.tick() => {
                    super::twin_kube::sweep(&self.store, &self.topo.namespace, Timestamp::now());
                }
                _ = tick.tick() => {
                    let dt = tick_every.mul_f64(self.scenario.speed);
                    self.openbao.model().tick(dt);
                }
            }
        }
        scripts.shutdown().await;
    }

    /// The adminops reconcile, level-triggered like the real one: nothing while the
    /// controller Deployment is scaled down or the cluster is paused; while break glass is
    /// active only a matching acknowledgement moves anything; after it, the RollingBack
    /// handler runs the attempt whose Job does not exist yet. A running script is the
    /// operator mid-sequence.
    fn reconcile(
        &self,
        busy: &mut bool,
        scripts: &mut JoinSet<()>,
        done: &mpsc::UnboundedSender<()>,
    ) {
        if *busy || !self.operator_available() {
            return;
        }
        let Some(obj) = self.cluster() else { return };
        if adminops_paused(&obj) {
            return;
        }
        let ack = match decide_ack(&obj) {
            AckDecision::Acknowledge { next_attempt } => Some(next_attempt),
            AckDecision::NotActive => None,
            AckDecision::Hold => return,
        };
        let pending = rolling_back_pending(&obj).filter(|n| !self.repair_job_exists(*n));
        if ack.is_none() && pending.is_none() {
            return;
        }
        *busy = true;
        let twin = self.clone();
        let done = done.clone();
        scripts.spawn(async move {
            let result = match ack {
                Some(next_attempt) => twin.after_ack(next_attempt).await,
                None => twin.rolling_back().await,
            };
            if let Err(e) = result {
                tracing::warn!(error = %e, "operator twin: script failed");
            }
            let _ = done.send(());
        });
    }

    /// The restore controller runs in the operator too: while it is up, every
    /// OpenBaoRestore not finished yet gets one script (`twin_restore`).
    fn restores(&self, scripts: &mut JoinSet<()>) {
        if !self.operator_available() {
            return;
        }
        let controller = RestoreController {
            store: self.store.clone(),
            scenario: self.scenario.clone(),
            topo: self.topo.clone(),
        };
        controller.spawn_unfinished(&self.restoring, scripts);
    }

    fn operator_available(&self) -> bool {
        let d = self.store.get(
            Resource::Deployments,
            OPERATOR_NAMESPACE,
            OPERATOR_DEPLOYMENT,
        );
        operator_available(d.as_ref())
    }

    fn repair_job_exists(&self, attempt: i32) -> bool {
        self.store
            .get(
                Resource::Jobs,
                &self.topo.namespace,
                &self.topo.repair_job(attempt),
            )
            .is_some()
    }

    /// Plays the Deployment controller for the operator: after a scale, the pods come (or
    /// go) and the status follows `spec.replicas`.
    fn deployment_controller(&self, deployment: &Value, scripts: &mut JoinSet<()>) {
        if deployment.pointer("/metadata/name").and_then(Value::as_str) != Some(OPERATOR_DEPLOYMENT)
        {
            return;
        }
        let want = deployment["spec"]["replicas"].as_i64().unwrap_or(1);
        if deployment["status"]["availableReplicas"]
            .as_i64()
            .unwrap_or(0)
            == want
            && deployment["status"]["replicas"].as_i64().unwrap_or(0) == want
        {
            return;
        }
        let twin = self.clone();
        scripts.spawn(async move {
            twin.sleep(twin.scenario.timing.pod_start_ms).await;
            let _ = twin.store.modify(
                Resource::Deployments,
                OPERATOR_NAMESPACE,
                OPERATOR_DEPLOYMENT,
                super::twin_kube::deployment_follows_spec,
            );
        });
    }

    fn cluster(&self) -> Option<Value> {
        self.store.get(
            Resource::OpenBaoClusters,
            &self.topo.namespace,
            &self.topo.cluster,
        )
    }

    fn modify_cluster(&self, f: impl FnOnce(&mut Value)) -> Result<Value, ApiError> {
        self.store.modify(
            Resource::OpenBaoClusters,
            &self.topo.namespace,
            &self.topo.cluster,
            f,
        )
    }

    async fn sleep(&self, ms: u64) {
        tokio::time::sleep(self.scenario.delay(ms)).await;
    }

    /// handleBreakGlassAck, the 5 s requeue, then the next reconcile.
    async fn after_ack(&self, next_attempt: Option<i32>) -> Result<(), ApiError> {
        self.sleep(self.scenario.timing.ack_to_status_ms).await;
        // Re-read at reconcile time: a nonce changed in between is no acknowledgement.
        let Some(obj) = self.cluster() else {
            return Ok(());
        };
        if !self.operator_available()
            || adminops_paused(&obj)
            || !matches!(decide_ack(&obj), AckDecision::Acknowledge { .. })
        {
            return Ok(());
        }
        self.modify_cluster(|o| apply_ack(o, Timestamp::now()))?;
        if next_attempt.is_none() {
            return Ok(());
        }
        self.sleep(self.scenario.timing.status_to_job_ms).await;
        self.rolling_back().await
    }

    /// `handlePhaseRollingBack` with break glass cleared: revert-to-Blue, abort check, or
    /// the repair Job of the current attempt. If the operator went away in between, the
    /// level-triggered reconcile picks this up again when it is back.
    async fn rolling_back(&self) -> Result<(), ApiError> {
        let Some(obj) = self.cluster() else {
            return Ok(());
        };
        if !self.operator_available() || adminops_paused(&obj) {
            return Ok(());
        }
        let Some(attempt) = rolling_back_pending(&obj) else {
            return Ok(());
        };
        if self.repair_job_exists(attempt) {
            return Ok(());
        }
        if no_upgrade_needed(&obj) {
            // ensureIdleAndCleanupGreen: same effect as an abort (no Raft peer removal).
            return self.abort().await;
        }
        let (pods, _) = self.store.list(Resource::Pods, Some(&self.topo.namespace));
        if green_failing(&pods, &self.topo.green_rev) {
            return self.abort().await;
        }
        let outcome = self
            .scenario
            .attempt(attempt)
            .map(|a| a.outcome)
            .unwrap_or(Outcome::Failure);
        let job = self.run_executor(ACTION_REPAIR, attempt).await?;
        match outcome {
            Outcome::Failure => {
                let nonce = new_nonce();
                self.modify_cluster(|o| {
                    enter_break_glass(o, &self.topo, &job, &nonce, Timestamp::now())
                })?;
                Ok(())
            }
            Outcome::Success => self.rollback_cleanup(attempt).await,
        }
    }

    /// `checkAbortConditions` fired: delete Green without any Raft peer removal, Idle.
    async fn abort(&self) -> Result<(), ApiError> {
        self.delete_green().await?;
        let leader = self.blue_leader();
        self.modify_cluster(|o| finish_idle(o, leader.as_deref(), Timestamp::now()))?;
        Ok(())
    }

    fn blue_leader(&self) -> Option<String> {
        let m = self.openbao.model();
        m.leader
            .clone()
            .filter(|l| m.nodes.get(l).is_some_and(|n| n.blue))
    }

    /// Delete the Green StatefulSet; its pods go after a while (PVCs stay).
    async fn delete_green(&self) -> Result<(), ApiError> {
        let ns = &self.topo.namespace;
        match self
            .store
            .delete(Resource::StatefulSets, ns, &self.topo.statefulset(false))
        {
            Ok(_) => {}
            Err(e) if e.code == 404 => {}
            Err(e) => return Err(e),
        }
        self.sleep(self.scenario.timing.green_delete_ms).await;
        for n in 0..self.topo.replicas {
            let pod = self.topo.pod(false, n);
            self.openbao.model().remove(&pod);
            self.driver.pod_deleted(&pod);
            match self.store.delete(Resource::Pods, ns, &pod) {
                Ok(_) => {}
                Err(e) if e.code == 404 => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Create an executor Job for `action` and attempt `attempt`, run its pod, stream the
    /// log and finish it. Returns the Job's name.
    async fn run_executor(&self, action: &str, attempt: i32) -> Result<String, ApiError> {
        let ns = self.topo.namespace.clone();
        let cluster_uid = self
            .cluster()
            .and_then(|c| {
                c.pointer("/metadata/uid")
                    .and_then(Value::as_str)
                    .map(String::from)
            })
            .unwrap_or_default();
        let run_id = naming::rollback_run_id("", attempt);
        let (job, job_uid) = create_job(
            &self.store,
            executor_job(&self.topo, action, &run_id, &cluster_uid),
        )?;
        let name = job
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let created = Timestamp::now();
        self.store.modify(Resource::Jobs, &ns, &name, |j| {
            j["status"] = serde_json::json!({"active": 1, "ready": 0, "startTime": super::twin_objects::ts(created),
                "terminating": 0, "uncountedTerminatedPods": {}});
        })?;
        let pod = create_job_pod(
            &self.store,
            &job,
            &job_uid,
            EXECUTOR_CONTAINER,
            PodRun::Pending,
            created,
            created,
        )?;
        let pod_name = pod
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let image = pod
            .pointer("/spec/containers/0/image")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();

        self.sleep(self.scenario.timing.pod_start_ms).await;
        let started = Timestamp::now();
        self.store.modify(Resource::Pods, &ns, &pod_name, |p| {
            p["status"] = job_pod_status(
                EXECUTOR_CONTAINER,
                &image,
                PodRun::Running,
                started,
                started,
            )
        })?;
        self.store.modify(Resource::Jobs, &ns, &name, |j| {
            j["status"] = job_status(JobPhase::Running, created, created)
        })?;

        let (steps, error, success) = self.script_for(action, attempt);
        let run_ms = if action == ACTION_REMOVE_BLUE_PEERS {
            self.scenario.timing.cleanup_job_ms
        } else {
            self.scenario.timing.job_run_ms
        };
        let pause = run_ms / (steps.len() as u64 + 1);
        let common = ExecutorFields::new(&self.topo, action);
        for step in &steps {
            self.sleep(pause).await;
            for line in step_lines(Timestamp::now(), &self.topo, &common, step) {
                self.store
                    .append_log(&ns, &pod_name, EXECUTOR_CONTAINER, &line);
            }
        }
        self.sleep(pause).await;
        if let Some(err) = &error {
            self.store.append_log(
                &ns,
                &pod_name,
                EXECUTOR_CONTAINER,
                &error_line(&self.topo.fill(err)),
            );
        }
        let ended = Timestamp::now();
        let exit = if success { 0 } else { 2 };
        self.store.modify(Resource::Pods, &ns, &pod_name, |p| {
            p["status"] = job_pod_status(
                EXECUTOR_CONTAINER,
                &image,
                PodRun::Exited(exit),
                started,
                ended,
            )
        })?;
        self.store.terminate_log(&ns, &pod_name, EXECUTOR_CONTAINER);
        let phase = if success {
            JobPhase::Succeeded
        } else {
            JobPhase::Failed
        };
        self.store.modify(Resource::Jobs, &ns, &name, |j| {
            j["status"] = job_status(phase, created, ended)
        })?;
        Ok(name)
    }

    /// The log steps, fatal error and success of one executor run.
    fn script_for(
        &self,
        action: &str,
        attempt: i32,
    ) -> (Vec<super::scenario::LogStep>, Option<String>, bool) {
        if action == ACTION_REMOVE_BLUE_PEERS {
            return (
                super::executor_log::remove_blue_peers_steps(&self.topo, self.blue_leader()),
                None,
                true,
            );
        }
        match self.scenario.attempt(attempt) {
            Some(a) => (
                self.scenario.logs.get(&a.log).cloned().unwrap_or_default(),
                a.error.clone(),
                a.outcome == Outcome::Success,
            ),
            None => (Vec::new(), Some("config is required".into()), false),
        }
    }

    /// Successful repair: Blue catches up and takes the lead, then RollbackCleanup runs the
    /// `remove-blue-peers` Job (the apparent defect of §3.7: it targets Blue, and its result
    /// is ignored), deletes Green and returns to Idle.
    async fn rollback_cleanup(&self, attempt: i32) -> Result<(), ApiError> {
        self.openbao.model().release_blue();
        self.driver.repair_succeeded();
        self.sleep(self.scenario.timing.blue_leader_ms).await;
        let leader = loop {
            if let Some(b) = self.openbao.model().blue_caught_up(1.0) {
                break b;
            }
            self.sleep(self.scenario.timing.tick_ms).await;
        };
        let old = {
            let mut m = self.openbao.model();
            let old = m.leader.clone();
            m.elect(&leader);
            old
        };
        let ns = self.topo.namespace.clone();
        if let Some(old) = old.filter(|o| *o != leader) {
            let _ = self
                .store
                .modify(Resource::Pods, &ns, &old, |p| set_active_label(p, false));
        }
        self.store
            .modify(Resource::Pods, &ns, &leader, |p| set_active_label(p, true))?;
        self.modify_cluster(|o| begin_rollback_cleanup(o, &leader, Timestamp::now()))?;

        // Its result is ignored by the operator ("Continue even if job failed").
        let _ = self.run_executor(ACTION_REMOVE_BLUE_PEERS, attempt).await;
        self.delete_green().await?;
        self.modify_cluster(|o| finish_idle(o, Some(&leader), Timestamp::now()))?;
        Ok(())
    }
}

/// How long to wait for the twin in tests, at a given speed: generous for slow CI.
pub fn bound(scenario: &Scenario) -> Duration {
    let t = &scenario.timing;
    let total = t.ack_to_status_ms
        + t.status_to_job_ms
        + 2 * t.pod_start_ms
        + t.job_run_ms
        + t.cleanup_job_ms
        + t.blue_leader_ms
        + t.green_delete_ms;
    scenario.delay(total * 3) + Duration::from_secs(5)
}

//! The operator twin: plays openbao-operator's break-glass behaviour on the store, for the
//! line the scenario is played on (`operator_line`: 0.1 or 0.6).
//!
//! One tokio task subscribes to store changes (what a controller's watch would see) and
//! ticks the simulated OpenBao nodes. When `spec.breakGlassAck` equals the active nonce it
//! acknowledges in status and, on the next reconcile, runs the failed step's handler
//! (`twin_rollback`): the repair Job of the next attempt (0.1 may abort instead), then Blue
//! leadership, RollbackCleanup and Idle, or a new break glass. Executor Jobs run to their end
//! (`twin_exec`); the operator acts on them only while it reconciles (Deployment up, cluster
//! not paused), and a later reconcile resumes from a finished Job. Every effect is a store
//! write, so API watchers see exactly what they would see from the real operator; on 0.6 the
//! operator's Events are written too (`twin_events`).

use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use serde_json::Value;
use tokio::sync::{broadcast, mpsc, oneshot};
use tokio::task::{JoinHandle, JoinSet};

use super::openbao::PodProxy;
use super::openbao_sim::{RaftModel, SimOpenBao};
use super::real_nodes::RaftDriverSlot;
use super::scenario::{ACTION_REPAIR, Scenario, Topology};
use super::scenario::{OPERATOR_DEPLOYMENT, OPERATOR_NAMESPACE};
use super::store::{ApiError, Resource, Store};
use super::twin_api::TwinApi;
use super::twin_cluster::{
    AckDecision, adminops_paused, apply_ack, cleanup_pending, decide_ack, operator_available,
    rolling_back_pending,
};
use super::twin_events::{BREAK_GLASS_ACKNOWLEDGED, NORMAL, emit};
use super::twin_restore::{RestoreController, Restoring};

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
    pub(crate) fn raft_driver(&self) -> &RaftDriverSlot {
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
    spawn_on(store, scenario)
}

/// Start the twin on any API server (`twin_api`): the simulator's store or a real one.
pub fn spawn_on(store: Arc<dyn TwinApi>, scenario: Scenario) -> TwinHandle {
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
pub(super) struct Twin {
    pub(super) store: Arc<dyn TwinApi>,
    pub(super) scenario: Arc<Scenario>,
    pub(super) topo: Arc<Topology>,
    pub(super) openbao: SimOpenBao,
    pub(super) driver: RaftDriverSlot,
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
                // The TTL controller's part: a real server runs its own.
                _ = ttl.tick(), if self.store.plays_workloads() => {
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
        // A phase with no Job for its attempt yet, or one whose Job finished unobserved
        // (the operator was away or the cluster paused when it ended).
        let running = |action: &str, n: i32| {
            self.rollback_job_state(action, n) == Some(super::twin_rollback::JobState::Running)
        };
        let pending = rolling_back_pending(&obj)
            .filter(|n| !running(ACTION_REPAIR, *n))
            .or_else(|| cleanup_pending(&obj).filter(|n| !running(self.topo.cleanup_action(), *n)));
        if ack.is_none() && pending.is_none() {
            return;
        }
        *busy = true;
        let twin = self.clone();
        let done = done.clone();
        scripts.spawn(async move {
            let result = match ack {
                Some(next_attempt) => twin.after_ack(next_attempt).await,
                None => twin.resume().await,
            };
            if let Err(e) = result {
                tracing::warn!(error = %e, "operator twin: script failed");
            }
            let _ = done.send(());
        });
    }

    /// The restore controller runs in the operator too: while it is up, every
    /// OpenBaoRestore not finished yet gets one script (`twin_restore`).
    /// Not played on a real API server yet: its restore Jobs' pods are the twin's own.
    fn restores(&self, scripts: &mut JoinSet<()>) {
        if !self.store.plays_workloads() || !self.operator_available() {
            return;
        }
        let controller = RestoreController {
            store: self.store.clone(),
            scenario: self.scenario.clone(),
            topo: self.topo.clone(),
        };
        controller.spawn_unfinished(&self.restoring, scripts);
    }

    pub(super) fn operator_available(&self) -> bool {
        let d = self.store.get(
            Resource::Deployments,
            OPERATOR_NAMESPACE,
            OPERATOR_DEPLOYMENT,
        );
        operator_available(d.as_ref())
    }

    /// Plays the Deployment controller for the operator (a real server runs its own): after
    /// a scale, the pods come (or go) and the status follows `spec.replicas`.
    fn deployment_controller(&self, deployment: &Value, scripts: &mut JoinSet<()>) {
        if !self.store.plays_workloads() {
            return;
        }
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

    pub(super) fn cluster(&self) -> Option<Value> {
        self.store.get(
            Resource::OpenBaoClusters,
            &self.topo.namespace,
            &self.topo.cluster,
        )
    }

    pub(super) fn modify_cluster(&self, f: impl FnMut(&mut Value)) -> Result<Value, ApiError> {
        self.store.modify(
            Resource::OpenBaoClusters,
            &self.topo.namespace,
            &self.topo.cluster,
            f,
        )
    }

    pub(super) async fn sleep(&self, ms: u64) {
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
        let reason = obj["status"]["breakGlass"]["reason"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        self.modify_cluster(|o| apply_ack(o, Timestamp::now()))?;
        emit(
            &self.store,
            &self.topo,
            NORMAL,
            BREAK_GLASS_ACKNOWLEDGED,
            &format!("Break glass acknowledged for reason {reason}"),
        );
        if next_attempt.is_none() {
            return Ok(());
        }
        self.sleep(self.scenario.timing.status_to_job_ms).await;
        self.resume().await
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

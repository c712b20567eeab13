//! The twin's rollback handlers, per operator line: `handlePhaseRollingBack` (the repair
//! Job) and `handlePhaseRollbackCleanup`.
//!
//! - 0.1 (dc-tec/openbao-operator@002fbdd `internal/upgrade/bluegreen/manager.go`): a revert of `spec.version` or a crash-looping
//!   Green turns the reconcile into an abort (Green deleted, no Raft repair); RollbackCleanup
//!   runs `bluegreen-remove-blue-peers`, which removes the **Blue** peers it logs (the
//!   defect, played literally in the Raft model and on real nodes), ignores its result, and
//!   deletes Green's StatefulSet (PVCs stay).
//! - 0.6 (`checkAbortConditions` in the 0.6 line's `internal/upgrade/bluegreen/`): no
//!   abort in these phases; RollbackCleanup runs `bluegreen-remove-green-peers` (a failure is break glass
//!   `RollbackCleanupPeerRemovalFailed`), then retires Green's StatefulSet and its
//!   `data-<cluster>-<green>-<n>` PVCs; Events for break glass.
//!
//! Both: deleting Green's pods leaves their peers in the Raft configuration (dead) unless an
//! executor removed them.

use jiff::Timestamp;

use super::executor_log::{remove_blue_peers_steps, remove_green_peers_steps};
use super::scenario::{ACTION_REPAIR, FailedStep};
use super::store::{ApiError, Resource};
use super::twin::Twin;
use super::twin_cluster::{
    adminops_paused, begin_rollback_cleanup, break_glass_event, cleanup_pending, enter_break_glass,
    finish_idle, green_failing, new_nonce, no_upgrade_needed, rolling_back_pending,
};
use super::twin_events::{BREAK_GLASS_ENTERED, WARNING, emit};
use super::twin_exec::ExecScript;
use super::twin_seed::set_active_label;

/// A rollback Job as the operator observes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum JobState {
    Running,
    Succeeded,
    Failed,
}

impl Twin {
    /// The rollback Job of `action` for `attempt` (by the operator's own name), if any.
    pub(super) fn rollback_job_state(&self, action: &str, attempt: i32) -> Option<JobState> {
        let job = self.store.get(
            Resource::Jobs,
            &self.topo.namespace,
            &self.topo.rollback_job(action, attempt),
        )?;
        let count = |k: &str| job["status"][k].as_i64().unwrap_or(0);
        Some(if count("succeeded") > 0 {
            JobState::Succeeded
        } else if count("failed") > 0 {
            JobState::Failed
        } else {
            JobState::Running
        })
    }

    /// Whether the rollback Job the twin just ran succeeded, as the operator observes it (on
    /// a real server the Job controller's verdict on the pod the kubelet ended); None while
    /// it has not finished (or is gone): a later reconcile acts on it.
    fn finished(&self, action: &str, attempt: i32) -> Option<bool> {
        match self.rollback_job_state(action, attempt)? {
            JobState::Running => None,
            done => Some(done == JobState::Succeeded),
        }
    }

    /// The operator reconciles this cluster now: its Deployment is up and the cluster is not
    /// paused. Checked again after every wait, so a script never finishes blind: what the
    /// Job did stays in the store and the next reconcile picks it up from there.
    pub(super) fn can_act(&self) -> bool {
        self.operator_available() && self.cluster().is_some_and(|o| !adminops_paused(&o))
    }

    /// The next reconcile after an acknowledgement or a restart: the handler of the phase.
    pub(super) async fn resume(&self) -> Result<(), ApiError> {
        let Some(obj) = self.cluster() else {
            return Ok(());
        };
        if cleanup_pending(&obj).is_some() {
            self.rollback_cleanup_phase().await
        } else {
            self.rolling_back().await
        }
    }

    /// `handlePhaseRollingBack` with break glass cleared: create the repair Job of the
    /// attempt, or act on the one that finished.
    pub(super) async fn rolling_back(&self) -> Result<(), ApiError> {
        let Some(obj) = self.cluster() else {
            return Ok(());
        };
        if !self.can_act() {
            return Ok(());
        }
        let Some(attempt) = rolling_back_pending(&obj) else {
            return Ok(());
        };
        let succeeded = match self.rollback_job_state(ACTION_REPAIR, attempt) {
            Some(JobState::Running) => return Ok(()),
            Some(done) => done == JobState::Succeeded,
            None => {
                if self.aborts_01(&obj) {
                    return self.abort().await;
                }
                let script = self.repair_script(attempt);
                self.run_executor(ACTION_REPAIR, attempt, &script).await?;
                match self.finished(ACTION_REPAIR, attempt) {
                    Some(succeeded) => succeeded,
                    None => return Ok(()),
                }
            }
        };
        // The Job ran to its end whatever the operator did meanwhile; it acts only now.
        if !self.can_act() {
            return Ok(());
        }
        if !succeeded {
            let job = self.topo.rollback_job(ACTION_REPAIR, attempt);
            return self.break_glass(FailedStep::Repair, &job);
        }
        if self.cluster().is_some_and(|o| self.aborts_01(&o)) {
            // 0.1: a revert or a failing Green seen now deletes Green, without the cleanup.
            return self.abort().await;
        }
        if !self.blue_takes_the_lead().await? {
            return Ok(());
        }
        self.rollback_cleanup(attempt).await
    }

    /// 0.1, every reconcile in RollingBack: `handleNoUpgradeNeeded` (`spec.version` reverted
    /// to `status.currentVersion`) or `checkAbortConditions` (a Green container failing)
    /// turn it into an abort. 0.6 runs neither here.
    fn aborts_01(&self, obj: &serde_json::Value) -> bool {
        if self.topo.operator.is_06() {
            return false;
        }
        let (pods, _) = self.store.list(Resource::Pods, Some(&self.topo.namespace));
        no_upgrade_needed(obj) || green_failing(&pods, &self.topo.green_rev)
    }

    /// `handlePhaseRollbackCleanup` entered by a reconcile (after a cleanup acknowledgement,
    /// or when the operator comes back).
    async fn rollback_cleanup_phase(&self) -> Result<(), ApiError> {
        let Some(obj) = self.cluster() else {
            return Ok(());
        };
        if !self.can_act() {
            return Ok(());
        }
        let Some(attempt) = cleanup_pending(&obj) else {
            return Ok(());
        };
        self.rollback_cleanup(attempt).await
    }

    /// Enter break glass for the failed `step`'s Job (and, on 0.6, say so in an Event).
    fn break_glass(&self, step: FailedStep, job: &str) -> Result<(), ApiError> {
        let nonce = new_nonce();
        self.modify_cluster(|o| {
            enter_break_glass(o, &self.topo, step, job, &nonce, Timestamp::now())
        })?;
        emit(
            &self.store,
            &self.topo,
            WARNING,
            BREAK_GLASS_ENTERED,
            &break_glass_event(step, job),
        );
        Ok(())
    }

    /// Successful repair: Blue catches up and takes the lead (`Blue leader confirmed
    /// during rollback`), then the phase is RollbackCleanup. False: the operator stopped
    /// acting meanwhile (the phase stays RollingBack).
    async fn blue_takes_the_lead(&self) -> Result<bool, ApiError> {
        self.openbao.model().release_blue();
        self.driver.repair_succeeded();
        self.sleep(self.scenario.timing.blue_leader_ms).await;
        let leader = loop {
            if let Some(b) = self.openbao.model().blue_caught_up(1.0) {
                break b;
            }
            self.sleep(self.scenario.timing.tick_ms).await;
        };
        if !self.can_act() {
            return Ok(false);
        }
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
        Ok(true)
    }

    /// RollbackCleanup, attempt `attempt` (same run ID as the repair): create the cleanup
    /// Job, or act on the one that finished.
    async fn rollback_cleanup(&self, attempt: i32) -> Result<(), ApiError> {
        let action = self.topo.cleanup_action();
        let is_06 = self.topo.operator.is_06();
        let succeeded = match self.rollback_job_state(action, attempt) {
            Some(JobState::Running) => return Ok(()),
            Some(done) => done == JobState::Succeeded,
            None => {
                let leader = self.blue_leader();
                let script = if is_06 {
                    let green = self.openbao.model().members(false);
                    self.cleanup_script(
                        attempt,
                        remove_green_peers_steps(&self.topo, leader.clone(), &green),
                    )
                } else {
                    ExecScript::success(remove_blue_peers_steps(&self.topo, leader.clone()))
                };
                self.run_executor(action, attempt, &script).await?;
                if script.succeeds() {
                    // What the executor did: 0.1 removes the Blue peers, 0.6 the Green ones.
                    self.remove_peers(!is_06, leader.as_deref());
                }
                match self.finished(action, attempt) {
                    Some(succeeded) => succeeded,
                    None => return Ok(()),
                }
            }
        };
        if !self.can_act() {
            return Ok(());
        }
        // 0.1 ignores the result ("Continue even if job failed"); 0.6 enters break glass.
        if is_06 && !succeeded {
            let job = self.topo.rollback_job(action, attempt);
            return self.break_glass(FailedStep::Cleanup, &job);
        }
        // 0.6 retireRollbackGreenData: the StatefulSet, its pods gone, then every Green PVC.
        self.delete_green().await?;
        if is_06 {
            self.delete_green_pvcs()?;
        }
        let leader = self.blue_leader();
        self.modify_cluster(|o| finish_idle(o, leader.as_deref(), Timestamp::now()))?;
        Ok(())
    }

    /// The executor's `remove-peer` calls for one side's members, the leader last (it steps
    /// down when it removes itself).
    fn remove_peers(&self, blue: bool, leader: Option<&str>) {
        let mut pods = self.openbao.model().members(blue);
        pods.sort_by_key(|p| Some(p.as_str()) == leader);
        {
            let mut m = self.openbao.model();
            for p in &pods {
                m.remove_peer(p);
            }
        }
        self.driver.peers_removed(&pods);
    }

    /// `checkAbortConditions` fired (0.1): delete Green without any Raft peer removal, Idle.
    async fn abort(&self) -> Result<(), ApiError> {
        self.delete_green().await?;
        let leader = self.blue_leader();
        self.modify_cluster(|o| finish_idle(o, leader.as_deref(), Timestamp::now()))?;
        Ok(())
    }

    pub(super) fn blue_leader(&self) -> Option<String> {
        let m = self.openbao.model();
        m.leader
            .clone()
            .filter(|l| m.nodes.get(l).is_some_and(|n| n.blue))
    }

    /// Delete the Green StatefulSet; its pods go after a while. Their peers stay in the
    /// Raft configuration (dead) unless removed before.
    async fn delete_green(&self) -> Result<(), ApiError> {
        let ns = &self.topo.namespace;
        ok_if_gone(
            self.store
                .delete(Resource::StatefulSets, ns, &self.topo.statefulset(false)),
        )?;
        self.sleep(self.scenario.timing.green_delete_ms).await;
        for n in 0..self.topo.replicas {
            let pod = self.topo.pod(false, n);
            self.openbao.model().remove(&pod);
            self.driver.pod_deleted(&pod);
            ok_if_gone(self.store.delete(Resource::Pods, ns, &pod))?;
        }
        Ok(())
    }

    /// 0.6: no Pod mounts them any more, so every `data-<cluster>-<green>-<n>` PVC goes
    /// (and the pvc-protection controller lets go of it at once).
    fn delete_green_pvcs(&self) -> Result<(), ApiError> {
        let ns = &self.topo.namespace;
        for n in 0..self.topo.replicas {
            let pvc = self.topo.pvc(false, n);
            ok_if_gone(
                self.store
                    .delete(Resource::PersistentVolumeClaims, ns, &pvc),
            )?;
            ok_if_gone(
                self.store
                    .modify(Resource::PersistentVolumeClaims, ns, &pvc, |p| {
                        p["metadata"]["finalizers"] = serde_json::json!([]);
                    }),
            )?;
        }
        Ok(())
    }
}

fn ok_if_gone<T>(r: Result<T, ApiError>) -> Result<(), ApiError> {
    match r {
        Ok(_) => Ok(()),
        Err(e) if e.code == 404 => Ok(()),
        Err(e) => Err(e),
    }
}

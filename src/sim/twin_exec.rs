//! The twin's upgrade executor Jobs: create the Job the operator would (name and
//! `openbao.org/upgrade-run-id` from the rollback run ID, operation-scoped on 0.6), run its
//! pod, stream the executor's log lines paced over the scenario's run time, and finish it
//! with the script's exit status (dc-tec/openbao-operator@002fbdd `internal/upgrade/job.go`, `cmd/bao-upgrade/main.go`; on the 0.6 line `internal/service/upgrade/bluegreen/job_helpers.go` and the executor in `internal/service/upgrade`).

use jiff::Timestamp;
use serde_json::Value;

use super::executor_log::{ExecutorFields, error_line, step_lines};
use super::scenario::{ACTION_REPAIR, FailedStep, LogStep, Outcome};
use super::store::{ApiError, Resource};
use super::twin::Twin;
use super::twin_api::EXIT_CODE_ANNOTATION;
use super::twin_objects::{
    EXECUTOR_CONTAINER, JobPhase, PodRun, executor_job, job_pod_status, job_status, ts,
};
use super::twin_seed::{create_job, create_job_pod};

/// What one executor run prints and how it ends.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct ExecScript {
    pub steps: Vec<LogStep>,
    /// The fatal error (`upgrade-executor error: …`, exit code 2).
    pub error: Option<String>,
}

impl ExecScript {
    pub fn success(steps: Vec<LogStep>) -> ExecScript {
        ExecScript { steps, error: None }
    }

    pub fn succeeds(&self) -> bool {
        self.error.is_none()
    }

    /// The executor's exit status: 2 after its fatal error (`cmd/bao-upgrade/main.go`).
    pub fn exit_code(&self) -> i32 {
        if self.succeeds() { 0 } else { 2 }
    }
}

impl Twin {
    /// Scenario attempt `attempt`'s script (the step that failed into break glass).
    fn scenario_script(&self, attempt: i32) -> ExecScript {
        match self.scenario.attempt(attempt) {
            Some(a) => ExecScript {
                steps: self.scenario.logs.get(&a.log).cloned().unwrap_or_default(),
                error: match a.outcome {
                    Outcome::Success => None,
                    Outcome::Failure => Some(a.error.unwrap_or_default()),
                },
            },
            None => ExecScript {
                steps: Vec::new(),
                error: Some("config is required".into()),
            },
        }
    }

    /// The repair Job of `attempt`: the scenario's attempt, unless the scenario's failure is
    /// the cleanup (then the repair succeeds with its `repair_log`).
    pub(super) fn repair_script(&self, attempt: i32) -> ExecScript {
        match self.scenario.failed_step {
            FailedStep::Repair => self.scenario_script(attempt),
            FailedStep::Cleanup => ExecScript::success(
                self.scenario
                    .repair_log
                    .as_ref()
                    .and_then(|l| self.scenario.logs.get(l))
                    .cloned()
                    .unwrap_or_default(),
            ),
        }
    }

    /// The 0.6 cleanup Job of `attempt`: a scripted failure when the scenario's failure is
    /// the cleanup, otherwise `success` (the lines of what it really removes).
    pub(super) fn cleanup_script(&self, attempt: i32, success: Vec<LogStep>) -> ExecScript {
        match self.scenario.failed_step {
            FailedStep::Cleanup => {
                let s = self.scenario_script(attempt);
                if s.succeeds() {
                    ExecScript::success(success)
                } else {
                    s
                }
            }
            FailedStep::Repair => ExecScript::success(success),
        }
    }

    /// Create the executor Job for `action` and rollback attempt `attempt`, run its pod,
    /// stream `script` and finish it. Returns the Job's name.
    pub(super) async fn run_executor(
        &self,
        action: &str,
        attempt: i32,
        script: &ExecScript,
    ) -> Result<String, ApiError> {
        let ns = self.topo.namespace.clone();
        let cluster_uid = self
            .cluster()
            .and_then(|c| {
                c.pointer("/metadata/uid")
                    .and_then(Value::as_str)
                    .map(String::from)
            })
            .unwrap_or_default();
        let run_id = self.topo.rollback_run_id(attempt);
        let job = executor_job(&self.topo, action, &run_id, &cluster_uid);
        if !self.store.plays_workloads() {
            return self.run_on_real_workloads(action, job, script).await;
        }
        let (job, job_uid) = create_job(&self.store, job)?;
        let name = str_at(&job, "/metadata/name");
        let created = Timestamp::now();
        self.store.modify(Resource::Jobs, &ns, &name, |j| {
            j["status"] = serde_json::json!({"active": 1, "ready": 0, "startTime": ts(created),
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
        let pod_name = str_at(&pod, "/metadata/name");
        let image = str_at(&pod, "/spec/containers/0/image");

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

        let run_ms = if action == ACTION_REPAIR {
            self.scenario.timing.job_run_ms
        } else {
            self.scenario.timing.cleanup_job_ms
        };
        let pause = run_ms / (script.steps.len() as u64 + 1);
        let common = ExecutorFields::new(&self.topo, action);
        for step in &script.steps {
            self.sleep(pause).await;
            for line in step_lines(Timestamp::now(), &self.topo, &common, step) {
                self.store
                    .append_log(&ns, &pod_name, EXECUTOR_CONTAINER, &line);
            }
        }
        self.sleep(pause).await;
        if let Some(err) = &script.error {
            self.store.append_log(
                &ns,
                &pod_name,
                EXECUTOR_CONTAINER,
                &error_line(&self.topo.fill(err)),
            );
        }
        let ended = Timestamp::now();
        let exit = script.exit_code();
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
        let phase = if script.succeeds() {
            JobPhase::Succeeded
        } else {
            JobPhase::Failed
        };
        self.store.modify(Resource::Jobs, &ns, &name, |j| {
            j["status"] = job_status(phase, created, ended)
        })?;
        Ok(name)
    }
}

impl Twin {
    /// [`Twin::run_executor`] on a real API server: the executor's lines go to the log the
    /// kubelet serves (written first: the kubelet may end the container at once), the Job
    /// is created, and the real Job controller and kubelet run it; the twin waits for the
    /// Job to finish. A failing script's pod template carries its exit code
    /// ([`EXIT_CODE_ANNOTATION`]), with which the kubelet ends the container.
    async fn run_on_real_workloads(
        &self,
        action: &str,
        mut job: Value,
        script: &ExecScript,
    ) -> Result<String, ApiError> {
        if !script.succeeds() {
            job["spec"]["template"]["metadata"]["annotations"][EXIT_CODE_ANNOTATION] =
                Value::from(script.exit_code().to_string());
        }
        let ns = self.topo.namespace.clone();
        let name = str_at(&job, "/metadata/name");
        let common = ExecutorFields::new(&self.topo, action);
        for step in &script.steps {
            for line in step_lines(Timestamp::now(), &self.topo, &common, step) {
                self.store.append_log(&ns, "", EXECUTOR_CONTAINER, &line);
            }
        }
        if let Some(err) = &script.error {
            let line = error_line(&self.topo.fill(err));
            self.store.append_log(&ns, "", EXECUTOR_CONTAINER, &line);
        }
        self.store.create(Resource::Jobs, job)?;
        let deadline = tokio::time::Instant::now() + super::twin::bound(&self.scenario);
        while tokio::time::Instant::now() < deadline {
            let finished = self.store.get(Resource::Jobs, &ns, &name).is_some_and(|j| {
                j["status"]["succeeded"].as_i64().unwrap_or(0) > 0
                    || j["status"]["failed"].as_i64().unwrap_or(0) > 0
            });
            if finished {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        }
        Ok(name)
    }
}

fn str_at(v: &Value, ptr: &str) -> String {
    v.pointer(ptr)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

//! The operator twin as a controller of the real server (`sim::twin_api_kube`): the
//! incident the twin seeds is on the server, the responder acknowledges with `breakglass
//! ack`, the twin sees it through its watch, acknowledges in status (the status
//! subresource), creates the retry Job through the API, the real Job controller makes its
//! pod, kwok runs it and serves the executor log the twin wrote, and the console's
//! watchers and log follower see the new attempt.

use std::sync::Arc;
use std::time::Duration;

use breakglass::domain::JobState;
use breakglass::sim::scenario::{ACTION_REPAIR, Topology};
use breakglass::sim::twin::{TwinHandle, spawn_on};
use breakglass::sources::{SourceEvent, logfollow, watch};
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, ListParams};
use serde_json::json;
use tokio::sync::mpsc;

use super::cases_console::{run, s};
use super::incident;
use super::kube::wait_for;
use super::rig::Rig;
use super::tmux::{Tmux, acknowledge};

/// Wait for a console event `f` picks, for at most `secs`.
pub(super) async fn until<T>(
    rx: &mut mpsc::Receiver<SourceEvent>,
    what: &str,
    secs: u64,
    mut f: impl FnMut(&SourceEvent) -> Option<T>,
) -> T {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    loop {
        let ev = tokio::time::timeout_at(deadline, rx.recv())
            .await
            .unwrap_or_else(|_| panic!("no {what} within {secs} s"))
            .expect("the console's watchers stopped");
        if let Some(v) = f(&ev) {
            return v;
        }
    }
}

/// The texts of the CRI log file kwok serves (`<time> stdout F <text>`).
fn served_texts(path: &std::path::Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split_once(" stdout F ").map(|(_, t)| t.to_string()))
        .collect()
}

/// The twin as the operator of the real server for `incident`, on the API it seeded
/// through (its watches on the cluster and the operator Deployment, the executor log to the
/// namespace's kubelet log file).
fn operator_twin(rig: &Rig, ns: &str, incident: &incident::Incident) -> TwinHandle {
    let _ = std::fs::remove_file(rig.log_file(ns));
    let scenario = incident.scenario.clone().with_speed(4.0).unwrap();
    spawn_on(incident.api.clone(), scenario)
}

pub async fn twin_retries_through_the_real_server(rig: Arc<Rig>, ns: String) {
    let admin = rig.client("admin").await.unwrap();
    let incident = incident::incident(&rig, "transient", &ns).await;
    let cluster = incident.scenario.cluster.clone();
    let nonce = incident.seeded.nonce.clone();
    let topo = Topology::of(&incident.scenario);
    let retry_job = topo.rollback_job(ACTION_REPAIR, 1);
    let log_file = rig.log_file(&ns);
    let twin = operator_twin(&rig, &ns, &incident);

    // The console, as the responder: cluster, pods and Jobs.
    let responder = rig.client("responder").await.unwrap();
    let (tx, mut rx) = mpsc::channel(256);
    let watchers = watch::spawn_all(&responder, &ns, &cluster, tx);
    until(&mut rx, "break glass on the console", 30, |e| match e {
        SourceEvent::Cluster(Some(c)) => c.break_glass.as_ref().filter(|b| b.active).map(|_| ()),
        _ => None,
    })
    .await;
    // Nothing moves without an acknowledgement.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let jobs: Api<Job> = Api::namespaced(admin.clone(), &ns);
    assert!(
        jobs.get_opt(&retry_job).await.unwrap().is_none(),
        "the twin retried without an acknowledgement"
    );

    let dir = tempfile::tempdir().unwrap();
    let o = run(
        s(&["ack", "-n", &ns, &cluster, "--nonce", &nonce, "--yes"]),
        rig.kubeconfig_in("responder", &ns).unwrap(),
        dir.path().into(),
    )
    .await;
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));

    // The twin acknowledged in status (the status subresource), seen by the console.
    until(&mut rx, "the acknowledgement in status", 60, |e| match e {
        SourceEvent::Cluster(Some(c)) => c
            .break_glass
            .as_ref()
            .filter(|b| !b.active && b.acknowledged_at.is_some())
            .map(|_| ()),
        _ => None,
    })
    .await;
    // The retry Job, created by the twin through the API, on the console's Jobs watch.
    let view = until(&mut rx, "the retry Job on the console", 60, |e| match e {
        SourceEvent::Jobs(j) => j.iter().find(|j| j.name == retry_job).cloned(),
        _ => None,
    })
    .await;
    assert_eq!(
        view.run_id.as_deref(),
        Some(topo.rollback_run_id(1).as_str())
    );
    let written = served_texts(&log_file);
    assert!(
        written
            .iter()
            .any(|l| l.contains("Upgrade executor starting")),
        "the twin wrote no executor log: {written:?}"
    );

    // Its pod made by the real Job controller (owner: the Job, by its server uid).
    let job = jobs.get(&retry_job).await.unwrap();
    let job_uid = job.metadata.uid.clone().unwrap();
    let pods: Api<Pod> = Api::namespaced(admin.clone(), &ns);
    let sel = format!("batch.kubernetes.io/job-name={retry_job}");
    let pod = wait_for("the Job controller to make the retry pod", 60, || {
        let (pods, sel) = (pods.clone(), sel.clone());
        async move {
            let list = pods.list(&ListParams::default().labels(&sel)).await.ok()?;
            list.items.into_iter().next()
        }
    })
    .await;
    let owner = &pod.metadata.owner_references.clone().unwrap_or_default()[0];
    assert_eq!(
        (owner.kind.as_str(), owner.uid.as_str()),
        ("Job", job_uid.as_str())
    );

    // The console's log follower: the new attempt announced, its lines the twin's, ended.
    let (_jobs_tx, jobs_rx) = tokio::sync::watch::channel(vec![view]);
    let (ltx, mut lrx) = mpsc::channel(1024);
    let follower = logfollow::spawn(responder.clone(), ns.clone(), jobs_rx, ltx);
    let mut announced = None;
    let mut lines = Vec::new();
    loop {
        match until(&mut lrx, "the retry's log to end", 60, |e| Some(e.clone())).await {
            SourceEvent::LogAttempt { job, run_id } => announced = Some((job, run_id)),
            SourceEvent::LogLines { lines: l, .. } => lines.extend(l),
            SourceEvent::LogEnded { .. } => break,
            _ => {}
        }
    }
    follower.abort();
    assert_eq!(
        announced,
        Some((retry_job.clone(), Some(topo.rollback_run_id(1))))
    );
    assert!(
        lines.len() >= written.len() && lines[..written.len()] == written[..],
        "followed {lines:?}, the twin wrote {written:?}"
    );

    // The real Job controller finished it (kwok's default Stages end a Job's pod with 0).
    wait_for("the retry Job to succeed", 60, || {
        let jobs = jobs.clone();
        let name = retry_job.clone();
        async move {
            let j = jobs.get(&name).await.ok()?;
            (j.status?.succeeded? > 0).then_some(())
        }
    })
    .await;
    for w in watchers {
        w.abort();
    }
    twin.stop().await;
}

/// The pty Retry walk against the real server: the console (the built binary, in tmux, as
/// the responder) shows break glass, the responder takes Retry and acknowledges, and the
/// attempt the twin starts as the operator (`rollback-retry-1`) appears on screen.
pub async fn pty_retry_walk_with_the_twin_as_operator(rig: Arc<Rig>, ns: String) {
    let incident = incident::incident(&rig, "transient", &ns).await;
    let cluster = incident.scenario.cluster.clone();
    let retry_job = Topology::of(&incident.scenario).rollback_job(ACTION_REPAIR, 1);
    let twin = operator_twin(&rig, &ns, &incident);
    let kubeconfig = rig.kubeconfig_in("responder", &ns).unwrap();
    let walk = tokio::task::spawn_blocking(move || {
        let kc = kubeconfig.display().to_string();
        let t = Tmux::start(160, 48, &["--kubeconfig", &kc, "-n", &ns, &cluster]);
        t.wait_for("BREAK GLASS");
        // (The seeded attempt's log is not served: its pod is on a node no kubelet runs.)
        acknowledge(&t);
        t.wait_for("rollback-retry-1");
        // The Job itself, made by the twin as the operator (the Retry dialog names the run
        // ID before any Job exists; this line shows an existing Job only).
        t.wait_for(&format!("operator's new Job {retry_job}"));
        t.wait_for("[READ-ONLY]");
        t.keys(&["q"]);
        assert_eq!(t.wait_dead(), "0");
        t.assert_restored();
    });
    let result = walk.await;
    twin.stop().await;
    if let Err(e) = result {
        std::panic::resume_unwind(e.into_panic());
    }
}

/// A retry that fails again, on the real server: the twin (as the operator) creates
/// `rollback-retry-1` with the scenario's exit code on its pod template, the real Job
/// controller makes the pod, kwok's `pod-exit-code` Stage ends its container with that code,
/// the Job controller marks the Job Failed (`backoffLimit: 0`, as the operator sets it), and
/// the twin enters break glass again. The console reports it as the sim-backed test
/// (`tests/sim/twin_flow.rs`, `persistent_every_retry_fails_with_a_new_nonce`) expects.
pub async fn twin_retry_fails_with_the_scenario_exit_code(rig: Arc<Rig>, ns: String) {
    let admin = rig.client("admin").await.unwrap();
    let incident = incident::incident(&rig, "persistent", &ns).await;
    let cluster = incident.scenario.cluster.clone();
    let first = incident.seeded.nonce.clone();
    let topo = Topology::of(&incident.scenario);
    let retry_job = topo.rollback_job(ACTION_REPAIR, 1);
    let twin = operator_twin(&rig, &ns, &incident);
    let responder = rig.client("responder").await.unwrap();
    let (tx, mut rx) = mpsc::channel(256);
    let watchers = watch::spawn_all(&responder, &ns, &cluster, tx);
    until(&mut rx, "break glass on the console", 30, |e| match e {
        SourceEvent::Cluster(Some(c)) => c.active_nonce().map(|_| ()),
        _ => None,
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let o = run(
        s(&["ack", "-n", &ns, &cluster, "--nonce", &first, "--yes"]),
        rig.kubeconfig_in("responder", &ns).unwrap(),
        dir.path().into(),
    )
    .await;
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));

    // On the console's watchers: the retry Job Failed, and a new break glass naming it.
    let (mut failed, mut again) = (None, None);
    while failed.is_none() || again.is_none() {
        until(&mut rx, "the failed retry and a new break glass", 90, |e| {
            match e {
                SourceEvent::Jobs(j) => {
                    if let Some(v) = j.iter().find(|j| j.name == retry_job) {
                        failed = (v.state == JobState::Failed).then(|| v.clone());
                    }
                }
                SourceEvent::Cluster(Some(c)) if c.active_nonce().is_some_and(|n| n != first) => {
                    again = Some(c.clone());
                }
                _ => {}
            }
            Some(())
        })
        .await;
    }
    let (failed, c) = (failed.unwrap(), again.unwrap());
    assert_eq!(failed.run_id.as_deref(), Some("rollback-retry-1"));
    // What the sim-backed test asserts on the simulator.
    assert_eq!(
        c.failed_job_from_message().as_deref(),
        Some(retry_job.as_str())
    );
    assert_eq!(c.condition("Degraded").unwrap().status, "True");
    let bg = c.blue_green.as_ref().unwrap();
    assert_eq!(
        (bg.phase.as_deref(), bg.rollback_attempt),
        (Some("RollingBack"), 1)
    );
    let b = c.break_glass.as_ref().unwrap();
    assert_eq!(b.acknowledged_at, None);
    assert!(
        b.steps[0].ends_with(&format!("logs job/{retry_job}")),
        "{:?}",
        b.steps
    );

    // The real objects: the Job controller's verdict on the pod kwok ended with exit code 2.
    let jobs: Api<Job> = Api::namespaced(admin.clone(), &ns);
    let job = jobs.get(&retry_job).await.unwrap();
    let status = job.status.unwrap();
    assert_eq!(status.failed, Some(1));
    let cond = status
        .conditions
        .unwrap_or_default()
        .into_iter()
        .find(|c| c.type_ == "Failed" && c.status == "True")
        .expect("a Failed condition");
    assert_eq!(cond.reason.as_deref(), Some("BackoffLimitExceeded"));
    let pods: Api<Pod> = Api::namespaced(admin.clone(), &ns);
    let sel = format!("batch.kubernetes.io/job-name={retry_job}");
    let pod = pods
        .list(&ListParams::default().labels(&sel))
        .await
        .unwrap()
        .items
        .into_iter()
        .next()
        .expect("the retry's pod");
    let pst = pod.status.unwrap();
    assert_eq!(pst.phase.as_deref(), Some("Failed"));
    let term = pst.container_statuses.unwrap()[0]
        .state
        .clone()
        .unwrap()
        .terminated
        .unwrap();
    assert_eq!((term.exit_code, term.reason.as_deref()), (2, Some("Error")));

    // The executor's last line, served by the kubelet, is the fatal error.
    let served = served_texts(&rig.log_file(&ns));
    assert!(
        served.last().is_some_and(|l| l.starts_with(
            "upgrade-executor error: failed to read Raft configuration for consensus repair: raft configuration request failed with status 403"
        )),
        "{served:?}"
    );
    // `status --output json` (the built binary): break glass again, the retry failed.
    let o = run(
        s(&["status", "-n", &ns, &cluster, "--output", "json"]),
        rig.kubeconfig_in("responder", &ns).unwrap(),
        dir.path().into(),
    )
    .await;
    assert_eq!(
        o.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["breakGlassActive"], true);
    let row = v["repairJobs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|j| j["name"] == json!(retry_job))
        .cloned()
        .unwrap_or_else(|| panic!("{:#}", v["repairJobs"]));
    assert_eq!(
        (&row["runId"], &row["state"]),
        (&json!("rollback-retry-1"), &json!(JobState::Failed.label()))
    );
    for w in watchers {
        w.abort();
    }
    twin.stop().await;
}

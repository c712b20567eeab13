//! The console's log follower on a running container whose log grows, through the real
//! server and kwok: lines arrive as they are written (follow), and when the kubelet (kwok)
//! restarts — every log stream it serves is cut — the follower resumes by `sinceTime` and
//! neither loses nor repeats a line.

use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use breakglass::domain::JobView;
use breakglass::domain::incident::EXECUTOR_CONTAINER;
use breakglass::sources::{SourceEvent, logfollow};
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, PostParams};
use serde_json::json;
use tokio::sync::mpsc;

use super::kube::wait_for;
use super::rig::Rig;

const JOB: &str = "upgrade-follow-probe";

/// Append `texts` to the CRI log file kwok serves, stamped now, 20 ms apart.
fn append(path: &std::path::Path, texts: &[String]) {
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap();
    for t in texts {
        let now = jiff::Timestamp::now().strftime("%Y-%m-%dT%H:%M:%S.%fZ");
        writeln!(f, "{now} stdout F {t}").unwrap();
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn batch(from: usize, to: usize) -> Vec<String> {
    (from..to).map(|i| format!("follow line {i}")).collect()
}

async fn until_lines(rx: &mut mpsc::Receiver<SourceEvent>, got: &mut Vec<String>, n: usize) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while got.len() < n {
        match tokio::time::timeout_at(deadline, rx.recv()).await {
            Ok(Some(SourceEvent::LogLines { lines, .. })) => got.extend(lines),
            Ok(Some(_)) => {}
            Ok(None) => panic!("the follower stopped"),
            Err(_) => panic!("only {} of {n} lines in 60 s: {got:?}", got.len()),
        }
    }
}

pub async fn follow_resumes_after_a_kubelet_restart(rig: Arc<Rig>, ns: String) {
    let admin = rig.client("admin").await.unwrap();
    let file = rig.log_file(&ns);
    append(&file, &batch(0, 20));
    // A running executor pod (not owned by a Job, so kwok keeps it Running) with the Job's
    // label: what the follower looks for.
    let pod: Pod = serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": format!("{JOB}-x1"), "namespace": ns,
                     "labels": {"batch.kubernetes.io/job-name": JOB}},
        "spec": {"containers": [{"name": EXECUTOR_CONTAINER, "image": "x"}]}
    }))
    .unwrap();
    let pods: Api<Pod> = Api::namespaced(admin.clone(), &ns);
    pods.create(&PostParams::default(), &pod).await.unwrap();
    wait_for("kwok to run the pod", 60, || {
        let pods = pods.clone();
        async move {
            let p = pods.get(&format!("{JOB}-x1")).await.ok()?;
            let running = p
                .status?
                .container_statuses?
                .first()?
                .state
                .as_ref()?
                .running
                .is_some();
            running.then_some(())
        }
    })
    .await;

    let job: Job =
        serde_json::from_value(json!({"metadata": {"name": JOB, "namespace": ns}})).unwrap();
    let (_jobs_tx, jobs_rx) = tokio::sync::watch::channel(vec![JobView::from_job(&job)]);
    let (tx, mut rx) = mpsc::channel(1024);
    let follower = logfollow::spawn_one(
        admin.clone(),
        ns.clone(),
        (JOB.to_string(), EXECUTOR_CONTAINER),
        jobs_rx,
        tx,
        logfollow::FollowOptions::default(),
    );
    let mut got = Vec::new();
    until_lines(&mut rx, &mut got, 20).await;
    // Follow: lines written now arrive on the open stream.
    append(&file, &batch(20, 30));
    until_lines(&mut rx, &mut got, 30).await;
    // The kubelet restarts: the stream is cut; lines written meanwhile are not lost.
    rig.restart("kwok").await.unwrap();
    append(&file, &batch(30, 40));
    until_lines(&mut rx, &mut got, 40).await;
    append(&file, &batch(40, 45));
    until_lines(&mut rx, &mut got, 45).await;
    // Nothing more arrives late (no repeats after a grace period).
    tokio::time::sleep(Duration::from_secs(2)).await;
    while let Ok(ev) = rx.try_recv() {
        if let SourceEvent::LogLines { lines, .. } = ev {
            got.extend(lines);
        }
    }
    follower.abort();
    assert_eq!(got, batch(0, 45), "lost or repeated lines across the cut");
}

/// Give the pod of Job `job` its own log file through a kwok `Logs` object; returns the pod.
async fn log_for_job_pod(
    rig: &Rig,
    admin: &kube::Client,
    ns: &str,
    job: &str,
    lines: &[String],
) -> String {
    let pods: Api<Pod> = Api::namespaced(admin.clone(), ns);
    let sel = format!("batch.kubernetes.io/job-name={job}");
    let pod = wait_for("the Job controller to make the pod", 60, || {
        let pods = pods.clone();
        let sel = sel.clone();
        async move {
            let list = pods
                .list(&kube::api::ListParams::default().labels(&sel))
                .await
                .ok()?;
            list.items.first()?.metadata.name.clone()
        }
    })
    .await;
    let file = rig.dir.join("logs").join(format!("{pod}.log"));
    append(&file, lines);
    let logs = json!({
        "apiVersion": "kwok.x-k8s.io/v1alpha1", "kind": "Logs",
        "metadata": {"name": pod, "namespace": ns},
        "spec": {"logs": [{"containers": [EXECUTOR_CONTAINER], "logsFile": file.display().to_string()}]}
    });
    super::kube::apply(admin, &logs, Some(ns)).await.unwrap();
    pod
}

/// Two repair attempts made by the real Job controller (`rollback`, then
/// `rollback-retry-1`, built by the twin's `executor_job`), each pod with its own log: the
/// console's follower streams them in order, each announced and ended, each complete.
pub async fn follow_across_attempts(rig: Arc<Rig>, ns: String) {
    use breakglass::sim::scenario::{ACTION_REPAIR, Topology};
    let admin = rig.client("admin").await.unwrap();
    let incident = super::incident::incident(&rig, "transient", &ns).await;
    let topo = Topology::of(&incident.scenario);
    let cluster_uid = incident.seeded.cluster_uid.clone();
    let jobs: Api<Job> = Api::namespaced(admin.clone(), &ns);
    // The seeded incident's own repair Jobs are history: out of the follower's way.
    let mut views = Vec::new();
    let mut expected = Vec::new();
    for (i, run_id) in ["rollback", "rollback-retry-1"].into_iter().enumerate() {
        let mut job =
            breakglass::sim::twin_objects::executor_job(&topo, ACTION_REPAIR, run_id, &cluster_uid);
        job["metadata"]["name"] = json!(format!("probe-{run_id}"));
        let created = jobs
            .create(
                &PostParams::default(),
                &serde_json::from_value(job).unwrap(),
            )
            .await
            .unwrap();
        let name = created.metadata.name.clone().unwrap();
        let lines: Vec<String> = (0..15).map(|n| format!("attempt {i} line {n}")).collect();
        log_for_job_pod(&rig, &admin, &ns, &name, &lines).await;
        views.push(JobView::from_job(&created));
        expected.push((name, lines));
        tokio::time::sleep(Duration::from_millis(1100)).await;
    }
    let (_jobs_tx, jobs_rx) = tokio::sync::watch::channel(views);
    let (tx, mut rx) = mpsc::channel(1024);
    let follower = logfollow::spawn(admin.clone(), ns.clone(), jobs_rx, tx);
    let mut seen: Vec<(String, Vec<String>)> = Vec::new();
    let mut ended = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while ended.len() < 2 {
        match tokio::time::timeout_at(deadline, rx.recv()).await {
            Ok(Some(SourceEvent::LogAttempt { job, .. })) => seen.push((job, Vec::new())),
            Ok(Some(SourceEvent::LogLines { job, lines })) => {
                let last = seen.last_mut().expect("lines before an attempt marker");
                assert_eq!(last.0, job);
                last.1.extend(lines);
            }
            Ok(Some(SourceEvent::LogEnded { job })) => ended.push(job),
            Ok(Some(_)) => {}
            Ok(None) => panic!("the follower stopped"),
            Err(_) => panic!("attempts not ended in 60 s: {seen:?} ended {ended:?}"),
        }
    }
    follower.abort();
    assert_eq!(seen, expected);
    assert_eq!(
        ended,
        expected.iter().map(|e| e.0.clone()).collect::<Vec<_>>()
    );
}

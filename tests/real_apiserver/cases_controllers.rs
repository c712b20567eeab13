//! The real controllers at work on a repair Job built by the twin's own builder: the Job
//! controller makes its pod (real name, labels, owner), the scheduler binds it to the kwok
//! node, kwok runs it and serves its log from a file, the console's log follower streams that
//! log, the TTL controller deletes the finished Job and the garbage collector its pod — and
//! the follower's evidence file keeps the log past the Job's TTL.

use std::sync::Arc;

use breakglass::domain::JobView;
use breakglass::sim::scenario::{ACTION_REPAIR, Topology};
use breakglass::sim::twin_objects::executor_job;
use breakglass::sources::{SourceEvent, logfollow};
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, ListParams, PostParams};
use serde_json::json;
use tokio::sync::mpsc;

use super::incident;
use super::kube::wait_for;
use super::rig::{NODE_NAME, Rig};

/// `n` lines in the CRI log format kwok reads, 100 ms apart ending now, and their times.
fn cri_lines(prefix: &str, n: usize) -> (String, Vec<String>, Vec<jiff::Timestamp>) {
    let start = jiff::Timestamp::now()
        .checked_sub(jiff::SignedDuration::from_millis(100 * n as i64))
        .unwrap();
    let mut file = String::new();
    let mut texts = Vec::new();
    let mut times = Vec::new();
    for i in 0..n {
        let t = start
            .checked_add(jiff::SignedDuration::from_millis(100 * i as i64))
            .unwrap();
        times.push(t);
        let text = format!("{prefix} line {i}");
        file.push_str(&format!(
            "{} stdout F {text}\n",
            t.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        ));
        texts.push(text);
    }
    (file, texts, times)
}

/// What the follower's resumption relies on (`logfollow`: sinceTime has one-second
/// precision, a resumed stream starts at or before the last line seen): the real server and
/// kwok return exactly the lines from the start of that second on, with their timestamps.
async fn resume_by_since_time(
    admin: &kube::Client,
    ns: &str,
    job: &str,
    texts: &[String],
    times: &[jiff::Timestamp],
) {
    let pods: Api<Pod> = Api::namespaced(admin.clone(), ns);
    let sel = format!("batch.kubernetes.io/job-name={job}");
    let pod = pods
        .list(&ListParams::default().labels(&sel))
        .await
        .unwrap()
        .items[0]
        .metadata
        .name
        .clone()
        .unwrap();
    let since = jiff::Timestamp::from_second(times[20].as_second()).unwrap();
    let params = kube::api::LogParams {
        container: Some(breakglass::domain::incident::EXECUTOR_CONTAINER.into()),
        timestamps: true,
        since_time: Some(since),
        ..Default::default()
    };
    let got: Vec<String> = pods
        .logs(&pod, &params)
        .await
        .unwrap()
        .lines()
        .filter_map(|l| l.split_once(' ').map(|(_, t)| t.to_string()))
        .collect();
    let want: Vec<String> = texts
        .iter()
        .zip(times)
        .filter(|(_, t)| **t >= since)
        .map(|(x, _)| x.clone())
        .collect();
    assert_eq!(got, want, "sinceTime {since}");
    assert!(
        got.contains(&texts[20]),
        "the line at the resume point itself is repeated"
    );
}

pub async fn job_lineage_log_follow_ttl_and_gc(rig: Arc<Rig>, ns: String) {
    let admin = rig.client("admin").await.unwrap();
    let incident = incident::incident(&rig, "transient", &ns).await;
    let topo = Topology::of(&incident.scenario);
    let cluster_uid = incident.seeded.cluster_uid.clone();
    let (log, texts, times) = cri_lines("retry", 40);
    std::fs::write(rig.log_file(&ns), log).unwrap();

    let mut job = executor_job(&topo, ACTION_REPAIR, "rollback-retry-1", &cluster_uid);
    job["spec"]["ttlSecondsAfterFinished"] = json!(12);
    let sa = job["spec"]["template"]["spec"]["serviceAccountName"].clone();
    super::kube::apply(
        &admin,
        &json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": sa, "namespace": ns}}),
        None,
    )
    .await
    .unwrap();
    let jobs: Api<Job> = Api::namespaced(admin.clone(), &ns);
    let created = jobs
        .create(
            &PostParams::default(),
            &serde_json::from_value(job).unwrap(),
        )
        .await
        .unwrap();
    let name = created.metadata.name.clone().unwrap();
    let job_uid = created.metadata.uid.clone().unwrap();

    // The console's follower, fed the Job list as the Jobs watcher would.
    let evidence = tempfile::tempdir().unwrap();
    let (jobs_tx, jobs_rx) = tokio::sync::watch::channel(vec![JobView::from_job(&created)]);
    let (tx, mut rx) = mpsc::channel(1024);
    let follower = logfollow::spawn_one(
        admin.clone(),
        ns.clone(),
        (
            name.clone(),
            breakglass::domain::incident::EXECUTOR_CONTAINER,
        ),
        jobs_rx,
        tx,
        logfollow::FollowOptions {
            evidence_dir: Some(evidence.path().to_path_buf()),
        },
    );
    let mut got = Vec::new();
    let mut problems = Vec::new();
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let ev = tokio::time::timeout_at(deadline, rx.recv())
            .await
            .unwrap_or_else(|_| {
                panic!("no LogEnded in 60 s; lines {got:?}; problems {problems:?}")
            });
        match ev {
            Some(SourceEvent::LogLines { lines, .. }) => got.extend(lines),
            Some(SourceEvent::LogEnded { .. }) | None => break,
            Some(SourceEvent::Problem { message, .. }) => problems.push(message),
            Some(_) => {}
        }
    }
    follower.abort();
    resume_by_since_time(&admin, &ns, &name, &texts, &times).await;
    assert!(
        texts
            .iter()
            .all(|t| got.iter().any(|l| l.ends_with(t.as_str()))),
        "the follower missed lines kwok served: got {got:?}, problems {problems:?}"
    );

    // The pod the Job controller made: its name, labels and owner; bound by the scheduler.
    let pods: Api<Pod> = Api::namespaced(admin.clone(), &ns);
    let sel = format!("batch.kubernetes.io/job-name={name}");
    let pod = pods
        .list(&ListParams::default().labels(&sel))
        .await
        .unwrap()
        .items
        .into_iter()
        .next()
        .expect("the Job's pod (Job controller)");
    let pod_name = pod.metadata.name.clone().unwrap();
    // generateName `<job>-`, cut to 58 characters before the 5 random ones (the twin's
    // `job_pod` does not cut: README "Real kube-apiserver tests").
    let prefix: String = format!("{name}-").chars().take(58).collect();
    assert!(
        pod_name.starts_with(&prefix) && pod_name.len() == prefix.len() + 5,
        "{pod_name}"
    );
    let owner = &pod.metadata.owner_references.clone().unwrap()[0];
    assert_eq!(
        (owner.kind.as_str(), owner.uid.as_str(), owner.controller),
        ("Job", job_uid.as_str(), Some(true))
    );
    assert_eq!(
        pod.spec.as_ref().unwrap().node_name.as_deref(),
        Some(NODE_NAME)
    );
    let ip = pod
        .status
        .as_ref()
        .and_then(|s| s.pod_ip.clone())
        .unwrap_or_default();
    assert!(ip.starts_with("198.51.100."), "pod IP {ip}");

    // The Job finishes (kwok ends the container), the console reads it as Succeeded.
    let done = wait_for("the Job to complete", 60, || {
        let jobs = jobs.clone();
        let name = name.clone();
        async move {
            let j = jobs.get_opt(&name).await.ok().flatten()?;
            let v = JobView::from_job(&j);
            (v.state == breakglass::domain::incident::JobState::Succeeded).then_some(v)
        }
    })
    .await;
    assert_eq!(done.run_id.as_deref(), Some("rollback-retry-1"));

    // TTL controller deletes the Job; the garbage collector its pod.
    wait_for("the TTL controller to delete the Job", 90, || {
        let jobs = jobs.clone();
        let name = name.clone();
        async move { matches!(jobs.get_opt(&name).await, Ok(None)).then_some(()) }
    })
    .await;
    jobs_tx.send_replace(Vec::new());
    wait_for("the garbage collector to delete the pod", 90, || {
        let pods = pods.clone();
        let pod_name = pod_name.clone();
        async move { matches!(pods.get_opt(&pod_name).await, Ok(None)).then_some(()) }
    })
    .await;
    // The log outlives the Job: the follower's evidence file.
    let kept = std::fs::read_to_string(evidence.path().join(format!("{name}.log"))).unwrap();
    for t in &texts {
        assert!(kept.contains(t.as_str()), "evidence lost {t}: {kept}");
    }
}

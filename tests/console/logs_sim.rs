//! The log follower against the simulator: a follow stream dropped again and again
//! mid-attempt loses no line and repeats none (resume by timestamp, de-duplicated overlap),
//! and lines the server itself lost (a rotated log) show up as a gap.

use std::time::Duration;

use std::collections::HashMap;

use breakglass::sim::run::{SimHandle, start};
use breakglass::sim::server::Controls;
use breakglass::sim::store::Resource;
use breakglass::sources::connect::{Connection, Target, connect};
use breakglass::sources::{ActionOutcome, SourceEvent, actions, logfollow, snapshot, watch};
use tokio::sync::mpsc;

const WAIT: Duration = Duration::from_secs(60);
/// Slow enough that the retry's executor runs for ~12 s while the test drops its stream.
const SPEED: f64 = 0.5;
const CONTAINER: &str = "upgrade-executor";

/// The follower running against a simulator whose retry attempt is streaming.
struct Follow {
    sim: SimHandle,
    controls: Controls,
    ns: String,
    rx: mpsc::Receiver<SourceEvent>,
    jobs_tx: tokio::sync::watch::Sender<Vec<breakglass::domain::JobView>>,
    lines_of: HashMap<String, Vec<String>>,
    ended: Vec<String>,
    gaps: Vec<(jiff::Timestamp, jiff::Timestamp)>,
    /// The retry's Job and pod.
    job: String,
    pod: String,
    evidence: std::path::PathBuf,
    _dir: tempfile::TempDir,
    _tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Follow {
    /// Every event goes through here so none is missed.
    async fn next(&mut self) -> SourceEvent {
        let ev = tokio::time::timeout(WAIT, self.rx.recv())
            .await
            .expect("timed out")
            .expect("sources stopped");
        match &ev {
            SourceEvent::Jobs(j) => {
                self.jobs_tx.send_replace(j.clone());
            }
            SourceEvent::LogLines { job, lines } => self
                .lines_of
                .entry(job.clone())
                .or_default()
                .extend(lines.clone()),
            SourceEvent::LogEnded { job } => self.ended.push(job.clone()),
            SourceEvent::LogGap {
                last_seen,
                first_after,
                ..
            } => self.gaps.push((*last_seen, *first_after)),
            _ => {}
        }
        ev
    }

    fn got(&self) -> &[String] {
        self.lines_of.get(&self.job).map_or(&[], Vec::as_slice)
    }

    async fn until_delivered(&mut self, line: &str) {
        while !self.got().iter().any(|l| l == line) {
            self.next().await;
        }
    }

    async fn until_ended(&mut self) {
        while !self.ended.contains(&self.job) {
            self.next().await;
        }
    }

    fn stored(&self) -> Vec<String> {
        self.sim
            .store
            .read_log(&self.ns, &self.pod, CONTAINER, 0, false)
            .lines
            .into_iter()
            .map(|l| l.text)
            .collect()
    }

    fn append(&self, prefix: &str, n: usize) {
        for i in 0..n {
            self.controls.append_log(
                &self.ns,
                &self.pod,
                CONTAINER,
                &format!("{prefix} line {i}"),
            );
        }
    }
}

/// Start the simulator and the follower, let the first attempt end, acknowledge, and wait
/// until the retry's pod is streaming.
async fn follow_the_retry() -> Follow {
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    let sim = start("transient", SPEED, &kubeconfig).await.unwrap();
    let conn: Connection = connect(&Target {
        kubeconfig: Some(kubeconfig.clone()),
        ..Default::default()
    })
    .await
    .unwrap();
    let (ns, name) = (sim.namespace.clone(), sim.cluster.clone());
    let (tx, rx) = mpsc::channel(4096);
    let mut tasks = watch::spawn_all(&conn.client, &ns, &name, tx.clone());
    let (jobs_tx, jobs_rx) = tokio::sync::watch::channel(Vec::new());
    let evidence = dir.path().join("evidence");
    std::fs::create_dir(&evidence).unwrap();
    tasks.push(logfollow::spawn_with(
        conn.client.clone(),
        ns.clone(),
        jobs_rx,
        tx,
        logfollow::FollowOptions {
            evidence_dir: Some(evidence.clone()),
        },
    ));
    let mut f = Follow {
        controls: sim.controls(),
        sim,
        ns: ns.clone(),
        rx,
        jobs_tx,
        lines_of: HashMap::new(),
        ended: Vec::new(),
        gaps: Vec::new(),
        job: String::new(),
        pod: String::new(),
        evidence,
        _dir: dir,
        _tasks: tasks,
    };
    while f.ended.is_empty() {
        f.next().await;
    }
    let incident = snapshot::read(&conn.client, &ns, &name).await.unwrap();
    let nonce = incident
        .cluster
        .unwrap()
        .active_nonce()
        .unwrap()
        .to_string();
    let ok = actions::acknowledge(&conn.client, &ns, &name, &nonce).await;
    assert!(matches!(ok, ActionOutcome::Acknowledged { .. }), "{ok:?}");
    f.job = loop {
        if let SourceEvent::LogAttempt { job, run_id } = f.next().await
            && run_id.as_deref() == Some("rollback-retry-1")
        {
            break job;
        }
    };
    // Its pod is running once its first line arrives.
    while f.got().is_empty() {
        f.next().await;
    }
    let (pods, _) = f.sim.store.list(Resource::Pods, Some(&ns));
    f.pod = pods
        .iter()
        .find(|p| {
            p.pointer("/metadata/labels/job-name")
                .and_then(|v| v.as_str())
                == Some(f.job.as_str())
        })
        .and_then(|p| p.pointer("/metadata/name")?.as_str().map(str::to_string))
        .expect("the retry's pod");
    f
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropped_follow_streams_lose_and_repeat_nothing() {
    let mut f = follow_the_retry().await;
    // Bursts of lines, each followed by a dropped stream once the burst was delivered.
    for burst in 0..6 {
        f.append(&format!("burst {burst}"), 50);
        f.until_delivered(&format!("burst {burst} line 49")).await;
        f.controls.close_log_streams();
    }
    f.until_ended().await;

    let stored = f.stored();
    assert_eq!(f.got().len(), stored.len(), "no line lost or repeated");
    assert_eq!(f.got(), stored.as_slice());
    assert!(
        f.gaps.is_empty(),
        "the simulator lost nothing, so no gap is claimed"
    );
    let streams = f
        .controls
        .requests()
        .iter()
        .filter(|r| r.path.ends_with(&format!("/pods/{}/log", f.pod)))
        .count();
    assert!(
        streams >= 6,
        "the stream was resumed after each drop ({streams})"
    );

    // The evidence file holds the same lines, with the API server's timestamps.
    let saved = std::fs::read_to_string(f.evidence.join(format!("{}.log", f.job))).unwrap();
    let saved: Vec<&str> = saved
        .lines()
        .map(|l| l.split_once(' ').map_or(l, |(_, t)| t))
        .collect();
    assert_eq!(saved, stored);
    f.sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lines_the_server_lost_show_up_as_a_gap() {
    let mut f = follow_the_retry().await;
    f.append("before", 5);
    f.until_delivered("before line 4").await;
    // The follower cannot reconnect for a while; meanwhile lines arrive and the log rotates.
    let path = format!("/api/v1/namespaces/{}/pods/{}/log", f.ns, f.pod);
    f.controls.inject_error("GET", &path, 500, 3);
    f.controls.close_log_streams();
    // Make sure the lost lines are newer than the last line seen (timestamps can tie).
    tokio::time::sleep(Duration::from_millis(20)).await;
    f.append("lost", 40);
    f.append("kept", 10);
    f.controls.rotate_log(&f.ns, &f.pod, CONTAINER, 10);
    f.until_delivered("kept line 9").await;

    assert_eq!(f.gaps.len(), 1, "{:?}", f.gaps);
    let got = f.got();
    assert!(!got.iter().any(|l| l.starts_with("lost ")), "{got:?}");
    let before = got.iter().position(|l| l == "before line 4").unwrap();
    assert_eq!(
        got[before + 1],
        "kept line 0",
        "nothing is invented in between"
    );
    let (seen, after) = f.gaps[0];
    assert!(seen < after);
    f.sim.shutdown().await;
}

/// Jobs by meaning against the simulator: seeded next to the scenario's failed repair Job,
/// the current operation's cleanup Job is listed and followed (its log saved as evidence)
/// and a previous operation's cleanup Job, still inside its TTL, is not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_current_operations_cleanup_job_is_followed_and_a_previous_ones_is_not() {
    use breakglass::sim::scenario::Topology;
    use breakglass::sim::twin_objects::{JobPhase, PodRun, executor_job, job_status};
    use breakglass::sim::twin_seed::{create_job, create_job_pod};

    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    let sim = start("persistent", 1.0, &kubeconfig).await.unwrap();
    let conn: Connection = connect(&Target {
        kubeconfig: Some(kubeconfig.clone()),
        ..Default::default()
    })
    .await
    .unwrap();
    let (ns, name) = (sim.namespace.clone(), sim.cluster.clone());
    let topo = Topology::of(&sim.scenario);
    let uid = sim
        .store
        .get(Resource::OpenBaoClusters, &ns, &name)
        .and_then(|c| Some(c.pointer("/metadata/uid")?.as_str()?.to_string()))
        .unwrap();
    // Finished a minute ago: inside the Jobs' 1 h TTL, which the twin's TTL controller
    // enforces once a second (a fixed past date made the Jobs vanish under load).
    let t0 = jiff::Timestamp::now() - jiff::SignedDuration::from_secs(60);
    let cleanup = |run: &str, lines: &[&str]| {
        let (job, job_uid) = create_job(
            &sim.store,
            executor_job(&topo, "bluegreen-remove-green-peers", run, &uid),
        )
        .unwrap();
        let job_name = job["metadata"]["name"].as_str().unwrap().to_string();
        sim.store
            .modify(Resource::Jobs, &ns, &job_name, |j| {
                j["status"] = job_status(JobPhase::Failed, t0, t0)
            })
            .unwrap();
        let pod = create_job_pod(
            &sim.store,
            &job,
            &job_uid,
            CONTAINER,
            PodRun::Exited(1),
            t0,
            t0,
        )
        .unwrap();
        let pod_name = pod["metadata"]["name"].as_str().unwrap().to_string();
        for l in lines {
            sim.store.append_log(&ns, &pod_name, CONTAINER, l);
        }
        sim.store.terminate_log(&ns, &pod_name, CONTAINER);
        job_name
    };
    // The scenario's operation is unscoped (no operationID): its rollback run ID is `rollback`.
    let current = cleanup(
        "rollback",
        &[
            "2026-11-23T20:50:00.100Z\tINFO\tRemoving Raft peer\t{\"target\": \"Green\"}",
            "upgrade-executor error: failed to remove Raft peer \"x\": raft remove-peer request failed with status 500: boom",
        ],
    );
    let previous = cleanup("bg-v2-previous/rollback", &["previous operation's line"]);

    let incident = snapshot::read(&conn.client, &ns, &name).await.unwrap();
    let listed: Vec<(String, &str)> = incident
        .rollback_jobs()
        .iter()
        .map(|r| (r.job.name.clone(), r.step.label()))
        .collect();
    assert_eq!(listed.len(), 2, "{listed:?}");
    assert_eq!(listed[0].1, "repair");
    assert_eq!(listed[1], (current.clone(), "cleanup"));

    let (tx, mut rx) = mpsc::channel(4096);
    let (jobs_tx, jobs_rx) = tokio::sync::watch::channel(incident.followed_jobs());
    let evidence = dir.path().join("evidence");
    std::fs::create_dir(&evidence).unwrap();
    let task = logfollow::spawn_with(
        conn.client.clone(),
        ns.clone(),
        jobs_rx,
        tx,
        logfollow::FollowOptions {
            evidence_dir: Some(evidence.clone()),
        },
    );
    let mut attempts = Vec::new();
    let mut ended = Vec::new();
    while ended.len() < 2 {
        match tokio::time::timeout(WAIT, rx.recv())
            .await
            .unwrap()
            .unwrap()
        {
            SourceEvent::LogAttempt { job, .. } => attempts.push(job),
            SourceEvent::LogEnded { job } => ended.push(job),
            _ => {}
        }
    }
    assert_eq!(attempts, [listed[0].0.clone(), current.clone()]);
    assert!(!attempts.contains(&previous));
    let saved = std::fs::read_to_string(evidence.join(format!("{current}.log"))).unwrap();
    assert!(saved.contains("failed to remove Raft peer"), "{saved}");
    assert!(!evidence.join(format!("{previous}.log")).exists());
    task.abort();
    drop(jobs_tx);
    sim.shutdown().await;
}

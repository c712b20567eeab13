//! A long attempt's log whose follow stream is cut again and again at random points (the
//! simulator sends chunks that do not line up with lines, so most cuts fall mid-line):
//! every line arrives exactly once, in order, and no gap is claimed where the server lost
//! nothing.

use std::time::{Duration, Instant};

use breakglass::domain::JobView;
use breakglass::sim::store::Resource;
use breakglass::sources::connect::{Target, connect};
use breakglass::sources::{SourceEvent, logfollow};
use serde_json::json;
use tokio::sync::mpsc;

use super::faults_support::{Row, secs};

const LINES: usize = 100_000;
const CUTS: usize = 100;
const CONTAINER: &str = "upgrade-executor";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_100k_line_log_cut_100_times_loses_and_repeats_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    let sim = breakglass::sim::run::start("transient", 1.0, &kubeconfig)
        .await
        .unwrap();
    let controls = sim.controls();
    let ns = sim.namespace.clone();
    let conn = connect(&Target {
        kubeconfig: Some(kubeconfig),
        ..Default::default()
    })
    .await
    .unwrap();
    // A Job of its own (not the cluster's: the twin leaves it alone) with a running pod.
    let (job, pod) = ("fault-log", "fault-log-x7k2p");
    sim.store
        .create(
            Resource::Pods,
            json!({
                "apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": pod, "namespace": ns, "labels": {"job-name": job}},
                "spec": {"containers": [{"name": CONTAINER, "image": "x"}]},
                "status": {"phase": "Running", "containerStatuses": [{
                    "name": CONTAINER, "ready": true, "restartCount": 0, "image": "x",
                    "imageID": "", "state": {"running": {"startedAt": "2026-01-01T00:00:00Z"}}
                }]}
            }),
        )
        .unwrap();
    let view = JobView::from_job(
        &serde_json::from_value(json!({"metadata": {"name": job, "namespace": ns}})).unwrap(),
    );
    let (_jobs_tx, jobs_rx) = tokio::sync::watch::channel(vec![view]);
    let (tx, mut rx) = mpsc::channel(4096);
    let follower = logfollow::spawn_one(
        conn.client.clone(),
        ns.clone(),
        (job.to_string(), CONTAINER),
        jobs_rx,
        tx,
        logfollow::FollowOptions::default(),
    );
    // The writer: LINES lines of varied length over ~20 s. The cutter: CUTS cuts at
    // random moments over the same time.
    let writer = {
        let (controls, ns) = (controls.clone(), ns.clone());
        tokio::spawn(async move {
            for batch in 0..LINES / 500 {
                for i in 0..500 {
                    let n = batch * 500 + i;
                    let pad = "x".repeat((n * 7919) % 97);
                    controls.append_log(&ns, pod, CONTAINER, &format!("line {n} {pad}"));
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        })
    };
    let cutter = {
        let controls = controls.clone();
        tokio::spawn(async move {
            for _ in 0..CUTS {
                let ms = 100 + rand::random::<u64>() % 200;
                tokio::time::sleep(Duration::from_millis(ms)).await;
                controls.close_log_streams();
            }
        })
    };
    let start = Instant::now();
    let mut got: Vec<String> = Vec::with_capacity(LINES);
    let mut gaps = 0;
    let mut ended = false;
    let mut done_writing = false;
    while !ended {
        let ev = tokio::time::timeout(Duration::from_secs(60), rx.recv())
            .await
            .expect("the follower went quiet")
            .expect("the follower stopped");
        match ev {
            SourceEvent::LogLines { lines, .. } => got.extend(lines),
            SourceEvent::LogGap { .. } => gaps += 1,
            SourceEvent::LogEnded { .. } => ended = true,
            _ => {}
        }
        if !done_writing && writer.is_finished() && cutter.is_finished() {
            done_writing = true;
            // The container ends: its status first, then its log (as a kubelet does).
            sim.store
                .modify(Resource::Pods, &ns, pod, |p| {
                    p["status"]["containerStatuses"][0]["state"] =
                        json!({"terminated": {"exitCode": 0, "reason": "Completed"}});
                })
                .unwrap();
            controls.terminate_log(&ns, pod, CONTAINER);
        }
    }
    let took = start.elapsed();
    follower.abort();
    let stored: Vec<String> = sim
        .store
        .read_log(&ns, pod, CONTAINER, 0, false)
        .lines
        .into_iter()
        .map(|l| l.text)
        .collect();
    assert_eq!(stored.len(), LINES);
    let unique: std::collections::HashSet<&String> = got.iter().collect();
    let dup = got.len() - unique.len();
    let lost = stored.iter().filter(|l| !unique.contains(l)).count();
    assert_eq!((lost, dup, gaps), (0, 0, 0));
    assert!(got == stored, "every line once, in order");
    Row {
        fault: "100,000-line log, follow stream cut 100 times at random points (mid-line)",
        saw: "every line once, in order; no gap marker".into(),
        detect: "n/a".into(),
        recover: format!("whole log followed in {}", secs(took)),
        lines: format!("0 lost / 0 duplicated of {LINES}"),
        mutations: controls.mutations().len(),
    }
    .print();
    sim.shutdown().await;
}

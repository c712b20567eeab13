//! The log follower against the simulator: a follow stream dropped again and again
//! mid-attempt loses no line and repeats none (resume by timestamp, de-duplicated overlap).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code: a failed step should fail the test loudly"
)]

use std::time::Duration;

use breakglass::sim::run::start;
use breakglass::sim::store::Resource;
use breakglass::sources::connect::{Target, connect};
use breakglass::sources::{ActionOutcome, SourceEvent, actions, logfollow, snapshot, watch};
use tokio::sync::mpsc;

const WAIT: Duration = Duration::from_secs(60);
/// Slow enough that the retry's executor runs for ~12 s while the test drops its stream.
const SPEED: f64 = 0.5;
const CONTAINER: &str = "upgrade-executor";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropped_follow_streams_lose_and_repeat_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    let sim = start("transient", SPEED, &kubeconfig).await.unwrap();
    let conn = connect(&Target {
        kubeconfig: Some(kubeconfig.clone()),
        ..Default::default()
    })
    .await
    .unwrap();
    let (ns, name) = (sim.namespace.clone(), sim.cluster.clone());
    let controls = sim.controls();

    let (tx, mut rx) = mpsc::channel(4096);
    let _w = watch::spawn_all(&conn.client, &ns, &name, tx.clone());
    let (jobs_tx, jobs_rx) = tokio::sync::watch::channel(Vec::new());
    let evidence = dir.path().join("evidence");
    std::fs::create_dir(&evidence).unwrap();
    let _l = logfollow::spawn_with(
        conn.client.clone(),
        ns.clone(),
        jobs_rx,
        tx,
        logfollow::FollowOptions {
            evidence_dir: Some(evidence.clone()),
        },
    );

    let mut lines_of: std::collections::HashMap<String, Vec<String>> = Default::default();
    let mut ended: Vec<String> = Vec::new();
    let mut gaps = 0;
    // Everything goes through one pump so no event is missed.
    let next = async |rx: &mut mpsc::Receiver<SourceEvent>,
                      lines_of: &mut std::collections::HashMap<String, Vec<String>>,
                      ended: &mut Vec<String>,
                      gaps: &mut i32| {
        let ev = tokio::time::timeout(WAIT, rx.recv())
            .await
            .expect("timed out")
            .expect("sources stopped");
        match &ev {
            SourceEvent::Jobs(j) => {
                jobs_tx.send_replace(j.clone());
            }
            SourceEvent::LogLines { job, lines } => lines_of
                .entry(job.clone())
                .or_default()
                .extend(lines.clone()),
            SourceEvent::LogEnded { job } => ended.push(job.clone()),
            SourceEvent::LogGap { .. } => *gaps += 1,
            _ => {}
        }
        ev
    };

    // The first (failed) attempt, then acknowledge to start `rollback-retry-1`.
    while ended.is_empty() {
        next(&mut rx, &mut lines_of, &mut ended, &mut gaps).await;
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
    let job = loop {
        if let SourceEvent::LogAttempt { job, run_id } =
            next(&mut rx, &mut lines_of, &mut ended, &mut gaps).await
            && run_id.as_deref() == Some("rollback-retry-1")
        {
            break job;
        }
    };
    // Its pod is running once its first line arrives.
    while lines_of.get(&job).is_none_or(Vec::is_empty) {
        next(&mut rx, &mut lines_of, &mut ended, &mut gaps).await;
    }
    let (pods, _) = sim.store.list(Resource::Pods, Some(&ns));
    let pod = pods
        .iter()
        .find(|p| {
            p.pointer("/metadata/labels/job-name")
                .and_then(|v| v.as_str())
                == Some(&job)
        })
        .and_then(|p| p.pointer("/metadata/name")?.as_str().map(str::to_string))
        .expect("the retry's pod");

    // Bursts of lines, each followed by a dropped stream once the burst was delivered.
    for burst in 0..6 {
        for i in 0..50 {
            controls.append_log(&ns, &pod, CONTAINER, &format!("burst {burst} line {i}"));
        }
        let last = format!("burst {burst} line 49");
        while !lines_of.get(&job).is_some_and(|l| l.contains(&last)) {
            next(&mut rx, &mut lines_of, &mut ended, &mut gaps).await;
        }
        controls.close_log_streams();
    }
    while !ended.contains(&job) {
        next(&mut rx, &mut lines_of, &mut ended, &mut gaps).await;
    }

    let stored: Vec<String> = sim
        .store
        .read_log(&ns, &pod, CONTAINER, 0, false)
        .lines
        .into_iter()
        .map(|l| l.text)
        .collect();
    let got = &lines_of[&job];
    assert_eq!(got.len(), stored.len(), "no line lost or repeated");
    assert_eq!(got, &stored);
    assert_eq!(gaps, 0, "the simulator lost nothing, so no gap is claimed");
    let streams = controls
        .requests()
        .iter()
        .filter(|r| r.path.ends_with(&format!("/pods/{pod}/log")))
        .count();
    assert!(
        streams >= 6,
        "the stream was resumed after each drop ({streams})"
    );

    // The evidence file holds the same lines, with the API server's timestamps.
    let saved = std::fs::read_to_string(evidence.join(format!("{job}.log"))).unwrap();
    let saved: Vec<&str> = saved
        .lines()
        .map(|l| l.split_once(' ').map_or(l, |(_, t)| t))
        .collect();
    assert_eq!(saved, stored);
    sim.shutdown().await;
}

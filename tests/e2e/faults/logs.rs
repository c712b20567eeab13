//! A long attempt's log whose follow stream is cut again and again at random points (the
//! simulator sends chunks that do not line up with lines, so most cuts fall mid-line):
//! every line arrives exactly once, in order, and no gap is claimed where the server lost
//! nothing.

use std::time::{Duration, Instant};

use breakglass::domain::JobView;
use breakglass::sim::store::Resource;
use breakglass::sources::{SourceEvent, logfollow};
use serde_json::json;
use tokio::sync::mpsc;

use crate::support::faults::{Row, headless_state, screen_of, secs, sim_and_connection};

const LINES: usize = 100_000;
const CUTS: usize = 100;
const CONTAINER: &str = "upgrade-executor";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_100k_line_log_cut_100_times_loses_and_repeats_nothing() {
    let (sim, conn, _dir) = sim_and_connection("transient", 1.0, None).await;
    let controls = sim.controls();
    let ns = sim.namespace.clone();
    let (job, pod) = ("fault-log", "fault-log-x7k2p");
    let (_jobs, jobs_rx) = own_job(&sim, job, pod);
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
    let mut heard = Instant::now();
    while !ended {
        // Short waits: when the follower has delivered everything before the writer and the
        // cutter are done, no event comes to notice that they are (the test once waited its
        // whole minute for one, and failed, when the last cut fell after the last line).
        match tokio::time::timeout(Duration::from_millis(250), rx.recv()).await {
            Ok(ev) => {
                heard = Instant::now();
                match ev.expect("the follower stopped") {
                    SourceEvent::LogLines { lines, .. } => got.extend(lines),
                    SourceEvent::LogGap { .. } => gaps += 1,
                    SourceEvent::LogEnded { .. } => ended = true,
                    _ => {}
                }
            }
            Err(_) => assert!(
                heard.elapsed() < Duration::from_secs(60),
                "the follower went quiet"
            ),
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

/// A Job of its own (not the cluster's: the twin leaves it alone) with a running pod, and
/// the Job list the follower waits on (its sender and receiver).
fn own_job(
    sim: &breakglass::sim::run::SimHandle,
    job: &str,
    pod: &str,
) -> (
    tokio::sync::watch::Sender<Vec<JobView>>,
    tokio::sync::watch::Receiver<Vec<JobView>>,
) {
    let ns = &sim.namespace;
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
    // The follower stops when the list's sender goes: the caller keeps it.
    tokio::sync::watch::channel(vec![view])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_under_the_evidence_file_is_said_and_lines_keep_flowing() {
    let (sim, conn, dir) = sim_and_connection("transient", 1.0, None).await;
    let controls = sim.controls();
    let ns = sim.namespace.clone();
    let (job, pod) = ("fault-disk", "fault-disk-q8w3e");
    let (_jobs, jobs_rx) = own_job(&sim, job, pod);
    // The evidence file is on a full disk: every write fails with ENOSPC.
    let evidence = dir.path().join("evidence");
    std::fs::create_dir(&evidence).unwrap();
    std::os::unix::fs::symlink("/dev/full", evidence.join(format!("{job}.log"))).unwrap();
    let (tx, mut rx) = mpsc::channel(4096);
    let follower = logfollow::spawn_one(
        conn.client.clone(),
        ns.clone(),
        (job.to_string(), CONTAINER),
        jobs_rx,
        tx,
        logfollow::FollowOptions {
            evidence_dir: Some(evidence.clone()),
        },
    );
    let mut state = headless_state(&sim);
    let mut got = 0;
    let mut said = None;
    let start = Instant::now();
    for round in 0..3 {
        for i in 0..20 {
            controls.append_log(&ns, pod, CONTAINER, &format!("round {round} line {i}"));
        }
        while got < (round + 1) * 20 {
            let ev = tokio::time::timeout(Duration::from_secs(20), rx.recv())
                .await
                .expect("the follower went quiet")
                .expect("the follower stopped");
            match &ev {
                SourceEvent::LogLines { lines, .. } => got += lines.len(),
                SourceEvent::EvidenceNotSaved(message) if said.is_none() => {
                    said = Some((message.clone(), start.elapsed()));
                }
                _ => {}
            }
            let _ = breakglass::app::update(&mut state, breakglass::app::Msg::Source(ev));
        }
    }
    follower.abort();
    let (message, when) = said.expect("the full disk was not reported");
    assert!(
        message.contains("NOT saved") && message.contains("No space left"),
        "{message}"
    );
    // Still said after the 40 lines that came after it: the pane's title, the footer,
    // and a marker where saving stopped.
    let _ = breakglass::app::update(
        &mut state,
        breakglass::app::Msg::Resize {
            width: 160,
            height: 48,
        },
    );
    let screen = screen_of(&state);
    let title = screen.lines().find(|l| l.contains("Logs ·")).unwrap_or("");
    assert!(title.contains("[NOT SAVED]"), "{screen}");
    let footer = screen
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("");
    assert!(
        footer.contains("[NOT SAVED] log evidence NOT saved"),
        "{screen}"
    );
    assert!(
        matches!(&state.logs.saved_to, Some(Err(e)) if e == &message),
        "{:?}",
        state.logs.saved_to
    );
    Row {
        fault: "disk full under the log evidence file (a symlink to /dev/full)",
        saw: format!(
            "`{message}`: Logs title `[NOT SAVED]`, footer `[NOT SAVED] …` and a marker in the pane, kept while the next {} lines arrive",
            got.saturating_sub(20)
        ),
        detect: secs(when),
        recover: "n/a".into(),
        lines: format!("0 lost on screen ({got} of 60 shown); evidence not saved"),
        mutations: controls.mutations().len(),
    }
    .print();
    sim.shutdown().await;
}

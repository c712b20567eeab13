//! Layer 3: the console's sources against the simulator, over HTTPS with a kubeconfig,
//! exactly the path a real cluster takes.

use std::time::Duration;

use breakglass::domain::JobState;
use breakglass::sim::run::{SimHandle, start};
use breakglass::sources::connect::{Connection, Target, connect};
use breakglass::sources::{
    ActionOutcome, SourceEvent, SourceName, actions, logfollow, snapshot, watch,
};
use tokio::sync::mpsc;

const WAIT: Duration = Duration::from_secs(30);
const SPEED: f64 = 4.0;

struct Fixture {
    sim: SimHandle,
    conn: Connection,
    _dir: tempfile::TempDir,
    kubeconfig: std::path::PathBuf,
}

async fn fixture(scenario: &str) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    let sim = start(scenario, SPEED, &kubeconfig).await.unwrap();
    let conn = connect(&Target {
        kubeconfig: Some(kubeconfig.clone()),
        ..Default::default()
    })
    .await
    .unwrap();
    Fixture {
        sim,
        conn,
        _dir: dir,
        kubeconfig,
    }
}

impl Fixture {
    /// A second connection as the simulator's read-only user (context `sim-viewer`).
    async fn viewer(&self) -> Connection {
        connect(&Target {
            kubeconfig: Some(self.kubeconfig.clone()),
            context: Some("sim-viewer".into()),
            ..Default::default()
        })
        .await
        .unwrap()
    }
}

/// Wait for the first event satisfying `pred`, failing the test after WAIT.
async fn until<T>(
    rx: &mut mpsc::Receiver<SourceEvent>,
    mut pred: impl FnMut(&SourceEvent) -> Option<T>,
) -> T {
    tokio::time::timeout(WAIT, async {
        loop {
            let ev = rx.recv().await.expect("sources stopped");
            if let Some(v) = pred(&ev) {
                return v;
            }
        }
    })
    .await
    .expect("timed out waiting for a source event")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watchers_see_the_incident_through_the_api() {
    let f = fixture("transient").await;
    let (tx, mut rx) = mpsc::channel(256);
    let _w = watch::spawn_all(&f.conn.client, &f.sim.namespace, &f.sim.cluster, tx);
    // The three watchers report in any order: collect until each has spoken.
    let (mut cluster, mut pods, mut jobs) = (None, None, None);
    while cluster.is_none() || pods.is_none() || jobs.is_none() {
        until(&mut rx, |e| {
            match e {
                SourceEvent::Cluster(Some(c)) => cluster = Some(c.clone()),
                SourceEvent::Pods(p) if !p.is_empty() => pods = Some(p.clone()),
                SourceEvent::Jobs(j) if j.iter().any(|j| j.is_repair()) => jobs = Some(j.clone()),
                _ => {}
            }
            Some(())
        })
        .await;
    }
    let (cluster, pods, jobs) = (cluster.unwrap(), pods.unwrap(), jobs.unwrap());
    assert!(cluster.break_glass_active());
    assert_eq!(cluster.active_nonce().map(str::len), Some(32));
    assert_eq!(
        cluster.blue_green.as_ref().unwrap().phase.as_deref(),
        Some("RollingBack")
    );
    assert!(pods.len() >= 6, "blue and green pods: {pods:?}");
    let repair = jobs.iter().find(|j| j.is_repair()).unwrap();
    assert_eq!(repair.run_id.as_deref(), Some("rollback"));
    assert_eq!(repair.state, JobState::Failed);
    assert_eq!(
        cluster.failed_job_from_message().as_deref(),
        Some(repair.name.as_str())
    );
    f.sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_cluster_is_reported_as_missing() {
    let f = fixture("transient").await;
    let (tx, mut rx) = mpsc::channel(256);
    let _w = watch::spawn_all(&f.conn.client, &f.sim.namespace, "no-such-cluster", tx);
    until(&mut rx, |e| {
        matches!(e, SourceEvent::Cluster(None)).then_some(())
    })
    .await;
    let err = snapshot::read(&f.conn.client, &f.sim.namespace, "no-such-cluster")
        .await
        .unwrap_err();
    assert!(err.to_string().contains("not found"), "{err}");
    f.sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stale_nonce_is_refused_and_the_right_one_starts_a_new_attempt() {
    let f = fixture("transient").await;
    let (ns, name) = (f.sim.namespace.clone(), f.sim.cluster.clone());
    let before = snapshot::read(&f.conn.client, &ns, &name).await.unwrap();
    let nonce = before
        .cluster
        .as_ref()
        .unwrap()
        .active_nonce()
        .unwrap()
        .to_string();

    let stale = actions::acknowledge(
        &f.conn.client,
        &ns,
        &name,
        "00000000000000000000000000000000",
    )
    .await;
    assert!(
        matches!(&stale, ActionOutcome::Refused { reason } if reason.to_string().contains("nonce changed")),
        "{stale:?}"
    );
    let unchanged = snapshot::read(&f.conn.client, &ns, &name).await.unwrap();
    assert_eq!(
        unchanged.cluster.as_ref().unwrap().break_glass_ack,
        None,
        "nothing may be written"
    );

    // Follow logs and jobs while acknowledging.
    let (tx, mut rx) = mpsc::channel(1024);
    let _w = watch::spawn_all(&f.conn.client, &ns, &name, tx.clone());
    let (jobs_tx, jobs_rx) = tokio::sync::watch::channel(Vec::new());
    let _l = logfollow::spawn(f.conn.client.clone(), ns.clone(), jobs_rx, tx);
    let mut first_attempt_lines = Vec::new();
    let mut ended = false;
    while !ended {
        until(&mut rx, |e| {
            match e {
                SourceEvent::Jobs(j) => {
                    jobs_tx.send_replace(j.clone());
                }
                SourceEvent::LogLines { lines, .. } => first_attempt_lines.extend(lines.clone()),
                SourceEvent::LogEnded { .. } => ended = true,
                _ => {}
            }
            Some(())
        })
        .await;
    }
    assert!(
        first_attempt_lines
            .iter()
            .any(|l| l.contains("upgrade-executor error:")),
        "the failed attempt's log is streamed: {first_attempt_lines:?}"
    );

    let ok = actions::acknowledge(&f.conn.client, &ns, &name, &nonce).await;
    assert!(matches!(ok, ActionOutcome::Acknowledged { .. }), "{ok:?}");
    let job = until(&mut rx, |e| match e {
        SourceEvent::Jobs(j) => {
            jobs_tx.send_replace(j.clone());
            j.iter()
                .find(|j| j.run_id.as_deref() == Some("rollback-retry-1"))
                .cloned()
        }
        _ => None,
    })
    .await;
    assert!(job.is_repair());
    until(&mut rx, |e| match e {
        SourceEvent::Jobs(j) => {
            jobs_tx.send_replace(j.clone());
            None
        }
        SourceEvent::LogAttempt { run_id, .. } if run_id.as_deref() == Some("rollback-retry-1") => {
            Some(())
        }
        _ => None,
    })
    .await;
    f.sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_only_user_is_told_it_is_forbidden() {
    let f = fixture("transient").await;
    let viewer = f.viewer().await;
    let incident = snapshot::read(&viewer.client, &f.sim.namespace, &f.sim.cluster)
        .await
        .unwrap();
    let nonce = incident
        .cluster
        .unwrap()
        .active_nonce()
        .unwrap()
        .to_string();
    let outcome =
        actions::acknowledge(&viewer.client, &f.sim.namespace, &f.sim.cluster, &nonce).await;
    match outcome {
        ActionOutcome::Failed { status, message } => {
            assert_eq!(status, Some(403));
            assert!(
                message.contains("forbidden") && message.contains("patch"),
                "{message}"
            );
        }
        other => panic!("expected 403, got {other:?}"),
    }
    f.sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_api_is_a_problem_not_an_exit() {
    let f = fixture("transient").await;
    let conn = f.conn.clone();
    let (ns, name) = (f.sim.namespace.clone(), f.sim.cluster.clone());
    f.sim.shutdown().await;
    let (tx, mut rx) = mpsc::channel(64);
    let handles = watch::spawn_all(&conn.client, &ns, &name, tx);
    let message = until(&mut rx, |e| match e {
        SourceEvent::Problem {
            source: SourceName::Cluster,
            message,
        } => Some(message.clone()),
        _ => None,
    })
    .await;
    assert!(
        message.contains("unreachable") || message.contains("connect"),
        "{message}"
    );
    assert!(!handles[0].is_finished(), "the watcher keeps trying");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_reads_raft_indices_through_the_pod_proxy() {
    let f = fixture("transient").await;
    let incident = snapshot::read(&f.conn.client, &f.sim.namespace, &f.sim.cluster)
        .await
        .unwrap();
    let reachable: Vec<_> = incident.raft.iter().filter(|r| r.reachable).collect();
    assert!(!reachable.is_empty(), "{:?}", incident.raft);
    assert!(reachable.iter().all(|r| r.committed.is_some()));
    assert_eq!(
        incident.raft.iter().filter(|r| r.is_leader).count(),
        1,
        "{:?}",
        incident.raft
    );
    f.sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_rbac_denial_is_shown_and_recovers_when_granted() {
    use breakglass::sim::store::Resource;
    let f = fixture("transient").await;
    let viewer = f.viewer().await;
    let controls = f.sim.controls();
    controls.deny("viewer", "list", Resource::Pods);
    let (tx, mut rx) = mpsc::channel(256);
    let _w = watch::spawn_all(&viewer.client, &f.sim.namespace, &f.sim.cluster, tx);
    let message = until(&mut rx, |e| match e {
        SourceEvent::Problem {
            source: SourceName::Pods,
            message,
        } => Some(message.clone()),
        _ => None,
    })
    .await;
    assert!(
        message.contains("RBAC denied (403)") && message.contains("pods"),
        "{message}"
    );
    controls.allow("viewer", "list", Resource::Pods);
    until(&mut rx, |e| {
        matches!(
            e,
            SourceEvent::Recovered {
                source: SourceName::Pods
            }
        )
        .then_some(())
    })
    .await;
    f.sim.shutdown().await;
}

/// The operator signals: the controller Deployment found by its labels; for a user who may
/// not list Deployments, an image signal that says why (never a Problem banner); the CRD
/// read gives a signal either way.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operator_signals_degrade_to_evidence_without_rbac() {
    use breakglass::domain::generation::{CrdSignal, ImageSignal};
    use breakglass::sim::store::Resource;
    use breakglass::sources::operator;

    let f = fixture("persistent").await;
    let ns = f.sim.namespace.clone();
    let admin = operator::read(&f.conn.client, &ns).await;
    match &admin.image {
        ImageSignal::Found { deployment, image } => {
            assert!(
                deployment.ends_with("/openbao-operator-controller"),
                "{deployment}"
            );
            assert!(image.contains("/openbao-operator:"), "{image}");
        }
        other => panic!("{other:?}"),
    }
    assert!(
        matches!(*admin.crd, CrdSignal::Read(_) | CrdSignal::Unreadable(_)),
        "{:?}",
        admin.crd
    );
    f.sim
        .controls()
        .deny("viewer", "list", Resource::Deployments);
    let viewer = f.viewer().await;
    let denied = operator::read(&viewer.client, &ns).await;
    match &denied.image {
        ImageSignal::Unreadable(why) => {
            assert!(
                why.starts_with("all namespaces: RBAC denied (403)"),
                "{why}"
            );
            assert!(why.contains(operator::OPERATOR_NAMESPACE), "{why}");
        }
        other => panic!("{other:?}"),
    }
    let g = denied.detect(None);
    assert!(g.evidence.iter().any(|e| e.contains("(no image)")), "{g:?}");
    // The poller sends the signals as one event, and no problem.
    let (tx, mut rx) = mpsc::channel(16);
    let task = operator::spawn(viewer.client.clone(), ns.clone(), tx);
    let ev = tokio::time::timeout(WAIT, rx.recv())
        .await
        .unwrap()
        .unwrap();
    assert!(
        matches!(ev, SourceEvent::Operator(ref s) if *s == denied),
        "{ev:?}"
    );
    task.abort();
    f.sim.shutdown().await;
}

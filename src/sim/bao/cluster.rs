//! Start, observe and tear down ONE Raft cluster of real `bao` nodes: Blue pods as voters,
//! Green pods joined as non-voters (`retry_join_as_non_voter`), node ids = pod names.
//!
//! Start-up follows OpenBao's Raft bootstrap (one node initialised, the others joining with `retry_join`): all Blue nodes start at once (the
//! followers' retry_join loops until the first is initialised), and Green nodes start as
//! soon as that first node is active, joining through it; followers unseal on a fixed 5 s
//! tick, so this overlaps Blue's and Green's ticks. Every wait is a bounded poll; a node that
//! exits during a wait fails it at once with its log tail.
//!
//! Cleanup is guaranteed: each node is a [`NodeProcess`] whose `Drop` kills and reaps it, and
//! `BaoCluster`'s `Drop` does that for every node before its temporary work dir is removed.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use futures::future::join_all;
use serde_json::json;
use tempfile::TempDir;

use super::api::BaoApi;
use super::process::{self, NodeProcess, NodeSpec};
use super::proxy::BaoProxy;
use super::{BaoError, find_bao};
use crate::domain::Side;
use crate::domain::token::OpenBaoToken;

/// Timeout of a direct `sys/leader` or `sys/health` read of one node.
pub(crate) const PROBE_TIMEOUT: Duration = Duration::from_secs(1);
/// Pause between polls of a bounded wait.
pub(crate) const POLL: Duration = Duration::from_millis(100);
/// How long a node may take to exit after SIGTERM before it gets SIGKILL.
const STOP_GRACE: Duration = Duration::from_secs(15);
/// The same for [`BaoCluster::shutdown`]: with every node going at once the last voters
/// lose quorum and the leader's own shutdown dragged on for ~9 s; the data is deleted
/// anyway, so it gets less patience.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);
/// How long a (re)started node may take to answer unsealed.
const NODE_UNSEAL_TIMEOUT: Duration = Duration::from_secs(30);
/// `sys/health` codes of an unsealed node: active, standby, performance standby.
const UNSEALED: [u16; 3] = [200, 429, 473];
/// The KV v2 mount `write_load` writes to.
pub(crate) const KV_MOUNT: &str = "secret";

/// What to start.
#[derive(Debug, Clone)]
pub struct BaoOptions {
    /// Blue pod names (voters). The first is initialised; the others join it.
    pub blue: Vec<String>,
    /// Green pod names, joined to Blue as non-voters.
    pub green: Vec<String>,
    /// Parent of the run's work dir (a fresh temporary dir inside it, removed on drop).
    /// `None`: the system temp dir.
    pub work_dir: Option<PathBuf>,
    /// The `bao` binary. `None`: [`find_bao`].
    pub binary: Option<PathBuf>,
    /// `autopilot_upgrade_version` of the Green nodes (shown by `sys/ha-status`).
    pub green_upgrade_version: Option<String>,
    /// Bound on the whole start-up.
    pub start_timeout: Duration,
    /// Per pod, an additional TLS listener (e.g. on its pod IP); the loopback listener the
    /// cluster's own requests use stays.
    pub tls_listeners: std::collections::BTreeMap<String, process::TlsListener>,
}

impl BaoOptions {
    pub fn new<B, G>(blue: B, green: G) -> Self
    where
        B: IntoIterator,
        B::Item: Into<String>,
        G: IntoIterator,
        G::Item: Into<String>,
    {
        BaoOptions {
            blue: blue.into_iter().map(Into::into).collect(),
            green: green.into_iter().map(Into::into).collect(),
            work_dir: None,
            binary: None,
            green_upgrade_version: None,
            start_timeout: Duration::from_secs(90),
            tls_listeners: std::collections::BTreeMap::new(),
        }
    }

    fn validate(&self) -> Result<(), BaoError> {
        if self.blue.is_empty() {
            return Err(BaoError::InvalidOptions(
                "at least one Blue pod is needed".into(),
            ));
        }
        let mut seen = std::collections::BTreeSet::new();
        for pod in self.blue.iter().chain(&self.green) {
            if !is_dns_name(pod) {
                return Err(BaoError::InvalidOptions(format!(
                    "{pod:?} is not a valid pod name"
                )));
            }
            if !seen.insert(pod.as_str()) {
                return Err(BaoError::InvalidOptions(format!("pod {pod:?} given twice")));
            }
        }
        Ok(())
    }
}

/// A DNS-1123 subdomain, as Kubernetes requires of pod names (also safe in paths and HCL).
fn is_dns_name(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 253
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-' || *c == b'.')
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
}

pub(crate) struct Node {
    pub(crate) side: Side,
    pub(crate) spec: NodeSpec,
    process: Mutex<Option<NodeProcess>>,
}

impl Node {
    pub(crate) fn pod(&self) -> &str {
        &self.spec.pod
    }

    pub(crate) fn process(&self) -> MutexGuard<'_, Option<NodeProcess>> {
        // A panic while holding the lock leaves a valid Option; keep using it.
        self.process.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Running and not paused: worth sending a request to.
    pub(crate) fn is_answering(&self) -> bool {
        self.process()
            .as_mut()
            .is_some_and(|p| p.exited().is_none() && !p.is_paused())
    }
}

/// One bounded wait, from [`BaoCluster::wait`].
pub(crate) struct Wait<'a> {
    cluster: &'a BaoCluster,
    what: String,
    timeout: Duration,
    deadline: Instant,
}

impl Wait<'_> {
    /// Between two checks: fail if a node we run has exited or the time is up, else sleep
    /// one [`POLL`].
    pub(crate) async fn tick(&self) -> Result<(), BaoError> {
        self.cluster.check_exits()?;
        if Instant::now() >= self.deadline {
            return Err(BaoError::WaitTimeout {
                what: self.what.clone(),
                after: self.timeout,
                nodes: self.cluster.describe().await,
            });
        }
        tokio::time::sleep(POLL).await;
        Ok(())
    }
}

/// One Raft cluster of real `bao` nodes. See the module docs.
pub struct BaoCluster {
    pub(crate) nodes: Vec<Node>,
    binary: PathBuf,
    pub(crate) api: BaoApi,
    seal_key: PathBuf,
    started_in: Duration,
    dir: TempDir,
}

impl std::fmt::Debug for BaoCluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BaoCluster")
            .field("pods", &self.pods())
            .field("work_dir", &self.dir.path())
            .finish_non_exhaustive()
    }
}

impl BaoCluster {
    /// Start Blue (voters) and Green (non-voters) in one Raft cluster and wait until every
    /// node is unsealed, Blue are voters and Green are non-voters in the Raft configuration,
    /// and KV v2 at `secret/` takes writes.
    pub async fn start(opts: BaoOptions) -> Result<BaoCluster, BaoError> {
        opts.validate()?;
        let t0 = Instant::now();
        let deadline = t0 + opts.start_timeout;
        let binary = match &opts.binary {
            Some(b) => b.clone(),
            None => find_bao().ok_or(BaoError::BinaryNotFound)?,
        };
        let mut builder = tempfile::Builder::new();
        builder.prefix("breakglass-bao-");
        let dir = match &opts.work_dir {
            Some(parent) => builder.tempdir_in(parent),
            None => builder.tempdir(),
        }
        .map_err(|e| BaoError::io("create the work dir", e))?;
        let seal_key = dir.path().join("seal.key");
        process::write_seal_key(&seal_key)?;

        let pods: Vec<(&String, Side)> = opts
            .blue
            .iter()
            .map(|p| (p, Side::Blue))
            .chain(opts.green.iter().map(|p| (p, Side::Green)))
            .collect();
        let ports = process::free_ports(pods.len() * 2)?;
        let blue_addrs: Vec<String> = (0..opts.blue.len())
            .map(|i| format!("http://127.0.0.1:{}", ports[2 * i]))
            .collect();
        let nodes = pods
            .iter()
            .enumerate()
            .map(|(i, (pod, side))| {
                let green = *side == Side::Green;
                // Everyone joins through the initialised node (the active one while the
                // cluster forms); retry_join matters only for a node's first join.
                let join = match i {
                    0 => Vec::new(),
                    _ => blue_addrs[..1].to_vec(),
                };
                Node {
                    side: *side,
                    spec: NodeSpec {
                        pod: (*pod).clone(),
                        api_port: ports[2 * i],
                        cluster_port: ports[2 * i + 1],
                        dir: dir.path().join(pod.as_str()),
                        non_voter: green,
                        join,
                        upgrade_version: opts.green_upgrade_version.clone().filter(|_| green),
                        tls_listener: opts.tls_listeners.get(pod.as_str()).cloned(),
                    },
                    process: Mutex::new(None),
                }
            })
            .collect();
        // From here on, an early return drops `cluster`, which kills what was started.
        let mut cluster = BaoCluster {
            nodes,
            binary,
            api: BaoApi::new(),
            seal_key,
            started_in: Duration::ZERO,
            dir,
        };
        for node in &cluster.nodes {
            node.spec.write_config(&cluster.seal_key)?;
            if node.side == Side::Blue {
                cluster.spawn(node)?;
            }
        }
        cluster.bootstrap(deadline).await?;
        cluster.started_in = t0.elapsed();
        Ok(cluster)
    }

    /// Init the first Blue node, configure autopilot and KV, wait for everyone.
    async fn bootstrap(&mut self, deadline: Instant) -> Result<(), BaoError> {
        let first = self.nodes[0].spec.api_addr();
        let left = || deadline.saturating_duration_since(Instant::now());
        let wait = self.wait("the first Blue node to listen (sys/health 501)", left());
        while !self.health_is(&first, &[501]).await {
            wait.tick().await?;
        }
        let token = self.api.init(&first).await?;
        let token = OpenBaoToken::new(token).ok_or_else(|| BaoError::Decode {
            url: format!("{first}/v1/sys/init"),
            message: "empty root token".into(),
        })?;
        self.api = self.api.with_token(token);
        self.wait_ready(&first, deadline).await
    }

    /// After init: node 0 active, autopilot and KV configured, everyone unsealed and in place.
    async fn wait_ready(&self, first: &str, deadline: Instant) -> Result<(), BaoError> {
        let left = || deadline.saturating_duration_since(Instant::now());
        let wait = self.wait("the first Blue node to become active", left());
        while !self.health_is(first, &[200]).await {
            wait.tick().await?;
        }
        // OpenBao's default stabilisation (10 s) keeps new voters non-voters that long.
        self.api
            .set_autopilot(first, &json!({ "server_stabilization_time": "2s" }))
            .await?;
        self.api.mount_kv2(first, KV_MOUNT).await?;
        // Green joins an initialised cluster, as with the operator (DeployingGreen waits
        // for Blue). Started together with Blue, a Green node once ended up a voter.
        for node in self.nodes.iter().filter(|n| n.side != Side::Blue) {
            self.spawn(node)?;
        }
        let wait = self.wait("every node to be unsealed", left());
        while !self.all_unsealed().await {
            wait.tick().await?;
        }
        let what = "Blue to be voters and Green members of the Raft configuration";
        let wait = self.wait(what, left());
        while !self.membership_as_started(first).await {
            wait.tick().await?;
        }
        // Safety net for the case above: a Green voter is demoted (the API's demotion
        // sticks; a node's own retry_join_as_non_voter did not).
        let config = self.api.raft_configuration(first).await?;
        let green_voters: Vec<&str> = self
            .nodes
            .iter()
            .filter(|n| n.side != Side::Blue)
            .map(Node::pod)
            .filter(|p| config.server(p).is_some_and(|s| s.voter))
            .collect();
        if !green_voters.is_empty() {
            tracing::warn!(?green_voters, "Green joined as voters; demoting them");
            self.set_voters(&green_voters, false).await?;
        }
        // A fresh KV v2 mount refuses writes until its upgrade finishes.
        let wait = self.wait("KV v2 at secret/ to take writes", left());
        let probe = json!({ "ok": true });
        while self
            .api
            .kv_put(first, KV_MOUNT, "breakglass-ready", &probe)
            .await
            .is_err()
        {
            wait.tick().await?;
        }
        Ok(())
    }

    /// `sys/health` of the node at `addr` answers one of `codes`.
    pub(crate) async fn health_is(&self, addr: &str, codes: &[u16]) -> bool {
        let code = self.api.health_code(addr, PROBE_TIMEOUT).await;
        code.is_ok_and(|c| codes.contains(&c))
    }

    /// Every node answers `sys/health` unsealed (active, standby or perf standby).
    async fn all_unsealed(&self) -> bool {
        let addrs: Vec<String> = self.nodes.iter().map(|n| n.spec.api_addr()).collect();
        let answers = join_all(addrs.iter().map(|a| self.health_is(a, &UNSEALED))).await;
        answers.into_iter().all(|ok| ok)
    }

    /// Blue are voters and Green are members of the Raft configuration.
    async fn membership_as_started(&self, addr: &str) -> bool {
        let Ok(config) = self.api.raft_configuration(addr).await else {
            return false;
        };
        self.nodes.iter().all(|n| {
            config
                .server(n.pod())
                .is_some_and(|s| s.voter || n.side != Side::Blue)
        })
    }

    /// A bounded wait: check, then [`Wait::tick`], until the check holds. (A loop rather
    /// than a poll function taking an async closure, whose futures the compiler cannot
    /// prove `Send`; the controls must be usable from spawned tasks.)
    pub(crate) fn wait(&self, what: impl Into<String>, timeout: Duration) -> Wait<'_> {
        Wait {
            cluster: self,
            what: what.into(),
            timeout,
            deadline: Instant::now() + timeout,
        }
    }

    /// A node we started that exited by itself (bad config, port taken, crash).
    fn check_exits(&self) -> Result<(), BaoError> {
        for node in &self.nodes {
            let status = node.process().as_mut().and_then(NodeProcess::exited);
            if let Some(status) = status {
                node.process().take();
                return Err(BaoError::NodeExited {
                    pod: node.pod().to_string(),
                    status: status.to_string(),
                    log_tail: process::log_tail(&node.spec.log_path(), 20),
                });
            }
        }
        Ok(())
    }

    fn spawn(&self, node: &Node) -> Result<(), BaoError> {
        let p = NodeProcess::spawn(
            &self.binary,
            &node.spec.config_path(),
            &node.spec.log_path(),
        )?;
        *node.process() = Some(p);
        Ok(())
    }

    pub(crate) fn node(&self, pod: &str) -> Result<&Node, BaoError> {
        self.nodes
            .iter()
            .find(|n| n.pod() == pod)
            .ok_or_else(|| BaoError::UnknownPod(pod.to_string()))
    }

    /// All pod names, Blue first.
    pub fn pods(&self) -> Vec<&str> {
        self.nodes.iter().map(Node::pod).collect()
    }

    /// The pods of one side.
    pub fn pods_of(&self, side: Side) -> Vec<&str> {
        self.nodes
            .iter()
            .filter(|n| n.side == side)
            .map(Node::pod)
            .collect()
    }

    pub fn side(&self, pod: &str) -> Option<Side> {
        self.node(pod).ok().map(|n| n.side)
    }

    /// The node's API address (`http://127.0.0.1:<port>`).
    pub fn api_addr(&self, pod: &str) -> Option<String> {
        self.node(pod).ok().map(|n| n.spec.api_addr())
    }

    /// PID of the node's process, if it is running (or paused).
    pub fn pid(&self, pod: &str) -> Option<u32> {
        let node = self.node(pod).ok()?;
        node.process().as_ref().map(NodeProcess::pid)
    }

    /// The run's work dir (one sub-directory per pod with `config.hcl`, `data/`, `server.log`).
    pub fn work_dir(&self) -> &Path {
        self.dir.path()
    }

    /// How long [`BaoCluster::start`] took.
    pub fn started_in(&self) -> Duration {
        self.started_in
    }

    /// The root token (kept in memory; the demo writes it to a 0600 file for its console).
    pub fn root_token(&self) -> Option<OpenBaoToken> {
        self.api.token().cloned()
    }

    /// The [`PodProxy`](crate::sim::openbao::PodProxy) for these pods.
    pub fn proxy(&self) -> BaoProxy {
        BaoProxy::new(
            self.nodes
                .iter()
                .map(|n| (n.pod().to_string(), n.spec.api_addr())),
        )
    }

    /// Stop a node (SIGCONT, SIGTERM, SIGKILL after 15 s). Its data dir stays, so
    /// [`BaoCluster::start_node`] brings it back with its log. Stopping a stopped node is a
    /// no-op.
    pub async fn stop_node(&self, pod: &str) -> Result<(), BaoError> {
        let taken = self.node(pod)?.process().take();
        match taken {
            Some(p) => p.terminate(STOP_GRACE).await,
            None => Ok(()),
        }
    }

    /// Restart a stopped node from its data dir and wait until it answers unsealed (seal
    /// "static" unseals it by itself). A running node is left alone.
    pub async fn start_node(&self, pod: &str) -> Result<(), BaoError> {
        let node = self.node(pod)?;
        let running = node
            .process()
            .as_mut()
            .is_some_and(|p| p.exited().is_none());
        if !running {
            self.spawn(node)?;
        }
        let addr = node.spec.api_addr();
        let wait = self.wait(format!("{pod} to answer unsealed"), NODE_UNSEAL_TIMEOUT);
        while !self.health_is(&addr, &UNSEALED).await {
            wait.tick().await?;
        }
        Ok(())
    }

    /// SIGSTOP: the node keeps its sockets, accepts connections and never answers.
    pub fn pause(&self, pod: &str) -> Result<(), BaoError> {
        match self.node(pod)?.process().as_mut() {
            Some(p) => p.pause(),
            None => Err(BaoError::InvalidOptions(format!("{pod} is not running"))),
        }
    }

    /// SIGCONT after [`BaoCluster::pause`].
    pub fn resume(&self, pod: &str) -> Result<(), BaoError> {
        match self.node(pod)?.process().as_mut() {
            Some(p) => p.resume(),
            None => Err(BaoError::InvalidOptions(format!("{pod} is not running"))),
        }
    }

    /// Graceful shutdown: every node gets SIGTERM (SIGKILL after 5 s), in parallel; then
    /// the work dir is removed.
    pub async fn shutdown(self) -> Result<(), BaoError> {
        let procs: Vec<NodeProcess> = self
            .nodes
            .iter()
            .filter_map(|n| n.process().take())
            .collect();
        let results = join_all(procs.into_iter().map(|p| p.terminate(SHUTDOWN_GRACE))).await;
        results.into_iter().collect::<Result<(), _>>()
    }
}

impl Drop for BaoCluster {
    fn drop(&mut self) {
        // Kill and reap every node before `dir` (declared last) is removed.
        for node in &self.nodes {
            drop(node.process().take());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pod_names_must_be_dns_names() {
        for ok in ["prod-cluster-e8983038c519c718-0", "a", "a.b-0"] {
            assert!(is_dns_name(ok), "{ok}");
        }
        for bad in ["", "-a", "a-", "A-0", "a_0", "a/0", "a\"0"] {
            assert!(!is_dns_name(bad), "{bad}");
        }
    }

    /// The controls are used from spawned tasks (demo, sim server): their futures must be
    /// `Send`, i.e. no lock guard may live across an await.
    #[test]
    fn control_futures_are_send() {
        fn is_send<T: Send>(_: &T) {}
        fn check(c: &BaoCluster) {
            is_send(&c.start_node("p"));
            is_send(&c.stop_node("p"));
            is_send(&c.leader());
            is_send(&c.write_load(1));
            is_send(&c.transfer_leadership_to(Side::Green));
            is_send(&c.wait_caught_up("p", Duration::ZERO));
        }
        let _ = check;
        fn is_sync<T: Send + Sync>() {}
        is_sync::<BaoCluster>();
    }
}

//! What [`BaoCluster`] can say about its nodes: who leads, each node's own `sys/leader`,
//! the Raft configuration and autopilot state (asked of the active node), and a one-line-
//! per-node summary for error messages. Leader discovery skips paused and stopped nodes,
//! so it never waits out a timeout on a node known to be silent.

use futures::future::join_all;

use super::BaoError;
use super::api::{AutopilotState, LeaderStatus, RaftConfiguration};
use super::cluster::{BaoCluster, PROBE_TIMEOUT};

impl BaoCluster {
    /// The node's own `sys/leader` answer, read directly (not through the proxy).
    pub async fn leader_status(&self, pod: &str) -> Result<LeaderStatus, BaoError> {
        let addr = self.node(pod)?.spec.api_addr();
        self.api.sys_leader(&addr, PROBE_TIMEOUT).await
    }

    /// The pod whose `sys/leader` says `is_self` (running, unpaused nodes are asked).
    pub async fn leader(&self) -> Option<String> {
        let answers = join_all(self.nodes.iter().filter(|n| n.is_answering()).map(|n| {
            let addr = n.spec.api_addr();
            async move {
                let status = self.api.sys_leader(&addr, PROBE_TIMEOUT).await.ok()?;
                status.is_self.then(|| n.pod().to_string())
            }
        }))
        .await;
        answers.into_iter().flatten().next()
    }

    /// API address of the active node, for authenticated requests.
    pub(crate) async fn leader_addr(&self) -> Result<String, BaoError> {
        let pod = self.leader().await.ok_or(BaoError::NoLeader)?;
        Ok(self.node(&pod)?.spec.api_addr())
    }

    /// `sys/storage/raft/configuration`, asked of the active node.
    pub async fn raft_configuration(&self) -> Result<RaftConfiguration, BaoError> {
        let addr = self.leader_addr().await?;
        self.api.raft_configuration(&addr).await
    }

    /// `sys/storage/raft/autopilot/state`, asked of the active node.
    pub async fn autopilot_state(&self) -> Result<AutopilotState, BaoError> {
        let addr = self.leader_addr().await?;
        self.api.autopilot_state(&addr).await
    }

    /// One line per node: process state, `sys/health` code, Raft membership (as the first
    /// node that answers sees it). For error messages; each probe is bounded by 1 s.
    pub async fn describe(&self) -> String {
        let health = join_all(self.nodes.iter().map(|n| {
            let addr = n.spec.api_addr();
            async move {
                match self.api.health_code(&addr, PROBE_TIMEOUT).await {
                    Ok(code) => code.to_string(),
                    Err(BaoError::Timeout { .. }) => "no answer".to_string(),
                    Err(_) => "refused".to_string(),
                }
            }
        }))
        .await;
        let mut config = None;
        for node in self.nodes.iter().filter(|n| n.is_answering()) {
            let addr = node.spec.api_addr();
            let Ok(Ok(c)) =
                tokio::time::timeout(PROBE_TIMEOUT, self.api.raft_configuration(&addr)).await
            else {
                continue;
            };
            config = Some(c);
            break;
        }
        let mut out = String::new();
        for (node, health) in self.nodes.iter().zip(health) {
            let process = match node.process().as_mut() {
                None => "stopped".to_string(),
                Some(p) => match (p.exited(), p.is_paused()) {
                    (Some(status), _) => format!("exited ({status})"),
                    (None, true) => format!("paused pid {}", p.pid()),
                    (None, false) => format!("running pid {}", p.pid()),
                },
            };
            let raft = match config.as_ref().map(|c| c.server(node.pod())) {
                None => "raft unknown",
                Some(None) => "not in raft",
                Some(Some(s)) if s.leader => "leader",
                Some(Some(s)) if s.voter => "voter",
                Some(Some(_)) => "non-voter",
            };
            out.push_str(&format!(
                "  {} ({}): {process}, health {health}, {raft}\n",
                node.pod(),
                node.side.label()
            ));
        }
        out
    }
}

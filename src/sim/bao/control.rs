//! The Raft controls of [`BaoCluster`]: membership changes, step-down, KV load, and the
//! leader transfer (`move_leader`: promote the target, step the leader down), which is
//! what the operator's `DemotingBlue` / rollback Jobs do (dc-tec/openbao-operator@002fbdd `runBlueGreenWaitGreenSynced` and `internal/raft/autopilot.go`).
//!
//! Promote and demote are asynchronous (autopilot applies them on its next reconcile), so
//! every membership change here is followed by a bounded wait on the Raft configuration.

use std::time::{Duration, Instant};

use futures::StreamExt;
use futures::stream;
use serde_json::json;

use super::BaoError;
use super::cluster::{BaoCluster, KV_MOUNT, PROBE_TIMEOUT};
use crate::domain::Side;

/// Bound on a membership change showing in the Raft configuration (0.8–1.8 s measured).
const MEMBERSHIP_TIMEOUT: Duration = Duration::from_secs(30);
/// How often an unapplied promote/demote is asked for again (autopilot reconciles every 1 s).
const RESEND: Duration = Duration::from_secs(3);
/// How long to wait for a new leader after a step-down (the operator waits 5 s).
const STEP_DOWN_WAIT: Duration = Duration::from_secs(5);
/// How long an election may take before a transfer gives up: generous, because on a loaded
/// 2-core machine an election after a step-down has been seen to exceed STEP_DOWN_WAIT.
const ELECTION_WAIT: Duration = Duration::from_secs(20);
/// Rounds of demote / step-down / re-check (the operator does up to 10).
const TRANSFER_ROUNDS: usize = 10;
/// Concurrent KV writes of `write_load` (as `kv_fill` in lib.sh).
const WRITE_CONCURRENCY: usize = 16;
/// How long one KV write is retried on the then-current leader when it fails (e.g. "local
/// node not active but active cluster node not found" during an election): as long as an
/// election may take on a loaded 2-core machine, not a fixed count of 200 ms tries.
const WRITE_RETRY_FOR: Duration = ELECTION_WAIT;

/// The outcome of [`BaoCluster::write_load`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriteReport {
    /// Writes that succeeded (each is one Raft index).
    pub written: usize,
    pub elapsed: Duration,
    /// The leader's committed index after the last write.
    pub committed_index: u64,
}

impl BaoCluster {
    /// Seal `pod` (`PUT sys/seal` with the root token, on that node). It then answers 503
    /// "Vault is sealed" until [`BaoCluster::stop_node`] + [`BaoCluster::start_node`]
    /// (seal "static" unseals on start).
    pub async fn seal(&self, pod: &str) -> Result<(), BaoError> {
        let addr = self.node(pod)?.spec.api_addr();
        self.api.seal(&addr).await
    }

    /// Ask for `pod` to become a voter and wait until the Raft configuration says so.
    pub async fn promote(&self, pod: &str) -> Result<(), BaoError> {
        self.node(pod)?;
        self.set_voters(&[pod], true).await
    }

    /// Ask for `pod` to become a non-voter ("already a non-voter" is benign) and wait until
    /// the Raft configuration says so.
    pub async fn demote(&self, pod: &str) -> Result<(), BaoError> {
        self.node(pod)?;
        self.set_voters(&[pod], false).await
    }

    /// Promote (`voter`) or demote `pods` and wait until the Raft configuration agrees,
    /// asking again every [`RESEND`] for those that have not changed yet. Autopilot applies
    /// the request on a later reconcile, and once under load one of two back-to-back
    /// demotions was never applied (the other was); the operator retries too. Errors of
    /// the first request are returned; those of repeats (e.g. during an election) are not.
    pub(crate) async fn set_voters(&self, pods: &[&str], voter: bool) -> Result<(), BaoError> {
        let role = if voter { "voters" } else { "non-voters" };
        let wait = self.wait(format!("{pods:?} to be {role}"), MEMBERSHIP_TIMEOUT);
        let mut sent: Option<Instant> = None;
        loop {
            let config = self.raft_configuration().await.ok();
            let pending: Vec<&str> = pods
                .iter()
                .copied()
                .filter(|p| {
                    let current = config.as_ref().and_then(|c| c.server(p)).map(|s| s.voter);
                    current != Some(voter)
                })
                .collect();
            if config.is_some() && pending.is_empty() {
                return Ok(());
            }
            if sent.is_none_or(|t| t.elapsed() >= RESEND) {
                let first = sent.is_none();
                if !first {
                    tracing::warn!(
                        ?pending,
                        voter,
                        "membership change not applied yet; asking again"
                    );
                }
                sent = Some(Instant::now());
                let result = self.send_voters(&pending, voter).await;
                if first {
                    result?;
                }
            }
            wait.tick().await?;
        }
    }

    async fn send_voters(&self, pods: &[&str], voter: bool) -> Result<(), BaoError> {
        let addr = self.leader_addr().await?;
        for pod in pods {
            if voter {
                self.api.promote(&addr, pod).await?;
            } else {
                self.api.demote(&addr, pod).await?;
            }
        }
        Ok(())
    }

    /// Remove `pod` from the Raft configuration and wait until it is gone. A running
    /// removed node never learns it: it keeps answering 429 with a frozen index.
    pub async fn remove_peer(&self, pod: &str) -> Result<(), BaoError> {
        self.node(pod)?;
        let addr = self.leader_addr().await?;
        self.api.remove_peer(&addr, pod).await?;
        let wait = self.wait(
            format!("{pod} to leave the Raft configuration"),
            MEMBERSHIP_TIMEOUT,
        );
        while !self
            .raft_configuration()
            .await
            .is_ok_and(|c| c.server(pod).is_none())
        {
            wait.tick().await?;
        }
        Ok(())
    }

    /// `sys/step-down` on the active node. Returns the pod that stepped down. The same node
    /// may win the next election (README pitfall 3).
    pub async fn step_down(&self) -> Result<String, BaoError> {
        let pod = self.leader().await.ok_or(BaoError::NoLeader)?;
        let addr = self.node(&pod)?.spec.api_addr();
        self.api.step_down(&addr).await?;
        Ok(pod)
    }

    /// Wait until a leader is elected; returns it.
    pub async fn wait_leader(&self, timeout: Duration) -> Result<String, BaoError> {
        let wait = self.wait("a leader", timeout);
        loop {
            if let Some(leader) = self.leader().await {
                return Ok(leader);
            }
            wait.tick().await?;
        }
    }

    /// Wait until `pod`'s applied index reaches the leader's committed index as read at the
    /// call. Returns how long that took.
    pub async fn wait_caught_up(&self, pod: &str, timeout: Duration) -> Result<Duration, BaoError> {
        let t0 = Instant::now();
        let leader = self.wait_leader(timeout).await?;
        let target = self.leader_status(&leader).await?.raft_committed_index;
        let what = format!("{pod} to apply index {target}");
        let wait = self.wait(what, timeout.saturating_sub(t0.elapsed()));
        while !self
            .leader_status(pod)
            .await
            .is_ok_and(|s| s.raft_applied_index >= target)
        {
            wait.tick().await?;
        }
        Ok(t0.elapsed())
    }

    /// `n` KV v2 writes (`secret/data/load-<i>`) to the leader, [`WRITE_CONCURRENCY`] at a
    /// time over keep-alive connections; each write is one Raft index.
    pub async fn write_load(&self, n: usize) -> Result<WriteReport, BaoError> {
        let t0 = Instant::now();
        let run: u64 = rand::random();
        let first = self.leader_addr().await?;
        let results: Vec<Result<(), BaoError>> = stream::iter(0..n)
            .map(|i| {
                let first = first.clone();
                async move {
                    let key = format!("load-{run:x}-{i}");
                    let data = json!({ "v": i });
                    let mut addr = first;
                    let deadline = Instant::now() + WRITE_RETRY_FOR;
                    loop {
                        match self.api.kv_put(&addr, KV_MOUNT, &key, &data).await {
                            Ok(()) => return Ok(()),
                            Err(e) if Instant::now() >= deadline => return Err(e),
                            Err(_) => {}
                        }
                        tokio::time::sleep(Duration::from_millis(200)).await;
                        if let Ok(a) = self.leader_addr().await {
                            addr = a;
                        }
                    }
                }
            })
            .buffer_unordered(WRITE_CONCURRENCY)
            .collect()
            .await;
        let written = results.iter().filter(|r| r.is_ok()).count();
        if let Some(Err(e)) = results.into_iter().find(Result::is_err) {
            return Err(e);
        }
        let leader = self.leader_addr().await?;
        let committed_index = self
            .api
            .sys_leader(&leader, PROBE_TIMEOUT)
            .await?
            .raft_committed_index;
        Ok(WriteReport {
            written,
            elapsed: t0.elapsed(),
            committed_index,
        })
    }

    /// Move leadership to a node of `to` (Blue or Green), as the operator's Jobs and
    /// `move_leader` in the scenario script do:
    /// 1. promote every `to` node and wait until they are voters;
    /// 2. up to 10 rounds: if the leader is not on `to`, demote the other voters of the
    ///    leader's side, wait, step the leader down, wait up to 5 s for a new leader;
    /// 3. demote every node of the other side (the old leader included) and wait.
    ///
    /// Returns the new leader. Stopped or paused `to` nodes are still promoted (membership
    /// is the leader's business), but they cannot win.
    pub async fn transfer_leadership_to(&self, to: Side) -> Result<String, BaoError> {
        if to == Side::Other {
            return Err(BaoError::InvalidOptions(
                "leadership can move to Blue or Green only".into(),
            ));
        }
        let targets = self.pods_of(to);
        if targets.is_empty() {
            return Err(BaoError::InvalidOptions(format!("no {} pods", to.label())));
        }
        self.set_voters(&targets, true).await?;

        let mut leader = self.wait_leader(ELECTION_WAIT).await?;
        for _ in 0..TRANSFER_ROUNDS {
            if self.side(&leader) == Some(to) {
                break;
            }
            let config = self.raft_configuration().await?;
            let others: Vec<&str> = config
                .servers
                .iter()
                .filter(|s| s.voter && s.node_id != leader)
                .filter(|s| self.side(&s.node_id) != Some(to))
                .map(|s| s.node_id.as_str())
                .collect();
            self.set_voters(&others, false).await?;
            let old = self.step_down().await?;
            // The same node may win again: that is a round, not an error.
            let wait = self.wait("a new leader after step-down", STEP_DOWN_WAIT);
            let mut next = None;
            while next.is_none() {
                next = self.leader().await.filter(|l| *l != old);
                if next.is_none() && wait.tick().await.is_err() {
                    break;
                }
            }
            leader = match next {
                Some(l) => l,
                None => self.wait_leader(ELECTION_WAIT).await?,
            };
        }
        if self.side(&leader) != Some(to) {
            return Err(BaoError::WaitTimeout {
                what: format!("a {} leader after {TRANSFER_ROUNDS} rounds", to.label()),
                after: STEP_DOWN_WAIT * TRANSFER_ROUNDS as u32,
                nodes: self.describe().await,
            });
        }
        let from: Vec<&str> = self
            .pods()
            .into_iter()
            .filter(|p| self.side(p) != Some(to))
            .collect();
        let config = self.raft_configuration().await?;
        let members: Vec<&str> = from
            .into_iter()
            .filter(|p| config.server(p).is_some())
            .collect();
        self.set_voters(&members, false).await?;
        Ok(leader)
    }
}

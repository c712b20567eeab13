//! The Raft poller: each OpenBao pod's `GET /v1/sys/leader` through the API server's pod
//! proxy (`pods/proxy` get), which needs no OpenBao token and no route into the cluster.
//!
//! Every node is read concurrently with its own timeout, so one dead node never holds up
//! the others; it shows as unreachable with the reason. TLS-enabled OpenBao (the
//! operator's default) is reached as `pods/https:<pod>:8200/proxy/...`.
//!
//! The interval adapts: [`FAST_INTERVAL`] while indices or leadership move, [`QUIET_INTERVAL`]
//! after [`QUIET_ROUNDS`] rounds without change.

use std::time::Duration;

use futures::future::join_all;
use jiff::Timestamp;
use k8s_openapi::api::core::v1::Pod;
use kube::Client;
use kube::api::{Api, DynamicObject, ListParams};
use serde::Deserialize;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::connect::explain;
use super::watch::{cluster_resource, pod_selector};
use super::{SourceEvent, SourceName};
use crate::domain::{ClusterView, PodView, RaftReading, Side};

/// OpenBao's API port.
pub const API_PORT: u16 = 8200;
const NODE_TIMEOUT: Duration = Duration::from_secs(2);
/// Poll interval while the incident moves.
pub const FAST_INTERVAL: Duration = Duration::from_secs(1);
/// Poll interval when nothing changed for a while.
pub const QUIET_INTERVAL: Duration = Duration::from_secs(5);
/// Unchanged rounds before slowing down.
pub const QUIET_ROUNDS: u32 = 5;
/// The simulator's pod annotation naming what answers behind the pod proxy.
const ENDPOINTS_ANNOTATION: &str = "sim.breakglass.dev/openbao-endpoints";

/// The fields of `sys/leader` the console uses (`../shared/openbao/samples/sys-leader.*`).
#[derive(Debug, Deserialize)]
struct LeaderResponse {
    #[serde(default)]
    is_self: bool,
    #[serde(default)]
    leader_address: String,
    raft_committed_index: Option<u64>,
    raft_applied_index: Option<u64>,
}

/// Path of a pod's `sys/leader` behind the pod proxy (`https:` scheme: OpenBao serves TLS).
pub fn leader_path(namespace: &str, pod: &str) -> String {
    format!("/api/v1/namespaces/{namespace}/pods/https:{pod}:{API_PORT}/proxy/v1/sys/leader")
}

/// Whether anything the pane shows moved between two rounds (indices, leader, reachability).
pub fn moved(before: &[RaftReading], after: &[RaftReading]) -> bool {
    let same = |a: &RaftReading, b: &RaftReading| {
        (&a.pod, a.committed, a.applied, a.is_leader, a.reachable)
            == (&b.pod, b.committed, b.applied, b.is_leader, b.reachable)
    };
    before.len() != after.len() || before.iter().zip(after).any(|(a, b)| !same(a, b))
}

/// The next interval: fast while moving, quiet after `QUIET_ROUNDS` unchanged rounds.
pub fn next_interval(unchanged_rounds: u32) -> Duration {
    if unchanged_rounds >= QUIET_ROUNDS {
        QUIET_INTERVAL
    } else {
        FAST_INTERVAL
    }
}

/// Turn one node's answer (or failure) into a reading.
pub fn reading(
    pod: &str,
    side: Side,
    answer: Result<String, String>,
    at: Timestamp,
) -> RaftReading {
    let unreachable = |error: String| RaftReading {
        pod: pod.to_string(),
        side,
        committed: None,
        applied: None,
        is_leader: false,
        leader_address: None,
        reachable: false,
        sealed: error.contains("Vault is sealed"),
        endpoints: None,
        error: Some(error),
        at,
    };
    match answer {
        Err(e) => unreachable(e),
        Ok(body) => match serde_json::from_str::<LeaderResponse>(&body) {
            Ok(l) => RaftReading {
                pod: pod.to_string(),
                side,
                committed: l.raft_committed_index,
                applied: l.raft_applied_index,
                is_leader: l.is_self,
                leader_address: (!l.leader_address.is_empty()).then_some(l.leader_address),
                reachable: true,
                sealed: false,
                endpoints: None,
                error: None,
                at,
            },
            Err(e) => unreachable(format!("unexpected sys/leader answer: {e}")),
        },
    }
}

async fn read_node(client: &Client, namespace: &str, pod: &str) -> Result<String, String> {
    let request = http::Request::get(leader_path(namespace, pod))
        .body(Vec::new())
        .map_err(|e| e.to_string())?;
    match tokio::time::timeout(NODE_TIMEOUT, client.request_text(request)).await {
        Err(_) => Err(format!("no answer within {}s", NODE_TIMEOUT.as_secs())),
        Ok(Err(kube::Error::Api(s))) if s.code == 503 => Err(format!(
            "503: {}",
            if s.message.is_empty() {
                "sealed or not listening"
            } else {
                &s.message
            }
        )),
        Ok(Err(e)) => Err(explain(&e)),
        Ok(Ok(body)) => Ok(body),
    }
}

/// One round: list the pods, read every node at once.
pub async fn poll_once(
    client: &Client,
    namespace: &str,
    cluster: &str,
) -> Result<Vec<RaftReading>, kube::Error> {
    let pods: Api<Pod> = Api::namespaced(client.clone(), namespace);
    let clusters: Api<DynamicObject> =
        Api::namespaced_with(client.clone(), namespace, &cluster_resource());
    let view = clusters
        .get_opt(cluster)
        .await?
        .and_then(|o| serde_json::to_value(o).ok())
        .and_then(|v| ClusterView::from_json(&v).ok());
    let list = pods
        .list(&ListParams::default().labels(&pod_selector(cluster)))
        .await?;
    let views: Vec<(PodView, Option<String>)> = list
        .items
        .iter()
        .map(|p| {
            let endpoints = p
                .metadata
                .annotations
                .as_ref()
                .and_then(|a| a.get(ENDPOINTS_ANNOTATION))
                .cloned();
            (PodView::from_pod(p), endpoints)
        })
        .collect();
    let reads = views.iter().map(|(p, endpoints)| async {
        let answer = read_node(client, namespace, &p.name).await;
        let side = Side::of_revision(p.revision.as_deref(), view.as_ref());
        RaftReading {
            endpoints: endpoints.clone(),
            ..reading(&p.name, side, answer, Timestamp::now())
        }
    });
    let mut readings = join_all(reads).await;
    readings.sort_by(|a, b| (a.side, &a.pod).cmp(&(b.side, &b.pod)));
    Ok(readings)
}

/// Poll forever, every `interval` at most: [`FAST_INTERVAL`] (or `interval` if longer)
/// while something moves, [`QUIET_INTERVAL`] when quiet.
pub fn spawn(
    client: Client,
    namespace: String,
    cluster: String,
    interval: Duration,
    tx: mpsc::Sender<SourceEvent>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut failing = false;
        let mut last: Vec<RaftReading> = Vec::new();
        let mut unchanged: u32 = 0;
        loop {
            let mut sleep = interval.max(QUIET_INTERVAL);
            let event = match poll_once(&client, &namespace, &cluster).await {
                Ok(readings) => {
                    unchanged = if moved(&last, &readings) {
                        0
                    } else {
                        unchanged.saturating_add(1)
                    };
                    sleep = next_interval(unchanged).max(interval.min(QUIET_INTERVAL));
                    last.clone_from(&readings);
                    if failing {
                        failing = false;
                        if tx
                            .send(SourceEvent::Recovered {
                                source: SourceName::Raft,
                            })
                            .await
                            .is_err()
                        {
                            return;
                        }
                    }
                    SourceEvent::Raft(readings)
                }
                Err(e) => {
                    failing = true;
                    SourceEvent::Problem {
                        source: SourceName::Raft,
                        message: explain(&e),
                    }
                }
            };
            if tx.send(event).await.is_err() {
                return;
            }
            tokio::time::sleep(sleep).await;
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_real_sys_leader_shape() {
        // ../shared/openbao/samples/sys-leader.active.200.json
        let body = r#"{"ha_enabled":true,"is_self":true,"active_time":"2026-01-01T00:00:00Z","leader_address":"http://127.0.0.1:18200","leader_cluster_address":"https://127.0.0.1:18201","performance_standby":false,"performance_standby_last_remote_wal":0,"raft_committed_index":2040,"raft_applied_index":2040}"#;
        let r = reading(
            "prod-cluster-e8983038c519c718-0",
            Side::Blue,
            Ok(body.into()),
            Timestamp::UNIX_EPOCH,
        );
        assert!(r.reachable && r.is_leader);
        assert_eq!((r.committed, r.applied), (Some(2040), Some(2040)));
    }

    #[test]
    fn polling_slows_down_only_after_quiet_rounds() {
        let at = Timestamp::UNIX_EPOCH;
        let a = vec![reading(
            "p",
            Side::Blue,
            Ok(r#"{"raft_committed_index":5,"raft_applied_index":5}"#.into()),
            at,
        )];
        let b = vec![reading(
            "p",
            Side::Blue,
            Ok(r#"{"raft_committed_index":6,"raft_applied_index":6}"#.into()),
            at,
        )];
        assert!(moved(&a, &b) && !moved(&a, &a) && moved(&[], &a));
        assert_eq!(next_interval(0), FAST_INTERVAL);
        assert_eq!(next_interval(QUIET_ROUNDS), QUIET_INTERVAL);
        assert!(leader_path("ns", "p").contains("/pods/https:p:8200/proxy/"));
    }

    #[test]
    fn a_failed_read_is_unreachable_with_the_reason() {
        let r = reading(
            "p",
            Side::Green,
            Err("no answer within 2s".into()),
            Timestamp::UNIX_EPOCH,
        );
        assert!(!r.reachable);
        assert_eq!(r.error.as_deref(), Some("no answer within 2s"));
        let r = reading("p", Side::Green, Ok("<html>".into()), Timestamp::UNIX_EPOCH);
        assert!(!r.reachable);
    }
}

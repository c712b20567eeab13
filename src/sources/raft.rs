//! The Raft poller: each OpenBao pod's `GET /v1/sys/leader` through the API server's pod
//! proxy (`pods/proxy` get), which needs no OpenBao token and no route into the cluster, or
//! directly (`openbao_http::Route::Direct`).
//!
//! With a token it also reads, from the leader (else any reachable node),
//! `sys/storage/raft/configuration` (voters) and `sys/storage/raft/autopilot/state`
//! (per-server health, failure tolerance) into a [`Membership`]; without one that is
//! [`Membership::NeedsToken`], and a refused token is [`Membership::Rejected`].
//!
//! When every node's pod proxy answer is the API server's 403, the poller falls back to
//! port-forward (`pods/portforward` create) for the rest of the session, and the snapshot
//! says so ([`VIA_PORT_FORWARD`]); with both forbidden it names both ([`BOTH_FORBIDDEN`]).
//!
//! Every node is read concurrently with its own timeout, so one dead node never holds up
//! the others; it shows as unreachable with the reason. TLS-enabled OpenBao (the
//! operator's default) is reached as `pods/https:<pod>:8200/proxy/...`.
//!
//! The interval adapts: [`FAST_INTERVAL`] while indices or leadership move, [`QUIET_INTERVAL`]
//! after [`QUIET_ROUNDS`] rounds without change.

use std::collections::BTreeMap;
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
use super::openbao_http::{Answer, NodeAccess, Route};
use super::watch::{cluster_resource, pod_selector};
use super::{SourceEvent, SourceName};
use crate::domain::raft_members::{Member, PeerHealth, RaftMembers, parse_go_duration_ms, voters};
use crate::domain::{ClusterView, Membership, PodView, RaftReading, RaftSnapshot, Side};
/// Poll interval while the incident moves.
pub(crate) const FAST_INTERVAL: Duration = Duration::from_secs(1);
/// Poll interval when nothing changed for a while.
pub(crate) const QUIET_INTERVAL: Duration = Duration::from_secs(5);
/// Unchanged rounds before slowing down.
pub(crate) const QUIET_ROUNDS: u32 = 5;
/// The simulator's pod annotation naming what answers behind the pod proxy.
const ENDPOINTS_ANNOTATION: &str = "sim.breakglass.dev/openbao-endpoints";

/// The fields of `sys/leader` the console uses (OpenBao 2.7's recorded `sys/leader` answers).
#[derive(Debug, Deserialize)]
struct LeaderResponse {
    #[serde(default)]
    is_self: bool,
    #[serde(default)]
    leader_address: String,
    raft_committed_index: Option<u64>,
    raft_applied_index: Option<u64>,
}

/// The snapshot's route note after the fallback.
pub const VIA_PORT_FORWARD: &str = "via port-forward (pods/proxy forbidden)";
/// The snapshot's route note when neither route is allowed.
pub const BOTH_FORBIDDEN: &str = "pods/proxy and pods/portforward forbidden: \
                                  needs get pods/proxy or create pods/portforward";

const LEADER: &str = "v1/sys/leader";
const CONFIGURATION: &str = "v1/sys/storage/raft/configuration";
const AUTOPILOT: &str = "v1/sys/storage/raft/autopilot/state";

/// Whether anything the pane shows moved between two rounds (indices, leader, reachability).
pub fn moved(before: &[RaftReading], after: &[RaftReading]) -> bool {
    let same = |a: &RaftReading, b: &RaftReading| {
        (&a.pod, a.committed, a.applied, a.is_leader, a.reachable)
            == (&b.pod, b.committed, b.applied, b.is_leader, b.reachable)
    };
    before.len() != after.len() || before.iter().zip(after).any(|(a, b)| !same(a, b))
}

/// The next interval: fast while moving, quiet after `QUIET_ROUNDS` unchanged rounds.
pub(crate) fn next_interval(unchanged_rounds: u32) -> Duration {
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
    answer: Result<Answer, String>,
    at: Timestamp,
) -> RaftReading {
    let unreachable = |error: String, sealed: bool| RaftReading {
        pod: pod.to_string(),
        side,
        committed: None,
        applied: None,
        is_leader: false,
        leader_address: None,
        reachable: false,
        sealed,
        endpoints: None,
        error: Some(error),
        at,
    };
    let answer = match answer {
        Err(e) => return unreachable(e, false),
        Ok(a) if a.is_sealed() => return unreachable(a.reason(), true),
        Ok(a) if !a.is_success() => return unreachable(a.reason(), false),
        Ok(a) => a,
    };
    match serde_json::from_str::<LeaderResponse>(&answer.body) {
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
        Err(e) => unreachable(format!("unexpected sys/leader answer: {e}"), false),
    }
}

#[derive(Deserialize)]
struct Envelope<T> {
    data: T,
}

#[derive(Deserialize)]
struct ConfigData {
    config: ConfigServers,
}

#[derive(Deserialize)]
struct ConfigServers {
    servers: Vec<ConfigServer>,
}

#[derive(Deserialize)]
struct ConfigServer {
    node_id: String,
    #[serde(default)]
    leader: bool,
    #[serde(default)]
    voter: bool,
}

#[derive(Deserialize)]
struct AutopilotData {
    failure_tolerance: Option<u32>,
    healthy: Option<bool>,
    #[serde(default)]
    servers: BTreeMap<String, AutopilotServer>,
}

#[derive(Deserialize)]
struct AutopilotServer {
    #[serde(default)]
    id: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    healthy: bool,
    #[serde(default)]
    last_index: u64,
    #[serde(default)]
    last_term: u64,
    #[serde(default)]
    last_contact: String,
}

/// OpenBao refused the token (403 with `{"errors":[...]}`, not the API server's RBAC 403).
fn rejected(a: &Answer) -> bool {
    a.status == 403 && a.kube_status().is_none()
}

/// Turn the token-gated answers of one node into the membership.
pub fn membership(
    from: &str,
    configuration: Result<Answer, String>,
    autopilot: Result<Answer, String>,
) -> Membership {
    let config = match configuration {
        Err(e) => return Membership::Unavailable(format!("raft configuration: {e}")),
        Ok(a) if rejected(&a) => return Membership::Rejected,
        Ok(a) if !a.is_success() => {
            return Membership::Unavailable(format!("raft configuration: {}", a.reason()));
        }
        Ok(a) => match serde_json::from_str::<Envelope<ConfigData>>(&a.body) {
            Ok(c) => c.data.config.servers,
            Err(e) => {
                return Membership::Unavailable(format!("unexpected raft configuration: {e}"));
            }
        },
    };
    // A 404 means "autopilot not available" (the operator's `internal/constants/api.go` client treats it so): the configuration still counts.
    let autopilot = match autopilot {
        Ok(a) if rejected(&a) => return Membership::Rejected,
        Ok(a) if a.is_success() => serde_json::from_str::<Envelope<AutopilotData>>(&a.body)
            .ok()
            .map(|e| e.data),
        _ => None,
    };
    let health = |id: &str| {
        let s = autopilot.as_ref()?.servers.values().find(|s| s.id == id)?;
        Some(PeerHealth {
            status: s.status.clone(),
            healthy: s.healthy,
            last_index: s.last_index,
            last_term: s.last_term,
            last_contact_ms: parse_go_duration_ms(&s.last_contact),
        })
    };
    Membership::Known(RaftMembers {
        servers: config
            .into_iter()
            .map(|s| Member {
                health: health(&s.node_id),
                node_id: s.node_id,
                voter: s.voter,
                leader: s.leader,
            })
            .collect(),
        failure_tolerance: autopilot.as_ref().and_then(|a| a.failure_tolerance),
        healthy: autopilot.as_ref().and_then(|a| a.healthy),
        read_from: from.to_string(),
    })
}

/// Nodes asked for the membership in one round at most (each try is bounded by
/// `openbao_http::NODE_TIMEOUT`, so a round never waits more than a few timeouts for it).
const MEMBERSHIP_TRIES: usize = 3;

/// Who to ask for the membership: the leader first, then other reachable nodes (a standby
/// forwards to the active node).
fn membership_candidates(readings: &[RaftReading]) -> Vec<&str> {
    let mut reachable: Vec<&RaftReading> = readings.iter().filter(|r| r.reachable).collect();
    reachable.sort_by_key(|r| !r.is_leader);
    reachable
        .into_iter()
        .take(MEMBERSHIP_TRIES)
        .map(|r| r.pod.as_str())
        .collect()
}

async fn read_membership(
    client: &Client,
    access: &NodeAccess,
    namespace: &str,
    cluster: &str,
    readings: &[RaftReading],
) -> Membership {
    if access.token.is_none() {
        return Membership::NeedsToken;
    }
    let mut last = Membership::Unavailable("no node answers".into());
    for pod in membership_candidates(readings) {
        let (configuration, autopilot) = futures::join!(
            access.get(client, namespace, cluster, pod, CONFIGURATION, true),
            access.get(client, namespace, cluster, pod, AUTOPILOT, true),
        );
        last = membership(pod, configuration, autopilot);
        if !matches!(last, Membership::Unavailable(_)) {
            break;
        }
    }
    last
}

/// One round through the pod proxy without a token (the indices only).
pub async fn poll_once(
    client: &Client,
    namespace: &str,
    cluster: &str,
) -> Result<Vec<RaftReading>, kube::Error> {
    Ok(poll(client, &NodeAccess::default(), namespace, cluster)
        .await?
        .readings)
}

/// One round (see [`poll_switching`]); a fallback to port-forward lasts this round only.
pub async fn poll(
    client: &Client,
    access: &NodeAccess,
    namespace: &str,
    cluster: &str,
) -> Result<RaftSnapshot, kube::Error> {
    poll_switching(client, &mut access.clone(), namespace, cluster).await
}

/// One round. When the pod proxy is forbidden for every node, `access` switches to
/// port-forward (kept for later rounds) if that is allowed; the snapshot's `route` says so.
pub async fn poll_switching(
    client: &Client,
    access: &mut NodeAccess,
    namespace: &str,
    cluster: &str,
) -> Result<RaftSnapshot, kube::Error> {
    let (mut snapshot, forbidden) = round(client, access, namespace, cluster).await?;
    if !forbidden || !matches!(access.route, Route::PodProxy) {
        if matches!(access.route, Route::PortForward(_)) {
            snapshot.route = Some(VIA_PORT_FORWARD.into());
        }
        return Ok(snapshot);
    }
    let forward = match access.port_forward(client, namespace, cluster).await {
        Ok(f) => f,
        Err(e) => {
            snapshot.route = Some(format!("pods/proxy forbidden; port-forward: {e}"));
            return Ok(snapshot);
        }
    };
    let (fallback, still_forbidden) = round(client, &forward, namespace, cluster).await?;
    if still_forbidden {
        snapshot.route = Some(BOTH_FORBIDDEN.into());
        return Ok(snapshot);
    }
    *access = forward;
    Ok(RaftSnapshot {
        route: Some(VIA_PORT_FORWARD.into()),
        ..fallback
    })
}

/// List the pods, read every node at once, then (with a token) the membership. Also
/// whether the API server refused every node's read (RBAC 403).
async fn round(
    client: &Client,
    access: &NodeAccess,
    namespace: &str,
    cluster: &str,
) -> Result<(RaftSnapshot, bool), kube::Error> {
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
        let answer = access
            .get(client, namespace, cluster, &p.name, LEADER, false)
            .await;
        let forbidden = answer.as_ref().is_ok_and(Answer::is_forbidden);
        let side = Side::of_revision(p.revision.as_deref(), view.as_ref());
        let reading = RaftReading {
            endpoints: endpoints.clone(),
            ..reading(&p.name, side, answer, Timestamp::now())
        };
        (reading, forbidden)
    });
    let (mut readings, forbidden): (Vec<RaftReading>, Vec<bool>) =
        join_all(reads).await.into_iter().unzip();
    let all_forbidden = !forbidden.is_empty() && forbidden.iter().all(|f| *f);
    readings.sort_by(|a, b| (a.side, &a.pod).cmp(&(b.side, &b.pod)));
    let members = read_membership(client, access, namespace, cluster, &readings).await;
    let snapshot = RaftSnapshot {
        readings,
        members,
        route: None,
    };
    Ok((snapshot, all_forbidden))
}

/// Poll forever, every `interval` at most: [`FAST_INTERVAL`] (or `interval` if longer)
/// while something moves, [`QUIET_INTERVAL`] when quiet.
pub fn spawn(
    client: Client,
    access: NodeAccess,
    namespace: String,
    cluster: String,
    interval: Duration,
    tx: mpsc::Sender<SourceEvent>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut failing = false;
        let mut last: Vec<RaftReading> = Vec::new();
        let mut last_voters: Option<Vec<String>> = None;
        let mut unchanged: u32 = 0;
        let mut access = access;
        loop {
            access.refresh_token();
            let mut sleep = interval.max(QUIET_INTERVAL);
            let event = match poll_switching(&client, &mut access, &namespace, &cluster).await {
                Ok(snapshot) => {
                    let readings = &snapshot.readings;
                    // A voter swap is movement too (autopilot's contact times are not).
                    let voters = voters(&snapshot.members)
                        .map(|v| v.into_iter().map(String::from).collect::<Vec<_>>());
                    unchanged = if moved(&last, readings) || voters != last_voters {
                        0
                    } else {
                        unchanged.saturating_add(1)
                    };
                    sleep = next_interval(unchanged).max(interval.min(QUIET_INTERVAL));
                    last.clone_from(readings);
                    last_voters = voters;
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
                    SourceEvent::Raft(snapshot)
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
#[path = "raft_tests.rs"]
mod tests;

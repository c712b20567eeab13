//! Simulated OpenBao nodes behind the API server's pod proxy (port 8200): a Raft model per
//! pod (committed/applied index, leader, sealed, reachable), advanced by the twin's ticker,
//! answering the unauthenticated `GET /v1/sys/leader` and `/v1/sys/health` in the real JSON
//! shapes and status codes (OpenBao 2.7's recorded answers).
//!
//! Blue and Green are one Raft cluster (dc-tec/openbao-operator@002fbdd `runBlueGreenWaitGreenSynced` and `internal/raft/autopilot.go`): one leader, followers that
//! trail it, or (stalled Blue in `persistent`) stop replicating. The twin changes the model
//! as the incident unfolds (Blue catches up and takes leadership after a successful repair,
//! Green nodes disappear when their pods are deleted); the console's Raft poller reads it.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use jiff::Timestamp;
use serde_json::Value;

use super::openbao::{PodProxy, ProxyFuture, ProxyResponse};
use super::scenario::{Scenario, Topology, leader_of};
use crate::domain::token::OpenBaoToken;

mod members;

pub(crate) const API_PORT: u16 = 8200;

#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub blue: bool,
    pub version: String,
    /// Committed index (fractional so slow write rates still advance).
    pub index: f64,
    pub applied: f64,
    pub sealed: bool,
    /// false: nothing listens (crash-looping container, deleted pod).
    pub reachable: bool,
    /// None: not replicating (index frozen). Some(k): trails the leader by at most k.
    pub max_lag: Option<f64>,
    /// When this node last became active (only meaningful on the leader).
    pub active_since: Option<Timestamp>,
    /// A voter in the Raft configuration (the leader's side; see [`RaftModel::elect`]).
    pub voter: bool,
    /// In the Raft configuration. A deleted pod stays a (dead) member until someone removes
    /// its peer; a removed peer's process may still run.
    pub member: bool,
}

/// All simulated nodes of one cluster.
#[derive(Debug, Clone)]
pub struct RaftModel {
    pub namespace: String,
    pub cluster: String,
    pub nodes: BTreeMap<String, Node>,
    pub leader: Option<String>,
    pub writes_per_s: f64,
    pub catchup_per_s: f64,
    cluster_name: String,
    cluster_id: String,
    /// The simulated root token: the token-gated endpoints answer only to it.
    root_token: OpenBaoToken,
}

impl RaftModel {
    pub fn new(s: &Scenario, topo: &Topology) -> RaftModel {
        let (leader_blue, leader_ord) = leader_of(&s.raft.leader, s.replicas).unwrap_or((true, 0));
        let green_index = s.raft.green_index as f64;
        let blue_index = green_index - s.raft.blue_lag as f64;
        let removed: Vec<(bool, i32)> = s
            .raft
            .removed
            .iter()
            .filter_map(|r| leader_of(r, s.replicas).ok())
            .collect();
        let mut nodes = BTreeMap::new();
        for blue in [true, false] {
            for n in 0..s.replicas {
                let crash = !blue && s.green.crashloop;
                let index = if blue { blue_index } else { green_index };
                let max_lag = if blue && !leader_blue {
                    s.raft.blue_replicating.then_some(s.raft.blue_lag as f64)
                } else {
                    Some(0.0)
                };
                nodes.insert(
                    topo.pod(blue, n),
                    Node {
                        blue,
                        version: if blue {
                            topo.blue_version.clone()
                        } else {
                            topo.green_version.clone()
                        },
                        index,
                        applied: index,
                        sealed: crash,
                        reachable: !crash,
                        max_lag: if crash { None } else { max_lag },
                        active_since: None,
                        // Voters are on the leader's side (Green after the promotion,
                        // Blue again once the repair enforced it).
                        voter: blue == leader_blue && !removed.contains(&(blue, n)),
                        member: !removed.contains(&(blue, n)),
                    },
                );
            }
        }
        let leader = topo.pod(leader_blue, leader_ord);
        if let Some(n) = nodes.get_mut(&leader) {
            n.active_since = Some(Timestamp::now());
            n.max_lag = Some(0.0);
        }
        let seed = crate::domain::naming::revision(&topo.cluster, &topo.namespace, 0);
        RaftModel {
            namespace: topo.namespace.clone(),
            cluster: topo.cluster.clone(),
            nodes,
            leader: Some(leader),
            writes_per_s: s.raft.writes_per_s,
            catchup_per_s: s.raft.catchup_per_s,
            cluster_name: format!("vault-cluster-{}", &seed[..8]),
            cluster_id: format!(
                "{}-{}-{}-{}-{}",
                &seed[..8],
                &seed[8..12],
                &seed[12..16],
                &seed[..4],
                &seed[4..16]
            ),
            root_token: OpenBaoToken::random(),
        }
    }

    fn leader_index(&self) -> f64 {
        self.leader
            .as_ref()
            .and_then(|l| self.nodes.get(l))
            .map(|n| n.index)
            .unwrap_or(0.0)
    }

    /// Advance simulated time by `dt`: the leader takes writes, followers replicate.
    pub fn tick(&mut self, dt: Duration) {
        let secs = dt.as_secs_f64();
        let leader = self.leader.clone();
        let Some(l) = leader.as_ref().and_then(|l| self.nodes.get_mut(l)) else {
            return;
        };
        l.index += self.writes_per_s * secs;
        l.applied = l.index;
        let top = l.index;
        for (name, n) in &mut self.nodes {
            if Some(name) == leader.as_ref() || !n.reachable || n.sealed {
                continue;
            }
            if let Some(max_lag) = n.max_lag {
                let target = top - max_lag;
                if n.index < target {
                    n.index = (n.index + self.catchup_per_s * secs).min(target);
                }
                n.applied = n.index;
            }
        }
    }

    /// Let the Blue nodes replicate fully again (after a successful consensus repair).
    pub(crate) fn release_blue(&mut self) {
        for n in self.nodes.values_mut().filter(|n| n.blue && n.reachable) {
            n.max_lag = Some(0.0);
        }
    }

    /// The Blue node with the highest index, once every reachable Blue node is within
    /// `tolerance` entries of the leader.
    pub(crate) fn blue_caught_up(&self, tolerance: f64) -> Option<String> {
        let top = self.leader_index();
        let blue: Vec<_> = self
            .nodes
            .iter()
            .filter(|(_, n)| n.blue && n.reachable)
            .collect();
        if blue.is_empty() || blue.iter().any(|(_, n)| top - n.index > tolerance) {
            return None;
        }
        blue.iter()
            .max_by(|a, b| a.1.index.total_cmp(&b.1.index).then(b.0.cmp(a.0)))
            .map(|(name, _)| (*name).clone())
    }

    /// The simulated root token (the demo hands it to its console).
    pub fn root_token(&self) -> &OpenBaoToken {
        &self.root_token
    }

    /// An election: `pod` becomes the leader (it already has every committed entry), and
    /// its side holds the voters (the repair makes Blue voters and Green non-voters).
    pub fn elect(&mut self, pod: &str) {
        let top = self.leader_index();
        if let Some(blue) = self.nodes.get(pod).map(|n| n.blue) {
            for n in self.nodes.values_mut() {
                n.voter = n.member && n.blue == blue;
            }
        }
        if let Some(n) = self.nodes.get_mut(pod) {
            n.index = n.index.max(top);
            n.applied = n.index;
            n.max_lag = Some(0.0);
            n.active_since = Some(Timestamp::now());
            self.leader = Some(pod.to_string());
        }
    }

    /// The pod is gone: nothing listens there any more. Its peer stays in the Raft
    /// configuration, dead, until someone removes it (deleting a StatefulSet removes no peer).
    pub fn remove(&mut self, pod: &str) {
        if let Some(n) = self.nodes.get_mut(pod) {
            n.reachable = false;
            n.max_lag = None;
            n.active_since = None;
            if !n.member {
                self.nodes.remove(pod);
            }
        }
        if self.leader.as_deref() == Some(pod) {
            self.leader = None;
        }
    }

    /// `sys/storage/raft/remove-peer`: the peer leaves the configuration. A node whose pod
    /// is gone disappears; a running one keeps answering. The leader asked to remove itself
    /// stays, leading (measured with real `bao` 2.7.2: `tests/console/raft_real_cleanup.rs`). Returns
    /// whether it left.
    pub fn remove_peer(&mut self, pod: &str) -> bool {
        if self.leader.as_deref() == Some(pod) {
            return false;
        }
        let Some(n) = self.nodes.get_mut(pod) else {
            return false;
        };
        let was = n.member;
        n.member = false;
        n.voter = false;
        if !n.reachable {
            self.nodes.remove(pod);
        }
        was
    }

    /// The members of the Raft configuration on one side, in pod order.
    pub fn members(&self, blue: bool) -> Vec<String> {
        self.nodes
            .iter()
            .filter(|(_, n)| n.member && n.blue == blue)
            .map(|(p, _)| p.clone())
            .collect()
    }

    pub fn is_leader(&self, pod: &str) -> bool {
        self.leader.as_deref() == Some(pod)
    }

    fn addr(&self, pod: &str, port: u16) -> String {
        format!(
            "https://{pod}.{}.{}.svc:{port}",
            self.cluster, self.namespace
        )
    }

    /// The answer of `pod` to `GET <path>` on port 8200 without a token; None when nothing
    /// listens.
    pub fn answer(&self, pod: &str, path: &str) -> Option<ProxyResponse> {
        self.answer_with(pod, path, None)
    }

    /// [`RaftModel::answer`] with the request's `X-Vault-Token`.
    pub(crate) fn answer_with(
        &self,
        pod: &str,
        path: &str,
        token: Option<&str>,
    ) -> Option<ProxyResponse> {
        let node = self.nodes.get(pod).filter(|n| n.reachable)?;
        let (route, query) = path.split_once('?').unwrap_or((path, ""));
        let route = format!("/{}", route.trim_start_matches('/'));
        Some(match route.as_str() {
            "/v1/sys/leader" => self.sys_leader(pod, node),
            "/v1/sys/health" => self.sys_health(pod, node, query),
            _ if node.sealed => sealed(),
            other => self.members_answer(other, token).unwrap_or_else(|| {
                json_response(403, r#"{"errors":["permission denied"]}"#.to_string())
            }),
        })
    }

    fn sys_leader(&self, pod: &str, node: &Node) -> ProxyResponse {
        if node.sealed {
            return sealed();
        }
        let mut fields = vec![
            ("ha_enabled", "true".to_string()),
            ("is_self", self.is_leader(pod).to_string()),
        ];
        if self.is_leader(pod)
            && let Some(t) = node.active_since
        {
            fields.push(("active_time", quote(&t.to_string())));
        }
        let (leader, cluster) = match &self.leader {
            Some(l) => (self.addr(l, 8200), self.addr(l, 8201)),
            None => (String::new(), String::new()),
        };
        fields.push(("leader_address", quote(&leader)));
        fields.push(("leader_cluster_address", quote(&cluster)));
        fields.push((
            "raft_committed_index",
            format!("{}", node.index.floor() as u64),
        ));
        fields.push((
            "raft_applied_index",
            format!("{}", node.applied.floor() as u64),
        ));
        json_response(200, object(&fields))
    }

    fn sys_health(&self, pod: &str, node: &Node, query: &str) -> ProxyResponse {
        let standby = !self.is_leader(pod);
        let now = Timestamp::now().as_second().to_string();
        let mut fields = vec![
            ("initialized", "true".to_string()),
            ("sealed", node.sealed.to_string()),
            ("standby", (standby || node.sealed).to_string()),
        ];
        if node.sealed {
            fields.push(("replication_performance_mode", quote("unknown")));
            fields.push(("replication_dr_mode", quote("unknown")));
            fields.push(("server_time_utc", now));
            fields.push(("version", quote(&node.version)));
            return json_response(503, object(&fields));
        }
        fields.push(("replication_performance_mode", quote("primary")));
        fields.push(("replication_dr_mode", quote("disabled")));
        fields.push(("server_time_utc", now));
        fields.push(("version", quote(&node.version)));
        fields.push(("cluster_name", quote(&self.cluster_name)));
        fields.push(("cluster_id", quote(&self.cluster_id)));
        let standby_ok = query
            .split('&')
            .any(|kv| kv == "standbyok=true" || kv == "standbyok");
        let code = if !standby || standby_ok { 200 } else { 429 };
        json_response(code, object(&fields))
    }
}

fn sealed() -> ProxyResponse {
    json_response(503, r#"{"errors":["Vault is sealed"]}"#.to_string())
}

fn quote(s: &str) -> String {
    Value::String(s.to_string()).to_string()
}

/// OpenBao's field order, which a sorted JSON map would lose.
fn object(fields: &[(&str, String)]) -> String {
    let body: Vec<String> = fields
        .iter()
        .map(|(k, v)| format!("{}:{v}", quote(k)))
        .collect();
    format!("{{{}}}\n", body.join(","))
}

fn json_response(status: u16, body: String) -> ProxyResponse {
    ProxyResponse {
        status,
        content_type: "application/json".to_string(),
        body,
    }
}

/// The [`PodProxy`] the API server calls: the shared model, read under a short lock.
#[derive(Clone)]
pub struct SimOpenBao {
    model: Arc<Mutex<RaftModel>>,
}

impl SimOpenBao {
    pub fn new(model: RaftModel) -> SimOpenBao {
        SimOpenBao {
            model: Arc::new(Mutex::new(model)),
        }
    }

    /// The model, for the twin's ticker and transitions.
    pub fn model(&self) -> MutexGuard<'_, RaftModel> {
        // Every mutation is a plain field update, so a poisoned lock still holds usable data.
        self.model.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl PodProxy for SimOpenBao {
    fn get<'a>(
        &'a self,
        namespace: &'a str,
        pod: &'a str,
        port: u16,
        path: &'a str,
        token: Option<&'a str>,
    ) -> ProxyFuture<'a> {
        Box::pin(async move {
            if port != API_PORT {
                return None;
            }
            let model = self.model();
            if model.namespace != namespace {
                return None;
            }
            model.answer_with(pod, path, token)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model(name: &str) -> (RaftModel, Topology) {
        let s = Scenario::named(name).unwrap();
        let t = Topology::of(&s);
        (RaftModel::new(&s, &t), t)
    }

    fn body(r: &ProxyResponse) -> Value {
        serde_json::from_str(&r.body).unwrap()
    }

    #[test]
    fn leader_and_standby_answer_like_the_samples() {
        let (m, t) = model("transient");
        let leader = t.pod(false, 0);
        let l = m.answer(&leader, "v1/sys/leader").unwrap();
        assert_eq!(l.status, 200);
        assert!(
            l.body
                .starts_with(r#"{"ha_enabled":true,"is_self":true,"active_time":"#),
            "{}",
            l.body
        );
        let lb = body(&l);
        assert_eq!(
            lb["leader_address"],
            format!("https://{leader}.prod-cluster.security.svc:8200")
        );
        let s = m.answer(&t.pod(true, 1), "/v1/sys/leader").unwrap();
        let sb = body(&s);
        assert_eq!(sb["is_self"], false);
        assert!(sb.get("active_time").is_none());
        let lag = lb["raft_committed_index"].as_u64().unwrap()
            - sb["raft_committed_index"].as_u64().unwrap();
        assert_eq!(lag, 37);
        assert_eq!(m.answer(&leader, "/v1/sys/health").unwrap().status, 200);
        assert_eq!(
            m.answer(&t.pod(true, 1), "/v1/sys/health").unwrap().status,
            429
        );
        assert_eq!(
            m.answer(&t.pod(true, 1), "/v1/sys/health?standbyok=true")
                .unwrap()
                .status,
            200
        );
        let h = body(&m.answer(&t.pod(true, 1), "/v1/sys/health").unwrap());
        assert_eq!(h["version"], "2.4.3");
        assert_eq!(h["standby"], true);
        assert_eq!(
            m.answer(&leader, "/v1/sys/storage/raft/configuration")
                .unwrap()
                .status,
            403
        );
        assert!(m.answer("prod-cluster-0", "/v1/sys/leader").is_none());
    }

    #[test]
    fn crashlooping_green_has_nothing_listening() {
        let (m, t) = model("green-crashloop");
        assert!(m.answer(&t.pod(false, 0), "/v1/sys/leader").is_none());
        assert_eq!(
            m.answer(&t.pod(true, 0), "/v1/sys/health").unwrap().status,
            200
        );
    }

    #[test]
    fn sealed_nodes_answer_503() {
        let (mut m, t) = model("transient");
        let p = t.pod(true, 2);
        if let Some(n) = m.nodes.get_mut(&p) {
            n.sealed = true;
        }
        let l = m.answer(&p, "/v1/sys/leader").unwrap();
        assert_eq!(
            (l.status, body(&l)),
            (503, serde_json::json!({"errors": ["Vault is sealed"]}))
        );
        let h = m.answer(&p, "/v1/sys/health").unwrap();
        assert_eq!(h.status, 503);
        assert!(body(&h).get("cluster_name").is_none());
    }

    #[test]
    fn stalled_blue_falls_further_behind_until_released() {
        let (mut m, t) = model("persistent");
        let idx = |m: &RaftModel, p: &str| m.nodes[p].index;
        let (b, g) = (t.pod(true, 0), t.pod(false, 1));
        let lag0 = idx(&m, &g) - idx(&m, &b);
        assert_eq!(lag0, 3000.0);
        m.tick(Duration::from_secs(10));
        assert!(idx(&m, &g) - idx(&m, &b) > lag0);
        assert_eq!(m.blue_caught_up(1.0), None);
        m.release_blue();
        for _ in 0..20 {
            m.tick(Duration::from_millis(250));
        }
        let blue = m.blue_caught_up(1.0).unwrap();
        m.elect(&blue);
        assert!(m.is_leader(&blue));
        assert_eq!(
            body(&m.answer(&blue, "/v1/sys/leader").unwrap())["is_self"],
            true
        );
        assert_eq!(
            body(&m.answer(&g, "/v1/sys/leader").unwrap())["is_self"],
            false
        );
        m.remove(&g);
        assert!(m.answer(&g, "/v1/sys/leader").is_none());
    }

    #[tokio::test]
    async fn the_proxy_only_serves_port_8200_in_its_namespace() {
        let (m, t) = model("transient");
        let p = SimOpenBao::new(m);
        let pod = t.pod(true, 0);
        assert!(
            p.get("security", &pod, 8200, "/v1/sys/leader", None)
                .await
                .is_some()
        );
        assert!(
            p.get("security", &pod, 8201, "/v1/sys/leader", None)
                .await
                .is_none()
        );
        assert!(
            p.get("default", &pod, 8200, "/v1/sys/leader", None)
                .await
                .is_none()
        );
    }
}

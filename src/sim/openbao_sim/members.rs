//! The simulated nodes' token-gated answers: `GET /v1/sys/storage/raft/configuration` and
//! `/v1/sys/storage/raft/autopilot/state` in the real JSON shapes
//! (`tests/fixtures/openbao/raft-configuration.200.json`, `raft-autopilot-state.*.json`),
//! only for the simulated root token; any other token (or none) gets OpenBao's 403.

use serde_json::{Value, json};

use super::{Node, RaftModel, json_response};
use crate::sim::openbao::ProxyResponse;

const DENIED: &str = r#"{"errors":["permission denied"]}"#;

/// OpenBao's response envelope around `data`.
fn envelope(data: Value) -> String {
    let mut body = json!({
        "request_id": "00000000-0000-0000-0000-000000000000",
        "lease_id": "",
        "renewable": false,
        "lease_duration": 0,
        "data": data,
        "wrap_info": null,
        "warnings": null,
        "auth": null,
    })
    .to_string();
    body.push('\n');
    body
}

impl RaftModel {
    /// The token-gated routes; None for any other path.
    pub(super) fn members_answer(&self, route: &str, token: Option<&str>) -> Option<ProxyResponse> {
        let data = match route {
            "/v1/sys/storage/raft/configuration" => self.configuration(),
            "/v1/sys/storage/raft/autopilot/state" => self.autopilot(),
            _ => return None,
        };
        Some(if token == Some(self.root_token.expose()) {
            json_response(200, envelope(data))
        } else {
            json_response(403, DENIED.to_string())
        })
    }

    fn cluster_addr(&self, pod: &str) -> String {
        format!("{pod}.{}.{}.svc:8201", self.cluster, self.namespace)
    }

    fn configuration(&self) -> Value {
        let servers: Vec<Value> = self
            .nodes
            .iter()
            .filter(|(_, n)| n.member)
            .map(|(pod, n)| {
                json!({
                    "node_id": pod,
                    "address": self.cluster_addr(pod),
                    "leader": self.is_leader(pod),
                    "protocol_version": "3",
                    "voter": n.voter,
                })
            })
            .collect();
        json!({ "config": { "servers": servers, "index": 0 } })
    }

    fn alive(n: &Node) -> bool {
        n.reachable && !n.sealed
    }

    /// Healthy voters beyond a quorum of the voters, as autopilot computes it.
    fn failure_tolerance(&self) -> usize {
        let voters: Vec<&Node> = self
            .nodes
            .values()
            .filter(|n| n.member && n.voter)
            .collect();
        let healthy = voters.iter().filter(|n| Self::alive(n)).count();
        healthy.saturating_sub(voters.len() / 2 + 1)
    }

    fn autopilot(&self) -> Value {
        let top = self.leader_index();
        let mut servers = serde_json::Map::new();
        for (pod, n) in self.nodes.iter().filter(|(_, n)| n.member) {
            let alive = Self::alive(n);
            let leader = self.is_leader(pod);
            let status = match (leader, n.voter) {
                (true, _) => "leader",
                (false, true) => "voter",
                (false, false) => "non-voter",
            };
            let index = n.index.floor() as u64;
            servers.insert(
                pod.clone(),
                json!({
                    "id": pod,
                    "name": if alive { pod.as_str() } else { "" },
                    "address": self.cluster_addr(pod),
                    "node_status": if alive { "alive" } else { "left" },
                    "last_contact": if leader || !alive { "0s" } else { "0.25s" },
                    "last_term": if alive { 3 } else { 0 },
                    "last_index": if alive { index } else { 0 },
                    // Autopilot's max_trailing_logs default (dc-tec/openbao-operator@002fbdd `runBlueGreenWaitGreenSynced` and `internal/raft/autopilot.go`).
                    "healthy": alive && top - n.index <= 1000.0,
                    "stable_since": "2026-11-23T09:00:00Z",
                    "status": status,
                    "version": if alive { n.version.as_str() } else { "" },
                    "node_type": if n.voter { "voter" } else { "non-voter" },
                }),
            );
        }
        let (voters, non_voters): (Vec<&String>, Vec<&String>) = self
            .nodes
            .iter()
            .filter(|(_, n)| n.member)
            .map(|(p, _)| p)
            .partition(|p| self.nodes[*p].voter);
        let tolerance = self.failure_tolerance();
        json!({
            "failure_tolerance": tolerance,
            "healthy": servers.values().all(|s| s["healthy"] == true),
            "leader": self.leader.clone().unwrap_or_default(),
            "non_voters": non_voters,
            "servers": servers,
            "voters": voters,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::scenario::{Scenario, Topology};

    fn keys(v: &Value) -> Vec<String> {
        let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
        k.sort();
        k
    }

    fn sample(name: &str) -> Value {
        serde_json::from_str(&crate::app::fixtures::openbao_sample(name)).unwrap()
    }

    #[test]
    fn only_the_root_token_reads_the_membership_in_the_real_shapes() {
        let s = Scenario::named("transient").unwrap();
        let m = RaftModel::new(&s, &Topology::of(&s));
        let pod = m.nodes.keys().next().unwrap().clone();
        let token = m.root_token().expose().to_string();
        for path in [
            "/v1/sys/storage/raft/configuration",
            "v1/sys/storage/raft/autopilot/state",
        ] {
            for t in [None, Some("s.wrong")] {
                let denied = m.answer_with(&pod, path, t).unwrap();
                assert_eq!((denied.status, denied.body.as_str()), (403, DENIED));
            }
        }
        let config = m
            .answer_with(&pod, "/v1/sys/storage/raft/configuration", Some(&token))
            .unwrap();
        assert_eq!(config.status, 200);
        let config: Value = serde_json::from_str(&config.body).unwrap();
        let want = sample("raft-configuration.200.json");
        assert_eq!(keys(&config), keys(&want));
        assert_eq!(
            keys(&config["data"]["config"]["servers"][0]),
            keys(&want["data"]["config"]["servers"][0])
        );
        let ap = m
            .answer_with(&pod, "/v1/sys/storage/raft/autopilot/state", Some(&token))
            .unwrap();
        let ap: Value = serde_json::from_str(&ap.body).unwrap();
        let want = sample("raft-autopilot-state.new-green-leader.json");
        assert_eq!(keys(&ap["data"]), keys(&want["data"]));
        let server = ap["data"]["servers"][&pod].clone();
        assert_eq!(keys(&server), keys(&want["data"]["servers"]["blue-0"]));
        // transient: Green leads with the Green voters; three healthy voters tolerate one.
        assert_eq!(ap["data"]["failure_tolerance"], 1);
        assert_eq!(ap["data"]["voters"].as_array().map(Vec::len), Some(3));
    }
}

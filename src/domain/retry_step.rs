//! What an acknowledgement retries, per break-glass reason, and what RollbackCleanup leaves
//! behind and deletes (internal/service/upgrade/bluegreen/break_glass.go,
//! rollback_cleanup.go; README "Operator generations").
//!
//! A matching ack clears break glass and, when the reason fits the phase, bumps
//! `rollbackAttempt`: `RollbackConsensusRepairFailed` in RollingBack reruns the consensus
//! repair; `RollbackCleanupPeerRemovalFailed` in RollbackCleanup reruns only the Green-peer
//! removal (the repair is not rerun). A successful cleanup deletes Green's StatefulSet
//! `<cluster>-<greenRevision>` and every `data-<cluster>-<greenRevision>-<n>` PVC.

use super::cluster::{
    ClusterView, REASON_ROLLBACK_CLEANUP_PEER_REMOVAL_FAILED,
    REASON_ROLLBACK_CONSENSUS_REPAIR_FAILED,
};
use super::generation::Line;
use super::incident::{ACTION_REMOVE_GREEN_PEERS, ACTION_REPAIR_CONSENSUS, Incident, Side};
use super::naming;

/// What RollbackCleanup is about: the Green peers still in the Raft configuration and what
/// a successful cleanup deletes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cleanup {
    /// Green's StatefulSet, `<cluster>-<greenRevision>`.
    pub statefulset: String,
    /// `data-<cluster>-<greenRevision>-<n>` for the Green pods and peers seen (the pattern
    /// itself when none is seen).
    pub pvcs: Vec<String>,
    /// Green peers in the Raft configuration; Err: why it is not known (needs the token).
    pub stale_green_peers: Result<Vec<String>, String>,
}

fn green_prefix(c: &ClusterView) -> Option<String> {
    let green = c.blue_green.as_ref()?.green_revision.as_deref()?;
    Some(format!("{}-{green}-", c.name))
}

impl Incident {
    /// The cleanup's facts when the reason or the phase is RollbackCleanup's.
    pub fn cleanup(&self) -> Option<Cleanup> {
        let c = self.cluster.as_ref()?;
        let bg = c.blue_green.as_ref()?;
        let reason = c.break_glass.as_ref().and_then(|b| b.reason.as_deref());
        if reason != Some(REASON_ROLLBACK_CLEANUP_PEER_REMOVAL_FAILED)
            && bg.phase.as_deref() != Some("RollbackCleanup")
        {
            return None;
        }
        let (statefulset, pvcs) = self.green_data()?;
        let prefix = format!("{statefulset}-");
        // Peers are classified by name (`<cluster>-<green>-<n>`), never by voter flag:
        // read replicas (`<cluster>-read-<n>`) are non-voters too.
        let stale_green_peers = match self.raft_members.known() {
            Some(m) => Ok(m
                .servers
                .iter()
                .filter(|s| s.node_id.starts_with(&prefix))
                .map(|s| {
                    let role = if s.voter { "voter" } else { "non-voter" };
                    format!("{} ({role})", s.node_id)
                })
                .collect()),
            None => Err(self
                .raft_members
                .unknown_label()
                .unwrap_or_else(|| "unknown".into())),
        };
        Some(Cleanup {
            statefulset,
            pvcs,
            stale_green_peers,
        })
    }

    /// Green's StatefulSet and the data PVCs a successful cleanup deletes (from the Green
    /// pods and peers seen; the name pattern when none is).
    fn green_data(&self) -> Option<(String, Vec<String>)> {
        let prefix = green_prefix(self.cluster.as_ref()?)?;
        let mut names: Vec<String> = self
            .pods_on(Side::Green)
            .map(|p| p.name.clone())
            .chain(
                self.raft_members
                    .known()
                    .into_iter()
                    .flat_map(|m| m.servers.iter())
                    .filter(|s| s.node_id.starts_with(&prefix))
                    .map(|s| s.node_id.clone()),
            )
            .filter(|n| n.strip_prefix(&prefix).is_some_and(is_ordinal))
            .collect();
        names.sort();
        names.dedup();
        let pvcs = if names.is_empty() {
            vec![format!("data-{prefix}<n>")]
        } else {
            names.iter().map(|n| format!("data-{n}")).collect()
        };
        Some((prefix.trim_end_matches('-').to_string(), pvcs))
    }

    /// What RollbackCleanup does after a successful retry, by operator line (the 0.1 Blue-
    /// peer removal is fixed from 0.5.1 on; an unknown line gets both, said as such).
    pub fn cleanup_on_success(&self) -> String {
        let data = self.green_data().map_or_else(
            || "Green's StatefulSet and its data PVCs".to_string(),
            |(sts, pvcs)| format!("StatefulSet {sts} and PVCs {}", pvcs.join(", ")),
        );
        match self.generation().line {
            Line::V01 => "on success RollbackCleanup runs remove-blue-peers with revisions not swapped (§3.7): it may remove the BLUE peers — watch the Raft pane".into(),
            Line::V06 => format!(
                "on success RollbackCleanup removes the Green peers (bluegreen-remove-green-peers), then deletes {data}"
            ),
            Line::V02To050 => "on success RollbackCleanup removes the Green peers, then deletes Green's StatefulSet (its PVCs too from 0.5.1 on)".into(),
            Line::Unknown => format!(
                "operator line unknown: on 0.1 RollbackCleanup may remove the BLUE peers (remove-blue-peers, revisions not swapped) — watch the Raft pane; from 0.5.1 on it removes the Green peers and deletes {data}"
            ),
        }
    }

    /// What a matching acknowledgement makes the operator do now, one sentence a line, by
    /// the reason and the phase (the Job of the next attempt named with the operator's
    /// algorithm).
    pub fn ack_retries(&self) -> Vec<String> {
        let Some(c) = self.cluster.as_ref() else {
            return vec!["unknown: the cluster has not been read".into()];
        };
        let Some(bg) = c.blue_green.as_ref() else {
            return vec!["no blue/green status: nothing to retry".into()];
        };
        let reason = c.break_glass.as_ref().and_then(|b| b.reason.as_deref());
        let phase = bg.phase.as_deref().unwrap_or("?");
        let next = bg.rollback_attempt + 1;
        let run_id = naming::rollback_run_id(bg.operation_id.as_deref().unwrap_or(""), next);
        let job = |action: &str| match (&bg.blue_revision, &bg.green_revision) {
            (Some(b), Some(g)) => naming::executor_job_name(&c.name, action, &run_id, b, g),
            _ => format!("upgrade-{}-{action}-<hash>", c.name),
        };
        let mut out = Vec::new();
        match (reason, phase) {
            (Some(REASON_ROLLBACK_CONSENSUS_REPAIR_FAILED), "RollingBack") => {
                out.push(format!(
                    "retries the consensus repair: rollbackAttempt {next}, a new {ACTION_REPAIR_CONSENSUS} Job {} (run ID {run_id})",
                    job(ACTION_REPAIR_CONSENSUS)
                ));
                out.push(
                    "on success: Blue leader awaited, then RollbackCleanup's peer removal (its own Job, same run ID)"
                        .into(),
                );
            }
            (Some(REASON_ROLLBACK_CLEANUP_PEER_REMOVAL_FAILED), "RollbackCleanup") => {
                out.push(format!(
                    "retries only the cleanup (the consensus repair is not rerun): rollbackAttempt {next}, a new {ACTION_REMOVE_GREEN_PEERS} Job {} (run ID {run_id})",
                    job(ACTION_REMOVE_GREEN_PEERS)
                ));
                if let Some(cl) = self.cleanup() {
                    out.push(format!(
                        "on success it deletes Green's StatefulSet {} and its PVCs {} (Green's data is gone), then Idle",
                        cl.statefulset,
                        cl.pvcs.join(", ")
                    ));
                }
            }
            (Some(r), p) => out.push(format!(
                "reason {r} does not fit phase {p}: the ack clears break glass without a new attempt; the failed Job (kept 1 h) is seen again and break glass re-enters with a new nonce"
            )),
            (None, _) => out.push("break glass has no reason: what the ack retries is unknown".into()),
        }
        out
    }
}

fn is_ordinal(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::PodView;
    use crate::domain::raft_members::{Member, Membership, RaftMembers};

    fn incident(reason: &str, phase: &str, op: &str) -> Incident {
        let c = ClusterView::from_json(&serde_json::json!({
            "metadata": {"name": "prod-cluster", "namespace": "security"},
            "spec": {"version": "2.4.4"},
            "status": {
                "breakGlass": {"active": true, "reason": reason, "nonce": "n",
                    "message": "Rollback cleanup peer-removal Job x failed; manual intervention required"},
                "blueGreen": {"phase": phase, "operationID": op, "rollbackAttempt": 0,
                    "blueRevision": "e8983038c519c718", "greenRevision": "269c4f7ba494030d"}}
        }))
        .unwrap();
        Incident {
            cluster_name: "prod-cluster".into(),
            cluster: Some(c),
            ..Incident::default()
        }
    }

    fn member(id: &str, voter: bool) -> Member {
        Member {
            node_id: id.into(),
            voter,
            leader: false,
            health: None,
        }
    }

    const OP: &str = "bg-v2-3f1c2a9e-8d4b-4c6e-9a1f-0b2c3d4e5f60";

    #[test]
    fn the_cleanup_reason_shows_stale_green_peers_and_what_a_retry_deletes() {
        let mut i = incident(
            REASON_ROLLBACK_CLEANUP_PEER_REMOVAL_FAILED,
            "RollbackCleanup",
            OP,
        );
        let cl = i.cleanup().unwrap();
        assert_eq!(cl.statefulset, "prod-cluster-269c4f7ba494030d");
        assert_eq!(cl.pvcs, ["data-prod-cluster-269c4f7ba494030d-<n>"]);
        assert_eq!(cl.stale_green_peers, Err("needs token".into()));
        i.raft_members = Membership::Known(RaftMembers {
            servers: vec![
                member("prod-cluster-e8983038c519c718-0", true),
                member("prod-cluster-269c4f7ba494030d-0", false),
                member("prod-cluster-269c4f7ba494030d-1", false),
                // A read replica is a non-voter and never Green.
                member("prod-cluster-read-0", false),
            ],
            failure_tolerance: Some(0),
            healthy: Some(true),
            read_from: "x".into(),
        });
        i.pods.push(PodView {
            name: "prod-cluster-269c4f7ba494030d-2".into(),
            revision: Some("269c4f7ba494030d".into()),
            ..PodView::default()
        });
        let cl = i.cleanup().unwrap();
        assert_eq!(
            cl.stale_green_peers.unwrap(),
            [
                "prod-cluster-269c4f7ba494030d-0 (non-voter)",
                "prod-cluster-269c4f7ba494030d-1 (non-voter)"
            ]
        );
        assert_eq!(
            cl.pvcs,
            [
                "data-prod-cluster-269c4f7ba494030d-0",
                "data-prod-cluster-269c4f7ba494030d-1",
                "data-prod-cluster-269c4f7ba494030d-2"
            ]
        );
        let ack = i.ack_retries();
        assert!(ack[0].starts_with("retries only the cleanup"), "{ack:?}");
        // The Job name from the operator's algorithm (operation-scoped run ID, attempt 1).
        assert!(
            ack[0].contains(&format!(
                "Job {} (run ID {OP}/rollback-retry-1)",
                naming::executor_job_name(
                    "prod-cluster",
                    ACTION_REMOVE_GREEN_PEERS,
                    &format!("{OP}/rollback-retry-1"),
                    "e8983038c519c718",
                    "269c4f7ba494030d"
                )
            )),
            "{ack:?}"
        );
        assert!(
            ack[1].contains("StatefulSet prod-cluster-269c4f7ba494030d"),
            "{ack:?}"
        );
    }

    #[test]
    fn what_cleanup_does_on_success_follows_the_operator_line() {
        use crate::domain::generation::{CrdSignal, Signals};
        let i = incident(REASON_ROLLBACK_CONSENSUS_REPAIR_FAILED, "RollingBack", OP);
        // bg-v2- alone names 0.6: Green peers and Green data, no Blue-peer warning.
        let w = i.cleanup_on_success();
        assert!(w.contains("removes the Green peers"), "{w}");
        assert!(
            w.contains("StatefulSet prod-cluster-269c4f7ba494030d"),
            "{w}"
        );
        assert!(!w.contains("BLUE"), "{w}");
        // Nothing read: both, said as unknown.
        let mut i2 = incident(REASON_ROLLBACK_CONSENSUS_REPAIR_FAILED, "RollingBack", "");
        let w = i2.cleanup_on_success();
        assert!(
            w.starts_with("operator line unknown") && w.contains("BLUE"),
            "{w}"
        );
        // A 0.1 CRD: the 0.1 warning.
        let crd = serde_json::json!({"spec": {"versions": [{"name": "v1alpha1", "storage": true,
            "schema": {"openAPIV3Schema": {"properties": {"status": {"properties": {
                "breakGlass": {"properties": {"reason": {"type": "string",
                    "enum": ["RollbackConsensusRepairFailed"]}}},
                "blueGreen": {"properties": {"phase": {"type": "string"}}}}}}}}}]}});
        i2.operator = Signals {
            crd: std::sync::Arc::new(CrdSignal::Read(crd)),
            ..Signals::default()
        };
        assert!(
            i2.cleanup_on_success()
                .starts_with("on success RollbackCleanup runs remove-blue-peers")
        );
    }

    #[test]
    fn the_repair_reason_reruns_the_repair_and_a_mismatch_says_so() {
        let i = incident(REASON_ROLLBACK_CONSENSUS_REPAIR_FAILED, "RollingBack", "");
        assert_eq!(i.cleanup(), None);
        let ack = i.ack_retries();
        assert!(
            ack[0].contains(
                "Job upgrade-prod-cluster-bluegreen-repair-consensus-5ac3d8f609 (run ID rollback-retry-1)"
            ),
            "{ack:?}"
        );
        let i = incident(
            REASON_ROLLBACK_CONSENSUS_REPAIR_FAILED,
            "RollbackCleanup",
            "",
        );
        assert!(i.ack_retries()[0].contains("does not fit phase RollbackCleanup"));
    }
}

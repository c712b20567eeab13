//! What RollbackCleanup leaves behind when its Green-peer removal failed (break glass
//! `RollbackCleanupPeerRemovalFailed`, internal/service/upgrade/bluegreen/rollback_cleanup.go):
//! the Green peers still in the Raft configuration, and what a successful retry deletes
//! (`path_truth::green_retirement`: Green's StatefulSet and data PVCs). What an
//! acknowledgement reruns per reason is `path_truth::retry_reruns`.

use super::cluster::REASON_ROLLBACK_CLEANUP_PEER_REMOVAL_FAILED;
use super::incident::Incident;
use super::path_truth::green_retirement;

/// What RollbackCleanup is about: the Green peers still in the Raft configuration and what
/// a successful cleanup deletes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cleanup {
    /// Green's StatefulSet, `<cluster>-<greenRevision>`.
    pub statefulset: String,
    /// `data-<cluster>-<greenRevision>-<n>`.
    pub pvcs: Vec<String>,
    /// Green peers in the Raft configuration; Err: why it is not known (needs the token).
    pub stale_green_peers: Result<Vec<String>, String>,
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
        let (statefulset, pvcs) = green_retirement(c)?;
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ClusterView;
    use crate::domain::cluster::REASON_ROLLBACK_CONSENSUS_REPAIR_FAILED;
    use crate::domain::raft_members::{Member, Membership, RaftMembers};

    fn incident(reason: &str, phase: &str) -> Incident {
        let c = ClusterView::from_json(&serde_json::json!({
            "metadata": {"name": "prod-cluster", "namespace": "security"},
            "spec": {"version": "2.4.4", "replicas": 3},
            "status": {
                "breakGlass": {"active": true, "reason": reason, "nonce": "n",
                    "message": "Rollback cleanup peer-removal Job x failed; manual intervention required"},
                "blueGreen": {"phase": phase, "rollbackAttempt": 0,
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

    #[test]
    fn the_cleanup_reason_shows_stale_green_peers_and_what_a_retry_deletes() {
        let mut i = incident(
            REASON_ROLLBACK_CLEANUP_PEER_REMOVAL_FAILED,
            "RollbackCleanup",
        );
        let cl = i.cleanup().unwrap();
        assert_eq!(cl.statefulset, "prod-cluster-269c4f7ba494030d");
        assert_eq!(cl.pvcs.len(), 3);
        assert_eq!(cl.pvcs[0], "data-prod-cluster-269c4f7ba494030d-0");
        assert_eq!(cl.stale_green_peers, Err("needs token".into()));
        i.raft_members = Membership::Known(RaftMembers {
            servers: vec![
                member("prod-cluster-e8983038c519c718-0", true),
                member("prod-cluster-269c4f7ba494030d-0", false),
                member("prod-cluster-269c4f7ba494030d-1", true),
                // A read replica is a non-voter and never Green.
                member("prod-cluster-read-0", false),
            ],
            failure_tolerance: Some(0),
            healthy: Some(true),
            read_from: "x".into(),
        });
        assert_eq!(
            i.cleanup().unwrap().stale_green_peers.unwrap(),
            [
                "prod-cluster-269c4f7ba494030d-0 (non-voter)",
                "prod-cluster-269c4f7ba494030d-1 (voter)"
            ]
        );
    }

    #[test]
    fn only_rollback_cleanup_has_cleanup_facts() {
        let i = incident(REASON_ROLLBACK_CONSENSUS_REPAIR_FAILED, "RollingBack");
        assert_eq!(i.cleanup(), None);
        // The phase alone counts too (the cleanup running, before any failure).
        let i = incident(REASON_ROLLBACK_CONSENSUS_REPAIR_FAILED, "RollbackCleanup");
        assert!(i.cleanup().is_some());
    }
}

//! Every name the operator derives for a scenario's cluster: revisions, StatefulSets, pods,
//! PVCs, executor Job names (`naming::executor_job_name`) and the pre-upgrade snapshot Job.

use super::Scenario;
use crate::domain::naming;
use crate::sim::operator_line::OperatorLine;

/// Every name and revision the operator derives for a scenario's cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Topology {
    pub namespace: String,
    pub cluster: String,
    pub replicas: i32,
    pub blue_version: String,
    pub green_version: String,
    pub blue_image: String,
    pub green_image: String,
    pub blue_rev: String,
    pub green_rev: String,
    /// The operator line being played.
    pub operator: OperatorLine,
    /// `status.blueGreen.operationID`: `bg-v2-<uuid>` on 0.6, empty on 0.1.
    pub operation_id: String,
}

pub const ACTION_REPAIR: &str = "bluegreen-repair-consensus";
pub(crate) const ACTION_REMOVE_BLUE_PEERS: &str = "bluegreen-remove-blue-peers";
pub(crate) const ACTION_REMOVE_GREEN_PEERS: &str =
    crate::domain::incident::ACTION_REMOVE_GREEN_PEERS;
pub(crate) const ACTION_DEMOTE: &str = "bluegreen-demote-blue-nonvoters-stepdown";
pub const OPERATOR_NAMESPACE: &str = "openbao-operator-system";
pub(crate) const OPERATOR_DEPLOYMENT: &str = "openbao-operator-controller";

impl Topology {
    pub fn of(s: &Scenario) -> Topology {
        let blue_image = format!("openbao/openbao:{}", s.blue_version);
        let green_image = format!("openbao/openbao:{}", s.green_version);
        Topology {
            namespace: s.namespace.clone(),
            cluster: s.cluster.clone(),
            replicas: s.replicas,
            blue_rev: naming::revision(&s.blue_version, &blue_image, s.replicas),
            green_rev: naming::revision(&s.green_version, &green_image, s.replicas),
            blue_version: s.blue_version.clone(),
            green_version: s.green_version.clone(),
            blue_image,
            green_image,
            operator: s.operator,
            operation_id: s.operation_id.clone(),
        }
    }

    pub fn statefulset(&self, blue: bool) -> String {
        format!("{}-{}", self.cluster, self.rev(blue))
    }

    pub fn rev(&self, blue: bool) -> &str {
        if blue {
            &self.blue_rev
        } else {
            &self.green_rev
        }
    }

    pub fn pod(&self, blue: bool, ordinal: i32) -> String {
        format!("{}-{ordinal}", self.statefulset(blue))
    }

    pub fn pvc(&self, blue: bool, ordinal: i32) -> String {
        format!("data-{}", self.pod(blue, ordinal))
    }

    pub fn job(&self, action: &str, run_id: &str) -> String {
        naming::executor_job_name(
            &self.cluster,
            action,
            run_id,
            &self.blue_rev,
            &self.green_rev,
        )
    }

    /// The rollback run ID of `attempt`, scoped by the operation ID on 0.6.
    pub fn rollback_run_id(&self, attempt: i32) -> String {
        naming::rollback_run_id(&self.operation_id, attempt)
    }

    /// The rollback Job of `action` (repair or cleanup) for `attempt`.
    pub fn rollback_job(&self, action: &str, attempt: i32) -> String {
        self.job(action, &self.rollback_run_id(attempt))
    }

    pub fn repair_job(&self, attempt: i32) -> String {
        self.rollback_job(ACTION_REPAIR, attempt)
    }

    /// The RollbackCleanup Job's action: 0.1 runs the remove-blue-peers action (its defect),
    /// 0.6 the dedicated remove-green-peers one.
    pub(crate) fn cleanup_action(&self) -> &'static str {
        if self.operator.is_06() {
            ACTION_REMOVE_GREEN_PEERS
        } else {
            ACTION_REMOVE_BLUE_PEERS
        }
    }

    /// `upgrade-<cluster>-preupgrade-snapshot-<10 hex>` (dc-tec/openbao-operator@002fbdd `internal/upgrade/job.go` `upgradeExecutorJobName`).
    pub fn snapshot_job(&self) -> String {
        let payload = format!(
            "{}|pre-upgrade-snapshot|{}|{}|{}|{}|{}",
            self.cluster,
            self.blue_version,
            self.green_version,
            self.green_image,
            self.replicas,
            self.blue_rev
        );
        use sha2::{Digest, Sha256};
        let suffix = hex::encode(Sha256::digest(payload.as_bytes()));
        let mut base = format!("upgrade-{}-preupgrade-snapshot", self.cluster).to_lowercase();
        if base.len() > 52 {
            base.truncate(52);
            while base.ends_with('-') {
                base.pop();
            }
        }
        format!("{base}-{}", &suffix[..10])
    }

    /// Replace `{ns}`, `{cluster}`, `{blue}`, `{green}`, `{replicas}` in scenario text.
    pub(crate) fn fill(&self, text: &str) -> String {
        text.replace("{ns}", &self.namespace)
            .replace("{cluster}", &self.cluster)
            .replace("{blue}", &self.blue_rev)
            .replace("{green}", &self.green_rev)
            .replace("{replicas}", &self.replicas.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topology_matches_the_operator_vectors() {
        let t = Topology::of(&Scenario::named("transient").unwrap());
        assert_eq!(t.blue_rev, "e8983038c519c718");
        assert_eq!(t.green_rev, "269c4f7ba494030d");
        assert_eq!(
            t.repair_job(0),
            "upgrade-prod-cluster-bluegreen-repair-consensus-5054f3dfa7"
        );
        assert_eq!(
            t.repair_job(1),
            "upgrade-prod-cluster-bluegreen-repair-consensus-5ac3d8f609"
        );
        assert_eq!(
            t.job(ACTION_REMOVE_BLUE_PEERS, "rollback"),
            "upgrade-prod-cluster-bluegreen-remove-blue-peers-8f0a2ffa1d"
        );
        assert_eq!(t.pod(true, 2), "prod-cluster-e8983038c519c718-2");
        assert_eq!(t.pvc(false, 0), "data-prod-cluster-269c4f7ba494030d-0");
        assert!(
            t.snapshot_job()
                .starts_with("upgrade-prod-cluster-preupgrade-snapshot-")
        );
        assert_eq!(
            t.fill("{cluster}-{blue}-0.{ns}"),
            "prod-cluster-e8983038c519c718-0.security"
        );
    }
}

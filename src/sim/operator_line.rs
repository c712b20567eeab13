//! Which openbao-operator line the simulator plays (`--operator 0.1|0.6`).
//!
//! - `0.1`: dc-tec/openbao-operator @ 002fbdd — one break-glass reason, unscoped run IDs,
//!   RollbackCleanup runs `bluegreen-remove-blue-peers`, no Kubernetes Events.
//! - `0.6`: dc-tec 0.5.1 and kubebao/openbao-operator 0.6 — `bg-v2-` operation IDs and
//!   operation-scoped run IDs (`internal/service/upgrade/bluegreen/job_helpers.go`), two
//!   break-glass reasons (`break_glass.go`), RollbackCleanup runs
//!   `bluegreen-remove-green-peers` and retires Green's StatefulSet and PVCs
//!   (`rollback_cleanup.go`), Events from the events.k8s.io recorder (`events.go`), abort
//!   limited to the early phases (`workflow_preflight.go`).
//!
//! The store applies the line's CRD schemas, the API server serves its CRDs, the twin plays
//! its behaviour.

use super::store::Resource;

const CLUSTER_CRD_01: &str = include_str!("../../assets/crds/openbao.org_openbaoclusters.yaml");
const RESTORE_CRD_01: &str = include_str!("../../assets/crds/openbao.org_openbaorestores.yaml");
const CLUSTER_CRD_06: &str = include_str!("../../assets/crds/0.6/openbao.org_openbaoclusters.yaml");
const RESTORE_CRD_06: &str = include_str!("../../assets/crds/0.6/openbao.org_openbaorestores.yaml");

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum OperatorLine {
    /// dc-tec/openbao-operator @ 002fbdd (the library default, which the older tests use).
    #[default]
    V01,
    /// dc-tec 0.5.1 / kubebao 0.6 (the default of `breakglass demo` and `sim`).
    V06,
}

impl OperatorLine {
    pub(crate) const ALL: [OperatorLine; 2] = [OperatorLine::V01, OperatorLine::V06];

    /// `0.1` or `0.6`, as `--operator` takes it.
    pub fn label(self) -> &'static str {
        match self {
            OperatorLine::V01 => "0.1",
            OperatorLine::V06 => "0.6",
        }
    }

    pub fn parse(s: &str) -> Option<OperatorLine> {
        Self::ALL.into_iter().find(|l| l.label() == s)
    }

    /// The release the simulated Deployment and Job images carry.
    pub fn version(self) -> &'static str {
        match self {
            OperatorLine::V01 => "0.1.0",
            OperatorLine::V06 => "0.6.0",
        }
    }

    /// Where the line's images are published (`ghcr.io/dc-tec` up to 0.5.x, then kubebao).
    pub fn registry(self) -> &'static str {
        match self {
            OperatorLine::V01 => "ghcr.io/dc-tec",
            OperatorLine::V06 => "ghcr.io/kubebao",
        }
    }

    /// `<registry>/<name>:<version>`, e.g. `ghcr.io/kubebao/openbao-upgrade:0.6.0`.
    pub fn image(self, name: &str) -> String {
        format!("{}/{name}:{}", self.registry(), self.version())
    }

    /// The Go module the executor's stack frames name.
    pub fn module(self) -> &'static str {
        match self {
            OperatorLine::V01 => "github.com/dc-tec/openbao-operator",
            OperatorLine::V06 => "github.com/kubebao/openbao-operator",
        }
    }

    /// The embedded CRD (YAML) of a custom resource, None for built-ins.
    pub(crate) fn crd_yaml(self, r: Resource) -> Option<&'static str> {
        match (self, r) {
            (OperatorLine::V01, Resource::OpenBaoClusters) => Some(CLUSTER_CRD_01),
            (OperatorLine::V01, Resource::OpenBaoRestores) => Some(RESTORE_CRD_01),
            (OperatorLine::V06, Resource::OpenBaoClusters) => Some(CLUSTER_CRD_06),
            (OperatorLine::V06, Resource::OpenBaoRestores) => Some(RESTORE_CRD_06),
            _ => None,
        }
    }

    /// Operation-scoped executor run IDs (`bg-v2-` operation IDs) and the second reason.
    pub(crate) fn is_06(self) -> bool {
        self == OperatorLine::V06
    }
}

impl std::fmt::Display for OperatorLine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.label())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_round_trip_and_the_crds_differ() {
        for l in OperatorLine::ALL {
            assert_eq!(OperatorLine::parse(l.label()), Some(l));
        }
        assert_eq!(OperatorLine::parse("0.5"), None);
        let reason = "RollbackCleanupPeerRemovalFailed";
        let c01 = OperatorLine::V01
            .crd_yaml(Resource::OpenBaoClusters)
            .unwrap();
        let c06 = OperatorLine::V06
            .crd_yaml(Resource::OpenBaoClusters)
            .unwrap();
        assert!(!c01.contains(reason) && c06.contains(reason));
        assert!(OperatorLine::V06.crd_yaml(Resource::Pods).is_none());
        assert_eq!(
            OperatorLine::V06.image("openbao-upgrade"),
            "ghcr.io/kubebao/openbao-upgrade:0.6.0"
        );
    }
}

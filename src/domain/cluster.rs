//! The parts of an `OpenBaoCluster` (openbao.org/v1alpha1) the console reads.
//!
//! Parsed from the raw JSON the API server sends (sources hold `DynamicObject`s), so one
//! malformed object becomes a visible [`ParseError`] instead of a failed watch.
//! Field meanings: dc-tec/openbao-operator@002fbdd `api/v1alpha1/openbaocluster_types.go` and `internal/upgrade/bluegreen/break_glass.go`.

use jiff::Timestamp;
use serde::Deserialize;
use serde_json::Value;

/// API coordinates of the operator's custom resources.
pub(crate) const GROUP: &str = "openbao.org";
pub(crate) const VERSION: &str = "v1alpha1";
pub(crate) const CLUSTER_PLURAL: &str = "openbaoclusters";
pub(crate) const CLUSTER_KIND: &str = "OpenBaoCluster";

/// Break glass after the rollback's consensus-repair Job failed (phase RollingBack); the only
/// reason of the 0.1 line (internal/service/upgrade/bluegreen/break_glass.go).
pub(crate) const REASON_ROLLBACK_CONSENSUS_REPAIR_FAILED: &str = "RollbackConsensusRepairFailed";
/// Break glass after the rollback cleanup's Green-peer-removal Job failed (phase
/// RollbackCleanup); newer lines only (the CRD's `status.breakGlass.reason` enum has both).
pub(crate) const REASON_ROLLBACK_CLEANUP_PEER_REMOVAL_FAILED: &str =
    "RollbackCleanupPeerRemovalFailed";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("OpenBaoCluster {name:?} does not parse: {detail}")]
pub struct ParseError {
    pub name: String,
    pub detail: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ClusterView {
    pub name: String,
    pub namespace: String,
    pub resource_version: String,
    pub generation: i64,
    pub spec_version: String,
    pub spec_image: Option<String>,
    pub replicas: i32,
    pub break_glass_ack: Option<String>,
    pub paused: bool,
    /// `status.phase`: Initializing | Running | Upgrading | BackingUp | Failed.
    pub phase: Option<String>,
    pub current_version: Option<String>,
    pub active_leader: Option<String>,
    pub ready_replicas: Option<i32>,
    pub conditions: Vec<ConditionView>,
    pub break_glass: Option<BreakGlassView>,
    pub blue_green: Option<BlueGreenView>,
    pub last_backup_name: Option<String>,
    /// Annotations and requests an administrator may have left (force-rollback, requests).
    pub controls: super::controls::ManualControls,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ConditionView {
    pub type_: String,
    pub status: String,
    pub reason: Option<String>,
    pub message: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BreakGlassView {
    /// The signal: `breakGlass` stays in status after acknowledgement with `active: false`.
    pub active: bool,
    pub reason: Option<String>,
    pub message: Option<String>,
    pub nonce: Option<String>,
    pub entered_at: Option<Timestamp>,
    pub steps: Vec<String>,
    pub acknowledged_at: Option<Timestamp>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BlueGreenView {
    pub phase: Option<String>,
    pub blue_revision: Option<String>,
    pub green_revision: Option<String>,
    pub blue_image: Option<String>,
    /// `status.blueGreen.operationID` (0.5.0 on): a plain UUID, or `bg-v2-<uuid>` from 0.5.1
    /// on, when executor run IDs are scoped by it. None when absent or empty.
    pub operation_id: Option<String>,
    pub job_failure_count: i32,
    pub last_job_failure: Option<String>,
    pub rollback_reason: Option<String>,
    pub rollback_attempt: i32,
    pub pre_upgrade_snapshot_job_name: Option<String>,
}

impl ClusterView {
    /// True when the operator is waiting for a human.
    pub fn break_glass_active(&self) -> bool {
        self.break_glass.as_ref().is_some_and(|b| b.active)
    }

    /// The nonce an acknowledgement must carry, when break glass is active.
    pub fn active_nonce(&self) -> Option<&str> {
        self.break_glass
            .as_ref()
            .filter(|b| b.active)
            .and_then(|b| b.nonce.as_deref())
            .filter(|n| !n.is_empty())
    }

    pub fn condition(&self, type_: &str) -> Option<&ConditionView> {
        self.conditions.iter().find(|c| c.type_ == type_)
    }

    /// The failed Job named in `breakGlass.message`, for both reasons ("Rollback consensus
    /// repair Job <job> failed; …", "Rollback cleanup peer-removal Job <job> failed; …").
    pub fn failed_job_from_message(&self) -> Option<String> {
        let msg = self.break_glass.as_ref()?.message.as_deref()?;
        let rest = msg.split_once("Job ")?.1;
        let name = rest.split_once(" failed")?.0.trim();
        (!name.is_empty()).then(|| name.to_string())
    }

    /// Parse the raw object as served by the API server.
    pub fn from_json(obj: &Value) -> Result<Self, ParseError> {
        let name = obj
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or("<unnamed>")
            .to_string();
        let raw: RawCluster = serde_json::from_value(obj.clone()).map_err(|e| ParseError {
            name: name.clone(),
            detail: e.to_string(),
        })?;
        let spec = raw.spec.ok_or_else(|| ParseError {
            name: name.clone(),
            detail: "missing spec".into(),
        })?;
        let status = raw.status.unwrap_or_default();
        Ok(ClusterView {
            name,
            namespace: raw.metadata.namespace.unwrap_or_default(),
            resource_version: raw.metadata.resource_version.unwrap_or_default(),
            generation: raw.metadata.generation.unwrap_or_default(),
            spec_version: spec.version,
            spec_image: spec.image.filter(|s| !s.is_empty()),
            replicas: spec.replicas.unwrap_or(3),
            break_glass_ack: spec.break_glass_ack.filter(|s| !s.is_empty()),
            paused: spec.paused.unwrap_or(false),
            phase: status.phase,
            current_version: status.current_version,
            active_leader: status.active_leader.filter(|s| !s.is_empty()),
            ready_replicas: status.ready_replicas,
            conditions: status
                .conditions
                .into_iter()
                .map(|c| ConditionView {
                    type_: c.type_,
                    status: c.status,
                    reason: c.reason,
                    message: c.message,
                })
                .collect(),
            break_glass: status.break_glass.map(|b| BreakGlassView {
                active: b.active.unwrap_or(false),
                reason: b.reason,
                message: b.message,
                nonce: b.nonce,
                entered_at: b.entered_at,
                steps: b.steps,
                acknowledged_at: b.acknowledged_at,
            }),
            blue_green: status.blue_green.map(|g| BlueGreenView {
                phase: g.phase,
                blue_revision: g.blue_revision.filter(|s| !s.is_empty()),
                green_revision: g.green_revision.filter(|s| !s.is_empty()),
                blue_image: g.blue_image,
                operation_id: g.operation_id.filter(|s| !s.is_empty()),
                job_failure_count: g.job_failure_count.unwrap_or(0),
                last_job_failure: g.last_job_failure.filter(|s| !s.is_empty()),
                rollback_reason: g.rollback_reason,
                rollback_attempt: g.rollback_attempt.unwrap_or(0),
                pre_upgrade_snapshot_job_name: g.pre_upgrade_snapshot_job_name,
            }),
            last_backup_name: status.backup.and_then(|b| b.last_backup_name),
            controls: super::controls::ManualControls::from_json(obj),
        })
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawCluster {
    metadata: RawMeta,
    spec: Option<RawSpec>,
    status: Option<RawStatus>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawMeta {
    namespace: Option<String>,
    resource_version: Option<String>,
    generation: Option<i64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawSpec {
    version: String,
    image: Option<String>,
    replicas: Option<i32>,
    break_glass_ack: Option<String>,
    paused: Option<bool>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct RawStatus {
    phase: Option<String>,
    current_version: Option<String>,
    active_leader: Option<String>,
    ready_replicas: Option<i32>,
    #[serde(default)]
    conditions: Vec<RawCondition>,
    break_glass: Option<RawBreakGlass>,
    blue_green: Option<RawBlueGreen>,
    backup: Option<RawBackup>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawCondition {
    #[serde(rename = "type")]
    type_: String,
    status: String,
    reason: Option<String>,
    message: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawBreakGlass {
    active: Option<bool>,
    reason: Option<String>,
    message: Option<String>,
    nonce: Option<String>,
    entered_at: Option<Timestamp>,
    #[serde(default)]
    steps: Vec<String>,
    acknowledged_at: Option<Timestamp>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawBlueGreen {
    phase: Option<String>,
    blue_revision: Option<String>,
    green_revision: Option<String>,
    blue_image: Option<String>,
    #[serde(rename = "operationID")]
    operation_id: Option<String>,
    job_failure_count: Option<i32>,
    last_job_failure: Option<String>,
    rollback_reason: Option<String>,
    rollback_attempt: Option<i32>,
    pre_upgrade_snapshot_job_name: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawBackup {
    last_backup_name: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn incident_object() -> Value {
        json!({
            "apiVersion": "openbao.org/v1alpha1", "kind": "OpenBaoCluster",
            "metadata": {"name": "prod-cluster", "namespace": "security", "resourceVersion": "42", "generation": 3},
            "spec": {"version": "2.4.4", "replicas": 3},
            "status": {
                "phase": "Upgrading", "currentVersion": "2.4.3",
                "conditions": [{"type": "Degraded", "status": "True", "reason": "BreakGlassRequired"}],
                "breakGlass": {"active": true, "reason": "RollbackConsensusRepairFailed",
                    "message": "Rollback consensus repair Job upgrade-prod-cluster-bluegreen-repair-consensus-5054f3dfa7 failed; manual intervention required",
                    "nonce": "0123456789abcdef0123456789abcdef", "enteredAt": "2026-11-23T10:00:00Z", "steps": ["a", "b"]},
                "blueGreen": {"phase": "RollingBack", "blueRevision": "e8983038c519c718", "greenRevision": "269c4f7ba494030d", "rollbackAttempt": 0}
            }
        })
    }

    #[test]
    fn parses_the_incident_status() {
        let c = ClusterView::from_json(&incident_object()).unwrap();
        assert!(c.break_glass_active());
        assert_eq!(c.active_nonce(), Some("0123456789abcdef0123456789abcdef"));
        assert_eq!(
            c.failed_job_from_message().as_deref(),
            Some("upgrade-prod-cluster-bluegreen-repair-consensus-5054f3dfa7")
        );
        assert_eq!(
            c.blue_green.as_ref().unwrap().phase.as_deref(),
            Some("RollingBack")
        );
        assert_eq!(
            c.condition("Degraded").unwrap().reason.as_deref(),
            Some("BreakGlassRequired")
        );
    }

    #[test]
    fn acknowledged_break_glass_has_no_active_nonce() {
        let mut o = incident_object();
        o["status"]["breakGlass"]["active"] = json!(false);
        let c = ClusterView::from_json(&o).unwrap();
        assert!(!c.break_glass_active());
        assert_eq!(c.active_nonce(), None);
    }

    #[test]
    fn a_malformed_object_names_itself() {
        let mut o = incident_object();
        o["status"]["breakGlass"]["steps"] = json!("one string, as the docs claim");
        let e = ClusterView::from_json(&o).unwrap_err();
        assert_eq!(e.name, "prod-cluster");
        assert!(
            e.detail.contains("steps") || e.detail.contains("sequence"),
            "{e}"
        );
    }
}

//! The 0.6 operator's Kubernetes Events on the OpenBaoCluster, as the API server's core/v1
//! view shows them.
//!
//! The operator records through the events.k8s.io recorder (`m.recorder.Eventf(cluster, nil,
//! type, reason, reason, note, …)`, internal/service/upgrade/bluegreen `events.go`): `action`
//! equals `reason`, the note is the `message`, `eventTime` is a MicroTime, and
//! `reportingComponent`/`reportingInstance` name the controller and the controller plus its
//! pod. That recorder
//! never sets the deprecated fields, so in core/v1 `firstTimestamp`/`lastTimestamp` are null,
//! `count` is absent and `source` is empty; a repeat within the series window would add
//! `series` (the twin never repeats an identical event). The 0.1 line records none of these.

use jiff::Timestamp;
use serde_json::{Value, json};

use super::scenario::{OPERATOR_DEPLOYMENT, Topology};
use super::store::{ApiError, Resource};
use super::twin_api::TwinApi;

/// `reportingController` of the operator's recorder.
pub(crate) const REPORTING_CONTROLLER: &str = "openbao-operator";

pub const NORMAL: &str = "Normal";
pub const WARNING: &str = "Warning";

/// The reasons the twin records (internal/service/upgrade/bluegreen).
pub const UPGRADE_STARTED: &str = "UpgradeStarted";
pub const SNAPSHOT_JOB_CREATED: &str = "PreUpgradeSnapshotJobCreated";
pub const SNAPSHOT_COMPLETED: &str = "PreUpgradeSnapshotCompleted";
pub const UPGRADE_FAILED: &str = "UpgradeFailed";
pub const ROLLBACK_STARTED: &str = "RollbackStarted";
pub const BREAK_GLASS_ENTERED: &str = "BreakGlassEntered";
pub const BREAK_GLASS_ACKNOWLEDGED: &str = "BreakGlassAcknowledged";

/// The recorder's `reportingInstance`: `<reportingController>-<hostname>` (client-go
/// tools/events `NewRecorder`), the hostname being the operator pod's name.
fn reporting_instance() -> String {
    format!("{REPORTING_CONTROLLER}-{OPERATOR_DEPLOYMENT}-6b8f9c7d5-x2x9q")
}

/// MicroTime: RFC 3339 with microseconds, UTC.
fn micro_time(t: Timestamp) -> String {
    format!("{:.6}", t).replace("+00:00", "Z")
}

/// One Event about `cluster` (the stored OpenBaoCluster) at `at`. The name follows the
/// recorder: `<regarding name>.<unix nanos, hex>`.
pub fn event(cluster: &Value, type_: &str, reason: &str, message: &str, at: Timestamp) -> Value {
    let meta = |k: &str| cluster.pointer(&format!("/metadata/{k}")).cloned();
    let name = meta("name").and_then(|v| v.as_str().map(String::from));
    let name = name.unwrap_or_default();
    let ns = meta("namespace").unwrap_or(json!(""));
    let nanos = u64::try_from(at.as_nanosecond()).unwrap_or_default();
    json!({
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": format!("{name}.{nanos:x}"), "namespace": ns},
        "involvedObject": {
            "apiVersion": "openbao.org/v1alpha1", "kind": "OpenBaoCluster",
            "name": name, "namespace": ns,
            "uid": meta("uid").unwrap_or(json!("")),
            "resourceVersion": meta("resourceVersion").unwrap_or(json!("")),
        },
        "reason": reason,
        "message": message,
        "type": type_,
        "action": reason,
        "eventTime": micro_time(at),
        "reportingComponent": REPORTING_CONTROLLER,
        "reportingInstance": reporting_instance(),
        "source": {},
        "firstTimestamp": null,
        "lastTimestamp": null,
    })
}

/// Record an Event about the topology's cluster now, if this line records Events (0.6).
/// The operator ignores recorder failures; so does the twin (a warning in its log).
pub(crate) fn emit(store: &dyn TwinApi, topo: &Topology, type_: &str, reason: &str, message: &str) {
    if !topo.operator.is_06() {
        return;
    }
    let Some(cluster) = store.get(Resource::OpenBaoClusters, &topo.namespace, &topo.cluster) else {
        return;
    };
    let now = Timestamp::now();
    if let Err(e) = record(store, event(&cluster, type_, reason, message, now), now) {
        tracing::warn!(error = %e, reason, "operator twin: event not recorded");
    }
}

/// Store an Event created at its `eventTime` `at` (also for the seeded history).
pub fn record(store: &dyn TwinApi, ev: Value, at: Timestamp) -> Result<Value, ApiError> {
    store.create_at(Resource::Events, ev, at)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_core_view_of_a_recorder_event() {
        let cluster = json!({"metadata": {"name": "prod-cluster", "namespace": "security",
            "uid": "u-1", "resourceVersion": "42"}});
        let at: Timestamp = "2026-11-23T19:30:01.123456789Z".parse().unwrap();
        let e = event(&cluster, WARNING, BREAK_GLASS_ENTERED, "m", at);
        assert_eq!(
            e["metadata"]["name"],
            format!("prod-cluster.{:x}", at.as_nanosecond())
        );
        assert_eq!(e["eventTime"], "2026-11-23T19:30:01.123456Z");
        assert_eq!(e["action"], e["reason"]);
        assert_eq!(e["involvedObject"]["kind"], "OpenBaoCluster");
        assert_eq!(e["involvedObject"]["uid"], "u-1");
        assert!(e["lastTimestamp"].is_null() && e.get("count").is_none());
        assert_eq!(e["reportingComponent"], "openbao-operator");
    }
}

//! The Kubernetes controllers the twin plays besides the operator: the TTL-after-finished
//! controller (executor Jobs carry `ttlSecondsAfterFinished: 3600`, so a failed Job and its
//! pod's logs disappear an hour after it finished, dc-tec/openbao-operator@002fbdd `internal/upgrade/job.go`; the twin
//! sweeps once a second) and the Deployment controller's status for the operator itself
//! (scaling it to 0 is the runbook's Path C).
//!
//! The TTL is not scaled by the scenario speed: seeded timestamps are real times, and a
//! console must learn to live with the 404 that follows.

use jiff::{SignedDuration, Timestamp};
use serde_json::Value;

use super::store::Resource;
use super::twin_api::TwinApi;

/// When a finished Job becomes eligible for deletion, if it has a TTL and has finished.
pub(crate) fn expires_at(job: &Value) -> Option<Timestamp> {
    let ttl = job.pointer("/spec/ttlSecondsAfterFinished")?.as_i64()?;
    let finished = job
        .pointer("/status/conditions")
        .and_then(Value::as_array)?
        .iter()
        .filter(|c| (c["type"] == "Complete" || c["type"] == "Failed") && c["status"] == "True")
        .filter_map(|c| c["lastTransitionTime"].as_str()?.parse::<Timestamp>().ok())
        .max()?;
    finished.checked_add(SignedDuration::from_secs(ttl)).ok()
}

/// Delete every expired Job in `namespace` and its pods (the garbage collector's
/// background cascade). Returns the deleted Jobs' names.
pub(crate) fn sweep(store: &dyn TwinApi, namespace: &str, now: Timestamp) -> Vec<String> {
    let (jobs, _) = store.list(Resource::Jobs, Some(namespace));
    let mut gone = Vec::new();
    for job in jobs {
        if expires_at(&job).is_none_or(|t| t > now) {
            continue;
        }
        let Some(name) = job.pointer("/metadata/name").and_then(Value::as_str) else {
            continue;
        };
        if store.delete(Resource::Jobs, namespace, name).is_err() {
            continue;
        }
        let uid = job.pointer("/metadata/uid").and_then(Value::as_str);
        let (pods, _) = store.list(Resource::Pods, Some(namespace));
        for pod in pods.iter().filter(|p| {
            p.pointer("/metadata/ownerReferences")
                .and_then(Value::as_array)
                .is_some_and(|refs| refs.iter().any(|r| r["uid"].as_str() == uid))
        }) {
            if let Some(p) = pod.pointer("/metadata/name").and_then(Value::as_str) {
                let _ = store.delete(Resource::Pods, namespace, p);
            }
        }
        gone.push(name.to_string());
    }
    gone
}

/// The Deployment's status after its pods caught up with `spec.replicas`.
pub(crate) fn deployment_follows_spec(d: &mut Value) {
    let want = d["spec"]["replicas"].as_i64().unwrap_or(1);
    for k in [
        "replicas",
        "readyReplicas",
        "availableReplicas",
        "updatedReplicas",
    ] {
        d["status"][k] = Value::from(want);
    }
    let (status, reason) = if want > 0 {
        ("True", "MinimumReplicasAvailable")
    } else {
        ("False", "MinimumReplicasUnavailable")
    };
    if let Some(c) = d["status"]["conditions"]
        .as_array_mut()
        .and_then(|cs| cs.iter_mut().find(|c| c["type"] == "Available"))
    {
        c["status"] = Value::from(status);
        c["reason"] = Value::from(reason);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::store::Store;
    use serde_json::json;

    fn job(name: &str, finished: &str) -> Value {
        json!({"metadata": {"name": name, "namespace": "security"},
            "spec": {"ttlSecondsAfterFinished": 3600},
            "status": {"conditions": [{"type": "Failed", "status": "True", "lastTransitionTime": finished}]}})
    }

    #[test]
    fn finished_jobs_expire_an_hour_later() {
        let j = job("a", "2026-11-23T10:00:00Z");
        assert_eq!(
            expires_at(&j),
            Some("2026-11-23T11:00:00Z".parse().unwrap())
        );
        let running = json!({"spec": {"ttlSecondsAfterFinished": 3600}, "status": {"active": 1}});
        assert_eq!(expires_at(&running), None);
    }

    #[test]
    fn the_sweep_deletes_expired_jobs_and_their_pods_only() {
        let store = Store::new();
        let old = store
            .create(Resource::Jobs, job("old", "2026-11-23T10:00:00Z"))
            .unwrap();
        store
            .create(Resource::Jobs, job("new", "2026-11-23T10:59:00Z"))
            .unwrap();
        let uid = old["metadata"]["uid"].as_str().unwrap();
        store
            .create(
                Resource::Pods,
                json!({"metadata": {"name": "old-x7k2q", "namespace": "security",
                    "ownerReferences": [{"kind": "Job", "name": "old", "uid": uid}]}}),
            )
            .unwrap();
        let now: Timestamp = "2026-11-23T11:00:01Z".parse().unwrap();
        assert_eq!(sweep(&store, "security", now), ["old"]);
        assert!(store.get(Resource::Jobs, "security", "old").is_none());
        assert!(store.get(Resource::Pods, "security", "old-x7k2q").is_none());
        assert!(store.get(Resource::Jobs, "security", "new").is_some());
    }
}

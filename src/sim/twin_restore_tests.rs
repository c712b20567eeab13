//! The twin's restore controller: its refusals, its Job and executor log, its phases.

use super::*;

fn restore(spec: Value) -> Value {
    json!({"apiVersion": "openbao.org/v1alpha1", "kind": "OpenBaoRestore",
        "metadata": {"name": "r1", "namespace": "security", "uid": "u-1"}, "spec": spec})
}

fn cluster(lock: bool, upgrading: bool) -> Value {
    let mut c = json!({"metadata": {"name": "prod-cluster"},
        "spec": {"replicas": 3},
        "status": {"initialized": true,
            "conditions": [{"type": "Upgrading", "status": if upgrading { "True" } else { "False" }}]}});
    if lock {
        c["status"]["operationLock"] =
            json!({"operation": "Upgrade", "holder": "openbaocluster/upgrade"});
    }
    c
}

fn spec(force: bool, override_lock: bool) -> Value {
    json!({"cluster": "prod-cluster", "source": {"key": "k.snap", "target": {"bucket": "b"}},
        "jwtAuthRole": "backup", "force": force, "overrideOperationLock": override_lock})
}

#[test]
fn the_controllers_refusals_use_its_messages() {
    let c = cluster(true, true);
    assert_eq!(
        validate(&restore(spec(false, true)), Some(&c)),
        Validation::Fail("overrideOperationLock requires force: true".into())
    );
    assert_eq!(
        validate(&restore(spec(true, false)), Some(&c)),
        Validation::WaitLock(
            "Waiting for cluster operation lock: operation=Upgrade holder=openbaocluster/upgrade"
                .into()
        ),
        "without the override the Upgrade lock is waited on, forever"
    );
    assert_eq!(
        validate(&restore(spec(false, false)), Some(&cluster(false, true))),
        Validation::Fail("cannot restore while cluster is upgrading".into())
    );
    assert_eq!(
        validate(&restore(spec(true, true)), Some(&c)),
        Validation::Proceed {
            override_lock: true
        }
    );
    assert!(matches!(
        validate(&restore(spec(true, true)), None),
        Validation::Fail(m) if m == "target cluster \"prod-cluster\" not found"
    ));
    let mut no_auth = spec(true, true);
    no_auth.as_object_mut().unwrap().remove("jwtAuthRole");
    assert!(matches!(
        validate(&restore(no_auth), Some(&c)),
        Validation::Fail(m) if m.starts_with("authentication is required")
    ));
}

#[test]
fn the_job_and_the_executor_log_are_the_real_ones() {
    let r = restore(spec(true, true));
    let c = cluster(true, true);
    let job = restore_job(&r, &c, crate::sim::operator_line::OperatorLine::V01);
    assert_eq!(job["metadata"]["name"], "restore-r1");
    assert_eq!(
        job["metadata"]["labels"]["openbao.org/component"],
        "restore"
    );
    assert_eq!(
        job["metadata"]["labels"]["app.kubernetes.io/managed-by"],
        "openbao-operator"
    );
    let container = &job["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(container["name"], "restore");
    assert!(
        container["env"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["name"] == "EXECUTOR_MODE" && e["value"] == "restore")
    );
    assert_eq!(
        job["spec"]["template"]["spec"]["serviceAccountName"],
        "prod-cluster-restore-serviceaccount"
    );
    // Blue/Green pods are `<cluster>-<rev>-<i>`: no leader, exit 3.
    let bg =
        json!({"metadata": {"name": "prod-cluster-abc-0", "labels": {"openbao-active": "true"}}});
    assert_eq!(find_leader("prod-cluster", 3, &[bg]), None);
    let (lines, exit) = executor_log(&r, &c, "prod-cluster", None);
    assert_eq!(exit, EXIT_LEADER_DISCOVERY);
    assert_eq!(lines[0], "Starting restore operation...");
    assert_eq!(
        lines.last().unwrap(),
        "bao-restore error: failed to find leader: no leader found among 3 pods after 5 attempts"
    );
    let plain =
        json!({"metadata": {"name": "prod-cluster-1", "labels": {"openbao-active": "true"}}});
    let leader = find_leader("prod-cluster", 3, &[plain]);
    assert_eq!(leader.as_deref(), Some("prod-cluster-1"));
    // From the 0.5 line on the executor probes the active Blue StatefulSet.
    let mut bg_cluster = c.clone();
    bg_cluster["status"]["blueGreen"]["blueRevision"] = json!("abc");
    let v06 = target_statefulset(&bg_cluster, crate::sim::operator_line::OperatorLine::V06);
    assert_eq!(v06, "prod-cluster-abc");
    let v01 = target_statefulset(&bg_cluster, crate::sim::operator_line::OperatorLine::V01);
    assert_eq!(v01, "prod-cluster");
    let bg =
        json!({"metadata": {"name": "prod-cluster-abc-0", "labels": {"openbao-active": "true"}}});
    assert_eq!(
        find_leader(&v06, 3, &[bg]).as_deref(),
        Some("prod-cluster-abc-0")
    );
    let (lines, exit) = executor_log(&r, &c, "prod-cluster", leader.as_deref());
    assert_eq!(exit, 0);
    assert_eq!(
        lines.last().unwrap(),
        "Restore completed successfully from: k.snap"
    );
}

#[test]
fn phases_set_times_and_the_restore_complete_condition() {
    let mut r = restore(spec(true, true));
    let now: Timestamp = "2026-11-23T10:00:00Z".parse().unwrap();
    set_phase(&mut r, "Running", "Restore job running", now);
    assert_eq!(r["status"]["startTime"], "2026-11-23T10:00:00Z");
    set_phase(&mut r, "Failed", "Restore job failed: x", now);
    assert_eq!(r["status"]["conditions"][0]["type"], "RestoreComplete");
    assert_eq!(r["status"]["conditions"][0]["reason"], "RestoreFailed");
}

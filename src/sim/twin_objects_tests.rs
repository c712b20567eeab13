//! Tests of `twin_objects`.

use super::*;
use crate::sim::scenario::Scenario;

fn topo() -> Topology {
    Topology::of(&Scenario::named("transient").unwrap())
}

#[test]
fn openbao_pods_carry_the_labels_the_console_groups_by() {
    let p = openbao_pod(
        &topo(),
        false,
        1,
        "u",
        NodeLabels {
            active: true,
            sealed: false,
            crashloop: None,
        },
        Timestamp::UNIX_EPOCH,
    );
    assert_eq!(p["metadata"]["name"], "prod-cluster-269c4f7ba494030d-1");
    let l = &p["metadata"]["labels"];
    assert_eq!(l["openbao.org/revision"], "269c4f7ba494030d");
    assert_eq!(l["openbao.org/cluster"], "prod-cluster");
    assert_eq!(l["openbao-active"], "true");
    assert_eq!(l["openbao-version"], "2.4.4");
    assert_eq!(p["status"]["containerStatuses"][0]["name"], "openbao");
}

#[test]
fn crashlooping_pods_are_waiting_and_not_ready() {
    let p = openbao_pod(
        &topo(),
        false,
        0,
        "u",
        NodeLabels {
            active: false,
            sealed: true,
            crashloop: Some(7),
        },
        Timestamp::UNIX_EPOCH,
    );
    let cs = &p["status"]["containerStatuses"][0];
    assert_eq!(cs["state"]["waiting"]["reason"], "CrashLoopBackOff");
    assert_eq!(cs["restartCount"], 7);
    assert_eq!(cs["ready"], false);
}

#[test]
fn executor_jobs_follow_build_upgrade_executor_job() {
    let mut j = executor_job(&topo(), "bluegreen-repair-consensus", "rollback", "cuid");
    assert_eq!(
        j["metadata"]["name"],
        "upgrade-prod-cluster-bluegreen-repair-consensus-5054f3dfa7"
    );
    assert_eq!(
        j["metadata"]["annotations"]["openbao.org/upgrade-run-id"],
        "rollback"
    );
    assert_eq!(j["metadata"]["labels"]["openbao.org/component"], "upgrade");
    assert_eq!(j["spec"]["backoffLimit"], 0);
    assert_eq!(j["spec"]["ttlSecondsAfterFinished"], 3600);
    assert_eq!(j["metadata"]["ownerReferences"][0]["uid"], "cuid");
    add_job_selector(&mut j, "juid");
    let p = job_pod(&j, "juid", "x7k2q");
    assert_eq!(
        p["metadata"]["name"],
        "upgrade-prod-cluster-bluegreen-repair-consensus-5054f3dfa7-x7k2q"
    );
    for k in ["batch.kubernetes.io/job-name", "job-name"] {
        assert_eq!(p["metadata"]["labels"][k], j["metadata"]["name"]);
    }
    for k in ["batch.kubernetes.io/controller-uid", "controller-uid"] {
        assert_eq!(p["metadata"]["labels"][k], "juid");
    }
    assert_eq!(p["metadata"]["ownerReferences"][0]["kind"], "Job");
    assert_eq!(p["spec"]["containers"][0]["name"], "upgrade-executor");
    assert!(
        executor_job(&topo(), "x", "", "c")["metadata"]["annotations"]
            .get("openbao.org/upgrade-run-id")
            .is_none()
    );
}

#[test]
fn failed_jobs_report_backoff_limit_exceeded() {
    let s = job_status(
        JobPhase::Failed,
        Timestamp::UNIX_EPOCH,
        Timestamp::UNIX_EPOCH,
    );
    assert_eq!(s["conditions"][1]["type"], "Failed");
    assert_eq!(s["conditions"][1]["reason"], "BackoffLimitExceeded");
    let p = job_pod_status(
        "upgrade-executor",
        "i",
        PodRun::Exited(2),
        Timestamp::UNIX_EPOCH,
        Timestamp::UNIX_EPOCH,
    );
    assert_eq!(p["phase"], "Failed");
    assert_eq!(
        p["containerStatuses"][0]["state"]["terminated"]["exitCode"],
        2
    );
}

#[test]
fn pvcs_and_the_operator_deployment_use_the_real_names() {
    let c = pvc(&topo(), true, 0);
    assert_eq!(
        c["metadata"]["name"],
        "data-prod-cluster-e8983038c519c718-0"
    );
    assert_eq!(
        c["metadata"]["finalizers"][0],
        "kubernetes.io/pvc-protection"
    );
    let d = operator_deployment(OperatorLine::V01);
    assert_eq!(d["metadata"]["name"], "openbao-operator-controller");
    assert_eq!(d["metadata"]["namespace"], "openbao-operator-system");
    assert_eq!(
        d["spec"]["selector"]["matchLabels"]["app.kubernetes.io/component"],
        "controller"
    );
}

//! When the twin does not act, and the runbook's "stay Green / revert" variant
//! (dc-tec/openbao-operator@002fbdd `api/v1alpha1/openbaocluster_types.go` `spec.paused`, `cmd/controller/run.go` scaling the controller, `internal/upgrade/bluegreen/manager.go` Path B variants).
use crate::support::twin::{Setup, s, start};
use breakglass::domain::ClusterView;
use breakglass::sim::store::Resource;
use serde_json::json;

const GREEN: &str = "269c4f7ba494030d";
const RETRY_1: &str = "upgrade-prod-cluster-bluegreen-repair-consensus-5ac3d8f609";

fn scale_operator(t: &Setup, replicas: i64) {
    t.store
        .modify(
            Resource::Deployments,
            "openbao-operator-system",
            "openbao-operator-controller",
            |d| d["spec"]["replicas"] = json!(replicas),
        )
        .unwrap();
}

fn available(t: &Setup) -> i64 {
    t.store
        .get(
            Resource::Deployments,
            "openbao-operator-system",
            "openbao-operator-controller",
        )
        .unwrap()["status"]["availableReplicas"]
        .as_i64()
        .unwrap()
}

#[tokio::test]
async fn a_scaled_down_operator_acts_on_the_ack_only_once_it_is_back() {
    let mut t = start("persistent");
    scale_operator(&t, 0);
    t.until("the controller pod gone", |t| {
        (available(t) == 0).then_some(())
    })
    .await;
    let nonce = t.seeded.nonce.clone();
    t.ack(&nonce);
    let window = t
        .scenario
        .delay(2 * (t.scenario.timing.ack_to_status_ms + t.scenario.timing.status_to_job_ms));
    let seen = t.changes_within(window).await;
    assert_eq!(seen.len(), 1, "only the ack itself: nobody reconciles");
    assert!(
        ClusterView::from_json(&t.cluster())
            .unwrap()
            .break_glass_active()
    );

    scale_operator(&t, 1);
    t.until("the retry Job once the operator is back", |t| {
        t.job_named(RETRY_1)
    })
    .await;
    t.until("a new break glass", |t| {
        let c = ClusterView::from_json(&t.cluster()).unwrap();
        c.active_nonce().filter(|n| *n != nonce).map(|_| ())
    })
    .await;
}

#[tokio::test]
async fn a_paused_cluster_ignores_the_ack_until_unpaused() {
    let mut t = start("persistent");
    t.store
        .modify(Resource::OpenBaoClusters, "security", "prod-cluster", |o| {
            o["spec"]["paused"] = json!(true);
            o["spec"]["breakGlassAck"] = json!(t.seeded.nonce);
        })
        .unwrap();
    let window = t
        .scenario
        .delay(2 * (t.scenario.timing.ack_to_status_ms + t.scenario.timing.status_to_job_ms));
    assert_eq!(t.changes_within(window).await.len(), 1);
    t.store
        .modify(Resource::OpenBaoClusters, "security", "prod-cluster", |o| {
            o["spec"]["paused"] = json!(false)
        })
        .unwrap();
    t.until("the retry Job after unpausing", |t| t.job_named(RETRY_1))
        .await;
}

#[tokio::test]
async fn reverting_to_blue_and_acknowledging_deletes_green_without_repair() {
    let mut t = start("persistent");
    let nonce = t.seeded.nonce.clone();
    t.store
        .modify(Resource::OpenBaoClusters, "security", "prod-cluster", |o| {
            o["spec"]["version"] = json!("2.4.3");
            o["spec"]["image"] = json!("openbao/openbao:2.4.3");
            o["spec"]["breakGlassAck"] = json!(nonce);
        })
        .unwrap();
    t.until("Idle", |t| {
        (s(&t.cluster(), "/status/blueGreen/phase") == "Idle").then_some(())
    })
    .await;
    t.until("Green pods gone", |t| {
        t.store
            .get(
                Resource::Pods,
                "security",
                &format!("prod-cluster-{GREEN}-0"),
            )
            .is_none()
            .then_some(())
    })
    .await;
    assert!(t.job_named(RETRY_1).is_none(), "no Raft repair Job");
    assert!(
        t.store
            .get(
                Resource::StatefulSets,
                "security",
                &format!("prod-cluster-{GREEN}")
            )
            .is_none()
    );
    assert_eq!(s(&t.cluster(), "/status/blueGreen/greenRevision"), "");
}

#[tokio::test]
async fn finished_jobs_disappear_after_their_ttl() {
    let mut t = start("transient");
    let failed = t.seeded.failed_job.clone();
    // Pretend the first repair Job finished more than an hour ago.
    t.store
        .modify(Resource::Jobs, "security", &failed, |j| {
            for c in j["status"]["conditions"].as_array_mut().unwrap() {
                c["lastTransitionTime"] = json!("2020-01-01T00:00:00Z");
            }
        })
        .unwrap();
    assert_eq!(t.pods_of_job(&failed).len(), 1);
    t.until("the TTL controller deleting the Job", |t| {
        t.job_named(&failed).is_none().then_some(())
    })
    .await;
    t.until("its pod gone too", |t| {
        t.pods_of_job(&failed).is_empty().then_some(())
    })
    .await;
    assert!(
        t.job_named(&t.seeded.forward_job).is_some(),
        "unexpired Jobs stay"
    );
}

fn set_spec(t: &Setup, key: &str, value: serde_json::Value) {
    t.store
        .modify(Resource::OpenBaoClusters, "security", "prod-cluster", |o| {
            o["spec"][key] = value
        })
        .unwrap();
}

/// Pausing while the retry Job runs: the Job finishes (Kubernetes runs it), the operator
/// does not act on it — no Blue takeover, no cleanup — until unpaused, then it carries on
/// from the finished Job (0.6: the cleanup, Green retired, Idle).
#[tokio::test]
async fn pausing_mid_retry_holds_the_operator_and_unpausing_resumes_from_the_job() {
    use breakglass::sim::operator_line::OperatorLine;
    let mut t = crate::support::twin::start_on("transient", OperatorLine::V06);
    let nonce = t.seeded.nonce.clone();
    t.ack(&nonce);
    let retry = t.topo.repair_job(1);
    t.until("the retry Job running", |t| t.job_named(&retry))
        .await;
    set_spec(&t, "paused", json!(true));
    t.until("the retry Job finished", |t| {
        t.job_named(&retry)
            .filter(|j| j["status"]["succeeded"] == 1)
    })
    .await;
    let window = t
        .scenario
        .delay(t.scenario.timing.blue_leader_ms + t.scenario.timing.cleanup_job_ms);
    let seen = t.changes_within(window).await;
    let jobs: Vec<(String, serde_json::Value)> = seen
        .iter()
        // The retry's own last status write may still be queued.
        .filter(|c| c.resource == Resource::Jobs && s(&c.object, "/metadata/name") != retry)
        .map(|c| (s(&c.object, "/metadata/name"), c.object["status"].clone()))
        .collect();
    assert!(jobs.is_empty(), "no cleanup Job while paused: {jobs:#?}");
    assert_eq!(s(&t.cluster(), "/status/blueGreen/phase"), "RollingBack");

    set_spec(&t, "paused", json!(false));
    t.until("Idle after unpausing", |t| {
        (s(&t.cluster(), "/status/blueGreen/phase") == "Idle").then_some(())
    })
    .await;
    let cleanup = t.topo.rollback_job("bluegreen-remove-green-peers", 1);
    assert!(t.job_named(&cleanup).is_some());
}

/// 0.1: reverting `spec.version` while the retry Job runs. The Job succeeds, and the next
/// reconcile's `handleNoUpgradeNeeded` deletes Green without the RollbackCleanup Job.
#[tokio::test]
async fn a_revert_during_the_retry_turns_its_success_into_green_deletion() {
    let mut t = start("transient");
    let nonce = t.seeded.nonce.clone();
    t.ack(&nonce);
    let retry = t.topo.repair_job(1);
    t.until("the retry Job", |t| t.job_named(&retry)).await;
    set_spec(&t, "version", json!("2.4.3"));
    t.until("Idle", |t| {
        (s(&t.cluster(), "/status/blueGreen/phase") == "Idle").then_some(())
    })
    .await;
    assert_eq!(t.job_named(&retry).unwrap()["status"]["succeeded"], 1);
    assert!(
        t.jobs()
            .iter()
            .all(|j| !s(j, "/metadata/name").contains("remove-blue-peers")),
        "no cleanup Job: Green is deleted directly"
    );
    assert!(
        t.store
            .get(
                Resource::StatefulSets,
                "security",
                &format!("prod-cluster-{GREEN}")
            )
            .is_none()
    );
}

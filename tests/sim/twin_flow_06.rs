//! The twin playing the 0.6 line (dc-tec 0.5.1 / kubebao 0.6): operation-scoped run IDs in
//! Job names and annotations, the second break-glass reason and its retry, the
//! remove-green-peers cleanup that retires Green's data, no abort for a crash-looping Green,
//! and the operator's Events. Real store, test speed, bounded waits.
use crate::support::twin::{Setup, s, start_on};
use breakglass::domain::ClusterView;
use breakglass::domain::naming;
use breakglass::sim::operator_line::OperatorLine;
use breakglass::sim::store::Resource;
use serde_json::Value;

const REPAIR: &str = "bluegreen-repair-consensus";
const CLEANUP: &str = "bluegreen-remove-green-peers";

fn view(t: &Setup) -> ClusterView {
    ClusterView::from_json(&t.cluster()).unwrap()
}

fn phase(t: &Setup) -> String {
    s(&t.cluster(), "/status/blueGreen/phase")
}

fn op_id(t: &Setup) -> String {
    t.topo.operation_id.clone()
}

/// The Job of `action` for rollback attempt `attempt`, by the operator's own name (computed
/// here from the operation ID, independently of the twin's Topology helpers).
fn job_for(t: &Setup, action: &str, attempt: i32) -> String {
    let run = if attempt == 0 {
        format!("{}/rollback", op_id(t))
    } else {
        format!("{}/rollback-retry-{attempt}", op_id(t))
    };
    naming::executor_job_name(
        "prod-cluster",
        action,
        &run,
        &t.topo.blue_rev,
        &t.topo.green_rev,
    )
}

fn annotations(job: &Value) -> (String, String) {
    (
        s(job, "/metadata/annotations/openbao.org~1upgrade-action"),
        s(job, "/metadata/annotations/openbao.org~1upgrade-run-id"),
    )
}

fn green_gone(t: &Setup) -> bool {
    let ns = "security";
    let sts = t
        .store
        .get(Resource::StatefulSets, ns, &t.topo.statefulset(false));
    sts.is_none()
        && (0..3).all(|n| {
            t.store
                .get(Resource::Pods, ns, &t.topo.pod(false, n))
                .is_none()
                && t.store
                    .get(Resource::PersistentVolumeClaims, ns, &t.topo.pvc(false, n))
                    .is_none()
        })
}

#[tokio::test]
async fn cleanup_failed_retry_removes_the_last_green_peer_and_retires_green() {
    let mut t = start_on("cleanup-failed", OperatorLine::V06);
    let op = op_id(&t);
    assert!(op.starts_with("bg-v2-") && op.len() == 6 + 36, "{op}");
    let c = t.cluster();
    assert_eq!(s(&c, "/status/blueGreen/operationID"), op);
    assert_eq!(phase(&t), "RollbackCleanup");
    let failed = job_for(&t, CLEANUP, 0);
    assert_eq!(t.seeded.failed_job, failed);
    assert_eq!(
        s(&c, "/status/breakGlass/reason"),
        "RollbackCleanupPeerRemovalFailed"
    );
    assert_eq!(
        s(&c, "/status/breakGlass/message"),
        format!("Rollback cleanup peer-removal Job {failed} failed; manual intervention required")
    );
    assert_eq!(
        s(&c, "/status/breakGlass/steps/0"),
        format!("Inspect rollback cleanup Job logs: kubectl -n security logs job/{failed}")
    );
    assert!(s(&c, "/status/breakGlass/steps/3").starts_with("Remove any stale Green peers"));
    // The seeded repair (succeeded) and cleanup (failed) share the scoped run ID.
    for (action, state) in [(REPAIR, "succeeded"), (CLEANUP, "failed")] {
        let job = t.job_named(&job_for(&t, action, 0)).expect(action);
        assert_eq!(
            annotations(&job),
            (action.to_string(), format!("{op}/rollback"))
        );
        assert_eq!(job["status"][state], 1, "{action}");
    }
    // Seeded with their real ages: the repair Job before the cleanup Job, minutes ago.
    let created = |action: &str| {
        let j = t.job_named(&job_for(&t, action, 0)).unwrap();
        s(&j, "/metadata/creationTimestamp")
            .parse::<jiff::Timestamp>()
            .unwrap()
    };
    assert!(created(REPAIR) < created(CLEANUP));
    assert!(jiff::Timestamp::now().as_second() - created(CLEANUP).as_second() >= 60);
    let (seeded_log, _) = t.executor_log(&failed);
    assert!(seeded_log.last().unwrap().starts_with(&format!(
        "upgrade-executor error: failed to remove Raft peer \"prod-cluster-{}-2\"",
        t.topo.green_rev
    )));
    // Two Green peers went before the failure; the third is still a member.
    assert_eq!(
        t.twin.openbao().model().members(false),
        [t.topo.pod(false, 2)]
    );
    let events = t.events();
    let last = events.last().unwrap();
    assert_eq!(
        (last.0.as_str(), last.1.as_str()),
        ("Warning", "BreakGlassEntered")
    );
    assert_eq!(
        last.2,
        format!("Break glass entered after rollback cleanup peer-removal Job {failed} failed")
    );

    let nonce = t.seeded.nonce.clone();
    t.ack(&nonce);
    let retry = job_for(&t, CLEANUP, 1);
    let job = t
        .until("the cleanup retry Job", |t| t.job_named(&retry))
        .await;
    assert_eq!(
        annotations(&job),
        (CLEANUP.to_string(), format!("{op}/rollback-retry-1"))
    );
    assert_eq!(t.cluster()["status"]["blueGreen"]["rollbackAttempt"], 1);
    assert!(
        t.job_named(&job_for(&t, REPAIR, 1)).is_none(),
        "the repair is not rerun"
    );
    t.until("Idle with Green retired", |t| {
        (phase(t) == "Idle" && green_gone(t)).then_some(())
    })
    .await;
    let (log, ended) = t.executor_log(&retry);
    assert!(ended);
    let removing: Vec<&String> = log
        .iter()
        .filter(|l| l.contains("\tRemoving Raft peer\t"))
        .collect();
    assert_eq!(removing.len(), 1, "{log:#?}");
    assert!(removing[0].contains(&format!("\"node_id\": \"{}\"", t.topo.pod(false, 2))));
    assert!(removing[0].contains("\"target\": \"Green\""));
    assert!(log.iter().any(|l| l.contains("\tRaft peers removed\t")));
    let m = t.twin.openbao().model();
    assert!(m.members(false).is_empty());
    assert_eq!(m.members(true).len(), 3, "Blue stays whole");
    assert!(m.leader.as_deref().is_some_and(|l| m.nodes[l].blue));
    drop(m);
    let c = view(&t);
    assert!(!c.break_glass_active());
    assert_eq!(c.blue_green.unwrap().green_revision, None);
    let reasons: Vec<String> = t.events().into_iter().map(|e| e.1).collect();
    assert!(reasons.contains(&"BreakGlassAcknowledged".to_string()));
}

#[tokio::test]
async fn transient_retry_uses_scoped_run_ids_and_the_green_peer_cleanup() {
    let mut t = start_on("transient", OperatorLine::V06);
    let op = op_id(&t);
    let d = t
        .store
        .get(
            Resource::Deployments,
            "openbao-operator-system",
            "openbao-operator-controller",
        )
        .unwrap();
    let manager = &d["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(manager["image"], "ghcr.io/kubebao/openbao-operator:0.6.0");
    assert_eq!(manager["env"][0]["name"], "OPERATOR_VERSION");
    assert_eq!(
        d["metadata"]["labels"]["app.kubernetes.io/version"],
        "0.6.0"
    );
    let failed = job_for(&t, REPAIR, 0);
    assert_eq!(t.seeded.failed_job, failed);
    assert_eq!(
        s(&t.cluster(), "/status/breakGlass/message"),
        format!("Rollback consensus repair Job {failed} failed; manual intervention required")
    );
    let (seeded_log, _) = t.executor_log(&failed);
    assert!(
        seeded_log
            .iter()
            .any(|l| l.contains("\tFailed to find leader among Blue pods, checking Green pods\t"))
    );
    let nonce = t.seeded.nonce.clone();
    t.ack(&nonce);
    let repair = job_for(&t, REPAIR, 1);
    let job = t.until("the repair retry", |t| t.job_named(&repair)).await;
    assert_eq!(
        annotations(&job),
        (REPAIR.to_string(), format!("{op}/rollback-retry-1"))
    );
    assert!(
        s(&job, "/spec/template/spec/containers/0/image")
            .starts_with("ghcr.io/kubebao/openbao-upgrade:")
    );
    t.until("Idle", |t| (phase(t) == "Idle").then_some(()))
        .await;
    let cleanup = t.job_named(&job_for(&t, CLEANUP, 1)).expect("cleanup Job");
    assert_eq!(
        annotations(&cleanup),
        (CLEANUP.to_string(), format!("{op}/rollback-retry-1"))
    );
    assert!(
        t.jobs()
            .iter()
            .all(|j| !s(j, "/metadata/name").contains("remove-blue-peers")),
        "0.6 never runs the Blue-peer removal in RollbackCleanup"
    );
    assert!(green_gone(&t), "Green StatefulSet, pods and PVCs retired");
    let m = t.twin.openbao().model();
    assert_eq!(m.members(true).len(), 3);
    assert!(m.members(false).is_empty());
    drop(m);
    assert_eq!(s(&t.cluster(), "/status/blueGreen/operationID"), "");
}

#[tokio::test]
async fn a_crash_looping_green_no_longer_aborts_on_0_6() {
    let mut t = start_on("green-crashloop", OperatorLine::V06);
    let nonce = t.seeded.nonce.clone();
    t.ack(&nonce);
    let repair = job_for(&t, REPAIR, 1);
    t.until("a repair Job despite the crash loop", |t| {
        t.job_named(&repair)
    })
    .await;
    t.until("Idle after the cleanup", |t| {
        (phase(t) == "Idle" && green_gone(t)).then_some(())
    })
    .await;
    assert!(t.job_named(&job_for(&t, CLEANUP, 1)).is_some());
}

#[tokio::test]
async fn persistent_failures_enter_break_glass_with_an_event_each_time() {
    let mut t = start_on("persistent", OperatorLine::V06);
    let first = t.seeded.nonce.clone();
    t.ack(&first);
    let retry = job_for(&t, REPAIR, 1);
    t.until("a new break glass", |t| {
        let c = view(t);
        c.active_nonce().filter(|n| *n != first).map(String::from)
    })
    .await;
    let entered: Vec<String> = t
        .events()
        .into_iter()
        .filter(|e| e.1 == "BreakGlassEntered")
        .map(|e| e.2)
        .collect();
    assert_eq!(
        entered.last().unwrap(),
        &format!("Break glass entered after rollback consensus repair Job {retry} failed")
    );
    assert_eq!(entered.len(), 2, "{entered:?}");
    let order: Vec<String> = t.events().into_iter().map(|e| e.1).collect();
    assert_eq!(
        order[..5],
        [
            "UpgradeStarted",
            "PreUpgradeSnapshotJobCreated",
            "PreUpgradeSnapshotCompleted",
            "UpgradeFailed",
            "RollbackStarted"
        ]
    );
}

#[tokio::test]
async fn the_0_1_line_records_no_events_and_cleanup_failed_is_0_6_only() {
    let t = crate::support::twin::start("transient");
    assert!(t.events().is_empty());
    assert_eq!(t.topo.operation_id, "");
    let e = breakglass::sim::scenario::Scenario::named("cleanup-failed")
        .unwrap()
        .with_operator(OperatorLine::V01)
        .unwrap_err();
    assert!(e.to_string().contains("0.6"), "{e}");
}

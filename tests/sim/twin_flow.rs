//! The twin reacting to acknowledgements, per scenario (dc-tec/openbao-operator@002fbdd `internal/upgrade/bluegreen/break_glass.go`, `internal/upgrade/bluegreen/manager.go`), on a
//! real store at test speed. Every wait is bounded and driven by store change events.
use std::time::Duration;

use crate::support::twin::{Setup, s, start};
use breakglass::domain::ClusterView;
use breakglass::sim::store::{ChangeType, Resource};

const BLUE: &str = "e8983038c519c718";
const GREEN: &str = "269c4f7ba494030d";
const RETRY_1: &str = "upgrade-prod-cluster-bluegreen-repair-consensus-5ac3d8f609";
const RETRY_2: &str = "upgrade-prod-cluster-bluegreen-repair-consensus-3c2ed27482";

fn view(t: &Setup) -> ClusterView {
    ClusterView::from_json(&t.cluster()).unwrap()
}

fn phase(t: &Setup) -> String {
    s(&t.cluster(), "/status/blueGreen/phase")
}

fn log_of(t: &Setup, job: &str) -> (Vec<String>, bool) {
    t.executor_log(job)
}

#[tokio::test]
async fn transient_ack_retries_and_the_retry_succeeds_into_idle() {
    let mut t = start("transient");
    let nonce = t.seeded.nonce.clone();
    t.ack(&nonce);

    t.until("the acknowledgement in status", |t| {
        let c = view(t);
        (!c.break_glass_active()).then_some(())
    })
    .await;
    let c = t.cluster();
    assert_eq!(c["status"]["blueGreen"]["rollbackAttempt"], 1);
    assert_eq!(c["status"]["blueGreen"]["jobFailureCount"], 0);
    assert_eq!(c["status"]["blueGreen"]["lastJobFailure"], "");
    assert!(!s(&c, "/status/breakGlass/acknowledgedAt").is_empty());
    assert_eq!(
        s(&c, "/status/breakGlass/nonce"),
        nonce,
        "breakGlass stays, inactive"
    );

    let job = t
        .until("the rollback-retry-1 Job", |t| t.job_named(RETRY_1))
        .await;
    assert_eq!(
        job["metadata"]["annotations"]["openbao.org/upgrade-run-id"],
        "rollback-retry-1"
    );
    assert_eq!(
        job["metadata"]["annotations"]["openbao.org/upgrade-action"],
        "bluegreen-repair-consensus"
    );

    // Lines arrive while the container runs (streamed, not written at once).
    let partial = t
        .until_log("a first streamed line", |t| {
            let (lines, done) = log_of(t, RETRY_1);
            (!lines.is_empty()).then_some((lines.len(), done))
        })
        .await;
    assert!(!partial.1, "the first line came before the container ended");

    t.until("Idle after RollbackCleanup", |t| {
        (phase(t) == "Idle").then_some(())
    })
    .await;
    let (lines, done) = log_of(&t, RETRY_1);
    assert!(done && lines.len() > partial.0);
    assert!(lines.last().unwrap().contains("Consensus repair completed"));
    assert!(
        !lines
            .iter()
            .any(|l| l.starts_with("upgrade-executor error:"))
    );

    let c = view(&t);
    assert_eq!(c.blue_green.as_ref().unwrap().green_revision, None);
    assert_eq!(c.condition("Degraded").unwrap().status, "False");
    let up = c.condition("Upgrading").unwrap();
    assert_eq!(
        (up.status.as_str(), up.reason.as_deref()),
        ("False", Some("Idle"))
    );
    // spec.version still differs from currentVersion: the real operator would start again.
    assert_eq!(c.current_version.as_deref(), Some("2.4.3"));
    assert_eq!(c.spec_version, "2.4.4");
    let leader = c.active_leader.clone().unwrap();
    assert!(
        leader.starts_with(&format!("prod-cluster-{BLUE}-")),
        "{leader}"
    );

    // RollbackCleanup uses the same run ID as the attempt (`rollback-retry-1` here).
    let cleanup_1 = t
        .topo
        .job("bluegreen-remove-blue-peers", "rollback-retry-1");
    assert!(cleanup_1.starts_with("upgrade-prod-cluster-bluegreen-remove-blue-peers-"));
    let cleanup = t.job_named(&cleanup_1).expect("the RollbackCleanup Job");
    assert_eq!(
        cleanup["metadata"]["annotations"]["openbao.org/upgrade-action"],
        "bluegreen-remove-blue-peers"
    );
    let (clog, _) = log_of(&t, &cleanup_1);
    assert!(clog.iter().any(|l| l.contains("Removing Blue Raft peer")));
    assert!(
        t.store
            .get(
                Resource::StatefulSets,
                "security",
                &format!("prod-cluster-{GREEN}")
            )
            .is_none()
    );
    for n in 0..3 {
        assert!(
            t.store
                .get(
                    Resource::Pods,
                    "security",
                    &format!("prod-cluster-{GREEN}-{n}")
                )
                .is_none()
        );
        assert!(
            t.store
                .get(
                    Resource::PersistentVolumeClaims,
                    "security",
                    &format!("data-prod-cluster-{GREEN}-{n}")
                )
                .is_some(),
            "Green PVCs stay"
        );
    }
    let pod = t.store.get(Resource::Pods, "security", &leader).unwrap();
    assert_eq!(pod["metadata"]["labels"]["openbao-active"], "true");
    // The 0.1 cleanup really removed the Blue peers it logged removing (the defect): the
    // followers went, the leader (which cannot remove itself) is the only voter left, and
    // deleting Green left its peers in the configuration, dead.
    let m = t.twin.openbao().model();
    assert_eq!(
        m.members(true),
        [leader.as_str()],
        "only the Blue leader is left"
    );
    assert_eq!(m.members(false).len(), 3, "Green peers stay, dead");
    assert!(m.nodes.values().filter(|n| !n.blue).all(|n| !n.reachable));
    assert_eq!(m.leader.as_deref(), Some(leader.as_str()));
    let voters = m.nodes.values().filter(|n| n.member && n.voter).count();
    assert_eq!(voters, 1, "a single voter: no failure tolerance");
}

#[tokio::test]
async fn persistent_every_retry_fails_with_a_new_nonce() {
    let mut t = start("persistent");
    let first = t.seeded.nonce.clone();
    t.ack(&first);
    let second = t
        .until("a new break glass", |t| {
            let c = view(t);
            c.active_nonce().filter(|n| *n != first).map(String::from)
        })
        .await;
    let c = view(&t);
    assert_eq!(c.failed_job_from_message().as_deref(), Some(RETRY_1));
    assert_eq!(c.condition("Degraded").unwrap().status, "True");
    assert_eq!(
        c.blue_green.as_ref().unwrap().phase.as_deref(),
        Some("RollingBack")
    );
    assert_eq!(c.blue_green.as_ref().unwrap().rollback_attempt, 1);
    assert_eq!(c.break_glass.as_ref().unwrap().acknowledged_at, None);
    assert!(c.break_glass.as_ref().unwrap().steps[0].ends_with(&format!("logs job/{RETRY_1}")));
    let (lines, done) = log_of(&t, RETRY_1);
    assert!(done);
    assert!(lines.last().unwrap().starts_with(
        "upgrade-executor error: failed to read Raft configuration for consensus repair: raft configuration request failed with status 403"
    ));
    let job = t.job_named(RETRY_1).unwrap();
    assert_eq!(job["status"]["conditions"][1]["type"], "Failed");

    // The stale acknowledgement no longer matches; the new nonce retries again.
    t.ack(&second);
    let third = t
        .until("a third break glass", |t| {
            view(t)
                .active_nonce()
                .filter(|n| *n != second)
                .map(String::from)
        })
        .await;
    assert_ne!(third, first);
    assert_eq!(view(&t).failed_job_from_message().as_deref(), Some(RETRY_2));
    assert_eq!(view(&t).blue_green.unwrap().rollback_attempt, 2);
}

#[tokio::test]
async fn green_crashloop_ack_aborts_without_a_repair_job() {
    let mut t = start("green-crashloop");
    let nonce = t.seeded.nonce.clone();
    let jobs_before = t.jobs().len();
    t.ack(&nonce);
    t.until("the abort to Idle", |t| (phase(t) == "Idle").then_some(()))
        .await;
    t.until("Green pods gone", |t| {
        (0..3)
            .all(|n| {
                t.store
                    .get(
                        Resource::Pods,
                        "security",
                        &format!("prod-cluster-{GREEN}-{n}"),
                    )
                    .is_none()
            })
            .then_some(())
    })
    .await;
    let c = view(&t);
    assert_eq!(c.blue_green.as_ref().unwrap().green_revision, None);
    assert_eq!(c.blue_green.as_ref().unwrap().rollback_attempt, 1);
    assert!(!c.break_glass_active());
    assert!(
        t.store
            .get(
                Resource::StatefulSets,
                "security",
                &format!("prod-cluster-{GREEN}")
            )
            .is_none()
    );
    assert!(
        t.job_named(RETRY_1).is_none(),
        "an abort creates no repair Job"
    );
    assert_eq!(t.jobs().len(), jobs_before);
    assert_eq!(c.phase.as_deref(), Some("Running"));
}

#[tokio::test]
async fn a_wrong_nonce_changes_nothing() {
    let mut t = start("transient");
    let wrong = t.seeded.nonce.to_uppercase();
    t.ack(&wrong);
    // Long enough for the whole acknowledgement sequence to have started (ack → status →
    // Job) twice over; the only change may be our own spec write.
    let window = t
        .scenario
        .delay(2 * (t.scenario.timing.ack_to_status_ms + t.scenario.timing.status_to_job_ms))
        + Duration::from_millis(200);
    let seen = t.changes_within(window).await;
    assert_eq!(
        seen.len(),
        1,
        "{:?}",
        seen.iter()
            .map(|c| (c.resource, c.change))
            .collect::<Vec<_>>()
    );
    assert_eq!(seen[0].resource, Resource::OpenBaoClusters);
    assert_eq!(seen[0].change, ChangeType::Modified);
    let c = view(&t);
    assert!(c.break_glass_active());
    assert_eq!(c.active_nonce(), Some(t.seeded.nonce.as_str()));
    assert_eq!(c.blue_green.unwrap().rollback_attempt, 0);
    assert!(t.job_named(RETRY_1).is_none());
}

#[tokio::test]
async fn stopping_the_twin_stops_reactions() {
    let mut t = start("transient");
    let twin = std::mem::replace(
        &mut t.twin,
        breakglass::sim::twin::spawn(breakglass::sim::store::Store::new(), t.scenario.clone()),
    );
    twin.stop().await;
    t.ack(&t.seeded.nonce.clone());
    let window = t
        .scenario
        .delay(2 * (t.scenario.timing.ack_to_status_ms + t.scenario.timing.status_to_job_ms));
    let seen = t.changes_within(window).await;
    assert_eq!(seen.len(), 1, "only the ack itself");
    assert!(view(&t).break_glass_active());
}

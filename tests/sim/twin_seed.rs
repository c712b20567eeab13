//! Seeding: the store holds what the real operator would have left behind, under the names
//! the console relies on (dc-tec/openbao-operator@002fbdd `internal/upgrade/job.go`, `internal/infra/manager.go`, `internal/backup/naming.go`, `cmd/controller/run.go`, `dist/install.yaml`), and the cluster is
//! valid against the real CRD.
use crate::support::twin::{s, start};
use breakglass::domain::{ClusterView, JobState, JobView};
use breakglass::sim::scenario::Scenario;
use breakglass::sim::schema;
use breakglass::sim::store::{Resource, Store};
use breakglass::sim::twin::model_for;
use breakglass::sim::twin_seed::seed;
use k8s_openapi::api::batch::v1::Job;

const BLUE: &str = "e8983038c519c718";
const GREEN: &str = "269c4f7ba494030d";
const REPAIR_0: &str = "upgrade-prod-cluster-bluegreen-repair-consensus-5054f3dfa7";

#[tokio::test]
async fn the_cluster_is_in_break_glass_with_the_real_names() {
    let t = start("transient");
    let obj = t.cluster();
    let c = ClusterView::from_json(&obj).unwrap();
    assert_eq!(c.phase.as_deref(), Some("Upgrading"));
    assert_eq!(c.active_nonce(), Some(t.seeded.nonce.as_str()));
    assert_eq!(t.seeded.nonce.len(), 32);
    assert_eq!(c.failed_job_from_message().as_deref(), Some(REPAIR_0));
    let bg = c.blue_green.as_ref().unwrap();
    assert_eq!(bg.blue_revision.as_deref(), Some(BLUE));
    assert_eq!(bg.green_revision.as_deref(), Some(GREEN));
    assert_eq!(bg.rollback_attempt, 0);
    assert_eq!(bg.job_failure_count, 5);
    assert_eq!(
        bg.rollback_reason.as_deref(),
        Some("demotion job failure threshold exceeded")
    );
    // The base is cut to 52 characters, so "-stepdown" does not survive (`upgradeExecutorJobName`, `internal/upgrade/job.go`).
    let last = bg.last_job_failure.as_deref().unwrap();
    assert!(
        last.starts_with("upgrade-prod-cluster-bluegreen-demote-blue-nonvoters-"),
        "{last}"
    );
    assert_eq!(last.len(), 52 + 11);
    let d = c.condition("Degraded").unwrap();
    assert_eq!(
        (d.status.as_str(), d.reason.as_deref()),
        ("True", Some("BreakGlassRequired"))
    );
    let u = c.condition("Upgrading").unwrap();
    assert_eq!(
        u.message.as_deref(),
        Some("Blue/green upgrade phase RollingBack")
    );
    assert_eq!(
        s(&obj, "/status/operationLock/holder"),
        "openbaocluster/upgrade"
    );
    // A Green leader does not count as the active leader (active revision is Blue).
    assert_eq!(c.active_leader, None);
}

#[tokio::test]
async fn the_seeded_cluster_validates_against_the_crd() {
    let t = start("persistent");
    let mut obj = t.cluster();
    let crd = schema::for_resource(
        breakglass::sim::operator_line::OperatorLine::V01,
        Resource::OpenBaoClusters,
    )
    .unwrap();
    assert!(
        crd.default_and_prune(&mut obj).is_empty(),
        "no field is pruned"
    );
    let causes = crd.validate(&obj);
    assert!(causes.is_empty(), "{causes:?}");
}

#[tokio::test]
async fn statefulsets_pods_and_pvcs_follow_the_blue_green_naming() {
    let t = start("transient");
    for rev in [BLUE, GREEN] {
        let sts = t
            .store
            .get(
                Resource::StatefulSets,
                "security",
                &format!("prod-cluster-{rev}"),
            )
            .unwrap();
        assert!(
            sts["metadata"]["labels"]
                .get("openbao.org/revision")
                .is_none()
        );
        assert_eq!(
            sts["spec"]["selector"]["matchLabels"]["openbao.org/revision"],
            rev
        );
        for n in 0..3 {
            let name = format!("prod-cluster-{rev}-{n}");
            let pod = t.store.get(Resource::Pods, "security", &name).unwrap();
            let l = &pod["metadata"]["labels"];
            assert_eq!(l["openbao.org/revision"], rev);
            assert_eq!(l["openbao.org/cluster"], "prod-cluster");
            for k in [
                "openbao-active",
                "openbao-sealed",
                "openbao-initialized",
                "openbao-version",
            ] {
                assert!(l.get(k).is_some(), "{name} lacks {k}");
            }
            let pvc = t
                .store
                .get(
                    Resource::PersistentVolumeClaims,
                    "security",
                    &format!("data-{name}"),
                )
                .unwrap();
            assert_eq!(
                pvc["metadata"]["finalizers"][0],
                "kubernetes.io/pvc-protection"
            );
        }
    }
    let leader = t
        .store
        .get(
            Resource::Pods,
            "security",
            &format!("prod-cluster-{GREEN}-0"),
        )
        .unwrap();
    assert_eq!(leader["metadata"]["labels"]["openbao-active"], "true");
    let dep = t
        .store
        .get(
            Resource::Deployments,
            "openbao-operator-system",
            "openbao-operator-controller",
        )
        .unwrap();
    assert_eq!(
        dep["metadata"]["labels"]["app.kubernetes.io/name"],
        "openbao-operator"
    );
    assert_eq!(
        dep["metadata"]["labels"]["app.kubernetes.io/component"],
        "controller"
    );
}

#[tokio::test]
async fn the_failed_repair_job_and_its_pod_are_found_like_the_console_does() {
    let t = start("transient");
    let repair: Vec<_> = t
        .jobs()
        .into_iter()
        .filter(|j| {
            j["metadata"]["labels"]["openbao.org/component"] == "upgrade"
                && j["metadata"]["annotations"]["openbao.org/upgrade-action"]
                    == "bluegreen-repair-consensus"
                && j["metadata"]["annotations"]["openbao.org/upgrade-run-id"] == "rollback"
        })
        .collect();
    assert_eq!(repair.len(), 1);
    let job = &repair[0];
    assert_eq!(s(job, "/metadata/name"), REPAIR_0);
    assert_eq!(
        job["metadata"]["ownerReferences"][0]["uid"],
        t.seeded.cluster_uid.as_str()
    );
    assert_eq!(job["spec"]["backoffLimit"], 0);
    let typed: Job = serde_json::from_value(job.clone()).unwrap();
    assert_eq!(JobView::from_job(&typed).state, JobState::Failed);
    assert_eq!(
        job["status"]["conditions"][1]["reason"],
        "BackoffLimitExceeded"
    );

    let pods = t.pods_of_job(REPAIR_0);
    assert_eq!(pods.len(), 1);
    let pod = &pods[0];
    let name = s(pod, "/metadata/name");
    let suffix = name.strip_prefix(&format!("{REPAIR_0}-")).unwrap();
    assert_eq!(suffix.len(), 5);
    assert!(
        suffix
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
    );
    let uid = s(job, "/metadata/uid");
    assert_eq!(pod["metadata"]["labels"]["controller-uid"], uid.as_str());
    assert_eq!(
        pod["metadata"]["labels"]["batch.kubernetes.io/controller-uid"],
        uid.as_str()
    );
    assert_eq!(pod["metadata"]["ownerReferences"][0]["kind"], "Job");
    let cs = &pod["status"]["containerStatuses"][0];
    assert_eq!(cs["name"], "upgrade-executor");
    assert_eq!(cs["state"]["terminated"]["exitCode"], 2);

    let log = t
        .store
        .read_log("security", &name, "upgrade-executor", 0, false);
    assert!(log.terminated);
    let lines: Vec<&str> = log.lines.iter().map(|l| l.text.as_str()).collect();
    assert!(lines[0].contains(
        "\tINFO\tUpgrade executor starting\t{\"action\": \"bluegreen-repair-consensus\""
    ));
    assert_eq!(
        *lines.last().unwrap(),
        "upgrade-executor error: failed to find leader for consensus repair: context cancelled while finding leader: context deadline exceeded"
    );
}

#[tokio::test]
async fn forward_job_logs_have_stack_frames_and_the_snapshot_names_its_key() {
    let t = start("transient");
    let forward = t.pods_of_job(&t.seeded.forward_job);
    let log = t.store.read_log(
        "security",
        &s(&forward[0], "/metadata/name"),
        "upgrade-executor",
        0,
        false,
    );
    let lines: Vec<&str> = log.lines.iter().map(|l| l.text.as_str()).collect();
    let err = lines.iter().position(|l| l.contains("\tERROR\t")).unwrap();
    assert!(lines[err + 1].starts_with("github.com/dc-tec/openbao-operator/"));
    assert!(lines[err + 2].starts_with('\t'));
    let snap = t.pods_of_job(&t.seeded.snapshot_job);
    let slog = t.store.read_log(
        "security",
        &s(&snap[0], "/metadata/name"),
        "backup",
        0,
        false,
    );
    let line = &slog.lines[0].text;
    assert!(
        line.starts_with("Backup completed successfully: security/prod-cluster/pre-upgrade-"),
        "{line}"
    );
    assert!(line.contains(&t.seeded.snapshot_key));
    let c = t.cluster();
    assert_eq!(
        s(&c, "/status/blueGreen/preUpgradeSnapshotJobName"),
        t.seeded.snapshot_job
    );
}

#[test]
fn green_crashloop_seeds_crashing_green_pods() {
    let scenario = Scenario::named("green-crashloop").unwrap();
    let store = Store::new();
    seed(&store, &scenario, &model_for(&scenario)).unwrap();
    let pod = store
        .get(
            Resource::Pods,
            "security",
            &format!("prod-cluster-{GREEN}-1"),
        )
        .unwrap();
    assert_eq!(
        pod["status"]["containerStatuses"][0]["state"]["waiting"]["reason"],
        "CrashLoopBackOff"
    );
    let c = ClusterView::from_json(
        &store
            .get(Resource::OpenBaoClusters, "security", "prod-cluster")
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        c.active_leader.as_deref(),
        Some(format!("prod-cluster-{BLUE}-0").as_str())
    );
}

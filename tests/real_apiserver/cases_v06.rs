//! The operator's 0.6 CRDs on a real server (the second kube-apiserver, `rig06.rs`): the
//! console's generation detection reads each server's real CRD; the twin's 0.6
//! `cleanup-failed` incident (a `bg-v2-` operation in RollbackCleanup, break glass for
//! `RollbackCleanupPeerRemovalFailed`), seeded by the twin, is accepted by the real 0.6 schema and read
//! by `status` (only this operation's rollback Jobs); the wizard's OpenBaoRestore (`domain::restore::restore_body`, sent by
//! `sources::restore::send`) passes the real 0.6 restore CRD and its CEL rules, and the
//! `openbao.org/restore-acknowledge` annotation is applied by the console's own request.

use std::sync::Arc;

use breakglass::domain::naming::SCOPED_OPERATION_PREFIX;
use breakglass::domain::restore::{
    ANNOTATION_RESTORE_ACKNOWLEDGE, Disposition, Request, restore_body,
};
use breakglass::journal::Recorder;
use breakglass::sim::operator_line::OperatorLine;
use breakglass::sim::scenario::Topology;
use breakglass::sim::server::{ServeOptions, serve};
use breakglass::sim::store::Resource;
use breakglass::sim::twin_api::TwinApi;
use breakglass::sim::twin_api_kube::KubeTwinApi;
use breakglass::sim::twin_objects::executor_job;
use breakglass::sources::{ActionOutcome, restore};
use kube::Client;
use kube::api::{Api, DynamicObject, Patch, PatchParams};
use serde_json::{Value, json};

use super::cases_console::{normalize, run, s};
use super::incident::{self, api_resource};
use super::rig::Rig;

const CLEANUP: &str = "bluegreen-remove-green-peers";

/// The shipped `breakglass-cluster-readers` ClusterRole (it lets the console read the CRD's
/// schema) bound to `viewer`, as its file says to bind it to the viewer's people.
async fn bind_cluster_readers(admin: &Client) {
    let binding = json!({
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRoleBinding",
        "metadata": {"name": "breakglass-cluster-readers-viewer"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                    "name": "breakglass-cluster-readers"},
        "subjects": [{"kind": "User", "apiGroup": "rbac.authorization.k8s.io", "name": "viewer"}]
    });
    super::kube::apply(admin, &binding, None).await.unwrap();
}

/// `breakglass status --output json` with `kubeconfig`.
async fn status(kubeconfig: std::path::PathBuf, ns: &str, cluster: &str) -> Value {
    let dir = tempfile::tempdir().unwrap();
    let out = run(
        s(&["status", "-n", ns, cluster, "--output", "json"]),
        kubeconfig,
        dir.path().into(),
    )
    .await;
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "status json ({:?}): {e}: {}",
            out.status.code(),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

fn evidence(v: &Value) -> Vec<String> {
    v["operator"]["evidence"]
        .as_array()
        .unwrap_or_else(|| panic!("{v:#}"))
        .iter()
        .map(|e| e.as_str().unwrap().to_string())
        .collect()
}

/// An executor Job of the twin's (`sim::twin_objects::executor_job`) created on the server
/// through the twin's API.
async fn create_executor_job(
    api: Arc<KubeTwinApi>,
    topo: &Topology,
    run_id: &str,
    cluster_uid: &str,
) -> String {
    let job = executor_job(topo, CLEANUP, run_id, cluster_uid);
    let created = tokio::task::spawn_blocking(move || {
        let api: &dyn TwinApi = &*api;
        api.create(Resource::Jobs, job).unwrap()
    })
    .await
    .unwrap();
    created["metadata"]["name"].as_str().unwrap().to_string()
}

fn rollback_jobs(v: &Value) -> Vec<String> {
    v["rollbackJobs"]
        .as_array()
        .unwrap_or_else(|| panic!("{v:#}"))
        .iter()
        .map(|j| j["name"].as_str().unwrap().to_string())
        .collect()
}

pub async fn v06_generation_and_cleanup_incident_on_the_real_crds(rig: Arc<Rig>, ns: String) {
    // The main server holds the 0.1 CRDs: the console says 0.1, from the CRD.
    let admin = rig.client("admin").await.unwrap();
    let incident = incident::incident(&rig, "persistent", &ns).await;
    bind_cluster_readers(&admin).await;
    let cluster = incident.scenario.cluster.clone();
    let v01 = status(rig.kubeconfig_in("viewer", &ns).unwrap(), &ns, &cluster).await;
    let ev01 = evidence(&v01);
    assert_eq!(v01["operator"]["generation"], "0.1", "{ev01:#?}");
    assert!(
        ev01[0].starts_with(
            "CRD openbaoclusters.openbao.org: breakGlass.reason lacks RollbackCleanupPeerRemovalFailed, blueGreen.operationID absent"
        ),
        "{ev01:#?}"
    );
    println!(
        "  main server: operator {} ({})",
        v01["operator"]["generation"], ev01[0]
    );

    // The 0.6 server: the twin's 0.6 `cleanup-failed` incident (a bg-v2- operation in
    // RollbackCleanup, break glass for RollbackCleanupPeerRemovalFailed), seeded by the twin.
    let admin06 = rig.client06("admin").await.unwrap();
    super::kube::namespace(&admin06, &ns).await.unwrap();
    bind_cluster_readers(&admin06).await;
    let incident06 = incident::incident_on(
        rig.kubeconfig06("admin"),
        rig.log_file(&ns),
        "cleanup-failed",
        &ns,
        OperatorLine::V06,
    )
    .await;
    let cluster = incident06.scenario.cluster.clone();
    let operation = incident06.scenario.operation_id.clone();
    assert!(
        operation.starts_with(SCOPED_OPERATION_PREFIX),
        "{operation}"
    );
    let clusters: Api<DynamicObject> = Api::namespaced_with(
        admin06.clone(),
        &ns,
        &api_resource(Resource::OpenBaoClusters),
    );
    let stored = clusters.get(&cluster).await.unwrap();
    // Kept by the real 0.6 schema (the 0.1 one prunes operationID).
    assert_eq!(
        stored.data["status"]["blueGreen"]["operationID"],
        json!(operation)
    );
    // A value outside the 0.6 enum is refused by the real server.
    let refused = clusters
        .patch_status(
            &cluster,
            &PatchParams::default(),
            &Patch::Merge(json!({"status": {"breakGlass": {"reason": "SomethingElse"}}})),
        )
        .await;
    assert!(
        matches!(&refused, Err(kube::Error::Api(e)) if e.code == 422),
        "{refused:?}"
    );

    let kc06 = rig.kubeconfig06_in("admin", &ns).await.unwrap();
    let v06 = status(kc06, &ns, &cluster).await;
    // The simulator serving the very store the twin seeded (its 0.6 CRDs) answers the same.
    let sim = serve(
        incident::mirror(&admin06, &ns, OperatorLine::V06).await,
        ServeOptions::default(),
    )
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let sim_kc = dir.path().join("sim-kubeconfig");
    sim.write_kubeconfig(&sim_kc, &ns).unwrap();
    let simulated = status(sim_kc, &ns, &cluster).await;
    let (r, sm) = (normalize(v06.clone()), normalize(simulated));
    assert!(r == sm, "0.6 status differs\nreal: {r:#}\nsim:  {sm:#}");
    let ev06 = evidence(&v06);
    assert_eq!(v06["operator"]["generation"], "0.6", "{ev06:#?}");
    assert_eq!(
        ev06[0],
        "CRD openbaoclusters.openbao.org: breakGlass.reason has RollbackCleanupPeerRemovalFailed, \
         blueGreen.operationID present, phase RestoringReadReplicas present",
        "{ev06:#?}"
    );
    assert!(
        ev06.iter()
            .any(|e| e.contains("run IDs are operation-scoped")),
        "{ev06:#?}"
    );
    let bg = &v06["cluster"]["blueGreen"];
    assert_eq!(bg["operationID"], json!(operation), "{v06:#}");
    assert_eq!(bg["phase"], "RollbackCleanup", "{v06:#}");
    assert_eq!(
        v06["cluster"]["breakGlass"]["reason"], "RollbackCleanupPeerRemovalFailed",
        "{v06:#}"
    );
    let names = rollback_jobs(&v06);
    assert!(!names.is_empty(), "{v06:#}");
    for j in v06["rollbackJobs"].as_array().unwrap() {
        assert!(
            j["runId"]
                .as_str()
                .is_some_and(|r| r.starts_with(&format!("{operation}/"))),
            "a rollback Job of another operation: {j:#}"
        );
    }
    assert!(
        v06["rollbackJobs"]
            .as_array()
            .unwrap()
            .iter()
            .any(|j| j["action"] == CLEANUP),
        "no cleanup Job: {v06:#}"
    );
    // An earlier operation's cleanup Job of the same cluster is not this operation's.
    let topo = Topology::of(&incident06.scenario);
    let uid = stored.metadata.uid.clone().unwrap();
    let previous = create_executor_job(
        incident06.api.clone(),
        &topo,
        &format!("{SCOPED_OPERATION_PREFIX}previous/rollback"),
        &uid,
    )
    .await;
    // Read as the viewer this time (the shipped Roles, cluster-readers bound): the same.
    let viewer06 = rig.kubeconfig06_in("viewer", &ns).await.unwrap();
    let again = status(viewer06, &ns, &cluster).await;
    assert_eq!(rollback_jobs(&again), names, "{again:#}");
    assert_eq!(again["operator"]["generation"], "0.6", "{again:#}");
    assert_eq!(evidence(&again)[0], ev06[0]);
    assert!(!names.contains(&previous));
    println!(
        "  0.6 server: operator {} ({}); {operation} rollbackJobs {names:?}",
        v06["operator"]["generation"], ev06[0]
    );
}

pub async fn v06_restore_accepted_by_the_real_crd_and_acknowledged(rig: Arc<Rig>, ns: String) {
    let admin06 = rig.client06("admin").await.unwrap();
    super::kube::namespace(&admin06, &ns).await.unwrap();
    let incident = incident::incident_on(
        rig.kubeconfig06("admin"),
        rig.log_file(&ns),
        "cleanup-failed",
        &ns,
        OperatorLine::V06,
    )
    .await;
    let cluster = incident.scenario.cluster.clone();
    let responder = rig.client06("responder").await.unwrap();
    let (facts, key) = restore::facts(&responder, &ns, &cluster).await.unwrap();
    let key = key
        .map(|k| k.0)
        .unwrap_or_else(|| incident.seeded.snapshot_key.clone());
    let body = restore_body(&facts, &key, "restore-1").unwrap();
    let create = |body: Value| Request::CreateRestore {
        namespace: ns.clone(),
        body,
    };
    let outcome = restore::send(&responder, &create(body.clone()), &mut Recorder::default()).await;
    assert_eq!(outcome, ActionOutcome::WizardStepDone, "{body:#}");
    let restores: Api<DynamicObject> = Api::namespaced_with(
        admin06.clone(),
        &ns,
        &api_resource(Resource::OpenBaoRestores),
    );
    let stored = restores.get("restore-1").await.unwrap();
    assert_eq!(stored.data["spec"]["source"]["key"], json!(key));
    // A CEL rule of the 0.6 restore CRD, evaluated by the real server on the console's body.
    let mut broken = body.clone();
    broken["metadata"]["name"] = json!("restore-2");
    broken["spec"]["targetLifecycle"] = json!("Retain");
    let outcome = restore::send(&responder, &create(broken), &mut Recorder::default()).await;
    match &outcome {
        ActionOutcome::Failed {
            status: Some(422),
            message,
            ..
        } => assert!(
            message.contains("targetLifecycle requires clusterTemplate"),
            "{message}"
        ),
        other => panic!("the CEL rule did not refuse: {other:?}"),
    }
    assert!(restores.get_opt("restore-2").await.unwrap().is_none());

    // The operator leaves the restore in phase Unknown; the console's Resume releases it.
    let uid = stored.metadata.uid.clone().unwrap();
    restores
        .patch_status(
            "restore-1",
            &PatchParams::default(),
            &Patch::Merge(json!({"status": {"phase": "Unknown"}})),
        )
        .await
        .unwrap();
    // The body carries the resourceVersion of the object the dialog showed.
    let shown = restores.get("restore-1").await.unwrap();
    let ack = Request::AcknowledgeRestore {
        namespace: ns.clone(),
        name: "restore-1".into(),
        uid: uid.clone(),
        disposition: Disposition::Resume,
        resource_version: shown.metadata.resource_version.clone().unwrap_or_default(),
    };
    let outcome = restore::send(&responder, &ack, &mut Recorder::default()).await;
    assert_eq!(outcome, ActionOutcome::WizardStepDone);
    let acked = restores.get("restore-1").await.unwrap();
    let annotations = acked.metadata.annotations.clone().unwrap_or_default();
    assert_eq!(
        annotations.get(ANNOTATION_RESTORE_ACKNOWLEDGE),
        Some(&format!("{uid}/Resume")),
        "{annotations:?}"
    );
    // A second Resume is refused once the phase has moved on (fresh read, nothing sent).
    restores
        .patch_status(
            "restore-1",
            &PatchParams::default(),
            &Patch::Merge(json!({"status": {"phase": "Running"}})),
        )
        .await
        .unwrap();
    let rv = restores
        .get("restore-1")
        .await
        .unwrap()
        .metadata
        .resource_version;
    let outcome = restore::send(&responder, &ack, &mut Recorder::default()).await;
    assert!(
        matches!(outcome, ActionOutcome::Refused { .. }),
        "{outcome:?}"
    );
    let after = restores
        .get("restore-1")
        .await
        .unwrap()
        .metadata
        .resource_version;
    assert_eq!(rv, after, "nothing written");
    println!("  0.6 restore: created, CEL refusal, annotation {uid}/Resume applied");
}

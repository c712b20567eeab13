//! The console's own code paths against the real server, on the incident the operator twin
//! seeds through the API: `status --output json`, `ack`, and the RBAC preflight
//! compared with what the real authorizer then does.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::Arc;

use breakglass::journal::{Event, Recorder};
use breakglass::sim::operator_line::OperatorLine;
use breakglass::sim::server::{ServeOptions, serve};
use breakglass::sim::store::Resource;
use breakglass::sources::connect::{Connection, Target, connect};
use breakglass::sources::{ActionOutcome, actions, rbac};
use kube::api::{Api, DeleteParams, DynamicObject, ListParams, Patch, PatchParams, PostParams};
use serde_json::{Value, json};

use super::incident::{self, api_resource};
use super::rig::Rig;

fn breakglass(args: &[&str], kubeconfig: &Path, state: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_breakglass"))
        .args(args)
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .env("XDG_STATE_HOME", state)
        .env("HOME", state)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

pub(super) async fn run(
    args: Vec<String>,
    kubeconfig: std::path::PathBuf,
    state: std::path::PathBuf,
) -> Output {
    tokio::task::spawn_blocking(move || {
        let a: Vec<&str> = args.iter().map(String::as_str).collect();
        breakglass(&a, &kubeconfig, &state)
    })
    .await
    .unwrap()
}

pub(super) fn s(v: &[&str]) -> Vec<String> {
    v.iter().map(|x| x.to_string()).collect()
}

async fn conn(kubeconfig: &Path) -> Connection {
    connect(&Target {
        kubeconfig: Some(kubeconfig.to_path_buf()),
        ..Default::default()
    })
    .await
    .unwrap()
}

/// What may differ between two servers holding the same objects: server-made identities and
/// times (uids, resourceVersions, creationTimestamp — the real server cannot be given a past
/// one, so the Jobs' `created` too), the reading's age, and the text of a connection error to
/// a node that is not there.
pub(super) fn normalize(mut v: Value) -> Value {
    v["cluster"]["resourceVersion"] = json!("*");
    for key in ["repairJobs", "rollbackJobs"] {
        for j in v[key].as_array_mut().into_iter().flatten() {
            j["created"] = json!("*");
        }
    }
    for n in v["raft"]["nodes"].as_array_mut().into_iter().flatten() {
        n["age_ms"] = json!("*");
        n["error"] = json!(n["error"].is_string());
    }
    v
}

/// `breakglass status --output json` on the twin's seeded incident: the real server and the
/// simulator, holding the same objects, give the same answer.
pub async fn status_json_equals_the_simulator(rig: Arc<Rig>, ns: String) {
    let admin = rig.client("admin").await.unwrap();
    let incident = incident::incident(&rig, "persistent", &ns).await;
    let cluster = incident.scenario.cluster.clone();
    let dir = tempfile::tempdir().unwrap();
    // The simulator serving the very store the twin seeded (no twin running: no bao nodes
    // behind either server's pod proxy).
    let sim = serve(
        incident::mirror(&admin, &ns, OperatorLine::V01).await,
        ServeOptions::default(),
    )
    .await
    .unwrap();
    let sim_kc = dir.path().join("sim-kubeconfig");
    sim.write_kubeconfig(&sim_kc, &ns).unwrap();
    let real_kc = rig.kubeconfig_in("admin", &ns).unwrap();
    let args = s(&["status", "-n", &ns, &cluster, "--output", "json"]);
    let real = run(args.clone(), real_kc, dir.path().into()).await;
    let simulated = run(args, sim_kc, dir.path().into()).await;
    let stderr = String::from_utf8_lossy(&real.stderr);
    assert_eq!(real.status.code(), Some(3), "real: {stderr}");
    assert_eq!(simulated.status.code(), Some(3));
    let r: Value = serde_json::from_slice(&real.stdout).unwrap();
    let sm: Value = serde_json::from_slice(&simulated.stdout).unwrap();
    // The sim-backed test's own expectations hold on the real server.
    assert_eq!(r["breakGlassActive"], true);
    assert_eq!(
        r["cluster"]["breakGlass"]["reason"],
        "RollbackConsensusRepairFailed"
    );
    assert_eq!(
        r["cluster"]["breakGlass"]["steps"]
            .as_array()
            .unwrap()
            .len(),
        5
    );
    assert_eq!(r["repairJobs"][0]["runId"], "rollback");
    assert_eq!(
        r["cluster"]["breakGlass"]["nonce"],
        json!(incident.seeded.nonce)
    );
    // The operator line, named from the real CRD's schema (the simulator serves the same).
    assert_eq!(r["operator"]["generation"], "0.1", "{:#}", r["operator"]);
    assert!(
        r["operator"]["evidence"][0].as_str().is_some_and(
            |e| e.starts_with("CRD openbaoclusters.openbao.org: breakGlass.reason lacks")
        ),
        "{:#}",
        r["operator"]
    );
    let (r, sm) = (normalize(r), normalize(sm));
    if r != sm {
        panic!(
            "status differs\nreal: {}\nsim:  {}",
            serde_json::to_string_pretty(&r).unwrap(),
            serde_json::to_string_pretty(&sm).unwrap()
        );
    }
}

fn cluster_api(client: &kube::Client, ns: &str) -> Api<DynamicObject> {
    Api::namespaced_with(client.clone(), ns, &api_resource(Resource::OpenBaoClusters))
}

/// `ack`: a stale nonce is refused with nothing written; the viewer is stopped by RBAC; the
/// current nonce goes through a dry run the server really executes, then the patch lands.
pub async fn ack_guards_dry_run_and_patch(rig: Arc<Rig>, ns: String) {
    let admin = rig.client("admin").await.unwrap();
    let incident = incident::incident(&rig, "transient", &ns).await;
    let cluster = incident.scenario.cluster.clone();
    let nonce = incident.seeded.nonce.clone();
    let dir = tempfile::tempdir().unwrap();
    let api = cluster_api(&admin, &ns);
    let rv = |o: &DynamicObject| o.metadata.resource_version.clone().unwrap();
    let before = api.get(&cluster).await.unwrap();

    let responder_kc = rig.kubeconfig_in("responder", &ns).unwrap();
    let o = run(
        s(&["ack", "-n", &ns, &cluster, "--nonce", "0000", "--yes"]),
        responder_kc.clone(),
        dir.path().into(),
    )
    .await;
    assert_eq!(
        o.status.code(),
        Some(4),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(String::from_utf8_lossy(&o.stderr).contains("stale"));
    assert_eq!(
        rv(&api.get(&cluster).await.unwrap()),
        rv(&before),
        "a refused ack wrote"
    );

    let viewer_kc = rig.kubeconfig_in("viewer", &ns).unwrap();
    let o = run(
        s(&["ack", "-n", &ns, &cluster, "--nonce", &nonce, "--yes"]),
        viewer_kc.clone(),
        dir.path().into(),
    )
    .await;
    assert_eq!(
        o.status.code(),
        Some(5),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(
        rv(&api.get(&cluster).await.unwrap()),
        rv(&before),
        "the viewer's ack wrote"
    );
    // The real authorizer, not only the preflight, refuses the viewer's patch.
    let viewer = rig.client("viewer").await.unwrap();
    match actions::acknowledge(&viewer, &ns, &cluster, &nonce).await {
        ActionOutcome::Failed {
            status: Some(403), ..
        } => {}
        other => panic!("viewer's patch: expected 403, got {other:?}"),
    }

    // A dry run the server executes: schema validation runs (an invalid value is refused)
    // and nothing is stored.
    let dry = PatchParams {
        dry_run: true,
        ..Default::default()
    };
    let bad = api
        .patch(
            &cluster,
            &dry,
            &Patch::Merge(json!({"spec": {"replicas": "three"}})),
        )
        .await;
    assert!(
        matches!(&bad, Err(kube::Error::Api(s)) if s.code == 422),
        "{bad:?}"
    );
    let ok = api
        .patch(
            &cluster,
            &dry,
            &Patch::Merge(actions::ack_patch(&nonce, &rv(&before))),
        )
        .await
        .unwrap();
    assert_eq!(ok.data["spec"]["breakGlassAck"], json!(nonce));
    let now = api.get(&cluster).await.unwrap();
    assert_eq!(rv(&now), rv(&before), "a dry run was stored");
    assert!(now.data["spec"]["breakGlassAck"].is_null());

    // 409: the console's patch carries the resourceVersion it read; the object changed since.
    api.patch(
        &cluster,
        &PatchParams::default(),
        &Patch::Merge(json!({"metadata": {"annotations": {"rig/touch": "1"}}})),
    )
    .await
    .unwrap();
    let stale = api
        .patch(
            &cluster,
            &PatchParams::default(),
            &Patch::Merge(actions::ack_patch(&nonce, &rv(&before))),
        )
        .await;
    match &stale {
        Err(kube::Error::Api(s)) => {
            assert_eq!((s.code, s.reason.as_str()), (409, "Conflict"), "{s:?}");
        }
        other => panic!("expected 409 Conflict, got {other:?}"),
    }

    // The current nonce, by the responder: dry run first, then the patch.
    let responder = conn(&responder_kc).await;
    let mut rec = Recorder::default();
    let out =
        actions::acknowledge_recorded(&responder.client, &ns, &cluster, &nonce, &mut rec).await;
    assert!(matches!(out, ActionOutcome::Acknowledged { .. }), "{out:?}");
    let requests: Vec<(String, bool)> = rec
        .entries
        .iter()
        .filter_map(|e| match &e.event {
            Event::Request {
                method, dry_run, ..
            } => Some((method.clone(), *dry_run)),
            _ => None,
        })
        .collect();
    assert_eq!(
        requests,
        vec![
            ("GET".into(), false),
            ("PATCH".into(), true),
            ("PATCH".into(), false)
        ]
    );
    let after = api.get(&cluster).await.unwrap();
    assert_eq!(after.data["spec"]["breakGlassAck"], json!(nonce));
}

/// What the SSAR preflight says each user may do equals what the real authorizer then does
/// with the very requests each path sends (sent as dry runs, so nothing changes).
pub async fn preflight_verdicts_equal_the_authorizer(rig: Arc<Rig>, ns: String) {
    let admin = rig.client("admin").await.unwrap();
    let incident = incident::incident(&rig, "transient", &ns).await;
    let cluster = incident.scenario.cluster.clone();
    // A PVC to delete and the operator Deployment to scale (dry runs).
    let pvc = json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim",
        "metadata": {"name": "data-x", "namespace": ns},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}});
    super::kube::apply(&admin, &pvc, None).await.unwrap();
    let deploy = breakglass::sim::twin_objects::operator_deployment(
        breakglass::sim::operator_line::OperatorLine::V01,
    );
    super::kube::apply(&admin, &deploy, None).await.unwrap();
    let op_ns = deploy["metadata"]["namespace"]
        .as_str()
        .unwrap()
        .to_string();
    let op_name = deploy["metadata"]["name"].as_str().unwrap().to_string();
    for user in ["viewer", "responder", "admin"] {
        let client = rig.client(user).await.unwrap();
        let denied = rbac::preflight(&client, &ns).await.unwrap();
        for need in rbac::needs(&ns) {
            let preflight_denies = denied.iter().any(|d| d.permission == need.describe());
            let code = attempt(&client, &need, &ns, &cluster, &op_ns, &op_name).await;
            assert_eq!(
                preflight_denies,
                code == 403,
                "{user}: preflight {} `{}`, the authorizer answered {code}",
                if preflight_denies { "denies" } else { "allows" },
                need.describe()
            );
        }
        match user {
            "viewer" => assert_eq!(denied.len(), rbac::needs(&ns).len(), "viewer: {denied:?}"),
            _ => assert!(denied.is_empty(), "{user}: {denied:?}"),
        }
    }
}

/// Send the request a path needs (dry run); the HTTP status (200 family = 200).
async fn attempt(
    client: &kube::Client,
    need: &rbac::Need,
    ns: &str,
    cluster: &str,
    op_ns: &str,
    op_name: &str,
) -> u16 {
    let dry_patch = PatchParams {
        dry_run: true,
        ..Default::default()
    };
    let code = |r: Result<(), kube::Error>| match r {
        Ok(()) => 200,
        Err(kube::Error::Api(s)) => s.code,
        Err(e) => panic!("{}: {e}", need.describe()),
    };
    match (need.verb, need.resource, need.subresource) {
        ("patch", "openbaoclusters", None) => code(
            cluster_api(client, ns)
                .patch(
                    cluster,
                    &dry_patch,
                    &Patch::Merge(json!({"metadata": {"annotations": {"rig/probe": "1"}}})),
                )
                .await
                .map(drop),
        ),
        ("create", "openbaorestores", None) => {
            let api: Api<DynamicObject> =
                Api::namespaced_with(client.clone(), ns, &api_resource(Resource::OpenBaoRestores));
            let body: DynamicObject = serde_json::from_value(json!({
                "apiVersion": "openbao.org/v1alpha1", "kind": "OpenBaoRestore",
                "metadata": {"name": "probe", "namespace": ns},
                "spec": {"cluster": cluster}
            }))
            .unwrap();
            let pp = PostParams {
                dry_run: true,
                ..Default::default()
            };
            // 422 (schema) still means the authorizer let it through.
            code(api.create(&pp, &body).await.map(drop))
        }
        ("delete", "persistentvolumeclaims", None) => {
            let api: Api<k8s_openapi::api::core::v1::PersistentVolumeClaim> =
                Api::namespaced(client.clone(), ns);
            let dp = DeleteParams {
                dry_run: true,
                ..Default::default()
            };
            code(api.delete("data-x", &dp).await.map(drop))
        }
        ("list", "deployments", None) => {
            let api: Api<k8s_openapi::api::apps::v1::Deployment> = Api::all(client.clone());
            code(api.list(&ListParams::default()).await.map(drop))
        }
        ("patch", "deployments", Some("scale")) => {
            let api: Api<k8s_openapi::api::apps::v1::Deployment> =
                Api::namespaced(client.clone(), op_ns);
            code(
                api.patch_scale(
                    op_name,
                    &dry_patch,
                    &Patch::Merge(json!({"spec": {"replicas": 1}})),
                )
                .await
                .map(drop),
            )
        }
        other => panic!("no probe for {other:?}"),
    }
}

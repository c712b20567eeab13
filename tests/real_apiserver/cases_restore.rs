//! The Restore wizard's steps against real objects, sent by the console's own
//! `sources::restore::send` (dry run first): the scale subresource (the real Deployment
//! controller follows), PVC delete with the real `kubernetes.io/pvc-protection` finalizer
//! (the PVC stays Terminating while a pod uses it), and the OpenBaoRestore validated by the
//! real CRD schema; plus a CEL rule of the cluster CRD the simulator does not evaluate.

use std::sync::Arc;

use breakglass::domain::restore::{Request, restore_body};
use breakglass::journal::Recorder;
use breakglass::sim::store::Resource;
use breakglass::sources::{ActionOutcome, restore};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{PersistentVolumeClaim, Pod};
use kube::api::{Api, DeleteParams, DynamicObject, ListParams, Patch, PatchParams};
use serde_json::json;

use super::incident::{self, api_resource};
use super::kube::wait_for;
use super::rig::Rig;

async fn send(client: &kube::Client, req: Request) {
    let outcome = restore::send(client, &req, &mut Recorder::default()).await;
    assert_eq!(outcome, ActionOutcome::WizardStepDone, "{req:?}");
}

pub async fn restore_steps_on_real_objects(rig: Arc<Rig>, ns: String) {
    let admin = rig.client("admin").await.unwrap();
    let incident = incident::incident(&rig, "transient", &ns).await;
    let cluster = incident.scenario.cluster.clone();
    let responder = rig.client("responder").await.unwrap();
    let (facts, key) = restore::facts(&responder, &ns, &cluster).await.unwrap();
    let Some(op) = facts.operator.clone() else {
        let all: Api<Deployment> = Api::all(admin.clone());
        let names: Vec<_> = all
            .list(&ListParams::default())
            .await
            .unwrap()
            .items
            .into_iter()
            .map(|d| (d.metadata.namespace, d.metadata.name, d.metadata.labels))
            .collect();
        panic!("the operator Deployment not found by its labels; deployments: {names:?}");
    };
    assert!(!facts.pvcs.is_empty(), "no PVCs found by label");

    // Scale subresource: the operator down to 0; the real Deployment controller follows.
    send(
        &responder,
        Request::Scale {
            namespace: op.namespace.clone(),
            name: op.name.clone(),
            replicas: 0,
        },
    )
    .await;
    let deployments: Api<Deployment> = Api::namespaced(admin.clone(), &op.namespace);
    wait_for(
        "the Deployment controller to scale the operator to 0",
        60,
        || {
            let d = deployments.clone();
            let name = op.name.clone();
            async move {
                let dep = d.get(&name).await.ok()?;
                let st = dep.status?;
                (st.replicas.unwrap_or(0) == 0 && dep.spec?.replicas == Some(0)).then_some(())
            }
        },
    )
    .await;

    // PVC delete: accepted, but the pvc-protection finalizer keeps it while a pod uses it.
    let pvcs: Api<PersistentVolumeClaim> = Api::namespaced(admin.clone(), &ns);
    let pods: Api<Pod> = Api::namespaced(admin.clone(), &ns);
    let all_pods = pods.list(&ListParams::default()).await.unwrap().items;
    let (pvc, user) = facts
        .pvcs
        .iter()
        .find_map(|c| {
            let user = all_pods.iter().find(|p| {
                p.spec
                    .as_ref()
                    .and_then(|s| s.volumes.as_ref())
                    .is_some_and(|vs| {
                        vs.iter().any(|v| {
                            v.persistent_volume_claim
                                .as_ref()
                                .is_some_and(|p| &p.claim_name == c)
                        })
                    })
            })?;
            Some((c.clone(), user.metadata.name.clone().unwrap()))
        })
        .expect("a PVC a pod mounts");
    let before = pvcs.get(&pvc).await.unwrap();
    assert!(
        before
            .metadata
            .finalizers
            .clone()
            .unwrap_or_default()
            .iter()
            .any(|f| f == "kubernetes.io/pvc-protection"),
        "{:?}",
        before.metadata.finalizers
    );
    send(
        &responder,
        Request::DeletePvc {
            namespace: ns.clone(),
            name: pvc.clone(),
        },
    )
    .await;
    let terminating = pvcs.get(&pvc).await.unwrap();
    assert!(
        terminating.metadata.deletion_timestamp.is_some(),
        "the PVC is not Terminating"
    );
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    assert!(
        pvcs.get_opt(&pvc).await.unwrap().is_some(),
        "the PVC went while {user} uses it"
    );
    // Its pod goes (no kubelet on the twin's node: force), then the controller lets it go.
    pods.delete(
        &user,
        &DeleteParams {
            grace_period_seconds: Some(0),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    wait_for(
        "the pvc-protection controller to release the PVC",
        60,
        || {
            let pvcs = pvcs.clone();
            let pvc = pvc.clone();
            async move { matches!(pvcs.get_opt(&pvc).await, Ok(None)).then_some(()) }
        },
    )
    .await;

    // The OpenBaoRestore the wizard builds passes the real CRD schema; a broken one does not.
    let key = key
        .map(|k| k.0)
        .unwrap_or_else(|| incident.seeded.snapshot_key.clone());
    let body = restore_body(&facts, &key, "restore-1").unwrap();
    send(
        &responder,
        Request::CreateRestore {
            namespace: ns.clone(),
            body: body.clone(),
        },
    )
    .await;
    let restores: Api<DynamicObject> =
        Api::namespaced_with(admin.clone(), &ns, &api_resource(Resource::OpenBaoRestores));
    let stored = restores.get("restore-1").await.unwrap();
    assert_eq!(stored.data["spec"]["source"]["key"], json!(key));
    let mut broken = body.clone();
    broken["metadata"]["name"] = json!("restore-2");
    broken["spec"]["source"]
        .as_object_mut()
        .unwrap()
        .remove("target");
    let outcome = restore::send(
        &responder,
        &Request::CreateRestore {
            namespace: ns.clone(),
            body: broken,
        },
        &mut Recorder::default(),
    )
    .await;
    assert!(
        matches!(
            outcome,
            ActionOutcome::Failed {
                status: Some(422),
                ..
            }
        ),
        "{outcome:?}"
    );
    assert!(restores.get_opt("restore-2").await.unwrap().is_none());

    // A CEL rule (x-kubernetes-validations) of the cluster CRD, evaluated by the real server.
    let clusters: Api<DynamicObject> =
        Api::namespaced_with(admin.clone(), &ns, &api_resource(Resource::OpenBaoClusters));
    let dry = PatchParams {
        dry_run: true,
        ..Default::default()
    };
    let cel = clusters
        .patch(
            &cluster,
            &dry,
            &Patch::Merge(
                json!({"spec": {"tls": {"mode": "OperatorManaged", "rotationPeriod": ""}}}),
            ),
        )
        .await;
    match cel {
        Err(kube::Error::Api(s)) => {
            assert_eq!(s.code, 422, "{s:?}");
            assert!(
                s.message.contains("rotationPeriod is required"),
                "{}",
                s.message
            );
        }
        other => panic!("the CEL rule did not refuse: {other:?}"),
    }

    // And the operator back up.
    send(
        &responder,
        Request::Scale {
            namespace: op.namespace.clone(),
            name: op.name.clone(),
            replicas: op.replicas.max(1),
        },
    )
    .await;
}

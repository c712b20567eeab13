//! Writes: patch types (merge, strategic 415 on custom resources, apply, JSON patch), 409 on a
//! stale resourceVersion, the status subresource and generation, dry runs, schema validation
//! (422 with causes, pruning, strict field validation) and finalizers.

use breakglass::sim::store::Resource;
use k8s_openapi::api::core::v1::Pod;
use kube::Api;
use kube::api::{Patch, PatchParams, PostParams};
use serde_json::json;

use super::{CONFLICT, rv};
use crate::support::sim::*;

#[tokio::test]
async fn stale_rv_in_merge_patch_is_409_with_exact_message() {
    let sim = start().await;
    let api = clusters(sim.admin().await);
    let cur = api.get(CLUSTER).await.unwrap();
    sim.store
        .modify(Resource::OpenBaoClusters, NS, CLUSTER, |o| {
            o["status"] = json!({"phase": "Upgrading"})
        })
        .unwrap();
    let patch = json!({"metadata": {"resourceVersion": rv(&cur)}, "spec": {"breakGlassAck": "n"}});
    let s = status_of(
        api.patch(CLUSTER, &PatchParams::default(), &Patch::Merge(&patch))
            .await,
    );
    assert_eq!((s.code, s.reason.as_str()), (409, "Conflict"));
    assert_eq!(s.message, CONFLICT);
    // Without a resourceVersion a patch does not conflict.
    let ok = api
        .patch(
            CLUSTER,
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"breakGlassAck": "n"}})),
        )
        .await
        .unwrap();
    assert_eq!(ok.data["spec"]["breakGlassAck"], "n");
    // A stale PUT conflicts the same way; an AlreadyExists is a different 409.
    let s = status_of(api.replace(CLUSTER, &PostParams::default(), &cur).await);
    assert_eq!(s.message, CONFLICT);
    let mut dup = cur.clone();
    dup.metadata.resource_version = None;
    let s = status_of(api.create(&PostParams::default(), &dup).await);
    assert_eq!((s.code, s.reason.as_str()), (409, "AlreadyExists"));
}

#[tokio::test]
async fn strategic_patch_is_415_on_custom_resources_only() {
    let sim = start().await;
    let admin = sim.admin().await;
    let s = status_of(
        clusters(admin.clone())
            .patch(
                CLUSTER,
                &PatchParams::default(),
                &Patch::Strategic(json!({"spec": {"replicas": 5}})),
            )
            .await,
    );
    assert_eq!((s.code, s.reason.as_str()), (415, "UnsupportedMediaType"));
    assert!(s.message.starts_with("the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml"));
    let pods: Api<Pod> = Api::namespaced(admin.clone(), NS);
    let p = pods
        .patch(
            "starting",
            &PatchParams::default(),
            &Patch::Strategic(json!({"metadata": {"labels": {"s": "1"}}})),
        )
        .await
        .unwrap();
    assert_eq!(p.metadata.labels.unwrap()["s"], "1");
    // Server-side apply needs a field manager.
    let s = status_of(
        clusters(admin.clone())
            .patch(
                CLUSTER,
                &PatchParams::default(),
                &Patch::Apply(cluster(CLUSTER)),
            )
            .await,
    );
    assert_eq!(s.code, 422);
    assert!(s.message.contains("fieldManager: Required value"));
    clusters(admin.clone())
        .patch(
            CLUSTER,
            &PatchParams::apply("test"),
            &Patch::Apply(cluster(CLUSTER)),
        )
        .await
        .unwrap();
    // JSON patch.
    let path = format!("/apis/openbao.org/v1alpha1/namespaces/{NS}/openbaoclusters/{CLUSTER}");
    let (code, body) = raw(
        &admin,
        "PATCH",
        &path,
        "application/json-patch+json",
        r#"[{"op":"replace","path":"/spec/replicas","value":4}]"#,
    )
    .await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(
        sim.store
            .get(Resource::OpenBaoClusters, NS, CLUSTER)
            .unwrap()["spec"]["replicas"],
        4
    );
}

#[tokio::test]
async fn status_subresource_and_generation_rules() {
    let sim = start().await;
    let api = clusters(sim.admin().await);
    let pp = PatchParams::default();
    let g0 = api.get(CLUSTER).await.unwrap().metadata.generation.unwrap();
    // Main resource: .status is ignored; metadata-only change keeps generation.
    let o = api
        .patch(
            CLUSTER,
            &pp,
            &Patch::Merge(
                json!({"metadata": {"labels": {"x": "1"}}, "status": {"phase": "Failed"}}),
            ),
        )
        .await
        .unwrap();
    assert!(
        o.data.get("status").is_none(),
        "status ignored on main resource"
    );
    assert_eq!(o.metadata.generation.unwrap(), g0);
    // Status subresource: everything but .status is ignored; generation unchanged.
    let o = api
        .patch_status(
            CLUSTER,
            &pp,
            &Patch::Merge(json!({"spec": {"replicas": 9}, "status": {"phase": "Upgrading"}})),
        )
        .await
        .unwrap();
    assert_eq!(o.data["status"]["phase"], "Upgrading");
    assert_eq!(o.data["spec"]["replicas"], 3);
    assert_eq!(o.metadata.generation.unwrap(), g0);
    // Spec change: generation + 1.
    let o = api
        .patch(
            CLUSTER,
            &pp,
            &Patch::Merge(json!({"spec": {"replicas": 5}})),
        )
        .await
        .unwrap();
    assert_eq!(o.metadata.generation.unwrap(), g0 + 1);
    assert_eq!(o.data["status"]["phase"], "Upgrading", "status kept");
}

#[tokio::test]
async fn dry_run_persists_nothing_and_sends_no_event() {
    let sim = start().await;
    let api = clusters(sim.admin().await);
    let before = sim.store.current_rv();
    let mut rx = sim.store.subscribe();
    let o = api
        .patch(
            CLUSTER,
            &PatchParams::default().dry_run(),
            &Patch::Merge(json!({"spec": {"replicas": 7}})),
        )
        .await
        .unwrap();
    assert_eq!(o.data["spec"]["replicas"], 7);
    assert_eq!(
        sim.store
            .get(Resource::OpenBaoClusters, NS, CLUSTER)
            .unwrap()["spec"]["replicas"],
        3
    );
    assert_eq!(sim.store.current_rv(), before);
    assert!(rx.try_recv().is_err());
    let mut c = cluster("dry");
    c["metadata"]["namespace"] = json!(NS);
    let obj: kube::api::DynamicObject = serde_json::from_value(c).unwrap();
    api.create(
        &PostParams {
            dry_run: true,
            field_manager: None,
        },
        &obj,
    )
    .await
    .unwrap();
    assert!(
        sim.store
            .get(Resource::OpenBaoClusters, NS, "dry")
            .is_none()
    );
}

#[tokio::test]
async fn schema_violation_is_422_with_causes_and_unknown_fields_are_pruned() {
    let sim = start().await;
    let api = clusters(sim.admin().await);
    let bad = json!({"status": {"breakGlass": {"active": true, "reason": "DirtyWrite"}}});
    let s = status_of(
        api.patch_status(CLUSTER, &PatchParams::default(), &Patch::Merge(&bad))
            .await,
    );
    assert_eq!((s.code, s.reason.as_str()), (422, "Invalid"));
    assert!(s.message.starts_with("OpenBaoCluster.openbao.org \"prod-cluster\" is invalid: status.breakGlass.reason: Unsupported value: \"DirtyWrite\""), "{}", s.message);
    let causes = s.details.unwrap().causes;
    assert_eq!(causes[0].field, "status.breakGlass.reason");
    assert_eq!(causes[0].reason, "FieldValueNotSupported");
    let o = api
        .patch(
            CLUSTER,
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"bogus": 1}})),
        )
        .await
        .unwrap();
    assert!(
        o.data["spec"].get("bogus").is_none(),
        "unknown field pruned"
    );
    let strict = PatchParams {
        field_validation: Some(kube::api::ValidationDirective::Strict),
        ..Default::default()
    };
    let s = status_of(
        api.patch(
            CLUSTER,
            &strict,
            &Patch::Merge(json!({"spec": {"bogus": 1}})),
        )
        .await,
    );
    assert_eq!(s.code, 400);
    assert!(s.message.contains("unknown field \"spec.bogus\""));
    let s = status_of(
        api.patch(
            CLUSTER,
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"replicas": 0}})),
        )
        .await,
    );
    assert_eq!(s.code, 422);
}

#[tokio::test]
async fn finalizers_hold_deletion_until_removed() {
    let sim = start().await;
    let api = clusters(sim.admin().await);
    api.patch(
        CLUSTER,
        &PatchParams::default(),
        &Patch::Merge(
            json!({"metadata": {"finalizers": ["openbao.org/openbaocluster-finalizer"]}}),
        ),
    )
    .await
    .unwrap();
    api.delete(CLUSTER, &Default::default()).await.unwrap();
    let o = api.get(CLUSTER).await.unwrap();
    assert!(o.metadata.deletion_timestamp.is_some());
    api.patch(
        CLUSTER,
        &PatchParams::default(),
        &Patch::Merge(json!({"metadata": {"finalizers": null}})),
    )
    .await
    .unwrap();
    assert_eq!(status_of(api.get(CLUSTER).await).code, 404);
}

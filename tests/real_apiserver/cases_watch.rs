//! The console's watchers (`sources::watch::spawn_all`: cluster, pods, Jobs) on the real
//! server: the first snapshots match the seeded incident, changes arrive, and an object the
//! server accepts but the console cannot read is a visible error, not a silent stale view.

use std::sync::Arc;
use std::time::Duration;

use breakglass::sim::store::Resource;
use breakglass::sources::{SourceEvent, watch};
use kube::api::{Api, DeleteParams, DynamicObject, Patch, PatchParams};
use serde_json::json;
use tokio::sync::mpsc;

use super::incident::{self, api_resource};
use super::rig::Rig;

async fn until<T>(
    rx: &mut mpsc::Receiver<SourceEvent>,
    what: &str,
    mut f: impl FnMut(&SourceEvent) -> Option<T>,
) -> T {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let ev = tokio::time::timeout_at(deadline, rx.recv())
            .await
            .unwrap_or_else(|_| panic!("no {what} within 30 s"))
            .expect("watchers stopped");
        if let Some(v) = f(&ev) {
            return v;
        }
    }
}

pub async fn watchers_see_changes_and_unreadable_objects(rig: Arc<Rig>, ns: String) {
    let admin = rig.client("admin").await.unwrap();
    let incident = incident::incident(&rig, "persistent", &ns).await;
    let cluster = incident.scenario.cluster.clone();
    let viewer = rig.client("viewer").await.unwrap();
    let (tx, mut rx) = mpsc::channel(256);
    let tasks = watch::spawn_all(&viewer, &ns, &cluster, tx);

    // The first snapshots: what the twin seeded (pods and repair Jobs of this cluster).
    let (mut nonce, mut pods, mut jobs) = (None, None, None);
    while nonce.is_none() || pods.is_none() || jobs.is_none() {
        match until(&mut rx, "the first snapshots", |e| Some(e.clone())).await {
            SourceEvent::Cluster(Some(c)) => nonce = c.break_glass.and_then(|b| b.nonce),
            SourceEvent::Pods(p) if !p.is_empty() => pods = Some(p),
            SourceEvent::Jobs(j) if !j.is_empty() => jobs = Some(j),
            _ => {}
        }
    }
    let (pods, jobs) = (pods.unwrap(), jobs.unwrap());
    assert_eq!(nonce, Some(incident.seeded.nonce.clone()));
    assert!(
        jobs.iter().any(|j| j.name == incident.seeded.failed_job),
        "{jobs:?}"
    );

    // A change arrives: the pod deleted (forced: no kubelet on the twin's node).
    let gone = pods[0].name.clone();
    Api::<k8s_openapi::api::core::v1::Pod>::namespaced(admin.clone(), &ns)
        .delete(
            &gone,
            &DeleteParams {
                grace_period_seconds: Some(0),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    until(&mut rx, "the pod's deletion", |e| match e {
        SourceEvent::Pods(p) if p.len() == pods.len() - 1 && !p.iter().any(|x| x.name == gone) => {
            Some(())
        }
        _ => None,
    })
    .await;

    // An object the console cannot read: a newer CRD changed a field's type (here
    // status.blueGreen.jobFailureCount becomes a string), the server stores what that schema
    // allows, and the console must say so instead of showing a stale view. (The shipped
    // schema itself keeps malformed values out: `format: date-time` etc. are enforced.)
    let crds: Api<DynamicObject> = Api::all_with(
        admin.clone(),
        &kube::api::ApiResource::from_gvk(&kube::api::GroupVersionKind::gvk(
            "apiextensions.k8s.io",
            "v1",
            "CustomResourceDefinition",
        )),
    );
    let field = "/spec/versions/0/schema/openAPIV3Schema/properties/status/properties/blueGreen/properties/jobFailureCount";
    let retype = json!([{"op": "replace", "path": field, "value": {"type": "string"}}]);
    crds.patch(
        "openbaoclusters.openbao.org",
        &PatchParams::default(),
        &Patch::<()>::Json(serde_json::from_value(retype).unwrap()),
    )
    .await
    .unwrap();
    let clusters: Api<DynamicObject> =
        Api::namespaced_with(admin.clone(), &ns, &api_resource(Resource::OpenBaoClusters));
    let patch = json!({"status": {"blueGreen": {"jobFailureCount": "two"}}});
    let written = super::kube::wait_for("the retyped schema to be served", 30, || {
        let clusters = clusters.clone();
        let (cluster, patch) = (cluster.clone(), patch.clone());
        async move {
            clusters
                .patch_status(&cluster, &PatchParams::default(), &Patch::Merge(patch))
                .await
                .ok()
        }
    })
    .await;
    assert_eq!(
        written.data["status"]["blueGreen"]["jobFailureCount"],
        "two"
    );
    let problem = until(&mut rx, "ClusterUnparseable", |e| match e {
        SourceEvent::ClusterUnparseable(msg) => Some(msg.clone()),
        _ => None,
    })
    .await;
    // The shipped CRD back for the cases after this one.
    super::kube::install_crds(&admin, "0.1").await.unwrap();
    assert!(
        problem.contains(&cluster) && problem.contains("two"),
        "{problem}"
    );
    for t in tasks {
        t.abort();
    }
}

/// The API server restarts (a control-plane upgrade, say): the console's watchers report the
/// outage, recover on their own, and changes made afterwards arrive.
pub async fn watchers_recover_from_an_apiserver_restart(rig: Arc<Rig>, ns: String) {
    let admin = rig.client("admin").await.unwrap();
    let incident = incident::incident(&rig, "transient", &ns).await;
    let cluster = incident.scenario.cluster.clone();
    let viewer = rig.client("viewer").await.unwrap();
    let (tx, mut rx) = mpsc::channel(256);
    let tasks = watch::spawn_all(&viewer, &ns, &cluster, tx);
    until(&mut rx, "the cluster", |e| {
        matches!(e, SourceEvent::Cluster(Some(_))).then_some(())
    })
    .await;

    rig.restart("kube-apiserver").await.unwrap();
    super::kube::wait_for("kube-apiserver ready again", 90, || {
        let admin = admin.clone();
        async move {
            let req = http::Request::get("/readyz").body(Vec::new()).ok()?;
            (admin.request_text(req).await.ok()?.trim() == "ok").then_some(())
        }
    })
    .await;
    let clusters: Api<DynamicObject> =
        Api::namespaced_with(admin.clone(), &ns, &api_resource(Resource::OpenBaoClusters));
    let patch = json!({"spec": {"paused": true}});
    super::kube::wait_for("a patch after the restart", 30, || {
        let clusters = clusters.clone();
        let (cluster, patch) = (cluster.clone(), patch.clone());
        async move {
            clusters
                .patch(&cluster, &PatchParams::default(), &Patch::Merge(patch))
                .await
                .ok()
        }
    })
    .await;
    until(&mut rx, "the change made after the restart", |e| match e {
        SourceEvent::Cluster(Some(c)) if c.paused => Some(()),
        _ => None,
    })
    .await;
    for t in tasks {
        t.abort();
    }
}

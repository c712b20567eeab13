//! The test controls (injected errors, kube-rs's own retry of a 503, latency, a held request)
//! and the scale subresource of Deployments.

use std::time::Duration;

use breakglass::sim::store::Resource;
use kube::Api;
use kube::api::{Patch, PatchParams};
use serde_json::json;

use super::CONFLICT;
use crate::support::sim::*;

#[tokio::test]
async fn injected_faults_latency_and_scale() {
    let sim = start().await;
    let admin = sim.admin().await;
    let c = sim.server.controls();
    let path = format!("/apis/openbao.org/v1alpha1/namespaces/{NS}/openbaoclusters/{CLUSTER}");
    c.inject_error("PATCH", &path, 500, 1);
    let api = clusters(admin.clone());
    let s = status_of(
        api.patch(
            CLUSTER,
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"replicas": 4}})),
        )
        .await,
    );
    assert_eq!((s.code, s.reason.as_str()), (500, "InternalError"));
    // kube-rs retries a 503 on its own: the injected one is answered, then the retry works.
    c.clear_requests();
    c.inject_error("PATCH", &path, 503, 1);
    api.patch(
        CLUSTER,
        &PatchParams::default(),
        &Patch::Merge(json!({"spec": {"replicas": 4}})),
    )
    .await
    .unwrap();
    let statuses: Vec<u16> = c
        .requests()
        .iter()
        .filter(|r| r.method == "PATCH")
        .map(|r| r.status)
        .collect();
    assert_eq!(statuses, [503, 200]);
    c.inject_error("GET", &path, 409, 1);
    assert_eq!(status_of(api.get(CLUSTER).await).message, CONFLICT);
    c.set_latency(Duration::from_millis(300));
    let t = std::time::Instant::now();
    api.get(CLUSTER).await.unwrap();
    assert!(t.elapsed() >= Duration::from_millis(300));
    c.set_latency(Duration::ZERO);

    use k8s_openapi::api::apps::v1::Deployment;
    sim.store
        .create(
            Resource::Deployments,
            json!({"metadata": {"name": "openbao-operator-controller", "namespace": NS},
                   "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "op"}},
                            "template": {"metadata": {"labels": {"app": "op"}}, "spec": {"containers": [{"name": "m", "image": "x"}]}}}}),
        )
        .unwrap();
    let deps: Api<Deployment> = Api::namespaced(admin.clone(), NS);
    let scale = deps.get_scale("openbao-operator-controller").await.unwrap();
    assert_eq!(scale.spec.unwrap().replicas, Some(1));
    let scaled = deps
        .patch_scale(
            "openbao-operator-controller",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"replicas": 0}})),
        )
        .await
        .unwrap();
    // autoscaling/v1 `replicas,omitempty`: the real kube-apiserver leaves 0 out
    // (tests/real_apiserver.rs, differential "patch scale dry run").
    assert_eq!(scaled.spec.unwrap().replicas, None);
    assert_eq!(
        deps.get("openbao-operator-controller")
            .await
            .unwrap()
            .spec
            .unwrap()
            .replicas,
        Some(0)
    );
}

#[tokio::test]
async fn a_held_request_waits_while_the_others_are_answered() {
    let sim = start().await;
    let api = clusters(sim.admin().await);
    let c = sim.server.controls();
    let hold = Duration::from_millis(1500);
    c.hold_requests("PATCH", "/apis/openbao.org/", hold, 1);
    let patch = Patch::Merge(json!({"spec": {"replicas": 4}}));
    let t = std::time::Instant::now();
    let held = {
        let (api, patch) = (api.clone(), patch.clone());
        tokio::spawn(async move { api.patch(CLUSTER, &PatchParams::default(), &patch).await })
    };
    // Reads go on while the write is held, and see nothing of it yet.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let o = api.get(CLUSTER).await.unwrap();
    assert!(t.elapsed() < hold, "a read waited for the held write");
    assert_eq!(o.data["spec"]["replicas"], 3);
    assert!(!held.is_finished());
    let o = held.await.unwrap().unwrap();
    assert!(t.elapsed() >= hold, "answered after {:?}", t.elapsed());
    assert_eq!(o.data["spec"]["replicas"], 4);
    // Only the next one was held.
    let t = std::time::Instant::now();
    api.patch(CLUSTER, &PatchParams::default(), &patch)
        .await
        .unwrap();
    assert!(
        t.elapsed() < Duration::from_millis(500),
        "{:?}",
        t.elapsed()
    );
}

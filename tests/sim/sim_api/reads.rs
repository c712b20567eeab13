//! Reads: list and get (labels, field selectors, CRD defaults on read, 404 as a Status) and
//! pagination (continue tokens keep the first list's resourceVersion and expire with history).

use breakglass::sim::store::Resource;
use k8s_openapi::api::core::v1::Pod;
use kube::Api;
use kube::api::ListParams;
use serde_json::json;

use crate::support::sim::*;

#[tokio::test]
async fn list_get_and_not_found() {
    let sim = start().await;
    let api = clusters(sim.admin().await);
    let list = api.list(&ListParams::default()).await.unwrap();
    assert_eq!(list.items.len(), 1);
    assert!(
        !list
            .metadata
            .resource_version
            .clone()
            .unwrap_or_default()
            .is_empty()
    );
    let got = api.get(CLUSTER).await.unwrap();
    assert_eq!(
        got.data["spec"]["tls"]["mode"], "OperatorManaged",
        "CRD default applied"
    );
    let s = status_of(api.get("x").await);
    assert_eq!((s.code, s.reason.as_str()), (404, "NotFound"));
    assert_eq!(s.message, "openbaoclusters.openbao.org \"x\" not found");
    let pods: Api<Pod> = Api::namespaced(sim.admin().await, NS);
    let sel = pods
        .list(&ListParams::default().labels("app.kubernetes.io/instance=prod-cluster"))
        .await
        .unwrap();
    assert_eq!(sel.items.len(), 1);
    let set = pods
        .list(&ListParams::default().labels("app in (other),app!=x"))
        .await
        .unwrap();
    assert_eq!(set.items.len(), 2);
    let by_name = pods
        .list(&ListParams::default().fields("metadata.name=starting"))
        .await
        .unwrap();
    assert_eq!(by_name.items.len(), 1);
}

#[tokio::test]
async fn pagination_keeps_first_rv_and_expires() {
    let sim = start().await;
    let pods: Api<Pod> = Api::namespaced(sim.admin().await, NS);
    let first = pods.list(&ListParams::default().limit(2)).await.unwrap();
    assert_eq!(first.items.len(), 2);
    let token = first.metadata.continue_.clone().expect("continue token");
    sim.store
        .modify(Resource::Pods, NS, "starting", |p| {
            p["metadata"]["labels"]["x"] = json!("y")
        })
        .unwrap();
    let second = pods
        .list(&ListParams::default().limit(2).continue_token(&token))
        .await
        .unwrap();
    assert_eq!(second.items.len(), 1);
    assert_eq!(
        second.metadata.resource_version,
        first.metadata.resource_version
    );
    assert!(
        second
            .metadata
            .continue_
            .as_deref()
            .unwrap_or("")
            .is_empty()
    );
    sim.server.controls().expire_history();
    let s = status_of(
        pods.list(&ListParams::default().limit(2).continue_token(&token))
            .await,
    );
    assert_eq!((s.code, s.reason.as_str()), (410, "Expired"));
}

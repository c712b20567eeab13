//! Watches: a watch from a list's resourceVersion loses nothing and no-op writes are silent;
//! an expired resourceVersion is an in-stream 410 on which kube-rs's watcher re-lists.

use std::time::Duration;

use breakglass::sim::store::Resource;
use futures::{StreamExt, TryStreamExt};
use kube::api::{ListParams, Patch, PatchParams, WatchEvent, WatchParams};
use kube::runtime::watcher;
use serde_json::{Value, json};

use super::rv;
use crate::support::sim::*;

#[tokio::test]
async fn list_then_watch_loses_nothing_and_noop_is_silent() {
    let sim = start().await;
    let api = clusters(sim.admin().await);
    let list = api.list(&ListParams::default()).await.unwrap();
    let from = list.metadata.resource_version.clone().unwrap();
    // Changes between the list and the watch must all arrive.
    sim.store
        .create(Resource::OpenBaoClusters, cluster("second"))
        .unwrap();
    let before = sim.store.current_rv();
    sim.store
        .modify(Resource::OpenBaoClusters, NS, CLUSTER, |_| {})
        .unwrap();
    assert_eq!(sim.store.current_rv(), before, "no-op write changes no rv");
    api.patch(
        CLUSTER,
        &PatchParams::default(),
        &Patch::Merge(json!({"spec": {"replicas": 3}})),
    )
    .await
    .unwrap();
    assert_eq!(sim.store.current_rv(), before, "no-op patch changes no rv");
    sim.store
        .modify(Resource::OpenBaoClusters, NS, CLUSTER, |o| {
            o["spec"]["replicas"] = json!(5)
        })
        .unwrap();
    sim.store
        .delete(Resource::OpenBaoClusters, NS, "second")
        .unwrap();
    let wp = WatchParams::default().timeout(5);
    let mut stream = api.watch(&wp, &from).await.unwrap().boxed();
    let mut seen = Vec::new();
    while seen.len() < 3 {
        match stream.try_next().await.unwrap().expect("event") {
            WatchEvent::Added(o) => seen.push(format!("ADDED {}", o.metadata.name.unwrap())),
            WatchEvent::Modified(o) => seen.push(format!("MODIFIED {}", o.metadata.name.unwrap())),
            WatchEvent::Deleted(o) => seen.push(format!("DELETED {}", o.metadata.name.unwrap())),
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(
        seen,
        ["ADDED second", "MODIFIED prod-cluster", "DELETED second"]
    );
}

#[tokio::test]
async fn expired_watch_is_an_in_stream_410_and_watcher_relists() {
    let sim = start().await;
    let controls = sim.server.controls();
    let admin = sim.admin().await;
    let api = clusters(admin.clone());
    let old = rv(&api.get(CLUSTER).await.unwrap());
    sim.store
        .modify(Resource::OpenBaoClusters, NS, CLUSTER, |o| {
            o["status"] = json!({"phase": "Running"})
        })
        .unwrap();
    controls.expire_history();
    let path = format!(
        "/apis/openbao.org/v1alpha1/namespaces/{NS}/openbaoclusters?watch=true&resourceVersion={old}"
    );
    let (code, body) = raw(&admin, "GET", &path, "application/json", "").await;
    assert_eq!(code, 200, "expired watch is HTTP 200");
    let ev: Value = serde_json::from_str(body.trim()).unwrap();
    assert_eq!(ev["type"], "ERROR");
    assert_eq!(ev["object"]["kind"], "Status");
    assert_eq!(ev["object"]["code"], 410);
    assert_eq!(ev["object"]["reason"], "Expired");

    // kube-rs's watcher: on the 410 it re-lists.
    controls.set_bookmark_interval(Duration::from_secs(3600));
    let mut w = watcher(api.clone(), watcher::Config::default()).boxed();
    let mut init_done = 0;
    while init_done < 1 {
        if let Ok(watcher::Event::InitDone) = w.next().await.expect("watcher event") {
            init_done += 1;
        }
    }
    let lists_before = list_calls(&controls);
    // A write the watcher does not see (another resource) moves the rv on; compaction then
    // makes the watcher's rv too old; closing its watch makes it re-watch and get the 410.
    sim.store
        .modify(Resource::Pods, NS, "starting", |p| {
            p["metadata"]["labels"]["k"] = json!("v")
        })
        .unwrap();
    controls.expire_history();
    controls.close_watches();
    let relisted = tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            if let Ok(watcher::Event::InitDone) = w.next().await.expect("watcher event") {
                return;
            }
        }
    })
    .await;
    assert!(relisted.is_ok(), "watcher re-listed after 410");
    assert!(list_calls(&controls) > lists_before);
}

fn list_calls(c: &breakglass::sim::server::Controls) -> usize {
    c.requests()
        .iter()
        .filter(|r| {
            r.method == "GET" && r.path.ends_with("/openbaoclusters") && !r.query.contains("watch")
        })
        .count()
}

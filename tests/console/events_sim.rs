//! The Events watcher against the simulator over real HTTP: an Event of the cluster's
//! repair pod arrives as evidence-ready views, an Event of another cluster's pod does not.
//!
//! The simulator serves core/v1 `events` (list, watch, create) on both operator lines.

use std::time::Duration;

use breakglass::sim::run::start;
use breakglass::sources::SourceEvent;

use k8s_openapi::api::core::v1::Event;
use kube::api::{Api, PostParams};
use tokio::sync::mpsc;

fn event(name: &str, pod: &str, reason: &str) -> Event {
    serde_json::from_value(serde_json::json!({
        "metadata": {"name": name},
        "involvedObject": {"kind": "Pod", "name": pod, "namespace": "security"},
        "reason": reason, "type": "Warning",
        "message": "0/3 nodes are available: 3 Insufficient cpu.",
        "lastTimestamp": "2026-12-04T10:00:00Z", "count": 4,
        "source": {"component": "default-scheduler"}
    }))
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_watcher_sends_the_clusters_events_and_only_those() {
    let dir = tempfile::tempdir().unwrap();
    let sim = start("transient", 4.0, &dir.path().join("kubeconfig"))
        .await
        .unwrap();
    let c = sim.connect().await.unwrap();
    let api: Api<Event> = Api::namespaced(c.client.clone(), &c.namespace);
    let repair_pod = format!(
        "upgrade-{}-bluegreen-repair-consensus-5054f3dfa7-abcde",
        sim.cluster
    );
    api.create(
        &PostParams::default(),
        &event("e1", &repair_pod, "FailedScheduling"),
    )
    .await
    .unwrap();
    api.create(
        &PostParams::default(),
        &event("e2", "someone-else-0", "FailedScheduling"),
    )
    .await
    .unwrap();
    let (tx, mut rx) = mpsc::channel(64);
    let handle = breakglass::sources::events::spawn(&c.client, &c.namespace, &sim.cluster, tx);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    let mut seen = None;
    while let Ok(Some(ev)) = tokio::time::timeout_at(deadline, rx.recv()).await {
        if let SourceEvent::Events(list) = ev
            && list.iter().any(|e| e.name == repair_pod)
        {
            seen = Some(list);
            break;
        }
    }
    handle.abort();
    let list = seen.expect("the repair pod's event arrives");
    assert!(!list.iter().any(|e| e.name == "someone-else-0"), "{list:?}");
    let f = breakglass::domain::event_evidence::findings(&list, &sim.cluster);
    assert!(
        f.iter()
            .any(|f| f.text.contains("never reaches break glass")),
        "{f:?}"
    );
    sim.shutdown().await;
}

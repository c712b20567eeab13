//! A real `410 Gone` on the console's watchers: etcd compacted past the resourceVersion they
//! watch from, and a kube-apiserver whose watch cache starts after it (killed and started
//! again, so no shutdown bookmark saves them). Each watcher's next watch is answered `410
//! Expired`; the console must re-list, report the recovery, show the change made after the
//! compaction, hold every object once, and keep running.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use breakglass::sim::store::Resource;
use breakglass::sources::{SourceEvent, watch};
use k8s_openapi::api::core::v1::{ConfigMap, Pod};
use kube::api::{Api, DynamicObject, ListParams, Patch, PatchParams, PostParams};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::mpsc;

use super::incident::{self, api_resource};
use super::rig::Rig;

/// `/` and `/registry/`, base64 (etcd's JSON gateway takes keys so).
const KEY_ROOT: &str = "Lw==";
const KEY_REGISTRY: &str = "L3JlZ2lzdHJ5Lw==";

/// One request to etcd's JSON gateway (`/v3/...` on its client URL): the raw response.
async fn etcd_raw(rig: &Rig, path: &str, body: &Value) -> String {
    let addr = rig.etcd_url.trim_start_matches("http://").to_string();
    let body = body.to_string();
    let mut s = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let req = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).await.unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).await.unwrap();
    out
}

/// [`etcd_raw`], which must answer 200: its JSON body.
async fn etcd(rig: &Rig, path: &str, body: &Value) -> Value {
    let out = etcd_raw(rig, path, body).await;
    let (head, rest) = out.split_once("\r\n\r\n").unwrap();
    assert!(head.starts_with("HTTP/1.1 200"), "etcd {path}: {out}");
    serde_json::from_str(rest.trim()).unwrap_or_else(|e| panic!("etcd {path}: {e}: {rest}"))
}

/// etcd's current revision.
async fn etcd_revision(rig: &Rig) -> i64 {
    let v = etcd(rig, "/v3/kv/range", &json!({"key": KEY_ROOT, "limit": 1})).await;
    v["header"]["revision"].as_str().unwrap().parse().unwrap()
}

fn unique(names: &[String]) -> bool {
    names.iter().collect::<BTreeSet<_>>().len() == names.len()
}

pub async fn watchers_relist_after_a_real_410(rig: Arc<Rig>, ns: String) {
    let admin = rig.client("admin").await.unwrap();
    let incident = incident::incident(&rig, "transient", &ns).await;
    let cluster = incident.scenario.cluster.clone();
    let viewer = rig.client("viewer").await.unwrap();
    let (tx, mut rx) = mpsc::channel(512);
    let tasks = watch::spawn_all(&viewer, &ns, &cluster, tx);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let mut seen = BTreeSet::new();
    while seen.len() < 3 {
        match tokio::time::timeout_at(deadline, rx.recv()).await {
            Ok(Some(SourceEvent::Cluster(Some(_)))) => seen.insert("cluster"),
            Ok(Some(SourceEvent::Pods(_))) => seen.insert("pods"),
            Ok(Some(SourceEvent::Jobs(_))) => seen.insert("jobs"),
            Ok(Some(_)) => false,
            other => panic!("the first snapshots: {other:?} (have {seen:?})"),
        };
    }

    // A write none of the watchers sees moves the revision past theirs; then etcd forgets
    // everything before it.
    let cms: Api<ConfigMap> = Api::namespaced(admin.clone(), &ns);
    let cm: ConfigMap =
        serde_json::from_value(json!({"metadata": {"name": "revision-mover"}})).unwrap();
    cms.create(&PostParams::default(), &cm).await.unwrap();
    let revision = etcd_revision(&rig).await;
    etcd(
        &rig,
        "/v3/kv/compaction",
        &json!({"revision": revision.to_string(), "physical": true}),
    )
    .await;
    // An old revision is gone from etcd itself now.
    let old = json!({"key": KEY_REGISTRY, "limit": 1, "revision": (revision - 1).to_string()});
    let compacted = etcd_raw(&rig, "/v3/kv/range", &old).await;
    assert!(compacted.contains("compacted"), "{compacted}");

    rig.restart("kube-apiserver").await.unwrap();
    super::kube::wait_for("kube-apiserver ready again", 90, || {
        let admin = admin.clone();
        async move {
            let req = http::Request::get("/readyz").body(Vec::new()).ok()?;
            (admin.request_text(req).await.ok()?.trim() == "ok").then_some(())
        }
    })
    .await;
    // The change made after the compaction.
    let clusters: Api<DynamicObject> =
        Api::namespaced_with(admin.clone(), &ns, &api_resource(Resource::OpenBaoClusters));
    super::kube::wait_for("a patch after the restart", 30, || {
        let clusters = clusters.clone();
        let cluster = cluster.clone();
        async move {
            let patch = Patch::Merge(json!({"spec": {"paused": true}}));
            clusters
                .patch(&cluster, &PatchParams::default(), &patch)
                .await
                .ok()
        }
    })
    .await;

    // Each watcher re-lists (since the liveness work a 410 alone is handled silently, without a
    // Problem): the cluster shows the change made after the compaction, and pods and Jobs
    // arrive again, each object once.
    let mut gone = BTreeSet::new();
    let mut recovered = BTreeSet::new();
    let mut paused = false;
    let mut problems = Vec::new();
    let mut pods_after = Vec::new();
    let mut jobs_after = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while !(paused && !pods_after.is_empty() && !jobs_after.is_empty()) {
        let ev = match tokio::time::timeout_at(deadline, rx.recv()).await {
            Ok(Some(ev)) => ev,
            other => panic!(
                "{other:?}: 410 on {gone:?}, recovered {recovered:?}, paused {paused}; problems {problems:#?}"
            ),
        };
        match ev {
            SourceEvent::Problem { source, message } => {
                if message.starts_with("410 Expired") {
                    gone.insert(format!("{source:?}"));
                }
                problems.push(format!("{source:?}: {message}"));
            }
            SourceEvent::Recovered { source } if gone.contains(&format!("{source:?}")) => {
                recovered.insert(format!("{source:?}"));
            }
            SourceEvent::Cluster(Some(c)) if c.paused => paused = true,
            SourceEvent::Pods(p) => {
                pods_after.push(p.iter().map(|p| p.name.clone()).collect::<Vec<_>>())
            }
            SourceEvent::Jobs(j) => {
                jobs_after.push(j.iter().map(|j| j.name.clone()).collect::<Vec<_>>())
            }
            _ => {}
        }
    }
    // Every object once, and the same ones the server holds.
    let pods: Api<Pod> = Api::namespaced(admin.clone(), &ns);
    let on_server: BTreeSet<String> = pods
        .list(&ListParams::default().labels(&watch::pod_selector(&cluster)))
        .await
        .unwrap()
        .items
        .into_iter()
        .filter_map(|p| p.metadata.name)
        .collect();
    for names in &pods_after {
        assert!(unique(names), "{names:?}");
        assert_eq!(names.iter().cloned().collect::<BTreeSet<_>>(), on_server);
    }
    for names in &jobs_after {
        assert!(unique(names), "{names:?}");
    }
    // Still running: no watcher gave up.
    tokio::time::sleep(Duration::from_secs(1)).await;
    for t in &tasks {
        assert!(!t.is_finished(), "a watcher exited after the 410");
    }
    println!("  410 on {gone:?}: {}", problems.join(" | "));
    for t in tasks {
        t.abort();
    }
}

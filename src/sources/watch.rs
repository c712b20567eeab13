//! Kubernetes watchers (kube-rs `watcher`, list-then-watch with backoff) for the cluster,
//! its OpenBao pods and its upgrade Jobs. Each sends a full snapshot of what it sees after
//! every change, so the app never has to merge partial updates.

use std::collections::BTreeMap;
use std::fmt::Debug;

use futures::StreamExt;
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind};
use kube::runtime::WatchStreamExt;
use kube::runtime::watcher::{self, Event};
use kube::{Client, Resource, ResourceExt};
use serde::de::DeserializeOwned;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::connect::explain;
use super::liveness::{READS_STOPPED, Restart};
use super::{SourceEvent, SourceName};
use crate::domain::cluster::{CLUSTER_KIND, GROUP, VERSION};
use crate::domain::incident::{LABEL_CLUSTER, LABEL_COMPONENT, LABEL_REVISION};
use crate::domain::{ClusterView, JobView, PodView};

/// The OpenBaoCluster's API coordinates for `DynamicObject` access.
pub fn cluster_resource() -> ApiResource {
    ApiResource::from_gvk(&GroupVersionKind::gvk(GROUP, VERSION, CLUSTER_KIND))
}

/// Label selector of a cluster's OpenBao pods (executor Job pods carry no revision label).
pub fn pod_selector(cluster: &str) -> String {
    format!("{LABEL_CLUSTER}={cluster},{LABEL_REVISION}")
}

/// Label selector of a cluster's upgrade executor Jobs (dc-tec/openbao-operator@002fbdd `internal/upgrade/job.go` `buildUpgradeExecutorJob`).
pub fn job_selector(cluster: &str) -> String {
    format!("{LABEL_CLUSTER}={cluster},{LABEL_COMPONENT}=upgrade")
}

/// Parse a cluster object into the event the app wants.
pub(crate) fn cluster_event(obj: Option<&DynamicObject>) -> SourceEvent {
    let Some(obj) = obj else {
        return SourceEvent::Cluster(None);
    };
    match serde_json::to_value(obj) {
        Ok(v) => match ClusterView::from_json(&v) {
            Ok(c) => SourceEvent::Cluster(Some(c)),
            Err(e) => SourceEvent::ClusterUnparseable(e.to_string()),
        },
        Err(e) => SourceEvent::ClusterUnparseable(e.to_string()),
    }
}

/// How much of a malformed object's serde error is shown (it can quote a huge value).
const DETAIL_CHARS: usize = 160;

/// `s` cut to `n` characters, with `…` when cut.
fn cut(s: &str, n: usize) -> String {
    match s.char_indices().nth(n) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

/// A snapshot of objects watched untyped, each converted to `K` on its own: one malformed
/// object (a wrong type, a shape this build does not know) is left out and named, instead
/// of failing the whole list with a serde error that names nothing and empties the pane
/// (what a typed kube-rs watcher does). `view` makes the event of the readable objects;
/// a problem naming the unreadable ones follows it (the source stays marked, its data
/// incomplete) until they read again.
pub(crate) fn lenient<K: DeserializeOwned>(
    objs: Vec<DynamicObject>,
    kind: &str,
    source: SourceName,
    view: impl Fn(Vec<K>) -> SourceEvent,
) -> Vec<SourceEvent> {
    let mut good = Vec::with_capacity(objs.len());
    let mut bad = Vec::new();
    for obj in objs {
        let name = cut(&obj.name_any(), 80);
        match serde_json::to_value(obj).and_then(serde_json::from_value::<K>) {
            Ok(k) => good.push(k),
            Err(e) => bad.push((name, cut(&e.to_string(), DETAIL_CHARS))),
        }
    }
    let mut out = vec![view(good)];
    if let Some((name, detail)) = bad.first() {
        let more = match bad.len() {
            1 => String::new(),
            n => format!(" (and {} more)", n - 1),
        };
        out.push(SourceEvent::Problem {
            source,
            message: format!(
                "{kind} {name}{more} cannot be read ({detail}): left out, what is shown is incomplete"
            ),
        });
    }
    out
}

pub fn watcher_error(err: &watcher::Error) -> String {
    match err {
        watcher::Error::InitialListFailed(e)
        | watcher::Error::WatchStartFailed(e)
        | watcher::Error::WatchFailed(e) => explain(e),
        watcher::Error::WatchError(s) => format!("{} {}: {}", s.code, s.reason, s.message),
        other => other.to_string(),
    }
}

/// Server-side timeout of every watch call: the server ends a quiet watch after this and
/// kube-rs re-watches from the last resourceVersion; a watch that stays silent longer
/// (a hung server: no events, no bookmarks, no end) is dropped by kube-rs's idle timeout
/// (this plus 5 s) and listed afresh. Bookmarks (`allowWatchBookmarks`, kube-rs's default)
/// keep a healthy quiet watch talking in between.
pub(crate) const WATCH_TIMEOUT_SECS: u32 = 10;

/// Start the three watchers. They stop when `tx` is closed.
pub fn spawn_all(
    client: &Client,
    namespace: &str,
    cluster: &str,
    tx: mpsc::Sender<SourceEvent>,
) -> Vec<JoinHandle<()>> {
    spawn_restartable(client, namespace, cluster, tx, None)
}

/// The three watchers plus the API server's liveness probe ([`super::liveness`]), which
/// marks them stale when the server stops answering and restarts them when it answers
/// again. What the console runs.
pub fn spawn_live(
    conn: &super::connect::Connection,
    cluster: &str,
    tx: mpsc::Sender<SourceEvent>,
) -> Vec<JoinHandle<()>> {
    let (probe, restart) = super::liveness::spawn(
        conn.client.clone(),
        &conn.namespace,
        cluster,
        conn.server.clone(),
        tx.clone(),
    );
    let mut handles = spawn_restartable(&conn.client, &conn.namespace, cluster, tx, Some(restart));
    handles.push(probe);
    handles
}

fn spawn_restartable(
    client: &Client,
    namespace: &str,
    cluster: &str,
    tx: mpsc::Sender<SourceEvent>,
    restart: Option<Restart>,
) -> Vec<JoinHandle<()>> {
    let clusters: Api<DynamicObject> =
        Api::namespaced_with(client.clone(), namespace, &cluster_resource());
    // Pods and Jobs are read as untyped objects, each converted on its own ([`lenient`]).
    let pods: Api<DynamicObject> =
        Api::namespaced_with(client.clone(), namespace, &ApiResource::erase::<Pod>(&()));
    let jobs: Api<DynamicObject> =
        Api::namespaced_with(client.clone(), namespace, &ApiResource::erase::<Job>(&()));
    vec![
        tokio::spawn(run_restartable(
            clusters,
            watcher::Config::default().fields(&format!("metadata.name={cluster}")),
            SourceName::Cluster,
            tx.clone(),
            |objs: Vec<DynamicObject>| vec![cluster_event(objs.first())],
            restart.clone(),
        )),
        tokio::spawn(run_restartable(
            pods,
            watcher::Config::default().labels(&pod_selector(cluster)),
            SourceName::Pods,
            tx.clone(),
            |objs: Vec<DynamicObject>| {
                lenient(objs, "pod", SourceName::Pods, |pods: Vec<Pod>| {
                    SourceEvent::Pods(pods.iter().map(PodView::from_pod).collect())
                })
            },
            restart.clone(),
        )),
        tokio::spawn(run_restartable(
            jobs,
            watcher::Config::default().labels(&job_selector(cluster)),
            SourceName::Jobs,
            tx,
            |objs: Vec<DynamicObject>| {
                lenient(objs, "Job", SourceName::Jobs, |jobs: Vec<Job>| {
                    SourceEvent::Jobs(jobs.iter().map(JobView::from_job).collect())
                })
            },
            restart,
        )),
    ]
}

/// Watch one resource forever (with kube-rs's default backoff), sending a full snapshot
/// after the initial list and after every change, and Problem/Recovered around errors.
pub(crate) async fn run<K, F>(
    api: Api<K>,
    config: watcher::Config,
    source: SourceName,
    tx: mpsc::Sender<SourceEvent>,
    snapshot: F,
) where
    K: Resource + Clone + DeserializeOwned + Debug + Send + 'static,
    F: Fn(Vec<K>) -> Vec<SourceEvent>,
{
    run_restartable(api, config, source, tx, snapshot, None).await;
}

/// Resolves when the restart generation is no longer `seen`; never when there is no
/// probe (or it is gone).
async fn restarted(restart: &mut Option<Restart>, seen: u64) {
    if let Some(rx) = restart
        && rx.wait_for(|l| l.generation != seen).await.is_ok()
    {
        return;
    }
    *restart = None;
    std::future::pending::<()>().await;
}

/// Whether the liveness probe has the API server down now (it speaks for the sources then).
fn server_down(restart: &Option<Restart>) -> bool {
    restart.as_ref().is_some_and(|rx| rx.borrow().down)
}

/// [`run`], starting over with a fresh list whenever `restart` changes. A 401 stops the
/// reads until then: the credentials are not retried blindly.
async fn run_restartable<K, F>(
    api: Api<K>,
    config: watcher::Config,
    source: SourceName,
    tx: mpsc::Sender<SourceEvent>,
    snapshot: F,
    mut restart: Option<Restart>,
) where
    K: Resource + Clone + DeserializeOwned + Debug + Send + 'static,
    F: Fn(Vec<K>) -> Vec<SourceEvent>,
{
    let mut config = config;
    if config.timeout.is_none() {
        config = config.timeout(WATCH_TIMEOUT_SECS);
    }
    loop {
        let seen = restart.as_ref().map_or(0, |rx| rx.borrow().generation);
        let mut watch = Watch::default();
        let stream = watcher::watcher(api.clone(), config.clone()).default_backoff();
        futures::pin_mut!(stream);
        loop {
            let event = tokio::select! {
                event = stream.next() => event,
                () = restarted(&mut restart, seen) => break,
            };
            let Some(event) = event else { return };
            let unauthenticated = matches!(&event, Err(e) if is_unauthenticated(e));
            let quiet = event.is_err() && !unauthenticated && server_down(&restart);
            for out in watch.step(event, &snapshot, source) {
                if quiet && matches!(out, SourceEvent::Problem { .. }) {
                    continue;
                }
                if tx.send(out).await.is_err() {
                    return;
                }
            }
            if unauthenticated {
                // Park until restarted (never, without a liveness probe): no blind retries.
                restarted(&mut restart, seen).await;
                break;
            }
        }
    }
}

/// `namespace/name` (cluster-scoped objects: `/name`).
fn key<K: Resource>(o: &K) -> String {
    format!("{}/{}", o.namespace().unwrap_or_default(), o.name_any())
}

pub(crate) fn is_unauthenticated(e: &watcher::Error) -> bool {
    match e {
        watcher::Error::InitialListFailed(e)
        | watcher::Error::WatchStartFailed(e)
        | watcher::Error::WatchFailed(e) => super::liveness_auth::is_unauthenticated(e),
        watcher::Error::WatchError(s) => s.code == 401,
        _ => false,
    }
}

/// One watcher's objects as last seen, folded from kube-rs watcher events (keyed by
/// namespace and name: a watch over every namespace sees equal names).
pub(crate) struct Watch<K> {
    objects: BTreeMap<String, K>,
    buffer: BTreeMap<String, K>,
    failing: bool,
}

impl<K> Default for Watch<K> {
    fn default() -> Self {
        Watch {
            objects: BTreeMap::new(),
            buffer: BTreeMap::new(),
            failing: false,
        }
    }
}

impl<K: Resource + Clone> Watch<K> {
    /// The events one watcher event yields for the app: a problem, or a recovery and a
    /// full snapshot when something changed.
    pub(crate) fn step<F: Fn(Vec<K>) -> Vec<SourceEvent>>(
        &mut self,
        event: Result<Event<K>, watcher::Error>,
        snapshot: &F,
        source: SourceName,
    ) -> Vec<SourceEvent> {
        let changed = match event {
            Ok(Event::Init) => {
                self.buffer.clear();
                false
            }
            Ok(Event::InitApply(o)) => {
                self.buffer.insert(key(&o), o);
                false
            }
            Ok(Event::InitDone) => {
                self.objects = std::mem::take(&mut self.buffer);
                true
            }
            Ok(Event::Apply(o)) => {
                self.objects.insert(key(&o), o);
                true
            }
            Ok(Event::Delete(o)) => {
                self.objects.remove(&key(&o));
                true
            }
            // kube-rs re-lists at once: the list confirms the data (or fails, and that is
            // reported), so a 410 alone is no reason to show the pane stale.
            Err(watcher::Error::WatchError(s)) if s.code == 410 => return Vec::new(),
            Err(e) => {
                self.failing = true;
                let mut message = watcher_error(&e);
                if is_unauthenticated(&e) && !message.contains(READS_STOPPED) {
                    message.push_str(&format!("; {READS_STOPPED}, nothing is retried"));
                }
                return vec![SourceEvent::Problem { source, message }];
            }
        };
        let mut out = Vec::new();
        if !changed {
            return out;
        }
        if std::mem::take(&mut self.failing) {
            out.push(SourceEvent::Recovered { source });
        }
        out.extend(snapshot(self.objects.values().cloned().collect()));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(name: &str, restarts: serde_json::Value) -> DynamicObject {
        serde_json::from_value(serde_json::json!({
            "apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
            "spec": {"containers": [{"name": "openbao"}]},
            "status": {"containerStatuses": [{"name": "openbao", "image": "x", "imageID": "",
                "ready": true, "restartCount": restarts, "extraField": {"new": true}}]}
        }))
        .unwrap()
    }

    fn views(objs: Vec<DynamicObject>) -> Vec<SourceEvent> {
        lenient(objs, "pod", SourceName::Pods, |pods: Vec<Pod>| {
            SourceEvent::Pods(pods.iter().map(PodView::from_pod).collect())
        })
    }

    #[test]
    fn a_malformed_pod_is_named_and_left_out_the_others_shown() {
        let huge = "x".repeat(1 << 20);
        let out = views(vec![
            pod("good-0", serde_json::json!(2)),
            pod("bad-1", serde_json::json!(huge)),
            pod("bad-2", serde_json::json!({"a": 1})),
        ]);
        let [
            SourceEvent::Pods(shown),
            SourceEvent::Problem { source, message },
        ] = &out[..]
        else {
            panic!("{out:?}")
        };
        assert_eq!(shown.len(), 1);
        assert_eq!(shown[0].name, "good-0");
        assert_eq!(*source, SourceName::Pods);
        assert!(
            message.starts_with("pod bad-1 (and 1 more) cannot be read (invalid type: string"),
            "{message}"
        );
        assert!(message.len() < 400, "a huge value is not quoted whole");
        // All readable again: the pods alone, which clears the problem in the app.
        let out = views(vec![pod("good-0", serde_json::json!(2))]);
        assert!(
            matches!(&out[..], [SourceEvent::Pods(p)] if p.len() == 1),
            "{out:?}"
        );
    }

    #[test]
    fn a_missing_cluster_is_none_and_a_bad_one_is_named() {
        assert_eq!(cluster_event(None), SourceEvent::Cluster(None));
        let bad: DynamicObject = serde_json::from_value(serde_json::json!({
            "apiVersion": "openbao.org/v1alpha1", "kind": "OpenBaoCluster",
            "metadata": {"name": "prod-cluster"}, "spec": {"version": 7}
        }))
        .unwrap();
        match cluster_event(Some(&bad)) {
            SourceEvent::ClusterUnparseable(m) => assert!(m.contains("prod-cluster"), "{m}"),
            other => panic!("unexpected {other:?}"),
        }
    }
}

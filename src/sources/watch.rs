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

pub(crate) fn watcher_error(err: &watcher::Error) -> String {
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
    let pods: Api<Pod> = Api::namespaced(client.clone(), namespace);
    let jobs: Api<Job> = Api::namespaced(client.clone(), namespace);
    vec![
        tokio::spawn(run_restartable(
            clusters,
            watcher::Config::default().fields(&format!("metadata.name={cluster}")),
            SourceName::Cluster,
            tx.clone(),
            |objs: Vec<DynamicObject>| cluster_event(objs.first()),
            restart.clone(),
        )),
        tokio::spawn(run_restartable(
            pods,
            watcher::Config::default().labels(&pod_selector(cluster)),
            SourceName::Pods,
            tx.clone(),
            |objs: Vec<Pod>| SourceEvent::Pods(objs.iter().map(PodView::from_pod).collect()),
            restart.clone(),
        )),
        tokio::spawn(run_restartable(
            jobs,
            watcher::Config::default().labels(&job_selector(cluster)),
            SourceName::Jobs,
            tx,
            |objs: Vec<Job>| SourceEvent::Jobs(objs.iter().map(JobView::from_job).collect()),
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
    F: Fn(Vec<K>) -> SourceEvent,
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
    F: Fn(Vec<K>) -> SourceEvent,
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
    pub(crate) fn step<F: Fn(Vec<K>) -> SourceEvent>(
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
        out.push(snapshot(self.objects.values().cloned().collect()));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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

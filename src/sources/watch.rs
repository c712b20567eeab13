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
pub fn cluster_event(obj: Option<&DynamicObject>) -> SourceEvent {
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

pub fn watcher_error(err: &watcher::Error) -> String {
    match err {
        watcher::Error::InitialListFailed(e)
        | watcher::Error::WatchStartFailed(e)
        | watcher::Error::WatchFailed(e) => explain(e),
        watcher::Error::WatchError(s) => format!("{} {}: {}", s.code, s.reason, s.message),
        other => other.to_string(),
    }
}

/// Start the three watchers. They stop when `tx` is closed.
pub fn spawn_all(
    client: &Client,
    namespace: &str,
    cluster: &str,
    tx: mpsc::Sender<SourceEvent>,
) -> Vec<JoinHandle<()>> {
    let clusters: Api<DynamicObject> =
        Api::namespaced_with(client.clone(), namespace, &cluster_resource());
    let pods: Api<Pod> = Api::namespaced(client.clone(), namespace);
    let jobs: Api<Job> = Api::namespaced(client.clone(), namespace);
    vec![
        tokio::spawn(run(
            clusters,
            watcher::Config::default().fields(&format!("metadata.name={cluster}")),
            SourceName::Cluster,
            tx.clone(),
            |objs: Vec<DynamicObject>| cluster_event(objs.first()),
        )),
        tokio::spawn(run(
            pods,
            watcher::Config::default().labels(&pod_selector(cluster)),
            SourceName::Pods,
            tx.clone(),
            |objs: Vec<Pod>| SourceEvent::Pods(objs.iter().map(PodView::from_pod).collect()),
        )),
        tokio::spawn(run(
            jobs,
            watcher::Config::default().labels(&job_selector(cluster)),
            SourceName::Jobs,
            tx,
            |objs: Vec<Job>| SourceEvent::Jobs(objs.iter().map(JobView::from_job).collect()),
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
    let mut objects: BTreeMap<String, K> = BTreeMap::new();
    let mut buffer: BTreeMap<String, K> = BTreeMap::new();
    let mut failing = false;
    let stream = watcher::watcher(api, config).default_backoff();
    futures::pin_mut!(stream);
    while let Some(event) = stream.next().await {
        let changed = match event {
            Ok(Event::Init) => {
                buffer.clear();
                false
            }
            Ok(Event::InitApply(o)) => {
                buffer.insert(o.name_any(), o);
                false
            }
            Ok(Event::InitDone) => {
                objects = std::mem::take(&mut buffer);
                true
            }
            Ok(Event::Apply(o)) => {
                objects.insert(o.name_any(), o);
                true
            }
            Ok(Event::Delete(o)) => {
                objects.remove(&o.name_any());
                true
            }
            Err(e) => {
                failing = true;
                let message = watcher_error(&e);
                if tx
                    .send(SourceEvent::Problem { source, message })
                    .await
                    .is_err()
                {
                    return;
                }
                continue;
            }
        };
        if failing && changed {
            failing = false;
            if tx.send(SourceEvent::Recovered { source }).await.is_err() {
                return;
            }
        }
        if changed
            && tx
                .send(snapshot(objects.values().cloned().collect()))
                .await
                .is_err()
        {
            return;
        }
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

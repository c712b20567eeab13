//! The Events watcher: core/v1 Events in the cluster's namespace (list-then-watch, the
//! same backoff and Problem/Recovered reporting as the other watchers), filtered client-side
//! to the cluster's objects by kind and name (`domain::events::belongs`: an Event's
//! involvedObject cannot be selected by a label), sent as one bounded list, newest first.
//! Needs `list`/`watch` on `events` (assets/rbac).

use k8s_openapi::api::core::v1::Event;
use kube::Client;
use kube::api::{Api, ApiResource, DynamicObject};
use kube::runtime::watcher;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::watch::{lenient, run};
use super::{SourceEvent, SourceName};
use crate::domain::events::of_cluster;

pub fn spawn(
    client: &Client,
    namespace: &str,
    cluster: &str,
    tx: mpsc::Sender<SourceEvent>,
) -> JoinHandle<()> {
    // Read untyped, each Event converted on its own: a malformed one is named and left out.
    let api: Api<DynamicObject> =
        Api::namespaced_with(client.clone(), namespace, &ApiResource::erase::<Event>(&()));
    let cluster = cluster.to_string();
    tokio::spawn(run(
        api,
        watcher::Config::default(),
        SourceName::Events,
        tx,
        move |objs: Vec<DynamicObject>| {
            lenient(objs, "Event", SourceName::Events, |events: Vec<Event>| {
                SourceEvent::Events(of_cluster(&events, &cluster))
            })
        },
    ))
}

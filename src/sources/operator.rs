//! Reads the operator generation's signals (README "Operator generations"): the
//! OpenBaoCluster CRD (`customresourcedefinitions/openbaoclusters.openbao.org`, apiextensions
//! v1, cluster-scoped) and the operator's controller Deployment found by its labels in any
//! namespace the user may list. The live operation ID comes with the cluster itself.
//!
//! Neither read is required: a 403 or 404 becomes a signal that says why
//! ([`CrdSignal::Unreadable`], [`ImageSignal::Unreadable`]), shown as evidence, never a
//! [`SourceEvent::Problem`] banner. The poller re-reads slowly (both change only when the
//! operator is upgraded) and sends [`SourceEvent::Operator`] only when something changed.

use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::apps::v1::Deployment;
use kube::Client;
use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind, ListParams};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::SourceEvent;
use super::connect::explain;
use super::restore::OPERATOR_SELECTOR;
use crate::domain::generation::{CrdSignal, ImageSignal, Signals};

/// The CRD that carries the schema signals.
pub(crate) const CLUSTER_CRD: &str = "openbaoclusters.openbao.org";
/// The namespace the operator's chart installs into by default (tried when a cluster-wide
/// list is refused).
pub const OPERATOR_NAMESPACE: &str = "openbao-operator-system";
/// How often the signals are read again.
pub(crate) const INTERVAL: Duration = Duration::from_secs(120);

fn crd_resource() -> ApiResource {
    ApiResource::from_gvk(&GroupVersionKind::gvk(
        "apiextensions.k8s.io",
        "v1",
        "CustomResourceDefinition",
    ))
}

/// One GET of the OpenBaoCluster CRD; every failure is a signal, not an error.
pub(crate) async fn read_crd(client: &Client) -> CrdSignal {
    let api: Api<DynamicObject> = Api::all_with(client.clone(), &crd_resource());
    match api.get_opt(CLUSTER_CRD).await {
        Ok(Some(obj)) => match serde_json::to_value(&obj) {
            Ok(v) => CrdSignal::Read(v),
            Err(e) => CrdSignal::Unreadable(format!("does not serialise: {e}")),
        },
        Ok(None) => CrdSignal::Unreadable("not found (404)".into()),
        Err(e) => CrdSignal::Unreadable(explain(&e)),
    }
}

/// The controller's image from the Deployment's pod template (container `manager`, else
/// the first).
fn image_of(d: &Deployment) -> Option<String> {
    let containers = &d.spec.as_ref()?.template.spec.as_ref()?.containers;
    containers
        .iter()
        .find(|c| c.name == "manager")
        .or_else(|| containers.first())?
        .image
        .clone()
}

fn found(list: Vec<Deployment>) -> ImageSignal {
    let Some(d) = list.into_iter().next() else {
        return ImageSignal::NotFound;
    };
    let deployment = format!(
        "{}/{}",
        d.metadata.namespace.as_deref().unwrap_or("?"),
        d.metadata.name.as_deref().unwrap_or("?")
    );
    match image_of(&d) {
        Some(image) => ImageSignal::Found { deployment, image },
        None => ImageSignal::Unreadable(format!("{deployment} has no container image")),
    }
}

/// The operator Deployment by its labels: cluster-wide first; when that is refused, the
/// cluster's namespace and the chart's default namespace.
pub(crate) async fn read_image(client: &Client, namespace: &str) -> ImageSignal {
    let params = ListParams::default().labels(OPERATOR_SELECTOR);
    let all: Api<Deployment> = Api::all(client.clone());
    let refused = match all.list(&params).await {
        Ok(list) => return found(list.items),
        Err(e) => explain(&e),
    };
    let mut notes = vec![format!("all namespaces: {refused}")];
    for ns in [namespace, OPERATOR_NAMESPACE] {
        let api: Api<Deployment> = Api::namespaced(client.clone(), ns);
        match api.list(&params).await {
            Ok(list) if !list.items.is_empty() => return found(list.items),
            Ok(_) => notes.push(format!("{ns}: none")),
            Err(e) => notes.push(format!("{ns}: {}", explain(&e))),
        }
    }
    ImageSignal::Unreadable(notes.join("; "))
}

/// Both reads once (for `status`, `ack` and the poller).
pub async fn read(client: &Client, namespace: &str) -> Signals {
    Signals {
        crd: Arc::new(read_crd(client).await),
        image: read_image(client, namespace).await,
    }
}

/// Read now and every [`INTERVAL`]; send what changed. Stops when `tx` closes.
pub fn spawn(client: Client, namespace: String, tx: mpsc::Sender<SourceEvent>) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut last: Option<Signals> = None;
        loop {
            let now = read(&client, &namespace).await;
            if last.as_ref() != Some(&now) {
                if tx.send(SourceEvent::Operator(now.clone())).await.is_err() {
                    return;
                }
                last = Some(now);
            }
            tokio::time::sleep(INTERVAL).await;
        }
    })
}

//! One read of everything the console shows, for `breakglass status` and hand-offs.

use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::Pod;
use kube::Client;
use kube::api::{Api, DynamicObject, ListParams};

use super::connect::explain;
use super::openbao_http::NodeAccess;
use super::watch::{cluster_event, cluster_resource, job_selector, pod_selector};
use super::{SourceEvent, operator, raft};
use crate::domain::{Incident, JobView, PodView};

#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    #[error("OpenBaoCluster {namespace}/{cluster} not found")]
    NotFound { namespace: String, cluster: String },
    #[error("{0}")]
    Unparseable(String),
    #[error("{0}")]
    Api(String),
}

impl From<kube::Error> for SnapshotError {
    fn from(e: kube::Error) -> Self {
        SnapshotError::Api(explain(&e))
    }
}

/// Read the cluster, its pods, its repair Jobs and every node's Raft indices once
/// (through the pod proxy, without a token).
pub async fn read(
    client: &Client,
    namespace: &str,
    cluster: &str,
) -> Result<Incident, SnapshotError> {
    read_with(client, &NodeAccess::default(), namespace, cluster).await
}

/// [`read`], reaching the OpenBao nodes as `access` says (route, token).
pub(crate) async fn read_with(
    client: &Client,
    access: &NodeAccess,
    namespace: &str,
    cluster: &str,
) -> Result<Incident, SnapshotError> {
    let clusters: Api<DynamicObject> =
        Api::namespaced_with(client.clone(), namespace, &cluster_resource());
    let view = match cluster_event(clusters.get_opt(cluster).await?.as_ref()) {
        SourceEvent::Cluster(Some(c)) => c,
        SourceEvent::ClusterUnparseable(e) => return Err(SnapshotError::Unparseable(e)),
        _ => {
            return Err(SnapshotError::NotFound {
                namespace: namespace.into(),
                cluster: cluster.into(),
            });
        }
    };
    let pods: Api<Pod> = Api::namespaced(client.clone(), namespace);
    let jobs: Api<Job> = Api::namespaced(client.clone(), namespace);
    let pods = pods
        .list(&ListParams::default().labels(&pod_selector(cluster)))
        .await?;
    let jobs = jobs
        .list(&ListParams::default().labels(&job_selector(cluster)))
        .await?;
    let mut incident = Incident {
        namespace: namespace.into(),
        cluster_name: cluster.into(),
        cluster: Some(view),
        pods: pods.items.iter().map(PodView::from_pod).collect(),
        ..Default::default()
    };
    incident.set_jobs(jobs.items.iter().map(JobView::from_job).collect());
    let raft = raft::poll(client, access, namespace, cluster).await?;
    incident.raft = raft.readings;
    incident.raft_members = raft.members;
    incident.raft_route = raft.route;
    incident.operator = operator::read(client, namespace).await;
    Ok(incident)
}

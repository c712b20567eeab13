//! Listing the OpenBaoClusters of a namespace or of every namespace (`breakglass` without
//! CLUSTER, `breakglass status -A`). One list request; a 403 says which permission is
//! missing, a 404 that the operator's CRD is not served.

use kube::Client;
use kube::api::{Api, DynamicObject, ListParams};

use super::connect::explain;
use super::watch::cluster_resource;
use crate::domain::ClusterView;
use crate::domain::cluster::{CLUSTER_PLURAL, GROUP};
use crate::domain::discovery::{ClusterRow, Scope};

#[derive(Debug, thiserror::Error)]
pub(crate) enum DiscoverError {
    #[error(
        "cannot list OpenBaoClusters in {scope} as {user:?}: RBAC denied (403); needs `list` on {CLUSTER_PLURAL}.{GROUP} {grant} (README \"RBAC\")"
    )]
    Forbidden {
        scope: String,
        user: String,
        grant: &'static str,
    },
    #[error(
        "the API server does not serve {CLUSTER_PLURAL}.{GROUP} (404): is the openbao-operator installed in this cluster?"
    )]
    NotServed,
    #[error("cannot list OpenBaoClusters in {scope}: {detail}")]
    Other { scope: String, detail: String },
}

/// Every OpenBaoCluster in `scope`, one row each (an object that does not parse is a row
/// with its problem, never dropped).
pub(crate) async fn list_clusters(
    client: &Client,
    scope: &Scope,
    user: &str,
) -> Result<Vec<ClusterRow>, DiscoverError> {
    let resource = cluster_resource();
    let api: Api<DynamicObject> = match scope {
        Scope::Namespace(ns) => Api::namespaced_with(client.clone(), ns, &resource),
        Scope::All => Api::all_with(client.clone(), &resource),
    };
    let list = api
        .list(&ListParams::default())
        .await
        .map_err(|e| classify(&e, scope, user))?;
    Ok(list.items.iter().map(row).collect())
}

/// One object as a row (one that does not parse: a row with its problem).
pub(crate) fn row(obj: &DynamicObject) -> ClusterRow {
    let namespace = obj.metadata.namespace.clone().unwrap_or_default();
    let name = obj.metadata.name.clone().unwrap_or_default();
    let parsed = serde_json::to_value(obj)
        .map_err(|e| e.to_string())
        .and_then(|v| ClusterView::from_json(&v).map_err(|e| e.detail));
    match parsed {
        Ok(view) => ClusterRow::from_view(&view),
        Err(detail) => ClusterRow::unparseable(&namespace, &name, detail),
    }
}

fn classify(err: &kube::Error, scope: &Scope, user: &str) -> DiscoverError {
    match err {
        kube::Error::Api(s) if s.code == 403 => DiscoverError::Forbidden {
            scope: scope.describe(),
            user: user.to_string(),
            grant: match scope {
                Scope::All => "at cluster scope (a ClusterRole bound by a ClusterRoleBinding)",
                Scope::Namespace(_) => "in that namespace (a Role or ClusterRole bound there)",
            },
        },
        kube::Error::Api(s) if s.code == 404 => DiscoverError::NotServed,
        other => DiscoverError::Other {
            scope: scope.describe(),
            detail: explain(other),
        },
    }
}

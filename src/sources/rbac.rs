//! RBAC preflight and identity: which paths the user may carry out (SelfSubjectAccessReview,
//! changes nothing) and who the user is (SelfSubjectReview when the API server serves it,
//! else the kubeconfig user). Run once at start; the Decision pane shows denied paths
//! disabled with the missing permission (ux-lessons: RBAC is the truth).

use k8s_openapi::api::authentication::v1::SelfSubjectReview;
use k8s_openapi::api::authorization::v1::{
    ResourceAttributes, SelfSubjectAccessReview, SelfSubjectAccessReviewSpec,
};
use kube::Client;
use kube::api::{Api, PostParams};

use crate::domain::diagnosis::Denied;
use crate::domain::paths::PathKind;

pub(crate) use crate::app::msg::Preflight;

/// One permission a path needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Need {
    pub path: PathKind,
    pub verb: &'static str,
    pub group: &'static str,
    pub resource: &'static str,
    pub subresource: Option<&'static str>,
    /// None: any namespace (the operator Deployment's namespace is found later).
    pub namespace: Option<String>,
}

impl Need {
    /// `patch openbaoclusters.openbao.org in security`.
    pub fn describe(&self) -> String {
        let res = match self.subresource {
            Some(s) => format!("{}/{s}", self.resource),
            None => self.resource.to_string(),
        };
        let qualified = if self.group.is_empty() {
            res
        } else {
            format!("{res}.{}", self.group)
        };
        let scope = self
            .namespace
            .as_deref()
            .map_or("in all namespaces".to_string(), |n| format!("in {n}"));
        format!("{} {qualified} {scope}", self.verb)
    }
}

/// Where the operator Deployment runs for both install methods, and where
/// `assets/rbac/responder.yaml` grants `deployments/scale`. The preflight asks there: a
/// namespace-less review asks for a cluster-wide grant, which the real RBAC authorizer denies
/// to a responder holding only that Role (found by tests/real_apiserver.rs).
pub const OPERATOR_NAMESPACE: &str = "openbao-operator-system";

/// What each path sends (dc-tec/openbao-operator@002fbdd the Roles in `dist/install.yaml`).
pub fn needs(namespace: &str) -> Vec<Need> {
    let ns = || Some(namespace.to_string());
    let n = |path, verb, group, resource, subresource, namespace| Need {
        path,
        verb,
        group,
        resource,
        subresource,
        namespace,
    };
    vec![
        n(
            PathKind::Retry,
            "patch",
            "openbao.org",
            "openbaoclusters",
            None,
            ns(),
        ),
        n(
            PathKind::FixForward,
            "patch",
            "openbao.org",
            "openbaoclusters",
            None,
            ns(),
        ),
        n(
            PathKind::Restore,
            "create",
            "openbao.org",
            "openbaorestores",
            None,
            ns(),
        ),
        n(
            PathKind::Restore,
            "delete",
            "",
            "persistentvolumeclaims",
            None,
            ns(),
        ),
        n(PathKind::Restore, "list", "apps", "deployments", None, None),
        n(
            PathKind::Restore,
            "patch",
            "apps",
            "deployments",
            Some("scale"),
            Some(OPERATOR_NAMESPACE.to_string()),
        ),
        n(
            PathKind::PauseRepair,
            "patch",
            "openbao.org",
            "openbaoclusters",
            None,
            ns(),
        ),
    ]
}

/// Ask the API server about every need; the denied ones come back.
pub async fn preflight(client: &Client, namespace: &str) -> Result<Vec<Denied>, kube::Error> {
    let api: Api<SelfSubjectAccessReview> = Api::all(client.clone());
    let mut denied = Vec::new();
    for need in needs(namespace) {
        let review = SelfSubjectAccessReview {
            spec: SelfSubjectAccessReviewSpec {
                resource_attributes: Some(ResourceAttributes {
                    verb: Some(need.verb.into()),
                    group: Some(need.group.into()),
                    resource: Some(need.resource.into()),
                    subresource: need.subresource.map(str::to_string),
                    namespace: need.namespace.clone(),
                    ..ResourceAttributes::default()
                }),
                ..SelfSubjectAccessReviewSpec::default()
            },
            ..SelfSubjectAccessReview::default()
        };
        let answer = api.create(&PostParams::default(), &review).await?;
        if !answer.status.is_some_and(|s| s.allowed) {
            denied.push(Denied {
                path: need.path,
                permission: need.describe(),
            });
        }
    }
    Ok(denied)
}

/// The Kubernetes identity: SelfSubjectReview's username, else `fallback` (kubeconfig user).
pub(crate) async fn identity(client: &Client, fallback: &str) -> String {
    let api: Api<SelfSubjectReview> = Api::all(client.clone());
    match api
        .create(&PostParams::default(), &SelfSubjectReview::default())
        .await
    {
        Ok(r) => r
            .status
            .and_then(|s| s.user_info?.username)
            .unwrap_or_else(|| fallback.to_string()),
        Err(_) => format!("{fallback} (kubeconfig user)"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn needs_read_like_rbac() {
        let n = needs("security");
        assert_eq!(
            n[0].describe(),
            "patch openbaoclusters.openbao.org in security"
        );
        assert_eq!(
            n[5].describe(),
            "patch deployments/scale.apps in openbao-operator-system"
        );
        assert_eq!(n[3].describe(), "delete persistentvolumeclaims in security");
    }
}

//! The resources the simulator serves, and how each is addressed.

/// The resources the simulator serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Resource {
    OpenBaoClusters,
    OpenBaoRestores,
    Jobs,
    Pods,
    StatefulSets,
    PersistentVolumeClaims,
    Deployments,
    /// core/v1 Events (the operator's recorder writes them; kubectl and the console read them).
    Events,
    /// apiextensions.k8s.io/v1, cluster-scoped: the operator's CRDs of the line being played.
    CustomResourceDefinitions,
}

impl Resource {
    pub(crate) const ALL: [Resource; 9] = [
        Resource::OpenBaoClusters,
        Resource::OpenBaoRestores,
        Resource::Jobs,
        Resource::Pods,
        Resource::StatefulSets,
        Resource::PersistentVolumeClaims,
        Resource::Deployments,
        Resource::Events,
        Resource::CustomResourceDefinitions,
    ];

    /// API group ("" for core).
    pub fn group(self) -> &'static str {
        match self {
            Resource::OpenBaoClusters | Resource::OpenBaoRestores => "openbao.org",
            Resource::Jobs => "batch",
            Resource::StatefulSets | Resource::Deployments => "apps",
            Resource::Pods | Resource::PersistentVolumeClaims | Resource::Events => "",
            Resource::CustomResourceDefinitions => "apiextensions.k8s.io",
        }
    }

    pub fn version(self) -> &'static str {
        match self {
            Resource::OpenBaoClusters | Resource::OpenBaoRestores => "v1alpha1",
            _ => "v1",
        }
    }

    pub fn plural(self) -> &'static str {
        match self {
            Resource::OpenBaoClusters => "openbaoclusters",
            Resource::OpenBaoRestores => "openbaorestores",
            Resource::Jobs => "jobs",
            Resource::Pods => "pods",
            Resource::StatefulSets => "statefulsets",
            Resource::PersistentVolumeClaims => "persistentvolumeclaims",
            Resource::Deployments => "deployments",
            Resource::Events => "events",
            Resource::CustomResourceDefinitions => "customresourcedefinitions",
        }
    }

    pub fn kind(self) -> &'static str {
        match self {
            Resource::OpenBaoClusters => "OpenBaoCluster",
            Resource::OpenBaoRestores => "OpenBaoRestore",
            Resource::Jobs => "Job",
            Resource::Pods => "Pod",
            Resource::StatefulSets => "StatefulSet",
            Resource::PersistentVolumeClaims => "PersistentVolumeClaim",
            Resource::Deployments => "Deployment",
            Resource::Events => "Event",
            Resource::CustomResourceDefinitions => "CustomResourceDefinition",
        }
    }

    /// `apiVersion` as written in objects.
    pub fn api_version(self) -> String {
        if self.group().is_empty() {
            self.version().to_string()
        } else {
            format!("{}/{}", self.group(), self.version())
        }
    }

    /// Namespaced, or cluster-scoped (stored under the namespace `""`).
    pub fn namespaced(self) -> bool {
        self != Resource::CustomResourceDefinitions
    }

    /// Whether the resource has a `/status` subresource.
    pub(crate) fn has_status(self) -> bool {
        self != Resource::Events
    }

    /// Custom resources: strategic merge patch is 415, schema from the real CRDs.
    pub(crate) fn is_custom(self) -> bool {
        matches!(self, Resource::OpenBaoClusters | Resource::OpenBaoRestores)
    }
}

impl Resource {
    /// `plural.group` (just `plural` for core), as used in API error messages.
    pub(crate) fn qualified(self) -> String {
        if self.group().is_empty() {
            self.plural().to_string()
        } else {
            format!("{}.{}", self.plural(), self.group())
        }
    }

    /// The resource served under `plural` in `group`, if any.
    pub(crate) fn from_plural(group: &str, plural: &str) -> Option<Resource> {
        Resource::ALL
            .into_iter()
            .find(|r| r.group() == group && r.plural() == plural)
    }
}

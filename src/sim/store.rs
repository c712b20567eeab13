//! The simulator's object store: the single source of truth behind the fake API server.
//!
//! Holds objects as JSON, assigns resourceVersions from one global counter (opaque strings
//! to clients), keeps a bounded change history for watches, and broadcasts every change.
//! The HTTP layer (`server`) and the operator twin (`twin`) both go through it, so a twin
//! write produces the same watch events a real controller's write would.
//!
//! CONTRACT (owned by the simulator-server helper; the twin codes against these signatures).

use std::sync::Arc;

use serde_json::Value;
use tokio::sync::broadcast;

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
}

impl Resource {
    pub const ALL: [Resource; 7] = [
        Resource::OpenBaoClusters,
        Resource::OpenBaoRestores,
        Resource::Jobs,
        Resource::Pods,
        Resource::StatefulSets,
        Resource::PersistentVolumeClaims,
        Resource::Deployments,
    ];

    /// API group ("" for core).
    pub fn group(self) -> &'static str {
        match self {
            Resource::OpenBaoClusters | Resource::OpenBaoRestores => "openbao.org",
            Resource::Jobs => "batch",
            Resource::StatefulSets | Resource::Deployments => "apps",
            Resource::Pods | Resource::PersistentVolumeClaims => "",
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

    /// Custom resources: strategic merge patch is 415, schema from the real CRDs.
    pub fn is_custom(self) -> bool {
        matches!(self, Resource::OpenBaoClusters | Resource::OpenBaoRestores)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeType {
    Added,
    Modified,
    Deleted,
}

/// One change, as broadcast to watchers and the twin.
#[derive(Debug, Clone)]
pub struct Change {
    pub resource: Resource,
    pub change: ChangeType,
    /// The object after the change (for Deleted: the last state, with the delete's rv).
    pub object: Value,
}

/// An error the API server turns into a `kind: Status` body.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{code} {reason}: {message}")]
pub struct ApiError {
    pub code: u16,
    /// `NotFound`, `AlreadyExists`, `Conflict`, `Invalid`, `Forbidden`, `BadRequest`, ...
    pub reason: String,
    pub message: String,
    pub details: Option<Value>,
}

/// The store. Cheap to share: `Arc<Store>`.
pub struct Store {
    _private: (),
    _tx: broadcast::Sender<Change>,
}

impl Store {
    pub fn new() -> Arc<Store> {
        let (tx, _) = broadcast::channel(1024);
        Arc::new(Store {
            _private: (),
            _tx: tx,
        })
    }

    /// Current object, or None.
    pub fn get(&self, _r: Resource, _ns: &str, _name: &str) -> Option<Value> {
        None
    }

    /// All objects of a resource (in one namespace, or all), and the list resourceVersion.
    pub fn list(&self, _r: Resource, _ns: Option<&str>) -> (Vec<Value>, String) {
        (Vec::new(), String::new())
    }

    /// Create as the API server would: fills uid, resourceVersion, creationTimestamp,
    /// generation (1), apiVersion/kind; 409 AlreadyExists if present.
    pub fn create(&self, _r: Resource, obj: Value) -> Result<Value, ApiError> {
        Ok(obj)
    }

    /// A controller's write (the twin's): applies `f` to a copy of the object, spec and
    /// status alike. No change → no new resourceVersion and no event. Bumps `generation`
    /// when `spec` changed. 404 if absent.
    pub fn modify(
        &self,
        _r: Resource,
        _ns: &str,
        name: &str,
        _f: impl FnOnce(&mut Value),
    ) -> Result<Value, ApiError> {
        Err(ApiError {
            code: 404,
            reason: "NotFound".into(),
            message: format!("{name} not found"),
            details: None,
        })
    }

    /// Delete; with finalizers only sets deletionTimestamp (MODIFIED) until they are empty.
    pub fn delete(&self, _r: Resource, _ns: &str, name: &str) -> Result<Value, ApiError> {
        Err(ApiError {
            code: 404,
            reason: "NotFound".into(),
            message: format!("{name} not found"),
            details: None,
        })
    }

    /// Every change from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Change> {
        self._tx.subscribe()
    }

    /// Append one line to a container's log (timestamped now). Followers see it at once.
    pub fn append_log(&self, _ns: &str, _pod: &str, _container: &str, _line: &str) {}

    /// Mark a container terminated: following log streams end after the last line.
    pub fn terminate_log(&self, _ns: &str, _pod: &str, _container: &str) {}
}

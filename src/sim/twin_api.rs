//! The operator twin's narrow view of an API server: what a controller does with one
//! (get, list, watch, create, read-modify-write, delete) plus the kubelet's side it plays
//! for its executor pods (container log lines, the container's end).
//!
//! Two implementations: the simulator's [`Store`] (in process; the twin also plays the Job
//! controller and kubelet there, [`TwinApi::plays_workloads`]) and a kube-rs client
//! against a real kube-apiserver (`twin_api_kube`), where the real Job controller makes the
//! pods and a kubelet (kwok) runs them. The twin, the scenarios and the executor-log
//! generator are the same on both.

use jiff::Timestamp;
use serde_json::Value;
use tokio::sync::broadcast;

use super::store::{ApiError, Change, Resource, Store};

/// On a real API server, the exit code the kubelet ends a Job pod's containers with (set by
/// the twin on a failing executor Job's pod template; the rig's kwok Stage
/// `tests/real_apiserver/kwok-stages.yaml` reads it). Without it the container exits 0.
pub(crate) const EXIT_CODE_ANNOTATION: &str = "sim.breakglass.dev/exit-code";

/// What the operator twin needs from an API server.
pub trait TwinApi: Send + Sync {
    /// The current object, or None.
    fn get(&self, r: Resource, ns: &str, name: &str) -> Option<Value>;
    /// All objects of a resource (in one namespace, or all), and the list resourceVersion.
    fn list(&self, r: Resource, ns: Option<&str>) -> (Vec<Value>, String);
    /// Every change from now on (the controller's watch).
    fn subscribe(&self) -> broadcast::Receiver<Change>;
    /// Create; `at` is when it happened (a server that stamps its own creationTimestamp
    /// ignores it).
    fn create_at(&self, r: Resource, obj: Value, at: Timestamp) -> Result<Value, ApiError>;
    /// Read, apply `f`, write back (spec and metadata through the object, status through
    /// the status subresource where the resource has one). `f` may run again on a
    /// conflict. 404 if absent.
    fn modify_with(
        &self,
        r: Resource,
        ns: &str,
        name: &str,
        f: &mut dyn FnMut(&mut Value),
    ) -> Result<Value, ApiError>;
    /// Delete (with finalizers: marked for deletion).
    fn delete(&self, r: Resource, ns: &str, name: &str) -> Result<Value, ApiError>;
    /// One line of a container's log (the kubelet's side).
    fn append_log(&self, ns: &str, pod: &str, container: &str, line: &str);
    /// The container ended: log followers end after the last line.
    fn terminate_log(&self, ns: &str, pod: &str, container: &str);
    /// Whether the twin itself plays the Job controller and kubelet for its Jobs (the
    /// simulator), or real ones do (a real API server).
    fn plays_workloads(&self) -> bool;
}

impl dyn TwinApi + '_ {
    /// [`TwinApi::modify_with`] with any closure.
    pub fn modify(
        &self,
        r: Resource,
        ns: &str,
        name: &str,
        mut f: impl FnMut(&mut Value),
    ) -> Result<Value, ApiError> {
        self.modify_with(r, ns, name, &mut f)
    }

    /// [`TwinApi::create_at`] now.
    pub fn create(&self, r: Resource, obj: Value) -> Result<Value, ApiError> {
        self.create_at(r, obj, Timestamp::now())
    }
}

impl TwinApi for Store {
    fn get(&self, r: Resource, ns: &str, name: &str) -> Option<Value> {
        Store::get(self, r, ns, name)
    }

    fn list(&self, r: Resource, ns: Option<&str>) -> (Vec<Value>, String) {
        Store::list(self, r, ns)
    }

    fn subscribe(&self) -> broadcast::Receiver<Change> {
        Store::subscribe(self)
    }

    fn create_at(&self, r: Resource, obj: Value, at: Timestamp) -> Result<Value, ApiError> {
        Store::create_at(self, r, obj, at)
    }

    fn modify_with(
        &self,
        r: Resource,
        ns: &str,
        name: &str,
        f: &mut dyn FnMut(&mut Value),
    ) -> Result<Value, ApiError> {
        Store::modify(self, r, ns, name, f)
    }

    fn delete(&self, r: Resource, ns: &str, name: &str) -> Result<Value, ApiError> {
        Store::delete(self, r, ns, name)
    }

    fn append_log(&self, ns: &str, pod: &str, container: &str, line: &str) {
        Store::append_log(self, ns, pod, container, line);
    }

    fn terminate_log(&self, ns: &str, pod: &str, container: &str) {
        Store::terminate_log(self, ns, pod, container);
    }

    fn plays_workloads(&self) -> bool {
        true
    }
}

/// A shared handle is the server it points at.
impl<T: TwinApi + ?Sized> TwinApi for std::sync::Arc<T> {
    fn get(&self, r: Resource, ns: &str, name: &str) -> Option<Value> {
        (**self).get(r, ns, name)
    }

    fn list(&self, r: Resource, ns: Option<&str>) -> (Vec<Value>, String) {
        (**self).list(r, ns)
    }

    fn subscribe(&self) -> broadcast::Receiver<Change> {
        (**self).subscribe()
    }

    fn create_at(&self, r: Resource, obj: Value, at: Timestamp) -> Result<Value, ApiError> {
        (**self).create_at(r, obj, at)
    }

    fn modify_with(
        &self,
        r: Resource,
        ns: &str,
        name: &str,
        f: &mut dyn FnMut(&mut Value),
    ) -> Result<Value, ApiError> {
        (**self).modify_with(r, ns, name, f)
    }

    fn delete(&self, r: Resource, ns: &str, name: &str) -> Result<Value, ApiError> {
        (**self).delete(r, ns, name)
    }

    fn append_log(&self, ns: &str, pod: &str, container: &str, line: &str) {
        (**self).append_log(ns, pod, container, line);
    }

    fn terminate_log(&self, ns: &str, pod: &str, container: &str) {
        (**self).terminate_log(ns, pod, container);
    }

    fn plays_workloads(&self) -> bool {
        (**self).plays_workloads()
    }
}

//! The operator twin's API server as a kube-rs client ([`TwinApi`] on a real
//! kube-apiserver): reads and writes go through the API (status through the status
//! subresource), changes arrive through watches, and the executor's log lines go to the
//! CRI log file the kubelet (kwok) serves for the namespace. The real Job controller makes
//! the pods and the kubelet runs and ends them ([`TwinApi::plays_workloads`] is false). The
//! pods the twin creates itself (its simulated OpenBao nodes, the incident's past Job pods)
//! go to a [`SimulatedNode`]; the ServiceAccounts the operator would create are created when
//! a pod or workload names one.
//!
//! The twin's interface is synchronous (the simulator's store is); each call here runs on a
//! runtime of its own (one thread), and the caller waits for it, so the twin may run on any
//! runtime.

use std::collections::HashSet;
use std::future::Future;
use std::io::Write;
use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use futures::StreamExt;
use jiff::Timestamp;
use k8s_openapi::api::core::v1::ServiceAccount;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::{Api, ApiResource, DeleteParams, DynamicObject, GroupVersionKind};
use kube::api::{ListParams, Patch, PatchParams, PostParams};
use kube::runtime::watcher;
use kube::{Client, Error as KubeError};

use crate::sources::connect::{Target, connect};
use serde_json::Value;
use tokio::runtime::Handle;
use tokio::sync::{broadcast, oneshot};

use super::store::{ApiError, Change, ChangeType, Resource};
use super::twin_api::TwinApi;

/// How often a write is tried again after a 409 Conflict.
const CONFLICT_TRIES: usize = 5;

/// Where the pods the twin itself plays live on a real server: its simulated OpenBao nodes
/// and the incident's past Job pods. A Node no kubelet manages (a kubelet would rewrite their
/// status), and the addresses the cluster gives them.
#[derive(Debug, Clone)]
pub struct SimulatedNode {
    pub name: String,
    pub host_ip: String,
    /// Handed out in turn to the pods whose status has a pod IP.
    pub pod_ips: Vec<String>,
}

/// A kube-rs client as the twin's API server.
pub struct KubeTwinApi {
    client: Client,
    rt: Handle,
    changes: broadcast::Sender<Change>,
    log_file: PathBuf,
    node: Option<SimulatedNode>,
    next_ip: AtomicUsize,
    /// Pods bound to the simulated node: no kubelet serves their logs.
    unserved: Mutex<HashSet<(String, String)>>,
    _stop: oneshot::Sender<()>,
}

fn api_error(e: KubeError) -> ApiError {
    match e {
        KubeError::Api(s) => ApiError::new(s.code, &s.reason, s.message),
        other => ApiError::new(503, "ServiceUnavailable", other.to_string()),
    }
}

fn api(client: &Client, r: Resource, ns: &str) -> Api<DynamicObject> {
    let gvk = GroupVersionKind::gvk(r.group(), r.version(), r.kind());
    let ar = ApiResource::from_gvk_with_plural(&gvk, r.plural());
    if r.namespaced() && !ns.is_empty() {
        Api::namespaced_with(client.clone(), ns, &ar)
    } else {
        Api::all_with(client.clone(), &ar)
    }
}

fn to_value(o: DynamicObject) -> Value {
    serde_json::to_value(o).unwrap_or(Value::Null)
}

fn to_object(v: Value) -> Result<DynamicObject, ApiError> {
    serde_json::from_value(v).map_err(|e| ApiError::bad_request(e.to_string()))
}

impl KubeTwinApi {
    /// Connect to `target` (as the console does) and watch `watched` (resource,
    /// namespace); container logs go to `log_file` (the CRI log file the kubelet serves for
    /// the namespace). The client lives on the twin's own runtime: a kube-rs client's
    /// requests run on the runtime it was made on, which a waiting caller may be blocking.
    pub fn connect(
        target: Target,
        watched: &[(Resource, String)],
        log_file: PathBuf,
    ) -> Result<KubeTwinApi, ApiError> {
        let unavailable = |e: String| ApiError::new(503, "ServiceUnavailable", e);
        let (stop, stop_rx) = oneshot::channel::<()>();
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| unavailable(e.to_string()))?;
        std::thread::Builder::new()
            .name("twin-kube".into())
            .spawn(move || {
                let client = rt.block_on(connect(&target)).map(|c| c.client);
                let _ = ready_tx.send((rt.handle().clone(), client));
                rt.block_on(async move {
                    let _ = stop_rx.await;
                });
            })
            .map_err(|e| unavailable(e.to_string()))?;
        let (rt, client) = ready_rx.recv().map_err(|e| unavailable(e.to_string()))?;
        let client = client.map_err(|e| unavailable(e.to_string()))?;
        let (changes, _) = broadcast::channel(4096);
        for (r, ns) in watched {
            let stream = watcher(api(&client, *r, ns), watcher::Config::default());
            let tx = changes.clone();
            let r = *r;
            rt.spawn(async move {
                let mut stream = std::pin::pin!(stream);
                while let Some(ev) = stream.next().await {
                    let (change, obj) = match ev {
                        Ok(watcher::Event::Apply(o) | watcher::Event::InitApply(o)) => {
                            (ChangeType::Modified, o)
                        }
                        Ok(watcher::Event::Delete(o)) => (ChangeType::Deleted, o),
                        Ok(_) => continue,
                        Err(e) => {
                            tracing::debug!(error = %e, "operator twin: watch");
                            continue;
                        }
                    };
                    let _ = tx.send(Change {
                        resource: r,
                        change,
                        object: to_value(obj),
                    });
                }
            });
        }
        Ok(KubeTwinApi {
            client,
            rt,
            changes,
            log_file,
            node: None,
            next_ip: AtomicUsize::new(0),
            unserved: Mutex::default(),
            _stop: stop,
        })
    }

    /// The pods the twin creates are bound to `node` (see [`SimulatedNode`]).
    pub fn with_simulated_node(mut self, node: SimulatedNode) -> KubeTwinApi {
        self.node = Some(node);
        self
    }

    /// A pod the twin plays, as a real server takes it: bound to the simulated node with its
    /// addresses, and without `status.qosClass` (the server computes it; immutable).
    fn place_pod(&self, status: &mut Value, obj: &mut Value) {
        if let Some(st) = status.as_object_mut() {
            st.remove("qosClass");
        }
        let Some(node) = &self.node else { return };
        obj["spec"]["nodeName"] = Value::from(node.name.clone());
        let key = |k: &str| {
            obj.pointer(&format!("/metadata/{k}"))
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string()
        };
        let pod = (key("namespace"), key("name"));
        if let Ok(mut unserved) = self.unserved.lock() {
            unserved.insert(pod);
        }
        if status.get("hostIP").is_some() {
            status["hostIP"] = Value::from(node.host_ip.clone());
            status["hostIPs"] = serde_json::json!([{"ip": node.host_ip}]);
        }
        if status.get("podIP").is_some() && !node.pod_ips.is_empty() {
            let n = self.next_ip.fetch_add(1, Ordering::Relaxed);
            let ip = node.pod_ips[n % node.pod_ips.len()].clone();
            status["podIP"] = Value::from(ip.clone());
            status["podIPs"] = serde_json::json!([{ "ip": ip }]);
        }
    }

    /// The ServiceAccount a pod (or a workload's pod template) runs as: the operator creates
    /// its own, which the simulator does not model, and admission refuses a pod naming a
    /// missing one. Created if absent.
    fn ensure_service_account(&self, r: Resource, obj: &Value) -> Result<(), ApiError> {
        let ptr = match r {
            Resource::Pods => "/spec/serviceAccountName",
            Resource::Jobs | Resource::Deployments | Resource::StatefulSets => {
                "/spec/template/spec/serviceAccountName"
            }
            _ => return Ok(()),
        };
        let (Some(sa), Some(ns)) = (
            obj.pointer(ptr).and_then(Value::as_str),
            obj.pointer("/metadata/namespace").and_then(Value::as_str),
        ) else {
            return Ok(());
        };
        let api: Api<ServiceAccount> = Api::namespaced(self.client.clone(), ns);
        let body = ServiceAccount {
            metadata: ObjectMeta {
                name: Some(sa.to_string()),
                namespace: Some(ns.to_string()),
                ..ObjectMeta::default()
            },
            ..ServiceAccount::default()
        };
        match self.call(async move {
            api.create(&PostParams::default(), &body)
                .await
                .map_err(api_error)
        }) {
            Err(e) if e.code != 409 => Err(e),
            _ => Ok(()),
        }
    }

    /// Run `fut` on this client's runtime and wait for it.
    fn call<T: Send + 'static>(
        &self,
        fut: impl Future<Output = Result<T, ApiError>> + Send + 'static,
    ) -> Result<T, ApiError> {
        let (tx, rx) = std::sync::mpsc::channel();
        self.rt.spawn(async move {
            let _ = tx.send(fut.await);
        });
        rx.recv()
            .map_err(|_| ApiError::new(503, "ServiceUnavailable", "the twin's client stopped"))?
    }

    fn api(&self, r: Resource, ns: &str) -> Api<DynamicObject> {
        api(&self.client, r, ns)
    }

    /// One read-modify-write: the object without status, then the status subresource.
    fn write_once(
        &self,
        r: Resource,
        ns: &str,
        name: &str,
        f: &mut dyn FnMut(&mut Value),
    ) -> Result<Value, ApiError> {
        let api = self.api(r, ns);
        let name_owned = name.to_string();
        let old = self.call({
            let api = api.clone();
            async move { api.get(&name_owned).await.map_err(api_error) }
        })?;
        let old = to_value(old);
        let mut new = old.clone();
        f(&mut new);
        if new == old {
            return Ok(old);
        }
        let status_changed = r.has_status() && new.get("status") != old.get("status");
        let mut rest_new = new.clone();
        let mut rest_old = old;
        if r.has_status() {
            for v in [&mut rest_new, &mut rest_old] {
                if let Some(m) = v.as_object_mut() {
                    m.remove("status");
                }
            }
        }
        let mut written = new.clone();
        if rest_new != rest_old {
            let body = to_object(new.clone())?;
            let (api, n) = (api.clone(), name.to_string());
            written = to_value(self.call(async move {
                api.replace(&n, &PostParams::default(), &body)
                    .await
                    .map_err(api_error)
            })?);
        }
        if status_changed {
            let mut body = new;
            body["metadata"]["resourceVersion"] = written["metadata"]["resourceVersion"].clone();
            let body = to_object(body)?;
            let n = name.to_string();
            written = to_value(self.call(async move {
                api.replace_status(&n, &PostParams::default(), &body)
                    .await
                    .map_err(api_error)
            })?);
        }
        Ok(written)
    }
}

impl TwinApi for KubeTwinApi {
    fn get(&self, r: Resource, ns: &str, name: &str) -> Option<Value> {
        let (api, n) = (self.api(r, ns), name.to_string());
        // An error reads as absent: the twin reconciles level-triggered and tries again on
        // the next change.
        match self.call(async move { api.get_opt(&n).await.map_err(api_error) }) {
            Ok(o) => o.map(to_value),
            Err(e) => {
                tracing::debug!(error = %e.message, "operator twin: get");
                None
            }
        }
    }

    fn list(&self, r: Resource, ns: Option<&str>) -> (Vec<Value>, String) {
        let api = self.api(r, ns.unwrap_or_default());
        match self.call(async move { api.list(&ListParams::default()).await.map_err(api_error) }) {
            Ok(l) => (
                l.items.into_iter().map(to_value).collect(),
                l.metadata.resource_version.unwrap_or_default(),
            ),
            Err(e) => {
                tracing::debug!(error = %e.message, "operator twin: list");
                (Vec::new(), String::new())
            }
        }
    }

    fn subscribe(&self) -> broadcast::Receiver<Change> {
        self.changes.subscribe()
    }

    fn create_at(&self, r: Resource, mut obj: Value, _at: Timestamp) -> Result<Value, ApiError> {
        // The server stamps its own creationTimestamp; status goes through its subresource.
        let mut status = match obj.as_object_mut() {
            Some(m) if r.has_status() => m.remove("status"),
            _ => None,
        };
        if r == Resource::Pods {
            let st = status.get_or_insert_with(|| serde_json::json!({}));
            self.place_pod(st, &mut obj);
        }
        self.ensure_service_account(r, &obj)?;
        let ns = obj
            .pointer("/metadata/namespace")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let api = self.api(r, &ns);
        let body = to_object(obj)?;
        let created = to_value(self.call({
            let api = api.clone();
            async move {
                api.create(&PostParams::default(), &body)
                    .await
                    .map_err(api_error)
            }
        })?);
        let Some(status) = status else {
            return Ok(created);
        };
        // A merge patch, not a replace: a controller may have touched the new object already
        // (the PVC protection finalizer, the volume binder), which would make it a conflict.
        let name = created["metadata"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let patch = Patch::Merge(serde_json::json!({ "status": status }));
        Ok(to_value(self.call(async move {
            api.patch_status(&name, &PatchParams::default(), &patch)
                .await
                .map_err(api_error)
        })?))
    }

    fn modify_with(
        &self,
        r: Resource,
        ns: &str,
        name: &str,
        f: &mut dyn FnMut(&mut Value),
    ) -> Result<Value, ApiError> {
        let mut last = ApiError::conflict(r, name);
        for _ in 0..CONFLICT_TRIES {
            match self.write_once(r, ns, name, f) {
                Err(e) if e.code == 409 => last = e,
                other => return other,
            }
        }
        Err(last)
    }

    fn delete(&self, r: Resource, ns: &str, name: &str) -> Result<Value, ApiError> {
        let (api, n) = (self.api(r, ns), name.to_string());
        let gone = self.call(async move {
            api.delete(&n, &DeleteParams::background())
                .await
                .map_err(api_error)
        })?;
        Ok(gone.left().map(to_value).unwrap_or(Value::Null))
    }

    fn append_log(&self, ns: &str, pod: &str, _container: &str, line: &str) {
        let key = (ns.to_string(), pod.to_string());
        if self.unserved.lock().is_ok_and(|u| u.contains(&key)) {
            return;
        }
        let now = Timestamp::now().strftime("%Y-%m-%dT%H:%M:%S.%fZ");
        let written = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log_file)
            .and_then(|mut f| writeln!(f, "{now} stdout F {line}"));
        if let Err(e) = written {
            tracing::warn!(error = %e, "operator twin: executor log file");
        }
    }

    fn terminate_log(&self, _ns: &str, _pod: &str, _container: &str) {
        // The kubelet ends the container; the log file stays what it served.
    }

    fn plays_workloads(&self) -> bool {
        false
    }
}

//! The operator twin's API server as a kube-rs client ([`TwinApi`] on a real
//! kube-apiserver): reads and writes go through the API (status through the status
//! subresource), changes arrive through watches, and the executor's log lines go to the
//! CRI log file the kubelet (kwok) serves for the namespace. The real Job controller makes
//! the pods and the kubelet runs and ends them ([`TwinApi::plays_workloads`] is false).
//!
//! The twin's interface is synchronous (the simulator's store is); each call here runs on a
//! runtime of its own (one thread), and the caller waits for it, so the twin may run on any
//! runtime.

use std::future::Future;
use std::io::Write;
use std::path::PathBuf;

use futures::StreamExt;
use jiff::Timestamp;
use kube::api::{Api, ApiResource, DeleteParams, DynamicObject, GroupVersionKind};
use kube::api::{ListParams, PostParams};
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

/// A kube-rs client as the twin's API server.
pub struct KubeTwinApi {
    client: Client,
    rt: Handle,
    changes: broadcast::Sender<Change>,
    log_file: PathBuf,
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
            _stop: stop,
        })
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
        let status = match obj.as_object_mut() {
            Some(m) if r.has_status() => m.remove("status"),
            _ => None,
        };
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
        let mut body = created;
        body["status"] = status;
        let name = body["metadata"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let body = to_object(body)?;
        Ok(to_value(self.call(async move {
            api.replace_status(&name, &PostParams::default(), &body)
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

    fn append_log(&self, _ns: &str, _pod: &str, _container: &str, line: &str) {
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

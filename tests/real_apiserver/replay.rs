//! The incident the operator twin seeds (`breakglass::sim::twin_seed::seed`), put onto the
//! real API server through the API: the twin seeds a throw-away simulator store, and each
//! OpenBaoCluster, Job and Pod is created (then its status written through the status
//! subresource) as the operator and Kubernetes would have left them.
//!
//! What the real server needs that the store does not (each a fact about the real server):
//! - uids are the server's: owner references and the Jobs' controller-uid labels are
//!   rewritten to the new uids; owners not replayed (StatefulSets) are dropped, or the real
//!   garbage collector deletes the orphaned dependents;
//! - the Jobs are historical: `spec.managedBy` keeps the real Job controller away from them
//!   (it would otherwise start pods for them), and the API server generates their selector;
//! - `status.qosClass` is the server's (computed from the containers' resources, immutable);
//! - the pods are bound to `replayed-node`, a Node kwok does not manage (kwok would otherwise
//!   overwrite their status), and their addresses are moved into the namespace's range.

use std::collections::BTreeMap;
use std::sync::Arc;

use breakglass::sim::operator_line::OperatorLine;
use breakglass::sim::scenario::Scenario;
use breakglass::sim::store::{Resource, Store};
use breakglass::sim::twin::model_for;
use breakglass::sim::twin_seed::{Seeded, seed};
use kube::Client;
use kube::api::{
    Api, ApiResource, DynamicObject, GroupVersionKind, Patch, PatchParams, PostParams,
};
use serde_json::{Value, json};

pub const REPLAYED_NODE: &str = "replayed-node";
const MANAGED_BY: &str = "breakglass.test/replay";

pub struct Incident {
    pub scenario: Scenario,
    pub seeded: Seeded,
    pub store: Arc<Store>,
    /// Simulator uid → real uid.
    pub uids: BTreeMap<String, String>,
}

impl Incident {
    /// The real uid of the object the twin seeded with `sim_uid`.
    pub fn uid(&self, sim_uid: &str) -> String {
        self.uids[sim_uid].clone()
    }
}

pub fn api_resource(r: Resource) -> ApiResource {
    ApiResource::from_gvk(&GroupVersionKind::gvk(r.group(), r.version(), r.kind()))
}

/// The scenario `name` as operator line `line` plays it, with its namespace set to `ns`,
/// seeded into a fresh store.
pub fn seeded_on(name: &str, ns: &str, line: OperatorLine) -> (Scenario, Seeded, Arc<Store>) {
    let mut scenario = Scenario::named(name).unwrap().with_operator(line).unwrap();
    scenario.namespace = ns.to_string();
    let store = Store::for_operator(line);
    let seeded = seed(&store, &scenario, &model_for(&scenario)).unwrap();
    (scenario, seeded, store)
}

fn rewrite_uids(v: &Value, uids: &BTreeMap<String, String>) -> Value {
    let mut text = v.to_string();
    for (from, to) in uids {
        text = text.replace(from.as_str(), to);
    }
    serde_json::from_str(&text).unwrap()
}

/// The object as a create request for the real server; returns it and its status.
pub fn prepare(
    r: Resource,
    obj: &Value,
    uids: &BTreeMap<String, String>,
    n: usize,
) -> (Value, Value) {
    let mut obj = rewrite_uids(obj, uids);
    let status = obj
        .as_object_mut()
        .unwrap()
        .remove("status")
        .unwrap_or(Value::Null);
    let meta = obj["metadata"].as_object_mut().unwrap();
    for k in [
        "uid",
        "resourceVersion",
        "creationTimestamp",
        "generation",
        "managedFields",
    ] {
        meta.remove(k);
    }
    if let Some(refs) = meta
        .get_mut("ownerReferences")
        .and_then(Value::as_array_mut)
    {
        refs.retain(|o| uids.values().any(|u| o["uid"] == json!(u)));
    }
    let mut status = status;
    match r {
        Resource::Jobs => {
            let spec = obj["spec"].as_object_mut().unwrap();
            spec.remove("selector");
            spec.insert("managedBy".into(), json!(MANAGED_BY));
            if let Some(l) = obj
                .pointer_mut("/spec/template/metadata/labels")
                .and_then(Value::as_object_mut)
            {
                l.retain(|k, _| !k.ends_with("controller-uid"));
            }
        }
        Resource::Pods => {
            obj["spec"]["nodeName"] = json!(REPLAYED_NODE);
            // Computed by the server from the containers' resources, and immutable.
            if let Some(st) = status.as_object_mut() {
                st.remove("qosClass");
            }
            if status.get("podIP").is_some() {
                let ip = format!("198.51.100.{}", 200 + n % 50);
                status["podIP"] = json!(ip);
                status["podIPs"] = json!([{"ip": ip}]);
            }
            if status.get("hostIP").is_some() {
                status["hostIP"] = json!("198.51.100.3");
                status["hostIPs"] = json!([{"ip": "198.51.100.3"}]);
            }
        }
        _ => {}
    }
    (obj, status)
}

/// Seed scenario `name` into `ns` on the real server (as `admin`), 0.1 line.
pub async fn incident(admin: &Client, name: &str, ns: &str) -> Incident {
    incident_on(admin, name, ns, OperatorLine::V01).await
}

/// Seed scenario `name` as operator line `line` plays it into `ns` on the server `admin`
/// talks to (the 0.6 server for [`OperatorLine::V06`]).
pub async fn incident_on(admin: &Client, name: &str, ns: &str, line: OperatorLine) -> Incident {
    let (scenario, seeded, store) = seeded_on(name, ns, line);
    // The ServiceAccounts the operator creates (admission refuses pods naming a missing one).
    let (pods, _) = store.list(Resource::Pods, Some(ns));
    let mut accounts: Vec<&str> = pods
        .iter()
        .filter_map(|p| p.pointer("/spec/serviceAccountName")?.as_str())
        .collect();
    accounts.sort_unstable();
    accounts.dedup();
    for sa in accounts {
        let obj = json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": sa, "namespace": ns}});
        super::kube::apply(admin, &obj, None).await.unwrap();
    }
    let mut uids = BTreeMap::new();
    let mut n = 0;
    for r in [
        Resource::OpenBaoClusters,
        Resource::Deployments,
        Resource::PersistentVolumeClaims,
        Resource::Jobs,
        Resource::Pods,
    ] {
        let (objs, _) = store.list(r, None);
        for obj in objs {
            n += 1;
            let obj_ns = obj["metadata"]["namespace"]
                .as_str()
                .unwrap_or(ns)
                .to_string();
            let api: Api<DynamicObject> =
                Api::namespaced_with(admin.clone(), &obj_ns, &api_resource(r));
            let sim_uid = obj["metadata"]["uid"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            let (body, status) = prepare(r, &obj, &uids, n);
            let body: DynamicObject = serde_json::from_value(body).unwrap();
            let created = match api.create(&PostParams::default(), &body).await {
                Ok(c) => c,
                // The operator Deployment lives outside the test's namespace: one for all.
                Err(kube::Error::Api(e)) if e.code == 409 && obj_ns != ns => api
                    .get(body.metadata.name.as_deref().unwrap())
                    .await
                    .unwrap(),
                Err(e) => panic!("replay create {} {:?}: {e}", r.kind(), body.metadata.name),
            };
            let name = created.metadata.name.clone().unwrap();
            uids.insert(sim_uid, created.metadata.uid.clone().unwrap());
            if !status.is_null() {
                api.patch_status(
                    &name,
                    &PatchParams::default(),
                    &Patch::Merge(json!({"status": status})),
                )
                .await
                .unwrap_or_else(|e| panic!("replay status {} {name}: {e}", r.kind()));
            }
        }
    }
    Incident {
        scenario,
        seeded,
        store,
        uids,
    }
}

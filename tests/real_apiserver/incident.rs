//! The incident on the real server, seeded by the operator twin itself through its API:
//! `sim::twin_seed::seed`, the code that seeds the simulator's store, run on
//! `sim::twin_api_kube::KubeTwinApi` (create, then status through the status subresource).
//! The same API then carries the running twin (`cases_twin`).
//!
//! What a real server needs that the store does not lives in the twin and its real-server
//! API, not here: the server's uids (the seed uses what each create returns), `spec.managedBy`
//! on the past Jobs (or the real Job controller starts them again), the operator's
//! ServiceAccounts, and the pods the twin plays bound to [`SIMULATED_NODE`] (a Node no
//! kubelet manages, made by the rig) with addresses in the namespace's range.
//!
//! [`mirror`] goes the other way: the objects the real server holds copied into a simulator
//! store, so the same console request can be compared on both servers.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use breakglass::sim::operator_line::OperatorLine;
use breakglass::sim::scenario::{OPERATOR_NAMESPACE, Scenario};
use breakglass::sim::store::{Resource, Store};
use breakglass::sim::twin::model_for;
use breakglass::sim::twin_api_kube::{KubeTwinApi, SimulatedNode};
use breakglass::sim::twin_seed::{Seeded, crds, seed};
use breakglass::sources::connect::Target;
use kube::Client;
use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind, ListParams};
use serde_json::Value;

use super::rig::Rig;

/// The Node the pods the twin plays are bound to: no kubelet, so nothing rewrites them.
pub const SIMULATED_NODE: &str = "twin-node";
/// Its address, in the namespace's range.
const SIMULATED_HOST_IP: &str = "198.51.100.3";

pub struct Incident {
    pub scenario: Scenario,
    pub seeded: Seeded,
    /// The twin's API server, as it seeded: start the twin on it to play the operator.
    pub api: Arc<KubeTwinApi>,
}

pub fn api_resource(r: Resource) -> ApiResource {
    ApiResource::from_gvk(&GroupVersionKind::gvk(r.group(), r.version(), r.kind()))
}

/// The scenario `name` as operator line `line` plays it, in namespace `ns`.
pub fn scenario(name: &str, ns: &str, line: OperatorLine) -> Scenario {
    let mut scenario = Scenario::named(name).unwrap().with_operator(line).unwrap();
    scenario.namespace = ns.to_string();
    scenario
}

/// The twin seeds scenario `name` (0.1 line) into `ns` on the main server.
pub async fn incident(rig: &Rig, name: &str, ns: &str) -> Incident {
    incident_on(
        rig.kubeconfig("admin"),
        rig.log_file(ns),
        name,
        ns,
        OperatorLine::V01,
    )
    .await
}

/// The twin seeds scenario `name` as operator line `line` plays it into `ns`, on the server
/// `kubeconfig` points at (as admin, the operator's rights); executor logs go to `log_file`.
pub async fn incident_on(
    kubeconfig: PathBuf,
    log_file: PathBuf,
    name: &str,
    ns: &str,
    line: OperatorLine,
) -> Incident {
    let scenario = scenario(name, ns, line);
    let ns = ns.to_string();
    let (api, seeded, scenario) = tokio::task::spawn_blocking(move || {
        let target = Target {
            kubeconfig: Some(kubeconfig),
            ..Target::default()
        };
        let watched = [
            (Resource::OpenBaoClusters, ns.clone()),
            (Resource::Deployments, OPERATOR_NAMESPACE.to_string()),
        ];
        let api = KubeTwinApi::connect(target, &watched, log_file)
            .unwrap()
            .with_simulated_node(SimulatedNode {
                name: SIMULATED_NODE.to_string(),
                host_ip: SIMULATED_HOST_IP.to_string(),
                // Outside kwok's pod CIDR (.128/25) and the service range (.16/28).
                pod_ips: (32..128).map(|n| format!("198.51.100.{n}")).collect(),
            });
        let seeded = seed(&api, &scenario, &model_for(&scenario))
            .unwrap_or_else(|e| panic!("the twin's seed on the real server: {e:?}"));
        (Arc::new(api), seeded, scenario)
    })
    .await
    .unwrap();
    Incident {
        scenario,
        seeded,
        api,
    }
}

fn rewrite_uids(v: &Value, uids: &BTreeMap<String, String>) -> Value {
    let mut text = v.to_string();
    for (from, to) in uids {
        text = text.replace(from.as_str(), to);
    }
    serde_json::from_str(&text).unwrap()
}

/// What the real server holds for the incident in `ns` (and the operator's Deployment),
/// copied into a fresh simulator store of operator line `line` (with that line's CRDs):
/// created in owner order at the real creationTimestamp, owner references and uid labels
/// rewritten to the store's uids.
pub async fn mirror(admin: &Client, ns: &str, line: OperatorLine) -> Arc<Store> {
    let store = Store::for_operator(line);
    for crd in crds(line) {
        store
            .create(Resource::CustomResourceDefinitions, crd)
            .unwrap();
    }
    let mut uids = BTreeMap::new();
    for (r, in_ns) in [
        (Resource::OpenBaoClusters, ns),
        (Resource::Deployments, OPERATOR_NAMESPACE),
        (Resource::StatefulSets, ns),
        (Resource::PersistentVolumeClaims, ns),
        (Resource::Jobs, ns),
        (Resource::Pods, ns),
        (Resource::Events, ns),
    ] {
        let api: Api<DynamicObject> = Api::namespaced_with(admin.clone(), in_ns, &api_resource(r));
        for obj in api.list(&ListParams::default()).await.unwrap().items {
            let mut v = serde_json::to_value(obj).unwrap();
            if r == Resource::Events && v["involvedObject"]["kind"] != "OpenBaoCluster" {
                continue; // the controllers' own Events: not the incident's
            }
            let real_uid = v["metadata"]["uid"].as_str().unwrap().to_string();
            let at = v["metadata"]["creationTimestamp"]
                .as_str()
                .unwrap()
                .parse()
                .unwrap();
            let meta = v["metadata"].as_object_mut().unwrap();
            for k in [
                "uid",
                "resourceVersion",
                "creationTimestamp",
                "managedFields",
            ] {
                meta.remove(k);
            }
            let created = store
                .create_at(r, rewrite_uids(&v, &uids), at)
                .unwrap_or_else(|e| panic!("mirror {} {}: {e:?}", r.kind(), v["metadata"]));
            let sim_uid = created["metadata"]["uid"].as_str().unwrap().to_string();
            uids.insert(real_uid, sim_uid);
        }
    }
    store
}

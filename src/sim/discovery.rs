//! API discovery documents (`/version`, `/api`, `/apis`, `/api/v1`, `/apis/{g}[/{v}]`) in
//! their legacy JSON forms: what kubectl and kube-rs read to map kinds and short names to
//! the resources the simulator serves (`store::Resource`).
//!
//! Aggregated discovery (`apidiscovery.k8s.io/v2`) is not offered: clients asking for it
//! get the legacy form with `content-type: application/json` and fall back, as they do
//! against older API servers.

use serde_json::{Value, json};

use super::error::ApiError;
use super::store::{Resource, Store};

/// The authorization group, served only for `selfsubjectaccessreviews`.
pub(crate) const AUTHZ_GROUP: &str = "authorization.k8s.io";

const MAIN_VERBS: [&str; 7] = [
    "create", "delete", "get", "list", "patch", "update", "watch",
];
const SUB_VERBS: [&str; 3] = ["get", "patch", "update"];

pub fn version() -> Value {
    json!({
        "major": "1",
        "minor": "34",
        "emulationMajor": "1",
        "emulationMinor": "34",
        "gitVersion": "v1.34.1",
        "gitCommit": "0000000000000000000000000000000000000000",
        "gitTreeState": "clean",
        "buildDate": "2025-09-09T00:00:00Z",
        "goVersion": "go1.24.6",
        "compiler": "gc",
        "platform": "linux/amd64"
    })
}

pub(crate) fn core_versions(addr: &str) -> Value {
    json!({
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": addr}]
    })
}

/// Named groups and their single served version, in a stable order.
fn groups() -> Vec<(&'static str, &'static str)> {
    let mut gs: Vec<(&str, &str)> = Vec::new();
    for r in Resource::ALL {
        if !r.group().is_empty() && !gs.iter().any(|(g, _)| *g == r.group()) {
            gs.push((r.group(), r.version()));
        }
    }
    gs.push((AUTHZ_GROUP, "v1"));
    gs
}

fn group_doc(name: &str, version: &str) -> Value {
    let gv = json!({"groupVersion": format!("{name}/{version}"), "version": version});
    json!({
        "kind": "APIGroup",
        "apiVersion": "v1",
        "name": name,
        "versions": [gv.clone()],
        "preferredVersion": gv
    })
}

pub(crate) fn group_list() -> Value {
    let groups: Vec<Value> = groups()
        .into_iter()
        .map(|(g, v)| {
            let mut d = group_doc(g, v);
            if let Some(m) = d.as_object_mut() {
                m.remove("kind");
                m.remove("apiVersion");
            }
            d
        })
        .collect();
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
}

/// `/apis/{group}`, or None for a group the simulator does not serve.
pub fn group(name: &str) -> Option<Value> {
    groups()
        .into_iter()
        .find(|(g, _)| *g == name)
        .map(|(g, v)| group_doc(g, v))
}

fn singular(r: Resource) -> String {
    r.kind().to_lowercase()
}

fn short_names(r: Resource) -> &'static [&'static str] {
    match r {
        Resource::OpenBaoClusters => &["bao", "baoc"],
        Resource::OpenBaoRestores => &["obrestore"],
        Resource::Jobs => &[],
        Resource::Pods => &["po"],
        Resource::StatefulSets => &["sts"],
        Resource::PersistentVolumeClaims => &["pvc"],
        Resource::Deployments => &["deploy"],
        Resource::Events => &["ev"],
        Resource::CustomResourceDefinitions => &["crd", "crds"],
    }
}

fn resource_entries(r: Resource) -> Vec<Value> {
    let mut main = json!({
        "name": r.plural(),
        "singularName": singular(r),
        "namespaced": r.namespaced(),
        "kind": r.kind(),
        "verbs": MAIN_VERBS,
    });
    if !short_names(r).is_empty() {
        main["shortNames"] = json!(short_names(r));
    }
    let in_all = !matches!(
        r,
        Resource::PersistentVolumeClaims | Resource::Events | Resource::CustomResourceDefinitions
    );
    if !r.is_custom() && in_all {
        main["categories"] = json!(["all"]);
    }
    let sub = |name: &str, kind: &str, verbs: &[&str]| {
        json!({
            "name": format!("{}/{name}", r.plural()),
            "singularName": "",
            "namespaced": r.namespaced(),
            "kind": kind,
            "verbs": verbs,
        })
    };
    let mut out = vec![main];
    if r.has_status() {
        out.push(sub("status", r.kind(), &SUB_VERBS));
    }
    match r {
        Resource::Pods => {
            out.push(sub("log", "Pod", &["get"]));
            out.push(sub("proxy", "PodProxyOptions", &["get"]));
        }
        Resource::Deployments => {
            let mut scale = sub("scale", "Scale", &SUB_VERBS);
            scale["group"] = json!("autoscaling");
            scale["version"] = json!("v1");
            out.push(scale);
        }
        _ => {}
    }
    out
}

/// `/api/v1` or `/apis/{group}/{version}`, or None if not served.
pub(crate) fn resource_list(group: &str, version: &str) -> Option<Value> {
    let gv = if group.is_empty() {
        version.to_string()
    } else {
        format!("{group}/{version}")
    };
    let resources: Vec<Value> = if group == AUTHZ_GROUP && version == "v1" {
        vec![json!({
            "name": "selfsubjectaccessreviews",
            "singularName": "selfsubjectaccessreview",
            "namespaced": false,
            "kind": "SelfSubjectAccessReview",
            "verbs": ["create"],
        })]
    } else {
        let mut rs: Vec<Value> = Resource::ALL
            .into_iter()
            .filter(|r| r.group() == group && r.version() == version)
            .flat_map(resource_entries)
            .collect();
        if group.is_empty() && version == "v1" {
            rs.push(json!({
                "name": "namespaces",
                "singularName": "namespace",
                "namespaced": false,
                "kind": "Namespace",
                "verbs": ["get", "list"],
                "shortNames": ["ns"],
            }));
        }
        rs
    };
    if resources.is_empty() {
        return None;
    }
    Some(json!({
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": gv,
        "resources": resources,
    }))
}

fn namespace(name: &str) -> Value {
    use sha2::Digest;
    let h = hex::encode(sha2::Sha256::digest(name.as_bytes()));
    json!({
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {
            "name": name,
            "uid": format!("{}-{}-4{}-8{}-{}", &h[0..8], &h[8..12], &h[13..16], &h[17..20], &h[20..32]),
            "resourceVersion": "1",
            "creationTimestamp": "2026-01-01T00:00:00Z",
            "labels": {"kubernetes.io/metadata.name": name},
        },
        "spec": {"finalizers": ["kubernetes"]},
        "status": {"phase": "Active"},
    })
}

/// `/api/v1/namespaces[/{name}]`: the namespaces the store uses (read-only; the simulator
/// does not model namespace lifecycle).
pub fn namespaces(store: &Store, name: Option<&str>, as_table: bool) -> Result<Value, ApiError> {
    let all = store.namespaces();
    let items: Vec<Value> = match name {
        Some(n) if all.iter().any(|a| a == n) => vec![namespace(n)],
        Some(n) => {
            return Err(
                ApiError::new(404, "NotFound", format!("namespaces \"{n}\" not found"))
                    .with_details(json!({"name": n, "kind": "namespaces"})),
            );
        }
        None => all.iter().map(|n| namespace(n)).collect(),
    };
    let rv = store.current_rv();
    if as_table {
        let mut t = super::table::table(Resource::Pods, &[], &rv);
        t["columnDefinitions"] = json!([
            {"name": "Name", "type": "string", "format": "name", "description": "Name", "priority": 0},
            {"name": "Status", "type": "string", "format": "", "description": "Status", "priority": 0},
        ]);
        t["rows"] = Value::Array(
            items
                .iter()
                .map(|o| json!({"cells": [o["metadata"]["name"], "Active"], "object": {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": o["metadata"]}}))
                .collect(),
        );
        return Ok(t);
    }
    if name.is_some() {
        return Ok(items.into_iter().next().unwrap_or(Value::Null));
    }
    Ok(
        json!({"kind": "NamespaceList", "apiVersion": "v1", "metadata": {"resourceVersion": rv}, "items": items}),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serves_every_resource_and_nothing_else() {
        let apis = group_list();
        let names: Vec<&str> = apis["groups"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| g["name"].as_str().unwrap())
            .collect();
        assert_eq!(
            names,
            [
                "openbao.org",
                "batch",
                "apps",
                "apiextensions.k8s.io",
                AUTHZ_GROUP
            ]
        );
        let core = resource_list("", "v1").unwrap();
        assert!(
            core["resources"]
                .as_array()
                .unwrap()
                .iter()
                .any(|r| r["name"] == "pods/log")
        );
        let crd = resource_list("openbao.org", "v1alpha1").unwrap();
        assert_eq!(crd["resources"][0]["shortNames"], json!(["bao", "baoc"]));
        assert!(resource_list("openbao.org", "v1").is_none());
        assert!(group("example.com").is_none());
        // Events: core, namespaced, no status; CRDs: cluster-scoped.
        let events = core["resources"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["name"].as_str().unwrap().starts_with("events"))
            .collect::<Vec<_>>();
        assert_eq!(events.len(), 1);
        assert_eq!(events[0]["namespaced"], true);
        assert_eq!(events[0]["shortNames"], json!(["ev"]));
        let ext = resource_list("apiextensions.k8s.io", "v1").unwrap();
        assert_eq!(ext["resources"][0]["name"], "customresourcedefinitions");
        assert_eq!(ext["resources"][0]["namespaced"], false);
    }
}

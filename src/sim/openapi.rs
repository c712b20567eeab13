//! A small OpenAPI v3 surface (`/openapi/v3`, `/openapi/v3/{api|apis/g}/{v}`): enough for
//! kubectl to know that PATCH takes `fieldValidation` (so `kubectl apply` / `create`
//! validate on the server instead of failing to "download openapi") and for
//! `kubectl explain` on the custom resources, whose schemas come from the embedded CRDs.

use serde_json::{Map, Value, json};

use super::operator_line::OperatorLine;
use super::schema;
use super::store::Resource;

fn gv_path(group: &str, version: &str) -> String {
    if group.is_empty() {
        format!("api/{version}")
    } else {
        format!("apis/{group}/{version}")
    }
}

fn group_versions() -> Vec<(&'static str, &'static str)> {
    let mut gvs: Vec<(&str, &str)> = Vec::new();
    for r in Resource::ALL {
        if !gvs.contains(&(r.group(), r.version())) {
            gvs.push((r.group(), r.version()));
        }
    }
    gvs
}

/// `/openapi/v3`: where each group-version's document lives.
pub fn root() -> Value {
    let paths: Map<String, Value> = group_versions()
        .into_iter()
        .map(|(g, v)| {
            let p = gv_path(g, v);
            let url = format!("/openapi/v3/{p}?hash=sim");
            (p, json!({"serverRelativeURL": url}))
        })
        .collect();
    json!({"paths": paths})
}

/// The reverse-DNS schema name, as the API server names them.
fn schema_name(r: Resource) -> String {
    let group = match r.group() {
        "" => "io.k8s.api.core".to_string(),
        "apps" | "batch" => format!("io.k8s.api.{}", r.group()),
        "apiextensions.k8s.io" => {
            "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions".to_string()
        }
        g => g.split('.').rev().collect::<Vec<_>>().join("."),
    };
    format!("{group}.{}.{}", r.version(), r.kind())
}

fn params() -> Value {
    let q = |n: &str| json!({"name": n, "in": "query", "schema": {"type": "string", "uniqueItems": true}});
    json!([
        q("dryRun"),
        q("fieldManager"),
        q("fieldValidation"),
        q("force")
    ])
}

/// `/openapi/v3/{api/v1 | apis/{group}/{version}}`, or None if not served.
pub(crate) fn group_version(line: OperatorLine, path: &str) -> Option<Value> {
    let (g, v) = group_versions()
        .into_iter()
        .find(|(g, v)| gv_path(g, v) == path)?;
    let mut paths = Map::new();
    let mut schemas = Map::new();
    for r in Resource::ALL
        .into_iter()
        .filter(|r| r.group() == g && r.version() == v)
    {
        let gvk = json!({"group": g, "version": v, "kind": r.kind()});
        let prefix = if g.is_empty() {
            format!("/api/{v}")
        } else {
            format!("/apis/{g}/{v}")
        };
        let scope = if r.namespaced() {
            "/namespaces/{namespace}"
        } else {
            ""
        };
        let name = schema_name(r);
        let reference = json!({"$ref": format!("#/components/schemas/{name}")});
        let op = |verb: &str| {
            json!({
                "operationId": format!("{verb}{}", r.kind()),
                "x-kubernetes-action": verb,
                "x-kubernetes-group-version-kind": gvk,
                "parameters": params(),
                "responses": {"200": {"description": "OK", "content": {"application/json": {"schema": reference}}}},
            })
        };
        paths.insert(
            format!("{prefix}{scope}/{}/{{name}}", r.plural()),
            json!({"get": op("get"), "put": op("put"), "patch": op("patch"), "delete": op("delete")}),
        );
        paths.insert(
            format!("{prefix}{scope}/{}", r.plural()),
            json!({"post": op("post")}),
        );
        let mut body = match schema::for_resource(line, r) {
            Some(s) => s.root().clone(),
            // Built-ins: an open object (the simulator does not carry their schemas).
            None => json!({"type": "object", "x-kubernetes-preserve-unknown-fields": true}),
        };
        body["x-kubernetes-group-version-kind"] = json!([gvk]);
        schemas.insert(name, body);
    }
    Some(json!({
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": "v1.34.1"},
        "paths": paths,
        "components": {"schemas": schemas},
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_lists_every_group_version_and_docs_declare_field_validation() {
        let r = root();
        assert!(r["paths"]["apis/openbao.org/v1alpha1"]["serverRelativeURL"].is_string());
        assert!(r["paths"]["api/v1"].is_object());
        let doc = group_version(OperatorLine::V01, "apis/openbao.org/v1alpha1").unwrap();
        let patch = &doc["paths"]["/apis/openbao.org/v1alpha1/namespaces/{namespace}/openbaoclusters/{name}"]
            ["patch"];
        assert_eq!(
            patch["x-kubernetes-group-version-kind"]["kind"],
            "OpenBaoCluster"
        );
        assert!(
            patch["parameters"]
                .as_array()
                .unwrap()
                .iter()
                .any(|p| p["name"] == "fieldValidation")
        );
        let s = &doc["components"]["schemas"]["org.openbao.v1alpha1.OpenBaoCluster"];
        assert_eq!(
            s["properties"]["spec"]["properties"]["version"]["type"],
            "string"
        );
        assert!(group_version(OperatorLine::V01, "apis/example.com/v1").is_none());
    }
}

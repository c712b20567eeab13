//! Talking to the rig as `admin`: applying YAML (server-side apply), installing the repo's
//! CRDs and Roles, a fresh namespace per test with the Roles bound to `viewer`/`responder`,
//! and waiting for what the controllers do.

use std::path::Path;
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::{Node, ServiceAccount};
use kube::Client;
use kube::api::{
    Api, ApiResource, DynamicObject, GroupVersionKind, Patch, PatchParams, PostParams,
};
use kube::discovery::{Scope, pinned_kind};
use serde_json::{Value, json};

use super::rig::{NODE_NAME, RigError};

fn err(what: &str, e: impl std::fmt::Display) -> RigError {
    RigError(format!("{what}: {e}"))
}

/// The kwok node (kwok manages nodes annotated `kwok.x-k8s.io/node=fake`).
pub async fn create_node(admin: &Client) -> Result<(), RigError> {
    let node: Node = serde_json::from_value(json!({
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": NODE_NAME,
            "annotations": {"kwok.x-k8s.io/node": "fake", "node.alpha.kubernetes.io/ttl": "0"},
            "labels": {"kubernetes.io/hostname": NODE_NAME, "type": "kwok"}
        },
        "spec": {}
    }))
    .map_err(|e| err("node", e))?;
    Api::<Node>::all(admin.clone())
        .create(&PostParams::default(), &node)
        .await
        .map_err(|e| err("create node", e))?;
    // Where the pods the twin plays are bound: no kubelet, so nothing rewrites them. Cordoned:
    // the scheduler would put other pods there (the operator's, once scaled up again), which
    // then never run.
    let simulated: Node = serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "Node",
        "metadata": {"name": super::incident::SIMULATED_NODE},
        "spec": {"unschedulable": true}
    }))
    .map_err(|e| err("node", e))?;
    Api::<Node>::all(admin.clone())
        .create(&PostParams::default(), &simulated)
        .await
        .map_err(|e| err("create node", e))?;
    Ok(())
}

/// None when the node is Ready and the `default` ServiceAccount exists in `default`.
pub async fn rig_not_ready(admin: &Client) -> Option<String> {
    let node = Api::<Node>::all(admin.clone()).get_opt(NODE_NAME).await;
    let ready = node.ok().flatten().is_some_and(|n| {
        n.status
            .and_then(|s| s.conditions)
            .unwrap_or_default()
            .iter()
            .any(|c| c.type_ == "Ready" && c.status == "True")
    });
    if !ready {
        return Some(format!("node {NODE_NAME} not Ready (kwok)"));
    }
    let sa = Api::<ServiceAccount>::namespaced(admin.clone(), "default")
        .get_opt("default")
        .await;
    if !matches!(sa, Ok(Some(_))) {
        return Some("no default ServiceAccount (kube-controller-manager)".into());
    }
    None
}

/// Server-side apply one object (any kind the server serves) into `namespace` when namespaced.
pub async fn apply(
    admin: &Client,
    obj: &Value,
    namespace: Option<&str>,
) -> Result<Value, RigError> {
    let api_version = obj["apiVersion"].as_str().unwrap_or_default();
    let kind = obj["kind"].as_str().unwrap_or_default();
    let name = obj
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
    let gvk = GroupVersionKind::gvk(group, version, kind);
    let (ar, caps) = pinned_kind(admin, &gvk)
        .await
        .map_err(|e| err(&format!("discover {api_version} {kind}"), e))?;
    let api: Api<DynamicObject> = match caps.scope {
        Scope::Namespaced => {
            let ns = obj
                .pointer("/metadata/namespace")
                .and_then(Value::as_str)
                .or(namespace)
                .unwrap_or("default");
            Api::namespaced_with(admin.clone(), ns, &ar)
        }
        Scope::Cluster => Api::all_with(admin.clone(), &ar),
    };
    let applied = api
        .patch(
            name,
            &PatchParams::apply("breakglass-rig").force(),
            &Patch::Apply(obj),
        )
        .await
        .map_err(|e| err(&format!("apply {kind}/{name}"), e))?;
    serde_json::to_value(applied).map_err(|e| err("json", e))
}

/// Every document of a YAML file.
pub fn documents(path: &Path) -> Result<Vec<Value>, RigError> {
    let text = std::fs::read_to_string(path).map_err(|e| err(&path.display().to_string(), e))?;
    let mut out = Vec::new();
    for doc in serde_yaml::Deserializer::from_str(&text) {
        let v: Value = serde::Deserialize::deserialize(doc)
            .map_err(|e| err(&path.display().to_string(), e))?;
        if !v.is_null() {
            out.push(v);
        }
    }
    Ok(out)
}

/// The `*.yaml` files of a repo directory, sorted.
pub fn yaml_files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}

pub fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The CRDs of one operator generation: `assets/crds/` (0.1) or `assets/crds/0.6/`. Both
/// define `openbaoclusters.openbao.org` and `openbaorestores.openbao.org` at `v1alpha1`, so
/// one server holds one generation: the main server the 0.1 CRDs, the second (`rig06.rs`)
/// the 0.6 ones.
pub fn crd_dir(generation: &str) -> std::path::PathBuf {
    match generation {
        "0.6" => repo().join("assets/crds/0.6"),
        _ => repo().join("assets/crds"),
    }
}

/// Wait until a just-established CRD is servable: the watch cache answers 429 "storage is
/// (re)initializing" for a moment. Ready when a list works.
pub async fn wait_servable(
    admin: &Client,
    group: &str,
    version: &str,
    kind: &str,
    plural: &str,
) -> Result<(), RigError> {
    let ar =
        ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk(group, version, kind), plural);
    let api: Api<DynamicObject> = Api::all_with(admin.clone(), &ar);
    let deadline = Instant::now() + Duration::from_secs(30);
    while let Err(e) = api.list(&kube::api::ListParams::default().limit(1)).await {
        if Instant::now() > deadline {
            return Err(err(&format!("{plural} not servable"), e));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    Ok(())
}

/// Install the repository's CRDs of one generation ([`crd_dir`]) and wait until each is
/// Established and servable. Returns the files installed.
pub async fn install_crds(admin: &Client, generation: &str) -> Result<Vec<String>, RigError> {
    let mut installed = Vec::new();
    let crd_ar = ApiResource::from_gvk(&GroupVersionKind::gvk(
        "apiextensions.k8s.io",
        "v1",
        "CustomResourceDefinition",
    ));
    let api: Api<DynamicObject> = Api::all_with(admin.clone(), &crd_ar);
    let dirs = [crd_dir(generation)];
    if yaml_files(&dirs[0]).is_empty() {
        return Err(RigError(format!("no CRDs in {}", dirs[0].display())));
    }
    for dir in dirs {
        for file in yaml_files(&dir) {
            for doc in documents(&file)? {
                let name = doc
                    .pointer("/metadata/name")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string();
                apply(admin, &doc, None).await?;
                let deadline = Instant::now() + Duration::from_secs(30);
                loop {
                    let crd = api.get(&name).await.map_err(|e| err("get CRD", e))?;
                    let established =
                        crd.data["status"]["conditions"]
                            .as_array()
                            .is_some_and(|cs| {
                                cs.iter()
                                    .any(|c| c["type"] == "Established" && c["status"] == "True")
                            });
                    if established {
                        break;
                    }
                    if Instant::now() > deadline {
                        return Err(RigError(format!("CRD {name} not Established")));
                    }
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
            }
            // Established is not yet servable: the watch cache answers 429 "storage is
            // (re)initializing" for a moment. Ready when a list works.
            for doc in documents(&file)? {
                let group = doc
                    .pointer("/spec/group")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                let kind = doc
                    .pointer("/spec/names/kind")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                let plural = doc
                    .pointer("/spec/names/plural")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                let version = doc
                    .pointer("/spec/versions/0/name")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                wait_servable(admin, group, version, kind, plural).await?;
            }
            installed.push(
                file.strip_prefix(repo())
                    .unwrap_or(&file)
                    .display()
                    .to_string(),
            );
        }
    }
    Ok(installed)
}

/// The shipped Roles: `assets/rbac/*.yaml`. Namespaced objects without a namespace go into
/// `namespace`; the operator's Role keeps its own (`openbao-operator-system`).
pub async fn apply_rbac(admin: &Client, namespace: &str) -> Result<(), RigError> {
    for file in yaml_files(&repo().join("assets/rbac")) {
        for doc in documents(&file)? {
            apply(admin, &doc, Some(namespace)).await?;
        }
    }
    Ok(())
}

/// Bind every Role/ClusterRole of `assets/rbac/<user>.yaml` to `user`.
pub async fn bind(admin: &Client, user: &str, namespace: &str) -> Result<(), RigError> {
    for doc in documents(&repo().join(format!("assets/rbac/{user}.yaml")))? {
        let kind = doc["kind"].as_str().unwrap_or_default();
        let role = doc
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let subject =
            json!([{"kind": "User", "apiGroup": "rbac.authorization.k8s.io", "name": user}]);
        let binding = if kind == "ClusterRole" {
            json!({
                "apiVersion": "rbac.authorization.k8s.io/v1",
                "kind": "ClusterRoleBinding",
                "metadata": {"name": format!("{role}-{user}")},
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
                "subjects": subject
            })
        } else {
            let ns = doc
                .pointer("/metadata/namespace")
                .and_then(Value::as_str)
                .unwrap_or(namespace);
            json!({
                "apiVersion": "rbac.authorization.k8s.io/v1",
                "kind": "RoleBinding",
                "metadata": {"name": format!("{role}-{user}"), "namespace": ns},
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": role},
                "subjects": subject
            })
        };
        apply(admin, &binding, Some(namespace)).await?;
    }
    Ok(())
}

/// A fresh namespace with the shipped Roles applied and bound, and its `default`
/// ServiceAccount made by the controller-manager (pods are refused before that).
pub async fn namespace(admin: &Client, name: &str) -> Result<(), RigError> {
    for ns in [name, "openbao-operator-system"] {
        apply(
            admin,
            &json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}),
            None,
        )
        .await?;
    }
    apply_rbac(admin, name).await?;
    bind(admin, "viewer", name).await?;
    bind(admin, "responder", name).await?;
    let sa = Api::<ServiceAccount>::namespaced(admin.clone(), name);
    let deadline = Instant::now() + Duration::from_secs(30);
    while !matches!(sa.get_opt("default").await, Ok(Some(_))) {
        if Instant::now() > deadline {
            return Err(RigError(format!("no default ServiceAccount in {name}")));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    Ok(())
}

/// Poll `check` every 200 ms until it returns Some, or fail after `secs`.
pub async fn wait_for<T, F, Fut>(what: &str, secs: u64, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {secs} s waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

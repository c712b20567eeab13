//! The Restore path's facts and requests (operator-facts §5.2, §5.3, §5.5): the snapshot
//! key and its age, the CRD-valid OpenBaoRestore body, and the writes the wizard asks for.
//! Pure; the wizard (`app::wizard`) walks them, `sources::restore` reads and sends them.

use jiff::Timestamp;
use serde_json::{Value, json};

/// The operator Deployment found by `app.kubernetes.io/name=openbao-operator,
/// app.kubernetes.io/component=controller` in any namespace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operator {
    pub namespace: String,
    pub name: String,
    pub replicas: i32,
}

/// What the wizard knows about the cluster (read by sources before it opens).
#[derive(Debug, Clone, PartialEq)]
pub struct Facts {
    pub namespace: String,
    pub cluster: String,
    /// The cluster's `spec.backup` (its `target` and auth are copied into the restore).
    pub backup: Option<Value>,
    pub operator: Option<Operator>,
    pub pvcs: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    Scale {
        namespace: String,
        name: String,
        replicas: i32,
    },
    DeletePvc {
        namespace: String,
        name: String,
    },
    CreateRestore {
        namespace: String,
        body: Value,
    },
}

/// The snapshot key from the pre-upgrade snapshot Job's log
/// (`Backup completed successfully: <key> (size: <n> bytes)`).
pub fn key_from_log(line: &str) -> Option<String> {
    let rest = line.split("Backup completed successfully: ").nth(1)?;
    let key = rest.split_whitespace().next()?;
    (!key.is_empty()).then(|| key.to_string())
}

/// When the snapshot was taken, from its key (`...pre-upgrade-2026-11-23T09-41-07Z-1a2b3c4d.snap`
/// or `...<timestamp>-<8hex>.snap`).
pub fn key_time(key: &str) -> Option<Timestamp> {
    let file = key.rsplit('/').next()?;
    let stamp = file.strip_prefix("pre-upgrade-").unwrap_or(file);
    let (date, time) = stamp.get(..20)?.split_once('T')?;
    let time = time.strip_suffix('Z')?.replace('-', ":");
    format!("{date}T{time}Z").parse().ok()
}

/// The OpenBaoRestore: CRD-valid (`cluster`, `source.key`, `source.target.bucket`), with the
/// cluster's backup target and auth, `force` and `overrideOperationLock`.
pub fn restore_body(facts: &Facts, key: &str, name: &str) -> Result<Value, String> {
    let backup = facts
        .backup
        .as_ref()
        .ok_or("the cluster has no spec.backup: the restore has no target to read from")?;
    let target = backup
        .get("target")
        .filter(|t| t.get("bucket").is_some())
        .ok_or("spec.backup.target.bucket is missing")?;
    let mut spec = json!({
        "cluster": facts.cluster,
        "source": { "key": key, "target": target },
        "force": true,
        "overrideOperationLock": true,
    });
    let mut authed = false;
    for field in ["jwtAuthRole", "tokenSecretRef"] {
        if let Some(v) = backup.get(field) {
            spec[field] = v.clone();
            authed = true;
        }
    }
    if !authed {
        return Err(
            "spec.backup has neither jwtAuthRole nor tokenSecretRef: the restore controller would refuse".into(),
        );
    }
    Ok(json!({
        "apiVersion": "openbao.org/v1alpha1",
        "kind": "OpenBaoRestore",
        "metadata": { "name": name, "namespace": facts.namespace },
        "spec": spec,
    }))
}

//! The Restore path's facts and requests, by operator line: the snapshot key and its age,
//! the CRD-valid OpenBaoRestore body (the restore's own JWT role `spec.restore.jwtAuthRole`,
//! never the backup role; `force`, which selects the force endpoint, and
//! `overrideOperationLock`, which requires it), the restore's target, and the
//! administrator acknowledgement of an `Unknown` restore (newer lines,
//! internal/service/restore/acknowledgement.go). Pure; the wizard (`app::wizard`) walks
//! them, `sources::restore` reads and sends them.

use jiff::Timestamp;
use serde_json::{Value, json};

use super::controls::DEFAULT_RESTORE_ROLE;
use super::generation::Line;

/// The annotation that releases a restore in phase `Unknown`: `<restore uid>/Resume|Abandon`.
pub const ANNOTATION_RESTORE_ACKNOWLEDGE: &str = "openbao.org/restore-acknowledge";

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
    /// The operator line the steps and the body are chosen for.
    pub line: Line,
    /// The cluster's `spec.restore.jwtAuthRole` (None: the default role).
    pub restore_role: Option<String>,
    /// `status.blueGreen.blueRevision` (the restore's target on the newer lines).
    pub blue_revision: Option<String>,
}

impl Facts {
    /// The role the restore authenticates with: its own, bootstrapped by self-init OIDC.
    pub fn restore_role(&self) -> &str {
        self.restore_role.as_deref().unwrap_or(DEFAULT_RESTORE_ROLE)
    }

    /// The lines where the restore targets Blue's StatefulSet itself and needs no scale
    /// down or PVC deletion first (`restoreTargetStatefulSetName`, PR #405).
    pub(crate) fn targets_blue(&self) -> bool {
        matches!(self.line, Line::V06 | Line::V02To050)
    }

    /// The StatefulSet the restore controller restores into, as far as the line tells.
    pub fn target(&self) -> String {
        match (&self.blue_revision, self.targets_blue()) {
            (Some(blue), true) => format!("StatefulSet {}-{blue} (Blue)", self.cluster),
            (None, true) => format!("StatefulSet {} (unrevisioned Blue)", self.cluster),
            (_, false) => format!(
                "pods {}-<n> (the 0.1 restore executor ignores Blue/Green names)",
                self.cluster
            ),
        }
    }
}

/// The administrator's disposition of a restore in phase `Unknown`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disposition {
    Resume,
    Abandon,
}

impl Disposition {
    pub fn label(self) -> &'static str {
        match self {
            Disposition::Resume => "Resume",
            Disposition::Abandon => "Abandon",
        }
    }

    /// What the restore controller does with it.
    pub(crate) fn consequence(self) -> &'static str {
        match self {
            Disposition::Resume => {
                "Resume: the voter and read-replica pods are restarted, then the hold and lock are released; refused (use Abandon) when the cluster is paused, deleting, locked by another operation or the target changed."
            }
            Disposition::Abandon => {
                "Abandon: the operator SETS spec.paused=true ON THE CLUSTER, removes the restore hold and releases the lock: the cluster stays paused until you resume it."
            }
        }
    }
}

/// The merge patch on the OpenBaoRestore that acknowledges its `Unknown` phase.
pub(crate) fn restore_ack_patch(
    uid: &str,
    disposition: Disposition,
    resource_version: &str,
) -> Value {
    json!({
        "metadata": {
            "resourceVersion": resource_version,
            "annotations": {
                ANNOTATION_RESTORE_ACKNOWLEDGE: format!("{uid}/{}", disposition.label())
            }
        }
    })
}

/// `overrideOperationLock` requires `force` (VAP and controller).
pub(crate) fn check_lock_override(spec: &Value) -> Result<(), String> {
    let set = |k: &str| spec.get(k).and_then(Value::as_bool).unwrap_or(false);
    if set("overrideOperationLock") && !set("force") {
        return Err("overrideOperationLock requires force: true".into());
    }
    Ok(())
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
    /// The Resume/Abandon annotation on an OpenBaoRestore in phase `Unknown`, built by
    /// [`restore_ack_patch`] on the object the dialog showed (its resourceVersion); sent
    /// after a fresh read (still Unknown, same uid), a changed object is the server's 409.
    AcknowledgeRestore {
        namespace: String,
        name: String,
        uid: String,
        disposition: Disposition,
        resource_version: String,
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
/// cluster's backup target, the restore's own JWT role, `force` (the force endpoint
/// `snapshot-force`, and past the "initialized"/"not upgrading" checks that fail in break
/// glass) and `overrideOperationLock` (the Upgrade lock is held).
pub fn restore_body(facts: &Facts, key: &str, name: &str) -> Result<Value, String> {
    let backup = facts
        .backup
        .as_ref()
        .ok_or("the cluster has no spec.backup: the restore has no target to read from")?;
    let target = backup
        .get("target")
        .filter(|t| t.get("bucket").is_some())
        .ok_or("spec.backup.target.bucket is missing")?;
    let spec = json!({
        "cluster": facts.cluster,
        "source": { "key": key, "target": target },
        "jwtAuthRole": facts.restore_role(),
        "force": true,
        "overrideOperationLock": true,
    });
    check_lock_override(&spec)?;
    Ok(json!({
        "apiVersion": "openbao.org/v1alpha1",
        "kind": "OpenBaoRestore",
        "metadata": { "name": name, "namespace": facts.namespace },
        "spec": spec,
    }))
}

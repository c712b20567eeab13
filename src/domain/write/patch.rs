//! The builders: one per request body. Preview, effect, send and journal all use the
//! value built here, never a second copy.

use serde_json::{Value, json};

use super::Refusal;
use crate::domain::ClusterView;
use crate::domain::cluster::{CLUSTER_PLURAL, GROUP, VERSION};

/// The JSON merge patch that acknowledges break glass `nonce` on the object at `resource_version`.
pub fn ack_patch(nonce: &str, resource_version: &str) -> Value {
    json!({
        "metadata": { "resourceVersion": resource_version },
        "spec": { "breakGlassAck": nonce }
    })
}

/// The merge patch that reverts `spec.version` (and `spec.image` when it is set) to Blue's,
/// so the Idle handler does not start the upgrade again (dc-tec/openbao-operator@002fbdd
/// `internal/upgrade/bluegreen/manager.go`). None: Blue's version or image is unknown.
pub fn revert_patch(view: &ClusterView) -> Option<Value> {
    let version = view.current_version.as_deref()?;
    let mut spec = json!({ "version": version });
    if view.spec_image.is_some() {
        let image = view.blue_green.as_ref()?.blue_image.as_deref()?;
        spec["image"] = json!(image);
    }
    Some(json!({
        "metadata": { "resourceVersion": view.resource_version },
        "spec": spec,
    }))
}

/// Pause and repair, first patch (0.6 runbook): `spec.paused: true`. While paused the
/// operator does nothing for this cluster.
pub fn pause_patch(resource_version: &str) -> Value {
    json!({
        "metadata": { "resourceVersion": resource_version },
        "spec": { "paused": true }
    })
}

/// Pause and repair, second patch: `paused: false` and the acknowledgement in ONE merge
/// patch, so the operator resumes exactly into the retry of the failed step.
pub fn resume_ack_patch(nonce: &str, resource_version: &str) -> Value {
    json!({
        "metadata": { "resourceVersion": resource_version },
        "spec": { "paused": false, "breakGlassAck": nonce }
    })
}

/// Which of the two Pause and repair patches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PauseStep {
    Pause,
    ResumeAck,
}

impl PauseStep {
    /// The step's patch (the preview of both steps uses it too).
    pub fn patch(self, nonce: &str, resource_version: &str) -> Value {
        match self {
            PauseStep::Pause => pause_patch(resource_version),
            PauseStep::ResumeAck => resume_ack_patch(nonce, resource_version),
        }
    }

    /// The step a cluster in this pause state is at.
    pub fn of(paused: bool) -> PauseStep {
        if paused {
            PauseStep::ResumeAck
        } else {
            PauseStep::Pause
        }
    }
}

/// A write to the OpenBaoCluster, with what it was confirmed for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClusterWrite {
    /// Retry (and Fix forward with this operator): `spec.breakGlassAck`.
    Acknowledge { nonce: String },
    /// The follow-up after a retry: `spec.version` (and `spec.image`) back to Blue's.
    Revert { from_version: String },
    /// Pause and repair: one of its two patches.
    PauseRepair { step: PauseStep, nonce: String },
}

impl ClusterWrite {
    /// The builder: the exact body for `view` (its resourceVersion included).
    pub fn body(&self, view: &ClusterView) -> Result<Value, Refusal> {
        let rv = view.resource_version.as_str();
        match self {
            ClusterWrite::Acknowledge { nonce } => Ok(ack_patch(nonce, rv)),
            ClusterWrite::Revert { .. } => revert_patch(view).ok_or(Refusal::BlueImageUnknown),
            ClusterWrite::PauseRepair { step, nonce } => Ok(step.patch(nonce, rv)),
        }
    }

    /// The nonce it acknowledges or depends on (None for the revert).
    pub fn nonce(&self) -> Option<&str> {
        match self {
            ClusterWrite::Acknowledge { nonce } | ClusterWrite::PauseRepair { nonce, .. } => {
                Some(nonce)
            }
            ClusterWrite::Revert { .. } => None,
        }
    }

    /// What the journal's decision and outcome entries call it.
    pub fn label(&self) -> &'static str {
        match self {
            ClusterWrite::Acknowledge { .. } => "acknowledge",
            ClusterWrite::Revert { .. } => "revert spec.version",
            ClusterWrite::PauseRepair {
                step: PauseStep::Pause,
                ..
            } => "pause and repair: pause",
            ClusterWrite::PauseRepair {
                step: PauseStep::ResumeAck,
                ..
            } => "pause and repair: resume + acknowledge",
        }
    }
}

/// A confirmed JSON merge patch of the OpenBaoCluster: built once, then shown, carried,
/// sent and journaled as these exact bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterPatch {
    pub write: ClusterWrite,
    pub namespace: String,
    pub name: String,
    /// The resourceVersion of the object it was built from (the body carries it).
    pub resource_version: String,
    /// The exact JSON merge patch.
    pub body: String,
}

impl ClusterPatch {
    /// Build `write`'s patch from `view` (the object the guard judged).
    pub fn build(
        write: ClusterWrite,
        namespace: &str,
        name: &str,
        view: &ClusterView,
    ) -> Result<ClusterPatch, Refusal> {
        let body = write.body(view)?.to_string();
        Ok(ClusterPatch {
            write,
            namespace: namespace.to_string(),
            name: name.to_string(),
            resource_version: view.resource_version.clone(),
            body,
        })
    }

    /// The body as JSON, for the client; it serializes back to exactly `body` (serde_json
    /// writes object keys sorted, the way `body` was written).
    pub fn json(&self) -> Result<Value, Refusal> {
        serde_json::from_str(&self.body).map_err(|e| Refusal::InvalidBody(e.to_string()))
    }

    /// The object's API path (the journal's and the request's).
    pub fn path(&self) -> String {
        cluster_path(&self.namespace, &self.name)
    }

    /// This patch as a kubectl command line, with the exact body (None: it does not parse).
    pub fn kubectl(&self) -> Option<crate::domain::kubectl_cmd::Command> {
        let body = self.json().ok()?;
        crate::domain::kubectl_cmd::for_api("PATCH", &self.path(), Some(&body))
    }
}

/// The API path of an OpenBaoCluster.
pub(crate) fn cluster_path(namespace: &str, name: &str) -> String {
    format!("/apis/{GROUP}/{VERSION}/namespaces/{namespace}/{CLUSTER_PLURAL}/{name}")
}

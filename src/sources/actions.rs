//! The action executor: the only code that patches the OpenBaoCluster.
//!
//! It sends the confirmed [`ClusterPatch`]'s exact bytes (built by `domain::write`, the
//! body the dialog or `breakglass ack` showed), never a body of its own: it re-reads the
//! cluster and refuses with the same guard the console used (`guard::recheck`) if the
//! confirmed write no longer makes sense, runs a server-side dry run, then the patch. The
//! body carries the resourceVersion it was built on, so a change in between is the API
//! server's 409, never a blind write (README "What is sent, and when").

use kube::Client;
use kube::api::{Api, DynamicObject, Patch, PatchParams};
use serde_json::Value;

use super::ActionOutcome;
use super::connect::explain;
use super::watch::cluster_resource;
use crate::domain::ClusterView;
use crate::domain::write::guard;
use crate::domain::write::patch::cluster_path;
use crate::domain::write::{ClusterPatch, ClusterWrite, Refusal};
use crate::journal::Recorder;

pub use crate::domain::write::PauseStep;
pub use crate::domain::write::patch::{ack_patch, pause_patch, resume_ack_patch, revert_patch};

fn failed(err: &kube::Error, resource_version: &str) -> ActionOutcome {
    let status = match err {
        kube::Error::Api(s) => Some(s.code),
        _ => None,
    };
    let message = match err {
        kube::Error::Api(s) if s.code == 409 => format!(
            "409 Conflict: the cluster changed after this body was built (it carries resourceVersion {resource_version}); nothing was applied. Review the fresh state and confirm again. ({})",
            s.message
        ),
        other => explain(other),
    };
    ActionOutcome::Failed { status, message }
}

fn refused(reason: Refusal) -> ActionOutcome {
    ActionOutcome::Refused { reason }
}

fn record_result<T>(rec: &mut Recorder, result: &Result<T, kube::Error>, ok: &str) {
    match result {
        Ok(_) => rec.response(200, ok),
        Err(kube::Error::Api(s)) => rec.response(s.code, &s.message),
        Err(e) => rec.response(0, &explain(e)),
    }
}

fn api(client: &Client, namespace: &str) -> Api<DynamicObject> {
    Api::namespaced_with(client.clone(), namespace, &cluster_resource())
}

/// Read the cluster for the executor's check (journaled).
async fn read(
    client: &Client,
    namespace: &str,
    name: &str,
    rec: &mut Recorder,
) -> Result<ClusterView, ActionOutcome> {
    rec.request("GET", &cluster_path(namespace, name), false, None);
    let got = api(client, namespace).get(name).await;
    record_result(rec, &got, "re-read the cluster");
    let fresh = got.map_err(|e| failed(&e, ""))?;
    serde_json::to_value(&fresh)
        .map_err(|e| e.to_string())
        .and_then(|v| ClusterView::from_json(&v).map_err(|e| e.to_string()))
        .map_err(|e| refused(Refusal::Unreadable(e)))
}

/// What the API server's acceptance of `write` means for the app.
fn accepted(write: &ClusterWrite, resource_version: String) -> ActionOutcome {
    match write {
        ClusterWrite::Acknowledge { nonce }
        | ClusterWrite::PauseRepair {
            step: PauseStep::ResumeAck,
            nonce,
        } => ActionOutcome::Acknowledged {
            nonce: nonce.clone(),
            resource_version,
        },
        ClusterWrite::PauseRepair {
            step: PauseStep::Pause,
            ..
        } => ActionOutcome::Paused { resource_version },
        ClusterWrite::Revert { .. } => ActionOutcome::Reverted { resource_version },
    }
}

/// The dry run, then the patch: `patch.body`'s exact bytes both times (journaled as sent).
async fn send_exact(client: &Client, patch: &ClusterPatch, rec: &mut Recorder) -> ActionOutcome {
    let body: Value = match patch.json() {
        Ok(b) => b,
        Err(r) => return refused(r),
    };
    let api = api(client, &patch.namespace);
    let path = patch.path();
    for dry_run in [true, false] {
        rec.request("PATCH", &path, dry_run, Some(&body));
        let pp = PatchParams {
            dry_run,
            ..Default::default()
        };
        let result = api.patch(&patch.name, &pp, &Patch::Merge(&body)).await;
        record_result(
            rec,
            &result,
            if dry_run {
                "dry run accepted"
            } else {
                "patched"
            },
        );
        match result {
            Err(e) => return failed(&e, &patch.resource_version),
            Ok(obj) if !dry_run => {
                let rv = obj.metadata.resource_version.unwrap_or_default();
                return accepted(&patch.write, rv);
            }
            Ok(_) => {}
        }
    }
    refused(Refusal::InvalidBody("no request was made".into()))
}

/// Send a confirmed patch: re-read, refuse on the shared guard, dry run, then the exact body.
pub async fn send(client: &Client, patch: &ClusterPatch, rec: &mut Recorder) -> ActionOutcome {
    let fresh = match read(client, &patch.namespace, &patch.name, rec).await {
        Ok(v) => v,
        Err(o) => return o,
    };
    if let Err(r) = guard::recheck(&patch.write, &fresh) {
        return refused(r);
    }
    send_exact(client, patch, rec).await
}

/// For callers without a dialog (tests, scripts): read once, judge `write` with the
/// shared guard, build its body on that read, and send exactly that body.
pub(crate) async fn read_build_send(
    client: &Client,
    namespace: &str,
    name: &str,
    write: ClusterWrite,
    rec: &mut Recorder,
) -> ActionOutcome {
    let fresh = match read(client, namespace, name, rec).await {
        Ok(v) => v,
        Err(o) => return o,
    };
    if let Err(r) = guard::recheck(&write, &fresh) {
        return refused(r);
    }
    match ClusterPatch::build(write, namespace, name, &fresh) {
        Ok(patch) => send_exact(client, &patch, rec).await,
        Err(r) => refused(r),
    }
}

/// Acknowledge break glass with `nonce` (read, judge, build, send).
pub async fn acknowledge(
    client: &Client,
    namespace: &str,
    cluster: &str,
    nonce: &str,
) -> ActionOutcome {
    acknowledge_recorded(client, namespace, cluster, nonce, &mut Recorder::default()).await
}

/// [`acknowledge`], keeping every request and response in `rec` for the journal.
pub async fn acknowledge_recorded(
    client: &Client,
    namespace: &str,
    cluster: &str,
    nonce: &str,
    rec: &mut Recorder,
) -> ActionOutcome {
    let write = ClusterWrite::Acknowledge {
        nonce: nonce.to_string(),
    };
    read_build_send(client, namespace, cluster, write, rec).await
}

/// Revert `spec.version`/`spec.image` to Blue's, confirmed from `from_version`.
pub async fn revert_recorded(
    client: &Client,
    namespace: &str,
    cluster: &str,
    from_version: &str,
    rec: &mut Recorder,
) -> ActionOutcome {
    let write = ClusterWrite::Revert {
        from_version: from_version.to_string(),
    };
    read_build_send(client, namespace, cluster, write, rec).await
}

/// One Pause and repair patch, guarded like the acknowledgement.
pub async fn pause_step_recorded(
    client: &Client,
    namespace: &str,
    cluster: &str,
    nonce: &str,
    step: PauseStep,
    rec: &mut Recorder,
) -> ActionOutcome {
    let write = ClusterWrite::PauseRepair {
        step,
        nonce: nonce.to_string(),
    };
    read_build_send(client, namespace, cluster, write, rec).await
}

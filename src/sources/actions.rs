//! The action executor: the only code that writes to the cluster.
//!
//! The acknowledgement is guarded three ways: the cluster is re-read right before sending
//! and the send is refused if break glass is over or the nonce changed; a server-side dry
//! run goes first; and the patch carries the re-read `resourceVersion`, so a change in
//! between is a 409 instead of a blind write.

use kube::Client;
use kube::api::{Api, DynamicObject, Patch, PatchParams};
use serde_json::{Value, json};

use super::ActionOutcome;
use super::connect::explain;
use super::watch::cluster_resource;
use crate::domain::ClusterView;
use crate::domain::cluster::{CLUSTER_PLURAL, GROUP, VERSION};
use crate::journal::Recorder;

/// The exact JSON merge patch an acknowledgement sends.
pub fn ack_patch(nonce: &str, resource_version: &str) -> Value {
    json!({
        "metadata": { "resourceVersion": resource_version },
        "spec": { "breakGlassAck": nonce }
    })
}

/// Why an acknowledgement must not be sent, judged on the freshly read cluster.
pub fn refuse_reason(fresh: &ClusterView, nonce: &str) -> Option<String> {
    if !fresh.break_glass_active() {
        return Some(
            "break glass is no longer active: the operator has moved on; nothing was sent".into(),
        );
    }
    match fresh.active_nonce() {
        Some(current) if current == nonce => None,
        Some(current) => Some(format!(
            "the nonce changed ({nonce} → {current}): a new failure happened; review it, nothing was sent"
        )),
        None => Some("break glass has no nonce to acknowledge; nothing was sent".into()),
    }
}

fn failed(err: &kube::Error) -> ActionOutcome {
    let status = match err {
        kube::Error::Api(s) => Some(s.code),
        _ => None,
    };
    let message = match err {
        kube::Error::Api(s) if s.code == 409 => format!(
            "409 Conflict: the cluster changed between the re-read and the send; nothing was applied. Review and try again. ({})",
            s.message
        ),
        other => explain(other),
    };
    ActionOutcome::Failed { status, message }
}

/// Acknowledge break glass with `nonce` (the one the user confirmed).
pub async fn acknowledge(
    client: &Client,
    namespace: &str,
    cluster: &str,
    nonce: &str,
) -> ActionOutcome {
    acknowledge_recorded(client, namespace, cluster, nonce, &mut Recorder::default()).await
}

fn record_result<T>(rec: &mut Recorder, result: &Result<T, kube::Error>, ok: &str) {
    match result {
        Ok(_) => rec.response(200, ok),
        Err(kube::Error::Api(s)) => rec.response(s.code, &s.message),
        Err(e) => rec.response(0, &explain(e)),
    }
}

/// [`acknowledge`], keeping every request and response in `rec` for the journal.
pub async fn acknowledge_recorded(
    client: &Client,
    namespace: &str,
    cluster: &str,
    nonce: &str,
    rec: &mut Recorder,
) -> ActionOutcome {
    let outcome = guarded_merge_patch(
        client,
        namespace,
        cluster,
        rec,
        |fresh| refuse_reason(fresh, nonce),
        |fresh| ack_patch(nonce, &fresh.resource_version),
    )
    .await;
    match outcome {
        Ok(resource_version) => ActionOutcome::Acknowledged {
            nonce: nonce.to_string(),
            resource_version,
        },
        Err(o) => o,
    }
}

/// The merge patch that reverts `spec.version` (and `spec.image` when it is set) to Blue's,
/// so the Idle handler does not start the upgrade again (dc-tec/openbao-operator@002fbdd `internal/upgrade/bluegreen/manager.go`).
pub fn revert_patch(fresh: &ClusterView) -> Option<Value> {
    let version = fresh.current_version.as_deref()?;
    let mut spec = json!({ "version": version });
    if fresh.spec_image.is_some() {
        let image = fresh.blue_green.as_ref()?.blue_image.as_deref()?;
        spec["image"] = json!(image);
    }
    Some(json!({
        "metadata": { "resourceVersion": fresh.resource_version },
        "spec": spec,
    }))
}

/// Why a revert must not be sent, judged on the freshly read cluster: the user confirmed
/// reverting from `from_version` while break glass was over.
pub fn revert_refuse_reason(fresh: &ClusterView, from_version: &str) -> Option<String> {
    if fresh.break_glass_active() {
        return Some("break glass is active again: review it first; nothing was sent".into());
    }
    if fresh.spec_version != from_version {
        return Some(format!(
            "spec.version changed ({from_version} → {}): review it; nothing was sent",
            fresh.spec_version
        ));
    }
    if fresh.current_version.as_deref() == Some(fresh.spec_version.as_str()) {
        return Some("spec.version already is Blue's; nothing was sent".into());
    }
    revert_patch(fresh)
        .is_none()
        .then(|| "Blue's version or image is unknown; nothing was sent".into())
}

/// Revert `spec.version`/`spec.image` to Blue's (the follow-up after a retry).
pub async fn revert_recorded(
    client: &Client,
    namespace: &str,
    cluster: &str,
    from_version: &str,
    rec: &mut Recorder,
) -> ActionOutcome {
    let outcome = guarded_merge_patch(
        client,
        namespace,
        cluster,
        rec,
        |fresh| revert_refuse_reason(fresh, from_version),
        |fresh| revert_patch(fresh).unwrap_or(Value::Null),
    )
    .await;
    match outcome {
        Ok(resource_version) => ActionOutcome::Reverted { resource_version },
        Err(o) => o,
    }
}

/// Pause and repair, first patch (0.6 runbook): `spec.paused: true`, with the resourceVersion
/// of the object the guard judged. While paused the operator does nothing for this cluster.
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
    /// The one builder per step: preview, journal and send all call it.
    pub fn patch(self, nonce: &str, resource_version: &str) -> Value {
        match self {
            PauseStep::Pause => pause_patch(resource_version),
            PauseStep::ResumeAck => resume_ack_patch(nonce, resource_version),
        }
    }
}

/// Why a Pause and repair patch must not be sent, judged on the freshly read cluster: the
/// same as an acknowledgement (break glass active, the nonce current), and the pause state
/// the step expects.
pub fn pause_refuse_reason(fresh: &ClusterView, nonce: &str, step: PauseStep) -> Option<String> {
    if let Some(r) = refuse_reason(fresh, nonce) {
        return Some(r);
    }
    match (step, fresh.paused) {
        (PauseStep::Pause, true) => {
            Some("the cluster is already paused: review it; nothing was sent".into())
        }
        (PauseStep::ResumeAck, false) => Some(
            "the cluster is not paused (someone resumed it): review it; nothing was sent".into(),
        ),
        _ => None,
    }
}

/// Send one Pause and repair patch, guarded like the acknowledgement.
pub async fn pause_step_recorded(
    client: &Client,
    namespace: &str,
    cluster: &str,
    nonce: &str,
    step: PauseStep,
    rec: &mut Recorder,
) -> ActionOutcome {
    let outcome = guarded_merge_patch(
        client,
        namespace,
        cluster,
        rec,
        |fresh| pause_refuse_reason(fresh, nonce, step),
        |fresh| step.patch(nonce, &fresh.resource_version),
    )
    .await;
    match (outcome, step) {
        (Ok(resource_version), PauseStep::Pause) => ActionOutcome::Paused { resource_version },
        (Ok(resource_version), PauseStep::ResumeAck) => ActionOutcome::Acknowledged {
            nonce: nonce.to_string(),
            resource_version,
        },
        (Err(o), _) => o,
    }
}

/// The one write path: re-read, refuse on `refuse`, dry run, then the patch `body` built
/// from the fresh object (with its resourceVersion). Ok is the new resourceVersion.
async fn guarded_merge_patch(
    client: &Client,
    namespace: &str,
    cluster: &str,
    rec: &mut Recorder,
    refuse: impl Fn(&ClusterView) -> Option<String>,
    body: impl Fn(&ClusterView) -> Value,
) -> Result<String, ActionOutcome> {
    let api: Api<DynamicObject> =
        Api::namespaced_with(client.clone(), namespace, &cluster_resource());
    let path = format!("/apis/{GROUP}/{VERSION}/namespaces/{namespace}/{CLUSTER_PLURAL}/{cluster}");
    rec.request("GET", &path, false, None);
    let got = api.get(cluster).await;
    record_result(rec, &got, "re-read the cluster");
    let fresh = got.map_err(|e| failed(&e))?;
    let view = serde_json::to_value(&fresh)
        .map_err(|e| e.to_string())
        .and_then(|v| ClusterView::from_json(&v).map_err(|e| e.to_string()))
        .map_err(|e| ActionOutcome::Refused {
            reason: format!("cannot read the cluster: {e}"),
        })?;
    if let Some(reason) = refuse(&view) {
        return Err(ActionOutcome::Refused { reason });
    }
    let patch = body(&view);
    let dry = PatchParams {
        dry_run: true,
        ..Default::default()
    };
    rec.request("PATCH", &path, true, Some(&patch));
    let dry_result = api.patch(cluster, &dry, &Patch::Merge(&patch)).await;
    record_result(rec, &dry_result, "dry run accepted");
    dry_result.map_err(|e| failed(&e))?;
    rec.request("PATCH", &path, false, Some(&patch));
    let result = api
        .patch(cluster, &PatchParams::default(), &Patch::Merge(&patch))
        .await;
    record_result(rec, &result, "patched");
    let obj = result.map_err(|e| failed(&e))?;
    Ok(obj.metadata.resource_version.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::BreakGlassView;

    fn cluster(active: bool, nonce: &str) -> ClusterView {
        ClusterView {
            break_glass: Some(BreakGlassView {
                active,
                nonce: Some(nonce.into()),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn the_patch_carries_nonce_and_resource_version() {
        assert_eq!(
            ack_patch("abc", "42").to_string(),
            r#"{"metadata":{"resourceVersion":"42"},"spec":{"breakGlassAck":"abc"}}"#
        );
    }

    #[test]
    fn revert_goes_back_to_blue_and_is_refused_when_things_moved() {
        let mut c = cluster(false, "n1");
        c.spec_version = "2.4.4".into();
        c.current_version = Some("2.4.3".into());
        c.resource_version = "7".into();
        assert_eq!(
            revert_patch(&c).unwrap().to_string(),
            r#"{"metadata":{"resourceVersion":"7"},"spec":{"version":"2.4.3"}}"#
        );
        assert_eq!(revert_refuse_reason(&c, "2.4.4"), None);
        assert!(
            revert_refuse_reason(&c, "2.5.0")
                .unwrap()
                .contains("changed")
        );
        c.spec_image = Some("openbao:2.4.4".into());
        assert!(
            revert_refuse_reason(&c, "2.4.4")
                .unwrap()
                .contains("unknown")
        );
        c.blue_green = Some(crate::domain::BlueGreenView {
            blue_image: Some("openbao:2.4.3".into()),
            ..Default::default()
        });
        assert_eq!(revert_patch(&c).unwrap()["spec"]["image"], "openbao:2.4.3");
        let active = cluster(true, "n1");
        assert!(
            revert_refuse_reason(&active, "")
                .unwrap()
                .contains("active")
        );
    }

    #[test]
    fn pause_and_repair_patches_and_their_guards() {
        assert_eq!(
            PauseStep::Pause.patch("n1", "42").to_string(),
            r#"{"metadata":{"resourceVersion":"42"},"spec":{"paused":true}}"#
        );
        assert_eq!(
            PauseStep::ResumeAck.patch("n1", "43").to_string(),
            r#"{"metadata":{"resourceVersion":"43"},"spec":{"breakGlassAck":"n1","paused":false}}"#
        );
        let mut c = cluster(true, "n1");
        assert_eq!(pause_refuse_reason(&c, "n1", PauseStep::Pause), None);
        assert!(
            pause_refuse_reason(&c, "n1", PauseStep::ResumeAck)
                .unwrap()
                .contains("not paused")
        );
        c.paused = true;
        assert_eq!(pause_refuse_reason(&c, "n1", PauseStep::ResumeAck), None);
        assert!(
            pause_refuse_reason(&c, "n1", PauseStep::Pause)
                .unwrap()
                .contains("already paused")
        );
        assert!(
            pause_refuse_reason(&c, "n2", PauseStep::ResumeAck)
                .unwrap()
                .contains("nonce changed")
        );
    }

    #[test]
    fn a_stale_nonce_or_inactive_break_glass_is_refused() {
        assert_eq!(refuse_reason(&cluster(true, "n1"), "n1"), None);
        assert!(
            refuse_reason(&cluster(true, "n2"), "n1")
                .unwrap()
                .contains("nonce changed")
        );
        assert!(
            refuse_reason(&cluster(false, "n1"), "n1")
                .unwrap()
                .contains("no longer active")
        );
    }
}

//! Pause and repair against the simulator over real HTTP: the body the dialog previews is
//! the body journaled and the body sent (dry run first, then the patch), for both patches,
//! and the cluster ends paused, then resumed with the acknowledgement, as the patches say.

use breakglass::domain::ClusterView;
use breakglass::domain::write::{ClusterPatch, ClusterWrite};
use breakglass::journal::{Event, Recorder};
use breakglass::sim::run::{SimHandle, start};
use breakglass::sources::ActionOutcome;
use breakglass::sources::actions::{self, PauseStep};

use breakglass::sources::watch::cluster_resource;
use kube::api::{Api, DynamicObject};

fn patch_bodies(rec: &Recorder) -> Vec<(bool, String)> {
    rec.entries
        .iter()
        .filter_map(|e| match &e.event {
            Event::Request {
                method,
                dry_run,
                body: Some(b),
                ..
            } if method == "PATCH" => Some((*dry_run, b.to_string())),
            _ => None,
        })
        .collect()
}

/// The bodies of the simulator's request log for `method` (dry run, body), in order.
fn sent_bodies(sim: &SimHandle, method: &str) -> Vec<(bool, String)> {
    sim.controls()
        .requests()
        .into_iter()
        .filter(|r| r.method == method)
        .map(|r| (r.query.contains("dryRun=All"), r.body.unwrap_or_default()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn preview_journal_and_request_are_the_same_bytes_for_both_patches() {
    let dir = tempfile::tempdir().unwrap();
    let sim = start("transient", 4.0, &dir.path().join("kubeconfig"))
        .await
        .unwrap();
    let c = sim.connect().await.unwrap();
    let api: Api<DynamicObject> =
        Api::namespaced_with(c.client.clone(), &c.namespace, &cluster_resource());
    let nonce = sim.seeded.nonce.clone();
    for (step, paused) in [(PauseStep::Pause, true), (PauseStep::ResumeAck, false)] {
        let before = api.get(&sim.cluster).await.unwrap();
        let view = ClusterView::from_json(&serde_json::to_value(&before).unwrap()).unwrap();
        // The dialog's patch (the guard's builder), as the console's effect carries it.
        let write = ClusterWrite::PauseRepair {
            step,
            nonce: nonce.clone(),
        };
        let patch = ClusterPatch::build(write, &c.namespace, &sim.cluster, &view).unwrap();
        let preview = breakglass::app::pause_repair::PauseTarget::from(patch.clone()).body();
        sim.controls().clear_requests();
        let mut rec = Recorder::default();
        let outcome = actions::send(&c.client, &patch, &mut rec).await;
        match (step, &outcome) {
            (PauseStep::Pause, ActionOutcome::Paused { .. })
            | (PauseStep::ResumeAck, ActionOutcome::Acknowledged { .. }) => {}
            other => panic!("{other:?}"),
        }
        let both = vec![(true, preview.clone()), (false, preview.clone())];
        assert_eq!(patch_bodies(&rec), both, "journal {step:?}");
        assert_eq!(sent_bodies(&sim, "PATCH"), both, "request log {step:?}");
        let patches: Vec<_> = sim
            .controls()
            .requests()
            .into_iter()
            .filter(|r| r.method == "PATCH")
            .collect();
        assert_eq!(patches.len(), 2, "{patches:?}");
        assert!(patches[0].query.contains("dryRun=All"), "{patches:?}");
        let after = api.get(&sim.cluster).await.unwrap();
        assert_eq!(after.data["spec"]["paused"], paused, "{step:?}");
        if step == PauseStep::ResumeAck {
            assert_eq!(after.data["spec"]["breakGlassAck"], nonce.as_str());
        }
    }
    // A second resume is refused before anything is sent: the cluster is not paused.
    sim.controls().clear_requests();
    let again = actions::pause_step_recorded(
        &c.client,
        &c.namespace,
        &sim.cluster,
        &nonce,
        PauseStep::ResumeAck,
        &mut Recorder::default(),
    )
    .await;
    assert!(matches!(again, ActionOutcome::Refused { .. }), "{again:?}");
    assert_eq!(sim.controls().mutations(), Vec::<String>::new());
    sim.shutdown().await;
}

/// The Resume/Abandon acknowledgement of a restore in phase `Unknown`: re-read first,
/// the annotation patch the dialog previews is what is journaled and sent (dry run first),
/// it lands on the object, and a restore no longer Unknown is refused with nothing sent.
/// The simulator validates whole objects against the OpenBaoRestore CRD; only the 0.6 one
/// has the phase `Unknown`, so this runs the simulator on the 0.6 line.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_restore_acknowledgement_is_the_previewed_annotation_patch() {
    use breakglass::app::restore_ack::RestoreAckTarget;
    use breakglass::domain::restore::{Disposition, Request};
    use breakglass::sim::store::Resource;
    use breakglass::sources::restore::{facts, restore_resource, send};
    use kube::api::PostParams;
    let dir = tempfile::tempdir().unwrap();
    let sim = breakglass::sim::run::start_with(
        "transient",
        4.0,
        &dir.path().join("kubeconfig"),
        breakglass::sim::real_nodes::SimOptions {
            operator: breakglass::sim::operator_line::OperatorLine::V06,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let c = sim.connect().await.unwrap();
    // The restore controller runs in the operator: scaled to 0, nothing touches the restore.
    let (f, _) = facts(&c.client, &c.namespace, &sim.cluster).await.unwrap();
    let op = f.operator.expect("operator found by its labels");
    let scaled = send(
        &c.client,
        &Request::Scale {
            namespace: op.namespace,
            name: op.name,
            replicas: 0,
        },
        &mut Recorder::default(),
    )
    .await;
    assert_eq!(scaled, ActionOutcome::WizardStepDone);
    let api: Api<DynamicObject> =
        Api::namespaced_with(c.client.clone(), &c.namespace, &restore_resource());
    let obj: DynamicObject = serde_json::from_value(serde_json::json!({
        "apiVersion": "openbao.org/v1alpha1", "kind": "OpenBaoRestore",
        "metadata": {"name": "r-unknown", "namespace": c.namespace},
        "spec": {"cluster": sim.cluster, "jwtAuthRole": "openbao-operator-restore",
                 "source": {"key": "k.snap", "target": {"bucket": "b", "endpoint": "https://s3.example"}}}
    }))
    .unwrap();
    let created = api.create(&PostParams::default(), &obj).await.unwrap();
    let set_phase = |phase: &'static str| {
        sim.store
            .modify(Resource::OpenBaoRestores, &c.namespace, "r-unknown", |o| {
                o["status"] = serde_json::json!({"phase": phase});
            })
            .unwrap()
    };
    let unknown = set_phase("Unknown");
    let target = RestoreAckTarget {
        namespace: c.namespace.clone(),
        name: "r-unknown".into(),
        uid: created.metadata.uid.clone().unwrap(),
        resource_version: unknown["metadata"]["resourceVersion"]
            .as_str()
            .unwrap()
            .into(),
        choice: Disposition::Abandon,
    };
    let preview = target.body().to_string();
    let mut rec = Recorder::default();
    sim.controls().clear_requests();
    let outcome = send(&c.client, &target.request(), &mut rec).await;
    assert_eq!(outcome, ActionOutcome::WizardStepDone);
    let both = vec![(true, preview.clone()), (false, preview)];
    assert_eq!(patch_bodies(&rec), both);
    assert_eq!(sent_bodies(&sim, "PATCH"), both);
    let after = api.get("r-unknown").await.unwrap();
    assert_eq!(
        after.metadata.annotations.unwrap()["openbao.org/restore-acknowledge"],
        format!("{}/Abandon", target.uid)
    );
    // No longer Unknown: refused after the re-read, nothing sent.
    set_phase("Completed");
    sim.controls().clear_requests();
    let refused = send(&c.client, &target.request(), &mut Recorder::default()).await;
    assert!(
        matches!(&refused, ActionOutcome::Refused { reason } if reason.to_string().contains("not in phase Unknown")),
        "{refused:?}"
    );
    assert_eq!(sim.controls().mutations(), Vec::<String>::new());
    sim.shutdown().await;
}

/// What works on the 0.1 CRDs too: a restore that is not in phase Unknown is refused after
/// the re-read, and nothing is sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restore_acknowledgement_is_refused_unless_the_fresh_restore_is_unknown() {
    use breakglass::app::restore_ack::RestoreAckTarget;
    use breakglass::domain::restore::Disposition;
    use breakglass::sim::store::Resource;
    use breakglass::sources::restore::{restore_resource, send};
    use kube::api::PostParams;
    let dir = tempfile::tempdir().unwrap();
    let sim = start("transient", 4.0, &dir.path().join("kubeconfig"))
        .await
        .unwrap();
    let c = sim.connect().await.unwrap();
    let api: Api<DynamicObject> =
        Api::namespaced_with(c.client.clone(), &c.namespace, &restore_resource());
    let obj: DynamicObject = serde_json::from_value(serde_json::json!({
        "apiVersion": "openbao.org/v1alpha1", "kind": "OpenBaoRestore",
        "metadata": {"name": "r-failed", "namespace": c.namespace},
        "spec": {"cluster": "no-such-cluster", "jwtAuthRole": "openbao-operator-restore",
                 "source": {"key": "k.snap", "target": {"bucket": "b", "endpoint": "https://s3.example"}}}
    }))
    .unwrap();
    let created = api.create(&PostParams::default(), &obj).await.unwrap();
    // Whatever the restore controller does with it meanwhile (the cluster does not
    // exist), it is never Unknown on this CRD.
    sim.store
        .modify(Resource::OpenBaoRestores, &c.namespace, "r-failed", |o| {
            o["status"] = serde_json::json!({"phase": "Failed"});
        })
        .unwrap();
    let target = RestoreAckTarget {
        namespace: c.namespace.clone(),
        name: "r-failed".into(),
        uid: created.metadata.uid.clone().unwrap(),
        resource_version: created.metadata.resource_version.clone().unwrap(),
        choice: Disposition::Resume,
    };
    sim.controls().clear_requests();
    let refused = send(&c.client, &target.request(), &mut Recorder::default()).await;
    assert!(
        matches!(&refused, ActionOutcome::Refused { reason } if reason.to_string().contains("not in phase Unknown")),
        "{refused:?}"
    );
    let mut wrong_uid = target.clone();
    wrong_uid.uid = "someone-else".into();
    let replaced = send(&c.client, &wrong_uid.request(), &mut Recorder::default()).await;
    assert!(
        matches!(&replaced, ActionOutcome::Refused { reason } if reason.to_string().contains("replaced")),
        "{replaced:?}"
    );
    assert_eq!(sim.controls().mutations(), Vec::<String>::new());
    sim.shutdown().await;
}

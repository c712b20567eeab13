//! Pause and repair against the simulator over real HTTP: the body the dialog previews is
//! the body journaled and the body sent (dry run first, then the patch), for both patches,
//! and the cluster ends paused, then resumed with the acknowledgement, as the patches say.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code: a failed step should fail the test loudly"
)]

use breakglass::app::pause_repair::PauseTarget;
use breakglass::journal::{Event, Recorder};
use breakglass::sim::run::start;
use breakglass::sources::ActionOutcome;
use breakglass::sources::actions::{self, PauseStep};
use breakglass::sources::connect::{Target, connect};
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn preview_journal_and_request_are_the_same_bytes_for_both_patches() {
    let dir = tempfile::tempdir().unwrap();
    let sim = start("transient", 4.0, &dir.path().join("kubeconfig"))
        .await
        .unwrap();
    let c = connect(&Target {
        kubeconfig: Some(sim.kubeconfig.clone()),
        ..Default::default()
    })
    .await
    .unwrap();
    let api: Api<DynamicObject> =
        Api::namespaced_with(c.client.clone(), &c.namespace, &cluster_resource());
    let nonce = sim.seeded.nonce.clone();
    for (step, paused) in [(PauseStep::Pause, true), (PauseStep::ResumeAck, false)] {
        let before = api.get(&sim.cluster).await.unwrap();
        let preview = PauseTarget {
            step,
            nonce: nonce.clone(),
            resource_version: before.metadata.resource_version.clone().unwrap(),
        }
        .body();
        sim.controls().clear_requests();
        let mut rec = Recorder::default();
        let outcome = actions::pause_step_recorded(
            &c.client,
            &c.namespace,
            &sim.cluster,
            &nonce,
            step,
            &mut rec,
        )
        .await;
        match (step, &outcome) {
            (PauseStep::Pause, ActionOutcome::Paused { .. })
            | (PauseStep::ResumeAck, ActionOutcome::Acknowledged { .. }) => {}
            other => panic!("{other:?}"),
        }
        assert_eq!(
            patch_bodies(&rec),
            vec![(true, preview.clone()), (false, preview.clone())],
            "{step:?}"
        );
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
